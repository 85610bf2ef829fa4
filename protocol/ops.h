/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
#ifndef MPC_OPS_H
#define MPC_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "bilin.h"
#include "mpc.h"

/*
 * Online protocols on whole tensors of additive shares. Each op has a
 * *_need() sibling that appends exactly the correlated randomness the op
 * takes, in the same order. Costs are per party, with n parties, for N
 * elements, in 64-bit words sent to each of the n-1 others; see
 * docs/protocols.md for the derivations.
 *
 * Scales: a value at "scale s" encodes x * 2^(s) in the ring; a product of
 * two scale-f values is at scale 2f until truncated.
 */

/* Z = L(X, Y): 1 round, |X| + |Y| words. Output scale = sum of scales. */
int beaver_bilin_need(struct corr_list *l, const struct bilin *bl) MPC_MUST_CHECK;
/* z += L(x, y) locally, with the scratch the map needs (beaver.c, beaver_w.c). */
int beaver_apply_acc(const struct bilin *bl, const uint64_t *x, const uint64_t *y,
		     uint64_t *z) MPC_MUST_CHECK;
int beaver_bilin(struct mpc *m, const struct bilin *bl, const uint64_t *x,
		 const uint64_t *y, uint64_t *z) MPC_MUST_CHECK;
/*
 * The same in two steps: take the triple and form this party's share of
 * F = Y - B (beaver_pre_take), then open E (and F, unless the caller
 * opened p->f in place and set p->opened) and finish (beaver_bilin_pre:
 * 1 round; it releases p). A layer whose Y is a weight uses beaver_w
 * below instead, so that F is opened once per job.
 */
struct beaver_pre {
	struct corr_mat *mt;
	uint64_t *f; /* this party's share of F, then F once opened */
	size_t n;
	int opened;  /* set by the caller after opening f */
};
int beaver_pre_take(struct mpc *m, const struct bilin *bl, const uint64_t *y,
		    struct beaver_pre *p) MPC_MUST_CHECK;
int beaver_bilin_pre(struct mpc *m, const struct bilin *bl, const uint64_t *x,
		     struct beaver_pre *p, uint64_t *z) MPC_MUST_CHECK;
void beaver_pre_free(struct beaver_pre *p);
/*
 * The same for a job run in chunks of rows (corr.h: WMASK, BILIN_KB): the
 * weights phase takes the layer's weight mask B and forms F = W - B
 * (beaver_w_take), F of every layer is opened in one round (on w->f, in
 * place), and beaver_w_ready keeps bf = B_i + [i = 0] F for the whole job
 * and wipes B. Each chunk then takes a fresh A with C = L(A, B)
 * (beaver_w_chunk: z0 = C_i + L(A_i, F), local) and the layer opens only
 * E = X - A (beaver_w_apply: 1 round, |X| words; Z_i = z0 + L(E, bf)).
 * slot names the layer (its node index) to the dealer, who keeps B.
 */
struct beaver_w {
	struct corr_mat *wm; /* the weight mask, until ready */
	uint64_t *f, *bf;    /* F (a share until opened), B_i + [i = 0] F */
	size_t n;            /* |Y| */
	struct corr_mat *mt; /* this chunk's triple, until applied */
	uint64_t *z0;        /* C_i + L(A_i, F) */
	size_t zn;
};
int beaver_w_need(struct corr_list *l, size_t yl, size_t slot) MPC_MUST_CHECK;
int beaver_w_take(struct mpc *m, size_t yl, size_t slot, const uint64_t *y,
		  struct beaver_w *w) MPC_MUST_CHECK;
int beaver_w_ready(struct mpc *m, struct beaver_w *w) MPC_MUST_CHECK;
int beaver_w_chunk_need(struct corr_list *l, const struct bilin *bl, size_t slot) MPC_MUST_CHECK;
int beaver_w_chunk(struct mpc *m, const struct bilin *bl, size_t slot,
		   struct beaver_w *w) MPC_MUST_CHECK;
int beaver_w_apply(struct mpc *m, const struct bilin *bl, const uint64_t *x,
		   struct beaver_w *w, uint64_t *z) MPC_MUST_CHECK;
/* Wipes and frees everything; accepts an empty (zeroed) w. */
void beaver_w_free(struct beaver_w *w);

/* Element-wise z = x * y over n elements (a BILIN_MUL of rank 1). */
int beaver_mul_need(struct corr_list *l, size_t n) MPC_MUST_CHECK;
int beaver_mul(struct mpc *m, const uint64_t *x, const uint64_t *y, size_t n,
	       uint64_t *z) MPC_MUST_CHECK;

/*
 * Truncation by `shift` bits: floor(x / 2^shift) or one more (stochastic
 * rounding, never a larger error), for |x| < 2^62. 1 round, N words.
 * Exact in the wrap-around: no probability of a large error.
 */
int trunc_need(struct corr_list *l, size_t n, int shift) MPC_MUST_CHECK;
int mpc_trunc(struct mpc *m, const uint64_t *x, size_t n, int shift,
	      uint64_t *out) MPC_MUST_CHECK;
/* a >> sa and b >> sb (n each, in place) in one round: trunc_need(sa), trunc_need(sb). */
int mpc_trunc2(struct mpc *m, uint64_t *a, int sa, uint64_t *b, int sb,
	       size_t n) MPC_MUST_CHECK;

/*
 * The comparison core: out[i*w + j] = [x_i >= 0] * y[i*w + j] for |x_i| <
 * 2^62. With y == NULL (w must be 1), y is x itself, or floor(x / 2^shift)
 * when shift > 0 (ReLU with the truncation fused in). 5 rounds: open
 * x + r, 3 levels of a fan-in-4 borrow-lookahead tree over 62 bits, one
 * opening of the masked sign bit.
 */
int cmp_select_need(struct corr_list *l, size_t n, size_t w, int shift) MPC_MUST_CHECK;
int cmp_select(struct mpc *m, const uint64_t *x, size_t n, const uint64_t *y,
	       size_t w, int shift, uint64_t *out) MPC_MUST_CHECK;

/* XOR shares of [x_i >= 0] as bit planes (ring_words(n) words): 4 rounds. */
int cmp_sign_need(struct corr_list *l, size_t n) MPC_MUST_CHECK;
int cmp_sign(struct mpc *m, const uint64_t *x, size_t n, uint64_t *bits) MPC_MUST_CHECK;

/*
 * Many-input ANDs of XOR-shared bit planes in one round (see corr.h,
 * MAND): x is vars planes of `lanes` words (overwritten), out one plane
 * per monomial of the shape. Material: corr_req_mand(sh, lanes).
 */
int mand_open(struct mpc *m, enum corr_mand_shape sh, uint64_t *x, size_t lanes,
	      uint64_t *out, struct mpc_open_item *extra) MPC_MUST_CHECK;

/*
 * The last round of cmp_select: with a bit-product material bm (taken by
 * the caller) and d = y - bm->a already open, out = bits * y. 1 round.
 */
int bitmul_finish(struct mpc *m, const struct corr_mat *bm, const uint64_t *bits, size_t n,
		  const uint64_t *y, const uint64_t *d, size_t w, uint64_t *out) MPC_MUST_CHECK;

/* ReLU, with truncation by shift fused in when shift > 0. */
int relu_need(struct corr_list *l, size_t n, int shift) MPC_MUST_CHECK;
int mpc_relu(struct mpc *m, const uint64_t *x, size_t n, int shift,
	     uint64_t *out) MPC_MUST_CHECK;

/*
 * Groups of elements (a MaxPool window, a row for argmax): group g is
 * idx[start[g] .. start[g+1]) into the input, every group non-empty.
 */
struct cmp_groups {
	size_t n;
	const size_t *start; /* n + 1 entries */
	const size_t *idx;
};

/* out[g] = max over group g: ceil(log2(largest group)) comparison levels. */
int max_groups_need(struct corr_list *l, const struct cmp_groups *g) MPC_MUST_CHECK;
int max_groups(struct mpc *m, const uint64_t *x, const struct cmp_groups *g,
	       uint64_t *out) MPC_MUST_CHECK;
/*
 * Shares of the position of the maximum in each group (an integer, not
 * fixed point; the first on ties), and of the maximum if max != NULL.
 */
int argmax_groups_need(struct corr_list *l, const struct cmp_groups *g) MPC_MUST_CHECK;
int argmax_groups(struct mpc *m, const uint64_t *x, const struct cmp_groups *g,
		  uint64_t *pos, uint64_t *max) MPC_MUST_CHECK;

/*
 * Sigmoid at scale f: piecewise-linear interpolation on SIGMOID_KNOTS
 * knots in [-8, 8] (max error below 1e-3, documented in
 * docs/protocols.md), as a sum of ReLUs: 8 + 1 rounds.
 */
int sigmoid_need(struct corr_list *l, size_t n, int frac) MPC_MUST_CHECK;
int mpc_sigmoid(struct mpc *m, const uint64_t *x, size_t n, uint64_t *out) MPC_MUST_CHECK;

/*
 * Softmax at scale f over the middle axis of [outer, k, inner]: max by a
 * comparison tree, exp(z) = (1 + z/1024)^1024 after clamping z to [-16, 0],
 * Newton reciprocal of the sum. Error below 1e-3 on probabilities.
 */
int softmax_need(struct corr_list *l, size_t outer, size_t k, size_t inner,
		 int frac) MPC_MUST_CHECK;
int mpc_softmax(struct mpc *m, const uint64_t *x, size_t outer, size_t k,
		size_t inner, uint64_t *out) MPC_MUST_CHECK;

/*
 * LogSoftmax at scale f over the middle axis of [outer, k, inner]:
 * x - max - ln(sum exp(x - max)), the sum as in softmax, its log from
 * ceil(log2 k) comparisons (the binary exponent) and a degree-6
 * polynomial of the mantissa (docs/protocols.md, "LogSoftmax").
 */
int logsoftmax_need(struct corr_list *l, size_t outer, size_t k, size_t inner,
		    int frac) MPC_MUST_CHECK;
int mpc_logsoftmax(struct mpc *m, const uint64_t *x, size_t outer, size_t k,
		   size_t inner, uint64_t *out) MPC_MUST_CHECK;

#endif

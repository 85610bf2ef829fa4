/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * Comparison, truncation and ReLU from one opened value (PROTOCOLS.md,
 * "Comparison, truncation and ReLU from one opened value").
 *
 * With x' = x + 2^62 in [0, 2^63) and a dealer's random r, c = x' + r is
 * opened; it is uniform and says nothing about x. Then:
 *  - x >= 0 exactly when bit 62 of x' is 1, and bit 62 of x' = c - r is
 *    c_62 ^ r_62 ^ [c mod 2^62 < r mod 2^62]: a 62-bit less-than between a
 *    public and a bit-shared value, evaluated as a borrow-lookahead tree
 *    of fan-in 4 (3 levels, each one opening of many-input ANDs; all
 *    elements bit-sliced 64 to a word).
 *  - the wrap w = [x' + r >= 2^64] is r_63 & !c_63, because x' < 2^63:
 *    linear in the shared top bit of r, so truncation needs no circuit:
 *    floor(x'/2^s) + b = (c >> s) - (r >> s) + w * 2^(64-s), where
 *    b in {0, 1} is the low-bits borrow we drop (stochastic rounding).
 *  - the sign bit times y takes one more opening with a bit-product
 *    correlation (s as XOR and arithmetic shares, a, s*a): open e = bit ^ s
 *    (and d = y - a earlier), then bit*y = e*y + (1 - 2e)(s*a + d*s).
 */
#include <stdlib.h>
#include <string.h>

#include "ops.h"
#include "pool.h"
#include "ring.h"

#define CMP_BITS 62
#define TREE_LEAVES 64 /* CMP_BITS padded with (g, p) = (0, 1) on top */
#define PREFIX4_VARS 7
#define PREFIX4_MONOS 4
#define BIAS ((uint64_t)1 << 62)
#define MAND_BLOCK 128 /* lanes per pass: a block's planes stay in L1 */

static int tree_need(struct corr_list *l, size_t words)
{
	struct corr_req q;
	int ret = 0;

	for (size_t cnt = TREE_LEAVES; cnt > 1 && !ret; cnt /= 4) {
		corr_req_mand(&q, MAND_PREFIX4, cnt / 4 * words);
		ret = corr_list_add(l, &q);
	}
	return ret;
}

/* Product planes a shape may keep, at most (PREFIX4: 22). */
#define MAND_MAX_PRODS 24

/* o ^= c & s over n words (c or s NULL: all ones). */
static void and_xor(uint64_t *o, const uint64_t *c, const uint64_t *src, size_t n)
{
	if (!c)
		for (size_t i = 0; i < n; i++)
			o[i] ^= src[i];
	else if (!src)
		for (size_t i = 0; i < n; i++)
			o[i] ^= c[i];
	else
		for (size_t i = 0; i < n; i++)
			o[i] ^= c[i] & src[i];
}

/*
 * One block of n lanes starting at lane b. dp[idx[C]] = AND of the opened
 * d_v over C, for every kept C (so every coefficient of 2+ variables), in
 * increasing C: C without its lowest variable comes first.
 */
static void mand_block(const struct mpc *m, enum corr_mand_shape sh, const int *idx,
		       const uint64_t *d, const struct corr_mat *mt, size_t lanes, size_t b,
		       size_t n, uint64_t *out)
{
	uint64_t dp[MAND_MAX_PRODS][MAND_BLOCK];
	int vars = corr_mand_vars(sh), nm;
	const uint8_t *monos;

	nm = corr_mand_monos(sh, &monos);
	for (unsigned c = 3; c < 1u << vars; c++) {
		unsigned rest = c & (c - 1);
		const uint64_t *lo = d + (size_t)__builtin_ctz(c) * lanes + b;
		const uint64_t *hi;

		if (idx[c] < 0)
			continue;
		hi = rest & (rest - 1) ? dp[idx[rest]] : d + (size_t)__builtin_ctz(rest) * lanes + b;
		for (size_t i = 0; i < n; i++)
			dp[idx[c]][i] = lo[i] & hi[i];
	}
	for (int k = 0; k < nm; k++) {
		unsigned t = monos[k], s = t;
		uint64_t *o = out + (size_t)k * lanes + b;

		do {
			unsigned c = t & ~s;
			const uint64_t *coef, *src;

			coef = !c ? NULL : c & (c - 1) ? dp[idx[c]] :
			       d + (size_t)__builtin_ctz(c) * lanes + b;
			src = !s ? NULL : s & (s - 1) ? mt->c + (size_t)idx[s] * lanes + b :
			      mt->a + (size_t)__builtin_ctz(s) * lanes + b;
			/* The all-public term (s empty) on party 0 only. */
			if (s || m->me == 0)
				and_xor(o, coef, src, n);
			s = (s - 1) & t;
		} while (s != t);
	}
}

/* Blocks of lanes [lo, hi) of mand_open's local part, apart on the pool. */
struct mand_job {
	const struct mpc *m;
	enum corr_mand_shape sh;
	const int *idx;
	const uint64_t *d;
	const struct corr_mat *mt;
	size_t lanes;
	int nm;
	uint64_t *out;
};

static int mand_range(void *arg, size_t lo, size_t hi)
{
	const struct mand_job *j = arg;
	size_t b0 = lo * MAND_BLOCK, b1 = hi * MAND_BLOCK < j->lanes ? hi * MAND_BLOCK : j->lanes;

	for (int k = 0; k < j->nm; k++)
		memset(j->out + (size_t)k * j->lanes + b0, 0, (b1 - b0) * sizeof(*j->out));
	for (size_t b = b0; b < b1; b += MAND_BLOCK)
		mand_block(j->m, j->sh, j->idx, j->d, j->mt, j->lanes, b,
			   b1 - b < MAND_BLOCK ? b1 - b : MAND_BLOCK, j->out);
	return 0;
}

/* Word operations of one block of mand_block, about (products + terms). */
#define MAND_BLOCK_WORK (48 * MAND_BLOCK)

/*
 * Many-input ANDs over the same variables in one opening. x holds each
 * variable's XOR shares as a plane of `lanes` words; it is overwritten by
 * the opened d_v = x_v ^ a_v. out gets one plane per monomial T:
 *   AND_{v in T} x_v = XOR_{S subset of T} (AND_{v in T\S} d_v) & a_S,
 * a_S the dealer's shared product of the a_v in S (the S = {} term, all
 * public, on party 0 only). `extra` rides the opening.
 */
int mand_open(struct mpc *m, enum corr_mand_shape sh, uint64_t *x, size_t lanes,
	      uint64_t *out, struct mpc_open_item *extra)
{
	int vars = corr_mand_vars(sh), nm, ret, nit = 1, idx[1 << MAND_MAX_VARS];
	struct mpc_open_item it[2];
	const uint8_t *monos;
	struct corr_mat *mt;
	struct corr_req q;

	nm = corr_mand_monos(sh, &monos);
	if (corr_mand_prods(sh) > MAND_MAX_PRODS)
		mpc_bug("many-input AND shape with too many products");
	corr_req_mand(&q, sh, lanes);
	mt = mpc_take(m, &q);
	ring_xor(x, x, mt->a, (size_t)vars * lanes);
	it[0] = (struct mpc_open_item){ .share = x, .out = x, .n = (size_t)vars * lanes, .xor = 1 };
	if (extra)
		it[nit++] = *extra;
	if ((ret = mpc_open_items(m, it, nit)) != 0)
		goto out;
	corr_mand_indices(sh, idx);
	pool_run((lanes + MAND_BLOCK - 1) / MAND_BLOCK, pool_grain(POOL_MIN_WORK, MAND_BLOCK_WORK),
		 mand_range, &(struct mand_job){ m, sh, idx, x, mt, lanes, nm, out });
out:
	mpc_release(mt);
	return ret;
}

int cmp_select_need(struct corr_list *l, size_t n, size_t w, int shift)
{
	struct corr_req q;
	size_t words = ring_words(n);
	int ret;

	corr_req_edabit(&q, n, shift);
	if ((ret = corr_list_add(l, &q)) != 0)
		return ret;
	corr_req_bitmul(&q, n, w);
	if ((ret = corr_list_add(l, &q)) != 0)
		return ret;
	return tree_need(l, words);
}

/*
 * The element-wise steps below split over the pool above this many
 * elements per range (a few word operations each: memory-bound, so only
 * large layers gain).
 */
#define ELEM_MIN ((size_t)1 << 15)

/* Element-wise steps of one layer: which one, and its operands. */
struct elem_job {
	const struct mpc *m;
	const uint64_t *x, *c, *r;
	const struct corr_mat *mt;
	int shift;
	uint64_t *out;
};

/* Party i's share of floor(x / 2^shift) (+ the dropped borrow). */
static int trunc_range(void *arg, size_t lo, size_t hi)
{
	const struct elem_job *j = arg;
	uint64_t bias = (uint64_t)1 << (62 - j->shift);

	for (size_t i = lo; i < hi; i++) {
		uint64_t v = -j->mt->rhi[i];

		if (!(j->c[i] >> 63))
			v += j->mt->r63[i] << (64 - j->shift);
		if (j->m->me == 0)
			v += (j->c[i] >> j->shift) - bias;
		j->out[i] = v;
	}
	return 0;
}

static void trunc_local(const struct mpc *m, const uint64_t *c,
			const struct corr_mat *mt, size_t n, int shift,
			uint64_t *out)
{
	pool_run(n, ELEM_MIN, trunc_range,
		 &(struct elem_job){ .m = m, .c = c, .mt = mt, .shift = shift, .out = out });
}

/* u = x + 2^62 + r, the value opened first. */
static int mask_range(void *arg, size_t lo, size_t hi)
{
	const struct elem_job *j = arg;
	uint64_t bias = j->m->me == 0 ? BIAS : 0;

	for (size_t i = lo; i < hi; i++)
		j->out[i] = j->x[i] + j->r[i] + bias;
	return 0;
}

static void mask_biased(const struct mpc *m, const uint64_t *x,
			const uint64_t *r, size_t n, uint64_t *u)
{
	pool_run(n, ELEM_MIN, mask_range, &(struct elem_job){ .m = m, .x = x, .r = r, .out = u });
}

int trunc_need(struct corr_list *l, size_t n, int shift)
{
	struct corr_req q;

	corr_req_trunc(&q, n, shift);
	return corr_list_add(l, &q);
}

int mpc_trunc(struct mpc *m, const uint64_t *x, size_t n, int shift,
	      uint64_t *out)
{
	struct corr_req q;
	struct corr_mat *mt;
	uint64_t *c = NULL;
	int ret = MPC_E_NOMEM;

	if (shift < 1 || shift > 62)
		mpc_bug("truncation shift out of range");
	corr_req_trunc(&q, n, shift);
	mt = mpc_take(m, &q);
	if (!(c = mpc_alloc_raw(n)))
		goto out;
	mask_biased(m, x, mt->r, n, c);
	if ((ret = mpc_open(m, c, n, c)) != 0)
		goto out;
	trunc_local(m, c, mt, n, shift, out);
out:
	mpc_release(mt);
	mpc_free_public(c, n); /* opened */
	return ret;
}

/*
 * Two truncations by different shifts in one round: both masked values
 * go in one opening (each takes its own material, a first then b).
 */
int mpc_trunc2(struct mpc *m, uint64_t *a, int sa, uint64_t *b, int sb, size_t n)
{
	struct corr_req qa, qb;
	struct corr_mat *ma, *mb;
	struct mpc_open_item it[2];
	uint64_t *c = NULL;
	int ret = MPC_E_NOMEM;

	if (sa < 1 || sa > 62 || sb < 1 || sb > 62)
		mpc_bug("truncation shift out of range");
	corr_req_trunc(&qa, n, sa);
	ma = mpc_take(m, &qa);
	corr_req_trunc(&qb, n, sb);
	mb = mpc_take(m, &qb);
	if (!(c = mpc_alloc_raw(2 * n)))
		goto out;
	mask_biased(m, a, ma->r, n, c);
	mask_biased(m, b, mb->r, n, c + n);
	it[0] = (struct mpc_open_item){ .share = c, .out = c, .n = 2 * n };
	if ((ret = mpc_open_items(m, it, 1)) != 0)
		goto out;
	trunc_local(m, c, ma, n, sa, a);
	trunc_local(m, c + n, mb, n, sb, b);
out:
	mpc_release(ma);
	mpc_release(mb);
	mpc_free_public(c, 2 * n); /* opened */
	return ret;
}

/*
 * One level of the tree: for group t (nodes 4t..4t+3, 4t+3 the most
 * significant)
 *   G' = g3 ^ p3 g2 ^ p3 p2 g1 ^ p3 p2 p1 g0,  P' = p3 p2 p1 p0,
 * every product of the level in one opening; `extra` rides along.
 */
struct level_job {
	size_t lanes, words;
	uint64_t *g, *p, *x, *o;
};

/* Groups [lo, hi): their seven variables into the opening's planes. */
static int pack_range(void *arg, size_t lo, size_t hi)
{
	const struct level_job *j = arg;
	size_t lanes = j->lanes, words = j->words, sz = words * sizeof(*j->g);

	for (size_t t = lo; t < hi; t++) {
		uint64_t *lane = j->x + t * words;

		memcpy(lane + 0 * lanes, j->p + (4 * t + 3) * words, sz);
		memcpy(lane + 1 * lanes, j->p + (4 * t + 2) * words, sz);
		memcpy(lane + 2 * lanes, j->p + (4 * t + 1) * words, sz);
		memcpy(lane + 3 * lanes, j->p + (4 * t) * words, sz);
		memcpy(lane + 4 * lanes, j->g + (4 * t + 2) * words, sz);
		memcpy(lane + 5 * lanes, j->g + (4 * t + 1) * words, sz);
		memcpy(lane + 6 * lanes, j->g + (4 * t) * words, sz);
	}
	return 0;
}

/*
 * Words [lo, hi) of every group: node t is written after nodes
 * 4t..4t+3 were read (t <= 4t), and a range of words touches only its
 * own words of every node, so ranges are independent.
 */
static int combine_range(void *arg, size_t lo, size_t hi)
{
	const struct level_job *j = arg;
	size_t lanes = j->lanes, words = j->words, groups = lanes / words;
	const uint64_t *o = j->o;

	for (size_t t = 0; t < groups; t++)
		for (size_t i = lo; i < hi; i++) {
			size_t at = t * words + i;

			j->g[at] = j->g[(4 * t + 3) * words + i] ^ o[at] ^ o[lanes + at] ^
				   o[2 * lanes + at];
			j->p[at] = o[3 * lanes + at];
		}
	return 0;
}

/*
 * One level of the tree: for group t (nodes 4t..4t+3, 4t+3 the most
 * significant)
 *   G' = g3 ^ p3 g2 ^ p3 p2 g1 ^ p3 p2 p1 g0,  P' = p3 p2 p1 p0,
 * every product of the level in one opening; `extra` rides along.
 */
static int tree_level4(struct mpc *m, size_t cnt, size_t words, uint64_t *g,
		       uint64_t *p, uint64_t *scratch, struct mpc_open_item *extra)
{
	size_t groups = cnt / 4, lanes = groups * words;
	struct level_job j = { lanes, words, g, p, scratch, scratch + PREFIX4_VARS * lanes };
	int ret;

	pool_run(groups, pool_grain(POOL_MIN_WORK, PREFIX4_VARS * words), pack_range, &j);
	if ((ret = mand_open(m, MAND_PREFIX4, j.x, lanes, j.o, extra)) != 0)
		return ret;
	pool_run(words, pool_grain(POOL_MIN_WORK, 6 * groups), combine_range, &j);
	return 0;
}

/* Scratch of the widest level: its variables and its monomials. */
#define SCRATCH_PER_WORD ((PREFIX4_VARS + PREFIX4_MONOS) * (TREE_LEAVES / 4))

/* Working buffers of one comparison layer. */
struct cmp_work {
	size_t n, words;
	uint64_t *c, *cpl, *g, *p, *scratch;
};

static void work_free(struct cmp_work *w)
{
	/* c is opened, and its bit planes too: public. */
	mpc_free_public(w->c, w->n);
	mpc_free_public(w->cpl, 64 * w->words);
	mpc_free_words(w->g, TREE_LEAVES * w->words);
	mpc_free_words(w->p, TREE_LEAVES * w->words);
	mpc_free_words(w->scratch, SCRATCH_PER_WORD * w->words);
}

static int work_alloc(struct cmp_work *w, size_t n)
{
	memset(w, 0, sizeof(*w));
	w->n = n;
	w->words = ring_words(n);
	/* Every buffer is written in full before it is read. */
	if (!(w->c = mpc_alloc_raw(n)) || !(w->cpl = mpc_alloc_raw(64 * w->words)) ||
	    !(w->g = mpc_alloc_raw(TREE_LEAVES * w->words)) ||
	    !(w->p = mpc_alloc_raw(TREE_LEAVES * w->words)) ||
	    !(w->scratch = mpc_alloc_raw(SCRATCH_PER_WORD * w->words)))
		return MPC_E_NOMEM;
	return 0;
}

/* Round 1: open c = x + 2^62 + r, with `extra` in the same message. */
static int sign_open(struct mpc *m, struct cmp_work *w, const uint64_t *x,
		     const struct corr_mat *ed, struct mpc_open_item *extra)
{
	struct mpc_open_item it[2];

	mask_biased(m, x, ed->r, w->n, w->c);
	it[0] = (struct mpc_open_item){ .share = w->c, .out = w->c, .n = w->n };
	if (extra)
		it[1] = *extra;
	return mpc_open_items(m, it, extra ? 2 : 1);
}

struct leaves_job {
	const struct mpc *m;
	struct cmp_work *w;
	const struct corr_mat *ed;
};

/* Leaves: g_j = r_j & !c_j, p_j = r_j ^ !c_j (public part on party 0). */
static int leaves_range(void *arg, size_t lo, size_t hi)
{
	const struct leaves_job *lj = arg;
	size_t words = lj->w->words;
	uint64_t own = lj->m->me == 0 ? ~(uint64_t)0 : 0;

	for (size_t j = 0; j < CMP_BITS; j++) {
		const uint64_t *rj = lj->ed->rbits + j * words, *cj = lj->w->cpl + j * words;
		uint64_t *gj = lj->w->g + j * words, *pj = lj->w->p + j * words;

		for (size_t i = lo; i < hi; i++) {
			gj[i] = rj[i] & ~cj[i];
			pj[i] = rj[i] ^ (~cj[i] & own);
		}
	}
	return 0;
}

/*
 * Rounds 2-4: the borrow-lookahead tree; sign gets the XOR shares of
 * [x >= 0] as bit planes. `pending` rides the first level's opening.
 */
static int sign_tree(struct mpc *m, struct cmp_work *w, const struct corr_mat *ed,
		     struct mpc_open_item *pending, uint64_t *sign)
{
	size_t words = w->words, cnt = TREE_LEAVES;
	int ret;

	ring_to_planes(w->cpl, w->c, w->n);
	pool_run(words, pool_grain(POOL_MIN_WORK, 4 * CMP_BITS), leaves_range,
		 &(struct leaves_job){ m, w, ed });
	/* Padding on top: (g, p) = (0, 1) passes the lower node through. */
	memset(w->g + CMP_BITS * words, 0, (TREE_LEAVES - CMP_BITS) * words * sizeof(*w->g));
	memset(w->p + CMP_BITS * words, m->me == 0 ? 0xff : 0,
	       (TREE_LEAVES - CMP_BITS) * words * sizeof(*w->p));
	for (; cnt > 1; cnt /= 4) {
		if ((ret = tree_level4(m, cnt, words, w->g, w->p, w->scratch, pending)) != 0)
			return ret;
		pending = NULL;
	}
	/* sign = c_62 ^ r_62 ^ borrow */
	for (size_t i = 0; i < words; i++)
		sign[i] = w->g[i] ^ ed->rbits[CMP_BITS * words + i] ^
			  (m->me == 0 ? w->cpl[CMP_BITS * words + i] : 0);
	return 0;
}

int cmp_sign_need(struct corr_list *l, size_t n)
{
	struct corr_req q;
	size_t words = ring_words(n);
	int ret;

	corr_req_edabit(&q, n, 0);
	if ((ret = corr_list_add(l, &q)) != 0)
		return ret;
	return tree_need(l, words);
}

int cmp_sign(struct mpc *m, const uint64_t *x, size_t n, uint64_t *sign)
{
	struct cmp_work w;
	struct corr_mat *ed;
	struct corr_req q;
	int ret;

	corr_req_edabit(&q, n, 0);
	ed = mpc_take(m, &q);
	if ((ret = work_alloc(&w, n)) == 0 && (ret = sign_open(m, &w, x, ed, NULL)) == 0)
		ret = sign_tree(m, &w, ed, NULL, sign);
	mpc_release(ed);
	work_free(&w);
	return ret;
}

struct bitmul_job {
	const struct corr_mat *bm;
	const uint64_t *e, *y, *d;
	size_t w;
	uint64_t *out;
};

/* bit*y = e*y + (1 - 2e)(s*a + d*s), for elements [lo, hi). */
static int bitmul_range(void *arg, size_t lo, size_t hi)
{
	const struct bitmul_job *j = arg;

	for (size_t i = lo; i < hi; i++) {
		uint64_t ei = (j->e[i / 64] >> (i % 64)) & 1, si = j->bm->s[i];

		for (size_t c = 0; c < j->w; c++) {
			size_t k = i * j->w + c;
			uint64_t t = j->bm->sa[k] + j->d[k] * si;

			j->out[k] = ei ? j->y[k] - t : t;
		}
	}
	return 0;
}

int bitmul_finish(struct mpc *m, const struct corr_mat *bm, const uint64_t *bits, size_t n,
		  const uint64_t *y, const uint64_t *d, size_t w, uint64_t *out)
{
	size_t words = ring_words(n);
	uint64_t *e = mpc_alloc_raw(words);
	int ret;

	if (!e)
		return MPC_E_NOMEM;
	for (size_t i = 0; i < words; i++)
		e[i] = bits[i] ^ bm->sbits[i];
	if ((ret = mpc_open_items(m, &(struct mpc_open_item){ .share = e, .out = e,
							       .n = words, .xor = 1 }, 1)) != 0)
		goto out;
	pool_run(n, pool_grain(ELEM_MIN, w), bitmul_range,
		 &(struct bitmul_job){ bm, e, y, d, w, out });
out:
	mpc_free_public(e, words); /* opened */
	return ret;
}

int cmp_select(struct mpc *m, const uint64_t *x, size_t n, const uint64_t *y,
	       size_t w, int shift, uint64_t *out)
{
	size_t words = ring_words(n), yl = n * w;
	struct corr_mat *ed, *bm;
	struct corr_req q;
	struct cmp_work cw;
	uint64_t *ty = NULL, *d = NULL, *sign = NULL;
	struct mpc_open_item dit, *pending = NULL;
	int ret = MPC_E_NOMEM;

	if (!y && w != 1)
		mpc_bug("cmp_select: implicit y needs width 1");
	corr_req_edabit(&q, n, shift);
	ed = mpc_take(m, &q);
	corr_req_bitmul(&q, n, w);
	bm = mpc_take(m, &q);
	if ((ret = work_alloc(&cw, n)) != 0)
		goto out;
	ret = MPC_E_NOMEM;
	if (!(d = mpc_alloc_raw(yl)) || !(sign = mpc_alloc_raw(words)) ||
	    (!y && !(ty = mpc_alloc_raw(n))))
		goto out;
	dit = (struct mpc_open_item){ .share = d, .out = d, .n = yl };
	if (!y && shift == 0)
		y = x;
	if (y)
		ring_sub(d, y, bm->a, yl);
	if ((ret = sign_open(m, &cw, x, ed, y ? &dit : NULL)) != 0)
		goto out;
	if (!y) {
		/* ReLU with truncation: y is known only now; d rides level 1. */
		trunc_local(m, cw.c, ed, n, shift, ty);
		y = ty;
		ring_sub(d, y, bm->a, yl);
		pending = &dit;
	}
	if ((ret = sign_tree(m, &cw, ed, pending, sign)) != 0)
		goto out;
	ret = bitmul_finish(m, bm, sign, n, y, d, w, out);
out:
	mpc_release(ed);
	mpc_release(bm);
	work_free(&cw);
	mpc_free_words(ty, n);
	mpc_free_public(d, yl); /* opened */
	mpc_free_words(sign, words);
	return ret;
}

int relu_need(struct corr_list *l, size_t n, int shift)
{
	return cmp_select_need(l, n, 1, shift);
}

int mpc_relu(struct mpc *m, const uint64_t *x, size_t n, int shift,
	     uint64_t *out)
{
	return cmp_select(m, x, n, NULL, 1, shift, out);
}

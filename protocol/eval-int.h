/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
#ifndef MPC_EVAL_INT_H
#define MPC_EVAL_INT_H

/* Shared between eval.c (the walk) and eval_ops.c (one handler per op). */
#include "eval.h"
#include "ops.h"

struct ev_val {
	uint64_t *v; /* run mode: this party's shares */
	size_t n;
	int scale;
	int xb;       /* extra fractional bits: x * 2^(scale f + xb) (a weight-scaled product) */
	int is_const; /* a weight: shared from the owner at each use */
	int relu_of;  /* >= 0: a ReLU of that value, deferred past a MaxPool */
	int keep;     /* still needed by a deferred ReLU: not freed early */
};

/*
 * A linear layer whose weights' F = W - B was opened in the weights phase
 * (once per job); each chunk of rows takes its own A, C = L(A, B).
 */
struct ev_pre {
	struct beaver_w w; /* run mode */
	int on;
};

/* What the weights-phase walk over the linear layers does. */
enum ev_stage {
	EV_ST_NODES, /* the ordinary walk */
	EV_ST_MASK,  /* the job's weights phase: take B, form F = W - B */
	EV_ST_CHUNK, /* a chunk's start: take A, C = L(A, B), form z0 */
};

struct ectx {
	const struct model *md;
	int frac;
	int run;              /* 0: need mode (no data, no traffic) */
	struct corr_list *l;  /* need mode */
	struct mpc *m;        /* run mode */
	int owner;            /* weights owner */
	enum ev_stage weights; /* the weights phase or a chunk's start */
	struct ev_pre *pre;   /* per node, kept across a job's chunks */
	struct ev_val *vals;
	const struct model_node *nd; /* node being evaluated, for messages */
};

/* Fail naming the current node: "node 'conv1' (Conv): ...". */
int ev__fail(struct ectx *c, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
size_t ev__numel(const struct model_value *v);
/* Allocate (run mode) the node output's buffer at a scale. */
int ev__out(struct ectx *c, int vid, int scale) MPC_MUST_CHECK;
/*
 * A runtime operand truncated in place to scale <= max_scale, or a weight
 * shared at const_scale into a new buffer (*owned = 1; free with
 * mpc_free_words). In need mode *p is NULL.
 */
int ev__operand(struct ectx *c, int vid, int max_scale, int const_scale,
		uint64_t **p, int *scale, int *owned) MPC_MUST_CHECK;
/*
 * The same, keeping the extra bits (*xb) of a value already at or below
 * max_scale: for ops that handle them (ReLU fuses them into its
 * truncation, copies and MaxPool pass them on, Add aligns). ev__operand
 * always returns xb 0 (truncating once if needed).
 */
int ev__operand_x(struct ectx *c, int vid, int max_scale, int const_scale,
		  uint64_t **p, int *scale, int *xb, int *owned) MPC_MUST_CHECK;
/* Fractional bits of a value at (scale, xb). */
#define EV_BITS(c, scale, xb) ((scale) * (c)->frac + (xb))
/* Floats shared at `bits` fractional bits (ev__share_floats: scale * frac). */
int ev__share_bits(struct ectx *c, int owner, const float *data, size_t n, int bits,
		   uint64_t **p) MPC_MUST_CHECK;
/*
 * Share floats held by `owner` (NULL on the other parties) at a scale:
 * input parts, and weights after a plaintext transform (transpose, alpha).
 */
int ev__share_floats(struct ectx *c, int owner, const float *data, size_t n, int scale,
		     uint64_t **p) MPC_MUST_CHECK;
/* out (shape od) += mul * a (shape ad, numpy-broadcast to od). */
void ev__bcast_accum(uint64_t *out, int ond, const int64_t *od,
		     const uint64_t *a, int andim, const int64_t *ad, uint64_t mul);

int ev__node(struct ectx *c, const struct model_node *nd) MPC_MUST_CHECK;
/* Per-value state of one walk over c->md (vals), and the job's per-node pre. */
int ev__walk_init(struct ectx *c) MPC_MUST_CHECK;
void ev__walk_free(struct ectx *c);
struct ev_pre *ev__pre_new(const struct model *md);
void ev__pre_free(const struct model *md, struct ev_pre *pre);
/* The job's weights phase (once), either mode: F of every such layer opened. */
int ev__weights(struct ectx *c) MPC_MUST_CHECK;
/*
 * One chunk of rows on c->md (a model inferred for the chunk): each
 * layer's triple, the inputs' sharing, every node, the outputs' shares
 * (outs: md->n_outputs; layers accumulate). Need mode: inputs NULL.
 */
int ev__chunk(struct ectx *c, const struct eval_input *inputs, struct eval_out *outs,
	      struct eval_layer_stats *layers) MPC_MUST_CHECK;
/* Gemm, MatMul or Conv with a weight as second operand and data as first. */
int ev__pre_ok(const struct ectx *c, const struct model_node *nd);
/*
 * Extra fractional bits for node nd's weight (Gemm, MatMul, Conv: the
 * second operand; Mul: either; BatchNormalization: its scale) from the
 * owner's magnitudes, 0 when unset (docs/protocols.md, "Weight scales").
 */
int ev__weight_xb(struct ectx *c, const struct model_node *nd);
/* A ReLU on n elements at (scale s, xb) (truncation to scale 1 fused), either mode. */
int ev__relu(struct ectx *c, const uint64_t *x, size_t n, int s, int xb,
	     uint64_t *out) MPC_MUST_CHECK;
/* eval_pool.c: MaxPool, AveragePool, GlobalAveragePool, BatchNormalization */
int ev__pool(struct ectx *c, const struct model_node *nd) MPC_MUST_CHECK;
int ev__batchnorm(struct ectx *c, const struct model_node *nd) MPC_MUST_CHECK;
/* eval_layout.c: Transpose, Slice, Expand, Gather with public indices (local, no traffic) */
int ev__layout(struct ectx *c, const struct model_node *nd) MPC_MUST_CHECK;

#endif

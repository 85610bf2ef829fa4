/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
#ifndef MPC_EVAL_H
#define MPC_EVAL_H

#include <stddef.h>
#include <stdint.h>

#include "model.h"
#include "mpc.h"

/*
 * The model evaluator: walks an inferred struct model (model/model.h) node
 * by node on secret shares. The same walk runs in two modes: "need"
 * appends the correlated randomness every node will take (offline phase;
 * it depends only on the public graph and shapes), "run" evaluates on
 * shares. Both follow one code path per op, so they cannot disagree.
 *
 * Fixed point: every value carries a scale s (it encodes x * 2^(s*frac)).
 * Products raise the scale; truncation is inserted lazily, where an op
 * needs scale 1, and fused into ReLU where one follows a linear layer.
 * Outputs are revealed at whatever scale they have (no final truncation).
 *
 * Weights are the model owner's: on that party they are encoded and
 * shared by PRG (no traffic) when first used; other parties need only the
 * shapes (model values' init.data may be NULL there).
 */

/* One owner's block of a data input (vertical or horizontal pooling). */
struct eval_part {
	int owner;
	int ndim;
	int64_t dims[FT_MAX_DIMS];
	const float *data; /* on the owner only */
};

struct eval_input {
	int n_parts;
	int axis; /* parts are joined on this axis */
	const struct eval_part *parts;
};

/* Per node online cost, as seen by one party. */
struct eval_layer_stats {
	double secs;
	uint64_t bytes_sent;
	uint64_t rounds;
};

/* Output shares and their scales (allocated by eval_run). */
struct eval_out {
	uint64_t *share;
	size_t n;
	int scale;
};

/*
 * Fold BatchNormalization into a directly preceding Conv or Gemm whose
 * output feeds nothing else (model owner's weights change; shapes do not).
 * Remaining BatchNormalization nodes are evaluated as per-channel affine
 * maps. Call once, before eval_need / eval_run, on every party's copy.
 */
int eval_fold_batchnorm(struct model *md) MPC_MUST_CHECK;

/* Checks the model can be evaluated (ops, scales, shapes) and lists needs. */
int eval_need(const struct model *md, int frac, struct corr_list *l) MPC_MUST_CHECK;

/*
 * Evaluate on shares. inputs: n_inputs entries, one per md->inputs entry.
 * outs: n_outs entries, one per md->outputs entry, filled with shares
 * (caller frees with eval_out_free). Both lengths must match the model's
 * (MPC_E_ARG otherwise, before anything is written): a model received
 * from a peer decides neither. layers: md->n_nodes entries, zeroed by the
 * caller (each layer's figures are added), or NULL.
 */
int eval_run(struct mpc *m, const struct model *md, int weights_owner,
	     const struct eval_input *inputs, size_t n_inputs, struct eval_out *outs,
	     size_t n_outs, struct eval_layer_stats *layers) MPC_MUST_CHECK;
void eval_out_free(struct eval_out *o);

/*
 * Reveal shares to one party (the recipient sums; the others send): one
 * round. out is written on the recipient only.
 */
int mpc_reveal_to(struct mpc *m, int recipient, const uint64_t *x, size_t n,
		  uint64_t *out) MPC_MUST_CHECK;

#endif

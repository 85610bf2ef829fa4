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

/* Output shares and their fractional bits (allocated by eval_run). */
struct eval_out {
	uint64_t *share;
	size_t n;
	int bits; /* the revealed value is x * 2^bits: decode with fxp_decode(.., bits) */
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
 * A job in chunks of rows (axis 0 of every data input, the batch): the
 * weights phase runs once, then each chunk takes its own correlated
 * randomness (produced for that chunk, used and freed), shares its rows,
 * runs every node and hands its outputs' shares to the caller, so memory
 * follows the chunk, not the job. The plan is public (model shapes and
 * chunk_rows only): every party and the dealer make the same one.
 *
 *   eval_plan_pick()   chunk_rows from a memory budget (or refuse)
 *   eval_plan_init()   the chunks' models and request lists
 *   eval_plan_deal()   the dealer's side of every stage
 *   eval_chunked()     a party's side: weights phase, then each chunk,
 *                      calling `done` with the chunk's output shares
 *
 * Chunking needs rows that are independent: every computed value keeps
 * the batch on axis 0 and no op mixes rows (Softmax over axis 0, a
 * transposed data operand of Gemm, data as MatMul's second operand are
 * refused with the node's name). One chunk of all rows is always allowed.
 */
struct eval_plan {
	const struct model *md; /* the job's model, inferred for all rows */
	int frac;
	size_t rows, chunk_rows, n_chunks;
	struct model *cm[2];          /* a full chunk's model; the last, short one's */
	struct corr_list wneed;       /* the weights phase */
	struct corr_list cneed[2];    /* a full chunk's requests; the short one's */
	/* bytes one party needs for the weights phase and one chunk, at most */
	size_t party_bytes, dealer_bytes;
	size_t chunk_mat_words;       /* a full chunk's material per party */
};

/*
 * md (inferred for the job's rows) inferred again for `rows` of them, the
 * rows checked independent when fewer than all: what a chunk runs, and
 * what a plaintext reference in chunks evaluates. It shares md's weights
 * and names: free it with eval_model_rows_free, never model_free.
 */
int eval_model_rows(const struct model *md, size_t rows, struct model **out) MPC_MUST_CHECK;
void eval_model_rows_free(struct model *cm);
/* Bytes one party (or the dealer) needs to run chunks of `rows` rows. */
int eval_chunk_mem(const struct model *md, int frac, int n_parties, size_t rows,
		   size_t *party_bytes, size_t *dealer_bytes) MPC_MUST_CHECK;
/*
 * The largest chunk whose parties_here parties and dealer_here dealers
 * (0 or 1) fit in budget bytes less held (what the process holds
 * already); MPC_E_TOOBIG ("one row needs X MiB ..., the budget is Y MiB")
 * when one row does not. Rows that cannot be split: all in one chunk,
 * if that fits.
 */
int eval_plan_pick(const struct model *md, int frac, int n_parties, int parties_here,
		   int dealer_here, size_t budget, size_t held, size_t *chunk_rows) MPC_MUST_CHECK;
int eval_plan_init(struct eval_plan *p, const struct model *md, int frac, int n_parties,
		   size_t chunk_rows) MPC_MUST_CHECK;
void eval_plan_free(struct eval_plan *p);
/* Chunk k: its first row, its rows and its request list. */
size_t eval_plan_chunk(const struct eval_plan *p, size_t k, size_t *first,
		       const struct corr_list **need);

/* Called on every party after each chunk; outs are the chunk's shares. */
typedef int (*eval_chunk_fn)(void *arg, struct mpc *m, size_t k, size_t first, size_t rows,
			     struct eval_out *outs, size_t n_outs);
int eval_chunked(struct mpc *m, const struct eval_plan *p, int weights_owner,
		 const struct eval_input *inputs, size_t n_inputs, eval_chunk_fn done,
		 void *arg, struct eval_layer_stats *layers) MPC_MUST_CHECK;
/* The dealer: every stage's corrections, each when party n-1 asks for it. */
int eval_plan_deal(const struct eval_plan *p, struct net *net, struct prg *party) MPC_MUST_CHECK;

/*
 * Reveal shares to one party (the recipient sums; the others send): one
 * round. out is written on the recipient only.
 */
int mpc_reveal_to(struct mpc *m, int recipient, const uint64_t *x, size_t n,
		  uint64_t *out) MPC_MUST_CHECK;

#endif

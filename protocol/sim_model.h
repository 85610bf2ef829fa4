/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
#ifndef MPC_SIM_MODEL_H
#define MPC_SIM_MODEL_H

#include "eval.h"
#include "sim.h"

/*
 * A whole model on shares with every party in-process: what `mpcctl
 * simulate`, the model tests and the in-process benchmarks run. Each party
 * thread sees only its own input parts' data and, on the owner, the
 * weights; outputs are revealed to the recipient only and decoded there.
 */
struct sim_model {
	/* in */
	struct model *md; /* inferred; BatchNorm folded by the caller if wanted */
	int n_parties;
	int frac;
	int owner;     /* weights */
	int recipient; /* outputs */
	const struct eval_input *inputs; /* md->n_inputs, parts with data */
	/*
	 * Rows per chunk (eval.h): chunk_rows if set, else the largest chunk
	 * whose parties and dealer fit in memory bytes if set, else all rows.
	 */
	size_t chunk_rows;
	size_t memory;
	size_t memory_held; /* of memory, what the process holds already */

	/* out (sim_model_free releases them) */
	struct ftensor *outs;            /* md->n_outputs */
	struct eval_layer_stats *layers; /* md->n_nodes, max over parties */
	struct sim_job job;              /* phase statistics, error text */
	struct eval_plan plan;           /* rows, chunk_rows, n_chunks, estimates */
	size_t mat_peak;                 /* words of material one party held at once, at most */

	/* private */
	struct eval_layer_stats *party_layers[MPC_MAX_PARTIES];
};

int sim_model_run(struct sim_model *s) MPC_MUST_CHECK;
void sim_model_free(struct sim_model *s);

#endif

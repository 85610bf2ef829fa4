/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
#ifndef MPC_PROTO_UTIL_H
#define MPC_PROTO_UTIL_H

/*
 * The harness of the protocol tests (test_protocol.c, test_nonlin.c): party
 * 0 shares x, the last party shares y, the op runs on shares in-process
 * for the given number of parties, the result is opened into out.
 */
#include <stddef.h>
#include <stdint.h>

#include "ops.h"

struct ptest;
typedef int (*op_need_fn)(struct ptest *t, struct corr_list *l);
typedef int (*op_run_fn)(struct ptest *t, struct mpc *m, const uint64_t *x,
			 const uint64_t *y, uint64_t *out);

struct ptest {
	size_t nx, ny, nout;
	uint64_t *x, *y, *out;
	op_need_fn need;
	op_run_fn run;
	/* op parameters */
	struct bilin bl;
	int shift;
	struct cmp_groups g;
	size_t outer, k, inner;
	uint64_t *out2; /* second output (argmax's max) */
	uint64_t online_rounds;
};

/* The sim_job callbacks of the harness (arg: the struct ptest). */
int pt_need(void *arg, struct corr_list *l);
int pt_run(struct mpc *m, void *arg);
/* Run t's op with that many parties; the opened result lands in t->out. */
void pt_exec(struct ptest *t, int parties);
/* Random values: a mix of large (|v| < 2^bits) and small ones. */
void pt_rand(uint64_t *v, size_t n, int bits);
void pt_alloc(struct ptest *t, size_t nx, size_t ny, size_t nout);
void pt_free(struct ptest *t);

#endif

/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "proto_util.h"
#include "sim.h"
#include "test.h"

int pt_need(void *arg, struct corr_list *l)
{
	struct ptest *t = arg;

	return t->need(t, l);
}

int pt_run(struct mpc *m, void *arg)
{
	struct ptest *t = arg;
	uint64_t *xs = calloc(t->nx + 1, 8), *ys = calloc(t->ny + 1, 8);
	uint64_t *os = calloc(t->nout + 1, 8), *o = calloc(t->nout + 1, 8);
	int ret;

	if ((ret = mpc_share_input(m, 0, t->x, t->nx, xs)) != 0 ||
	    (ret = mpc_share_input(m, m->n - 1, t->y, t->ny, ys)) != 0)
		goto out;
	net_set_phase(m->net, NET_PH_ONLINE);
	if ((ret = t->run(t, m, xs, ys, os)) != 0)
		goto out;
	/* One writer: every party counts the same rounds (a race under TSan otherwise). */
	if (m->me == 0)
		t->online_rounds = m->net->st[NET_PH_ONLINE].rounds;
	if ((ret = mpc_open(m, os, t->nout, o)) != 0)
		goto out;
	if (m->me == 0)
		memcpy(t->out, o, t->nout * 8);
out:
	free(xs);
	free(ys);
	free(os);
	free(o);
	return ret;
}

void pt_exec(struct ptest *t, int parties)
{
	struct sim_job job = { .n_parties = parties, .frac = 16, .need = pt_need,
			       .run = pt_run, .arg = t };

	memset(t->out, 0, t->nout * 8);
	ASSERT_OK(sim_run(&job));
}

void pt_rand(uint64_t *v, size_t n, int bits)
{
	randombytes_buf(v, n * 8);
	for (size_t i = 0; i < n; i++) {
		int b = (i % 3 == 0) ? bits : (int)(i % 17) + 1;
		int64_t s = (int64_t)v[i] >> (64 - b);

		v[i] = (uint64_t)s;
	}
}

void pt_alloc(struct ptest *t, size_t nx, size_t ny, size_t nout)
{
	t->nx = nx;
	t->ny = ny;
	t->nout = nout;
	t->x = calloc(nx + 1, 8);
	t->y = calloc(ny + 1, 8);
	t->out = calloc(nout + 1, 8);
}

void pt_free(struct ptest *t)
{
	free(t->x);
	free(t->y);
	free(t->out);
	free(t->out2);
	memset(t, 0, sizeof(*t));
}

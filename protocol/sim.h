/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
#ifndef MPC_SIM_H
#define MPC_SIM_H

#include "mpc.h"
#include "net.h"

/*
 * Runs one job with every party and the dealer as threads of this process
 * over net_local: setup, offline (the need list computed once, since it
 * depends only on public shapes), then `run` on every party. The first
 * failure aborts every party with the same reason.
 */
struct sim_job {
	int n_parties;
	int frac;
	/*
	 * Append what run() will take; called once, before any thread starts.
	 * NULL: run() and deal() make the offline phase themselves (a job in
	 * chunks: eval_chunked and eval_plan_deal).
	 */
	int (*need)(void *arg, struct corr_list *l);
	int (*deal)(struct net *net, struct prg *party, void *arg);
	/* One party's protocol; arg is shared, so write only per-party slots. */
	int (*run)(struct mpc *m, void *arg);
	void *arg;

	/* results */
	struct net_stats st[MPC_MAX_PARTIES + 1][NET_PH_COUNT];
	size_t need_words;   /* material words each party stores */
	size_t n_requests;
	size_t mat_peak[MPC_MAX_PARTIES]; /* words of material each party held at once */
	double secs;         /* wall time of the whole run */
	int ret;
	char err[256];
};

int sim_run(struct sim_job *job) MPC_MUST_CHECK;

/* Phase totals: max over parties of time, max bytes sent by one party. */
void sim_phase_summary(const struct sim_job *job, enum net_phase ph,
		       double *secs, uint64_t *bytes, uint64_t *rounds);

#endif

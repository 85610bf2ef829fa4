/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
#include "sim.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "net_local.h"

struct sim_thread {
	struct sim_job *job;
	struct net_local *hub;
	const struct corr_list *need;
	int me;
	pthread_t tid;
	int ret;
	char err[256];
};

static void fail(struct sim_thread *t, int ret, const char *who)
{
	char why[320];

	t->ret = ret;
	snprintf(t->err, sizeof(t->err), "%s", mpc_errmsg(ret));
	snprintf(why, sizeof(why), "%s: %s", who, t->err);
	net_local_abort(t->hub, ret, why);
}

static void *party_main(void *arg)
{
	struct sim_thread *t = arg;
	struct sim_job *job = t->job;
	struct net nt;
	struct mpc m;
	char who[32];
	int ret;

	snprintf(who, sizeof(who), "party %d", t->me);
	net_local_bind(t->hub, t->me, job->n_parties, &nt);
	if ((ret = mpc_init(&m, &nt, job->frac)) != 0) {
		fail(t, ret, who);
		return NULL;
	}
	if ((ret = mpc_setup(&m)) != 0 || (job->need && (ret = mpc_offline(&m, t->need)) != 0) ||
	    (ret = job->run(&m, job->arg)) != 0)
		fail(t, ret, who);
	net_set_phase(&nt, nt.phase); /* closes the last phase's clock */
	memcpy(job->st[t->me], nt.st, sizeof(nt.st));
	job->mat_peak[t->me] = m.mat_peak;
	mpc_free(&m);
	return NULL;
}

static void *dealer_main(void *arg)
{
	struct sim_thread *t = arg;
	struct prg party[MPC_MAX_PARTIES];
	struct net nt;
	int ret;

	net_local_bind(t->hub, t->me, t->job->n_parties, &nt);
	if ((ret = dealer_setup(&nt, party)) != 0 ||
	    (ret = t->job->need ? dealer_offline(&nt, party, t->need) :
				  t->job->deal(&nt, party, t->job->arg)) != 0)
		fail(t, ret, "dealer");
	net_set_phase(&nt, nt.phase);
	memcpy(t->job->st[t->me], nt.st, sizeof(nt.st));
	for (int i = 0; i < t->job->n_parties; i++)
		prg_wipe(&party[i]);
	return NULL;
}

int sim_run(struct sim_job *job)
{
	struct sim_thread th[MPC_MAX_PARTIES + 1];
	struct corr_list need = { 0 };
	struct net_local *hub = NULL;
	int n = job->n_parties, started = 0, ret;

	memset(job->st, 0, sizeof(job->st));
	memset(job->mat_peak, 0, sizeof(job->mat_peak));
	job->secs = net_now();
	job->ret = 0;
	job->err[0] = '\0';
	if (n < 2 || n > MPC_MAX_PARTIES)
		return mpc_fail(MPC_E_ARG, "%d parties: between 2 and %d are supported",
				n, MPC_MAX_PARTIES);
	if (!job->need != !!job->deal)
		return mpc_fail(MPC_E_ARG, "a job has either a request list or a dealer's loop");
	if (job->need && (ret = job->need(job->arg, &need)) != 0)
		goto out;
	if (job->need) {
		job->need_words = corr_list_mat_words(&need);
		job->n_requests = need.n;
	}
	if ((ret = net_local_new(n + 1, &hub)) != 0)
		goto out;
	memset(th, 0, sizeof(th));
	for (int i = 0; i <= n; i++) {
		th[i] = (struct sim_thread){ .job = job, .hub = hub, .need = &need, .me = i };
		if (pthread_create(&th[i].tid, NULL, i < n ? party_main : dealer_main, &th[i])) {
			net_local_abort(hub, MPC_E_INTERNAL, "cannot start a thread");
			ret = mpc_fail(MPC_E_INTERNAL, "cannot start a thread");
			break;
		}
		started++;
	}
	for (int i = 0; i < started; i++)
		pthread_join(th[i].tid, NULL);
	if (!ret && net_local_reason(hub)) {
		/* The first failure is the job's reason, on every party. */
		ret = MPC_E_ABORTED;
		for (int i = 0; i <= n; i++)
			if (th[i].ret && th[i].ret != MPC_E_ABORTED) {
				ret = th[i].ret;
				break;
			}
		ret = mpc_fail(ret, "%s", net_local_reason(hub));
	}
out:
	job->secs = net_now() - job->secs;
	if (ret) {
		job->ret = ret;
		snprintf(job->err, sizeof(job->err), "%s", mpc_errmsg(ret));
	}
	net_local_free(hub);
	corr_list_free(&need);
	return ret;
}

void sim_phase_summary(const struct sim_job *job, enum net_phase ph,
		       double *secs, uint64_t *bytes, uint64_t *rounds)
{
	*secs = 0;
	*bytes = 0;
	*rounds = 0;
	for (int i = 0; i <= job->n_parties; i++) {
		const struct net_stats *s = &job->st[i][ph];

		if (s->secs > *secs)
			*secs = s->secs;
		if (s->bytes_sent > *bytes)
			*bytes = s->bytes_sent;
		if (s->rounds > *rounds)
			*rounds = s->rounds;
	}
}

/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * How a job ends, on the loop thread: its thread's end, and the one end
 * every party agrees on (docs/daemon.md, "Failure"). A compute party whose
 * run ended well tells the proposer (JobDone) and waits; the proposer
 * finishes the job once every compute party is done and tells everyone,
 * so a failure anywhere before that (a recipient that cannot store its
 * result) still aborts the job on every party.
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "job.h"
#include "log.h"
#include "ring.h"

static void finish(struct job *j)
{
	job__set_state(j, JOB_FINISHED, NULL);
	log_info("job %.8s finished%s", j->id, j->result_here ? ", result stored" : "");
	job__audit(j, "finished", NULL);
}

/*
 * Proposer: every compute party's run ended well (its result stored, for
 * a recipient), so the job finished; one JobDone tells everyone. Until
 * then a failure anywhere still aborts it on every party.
 */
static void maybe_finish(struct job *j)
{
	Mpcpb__Frame f = MPCPB__FRAME__INIT;
	Mpcpb__JobDone d = MPCPB__JOB_DONE__INIT;

	for (int e = 0; e < j->n; e++)
		if (!j->done[e])
			return;
	finish(j);
	d.id = j->id;
	f.msg_case = MPCPB__FRAME__MSG_DONE;
	f.done = &d;
	job__send_all(j, &f);
}

void job__on_done(struct job *j, struct peer *from)
{
	int e = job__ep_of(j, from->cfg->name);

	if (e < 0 || j->state != JOB_RUNNING)
		return;
	if (j->proposer_here) {
		/* A compute party's run ended well there. */
		if (e < j->n) {
			j->done[e] = 1;
			if (j->done_here)
				maybe_finish(j);
		}
		return;
	}
	/* The proposer's decision; the dealer's part ends early, ours has ended. */
	if (!strcmp(from->cfg->name, j->spec->proposer) && !j->thread_started &&
	    (j->me == j->n || j->done_here))
		finish(j);
}

/*
 * While jobs run, freed buffers stay for the next layer's reuse (the big
 * ones in ring.c's cache of mappings, the rest in the heap: mpc_tune_malloc
 * sets M_TRIM_THRESHOLD and M_MMAP_THRESHOLD to 1 GiB). When the last job
 * thread has ended they go back to the system, so the RSS falls back after
 * a burst of jobs instead of staying at its peak.
 */
static void release_memory(struct server *s)
{
	for (struct job *j = s->jobs; j; j = j->next)
		if (j->thread_started)
			return;
	link_release_buffers(s);
	ring_release_cache();
	malloc_trim(0);
}

/* The phases this node's part of the job went through, for the metrics. */
static void count_phases(struct server *s, const struct job *j)
{
	for (int ph = 0; ph < NET_PH_COUNT; ph++) {
		const struct net_stats *st = &j->st[ph];

		if (st->secs > 0 || st->rounds || st->bytes_sent || st->bytes_recv) {
			srv_hist_observe(&s->stats.phase_secs[ph], st->secs);
			s->stats.phase_rounds[ph] += st->rounds;
		}
	}
}

/* Job threads report their end through the event queue. */
void job_drain_events(struct server *s)
{
	struct server_event *ev;

	pthread_mutex_lock(&s->mu);
	ev = s->events;
	s->events = NULL;
	pthread_mutex_unlock(&s->mu);
	while (ev) {
		struct server_event *nx = ev->next;
		struct job *j = ev->job;

		pthread_join(j->thread, NULL);
		j->thread_started = 0;
		job__release(j);
		count_phases(s, j);
		if (j->thread_ret == 0 && j->state == JOB_RUNNING && j->me == j->n) {
			/* Dealer: offline done; Done or Abort from the parties ends it. */
			log_info("job %.8s: dealer's part done", j->id);
		} else if (j->thread_ret == 0 && j->state == JOB_RUNNING) {
			j->done_here = 1;
			if (j->proposer_here) {
				j->done[j->me] = 1;
				maybe_finish(j);
			} else {
				Mpcpb__Frame f = MPCPB__FRAME__INIT;
				Mpcpb__JobDone d = MPCPB__JOB_DONE__INIT;
				int p = job__ep_of(j, j->spec->proposer);

				/* Finished only when the proposer says all are (on_done). */
				log_info("job %.8s: this party's run ended%s; waiting for %s", j->id,
					 j->result_here ? ", result stored" : "", j->spec->proposer);
				d.id = j->id;
				f.msg_case = MPCPB__FRAME__MSG_DONE;
				f.done = &d;
				if (p < 0 || !j->ep_peer[p] || peer_send(j->ep_peer[p], &f) != 0) {
					char r[REASON_BUF];

					snprintf(r, sizeof(r), "%s: cannot tell %s its run ended",
						 s->cfg->node.name, j->spec->proposer);
					job__fail(j, r, NULL);
				}
			}
		} else if (j->state != JOB_ABORTED) {
			job__fail(j, j->thread_err, j->thread_detail);
		} else {
			job__drop_result(j); /* written before the abort reached the thread */
			job__record_save(j); /* with what the thread counted */
		}
		free(ev);
		ev = nx;
	}
	release_memory(s);
}

/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * A job's progress as `mpcctl status`, `list` and `wait` show it: the
 * phase (setup, offline, weights, input, online, output), the layer in
 * the online phase, the chunk for a job in chunks of rows, and whom a job
 * that is not running yet waits for.
 *
 * The protocol moves back and forth between phases inside a chunk (the
 * weights phase's local work after a chunk's offline step, say): what a
 * user follows is the furthest phase reached, so the phase shown never
 * goes back within a chunk, and each change is kept as a numbered step.
 * `mpcctl wait` asks for the steps after the last one it saw, so a poll
 * every 200 ms still shows each phase and layer once and in order.
 */
#include <stdio.h>
#include <string.h>

#include "job.h"

/* Under j->mu: the state now, as the next step. */
static void step_locked(struct job *j)
{
	struct job_step *s = &j->steps[j->step_seq % JOB_STEPS];

	s->seq = ++j->step_seq;
	s->phase = j->phase;
	s->layer = j->phase == NET_PH_ONLINE ? j->layer : 0;
	s->layers = j->phase == NET_PH_ONLINE ? j->layers : 0;
	s->chunk = 0; /* a phase; job__chunk_step_locked names its chunk */
	s->chunks = j->chunks;
	s->rows_done = j->rows_done;
}

/* A job in several chunks: one step per phase before its rows begin, then one per chunk. */
static int chunked(const struct job *j)
{
	return j->chunks > 1;
}

void job__on_phase(void *arg, enum net_phase ph)
{
	struct job *j = arg;

	pthread_mutex_lock(&j->mu);
	if (!j->ran || (int)ph > j->phase) {
		j->phase = (int)ph;
		j->ran = 1;
		if (ph != NET_PH_ONLINE && (!chunked(j) || (!j->chunks_done && ph <= NET_PH_WEIGHTS)))
			step_locked(j);
	}
	pthread_mutex_unlock(&j->mu);
}

void job__on_layer(void *arg, size_t done, size_t total)
{
	struct job *j = arg;

	pthread_mutex_lock(&j->mu);
	j->phase = NET_PH_ONLINE;
	j->ran = 1;
	j->layer = (uint32_t)done;
	j->layers = (uint32_t)total;
	if (!chunked(j))
		step_locked(j);
	pthread_mutex_unlock(&j->mu);
}

void job__chunk_step_locked(struct job *j)
{
	if (chunked(j)) {
		/* The step names the chunk just revealed. */
		step_locked(j);
		j->steps[(j->step_seq - 1) % JOB_STEPS].chunk = j->chunks_done;
	}
	/* The next chunk starts again with its material. */
	if (j->chunks_done < j->chunks)
		j->phase = NET_PH_OFFLINE;
}

void job_info_progress(struct job *j, uint64_t since, Mpcctlpb__JobInfo *in,
		       Mpcctlpb__Step *st, Mpcctlpb__Step **pst, char **names)
{
	uint64_t first = j->step_seq > JOB_STEPS ? j->step_seq - JOB_STEPS + 1 : 1;
	size_t n = 0, nw = 0, na = 0;

	pthread_mutex_lock(&j->mu);
	if (since + 1 < first)
		in->steps_lost = first - since - 1;
	for (uint64_t q = since + 1 > first ? since + 1 : first; q <= j->step_seq; q++) {
		const struct job_step *s = &j->steps[(q - 1) % JOB_STEPS];

		mpcctlpb__step__init(&st[n]);
		st[n].seq = s->seq;
		st[n].phase = (char *)net_phase_name(s->phase);
		st[n].layer = s->layer;
		st[n].layers = s->layers;
		st[n].chunk = s->chunk;
		st[n].chunks = s->chunks;
		st[n].rows_done = s->rows_done;
		pst[n] = &st[n];
		n++;
	}
	in->n_steps = n;
	in->steps = pst;
	in->steps_seq = j->step_seq;
	pthread_mutex_unlock(&j->mu);
	/* The proposer knows who has not answered yet (loop fields). */
	if (j->proposer_here && j->state == JOB_PROPOSED) {
		for (int e = 0; e < j->n_ep; e++)
			if (e != j->me && !j->answered[e])
				names[nw++] = e < j->n ? j->spec->parties[e] : j->spec->dealer;
		for (int e = 0; e < j->n_ep; e++)
			if (e != j->me && !j->answered[e] && j->pending[e])
				names[nw + na++] = e < j->n ? j->spec->parties[e] : j->spec->dealer;
	}
	in->n_waiting_for = nw;
	in->waiting_for = names;
	in->n_waiting_approval = na;
	in->waiting_approval = names + nw;
	in->restored = j->restored;
}

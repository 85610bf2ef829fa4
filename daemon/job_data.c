/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * The jobs' data path on the loop thread: each data chunk announced on a
 * link is decrypted straight into the buffer its job thread posted, or
 * into a queued one (docs/daemon.md, "Threads").
 */
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "job.h"
#include "log.h"
#include "ring.h"

/* Any thread: a received message's buffer holds shares; wiped. */
void job_msg_free(struct jmsg *m)
{
	if (m->data) {
		sodium_memzero(m->data, m->len);
		ring_free(m->data, m->len);
	}
	free(m);
}

/* Loop, under j->mu: a whole message for the job thread. */
static int deliver(struct job *j, struct jqueue *q)
{
	if (q->cur_posted) {
		q->posted_full = 1;
	} else {
		struct jmsg *m = malloc(sizeof(*m));

		if (!m)
			return -1;
		m->next = NULL;
		m->len = q->cur_len;
		m->data = q->cur; /* transferred */
		if (q->tail)
			q->tail->next = m;
		else
			q->head = m;
		q->tail = m;
	}
	q->cur = NULL;
	q->cur_len = q->cur_off = 0;
	q->cur_posted = 0;
	pthread_cond_broadcast(&j->cv);
	return 0;
}

static struct job *data_job(struct server *s, struct peer *from, const char *id, int *ep)
{
	struct job *j = job_find(s, id);

	if (!j || j->state == JOB_FINISHED || j->state == JOB_ABORTED)
		return NULL; /* late traffic of an ended job */
	if ((*ep = job__ep_of(j, from->cfg->name)) < 0 || *ep == j->me) {
		log_warn("data for job %.8s from non-participant %s", j->id, from->cfg->name);
		return NULL;
	}
	return j;
}

/*
 * Where the next chunk from `from` goes. The first chunk of a message says
 * its whole length: the buffer is the job thread's posted one if it waits
 * for exactly that (and nothing is queued before), a new one otherwise,
 * bounded by JobMemory. A chunk that overruns its message aborts the job.
 */
uint8_t *job__chunk_begin(struct server *s, struct peer *from, const struct link_chunk *c)
{
	const char *why = NULL;
	char buf[192];
	uint8_t *dst = NULL;
	struct jqueue *q;
	struct job *j;
	int e;

	if (!(j = data_job(s, from, c->id, &e)))
		return NULL;
	pthread_mutex_lock(&j->mu);
	q = &j->q[e];
	if (j->aborted)
		goto out;
	if (!q->cur) {
		if (!c->total || c->total > SIZE_MAX) {
			why = "a message without its length";
		} else if (q->posted && !q->head && !q->posted_full && q->posted_len == c->total) {
			q->cur = q->posted;
			q->cur_posted = 1;
		} else if (j->buffered + c->total > j->srv->cfg->node.job_memory) {
			why = "over the job's memory bound (JobMemory)";
		} else if (!(q->cur = ring_alloc((size_t)c->total))) {
			why = "out of memory";
		} else {
			j->buffered += (size_t)c->total;
		}
		q->cur_len = (size_t)c->total;
		q->cur_off = 0;
	} else if (c->total) {
		why = "a message starts inside another";
	}
	if (!why && c->len > q->cur_len - q->cur_off)
		why = "a chunk overruns its message";
	if (!why && c->last && c->len != q->cur_len - q->cur_off)
		why = "a message ends short";
	if (!why) {
		dst = q->cur + q->cur_off;
		q->busy = q->cur_posted;
	}
out:
	pthread_mutex_unlock(&j->mu);
	if (why) {
		snprintf(buf, sizeof(buf), "%s: data from %s: %s", s->cfg->node.name,
			 from->cfg->name, why);
		job__abort(j, buf, 1);
	}
	return dst;
}

/* ok = 0: the chunk did not authenticate; the link is closing and that aborts the job. */
void job__chunk_end(struct server *s, struct peer *from, const struct link_chunk *c, int ok)
{
	struct jqueue *q;
	struct job *j;
	int e, fail = 0;

	if (!(j = data_job(s, from, c->id, &e)))
		return;
	pthread_mutex_lock(&j->mu);
	q = &j->q[e];
	q->busy = 0;
	if (ok && q->cur) {
		q->cur_off += c->len;
		if (c->last)
			fail = deliver(j, q);
	}
	pthread_cond_broadcast(&j->cv);
	pthread_mutex_unlock(&j->mu);
	if (fail)
		job__abort(j, "out of memory", 1);
}

/* A data header without a raw frame: only an empty message has none. */
void job__on_data(struct server *s, struct peer *from, const Mpcpb__JobData *d)
{
	struct jqueue *q;
	struct job *j;
	char why[160];
	int e, fail = 0;

	if (!(j = data_job(s, from, d->id, &e)))
		return;
	pthread_mutex_lock(&j->mu);
	q = &j->q[e];
	if (!d->last || d->total || q->cur) {
		fail = 1;
	} else if (!j->aborted) {
		q->cur = NULL;
		q->cur_posted = q->posted && !q->head && !q->posted_len;
		fail = deliver(j, q) ? 2 : 0;
	}
	pthread_mutex_unlock(&j->mu);
	if (fail) {
		snprintf(why, sizeof(why), "%s: data from %s: %s", s->cfg->node.name,
			 from->cfg->name, fail == 1 ? "a chunk without its bytes" : "out of memory");
		job__abort(j, why, 1);
	}
}

/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * The metrics endpoint's text (metrics.h): the Prometheus text exposition
 * format 0.0.4, and what this daemon exposes. Only reads what the lower
 * layers count (srv->stats, struct peer, struct job), on the loop thread;
 * metrics.c serves it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "job.h"
#include "metrics.h"

/* ---- the text format (exposition format 0.0.4) ---- */

static void put(struct metrics_buf *b, const char *s, size_t n)
{
	if (b->full)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		if (cap > METRICS_BODY_MAX || !(p = realloc(b->p, cap))) {
			b->full = 1;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void puts_(struct metrics_buf *b, const char *s)
{
	put(b, s, strlen(s));
}

void metrics_printf(struct metrics_buf *b, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		b->full = 1; /* never: numbers and names are short */
	else
		put(b, tmp, (size_t)n);
}

void metrics_buf_free(struct metrics_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

/* HELP text: backslash and newline escaped. */
void metrics_family(struct metrics_buf *b, const char *name, const char *type, const char *help)
{
	metrics_printf(b, "# HELP %s ", name);
	for (const char *c = help; *c; c++)
		if (*c == '\\')
			puts_(b, "\\\\");
		else if (*c == '\n')
			puts_(b, "\\n");
		else
			put(b, c, 1);
	metrics_printf(b, "\n# TYPE %s %s\n", name, type);
}

static void label(struct metrics_buf *b, int *first, const char *k, const char *v)
{
	puts_(b, *first ? "{" : ",");
	*first = 0;
	puts_(b, k);
	puts_(b, "=\"");
	for (const char *c = v; *c; c++)
		if (*c == '\\')
			puts_(b, "\\\\");
		else if (*c == '"')
			puts_(b, "\\\"");
		else if (*c == '\n')
			puts_(b, "\\n");
		else
			put(b, c, 1);
	puts_(b, "\"");
}

/* name{k="v",...}, and extra_k="extra_v" last when set (a bucket's le). */
static void series(struct metrics_buf *b, const char *name, const char *suffix,
		   const char *const *labels, const char *extra_k, const char *extra_v)
{
	int first = 1;

	puts_(b, name);
	puts_(b, suffix);
	for (size_t i = 0; labels && labels[i]; i += 2)
		label(b, &first, labels[i], labels[i + 1]);
	if (extra_k)
		label(b, &first, extra_k, extra_v);
	if (!first)
		puts_(b, "}");
}

void metrics_u64(struct metrics_buf *b, const char *name, const char *const *labels, uint64_t v)
{
	series(b, name, "", labels, NULL, NULL);
	metrics_printf(b, " %llu\n", (unsigned long long)v);
}

void metrics_f64(struct metrics_buf *b, const char *name, const char *const *labels, double v)
{
	series(b, name, "", labels, NULL, NULL);
	metrics_printf(b, " %.9g\n", v);
}

void metrics_hist(struct metrics_buf *b, const char *name, const char *const *labels,
		  const struct srv_hist *h)
{
	uint64_t cum = 0;
	char le[32];

	for (int i = 0; i < SRV_HIST_BUCKETS; i++) {
		cum += h->bucket[i];
		snprintf(le, sizeof(le), "%g", srv_hist_le[i]);
		series(b, name, "_bucket", labels, "le", le);
		metrics_printf(b, " %llu\n", (unsigned long long)cum);
	}
	series(b, name, "_bucket", labels, "le", "+Inf");
	metrics_printf(b, " %llu\n", (unsigned long long)h->count);
	series(b, name, "_sum", labels, NULL, NULL);
	metrics_printf(b, " %.9g\n", h->sum);
	series(b, name, "_count", labels, NULL, NULL);
	metrics_printf(b, " %llu\n", (unsigned long long)h->count);
}

/* ---- what this daemon exposes ---- */

static const char *const hs_reasons[SRV_HS_COUNT] = {
	[SRV_HS_OTHER] = "other",
	[SRV_HS_REFUSED] = "refused",
	[SRV_HS_RATE_LIMITED] = "rate_limited",
	[SRV_HS_MALFORMED] = "malformed",
	[SRV_HS_AUTH] = "auth",
	[SRV_HS_UNKNOWN_KEY] = "unknown_key",
	[SRV_HS_REPLAYED] = "replayed",
	[SRV_HS_HELLO] = "hello",
	[SRV_HS_TIMEOUT] = "timeout",
	[SRV_HS_CLOSED] = "closed",
};

static const char *const phases[NET_PH_COUNT] = {
	[NET_PH_SETUP] = "setup",   [NET_PH_OFFLINE] = "offline", [NET_PH_WEIGHTS] = "weights",
	[NET_PH_INPUT] = "input",   [NET_PH_ONLINE] = "online",   [NET_PH_OUTPUT] = "output",
};

/* The states job.h has: job_state_name names each; a later one would not be counted. */
#define N_STATES (JOB_ABORTED + 1)

static void render_jobs(struct server *s, struct metrics_buf *b)
{
	uint64_t by_state[N_STATES] = { 0 };
	const char *l[5];

	for (struct job *j = s->jobs; j; j = j->next) {
		pthread_mutex_lock(&j->mu);
		if ((unsigned)j->state < N_STATES)
			by_state[j->state]++;
		pthread_mutex_unlock(&j->mu);
	}
	metrics_family(b, "mpcd_jobs", "gauge",
		       "Jobs this node holds, by state (ended ones as long as JobHistory keeps them).");
	for (int st = 0; st < N_STATES; st++) {
		l[0] = "state", l[1] = job_state_name((enum job_state)st), l[2] = NULL;
		metrics_u64(b, "mpcd_jobs", l, by_state[st]);
	}
	metrics_family(b, "mpcd_jobs_ended_total", "counter",
		       "Jobs that ended on this node since it started, by final state.");
	l[0] = "state", l[1] = "finished", l[2] = NULL;
	metrics_u64(b, "mpcd_jobs_ended_total", l, s->stats.jobs_finished);
	l[1] = "aborted";
	metrics_u64(b, "mpcd_jobs_ended_total", l, s->stats.jobs_aborted);

	metrics_family(b, "mpcd_job_phase_duration_seconds", "histogram",
		       "Wall time of each phase of this node's part of a job, observed when its thread ends.");
	for (int ph = 0; ph < NET_PH_COUNT; ph++) {
		l[0] = "phase", l[1] = phases[ph], l[2] = NULL;
		metrics_hist(b, "mpcd_job_phase_duration_seconds", l, &s->stats.phase_secs[ph]);
	}
	metrics_family(b, "mpcd_job_phase_rounds_total", "counter",
		       "Communication rounds of this node's parts of jobs, by phase.");
	for (int ph = 0; ph < NET_PH_COUNT; ph++) {
		l[0] = "phase", l[1] = phases[ph], l[2] = NULL;
		metrics_u64(b, "mpcd_job_phase_rounds_total", l, s->stats.phase_rounds[ph]);
	}

	metrics_family(b, "mpcd_job_memory_limit_bytes", "gauge",
		       "JobMemory: the bound on each job's plan and on the bytes buffered for it.");
	metrics_u64(b, "mpcd_job_memory_limit_bytes", NULL, s->cfg->node.job_memory);
	metrics_family(b, "mpcd_job_memory_in_use_bytes", "gauge",
		       "A running job's plan (correlated randomness and buffers) and the bytes "
		       "buffered from its peers, checked against JobMemory.");
	for (struct job *j = s->jobs; j; j = j->next) {
		uint64_t used;
		int running;

		pthread_mutex_lock(&j->mu);
		running = j->state == JOB_RUNNING;
		used = j->plan_bytes + j->buffered;
		pthread_mutex_unlock(&j->mu);
		if (!running)
			continue;
		l[0] = "job", l[1] = j->id, l[2] = NULL;
		metrics_u64(b, "mpcd_job_memory_in_use_bytes", l, used);
	}
}

static void render_peers(struct server *s, struct metrics_buf *b)
{
	static const struct {
		const char *name, *type, *help;
	} fam[] = {
		{ "mpcd_peer_link_up", "gauge", "1 while the authenticated link to the peer is up." },
		{ "mpcd_peer_sent_bytes_total", "counter",
		  "Bytes sent to the peer on its links (sealed frames, headers included)." },
		{ "mpcd_peer_received_bytes_total", "counter",
		  "Bytes received from the peer on its links (sealed frames, headers included)." },
		{ "mpcd_peer_sent_messages_total", "counter",
		  "Jobs' protocol messages sent to the peer: one per round that sends it one." },
		{ "mpcd_peer_received_messages_total", "counter",
		  "Jobs' protocol messages received from the peer: one per round that sends one." },
	};

	for (size_t f = 0; f < sizeof(fam) / sizeof(fam[0]); f++) {
		metrics_family(b, fam[f].name, fam[f].type, fam[f].help);
		for (size_t i = 0; i < s->n_peers; i++) {
			struct peer *p = &s->peers[i];
			const char *l[] = { "peer", p->cfg->name, NULL };
			uint64_t v[5];

			pthread_mutex_lock(&p->mu);
			v[0] = p->link != NULL;
			v[1] = p->bytes_sent;
			v[3] = p->msgs_sent;
			pthread_mutex_unlock(&p->mu);
			v[2] = p->bytes_recv;
			v[4] = p->msgs_recv;
			metrics_u64(b, fam[f].name, l, v[f]);
		}
	}
	metrics_family(b, "mpcd_handshake_failures_total", "counter",
		       "Links that failed before they were up, by reason.");
	for (int r = 0; r < SRV_HS_COUNT; r++) {
		const char *l[] = { "reason", hs_reasons[r], NULL };

		metrics_u64(b, "mpcd_handshake_failures_total", l, s->stats.hs_fail[r]);
	}
}

void metrics_render(struct server *s, struct metrics_buf *b)
{
	const char *l[] = { "node", s->cfg->node.name, "role", cfg_role_name(s->cfg->node.role),
			    NULL };

	metrics_family(b, "mpcd_node_info", "gauge", "This daemon: its node name and role.");
	metrics_u64(b, "mpcd_node_info", l, 1);
	render_jobs(s, b);
	render_peers(s, b);
}

/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * The server's own helpers: the clock, peers by name, waking the loop.
 * The lowest daemon module: links, jobs and the control socket use it.
 */
#include <string.h>

#include "server.h"

double srv_now(struct server *s)
{
	return (double)uv_now(s->loop) / 1000.0;
}

struct peer *srv_peer_by_name(struct server *s, const char *name)
{
	for (size_t i = 0; i < s->n_peers; i++)
		if (!s->peers[i].removed && !strcmp(s->peers[i].cfg->name, name))
			return &s->peers[i];
	return NULL;
}

void srv_wake(struct server *s)
{
	uv_async_send(&s->wake);
}

/* From 10 ms (a small job's phase) to an hour (a large one's). */
const double srv_hist_le[SRV_HIST_BUCKETS] = { 0.01, 0.05, 0.1, 0.25, 0.5, 1,
					       2.5, 5, 10, 60, 600, 3600 };

void srv_hist_observe(struct srv_hist *h, double v)
{
	for (int i = 0; i < SRV_HIST_BUCKETS; i++)
		if (v <= srv_hist_le[i]) {
			h->bucket[i]++;
			break;
		}
	h->count++;
	h->sum += v;
}

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

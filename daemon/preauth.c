/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * Pre-authentication limits (preauth.h): token buckets per source and
 * for all unknown sources, caps on unauthenticated connections, and the
 * fd budget they are sized from.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "log.h"
#include "mpc.h"
#include "preauth.h"
#include "server.h"

#define TABLE_SLOTS 1024 /* unknown sources tracked at once */
#define PROBES 8         /* slots an address may use: h, h+1, ... */

struct bucket {
	double tokens, last;
};

struct src {
	uint8_t key[16];
	int used;
	uint32_t conns;        /* unauthenticated connections open */
	struct bucket b;
};

struct known {
	uint8_t ep[16], seen[16];
	int has_ep, has_seen;
	struct bucket b;
};

struct preauth {
	uint8_t hkey[crypto_shorthash_KEYBYTES];
	struct bucket all;     /* every unknown source together */
	struct known *known;   /* one per peer, s->peers order */
	uint32_t known_conns, known_max;
	uint32_t unknown_conns, unknown_max;
	struct src table[TABLE_SLOTS];
};

/* IPv4 as ::ffff:a.b.c.d, IPv6 by its /64: one host, one key. */
static int addr_key(const struct sockaddr *sa, uint8_t key[static 16], char *from, size_t len)
{
	memset(key, 0, 16);
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;

		key[10] = key[11] = 0xff;
		memcpy(key + 12, &s4->sin_addr, 4);
		inet_ntop(AF_INET, &s4->sin_addr, from, (socklen_t)len);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
		static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

		if (!memcmp(s6->sin6_addr.s6_addr, v4mapped, 12)) {
			memcpy(key, s6->sin6_addr.s6_addr, 16);
			inet_ntop(AF_INET, s6->sin6_addr.s6_addr + 12, from, (socklen_t)len);
		} else {
			memcpy(key, s6->sin6_addr.s6_addr, 8);
			inet_ntop(AF_INET6, &s6->sin6_addr, from, (socklen_t)len);
		}
		return 0;
	}
	snprintf(from, len, "?");
	return -1;
}

static int bucket_take(struct bucket *b, double now, double rate, double burst)
{
	b->tokens += (now - b->last) * rate;
	if (b->tokens > burst)
		b->tokens = burst;
	b->last = now;
	if (b->tokens < 1.0)
		return 0;
	b->tokens -= 1.0;
	return 1;
}

/* A source whose bucket is full again and holds nothing may be reused. */
static int src_idle(const struct src *e, double now)
{
	return !e->used || (e->conns == 0 && now - e->b.last >= PA_SRC_BURST / PA_SRC_RATE);
}

static int find_known(const struct server *s, const uint8_t key[static 16])
{
	const struct preauth *pa = s->preauth;

	for (size_t i = 0; i < s->n_peers; i++)
		if ((pa->known[i].has_ep && !memcmp(pa->known[i].ep, key, 16)) ||
		    (pa->known[i].has_seen && !memcmp(pa->known[i].seen, key, 16)))
			return (int)i;
	return -1;
}

/* The entry of an unknown source, taking an idle one; -1: the table is full there. */
static int find_src(struct preauth *pa, const uint8_t key[static 16], double now)
{
	uint64_t h;
	int spare = -1;

	crypto_shorthash((uint8_t *)&h, key, 16, pa->hkey);
	for (int i = 0; i < PROBES; i++) {
		int at = (int)((h + (uint64_t)i) % TABLE_SLOTS);
		struct src *e = &pa->table[at];

		if (e->used && !memcmp(e->key, key, 16))
			return at;
		if (spare < 0 && src_idle(e, now))
			spare = at;
	}
	if (spare >= 0) {
		struct src *e = &pa->table[spare];

		memcpy(e->key, key, 16);
		e->used = 1;
		e->conns = 0;
		e->b.tokens = PA_SRC_BURST;
		e->b.last = now;
	}
	return spare;
}

int preauth_accept(struct server *s, const struct sockaddr *sa, struct pa_ticket *t,
		   char *why, size_t len)
{
	struct preauth *pa = s->preauth;
	int i;

	memset(t, 0, sizeof(*t));
	if (addr_key(sa, t->key, t->from, sizeof(t->from)) != 0) {
		snprintf(why, len, "not an IP address");
		return -1;
	}
	if ((i = find_known(s, t->key)) >= 0) {
		if (pa->known_conns >= pa->known_max) {
			snprintf(why, len, "%u unauthenticated connections from peers' addresses",
				 pa->known_conns);
			return -1;
		}
		pa->known_conns++;
		t->kind = PA_KNOWN;
		t->idx = (uint32_t)i;
		return 0;
	}
	if (pa->unknown_conns >= pa->unknown_max) {
		snprintf(why, len, "%u unauthenticated connections (the limit)", pa->unknown_conns);
		return -1;
	}
	if ((i = find_src(pa, t->key, srv_now(s))) < 0) {
		snprintf(why, len, "too many sources at once");
		return -1;
	}
	if (pa->table[i].conns >= PA_SRC_CONNS) {
		snprintf(why, len, "%d unauthenticated connections from it", PA_SRC_CONNS);
		return -1;
	}
	pa->table[i].conns++;
	pa->unknown_conns++;
	t->kind = PA_UNKNOWN;
	t->idx = (uint32_t)i;
	return 0;
}

int preauth_handshake(struct server *s, const struct pa_ticket *t)
{
	struct preauth *pa = s->preauth;
	double now = srv_now(s);

	if (t->kind == PA_KNOWN)
		return bucket_take(&pa->known[t->idx].b, now, PA_SRC_RATE, PA_SRC_BURST);
	if (t->kind != PA_UNKNOWN)
		return 0;
	/* The source's own bucket first: one noisy source spends only its own. */
	return bucket_take(&pa->table[t->idx].b, now, PA_SRC_RATE, PA_SRC_BURST) &&
	       bucket_take(&pa->all, now, PA_ALL_RATE, PA_ALL_BURST);
}

void preauth_done(struct server *s, struct pa_ticket *t, struct peer *p)
{
	struct preauth *pa = s->preauth;

	if (t->kind == PA_KNOWN && pa->known_conns)
		pa->known_conns--;
	if (t->kind == PA_UNKNOWN) {
		if (pa->table[t->idx].conns)
			pa->table[t->idx].conns--;
		if (pa->unknown_conns)
			pa->unknown_conns--;
	}
	if (t->kind != PA_NONE && p) {
		struct known *k = &pa->known[p - s->peers];

		memcpy(k->seen, t->key, 16);
		k->has_seen = 1;
	}
	t->kind = PA_NONE;
}

struct peer *preauth_peer_at(struct server *s, const struct pa_ticket *t)
{
	const struct preauth *pa = s->preauth;
	struct peer *hit = NULL;

	for (size_t i = 0; i < s->n_peers; i++) {
		const struct known *k = &pa->known[i];

		if (s->peers[i].link || !((k->has_ep && !memcmp(k->ep, t->key, 16)) ||
					  (k->has_seen && !memcmp(k->seen, t->key, 16))))
			continue;
		if (hit)
			return NULL;
		hit = &s->peers[i];
	}
	if (hit)
		return hit;
	/* No address matches: the one peer down whose address we never learnt (no Endpoint). */
	for (size_t i = 0; i < s->n_peers; i++) {
		if (s->peers[i].link || pa->known[i].has_ep || pa->known[i].has_seen)
			continue;
		if (hit)
			return NULL;
		hit = &s->peers[i];
	}
	return hit;
}

void preauth_endpoint(struct server *s, struct peer *p, const struct sockaddr *sa)
{
	struct known *k = &s->preauth->known[p - s->peers];
	char from[48];

	k->has_ep = addr_key(sa, k->ep, from, sizeof(from)) == 0;
}

int preauth_init(struct server *s)
{
	struct preauth *pa = calloc(1, sizeof(*pa));
	const struct cfg_node *n = &s->cfg->node;
	struct rlimit rl;
	uint64_t fixed, have, room;
	uint32_t known_max = 2 * (uint32_t)s->n_peers + 8;

	/* A slot for every peer a reload may add too (server.h). */
	if (s->peers_cap < s->n_peers)
		s->peers_cap = s->n_peers;
	if (!pa || !(pa->known = calloc(s->peers_cap + 1, sizeof(*pa->known)))) {
		free(pa);
		return mpc_fail(MPC_E_NOMEM, "pre-authentication limits: out of memory");
	}
	s->preauth = pa;
	crypto_shorthash_keygen(pa->hkey);
	pa->all.tokens = PA_ALL_BURST;
	for (size_t i = 0; i < s->peers_cap; i++)
		pa->known[i].b.tokens = PA_SRC_BURST;
	/* Each peer: a link up and one being dialled; then the pre-auth pool of its addresses. */
	fixed = PA_FD_BASE + 2 * (uint64_t)s->n_peers + known_max + 2 * SRV_CTL_MAX +
		PA_FD_PER_JOB * (uint64_t)n->max_jobs;
	/* The metrics endpoint: its listener, its scrapes and one being refused. */
	if (n->metrics_listen.set)
		fixed += SRV_METRICS_MAX + 2;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return mpc_fail(MPC_E_IO, "RLIMIT_NOFILE: cannot read it");
	have = rl.rlim_cur;
	if (have < fixed + 2 * PA_UNKNOWN_MIN && rl.rlim_cur < rl.rlim_max) {
		/* Raise the soft limit as far as the budget wants, within the hard one. */
		uint64_t want = fixed + 2 * PA_UNKNOWN_CAP;

		rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || want < rl.rlim_max ? want : rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
			have = rl.rlim_cur;
	}
	if (have < fixed + 2 * PA_UNKNOWN_MIN)
		return mpc_fail(MPC_E_RANGE,
				"file descriptors: RLIMIT_NOFILE is %llu, and %zu peers, MaxJobs %u "
				"and %d control connections need %llu, plus %d for unauthenticated "
				"connections: raise LimitNOFILE to %llu or more",
				(unsigned long long)have, s->n_peers, n->max_jobs, 2 * SRV_CTL_MAX,
				(unsigned long long)fixed, 2 * PA_UNKNOWN_MIN,
				(unsigned long long)(fixed + 2 * PA_UNKNOWN_MIN));
	/* Half of what is left: the other half is headroom (libuv, the resolver, a slow close). */
	room = (have - fixed) / 2;
	pa->unknown_max = room > PA_UNKNOWN_CAP ? PA_UNKNOWN_CAP : (uint32_t)room;
	pa->known_max = known_max;
	log_info("file descriptors: RLIMIT_NOFILE %llu; %llu for peers, jobs and control; "
		 "unauthenticated connections: %u from peers' addresses, %u from others",
		 (unsigned long long)have, (unsigned long long)fixed, pa->known_max,
		 pa->unknown_max);
	return 0;
}

void preauth_free(struct server *s)
{
	if (s->preauth) {
		free(s->preauth->known);
		free(s->preauth);
		s->preauth = NULL;
	}
}

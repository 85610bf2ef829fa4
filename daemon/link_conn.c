/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * Making links: dialing configured endpoints with back-off, accepting
 * connections, and the per-second checks (handshake and idle timeouts,
 * rekeys, heartbeats, redials).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "link-int.h"
#include "log.h"

static uint64_t wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static struct link *link_new(struct server *s, int initiator)
{
	struct link *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	l->kind = SRV_TCP_LINK;
	l->srv = s;
	l->initiator = initiator;
	l->t_start = l->t_rx = l->t_tx = srv_now(s);
	l->state = LK_HS;
	uv_tcp_init(s->loop, &l->tcp);
	l->tcp.data = l;
	return l;
}

static void on_connect(uv_connect_t *req, int status)
{
	struct link *l = req->data;
	struct server *s = l->srv;
	uint8_t out[1 + CHAN_HS1_BYTES];

	if (l->state == LK_CLOSING)
		return;
	if (status < 0) {
		link__close(l, uv_strerror(status));
		return;
	}
	l->hs.cipher = link__cipher(s);
	out[0] = l->hs.cipher == CHAN_AESGCM ? HS1_AES_TYPE : HS1_TYPE;
	if (chan_hs_create_init(&l->hs, s->priv, s->pub, l->peer->cfg->pub, wall_ns(), out + 1)) {
		link__close(l, "handshake failed");
		return;
	}
	l->state = LK_HS;
	uv_tcp_nodelay(&l->tcp, 1);
	uv_read_start((uv_stream_t *)&l->tcp, link__on_alloc, link__on_read);
	link__write_raw(l, out, sizeof(out));
}

static void on_resolved(uv_getaddrinfo_t *g, int status, struct addrinfo *res)
{
	struct link *l = g->data;
	int r;

	if (status < 0 || !res) {
		link__close(l, status < 0 ? uv_strerror(status) : "no address");
		if (res)
			uv_freeaddrinfo(res);
		return;
	}
	/* Its address is known: its handshakes never wait behind strangers'. */
	preauth_endpoint(l->srv, l->peer, res->ai_addr);
	l->creq.data = l;
	l->state = LK_CONNECT;
	r = uv_tcp_connect(&l->creq, &l->tcp, res->ai_addr, on_connect);
	uv_freeaddrinfo(res);
	if (r < 0)
		link__close(l, uv_strerror(r));
}

static void dial(struct peer *p)
{
	struct server *s = p->srv;
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	char port[8];
	struct link *l = link_new(s, 1);

	if (!l)
		return;
	l->peer = p;
	p->dialing = l;
	l->gai.data = l;
	snprintf(port, sizeof(port), "%u", p->cfg->endpoint.port);
	if (uv_getaddrinfo(s->loop, &l->gai, on_resolved, p->cfg->endpoint.host, port, &hints) < 0)
		link__close(l, "cannot resolve endpoint");
}

void link_start_dials(struct server *s)
{
	for (size_t i = 0; i < s->n_peers; i++) {
		s->peers[i].backoff = 1;
		s->peers[i].next_dial = srv_now(s);
	}
	link_cron(s);
}

static void on_connection(uv_stream_t *server, int status)
{
	struct server *s = server->data;
	struct sockaddr_storage ss;
	int len = sizeof(ss), r;
	struct link *l;
	char why[96];

	if (status < 0) {
		/* libuv accepted and closed the connection (out of descriptors). */
		log_warn_rl("accepting a connection: %s", uv_strerror(status));
		s->stats.hs_fail[SRV_HS_REFUSED]++;
		return;
	}
	if (s->stopping || !(l = link_new(s, 0)))
		return;
	if (uv_accept(server, (uv_stream_t *)&l->tcp) < 0) {
		link__close(l, "accept failed");
		return;
	}
	if ((r = uv_tcp_getpeername(&l->tcp, (struct sockaddr *)&ss, &len)) < 0)
		snprintf(why, sizeof(why), "%s", uv_strerror(r));
	if (r < 0 || preauth_accept(s, (struct sockaddr *)&ss, &l->pa, why, sizeof(why)) != 0) {
		log_warn_rl("refused a connection from %s: %s", l->pa.from[0] ? l->pa.from : "?", why);
		l->fail = SRV_HS_REFUSED;
		link__close(l, NULL);
		return;
	}
	uv_tcp_nodelay(&l->tcp, 1);
	uv_read_start((uv_stream_t *)&l->tcp, link__on_alloc, link__on_read);
}

int link_listen(struct server *s)
{
	const struct cfg_endpoint *ep = &s->cfg->node.listen;
	struct sockaddr_storage ss;
	int r;

	if (ep->family == AF_INET6)
		r = uv_ip6_addr(ep->host, ep->port, (struct sockaddr_in6 *)&ss);
	else
		r = uv_ip4_addr(ep->host, ep->port, (struct sockaddr_in *)&ss);
	if (r < 0)
		return mpc_fail(MPC_E_ARG, "Listen %s:%u: not a numeric address", ep->host, ep->port);
	uv_tcp_init(s->loop, &s->listener);
	s->listener.data = s;
	if ((r = uv_tcp_bind(&s->listener, (struct sockaddr *)&ss, 0)) < 0 ||
	    (r = uv_listen((uv_stream_t *)&s->listener, 64, on_connection)) < 0)
		return mpc_fail(MPC_E_IO, "Listen %s:%u: %s", ep->host, ep->port, uv_strerror(r));
	return 0;
}

/* Links not yet up (either direction) get HandshakeTimeout seconds. */
static void walk_handshakes(uv_handle_t *h, void *arg)
{
	struct server *s = arg;
	struct link *l = link__of(h, s);

	if (!l || uv_is_closing(h))
		return;
	if (l->state != LK_UP && l->state != LK_CLOSING &&
	    srv_now(s) - l->t_start > s->cfg->node.handshake_timeout) {
		l->fail = SRV_HS_TIMEOUT;
		link__close(l, "handshake timed out");
	}
}

/* Every second: handshake and idle timeouts, rekeys (link_rekey.c), heartbeats, redials. */
void link_cron(struct server *s)
{
	double now = srv_now(s), idle = s->cfg->node.idle_timeout;

	log_limit_flush(0);
	if (!s->stopping)
		uv_walk(s->loop, walk_handshakes, s);
	for (size_t i = 0; i < s->n_peers && !s->stopping; i++) {
		struct peer *p = &s->peers[i];
		struct link *l = p->link;

		if (l && now - l->t_rx > idle)
			link__close(l, "peer timed out");
		else if (l)
			link__rekey_check(l, now);
		/* p->link == l: still up (expired keys close it) */
		if (l && p->link == l && now - l->t_tx > idle / 3) {
			Mpcpb__Frame f = MPCPB__FRAME__INIT;
			Mpcpb__Ping ping = MPCPB__PING__INIT;

			ping.nonce = (uint64_t)now;
			f.msg_case = MPCPB__FRAME__MSG_PING;
			f.ping = &ping;
			(void)peer_send(p, &f);
		}
		if (!p->link && !p->dialing && p->cfg->endpoint.set && now >= p->next_dial)
			dial(p);
	}
}

void link_drop(struct peer *p, const char *why)
{
	if (p->link)
		link__close(p->link, why);
	if (p->dialing)
		link__close(p->dialing, why);
	/* The new Endpoint (or key) is tried at once, not after a back-off. */
	p->backoff = 1;
	p->next_dial = srv_now(p->srv);
}

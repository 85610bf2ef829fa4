/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
#include "net_local.h"
#include "ring.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct msg {
	struct msg *next;
	size_t len;
	uint8_t *data; /* ring_alloc'd: large messages reuse cached mappings */
};

struct queue {
	struct msg *head, *tail;
};

struct endpoint {
	struct net_local *hub;
	int me;
};

struct net_local {
	int n;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int aborted;
	char reason[256];
	struct queue *q;  /* n * n, q[from * n + to] */
	struct endpoint *ep;
};

static const struct net_ops local_ops;

static void msg_free(struct msg *m)
{
	ring_free(m->data, m->len);
	free(m);
}

int net_local_new(int endpoints, struct net_local **out)
{
	struct net_local *h = NULL;

	*out = NULL;
	if (endpoints < 1 || endpoints > 64)
		return mpc_fail(MPC_E_ARG, "net_local: %d endpoints", endpoints);
	h = calloc(1, sizeof(*h));
	if (!h)
		return MPC_E_NOMEM;
	h->n = endpoints;
	h->q = calloc((size_t)endpoints * (size_t)endpoints, sizeof(*h->q));
	h->ep = calloc((size_t)endpoints, sizeof(*h->ep));
	if (!h->q || !h->ep) {
		free(h->q);
		free(h->ep);
		free(h);
		return MPC_E_NOMEM;
	}
	for (int i = 0; i < endpoints; i++) {
		h->ep[i].hub = h;
		h->ep[i].me = i;
	}
	pthread_mutex_init(&h->mu, NULL);
	pthread_cond_init(&h->cv, NULL);
	*out = h;
	return 0;
}

void net_local_free(struct net_local *h)
{
	if (!h)
		return;
	for (int i = 0; i < h->n * h->n; i++) {
		struct msg *m = h->q[i].head;

		while (m) {
			struct msg *nx = m->next;

			msg_free(m);
			m = nx;
		}
	}
	pthread_mutex_destroy(&h->mu);
	pthread_cond_destroy(&h->cv);
	free(h->q);
	free(h->ep);
	free(h);
}

void net_local_bind(struct net_local *h, int me, int n_parties, struct net *nt)
{
	memset(nt, 0, sizeof(*nt));
	nt->n_parties = n_parties;
	nt->me = me;
	nt->ops = &local_ops;
	nt->ctx = &h->ep[me];
}

void net_local_abort(struct net_local *h, int err, const char *why)
{
	pthread_mutex_lock(&h->mu);
	if (!h->aborted) {
		h->aborted = err ? err : MPC_E_ABORTED;
		snprintf(h->reason, sizeof(h->reason), "%s", why ? why : "aborted");
	}
	pthread_cond_broadcast(&h->cv);
	pthread_mutex_unlock(&h->mu);
}

const char *net_local_reason(struct net_local *h)
{
	return h->aborted ? h->reason : NULL;
}

static int local_send(void *ctx, int to, const void *buf, size_t len)
{
	struct endpoint *ep = ctx;
	struct net_local *h = ep->hub;
	struct msg *m;
	struct queue *q;

	if (to < 0 || to >= h->n || to == ep->me)
		mpc_bug("net_local: bad destination");
	m = malloc(sizeof(*m));
	if (!m)
		return MPC_E_NOMEM;
	if (!(m->data = ring_alloc(len))) {
		free(m);
		return MPC_E_NOMEM;
	}
	m->next = NULL;
	m->len = len;
	if (len)
		memcpy(m->data, buf, len);
	pthread_mutex_lock(&h->mu);
	if (h->aborted) {
		pthread_mutex_unlock(&h->mu);
		msg_free(m);
		return mpc_fail(MPC_E_ABORTED, "%s", h->reason);
	}
	q = &h->q[ep->me * h->n + to];
	if (q->tail)
		q->tail->next = m;
	else
		q->head = m;
	q->tail = m;
	pthread_cond_broadcast(&h->cv);
	pthread_mutex_unlock(&h->mu);
	return 0;
}

static int local_recv(void *ctx, int from, void *buf, size_t len)
{
	struct endpoint *ep = ctx;
	struct net_local *h = ep->hub;
	struct queue *q;
	struct msg *m;
	int ret = 0;

	if (from < 0 || from >= h->n || from == ep->me)
		mpc_bug("net_local: bad source");
	q = &h->q[from * h->n + ep->me];
	pthread_mutex_lock(&h->mu);
	while (!q->head && !h->aborted)
		pthread_cond_wait(&h->cv, &h->mu);
	if (h->aborted) {
		ret = mpc_fail(MPC_E_ABORTED, "%s", h->reason);
		pthread_mutex_unlock(&h->mu);
		return ret;
	}
	m = q->head;
	q->head = m->next;
	if (!q->head)
		q->tail = NULL;
	pthread_mutex_unlock(&h->mu);
	if (m->len != len)
		ret = mpc_fail(MPC_E_FORMAT, "party %d sent %zu bytes where %zu were expected",
			       from, m->len, len);
	else if (len)
		memcpy(buf, m->data, len);
	msg_free(m);
	return ret;
}

static const struct net_ops local_ops = {
	.send = local_send,
	.recv = local_recv,
};

/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
#include "net.h"

#include <time.h>

double net_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void net_set_phase(struct net *nt, enum net_phase ph)
{
	double now = net_now();

	if (nt->phase_t0 > 0)
		nt->st[nt->phase].secs += now - nt->phase_t0;
	nt->phase_t0 = now;
	nt->phase = ph;
	if (nt->on_phase)
		nt->on_phase(nt->on_phase_arg, ph);
}

void net_clock_stop(struct net *nt)
{
	net_set_phase(nt, nt->phase);
	nt->phase_t0 = 0;
}

const char *net_phase_name(enum net_phase ph)
{
	static const char *names[] = { "setup", "offline", "weights", "input", "online", "output" };

	return (unsigned)ph < NET_PH_COUNT ? names[ph] : "?";
}

int net_send(struct net *nt, int to, const void *buf, size_t len)
{
	int ret = nt->ops->send(nt->ctx, to, buf, len);

	if (!ret) {
		nt->st[nt->phase].bytes_sent += len;
		nt->st[nt->phase].msgs_sent++;
	}
	return ret;
}

int net_recv(struct net *nt, int from, void *buf, size_t len)
{
	int ret = nt->ops->recv(nt->ctx, from, buf, len);

	if (!ret)
		nt->st[nt->phase].bytes_recv += len;
	return ret;
}

/*
 * The first message from each peer is posted before this party sends, so
 * that it can be received in place while the sends are sealed.
 */
int net_exchange_v(struct net *nt, int k, const void *const *mine, void *const *theirs,
		   const size_t *len)
{
	int ret = 0, posted = nt->ops->post && k > 0;

	for (int p = 0; p < nt->n_parties && posted; p++)
		if (p != nt->me)
			nt->ops->post(nt->ctx, p, (uint8_t *)theirs[0] + (size_t)p * len[0],
				      len[0]);
	for (int p = 0; p < nt->n_parties && !ret; p++)
		for (int i = 0; i < k && p != nt->me && !ret; i++)
			ret = net_send(nt, p, mine[i], len[i]);
	for (int p = 0; p < nt->n_parties && !ret; p++)
		for (int i = 0; i < k && p != nt->me && !ret; i++)
			ret = net_recv(nt, p, (uint8_t *)theirs[i] + (size_t)p * len[i], len[i]);
	if (ret) {
		for (int p = 0; p < nt->n_parties && posted; p++)
			if (p != nt->me)
				nt->ops->unpost(nt->ctx, p);
		return ret;
	}
	nt->st[nt->phase].rounds++;
	return 0;
}

int net_exchange(struct net *nt, const void *mine, void *theirs, size_t len)
{
	return net_exchange_v(nt, 1, &mine, &theirs, &len);
}

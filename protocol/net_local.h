/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
#ifndef MPC_NET_LOCAL_H
#define MPC_NET_LOCAL_H

#include "net.h"

/*
 * In-process network: one hub, one thread per endpoint, unbounded FIFO per
 * ordered pair. Used by `mpcctl simulate`, the protocol tests and the
 * in-process benchmarks. Messages are copied, so each thread owns its
 * buffers exactly as over a socket.
 */
struct net_local;

int net_local_new(int endpoints, struct net_local **out) MPC_MUST_CHECK;
void net_local_free(struct net_local *h);
/* Fill nt to act as endpoint `me` of h, with n_parties compute parties. */
void net_local_bind(struct net_local *h, int me, int n_parties, struct net *nt);
/*
 * Abort every pending and later recv with err; the first reason sticks and
 * is what net_local_reason() returns.
 */
void net_local_abort(struct net_local *h, int err, const char *why);
const char *net_local_reason(struct net_local *h);

#endif

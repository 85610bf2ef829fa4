/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
#ifndef MPC_NET_H
#define MPC_NET_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/*
 * The protocol layer's only view of the network: messages to and from
 * numbered endpoints (compute parties 0..n-1, then the dealer if any), with
 * bytes, messages and rounds counted per named phase. Implementations:
 * in-process (net_local.c, threads and queues) and the daemon's.
 *
 * Read this when implementing net_ops: send must not block on the peer
 * reading (queue it); recv returns the next message from that endpoint,
 * which must be exactly len bytes long (MPC_E_FORMAT otherwise: the
 * parties disagree on the protocol); any failure of the job makes every
 * pending and later call return MPC_E_ABORTED or MPC_E_PEER_GONE.
 */
struct net_ops {
	int (*send)(void *ctx, int to, const void *buf, size_t len);
	int (*recv)(void *ctx, int from, void *buf, size_t len);
	/*
	 * Optional: the next message from `from` will be received into buf
	 * (recv with the same buf and len follows), so it may land there
	 * while this party is still sending; unpost withdraws that on an
	 * error path, before buf is freed.
	 */
	void (*post)(void *ctx, int from, void *buf, size_t len);
	void (*unpost)(void *ctx, int from);
};

enum net_phase {
	NET_PH_SETUP,   /* seeds: pairwise and dealer */
	NET_PH_OFFLINE, /* correlated randomness */
	NET_PH_WEIGHTS, /* the weights' masked values, opened before any data */
	NET_PH_INPUT,   /* sharing inputs and weights */
	NET_PH_ONLINE,  /* evaluation, layer by layer */
	NET_PH_OUTPUT,  /* reveal to the recipients and their result files */
	NET_PH_COUNT
};

struct net_stats {
	uint64_t bytes_sent;
	uint64_t bytes_recv;
	uint64_t msgs_sent;
	uint64_t rounds;
	double secs; /* wall time spent in the phase */
};

struct net {
	int n_parties; /* compute parties */
	int me;        /* my endpoint; n_parties is the dealer */
	const struct net_ops *ops;
	void *ctx;
	enum net_phase phase;
	struct net_stats st[NET_PH_COUNT];
	double phase_t0; /* when the current phase began */
	/* Optional: told of every phase entered (a daemon's progress for `mpcctl wait`). */
	void (*on_phase)(void *arg, enum net_phase ph);
	void *on_phase_arg;
};

const char *net_phase_name(enum net_phase ph);
/* Monotonic seconds. */
double net_now(void);
/* Enter a phase: the time since the last call is charged to the old one. */
void net_set_phase(struct net *nt, enum net_phase ph);
/* Charge the time so far to the current phase and none after (until the next phase). */
void net_clock_stop(struct net *nt);

int net_send(struct net *nt, int to, const void *buf, size_t len) MPC_MUST_CHECK;
int net_recv(struct net *nt, int from, void *buf, size_t len) MPC_MUST_CHECK;

/*
 * One round among the compute parties: send `len` bytes of `mine` to every
 * other party, receive `len` bytes from each into theirs + peer * len
 * (theirs[me * len] is left untouched).
 */
int net_exchange(struct net *nt, const void *mine, void *theirs, size_t len) MPC_MUST_CHECK;
/* The same for k buffers at once, each its own message: still one round. */
int net_exchange_v(struct net *nt, int k, const void *const *mine, void *const *theirs,
		   const size_t *len) MPC_MUST_CHECK;

#endif

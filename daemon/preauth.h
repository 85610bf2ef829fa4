/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
#ifndef MPC_PREAUTH_H
#define MPC_PREAUTH_H

/*
 * Limits on what anyone who can reach the listening port may cost before
 * authenticating (docs/daemon.md, "Pre-authentication limits"), in the
 * manner of WireGuard's ratelimiter.c:
 *
 *  - sources are addresses (IPv4 /32, IPv6 /64). A source is "known" when
 *    it is a configured peer's Endpoint (as resolved when dialled) or the
 *    address a peer last authenticated from; every other source is
 *    "unknown" and lives in a fixed-size hashed table (keyed SipHash,
 *    entries reused once idle);
 *  - message 1 (two X25519 operations) is allowed PA_SRC_RATE a second per
 *    source (bursts of PA_SRC_BURST), and for unknown sources also within
 *    one global bucket (PA_ALL_RATE, PA_ALL_BURST): a flood from anywhere
 *    cannot starve the peers' known addresses;
 *  - unauthenticated connections: at most PA_SRC_CONNS per unknown source
 *    and unknown_max from all unknown sources (from RLIMIT_NOFILE), and a
 *    separate pool of 2 per peer + 8 for the known addresses.
 *
 * Loop thread only. A peer sharing its address with an attacker (one NAT)
 * shares its bucket: addresses are all the responder sees before the DH.
 */
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct server;
struct peer;

#define PA_SRC_RATE 10.0
#define PA_SRC_BURST 20.0
#define PA_ALL_RATE 20.0
#define PA_ALL_BURST 40.0
#define PA_SRC_CONNS 8
#define PA_UNKNOWN_CAP 256     /* unknown_max never exceeds it */
#define PA_UNKNOWN_MIN 8       /* fewer left by RLIMIT_NOFILE: refuse to start */
#define PA_FD_BASE 24          /* stdio, epoll, signal pipe, async, listeners, audit, resolver */
#define PA_FD_PER_JOB 4        /* a dataset or model read, a result and its directory */

enum pa_kind { PA_NONE = 0, PA_KNOWN, PA_UNKNOWN };

/* What an accepted connection holds until it authenticates or closes. */
struct pa_ticket {
	enum pa_kind kind;
	uint32_t idx;          /* known: the peer's slot; unknown: the table entry */
	uint8_t key[16];       /* the source */
	char from[48];         /* the source address, printable */
};

/*
 * The fd budget, checked once at start: what the peers, MaxJobs and the
 * control socket need, and the rest (half of it, at most PA_UNKNOWN_CAP)
 * for unauthenticated connections. Raises the soft RLIMIT_NOFILE up to
 * the hard one when needed; MPC_E_RANGE with the numbers when it cannot.
 */
int preauth_init(struct server *s);
void preauth_free(struct server *s);
/* A new incoming connection from sa: 0 (t filled) or -1 with why. */
int preauth_accept(struct server *s, const struct sockaddr *sa, struct pa_ticket *t,
		   char *why, size_t len);
/* May this connection's message 1 be answered (costs a token)? */
int preauth_handshake(struct server *s, const struct pa_ticket *t);
/* The connection authenticated as p (learns its address) or closed. */
void preauth_done(struct server *s, struct pa_ticket *t, struct peer *p);
/*
 * The one peer without a link up whose known address (Endpoint as
 * resolved, or where it last authenticated from) is this connection's
 * source (else the one without a link or a known address), or NULL when
 * none or several are: who a refused handshake most likely came from, for
 * `mpcctl peers` (link.c).
 */
struct peer *preauth_peer_at(struct server *s, const struct pa_ticket *t);
/* We resolved p's Endpoint to sa: a known address from now on. */
void preauth_endpoint(struct server *s, struct peer *p, const struct sockaddr *sa);

#endif

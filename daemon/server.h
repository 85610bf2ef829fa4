/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
#ifndef MPC_SERVER_H
#define MPC_SERVER_H

/*
 * The daemon's shared state, internal to daemon/. Threads: the libuv loop
 * thread owns every socket, timer and the job table's structure; each job
 * runs its protocol on its own thread and talks to the loop only through
 * the link send queues (peer->mu) and the event queue (srv->mu), both
 * drained by the loop on srv->wake. See docs/daemon.md, "Read this when
 * touching threads".
 */
#include <pthread.h>
#include <stdint.h>
#include <time.h>
#include <uv.h>

#include "cfg.h"
#include "chan.h"
#include "net.h"
#include "wire.h"
#include "wire.pb-c.h"

struct link;
struct job;
struct audit;
struct preauth;
struct ctl_conn;
struct metrics;

/*
 * What a TCP handle's data points at begins with this tag: link.c's walks
 * over the loop's handles act on links alone (the metrics endpoint's
 * handles are TCP too).
 */
enum srv_tcp_kind { SRV_TCP_LINK = 0x4c4e4b31, SRV_TCP_METRICS = 0x4d545231 };

/*
 * Why a link failed before it was up (the metrics' fixed set of reasons,
 * metrics.c names them). SRV_HS_NONE: not a failure (a duplicate link
 * giving way).
 */
enum srv_hs_fail {
	SRV_HS_OTHER = 0,
	SRV_HS_REFUSED,      /* pre-authentication limits or no descriptor left */
	SRV_HS_RATE_LIMITED, /* message 1 over the handshake rate */
	SRV_HS_MALFORMED,    /* not an mpcd handshake */
	SRV_HS_AUTH,         /* a handshake message or frame does not authenticate */
	SRV_HS_UNKNOWN_KEY,
	SRV_HS_REPLAYED,
	SRV_HS_HELLO,        /* the greeting: another name or wire version */
	SRV_HS_TIMEOUT,
	SRV_HS_CLOSED,       /* the other side closed during the handshake */
	SRV_HS_COUNT,
	SRV_HS_NONE = SRV_HS_COUNT
};

/* Seconds: the bucket bounds of the job phase histograms. */
#define SRV_HIST_BUCKETS 12
extern const double srv_hist_le[SRV_HIST_BUCKETS];

struct srv_hist {
	uint64_t bucket[SRV_HIST_BUCKETS]; /* observations <= srv_hist_le[i], > the one before */
	uint64_t count;
	double sum;
};

/*
 * Counters the lower layers keep and the metrics endpoint reads (loop
 * thread only): links count handshake failures, jobs their ends and, when
 * a job's thread has ended, each phase's time and rounds.
 */
struct srv_stats {
	uint64_t hs_fail[SRV_HS_COUNT];
	uint64_t jobs_finished, jobs_aborted;
	struct srv_hist phase_secs[NET_PH_COUNT];
	uint64_t phase_rounds[NET_PH_COUNT];
};

/*
 * Control connections at once, and the seconds one may stay open (a
 * request, its answer and the write of the reply): SRV_CTL_MAX more are
 * answered "too many control connections", further ones closed at once;
 * older ones are closed.
 */
#define SRV_CTL_MAX 16
#define SRV_CTL_TIMEOUT 10
/* Peers a reload may add beyond those configured at start (then: restart). */
#define SRV_RELOAD_PEERS 32
/* Scrape connections at once on the metrics endpoint (metrics.h); more are closed. */
#define SRV_METRICS_MAX 4

struct peer {
	struct server *srv;
	/*
	 * cfg is &cfgv, this peer's own copy of its [Peer] section: a reload
	 * (reload.c) replaces it under mu, and job threads read the name.
	 */
	const struct cfg_peer *cfg;
	struct cfg_peer cfgv;
	int removed;            /* no longer configured (a reload): no link, no new job */
	pthread_mutex_t mu;     /* guards link (the pointer) and the link's send side */
	struct link *link;      /* authenticated and greeted, or NULL */
	struct link *dialing;   /* our outgoing attempt, not yet up */
	uint64_t last_ts;       /* newest handshake timestamp accepted from it */
	double next_dial;       /* loop time (s) of the next dial attempt */
	int backoff;            /* seconds */
	time_t since;           /* when it connected or disconnected */
	char last_error[320];
	uint64_t bytes_sent, bytes_recv;
	uint64_t msgs_sent, msgs_recv; /* jobs' protocol messages (sent: under mu) */
	uint32_t rekeys;        /* session keys replaced on the current link */
	time_t last_handshake;  /* keys last agreed with it: the link's handshake or a rekey */
	const char *cipher;     /* the AEAD of its link (chan_cipher_name), set when it came up */
	/*
	 * A refused handshake most likely from this peer (preauth_peer_at), for
	 * the operator who can fix it: its key is not the one configured here,
	 * or its entry for us holds another key. Cleared when a link comes up.
	 */
	char key_problem[400];
	time_t key_problem_at;
	int key_refused;        /* key_problem: it presented a key not configured here */
};

/*
 * A raw frame announced by a JobData header: the next frame on the link
 * carries `len` bytes of message `id`.
 */
struct link_chunk {
	char id[WIRE_ID_LEN + 1];
	uint64_t total; /* first chunk: the message's length */
	uint32_t len;
	int last;
};

/*
 * What links hand up, on the loop thread. The layer above the links (the
 * jobs) fills this table and mpcd.c installs it, so link*.c never calls
 * into job*.c: link < job < ctl < mpcd.
 *   on_frame      a checked message from an authenticated peer
 *   on_peer_lost  the peer's link went down (why: one line)
 *   chunk_begin   where to decrypt an announced raw frame's bytes (NULL:
 *                 decrypt in place and drop them), then chunk_end: whether
 *                 that worked
 */
struct link_handlers {
	void (*on_frame)(struct server *s, struct peer *from, const Mpcpb__Frame *f);
	void (*on_peer_lost)(struct server *s, struct peer *p, const char *why);
	/* A link came up (the peer's hello read): frames may go to p now. */
	void (*on_peer_up)(struct server *s, struct peer *p);
	uint8_t *(*chunk_begin)(struct server *s, struct peer *from, const struct link_chunk *c);
	void (*chunk_end)(struct server *s, struct peer *from, const struct link_chunk *c, int ok);
};

struct server_event {
	struct server_event *next;
	struct job *job;
};

struct server {
	uv_loop_t *loop;
	struct cfg *cfg;
	uint8_t *priv;          /* sodium_malloc'd, read-only */
	uint8_t pub[CHAN_KEYBYTES];
	uv_tcp_t listener;
	uv_pipe_t ctl;
	uv_signal_t sigterm, sigint;
	uv_timer_t cron;
	uv_async_t wake;
	struct peer *peers;     /* stable: jobs and preauth point into it */
	size_t n_peers;         /* slots in use, removed peers too */
	size_t peers_cap;       /* slots: a reload adds peers up to it (SRV_RELOAD_PEERS) */
	uv_signal_t sighup;
	int reload_pending;     /* SIGHUP seen: applied once no job is reading (reload.c) */
	struct job *jobs;
	struct audit *audit;
	const struct link_handlers *on_link; /* set before link_listen */
	int stopping;
	int ctl_bound;          /* we created the control socket file */
	struct preauth *preauth; /* pre-authentication limits (preauth.h) */
	char key_problem[400];  /* a refused key no peer could be named for */
	time_t key_problem_at;
	struct ctl_conn *ctl_conns; /* open control connections (ctl.c) */
	uint32_t n_ctl;
	uv_timer_t ctl_timer;   /* closes control connections past SRV_CTL_TIMEOUT */
	pthread_mutex_t mu;     /* guards events */
	struct server_event *events;
	struct srv_stats stats; /* loop thread */
	struct metrics *metrics; /* the metrics endpoint (metrics.h), or NULL */
};

/* server.c: the shared state's own helpers, below every other module. */
double srv_now(struct server *s);
struct peer *srv_peer_by_name(struct server *s, const char *name);
/* Ask the loop to run (drain send queues and job events). Thread-safe. */
void srv_wake(struct server *s);
void srv_hist_observe(struct srv_hist *h, double v);

/* link.c */
void link_start_dials(struct server *s);
int link_listen(struct server *s);
void link_cron(struct server *s);
void link_drain_all(struct server *s);
/*
 * Seal and queue a frame to a peer: any thread. MPC_E_PEER_GONE when the
 * peer has no link up.
 */
int peer_send(struct peer *p, const Mpcpb__Frame *f);
/*
 * k pieces of a message (1..PEER_SEND_MAX), each a JobData header and,
 * right behind it, its lens[i] bytes as a raw frame; sealed side by side
 * on the thread pool (crypto/pool.h), queued in order.
 */
#define PEER_SEND_MAX 16
int peer_send_data(struct peer *p, int k, const Mpcpb__Frame *const *hdrs,
		   const uint8_t *const *data, const size_t *lens);
void link_close_all(struct server *s, const char *why);
/* Close p's link and dial (its [Peer] changed or went, reload.c); redial at once when it has an Endpoint. */
void link_drop(struct peer *p, const char *why);
/* Loop thread, no job running: free the links' grown receive buffers. */
void link_release_buffers(struct server *s);

/* job.c: called on the loop thread (frames arrive through s->on_link) */
void job_cron(struct server *s);
void job_drain_events(struct server *s);
void job_abort_all(struct server *s, const char *why);
void job_free_all(struct server *s);

/* ctl.c */
int ctl_listen(struct server *s);
/* --check: the socket's path fits and its directory exists or can be made. */
int ctl_check_dir(const struct server *s);
/* Stopping: close every control connection (each frees itself when closed). */
void ctl_close_all(struct server *s);

#endif

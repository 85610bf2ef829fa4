/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
#ifndef MPC_LINK_INT_H
#define MPC_LINK_INT_H

/* Shared by link.c (frames, handshake messages) and link_conn.c (dialing, accepting, timers). */
#include <stdint.h>
#include <uv.h>

#include "chan.h"
#include "preauth.h"
#include "server.h"

enum link_state { LK_CONNECT, LK_HS, LK_HELLO, LK_UP, LK_CLOSING };

#define HS1_TYPE 1     /* Noise_IK_25519_ChaChaPoly_SHA256 */
#define HS2_TYPE 2
#define HS1_AES_TYPE 3 /* Noise_IK_25519_AESGCM_SHA256 */
#define FRAME_HDR 4
/*
 * Receive buffers up to this size (what link__on_alloc asks for first)
 * stay with their link when jobs end; larger ones are freed (link_release_buffers).
 */
#define LINK_RBUF_KEEP (64 * 1024)
#define WIRE_VERSION 8 /* 2: raw data frames; 3: rekeying; 4: the graph from its owner; 5: weight masks kept per job (corr); 6: JobSpec.chunk_rows; 7: JobModel.weight_exp; 8: JobAnswer.pending */

struct outframe {
	struct outframe *next;
	uv_write_t req; /* the frame is written from here, not copied */
	size_t len;
	uint8_t data[];
};

struct link {
	enum srv_tcp_kind kind;      /* first: SRV_TCP_LINK (tcp.data is the link) */
	uv_tcp_t tcp;
	struct server *srv;
	struct peer *peer;           /* set when we dial, or once authenticated */
	int initiator;
	enum link_state state;
	struct chan_hs hs;
	struct chan_session sess;
	uint8_t *rbuf;
	size_t roff, rlen, rcap; /* unconsumed bytes are rbuf[roff, rlen) */
	struct link_chunk chunk;      /* announced by a JobData header: the next frame */
	int chunk_next;
	double t_start, t_rx, t_tx, t_up;
	double t_keys;               /* when the current session keys were agreed */
	struct outframe *qh, *qt;    /* sealed, waiting for the loop (peer->mu) */
	uv_connect_t creq;
	uv_getaddrinfo_t gai;
	struct pa_ticket pa;         /* incoming, until authenticated (preauth.h) */
	enum srv_hs_fail fail;       /* why, when it closes before it is up */
};

/* A handle of the loop that is a link (not the listener, not another TCP handle). */
static inline struct link *link__of(uv_handle_t *h, const struct server *s)
{
	if (h->type != UV_TCP || h == (const uv_handle_t *)&s->listener || !h->data ||
	    *(const enum srv_tcp_kind *)h->data != SRV_TCP_LINK)
		return NULL;
	return h->data;
}


/* why NULL: close without a log line (a connection refused at accept, already logged). */
void link__close(struct link *l, const char *why);
/* The suite this node proposes when it dials (Cipher in [Node]). */
enum chan_cipher link__cipher(const struct server *s);
/* Loop thread: a frame before the link is published (Hello), straight out. */
int link__send_direct(struct link *l, const Mpcpb__Frame *f);
/* Loop thread: hand bytes to libuv (copied). */
void link__write_raw(struct link *l, const void *data, size_t len);
void link__on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b);
/* The 4-byte header of a frame of `len` plaintext bytes. */
void link__put_len(uint8_t *at, size_t len);
/* Append a sealed frame to the link's send queue; caller holds peer->mu. */
void link__enqueue(struct link *l, struct outframe *o);
/* link_rekey.c, loop thread: a rekey message opened from the peer (-1: link closed). */
int link__rekey_recv(struct link *l, const uint8_t *pt, size_t len);
/* link_rekey.c, loop thread, link up: offer a rekey when due; close on expired keys. */
void link__rekey_check(struct link *l, double now);
void link__on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b);

#endif

/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * Peer links: TCP, the Noise IK handshake (crypto/chan.c), then frames of
 * [4-byte big-endian length][AEAD ciphertext of a protobuf Frame] whose
 * header is the AEAD's associated data. Implicit nonces make replay,
 * reordering, dropping and tampering fail authentication; any failure
 * closes the link with a logged reason. Handshake messages are
 * [1-byte type][fixed size], so nothing unauthenticated is ever buffered
 * beyond one handshake message.
 */
#include <errno.h>
#include <stddef.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "job.h"
#include "keys.h"
#include "link-int.h"
#include "log.h"
#include "wire.h"

enum chan_cipher link__cipher(const struct server *s)
{
	switch (s->cfg->node.cipher) {
	case CFG_CIPHER_AESGCM:
		return CHAN_AESGCM;
	case CFG_CIPHER_CHACHAPOLY:
		return CHAN_CHACHAPOLY;
	case CFG_CIPHER_AUTO:
		break;
	}
	return chan_aesgcm_available() ? CHAN_AESGCM : CHAN_CHACHAPOLY;
}

static size_t max_frame(struct server *s)
{
	return (size_t)s->cfg->node.max_frame + CHAN_TAGBYTES;
}

static void on_frame_written(uv_write_t *w, int status)
{
	struct outframe *o = (struct outframe *)((char *)w - offsetof(struct outframe, req));
	struct link *l = w->data;

	free(o);
	if (status < 0 && l->state != LK_CLOSING)
		link__close(l, uv_strerror(status));
}

/* Loop thread: the sealed frame itself goes to libuv, freed when written. */
static void write_frame(struct link *l, struct outframe *o)
{
	uv_buf_t b = uv_buf_init((char *)o->data, (unsigned)o->len);
	int r;

	o->req.data = l;
	if ((r = uv_write(&o->req, (uv_stream_t *)&l->tcp, &b, 1, on_frame_written)) < 0) {
		free(o);
		link__close(l, uv_strerror(r));
		return;
	}
	l->t_tx = srv_now(l->srv);
}

static void on_written(uv_write_t *w, int status)
{
	struct link *l = w->data;

	free(w);
	if (status < 0 && l && l->state != LK_CLOSING)
		link__close(l, uv_strerror(status));
}

/* Loop thread: hand bytes to libuv; the request owns a copy. */
void link__write_raw(struct link *l, const void *data, size_t len)
{
	uv_write_t *w = malloc(sizeof(*w) + len);
	uv_buf_t b;
	int r;

	if (!w) {
		link__close(l, "out of memory");
		return;
	}
	memcpy(w + 1, data, len);
	w->data = l;
	b = uv_buf_init((char *)(w + 1), (unsigned)len);
	if ((r = uv_write(w, (uv_stream_t *)&l->tcp, &b, 1, on_written)) < 0) {
		free(w);
		link__close(l, uv_strerror(r));
		return;
	}
	l->t_tx = srv_now(l->srv);
}

/* The 4-byte length of a frame carrying `len` plaintext bytes. */
static void put_len(uint8_t *at, size_t len)
{
	size_t clen = len + CHAN_TAGBYTES;

	at[0] = (uint8_t)(clen >> 24);
	at[1] = (uint8_t)(clen >> 16);
	at[2] = (uint8_t)(clen >> 8);
	at[3] = (uint8_t)clen;
}

/* Room for frames of lens[0..k-1] plaintext bytes back to back, one write. */
static struct outframe *frames_alloc(struct link *l, const size_t *lens, int k, int *ret)
{
	size_t total = 0;
	struct outframe *o;

	for (int i = 0; i < k; i++) {
		if (lens[i] > l->srv->cfg->node.max_frame) {
			*ret = mpc_fail(MPC_E_TOOBIG, "frame of %zu bytes over MaxFrame", lens[i]);
			return NULL;
		}
		total += FRAME_HDR + lens[i] + CHAN_TAGBYTES;
	}
	if (!(o = malloc(sizeof(*o) + total))) {
		*ret = mpc_fail(MPC_E_NOMEM, "frame");
		return NULL;
	}
	o->next = NULL;
	o->len = total;
	return o;
}

/* Pack and seal f at `at` (room for its packed size + header + tag). */
static int seal_at(struct link *l, const Mpcpb__Frame *f, size_t plen, uint8_t *at)
{
	put_len(at, plen);
	mpcpb__frame__pack(f, at + FRAME_HDR);
	return chan_seal(&l->sess, at, FRAME_HDR, at + FRAME_HDR, plen, at + FRAME_HDR);
}

/* Seal a frame into an outframe; caller holds peer->mu (or the link is private). */
static struct outframe *seal_frame(struct link *l, const Mpcpb__Frame *f, int *ret)
{
	size_t plen = mpcpb__frame__get_packed_size(f);
	struct outframe *o;

	*ret = 0;
	if (!(o = frames_alloc(l, &plen, 1, ret)))
		return NULL;
	if ((*ret = seal_at(l, f, plen, o->data)) != 0) {
		free(o);
		return NULL;
	}
	return o;
}

static void enqueue(struct link *l, struct outframe *o)
{
	if (l->qt)
		l->qt->next = o;
	else
		l->qh = o;
	l->qt = o;
	l->peer->bytes_sent += o->len;
}

int peer_send(struct peer *p, const Mpcpb__Frame *f)
{
	struct outframe *o;
	int ret;

	pthread_mutex_lock(&p->mu);
	if (!p->link) {
		pthread_mutex_unlock(&p->mu);
		return mpc_fail(MPC_E_PEER_GONE, "no link to %s", p->cfg->name);
	}
	if ((o = seal_frame(p->link, f, &ret)) != NULL)
		enqueue(p->link, o);
	pthread_mutex_unlock(&p->mu);
	if (o)
		srv_wake(p->srv);
	return ret;
}

/*
 * The header and its raw frame in one buffer (one write, one segment on
 * the wire, one wake-up of the receiver), sealed under one lock so that
 * nothing comes between them; the raw bytes are sealed from the caller's
 * buffer, no copy before the cipher.
 */
int peer_send_data(struct peer *p, const Mpcpb__Frame *hdr, const void *data, size_t len)
{
	size_t lens[2] = { mpcpb__frame__get_packed_size(hdr), len };
	struct outframe *o = NULL;
	uint8_t *raw;
	int ret = 0;

	pthread_mutex_lock(&p->mu);
	if (!p->link) {
		pthread_mutex_unlock(&p->mu);
		return mpc_fail(MPC_E_PEER_GONE, "no link to %s", p->cfg->name);
	}
	if ((o = frames_alloc(p->link, lens, 2, &ret)) != NULL) {
		raw = o->data + FRAME_HDR + lens[0] + CHAN_TAGBYTES;
		put_len(raw, len);
		/* Cannot fail short of 2^64 frames. */
		if ((ret = seal_at(p->link, hdr, lens[0], o->data)) == 0 &&
		    (ret = chan_seal(&p->link->sess, raw, FRAME_HDR, data, len,
				     raw + FRAME_HDR)) == 0)
			enqueue(p->link, o);
	}
	pthread_mutex_unlock(&p->mu);
	if (ret) {
		free(o);
		return ret;
	}
	srv_wake(p->srv);
	return 0;
}

/* Loop thread: write every queued frame of every link, in order. */
void link_drain_all(struct server *s)
{
	for (size_t i = 0; i < s->n_peers; i++) {
		struct peer *p = &s->peers[i];
		struct outframe *o;
		struct link *l;

		pthread_mutex_lock(&p->mu);
		l = p->link;
		o = l ? l->qh : NULL;
		if (l)
			l->qh = l->qt = NULL;
		pthread_mutex_unlock(&p->mu);
		while (o) {
			struct outframe *nx = o->next;

			if (l->state == LK_UP)
				write_frame(l, o);
			else
				free(o);
			o = nx;
		}
	}
}

/* Frames before the link is published (Hello) go straight out. */
static int send_direct(struct link *l, const Mpcpb__Frame *f)
{
	struct outframe *o;
	int ret;

	if (!(o = seal_frame(l, f, &ret)))
		return ret;
	write_frame(l, o);
	return 0;
}

static void on_closed(uv_handle_t *h)
{
	struct link *l = h->data;
	struct outframe *o = l->qh;

	while (o) {
		struct outframe *nx = o->next;

		free(o);
		o = nx;
	}
	chan_hs_wipe(&l->hs);
	chan_session_wipe(&l->sess);
	free(l->rbuf);
	free(l);
}

static void schedule_dial(struct peer *p, int was_up)
{
	if (!p->cfg->endpoint.set || p->srv->stopping)
		return;
	if (was_up)
		p->backoff = 1;
	p->next_dial = srv_now(p->srv) + p->backoff;
	p->backoff = p->backoff < 30 ? p->backoff * 2 : 30;
}

void link__close(struct link *l, const char *why)
{
	struct peer *p = l->peer;
	int was_up = 0;

	char hint[192];

	if (l->state == LK_CLOSING)
		return;
	/* The responder drops a handshake it cannot authenticate without a word. */
	if (l->initiator && l->state == LK_HS && strcmp(why, "handshake timed out")) {
		snprintf(hint, sizeof(hint), "%s during the handshake (does %s have our public key?)",
			 why, p ? p->cfg->name : "the peer");
		why = hint;
	}
	if (p) {
		pthread_mutex_lock(&p->mu);
		if (p->link == l) {
			p->link = NULL;
			was_up = 1;
		}
		pthread_mutex_unlock(&p->mu);
		if (p->dialing == l)
			p->dialing = NULL;
		snprintf(p->last_error, sizeof(p->last_error), "%s", why);
		if (was_up) {
			p->since = time(NULL);
			log_info("peer %s: link closed: %s", p->cfg->name, why);
			job_on_peer_lost(l->srv, p, why);
		} else {
			log_info("peer %s: %s", p->cfg->name, why);
		}
		if (l->initiator || was_up)
			schedule_dial(p, was_up);
	} else {
		log_info("incoming link closed before authentication: %s", why);
	}
	l->state = LK_CLOSING;
	uv_close((uv_handle_t *)&l->tcp, on_closed);
}

void link_close_all(struct server *s, const char *why)
{
	for (size_t i = 0; i < s->n_peers; i++) {
		struct peer *p = &s->peers[i];

		if (p->link)
			link__close(p->link, why);
		if (p->dialing)
			link__close(p->dialing, why);
	}
}

void link__on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	struct link *l = h->data;
	size_t want, left;

	(void)hint;
	/*
	 * Unconsumed bytes move to the front only when the buffer runs out of
	 * room, not after every frame (a 1 MiB frame behind a consumed one
	 * would otherwise be copied on each read).
	 */
	if (l->roff && l->rcap - l->rlen < 65536) {
		memmove(l->rbuf, l->rbuf + l->roff, l->rlen - l->roff);
		l->rlen -= l->roff;
		l->roff = 0;
	}
	left = l->rlen - l->roff;
	want = l->rlen + 65536;
	/* Once a frame's length is known, make room for all of it at once. */
	if (l->state >= LK_HELLO && left >= 4) {
		const uint8_t *h4 = l->rbuf + l->roff;
		size_t clen = (size_t)h4[0] << 24 | (size_t)h4[1] << 16 | (size_t)h4[2] << 8 | h4[3];

		if (clen <= max_frame(l->srv) && l->roff + 4 + clen > want)
			want = l->roff + 4 + clen;
	}
	if (want > l->rcap && want < 2 * l->rcap)
		want = 2 * l->rcap;
	if (want > l->rcap) {
		uint8_t *n = realloc(l->rbuf, want);

		if (!n) {
			*b = uv_buf_init(NULL, 0);
			return;
		}
		l->rbuf = n;
		l->rcap = want;
	}
	*b = uv_buf_init((char *)l->rbuf + l->rlen, (unsigned)(l->rcap - l->rlen));
}

/* The link is authenticated and greeted: publish it, replacing an old one. */
static void link_up(struct link *l)
{
	struct peer *p = l->peer;
	struct link *old;

	pthread_mutex_lock(&p->mu);
	old = p->link;
	pthread_mutex_unlock(&p->mu);
	if (old) {
		/*
		 * Two live links: a simultaneous dial keeps the one dialled by
		 * the smaller name (both sides decide alike); an older one gives
		 * way to a new one (the peer restarted).
		 */
		int mine_smaller = strcmp(l->srv->cfg->node.name, p->cfg->name) < 0;
		int fresh = srv_now(l->srv) - old->t_up < 2.0;

		if (fresh && l->initiator != mine_smaller) {
			link__close(l, "duplicate link");
			return;
		}
		link__close(old, "replaced by a new link");
	}
	l->state = LK_UP;
	l->t_up = srv_now(l->srv);
	if (p->dialing == l)
		p->dialing = NULL;
	pthread_mutex_lock(&p->mu);
	p->link = l;
	pthread_mutex_unlock(&p->mu);
	p->since = time(NULL);
	p->backoff = 1;
	p->last_error[0] = '\0';
	log_info("peer %s: connected (%s, %s)", p->cfg->name,
		 l->initiator ? "outgoing" : "incoming", chan_cipher_name(l->sess.cipher));
}

static int send_hello(struct link *l)
{
	Mpcpb__Frame f = MPCPB__FRAME__INIT;
	Mpcpb__Hello h = MPCPB__HELLO__INIT;

	h.name = l->srv->cfg->node.name;
	h.version = WIRE_VERSION;
	f.msg_case = MPCPB__FRAME__MSG_HELLO;
	f.hello = &h;
	return send_direct(l, &f);
}

/*
 * Message 1 costs two Diffie-Hellman operations before anything is
 * authenticated: a token bucket bounds that work for all sources together
 * (HS_RATE a second, bursts of HS_BURST), so a flood cannot take the CPU.
 */
#define HS_RATE 20.0
#define HS_BURST 40.0

static int hs_allowed(struct server *s)
{
	double now = srv_now(s);

	s->hs_tokens += (now - s->hs_last) * HS_RATE;
	if (s->hs_tokens > HS_BURST)
		s->hs_tokens = HS_BURST;
	s->hs_last = now;
	if (s->hs_tokens < 1.0)
		return 0;
	s->hs_tokens -= 1.0;
	return 1;
}

static int on_hs1(struct link *l, const uint8_t *msg)
{
	struct server *s = l->srv;
	uint8_t peer_pub[CHAN_KEYBYTES], out[1 + CHAN_HS2_BYTES];
	const struct cfg_peer *cp;
	uint64_t ts;
	struct peer *p;
	int ret;

	if (!hs_allowed(s)) {
		link__close(l, "too many handshakes: rate limited");
		return -1;
	}
	if ((ret = chan_hs_consume_init(&l->hs, s->priv, s->pub, msg, peer_pub, &ts)) != 0) {
		link__close(l, "handshake: message 1 does not authenticate");
		return -1;
	}
	if (!(cp = cfg_peer_by_key(s->cfg, peer_pub))) {
		char b64[48];

		keys_b64_encode(peer_pub, b64);
		log_warn("refused a link from unknown key %s", b64);
		link__close(l, "unknown key");
		return -1;
	}
	p = srv_peer_by_name(s, cp->name);
	if (ts <= p->last_ts) {
		link__close(l, "replayed handshake");
		return -1;
	}
	p->last_ts = ts;
	l->peer = p;
	out[0] = HS2_TYPE;
	if ((ret = chan_hs_create_resp(&l->hs, out + 1, &l->sess)) != 0) {
		link__close(l, "handshake failed");
		return -1;
	}
	chan_hs_wipe(&l->hs);
	link__write_raw(l, out, sizeof(out));
	l->state = LK_HELLO;
	return send_hello(l) ? (link__close(l, "hello"), -1) : 0;
}

static int on_hs2(struct link *l, const uint8_t *msg)
{
	if (chan_hs_consume_resp(&l->hs, l->srv->priv, msg, &l->sess) != 0) {
		link__close(l, "handshake: message 2 does not authenticate (wrong key?)");
		return -1;
	}
	chan_hs_wipe(&l->hs);
	l->state = LK_HELLO;
	return send_hello(l) ? (link__close(l, "hello"), -1) : 0;
}

/* A JobData header: its bytes are the next frame. */
static void announce_chunk(struct link *l, const Mpcpb__JobData *d, char *why, size_t len)
{
	if (d->raw > l->srv->cfg->node.max_frame) {
		snprintf(why, len, "data chunk of %u bytes over MaxFrame", d->raw);
		return;
	}
	snprintf(l->chunk.id, sizeof(l->chunk.id), "%s", d->id);
	l->chunk.total = d->total;
	l->chunk.len = d->raw;
	l->chunk.last = d->last;
	l->chunk_next = 1;
}

/*
 * The raw frame announced: decrypted straight into the job's buffer, or in
 * place and dropped when the job is gone (the nonce must advance anyway).
 */
static int on_chunk(struct link *l, uint8_t *m, size_t clen)
{
	uint8_t *dst;
	int ok;

	l->chunk_next = 0;
	if (clen != l->chunk.len + CHAN_TAGBYTES) {
		link__close(l, "data chunk of the wrong length");
		return -1;
	}
	dst = job_chunk_begin(l->srv, l->peer, &l->chunk);
	ok = chan_open(&l->sess, m, FRAME_HDR, m + FRAME_HDR, clen, dst ? dst : m + FRAME_HDR) == 0;
	if (dst)
		job_chunk_end(l->srv, l->peer, &l->chunk, ok);
	else if (ok)
		sodium_memzero(m + FRAME_HDR, l->chunk.len);
	if (!ok) {
		link__close(l, "frame fails authentication (tampered, replayed or reordered)");
		return -1;
	}
	l->peer->bytes_recv += FRAME_HDR + clen;
	return 0;
}

static int on_frame(struct link *l, const uint8_t *pt, size_t len)
{
	Mpcpb__Frame *f = mpcpb__frame__unpack(NULL, len, pt);
	struct peer *p = l->peer;
	char why[160];

	if (!f) {
		link__close(l, "malformed frame");
		return -1;
	}
	why[0] = '\0';
	if (l->state == LK_HELLO) {
		if (f->msg_case != MPCPB__FRAME__MSG_HELLO || !f->hello->name ||
		    strcmp(f->hello->name, p->cfg->name) || f->hello->version != WIRE_VERSION)
			snprintf(why, sizeof(why), "expected hello from %s", p->cfg->name);
		else
			link_up(l);
	} else if (f->msg_case == MPCPB__FRAME__MSG_PING) {
		Mpcpb__Frame r = MPCPB__FRAME__INIT;
		Mpcpb__Pong pong = MPCPB__PONG__INIT;

		pong.nonce = f->ping->nonce;
		r.msg_case = MPCPB__FRAME__MSG_PONG;
		r.pong = &pong;
		(void)peer_send(p, &r);
	} else if (f->msg_case == MPCPB__FRAME__MSG_HELLO) {
		snprintf(why, sizeof(why), "unexpected hello");
	} else if (f->msg_case != MPCPB__FRAME__MSG_PONG) {
		wire_check_frame(f, why, sizeof(why));
		if (why[0])
			;
		else if (f->msg_case == MPCPB__FRAME__MSG_DATA && f->data->raw)
			announce_chunk(l, f->data, why, sizeof(why));
		else
			job_on_frame(l->srv, p, f);
	}
	mpcpb__frame__free_unpacked(f, NULL);
	if (why[0]) {
		link__close(l, why);
		return -1;
	}
	return 0;
}

/* Consume whole messages from rbuf; returns -1 once the link is closing. */
static int process(struct link *l)
{
	size_t off = l->roff;
	int ret = 0;

	while (ret == 0 && l->state != LK_CLOSING) {
		size_t left = l->rlen - off;
		const uint8_t *m = l->rbuf + off;

		if (l->state == LK_HS) {
			size_t need = 1 + (l->initiator ? CHAN_HS2_BYTES : CHAN_HS1_BYTES);

			if (left < 1)
				break;
			if (l->initiator ? m[0] != HS2_TYPE :
					   m[0] != HS1_TYPE && m[0] != HS1_AES_TYPE) {
				link__close(l, "not an mpcd handshake");
				return -1;
			}
			if (!l->initiator && m[0] == HS1_AES_TYPE) {
				if (!chan_aesgcm_available()) {
					link__close(l, "the peer proposes AES-GCM and this CPU has "
						       "no AES-NI (set Cipher = chachapoly there)");
					return -1;
				}
				l->hs.cipher = CHAN_AESGCM;
			}
			if (left < need)
				break;
			ret = l->initiator ? on_hs2(l, m + 1) : on_hs1(l, m + 1);
			off += need;
		} else {
			size_t clen;
			uint8_t *pt;

			if (left < FRAME_HDR)
				break;
			clen = (size_t)m[0] << 24 | (size_t)m[1] << 16 | (size_t)m[2] << 8 | m[3];
			if (clen < CHAN_TAGBYTES || clen > max_frame(l->srv)) {
				link__close(l, "frame length over the limit");
				return -1;
			}
			if (left < FRAME_HDR + clen)
				break;
			if (l->chunk_next) {
				ret = on_chunk(l, (uint8_t *)m, clen);
				off += FRAME_HDR + clen;
				continue;
			}
			if (!(pt = malloc(clen))) {
				link__close(l, "out of memory");
				return -1;
			}
			if (chan_open(&l->sess, m, FRAME_HDR, m + FRAME_HDR, clen, pt) != 0) {
				free(pt);
				link__close(l, "frame fails authentication (tampered, replayed or reordered)");
				return -1;
			}
			l->peer->bytes_recv += FRAME_HDR + clen;
			ret = on_frame(l, pt, clen - CHAN_TAGBYTES);
			sodium_memzero(pt, clen);
			free(pt);
			off += FRAME_HDR + clen;
		}
	}
	if (l->state != LK_CLOSING) {
		l->roff = off;
		if (l->roff == l->rlen)
			l->roff = l->rlen = 0;
	}
	return ret;
}

void link__on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
	struct link *l = st->data;

	(void)b;
	if (n < 0) {
		link__close(l, n == UV_EOF ? "connection closed by peer" : uv_strerror((int)n));
		return;
	}
	if (n == 0)
		return;
	l->rlen += (size_t)n;
	l->t_rx = srv_now(l->srv);
	process(l);
}

/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * Peer links: TCP, the Noise IK handshake (crypto/chan.c), then frames of
 * [4-byte big-endian length][AEAD ciphertext of a protobuf Frame] whose
 * header is the AEAD's associated data (or of a job's data chunk announced
 * by the frame before). This file: handshake and receiving; link_send.c
 * seals and writes; link_conn.c dials and accepts. Implicit nonces make replay,
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

#include "keys.h"
#include "link-int.h"
#include "log.h"
#include "state.h"
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

	char hint[320], ours[KEYS_B64_LEN + 1];

	if (l->state == LK_CLOSING)
		return;
	/* A handshake that failed, counted by reason (metrics.c). */
	if ((l->state == LK_HS || l->state == LK_HELLO) && !l->srv->stopping &&
	    l->fail < SRV_HS_COUNT)
		l->srv->stats.hs_fail[l->fail]++;
	preauth_done(l->srv, &l->pa, NULL);
	/*
	 * The responder drops a handshake it cannot authenticate without a
	 * word: either side's entry may be the wrong one, and the responder
	 * knows which (its `mpcctl peers`: see key_problem()).
	 */
	if (why && l->initiator && l->state == LK_HS && p && strcmp(why, "handshake timed out")) {
		keys_b64_encode(l->srv->pub, ours);
		if (p->key_problem[0] && p->key_refused)
			snprintf(hint, sizeof(hint), "%s during the handshake: [Peer] %s PublicKey "
				 "here is not %s's key (its own handshakes show another)", why,
				 p->cfg->name, p->cfg->name);
		else
			snprintf(hint, sizeof(hint), "%s during the handshake: %s's PublicKey here "
				 "is not its key, or %s's [Peer] %s does not hold ours, %s (`mpcctl "
				 "peers` on %s says which)", why, p->cfg->name, p->cfg->name,
				 l->srv->cfg->node.name, ours, p->cfg->name);
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
		/*
		 * A second link closed while another is up (both dialled at once)
		 * is no error of the peer's: its row keeps saying the link is fine.
		 */
		if (!was_up && p->link) {
			log_info("peer %s: closed a second link (%s); the link up stays", p->cfg->name,
				 why);
			goto closing;
		}
		snprintf(p->last_error, sizeof(p->last_error), "%s", why);
		if (was_up) {
			p->since = time(NULL);
			log_info("peer %s: link closed: %s", p->cfg->name, why);
			l->srv->on_link->on_peer_lost(l->srv, p, why);
		} else {
			log_info("peer %s: %s", p->cfg->name, why);
		}
		if (l->initiator || was_up)
			schedule_dial(p, was_up);
	} else if (why) {
		/* Anyone can cause these: rate-limited, with a count. */
		log_info_rl("incoming link from %s closed before authentication: %s",
			    l->pa.from[0] ? l->pa.from : "?", why);
	}
closing:
	l->state = LK_CLOSING;
	uv_close((uv_handle_t *)&l->tcp, on_closed);
}

/* Links no peer holds (incoming, not authenticated yet): freed in on_closed too. */
static void close_unowned(uv_handle_t *h, void *arg)
{
	struct server *s = arg;
	struct link *l = link__of(h, s);

	if (l && !uv_is_closing(h))
		link__close(l, "daemon stopping");
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
	uv_walk(s->loop, close_unowned, s);
	/* Stopping: what the rate limits held back is counted before the end. */
	log_limit_flush(1);
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

/*
 * A link's receive buffer grows to hold the largest frame it met (up to
 * twice MaxFrame, doubling) and would keep that size for the link's life:
 * after a few jobs every link holds megabytes it no longer uses, and the
 * daemon's RSS creeps up towards the worst case as different frame sizes
 * meet different links. The jobs' layer calls this once no job runs (a
 * buffer holding part of a frame is kept).
 */
void link_release_buffers(struct server *s)
{
	for (size_t i = 0; i < s->n_peers; i++) {
		struct link *l = s->peers[i].link;

		if (l && l->roff == l->rlen && l->rcap > LINK_RBUF_KEEP) {
			free(l->rbuf);
			l->rbuf = NULL;
			l->roff = l->rlen = l->rcap = 0;
		}
	}
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
			l->fail = SRV_HS_NONE;
			link__close(l, "duplicate link");
			return;
		}
		link__close(old, "replaced by a new link");
	}
	l->state = LK_UP;
	/* Out of the pre-auth pool; its address is p's from now on. */
	preauth_done(l->srv, &l->pa, p);
	l->t_up = l->t_keys = srv_now(l->srv);
	if (p->dialing == l)
		p->dialing = NULL;
	pthread_mutex_lock(&p->mu);
	p->link = l;
	pthread_mutex_unlock(&p->mu);
	p->since = p->last_handshake = time(NULL);
	p->backoff = 1;
	p->rekeys = 0;
	p->last_error[0] = '\0';
	p->key_problem[0] = '\0';
	p->cipher = chan_cipher_name(l->sess.cipher);
	log_info("peer %s: connected (%s, %s)", p->cfg->name,
		 l->initiator ? "outgoing" : "incoming", chan_cipher_name(l->sess.cipher));
	if (l->srv->on_link && l->srv->on_link->on_peer_up)
		l->srv->on_link->on_peer_up(l->srv, p);
}

static int send_hello(struct link *l)
{
	Mpcpb__Frame f = MPCPB__FRAME__INIT;
	Mpcpb__Hello h = MPCPB__HELLO__INIT;

	h.name = l->srv->cfg->node.name;
	h.version = WIRE_VERSION;
	f.msg_case = MPCPB__FRAME__MSG_HELLO;
	f.hello = &h;
	return link__send_direct(l, &f);
}

/*
 * A handshake refused before it names a peer, kept for `mpcctl peers` on
 * the row of the peer it most likely came from (preauth_peer_at), else
 * for the node: the line tells this node's operator what to fix, or that
 * the fix is on the other side.
 */
static void key_problem(struct link *l, const uint8_t *presented)
{
	struct server *s = l->srv;
	struct peer *p = preauth_peer_at(s, &l->pa);
	char k[KEYS_B64_LEN + 1], ours[KEYS_B64_LEN + 1];

	if (presented) {
		keys_b64_encode(presented, k);
		/* Named now: the node-wide line about the same key is superseded. */
		if (p && strstr(s->key_problem, k))
			s->key_problem[0] = '\0';
		if (p)
			snprintf(p->key_problem, sizeof(p->key_problem),
				 "a peer at %s presented key %s, which is not %s's configured key "
				 "(fix [Peer] %s PublicKey here with the key %s's operator gives you)",
				 l->pa.from, k, p->cfg->name, p->cfg->name, p->cfg->name);
		else
			snprintf(s->key_problem, sizeof(s->key_problem),
				 "a peer at %s presented key %s, which is no configured peer's key",
				 l->pa.from, k);
	} else if (p) {
		/* Not for our key: the dialler's entry for us is the wrong one. */
		keys_b64_encode(s->pub, ours);
		snprintf(p->key_problem, sizeof(p->key_problem),
			 "a peer at %s sent a handshake for another key: %s's [Peer] %s must hold "
			 "this node's public key %s", l->pa.from, p->cfg->name, s->cfg->node.name,
			 ours);
	}
	if (p) {
		p->key_problem_at = time(NULL);
		p->key_refused = presented != NULL;
	} else if (presented)
		s->key_problem_at = time(NULL);
}

static int on_hs1(struct link *l, const uint8_t *msg)
{
	struct server *s = l->srv;
	uint8_t peer_pub[CHAN_KEYBYTES], out[1 + CHAN_HS2_BYTES];
	const struct cfg_peer *cp;
	uint64_t ts;
	struct peer *p;
	int ret;

	/*
	 * Message 1 costs two Diffie-Hellman operations before anything is
	 * authenticated: bounded per source and for unknown sources together
	 * (preauth.h), so a flood takes neither the CPU nor the peers' turn.
	 */
	if (!preauth_handshake(s, &l->pa)) {
		l->fail = SRV_HS_RATE_LIMITED;
		link__close(l, "too many handshakes: rate limited");
		return -1;
	}
	if ((ret = chan_hs_consume_init(&l->hs, s->priv, s->pub, msg, peer_pub, &ts)) != 0) {
		l->fail = SRV_HS_AUTH;
		key_problem(l, NULL);
		link__close(l, "handshake: message 1 does not authenticate");
		return -1;
	}
	if (!(cp = cfg_peer_by_key(s->cfg, peer_pub))) {
		char b64[48];

		keys_b64_encode(peer_pub, b64);
		log_warn_rl("refused a link from unknown key %s (from %s)", b64, l->pa.from);
		l->fail = SRV_HS_UNKNOWN_KEY;
		key_problem(l, peer_pub);
		link__close(l, "unknown key");
		return -1;
	}
	p = srv_peer_by_name(s, cp->name);
	if (ts <= p->last_ts) {
		l->fail = SRV_HS_REPLAYED;
		link__close(l, "replayed handshake");
		return -1;
	}
	/* On disk before the answer, so a restart cannot forget it (state.h). */
	if ((ret = state_save_ts(p, ts)) != 0) {
		log_err("peer %s: %s", p->cfg->name, mpc_errmsg(ret));
		link__close(l, "cannot record the handshake timestamp");
		return -1;
	}
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
		l->fail = SRV_HS_AUTH;
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
	dst = l->srv->on_link->chunk_begin(l->srv, l->peer, &l->chunk);
	ok = chan_open(&l->sess, m, FRAME_HDR, m + FRAME_HDR, clen, dst ? dst : m + FRAME_HDR) == 0;
	if (dst)
		l->srv->on_link->chunk_end(l->srv, l->peer, &l->chunk, ok);
	else if (ok)
		sodium_memzero(m + FRAME_HDR, l->chunk.len);
	if (!ok) {
		link__close(l, "frame fails authentication (tampered, replayed or reordered)");
		return -1;
	}
	l->peer->bytes_recv += FRAME_HDR + clen;
	l->peer->msgs_recv += l->chunk.last;
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
		    strcmp(f->hello->name, p->cfg->name) || f->hello->version != WIRE_VERSION) {
			snprintf(why, sizeof(why), "expected hello from %s", p->cfg->name);
			l->fail = SRV_HS_HELLO;
		} else {
			link_up(l);
		}
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
			l->srv->on_link->on_frame(l->srv, p, f);
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
				l->fail = SRV_HS_MALFORMED;
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
				l->fail = SRV_HS_AUTH;
				link__close(l, "frame fails authentication (tampered, replayed or reordered)");
				return -1;
			}
			l->peer->bytes_recv += FRAME_HDR + clen;
			if (chan_is_rekey(pt, clen - CHAN_TAGBYTES))
				ret = link__rekey_recv(l, pt, clen - CHAN_TAGBYTES);
			else
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
		l->fail = SRV_HS_CLOSED;
		link__close(l, n == UV_EOF ? "connection closed by peer" : uv_strerror((int)n));
		return;
	}
	if (n == 0)
		return;
	l->rlen += (size_t)n;
	l->t_rx = srv_now(l->srv);
	process(l);
}

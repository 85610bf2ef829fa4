/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * The sending side of peer links: frames are sealed by whichever thread
 * sends (a job thread, or the loop for its own messages) under peer->mu,
 * in nonce order, and queued; the loop writes the queues in order, each
 * frame buffer handed to libuv as is and freed when written.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "link-int.h"
#include "pool.h"

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
void link__put_len(uint8_t *at, size_t len)
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
	link__put_len(at, plen);
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

void link__enqueue(struct link *l, struct outframe *o)
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
		link__enqueue(p->link, o);
	pthread_mutex_unlock(&p->mu);
	if (o)
		srv_wake(p->srv);
	return ret;
}

/* Pieces of a message sealed at once: counters 2i (header) and 2i + 1 (raw). */
struct seal_v {
	struct link *l;
	uint64_t first;
	struct outframe **o;
	const Mpcpb__Frame *const *hdrs;
	const uint8_t *const *data;
	const size_t *lens, *hlens;
};

static int seal_piece(void *arg, size_t lo, size_t hi)
{
	const struct seal_v *v = arg;

	for (size_t i = lo; i < hi; i++) {
		uint8_t *at = v->o[i]->data, *raw = at + FRAME_HDR + v->hlens[i] + CHAN_TAGBYTES;

		link__put_len(at, v->hlens[i]);
		mpcpb__frame__pack(v->hdrs[i], at + FRAME_HDR);
		link__put_len(raw, v->lens[i]);
		if (chan_seal_at(&v->l->sess, v->first + 2 * i, at, FRAME_HDR, at + FRAME_HDR,
				 v->hlens[i], at + FRAME_HDR) ||
		    chan_seal_at(&v->l->sess, v->first + 2 * i + 1, raw, FRAME_HDR, v->data[i],
				 v->lens[i], raw + FRAME_HDR))
			return MPC_E_INTERNAL;
	}
	return 0;
}

/*
 * Each piece: the header and its raw frame in one buffer (one write, one
 * segment on the wire, one wake-up of the receiver), the raw bytes sealed
 * from the caller's buffer, no copy before the cipher. The k pieces take
 * their counters at once and are sealed side by side on the pool (their
 * frames are those of sealing them one by one), under the one lock so
 * that nothing comes between them, then queued in order.
 */
int peer_send_data(struct peer *p, int k, const Mpcpb__Frame *const *hdrs,
		   const uint8_t *const *data, const size_t *lens)
{
	struct outframe *o[PEER_SEND_MAX] = { NULL };
	size_t hl[PEER_SEND_MAX], bytes = 0;
	struct seal_v v = { .o = o, .hdrs = hdrs, .data = data, .lens = lens, .hlens = hl };
	int ret = 0, n = 0;

	if (k < 1 || k > PEER_SEND_MAX)
		return mpc_fail(MPC_E_INTERNAL, "%d pieces in one send", k);
	pthread_mutex_lock(&p->mu);
	if (!(v.l = p->link)) {
		pthread_mutex_unlock(&p->mu);
		return mpc_fail(MPC_E_PEER_GONE, "no link to %s", p->cfg->name);
	}
	for (; n < k && !ret; n++) {
		size_t two[2] = { mpcpb__frame__get_packed_size(hdrs[n]), lens[n] };

		hl[n] = two[0];
		bytes += two[0] + two[1];
		o[n] = frames_alloc(v.l, two, 2, &ret);
	}
	/* Cannot fail short of 2^64 frames; a failed seal leaves a gap: the link closes. */
	if (!ret && (ret = chan_seal_reserve(&v.l->sess, 2 * (size_t)k, bytes, &v.first)) == 0 &&
	    (ret = pool_for((size_t)k, 1, seal_piece, &v)) != 0)
		link__close(v.l, "sealing failed");
	for (int i = 0; i < k && !ret; i++) {
		link__enqueue(v.l, o[i]);
		p->msgs_sent += hdrs[i]->msg_case == MPCPB__FRAME__MSG_DATA && hdrs[i]->data->last;
	}
	pthread_mutex_unlock(&p->mu);
	if (ret) {
		for (int i = 0; i < n; i++)
			free(o[i]);
		return ret == MPC_E_INTERNAL ? mpc_fail(ret, "sealing a frame to %s failed",
							p->cfg->name) : ret;
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
		/* After a burst of frames: is a rekey due by count? */
		if (l && l->state == LK_UP)
			link__rekey_check(l, srv_now(s));
	}
}

/* Frames before the link is published (Hello) go straight out. */
int link__send_direct(struct link *l, const Mpcpb__Frame *f)
{
	struct outframe *o;
	int ret;

	if (!(o = seal_frame(l, f, &ret)))
		return ret;
	write_frame(l, o);
	return 0;
}

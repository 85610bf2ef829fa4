/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * Rekeying peer links on a timer and a count, like WireGuard's timers.c
 * (REKEY_AFTER_TIME 120 s, REJECT_AFTER_TIME 180 s), with the exchange
 * itself in crypto/chan_frame.c. Here: when to offer, the reply to a
 * peer's rekey message, the deadline, and the log line. Everything runs on
 * the loop thread; the session's sending side is shared with job threads,
 * so each call into the rekey state machine holds peer->mu, and the frame
 * it seals is queued under the same lock (nonce order is queue order).
 */
#include <stdio.h>
#include <stdlib.h>

#include "link-int.h"
#include "log.h"

/*
 * The handshake initiator offers when the keys are RekeyAfter old; the
 * other end only a quarter later, in case the first did not (WireGuard
 * leaves time-based rekeys to the initiator alone, which avoids both ends
 * offering at once; chan_frame.c breaks such a tie anyway).
 */
static double offer_after(const struct link *l)
{
	double t = l->srv->cfg->node.rekey_after;

	return l->sess.initiator ? t : t * 1.25;
}

/* REJECT_AFTER_TIME: 1.5 RekeyAfter (WireGuard's 180 s for 120 s), plus HandshakeTimeout for the exchange. */
static double reject_after(const struct link *l)
{
	const struct cfg_node *n = &l->srv->cfg->node;

	return 1.5 * n->rekey_after + n->handshake_timeout;
}

static struct outframe *rekey_frame(void)
{
	struct outframe *o = malloc(sizeof(*o) + FRAME_HDR + CHAN_REKEY_SEALED);

	if (o) {
		o->next = NULL;
		o->len = FRAME_HDR + CHAN_REKEY_SEALED;
		link__put_len(o->data, CHAN_REKEY_BYTES);
	}
	return o;
}

void link__rekey_check(struct link *l, double now)
{
	struct peer *p = l->peer;
	struct outframe *o = NULL;
	double age = now - l->t_keys;
	int ret = 0, offered = 0;

	if (age > reject_after(l)) {
		char why[96];

		snprintf(why, sizeof(why), "session keys %.0f s old: no rekey in time", age);
		link__close(l, why);
		return;
	}
	pthread_mutex_lock(&p->mu);
	if (l->sess.rk == CHAN_RK_IDLE && (chan_rekey_due(&l->sess) || age >= offer_after(l))) {
		if (!(o = rekey_frame()))
			ret = MPC_E_NOMEM;
		else if ((ret = chan_rekey_start(&l->sess, o->data, FRAME_HDR,
						 o->data + FRAME_HDR)) == 0) {
			link__enqueue(l, o);
			o = NULL; /* transferred */
			offered = 1;
		}
	}
	pthread_mutex_unlock(&p->mu);
	free(o);
	if (ret) {
		char why[160];

		snprintf(why, sizeof(why), "cannot offer a rekey: %s", mpc_errmsg(ret));
		link__close(l, why);
	}
	if (offered)
		srv_wake(l->srv);
}

int link__rekey_recv(struct link *l, const uint8_t *pt, size_t len)
{
	struct peer *p = l->peer;
	struct outframe *o;
	uint32_t before;
	int ret, reply = 0, ours;
	double now = srv_now(l->srv);
	char why[160];

	if (l->state != LK_UP) {
		link__close(l, "rekey message before hello");
		return -1;
	}
	if (!(o = rekey_frame())) {
		link__close(l, "out of memory");
		return -1;
	}
	pthread_mutex_lock(&p->mu);
	before = l->sess.rekeys;
	ours = l->sess.rk == CHAN_RK_OFFERED;
	ret = chan_rekey_consume(&l->sess, pt, len, o->data, FRAME_HDR, o->data + FRAME_HDR, &reply);
	if (ret == 0 && reply) {
		link__enqueue(l, o);
		o = NULL; /* transferred */
	}
	pthread_mutex_unlock(&p->mu);
	free(o);
	if (ret) {
		snprintf(why, sizeof(why), "rekey refused: %s", mpc_errmsg(ret));
		link__close(l, why);
		return -1;
	}
	if (reply)
		srv_wake(l->srv);
	if (l->sess.rekeys != before) {
		/* No key material: when, how many, who offered. */
		log_info("peer %s: rekeyed (%u on this link; the old keys were %.0f s old; offered by %s)",
			 p->cfg->name, l->sess.rekeys, now - l->t_keys, ours ? "us" : p->cfg->name);
		l->t_keys = now;
		p->rekeys = l->sess.rekeys;
		p->last_handshake = time(NULL);
	}
	return 0;
}

/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * Rekeying inside a link (crypto/chan_frame.c): two ends exchange frames
 * through queues (frames in flight while keys change) across many rekeys
 * triggered by a small frame threshold, for both cipher suites; a frame
 * under a replaced key is refused; the keys really change and the old
 * ones are gone from the session's memory; replayed, tampered and
 * out-of-turn rekey messages are refused; both ends offering at once; the
 * REJECT limits.
 */
#include <sodium.h>
#include <stdint.h>

#include "chan.h"
#include "chan_util.h"
#include "err.h"
#include "test.h"

#define QN 4096
#define PT_MAX 96
#define CT_MAX (PT_MAX + CHAN_TAGBYTES)

struct frame {
	uint8_t hdr[4];
	size_t len; /* ciphertext bytes */
	uint8_t ct[CT_MAX];
};

/* One end: its session and the frames it sent, not yet delivered. */
struct end {
	struct chan_session s;
	struct frame *q;
	size_t qh, qt;
	uint64_t seq_sent, seq_recv; /* data frames */
};

static void hdr_for(uint8_t hdr[4], size_t ptlen)
{
	size_t c = ptlen + CHAN_TAGBYTES;

	hdr[0] = (uint8_t)(c >> 24);
	hdr[1] = (uint8_t)(c >> 16);
	hdr[2] = (uint8_t)(c >> 8);
	hdr[3] = (uint8_t)c;
}

static struct frame *push(struct end *e)
{
	ASSERT(e->qt - e->qh < QN);
	return &e->q[e->qt++ % QN];
}

/* Data frame k: [1][8-byte k][k-dependent filler], 9..PT_MAX bytes. */
static size_t data_pt(uint8_t *pt, uint64_t k)
{
	size_t len = 9 + (size_t)(k * 7 % (PT_MAX - 9));

	pt[0] = 1;
	for (int i = 0; i < 8; i++)
		pt[1 + i] = (uint8_t)(k >> (8 * i));
	for (size_t i = 9; i < len; i++)
		pt[i] = (uint8_t)(k * 31 + i);
	return len;
}

static void send_data(struct end *e)
{
	uint8_t pt[PT_MAX];
	size_t len = data_pt(pt, e->seq_sent++);
	struct frame *f = push(e);

	hdr_for(f->hdr, len);
	f->len = len + CHAN_TAGBYTES;
	ASSERT_OK(chan_seal(&e->s, f->hdr, 4, pt, len, f->ct));
}

static void start_rekey(struct end *e)
{
	struct frame *f = push(e);

	hdr_for(f->hdr, CHAN_REKEY_BYTES);
	f->len = CHAN_REKEY_SEALED;
	ASSERT_OK(chan_rekey_start(&e->s, f->hdr, 4, f->ct));
}

/* Deliver one frame from `from` to `to`, as the daemon does. */
static void deliver(struct end *from, struct end *to)
{
	struct frame *f = &from->q[from->qh++ % QN];
	uint8_t pt[CT_MAX], want[PT_MAX];
	size_t len = f->len - CHAN_TAGBYTES;

	ASSERT_OK(chan_open(&to->s, f->hdr, 4, f->ct, f->len, pt));
	if (chan_is_rekey(pt, len)) {
		struct frame *r = push(to);
		int reply;

		hdr_for(r->hdr, CHAN_REKEY_BYTES);
		ASSERT_OK(chan_rekey_consume(&to->s, pt, len, r->hdr, 4, r->ct, &reply));
		if (reply)
			r->len = CHAN_REKEY_SEALED;
		else
			to->qt--; /* nothing to send */
		return;
	}
	ASSERT_EQ(len, data_pt(want, to->seq_recv++));
	ASSERT_MEM_EQ(pt, want, len);
}

/* A fresh handshake between a (initiator) and b. */
static void link_up(struct end *a, struct end *b, enum chan_cipher c)
{
	uint8_t apriv[32], apub[32], bpriv[32], bpub[32], m1[CHAN_HS1_BYTES], m2[CHAN_HS2_BYTES];
	uint8_t seen[32];
	struct chan_hs ha = { .cipher = c }, hb = { .cipher = c };
	uint64_t ts;

	memset(a, 0, sizeof(*a));
	memset(b, 0, sizeof(*b));
	a->q = calloc(QN, sizeof(*a->q));
	b->q = calloc(QN, sizeof(*b->q));
	ASSERT(a->q && b->q);
	randombytes_buf(apriv, 32);
	randombytes_buf(bpriv, 32);
	ASSERT(crypto_scalarmult_base(apub, apriv) == 0 && crypto_scalarmult_base(bpub, bpriv) == 0);
	ASSERT_OK(chan_hs_create_init(&ha, apriv, apub, bpub, 1, m1));
	ASSERT_OK(chan_hs_consume_init(&hb, bpriv, bpub, m1, seen, &ts));
	ASSERT_OK(chan_hs_create_resp(&hb, m2, &b->s));
	ASSERT_OK(chan_hs_consume_resp(&ha, apriv, m2, &a->s));
	ASSERT_EQ(a->s.cipher, c);
}

static void link_free(struct end *a, struct end *b)
{
	free(a->q);
	free(b->q);
	chan_session_wipe(&a->s);
	chan_session_wipe(&b->s);
}

/* Whether the n bytes of key occur anywhere in the session's memory. */
static int holds(const struct chan_session *s, const uint8_t *key)
{
	return memmem(s, sizeof(*s), key, CHAN_KEYBYTES) != NULL;
}

static int n_ciphers(void)
{
	return chan_aesgcm_available() ? 2 : 1;
}

/*
 * Many rekeys with frames in flight both ways, offers from both ends
 * (some at once), deliveries in random bursts: every data frame arrives
 * intact and in order, each rekey gives new keys, and no old key stays.
 */
TEST(rekey_many_in_flight)
{
	for (int c = 0; c < n_ciphers(); c++) {
		struct end a, b;
		uint8_t seen_keys[256][CHAN_KEYBYTES];
		size_t nseen = 0;
		uint32_t last = 0;

		link_up(&a, &b, (enum chan_cipher)c);
		a.s.rekey_frames = 5;
		b.s.rekey_frames = 7;
		memcpy(seen_keys[nseen++], a.s.send_key, CHAN_KEYBYTES);
		for (int it = 0; it < 3000; it++) {
			if (randombytes_uniform(3))
				send_data(&a);
			if (randombytes_uniform(2))
				send_data(&b);
			if (chan_rekey_due(&a.s))
				start_rekey(&a);
			if (chan_rekey_due(&b.s))
				start_rekey(&b);
			for (uint32_t k = randombytes_uniform(4); k && a.qh < a.qt; k--)
				deliver(&a, &b);
			for (uint32_t k = randombytes_uniform(4); k && b.qh < b.qt; k--)
				deliver(&b, &a);
			if (a.s.rekeys != last && a.s.rk == CHAN_RK_IDLE && nseen < 256) {
				/* a's send key is new, never one seen before, and the old is gone */
				for (size_t i = 0; i < nseen; i++) {
					ASSERT(memcmp(seen_keys[i], a.s.send_key, CHAN_KEYBYTES) != 0);
					ASSERT(!holds(&a.s, seen_keys[i]));
				}
				memcpy(seen_keys[nseen++], a.s.send_key, CHAN_KEYBYTES);
				last = a.s.rekeys;
			}
		}
		while (a.qh < a.qt || b.qh < b.qt) {
			if (a.qh < a.qt)
				deliver(&a, &b);
			if (b.qh < b.qt)
				deliver(&b, &a);
		}
		ASSERT_U64_EQ(a.seq_sent, b.seq_recv);
		ASSERT_U64_EQ(b.seq_sent, a.seq_recv);
		ASSERT(a.s.rekeys >= 100);
		ASSERT_EQ(a.s.rekeys, b.s.rekeys);
		ASSERT(nseen >= 50);
		ASSERT_MEM_EQ(a.s.send_key, b.s.recv_key, CHAN_KEYBYTES);
		ASSERT_MEM_EQ(a.s.recv_key, b.s.send_key, CHAN_KEYBYTES);
		ASSERT_MEM_EQ(a.s.root, b.s.root, CHAN_KEYBYTES);
		link_free(&a, &b);
	}
	return 0;
}

/*
 * The keys change, and a frame sealed under a replaced key is refused even
 * with the right counter; the replaced keys and root are nowhere in either
 * session, nor the ephemeral.
 */
TEST(rekey_old_key_refused_and_wiped)
{
	for (int c = 0; c < n_ciphers(); c++) {
		struct end a, b;
		struct chan_session olda, oldb;
		uint8_t pt[16] = { 1 }, ct[16 + CHAN_TAGBYTES], out[16], hdr[4];

		link_up(&a, &b, (enum chan_cipher)c);
		send_data(&a);
		deliver(&a, &b);
		olda = a.s;
		oldb = b.s;
		start_rekey(&a);
		ASSERT_EQ(a.s.rk, CHAN_RK_OFFERED);
		ASSERT(!sodium_is_zero(a.s.rk_e, CHAN_KEYBYTES));
		deliver(&a, &b);
		ASSERT_EQ(b.s.rk, CHAN_RK_ANSWERED);
		/* b sends under its new key already; a still under the old one */
		ASSERT(memcmp(b.s.send_key, oldb.send_key, CHAN_KEYBYTES) != 0);
		ASSERT_MEM_EQ(a.s.send_key, olda.send_key, CHAN_KEYBYTES);
		deliver(&b, &a);
		deliver(&a, &b);
		ASSERT_EQ(a.s.rekeys, 1);
		ASSERT_EQ(b.s.rekeys, 1);
		ASSERT_EQ(a.s.rk, CHAN_RK_IDLE);
		ASSERT_EQ(b.s.rk, CHAN_RK_IDLE);
		ASSERT(memcmp(a.s.send_key, olda.send_key, CHAN_KEYBYTES) != 0);
		ASSERT(memcmp(a.s.recv_key, olda.recv_key, CHAN_KEYBYTES) != 0);
		ASSERT(memcmp(a.s.root, olda.root, CHAN_KEYBYTES) != 0);
		ASSERT(memcmp(a.s.send_key, a.s.recv_key, CHAN_KEYBYTES) != 0);
		/* old keys, root, ephemeral: gone from both sessions (AES expansions included) */
		for (int i = 0; i < 2; i++) {
			const struct chan_session *s = i ? &b.s : &a.s;

			ASSERT(!holds(s, olda.send_key));
			ASSERT(!holds(s, olda.recv_key));
			ASSERT(!holds(s, olda.root));
			ASSERT(sodium_is_zero(s->rk_e, CHAN_KEYBYTES));
			ASSERT(sodium_is_zero(s->rk_recv, CHAN_KEYBYTES));
		}
		/* a frame under the old key, with the counter b now expects: refused */
		olda.send_n = b.s.recv_n;
		hdr_for(hdr, sizeof(pt));
		ASSERT_OK(chan_seal(&olda, hdr, 4, pt, sizeof(pt), ct));
		ASSERT_ERR(chan_open(&b.s, hdr, 4, ct, sizeof(ct), out), MPC_E_AUTH);
		/* b -> a likewise */
		oldb.send_n = a.s.recv_n;
		ASSERT_OK(chan_seal(&oldb, hdr, 4, pt, sizeof(pt), ct));
		ASSERT_ERR(chan_open(&a.s, hdr, 4, ct, sizeof(ct), out), MPC_E_AUTH);
		/* the link goes on under the new keys */
		send_data(&a);
		deliver(&a, &b);
		send_data(&b);
		deliver(&b, &a);
		chan_session_wipe(&olda);
		chan_session_wipe(&oldb);
		link_free(&a, &b);
	}
	return 0;
}

/* Replayed rekey messages are refused, sealed (nonce) or in plaintext (state). */
TEST(rekey_replay_refused)
{
	struct end a, b;
	struct frame offer, answer, confirm;
	uint8_t pt[CHAN_REKEY_SEALED], out[CHAN_REKEY_SEALED], hdr[4];
	uint8_t m_offer[CHAN_REKEY_BYTES], m_answer[CHAN_REKEY_BYTES], m_confirm[CHAN_REKEY_BYTES];
	struct chan_session t;
	int reply;

	link_up(&a, &b, CHAN_CHACHAPOLY);
	hdr_for(hdr, CHAN_REKEY_BYTES);
	start_rekey(&a);
	offer = a.q[a.qh % QN];
	/* plaintexts, for the replays below (a copy of the receiver opens them) */
	t = b.s;
	ASSERT_OK(chan_open(&t, offer.hdr, 4, offer.ct, offer.len, m_offer));
	deliver(&a, &b);
	answer = b.q[b.qh % QN];
	t = a.s;
	ASSERT_OK(chan_open(&t, answer.hdr, 4, answer.ct, answer.len, m_answer));
	/* the offer again while b has answered: out of turn */
	t = b.s;
	ASSERT_ERR(chan_rekey_consume(&b.s, m_offer, sizeof(m_offer), hdr, 4, out, &reply),
		   MPC_E_AUTH);
	ASSERT_MEM_EQ(&t, &b.s, sizeof(t));
	deliver(&b, &a);
	confirm = a.q[a.qh % QN];
	t = b.s;
	ASSERT_OK(chan_open(&t, confirm.hdr, 4, confirm.ct, confirm.len, m_confirm));
	deliver(&a, &b);
	ASSERT_EQ(a.s.rekeys, 1);
	ASSERT_EQ(b.s.rekeys, 1);
	/* every sealed message again: the new keys do not open them */
	ASSERT_ERR(chan_open(&b.s, offer.hdr, 4, offer.ct, offer.len, pt), MPC_E_AUTH);
	ASSERT_ERR(chan_open(&a.s, answer.hdr, 4, answer.ct, answer.len, pt), MPC_E_AUTH);
	ASSERT_ERR(chan_open(&b.s, confirm.hdr, 4, confirm.ct, confirm.len, pt), MPC_E_AUTH);
	/* and their plaintexts, as if sealed anew: answer and confirm out of turn */
	ASSERT_ERR(chan_rekey_consume(&a.s, m_answer, sizeof(m_answer), hdr, 4, out, &reply),
		   MPC_E_AUTH);
	ASSERT_ERR(chan_rekey_consume(&b.s, m_confirm, sizeof(m_confirm), hdr, 4, out, &reply),
		   MPC_E_AUTH);
	ASSERT_EQ(reply, 0);
	link_free(&a, &b);
	return 0;
}

/* Any bit flipped in a sealed rekey message fails; malformed plaintexts too, changing nothing. */
TEST(rekey_tamper_refused)
{
	struct end a, b;
	struct frame offer;
	uint8_t pt[CHAN_REKEY_SEALED], out[CHAN_REKEY_SEALED], hdr[4], m[CHAN_REKEY_BYTES];
	struct chan_session t;
	int reply;

	link_up(&a, &b, CHAN_CHACHAPOLY);
	hdr_for(hdr, CHAN_REKEY_BYTES);
	start_rekey(&a);
	offer = a.q[a.qh % QN];
	for (size_t bit = 0; bit < (4 + offer.len) * 8; bit++) {
		struct frame f = offer;
		uint8_t *p = bit < 32 ? f.hdr : f.ct;
		size_t at = bit < 32 ? bit / 8 : bit / 8 - 4;

		p[at] ^= (uint8_t)(1u << (bit % 8));
		t = b.s;
		ASSERT_ERR(chan_open(&t, f.hdr, 4, f.ct, f.len, pt), MPC_E_AUTH);
	}
	t = b.s;
	ASSERT_OK(chan_open(&t, offer.hdr, 4, offer.ct, offer.len, m));
	/* plaintext changes (a sender with the keys, but broken) */
	{
		uint8_t bad[CHAN_REKEY_BYTES];
		struct chan_session before = b.s;

		memcpy(bad, m, sizeof(bad));
		bad[1] = 9; /* no such step */
		ASSERT_ERR(chan_rekey_consume(&b.s, bad, sizeof(bad), hdr, 4, out, &reply), MPC_E_AUTH);
		memcpy(bad, m, sizeof(bad));
		memset(bad + 2, 0, CHAN_KEYBYTES); /* low-order ephemeral */
		ASSERT_ERR(chan_rekey_consume(&b.s, bad, sizeof(bad), hdr, 4, out, &reply), MPC_E_AUTH);
		ASSERT_ERR(chan_rekey_consume(&b.s, m, sizeof(m) - 1, hdr, 4, out, &reply), MPC_E_AUTH);
		memcpy(bad, m, sizeof(bad));
		bad[1] = 3; /* a confirmation with nothing to confirm */
		ASSERT_ERR(chan_rekey_consume(&b.s, bad, sizeof(bad), hdr, 4, out, &reply), MPC_E_AUTH);
		ASSERT_MEM_EQ(&before, &b.s, sizeof(before));
	}
	/* the genuine offer still works */
	deliver(&a, &b);
	deliver(&b, &a);
	deliver(&a, &b);
	ASSERT_EQ(b.s.rekeys, 1);
	link_free(&a, &b);
	return 0;
}

/* Both ends offer at once: the handshake initiator's offer wins, one exchange. */
TEST(rekey_both_offer)
{
	for (int c = 0; c < n_ciphers(); c++) {
		struct end a, b; /* a initiated the handshake */

		link_up(&a, &b, (enum chan_cipher)c);
		ASSERT(a.s.initiator && !b.s.initiator);
		start_rekey(&a);
		start_rekey(&b);
		deliver(&b, &a); /* b's offer: a drops it, no reply */
		ASSERT(a.qt - a.qh == 1);
		ASSERT_EQ(a.s.rk, CHAN_RK_OFFERED);
		deliver(&a, &b); /* a's offer: b gives up its own and answers */
		ASSERT_EQ(b.s.rk, CHAN_RK_ANSWERED);
		ASSERT(sodium_is_zero(b.s.rk_e, CHAN_KEYBYTES));
		deliver(&b, &a);
		deliver(&a, &b);
		ASSERT_EQ(a.s.rekeys, 1);
		ASSERT_EQ(b.s.rekeys, 1);
		send_data(&a);
		send_data(&b);
		deliver(&a, &b);
		deliver(&b, &a);
		link_free(&a, &b);
	}
	return 0;
}

/* Thresholds: due at the count, not while under way; REJECT limits refuse, a rekey resets them. */
TEST(rekey_due_and_reject)
{
	struct end a, b;
	uint8_t pt[8] = { 1 }, ct[8 + CHAN_TAGBYTES], out[8], hdr[4], rk[CHAN_REKEY_SEALED];

	link_up(&a, &b, CHAN_CHACHAPOLY);
	ASSERT(!chan_rekey_due(&a.s));
	a.s.rekey_frames = 3;
	send_data(&a);
	send_data(&a);
	ASSERT(!chan_rekey_due(&a.s));
	send_data(&a);
	ASSERT(chan_rekey_due(&a.s));
	start_rekey(&a);
	ASSERT(!chan_rekey_due(&a.s));
	ASSERT_ERR(chan_rekey_start(&a.s, hdr, 4, rk), MPC_E_ARG);
	while (a.qh < a.qt || b.qh < b.qt) {
		if (a.qh < a.qt)
			deliver(&a, &b);
		if (b.qh < b.qt)
			deliver(&b, &a);
	}
	ASSERT_EQ(a.s.rekeys, 1);
	/* bytes threshold */
	a.s.rekey_frames = 0;
	a.s.rekey_bytes = 100;
	ASSERT(!chan_rekey_due(&a.s));
	a.s.send_bytes = 100;
	ASSERT(chan_rekey_due(&a.s));
	a.s.send_bytes = 0;
	/* REJECT_AFTER_FRAMES: the last frame under a key, then nothing */
	hdr_for(hdr, sizeof(pt));
	a.s.send_n = b.s.recv_n = CHAN_REJECT_AFTER_FRAMES - 1;
	ASSERT_OK(chan_seal(&a.s, hdr, 4, pt, sizeof(pt), ct));
	ASSERT_OK(chan_open(&b.s, hdr, 4, ct, sizeof(ct), out));
	ASSERT_ERR(chan_seal(&a.s, hdr, 4, pt, sizeof(pt), ct), MPC_E_RANGE);
	ASSERT_ERR(chan_open(&b.s, hdr, 4, ct, sizeof(ct), out), MPC_E_RANGE);
	/* REJECT_AFTER_BYTES */
	b.s.send_bytes = a.s.recv_bytes = CHAN_REJECT_AFTER_BYTES - sizeof(pt);
	b.s.send_n = a.s.recv_n = 0;
	ASSERT_OK(chan_seal(&b.s, hdr, 4, pt, sizeof(pt), ct));
	ASSERT_OK(chan_open(&a.s, hdr, 4, ct, sizeof(ct), out));
	ASSERT_ERR(chan_seal(&b.s, hdr, 4, pt, 1, ct), MPC_E_RANGE);
	link_free(&a, &b);
	return 0;
}

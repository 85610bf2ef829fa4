/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * Transport frames after the handshake (chan.c): sealing and opening with
 * implicit counters, the per-key limits, and rekeying inside the link.
 *
 * Rekeying, in the shape of WireGuard's timers (REKEY_AFTER_* starts a new
 * exchange, REJECT_AFTER_* refuses a key that was never replaced) but
 * without a new handshake, so the link, its counters' order and the jobs on
 * it go on:
 *
 *   I -> R  offer    e_I      sealed under the old keys
 *   R -> I  answer   e_R      R's send key switches right after it
 *   I -> R  confirm           I's receive key switched on the answer,
 *                             its send key switches right after this
 *
 *   root', t  = HKDF(root, DH(e_I, e_R) || e_I || e_R)
 *   k_IR, k_RI = HKDF(t, empty)
 *
 * Each direction switches at a message of its own sender, so every frame
 * is opened under the key it was sealed with, and a frame sealed under a
 * replaced key fails to authenticate. Fresh ephemerals give the new keys
 * forward secrecy (the old keys, the root and the ephemerals are
 * overwritten at once); the root chains each exchange to the handshake
 * that authenticated both static keys.
 */
#include "chan.h"
#include "chan-int.h"

#include <sodium.h>
#include <string.h>

enum { STEP_OFFER = 1, STEP_ANSWER = 2, STEP_CONFIRM = 3 };

static const char *rk_name(enum chan_rekey_state st)
{
	return st == CHAN_RK_OFFERED ? "offered" : st == CHAN_RK_ANSWERED ? "answered" : "idle";
}

static int frame_fits(size_t len)
{
	if (len > CHAN_FRAME_MAX)
		return mpc_fail(MPC_E_TOOBIG, "frame: %zu bytes over the %zu-byte limit", len,
				CHAN_FRAME_MAX);
	return 0;
}

int chan_seal_reserve(struct chan_session *s, size_t frames, size_t bytes, uint64_t *first)
{
	/* REJECT_AFTER: a key that was not replaced in time is not used further. */
	if (frames > CHAN_REJECT_AFTER_FRAMES - s->send_n ||
	    bytes > CHAN_REJECT_AFTER_BYTES - s->send_bytes)
		return mpc_fail(MPC_E_RANGE, "frame: send key used up (%llu frames) without a rekey",
				(unsigned long long)s->send_n);
	*first = s->send_n;
	s->send_n += frames;
	s->send_bytes += bytes;
	return 0;
}

int chan_seal_at(const struct chan_session *s, uint64_t n, const uint8_t *ad, size_t adlen,
		 const uint8_t *pt, size_t len, uint8_t *ct)
{
	uint8_t nonce[12];
	int ret;

	if ((ret = frame_fits(len)) != 0)
		return ret;
	chan__make_nonce(nonce, n, s->cipher);
	if (s->cipher == CHAN_AESGCM)
		crypto_aead_aes256gcm_encrypt_afternm(ct, NULL, pt, len, ad, adlen, NULL, nonce,
						      &s->send_st);
	else
		crypto_aead_chacha20poly1305_ietf_encrypt(ct, NULL, pt, len, ad, adlen, NULL,
							  nonce, s->send_key);
	return 0;
}

int chan_seal(struct chan_session *s, const uint8_t *ad, size_t adlen, const uint8_t *pt,
	      size_t len, uint8_t *ct)
{
	uint64_t n = 0;
	int ret;

	/* Before the counter is taken: a frame refused leaves no gap. */
	if ((ret = frame_fits(len)) != 0 || (ret = chan_seal_reserve(s, 1, len, &n)) != 0)
		return ret;
	return chan_seal_at(s, n, ad, adlen, pt, len, ct);
}

int chan_open(struct chan_session *s, const uint8_t *ad, size_t adlen, const uint8_t *ct,
	      size_t len, uint8_t *pt)
{
	uint8_t nonce[12];

	if (len < CHAN_TAGBYTES)
		return mpc_fail(MPC_E_AUTH, "frame: %zu bytes, shorter than its tag", len);
	if (len - CHAN_TAGBYTES > CHAN_FRAME_MAX)
		return mpc_fail(MPC_E_AUTH, "frame: %zu bytes over the %zu-byte limit",
				len - CHAN_TAGBYTES, CHAN_FRAME_MAX);
	if (s->recv_n >= CHAN_REJECT_AFTER_FRAMES ||
	    len - CHAN_TAGBYTES > CHAN_REJECT_AFTER_BYTES - s->recv_bytes)
		return mpc_fail(MPC_E_RANGE, "frame: receive key used up (%llu frames) without a rekey",
				(unsigned long long)s->recv_n);
	chan__make_nonce(nonce, s->recv_n, s->cipher);
	if ((s->cipher == CHAN_AESGCM ?
		     crypto_aead_aes256gcm_decrypt_afternm(pt, NULL, NULL, ct, len, ad, adlen,
							   nonce, &s->recv_st) :
		     crypto_aead_chacha20poly1305_ietf_decrypt(pt, NULL, NULL, ct, len, ad, adlen,
							       nonce, s->recv_key)) != 0)
		return mpc_fail(MPC_E_AUTH,
				"frame %llu: does not authenticate (tampered, replayed, "
				"reordered or after a lost frame)",
				(unsigned long long)s->recv_n);
	s->recv_n++;
	s->recv_bytes += len - CHAN_TAGBYTES;
	return 0;
}

/* The new key overwrites the old one (and its AES expansion) in place. */
static void set_send(struct chan_session *s, const uint8_t k[static CHAN_KEYBYTES])
{
	memcpy(s->send_key, k, CHAN_KEYBYTES);
	s->send_n = 0;
	s->send_bytes = 0;
	if (s->cipher == CHAN_AESGCM)
		crypto_aead_aes256gcm_beforenm(&s->send_st, s->send_key);
}

static void set_recv(struct chan_session *s, const uint8_t k[static CHAN_KEYBYTES])
{
	memcpy(s->recv_key, k, CHAN_KEYBYTES);
	s->recv_n = 0;
	s->recv_bytes = 0;
	if (s->cipher == CHAN_AESGCM)
		crypto_aead_aes256gcm_beforenm(&s->recv_st, s->recv_key);
}

/* root', k_IR, k_RI from our ephemeral and the peer's; both publics bound. */
static int derive(const struct chan_session *s, const uint8_t e_priv[static CHAN_KEYBYTES],
		  const uint8_t peer_e[static CHAN_KEYBYTES],
		  const uint8_t e_i[static CHAN_KEYBYTES], const uint8_t e_r[static CHAN_KEYBYTES],
		  uint8_t root[static CHAN_KEYBYTES], uint8_t k_ir[static CHAN_KEYBYTES],
		  uint8_t k_ri[static CHAN_KEYBYTES])
{
	uint8_t ikm[3 * CHAN_KEYBYTES], t[CHAN_KEYBYTES];
	int r = 0;

	/* libsodium returns -1 when the shared point is all zeros. */
	if (crypto_scalarmult(ikm, e_priv, peer_e) != 0) {
		r = mpc_fail(MPC_E_AUTH, "rekey: low-order ephemeral key");
		goto out;
	}
	memcpy(ikm + CHAN_KEYBYTES, e_i, CHAN_KEYBYTES);
	memcpy(ikm + 2 * CHAN_KEYBYTES, e_r, CHAN_KEYBYTES);
	chan__hkdf2(root, t, s->root, ikm, sizeof(ikm));
	chan__hkdf2(k_ir, k_ri, t, NULL, 0);
out:
	sodium_memzero(ikm, sizeof(ikm));
	sodium_memzero(t, sizeof(t));
	return r;
}

/* Seal rekey message (step, key) into out under the current send key. */
static int seal_msg(struct chan_session *s, int step, const uint8_t *key, const uint8_t *ad,
		    size_t adlen, uint8_t out[static CHAN_REKEY_SEALED])
{
	uint8_t m[CHAN_REKEY_BYTES] = { 0, (uint8_t)step };

	if (key)
		memcpy(m + 2, key, CHAN_KEYBYTES);
	return chan_seal(s, ad, adlen, m, sizeof(m), out);
}

int chan_is_rekey(const uint8_t *pt, size_t len)
{
	return len > 0 && pt[0] == 0;
}

int chan_rekey_due(const struct chan_session *s)
{
	uint64_t frames = s->rekey_frames ? s->rekey_frames : CHAN_REKEY_AFTER_FRAMES;
	uint64_t bytes = s->rekey_bytes ? s->rekey_bytes : CHAN_REKEY_AFTER_BYTES;

	return s->rk == CHAN_RK_IDLE && (s->send_n >= frames || s->send_bytes >= bytes);
}

int chan_rekey_start(struct chan_session *s, const uint8_t *ad, size_t adlen,
		     uint8_t out[static CHAN_REKEY_SEALED])
{
	uint8_t e[CHAN_KEYBYTES], e_pub[CHAN_KEYBYTES];
	int r;

	if (s->rk != CHAN_RK_IDLE) {
		r = mpc_fail(MPC_E_ARG, "rekey: already under way");
		goto out;
	}
	randombytes_buf(e, sizeof(e));
	crypto_scalarmult_base(e_pub, e);
	/* offer: e_I */
	if ((r = seal_msg(s, STEP_OFFER, e_pub, ad, adlen, out)) != 0)
		goto out;
	memcpy(s->rk_e, e, CHAN_KEYBYTES);
	s->rk = CHAN_RK_OFFERED;
out:
	sodium_memzero(e, sizeof(e));
	return r;
}

/* R, on an offer: answer with e_R, send under k_RI from now on, expect a confirmation. */
static int on_offer(struct chan_session *s, const uint8_t e_i[static CHAN_KEYBYTES],
		    const uint8_t *ad, size_t adlen, uint8_t out[static CHAN_REKEY_SEALED])
{
	uint8_t e[CHAN_KEYBYTES], e_r[CHAN_KEYBYTES], root[CHAN_KEYBYTES];
	uint8_t k_ir[CHAN_KEYBYTES], k_ri[CHAN_KEYBYTES];
	int r;

	randombytes_buf(e, sizeof(e));
	crypto_scalarmult_base(e_r, e);
	if ((r = derive(s, e, e_i, e_i, e_r, root, k_ir, k_ri)) != 0)
		goto out;
	/* answer: e_R, the last frame under the old send key */
	if ((r = seal_msg(s, STEP_ANSWER, e_r, ad, adlen, out)) != 0)
		goto out;
	/* a tie lost: our own offer is dropped */
	sodium_memzero(s->rk_e, CHAN_KEYBYTES);
	memcpy(s->root, root, CHAN_KEYBYTES);
	set_send(s, k_ri);
	memcpy(s->rk_recv, k_ir, CHAN_KEYBYTES);
	s->rk = CHAN_RK_ANSWERED;
out:
	sodium_memzero(e, sizeof(e));
	sodium_memzero(root, sizeof(root));
	sodium_memzero(k_ir, sizeof(k_ir));
	sodium_memzero(k_ri, sizeof(k_ri));
	return r;
}

/* I, on the answer: receive under k_RI at once, confirm, then send under k_IR. */
static int on_answer(struct chan_session *s, const uint8_t e_r[static CHAN_KEYBYTES],
		     const uint8_t *ad, size_t adlen, uint8_t out[static CHAN_REKEY_SEALED])
{
	uint8_t e_i[CHAN_KEYBYTES], root[CHAN_KEYBYTES];
	uint8_t k_ir[CHAN_KEYBYTES], k_ri[CHAN_KEYBYTES];
	int r;

	crypto_scalarmult_base(e_i, s->rk_e);
	if ((r = derive(s, s->rk_e, e_r, e_i, e_r, root, k_ir, k_ri)) != 0)
		goto out;
	/* confirm: the last frame under the old send key */
	if ((r = seal_msg(s, STEP_CONFIRM, NULL, ad, adlen, out)) != 0)
		goto out;
	sodium_memzero(s->rk_e, CHAN_KEYBYTES);
	memcpy(s->root, root, CHAN_KEYBYTES);
	set_recv(s, k_ri);
	set_send(s, k_ir);
	s->rk = CHAN_RK_IDLE;
	s->rekeys++;
out:
	sodium_memzero(root, sizeof(root));
	sodium_memzero(k_ir, sizeof(k_ir));
	sodium_memzero(k_ri, sizeof(k_ri));
	return r;
}

int chan_rekey_consume(struct chan_session *s, const uint8_t *pt, size_t len, const uint8_t *ad,
		       size_t adlen, uint8_t out[static CHAN_REKEY_SEALED], int *reply)
{
	int r = 0;

	*reply = 0;
	/* Cheap checks first: size, marker, step, state. */
	if (len != CHAN_REKEY_BYTES || pt[0] != 0)
		return mpc_fail(MPC_E_AUTH, "rekey: malformed message of %zu bytes", len);
	switch (pt[1]) {
	case STEP_OFFER:
		/* Both offered at once: the handshake initiator's offer wins. */
		if (s->rk == CHAN_RK_OFFERED && s->initiator)
			return 0;
		if (s->rk == CHAN_RK_ANSWERED)
			break;
		if ((r = on_offer(s, pt + 2, ad, adlen, out)) == 0)
			*reply = 1;
		return r;
	case STEP_ANSWER:
		if (s->rk != CHAN_RK_OFFERED)
			break;
		if ((r = on_answer(s, pt + 2, ad, adlen, out)) == 0)
			*reply = 1;
		return r;
	case STEP_CONFIRM:
		if (s->rk != CHAN_RK_ANSWERED)
			break;
		if (!sodium_is_zero(pt + 2, CHAN_KEYBYTES))
			return mpc_fail(MPC_E_AUTH, "rekey: malformed confirmation");
		set_recv(s, s->rk_recv);
		sodium_memzero(s->rk_recv, CHAN_KEYBYTES);
		s->rk = CHAN_RK_IDLE;
		s->rekeys++;
		return 0;
	default:
		return mpc_fail(MPC_E_AUTH, "rekey: unknown step %u", pt[1]);
	}
	return mpc_fail(MPC_E_AUTH, "rekey: step %u out of turn (state %s)", pt[1], rk_name(s->rk));
}

void chan_session_wipe(struct chan_session *s)
{
	sodium_memzero(s, sizeof(*s));
}

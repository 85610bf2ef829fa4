/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
#ifndef MPC_CHAN_H
#define MPC_CHAN_H

#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

#include "err.h"

/*
 * Peer link crypto: Noise_IK_25519_ChaChaPoly_SHA256, or
 * Noise_IK_25519_AESGCM_SHA256 (the initiator's choice, hs->cipher), with
 * the prologue "mpcd peer link v1", modelled on WireGuard's noise.c.
 * AES-GCM needs AES-NI and PCLMUL (chan_aesgcm_available()); where the
 * CPU has them it seals bulk data about 1.7 times faster here.
 *
 *   <- s
 *   ...
 *   -> e, es, s, ss     payload: 8-byte big-endian timestamp
 *   <- e, ee, se        payload: empty
 *
 * Both sides pin each other's static X25519 public key (configured per
 * peer). The initiator names the responder's key up front; the responder
 * learns the initiator's key from message 1 and must then check that it is
 * a configured peer and that the timestamp is newer than the last one it
 * accepted from that peer (this refuses replayed initiations, as WireGuard
 * does with TAI64N). Fresh ephemerals per handshake give forward secrecy.
 *
 * Everything here is pure: no I/O, no clocks, no allocation. Every function
 * works on local copies and changes *hs / *s only when all checks passed, so
 * a forged or corrupt message leaves the state as it was. Handshake state
 * starts zeroed (CHAN_HS_NONE): `struct chan_hs hs = {0};` or chan_hs_wipe().
 * The daemon calls sodium_init() once before any of this.
 *
 * Returns: 0; MPC_E_AUTH for anything a peer sent that does not verify;
 * MPC_E_ARG for a call in the wrong handshake state; MPC_E_RANGE when a
 * key is used up (past CHAN_REJECT_AFTER_*: rekey sooner); MPC_E_TOOBIG for a frame over
 * CHAN_FRAME_MAX. The thread's error message (mpc_errmsg) says which.
 */
#define CHAN_KEYBYTES	32
#define CHAN_TAGBYTES	16
#define CHAN_TSBYTES	8
/* e, enc(s), enc(timestamp) */
#define CHAN_HS1_BYTES	(CHAN_KEYBYTES + CHAN_KEYBYTES + CHAN_TAGBYTES + CHAN_TSBYTES + CHAN_TAGBYTES)
/* e, enc(empty) */
#define CHAN_HS2_BYTES	(CHAN_KEYBYTES + CHAN_TAGBYTES)
/* Largest plaintext in one transport frame. */
#define CHAN_FRAME_MAX	((size_t)1 << 20)

enum chan_cipher {
	CHAN_CHACHAPOLY = 0,
	CHAN_AESGCM = 1,
};

/* This CPU can run AES-GCM (libsodium needs AES-NI and PCLMUL). */
int chan_aesgcm_available(void);
const char *chan_cipher_name(enum chan_cipher c);

enum chan_hs_state {
	CHAN_HS_NONE = 0,
	CHAN_HS_INIT_SENT,	/* initiator: message 1 out, waiting for 2 */
	CHAN_HS_INIT_CONSUMED,	/* responder: message 1 in, 2 not yet made */
	CHAN_HS_DONE,		/* keys split; only h remains */
};

struct chan_hs {
	/* set by the caller before the first message (zero: ChaChaPoly) */
	enum chan_cipher cipher;
	/* read-only */
	enum chan_hs_state state;
	/* handshake hash; after CHAN_HS_DONE it binds the session (not secret) */
	uint8_t h[CHAN_KEYBYTES];
	/* private */
	uint8_t ck[CHAN_KEYBYTES];	/* chaining key */
	uint8_t e_priv[CHAN_KEYBYTES];	/* initiator: our ephemeral */
	uint8_t re[CHAN_KEYBYTES];	/* responder: the initiator's ephemeral */
	uint8_t rs[CHAN_KEYBYTES];	/* the peer's static public key */
};

/*
 * Rekeying (crypto/chan_frame.c), like WireGuard's REKEY_AFTER_* and
 * REJECT_AFTER_*, but inside the link: an X25519 exchange of fresh
 * ephemerals in three rekey messages sealed as ordinary frames, so the link
 * and the jobs on it never stop (docs/wire.md, "Rekeying"). A key is due
 * for replacement after CHAN_REKEY_AFTER_FRAMES frames or
 * CHAN_REKEY_AFTER_BYTES plaintext bytes sent under it (the daemon adds a
 * timer, RekeyAfter); chan_seal and chan_open refuse a key past the
 * REJECT limits, 16 and 4 times further, far below what the AEADs allow
 * (AES-GCM: about 2^38 bytes per key at a 2^-57 margin, RFC 8446 5.5;
 * ChaCha20-Poly1305 more).
 */
#define CHAN_REKEY_AFTER_FRAMES	(UINT64_C(1) << 20)
#define CHAN_REKEY_AFTER_BYTES	(UINT64_C(1) << 34)
#define CHAN_REJECT_AFTER_FRAMES (UINT64_C(1) << 24)
#define CHAN_REJECT_AFTER_BYTES	(UINT64_C(1) << 36)
/* A rekey message: 0x00, step (1 offer, 2 answer, 3 confirm), an X25519 public key. */
#define CHAN_REKEY_BYTES	(2 + CHAN_KEYBYTES)
/* ... and its frame body (the AEAD ciphertext) */
#define CHAN_REKEY_SEALED	(CHAN_REKEY_BYTES + CHAN_TAGBYTES)

enum chan_rekey_state {
	CHAN_RK_IDLE = 0,
	CHAN_RK_OFFERED,	/* our offer out; waiting for the answer */
	CHAN_RK_ANSWERED,	/* our answer out, send key switched; waiting for the confirmation */
};

/* Transport keys of one link; wipe with chan_session_wipe on close. */
struct chan_session {
	enum chan_cipher cipher;
	int initiator;		/* we sent handshake message 1: our offer wins a rekey tie */
	uint8_t send_key[CHAN_KEYBYTES];
	uint8_t recv_key[CHAN_KEYBYTES];
	uint64_t send_n;	/* next nonce to seal with */
	uint64_t recv_n;	/* next nonce expected */
	uint64_t send_bytes;	/* plaintext bytes under the current send key */
	uint64_t recv_bytes;
	uint32_t rekeys;	/* rekeys completed */
	enum chan_rekey_state rk;
	/* chan_rekey_due thresholds; 0: CHAN_REKEY_AFTER_* (tests set small ones) */
	uint64_t rekey_frames, rekey_bytes;
	/* private: the secret the next keys derive from, replaced at each rekey */
	uint8_t root[CHAN_KEYBYTES];
	uint8_t rk_e[CHAN_KEYBYTES];	/* OFFERED: our ephemeral private key */
	uint8_t rk_recv[CHAN_KEYBYTES];	/* ANSWERED: the receive key after the confirmation */
	/* AES-GCM: the expanded keys */
	crypto_aead_aes256gcm_state send_st, recv_st;
};

/*
 * Initiator, state NONE -> INIT_SENT. Writes message 1 to out, addressed
 * to the pinned peer_pub, carrying timestamp. MPC_E_AUTH when peer_pub is a
 * low-order point (a broken config).
 */
int chan_hs_create_init(struct chan_hs *hs, const uint8_t my_priv[static CHAN_KEYBYTES],
			const uint8_t my_pub[static CHAN_KEYBYTES],
			const uint8_t peer_pub[static CHAN_KEYBYTES], uint64_t timestamp,
			uint8_t out[static CHAN_HS1_BYTES]) MPC_MUST_CHECK;

/*
 * Responder, state NONE -> INIT_CONSUMED. On success, peer_pub is the
 * initiator's static key and *timestamp its timestamp: the caller refuses
 * the link unless the key is a configured peer and the timestamp is newer
 * than the last accepted from it (then chan_hs_wipe). On failure the
 * outputs are zeroed and hs is unchanged.
 */
int chan_hs_consume_init(struct chan_hs *hs, const uint8_t my_priv[static CHAN_KEYBYTES],
			 const uint8_t my_pub[static CHAN_KEYBYTES],
			 const uint8_t in[static CHAN_HS1_BYTES],
			 uint8_t peer_pub[static CHAN_KEYBYTES],
			 uint64_t *timestamp) MPC_MUST_CHECK;

/* Responder, INIT_CONSUMED -> DONE: writes message 2 and fills *s. */
int chan_hs_create_resp(struct chan_hs *hs, uint8_t out[static CHAN_HS2_BYTES],
			struct chan_session *s) MPC_MUST_CHECK;

/*
 * Initiator, INIT_SENT -> DONE: checks message 2 and fills *s. Takes the
 * static private key again (for se) so that hs never holds a copy of it.
 * A forged message 2 leaves hs in INIT_SENT, so the genuine one still works.
 */
int chan_hs_consume_resp(struct chan_hs *hs, const uint8_t my_priv[static CHAN_KEYBYTES],
			 const uint8_t in[static CHAN_HS2_BYTES],
			 struct chan_session *s) MPC_MUST_CHECK;

/*
 * Transport. ct = AEAD(send_key, nonce = send_n, ad, pt), len + CHAN_TAGBYTES
 * bytes; ad is the frame header the caller sends in clear. pt and ct may be
 * the same buffer. The counter advances only on success.
 */
int chan_seal(struct chan_session *s, const uint8_t *ad, size_t adlen, const uint8_t *pt,
	      size_t len, uint8_t *ct) MPC_MUST_CHECK;

/*
 * The same in two steps, for frames sealed at once on several threads:
 * chan_seal_reserve takes `frames` counters, [*first, *first + frames),
 * for `bytes` of plaintext in all (MPC_E_RANGE past the key's limits, as
 * chan_seal); chan_seal_at seals with counter n from them and only reads
 * the session, so threads may seal different counters at the same time.
 * The frames are chan_seal's in counter order. The caller holds the lock
 * it seals under from the reservation until every frame is sealed (no
 * rekey may switch the key in between) and sends them in counter order;
 * a reserved counter left unsealed breaks the link (the peer expects it).
 */
int chan_seal_reserve(struct chan_session *s, size_t frames, size_t bytes,
		      uint64_t *first) MPC_MUST_CHECK;
int chan_seal_at(const struct chan_session *s, uint64_t n, const uint8_t *ad, size_t adlen,
		 const uint8_t *pt, size_t len, uint8_t *ct) MPC_MUST_CHECK;

/*
 * The reverse: len is the ciphertext length (plaintext len - CHAN_TAGBYTES
 * into pt). MPC_E_AUTH on a short, oversize, forged, replayed, reordered or
 * out-of-sequence frame; recv_n advances only on success, so after a
 * dropped frame every later one fails and the link must be closed.
 */
int chan_open(struct chan_session *s, const uint8_t *ad, size_t adlen, const uint8_t *ct,
	      size_t len, uint8_t *pt) MPC_MUST_CHECK;

/*
 * Rekeying. Every call here changes sending state, so the caller holds the
 * lock it seals frames under, and sends the frame these functions seal
 * before any other: the send key switches right after it.
 *
 * A frame's plaintext whose first byte is 0 is a rekey message (no protobuf
 * message starts with field number 0): give it to chan_rekey_consume.
 */
int chan_is_rekey(const uint8_t *pt, size_t len);

/* Idle, and the send key is past the session's frame or byte threshold. */
int chan_rekey_due(const struct chan_session *s);

/*
 * IDLE -> OFFERED: seals an offer (a fresh ephemeral) into out, under the
 * current send key, with ad (the header of a CHAN_REKEY_BYTES frame).
 * MPC_E_ARG when a rekey is already under way.
 */
int chan_rekey_start(struct chan_session *s, const uint8_t *ad, size_t adlen,
		     uint8_t out[static CHAN_REKEY_SEALED]) MPC_MUST_CHECK;

/*
 * pt: the plaintext of a frame chan_open just accepted, with chan_is_rekey.
 * An offer is answered (*reply = 1, out sealed with ad; the send key
 * switches after it); an answer switches the receive key at once and is
 * confirmed (*reply = 1; the send key switches after it); a confirmation
 * switches the receive key. Both ends offering at once: the handshake
 * initiator's offer wins, the other is dropped. Old keys are overwritten at
 * the switch. MPC_E_AUTH for a message out of turn (a replay) or malformed:
 * close the link. On failure nothing changed.
 */
int chan_rekey_consume(struct chan_session *s, const uint8_t *pt, size_t len, const uint8_t *ad,
		       size_t adlen, uint8_t out[static CHAN_REKEY_SEALED],
		       int *reply) MPC_MUST_CHECK;

void chan_hs_wipe(struct chan_hs *hs);
void chan_session_wipe(struct chan_session *s);

#endif

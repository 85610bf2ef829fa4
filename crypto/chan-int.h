/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
#ifndef MPC_CHAN_INT_H
#define MPC_CHAN_INT_H

/*
 * Private to crypto/chan.c, chan_frame.c and their tests: the Noise IK core with the
 * ephemeral private key, prologue and payload passed in, so that tests can
 * check it against the published Noise test vectors (cacophony / snow use
 * other prologues and payloads) and pin a regression KAT. The public
 * functions in chan.h are thin wrappers that draw a fresh ephemeral, use
 * CHAN__PROLOGUE and the fixed payloads. Nothing outside crypto/chan.c and
 * tests/ includes this.
 */
#include "chan.h"

#define CHAN__PROLOGUE	"mpcd peer link v1"
/* Largest handshake payload the core accepts (ours are 8 and 0 bytes). */
#define CHAN__PAYLOAD_MAX 64
/* e + enc(s) in message 1; e in message 2 (payload + tag follow). */
#define CHAN__HS1_FIXED	(CHAN_KEYBYTES + CHAN_KEYBYTES + CHAN_TAGBYTES)
#define CHAN__HS2_FIXED	CHAN_KEYBYTES

/* Labels the rekey root derived from the handshake's final chaining key. */
#define CHAN__REKEY_LABEL "mpcd rekey v1"

/*
 * Noise's HKDF with two outputs: temp = HMAC(ck, ikm); o1 = HMAC(temp,
 * 0x01); o2 = HMAC(temp, o1 || 0x02). o1 may alias ck. Shared by the
 * handshake (chan.c) and rekeying (chan_frame.c).
 */
void chan__hkdf2(uint8_t o1[static CHAN_KEYBYTES], uint8_t o2[static CHAN_KEYBYTES],
		 const uint8_t ck[static CHAN_KEYBYTES], const uint8_t *ikm, size_t ikmlen);
/* 4 zero bytes, then n: little-endian for ChaChaPoly, big-endian for AESGCM. */
void chan__make_nonce(uint8_t nonce[static 12], uint64_t n, enum chan_cipher c);

/* out: CHAN__HS1_FIXED + plen + CHAN_TAGBYTES bytes. */
int chan__write_init(struct chan_hs *hs, const uint8_t e_priv[static CHAN_KEYBYTES],
		     const uint8_t s_priv[static CHAN_KEYBYTES],
		     const uint8_t s_pub[static CHAN_KEYBYTES],
		     const uint8_t rs[static CHAN_KEYBYTES], const uint8_t *prologue,
		     size_t prologue_len, const uint8_t *payload, size_t plen,
		     uint8_t *out) MPC_MUST_CHECK;

/* payload: inlen - CHAN__HS1_FIXED - CHAN_TAGBYTES bytes, written on success. */
int chan__read_init(struct chan_hs *hs, const uint8_t s_priv[static CHAN_KEYBYTES],
		    const uint8_t s_pub[static CHAN_KEYBYTES], const uint8_t *prologue,
		    size_t prologue_len, const uint8_t *in, size_t inlen,
		    uint8_t rs[static CHAN_KEYBYTES], uint8_t *payload) MPC_MUST_CHECK;

/* out: CHAN__HS2_FIXED + plen + CHAN_TAGBYTES bytes. */
int chan__write_resp(struct chan_hs *hs, const uint8_t e_priv[static CHAN_KEYBYTES],
		     const uint8_t *payload, size_t plen, uint8_t *out,
		     struct chan_session *s) MPC_MUST_CHECK;

/* payload: inlen - CHAN__HS2_FIXED - CHAN_TAGBYTES bytes, written on success. */
int chan__read_resp(struct chan_hs *hs, const uint8_t s_priv[static CHAN_KEYBYTES],
		    const uint8_t *in, size_t inlen, uint8_t *payload,
		    struct chan_session *s) MPC_MUST_CHECK;

#endif

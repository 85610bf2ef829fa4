/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * libFuzzer target for the peer link crypto: arbitrary bytes as handshake
 * message 1 (chan_hs_consume_init, and the variable-length core), as
 * message 2 (chan_hs_consume_resp) and as a transport frame (chan_open on
 * a valid session, and chan_rekey_consume on the same bytes as plaintext). The first byte picks the target; its high bit says
 * "XOR the rest onto a valid message" instead, so that an all-zero input
 * reaches the success paths without a seed corpus and the fuzzer explores
 * near-valid messages; bit 5 picks the suite (ChaChaPoly or AESGCM). Checked: a failed call changes no state and clears
 * its outputs; a successful one yields matching sessions.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -I. -Icrypto \
 *     tests/fuzz/fuzz_chan.c crypto/chan.c crypto/err.c -lsodium
 */
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chan-int.h"
#include "chan.h"
#include "err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct fixture {
	enum chan_cipher cipher;
	uint8_t is[32], ip[32], rs[32], rp[32], ie[32], re[32];
	struct chan_hs sent;		/* initiator after message 1 */
	struct chan_hs consumed;	/* responder after message 1 */
	struct chan_session si, sr;	/* the sessions both ends agree on */
	uint8_t m1[CHAN_HS1_BYTES], m2[CHAN_HS2_BYTES];
	uint8_t frame[4 + 64 + CHAN_TAGBYTES];	/* header (AD) || sealed frame */
	int ready;
} fixtures[2], *F; /* ChaChaPoly, AESGCM; F: this input's */

#define CHECK(c)                \
	do {                    \
		if (!(c))       \
			abort(); \
	} while (0)

static void setup(struct fixture *f, enum chan_cipher cipher)
{
	static const uint8_t ts[8] = { 0, 0, 0, 0, 0, 0, 0, 42 };
	uint8_t seen[32], pt[64] = { 0 };
	struct chan_hs hi = { .cipher = cipher }, hr = { .cipher = cipher };

	F = f;
	F->cipher = cipher;
	for (int i = 0; i < 32; i++) {
		F->is[i] = (uint8_t)(1 + i);
		F->rs[i] = (uint8_t)(2 + i);
		F->ie[i] = (uint8_t)(3 + i);
		F->re[i] = (uint8_t)(4 + i);
	}
	CHECK(crypto_scalarmult_base(F->ip, F->is) == 0);
	CHECK(crypto_scalarmult_base(F->rp, F->rs) == 0);
	CHECK(chan__write_init(&hi, F->ie, F->is, F->ip, F->rp, (const uint8_t *)CHAN__PROLOGUE,
			       sizeof(CHAN__PROLOGUE) - 1, ts, 8, F->m1) == 0);
	F->sent = hi;
	CHECK(chan__read_init(&hr, F->rs, F->rp, (const uint8_t *)CHAN__PROLOGUE,
			      sizeof(CHAN__PROLOGUE) - 1, F->m1, sizeof(F->m1), seen, pt) == 0);
	F->consumed = hr;
	CHECK(chan__write_resp(&hr, F->re, NULL, 0, F->m2, &F->sr) == 0);
	CHECK(chan_hs_consume_resp(&hi, F->is, F->m2, &F->si) == 0);
	F->frame[3] = 64;
	CHECK(chan_seal(&F->si, F->frame, 4, pt, 64, F->frame + 4) == 0);
	F->si.send_n = 0;
	F->ready = 1;
}

/* Responder: message 1 through the public API, then finish if it verified. */
static void fuzz_init(const uint8_t *m, size_t n)
{
	struct chan_hs hr = { .cipher = F->cipher }, zero = { .cipher = F->cipher };
	struct chan_session s;
	uint8_t in[CHAN_HS1_BYTES], seen[32], out[CHAN_HS2_BYTES], pbuf[CHAN__PAYLOAD_MAX];
	uint64_t ts = 1;

	/* the variable-length core takes any length */
	if (chan__read_init(&hr, F->rs, F->rp, (const uint8_t *)CHAN__PROLOGUE,
			    sizeof(CHAN__PROLOGUE) - 1, m, n, seen, pbuf) != 0)
		CHECK(!memcmp(&hr, &zero, sizeof(hr)));
	chan_hs_wipe(&hr);
	hr.cipher = F->cipher;
	if (n < sizeof(in))
		return;
	memcpy(in, m, sizeof(in));
	if (chan_hs_consume_init(&hr, F->rs, F->rp, in, seen, &ts) != 0) {
		CHECK(!memcmp(&hr, &zero, sizeof(hr)));
		CHECK(sodium_is_zero(seen, 32) && ts == 0);
		return;
	}
	/* Only the genuine message 1 gets here. */
	CHECK(!memcmp(in, F->m1, sizeof(in)) && !memcmp(seen, F->ip, 32) && ts == 42);
	CHECK(chan_hs_create_resp(&hr, out, &s) == 0 && hr.state == CHAN_HS_DONE);
	chan_session_wipe(&s);
}

/* Initiator waiting for message 2. */
static void fuzz_resp(const uint8_t *m, size_t n)
{
	struct chan_hs hi = F->sent;
	struct chan_session s = { 0 };
	uint8_t in[CHAN_HS2_BYTES], pbuf[CHAN__PAYLOAD_MAX];

	if (chan__read_resp(&hi, F->is, m, n, pbuf, &s) != 0) {
		CHECK(!memcmp(&hi, &F->sent, sizeof(hi)));
		CHECK(sodium_is_zero((const uint8_t *)&s, sizeof(s)));
	}
	hi = F->sent;
	if (n < sizeof(in))
		return;
	memcpy(in, m, sizeof(in));
	if (chan_hs_consume_resp(&hi, F->is, in, &s) != 0) {
		CHECK(!memcmp(&hi, &F->sent, sizeof(hi)));
		return;
	}
	CHECK(!memcmp(in, F->m2, sizeof(in)));
	CHECK(!memcmp(s.send_key, F->sr.recv_key, 32) && !memcmp(s.recv_key, F->sr.send_key, 32));
}

/* A frame: up to 4 bytes of header (AD), the rest ciphertext. */
static void fuzz_open(const uint8_t *m, size_t n)
{
	struct chan_session s = F->sr;
	size_t adlen = n < 4 ? n : 4;
	uint8_t *pt = malloc(n + 1);

	CHECK(pt);
	if (chan_open(&s, m, adlen, m + adlen, n - adlen, pt) != 0) {
		CHECK(s.recv_n == F->sr.recv_n);
	} else {
		CHECK(s.recv_n == F->sr.recv_n + 1);
		CHECK(n == sizeof(F->frame) && !memcmp(m, F->frame, n));
	}
	free(pt);
}

/*
 * The same bytes as the plaintext of a rekey message from an authenticated
 * but broken peer: refused with the session unchanged, or an offer answered.
 */
static void fuzz_rekey(const uint8_t *m, size_t n)
{
	struct chan_session s = F->sr;
	uint8_t hdr[4] = { 0, 0, 0, CHAN_REKEY_SEALED }, out[CHAN_REKEY_SEALED];
	int reply;

	if (chan_rekey_consume(&s, m, n, hdr, sizeof(hdr), out, &reply) != 0)
		CHECK(!memcmp(&s, &F->sr, sizeof(s)) && !reply);
	else
		CHECK(reply && n == CHAN_REKEY_BYTES && m[1] == 1 && s.rk == CHAN_RK_ANSWERED);
	chan_session_wipe(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t buf[sizeof(fixtures[0].frame) > CHAN_HS1_BYTES ? sizeof(fixtures[0].frame) :
									  CHAN_HS1_BYTES];
	const uint8_t *base;
	size_t n;

	if (!fixtures[0].ready) {
		CHECK(sodium_init() >= 0);
		setup(&fixtures[0], CHAN_CHACHAPOLY);
		if (chan_aesgcm_available())
			setup(&fixtures[1], CHAN_AESGCM);
	}
	if (size < 1)
		return 0;
	/* bit 5 picks the suite (ChaChaPoly where AES-GCM is not available) */
	F = &fixtures[(data[0] & 0x20) && fixtures[1].ready];
	if (data[0] & 0x80) {
		/* near-valid: XOR the input onto a genuine message */
		switch (data[0] % 3) {
		case 0:
			base = F->m1, n = sizeof(F->m1);
			break;
		case 1:
			base = F->m2, n = sizeof(F->m2);
			break;
		default:
			base = F->frame, n = sizeof(F->frame);
			break;
		}
		memcpy(buf, base, n);
		for (size_t i = 1; i < size && i - 1 < n; i++)
			buf[i - 1] ^= data[i];
		/* bit 6 truncates to the input's length */
		if ((data[0] & 0x40) && size - 1 < n)
			n = size - 1;
		data = buf;
		size = n;
		n = (size_t)(base == F->m1 ? 0 : base == F->m2 ? 1 : 2);
	} else {
		n = data[0] % 3;
		data++;
		size--;
	}
	if (n == 0)
		fuzz_init(data, size);
	else if (n == 1)
		fuzz_resp(data, size);
	else
		fuzz_open(data, size), fuzz_rekey(data, size);
	mpc_err_clear();
	return 0;
}

/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * Noise_IK_25519_ChaChaPoly_SHA256 and Noise_IK_25519_AESGCM_SHA256 (Noise
 * Protocol Framework rev. 34, sections 5, 7 and 12) from libsodium primitives, in the shape of WireGuard's
 * noise.c: pure create/consume functions, one comment per token, local
 * copies committed only after every check, secrets wiped at `out:`.
 * Transport frames and rekeying: chan_frame.c.
 */
#include "chan.h"
#include "chan-int.h"

#include <sodium.h>
#include <string.h>

#define HASHLEN 32

/*
 * Both names are at most HASHLEN bytes, so InitializeSymmetric copies them
 * into h padded with zeros (only longer names are hashed).
 */
static const char name_chachapoly[] = "Noise_IK_25519_ChaChaPoly_SHA256";
static const char name_aesgcm[] = "Noise_IK_25519_AESGCM_SHA256";
_Static_assert(sizeof(name_chachapoly) - 1 <= HASHLEN, "protocol name fits h");
_Static_assert(sizeof(name_aesgcm) - 1 <= HASHLEN, "protocol name fits h");
_Static_assert(crypto_aead_aes256gcm_KEYBYTES == CHAN_KEYBYTES, "AES key size");
_Static_assert(crypto_aead_aes256gcm_ABYTES == CHAN_TAGBYTES, "AES-GCM tag size");
_Static_assert(crypto_aead_aes256gcm_NPUBBYTES == 12, "AES-GCM nonce size");
_Static_assert(crypto_scalarmult_BYTES == CHAN_KEYBYTES, "X25519 key size");
_Static_assert(crypto_aead_chacha20poly1305_ietf_KEYBYTES == CHAN_KEYBYTES, "AEAD key size");
_Static_assert(crypto_aead_chacha20poly1305_ietf_ABYTES == CHAN_TAGBYTES, "AEAD tag size");
_Static_assert(crypto_aead_chacha20poly1305_ietf_NPUBBYTES == 12, "AEAD nonce size");
_Static_assert(crypto_auth_hmacsha256_BYTES == HASHLEN, "HMAC size");
_Static_assert(CHAN_HS1_BYTES == CHAN__HS1_FIXED + CHAN_TSBYTES + CHAN_TAGBYTES, "message 1 size");
_Static_assert(CHAN_HS2_BYTES == CHAN__HS2_FIXED + CHAN_TAGBYTES, "message 2 size");

/* Noise's SymmetricState; k is always set when used (IK mixes a key first). */
struct sym {
	enum chan_cipher cipher;
	uint8_t ck[HASHLEN];
	uint8_t h[HASHLEN];
	uint8_t k[CHAN_KEYBYTES];
	uint64_t n;
};

int chan_aesgcm_available(void)
{
	/* The CPU features are probed by sodium_init (idempotent). */
	return sodium_init() >= 0 && crypto_aead_aes256gcm_is_available();
}

const char *chan_cipher_name(enum chan_cipher c)
{
	return c == CHAN_AESGCM ? "AES-256-GCM" : "ChaCha20-Poly1305";
}

static const char *state_name(enum chan_hs_state st)
{
	switch (st) {
	case CHAN_HS_NONE:
		return "none";
	case CHAN_HS_INIT_SENT:
		return "init-sent";
	case CHAN_HS_INIT_CONSUMED:
		return "init-consumed";
	case CHAN_HS_DONE:
		return "done";
	}
	return "invalid";
}

static int want_state(const struct chan_hs *hs, enum chan_hs_state want, const char *op)
{
	if (hs->state == want)
		return 0;
	return mpc_fail(MPC_E_ARG, "handshake: %s in state %s (needs %s)", op,
			state_name(hs->state), state_name(want));
}

/* MixHash: h = SHA256(h || data). */
static void mix_hash(uint8_t h[static HASHLEN], const uint8_t *data, size_t len)
{
	crypto_hash_sha256_state st;

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, h, HASHLEN);
	crypto_hash_sha256_update(&st, data, len);
	crypto_hash_sha256_final(&st, h);
}

/*
 * Noise's HKDF with two outputs: temp = HMAC(ck, ikm); o1 = HMAC(temp, 0x01);
 * o2 = HMAC(temp, o1 || 0x02). o1 may alias ck (MixKey and Split do that).
 */
void chan__hkdf2(uint8_t o1[static HASHLEN], uint8_t o2[static HASHLEN],
		 const uint8_t ck[static HASHLEN], const uint8_t *ikm, size_t ikmlen)
{
	crypto_auth_hmacsha256_state st;
	uint8_t temp[HASHLEN], c;

	crypto_auth_hmacsha256(temp, ikm, ikmlen, ck);
	c = 1;
	crypto_auth_hmacsha256(o1, &c, 1, temp);
	crypto_auth_hmacsha256_init(&st, temp, sizeof(temp));
	crypto_auth_hmacsha256_update(&st, o1, HASHLEN);
	c = 2;
	crypto_auth_hmacsha256_update(&st, &c, 1);
	crypto_auth_hmacsha256_final(&st, o2);
	sodium_memzero(temp, sizeof(temp));
	sodium_memzero(&st, sizeof(st));
}

/* InitializeSymmetric(name), MixHash(prologue), then the `<- s` pre-message. */
static void sym_init(struct sym *y, enum chan_cipher cipher, const uint8_t *prologue,
		     size_t prologue_len, const uint8_t resp_static[static CHAN_KEYBYTES])
{
	const char *name = cipher == CHAN_AESGCM ? name_aesgcm : name_chachapoly;

	memset(y, 0, sizeof(*y));
	y->cipher = cipher;
	memcpy(y->h, name, strlen(name));
	memcpy(y->ck, y->h, HASHLEN);
	mix_hash(y->h, prologue, prologue_len);
	mix_hash(y->h, resp_static, CHAN_KEYBYTES);
}

/* MixKey(DH(priv, pub)); an all-zero result means a low-order point. */
static int mix_dh(struct sym *y, const uint8_t priv[static CHAN_KEYBYTES],
		  const uint8_t pub[static CHAN_KEYBYTES], const char *token)
{
	uint8_t dh[CHAN_KEYBYTES];
	int r = 0;

	/* libsodium returns -1 when the shared point is all zeros. */
	if (crypto_scalarmult(dh, priv, pub) != 0) {
		r = mpc_fail(MPC_E_AUTH, "handshake: %s: low-order public key", token);
		goto out;
	}
	chan__hkdf2(y->ck, y->k, y->ck, dh, sizeof(dh));
	y->n = 0;
out:
	sodium_memzero(dh, sizeof(dh));
	return r;
}

/*
 * 4 zero bytes, then the 64-bit counter: little-endian for ChaChaPoly,
 * big-endian for AESGCM (Noise section 12).
 */
void chan__make_nonce(uint8_t nonce[static 12], uint64_t n, enum chan_cipher c)
{
	memset(nonce, 0, 4);
	for (int i = 0; i < 8; i++)
		nonce[c == CHAN_AESGCM ? 11 - i : 4 + i] = (uint8_t)(n >> (8 * i));
}

/* The handshake's few AEAD calls, with the key as bytes. */
static void aead_seal(enum chan_cipher c, const uint8_t *k, uint64_t n, const uint8_t *ad,
		      size_t adlen, const uint8_t *pt, size_t len, uint8_t *ct)
{
	uint8_t nonce[12];

	chan__make_nonce(nonce, n, c);
	if (c == CHAN_AESGCM)
		crypto_aead_aes256gcm_encrypt(ct, NULL, pt, len, ad, adlen, NULL, nonce, k);
	else
		crypto_aead_chacha20poly1305_ietf_encrypt(ct, NULL, pt, len, ad, adlen, NULL,
							  nonce, k);
}

static int aead_open(enum chan_cipher c, const uint8_t *k, uint64_t n, const uint8_t *ad,
		     size_t adlen, const uint8_t *ct, size_t len, uint8_t *pt)
{
	uint8_t nonce[12];

	chan__make_nonce(nonce, n, c);
	if (c == CHAN_AESGCM)
		return crypto_aead_aes256gcm_decrypt(pt, NULL, NULL, ct, len, ad, adlen, nonce, k);
	return crypto_aead_chacha20poly1305_ietf_decrypt(pt, NULL, NULL, ct, len, ad, adlen,
							 nonce, k);
}

/* EncryptAndHash: out = ENCRYPT(k, n++, h, pt); MixHash(out). */
static void encrypt_and_hash(struct sym *y, uint8_t *out, const uint8_t *pt, size_t len)
{
	aead_seal(y->cipher, y->k, y->n++, y->h, HASHLEN, pt, len, out);
	mix_hash(y->h, out, len + CHAN_TAGBYTES);
}

/* DecryptAndHash; len is the ciphertext length, at least the tag. */
static int decrypt_and_hash(struct sym *y, uint8_t *pt, const uint8_t *ct, size_t len,
			    const char *what)
{
	if (aead_open(y->cipher, y->k, y->n, y->h, HASHLEN, ct, len, pt) != 0)
		return mpc_fail(MPC_E_AUTH, "handshake: %s does not authenticate", what);
	y->n++;
	mix_hash(y->h, ct, len);
	return 0;
}

/* Split: initiator sends with k1, responder with k2. */
static void split(struct sym *y, struct chan_session *s, int initiator)
{
	uint8_t k1[CHAN_KEYBYTES], k2[CHAN_KEYBYTES];

	chan__hkdf2(k1, k2, y->ck, NULL, 0);
	s->cipher = y->cipher;
	memcpy(s->send_key, initiator ? k1 : k2, CHAN_KEYBYTES);
	memcpy(s->recv_key, initiator ? k2 : k1, CHAN_KEYBYTES);
	s->send_n = 0;
	s->recv_n = 0;
	s->initiator = initiator;
	/*
	 * The rekey root: one more HKDF of the final chaining key, under its
	 * own label so that it is independent of k1 and k2 (derived with an
	 * empty input, as Noise's Split); the handshake KATs are unchanged.
	 */
	chan__hkdf2(s->root, k1, y->ck, (const uint8_t *)CHAN__REKEY_LABEL,
		    sizeof(CHAN__REKEY_LABEL) - 1);
	if (s->cipher == CHAN_AESGCM) {
		crypto_aead_aes256gcm_beforenm(&s->send_st, s->send_key);
		crypto_aead_aes256gcm_beforenm(&s->recv_st, s->recv_key);
	}
	sodium_memzero(k1, sizeof(k1));
	sodium_memzero(k2, sizeof(k2));
}

int chan__write_init(struct chan_hs *hs, const uint8_t e_priv[static CHAN_KEYBYTES],
		     const uint8_t s_priv[static CHAN_KEYBYTES],
		     const uint8_t s_pub[static CHAN_KEYBYTES],
		     const uint8_t rs[static CHAN_KEYBYTES], const uint8_t *prologue,
		     size_t prologue_len, const uint8_t *payload, size_t plen, uint8_t *out)
{
	struct chan_hs t = { 0 };
	struct sym y = { 0 };
	int r;

	if ((r = want_state(hs, CHAN_HS_NONE, "create_init")) != 0)
		goto out;
	if (plen > CHAN__PAYLOAD_MAX) {
		r = mpc_fail(MPC_E_ARG, "handshake: payload of %zu bytes", plen);
		goto out;
	}
	sym_init(&y, hs->cipher, prologue, prologue_len, rs);

	/* e */
	if (crypto_scalarmult_base(out, e_priv) != 0) {
		r = mpc_fail(MPC_E_INTERNAL, "handshake: e: bad ephemeral key");
		goto out;
	}
	mix_hash(y.h, out, CHAN_KEYBYTES);
	/* es */
	if ((r = mix_dh(&y, e_priv, rs, "es (pinned peer key)")) != 0)
		goto out;
	/* s */
	encrypt_and_hash(&y, out + CHAN_KEYBYTES, s_pub, CHAN_KEYBYTES);
	/* ss */
	if ((r = mix_dh(&y, s_priv, rs, "ss (pinned peer key)")) != 0)
		goto out;
	/* payload */
	encrypt_and_hash(&y, out + CHAN__HS1_FIXED, payload, plen);

	t.cipher = y.cipher;
	t.state = CHAN_HS_INIT_SENT;
	memcpy(t.h, y.h, HASHLEN);
	memcpy(t.ck, y.ck, HASHLEN);
	memcpy(t.e_priv, e_priv, CHAN_KEYBYTES);
	memcpy(t.rs, rs, CHAN_KEYBYTES);
	*hs = t;
	r = 0;
out:
	sodium_memzero(&t, sizeof(t));
	sodium_memzero(&y, sizeof(y));
	return r;
}

int chan__read_init(struct chan_hs *hs, const uint8_t s_priv[static CHAN_KEYBYTES],
		    const uint8_t s_pub[static CHAN_KEYBYTES], const uint8_t *prologue,
		    size_t prologue_len, const uint8_t *in, size_t inlen,
		    uint8_t rs[static CHAN_KEYBYTES], uint8_t *payload)
{
	struct chan_hs t = { 0 };
	struct sym y = { 0 };
	uint8_t pbuf[CHAN__PAYLOAD_MAX];
	size_t plen;
	int r;

	/* Cheap checks first: state and exact size, before any DH. */
	if ((r = want_state(hs, CHAN_HS_NONE, "consume_init")) != 0)
		goto out;
	if (inlen < CHAN__HS1_FIXED + CHAN_TAGBYTES ||
	    inlen - CHAN__HS1_FIXED - CHAN_TAGBYTES > CHAN__PAYLOAD_MAX) {
		r = mpc_fail(MPC_E_AUTH, "handshake: message 1 of %zu bytes", inlen);
		goto out;
	}
	plen = inlen - CHAN__HS1_FIXED - CHAN_TAGBYTES;
	sym_init(&y, hs->cipher, prologue, prologue_len, s_pub);

	/* e */
	memcpy(t.re, in, CHAN_KEYBYTES);
	mix_hash(y.h, t.re, CHAN_KEYBYTES);
	/* es */
	if ((r = mix_dh(&y, s_priv, t.re, "es")) != 0)
		goto out;
	/* s */
	if ((r = decrypt_and_hash(&y, t.rs, in + CHAN_KEYBYTES, CHAN_KEYBYTES + CHAN_TAGBYTES,
				  "message 1 static key (sent to another key?)")) != 0)
		goto out;
	/* ss */
	if ((r = mix_dh(&y, s_priv, t.rs, "ss")) != 0)
		goto out;
	/* payload */
	if ((r = decrypt_and_hash(&y, pbuf, in + CHAN__HS1_FIXED, plen + CHAN_TAGBYTES,
				  "message 1 payload")) != 0)
		goto out;

	t.cipher = y.cipher;
	t.state = CHAN_HS_INIT_CONSUMED;
	memcpy(t.h, y.h, HASHLEN);
	memcpy(t.ck, y.ck, HASHLEN);
	memcpy(rs, t.rs, CHAN_KEYBYTES);
	if (plen)
		memcpy(payload, pbuf, plen);
	*hs = t;
	r = 0;
out:
	sodium_memzero(&t, sizeof(t));
	sodium_memzero(&y, sizeof(y));
	sodium_memzero(pbuf, sizeof(pbuf));
	return r;
}

int chan__write_resp(struct chan_hs *hs, const uint8_t e_priv[static CHAN_KEYBYTES],
		     const uint8_t *payload, size_t plen, uint8_t *out, struct chan_session *s)
{
	struct chan_hs t = { 0 };
	struct chan_session ns = { 0 };
	struct sym y = { 0 };
	int r;

	if ((r = want_state(hs, CHAN_HS_INIT_CONSUMED, "create_resp")) != 0)
		goto out;
	if (plen > CHAN__PAYLOAD_MAX) {
		r = mpc_fail(MPC_E_ARG, "handshake: payload of %zu bytes", plen);
		goto out;
	}
	y.cipher = hs->cipher;
	memcpy(y.h, hs->h, HASHLEN);
	memcpy(y.ck, hs->ck, HASHLEN);

	/* e */
	if (crypto_scalarmult_base(out, e_priv) != 0) {
		r = mpc_fail(MPC_E_INTERNAL, "handshake: e: bad ephemeral key");
		goto out;
	}
	mix_hash(y.h, out, CHAN_KEYBYTES);
	/* ee */
	if ((r = mix_dh(&y, e_priv, hs->re, "ee")) != 0)
		goto out;
	/* se */
	if ((r = mix_dh(&y, e_priv, hs->rs, "se")) != 0)
		goto out;
	/* payload */
	encrypt_and_hash(&y, out + CHAN__HS2_FIXED, payload, plen);
	split(&y, &ns, 0);

	/* Only the handshake hash outlives the handshake. */
	t.cipher = y.cipher;
	t.state = CHAN_HS_DONE;
	memcpy(t.h, y.h, HASHLEN);
	*hs = t;
	*s = ns;
	r = 0;
out:
	sodium_memzero(&t, sizeof(t));
	sodium_memzero(&ns, sizeof(ns));
	sodium_memzero(&y, sizeof(y));
	return r;
}

int chan__read_resp(struct chan_hs *hs, const uint8_t s_priv[static CHAN_KEYBYTES],
		    const uint8_t *in, size_t inlen, uint8_t *payload, struct chan_session *s)
{
	struct chan_hs t = { 0 };
	struct chan_session ns = { 0 };
	struct sym y = { 0 };
	uint8_t re[CHAN_KEYBYTES], pbuf[CHAN__PAYLOAD_MAX];
	size_t plen;
	int r;

	if ((r = want_state(hs, CHAN_HS_INIT_SENT, "consume_resp")) != 0)
		goto out;
	if (inlen < CHAN__HS2_FIXED + CHAN_TAGBYTES ||
	    inlen - CHAN__HS2_FIXED - CHAN_TAGBYTES > CHAN__PAYLOAD_MAX) {
		r = mpc_fail(MPC_E_AUTH, "handshake: message 2 of %zu bytes", inlen);
		goto out;
	}
	plen = inlen - CHAN__HS2_FIXED - CHAN_TAGBYTES;
	y.cipher = hs->cipher;
	memcpy(y.h, hs->h, HASHLEN);
	memcpy(y.ck, hs->ck, HASHLEN);

	/* e */
	memcpy(re, in, CHAN_KEYBYTES);
	mix_hash(y.h, re, CHAN_KEYBYTES);
	/* ee */
	if ((r = mix_dh(&y, hs->e_priv, re, "ee")) != 0)
		goto out;
	/* se */
	if ((r = mix_dh(&y, s_priv, re, "se")) != 0)
		goto out;
	/* payload */
	if ((r = decrypt_and_hash(&y, pbuf, in + CHAN__HS2_FIXED, plen + CHAN_TAGBYTES,
				  "message 2")) != 0)
		goto out;
	split(&y, &ns, 1);

	t.cipher = y.cipher;
	t.state = CHAN_HS_DONE;
	memcpy(t.h, y.h, HASHLEN);
	if (plen)
		memcpy(payload, pbuf, plen);
	*hs = t;
	*s = ns;
	r = 0;
out:
	sodium_memzero(&t, sizeof(t));
	sodium_memzero(&ns, sizeof(ns));
	sodium_memzero(&y, sizeof(y));
	sodium_memzero(pbuf, sizeof(pbuf));
	return r;
}

int chan_hs_create_init(struct chan_hs *hs, const uint8_t my_priv[static CHAN_KEYBYTES],
			const uint8_t my_pub[static CHAN_KEYBYTES],
			const uint8_t peer_pub[static CHAN_KEYBYTES], uint64_t timestamp,
			uint8_t out[static CHAN_HS1_BYTES])
{
	uint8_t e_priv[CHAN_KEYBYTES], ts[CHAN_TSBYTES];
	int r;

	/* Big-endian, so that later timestamps compare greater bytewise too. */
	for (int i = 0; i < CHAN_TSBYTES; i++)
		ts[i] = (uint8_t)(timestamp >> (8 * (CHAN_TSBYTES - 1 - i)));
	randombytes_buf(e_priv, sizeof(e_priv));
	r = chan__write_init(hs, e_priv, my_priv, my_pub, peer_pub,
			     (const uint8_t *)CHAN__PROLOGUE, sizeof(CHAN__PROLOGUE) - 1, ts,
			     sizeof(ts), out);
	sodium_memzero(e_priv, sizeof(e_priv));
	return r;
}

int chan_hs_consume_init(struct chan_hs *hs, const uint8_t my_priv[static CHAN_KEYBYTES],
			 const uint8_t my_pub[static CHAN_KEYBYTES],
			 const uint8_t in[static CHAN_HS1_BYTES],
			 uint8_t peer_pub[static CHAN_KEYBYTES], uint64_t *timestamp)
{
	uint8_t ts[CHAN_TSBYTES];
	uint64_t v = 0;
	int r;

	memset(peer_pub, 0, CHAN_KEYBYTES);
	*timestamp = 0;
	r = chan__read_init(hs, my_priv, my_pub, (const uint8_t *)CHAN__PROLOGUE,
			    sizeof(CHAN__PROLOGUE) - 1, in, CHAN_HS1_BYTES, peer_pub, ts);
	if (r != 0)
		return r;
	for (int i = 0; i < CHAN_TSBYTES; i++)
		v = (v << 8) | ts[i];
	*timestamp = v;
	return 0;
}

int chan_hs_create_resp(struct chan_hs *hs, uint8_t out[static CHAN_HS2_BYTES],
			struct chan_session *s)
{
	uint8_t e_priv[CHAN_KEYBYTES];
	int r;

	randombytes_buf(e_priv, sizeof(e_priv));
	r = chan__write_resp(hs, e_priv, NULL, 0, out, s);
	sodium_memzero(e_priv, sizeof(e_priv));
	return r;
}

int chan_hs_consume_resp(struct chan_hs *hs, const uint8_t my_priv[static CHAN_KEYBYTES],
			 const uint8_t in[static CHAN_HS2_BYTES], struct chan_session *s)
{
	return chan__read_resp(hs, my_priv, in, CHAN_HS2_BYTES, NULL, s);
}

void chan_hs_wipe(struct chan_hs *hs)
{
	sodium_memzero(hs, sizeof(*hs));
}

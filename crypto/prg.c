/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
#include "prg.h"

#include <sodium.h>
#include <string.h>

#include "err.h"
#include "pool.h"

/* Ring elements are the keystream bytes read as little-endian words. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "little-endian host required");

/*
 * libsodium picks its ChaCha20 code (AVX2, SSSE3 or portable) in
 * sodium_init, idempotent: without it a process that never called it
 * (mpcctl simulate, the benchmarks) ran the portable code, at half speed.
 */
static void pick_impl(void)
{
	if (sodium_init() < 0)
		mpc_bug("libsodium cannot start");
}

void prg_init(struct prg *g, const uint8_t seed[static PRG_SEEDBYTES])
{
	pick_impl();
	memcpy(g->key, seed, PRG_SEEDBYTES);
	g->ctr = 0;
}

void prg_init_random(struct prg *g)
{
	pick_impl();
	randombytes_buf(g->key, sizeof(g->key));
	g->ctr = 0;
}

/*
 * The keystream of one call is ChaCha20 in counter mode: 64-byte block b
 * is a function of (key, nonce, b) alone, so ranges of blocks computed
 * apart (crypto_stream_chacha20_xor_ic over zeros from block lo) are the
 * very bytes one crypto_stream_chacha20 call gives: the dealer and the
 * parties agree whatever their Threads.
 */
#define PRG_BLOCK 64
/* Blocks per range: 64 KiB, tens of microseconds of keystream. */
#define PRG_MIN_BLOCKS 1024

struct fill {
	uint8_t *buf;
	size_t len;
	const uint8_t *nonce, *key;
};

/*
 * The keystream XORed onto zeros read from a small cached buffer, piece
 * by piece: clearing the output first (what crypto_stream_chacha20 does)
 * was a second pass over every word of material, 8% of a daemon's time.
 */
#define ZERO_BLOCKS 256
static const uint8_t zeros[ZERO_BLOCKS * PRG_BLOCK];

static int fill_range(void *arg, size_t lo, size_t hi)
{
	const struct fill *f = arg;
	size_t end = hi * PRG_BLOCK < f->len ? hi * PRG_BLOCK : f->len;

	for (size_t b = lo; b * PRG_BLOCK < end; b += ZERO_BLOCKS) {
		size_t k = end - b * PRG_BLOCK < sizeof(zeros) ? end - b * PRG_BLOCK : sizeof(zeros);

		crypto_stream_chacha20_xor_ic(f->buf + b * PRG_BLOCK, zeros, k, f->nonce, b, f->key);
	}
	return 0;
}

void prg_fill(struct prg *g, void *buf, size_t len)
{
	uint8_t nonce[crypto_stream_chacha20_NONCEBYTES];
	uint64_t c = g->ctr++;
	size_t blocks = (len + PRG_BLOCK - 1) / PRG_BLOCK;

	if (!len)
		return;
	for (size_t i = 0; i < sizeof(nonce); i++)
		nonce[i] = (uint8_t)(c >> (8 * i));
	if (blocks < 2 * PRG_MIN_BLOCKS) {
		fill_range(&(struct fill){ .buf = buf, .len = len, .nonce = nonce, .key = g->key },
			   0, blocks);
		return;
	}
	pool_run(blocks, PRG_MIN_BLOCKS, fill_range,
		 &(struct fill){ .buf = buf, .len = len, .nonce = nonce, .key = g->key });
}

void prg_u64(struct prg *g, uint64_t *out, size_t n)
{
	prg_fill(g, out, n * sizeof(*out));
}

void prg_seed(struct prg *g, uint8_t seed[static PRG_SEEDBYTES])
{
	prg_fill(g, seed, PRG_SEEDBYTES);
}

void prg_wipe(struct prg *g)
{
	sodium_memzero(g, sizeof(*g));
}

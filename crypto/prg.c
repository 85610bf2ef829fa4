/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
#include "prg.h"

#include <sodium.h>
#include <string.h>

/* Ring elements are the keystream bytes read as little-endian words. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "little-endian host required");

void prg_init(struct prg *g, const uint8_t seed[static PRG_SEEDBYTES])
{
	memcpy(g->key, seed, PRG_SEEDBYTES);
	g->ctr = 0;
}

void prg_init_random(struct prg *g)
{
	randombytes_buf(g->key, sizeof(g->key));
	g->ctr = 0;
}

void prg_fill(struct prg *g, void *buf, size_t len)
{
	uint8_t nonce[crypto_stream_chacha20_NONCEBYTES];
	uint64_t c = g->ctr++;

	if (!len)
		return;
	for (size_t i = 0; i < sizeof(nonce); i++)
		nonce[i] = (uint8_t)(c >> (8 * i));
	crypto_stream_chacha20(buf, len, nonce, g->key);
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

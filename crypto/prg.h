/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
#ifndef MPC_PRG_H
#define MPC_PRG_H

#include <stddef.h>
#include <stdint.h>

/*
 * Seeded PRG: ChaCha20 keystream (libsodium) under a 32-byte seed, one
 * fresh nonce per call. Two PRGs with the same seed that are asked for the
 * same lengths in the same order produce the same bytes; that is what lets
 * a dealer and a party, or two parties, derive shares without sending them.
 */
#define PRG_SEEDBYTES 32

struct prg {
	uint8_t key[PRG_SEEDBYTES];
	uint64_t ctr;
};

void prg_init(struct prg *g, const uint8_t seed[static PRG_SEEDBYTES]);
/* A fresh PRG under a random seed from the OS (randombytes_buf). */
void prg_init_random(struct prg *g);
void prg_fill(struct prg *g, void *buf, size_t len);
void prg_u64(struct prg *g, uint64_t *out, size_t n);
/* A fresh seed drawn from g (to key another PRG). */
void prg_seed(struct prg *g, uint8_t seed[static PRG_SEEDBYTES]);
void prg_wipe(struct prg *g);

#endif

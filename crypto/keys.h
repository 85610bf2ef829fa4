/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
#ifndef MPC_KEYS_H
#define MPC_KEYS_H

#include <stdint.h>

#include "err.h"

/*
 * Static X25519 keys as WireGuard spells them: 32 bytes in standard
 * base64 with padding, 44 characters. Error messages never include key
 * material.
 */
#define KEYS_BYTES	32
#define KEYS_B64_LEN	44	/* without the NUL */

/*
 * Exactly one 44-character base64 key (no spaces, no newline) into out.
 * MPC_E_FORMAT on any other input; out is zeroed then.
 */
int keys_b64_decode(const char *b64, uint8_t out[static KEYS_BYTES]) MPC_MUST_CHECK;

/* 44 characters plus the NUL. Always returns 0. */
int keys_b64_encode(const uint8_t key[static KEYS_BYTES], char out[static KEYS_B64_LEN + 1]);

/*
 * Read a private key file (one base64 line, as `mpcctl genkey` writes it)
 * and derive its public key. Refuses, with a one-line message naming the
 * file: anything but a regular file (MPC_E_FORMAT), a file any group or
 * other permission bit is set on (MPC_E_POLICY, "chmod 600"), content that
 * is not one key line (MPC_E_FORMAT), unreadable files (MPC_E_IO). On
 * failure priv and pub are zeroed. Temporary buffers are wiped.
 */
int keys_load_private(const char *path, uint8_t priv[static KEYS_BYTES],
		      uint8_t pub[static KEYS_BYTES]) MPC_MUST_CHECK;

/*
 * The same into sodium_malloc memory (guard pages, mlock'ed, no core dump)
 * made read-only after loading; *priv is NULL on failure. Release with
 * keys_private_free, which accepts NULL.
 */
int keys_private_load(const char *path, uint8_t **priv,
		      uint8_t pub[static KEYS_BYTES]) MPC_MUST_CHECK;
void keys_private_free(uint8_t *priv);

#endif

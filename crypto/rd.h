/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
#ifndef MPC_RD_H
#define MPC_RD_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/*
 * Bounded reader: a cursor over (ptr, len) for every byte that comes from
 * outside (files, frames, requests). Every getter checks before it consumes,
 * clears its outputs first, and returns 0, MPC_E_SHORT or MPC_E_TOOBIG;
 * a failed get leaves the cursor where it was. Finish a message with
 * rd_end(), which refuses trailing bytes.
 */
struct rd {
	const uint8_t *p;
	size_t len;
	size_t off;
};

void rd_init(struct rd *r, const void *p, size_t len);
size_t rd_left(const struct rd *r);

int rd_get_u8(struct rd *r, uint8_t *v) MPC_MUST_CHECK;
int rd_get_u16le(struct rd *r, uint16_t *v) MPC_MUST_CHECK;
int rd_get_u32le(struct rd *r, uint32_t *v) MPC_MUST_CHECK;
int rd_get_u64le(struct rd *r, uint64_t *v) MPC_MUST_CHECK;
int rd_get_u32be(struct rd *r, uint32_t *v) MPC_MUST_CHECK;
/* Protobuf-style base-128 varint, at most 10 bytes. */
int rd_get_varint(struct rd *r, uint64_t *v) MPC_MUST_CHECK;
/* Copy n bytes out. */
int rd_get_bytes(struct rd *r, void *dst, size_t n) MPC_MUST_CHECK;
/* Point *p at the next n bytes inside the buffer (no copy). */
int rd_get_view(struct rd *r, const uint8_t **p, size_t n) MPC_MUST_CHECK;
int rd_skip(struct rd *r, size_t n) MPC_MUST_CHECK;
/* MPC_E_FORMAT when bytes remain. */
int rd_end(const struct rd *r) MPC_MUST_CHECK;

#endif

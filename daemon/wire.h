/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
#ifndef MPC_WIRE_H
#define MPC_WIRE_H

#include <stddef.h>

#include "wire.pb-c.h"

/* Bounds on what a peer may send (docs/wire.md). */
#define WIRE_ID_LEN 32          /* job ids: 32 lowercase hex digits */
#define WIRE_MAX_PARTIES 16
#define WIRE_MAX_INPUTS 16
#define WIRE_MAX_PARTS 16
#define WIRE_MAX_NAME 32
#define WIRE_MAX_REASON 400
/* Scratch for composing a reason; what is sent is cut to WIRE_MAX_REASON. */
#define REASON_BUF (2 * WIRE_MAX_REASON + 64)
/*
 * The public graph carries no weights: structure and shapes only. It also
 * travels in one frame, so the receiver's MaxFrame bounds it as well.
 */
#define WIRE_MAX_GRAPH ((size_t)4 << 20)
/* rows of one chunk: a tensor has at most 2^28 elements (FT_MAX_ELEMS) */
#define WIRE_MAX_CHUNK_ROWS ((uint64_t)1 << 28)
#define WIRE_HASH_LEN 64        /* public graph hash: lowercase hex SHA-256 */

/*
 * Structural checks of a decoded frame before any job code sees it: ids,
 * names, counts, ranks and dims, string lengths. On a violation writes a
 * one-line reason into why (the link is then closed); else why[0] = 0.
 */
void wire_check_frame(const Mpcpb__Frame *f, char *why, size_t len);
int wire_valid_name(const char *s);
/*
 * A model input's name (ONNX names may hold ':' or '/'): 1 to 256 bytes,
 * no control bytes, so it can be shown in a log or a terminal as it is.
 */
int wire_valid_input_name(const char *s);
int wire_valid_id(const char *s);
/* 64 lowercase hex digits (a public graph hash). */
int wire_valid_hash(const char *s);

#endif

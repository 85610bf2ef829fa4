/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
#ifndef MPC_FTENSOR_H
#define MPC_FTENSOR_H

#include <stddef.h>
#include <stdint.h>

/* Plaintext float tensors: model weights, input files, reference outputs. */

#define FT_MAX_DIMS 8
/* Hard ceiling on elements of any tensor read from outside (2^28 = 1 GiB of float). */
#define FT_MAX_ELEMS ((size_t)1 << 28)

struct ftensor {
	int ndim;
	int64_t dims[FT_MAX_DIMS];
	size_t n;    /* product of dims (1 for a scalar) */
	float *data; /* owned, n elements, C order; NULL when n == 0 */
};

/*
 * Allocate t->data for the given shape (zeroed). Fails with MPC_E_SHAPE on a
 * negative dim or more than FT_MAX_DIMS dims, MPC_E_TOOBIG over
 * FT_MAX_ELEMS, MPC_E_NOMEM. On failure t is left empty.
 */
int ftensor_alloc(struct ftensor *t, int ndim, const int64_t *dims);
/* Wipes the data (ftensor_wipe_free) and empties t. Accepts NULL. */
void ftensor_free(struct ftensor *t);
/*
 * Plaintext (records, weights and their scaled copies, revealed results,
 * the files they were read from) is wiped before its memory is freed, as
 * shares are: a wipe the compiler may not drop (explicit_bzero, so that
 * this layer needs no libsodium), then free. Accepts NULL.
 */
void ftensor_wipe_free(void *p, size_t bytes);
/* Bytes wiped by ftensor_wipe_free in this process: how tests see the free paths. */
uint64_t ftensor_wiped_bytes(void);
/* Element count of a shape, or 0 with *ok = 0 on overflow / negative dim. */
size_t ftensor_count(int ndim, const int64_t *dims, int *ok);
/* "[64, 1, 8, 8]" into buf; returns buf. */
const char *ftensor_shape_str(int ndim, const int64_t *dims, char *buf, size_t len);
/*
 * Join tensors of equal rank along `axis` (vertical split: last axis;
 * horizontal: axis 0). All other dims must match: MPC_E_SHAPE naming both.
 */
int ftensor_concat(const struct ftensor *parts, int nparts, int axis, struct ftensor *out);

#endif

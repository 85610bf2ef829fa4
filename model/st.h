/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
#ifndef MPC_ST_H
#define MPC_ST_H

#include <stddef.h>
#include <stdint.h>

#include "ftensor.h"

/*
 * Hugging Face .safetensors reader. Layout: u64le header length N, N bytes
 * of JSON {name: {dtype, shape, data_offsets: [b, e]}, "__metadata__":
 * {str: str}}, then the data section. Validated before any tensor is used:
 * N against the file size (before allocating), the JSON (jansson, duplicate
 * keys refused), dtype names, shapes (non-negative, product without
 * overflow), offsets inside the data section, byte length == elements x
 * dtype size, offsets disjoint and covering the data section exactly.
 * Errors name the file and the tensor: "w.safetensors: tensor 'b':
 * data_offsets [8, 24] overlap a previous tensor".
 */

enum st_dtype {
	ST_BOOL, ST_U8, ST_I8, ST_I16, ST_U16, ST_F16, ST_BF16, ST_I32,
	ST_U32, ST_F32, ST_F64, ST_I64, ST_U64, ST_F8_E4M3, ST_F8_E5M2,
};

struct st_tensor {
	char *name;
	enum st_dtype dtype;
	int ndim;
	int64_t dims[FT_MAX_DIMS];
	size_t n;             /* elements */
	const uint8_t *data;  /* inside st_file.buf */
	size_t nbytes;
};

struct st_file {
	uint8_t *buf; /* owned copy of the whole file */
	size_t len;
	size_t n;
	struct st_tensor *t;
};

/* Parse a copy of buf. */
int st_parse(const uint8_t *buf, size_t len, struct st_file **out);
int st_load(const char *path, struct st_file **out);
void st_free(struct st_file *f);
const struct st_tensor *st_find(const struct st_file *f, const char *name);
/*
 * Convert to float: F32, F16, BF16, F64 (and integer types) are accepted;
 * the rest MPC_E_UNSUPPORTED naming the tensor and dtype.
 */
int st_to_ftensor(const struct st_tensor *t, struct ftensor *out);
const char *st_dtype_name(enum st_dtype d);

#endif

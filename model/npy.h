/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
#ifndef MPC_NPY_H
#define MPC_NPY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ftensor.h"

/*
 * NumPy .npy (format 1.0, 2.0 and 3.0) and CSV input files.
 * Accepted dtypes: <f4, <f8 (converted to float), <i8, <i4 (converted, for
 * labels); C order only (fortran_order True is refused). Every header field
 * is checked against the file's real size before anything is allocated.
 * Errors set the thread message (see err.h) naming the file and the field,
 * e.g. "x.npy: header: fortran_order True is not supported".
 */
int npy_parse(const uint8_t *buf, size_t len, struct ftensor *out);
int npy_load(const char *path, struct ftensor *out);
/* Write float32 '<f4' C-order; atomically (temp file + rename). */
int npy_save_f32(const char *path, const struct ftensor *t);

/*
 * CSV: rows of numbers separated by ',', one row per line, every row the
 * same width; an optional first header row of non-numeric names is
 * skipped. Gives a [rows, cols] tensor. Errors name file:line:column.
 */
int csv_parse(const uint8_t *buf, size_t len, struct ftensor *out);
int csv_load(const char *path, struct ftensor *out);
/* Write a [rows, cols] (or 1-D) tensor as CSV with %.9g values. */
int csv_save(const char *path, const struct ftensor *t);

/* Read a whole regular file, refusing anything over max bytes. */
int file_read_all(const char *path, size_t max, uint8_t **buf, size_t *len);

/* Load by extension: .npy or .csv; anything else is MPC_E_UNSUPPORTED. */
int input_load(const char *path, struct ftensor *out);

/*
 * Added for npy_save_f32 and csv_save (and any other writer of result
 * files): create path atomically. fill() writes the content to f and
 * returns 0 or an MPC_E_* code with the message set; the data goes to a
 * temp file in the same directory (mode 0600) that is fsync'ed and renamed
 * over path, so readers see the old file or the complete new one.
 */
int file_write_atomic(const char *path, int (*fill)(FILE *f, const void *arg),
		      const void *arg);

#endif

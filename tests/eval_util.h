/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
#ifndef MPC_EVAL_UTIL_H
#define MPC_EVAL_UTIL_H

/* The harness of the model-level tests: a model against its reference. */
#include <stddef.h>

#include "model.h"

/*
 * Infer m for the nx inputs x, run the plaintext reference and the secure
 * evaluation (parties in-process, input i owned by party i mod parties, the
 * weights by the last party, frac fractional bits, weight scales and
 * BatchNorm folding as simulate and a daemon's model owner do), and return
 * output 0 of each (caller frees both).
 */
void eval_run_both(struct model *m, const struct ftensor *x, int nx, int parties, int frac,
		   struct ftensor *secure, struct ftensor *ref);
/* Largest test_diff over two tensors of the same size (NaN-proof). */
double eval_max_diff(const struct ftensor *a, const struct ftensor *b);
/* n uniform floats in [lo, hi]. */
void eval_rand_fill(float *v, size_t n, double lo, double hi);

#endif

/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
#ifndef MPC_NONLIN_TF_H
#define MPC_NONLIN_TF_H

#include <stddef.h>
#include <stdint.h>

#include "ops.h"

/*
 * The non-linear functions transformers need, on shares at scale f (the
 * party's m->frac): inputs and outputs encode x * 2^f. Each has a *_need
 * sibling. Ranges, error bounds and costs: docs/protocols.md
 * ("Transformer non-linearities"); tests/test_nonlin_tf.c checks them.
 */

/*
 * The bins of the normalisation both Newton iterations start from: x in
 * [2^j, 2^(j+1)) for j in [norm_lo(f), NORM_HI). Below 2^lo the lowest
 * bin's guess is used (the result then underestimates), from 2^NORM_HI
 * on the highest's (Newton diverges beyond about 1.5 * 2^NORM_HI).
 */
#define NORM_HI 15
int norm_lo(int frac);

/* 1/x for x in [2^lo, 2^NORM_HI): relative error below 2^-(f-2) + 2 units. */
int recip_need(struct corr_list *l, size_t n, int frac) MPC_MUST_CHECK;
int mpc_recip(struct mpc *m, const uint64_t *x, size_t n, uint64_t *out) MPC_MUST_CHECK;

/* 1/sqrt(x) on the same range. */
int rsqrt_need(struct corr_list *l, size_t n, int frac) MPC_MUST_CHECK;
int mpc_rsqrt(struct mpc *m, const uint64_t *x, size_t n, uint64_t *out) MPC_MUST_CHECK;

/*
 * exp(x) for x <= 0, clamped at -16 (the caller subtracts a maximum, as
 * Softmax does): (1 + x/1024)^1024 by 10 squarings.
 */
int exp_need(struct corr_list *l, size_t n, int frac) MPC_MUST_CHECK;
int mpc_exp(struct mpc *m, const uint64_t *x, size_t n, uint64_t *out) MPC_MUST_CHECK;

/*
 * Piecewise-linear functions as a sum of ReLUs (one comparison batch and
 * one truncation: 6 rounds): erf, tanh, and GELU (x * Phi(x), the erf
 * form; the tanh form differs from it by less than 5e-4).
 */
enum pwl_fn { PWL_ERF, PWL_TANH, PWL_GELU, PWL_COUNT_ };
int pwl_need(struct corr_list *l, enum pwl_fn f, size_t n, int frac) MPC_MUST_CHECK;
int mpc_pwl(struct mpc *m, enum pwl_fn f, const uint64_t *x, size_t n,
	    uint64_t *out) MPC_MUST_CHECK;
/* Knots of f (for the docs and the tests) and its value in double precision. */
int pwl_knots(enum pwl_fn f);
double pwl_exact(enum pwl_fn f, double x);
/* The interpolant itself in double precision (the tests' bound). */
double pwl_plain(enum pwl_fn f, double x);

#endif

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
 * [2^j, 2^(j+1)) for j in [lo, NORM_HI). Below 2^lo the lowest bin's
 * guess is used (the result then underestimates, bounded), from
 * 2^NORM_HI on the highest's (Newton diverges beyond 1.5 * 2^NORM_HI
 * for 1/x, 2.25 * 2^NORM_HI for 1/sqrt(x)).
 */
#define NORM_HI 15
/* lo of 1/x: -f (2^-16), higher for f > 16 (2^-12 at 20). */
int recip_lo(int frac);
/* lo of 1/sqrt(x) for x at f + xk bits: 2^-16 (f 16, xk 0), 2^-17 (f 16, xk >= 1). */
int rsqrt_lo(int frac, int xk);

/* 1/x for x in [2^lo, 2^NORM_HI): within 2 units of 2^-f plus 2^-f relative. */
int recip_need(struct corr_list *l, size_t n, int frac) MPC_MUST_CHECK;
int mpc_recip(struct mpc *m, const uint64_t *x, size_t n, uint64_t *out) MPC_MUST_CHECK;

/* 1/sqrt(x) on its range, the same bound; x at scale f, out at f. */
int rsqrt_need(struct corr_list *l, size_t n, int frac) MPC_MUST_CHECK;
int mpc_rsqrt(struct mpc *m, const uint64_t *x, size_t n, uint64_t *out) MPC_MUST_CHECK;
/* The same with x at f + xk fractional bits (a variance kept precise). */
int rsqrt_x_need(struct corr_list *l, size_t n, int frac, int xk) MPC_MUST_CHECK;
int mpc_rsqrt_x(struct mpc *m, const uint64_t *x, size_t n, int xk,
		uint64_t *out) MPC_MUST_CHECK;

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

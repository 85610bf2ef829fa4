/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
#ifndef MPC_FXP_H
#define MPC_FXP_H

#include <stddef.h>
#include <stdint.h>

/*
 * Two's-complement fixed point in Z_2^64: a real x is round(x * 2^f).
 * Values must stay below 2^62 in magnitude at every scale a protocol uses
 * (the comparison and truncation protocols rely on that headroom).
 */
#define FXP_DEFAULT_FRAC 16
#define FXP_MAX_FRAC 30
#define FXP_LIMIT ((double)((uint64_t)1 << 62))

/* MPC_E_RANGE (naming the index) when |x| * 2^f >= 2^62 or x is not finite. */
int fxp_encode(uint64_t *out, const float *x, size_t n, int frac);
int fxp_encode_d(uint64_t *out, const double *x, size_t n, int frac);
uint64_t fxp_from_double(double x, int frac);

/*
 * The bound on an input value at frac fractional bits: 2^(31 - frac)
 * (32768 at 16). A product of an input and a weight is at scale 2*frac
 * before truncation and must stay below 2^62 in the ring, so
 * |x * w| < 2^(62 - 2*frac); a data owner does not know the weights, so
 * each operand gets half of that headroom: every product of an input and
 * a weight both under this bound fits (docs/security.md).
 */
double fxp_input_bound(int frac);

/*
 * 0 when every x[i] is finite and |x[i]| < bound; else MPC_E_RANGE, the
 * private message naming the first value and its index, the public one
 * (mpc_errpub) only "value out of range".
 */
int fxp_check_bound(const float *x, size_t n, double bound);
double fxp_to_double(uint64_t v, int frac);
void fxp_decode(float *out, const uint64_t *v, size_t n, int frac);

#endif

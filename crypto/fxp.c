/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
#include "fxp.h"

#include <math.h>

#include "err.h"

uint64_t fxp_from_double(double x, int frac)
{
	return (uint64_t)(int64_t)llround(ldexp(x, frac));
}

double fxp_to_double(uint64_t v, int frac)
{
	return ldexp((double)(int64_t)v, -frac);
}

/*
 * Round half away from zero, as llround, without the libm call: s - (int)s
 * is exact below 2^52, and from there on s is an integer. Scaling by
 * 2^frac is a multiplication by an exact power of two, as ldexp.
 */
static inline int64_t round_scaled(double s)
{
	int64_t v = (int64_t)s;
	double f = s - (double)v;

	return v + (f >= 0.5) - (f <= -0.5);
}

/* out = x in fixed point; MPC_E_RANGE naming the index when it does not fit. */
static inline int encode_one(double x, double scale, size_t i, int frac, uint64_t *out)
{
	double s = x * scale;

	if (!(fabs(s) < FXP_LIMIT)) { /* also NaN and infinities */
		mpc_fail(MPC_E_RANGE,
			 "value %g at index %zu does not fit fixed point with %d fractional bits",
			 x, i, frac);
		/* The value and its index are private: a peer may learn only this. */
		return mpc_public(MPC_E_RANGE, "value out of range");
	}
	*out = (uint64_t)round_scaled(s);
	return 0;
}

int fxp_encode_d(uint64_t *out, const double *x, size_t n, int frac)
{
	double scale = ldexp(1.0, frac);
	int ret = 0;

	for (size_t i = 0; i < n && !ret; i++)
		ret = encode_one(x[i], scale, i, frac, &out[i]);
	return ret;
}

int fxp_encode(uint64_t *out, const float *x, size_t n, int frac)
{
	double scale = ldexp(1.0, frac);
	int ret = 0;

	for (size_t i = 0; i < n && !ret; i++)
		ret = encode_one(x[i], scale, i, frac, &out[i]);
	return ret;
}

double fxp_input_bound(int frac)
{
	return ldexp(1.0, 31 - frac);
}

int fxp_check_bound(const float *x, size_t n, double bound)
{
	for (size_t i = 0; i < n; i++)
		if (!(fabs((double)x[i]) < bound)) { /* also NaN and infinities */
			mpc_fail(MPC_E_RANGE, "value %g at index %zu is outside +-%g",
				 (double)x[i], i, bound);
			return mpc_public(MPC_E_RANGE, "value out of range");
		}
	return 0;
}

void fxp_decode(float *out, const uint64_t *v, size_t n, int frac)
{
	double inv = ldexp(1.0, -frac);

	for (size_t i = 0; i < n; i++)
		out[i] = (float)((double)(int64_t)v[i] * inv);
}

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

int fxp_encode_d(uint64_t *out, const double *x, size_t n, int frac)
{
	for (size_t i = 0; i < n; i++) {
		double s = ldexp(x[i], frac);

		if (!isfinite(s) || fabs(s) >= FXP_LIMIT)
			return mpc_fail(MPC_E_RANGE,
					"value %g at index %zu does not fit fixed point with %d fractional bits",
					x[i], i, frac);
		out[i] = (uint64_t)(int64_t)llround(s);
	}
	return 0;
}

int fxp_encode(uint64_t *out, const float *x, size_t n, int frac)
{
	for (size_t i = 0; i < n; i++) {
		double d = x[i];
		int ret = fxp_encode_d(out + i, &d, 1, frac);

		if (ret)
			return mpc_fail(ret,
					"value %g at index %zu does not fit fixed point with %d fractional bits",
					d, i, frac);
	}
	return 0;
}

void fxp_decode(float *out, const uint64_t *v, size_t n, int frac)
{
	for (size_t i = 0; i < n; i++)
		out[i] = (float)fxp_to_double(v[i], frac);
}

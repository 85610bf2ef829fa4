/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * Reciprocal, inverse square root, exp, erf, tanh and GELU against
 * plaintext for 2, 3 and 4 parties, on random data covering each stated
 * range, its edges and values beyond it (docs/protocols.md states the
 * bounds checked here).
 */
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>

#include "fxp.h"
#include "nonlin_tf.h"
#include "proto_util.h"
#include "test.h"

#define F 16

/* t->k selects the function: 0 recip, 1 rsqrt, 2 exp, 3 + pwl_fn. */
static int nl_need(struct ptest *t, struct corr_list *l)
{
	switch (t->k) {
	case 0:
		return recip_need(l, t->nx, F);
	case 1:
		return rsqrt_x_need(l, t->nx, F, t->shift);
	case 2:
		return exp_need(l, t->nx, F);
	default:
		return pwl_need(l, (enum pwl_fn)(t->k - 3), t->nx, F);
	}
}

static int nl_run(struct ptest *t, struct mpc *m, const uint64_t *x, const uint64_t *y,
		  uint64_t *out)
{
	(void)y;
	switch (t->k) {
	case 0:
		return mpc_recip(m, x, t->nx, out);
	case 1:
		return mpc_rsqrt_x(m, x, t->nx, t->shift, out);
	case 2:
		return mpc_exp(m, x, t->nx, out);
	default:
		return mpc_pwl(m, (enum pwl_fn)(t->k - 3), x, t->nx, out);
	}
}

static double urand(void)
{
	return (double)randombytes_uniform(1u << 30) / (double)(1u << 30);
}

/* x over [lo, hi] log-uniform at `bits`, then both edges and one unit inside each. */
static void fill_log(struct ptest *t, size_t n, double lo, double hi, int bits)
{
	for (size_t i = 0; i < n; i++)
		t->x[i] = fxp_from_double(lo * pow(hi / lo, urand()), bits);
	t->x[0] = fxp_from_double(lo, bits);
	t->x[1] = fxp_from_double(hi, bits);
	t->x[2] = fxp_from_double(1.0, bits);
	t->x[3] = fxp_from_double(hi, bits) - 1;
}

/*
 * Worst error of 1/x (k 0) or 1/sqrt(x) (k 1, x at f + xk bits) beyond
 * `units` of 2^-f (the output's own rounding), relative to the exact
 * value, over x in [lo, hi].
 */
static double newton_case(int parties, int k, int xk, double lo, double hi, double units)
{
	enum { N = 600 };
	struct ptest t = { .need = nl_need, .run = nl_run, .k = (size_t)k, .shift = xk };
	double worst = 0;

	pt_alloc(&t, N, 0, N);
	t.shift = xk;
	fill_log(&t, N, lo, hi, F + xk);
	pt_exec(&t, parties);
	for (size_t i = 0; i < N; i++) {
		double x = fxp_to_double(t.x[i], F + xk), got = fxp_to_double(t.out[i], F);
		double want = k == 0 ? 1.0 / x : 1.0 / sqrt(x);
		double rel = fmax(0.0, fabs(got - want) - units * ldexp(1.0, -F)) / want;

		worst = fmax(worst, rel);
	}
	pt_free(&t);
	return worst;
}

TEST(nl_recip)
{
	double lo = ldexp(1.0, recip_lo(F)), hi = ldexp(1.0, NORM_HI) * 0.9999;

	for (int n = 2; n <= 4; n++) {
		double w = newton_case(n, 0, 0, lo, hi, 2.0);

		if (w >= ldexp(1.0, -F))
			TEST_FAIL("%d parties: reciprocal relative error %g", n, w);
	}
	return 0;
}

TEST(nl_rsqrt)
{
	for (int xk = 0; xk <= 8; xk += 8) {
		double lo = ldexp(1.0, rsqrt_lo(F, xk)), hi = ldexp(1.0, NORM_HI) * 0.9999;

		for (int n = 2; n <= 4; n++) {
			double w = newton_case(n, 1, xk, lo, hi, 2.0);

			if (w >= ldexp(1.0, -F))
				TEST_FAIL("%d parties, x at f + %d: inverse square root relative "
					  "error %g", n, xk, w);
		}
	}
	return 0;
}

/*
 * At and below the range's low end (x = 0 included) the results stay
 * positive and bounded by 2^NEWTON_IT times the lowest guess: no wrap.
 */
TEST(nl_newton_below_range)
{
	enum { N = 8 };

	for (int k = 0; k < 2; k++) {
		struct ptest t = { .need = nl_need, .run = nl_run, .k = (size_t)k };

		pt_alloc(&t, N, 0, N);
		for (size_t i = 0; i < N; i++)
			t.x[i] = i; /* 0 .. 7 units */
		pt_exec(&t, 3);
		for (size_t i = 0; i < N; i++) {
			double got = fxp_to_double(t.out[i], F);

			ASSERT(got > 0 && got <= ldexp(1.0, 4 - recip_lo(F)));
		}
		pt_free(&t);
	}
	return 0;
}

TEST(nl_exp)
{
	enum { N = 800 };

	for (int n = 2; n <= 4; n++) {
		struct ptest t = { .need = nl_need, .run = nl_run, .k = 2 };
		double worst = 0;

		pt_alloc(&t, N, 0, N);
		for (size_t i = 0; i < N; i++)
			t.x[i] = fxp_from_double(-20.0 * urand(), F);
		t.x[0] = 0;
		t.x[1] = fxp_from_double(-16.0, F);
		t.x[2] = fxp_from_double(-1e4, F);
		pt_exec(&t, n);
		for (size_t i = 0; i < N; i++) {
			double x = fxp_to_double(t.x[i], F), got = fxp_to_double(t.out[i], F);

			worst = fmax(worst, fabs(got - exp(fmax(x, -16.0))));
		}
		printf("# %d parties: exp worst error %.3g\n", n, worst);
		if (worst >= 5e-4)
			TEST_FAIL("%d parties: exp error %g", n, worst);
		pt_free(&t);
	}
	return 0;
}

/* Worst error over [-10, 10], the knots' edges and +-1e4. */
static void pwl_case(int parties, enum pwl_fn f, double bound)
{
	enum { N = 700 };
	struct ptest t = { .need = nl_need, .run = nl_run, .k = 3 + (size_t)f };
	double worst = 0;

	pt_alloc(&t, N, 0, N);
	for (size_t i = 0; i < N; i++)
		t.x[i] = fxp_from_double(-10.0 + 20.0 * urand(), F);
	t.x[0] = fxp_from_double(-1e4, F);
	t.x[1] = fxp_from_double(1e4, F);
	t.x[2] = fxp_from_double(-4.0, F);
	t.x[3] = fxp_from_double(4.0, F);
	t.x[4] = fxp_from_double(-3.0, F);
	t.x[5] = fxp_from_double(3.0, F);
	t.x[6] = 0;
	pt_exec(&t, parties);
	for (size_t i = 0; i < N; i++) {
		double x = fxp_to_double(t.x[i], F), got = fxp_to_double(t.out[i], F);

		worst = fmax(worst, fabs(got - pwl_exact(f, x)));
	}
	printf("# %d parties, function %d: worst error %.3g\n", parties, (int)f, worst);
	if (worst >= bound)
		TEST_FAIL("%d parties, function %d: error %g", parties, (int)f, worst);
	pt_free(&t);
}

/* The interpolants themselves, densely: the bounds the docs state. */
TEST(nl_pwl_plain_bounds)
{
	static const double bound[PWL_COUNT_] = { 8e-4, 8e-4, 8e-4 };

	for (int f = 0; f < PWL_COUNT_; f++) {
		double worst = 0;

		for (double x = -12.0; x <= 12.0; x += 1.0 / 1024)
			worst = fmax(worst, fabs(pwl_plain((enum pwl_fn)f, x) -
						 pwl_exact((enum pwl_fn)f, x)));
		printf("# function %d (%d knots): interpolation error %.3g\n", f,
		       pwl_knots((enum pwl_fn)f), worst);
		if (worst >= bound[f])
			TEST_FAIL("function %d: interpolation error %g", f, worst);
	}
	return 0;
}

TEST(nl_erf_tanh_gelu)
{
	for (int n = 2; n <= 4; n++) {
		pwl_case(n, PWL_ERF, 1e-3);
		pwl_case(n, PWL_TANH, 1e-3);
		pwl_case(n, PWL_GELU, 1e-3);
	}
	return 0;
}

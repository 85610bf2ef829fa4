/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * Reciprocal, inverse square root, exp, erf, tanh and GELU on shares,
 * from comparisons, products and truncations (ranges, errors and costs:
 * docs/protocols.md, "Transformer non-linearities").
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "fxp.h"
#include "nonlin_tf.h"

/* Newton iterations from a guess within a factor sqrt(2) or 4/3. */
#define NEWTON_IT 4
/* Extra fractional bits the iterations carry (the ring bounds allow 4). */
#define NEWTON_XB 4

int recip_lo(int frac)
{
	/* y <= 2^-lo at scale f + 4, times x y ~ 1 at f + 4, stays below 2^62. */
	int lo = 2 * (frac + NEWTON_XB) - 60;

	return lo > -frac ? lo : -frac;
}

int rsqrt_lo(int frac, int xk)
{
	/* y^2 <= 2^(6 - lo) at scale 2(f + 3) stays below 2^62. */
	int lo = 2 * frac - 49;

	return lo > -(frac + xk) ? lo : -(frac + xk);
}

/* The bins [2^j, 2^(j+1)) for j in [lo, NORM_HI) of x at `bits` fractional bits. */
struct norm {
	int lo, bits;
};

static int norm_bins(const struct norm *nm)
{
	return NORM_HI - nm->lo - 1;
}

static int norm_need(struct corr_list *l, size_t n, const struct norm *nm)
{
	return cmp_select_need(l, n * (size_t)norm_bins(nm), 1, 0);
}

/*
 * A power-of-two normalisation: b_j = [x >= 2^j] for every bin boundary
 * in one comparison batch (the bits as integers: y = 1), then the guess
 * y0 = g(lo) + sum_j b_j (g(j) - g(j - 1)) at scale `scale`, where g(j)
 * is the guess for x in [2^j, 2^(j+1)).
 */
static int norm_guess(struct mpc *m, const uint64_t *x, size_t n, const struct norm *nm,
		      double (*g)(int), int scale, uint64_t *y0)
{
	int lo = nm->lo, nb = norm_bins(nm);
	size_t nk = n * (size_t)nb;
	uint64_t *xs = NULL, *one = NULL, *b = NULL, d[64], base;
	int ret = MPC_E_NOMEM;

	if (!(xs = mpc_alloc(nk)) || !(one = mpc_alloc(nk)) || !(b = mpc_alloc(nk)))
		goto out;
	for (int j = 0; j < nb; j++)
		d[j] = fxp_from_double(g(lo + 1 + j), scale) - fxp_from_double(g(lo + j), scale);
	base = fxp_from_double(g(lo), scale);
	for (size_t i = 0; i < n; i++)
		for (int j = 0; j < nb; j++) {
			uint64_t t = fxp_from_double(ldexp(1.0, lo + 1 + j), nm->bits);

			xs[i * (size_t)nb + (size_t)j] = x[i] - (m->me == 0 ? t : 0);
			one[i * (size_t)nb + (size_t)j] = m->me == 0;
		}
	if ((ret = cmp_select(m, xs, nk, one, 1, 0, b)) != 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		uint64_t acc = m->me == 0 ? base : 0;

		for (int j = 0; j < nb; j++)
			acc += d[j] * b[i * (size_t)nb + (size_t)j];
		y0[i] = acc;
	}
out:
	mpc_free_words(xs, nk);
	mpc_free_public(one, nk);
	mpc_free_words(b, nk);
	return ret;
}

/* x * c(bin) in [2/3, 4/3] over the bin: |1 - x y0| <= 1/3. */
static double recip_guess(int j)
{
	return 2.0 / (3.0 * ldexp(1.0, j));
}

/* x * c(bin)^2 in [2/3, 4/3] over the bin. */
static double rsqrt_guess(int j)
{
	return sqrt(2.0 / (3.0 * ldexp(1.0, j)));
}

int recip_need(struct corr_list *l, size_t n, int frac)
{
	struct norm nm = { recip_lo(frac), frac };
	int ret = norm_need(l, n, &nm), s = frac + NEWTON_XB;

	for (int i = 0; i < NEWTON_IT && !ret; i++)
		if ((ret = beaver_mul_need(l, n)) == 0 && (ret = trunc_need(l, n, s)) == 0 &&
		    (ret = beaver_mul_need(l, n)) == 0)
			ret = trunc_need(l, n, s);
	return ret ? ret : trunc_need(l, n, NEWTON_XB);
}

/*
 * y <- 2y - (x y) y at scale S = f + 4 throughout (x raised to S
 * locally), so 1/x keeps 4 more bits than the output until the end.
 */
int mpc_recip(struct mpc *m, const uint64_t *x, size_t n, uint64_t *out)
{
	struct norm nm = { recip_lo(m->frac), m->frac };
	int s = m->frac + NEWTON_XB, ret = MPC_E_NOMEM;
	uint64_t *y = NULL, *xs = NULL, *u = NULL;

	if (!(y = mpc_alloc(n)) || !(xs = mpc_alloc(n)) || !(u = mpc_alloc(n)))
		goto out;
	if ((ret = norm_guess(m, x, n, &nm, recip_guess, s, y)) != 0)
		goto out;
	for (size_t i = 0; i < n; i++)
		xs[i] = x[i] << NEWTON_XB;
	for (int it = 0; it < NEWTON_IT; it++) {
		if ((ret = beaver_mul(m, xs, y, n, u)) != 0 ||
		    (ret = mpc_trunc(m, u, n, s, u)) != 0 ||
		    (ret = beaver_mul(m, u, y, n, u)) != 0 ||
		    (ret = mpc_trunc(m, u, n, s, u)) != 0)
			goto out;
		for (size_t i = 0; i < n; i++)
			y[i] = 2 * y[i] - u[i];
	}
	ret = mpc_trunc(m, y, n, NEWTON_XB, out);
out:
	mpc_free_words(y, n);
	mpc_free_words(xs, n);
	mpc_free_words(u, n);
	return ret;
}

/*
 * Extra bits of y^2 and x y between the iteration's two products: y^2 is
 * tiny for large x and x y^3 needs its bits. The bound: y <= 2^ymax
 * (1.5^4 times the lowest bin's guess below the range), and x y^3 ~ y
 * at scale 2(s + D) below 2^61 for s up to f + 3.
 */
static int rsqrt_xb(int frac, int lo)
{
	int ymax = (-lo + 1) / 2 + 3;

	return (61 - ymax) / 2 - (frac + NEWTON_IT - 1);
}

int rsqrt_x_need(struct corr_list *l, size_t n, int frac, int xk)
{
	struct norm nm = { rsqrt_lo(frac, xk), frac + xk };
	int ret = norm_need(l, n, &nm), d = rsqrt_xb(frac, nm.lo);

	for (int i = 0; i < NEWTON_IT && !ret; i++) {
		int s = frac + i;

		if ((ret = beaver_mul_need(l, 2 * n)) == 0 &&
		    (ret = trunc_need(l, n, s - d)) == 0 &&
		    (ret = trunc_need(l, n, s - d + xk)) == 0 &&
		    (ret = beaver_mul_need(l, n)) == 0)
			ret = trunc_need(l, n, s + 2 * d);
	}
	return ret ? ret : trunc_need(l, n, NEWTON_IT);
}

int rsqrt_need(struct corr_list *l, size_t n, int frac)
{
	return rsqrt_x_need(l, n, frac, 0);
}

/*
 * y' = 1.5 y - 0.5 x y^3. Iteration k holds y at scale s = f + k and
 * writes y' at s + 1 as 3 y_s - x y^3 at scale s: the halving costs no
 * truncation, and the result keeps 4 more bits until the end. y^2 and
 * x y are one product of 2n elements (x raised to scale s + xk locally),
 * both truncated to scale s + D in one round, then one product and
 * truncation.
 */
int mpc_rsqrt_x(struct mpc *m, const uint64_t *x, size_t n, int xk, uint64_t *out)
{
	struct norm nm = { rsqrt_lo(m->frac, xk), m->frac + xk };
	uint64_t *y = NULL, *a = NULL, *b = NULL;
	int ret = MPC_E_NOMEM, d = rsqrt_xb(m->frac, nm.lo);

	if (!(y = mpc_alloc(n)) || !(a = mpc_alloc(2 * n)) || !(b = mpc_alloc(2 * n)))
		goto out;
	if ((ret = norm_guess(m, x, n, &nm, rsqrt_guess, m->frac, y)) != 0)
		goto out;
	for (int it = 0; it < NEWTON_IT; it++) {
		int s = m->frac + it;

		for (size_t i = 0; i < n; i++) {
			a[i] = y[i];
			a[n + i] = x[i] << it;
		}
		memcpy(b, y, n * sizeof(*y));
		memcpy(b + n, y, n * sizeof(*y));
		if ((ret = beaver_mul(m, a, b, 2 * n, a)) != 0 ||
		    (ret = mpc_trunc2(m, a, s - d, a + n, s - d + xk, n)) != 0 ||
		    (ret = beaver_mul(m, a, a + n, n, b)) != 0 ||
		    (ret = mpc_trunc(m, b, n, s + 2 * d, b)) != 0)
			goto out;
		for (size_t i = 0; i < n; i++)
			y[i] = 3 * y[i] - b[i];
	}
	ret = mpc_trunc(m, y, n, NEWTON_IT, out);
out:
	mpc_free_words(y, n);
	mpc_free_words(a, 2 * n);
	mpc_free_words(b, 2 * n);
	return ret;
}

int mpc_rsqrt(struct mpc *m, const uint64_t *x, size_t n, uint64_t *out)
{
	return mpc_rsqrt_x(m, x, n, 0, out);
}

/* exp(z) for z <= 0 as (1 + z/2^EXP_SQ)^(2^EXP_SQ), z clamped at -EXP_CLAMP. */
#define EXP_SQ 10
#define EXP_CLAMP 16.0

int exp_need(struct corr_list *l, size_t n, int frac)
{
	int ret = cmp_select_need(l, n, 1, 0);

	for (int s = 0; s < EXP_SQ && !ret; s++)
		if ((ret = beaver_mul_need(l, n)) == 0)
			ret = trunc_need(l, n, frac + EXP_SQ);
	return ret ? ret : trunc_need(l, n, EXP_SQ);
}

int mpc_exp(struct mpc *m, const uint64_t *x, size_t n, uint64_t *out)
{
	uint64_t clamp = fxp_from_double(EXP_CLAMP, m->frac), *t = NULL, *z = NULL;
	int ret = MPC_E_NOMEM;

	if (!(t = mpc_alloc(n)) || !(z = mpc_alloc(n)))
		goto out;
	for (size_t i = 0; i < n; i++)
		z[i] = x[i] + (m->me == 0 ? clamp : 0);
	if ((ret = cmp_select(m, z, n, NULL, 1, 0, t)) != 0)
		goto out;
	/* relu(x + c) - c + 2^EXP_SQ at scale f + EXP_SQ is 1 + max(x, -c)/2^EXP_SQ. */
	mpc_add_public_const(m, t, ((uint64_t)1 << (m->frac + EXP_SQ)) - clamp, n);
	for (int sq = 0; sq < EXP_SQ; sq++)
		if ((ret = beaver_mul(m, t, t, n, z)) != 0 ||
		    (ret = mpc_trunc(m, z, n, m->frac + EXP_SQ, t)) != 0)
			goto out;
	ret = mpc_trunc(m, t, n, EXP_SQ, out);
out:
	mpc_free_words(t, n);
	mpc_free_words(z, n);
	return ret;
}

/*
 * Piecewise-linear interpolation written as v_0 + sum_k ds_k relu(x - t_k):
 * flat left of lo, slope `tail` right of hi. The knots are as far apart
 * as the curvature allows: each step is the largest multiple of 1/64 (at
 * most 1/2) whose worst |f''| keeps h^2 |f''| / 16 below err, so flat
 * parts take few knots. The knot values are f(t_k) - h^2 f''(t_k) / 16,
 * the interpolation error's mean on each side of the curve, which halves
 * the worst error of plain interpolation.
 */
struct pwl_def {
	double lo, hi, err, tail;
	double (*f)(double);
	double (*f2)(double);
};

static double erf2(double x)
{
	return -4.0 * x / sqrt(M_PI) * exp(-x * x);
}

static double tanh2(double x)
{
	double t = tanh(x);

	return -2.0 * t * (1.0 - t * t);
}

static double gelu(double x)
{
	return 0.5 * x * (1.0 + erf(x / sqrt(2.0)));
}

static double gelu2(double x)
{
	return exp(-0.5 * x * x) / sqrt(2.0 * M_PI) * (2.0 - x * x);
}

static const struct pwl_def pwl_defs[PWL_COUNT_] = {
	[PWL_ERF] = { -3.5, 3.5, 7e-4, 0.0, erf, erf2 },
	[PWL_TANH] = { -5.0, 5.0, 7e-4, 0.0, tanh, tanh2 },
	[PWL_GELU] = { -5.0, 5.0, 7e-4, 1.0, gelu, gelu2 },
};

/* Extra fractional bits of the slope changes (their rounding stays small). */
#define PWL_XB 8
#define PWL_MAXK 128
#define PWL_STEP (1.0 / 64)

/* Knots, their values and the slope changes, built once per function. */
struct pwl_tab {
	int n;
	double t[PWL_MAXK], v[PWL_MAXK], ds[PWL_MAXK];
};

static struct pwl_tab pwl_tabs[PWL_COUNT_];
static pthread_once_t pwl_once = PTHREAD_ONCE_INIT;

static double max_f2(const struct pwl_def *d, double a, double b)
{
	double m = 0;

	for (int i = 0; i <= 16; i++)
		m = fmax(m, fabs(d->f2(a + (b - a) * i / 16)));
	return m;
}

static void pwl_build(const struct pwl_def *d, struct pwl_tab *tb)
{
	double t = d->lo, prev = 0.0;
	int n = 0;

	tb->t[n++] = t;
	while (t < d->hi && n < PWL_MAXK) {
		double h = 0.5;

		while (h > PWL_STEP && h * h * max_f2(d, t, fmin(t + h, d->hi)) / 16 > d->err)
			h -= PWL_STEP;
		t = fmin(t + h, d->hi);
		tb->t[n++] = t;
	}
	tb->n = n;
	for (int k = 0; k < n; k++) {
		double a = tb->t[k > 0 ? k - 1 : 0], b = tb->t[k + 1 < n ? k + 1 : n - 1];
		double h = (b - a) / (k > 0 && k + 1 < n ? 2 : 1);

		tb->v[k] = d->f(tb->t[k]) - h * h * d->f2(tb->t[k]) / 16.0;
	}
	for (int k = 0; k < n; k++) {
		double s = k + 1 < n ? (tb->v[k + 1] - tb->v[k]) / (tb->t[k + 1] - tb->t[k]) :
				       d->tail;

		tb->ds[k] = s - prev;
		prev = s;
	}
}

static void pwl_build_all(void)
{
	for (int f = 0; f < PWL_COUNT_; f++)
		pwl_build(&pwl_defs[f], &pwl_tabs[f]);
}

static const struct pwl_tab *pwl_tab(enum pwl_fn f)
{
	pthread_once(&pwl_once, pwl_build_all);
	return &pwl_tabs[f];
}

int pwl_knots(enum pwl_fn f)
{
	return pwl_tab(f)->n;
}

double pwl_exact(enum pwl_fn f, double x)
{
	return pwl_defs[f].f(x);
}

double pwl_plain(enum pwl_fn f, double x)
{
	const struct pwl_tab *tb = pwl_tab(f);
	double v = tb->v[0];

	for (int k = 0; k < tb->n; k++)
		v += tb->ds[k] * fmax(0.0, x - tb->t[k]);
	return v;
}

int pwl_need(struct corr_list *l, enum pwl_fn f, size_t n, int frac)
{
	int ret = cmp_select_need(l, n * (size_t)pwl_knots(f), 1, 0);

	return ret ? ret : trunc_need(l, n, frac + PWL_XB);
}

int mpc_pwl(struct mpc *m, enum pwl_fn f, const uint64_t *x, size_t n, uint64_t *out)
{
	const struct pwl_def *d = &pwl_defs[f];
	const struct pwl_tab *tb = pwl_tab(f);
	int nk = tb->n, sc = m->frac + PWL_XB, ret = MPC_E_NOMEM;
	size_t nn = n * (size_t)nk;
	uint64_t *xs = NULL, *r = NULL, ds[PWL_MAXK], kt[PWL_MAXK], sum = 0;
	uint64_t base = fxp_from_double(tb->v[0], m->frac + sc);

	/* The encoded changes sum to the tail slope exactly: no drift for large |x|. */
	for (int k = 0; k < nk; k++) {
		ds[k] = fxp_from_double(tb->ds[k], sc);
		kt[k] = fxp_from_double(tb->t[k], m->frac);
		if (k + 1 < nk)
			sum += ds[k];
	}
	ds[nk - 1] = fxp_from_double(d->tail, sc) - sum;
	if (!(xs = mpc_alloc(nn)) || !(r = mpc_alloc(nn)))
		goto out;
	for (size_t i = 0; i < n; i++)
		for (int k = 0; k < nk; k++)
			xs[i * (size_t)nk + (size_t)k] = x[i] - (m->me == 0 ? kt[k] : 0);
	if ((ret = cmp_select(m, xs, nn, NULL, 1, 0, r)) != 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		uint64_t acc = m->me == 0 ? base : 0;

		for (int k = 0; k < nk; k++)
			acc += ds[k] * r[i * (size_t)nk + (size_t)k];
		xs[i] = acc;
	}
	ret = mpc_trunc(m, xs, n, sc, out);
out:
	mpc_free_words(xs, nn);
	mpc_free_words(r, nn);
	return ret;
}

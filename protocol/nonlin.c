/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * Sigmoid and Softmax on shares, from comparisons, products and
 * truncations (approximations and their errors: docs/protocols.md).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fxp.h"
#include "ops.h"

/*
 * Sigmoid knots: step 1/4 on [-4, 4], where the curvature is, step 1/2 on
 * [-8, -4] and [4, 8]. Interpolation error stays below 8e-4; beyond the
 * ends the function is flat at sigmoid(+-8), off by 3.4e-4 at most.
 */
#define SIG_K 49

static double sig_knot(int k)
{
	if (k < 8)
		return -8.0 + 0.5 * k;
	if (k < 40)
		return -4.0 + 0.25 * (k - 8);
	return 4.0 + 0.5 * (k - 40);
}

static double sigmoid_d(double x)
{
	return 1.0 / (1.0 + exp(-x));
}

/*
 * f(x) = sigmoid(t_0) + sum_k ds_k * relu(x - t_k) with ds_k the change of
 * slope at knot k. The encoded ds_k are made to sum to exactly zero so the
 * tail stays flat however large x is.
 */
static void sig_slopes(uint64_t *ds, int frac)
{
	double prev = 0.0;
	uint64_t sum = 0;

	for (int k = 0; k < SIG_K; k++) {
		double s = 0.0;

		if (k + 1 < SIG_K)
			s = (sigmoid_d(sig_knot(k + 1)) - sigmoid_d(sig_knot(k))) /
			    (sig_knot(k + 1) - sig_knot(k));
		ds[k] = fxp_from_double(s - prev, frac);
		prev = s;
		if (k + 1 < SIG_K)
			sum += ds[k];
	}
	ds[SIG_K - 1] = -sum;
}

int sigmoid_need(struct corr_list *l, size_t n, int frac)
{
	int ret = cmp_select_need(l, n * SIG_K, 1, 0);

	return ret ? ret : trunc_need(l, n, frac);
}

int mpc_sigmoid(struct mpc *m, const uint64_t *x, size_t n, uint64_t *out)
{
	size_t nk = n * SIG_K;
	uint64_t *xs = NULL, *r = NULL, ds[SIG_K], knot[SIG_K];
	uint64_t base = fxp_from_double(sigmoid_d(sig_knot(0)), 2 * m->frac);
	int ret = MPC_E_NOMEM;

	sig_slopes(ds, m->frac);
	for (int k = 0; k < SIG_K; k++)
		knot[k] = fxp_from_double(sig_knot(k), m->frac);
	if (!(xs = mpc_alloc(nk)) || !(r = mpc_alloc(nk)))
		goto out;
	for (size_t i = 0; i < n; i++)
		for (int k = 0; k < SIG_K; k++)
			xs[i * SIG_K + (size_t)k] = x[i] - (m->me == 0 ? knot[k] : 0);
	if ((ret = cmp_select(m, xs, nk, NULL, 1, 0, r)) != 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		uint64_t acc = m->me == 0 ? base : 0;

		for (int k = 0; k < SIG_K; k++)
			acc += ds[k] * r[i * SIG_K + (size_t)k];
		xs[i] = acc;
	}
	ret = mpc_trunc(m, xs, n, m->frac, out);
out:
	mpc_free_words(xs, nk);
	mpc_free_words(r, nk);
	return ret;
}

/* exp(z) for z <= 0 as (1 + z/2^EXP_SQ)^(2^EXP_SQ), z clamped at -EXP_CLAMP. */
#define EXP_SQ 10
#define EXP_CLAMP 16.0

static int exp_need(struct corr_list *l, size_t n, int frac)
{
	int ret = cmp_select_need(l, n, 1, 0);

	for (int s = 0; s < EXP_SQ && !ret; s++)
		if ((ret = beaver_mul_need(l, n)) == 0)
			ret = trunc_need(l, n, frac + EXP_SQ);
	return ret ? ret : trunc_need(l, n, EXP_SQ);
}

/*
 * z (scale f, z <= 0) := exp(max(z, -EXP_CLAMP)) at scale f; t is n words
 * of scratch. relu(z + clamp) - clamp + 2^EXP_SQ, read at scale f +
 * EXP_SQ, is 1 + max(z, -clamp) / 2^EXP_SQ, squared EXP_SQ times.
 */
static int exp_nonpos(struct mpc *m, uint64_t *z, size_t n, uint64_t *t)
{
	uint64_t clamp = fxp_from_double(EXP_CLAMP, m->frac);
	int ret;

	mpc_add_public_const(m, z, clamp, n);
	if ((ret = cmp_select(m, z, n, NULL, 1, 0, t)) != 0)
		return ret;
	mpc_add_public_const(m, t, ((uint64_t)1 << (m->frac + EXP_SQ)) - clamp, n);
	for (int sq = 0; sq < EXP_SQ; sq++)
		if ((ret = beaver_mul(m, t, t, n, z)) != 0 ||
		    (ret = mpc_trunc(m, z, n, m->frac + EXP_SQ, t)) != 0)
			return ret;
	return mpc_trunc(m, t, n, EXP_SQ, z);
}

/* Newton iterations for 1/s, s in [1, k], from y0 = 2/(k+1). */
static int recip_iters(size_t k, int frac)
{
	double q = ((double)k - 1.0) / ((double)k + 1.0), need;
	int it = 0;

	if (k <= 1)
		return 0;
	need = (frac + 1) * log(2.0) / -log(q);
	while (ldexp(1.0, it) < need)
		it++;
	return it;
}

static void row_groups(size_t outer, size_t k, size_t inner, size_t *start,
		       size_t *idx)
{
	size_t g = 0, p = 0;

	for (size_t o = 0; o < outer; o++)
		for (size_t i = 0; i < inner; i++, g++) {
			start[g] = p;
			for (size_t j = 0; j < k; j++)
				idx[p++] = (o * k + j) * inner + i;
		}
	start[g] = p;
}

static int bcast_desc(struct bilin *bl, size_t outer, size_t k, size_t inner)
{
	int64_t zd[3] = { (int64_t)outer, (int64_t)k, (int64_t)inner };
	int64_t yd[3] = { (int64_t)outer, 1, (int64_t)inner };

	return bilin_mul(bl, 3, zd, 3, zd, 3, yd);
}

int softmax_need(struct corr_list *l, size_t outer, size_t k, size_t inner, int frac)
{
	size_t n = outer * k * inner, rows = outer * inner;
	size_t *start = NULL, *idx = NULL;
	struct cmp_groups g;
	struct bilin bl;
	int ret = MPC_E_NOMEM, it = recip_iters(k, frac);

	if (!(start = malloc((rows + 1) * sizeof(*start))) ||
	    !(idx = malloc((n ? n : 1) * sizeof(*idx))))
		goto out;
	row_groups(outer, k, inner, start, idx);
	g = (struct cmp_groups){ .n = rows, .start = start, .idx = idx };
	if ((ret = max_groups_need(l, &g)) != 0 || (ret = exp_need(l, n, frac)) != 0)
		goto out;
	for (int i = 0; i < it; i++) {
		/* The first iteration multiplies by the public y0: no triple. */
		if ((i && (ret = beaver_mul_need(l, rows)) != 0) ||
		    (ret = trunc_need(l, rows, frac)) != 0 ||
		    (i && (ret = beaver_mul_need(l, rows)) != 0) ||
		    (ret = trunc_need(l, rows, frac)) != 0)
			goto out;
	}
	if ((ret = bcast_desc(&bl, outer, k, inner)) != 0 ||
	    (ret = beaver_bilin_need(l, &bl)) != 0)
		goto out;
	ret = trunc_need(l, n, frac);
out:
	free(start);
	free(idx);
	return ret;
}

/*
 * What Softmax and LogSoftmax share: per row (the k elements along the
 * axis), the max, z = exp(x - max) at scale f, and s = the row sum of z,
 * in [1, k]. t is scratch of n words the callers reuse.
 */
struct exp_rows {
	size_t *start, *idx;
	uint64_t *mx, *z, *t, *s;
};

static void exp_rows_free(struct exp_rows *e, size_t n, size_t rows)
{
	free(e->start);
	free(e->idx);
	mpc_free_words(e->mx, rows);
	mpc_free_words(e->z, n);
	mpc_free_words(e->t, n);
	mpc_free_words(e->s, rows);
}

static int exp_rows_run(struct mpc *m, const uint64_t *x, size_t outer, size_t k, size_t inner,
			struct exp_rows *e)
{
	size_t n = outer * k * inner, rows = outer * inner;
	struct cmp_groups g;
	int ret;

	if (!(e->start = malloc((rows + 1) * sizeof(*e->start))) ||
	    !(e->idx = malloc((n ? n : 1) * sizeof(*e->idx))) || !(e->mx = mpc_alloc(rows)) ||
	    !(e->z = mpc_alloc(n)) || !(e->t = mpc_alloc(n)) || !(e->s = mpc_alloc(rows)))
		return MPC_E_NOMEM;
	row_groups(outer, k, inner, e->start, e->idx);
	g = (struct cmp_groups){ .n = rows, .start = e->start, .idx = e->idx };
	if ((ret = max_groups(m, x, &g, e->mx)) != 0)
		return ret;
	for (size_t r = 0; r < rows; r++)
		for (size_t j = e->start[r]; j < e->start[r + 1]; j++)
			e->z[e->idx[j]] = x[e->idx[j]] - e->mx[r];
	if ((ret = exp_nonpos(m, e->z, n, e->t)) != 0)
		return ret;
	for (size_t r = 0; r < rows; r++) {
		uint64_t acc = 0;

		for (size_t j = e->start[r]; j < e->start[r + 1]; j++)
			acc += e->z[e->idx[j]];
		e->s[r] = acc;
	}
	return 0;
}

int mpc_softmax(struct mpc *m, const uint64_t *x, size_t outer, size_t k,
		size_t inner, uint64_t *out)
{
	size_t n = outer * k * inner, rows = outer * inner;
	struct exp_rows e = { 0 };
	uint64_t *y = NULL, *u = NULL, *z, *t, *s;
	uint64_t one = (uint64_t)1 << m->frac;
	uint64_t y0 = fxp_from_double(2.0 / ((double)k + 1.0), m->frac);
	struct bilin bl;
	int ret = MPC_E_NOMEM, it = recip_iters(k, m->frac);

	if (!(y = mpc_alloc(rows)) || !(u = mpc_alloc(rows)) ||
	    (ret = exp_rows_run(m, x, outer, k, inner, &e)) != 0)
		goto out;
	z = e.z;
	t = e.t;
	s = e.s;
	/* Newton for 1/s: y <- y (2 - s y), y0 public. */
	for (size_t r = 0; r < rows; r++)
		y[r] = m->me == 0 ? y0 : 0;
	for (int i = 0; i < it; i++) {
		if (i == 0)
			for (size_t r = 0; r < rows; r++)
				u[r] = s[r] * y0;
		else if ((ret = beaver_mul(m, s, y, rows, u)) != 0)
			goto out;
		if ((ret = mpc_trunc(m, u, rows, m->frac, u)) != 0)
			goto out;
		for (size_t r = 0; r < rows; r++)
			u[r] = (m->me == 0 ? 2 * one : 0) - u[r];
		if (i == 0) {
			for (size_t r = 0; r < rows; r++)
				y[r] = u[r] * y0;
		} else if ((ret = beaver_mul(m, y, u, rows, t)) != 0) {
			goto out;
		} else {
			memcpy(y, t, rows * sizeof(*y));
		}
		if ((ret = mpc_trunc(m, y, rows, m->frac, y)) != 0)
			goto out;
	}
	if ((ret = bcast_desc(&bl, outer, k, inner)) != 0 ||
	    (ret = beaver_bilin(m, &bl, z, y, t)) != 0)
		goto out;
	ret = mpc_trunc(m, t, n, m->frac, out);
out:
	exp_rows_free(&e, n, rows);
	mpc_free_words(y, rows);
	mpc_free_words(u, rows);
	return ret;
}

/*
 * ln(1 + t) on [0, 1]: the degree-6 Chebyshev interpolant, max error
 * 1.7e-6 (docs/protocols.md, "LogSoftmax").
 */
#define LN_DEG 6
static const double ln_coef[LN_DEG + 1] = {
	1.6936626599517446e-06, 0.9998325947816061,  -0.497203331219853,  0.3150412799070322,
	-0.18901954821948916,   0.08152317761403084, -0.017029610587850845,
};

/* Comparisons s >= 2^j, j = 1..J, for s in [1, k]: J = ceil(log2 k). */
static int log_steps(size_t k)
{
	int j = 0;

	while (j < 62 && ((size_t)1 << j) < k)
		j++;
	return j;
}

int logsoftmax_need(struct corr_list *l, size_t outer, size_t k, size_t inner, int frac)
{
	size_t n = outer * k * inner, rows = outer * inner;
	size_t *start = NULL, *idx = NULL;
	struct cmp_groups g;
	int ret = MPC_E_NOMEM, J = log_steps(k);

	if (!(start = malloc((rows + 1) * sizeof(*start))) ||
	    !(idx = malloc((n ? n : 1) * sizeof(*idx))))
		goto out;
	row_groups(outer, k, inner, start, idx);
	g = (struct cmp_groups){ .n = rows, .start = start, .idx = idx };
	if ((ret = max_groups_need(l, &g)) != 0 || (ret = exp_need(l, n, frac)) != 0)
		goto out;
	if (J && ((ret = cmp_select_need(l, rows * (size_t)J, 2, 0)) != 0 ||
		  (ret = trunc_need(l, rows, J)) != 0))
		goto out;
	for (int d = LN_DEG - 1; d >= 0 && !ret; d--)
		if ((d == LN_DEG - 1 || (ret = beaver_mul_need(l, rows)) == 0))
			ret = trunc_need(l, rows, frac);
out:
	free(start);
	free(idx);
	return ret;
}

/*
 * ln s for row sums s in [1, k] at scale f: s = 2^e m with m in [1, 2)
 * from the comparisons c_j = [s >= 2^j] (e = sum c_j, and as c is
 * monotone 2^-e = 1 - sum_j c_j 2^-j, so m = s - sum_j c_j s 2^-j,
 * formed at f + J bits and truncated once), then e ln 2 + ln(1 + t) by
 * Horner on t = m - 1. lns gets rows words.
 */
static int log_rows(struct mpc *m, const uint64_t *s, size_t rows, size_t k, uint64_t *lns)
{
	int J = log_steps(k), ret = MPC_E_NOMEM;
	size_t nj = rows * (size_t)J;
	uint64_t *x = NULL, *y = NULL, *c = NULL, *e = NULL, *t = NULL, *u = NULL;
	uint64_t ln2 = fxp_from_double(log(2.0), m->frac), one = (uint64_t)1 << m->frac;

	if (!(x = mpc_alloc(nj ? nj : 1)) || !(y = mpc_alloc(2 * nj + 1)) ||
	    !(c = mpc_alloc(2 * nj + 1)) || !(e = mpc_alloc(rows)) || !(t = mpc_alloc(rows)) ||
	    !(u = mpc_alloc(rows)))
		goto out;
	for (size_t r = 0; r < rows; r++) {
		for (int j = 1; j <= J; j++) {
			size_t i = r * (size_t)J + (size_t)(j - 1);

			x[i] = s[r] - (m->me == 0 ? one << j : 0);
			y[2 * i] = m->me == 0; /* the integer 1: c_j */
			y[2 * i + 1] = s[r];   /* c_j s */
		}
		e[r] = 0;
		t[r] = s[r] << J;
	}
	if (J && (ret = cmp_select(m, x, nj, y, 2, 0, c)) != 0)
		goto out;
	for (size_t r = 0; r < rows; r++)
		for (int j = 1; j <= J; j++) {
			size_t i = r * (size_t)J + (size_t)(j - 1);

			e[r] += c[2 * i];
			t[r] -= c[2 * i + 1] << (J - j);
		}
	if (J && (ret = mpc_trunc(m, t, rows, J, t)) != 0)
		goto out;
	/* t = m - 1 in [0, 1), then Horner from the top coefficient (public: no product). */
	mpc_add_public_const(m, t, -one, rows);
	for (size_t r = 0; r < rows; r++)
		u[r] = t[r] * fxp_from_double(ln_coef[LN_DEG], m->frac);
	for (int d = LN_DEG - 1; d >= 0; d--) {
		if (d != LN_DEG - 1 && (ret = beaver_mul(m, u, t, rows, u)) != 0)
			goto out;
		if ((ret = mpc_trunc(m, u, rows, m->frac, u)) != 0)
			goto out;
		mpc_add_public_const(m, u, fxp_from_double(ln_coef[d], m->frac), rows);
	}
	for (size_t r = 0; r < rows; r++)
		lns[r] = u[r] + e[r] * ln2;
	ret = 0;
out:
	mpc_free_words(x, nj ? nj : 1);
	mpc_free_words(y, 2 * nj + 1);
	mpc_free_words(c, 2 * nj + 1);
	mpc_free_words(e, rows);
	mpc_free_words(t, rows);
	mpc_free_words(u, rows);
	return ret;
}

int mpc_logsoftmax(struct mpc *m, const uint64_t *x, size_t outer, size_t k, size_t inner,
		   uint64_t *out)
{
	size_t n = outer * k * inner, rows = outer * inner;
	struct exp_rows e = { 0 };
	size_t *start, *idx;
	uint64_t *mx, *t, *s;
	int ret;

	if ((ret = exp_rows_run(m, x, outer, k, inner, &e)) != 0)
		goto out;
	start = e.start;
	idx = e.idx;
	mx = e.mx;
	t = e.t;
	s = e.s;
	if ((ret = log_rows(m, s, rows, k, t)) != 0)
		goto out;
	/* x - max - ln s: exact but for ln s (t holds it per row). */
	for (size_t r = 0; r < rows; r++) {
		uint64_t lns = t[r];

		for (size_t j = start[r]; j < start[r + 1]; j++)
			out[idx[j]] = x[idx[j]] - mx[r] - lns;
	}
	ret = 0;
out:
	exp_rows_free(&e, n, rows);
	return ret;
}

/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * npycmp: .npy helper for the daemon tests.
 *
 *   npycmp GOT.npy EXPECTED.npy [--tol T] [--margin M]
 *	Compare a job's result with the plaintext reference (DESIGN.md
 *	section 5): prints the max abs diff and the argmax agreement, and
 *	exits 0 only when the max abs diff is <= T (default 0.02) and the
 *	argmax of GOT agrees with EXPECTED on every row whose expected top-2
 *	margin exceeds M (default 1e-2). Rows are the first axis.
 *   npycmp --split-rows K IN.npy TOP.npy BOTTOM.npy
 *	Rows [0, K) of IN into TOP and [K, end) into BOTTOM, for horizontal
 *	pooling.
 *   npycmp --random SEED OUT.npy D0 [D1 ...]
 *	A float32 tensor of shape [D0, D1, ...], uniform in [0, 1), from a
 *	fixed generator (the same SEED gives the same file).
 *
 * Exit status: 0 done (or the comparison holds); 1 the comparison fails;
 * 2 a usage or file error.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "ftensor.h"
#include "npy.h"

#define EXIT_MISMATCH 1
#define EXIT_USAGE 2

static const char usage[] =
	"usage: npycmp GOT.npy EXPECTED.npy [--tol T] [--margin M]\n"
	"       npycmp --split-rows K IN.npy TOP.npy BOTTOM.npy\n"
	"       npycmp --random SEED OUT.npy D0 [D1 ...]\n";

static int parse_num(const char *s, double *v)
{
	char *end;

	errno = 0;
	*v = strtod(s, &end);
	return !*s || *end || errno || !isfinite(*v) ? -1 : 0;
}

static int load(const char *path, struct ftensor *t)
{
	int ret = npy_load(path, t);

	if (ret)
		fprintf(stderr, "npycmp: %s\n", mpc_errmsg(ret));
	return ret;
}

/* Index of the largest of v[0..n) and the margin over the second largest. */
static size_t top2(const float *v, size_t n, double *margin)
{
	size_t best = 0;
	double second = -INFINITY;

	for (size_t i = 1; i < n; i++)
		if (v[i] > v[best])
			best = i;
	for (size_t i = 0; i < n; i++)
		if (i != best && v[i] > second)
			second = v[i];
	*margin = n > 1 ? v[best] - second : INFINITY;
	return best;
}

static int compare(const char *got_path, const char *exp_path, double tol, double min_margin)
{
	struct ftensor got = { 0 }, exp = { 0 };
	char gs[160], es[160];
	size_t rows, cols, checked = 0, agree = 0, worst = 0;
	double maxdiff = 0;
	int ret = EXIT_USAGE;

	if (load(got_path, &got) || load(exp_path, &exp))
		goto out;
	ftensor_shape_str(got.ndim, got.dims, gs, sizeof(gs));
	ftensor_shape_str(exp.ndim, exp.dims, es, sizeof(es));
	if (got.ndim != exp.ndim || memcmp(got.dims, exp.dims, sizeof(got.dims[0]) * (size_t)got.ndim)) {
		printf("shape %s, expected %s\n", gs, es);
		ret = EXIT_MISMATCH;
		goto out;
	}
	rows = got.ndim ? (size_t)got.dims[0] : 1;
	cols = rows ? got.n / rows : 0;
	for (size_t i = 0; i < got.n; i++) {
		double d = fabs((double)got.data[i] - (double)exp.data[i]);

		/* A NaN never passes. */
		if (!(d <= maxdiff)) {
			maxdiff = isnan(d) ? INFINITY : d;
			worst = i;
		}
	}
	for (size_t r = 0; r < rows && cols; r++) {
		double m, unused;
		size_t e = top2(exp.data + r * cols, cols, &m);

		if (!(m > min_margin))
			continue;
		checked++;
		agree += top2(got.data + r * cols, cols, &unused) == e;
	}
	printf("shape %s, max abs diff %.6g (element %zu), argmax agrees on %zu/%zu rows "
	       "with margin > %g\n", gs, maxdiff, worst, agree, checked, min_margin);
	ret = maxdiff <= tol && agree == checked ? 0 : EXIT_MISMATCH;
out:
	ftensor_free(&got);
	ftensor_free(&exp);
	return ret;
}

static int save(const char *path, const struct ftensor *t)
{
	int ret = npy_save_f32(path, t);

	if (ret)
		fprintf(stderr, "npycmp: %s\n", mpc_errmsg(ret));
	return ret;
}

static int split_rows(const char *ks, const char *in, const char *top, const char *bottom)
{
	struct ftensor t = { 0 }, a = { 0 }, b = { 0 };
	int64_t dims[FT_MAX_DIMS];
	size_t row;
	double k;
	int ret = EXIT_USAGE;

	if (load(in, &t))
		goto out;
	if (parse_num(ks, &k) || t.ndim < 1 || k < 1 || k >= (double)t.dims[0] || k != floor(k)) {
		fprintf(stderr, "npycmp: --split-rows %s: expected 1 to rows-1 of %s\n", ks, in);
		goto out;
	}
	row = t.n / (size_t)t.dims[0];
	memcpy(dims, t.dims, sizeof(dims));
	dims[0] = (int64_t)k;
	if (ftensor_alloc(&a, t.ndim, dims))
		goto out;
	dims[0] = t.dims[0] - (int64_t)k;
	if (ftensor_alloc(&b, t.ndim, dims))
		goto out;
	memcpy(a.data, t.data, a.n * sizeof(float));
	memcpy(b.data, t.data + (size_t)k * row, b.n * sizeof(float));
	if (save(top, &a) || save(bottom, &b))
		goto out;
	ret = 0;
out:
	ftensor_free(&t);
	ftensor_free(&a);
	ftensor_free(&b);
	return ret;
}

/* splitmix64: tiny, and the same on every platform. */
static uint64_t next_rand(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static int random_tensor(const char *seed_s, const char *out, int ndim, char **dim_s)
{
	struct ftensor t = { 0 };
	int64_t dims[FT_MAX_DIMS];
	double v, seed;
	uint64_t s;
	int ret = EXIT_USAGE;

	if (parse_num(seed_s, &seed) || seed < 0 || ndim < 1 || ndim > FT_MAX_DIMS) {
		fputs(usage, stderr);
		goto out;
	}
	for (int i = 0; i < ndim; i++) {
		if (parse_num(dim_s[i], &v) || v < 1 || v > 1e6 || v != floor(v)) {
			fprintf(stderr, "npycmp: --random: dim '%s' is not an integer from 1\n", dim_s[i]);
			goto out;
		}
		dims[i] = (int64_t)v;
	}
	if (ftensor_alloc(&t, ndim, dims)) {
		fprintf(stderr, "npycmp: %s\n", mpc_errmsg(MPC_E_NOMEM));
		goto out;
	}
	s = (uint64_t)seed;
	for (size_t i = 0; i < t.n; i++)
		t.data[i] = (float)((double)(next_rand(&s) >> 40) / (double)(1 << 24));
	if (save(out, &t))
		goto out;
	ret = 0;
out:
	ftensor_free(&t);
	return ret;
}

int main(int argc, char **argv)
{
	double tol = 0.02, margin = 1e-2;
	int ret = EXIT_USAGE;

	if (argc >= 2 && !strcmp(argv[1], "--split-rows")) {
		if (argc == 6)
			ret = split_rows(argv[2], argv[3], argv[4], argv[5]);
		else
			fputs(usage, stderr);
		goto out;
	}
	if (argc >= 2 && !strcmp(argv[1], "--random")) {
		ret = random_tensor(argc > 2 ? argv[2] : "", argc > 3 ? argv[3] : "", argc - 4,
				    argv + 4);
		goto out;
	}
	if (argc < 3 || argv[1][0] == '-' || argv[2][0] == '-') {
		fputs(usage, stderr);
		goto out;
	}
	for (int i = 3; i < argc; i += 2) {
		double *dst = !strcmp(argv[i], "--tol") ? &tol :
			      !strcmp(argv[i], "--margin") ? &margin : NULL;

		if (!dst || i + 1 >= argc || parse_num(argv[i + 1], dst) || *dst < 0) {
			fputs(usage, stderr);
			goto out;
		}
	}
	ret = compare(argv[1], argv[2], tol, margin);
out:
	return ret;
}

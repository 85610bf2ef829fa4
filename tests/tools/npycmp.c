/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * npycmp: .npy helper for the daemon tests.
 *
 *   npycmp GOT EXPECTED.npy [--tol T] [--rel R] [--floor A] [--margin M]
 *	Compare a result (.npy, or .csv of the same rows and values) with the
 *	plaintext reference (DESIGN.md section 5): prints the max abs diff,
 *	the bound and the argmax agreement, and exits 0 only when every
 *	element is within the bound and the argmax of GOT agrees with
 *	EXPECTED on every row whose expected top-2 margin exceeds M (default
 *	1e-2). Rows are the first axis. The bound is the contract's T
 *	(default 0.02), tightened where the outputs are small: at most R
 *	(default 0.05) times the largest |expected|, but never below A
 *	(default 2e-3, the fixed point's own error). A NaN or an infinity in
 *	either file never passes; an empty GOT passes only against an empty
 *	EXPECTED of the same dims.
 *   npycmp --split-rows K1[,K2...] IN.npy OUT1.npy OUT2.npy [...]
 *	Consecutive row blocks of IN (K1 rows, K2 rows, ..., the rest), for
 *	horizontal pooling.
 *   npycmp --split-cols K1[,K2...] IN.npy OUT1.npy OUT2.npy [...]
 *	The same on the last axis, for vertical pooling.
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
	"usage: npycmp GOT EXPECTED.npy [--tol T] [--rel R] [--floor A] [--margin M]\n"
	"       npycmp --split-rows K1[,K2...] IN.npy OUT1.npy OUT2.npy [...]\n"
	"       npycmp --split-cols K1[,K2...] IN.npy OUT1.npy OUT2.npy [...]\n"
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
	int ret = input_load(path, t);

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

struct bound {
	double tol, rel, floor, margin;
};

/* A CSV result is 2-D: the same rows and values are the same result. */
static int same_shape(const struct ftensor *got, const struct ftensor *exp)
{
	if (got->ndim == exp->ndim &&
	    !memcmp(got->dims, exp->dims, sizeof(got->dims[0]) * (size_t)got->ndim))
		return 1;
	return got->ndim == 2 && exp->ndim >= 1 && got->n == exp->n && got->dims[0] == exp->dims[0];
}

static int compare(const char *got_path, const char *exp_path, const struct bound *b)
{
	struct ftensor got = { 0 }, exp = { 0 };
	char gs[160], es[160];
	size_t rows, cols, checked = 0, agree = 0, worst = 0;
	double maxdiff = 0, scale = 0, bound;
	int ret = EXIT_USAGE;

	if (load(got_path, &got) || load(exp_path, &exp))
		goto out;
	ftensor_shape_str(got.ndim, got.dims, gs, sizeof(gs));
	ftensor_shape_str(exp.ndim, exp.dims, es, sizeof(es));
	if (!same_shape(&got, &exp) || (!got.n && strcmp(gs, es))) {
		printf("shape %s, expected %s\n", gs, es);
		ret = EXIT_MISMATCH;
		goto out;
	}
	/* An empty result (a Slice past the end) is right only with the same dims. */
	if (!got.n) {
		printf("shape %s, empty as expected\n", gs);
		ret = 0;
		goto out;
	}
	rows = exp.ndim ? (size_t)exp.dims[0] : 1;
	cols = rows ? exp.n / rows : 0;
	for (size_t i = 0; i < got.n; i++) {
		double d = fabs((double)got.data[i] - (double)exp.data[i]);

		/* NaN or infinity on either side never passes. */
		if (!isfinite(d))
			d = INFINITY;
		if (d > maxdiff) {
			maxdiff = d;
			worst = i;
		}
		if (fabs((double)exp.data[i]) > scale)
			scale = fabs((double)exp.data[i]);
	}
	bound = b->rel * scale > b->floor ? b->rel * scale : b->floor;
	if (bound > b->tol)
		bound = b->tol;
	for (size_t r = 0; r < rows && cols; r++) {
		double m, unused;
		size_t e = top2(exp.data + r * cols, cols, &m);

		if (!(m > b->margin))
			continue;
		checked++;
		agree += top2(got.data + r * cols, cols, &unused) == e;
	}
	printf("shape %s, max abs diff %.6g (element %zu), bound %.3g (largest |expected| %.3g), "
	       "argmax agrees on %zu/%zu rows with margin > %g\n", gs, maxdiff, worst, bound, scale,
	       agree, checked, b->margin);
	ret = maxdiff <= bound && agree == checked ? 0 : EXIT_MISMATCH;
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

/* Blocks of IN along axis 0 (rows) or the last axis, sizes K1,K2,...,rest. */
static int split(int last_axis, const char *ks, const char *in, int nout, char **outs)
{
	struct ftensor t = { 0 }, o = { 0 };
	int64_t dims[FT_MAX_DIMS], size[FT_MAX_DIMS], left;
	size_t inner = 1, outer = 1, off = 0;
	const char *p = ks;
	int ax, ret = EXIT_USAGE;

	if (load(in, &t))
		goto out;
	ax = last_axis ? t.ndim - 1 : 0;
	if (t.ndim < 1 || nout < 2 || nout > FT_MAX_DIMS)
		goto bad;
	left = t.dims[ax];
	for (int i = 0; i < nout - 1; i++) {
		char *end;
		long k = strtol(p, &end, 10);

		if (end == p || k < 1 || k >= left || (*end != ',' && (*end || i != nout - 2)))
			goto bad;
		size[i] = k;
		left -= k;
		p = end + (*end == ',');
	}
	size[nout - 1] = left;
	for (int d = 0; d < t.ndim; d++) {
		if (d < ax)
			outer *= (size_t)t.dims[d];
		else if (d > ax)
			inner *= (size_t)t.dims[d];
	}
	for (int i = 0; i < nout; i++) {
		size_t blk;

		memcpy(dims, t.dims, sizeof(dims));
		dims[ax] = size[i];
		blk = (size_t)size[i] * inner;
		if (ftensor_alloc(&o, t.ndim, dims))
			goto out;
		for (size_t r = 0; r < outer; r++)
			memcpy(o.data + r * blk, t.data + r * (size_t)t.dims[ax] * inner + off,
			       blk * sizeof(float));
		off += blk;
		if (save(outs[i], &o))
			goto out;
		ftensor_free(&o);
	}
	ret = 0;
	goto out;
bad:
	fprintf(stderr, "npycmp: --split-%s %s: expected %d sizes from 1 that leave rows for the "
		"last of %d files of %s\n", last_axis ? "cols" : "rows", ks, nout - 1, nout, in);
out:
	ftensor_free(&t);
	ftensor_free(&o);
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
	struct bound b = { .tol = 0.02, .rel = 0.05, .floor = 2e-3, .margin = 1e-2 };
	int ret = EXIT_USAGE;

	if (argc >= 2 && (!strcmp(argv[1], "--split-rows") || !strcmp(argv[1], "--split-cols"))) {
		if (argc >= 6)
			ret = split(argv[1][8] == 'c', argv[2], argv[3], argc - 4, argv + 4);
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
		double *dst = !strcmp(argv[i], "--tol") ? &b.tol :
			      !strcmp(argv[i], "--rel") ? &b.rel :
			      !strcmp(argv[i], "--floor") ? &b.floor :
			      !strcmp(argv[i], "--margin") ? &b.margin : NULL;

		if (!dst || i + 1 >= argc || parse_num(argv[i + 1], dst) || *dst < 0) {
			fputs(usage, stderr);
			goto out;
		}
	}
	ret = compare(argv[1], argv[2], &b);
out:
	return ret;
}

/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * Max, argmax, sigmoid and softmax against plaintext for 2, 3 and 4
 * parties (the harness is in proto_util.c).
 */
#include <math.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "fxp.h"
#include "proto_util.h"
#include "ring.h"
#include "test.h"

/* ---- max / argmax over groups ---- */

static int max_need_t(struct ptest *t, struct corr_list *l)
{
	return t->out2 ? argmax_groups_need(l, &t->g) : max_groups_need(l, &t->g);
}

static int max_run(struct ptest *t, struct mpc *m, const uint64_t *x,
		   const uint64_t *y, uint64_t *out)
{
	(void)y;
	if (!t->out2)
		return max_groups(m, x, &t->g, out);
	/* out holds positions then maxima. */
	return argmax_groups(m, x, &t->g, out, out + t->g.n);
}

static void groups_case(int n, int arg, size_t kmax)
{
	enum { G = 150 };
	size_t start[G + 1], *idx, total = 0;
	struct ptest t = { .need = max_need_t, .run = max_run };

	for (int i = 0; i < G; i++) {
		start[i] = total;
		total += 1 + (size_t)i % kmax;
	}
	start[G] = total;
	idx = malloc(total * sizeof(*idx));
	for (size_t i = 0; i < total; i++)
		idx[i] = (i * 7919) % total;
	pt_alloc(&t, total, 0, arg ? 2 * G : G);
	if (arg)
		t.out2 = calloc(1, 8);
	pt_rand(t.x, total, 60);
	t.x[idx[1]] = t.x[idx[2]]; /* ties, inside a group too */
	t.x[idx[start[3]]] = t.x[idx[start[3] + 1]];
	t.g = (struct cmp_groups){ .n = G, .start = start, .idx = idx };
	pt_exec(&t, n);
	/* all pairs: open, 3 tree levels, 1 AND of 3, select; a tree: 5 per level */
	if (!arg)
		ASSERT_EQ(t.online_rounds, kmax <= 4 ? 6 : 5 * 4);
	for (int g = 0; g < G; g++) {
		int64_t best = INT64_MIN;
		size_t bpos = 0;

		for (size_t j = start[g]; j < start[g + 1]; j++)
			if ((int64_t)t.x[idx[j]] > best) {
				best = (int64_t)t.x[idx[j]];
				bpos = j - start[g];
			}
		if (arg) {
			ASSERT_EQ(t.out[g], bpos);
			ASSERT_EQ((int64_t)t.out[G + g], best);
		} else {
			ASSERT_EQ((int64_t)t.out[g], best);
		}
	}
	free(idx);
	pt_free(&t);
}

TEST(proto_max_groups)
{
	for (int n = 2; n <= 4; n++)
		groups_case(n, 0, 9);
	return 0;
}

/* Groups of at most 4 (MaxPool 2x2) take the one-level all-pairs path. */
TEST(proto_max_small_groups)
{
	for (int n = 2; n <= 4; n++)
		groups_case(n, 0, 4);
	return 0;
}

TEST(proto_argmax_groups)
{
	for (int n = 2; n <= 4; n++)
		groups_case(n, 1, 9);
	return 0;
}

/* ---- sigmoid, softmax ---- */

static int sig_need_t(struct ptest *t, struct corr_list *l)
{
	return sigmoid_need(l, t->nx, 16);
}

static int sig_run(struct ptest *t, struct mpc *m, const uint64_t *x,
		   const uint64_t *y, uint64_t *out)
{
	(void)y;
	return mpc_sigmoid(m, x, t->nx, out);
}

TEST(proto_sigmoid)
{
	for (int n = 2; n <= 4; n++) {
		struct ptest t = { .need = sig_need_t, .run = sig_run };
		double worst = 0;

		pt_alloc(&t, 1000, 0, 1000);
		for (size_t i = 0; i < 1000; i++) {
			double v = i < 900 ? -10.0 + 20.0 * (double)i / 900 :
					     ((i % 2) ? 1e5 : -1e5) * (double)(i - 899);

			t.x[i] = fxp_from_double(v, 16);
		}
		pt_exec(&t, n);
		for (size_t i = 0; i < 1000; i++) {
			double v = fxp_to_double(t.x[i], 16);
			double want = 1.0 / (1.0 + exp(-v)), got = fxp_to_double(t.out[i], 16);

			worst = fmax(worst, test_diff(got, want));
		}
		ASSERT(worst < 1.5e-3);
		pt_free(&t);
	}
	return 0;
}

static int smax_need_t(struct ptest *t, struct corr_list *l)
{
	return softmax_need(l, t->outer, t->k, t->inner, 16);
}

static int smax_run(struct ptest *t, struct mpc *m, const uint64_t *x,
		    const uint64_t *y, uint64_t *out)
{
	(void)y;
	return mpc_softmax(m, x, t->outer, t->k, t->inner, out);
}

static void softmax_case(int n, size_t outer, size_t k, size_t inner, double scale)
{
	struct ptest t = { .need = smax_need_t, .run = smax_run, .outer = outer,
			   .k = k, .inner = inner };
	size_t len = outer * k * inner;
	double worst = 0;

	pt_alloc(&t, len, 0, len);
	for (size_t i = 0; i < len; i++) {
		uint64_t r;

		randombytes_buf(&r, sizeof(r));
		t.x[i] = fxp_from_double(((double)(r % 20001) / 10000.0 - 1.0) * scale, 16);
	}
	pt_exec(&t, n);
	for (size_t o = 0; o < outer; o++)
		for (size_t in = 0; in < inner; in++) {
			double mx = -1e300, sum = 0;

			for (size_t j = 0; j < k; j++)
				mx = fmax(mx, fxp_to_double(t.x[(o * k + j) * inner + in], 16));
			for (size_t j = 0; j < k; j++)
				sum += exp(fxp_to_double(t.x[(o * k + j) * inner + in], 16) - mx);
			for (size_t j = 0; j < k; j++) {
				size_t at = (o * k + j) * inner + in;
				double want = exp(fxp_to_double(t.x[at], 16) - mx) / sum;
				double got = fxp_to_double(t.out[at], 16);

				worst = fmax(worst, test_diff(got, want));
			}
		}
	if (worst >= 2e-3)
		TEST_FAIL("softmax [%zu, %zu, %zu] x%g: worst error %g", outer, k, inner,
			  scale, worst);
	pt_free(&t);
}

TEST(proto_softmax)
{
	for (int n = 2; n <= 4; n++) {
		softmax_case(n, 50, 10, 1, 5.0);
		softmax_case(n, 3, 4, 7, 40.0);
		softmax_case(n, 5, 1, 2, 3.0);
	}
	return 0;
}

static int lsm_need_t(struct ptest *t, struct corr_list *l)
{
	return logsoftmax_need(l, t->outer, t->k, t->inner, 16);
}

static int lsm_run(struct ptest *t, struct mpc *m, const uint64_t *x,
		   const uint64_t *y, uint64_t *out)
{
	(void)y;
	return mpc_logsoftmax(m, x, t->outer, t->k, t->inner, out);
}

/* LogSoftmax against double precision: the worst error over the tensor. */
static double logsoftmax_case(int n, size_t outer, size_t k, size_t inner, double scale)
{
	struct ptest t = { .need = lsm_need_t, .run = lsm_run, .outer = outer,
			   .k = k, .inner = inner };
	size_t len = outer * k * inner;
	double worst = 0;

	pt_alloc(&t, len, 0, len);
	for (size_t i = 0; i < len; i++) {
		uint64_t r;

		randombytes_buf(&r, sizeof(r));
		t.x[i] = fxp_from_double(((double)(r % 20001) / 10000.0 - 1.0) * scale, 16);
	}
	pt_exec(&t, n);
	for (size_t o = 0; o < outer; o++)
		for (size_t in = 0; in < inner; in++) {
			double mx = -1e300, sum = 0;

			for (size_t j = 0; j < k; j++)
				mx = fmax(mx, fxp_to_double(t.x[(o * k + j) * inner + in], 16));
			for (size_t j = 0; j < k; j++)
				sum += exp(fxp_to_double(t.x[(o * k + j) * inner + in], 16) - mx);
			for (size_t j = 0; j < k; j++) {
				size_t at = (o * k + j) * inner + in;
				double want = fxp_to_double(t.x[at], 16) - mx - log(sum);

				worst = fmax(worst, test_diff(fxp_to_double(t.out[at], 16), want));
			}
		}
	pt_free(&t);
	return worst;
}

/*
 * The bound of docs/protocols.md: ln s within (k - 1) 2.7e-4 / s of the
 * exact (the exponential's), plus 1e-4 (the logarithm's); random logits
 * spread over +-scale, down to -80 below the row's maximum.
 */
TEST(proto_logsoftmax)
{
	static const struct { size_t outer, k, inner; double scale, tol; } c[] = {
		{ 50, 10, 1, 5.0, 3e-3 }, { 3, 4, 7, 40.0, 1e-3 }, { 5, 1, 2, 3.0, 2e-4 },
		{ 4, 100, 1, 3.0, 4e-3 }, { 2, 1000, 1, 1.0, 3e-3 },
	};

	for (int n = 2; n <= 4; n++)
		for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
			double w = logsoftmax_case(n, c[i].outer, c[i].k, c[i].inner, c[i].scale);

			fprintf(stderr, "# %d parties, [%zu, %zu, %zu] x%g: worst error %.3g\n", n,
				c[i].outer, c[i].k, c[i].inner, c[i].scale, w);
			if (!(w < c[i].tol))
				TEST_FAIL("logsoftmax [%zu, %zu, %zu] x%g: worst error %g >= %g",
					  c[i].outer, c[i].k, c[i].inner, c[i].scale, w, c[i].tol);
		}
	return 0;
}

/* ---- failure ---- */

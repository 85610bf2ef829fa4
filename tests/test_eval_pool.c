/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * Issue 10, pooling, convolution shapes, precision and softmax: each op in
 * hand-built models, on shares against the double-precision reference,
 * for 2, 3 and 4 parties.
 */
#include <math.h>
#include <sodium.h>

#include "eval.h"
#include "model.h"
#include "onnx_build.h"
#include "sim_model.h"
#include "test.h"

static void rand_fill(float *v, size_t n, double lo, double hi)
{
	for (size_t i = 0; i < n; i++)
		v[i] = (float)(lo + (hi - lo) * (double)randombytes_random() / 4294967295.0);
}

/* Secure output 0 of m (inferred here for x) and the reference, at frac bits. */
static void run_both(struct model *m, const struct ftensor *x, int parties, int frac,
		     struct ftensor *secure, struct ftensor *ref)
{
	struct eval_part part = { .owner = 0, .ndim = x->ndim, .data = x->data };
	struct eval_input in = { .n_parts = 1, .axis = 0, .parts = &part };
	struct sim_model s = { .md = m, .n_parties = parties, .frac = frac,
			       .owner = parties - 1, .recipient = 0, .inputs = &in };
	int nd = x->ndim;

	memcpy(part.dims, x->dims, sizeof(part.dims));
	ASSERT_OK(model_infer(m, (const int64_t(*)[FT_MAX_DIMS])x->dims, &nd));
	ASSERT_OK(model_ref_eval(m, x, ref));
	ASSERT_OK(eval_fold_batchnorm(m));
	if (sim_model_run(&s) != 0)
		TEST_FAIL("secure run: %s", s.job.err);
	*secure = s.outs[0];
	s.outs[0] = (struct ftensor){ 0 }; /* transferred */
	sim_model_free(&s);
}

static double max_diff(const struct ftensor *a, const struct ftensor *b)
{
	double w = 0;

	ASSERT_EQ(a->n, b->n);
	for (size_t i = 0; i < a->n; i++)
		w = fmax(w, test_diff(a->data[i], b->data[i]));
	return w;
}

typedef struct ob *(*build_fn)(void);

/* The model from build against its reference on x, for 2, 3 and 4 parties. */
static void compare(const char *what, build_fn build, const struct ftensor *x, double tol)
{
	for (int parties = 2; parties <= 4; parties++) {
		struct model *m = ob_load(build());
		struct ftensor got, ref;
		double err;

		run_both(m, x, parties, 16, &got, &ref);
		err = max_diff(&got, &ref);
		if (err > tol)
			TEST_FAIL("%s, %d parties: max error %g > %g", what, parties, err, tol);
		ftensor_free(&got);
		ftensor_free(&ref);
		model_free(m);
	}
}

/* ---- exact average pooling ---- */

static struct ob *b_gap(void)
{
	static const int64_t dx[] = { 1, 2, 224, 224 };
	struct ob *b = ob_new(13);

	ob_io(b, 0, "x", 4, dx);
	ob_io(b, 1, "y", -1, NULL);
	ob_node(b, "GlobalAveragePool", "gap", "x", "y");
	return b;
}

/* 1/50176 rounded to 16 fractional bits is 23 % off; the mean must be within 1e-3. */
TEST(evpool_gap_224_exact)
{
	static const int64_t dx[] = { 1, 2, 224, 224 };
	struct ftensor x = ob_tensor(4, dx, NULL);

	rand_fill(x.data, x.n / 2, 0.0, 2.0);
	rand_fill(x.data + x.n / 2, x.n / 2, -3.0, 1.0);
	compare("GlobalAveragePool 224x224", b_gap, &x, 1e-3);
	ftensor_free(&x);
	return 0;
}

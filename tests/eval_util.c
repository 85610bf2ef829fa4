/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
#include <math.h>
#include <sodium.h>
#include <string.h>

#include "eval.h"
#include "eval_util.h"
#include "sim_model.h"
#include "test.h"

#define EVAL_UTIL_MAX_IN 4

void eval_run_both(struct model *m, const struct ftensor *x, int nx, int parties, int frac,
		   struct ftensor *secure, struct ftensor *ref)
{
	int64_t dims[EVAL_UTIL_MAX_IN][FT_MAX_DIMS];
	int nd[EVAL_UTIL_MAX_IN];
	struct eval_input in[EVAL_UTIL_MAX_IN];
	struct eval_part part[EVAL_UTIL_MAX_IN];
	struct sim_model s = { .md = m, .n_parties = parties, .frac = frac,
			       .owner = parties - 1, .recipient = 0 };

	ASSERT(nx >= 1 && nx <= EVAL_UTIL_MAX_IN);
	for (int i = 0; i < nx; i++) {
		memcpy(dims[i], x[i].dims, sizeof(dims[i]));
		nd[i] = x[i].ndim;
		part[i] = (struct eval_part){ .owner = i % parties, .ndim = x[i].ndim,
					      .data = x[i].data };
		memcpy(part[i].dims, x[i].dims, sizeof(part[i].dims));
		in[i] = (struct eval_input){ .n_parts = 1, .axis = 0, .parts = &part[i] };
	}
	ASSERT_OK(model_infer(m, (const int64_t(*)[FT_MAX_DIMS])dims, nd));
	ASSERT_OK(model_ref_eval(m, x, ref));
	model_weight_exps(m); /* as simulate and a daemon's model owner */
	ASSERT_OK(eval_fold_batchnorm(m));
	s.inputs = in;
	if (sim_model_run(&s) != 0)
		TEST_FAIL("secure run: %s", s.job.err);
	*secure = s.outs[0];
	s.outs[0] = (struct ftensor){ 0 }; /* transferred */
	sim_model_free(&s);
}

double eval_max_diff(const struct ftensor *a, const struct ftensor *b)
{
	double w = 0;

	ASSERT_EQ(a->n, b->n);
	for (size_t i = 0; i < a->n; i++)
		w = fmax(w, test_diff(a->data[i], b->data[i]));
	return w;
}

void eval_rand_fill(float *v, size_t n, double lo, double hi)
{
	for (size_t i = 0; i < n; i++)
		v[i] = (float)(lo + (hi - lo) * (double)randombytes_random() / 4294967295.0);
}

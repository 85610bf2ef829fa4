/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * BatchNormalization folded into the preceding Conv or Gemm, as every
 * inference engine does: W' = a W, c' = a c + b per output channel, with
 * a = scale / sqrt(var + eps), b = B - mean a. It saves a product and a
 * truncation per element in the secure run. Only the weights' values
 * change (on whoever holds them); the structure changes the same way on
 * every party.
 */
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "eval.h"

/* A new weight value of shape [n], zeroed; returns its index or < 0. */
static int add_bias(struct model *md, const char *base, int64_t n)
{
	struct model_value *v;
	size_t len = strlen(base) + 16;
	char *name = malloc(len);

	if (!name)
		return MPC_E_NOMEM;
	v = realloc(md->values, (md->n_values + 1) * sizeof(*v));
	if (!v) {
		free(name);
		return MPC_E_NOMEM;
	}
	md->values = v;
	v = &md->values[md->n_values];
	memset(v, 0, sizeof(*v));
	snprintf(name, len, "%s.folded_bias", base);
	v->name = name;
	v->ndim = 1;
	v->dims[0] = n;
	if (ftensor_alloc(&v->init, 1, &n) != 0) {
		free(name);
		return MPC_E_NOMEM;
	}
	return (int)md->n_values++;
}

static int fold_one(struct model *md, struct model_node *bn)
{
	struct model_node *lin = model_fold_target(md, bn);
	int x = bn->in[0], wvid, cvid, ret;
	int64_t ch;
	float *a = NULL, *b = NULL;

	if (!lin)
		return 0;
	wvid = lin->in[1];
	cvid = lin->n_in > 2 ? lin->in[2] : -1;
	ch = md->values[x].dims[1];
	if (cvid < 0) {
		if ((ret = add_bias(md, bn->name, ch)) < 0)
			return ret;
		cvid = ret;
		lin->in[2] = cvid; /* values moved; nodes did not */
		lin->n_in = 3;
		if (lin->op == MOP_GEMM)
			lin->beta = 1.0f;
	}
	if (md->values[bn->in[1]].init.data && md->values[bn->in[2]].init.data &&
	    md->values[bn->in[3]].init.data && md->values[bn->in[4]].init.data &&
	    md->values[wvid].init.data && md->values[cvid].init.data) {
		struct model_value *wv = &md->values[wvid], *cv = &md->values[cvid];
		size_t wn = wv->init.n;

		if (!(a = malloc((size_t)ch * sizeof(*a))) || !(b = malloc((size_t)ch * sizeof(*b)))) {
			free(a);
			return MPC_E_NOMEM;
		}
		/* The same floats model_weight_exps bounded (model/model_wexp.c). */
		model_fold_coeffs(md, bn, a, b);
		for (size_t i = 0; i < wn; i++)
			wv->init.data[i] *= a[model_fold_chan(md, lin, i)];
		for (int64_t i = 0; i < ch; i++)
			cv->init.data[i] = cv->init.data[i] * a[i] +
					   b[i] / (lin->op == MOP_GEMM ? lin->beta : 1.0f);
		ftensor_wipe_free(a, (size_t)ch * sizeof(*a)); /* derived from weights */
		ftensor_wipe_free(b, (size_t)ch * sizeof(*b));
	}
	bn->op = MOP_IDENTITY;
	bn->n_in = 1;
	return 0;
}

int eval_fold_batchnorm(struct model *md)
{
	int ret;

	for (size_t k = 0; k < md->n_nodes; k++)
		if (md->nodes[k].op == MOP_BATCHNORM &&
		    (ret = fold_one(md, &md->nodes[k])) != 0)
			return mpc_fail(ret, "folding BatchNormalization '%s'", md->nodes[k].name);
	return 0;
}

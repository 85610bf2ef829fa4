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

static size_t consumers(const struct model *md, int vid)
{
	size_t n = 0;

	for (size_t k = 0; k < md->n_nodes; k++)
		for (int j = 0; j < md->nodes[k].n_in; j++)
			n += md->nodes[k].in[j] == vid;
	return n + (md->values[vid].is_output ? 1 : 0);
}

static int is_weight(const struct model *md, int vid)
{
	if (vid < 0 || md->values[vid].is_data_input)
		return 0;
	for (size_t k = 0; k < md->n_nodes; k++)
		if (md->nodes[k].out == vid)
			return 0;
	return 1;
}

static struct model_node *producer(struct model *md, int vid)
{
	for (size_t k = 0; k < md->n_nodes; k++)
		if (md->nodes[k].out == vid)
			return &md->nodes[k];
	return NULL;
}

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
	int x = bn->in[0], wvid, cvid, ret;
	struct model_node *lin = producer(md, x);
	const float *sc, *bb, *mu, *var;
	int64_t ch;
	float *a = NULL, *b = NULL;

	if (!lin || (lin->op != MOP_CONV && lin->op != MOP_GEMM) || consumers(md, x) != 1)
		return 0;
	wvid = lin->in[1];
	cvid = lin->n_in > 2 ? lin->in[2] : -1;
	if (!is_weight(md, wvid) || consumers(md, wvid) != 1 ||
	    (cvid >= 0 && (!is_weight(md, cvid) || consumers(md, cvid) != 1)))
		return 0;
	for (int k = 1; k <= 4; k++)
		if (!is_weight(md, bn->in[k]))
			return 0;
	ch = md->values[x].dims[1];
	if (lin->op == MOP_GEMM) {
		if (md->values[x].ndim != 2 || lin->beta == 0.0f)
			return 0;
		/* Only a bias that is the same for every row can absorb b. */
		if (cvid >= 0 && !(md->values[cvid].ndim == 1 ||
				   (md->values[cvid].ndim == 2 && md->values[cvid].dims[0] == 1)))
			return 0;
		if (cvid >= 0 && md->values[cvid].ndim < 1)
			return 0;
		/* Decided on shapes only: parties without the weights must agree. */
		if (cvid >= 0 && md->values[cvid].dims[md->values[cvid].ndim - 1] != ch)
			return 0;
	}
	if (cvid < 0) {
		if ((ret = add_bias(md, bn->name, ch)) < 0)
			return ret;
		cvid = ret;
		lin = producer(md, x); /* values moved; nodes did not */
		lin->in[2] = cvid;
		lin->n_in = 3;
		if (lin->op == MOP_GEMM)
			lin->beta = 1.0f;
	}
	sc = md->values[bn->in[1]].init.data;
	bb = md->values[bn->in[2]].init.data;
	mu = md->values[bn->in[3]].init.data;
	var = md->values[bn->in[4]].init.data;
	if (sc && bb && mu && var && md->values[wvid].init.data && md->values[cvid].init.data) {
		struct model_value *wv = &md->values[wvid], *cv = &md->values[cvid];
		size_t wn = wv->init.n;

		if (!(a = malloc((size_t)ch * sizeof(*a))) || !(b = malloc((size_t)ch * sizeof(*b)))) {
			free(a);
			return MPC_E_NOMEM;
		}
		for (int64_t i = 0; i < ch; i++) {
			a[i] = (float)(sc[i] / sqrt((double)var[i] + bn->epsilon));
			b[i] = (float)(bb[i] - mu[i] * (double)a[i]);
		}
		for (size_t i = 0; i < wn; i++) {
			size_t chan;

			if (lin->op == MOP_CONV)
				chan = i / (wn / (size_t)ch);
			else if (lin->trans_b)
				chan = i / (size_t)wv->dims[1];
			else
				chan = i % (size_t)wv->dims[1];
			wv->init.data[i] *= a[chan];
		}
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

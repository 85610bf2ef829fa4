/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * Weight magnitudes for per-layer fixed-point scales (docs/protocols.md,
 * "Weight scales"; what it reveals: docs/security.md). The evaluator gives
 * a linear layer's weights as many fractional bits as the ring allows for
 * any input under the bound, which needs a bound on every output's sum of
 * |w| and on |bias|: the model owner computes them here from the weights
 * as they will be evaluated (BatchNormalization folded) and sends them
 * with the public graph (JobModel.weight_exp, outside its hash so that a
 * data owner computes the hash from the structure alone).
 *
 * The folding decision lives here too, on the graph and the weights'
 * shapes only, so that eval_fold_batchnorm and these bounds agree.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "model.h"
#include "model_int.h"

static size_t consumers(const struct model *m, int vid)
{
	size_t n = 0;

	for (size_t k = 0; k < m->n_nodes; k++)
		for (int j = 0; j < m->nodes[k].n_in; j++)
			n += m->nodes[k].in[j] == vid;
	return n + (m->values[vid].is_output ? 1 : 0);
}

static int is_weight(const struct model *m, int vid)
{
	return vid >= 0 && !m->values[vid].is_data_input && !model_produced(m, vid);
}

static struct model_node *producer(const struct model *m, int vid)
{
	for (size_t k = 0; k < m->n_nodes; k++)
		if (m->nodes[k].out == vid)
			return &m->nodes[k];
	return NULL;
}

/* Output channels of a Conv or Gemm weight, from its declared shape. */
static int64_t lin_channels(const struct model_node *lin, const struct model_value *w)
{
	if (lin->op == MOP_CONV)
		return w->init.dims[0];
	return lin->trans_b ? w->init.dims[0] : w->init.dims[1];
}

struct model_node *model_fold_target(const struct model *m, const struct model_node *bn)
{
	struct model_node *lin;
	int x = bn->in[0], wvid, cvid;
	const struct model_value *cv;
	int64_t ch;

	if (bn->op != MOP_BATCHNORM || x < 0 || !(lin = producer(m, x)) ||
	    (lin->op != MOP_CONV && lin->op != MOP_GEMM) || consumers(m, x) != 1)
		return NULL;
	wvid = lin->in[1];
	cvid = lin->n_in > 2 ? lin->in[2] : -1;
	if (!is_weight(m, wvid) || consumers(m, wvid) != 1 || m->values[wvid].init.ndim < 2 ||
	    (cvid >= 0 && (!is_weight(m, cvid) || consumers(m, cvid) != 1)))
		return NULL;
	for (int k = 1; k <= 4; k++)
		if (!is_weight(m, bn->in[k]))
			return NULL;
	if (lin->op != MOP_GEMM)
		return lin;
	if (lin->beta == 0.0f)
		return NULL;
	if (cvid < 0)
		return lin;
	/* Only a bias that is the same for every row can absorb b. */
	cv = &m->values[cvid];
	ch = lin_channels(lin, &m->values[wvid]);
	if (!(cv->init.ndim == 1 || (cv->init.ndim == 2 && cv->init.dims[0] == 1)) ||
	    cv->init.dims[cv->init.ndim - 1] != ch)
		return NULL;
	return lin;
}

void model_fold_coeffs(const struct model *m, const struct model_node *bn, float *a, float *b)
{
	const float *sc = m->values[bn->in[1]].init.data, *bb = m->values[bn->in[2]].init.data;
	const float *mu = m->values[bn->in[3]].init.data, *var = m->values[bn->in[4]].init.data;
	size_t ch = m->values[bn->in[1]].init.n;

	for (size_t i = 0; i < ch; i++) {
		a[i] = (float)(sc[i] / sqrt((double)var[i] + bn->epsilon));
		b[i] = (float)(bb[i] - mu[i] * (double)a[i]);
	}
}

size_t model_fold_chan(const struct model *m, const struct model_node *lin, size_t i)
{
	const struct model_value *w = &m->values[lin->in[1]];
	size_t ch = (size_t)lin_channels(lin, w);

	if (lin->op == MOP_CONV)
		return i / (w->init.n / ch);
	return lin->trans_b ? i / (size_t)w->init.dims[1] : i % (size_t)w->init.dims[1];
}

/* ceil(log2 v) for v > 0 (an exact power of two is its own bound); NONE for 0. */
static int log2_up(double v)
{
	int e;
	double f;

	if (!(v > 0))
		return MODEL_WEXP_NONE;
	f = frexp(v, &e); /* v = f 2^e, f in [0.5, 1) */
	if (f == 0.5)
		e--;
	return e < -512 ? -512 : e > 512 ? 512 : e;
}

/* The BatchNorm node folding into node lin, if any. */
static const struct model_node *folded_bn(const struct model *m, const struct model_node *lin)
{
	for (size_t k = 0; k < m->n_nodes; k++)
		if (m->nodes[k].op == MOP_BATCHNORM && model_fold_target(m, &m->nodes[k]) == lin)
			return &m->nodes[k];
	return NULL;
}

static int has_data(const struct model *m, int vid)
{
	return vid >= 0 && m->values[vid].init.data && !m->values[vid].shape_only;
}

/* Mul by a weight (on either side): every output is one product, bounded by max |c|. */
static void mul_exps(const struct model *m, const struct model_node *n, int out[2])
{
	int a = n->in[0], b = n->in[1], w = is_weight(m, b) && !is_weight(m, a) ? b :
					   is_weight(m, a) && !is_weight(m, b) ? a : -1;
	double mx = 0;

	if (w < 0 || !has_data(m, w))
		return;
	for (size_t i = 0; i < m->values[w].init.n; i++)
		mx = fmax(mx, fabs((double)m->values[w].init.data[i]));
	out[0] = log2_up(mx);
	out[1] = MODEL_WEXP_NONE;
}

/*
 * A BatchNormalization left as y = a x + b per channel (not folded): max |a|
 * and max |b|, with a and b as the evaluator computes them.
 */
static void bn_exps(const struct model *m, const struct model_node *n, int out[2])
{
	size_t ch;
	float *a, *b;
	double ma = 0, mb = 0;

	if (model_fold_target(m, n) || n->in[0] < 0 || is_weight(m, n->in[0]))
		return;
	for (int k = 1; k <= 4; k++)
		if (!is_weight(m, n->in[k]) || !has_data(m, n->in[k]))
			return;
	ch = m->values[n->in[1]].init.n;
	for (int k = 2; k <= 4; k++)
		if (m->values[n->in[k]].init.n != ch)
			return;
	a = malloc((ch ? ch : 1) * sizeof(*a));
	b = malloc((ch ? ch : 1) * sizeof(*b));
	if (a && b) {
		model_fold_coeffs(m, n, a, b);
		for (size_t i = 0; i < ch; i++) {
			ma = fmax(ma, fabs((double)a[i]));
			mb = fmax(mb, fabs((double)b[i]));
		}
		out[0] = log2_up(ma);
		out[1] = log2_up(mb);
	}
	/* derived from the weights */
	ftensor_wipe_free(a, (ch ? ch : 1) * sizeof(*a));
	ftensor_wipe_free(b, (ch ? ch : 1) * sizeof(*b));
}

/*
 * Node k's two exponents: the weight as the evaluator shares it (alpha
 * times B, or the folded W a) with each element's output, and the bias
 * (beta C, or the folded c a + b), both in float as they are encoded.
 */
static void node_exps(const struct model *m, const struct model_node *n, int out[2])
{
	const struct model_node *bn;
	const struct model_value *w;
	float *a = NULL, *b = NULL;
	double *l1 = NULL, bmax = 0;
	int wv = n->n_in > 1 ? n->in[1] : -1, cv = n->n_in > 2 ? n->in[2] : -1;
	size_t nout, ch = 0;

	out[0] = out[1] = MODEL_WEXP_UNSET;
	if (n->op == MOP_MUL) {
		mul_exps(m, n, out);
		return;
	}
	if (n->op == MOP_BATCHNORM) {
		bn_exps(m, n, out);
		return;
	}
	if ((n->op != MOP_GEMM && n->op != MOP_MATMUL && n->op != MOP_CONV) || n->in[0] < 0 ||
	    !is_weight(m, wv) || is_weight(m, n->in[0]) || !has_data(m, wv) ||
	    m->values[wv].init.ndim != (n->op == MOP_CONV ? m->values[wv].init.ndim : 2) ||
	    m->values[wv].init.ndim < 2 || (cv >= 0 && (!is_weight(m, cv) || !has_data(m, cv))))
		return;
	w = &m->values[wv];
	bn = n->op == MOP_MATMUL ? NULL : folded_bn(m, n);
	for (int k = 1; bn && k <= 4; k++)
		if (!has_data(m, bn->in[k]))
			return;
	nout = n->op == MOP_CONV ? (size_t)w->init.dims[0] :
	       n->op == MOP_GEMM && n->trans_b ? (size_t)w->init.dims[0] : (size_t)w->init.dims[1];
	if (!(l1 = calloc(nout ? nout : 1, sizeof(*l1))))
		return; /* unset: the activations' scale, still correct */
	if (bn) {
		ch = m->values[bn->in[1]].init.n;
		a = malloc((ch ? ch : 1) * sizeof(*a));
		b = malloc((ch ? ch : 1) * sizeof(*b));
		if (!a || !b || ch != nout)
			goto out;
		model_fold_coeffs(m, bn, a, b);
	}
	for (size_t i = 0; i < w->init.n; i++) {
		size_t o = n->op == MOP_CONV ? i / (w->init.n / nout) :
			   n->op == MOP_GEMM && n->trans_b ? i / (size_t)w->init.dims[1] :
							      i % (size_t)w->init.dims[1];
		float v = w->init.data[i];

		if (bn)
			v *= a[o];
		if (n->op == MOP_GEMM)
			v = n->alpha * v;
		l1[o] += fabs((double)v);
	}
	for (size_t o = 0; o < nout; o++)
		bmax = fmax(bmax, l1[o]);
	out[0] = log2_up(bmax);
	bmax = 0;
	if (cv >= 0) {
		const struct model_value *c = &m->values[cv];

		for (size_t i = 0; i < c->init.n; i++) {
			float v = c->init.data[i];

			if (bn && i < ch)
				v = v * a[i] + b[i] / (n->op == MOP_GEMM ? n->beta : 1.0f);
			if (n->op == MOP_GEMM)
				v = n->beta * v;
			bmax = fmax(bmax, fabs((double)v));
		}
	} else if (bn) {
		for (size_t i = 0; i < ch; i++)
			bmax = fmax(bmax, fabs((double)b[i])); /* a new bias, beta 1 */
	}
	out[1] = log2_up(bmax);
out:
	/* derived from the weights */
	ftensor_wipe_free(l1, (nout ? nout : 1) * sizeof(*l1));
	ftensor_wipe_free(a, (ch ? ch : 1) * sizeof(*a));
	ftensor_wipe_free(b, (ch ? ch : 1) * sizeof(*b));
}

void model_weight_exps_of(const struct model *m, int (*exps)[2])
{
	for (size_t k = 0; k < m->n_nodes; k++)
		node_exps(m, &m->nodes[k], exps[k]);
}

void model_weight_exps(struct model *m)
{
	for (size_t k = 0; k < m->n_nodes; k++) {
		int e[2];

		node_exps(m, &m->nodes[k], e);
		m->nodes[k].wexp[0] = e[0];
		m->nodes[k].wexp[1] = e[1];
	}
}

char *model_weight_exps_format(const struct model *m)
{
	size_t len = 0, cap = 40 * m->n_nodes + 1;
	char *t = malloc(cap);

	if (!t)
		return NULL;
	t[0] = 0;
	for (size_t k = 0; k < m->n_nodes; k++)
		if (m->nodes[k].wexp[0] != MODEL_WEXP_UNSET)
			len += (size_t)snprintf(t + len, cap - len, "%s%zu:%d:%d", len ? ";" : "",
						k, m->nodes[k].wexp[0], m->nodes[k].wexp[1]);
	return t;
}

static int wexp_value(const char **s, int *out)
{
	char *end;
	long v;

	if (**s != '-' && (**s < '0' || **s > '9'))
		return 0;
	v = strtol(*s, &end, 10);
	if (end == *s || end - *s > 6 || (v != MODEL_WEXP_NONE && (v < -512 || v > 512)))
		return 0;
	*out = (int)v;
	*s = end;
	return 1;
}

int model_weight_exps_parse(struct model *m, const char *text)
{
	const char *s = text;
	long prev = -1;

	for (size_t k = 0; k < m->n_nodes; k++)
		m->nodes[k].wexp[0] = m->nodes[k].wexp[1] = MODEL_WEXP_UNSET;
	while (*s) {
		int k, a, b;
		const struct model_node *n;

		if (!wexp_value(&s, &k) || k <= prev || (size_t)k >= m->n_nodes || *s++ != ':' ||
		    !wexp_value(&s, &a) || a == MODEL_WEXP_UNSET || *s++ != ':' ||
		    !wexp_value(&s, &b) || (*s && (*s++ != ';' || !*s)))
			return mpc_fail(MPC_E_FORMAT, "the weight magnitudes are malformed");
		n = &m->nodes[k];
		if (n->op != MOP_GEMM && n->op != MOP_MATMUL && n->op != MOP_CONV &&
		    n->op != MOP_MUL && n->op != MOP_BATCHNORM)
			return mpc_fail(MPC_E_FORMAT,
					"the weight magnitudes name node '%s' (%s), not a linear layer",
					n->name, model_op_name(n->op));
		m->nodes[k].wexp[0] = a;
		m->nodes[k].wexp[1] = b;
		prev = k;
	}
	return 0;
}

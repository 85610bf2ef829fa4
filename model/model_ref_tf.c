/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * Plaintext kernels of the transformer ops in double precision (the
 * yardstick of protocol/eval_tf.c). Shapes were checked by model_infer.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "model.h"
#include "model_int.h"

static size_t numel(const struct model_value *v)
{
	size_t n = 1;

	for (int i = 0; i < v->ndim; i++)
		n *= (size_t)v->dims[i];
	return n;
}

static double unary(const struct model_node *n, double x)
{
	switch (n->op) {
	case MOP_POW:
		return n->exponent == 0.5f ? sqrt(x) : n->exponent == 3.0f ? x * x * x : x * x;
	case MOP_SQRT:
		return sqrt(x);
	case MOP_ERF:
		return erf(x);
	case MOP_TANH:
		return tanh(x);
	default: /* MOP_GELU */
		if (n->gelu_tanh)
			return 0.5 * x * (1.0 + tanh(sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x)));
		return 0.5 * x * (1.0 + erf(x / sqrt(2.0)));
	}
}

/*
 * Reduce over the node's (sorted) axes: the output index of each input
 * element drops the reduced coordinates.
 */
static void reduce(const struct model *m, const struct model_node *n, const double *x,
		   double *y)
{
	const struct model_value *xv = &m->values[n->in[0]];
	size_t total = numel(xv), on = numel(&m->values[n->out]), cnt = total / (on ? on : 1);
	size_t idx[FT_MAX_DIMS] = { 0 };
	int sel[FT_MAX_DIMS], r = xv->ndim;

	model_reduce_sel(n, r, sel);
	for (size_t o = 0; o < on; o++)
		y[o] = n->op == MOP_REDUCEMAX ? -INFINITY : 0.0;
	for (size_t i = 0; i < total; i++) {
		size_t o = 0;

		for (int d = 0; d < r; d++)
			if (!sel[d])
				o = o * (size_t)xv->dims[d] + idx[d];
		if (n->op == MOP_REDUCEMAX)
			y[o] = fmax(y[o], x[i]);
		else
			y[o] += x[i];
		for (int d = r - 1; d >= 0; d--) {
			if (++idx[d] < (size_t)xv->dims[d])
				break;
			idx[d] = 0;
		}
	}
	if (n->op == MOP_REDUCEMEAN)
		for (size_t o = 0; o < on; o++)
			y[o] /= (double)cnt;
}

static void layernorm(const struct model *m, const struct model_node *n, double **buf)
{
	const struct model_value *xv = &m->values[n->in[0]];
	const double *x = buf[n->in[0]], *g = buf[n->in[1]];
	const double *b = n->n_in > 2 && n->in[2] >= 0 ? buf[n->in[2]] : NULL;
	size_t inner = 1, outer = numel(xv);
	double *y = buf[n->out];

	for (int i = n->axis; i < xv->ndim; i++)
		inner *= (size_t)xv->dims[i];
	outer /= inner;
	for (size_t o = 0; o < outer; o++) {
		const double *xr = x + o * inner;
		double mu = 0, var = 0, rs;

		for (size_t j = 0; j < inner; j++)
			mu += xr[j];
		mu /= (double)inner;
		for (size_t j = 0; j < inner; j++)
			var += (xr[j] - mu) * (xr[j] - mu);
		rs = 1.0 / sqrt(var / (double)inner + n->epsilon);
		for (size_t j = 0; j < inner; j++)
			y[o * inner + j] = (xr[j] - mu) * rs * g[j] + (b ? b[j] : 0.0);
	}
}

static int gather(const struct model *m, const struct model_node *n, double **buf)
{
	const struct model_value *tv = &m->values[n->in[0]], *iv = &m->values[n->in[1]];
	size_t ni = numel(iv), outer = 1, inner = 1, rows = (size_t)tv->dims[n->axis];
	const double *t = buf[n->in[0]], *ix = buf[n->in[1]];
	double *y = buf[n->out];

	for (int d = 0; d < n->axis; d++)
		outer *= (size_t)tv->dims[d];
	for (int d = n->axis + 1; d < tv->ndim; d++)
		inner *= (size_t)tv->dims[d];
	for (size_t i = 0; i < ni; i++) {
		double v = ix[i];

		if (v != floor(v) || v < -(double)rows || v >= (double)rows)
			return mpc_fail(MPC_E_RANGE, "node '%s' (Gather): an index is not an "
					"integer in [-%zu, %zu)", n->name, rows, rows);
	}
	for (size_t o = 0; o < outer; o++)
		for (size_t i = 0; i < ni; i++) {
			long long r = (long long)ix[i];
			size_t row = (size_t)(r < 0 ? r + (long long)rows : r);

			memcpy(y + (o * ni + i) * inner, t + (o * rows + row) * inner,
			       inner * sizeof(*y));
		}
	return 0;
}

/* Offset of batch slice i of v in an output of rank r with batch dims od. */
static size_t slice_of(const struct model_value *v, int r, const int64_t *od, size_t i)
{
	size_t off = 0, st = (size_t)v->dims[v->ndim - 2] * (size_t)v->dims[v->ndim - 1];

	for (int d = r - 3; d >= 0; d--) {
		int vd = d - (r - v->ndim);
		size_t c = i % (size_t)od[d];

		i /= (size_t)od[d];
		if (vd >= 0 && v->dims[vd] != 1)
			off += c * st;
		if (vd >= 0)
			st *= (size_t)v->dims[vd];
	}
	return off;
}

static void bmatmul(const struct model *m, const struct model_node *n, double **buf)
{
	const struct model_value *av = &m->values[n->in[0]], *bv = &m->values[n->in[1]];
	const struct model_value *ov = &m->values[n->out];
	int r = ov->ndim;
	size_t M = (size_t)ov->dims[r - 2], N = (size_t)ov->dims[r - 1];
	size_t K = (size_t)av->dims[av->ndim - 1], nb = M && N ? numel(ov) / (M * N) : 0;

	for (size_t s = 0; s < nb; s++) {
		const double *a = buf[n->in[0]] + slice_of(av, r, ov->dims, s);
		const double *b = buf[n->in[1]] + slice_of(bv, r, ov->dims, s);
		double *y = buf[n->out] + s * M * N;

		for (size_t i = 0; i < M; i++)
			for (size_t j = 0; j < N; j++) {
				double acc = 0;

				for (size_t k = 0; k < K; k++)
					acc += a[i * K + k] * b[k * N + j];
				y[i * N + j] = acc;
			}
	}
}

int model_ref_tf(const struct model *m, const struct model_node *n, double **buf)
{
	size_t cnt = numel(&m->values[n->out]);

	switch (n->op) {
	case MOP_POW:
	case MOP_SQRT:
	case MOP_ERF:
	case MOP_TANH:
	case MOP_GELU:
		for (size_t i = 0; i < cnt; i++)
			buf[n->out][i] = unary(n, buf[n->in[0]][i]);
		return 0;
	case MOP_REDUCEMEAN:
	case MOP_REDUCESUM:
	case MOP_REDUCEMAX:
		reduce(m, n, buf[n->in[0]], buf[n->out]);
		return 0;
	case MOP_LAYERNORM:
		layernorm(m, n, buf);
		return 0;
	case MOP_GATHER:
		return gather(m, n, buf);
	case MOP_MATMUL:
		bmatmul(m, n, buf);
		return 0;
	default:
		return mpc_fail(MPC_E_INTERNAL, "node '%s': no plaintext kernel for %s", n->name,
				model_op_name(n->op));
	}
}

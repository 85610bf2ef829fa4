/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * Shape inference of the transformer ops: ReduceMean/Sum/Max,
 * LayerNormalization, Gather and MatMul with batch dimensions. As in
 * model_infer.c, every operand check lives here so the evaluators index
 * without re-checking; axes are normalised (>= 0, sorted) on the node.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "model.h"
#include "model_int.h"

static int tfail(const struct model_node *n, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int tfail(const struct model_node *n, int err, const char *fmt, ...)
{
	char what[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return mpc_fail(err, "node '%s' (%s): %s", n->name, model_op_name(n->op), what);
}

static const char *shp(const struct model_value *v, char *buf)
{
	return ftensor_shape_str(v->ndim, v->dims, buf, MODEL_SHAPE_STR);
}

static void set_out(struct model *m, const struct model_node *n, int ndim, const int64_t *d)
{
	struct model_value *o = &m->values[n->out];

	o->ndim = ndim;
	memset(o->dims, 0, sizeof(o->dims));
	memcpy(o->dims, d, (size_t)ndim * sizeof(*d));
}

void model_reduce_sel(const struct model_node *n, int r, int sel[FT_MAX_DIMS])
{
	for (int i = 0; i < FT_MAX_DIMS; i++)
		sel[i] = n->axes_n <= 0 && !n->noop_empty && i < r;
	for (int i = 0; i < n->axes_n; i++) {
		int64_t ax = n->axes[i] < 0 ? n->axes[i] + r : n->axes[i];

		if (ax >= 0 && ax < r)
			sel[ax] = 1;
	}
}

static int infer_reduce(struct model *m, struct model_node *n)
{
	const struct model_value *x = &m->values[n->in[0]];
	int r = x->ndim, k = 0, sel[FT_MAX_DIMS], seen[FT_MAX_DIMS] = { 0 };
	int64_t d[FT_MAX_DIMS];
	char a[MODEL_SHAPE_STR];

	if (r < 1)
		return tfail(n, MPC_E_SHAPE, "reduce of a scalar");
	for (int i = 0; i < n->axes_n; i++) {
		int64_t ax = n->axes[i] < 0 ? n->axes[i] + r : n->axes[i];

		if (ax < 0 || ax >= r || seen[ax])
			return tfail(n, MPC_E_SHAPE, "axis %lld is out of range or repeated for X %s",
				     (long long)n->axes[i], shp(x, a));
		seen[ax] = 1;
	}
	model_reduce_sel(n, r, sel);
	for (int i = 0; i < r; i++) {
		if (!sel[i] || n->keepdims)
			d[k++] = sel[i] ? 1 : x->dims[i];
		if (sel[i] && !x->dims[i])
			return tfail(n, MPC_E_SHAPE, "X %s is empty on axis %d", shp(x, a), i);
	}
	set_out(m, n, k, d);
	return 0;
}

/* Scale and bias: the normalised axes' shape, right-aligned. */
static int ln_param(const struct model_node *n, const struct model_value *x,
		    const struct model_value *p)
{
	char a[MODEL_SHAPE_STR], b[MODEL_SHAPE_STR];
	int r = x->ndim, ok = p->ndim >= 0 && p->ndim <= r - n->axis;

	for (int i = 0; ok && i < p->ndim; i++)
		ok = p->dims[p->ndim - 1 - i] == x->dims[r - 1 - i];
	for (int i = p->ndim; ok && i < r - n->axis; i++)
		ok = x->dims[r - 1 - i] == 1;
	if (!ok)
		return tfail(n, MPC_E_SHAPE, "'%s' %s does not match X %s from axis %d", p->name,
			     shp(p, a), shp(x, b), n->axis);
	return 0;
}

static int infer_layernorm(struct model *m, struct model_node *n)
{
	const struct model_value *x = &m->values[n->in[0]];
	char a[MODEL_SHAPE_STR];
	int ret;

	if (x->ndim < 1 || n->axis < -x->ndim || n->axis >= x->ndim)
		return tfail(n, MPC_E_SHAPE, "axis %d is out of range for X %s", n->axis,
			     shp(x, a));
	if (n->axis < 0)
		n->axis += x->ndim;
	for (int i = n->axis; i < x->ndim; i++)
		if (!x->dims[i])
			return tfail(n, MPC_E_SHAPE, "X %s is empty on axis %d", shp(x, a), i);
	for (int i = 1; i < n->n_in; i++)
		if (n->in[i] >= 0 && (ret = ln_param(n, x, &m->values[n->in[i]])) != 0)
			return ret;
	set_out(m, n, x->ndim, x->dims);
	return 0;
}

static int infer_gather(struct model *m, struct model_node *n)
{
	const struct model_value *t = &m->values[n->in[0]], *ix = &m->values[n->in[1]];
	char a[MODEL_SHAPE_STR], b[MODEL_SHAPE_STR];
	int64_t d[FT_MAX_DIMS];
	int k = 0;

	if (t->ndim < 1 || n->axis < -t->ndim || n->axis >= t->ndim)
		return tfail(n, MPC_E_SHAPE, "axis %d is out of range for data %s", n->axis,
			     shp(t, a));
	if (n->axis < 0)
		n->axis += t->ndim;
	if (t->ndim - 1 + ix->ndim > FT_MAX_DIMS)
		return tfail(n, MPC_E_SHAPE, "data %s and indices %s give more than %d dims",
			     shp(t, a), shp(ix, b), FT_MAX_DIMS);
	for (int i = 0; i < n->axis; i++)
		d[k++] = t->dims[i];
	for (int i = 0; i < ix->ndim; i++)
		d[k++] = ix->dims[i];
	for (int i = n->axis + 1; i < t->ndim; i++)
		d[k++] = t->dims[i];
	set_out(m, n, k, d);
	return 0;
}

/* numpy matmul with batch dimensions: [..., M, K] x [..., K, N], batch broadcast. */
static int infer_bmatmul(struct model *m, struct model_node *n)
{
	const struct model_value *x = &m->values[n->in[0]], *y = &m->values[n->in[1]];
	char a[MODEL_SHAPE_STR], b[MODEL_SHAPE_STR];
	int r = x->ndim > y->ndim ? x->ndim : y->ndim;
	int64_t d[FT_MAX_DIMS];

	if (x->ndim < 2 || y->ndim < 2 || x->dims[x->ndim - 1] != y->dims[y->ndim - 2])
		return tfail(n, MPC_E_SHAPE, "A %s and B %s do not agree on K", shp(x, a),
			     shp(y, b));
	for (int i = 0; i < r - 2; i++) {
		int ix = i - (r - x->ndim), iy = i - (r - y->ndim);
		int64_t p = ix >= 0 ? x->dims[ix] : 1, q = iy >= 0 ? y->dims[iy] : 1;

		if (p != q && p != 1 && q != 1)
			return tfail(n, MPC_E_SHAPE, "the batch dims of A %s and B %s do not "
				     "broadcast", shp(x, a), shp(y, b));
		d[i] = p == 1 ? q : p;
	}
	d[r - 2] = x->dims[x->ndim - 2];
	d[r - 1] = y->dims[y->ndim - 1];
	set_out(m, n, r, d);
	return 0;
}

int model_infer_tf(struct model *m, struct model_node *n)
{
	switch (n->op) {
	case MOP_REDUCEMEAN:
	case MOP_REDUCESUM:
	case MOP_REDUCEMAX:
		return infer_reduce(m, n);
	case MOP_LAYERNORM:
		return infer_layernorm(m, n);
	case MOP_GATHER:
		return infer_gather(m, n);
	case MOP_MATMUL:
		return infer_bmatmul(m, n);
	default:
		return tfail(n, MPC_E_INTERNAL, "unknown op %d", (int)n->op);
	}
}

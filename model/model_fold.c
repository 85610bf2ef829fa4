/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * Public integers: what a model computes from its shapes and its integer
 * constants only (PyTorch's x.view(x.size(0), -1) is Shape, Gather,
 * Unsqueeze, Concat into a Reshape). docs/security.md: float constants
 * are the model owner's secret weights, integer constants and shapes are
 * public structure, so every party computes these values itself, at
 * shape inference for the rows it runs (a chunk's Shape gives the
 * chunk's rows), and the secure evaluators skip the nodes (folded).
 * Nothing that depends on the data or on a float weight is ever folded.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "model.h"
#include "model_int.h"

/* Largest folded tensor: public structure is small. */
#define FOLD_MAX_ELEMS ((size_t)1 << 24)
#define RANGE_MAX (INT64_C(1) << 40)

static int foldable(enum model_op op)
{
	switch (op) {
	case MOP_SHAPE:
	case MOP_GATHER:
	case MOP_SLICE:
	case MOP_CONCAT:
	case MOP_SQUEEZE:
	case MOP_UNSQUEEZE:
	case MOP_CAST:
	case MOP_ADD:
	case MOP_SUB:
	case MOP_MUL:
	case MOP_DIV:
	case MOP_CONSTOFSHAPE:
	case MOP_RANGE:
	case MOP_EQUAL:
	case MOP_WHERE:
	case MOP_RESHAPE:
	case MOP_IDENTITY:
	case MOP_FLATTEN:
	case MOP_TRANSPOSE:
	case MOP_EXPAND:
		return 1;
	default:
		return 0;
	}
}

/* FLOAT, FLOAT16, DOUBLE, BFLOAT16 */
static int float_type(int t)
{
	return t == 1 || t == 10 || t == 11 || t == 16;
}

static int mark_fail(const char *file, const struct model_node *n, const char *fmt,
		     const char *a, const char *b)
{
	char what[320];

	snprintf(what, sizeof(what), fmt, a, b);
	return mpc_fail(MPC_E_UNSUPPORTED, "%s: node '%s' (%s): %s", file, n->name,
			model_op_name(n->op), what);
}

/* A node that is not folded: its public slots, its operands, its op. */
static int check_secret_node(const struct model *m, const struct model_node *n,
			     const uint8_t *computed, const char *file)
{
	for (int i = 0; i < n->n_in; i++) {
		const struct model_value *v = n->in[i] >= 0 ? &m->values[n->in[i]] : NULL;

		if (!v)
			continue;
		/* a data input of ids read by Gather is secret: a one-hot product (eval_tf_norm.c) */
		if (model_public_slot(n, i) && !v->is_public &&
		    !(n->op == MOP_GATHER && i == 1 && v->is_data_input))
			return mark_fail(file, n,
					 "input '%s' must be computed from shapes and integer "
					 "constants only%s",
					 v->name, ": it depends on the data or a float weight");
		if (!model_public_slot(n, i) && computed[n->in[i]])
			return mark_fail(file, n,
					 "input '%s' is a public integer computed from shapes; as an "
					 "operand of %s it is not supported",
					 v->name, model_op_name(n->op));
	}
	switch (n->op) {
	case MOP_CAST:
		if (!float_type(n->cast_to))
			return mark_fail(file, n,
					 "a cast of the secret tensor '%s' to %s is not supported "
					 "(only to a float type)",
					 m->values[n->in[0]].name, model_type_name(n->cast_to));
		return 0;
	case MOP_EQUAL:
	case MOP_WHERE:
		return mark_fail(file, n,
				 "%s on the data or a weight ('%s') is not supported: only on "
				 "public integers (shape computations)",
				 model_op_name(n->op), m->values[n->in[0]].name);
	default:
		return 0;
	}
}

int model_mark_public(struct model *m, const char *file)
{
	uint8_t *computed = calloc(m->n_values + 1, 1);
	int ret = 0;

	if (!computed)
		return mpc_fail(MPC_E_NOMEM, "%s: out of memory", file);
	for (size_t i = 0; i < m->n_values; i++)
		m->values[i].is_public = m->values[i].ints != NULL;
	for (size_t k = 0; k < m->n_nodes && !ret; k++) {
		struct model_node *n = &m->nodes[k];
		int all = n->n_in > 0;

		for (int i = 0; i < n->n_in; i++)
			if (n->in[i] >= 0 && !m->values[n->in[i]].is_public)
				all = 0;
		n->folded = n->op == MOP_SHAPE || (foldable(n->op) && all);
		if (!n->folded) {
			ret = check_secret_node(m, n, computed, file);
			continue;
		}
		if (n->op == MOP_CAST && float_type(n->cast_to))
			ret = mark_fail(file, n,
					"a cast of the public integer '%s' to %s is not supported "
					"(shape computations stay integers)",
					m->values[n->in[0]].name, model_type_name(n->cast_to));
		m->values[n->out].is_public = 1;
		computed[n->out] = 1;
	}
	free(computed);
	return ret;
}

static void set_out(struct model *m, const struct model_node *n, int ndim, const int64_t *d)
{
	struct model_value *o = &m->values[n->out];

	o->ndim = ndim;
	memset(o->dims, 0, sizeof(o->dims));
	memcpy(o->dims, d, (size_t)ndim * sizeof(*d));
}

/* A public scalar input. */
static int scalar_of(const struct model *m, const struct model_node *n, int slot, int64_t *v)
{
	const struct model_value *x = &m->values[n->in[slot]];

	if (!x->known || model_numel(x) != 1)
		return model_node_fail(n, MPC_E_SHAPE, "input '%s' must be a public scalar",
				       x->name);
	*v = x->known[0];
	return 0;
}

static int range_count(const struct model *m, const struct model_node *n, int64_t *cnt)
{
	int64_t s, l, d;
	int ret;

	if ((ret = scalar_of(m, n, 0, &s)) != 0 || (ret = scalar_of(m, n, 1, &l)) != 0 ||
	    (ret = scalar_of(m, n, 2, &d)) != 0)
		return ret;
	if (!d)
		return model_node_fail(n, MPC_E_FORMAT, "a delta of 0");
	/* Public ranges are shapes and positions: far below 2^40, so nothing below wraps. */
	if (s > RANGE_MAX || s < -RANGE_MAX || l > RANGE_MAX || l < -RANGE_MAX ||
	    d > RANGE_MAX || d < -RANGE_MAX)
		return model_node_fail(n, MPC_E_RANGE, "a start, limit or delta beyond 2^40");
	*cnt = d > 0 ? (l > s ? (l - s + d - 1) / d : 0) : (s > l ? (s - l - d - 1) / -d : 0);
	return 0;
}

int model_infer_public(struct model *m, struct model_node *n)
{
	const struct model_value *x = &m->values[n->in[0]];
	int64_t d[FT_MAX_DIMS], s, e;
	int cnt = 0, ret;

	switch (n->op) {
	case MOP_SHAPE:
		s = n->shape_start < 0 ? n->shape_start + x->ndim : n->shape_start;
		e = n->shape_end < 0 ? n->shape_end + x->ndim : n->shape_end;
		s = s < 0 ? 0 : s > x->ndim ? x->ndim : s;
		e = e < 0 ? 0 : e > x->ndim ? x->ndim : e;
		d[0] = e > s ? e - s : 0;
		set_out(m, n, 1, d);
		return 0;
	case MOP_CAST:
		set_out(m, n, x->ndim, x->dims);
		return 0;
	case MOP_CONSTOFSHAPE:
		if ((ret = model_public_list(m, n, 0, "shape", d, &cnt)) != 0)
			return ret;
		for (int i = 0; i < cnt; i++)
			if (d[i] < 0 || d[i] > (int64_t)FOLD_MAX_ELEMS)
				return model_node_fail(n, MPC_E_SHAPE, "dim %lld", (long long)d[i]);
		set_out(m, n, cnt, d);
		return 0;
	case MOP_RANGE:
		if ((ret = range_count(m, n, &d[0])) != 0)
			return ret;
		if (d[0] > (int64_t)FOLD_MAX_ELEMS)
			return model_node_fail(n, MPC_E_TOOBIG, "%lld elements", (long long)d[0]);
		set_out(m, n, 1, d);
		return 0;
	case MOP_WHERE: {
		int r = 0;

		for (int k = 0; k < 3; k++)
			r = m->values[n->in[k]].ndim > r ? m->values[n->in[k]].ndim : r;
		for (int i = 0; i < r; i++) {
			d[i] = 1;
			for (int k = 0; k < 3; k++) {
				const struct model_value *v = &m->values[n->in[k]];
				int iv = i - (r - v->ndim);
				int64_t y = iv >= 0 ? v->dims[iv] : 1;

				if (y != 1 && d[i] != 1 && y != d[i])
					return model_node_fail(n, MPC_E_SHAPE,
							       "the inputs do not broadcast");
				d[i] = y != 1 ? y : d[i];
			}
		}
		set_out(m, n, r, d);
		return 0;
	}
	default:
		return model_node_fail(n, MPC_E_INTERNAL, "not a public op");
	}
}

/* Index into a (broadcast to out's shape) of out's element i. */
static size_t bidx(const struct model_value *o, const struct model_value *a, size_t i)
{
	size_t at = 0, st = 1;

	for (int k = o->ndim - 1; k >= 0; k--) {
		size_t c = i % (size_t)o->dims[k];
		int ka = k - (o->ndim - a->ndim);

		i /= (size_t)o->dims[k];
		if (ka < 0)
			continue;
		if (a->dims[ka] != 1)
			at += c * st;
		st *= (size_t)a->dims[ka];
	}
	return at;
}

static int arith(const struct model_node *n, int64_t a, int64_t b, int64_t *y)
{
	int over = 0;

	switch (n->op) {
	case MOP_ADD:
		over = __builtin_add_overflow(a, b, y);
		break;
	case MOP_SUB:
		over = __builtin_sub_overflow(a, b, y);
		break;
	case MOP_MUL:
		over = __builtin_mul_overflow(a, b, y);
		break;
	case MOP_DIV:
		if (!b)
			return model_node_fail(n, MPC_E_RANGE, "a division by zero");
		over = a == INT64_MIN && b == -1;
		*y = over ? 0 : a / b; /* ONNX integer Div truncates */
		break;
	default: /* Equal */
		*y = a == b;
		break;
	}
	return over ? model_node_fail(n, MPC_E_RANGE, "integer overflow") : 0;
}

static int fold_values(const struct model *m, const struct model_node *n, int64_t *y, size_t cnt)
{
	const struct model_value *o = &m->values[n->out], *x = &m->values[n->in[0]];
	const int64_t *a = x->known;
	size_t *map = NULL;
	int ret = 0;

	switch (n->op) {
	case MOP_SHAPE: {
		int64_t s = n->shape_start < 0 ? n->shape_start + x->ndim : n->shape_start;

		s = s < 0 ? 0 : s;
		for (size_t i = 0; i < cnt; i++)
			y[i] = x->dims[(size_t)s + i];
		return 0;
	}
	case MOP_GATHER:
	case MOP_SLICE:
	case MOP_TRANSPOSE:
	case MOP_EXPAND:
		if (!(map = malloc((cnt ? cnt : 1) * sizeof(*map))))
			return mpc_fail(MPC_E_NOMEM, "folding");
		if ((ret = model_layout_map(m, n, map)) == 0)
			for (size_t i = 0; i < cnt; i++)
				y[i] = a[map[i]];
		free(map);
		return ret;
	case MOP_CAST:
		for (size_t i = 0; i < cnt; i++)
			y[i] = n->cast_to == 9 ? a[i] != 0 : a[i]; /* BOOL */
		return 0;
	case MOP_CONCAT: {
		size_t outer = 1, at = 0, oinner = 1;

		for (int d = 0; d < n->axis; d++)
			outer *= (size_t)o->dims[d];
		for (int d = n->axis; d < o->ndim; d++)
			oinner *= (size_t)o->dims[d];
		for (int k = 0; k < n->n_in; k++) {
			const struct model_value *v = &m->values[n->in[k]];
			size_t inner = outer ? model_numel(v) / outer : 0;

			for (size_t p = 0; p < outer; p++)
				memcpy(y + p * oinner + at, v->known + p * inner, inner * sizeof(*y));
			at += inner;
		}
		return 0;
	}
	case MOP_ADD:
	case MOP_SUB:
	case MOP_MUL:
	case MOP_DIV:
	case MOP_EQUAL: {
		const struct model_value *b = &m->values[n->in[1]];

		for (size_t i = 0; i < cnt && !ret; i++)
			ret = arith(n, a[bidx(o, x, i)], b->known[bidx(o, b, i)], &y[i]);
		return ret;
	}
	case MOP_WHERE: {
		const struct model_value *b = &m->values[n->in[1]], *c = &m->values[n->in[2]];

		for (size_t i = 0; i < cnt; i++)
			y[i] = a[bidx(o, x, i)] ? b->known[bidx(o, b, i)] : c->known[bidx(o, c, i)];
		return 0;
	}
	case MOP_CONSTOFSHAPE:
		for (size_t i = 0; i < cnt; i++)
			y[i] = n->fill;
		return 0;
	case MOP_RANGE: {
		int64_t s = m->values[n->in[0]].known[0], d = m->values[n->in[2]].known[0];

		for (size_t i = 0; i < cnt; i++)
			y[i] = s + (int64_t)i * d;
		return 0;
	}
	default: /* Reshape, Flatten, Identity, Squeeze, Unsqueeze: the same values */
		memcpy(y, a, cnt * sizeof(*y));
		return 0;
	}
}

int model_fold_node(struct model *m, struct model_node *n)
{
	struct model_value *o = &m->values[n->out];
	size_t cnt = model_numel(o);
	int64_t *y;
	int ret;

	if (cnt > FOLD_MAX_ELEMS)
		return model_node_fail(n, MPC_E_TOOBIG,
				       "a public tensor of %zu elements (at most %zu)", cnt,
				       FOLD_MAX_ELEMS);
	for (int i = 0; i < n->n_in && n->op != MOP_SHAPE; i++)
		if (n->in[i] >= 0 && !m->values[n->in[i]].known)
			return model_node_fail(n, MPC_E_INTERNAL, "input %d has no public value", i);
	if (!(y = calloc(cnt ? cnt : 1, sizeof(*y))))
		return mpc_fail(MPC_E_NOMEM, "folding");
	if ((ret = fold_values(m, n, y, cnt)) != 0) {
		free(y);
		return ret;
	}
	free(m->fold[n->out]);
	m->fold[n->out] = y;
	o->known = y;
	return 0;
}

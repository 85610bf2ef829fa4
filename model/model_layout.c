/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * Data movement: Transpose, Slice (and Split's outputs), Squeeze,
 * Unsqueeze, Expand, Gather with public indices. Each output element is a
 * copy of one input element, so one index map serves the plaintext
 * reference, the folding of public integers and the secure evaluator
 * (where the copy is local on shares). Shapes and the map are computed
 * here from the node's attributes and its public inputs (model_infer()
 * has resolved them into known).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "model.h"
#include "model_int.h"

int model_public_slot(const struct model_node *n, int i)
{
	switch (n->op) {
	case MOP_RESHAPE:
	case MOP_EXPAND:
	case MOP_GATHER:
	case MOP_SQUEEZE:
	case MOP_UNSQUEEZE:
		return i == 1;
	case MOP_SLICE:
		return i >= 1;
	case MOP_PAD:
		return i == 1;
	case MOP_CONSTOFSHAPE:
	case MOP_RANGE:
		return 1;
	default:
		return 0;
	}
}

int model_node_fail(const struct model_node *n, int err, const char *fmt, ...)
{
	char what[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return mpc_fail(err, "node '%s' (%s): %s", n->name, model_op_name(n->op), what);
}

size_t model_numel(const struct model_value *v)
{
	size_t c = 1;

	for (int i = 0; i < v->ndim; i++)
		c *= (size_t)v->dims[i];
	return c;
}

/*
 * A public input's values as a list of at most FT_MAX_DIMS integers (a
 * shape, axes, starts): scalar or rank 1.
 */
int model_public_list(const struct model *m, const struct model_node *n, int slot,
		      const char *what, int64_t *out, int *cnt)
{
	const struct model_value *v = &m->values[n->in[slot]];
	size_t k = model_numel(v);

	if (!v->known)
		return model_node_fail(n, MPC_E_UNSUPPORTED,
				       "the %s '%s' must be computed from shapes and integer "
				       "constants only",
				       what, v->name);
	if (v->ndim > 1 || k > FT_MAX_DIMS)
		return model_node_fail(n, MPC_E_UNSUPPORTED,
				       "the %s '%s' must be a vector of at most %d values", what,
				       v->name, FT_MAX_DIMS);
	memcpy(out, v->known, k * sizeof(*out));
	*cnt = (int)k;
	return 0;
}

static void set_out(struct model *m, const struct model_node *n, int ndim, const int64_t *d)
{
	struct model_value *o = &m->values[n->out];

	o->ndim = ndim;
	memset(o->dims, 0, sizeof(o->dims));
	memcpy(o->dims, d, (size_t)ndim * sizeof(*d));
}

/* Axis a of a rank-r tensor, in [-r, r - 1], to [0, r - 1]; -1 when out of range. */
static int norm(int64_t a, int r)
{
	if (a < -r || a >= r)
		return -1;
	return (int)(a < 0 ? a + r : a);
}

static void perm_of(const struct model_node *n, int r, int *perm)
{
	for (int i = 0; i < r; i++)
		perm[i] = n->perm_n < 0 ? r - 1 - i : n->perm[i];
}

static int infer_transpose(struct model *m, struct model_node *n)
{
	const struct model_value *x = &m->values[n->in[0]];
	int perm[FT_MAX_DIMS], seen[FT_MAX_DIMS] = { 0 };
	int64_t d[FT_MAX_DIMS];

	if (n->perm_n >= 0 && n->perm_n != x->ndim)
		return model_node_fail(n, MPC_E_SHAPE, "perm has %d values for an input of rank %d",
				       n->perm_n, x->ndim);
	perm_of(n, x->ndim, perm);
	for (int i = 0; i < x->ndim; i++) {
		if (seen[perm[i]]++)
			return model_node_fail(n, MPC_E_FORMAT, "perm names axis %d twice", perm[i]);
		d[i] = x->dims[perm[i]];
	}
	set_out(m, n, x->ndim, d);
	return 0;
}

/* Split's sizes along its axis (output split_n parts). */
static int split_sizes(const struct model *m, const struct model_node *n, int64_t dim,
		       int64_t *sizes)
{
	int64_t sum = 0, each;
	int cnt = 0, ret;

	if (n->n_in > 1 && n->in[1] >= 0) {
		const struct model_value *v = &m->values[n->in[1]];

		if (!v->known || v->ndim != 1 || v->dims[0] != n->split_n)
			return model_node_fail(n, MPC_E_UNSUPPORTED,
					       "split '%s' must be %d public sizes", v->name,
					       n->split_n);
		memcpy(sizes, v->known, (size_t)n->split_n * sizeof(*sizes));
		cnt = n->split_n;
	} else if (n->split_attr_n > 0) {
		memcpy(sizes, n->split_attr, (size_t)n->split_n * sizeof(*sizes));
		cnt = n->split_n;
	}
	if (cnt) {
		for (int k = 0; k < cnt; k++) {
			if (sizes[k] < 0 || sizes[k] > dim)
				return model_node_fail(n, MPC_E_SHAPE, "split size %lld",
						       (long long)sizes[k]);
			sum += sizes[k];
		}
		ret = sum == dim ? 0 :
				   model_node_fail(n, MPC_E_SHAPE,
						   "the split sizes add up to %lld, the axis has %lld",
						   (long long)sum, (long long)dim);
		return ret;
	}
	/* Equal parts; the last one shorter when the axis does not divide (opset 18). */
	each = (dim + n->split_n - 1) / n->split_n;
	for (int k = 0; k < n->split_n; k++) {
		sizes[k] = dim - sum < each ? dim - sum : each;
		sum += sizes[k];
	}
	return 0;
}

static int64_t clamp(int64_t v, int64_t lo, int64_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* Slice's starts, ends, axes, steps from attributes (opset < 10) or public inputs. */
static int slice_params(const struct model *m, const struct model_node *n, int64_t *st,
			int64_t *en, int64_t *ax, int64_t *sp, int *cnt)
{
	int ns = n->starts_n, ne = n->ends_n, na = -1, nsp = -1, ret;

	if (n->n_in > 1) {
		if ((ret = model_public_list(m, n, 1, "starts", st, &ns)) != 0 ||
		    (n->n_in > 2 && (ret = model_public_list(m, n, 2, "ends", en, &ne)) != 0) ||
		    (n->n_in > 3 && n->in[3] >= 0 &&
		     (ret = model_public_list(m, n, 3, "axes", ax, &na)) != 0) ||
		    (n->n_in > 4 && n->in[4] >= 0 &&
		     (ret = model_public_list(m, n, 4, "steps", sp, &nsp)) != 0))
			return ret;
		if (n->n_in < 3)
			return model_node_fail(n, MPC_E_FORMAT, "ends is missing");
	} else {
		memcpy(st, n->starts, sizeof(n->starts));
		memcpy(en, n->ends, sizeof(n->ends));
		if (n->axes_n >= 0) {
			memcpy(ax, n->axes, sizeof(n->axes));
			na = n->axes_n;
		}
	}
	if (ns < 0 || ns != ne || (na >= 0 && na != ns) || (nsp >= 0 && nsp != ns))
		return model_node_fail(n, MPC_E_FORMAT,
				       "starts, ends, axes and steps differ in length");
	for (int i = 0; i < ns; i++) {
		if (na < 0)
			ax[i] = i;
		if (nsp < 0)
			sp[i] = 1;
	}
	*cnt = ns;
	return 0;
}

static int infer_slice(struct model *m, struct model_node *n)
{
	const struct model_value *x = &m->values[n->in[0]];
	int64_t d[FT_MAX_DIMS], st[FT_MAX_DIMS], en[FT_MAX_DIMS], ax[FT_MAX_DIMS], sp[FT_MAX_DIMS];
	int r = x->ndim, cnt = 0, ret, done[FT_MAX_DIMS] = { 0 };

	memcpy(d, x->dims, sizeof(d));
	for (int i = 0; i < FT_MAX_DIMS; i++) {
		n->sl_start[i] = 0;
		n->sl_step[i] = 1;
	}
	if (n->split_n) {
		int64_t sizes[MODEL_MAX_SPLIT], off = 0;
		int a = norm(n->axis, r);

		if (a < 0)
			return model_node_fail(n, MPC_E_SHAPE, "axis %d is out of range for rank %d",
					       n->axis, r);
		if ((ret = split_sizes(m, n, x->dims[a], sizes)) != 0)
			return ret;
		for (int k = 0; k < n->split_k; k++)
			off += sizes[k];
		n->sl_start[a] = off;
		d[a] = sizes[n->split_k];
		set_out(m, n, r, d);
		return 0;
	}
	if ((ret = slice_params(m, n, st, en, ax, sp, &cnt)) != 0)
		return ret;
	for (int i = 0; i < cnt; i++) {
		int a = norm(ax[i], r);
		int64_t dim, s, e;

		if (a < 0 || done[a]++)
			return model_node_fail(n, MPC_E_SHAPE,
					       "axis %lld is out of range or repeated for rank %d",
					       (long long)ax[i], r);
		if (!sp[i])
			return model_node_fail(n, MPC_E_FORMAT, "a step of 0");
		dim = x->dims[a];
		s = st[i] < 0 ? st[i] + dim : st[i];
		e = en[i] < 0 ? en[i] + dim : en[i];
		/* A step longer than the axis takes one element, as dim + 1 does. */
		sp[i] = clamp(sp[i], -(dim + 1), dim + 1);
		if (sp[i] > 0) {
			s = clamp(s, 0, dim);
			e = clamp(e, 0, dim);
			d[a] = e > s ? (e - s - 1) / sp[i] + 1 : 0;
		} else {
			s = clamp(s, 0, dim - 1);
			e = clamp(e, -1, dim - 1);
			d[a] = s > e ? (s - e - 1) / -sp[i] + 1 : 0;
		}
		n->sl_start[a] = d[a] ? s : 0;
		n->sl_step[a] = sp[i];
	}
	set_out(m, n, r, d);
	return 0;
}

/* Squeeze and Unsqueeze's axes: the attribute, or the public input 1 (opset 13). */
static int axes_of(const struct model *m, const struct model_node *n, int64_t *ax, int *cnt)
{
	if (n->n_in > 1 && n->in[1] >= 0)
		return model_public_list(m, n, 1, "axes", ax, cnt);
	memcpy(ax, n->axes, sizeof(n->axes));
	*cnt = n->axes_n;
	return 0;
}

static int infer_squeeze(struct model *m, struct model_node *n)
{
	const struct model_value *x = &m->values[n->in[0]];
	int64_t ax[FT_MAX_DIMS], d[FT_MAX_DIMS];
	int cnt, drop[FT_MAX_DIMS] = { 0 }, r = 0, ret;

	if ((ret = axes_of(m, n, ax, &cnt)) != 0)
		return ret;
	for (int i = 0; i < cnt; i++) {
		int a = norm(ax[i], x->ndim);

		if (a < 0 || x->dims[a] != 1)
			return model_node_fail(n, MPC_E_SHAPE,
					       "axis %lld of an input %s is not of size 1",
					       (long long)ax[i],
					       ftensor_shape_str(x->ndim, x->dims,
								 (char[MODEL_SHAPE_STR]){ 0 },
								 MODEL_SHAPE_STR));
		drop[a] = 1;
	}
	for (int i = 0; i < x->ndim; i++)
		if (!(cnt < 0 ? x->dims[i] == 1 : drop[i]))
			d[r++] = x->dims[i];
	set_out(m, n, r, d);
	return 0;
}

static int infer_unsqueeze(struct model *m, struct model_node *n)
{
	const struct model_value *x = &m->values[n->in[0]];
	int64_t ax[FT_MAX_DIMS], d[FT_MAX_DIMS];
	int cnt, add[FT_MAX_DIMS] = { 0 }, r, k = 0, ret;

	if ((ret = axes_of(m, n, ax, &cnt)) != 0)
		return ret;
	if (cnt < 1)
		return model_node_fail(n, MPC_E_FORMAT, "axes are missing");
	r = x->ndim + cnt;
	if (r > FT_MAX_DIMS)
		return model_node_fail(n, MPC_E_UNSUPPORTED, "rank %d (at most %d)", r,
				       FT_MAX_DIMS);
	for (int i = 0; i < cnt; i++) {
		int a = norm(ax[i], r);

		if (a < 0 || add[a]++)
			return model_node_fail(n, MPC_E_SHAPE,
					       "axis %lld is out of range or repeated for rank %d",
					       (long long)ax[i], r);
	}
	for (int i = 0; i < r; i++)
		d[i] = add[i] ? 1 : x->dims[k++];
	set_out(m, n, r, d);
	return 0;
}

static int infer_expand(struct model *m, struct model_node *n)
{
	const struct model_value *x = &m->values[n->in[0]];
	int64_t s[FT_MAX_DIMS], d[FT_MAX_DIMS];
	int cnt, r, ret;

	if ((ret = model_public_list(m, n, 1, "shape", s, &cnt)) != 0)
		return ret;
	r = cnt > x->ndim ? cnt : x->ndim;
	for (int i = 0; i < r; i++) {
		int ix = i - (r - x->ndim), is = i - (r - cnt);
		int64_t a = ix >= 0 ? x->dims[ix] : 1, b = is >= 0 ? s[is] : 1;

		if (b < 0 || (a != b && a != 1 && b != 1))
			return model_node_fail(n, MPC_E_SHAPE,
					       "an input of dim %lld does not expand to %lld on axis %d",
					       (long long)a, (long long)b, i);
		d[i] = a == 1 ? b : a;
		if (d[i] > (int64_t)FT_MAX_ELEMS)
			return model_node_fail(n, MPC_E_TOOBIG, "dim %lld", (long long)d[i]);
	}
	n->shape_n = cnt;
	memcpy(n->shape, s, sizeof(n->shape));
	set_out(m, n, r, d);
	return 0;
}

static int infer_gather(struct model *m, struct model_node *n)
{
	const struct model_value *x = &m->values[n->in[0]], *ix = &m->values[n->in[1]];
	int64_t d[FT_MAX_DIMS];
	int a = norm(n->axis, x->ndim), r = 0;
	size_t k = model_numel(ix);

	if (a < 0)
		return model_node_fail(n, MPC_E_SHAPE, "axis %d is out of range for rank %d",
				       n->axis, x->ndim);
	if (!ix->known)
		return model_node_fail(n, MPC_E_UNSUPPORTED,
				       "the indices '%s' depend on the data or a weight: only "
				       "public indices (integer constants, shapes) are supported",
				       ix->name);
	if (x->ndim - 1 + ix->ndim > FT_MAX_DIMS)
		return model_node_fail(n, MPC_E_UNSUPPORTED, "output rank %d (at most %d)",
				       x->ndim - 1 + ix->ndim, FT_MAX_DIMS);
	for (size_t i = 0; i < k; i++)
		if (ix->known[i] < -x->dims[a] || ix->known[i] >= x->dims[a])
			return model_node_fail(n, MPC_E_SHAPE,
					       "index %zu of '%s' is out of range for axis %d of "
					       "size %lld",
					       i, ix->name, a, (long long)x->dims[a]);
	n->axis = a;
	for (int i = 0; i < a; i++)
		d[r++] = x->dims[i];
	for (int i = 0; i < ix->ndim; i++)
		d[r++] = ix->dims[i];
	for (int i = a + 1; i < x->ndim; i++)
		d[r++] = x->dims[i];
	set_out(m, n, r, d);
	return 0;
}

int model_infer_layout(struct model *m, struct model_node *n)
{
	switch (n->op) {
	case MOP_TRANSPOSE:
		return infer_transpose(m, n);
	case MOP_SLICE:
		return infer_slice(m, n);
	case MOP_SQUEEZE:
		return infer_squeeze(m, n);
	case MOP_UNSQUEEZE:
		return infer_unsqueeze(m, n);
	case MOP_EXPAND:
		return infer_expand(m, n);
	case MOP_GATHER:
		return infer_gather(m, n);
	default:
		return model_node_fail(n, MPC_E_INTERNAL, "not a data movement");
	}
}

/* Row-major strides of a shape. */
static void strides(int ndim, const int64_t *dims, size_t *st)
{
	size_t s = 1;

	for (int i = ndim - 1; i >= 0; i--) {
		st[i] = s;
		s *= (size_t)dims[i];
	}
}

int model_layout_map(const struct model *m, const struct model_node *n, size_t *map)
{
	const struct model_value *x = &m->values[n->in[0]], *y = &m->values[n->out];
	size_t xs[FT_MAX_DIMS], step[FT_MAX_DIMS] = { 0 }, idx[FT_MAX_DIMS] = { 0 };
	size_t cnt = model_numel(y), off = 0;
	int perm[FT_MAX_DIMS], r = y->ndim;

	strides(x->ndim, x->dims, xs);
	if (n->op == MOP_GATHER) {
		const int64_t *ix = m->values[n->in[1]].known;
		size_t k = model_numel(&m->values[n->in[1]]), inner = 1, outer = 1;
		size_t dim = (size_t)x->dims[n->axis], i = 0;

		for (int a = 0; a < n->axis; a++)
			outer *= (size_t)x->dims[a];
		for (int a = n->axis + 1; a < x->ndim; a++)
			inner *= (size_t)x->dims[a];
		for (size_t o = 0; o < outer; o++)
			for (size_t j = 0; j < k; j++) {
				size_t at = (size_t)(ix[j] < 0 ? ix[j] + (int64_t)dim : ix[j]);

				for (size_t e = 0; e < inner; e++)
					map[i++] = (o * dim + at) * inner + e;
			}
		return 0;
	}
	/* The input offset of output element 0, and how far each output axis steps it. */
	switch (n->op) {
	case MOP_TRANSPOSE:
		perm_of(n, r, perm);
		for (int i = 0; i < r; i++)
			step[i] = xs[perm[i]];
		break;
	case MOP_SLICE:
		for (int i = 0; i < r; i++) {
			off += (size_t)n->sl_start[i] * xs[i];
			step[i] = (size_t)n->sl_step[i] * xs[i]; /* wraps for a negative step */
		}
		break;
	case MOP_EXPAND:
		for (int i = 0; i < r; i++) {
			int ix = i - (r - x->ndim);

			step[i] = ix >= 0 && x->dims[ix] != 1 ? xs[ix] : 0;
		}
		break;
	default:
		return model_node_fail(n, MPC_E_INTERNAL, "not a data movement");
	}
	for (size_t i = 0; i < cnt; i++) {
		map[i] = off;
		for (int k = r - 1; k >= 0; k--) {
			off += step[k];
			if (++idx[k] < (size_t)y->dims[k])
				break;
			off -= step[k] * idx[k];
			idx[k] = 0;
		}
	}
	return 0;
}

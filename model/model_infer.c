/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * Shape inference. Every operand check lives here so that the evaluators
 * (plaintext and secure) can index without re-checking: after a successful
 * model_infer() every value has dims, every axis is >= 0, every tensor is
 * within FT_MAX_ELEMS and each op's operand shapes are consistent.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "model.h"
#include "model_int.h"

struct ictx {
	struct model *m;
	struct model_node *n;
	char s[3][MODEL_SHAPE_STR];
};

#define IN(c, i) (&(c)->m->values[(c)->n->in[i]])
#define OUT(c) (&(c)->m->values[(c)->n->out])

static const char *shp(struct ictx *c, int k, const struct model_value *v)
{
	return ftensor_shape_str(v->ndim, v->dims, c->s[k], sizeof(c->s[k]));
}

static int ifail(struct ictx *c, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int ifail(struct ictx *c, int err, const char *fmt, ...)
{
	char what[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return mpc_fail(err, "node '%s' (%s): %s", c->n->name, model_op_name(c->n->op), what);
}

static void set_out(struct ictx *c, int ndim, const int64_t *dims)
{
	struct model_value *o = OUT(c);

	o->ndim = ndim;
	memset(o->dims, 0, sizeof(o->dims));
	memcpy(o->dims, dims, (size_t)ndim * sizeof(*dims));
}

/* Axis in [-r, r - 1 + extra] to [0, r - 1 + extra]. */
static int norm_axis(struct ictx *c, int r, int extra)
{
	int a = c->n->axis;

	if (a < -r || a > r - 1 + extra)
		return ifail(c, MPC_E_SHAPE, "axis %d is out of range for an input %s", a,
			     shp(c, 0, IN(c, 0)));
	c->n->axis = a < 0 ? a + r : a;
	return 0;
}

static int infer_gemm(struct ictx *c)
{
	const struct model_value *a = IN(c, 0), *b = IN(c, 1), *cv;
	struct model_node *n = c->n;
	int64_t mnk[3], kb;

	if (a->ndim != 2 || b->ndim != 2)
		return ifail(c, MPC_E_SHAPE, "A %s and B %s must be matrices", shp(c, 0, a),
			     shp(c, 1, b));
	mnk[0] = a->dims[n->trans_a];
	mnk[2] = a->dims[!n->trans_a];
	kb = b->dims[n->trans_b];
	mnk[1] = b->dims[!n->trans_b];
	if (mnk[2] != kb)
		return ifail(c, MPC_E_SHAPE,
			     "A %s and B %s do not agree on K (transA=%d, transB=%d)", shp(c, 0, a),
			     shp(c, 1, b), n->trans_a, n->trans_b);
	if (n->n_in > 2 && n->in[2] >= 0) {
		cv = IN(c, 2);
		if (cv->ndim > 2 ||
		    (cv->ndim >= 1 && cv->dims[cv->ndim - 1] != 1 &&
		     cv->dims[cv->ndim - 1] != mnk[1]) ||
		    (cv->ndim == 2 && cv->dims[0] != 1 && cv->dims[0] != mnk[0]))
			return ifail(c, MPC_E_SHAPE, "C %s does not broadcast to [%lld, %lld]",
				     shp(c, 0, cv), (long long)mnk[0], (long long)mnk[1]);
	}
	set_out(c, 2, mnk);
	return 0;
}

static int infer_matmul(struct ictx *c)
{
	const struct model_value *a = IN(c, 0), *b = IN(c, 1);
	int64_t d[FT_MAX_DIMS];

	if (a->ndim >= 2 && b->ndim > 2)
		return model_infer_tf(c->m, c->n);
	if (a->ndim < 2 || b->ndim != 2)
		return ifail(c, MPC_E_UNSUPPORTED,
			     "A %s times B %s: only A of rank >= 2 times a matrix B is supported",
			     shp(c, 0, a), shp(c, 1, b));
	if (a->dims[a->ndim - 1] != b->dims[0])
		return ifail(c, MPC_E_SHAPE, "A %s and B %s do not agree on K", shp(c, 0, a),
			     shp(c, 1, b));
	memcpy(d, a->dims, sizeof(d));
	d[a->ndim - 1] = b->dims[1];
	set_out(c, a->ndim, d);
	return 0;
}

static int infer_binary(struct ictx *c)
{
	const struct model_value *a = IN(c, 0), *b = IN(c, 1);
	int r = a->ndim > b->ndim ? a->ndim : b->ndim, i;
	int64_t d[FT_MAX_DIMS];

	for (i = 0; i < r; i++) {
		int ia = i - (r - a->ndim), ib = i - (r - b->ndim);
		int64_t x = ia >= 0 ? a->dims[ia] : 1, y = ib >= 0 ? b->dims[ib] : 1;

		if (x != y && x != 1 && y != 1)
			return ifail(c, MPC_E_SHAPE, "A %s and B %s do not broadcast", shp(c, 0, a),
				     shp(c, 1, b));
		d[i] = x == 1 ? y : x;
	}
	set_out(c, r, d);
	return 0;
}

/*
 * Output extent of a sliding window; -1 when the window does not fit. In
 * ceil mode a last, partial window counts if it starts inside the input
 * or its leading padding (PyTorch's and onnxruntime's rule).
 */
static int64_t window_out(int64_t in, int pad0, int pad1, int k, int dil, int stride, int ceil)
{
	int64_t span = (int64_t)dil * (k - 1) + 1, room = in + pad0 + pad1 - span, out;

	if (room < 0)
		return -1;
	out = (ceil ? (room + stride - 1) / stride : room / stride) + 1;
	if (ceil && (out - 1) * stride >= in + pad0)
		out--;
	return out;
}

/* auto_pad SAME_*: pads so that the output is ceil(in / stride); VALID: none. */
static void auto_pads(struct model_node *n, const int64_t *in)
{
	for (int i = 0; i < 2 && n->auto_pad != MODEL_PAD_NOTSET; i++) {
		int64_t span = (int64_t)n->dilations[i] * (n->kernel[i] - 1) + 1;
		int64_t out = (in[i] + n->strides[i] - 1) / n->strides[i];
		int64_t total = (out - 1) * n->strides[i] + span - in[i], lo;

		if (n->auto_pad == MODEL_PAD_VALID || total < 0)
			total = 0;
		lo = n->auto_pad == MODEL_PAD_SAME_LOWER ? (total + 1) / 2 : total / 2;
		n->pads[i] = (int)lo;
		n->pads[2 + i] = (int)(total - lo);
	}
}

/* Conv, MaxPool, AveragePool on [N, C, L] (1-D, height 1) or [N, C, H, W]. */
static int infer_window(struct ictx *c)
{
	const struct model_value *x = IN(c, 0), *w;
	struct model_node *n = c->n;
	int64_t d[4], sp[2];
	int i, r = x->ndim - 2;

	if (r < 1 || r > 2 || (n->sdims && n->sdims != r))
		return ifail(c, MPC_E_UNSUPPORTED,
			     "X %s: only 1-D [N, C, L] and 2-D [N, C, H, W] inputs are supported%s",
			     shp(c, 0, x), n->sdims == 1 ? " (the attributes are 1-D)" :
					   n->sdims == 2 ? " (the attributes are 2-D)" : "");
	d[0] = x->dims[0];
	d[1] = x->dims[1];
	sp[0] = r == 2 ? x->dims[2] : 1;
	sp[1] = x->dims[r + 1];
	if (n->op == MOP_CONV) {
		int64_t kh, kw;

		w = IN(c, 1);
		if (w->ndim != x->ndim)
			return ifail(c, MPC_E_SHAPE, "W %s and X %s differ in rank", shp(c, 0, w),
				     shp(c, 1, x));
		if (w->dims[1] * n->group != x->dims[1] || w->dims[0] % n->group)
			return ifail(c, MPC_E_SHAPE,
				     "X %s and W %s do not agree on channels (group %d)",
				     shp(c, 0, x), shp(c, 1, w), n->group);
		kh = r == 2 ? w->dims[2] : 1;
		kw = w->dims[r + 1];
		if (kh < 1 || kw < 1 || kh > MODEL_KERNEL_MAX || kw > MODEL_KERNEL_MAX ||
		    (n->kernel[1] && (n->kernel[0] != kh || n->kernel[1] != kw)))
			return ifail(c, MPC_E_SHAPE, "W %s does not match kernel_shape", shp(c, 0, w));
		n->kernel[0] = (int)kh;
		n->kernel[1] = (int)kw;
		if (n->n_in > 2 && n->in[2] >= 0 &&
		    (IN(c, 2)->ndim != 1 || IN(c, 2)->dims[0] != w->dims[0]))
			return ifail(c, MPC_E_SHAPE, "bias %s does not match W %s",
				     shp(c, 0, IN(c, 2)), shp(c, 1, w));
		d[1] = w->dims[0];
	}
	auto_pads(n, sp);
	for (i = 0; i < 2; i++) {
		int64_t o = window_out(sp[i], n->pads[i], n->pads[2 + i], n->kernel[i],
				       n->dilations[i], n->strides[i],
				       n->ceil_mode && n->auto_pad == MODEL_PAD_NOTSET);

		if (o < 0)
			return ifail(c, MPC_E_SHAPE, "input %s with its pads is smaller than the kernel",
				     shp(c, 0, x));
		if (i == 1 || r == 2)
			d[2 + i - (2 - r)] = o;
	}
	set_out(c, x->ndim, d);
	return 0;
}

static int infer_gavgpool(struct ictx *c)
{
	const struct model_value *x = IN(c, 0);
	int64_t d[4];

	if ((x->ndim != 4 && x->ndim != 3) || !x->dims[2] || (x->ndim == 4 && !x->dims[3]))
		return ifail(c, MPC_E_SHAPE, "X %s: needs a non-empty [N, C, L] or [N, C, H, W] input",
			     shp(c, 0, x));
	d[0] = x->dims[0];
	d[1] = x->dims[1];
	d[2] = d[3] = 1;
	set_out(c, x->ndim, d);
	return 0;
}

static int infer_batchnorm(struct ictx *c)
{
	const struct model_value *x = IN(c, 0);
	int i;

	if (x->ndim < 2)
		return ifail(c, MPC_E_SHAPE, "X %s has no channel axis", shp(c, 0, x));
	for (i = 1; i < 5; i++) {
		const struct model_value *p = IN(c, i);

		if (!p->init.data && !p->shape_only)
			return ifail(c, MPC_E_UNSUPPORTED,
				     "'%s' must be a constant (inference mode)", p->name);
		if (p->ndim != 1 || p->dims[0] != x->dims[1])
			return ifail(c, MPC_E_SHAPE, "'%s' %s does not match the channels of X %s",
				     p->name, shp(c, 0, p), shp(c, 1, x));
	}
	set_out(c, x->ndim, x->dims);
	return 0;
}

static int infer_flatten(struct ictx *c)
{
	const struct model_value *x = IN(c, 0);
	int64_t d[2] = { 1, 1 };
	int i, ret;

	if ((ret = norm_axis(c, x->ndim, 1)) != 0)
		return ret;
	/* Both products are bounded by the input's element count. */
	for (i = 0; i < x->ndim; i++)
		d[i >= c->n->axis] *= x->dims[i];
	set_out(c, 2, d);
	return 0;
}

static int infer_reshape(struct ictx *c)
{
	const struct model_value *x = IN(c, 0);
	struct model_node *n = c->n;
	int64_t d[FT_MAX_DIMS], known = 1;
	int i, neg = -1, ok = 1, ret;
	size_t cnt = ftensor_count(x->ndim, x->dims, &ok);

	/* The target: a constant, or computed from shapes (x.view(x.size(0), -1)). */
	if ((ret = model_public_list(c->m, n, 1, "shape", n->shape, &n->shape_n)) != 0)
		return ret;

	for (i = 0; i < n->shape_n; i++) {
		d[i] = n->shape[i];
		if (d[i] == 0) {
			if (i >= x->ndim)
				return ifail(c, MPC_E_SHAPE,
					     "shape entry %d is 0 but X %s has no dim %d", i,
					     shp(c, 0, x), i);
			d[i] = x->dims[i];
		} else if (d[i] == -1) {
			if (neg >= 0)
				return ifail(c, MPC_E_SHAPE,
					     "more than one -1 in the target shape");
			neg = i;
			continue;
		} else if (d[i] < -1 || d[i] > (int64_t)FT_MAX_ELEMS) {
			return ifail(c, MPC_E_SHAPE, "target dim %lld", (long long)d[i]);
		}
		known *= d[i]; /* stays <= FT_MAX_ELEMS^2 or hits 0 */
		if (known > (int64_t)FT_MAX_ELEMS)
			return ifail(c, MPC_E_SHAPE, "target shape is larger than X %s",
				     shp(c, 0, x));
	}
	if (neg >= 0) {
		if (!known || (int64_t)cnt % known)
			return ifail(c, MPC_E_SHAPE, "cannot infer the -1 reshaping X %s",
				     shp(c, 0, x));
		d[neg] = (int64_t)cnt / known;
		known *= d[neg];
	}
	if (!ok || known != (int64_t)cnt)
		return ifail(c, MPC_E_SHAPE,
			     "X %s does not have the element count of the target shape",
			     shp(c, 0, x));
	set_out(c, n->shape_n, d);
	return 0;
}

static int infer_concat(struct ictx *c)
{
	const struct model_value *x = IN(c, 0);
	int64_t d[FT_MAX_DIMS];
	int i, k, ret;

	if (x->ndim < 1)
		return ifail(c, MPC_E_SHAPE, "cannot concatenate scalars");
	if ((ret = norm_axis(c, x->ndim, 0)) != 0)
		return ret;
	memcpy(d, x->dims, sizeof(d));
	for (k = 1; k < c->n->n_in; k++) {
		const struct model_value *y = IN(c, k);

		for (i = 0; i < x->ndim && y->ndim == x->ndim; i++)
			if (i != c->n->axis && y->dims[i] != x->dims[i])
				break;
		if (y->ndim != x->ndim || i < x->ndim)
			return ifail(c, MPC_E_SHAPE, "inputs %s and %s differ off axis %d",
				     shp(c, 0, x), shp(c, 1, y), c->n->axis);
		d[c->n->axis] += y->dims[c->n->axis];
	}
	set_out(c, x->ndim, d);
	return 0;
}

static int infer_softmax(struct ictx *c)
{
	const struct model_value *x = IN(c, 0);
	int ret;

	if (x->ndim < 1)
		return ifail(c, MPC_E_SHAPE, "softmax of a scalar");
	if ((ret = norm_axis(c, x->ndim, 0)) != 0)
		return ret;
	set_out(c, x->ndim, x->dims);
	return 0;
}

void model_softmax_rows(const struct model *m, const struct model_node *n, size_t *outer,
			size_t *k, size_t *inner)
{
	const struct model_value *x = &m->values[n->in[0]];

	*outer = *k = *inner = 1;
	for (int d = 0; d < x->ndim; d++) {
		if (d < n->axis)
			*outer *= (size_t)x->dims[d];
		else if (d == n->axis || m->opset < 13)
			*k *= (size_t)x->dims[d]; /* before opset 13: flattened from axis on */
		else
			*inner *= (size_t)x->dims[d];
	}
}

/* Pad: zeros around every axis but the rows (axis 0), none removed; pads kept in shape[]. */
static int infer_pad(struct ictx *c)
{
	const struct model_value *x = IN(c, 0);
	struct model_node *n = c->n;
	int64_t d[FT_MAX_DIMS];
	int r = x->ndim, ret;

	if ((ret = model_public_list(c->m, n, 1, "pads", n->shape, &n->shape_n)) != 0)
		return ret;
	if (n->shape_n != 2 * r)
		return ifail(c, MPC_E_SHAPE, "%d pads for X %s (2 per axis)", n->shape_n,
			     shp(c, 0, x));
	for (int i = 0; i < r; i++) {
		int64_t b = n->shape[i], e = n->shape[r + i];

		if (b < 0 || e < 0)
			return ifail(c, MPC_E_UNSUPPORTED, "negative pads (cropping) are not supported");
		if (i == 0 && (b || e))
			return ifail(c, MPC_E_UNSUPPORTED, "padding axis 0 (the rows) is not supported");
		if (b > (int64_t)FT_MAX_ELEMS || e > (int64_t)FT_MAX_ELEMS)
			return ifail(c, MPC_E_TOOBIG, "pads of %lld", (long long)(b > e ? b : e));
		d[i] = x->dims[i] + b + e;
	}
	set_out(c, r, d);
	return 0;
}

static int infer_node(struct ictx *c)
{
	const struct model_value *x = IN(c, 0);

	switch (c->n->op) {
	case MOP_GEMM:
		return infer_gemm(c);
	case MOP_MATMUL:
		return infer_matmul(c);
	case MOP_ADD:
	case MOP_SUB:
	case MOP_MUL:
		return infer_binary(c);
	case MOP_CONV:
	case MOP_MAXPOOL:
	case MOP_AVGPOOL:
		return infer_window(c);
	case MOP_GAVGPOOL:
		return infer_gavgpool(c);
	case MOP_BATCHNORM:
		return infer_batchnorm(c);
	case MOP_FLATTEN:
		return infer_flatten(c);
	case MOP_RESHAPE:
		return infer_reshape(c);
	case MOP_CONCAT:
		return infer_concat(c);
	case MOP_SOFTMAX:
	case MOP_LOGSOFTMAX:
		return infer_softmax(c);
	case MOP_PAD:
		return infer_pad(c);
	case MOP_RELU:
	case MOP_IDENTITY:
	case MOP_SIGMOID:
	case MOP_POW:
	case MOP_SQRT:
	case MOP_ERF:
	case MOP_TANH:
	case MOP_GELU:
		set_out(c, x->ndim, x->dims);
		return 0;
	case MOP_DIV:
	case MOP_EQUAL:
		return infer_binary(c);
	case MOP_TRANSPOSE:
	case MOP_SLICE:
	case MOP_SQUEEZE:
	case MOP_UNSQUEEZE:
	case MOP_EXPAND:
		return model_infer_layout(c->m, c->n);
	case MOP_GATHER: /* secret indices: a one-hot product (model_infer_tf.c) */
		if (!IN(c, 1)->known)
			return model_infer_tf(c->m, c->n);
		return model_infer_layout(c->m, c->n);
	case MOP_SHAPE:
	case MOP_CAST:
	case MOP_CONSTOFSHAPE:
	case MOP_RANGE:
	case MOP_WHERE:
		return model_infer_public(c->m, c->n);
	default:
		return model_infer_tf(c->m, c->n);
	}
}

static int infer_inputs(struct model *m, const int64_t (*in_dims)[FT_MAX_DIMS], const int *in_ndim)
{
	char a[MODEL_SHAPE_STR], b[MODEL_SHAPE_STR];
	size_t i, cnt;
	int k, ok = 1;

	for (i = 0; i < m->n_inputs; i++) {
		struct model_value *v = &m->values[m->inputs[i]];
		int r = in_ndim[i];

		if (r < 0 || r > FT_MAX_DIMS)
			return mpc_fail(MPC_E_SHAPE, "input '%s': rank %d", v->name, r);
		for (k = 0; k < r; k++)
			if (in_dims[i][k] < 0)
				return mpc_fail(MPC_E_SHAPE, "input '%s': negative dim", v->name);
		cnt = ftensor_count(r, in_dims[i], &ok);
		if (!ok || cnt > FT_MAX_ELEMS)
			return mpc_fail(MPC_E_TOOBIG, "input '%s': too many elements", v->name);
		if (!model_decl_match(v, r, in_dims[i]))
			return mpc_fail(MPC_E_SHAPE,
					"input '%s' has shape %s but the model declares %s",
					v->name, ftensor_shape_str(r, in_dims[i], a, sizeof(a)),
					model_decl_str(v, b, sizeof(b)));
		v->ndim = r;
		memset(v->dims, 0, sizeof(v->dims));
		memcpy(v->dims, in_dims[i], (size_t)r * sizeof(int64_t));
	}
	return 0;
}

int model_infer(struct model *m, const int64_t (*in_dims)[FT_MAX_DIMS], const int *in_ndim)
{
	char a[MODEL_SHAPE_STR], b[MODEL_SHAPE_STR];
	struct ictx c = { .m = m };
	uint8_t *made = NULL;
	size_t i, cnt;
	int ret = MPC_E_INTERNAL, ok = 1;

	model_fold_free(m);
	if (!(made = calloc(m->n_values + 1, 1)) ||
	    !(m->fold = calloc(m->n_values + 1, sizeof(*m->fold)))) {
		ret = mpc_fail(MPC_E_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < m->n_nodes; i++)
		made[m->nodes[i].out] = 1;
	for (i = 0; i < m->n_values; i++) {
		struct model_value *v = &m->values[i];

		v->ndim = -1;
		memset(v->dims, 0, sizeof(v->dims));
		v->known = v->init.data ? v->ints : NULL;
		if (v->init.data || v->shape_only) {
			v->ndim = v->init.ndim;
			memcpy(v->dims, v->init.dims, sizeof(v->dims));
		} else if (!v->is_data_input && !made[i]) {
			ret = mpc_fail(MPC_E_ARG, "weight '%s' is not bound: pass --weights",
				       v->name);
			goto out;
		}
	}
	if ((ret = infer_inputs(m, in_dims, in_ndim)) != 0)
		goto out;
	for (i = 0; i < m->n_nodes; i++) {
		c.n = &m->nodes[i];
		if ((ret = infer_node(&c)) != 0)
			goto out;
		cnt = ftensor_count(OUT(&c)->ndim, OUT(&c)->dims, &ok);
		if (!ok || cnt > FT_MAX_ELEMS) {
			ret = ifail(&c, MPC_E_TOOBIG, "output %s is too large",
				    shp(&c, 0, OUT(&c)));
			goto out;
		}
		/* Public integers: computed here, by every party, for these rows. */
		if (c.n->folded && (ret = model_fold_node(m, c.n)) != 0)
			goto out;
	}
	for (i = 0; i < m->n_outputs; i++) {
		const struct model_value *v = &m->values[m->outputs[i]];

		if (!v->init.data && !model_decl_match(v, v->ndim, v->dims)) {
			ret = mpc_fail(MPC_E_SHAPE,
				       "output '%s' has shape %s but the model declares %s",
				       v->name, ftensor_shape_str(v->ndim, v->dims, a, sizeof(a)),
				       model_decl_str(v, b, sizeof(b)));
			goto out;
		}
	}
	ret = 0;
out:
	free(made);
	return ret;
}

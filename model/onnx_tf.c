/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * Import of the transformer ops' attributes and constant inputs: Pow's
 * exponent and Reduce's axes are public facts of the graph (the public
 * graph carries them, like Reshape's target), so they must be constants;
 * anything else is refused naming the node.
 */
#include <string.h>

#include "err.h"
#include "onnx_int.h"

typedef Mpconnx__AttributeProto aproto;

static int is_reduce(enum model_op op)
{
	return op == MOP_REDUCEMEAN || op == MOP_REDUCESUM || op == MOP_REDUCEMAX;
}

static int int01(struct ld *l, const aproto *a, int *out)
{
	if (a->type != MPCONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT)
		return onnx_nfail(l, MPC_E_FORMAT, "attribute '%s' must be an INT", a->name);
	if (a->i != 0 && a->i != 1)
		return onnx_nfail(l, MPC_E_UNSUPPORTED, "%s %lld is not supported", a->name,
				  (long long)a->i);
	*out = (int)a->i;
	return 0;
}

static int set_axes(struct ld *l, struct model_node *n, const int64_t *v, size_t k)
{
	if (n->axes_n > 0)
		return onnx_nfail(l, MPC_E_FORMAT, "axes given twice");
	if (!k || k > FT_MAX_DIMS)
		return onnx_nfail(l, MPC_E_UNSUPPORTED, "%zu axes (1 to %d)", k, FT_MAX_DIMS);
	for (size_t i = 0; i < k; i++) {
		if (v[i] < -FT_MAX_DIMS || v[i] >= FT_MAX_DIMS)
			return onnx_nfail(l, MPC_E_UNSUPPORTED, "axis %lld is out of range",
					  (long long)v[i]);
		n->axes[i] = v[i];
	}
	n->axes_n = (int)k;
	return 0;
}

int onnx_tf_attr(struct ld *l, const aproto *a, struct model_node *n)
{
	const char *nm = a->name;

	if (!strcmp(nm, "keepdims"))
		return int01(l, a, &n->keepdims);
	if (!strcmp(nm, "noop_with_empty_axes"))
		return int01(l, a, &n->noop_empty);
	if (!strcmp(nm, "stash_type")) {
		if (a->type != MPCONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT || a->i != 1)
			return onnx_nfail(l, MPC_E_UNSUPPORTED,
					  "stash_type must be 1 (float): the ring has one precision");
		return 0;
	}
	if (!strcmp(nm, "approximate")) {
		const ProtobufCBinaryData *s = &a->s;

		if (a->type != MPCONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING)
			return onnx_nfail(l, MPC_E_FORMAT, "attribute 'approximate' must be a STRING");
		if (s->len == 4 && !memcmp(s->data, "none", 4))
			return 0;
		if (s->len == 4 && !memcmp(s->data, "tanh", 4)) {
			n->gelu_tanh = 1;
			return 0;
		}
		return onnx_nfail(l, MPC_E_UNSUPPORTED, "approximate '%.*s' is not supported",
				  (int)(s->len > 32 ? 32 : s->len), s->len ? (const char *)s->data : "");
	}
	return 1;
}

/* The constant in slot 1 is read here and leaves the node's inputs. */
static void consume(struct ld *l, struct model_node *n)
{
	l->vi[n->in[1]].uses--;
	n->in[1] = -1;
	n->n_in = 1;
	n->const_in = 1;
}

static int pow_exponent(struct ld *l, struct model_node *n)
{
	const struct model_value *e = &l->m->values[n->in[1]];
	int ok = 1;
	float v;

	if (l->vi[n->in[1]].kind != V_CONST || !e->init.data ||
	    ftensor_count(e->init.ndim, e->init.dims, &ok) != 1)
		return onnx_nfail(l, MPC_E_UNSUPPORTED,
				  "the exponent '%s' must be a constant scalar (2, 3 or 0.5)", e->name);
	v = e->init.data[0];
	if (v != 2.0f && v != 3.0f && v != 0.5f)
		return onnx_nfail(l, MPC_E_UNSUPPORTED,
				  "exponent %g is not supported (2, 3 or 0.5)", (double)v);
	n->exponent = v;
	consume(l, n);
	return 0;
}

static int reduce_axes(struct ld *l, struct model_node *n)
{
	const struct model_value *v;
	int ret;

	if (n->n_in < 2)
		return 0;
	if (n->in[1] < 0) {
		n->n_in = 1;
		return 0;
	}
	v = &l->m->values[n->in[1]];
	if (l->vi[n->in[1]].kind != V_CONST || !v->ints || v->init.ndim != 1 || v->init.n < 1)
		return onnx_nfail(l, MPC_E_UNSUPPORTED,
				  "the axes input must be a constant int64 vector of 1 to %d axes",
				  FT_MAX_DIMS);
	if ((ret = set_axes(l, n, v->ints, v->init.n)) != 0)
		return ret;
	consume(l, n);
	return 0;
}

int onnx_tf_node(struct ld *l, struct model_node *n)
{
	if (n->op == MOP_POW)
		return pow_exponent(l, n);
	if (is_reduce(n->op))
		return reduce_axes(l, n);
	return 0;
}

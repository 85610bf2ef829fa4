/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * The supported ONNX operators and their attributes. Anything outside this
 * table, or an attribute value the evaluators do not implement, is refused
 * at load time so that no model is silently computed with other semantics.
 */
#include <math.h>
#include <string.h>

#include "err.h"
#include "onnx_int.h"

#define MAX_ATTRS 32

typedef Mpconnx__AttributeProto aproto;

static const struct onnx_op ops[] = {
	{ "Gemm", MOP_GEMM, 2, 3, 0, "alpha beta transA transB" },
	{ "MatMul", MOP_MATMUL, 2, 2, 0, "" },
	{ "Add", MOP_ADD, 2, 2, 0, "" },
	{ "Sub", MOP_SUB, 2, 2, 0, "" },
	{ "Mul", MOP_MUL, 2, 2, 0, "" },
	{ "Relu", MOP_RELU, 1, 1, 0, "" },
	{ "Conv", MOP_CONV, 2, 3, 0, "auto_pad dilations group kernel_shape pads strides" },
	{ "MaxPool", MOP_MAXPOOL, 1, 1, 0,
	  "auto_pad ceil_mode dilations kernel_shape pads storage_order strides" },
	{ "AveragePool", MOP_AVGPOOL, 1, 1, 0,
	  "auto_pad ceil_mode count_include_pad dilations kernel_shape pads strides" },
	{ "GlobalAveragePool", MOP_GAVGPOOL, 1, 1, 0, "" },
	{ "BatchNormalization", MOP_BATCHNORM, 5, 5, 0, "epsilon momentum training_mode spatial" },
	{ "Flatten", MOP_FLATTEN, 1, 1, 0, "axis" },
	{ "Reshape", MOP_RESHAPE, 2, 2, 0, "allowzero" },
	{ "Concat", MOP_CONCAT, 1, MODEL_MAX_IN, 0, "axis" },
	{ "Identity", MOP_IDENTITY, 1, 1, 0, "" },
	{ "Dropout", MOP_IDENTITY, 1, 3, 1, "ratio seed" },
	{ "Sigmoid", MOP_SIGMOID, 1, 1, 0, "" },
	{ "Softmax", MOP_SOFTMAX, 1, 1, 0, "axis" },
	{ "LogSoftmax", MOP_LOGSOFTMAX, 1, 1, 0, "axis" },
	{ "Pad", MOP_PAD, 1, 3, 0, "mode pads value" },
	{ "Transpose", MOP_TRANSPOSE, 1, 1, 0, "perm" },
	{ "Slice", MOP_SLICE, 1, 5, 0, "starts ends axes" },
	{ "Split", MOP_SLICE, 1, 2, 0, "axis split num_outputs" }, /* one Slice per output */
	{ "Squeeze", MOP_SQUEEZE, 1, 2, 0, "axes" },
	{ "Unsqueeze", MOP_UNSQUEEZE, 1, 2, 0, "axes" },
	{ "Expand", MOP_EXPAND, 2, 2, 0, "" },
	{ "Gather", MOP_GATHER, 2, 2, 0, "axis" },
	{ "Shape", MOP_SHAPE, 1, 1, 0, "start end" },
	{ "Cast", MOP_CAST, 1, 1, 0, "to saturate" },
	{ "Div", MOP_DIV, 2, 2, 0, "" },
	{ "ConstantOfShape", MOP_CONSTOFSHAPE, 1, 1, 0, "value" },
	{ "Range", MOP_RANGE, 3, 3, 0, "" },
	{ "Equal", MOP_EQUAL, 2, 2, 0, "" },
	{ "Where", MOP_WHERE, 3, 3, 0, "" },
	{ "Pow", MOP_POW, 2, 2, 0, "" },
	{ "Sqrt", MOP_SQRT, 1, 1, 0, "" },
	{ "Erf", MOP_ERF, 1, 1, 0, "" },
	{ "Tanh", MOP_TANH, 1, 1, 0, "" },
	{ "Gelu", MOP_GELU, 1, 1, 0, "approximate" },
	{ "ReduceMean", MOP_REDUCEMEAN, 1, 2, 0, "axes keepdims noop_with_empty_axes" },
	{ "ReduceSum", MOP_REDUCESUM, 1, 2, 0, "axes keepdims noop_with_empty_axes" },
	{ "ReduceMax", MOP_REDUCEMAX, 1, 2, 0, "axes keepdims noop_with_empty_axes" },
	{ "LayerNormalization", MOP_LAYERNORM, 2, 3, 0, "axis epsilon stash_type" },
};

const struct onnx_op *onnx_op_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (!strcmp(ops[i].name, name))
			return &ops[i];
	return NULL;
}

int onnx_param_slot(enum model_op op, int i)
{
	switch (op) {
	case MOP_GEMM:
	case MOP_CONV:
		return i >= 1;
	case MOP_MATMUL:
		return i == 1;
	case MOP_BATCHNORM:
	case MOP_LAYERNORM:
		return i >= 1;
	default:
		return 0;
	}
}

void onnx_node_defaults(struct model_node *n, const struct onnx_op *oi, int64_t opset)
{
	int i;

	memset(n, 0, sizeof(*n));
	n->op = oi->op;
	for (i = 0; i < MODEL_MAX_IN; i++)
		n->in[i] = -1;
	n->out = -1;
	n->alpha = n->beta = 1.0f;
	n->strides[0] = n->strides[1] = 1;
	n->dilations[0] = n->dilations[1] = 1;
	n->group = 1;
	n->epsilon = 1e-5f;
	n->axes_n = n->starts_n = n->ends_n = n->perm_n = -1;
	n->shape_end = INT64_MAX;
	n->wexp[0] = n->wexp[1] = MODEL_WEXP_UNSET;
	if (oi->op == MOP_FLATTEN)
		n->axis = 1;
	else if (oi->op == MOP_SOFTMAX || oi->op == MOP_LOGSOFTMAX)
		n->axis = opset < 13 ? 1 : -1;
	else if (oi->op == MOP_LAYERNORM)
		n->axis = -1;
	n->keepdims = 1;
}

static int word_in(const char *list, const char *w)
{
	size_t n = strlen(w);

	while (n && *list) {
		if (!strncmp(list, w, n) && (list[n] == ' ' || !list[n]))
			return 1;
		list = strchr(list, ' ');
		if (!list)
			break;
		list++;
	}
	return 0;
}

static const char *type_name(int t)
{
	static const char *const names[] = {
		[MPCONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__UNDEFINED] = "UNDEFINED",
		[MPCONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT] = "FLOAT",
		[MPCONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT] = "INT",
		[MPCONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING] = "STRING",
		[MPCONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR] = "TENSOR",
		[MPCONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH] = "GRAPH",
		[MPCONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS] = "FLOATS",
		[MPCONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS] = "INTS",
		[MPCONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS] = "STRINGS",
		[MPCONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSORS] = "TENSORS",
		[MPCONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPHS] = "GRAPHS",
		[MPCONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__SPARSE_TENSOR] = "SPARSE_TENSOR",
		[MPCONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__SPARSE_TENSORS] = "SPARSE_TENSORS",
		[MPCONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TYPE_PROTO] = "TYPE_PROTO",
		[MPCONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TYPE_PROTOS] = "TYPE_PROTOS",
	};

	if (t < 0 || t >= (int)(sizeof(names) / sizeof(names[0])) || !names[t])
		return "unknown";
	return names[t];
}

static int want_type(struct ld *l, const aproto *a, int type)
{
	int t = a->has_type ? (int)a->type : 0;

	if (t != type)
		return onnx_nfail(l, MPC_E_FORMAT, "attribute '%s' has type %s, expected %s",
				  a->name, type_name(t), type_name(type));
	return 0;
}

static int get_int(struct ld *l, const aproto *a, int64_t lo, int64_t hi, int *out)
{
	int ret;

	if ((ret = want_type(l, a, MPCONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT)) != 0)
		return ret;
	if (a->i < lo || a->i > hi)
		return onnx_nfail(l, MPC_E_UNSUPPORTED, "%s %lld is not supported", a->name,
				  (long long)a->i);
	*out = (int)a->i;
	return 0;
}

static int get_float(struct ld *l, const aproto *a, float *out)
{
	int ret;

	if ((ret = want_type(l, a, MPCONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT)) != 0)
		return ret;
	if (!isfinite(a->f))
		return onnx_nfail(l, MPC_E_FORMAT, "attribute '%s' is not finite", a->name);
	*out = a->f;
	return 0;
}

/*
 * kernel_shape, strides, dilations (one value per spatial dim) and pads
 * (two per dim) of a 1-D or 2-D op, into the 2-D layout of struct
 * model_node: a 1-D op has height 1. Every such attribute of a node must
 * agree on the spatial rank.
 */
static int get_spatial(struct ld *l, const aproto *a, int per_dim, int lo, struct model_node *n,
		       int *out)
{
	size_t cnt = a->n_ints, i;
	int ret, rank = (int)(cnt / (size_t)per_dim), v[4];

	if ((ret = want_type(l, a, MPCONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS)) != 0)
		return ret;
	if (cnt % (size_t)per_dim || rank < 1 || rank > 2)
		return onnx_nfail(l, MPC_E_UNSUPPORTED,
				  "%s has %zu values: only 1-D and 2-D are supported", a->name, cnt);
	if (n->sdims && n->sdims != rank)
		return onnx_nfail(l, MPC_E_FORMAT, "%s is %d-D but another attribute is %d-D",
				  a->name, rank, n->sdims);
	n->sdims = rank;
	for (i = 0; i < cnt; i++) {
		if (a->ints[i] < lo || a->ints[i] > ONNX_ATTR_MAX)
			return onnx_nfail(l, MPC_E_UNSUPPORTED, "%s value %lld is not supported",
					  a->name, (long long)a->ints[i]);
		v[i] = (int)a->ints[i];
	}
	if (rank == 2) {
		memcpy(out, v, cnt * sizeof(*v));
	} else if (per_dim == 1) {
		out[1] = v[0];
	} else {
		out[1] = v[0];
		out[3] = v[1];
	}
	return 0;
}

/* A list of at most FT_MAX_DIMS integers (axes, perm, starts, ends, split). */
static int get_list(struct ld *l, const aproto *a, int64_t *out, int *n)
{
	int ret;

	if ((ret = want_type(l, a, MPCONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS)) != 0)
		return ret;
	if (a->n_ints > FT_MAX_DIMS)
		return onnx_nfail(l, MPC_E_UNSUPPORTED, "%s has %zu values (at most %d)", a->name,
				  a->n_ints, FT_MAX_DIMS);
	for (size_t i = 0; i < a->n_ints; i++)
		out[i] = a->ints[i];
	*n = (int)a->n_ints;
	return 0;
}

/* Cast's target: any type; model_infer decides what a value may become. */
static int get_to(struct ld *l, const aproto *a, struct model_node *n)
{
	int ret;

	if ((ret = want_type(l, a, MPCONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT)) != 0)
		return ret;
	if (a->i < 1 || a->i > 22)
		return onnx_nfail(l, MPC_E_FORMAT, "to %lld is not an element type",
				  (long long)a->i);
	n->cast_to = (int)a->i;
	return 0;
}

/* ConstantOfShape's one-element value: an integer (public structure) only. */
static int get_fill(struct ld *l, const aproto *a, struct model_node *n)
{
	const Mpconnx__TensorProto *t = a->t;
	int ret;

	if ((ret = want_type(l, a, MPCONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR)) != 0)
		return ret;
	if (!t || (t->data_type != MPCONNX__TENSOR_PROTO__DATA_TYPE__INT64 &&
		   t->data_type != MPCONNX__TENSOR_PROTO__DATA_TYPE__INT32 &&
		   t->data_type != MPCONNX__TENSOR_PROTO__DATA_TYPE__BOOL))
		return onnx_nfail(l, MPC_E_UNSUPPORTED,
				  "a value of type %s is not supported: only integer fills "
				  "(shape computations) are",
				  model_type_name(t ? t->data_type : 0));
	if (t->has_raw_data) {
		size_t w = t->data_type == MPCONNX__TENSOR_PROTO__DATA_TYPE__INT64 ? 8 :
			   t->data_type == MPCONNX__TENSOR_PROTO__DATA_TYPE__INT32 ? 4 : 1;
		uint64_t v = 0;

		if (t->raw_data.len != w)
			return onnx_nfail(l, MPC_E_FORMAT, "value must hold one element");
		for (size_t i = w; i--;)
			v = (v << 8) | t->raw_data.data[i];
		n->fill = w == 8 ? (int64_t)v : w == 4 ? (int32_t)(uint32_t)v : v != 0;
	} else if (t->n_int64_data == 1 && !t->n_int32_data) {
		n->fill = t->int64_data[0];
	} else if (t->n_int32_data == 1 && !t->n_int64_data) {
		n->fill = t->int32_data[0];
	} else {
		return onnx_nfail(l, MPC_E_FORMAT, "value must hold one element");
	}
	return 0;
}

static int get_auto_pad(struct ld *l, const aproto *a, int *mode)
{
	static const char *const names[] = { "NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER" };
	const ProtobufCBinaryData *s = &a->s;
	int ret;

	if ((ret = want_type(l, a, MPCONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING)) != 0)
		return ret;
	for (int i = 0; i < 4; i++)
		if (s->len == strlen(names[i]) && !memcmp(s->data, names[i], s->len)) {
			*mode = i;
			return 0;
		}
	return onnx_nfail(l, MPC_E_UNSUPPORTED, "auto_pad %.*s is not supported",
			  (int)(s->len > 32 ? 32 : s->len), s->len ? (const char *)s->data : "");
}

static int perm_copy(struct ld *l, const aproto *a, struct model_node *n)
{
	for (int i = 0; i < n->perm_n; i++) {
		if (a->ints[i] < 0 || a->ints[i] >= n->perm_n)
			return onnx_nfail(l, MPC_E_FORMAT, "perm value %lld is out of range",
					  (long long)a->ints[i]);
		n->perm[i] = (int)a->ints[i];
	}
	return 0;
}

static int one_attr(struct ld *l, const aproto *a, struct model_node *n, int *axis_set)
{
	const char *nm = a->name;
	int ign, ret, dil[2] = { 1, 1 };
	float fign;

	if (!strcmp(nm, "alpha"))
		return get_float(l, a, &n->alpha);
	if (!strcmp(nm, "beta"))
		return get_float(l, a, &n->beta);
	if (!strcmp(nm, "epsilon")) {
		if ((ret = get_float(l, a, &n->epsilon)) != 0)
			return ret;
		if (n->epsilon < 0)
			return onnx_nfail(l, MPC_E_FORMAT, "epsilon must be >= 0");
		return 0;
	}
	if (!strcmp(nm, "momentum") || !strcmp(nm, "ratio"))
		return get_float(l, a, &fign);
	if (!strcmp(nm, "seed"))
		return want_type(l, a, MPCONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
	if (!strcmp(nm, "transA"))
		return get_int(l, a, 0, 1, &n->trans_a);
	if (!strcmp(nm, "transB"))
		return get_int(l, a, 0, 1, &n->trans_b);
	if (!strcmp(nm, "group"))
		return get_int(l, a, 1, ONNX_ATTR_MAX, &n->group);
	if (!strcmp(nm, "count_include_pad"))
		return get_int(l, a, 0, 1, &n->count_include_pad);
	if (!strcmp(nm, "ceil_mode"))
		return get_int(l, a, 0, 1, &n->ceil_mode);
	if (!strcmp(nm, "storage_order") ||
	    !strcmp(nm, "training_mode") || !strcmp(nm, "allowzero"))
		return get_int(l, a, 0, 0, &ign);
	if (!strcmp(nm, "spatial"))
		return get_int(l, a, 1, 1, &ign);
	if (!strcmp(nm, "perm")) {
		int64_t perm[FT_MAX_DIMS];

		if ((ret = get_list(l, a, perm, &n->perm_n)) != 0)
			return ret;
		return perm_copy(l, a, n);
	}
	if (!strcmp(nm, "axes"))
		return get_list(l, a, n->axes, &n->axes_n);
	if (!strcmp(nm, "starts"))
		return get_list(l, a, n->starts, &n->starts_n);
	if (!strcmp(nm, "ends"))
		return get_list(l, a, n->ends, &n->ends_n);
	if (!strcmp(nm, "split"))
		return get_list(l, a, n->split_attr, &n->split_attr_n);
	if (!strcmp(nm, "num_outputs") || !strcmp(nm, "saturate"))
		return get_int(l, a, 0, ONNX_MAX_SPLIT, &ign);
	if (!strcmp(nm, "to"))
		return get_to(l, a, n);
	if (!strcmp(nm, "value"))
		return get_fill(l, a, n);
	if (!strcmp(nm, "start") || !strcmp(nm, "end")) {
		if ((ret = want_type(l, a, MPCONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT)) != 0)
			return ret;
		*(nm[0] == 's' ? &n->shape_start : &n->shape_end) = a->i;
		return 0;
	}
	if (!strcmp(nm, "axis")) {
		*axis_set = 1;
		return get_int(l, a, -FT_MAX_DIMS, FT_MAX_DIMS, &n->axis);
	}
	if (n->op == MOP_PAD) {
		if (strcmp(nm, "mode"))
			return onnx_nfail(l, MPC_E_UNSUPPORTED,
					  "Pad before opset 11 (pads as an attribute) is not supported");
		if ((ret = want_type(l, a, MPCONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING)) != 0)
			return ret;
		if (a->s.len != 8 || memcmp(a->s.data, "constant", 8))
			return onnx_nfail(l, MPC_E_UNSUPPORTED, "mode %.*s is not supported (constant only)",
					  (int)(a->s.len > 32 ? 32 : a->s.len),
					  a->s.len ? (const char *)a->s.data : "");
		return 0;
	}
	if (!strcmp(nm, "kernel_shape"))
		return get_spatial(l, a, 1, 1, n, n->kernel);
	if (!strcmp(nm, "strides"))
		return get_spatial(l, a, 1, 1, n, n->strides);
	if (!strcmp(nm, "pads"))
		return get_spatial(l, a, 2, 0, n, n->pads);
	if (!strcmp(nm, "dilations")) {
		if (n->op != MOP_AVGPOOL)
			return get_spatial(l, a, 1, 1, n, n->dilations);
		if ((ret = get_spatial(l, a, 1, 1, n, dil)) != 0)
			return ret;
		if (dil[0] != 1 || dil[1] != 1)
			return onnx_nfail(l, MPC_E_UNSUPPORTED,
					  "AveragePool dilations other than 1 are not supported");
		return 0;
	}
	if (!strcmp(nm, "auto_pad"))
		return get_auto_pad(l, a, &n->auto_pad);
	if ((ret = onnx_tf_attr(l, a, n)) <= 0)
		return ret;
	return onnx_nfail(l, MPC_E_INTERNAL, "attribute '%s' has no reader", nm);
}

int onnx_node_attrs(struct ld *l, const Mpconnx__NodeProto *np, const struct onnx_op *oi,
		    struct model_node *n)
{
	int ret, axis_set = 0, pool = n->op == MOP_MAXPOOL || n->op == MOP_AVGPOOL;
	size_t i, j;

	if (np->n_attribute > MAX_ATTRS)
		return onnx_nfail(l, MPC_E_FORMAT, "%zu attributes", np->n_attribute);
	for (i = 0; i < np->n_attribute; i++) {
		const aproto *a = np->attribute[i];

		if (!a->name || !word_in(oi->attrs, a->name))
			return onnx_nfail(l, MPC_E_UNSUPPORTED, "attribute '%s' is not supported",
					  a->name ? a->name : "");
		if (a->ref_attr_name && *a->ref_attr_name)
			return onnx_nfail(l, MPC_E_UNSUPPORTED,
					  "attribute '%s' refers to a function attribute", a->name);
		for (j = 0; j < i; j++)
			if (np->attribute[j]->name && !strcmp(np->attribute[j]->name, a->name))
				return onnx_nfail(l, MPC_E_FORMAT, "attribute '%s' given twice",
						  a->name);
		if ((ret = one_attr(l, a, n, &axis_set)) != 0)
			return ret;
	}
	if (n->op == MOP_CONCAT && !axis_set)
		return onnx_nfail(l, MPC_E_FORMAT, "attribute 'axis' is required");
	if (n->op == MOP_CAST && !n->cast_to)
		return onnx_nfail(l, MPC_E_FORMAT, "attribute 'to' is required");
	if (n->sdims == 1 && n->kernel[1])
		n->kernel[0] = 1;
	if (pool && (!n->kernel[0] || !n->kernel[1]))
		return onnx_nfail(l, MPC_E_FORMAT, "attribute 'kernel_shape' is required");
	if (n->auto_pad != MODEL_PAD_NOTSET && (n->pads[0] || n->pads[1] || n->pads[2] || n->pads[3]))
		return onnx_nfail(l, MPC_E_FORMAT, "pads given together with auto_pad");
	/* A window made only of padding would have no defined max or mean. */
	if (pool && (n->pads[0] >= n->kernel[0] || n->pads[2] >= n->kernel[0] ||
		     n->pads[1] >= n->kernel[1] || n->pads[3] >= n->kernel[1]))
		return onnx_nfail(l, MPC_E_UNSUPPORTED, "pads must be smaller than the kernel");
	return 0;
}

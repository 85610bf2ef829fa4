/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * struct model housekeeping and weight binding. A graph input's declared
 * shape is kept in value.init (dims, -1 where symbolic; init.ndim -1 when
 * undeclared) while init.data is NULL, so that binding and every later
 * model_infer() can check against it after value.dims has been overwritten.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "model.h"
#include "model_int.h"
#include "st.h"

const char *model_op_name(enum model_op op)
{
	static const char *const names[MOP_COUNT_] = {
		[MOP_GEMM] = "Gemm",
		[MOP_MATMUL] = "MatMul",
		[MOP_ADD] = "Add",
		[MOP_SUB] = "Sub",
		[MOP_MUL] = "Mul",
		[MOP_RELU] = "Relu",
		[MOP_CONV] = "Conv",
		[MOP_MAXPOOL] = "MaxPool",
		[MOP_AVGPOOL] = "AveragePool",
		[MOP_GAVGPOOL] = "GlobalAveragePool",
		[MOP_BATCHNORM] = "BatchNormalization",
		[MOP_FLATTEN] = "Flatten",
		[MOP_RESHAPE] = "Reshape",
		[MOP_CONCAT] = "Concat",
		[MOP_IDENTITY] = "Identity",
		[MOP_SIGMOID] = "Sigmoid",
		[MOP_SOFTMAX] = "Softmax",
		[MOP_LOGSOFTMAX] = "LogSoftmax",
		[MOP_PAD] = "Pad",
		[MOP_TRANSPOSE] = "Transpose",
		[MOP_SLICE] = "Slice",
		[MOP_SQUEEZE] = "Squeeze",
		[MOP_UNSQUEEZE] = "Unsqueeze",
		[MOP_EXPAND] = "Expand",
		[MOP_GATHER] = "Gather",
		[MOP_SHAPE] = "Shape",
		[MOP_CAST] = "Cast",
		[MOP_DIV] = "Div",
		[MOP_CONSTOFSHAPE] = "ConstantOfShape",
		[MOP_RANGE] = "Range",
		[MOP_EQUAL] = "Equal",
		[MOP_WHERE] = "Where",
		[MOP_POW] = "Pow",
		[MOP_SQRT] = "Sqrt",
		[MOP_ERF] = "Erf",
		[MOP_TANH] = "Tanh",
		[MOP_GELU] = "Gelu",
		[MOP_REDUCEMEAN] = "ReduceMean",
		[MOP_REDUCESUM] = "ReduceSum",
		[MOP_REDUCEMAX] = "ReduceMax",
		[MOP_LAYERNORM] = "LayerNormalization",
	};

	return (unsigned)op < MOP_COUNT_ ? names[op] : "?";
}

const char *model_type_name(int type)
{
	static const char *const names[] = {
		"UNDEFINED", "FLOAT", "UINT8", "INT8", "UINT16", "INT16", "INT32", "INT64",
		"STRING", "BOOL", "FLOAT16", "DOUBLE", "UINT32", "UINT64", "COMPLEX64",
		"COMPLEX128", "BFLOAT16", "FLOAT8E4M3FN", "FLOAT8E4M3FNUZ", "FLOAT8E5M2",
		"FLOAT8E5M2FNUZ", "UINT4", "INT4",
	};

	if (type < 0 || type >= (int)(sizeof(names) / sizeof(names[0])))
		return "an unknown type";
	return names[type];
}

void model_fold_free(struct model *m)
{
	if (!m->fold)
		return;
	for (size_t i = 0; i < m->n_values; i++) {
		if (m->fold[i] && m->values[i].known == m->fold[i])
			m->values[i].known = NULL;
		free(m->fold[i]);
	}
	free(m->fold);
	m->fold = NULL;
}

void model_free(struct model *m)
{
	size_t i;

	if (!m)
		return;
	model_fold_free(m);
	if (m->values) {
		for (i = 0; i < m->n_values; i++) {
			free(m->values[i].name);
			/* an integer weight's values are as secret as a float one's */
			ftensor_wipe_free(m->values[i].ints, m->values[i].init.n * sizeof(int64_t));
			ftensor_free(&m->values[i].init); /* weights: wiped */
		}
	}
	if (m->nodes)
		for (i = 0; i < m->n_nodes; i++)
			free(m->nodes[i].name);
	free(m->values);
	free(m->nodes);
	free(m->inputs);
	free(m->outputs);
	free(m->path);
	free(m);
}

int model_find_value(const struct model *m, const char *name)
{
	size_t i;

	for (i = 0; i < m->n_values; i++)
		if (!strcmp(m->values[i].name, name))
			return (int)i;
	return -1;
}

int model_produced(const struct model *m, int v)
{
	size_t i;

	for (i = 0; i < m->n_nodes; i++)
		if (m->nodes[i].out == v)
			return 1;
	return 0;
}

int model_decl_match(const struct model_value *v, int ndim, const int64_t *dims)
{
	int i;

	if (v->init.ndim < 0)
		return 1;
	if (v->init.ndim != ndim)
		return 0;
	for (i = 0; i < ndim; i++)
		if (v->init.dims[i] >= 0 && v->init.dims[i] != dims[i])
			return 0;
	return 1;
}

/* "[batch, 1, 8, 8]": the declared shape, '?' for a symbolic dim. */
const char *model_decl_str(const struct model_value *v, char *buf, size_t len)
{
	size_t used;
	int i;

	if (v->init.ndim < 0)
		return "(any)";
	used = (size_t)snprintf(buf, len, "[");
	for (i = 0; i < v->init.ndim && used < len; i++) {
		if (v->init.dims[i] >= 0)
			used += (size_t)snprintf(buf + used, len - used, "%s%lld", i ? ", " : "",
						 (long long)v->init.dims[i]);
		else
			used += (size_t)snprintf(buf + used, len - used, "%s?", i ? ", " : "");
	}
	if (used < len)
		snprintf(buf + used, len - used, "]");
	return buf;
}

/* Validate one tensor against the model before anything is changed. */
static int bind_check(struct model *m, const char *path, const struct st_tensor *st,
		      const struct ftensor *t, int *vout)
{
	char a[MODEL_SHAPE_STR], b[MODEL_SHAPE_STR];
	struct model_value *v;
	int idx;
	size_t k;

	idx = model_find_value(m, st->name);
	if (idx < 0 || model_produced(m, idx))
		return mpc_fail(MPC_E_FORMAT, "%s: tensor '%s' names no graph input of %s", path,
				st->name, m->path ? m->path : "the model");
	v = &m->values[idx];
	if (v->init.data)
		return mpc_fail(MPC_E_FORMAT,
				"%s: tensor '%s': the model already holds this weight", path,
				st->name);
	if (!model_decl_match(v, t->ndim, t->dims))
		return mpc_fail(MPC_E_SHAPE,
				"%s: tensor '%s' has shape %s but the model declares %s", path,
				st->name, ftensor_shape_str(t->ndim, t->dims, a, sizeof(a)),
				model_decl_str(v, b, sizeof(b)));
	if (t->n == 0)
		return mpc_fail(MPC_E_UNSUPPORTED, "%s: tensor '%s' has no elements", path,
				st->name);
	for (k = 0; k < t->n; k++)
		if (!isfinite(t->data[k]))
			return mpc_fail(MPC_E_RANGE, "%s: tensor '%s': element %zu is not finite",
					path, st->name, k);
	*vout = idx;
	return 0;
}

int model_bind_safetensors(struct model *m, const char *path)
{
	struct st_file *f = NULL;
	struct ftensor *t = NULL;
	int *vidx = NULL;
	size_t i, j, k;
	int ret = MPC_E_INTERNAL;

	if ((ret = st_load(path, &f)) != 0)
		goto out;
	if (!(t = calloc(f->n + 1, sizeof(*t))) || !(vidx = calloc(f->n + 1, sizeof(*vidx)))) {
		ret = mpc_fail(MPC_E_NOMEM, "%s: out of memory", path);
		goto out;
	}
	for (i = 0; i < f->n; i++) {
		if ((ret = st_to_ftensor(&f->t[i], &t[i])) != 0 ||
		    (ret = bind_check(m, path, &f->t[i], &t[i], &vidx[i])) != 0)
			goto out;
	}
	/* All checked: now install, so a bad file leaves the model unchanged. */
	for (i = 0; i < f->n; i++) {
		struct model_value *v = &m->values[vidx[i]];

		v->init = t[i];
		v->shape_only = 0;
		memset(&t[i], 0, sizeof(t[i]));
		v->ndim = v->init.ndim;
		memcpy(v->dims, v->init.dims, sizeof(v->dims));
		if (!v->is_data_input)
			continue;
		v->is_data_input = 0;
		for (j = k = 0; j < m->n_inputs; j++)
			if (m->inputs[j] != vidx[i])
				m->inputs[k++] = m->inputs[j];
		m->n_inputs = k;
	}
	ret = 0;
out:
	if (t)
		for (i = 0; f && i < f->n; i++)
			ftensor_free(&t[i]);
	free(t);
	free(vidx);
	if (f)
		st_free(f);
	return ret;
}

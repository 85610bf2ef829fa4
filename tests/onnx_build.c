/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/* Test helper: ONNX models built in memory (see onnx_build.h). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "err.h"
#include "onnx_build.h"
#include "test.h"

static char *ob_sdup(struct ob *b, const char *s)
{
	ASSERT(b->nstr < 512);
	return b->strs[b->nstr++] = strdup(s);
}

struct ob *ob_new(int opset)
{
	struct ob *b = calloc(1, sizeof(*b));

	ASSERT(b);
	mpconnx__model_proto__init(&b->model);
	mpconnx__graph_proto__init(&b->graph);
	mpconnx__operator_set_id_proto__init(&b->opset);
	b->opset.has_version = 1;
	b->opset.version = opset;
	b->opsets[0] = &b->opset;
	b->model.has_ir_version = 1;
	b->model.ir_version = 8;
	b->model.n_opset_import = 1;
	b->model.opset_import = b->opsets;
	b->model.graph = &b->graph;
	b->graph.node = b->pnode;
	b->graph.initializer = b->pinit;
	b->graph.input = b->pvi[0];
	b->graph.output = b->pvi[1];
	return b;
}

void ob_free(struct ob *b)
{
	int i;

	for (i = 0; i < b->nstr; i++)
		free(b->strs[i]);
	free(b);
}

/* Graph input (io 0) or output (io 1); dims -1 are symbolic, ndim -1 no shape. */
void ob_io(struct ob *b, int io, const char *name, int ndim, const int64_t *dims)
{
	size_t k = io ? b->graph.n_output++ : b->graph.n_input++;
	Mpconnx__ValueInfoProto *v = &b->vi[io][k];
	int i;

	mpconnx__value_info_proto__init(v);
	mpconnx__type_proto__init(&b->type[io][k]);
	mpconnx__type_proto__tensor__init(&b->tt[io][k]);
	mpconnx__tensor_shape_proto__init(&b->shape[io][k]);
	v->name = ob_sdup(b, name);
	v->type = &b->type[io][k];
	b->type[io][k].value_case = MPCONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
	b->type[io][k].tensor_type = &b->tt[io][k];
	b->tt[io][k].has_elem_type = 1;
	b->tt[io][k].elem_type = MPCONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
	if (ndim >= 0)
		b->tt[io][k].shape = &b->shape[io][k];
	b->shape[io][k].n_dim = ndim < 0 ? 0 : (size_t)ndim;
	b->shape[io][k].dim = b->pdim[io][k];
	for (i = 0; i < ndim; i++) {
		Mpconnx__TensorShapeProto__Dimension *d = &b->dim[io][k][i];

		mpconnx__tensor_shape_proto__dimension__init(d);
		if (dims[i] >= 0) {
			d->value_case = MPCONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
			d->dim_value = dims[i];
		} else {
			d->value_case = MPCONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
			d->dim_param = ob_sdup(b, "batch");
		}
		b->pdim[io][k][i] = d;
	}
	b->pvi[io][k] = v;
}

/* Float initializer in float_data; the data must outlive the builder's use. */
Mpconnx__TensorProto *ob_const(struct ob *b, const char *name, int ndim, const int64_t *dims,
			       const float *data)
{
	size_t k = b->graph.n_initializer++, n = 1;
	Mpconnx__TensorProto *t = &b->init[k];
	int i;

	mpconnx__tensor_proto__init(t);
	t->name = ob_sdup(b, name);
	t->has_data_type = 1;
	t->data_type = MPCONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
	t->n_dims = (size_t)ndim;
	t->dims = b->idims[k];
	for (i = 0; i < ndim; i++)
		n *= (size_t)(b->idims[k][i] = dims[i]);
	t->n_float_data = n;
	t->float_data = (float *)data;
	b->pinit[k] = t;
	return t;
}

void ob_shape_const(struct ob *b, const char *name, int n, const int64_t *v)
{
	int64_t d = n;
	Mpconnx__TensorProto *t = ob_const(b, name, 1, &d, NULL);

	t->data_type = MPCONNX__TENSOR_PROTO__DATA_TYPE__INT64;
	t->n_float_data = 0;
	t->n_int64_data = (size_t)n;
	t->int64_data = (int64_t *)v;
}

/* ins and outs are comma-separated names; an empty field is an omitted input. */
Mpconnx__NodeProto *ob_node(struct ob *b, const char *op, const char *name, const char *ins,
			    const char *outs)
{
	size_t k = b->graph.n_node++;
	Mpconnx__NodeProto *n = &b->node[k];
	char buf[256], *save = NULL, *p;
	int pass;

	mpconnx__node_proto__init(n);
	n->op_type = ob_sdup(b, op);
	n->name = ob_sdup(b, name);
	n->input = b->nin[k];
	n->output = b->nout[k];
	n->attribute = b->pattr[k];
	for (pass = 0; pass < 2; pass++) {
		snprintf(buf, sizeof(buf), "%s", pass ? outs : ins);
		for (p = *buf ? buf : NULL; p; p = save) {
			save = strchr(p, ',');
			if (save)
				*save++ = '\0';
			if (pass)
				n->output[n->n_output++] = ob_sdup(b, p);
			else
				n->input[n->n_input++] = ob_sdup(b, p);
		}
	}
	b->pnode[k] = n;
	return n;
}

static Mpconnx__AttributeProto *ob_attr(struct ob *b, Mpconnx__NodeProto *n, const char *name,
					int type)
{
	size_t k = (size_t)(n - b->node), j = n->n_attribute++;
	Mpconnx__AttributeProto *a = &b->attr[k][j];

	mpconnx__attribute_proto__init(a);
	a->name = ob_sdup(b, name);
	a->has_type = 1;
	a->type = type;
	b->pattr[k][j] = a;
	return a;
}

void ob_i(struct ob *b, Mpconnx__NodeProto *n, const char *name, int64_t v)
{
	Mpconnx__AttributeProto *a =
		ob_attr(b, n, name, MPCONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);

	a->has_i = 1;
	a->i = v;
}

void ob_f(struct ob *b, Mpconnx__NodeProto *n, const char *name, float v)
{
	Mpconnx__AttributeProto *a =
		ob_attr(b, n, name, MPCONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);

	a->has_f = 1;
	a->f = v;
}

void ob_ints(struct ob *b, Mpconnx__NodeProto *n, const char *name, int cnt, int64_t v0, int64_t v1,
	     int64_t v2, int64_t v3)
{
	Mpconnx__AttributeProto *a =
		ob_attr(b, n, name, MPCONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
	int64_t *v = b->aints[n - b->node][n->n_attribute - 1];

	v[0] = v0;
	v[1] = v1;
	v[2] = v2;
	v[3] = v3;
	a->n_ints = (size_t)cnt;
	a->ints = v;
}

void ob_s(struct ob *b, Mpconnx__NodeProto *n, const char *name, const char *s)
{
	Mpconnx__AttributeProto *a =
		ob_attr(b, n, name, MPCONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING);

	a->has_s = 1;
	a->s.data = (uint8_t *)ob_sdup(b, s);
	a->s.len = strlen(s);
}

static void raw_fill(struct ob *b, Mpconnx__TensorProto *t, int64_t *d, const char *name,
		     int type, int ndim, const int64_t *dims, const void *raw, size_t len)
{
	mpconnx__tensor_proto__init(t);
	t->name = ob_sdup(b, name);
	t->has_data_type = 1;
	t->data_type = type;
	t->n_dims = (size_t)ndim;
	t->dims = d;
	for (int i = 0; i < ndim; i++)
		d[i] = dims[i];
	t->has_raw_data = 1;
	t->raw_data.data = (uint8_t *)raw;
	t->raw_data.len = len;
}

Mpconnx__TensorProto *ob_raw_init(struct ob *b, const char *name, int type, int ndim,
				  const int64_t *dims, const void *raw, size_t len)
{
	size_t k = b->graph.n_initializer++;

	raw_fill(b, &b->init[k], b->idims[k], name, type, ndim, dims, raw, len);
	b->pinit[k] = &b->init[k];
	return &b->init[k];
}

Mpconnx__TensorProto *ob_raw_tensor(struct ob *b, const char *name, int type, int ndim,
				    const int64_t *dims, const void *raw, size_t len)
{
	int k = b->nxt++;

	ASSERT(k < MAXN);
	raw_fill(b, &b->xt[k], b->xdims[k], name, type, ndim, dims, raw, len);
	return &b->xt[k];
}

void ob_t(struct ob *b, Mpconnx__NodeProto *n, const char *name, Mpconnx__TensorProto *t)
{
	Mpconnx__AttributeProto *a =
		ob_attr(b, n, name, MPCONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR);

	a->t = t;
}

uint8_t *ob_pack(struct ob *b, size_t *len)
{
	uint8_t *buf;

	*len = mpconnx__model_proto__get_packed_size(&b->model);
	ASSERT((buf = malloc(*len + 1)) != NULL);
	ASSERT_EQ(mpconnx__model_proto__pack(&b->model, buf), *len);
	return buf;
}

/* Serialise and import: the real path a file takes. */
int ob_parse(struct ob *b, struct model **m)
{
	size_t len = mpconnx__model_proto__get_packed_size(&b->model);
	uint8_t *buf = malloc(len + 1);
	int ret;

	ASSERT(buf);
	ASSERT_EQ(mpconnx__model_proto__pack(&b->model, buf), len);
	ret = model_parse_onnx(buf, len, "t.onnx", m);
	free(buf);
	return ret;
}

struct model *ob_load(struct ob *b)
{
	struct model *m = NULL;

	ASSERT_OK(ob_parse(b, &m));
	ob_free(b);
	return m;
}

/* Infer for inputs x[0..n) and evaluate; returns output 0. */
struct ftensor ob_eval(struct model *m, const struct ftensor *x, int n)
{
	int64_t dims[4][FT_MAX_DIMS];
	int nd[4], i;
	struct ftensor y = { 0 };

	for (i = 0; i < n; i++) {
		memcpy(dims[i], x[i].dims, sizeof(dims[i]));
		nd[i] = x[i].ndim;
	}
	ASSERT_EQ(m->n_inputs, n);
	ASSERT_OK(model_infer(m, (const int64_t(*)[FT_MAX_DIMS])dims, nd));
	ASSERT_OK(model_ref_eval(m, x, &y));
	return y;
}

struct ftensor ob_tensor(int ndim, const int64_t *dims, const float *data)
{
	struct ftensor t = { 0 };

	ASSERT_OK(ftensor_alloc(&t, ndim, dims));
	if (data)
		memcpy(t.data, data, t.n * sizeof(float));
	return t;
}

void ob_expect(const struct ftensor *y, int ndim, const int64_t *dims, const float *want,
	       double tol)
{
	size_t i;

	ASSERT_EQ(y->ndim, ndim);
	for (i = 0; i < (size_t)ndim; i++)
		ASSERT_EQ(y->dims[i], dims[i]);
	for (i = 0; i < y->n; i++)
		if (test_diff(y->data[i], want[i]) > tol)
			TEST_FAIL("element %zu: %.9g, expected %.9g", i, y->data[i], want[i]);
}

/* One data input x, evaluate, compare, free everything. */
void ob_run1(struct model *m, int xnd, const int64_t *xd, const float *xv, int ynd,
	     const int64_t *yd, const float *want)
{
	struct ftensor x = ob_tensor(xnd, xd, xv), y = ob_eval(m, &x, 1);

	ob_expect(&y, ynd, yd, want, 1e-6);
	ftensor_free(&x);
	ftensor_free(&y);
	model_free(m);
}

/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * What the importer and model_infer() refuse, and how: unsupported
 * attributes and graphs, tensor encodings, shape mismatches, weight files.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "err.h"
#include "onnx_build.h"
#include "onnx_int.h"
#include "test.h"

static const int64_t d4[] = { 1, 1, 4, 4 }, dn2[] = { -1, 2 }, d2[] = { 2 };
static const float two[] = { 1, 2 };

/* x [1,1,4,4] -> op -> y, for attribute checks. */
static struct ob *one_node(const char *op, const char *name, Mpconnx__NodeProto **n)
{
	struct ob *b = ob_new(13);

	ob_io(b, 0, "x", 4, d4);
	ob_io(b, 1, "y", -1, NULL);
	*n = ob_node(b, op, name, "x", "y");
	return b;
}

static void refuse(struct ob *b, int code, const char *w1, const char *w2)
{
	struct model *m = NULL;

	ASSERT_FAIL(ob_parse(b, &m), code, w1);
	ASSERT(strstr(mpc_errmsg(code), w2));
	ASSERT(!m);
	ob_free(b);
}

/* A Relu with k attributes "foo": refused by their count, or by the name. */
static void many_attrs(size_t k, int code, const char *word)
{
	static Mpconnx__AttributeProto a[40], *pa[40];
	Mpconnx__NodeProto *n;
	struct ob *b = one_node("Relu", "many", &n);

	ASSERT(k <= 40);
	for (size_t i = 0; i < k; i++) {
		mpconnx__attribute_proto__init(&a[i]);
		a[i].name = "foo";
		a[i].has_type = a[i].has_i = 1;
		a[i].type = MPCONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
		pa[i] = &a[i];
	}
	n->attribute = pa;
	n->n_attribute = k;
	refuse(b, code, word, "many");
}

TEST(onnx_refuse_attrs)
{
	Mpconnx__NodeProto *n;
	struct ob *b;

	b = one_node("MaxPool", "pool1", &n);
	ob_ints(b, n, "kernel_shape", 2, 2, 2, 0, 0);
	ob_i(b, n, "ceil_mode", 2);
	refuse(b, MPC_E_UNSUPPORTED, "t.onnx: node 'pool1' (MaxPool): ceil_mode 2 is not supported",
	       "");

	b = one_node("MaxPool", "pool2", &n);
	ob_ints(b, n, "kernel_shape", 2, 2, 2, 0, 0);
	ob_i(b, n, "storage_order", 1);
	refuse(b, MPC_E_UNSUPPORTED, "storage_order 1", "pool2");

	b = one_node("AveragePool", "pool3", &n);
	ob_ints(b, n, "kernel_shape", 2, 2, 2, 0, 0);
	ob_ints(b, n, "dilations", 2, 2, 1, 0, 0);
	refuse(b, MPC_E_UNSUPPORTED, "AveragePool dilations", "pool3");

	b = one_node("AveragePool", "pool4", &n);
	refuse(b, MPC_E_FORMAT, "kernel_shape", "pool4");

	b = one_node("AveragePool", "pool5", &n);
	ob_ints(b, n, "kernel_shape", 2, 2, 2, 0, 0);
	ob_ints(b, n, "pads", 4, 2, 0, 0, 0);
	refuse(b, MPC_E_UNSUPPORTED, "smaller than the kernel", "pool5");

	b = one_node("Conv", "conv1", &n);
	n->n_input = 0;
	n->input[n->n_input++] = "x";
	n->input[n->n_input++] = "x";
	ob_s(b, n, "auto_pad", "SAME");
	refuse(b, MPC_E_UNSUPPORTED, "node 'conv1' (Conv): auto_pad SAME is not supported",
	       "");

	b = one_node("Conv", "conv2", &n);
	n->input[n->n_input++] = "x";
	ob_ints(b, n, "kernel_shape", 3, 2, 2, 2, 0);
	refuse(b, MPC_E_UNSUPPORTED, "only 1-D and 2-D are supported", "conv2");

	b = one_node("Relu", "relu1", &n);
	ob_i(b, n, "foo", 1);
	refuse(b, MPC_E_UNSUPPORTED, "attribute 'foo' is not supported", "relu1");

	b = one_node("Softmax", "sm", &n);
	ob_f(b, n, "axis", 1.0f);
	refuse(b, MPC_E_FORMAT, "attribute 'axis' has type FLOAT, expected INT", "sm");

	b = one_node("Concat", "cat", &n);
	refuse(b, MPC_E_FORMAT, "'axis' is required", "cat");

	b = one_node("Flatten", "fl", &n);
	ob_i(b, n, "axis", 1);
	ob_i(b, n, "axis", 2);
	refuse(b, MPC_E_FORMAT, "given twice", "fl");

	b = one_node("Gemm", "gemm", &n);
	n->input[n->n_input++] = "x";
	ob_i(b, n, "transA", 2);
	refuse(b, MPC_E_UNSUPPORTED, "transA 2", "gemm");

	b = one_node("Reshape", "rs", &n);
	n->input[n->n_input++] = "x";
	refuse(b, MPC_E_UNSUPPORTED, "computed from shapes and integer constants", "rs");

	/* The bounds themselves: an INTS value up to ONNX_ATTR_MAX, 32 attributes. */
	b = one_node("MaxPool", "pool6", &n);
	ob_ints(b, n, "kernel_shape", 2, 2, 2, 0, 0);
	ob_ints(b, n, "strides", 2, ONNX_ATTR_MAX, 1, 0, 0);
	{
		struct model *m = NULL;

		ASSERT_OK(ob_parse(b, &m));
		model_free(m);
		ob_free(b);
	}
	b = one_node("MaxPool", "pool7", &n);
	ob_ints(b, n, "kernel_shape", 2, 2, 2, 0, 0);
	ob_ints(b, n, "strides", 2, ONNX_ATTR_MAX + 1, 1, 0, 0);
	refuse(b, MPC_E_UNSUPPORTED, "strides value 1048577 is not supported", "pool7");
	many_attrs(32, MPC_E_UNSUPPORTED, "attribute 'foo' is not supported");
	many_attrs(33, MPC_E_FORMAT, "33 attributes");
	return 0;
}

TEST(onnx_refuse_graph)
{
	Mpconnx__NodeProto *n;
	struct ob *b;

	b = one_node("Einsum", "einsum0", &n);
	refuse(b, MPC_E_UNSUPPORTED, "t.onnx: node 'einsum0': unsupported operator 'Einsum'", "");

	b = one_node("Relu", "r", &n);
	n->domain = "com.microsoft";
	refuse(b, MPC_E_UNSUPPORTED, "domain 'com.microsoft'", "'r'");

	b = one_node("Relu", "r", &n);
	b->opset.version = 6;
	refuse(b, MPC_E_UNSUPPORTED, "opset 6", "");
	b = one_node("Relu", "r", &n);
	b->opset.version = 22;
	refuse(b, MPC_E_UNSUPPORTED, "opset 22", "");

	/* Not in topological order. */
	b = one_node("Relu", "r1", &n);
	n->input[0] = "t";
	ob_node(b, "Relu", "r2", "x", "t");
	refuse(b, MPC_E_FORMAT, "input 't' is not", "r1");

	/* One name, two producers. */
	b = one_node("Relu", "r1", &n);
	ob_node(b, "Relu", "r2", "x", "y");
	refuse(b, MPC_E_FORMAT, "'y' is defined twice", "r2");

	b = one_node("Relu", "r1", &n);
	b->vi[1][0].name = "nope";
	refuse(b, MPC_E_FORMAT, "graph output 'nope'", "");

	/* A Dropout mask may be produced but not used. */
	b = ob_new(13);
	ob_io(b, 0, "x", 4, d4);
	ob_io(b, 1, "y", -1, NULL);
	ob_node(b, "Dropout", "do", "x", "d,mask");
	ob_node(b, "Add", "add", "d,mask", "y");
	refuse(b, MPC_E_UNSUPPORTED, "Dropout mask", "add");

	b = one_node("MaxPool", "mp", &n);
	ob_ints(b, n, "kernel_shape", 2, 2, 2, 0, 0);
	n->output[n->n_output++] = "idx";
	refuse(b, MPC_E_UNSUPPORTED, "output 2 ('idx')", "mp");

	b = one_node("Relu", "r", &n);
	b->model.graph = NULL;
	refuse(b, MPC_E_FORMAT, "no graph", "");

	b = one_node("Relu", "r", &n);
	b->vi[0][0].type->tensor_type->elem_type = MPCONNX__TENSOR_PROTO__DATA_TYPE__STRING;
	refuse(b, MPC_E_UNSUPPORTED, "element type", "'x'");
	return 0;
}

/* x [-1,2] + c: the constant's encoding decides what c holds. */
static struct ob *add_model(Mpconnx__TensorProto **t)
{
	struct ob *b = ob_new(13);

	ob_io(b, 0, "x", 2, dn2);
	ob_io(b, 1, "y", 2, dn2);
	*t = ob_const(b, "c", 1, d2, two);
	ob_node(b, "Add", "add", "x,c", "y");
	return b;
}

static void add_expect(struct ob *b, float c0, float c1)
{
	static const float x[] = { 10, 20 };
	static const int64_t dx[] = { 1, 2 };
	float want[2];

	want[0] = 10 + c0;
	want[1] = 20 + c1;
	ob_run1(ob_load(b), 2, dx, x, 2, dx, want);
}

TEST(onnx_tensor_formats)
{
	static const uint8_t raw32[] = { 0, 0, 0xc0, 0x3f, 0, 0, 0x20, 0xc1 }; /* 1.5, -10 */
	static const uint8_t raw16[] = { 0x00, 0x3c, 0x01, 0x00 }; /* 1, 2^-24 */
	static const uint8_t raw32x[] = { 0, 0, 0xc0, 0x3f, 0, 0, 0x20, 0xc1, 0 };
	static const int64_t d9[FT_MAX_DIMS + 1] = { 2, 1, 1, 1, 1, 1, 1, 1, 1 };
	static const double dd[] = { 0.25, -3 };
	static const int32_t i32[] = { 7, -8 }, h16[] = { 0xc000, 0x7bff }; /* -2, 65504 */
	static const int64_t i64[] = { 5, 1 << 20 };
	static const float nan2[] = { 1, NAN };
	Mpconnx__TensorProto *t;
	struct ob *b;

	b = add_model(&t);
	t->n_float_data = 0;
	t->has_raw_data = 1;
	t->raw_data.data = (uint8_t *)raw32;
	t->raw_data.len = 8;
	add_expect(b, 1.5f, -10);

	b = add_model(&t);
	t->data_type = MPCONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16;
	t->n_float_data = 0;
	t->has_raw_data = 1;
	t->raw_data.data = (uint8_t *)raw16;
	t->raw_data.len = 4;
	add_expect(b, 1, 5.9604644775390625e-8f);

	b = add_model(&t);
	t->data_type = MPCONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16;
	t->n_float_data = 0;
	t->n_int32_data = 2;
	t->int32_data = (int32_t *)h16;
	add_expect(b, -2, 65504);

	b = add_model(&t);
	t->data_type = MPCONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE;
	t->n_float_data = 0;
	t->n_double_data = 2;
	t->double_data = (double *)dd;
	add_expect(b, 0.25f, -3);

	b = add_model(&t);
	t->data_type = MPCONNX__TENSOR_PROTO__DATA_TYPE__INT32;
	t->n_float_data = 0;
	t->n_int32_data = 2;
	t->int32_data = (int32_t *)i32;
	add_expect(b, 7, -8);

	b = add_model(&t);
	t->data_type = MPCONNX__TENSOR_PROTO__DATA_TYPE__INT64;
	t->n_float_data = 0;
	t->n_int64_data = 2;
	t->int64_data = (int64_t *)i64;
	add_expect(b, 5, 1 << 20);

	/* Refused encodings. */
	b = add_model(&t);
	t->n_float_data = 1;
	refuse(b, MPC_E_FORMAT, "tensor 'c': data does not hold the 2 elements", "");
	b = add_model(&t);
	t->n_float_data = 0;
	t->has_raw_data = 1;
	t->raw_data.data = (uint8_t *)raw32;
	t->raw_data.len = 7;
	refuse(b, MPC_E_FORMAT, "data does not hold", "'c'");
	b = add_model(&t); /* one byte too many is as wrong as one too few */
	t->n_float_data = 0;
	t->has_raw_data = 1;
	t->raw_data.data = (uint8_t *)raw32x;
	t->raw_data.len = 9;
	refuse(b, MPC_E_FORMAT, "data does not hold", "'c'");
	b = add_model(&t);
	t->n_dims = FT_MAX_DIMS + 1;
	t->dims = (int64_t *)d9;
	refuse(b, MPC_E_UNSUPPORTED, "rank 9 (at most 8)", "'c'");
	b = add_model(&t);
	t->has_raw_data = 1;
	t->raw_data.data = (uint8_t *)raw32;
	t->raw_data.len = 8;
	refuse(b, MPC_E_FORMAT, "more than one field", "'c'");
	b = add_model(&t);
	t->n_float_data = 0;
	refuse(b, MPC_E_FORMAT, "no data", "'c'");
	b = add_model(&t);
	t->dims[0] = -2;
	refuse(b, MPC_E_FORMAT, "negative dim", "'c'");
	b = add_model(&t);
	t->dims[0] = INT64_MAX;
	refuse(b, MPC_E_TOOBIG, "too many", "'c'");
	b = add_model(&t);
	t->data_type = MPCONNX__TENSOR_PROTO__DATA_TYPE__STRING;
	refuse(b, MPC_E_UNSUPPORTED, "element type STRING", "'c'");
	b = add_model(&t);
	t->has_data_location = 1;
	t->data_location = MPCONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
	refuse(b, MPC_E_UNSUPPORTED, "external data", "'c'");
	b = add_model(&t);
	t->float_data = (float *)nan2;
	refuse(b, MPC_E_RANGE, "not a finite", "'c'");
	return 0;
}

TEST(onnx_shape_mismatch)
{
	static const int64_t da[FT_MAX_DIMS] = { 64, 13 }, dw[] = { 8, 12 }, d8[] = { 8 },
			     dn4[] = { -1, 4 };
	static const int64_t bad[FT_MAX_DIMS] = { 2, 5, 1 }, ok32[FT_MAX_DIMS] = { 3, 2 };
	static float w[96], bias[8];
	struct ob *b = ob_new(13);
	struct model *m;
	int nd = 2;

	ob_io(b, 0, "x", 2, da);
	ob_io(b, 1, "y", -1, NULL);
	ob_const(b, "W", 2, dw, w);
	ob_const(b, "b", 1, d8, bias);
	ob_i(b, ob_node(b, "Gemm", "", "x,W,b", "y"), "transB", 1);
	m = ob_load(b);
	ASSERT_FAIL(model_infer(m, (const int64_t(*)[FT_MAX_DIMS])da, &nd), MPC_E_SHAPE,
		    "node 'Gemm_0' (Gemm): A [64, 13] and B [8, 12] do not agree on K");
	model_free(m);

	/* A fixed declared dim must match; a symbolic one takes anything. */
	b = ob_new(13);
	ob_io(b, 0, "x", 2, dn4);
	ob_io(b, 1, "y", 2, dn4);
	ob_node(b, "Relu", "r", "x", "y");
	m = ob_load(b);
	ASSERT_FAIL(model_infer(m, (const int64_t(*)[FT_MAX_DIMS])bad, &nd), MPC_E_SHAPE,
		    "input 'x' has shape [2, 5] but the model declares [?, 4]");
	nd = 3;
	ASSERT_FAIL(model_infer(m, (const int64_t(*)[FT_MAX_DIMS])bad, &nd), MPC_E_SHAPE,
		    "declares");
	model_free(m);

	/* Declared outputs are checked too. */
	b = ob_new(13);
	ob_io(b, 0, "x", 2, dn2);
	ob_io(b, 1, "y", 2, dn4);
	ob_node(b, "Relu", "r", "x", "y");
	m = ob_load(b);
	nd = 2;
	ASSERT_FAIL(model_infer(m, (const int64_t(*)[FT_MAX_DIMS])ok32, &nd), MPC_E_SHAPE,
		    "output 'y'");
	model_free(m);
	return 0;
}

static void write_st(const char *path, const char *name, int ndim, const int64_t *dims,
		     const float *v)
{
	char hdr[256];
	size_t n = 1, len, i;
	uint64_t hl;
	FILE *f;

	len = (size_t)snprintf(hdr, sizeof(hdr), "{\"%s\":{\"dtype\":\"F32\",\"shape\":[", name);
	for (i = 0; i < (size_t)ndim; i++) {
		len += (size_t)snprintf(hdr + len, sizeof(hdr) - len, "%s%lld", i ? "," : "",
					(long long)dims[i]);
		n *= (size_t)dims[i];
	}
	len += (size_t)snprintf(hdr + len, sizeof(hdr) - len, "],\"data_offsets\":[0,%zu]}}",
				n * 4);
	while (len % 8)
		hdr[len++] = ' ';
	hl = len;
	ASSERT((f = fopen(path, "wb")));
	ASSERT(fwrite(&hl, 8, 1, f) == 1);
	ASSERT(fwrite(hdr, 1, len, f) == len);
	ASSERT(fwrite(v, 4, n, f) == n);
	ASSERT(!fclose(f));
}

TEST(onnx_bind_weights)
{
	static const int64_t dw[] = { 2, 2 }, dx[] = { 1, 2 }, d3[] = { 3, 2 };
	static const float w[] = { 1, 2, 3, 4 }, x[] = { 1, 1 }, want[] = { 3, 7 }, w6[6];
	char path[] = "/tmp/mpc-test-XXXXXX";
	struct ob *b;
	struct model *m;
	int fd = mkstemp(path);

	ASSERT(fd >= 0);
	close(fd);
	b = ob_new(13);
	ob_io(b, 0, "x", 2, dn2);
	ob_io(b, 0, "W", 2, dw);
	ob_io(b, 1, "y", 2, dn2);
	ob_i(b, ob_node(b, "Gemm", "g", "x,W", "y"), "transB", 1);
	m = ob_load(b);
	/* W feeds only Gemm's B: a weight, not a data input. */
	ASSERT_EQ(m->n_inputs, 1);
	write_st(path, "W", 2, d3, w6);
	ASSERT_FAIL(model_bind_safetensors(m, path), MPC_E_SHAPE, "tensor 'W' has shape [3, 2]");
	write_st(path, "V", 2, dw, w);
	ASSERT_FAIL(model_bind_safetensors(m, path), MPC_E_FORMAT,
		    "tensor 'V' names no graph input");
	write_st(path, "W", 2, dw, w);
	ASSERT_OK(model_bind_safetensors(m, path));
	ob_run1(m, 2, dx, x, 2, dx, want);

	/* A graph input that is data can still be bound: it becomes a weight. */
	b = ob_new(13);
	ob_io(b, 0, "x", 2, dn2);
	ob_io(b, 0, "W", 2, dw);
	ob_io(b, 1, "y", 2, dw);
	ob_node(b, "Add", "a", "x,W", "y");
	m = ob_load(b);
	ASSERT_EQ(m->n_inputs, 2);
	ASSERT_OK(model_bind_safetensors(m, path));
	ASSERT_EQ(m->n_inputs, 1);
	ASSERT_EQ(m->inputs[0], 0);
	{
		static const float x2[] = { 1, 1, 1, 1 }, w2[] = { 2, 3, 4, 5 };

		ob_run1(m, 2, dw, x2, 2, dw, w2);
	}
	unlink(path);
	return 0;
}

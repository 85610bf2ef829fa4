/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * mkmlp: a ReLU MLP (Gemm, Relu, ..., Gemm) with seeded random weights and
 * random rows, for the chunk tests and the tabular benchmark:
 *
 *   mkmlp DIR ROWS PARTS N0 N1 ... Nk
 *
 * writes DIR/model.onnx (N0 inputs, Nk outputs, the batch symbolic),
 * DIR/part0.npy .. DIR/part{PARTS-1}.npy (ROWS rows of N0 columns in [-1, 1]
 * cut into PARTS column blocks: one per institution, vertical pooling) and
 * DIR/expected.npy (the outputs in double precision). ROWS 0 writes the
 * model alone. Standalone on purpose (protobuf-c and the generated ONNX
 * code only), so a suite builds it in a second without the library:
 *
 *   cc -std=c11 -D_GNU_SOURCE -O2 -Ibuild/gen tests/tools/mkmlp.c build/gen/onnx.pb-c.c \
 *      -lprotobuf-c -lm -o mkmlp
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx.pb-c.h"

#define MAXL 8

static uint64_t rs = 0x9e3779b97f4a7c15ull;

/* xorshift64*: the same numbers on every machine. */
static double uni(void)
{
	rs ^= rs >> 12;
	rs ^= rs << 25;
	rs ^= rs >> 27;
	return (double)((rs * 2685821657736338717ull) >> 11) / 9007199254740992.0 * 2 - 1;
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static void npy_write(const char *path, const float *x, size_t rows, size_t cols)
{
	char hdr[128];
	int hl = snprintf(hdr, sizeof(hdr), "{'descr': '<f4', 'fortran_order': False, "
			  "'shape': (%zu, %zu), }", rows, cols);
	FILE *f = fopen(path, "wb");

	while ((10 + hl + 1) % 64)
		hdr[hl++] = ' ';
	hdr[hl++] = '\n';
	if (!f || fwrite("\x93NUMPY\x01\x00", 1, 8, f) != 8 || fputc(hl & 0xff, f) == EOF ||
	    fputc(hl >> 8, f) == EOF || fwrite(hdr, 1, (size_t)hl, f) != (size_t)hl ||
	    fwrite(x, 4, rows * cols, f) != rows * cols || fclose(f))
		die(path);
}

static Mpconnx__ValueInfoProto *io(const char *name, int64_t width)
{
	Mpconnx__ValueInfoProto *v = calloc(1, sizeof(*v));
	Mpconnx__TypeProto *t = calloc(1, sizeof(*t));
	Mpconnx__TypeProto__Tensor *tt = calloc(1, sizeof(*tt));
	Mpconnx__TensorShapeProto *sh = calloc(1, sizeof(*sh));
	Mpconnx__TensorShapeProto__Dimension **d = calloc(2, sizeof(*d));

	mpconnx__value_info_proto__init(v);
	mpconnx__type_proto__init(t);
	mpconnx__type_proto__tensor__init(tt);
	mpconnx__tensor_shape_proto__init(sh);
	for (int i = 0; i < 2; i++) {
		d[i] = calloc(1, sizeof(**d));
		mpconnx__tensor_shape_proto__dimension__init(d[i]);
	}
	d[0]->value_case = MPCONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
	d[0]->dim_param = "N";
	d[1]->value_case = MPCONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
	d[1]->dim_value = width;
	sh->n_dim = 2;
	sh->dim = d;
	tt->has_elem_type = 1;
	tt->elem_type = MPCONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
	tt->shape = sh;
	t->value_case = MPCONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
	t->tensor_type = tt;
	v->name = (char *)name;
	v->type = t;
	return v;
}

static Mpconnx__TensorProto *init(const char *name, const float *x, int nd, int64_t d0, int64_t d1)
{
	Mpconnx__TensorProto *t = calloc(1, sizeof(*t));
	int64_t *dims = calloc(2, sizeof(*dims));
	size_t n = (size_t)d0 * (size_t)(nd == 2 ? d1 : 1);

	mpconnx__tensor_proto__init(t);
	dims[0] = d0;
	dims[1] = d1;
	t->n_dims = (size_t)nd;
	t->dims = dims;
	t->has_data_type = 1;
	t->data_type = MPCONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
	t->name = strdup(name);
	t->has_raw_data = 1;
	t->raw_data.len = n * 4;
	t->raw_data.data = (uint8_t *)x;
	return t;
}

static Mpconnx__NodeProto *node(const char *op, const char *name, char **in, size_t nin,
				const char *out, int transb)
{
	Mpconnx__NodeProto *nd = calloc(1, sizeof(*nd));
	char **o = calloc(1, sizeof(*o));

	mpconnx__node_proto__init(nd);
	nd->op_type = (char *)op;
	nd->name = strdup(name);
	nd->n_input = nin;
	nd->input = in;
	o[0] = strdup(out);
	nd->n_output = 1;
	nd->output = o;
	if (transb) {
		Mpconnx__AttributeProto *a = calloc(1, sizeof(*a)), **pa = calloc(1, sizeof(*pa));

		mpconnx__attribute_proto__init(a);
		a->name = "transB";
		a->has_type = 1;
		a->type = MPCONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
		a->has_i = 1;
		a->i = 1;
		pa[0] = a;
		nd->n_attribute = 1;
		nd->attribute = pa;
	}
	return nd;
}

int main(int argc, char **argv)
{
	Mpconnx__ModelProto mp = MPCONNX__MODEL_PROTO__INIT;
	Mpconnx__GraphProto g = MPCONNX__GRAPH_PROTO__INIT;
	Mpconnx__OperatorSetIdProto os = MPCONNX__OPERATOR_SET_ID_PROTO__INIT, *pos = &os;
	Mpconnx__NodeProto *nodes[2 * MAXL];
	Mpconnx__TensorProto *inits[2 * MAXL];
	Mpconnx__ValueInfoProto *gin, *gout;
	float *w[MAXL], *b[MAXL];
	int64_t n[MAXL + 1];
	int layers = argc - 5, nn = 0;
	size_t rows, parts, len;
	char path[4096], prev[32] = "input";
	uint8_t *buf;
	FILE *f;

	if (argc < 6 || argc - 4 > MAXL + 1) {
		fprintf(stderr, "usage: mkmlp DIR ROWS PARTS N0 N1 ... Nk (at most %d layers)\n", MAXL);
		return 2;
	}
	rows = strtoull(argv[2], NULL, 10);
	parts = strtoull(argv[3], NULL, 10);
	for (int i = 0; i <= layers; i++)
		n[i] = strtoll(argv[4 + i], NULL, 10);
	for (int i = 0; i <= layers; i++)
		if (n[i] < 1 || (rows && n[i] > 4096))
			return fprintf(stderr, "mkmlp: widths from 1 to 4096 with rows\n"), 2;
	if (!parts || (size_t)n[0] < parts)
		return fprintf(stderr, "mkmlp: PARTS from 1 to N0\n"), 2;
	for (int l = 0; l < layers; l++) {
		char wn[32], bn[32], out[32], **in = calloc(3, sizeof(*in));
		double s = sqrt(3.0 / (double)n[l]);

		w[l] = malloc((size_t)(n[l] * n[l + 1]) * 4);
		b[l] = malloc((size_t)n[l + 1] * 4);
		if (!w[l] || !b[l] || !in)
			die("weights");
		for (int64_t i = 0; i < n[l] * n[l + 1]; i++)
			w[l][i] = (float)(uni() * s);
		for (int64_t i = 0; i < n[l + 1]; i++)
			b[l][i] = (float)(uni() * 0.1);
		snprintf(wn, sizeof(wn), "fc%d.weight", l);
		snprintf(bn, sizeof(bn), "fc%d.bias", l);
		inits[2 * l] = init(wn, w[l], 2, n[l + 1], n[l]);
		inits[2 * l + 1] = init(bn, b[l], 1, n[l + 1], 0);
		in[0] = strdup(prev);
		in[1] = strdup(wn);
		in[2] = strdup(bn);
		snprintf(out, sizeof(out), l + 1 == layers ? "output" : "fc%d", l);
		nodes[nn++] = node("Gemm", out, in, 3, out, 1);
		if (l + 1 < layers) {
			char **ri = calloc(1, sizeof(*ri));

			ri[0] = strdup(out);
			snprintf(prev, sizeof(prev), "relu%d", l);
			nodes[nn++] = node("Relu", prev, ri, 1, prev, 0);
		}
	}
	gin = io("input", n[0]);
	gout = io("output", n[layers]);
	g.name = "mlp";
	g.n_node = (size_t)nn;
	g.node = nodes;
	g.n_initializer = (size_t)(2 * layers);
	g.initializer = inits;
	g.n_input = 1;
	g.input = &gin;
	g.n_output = 1;
	g.output = &gout;
	os.has_version = 1;
	os.version = 13;
	mp.has_ir_version = 1;
	mp.ir_version = 7;
	mp.n_opset_import = 1;
	mp.opset_import = &pos;
	mp.graph = &g;
	len = mpconnx__model_proto__get_packed_size(&mp);
	if (!(buf = malloc(len)))
		die("model");
	mpconnx__model_proto__pack(&mp, buf);
	snprintf(path, sizeof(path), "%s/model.onnx", argv[1]);
	if (!(f = fopen(path, "wb")) || fwrite(buf, 1, len, f) != len || fclose(f))
		die(path);
	if (!rows)
		return 0;
	{
		size_t c0 = (size_t)n[0], width = (c0 + parts - 1) / parts, cout = (size_t)n[layers];
		float *x = malloc(rows * c0 * 4), *y = malloc(rows * cout * 4), *blk;
		double *h = malloc(sizeof(double) * 4096), *h2 = malloc(sizeof(double) * 4096);

		if (!x || !y || !h || !h2)
			die("rows");
		for (size_t i = 0; i < rows * c0; i++)
			x[i] = (float)uni();
		for (size_t r = 0; r < rows; r++) {
			for (size_t i = 0; i < c0; i++)
				h[i] = x[r * c0 + i];
			for (int l = 0; l < layers; l++) {
				for (int64_t o = 0; o < n[l + 1]; o++) {
					double acc = b[l][o];

					for (int64_t i = 0; i < n[l]; i++)
						acc += (double)w[l][o * n[l] + i] * h[i];
					h2[o] = l + 1 < layers && acc < 0 ? 0 : acc;
				}
				memcpy(h, h2, sizeof(double) * (size_t)n[l + 1]);
			}
			for (size_t o = 0; o < cout; o++)
				y[r * cout + o] = (float)h[o];
		}
		for (size_t p = 0; p < parts; p++) {
			size_t lo = p * width, hi = lo + width < c0 ? lo + width : c0;

			if (!(blk = malloc(rows * (hi - lo) * 4)))
				die("part");
			for (size_t r = 0; r < rows; r++)
				memcpy(blk + r * (hi - lo), x + r * c0 + lo, (hi - lo) * 4);
			snprintf(path, sizeof(path), "%s/part%zu.npy", argv[1], p);
			npy_write(path, blk, rows, hi - lo);
			free(blk);
		}
		snprintf(path, sizeof(path), "%s/expected.npy", argv[1]);
		npy_write(path, y, rows, cout);
	}
	return 0;
}

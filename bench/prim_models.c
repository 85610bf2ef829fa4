/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * The benchmark primitives as ONNX models, so that they run as jobs
 * between daemons like any model: Relu on [N], Mul of two inputs [N]
 * (held by two parties), MatMul of an input [M, K] by a weight [K, P].
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "npy.h"
#include "onnx.pb-c.h"
#include "prim_models.h"

struct io {
	Mpconnx__ValueInfoProto vi;
	Mpconnx__TypeProto type;
	Mpconnx__TypeProto__Tensor tt;
	Mpconnx__TensorShapeProto shape;
	Mpconnx__TensorShapeProto__Dimension dim[2], *pdim[2];
};

static void io_init(struct io *io, const char *name, int ndim, const int64_t *dims)
{
	mpconnx__value_info_proto__init(&io->vi);
	mpconnx__type_proto__init(&io->type);
	mpconnx__type_proto__tensor__init(&io->tt);
	mpconnx__tensor_shape_proto__init(&io->shape);
	io->vi.name = (char *)name;
	io->vi.type = &io->type;
	io->type.value_case = MPCONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
	io->type.tensor_type = &io->tt;
	io->tt.has_elem_type = 1;
	io->tt.elem_type = MPCONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
	io->tt.shape = &io->shape;
	io->shape.n_dim = (size_t)ndim;
	io->shape.dim = io->pdim;
	for (int i = 0; i < ndim; i++) {
		mpconnx__tensor_shape_proto__dimension__init(&io->dim[i]);
		io->dim[i].value_case = MPCONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
		io->dim[i].dim_value = dims[i];
		io->pdim[i] = &io->dim[i];
	}
}

int prim_model_write(const char *path, const char *kind, size_t n)
{
	Mpconnx__ModelProto m = MPCONNX__MODEL_PROTO__INIT;
	Mpconnx__GraphProto g = MPCONNX__GRAPH_PROTO__INIT;
	Mpconnx__OperatorSetIdProto op = MPCONNX__OPERATOR_SET_ID_PROTO__INIT, *pop = &op;
	Mpconnx__NodeProto node = MPCONNX__NODE_PROTO__INIT, *pnode = &node;
	Mpconnx__TensorProto w = MPCONNX__TENSOR_PROTO__INIT, *pw = &w;
	struct io in[2], out;
	Mpconnx__ValueInfoProto *pin[2] = { &in[0].vi, &in[1].vi }, *pout = &out.vi;
	char *node_in[2] = { "x", "y" }, *node_out[1] = { "output" };
	int64_t d1[1] = { (int64_t)n }, dx[2] = { 128, 784 }, dw[2] = { 784, 64 }, dy[2] = { 128, 64 };
	float *wdata = NULL;
	uint8_t *buf = NULL;
	size_t len;
	FILE *f = NULL;
	int ret = -1;

	m.has_ir_version = 1;
	m.ir_version = 7;
	m.n_opset_import = 1;
	m.opset_import = &pop;
	op.has_version = 1;
	op.version = 13;
	m.graph = &g;
	g.name = "primitive";
	g.n_node = 1;
	g.node = &pnode;
	g.input = pin;
	g.n_output = 1;
	g.output = &pout;
	node.output = node_out;
	node.n_output = 1;
	node.input = node_in;
	if (!strcmp(kind, "relu")) {
		io_init(&in[0], "x", 1, d1);
		io_init(&out, "output", 1, d1);
		g.n_input = 1;
		node.op_type = "Relu";
		node.n_input = 1;
	} else if (!strcmp(kind, "mul")) {
		io_init(&in[0], "x", 1, d1);
		io_init(&in[1], "y", 1, d1);
		io_init(&out, "output", 1, d1);
		g.n_input = 2;
		node.op_type = "Mul";
		node.n_input = 2;
	} else if (!strcmp(kind, "matmul")) {
		io_init(&in[0], "x", 2, dx);
		io_init(&out, "output", 2, dy);
		g.n_input = 1;
		node.op_type = "MatMul";
		node.n_input = 2;
		node_in[1] = "w";
		if (!(wdata = malloc(784 * 64 * sizeof(float))))
			goto out;
		for (size_t i = 0; i < 784 * 64; i++)
			wdata[i] = (float)((double)randombytes_uniform(2001) / 1000.0 - 1.0) / 28.0f;
		w.name = "w";
		w.n_dims = 2;
		w.dims = dw;
		w.has_data_type = 1;
		w.data_type = MPCONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
		w.has_raw_data = 1;
		w.raw_data.data = (uint8_t *)wdata;
		w.raw_data.len = 784 * 64 * sizeof(float);
		g.n_initializer = 1;
		g.initializer = &pw;
	} else {
		goto out;
	}
	len = mpconnx__model_proto__get_packed_size(&m);
	if (!(buf = malloc(len)))
		goto out;
	mpconnx__model_proto__pack(&m, buf);
	if (!(f = fopen(path, "wb")) || fwrite(buf, 1, len, f) != len)
		goto out;
	ret = 0;
out:
	if (f && fclose(f))
		ret = -1;
	free(buf);
	free(wdata);
	return ret;
}

/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
#ifndef MPC_TEST_ONNX_BUILD_H
#define MPC_TEST_ONNX_BUILD_H

/*
 * Tests only: small ONNX models built in memory with the generated
 * protobuf-c structs, serialised and imported like a file.
 */
#include <stdint.h>

#include "ftensor.h"
#include "model.h"
#include "onnx.pb-c.h"

#define ASSERT_FAIL(call, code, word)                                                             \
	do {                                                                                      \
		int rf_ = (call);                                                                 \
		if (rf_ != (code))                                                                \
			TEST_FAIL("%s: %d != %s (%s)", #call, rf_, #code, mpc_errmsg(rf_));       \
		if (!strstr(mpc_errmsg(rf_), (word)))                                             \
			TEST_FAIL("%s: message '%s' lacks '%s'", #call, mpc_errmsg(rf_), (word)); \
	} while (0)

#define MAXN 40
#define MAXA 8

/* A model under construction; every part lives in this one struct. */
struct ob {
	Mpconnx__ModelProto model;
	Mpconnx__GraphProto graph;
	Mpconnx__OperatorSetIdProto opset, *opsets[1];
	Mpconnx__NodeProto node[MAXN], *pnode[MAXN];
	char *nin[MAXN][MAXA], *nout[MAXN][2];
	Mpconnx__AttributeProto attr[MAXN][MAXA], *pattr[MAXN][MAXA];
	int64_t aints[MAXN][MAXA][4];
	Mpconnx__TensorProto init[MAXN], *pinit[MAXN];
	int64_t idims[MAXN][FT_MAX_DIMS];
	Mpconnx__ValueInfoProto vi[2][MAXN], *pvi[2][MAXN];
	Mpconnx__TypeProto type[2][MAXN];
	Mpconnx__TypeProto__Tensor tt[2][MAXN];
	Mpconnx__TensorShapeProto shape[2][MAXN];
	Mpconnx__TensorShapeProto__Dimension dim[2][MAXN][FT_MAX_DIMS], *pdim[2][MAXN][FT_MAX_DIMS];
	char *strs[512];
	int nstr;
	/* Tensors outside the initializer list (Constant nodes, attributes). */
	Mpconnx__TensorProto xt[MAXN];
	int64_t xdims[MAXN][FT_MAX_DIMS];
	int nxt;
};

struct ob *ob_new(int opset);
void ob_free(struct ob *b);
/* Graph input (io 0) or output (io 1); dims -1 are symbolic, ndim -1 no shape. */
void ob_io(struct ob *b, int io, const char *name, int ndim, const int64_t *dims);
/* Float initializer in float_data; data must live until the model is parsed. */
Mpconnx__TensorProto *ob_const(struct ob *b, const char *name, int ndim, const int64_t *dims,
			       const float *data);
void ob_shape_const(struct ob *b, const char *name, int n, const int64_t *v);
/* ins and outs are comma-separated names; an empty field is an omitted input. */
Mpconnx__NodeProto *ob_node(struct ob *b, const char *op, const char *name, const char *ins,
			    const char *outs);
void ob_i(struct ob *b, Mpconnx__NodeProto *n, const char *name, int64_t v);
void ob_f(struct ob *b, Mpconnx__NodeProto *n, const char *name, float v);
void ob_ints(struct ob *b, Mpconnx__NodeProto *n, const char *name, int cnt, int64_t v0, int64_t v1,
	     int64_t v2, int64_t v3);
void ob_s(struct ob *b, Mpconnx__NodeProto *n, const char *name, const char *s);
/*
 * A tensor of any element type with raw little-endian data (raw must live
 * until the model is packed): as an initializer (ob_raw_init) or free
 * standing (ob_raw_tensor), e.g. for a Constant node's value (ob_t).
 */
Mpconnx__TensorProto *ob_raw_init(struct ob *b, const char *name, int type, int ndim,
				  const int64_t *dims, const void *raw, size_t len);
Mpconnx__TensorProto *ob_raw_tensor(struct ob *b, const char *name, int type, int ndim,
				    const int64_t *dims, const void *raw, size_t len);
/* A TENSOR attribute. */
void ob_t(struct ob *b, Mpconnx__NodeProto *n, const char *name, Mpconnx__TensorProto *t);
/* The serialised model (malloc'd); the builder stays usable. */
uint8_t *ob_pack(struct ob *b, size_t *len);
/* Serialise and import; ob_load also frees the builder and asserts success. */
int ob_parse(struct ob *b, struct model **m);
struct model *ob_load(struct ob *b);
/* Infer for inputs x[0..n) and evaluate: output 0. */
struct ftensor ob_eval(struct model *m, const struct ftensor *x, int n);
struct ftensor ob_tensor(int ndim, const int64_t *dims, const float *data);
void ob_expect(const struct ftensor *y, int ndim, const int64_t *dims, const float *want,
	       double tol);
/* One data input: evaluate, compare to want, free the model. */
void ob_run1(struct model *m, int xnd, const int64_t *xd, const float *xv, int ynd,
	     const int64_t *yd, const float *want);

#endif

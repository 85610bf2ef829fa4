/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * ONNX op semantics of the plaintext reference on small models built in
 * memory, checked against hand-computed values (and, for Conv, against a
 * direct transcription of the ONNX definition).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "err.h"
#include "onnx_build.h"
#include "test.h"

TEST(onnx_gemm)
{
	static const float bt[] = { 1, 0, 0, 1, 1, 1 }, c1[] = { 1, -1 }, c2[] = { 10, 20 };
	static const float bn[] = { 1, 0, 1, 0, 1, 1 };
	static const float at[] = { 1, 4, 2, 5, 3, 6 }, a[] = { 1, 2, 3, 4, 5, 6 };
	static const float w1[] = { 4, 0.5f, 7, 3.5f }, w2[] = { 14, 15, 30, 31 };
	static const int64_t d32[] = { 3, 2 }, d23[] = { 2, 3 }, d22[] = { 2, 2 },
			     dn3[] = { -1, 3 };
	static const int64_t d2[] = { 2 }, d21[] = { 2, 1 };
	struct ob *b = ob_new(13);
	Mpconnx__NodeProto *n;

	/* A stored as [K, M] (transA), C a row broadcast over M; alpha, beta. */
	ob_io(b, 0, "a", 2, d32);
	ob_io(b, 1, "y", 2, d22);
	ob_const(b, "B", 2, d32, bt);
	ob_const(b, "C", 1, d2, c1);
	n = ob_node(b, "Gemm", "g", "a,B,C", "y");
	ob_i(b, n, "transA", 1);
	ob_f(b, n, "alpha", 0.5f);
	ob_f(b, n, "beta", 2.0f);
	ob_run1(ob_load(b), 2, d32, at, 2, d22, w1);

	/* B stored as [N, K] (transB), C a column broadcast over N. */
	b = ob_new(13);
	ob_io(b, 0, "a", 2, dn3);
	ob_io(b, 0, "B", 2, d23); /* listed as an input too, as before IR 4 */
	ob_io(b, 1, "y", -1, NULL);
	ob_const(b, "B", 2, d23, bn);
	ob_const(b, "C", 2, d21, c2);
	n = ob_node(b, "Gemm", "g", "a,B,C", "y");
	ob_i(b, n, "transB", 1);
	ob_run1(ob_load(b), 2, d23, a, 2, d22, w2);

	/* C omitted. */
	b = ob_new(11);
	ob_io(b, 0, "a", 2, dn3);
	ob_io(b, 1, "y", -1, NULL);
	ob_const(b, "B", 2, d23, bn);
	n = ob_node(b, "Gemm", "g", "a,B", "y");
	ob_i(b, n, "transB", 1);
	{
		static const float w3[] = { 4, 5, 10, 11 };

		ob_run1(ob_load(b), 2, d23, a, 2, d22, w3);
	}
	return 0;
}

TEST(onnx_matmul)
{
	static const float a[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 },
			   bm[] = { 1, 0, 0, 1, 1, 1 };
	static const float w[] = { 4, 5, 10, 11, 16, 17, 22, 23 };
	static const int64_t da[] = { -1, 2, 3 }, dx[] = { 2, 2, 3 }, db[] = { 3, 2 },
			     dy[] = { 2, 2, 2 };
	struct ob *b = ob_new(13);

	ob_io(b, 0, "a", 3, da);
	ob_io(b, 1, "y", -1, NULL);
	ob_const(b, "B", 2, db, bm);
	ob_node(b, "MatMul", "mm", "a,B", "y");
	ob_run1(ob_load(b), 3, dx, a, 3, dy, w);
	return 0;
}

TEST(onnx_sub_add_broadcast)
{
	static const float x[] = { 1, 2, 3, 4, 5, 6 }, yv[] = { 1, 10 }, col[] = { 1, 10 };
	static const float w1[] = { 0, 1, 2, -9, -8, -7, 3, 4, 5, -6, -5, -4 };
	static const float w2[] = { 100, 201, 302, 94, 195, 296 };
	static const float row[] = { 100, 200, 300 };
	static const int64_t dx[] = { 2, 1, 3 }, dy[] = { 2, 1 }, dz[] = { 2, 2, 3 },
			     d23[] = { 2, 3 };
	static const int64_t d3[] = { 3 };
	struct ftensor in[2], out;
	struct model *m;
	struct ob *b = ob_new(14);

	/* Two data inputs, both broadcast: [2,1,3] - [2,1] -> [2,2,3]. */
	ob_io(b, 0, "x", 3, dx);
	ob_io(b, 0, "y", 2, dy);
	ob_io(b, 1, "z", 3, dz);
	ob_node(b, "Sub", "sub", "x,y", "z");
	m = ob_load(b);
	ASSERT_EQ(m->n_inputs, 2);
	in[0] = ob_tensor(3, dx, x);
	in[1] = ob_tensor(2, dy, yv);
	out = ob_eval(m, in, 2);
	ob_expect(&out, 3, dz, w1, 0);
	ftensor_free(&in[0]);
	ftensor_free(&in[1]);
	ftensor_free(&out);
	model_free(m);

	/* Column constant, then row constant. */
	b = ob_new(14);
	ob_io(b, 0, "x", 2, d23);
	ob_io(b, 1, "z", 2, d23);
	ob_const(b, "col", 2, dy, col);
	ob_const(b, "row", 1, d3, row);
	ob_node(b, "Sub", "sub", "x,col", "t");
	ob_node(b, "Add", "add", "row,t", "z");
	ob_run1(ob_load(b), 2, d23, x, 2, d23, w2);
	return 0;
}

TEST(onnx_mul_const)
{
	static const float x[] = { 1, 2, 3, 4, 5, 6 }, v[] = { 1, -1, 0.5f },
			   w[] = { 2, -4, 3, 8, -10, 6 };
	static const int64_t d23[] = { 2, 3 }, d3[] = { 3 };
	struct ftensor xt = ob_tensor(2, d23, x);
	struct model *m;
	struct ob *b = ob_new(13);
	Mpconnx__NodeProto *n;

	ob_io(b, 0, "x", 2, d23);
	ob_io(b, 1, "z", 2, d23);
	ob_const(b, "v", 1, d3, v);
	n = ob_node(b, "Constant", "two", "", "two");
	ob_f(b, n, "value_float", 2.0f);
	ob_node(b, "Mul", "m1", "x,two", "t");
	ob_node(b, "Mul", "m2", "t,v", "z");
	ob_run1(ob_load(b), 2, d23, x, 2, d23, w);

	/* A product of two computed tensors is a Beaver product: allowed. */
	{
		static const float sq[] = { 1, 4, 9, 16, 25, 36 };

		b = ob_new(13);
		ob_io(b, 0, "x", 2, d23);
		ob_io(b, 1, "z", 2, d23);
		ob_node(b, "Mul", "sq", "x,x", "z");
		m = ob_load(b);
		ob_run1(m, 2, d23, x, 2, d23, sq);
	}
	ftensor_free(&xt);
	return 0;
}

/* ONNX Conv as written in the spec, one output cell at a time. */
static double conv_cell(const struct ftensor *x, const struct ftensor *w, const float *bias,
			int group, const int *st, const int *dl, const int *pd, int64_t n,
			int64_t m, int64_t oh, int64_t ow)
{
	int64_t cg = w->dims[1], mg = w->dims[0] / group, c, i, j;
	double s = bias ? bias[m] : 0;

	for (c = 0; c < cg; c++)
		for (i = 0; i < w->dims[2]; i++)
			for (j = 0; j < w->dims[3]; j++) {
				int64_t ih = oh * st[0] - pd[0] + i * dl[0],
					iw = ow * st[1] - pd[1] + j * dl[1];
				int64_t ch = (m / mg) * cg + c;

				if (ih < 0 || ih >= x->dims[2] || iw < 0 || iw >= x->dims[3])
					continue;
				s += (double)x->data[((n * x->dims[1] + ch) * x->dims[2] + ih) *
							     x->dims[3] +
						     iw] *
				     w->data[((m * cg + c) * w->dims[2] + i) * w->dims[3] + j];
			}
	return s;
}

TEST(onnx_conv)
{
	static const float w[] = { 1, 0, 0, 0, 0, 0, 0, 1 }, bias[] = { 0.5f, -1 };
	static const float want[] = { 0.5f, 0.5f, 5.5f, 7.5f, 106, 108, 116, 118 };
	static const int64_t dx[] = { 1, 2, 5, 5 }, dw[] = { 2, 1, 2, 2 }, db[] = { 2 },
			     dy[] = { 1, 2, 2, 2 };
	static const int64_t dx2[] = { 2, 4, 7, 6 }, dw2[] = { 6, 2, 3, 2 }, db2[] = { 6 };
	static const int st[] = { 2, 1 }, dl[] = { 1, 2 }, pd[] = { 2, 1, 0, 3 };
	float xv[50], w2[72], b2[6];
	struct ftensor x, y, wt;
	int64_t n, m, oh, ow;
	struct ob *b = ob_new(13);
	Mpconnx__NodeProto *nd;
	size_t i;

	/* group 2, stride 2, dilation 2, pads top 1 and right 1: one tap per output. */
	for (i = 0; i < 25; i++) {
		xv[i] = (float)i;
		xv[25 + i] = 100.0f + (float)i;
	}
	ob_io(b, 0, "x", 4, dx);
	ob_io(b, 1, "y", 4, dy);
	ob_const(b, "W", 4, dw, w);
	ob_const(b, "b", 1, db, bias);
	nd = ob_node(b, "Conv", "conv", "x,W,b", "y");
	ob_i(b, nd, "group", 2);
	ob_ints(b, nd, "strides", 2, 2, 2, 0, 0);
	ob_ints(b, nd, "dilations", 2, 2, 2, 0, 0);
	ob_ints(b, nd, "pads", 4, 1, 0, 0, 1);
	ob_ints(b, nd, "kernel_shape", 2, 2, 2, 0, 0);
	ob_run1(ob_load(b), 4, dx, xv, 4, dy, want);

	/* Every tap, against the definition: no kernel_shape, asymmetric everything. */
	for (i = 0; i < 72; i++)
		w2[i] = (float)((int)(i * 37 % 23) - 11) / 8.0f;
	for (i = 0; i < 6; i++)
		b2[i] = (float)i - 2.5f;
	b = ob_new(13);
	ob_io(b, 0, "x", 4, dx2);
	ob_io(b, 1, "y", -1, NULL);
	ob_const(b, "W", 4, dw2, w2);
	ob_const(b, "b", 1, db2, b2);
	nd = ob_node(b, "Conv", "", "x,W,b", "y");
	ob_i(b, nd, "group", 2);
	ob_ints(b, nd, "strides", 2, st[0], st[1], 0, 0);
	ob_ints(b, nd, "dilations", 2, dl[0], dl[1], 0, 0);
	ob_ints(b, nd, "pads", 4, pd[0], pd[1], pd[2], pd[3]);
	x = ob_tensor(4, dx2, NULL);
	for (i = 0; i < x.n; i++)
		x.data[i] = (float)((int)(i * 13 % 17) - 8) / 4.0f;
	wt = ob_tensor(4, dw2, w2);
	{
		struct model *mm = ob_load(b);

		y = ob_eval(mm, &x, 1);
		model_free(mm);
	}
	/* H: (7 + 2 - 3) / 2 + 1 = 4; W: (6 + 4 - 3) / 1 + 1 = 8 */
	ASSERT_EQ(y.ndim, 4);
	ASSERT_EQ(y.dims[0], 2);
	ASSERT_EQ(y.dims[1], 6);
	ASSERT_EQ(y.dims[2], 4);
	ASSERT_EQ(y.dims[3], 8);
	for (n = 0; n < 2; n++)
		for (m = 0; m < 6; m++)
			for (oh = 0; oh < 4; oh++)
				for (ow = 0; ow < 8; ow++)
					ASSERT_NEAR(
						y.data[((n * 6 + m) * 4 + oh) * 8 + ow],
						conv_cell(&x, &wt, b2, 2, st, dl, pd, n, m, oh, ow),
						1e-4);
	ftensor_free(&x);
	ftensor_free(&y);
	ftensor_free(&wt);
	return 0;
}

TEST(onnx_maxpool_pads)
{
	static const float x[] = { -1, -2, -3, -4, -5, -6, -7, -8, -9 };
	static const float w[] = { -1, -1, -2, -3, -1, -1, -2, -3, -4, -4, -5, -6, -7, -7, -8, -9 };
	static const float w2[] = { -1, -2, -4, -5 };
	static const int64_t dx[] = { 1, 1, 3, 3 }, dy[] = { 1, 1, 4, 4 }, dy2[] = { 1, 1, 2, 2 };
	struct ob *b = ob_new(13);
	Mpconnx__NodeProto *n;

	/* Padded cells never win, even against negative values. */
	ob_io(b, 0, "x", 4, dx);
	ob_io(b, 1, "y", 4, dy);
	n = ob_node(b, "MaxPool", "mp", "x", "y");
	ob_ints(b, n, "kernel_shape", 2, 2, 2, 0, 0);
	ob_ints(b, n, "pads", 4, 1, 1, 1, 1);
	ob_i(b, n, "ceil_mode", 0);
	ob_i(b, n, "storage_order", 0);
	ob_run1(ob_load(b), 4, dx, x, 4, dy, w);

	b = ob_new(13);
	ob_io(b, 0, "x", 4, dx);
	ob_io(b, 1, "y", 4, dy2);
	n = ob_node(b, "MaxPool", "mp", "x", "y");
	ob_ints(b, n, "kernel_shape", 2, 2, 2, 0, 0);
	ob_ints(b, n, "strides", 2, 2, 2, 0, 0);
	ob_ints(b, n, "pads", 4, 1, 1, 0, 0);
	ob_run1(ob_load(b), 4, dx, x, 4, dy2, w2);
	return 0;
}

TEST(onnx_avgpool_count_include_pad)
{
	static const float x[] = { 1, 2, 3, 4 };
	static const float w0[] = { 1, 1.5f, 2, 2, 2.5f, 3, 3, 3.5f, 4 };
	static const float w1[] = { 0.25f, 0.75f, 0.5f, 1, 2.5f, 1.5f, 0.75f, 1.75f, 1 };
	static const int64_t dx[] = { 1, 1, 2, 2 }, dy[] = { 1, 1, 3, 3 };
	int cip;

	for (cip = 0; cip < 2; cip++) {
		struct ob *b = ob_new(13);
		Mpconnx__NodeProto *n;

		ob_io(b, 0, "x", 4, dx);
		ob_io(b, 1, "y", 4, dy);
		n = ob_node(b, "AveragePool", "ap", "x", "y");
		ob_ints(b, n, "kernel_shape", 2, 2, 2, 0, 0);
		ob_ints(b, n, "pads", 4, 1, 1, 1, 1);
		ob_i(b, n, "count_include_pad", cip);
		ob_run1(ob_load(b), 4, dx, x, 4, dy, cip ? w1 : w0);
	}
	return 0;
}

TEST(onnx_concat)
{
	static const float x[] = { 1, 2, 3, 4 }, c[] = { 9, 8 };
	static const float w[] = { 1, 2, 9, 3, 4, 8, 1, 2, 9, 3, 4, 8 };
	static const int64_t d22[] = { 2, 2 }, d21[] = { 2, 1 }, dy[] = { 4, 3 }, dn2[] = { -1, 2 };
	struct ob *b = ob_new(13);
	Mpconnx__NodeProto *n;

	ob_io(b, 0, "x", 2, dn2);
	ob_io(b, 1, "y", 2, dy);
	ob_const(b, "c", 2, d21, c);
	n = ob_node(b, "Concat", "cat1", "x,c", "t");
	ob_i(b, n, "axis", -1);
	n = ob_node(b, "Concat", "cat0", "t,t", "y");
	ob_i(b, n, "axis", 0);
	ob_run1(ob_load(b), 2, d22, x, 2, dy, w);
	return 0;
}

TEST(onnx_reshape)
{
	static const int64_t s1[] = { 0, -1 }, s2[] = { -1, 0, 2 }, dx[] = { 2, 3, 4 };
	static const int64_t d1[] = { 2, 12 }, d2[] = { 4, 3, 2 }, dn[] = { -1, 3, 4 };
	float x[24];
	int k;

	for (k = 0; k < 24; k++)
		x[k] = (float)k;
	for (k = 0; k < 2; k++) {
		struct ob *b = ob_new(14);
		Mpconnx__NodeProto *n;

		ob_io(b, 0, "x", 3, dn);
		ob_io(b, 1, "y", -1, NULL);
		/* The shape as an initializer, then as a Constant node. */
		if (k)
			ob_ints(b, ob_node(b, "Constant", "c", "", "s"), "value_ints", 3, s2[0],
				s2[1], s2[2], 0);
		else
			ob_shape_const(b, "s", 2, s1);
		n = ob_node(b, "Reshape", "r", "x,s", "y");
		ob_i(b, n, "allowzero", 0);
		ob_run1(ob_load(b), 3, dx, x, k ? 3 : 2, k ? d2 : d1, x);
	}
	return 0;
}

TEST(onnx_softmax_axis)
{
	static const float x[] = { 0, 1, 1.0986122886681098f, 1 },
			   w[] = { 0.25f, 0.5f, 0.75f, 0.5f };
	static const int64_t dx[] = { 1, 2, 2 };
	struct model *m;
	int opset;

	for (opset = 11; opset <= 13; opset += 2) {
		struct ob *b = ob_new(opset);

		ob_io(b, 0, "x", 3, dx);
		ob_io(b, 1, "y", 3, dx);
		ob_i(b, ob_node(b, "Softmax", "sm", "x", "y"), "axis", 1);
		m = ob_load(b);
		if (opset == 13) {
			ob_run1(m, 3, dx, x, 3, dx, w);
			continue;
		}
		/* Before opset 13 axis 1 of a 3-D input flattens both axes: one row of 4. */
		{
			float w11[4], e = expf(1.0f), sum = 4 + 2 * e;

			w11[0] = 1 / sum;
			w11[1] = w11[3] = e / sum;
			w11[2] = 3 / sum;
			ob_run1(m, 3, dx, x, 3, dx, w11);
		}
	}
	return 0;
}

TEST(onnx_misc_ops)
{
	static const float x[] = { 1, 3, 5, 7, -2, -4, 0, 2 };
	static const float sc[] = { 2, 1 }, bb[] = { 1, 0 }, mean[] = { 1, 2 },
			   var[] = { 3, 0.25f };
	static const int64_t dx[] = { 1, 2, 2, 2 }, d2[] = { 2 }, dy[] = { 1, 2 };
	struct ob *b = ob_new(15);
	Mpconnx__NodeProto *n;
	float want[2];

	/* GAP [4, -1] -> Flatten -> BN(eps 1) -> Dropout -> Identity -> Relu -> Sigmoid */
	want[0] = (float)(1 / (1 + exp(-(2 / 2.0 * (4 - 1) + 1))));
	want[1] = 0.5f; /* relu(1 / sqrt(1.25) * (-1 - 2)) = 0 */
	ob_io(b, 0, "x", 4, dx);
	ob_io(b, 1, "y", 2, dy);
	ob_const(b, "sc", 1, d2, sc);
	ob_const(b, "bb", 1, d2, bb);
	ob_const(b, "mean", 1, d2, mean);
	ob_const(b, "var", 1, d2, var);
	ob_node(b, "GlobalAveragePool", "gap", "x", "g");
	ob_i(b, ob_node(b, "Flatten", "fl", "g", "f"), "axis", -3);
	n = ob_node(b, "BatchNormalization", "bn", "f,sc,bb,mean,var", "n");
	ob_f(b, n, "epsilon", 1.0f);
	ob_f(b, n, "momentum", 0.9f);
	n = ob_node(b, "Dropout", "do", "n", "d,");
	ob_f(b, n, "ratio", 0.5f);
	ob_node(b, "Identity", "id", "d", "i");
	ob_node(b, "Relu", "relu", "i", "r");
	ob_node(b, "Sigmoid", "sig", "r", "y");
	ob_run1(ob_load(b), 4, dx, x, 2, dy, want);
	return 0;
}

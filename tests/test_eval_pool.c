/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * Issue 10, pooling, convolution shapes, precision and softmax: each op in
 * hand-built models, on shares against the double-precision reference,
 * for 2, 3 and 4 parties.
 */
#include <math.h>
#include <sodium.h>

#include "eval.h"
#include "model.h"
#include "npy.h"
#include "onnx_build.h"
#include "sim_model.h"
#include "eval_util.h"
#include "test.h"

typedef struct ob *(*build_fn)(void);

/* The model from build against its reference on x, for 2, 3 and 4 parties. */
static void compare(const char *what, build_fn build, const struct ftensor *x, double tol)
{
	for (int parties = 2; parties <= 4; parties++) {
		struct model *m = ob_load(build());
		struct ftensor got, ref;
		double err;

		eval_run_both(m, x, 1, parties, 16, &got, &ref);
		err = eval_max_diff(&got, &ref);
		fprintf(stderr, "# %s, %d parties: max error %.3g\n", what, parties, err);
		if (err > tol)
			TEST_FAIL("%s, %d parties: max error %g > %g", what, parties, err, tol);
		ftensor_free(&got);
		ftensor_free(&ref);
		model_free(m);
	}
}

/* ---- exact average pooling ---- */

static struct ob *b_gap(void)
{
	static const int64_t dx[] = { 1, 2, 224, 224 };
	struct ob *b = ob_new(13);

	ob_io(b, 0, "x", 4, dx);
	ob_io(b, 1, "y", -1, NULL);
	ob_node(b, "GlobalAveragePool", "gap", "x", "y");
	return b;
}

/* 1/50176 rounded to 16 fractional bits is 23 % off; the mean must be within 1e-3. */
TEST(evpool_gap_224_exact)
{
	static const int64_t dx[] = { 1, 2, 224, 224 };
	struct ftensor x = ob_tensor(4, dx, NULL);

	eval_rand_fill(x.data, x.n / 2, 0.0, 2.0);
	eval_rand_fill(x.data + x.n / 2, x.n / 2, -3.0, 1.0);
	compare("GlobalAveragePool 224x224", b_gap, &x, 1e-3);
	ftensor_free(&x);
	return 0;
}

/* ---- pooling and convolution shapes: the reference on hand-computed cases ---- */

/* One node on x; sets the attributes given (kernel, strides, pads as counts 0 = absent). */
static struct ob *one_window(const char *op, int xnd, const int64_t *dx, int nk,
			     const int64_t *k, int np, const int64_t *pads, int ns,
			     const int64_t *st)
{
	struct ob *b = ob_new(13);
	Mpconnx__NodeProto *n;

	ob_io(b, 0, "x", xnd, dx);
	ob_io(b, 1, "y", -1, NULL);
	n = ob_node(b, op, "p", "x", "y");
	if (nk)
		ob_ints(b, n, "kernel_shape", nk, k[0], nk > 1 ? k[1] : 0, 0, 0);
	if (np)
		ob_ints(b, n, "pads", np, pads[0], pads[1], np > 2 ? pads[2] : 0,
			np > 2 ? pads[3] : 0);
	if (ns)
		ob_ints(b, n, "strides", ns, st[0], ns > 1 ? st[1] : 0, 0, 0);
	return b;
}

TEST(evpool_ref_1d_ceil)
{
	static const float x5[] = { 1, 2, 3, 4, 5 }, x6[] = { 1, 2, 3, 4, 5, 6 };
	/* PyTorch MaxPool1d(2, 2, padding=1, ceil_mode=True): the 4th window would start in the end padding. */
	static const float max5[] = { 1, 3, 5 };
	/* AvgPool1d(3, 2, padding=1, ceil_mode=True), count_include_pad 1 then 0. */
	static const float avg_in[] = { 1, 3, 5, 3 }, avg_ex[] = { 1.5f, 3, 5, 6 };
	static const int64_t d5[] = { 1, 1, 5 }, d6[] = { 1, 1, 6 }, dy3[] = { 1, 1, 3 },
			     dy4[] = { 1, 1, 4 }, k2[] = { 2 }, k3[] = { 3 }, p11[] = { 1, 1 },
			     s2[] = { 2 };
	struct ob *b;

	b = one_window("MaxPool", 3, d5, 1, k2, 2, p11, 1, s2);
	ob_i(b, &b->node[0], "ceil_mode", 1);
	ob_run1(ob_load(b), 3, d5, x5, 3, dy3, max5);
	for (int cip = 1; cip >= 0; cip--) {
		b = one_window("AveragePool", 3, d6, 1, k3, 2, p11, 1, s2);
		ob_i(b, &b->node[0], "ceil_mode", 1);
		ob_i(b, &b->node[0], "count_include_pad", cip);
		ob_run1(ob_load(b), 3, d6, x6, 3, dy4, cip ? avg_in : avg_ex);
	}
	return 0;
}

TEST(evpool_ref_auto_pad)
{
	static const float x[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };
	static const float up[] = { 5, 6, 6, 8, 9, 9, 8, 9, 9 }, lo[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };
	static const float avg_up[] = { 3, 4, 4.5f, 6, 7, 7.5f, 7.5f, 8.5f, 9 };
	static const float valid[] = { 5, 6, 8, 9 };
	static const int64_t dx[] = { 1, 1, 3, 3 }, dy[] = { 1, 1, 3, 3 }, dv[] = { 1, 1, 2, 2 },
			     k[] = { 2, 2 };
	static const char *const modes[] = { "SAME_UPPER", "SAME_LOWER", "VALID" };
	struct ob *b;

	for (int m = 0; m < 3; m++) {
		b = one_window("MaxPool", 4, dx, 2, k, 0, NULL, 0, NULL);
		ob_s(b, &b->node[0], "auto_pad", modes[m]);
		ob_run1(ob_load(b), 4, dx, x, 4, m == 2 ? dv : dy, m == 0 ? up : m == 1 ? lo : valid);
	}
	b = one_window("AveragePool", 4, dx, 2, k, 0, NULL, 0, NULL);
	ob_s(b, &b->node[0], "auto_pad", "SAME_UPPER");
	ob_run1(ob_load(b), 4, dx, x, 4, dy, avg_up);
	return 0;
}

/* A 2x2 MaxPool dilated by 2 over 1..16 in 4x4 reads every other cell. */
TEST(evpool_ref_maxpool_dilations)
{
	static const float x[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
	static const float y[] = { 11, 12, 15, 16 };
	static const int64_t dx[] = { 1, 1, 4, 4 }, dy[] = { 1, 1, 2, 2 }, k[] = { 2, 2 };
	struct ob *b = one_window("MaxPool", 4, dx, 2, k, 0, NULL, 0, NULL);
	struct model *m = NULL;

	ob_ints(b, &b->node[0], "dilations", 2, 2, 2, 0, 0);
	ob_run1(ob_load(b), 4, dx, x, 4, dy, y);
	b = one_window("AveragePool", 4, dx, 2, k, 0, NULL, 0, NULL);
	ob_ints(b, &b->node[0], "dilations", 2, 2, 2, 0, 0);
	ASSERT_FAIL(ob_parse(b, &m), MPC_E_UNSUPPORTED, "AveragePool dilations");
	ob_free(b);
	return 0;
}

static struct ob *conv1d(const float *w, const float *bias, const char *auto_pad, int stride)
{
	static const int64_t dx[] = { 1, 1, 5 }, dw[] = { 1, 1, 3 }, db[] = { 1 };
	struct ob *b = ob_new(13);
	Mpconnx__NodeProto *n;

	ob_io(b, 0, "x", 3, dx);
	ob_io(b, 1, "y", -1, NULL);
	ob_const(b, "W", 3, dw, w);
	ob_const(b, "B", 1, db, bias);
	n = ob_node(b, "Conv", "c", "x,W,B", "y");
	if (auto_pad)
		ob_s(b, n, "auto_pad", auto_pad);
	else
		ob_ints(b, n, "pads", 2, 1, 1, 0, 0);
	if (stride > 1)
		ob_ints(b, n, "strides", 1, stride, 0, 0, 0);
	return b;
}

TEST(evpool_ref_conv1d)
{
	static const float x[] = { 1, 2, 3, 4, 5 }, w[] = { 1, 0, -1 }, bias[] = { 0.5f };
	/* y_i = x_(i-1) - x_(i+1) + 0.5 with a zero on each side. */
	static const float y[] = { -1.5f, -1.5f, -1.5f, -1.5f, 4.5f }, y2[] = { -1.5f, -1.5f, 4.5f };
	static const int64_t dx[] = { 1, 1, 5 }, dy[] = { 1, 1, 5 }, dy2[] = { 1, 1, 3 };

	ob_run1(ob_load(conv1d(w, bias, NULL, 1)), 3, dx, x, 3, dy, y);
	ob_run1(ob_load(conv1d(w, bias, "SAME_UPPER", 2)), 3, dx, x, 3, dy2, y2);
	return 0;
}

TEST(evpool_refuse_3d)
{
	static const int64_t dx5[] = { 1, 1, 4, 4, 4 }, dx4[] = { 1, 1, 4, 4 }, k3[] = { 2, 2 };
	struct ob *b = ob_new(13);
	struct model *m = NULL;
	Mpconnx__NodeProto *n;
	struct ftensor x;
	int nd = 4;

	ob_io(b, 0, "x", 5, dx5);
	ob_io(b, 1, "y", -1, NULL);
	n = ob_node(b, "MaxPool", "p3", "x", "y");
	ob_ints(b, n, "kernel_shape", 3, 2, 2, 2, 0);
	ASSERT_FAIL(ob_parse(b, &m), MPC_E_UNSUPPORTED,
		    "node 'p3' (MaxPool): kernel_shape has 3 values: only 1-D and 2-D are supported");
	ob_free(b);
	/* A 1-D kernel on a 2-D input: named by node and shape. */
	b = one_window("MaxPool", 4, dx4, 1, k3, 0, NULL, 0, NULL);
	m = ob_load(b);
	x = ob_tensor(4, dx4, NULL);
	ASSERT_FAIL(model_infer(m, (const int64_t(*)[FT_MAX_DIMS])x.dims, &nd), MPC_E_UNSUPPORTED,
		    "node 'p' (MaxPool): X [1, 1, 4, 4]: only 1-D");
	ftensor_free(&x);
	model_free(m);
	return 0;
}

/* ---- the same shapes on shares ---- */

static struct ob *b_pools_1d(void)
{
	static const int64_t dx[] = { 2, 3, 11 };
	struct ob *b = ob_new(13);
	Mpconnx__NodeProto *n;

	ob_io(b, 0, "x", 3, dx);
	ob_io(b, 1, "y", -1, NULL);
	n = ob_node(b, "MaxPool", "mp", "x", "m");
	ob_ints(b, n, "kernel_shape", 1, 3, 0, 0, 0);
	ob_ints(b, n, "strides", 1, 2, 0, 0, 0);
	ob_ints(b, n, "pads", 2, 1, 1, 0, 0);
	ob_i(b, n, "ceil_mode", 1);
	n = ob_node(b, "AveragePool", "ap", "m", "a");
	ob_ints(b, n, "kernel_shape", 1, 2, 0, 0, 0);
	ob_ints(b, n, "strides", 1, 2, 0, 0, 0);
	ob_i(b, n, "ceil_mode", 1);
	n = ob_node(b, "AveragePool", "ap2", "a", "y");
	ob_ints(b, n, "kernel_shape", 1, 2, 0, 0, 0);
	ob_s(b, n, "auto_pad", "SAME_LOWER");
	ob_i(b, n, "count_include_pad", 1);
	return b;
}

static struct ob *b_pools_2d(void)
{
	static const int64_t dx[] = { 2, 2, 7, 6 };
	struct ob *b = ob_new(13);
	Mpconnx__NodeProto *n;

	ob_io(b, 0, "x", 4, dx);
	ob_io(b, 1, "y", -1, NULL);
	n = ob_node(b, "MaxPool", "mp", "x", "m");
	ob_ints(b, n, "kernel_shape", 2, 3, 2, 0, 0);
	ob_ints(b, n, "strides", 2, 2, 2, 0, 0);
	ob_ints(b, n, "pads", 4, 1, 0, 1, 1);
	ob_i(b, n, "ceil_mode", 1);
	n = ob_node(b, "MaxPool", "md", "m", "m2");
	ob_ints(b, n, "kernel_shape", 2, 2, 2, 0, 0);
	ob_ints(b, n, "dilations", 2, 2, 1, 0, 0);
	ob_ints(b, n, "pads", 4, 1, 1, 0, 1);
	n = ob_node(b, "AveragePool", "ap", "m2", "a");
	ob_ints(b, n, "kernel_shape", 2, 2, 3, 0, 0);
	ob_s(b, n, "auto_pad", "SAME_UPPER");
	n = ob_node(b, "AveragePool", "ap2", "a", "y");
	ob_ints(b, n, "kernel_shape", 2, 2, 2, 0, 0);
	ob_ints(b, n, "strides", 2, 2, 2, 0, 0);
	ob_ints(b, n, "pads", 4, 1, 1, 1, 1);
	ob_i(b, n, "ceil_mode", 1);
	ob_i(b, n, "count_include_pad", 1);
	return b;
}

static float conv_w[2 * 3 * 3], conv_b[2];

static struct ob *b_conv1d_net(void)
{
	static const int64_t dx[] = { 3, 3, 10 }, dw[] = { 2, 3, 3 }, db[] = { 2 };
	struct ob *b = ob_new(13);
	Mpconnx__NodeProto *n;

	ob_io(b, 0, "x", 3, dx);
	ob_io(b, 1, "y", -1, NULL);
	ob_const(b, "W", 3, dw, conv_w);
	ob_const(b, "B", 1, db, conv_b);
	n = ob_node(b, "Conv", "conv", "x,W,B", "c");
	ob_s(b, n, "auto_pad", "SAME_UPPER");
	ob_ints(b, n, "strides", 1, 2, 0, 0, 0);
	ob_node(b, "Relu", "relu", "c", "r");
	n = ob_node(b, "MaxPool", "mp", "r", "m");
	ob_ints(b, n, "kernel_shape", 1, 2, 0, 0, 0);
	ob_ints(b, n, "strides", 1, 2, 0, 0, 0);
	ob_i(b, n, "ceil_mode", 1);
	ob_node(b, "GlobalAveragePool", "gap", "m", "y");
	return b;
}

TEST(evpool_secure_shapes)
{
	static const int64_t d1[] = { 2, 3, 11 }, d2[] = { 2, 2, 7, 6 }, dc[] = { 3, 3, 10 };
	struct ftensor x1 = ob_tensor(3, d1, NULL), x2 = ob_tensor(4, d2, NULL);
	struct ftensor xc = ob_tensor(3, dc, NULL);

	eval_rand_fill(x1.data, x1.n, -20, 20);
	eval_rand_fill(x2.data, x2.n, -20, 20);
	eval_rand_fill(xc.data, xc.n, -4, 4);
	eval_rand_fill(conv_w, 18, -1, 1);
	eval_rand_fill(conv_b, 2, -1, 1);
	compare("1-D pools, ceil_mode, SAME_LOWER", b_pools_1d, &x1, 1e-3);
	compare("2-D pools, ceil_mode, dilations, SAME_UPPER", b_pools_2d, &x2, 1e-3);
	compare("Conv 1-D SAME_UPPER, ReLU, MaxPool 1-D", b_conv1d_net, &xc, 1e-2);
	ftensor_free(&x1);
	ftensor_free(&x2);
	ftensor_free(&xc);
	return 0;
}

/* ---- per-layer weight scales: raw clinical features, standardisation folded in ---- */

#define TAB_K 12
#define TAB_H 16
#define TAB_O 3
#define TAB_N 64

static float tab_w1[TAB_K * TAB_H], tab_b1[TAB_H], tab_w2[TAB_H * TAB_O], tab_b2[TAB_O];

/*
 * Feature j has magnitude 10^(-2 + 6j/(K-1)) (1e-2 .. 1e4); the first
 * layer's weights are a standardised model's divided by each feature's
 * spread (3e-4 .. 3e2 in one tensor) and its bias absorbs the means.
 */
static void tab_data(struct ftensor *x)
{
	double mag[TAB_K], w0[TAB_K * TAB_H];

	for (int j = 0; j < TAB_K; j++)
		mag[j] = pow(10.0, -2.0 + 6.0 * j / (TAB_K - 1));
	for (int r = 0; r < TAB_N; r++)
		for (int j = 0; j < TAB_K; j++) {
			float u;

			eval_rand_fill(&u, 1, -1, 1);
			x->data[r * TAB_K + j] = (float)(mag[j] * (1.0 + 0.5 * u));
		}
	for (int i = 0; i < TAB_K * TAB_H; i++) {
		float u;

		eval_rand_fill(&u, 1, -1, 1);
		w0[i] = u;
	}
	eval_rand_fill(tab_b1, TAB_H, -0.5, 0.5);
	for (int j = 0; j < TAB_K; j++) {
		double sd = mag[j] * 0.5 / sqrt(3.0);

		for (int h = 0; h < TAB_H; h++) {
			tab_w1[j * TAB_H + h] = (float)(w0[j * TAB_H + h] / sd);
			tab_b1[h] -= (float)(mag[j] / sd * w0[j * TAB_H + h]);
		}
	}
	eval_rand_fill(tab_w2, TAB_H * TAB_O, -1, 1);
	eval_rand_fill(tab_b2, TAB_O, -0.5, 0.5);
}

static struct ob *b_tabular(void)
{
	static const int64_t dx[] = { TAB_N, TAB_K }, dw1[] = { TAB_K, TAB_H }, db1[] = { TAB_H },
			     dw2[] = { TAB_H, TAB_O }, db2[] = { TAB_O };
	struct ob *b = ob_new(13);

	ob_io(b, 0, "x", 2, dx);
	ob_io(b, 1, "y", -1, NULL);
	ob_const(b, "W1", 2, dw1, tab_w1);
	ob_const(b, "B1", 1, db1, tab_b1);
	ob_const(b, "W2", 2, dw2, tab_w2);
	ob_const(b, "B2", 1, db2, tab_b2);
	ob_node(b, "Gemm", "fc1", "x,W1,B1", "h");
	ob_node(b, "Relu", "relu", "h", "r");
	ob_node(b, "Gemm", "fc2", "r,W2,B2", "y");
	return b;
}

/* At the default 16 fractional bits, within 0.02 of plaintext on every logit. */
TEST(evpool_tabular_raw_features)
{
	static const int64_t dx[] = { TAB_N, TAB_K };
	struct ftensor x = ob_tensor(2, dx, NULL);
	struct model *m;
	float lo = INFINITY, hi = 0;

	tab_data(&x);
	for (int i = 0; i < TAB_K * TAB_H; i++) {
		lo = fminf(lo, fabsf(tab_w1[i]));
		hi = fmaxf(hi, fabsf(tab_w1[i]));
	}
	ASSERT(hi > 100 && hi / fmaxf(lo, 1e-12f) > 1e5); /* the span the issue names */
	compare("tabular model on raw features", b_tabular, &x, 0.02);
	/* The first layer's published bound covers its weights: sum |w| per output <= 2^e. */
	m = ob_load(b_tabular());
	model_weight_exps(m);
	for (int h = 0; h < TAB_H; h++) {
		double l1 = 0;

		for (int j = 0; j < TAB_K; j++)
			l1 += fabs(tab_w1[j * TAB_H + h]);
		ASSERT(l1 <= ldexp(1.0, m->nodes[0].wexp[0]));
	}
	ASSERT(m->nodes[0].wexp[1] != MODEL_WEXP_UNSET && m->nodes[2].wexp[0] != MODEL_WEXP_UNSET);
	model_free(m);
	ftensor_free(&x);
	return 0;
}

/* The magnitudes' text: what the owner sends, read back exactly; junk refused by name. */
TEST(evpool_weight_exps_text)
{
	static const char *const bad[] = { "0:1", "0:1:2;", "3:1:2", "0:1:2;0:1:2", "x", "0:1:9999",
					   "1:3:4", "0:1024:0", "-1:1:2" };
	static const int64_t dx[] = { TAB_N, TAB_K };
	struct ftensor x = ob_tensor(2, dx, NULL);
	struct model *m, *o;
	char *t;

	tab_data(&x);
	m = ob_load(b_tabular());
	o = ob_load(b_tabular());
	model_weight_exps(m);
	ASSERT(t = model_weight_exps_format(m));
	ASSERT_OK(model_weight_exps_parse(o, t));
	for (size_t k = 0; k < m->n_nodes; k++) {
		ASSERT_EQ(m->nodes[k].wexp[0], o->nodes[k].wexp[0]);
		ASSERT_EQ(m->nodes[k].wexp[1], o->nodes[k].wexp[1]);
	}
	free(t);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (model_weight_exps_parse(o, bad[i]) != MPC_E_FORMAT)
			TEST_FAIL("'%s' accepted", bad[i]);
	ASSERT_FAIL(model_weight_exps_parse(o, "1:3:4"), MPC_E_FORMAT,
		    "node 'relu' (Relu), not a linear layer");
	ASSERT_OK(model_weight_exps_parse(o, ""));
	ASSERT_EQ(o->nodes[0].wexp[0], MODEL_WEXP_UNSET);
	model_free(m);
	model_free(o);
	ftensor_free(&x);
	return 0;
}

/* ---- Softmax on any axis, both semantics; LogSoftmax ---- */

static struct ob *softmax_node(int opset, const char *op, int ndim, const int64_t *dx, int axis)
{
	struct ob *b = ob_new(opset);
	Mpconnx__NodeProto *n;

	ob_io(b, 0, "x", ndim, dx);
	ob_io(b, 1, "y", -1, NULL);
	n = ob_node(b, op, "sm", "x", "y");
	if (axis != 99)
		ob_i(b, n, "axis", axis);
	return b;
}

/* x = ln [1 2; 3 4] as [1, 2, 2]: opset 11 axis 1 flattens (1..4)/10; opset 13 takes columns. */
TEST(evpool_ref_softmax_axes)
{
	static const int64_t dx[] = { 1, 2, 2 };
	float x[4], flat[4], cols[4], lflat[4], lcols[4];
	static const float c4[4] = { 1.0f / 4, 2.0f / 6, 3.0f / 4, 4.0f / 6 };

	for (int i = 0; i < 4; i++) {
		x[i] = logf((float)(i + 1));
		flat[i] = (float)(i + 1) / 10;
		lflat[i] = logf(flat[i]);
		cols[i] = c4[i];
		lcols[i] = logf(c4[i]);
	}
	ob_run1(ob_load(softmax_node(11, "Softmax", 3, dx, 1)), 3, dx, x, 3, dx, flat);
	ob_run1(ob_load(softmax_node(11, "LogSoftmax", 3, dx, 99)), 3, dx, x, 3, dx, lflat);
	ob_run1(ob_load(softmax_node(13, "Softmax", 3, dx, 1)), 3, dx, x, 3, dx, cols);
	ob_run1(ob_load(softmax_node(13, "LogSoftmax", 3, dx, -2)), 3, dx, x, 3, dx, lcols);
	return 0;
}

static struct ob *b_sm11(void)
{
	static const int64_t dx[] = { 3, 4, 5 };

	return softmax_node(11, "Softmax", 3, dx, 1);
}

static struct ob *b_lsm11(void)
{
	static const int64_t dx[] = { 3, 4, 5 };

	return softmax_node(11, "LogSoftmax", 3, dx, 99);
}

static struct ob *b_sm13_mid(void)
{
	static const int64_t dx[] = { 3, 4, 5 };

	return softmax_node(13, "Softmax", 3, dx, 1);
}

static struct ob *b_lsm13_mid(void)
{
	static const int64_t dx[] = { 3, 4, 5 };

	return softmax_node(13, "LogSoftmax", 3, dx, -2);
}

static struct ob *b_lsm13_last(void)
{
	static const int64_t dx[] = { 3, 4, 5 };

	return softmax_node(17, "LogSoftmax", 3, dx, 99);
}

TEST(evpool_secure_softmax_axes)
{
	static const int64_t dx[] = { 3, 4, 5 };
	struct ftensor x = ob_tensor(3, dx, NULL);

	eval_rand_fill(x.data, x.n, -6, 6);
	compare("opset 11 Softmax, axis 1 (20 per row)", b_sm11, &x, 3e-3);
	compare("opset 11 LogSoftmax, default axis 1", b_lsm11, &x, 1e-2);
	compare("opset 13 Softmax, middle axis", b_sm13_mid, &x, 3e-3);
	compare("opset 13 LogSoftmax, axis -2", b_lsm13_mid, &x, 1e-2);
	compare("opset 17 LogSoftmax, default last axis", b_lsm13_last, &x, 1e-2);
	ftensor_free(&x);
	return 0;
}

/*
 * The owner bounds the weights before BatchNormalization is folded: the
 * bounds must be those of the folded weights the evaluator then shares.
 */
TEST(evpool_weight_exps_folded)
{
	static const char *const fx[] = { "digits_bn_softmax", "tiny_cnn", "digits_resavg" };

	for (size_t f = 0; f < sizeof(fx) / sizeof(fx[0]); f++) {
		char p[256];
		struct model *m = NULL;
		struct ftensor x;
		int (*e)[2];
		int folded = 0, set = 0;

		snprintf(p, sizeof(p), "%s/model.onnx", fx[f]);
		ASSERT_OK(model_load_onnx(test_fixture(p), &m));
		snprintf(p, sizeof(p), "%s/input.npy", fx[f]);
		ASSERT_OK(npy_load(test_fixture(p), &x));
		model_weight_exps(m);
		ASSERT_OK(model_infer(m, (const int64_t(*)[FT_MAX_DIMS])x.dims, &x.ndim));
		for (size_t k = 0; k < m->n_nodes; k++)
			folded += m->nodes[k].op == MOP_BATCHNORM &&
				  model_fold_target(m, &m->nodes[k]) != NULL;
		ASSERT_OK(eval_fold_batchnorm(m));
		ASSERT(e = calloc(m->n_nodes, sizeof(*e)));
		model_weight_exps_of(m, e);
		for (size_t k = 0; k < m->n_nodes; k++) {
			ASSERT_EQ(e[k][0], m->nodes[k].wexp[0]);
			ASSERT_EQ(e[k][1], m->nodes[k].wexp[1]);
			set += e[k][0] != MODEL_WEXP_UNSET;
		}
		fprintf(stderr, "# %s: %d layers with weight scales, %d BatchNorm folded\n", fx[f],
			set, folded);
		ASSERT(set > 0);
		free(e);
		ftensor_free(&x);
		model_free(m);
	}
	return 0;
}

/*
 * Values with different extra bits meet: a computed Gemm bias (small
 * weights, many bits) under a Gemm with large weights (few), an Add and a
 * Concat of both, a MaxPool-free ReLU and a Flatten passing them on.
 */
static float mix_w1[6 * 4], mix_w2[6 * 4];

static struct ob *b_mixed_bits(void)
{
	static const int64_t dx[] = { 5, 6 }, dw[] = { 6, 4 };
	struct ob *b = ob_new(13);
	Mpconnx__NodeProto *n;

	ob_io(b, 0, "x", 2, dx);
	ob_io(b, 1, "y", -1, NULL);
	ob_const(b, "W1", 2, dw, mix_w1);
	ob_const(b, "W2", 2, dw, mix_w2);
	ob_node(b, "Gemm", "small", "x,W1", "h");
	ob_node(b, "Gemm", "large", "x,W2,h", "g");
	ob_node(b, "Add", "add", "g,h", "s");
	ob_node(b, "Relu", "relu", "h", "r");
	ob_node(b, "Flatten", "fl", "r", "f");
	n = ob_node(b, "Concat", "cat", "s,f,h", "y");
	ob_i(b, n, "axis", 1);
	return b;
}

TEST(evpool_mixed_bits)
{
	static const int64_t dx[] = { 5, 6 };
	struct ftensor x = ob_tensor(2, dx, NULL);

	eval_rand_fill(x.data, x.n, -3, 3);
	eval_rand_fill(mix_w1, 24, -1e-3, 1e-3);
	eval_rand_fill(mix_w2, 24, -50, 50);
	compare("extra bits meeting in Gemm's bias, Add, Concat", b_mixed_bits, &x, 0.02);
	ftensor_free(&x);
	return 0;
}

/*
 * The same model with the standardisation as its own layers, (x - mean) *
 * (1 / sd): the Mul's weights span 3e-4 .. 3e2 (at 16 bits 3e-4 is 22
 * units, 2 % off).
 */
static float std_mu[TAB_K], std_inv[TAB_K], std_w0[TAB_K * TAB_H], std_b0[TAB_H];

static struct ob *b_standardised(void)
{
	static const int64_t dx[] = { TAB_N, TAB_K }, dk[] = { TAB_K }, dw1[] = { TAB_K, TAB_H },
			     db1[] = { TAB_H }, dw2[] = { TAB_H, TAB_O }, db2[] = { TAB_O };
	struct ob *b = ob_new(13);

	ob_io(b, 0, "x", 2, dx);
	ob_io(b, 1, "y", -1, NULL);
	ob_const(b, "mu", 1, dk, std_mu);
	ob_const(b, "inv_sd", 1, dk, std_inv);
	ob_const(b, "W1", 2, dw1, std_w0);
	ob_const(b, "B1", 1, db1, std_b0);
	ob_const(b, "W2", 2, dw2, tab_w2);
	ob_const(b, "B2", 1, db2, tab_b2);
	ob_node(b, "Sub", "center", "x,mu", "c");
	ob_node(b, "Mul", "scale", "c,inv_sd", "z");
	ob_node(b, "Gemm", "fc1", "z,W1,B1", "h");
	ob_node(b, "Relu", "relu", "h", "r");
	ob_node(b, "Gemm", "fc2", "r,W2,B2", "y");
	return b;
}

TEST(evpool_standardise_layer)
{
	static const int64_t dx[] = { TAB_N, TAB_K };
	struct ftensor x = ob_tensor(2, dx, NULL);

	tab_data(&x);
	for (int j = 0; j < TAB_K; j++) {
		double mag = pow(10.0, -2.0 + 6.0 * j / (TAB_K - 1));

		std_mu[j] = (float)mag;
		std_inv[j] = (float)(1.0 / (mag * 0.5 / sqrt(3.0)));
	}
	eval_rand_fill(std_w0, TAB_K * TAB_H, -1, 1);
	eval_rand_fill(std_b0, TAB_H, -0.5, 0.5);
	compare("(x - mean) / sd on raw features, then an MLP", b_standardised, &x, 0.02);
	ftensor_free(&x);
	return 0;
}

/* Mul's magnitude goes out and comes back like a Gemm's (the owner's max |1/sd|). */
TEST(evpool_weight_exps_mul)
{
	struct model *m, *o;
	char *t;

	for (int j = 0; j < TAB_K; j++)
		std_inv[j] = (float)(1.0 / (0.29 * pow(10.0, -2.0 + 6.0 * j / (TAB_K - 1))));
	m = ob_load(b_standardised());
	o = ob_load(b_standardised());
	model_weight_exps(m);
	ASSERT_EQ(m->nodes[1].wexp[0], 9); /* max 1/sd = 345 <= 2^9 */
	ASSERT_EQ(m->nodes[0].wexp[0], MODEL_WEXP_UNSET); /* Sub: none */
	ASSERT(t = model_weight_exps_format(m));
	ASSERT_OK(model_weight_exps_parse(o, t));
	for (size_t k = 0; k < m->n_nodes; k++) {
		ASSERT_EQ(m->nodes[k].wexp[0], o->nodes[k].wexp[0]);
		ASSERT_EQ(m->nodes[k].wexp[1], o->nodes[k].wexp[1]);
	}
	free(t);
	model_free(m);
	model_free(o);
	return 0;
}

/*
 * The standardisation as a BatchNormalization of the raw inputs (a
 * PyTorch BatchNorm1d in front of an MLP): not foldable, so a per-channel
 * y = a x + b with a from 3e-4 to 3e2.
 */
static float bn_scale[TAB_K], bn_bias[TAB_K], bn_mean[TAB_K], bn_var[TAB_K];

static struct ob *b_bn_input(void)
{
	static const int64_t dx[] = { TAB_N, TAB_K }, dk[] = { TAB_K }, dw1[] = { TAB_K, TAB_H },
			     db1[] = { TAB_H }, dw2[] = { TAB_H, TAB_O }, db2[] = { TAB_O };
	struct ob *b = ob_new(13);

	ob_io(b, 0, "x", 2, dx);
	ob_io(b, 1, "y", -1, NULL);
	ob_const(b, "s", 1, dk, bn_scale);
	ob_const(b, "b", 1, dk, bn_bias);
	ob_const(b, "m", 1, dk, bn_mean);
	ob_const(b, "v", 1, dk, bn_var);
	ob_const(b, "W1", 2, dw1, std_w0);
	ob_const(b, "B1", 1, db1, std_b0);
	ob_const(b, "W2", 2, dw2, tab_w2);
	ob_const(b, "B2", 1, db2, tab_b2);
	ob_node(b, "BatchNormalization", "bn", "x,s,b,m,v", "z");
	ob_node(b, "Gemm", "fc1", "z,W1,B1", "h");
	ob_node(b, "Relu", "relu", "h", "r");
	ob_node(b, "Gemm", "fc2", "r,W2,B2", "y");
	return b;
}

TEST(evpool_batchnorm_input)
{
	static const int64_t dx[] = { TAB_N, TAB_K };
	struct ftensor x = ob_tensor(2, dx, NULL);

	tab_data(&x);
	for (int j = 0; j < TAB_K; j++) {
		double mag = pow(10.0, -2.0 + 6.0 * j / (TAB_K - 1)), sd = mag * 0.5 / sqrt(3.0);

		bn_mean[j] = (float)mag;
		bn_var[j] = (float)(sd * sd);
		eval_rand_fill(&bn_scale[j], 1, 0.5, 1.5);
		eval_rand_fill(&bn_bias[j], 1, -0.5, 0.5);
	}
	eval_rand_fill(std_w0, TAB_K * TAB_H, -1, 1);
	eval_rand_fill(std_b0, TAB_H, -0.5, 0.5);
	compare("BatchNormalization of raw features, then an MLP", b_bn_input, &x, 0.02);
	ftensor_free(&x);
	return 0;
}

/* ---- Pad (PyTorch exports AvgPool with count_include_pad as Pad + AveragePool) ---- */

static struct ob *pad_model(int opset, int ndim, const int64_t *dx, int np, const int64_t *pads,
			    int with_value, float value)
{
	static float v[1];
	struct ob *b = ob_new(opset);
	Mpconnx__NodeProto *n;

	v[0] = value;
	ob_io(b, 0, "x", ndim, dx);
	ob_io(b, 1, "y", -1, NULL);
	ob_shape_const(b, "pads", np, pads);
	if (with_value) {
		static const int64_t d1[] = { 1 };

		ob_const(b, "cv", 0, d1, v);
	}
	n = ob_node(b, "Pad", "pad", with_value ? "x,pads,cv" : "x,pads", "y");
	ob_s(b, n, "mode", "constant");
	return b;
}

TEST(evpool_ref_pad)
{
	static const float x[] = { 1, 2, 3, 4, 5, 6 };
	/* [1, 2, 3] padded by (0, 1, 2) before and (0, 0, 1) after: [1, 3, 6]. */
	static const float y[] = { 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 0, 0, 0, 4, 5, 6, 0 };
	static const int64_t dx[] = { 1, 2, 3 }, dy[] = { 1, 3, 6 }, pads[] = { 0, 1, 2, 0, 0, 1 },
			     rows[] = { 1, 0, 0, 0, 0, 0 }, neg[] = { 0, -1, 0, 0, 0, 0 };
	struct model *m = NULL;
	struct ob *b;
	int nd = 3;

	ob_run1(ob_load(pad_model(13, 3, dx, 6, pads, 1, 0.0f)), 3, dx, x, 3, dy, y);
	b = pad_model(13, 3, dx, 6, pads, 1, 1.0f);
	ASSERT_FAIL(ob_parse(b, &m), MPC_E_UNSUPPORTED, "node 'pad' (Pad): constant_value must be a constant 0");
	ob_free(b);
	for (int k = 0; k < 2; k++) {
		m = ob_load(pad_model(13, 3, dx, 6, k ? neg : rows, 0, 0));
		ASSERT_FAIL(model_infer(m, (const int64_t(*)[FT_MAX_DIMS])dx, &nd), MPC_E_UNSUPPORTED,
			    k ? "cropping" : "axis 0");
		model_free(m);
	}
	return 0;
}

/* What PyTorch 1.13 writes for AvgPool2d(3, 2, padding=1): Pad, then AveragePool. */
static struct ob *b_torch_avgpool(void)
{
	static const int64_t dx[] = { 2, 3, 7, 6 }, pads[] = { 0, 0, 1, 1, 0, 0, 1, 1 };
	struct ob *b = ob_new(13);
	Mpconnx__NodeProto *n;

	ob_io(b, 0, "x", 4, dx);
	ob_io(b, 1, "y", -1, NULL);
	ob_shape_const(b, "pads", 8, pads);
	n = ob_node(b, "Pad", "pad", "x,pads", "p");
	ob_s(b, n, "mode", "constant");
	n = ob_node(b, "AveragePool", "ap", "p", "y");
	ob_ints(b, n, "kernel_shape", 2, 3, 3, 0, 0);
	ob_ints(b, n, "strides", 2, 2, 2, 0, 0);
	ob_i(b, n, "ceil_mode", 1);
	return b;
}

TEST(evpool_secure_pad)
{
	static const int64_t dx[] = { 2, 3, 7, 6 };
	struct ftensor x = ob_tensor(4, dx, NULL);
	struct ob *b = b_torch_avgpool();
	struct model *own = NULL, *other = NULL;
	const char *data[1] = { "x" };
	uint8_t *buf, *pub = NULL;
	size_t len, plen;
	int nd = 4;

	eval_rand_fill(x.data, x.n, -10, 10);
	compare("Pad + AveragePool (PyTorch's AvgPool2d with padding)", b_torch_avgpool, &x, 1e-3);
	/* The pads travel in the public graph like Reshape's shape: the others infer the same shapes. */
	buf = ob_pack(b, &len);
	ob_free(b);
	ASSERT_OK(model_parse_onnx(buf, len, "pad.onnx", &own));
	ASSERT_OK(model_public_graph(buf, len, own, &pub, &plen));
	ASSERT_OK(model_parse_onnx(pub, plen, "public", &other));
	ASSERT_OK(model_declare_weights(other, data, 1));
	ASSERT_OK(model_infer(own, (const int64_t(*)[FT_MAX_DIMS])dx, &nd));
	ASSERT_OK(model_infer(other, (const int64_t(*)[FT_MAX_DIMS])dx, &nd));
	for (size_t i = 0; i < own->n_nodes; i++)
		for (int d = 0; d < 4; d++)
			ASSERT_EQ(own->values[own->nodes[i].out].dims[d],
				  other->values[other->nodes[i].out].dims[d]);
	model_free(own);
	model_free(other);
	free(buf);
	free(pub);
	ftensor_free(&x);
	return 0;
}

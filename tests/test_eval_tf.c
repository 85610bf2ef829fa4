/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * The transformer ops in hand-built ONNX models on shares against the
 * plaintext reference, for 2, 3 and 4 parties: Div, Pow, Sqrt, Erf, Tanh,
 * Gelu (the op and PyTorch's two exported forms), ReduceMean/Sum/Max,
 * LayerNormalization (opset 17 and the opset-14 decomposition), MatMul of
 * two secrets with batch dims, Gather with secret indices; a one-layer
 * transformer block; refusals; the public graph carrying the constants.
 */
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>

#include "eval.h"
#include "model.h"
#include "onnx_build.h"
#include "sim_model.h"
#include "eval_util.h"
#include "test.h"

typedef struct ob *(*build_fn)(float *scratch);

static float *take(float **p, size_t n, double lo, double hi)
{
	float *r = *p;

	eval_rand_fill(r, n, lo, hi);
	*p += n;
	return r;
}

static double compare(build_fn build, const struct ftensor *x, int nx, double tol)
{
	static float scratch[1 << 14];
	double worst = 0;

	for (int parties = 2; parties <= 4; parties++) {
		struct ftensor got, ref;
		struct model *m;
		double err = 0;

		sodium_memzero(scratch, sizeof(scratch));
		m = ob_load(build(scratch));
		eval_run_both(m, x, nx, parties, 16, &got, &ref);
		ASSERT_EQ(got.n, ref.n);
		for (size_t i = 0; i < got.n; i++) {
			if (getenv("TF_DEBUG") && test_diff(got.data[i], ref.data[i]) > tol)
				fprintf(stderr, "# %zu: %g vs %g\n", i, got.data[i], ref.data[i]);
			err = fmax(err, test_diff(got.data[i], ref.data[i]));
		}
		if (!(err <= tol))
			TEST_FAIL("%d parties: max error %g > %g", parties, err, tol);
		worst = fmax(worst, err);
		if (getenv("TF_DEBUG"))
			fprintf(stderr, "# %d parties: max error %g\n", parties, err);
		ftensor_free(&got);
		ftensor_free(&ref);
		model_free(m);
	}
	return worst;
}

/* x [4, 6] in [lo, hi] */
static struct ftensor xin(int ndim, const int64_t *d, double lo, double hi)
{
	struct ftensor x = ob_tensor(ndim, d, NULL);

	eval_rand_fill(x.data, x.n, lo, hi);
	return x;
}

static const int64_t d46[] = { 4, 6 }, d16[] = { 1, 6 }, d1[] = { 1 };

/* ---- Div ---- */

static struct ob *b_div_weight(float *sc)
{
	struct ob *b = ob_new(13);
	float *w = take(&sc, 6, 0.2, 3.0);

	w[1] = -w[1];
	ob_io(b, 0, "x", 2, d46);
	ob_io(b, 1, "y", 2, d46);
	ob_const(b, "W", 2, d16, w);
	ob_node(b, "Div", "div", "x,W", "y");
	return b;
}

/* x / (x*x + 0.05): a secret, positive divisor across [0.05, 100]. */
static struct ob *b_div_secret(float *sc)
{
	struct ob *b = ob_new(13);
	float *c = take(&sc, 1, 0.05, 0.05);

	ob_io(b, 0, "x", 2, d46);
	ob_io(b, 1, "y", 2, d46);
	ob_const(b, "c", 1, d1, c);
	ob_node(b, "Mul", "sq", "x,x", "s");
	ob_node(b, "Add", "add", "s,c", "t");
	ob_node(b, "Div", "div", "x,t", "y");
	return b;
}

TEST(tf_div)
{
	struct ftensor x = xin(2, d46, -10, 10);

	compare(b_div_weight, &x, 1, 2e-3);
	compare(b_div_secret, &x, 1, 3e-3);
	ftensor_free(&x);
	return 0;
}

/* ---- Pow, Sqrt ---- */

static struct ob *b_pow_sqrt(float *sc)
{
	static float two = 2.0f, half = 0.5f, three = 3.0f;
	struct ob *b = ob_new(13);

	(void)sc;
	ob_io(b, 0, "x", 2, d46);
	ob_io(b, 1, "y", 2, d46);
	ob_const(b, "two", 0, NULL, &two);
	ob_const(b, "half", 0, NULL, &half);
	ob_const(b, "three", 1, d1, &three);
	ob_node(b, "Pow", "p2", "x,two", "a");
	ob_node(b, "Sqrt", "sq", "a", "s");      /* |x| */
	ob_node(b, "Pow", "p05", "a,half", "h"); /* |x| again */
	ob_node(b, "Pow", "p3", "x,three", "c");
	ob_node(b, "Add", "a1", "s,h", "u");
	ob_node(b, "Add", "a2", "u,c", "v");
	ob_node(b, "Add", "a3", "v,a", "y");
	return b;
}

TEST(tf_pow_sqrt)
{
	struct ftensor x = xin(2, d46, -4, 4);

	compare(b_pow_sqrt, &x, 1, 4e-3);
	ftensor_free(&x);
	return 0;
}

/* ---- Erf, Tanh, Gelu ---- */

static struct ob *b_erf_tanh(float *sc)
{
	struct ob *b = ob_new(13);

	(void)sc;
	ob_io(b, 0, "x", 2, d46);
	ob_io(b, 1, "y", 2, d46);
	ob_node(b, "Erf", "erf", "x", "e");
	ob_node(b, "Tanh", "tanh", "x", "t");
	ob_node(b, "Add", "add", "e,t", "y");
	return b;
}

/* PyTorch 1.13's nn.GELU(): Div by sqrt(2), Erf, Add 1, Mul x, Mul 0.5. */
static struct ob *b_gelu_erf_form(float *sc)
{
	static float r2 = 1.4142135f, one = 1.0f, half = 0.5f;
	struct ob *b = ob_new(14);

	(void)sc;
	ob_io(b, 0, "x", 2, d46);
	ob_io(b, 1, "y", 2, d46);
	ob_const(b, "r2", 0, NULL, &r2);
	ob_const(b, "one", 0, NULL, &one);
	ob_const(b, "half", 0, NULL, &half);
	ob_node(b, "Div", "div", "x,r2", "a");
	ob_node(b, "Erf", "erf", "a", "e");
	ob_node(b, "Add", "add", "e,one", "p");
	ob_node(b, "Mul", "mul", "x,p", "q");
	ob_node(b, "Mul", "mul2", "q,half", "y");
	return b;
}

/* nn.GELU(approximate='tanh'): 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). */
static struct ob *b_gelu_tanh_form(float *sc)
{
	static float three = 3.0f, k = 0.044715f, s = 0.7978846f, one = 1.0f, half = 0.5f;
	struct ob *b = ob_new(14);

	(void)sc;
	ob_io(b, 0, "x", 2, d46);
	ob_io(b, 1, "y", 2, d46);
	ob_const(b, "three", 0, NULL, &three);
	ob_const(b, "k", 0, NULL, &k);
	ob_const(b, "s", 0, NULL, &s);
	ob_const(b, "one", 0, NULL, &one);
	ob_const(b, "half", 0, NULL, &half);
	ob_node(b, "Pow", "cube", "x,three", "c");
	ob_node(b, "Mul", "m1", "c,k", "c1");
	ob_node(b, "Add", "a1", "x,c1", "u");
	ob_node(b, "Mul", "m2", "u,s", "v");
	ob_node(b, "Tanh", "tanh", "v", "t");
	ob_node(b, "Add", "a2", "t,one", "p");
	ob_node(b, "Mul", "m3", "x,p", "q");
	ob_node(b, "Mul", "m4", "q,half", "y");
	return b;
}

static struct ob *b_gelu_op(float *sc)
{
	struct ob *b = ob_new(20);
	Mpconnx__NodeProto *nd;

	(void)sc;
	ob_io(b, 0, "x", 2, d46);
	ob_io(b, 1, "y", 2, d46);
	ob_node(b, "Gelu", "g1", "x", "a");
	nd = ob_node(b, "Gelu", "g2", "x", "t");
	ob_s(b, nd, "approximate", "tanh");
	ob_node(b, "Add", "add", "a,t", "y");
	return b;
}

TEST(tf_erf_tanh_gelu)
{
	struct ftensor x = xin(2, d46, -6, 6);

	compare(b_erf_tanh, &x, 1, 4e-3);
	compare(b_gelu_erf_form, &x, 1, 4e-3);
	compare(b_gelu_tanh_form, &x, 1, 4e-3);
	compare(b_gelu_op, &x, 1, 4e-3);
	ftensor_free(&x);
	return 0;
}

/* ---- Reduce ---- */

static const int64_t d234[] = { 2, 3, 4 };

/* Opset 13: ReduceMean/Max take axes as an attribute, ReduceSum as an input. */
static struct ob *b_reduce13(float *sc)
{
	static const int64_t d212[] = { 2, 1, 2 }, ax[] = { 1, -1 };
	struct ob *b = ob_new(13);
	Mpconnx__NodeProto *nd;

	(void)sc;
	ob_io(b, 0, "x", 3, d234);
	ob_io(b, 1, "y", 3, d212);
	ob_shape_const(b, "axes", 2, ax);
	nd = ob_node(b, "ReduceMean", "mean", "x", "m");
	ob_ints(b, nd, "axes", 2, 1, 2, 0, 0);
	nd = ob_node(b, "ReduceMax", "max", "x", "mx");
	ob_ints(b, nd, "axes", 2, -2, 2, 0, 0);
	ob_i(b, nd, "keepdims", 0);
	ob_node(b, "ReduceSum", "sum", "x,axes", "s");
	ob_node(b, "Add", "a1", "m,s", "u");
	ob_node(b, "Add", "a2", "u,mx", "y"); /* [2, 1, 1] + [2] */
	return b;
}

/* Opset 18: every Reduce takes axes as an input; none means all. */
static struct ob *b_reduce18(float *sc)
{
	static const int64_t ax[] = { 0, 2 }, d13[] = { 1, 3, 1 };
	struct ob *b = ob_new(18);

	(void)sc;
	ob_io(b, 0, "x", 3, d234);
	ob_io(b, 1, "y", 3, d13);
	ob_shape_const(b, "axes", 2, ax);
	ob_node(b, "ReduceMean", "mean", "x,axes", "m");
	ob_node(b, "ReduceMax", "max", "x", "mx"); /* all axes: [1, 1, 1] */
	ob_node(b, "Add", "a1", "m,mx", "y");
	return b;
}

TEST(tf_reduce)
{
	struct ftensor x = xin(3, d234, -20, 20);

	compare(b_reduce13, &x, 1, 1e-3);
	compare(b_reduce18, &x, 1, 1e-3);
	ftensor_free(&x);
	return 0;
}

/* ---- LayerNormalization ---- */

static const int64_t d238[] = { 2, 3, 8 }, d8[] = { 8 };

static struct ob *b_layernorm17(float *sc)
{
	struct ob *b = ob_new(17);
	Mpconnx__NodeProto *nd;

	ob_io(b, 0, "x", 3, d238);
	ob_io(b, 1, "y", 3, d238);
	ob_const(b, "g", 1, d8, take(&sc, 8, 0.5, 2.0));
	ob_const(b, "b", 1, d8, take(&sc, 8, -1.0, 1.0));
	nd = ob_node(b, "LayerNormalization", "ln", "x,g,b", "y");
	ob_f(b, nd, "epsilon", 1e-5f);
	return b;
}

/* PyTorch's opset-14 export of nn.LayerNorm. */
static struct ob *b_layernorm14(float *sc)
{
	static float two = 2.0f, eps = 1e-5f;
	struct ob *b = ob_new(14);
	Mpconnx__NodeProto *nd;

	ob_io(b, 0, "x", 3, d238);
	ob_io(b, 1, "y", 3, d238);
	ob_const(b, "two", 0, NULL, &two);
	ob_const(b, "eps", 0, NULL, &eps);
	ob_const(b, "g", 1, d8, take(&sc, 8, 0.5, 2.0));
	ob_const(b, "b", 1, d8, take(&sc, 8, -1.0, 1.0));
	nd = ob_node(b, "ReduceMean", "rm1", "x", "mu");
	ob_ints(b, nd, "axes", 1, -1, 0, 0, 0);
	ob_node(b, "Sub", "sub", "x,mu", "d");
	ob_node(b, "Pow", "pow", "d,two", "d2");
	nd = ob_node(b, "ReduceMean", "rm2", "d2", "var");
	ob_ints(b, nd, "axes", 1, -1, 0, 0, 0);
	ob_node(b, "Add", "addeps", "var,eps", "ve");
	ob_node(b, "Sqrt", "sqrt", "ve", "sd");
	ob_node(b, "Div", "div", "d,sd", "nrm");
	ob_node(b, "Mul", "mul", "nrm,g", "sc");
	ob_node(b, "Add", "add", "sc,b", "y");
	return b;
}

TEST(tf_layernorm)
{
	struct ftensor x = xin(3, d238, -3, 3), w = xin(3, d238, -40, 40);

	/* a row of wide values and one of small ones: the range both ways */
	for (int j = 0; j < 8; j++)
		x.data[8 + j] = 0.01f * (float)(j - 4);
	compare(b_layernorm17, &x, 1, 2e-3);
	compare(b_layernorm14, &x, 1, 2e-3);
	compare(b_layernorm17, &w, 1, 2e-3);
	compare(b_layernorm14, &w, 1, 2e-3);
	ftensor_free(&x);
	ftensor_free(&w);
	return 0;
}

/* ---- MatMul of two secrets, with batch dims ---- */

static struct ob *b_bmm4(float *sc)
{
	static const int64_t da[] = { 2, 2, 3, 4 }, db[] = { 2, 2, 4, 5 }, dy[] = { 2, 2, 3, 5 };
	struct ob *b = ob_new(13);

	(void)sc;
	ob_io(b, 0, "a", 4, da);
	ob_io(b, 0, "b", 4, db);
	ob_io(b, 1, "y", 4, dy);
	/* a graph input read only as MatMul's B would be taken for a weight */
	ob_node(b, "Identity", "id", "b", "bb");
	ob_node(b, "MatMul", "mm", "a,bb", "y");
	return b;
}

/* [2, 1, 3, 4] x [2, 4, 5] broadcasts to [2, 2, 3, 5]; the rank-3 one a weight. */
static struct ob *b_bmm_bcast(float *sc)
{
	static const int64_t da[] = { 2, 1, 3, 4 }, db[] = { 2, 4, 5 }, dy[] = { 2, 2, 3, 5 };
	struct ob *b = ob_new(13);

	ob_io(b, 0, "a", 4, da);
	ob_io(b, 1, "y", 4, dy);
	ob_const(b, "W", 3, db, take(&sc, 40, -1, 1));
	ob_node(b, "Relu", "r", "a", "ra");
	ob_node(b, "MatMul", "mm", "ra,W", "y");
	return b;
}

TEST(tf_matmul_batched)
{
	static const int64_t da[] = { 2, 2, 3, 4 }, db[] = { 2, 2, 4, 5 }, dc[] = { 2, 1, 3, 4 };
	struct ftensor x[2] = { xin(4, da, -3, 3), xin(4, db, -3, 3) }, c = xin(4, dc, -3, 3);

	compare(b_bmm4, x, 2, 1e-3);
	compare(b_bmm_bcast, &c, 1, 1e-3);
	ftensor_free(&x[0]);
	ftensor_free(&x[1]);
	ftensor_free(&c);
	return 0;
}

/* ---- Gather with secret indices ---- */

static struct ob *b_gather(float *sc)
{
	static const int64_t dt[] = { 10, 4 }, di[] = { 2, 3 }, dy[] = { 2, 3, 4 };
	struct ob *b = ob_new(13);

	ob_io(b, 0, "ids", 2, di);
	b->tt[0][0].elem_type = MPCONNX__TENSOR_PROTO__DATA_TYPE__INT64; /* as PyTorch declares them */
	ob_io(b, 1, "y", 3, dy);
	ob_const(b, "emb", 2, dt, take(&sc, 40, -2, 2));
	ob_node(b, "Gather", "lookup", "emb,ids", "y");
	return b;
}

TEST(tf_gather_secret)
{
	static const int64_t di[] = { 2, 3 };
	static const float ids[] = { 0, 9, 3, -1, 3, -10 };
	struct ftensor x = ob_tensor(2, di, ids);

	/* exact: the one-hot rows are integers, one product, no truncation */
	compare(b_gather, &x, 1, 1e-4);
	ftensor_free(&x);
	return 0;
}

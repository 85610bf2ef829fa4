/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * Issue 10, the graph front end: public integers folded at shape
 * inference (PyTorch's x.view(x.size(0), -1) with a dynamic batch, in
 * chunks of rows), and the data-movement ops (Transpose, Slice, Split,
 * Squeeze, Unsqueeze, Expand, Gather with public indices) in plaintext
 * against hand-computed values and on shares against plaintext for 2, 3
 * and 4 parties. The refusals: test_layout_refuse.c.
 */
#include <math.h>
#include <sodium.h>
#include <string.h>

#include "eval.h"
#include "model.h"
#include "onnx_build.h"
#include "sim_model.h"
#include "test.h"

#define I64 MPCONNX__TENSOR_PROTO__DATA_TYPE__INT64

static const int64_t k_zero = 0, k_one = 1, k_m1[1] = { -1 }, k_ax0[1] = { 0 };
static const int64_t d1[1] = { 1 };

/* An INT64 scalar initializer. */
static void i64_scalar(struct ob *b, const char *name, const int64_t *v)
{
	ob_raw_init(b, name, I64, 0, NULL, v, sizeof(*v));
}

static void fill(struct ftensor *t, double scale)
{
	for (size_t i = 0; i < t->n; i++)
		t->data[i] = (float)(((double)randombytes_random() / 4294967295.0 * 2 - 1) * scale);
}

/*
 * The model from build() on x: plaintext, then on shares for 2, 3 and 4
 * parties in chunks of `chunk` rows (0: one chunk), each within tol of
 * plaintext. The plaintext output is returned.
 */
typedef struct ob *(*build_fn)(void);

static struct ftensor secure_vs_plain(build_fn build, const struct ftensor *x, size_t chunk,
				      double tol)
{
	struct ftensor ref = { 0 };
	int nd = x->ndim;

	for (int parties = 2; parties <= 4; parties++) {
		struct model *m = ob_load(build());
		struct eval_part part = { .owner = 0, .ndim = x->ndim, .data = x->data };
		struct eval_input in = { .n_parts = 1, .axis = 0, .parts = &part };
		struct sim_model s = { .md = m, .n_parties = parties, .frac = 16,
				       .owner = parties - 1, .recipient = 0, .inputs = &in,
				       .chunk_rows = chunk };
		double worst = 0;

		memcpy(part.dims, x->dims, sizeof(part.dims));
		ASSERT_OK(model_infer(m, (const int64_t(*)[FT_MAX_DIMS])x->dims, &nd));
		ftensor_free(&ref);
		ASSERT_OK(model_ref_eval(m, x, &ref));
		model_weight_exps(m); /* as simulate and a daemon's model owner */
		if (sim_model_run(&s) != 0)
			TEST_FAIL("%d parties, chunks of %zu: %s", parties, chunk, s.job.err);
		ASSERT_EQ(s.outs[0].n, ref.n);
		ASSERT_EQ(s.outs[0].ndim, ref.ndim);
		for (size_t i = 0; i < ref.n; i++)
			worst = fmax(worst, test_diff(s.outs[0].data[i], ref.data[i]));
		if (!(worst <= tol))
			TEST_FAIL("%d parties, chunks of %zu: max error %g > %g", parties, chunk,
				  worst, tol);
		sim_model_free(&s);
		model_free(m);
	}
	return ref;
}

/* ---- x.view(x.size(0), -1) as torch.onnx.export writes it, batch dynamic ---- */

static float fc_w[3 * 24];

static struct ob *b_torch_flatten(void)
{
	static const int64_t dx[] = { -1, 2, 3, 4 }, dy[] = { -1, 3 }, dw[] = { 3, 24 };
	struct ob *b = ob_new(13);
	Mpconnx__NodeProto *n;

	ob_io(b, 0, "onnx::Shape_0", 4, dx);
	ob_io(b, 1, "y", 2, dy);
	ob_const(b, "fc.weight", 2, dw, fc_w);
	i64_scalar(b, "c0", &k_zero);
	ob_shape_const(b, "ax0", 1, k_ax0);
	ob_shape_const(b, "m1", 1, k_m1);
	ob_node(b, "Shape", "/Shape", "onnx::Shape_0", "s");
	n = ob_node(b, "Gather", "/Gather", "s,c0", "g");
	ob_i(b, n, "axis", 0);
	ob_node(b, "Unsqueeze", "/Unsqueeze", "g,ax0", "u");
	n = ob_node(b, "Concat", "/Concat", "u,m1", "target");
	ob_i(b, n, "axis", 0);
	ob_node(b, "Reshape", "/Reshape", "onnx::Shape_0,target", "flat");
	n = ob_node(b, "Gemm", "/fc/Gemm", "flat,fc.weight", "y");
	ob_i(b, n, "transB", 1);
	return b;
}

TEST(layout_torch_flatten)
{
	static const int64_t dx[] = { 5, 2, 3, 4 };
	struct ftensor x = ob_tensor(4, dx, NULL), ref;
	struct model *m;
	static const size_t chunks[] = { 0, 2, 1 };

	fill(&x, 2.0);
	for (size_t i = 0; i < sizeof(fc_w) / sizeof(fc_w[0]); i++)
		fc_w[i] = (float)((int)(i * 7 % 11) - 5) / 8.0f;
	/* The shape computation is folded; Reshape and Gemm run on shares. */
	m = ob_load(b_torch_flatten());
	ASSERT_EQ(m->n_inputs, 1);
	ref = ob_eval(m, &x, 1);
	for (size_t k = 0; k < 4; k++)
		ASSERT(m->nodes[k].folded);
	ASSERT(!m->nodes[4].folded && !m->nodes[5].folded);
	ASSERT_EQ(m->nodes[4].shape_n, 2);
	ASSERT_EQ(m->nodes[4].shape[0], 5);
	/* Plaintext: y = flat(x) W^T. */
	for (int r = 0; r < 5; r++)
		for (int o = 0; o < 3; o++) {
			double want = 0;

			for (int j = 0; j < 24; j++)
				want += (double)x.data[r * 24 + j] * fc_w[o * 24 + j];
			ASSERT_NEAR(ref.data[r * 3 + o], want, 1e-4);
		}
	ftensor_free(&ref);
	model_free(m);
	/* Every chunk size folds its own Shape: one chunk, 2+2+1 rows, 1 row each. */
	for (size_t c = 0; c < 3; c++) {
		ref = secure_vs_plain(b_torch_flatten, &x, chunks[c], 0.01);
		ftensor_free(&ref);
	}
	ftensor_free(&x);
	return 0;
}

/* The public graph shows the shape computation's integers, and every party folds alike. */
TEST(layout_public_graph_folds)
{
	static const int64_t dx[] = { 3, 2, 3, 4 };
	const char *data[1] = { "onnx::Shape_0" };
	struct model *own = NULL, *other = NULL;
	struct corr_list a = { 0 }, c = { 0 };
	struct ob *b = b_torch_flatten();
	uint8_t *full, *pub = NULL;
	size_t len, plen;
	int nd = 4;

	for (size_t i = 0; i < sizeof(fc_w) / sizeof(fc_w[0]); i++)
		fc_w[i] = 0.123f + (float)i;
	full = ob_pack(b, &len);
	ASSERT_OK(model_parse_onnx(full, len, "flat.onnx", &own));
	ASSERT_OK(model_public_graph(full, len, own, &pub, &plen));
	ASSERT(!memmem(pub, plen, fc_w, sizeof(fc_w)));
	ASSERT_OK(model_parse_onnx(pub, plen, "public", &other));
	ASSERT_OK(model_declare_weights(other, data, 1));
	ASSERT_OK(model_infer(own, (const int64_t(*)[FT_MAX_DIMS])dx, &nd));
	ASSERT_OK(model_infer(other, (const int64_t(*)[FT_MAX_DIMS])dx, &nd));
	ASSERT_EQ(other->n_nodes, own->n_nodes);
	for (size_t k = 0; k < own->n_nodes; k++)
		ASSERT_EQ(other->nodes[k].folded, own->nodes[k].folded);
	ASSERT_EQ(other->nodes[4].shape[0], 3);
	ASSERT_OK(eval_need(own, 16, &a));
	ASSERT_OK(eval_need(other, 16, &c));
	ASSERT_EQ(a.n, c.n);
	for (size_t i = 0; i < a.n; i++)
		ASSERT(corr_req_same(&a.v[i], &c.v[i]));
	corr_list_free(&a);
	corr_list_free(&c);
	model_free(own);
	model_free(other);
	free(pub);
	free(full);
	ob_free(b);
	return 0;
}

/* ---- data movement, plaintext against hand-computed values ---- */

/* x [2, 3, 4] = 0..23 through one node (ins "x,..."), output y. */
static struct ftensor one_op(struct ob *b, const int64_t *dy, int ndy)
{
	static const int64_t dx[] = { 2, 3, 4 };
	struct ftensor x = ob_tensor(3, dx, NULL), y;
	struct model *m;

	for (size_t i = 0; i < x.n; i++)
		x.data[i] = (float)i;
	ob_io(b, 0, "x", 3, dx);
	ob_io(b, 1, "y", ndy, dy);
	m = ob_load(b);
	y = ob_eval(m, &x, 1);
	model_free(m);
	ftensor_free(&x);
	return y;
}

static void expect(const struct ftensor *y, int ndim, const int64_t *dims, const float *want)
{
	ob_expect(y, ndim, dims, want, 0);
}

TEST(layout_plain_values)
{
	struct ob *b;
	struct ftensor y;
	Mpconnx__NodeProto *n;

	/* Transpose perm [2, 0, 1]: y[k][i][j] = x[i][j][k]. */
	{
		static const int64_t dy[] = { 4, 2, 3 };
		float want[24];

		for (int k = 0; k < 4; k++)
			for (int i = 0; i < 2; i++)
				for (int j = 0; j < 3; j++)
					want[(k * 2 + i) * 3 + j] = (float)(i * 12 + j * 4 + k);
		b = ob_new(13);
		n = ob_node(b, "Transpose", "t", "x", "y");
		ob_ints(b, n, "perm", 3, 2, 0, 1, 0);
		y = one_op(b, dy, 3);
		expect(&y, 3, dy, want);
		ftensor_free(&y);
	}
	/* Slice (opset 13 inputs): axis 2 from -1 down to 0 by -2, axis 1 from 1 to the end. */
	{
		static const int64_t dy[] = { 2, 2, 2 }, st[] = { -1, 1 }, en[] = { -5, 100 },
				     ax[] = { 2, -2 }, sp[] = { -2, 1 };
		static const float want[] = { 7, 5, 11, 9, 19, 17, 23, 21 };

		b = ob_new(13);
		ob_shape_const(b, "st", 2, st);
		ob_shape_const(b, "en", 2, en);
		ob_shape_const(b, "ax", 2, ax);
		ob_shape_const(b, "sp", 2, sp);
		ob_node(b, "Slice", "sl", "x,st,en,ax,sp", "y");
		y = one_op(b, dy, 3);
		expect(&y, 3, dy, want);
		ftensor_free(&y);
	}
	/* Slice (opset 9 attributes): x[:, 0:2, 1:3]. */
	{
		static const int64_t dy[] = { 2, 2, 2 };
		static const float want[] = { 1, 2, 5, 6, 13, 14, 17, 18 };

		b = ob_new(9);
		n = ob_node(b, "Slice", "sl", "x", "y");
		ob_ints(b, n, "starts", 2, 0, 1, 0, 0);
		ob_ints(b, n, "ends", 2, 2, 3, 0, 0);
		ob_ints(b, n, "axes", 2, 1, 2, 0, 0);
		y = one_op(b, dy, 3);
		expect(&y, 3, dy, want);
		ftensor_free(&y);
	}
	/* Split axis 2 into [1, 3], the second output; then Squeeze/Unsqueeze round trip. */
	{
		static const int64_t dy[] = { 2, 3, 3 }, sz[] = { 1, 3 };
		float want[18];

		for (int i = 0; i < 6; i++)
			for (int j = 0; j < 3; j++)
				want[i * 3 + j] = (float)(i * 4 + 1 + j);
		b = ob_new(13);
		ob_shape_const(b, "sz", 2, sz);
		n = ob_node(b, "Split", "sp", "x,sz", "a,c");
		ob_i(b, n, "axis", 2);
		ob_shape_const(b, "ax", 1, k_ax0);
		ob_node(b, "Unsqueeze", "u", "c,ax", "c1");
		ob_node(b, "Squeeze", "q", "c1,ax", "y");
		y = one_op(b, dy, 3);
		expect(&y, 3, dy, want);
		ftensor_free(&y);
	}
	/* Split into 2 equal parts on axis 2 (opset 11, attribute-less), the first. */
	{
		static const int64_t dy[] = { 2, 3, 2 };
		static const float want[] = { 0, 1, 4, 5, 8, 9, 12, 13, 16, 17, 20, 21 };

		b = ob_new(11);
		n = ob_node(b, "Split", "sp", "x", "y,z");
		ob_i(b, n, "axis", -1);
		y = one_op(b, dy, 3);
		expect(&y, 3, dy, want);
		ftensor_free(&y);
	}
	/* Gather axis 1, indices [[2], [-3]]: y [2, 2, 1, 4]. */
	{
		static const int64_t dy[] = { 2, 2, 1, 4 }, di[] = { 2, 1 }, idx[] = { 2, -3 };
		static const float want[] = { 8, 9, 10, 11, 0, 1, 2, 3, 20, 21, 22, 23, 12, 13, 14, 15 };

		b = ob_new(13);
		ob_raw_init(b, "idx", I64, 2, di, idx, sizeof(idx));
		n = ob_node(b, "Gather", "ga", "x,idx", "y");
		ob_i(b, n, "axis", 1);
		y = one_op(b, dy, 4);
		expect(&y, 4, dy, want);
		ftensor_free(&y);
	}
	/* Expand [2, 3, 4] -> [2, 2, 3, 4] from a shape given as [2, 1, 1, 1]. */
	{
		static const int64_t dy[] = { 2, 2, 3, 4 }, shp[] = { 2, 1, 1, 1 };
		float want[48];

		for (int i = 0; i < 48; i++)
			want[i] = (float)(i % 24);
		b = ob_new(13);
		ob_shape_const(b, "shp", 4, shp);
		ob_node(b, "Expand", "ex", "x,shp", "y");
		y = one_op(b, dy, 4);
		expect(&y, 4, dy, want);
		ftensor_free(&y);
	}
	return 0;
}

/* ---- on shares against plaintext ---- */

static struct ob *b_moves(void)
{
	static const int64_t dx[] = { -1, 4, 6 }, dy[] = { -1, 3, 1, 2 }, st[] = { 5, 1 },
			     en[] = { 0, 4 }, ax[] = { 2, 1 }, sp[] = { -2, 2 }, shp[] = { 3, 1, 1 };
	struct ob *b = ob_new(13);
	Mpconnx__NodeProto *n;

	ob_io(b, 0, "x", 3, dx);
	ob_io(b, 1, "y", 4, dy);
	ob_shape_const(b, "st", 2, st);
	ob_shape_const(b, "en", 2, en);
	ob_shape_const(b, "ax", 2, ax);
	ob_shape_const(b, "sp", 2, sp);
	ob_shape_const(b, "shp", 3, shp);
	ob_shape_const(b, "u1", 1, d1);
	n = ob_node(b, "Transpose", "t", "x", "t0"); /* [N, 6, 4] */
	ob_ints(b, n, "perm", 3, 0, 2, 1, 0);
	n = ob_node(b, "Split", "sp", "t0", "a,c"); /* [N, 3, 4] each */
	ob_i(b, n, "axis", 1);
	ob_node(b, "Add", "add", "a,c", "s"); /* a product-free mix */
	ob_node(b, "Slice", "sl", "s,st,en,ax,sp", "s1"); /* [N, 1, 2]: cols 3, 1 of row 1 */
	ob_node(b, "Unsqueeze", "un", "s1,u1", "s2");        /* [N, 1, 1, 2] */
	ob_node(b, "Expand", "ex", "s2,shp", "y");           /* [N, 3, 1, 2] */
	return b;
}

static float emb_w[10 * 4];

/* A position embedding: Gather(table, Range(0, seq)) added to x [N, seq, 4]. */
static struct ob *b_embedding(void)
{
	static const int64_t dx[] = { -1, 3, 4 }, dw[] = { 10, 4 }, one1[1] = { 1 };
	struct ob *b = ob_new(13);
	Mpconnx__NodeProto *n;

	ob_io(b, 0, "x", 3, dx);
	ob_io(b, 1, "y", 3, dx);
	ob_const(b, "pos.weight", 2, dw, emb_w);
	i64_scalar(b, "zero", &k_zero);
	i64_scalar(b, "one", &k_one);
	ob_shape_const(b, "i1", 1, one1);
	ob_node(b, "Shape", "shape", "x", "s");
	n = ob_node(b, "Gather", "seq", "s,one", "len");
	ob_i(b, n, "axis", 0);
	ob_node(b, "Range", "range", "zero,len,one", "pos");
	ob_node(b, "Gather", "emb", "pos.weight,pos", "pe"); /* [3, 4] */
	n = ob_node(b, "Gather", "col", "x,one", "x1"); /* x[:, 1]: [N, 4] on shares */
	ob_i(b, n, "axis", 1);
	ob_node(b, "Unsqueeze", "un", "x1,i1", "x2"); /* [N, 1, 4] */
	ob_node(b, "Add", "a0", "x,pe", "a");
	ob_node(b, "Add", "y", "a,x2", "y");
	return b;
}

/*
 * After a Gemm with small weights (their published magnitude gives the
 * product extra fractional bits) data movement passes the bits on.
 */
static float small_w[6 * 4];

static struct ob *b_after_gemm(void)
{
	static const int64_t dx[] = { -1, 4 }, dw[] = { 6, 4 }, dy[] = { -1, 2, 3 },
			     shp[] = { 0, 3, 2 }, st[] = { 1 }, en[] = { 3 }, ax[] = { 1 };
	struct ob *b = ob_new(13);
	Mpconnx__NodeProto *n;

	ob_io(b, 0, "x", 2, dx);
	ob_io(b, 1, "y", 3, dy);
	ob_const(b, "w", 2, dw, small_w);
	ob_shape_const(b, "shp", 3, shp);
	ob_shape_const(b, "st", 1, st);
	ob_shape_const(b, "en", 1, en);
	ob_shape_const(b, "ax", 1, ax);
	n = ob_node(b, "Gemm", "fc", "x,w", "h"); /* [N, 6] */
	ob_i(b, n, "transB", 1);
	ob_node(b, "Reshape", "r", "h,shp", "h3"); /* [N, 3, 2] */
	n = ob_node(b, "Transpose", "t", "h3", "t3"); /* [N, 2, 3] */
	ob_ints(b, n, "perm", 3, 0, 2, 1, 0);
	ob_node(b, "Slice", "sl", "t3,st,en,ax", "s3"); /* [N, 1, 3] */
	n = ob_node(b, "Concat", "cat", "s3,t3", "c3"); /* [N, 3, 3] */
	ob_i(b, n, "axis", 1);
	ob_node(b, "Slice", "sl2", "c3,st,en,ax", "y0"); /* [N, 2, 3]: rows 1..2 */
	ob_node(b, "Relu", "relu", "y0", "y");
	return b;
}

TEST(layout_secure)
{
	static const int64_t dm[] = { 5, 4, 6 }, de[] = { 4, 3, 4 };
	struct ftensor xm = ob_tensor(3, dm, NULL), xe = ob_tensor(3, de, NULL), ref;
	struct model *m;

	fill(&xm, 4.0);
	fill(&xe, 4.0);
	for (size_t i = 0; i < 40; i++)
		emb_w[i] = (float)i / 10.0f - 2.0f;
	ref = secure_vs_plain(b_moves, &xm, 0, 1e-3);
	ftensor_free(&ref);
	ref = secure_vs_plain(b_moves, &xm, 2, 1e-3);
	ftensor_free(&ref);
	ref = secure_vs_plain(b_embedding, &xe, 0, 1e-3);
	/* y[r][t][c] = x[r][t][c] + emb[t][c] + x[r][1][c] */
	for (int r = 0; r < 4; r++)
		for (int t = 0; t < 3; t++)
			for (int c = 0; c < 4; c++)
				ASSERT_NEAR(ref.data[(r * 3 + t) * 4 + c],
					    xe.data[(r * 3 + t) * 4 + c] + emb_w[t * 4 + c] +
						    xe.data[(r * 3 + 1) * 4 + c],
					    1e-5);
	ftensor_free(&ref);
	ref = secure_vs_plain(b_embedding, &xe, 3, 1e-3);
	ftensor_free(&ref);
	{
		static const int64_t dg[] = { 5, 4 };
		struct ftensor xg = ob_tensor(2, dg, NULL);

		fill(&xg, 8.0);
		for (size_t i = 0; i < 24; i++)
			small_w[i] = (float)((int)(i * 5 % 9) - 4) * 1e-3f;
		ref = secure_vs_plain(b_after_gemm, &xg, 0, 2e-3);
		ftensor_free(&ref);
		ftensor_free(&xg);
	}
	/* Moving data costs nothing online: no node of b_moves sends a byte. */
	m = ob_load(b_moves());
	{
		struct corr_list l = { 0 };
		int nd = 3;

		ASSERT_OK(model_infer(m, (const int64_t(*)[FT_MAX_DIMS])dm, &nd));
		ASSERT_OK(eval_need(m, 16, &l));
		ASSERT_EQ(l.n, 0);
		corr_list_free(&l);
	}
	model_free(m);
	ftensor_free(&xm);
	ftensor_free(&xe);
	return 0;
}

/* ---- public integers: the folding ops ---- */

/*
 * Reshape x [N, 12] to a target computed with Shape, Slice, Squeeze, Div,
 * ConstantOfShape, Range, Equal, Where, Cast, Mul, Sub, Gather, Unsqueeze
 * and Concat: [-1, 12 / 4, 4], every node but the Reshape folded.
 */
TEST(layout_fold_ops)
{
	static const int64_t dx[] = { 5, 12 }, dy[] = { 5, 3, 4 }, two = 2, four = 4,
			     d1v[1] = { 1 }, st[1] = { 1 }, en[1] = { 2 }, three = 3, one = 1;
	struct ftensor x = ob_tensor(2, dx, NULL), y;
	struct model *m;
	struct ob *b;
	Mpconnx__NodeProto *n;

	for (size_t i = 0; i < x.n; i++)
		x.data[i] = (float)i;
	b = ob_new(13);
	ob_io(b, 0, "x", 2, (const int64_t[]){ -1, 12 });
	ob_io(b, 1, "y", 3, (const int64_t[]){ -1, 3, 4 });
	i64_scalar(b, "two", &two);
	i64_scalar(b, "four", &four);
	i64_scalar(b, "three", &three);
	i64_scalar(b, "zero", &k_zero);
	i64_scalar(b, "one", &one);
	ob_shape_const(b, "one1", 1, d1v);
	ob_shape_const(b, "st", 1, st);
	ob_shape_const(b, "en", 1, en);
	ob_shape_const(b, "m1", 1, k_m1);
	ob_shape_const(b, "ax0", 1, k_ax0);
	ob_node(b, "Shape", "shape", "x", "s");                /* [N, 12] */
	ob_node(b, "Slice", "cols", "s,st,en", "c1");          /* [12] */
	ob_node(b, "Squeeze", "sq", "c1,ax0", "c");            /* 12 */
	ob_node(b, "Div", "div", "c,four", "q");               /* 3 */
	n = ob_node(b, "ConstantOfShape", "cos", "st", "f");   /* [4] */
	ob_t(b, n, "value", ob_raw_tensor(b, "", I64, 1, d1v, &four, sizeof(four)));
	ob_node(b, "Range", "rg", "zero,three,one", "r");      /* [0, 1, 2] */
	ob_node(b, "Equal", "eq", "r,two", "e");               /* [0, 0, 1] */
	ob_node(b, "Where", "wh", "e,q,f", "w");               /* [4, 4, 3] */
	n = ob_node(b, "Cast", "cast", "w", "wc");
	ob_i(b, n, "to", 7);
	ob_node(b, "Mul", "mul", "wc,one", "w1");
	ob_node(b, "Sub", "sub", "w1,zero", "w2");
	n = ob_node(b, "Gather", "pick", "w2,one1", "w3");     /* [4] */
	ob_i(b, n, "axis", 0);
	ob_node(b, "Unsqueeze", "uq", "q,ax0", "q1");          /* [3] */
	n = ob_node(b, "Concat", "target", "m1,q1,w3", "tgt"); /* [-1, 3, 4] */
	ob_i(b, n, "axis", 0);
	ob_node(b, "Reshape", "rs", "x,tgt", "y");
	{
		/* A party holding only the public graph folds the same target. */
		const char *data[1] = { "x" };
		struct model *pm = NULL, *own = NULL;
		uint8_t *full, *pub = NULL;
		size_t len, plen;
		int nd = 2;

		full = ob_pack(b, &len);
		ASSERT_OK(model_parse_onnx(full, len, "fold.onnx", &own));
		ASSERT_OK(model_public_graph(full, len, own, &pub, &plen));
		ASSERT_OK(model_parse_onnx(pub, plen, "public", &pm));
		ASSERT_OK(model_declare_weights(pm, data, 1));
		ASSERT_OK(model_infer(pm, (const int64_t(*)[FT_MAX_DIMS])dx, &nd));
		ASSERT_EQ(pm->nodes[pm->n_nodes - 1].shape_n, 3);
		ASSERT_EQ(pm->nodes[pm->n_nodes - 1].shape[1], 3);
		ASSERT_EQ(pm->nodes[pm->n_nodes - 1].shape[2], 4);
		model_free(pm);
		model_free(own);
		free(pub);
		free(full);
	}
	m = ob_load(b);
	y = ob_eval(m, &x, 1);
	for (size_t k = 0; k + 1 < m->n_nodes; k++)
		if (!m->nodes[k].folded)
			TEST_FAIL("node '%s' is not folded", m->nodes[k].name);
	ASSERT(!m->nodes[m->n_nodes - 1].folded);
	ob_expect(&y, 3, dy, x.data, 0);
	ftensor_free(&y);
	model_free(m);
	ftensor_free(&x);
	return 0;
}

/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * A hand-built one-layer transformer block (LayerNorm, attention with 2
 * heads, residuals, LayerNorm, GELU MLP) on shares against plaintext for
 * 2, 3 and 4 parties; the public graph carrying Pow's exponent and
 * Reduce's axes; the refusals of the transformer ops, naming the node.
 */
#include <math.h>
#include <sodium.h>
#include <stdio.h>

#include "eval.h"
#include "model.h"
#include "onnx_build.h"
#include "sim_model.h"
#include "test.h"

#define T 6
#define D 8
#define H 16

static void fill(float *v, size_t n, double a)
{
	for (size_t i = 0; i < n; i++)
		v[i] = (float)((2.0 * randombytes_random() / 4294967295.0 - 1.0) * a);
}

/* The block's weights, kept until the model is parsed. */
struct blk {
	float g1[D], b1[D], wq[2][D * D / 2], wk[2][D * D / 2], wv[2][D * D / 2];
	float wo[D * D], g2[D], b2[D], w1[D * H], c1[H], w2[H * D], c2[D];
	float scale, r2, one, half;
};

static void blk_fill(struct blk *w)
{
	fill(w->g1, D, 1.0);
	fill(w->b1, D, 0.5);
	for (int h = 0; h < 2; h++) {
		fill(w->wq[h], D * D / 2, 0.6);
		fill(w->wk[h], D * D / 2, 0.6);
		fill(w->wv[h], D * D / 2, 0.6);
	}
	fill(w->wo, D * D, 0.5);
	fill(w->g2, D, 1.0);
	fill(w->b2, D, 0.5);
	fill(w->w1, D * H, 0.5);
	fill(w->c1, H, 0.5);
	fill(w->w2, H * D, 0.4);
	fill(w->c2, D, 0.5);
	for (int i = 0; i < D; i++) {
		w->g1[i] += 1.0f;
		w->g2[i] += 1.0f;
	}
	w->scale = 0.5f; /* 1/sqrt(head dim 4) */
	w->r2 = 1.4142135f;
	w->one = 1.0f;
	w->half = 0.5f;
}

/*
 * x [T, D] -> LayerNorm -> per head h: softmax(q k^T / 2) v with
 * q, k, v = x Wq_h, x Wk_h, x Wv_h [T, 4] -> concat -> Wo -> + x ->
 * LayerNorm -> GELU(x W1 + c1) W2 + c2 -> + residual.
 */
static struct ob *b_block(const struct blk *w, int opset)
{
	static const int64_t dx[] = { T, D }, dd[] = { D }, dh[] = { D, D / 2 }, ddd[] = { D, D };
	static const int64_t dw1[] = { D, H }, dhh[] = { H }, dw2[] = { H, D }, d1[] = { 1 };
	struct ob *b = ob_new(opset);
	Mpconnx__NodeProto *nd;
	char n[64], ins[96];

	ob_io(b, 0, "x", 2, dx);
	ob_io(b, 1, "y", 2, dx);
	ob_const(b, "g1", 1, dd, w->g1);
	ob_const(b, "b1", 1, dd, w->b1);
	ob_const(b, "g2", 1, dd, w->g2);
	ob_const(b, "b2", 1, dd, w->b2);
	ob_const(b, "wo", 2, ddd, w->wo);
	ob_const(b, "w1", 2, dw1, w->w1);
	ob_const(b, "c1", 1, dhh, w->c1);
	ob_const(b, "w2", 2, dw2, w->w2);
	ob_const(b, "c2", 1, dd, w->c2);
	ob_const(b, "scale", 1, d1, &w->scale);
	ob_const(b, "r2", 1, d1, &w->r2);
	ob_const(b, "one", 1, d1, &w->one);
	ob_const(b, "half", 1, d1, &w->half);
	nd = ob_node(b, "LayerNormalization", "ln1", "x,g1,b1", "l1");
	ob_f(b, nd, "epsilon", 1e-5f);
	for (int h = 0; h < 2; h++) {
		const char *kind[3] = { "q", "k", "v" };
		const float *m[3] = { w->wq[h], w->wk[h], w->wv[h] };

		for (int j = 0; j < 3; j++) {
			snprintf(n, sizeof(n), "w%s%d", kind[j], h);
			ob_const(b, n, 2, dh, m[j]);
			snprintf(ins, sizeof(ins), "l1,w%s%d", kind[j], h);
			snprintf(n, sizeof(n), "%s%d", kind[j], h);
			ob_node(b, "MatMul", n, ins, n);
		}
		snprintf(ins, sizeof(ins), "q%d,k%d", h, h);
		snprintf(n, sizeof(n), "s%d", h);
		nd = ob_node(b, "Gemm", n, ins, n);
		ob_i(b, nd, "transB", 1);
		snprintf(ins, sizeof(ins), "s%d,scale", h);
		snprintf(n, sizeof(n), "ss%d", h);
		ob_node(b, "Mul", n, ins, n);
		snprintf(ins, sizeof(ins), "ss%d", h);
		snprintf(n, sizeof(n), "p%d", h);
		ob_node(b, "Softmax", n, ins, n);
		snprintf(ins, sizeof(ins), "p%d,v%d", h, h);
		snprintf(n, sizeof(n), "a%d", h);
		ob_node(b, "MatMul", n, ins, n);
	}
	nd = ob_node(b, "Concat", "cat", "a0,a1", "cat");
	ob_i(b, nd, "axis", 1);
	ob_node(b, "MatMul", "proj", "cat,wo", "o");
	ob_node(b, "Add", "res1", "x,o", "r1");
	nd = ob_node(b, "LayerNormalization", "ln2", "r1,g2,b2", "l2");
	ob_f(b, nd, "epsilon", 1e-5f);
	ob_node(b, "MatMul", "fc1", "l2,w1", "f1");
	ob_node(b, "Add", "fc1b", "f1,c1", "f1b");
	/* PyTorch 1.13's GELU export */
	ob_node(b, "Div", "gdiv", "f1b,r2", "gd");
	ob_node(b, "Erf", "gerf", "gd", "ge");
	ob_node(b, "Add", "gadd", "ge,one", "gp");
	ob_node(b, "Mul", "gmul", "f1b,gp", "gm");
	ob_node(b, "Mul", "ghalf", "gm,half", "g");
	ob_node(b, "MatMul", "fc2", "g,w2", "f2");
	ob_node(b, "Add", "fc2b", "f2,c2", "f2b");
	ob_node(b, "Add", "res2", "r1,f2b", "y");
	return b;
}

static double block_error(int parties, const struct blk *w, const struct ftensor *x)
{
	int64_t dims[1][FT_MAX_DIMS];
	int nd = 2;
	struct eval_part part = { .owner = 0, .ndim = 2, .data = x->data };
	struct eval_input in = { .n_parts = 1, .axis = 0, .parts = &part };
	struct model *m = ob_load(b_block(w, 17));
	struct sim_model s = { .md = m, .n_parties = parties, .frac = 16,
			       .owner = parties - 1, .recipient = 0, .inputs = &in };
	struct ftensor ref;
	double err = 0;

	memcpy(dims[0], x->dims, sizeof(dims[0]));
	memcpy(part.dims, x->dims, sizeof(part.dims));
	ASSERT_OK(model_infer(m, (const int64_t(*)[FT_MAX_DIMS])dims, &nd));
	ASSERT_OK(model_ref_eval(m, x, &ref));
	if (sim_model_run(&s) != 0)
		TEST_FAIL("secure run: %s", s.job.err);
	for (size_t i = 0; i < ref.n; i++)
		err = fmax(err, test_diff(s.outs[0].data[i], ref.data[i]));
	ftensor_free(&ref);
	sim_model_free(&s);
	model_free(m);
	return err;
}

TEST(tf_block)
{
	static const int64_t dx[] = { T, D };
	static struct blk w;
	struct ftensor x = ob_tensor(2, dx, NULL);

	for (int parties = 2; parties <= 4; parties++) {
		double err;

		blk_fill(&w);
		fill(x.data, x.n, 2.0);
		err = block_error(parties, &w, &x);
		printf("# %d parties: max abs error %.3g\n", parties, err);
		if (!(err <= 0.02))
			TEST_FAIL("%d parties: max abs error %g > 0.02", parties, err);
	}
	ftensor_free(&x);
	return 0;
}

/* ---- the public graph ---- */

static struct ob *b_consts(float *w)
{
	static const int64_t dx[] = { 2, 3, 4 }, dy[] = { 2, 3, 1 }, ax[] = { -1 };
	static float two = 2.0f;
	struct ob *b = ob_new(18);

	ob_io(b, 0, "x", 3, dx);
	ob_io(b, 1, "y", 3, dy);
	ob_const(b, "two", 0, NULL, &two);
	ob_shape_const(b, "axes", 1, ax);
	ob_const(b, "w", 1, dx + 2, w);
	ob_node(b, "Div", "div", "x,w", "d");
	ob_node(b, "Pow", "pow", "d,two", "p");
	ob_node(b, "ReduceMean", "mean", "p,axes", "y");
	return b;
}

/*
 * Pow's exponent and Reduce's axes reach the other parties (public
 * facts); the divisor's bytes do not; both sides need the same material.
 */
TEST(tf_public_graph)
{
	static float w[4] = { 1.5f, -2.25f, 3.125f, 0.75f };
	static const int64_t dx[] = { 2, 3, 4 };
	const char *data_inputs[1] = { "x" };
	struct model *own = NULL, *other = NULL;
	struct corr_list a = { 0 }, c = { 0 };
	struct ob *ob = b_consts(w);
	uint8_t *buf, *pub = NULL;
	size_t len, publen;
	int64_t d[1][FT_MAX_DIMS] = { { 2, 3, 4 } };
	int nd = 3, pw = -1, rm = -1;

	(void)dx;
	buf = ob_pack(ob, &len);
	ob_free(ob);
	ASSERT_OK(model_parse_onnx(buf, len, "c.onnx", &own));
	ASSERT_OK(model_public_graph(buf, len, own, &pub, &publen));
	ASSERT(!memmem(pub, publen, w, sizeof(w)));
	ASSERT_OK(model_parse_onnx(pub, publen, "public", &other));
	ASSERT_OK(model_declare_weights(other, data_inputs, 1));
	for (size_t k = 0; k < other->n_nodes; k++) {
		if (other->nodes[k].op == MOP_POW)
			pw = (int)k;
		if (other->nodes[k].op == MOP_REDUCEMEAN)
			rm = (int)k;
	}
	ASSERT(pw >= 0 && rm >= 0);
	ASSERT(other->nodes[pw].exponent == 2.0f);
	ASSERT_EQ(other->nodes[rm].axes_n, 1);
	ASSERT_EQ(other->nodes[rm].axes[0], -1);
	ASSERT_OK(model_infer(own, (const int64_t(*)[FT_MAX_DIMS])d, &nd));
	ASSERT_OK(model_infer(other, (const int64_t(*)[FT_MAX_DIMS])d, &nd));
	ASSERT_OK(eval_need(own, 16, &a));
	ASSERT_OK(eval_need(other, 16, &c));
	ASSERT_EQ(a.n, c.n);
	for (size_t i = 0; i < a.n; i++)
		ASSERT(corr_req_same(&a.v[i], &c.v[i]));
	corr_list_free(&a);
	corr_list_free(&c);
	free(buf);
	free(pub);
	model_free(own);
	model_free(other);
	return 0;
}

/* ---- refusals, naming the node ---- */

static int load_fails(struct ob *b, int code, const char *word)
{
	struct model *m = NULL;
	int r = ob_parse(b, &m);

	ob_free(b);
	model_free(m);
	if (r != code || !strstr(mpc_errmsg(r), word))
		TEST_FAIL("got %d '%s', want %d with '%s'", r, mpc_errmsg(r), code, word);
	return 0;
}

TEST(tf_refuse)
{
	static const int64_t dx[] = { 2, 4 }, d1[] = { 1 };
	static float four = 4.0f, g[4] = { 1, 1, 1, 1 };
	struct ob *b;
	Mpconnx__NodeProto *nd;

	/* a computed exponent: the public graph could not carry it */
	b = ob_new(13);
	ob_io(b, 0, "x", 2, dx);
	ob_io(b, 1, "y", 2, dx);
	ob_node(b, "Relu", "r", "x", "e");
	ob_node(b, "Pow", "pw", "x,e", "y");
	load_fails(b, MPC_E_UNSUPPORTED, "node 'pw' (Pow): the exponent 'e' must be a constant");
	/* an exponent other than 2, 3, 0.5 */
	b = ob_new(13);
	ob_io(b, 0, "x", 2, dx);
	ob_io(b, 1, "y", 2, dx);
	ob_const(b, "four", 1, d1, &four);
	ob_node(b, "Pow", "pw4", "x,four", "y");
	load_fails(b, MPC_E_UNSUPPORTED, "node 'pw4' (Pow): exponent 4 is not supported");
	/* computed axes */
	b = ob_new(18);
	ob_io(b, 0, "x", 2, dx);
	ob_io(b, 1, "y", -1, NULL);
	ob_node(b, "Identity", "id", "x", "ax");
	ob_node(b, "ReduceSum", "rs", "x,ax", "y");
	load_fails(b, MPC_E_UNSUPPORTED, "node 'rs' (ReduceSum): the axes input must be a constant");
	/* LayerNormalization asking for its statistics as outputs */
	b = ob_new(17);
	ob_io(b, 0, "x", 2, dx);
	ob_io(b, 1, "y", 2, dx);
	ob_const(b, "g", 1, dx + 1, g);
	ob_node(b, "LayerNormalization", "ln", "x,g", "y,mean");
	load_fails(b, MPC_E_UNSUPPORTED, "node 'ln' (LayerNormalization): output 2");
	/* an unknown GELU approximation */
	b = ob_new(20);
	ob_io(b, 0, "x", 2, dx);
	ob_io(b, 1, "y", 2, dx);
	nd = ob_node(b, "Gelu", "ge", "x", "y");
	ob_s(b, nd, "approximate", "fast");
	load_fails(b, MPC_E_UNSUPPORTED, "node 'ge' (Gelu): approximate 'fast'");
	return 0;
}

/*
 * Indices that are neither public nor a data input of ids (computed from
 * the data, or a float weight) are refused at import, naming the node.
 */
TEST(tf_refuse_gather_const)
{
	static const int64_t dt[] = { 5, 2 }, di[] = { 2 }, dx[] = { 2, 2 };
	static float table[10], idx[2] = { 1, 3 };
	struct ob *b = ob_new(13);

	ob_io(b, 0, "x", 2, dx);
	ob_io(b, 1, "y", 2, dx);
	ob_const(b, "t", 2, dt, table);
	ob_const(b, "i", 1, di, idx);
	ob_node(b, "Gather", "g", "t,i", "gi");
	ob_node(b, "Add", "a", "x,gi", "y");
	load_fails(b, MPC_E_UNSUPPORTED, "node 'g' (Gather): input 'i' must be computed from shapes");
	b = ob_new(13);
	ob_io(b, 0, "x", 2, dx);
	ob_io(b, 1, "y", -1, NULL);
	ob_const(b, "t", 2, dt, table);
	ob_node(b, "Relu", "r", "x", "ix");
	ob_node(b, "Gather", "g2", "t,ix", "y");
	load_fails(b, MPC_E_UNSUPPORTED, "node 'g2' (Gather): input 'ix' must be computed");
	return 0;
}

/* ---- chunks of rows ---- */

static struct ob *b_attn_rows(const float *g)
{
	static const int64_t dq[] = { 3, 2, 4, 5 }, dk[] = { 3, 2, 5, 4 }, dy[] = { 3, 2, 4, 4 };
	static const int64_t dg[] = { 4 };
	struct ob *b = ob_new(17);

	ob_io(b, 0, "q", 4, dq);
	ob_io(b, 0, "k", 4, dk);
	ob_io(b, 1, "y", 4, dy);
	ob_const(b, "g", 1, dg, g);
	ob_node(b, "Identity", "kid", "k", "kk"); /* else k would be taken for a weight */
	ob_node(b, "MatMul", "qk", "q,kk", "s");
	ob_node(b, "Softmax", "sm", "s", "p");
	ob_node(b, "LayerNormalization", "ln", "p,g", "y");
	return b;
}

/*
 * Batched products of two secrets and LayerNorm keep rows apart: in
 * chunks of 1 row they give what plaintext gives; LayerNorm over axis 0
 * would mix rows: its rows run as one chunk.
 */
TEST(tf_chunks)
{
	static const int64_t dq[] = { 3, 2, 4, 5 }, dk[] = { 3, 2, 5, 4 };
	static float g[4] = { 1.0f, 0.5f, 2.0f, -1.0f };
	struct ftensor x[2] = { ob_tensor(4, dq, NULL), ob_tensor(4, dk, NULL) }, ref;
	struct eval_part part[2];
	struct eval_input in[2];
	int64_t dims[2][FT_MAX_DIMS];
	int nd[2] = { 4, 4 };
	struct model *m = ob_load(b_attn_rows(g));
	struct sim_model s = { .md = m, .n_parties = 3, .frac = 16, .owner = 2, .recipient = 0,
			       .chunk_rows = 1, .inputs = in };
	double err = 0;
	size_t chunk = 0;

	for (int i = 0; i < 2; i++) {
		fill(x[i].data, x[i].n, 2.0);
		memcpy(dims[i], x[i].dims, sizeof(dims[i]));
		part[i] = (struct eval_part){ .owner = i, .ndim = 4, .data = x[i].data };
		memcpy(part[i].dims, x[i].dims, sizeof(part[i].dims));
		in[i] = (struct eval_input){ .n_parts = 1, .axis = 0, .parts = &part[i] };
	}
	ASSERT_OK(model_infer(m, (const int64_t(*)[FT_MAX_DIMS])dims, nd));
	ASSERT_OK(model_ref_eval(m, x, &ref));
	if (sim_model_run(&s) != 0)
		TEST_FAIL("secure run: %s", s.job.err);
	ASSERT_EQ(s.plan.n_chunks, 3);
	for (size_t i = 0; i < ref.n; i++)
		err = fmax(err, test_diff(s.outs[0].data[i], ref.data[i]));
	if (!(err <= 5e-3))
		TEST_FAIL("chunks of 1 row: max error %g", err);
	sim_model_free(&s);
	model_free(m);
	{
		static const int64_t d34[] = { 3, 4 };
		static float g34[12];
		int64_t d1[1][FT_MAX_DIMS] = { { 3, 4 } };
		int n1 = 2;
		struct ob *b = ob_new(17);
		Mpconnx__NodeProto *ln;

		ob_io(b, 0, "x", 2, d34);
		ob_io(b, 1, "y", 2, d34);
		ob_const(b, "g", 2, d34, g34);
		ln = ob_node(b, "LayerNormalization", "ln0", "x,g", "y");
		ob_i(b, ln, "axis", 0);
		m = ob_load(b);
		ASSERT_OK(model_infer(m, (const int64_t(*)[FT_MAX_DIMS])d1, &n1));
		/* not split: all rows in one chunk, the reason kept */
		ASSERT_OK(eval_plan_pick(m, 16, 3, 3, 1, (size_t)1 << 30, 0, &chunk));
		ASSERT_EQ(chunk, 3);
		ASSERT(strstr(mpc_errmsg(MPC_E_UNSUPPORTED), "normalises across the rows"));
	}
	ftensor_free(&ref);
	ftensor_free(&x[0]);
	ftensor_free(&x[1]);
	model_free(m);
	return 0;
}

/* ---- secret indices held by several owners ---- */

/*
 * The ids of a lookup split by rows between two owners (horizontal) and
 * by columns (vertical): each owner shares the one-hot rows of its part,
 * joined in place; the result is exact (integers times the table).
 */
TEST(tf_gather_parts)
{
	static const int64_t dt[] = { 7, 3 }, di[] = { 4, 3 }, dy[] = { 4, 3, 3 };
	static float table[21];
	static const float ids[12] = { 0, 6, 2, -1, 5, 3, 4, 4, 1, -7, 0, 6 };
	int64_t dims[1][FT_MAX_DIMS] = { { 4, 3 } };
	int nd = 2;

	fill(table, 21, 2.0);
	for (int axis = 0; axis < 2; axis++) {
		struct ob *b = ob_new(13);
		struct model *m;
		struct ftensor x = ob_tensor(2, di, ids), ref;
		float p0[12], p1[12];
		struct eval_part part[2];
		struct eval_input in = { .n_parts = 2, .axis = axis, .parts = part };
		struct sim_model s = { .n_parties = 3, .frac = 16, .owner = 2, .recipient = 0,
				       .inputs = &in };
		size_t k0 = 0, k1 = 0;
		double err = 0;

		ob_io(b, 0, "ids", 2, di);
		ob_io(b, 1, "y", 3, dy);
		ob_const(b, "emb", 2, dt, table);
		ob_node(b, "Gather", "lookup", "emb,ids", "y");
		m = ob_load(b);
		/* rows 0-1 | 2-3, or column 0 | columns 1-2 */
		for (int i = 0; i < 4; i++)
			for (int j = 0; j < 3; j++) {
				int first = axis == 0 ? i < 2 : j < 1;

				if (first)
					p0[k0++] = ids[i * 3 + j];
				else
					p1[k1++] = ids[i * 3 + j];
			}
		part[0] = (struct eval_part){ .owner = 0, .ndim = 2, .data = p0,
					      .dims = { axis ? 4 : 2, axis ? 1 : 3 } };
		part[1] = (struct eval_part){ .owner = 1, .ndim = 2, .data = p1,
					      .dims = { axis ? 4 : 2, axis ? 2 : 3 } };
		ASSERT_OK(model_infer(m, (const int64_t(*)[FT_MAX_DIMS])dims, &nd));
		ASSERT_OK(model_ref_eval(m, &x, &ref));
		s.md = m;
		if (sim_model_run(&s) != 0)
			TEST_FAIL("axis %d: secure run: %s", axis, s.job.err);
		for (size_t i = 0; i < ref.n; i++)
			err = fmax(err, test_diff(s.outs[0].data[i], ref.data[i]));
		if (!(err <= 1e-4))
			TEST_FAIL("axis %d: max error %g", axis, err);
		sim_model_free(&s);
		ftensor_free(&ref);
		ftensor_free(&x);
		model_free(m);
	}
	return 0;
}

/* An id outside the table fails the job on its owner, naming the input, not the id. */
TEST(tf_gather_bad_index)
{
	static const int64_t dt[] = { 7, 3 }, di[] = { 1, 2 }, dy[] = { 1, 2, 3 };
	static float table[21], bad[2] = { 3, 12345 };
	struct ob *b = ob_new(13);
	struct model *m;
	struct eval_part part = { .owner = 1, .ndim = 2, .data = bad, .dims = { 1, 2 } };
	struct eval_input in = { .n_parts = 1, .axis = 0, .parts = &part };
	struct sim_model s = { .n_parties = 2, .frac = 16, .owner = 0, .recipient = 0,
			       .inputs = &in };
	int64_t dims[1][FT_MAX_DIMS] = { { 1, 2 } };
	int nd = 2;

	ob_io(b, 0, "ids", 2, di);
	ob_io(b, 1, "y", 3, dy);
	ob_const(b, "emb", 2, dt, table);
	ob_node(b, "Gather", "lookup", "emb,ids", "y");
	m = ob_load(b);
	ASSERT_OK(model_infer(m, (const int64_t(*)[FT_MAX_DIMS])dims, &nd));
	s.md = m;
	ASSERT(sim_model_run(&s) != 0);
	ASSERT(strstr(s.job.err, "input 'ids'") && strstr(s.job.err, "not an integer in [-7, 7)"));
	ASSERT(!strstr(s.job.err, "12345"));
	sim_model_free(&s);
	model_free(m);
	return 0;
}

/* A zero in a weight divisor fails on the model owner, naming the weight. */
TEST(tf_div_zero_weight)
{
	static const int64_t dx[] = { 2, 3 }, dw[] = { 3 };
	static float w[3] = { 2.0f, 0.0f, 1.0f }, x[6];
	struct ob *b = ob_new(13);
	struct model *m;
	struct eval_part part = { .owner = 0, .ndim = 2, .data = x, .dims = { 2, 3 } };
	struct eval_input in = { .n_parts = 1, .axis = 0, .parts = &part };
	struct sim_model s = { .n_parties = 2, .frac = 16, .owner = 1, .recipient = 0,
			       .inputs = &in };
	int64_t dims[1][FT_MAX_DIMS] = { { 2, 3 } };
	int nd = 2;

	ob_io(b, 0, "x", 2, dx);
	ob_io(b, 1, "y", 2, dx);
	ob_const(b, "w", 1, dw, w);
	ob_node(b, "Div", "scale", "x,w", "y");
	m = ob_load(b);
	ASSERT_OK(model_infer(m, (const int64_t(*)[FT_MAX_DIMS])dims, &nd));
	s.md = m;
	ASSERT(sim_model_run(&s) != 0);
	ASSERT(strstr(s.job.err, "node 'scale' (Div): divisor 'w' has a zero"));
	sim_model_free(&s);
	model_free(m);
	return 0;
}

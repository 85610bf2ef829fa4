/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * Jobs in chunks of rows (issue 9): chunked runs against unchunked ones
 * and the fixtures' expected.npy on every fixture, for chunks of 1, 7
 * (the last one short) and 64 rows and 2, 3 and 4 parties; the weight
 * masks kept across chunks (C_k = L(A_k, B), the same B); row blocks and
 * column blocks cut at chunk edges; the refusals (one row over the
 * budget, ops that mix rows).
 */
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "corr.h"
#include "eval.h"
#include "model.h"
#include "npy.h"
#include "onnx_build.h"
#include "ring.h"
#include "sim_model.h"
#include "test.h"

static struct model *load(const char *fixture)
{
	char p[256];
	struct model *m = NULL;

	snprintf(p, sizeof(p), "%s/model.onnx", fixture);
	ASSERT_OK(model_load_onnx(test_fixture(p), &m));
	return m;
}

/* One secure run of a fixture's input.npy in chunks of `chunk` rows (0: one chunk). */
static struct ftensor run(const char *fixture, const struct ftensor *x, int parties,
			  size_t chunk, size_t *n_chunks)
{
	struct model *m = load(fixture);
	struct eval_part part = { .owner = 0, .ndim = x->ndim, .data = x->data };
	struct eval_input in = { .n_parts = 1, .axis = 0, .parts = &part };
	struct sim_model s = { .md = m, .n_parties = parties, .frac = 16,
			       .owner = parties - 1, .recipient = 0, .inputs = &in,
			       .chunk_rows = chunk };
	struct ftensor got;
	int nd = x->ndim;

	memcpy(part.dims, x->dims, sizeof(part.dims));
	ASSERT_OK(model_infer(m, (const int64_t(*)[FT_MAX_DIMS])x->dims, &nd));
	ASSERT_OK(eval_fold_batchnorm(m));
	if (sim_model_run(&s) != 0)
		TEST_FAIL("%s, %d parties, chunks of %zu: %s", fixture, parties, chunk, s.job.err);
	*n_chunks = s.plan.n_chunks;
	got = s.outs[0];
	s.outs[0] = (struct ftensor){ 0 }; /* transferred */
	sim_model_free(&s);
	model_free(m);
	return got;
}

static size_t argmax_row(const float *v, size_t cols, float *margin)
{
	size_t a = 0;
	float top = -INFINITY, second = -INFINITY;

	for (size_t j = 0; j < cols; j++) {
		if (v[j] > top) {
			second = top;
			top = v[j];
			a = j;
		} else if (v[j] > second) {
			second = v[j];
		}
	}
	*margin = top - second;
	return a;
}

/*
 * got against want: error within tol, and the same argmax on every row
 * whose top two in want are further apart than margin (closer rows may
 * swap within the error).
 */
static void same_result(const char *what, const struct ftensor *got, const struct ftensor *want,
			double tol, double margin)
{
	size_t rows = (size_t)want->dims[0], cols = want->n / rows;
	double err = 0;

	ASSERT_EQ(got->n, want->n);
	for (size_t i = 0; i < got->n; i++) {
		if (isnan(got->data[i]))
			TEST_FAIL("%s: NaN at %zu", what, i);
		err = fmax(err, fabs((double)got->data[i] - want->data[i]));
	}
	if (err > tol)
		TEST_FAIL("%s: max abs difference %g > %g", what, err, tol);
	for (size_t r = 0; r < rows; r++) {
		float mw, mg;
		size_t a = argmax_row(want->data + r * cols, cols, &mw);
		size_t b = argmax_row(got->data + r * cols, cols, &mg);

		if (mw > margin && a != b)
			TEST_FAIL("%s: row %zu: argmax %zu, expected %zu", what, r, b, a);
	}
}

static void fixture_chunks(const char *fixture)
{
	static const size_t sizes[] = { 1, 7, 64 };
	char p[256];
	struct ftensor x, want;

	snprintf(p, sizeof(p), "%s/input.npy", fixture);
	ASSERT_OK(npy_load(test_fixture(p), &x));
	snprintf(p, sizeof(p), "%s/expected.npy", fixture);
	ASSERT_OK(npy_load(test_fixture(p), &want));
	ASSERT_EQ(x.dims[0], 64);
	for (int parties = 2; parties <= 4; parties++) {
		size_t nc;
		struct ftensor whole = run(fixture, &x, parties, 0, &nc);

		ASSERT_EQ(nc, 1);
		for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
			struct ftensor got = run(fixture, &x, parties, sizes[k], &nc);
			char what[160];

			/* 64 rows: 64 chunks, 9 of 7 and a short one of 1, one chunk. */
			ASSERT_EQ(nc, (64 + sizes[k] - 1) / sizes[k]);
			snprintf(what, sizeof(what), "%s, %d parties, chunks of %zu", fixture,
				 parties, sizes[k]);
			/* The accuracy contract, as for unchunked runs (test_eval.c). */
			same_result(what, &got, &want, 0.02, 1e-2);
			/* Against the unchunked run: each within 0.02 of plaintext. */
			same_result(what, &got, &whole, 0.04, 4e-2);
			ftensor_free(&got);
		}
		ftensor_free(&whole);
	}
	ftensor_free(&x);
	ftensor_free(&want);
}

TEST(chunk_fixtures_mlp)
{
	fixture_chunks("iris_logreg");
	fixture_chunks("digits_mlp");
	fixture_chunks("wine_mlp");
	return 0;
}

TEST(chunk_fixtures_cnn)
{
	fixture_chunks("tiny_cnn");
	fixture_chunks("digits_resavg");
	return 0;
}

TEST(chunk_fixtures_softmax)
{
	fixture_chunks("digits_bn_softmax");
	return 0;
}

/*
 * The weight mask kept across chunks: every party's WMASK sums to the
 * dealer's clear B, and each chunk's BILIN_KB to a fresh A_k with
 * C_k = L(A_k, B), the same B, for a matrix product and a convolution.
 */
static void kept_mask(const struct bilin *bl, int n)
{
	struct prg dealer_view[4], party[4];
	struct corr_req wq, kq;
	size_t yl = bilin_y_len(bl), xl = bilin_x_len(bl), zl = bilin_z_len(bl);
	uint64_t *b = calloc(yl, 8), *bsum = calloc(yl, 8), *a_prev = calloc(xl, 8);
	uint64_t *fix = calloc(zl, 8), *asum = calloc(xl, 8), *csum = calloc(zl, 8);
	uint64_t *truth = calloc(zl, 8), *scr = calloc(bilin_scratch_len(bl) + 1, 8);

	for (int i = 0; i < n; i++) {
		uint8_t seed[PRG_SEEDBYTES];

		randombytes_buf(seed, sizeof(seed));
		prg_init(&dealer_view[i], seed);
		prg_init(&party[i], seed);
	}
	corr_req_wmask(&wq, yl, 5);
	ASSERT_EQ(corr_fix_len(&wq), 0);
	ASSERT(corr_deal(&wq, dealer_view, n, fix) != 0); /* needs the kept store */
	ASSERT_OK(corr_deal_wmask(&wq, dealer_view, n, b));
	for (int i = 0; i < n; i++) {
		struct corr_mat mt;

		ASSERT_OK(corr_mat_alloc(&mt, &wq));
		corr_expand(&mt, &party[i], i == n - 1);
		ring_add(bsum, bsum, mt.b, yl);
		corr_mat_free(&mt);
	}
	for (size_t j = 0; j < yl; j++)
		ASSERT_U64_EQ(bsum[j], b[j]);
	corr_req_bilin_kb(&kq, bl, 5);
	ASSERT_EQ(corr_fix_len(&kq), zl);
	for (int chunk = 0; chunk < 3; chunk++) {
		int differs = 0;

		ASSERT_OK(corr_deal_kb(&kq, dealer_view, n, b, fix));
		memset(asum, 0, xl * 8);
		memset(csum, 0, zl * 8);
		for (int i = 0; i < n; i++) {
			struct corr_mat mt;

			ASSERT_OK(corr_mat_alloc(&mt, &kq));
			corr_expand(&mt, &party[i], i == n - 1);
			if (i == n - 1)
				corr_fix_apply(&mt, fix);
			ring_add(asum, asum, mt.a, xl);
			ring_add(csum, csum, mt.c, zl);
			corr_mat_free(&mt);
		}
		bilin_apply(bl, asum, b, truth, 0, scr);
		for (size_t j = 0; j < zl; j++)
			ASSERT_U64_EQ(csum[j], truth[j]);
		for (size_t j = 0; j < xl; j++)
			differs |= asum[j] != a_prev[j];
		if (!differs)
			TEST_FAIL("chunk %d: the same A as the chunk before", chunk);
		memcpy(a_prev, asum, xl * 8);
	}
	free(b);
	free(bsum);
	free(a_prev);
	free(fix);
	free(asum);
	free(csum);
	free(truth);
	free(scr);
}

TEST(chunk_kept_mask)
{
	static const int strides[2] = { 1, 1 }, pads[4] = { 1, 1, 1, 1 }, dil[2] = { 1, 1 };
	struct bilin mm, cv;

	ASSERT_OK(bilin_matmul(&mm, 7, 5, 3));
	ASSERT_OK(bilin_conv2d(&cv, 3, 2, 5, 5, 4, 3, 3, strides, pads, dil, 1));
	for (int n = 2; n <= 4; n++) {
		kept_mask(&mm, n);
		kept_mask(&cv, n);
	}
	return 0;
}

/* Row blocks (horizontal) and column blocks (vertical) cut at chunk edges. */
TEST(chunk_splits)
{
	struct ftensor x0, x1, want, full;

	ASSERT_OK(npy_load(test_fixture("wine_mlp/input_party0.npy"), &x0));
	ASSERT_OK(npy_load(test_fixture("wine_mlp/input_party1.npy"), &x1));
	ASSERT_OK(npy_load(test_fixture("wine_mlp/expected.npy"), &want));
	for (int parties = 2; parties <= 3; parties++) {
		struct model *m = load("wine_mlp");
		struct eval_part part[2] = {
			{ .owner = 0, .ndim = 2, .dims = { 64, 7 }, .data = x0.data },
			{ .owner = 1, .ndim = 2, .dims = { 64, 6 }, .data = x1.data },
		};
		struct eval_input in = { .n_parts = 2, .axis = 1, .parts = part };
		struct sim_model s = { .md = m, .n_parties = parties, .frac = 16,
				       .owner = parties - 1, .inputs = &in, .chunk_rows = 7 };
		int64_t d[1][FT_MAX_DIMS] = { { 64, 13 } };
		int nd = 2;

		ASSERT_OK(model_infer(m, (const int64_t(*)[FT_MAX_DIMS])d, &nd));
		ASSERT_OK(sim_model_run(&s));
		ASSERT_EQ(s.plan.n_chunks, 10);
		same_result("wine_mlp vertical, chunks of 7", &s.outs[0], &want, 0.02, 1e-2);
		sim_model_free(&s);
		model_free(m);
	}
	ftensor_free(&want);
	/* digits: rows 0..39 at party 0, 40..63 at party 1; chunk 5 is rows 35..41 */
	ASSERT_OK(npy_load(test_fixture("digits_mlp/input.npy"), &full));
	ASSERT_OK(npy_load(test_fixture("digits_mlp/expected.npy"), &want));
	for (int parties = 2; parties <= 3; parties++) {
		struct model *m = load("digits_mlp");
		struct eval_part part[2] = {
			{ .owner = 0, .ndim = 2, .dims = { 40, 64 }, .data = full.data },
			{ .owner = 1, .ndim = 2, .dims = { 24, 64 }, .data = full.data + 40 * 64 },
		};
		struct eval_input in = { .n_parts = 2, .axis = 0, .parts = part };
		struct sim_model s = { .md = m, .n_parties = parties, .frac = 16,
				       .owner = parties - 1, .recipient = parties - 1,
				       .inputs = &in, .chunk_rows = 7 };
		int64_t d[1][FT_MAX_DIMS] = { { 64, 64 } };
		int nd = 2;

		ASSERT_OK(model_infer(m, (const int64_t(*)[FT_MAX_DIMS])d, &nd));
		ASSERT_OK(sim_model_run(&s));
		same_result("digits_mlp horizontal, chunks of 7", &s.outs[0], &want, 0.02, 1e-2);
		sim_model_free(&s);
		model_free(m);
	}
	ftensor_free(&x0);
	ftensor_free(&x1);
	ftensor_free(&want);
	ftensor_free(&full);
	return 0;
}

/* One row over the budget: refused with the numbers, before any thread starts. */
TEST(chunk_refuse_budget)
{
	struct model *m = NULL;
	size_t cr, pb, db, one;
	int nd = 4, ret;
	int64_t d[1][FT_MAX_DIMS] = { { 1000, 1, 28, 28 } };

	ASSERT_OK(model_load_onnx("bench/models/lenet.onnx", &m));
	ASSERT_OK(model_infer(m, (const int64_t(*)[FT_MAX_DIMS])d, &nd));
	ASSERT_OK(eval_chunk_mem(m, 16, 3, 1, &pb, &db));
	one = 3 * pb + db;
	ASSERT(one > (1 << 20));
	ret = eval_plan_pick(m, 16, 3, 3, 1, 1 << 20, 0, &cr);
	ASSERT_EQ(ret, MPC_E_TOOBIG);
	if (!strstr(mpc_errmsg(ret), "one row needs") || !strstr(mpc_errmsg(ret), "the budget is 1 MiB"))
		TEST_FAIL("refusal without the numbers: %s", mpc_errmsg(ret));
	/* A budget of 100 rows' worth: a chunk that fits, and one more row would not. */
	ASSERT_OK(eval_plan_pick(m, 16, 3, 3, 1, 100 * one, 0, &cr));
	ASSERT(cr >= 50 && cr < 1000);
	ASSERT_OK(eval_chunk_mem(m, 16, 3, cr, &pb, &db));
	ASSERT(3 * pb + db <= 100 * one);
	ASSERT_OK(eval_chunk_mem(m, 16, 3, cr + 1, &pb, &db));
	ASSERT(3 * pb + db > 100 * one);
	/* Enough for every row: one chunk. */
	ASSERT_OK(eval_plan_pick(m, 16, 3, 3, 1, (size_t)1 << 45, 0, &cr));
	ASSERT_EQ(cr, 1000);
	/* sim_model refuses before sharing anything: no phase ever ran. */
	{
		static float zero[1000 * 784];
		struct eval_part part = { .owner = 0, .ndim = 4, .dims = { 1000, 1, 28, 28 },
					  .data = zero };
		struct eval_input in = { .n_parts = 1, .axis = 0, .parts = &part };
		struct sim_model s = { .md = m, .n_parties = 3, .frac = 16, .owner = 2,
				       .inputs = &in, .memory = 1 << 20 };

		ret = sim_model_run(&s);
		ASSERT_EQ(ret, MPC_E_TOOBIG);
		for (int p = 0; p <= 3; p++)
			for (int ph = 0; ph < NET_PH_COUNT; ph++)
				ASSERT_EQ(s.job.st[p][ph].bytes_sent, 0);
		sim_model_free(&s);
	}
	model_free(m);
	return 0;
}

static float consts[64];

/* x [6, 5] -> Gemm(transA) -> [5, 3]: the rows are summed over. */
static struct model *rows_mixed(int softmax)
{
	static const int64_t dx[] = { -1, 5 }, dw[] = { 6, 3 }, dw2[] = { 5, 3 };
	struct ob *b = ob_new(13);
	Mpconnx__NodeProto *nd;
	struct model *m;

	ob_io(b, 0, "x", 2, dx);
	ob_io(b, 1, "y", -1, NULL);
	if (softmax) {
		ob_const(b, "W", 2, dw2, consts);
		ob_node(b, "Gemm", "g", "x,W", "h");
		nd = ob_node(b, "Softmax", "sm", "h", "y");
		ob_i(b, nd, "axis", 0);
	} else {
		ob_const(b, "W", 2, dw, consts);
		nd = ob_node(b, "Gemm", "g", "x,W", "y");
		ob_i(b, nd, "transA", 1);
	}
	m = ob_load(b);
	return m;
}

/* Ops that mix rows: refused for chunks (naming the node), fine as one chunk. */
TEST(chunk_refuse_mixed)
{
	for (int sm = 0; sm < 2; sm++) {
		struct model *m = rows_mixed(sm);
		int64_t d[1][FT_MAX_DIMS] = { { 6, 5 } };
		int nd = 2, ret;
		struct eval_plan p;

		ASSERT_OK(model_infer(m, (const int64_t(*)[FT_MAX_DIMS])d, &nd));
		ASSERT_OK(eval_plan_init(&p, m, 16, 2, 6));
		ASSERT_EQ(p.n_chunks, 1);
		eval_plan_free(&p);
		ret = eval_plan_init(&p, m, 16, 2, 2);
		if (ret != MPC_E_UNSUPPORTED || !strstr(mpc_errmsg(ret), sm ? "'sm'" : "'g'"))
			TEST_FAIL("%s: chunks of 2 rows: %d %s", sm ? "softmax" : "gemm", ret,
				  mpc_errmsg(ret));
		model_free(m);
	}
	return 0;
}

/*
 * The proposer's pick on rows that only look independent: a weight with
 * the rows' count on its first axis (an Add that broadcasts one row
 * against it) and a Reshape to fixed dims. Both run as one chunk (the
 * pick aborted on them, and ONNX's node tests with them).
 */
TEST(chunk_pick_whole)
{
	static const int64_t dx[] = { 3, 4 }, dr[] = { 2, 3, 4 }, shape[] = { 4, 2, 3 };

	for (int reshape = 0; reshape < 2; reshape++) {
		struct ob *b = ob_new(13);
		int64_t d[1][FT_MAX_DIMS] = { { 3, 4 } };
		int nd = 2;
		struct model *m;
		size_t cr;

		ob_io(b, 1, "y", -1, NULL);
		if (reshape) {
			ob_io(b, 0, "x", 3, dr);
			ob_shape_const(b, "s", 3, shape);
			ob_node(b, "Reshape", "r", "x,s", "y");
			memcpy(d[0], dr, sizeof(dr));
			nd = 3;
		} else {
			ob_io(b, 0, "x", 2, dx);
			ob_const(b, "W", 2, dx, consts);
			ob_node(b, "Add", "a", "x,W", "y");
		}
		m = ob_load(b);
		ASSERT_OK(model_infer(m, (const int64_t(*)[FT_MAX_DIMS])d, &nd));
		ASSERT_OK(eval_plan_pick(m, 16, 2, 2, 1, (size_t)1 << 30, 0, &cr));
		ASSERT_EQ(cr, (size_t)d[0][0]);
		model_free(m);
	}
	return 0;
}

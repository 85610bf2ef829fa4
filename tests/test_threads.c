/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * The pool of local arithmetic ([Node] Threads, crypto/pool.c): every
 * index once, callers at once and nested, statuses; and results that do
 * not depend on the thread count: the kernels, the PRG's keystream, the
 * dealer's corrections, the protocols and a whole model, each bit for bit
 * with Threads = 1, 2 and 4 (sizes above the kernels' hand-off
 * thresholds, so the split paths run).
 */
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>

#include "bilin.h"
#include "corr.h"
#include "eval.h"
#include "model.h"
#include "npy.h"
#include "pool.h"
#include "prg.h"
#include "proto_util.h"
#include "ring.h"
#include "sim_model.h"
#include "test.h"

static const int counts[] = { 1, 2, 4 };
#define N_COUNTS 3

/* ---- the pool ---- */

struct visit {
	_Atomic unsigned *seen;
	size_t n, min;
	_Atomic int ranges;
	int fail_at; /* an index whose range returns MPC_E_IO; -1: none */
};

static int visit_range(void *arg, size_t lo, size_t hi)
{
	struct visit *v = arg;
	int ret = 0;

	ASSERT(lo < hi && hi <= v->n);
	for (size_t i = lo; i < hi; i++) {
		atomic_fetch_add(&v->seen[i], 1);
		if ((int)i == v->fail_at)
			ret = MPC_E_IO;
	}
	atomic_fetch_add(&v->ranges, 1);
	return ret;
}

static void visit_check(size_t n, size_t min, int fail_at)
{
	struct visit v = { .n = n, .min = min, .fail_at = fail_at };

	v.seen = calloc(n + 1, sizeof(*v.seen));
	ASSERT_EQ(pool_for(n, min, visit_range, &v), fail_at >= 0 ? MPC_E_IO : 0);
	for (size_t i = 0; i < n; i++)
		ASSERT_EQ(v.seen[i], 1);
	/* Never more ranges than min_chunk allows, nor any for no items. */
	ASSERT(n ? (size_t)v.ranges <= (n / (min ? min : 1) > 1 ? n / (min ? min : 1) : 1) :
		   v.ranges == 0);
	free(v.seen);
}

TEST(pool_every_index_once)
{
	static const size_t sizes[][2] = { { 0, 1 }, { 1, 1 }, { 7, 1 },   { 7, 4 },
					   { 1000, 3 }, { 100003, 100 }, { 64, 0 } };

	for (int c = 0; c < N_COUNTS; c++) {
		ASSERT_OK(pool_set_threads(counts[c]));
		ASSERT_EQ(pool_threads(), counts[c]);
		for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++)
			visit_check(sizes[s][0], sizes[s][1], -1);
	}
	ASSERT_EQ(pool_set_threads(0), MPC_E_RANGE);
	ASSERT_EQ(pool_set_threads(POOL_MAX_THREADS + 1), MPC_E_RANGE);
	ASSERT(pool_cores() >= 1);
	return 0;
}

TEST(pool_status)
{
	ASSERT_OK(pool_set_threads(3));
	/* The failing range's status comes back; every other range still runs. */
	visit_check(10000, 10, 0);
	visit_check(10000, 10, 9999);
	visit_check(10000, 10, 5000);
	ASSERT_OK(pool_set_threads(1));
	visit_check(100, 10, 50);
	return 0;
}

/* Ranges that start their own pool_for: nested callers on workers. */
static int nested_range(void *arg, size_t lo, size_t hi)
{
	struct visit *outer = arg;

	for (size_t i = lo; i < hi; i++) {
		struct visit v = { .n = 300, .min = 7, .fail_at = -1 };
		_Atomic unsigned seen[300] = { 0 };

		v.seen = seen;
		if (pool_for(v.n, v.min, visit_range, &v) != 0)
			return MPC_E_INTERNAL;
		for (size_t k = 0; k < v.n; k++)
			if (seen[k] != 1)
				return MPC_E_INTERNAL;
		atomic_fetch_add(&outer->seen[i], 1);
	}
	return 0;
}

static void *caller(void *arg)
{
	for (int rep = 0; rep < 20; rep++) {
		struct visit v = { .n = 64, .min = 1, .fail_at = -1 };

		v.seen = calloc(v.n, sizeof(*v.seen));
		if (pool_for(v.n, v.min, nested_range, &v) != 0)
			*(int *)arg = 1;
		for (size_t i = 0; i < v.n; i++)
			if (v.seen[i] != 1)
				*(int *)arg = 1;
		free(v.seen);
	}
	return NULL;
}

TEST(pool_concurrent_nested)
{
	/* Five callers (parties of a simulation, jobs of a daemon) at once. */
	for (int c = 0; c < N_COUNTS; c++) {
		pthread_t t[5];
		int bad[5] = { 0 };

		ASSERT_OK(pool_set_threads(counts[c]));
		for (int i = 0; i < 5; i++)
			ASSERT_EQ(pthread_create(&t[i], NULL, caller, &bad[i]), 0);
		/* The count may change under running callers. */
		ASSERT_OK(pool_set_threads(counts[(c + 1) % N_COUNTS]));
		for (int i = 0; i < 5; i++) {
			pthread_join(t[i], NULL);
			ASSERT_EQ(bad[i], 0);
		}
	}
	return 0;
}

/* ---- kernels, bit for bit ---- */

static uint64_t *rand_words(struct prg *g, size_t n)
{
	uint64_t *v = malloc((n + 1) * sizeof(*v));

	prg_u64(g, v, n);
	return v;
}

/* z = L(x, y) (on top of a random z with acc) under each count. */
static void bilin_split_same(const struct bilin *bl)
{
	size_t xl = bilin_x_len(bl), yl = bilin_y_len(bl), zl = bilin_z_len(bl);
	uint8_t seed[PRG_SEEDBYTES] = { 3 };
	uint64_t *scr = malloc((bilin_scratch_len(bl) + 1) * 8), *want[2] = { NULL, NULL };
	struct prg g;

	prg_init(&g, seed);
	uint64_t *x = rand_words(&g, xl), *y = rand_words(&g, yl), *z0 = rand_words(&g, zl);

	for (int c = 0; c < N_COUNTS; c++)
		for (int acc = 0; acc < 2; acc++) {
			uint64_t *z = malloc((zl + 1) * 8);

			ASSERT_OK(pool_set_threads(counts[c]));
			memcpy(z, z0, zl * 8);
			bilin_apply(bl, x, y, z, acc, scr);
			if (!want[acc]) {
				want[acc] = z;
				continue;
			}
			for (size_t i = 0; i < zl; i++)
				ASSERT_U64_EQ(z[i], want[acc][i]);
			free(z);
		}
	free(want[0]);
	free(want[1]);
	free(x);
	free(y);
	free(z0);
	free(scr);
}

TEST(threads_kernels_same)
{
	static const int st[2] = { 1, 1 }, st2[2] = { 2, 1 }, pads[4] = { 1, 1, 1, 1 };
	static const int dil[2] = { 1, 1 };
	struct bilin bl;

	/* Row split (m >= 8), column split (m < 8), odd sizes. */
	ASSERT_OK(bilin_matmul(&bl, 128, 784, 64));
	bilin_split_same(&bl);
	ASSERT_OK(bilin_matmul(&bl, 3, 500, 301));
	bilin_split_same(&bl);
	ASSERT_OK(bilin_matmul(&bl, 37, 300, 290));
	bilin_split_same(&bl);
	/* Images split (LeNet's first layer), one image (the product splits), groups. */
	ASSERT_OK(bilin_conv2d(&bl, 16, 1, 28, 28, 6, 5, 5, st, (const int[4]){ 0 }, dil, 1));
	bilin_split_same(&bl);
	ASSERT_OK(bilin_conv2d(&bl, 1, 16, 30, 30, 32, 3, 3, st, pads, dil, 1));
	bilin_split_same(&bl);
	ASSERT_OK(bilin_conv2d(&bl, 9, 8, 17, 15, 12, 3, 3, st2, pads, dil, 2));
	bilin_split_same(&bl);
	{
		/* Bit planes both ways, a length that is not a multiple of 64. */
		size_t n = 100003, w = ring_words(n);
		uint8_t seed[PRG_SEEDBYTES] = { 4 };
		struct prg g;

		prg_init(&g, seed);
		uint64_t *x = rand_words(&g, n), *want = malloc(64 * w * 8);
		uint64_t *pl = malloc(64 * w * 8), *back = malloc(n * 8);

		for (int c = 0; c < N_COUNTS; c++) {
			ASSERT_OK(pool_set_threads(counts[c]));
			ring_to_planes(c ? pl : want, x, n);
			ring_from_planes(back, want, n);
			ASSERT(!memcmp(back, x, n * 8));
			if (c)
				ASSERT(!memcmp(pl, want, 64 * w * 8));
		}
		free(x);
		free(want);
		free(pl);
		free(back);
	}
	return 0;
}

/* The keystream equals one crypto_stream_chacha20 call, whatever the split. */
TEST(threads_prg_same)
{
	static const size_t lens[] = { 1, 64, 65, 131072, 131073, 1000003, 4 << 20 };
	uint8_t seed[PRG_SEEDBYTES] = { 9 }, nonce[crypto_stream_chacha20_NONCEBYTES] = { 0 };

	for (size_t l = 0; l < sizeof(lens) / sizeof(lens[0]); l++) {
		uint8_t *want = malloc(lens[l]), *got = malloc(lens[l]);

		crypto_stream_chacha20(want, lens[l], nonce, seed);
		for (int c = 0; c < N_COUNTS; c++) {
			struct prg g;

			ASSERT_OK(pool_set_threads(counts[c]));
			prg_init(&g, seed);
			prg_fill(&g, got, lens[l]);
			ASSERT(!memcmp(got, want, lens[l]));
		}
		free(want);
		free(got);
	}
	return 0;
}

/* The dealer's corrections for every kind, large enough to split. */
TEST(threads_corr_same)
{
	struct corr_req q[6];
	struct bilin bl;
	int64_t d = 300000;

	ASSERT_OK(bilin_matmul(&bl, 64, 400, 120));
	corr_req_bilin(&q[0], &bl);
	ASSERT_OK(bilin_mul(&bl, 1, &d, 1, &d, 1, &d));
	corr_req_bilin(&q[1], &bl);
	corr_req_edabit(&q[2], 200003, 16);
	corr_req_trunc(&q[3], 200003, 12);
	corr_req_bitmul(&q[4], 70001, 3);
	corr_req_mand(&q[5], MAND_PREFIX4, 50001);
	for (int k = 0; k < 6; k++) {
		size_t flen = corr_fix_len(&q[k]);
		uint64_t *want = malloc(flen * 8), *got = malloc(flen * 8);

		for (int c = 0; c < N_COUNTS; c++) {
			struct prg party[3];

			ASSERT_OK(pool_set_threads(counts[c]));
			for (int i = 0; i < 3; i++)
				prg_init(&party[i], (const uint8_t[PRG_SEEDBYTES]){ (uint8_t)(i + 1) });
			ASSERT_OK(corr_deal(&q[k], party, 3, c ? got : want));
			if (c)
				ASSERT(!memcmp(got, want, flen * 8));
		}
		free(want);
		free(got);
	}
	return 0;
}

/* ---- protocols and a model, with fixed seeds ---- */

/*
 * Every randombytes call returns the same bytes: each party's private
 * PRG and the dealer's get one fixed seed whichever thread draws first,
 * so two runs of a job are the same run. Only for these tests.
 */
static void fixed_buf(void *buf, size_t n)
{
	memset(buf, 0x5a, n);
}

static uint32_t fixed_random(void)
{
	return 0x5a5a5a5a;
}

static const char *fixed_name(void)
{
	return "fixed";
}

static randombytes_implementation fixed_rng = {
	.implementation_name = fixed_name, .random = fixed_random, .buf = fixed_buf,
};

static int relu_need_t(struct ptest *t, struct corr_list *l)
{
	return relu_need(l, t->nx, t->shift);
}

static int relu_run_t(struct ptest *t, struct mpc *m, const uint64_t *x, const uint64_t *y,
		      uint64_t *out)
{
	(void)y;
	return mpc_relu(m, x, t->nx, t->shift, out);
}

static int bilin_need_t(struct ptest *t, struct corr_list *l)
{
	return beaver_bilin_need(l, &t->bl);
}

static int bilin_run_t(struct ptest *t, struct mpc *m, const uint64_t *x, const uint64_t *y,
		       uint64_t *out)
{
	return beaver_bilin(m, &t->bl, x, y, out);
}

/* t's op under each count (2 and 3 parties): the opened results agree. */
static void proto_same(struct ptest *t)
{
	uint64_t *want = malloc(t->nout * 8);

	for (int parties = 2; parties <= 3; parties++)
		for (int c = 0; c < N_COUNTS; c++) {
			ASSERT_OK(pool_set_threads(counts[c]));
			pt_exec(t, parties);
			if (!c)
				memcpy(want, t->out, t->nout * 8);
			else
				ASSERT(!memcmp(want, t->out, t->nout * 8));
		}
	free(want);
}

TEST(threads_protocol_same)
{
	static const int st[2] = { 1, 1 }, dil[2] = { 1, 1 };
	struct ptest t = { .need = relu_need_t, .run = relu_run_t, .shift = 16 };

	/* Inputs from the real generator, the runs from the fixed one. */
	pt_alloc(&t, 100000, 0, 100000);
	pt_rand(t.x, t.nx, 40);
	randombytes_set_implementation(&fixed_rng);
	proto_same(&t); /* ReLU with truncation: comparison tree, bit-products */
	t.shift = 0;
	proto_same(&t);
	pt_free(&t);
	t = (struct ptest){ .need = bilin_need_t, .run = bilin_run_t };
	ASSERT_OK(bilin_matmul(&t.bl, 128, 784, 64));
	pt_alloc(&t, bilin_x_len(&t.bl), bilin_y_len(&t.bl), bilin_z_len(&t.bl));
	for (size_t i = 0; i < t.nx; i++)
		t.x[i] = i * 0x9e3779b97f4a7c15ULL;
	for (size_t i = 0; i < t.ny; i++)
		t.y[i] = i * 0xc2b2ae3d27d4eb4fULL;
	proto_same(&t);
	pt_free(&t);
	t = (struct ptest){ .need = bilin_need_t, .run = bilin_run_t };
	ASSERT_OK(bilin_conv2d(&t.bl, 32, 1, 28, 28, 6, 5, 5, st, (const int[4]){ 0 }, dil, 1));
	pt_alloc(&t, bilin_x_len(&t.bl), bilin_y_len(&t.bl), bilin_z_len(&t.bl));
	for (size_t i = 0; i < t.nx; i++)
		t.x[i] = i * 0x9e3779b97f4a7c15ULL;
	for (size_t i = 0; i < t.ny; i++)
		t.y[i] = i * 0xc2b2ae3d27d4eb4fULL;
	proto_same(&t);
	pt_free(&t);
	return 0;
}

/* LeNet on 32 rows and a fixture, 2 and 3 parties: the same outputs. */
TEST(threads_model_same)
{
	static const char *const paths[][2] = {
		{ "bench/models/lenet.onnx", NULL },
		{ "digits_resavg/model.onnx", "digits_resavg/input.npy" },
	};

	for (size_t p = 0; p < 2; p++) {
		struct ftensor x = { 0 }, want = { 0 };

		if (paths[p][1]) {
			ASSERT_OK(npy_load(test_fixture(paths[p][1]), &x));
		} else {
			ASSERT_OK(ftensor_alloc(&x, 4, (const int64_t[]){ 32, 1, 28, 28 }));
			for (size_t i = 0; i < x.n; i++)
				x.data[i] = (float)((i * 2654435761u) % 2001) / 1000.0f - 1.0f;
		}
		randombytes_set_implementation(&fixed_rng);
		for (int parties = 2; parties <= 3; parties++)
			for (int c = 0; c < N_COUNTS; c++) {
				struct model *m = NULL;
				struct eval_part part = { .owner = 0, .ndim = x.ndim, .data = x.data };
				struct eval_input in = { .n_parts = 1, .axis = 0, .parts = &part };
				struct sim_model s = { .n_parties = parties, .frac = 16,
						       .owner = parties - 1, .inputs = &in };
				int nd = x.ndim;

				ASSERT_OK(pool_set_threads(counts[c]));
				ASSERT_OK(model_load_onnx(paths[p][1] ? test_fixture(paths[p][0]) :
							  paths[p][0], &m));
				memcpy(part.dims, x.dims, sizeof(part.dims));
				ASSERT_OK(model_infer(m, (const int64_t(*)[FT_MAX_DIMS])&x.dims, &nd));
				ASSERT_OK(eval_fold_batchnorm(m));
				s.md = m;
				if (sim_model_run(&s) != 0)
					TEST_FAIL("%s: %s", paths[p][0], s.job.err);
				if (!c) {
					ftensor_free(&want);
					want = s.outs[0];
					s.outs[0] = (struct ftensor){ 0 };
				} else {
					ASSERT_EQ(s.outs[0].n, want.n);
					ASSERT(!memcmp(s.outs[0].data, want.data, want.n * sizeof(float)));
				}
				sim_model_free(&s);
				model_free(m);
			}
		ftensor_free(&want);
		ftensor_free(&x);
	}
	return 0;
}

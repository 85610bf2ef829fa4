/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * Every protocol against plaintext on random data (negative values, large
 * magnitudes, values near zero), for 2, 3 and 4 parties: party 0 shares x,
 * the last party shares y, the op runs on shares, the result is opened
 * (harness: proto_util.c; max, argmax, sigmoid, softmax: test_nonlin.c).
 */
#include <math.h>
#include <sodium.h>

#include "fxp.h"
#include "ops.h"
#include "ring.h"
#include "proto_util.h"
#include "sim.h"
#include "test.h"

/* ---- open and sharing ---- */

static int open_need(struct ptest *t, struct corr_list *l)
{
	(void)t;
	(void)l;
	return 0;
}

static int open_run(struct ptest *t, struct mpc *m, const uint64_t *x,
		    const uint64_t *y, uint64_t *out)
{
	(void)m;
	ring_add(out, x, y, t->nx);
	return 0;
}

TEST(proto_open_share)
{
	for (int n = 2; n <= 4; n++) {
		struct ptest t = { .need = open_need, .run = open_run };

		pt_alloc(&t, 1000, 1000, 1000);
		pt_rand(t.x, 1000, 64);
		pt_rand(t.y, 1000, 64);
		pt_exec(&t, n);
		for (size_t i = 0; i < 1000; i++)
			ASSERT_U64_EQ(t.out[i], t.x[i] + t.y[i]);
		pt_free(&t);
	}
	return 0;
}

/* Twelve items of different sizes in one opening (more than fit on the stack). */
static int open_many_run(struct ptest *t, struct mpc *m, const uint64_t *x,
			 const uint64_t *y, uint64_t *out)
{
	struct mpc_open_item it[12];
	uint64_t *tmp = calloc(t->nx, sizeof(*tmp));
	size_t off = 0;
	int ret, rounds = (int)m->net->st[m->net->phase].rounds;

	(void)y;
	for (int i = 0; i < 12; i++) {
		size_t n = (size_t)(i + 1) * 10;

		/* Half in place, half into another buffer. */
		if (i % 2)
			memcpy(tmp + off, x + off, n * sizeof(*tmp));
		it[i] = (struct mpc_open_item){ .share = i % 2 ? tmp + off : x + off,
						.out = tmp + off, .n = n };
		off += n;
	}
	ret = mpc_open_items(m, it, 12);
	if (!ret && (int)m->net->st[m->net->phase].rounds != rounds + 1)
		ret = MPC_E_INTERNAL;
	for (size_t i = 0; i < t->nx; i++)
		out[i] = m->me == 0 ? tmp[i] : 0;
	free(tmp);
	return ret;
}

TEST(proto_open_many_items)
{
	for (int n = 2; n <= 4; n++) {
		struct ptest t = { .need = open_need, .run = open_many_run };

		pt_alloc(&t, 780, 0, 780);
		pt_rand(t.x, 780, 64);
		pt_exec(&t, n);
		for (size_t i = 0; i < 780; i++)
			ASSERT_U64_EQ(t.out[i], t.x[i]);
		pt_free(&t);
	}
	return 0;
}

/* ---- bilinear ---- */

static int bilin_need(struct ptest *t, struct corr_list *l)
{
	return beaver_bilin_need(l, &t->bl);
}

static int bilin_run(struct ptest *t, struct mpc *m, const uint64_t *x,
		     const uint64_t *y, uint64_t *out)
{
	return beaver_bilin(m, &t->bl, x, y, out);
}

static void bilin_check(struct ptest *t)
{
	uint64_t *ref = calloc(t->nout + 1, 8);
	uint64_t *scr = calloc(bilin_scratch_len(&t->bl) + 1, 8);

	bilin_apply(&t->bl, t->x, t->y, ref, 0, scr);
	for (size_t i = 0; i < t->nout; i++)
		ASSERT_U64_EQ(t->out[i], ref[i]);
	free(ref);
	free(scr);
}

static void bilin_case(const struct bilin *bl)
{
	for (int n = 2; n <= 4; n++) {
		struct ptest t = { .need = bilin_need, .run = bilin_run, .bl = *bl };

		pt_alloc(&t, bilin_x_len(bl), bilin_y_len(bl), bilin_z_len(bl));
		pt_rand(t.x, t.nx, 64);
		pt_rand(t.y, t.ny, 64);
		pt_exec(&t, n);
		bilin_check(&t);
		pt_free(&t);
	}
}

TEST(proto_beaver_mul_exact)
{
	struct bilin bl;
	int64_t d = 5000;

	ASSERT_OK(bilin_mul(&bl, 1, &d, 1, &d, 1, &d));
	bilin_case(&bl);
	return 0;
}

TEST(proto_matmul_exact)
{
	struct bilin bl;

	ASSERT_OK(bilin_matmul(&bl, 17, 64, 9));
	bilin_case(&bl);
	ASSERT_OK(bilin_matmul(&bl, 1, 1, 1));
	bilin_case(&bl);
	return 0;
}

TEST(proto_conv_exact)
{
	struct bilin bl;
	int st[2] = { 2, 1 }, pads[4] = { 1, 2, 0, 1 }, dil[2] = { 2, 1 };

	ASSERT_OK(bilin_conv2d(&bl, 3, 4, 9, 8, 6, 3, 3, st, pads, dil, 2));
	bilin_case(&bl);
	return 0;
}

TEST(proto_mul_broadcast_exact)
{
	struct bilin bl;
	int64_t zd[3] = { 4, 5, 6 }, xd[3] = { 4, 5, 6 }, yd[2] = { 5, 1 };

	ASSERT_OK(bilin_mul(&bl, 3, zd, 3, xd, 2, yd));
	bilin_case(&bl);
	return 0;
}

/* ---- truncation ---- */

static int trunc_need_t(struct ptest *t, struct corr_list *l)
{
	return trunc_need(l, t->nx, t->shift);
}

static int trunc_run(struct ptest *t, struct mpc *m, const uint64_t *x,
		     const uint64_t *y, uint64_t *out)
{
	(void)y;
	return mpc_trunc(m, x, t->nx, t->shift, out);
}

/* floor(x / 2^s) or one more, nothing else. */
static void trunc_check(const struct ptest *t, int64_t *worst)
{
	for (size_t i = 0; i < t->nx; i++) {
		int64_t want = (int64_t)t->x[i] >> t->shift;
		int64_t got = (int64_t)t->out[i];

		if (got - want < 0 || got - want > 1)
			TEST_FAIL("trunc(%" PRId64 ", %d) = %" PRId64 ", want %" PRId64,
				  (int64_t)t->x[i], t->shift, got, want);
		if (got - want > *worst)
			*worst = got - want;
	}
}

TEST(proto_trunc_random)
{
	for (int n = 2; n <= 4; n++) {
		for (int shift = 1; shift <= 40; shift += 13) {
			struct ptest t = { .need = trunc_need_t, .run = trunc_run,
					   .shift = shift };
			int64_t worst = 0;

			pt_alloc(&t, 20000, 0, 20000);
			pt_rand(t.x, t.nx, 62);
			t.x[0] = ((uint64_t)1 << 62) - 1;
			t.x[1] = -((uint64_t)1 << 62);
			t.x[2] = 0;
			t.x[3] = (uint64_t)-1;
			pt_exec(&t, n);
			trunc_check(&t, &worst);
			pt_free(&t);
		}
	}
	return 0;
}

TEST(proto_trunc_1e7)
{
	/* 10^7 truncations at f = 16 (values as after a product at 2f). */
	for (int rep = 0; rep < 10; rep++) {
		struct ptest t = { .need = trunc_need_t, .run = trunc_run, .shift = 16 };
		int64_t worst = 0;

		pt_alloc(&t, 1000000, 0, 1000000);
		pt_rand(t.x, t.nx, 62);
		pt_exec(&t, 2 + rep % 3);
		trunc_check(&t, &worst);
		ASSERT(worst <= 1);
		pt_free(&t);
	}
	return 0;
}

/* ---- comparison ---- */

static int relu_need_t(struct ptest *t, struct corr_list *l)
{
	return relu_need(l, t->nx, t->shift);
}

static int relu_run(struct ptest *t, struct mpc *m, const uint64_t *x,
		    const uint64_t *y, uint64_t *out)
{
	(void)y;
	return mpc_relu(m, x, t->nx, t->shift, out);
}

static void relu_case(int n, int shift, size_t len)
{
	struct ptest t = { .need = relu_need_t, .run = relu_run, .shift = shift };

	pt_alloc(&t, len, 0, len);
	pt_rand(t.x, len, 62);
	t.x[0] = ((uint64_t)1 << 62) - 1;
	t.x[1] = -((uint64_t)1 << 62);
	t.x[2] = 0;
	t.x[3] = (uint64_t)-1;
	t.x[4] = 1;
	pt_exec(&t, n);
	for (size_t i = 0; i < len; i++) {
		int64_t v = (int64_t)t.x[i], got = (int64_t)t.out[i];

		if (v < 0) {
			if (got != 0)
				TEST_FAIL("relu(%" PRId64 ") = %" PRId64, v, got);
		} else if (!shift) {
			if (got != v)
				TEST_FAIL("relu(%" PRId64 ") = %" PRId64, v, got);
		} else {
			int64_t want = v >> shift;

			if (got - want < 0 || got - want > 1)
				TEST_FAIL("relu_trunc(%" PRId64 ") = %" PRId64, v, got);
		}
	}
	pt_free(&t);
}

TEST(proto_relu_exact)
{
	for (int n = 2; n <= 4; n++) {
		relu_case(n, 0, 3001);
		relu_case(n, 0, 5);
	}
	return 0;
}

TEST(proto_relu_trunc)
{
	for (int n = 2; n <= 4; n++)
		relu_case(n, 16, 2000);
	return 0;
}

TEST(proto_relu_rounds)
{
	struct ptest t = { .need = relu_need_t, .run = relu_run, .shift = 16 };

	pt_alloc(&t, 100, 0, 100);
	pt_rand(t.x, 100, 40);
	pt_exec(&t, 3);
	/* Open x + r, 3 tree levels (fan-in 4), open the masked sign: 5 rounds. */
	ASSERT_EQ(t.online_rounds, 5);
	pt_free(&t);
	return 0;
}

static int fail_run(struct ptest *t, struct mpc *m, const uint64_t *x,
		    const uint64_t *y, uint64_t *out)
{
	if (m->me == 1)
		return mpc_fail(MPC_E_SHAPE, "test: party 1 refuses");
	return mpc_trunc(m, x, t->nx, 16, out);
}

TEST(proto_abort_same_reason)
{
	struct ptest t = { .need = trunc_need_t, .run = fail_run, .shift = 16 };
	struct sim_job job = { .n_parties = 3, .frac = 16, .need = pt_need,
			       .run = pt_run, .arg = &t };

	pt_alloc(&t, 10, 0, 10);
	ASSERT_EQ(sim_run(&job), MPC_E_SHAPE);
	ASSERT(strstr(job.err, "party 1 refuses"));
	pt_free(&t);
	return 0;
}

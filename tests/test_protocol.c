/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * Every protocol against plaintext on random data (negative values, large
 * magnitudes, values near zero), for 2, 3 and 4 parties: party 0 shares x,
 * the last party shares y, the op runs on shares, the result is opened.
 */
#include <math.h>
#include <sodium.h>

#include "fxp.h"
#include "ops.h"
#include "ring.h"
#include "sim.h"
#include "test.h"

struct ptest;
typedef int (*op_need_fn)(struct ptest *t, struct corr_list *l);
typedef int (*op_run_fn)(struct ptest *t, struct mpc *m, const uint64_t *x,
			 const uint64_t *y, uint64_t *out);

struct ptest {
	size_t nx, ny, nout;
	uint64_t *x, *y, *out;
	op_need_fn need;
	op_run_fn run;
	/* op parameters */
	struct bilin bl;
	int shift;
	struct cmp_groups g;
	size_t outer, k, inner;
	uint64_t *out2; /* second output (argmax's max) */
	uint64_t online_rounds;
};

static int pt_need(void *arg, struct corr_list *l)
{
	struct ptest *t = arg;

	return t->need(t, l);
}

static int pt_run(struct mpc *m, void *arg)
{
	struct ptest *t = arg;
	uint64_t *xs = calloc(t->nx + 1, 8), *ys = calloc(t->ny + 1, 8);
	uint64_t *os = calloc(t->nout + 1, 8), *o = calloc(t->nout + 1, 8);
	int ret;

	if ((ret = mpc_share_input(m, 0, t->x, t->nx, xs)) != 0 ||
	    (ret = mpc_share_input(m, m->n - 1, t->y, t->ny, ys)) != 0)
		goto out;
	net_set_phase(m->net, NET_PH_ONLINE);
	if ((ret = t->run(t, m, xs, ys, os)) != 0)
		goto out;
	t->online_rounds = m->net->st[NET_PH_ONLINE].rounds;
	if ((ret = mpc_open(m, os, t->nout, o)) != 0)
		goto out;
	if (m->me == 0)
		memcpy(t->out, o, t->nout * 8);
out:
	free(xs);
	free(ys);
	free(os);
	free(o);
	return ret;
}

static void pt_exec(struct ptest *t, int parties)
{
	struct sim_job job = { .n_parties = parties, .frac = 16, .need = pt_need,
			       .run = pt_run, .arg = t };

	memset(t->out, 0, t->nout * 8);
	ASSERT_OK(sim_run(&job));
}

/* Random values: a mix of large (|v| < 2^bits) and small ones. */
static void rand_vals(uint64_t *v, size_t n, int bits)
{
	randombytes_buf(v, n * 8);
	for (size_t i = 0; i < n; i++) {
		int b = (i % 3 == 0) ? bits : (int)(i % 17) + 1;
		int64_t s = (int64_t)v[i] >> (64 - b);

		v[i] = (uint64_t)s;
	}
}

static void pt_alloc(struct ptest *t, size_t nx, size_t ny, size_t nout)
{
	t->nx = nx;
	t->ny = ny;
	t->nout = nout;
	t->x = calloc(nx + 1, 8);
	t->y = calloc(ny + 1, 8);
	t->out = calloc(nout + 1, 8);
}

static void pt_free(struct ptest *t)
{
	free(t->x);
	free(t->y);
	free(t->out);
	free(t->out2);
	memset(t, 0, sizeof(*t));
}

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
		rand_vals(t.x, 1000, 64);
		rand_vals(t.y, 1000, 64);
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
		rand_vals(t.x, 780, 64);
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
		rand_vals(t.x, t.nx, 64);
		rand_vals(t.y, t.ny, 64);
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
			rand_vals(t.x, t.nx, 62);
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
		rand_vals(t.x, t.nx, 62);
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
	rand_vals(t.x, len, 62);
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
	rand_vals(t.x, 100, 40);
	pt_exec(&t, 3);
	/* Open x + r, 3 tree levels (fan-in 4), open the masked sign: 5 rounds. */
	ASSERT_EQ(t.online_rounds, 5);
	pt_free(&t);
	return 0;
}

/* ---- max / argmax over groups ---- */

static int max_need_t(struct ptest *t, struct corr_list *l)
{
	return t->out2 ? argmax_groups_need(l, &t->g) : max_groups_need(l, &t->g);
}

static int max_run(struct ptest *t, struct mpc *m, const uint64_t *x,
		   const uint64_t *y, uint64_t *out)
{
	(void)y;
	if (!t->out2)
		return max_groups(m, x, &t->g, out);
	/* out holds positions then maxima. */
	return argmax_groups(m, x, &t->g, out, out + t->g.n);
}

static void groups_case(int n, int arg, size_t kmax)
{
	enum { G = 150 };
	size_t start[G + 1], *idx, total = 0;
	struct ptest t = { .need = max_need_t, .run = max_run };

	for (int i = 0; i < G; i++) {
		start[i] = total;
		total += 1 + (size_t)i % kmax;
	}
	start[G] = total;
	idx = malloc(total * sizeof(*idx));
	for (size_t i = 0; i < total; i++)
		idx[i] = (i * 7919) % total;
	pt_alloc(&t, total, 0, arg ? 2 * G : G);
	if (arg)
		t.out2 = calloc(1, 8);
	rand_vals(t.x, total, 60);
	t.x[idx[1]] = t.x[idx[2]]; /* ties, inside a group too */
	t.x[idx[start[3]]] = t.x[idx[start[3] + 1]];
	t.g = (struct cmp_groups){ .n = G, .start = start, .idx = idx };
	pt_exec(&t, n);
	/* all pairs: open, 3 tree levels, 1 AND of 3, select; a tree: 5 per level */
	if (!arg)
		ASSERT_EQ(t.online_rounds, kmax <= 4 ? 6 : 5 * 4);
	for (int g = 0; g < G; g++) {
		int64_t best = INT64_MIN;
		size_t bpos = 0;

		for (size_t j = start[g]; j < start[g + 1]; j++)
			if ((int64_t)t.x[idx[j]] > best) {
				best = (int64_t)t.x[idx[j]];
				bpos = j - start[g];
			}
		if (arg) {
			ASSERT_EQ(t.out[g], bpos);
			ASSERT_EQ((int64_t)t.out[G + g], best);
		} else {
			ASSERT_EQ((int64_t)t.out[g], best);
		}
	}
	free(idx);
	pt_free(&t);
}

TEST(proto_max_groups)
{
	for (int n = 2; n <= 4; n++)
		groups_case(n, 0, 9);
	return 0;
}

/* Groups of at most 4 (MaxPool 2x2) take the one-level all-pairs path. */
TEST(proto_max_small_groups)
{
	for (int n = 2; n <= 4; n++)
		groups_case(n, 0, 4);
	return 0;
}

TEST(proto_argmax_groups)
{
	for (int n = 2; n <= 4; n++)
		groups_case(n, 1, 9);
	return 0;
}

/* ---- sigmoid, softmax ---- */

static int sig_need_t(struct ptest *t, struct corr_list *l)
{
	return sigmoid_need(l, t->nx, 16);
}

static int sig_run(struct ptest *t, struct mpc *m, const uint64_t *x,
		   const uint64_t *y, uint64_t *out)
{
	(void)y;
	return mpc_sigmoid(m, x, t->nx, out);
}

TEST(proto_sigmoid)
{
	for (int n = 2; n <= 4; n++) {
		struct ptest t = { .need = sig_need_t, .run = sig_run };
		double worst = 0;

		pt_alloc(&t, 1000, 0, 1000);
		for (size_t i = 0; i < 1000; i++) {
			double v = i < 900 ? -10.0 + 20.0 * (double)i / 900 :
					     ((i % 2) ? 1e5 : -1e5) * (double)(i - 899);

			t.x[i] = fxp_from_double(v, 16);
		}
		pt_exec(&t, n);
		for (size_t i = 0; i < 1000; i++) {
			double v = fxp_to_double(t.x[i], 16);
			double want = 1.0 / (1.0 + exp(-v)), got = fxp_to_double(t.out[i], 16);

			if (fabs(got - want) > worst)
				worst = fabs(got - want);
		}
		ASSERT(worst < 1.5e-3);
		pt_free(&t);
	}
	return 0;
}

static int smax_need_t(struct ptest *t, struct corr_list *l)
{
	return softmax_need(l, t->outer, t->k, t->inner, 16);
}

static int smax_run(struct ptest *t, struct mpc *m, const uint64_t *x,
		    const uint64_t *y, uint64_t *out)
{
	(void)y;
	return mpc_softmax(m, x, t->outer, t->k, t->inner, out);
}

static void softmax_case(int n, size_t outer, size_t k, size_t inner, double scale)
{
	struct ptest t = { .need = smax_need_t, .run = smax_run, .outer = outer,
			   .k = k, .inner = inner };
	size_t len = outer * k * inner;
	double worst = 0;

	pt_alloc(&t, len, 0, len);
	for (size_t i = 0; i < len; i++) {
		uint64_t r;

		randombytes_buf(&r, sizeof(r));
		t.x[i] = fxp_from_double(((double)(r % 20001) / 10000.0 - 1.0) * scale, 16);
	}
	pt_exec(&t, n);
	for (size_t o = 0; o < outer; o++)
		for (size_t in = 0; in < inner; in++) {
			double mx = -1e300, sum = 0;

			for (size_t j = 0; j < k; j++)
				mx = fmax(mx, fxp_to_double(t.x[(o * k + j) * inner + in], 16));
			for (size_t j = 0; j < k; j++)
				sum += exp(fxp_to_double(t.x[(o * k + j) * inner + in], 16) - mx);
			for (size_t j = 0; j < k; j++) {
				size_t at = (o * k + j) * inner + in;
				double want = exp(fxp_to_double(t.x[at], 16) - mx) / sum;
				double got = fxp_to_double(t.out[at], 16);

				worst = fmax(worst, fabs(got - want));
			}
		}
	if (worst >= 2e-3)
		TEST_FAIL("softmax [%zu, %zu, %zu] x%g: worst error %g", outer, k, inner,
			  scale, worst);
	pt_free(&t);
}

TEST(proto_softmax)
{
	for (int n = 2; n <= 4; n++) {
		softmax_case(n, 50, 10, 1, 5.0);
		softmax_case(n, 3, 4, 7, 40.0);
		softmax_case(n, 5, 1, 2, 3.0);
	}
	return 0;
}

/* ---- failure ---- */

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

/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * In-process benchmarks (protocol layer only): every party a thread of
 * this process over net_local. One JSON object per line on stdout:
 *   {"path":"inproc","workload":...,"parties":...,"batch":...,
 *    "offline_s":...,"online_s":...,"online_bytes_per_party":...,
 *    "offline_bytes_dealer":...,"online_rounds":...,"plaintext_s":...}
 * Times are medians of --reps runs; bytes and rounds are exact counts.
 * Usage: mpc-bench [--reps N] [--parties 2,3] [--quick] [--only WORKLOAD]
 *                  [--threads N[,N...]]
 * With several thread counts ([Node] Threads: the pool of local
 * arithmetic, crypto/pool.h), every rep runs each in turn, so they share
 * the machine's state; one line per count, with "threads" and "rows_per_s"
 * (batch over offline + weights + online).
 *        mpc-bench --npy OUT.npy D0,D1,...   (a random input file)
 *        mpc-bench --onnx OUT.onnx relu|mul|matmul N (a primitive as a model)
 */
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval.h"
#include "model.h"
#include "npy.h"
#include "ops.h"
#include "pool.h"
#include "prim_models.h"
#include "sim_model.h"

struct result {
	double offline, weights, online, layers, plain;
	uint64_t bytes, dealer_bytes, rounds, weights_bytes;
};

/* --threads: the counts compared, in the order each rep runs them. */
#define MAX_TCOUNTS 4
static int tcounts[MAX_TCOUNTS] = { 0 }, n_tcounts = 1;

/* Run k's thread count: each rep in turn, every other rep reversed. */
static int turn(int k)
{
	int i = k % n_tcounts;

	return (k / n_tcounts) % 2 ? n_tcounts - 1 - i : i;
}

static int use_threads(int ti)
{
	if (pool_set_threads(tcounts[ti]) != 0) {
		fprintf(stderr, "mpc-bench: %s\n", mpc_errmsg(MPC_E_INTERNAL));
		return MPC_E_INTERNAL;
	}
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return v[n / 2];
}

static void rand_floats(float *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		v[i] = (float)((double)randombytes_random() / 4294967295.0 * 2.0 - 1.0);
}

static void print(const char *workload, int parties, int batch, int ti, const struct result *r)
{
	double all = r->offline + r->weights + r->online;

	printf("{\"path\": \"inproc\", \"workload\": \"%s\", \"parties\": %d, \"batch\": %d, "
	       "\"threads\": %d, \"rows_per_s\": %.1f, "
	       "\"offline_s\": %.6f, \"weights_s\": %.6f, \"weights_bytes_per_party\": %llu, \"online_s\": %.6f, \"layers_s\": %.6f, \"online_bytes_per_party\": %llu, "
	       "\"offline_bytes_dealer\": %llu, \"online_rounds\": %llu, \"plaintext_s\": %.6f}\n",
	       workload, parties, batch, tcounts[ti], all > 0 ? batch / all : 0.0, r->offline, r->weights,
	       (unsigned long long)r->weights_bytes, r->online, r->layers, (unsigned long long)r->bytes,
	       (unsigned long long)r->dealer_bytes, (unsigned long long)r->rounds, r->plain);
	fflush(stdout);
}

static void from_job(const struct sim_job *job, struct result *r, double *off, double *on,
		     double *lay, double *wt)
{
	uint64_t b, rounds;
	double s;

	sim_phase_summary(job, NET_PH_OFFLINE, off, &r->dealer_bytes, &rounds);
	sim_phase_summary(job, NET_PH_SETUP, &s, &b, &rounds);
	*off += s;
	sim_phase_summary(job, NET_PH_ONLINE, lay, &b, &rounds);
	sim_phase_summary(job, NET_PH_WEIGHTS, wt, &r->weights_bytes, &rounds);
	*on = 0;
	r->bytes = r->rounds = 0;
	for (int ph = NET_PH_INPUT; ph <= NET_PH_OUTPUT; ph++) {
		sim_phase_summary(job, ph, &s, &b, &rounds);
		*on += s;
		r->bytes += b;
		r->rounds += rounds;
	}
	/* the dealer is the one sending offline bytes */
	r->dealer_bytes = job->st[job->n_parties][NET_PH_OFFLINE].bytes_sent;
}

/* ---- networks ---- */

static int bench_model(const char *name, const char *path, const char *input, int batch,
		       int parties, int reps)
{
	struct model *m = NULL;
	struct ftensor x = { 0 }, ref = { 0 };
	double off[MAX_TCOUNTS][16], on[MAX_TCOUNTS][16], lay[MAX_TCOUNTS][16];
	double wt[MAX_TCOUNTS][16], pl[16];
	struct result r[MAX_TCOUNTS] = { 0 };
	int ret;

	if ((ret = model_load_onnx(path, &m)) != 0)
		goto out;
	if (input) {
		struct ftensor full;
		int64_t d[FT_MAX_DIMS];

		if ((ret = npy_load(input, &full)) != 0)
			goto out;
		memcpy(d, full.dims, sizeof(d));
		d[0] = batch;
		ret = ftensor_alloc(&x, full.ndim, d);
		if (!ret)
			for (size_t i = 0; i < x.n; i++)
				x.data[i] = full.data[i % full.n];
		ftensor_free(&full);
		if (ret)
			goto out;
	} else {
		const struct model_value *in = &m->values[m->inputs[0]];
		int64_t d[FT_MAX_DIMS];

		for (int k = 0; k < in->init.ndim; k++)
			d[k] = in->init.dims[k] < 0 ? batch : in->init.dims[k];
		d[0] = batch;
		if ((ret = ftensor_alloc(&x, in->init.ndim, d)) != 0)
			goto out;
		rand_floats(x.data, x.n);
	}
	{
		int64_t dims[1][FT_MAX_DIMS];
		int nd = x.ndim;

		memcpy(dims[0], x.dims, sizeof(dims[0]));
		if ((ret = model_infer(m, (const int64_t(*)[FT_MAX_DIMS])dims, &nd)) != 0)
			goto out;
	}
	for (int k = 0; k < reps; k++) {
		double t0 = net_now();

		if ((ret = model_ref_eval(m, &x, &ref)) != 0)
			goto out;
		pl[k] = net_now() - t0;
		ftensor_free(&ref);
	}
	model_weight_exps(m); /* the owner's weight scales, as simulate and mpcd */
	if ((ret = eval_fold_batchnorm(m)) != 0)
		goto out;
	for (int k = 0; k < reps * n_tcounts; k++) {
		struct eval_part part = { .owner = 0, .ndim = x.ndim, .data = x.data };
		struct eval_input in = { .n_parts = 1, .axis = 0, .parts = &part };
		struct sim_model s = { .md = m, .n_parties = parties, .frac = 16,
				       .owner = parties - 1, .recipient = 0, .inputs = &in };
		int ti = turn(k), rep = k / n_tcounts;

		memcpy(part.dims, x.dims, sizeof(part.dims));
		if ((ret = use_threads(ti)) != 0)
			goto out;
		if ((ret = sim_model_run(&s)) != 0) {
			sim_model_free(&s);
			goto out;
		}
		from_job(&s.job, &r[ti], &off[ti][rep], &on[ti][rep], &lay[ti][rep], &wt[ti][rep]);
		sim_model_free(&s);
	}
	for (int ti = 0; ti < n_tcounts; ti++) {
		r[ti].offline = median(off[ti], reps);
		r[ti].online = median(on[ti], reps);
		r[ti].layers = median(lay[ti], reps);
		r[ti].weights = median(wt[ti], reps);
		r[ti].plain = median(pl, reps);
		print(name, parties, batch, ti, &r[ti]);
	}
out:
	if (ret)
		fprintf(stderr, "mpc-bench: %s: %s\n", name, mpc_errmsg(ret));
	ftensor_free(&x);
	model_free(m);
	return ret;
}

/* ---- primitives ---- */

enum prim { P_RELU, P_MUL, P_MATMUL };

struct prim_arg {
	enum prim kind;
	size_t n;
	struct bilin bl;
};

static int prim_need(void *arg, struct corr_list *l)
{
	struct prim_arg *p = arg;

	switch (p->kind) {
	case P_RELU:
		return relu_need(l, p->n, 16);
	case P_MUL:
	case P_MATMUL:
		return beaver_bilin_need(l, &p->bl);
	}
	return 0;
}

static int prim_run(struct mpc *m, void *arg)
{
	struct prim_arg *p = arg;
	size_t xl = p->kind == P_RELU ? p->n : bilin_x_len(&p->bl);
	size_t yl = p->kind == P_RELU ? 0 : bilin_y_len(&p->bl);
	size_t zl = p->kind == P_RELU ? p->n : bilin_z_len(&p->bl);
	uint64_t *x = mpc_alloc(xl), *y = mpc_alloc(yl), *z = mpc_alloc(zl);
	int ret = MPC_E_NOMEM;

	if (!x || !y || !z)
		goto out;
	/* Random shares: the protocols' cost does not depend on the values. */
	randombytes_buf(x, xl * 8);
	randombytes_buf(y, yl * 8);
	for (size_t i = 0; i < xl; i++)
		x[i] = (uint64_t)((int64_t)x[i] >> 24);
	net_set_phase(m->net, NET_PH_ONLINE);
	ret = p->kind == P_RELU ? mpc_relu(m, x, p->n, 16, z) : beaver_bilin(m, &p->bl, x, y, z);
out:
	mpc_free_words(x, xl);
	mpc_free_words(y, yl);
	mpc_free_words(z, zl);
	return ret;
}

static int bench_prim(const char *name, struct prim_arg *p, int parties, int reps)
{
	double off[MAX_TCOUNTS][16], on[MAX_TCOUNTS][16], lay[MAX_TCOUNTS][16];
	double wt[MAX_TCOUNTS][16];
	struct result r[MAX_TCOUNTS] = { 0 };
	int ret;

	for (int k = 0; k < reps * n_tcounts; k++) {
		struct sim_job job = { .n_parties = parties, .frac = 16, .need = prim_need,
				       .run = prim_run, .arg = p };
		int ti = turn(k), rep = k / n_tcounts;

		if ((ret = use_threads(ti)) != 0)
			return ret;
		if ((ret = sim_run(&job)) != 0) {
			fprintf(stderr, "mpc-bench: %s: %s\n", name, job.err);
			return ret;
		}
		from_job(&job, &r[ti], &off[ti][rep], &on[ti][rep], &lay[ti][rep], &wt[ti][rep]);
	}
	for (int ti = 0; ti < n_tcounts; ti++) {
		r[ti].offline = median(off[ti], reps);
		r[ti].online = median(on[ti], reps);
		r[ti].layers = median(lay[ti], reps);
		r[ti].weights = median(wt[ti], reps);
		print(name, parties, 1, ti, &r[ti]);
	}
	return 0;
}

int main(int argc, char **argv)
{
	int reps = 3, quick = 0, plist[2] = { 2, 3 }, np = 2, fails = 0;
	const char *only = NULL;
	static const char *const fixtures[] = { "iris_logreg", "digits_mlp", "wine_mlp",
						"tiny_cnn", "digits_resavg", "digits_bn_softmax" };

	if (argc == 5 && !strcmp(argv[1], "--onnx")) {
		/* mpc-bench --onnx OUT.onnx relu|mul|matmul N */
		return prim_model_write(argv[2], argv[3], (size_t)strtoull(argv[4], NULL, 10)) ? 1 : 0;
	}
	if (argc == 4 && !strcmp(argv[1], "--npy")) {
		/* mpc-bench --npy OUT.npy D0,D1,...: a random input in [-1, 1] */
		struct ftensor t = { 0 };
		int64_t d[FT_MAX_DIMS];
		int nd = 0, ret;
		char *p = argv[3];

		while (*p && nd < FT_MAX_DIMS) {
			d[nd++] = strtoll(p, &p, 10);
			if (*p == ',')
				p++;
		}
		if (sodium_init() < 0 || (ret = ftensor_alloc(&t, nd, d)) != 0)
			return 1;
		rand_floats(t.data, t.n);
		ret = npy_save_f32(argv[2], &t);
		ftensor_free(&t);
		return ret ? 1 : 0;
	}
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--reps") && i + 1 < argc)
			reps = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--quick"))
			quick = 1;
		else if (!strcmp(argv[i], "--only") && i + 1 < argc)
			only = argv[++i];
		else if (!strcmp(argv[i], "--parties") && i + 1 < argc)
			np = sscanf(argv[++i], "%d,%d", &plist[0], &plist[1]);
		else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
			n_tcounts = sscanf(argv[++i], "%d,%d,%d,%d", &tcounts[0], &tcounts[1],
					   &tcounts[2], &tcounts[3]);
	}
	if (!tcounts[0])
		tcounts[0] = pool_cores();
	for (int i = 0; i < n_tcounts; i++)
		if (tcounts[i] < 1 || tcounts[i] > POOL_MAX_THREADS)
			n_tcounts = 0;
	if (reps < 1 || reps > 15 || np < 1 || n_tcounts < 1)
		return 2;
	if (sodium_init() < 0)
		return 1;
	mpc_tune_malloc();
	for (int pi = 0; pi < np; pi++) {
		int n = plist[pi];
		struct prim_arg p;
		int64_t d = 1000000;

#define WANT(w) (!only || !strcmp(only, (w)))
		p = (struct prim_arg){ .kind = P_RELU, .n = 100000 };
		if (WANT("relu_1e5"))
			fails += !!bench_prim("relu_1e5", &p, n, reps);
		p = (struct prim_arg){ .kind = P_MUL };
		(void)bilin_mul(&p.bl, 1, &d, 1, &d, 1, &d);
		if (WANT("mul_1e6"))
			fails += !!bench_prim("mul_1e6", &p, n, reps);
		p = (struct prim_arg){ .kind = P_MATMUL };
		(void)bilin_matmul(&p.bl, 128, 784, 64);
		if (WANT("matmul_128x784x64"))
			fails += !!bench_prim("matmul_128x784x64", &p, n, reps);
		if (WANT("secureml")) {
			fails += !!bench_model("secureml", "bench/models/secureml.onnx", NULL, 1, n, reps);
			fails += !!bench_model("secureml", "bench/models/secureml.onnx", NULL, 64, n, reps);
		}
		if (WANT("lenet")) {
			fails += !!bench_model("lenet", "bench/models/lenet.onnx", NULL, 1, n, reps);
			if (!quick)
				fails += !!bench_model("lenet", "bench/models/lenet.onnx", NULL, 64, n, reps);
		}
		for (size_t f = 0; f < sizeof(fixtures) / sizeof(fixtures[0]); f++) {
			char path[256], in[256];

			if (!WANT(fixtures[f]))
				continue;
			snprintf(path, sizeof(path), "tests/fixtures/%s/model.onnx", fixtures[f]);
			snprintf(in, sizeof(in), "tests/fixtures/%s/input.npy", fixtures[f]);
			fails += !!bench_model(fixtures[f], path, in, 64, n, reps);
		}
	}
	return fails ? 1 : 0;
}

/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * mpcctl inspect: what a model is before anyone runs it. Its data inputs
 * and outputs (symbolic dims shown as '?'), its ops, whether a job can run
 * it, the offline cost of one batch (the evaluator's "need" walk, without
 * running the protocol), and the public graph hash, the line a data owner
 * pastes into [Policy] AllowModels.
 *
 * Exit status: 0 shown; 1 a file is missing or not a model this mpcd
 * imports (one line on stderr); 2 the command line is wrong.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "eval.h"
#include "fxp.h"
#include "model.h"
#include "npy.h"

#define INSPECT_MAX_FILE ((size_t)1 << 30)
#define INSPECT_MAX_BATCH 1000000

static const char usage_text[] =
	"usage: mpcctl inspect --model M.onnx [--weights W.safetensors] [--batch N] [--json]\n"
	"\n"
	"Shows the model's data inputs, outputs and ops, whether a job can run it, the\n"
	"offline cost of a batch of N rows (default 1; a symbolic first dim is N) and the\n"
	"public graph hash that [Policy] AllowModels lists.\n";

struct cost {
	int ok;
	char why[256];
	size_t requests;
	uint64_t material_bytes; /* per party */
	uint64_t dealer_bytes;   /* the dealer's corrections, in all */
	uint64_t weight_values;
};

/* The need walk for a batch: offline material per party, nothing run. */
static void estimate(struct model *m, int64_t batch, struct cost *c)
{
	int64_t dims[MODEL_MAX_IN * 4][FT_MAX_DIMS];
	int nd[MODEL_MAX_IN * 4];
	const char *names[MODEL_MAX_IN * 4];
	struct corr_list l = { 0 };
	int ret, ok = 1;

	if (m->n_inputs > sizeof(nd) / sizeof(nd[0])) {
		snprintf(c->why, sizeof(c->why), "%zu data inputs", m->n_inputs);
		return;
	}
	/* Weights not given cost the same: known by their shapes, as on a peer. */
	for (size_t i = 0; i < m->n_inputs; i++)
		names[i] = m->values[m->inputs[i]].name;
	if ((ret = model_declare_weights(m, names, m->n_inputs)) != 0) {
		snprintf(c->why, sizeof(c->why), "%s", mpc_errmsg(ret));
		return;
	}
	for (size_t i = 0; i < m->n_inputs; i++) {
		const struct model_value *v = &m->values[m->inputs[i]];

		if (v->init.ndim < 0) {
			snprintf(c->why, sizeof(c->why), "input '%s' declares no shape", v->name);
			return;
		}
		nd[i] = v->init.ndim;
		for (int d = 0; d < v->init.ndim; d++) {
			if (v->init.dims[d] >= 0) {
				dims[i][d] = v->init.dims[d];
			} else if (d == 0) {
				dims[i][d] = batch;
			} else {
				snprintf(c->why, sizeof(c->why),
					 "input '%s': dim %d is symbolic (only the batch may be)",
					 v->name, d);
				return;
			}
		}
	}
	if ((ret = model_infer(m, (const int64_t(*)[FT_MAX_DIMS])dims, nd)) != 0 ||
	    (ret = eval_fold_batchnorm(m)) != 0 ||
	    (ret = eval_need(m, FXP_DEFAULT_FRAC, &l)) != 0) {
		snprintf(c->why, sizeof(c->why), "%s", mpc_errmsg(ret));
		corr_list_free(&l);
		return;
	}
	c->requests = l.n;
	c->material_bytes = (uint64_t)corr_list_mat_words(&l) * 8;
	for (size_t i = 0; i < l.n; i++)
		c->dealer_bytes += (uint64_t)corr_fix_len(&l.v[i]) * 8;
	for (size_t i = 0; i < m->n_values; i++)
		if (m->values[i].init.data || m->values[i].shape_only)
			c->weight_values += (uint64_t)ftensor_count(m->values[i].ndim,
								   m->values[i].dims, &ok);
	c->ok = 1;
	corr_list_free(&l);
}

/* "[?, 64]" in text, "[null, 64]" in JSON. */
static void put_shape(const struct model_value *v, int json)
{
	if (v->init.ndim < 0) {
		fputs(json ? "null" : "(any)", stdout);
		return;
	}
	putchar('[');
	for (int d = 0; d < v->init.ndim; d++) {
		if (v->init.dims[d] >= 0)
			printf("%s%lld", d ? ", " : "", (long long)v->init.dims[d]);
		else
			printf("%s%s", d ? ", " : "", json ? "null" : "?");
	}
	putchar(']');
}

static void put_values(const struct model *m, const int *idx, size_t n, int json)
{
	for (size_t i = 0; i < n; i++) {
		const struct model_value *v = &m->values[idx[i]];

		if (json) {
			printf("%s{\"name\": ", i ? ", " : "");
			cli_json_str(v->name);
			printf(", \"shape\": ");
			put_shape(v, 1);
			putchar('}');
		} else {
			char nb[256];

			printf("%s%s ", i ? ", " : "", cli_clean(nb, sizeof(nb), v->name));
			put_shape(v, 0);
		}
	}
}

static void put_ops(const size_t *count, int json)
{
	int first = 1;

	for (int op = 0; op < MOP_COUNT_; op++) {
		size_t n = count[op];

		if (!n)
			continue;
		if (json)
			printf("%s\"%s\": %zu", first ? "" : ", ", model_op_name(op), n);
		else
			printf("%s%s %zu", first ? "" : ", ", model_op_name(op), n);
		first = 0;
	}
}

static void report(const char *path, const struct model *m, const size_t *ops, int64_t batch,
		   const char *job_why, const struct cost *c, const char *hash, int json)
{
	char a[32], b[32], t[512];

	if (json) {
		printf("{\"model\": ");
		cli_json_str(path);
		printf(", \"opset\": %lld, \"inputs\": [", (long long)m->opset);
		put_values(m, m->inputs, m->n_inputs, 1);
		printf("], \"outputs\": [");
		put_values(m, m->outputs, m->n_outputs, 1);
		printf("], \"nodes\": %zu, \"ops\": {", m->n_nodes);
		put_ops(ops, 1);
		printf("}, \"job\": ");
		if (job_why)
			cli_json_str(job_why);
		else
			printf("\"ok\"");
		printf(", \"batch\": %lld, \"cost\": ", (long long)batch);
		if (c->ok)
			printf("{\"offline_requests\": %zu, \"offline_bytes_per_party\": %llu, "
			       "\"dealer_bytes\": %llu, \"weight_values\": %llu}",
			       c->requests, (unsigned long long)c->material_bytes,
			       (unsigned long long)c->dealer_bytes,
			       (unsigned long long)c->weight_values);
		else
			cli_json_str(c->why);
		printf(", \"public_graph_hash\": \"%s\"}\n", hash);
		return;
	}
	/* Names come from the file, which may be someone else's: no escapes. */
	printf("model    %s (opset %lld, %zu nodes)\n", cli_clean(t, sizeof(t), path),
	       (long long)m->opset, m->n_nodes);
	printf("inputs   ");
	put_values(m, m->inputs, m->n_inputs, 0);
	printf("\noutputs  ");
	put_values(m, m->outputs, m->n_outputs, 0);
	printf("\nops      ");
	put_ops(ops, 0);
	printf("\njob      %s\n", job_why ? cli_clean(t, sizeof(t), job_why) : "ok");
	if (c->ok) {
		cli_bytes(a, sizeof(a), c->material_bytes);
		cli_bytes(b, sizeof(b), c->dealer_bytes);
		printf("offline  batch %lld: %zu requests, %s material per party, %s from the "
		       "dealer; %llu weight values shared\n",
		       (long long)batch, c->requests, a, b, (unsigned long long)c->weight_values);
	} else {
		printf("offline  batch %lld: not estimated: %s\n", (long long)batch,
		       cli_clean(t, sizeof(t), c->why));
	}
	printf("hash     %s\n", hash);
}

int inspect_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "model", required_argument, NULL, 'm' },
		{ "weights", required_argument, NULL, 'w' },
		{ "batch", required_argument, NULL, 'b' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = NULL, *weights = NULL;
	char hash[MODEL_HASH_HEX], job_why[256], *end;
	uint8_t *buf = NULL, *pub = NULL;
	size_t len = 0, plen = 0;
	struct model *m = NULL;
	struct cost cost = { 0 };
	size_t ops[MOP_COUNT_] = { 0 };
	long long batch = 1;
	int c, json = 0, ret, status = 1, job_ok;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'm':
			path = optarg;
			break;
		case 'w':
			weights = optarg;
			break;
		case 'b':
			batch = strtoll(optarg, &end, 10);
			if (!*optarg || *end || batch < 1 || batch > INSPECT_MAX_BATCH)
				return cli_error("inspect", NULL,
						 "--batch '%s': expected an integer from 1 to %d",
						 optarg, INSPECT_MAX_BATCH);
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			return cli_error("inspect", NULL, "unknown option or missing value: %s "
					 "(see mpcctl inspect --help)", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_error("inspect", NULL, "unexpected argument '%s'", argv[optind]);
	if (!path)
		return cli_error("inspect", NULL, "--model FILE is required");
	if ((ret = file_read_all(path, INSPECT_MAX_FILE, &buf, &len)) != 0 ||
	    (ret = model_parse_onnx(buf, len, path, &m)) != 0 ||
	    (weights && (ret = model_bind_safetensors(m, weights)) != 0) ||
	    (ret = model_public_graph(buf, len, m, &pub, &plen)) != 0) {
		fprintf(stderr, "mpcctl inspect: %s\n", mpc_errmsg(ret));
		goto out;
	}
	model_public_hash(pub, plen, hash);
	job_ok = (ret = model_check_job(m)) == 0;
	snprintf(job_why, sizeof(job_why), "refused: %s", job_ok ? "" : mpc_errmsg(ret));
	/* Counted before the estimate folds BatchNormalization away. */
	for (size_t k = 0; k < m->n_nodes; k++)
		ops[m->nodes[k].op]++;
	estimate(m, batch, &cost);
	report(path, m, ops, batch, job_ok ? NULL : job_why, &cost, hash, json);
	status = cli_flush("inspect");
out:
	model_free(m);
	free(buf);
	free(pub);
	return status;
}

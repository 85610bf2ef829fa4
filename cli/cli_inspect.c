/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * mpcctl inspect: what a model is before anyone runs it. Its data inputs
 * and outputs (symbolic dims shown as '?', element types), its weights,
 * its ops (those computed in public from shapes apart), whether a job can
 * run it, every value's shape for a batch (--shapes), the offline cost of
 * that batch (the evaluator's "need" walk, without running the protocol),
 * with --online the online cost measured by running the protocol
 * in-process on zeros (rounds and bytes do not depend on the values), and
 * the public graph hash, the line a data owner pastes into [Policy]
 * AllowModels.
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
#include "sim_model.h"

#define INSPECT_MAX_FILE ((size_t)1 << 30)
#define INSPECT_MAX_BATCH 1000000

static const char usage_text[] =
	"usage: mpcctl inspect --model M.onnx [--weights W.safetensors] [--batch N]\n"
	"                      [--shape INPUT=D0,D1,...] [--shapes] [--online [--parties P]]\n"
	"                      [--json]\n"
	"\n"
	"Shows the model's data inputs and outputs (shapes, element types), its weights,\n"
	"its ops (those computed in public from shapes and integer constants counted\n"
	"apart), whether a job can run it, the offline cost of a batch of N rows (default\n"
	"1; a symbolic first dim is N) and the public graph hash that [Policy]\n"
	"AllowModels lists. --shapes: every node's output shape for the batch (and the\n"
	"values of the public ones). --online: the online cost for P parties (default 3),\n"
	"measured by running the protocol in this process on zeros (the cost does not\n"
	"depend on the values; weights not given are zeros too). --shape: an input's\n"
	"whole shape, for symbolic dims beyond the batch (a sequence length).\n";

/* --shape NAME=D0,D1,...: a data input's whole shape (symbolic dims beyond the batch). */
#define INSPECT_MAX_SHAPES 8
struct shape_arg {
	const char *name;
	size_t name_len;
	int ndim;
	int64_t dims[FT_MAX_DIMS];
};

static int parse_shape(const char *arg, struct shape_arg *sa)
{
	const char *eq = strrchr(arg, '='), *p;
	char *end;

	if (!eq || eq == arg || !eq[1])
		return cli_error("inspect", NULL, "--shape '%s': expected NAME=D0,D1,...", arg);
	sa->name = arg;
	sa->name_len = (size_t)(eq - arg);
	sa->ndim = 0;
	for (p = eq + 1;; p = end + 1) {
		long long d = strtoll(p, &end, 10);

		if (end == p || d < 0 || d > INSPECT_MAX_BATCH || sa->ndim == FT_MAX_DIMS ||
		    (*end && *end != ','))
			return cli_error("inspect", NULL,
					 "--shape '%s': expected NAME=D0,D1,... (at most %d dims "
					 "from 0 to %d)",
					 arg, FT_MAX_DIMS, INSPECT_MAX_BATCH);
		sa->dims[sa->ndim++] = d;
		if (!*end)
			break;
	}
	return 0;
}

static const struct shape_arg *shape_for(const struct shape_arg *sa, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (strlen(name) == sa[i].name_len && !strncmp(name, sa[i].name, sa[i].name_len))
			return &sa[i];
	return NULL;
}

struct cost {
	int ok;
	char why[256];
	size_t requests;
	uint64_t material_bytes; /* per party */
	uint64_t dealer_bytes;   /* the dealer's corrections, in all */
	uint64_t weight_values;
	/* --online */
	int parties, online_ok;
	char online_why[256];
	uint64_t online_bytes, online_rounds, weights_bytes, input_bytes;
};

/*
 * The online phase for c->parties on zeros: the weights not given get
 * zero values here (this copy only), the data inputs are zeros owned by
 * party 0, and the protocol runs with every party in this process.
 */
static void measure_online(struct model *m, struct cost *c)
{
	struct sim_model s = { .md = m, .n_parties = c->parties, .frac = FXP_DEFAULT_FRAC,
			       .owner = c->parties - 1, .recipient = 0 };
	struct eval_input in[MODEL_MAX_IN * 4];
	struct eval_part part[MODEL_MAX_IN * 4];
	struct ftensor zero[MODEL_MAX_IN * 4] = { 0 };
	double secs;
	int ret = 0;

	for (size_t i = 0; i < m->n_values && !ret; i++) {
		struct model_value *v = &m->values[i];
		int64_t d[FT_MAX_DIMS];

		if (!v->shape_only)
			continue;
		memcpy(d, v->dims, sizeof(d));
		if ((ret = ftensor_alloc(&v->init, v->ndim, d)) == 0)
			v->shape_only = 0;
	}
	for (size_t i = 0; i < m->n_inputs && !ret; i++) {
		const struct model_value *v = &m->values[m->inputs[i]];

		if ((ret = ftensor_alloc(&zero[i], v->ndim, v->dims)) != 0)
			break;
		part[i] = (struct eval_part){ .owner = 0, .ndim = v->ndim, .data = zero[i].data };
		memcpy(part[i].dims, v->dims, sizeof(part[i].dims));
		in[i] = (struct eval_input){ .n_parts = 1, .axis = 0, .parts = &part[i] };
	}
	s.inputs = in;
	if (ret || (ret = sim_model_run(&s)) != 0) {
		snprintf(c->online_why, sizeof(c->online_why), "%s",
			 s.job.err[0] ? s.job.err : mpc_errmsg(ret));
	} else {
		sim_phase_summary(&s.job, NET_PH_ONLINE, &secs, &c->online_bytes,
				  &c->online_rounds);
		sim_phase_summary(&s.job, NET_PH_WEIGHTS, &secs, &c->weights_bytes, &(uint64_t){ 0 });
		sim_phase_summary(&s.job, NET_PH_INPUT, &secs, &c->input_bytes, &(uint64_t){ 0 });
		c->online_ok = 1;
	}
	sim_model_free(&s);
	for (size_t i = 0; i < m->n_inputs; i++)
		ftensor_free(&zero[i]);
}

/* The need walk for a batch: offline material per party, nothing run. */
static void estimate(struct model *m, int64_t batch, const struct shape_arg *sa, int n_sa,
		     struct cost *c)
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
	for (int k = 0; k < n_sa; k++) {
		size_t i;

		for (i = 0; i < m->n_inputs; i++)
			if (strlen(m->values[m->inputs[i]].name) == sa[k].name_len &&
			    !strncmp(m->values[m->inputs[i]].name, sa[k].name, sa[k].name_len))
				break;
		if (i == m->n_inputs) {
			snprintf(c->why, sizeof(c->why), "--shape: '%.*s' is not a data input",
				 (int)sa[k].name_len, sa[k].name);
			return;
		}
	}
	for (size_t i = 0; i < m->n_inputs; i++) {
		const struct model_value *v = &m->values[m->inputs[i]];
		const struct shape_arg *given = shape_for(sa, n_sa, v->name);

		if (given) {
			nd[i] = given->ndim;
			memcpy(dims[i], given->dims, sizeof(dims[i]));
			continue;
		}
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
					 "input '%s': dim %d is symbolic: give the input's shape "
					 "with --shape %s=D0,D1,...",
					 v->name, d, v->name);
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
		if ((m->values[i].init.data || m->values[i].shape_only) && !m->values[i].is_public)
			c->weight_values += (uint64_t)ftensor_count(m->values[i].ndim,
								   m->values[i].dims, &ok);
	c->ok = 1;
	corr_list_free(&l);
	if (c->parties)
		measure_online(m, c);
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

		const char *type = v->decl_type ? model_type_name(v->decl_type) : "FLOAT";

		if (json) {
			printf("%s{\"name\": ", i ? ", " : "");
			cli_json_str(v->name);
			printf(", \"shape\": ");
			put_shape(v, 1);
			printf(", \"type\": \"%s\"}", type);
		} else {
			char nb[256];

			printf("%s%s ", i ? ", " : "", cli_clean(nb, sizeof(nb), v->name));
			put_shape(v, 0);
			printf(" %s", type);
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

/* A node's output: its inferred shape, and a public value's values when short. */
static void put_value(const struct model *m, const struct model_node *n, int json)
{
	const struct model_value *v = &m->values[n->out];
	char t[256];

	if (json) {
		printf("{\"node\": ");
		cli_json_str(n->name);
		printf(", \"op\": \"%s\", \"name\": ", model_op_name(n->op));
		cli_json_str(v->name);
		printf(", \"shape\": [");
	} else {
		printf("  %-28s %-18s ", cli_clean(t, sizeof(t), n->name), model_op_name(n->op));
		putchar('[');
	}
	for (int d = 0; d < v->ndim; d++)
		printf("%s%lld", d ? ", " : "", (long long)v->dims[d]);
	putchar(']');
	if (n->folded && v->known) {
		size_t cnt = ftensor_count(v->ndim, v->dims, &(int){ 1 });

		printf(json ? ", \"public\": [" : "  public");
		if (!json && cnt <= 8)
			printf(" [");
		for (size_t i = 0; i < cnt && (json || cnt <= 8); i++)
			printf("%s%lld", i ? ", " : "", (long long)v->known[i]);
		if (json || cnt <= 8)
			putchar(']');
	}
	if (json)
		putchar('}');
	else
		putchar('\n');
}

static void put_weights(const struct model *m, int json)
{
	size_t n = 0, given = 0;
	uint64_t values = 0;
	int ok = 1;

	for (size_t i = 0; i < m->n_values; i++) {
		const struct model_value *v = &m->values[i];

		/* Integer constants used as public structure are not weights. */
		if ((!v->init.data && !v->shape_only) || v->is_public)
			continue;
		n++;
		given += v->init.data != NULL;
		values += ftensor_count(v->init.ndim, v->init.dims, &ok);
	}
	if (json)
		printf("\"weights\": {\"tensors\": %zu, \"values\": %llu, \"given\": %zu}", n,
		       (unsigned long long)values, given);
	else
		printf("weights  %zu tensors, %llu values%s\n", n, (unsigned long long)values,
		       given == n ? "" : given ? " (some not given: known by their shapes only)" :
		       " (not given: known by their shapes only)");
}

static void report(const char *path, const struct model *m, const size_t *ops,
		   const size_t *pub_ops, int64_t batch, const char *job_why, const struct cost *c,
		   const char *hash, int json, int shapes)
{
	char a[32], b[32], t[512];

	if (json) {
		printf("{\"model\": ");
		cli_json_str(path);
		printf(", \"opset\": %lld, \"inputs\": [", (long long)m->opset);
		put_values(m, m->inputs, m->n_inputs, 1);
		printf("], \"outputs\": [");
		put_values(m, m->outputs, m->n_outputs, 1);
		printf("], ");
		put_weights(m, 1);
		printf(", \"nodes\": %zu, \"ops\": {", m->n_nodes);
		put_ops(ops, 1);
		printf("}, \"public_ops\": {");
		put_ops(pub_ops, 1);
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
		if (c->ok) {
			printf(", \"values\": [");
			for (size_t k = 0; k < m->n_nodes; k++) {
				printf("%s", k ? ", " : "");
				put_value(m, &m->nodes[k], 1);
			}
			printf("]");
		}
		if (c->parties && c->online_ok)
			printf(", \"online\": {\"parties\": %d, \"rounds\": %llu, "
			       "\"bytes_per_party\": %llu, \"weights_bytes_per_party\": %llu, "
			       "\"input_bytes_per_party\": %llu}",
			       c->parties, (unsigned long long)c->online_rounds,
			       (unsigned long long)c->online_bytes,
			       (unsigned long long)c->weights_bytes,
			       (unsigned long long)c->input_bytes);
		else if (c->parties) {
			printf(", \"online\": ");
			cli_json_str(c->online_why[0] ? c->online_why : c->why);
		}
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
	printf("\n");
	put_weights(m, 0);
	printf("ops      ");
	put_ops(ops, 0);
	for (int op = 0; op < MOP_COUNT_; op++)
		if (pub_ops[op]) {
			/* Shapes and integer constants: every party computes them itself. */
			printf("\npublic   ");
			put_ops(pub_ops, 0);
			printf(" (shape computations, no secure cost)");
			break;
		}
	printf("\njob      %s\n", job_why ? cli_clean(t, sizeof(t), job_why) : "ok");
	if (shapes && c->ok) {
		printf("shapes   batch %lld:\n", (long long)batch);
		for (size_t k = 0; k < m->n_nodes; k++)
			put_value(m, &m->nodes[k], 0);
	}
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
	if (c->parties && c->online_ok) {
		cli_bytes(a, sizeof(a), c->online_bytes);
		cli_bytes(b, sizeof(b), c->weights_bytes);
		printf("online   batch %lld, %d parties: %llu rounds, %s sent per party (and %s "
		       "once per job for the weights), measured on zeros\n",
		       (long long)batch, c->parties, (unsigned long long)c->online_rounds, a, b);
	} else if (c->parties) {
		printf("online   not measured: %s\n",
		       cli_clean(t, sizeof(t), c->online_why[0] ? c->online_why : c->why));
	} else {
		printf("online   not measured (--online runs the protocol on zeros)\n");
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
		{ "shapes", no_argument, NULL, 's' },
		{ "online", no_argument, NULL, 'o' },
		{ "parties", required_argument, NULL, 'p' },
		{ "shape", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = NULL, *weights = NULL;
	char hash[MODEL_HASH_HEX], job_why[256], *end;
	uint8_t *buf = NULL, *pub = NULL;
	size_t len = 0, plen = 0;
	struct model *m = NULL;
	struct cost cost = { 0 };
	size_t ops[MOP_COUNT_] = { 0 }, pub_ops[MOP_COUNT_] = { 0 };
	long long batch = 1, parties = 3;
	int c, json = 0, ret, status = 1, job_ok, shapes = 0, online = 0, n_sa = 0;
	struct shape_arg sa[INSPECT_MAX_SHAPES];

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
		case 's':
			shapes = 1;
			break;
		case 'S':
			if (n_sa == INSPECT_MAX_SHAPES)
				return cli_error("inspect", NULL, "more than %d --shape",
						 INSPECT_MAX_SHAPES);
			if ((ret = parse_shape(optarg, &sa[n_sa++])) != 0)
				return ret;
			break;
		case 'o':
			online = 1;
			break;
		case 'p':
			parties = strtoll(optarg, &end, 10);
			if (!*optarg || *end || parties < 2 || parties > MPC_MAX_PARTIES)
				return cli_error("inspect", NULL,
						 "--parties '%s': expected an integer from 2 to %d",
						 optarg, MPC_MAX_PARTIES);
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
	for (size_t k = 0; k < m->n_nodes; k++) {
		const struct model_node *n = &m->nodes[k];

		/* A Split is imported as one Slice per output: count it once. */
		if (n->split_n && n->split_k)
			continue;
		(n->folded ? pub_ops : ops)[n->op]++;
	}
	if (n_sa)
		batch = sa[0].dims[0] ? sa[0].dims[0] : batch; /* what the shapes are for */
	cost.parties = online ? (int)parties : 0;
	estimate(m, batch, sa, n_sa, &cost);
	report(path, m, ops, pub_ops, batch, job_ok ? NULL : job_why, &cost, hash, json, shapes);
	status = cli_flush("inspect");
out:
	model_free(m);
	free(buf);
	free(pub);
	return status;
}

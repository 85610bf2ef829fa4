/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * mpcctl simulate: every party (and the dealer) as a thread of this
 * process, over the in-process network; the same protocol code as a job
 * between daemons. A data scientist's check of a model before bringing it
 * to the consortium: the result, its distance to plaintext inference, and
 * what it costs per phase and per layer.
 */
#include <getopt.h>
#include <math.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "eval.h"
#include "fxp.h"
#include "model.h"
#include "npy.h"
#include "pool.h"
#include "ring.h"
#include "sim_model.h"

#define MAX_INPUTS 16
#define MAX_PARTS 16

struct input_arg {
	char *name;
	int axis;
	int n;
	struct ftensor part[MAX_PARTS];
	char *path[MAX_PARTS];
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: mpcctl simulate --model M.onnx [--weights W.safetensors]\n"
		"                       --input NAME=A.npy[,B.npy...] | NAME=A.npy[+B.npy...]\n"
		"                       [--parties N] [--frac-bits F] [--offline dealer]\n"
		"                       [--model-owner K] [--recipient K] [-o OUT.npy|OUT.csv] [--json]\n"
		"                       [--chunk-rows N] [--memory MIB] [--threads N]\n"
		"\n"
		"Parts joined with ',' are columns of the same rows (joined on the last axis);\n"
		"parts joined with '+' are more rows (joined on the first axis). Part k is owned\n"
		"by party k mod N; the weights by --model-owner (default N-1); the outputs are\n"
		"revealed to --recipient (default 0) only.\n"
		"\n"
		"The rows run in chunks of --chunk-rows, or of the most that fit in --memory MiB\n"
		"(default 1024) for the whole process: every party, the dealer and their\n"
		"correlated randomness. A job whose single row does not fit is refused.\n"
		"--threads: the pool all parties' local arithmetic shares (default: the\n"
		"machine's cores); results do not depend on it.\n"
		"\n"
		"A value the model computes on these inputs at or beyond 2^(31 - F), the\n"
		"fixed point's safe range, is one warning line on stderr naming the node.\n");
}

static int fail(const char *what, int ret)
{
	fprintf(stderr, "mpcctl simulate: %s%s%s\n", what ? what : "", what ? ": " : "",
		mpc_errmsg(ret));
	return 1;
}

static int parse_int(const char *s, int lo, int hi, const char *what, int *out)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (!*s || *end || v < lo || v > hi) {
		fprintf(stderr, "mpcctl simulate: %s '%s': expected an integer from %d to %d\n",
			what, s, lo, hi);
		return -1;
	}
	*out = (int)v;
	return 0;
}

static int parse_input(char *spec, struct input_arg *ia)
{
	char *eq = strchr(spec, '='), *files = eq ? eq + 1 : spec, *tok, *save = NULL;
	int comma = strchr(files, ',') != NULL, plus = strchr(files, '+') != NULL;
	int ret;

	memset(ia, 0, sizeof(*ia));
	if (comma && plus)
		return mpc_fail(MPC_E_ARG, "--input %s: mix of ',' and '+' (one way of joining per input)",
				spec);
	ia->name = eq ? (*eq = '\0', spec) : NULL;
	ia->axis = plus ? 0 : -1;
	for (tok = strtok_r(files, ",+", &save); tok; tok = strtok_r(NULL, ",+", &save)) {
		if (ia->n == MAX_PARTS)
			return mpc_fail(MPC_E_ARG, "--input: more than %d parts", MAX_PARTS);
		if ((ret = input_load(tok, &ia->part[ia->n])) != 0)
			return ret;
		ia->path[ia->n++] = tok;
	}
	if (!ia->n)
		return mpc_fail(MPC_E_ARG, "--input %s: no file", spec);
	return 0;
}

static void human(char *buf, size_t len, uint64_t b)
{
	if (b < 10000)
		snprintf(buf, len, "%llu B", (unsigned long long)b);
	else if (b < 10000000)
		snprintf(buf, len, "%.1f KB", (double)b / 1e3);
	else
		snprintf(buf, len, "%.1f MB", (double)b / 1e6);
}

struct check {
	double max_err;
	size_t rows, agree;
	double plain_secs;
	size_t memory;   /* budget, bytes */
	long peak_rss;   /* KiB, getrusage */
};

static void compare(const struct ftensor *got, const struct ftensor *want, struct check *c)
{
	c->max_err = 0;
	for (size_t i = 0; i < got->n; i++)
		c->max_err = fmax(c->max_err, fabs((double)got->data[i] - want->data[i]));
	c->rows = c->agree = 0;
	if (got->ndim == 2 && got->dims[1] > 0) {
		size_t cols = (size_t)got->dims[1];

		for (size_t r = 0; r < (size_t)got->dims[0]; r++) {
			size_t a = 0, b = 0;

			for (size_t j = 1; j < cols; j++) {
				if (got->data[r * cols + j] > got->data[r * cols + a])
					a = j;
				if (want->data[r * cols + j] > want->data[r * cols + b])
					b = j;
			}
			c->rows++;
			c->agree += a == b;
		}
	}
}

static void report(const struct sim_model *s, const struct check *chk,
		   const char *model_path, int json)
{
	const struct model *md = s->md;
	const struct sim_job *job = &s->job;
	char b[32];

	if (json) {
		printf("{\"model\": \"%s\", \"parties\": %d, \"frac_bits\": %d, \"offline\": \"dealer\",\n",
		       model_path, s->n_parties, s->frac);
		printf(" \"phases\": {");
		for (int ph = 0; ph < NET_PH_COUNT; ph++) {
			double secs;
			uint64_t bytes, rounds;

			sim_phase_summary(job, ph, &secs, &bytes, &rounds);
			printf("%s\"%s\": {\"seconds\": %.6f, \"bytes_sent_per_party\": %llu, \"rounds\": %llu}",
			       ph ? ", " : "", net_phase_name(ph), secs, (unsigned long long)bytes,
			       (unsigned long long)rounds);
		}
		printf("},\n \"layers\": [");
		for (size_t k = 0; k < md->n_nodes; k++) {
			struct eval_layer_stats l = s->layers[k];

			printf("%s\n  {\"name\": \"%s\", \"op\": \"%s\", \"seconds\": %.6f, \"bytes_sent_per_party\": %llu, \"rounds\": %llu}",
			       k ? "," : "", md->nodes[k].name, model_op_name(md->nodes[k].op), l.secs,
			       (unsigned long long)l.bytes_sent, (unsigned long long)l.rounds);
		}
		printf("],\n \"plaintext_seconds\": %.6f, \"max_abs_error\": %.6g, \"argmax_agree\": %zu, \"rows\": %zu,\n",
		       chk->plain_secs, chk->max_err, chk->agree, chk->rows);
		printf(" \"batch_rows\": %zu, \"chunk_rows\": %zu, \"chunks\": %zu, \"rows_per_second\": %.3f, "
		       "\"seconds\": %.6f, \"memory_budget_bytes\": %zu, \"peak_rss_bytes\": %lld, "
		       "\"peak_material_bytes_per_party\": %zu, \"estimate_bytes\": %zu}\n",
		       s->plan.rows, s->plan.chunk_rows, s->plan.n_chunks,
		       job->secs > 0 ? (double)s->plan.rows / job->secs : 0.0, job->secs,
		       chk->memory, (long long)chk->peak_rss * 1024, s->mat_peak * 8,
		       (size_t)s->n_parties * s->plan.party_bytes + s->plan.dealer_bytes);
		return;
	}
	human(b, sizeof(b), (uint64_t)s->mat_peak * 8);
	printf("rows       %zu in %zu chunk%s of %zu: %.1f rows/s (%.2f s)\n", s->plan.rows,
	       s->plan.n_chunks, s->plan.n_chunks == 1 ? "" : "s", s->plan.chunk_rows,
	       job->secs > 0 ? (double)s->plan.rows / job->secs : 0.0, job->secs);
	printf("memory     peak RSS %.1f MB (budget %zu MiB); material held by a party at most %s\n\n",
	       (double)chk->peak_rss * 1024 / 1e6, chk->memory >> 20, b);
	printf("%-10s %10s %12s %8s\n", "phase", "time(ms)", "sent/party", "rounds");
	for (int ph = 0; ph < NET_PH_COUNT; ph++) {
		double secs;
		uint64_t bytes, rounds;

		sim_phase_summary(job, ph, &secs, &bytes, &rounds);
		human(b, sizeof(b), bytes);
		printf("%-10s %10.2f %12s %8llu\n", net_phase_name(ph), secs * 1e3, b,
		       (unsigned long long)rounds);
	}
	printf("\n%-24s %-18s %10s %12s %8s\n", "layer", "op", "time(ms)", "sent/party", "rounds");
	for (size_t k = 0; k < md->n_nodes; k++) {
		struct eval_layer_stats l = s->layers[k];

		human(b, sizeof(b), l.bytes_sent);
		if (md->nodes[k].folded) /* a shape computation: every party, in the clear */
			printf("%-24s %-18s %10s %12s %8s\n", md->nodes[k].name,
			       model_op_name(md->nodes[k].op), "public", "-", "-");
		else
			printf("%-24s %-18s %10.2f %12s %8llu\n", md->nodes[k].name,
			       model_op_name(md->nodes[k].op), l.secs * 1e3, b,
			       (unsigned long long)l.rounds);
	}
	printf("\nplaintext check: max |secure - plaintext| = %.3g", chk->max_err);
	if (chk->rows)
		printf(", argmax agrees on %zu/%zu rows", chk->agree, chk->rows);
	printf(" (plaintext inference %.2f ms)\n", chk->plain_secs * 1e3);
}

/* Rows per piece of the plaintext reference: its memory stays small too. */
#define REF_ROWS 256

/*
 * The plaintext reference (double precision) in pieces of REF_ROWS rows
 * when the rows are independent (eval_model_rows), whole otherwise.
 */
/*
 * One line when a value the model computed on these inputs left the range
 * the fixed point is safe in: every value under the input bound 2^(31 - f)
 * (docs/security.md, "The input bound"), naming the first such node.
 */
static void warn_range(const struct model *md, const double *absmax, int frac)
{
	double bound = fxp_input_bound(frac);
	const struct model_node *first = NULL;
	size_t more = 0;

	for (size_t k = 0; k < md->n_nodes; k++) {
		if (!(absmax[md->nodes[k].out] >= bound))
			continue;
		if (first)
			more++;
		else
			first = &md->nodes[k];
	}
	if (!first)
		return;
	fprintf(stderr,
		"mpcctl simulate: warning: node '%s' (%s) reaches |x| = %.3g on these inputs, "
		"beyond %.0f, the safe fixed-point range at %d fractional bits%s: results may be "
		"wrong (docs/security.md, \"The input bound\")\n",
		first->name, model_op_name(first->op), absmax[first->out], bound, frac,
		more ? " (and later nodes)" : "");
}

static int reference(const struct model *md, const struct ftensor *full, struct ftensor *ref,
		     double *absmax)
{
	struct ftensor x[MAX_INPUTS], *out = NULL;
	struct model *cm = NULL;
	size_t rows = full[0].ndim > 0 ? (size_t)full[0].dims[0] : 0, first, nr;
	int ret;

	if (rows <= REF_ROWS || md->n_inputs > MAX_INPUTS ||
	    eval_model_rows(md, REF_ROWS, &cm) != 0)
		return model_ref_eval_range(md, full, ref, absmax);
	if (!(out = calloc(md->n_outputs, sizeof(*out)))) {
		ret = mpc_fail(MPC_E_NOMEM, "plaintext reference");
		goto out;
	}
	for (size_t i = 0; i < md->n_outputs; i++) {
		const struct model_value *ov = &md->values[md->outputs[i]];

		if ((ret = ftensor_alloc(&ref[i], ov->ndim, ov->dims)) != 0)
			goto out;
	}
	for (first = 0; first < rows; first += nr) {
		nr = rows - first < REF_ROWS ? rows - first : REF_ROWS;
		if (nr < REF_ROWS) {
			eval_model_rows_free(cm);
			if ((ret = eval_model_rows(md, nr, &cm)) != 0)
				goto out;
		}
		for (size_t i = 0; i < md->n_inputs; i++) {
			size_t inner = full[i].n / rows;

			x[i] = full[i];
			x[i].dims[0] = (int64_t)nr;
			x[i].n = nr * inner;
			x[i].data = full[i].data + first * inner;
		}
		if ((ret = model_ref_eval_range(cm, x, out, absmax)) != 0)
			goto out;
		for (size_t i = 0; i < md->n_outputs; i++) {
			size_t per = ref[i].n / rows;

			memcpy(ref[i].data + first * per, out[i].data, nr * per * sizeof(float));
			ftensor_free(&out[i]);
		}
	}
	ret = 0;
out:
	if (out)
		for (size_t i = 0; i < md->n_outputs; i++)
			ftensor_free(&out[i]);
	free(out);
	eval_model_rows_free(cm);
	return ret;
}

static int write_output(const char *path, const char *name, size_t idx, size_t count,
			const struct ftensor *t)
{
	char buf[4096];
	const char *dot = strrchr(path, '.'), *use = path;
	int csv = dot && !strcmp(dot, ".csv");

	if (count > 1) {
		/* out.npy -> out_<name>.npy for the second and later outputs */
		size_t stem = dot ? (size_t)(dot - path) : strlen(path);

		if (idx) {
			snprintf(buf, sizeof(buf), "%.*s_%s%s", (int)stem, path, name, dot ? dot : "");
			use = buf;
		}
	}
	return csv ? csv_save(use, t) : npy_save_f32(use, t);
}

int simulate_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "model", required_argument, NULL, 'm' },
		{ "weights", required_argument, NULL, 'w' },
		{ "input", required_argument, NULL, 'i' },
		{ "parties", required_argument, NULL, 'n' },
		{ "frac-bits", required_argument, NULL, 'f' },
		{ "offline", required_argument, NULL, 'O' },
		{ "model-owner", required_argument, NULL, 'M' },
		{ "recipient", required_argument, NULL, 'r' },
		{ "output", required_argument, NULL, 'o' },
		{ "json", no_argument, NULL, 'j' },
		{ "chunk-rows", required_argument, NULL, 'c' },
		{ "memory", required_argument, NULL, 'B' },
		{ "threads", required_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *model_path = NULL, *weights = NULL, *out_path = NULL;
	struct input_arg ia[MAX_INPUTS];
	int n_ia = 0, json = 0, owner = -1, c, ret, status = 1, chunk = 0, mib = 1024;
	int threads = pool_cores();
	struct sim_model s = { .frac = FXP_DEFAULT_FRAC, .n_parties = 2 };
	struct eval_input in[MAX_INPUTS];
	struct eval_part parts[MAX_INPUTS][MAX_PARTS];
	struct ftensor *ref = NULL, full[MAX_INPUTS];
	double *absmax = NULL;
	struct check chk = { 0 };
	int64_t dims[MAX_INPUTS][FT_MAX_DIMS];
	int nd[MAX_INPUTS];

	memset(full, 0, sizeof(full));
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'm':
			model_path = optarg;
			break;
		case 'w':
			weights = optarg;
			break;
		case 'i':
			if (n_ia == MAX_INPUTS) {
				fprintf(stderr, "mpcctl simulate: more than %d --input\n", MAX_INPUTS);
				goto out;
			}
			if ((ret = parse_input(optarg, &ia[n_ia])) != 0) {
				fail("--input", ret);
				goto out;
			}
			n_ia++;
			break;
		case 'n':
			if (parse_int(optarg, 2, MPC_MAX_PARTIES, "--parties", &s.n_parties))
				goto out;
			break;
		case 'f':
			if (parse_int(optarg, 1, 30, "--frac-bits", &s.frac))
				goto out;
			break;
		case 'O':
			if (strcmp(optarg, "dealer")) {
				fprintf(stderr, "mpcctl simulate: --offline %s: only 'dealer' is available%s\n",
					optarg, !strcmp(optarg, "ot") ?
					" (OT preprocessing is not built yet)" : "");
				goto out;
			}
			break;
		case 'M':
			if (parse_int(optarg, 0, MPC_MAX_PARTIES - 1, "--model-owner", &owner))
				goto out;
			break;
		case 'r':
			if (parse_int(optarg, 0, MPC_MAX_PARTIES - 1, "--recipient", &s.recipient))
				goto out;
			break;
		case 'o':
			out_path = optarg;
			break;
		case 'j':
			json = 1;
			break;
		case 'c':
			if (parse_int(optarg, 1, 1 << 30, "--chunk-rows", &chunk))
				goto out;
			break;
		case 'B':
			if (parse_int(optarg, 1, 1 << 22, "--memory", &mib))
				goto out;
			break;
		case 'T':
			if (parse_int(optarg, 1, POOL_MAX_THREADS, "--threads", &threads))
				goto out;
			break;
		case 'h':
			usage(stdout);
			status = 0;
			goto out;
		default:
			usage(stderr);
			status = 2;
			goto out;
		}
	}
	if (optind < argc || !model_path || !n_ia) {
		fprintf(stderr, "mpcctl simulate: %s\n", optind < argc ? "unexpected argument" :
			!model_path ? "--model is required" : "--input is required");
		usage(stderr);
		status = 2;
		goto out;
	}
	if ((ret = pool_set_threads(threads)) != 0) {
		fail("--threads", ret);
		goto out;
	}
	s.owner = owner < 0 ? s.n_parties - 1 : owner;
	if (s.owner >= s.n_parties || s.recipient >= s.n_parties) {
		fprintf(stderr, "mpcctl simulate: --model-owner and --recipient must be below --parties %d\n",
			s.n_parties);
		goto out;
	}
	if ((ret = model_load_onnx(model_path, &s.md)) != 0) {
		fail(NULL, ret);
		goto out;
	}
	if (weights && (ret = model_bind_safetensors(s.md, weights)) != 0) {
		fail(NULL, ret);
		goto out;
	}
	if ((size_t)n_ia != s.md->n_inputs) {
		const char *given[MAX_INPUTS];

		for (int k = 0; k < n_ia; k++)
			given[k] = ia[k].name;
		cli_input_count_error(s.md, given, n_ia, weights != NULL);
		goto out;
	}
	/* Bind each --input to a model input by name (or the only one). */
	for (size_t i = 0; i < s.md->n_inputs; i++) {
		const struct model_value *mv = &s.md->values[s.md->inputs[i]];
		struct input_arg *a = NULL;

		for (int k = 0; k < n_ia; k++)
			if ((ia[k].name && !strcmp(ia[k].name, mv->name)) ||
			    (!ia[k].name && n_ia == 1))
				a = &ia[k];
		if (!a) {
			fprintf(stderr, "mpcctl simulate: no --input %s=FILE for model input '%s'\n",
				mv->name, mv->name);
			goto out;
		}
		for (int p = 0; p < a->n; p++)
			if (a->part[p].ndim == 0) {
				char decl[160];

				fprintf(stderr, "mpcctl simulate: --input %s: '%s' holds a scalar (rank 0), "
					"the model declares %s: save the data with the rows on its "
					"first axis, e.g. shape (1,) or (rows, columns)\n",
					mv->name, a->path[p], cli_input_decl(mv, decl, sizeof(decl)));
				goto out;
			}
		if (a->axis < 0)
			a->axis = a->part[0].ndim - 1;
		if ((ret = ftensor_concat(a->part, a->n, a->axis, &full[i])) != 0) {
			fail(mv->name, ret);
			goto out;
		}
		nd[i] = full[i].ndim;
		memcpy(dims[i], full[i].dims, sizeof(dims[i]));
		in[i] = (struct eval_input){ .n_parts = a->n, .axis = a->axis, .parts = parts[i] };
		for (int p = 0; p < a->n; p++) {
			parts[i][p] = (struct eval_part){ .owner = p % s.n_parties,
							  .ndim = a->part[p].ndim,
							  .data = a->part[p].data };
			memcpy(parts[i][p].dims, a->part[p].dims, sizeof(a->part[p].dims));
		}
	}
	if ((ret = model_infer(s.md, (const int64_t(*)[FT_MAX_DIMS])dims, nd)) != 0) {
		fail(NULL, ret);
		goto out;
	}
	/* The plaintext reference, on the model as given. */
	if (!(ref = calloc(s.md->n_outputs, sizeof(*ref)))) {
		fail(NULL, MPC_E_NOMEM);
		goto out;
	}
	chk.plain_secs = net_now();
	if (!(absmax = calloc(s.md->n_values + 1, sizeof(*absmax))) ||
	    (ret = reference(s.md, full, ref, absmax)) != 0) {
		fail("plaintext reference", absmax ? ret : MPC_E_NOMEM);
		goto out;
	}
	chk.plain_secs = net_now() - chk.plain_secs;
	warn_range(s.md, absmax, s.frac);
	/* The owner's weight scales, as a daemon's model owner publishes them. */
	model_weight_exps(s.md);
	if ((ret = eval_fold_batchnorm(s.md)) != 0) {
		fail(NULL, ret);
		goto out;
	}
	s.inputs = in;
	s.chunk_rows = (size_t)chunk;
	s.memory = chk.memory = (size_t)mib << 20;
	{
		/* The budget is the whole process's: what it holds already is not the chunks'. */
		struct rusage ru;

		s.memory_held = !getrusage(RUSAGE_SELF, &ru) ? (size_t)ru.ru_maxrss << 10 : 0;
		/*
		 * Released buffers are cached for reuse (crypto/ring.c): a
		 * sixteenth of the budget for them, counted as held.
		 */
		ring_cache_limit(s.memory / 16);
		s.memory_held += s.memory / 16;
	}
	if ((ret = sim_model_run(&s)) != 0) {
		/* Too big is decided before anything is shared: a refusal, not an abort. */
		fprintf(stderr, "mpcctl simulate: job %s: %s\n",
			ret == MPC_E_TOOBIG ? "refused" : "aborted",
			s.job.err[0] ? s.job.err : mpc_errmsg(ret));
		goto out;
	}
	compare(&s.outs[0], &ref[0], &chk);
	for (size_t i = 1; i < s.md->n_outputs; i++) {
		struct check more;

		compare(&s.outs[i], &ref[i], &more);
		chk.max_err = fmax(chk.max_err, more.max_err);
	}
	if (out_path)
		for (size_t i = 0; i < s.md->n_outputs; i++)
			if ((ret = write_output(out_path, s.md->values[s.md->outputs[i]].name, i,
						s.md->n_outputs, &s.outs[i])) != 0) {
				fail(out_path, ret);
				goto out;
			}
	{
		struct rusage ru;

		if (!getrusage(RUSAGE_SELF, &ru))
			chk.peak_rss = ru.ru_maxrss;
	}
	report(&s, &chk, model_path, json);
	status = 0;
out:
	for (int k = 0; k < n_ia; k++)
		for (int p = 0; p < ia[k].n; p++)
			ftensor_free(&ia[k].part[p]);
	for (int i = 0; i < MAX_INPUTS; i++)
		ftensor_free(&full[i]);
	if (s.md && ref)
		for (size_t i = 0; i < s.md->n_outputs; i++)
			ftensor_free(&ref[i]);
	free(ref);
	free(absmax);
	sim_model_free(&s);
	model_free(s.md);
	return status;
}

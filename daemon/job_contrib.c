/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * This node's contribution to a job: the model owner's model and public
 * graph, then the datasets, read only once AllowModels has accepted the
 * graph's hash and checked against the fixed-point range. Every failure
 * has two lines: a public one for the peers (node, dataset, input and
 * part names, a fixed text) and a local detail (values, cells, paths).
 *
 * Reading and parsing a model or a dataset of hundreds of megabytes takes
 * seconds: it runs on a libuv worker thread (uv_queue_work) into a
 * struct job_load of its own, which the loop moves into the job when it is
 * done, so links, heartbeats and mpcctl are served meanwhile and nothing
 * the loop touches is written by the worker.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fxp.h"
#include "job.h"
#include "log.h"
#include "npy.h"
#include "policy.h"

struct job_load {
	uv_work_t req;
	struct job *j;
	job_loaded_fn *done;
	/* Inputs: copies, as the loop may change the job's own meanwhile. */
	const struct cfg *cfg;
	Mpcpb__JobSpec *spec;
	char self[WIRE_MAX_NAME + 1];
	char graph_hash[WIRE_HASH_LEN + 1];
	int want_model;
	unsigned char want[WIRE_MAX_INPUTS][WIRE_MAX_PARTS];
	/* Outputs, moved into the job by the loop. */
	struct model *model;
	uint8_t *graph;
	size_t graph_len;
	char *wexp;
	struct ftensor parts[WIRE_MAX_INPUTS][WIRE_MAX_PARTS];
	int ret;
	char why[WIRE_MAX_REASON + 1];
	char detail[WIRE_MAX_REASON + 1];
};

/* The model owner: its model with weights, and the public graph and hash. */
static int load_model(struct job_load *L)
{
	const struct cfg_model *cm = cfg_model_by_name(L->cfg, L->spec->model_name);
	uint8_t *buf = NULL;
	size_t blen = 0;
	int ret;

	if (!cm) {
		snprintf(L->why, sizeof(L->why), "model '%s' is not configured here",
			 L->spec->model_name);
		return MPC_E_POLICY;
	}
	if ((ret = file_read_all(cm->path, (size_t)1 << 30, &buf, &blen)) != 0 ||
	    (ret = model_parse_onnx(buf, blen, cm->path, &L->model)) != 0 ||
	    (cm->weights && (ret = model_bind_safetensors(L->model, cm->weights)) != 0) ||
	    (ret = model_check_job(L->model)) != 0 ||
	    (ret = model_public_graph(buf, blen, L->model, &L->graph, &L->graph_len)) != 0) {
		/* The messages name local paths: peers get the generic line. */
		snprintf(L->why, sizeof(L->why), "model '%s': %s", cm->name, mpc_errpub(ret));
		snprintf(L->detail, sizeof(L->detail), "model '%s': %s", cm->name, mpc_errmsg(ret));
		goto out;
	}
	if (L->graph_len > WIRE_MAX_GRAPH) {
		snprintf(L->why, sizeof(L->why), "model '%s': its public graph has %zu bytes, over %zu",
			 cm->name, L->graph_len, WIRE_MAX_GRAPH);
		ret = MPC_E_TOOBIG;
		goto out;
	}
	model_public_hash(L->graph, L->graph_len, L->graph_hash);
	/* A wrong input name, named with the model's real ones, before anything runs. */
	if ((ret = job_bind_check(L->model, L->spec, L->why, sizeof(L->why))) != 0)
		goto out;
	/* The weight scales this node runs with and sends beside the graph. */
	model_weight_exps(L->model);
	if (!(L->wexp = model_weight_exps_format(L->model))) {
		snprintf(L->why, sizeof(L->why), "model '%s': out of memory", cm->name);
		ret = MPC_E_NOMEM;
	}
out:
	if (ret) {
		model_free(L->model);
		L->model = NULL;
		free(L->graph);
		L->graph = NULL;
		L->graph_len = 0;
	}
	ftensor_wipe_free(buf, blen); /* the weights' bytes */
	return ret;
}

/*
 * One of this node's datasets, read and checked against the range the
 * fixed point allows (crypto/fxp.h): the public line names the node's
 * dataset and the input, never a value, an index, a cell or a path.
 */
static int load_part(struct job_load *L, size_t i, size_t k)
{
	const Mpcpb__Part *p = L->spec->inputs[i]->parts[k];
	const char *in = L->spec->inputs[i]->name;
	const struct cfg_dataset *d = cfg_dataset_by_name(L->cfg, p->dataset);
	struct ftensor *t = &L->parts[i][k];
	int ret;

	if (!d) {
		snprintf(L->why, sizeof(L->why), "dataset '%s' is not configured here", p->dataset);
		return MPC_E_POLICY;
	}
	if ((ret = input_load(d->path, t)) != 0) {
		snprintf(L->why, sizeof(L->why), "dataset '%s': %s", p->dataset, mpc_errpub(ret));
		snprintf(L->detail, sizeof(L->detail), "dataset '%s': %s", p->dataset,
			 mpc_errmsg(ret));
		return ret;
	}
	if ((ret = fxp_check_bound(t->data, t->n, fxp_input_bound(L->spec->frac_bits))) != 0) {
		snprintf(L->why, sizeof(L->why), "input '%.64s' part %zu: %s", in, k, mpc_errpub(ret));
		snprintf(L->detail, sizeof(L->detail), "input '%.64s' part %zu: dataset '%s': %s", in,
			 k, p->dataset, mpc_errmsg(ret));
		ftensor_free(t);
	}
	return ret;
}

/* Any thread: reads only L. */
static int load_run(struct job_load *L)
{
	size_t nd = 0;
	int ret;

	if (L->want_model && (ret = load_model(L)) != 0)
		return ret;
	for (size_t i = 0; i < L->spec->n_inputs; i++)
		for (size_t k = 0; k < L->spec->inputs[i]->n_parts; k++)
			nd += !strcmp(L->spec->inputs[i]->parts[k]->node, L->self);
	/* AllowModels: decided on the graph's hash before any dataset is read. */
	if (nd && !L->graph_hash[0]) {
		snprintf(L->why, sizeof(L->why), "no public graph hash for the job");
		return MPC_E_INTERNAL;
	}
	if (nd && (ret = policy_check_model(L->cfg, nd, L->graph_hash, L->why,
					    sizeof(L->why))) != 0)
		return ret;
	for (size_t i = 0; i < L->spec->n_inputs; i++)
		for (size_t k = 0; k < L->spec->inputs[i]->n_parts; k++)
			if (L->want[i][k] && (ret = load_part(L, i, k)) != 0)
				return ret;
	return 0;
}

static void load_free(struct job_load *L)
{
	if (!L)
		return;
	model_free(L->model);
	free(L->graph);
	free(L->wexp);
	for (int i = 0; i < WIRE_MAX_INPUTS; i++)
		for (int k = 0; k < WIRE_MAX_PARTS; k++)
			ftensor_free(&L->parts[i][k]);
	if (L->spec)
		mpcpb__job_spec__free_unpacked(L->spec, NULL);
	free(L);
}

/* Loop: what to read, from the job as it is now. */
static struct job_load *load_new(struct job *j)
{
	struct job_load *L = calloc(1, sizeof(*L));
	const char *self = j->srv->cfg->node.name;

	if (!L || !(L->spec = job__spec_dup(j->spec))) {
		free(L);
		return NULL;
	}
	L->j = j;
	L->cfg = j->srv->cfg;
	snprintf(L->self, sizeof(L->self), "%s", self);
	snprintf(L->graph_hash, sizeof(L->graph_hash), "%s", j->graph_hash);
	L->want_model = !strcmp(j->spec->model_node, self) && !j->model;
	for (size_t i = 0; i < j->spec->n_inputs; i++)
		for (size_t k = 0; k < j->spec->inputs[i]->n_parts; k++)
			L->want[i][k] = !strcmp(j->spec->inputs[i]->parts[k]->node, self) &&
					!j->parts[i][k].data;
	return L;
}

/* Loop: the results become the job's. */
static void load_install(struct job *j, struct job_load *L)
{
	if (L->model) {
		j->model = L->model;
		j->graph = L->graph;
		j->graph_len = L->graph_len;
		j->wexp = L->wexp;
		snprintf(j->graph_hash, sizeof(j->graph_hash), "%s", L->graph_hash);
		L->model = NULL;
		L->graph = NULL;
		L->wexp = NULL;
	}
	for (int i = 0; i < WIRE_MAX_INPUTS; i++)
		for (int k = 0; k < WIRE_MAX_PARTS; k++)
			if (L->parts[i][k].data) {
				j->parts[i][k] = L->parts[i][k];
				memset(&L->parts[i][k], 0, sizeof(L->parts[i][k]));
			}
}

static void on_load_work(uv_work_t *req)
{
	struct job_load *L = req->data;

	L->ret = load_run(L);
}

static void on_load_done(uv_work_t *req, int status)
{
	struct job_load *L = req->data;
	struct job *j = L->j;

	j->loading = 0;
	/* Aborted or the daemon stopping meanwhile: what was read is dropped. */
	if (status == 0 && !j->srv->stopping && j->state != JOB_FINISHED &&
	    j->state != JOB_ABORTED) {
		if (L->ret == 0)
			load_install(j, L);
		L->done(j, L->ret, L->why, L->detail);
	}
	load_free(L);
}

int job__contribute_async(struct job *j, job_loaded_fn *done)
{
	struct job_load *L;
	int r;

	if (j->loading)
		return 0; /* one read at a time; its end answers */
	if (!(L = load_new(j)))
		return mpc_fail(MPC_E_NOMEM, "out of memory");
	L->done = done;
	L->req.data = L;
	if ((r = uv_queue_work(j->srv->loop, &L->req, on_load_work, on_load_done)) != 0) {
		load_free(L);
		return mpc_fail(MPC_E_INTERNAL, "cannot queue the read: %s", uv_strerror(r));
	}
	j->loading = 1;
	return 0;
}

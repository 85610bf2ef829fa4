/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * This node's contribution to a job: the model owner's model and public
 * graph, then the datasets, read only once AllowModels has accepted the
 * graph's hash and checked against the fixed-point range. Every failure
 * has two lines: a public one for the peers (node, dataset, input and
 * part names, a fixed text) and a local detail (values, cells, paths).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fxp.h"
#include "job.h"
#include "npy.h"
#include "policy.h"

/* The model owner: its model with weights, and the public graph and hash. */
static int load_model(struct job *j, char *why, size_t len, char *detail, size_t dlen)
{
	const struct cfg_model *cm = cfg_model_by_name(j->srv->cfg, j->spec->model_name);
	uint8_t *buf = NULL;
	size_t blen = 0;
	int ret;

	if (!cm) {
		snprintf(why, len, "model '%s' is not configured here", j->spec->model_name);
		return MPC_E_POLICY;
	}
	if ((ret = file_read_all(cm->path, (size_t)1 << 30, &buf, &blen)) != 0 ||
	    (ret = model_parse_onnx(buf, blen, cm->path, &j->model)) != 0 ||
	    (cm->weights && (ret = model_bind_safetensors(j->model, cm->weights)) != 0) ||
	    (ret = model_check_job(j->model)) != 0 ||
	    (ret = model_public_graph(buf, blen, j->model, &j->graph, &j->graph_len)) != 0) {
		/* The messages name local paths: peers get the generic line. */
		snprintf(why, len, "model '%s': %s", cm->name, mpc_errpub(ret));
		snprintf(detail, dlen, "model '%s': %s", cm->name, mpc_errmsg(ret));
		goto out;
	}
	if (j->graph_len > WIRE_MAX_GRAPH) {
		snprintf(why, len, "model '%s': its public graph has %zu bytes, over %zu",
			 cm->name, j->graph_len, WIRE_MAX_GRAPH);
		ret = MPC_E_TOOBIG;
		goto out;
	}
	model_public_hash(j->graph, j->graph_len, j->graph_hash);
out:
	if (ret) {
		model_free(j->model);
		j->model = NULL;
		free(j->graph);
		j->graph = NULL;
		j->graph_len = 0;
	}
	ftensor_wipe_free(buf, blen); /* the weights' bytes */
	return ret;
}

/*
 * One of this node's datasets, read and checked against the range the
 * fixed point allows (crypto/fxp.h): the public line names the node's
 * dataset and the input, never a value, an index, a cell or a path.
 */
static int load_part(struct job *j, size_t i, size_t k, char *why, size_t len,
		     char *detail, size_t dlen)
{
	const Mpcpb__Part *p = j->spec->inputs[i]->parts[k];
	const char *in = j->spec->inputs[i]->name;
	const struct cfg_dataset *d = cfg_dataset_by_name(j->srv->cfg, p->dataset);
	struct ftensor *t = &j->parts[i][k];
	int ret;

	if (!d) {
		snprintf(why, len, "dataset '%s' is not configured here", p->dataset);
		return MPC_E_POLICY;
	}
	if ((ret = input_load(d->path, t)) != 0) {
		snprintf(why, len, "dataset '%s': %s", p->dataset, mpc_errpub(ret));
		snprintf(detail, dlen, "dataset '%s': %s", p->dataset, mpc_errmsg(ret));
		return ret;
	}
	if ((ret = fxp_check_bound(t->data, t->n, fxp_input_bound(j->spec->frac_bits))) != 0) {
		snprintf(why, len, "input '%.64s' part %zu: %s", in, k, mpc_errpub(ret));
		snprintf(detail, dlen, "input '%.64s' part %zu: dataset '%s': %s", in, k,
			 p->dataset, mpc_errmsg(ret));
		ftensor_free(t);
	}
	return ret;
}

int job__contribute(struct job *j, char *why, size_t len, char *detail, size_t dlen)
{
	const char *self = j->srv->cfg->node.name;
	size_t nd = 0;
	int ret;

	detail[0] = '\0';
	if (!strcmp(j->spec->model_node, self) && !j->model &&
	    (ret = load_model(j, why, len, detail, dlen)) != 0)
		return ret;
	for (size_t i = 0; i < j->spec->n_inputs; i++)
		for (size_t k = 0; k < j->spec->inputs[i]->n_parts; k++)
			nd += !strcmp(j->spec->inputs[i]->parts[k]->node, self);
	/* AllowModels: decided on the graph's hash before any dataset is read. */
	if (nd && !j->graph_hash[0]) {
		snprintf(why, len, "no public graph hash for the job");
		return MPC_E_INTERNAL;
	}
	if (nd && (ret = policy_check_model(j->srv->cfg, nd, j->graph_hash, why, len)) != 0)
		return ret;
	for (size_t i = 0; i < j->spec->n_inputs; i++)
		for (size_t k = 0; k < j->spec->inputs[i]->n_parts; k++)
			if (!strcmp(j->spec->inputs[i]->parts[k]->node, self) && !j->parts[i][k].data &&
			    (ret = load_part(j, i, k, why, len, detail, dlen)) != 0)
				return ret;
	return 0;
}

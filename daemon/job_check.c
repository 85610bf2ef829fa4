/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * The check every party runs on a public graph it received (job.h,
 * job_graph_check): on its own, with no link or server code, so the unit
 * tests call exactly what the daemon runs.
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "job.h"

/* A model's graph input: neither a constant nor computed. */
static int graph_input(const struct model *m, size_t v)
{
	if (m->values[v].init.data)
		return 0;
	for (size_t k = 0; k < m->n_nodes; k++)
		if (m->nodes[k].out == (int)v)
			return 0;
	return 1;
}

int job_bind_check(const struct model *m, const Mpcpb__JobSpec *spec, char *why, size_t wlen)
{
	char list[160] = "";
	size_t used = 0;

	for (size_t i = 0; i < m->n_inputs && used < sizeof(list); i++)
		used += (size_t)snprintf(list + used, sizeof(list) - used, "%s'%.48s'",
					 i ? ", " : "", m->values[m->inputs[i]].name);
	for (size_t k = 0; k < spec->n_inputs; k++) {
		const char *name = spec->inputs[k]->name;
		size_t v;

		for (v = 0; v < m->n_values; v++)
			if (!strcmp(m->values[v].name, name))
				break;
		if (v < m->n_values && graph_input(m, v))
			continue;
		snprintf(why, wlen, "the job binds '%.64s', which is not an input of the model; "
			 "its data input%s %s", name, m->n_inputs == 1 ? " is" : "s are",
			 m->n_inputs ? list : "(none)");
		return MPC_E_ARG;
	}
	return 0;
}

int job_graph_check(const uint8_t *graph, size_t len, const char *hash, const char *wexp,
		    const Mpcpb__JobSpec *spec, struct model **out, char *why, size_t wlen)
{
	const char *names[WIRE_MAX_INPUTS];
	char got[MODEL_HASH_HEX];
	struct model *m = NULL;
	int ret;

	if (out)
		*out = NULL;
	if (!graph || !len || len > WIRE_MAX_GRAPH || !hash) {
		snprintf(why, wlen, "no public graph, or one over %zu bytes", WIRE_MAX_GRAPH);
		return MPC_E_FORMAT;
	}
	model_public_hash(graph, len, got);
	/* Not secret, but compared whole, as a habit for anything authenticated. */
	if (strlen(hash) != MODEL_HASH_HEX - 1 || sodium_memcmp(got, hash, MODEL_HASH_HEX - 1)) {
		snprintf(why, wlen, "the public graph does not match its hash %.8s...", hash);
		return MPC_E_AUTH;
	}
	if (spec->n_inputs < 1 || spec->n_inputs > WIRE_MAX_INPUTS) {
		snprintf(why, wlen, "%zu inputs", spec->n_inputs);
		return MPC_E_ARG;
	}
	for (size_t i = 0; i < spec->n_inputs; i++)
		names[i] = spec->inputs[i]->name;
	if ((ret = model_parse_onnx(graph, len, "public graph", &m)) != 0)
		goto failmsg;
	if ((ret = job_bind_check(m, spec, why, wlen)) != 0)
		goto fail;
	if ((ret = model_declare_weights(m, names, spec->n_inputs)) != 0 ||
	    (ret = model_weight_exps_parse(m, wexp ? wexp : "")) != 0) {
failmsg:
		/* Messages about the public graph and the spec quote only them. */
		snprintf(why, wlen, "%s", mpc_errmsg(ret));
		goto fail;
	}
	if ((ret = model_check_job(m)) != 0) {
		snprintf(why, wlen, "%s", mpc_errmsg(ret)); /* names the public graph only */
		goto fail;
	}
	if (m->n_inputs != spec->n_inputs) {
		snprintf(why, wlen, "the model has %zu data inputs, the job binds %zu",
			 m->n_inputs, spec->n_inputs);
		ret = MPC_E_SHAPE;
		goto fail;
	}
	for (size_t i = 0; i < m->n_inputs; i++) {
		size_t k;

		for (k = 0; k < spec->n_inputs; k++)
			if (!strcmp(spec->inputs[k]->name, m->values[m->inputs[i]].name))
				break;
		if (k == spec->n_inputs) {
			snprintf(why, wlen, "the job binds no data to model input '%.64s'",
				 m->values[m->inputs[i]].name);
			ret = MPC_E_ARG;
			goto fail;
		}
	}
	if (out)
		*out = m;
	else
		model_free(m);
	return 0;
fail:
	model_free(m);
	return ret;
}

/* "[?, 1, 8, 8]": a declared shape, '?' for a symbolic dim. */
static const char *decl_str(const struct ftensor *d, char *buf, size_t len)
{
	size_t o = 0;

	o += (size_t)snprintf(buf, len, "[");
	for (int i = 0; i < d->ndim && o < len; i++) {
		if (d->dims[i] < 0)
			o += (size_t)snprintf(buf + o, len - o, "%s?", i ? ", " : "");
		else
			o += (size_t)snprintf(buf + o, len - o, "%s%lld", i ? ", " : "",
					      (long long)d->dims[i]);
	}
	if (o < len)
		snprintf(buf + o, len - o, "]");
	return buf;
}

int job_parts_check(const struct model *m, const Mpcpb__JobSpec *spec, const char *self,
		    const struct ftensor (*parts)[WIRE_MAX_PARTS], char *why, size_t wlen)
{
	char got[96], want[96];

	for (size_t i = 0; i < spec->n_inputs; i++) {
		const Mpcpb__InputBinding *in = spec->inputs[i];
		const struct ftensor *decl = NULL;

		for (size_t v = 0; v < m->n_inputs && !decl; v++)
			if (!strcmp(m->values[m->inputs[v]].name, in->name))
				decl = &m->values[m->inputs[v]].init;
		if (!decl) {
			snprintf(why, wlen, "the model has no data input '%.64s'", in->name);
			return MPC_E_ARG;
		}
		if (decl->ndim < 0)
			continue; /* undeclared: model_infer decides at the start */
		for (size_t k = 0; k < in->n_parts; k++) {
			const struct ftensor *t = &parts[i][k];
			int axis = in->axis < 0 ? decl->ndim - 1 : in->axis, ok = t->ndim == decl->ndim;

			if (strcmp(in->parts[k]->node, self) || !t->data)
				continue;
			/* A part of a pooled input holds some of the joined axis. */
			for (int d = 0; ok && d < decl->ndim; d++)
				ok = decl->dims[d] < 0 || (in->n_parts > 1 && d == axis) ||
				     t->dims[d] == decl->dims[d];
			if (!ok) {
				snprintf(why, wlen, "input '%.64s' part %zu (dataset '%s') has shape %s, "
					 "the model declares %s", in->name, k, in->parts[k]->dataset,
					 ftensor_shape_str(t->ndim, t->dims, got, sizeof(got)),
					 decl_str(decl, want, sizeof(want)));
				return MPC_E_SHAPE;
			}
		}
	}
	return 0;
}

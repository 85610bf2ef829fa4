/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * What `mpcctl simulate` says about its --input arguments when they do not
 * fit the model: the data inputs by name, the given names that are weights
 * (for --weights) or no input at all, the declared shape of an input.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "model.h"

/* A data input's declared shape: "[?, 4]" ('?' symbolic), "(no shape)" if undeclared. */
const char *cli_input_decl(const struct model_value *v, char *buf, size_t len)
{
	size_t used = 0;

	if (v->init.ndim < 0)
		return "(no shape)";
	used += (size_t)snprintf(buf, len, "[");
	for (int d = 0; d < v->init.ndim && used < len; d++)
		used += (size_t)(v->init.dims[d] < 0 ?
			 snprintf(buf + used, len - used, "%s?", d ? ", " : "") :
			 snprintf(buf + used, len - used, "%s%lld", d ? ", " : "",
				  (long long)v->init.dims[d]));
	if (used < len)
		snprintf(buf + used, len - used, "]");
	return buf;
}

/* A model value no node computes and no constant holds: a graph input. */
static int is_graph_input(const struct model *m, size_t v)
{
	if (m->values[v].init.data)
		return 0;
	for (size_t k = 0; k < m->n_nodes; k++)
		if (m->nodes[k].out == (int)v)
			return 0;
	return 1;
}

/*
 * More or fewer --input than data inputs: name the data inputs, and say
 * which of the given names are weights (for --weights) or no input at all.
 */
void cli_input_count_error(const struct model *m, const char *const *given, int n_ia,
			   int have_weights)
{
	fprintf(stderr, "mpcctl simulate: the model has %zu data input%s (", m->n_inputs,
		m->n_inputs == 1 ? "" : "s");
	for (size_t i = 0; i < m->n_inputs; i++)
		fprintf(stderr, "%s'%s'", i ? ", " : "", m->values[m->inputs[i]].name);
	fprintf(stderr, "), %d --input given", n_ia);
	for (int pass = 0; pass < 2; pass++) {
		int n = 0;

		for (int k = 0; k < n_ia; k++) {
			size_t v;
			int weight;

			if (!given[k])
				continue;
			for (v = 0; v < m->n_values; v++)
				if (!strcmp(m->values[v].name, given[k]))
					break;
			weight = v < m->n_values && is_graph_input(m, v) &&
				 !m->values[v].is_data_input;
			if (pass ? weight : v == m->n_values || !is_graph_input(m, v))
				fprintf(stderr, "%s'%s'", n++ ? ", " : "; ", given[k]);
		}
		if (n && !pass)
			fprintf(stderr, " %s not an input of the model", n > 1 ? "are" : "is");
		if (n && pass)
			fprintf(stderr, " %s: give %s in a safetensors file with --weights",
				n > 1 ? "are weights (layer parameters)" :
					"is a weight (a layer parameter)",
				n > 1 ? "them" : "it");
	}
	if (!have_weights && (size_t)n_ia < m->n_inputs)
		fprintf(stderr, "; if some of them are weights, give those in a safetensors file "
			"with --weights");
	fprintf(stderr, "\n");
}


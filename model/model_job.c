/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * What every party of a job does with the model it holds or received: the
 * structural limits a job relies on, weights declared by shape on parties
 * without them, and the public graph's hash.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "err.h"
#include "model.h"

static int produced(const struct model *m, size_t vid)
{
	for (size_t k = 0; k < m->n_nodes; k++)
		if ((size_t)m->nodes[k].out == vid)
			return 1;
	return 0;
}

int model_declare_weights(struct model *m, const char *const *data_inputs, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < m->n_values; i++) {
		struct model_value *v = &m->values[i];
		int data = 0;

		if (v->init.data || produced(m, i))
			continue;
		for (size_t j = 0; j < n; j++)
			data |= !strcmp(v->name, data_inputs[j]);
		if (data)
			continue;
		/* A weight: the importer's guess, or an input the job binds no data to. */
		if (v->init.ndim < 0)
			return mpc_fail(MPC_E_SHAPE, "graph input '%s' is bound to no data and, as "
					"a weight, has no declared shape (is it a data input?)",
					v->name);
		for (int d = 0; d < v->init.ndim; d++)
			if (v->init.dims[d] < 0)
				return mpc_fail(MPC_E_SHAPE, "graph input '%s' is bound to no data and, "
						"as a weight, has a symbolic dimension (is it a data "
						"input?)", v->name);
		v->is_data_input = 0;
		v->shape_only = 1;
	}
	/* m->inputs keeps only the data inputs, in graph order. */
	for (size_t i = 0; i < m->n_inputs; i++)
		if (m->values[m->inputs[i]].is_data_input)
			m->inputs[k++] = m->inputs[i];
	m->n_inputs = k;
	return 0;
}

void model_public_hash(const uint8_t *pub, size_t len, char hex[MODEL_HASH_HEX])
{
	uint8_t h[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(h, pub, len);
	sodium_bin2hex(hex, MODEL_HASH_HEX, h, sizeof(h));
}

int model_check_job(const struct model *m)
{
	int out;

	/* A job reveals one tensor; every party sizes its result for one. */
	if (m->n_outputs != 1)
		return mpc_fail(MPC_E_UNSUPPORTED, "%s: the graph has %zu outputs; a job reveals "
				"exactly one", m->path ? m->path : "model", m->n_outputs);
	out = m->outputs[0];
	if (out < 0 || (size_t)out >= m->n_values || !produced(m, (size_t)out))
		return mpc_fail(MPC_E_UNSUPPORTED,
				"%s: graph output '%s' is not computed by a node (an input or a "
				"weight would be revealed as it is)",
				m->path ? m->path : "model",
				out >= 0 && (size_t)out < m->n_values ? m->values[out].name : "?");
	if (!m->n_inputs)
		return mpc_fail(MPC_E_UNSUPPORTED, "%s: the graph has no data input",
				m->path ? m->path : "model");
	return 0;
}

/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
#include <stdint.h>
#include <stdlib.h>

#include "err.h"
#include "model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * A model that imports is also inferred for its declared input shapes
 * (symbolic dims 2): shape inference and the folding of public integers
 * (issue 10) read every count, axis and index from the file.
 */
static void infer_declared(struct model *m)
{
	int64_t dims[MODEL_MAX_IN][FT_MAX_DIMS];
	int nd[MODEL_MAX_IN];

	if (m->n_inputs > MODEL_MAX_IN)
		return;
	for (size_t i = 0; i < m->n_inputs; i++) {
		const struct model_value *v = &m->values[m->inputs[i]];

		if (v->init.ndim < 0)
			return;
		nd[i] = v->init.ndim;
		for (int d = 0; d < v->init.ndim; d++)
			dims[i][d] = v->init.dims[d] < 0 ? 2 : v->init.dims[d];
	}
	(void)model_infer(m, (const int64_t(*)[FT_MAX_DIMS])dims, nd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct model *m = NULL;

	if (model_parse_onnx(data, size, "fuzz", &m) == 0) {
		infer_declared(m);
		model_free(m);
	} else if (m) {
		abort();
	}
	mpc_err_clear();
	return 0;
}

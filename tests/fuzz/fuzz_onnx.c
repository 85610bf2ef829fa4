/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
#include <stdint.h>
#include <stdlib.h>

#include "err.h"
#include "model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct model *m = NULL;

	if (model_parse_onnx(data, size, "fuzz", &m) == 0)
		model_free(m);
	else if (m)
		abort();
	mpc_err_clear();
	return 0;
}

/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
#include <stdint.h>
#include <stdlib.h>

#include "err.h"
#include "npy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every element is read into this, so ASan checks the whole allocation. */
static volatile float sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ftensor t;
	size_t i, n;
	int ok;

	if (npy_parse(data, size, &t) != 0) {
		if (t.data || !*mpc_errmsg(MPC_E_INTERNAL))
			abort();
		mpc_err_clear();
		return 0;
	}
	n = ftensor_count(t.ndim, t.dims, &ok);
	if (!ok || n != t.n || (n && !t.data))
		abort();
	for (i = 0; i < t.n; i++)
		sink += t.data[i];
	ftensor_free(&t);
	return 0;
}

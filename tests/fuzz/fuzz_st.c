/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
#include <stdint.h>
#include <stdlib.h>

#include "err.h"
#include "st.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every element is read into this, so ASan checks the whole allocation. */
static volatile float sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct st_file *f = NULL;
	size_t i, j;

	if (st_parse(data, size, &f) != 0) {
		if (f || !*mpc_errmsg(MPC_E_INTERNAL))
			abort();
		mpc_err_clear();
		return 0;
	}
	for (i = 0; i < f->n; i++) {
		const struct st_tensor *t = &f->t[i];
		struct ftensor ft;
		int r;

		if (t->nbytes && (t->data < f->buf ||
				  t->data + t->nbytes > f->buf + f->len))
			abort();
		if (st_find(f, t->name) == NULL)
			abort();
		r = st_to_ftensor(t, &ft);
		if (r == MPC_E_UNSUPPORTED)
			continue;
		if (r != 0 || ft.n != t->n)
			abort();
		for (j = 0; j < ft.n; j++)
			sink += ft.data[j];
		ftensor_free(&ft);
	}
	st_free(f);
	return 0;
}

/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
#include "ftensor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

size_t ftensor_count(int ndim, const int64_t *dims, int *ok)
{
	uint64_t p = 1;
	int i, zero = 0;

	*ok = 0;
	if (ndim < 0 || ndim > FT_MAX_DIMS || (ndim > 0 && !dims))
		return 0;
	for (i = 0; i < ndim; i++) {
		if (dims[i] < 0)
			return 0;
		if (dims[i] == 0)
			zero = 1;
	}
	/* A zero dim makes the product 0 however large the others are. */
	if (zero) {
		*ok = 1;
		return 0;
	}
	for (i = 0; i < ndim; i++) {
		if (p > UINT64_MAX / (uint64_t)dims[i])
			return 0;
		p *= (uint64_t)dims[i];
	}
#if SIZE_MAX < UINT64_MAX
	if (p > SIZE_MAX)
		return 0;
#endif
	*ok = 1;
	return (size_t)p;
}

const char *ftensor_shape_str(int ndim, const int64_t *dims, char *buf, size_t len)
{
	size_t used = 0;
	int i, k;

	if (!buf || !len)
		return buf;
	buf[0] = '\0';
	if (ndim < 0 || ndim > FT_MAX_DIMS || (ndim > 0 && !dims)) {
		snprintf(buf, len, "[?]");
		return buf;
	}
	k = snprintf(buf, len, "[");
	for (i = 0; i < ndim && k >= 0; i++) {
		used += (size_t)k;
		if (used >= len)
			return buf;
		k = snprintf(buf + used, len - used, "%s%lld", i ? ", " : "",
			     (long long)dims[i]);
	}
	if (k < 0)
		return buf;
	used += (size_t)k;
	if (used < len)
		snprintf(buf + used, len - used, "]");
	return buf;
}

int ftensor_alloc(struct ftensor *t, int ndim, const int64_t *dims)
{
	char sh[160];
	size_t n;
	int i, ok;

	if (!t)
		return mpc_fail(MPC_E_ARG, "ftensor_alloc: no tensor");
	memset(t, 0, sizeof(*t));
	if (ndim < 0 || ndim > FT_MAX_DIMS)
		return mpc_fail(MPC_E_SHAPE, "tensor rank %d outside 0..%d",
				ndim, FT_MAX_DIMS);
	if (ndim > 0 && !dims)
		return mpc_fail(MPC_E_ARG, "ftensor_alloc: no dims");
	for (i = 0; i < ndim; i++)
		if (dims[i] < 0)
			return mpc_fail(MPC_E_SHAPE,
					"shape %s has a negative dim",
					ftensor_shape_str(ndim, dims, sh, sizeof(sh)));
	n = ftensor_count(ndim, dims, &ok);
	if (!ok || n > FT_MAX_ELEMS)
		return mpc_fail(MPC_E_TOOBIG,
				"shape %s exceeds the limit of %zu elements",
				ftensor_shape_str(ndim, dims, sh, sizeof(sh)),
				FT_MAX_ELEMS);
	if (n) {
		t->data = calloc(n, sizeof(float));
		if (!t->data)
			return mpc_fail(MPC_E_NOMEM, "shape %s: out of memory",
					ftensor_shape_str(ndim, dims, sh, sizeof(sh)));
	}
	t->ndim = ndim;
	for (i = 0; i < ndim; i++)
		t->dims[i] = dims[i];
	t->n = n;
	return 0;
}

static _Atomic uint64_t wiped;

void ftensor_wipe_free(void *p, size_t bytes)
{
	if (!p)
		return;
	explicit_bzero(p, bytes);
	wiped += bytes;
	free(p);
}

uint64_t ftensor_wiped_bytes(void)
{
	return wiped;
}

void ftensor_free(struct ftensor *t)
{
	if (!t)
		return;
	ftensor_wipe_free(t->data, t->n * sizeof(*t->data));
	memset(t, 0, sizeof(*t));
}

static int check_part(const struct ftensor *p, int k)
{
	char sh[160];
	size_t n;
	int ok;

	n = ftensor_count(p->ndim, p->dims, &ok);
	if (!ok || n != p->n || (n && !p->data))
		return mpc_fail(MPC_E_ARG, "concat: part %d shape %s does not "
				"match its %zu elements", k,
				ftensor_shape_str(p->ndim, p->dims, sh, sizeof(sh)),
				p->n);
	return 0;
}

int ftensor_concat(const struct ftensor *parts, int nparts, int axis, struct ftensor *out)
{
	struct ftensor tmp = { 0 };
	char s0[160], s1[160];
	int64_t dims[FT_MAX_DIMS];
	size_t outer = 1, inner = 1, o, off = 0;
	int ndim, i, k, ret = MPC_E_INTERNAL;

	if (!out)
		return mpc_fail(MPC_E_ARG, "concat: no output tensor");
	if (!parts || nparts < 1)
		return mpc_fail(MPC_E_ARG, "concat: no parts");
	ndim = parts[0].ndim;
	if (ndim < 1 || ndim > FT_MAX_DIMS)
		return mpc_fail(MPC_E_SHAPE, "concat: rank %d parts cannot be "
				"joined", ndim);
	if (axis < 0)
		axis += ndim;
	if (axis < 0 || axis >= ndim)
		return mpc_fail(MPC_E_ARG, "concat: axis outside 0..%d", ndim - 1);
	memcpy(dims, parts[0].dims, sizeof(dims));
	dims[axis] = 0;
	for (k = 0; k < nparts; k++) {
		const struct ftensor *p = &parts[k];

		if ((ret = check_part(p, k)) != 0)
			return ret;
		for (i = 0; i < ndim && p->ndim == ndim; i++)
			if (i != axis && p->dims[i] != parts[0].dims[i])
				break;
		if (p->ndim != ndim || i < ndim)
			return mpc_fail(MPC_E_SHAPE, "concat on axis %d: part %d "
					"shape %s does not match part 0 shape %s",
					axis, k,
					ftensor_shape_str(p->ndim, p->dims, s1, sizeof(s1)),
					ftensor_shape_str(ndim, parts[0].dims, s0, sizeof(s0)));
		/* Each dim is at most FT_MAX_ELEMS, so the sum cannot wrap first. */
		if (p->dims[axis] > (int64_t)FT_MAX_ELEMS ||
		    dims[axis] > (int64_t)FT_MAX_ELEMS)
			return mpc_fail(MPC_E_TOOBIG, "concat: axis %d grows past "
					"%zu", axis, FT_MAX_ELEMS);
		dims[axis] += p->dims[axis];
	}
	if ((ret = ftensor_alloc(&tmp, ndim, dims)) != 0)
		return mpc_fail_ctx(ret, "concat");
	for (i = 0; i < axis; i++)
		outer *= (size_t)dims[i];
	for (i = axis + 1; i < ndim; i++)
		inner *= (size_t)dims[i];
	if (tmp.n) {
		for (o = 0; o < outer; o++) {
			for (k = 0; k < nparts; k++) {
				size_t run = (size_t)parts[k].dims[axis] * inner;

				if (!run)
					continue;
				memcpy(tmp.data + off, parts[k].data + o * run,
				       run * sizeof(float));
				off += run;
			}
		}
	}
	MPC_CHECK(off == tmp.n);
	*out = tmp;
	return 0;
}

/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
#include <stdlib.h>
#include <string.h>

#include "ops.h"
#include "ring.h"

int beaver_bilin_need(struct corr_list *l, const struct bilin *bl)
{
	struct corr_req q;

	corr_req_bilin(&q, bl);
	return corr_list_add(l, &q);
}

/*
 * With E = X - A and F = Y - B open, party i holds
 *   Z_i = C_i + L(E, B_i + [i = 0] F) + L(A_i, F),
 * which sums to L(A, B) + L(E, B) + L(E, F) + L(A, F) = L(X, Y).
 */
int beaver_bilin(struct mpc *m, const struct bilin *bl, const uint64_t *x,
		 const uint64_t *y, uint64_t *z)
{
	struct corr_req q;
	struct corr_mat *mt;
	size_t xl = bilin_x_len(bl), yl = bilin_y_len(bl), zl = bilin_z_len(bl);
	size_t sl = bilin_scratch_len(bl);
	uint64_t *e = NULL, *f = NULL, *bf = NULL, *scratch = NULL;
	struct mpc_open_item it[2];
	int ret = MPC_E_NOMEM;

	corr_req_bilin(&q, bl);
	mt = mpc_take(m, &q);
	if (!(e = mpc_alloc_raw(xl)) || !(f = mpc_alloc_raw(yl)) || !(bf = mpc_alloc_raw(yl)) ||
	    (sl && !(scratch = mpc_alloc(sl))))
		goto out;
	ring_sub(e, x, mt->a, xl);
	ring_sub(f, y, mt->b, yl);
	it[0] = (struct mpc_open_item){ .share = e, .out = e, .n = xl };
	it[1] = (struct mpc_open_item){ .share = f, .out = f, .n = yl };
	if ((ret = mpc_open_items(m, it, 2)) != 0)
		goto out;
	memcpy(bf, mt->b, yl * sizeof(*bf));
	if (m->me == 0)
		ring_add(bf, bf, f, yl);
	memcpy(z, mt->c, zl * sizeof(*z));
	bilin_apply(bl, e, bf, z, 1, scratch);
	bilin_apply(bl, mt->a, f, z, 1, scratch);
	ret = 0;
out:
	mpc_release(mt);
	/* E and F were opened: public. */
	mpc_free_public(e, xl);
	mpc_free_public(f, yl);
	mpc_free_words(bf, yl);
	mpc_free_words(scratch, sl);
	return ret;
}

static void mul_desc(struct bilin *bl, size_t n)
{
	int64_t d = (int64_t)n;

	if (bilin_mul(bl, 1, &d, 1, &d, 1, &d))
		mpc_bug("element-wise product descriptor");
}

int beaver_mul_need(struct corr_list *l, size_t n)
{
	struct bilin bl;

	mul_desc(&bl, n);
	return beaver_bilin_need(l, &bl);
}

int beaver_mul(struct mpc *m, const uint64_t *x, const uint64_t *y, size_t n,
	       uint64_t *z)
{
	struct bilin bl;

	mul_desc(&bl, n);
	return beaver_bilin(m, &bl, x, y, z);
}

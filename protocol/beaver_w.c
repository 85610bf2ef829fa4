/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * Beaver products whose second operand is a weight, in a job run in
 * chunks of rows (ops.h, struct beaver_w): the weight's mask B and F =
 * W - B are the job's, A and C = L(A, B) each chunk's. With E = X - A,
 *   Z_i = C_i + L(A_i, F) + L(E, B_i + [i = 0] F)
 * sums to L(A, B) + L(A, F) + L(E, B) + L(E, F) = L(X, W) for any A, so a
 * fresh A per chunk against the one B is as correct as a whole triple.
 */
#include <string.h>

#include "ops.h"
#include "ring.h"

int beaver_w_need(struct corr_list *l, size_t yl, size_t slot)
{
	struct corr_req q;

	corr_req_wmask(&q, yl, slot);
	return corr_list_add(l, &q);
}

int beaver_w_take(struct mpc *m, size_t yl, size_t slot, const uint64_t *y,
		  struct beaver_w *w)
{
	struct corr_req q;

	memset(w, 0, sizeof(*w));
	corr_req_wmask(&q, yl, slot);
	w->wm = mpc_take(m, &q);
	w->n = yl;
	if (!(w->f = mpc_alloc_raw(yl ? yl : 1)))
		return MPC_E_NOMEM;
	ring_sub(w->f, y, w->wm->b, yl);
	return 0;
}

int beaver_w_ready(struct mpc *m, struct beaver_w *w)
{
	if (!(w->bf = mpc_alloc_raw(w->n ? w->n : 1)))
		return MPC_E_NOMEM;
	memcpy(w->bf, w->wm->b, w->n * sizeof(*w->bf));
	if (m->me == 0)
		ring_add(w->bf, w->bf, w->f, w->n);
	/* B itself is never needed again: bf stands for it in every chunk. */
	mpc_release(w->wm);
	w->wm = NULL;
	return 0;
}

int beaver_w_chunk_need(struct corr_list *l, const struct bilin *bl, size_t slot)
{
	struct corr_req q;

	corr_req_bilin_kb(&q, bl, slot);
	return corr_list_add(l, &q);
}

int beaver_w_chunk(struct mpc *m, const struct bilin *bl, size_t slot, struct beaver_w *w)
{
	struct corr_req q;

	if (!w->bf || bilin_y_len(bl) != w->n)
		mpc_bug("a chunk's triple before its layer's weights phase");
	corr_req_bilin_kb(&q, bl, slot);
	w->mt = mpc_take(m, &q);
	w->zn = bilin_z_len(bl);
	if (!(w->z0 = mpc_alloc_raw(w->zn ? w->zn : 1)))
		return MPC_E_NOMEM;
	memcpy(w->z0, w->mt->c, w->zn * sizeof(*w->z0));
	return beaver_apply_acc(bl, w->mt->a, w->f, w->z0);
}

/* The chunk's part: the triple and z0 (the job's F and bf stay). */
static void chunk_free(struct beaver_w *w)
{
	if (w->z0)
		mpc_free_words(w->z0, w->zn ? w->zn : 1);
	if (w->mt)
		mpc_release(w->mt);
	w->z0 = NULL;
	w->mt = NULL;
}

int beaver_w_apply(struct mpc *m, const struct bilin *bl, const uint64_t *x,
		   struct beaver_w *w, uint64_t *z)
{
	size_t xl = bilin_x_len(bl);
	uint64_t *e = NULL;
	int ret = MPC_E_NOMEM;

	if (!w->mt || !w->z0)
		mpc_bug("a layer without its chunk's triple");
	if (!(e = mpc_alloc_raw(xl ? xl : 1)))
		goto out;
	ring_sub(e, x, w->mt->a, xl);
	if ((ret = mpc_open(m, e, xl, e)) != 0)
		goto out;
	memcpy(z, w->z0, w->zn * sizeof(*z));
	ret = beaver_apply_acc(bl, e, w->bf, z);
out:
	/* E is open: public. */
	if (e)
		mpc_free_public(e, xl ? xl : 1);
	chunk_free(w);
	return ret;
}

void beaver_w_free(struct beaver_w *w)
{
	chunk_free(w);
	if (w->wm)
		mpc_release(w->wm);
	mpc_free_words(w->bf, w->n ? w->n : 1);
	/* F is opened by then, or a share of W - B: either way no secret. */
	if (w->f)
		mpc_free_public(w->f, w->n ? w->n : 1);
	memset(w, 0, sizeof(*w));
}

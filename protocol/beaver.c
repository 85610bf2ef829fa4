/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
#include <stdlib.h>
#include <string.h>

#include "ops.h"
#include "pool.h"
#include "ring.h"

int beaver_bilin_need(struct corr_list *l, const struct bilin *bl)
{
	struct corr_req q;

	corr_req_bilin(&q, bl);
	return corr_list_add(l, &q);
}

/* z += L(x, y), with the scratch the map needs. */
int beaver_apply_acc(const struct bilin *bl, const uint64_t *x, const uint64_t *y, uint64_t *z)
{
	size_t sl = bilin_scratch_len(bl);
	uint64_t *scratch = NULL;

	if (sl && !(scratch = mpc_alloc(sl)))
		return MPC_E_NOMEM;
	bilin_apply(bl, x, y, z, 1, scratch);
	mpc_free_words(scratch, sl);
	return 0;
}

/*
 * With E = X - A and F = Y - B open, party i holds
 *   Z_i = C_i + L(A_i, F) + L(E, B_i + [i = 0] F),
 * which sums to L(A, B) + L(A, F) + L(E, B) + L(E, F) = L(X, Y). The part
 * without E: bf = B_i + [i = 0] F and z = C_i + L(A_i, F).
 */
static int without_e(struct mpc *m, const struct bilin *bl, const struct corr_mat *mt,
		     const uint64_t *f, uint64_t *bf, uint64_t *z)
{
	size_t yl = bilin_y_len(bl);

	memcpy(bf, mt->b, yl * sizeof(*bf));
	if (m->me == 0)
		ring_add(bf, bf, f, yl);
	memcpy(z, mt->c, bilin_z_len(bl) * sizeof(*z));
	return beaver_apply_acc(bl, mt->a, f, z);
}

/* The element-wise formula on [lo, hi), apart on the pool for large layers. */
struct mul_job {
	const uint64_t *a, *b, *c, *e, *f;
	uint64_t own, *z;
};

#define MUL_MIN ((size_t)1 << 15)

static int mul_range(void *arg, size_t lo, size_t hi)
{
	const struct mul_job *j = arg;

	for (size_t i = lo; i < hi; i++)
		j->z[i] = j->c[i] + j->e[i] * (j->b[i] + (j->f[i] & j->own)) + j->a[i] * j->f[i];
	return 0;
}

static int finish(struct mpc *m, const struct bilin *bl, const struct corr_mat *mt,
		  const uint64_t *e, const uint64_t *f, uint64_t *z)
{
	size_t yl = bilin_y_len(bl), zl = bilin_z_len(bl);
	uint64_t *bf;
	int ret;

	/* Element-wise without broadcast: the whole formula in one pass. */
	if (bl->kind == BILIN_MUL && bilin_x_len(bl) == zl && yl == zl) {
		struct mul_job j = { mt->a, mt->b, mt->c, e, f,
				     m->me == 0 ? ~(uint64_t)0 : 0, z };

		pool_run(zl, MUL_MIN, mul_range, &j);
		return 0;
	}
	if (!(bf = mpc_alloc_raw(yl)))
		return MPC_E_NOMEM;
	if ((ret = without_e(m, bl, mt, f, bf, z)) == 0)
		ret = beaver_apply_acc(bl, e, bf, z);
	mpc_free_words(bf, yl);
	return ret;
}

int beaver_bilin(struct mpc *m, const struct bilin *bl, const uint64_t *x,
		 const uint64_t *y, uint64_t *z)
{
	struct beaver_pre p;
	int ret;

	if ((ret = beaver_pre_take(m, bl, y, &p)) != 0)
		return ret;
	return beaver_bilin_pre(m, bl, x, &p, z);
}

int beaver_pre_take(struct mpc *m, const struct bilin *bl, const uint64_t *y,
		    struct beaver_pre *p)
{
	struct corr_req q;

	corr_req_bilin(&q, bl);
	p->mt = mpc_take(m, &q);
	p->n = bilin_y_len(bl);
	if (!(p->f = mpc_alloc_raw(p->n))) {
		mpc_release(p->mt);
		p->mt = NULL;
		return MPC_E_NOMEM;
	}
	ring_sub(p->f, y, p->mt->b, p->n);
	p->opened = 0;
	return 0;
}

void beaver_pre_free(struct beaver_pre *p)
{
	if (p->mt)
		mpc_release(p->mt);
	/* F is opened by then, or a share of Y - B: either way no secret. */
	mpc_free_public(p->f, p->n);
	p->mt = NULL;
	p->f = NULL;
}

/*
 * F is open when p was filled by beaver_pre_take and opened, or is still
 * this party's share when called from beaver_bilin: then both go in one
 * round.
 */
int beaver_bilin_pre(struct mpc *m, const struct bilin *bl, const uint64_t *x,
		     struct beaver_pre *p, uint64_t *z)
{
	size_t xl = bilin_x_len(bl);
	uint64_t *e = mpc_alloc_raw(xl);
	struct mpc_open_item it[2];
	int ret = MPC_E_NOMEM;

	if (!e)
		goto out;
	ring_sub(e, x, p->mt->a, xl);
	it[0] = (struct mpc_open_item){ .share = e, .out = e, .n = xl };
	it[1] = (struct mpc_open_item){ .share = p->f, .out = p->f, .n = p->n };
	if ((ret = mpc_open_items(m, it, p->opened ? 1 : 2)) != 0)
		goto out;
	ret = finish(m, bl, p->mt, e, p->f, z);
out:
	mpc_free_public(e, xl);
	beaver_pre_free(p);
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

/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * LayerNormalization on shares, and Gather with secret indices as a
 * one-hot product (why that is private: docs/security.md).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "eval_tf.h"
#include "fxp.h"
#include "nonlin_tf.h"
#include "ring.h"

/*
 * Extra fractional bits of the variance: a small variance (5e-4 is 34
 * units at f = 16) would lose its precision at scale f, and the inverse
 * square root takes its input at f + xk (ring bounds: nonlin_tf.c).
 */
int ev__var_xb(const struct ectx *c)
{
	int k = 24 - c->frac;

	return k < 0 ? 0 : k > 8 ? 8 : k;
}

/*
 * v[r] = (sum of row r of x, at in_bits) / inner at out_bits <= in_bits:
 * the sum truncated to out_bits first, then times round(2^p / inner)
 * with p = 46 - out_bits (a row mean below 2^15 stays below 2^61), and
 * truncated by p: 1/inner with p bits, exact enough for any row.
 */
static int row_mean(struct ectx *c, const uint64_t *x, size_t rows, size_t inner,
		    int in_bits, int out_bits, uint64_t *v)
{
	int p = 46 - out_bits, ret;
	uint64_t mul = (uint64_t)llround(ldexp(1.0, p) / (double)inner);

	if (!c->run) {
		if (in_bits > out_bits && (ret = trunc_need(c->l, rows, in_bits - out_bits)) != 0)
			return ret;
		return trunc_need(c->l, rows, p);
	}
	for (size_t r = 0; r < rows; r++) {
		uint64_t acc = 0;

		for (size_t j = 0; j < inner; j++)
			acc += x[r * inner + j];
		v[r] = acc;
	}
	if (in_bits > out_bits && (ret = mpc_trunc(c->m, v, rows, in_bits - out_bits, v)) != 0)
		return ret;
	for (size_t r = 0; r < rows; r++)
		v[r] *= mul;
	return mpc_trunc(c->m, v, rows, p, v);
}

/*
 * mean, d = x - mean, var = mean(d^2) + epsilon (at f + 8 bits),
 * y = d * rsqrt(var) (scale 1), then y * Scale + B (scale 2). Rounds:
 * 1 (mean) + 1 (d^2) + 2 (var) + 22 (rsqrt) + 2 (y) + 1 (Scale) = 29.
 */
int ev__layernorm(struct ectx *c, const struct model_node *nd)
{
	const struct model_value *xv = ev__mv(c, nd->in[0]), *gv = ev__mv(c, nd->in[1]);
	const struct model_value *ov = ev__mv(c, nd->out);
	size_t n = ev__numel(xv), inner = 1, rows;
	uint64_t *px = NULL, *d = NULL, *sq = NULL, *mu = NULL, *var = NULL, *rs = NULL;
	uint64_t *pg = NULL, *pb = NULL;
	struct model_value rv = *xv; /* the shape of one value per row */
	int ret = MPC_E_NOMEM, s, owned = 0, xk = ev__var_xb(c), sg, og = 0, sb = 2, ob = 0;

	for (int i = nd->axis; i < xv->ndim; i++) {
		inner *= (size_t)xv->dims[i];
		rv.dims[i] = 1;
	}
	rows = inner ? n / inner : 0;
	if ((ret = ev__operand(c, nd->in[0], 1, 1, &px, &s, &owned)) != 0)
		return ret;
	if (c->run && (!(d = mpc_alloc(n)) || !(sq = mpc_alloc(n)) || !(mu = mpc_alloc(rows)) ||
		       !(var = mpc_alloc(rows)) || !(rs = mpc_alloc(rows)))) {
		ret = MPC_E_NOMEM;
		goto out;
	}
	if ((ret = row_mean(c, px, rows, inner, c->frac, c->frac, mu)) != 0)
		goto out;
	for (size_t i = 0; c->run && i < n; i++)
		d[i] = px[i] - mu[i / inner];
	if (!c->run)
		ret = beaver_mul_need(c->l, n);
	else
		ret = beaver_mul(c->m, d, d, n, sq);
	if (ret || (ret = row_mean(c, sq, rows, inner, 2 * c->frac, c->frac + xk, var)) != 0)
		goto out;
	if (c->run) {
		mpc_add_public_const(c->m, var, fxp_from_double(nd->epsilon, c->frac + xk), rows);
		ret = mpc_rsqrt_x(c->m, var, rows, xk, rs);
	} else {
		ret = rsqrt_x_need(c->l, rows, c->frac, xk);
	}
	if (ret || (ret = ev__mul_bcast(c, d, xv, rs, &rv, sq)) != 0)
		goto out;
	ret = c->run ? mpc_trunc(c->m, sq, n, c->frac, sq) : trunc_need(c->l, n, c->frac);
	/* Scale and B are weights, or computed (PyTorch shares equal weights through Identity). */
	if (ret || (ret = ev__operand(c, nd->in[1], 1, 1, &pg, &sg, &og)) != 0 ||
	    (ret = ev__out(c, nd->out, 2)) != 0 ||
	    (ret = ev__mul_bcast(c, sq, xv, pg, gv, c->vals[nd->out].v)) != 0)
		goto out;
	if (nd->n_in > 2 && nd->in[2] >= 0) {
		const struct model_value *bv = ev__mv(c, nd->in[2]);

		if ((ret = ev__operand(c, nd->in[2], 2, 2, &pb, &sb, &ob)) == 0 && c->run)
			ev__bcast_accum(c->vals[nd->out].v, ov->ndim, ov->dims, pb, bv->ndim,
					bv->dims, (uint64_t)1 << ((2 - sb) * c->frac));
	}
out:
	ev__free_owned(px, n, owned);
	mpc_free_words(d, n);
	mpc_free_words(sq, n);
	mpc_free_words(mu, rows);
	mpc_free_words(var, rows);
	mpc_free_words(rs, rows);
	ev__free_owned(pg, ev__numel(gv), og);
	if (nd->n_in > 2 && nd->in[2] >= 0)
		ev__free_owned(pb, ev__numel(ev__mv(c, nd->in[2])), ob);
	return ret;
}

size_t ev__onehot_width(const struct model *md, int vid)
{
	size_t rows = 0;

	if (!md->values[vid].is_data_input)
		return 0;
	for (size_t k = 0; k < md->n_nodes; k++) {
		const struct model_node *nd = &md->nodes[k];

		for (int j = 0; j < nd->n_in; j++) {
			const struct model_value *t;
			size_t v;

			if (nd->in[j] != vid)
				continue;
			t = &md->values[nd->in[0]];
			if (nd->op != MOP_GATHER || j != 1 || nd->axis != 0 ||
			    !(t->init.data || t->shape_only) || t->ndim < 1)
				return 0;
			v = (size_t)t->dims[0];
			if (!v || (rows && rows != v))
				return 0;
			rows = v;
		}
	}
	return rows;
}

size_t ev__onehot_rows(const struct ectx *c, int vid)
{
	return ev__onehot_width(c->md, vid);
}

/* The owner's one-hot rows of its part (indices checked: integers in [-V, V)). */
static int onehot_of(const struct model_value *mv, const float *ix, size_t n, size_t nv,
		     float **out)
{
	float *oh = calloc(n * nv + 1, sizeof(*oh));

	*out = NULL;
	if (!oh)
		return mpc_fail(MPC_E_NOMEM, "input '%s': one-hot rows", mv->name);
	for (size_t i = 0; i < n; i++) {
		double v = ix[i];

		if (!isfinite(v) || v != floor(v) || v < -(double)nv || v >= (double)nv) {
			free(oh);
			return mpc_fail(MPC_E_RANGE, "input '%s': an index is not an integer in "
					"[-%zu, %zu)", mv->name, nv, nv);
		}
		oh[i * nv + (size_t)(v < 0 ? v + (double)nv : v)] = 1.0f;
	}
	*out = oh;
	return 0;
}

/*
 * Each owner shares the one-hot rows of its indices (0 bytes, like any
 * input); the parts are joined on the input's axis, V words per index.
 */
int ev__share_onehot(struct ectx *c, int vid, const struct eval_input *in)
{
	const struct model_value *mv = ev__mv(c, vid);
	struct ev_val *v = &c->vals[vid];
	size_t nv = ev__onehot_rows(c, vid), outer = 1, total = 1, done = 0;
	int ret = 0;

	for (int d = 0; d < in->axis; d++)
		outer *= (size_t)mv->dims[d];
	total = outer ? ev__numel(mv) / outer : 0;
	mpc_free_words(v->v, v->n);
	v->n = ev__numel(mv) * nv;
	v->scale = 0;
	v->xb = 0;
	if (!(v->v = mpc_alloc(v->n)))
		return MPC_E_NOMEM;
	c->nd = NULL;
	for (int p = 0; p < in->n_parts && !ret; p++) {
		const struct eval_part *pt = &in->parts[p];
		size_t inner = 1, n;
		float *oh = NULL;
		uint64_t *sh = NULL;

		for (int d = in->axis; d < mv->ndim; d++)
			inner *= (size_t)pt->dims[d];
		n = outer * inner;
		if (pt->owner < 0 || pt->owner >= c->m->n)
			return mpc_fail(MPC_E_ARG, "input '%s' part %d: owner %d is not a party",
					mv->name, p, pt->owner);
		if (c->m->me == pt->owner && (ret = onehot_of(mv, pt->data, n, nv, &oh)) != 0)
			return ret;
		ret = ev__share_floats(c, pt->owner, oh, n * nv, 0, &sh);
		ftensor_wipe_free(oh, (n * nv + 1) * sizeof(*oh)); /* the indices, in another form */
		if (ret)
			return mpc_fail_ctx(ret, "input '%s' part %d", mv->name, p);
		for (size_t o = 0; o < outer; o++)
			memcpy(v->v + (o * total + done) * nv, sh + o * inner * nv,
			       inner * nv * sizeof(*sh));
		done += inner;
		mpc_free_words(sh, n * nv);
	}
	return ret;
}

/*
 * out[i] = sum_v onehot[i, v] table[v]: one matrix product with the
 * table as a weight (1 round, 8(|indices| V + |table|) bytes), output at
 * scale 1 since the one-hot rows are integers.
 */
int ev__gather(struct ectx *c, const struct model_node *nd)
{
	const struct model_value *tv = ev__mv(c, nd->in[0]), *iv = ev__mv(c, nd->in[1]);
	size_t ni = ev__numel(iv), nv = (size_t)tv->dims[0], w = nv ? ev__numel(tv) / nv : 0;
	uint64_t *pt = NULL;
	struct bilin bl;
	int ret, s, owned = 0;

	if (!ev__onehot_rows(c, nd->in[1]))
		return ev__fail(c, MPC_E_UNSUPPORTED,
				"the indices must be a data input read only as Gather indices "
				"(axis 0) into a weight table");
	if ((ret = bilin_matmul(&bl, ni, nv, w)) != 0)
		return ev__fail(c, ret, "%s", mpc_errmsg(ret));
	if ((ret = ev__operand(c, nd->in[0], 1, 1, &pt, &s, &owned)) != 0 ||
	    (ret = ev__out(c, nd->out, 1)) != 0)
		goto out;
	ret = c->run ? beaver_bilin(c->m, &bl, c->vals[nd->in[1]].v, pt, c->vals[nd->out].v) :
		       beaver_bilin_need(c->l, &bl);
out:
	ev__free_owned(pt, ev__numel(tv), owned);
	return ret;
}

/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * Secure handlers of the transformer ops, in both modes like eval_ops.c:
 * Div, Pow (2, 0.5), Sqrt, Erf, Tanh, Gelu, ReduceMean/Sum/Max and MatMul
 * with both operands computed and batch dimensions. LayerNormalization
 * and Gather with secret indices are in eval_tf_norm.c.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "eval_tf.h"
#include "fxp.h"
#include "nonlin_tf.h"
#include "ring.h"

#define ANY_SCALE 8

const struct model_value *ev__mv(struct ectx *c, int vid)
{
	return &c->md->values[vid];
}

void ev__free_owned(uint64_t *p, size_t n, int owned)
{
	if (owned)
		mpc_free_words(p, n);
}

int ev__mul_bcast(struct ectx *c, const uint64_t *a, const struct model_value *av,
		  const uint64_t *b, const struct model_value *bv, uint64_t *z)
{
	const struct model_value *ov = ev__mv(c, c->nd->out);
	struct bilin bl;
	int ret;

	if ((ret = bilin_mul(&bl, ov->ndim, ov->dims, av->ndim, av->dims, bv->ndim,
			     bv->dims)) != 0)
		return ev__fail(c, ret, "%s", mpc_errmsg(ret));
	return c->run ? beaver_bilin(c->m, &bl, a, b, z) : beaver_bilin_need(c->l, &bl);
}

/* The node producing vid, or NULL for an input or a weight. */
static const struct model_node *producer(struct ectx *c, int vid)
{
	for (size_t k = 0; k < c->md->n_nodes; k++)
		if (c->md->nodes[k].out == vid)
			return &c->md->nodes[k];
	return NULL;
}

/*
 * A square root whose only reader divides by it (LayerNormalization's
 * opset-14 form: Div(d, Sqrt(var + eps))) computes 1/sqrt instead, and
 * the Div multiplies: one approximation instead of two.
 */
static int sqrt_feeds_div(struct ectx *c, int vid)
{
	const struct model *md = c->md;
	const struct model_node *p = producer(c, vid), *reader = NULL;
	int readers = 0;

	if (!p || !(p->op == MOP_SQRT || (p->op == MOP_POW && p->exponent == 0.5f)) ||
	    md->values[vid].is_output)
		return 0;
	for (size_t k = 0; k < md->n_nodes; k++)
		for (int j = 0; j < md->nodes[k].n_in; j++)
			if (md->nodes[k].in[j] == vid) {
				readers++;
				reader = &md->nodes[k];
			}
	return readers == 1 && reader->op == MOP_DIV && reader->in[1] == vid &&
	       reader->in[0] != vid;
}

/* Element-wise f(x) of a computed value at scale 1 into the output at scale 1. */
static int op_pwl(struct ectx *c, const struct model_node *nd, enum pwl_fn f)
{
	size_t n = ev__numel(ev__mv(c, nd->in[0]));
	uint64_t *px = NULL;
	int ret, s, owned = 0;

	if ((ret = ev__operand(c, nd->in[0], 1, 1, &px, &s, &owned)) != 0)
		return ret;
	if ((ret = ev__out(c, nd->out, 1)) == 0)
		ret = c->run ? mpc_pwl(c->m, f, px, n, c->vals[nd->out].v) :
			       pwl_need(c->l, f, n, c->frac);
	ev__free_owned(px, n, owned);
	return ret;
}

/* x^3 = x * trunc(x^2): 2 products and a truncation, scale 2. */
static int cube(struct ectx *c, const uint64_t *x, size_t n, uint64_t *out)
{
	uint64_t *t;
	int ret;

	if (!c->run) {
		if ((ret = beaver_mul_need(c->l, n)) == 0 &&
		    (ret = trunc_need(c->l, n, c->frac)) == 0)
			ret = beaver_mul_need(c->l, n);
		return ret;
	}
	if (!(t = mpc_alloc(n)))
		return MPC_E_NOMEM;
	if ((ret = beaver_mul(c->m, x, x, n, t)) == 0 &&
	    (ret = mpc_trunc(c->m, t, n, c->frac, t)) == 0)
		ret = beaver_mul(c->m, x, t, n, out);
	mpc_free_words(t, n);
	return ret;
}

/*
 * 1/sqrt(x) of x at scale s (1 or 2) into r: at scale 2 (a variance from
 * ReduceMean of squares) x is truncated to f + xk bits, not to f, so a
 * small variance keeps its precision.
 */
static int rsqrt_of(struct ectx *c, const uint64_t *x, size_t n, int s, uint64_t *r)
{
	int xk = s > 1 ? ev__var_xb(c) : 0, sh = (s - 1) * c->frac - xk, ret;
	uint64_t *t = NULL;

	if (!c->run) {
		if (sh > 0 && (ret = trunc_need(c->l, n, sh)) != 0)
			return ret;
		return rsqrt_x_need(c->l, n, c->frac, xk);
	}
	if (sh <= 0)
		return mpc_rsqrt_x(c->m, x, n, xk, r);
	if (!(t = mpc_alloc(n)))
		return MPC_E_NOMEM;
	if ((ret = mpc_trunc(c->m, x, n, sh, t)) == 0)
		ret = mpc_rsqrt_x(c->m, t, n, xk, r);
	mpc_free_words(t, n);
	return ret;
}

/*
 * x^2, x^3 (scale 2), sqrt(x) = x / sqrt(x) (scale s + 1), or 1/sqrt(x)
 * (scale 1) when a Div divides by it.
 */
static int op_pow_sqrt(struct ectx *c, const struct model_node *nd)
{
	size_t n = ev__numel(ev__mv(c, nd->in[0]));
	uint64_t *px = NULL, *r = NULL;
	int ret, s, owned = 0, pw = nd->op == MOP_POW && nd->exponent != 0.5f;
	int sq = pw && nd->exponent == 2.0f, inv = !pw && sqrt_feeds_div(c, nd->out);

	if ((ret = ev__operand(c, nd->in[0], pw ? 1 : 2, 1, &px, &s, &owned)) != 0)
		return ret;
	if ((ret = ev__out(c, nd->out, pw ? 2 : inv ? 1 : s + 1)) != 0)
		goto out;
	if (sq) {
		ret = c->run ? beaver_mul(c->m, px, px, n, c->vals[nd->out].v) :
			       beaver_mul_need(c->l, n);
		goto out;
	}
	if (pw) {
		ret = cube(c, px, n, c->vals[nd->out].v);
		goto out;
	}
	if (inv) {
		ret = rsqrt_of(c, px, n, s, c->vals[nd->out].v);
		goto out;
	}
	if (c->run && !(r = mpc_alloc(n))) {
		ret = MPC_E_NOMEM;
		goto out;
	}
	if ((ret = rsqrt_of(c, px, n, s, r)) == 0)
		ret = c->run ? beaver_mul(c->m, px, r, n, c->vals[nd->out].v) :
			       beaver_mul_need(c->l, n);
out:
	mpc_free_words(r, n);
	ev__free_owned(px, n, owned);
	return ret;
}

/* 1/W of a weight, shared by its owner at scale 1. */
static int share_inverse(struct ectx *c, int vid, uint64_t **p)
{
	const struct model_value *mv = ev__mv(c, vid);
	size_t n = ev__numel(mv);
	float *inv = NULL;
	int ret = 0;

	if (c->run && c->m->me == c->owner && mv->init.data) {
		if (!(inv = malloc((n ? n : 1) * sizeof(*inv))))
			return mpc_fail(MPC_E_NOMEM, "weights");
		for (size_t i = 0; i < n && !ret; i++) {
			if (mv->init.data[i] == 0.0f)
				ret = ev__fail(c, MPC_E_RANGE, "divisor '%s' has a zero", mv->name);
			inv[i] = 1.0f / mv->init.data[i];
		}
	}
	if (!ret)
		ret = ev__share_floats(c, c->owner, inv, n, 1, p);
	ftensor_wipe_free(inv, n * sizeof(*inv)); /* transformed weights */
	return ret;
}

/*
 * A / B = A * (1/B): 1/B shared by the model owner when B is a weight, a
 * deferred 1/sqrt when B is such a Sqrt, the secure reciprocal (B > 0,
 * docs/protocols.md) otherwise; then one broadcast product (scale 2).
 */
static int op_div(struct ectx *c, const struct model_node *nd)
{
	const struct model_value *av = ev__mv(c, nd->in[0]), *bv = ev__mv(c, nd->in[1]);
	size_t na = ev__numel(av), nb = ev__numel(bv);
	uint64_t *pa = NULL, *pb = NULL, *rb = NULL;
	int ret, sa, sb, oa = 0, ob = 0;

	if (c->vals[nd->in[1]].is_const) {
		if ((ret = share_inverse(c, nd->in[1], &rb)) != 0)
			goto out;
	} else {
		if ((ret = ev__operand(c, nd->in[1], 1, 1, &pb, &sb, &ob)) != 0)
			goto out;
		if (sqrt_feeds_div(c, nd->in[1])) {
			rb = pb; /* holds 1/sqrt already */
			pb = NULL;
			ob = 0;
		} else if (!c->run) {
			ret = recip_need(c->l, nb, c->frac);
		} else if (!(rb = mpc_alloc(nb))) {
			ret = MPC_E_NOMEM;
		} else {
			ret = mpc_recip(c->m, pb, nb, rb);
		}
		if (ret)
			goto out;
	}
	if ((ret = ev__operand(c, nd->in[0], 1, 1, &pa, &sa, &oa)) != 0 ||
	    (ret = ev__out(c, nd->out, 2)) != 0)
		goto out;
	ret = ev__mul_bcast(c, pa, av, rb, bv, c->vals[nd->out].v);
out:
	if (rb && rb != c->vals[nd->in[1]].v)
		mpc_free_words(rb, nb);
	ev__free_owned(pa, na, oa);
	ev__free_owned(pb, nb, ob);
	return ret;
}

/* Output element of each input element of a reduction over nd->axes. */
static void reduce_map(const struct model_value *xv, const struct model_node *nd, size_t *map)
{
	size_t idx[FT_MAX_DIMS] = { 0 }, total = ev__numel(xv);
	int sel[FT_MAX_DIMS];

	model_reduce_sel(nd, xv->ndim, sel);
	for (size_t i = 0; i < total; i++) {
		size_t o = 0;

		for (int d = 0; d < xv->ndim; d++)
			if (!sel[d])
				o = o * (size_t)xv->dims[d] + idx[d];
		map[i] = o;
		for (int d = xv->ndim - 1; d >= 0; d--) {
			if (++idx[d] < (size_t)xv->dims[d])
				break;
			idx[d] = 0;
		}
	}
}

static int reduce_max(struct ectx *c, const struct model_node *nd, const uint64_t *px,
		      const size_t *map, size_t n, size_t on)
{
	size_t *start = calloc(on + 2, sizeof(*start)), *idx = malloc((n + 1) * sizeof(*idx));
	struct cmp_groups g = { .n = on, .start = start, .idx = idx };
	int ret = MPC_E_NOMEM;

	if (!start || !idx)
		goto out;
	for (size_t i = 0; i < n; i++)
		start[map[i] + 2]++;
	for (size_t o = 0; o < on; o++)
		start[o + 2] += start[o + 1];
	for (size_t i = 0; i < n; i++)
		idx[start[map[i] + 1]++] = i;
	ret = c->run ? max_groups(c->m, px, &g, c->vals[nd->out].v) : max_groups_need(c->l, &g);
out:
	free(start);
	free(idx);
	return ret;
}

/*
 * The mean of a scale-2 sum (a variance): truncated by t1, times
 * round(2^(t1 + q) / count), truncated by q: scale 2 again, 1/count with
 * t1 + q >= 23 bits, |mean| < 2^15 in the ring.
 */
static int mean2(struct ectx *c, uint64_t *v, size_t on, size_t cnt)
{
	int q = 47 - 2 * c->frac, t1 = q >= 23 ? 0 : 23 - q, ret;
	uint64_t mul = (uint64_t)llround(ldexp(1.0, t1 + q) / (double)(cnt ? cnt : 1));

	if (!c->run) {
		if (t1 && (ret = trunc_need(c->l, on, t1)) != 0)
			return ret;
		return trunc_need(c->l, on, q);
	}
	if (t1 && (ret = mpc_trunc(c->m, v, on, t1, v)) != 0)
		return ret;
	for (size_t o = 0; o < on; o++)
		v[o] *= mul;
	return mpc_trunc(c->m, v, on, q, v);
}

/*
 * Sum: local. Mean of a scale-1 value: the sum times 1/count encoded at
 * 2f bits (exact enough for any count) when the ring allows it, so scale
 * 1 + 2; of a scale-2 value: mean2. Max: a comparison tree per output.
 */
static int op_reduce(struct ectx *c, const struct model_node *nd)
{
	const struct model_value *xv = ev__mv(c, nd->in[0]), *ov = ev__mv(c, nd->out);
	size_t n = ev__numel(xv), on = ev__numel(ov), cnt = on ? n / on : 0, *map = NULL;
	int mean = nd->op == MOP_REDUCEMEAN, fs = 3 * c->frac <= 50 ? 2 : 1;
	uint64_t *px = NULL, mul;
	int ret, s, owned = 0;

	if (!(map = malloc((n ? n : 1) * sizeof(*map))))
		return mpc_fail(MPC_E_NOMEM, "reduce");
	reduce_map(xv, nd, map);
	if ((ret = ev__operand(c, nd->in[0], mean ? 2 : ANY_SCALE, 1, &px, &s, &owned)) != 0)
		goto out;
	if ((ret = ev__out(c, nd->out, mean && s == 1 ? s + fs : s)) != 0)
		goto out;
	if (nd->op == MOP_REDUCEMAX) {
		ret = reduce_max(c, nd, px, map, n, on);
		goto out;
	}
	if (c->run)
		for (size_t i = 0; i < n; i++)
			c->vals[nd->out].v[map[i]] += px[i];
	if (mean && s == 2) {
		ret = mean2(c, c->vals[nd->out].v, on, cnt);
		goto out;
	}
	if (!c->run)
		goto out;
	mul = mean ? fxp_from_double(1.0 / (double)(cnt ? cnt : 1), fs * c->frac) : 1;
	for (size_t o = 0; o < on; o++)
		c->vals[nd->out].v[o] *= mul;
out:
	free(map);
	ev__free_owned(px, n, owned);
	return ret;
}

/* Slice s of v's matrices inside an output of rank r and dims od (batch broadcast). */
static size_t slice_off(const struct model_value *v, int r, const int64_t *od, size_t s)
{
	size_t off = 0, st = (size_t)v->dims[v->ndim - 2] * (size_t)v->dims[v->ndim - 1];

	for (int d = r - 3; d >= 0; d--) {
		int vd = d - (r - v->ndim);
		size_t i = s % (size_t)od[d];

		s /= (size_t)od[d];
		if (vd >= 0 && v->dims[vd] != 1)
			off += i * st;
		if (vd >= 0)
			st *= (size_t)v->dims[vd];
	}
	return off;
}

/* The operand's matrices, one per output batch slice (broadcast ones copied). */
static int batch_operand(struct ectx *c, int vid, size_t nb, uint64_t **out)
{
	const struct model_value *v = ev__mv(c, vid), *ov = ev__mv(c, c->nd->out);
	size_t mat = (size_t)v->dims[v->ndim - 2] * (size_t)v->dims[v->ndim - 1];
	uint64_t *p = NULL;
	int ret, s, owned = 0;

	*out = NULL;
	if ((ret = ev__operand(c, vid, 1, 1, &p, &s, &owned)) != 0 || !c->run)
		return ret;
	if ((*out = mpc_alloc(nb * mat)) != NULL)
		for (size_t i = 0; i < nb; i++)
			memcpy(*out + i * mat, p + slice_off(v, ov->ndim, ov->dims, i),
			       mat * sizeof(*p));
	ev__free_owned(p, ev__numel(v), owned);
	return *out ? 0 : MPC_E_NOMEM;
}

/*
 * [..., M, K] x [..., K, N] with both operands secret (attention): one
 * matrix triple per batch slice, all opened in one round.
 */
int ev__bmatmul(struct ectx *c, const struct model_node *nd)
{
	const struct model_value *ov = ev__mv(c, nd->out), *av = ev__mv(c, nd->in[0]);
	int r = ov->ndim;
	size_t m = (size_t)ov->dims[r - 2], p = (size_t)ov->dims[r - 1];
	size_t k = (size_t)av->dims[av->ndim - 1], nb = 1;
	uint64_t *pa = NULL, *pb = NULL;
	struct bilin bl;
	int ret;

	for (int d = 0; d < r - 2; d++)
		nb *= (size_t)ov->dims[d];
	if ((ret = bilin_bmatmul(&bl, nb, m, k, p)) != 0)
		return ev__fail(c, ret, "%s", mpc_errmsg(ret));
	if ((ret = batch_operand(c, nd->in[1], nb, &pb)) != 0 ||
	    (ret = batch_operand(c, nd->in[0], nb, &pa)) != 0 ||
	    (ret = ev__out(c, nd->out, 2)) != 0)
		goto out;
	ret = c->run ? beaver_bilin(c->m, &bl, pa, pb, c->vals[nd->out].v) :
		       beaver_bilin_need(c->l, &bl);
out:
	mpc_free_words(pa, nb * m * k);
	mpc_free_words(pb, nb * k * p);
	return ret;
}

int ev__tf_node(struct ectx *c, const struct model_node *nd)
{
	switch (nd->op) {
	case MOP_DIV:
		return op_div(c, nd);
	case MOP_POW:
	case MOP_SQRT:
		return op_pow_sqrt(c, nd);
	case MOP_ERF:
		return op_pwl(c, nd, PWL_ERF);
	case MOP_TANH:
		return op_pwl(c, nd, PWL_TANH);
	case MOP_GELU:
		return op_pwl(c, nd, PWL_GELU);
	case MOP_REDUCEMEAN:
	case MOP_REDUCESUM:
	case MOP_REDUCEMAX:
		return op_reduce(c, nd);
	case MOP_LAYERNORM:
		return ev__layernorm(c, nd);
	case MOP_GATHER:
		return ev__gather(c, nd);
	default:
		return ev__fail(c, MPC_E_UNSUPPORTED, "no secure evaluation for this op");
	}
}

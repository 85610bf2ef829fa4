/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * One handler per op. Each runs in both modes: in need mode the protocol
 * calls become their *_need() siblings and buffers stay NULL, so the
 * offline list and the online run follow the same code.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "eval-int.h"
#include "eval_tf.h"
#include "fxp.h"
#include "ring.h"

#define ANY_SCALE 8

static const struct model_value *mval(struct ectx *c, int vid)
{
	return &c->md->values[vid];
}

static int owner_has_data(struct ectx *c)
{
	return c->run && c->m->me == c->owner;
}

static uint64_t upscale(int from_bits, int to_bits)
{
	return (uint64_t)1 << (to_bits - from_bits);
}

/*
 * Extra fractional bits for node nd's weight (its second operand, with
 * data as first): as many as keep every output below 2^62 for any input
 * under the bound 2^(31 - f), from the owner's published magnitudes
 * (docs/protocols.md, "Weight scales"): |y| <= 2^(31-f) 2^wexp0 +
 * 2^wexp1, so at f + fw bits 2^(31 + wexp0 + fw) + 2^(wexp1 + f + fw) <=
 * 2^62 when fw <= 61 - max(31 + wexp0, wexp1 + f). Never fewer than f
 * (the activations' own), never more than 31.
 */
int ev__weight_xb(struct ectx *c, const struct model_node *nd)
{
	int ew = nd->wexp[0], eb = nd->wexp[1], hi = -(1 << 20), fw, x = nd->in[0], w = nd->in[1];

	if (nd->op == MOP_MUL && x >= 0 && c->vals[x].is_const) {
		x = nd->in[1]; /* Mul: the weight on either side */
		w = nd->in[0];
	}
	if (ew == MODEL_WEXP_UNSET || x < 0 || w < 0 || c->vals[x].is_const || !c->vals[w].is_const)
		return 0;
	if (ew != MODEL_WEXP_NONE)
		hi = 31 + ew;
	if (eb != MODEL_WEXP_NONE && eb + c->frac > hi)
		hi = eb + c->frac;
	fw = 61 - hi;
	fw = fw > 31 ? 31 : fw < c->frac ? c->frac : fw;
	return fw - c->frac;
}

static void free_owned(uint64_t *p, size_t n, int owned)
{
	if (owned)
		mpc_free_words(p, n);
}

int ev__pre_ok(const struct ectx *c, const struct model_node *nd)
{
	return (nd->op == MOP_GEMM || nd->op == MOP_CONV ||
		(nd->op == MOP_MATMUL && c->md->values[nd->in[1]].ndim == 2)) &&
	       nd->n_in >= 2 && nd->in[0] >= 0 && nd->in[1] >= 0 &&
	       !c->vals[nd->in[0]].is_const && c->vals[nd->in[1]].is_const;
}

static struct ev_pre *pre_of(struct ectx *c)
{
	return &c->pre[c->nd - c->md->nodes];
}

/*
 * The weights phase (EV_ST_MASK): the layer's weight mask and this
 * party's share of F = Y - B; a chunk's start (EV_ST_CHUNK): its triple.
 */
static int pre_take(struct ectx *c, const struct bilin *bl, const uint64_t *y)
{
	struct ev_pre *p = pre_of(c);
	size_t slot = (size_t)(c->nd - c->md->nodes);
	int ret;

	if (c->weights == EV_ST_CHUNK) {
		if (!p->on)
			mpc_bug("a chunk before the weights phase");
		return c->run ? beaver_w_chunk(c->m, bl, slot, &p->w) :
				beaver_w_chunk_need(c->l, bl, slot);
	}
	if (!c->run)
		ret = beaver_w_need(c->l, bilin_y_len(bl), slot);
	else
		ret = beaver_w_take(c->m, bilin_y_len(bl), slot, y, &p->w);
	p->on = !ret;
	return ret;
}

/* Z = L(X, Y); Y is not needed (NULL) when its F was opened ahead. */
static int do_bilin(struct ectx *c, const struct bilin *bl, const uint64_t *x,
		    const uint64_t *y, uint64_t *z)
{
	struct ev_pre *p = pre_of(c);

	if (!c->run)
		return p->on ? 0 : beaver_bilin_need(c->l, bl);
	if (p->on)
		return beaver_w_apply(c->m, bl, x, &p->w, z);
	return beaver_bilin(c->m, bl, x, y, z);
}

/*
 * (trans ? X^T : X) * factor at scale 1 as a new buffer, X stored as
 * rows x cols. Weights are transformed in plaintext by their owner;
 * computed values are transposed on shares (factor must then be 1).
 */
static int matrix_operand(struct ectx *c, int vid, int trans, float factor, int xb,
			  size_t rows, size_t cols, uint64_t **p)
{
	const struct model_value *mv = mval(c, vid);
	size_t n = rows * cols;
	uint64_t *src;
	int ret, scale, owned;

	*p = NULL;
	if (c->vals[vid].is_const) {
		float *tmp = NULL;

		if (owner_has_data(c) && mv->init.data) {
			if (!(tmp = malloc(n * sizeof(*tmp))))
				return mpc_fail(MPC_E_NOMEM, "weights");
			for (size_t i = 0; i < rows; i++)
				for (size_t j = 0; j < cols; j++)
					tmp[trans ? j * rows + i : i * cols + j] =
						factor * mv->init.data[i * cols + j];
		}
		ret = ev__share_bits(c, c->owner, tmp, n, c->frac + xb, p);
		ftensor_wipe_free(tmp, n * sizeof(*tmp)); /* scaled weights */
		return ret;
	}
	if (factor != 1.0f)
		mpc_bug("scaling a computed matrix");
	if ((ret = ev__operand(c, vid, 1, 1, &src, &scale, &owned)) != 0 || !c->run)
		return ret;
	if (!(*p = mpc_alloc(n)))
		return MPC_E_NOMEM;
	if (trans)
		ring_transpose(*p, src, rows, cols);
	else
		memcpy(*p, src, n * sizeof(*src));
	return 0;
}

/*
 * The second operand of a linear layer, as matrix_operand, unless the
 * weights phase opened its F already (*p stays NULL). In the weights phase
 * itself the layer stops here (*done) once it took its triple.
 */
static int second_operand(struct ectx *c, const struct bilin *bl, int vid, int trans,
			  float factor, int xb, size_t rows, size_t cols, uint64_t **p, int *done)
{
	int ret;

	*p = NULL;
	*done = c->weights != EV_ST_NODES;
	if (c->weights == EV_ST_CHUNK)
		return pre_take(c, bl, NULL); /* the weight was shared once, for F */
	if (!c->weights && pre_of(c)->on)
		return 0;
	if ((ret = matrix_operand(c, vid, trans, factor, xb, rows, cols, p)) != 0 || !c->weights)
		return ret;
	return pre_take(c, bl, *p);
}

/*
 * out (at (scale, xb), shape of the node output) += sign * factor *
 * value, broadcast. A weight is shared already multiplied by factor; a
 * computed value (at most as many bits) is raised to the output's bits
 * (factor must be 1).
 */
static int accum_operand_as(struct ectx *c, int vid, uint64_t *out, int scale, int xb,
			    int sign, float factor, int andim, const int64_t *ad)
{
	const struct model_value *mv = mval(c, vid), *ov = mval(c, c->nd->out);
	uint64_t *a = NULL;
	size_t n = ev__numel(mv);
	int ret, s, sxb = 0, owned = 0;

	if (c->vals[vid].is_const) {
		float *tmp = NULL;

		if (owner_has_data(c) && mv->init.data) {
			if (!(tmp = malloc((n ? n : 1) * sizeof(*tmp))))
				return mpc_fail(MPC_E_NOMEM, "weights");
			for (size_t i = 0; i < n; i++)
				tmp[i] = factor * mv->init.data[i];
		}
		ret = ev__share_bits(c, c->owner, tmp, n, EV_BITS(c, scale, xb), &a);
		ftensor_wipe_free(tmp, n * sizeof(*tmp)); /* scaled weights */
		s = scale;
		sxb = xb;
		owned = c->run;
	} else {
		if (factor != 1.0f)
			return ev__fail(c, MPC_E_UNSUPPORTED,
					"a factor other than 1 on a computed operand");
		ret = ev__operand_x(c, vid, scale, scale, &a, &s, &sxb, &owned);
		/* A computed bias with more extra bits than the product: drop them. */
		if (!ret && EV_BITS(c, s, sxb) > EV_BITS(c, scale, xb)) {
			ret = ev__operand(c, vid, scale, scale, &a, &s, &owned);
			sxb = 0;
		}
	}
	if (!ret && c->run) {
		uint64_t mul = upscale(EV_BITS(c, s, sxb), EV_BITS(c, scale, xb));

		ev__bcast_accum(out, ov->ndim, ov->dims, a, andim, ad, sign < 0 ? -mul : mul);
	}
	free_owned(a, n, owned);
	return ret;
}

/* The same with the operand's own shape (numpy broadcasting). */
static int accum_operand(struct ectx *c, int vid, uint64_t *out, int scale, int xb,
			 int sign, float factor)
{
	const struct model_value *mv = mval(c, vid);

	return accum_operand_as(c, vid, out, scale, xb, sign, factor, mv->ndim, mv->dims);
}

static int op_gemm(struct ectx *c, const struct model_node *nd)
{
	const struct model_value *av = mval(c, nd->in[0]), *bv = mval(c, nd->in[1]);
	int ta = nd->trans_a, tb = nd->trans_b, has_c = nd->n_in > 2 && nd->in[2] >= 0;
	size_t m = (size_t)(ta ? av->dims[1] : av->dims[0]);
	size_t k = (size_t)(ta ? av->dims[0] : av->dims[1]);
	size_t p = (size_t)(tb ? bv->dims[0] : bv->dims[1]);
	float fa = 1.0f, fb = 1.0f;
	uint64_t *pa = NULL, *pb = NULL;
	struct bilin bl;
	int ret, done, xb = ev__weight_xb(c, nd);

	if (c->vals[nd->in[1]].is_const)
		fb = nd->alpha;
	else if (c->vals[nd->in[0]].is_const)
		fa = nd->alpha;
	else if (nd->alpha != 1.0f)
		return ev__fail(c, MPC_E_UNSUPPORTED, "alpha %g with two computed operands",
				nd->alpha);
	if ((ret = bilin_matmul(&bl, m, k, p)) != 0)
		goto out;
	if ((ret = second_operand(c, &bl, nd->in[1], tb, fb, xb, (size_t)bv->dims[0],
				  (size_t)bv->dims[1], &pb, &done)) != 0 || done)
		goto out;
	if ((ret = matrix_operand(c, nd->in[0], ta, fa, 0, (size_t)av->dims[0],
				  (size_t)av->dims[1], &pa)) != 0 ||
	    (ret = ev__out(c, nd->out, 2)) != 0 ||
	    (ret = do_bilin(c, &bl, pa, pb, c->vals[nd->out].v)) != 0)
		goto out;
	c->vals[nd->out].xb = xb;
	if (has_c)
		ret = accum_operand(c, nd->in[2], c->vals[nd->out].v, 2, xb, 1, nd->beta);
out:
	mpc_free_words(pa, m * k);
	mpc_free_words(pb, k * p);
	return ret;
}

static int op_matmul(struct ectx *c, const struct model_node *nd)
{
	const struct model_value *av = mval(c, nd->in[0]), *bv = mval(c, nd->in[1]);
	size_t k, p, m;
	uint64_t *pa = NULL, *pb = NULL;
	struct bilin bl;
	int ret, done, xb = ev__weight_xb(c, nd);

	if (bv->ndim > 2 && av->ndim >= 2)
		return ev__bmatmul(c, nd);
	if (bv->ndim != 2 || av->ndim < 1)
		return ev__fail(c, MPC_E_UNSUPPORTED, "only [..., M, K] x [K, N] products");
	k = (size_t)bv->dims[0];
	p = (size_t)bv->dims[1];
	m = k ? ev__numel(av) / k : 0;
	if ((ret = bilin_matmul(&bl, m, k, p)) != 0)
		goto out;
	if ((ret = second_operand(c, &bl, nd->in[1], 0, 1.0f, xb, k, p, &pb, &done)) != 0 || done)
		goto out;
	if ((ret = matrix_operand(c, nd->in[0], 0, 1.0f, 0, m, k, &pa)) != 0 ||
	    (ret = ev__out(c, nd->out, 2)) != 0)
		goto out;
	c->vals[nd->out].xb = xb;
	ret = do_bilin(c, &bl, pa, pb, c->vals[nd->out].v);
out:
	mpc_free_words(pa, m * k);
	mpc_free_words(pb, k * p);
	return ret;
}

static int op_conv(struct ectx *c, const struct model_node *nd)
{
	const struct model_value *xv = mval(c, nd->in[0]), *wv = mval(c, nd->in[1]);
	const struct model_value *ov = mval(c, nd->out);
	uint64_t *px = NULL, *pw = NULL;
	size_t wn = ev__numel(wv);
	struct bilin bl;
	int ret, done, s, owned = 0, xb = ev__weight_xb(c, nd);

	if ((xv->ndim != 4 && xv->ndim != 3) || wv->ndim != xv->ndim)
		return ev__fail(c, MPC_E_UNSUPPORTED, "only 1-D and 2-D convolution");
	/* 1-D [N, C, L] runs as 2-D with height 1 (the node's layout already is). */
	ret = bilin_conv2d(&bl, (size_t)xv->dims[0], (size_t)xv->dims[1],
			   xv->ndim == 4 ? (size_t)xv->dims[2] : 1, (size_t)xv->dims[xv->ndim - 1],
			   (size_t)wv->dims[0], wv->ndim == 4 ? (size_t)wv->dims[2] : 1,
			   (size_t)wv->dims[wv->ndim - 1], nd->strides, nd->pads, nd->dilations,
			   nd->group);
	if (ret)
		return ev__fail(c, ret, "%s", mpc_errmsg(ret));
	if (bl.oh != (ov->ndim == 4 ? (size_t)ov->dims[2] : 1) ||
	    bl.ow != (size_t)ov->dims[ov->ndim - 1])
		return ev__fail(c, MPC_E_INTERNAL, "output shape disagrees with shape inference");
	if ((ret = second_operand(c, &bl, nd->in[1], 0, 1.0f, xb, 1, wn, &pw, &done)) != 0 || done)
		goto out;
	if ((ret = ev__operand(c, nd->in[0], 1, 1, &px, &s, &owned)) != 0 ||
	    (ret = ev__out(c, nd->out, 2)) != 0 ||
	    (ret = do_bilin(c, &bl, px, pw, c->vals[nd->out].v)) != 0)
		goto out;
	c->vals[nd->out].xb = xb;
	if (nd->n_in > 2 && nd->in[2] >= 0) {
		/* The bias is per output channel: [M] broadcast as [M, 1, 1] (1-D: [M, 1]). */
		int64_t bd[3] = { wv->dims[0], 1, 1 };
		int bnd = ov->ndim - 1;

		if (ev__numel(mval(c, nd->in[2])) != (size_t)wv->dims[0])
			ret = ev__fail(c, MPC_E_SHAPE, "bias of %zu for %lld channels",
				       ev__numel(mval(c, nd->in[2])), (long long)wv->dims[0]);
		else
			ret = accum_operand_as(c, nd->in[2], c->vals[nd->out].v, 2, xb, 1, 1.0f, bnd,
					       bd);
	}
out:
	free_owned(px, ev__numel(xv), owned);
	mpc_free_words(pw, wn);
	return ret;
}

/*
 * The (scale, xb) with the most bits among computed inputs (1, 0 if none):
 * where a sum or a concatenation is formed, the others raised to it.
 */
static void widest(struct ectx *c, const struct model_node *nd, int *s, int *xb)
{
	*s = 1;
	*xb = 0;
	for (int i = 0; i < nd->n_in; i++) {
		const struct ev_val *v = &c->vals[nd->in[i]];

		if (!v->is_const && EV_BITS(c, v->scale, v->xb) > EV_BITS(c, *s, *xb)) {
			*s = v->scale;
			*xb = v->xb;
		}
	}
}

static int op_addsub(struct ectx *c, const struct model_node *nd)
{
	int s, xb, ret;

	widest(c, nd, &s, &xb);
	if ((ret = ev__out(c, nd->out, s)) != 0)
		return ret;
	c->vals[nd->out].xb = xb;
	if ((ret = accum_operand(c, nd->in[0], c->vals[nd->out].v, s, xb, 1, 1.0f)) != 0)
		return ret;
	return accum_operand(c, nd->in[1], c->vals[nd->out].v, s, xb,
			     nd->op == MOP_SUB ? -1 : 1, 1.0f);
}

/* A Mul operand at scale 1, a weight with the node's extra bits (xb > 0 only for one). */
static int mul_operand(struct ectx *c, int vid, int xb, uint64_t **p, int *s, int *owned)
{
	if (!xb || !c->vals[vid].is_const)
		return ev__operand(c, vid, 1, 1, p, s, owned);
	*s = 1;
	*owned = c->run;
	return ev__share_bits(c, c->owner, mval(c, vid)->init.data, ev__numel(mval(c, vid)),
			      c->frac + xb, p);
}

static int op_mul(struct ectx *c, const struct model_node *nd)
{
	const struct model_value *av = mval(c, nd->in[0]), *bv = mval(c, nd->in[1]);
	const struct model_value *ov = mval(c, nd->out);
	uint64_t *pa = NULL, *pb = NULL;
	int ret, sa, sb, oa = 0, ob = 0, xb = ev__weight_xb(c, nd);
	struct bilin bl;

	if ((ret = bilin_mul(&bl, ov->ndim, ov->dims, av->ndim, av->dims, bv->ndim,
			     bv->dims)) != 0)
		return ev__fail(c, ret, "%s", mpc_errmsg(ret));
	if ((ret = mul_operand(c, nd->in[0], xb, &pa, &sa, &oa)) != 0 ||
	    (ret = mul_operand(c, nd->in[1], xb, &pb, &sb, &ob)) != 0 ||
	    (ret = ev__out(c, nd->out, sa + sb)) != 0)
		goto out;
	c->vals[nd->out].xb = xb;
	ret = do_bilin(c, &bl, pa, pb, c->vals[nd->out].v);
out:
	free_owned(pa, ev__numel(av), oa);
	free_owned(pb, ev__numel(bv), ob);
	return ret;
}

int ev__relu(struct ectx *c, const uint64_t *x, size_t n, int s, int xb, uint64_t *out)
{
	/* A ReLU after a product truncates for free (fused). */
	int shift = (s - 1) * c->frac + xb;

	return c->run ? mpc_relu(c->m, x, n, shift, out) : relu_need(c->l, n, shift);
}

/* The only reader of vid, when that is a MaxPool (and vid no output). */
static int feeds_only_maxpool(struct ectx *c, int vid)
{
	const struct model *md = c->md;
	int readers = 0, pool = 0;

	if (md->values[vid].is_output)
		return 0;
	for (size_t k = 0; k < md->n_nodes; k++)
		for (int j = 0; j < md->nodes[k].n_in; j++)
			if (md->nodes[k].in[j] == vid) {
				readers++;
				pool = md->nodes[k].op == MOP_MAXPOOL;
			}
	return readers == 1 && pool;
}

static int op_relu(struct ectx *c, const struct model_node *nd)
{
	uint64_t *px = NULL;
	size_t n = ev__numel(mval(c, nd->in[0]));
	int ret, s, xb, owned = 0;

	/*
	 * relu(max(a, b)) = max(relu(a), relu(b)): before a MaxPool the ReLU
	 * waits and runs on the pooled values, a quarter as many for 2x2.
	 */
	if (!c->vals[nd->in[0]].is_const && feeds_only_maxpool(c, nd->out)) {
		c->vals[nd->out].relu_of = nd->in[0];
		c->vals[nd->out].scale = 1;
		c->vals[nd->in[0]].keep = 1;
		return 0;
	}
	if ((ret = ev__operand_x(c, nd->in[0], ANY_SCALE, 1, &px, &s, &xb, &owned)) != 0)
		return ret;
	if ((ret = ev__out(c, nd->out, 1)) == 0)
		ret = ev__relu(c, px, n, s, xb, c->vals[nd->out].v);
	free_owned(px, n, owned);
	return ret;
}

/* Same data, new shape: Flatten, Reshape, Identity, Dropout. */
static int op_copy(struct ectx *c, const struct model_node *nd)
{
	uint64_t *px = NULL;
	size_t n = ev__numel(mval(c, nd->in[0]));
	int ret, s, xb, owned = 0;

	if ((ret = ev__operand_x(c, nd->in[0], ANY_SCALE, 1, &px, &s, &xb, &owned)) != 0)
		return ret;
	if ((ret = ev__out(c, nd->out, s)) == 0)
		c->vals[nd->out].xb = xb;
	if (!ret && c->run)
		memcpy(c->vals[nd->out].v, px, n * sizeof(*px));
	free_owned(px, n, owned);
	return ret;
}

/* Pad: local, zeros are shares of zero at any scale (infer_pad refuses axis 0). */
static int op_pad(struct ectx *c, const struct model_node *nd)
{
	const struct model_value *xv = mval(c, nd->in[0]), *ov = mval(c, nd->out);
	size_t n = ev__numel(xv), inner, rows, idx[FT_MAX_DIMS] = { 0 };
	uint64_t *px = NULL;
	int ret, s, xb, owned = 0, r = xv->ndim;

	if ((ret = ev__operand_x(c, nd->in[0], ANY_SCALE, 1, &px, &s, &xb, &owned)) != 0)
		return ret;
	if ((ret = ev__out(c, nd->out, s)) != 0)
		goto out;
	c->vals[nd->out].xb = xb;
	if (!c->run || !n || !r)
		goto out;
	memset(c->vals[nd->out].v, 0, ev__numel(ov) * sizeof(uint64_t));
	inner = (size_t)xv->dims[r - 1];
	rows = n / inner;
	for (size_t i = 0; i < rows; i++) {
		size_t off = 0;

		for (int d = 0; d < r; d++)
			off = off * (size_t)ov->dims[d] + (d < r - 1 ? idx[d] : 0) +
			      (size_t)nd->shape[d];
		memcpy(c->vals[nd->out].v + off, px + i * inner, inner * sizeof(*px));
		for (int d = r - 2; d >= 0 && ++idx[d] == (size_t)xv->dims[d]; d--)
			idx[d] = 0;
	}
out:
	free_owned(px, n, owned);
	return ret;
}

static int op_concat(struct ectx *c, const struct model_node *nd)
{
	const struct model_value *ov = mval(c, nd->out);
	size_t outer = 1, off = 0, oinner = 1;
	int s, xb, ret;

	widest(c, nd, &s, &xb);
	for (int d = 0; d < nd->axis; d++)
		outer *= (size_t)ov->dims[d];
	for (int d = nd->axis; d < ov->ndim; d++)
		oinner *= (size_t)ov->dims[d];
	if ((ret = ev__out(c, nd->out, s)) != 0)
		return ret;
	c->vals[nd->out].xb = xb;
	for (int i = 0; i < nd->n_in; i++) {
		const struct model_value *iv = mval(c, nd->in[i]);
		size_t n = ev__numel(iv), inner = outer ? n / outer : 0;
		uint64_t *p = NULL, mul;
		int si, xi = 0, owned = 0;

		if (c->vals[nd->in[i]].is_const) {
			ret = ev__share_bits(c, c->owner, iv->init.data, n, EV_BITS(c, s, xb), &p);
			si = s;
			xi = xb;
			owned = c->run;
		} else {
			ret = ev__operand_x(c, nd->in[i], s, s, &p, &si, &xi, &owned);
		}
		if (ret)
			return ret;
		if (c->run) {
			mul = upscale(EV_BITS(c, si, xi), EV_BITS(c, s, xb));
			for (size_t o = 0; o < outer; o++)
				for (size_t j = 0; j < inner; j++)
					c->vals[nd->out].v[o * oinner + off + j] = mul * p[o * inner + j];
		}
		off += inner;
		free_owned(p, n, owned);
	}
	return 0;
}

static int op_sigmoid(struct ectx *c, const struct model_node *nd)
{
	uint64_t *px = NULL;
	size_t n = ev__numel(mval(c, nd->in[0]));
	int ret, s, owned = 0;

	if ((ret = ev__operand(c, nd->in[0], 1, 1, &px, &s, &owned)) != 0)
		return ret;
	if ((ret = ev__out(c, nd->out, 1)) == 0)
		ret = c->run ? mpc_sigmoid(c->m, px, n, c->vals[nd->out].v) :
			       sigmoid_need(c->l, n, c->frac);
	free_owned(px, n, owned);
	return ret;
}

static int op_softmax(struct ectx *c, const struct model_node *nd)
{
	const struct model_value *xv = mval(c, nd->in[0]);
	size_t n = ev__numel(xv), outer, k, inner;
	uint64_t *px = NULL;
	int ret, s, owned = 0, lg = nd->op == MOP_LOGSOFTMAX;

	if (nd->axis < 0 || nd->axis >= xv->ndim)
		return ev__fail(c, MPC_E_INTERNAL, "axis %d not normalised", nd->axis);
	model_softmax_rows(c->md, nd, &outer, &k, &inner);
	if (!k)
		return ev__fail(c, MPC_E_SHAPE, "empty softmax axis");
	if ((ret = ev__operand(c, nd->in[0], 1, 1, &px, &s, &owned)) != 0)
		return ret;
	if ((ret = ev__out(c, nd->out, 1)) == 0)
		ret = c->run ? (lg ? mpc_logsoftmax : mpc_softmax)(c->m, px, outer, k, inner,
								   c->vals[nd->out].v) :
			       (lg ? logsoftmax_need : softmax_need)(c->l, outer, k, inner, c->frac);
	free_owned(px, n, owned);
	return ret;
}

int ev__node(struct ectx *c, const struct model_node *nd)
{
	c->nd = nd;
	if (nd->folded)
		return 0; /* public, computed by every party at shape inference */
	switch (nd->op) {
	case MOP_GEMM:
		return op_gemm(c, nd);
	case MOP_MATMUL:
		return op_matmul(c, nd);
	case MOP_CONV:
		return op_conv(c, nd);
	case MOP_ADD:
	case MOP_SUB:
		return op_addsub(c, nd);
	case MOP_MUL:
		return op_mul(c, nd);
	case MOP_RELU:
		return op_relu(c, nd);
	case MOP_MAXPOOL:
	case MOP_AVGPOOL:
	case MOP_GAVGPOOL:
		return ev__pool(c, nd);
	case MOP_BATCHNORM:
		return ev__batchnorm(c, nd);
	case MOP_FLATTEN:
	case MOP_RESHAPE:
	case MOP_IDENTITY:
	case MOP_SQUEEZE:
	case MOP_UNSQUEEZE:
	case MOP_CAST: /* to a float type: the same values */
		return op_copy(c, nd);
	case MOP_GATHER: /* secret indices: a one-hot product (eval_tf_norm.c) */
		if (!c->md->values[nd->in[1]].known)
			return ev__tf_node(c, nd);
		return ev__layout(c, nd);
	case MOP_TRANSPOSE:
	case MOP_SLICE:
	case MOP_EXPAND:
		return ev__layout(c, nd);
	case MOP_DIV: /* on shares (eval_tf.c); public integers are folded */
		return ev__tf_node(c, nd);
	case MOP_SHAPE:
	case MOP_CONSTOFSHAPE:
	case MOP_RANGE:
	case MOP_EQUAL:
	case MOP_WHERE:
	case MOP_CONCAT:
		return op_concat(c, nd);
	case MOP_PAD:
		return op_pad(c, nd);
	case MOP_SIGMOID:
		return op_sigmoid(c, nd);
	case MOP_SOFTMAX:
	case MOP_LOGSOFTMAX:
		return op_softmax(c, nd);
	case MOP_COUNT_:
		break;
	default:
		return ev__tf_node(c, nd);
	}
	return ev__fail(c, MPC_E_UNSUPPORTED, "no secure evaluation for this op");
}

/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "eval-int.h"
#include "fxp.h"

/*
 * Windows of a 2-D pool as comparison groups: the cells of each window
 * that fall inside the input (padding is never a candidate, as ONNX's
 * MaxPool pads with -inf), plus each window's padded size.
 */
struct windows {
	size_t n;
	size_t *start, *idx, *full;
};

static void windows_free(struct windows *w)
{
	free(w->start);
	free(w->idx);
	free(w->full);
}

static int windows_make(struct ectx *c, const struct model_node *nd,
			struct windows *w)
{
	const struct model_value *xv = &c->md->values[nd->in[0]];
	const struct model_value *ov = &c->md->values[nd->out];
	size_t nb = (size_t)xv->dims[0], ch = (size_t)xv->dims[1];
	/* A 1-D [N, C, L] pool is the 2-D one with height 1. */
	size_t h = xv->ndim == 4 ? (size_t)xv->dims[2] : 1, wd = (size_t)xv->dims[xv->ndim - 1];
	size_t oh = ov->ndim == 4 ? (size_t)ov->dims[2] : 1, ow = (size_t)ov->dims[ov->ndim - 1];
	size_t p = 0, g = 0;
	int global = nd->op == MOP_GAVGPOOL;
	size_t kh = global ? h : (size_t)nd->kernel[0], kw = global ? wd : (size_t)nd->kernel[1];
	/* count_include_pad counts the window clipped to the padded input. */
	long hp = (long)h + (global ? 0 : nd->pads[2]), wp = (long)wd + (global ? 0 : nd->pads[3]);

	memset(w, 0, sizeof(*w));
	w->n = nb * ch * oh * ow;
	w->start = malloc((w->n + 1) * sizeof(*w->start));
	w->full = malloc((w->n ? w->n : 1) * sizeof(*w->full));
	w->idx = malloc((w->n * kh * kw + 1) * sizeof(*w->idx));
	if (!w->start || !w->full || !w->idx) {
		windows_free(w);
		return mpc_fail(MPC_E_NOMEM, "pool windows");
	}
	for (size_t b = 0; b < nb * ch; b++)
		for (size_t oy = 0; oy < oh; oy++)
			for (size_t ox = 0; ox < ow; ox++, g++) {
				long y0 = global ? 0 : (long)(oy * (size_t)nd->strides[0]) - nd->pads[0];
				long x0 = global ? 0 : (long)(ox * (size_t)nd->strides[1]) - nd->pads[1];

				long ye = y0 + (long)kh < hp ? y0 + (long)kh : hp;
				long xe = x0 + (long)kw < wp ? x0 + (long)kw : wp;

				w->start[g] = p;
				w->full[g] = (size_t)(ye - y0) * (size_t)(xe - x0);
				for (size_t ky = 0; ky < kh; ky++)
					for (size_t kx = 0; kx < kw; kx++) {
						long iy = y0 + (long)ky * (global ? 1 : nd->dilations[0]);
						long ix = x0 + (long)kx * (global ? 1 : nd->dilations[1]);

						if (iy < 0 || ix < 0 || iy >= (long)h || ix >= (long)wd)
							continue;
						w->idx[p++] = (b * h + (size_t)iy) * wd + (size_t)ix;
					}
				if (p == w->start[g]) {
					windows_free(w);
					return ev__fail(c, MPC_E_UNSUPPORTED,
							"a window lies entirely in the padding");
				}
			}
	w->start[g] = p;
	return 0;
}

/*
 * Each window's sum times round(2^AVG_SHIFT / count), truncated once by
 * AVG_SHIFT: the mean at scale 1. The reciprocal has 31 bits whatever the
 * precision, so its relative error is below count / 2^32 (1.2e-5 for
 * 224 x 224); the product is the mean at f + 31 bits, below 2^62 for any
 * mean under the input bound 2^(31 - f) (docs/protocols.md).
 */
#define AVG_SHIFT 31

static int avg_windows(struct ectx *c, const struct model_node *nd, const struct windows *w,
		       const uint64_t *px, uint64_t *out)
{
	if (!c->run)
		return trunc_need(c->l, w->n, AVG_SHIFT);
	for (size_t g = 0; g < w->n; g++) {
		size_t cnt = nd->op == MOP_AVGPOOL && !nd->count_include_pad ?
				     w->start[g + 1] - w->start[g] : w->full[g];
		uint64_t acc = 0, r = (uint64_t)llround(ldexp(1.0, AVG_SHIFT) / (double)cnt);

		for (size_t j = w->start[g]; j < w->start[g + 1]; j++)
			acc += px[w->idx[j]];
		out[g] = acc * r;
	}
	return mpc_trunc(c->m, out, w->n, AVG_SHIFT, out);
}

/* A deferred ReLU: pool its input (any scale), then the ReLU on the result. */
static int maxpool_then_relu(struct ectx *c, const struct model_node *nd)
{
	int src = c->vals[nd->in[0]].relu_of;
	size_t n = ev__numel(&c->md->values[src]), no = ev__numel(&c->md->values[nd->out]);
	struct model_node pool = *nd;
	uint64_t *px = NULL, *pooled = NULL;
	struct cmp_groups g;
	struct windows w;
	int ret, s, xb, owned = 0;

	pool.in[0] = src; /* same shape: a ReLU keeps it */
	if ((ret = windows_make(c, &pool, &w)) != 0)
		return ret;
	g = (struct cmp_groups){ .n = w.n, .start = w.start, .idx = w.idx };
	if ((ret = ev__operand_x(c, src, 2, 1, &px, &s, &xb, &owned)) != 0 ||
	    (ret = ev__out(c, nd->out, 1)) != 0)
		goto out;
	if (!c->run) {
		if ((ret = max_groups_need(c->l, &g)) == 0)
			ret = ev__relu(c, NULL, no, s, xb, NULL);
		goto out;
	}
	ret = MPC_E_NOMEM;
	if (!(pooled = mpc_alloc(no)))
		goto out;
	if ((ret = max_groups(c->m, px, &g, pooled)) != 0)
		goto out;
	ret = ev__relu(c, pooled, no, s, xb, c->vals[nd->out].v);
out:
	if (owned)
		mpc_free_words(px, n);
	mpc_free_words(pooled, no);
	windows_free(&w);
	return ret;
}

int ev__pool(struct ectx *c, const struct model_node *nd)
{
	const struct model_value *xv = &c->md->values[nd->in[0]];
	size_t n = ev__numel(xv);
	struct windows w;
	uint64_t *px = NULL;
	int ret, s, xb = 0, owned = 0, avg = nd->op != MOP_MAXPOOL;

	if (xv->ndim != 4 && xv->ndim != 3)
		return ev__fail(c, MPC_E_UNSUPPORTED, "only 1-D and 2-D pooling");
	if (c->vals[nd->in[0]].relu_of >= 0)
		return maxpool_then_relu(c, nd);
	if ((ret = windows_make(c, nd, &w)) != 0)
		return ret;
	/* Max keeps any scale; an average wants 1 (see avg_windows). */
	ret = avg ? ev__operand(c, nd->in[0], 1, 1, &px, &s, &owned) :
		    ev__operand_x(c, nd->in[0], 2, 1, &px, &s, &xb, &owned);
	if (ret || (ret = ev__out(c, nd->out, s)) != 0)
		goto out;
	c->vals[nd->out].xb = xb;
	if (!avg) {
		struct cmp_groups g = { .n = w.n, .start = w.start, .idx = w.idx };

		ret = c->run ? max_groups(c->m, px, &g, c->vals[nd->out].v) :
			       max_groups_need(c->l, &g);
		goto out;
	}
	ret = avg_windows(c, nd, &w, px, c->vals[nd->out].v);
out:
	if (owned)
		mpc_free_words(px, n);
	windows_free(&w);
	return ret;
}

/*
 * y = a_c x + b_c per channel (axis 1), with a = scale / sqrt(var + eps)
 * and b = B - mean a computed by the weights' owner.
 */
int ev__batchnorm(struct ectx *c, const struct model_node *nd)
{
	const struct model_value *xv = &c->md->values[nd->in[0]];
	const struct model_value *ov = &c->md->values[nd->out];
	size_t n = ev__numel(xv), ch;
	float *a = NULL, *b = NULL;
	uint64_t *px = NULL, *pa = NULL, *pb = NULL;
	int64_t ad[FT_MAX_DIMS];
	struct bilin bl;
	int ret, s, owned = 0, and, xb = ev__weight_xb(c, nd);

	if (xv->ndim < 2)
		return ev__fail(c, MPC_E_SHAPE, "input needs a channel axis");
	ch = (size_t)xv->dims[1];
	for (int k = 1; k <= 4; k++)
		if (!c->vals[nd->in[k]].is_const)
			return ev__fail(c, MPC_E_UNSUPPORTED, "parameters must be weights");
	and = xv->ndim - 1;
	ad[0] = (int64_t)ch;
	for (int d = 1; d < and; d++)
		ad[d] = 1;
	if ((ret = bilin_mul(&bl, ov->ndim, ov->dims, xv->ndim, xv->dims, and, ad)) != 0)
		return ev__fail(c, ret, "%s", mpc_errmsg(ret));
	if (c->run && c->m->me == c->owner) {
		const float *sc = c->md->values[nd->in[1]].init.data;
		const float *bb = c->md->values[nd->in[2]].init.data;
		const float *mu = c->md->values[nd->in[3]].init.data;
		const float *var = c->md->values[nd->in[4]].init.data;

		ret = MPC_E_NOMEM;
		if (!(a = malloc(ch * sizeof(*a))) || !(b = malloc(ch * sizeof(*b))))
			goto out;
		ret = ev__fail(c, MPC_E_ARG, "parameters have no data on their owner");
		if (!sc || !bb || !mu || !var)
			goto out;
		for (size_t i = 0; i < ch; i++) {
			a[i] = (float)(sc[i] / sqrt((double)var[i] + nd->epsilon));
			b[i] = (float)(bb[i] - mu[i] * (double)a[i]);
		}
	}
	if ((ret = ev__operand(c, nd->in[0], 1, 1, &px, &s, &owned)) != 0 ||
	    (ret = ev__share_bits(c, c->owner, a, ch, EV_BITS(c, 1, xb), &pa)) != 0 ||
	    (ret = ev__share_bits(c, c->owner, b, ch, EV_BITS(c, s + 1, xb), &pb)) != 0 ||
	    (ret = ev__out(c, nd->out, s + 1)) != 0)
		goto out;
	c->vals[nd->out].xb = xb;
	if (!c->run) {
		ret = beaver_bilin_need(c->l, &bl);
		goto out;
	}
	if ((ret = beaver_bilin(c->m, &bl, px, pa, c->vals[nd->out].v)) != 0)
		goto out;
	ev__bcast_accum(c->vals[nd->out].v, ov->ndim, ov->dims, pb, and, ad, 1);
out:
	if (owned)
		mpc_free_words(px, n);
	mpc_free_words(pa, ch);
	mpc_free_words(pb, ch);
	free(a);
	free(b);
	return ret;
}

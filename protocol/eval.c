/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval-int.h"
#include "eval_tf.h"
#include "fxp.h"
#include "ring.h"

int ev__fail(struct ectx *c, int err, const char *fmt, ...)
{
	char msg[384];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (c->nd)
		return mpc_fail(err, "node '%s' (%s): %s", c->nd->name,
				model_op_name(c->nd->op), msg);
	return mpc_fail(err, "%s", msg);
}

size_t ev__numel(const struct model_value *v)
{
	size_t n = 1;

	for (int i = 0; i < v->ndim; i++)
		n *= (size_t)v->dims[i];
	return n;
}

int ev__out(struct ectx *c, int vid, int scale)
{
	struct ev_val *v = &c->vals[vid];

	v->n = ev__numel(&c->md->values[vid]);
	v->scale = scale;
	v->xb = 0;
	if (!c->run)
		return 0;
	mpc_free_words(v->v, v->n);
	if (!(v->v = mpc_alloc(v->n)))
		return MPC_E_NOMEM;
	return 0;
}

static int share_floats_into(struct ectx *c, int owner, const float *data, size_t n,
			     int bits, uint64_t *dst);

int ev__share_floats(struct ectx *c, int owner, const float *data, size_t n, int scale,
		     uint64_t **p)
{
	return ev__share_bits(c, owner, data, n, scale * c->frac, p);
}

int ev__share_bits(struct ectx *c, int owner, const float *data, size_t n, int bits,
		   uint64_t **p)
{
	uint64_t *sh;
	int ret;

	*p = NULL;
	if (!c->run)
		return 0;
	if (!(sh = mpc_alloc_raw(n)))
		return MPC_E_NOMEM;
	if ((ret = share_floats_into(c, owner, data, n, bits, sh)) != 0) {
		mpc_free_words(sh, n);
		return ret;
	}
	*p = sh;
	return 0;
}

/* The same into dst (n words, all written). */
static int share_floats_into(struct ectx *c, int owner, const float *data, size_t n,
			     int bits, uint64_t *dst)
{
	uint64_t *enc = NULL;
	int ret = MPC_E_NOMEM;

	if (bits > 62)
		return ev__fail(c, MPC_E_RANGE, "%d fractional bits is too many", bits);
	if (c->m->me == owner) {
		if (!data) {
			ret = ev__fail(c, MPC_E_ARG, "a weight has no data on its owner");
			goto out;
		}
		if (!(enc = mpc_alloc_raw(n)))
			goto out;
		if ((ret = fxp_encode(enc, data, n, bits)) != 0) {
			ret = ev__fail(c, ret, "%s", mpc_errmsg(ret));
			goto out;
		}
	}
	ret = mpc_share_input(c->m, owner, enc, n, dst);
out:
	mpc_free_words(enc, n);
	return ret;
}

/* To scale <= target with no extra bits: one truncation at most. */
static int trunc_to(struct ectx *c, int vid, int target)
{
	struct ev_val *v = &c->vals[vid];
	int shift;

	if (v->scale <= target && !v->xb)
		return 0;
	if (v->scale < target)
		target = v->scale;
	shift = (v->scale - target) * c->frac + v->xb;
	v->scale = target;
	v->xb = 0;
	if (!c->run)
		return trunc_need(c->l, v->n, shift);
	return mpc_trunc(c->m, v->v, v->n, shift, v->v);
}

int ev__operand(struct ectx *c, int vid, int max_scale, int const_scale,
		uint64_t **p, int *scale, int *owned)
{
	struct ev_val *v = &c->vals[vid];
	const struct model_value *mv = &c->md->values[vid];
	int ret;

	*p = NULL;
	*owned = 0;
	if (v->is_const) {
		*scale = const_scale;
		*owned = c->run;
		return ev__share_floats(c, c->owner, mv->init.data, ev__numel(mv), const_scale, p);
	}
	if ((ret = trunc_to(c, vid, max_scale)) != 0)
		return ret;
	*p = v->v;
	*scale = v->scale;
	return 0;
}

int ev__operand_x(struct ectx *c, int vid, int max_scale, int const_scale,
		  uint64_t **p, int *scale, int *xb, int *owned)
{
	struct ev_val *v = &c->vals[vid];

	*xb = 0;
	if (v->is_const || v->scale > max_scale)
		return ev__operand(c, vid, max_scale, const_scale, p, scale, owned);
	*p = v->v;
	*scale = v->scale;
	*xb = v->xb;
	*owned = 0;
	return 0;
}

void ev__bcast_accum(uint64_t *out, int ond, const int64_t *od,
		     const uint64_t *a, int andim, const int64_t *ad, uint64_t mul)
{
	size_t st[FT_MAX_DIMS], idx[FT_MAX_DIMS] = { 0 }, s = 1, n = 1, off = 0;

	for (int i = ond - 1; i >= 0; i--) {
		int ai = i - (ond - andim);
		int64_t d = ai >= 0 ? ad[ai] : 1;

		st[i] = d == 1 ? 0 : s;
		s *= (size_t)d;
		n *= (size_t)od[i];
	}
	for (size_t i = 0; i < n; i++) {
		out[i] += mul * a[off];
		for (int k = ond - 1; k >= 0; k--) {
			idx[k]++;
			off += st[k];
			if (idx[k] < (size_t)od[k])
				break;
			off -= st[k] * idx[k];
			idx[k] = 0;
		}
	}
}

int ev__walk_init(struct ectx *c)
{
	const struct model *md = c->md;
	int *produced = NULL;

	c->vals = calloc(md->n_values ? md->n_values : 1, sizeof(*c->vals));
	produced = calloc(md->n_values ? md->n_values : 1, sizeof(*produced));
	if (!c->vals || !produced) {
		free(produced);
		return mpc_fail(MPC_E_NOMEM, "evaluator state");
	}
	for (size_t i = 0; i < md->n_nodes; i++)
		produced[md->nodes[i].out] = 1;
	for (size_t i = 0; i < md->n_values; i++) {
		c->vals[i].relu_of = -1;
		c->vals[i].is_const = !md->values[i].is_data_input && !produced[i];
		c->vals[i].n = ev__numel(&md->values[i]);
	}
	free(produced);
	return 0;
}

void ev__walk_free(struct ectx *c)
{
	if (!c->vals)
		return;
	for (size_t i = 0; i < c->md->n_values; i++)
		mpc_free_words(c->vals[i].v, c->vals[i].n);
	free(c->vals);
	c->vals = NULL;
}

struct ev_pre *ev__pre_new(const struct model *md)
{
	struct ev_pre *pre = calloc(md->n_nodes ? md->n_nodes : 1, sizeof(*pre));

	if (!pre)
		mpc_fail(MPC_E_NOMEM, "evaluator state");
	return pre;
}

void ev__pre_free(const struct model *md, struct ev_pre *pre)
{
	for (size_t k = 0; pre && k < md->n_nodes; k++)
		beaver_w_free(&pre[k].w);
	free(pre);
}

/*
 * The weights phase, once per job and before any data is touched: every
 * linear layer whose second operand is a weight takes its weight mask B
 * and forms F = W - B, and all of them are opened in one round. It
 * depends on the model only, so the layers then open just their data (E),
 * in every chunk of rows, each with its own A and C = L(A, B).
 */
int ev__weights(struct ectx *c)
{
	const struct model *md = c->md;
	struct mpc_open_item *it = NULL;
	int ret = 0, k = 0;

	c->weights = EV_ST_MASK;
	for (size_t i = 0; i < md->n_nodes && !ret; i++)
		if (ev__pre_ok(c, &md->nodes[i]))
			ret = ev__node(c, &md->nodes[i]);
	c->weights = EV_ST_NODES;
	if (ret || !c->run)
		return ret;
	if (!(it = calloc(md->n_nodes ? md->n_nodes : 1, sizeof(*it))))
		return mpc_fail(MPC_E_NOMEM, "weights phase");
	for (size_t i = 0; i < md->n_nodes; i++)
		if (c->pre[i].on)
			it[k++] = (struct mpc_open_item){ .share = c->pre[i].w.f,
							  .out = c->pre[i].w.f,
							  .n = c->pre[i].w.n };
	if (k && (ret = mpc_open_items(c->m, it, k)) == 0)
		for (size_t i = 0; i < md->n_nodes && !ret; i++)
			if (c->pre[i].on)
				ret = beaver_w_ready(c->m, &c->pre[i].w);
	free(it);
	return ret;
}

/* A chunk's start: each such layer's triple for this chunk's rows. */
static int chunk_triples(struct ectx *c)
{
	int ret = 0;

	c->weights = EV_ST_CHUNK;
	for (size_t i = 0; i < c->md->n_nodes && !ret; i++)
		if (c->pre[i].on)
			ret = ev__node(c, &c->md->nodes[i]);
	c->weights = EV_ST_NODES;
	return ret;
}

/* Index of the last node reading each value (-1: none), to free early. */
static int *last_uses(const struct model *md)
{
	int *last = malloc((md->n_values ? md->n_values : 1) * sizeof(*last));

	if (!last)
		return NULL;
	for (size_t i = 0; i < md->n_values; i++)
		last[i] = md->values[i].is_output ? (int)md->n_nodes : -1;
	for (size_t k = 0; k < md->n_nodes; k++)
		for (int j = 0; j < md->nodes[k].n_in; j++)
			if (md->nodes[k].in[j] >= 0 && last[md->nodes[k].in[j]] < (int)md->n_nodes)
				last[md->nodes[k].in[j]] = (int)k;
	return last;
}

int eval_need(const struct model *md, int frac, struct corr_list *l)
{
	struct ectx c = { .md = md, .frac = frac, .l = l };
	int ret;

	if (!(c.pre = ev__pre_new(md)))
		return MPC_E_NOMEM;
	if ((ret = ev__walk_init(&c)) == 0 && (ret = ev__weights(&c)) == 0)
		ret = ev__chunk(&c, NULL, NULL, NULL);
	ev__walk_free(&c);
	ev__pre_free(md, c.pre);
	return ret;
}

/* Share each owner's block, then join the blocks' shares on the axis. */
static int share_input(struct ectx *c, int vid, const struct eval_input *in)
{
	const struct model_value *mv = &c->md->values[vid];
	struct ev_val *v = &c->vals[vid];
	size_t outer = 1, done = 0, total_inner = 0;
	int ret, axis = in->axis;

	if (in->n_parts < 1 || axis < 0 || axis >= mv->ndim)
		return mpc_fail(MPC_E_ARG, "input '%s': no parts or bad axis", mv->name);
	for (int d = 0; d < axis; d++)
		outer *= (size_t)mv->dims[d];
	for (int p = 0; p < in->n_parts; p++) {
		const struct eval_part *pt = &in->parts[p];
		size_t inner = 1;

		if (pt->ndim != mv->ndim)
			return mpc_fail(MPC_E_SHAPE, "input '%s' part %d: rank %d, the model wants %d",
					mv->name, p, pt->ndim, mv->ndim);
		for (int d = 0; d < mv->ndim; d++) {
			if (d != axis && pt->dims[d] != mv->dims[d])
				return mpc_fail(MPC_E_SHAPE, "input '%s' part %d: dim %d is %lld, the model wants %lld",
						mv->name, p, d, (long long)pt->dims[d],
						(long long)mv->dims[d]);
			if (d >= axis)
				inner *= (size_t)pt->dims[d];
		}
		total_inner += inner;
	}
	if (outer * total_inner != v->n)
		return mpc_fail(MPC_E_SHAPE, "input '%s': parts do not add up to the model's shape",
				mv->name);
	if (ev__onehot_rows(c, vid))
		return ev__share_onehot(c, vid, in);
	if ((ret = ev__out(c, vid, 1)) != 0)
		return ret;
	for (int p = 0; p < in->n_parts; p++) {
		const struct eval_part *pt = &in->parts[p];
		size_t inner = 1, n;
		uint64_t *sh = NULL;

		for (int d = axis; d < mv->ndim; d++)
			inner *= (size_t)pt->dims[d];
		n = outer * inner;
		if (pt->owner < 0 || pt->owner >= c->m->n)
			return mpc_fail(MPC_E_ARG, "input '%s' part %d: owner %d is not a party",
					mv->name, p, pt->owner);
		/* Encoding failures surface on the owner and abort the job. */
		c->nd = NULL;
		if (in->n_parts == 1) {
			/* One part is the whole tensor: share it in place. */
			if ((ret = share_floats_into(c, pt->owner, pt->data, n, c->frac, v->v)) != 0)
				return mpc_fail_ctx(ret, "input '%s' part %d", mv->name, p);
			continue;
		}
		if ((ret = ev__share_floats(c, pt->owner, pt->data, n, 1, &sh)) != 0)
			return mpc_fail_ctx(ret, "input '%s' part %d", mv->name, p);
		for (size_t o = 0; o < outer; o++)
			memcpy(v->v + o * total_inner + done, sh + o * inner, inner * 8);
		done += inner;
		mpc_free_words(sh, n);
	}
	return 0;
}

int ev__chunk(struct ectx *c, const struct eval_input *inputs, struct eval_out *outs,
	      struct eval_layer_stats *layers)
{
	const struct model *md = c->md;
	struct mpc *m = c->m;
	int *last = NULL, ret;

	if (!c->run) {
		if (!inputs)
			for (size_t i = 0; i < md->n_inputs; i++)
				c->vals[md->inputs[i]].scale = 1;
		if ((ret = chunk_triples(c)) != 0)
			return ret;
		for (size_t k = 0; k < md->n_nodes && !ret; k++)
			ret = ev__node(c, &md->nodes[k]);
		return ret;
	}
	memset(outs, 0, md->n_outputs * sizeof(*outs));
	if (!(last = last_uses(md)))
		return mpc_fail(MPC_E_NOMEM, "evaluator state");
	/* Local work on this chunk's material: charged to the weights phase. */
	net_set_phase(m->net, NET_PH_WEIGHTS);
	if ((ret = chunk_triples(c)) != 0)
		goto out;
	net_set_phase(m->net, NET_PH_INPUT);
	for (size_t i = 0; i < md->n_inputs; i++)
		if ((ret = share_input(c, md->inputs[i], &inputs[i])) != 0)
			goto out;
	net_set_phase(m->net, NET_PH_ONLINE);
	for (size_t k = 0; k < md->n_nodes; k++) {
		struct net_stats before = m->net->st[NET_PH_ONLINE];
		double t0 = net_now();

		if ((ret = ev__node(c, &md->nodes[k])) != 0)
			goto out;
		if (m->on_layer)
			m->on_layer(m->on_layer_arg, k + 1, md->n_nodes);
		if (layers) {
			const struct net_stats *now = &m->net->st[NET_PH_ONLINE];

			layers[k].secs += net_now() - t0;
			layers[k].bytes_sent += now->bytes_sent - before.bytes_sent;
			layers[k].rounds += now->rounds - before.rounds;
		}
		for (int j = 0; j < md->nodes[k].n_in; j++) {
			int vid = md->nodes[k].in[j];

			if (vid >= 0 && last[vid] == (int)k && c->vals[vid].v && !c->vals[vid].keep) {
				mpc_free_words(c->vals[vid].v, c->vals[vid].n);
				c->vals[vid].v = NULL;
			}
		}
	}
	for (size_t i = 0; i < md->n_outputs; i++) {
		struct ev_val *v = &c->vals[md->outputs[i]];

		if (!v->v) {
			ret = mpc_fail(MPC_E_INTERNAL, "output '%s' was not computed",
				       md->values[md->outputs[i]].name);
			goto out;
		}
		outs[i].share = v->v;
		outs[i].n = v->n;
		outs[i].bits = EV_BITS(c, v->scale, v->xb);
		v->v = NULL; /* transferred */
	}
	ret = 0;
out:
	if (ret)
		for (size_t i = 0; i < md->n_outputs; i++)
			eval_out_free(&outs[i]);
	free(last);
	return ret;
}

int eval_run(struct mpc *m, const struct model *md, int weights_owner,
	     const struct eval_input *inputs, size_t n_inputs, struct eval_out *outs,
	     size_t n_outs, struct eval_layer_stats *layers)
{
	struct ectx c = { .md = md, .frac = m->frac, .run = 1, .m = m,
			  .owner = weights_owner };
	int ret;

	if (n_outs != md->n_outputs || n_inputs != md->n_inputs)
		return mpc_fail(MPC_E_ARG, "the model has %zu data inputs and %zu outputs, the "
				"caller %zu and %zu", md->n_inputs, md->n_outputs, n_inputs, n_outs);
	memset(outs, 0, n_outs * sizeof(*outs));
	if (weights_owner < 0 || weights_owner >= m->n)
		return mpc_fail(MPC_E_ARG, "weights owner %d is not a party", weights_owner);
	if (!(c.pre = ev__pre_new(md)))
		return MPC_E_NOMEM;
	if ((ret = ev__walk_init(&c)) != 0)
		goto out;
	net_set_phase(m->net, NET_PH_WEIGHTS);
	if ((ret = ev__weights(&c)) == 0)
		ret = ev__chunk(&c, inputs, outs, layers);
out:
	ev__walk_free(&c);
	ev__pre_free(md, c.pre);
	return ret;
}

void eval_out_free(struct eval_out *o)
{
	mpc_free_words(o->share, o->n);
	memset(o, 0, sizeof(*o));
}

int mpc_reveal_to(struct mpc *m, int recipient, const uint64_t *x, size_t n,
		  uint64_t *out)
{
	uint64_t *tmp = NULL;
	int ret = 0;

	if (m->me != recipient) {
		ret = net_send(m->net, recipient, x, n * sizeof(*x));
		goto done;
	}
	if (!(tmp = mpc_alloc(n)))
		return MPC_E_NOMEM;
	memcpy(out, x, n * sizeof(*x));
	for (int p = 0; p < m->n && !ret; p++) {
		if (p == recipient)
			continue;
		if ((ret = net_recv(m->net, p, tmp, n * sizeof(*tmp))) == 0)
			ring_add(out, out, tmp, n);
	}
	mpc_free_words(tmp, n);
done:
	if (!ret)
		m->net->st[m->net->phase].rounds++;
	return ret;
}

/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * Data movement on shares: Transpose, Slice (and Split's outputs),
 * Expand, Gather with public indices. Each output element is one input
 * element (model_layout_map), and a share of a copied element is a copy
 * of its share, so every party moves its own shares: no randomness, no
 * traffic, the scale kept. On a weight (an embedding table) the owner
 * picks the elements in plaintext and shares only those.
 */
#include <stdlib.h>
#include <string.h>

#include "eval-int.h"

/* The scale an operand keeps: moving data never needs a truncation. */
#define KEEP_SCALE 8

static int weight_layout(struct ectx *c, const struct model_node *nd, const size_t *map,
			 size_t n)
{
	const struct model_value *xv = &c->md->values[nd->in[0]];
	struct ev_val *o = &c->vals[nd->out];
	float *tmp = NULL;
	uint64_t *p = NULL;
	int ret;

	if (c->run && c->m->me == c->owner && xv->init.data) {
		if (!(tmp = malloc((n ? n : 1) * sizeof(*tmp))))
			return mpc_fail(MPC_E_NOMEM, "weights");
		for (size_t i = 0; i < n; i++)
			tmp[i] = xv->init.data[map[i]];
	}
	ret = ev__share_floats(c, c->owner, tmp, n, 1, &p);
	ftensor_wipe_free(tmp, n * sizeof(*tmp)); /* picked weights */
	if (ret)
		return ret;
	mpc_free_words(o->v, o->n);
	o->v = p;
	o->n = n;
	o->scale = 1;
	o->xb = 0;
	return 0;
}

int ev__layout(struct ectx *c, const struct model_node *nd)
{
	size_t n = ev__numel(&c->md->values[nd->out]);
	size_t xn = ev__numel(&c->md->values[nd->in[0]]);
	size_t *map = NULL;
	uint64_t *px = NULL, *y;
	int ret, s, xb, owned = 0;

	/* The map only in run mode: the need walk (run for every chunk size tried) moves nothing. */
	if (c->run) {
		if (!(map = malloc((n ? n : 1) * sizeof(*map))))
			return mpc_fail(MPC_E_NOMEM, "layout");
		if ((ret = model_layout_map(c->md, nd, map)) != 0)
			goto out;
	}
	if (c->vals[nd->in[0]].is_const) {
		ret = weight_layout(c, nd, map, n);
		goto out;
	}
	/* The scale and any extra fractional bits pass on, as in a copy. */
	if ((ret = ev__operand_x(c, nd->in[0], KEEP_SCALE, 1, &px, &s, &xb, &owned)) != 0 ||
	    (ret = ev__out(c, nd->out, s)) != 0)
		goto out;
	c->vals[nd->out].xb = xb;
	if (!c->run)
		goto out;
	y = c->vals[nd->out].v;
	for (size_t i = 0; i < n; i++)
		y[i] = px[map[i]];
out:
	if (owned)
		mpc_free_words(px, xn);
	free(map);
	return ret;
}

/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * Maximum and argmax over groups (MaxPool windows, rows): a tournament in
 * which every group plays one level at a time and all pairs of all groups
 * of a level share one comparison (so the rounds follow the depth, 8 per
 * level, never the number of windows). max(a, b) = b + [a - b >= 0](a - b).
 */
#include <stdlib.h>
#include <string.h>

#include "ops.h"

struct tour {
	size_t n;     /* groups */
	size_t *cnt;  /* live candidates per group */
	size_t *off;  /* first candidate of each group in the flat arrays */
	size_t total; /* live candidates in all */
};

static int tour_init(struct tour *t, const struct cmp_groups *g)
{
	memset(t, 0, sizeof(*t));
	t->n = g->n;
	t->cnt = calloc(g->n ? g->n : 1, sizeof(*t->cnt));
	t->off = calloc(g->n ? g->n : 1, sizeof(*t->off));
	if (!t->cnt || !t->off)
		return mpc_fail(MPC_E_NOMEM, "tournament of %zu groups", g->n);
	for (size_t i = 0; i < g->n; i++) {
		if (g->start[i + 1] <= g->start[i])
			mpc_bug("empty comparison group");
		t->cnt[i] = g->start[i + 1] - g->start[i];
		t->off[i] = g->start[i];
		t->total += t->cnt[i];
	}
	return 0;
}

static void tour_free(struct tour *t)
{
	free(t->cnt);
	free(t->off);
}

static size_t tour_pairs(const struct tour *t)
{
	size_t p = 0;

	for (size_t i = 0; i < t->n; i++)
		p += t->cnt[i] / 2;
	return p;
}

/* Halve every group; offsets are recomputed densely. */
static void tour_next(struct tour *t)
{
	size_t off = 0;

	for (size_t i = 0; i < t->n; i++) {
		t->cnt[i] = t->cnt[i] / 2 + t->cnt[i] % 2;
		t->off[i] = off;
		off += t->cnt[i];
	}
	t->total = off;
}

static int tour_need(struct corr_list *l, const struct cmp_groups *g, size_t w)
{
	struct tour t;
	size_t pairs;
	int ret;

	if ((ret = tour_init(&t, g)) != 0)
		return ret;
	while ((pairs = tour_pairs(&t)) > 0) {
		if ((ret = cmp_select_need(l, pairs, w, 0)) != 0)
			break;
		tour_next(&t);
	}
	tour_free(&t);
	return ret;
}

int max_groups_need(struct corr_list *l, const struct cmp_groups *g)
{
	return tour_need(l, g, 1);
}

int argmax_groups_need(struct corr_list *l, const struct cmp_groups *g)
{
	return tour_need(l, g, 2);
}

/*
 * val (and pos when w == 2) hold the live candidates of every group,
 * densely by group. One level: for each pair (a, b) the payload is
 * (a - b[, pos_a - pos_b]) and the winner is b + [a >= b] * payload.
 */
static int tournament(struct mpc *m, const uint64_t *x, const struct cmp_groups *g,
		      size_t w, uint64_t *pos_out, uint64_t *max_out)
{
	struct tour t;
	size_t total = g->n ? g->start[g->n] : 0, pairs;
	uint64_t *val = NULL, *pos = NULL, *dx = NULL, *pay = NULL, *sel = NULL;
	int ret;

	if ((ret = tour_init(&t, g)) != 0)
		return ret;
	ret = MPC_E_NOMEM;
	if (!(val = mpc_alloc(total)) || !(pos = mpc_alloc(total)) ||
	    !(dx = mpc_alloc(total / 2 + 1)) || !(pay = mpc_alloc(w * (total / 2 + 1))) ||
	    !(sel = mpc_alloc(w * (total / 2 + 1))))
		goto out;
	for (size_t i = 0; i < g->n; i++)
		for (size_t j = g->start[i]; j < g->start[i + 1]; j++) {
			val[j] = x[g->idx[j]];
			/* Positions are public integers: party 0 holds them. */
			pos[j] = m->me == 0 ? j - g->start[i] : 0;
		}
	ret = 0;
	while ((pairs = tour_pairs(&t)) > 0) {
		size_t k = 0, o = 0;

		for (size_t i = 0; i < t.n; i++)
			for (size_t j = 0; j + 1 < t.cnt[i]; j += 2, k++) {
				size_t a = t.off[i] + j, b = a + 1;

				dx[k] = val[a] - val[b];
				pay[w * k] = dx[k];
				if (w == 2)
					pay[w * k + 1] = pos[a] - pos[b];
			}
		if ((ret = cmp_select(m, dx, pairs, pay, w, 0, sel)) != 0)
			goto out;
		/* Compact in place: writes never pass the reads of a later group. */
		k = 0;
		for (size_t i = 0; i < t.n; i++) {
			size_t c = t.cnt[i];

			for (size_t j = 0; j + 1 < c; j += 2, k++) {
				size_t b = t.off[i] + j + 1;

				val[o] = val[b] + sel[w * k];
				pos[o] = w == 2 ? pos[b] + sel[w * k + 1] : 0;
				o++;
			}
			if (c % 2) {
				val[o] = val[t.off[i] + c - 1];
				pos[o] = pos[t.off[i] + c - 1];
				o++;
			}
		}
		tour_next(&t);
	}
	if (max_out)
		memcpy(max_out, val, g->n * sizeof(*val));
	if (pos_out)
		memcpy(pos_out, pos, g->n * sizeof(*pos));
out:
	tour_free(&t);
	mpc_free_words(val, total);
	mpc_free_words(pos, total);
	mpc_free_words(dx, total / 2 + 1);
	mpc_free_words(pay, w * (total / 2 + 1));
	mpc_free_words(sel, w * (total / 2 + 1));
	return ret;
}

int max_groups(struct mpc *m, const uint64_t *x, const struct cmp_groups *g,
	       uint64_t *out)
{
	return tournament(m, x, g, 1, NULL, out);
}

int argmax_groups(struct mpc *m, const uint64_t *x, const struct cmp_groups *g,
		  uint64_t *pos, uint64_t *max)
{
	return tournament(m, x, g, 2, pos, max);
}

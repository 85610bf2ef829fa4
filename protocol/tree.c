/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * Maximum and argmax over groups (MaxPool windows, rows): a tournament in
 * which every group plays one level at a time and all pairs of all groups
 * of a level share one comparison (so the rounds follow the depth, 5 per
 * level, never the number of windows). max(a, b) = b + [a - b >= 0](a - b).
 */
#include <stdlib.h>
#include <string.h>

#include "ops.h"
#include "ring.h"

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

/*
 * Small groups (MaxPool 2x2) in one comparison level instead of a tree:
 * every pair i < j of a group compared at once, candidate i wins when it
 * beats every later one and no earlier one beats it (ties go to the
 * earlier, so exactly one wins), and the winners' bits select the values.
 * 1 + 3 + 1 + 1 = 6 rounds instead of 10 for a 2x2 window, for twice the
 * comparisons: used when the layer is small enough that rounds, not
 * bytes, set its time.
 */
#define ALLPAIRS_K 4
#define ALLPAIRS_MAX_PAIRS ((size_t)1 << 15)

static int allpairs_shape(const struct cmp_groups *g, size_t *pairs, size_t *cands)
{
	*pairs = *cands = 0;
	for (size_t i = 0; i < g->n; i++) {
		size_t k = g->start[i + 1] - g->start[i];

		if (k > ALLPAIRS_K)
			return 0;
		*pairs += k * (k - 1) / 2;
		*cands += k;
	}
	return *pairs <= ALLPAIRS_MAX_PAIRS;
}

static int allpairs_need(struct corr_list *l, size_t pairs, size_t cands)
{
	struct corr_req q;
	int ret;

	if ((ret = cmp_sign_need(l, pairs)) != 0)
		return ret;
	corr_req_bitmul(&q, cands, 1);
	if ((ret = corr_list_add(l, &q)) != 0)
		return ret;
	corr_req_mand(&q, MAND_AND3, ring_words(cands));
	return corr_list_add(l, &q);
}

static void set_bit(uint64_t *plane, size_t i, uint64_t b)
{
	plane[i / 64] |= (b & 1) << (i % 64);
}

static uint64_t get_bit(const uint64_t *plane, size_t i)
{
	return (plane[i / 64] >> (i % 64)) & 1;
}

static int allpairs(struct mpc *m, const uint64_t *x, const struct cmp_groups *g,
		    size_t pairs, size_t cands, uint64_t *out)
{
	size_t pw = ring_words(pairs), cw = ring_words(cands), k = 0, c = 0;
	uint64_t *dx = NULL, *sign = NULL, *u = NULL, *win = NULL;
	uint64_t *v = NULL, *d = NULL, *sel = NULL;
	struct corr_mat *bm;
	struct corr_req q;
	struct mpc_open_item dit;
	int ret = MPC_E_NOMEM;

	if (!(dx = mpc_alloc_raw(pairs)) || !(sign = mpc_alloc_raw(pw)) ||
	    !(u = mpc_alloc(3 * cw)) || !(win = mpc_alloc_raw(cw)) ||
	    !(v = mpc_alloc_raw(cands)) || !(d = mpc_alloc_raw(cands)) ||
	    !(sel = mpc_alloc_raw(cands)))
		goto free;
	for (size_t i = 0; i < g->n; i++)
		for (size_t a = g->start[i]; a < g->start[i + 1]; a++) {
			v[c++] = x[g->idx[a]];
			for (size_t b = a + 1; b < g->start[i + 1]; b++)
				dx[k++] = x[g->idx[a]] - x[g->idx[b]];
		}
	if ((ret = cmp_sign(m, dx, pairs, sign)) != 0)
		goto free;
	/* Candidate a's three operands: b_ab for later b, NOT b_ba for earlier b, 1 if absent. */
	k = c = 0;
	for (size_t i = 0; i < g->n; i++) {
		size_t base = k, n = g->start[i + 1] - g->start[i];

		for (size_t a = 0; a < n; a++, c++) {
			size_t slot = 0;

			for (size_t b = 0; b < n; b++) {
				size_t lo = a < b ? a : b, hi = a < b ? b : a;
				/* index of pair (lo, hi) among this group's pairs */
				size_t pi = base + lo * n - lo * (lo + 1) / 2 + (hi - lo - 1);
				uint64_t bit;

				if (a == b)
					continue;
				bit = get_bit(sign, pi) ^ (a > b && m->me == 0);
				set_bit(u + slot * cw, c, bit);
				slot++;
			}
			for (; slot < 3; slot++)
				set_bit(u + slot * cw, c, m->me == 0);
		}
		k += n * (n - 1) / 2;
	}
	corr_req_bitmul(&q, cands, 1);
	bm = mpc_take(m, &q);
	ring_sub(d, v, bm->a, cands);
	dit = (struct mpc_open_item){ .share = d, .out = d, .n = cands };
	/* win = u0 & u1 & u2, one opening (u is opened in place). */
	if ((ret = mand_open(m, MAND_AND3, u, cw, win, &dit)) != 0 ||
	    (ret = bitmul_finish(m, bm, win, cands, v, d, 1, sel)) != 0)
		goto out;
	c = 0;
	for (size_t i = 0; i < g->n; i++) {
		uint64_t acc = 0;

		for (size_t a = g->start[i]; a < g->start[i + 1]; a++)
			acc += sel[c++];
		out[i] = acc;
	}
out:
	mpc_release(bm);
free:
	mpc_free_words(dx, pairs);
	mpc_free_words(sign, pw);
	mpc_free_words(u, 3 * cw);
	mpc_free_words(win, cw);
	mpc_free_words(v, cands);
	mpc_free_words(d, cands);
	mpc_free_words(sel, cands);
	return ret;
}

int max_groups_need(struct corr_list *l, const struct cmp_groups *g)
{
	size_t pairs, cands;

	if (allpairs_shape(g, &pairs, &cands))
		return allpairs_need(l, pairs, cands);
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
	size_t pairs, cands;

	if (allpairs_shape(g, &pairs, &cands))
		return allpairs(m, x, g, pairs, cands, out);
	return tournament(m, x, g, 1, NULL, out);
}

int argmax_groups(struct mpc *m, const uint64_t *x, const struct cmp_groups *g,
		  uint64_t *pos, uint64_t *max)
{
	return tournament(m, x, g, 2, pos, max);
}

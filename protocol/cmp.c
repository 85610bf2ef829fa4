/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * Comparison, truncation and ReLU from one opened value (PROTOCOLS.md,
 * "Comparison, truncation and ReLU from one opened value").
 *
 * With x' = x + 2^62 in [0, 2^63) and a dealer's random r, c = x' + r is
 * opened; it is uniform and says nothing about x. Then:
 *  - x >= 0 exactly when bit 62 of x' is 1, and bit 62 of x' = c - r is
 *    c_62 ^ r_62 ^ [c mod 2^62 < r mod 2^62]: a 62-bit less-than between a
 *    public and a bit-shared value, evaluated as a borrow-lookahead tree
 *    (6 levels of AND gates, all elements bit-sliced 64 to a word).
 *  - the wrap w = [x' + r >= 2^64] is r_63 & !c_63, because x' < 2^63:
 *    linear in the shared top bit of r, so truncation needs no circuit:
 *    floor(x'/2^s) + b = (c >> s) - (r >> s) + w * 2^(64-s), where
 *    b in {0, 1} is the low-bits borrow we drop (stochastic rounding).
 *  - the sign bit times y takes one more opening with a bit-product
 *    correlation (s as XOR and arithmetic shares, a, s*a): open e = bit ^ s
 *    (and d = y - a earlier), then bit*y = e*y + (1 - 2e)(s*a + d*s).
 */
#include <stdlib.h>
#include <string.h>

#include "ops.h"
#include "ring.h"

#define CMP_BITS 62
#define BIAS ((uint64_t)1 << 62)

/* AND gates in one tree level of cnt nodes (the lowest node needs no P). */
static size_t level_ands(size_t cnt)
{
	size_t pairs = cnt / 2;

	return pairs ? 2 * pairs - 1 : 0;
}

int cmp_select_need(struct corr_list *l, size_t n, size_t w, int shift)
{
	struct corr_req q;
	size_t words = ring_words(n), cnt = CMP_BITS;
	int ret;

	corr_req_edabit(&q, n, shift);
	if ((ret = corr_list_add(l, &q)) != 0)
		return ret;
	corr_req_bitmul(&q, n, w);
	if ((ret = corr_list_add(l, &q)) != 0)
		return ret;
	while (cnt > 1) {
		corr_req_and(&q, level_ands(cnt) * words);
		if ((ret = corr_list_add(l, &q)) != 0)
			return ret;
		cnt = cnt / 2 + cnt % 2;
	}
	return 0;
}

/* Party i's share of floor(x / 2^shift) (+ the dropped borrow). */
static void trunc_local(const struct mpc *m, const uint64_t *c,
			const struct corr_mat *mt, size_t n, int shift,
			uint64_t *out)
{
	uint64_t bias = (uint64_t)1 << (62 - shift);

	for (size_t i = 0; i < n; i++) {
		uint64_t v = -mt->rhi[i];

		if (!(c[i] >> 63))
			v += mt->r63[i] << (64 - shift);
		if (m->me == 0)
			v += (c[i] >> shift) - bias;
		out[i] = v;
	}
}

/* u = x + 2^62 + r, the value opened first. */
static void mask_biased(const struct mpc *m, const uint64_t *x,
			const uint64_t *r, size_t n, uint64_t *u)
{
	for (size_t i = 0; i < n; i++)
		u[i] = x[i] + r[i] + (m->me == 0 ? BIAS : 0);
}

int trunc_need(struct corr_list *l, size_t n, int shift)
{
	struct corr_req q;

	corr_req_trunc(&q, n, shift);
	return corr_list_add(l, &q);
}

int mpc_trunc(struct mpc *m, const uint64_t *x, size_t n, int shift,
	      uint64_t *out)
{
	struct corr_req q;
	struct corr_mat *mt;
	uint64_t *c = NULL;
	int ret = MPC_E_NOMEM;

	if (shift < 1 || shift > 62)
		mpc_bug("truncation shift out of range");
	corr_req_trunc(&q, n, shift);
	mt = mpc_take(m, &q);
	if (!(c = mpc_alloc_raw(n)))
		goto out;
	mask_biased(m, x, mt->r, n, c);
	if ((ret = mpc_open(m, c, n, c)) != 0)
		goto out;
	trunc_local(m, c, mt, n, shift, out);
out:
	mpc_release(mt);
	mpc_free_public(c, n); /* opened */
	return ret;
}

/*
 * Beaver AND of `words` XOR-shared words: d = x ^ a and e = y ^ b are
 * opened in place (x and y are overwritten), `extra` rides along, and
 * z = c ^ d&b ^ e&a ^ d&e (the last term on party 0).
 */
static int and_open(struct mpc *m, uint64_t *x, uint64_t *y, size_t words, uint64_t *z,
		    struct mpc_open_item *extra)
{
	struct mpc_open_item it[3];
	struct corr_mat *mt;
	struct corr_req q;
	int ret, nit = 2;

	corr_req_and(&q, words);
	mt = mpc_take(m, &q);
	ring_xor(x, x, mt->a, words);
	ring_xor(y, y, mt->b, words);
	it[0] = (struct mpc_open_item){ .share = x, .out = x, .n = words, .xor = 1 };
	it[1] = (struct mpc_open_item){ .share = y, .out = y, .n = words, .xor = 1 };
	if (extra)
		it[nit++] = *extra;
	if ((ret = mpc_open_items(m, it, nit)) == 0)
		for (size_t i = 0; i < words; i++)
			z[i] = mt->c[i] ^ (x[i] & mt->b[i]) ^ (y[i] & mt->a[i]) ^
			       (m->me == 0 ? x[i] & y[i] : 0);
	mpc_release(mt);
	return ret;
}

/*
 * One level of the tree: for pair t (lo = 2t, hi = 2t + 1)
 *   G' = G_hi ^ (P_hi & G_lo),  P' = P_hi & P_lo  (not for t = 0),
 * with every AND of the level in one opening; `extra` rides along.
 */
static int tree_level(struct mpc *m, size_t cnt, size_t words, uint64_t *g,
		      uint64_t *p, uint64_t *scratch, struct mpc_open_item *extra)
{
	size_t pairs = cnt / 2, ands = level_ands(cnt), len = ands * words;
	uint64_t *xo = scratch, *yo = scratch + len, *z = scratch + 2 * len;
	size_t k = 0;
	int ret;

	for (size_t t = 0; t < pairs; t++) {
		const uint64_t *phi = p + (2 * t + 1) * words;

		memcpy(xo + k * words, phi, words * 8);
		memcpy(yo + k * words, g + 2 * t * words, words * 8);
		k++;
		if (t) {
			memcpy(xo + k * words, phi, words * 8);
			memcpy(yo + k * words, p + 2 * t * words, words * 8);
			k++;
		}
	}
	if ((ret = and_open(m, xo, yo, len, z, extra)) != 0)
		return ret;
	k = 0;
	for (size_t t = 0; t < pairs; t++) {
		uint64_t *gt = g + t * words;
		const uint64_t *ghi = g + (2 * t + 1) * words;

		for (size_t i = 0; i < words; i++)
			gt[i] = ghi[i] ^ z[k * words + i];
		k++;
		if (t) {
			memcpy(p + t * words, z + k * words, words * 8);
			k++;
		}
	}
	if (cnt % 2) {
		memmove(g + pairs * words, g + (cnt - 1) * words, words * 8);
		memmove(p + pairs * words, p + (cnt - 1) * words, words * 8);
	}
	return 0;
}

/* Working buffers of one comparison layer. */
struct cmp_work {
	size_t n, words;
	uint64_t *c, *cpl, *g, *p, *scratch;
};

static void work_free(struct cmp_work *w)
{
	/* c is opened, and its bit planes too: public. */
	mpc_free_public(w->c, w->n);
	mpc_free_public(w->cpl, 64 * w->words);
	mpc_free_words(w->g, CMP_BITS * w->words);
	mpc_free_words(w->p, CMP_BITS * w->words);
	mpc_free_words(w->scratch, 3 * level_ands(CMP_BITS) * w->words);
}

static int work_alloc(struct cmp_work *w, size_t n)
{
	memset(w, 0, sizeof(*w));
	w->n = n;
	w->words = ring_words(n);
	/* Every buffer is written in full before it is read. */
	if (!(w->c = mpc_alloc_raw(n)) || !(w->cpl = mpc_alloc_raw(64 * w->words)) ||
	    !(w->g = mpc_alloc_raw(CMP_BITS * w->words)) ||
	    !(w->p = mpc_alloc_raw(CMP_BITS * w->words)) ||
	    !(w->scratch = mpc_alloc_raw(3 * level_ands(CMP_BITS) * w->words)))
		return MPC_E_NOMEM;
	return 0;
}

/* Round 1: open c = x + 2^62 + r, with `extra` in the same message. */
static int sign_open(struct mpc *m, struct cmp_work *w, const uint64_t *x,
		     const struct corr_mat *ed, struct mpc_open_item *extra)
{
	struct mpc_open_item it[2];

	mask_biased(m, x, ed->r, w->n, w->c);
	it[0] = (struct mpc_open_item){ .share = w->c, .out = w->c, .n = w->n };
	if (extra)
		it[1] = *extra;
	return mpc_open_items(m, it, extra ? 2 : 1);
}

/*
 * Rounds 2-7: the borrow-lookahead tree; sign gets the XOR shares of
 * [x >= 0] as bit planes. `pending` rides the first level's opening.
 */
static int sign_tree(struct mpc *m, struct cmp_work *w, const struct corr_mat *ed,
		     struct mpc_open_item *pending, uint64_t *sign)
{
	size_t words = w->words, cnt = CMP_BITS;
	int ret;

	/* Leaves: g_j = r_j & !c_j, p_j = r_j ^ !c_j (public part on party 0). */
	ring_to_planes(w->cpl, w->c, w->n);
	for (size_t j = 0; j < CMP_BITS; j++) {
		const uint64_t *rj = ed->rbits + j * words, *cj = w->cpl + j * words;

		for (size_t i = 0; i < words; i++) {
			w->g[j * words + i] = rj[i] & ~cj[i];
			w->p[j * words + i] = rj[i] ^ (m->me == 0 ? ~cj[i] : 0);
		}
	}
	while (cnt > 1) {
		if ((ret = tree_level(m, cnt, words, w->g, w->p, w->scratch, pending)) != 0)
			return ret;
		pending = NULL;
		cnt = cnt / 2 + cnt % 2;
	}
	/* sign = c_62 ^ r_62 ^ borrow */
	for (size_t i = 0; i < words; i++)
		sign[i] = w->g[i] ^ ed->rbits[CMP_BITS * words + i] ^
			  (m->me == 0 ? w->cpl[CMP_BITS * words + i] : 0);
	return 0;
}

int cmp_sign_need(struct corr_list *l, size_t n)
{
	struct corr_req q;
	size_t words = ring_words(n), cnt = CMP_BITS;
	int ret;

	corr_req_edabit(&q, n, 0);
	if ((ret = corr_list_add(l, &q)) != 0)
		return ret;
	while (cnt > 1) {
		corr_req_and(&q, level_ands(cnt) * words);
		if ((ret = corr_list_add(l, &q)) != 0)
			return ret;
		cnt = cnt / 2 + cnt % 2;
	}
	return 0;
}

int cmp_sign(struct mpc *m, const uint64_t *x, size_t n, uint64_t *sign)
{
	struct cmp_work w;
	struct corr_mat *ed;
	struct corr_req q;
	int ret;

	corr_req_edabit(&q, n, 0);
	ed = mpc_take(m, &q);
	if ((ret = work_alloc(&w, n)) == 0 && (ret = sign_open(m, &w, x, ed, NULL)) == 0)
		ret = sign_tree(m, &w, ed, NULL, sign);
	mpc_release(ed);
	work_free(&w);
	return ret;
}

int cmp_and_need(struct corr_list *l, size_t words)
{
	struct corr_req q;

	corr_req_and(&q, words);
	return corr_list_add(l, &q);
}

int cmp_and(struct mpc *m, const uint64_t *x, const uint64_t *y, size_t words, uint64_t *z,
	    struct mpc_open_item *extra)
{
	uint64_t *d = mpc_alloc_raw(words), *e = mpc_alloc_raw(words);
	int ret = MPC_E_NOMEM;

	if (d && e) {
		memcpy(d, x, words * sizeof(*d));
		memcpy(e, y, words * sizeof(*e));
		ret = and_open(m, d, e, words, z, extra);
	}
	mpc_free_public(d, words); /* opened */
	mpc_free_public(e, words);
	return ret;
}

int bitmul_finish(struct mpc *m, const struct corr_mat *bm, const uint64_t *bits, size_t n,
		  const uint64_t *y, const uint64_t *d, size_t w, uint64_t *out)
{
	size_t words = ring_words(n);
	uint64_t *e = mpc_alloc_raw(words);
	int ret;

	if (!e)
		return MPC_E_NOMEM;
	for (size_t i = 0; i < words; i++)
		e[i] = bits[i] ^ bm->sbits[i];
	if ((ret = mpc_open_items(m, &(struct mpc_open_item){ .share = e, .out = e,
							       .n = words, .xor = 1 }, 1)) != 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		uint64_t ei = (e[i / 64] >> (i % 64)) & 1, si = bm->s[i];

		for (size_t j = 0; j < w; j++) {
			size_t k = i * w + j;
			uint64_t t = bm->sa[k] + d[k] * si;

			out[k] = ei ? y[k] - t : t;
		}
	}
out:
	mpc_free_public(e, words); /* opened */
	return ret;
}

int cmp_select(struct mpc *m, const uint64_t *x, size_t n, const uint64_t *y,
	       size_t w, int shift, uint64_t *out)
{
	size_t words = ring_words(n), yl = n * w;
	struct corr_mat *ed, *bm;
	struct corr_req q;
	struct cmp_work cw;
	uint64_t *ty = NULL, *d = NULL, *sign = NULL;
	struct mpc_open_item dit, *pending = NULL;
	int ret = MPC_E_NOMEM;

	if (!y && w != 1)
		mpc_bug("cmp_select: implicit y needs width 1");
	corr_req_edabit(&q, n, shift);
	ed = mpc_take(m, &q);
	corr_req_bitmul(&q, n, w);
	bm = mpc_take(m, &q);
	if ((ret = work_alloc(&cw, n)) != 0)
		goto out;
	ret = MPC_E_NOMEM;
	if (!(d = mpc_alloc_raw(yl)) || !(sign = mpc_alloc_raw(words)) ||
	    (!y && !(ty = mpc_alloc_raw(n))))
		goto out;
	dit = (struct mpc_open_item){ .share = d, .out = d, .n = yl };
	if (!y && shift == 0)
		y = x;
	if (y)
		ring_sub(d, y, bm->a, yl);
	if ((ret = sign_open(m, &cw, x, ed, y ? &dit : NULL)) != 0)
		goto out;
	if (!y) {
		/* ReLU with truncation: y is known only now; d rides level 1. */
		trunc_local(m, cw.c, ed, n, shift, ty);
		y = ty;
		ring_sub(d, y, bm->a, yl);
		pending = &dit;
	}
	if ((ret = sign_tree(m, &cw, ed, pending, sign)) != 0)
		goto out;
	ret = bitmul_finish(m, bm, sign, n, y, d, w, out);
out:
	mpc_release(ed);
	mpc_release(bm);
	work_free(&cw);
	mpc_free_words(ty, n);
	mpc_free_public(d, yl); /* opened */
	mpc_free_words(sign, words);
	return ret;
}

int relu_need(struct corr_list *l, size_t n, int shift)
{
	return cmp_select_need(l, n, 1, shift);
}

int mpc_relu(struct mpc *m, const uint64_t *x, size_t n, int shift,
	     uint64_t *out)
{
	return cmp_select(m, x, n, NULL, 1, shift, out);
}

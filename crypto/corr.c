/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
#include "corr.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "pool.h"
#include "ring.h"

void corr_req_bilin(struct corr_req *q, const struct bilin *bl)
{
	memset(q, 0, sizeof(*q));
	q->kind = CORR_BILIN;
	q->bl = *bl;
}

void corr_req_and(struct corr_req *q, size_t words)
{
	memset(q, 0, sizeof(*q));
	q->kind = CORR_AND;
	q->n = words;
}

void corr_req_edabit(struct corr_req *q, size_t n, int shift)
{
	memset(q, 0, sizeof(*q));
	q->kind = CORR_EDABIT;
	q->n = n;
	q->shift = shift;
}

void corr_req_trunc(struct corr_req *q, size_t n, int shift)
{
	memset(q, 0, sizeof(*q));
	q->kind = CORR_TRUNC;
	q->n = n;
	q->shift = shift;
}

void corr_req_wmask(struct corr_req *q, size_t n, size_t slot)
{
	memset(q, 0, sizeof(*q));
	q->kind = CORR_WMASK;
	q->n = n;
	q->slot = slot;
}

void corr_req_bilin_kb(struct corr_req *q, const struct bilin *bl, size_t slot)
{
	memset(q, 0, sizeof(*q));
	q->kind = CORR_BILIN_KB;
	q->bl = *bl;
	q->slot = slot;
}

void corr_req_bitmul(struct corr_req *q, size_t n, size_t width)
{
	memset(q, 0, sizeof(*q));
	q->kind = CORR_BITMUL;
	q->n = n;
	q->width = width;
}

void corr_req_mand(struct corr_req *q, enum corr_mand_shape sh, size_t lanes)
{
	memset(q, 0, sizeof(*q));
	q->kind = CORR_MAND;
	q->n = lanes;
	q->shift = (int)sh;
}

static const struct {
	int vars, n_monos;
	uint8_t monos[MAND_MAX_MONOS];
} shapes[MAND_SHAPES_] = {
	[MAND_PREFIX4] = { 7, 4, { 0x11, 0x23, 0x47, 0x0f } },
	[MAND_AND3] = { 3, 1, { 0x07 } },
};

int corr_mand_vars(enum corr_mand_shape sh)
{
	return shapes[sh].vars;
}

int corr_mand_monos(enum corr_mand_shape sh, const uint8_t **monos)
{
	*monos = shapes[sh].monos;
	return shapes[sh].n_monos;
}

/* A product is kept for each subset of 2+ variables of some monomial. */
static int kept(enum corr_mand_shape sh, unsigned mask)
{
	if (__builtin_popcount(mask) < 2)
		return 0;
	for (int k = 0; k < shapes[sh].n_monos; k++)
		if ((mask & shapes[sh].monos[k]) == mask)
			return 1;
	return 0;
}

/* The kept subsets in increasing order of their masks: the product planes. */
void corr_mand_indices(enum corr_mand_shape sh, int *idx)
{
	int k = 0;

	for (unsigned m = 0; m < 1u << MAND_MAX_VARS; m++)
		idx[m] = kept(sh, m) ? k++ : -1;
}

int corr_mand_index(enum corr_mand_shape sh, unsigned mask)
{
	int idx[1 << MAND_MAX_VARS];

	corr_mand_indices(sh, idx);
	return mask < 1u << MAND_MAX_VARS ? idx[mask] : -1;
}

int corr_mand_prods(enum corr_mand_shape sh)
{
	int idx[1 << MAND_MAX_VARS], n = 0;

	corr_mand_indices(sh, idx);
	for (unsigned m = 0; m < 1u << MAND_MAX_VARS; m++)
		n += idx[m] >= 0;
	return n;
}

int corr_req_same(const struct corr_req *a, const struct corr_req *b)
{
	return !memcmp(a, b, sizeof(*a));
}

const char *corr_kind_name(enum corr_kind k)
{
	static const char *names[] = { "bilinear triple", "AND triple",
				       "edaBit", "bit-product",
				       "truncation pair", "many-input AND set",
				       "weight mask", "bilinear triple (weight mask kept)" };

	return (unsigned)k < sizeof(names) / sizeof(names[0]) ? names[k] : "?";
}

/* Layout: input parts first, output parts after, so a fix is one run. */
static size_t layout(struct corr_mat *m, const struct corr_req *q, uint64_t *p)
{
	size_t n = q->n, w = ring_words(q->n), off = 0;
#define PART(field, len)                               \
	do {                                           \
		if (m)                                 \
			m->field = p + off;            \
		off += (len);                          \
	} while (0)

	switch (q->kind) {
	case CORR_BILIN:
		PART(a, bilin_x_len(&q->bl));
		PART(b, bilin_y_len(&q->bl));
		PART(c, bilin_z_len(&q->bl));
		break;
	case CORR_AND:
		PART(a, n);
		PART(b, n);
		PART(c, n);
		break;
	case CORR_EDABIT:
		PART(r, n);
		PART(rbits, 64 * w);
		PART(rhi, n);
		PART(r63, n);
		break;
	case CORR_TRUNC:
		PART(r, n);
		PART(rhi, n);
		PART(r63, n);
		break;
	case CORR_BITMUL:
		PART(sbits, w);
		PART(a, n * q->width);
		PART(s, n);
		PART(sa, n * q->width);
		break;
	case CORR_MAND:
		PART(a, n * (size_t)corr_mand_vars(q->shift));
		PART(c, n * (size_t)corr_mand_prods(q->shift));
		break;
	case CORR_WMASK:
		PART(b, n);
		break;
	case CORR_BILIN_KB:
		PART(a, bilin_x_len(&q->bl));
		PART(c, bilin_z_len(&q->bl));
		break;
	}
#undef PART
	return off;
}

size_t corr_mat_len(const struct corr_req *q)
{
	return layout(NULL, q, NULL);
}

size_t corr_fix_len(const struct corr_req *q)
{
	switch (q->kind) {
	case CORR_BILIN:
		return bilin_z_len(&q->bl);
	case CORR_AND:
		return q->n;
	case CORR_EDABIT:
		return 64 * ring_words(q->n) + 2 * q->n;
	case CORR_BITMUL:
		return q->n + q->n * q->width;
	case CORR_TRUNC:
		return 2 * q->n;
	case CORR_MAND:
		return q->n * (size_t)corr_mand_prods(q->shift);
	case CORR_WMASK:
		return 0;
	case CORR_BILIN_KB:
		return bilin_z_len(&q->bl);
	}
	return 0;
}

uint64_t *corr_fix_part(struct corr_mat *m)
{
	return m->buf + (m->len - corr_fix_len(&m->req));
}

int corr_mat_alloc(struct corr_mat *m, const struct corr_req *q)
{
	size_t len = corr_mat_len(q);

	memset(m, 0, sizeof(*m));
	m->buf = ring_alloc(len * sizeof(uint64_t));
	if (!m->buf)
		return mpc_fail(MPC_E_NOMEM, "%s: %zu words", corr_kind_name(q->kind), len);
	m->len = len;
	m->req = *q;
	layout(m, q, m->buf);
	return 0;
}

void corr_mat_free(struct corr_mat *m)
{
	if (m->buf) {
		sodium_memzero(m->buf, m->len * sizeof(uint64_t));
		ring_free(m->buf, m->len * sizeof(uint64_t));
	}
	memset(m, 0, sizeof(*m));
}

void corr_expand(struct corr_mat *m, struct prg *g, int last)
{
	size_t fix = corr_fix_len(&m->req);

	prg_u64(g, m->buf, m->len - fix);
	/* A call is a nonce even when empty: none for a kind with no outputs. */
	if (!last && fix)
		prg_u64(g, corr_fix_part(m), fix);
}

void corr_fix_apply(struct corr_mat *m, const uint64_t *fix)
{
	memcpy(corr_fix_part(m), fix, corr_fix_len(&m->req) * sizeof(uint64_t));
}

/* The one run of XOR-shared words in a request's layout, [lo, hi). */
static void xor_run(const struct corr_req *q, size_t *lo, size_t *hi)
{
	size_t n = q->n, w = ring_words(q->n);

	*lo = *hi = 0;
	if (q->kind == CORR_AND) {
		*hi = 3 * n;
	} else if (q->kind == CORR_MAND) {
		*hi = corr_mat_len(q);
	} else if (q->kind == CORR_EDABIT) {
		*lo = n;
		*hi = n + 64 * w;
	} else if (q->kind == CORR_BITMUL) {
		*hi = w;
	}
}

/*
 * The dealer sums every party's inputs and parties 0..n-2's outputs into
 * `sum` (XOR or addition, as each word is shared), then writes
 * truth - sum into fix. Word by word: ranges of words split over the pool.
 */
#define FOLD_MIN ((size_t)1 << 15)

struct fold_job {
	uint64_t *dst;         /* sum, or fix */
	const uint64_t *src;   /* part, or truth */
	const uint64_t *other; /* fix: sum's words at the fix's offset */
	size_t lo, hi, base;   /* the XOR run, and dst's offset in the layout */
};

/* dst[i] op= src[i] (or dst = src op other) over [a, b), one op: vectorises. */
static void fold_span(const struct fold_job *j, size_t a, size_t b, int xor)
{
	uint64_t *d = j->dst;
	const uint64_t *s = j->src, *o = j->other;

	if (o && xor)
		for (size_t i = a; i < b; i++)
			d[i] = s[i] ^ o[i];
	else if (o)
		for (size_t i = a; i < b; i++)
			d[i] = s[i] - o[i];
	else if (xor)
		for (size_t i = a; i < b; i++)
			d[i] ^= s[i];
	else
		for (size_t i = a; i < b; i++)
			d[i] += s[i];
}

static int fold_range(void *arg, size_t a, size_t b)
{
	const struct fold_job *j = arg;
	/* The XOR run in dst's indices, clamped to [a, b]. */
	size_t x0 = j->lo > j->base ? j->lo - j->base : 0;
	size_t x1 = j->hi > j->base ? j->hi - j->base : 0;

	x0 = x0 < a ? a : x0 > b ? b : x0;
	x1 = x1 < x0 ? x0 : x1 > b ? b : x1;
	fold_span(j, a, x0, 0);
	fold_span(j, x0, x1, 1);
	fold_span(j, x1, b, 0);
	return 0;
}

/* sum's first `words` words op= part's. */
static void fold(struct corr_mat *sum, const struct corr_mat *part, size_t words)
{
	struct fold_job j = { .dst = sum->buf, .src = part->buf };

	xor_run(&sum->req, &j.lo, &j.hi);
	pool_run(words, FOLD_MIN, fold_range, &j);
}

/*
 * The sum of every party's expansion but party n-1's outputs (which it
 * never draws: the dealer corrects them), into sum. Party 0 expands
 * straight into sum; each later party into part, folded on top; the last
 * party's inputs only. Every word of sum is written: no clearing first.
 */
static int sum_parties(const struct corr_req *q, struct prg *party, int n, struct corr_mat *sum,
		       struct corr_mat *part)
{
	size_t in_len = corr_mat_len(q) - corr_fix_len(q);
	int ret;

	if (n < 2)
		return mpc_fail(MPC_E_ARG, "%d parties: the dealer needs at least 2", n);
	if ((ret = corr_mat_alloc(sum, q)) != 0 || (ret = corr_mat_alloc(part, q)) != 0)
		return ret;
	corr_expand(sum, &party[0], 0);
	for (int i = 1; i < n; i++) {
		int last = i == n - 1;

		corr_expand(part, &party[i], last);
		fold(sum, part, last ? in_len : part->len);
	}
	return 0;
}

int corr_deal(const struct corr_req *q, struct prg *party, int n, uint64_t *fix)
{
	struct corr_mat sum = { 0 }, part = { 0 };
	size_t flen = corr_fix_len(q), in_len, lo, hi, w = ring_words(q->n);
	uint64_t *truth = NULL, *scratch = NULL;
	int ret;

	if (q->kind == CORR_WMASK || q->kind == CORR_BILIN_KB)
		return mpc_fail(MPC_E_INTERNAL, "%s: the dealer needs the kept weight mask",
				corr_kind_name(q->kind));
	if ((ret = sum_parties(q, party, n, &sum, &part)) != 0)
		goto out;
	in_len = sum.len - flen;
	ret = MPC_E_NOMEM;
	truth = ring_alloc(flen * sizeof(uint64_t));
	if (!truth)
		goto out;
	switch (q->kind) {
	case CORR_BILIN: {
		size_t sl = bilin_scratch_len(&q->bl);

		if (sl && !(scratch = malloc(sl * sizeof(uint64_t))))
			goto out;
		bilin_apply(&q->bl, sum.a, sum.b, truth, 0, scratch);
		break;
	}
	case CORR_AND:
		ring_and(truth, sum.a, sum.b, q->n);
		break;
	case CORR_MAND: {
		int idx[1 << MAND_MAX_VARS];

		corr_mand_indices(q->shift, idx);
		for (unsigned mask = 0; mask < 1u << corr_mand_vars(q->shift); mask++) {
			uint64_t *t;

			if (idx[mask] < 0)
				continue;
			t = truth + (size_t)idx[mask] * q->n;
			memset(t, 0xff, q->n * sizeof(*t));
			for (int v = 0; v < corr_mand_vars(q->shift); v++)
				if (mask >> v & 1)
					ring_and(t, t, sum.a + (size_t)v * q->n, q->n);
		}
		break;
	}
	case CORR_EDABIT:
		ring_to_planes(truth, sum.r, q->n);
		for (size_t i = 0; i < q->n; i++) {
			truth[64 * w + i] = sum.r[i] >> q->shift;
			truth[64 * w + q->n + i] = sum.r[i] >> 63;
		}
		break;
	case CORR_TRUNC:
		for (size_t i = 0; i < q->n; i++) {
			truth[i] = sum.r[i] >> q->shift;
			truth[q->n + i] = sum.r[i] >> 63;
		}
		break;
	case CORR_WMASK:
	case CORR_BILIN_KB:
		break; /* refused above */
	case CORR_BITMUL:
		for (size_t i = 0; i < q->n; i++) {
			uint64_t s = (sum.sbits[i / 64] >> (i % 64)) & 1;

			truth[i] = s;
			for (size_t j = 0; j < q->width; j++)
				truth[q->n + i * q->width + j] = s * sum.a[i * q->width + j];
		}
		break;
	}
	xor_run(q, &lo, &hi);
	pool_run(flen, FOLD_MIN, fold_range,
		 &(struct fold_job){ fix, truth, sum.buf + in_len, lo, hi, in_len });
	ret = 0;
out:
	if (truth) {
		sodium_memzero(truth, flen * sizeof(uint64_t));
		ring_free(truth, flen * sizeof(uint64_t));
	}
	free(scratch);
	corr_mat_free(&sum);
	corr_mat_free(&part);
	return ret;
}

int corr_deal_wmask(const struct corr_req *q, struct prg *party, int n, uint64_t *b)
{
	uint64_t *tmp = ring_alloc((q->n ? q->n : 1) * sizeof(uint64_t));

	if (!tmp)
		return mpc_fail(MPC_E_NOMEM, "%s: %zu words", corr_kind_name(q->kind), q->n);
	/* One PRG call per party, as the party draws it (a call is a nonce). */
	memset(b, 0, q->n * sizeof(*b));
	for (int i = 0; i < n; i++) {
		prg_u64(&party[i], tmp, q->n);
		ring_add(b, b, tmp, q->n);
	}
	sodium_memzero(tmp, q->n * sizeof(uint64_t));
	ring_free(tmp, (q->n ? q->n : 1) * sizeof(uint64_t));
	return 0;
}

int corr_deal_kb(const struct corr_req *q, struct prg *party, int n, const uint64_t *b,
		 uint64_t *fix)
{
	struct corr_mat sum = { 0 }, part = { 0 };
	size_t zl = bilin_z_len(&q->bl), sl = bilin_scratch_len(&q->bl);
	uint64_t *scratch = NULL;
	int ret;

	if (q->kind != CORR_BILIN_KB)
		return mpc_fail(MPC_E_INTERNAL, "%s is not a kept-mask triple",
				corr_kind_name(q->kind));
	if ((ret = sum_parties(q, party, n, &sum, &part)) != 0)
		goto out;
	if (sl && !(scratch = malloc(sl * sizeof(uint64_t)))) {
		ret = mpc_fail(MPC_E_NOMEM, "%s: %zu words", corr_kind_name(q->kind), sl);
		goto out;
	}
	/* The fresh A of this chunk against the B every chunk shares. */
	bilin_apply(&q->bl, sum.a, b, fix, 0, scratch);
	ring_sub(fix, fix, sum.c, zl);
out:
	if (scratch)
		sodium_memzero(scratch, sl * sizeof(uint64_t));
	free(scratch);
	corr_mat_free(&sum);
	corr_mat_free(&part);
	return ret;
}

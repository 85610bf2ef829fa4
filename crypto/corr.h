/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
#ifndef MPC_CORR_H
#define MPC_CORR_H

#include <stddef.h>
#include <stdint.h>

#include "bilin.h"
#include "err.h"
#include "prg.h"

/*
 * Correlated randomness, seed-compressed. Each compute party i holds a PRG
 * seeded by the dealer. For every request, every party expands the
 * request's "input" parts from its PRG; parties 0..n-2 also expand the
 * "output" parts; party n-1 instead receives a correction from the dealer,
 * which runs all n PRGs to know the shares it must correct. The dealer
 * thus sends corr_fix_len() words per request, to one party only.
 *
 *   kind         inputs (all parties)      outputs (corrected for n-1)
 *   BILIN        A [x], B [y]              C = L(A, B)  [z]
 *   AND          a, b (XOR, n words)       c = a & b    (XOR, n words)
 *   EDABIT       r (n)                     bits of r (64 planes, XOR),
 *                                          r >> shift (n), r >> 63 (n)
 *   TRUNC        r (n)                     r >> shift (n), r >> 63 (n)
 *   BITMUL       s (XOR bits, words(n)),   s (arith, n), s_i * a_ij
 *                a (n x width)             (n x width)
 *
 * EDABIT feeds comparison (protocol/cmp.c), TRUNC truncation alone; BITMUL turns a
 * shared bit into a product with arithmetic shares in one opening.
 */
enum corr_kind { CORR_BILIN, CORR_AND, CORR_EDABIT, CORR_BITMUL, CORR_TRUNC };

struct corr_req {
	enum corr_kind kind;
	size_t n;     /* AND: words; EDABIT, BITMUL, TRUNC: elements */
	size_t width; /* BITMUL: values per bit */
	int shift;    /* EDABIT, TRUNC: truncation shift */
	struct bilin bl;
};

struct corr_mat {
	struct corr_req req;
	uint64_t *buf; /* one allocation; the pointers below point into it */
	size_t len;
	/* BILIN: a = A, b = B, c = C. AND: a, b, c. BITMUL: a, sbits, s, sa */
	uint64_t *a, *b, *c;
	/* EDABIT (rbits) and TRUNC */
	uint64_t *r, *rbits, *rhi, *r63;
	/* BITMUL */
	uint64_t *sbits, *s, *sa;
};

void corr_req_bilin(struct corr_req *q, const struct bilin *bl);
void corr_req_and(struct corr_req *q, size_t words);
void corr_req_edabit(struct corr_req *q, size_t n, int shift);
void corr_req_bitmul(struct corr_req *q, size_t n, size_t width);
void corr_req_trunc(struct corr_req *q, size_t n, int shift);
int corr_req_same(const struct corr_req *a, const struct corr_req *b);
const char *corr_kind_name(enum corr_kind k);

/* Words of material one party holds, and of the correction for party n-1. */
size_t corr_mat_len(const struct corr_req *q);
size_t corr_fix_len(const struct corr_req *q);

int corr_mat_alloc(struct corr_mat *m, const struct corr_req *q) MPC_MUST_CHECK;
/* Wipes then frees; accepts an empty mat. */
void corr_mat_free(struct corr_mat *m);

/* Party side: expand from this party's PRG (inputs; outputs unless last). */
void corr_expand(struct corr_mat *m, struct prg *g, int last);
/* Party n-1: where the dealer's correction (corr_fix_len words) goes. */
uint64_t *corr_fix_part(struct corr_mat *m);
/* Party n-1: install the dealer's correction (corr_fix_len words). */
void corr_fix_apply(struct corr_mat *m, const uint64_t *fix);

/*
 * Dealer side: with the n parties' PRGs (advanced exactly as the parties
 * advance theirs), compute the correction for party n-1 into fix.
 */
int corr_deal(const struct corr_req *q, struct prg *party, int n,
	      uint64_t *fix) MPC_MUST_CHECK;

#endif

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
 *   MAND         a_v for each variable     the product of every subset
 *                (XOR, vars x n words)     (2+ variables) of each monomial
 *                                          of the shape (XOR, prods x n)
 *   WMASK        B (n): a weight's mask    (none)
 *   BILIN_KB     A [x]                     C = L(A, B) [z], B the WMASK
 *                                          of the same slot
 *
 * EDABIT feeds comparison (protocol/cmp.c), TRUNC truncation alone; BITMUL turns a
 * shared bit into a product with arithmetic shares in one opening. MAND
 * evaluates several many-input ANDs over the same variables in one
 * opening (d_v = x_v ^ a_v): the 4-way prefix combine of the comparison
 * tree, and the AND of three bits.
 *
 * WMASK and BILIN_KB split a bilinear triple whose second operand is a
 * weight when the job runs in chunks of rows: the weight's mask B is made
 * once per job (its F = W - B opened once), and each chunk takes a fresh
 * A with C = L(A, B) for the same B. The dealer keeps B in the clear
 * (corr_deal_wmask) and corrects each chunk's C with it (corr_deal_kb);
 * `slot` ties a BILIN_KB to its WMASK (the layer's node index).
 */
enum corr_mand_shape {
	/* vars p3 p2 p1 p0 g2 g1 g0; monomials p3g2, p3p2g1, p3p2p1g0, p3p2p1p0 */
	MAND_PREFIX4,
	/* vars x y z; monomial xyz */
	MAND_AND3,
	MAND_SHAPES_
};
#define MAND_MAX_VARS 7
#define MAND_MAX_MONOS 4
int corr_mand_vars(enum corr_mand_shape sh);
int corr_mand_monos(enum corr_mand_shape sh, const uint8_t **monos);
/* Product planes of a shape, and the plane of one subset (-1: not kept). */
int corr_mand_prods(enum corr_mand_shape sh);
int corr_mand_index(enum corr_mand_shape sh, unsigned mask);
/* The same for every mask at once: idx[mask], 1 << MAND_MAX_VARS entries. */
void corr_mand_indices(enum corr_mand_shape sh, int *idx);
enum corr_kind {
	CORR_BILIN, CORR_AND, CORR_EDABIT, CORR_BITMUL, CORR_TRUNC, CORR_MAND,
	CORR_WMASK, CORR_BILIN_KB
};

struct corr_req {
	enum corr_kind kind;
	size_t n;     /* AND, MAND: words (lanes); EDABIT, BITMUL, TRUNC, WMASK: elements */
	size_t width; /* BITMUL: values per bit */
	int shift;    /* EDABIT, TRUNC: truncation shift; MAND: the shape */
	struct bilin bl;
	size_t slot;  /* WMASK, BILIN_KB: the weight mask's slot */
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
	/* MAND: a = the variables' masks, c = the products (planes of n words) */
};

void corr_req_bilin(struct corr_req *q, const struct bilin *bl);
void corr_req_and(struct corr_req *q, size_t words);
void corr_req_edabit(struct corr_req *q, size_t n, int shift);
void corr_req_bitmul(struct corr_req *q, size_t n, size_t width);
void corr_req_mand(struct corr_req *q, enum corr_mand_shape sh, size_t lanes);
void corr_req_trunc(struct corr_req *q, size_t n, int shift);
void corr_req_wmask(struct corr_req *q, size_t n, size_t slot);
void corr_req_bilin_kb(struct corr_req *q, const struct bilin *bl, size_t slot);
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
/* WMASK: no correction; B in the clear (q->n words) into b, for the job. */
int corr_deal_wmask(const struct corr_req *q, struct prg *party, int n,
		    uint64_t *b) MPC_MUST_CHECK;
/* BILIN_KB: the correction of C = L(A, B) with the kept clear B. */
int corr_deal_kb(const struct corr_req *q, struct prg *party, int n, const uint64_t *b,
		 uint64_t *fix) MPC_MUST_CHECK;

#endif

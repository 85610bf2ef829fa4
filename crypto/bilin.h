/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
#ifndef MPC_BILIN_H
#define MPC_BILIN_H

#include <stddef.h>
#include <stdint.h>

/*
 * Bilinear maps Z = L(X, Y) over Z_2^64: matrix product, 2-D convolution
 * and broadcast element-wise product. One Beaver construction serves all
 * three: with a triple (A, B, C = L(A, B)) of X's and Y's shapes, opening
 * E = X - A and F = Y - B costs the size of the operands, never the number
 * of multiplications. The dealer computes C with the same kernels.
 */
#define BILIN_MAX_DIMS 8

enum bilin_kind {
	BILIN_MATMUL, /* X [batch, m, k] . Y [batch, k, p] -> [batch, m, p] */
	BILIN_CONV2D, /* X [N, C, H, W] * Y [M, C/g, kh, kw] -> [N, M, OH, OW] */
	BILIN_MUL,    /* X, Y broadcast to Z's shape (numpy rules) */
};

struct bilin {
	enum bilin_kind kind;
	/* MATMUL: batch 0 means one product (bilin_matmul) */
	size_t m, k, p, batch;
	/* CONV2D */
	size_t n, c, h, w, mo, kh, kw, oh, ow;
	int sh, sw, dh, dw, pt, pl, group;
	/* MUL: output shape; operand shapes right-aligned, 1 = broadcast */
	int ndim;
	int64_t zd[BILIN_MAX_DIMS], xd[BILIN_MAX_DIMS], yd[BILIN_MAX_DIMS];
};

size_t bilin_x_len(const struct bilin *b);
size_t bilin_y_len(const struct bilin *b);
size_t bilin_z_len(const struct bilin *b);
/* Scratch elements bilin_apply needs (im2col buffer); 0 for others. */
size_t bilin_scratch_len(const struct bilin *b);

/*
 * Z = L(X, Y), or Z += L(X, Y) with acc. scratch has bilin_scratch_len()
 * elements (may be NULL when that is 0).
 */
void bilin_apply(const struct bilin *b, const uint64_t *x, const uint64_t *y,
		 uint64_t *z, int acc, uint64_t *scratch);

/* Equal descriptors (so a triple made for one is valid for the other). */
int bilin_same(const struct bilin *a, const struct bilin *b);

/* Builders; return 0 or MPC_E_SHAPE / MPC_E_TOOBIG with a message. */
int bilin_matmul(struct bilin *b, size_t m, size_t k, size_t p);
/* batch independent products, slice by slice: one triple, one round for all. */
int bilin_bmatmul(struct bilin *b, size_t batch, size_t m, size_t k, size_t p);
int bilin_conv2d(struct bilin *b, size_t n, size_t c, size_t h, size_t w,
		 size_t mo, size_t kh, size_t kw, const int strides[2],
		 const int pads[4], const int dil[2], int group);
int bilin_mul(struct bilin *b, int ndim, const int64_t *zd, int xnd,
	      const int64_t *xd, int ynd, const int64_t *yd);

#endif

/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
#ifndef MPC_RING_H
#define MPC_RING_H

#include <stddef.h>
#include <stdint.h>

/*
 * Whole-array arithmetic in Z_2^64 (uint64_t, wrap-around). Output may
 * alias an input in the element-wise functions.
 */
void ring_add(uint64_t *z, const uint64_t *x, const uint64_t *y, size_t n);
void ring_sub(uint64_t *z, const uint64_t *x, const uint64_t *y, size_t n);
void ring_neg(uint64_t *z, const uint64_t *x, size_t n);
void ring_scale(uint64_t *z, const uint64_t *x, uint64_t c, size_t n);
/* z += c * x */
void ring_axpy(uint64_t *z, const uint64_t *x, uint64_t c, size_t n);
void ring_mul(uint64_t *z, const uint64_t *x, const uint64_t *y, size_t n);
void ring_xor(uint64_t *z, const uint64_t *x, const uint64_t *y, size_t n);
void ring_and(uint64_t *z, const uint64_t *x, const uint64_t *y, size_t n);

/*
 * C (m x p) = A (m x k) . B (k x p), row-major; with acc != 0, C += A.B.
 * Cache-blocked; C must not alias A or B.
 */
void ring_matmul(uint64_t *c, const uint64_t *a, const uint64_t *b,
		 size_t m, size_t k, size_t p, int acc);
/*
 * The same on the calling thread alone: ring_matmul splits large products
 * over the pool (crypto/pool.h), which callers already running on it in
 * parallel do not want.
 */
void ring_matmul_st(uint64_t *c, const uint64_t *a, const uint64_t *b,
		    size_t m, size_t k, size_t p, int acc);

/* B (cols x rows) = A^T for A (rows x cols); no aliasing. */
void ring_transpose(uint64_t *b, const uint64_t *a, size_t rows, size_t cols);

/*
 * Storage for tensors and correlated randomness. Large buffers are mapped
 * as transparent huge pages and kept in a small process-wide cache when
 * released, since first-touch page faults and zeroing of fresh memory
 * otherwise dominate large layers. Not zeroed; release with ring_free()
 * and the same size. Thread-safe.
 */
void *ring_alloc(size_t bytes);
void ring_free(void *p, size_t bytes);
/*
 * At most this many bytes of released buffers stay cached (default 1
 * GiB): a job held to a memory budget counts them as held.
 */
void ring_cache_limit(size_t bytes);
/*
 * Unmap every cached mapping (up to 1 GiB kept for reuse by ring_free):
 * the daemon calls it when no job runs, so its RSS falls back after a
 * burst of jobs. Thread-safe.
 */
void ring_release_cache(void);

/*
 * Bit planes: for n elements, plane j (0..63) holds bit j of every element,
 * packed 64 elements to a word: planes[j * w + i / 64] bit (i % 64), with
 * w = ring_words(n). Padding bits of the last word are zero.
 */
static inline size_t ring_words(size_t n)
{
	return (n + 63) / 64;
}
void ring_to_planes(uint64_t *planes, const uint64_t *x, size_t n);
void ring_from_planes(uint64_t *x, const uint64_t *planes, size_t n);
/* One plane: bit `bit` of every x[i]. */
void ring_plane(uint64_t *plane, const uint64_t *x, size_t n, int bit);

#endif

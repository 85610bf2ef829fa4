/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
#include "ring.h"

#include <string.h>

void ring_add(uint64_t *z, const uint64_t *x, const uint64_t *y, size_t n)
{
	for (size_t i = 0; i < n; i++)
		z[i] = x[i] + y[i];
}

void ring_sub(uint64_t *z, const uint64_t *x, const uint64_t *y, size_t n)
{
	for (size_t i = 0; i < n; i++)
		z[i] = x[i] - y[i];
}

void ring_neg(uint64_t *z, const uint64_t *x, size_t n)
{
	for (size_t i = 0; i < n; i++)
		z[i] = -x[i];
}

void ring_scale(uint64_t *z, const uint64_t *x, uint64_t c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		z[i] = x[i] * c;
}

void ring_axpy(uint64_t *z, const uint64_t *x, uint64_t c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		z[i] += c * x[i];
}

void ring_mul(uint64_t *z, const uint64_t *x, const uint64_t *y, size_t n)
{
	for (size_t i = 0; i < n; i++)
		z[i] = x[i] * y[i];
}

void ring_xor(uint64_t *z, const uint64_t *x, const uint64_t *y, size_t n)
{
	for (size_t i = 0; i < n; i++)
		z[i] = x[i] ^ y[i];
}

void ring_and(uint64_t *z, const uint64_t *x, const uint64_t *y, size_t n)
{
	for (size_t i = 0; i < n; i++)
		z[i] = x[i] & y[i];
}

/*
 * Blocked i-k-j order: the inner loop streams one row of B and one row of
 * C, which the compiler vectorises; blocks keep a panel of B in L2.
 */
#define MM_BK 128
#define MM_BP 256

void ring_matmul(uint64_t *c, const uint64_t *a, const uint64_t *b,
		 size_t m, size_t k, size_t p, int acc)
{
	if (!acc)
		memset(c, 0, m * p * sizeof(*c));
	for (size_t k0 = 0; k0 < k; k0 += MM_BK) {
		size_t k1 = k0 + MM_BK < k ? k0 + MM_BK : k;

		for (size_t p0 = 0; p0 < p; p0 += MM_BP) {
			size_t p1 = p0 + MM_BP < p ? p0 + MM_BP : p;

			for (size_t i = 0; i < m; i++) {
				uint64_t *restrict ci = c + i * p;
				const uint64_t *ai = a + i * k;

				for (size_t kk = k0; kk < k1; kk++) {
					const uint64_t *restrict bk = b + kk * p;
					uint64_t av = ai[kk];

					for (size_t j = p0; j < p1; j++)
						ci[j] += av * bk[j];
				}
			}
		}
	}
}

void ring_transpose(uint64_t *b, const uint64_t *a, size_t rows, size_t cols)
{
	for (size_t i = 0; i < rows; i++)
		for (size_t j = 0; j < cols; j++)
			b[j * rows + i] = a[i * cols + j];
}

void ring_plane(uint64_t *plane, const uint64_t *x, size_t n, int bit)
{
	size_t w = ring_words(n);

	for (size_t i = 0; i < w; i++) {
		size_t base = i * 64, lim = n - base < 64 ? n - base : 64;
		uint64_t v = 0;

		for (size_t b = 0; b < lim; b++)
			v |= ((x[base + b] >> bit) & 1) << b;
		plane[i] = v;
	}
}

void ring_to_planes(uint64_t *planes, const uint64_t *x, size_t n)
{
	size_t w = ring_words(n);

	memset(planes, 0, 64 * w * sizeof(*planes));
	for (size_t i = 0; i < n; i++) {
		uint64_t v = x[i], m = (uint64_t)1 << (i % 64);
		size_t wi = i / 64;

		for (int j = 0; j < 64; j++)
			planes[(size_t)j * w + wi] |= ((v >> j) & 1) ? m : 0;
	}
}

void ring_from_planes(uint64_t *x, const uint64_t *planes, size_t n)
{
	size_t w = ring_words(n);

	for (size_t i = 0; i < n; i++) {
		uint64_t v = 0;
		size_t wi = i / 64, b = i % 64;

		for (int j = 0; j < 64; j++)
			v |= ((planes[(size_t)j * w + wi] >> b) & 1) << j;
		x[i] = v;
	}
}

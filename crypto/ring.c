/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
#include "ring.h"

#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/mman.h>

#define HUGE_ALIGN ((size_t)2 << 20)
#define PAGE_ALIGN ((size_t)4096)
/*
 * From 64 KiB every buffer is a cached mapping: glibc returns freed
 * memory of threads' arenas to the kernel, and every fresh page costs a
 * fault and a clear (a ReLU layer spent a quarter of its time there).
 * From 1 MiB the mappings are huge pages.
 */
#define BIG_MIN ((size_t)64 << 10)
#define HUGE_MIN (HUGE_ALIGN / 2)
#define BIG_HDR 64 /* the mapping's length, in front of the caller's bytes */
#define CACHE_SLOTS 1024
#define CACHE_MAX_BYTES ((size_t)1 << 30)

/* Released big mappings, reused for requests from half their size up. */
static struct {
	pthread_mutex_t mu;
	void *p[CACHE_SLOTS];
	size_t len[CACHE_SLOTS];
	size_t bytes;
} cache = { .mu = PTHREAD_MUTEX_INITIALIZER };

void *ring_alloc(size_t bytes)
{
	size_t align = bytes >= HUGE_MIN ? HUGE_ALIGN : PAGE_ALIGN;
	size_t len = (bytes + BIG_HDR + align - 1) & ~(align - 1);
	uint8_t *p = NULL;
	int best = -1;

	if (bytes < BIG_MIN)
		return malloc(bytes ? bytes : 1);
	pthread_mutex_lock(&cache.mu);
	for (int i = 0; i < CACHE_SLOTS; i++)
		if (cache.p[i] && cache.len[i] >= len && cache.len[i] <= 2 * len &&
		    (best < 0 || cache.len[i] < cache.len[best]))
			best = i;
	if (best >= 0) {
		p = cache.p[best];
		cache.p[best] = NULL;
		cache.bytes -= cache.len[best];
	}
	pthread_mutex_unlock(&cache.mu);
	if (!p) {
		p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return NULL;
		if (align == HUGE_ALIGN)
			madvise(p, len, MADV_HUGEPAGE);
		memcpy(p, &len, sizeof(len));
	}
	return p + BIG_HDR;
}

void ring_free(void *ptr, size_t bytes)
{
	uint8_t *p;
	size_t len;
	int slot = -1;

	if (!ptr)
		return;
	if (bytes < BIG_MIN) {
		free(ptr);
		return;
	}
	p = (uint8_t *)ptr - BIG_HDR;
	memcpy(&len, p, sizeof(len));
	pthread_mutex_lock(&cache.mu);
	for (int i = 0; i < CACHE_SLOTS && slot < 0; i++)
		if (!cache.p[i])
			slot = i;
	/* Full: drop the smallest cached mapping if this one is larger. */
	if (slot < 0) {
		int small = 0;

		for (int i = 1; i < CACHE_SLOTS; i++)
			if (cache.len[i] < cache.len[small])
				small = i;
		if (cache.len[small] < len) {
			munmap(cache.p[small], cache.len[small]);
			cache.bytes -= cache.len[small];
			cache.p[small] = NULL;
			slot = small;
		}
	}
	while (slot >= 0 && cache.bytes + len > CACHE_MAX_BYTES) {
		int big = -1;

		for (int i = 0; i < CACHE_SLOTS; i++)
			if (cache.p[i] && (big < 0 || cache.len[i] > cache.len[big]))
				big = i;
		if (big < 0)
			break;
		munmap(cache.p[big], cache.len[big]);
		cache.bytes -= cache.len[big];
		cache.p[big] = NULL;
	}
	if (slot >= 0 && cache.bytes + len <= CACHE_MAX_BYTES) {
		cache.p[slot] = p;
		cache.len[slot] = len;
		cache.bytes += len;
		p = NULL;
	}
	pthread_mutex_unlock(&cache.mu);
	if (p)
		munmap(p, len);
}

void ring_release_cache(void)
{
	pthread_mutex_lock(&cache.mu);
	for (int i = 0; i < CACHE_SLOTS; i++)
		if (cache.p[i]) {
			munmap(cache.p[i], cache.len[i]);
			cache.p[i] = NULL;
		}
	cache.bytes = 0;
	pthread_mutex_unlock(&cache.mu);
}

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
 * Blocked i-k-j order: the inner loop streams one row of B into four rows
 * of C at once (each B element loaded once for four products, which the
 * compiler vectorises); blocks keep a panel of B in L2. About 4x the
 * throughput of one row at a time here.
 */
#define MM_BK 128
#define MM_BP 256

static void mm_rows4(uint64_t *c, const uint64_t *a, const uint64_t *b, size_t k,
		     size_t p, size_t k0, size_t k1, size_t p0, size_t p1)
{
	uint64_t *restrict c0 = c, *restrict c1 = c0 + p, *restrict c2 = c1 + p;
	uint64_t *restrict c3 = c2 + p;
	const uint64_t *a0 = a, *a1 = a0 + k, *a2 = a1 + k, *a3 = a2 + k;

	for (size_t kk = k0; kk < k1; kk++) {
		const uint64_t *restrict bk = b + kk * p;
		uint64_t v0 = a0[kk], v1 = a1[kk], v2 = a2[kk], v3 = a3[kk];

		for (size_t j = p0; j < p1; j++) {
			uint64_t bv = bk[j];

			c0[j] += v0 * bv;
			c1[j] += v1 * bv;
			c2[j] += v2 * bv;
			c3[j] += v3 * bv;
		}
	}
}

void ring_matmul(uint64_t *c, const uint64_t *a, const uint64_t *b,
		 size_t m, size_t k, size_t p, int acc)
{
	if (!acc)
		memset(c, 0, m * p * sizeof(*c));
	for (size_t k0 = 0; k0 < k; k0 += MM_BK) {
		size_t k1 = k0 + MM_BK < k ? k0 + MM_BK : k;

		for (size_t p0 = 0; p0 < p; p0 += MM_BP) {
			size_t p1 = p0 + MM_BP < p ? p0 + MM_BP : p;
			size_t i = 0;

			for (; i + 4 <= m; i += 4)
				mm_rows4(c + i * p, a + i * k, b, k, p, k0, k1, p0, p1);
			for (; i < m; i++) {
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

/*
 * In-place transpose of a 64x64 bit matrix (out[j] bit i = in[i] bit j):
 * six stages of masked swaps, 6 x 32 word operations instead of 4096 bit
 * moves. Bit-slicing whole layers goes through here.
 */
static void transpose64(uint64_t a[64])
{
	uint64_t m = 0x00000000FFFFFFFFULL;

	/* Pairs (k, k + j) for k with bit j clear: runs of j, so they vectorise. */
	for (int j = 32; j != 0; j >>= 1, m ^= m << j) {
		uint64_t mj = m << j;

		for (int base = 0; base < 64; base += 2 * j)
			for (int k = base; k < base + j; k++) {
				uint64_t t = (a[k] ^ (a[k + j] << j)) & mj;

				a[k] ^= t;
				a[k + j] ^= t >> j;
			}
	}
}

void ring_to_planes(uint64_t *planes, const uint64_t *x, size_t n)
{
	size_t w = ring_words(n);
	uint64_t a[64];

	for (size_t b = 0; b < w; b++) {
		size_t base = b * 64, lim = n - base < 64 ? n - base : 64;

		memcpy(a, x + base, lim * sizeof(*a));
		memset(a + lim, 0, (64 - lim) * sizeof(*a));
		transpose64(a);
		for (int j = 0; j < 64; j++)
			planes[(size_t)j * w + b] = a[j];
	}
}

void ring_from_planes(uint64_t *x, const uint64_t *planes, size_t n)
{
	size_t w = ring_words(n);
	uint64_t a[64];

	for (size_t b = 0; b < w; b++) {
		size_t base = b * 64, lim = n - base < 64 ? n - base : 64;

		for (int j = 0; j < 64; j++)
			a[j] = planes[(size_t)j * w + b];
		transpose64(a);
		memcpy(x + base, a, lim * sizeof(*a));
	}
}

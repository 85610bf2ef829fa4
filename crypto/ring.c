/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
#include "ring.h"

#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/mman.h>

#include "pool.h"

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
	size_t max; /* 0: CACHE_MAX_BYTES */
} cache = { .mu = PTHREAD_MUTEX_INITIALIZER };

void ring_cache_limit(size_t bytes)
{
	pthread_mutex_lock(&cache.mu);
	cache.max = bytes ? bytes : 1;
	pthread_mutex_unlock(&cache.mu);
}

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
	size_t len, max;
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
	max = cache.max ? cache.max : CACHE_MAX_BYTES;
	while (slot >= 0 && cache.bytes + len > max) {
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
	if (slot >= 0 && cache.bytes + len <= max) {
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

/* Rows [i0, i1) and columns [p0, p1) of C; columns in MM_BP blocks. */
static void mm_part(uint64_t *c, const uint64_t *a, const uint64_t *b, size_t k,
		    size_t p, size_t i0, size_t i1, size_t j0, size_t j1)
{
	for (size_t k0 = 0; k0 < k; k0 += MM_BK) {
		size_t k1 = k0 + MM_BK < k ? k0 + MM_BK : k;

		for (size_t p0 = j0; p0 < j1; p0 += MM_BP) {
			size_t p1 = p0 + MM_BP < j1 ? p0 + MM_BP : j1;
			size_t i = i0;

			for (; i + 4 <= i1; i += 4)
				mm_rows4(c + i * p, a + i * k, b, k, p, k0, k1, p0, p1);
			for (; i < i1; i++) {
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

void ring_matmul_st(uint64_t *c, const uint64_t *a, const uint64_t *b,
		    size_t m, size_t k, size_t p, int acc)
{
	if (!acc)
		memset(c, 0, m * p * sizeof(*c));
	mm_part(c, a, b, k, p, 0, m, 0, p);
}

struct mm_job {
	uint64_t *c;
	const uint64_t *a, *b;
	size_t m, k, p;
	int acc, by_rows;
};

/* Items are groups of 4 rows, or of 8 columns when C has few rows. */
#define MM_ROWS 4
#define MM_COLS 8

static int mm_range(void *arg, size_t lo, size_t hi)
{
	const struct mm_job *j = arg;
	size_t i0 = 0, i1 = j->m, j0 = 0, j1 = j->p;

	if (j->by_rows) {
		i0 = lo * MM_ROWS;
		i1 = hi * MM_ROWS < j->m ? hi * MM_ROWS : j->m;
	} else {
		j0 = lo * MM_COLS;
		j1 = hi * MM_COLS < j->p ? hi * MM_COLS : j->p;
	}
	if (!j->acc)
		for (size_t i = i0; i < i1; i++)
			memset(j->c + i * j->p + j0, 0, (j1 - j0) * sizeof(*j->c));
	mm_part(j->c, j->a, j->b, j->k, j->p, i0, i1, j0, j1);
	return 0;
}

void ring_matmul(uint64_t *c, const uint64_t *a, const uint64_t *b,
		 size_t m, size_t k, size_t p, int acc)
{
	struct mm_job j = { c, a, b, m, k, p, acc, m >= 2 * MM_ROWS };
	size_t items, per;

	/* Each output is the same sum in the same order, whatever the split. */
	if (m * k * p < 2 * POOL_MIN_WORK || pool_threads() < 2) {
		ring_matmul_st(c, a, b, m, k, p, acc);
		return;
	}
	items = j.by_rows ? (m + MM_ROWS - 1) / MM_ROWS : (p + MM_COLS - 1) / MM_COLS;
	per = j.by_rows ? MM_ROWS * k * p : MM_COLS * k * m;
	pool_run(items, pool_grain(POOL_MIN_WORK, per), mm_range, &j);
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

/* Blocks of 64 elements per range of a plane conversion. */
#define PLANES_MIN_BLOCKS 256

struct planes_job {
	uint64_t *x, *planes;
	const uint64_t *cx, *cplanes;
	size_t n;
};

static int to_planes_range(void *arg, size_t lo, size_t hi)
{
	const struct planes_job *j = arg;
	size_t w = ring_words(j->n);
	uint64_t a[64];

	for (size_t b = lo; b < hi; b++) {
		size_t base = b * 64, lim = j->n - base < 64 ? j->n - base : 64;

		memcpy(a, j->cx + base, lim * sizeof(*a));
		memset(a + lim, 0, (64 - lim) * sizeof(*a));
		transpose64(a);
		for (int k = 0; k < 64; k++)
			j->planes[(size_t)k * w + b] = a[k];
	}
	return 0;
}

static int from_planes_range(void *arg, size_t lo, size_t hi)
{
	const struct planes_job *j = arg;
	size_t w = ring_words(j->n);
	uint64_t a[64];

	for (size_t b = lo; b < hi; b++) {
		size_t base = b * 64, lim = j->n - base < 64 ? j->n - base : 64;

		for (int k = 0; k < 64; k++)
			a[k] = j->cplanes[(size_t)k * w + b];
		transpose64(a);
		memcpy(j->x + base, a, lim * sizeof(*a));
	}
	return 0;
}

void ring_to_planes(uint64_t *planes, const uint64_t *x, size_t n)
{
	pool_run(ring_words(n), PLANES_MIN_BLOCKS, to_planes_range,
		 &(struct planes_job){ .planes = planes, .cx = x, .n = n });
}

void ring_from_planes(uint64_t *x, const uint64_t *planes, size_t n)
{
	pool_run(ring_words(n), PLANES_MIN_BLOCKS, from_planes_range,
		 &(struct planes_job){ .x = x, .cplanes = planes, .n = n });
}

/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
#include "bilin.h"

#include <pthread.h>
#include <sodium.h>
#include <string.h>

#include "err.h"
#include "pool.h"
#include "ring.h"

/* Operands above this many elements are refused (2^31 words = 16 GiB). */
#define BILIN_MAX_ELEMS ((size_t)1 << 31)

static int mul_ok(size_t a, size_t b, size_t *r)
{
	if (a && b > BILIN_MAX_ELEMS / a)
		return 0;
	*r = a * b;
	return *r <= BILIN_MAX_ELEMS;
}

static size_t nbatch(const struct bilin *b)
{
	return b->batch ? b->batch : 1;
}

size_t bilin_x_len(const struct bilin *b)
{
	size_t n = 1;

	switch (b->kind) {
	case BILIN_MATMUL:
		return nbatch(b) * b->m * b->k;
	case BILIN_CONV2D:
		return b->n * b->c * b->h * b->w;
	case BILIN_MUL:
		for (int i = 0; i < b->ndim; i++)
			n *= (size_t)b->xd[i];
		return n;
	}
	return 0;
}

size_t bilin_y_len(const struct bilin *b)
{
	size_t n = 1;

	switch (b->kind) {
	case BILIN_MATMUL:
		return nbatch(b) * b->k * b->p;
	case BILIN_CONV2D:
		return b->mo * (b->c / (size_t)b->group) * b->kh * b->kw;
	case BILIN_MUL:
		for (int i = 0; i < b->ndim; i++)
			n *= (size_t)b->yd[i];
		return n;
	}
	return 0;
}

size_t bilin_z_len(const struct bilin *b)
{
	size_t n = 1;

	switch (b->kind) {
	case BILIN_MATMUL:
		return nbatch(b) * b->m * b->p;
	case BILIN_CONV2D:
		return b->n * b->mo * b->oh * b->ow;
	case BILIN_MUL:
		for (int i = 0; i < b->ndim; i++)
			n *= (size_t)b->zd[i];
		return n;
	}
	return 0;
}

size_t bilin_scratch_len(const struct bilin *b)
{
	if (b->kind != BILIN_CONV2D)
		return 0;
	return (b->c / (size_t)b->group) * b->kh * b->kw * b->oh * b->ow;
}

int bilin_same(const struct bilin *a, const struct bilin *b)
{
	return !memcmp(a, b, sizeof(*a));
}

int bilin_matmul(struct bilin *b, size_t m, size_t k, size_t p)
{
	size_t t;

	memset(b, 0, sizeof(*b));
	b->kind = BILIN_MATMUL;
	b->m = m;
	b->k = k;
	b->p = p;
	if (!mul_ok(m, k, &t) || !mul_ok(k, p, &t) || !mul_ok(m, p, &t))
		return mpc_fail(MPC_E_TOOBIG, "matmul [%zu, %zu] x [%zu, %zu] too large",
				m, k, k, p);
	return 0;
}

int bilin_bmatmul(struct bilin *b, size_t batch, size_t m, size_t k, size_t p)
{
	size_t t;
	int ret;

	if ((ret = bilin_matmul(b, m, k, p)) != 0)
		return ret;
	b->batch = batch;
	if (!mul_ok(batch, m * k, &t) || !mul_ok(batch, k * p, &t) || !mul_ok(batch, m * p, &t))
		return mpc_fail(MPC_E_TOOBIG, "%zu matmuls [%zu, %zu] x [%zu, %zu] too large",
				batch, m, k, k, p);
	return 0;
}

int bilin_conv2d(struct bilin *b, size_t n, size_t c, size_t h, size_t w,
		 size_t mo, size_t kh, size_t kw, const int strides[2],
		 const int pads[4], const int dil[2], int group)
{
	long eh, ew, oh, ow;
	size_t t;

	memset(b, 0, sizeof(*b));
	b->kind = BILIN_CONV2D;
	if (group < 1 || c % (size_t)group || mo % (size_t)group || !kh || !kw ||
	    strides[0] < 1 || strides[1] < 1 || dil[0] < 1 || dil[1] < 1 ||
	    pads[0] < 0 || pads[1] < 0 || pads[2] < 0 || pads[3] < 0)
		return mpc_fail(MPC_E_SHAPE, "conv: bad group, kernel, stride, dilation or pads");
	eh = (long)dil[0] * (long)(kh - 1) + 1;
	ew = (long)dil[1] * (long)(kw - 1) + 1;
	oh = ((long)h + pads[0] + pads[2] - eh) / strides[0] + 1;
	ow = ((long)w + pads[1] + pads[3] - ew) / strides[1] + 1;
	if ((long)h + pads[0] + pads[2] < eh || (long)w + pads[1] + pads[3] < ew ||
	    oh < 1 || ow < 1)
		return mpc_fail(MPC_E_SHAPE, "conv: kernel %zux%zu larger than padded input %zux%zu",
				kh, kw, h, w);
	b->n = n;
	b->c = c;
	b->h = h;
	b->w = w;
	b->mo = mo;
	b->kh = kh;
	b->kw = kw;
	b->oh = (size_t)oh;
	b->ow = (size_t)ow;
	b->sh = strides[0];
	b->sw = strides[1];
	b->dh = dil[0];
	b->dw = dil[1];
	b->pt = pads[0];
	b->pl = pads[1];
	b->group = group;
	if (!mul_ok(n * c, h * w, &t) || !mul_ok(n * mo, b->oh * b->ow, &t) ||
	    !mul_ok(c * kh * kw, b->oh * b->ow, &t))
		return mpc_fail(MPC_E_TOOBIG, "conv too large");
	return 0;
}

int bilin_mul(struct bilin *b, int ndim, const int64_t *zd, int xnd,
	      const int64_t *xd, int ynd, const int64_t *yd)
{
	size_t t = 1;

	memset(b, 0, sizeof(*b));
	b->kind = BILIN_MUL;
	if (ndim < 0 || ndim > BILIN_MAX_DIMS || xnd > ndim || ynd > ndim ||
	    xnd < 0 || ynd < 0)
		return mpc_fail(MPC_E_SHAPE, "mul: bad ranks");
	b->ndim = ndim;
	for (int i = 0; i < ndim; i++) {
		int xi = i - (ndim - xnd), yi = i - (ndim - ynd);

		b->zd[i] = zd[i];
		b->xd[i] = xi >= 0 ? xd[xi] : 1;
		b->yd[i] = yi >= 0 ? yd[yi] : 1;
		if (zd[i] < 0 || (b->xd[i] != zd[i] && b->xd[i] != 1) ||
		    (b->yd[i] != zd[i] && b->yd[i] != 1))
			return mpc_fail(MPC_E_SHAPE, "mul: operands do not broadcast");
		if (!mul_ok(t, (size_t)zd[i], &t))
			return mpc_fail(MPC_E_TOOBIG, "mul too large");
	}
	return 0;
}

static void conv_im2col(const struct bilin *b, const uint64_t *x, size_t ci0,
			uint64_t *col)
{
	size_t cg = b->c / (size_t)b->group, npix = b->oh * b->ow;

	for (size_t ci = 0; ci < cg; ci++) {
		const uint64_t *xc = x + (ci0 + ci) * b->h * b->w;

		for (size_t ki = 0; ki < b->kh; ki++) {
			for (size_t kj = 0; kj < b->kw; kj++) {
				uint64_t *row = col + ((ci * b->kh + ki) * b->kw + kj) * npix;

				for (size_t oy = 0; oy < b->oh; oy++) {
					long iy = (long)(oy * (size_t)b->sh) - b->pt +
						  (long)ki * b->dh;
					uint64_t *r = row + oy * b->ow;

					if (iy < 0 || iy >= (long)b->h) {
						memset(r, 0, b->ow * sizeof(*r));
						continue;
					}
					for (size_t ox = 0; ox < b->ow; ox++) {
						long ix = (long)(ox * (size_t)b->sw) - b->pl +
							  (long)kj * b->dw;

						r[ox] = (ix < 0 || ix >= (long)b->w) ? 0 :
							xc[(size_t)iy * b->w + (size_t)ix];
					}
				}
			}
		}
	}
}

/*
 * Images [n0, n1): im2col into col, then one product per group, which
 * may itself split over the pool when the images do not (split).
 */
static void conv_images(const struct bilin *b, const uint64_t *x, const uint64_t *y,
			uint64_t *z, int acc, uint64_t *col, size_t n0, size_t n1, int split)
{
	size_t g = (size_t)b->group, cg = b->c / g, mg = b->mo / g;
	size_t kk = cg * b->kh * b->kw, npix = b->oh * b->ow;

	for (size_t ni = n0; ni < n1; ni++) {
		const uint64_t *xn = x + ni * b->c * b->h * b->w;

		for (size_t gi = 0; gi < g; gi++) {
			uint64_t *zo = z + (ni * b->mo + gi * mg) * npix;

			conv_im2col(b, xn, gi * cg, col);
			(split ? ring_matmul : ring_matmul_st)(zo, y + gi * mg * kk, col,
							       mg, kk, npix, acc);
		}
	}
}

/*
 * Images in parallel, each range with its own im2col buffer (it holds a
 * copy of secret input: wiped). A range that cannot get one waits for
 * the caller's.
 */
struct conv_job {
	const struct bilin *b;
	const uint64_t *x, *y;
	uint64_t *z, *col;
	int acc;
	pthread_mutex_t mu; /* guards col */
};

static int conv_range(void *arg, size_t lo, size_t hi)
{
	struct conv_job *j = arg;
	size_t bytes = bilin_scratch_len(j->b) * sizeof(uint64_t);
	uint64_t *own = ring_alloc(bytes);

	if (!own) {
		pthread_mutex_lock(&j->mu);
		conv_images(j->b, j->x, j->y, j->z, j->acc, j->col, lo, hi, 0);
		pthread_mutex_unlock(&j->mu);
		return 0;
	}
	conv_images(j->b, j->x, j->y, j->z, j->acc, own, lo, hi, 0);
	sodium_memzero(own, bytes);
	ring_free(own, bytes);
	return 0;
}

static void apply_conv(const struct bilin *b, const uint64_t *x,
		       const uint64_t *y, uint64_t *z, int acc, uint64_t *col)
{
	size_t per = (b->mo / (size_t)b->group) * bilin_scratch_len(b);
	struct conv_job j = { .b = b, .x = x, .y = y, .z = z, .col = col, .acc = acc };

	if (b->n < 2 || pool_threads() < 2 || b->n * (size_t)b->group * per < 2 * POOL_MIN_WORK) {
		conv_images(b, x, y, z, acc, col, 0, b->n, 1);
		return;
	}
	pthread_mutex_init(&j.mu, NULL);
	pool_run(b->n, pool_grain(POOL_MIN_WORK, (size_t)b->group * per), conv_range, &j);
	pthread_mutex_destroy(&j.mu);
}

static void apply_mul(const struct bilin *b, const uint64_t *x,
		      const uint64_t *y, uint64_t *z, int acc)
{
	size_t xs[BILIN_MAX_DIMS], ys[BILIN_MAX_DIMS], sx = 1, sy = 1;
	size_t idx[BILIN_MAX_DIMS] = { 0 }, n = bilin_z_len(b), xo = 0, yo = 0;
	int d = b->ndim, plain = 1;

	/* No broadcasting: a straight loop the compiler vectorises. */
	for (int i = 0; i < d; i++)
		plain &= b->xd[i] == b->zd[i] && b->yd[i] == b->zd[i];
	if (plain) {
		if (acc)
			for (size_t i = 0; i < n; i++)
				z[i] += x[i] * y[i];
		else
			ring_mul(z, x, y, n);
		return;
	}

	for (int i = d - 1; i >= 0; i--) {
		xs[i] = b->xd[i] == 1 ? 0 : sx;
		ys[i] = b->yd[i] == 1 ? 0 : sy;
		sx *= (size_t)b->xd[i];
		sy *= (size_t)b->yd[i];
	}
	for (size_t i = 0; i < n; i++) {
		uint64_t v = x[xo] * y[yo];

		z[i] = acc ? z[i] + v : v;
		/* odometer over the output index, moving both operand offsets */
		for (int k = d - 1; k >= 0; k--) {
			idx[k]++;
			xo += xs[k];
			yo += ys[k];
			if (idx[k] < (size_t)b->zd[k])
				break;
			xo -= xs[k] * idx[k];
			yo -= ys[k] * idx[k];
			idx[k] = 0;
		}
	}
}

void bilin_apply(const struct bilin *b, const uint64_t *x, const uint64_t *y,
		 uint64_t *z, int acc, uint64_t *scratch)
{
	switch (b->kind) {
	case BILIN_MATMUL:
		for (size_t i = 0; i < nbatch(b); i++)
			ring_matmul(z + i * b->m * b->p, x + i * b->m * b->k, y + i * b->k * b->p,
				    b->m, b->k, b->p, acc);
		return;
	case BILIN_CONV2D:
		apply_conv(b, x, y, z, acc, scratch);
		return;
	case BILIN_MUL:
		apply_mul(b, x, y, z, acc);
		return;
	}
	mpc_bug("unknown bilinear kind");
}

/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
#include <math.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "bilin.h"
#include "corr.h"
#include "fxp.h"
#include "prg.h"
#include "rd.h"
#include "ring.h"
#include "test.h"

TEST(rd_bounds)
{
	static const uint8_t buf[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 0x96, 0x01 };
	struct rd r;
	uint64_t v64;
	uint32_t v32;
	uint8_t b[4];

	rd_init(&r, buf, sizeof(buf));
	ASSERT_OK(rd_get_u32le(&r, &v32));
	ASSERT_EQ(v32, 0x04030201);
	ASSERT_EQ(rd_get_u64le(&r, &v64), MPC_E_SHORT);
	ASSERT_EQ(v64, 0);
	ASSERT_EQ(rd_left(&r), 7);
	ASSERT_OK(rd_get_bytes(&r, b, 4));
	ASSERT_EQ(b[3], 8);
	ASSERT_EQ(rd_end(&r), MPC_E_FORMAT);
	ASSERT_OK(rd_skip(&r, 1));
	ASSERT_OK(rd_get_varint(&r, &v64));
	ASSERT_EQ(v64, 150);
	ASSERT_OK(rd_end(&r));
	ASSERT_EQ(rd_get_u8(&r, b), MPC_E_SHORT);
	{
		static const uint8_t big[] = { 0xff, 0xff, 0xff, 0xff, 0xff,
					       0xff, 0xff, 0xff, 0xff, 0x7f };

		rd_init(&r, big, sizeof(big));
		ASSERT_EQ(rd_get_varint(&r, &v64), MPC_E_TOOBIG);
		ASSERT_EQ(rd_left(&r), sizeof(big));
	}
	return 0;
}

TEST(ring_planes_roundtrip)
{
	enum { N = 200 };
	uint64_t x[N], y[N], pl[64 * 4], one[4];
	struct prg g;
	uint8_t seed[PRG_SEEDBYTES] = { 7 };

	prg_init(&g, seed);
	prg_u64(&g, x, N);
	ring_to_planes(pl, x, N);
	ring_from_planes(y, pl, N);
	for (int i = 0; i < N; i++)
		ASSERT_U64_EQ(x[i], y[i]);
	ring_plane(one, x, N, 17);
	for (int i = 0; i < 4; i++)
		ASSERT_U64_EQ(one[i], pl[17 * 4 + i]);
	ASSERT_EQ(pl[63 * 4 + 3] >> (N % 64), 0);
	return 0;
}

TEST(ring_matmul_naive)
{
	size_t m = 37, k = 300, p = 290;
	uint64_t *a = malloc(m * k * 8), *b = malloc(k * p * 8);
	uint64_t *c = malloc(m * p * 8);
	struct prg g;
	uint8_t seed[PRG_SEEDBYTES] = { 1 };

	prg_init(&g, seed);
	prg_u64(&g, a, m * k);
	prg_u64(&g, b, k * p);
	ring_matmul(c, a, b, m, k, p, 0);
	for (size_t i = 0; i < m; i += 5)
		for (size_t j = 0; j < p; j += 7) {
			uint64_t s = 0;

			for (size_t t = 0; t < k; t++)
				s += a[i * k + t] * b[t * p + j];
			ASSERT_U64_EQ(c[i * p + j], s);
		}
	free(a);
	free(b);
	free(c);
	return 0;
}

TEST(fxp_roundtrip)
{
	float in[] = { 0.0f, 1.5f, -2.25f, 1234.5f, -0.0001f };
	uint64_t v[5];
	float out[5];
	double big = 1e20;

	ASSERT_OK(fxp_encode(v, in, 5, 16));
	fxp_decode(out, v, 5, 16);
	for (int i = 0; i < 5; i++)
		ASSERT_NEAR(out[i], in[i], 1.0 / 65536);
	ASSERT_U64_EQ(v[2], (uint64_t)(int64_t)(-2.25 * 65536));
	ASSERT_EQ(fxp_encode_d(v, &big, 1, 16), MPC_E_RANGE);
	ASSERT(strstr(mpc_errmsg(MPC_E_RANGE), "1e+20"));
	return 0;
}

TEST(prg_deterministic)
{
	uint8_t seed[PRG_SEEDBYTES] = { 3 };
	struct prg a, b;
	uint64_t x[100], y[100], z[100];

	prg_init(&a, seed);
	prg_init(&b, seed);
	prg_u64(&a, x, 100);
	prg_u64(&b, y, 100);
	ASSERT(!memcmp(x, y, sizeof(x)));
	prg_u64(&a, z, 100);
	ASSERT(memcmp(x, z, sizeof(x)));
	/* Known answer: first word of ChaCha20(key = 03 00.., nonce 0). */
	{
		uint8_t ks[8], nonce[8] = { 0 };

		crypto_stream_chacha20(ks, 8, nonce, seed);
		ASSERT(!memcmp(ks, x, 8));
	}
	return 0;
}

/* Whatever the length and the split (pieces, pool ranges): one keystream call's bytes. */
TEST(prg_fill_stream)
{
	static const size_t lens[] = { 1, 63, 64, 65, 16383, 16384, 16385, 200000,
				       (3 << 20) + 13 };
	uint8_t seed[PRG_SEEDBYTES] = { 5 }, nonce[8] = { 0 };
	uint8_t *a = malloc((3 << 20) + 13), *b = malloc((3 << 20) + 13);
	struct prg g;

	ASSERT(a && b);
	prg_init(&g, seed);
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		nonce[0] = (uint8_t)i; /* call i's nonce: the PRG's counter */
		prg_fill(&g, a, lens[i]);
		crypto_stream_chacha20(b, lens[i], nonce, seed);
		ASSERT(!memcmp(a, b, lens[i]));
	}
	free(a);
	free(b);
	return 0;
}

TEST(bilin_conv_naive)
{
	struct bilin bl;
	int st[2] = { 2, 1 }, pads[4] = { 1, 0, 2, 1 }, dil[2] = { 1, 2 };
	size_t N = 2, C = 4, H = 7, W = 6, M = 6, KH = 3, KW = 2, G = 2;
	uint64_t *x, *y, *z, *scr;
	struct prg g;
	uint8_t seed[PRG_SEEDBYTES] = { 9 };

	ASSERT_OK(bilin_conv2d(&bl, N, C, H, W, M, KH, KW, st, pads, dil, (int)G));
	x = malloc(bilin_x_len(&bl) * 8);
	y = malloc(bilin_y_len(&bl) * 8);
	z = malloc(bilin_z_len(&bl) * 8);
	scr = malloc(bilin_scratch_len(&bl) * 8);
	prg_init(&g, seed);
	prg_u64(&g, x, bilin_x_len(&bl));
	prg_u64(&g, y, bilin_y_len(&bl));
	bilin_apply(&bl, x, y, z, 0, scr);
	ASSERT_EQ(bl.oh, (7 + 1 + 2 - 3) / 2 + 1);
	ASSERT_EQ(bl.ow, (6 + 0 + 1 - 3) / 1 + 1);
	for (size_t n = 0; n < N; n++)
		for (size_t mo = 0; mo < M; mo++)
			for (size_t oy = 0; oy < bl.oh; oy++)
				for (size_t ox = 0; ox < bl.ow; ox++) {
					uint64_t s = 0;
					size_t cg = C / G, gi = mo / (M / G);

					for (size_t c = 0; c < cg; c++)
						for (size_t ky = 0; ky < KH; ky++)
							for (size_t kx = 0; kx < KW; kx++) {
								long iy = (long)(oy * 2) - 1 + (long)ky;
								long ix = (long)ox - 0 + (long)kx * 2;

								if (iy < 0 || iy >= (long)H || ix < 0 || ix >= (long)W)
									continue;
								s += x[((n * C + gi * cg + c) * H + (size_t)iy) * W + (size_t)ix] *
								     y[((mo * cg + c) * KH + ky) * KW + kx];
							}
					ASSERT_U64_EQ(z[((n * M + mo) * bl.oh + oy) * bl.ow + ox], s);
				}
	free(x);
	free(y);
	free(z);
	free(scr);
	return 0;
}

/* Dealer and parties agree: the shares of each kind reconstruct correctly. */
static void check_kind(const struct corr_req *q, int n)
{
	struct prg dealer_view[8], party[8];
	struct corr_mat mt[8], sum;
	uint64_t *fix = malloc((corr_fix_len(q) + 1) * 8);
	size_t w = ring_words(q->n);

	for (int i = 0; i < n; i++) {
		uint8_t seed[PRG_SEEDBYTES];

		randombytes_buf(seed, sizeof(seed));
		prg_init(&dealer_view[i], seed);
		prg_init(&party[i], seed);
	}
	ASSERT_OK(corr_deal(q, dealer_view, n, fix));
	for (int i = 0; i < n; i++) {
		ASSERT_OK(corr_mat_alloc(&mt[i], q));
		corr_expand(&mt[i], &party[i], i == n - 1);
	}
	corr_fix_apply(&mt[n - 1], fix);
	ASSERT_OK(corr_mat_alloc(&sum, q));
	memset(sum.buf, 0, sum.len * 8);
	switch (q->kind) {
	case CORR_BILIN: {
		size_t xl = bilin_x_len(&q->bl), yl = bilin_y_len(&q->bl), zl = bilin_z_len(&q->bl);
		uint64_t *c = calloc(zl, 8), *scr = calloc(bilin_scratch_len(&q->bl) + 1, 8);

		for (int i = 0; i < n; i++) {
			ring_add(sum.a, sum.a, mt[i].a, xl);
			ring_add(sum.b, sum.b, mt[i].b, yl);
			ring_add(sum.c, sum.c, mt[i].c, zl);
		}
		bilin_apply(&q->bl, sum.a, sum.b, c, 0, scr);
		for (size_t j = 0; j < zl; j++)
			ASSERT_U64_EQ(c[j], sum.c[j]);
		free(c);
		free(scr);
		break;
	}
	case CORR_AND:
		for (int i = 0; i < n; i++) {
			ring_xor(sum.a, sum.a, mt[i].a, q->n);
			ring_xor(sum.b, sum.b, mt[i].b, q->n);
			ring_xor(sum.c, sum.c, mt[i].c, q->n);
		}
		for (size_t j = 0; j < q->n; j++)
			ASSERT_U64_EQ(sum.a[j] & sum.b[j], sum.c[j]);
		break;
	case CORR_EDABIT:
	case CORR_TRUNC:
		for (int i = 0; i < n; i++) {
			ring_add(sum.r, sum.r, mt[i].r, q->n);
			ring_add(sum.rhi, sum.rhi, mt[i].rhi, q->n);
			ring_add(sum.r63, sum.r63, mt[i].r63, q->n);
			if (q->kind == CORR_EDABIT)
				ring_xor(sum.rbits, sum.rbits, mt[i].rbits, 64 * w);
		}
		for (size_t j = 0; j < q->n; j++) {
			ASSERT_U64_EQ(sum.rhi[j], sum.r[j] >> q->shift);
			ASSERT_U64_EQ(sum.r63[j], sum.r[j] >> 63);
		}
		if (q->kind == CORR_EDABIT) {
			uint64_t *back = malloc(q->n * 8);

			ring_from_planes(back, sum.rbits, q->n);
			for (size_t j = 0; j < q->n; j++)
				ASSERT_U64_EQ(back[j], sum.r[j]);
			free(back);
		}
		break;
	case CORR_BITMUL:
		for (int i = 0; i < n; i++) {
			ring_xor(sum.sbits, sum.sbits, mt[i].sbits, w);
			ring_add(sum.a, sum.a, mt[i].a, q->n * q->width);
			ring_add(sum.s, sum.s, mt[i].s, q->n);
			ring_add(sum.sa, sum.sa, mt[i].sa, q->n * q->width);
		}
		for (size_t j = 0; j < q->n; j++) {
			uint64_t s = (sum.sbits[j / 64] >> (j % 64)) & 1;

			ASSERT_U64_EQ(sum.s[j], s);
			for (size_t k = 0; k < q->width; k++)
				ASSERT_U64_EQ(sum.sa[j * q->width + k], s * sum.a[j * q->width + k]);
		}
		break;
	case CORR_MAND: {
		int vars = corr_mand_vars(q->shift), prods = corr_mand_prods(q->shift), seen = 0;

		for (int i = 0; i < n; i++)
			ring_xor(sum.buf, sum.buf, mt[i].buf, sum.len);
		for (unsigned mask = 0; mask < 1u << vars; mask++) {
			int k = corr_mand_index(q->shift, mask);

			if (k < 0)
				continue;
			ASSERT(k < prods);
			seen++;
			for (size_t j = 0; j < q->n; j++) {
				uint64_t t = ~(uint64_t)0;

				for (int v = 0; v < vars; v++)
					if (mask >> v & 1)
						t &= sum.a[(size_t)v * q->n + j];
				ASSERT_U64_EQ(sum.c[(size_t)k * q->n + j], t);
			}
		}
		ASSERT_EQ(seen, prods);
		break;
	}
	case CORR_WMASK:
	case CORR_BILIN_KB:
		TEST_FAIL("%s: dealt with the kept mask (tests/test_chunk.c)",
			  corr_kind_name(q->kind));
	}
	for (int i = 0; i < n; i++)
		corr_mat_free(&mt[i]);
	corr_mat_free(&sum);
	free(fix);
}

TEST(corr_dealer_all_kinds)
{
	struct corr_req q;
	struct bilin bl;
	int st[2] = { 1, 1 }, pads[4] = { 1, 1, 1, 1 }, dil[2] = { 1, 1 };

	for (int n = 2; n <= 4; n++) {
		ASSERT_OK(bilin_matmul(&bl, 5, 7, 3));
		corr_req_bilin(&q, &bl);
		check_kind(&q, n);
		ASSERT_OK(bilin_conv2d(&bl, 2, 3, 5, 5, 4, 3, 3, st, pads, dil, 1));
		corr_req_bilin(&q, &bl);
		check_kind(&q, n);
		corr_req_and(&q, 33);
		check_kind(&q, n);
		corr_req_edabit(&q, 130, 16);
		check_kind(&q, n);
		corr_req_trunc(&q, 77, 13);
		check_kind(&q, n);
		corr_req_bitmul(&q, 100, 3);
		check_kind(&q, n);
		corr_req_mand(&q, MAND_PREFIX4, 21);
		check_kind(&q, n);
		corr_req_mand(&q, MAND_AND3, 5);
		check_kind(&q, n);
	}
	/* p3g2, p3p2g1, p3p2p1g0, p3p2p1p0: every subset of 2+ of each. */
	ASSERT_EQ(corr_mand_prods(MAND_PREFIX4), 22);
	ASSERT_EQ(corr_mand_prods(MAND_AND3), 4);
	return 0;
}

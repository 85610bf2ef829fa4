/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * Plaintext file formats: ftensor helpers and .npy, on the public
 * fixtures, on hand-built files and on mutated bytes. CSV is in
 * test_csv.c, .safetensors in test_st.c; shared helpers in files_util.c.
 */
#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "files_util.h"
#include "ftensor.h"
#include "npy.h"
#include "test.h"

/* ---- ftensor ---------------------------------------------------------- */

TEST(ftensor_alloc_limits)
{
	int64_t d[FT_MAX_DIMS + 1] = { 2, 3, 4, 1, 1, 1, 1, 1, 1 };
	int64_t big[2] = { (int64_t)1 << 40, 1 }, ovf[3] = { INT64_MAX, 4, 4 };
	int64_t z[3] = { 0, INT64_MAX, INT64_MAX }, neg[2] = { 2, -1 };
	struct ftensor t;
	int ok;

	ASSERT_OK(ftensor_alloc(&t, 3, d));
	ASSERT_EQ(t.n, 24);
	ASSERT(t.data && t.data[23] == 0.0f);
	ftensor_free(&t);
	ASSERT(t.data == NULL && t.n == 0);
	ftensor_free(NULL);
	ASSERT_OK(ftensor_alloc(&t, 0, NULL));
	ASSERT_EQ(t.n, 1);
	ftensor_free(&t);
	ASSERT_OK(ftensor_alloc(&t, 3, z));
	ASSERT(t.n == 0 && t.data == NULL);
	ASSERT_FAIL(ftensor_alloc(&t, FT_MAX_DIMS + 1, d), MPC_E_SHAPE, "");
	ASSERT_FAIL(ftensor_alloc(&t, 2, neg), MPC_E_SHAPE, "negative");
	ASSERT_FAIL(ftensor_alloc(&t, 2, big), MPC_E_TOOBIG, "1099511627776");
	ASSERT(t.data == NULL && t.n == 0);
	ASSERT_FAIL(ftensor_alloc(&t, 3, ovf), MPC_E_TOOBIG, "");
	ASSERT_EQ(ftensor_count(3, ovf, &ok), 0);
	ASSERT_EQ(ok, 0);
	ASSERT_EQ(ftensor_count(2, neg, &ok), 0);
	ASSERT_EQ(ok, 0);
	ASSERT_EQ(ftensor_count(3, z, &ok), 0);
	ASSERT_EQ(ok, 1);
	ASSERT_EQ(ftensor_count(0, NULL, &ok), 1);
	ASSERT_EQ(ok, 1);
	return 0;
}

TEST(ftensor_shape_str)
{
	int64_t d[4] = { 64, 1, 8, 8 };
	char b[32], s[6];

	ASSERT(!strcmp(ftensor_shape_str(4, d, b, sizeof(b)), "[64, 1, 8, 8]"));
	ASSERT(!strcmp(ftensor_shape_str(0, d, b, sizeof(b)), "[]"));
	ASSERT(!strcmp(ftensor_shape_str(1, d, b, sizeof(b)), "[64]"));
	ftensor_shape_str(4, d, s, sizeof(s));
	ASSERT(strlen(s) < sizeof(s) && !strncmp(s, "[64,", 4));
	return 0;
}

TEST(ftensor_concat_axes)
{
	int64_t a[3] = { 2, 3, 4 }, b[3] = { 2, 1, 4 }, c[3] = { 3, 3, 4 };
	struct ftensor p[2], o;
	size_t i, j, k;

	ASSERT_OK(ftensor_alloc(&p[0], 3, a));
	ASSERT_OK(ftensor_alloc(&p[1], 3, b));
	fill_seq(&p[0], 0);
	fill_seq(&p[1], 100);
	ASSERT_OK(ftensor_concat(p, 2, 1, &o));
	ASSERT_EQ(o.dims[0], 2);
	ASSERT_EQ(o.dims[1], 4);
	ASSERT_EQ(o.dims[2], 4);
	for (i = 0; i < 2; i++)
		for (j = 0; j < 4; j++)
			for (k = 0; k < 4; k++)
				ASSERT_EQ(o.data[(i * 4 + j) * 4 + k],
					  j < 3 ? p[0].data[(i * 3 + j) * 4 + k]
						: p[1].data[i * 4 + k]);
	ftensor_free(&o);
	ASSERT_FAIL(ftensor_concat(p, 2, 0, &o), MPC_E_SHAPE, "[2, 1, 4]");
	ASSERT_FAIL(ftensor_concat(p, 2, 2, &o), MPC_E_SHAPE, "[2, 3, 4]");
	ASSERT_FAIL(ftensor_concat(p, 2, 3, &o), MPC_E_ARG, "");
	ftensor_free(&p[1]);
	ASSERT_OK(ftensor_alloc(&p[1], 3, c));
	fill_seq(&p[1], 100);
	ASSERT_OK(ftensor_concat(p, 2, 0, &o));
	ASSERT_EQ(o.dims[0], 5);
	ASSERT(!memcmp(o.data, p[0].data, 24 * sizeof(float)));
	ASSERT(!memcmp(o.data + 24, p[1].data, 36 * sizeof(float)));
	ftensor_free(&o);
	ASSERT_OK(ftensor_concat(p, 1, -1, &o));
	ASSERT(o.n == 24 && !memcmp(o.data, p[0].data, 24 * sizeof(float)));
	ftensor_free(&o);
	ftensor_free(&p[0]);
	ftensor_free(&p[1]);
	return 0;
}

TEST(ftensor_concat_wine_split)
{
	struct ftensor p[2], all, o;
	int64_t d0[2] = { 64, 7 }, d1[2] = { 64, 6 };

	ASSERT_OK(npy_load(fpath("wine_mlp", "input_party0.npy"), &p[0]));
	ASSERT_OK(npy_load(fpath("wine_mlp", "input_party1.npy"), &p[1]));
	ASSERT_OK(npy_load(fpath("wine_mlp", "input.npy"), &all));
	assert_dims(&p[0], 2, d0);
	assert_dims(&p[1], 2, d1);
	ASSERT_OK(ftensor_concat(p, 2, 1, &o));
	assert_dims(&o, 2, all.dims);
	ASSERT(!memcmp(o.data, all.data, all.n * sizeof(float)));
	ftensor_free(&o);
	ASSERT_OK(ftensor_concat(p, 2, -1, &o));
	ASSERT(!memcmp(o.data, all.data, all.n * sizeof(float)));
	ftensor_free(&o);
	ASSERT_FAIL(ftensor_concat(p, 2, 0, &o), MPC_E_SHAPE, "[64, 6]");
	ftensor_free(&p[0]);
	ftensor_free(&p[1]);
	ftensor_free(&all);
	return 0;
}

/* ---- npy -------------------------------------------------------------- */

TEST(npy_fixtures)
{
	struct ftensor first = { 0 };
	size_t f, i, c;

	for (f = 0; f < NFX; f++) {
		const struct fx *x = &fixtures[f];
		struct ftensor in, ex, lb;
		int64_t ed[2] = { 64, x->classes }, ld[1] = { 64 };
		int correct = 0;

		ASSERT_OK(npy_load(fpath(x->m, "input.npy"), &in));
		ASSERT_OK(npy_load(fpath(x->m, "expected.npy"), &ex));
		ASSERT_OK(npy_load(fpath(x->m, "labels.npy"), &lb));
		assert_dims(&in, x->nd, x->in);
		assert_dims(&ex, 2, ed);
		assert_dims(&lb, 1, ld);
		for (i = 0; i < 64; i++) {
			size_t best = 0;

			ASSERT(lb.data[i] >= 0 && lb.data[i] < x->classes);
			ASSERT_EQ(lb.data[i], floorf(lb.data[i]));
			for (c = 1; c < (size_t)x->classes; c++)
				if (ex.data[i * x->classes + c] >
				    ex.data[i * x->classes + best])
					best = c;
			correct += (float)best == lb.data[i];
		}
		/* expected.npy and labels.npy reproduce the README accuracy. */
		ASSERT_EQ(correct, x->correct);
		if (!strncmp(x->m, "digits", 6) || !strcmp(x->m, "tiny_cnn")) {
			/* Pixels 0..16 divided by 16; every model sees one set. */
			for (i = 0; i < in.n; i++)
				ASSERT_EQ(in.data[i] * 16, floorf(in.data[i] * 16));
			if (!first.data)
				first = in;
			else
				ASSERT(!memcmp(first.data, in.data, in.n * 4));
		}
		if (in.data != first.data)
			ftensor_free(&in);
		ftensor_free(&ex);
		ftensor_free(&lb);
	}
	ftensor_free(&first);
	return 0;
}

TEST(npy_roundtrip)
{
	static const int64_t shapes[][4] = {
		{ 0 }, { 5 }, { 3, 4 }, { 2, 3, 4 }, { 0, 3 }, { 123456, 1 },
	};
	static const int nd[] = { 0, 1, 2, 3, 2, 2 };
	static const char *const names[] = { "input.npy", "expected.npy" };
	const char *p = tmp_path("t.npy");
	size_t s, i, len, olen;
	uint8_t *buf, *orig;

	for (s = 0; s < sizeof(nd) / sizeof(nd[0]); s++) {
		struct ftensor t, u;

		ASSERT_OK(ftensor_alloc(&t, nd[s], shapes[s]));
		for (i = 0; i < t.n; i++)
			t.data[i] = (float)i * -0.37f + 1e-30f;
		ASSERT_OK(npy_save_f32(p, &t));
		ASSERT_EQ(dir_entries(), 1);
		buf = slurp(p, &len);
		ASSERT_EQ((10 + buf[8] + 256 * buf[9]) % 64, 0);
		free(buf);
		ASSERT_OK(npy_load(p, &u));
		assert_dims(&u, t.ndim, t.dims);
		ASSERT(u.n == t.n && (!t.n || !memcmp(u.data, t.data, t.n * 4)));
		ftensor_free(&t);
		ftensor_free(&u);
	}
	/* Our writer and numpy agree byte for byte on every float file. */
	for (s = 0; s < NFX; s++) {
		for (i = 0; i < 2; i++) {
			struct ftensor t;

			ASSERT_OK(npy_load(fpath(fixtures[s].m, names[i]), &t));
			ASSERT_OK(npy_save_f32(p, &t));
			orig = slurp(fpath(fixtures[s].m, names[i]), &olen);
			buf = slurp(p, &len);
			ASSERT(len == olen && !memcmp(buf, orig, len));
			free(buf);
			free(orig);
			ftensor_free(&t);
		}
	}
	ASSERT_EQ(dir_entries(), 1);
	ASSERT_FAIL(npy_save_f32(tmp_path("nodir/x.npy"), &(struct ftensor){ .n = 1,
		    .data = &(float){ 1 } }), MPC_E_IO, "nodir/x.npy");
	tmp_cleanup();
	return 0;
}

/* A v1/v2 .npy with the given header text and data. */
static size_t mk_npy(uint8_t *o, int major, const char *hdr, const void *d,
		     size_t dl)
{
	size_t hl = strlen(hdr), n = 0;

	memcpy(o, "\x93NUMPY", 6);
	o[6] = (uint8_t)major;
	o[7] = 0;
	n = 8;
	o[n++] = (uint8_t)hl;
	o[n++] = (uint8_t)(hl >> 8);
	if (major > 1) {
		o[n++] = (uint8_t)(hl >> 16);
		o[n++] = (uint8_t)(hl >> 24);
	}
	memcpy(o + n, hdr, hl);
	n += hl;
	if (dl)
		memcpy(o + n, d, dl);
	return n + dl;
}

/* Parse from an exact-size heap copy so ASan sees any over-read. */
static int parse_npy(const uint8_t *b, size_t n, struct ftensor *t)
{
	uint8_t *c = malloc(n ? n : 1);
	int r;

	ASSERT(c);
	if (n)
		memcpy(c, b, n);
	r = npy_parse(c, n, t);
	free(c);
	return r;
}

TEST(npy_header_variants)
{
	uint8_t b[1024];
	struct ftensor t;
	float f[6] = { 1, 2, 3, 4, 5, 6 };
	double d[2] = { 0.5, -1e300 };
	int32_t i4[2] = { -7, 2147483647 };
	int64_t i8[2] = { -3, (int64_t)1 << 40 };
	size_t n;

	n = mk_npy(b, 2, "{\"shape\": (2, 3), 'fortran_order':False,'descr':'<f4'}\n", f, 24);
	ASSERT_OK(parse_npy(b, n, &t));
	ASSERT(t.ndim == 2 && t.dims[0] == 2 && t.dims[1] == 3 && t.data[5] == 6);
	ftensor_free(&t);
	n = mk_npy(b, 3, "{'descr': '<f4', 'fortran_order': False, 'shape': (6L,), }", f, 24);
	ASSERT_OK(parse_npy(b, n, &t));
	ASSERT(t.ndim == 1 && t.n == 6);
	ftensor_free(&t);
	n = mk_npy(b, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (), }  \n", f, 4);
	ASSERT_OK(parse_npy(b, n, &t));
	ASSERT(t.ndim == 0 && t.n == 1 && t.data[0] == 1);
	ftensor_free(&t);
	n = mk_npy(b, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 5), }", f, 0);
	ASSERT_OK(parse_npy(b, n, &t));
	ASSERT(t.n == 0 && t.data == NULL && t.dims[1] == 5);
	n = mk_npy(b, 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2,)}", d, 16);
	ASSERT_OK(parse_npy(b, n, &t));
	ASSERT(t.data[0] == 0.5f && isinf(t.data[1]) && t.data[1] < 0);
	ftensor_free(&t);
	n = mk_npy(b, 1, "{'descr': '<i4', 'fortran_order': False, 'shape': (2,)}", i4, 8);
	ASSERT_OK(parse_npy(b, n, &t));
	ASSERT(t.data[0] == -7.0f && t.data[1] == 2147483648.0f);
	ftensor_free(&t);
	n = mk_npy(b, 1, "{'descr': '<i8', 'fortran_order': False, 'shape': (1, 2)}", i8, 16);
	ASSERT_OK(parse_npy(b, n, &t));
	ASSERT(t.data[0] == -3.0f && t.data[1] == 1099511627776.0f);
	ftensor_free(&t);
	return 0;
}

static void npy_bad(const char *hdr, size_t dl, int code, const char *word)
{
	static const uint8_t zeros[64];
	uint8_t b[1024];
	struct ftensor t;
	size_t n = mk_npy(b, 1, hdr, zeros, dl);

	ASSERT_FAIL(parse_npy(b, n, &t), code, word);
	ASSERT(t.data == NULL && t.n == 0);
}

#define H(rest) "{'descr': '<f4', 'fortran_order': False, " rest
TEST(npy_hostile)
{
	uint8_t b[1024], *lab;
	struct ftensor t;
	size_t n, len, cut;

	npy_bad(H("'shape': (1099511627776,), }"), 0, MPC_E_TOOBIG, "1099511627776");
	npy_bad(H("'shape': (4611686018427387904, 4), }"), 0, MPC_E_TOOBIG, "exceeds");
	npy_bad(H("'shape': (99999999999999999999,), }"), 0, MPC_E_TOOBIG, "overflows");
	npy_bad(H("'shape': (4,), }"), 12, MPC_E_SHORT, "needs 16");
	npy_bad(H("'shape': (2,), }"), 12, MPC_E_FORMAT, "4 trailing bytes");
	npy_bad(H("'shape': (1,1,1,1,1,1,1,1,1), }"), 4, MPC_E_SHAPE, "dims");
	npy_bad(H("'shape': (64), }"), 0, MPC_E_FORMAT, "not a tuple");
	npy_bad(H("'shape': (-1,), }"), 0, MPC_E_FORMAT, "non-negative");
	npy_bad(H("'shape': (2,), 'shape': (2,)}"), 8, MPC_E_FORMAT, "duplicate");
	npy_bad(H("'shape': (2,), 'extra': 1}"), 8, MPC_E_FORMAT, "unknown key");
	npy_bad(H("}"), 0, MPC_E_FORMAT, "missing key 'shape'");
	npy_bad(H("'shape': (2,)"), 8, MPC_E_FORMAT, "expected ','");
	npy_bad(H("'shape': (2,)} x"), 8, MPC_E_FORMAT, "after the dict");
	npy_bad(H("'shape': (2,"), 8, MPC_E_FORMAT, "");
	npy_bad("{'descr': '>f4', 'fortran_order': False, 'shape': (2,)}", 8,
		MPC_E_UNSUPPORTED, "big-endian");
	npy_bad("{'descr': '<c8', 'fortran_order': False, 'shape': (2,)}", 16,
		MPC_E_UNSUPPORTED, "'<c8'");
	npy_bad("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,)}",
		8, MPC_E_UNSUPPORTED, "structured");
	npy_bad("{'descr': '<f\\x34', 'fortran_order': False, 'shape': (2,)}", 8,
		MPC_E_FORMAT, "0x5c");
	npy_bad("{'descr': '<f4', 'fortran_order': True, 'shape': (2,)}", 8,
		MPC_E_UNSUPPORTED, "fortran_order True");
	npy_bad("{'descr': '<f4', 'fortran_order': 0, 'shape': (2,)}", 8,
		MPC_E_FORMAT, "fortran_order");
	npy_bad("", 0, MPC_E_FORMAT, "expected '{'");

	n = mk_npy(b, 1, H("'shape': (2,)}"), "12345678", 8);
	ASSERT_OK(parse_npy(b, n, &t));
	ftensor_free(&t);
	b[5] = 'Z';
	ASSERT_FAIL(parse_npy(b, n, &t), MPC_E_FORMAT, "magic");
	ASSERT_FAIL(parse_npy((const uint8_t *)"hello", 5, &t), MPC_E_FORMAT, "magic");
	ASSERT_FAIL(parse_npy(b, 0, &t), MPC_E_SHORT, "");
	b[5] = 'Y';
	b[6] = 4;
	ASSERT_FAIL(parse_npy(b, n, &t), MPC_E_UNSUPPORTED, "version 4.0");
	b[6] = 1;
	b[7] = 1;
	ASSERT_FAIL(parse_npy(b, n, &t), MPC_E_UNSUPPORTED, "version 1.1");
	b[7] = 0;
	b[9] = 0x40; /* header length 16384 + x, far past the end */
	ASSERT_FAIL(parse_npy(b, n, &t), MPC_E_SHORT, "exceeds");

	/* Every strict prefix of a real file is too short, never a crash. */
	lab = slurp(fpath("wine_mlp", "labels.npy"), &len);
	for (cut = 0; cut < len; cut++) {
		ASSERT_FAIL(parse_npy(lab, cut, &t), MPC_E_SHORT, "");
		ASSERT(t.data == NULL);
	}
	ASSERT_OK(parse_npy(lab, len, &t));
	ftensor_free(&t);
	free(lab);
	return 0;
}
#undef H

TEST(npy_input_load)
{
	struct ftensor t;
	uint8_t *b;
	size_t len;
	FILE *f;

	f = fopen(tmp_path("a.csv"), "w");
	ASSERT(f);
	fputs("x,y\n1,2\n3,4\n", f);
	fclose(f);
	ASSERT_OK(input_load(tmp_path("a.csv"), &t));
	ASSERT(t.ndim == 2 && t.dims[0] == 2 && t.dims[1] == 2 && t.data[3] == 4);
	ASSERT_OK(npy_save_f32(tmp_path("a.NPY"), &t));
	ftensor_free(&t);
	ASSERT_OK(input_load(tmp_path("a.NPY"), &t));
	ASSERT(t.n == 4 && t.data[2] == 3);
	ftensor_free(&t);
	ASSERT_FAIL(input_load(tmp_path("a.txt"), &t), MPC_E_UNSUPPORTED, "a.txt");
	ASSERT_FAIL(input_load(tmp_path("none.npy"), &t), MPC_E_IO, "none.npy");
	ASSERT(mkdir(tmp_path("d.npy"), 0700) == 0);
	ASSERT_FAIL(input_load(tmp_path("d.npy"), &t), MPC_E_IO, "not a regular");
	ASSERT(mkfifo(tmp_path("p.csv"), 0600) == 0);
	ASSERT_FAIL(input_load(tmp_path("p.csv"), &t), MPC_E_IO, "not a regular");
	ASSERT_FAIL(file_read_all("/dev/null", 10, &b, &len), MPC_E_IO, "");
	ASSERT_FAIL(file_read_all(tmp_path("a.csv"), 4, &b, &len), MPC_E_TOOBIG,
		    "exceeds");
	ASSERT(b == NULL && len == 0);
	tmp_cleanup();
	return 0;
}

/* Every parsed element is read into this, so ASan checks the allocation. */
static volatile float sink;

static void check_npy(const uint8_t *b, size_t n)
{
	struct ftensor t;
	size_t i;
	int r = npy_parse(b, n, &t), ok;

	if (r) {
		ASSERT(r < 0 && t.data == NULL && *mpc_errmsg(r));
		return;
	}
	ASSERT(ftensor_count(t.ndim, t.dims, &ok) == t.n && ok);
	for (i = 0; i < t.n; i++)
		sink += t.data[i];
	ftensor_free(&t);
}

TEST(npy_mutate)
{
	static const char *const files[] = { "input.npy", "expected.npy", "labels.npy",
					     "input_party0.npy", "input_party1.npy" };
	size_t m, f, len;

	for (m = 0; m < NFX; m++) {
		for (f = 0; f < 5; f++) {
			uint8_t *b;

			if (f >= 3 && strcmp(fixtures[m].m, "wine_mlp"))
				continue;
			b = slurp(fpath(fixtures[m].m, files[f]), &len);
			mutate_all(b, len, 10 + b[8] + 256u * b[9], check_npy);
			free(b);
		}
	}
	return 0;
}

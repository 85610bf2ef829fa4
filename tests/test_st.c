/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * .safetensors files: the public fixtures (against the ONNX initializers),
 * the malformed fixtures, every dtype conversion, hand-built hostile
 * headers, and mutated bytes of real files.
 */
#include <math.h>
#include <stdint.h>

#include "err.h"
#include "files_util.h"
#include "ftensor.h"
#include "st.h"
#include "test.h"

static int parse_st(const uint8_t *b, size_t n, struct st_file **f)
{
	uint8_t *c = malloc(n ? n : 1);
	int r;

	ASSERT(c);
	if (n)
		memcpy(c, b, n);
	r = st_parse(b ? c : NULL, n, f);
	free(c);
	return r;
}

TEST(st_fixtures)
{
	int64_t cw[4] = { 4, 1, 3, 3 }, fw[2] = { 10, 36 };
	size_t m, i, olen;

	for (m = 0; m < NFX; m++) {
		struct st_file *f;
		uint8_t *onnx;
		size_t total = 0;

		ASSERT_OK(st_load(fpath(fixtures[m].m, "weights.safetensors"), &f));
		onnx = slurp(fpath(fixtures[m].m, "model.onnx"), &olen);
		ASSERT(f->n >= 2);
		for (i = 0; i < f->n; i++) {
			const struct st_tensor *t = &f->t[i];
			struct ftensor ft;

			ASSERT_EQ(t->dtype, ST_F32);
			ASSERT(st_find(f, t->name) == t);
			ASSERT_OK(st_to_ftensor(t, &ft));
			assert_dims(&ft, t->ndim, t->dims);
			ASSERT(ft.n == t->n && t->nbytes == 4 * t->n);
			ASSERT(!memcmp(ft.data, t->data, t->nbytes));
			/* The ONNX initializers hold the same raw float32 bytes. */
			ASSERT(memmem(onnx, olen, t->data, t->nbytes));
			total += t->n;
			ftensor_free(&ft);
		}
		ASSERT_EQ(total, fixtures[m].params);
		if (!strcmp(fixtures[m].m, "tiny_cnn")) {
			const struct st_tensor *w = st_find(f, "conv.weight");

			ASSERT(w && w->n == 36);
			ASSERT(w->ndim == 4 && !memcmp(w->dims, cw, sizeof(cw)));
			w = st_find(f, "fc.weight");
			ASSERT(w && w->ndim == 2 && !memcmp(w->dims, fw, sizeof(fw)));
			ASSERT(st_find(f, "__metadata__") == NULL);
			ASSERT(st_find(f, "conv") == NULL);
		}
		free(onnx);
		st_free(f);
	}
	st_free(NULL);
	return 0;
}

TEST(st_malformed)
{
	static const struct {
		const char *file;
		int code;
		const char *w1, *w2;
	} bad[] = {
		{ "st_header_too_large", MPC_E_SHORT, "1099511627776 exceeds", "72" },
		{ "st_overlapping_offsets", MPC_E_FORMAT, "tensor 'b'", "[8, 24] overlap" },
		{ "st_bad_dtype", MPC_E_FORMAT, "tensor 'w'", "unknown dtype 'FLOAT32'" },
		{ "st_truncated_header", MPC_E_FORMAT, "not valid JSON", "header" },
		{ "st_offsets_out_of_range", MPC_E_FORMAT, "tensor 'w'",
		  "end 16 beyond data size 8" },
		{ "st_size_mismatch", MPC_E_FORMAT, "16 bytes for shape [2, 3] F32", "needs 24" },
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct st_file *f = (void *)1;
		char rel[128];

		snprintf(rel, sizeof(rel), "malformed/%s.safetensors", bad[i].file);
		ASSERT_FAIL(st_load(test_fixture(rel), &f), bad[i].code, bad[i].w1);
		ASSERT(strstr(mpc_errmsg(bad[i].code), bad[i].w2));
		ASSERT(strstr(mpc_errmsg(bad[i].code), rel));
		ASSERT(f == NULL);
	}
	return 0;
}

/* Builds a safetensors file tensor by tensor, contiguous in add order. */
struct stb {
	char json[2048];
	size_t jl;
	uint8_t data[512];
	size_t dl;
};

static void stb_add(struct stb *b, const char *name, const char *dtype,
		    const char *shape, const void *d, size_t n)
{
	b->jl += (size_t)snprintf(b->json + b->jl, sizeof(b->json) - b->jl,
				  "%s\"%s\":{\"dtype\":\"%s\",\"shape\":%s,"
				  "\"data_offsets\":[%zu,%zu]}", b->jl ? "," : "{",
				  name, dtype, shape, b->dl, b->dl + n);
	if (n)
		memcpy(b->data + b->dl, d, n);
	b->dl += n;
}

/* Header json (padded to 8) then data; returns the length. */
static size_t mk_st(uint8_t *o, const char *json, const void *d, size_t dl)
{
	size_t jl = strlen(json), pad = (8 - jl % 8) % 8, i;
	uint64_t n = jl + pad;

	for (i = 0; i < 8; i++)
		o[i] = (uint8_t)(n >> (8 * i));
	memcpy(o + 8, json, jl);
	memset(o + 8 + jl, ' ', pad);
	if (dl)
		memcpy(o + 8 + n, d, dl);
	return 8 + n + dl;
}

static float st_val(const struct st_file *f, const char *name, size_t i)
{
	const struct st_tensor *t = st_find(f, name);
	struct ftensor ft;
	float v;

	ASSERT(t);
	ASSERT_OK(st_to_ftensor(t, &ft));
	ASSERT(i < ft.n);
	v = ft.data[i];
	ftensor_free(&ft);
	return v;
}

TEST(st_convert)
{
	static const uint16_t f16[] = { 0x3c00, 0xc000, 0x7bff, 0x0001, 0x03ff,
					0x7c00, 0xfc00, 0x8000, 0x3555, 0x7e00 };
	static const uint16_t bf16[] = { 0x3f80, 0xc040, 0x4049, 0x0001 };
	static const double f64[] = { 1.5, -1e300, 1e-50, 3.141592653589793 };
	static const int8_t i8[] = { -128, 127 };
	static const int16_t i16[] = { -32768 };
	static const int32_t i32[] = { INT32_MIN };
	static const uint32_t u32[] = { UINT32_MAX };
	static const int64_t i64[] = { -5 };
	static const uint64_t u64[] = { UINT64_MAX };
	static const uint8_t u8[] = { 255 }, f8[] = { 0x38 };
	static const float scalar = 2.5f;
	struct st_file *f;
	struct ftensor ft;
	struct stb b = { .jl = 0 };
	uint8_t buf[4096];
	size_t n;

	stb_add(&b, "h", "F16", "[10]", f16, sizeof(f16));
	stb_add(&b, "bf", "BF16", "[2,2]", bf16, sizeof(bf16));
	stb_add(&b, "d", "F64", "[4]", f64, sizeof(f64));
	stb_add(&b, "i8", "I8", "[2]", i8, 2);
	stb_add(&b, "u8", "U8", "[1]", u8, 1);
	stb_add(&b, "i16", "I16", "[1]", i16, 2);
	stb_add(&b, "u16", "U16", "[1]", "\xff\xff", 2);
	stb_add(&b, "i32", "I32", "[1]", i32, 4);
	stb_add(&b, "u32", "U32", "[1]", u32, 4);
	stb_add(&b, "i64", "I64", "[1]", i64, 8);
	stb_add(&b, "u64", "U64", "[1]", u64, 8);
	stb_add(&b, "f8", "F8_E4M3", "[1]", f8, 1);
	stb_add(&b, "f8b", "F8_E5M2", "[1,1]", f8, 1);
	stb_add(&b, "bool", "BOOL", "[1]", u8, 1);
	stb_add(&b, "empty", "F32", "[0,3]", NULL, 0);
	stb_add(&b, "s", "F32", "[]", &scalar, 4);
	strcat(b.json, ",\"__metadata__\":{\"format\":\"pt\"}}");
	n = mk_st(buf, b.json, b.data, b.dl);
	ASSERT_OK(parse_st(buf, n, &f));
	ASSERT_EQ(f->n, 16);
	ASSERT(st_val(f, "h", 0) == 1.0f && st_val(f, "h", 1) == -2.0f);
	ASSERT(st_val(f, "h", 2) == 65504.0f);
	ASSERT(st_val(f, "h", 3) == ldexpf(1, -24));
	ASSERT(st_val(f, "h", 4) == ldexpf(1023, -24));
	ASSERT(isinf(st_val(f, "h", 5)) && st_val(f, "h", 5) > 0);
	ASSERT(isinf(st_val(f, "h", 6)) && st_val(f, "h", 6) < 0);
	ASSERT(st_val(f, "h", 7) == 0 && signbit(st_val(f, "h", 7)));
	ASSERT(st_val(f, "h", 8) == 0.333251953125f);
	ASSERT(isnan(st_val(f, "h", 9)));
	ASSERT(st_val(f, "bf", 0) == 1.0f && st_val(f, "bf", 1) == -3.0f);
	ASSERT(st_val(f, "bf", 2) == 3.140625f && st_val(f, "bf", 3) == ldexpf(1, -133));
	ASSERT(st_val(f, "d", 0) == 1.5f && isinf(st_val(f, "d", 1)));
	ASSERT(st_val(f, "d", 2) == 0 && st_val(f, "d", 3) == (float)3.141592653589793);
	ASSERT(st_val(f, "i8", 0) == -128 && st_val(f, "i8", 1) == 127);
	ASSERT(st_val(f, "u8", 0) == 255 && st_val(f, "i16", 0) == -32768);
	ASSERT(st_val(f, "u16", 0) == 65535 && st_val(f, "i32", 0) == -2147483648.0f);
	ASSERT(st_val(f, "u32", 0) == 4294967295.0f && st_val(f, "i64", 0) == -5);
	ASSERT(st_val(f, "u64", 0) == 18446744073709551616.0f);
	ASSERT(st_val(f, "s", 0) == 2.5f && st_find(f, "s")->ndim == 0);
	ASSERT_OK(st_to_ftensor(st_find(f, "empty"), &ft));
	ASSERT(ft.n == 0 && ft.data == NULL && ft.dims[1] == 3);
	ASSERT_FAIL(st_to_ftensor(st_find(f, "f8"), &ft), MPC_E_UNSUPPORTED, "F8_E4M3");
	ASSERT_FAIL(st_to_ftensor(st_find(f, "f8b"), &ft), MPC_E_UNSUPPORTED, "'f8b'");
	ASSERT_FAIL(st_to_ftensor(st_find(f, "bool"), &ft), MPC_E_UNSUPPORTED, "BOOL");
	ASSERT(!strcmp(st_dtype_name(ST_BF16), "BF16"));
	ASSERT(!strcmp(st_dtype_name((enum st_dtype)99), "?"));
	st_free(f);
	return 0;
}

static void st_bad(const char *json, size_t dl, int code, const char *word)
{
	static const uint8_t zeros[64];
	struct st_file *f = (void *)1;
	uint8_t buf[2048];
	size_t n = mk_st(buf, json, zeros, dl);

	ASSERT_FAIL(parse_st(buf, n, &f), code, word);
	ASSERT(f == NULL);
}

#define T(rest) "{\"w\":{\"dtype\":\"F32\"," rest "}"
TEST(st_hostile)
{
	struct st_file *f = NULL;
	uint8_t buf[256];
	size_t n;

	st_bad("[]", 0, MPC_E_FORMAT, "not an object");
	st_bad("", 0, MPC_E_FORMAT, "JSON");
	st_bad("{} x", 0, MPC_E_FORMAT, "JSON");
	st_bad("{\"a\":{},\"a\":{}}", 0, MPC_E_FORMAT, "duplicate");
	st_bad("{\"__metadata__\":{\"k\":1}}", 0, MPC_E_FORMAT, "'k' is not a string");
	st_bad("{\"__metadata__\":[]}", 0, MPC_E_FORMAT, "__metadata__");
	st_bad("{\"w\":[]}", 0, MPC_E_FORMAT, "tensor 'w'");
	st_bad(T("\"shape\":[2],\"data_offsets\":[0,8],\"x\":1}"), 8,
	       MPC_E_FORMAT, "unknown key 'x'");
	st_bad(T("\"shape\":[2]}"), 8, MPC_E_FORMAT, "missing data_offsets");
	st_bad(T("\"shape\":[-2],\"data_offsets\":[0,8]}"), 8, MPC_E_FORMAT, "dim 0");
	st_bad(T("\"shape\":[2.0],\"data_offsets\":[0,8]}"), 8, MPC_E_FORMAT, "dim 0");
	st_bad(T("\"shape\":{},\"data_offsets\":[0,8]}"), 8, MPC_E_FORMAT, "shape");
	st_bad(T("\"shape\":[1,1,1,1,1,1,1,1,2],\"data_offsets\":[0,8]}"), 8,
	       MPC_E_SHAPE, "9 dims");
	st_bad(T("\"shape\":[4294967296,4294967296,4294967296],\"data_offsets\":[0,8]}"),
	       8, MPC_E_TOOBIG, "exceeds");
	st_bad(T("\"shape\":[2],\"data_offsets\":[0]}"), 8, MPC_E_FORMAT, "[begin, end]");
	st_bad(T("\"shape\":[2],\"data_offsets\":[8,0]}"), 8, MPC_E_FORMAT, "end before");
	/* One byte past the data, and the end of a tensor that would fit. */
	st_bad(T("\"shape\":[2],\"data_offsets\":[0,8]}"), 7, MPC_E_FORMAT,
	       "end 8 beyond data size 7");
	st_bad(T("\"shape\":[2],\"data_offsets\":[0,8]}"), 4, MPC_E_FORMAT,
	       "end 8 beyond data size 4");
	st_bad(T("\"shape\":[2],\"data_offsets\":[0,8]}"), 12, MPC_E_FORMAT, "cover 8");
	st_bad(T("\"shape\":[2],\"data_offsets\":[4,12]}"), 12, MPC_E_FORMAT, "[0, 4)");
	st_bad(T("\"shape\":[2],\"data_offsets\":[0,18446744073709551615]}"), 8,
	       MPC_E_FORMAT, "JSON");
	st_bad("{}", 4, MPC_E_FORMAT, "no tensors");
	st_bad("{\"a\\u0000b\":{}}", 0, MPC_E_FORMAT, "JSON");
	st_bad("{\"w\\n\":{\"dtype\":\"F3\\n2\",\"shape\":[],\"data_offsets\":[0,0]}}",
	       0, MPC_E_FORMAT,
	       "tensor 'w?': unknown dtype 'F3?2'");
	ASSERT_FAIL(parse_st((const uint8_t *)"\x08\0\0\0", 4, &f), MPC_E_SHORT, "8-byte");
	ASSERT_FAIL(parse_st(NULL, 0, &f), MPC_E_SHORT, "");
	n = mk_st(buf, "{}", NULL, 0);
	ASSERT_OK(parse_st(buf, n, &f));
	ASSERT(f->n == 0 && st_find(f, "w") == NULL);
	st_free(f);
	n = mk_st(buf, T("\"shape\":[0],\"data_offsets\":[0,0]},\"v\":{\"dtype\":\"U8\","
			 "\"shape\":[0],\"data_offsets\":[0,0]}"), NULL, 0);
	ASSERT_OK(parse_st(buf, n, &f));
	ASSERT_EQ(f->n, 2);
	st_free(f);
	return 0;
}
#undef T

static void check_st(const uint8_t *b, size_t n)
{
	struct st_file *f = NULL;
	size_t i;
	int r = st_parse(b, n, &f);

	if (r) {
		ASSERT(r < 0 && f == NULL && *mpc_errmsg(r));
		return;
	}
	for (i = 0; i < f->n; i++) {
		const struct st_tensor *t = &f->t[i];
		struct ftensor ft;

		ASSERT(t->data >= f->buf && t->data + t->nbytes <= f->buf + f->len);
		r = st_to_ftensor(t, &ft);
		ASSERT(r == 0 || r == MPC_E_UNSUPPORTED);
		if (!r)
			ASSERT(ft.n == t->n);
		ftensor_free(&ft);
	}
	st_free(f);
}

TEST(st_mutate)
{
	static const char *const bad[] = { "st_header_too_large", "st_overlapping_offsets",
					   "st_bad_dtype", "st_truncated_header",
					   "st_offsets_out_of_range", "st_size_mismatch" };
	char rel[128];
	uint8_t *b;
	size_t m, len;

	for (m = 0; m < NFX + 6; m++) {
		if (m < NFX) {
			b = slurp(fpath(fixtures[m].m, "weights.safetensors"), &len);
		} else {
			snprintf(rel, sizeof(rel), "malformed/%s.safetensors", bad[m - NFX]);
			b = slurp(test_fixture(rel), &len);
		}
		mutate_all(b, len, 8 + (b[0] | (size_t)b[1] << 8), check_st);
		free(b);
	}
	return 0;
}

/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * CSV: parsing, errors with line and column, round trips through files,
 * and mutated bytes.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "files_util.h"
#include "ftensor.h"
#include "npy.h"
#include "test.h"

/* ---- CSV -------------------------------------------------------------- */

static int csv_str(const char *s, struct ftensor *t)
{
	size_t n = strlen(s);
	uint8_t *c = malloc(n ? n : 1);
	int r;

	ASSERT(c);
	memcpy(c, s, n);
	r = csv_parse(c, n, t);
	free(c);
	return r;
}

TEST(csv_parse_ok)
{
	static const float want[6] = { 1.5f, -2000, 3, 4, 0.25f, -0.0f };
	static const char *const ok[] = {
		"a,b,c\n1.5,-2e3,3\n4,.25,-0\n",
		"\xef\xbb\xbf \"a\" , \"b,\"\"x\"\" \",c\r\n 1.5 ,\t-2e3,3\r\n4,0.25,-0",
		"1.5,-2E+3,+3\n4,25e-2,-0.0\n\n  \n",
		",x,\n1.5,-2000,3\n4,0.25,-0\n",
	};
	struct ftensor t;
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		ASSERT_OK(csv_str(ok[i], &t));
		ASSERT(t.ndim == 2 && t.dims[0] == 2 && t.dims[1] == 3);
		ASSERT(!memcmp(t.data, want, sizeof(want)));
		ftensor_free(&t);
	}
	ASSERT_OK(csv_str("7", &t));
	ASSERT(t.n == 1 && t.data[0] == 7);
	ftensor_free(&t);
	ASSERT_OK(csv_str("1e-50,3.4028234e38\n", &t));
	ASSERT(t.data[0] == 0 && t.data[1] == 3.4028234e38f);
	ftensor_free(&t);
	return 0;
}

/*
 * A number cell of 127 bytes is read; 128 bytes is text (the parser copies
 * a cell into a 128-byte buffer with its NUL: one more would overflow it).
 */
static void csv_long_cells(void)
{
	char s[200];
	struct ftensor t;
	size_t o = (size_t)sprintf(s, "1,2\n3,1.");

	memset(s + o, '0', 125);
	strcpy(s + o + 125, "\n");
	ASSERT_OK(csv_str(s, &t));
	ASSERT(t.n == 4 && t.data[3] == 1.0f);
	ftensor_free(&t);
	strcpy(s + o + 125, "0\n");
	ASSERT_FAIL(csv_str(s, &t), MPC_E_FORMAT, "is not a number");
}

TEST(csv_errors)
{
	struct ftensor t;
	FILE *f;

	ASSERT_FAIL(csv_str("1,2,3\n4,5\n", &t), MPC_E_FORMAT, "csv:2:4: row has 2");
	ASSERT_FAIL(csv_str("1,2\n4,5,6\n", &t), MPC_E_FORMAT, "csv:2:5: row has more");
	ASSERT_FAIL(csv_str("a,b\n1,2,3\n", &t), MPC_E_FORMAT, "csv:2:5");
	ASSERT_FAIL(csv_str("1,2\n3, abc\n", &t), MPC_E_FORMAT, "csv:2:4: 'abc' is not a number");
	ASSERT_FAIL(csv_str("1,x\n", &t), MPC_E_FORMAT, "csv:1:3: 'x'");
	ASSERT_FAIL(csv_str("1,2\n3,0x10\n", &t), MPC_E_FORMAT, "'0x10'");
	ASSERT_FAIL(csv_str("1,2\n3,\n", &t), MPC_E_FORMAT, "csv:2:3: empty cell");
	ASSERT_FAIL(csv_str("1,2\n3,4 5\n", &t), MPC_E_FORMAT, "'4 5'");
	ASSERT_FAIL(csv_str("1,2\n3,\"4\"\n", &t), MPC_E_FORMAT, "csv:2:3");
	ASSERT_FAIL(csv_str("1,2\n3,\"4\n", &t), MPC_E_FORMAT, "unterminated");
	ASSERT_FAIL(csv_parse((const uint8_t *)"1,2\n3,4\0\n", 9, &t), MPC_E_FORMAT,
		    "csv:2:3: '4?'");
	ASSERT_FAIL(csv_str("1,2\n\n3,4\n", &t), MPC_E_FORMAT, "csv:2:1: empty line");
	ASSERT_FAIL(csv_str("1,2\nnan,4\n", &t), MPC_E_RANGE, "csv:2:1: 'nan' is not a finite");
	ASSERT_FAIL(csv_str("1,-inf\n", &t), MPC_E_RANGE, "'-inf'");
	ASSERT_FAIL(csv_str("1,1e39\n", &t), MPC_E_RANGE, "'1e39'");
	ASSERT_FAIL(csv_str("1,1e999\n", &t), MPC_E_RANGE, "");
	ASSERT_FAIL(csv_str("", &t), MPC_E_SHORT, "no data rows");
	csv_long_cells();
	ASSERT_FAIL(csv_str(" \r\n\n", &t), MPC_E_SHORT, "no data rows");
	ASSERT_FAIL(csv_str("a,b\n", &t), MPC_E_SHORT, "no data rows");
	ASSERT(t.data == NULL);
	f = fopen(tmp_path("bad.csv"), "w");
	ASSERT(f);
	fputs("a,b\n1,2\n3,z\n", f);
	fclose(f);
	ASSERT_FAIL(csv_load(tmp_path("bad.csv"), &t), MPC_E_FORMAT, "bad.csv:3:3: 'z'");
	tmp_cleanup();
	return 0;
}

TEST(csv_roundtrip)
{
	int64_t d2[2] = { 17, 5 }, d1[1] = { 9 };
	struct ftensor t, u;
	size_t i;

	ASSERT_OK(ftensor_alloc(&t, 2, d2));
	for (i = 0; i < t.n; i++)
		t.data[i] = ((float)i - 40.0f) / 3.0f * powf(10, (float)(i % 9) - 4);
	t.data[3] = -0.0f;
	t.data[4] = 3.4028235e38f;
	t.data[5] = 1.4e-45f;
	ASSERT_OK(csv_save(tmp_path("r.csv"), &t));
	ASSERT_OK(csv_load(tmp_path("r.csv"), &u));
	assert_dims(&u, 2, d2);
	ASSERT(!memcmp(u.data, t.data, t.n * 4));
	ftensor_free(&u);
	t.data[7] = NAN;
	ASSERT_FAIL(csv_save(tmp_path("n.csv"), &t), MPC_E_RANGE, "element 7");
	ASSERT_EQ(dir_entries(), 1);
	ftensor_free(&t);
	ASSERT_OK(ftensor_alloc(&t, 1, d1));
	fill_seq(&t, -4.5f);
	ASSERT_OK(csv_save(tmp_path("r.csv"), &t));
	ASSERT_OK(input_load(tmp_path("r.csv"), &u));
	ASSERT(u.ndim == 2 && u.dims[0] == 9 && u.dims[1] == 1);
	ASSERT(!memcmp(u.data, t.data, t.n * 4));
	ftensor_free(&u);
	ftensor_free(&t);
	ASSERT_OK(npy_load(fpath("iris_logreg", "input.npy"), &t));
	ASSERT_OK(csv_save(tmp_path("iris.csv"), &t));
	ASSERT_OK(csv_load(tmp_path("iris.csv"), &u));
	ASSERT(u.n == t.n && !memcmp(u.data, t.data, t.n * 4));
	ftensor_free(&u);
	ftensor_free(&t);
	d2[0] = 0;
	ASSERT_OK(ftensor_alloc(&t, 2, d2));
	ASSERT_FAIL(csv_save(tmp_path("e.csv"), &t), MPC_E_SHAPE, "empty");
	ASSERT_EQ(dir_entries(), 2);
	tmp_cleanup();
	return 0;
}

static void check_csv(const uint8_t *b, size_t n)
{
	struct ftensor t;
	int r = csv_parse(b, n, &t);

	if (r) {
		ASSERT(r < 0 && t.data == NULL && *mpc_errmsg(r));
		return;
	}
	ASSERT(t.ndim == 2 && t.n == (size_t)(t.dims[0] * t.dims[1]));
	ftensor_free(&t);
}

TEST(csv_mutate)
{
	static const char s[] = "\xef\xbb\xbf\"a,\"\"\", b ,c\r\n1.5, -2e3 ,3\n"
				"4,.25,-0\n\"x\",1,2\n";

	mutate_all((const uint8_t *)s, sizeof(s) - 1, sizeof(s), check_csv);
	return 0;
}

/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
#include "npy.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

#define CSV_MAX_FILE ((size_t)256 << 20)
/* Longer cells are not numbers anyone writes; they stay text. */
#define CSV_MAX_NUM 128

enum cell_kind { CELL_NUM, CELL_NONFINITE, CELL_TEXT };

struct cell {
	const uint8_t *p;
	size_t n;
	size_t col; /* 1-based byte column of the cell's first byte */
	enum cell_kind kind;
	float v;
};

struct csv {
	const char *name;
	size_t line;
	size_t rows;
	size_t cols;
	int header;
	float *vals; /* NULL on the counting pass */
	size_t nvals;
	size_t filled;
};

static int is_ws(uint8_t c)
{
	return c == ' ' || c == '\t';
}

static void classify(struct cell *c)
{
	char tmp[CSV_MAX_NUM];
	char *end;
	double d;

	c->kind = CELL_TEXT;
	c->v = 0;
	if (!c->n || c->n >= sizeof(tmp) || c->p[0] == '"')
		return;
	memcpy(tmp, c->p, c->n);
	tmp[c->n] = '\0';
	/* strtod would take hex floats and skip \v or \f; plain decimals only. */
	if (strpbrk(tmp, "xX") || strlen(tmp) != c->n ||
	    !strchr("+-.0123456789iInN", tmp[0]))
		return;
	/* strtod and %.9g follow LC_NUMERIC; mpcd never leaves the C locale. */
	d = strtod(tmp, &end);
	if (end != tmp + c->n)
		return;
	c->v = (float)d;
	c->kind = isfinite(d) && isfinite(c->v) ? CELL_NUM : CELL_NONFINITE;
}

/* Printable excerpt of a cell for messages. */
static const char *excerpt(const struct cell *c, char *buf, size_t len)
{
	size_t i, n = c->n < len - 4 ? c->n : len - 4;

	for (i = 0; i < n; i++)
		buf[i] = c->p[i] >= 0x20 && c->p[i] < 0x7f ? (char)c->p[i] : '?';
	if (n < c->n) {
		memcpy(buf + n, "...", 3);
		n += 3;
	}
	buf[n] = '\0';
	return buf;
}

/* Cut the next cell out of s[*pos..len); *pos ends past its ',' if any. */
static int next_cell(struct csv *cs, const uint8_t *s, size_t len, size_t *pos,
		     struct cell *c)
{
	size_t i = *pos, start, end;

	while (i < len && is_ws(s[i]))
		i++;
	start = i;
	c->col = start + 1;
	if (i < len && s[i] == '"') {
		for (i++;; i++) {
			if (i >= len) {
				mpc_fail(MPC_E_FORMAT, "%s:%zu:%zu: unterminated quote", cs->name,
					 cs->line, c->col);
				return mpc_public(MPC_E_FORMAT, "unterminated quote at line %zu",
						  cs->line);
			}
			if (s[i] == '"') {
				if (i + 1 < len && s[i + 1] == '"') {
					i++;
					continue;
				}
				break;
			}
		}
		end = ++i;
		while (i < len && is_ws(s[i]))
			i++;
		if (i < len && s[i] != ',') {
			mpc_fail(MPC_E_FORMAT, "%s:%zu:%zu: text after a closing quote", cs->name,
				 cs->line, i + 1);
			return mpc_public(MPC_E_FORMAT, "text after a closing quote at line %zu",
					  cs->line);
		}
	} else {
		while (i < len && s[i] != ',')
			i++;
		end = i;
		while (end > start && is_ws(s[end - 1]))
			end--;
	}
	c->p = s + start;
	c->n = end - start;
	classify(c);
	*pos = i;
	return 0;
}

/*
 * The public line of a cell's error (crypto/err.h): the line number and
 * what is wrong, never the cell's text nor the file's path.
 */
static int bad_cell(const struct csv *cs, const struct cell *c)
{
	char ex[40];

	if (c->kind == CELL_NONFINITE) {
		mpc_fail(MPC_E_RANGE, "%s:%zu:%zu: '%s' is not a finite float32 value",
			 cs->name, cs->line, c->col, excerpt(c, ex, sizeof(ex)));
		return mpc_public(MPC_E_RANGE, "not a finite value at line %zu", cs->line);
	}
	if (!c->n) {
		mpc_fail(MPC_E_FORMAT, "%s:%zu:%zu: empty cell", cs->name, cs->line, c->col);
		return mpc_public(MPC_E_FORMAT, "empty cell at line %zu", cs->line);
	}
	mpc_fail(MPC_E_FORMAT, "%s:%zu:%zu: '%s' is not a number", cs->name, cs->line, c->col,
		 excerpt(c, ex, sizeof(ex)));
	return mpc_public(MPC_E_FORMAT, "not a number at line %zu", cs->line);
}

/*
 * One line without its '\n'. The first row is a header when no cell is
 * numeric; a row that mixes names and numbers is a data row with a typo.
 */
static int do_row(struct csv *cs, const uint8_t *s, size_t len)
{
	struct cell first_bad = { 0 };
	size_t pos = 0, ncol = 0;
	int ret, any_num = 0, any_bad = 0, first = !cs->rows && !cs->header;

	for (;;) {
		struct cell c;

		if ((ret = next_cell(cs, s, len, &pos, &c)) != 0)
			return ret;
		if (cs->cols && ncol == cs->cols) {
			mpc_fail(MPC_E_FORMAT, "%s:%zu:%zu: row has more than %zu columns",
				 cs->name, cs->line, c.col, cs->cols);
			return mpc_public(MPC_E_FORMAT, "more than %zu columns at line %zu",
					  cs->cols, cs->line);
		}
		if (c.kind == CELL_TEXT || c.kind == CELL_NONFINITE) {
			if (!any_bad)
				first_bad = c;
			any_bad = 1;
			if (c.kind == CELL_NONFINITE)
				any_num = 1;
		} else {
			any_num = 1;
		}
		/* The counting pass has checked every row; a header never gets here. */
		if (!any_bad && cs->vals) {
			MPC_CHECK(cs->filled < cs->nvals);
			cs->vals[cs->filled++] = c.v;
		}
		ncol++;
		if (pos >= len)
			break;
		pos++; /* the ',' */
	}
	if (first && !any_num) {
		cs->header = 1;
		cs->cols = ncol;
		return 0;
	}
	if (any_bad)
		return bad_cell(cs, &first_bad);
	if (cs->cols && ncol != cs->cols) {
		mpc_fail(MPC_E_FORMAT, "%s:%zu:%zu: row has %zu columns, expected %zu",
			 cs->name, cs->line, len + 1, ncol, cs->cols);
		return mpc_public(MPC_E_FORMAT, "%zu columns at line %zu, expected %zu", ncol,
				  cs->line, cs->cols);
	}
	if (cs->rows + 1 > FT_MAX_ELEMS / ncol)
		return mpc_fail(MPC_E_TOOBIG, "%s:%zu: more than %zu cells",
				cs->name, cs->line, FT_MAX_ELEMS);
	cs->cols = ncol;
	cs->rows++;
	return 0;
}

static int is_blank(const uint8_t *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!is_ws(s[i]))
			return 0;
	return 1;
}

/* vals NULL: validate and count; else fill vals (rows x cols known). */
static int csv_pass(const char *name, const uint8_t *buf, size_t len,
		    struct csv *cs, float *vals, size_t nvals)
{
	size_t off = 0, blank_at = 0;
	int ret;

	memset(cs, 0, sizeof(*cs));
	cs->name = name;
	cs->vals = vals;
	cs->nvals = nvals;
	/* Spreadsheets like to start UTF-8 files with a byte order mark. */
	if (len >= 3 && !memcmp(buf, "\xef\xbb\xbf", 3))
		off = 3;
	while (off < len) {
		const uint8_t *nl = memchr(buf + off, '\n', len - off);
		size_t end = nl ? (size_t)(nl - buf) : len, n = end - off;

		cs->line++;
		if (n && buf[off + n - 1] == '\r')
			n--;
		if (is_blank(buf + off, n)) {
			if (!blank_at)
				blank_at = cs->line;
		} else if (blank_at) {
			return mpc_fail(MPC_E_FORMAT, "%s:%zu:1: empty line "
					"inside the data", name, blank_at);
		} else if ((ret = do_row(cs, buf + off, n)) != 0) {
			return ret;
		}
		off = end + 1;
	}
	if (!cs->rows)
		return mpc_fail(MPC_E_SHORT, "%s: no data rows", name);
	return 0;
}

static int csv_parse_named(const char *name, const uint8_t *buf, size_t len,
			   struct ftensor *out)
{
	struct ftensor t = { 0 };
	struct csv cs;
	int64_t dims[2];
	int ret = MPC_E_INTERNAL;

	memset(out, 0, sizeof(*out));
	if (!buf && len)
		return mpc_fail(MPC_E_ARG, "%s: no buffer", name);
	if ((ret = csv_pass(name, buf, len, &cs, NULL, 0)) != 0)
		return ret;
	dims[0] = (int64_t)cs.rows;
	dims[1] = (int64_t)cs.cols;
	if ((ret = ftensor_alloc(&t, 2, dims)) != 0)
		return mpc_fail_ctx(ret, "%s", name);
	if ((ret = csv_pass(name, buf, len, &cs, t.data, t.n)) != 0)
		goto out;
	MPC_CHECK(cs.filled == t.n);
	*out = t;
	return 0;
out:
	ftensor_free(&t);
	return ret;
}

int csv_parse(const uint8_t *buf, size_t len, struct ftensor *out)
{
	return csv_parse_named("csv", buf, len, out);
}

int csv_load(const char *path, struct ftensor *out)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int ret = MPC_E_INTERNAL;

	memset(out, 0, sizeof(*out));
	if ((ret = file_read_all(path, CSV_MAX_FILE, &buf, &len)) != 0)
		goto out;
	ret = csv_parse_named(path, buf, len, out);
out:
	ftensor_wipe_free(buf, len); /* a dataset's bytes */
	return ret;
}

static int write_csv(FILE *f, const void *arg)
{
	const struct ftensor *t = arg;
	size_t i, cols = t->ndim == 2 ? (size_t)t->dims[1] : 1;

	for (i = 0; i < t->n; i++)
		fprintf(f, "%.9g%c", (double)t->data[i],
			(i + 1) % cols ? ',' : '\n');
	return 0;
}

int csv_save(const char *path, const struct ftensor *t)
{
	char sh[160];
	size_t i, n;
	int ok;

	if (!t || t->ndim < 0 || t->ndim > 2)
		return mpc_fail(MPC_E_SHAPE, "%s: CSV holds 0, 1 or 2 dims, not "
				"%d", path, t ? t->ndim : -1);
	n = ftensor_count(t->ndim, t->dims, &ok);
	if (!ok || n != t->n || (n && !t->data))
		return mpc_fail(MPC_E_ARG, "%s: tensor shape does not match its "
				"%zu elements", path, t->n);
	/* An empty file would not load back as the same tensor. */
	if (!n)
		return mpc_fail(MPC_E_SHAPE, "%s: cannot write empty tensor %s as "
				"CSV", path,
				ftensor_shape_str(t->ndim, t->dims, sh, sizeof(sh)));
	for (i = 0; i < n; i++)
		if (!isfinite(t->data[i]))
			return mpc_fail(MPC_E_RANGE, "%s: element %zu is not "
					"finite", path, i);
	return file_write_atomic(path, write_csv, t);
}

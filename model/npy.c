/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
#include "npy.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "rd.h"

#define NPY_MAX_FILE ((size_t)1 << 30)
#define NPY_MAGIC "\x93NUMPY"
#define NPY_MAGIC_LEN 6

enum npy_kind { NPY_F4, NPY_F8, NPY_I4, NPY_I8 };

static const struct {
	const char *descr;
	enum npy_kind kind;
	size_t size;
} npy_types[] = {
	{ "<f4", NPY_F4, 4 },
	{ "<f8", NPY_F8, 8 },
	{ "<i4", NPY_I4, 4 },
	{ "<i8", NPY_I8, 8 },
};

/* Cursor over the ASCII header dict; name is the file for messages. */
struct hp {
	const char *s;
	size_t len;
	size_t off;
	const char *name;
};

static void hp_ws(struct hp *h)
{
	while (h->off < h->len && (h->s[h->off] == ' ' || h->s[h->off] == '\t' ||
				   h->s[h->off] == '\n' || h->s[h->off] == '\r'))
		h->off++;
}

static int hp_peek(const struct hp *h)
{
	return h->off < h->len ? (unsigned char)h->s[h->off] : -1;
}

static int hp_expect(struct hp *h, char c, const char *where)
{
	hp_ws(h);
	if (hp_peek(h) != c)
		return mpc_fail(MPC_E_FORMAT, "%s: header: expected '%c' %s at "
				"byte %zu", h->name, c, where, h->off);
	h->off++;
	return 0;
}

/* A Python str literal without escapes; dst gets at most cap-1 chars. */
static int hp_string(struct hp *h, char *dst, size_t cap, const char *what)
{
	size_t n = 0;
	int q;

	hp_ws(h);
	q = hp_peek(h);
	if (q != '\'' && q != '"')
		return mpc_fail(MPC_E_FORMAT, "%s: header: expected a quoted %s "
				"at byte %zu", h->name, what, h->off);
	h->off++;
	for (;;) {
		int c = hp_peek(h);

		if (c < 0)
			return mpc_fail(MPC_E_FORMAT, "%s: header: unterminated "
					"%s", h->name, what);
		h->off++;
		if (c == q)
			break;
		if (c == '\\' || c < 0x20 || c > 0x7e)
			return mpc_fail(MPC_E_FORMAT, "%s: header: unexpected "
					"byte 0x%02x in %s", h->name, c, what);
		if (n + 1 >= cap)
			return mpc_fail(MPC_E_FORMAT, "%s: header: %s longer than "
					"%zu bytes", h->name, what, cap - 1);
		dst[n++] = (char)c;
	}
	dst[n] = '\0';
	return 0;
}

static int hp_bool(struct hp *h, int *v)
{
	hp_ws(h);
	if (h->len - h->off >= 4 && !memcmp(h->s + h->off, "True", 4)) {
		h->off += 4;
		*v = 1;
		return 0;
	}
	if (h->len - h->off >= 5 && !memcmp(h->s + h->off, "False", 5)) {
		h->off += 5;
		*v = 0;
		return 0;
	}
	return mpc_fail(MPC_E_FORMAT, "%s: header: fortran_order is not True "
			"or False", h->name);
}

static int hp_dim(struct hp *h, int64_t *v)
{
	uint64_t x = 0;
	int c, digits = 0;

	hp_ws(h);
	while ((c = hp_peek(h)) >= '0' && c <= '9') {
		if (x > ((uint64_t)INT64_MAX - (uint64_t)(c - '0')) / 10)
			return mpc_fail(MPC_E_TOOBIG, "%s: header: shape dim "
					"overflows int64", h->name);
		x = x * 10 + (uint64_t)(c - '0');
		h->off++;
		digits++;
	}
	if (!digits)
		return mpc_fail(MPC_E_FORMAT, "%s: header: shape: expected a "
				"non-negative integer at byte %zu", h->name, h->off);
	/* Python 2 numpy wrote longs as "64L". */
	if (hp_peek(h) == 'L')
		h->off++;
	*v = (int64_t)x;
	return 0;
}

static int hp_shape(struct hp *h, int *ndim, int64_t *dims)
{
	int ret, n = 0, comma = 0;

	*ndim = 0;
	if ((ret = hp_expect(h, '(', "to open shape")) != 0)
		return ret;
	hp_ws(h);
	while (hp_peek(h) != ')') {
		if (n == FT_MAX_DIMS)
			return mpc_fail(MPC_E_SHAPE, "%s: header: shape has more "
					"than %d dims", h->name, FT_MAX_DIMS);
		if ((ret = hp_dim(h, &dims[n++])) != 0)
			return ret;
		hp_ws(h);
		comma = hp_peek(h) == ',';
		if (comma) {
			h->off++;
			hp_ws(h);
		} else if (hp_peek(h) != ')') {
			return mpc_fail(MPC_E_FORMAT, "%s: header: shape: "
					"expected ',' or ')' at byte %zu",
					h->name, h->off);
		}
	}
	h->off++;
	/* "(64)" is the int 64 in Python, not a tuple. */
	if (n == 1 && !comma)
		return mpc_fail(MPC_E_FORMAT, "%s: header: shape (%lld) is not a "
				"tuple", h->name, (long long)dims[0]);
	*ndim = n;
	return 0;
}

static int parse_descr(struct hp *h, int *type)
{
	char d[32];
	size_t i;
	int ret;

	hp_ws(h);
	if (hp_peek(h) == '[')
		return mpc_fail(MPC_E_UNSUPPORTED, "%s: header: structured dtypes "
				"are not supported", h->name);
	if ((ret = hp_string(h, d, sizeof(d), "descr")) != 0)
		return ret;
	for (i = 0; i < sizeof(npy_types) / sizeof(npy_types[0]); i++) {
		if (!strcmp(d, npy_types[i].descr)) {
			*type = (int)i;
			return 0;
		}
	}
	if (d[0] == '>')
		return mpc_fail(MPC_E_UNSUPPORTED, "%s: header: big-endian descr "
				"'%s' is not supported", h->name, d);
	return mpc_fail(MPC_E_UNSUPPORTED, "%s: header: descr '%s' is not "
			"supported (expected <f4, <f8, <i4 or <i8)", h->name, d);
}

static int parse_header(struct hp *h, int *type, int *ndim, int64_t *dims)
{
	int seen_d = 0, seen_f = 0, seen_s = 0, fortran = 0, ret;
	char key[32];

	if ((ret = hp_expect(h, '{', "to open the dict")) != 0)
		return ret;
	for (;;) {
		int *seen;

		hp_ws(h);
		if (hp_peek(h) == '}')
			break;
		if ((ret = hp_string(h, key, sizeof(key), "key")) != 0)
			return ret;
		if ((ret = hp_expect(h, ':', "after a key")) != 0)
			return ret;
		if (!strcmp(key, "descr")) {
			seen = &seen_d;
			ret = parse_descr(h, type);
		} else if (!strcmp(key, "fortran_order")) {
			seen = &seen_f;
			ret = hp_bool(h, &fortran);
		} else if (!strcmp(key, "shape")) {
			seen = &seen_s;
			ret = hp_shape(h, ndim, dims);
		} else {
			return mpc_fail(MPC_E_FORMAT, "%s: header: unknown key "
					"'%s'", h->name, key);
		}
		if (ret)
			return ret;
		if ((*seen)++)
			return mpc_fail(MPC_E_FORMAT, "%s: header: duplicate key "
					"'%s'", h->name, key);
		hp_ws(h);
		if (hp_peek(h) == ',') {
			h->off++;
			continue;
		}
		if (hp_peek(h) != '}')
			return mpc_fail(MPC_E_FORMAT, "%s: header: expected ',' or "
					"'}' at byte %zu", h->name, h->off);
	}
	h->off++;
	hp_ws(h);
	if (h->off != h->len)
		return mpc_fail(MPC_E_FORMAT, "%s: header: unexpected byte 0x%02x "
				"after the dict", h->name,
				(unsigned char)h->s[h->off]);
	if (!seen_d || !seen_f || !seen_s)
		return mpc_fail(MPC_E_FORMAT, "%s: header: missing key '%s'",
				h->name, !seen_d ? "descr" :
				!seen_f ? "fortran_order" : "shape");
	if (fortran)
		return mpc_fail(MPC_E_UNSUPPORTED, "%s: header: fortran_order "
				"True is not supported", h->name);
	return 0;
}

static uint64_t get_le(const uint8_t *p, size_t n)
{
	uint64_t x = 0;

	while (n--)
		x = (x << 8) | p[n];
	return x;
}

static void convert(float *dst, const uint8_t *src, size_t n, enum npy_kind k)
{
	size_t i;

	for (i = 0; i < n; i++) {
		uint32_t u32;
		uint64_t u64;
		double d;

		switch (k) {
		case NPY_F4:
			u32 = (uint32_t)get_le(src + 4 * i, 4);
			memcpy(&dst[i], &u32, 4);
			break;
		case NPY_F8:
			u64 = get_le(src + 8 * i, 8);
			memcpy(&d, &u64, 8);
			dst[i] = (float)d;
			break;
		case NPY_I4:
			dst[i] = (float)(int32_t)get_le(src + 4 * i, 4);
			break;
		case NPY_I8:
			dst[i] = (float)(int64_t)get_le(src + 8 * i, 8);
			break;
		}
	}
}

static int npy_parse_named(const char *name, const uint8_t *buf, size_t len,
			   struct ftensor *out)
{
	struct ftensor t = { 0 };
	const uint8_t *p;
	struct hp h = { .name = name };
	int64_t dims[FT_MAX_DIMS] = { 0 };
	uint8_t major, minor;
	uint32_t hlen = 0;
	uint16_t h16;
	size_t n, need, have;
	int ret = MPC_E_INTERNAL, type = 0, ndim = 0, ok;
	char sh[160];
	struct rd r;

	memset(out, 0, sizeof(*out));
	rd_init(&r, buf, len);
	if (len < NPY_MAGIC_LEN) {
		if (len && memcmp(buf, NPY_MAGIC, len))
			return mpc_fail(MPC_E_FORMAT, "%s: bad magic (not a .npy "
					"file)", name);
		return mpc_fail(MPC_E_SHORT, "%s: %zu bytes, too short for a .npy "
				"file", name, len);
	}
	if ((ret = rd_get_view(&r, &p, NPY_MAGIC_LEN)) != 0 ||
	    memcmp(p, NPY_MAGIC, NPY_MAGIC_LEN))
		return mpc_fail(MPC_E_FORMAT, "%s: bad magic (not a .npy file)",
				name);
	if (rd_get_u8(&r, &major) || rd_get_u8(&r, &minor))
		return mpc_fail(MPC_E_SHORT, "%s: truncated before the version",
				name);
	if (major < 1 || major > 3 || minor != 0)
		return mpc_fail(MPC_E_UNSUPPORTED, "%s: format version %u.%u is "
				"not supported", name, major, minor);
	if (major == 1) {
		ret = rd_get_u16le(&r, &h16);
		hlen = h16;
	} else {
		ret = rd_get_u32le(&r, &hlen);
	}
	if (ret)
		return mpc_fail(MPC_E_SHORT, "%s: truncated before the header "
				"length", name);
	if (hlen > rd_left(&r))
		return mpc_fail(MPC_E_SHORT, "%s: header length %u exceeds the "
				"remaining %zu bytes", name, hlen, rd_left(&r));
	if ((ret = rd_get_view(&r, &p, hlen)) != 0)
		return mpc_fail(MPC_E_SHORT, "%s: truncated header", name);
	h.s = (const char *)p;
	h.len = hlen;
	if ((ret = parse_header(&h, &type, &ndim, dims)) != 0)
		return ret;

	ftensor_shape_str(ndim, dims, sh, sizeof(sh));
	n = ftensor_count(ndim, dims, &ok);
	if (!ok || n > FT_MAX_ELEMS)
		return mpc_fail(MPC_E_TOOBIG, "%s: shape %s exceeds the limit of "
				"%zu elements", name, sh, FT_MAX_ELEMS);
	need = n * npy_types[type].size;
	have = rd_left(&r);
	if (have < need)
		return mpc_fail(MPC_E_SHORT, "%s: data is %zu bytes but shape %s "
				"%s needs %zu", name, have, sh,
				npy_types[type].descr, need);
	if (have > need)
		return mpc_fail(MPC_E_FORMAT, "%s: %zu trailing bytes after the "
				"data of shape %s %s", name, have - need, sh,
				npy_types[type].descr);
	if ((ret = rd_get_view(&r, &p, need)) != 0 || (ret = rd_end(&r)) != 0)
		return mpc_fail(MPC_E_INTERNAL, "%s: data bounds", name);
	if ((ret = ftensor_alloc(&t, ndim, dims)) != 0)
		return mpc_fail_ctx(ret, "%s", name);
	convert(t.data, p, n, npy_types[type].kind);
	*out = t;
	return 0;
}

int npy_parse(const uint8_t *buf, size_t len, struct ftensor *out)
{
	return npy_parse_named("npy", buf, len, out);
}

int npy_load(const char *path, struct ftensor *out)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int ret = MPC_E_INTERNAL;

	memset(out, 0, sizeof(*out));
	if ((ret = file_read_all(path, NPY_MAX_FILE, &buf, &len)) != 0)
		goto out;
	ret = npy_parse_named(path, buf, len, out);
out:
	ftensor_wipe_free(buf, len); /* a dataset's bytes */
	return ret;
}

static int write_f32(FILE *f, const void *arg)
{
	const struct ftensor *t = arg;
	uint8_t chunk[4096];
	char hdr[512], shape[256];
	size_t i, used = 0, hl, k = 0, pad;
	int j;

	shape[0] = '\0';
	for (j = 0; j < t->ndim; j++)
		used += (size_t)snprintf(shape + used, sizeof(shape) - used,
					 "%s%lld%s", j ? ", " : "",
					 (long long)t->dims[j],
					 t->ndim == 1 ? "," : "");
	hl = (size_t)snprintf(hdr, sizeof(hdr), "{'descr': '<f4', "
			      "'fortran_order': False, 'shape': (%s), }", shape);
	/*
	 * numpy's own layout, byte for byte: room for dims[0] to grow to 21
	 * digits in place, then 1..64 spaces so the data starts on a 64-byte
	 * boundary.
	 */
	if (t->ndim > 0) {
		int d0 = snprintf(NULL, 0, "%lld", (long long)t->dims[0]);

		while (d0++ < 21)
			hdr[hl++] = ' ';
	}
	pad = 64 - (10 + hl + 1) % 64;
	while (pad--)
		hdr[hl++] = ' ';
	hdr[hl++] = '\n';
	fwrite(NPY_MAGIC, 1, NPY_MAGIC_LEN, f);
	fputc(1, f);
	fputc(0, f);
	fputc((int)(hl & 0xff), f);
	fputc((int)(hl >> 8), f);
	fwrite(hdr, 1, hl, f);
	for (i = 0; i < t->n; i++) {
		uint32_t u;

		memcpy(&u, &t->data[i], 4);
		chunk[k++] = (uint8_t)u;
		chunk[k++] = (uint8_t)(u >> 8);
		chunk[k++] = (uint8_t)(u >> 16);
		chunk[k++] = (uint8_t)(u >> 24);
		if (k == sizeof(chunk)) {
			fwrite(chunk, 1, k, f);
			k = 0;
		}
	}
	if (k)
		fwrite(chunk, 1, k, f);
	return 0;
}

int npy_save_f32(const char *path, const struct ftensor *t)
{
	size_t n;
	int ok;

	if (!t || t->ndim < 0 || t->ndim > FT_MAX_DIMS)
		return mpc_fail(MPC_E_ARG, "%s: bad tensor to save", path);
	n = ftensor_count(t->ndim, t->dims, &ok);
	if (!ok || n != t->n || (n && !t->data))
		return mpc_fail(MPC_E_ARG, "%s: tensor shape does not match its "
				"%zu elements", path, t->n);
	return file_write_atomic(path, write_f32, t);
}

int file_read_all(const char *path, size_t max, uint8_t **buf, size_t *len)
{
	uint8_t *b = NULL;
	size_t size, got = 0;
	struct stat st;
	int fd = -1, ret = MPC_E_INTERNAL;

	*buf = NULL;
	*len = 0;
	/* O_NONBLOCK: opening a FIFO must not hang before we can refuse it. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		ret = mpc_fail(MPC_E_IO, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) < 0) {
		ret = mpc_fail(MPC_E_IO, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		ret = mpc_fail(MPC_E_IO, "%s: not a regular file", path);
		goto out;
	}
	if (st.st_size < 0 || (uint64_t)st.st_size > max) {
		ret = mpc_fail(MPC_E_TOOBIG, "%s: %lld bytes exceeds the limit "
			       "of %zu", path, (long long)st.st_size, max);
		goto out;
	}
	size = (size_t)st.st_size;
	/* One spare byte to notice a file that grows while we read it. */
	b = malloc(size + 1);
	if (!b) {
		ret = mpc_fail(MPC_E_NOMEM, "%s: out of memory for %zu bytes",
			       path, size);
		goto out;
	}
	while (got < size + 1) {
		ssize_t r = read(fd, b + got, size + 1 - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			ret = mpc_fail(MPC_E_IO, "%s: read: %s", path,
				       strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	if (got > size) {
		ret = mpc_fail(MPC_E_IO, "%s: file changed while being read",
			       path);
		goto out;
	}
	b[got] = 0;
	*buf = b;
	*len = got;
	b = NULL;
	ret = 0;
out:
	free(b);
	if (fd >= 0)
		close(fd);
	return ret;
}

static void sync_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	int fd;

	if (!slash)
		dir = strdup(".");
	else if (slash == path)
		dir = strdup("/");
	else
		dir = strndup(path, (size_t)(slash - path));
	if (!dir)
		return;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(dir);
	/* Durability of the rename only; the file itself is already complete. */
	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
}

int file_write_atomic(const char *path, int (*fill)(FILE *f, const void *arg),
		      const void *arg)
{
	FILE *f = NULL;
	char *tmp = NULL;
	size_t plen;
	int fd = -1, ret = MPC_E_INTERNAL, err;

	if (!path || !*path || !fill)
		return mpc_fail(MPC_E_ARG, "write: no path");
	plen = strlen(path);
	tmp = malloc(plen + 16);
	if (!tmp)
		return mpc_fail(MPC_E_NOMEM, "%s: out of memory", path);
	memcpy(tmp, path, plen);
	memcpy(tmp + plen, ".tmp.XXXXXX", 12);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		ret = mpc_fail(MPC_E_IO, "%s: cannot create a temp file: %s",
			       path, strerror(errno));
		free(tmp);
		return ret;
	}
	f = fdopen(fd, "wb");
	if (!f) {
		ret = mpc_fail(MPC_E_IO, "%s: %s", path, strerror(errno));
		close(fd);
		goto out;
	}
	if ((ret = fill(f, arg)) != 0)
		goto out;
	if (fflush(f) != 0 || ferror(f) || fsync(fileno(f)) != 0) {
		ret = mpc_fail(MPC_E_IO, "%s: write: %s", path, strerror(errno));
		goto out;
	}
	err = fclose(f);
	f = NULL;
	if (err != 0) {
		ret = mpc_fail(MPC_E_IO, "%s: close: %s", path, strerror(errno));
		goto out;
	}
	if (rename(tmp, path) != 0) {
		ret = mpc_fail(MPC_E_IO, "%s: rename: %s", path, strerror(errno));
		goto out;
	}
	sync_dir(path);
	free(tmp);
	return 0;
out:
	if (f)
		fclose(f);
	unlink(tmp);
	free(tmp);
	return ret;
}

int input_load(const char *path, struct ftensor *out)
{
	const char *dot = path ? strrchr(path, '.') : NULL;

	memset(out, 0, sizeof(*out));
	if (dot && !strcasecmp(dot, ".npy"))
		return npy_load(path, out);
	if (dot && !strcasecmp(dot, ".csv"))
		return csv_load(path, out);
	return mpc_fail(MPC_E_UNSUPPORTED, "%s: unknown input format (expected "
			".npy or .csv)", path ? path : "(null)");
}

/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
#include "st.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "npy.h"
#include "rd.h"

#define ST_MAX_FILE ((size_t)1 << 30)
/* The reference implementation's limit; jansson needs several x this. */
#define ST_MAX_HEADER ((uint64_t)100000000)

static const struct {
	const char *name;
	size_t size;
} st_types[] = {
	[ST_BOOL] = { "BOOL", 1 },	[ST_U8] = { "U8", 1 },
	[ST_I8] = { "I8", 1 },		[ST_I16] = { "I16", 2 },
	[ST_U16] = { "U16", 2 },	[ST_F16] = { "F16", 2 },
	[ST_BF16] = { "BF16", 2 },	[ST_I32] = { "I32", 4 },
	[ST_U32] = { "U32", 4 },	[ST_F32] = { "F32", 4 },
	[ST_F64] = { "F64", 8 },	[ST_I64] = { "I64", 8 },
	[ST_U64] = { "U64", 8 },	[ST_F8_E4M3] = { "F8_E4M3", 1 },
	[ST_F8_E5M2] = { "F8_E5M2", 1 },
};

#define ST_NTYPES (sizeof(st_types) / sizeof(st_types[0]))

const char *st_dtype_name(enum st_dtype d)
{
	if ((unsigned)d >= ST_NTYPES)
		return "?";
	return st_types[d].name;
}

void st_free(struct st_file *f)
{
	size_t i;

	if (!f)
		return;
	for (i = 0; i < f->n; i++)
		free(f->t[i].name);
	free(f->t);
	ftensor_wipe_free(f->buf, f->len); /* the weights' bytes */
	free(f);
}

const struct st_tensor *st_find(const struct st_file *f, const char *name)
{
	size_t i;

	if (!f || !name)
		return NULL;
	for (i = 0; i < f->n; i++)
		if (!strcmp(f->t[i].name, name))
			return &f->t[i];
	return NULL;
}

/* Names come from the file: keep messages on one printable line. */
static const char *printable(const char *s, char *buf, size_t len)
{
	size_t i;

	for (i = 0; s[i] && i + 4 < len; i++)
		buf[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	if (s[i]) {
		memcpy(buf + i, "...", 3);
		i += 3;
	}
	buf[i] = '\0';
	return buf;
}

static int get_u64(json_t *v, uint64_t *out)
{
	json_int_t x;

	if (!json_is_integer(v))
		return -1;
	x = json_integer_value(v);
	if (x < 0)
		return -1;
	*out = (uint64_t)x;
	return 0;
}

static int parse_metadata(const char *name, json_t *v)
{
	const char *k;
	char pk[64];
	json_t *s;

	if (!json_is_object(v))
		return mpc_fail(MPC_E_FORMAT, "%s: __metadata__ is not an object",
				name);
	json_object_foreach(v, k, s) {
		if (!json_is_string(s))
			return mpc_fail(MPC_E_FORMAT, "%s: __metadata__ '%s' is "
					"not a string", name,
					printable(k, pk, sizeof(pk)));
	}
	return 0;
}

static int parse_dtype(const char *name, const char *tn, json_t *v,
		       enum st_dtype *d)
{
	const char *s;
	char ps[48];
	size_t i;

	if (!json_is_string(v))
		return mpc_fail(MPC_E_FORMAT, "%s: tensor '%s': dtype is not a "
				"string", name, tn);
	s = json_string_value(v);
	for (i = 0; i < ST_NTYPES; i++) {
		if (!strcmp(s, st_types[i].name)) {
			*d = (enum st_dtype)i;
			return 0;
		}
	}
	return mpc_fail(MPC_E_FORMAT, "%s: tensor '%s': unknown dtype '%s'",
			name, tn, printable(s, ps, sizeof(ps)));
}

static int parse_shape(const char *name, const char *tn, struct st_tensor *t,
		       json_t *v)
{
	size_t i;
	json_t *d;

	if (!json_is_array(v))
		return mpc_fail(MPC_E_FORMAT, "%s: tensor '%s': shape is not an "
				"array", name, tn);
	if (json_array_size(v) > FT_MAX_DIMS)
		return mpc_fail(MPC_E_SHAPE, "%s: tensor '%s': shape has %zu dims "
				"(at most %d)", name, tn,
				json_array_size(v), FT_MAX_DIMS);
	json_array_foreach(v, i, d) {
		uint64_t x;

		if (get_u64(d, &x) != 0)
			return mpc_fail(MPC_E_FORMAT, "%s: tensor '%s': shape "
					"dim %zu is not a non-negative integer",
					name, tn, i);
		t->dims[i] = (int64_t)x;
	}
	t->ndim = (int)json_array_size(v);
	return 0;
}

static int parse_tensor(const char *name, struct st_tensor *t, json_t *v,
			const uint8_t *data, size_t dlen)
{
	json_t *dt = NULL, *sh = NULL, *off = NULL, *x;
	uint64_t b, e;
	const char *k;
	char s[160], tn[80];
	size_t n;
	int ret, ok;

	printable(t->name, tn, sizeof(tn));
	if (!json_is_object(v))
		return mpc_fail(MPC_E_FORMAT, "%s: tensor '%s': entry is not an "
				"object", name, tn);
	json_object_foreach(v, k, x) {
		if (!strcmp(k, "dtype"))
			dt = x;
		else if (!strcmp(k, "shape"))
			sh = x;
		else if (!strcmp(k, "data_offsets"))
			off = x;
		else
			return mpc_fail(MPC_E_FORMAT, "%s: tensor '%s': unknown "
					"key '%s'", name, tn,
					printable(k, s, sizeof(s)));
	}
	if (!dt || !sh || !off)
		return mpc_fail(MPC_E_FORMAT, "%s: tensor '%s': missing %s", name,
				tn, !dt ? "dtype" : !sh ? "shape" :
				"data_offsets");
	if ((ret = parse_dtype(name, tn, dt, &t->dtype)) != 0 ||
	    (ret = parse_shape(name, tn, t, sh)) != 0)
		return ret;
	if (!json_is_array(off) || json_array_size(off) != 2 ||
	    get_u64(json_array_get(off, 0), &b) != 0 ||
	    get_u64(json_array_get(off, 1), &e) != 0)
		return mpc_fail(MPC_E_FORMAT, "%s: tensor '%s': data_offsets is "
				"not [begin, end]", name, tn);
	if (b > e)
		return mpc_fail(MPC_E_FORMAT, "%s: tensor '%s': data_offsets "
				"[%llu, %llu] end before begin", name, tn,
				(unsigned long long)b, (unsigned long long)e);
	if (e > dlen)
		return mpc_fail(MPC_E_FORMAT, "%s: tensor '%s': data_offsets end "
				"%llu beyond data size %zu", name, tn,
				(unsigned long long)e, dlen);
	ftensor_shape_str(t->ndim, t->dims, s, sizeof(s));
	n = ftensor_count(t->ndim, t->dims, &ok);
	if (!ok || n > FT_MAX_ELEMS)
		return mpc_fail(MPC_E_TOOBIG, "%s: tensor '%s': shape %s exceeds "
				"the limit of %zu elements", name, tn, s,
				FT_MAX_ELEMS);
	if (e - b != n * st_types[t->dtype].size)
		return mpc_fail(MPC_E_FORMAT, "%s: tensor '%s': %llu bytes for "
				"shape %s %s (needs %zu)", name, tn,
				(unsigned long long)(e - b), s,
				st_types[t->dtype].name,
				n * st_types[t->dtype].size);
	t->n = n;
	t->data = data + b;
	t->nbytes = (size_t)(e - b);
	return 0;
}

static int by_offset(const void *a, const void *b)
{
	const struct st_tensor *x = *(const struct st_tensor *const *)a;
	const struct st_tensor *y = *(const struct st_tensor *const *)b;

	if (x->data != y->data)
		return x->data < y->data ? -1 : 1;
	if (x->nbytes != y->nbytes)
		return x->nbytes < y->nbytes ? -1 : 1;
	return x < y ? -1 : x > y;
}

/* Offsets must tile the data section: no overlap, no gap, no tail. */
static int check_layout(const char *name, struct st_tensor *t, size_t n,
			const uint8_t *data, size_t dlen)
{
	const struct st_tensor **idx, *prev = NULL;
	size_t i, cur = 0;
	int ret = 0;

	if (!n) {
		if (dlen)
			return mpc_fail(MPC_E_FORMAT, "%s: %zu data bytes but no "
					"tensors", name, dlen);
		return 0;
	}
	idx = calloc(n, sizeof(*idx));
	if (!idx)
		return mpc_fail(MPC_E_NOMEM, "%s: out of memory", name);
	for (i = 0; i < n; i++)
		idx[i] = &t[i];
	qsort(idx, n, sizeof(*idx), by_offset);
	for (i = 0; i < n && !ret; i++) {
		size_t b = (size_t)(idx[i]->data - data);
		char tn[80], pn[80];

		if (b < cur)
			ret = mpc_fail(MPC_E_FORMAT, "%s: tensor '%s': "
				       "data_offsets [%zu, %zu] overlap a "
				       "previous tensor ('%s')", name,
				       printable(idx[i]->name, tn, sizeof(tn)),
				       b, b + idx[i]->nbytes,
				       printable(prev->name, pn, sizeof(pn)));
		else if (b > cur)
			ret = mpc_fail(MPC_E_FORMAT, "%s: tensor '%s': "
				       "data_offsets [%zu, %zu] leave bytes "
				       "[%zu, %zu) of the data unused", name,
				       printable(idx[i]->name, tn, sizeof(tn)),
				       b, b + idx[i]->nbytes, cur, b);
		cur = b + idx[i]->nbytes;
		prev = idx[i];
	}
	if (!ret && cur != dlen)
		ret = mpc_fail(MPC_E_FORMAT, "%s: data section is %zu bytes but "
			       "the tensors cover %zu", name, dlen, cur);
	free(idx);
	return ret;
}

/* Takes ownership of buf. */
static int st_parse_owned(const char *name, uint8_t *buf, size_t len,
			  struct st_file **out)
{
	struct st_file *f = NULL;
	json_t *root = NULL, *v;
	json_error_t jerr;
	const uint8_t *hdr, *data;
	const char *k;
	uint64_t hlen;
	size_t n = 0, dlen;
	int ret = MPC_E_INTERNAL;
	struct rd r;

	*out = NULL;
	f = calloc(1, sizeof(*f));
	if (!f) {
		ftensor_wipe_free(buf, len); /* the weights' bytes */
		return mpc_fail(MPC_E_NOMEM, "%s: out of memory", name);
	}
	f->buf = buf;
	f->len = len;
	rd_init(&r, buf, len);
	if (rd_get_u64le(&r, &hlen) != 0) {
		ret = mpc_fail(MPC_E_SHORT, "%s: %zu bytes, too short for the "
			       "8-byte header length", name, len);
		goto out;
	}
	if (hlen > rd_left(&r)) {
		ret = mpc_fail(MPC_E_SHORT, "%s: header length %llu exceeds "
			       "remaining file size %zu", name,
			       (unsigned long long)hlen, rd_left(&r));
		goto out;
	}
	if (hlen > ST_MAX_HEADER) {
		ret = mpc_fail(MPC_E_TOOBIG, "%s: header length %llu exceeds "
			       "the limit of %llu", name,
			       (unsigned long long)hlen,
			       (unsigned long long)ST_MAX_HEADER);
		goto out;
	}
	if (rd_get_view(&r, &hdr, (size_t)hlen) != 0) {
		ret = mpc_fail(MPC_E_INTERNAL, "%s: header bounds", name);
		goto out;
	}
	dlen = rd_left(&r);
	data = hdr + hlen;
	/* EOF check stays on: only whitespace may follow the object. */
	root = json_loadb((const char *)hdr, (size_t)hlen,
			  JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		ret = mpc_fail(MPC_E_FORMAT, "%s: header is not valid JSON: %s "
			       "(byte %d)", name, jerr.text, jerr.position);
		goto out;
	}
	if (!json_is_object(root)) {
		ret = mpc_fail(MPC_E_FORMAT, "%s: header JSON is not an object",
			       name);
		goto out;
	}
	f->t = calloc(json_object_size(root) + 1, sizeof(*f->t));
	if (!f->t) {
		ret = mpc_fail(MPC_E_NOMEM, "%s: out of memory", name);
		goto out;
	}
	json_object_foreach(root, k, v) {
		struct st_tensor *t;

		if (!strcmp(k, "__metadata__")) {
			if ((ret = parse_metadata(name, v)) != 0)
				goto out;
			continue;
		}
		t = &f->t[n];
		t->name = strdup(k);
		if (!t->name) {
			ret = mpc_fail(MPC_E_NOMEM, "%s: out of memory", name);
			goto out;
		}
		f->n = ++n;
		if ((ret = parse_tensor(name, t, v, data, dlen)) != 0)
			goto out;
	}
	if ((ret = check_layout(name, f->t, n, data, dlen)) != 0)
		goto out;
	*out = f;
	f = NULL;
	ret = 0;
out:
	json_decref(root);
	st_free(f);
	return ret;
}

int st_parse(const uint8_t *buf, size_t len, struct st_file **out)
{
	uint8_t *copy;

	*out = NULL;
	if (!buf && len)
		return mpc_fail(MPC_E_ARG, "safetensors: no buffer");
	/* One spare byte so an empty input still gets a real allocation. */
	copy = malloc(len + 1);
	if (!copy)
		return mpc_fail(MPC_E_NOMEM, "safetensors: out of memory for %zu "
				"bytes", len);
	if (len)
		memcpy(copy, buf, len);
	return st_parse_owned("safetensors", copy, len, out);
}

int st_load(const char *path, struct st_file **out)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int ret;

	*out = NULL;
	if ((ret = file_read_all(path, ST_MAX_FILE, &buf, &len)) != 0)
		return ret;
	return st_parse_owned(path, buf, len, out);
}

static uint64_t get_le(const uint8_t *p, size_t n)
{
	uint64_t x = 0;

	while (n--)
		x = (x << 8) | p[n];
	return x;
}

static float half_to_float(uint16_t h)
{
	uint32_t sign = (uint32_t)(h >> 15) << 31, e = (h >> 10) & 0x1f;
	uint32_t m = h & 0x3ff, u;
	float f;

	if (e == 0) {
		/* Zero or subnormal: m x 2^-24, exact in float. */
		f = ldexpf((float)m, -24);
		return sign ? -f : f;
	}
	if (e == 31)
		u = sign | 0x7f800000 | (m << 13);
	else
		u = sign | ((e - 15 + 127) << 23) | (m << 13);
	memcpy(&f, &u, 4);
	return f;
}

static float bits_f32(uint32_t u)
{
	float f;

	memcpy(&f, &u, 4);
	return f;
}

static float bits_f64(uint64_t u)
{
	double d;

	memcpy(&d, &u, 8);
	return (float)d;
}

/* u holds the element's little-endian bytes, zero-extended. */
static float elem_to_float(enum st_dtype d, uint64_t u)
{
	switch (d) {
	case ST_U8:
		return (float)(uint8_t)u;
	case ST_I8:
		return (float)(int8_t)u;
	case ST_U16:
		return (float)(uint16_t)u;
	case ST_I16:
		return (float)(int16_t)u;
	case ST_U32:
		return (float)(uint32_t)u;
	case ST_I32:
		return (float)(int32_t)u;
	case ST_U64:
		return (float)u;
	case ST_I64:
		return (float)(int64_t)u;
	case ST_F16:
		return half_to_float((uint16_t)u);
	case ST_BF16:
		return bits_f32((uint32_t)u << 16);
	case ST_F32:
		return bits_f32((uint32_t)u);
	case ST_F64:
		return bits_f64(u);
	default:
		mpc_bug("elem_to_float: dtype without a float conversion");
	}
}

int st_to_ftensor(const struct st_tensor *t, struct ftensor *out)
{
	struct ftensor ft = { 0 };
	const uint8_t *p;
	char tn[80];
	size_t i, n, sz;
	int ret, ok;

	if (!out)
		return mpc_fail(MPC_E_ARG, "st_to_ftensor: no output");
	memset(out, 0, sizeof(*out));
	if (!t || (unsigned)t->dtype >= ST_NTYPES)
		return mpc_fail(MPC_E_ARG, "st_to_ftensor: bad tensor");
	printable(t->name ? t->name : "?", tn, sizeof(tn));
	sz = st_types[t->dtype].size;
	n = ftensor_count(t->ndim, t->dims, &ok);
	if (!ok || n != t->n || n > SIZE_MAX / sz || t->nbytes != n * sz ||
	    (n && !t->data))
		return mpc_fail(MPC_E_ARG, "tensor '%s': shape, element count "
				"and byte length disagree", tn);
	switch (t->dtype) {
	case ST_BOOL:
	case ST_F8_E4M3:
	case ST_F8_E5M2:
		return mpc_fail(MPC_E_UNSUPPORTED, "tensor '%s': dtype %s cannot "
				"be used as float", tn,
				st_types[t->dtype].name);
	default:
		break;
	}
	if ((ret = ftensor_alloc(&ft, t->ndim, t->dims)) != 0)
		return mpc_fail_ctx(ret, "tensor '%s'", tn);
	for (i = 0, p = t->data; i < n; i++, p += sz)
		ft.data[i] = elem_to_float(t->dtype, get_le(p, sz));
	*out = ft;
	return 0;
}

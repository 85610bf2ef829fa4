/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
#include "rd.h"

#include <string.h>

void rd_init(struct rd *r, const void *p, size_t len)
{
	r->p = p;
	r->len = p ? len : 0;
	r->off = 0;
}

size_t rd_left(const struct rd *r)
{
	return r->len - r->off;
}

int rd_get_view(struct rd *r, const uint8_t **p, size_t n)
{
	*p = NULL;
	if (n > rd_left(r))
		return MPC_E_SHORT;
	*p = r->p + r->off;
	r->off += n;
	return 0;
}

int rd_get_bytes(struct rd *r, void *dst, size_t n)
{
	const uint8_t *p;
	int ret;

	if (n)
		memset(dst, 0, n);
	if ((ret = rd_get_view(r, &p, n)) != 0)
		return ret;
	if (n)
		memcpy(dst, p, n);
	return 0;
}

int rd_skip(struct rd *r, size_t n)
{
	const uint8_t *p;

	return rd_get_view(r, &p, n);
}

int rd_get_u8(struct rd *r, uint8_t *v)
{
	return rd_get_bytes(r, v, 1);
}

static int get_le(struct rd *r, uint64_t *v, size_t n)
{
	const uint8_t *p;
	uint64_t x = 0;
	int ret;
	size_t i;

	*v = 0;
	if ((ret = rd_get_view(r, &p, n)) != 0)
		return ret;
	for (i = n; i-- > 0;)
		x = (x << 8) | p[i];
	*v = x;
	return 0;
}

int rd_get_u16le(struct rd *r, uint16_t *v)
{
	uint64_t x;
	int ret = get_le(r, &x, 2);

	*v = (uint16_t)x;
	return ret;
}

int rd_get_u32le(struct rd *r, uint32_t *v)
{
	uint64_t x;
	int ret = get_le(r, &x, 4);

	*v = (uint32_t)x;
	return ret;
}

int rd_get_u64le(struct rd *r, uint64_t *v)
{
	return get_le(r, v, 8);
}

int rd_get_u32be(struct rd *r, uint32_t *v)
{
	const uint8_t *p;
	int ret;

	*v = 0;
	if ((ret = rd_get_view(r, &p, 4)) != 0)
		return ret;
	*v = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	     (uint32_t)p[2] << 8 | p[3];
	return 0;
}

int rd_get_varint(struct rd *r, uint64_t *v)
{
	uint64_t x = 0;
	size_t i, start = r->off;

	*v = 0;
	for (i = 0; i < 10; i++) {
		uint8_t b;

		if (r->off >= r->len) {
			r->off = start;
			return MPC_E_SHORT;
		}
		b = r->p[r->off++];
		if (i == 9 && b > 1) {
			r->off = start;
			return MPC_E_TOOBIG;
		}
		x |= (uint64_t)(b & 0x7f) << (7 * i);
		if (!(b & 0x80)) {
			*v = x;
			return 0;
		}
	}
	r->off = start;
	return MPC_E_TOOBIG;
}

int rd_end(const struct rd *r)
{
	return rd_left(r) ? MPC_E_FORMAT : 0;
}

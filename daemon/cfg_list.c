/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * Comma-list values: one splitter for every list key (AllowPeers,
 * AllowRecipients: names; AllowModels: "any" or public graph hashes).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cfg_int.h"
#include "err.h"

int cfg__set_list(const struct cfg_reader *rd, unsigned line, const struct cfg_key *k,
		  const char *val, const struct cfg_list_kind *kind, void **out, size_t *n_out)
{
	const char *s = val;
	char *v = NULL;
	size_t i, n = 1, have = 0;
	int ret = 0;

	*out = NULL;
	*n_out = 0;
	if (!*val)
		return 0;	/* an empty list: none */
	for (i = 0; val[i]; i++)
		n += val[i] == ',';
	if (n > CFG_LIST_MAX)
		return cfg__err(rd, MPC_E_TOOBIG, line, k->sec, k, val,
				"lists more than %d %s", CFG_LIST_MAX, kind->noun);
	if (!(v = calloc(n, kind->stride)))
		return mpc_fail(MPC_E_NOMEM, "config: out of memory");
	for (;;) {
		const char *e = strchr(s, ','), *b;
		char *item = v + have * kind->stride;
		size_t len;

		if (!e)
			e = s + strlen(s);
		for (b = s; b < e && (*b == ' ' || *b == '\t'); b++)
			;
		for (len = (size_t)(e - b); len && (b[len - 1] == ' ' || b[len - 1] == '\t'); len--)
			;
		if (len >= kind->stride || !kind->item(b, len, item)) {
			ret = cfg__err(rd, MPC_E_FORMAT, line, k->sec, k, val, "%s", kind->bad);
			goto out;
		}
		for (i = 0; i < have; i++)
			if (!strcmp(v + i * kind->stride, item)) {
				ret = cfg__err(rd, MPC_E_FORMAT, line, k->sec, k, val,
					       "lists '%s' twice", item);
				goto out;
			}
		have++;
		if (!*e)
			break;
		s = e + 1;
	}
	*out = v;
	*n_out = have;
	v = NULL;	/* transferred */
out:
	free(v);
	return ret;
}

/* 64 hex digits, either case, kept lowercase. */
static bool hash_item(const char *b, size_t len, char *dst)
{
	if (len != CFG_HASH_HEX)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (!isxdigit((unsigned char)b[i]))
			return false;
		dst[i] = (char)tolower((unsigned char)b[i]);
	}
	return true;
}

static const struct cfg_list_kind hash_kind = {
	.noun = "hashes",
	.stride = CFG_HASH_HEX + 1,
	.item = hash_item,
	.bad = "is not 'any' nor a comma list of public graph hashes "
	       "(64 hex digits, as `mpcctl inspect` prints)",
};

int cfg__set_hashes(const struct cfg_reader *rd, unsigned line, const struct cfg_key *k,
		    const char *val, struct cfg_hashes *field)
{
	struct cfg_hashes l = { 0 };
	void *v;
	int ret;

	if (!strcasecmp(val, "any")) {
		l.any = true;
	} else if (!*val) {
		return cfg__err(rd, MPC_E_FORMAT, line, k->sec, k, val, "%s", hash_kind.bad);
	} else {
		if ((ret = cfg__set_list(rd, line, k, val, &hash_kind, &v, &l.n)) != 0)
			return ret;
		l.v = v;
	}
	free(field->v);
	*field = l;
	return 0;
}

/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * [Policy] AllowModels values: "any" or public graph hashes (the value
 * parser behind the CFG_T_HASHES rows of cfg_keys.c).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cfg_int.h"
#include "err.h"

/* "any", or a comma list of 64-hex-digit hashes (either case, kept lowercase). */
int cfg__set_hashes(const struct cfg_reader *rd, unsigned line, const struct cfg_key *k,
		     const char *val, struct cfg_hashes *field)
{
	struct cfg_hashes l = { 0 };
	const char *s = val;
	size_t i, n = 1;
	int ret = 0;

	if (!strcasecmp(val, "any")) {
		l.any = true;
		goto done;
	}
	for (i = 0; val[i]; i++)
		n += val[i] == ',';
	if (n > CFG_LIST_MAX)
		return cfg__err(rd, MPC_E_TOOBIG, line, k->sec, k, val,
				"lists more than %d hashes", CFG_LIST_MAX);
	if (!(l.v = calloc(n, sizeof(*l.v))))
		return mpc_fail(MPC_E_NOMEM, "config: out of memory");
	for (;;) {
		const char *e = strchr(s, ','), *b;
		size_t len;

		if (!e)
			e = s + strlen(s);
		for (b = s; b < e && (*b == ' ' || *b == '\t'); b++)
			;
		for (len = (size_t)(e - b); len && (b[len - 1] == ' ' || b[len - 1] == '\t'); len--)
			;
		for (i = 0; i < len && i < CFG_HASH_HEX && isxdigit((unsigned char)b[i]); i++)
			l.v[l.n][i] = (char)tolower((unsigned char)b[i]);
		if (len != CFG_HASH_HEX || i != CFG_HASH_HEX) {
			ret = cfg__err(rd, MPC_E_FORMAT, line, k->sec, k, val,
				       "is not 'any' nor a comma list of public graph hashes "
				       "(64 hex digits, as `mpcctl inspect` prints)");
			goto out;
		}
		for (i = 0; i < l.n; i++)
			if (!strcmp(l.v[i], l.v[l.n])) {
				ret = cfg__err(rd, MPC_E_FORMAT, line, k->sec, k, val,
					       "lists %.12s... twice", l.v[i]);
				goto out;
			}
		l.n++;
		if (!*e)
			break;
		s = e + 1;
	}
done:
	free(field->v);
	*field = l;
	l.v = NULL;	/* transferred */
out:
	free(l.v);
	return ret;
}

/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * Driven by the key table of cfg_keys.c: a key's default expanded for a
 * node ({Name}), a value released, and the effective value printed
 * (`mpcd --check`).
 */
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cfg_int.h"
#include "err.h"

int cfg__expand(const struct cfg_key *k, const void *obj, char *dst, size_t n)
{
	const char *s = k->def;
	size_t o = 0;

	while (*s) {
		const char *v = s, *close;
		size_t len = 1;

		if (*s == '{' && (close = strchr(s, '}'))) {
			const struct cfg_key *r;
			char ref[32];

			MPC_CHECK((size_t)(close - s) <= sizeof(ref));
			memcpy(ref, s + 1, (size_t)(close - s) - 1);
			ref[close - s - 1] = '\0';
			r = cfg__key_find(k->sec, ref);
			MPC_CHECK(r && (r->type == CFG_T_NAME || r->type == CFG_T_PATH));
			v = (const char *)obj + r->off;
			if (r->type == CFG_T_PATH)
				v = *(char *const *)v;
			MPC_CHECK(v);	/* the table sets what a default follows first */
			len = strlen(v);
			s = close + 1;
		} else {
			s++;
		}
		if (o + len >= n)
			return MPC_E_TOOBIG;
		memcpy(dst + o, v, len);
		o += len;
	}
	dst[o] = '\0';
	return 0;
}

void cfg__clear(const struct cfg_key *k, void *obj)
{
	void *field = (char *)obj + k->off;

	if (k->type == CFG_T_PATH) {
		free(*(char **)field);
		*(char **)field = NULL;
	} else if (k->type == CFG_T_NAMES) {
		free(((struct cfg_names *)field)->v);
		memset(field, 0, sizeof(struct cfg_names));
	} else if (k->type == CFG_T_HASHES) {
		free(((struct cfg_hashes *)field)->v);
		memset(field, 0, sizeof(struct cfg_hashes));
	}
}

void cfg__print(FILE *f, const struct cfg_key *k, const void *obj)
{
	const void *field = (const char *)obj + k->off;
	char b64[sodium_base64_ENCODED_LEN(CFG_KEYBYTES, sodium_base64_VARIANT_ORIGINAL)];
	const struct cfg_endpoint *ep = field;
	const struct cfg_names *l = field;
	size_t i;

	if (k->flags & CFG_SECRET) {
		fprintf(f, "%s = (hidden)\n", k->name);
		return;
	}
	switch (k->type) {
	case CFG_T_NAME:
		fprintf(f, "%s = %s\n", k->name, (const char *)field);
		break;
	case CFG_T_PATH:
		if (*(char *const *)field)
			fprintf(f, "%s = %s\n", k->name, *(char *const *)field);
		else
			fprintf(f, "# %s = (none)\n", k->name);
		break;
	case CFG_T_ENUM:
		fprintf(f, "%s = %s\n", k->name, k->choices[*(const int *)field]);
		break;
	case CFG_T_UINT:
	case CFG_T_SECONDS:
		fprintf(f, "%s = %" PRIu32 "\n", k->name, *(const uint32_t *)field);
		break;
	case CFG_T_SIZE:
		cfg__fmt_size(b64, sizeof(b64), *(const uint64_t *)field);
		fprintf(f, "%s = %s\n", k->name, b64);
		break;
	case CFG_T_KEY:
		sodium_bin2base64(b64, sizeof(b64), field, CFG_KEYBYTES,
				  sodium_base64_VARIANT_ORIGINAL);
		fprintf(f, "%s = %s\n", k->name, b64);
		break;
	case CFG_T_ENDPOINT:
		if (!ep->set)
			fprintf(f, "# %s = (none)\n", k->name);
		else if (ep->family == AF_INET6)
			fprintf(f, "%s = [%s]:%u\n", k->name, ep->host, ep->port);
		else
			fprintf(f, "%s = %s:%u\n", k->name, ep->host, ep->port);
		break;
	case CFG_T_NAMES:
		fprintf(f, "%s =", k->name);
		for (i = 0; i < l->n; i++)
			fprintf(f, "%s%s", i ? ", " : " ", l->v[i]);
		fputc('\n', f);
		break;
	case CFG_T_HASHES: {
		const struct cfg_hashes *h = field;

		fprintf(f, "%s =%s", k->name, h->any ? " any" : "");
		for (i = 0; i < h->n; i++)
			fprintf(f, "%s%s", i ? ", " : " ", h->v[i]);
		fputc('\n', f);
		break;
	}
	}
}

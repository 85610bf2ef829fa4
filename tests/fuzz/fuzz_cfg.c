/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * cfg_parse on arbitrary bytes. Beyond not crashing: a failure leaves no
 * config and one line of message naming the file; a success dumps to a
 * config that parses back to the same dump, and every peer is found again
 * by its name and by its key.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/cfg.h"
#include "err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *dump(const struct cfg *c, size_t *n)
{
	char *s = NULL;
	FILE *f = open_memstream(&s, n);

	if (!f || cfg_dump(c, f))
		abort();
	fclose(f);
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cfg *c = NULL, *c2 = NULL;
	char *d1, *d2;
	size_t n1, n2, i;
	int r;

	r = cfg_parse((const char *)data, size, "fuzz.conf", &c);
	if (r) {
		const char *m = mpc_errmsg(r);

		if (c || r >= 0 || strncmp(m, "fuzz.conf", 9) || strchr(m, '\n'))
			abort();
		mpc_err_clear();
		return 0;
	}
	for (i = 0; i < c->n_peers; i++)
		if (cfg_peer_by_name(c, c->peers[i].name) != &c->peers[i] ||
		    cfg_peer_by_key(c, c->peers[i].pub) != &c->peers[i])
			abort();
	d1 = dump(c, &n1);
	if (cfg_parse(d1, n1, "fuzz.conf", &c2))
		abort();
	d2 = dump(c2, &n2);
	if (n1 != n2 || memcmp(d1, d2, n1))
		abort();
	free(d1);
	free(d2);
	cfg_free(c);
	cfg_free(c2);
	return 0;
}

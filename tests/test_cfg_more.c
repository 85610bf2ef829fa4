/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * Configuration: lookups, the shipped example configs, and mutated text
 * (the parser's own cases are in test_cfg.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "cfg_util.h"
#include "err.h"
#include "test.h"

TEST(cfg_lookup)
{
	uint8_t other[32] = { 9 };
	struct cfg *c;

	test_cfg_keys_init();
	ASSERT_OK(parse_str(design_example, &c));
	ASSERT(cfg_peer_by_name(c, "gamma") == &c->peers[1]);
	ASSERT(cfg_peer_by_name(c, "alpha") == NULL);
	ASSERT(cfg_peer_by_name(c, "Beta") == NULL);	/* names are exact */
	ASSERT(cfg_peer_by_name(c, NULL) == NULL);
	ASSERT(cfg_peer_by_key(c, P[0]) == &c->peers[0]);
	ASSERT(cfg_peer_by_key(c, P[1]) == &c->peers[1]);
	ASSERT(cfg_peer_by_key(c, other) == NULL);
	/* A key differing from a pinned one in one byte only, first or last. */
	memcpy(other, P[1], sizeof(other));
	other[31] ^= 1;
	ASSERT(cfg_peer_by_key(c, other) == NULL);
	memcpy(other, P[1], sizeof(other));
	other[0] ^= 0x80;
	ASSERT(cfg_peer_by_key(c, other) == NULL);
	ASSERT(cfg_dataset_by_name(c, "scans") == &c->datasets[0]);
	ASSERT(cfg_dataset_by_name(c, "lenet") == NULL);
	ASSERT(cfg_model_by_name(c, "lenet") == &c->models[0]);
	ASSERT(cfg_model_by_name(c, "scans") == NULL);
	STREQ(cfg_role_name(CFG_ROLE_DEALER), "dealer");
	STREQ(cfg_approve_name(CFG_APPROVE_MANUAL), "manual");
	cfg_free(c);
	return 0;
}

TEST(cfg_examples)
{
	static const char *const names[] = { "alpha", "beta", "gamma", "dealer" };
	const struct cfg *all[4];
	struct cfg *c;
	char path[64];
	size_t i, j, n;
	char *t;

	for (i = 0; i < 4; i++) {
		snprintf(path, sizeof(path), "deploy/examples/%s.conf", names[i]);
		t = slurp_text(path, &n);
		ASSERT_OK(cfg_parse(t, n, path, &c));
		STREQ(c->node.name, names[i]);
		ASSERT_EQ(c->node.listen.port, 7101 + i);
		ASSERT_EQ(c->n_peers, 3);
		ASSERT_EQ(c->node.role, i == 3 ? CFG_ROLE_DEALER : CFG_ROLE_COMPUTE);
		all[i] = c;
		free(t);
	}
	/* Each node's peers carry the others' keys and endpoints consistently. */
	for (i = 0; i < 4; i++)
		for (j = 0; j < 4; j++) {
			const struct cfg_peer *p = cfg_peer_by_name(all[i], names[j]);

			if (i == j) {
				ASSERT(p == NULL);
				continue;
			}
			ASSERT(p);
			ASSERT_EQ(p->role, all[j]->node.role);
			/* The dealer waits for the others to dial in. */
			ASSERT_EQ(p->endpoint.set, i != 3);
			if (p->endpoint.set)
				ASSERT_EQ(p->endpoint.port, all[j]->node.listen.port);
			ASSERT(!memcmp(p->pub, cfg_peer_by_name(all[(j + 1 + (i == (j + 1) % 4)) % 4],
								names[j])->pub, 32));
		}
	for (i = 0; i < 4; i++)
		cfg_free((struct cfg *)all[i]);
	return 0;
}

/* Bit flips, truncations and spliced bytes: never a crash, always one line. */
TEST(cfg_mutate)
{
	static const char junk[] = "[]=#;,:\n\r\t \xff\x00";
	char *t, *m;
	size_t n, i, it;
	struct cfg *c;
	uint32_t seed = 0x9e3779b9;

	test_cfg_keys_init();
	t = subst(design_example);
	n = strlen(t);
	m = malloc(n + 64);
	ASSERT(m);
	for (it = 0; it < 20000; it++) {
		size_t len = n, k = 1 + it % 4;
		int r;

		memcpy(m, t, n);
		for (i = 0; i < k; i++) {
			seed = seed * 1664525u + 1013904223u;
			switch ((seed >> 8) % 4) {
			case 0: m[(seed >> 12) % len] ^= (char)(1u << ((seed >> 3) % 8)); break;
			case 1: len = (seed >> 12) % len + 1; break;
			case 2: m[(seed >> 12) % len] = junk[(seed >> 4) % (sizeof(junk) - 1)]; break;
			default: m[(seed >> 12) % len] = (char)(seed >> 20); break;
			}
		}
		r = cfg_parse(m, len, "alpha.conf", &c);
		if (r) {
			ASSERT(c == NULL);
			ASSERT(!strncmp(mpc_errmsg(r), "alpha.conf", 10));
			ASSERT(!strchr(mpc_errmsg(r), '\n'));
			mpc_err_clear();
			continue;
		}
		free(dump_str(c));
		cfg_free(c);
	}
	free(m);
	free(t);
	return 0;
}

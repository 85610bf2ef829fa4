/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * Pre-authentication limits (daemon/preauth.c) with the loop's clock
 * stopped, so no bucket refills: the per-source and global handshake
 * buckets, the peers' known addresses outside the global one, the caps
 * on unauthenticated connections, and an address learned when a peer
 * authenticates. tests/daemon/test_hostile.sh tests the daemon under
 * the same floods.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sodium.h>
#include <uv.h>

#include "err.h"
#include "preauth.h"
#include "server.h"
#include "test.h"

struct fixture {
	uv_loop_t loop;
	struct cfg cfg;
	struct peer peers[2];
	struct cfg_peer cpeers[2];
	struct server s;
};

static void setup(struct fixture *f)
{
	memset(f, 0, sizeof(*f));
	ASSERT(sodium_init() >= 0);
	ASSERT_EQ(uv_loop_init(&f->loop), 0);
	f->cfg.node.max_jobs = 4;
	f->cfg.n_peers = 2;
	f->cfg.peers = f->cpeers;
	f->s.cfg = &f->cfg;
	f->s.loop = &f->loop;
	f->s.peers = f->peers;
	f->s.n_peers = 2;
	f->s.peers_cap = 2;
	for (int i = 0; i < 2; i++) {
		f->peers[i].srv = &f->s;
		f->peers[i].cfg = &f->cpeers[i];
	}
	ASSERT_OK(preauth_init(&f->s));
}

static void teardown(struct fixture *f)
{
	preauth_free(&f->s);
	ASSERT_EQ(uv_loop_close(&f->loop), 0);
}

static struct sockaddr_in v4(const char *a)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(40000) };

	ASSERT(inet_pton(AF_INET, a, &sa.sin_addr) == 1);
	return sa;
}

/* Accept from a, then try message 1: 1 answered, 0 refused; the ticket is released. */
static int hs_from(struct server *s, const char *a)
{
	struct sockaddr_in sa = v4(a);
	struct pa_ticket t;
	char why[96];
	int ok;

	ASSERT_EQ(preauth_accept(s, (struct sockaddr *)&sa, &t, why, sizeof(why)), 0);
	ok = preauth_handshake(s, &t);
	preauth_done(s, &t, NULL);
	return ok;
}

TEST(preauth_buckets)
{
	static struct fixture f;
	struct sockaddr_in ep = v4("10.0.0.1");
	int n = 0;

	setup(&f);
	preauth_endpoint(&f.s, &f.peers[0], (struct sockaddr *)&ep);
	/* One source: its burst, then nothing, while another still gets in. */
	for (int i = 0; i < 100; i++)
		n += hs_from(&f.s, "192.0.2.1");
	ASSERT_EQ(n, (int)PA_SRC_BURST);
	ASSERT_EQ(hs_from(&f.s, "192.0.2.2"), 1);
	/* Many sources: the global bucket for unknown ones runs dry... */
	for (int i = 3; i < 100; i++) {
		char a[32];

		snprintf(a, sizeof(a), "192.0.2.%d", i);
		n += hs_from(&f.s, a);
	}
	ASSERT_EQ(n, (int)PA_ALL_BURST - 1);
	ASSERT_EQ(hs_from(&f.s, "198.51.100.7"), 0);
	/* ...and a peer's known address is not in it: its own burst. */
	n = 0;
	for (int i = 0; i < 100; i++)
		n += hs_from(&f.s, "10.0.0.1");
	ASSERT_EQ(n, (int)PA_SRC_BURST);
	teardown(&f);
	return 0;
}

TEST(preauth_connections)
{
	static struct fixture f;
	static struct pa_ticket t[400];
	struct sockaddr_in sa = v4("192.0.2.1");
	uint32_t known_max = 2 * 2 + 8, held = 0;
	char why[96];
	int k = 0;

	setup(&f);
	/* Per unknown source: PA_SRC_CONNS, then refused with the reason. */
	for (int i = 0; i < PA_SRC_CONNS; i++)
		ASSERT_EQ(preauth_accept(&f.s, (struct sockaddr *)&sa, &t[k++], why, sizeof(why)), 0);
	ASSERT_EQ(preauth_accept(&f.s, (struct sockaddr *)&sa, &t[k], why, sizeof(why)), -1);
	ASSERT(strstr(why, "unauthenticated connections from it"));
	held = PA_SRC_CONNS;
	/* All unknown sources: at most PA_UNKNOWN_CAP (RLIMIT_NOFILE allowing). */
	for (int i = 2; i < 250 && k < 400; i++) {
		char a[32];

		snprintf(a, sizeof(a), "192.0.2.%d", i);
		sa = v4(a);
		for (int j = 0; j < 2 && k < 400; j++) {
			if (preauth_accept(&f.s, (struct sockaddr *)&sa, &t[k], why, sizeof(why)) != 0)
				goto full;
			k++;
			held++;
		}
	}
	TEST_FAIL("no cap on unauthenticated connections after %u", held);
full:
	ASSERT(strstr(why, "(the limit)"));
	ASSERT(held >= 2 * PA_UNKNOWN_MIN && held <= PA_UNKNOWN_CAP);
	/* A connection that authenticates as peer 1 leaves the pool; its address is known. */
	preauth_done(&f.s, &t[0], &f.peers[1]);
	ASSERT_EQ(t[0].kind, PA_NONE);
	sa = v4("192.0.2.1");
	ASSERT_EQ(preauth_accept(&f.s, (struct sockaddr *)&sa, &t[0], why, sizeof(why)), 0);
	ASSERT_EQ(t[0].kind, PA_KNOWN);
	ASSERT_EQ(t[0].idx, 1);
	/* The known pool is its own, and capped too. */
	for (uint32_t i = 1; i < known_max; i++)
		ASSERT_EQ(preauth_accept(&f.s, (struct sockaddr *)&sa, &t[k++], why, sizeof(why)), 0);
	ASSERT_EQ(preauth_accept(&f.s, (struct sockaddr *)&sa, &t[k], why, sizeof(why)), -1);
	ASSERT(strstr(why, "peers' addresses"));
	for (int i = 0; i < k; i++)
		preauth_done(&f.s, &t[i], NULL);
	ASSERT_EQ(preauth_accept(&f.s, (struct sockaddr *)&sa, &t[0], why, sizeof(why)), 0);
	preauth_done(&f.s, &t[0], NULL);
	teardown(&f);
	return 0;
}

/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * The daemon's config parser: the design example, defaults, syntax, values,
 * every error class with its exact code and message, dump round trips,
 * loading files, lookups, the shipped examples and mutated input. Policy
 * and audit log tests are in test_policy_audit.c.
 */
#include <fcntl.h>
#include <sodium.h>
#include <stdarg.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cfg.h"
#include "cfg_util.h"
#include "err.h"
#include "files_util.h"
#include "pool.h"
#include "test.h"

/* Parse must fail with exactly this code and message, and leave no config. */
static void expect_fail(const char *text, int code, const char *msg)
{
	struct cfg *c = (struct cfg *)1;
	char *want = subst(msg);
	int r = parse_str(text, &c);

	if (r != code || strcmp(mpc_errmsg(r), want))
		TEST_FAIL("config\n%s\n--> %d '%s'\nwanted %d '%s'", text, r, mpc_errmsg(r),
			  code, want);
	ASSERT(c == NULL);
	ASSERT(!strchr(mpc_errmsg(r), '\n'));
	free(want);
	mpc_err_clear();
}

TEST(cfg_design_example)
{
	char *t;
	struct cfg *c;

	test_cfg_keys_init();
	t = subst(design_example);
	/* Relative paths follow the file's directory. */
	ASSERT_OK(cfg_parse(t, strlen(t), "/etc/mpcd/alpha.conf", &c));
	STREQ(c->path, "/etc/mpcd/alpha.conf");
	STREQ(c->node.name, "alpha");
	STREQ(c->node.private_key_file, "/etc/mpcd/alpha.key");
	ASSERT(c->node.listen.set && c->node.listen.family == AF_INET);
	STREQ(c->node.listen.host, "127.0.0.1");
	ASSERT_EQ(c->node.listen.port, 7101);
	STREQ(c->node.control_socket, "/run/mpcd/alpha.sock");
	STREQ(c->node.data_dir, "/var/lib/mpcd/alpha");
	STREQ(c->node.audit_log, "/var/lib/mpcd/alpha/audit.log");
	ASSERT_EQ(c->node.role, CFG_ROLE_COMPUTE);
	ASSERT_EQ(c->node.line, 1);
	ASSERT_EQ(c->n_peers, 2);
	STREQ(c->peers[0].name, "beta");
	ASSERT(!memcmp(c->peers[0].pub, P[0], 32));
	STREQ(c->peers[0].endpoint.host, "127.0.0.1");
	ASSERT_EQ(c->peers[0].endpoint.port, 7102);
	ASSERT_EQ(c->peers[0].role, CFG_ROLE_COMPUTE);
	ASSERT_EQ(c->peers[0].line, 8);
	STREQ(c->peers[1].name, "gamma");
	ASSERT(!memcmp(c->peers[1].pub, P[1], 32));
	ASSERT_EQ(c->peers[1].endpoint.port, 7103);
	ASSERT_EQ(c->n_datasets, 1);
	STREQ(c->datasets[0].name, "scans");
	STREQ(c->datasets[0].path, "/data/scans.npy");
	ASSERT_EQ(c->n_models, 1);
	STREQ(c->models[0].name, "lenet");
	STREQ(c->models[0].path, "/models/lenet.onnx");
	STREQ(c->models[0].weights, "/models/lenet.safetensors");
	ASSERT_EQ(c->policy.approve, CFG_APPROVE_AUTO);
	ASSERT_EQ(c->policy.allow_recipients.n, 2);
	STREQ(c->policy.allow_recipients.v[0], "alpha");
	STREQ(c->policy.allow_recipients.v[1], "beta");
	ASSERT_EQ(c->policy.allow_peers.n, 2);
	STREQ(c->policy.allow_peers.v[0], "beta");
	STREQ(c->policy.allow_peers.v[1], "gamma");
	ASSERT_EQ(c->policy.approve_timeout, 3600);
	ASSERT_EQ(c->policy.line, 28);
	cfg_free(c);
	/* Without a directory in the name, paths stay as written. */
	ASSERT_OK(cfg_parse(t, strlen(t), "alpha.conf", &c));
	STREQ(c->node.private_key_file, "alpha.key");
	cfg_free(c);
	free(t);
	cfg_free(NULL);
	return 0;
}

TEST(cfg_defaults)
{
	struct cfg *c;

	test_cfg_keys_init();
	ASSERT_OK(parse_str("[Node]\nName = alpha\nPrivateKeyFile = /k/a.key\n"
			    "Listen = [::1]:7101\n", &c));
	ASSERT_EQ(c->node.listen.family, AF_INET6);
	STREQ(c->node.listen.host, "::1");
	STREQ(c->node.control_socket, "/run/mpcd/alpha.sock");
	STREQ(c->node.data_dir, "/var/lib/mpcd/alpha");
	STREQ(c->node.audit_log, "/var/lib/mpcd/alpha/audit.log");
	ASSERT_EQ(c->node.role, CFG_ROLE_COMPUTE);
	ASSERT_EQ(c->node.max_frame, 1 << 20);
	ASSERT_EQ(c->node.max_jobs, 4);
	ASSERT_EQ(c->node.job_memory, 1 << 30);
	ASSERT_EQ(c->node.handshake_timeout, 5);
	ASSERT_EQ(c->node.idle_timeout, 60);
	ASSERT_EQ(c->n_peers + c->n_datasets + c->n_models, 0);
	/* No [Policy]: manual, outputs only to this node, no proposer. */
	ASSERT_EQ(c->policy.line, 0);
	ASSERT_EQ(c->policy.approve, CFG_APPROVE_MANUAL);
	ASSERT_EQ(c->policy.allow_recipients.n, 1);
	STREQ(c->policy.allow_recipients.v[0], "alpha");
	ASSERT_EQ(c->policy.allow_peers.n, 0);
	ASSERT_EQ(c->policy.approve_timeout, 3600);
	cfg_free(c);
	/* AuditLog follows DataDir; a dealer gets no recipients. */
	ASSERT_OK(parse_str("[Node]\nName = d.1\nPrivateKeyFile = k\nListen = dealer.example:9\n"
			    "DataDir = /srv/d\nRole = dealer\n[Peer]\nName = beta\n"
			    "PublicKey = @K1@\n[Policy]\n", &c));
	STREQ(c->node.audit_log, "/srv/d/audit.log");
	STREQ(c->node.control_socket, "/run/mpcd/d.1.sock");
	ASSERT_EQ(c->node.listen.family, AF_UNSPEC);
	ASSERT_EQ(c->node.role, CFG_ROLE_DEALER);
	ASSERT_EQ(c->policy.allow_recipients.n, 0);
	ASSERT_EQ(c->policy.approve, CFG_APPROVE_MANUAL);
	ASSERT_EQ(c->peers[0].endpoint.set, 0);
	cfg_free(c);
	return 0;
}

TEST(cfg_syntax)
{
	static const char text[] =
		"\xef\xbb\xbf; a comment\r\n"
		"  # another\r\n"
		"\r\n"
		"[ node ]\r\n"
		"NAME=alpha;trailing\r\n"
		"\tprivatekeyfile   =   my key.key   \r\n"
		"listen= 0.0.0.0:7101 # all\r\n"
		"[PEER]\r\n"
		"name = beta\r\n"
		"publickey = @K1@ ; its key\r\n"
		"[policy]\r\n"
		"allowpeers =\r\n"
		"approve = AUTO";	/* no final newline */
	struct cfg *c;

	test_cfg_keys_init();
	ASSERT_OK(parse_str(text, &c));
	STREQ(c->node.name, "alpha");
	STREQ(c->node.private_key_file, "my key.key");
	STREQ(c->node.listen.host, "0.0.0.0");
	STREQ(c->peers[0].name, "beta");
	ASSERT(!memcmp(c->peers[0].pub, P[0], 32));
	ASSERT_EQ(c->policy.allow_peers.n, 0);
	ASSERT_EQ(c->policy.approve, CFG_APPROVE_AUTO);
	ASSERT_EQ(c->policy.line, 11);
	cfg_free(c);
	return 0;
}

static struct cfg *node_with(const char *extra)
{
	char text[8192];
	struct cfg *c;

	snprintf(text, sizeof(text), NODE_HEAD "%s", extra);
	ASSERT_OK(parse_str(text, &c));
	return c;
}

TEST(cfg_values)
{
	static const struct {
		const char *v;
		uint64_t bytes;
	} sizes[] = {
		{ "65536", 65536 }, { "64K", 64 << 10 }, { "64k", 64 << 10 },
		{ "16M", 16 << 20 }, { "2m", 2 << 20 }, { "1048577", (1 << 20) + 1 },
	};
	static const char *const eps[][3] = {
		{ "10.1.2.3:1", "10.1.2.3", "1" }, { "[fe80::1]:65535", "fe80::1", "65535" },
		{ "a-b.example.org:7102", "a-b.example.org", "7102" },
		{ "localhost:07103", "localhost", "7103" },
	};
	char extra[256];
	struct cfg *c;
	size_t i;

	test_cfg_keys_init();
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		snprintf(extra, sizeof(extra), "MaxFrame = %s\n", sizes[i].v);
		c = node_with(extra);
		ASSERT_U64_EQ(c->node.max_frame, sizes[i].bytes);
		cfg_free(c);
	}
	c = node_with("JobMemory = 1024G\nMaxJobs = 64\nHandshakeTimeout = 5m\n"
		      "IdleTimeout = 1d\n[Policy]\nApproveTimeout = 7d\n");
	ASSERT_U64_EQ(c->node.job_memory, (uint64_t)1 << 40);
	ASSERT_EQ(c->node.max_jobs, 64);
	ASSERT_EQ(c->node.handshake_timeout, 300);
	ASSERT_EQ(c->node.idle_timeout, 86400);
	ASSERT_EQ(c->policy.approve_timeout, 604800);
	cfg_free(c);
	/* Threads: set, or the machine's cores. */
	c = node_with("Threads = 7\n");
	ASSERT_EQ(c->node.threads, 7);
	cfg_free(c);
	c = node_with("");
	ASSERT_EQ(c->node.threads, pool_cores());
	cfg_free(c);
	c = node_with("MaxJobs = 1\nHandshakeTimeout = 1s\nIdleTimeout = 2h\n"
		      "[Policy]\nApproveTimeout = 1\n");
	ASSERT_EQ(c->node.max_jobs, 1);
	ASSERT_EQ(c->node.handshake_timeout, 1);
	ASSERT_EQ(c->node.idle_timeout, 7200);
	ASSERT_EQ(c->policy.approve_timeout, 1);
	cfg_free(c);
	for (i = 0; i < sizeof(eps) / sizeof(eps[0]); i++) {
		snprintf(extra, sizeof(extra), "[Peer]\nName = b\nPublicKey = @K1@\nEndpoint = %s\n",
			 eps[i][0]);
		c = node_with(extra);
		STREQ(c->peers[0].endpoint.host, eps[i][1]);
		ASSERT_EQ(c->peers[0].endpoint.port, atoi(eps[i][2]));
		ASSERT_EQ(c->peers[0].endpoint.family, i == 0 ? AF_INET : i == 1 ? AF_INET6 :
						       AF_UNSPEC);
		cfg_free(c);
	}
	c = node_with("[Dataset]\nName = a_32_char_name.with-all.kinds_0\nPath = x.CSV\n"
		      "[Model]\nName = m\nPath = m.onnx\n");
	STREQ(c->datasets[0].name, "a_32_char_name.with-all.kinds_0");
	ASSERT(c->models[0].weights == NULL);
	cfg_free(c);
	return 0;
}

/* The peer beta (lines 1-3) then the node (4-7); the extra text starts at line 8. */
#define BASE "[Peer]\nName = beta\nPublicKey = @K1@\n" \
	     "[Node]\nName = alpha\nPrivateKeyFile = alpha.key\nListen = 127.0.0.1:7101\n"
#define PEER_G "[Peer]\nName = gamma\nPublicKey = @K2@\n"

static const struct bad {
	const char *extra;
	int code;
	const char *msg;
} bad[] = {
	/* syntax */
	{ "Colour = red\n", MPC_E_FORMAT,
	  "alpha.conf:8: [Node]: 'Colour' is not a key of this section" },
	{ "[Peer]\nName = g\nPresharedKey = x\n", MPC_E_FORMAT,
	  "alpha.conf:10: [Peer]: 'PresharedKey' is not a key of this section" },
	{ "[Frobnicate]\n", MPC_E_FORMAT,
	  "alpha.conf:8: 'Frobnicate' is not a section (Node, Peer, Dataset, Model, Policy)" },
	{ "[Node\n", MPC_E_FORMAT, "alpha.conf:8: '[Node' is not a [Section] header" },
	{ "just words\n", MPC_E_FORMAT,
	  "alpha.conf:8: [Node]: 'just words' is neither 'Key = Value' nor a [Section] header" },
	{ "name = alpha2\n", MPC_E_FORMAT,
	  "alpha.conf:8: [Node] Name: set twice in one section (first at line 5)" },
	{ "[Node]\n", MPC_E_FORMAT, "alpha.conf:8: [Node]: only one such section (first at line 4)" },
	{ "[Policy]\n[policy]\n", MPC_E_FORMAT,
	  "alpha.conf:9: [Policy]: only one such section (first at line 8)" },
	{ "DataDir =\n", MPC_E_FORMAT, "alpha.conf:8: [Node] DataDir: empty value" },
	/* missing required keys name the section's line */
	{ "[Peer]\nName = gamma\n", MPC_E_FORMAT, "alpha.conf:8: [Peer] PublicKey: missing (required)" },
	{ "[Dataset]\nPath = a.npy\n[Model]\n", MPC_E_FORMAT,
	  "alpha.conf:8: [Dataset] Name: missing (required)" },
	{ "[Model]\nName = m\n", MPC_E_FORMAT, "alpha.conf:8: [Model] Path: missing (required)" },
	/* keys */
	{ "[Peer]\nName = gamma\nPublicKey = abc\n", MPC_E_FORMAT,
	  "alpha.conf:10: [Peer] PublicKey: 'abc' is not a base64 32-byte key" },
	{ "[Peer]\nName = gamma\nPublicKey = AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==\n",
	  MPC_E_FORMAT, "alpha.conf:10: [Peer] PublicKey: "
			"'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==' is not a base64 32-byte key" },
	{ "[Peer]\nName = gamma\nPublicKey = AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
	  MPC_E_FORMAT, "alpha.conf:10: [Peer] PublicKey: "
			"'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=' is the all-zero key" },
	{ "[Peer]\nName = gamma\nPublicKey = @K2@x\n", MPC_E_FORMAT,
	  "alpha.conf:10: [Peer] PublicKey: '@K2@x' is not a base64 32-byte key" },
	/* peers */
	{ "[Peer]\nName = beta\nPublicKey = @K2@\n", MPC_E_FORMAT,
	  "alpha.conf:9: [Peer] Name: 'beta' is already the name of the [Peer] at line 1" },
	{ "[Peer]\nName = gamma\nPublicKey = @K1@\n", MPC_E_FORMAT,
	  "alpha.conf:10: [Peer] PublicKey: '@K1@' is already the key of peer 'beta' (line 1)" },
	{ "[Peer]\nName = alpha\nPublicKey = @K2@\n", MPC_E_FORMAT,
	  "alpha.conf:8: [Peer] Name: 'alpha' is this node's own name" },
	{ "[Peer]\nName = gamma\nPublicKey = @K2@\nRole = boss\n", MPC_E_FORMAT,
	  "alpha.conf:11: [Peer] Role: 'boss' is not compute or dealer" },
	/* numbers */
	{ "MaxFrame = 32K\n", MPC_E_RANGE, "alpha.conf:8: [Node] MaxFrame: '32K' is out of range 64K..16M" },
	{ "MaxFrame = 17M\n", MPC_E_RANGE, "alpha.conf:8: [Node] MaxFrame: '17M' is out of range 64K..16M" },
	{ "MaxFrame = 1.5M\n", MPC_E_FORMAT, "alpha.conf:8: [Node] MaxFrame: '1.5M' is not a size "
					     "(bytes, or a number with K, M or G)" },
	{ "JobMemory = 99999999999G\n", MPC_E_FORMAT, "alpha.conf:8: [Node] JobMemory: "
		"'99999999999G' is not a size (bytes, or a number with K, M or G)" },
	{ "JobMemory = 2T\n", MPC_E_FORMAT, "alpha.conf:8: [Node] JobMemory: '2T' is not a size "
					    "(bytes, or a number with K, M or G)" },
	{ "MaxJobs = 65\n", MPC_E_RANGE, "alpha.conf:8: [Node] MaxJobs: '65' is out of range 1..64" },
	{ "MaxJobs = 0\n", MPC_E_RANGE, "alpha.conf:8: [Node] MaxJobs: '0' is out of range 1..64" },
	{ "Threads = 0\n", MPC_E_RANGE, "alpha.conf:8: [Node] Threads: '0' is out of range 1..256" },
	{ "Threads = 257\n", MPC_E_RANGE, "alpha.conf:8: [Node] Threads: '257' is out of range 1..256" },
	{ "MaxJobs = -1\n", MPC_E_FORMAT, "alpha.conf:8: [Node] MaxJobs: '-1' is not a number" },
	{ "MaxJobs = 4 jobs\n", MPC_E_FORMAT, "alpha.conf:8: [Node] MaxJobs: '4 jobs' is not a number" },
	{ "HandshakeTimeout = 0\n", MPC_E_RANGE,
	  "alpha.conf:8: [Node] HandshakeTimeout: '0' is out of range 1..300 seconds" },
	{ "IdleTimeout = 5x\n", MPC_E_FORMAT, "alpha.conf:8: [Node] IdleTimeout: '5x' is not a "
					      "duration (seconds, or a number with s, m, h or d)" },
	{ "[Policy]\nApproveTimeout = 8d\n", MPC_E_RANGE,
	  "alpha.conf:9: [Policy] ApproveTimeout: '8d' is out of range 1..604800 seconds" },
	{ "Role = boss\n", MPC_E_FORMAT, "alpha.conf:8: [Node] Role: 'boss' is not compute or dealer" },
	{ "Cipher = aes\n", MPC_E_FORMAT,
	  "alpha.conf:8: [Node] Cipher: 'aes' is not auto, aesgcm or chachapoly" },
	{ "[Policy]\nApprove = yes\n", MPC_E_FORMAT,
	  "alpha.conf:9: [Policy] Approve: 'yes' is not manual or auto" },
	/* endpoints */
	{ PEER_G "Endpoint = 10.0.0.1\n", MPC_E_FORMAT,
	  "alpha.conf:11: [Peer] Endpoint: '10.0.0.1' has no :port" },
	{ PEER_G "Endpoint = ::1:7101\n", MPC_E_FORMAT, "alpha.conf:11: [Peer] Endpoint: '::1:7101' "
		"needs brackets around an IPv6 address, as [::1]:7101" },
	{ PEER_G "Endpoint = [::1:7101\n", MPC_E_FORMAT, "alpha.conf:11: [Peer] Endpoint: "
		"'[::1:7101' is not host:port ([IPv6]:port for IPv6)" },
	{ PEER_G "Endpoint = [::zz]:7101\n", MPC_E_FORMAT,
	  "alpha.conf:11: [Peer] Endpoint: '[::zz]:7101' has no valid IPv6 address" },
	{ PEER_G "Endpoint = 300.1.1.1:7101\n", MPC_E_FORMAT,
	  "alpha.conf:11: [Peer] Endpoint: '300.1.1.1:7101' has no valid IPv4 address" },
	{ PEER_G "Endpoint = bad_host:7101\n", MPC_E_FORMAT,
	  "alpha.conf:11: [Peer] Endpoint: 'bad_host:7101' has no valid host name" },
	{ PEER_G "Endpoint = -a.b:7101\n", MPC_E_FORMAT,
	  "alpha.conf:11: [Peer] Endpoint: '-a.b:7101' has no valid host name" },
	{ PEER_G "Endpoint = :7101\n", MPC_E_FORMAT,
	  "alpha.conf:11: [Peer] Endpoint: ':7101' has no valid host" },
	{ PEER_G "Endpoint = host:\n", MPC_E_FORMAT,
	  "alpha.conf:11: [Peer] Endpoint: 'host:' has no valid port number" },
	{ PEER_G "Endpoint = host:0\n", MPC_E_RANGE,
	  "alpha.conf:11: [Peer] Endpoint: 'host:0' has a port out of range 1..65535" },
	{ PEER_G "Endpoint = host:65536\n", MPC_E_RANGE,
	  "alpha.conf:11: [Peer] Endpoint: 'host:65536' has a port out of range 1..65535" },
	/* names and paths */
	{ "[Dataset]\nName = my data\n", MPC_E_FORMAT,
	  "alpha.conf:9: [Dataset] Name: 'my data' is not a name (1-32 of A-Z a-z 0-9 _ . -)" },
	{ "[Dataset]\nName = abcdefghijklmnopqrstuvwxyz0123456\n", MPC_E_FORMAT,
	  "alpha.conf:9: [Dataset] Name: 'abcdefghijklmnopqrstuvwxyz0123456' is not a name "
	  "(1-32 of A-Z a-z 0-9 _ . -)" },
	{ "[Dataset]\nName = d\nPath = /x/scans.txt\n", MPC_E_FORMAT,
	  "alpha.conf:10: [Dataset] Path: '/x/scans.txt' does not end in .npy or .csv" },
	{ "[Model]\nName = m\nPath = m.pt\n", MPC_E_FORMAT,
	  "alpha.conf:10: [Model] Path: 'm.pt' does not end in .onnx" },
	{ "[Model]\nName = m\nPath = m.onnx\nWeights = w.bin\n", MPC_E_FORMAT,
	  "alpha.conf:11: [Model] Weights: 'w.bin' does not end in .safetensors" },
	{ "DataDir = /a\x01\xffz\n", MPC_E_FORMAT,
	  "alpha.conf:8: [Node] DataDir: '/a\\x01\\xffz' contains a control character" },
	{ "[Dataset]\nName = d\nPath = a.npy\n[Dataset]\nName = d\nPath = b.npy\n", MPC_E_FORMAT,
	  "alpha.conf:12: [Dataset] Name: 'd' is already the name of the [Dataset] at line 8" },
	{ "[Model]\nName = m\nPath = a.onnx\n[Model]\nName = m\nPath = b.onnx\n", MPC_E_FORMAT,
	  "alpha.conf:12: [Model] Name: 'm' is already the name of the [Model] at line 8" },
	/* policy names */
	{ "[Policy]\nAllowPeers = delta\n", MPC_E_FORMAT,
	  "alpha.conf:9: [Policy] AllowPeers: 'delta' is not a configured peer" },
	{ "[Policy]\nAllowPeers = beta, alpha\n", MPC_E_FORMAT,
	  "alpha.conf:9: [Policy] AllowPeers: 'alpha' is this node (its operator may always propose)" },
	{ "[Policy]\nAllowRecipients = alpha, zeta\n", MPC_E_FORMAT,
	  "alpha.conf:9: [Policy] AllowRecipients: 'zeta' is neither this node nor a configured peer" },
	{ PEER_G "Role = dealer\n[Policy]\nAllowRecipients = alpha,gamma\n", MPC_E_FORMAT,
	  "alpha.conf:13: [Policy] AllowRecipients: 'gamma' is a dealer, which never receives data" },
	{ "Role = dealer\n[Policy]\nAllowRecipients = alpha\n", MPC_E_FORMAT,
	  "alpha.conf:10: [Policy] AllowRecipients: 'alpha' is a dealer, which never receives data" },
	{ "[Policy]\nAllowPeers = beta, beta\n", MPC_E_FORMAT,
	  "alpha.conf:9: [Policy] AllowPeers: 'beta, beta' lists 'beta' twice" },
	{ "[Policy]\nAllowPeers = beta,,gamma\n", MPC_E_FORMAT,
	  "alpha.conf:9: [Policy] AllowPeers: 'beta,,gamma' is not a comma list of names "
	  "(1-32 of A-Z a-z 0-9 _ . -)" },
	{ "Role = dealer\n[Dataset]\nName = d\nPath = d.npy\n", MPC_E_FORMAT,
	  "alpha.conf:9: [Dataset]: a dealer node (Role = dealer) holds no data or models" },
};

TEST(cfg_errors)
{
	char text[8192];
	size_t i;

	test_cfg_keys_init();
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), BASE "%s", bad[i].extra);
		expect_fail(text, bad[i].code, bad[i].msg);
	}
	expect_fail("Name = alpha\n[Node]\n", MPC_E_FORMAT,
		    "alpha.conf:1: 'Name' comes before any [Section] header");
	expect_fail("[Peer]\nName = beta\nPublicKey = @K1@\n", MPC_E_FORMAT,
		    "alpha.conf: [Node]: missing section (required)");
	expect_fail("", MPC_E_FORMAT, "alpha.conf: [Node]: missing section (required)");
	expect_fail("[Node]\nPrivateKeyFile = a.key\nListen = 127.0.0.1:1\n", MPC_E_FORMAT,
		    "alpha.conf:1: [Node] Name: missing (required)");
	expect_fail("\n[Node]\nName = a\nPrivateKeyFile = a.key\n", MPC_E_FORMAT,
		    "alpha.conf:2: [Node] Listen: missing (required)");
	return 0;
}

TEST(cfg_errors_file)
{
	size_t big = CFG_FILE_MAX + 1, i, o;
	char *t = malloc(big + 1);
	struct cfg *c = NULL;
	static const char nul[] = NODE_HEAD "DataDir = /a\0b\n";

	test_cfg_keys_init();
	ASSERT(t);
	/* A line of exactly CFG_LINE_MAX bytes is fine, one more is not. */
	o = (size_t)sprintf(t, NODE_HEAD "AuditLog = /a.log\nDataDir = /");
	memset(t + o, 'd', CFG_LINE_MAX - 11);
	strcpy(t + o + CFG_LINE_MAX - 11, "\n");
	ASSERT_OK(cfg_parse(t, strlen(t), "alpha.conf", &c));
	ASSERT_EQ(strlen(c->node.data_dir), CFG_LINE_MAX - 10);
	cfg_free(c);
	strcpy(t + o + CFG_LINE_MAX - 11, "d\n");
	ASSERT_EQ(cfg_parse(t, strlen(t), "alpha.conf", &c), MPC_E_TOOBIG);
	STREQ(mpc_errmsg(0), "alpha.conf:6: line longer than 4096 bytes");
	/* Such a DataDir leaves no room for the AuditLog default. */
	o = (size_t)sprintf(t, NODE_HEAD "DataDir = /");
	memset(t + o, 'd', CFG_LINE_MAX - 11);
	strcpy(t + o + CFG_LINE_MAX - 11, "\n");
	ASSERT_EQ(cfg_parse(t, strlen(t), "alpha.conf", &c), MPC_E_TOOBIG);
	STREQ(mpc_errmsg(0), "alpha.conf:1: [Node] AuditLog: default '{DataDir}/audit.log' "
			     "is too long here");
	ASSERT_EQ(cfg_parse(nul, sizeof(nul) - 1, "alpha.conf", &c), MPC_E_FORMAT);
	STREQ(mpc_errmsg(0), "alpha.conf:5: NUL byte in line");
	ASSERT(c == NULL);
	/* The file limit holds before any parsing; CFG_FILE_MAX bytes are read. */
	memset(t, '\n', big);
	ASSERT_EQ(cfg_parse(t, big, "alpha.conf", &c), MPC_E_TOOBIG);
	STREQ(mpc_errmsg(0), "alpha.conf: file larger than 1048576 bytes");
	ASSERT_EQ(cfg_parse(t, big - 1, "alpha.conf", &c), MPC_E_FORMAT);
	STREQ(mpc_errmsg(0), "alpha.conf: [Node]: missing section (required)");
	free(t);
	/* Too many sections and too long a list. */
	t = malloc(CFG_SECTIONS_MAX * 128 + 8192);
	ASSERT(t);
	o = (size_t)sprintf(t, NODE_HEAD);
	for (i = 0; i <= CFG_SECTIONS_MAX; i++) {
		uint8_t pk[32] = { 1 };
		char b[B64];

		memcpy(pk + 1, &i, sizeof(i));
		sodium_bin2base64(b, B64, pk, 32, sodium_base64_VARIANT_ORIGINAL);
		o += (size_t)sprintf(t + o, "[Peer]\nName = p%zu\nPublicKey = %s\n", i, b);
	}
	ASSERT_EQ(cfg_parse(t, o, "alpha.conf", &c), MPC_E_TOOBIG);
	STREQ(mpc_errmsg(0), "alpha.conf:773: [Peer]: more than 256 such sections");
	o = (size_t)sprintf(t, NODE_HEAD "[Policy]\nAllowPeers = ");
	for (i = 0; i <= CFG_LIST_MAX; i++)
		o += (size_t)sprintf(t + o, "%sp%zu", i ? "," : "", i);
	ASSERT_EQ(cfg_parse(t, o, "alpha.conf", &c), MPC_E_TOOBIG);
	ASSERT(strstr(mpc_errmsg(0), "alpha.conf:6: [Policy] AllowPeers: 'p0,p1,p2,"));
	ASSERT(strstr(mpc_errmsg(0), "...' lists more than 256 names"));
	free(t);
	return 0;
}

TEST(cfg_dump_roundtrip)
{
	static const char *const texts[] = {
		design_example,
		NODE_HEAD "Role = dealer\nMaxFrame = 65537\nJobMemory = 3072M\n"
		"[Peer]\nName = beta\nPublicKey = @K1@\nEndpoint = [::1]:9\n",
	};
	char *d1, *d2;
	struct cfg *c, *c2;
	size_t i;

	test_cfg_keys_init();
	for (i = 0; i < 2; i++) {
		ASSERT_OK(parse_str(texts[i], &c));
		d1 = dump_str(c);
		ASSERT(strstr(d1, K[0]));	/* public keys are public */
		ASSERT(!strstr(d1, SK));	/* the parser never reads a private key */
		ASSERT(strstr(d1, i ? "JobMemory = 3G\n" : "JobMemory = 1G\n"));
		ASSERT(strstr(d1, i ? "MaxFrame = 65537\n" : "AuditLog = /var/lib/mpcd/alpha/audit.log\n"));
		ASSERT(strstr(d1, i ? "AllowRecipients =\n" : "AllowRecipients = alpha, beta\n"));
		if (i)
			ASSERT(strstr(d1, "Endpoint = [::1]:9\n"));
		ASSERT_OK(cfg_parse(d1, strlen(d1), "alpha.conf", &c2));
		d2 = dump_str(c2);
		STREQ(d1, d2);
		free(d1);
		free(d2);
		cfg_free(c);
		cfg_free(c2);
	}
	return 0;
}

static void write_file(const char *path, const char *s, size_t n)
{
	FILE *f = fopen(path, "w");

	ASSERT(f);
	ASSERT_EQ(fwrite(s, 1, n, f), n);
	ASSERT_EQ(fclose(f), 0);
}

TEST(cfg_load_file)
{
	char *t, *big;
	struct cfg *c = (struct cfg *)1;

	test_cfg_keys_init();
	t = subst(design_example);
	write_file(tmp_path("alpha.conf"), t, strlen(t));
	ASSERT_OK(cfg_load(tmp_path("alpha.conf"), &c));
	STREQ(c->node.private_key_file, tmp_path("alpha.key"));
	STREQ(c->path, tmp_path("alpha.conf"));
	cfg_free(c);
	ASSERT_EQ(cfg_load(tmp_path("missing.conf"), &c), MPC_E_IO);
	ASSERT(c == NULL && strstr(mpc_errmsg(0), "missing.conf: No such file"));
	ASSERT_EQ(cfg_load(tmp_dir(), &c), MPC_E_IO);
	ASSERT(strstr(mpc_errmsg(0), "not a regular file"));
	big = malloc(CFG_FILE_MAX + 1);
	ASSERT(big);
	memset(big, '\n', CFG_FILE_MAX + 1);
	write_file(tmp_path("big.conf"), big, CFG_FILE_MAX + 1);
	ASSERT_EQ(cfg_load(tmp_path("big.conf"), &c), MPC_E_TOOBIG);
	write_file(tmp_path("big.conf"), big, CFG_FILE_MAX);
	ASSERT_EQ(cfg_load(tmp_path("big.conf"), &c), MPC_E_FORMAT);	/* no [Node] */
	free(big);
	free(t);
	unlink(tmp_path("alpha.conf"));
	unlink(tmp_path("big.conf"));
	ASSERT_EQ(rmdir(tmp_dir()), 0);
	return 0;
}

/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * The daemon's config parser (every error class with its exact code and
 * message), the proposal policy, and the JSON Lines audit log.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <sodium.h>
#include <stdarg.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit.h"
#include "cfg.h"
#include "err.h"
#include "policy.h"
#include "test.h"

#define B64 sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_ORIGINAL)

/* Public keys of beta, gamma, delta, and a private key never to be printed. */
static char K[3][B64], SK[B64];
static uint8_t P[3][32];

static void keys_init(void)
{
	uint8_t sk[32];
	int i;

	ASSERT(sodium_init() >= 0);
	for (i = 0; i < 3; i++) {
		randombytes_buf(sk, sizeof(sk));
		ASSERT_OK(crypto_scalarmult_base(P[i], sk));
		sodium_bin2base64(K[i], B64, P[i], 32, sodium_base64_VARIANT_ORIGINAL);
	}
	sodium_bin2base64(SK, B64, sk, 32, sodium_base64_VARIANT_ORIGINAL);
}

/* s with @K1@, @K2@, @K3@ replaced by the keys; the caller frees. */
static char *subst(const char *s)
{
	size_t n = strlen(s) + 1, o = 0;
	char *d = malloc(n + 3 * 64 * 8);
	const char *at;

	ASSERT(d);
	while ((at = strstr(s, "@K"))) {
		int i = at[2] - '1';

		ASSERT(i >= 0 && i < 3 && at[3] == '@');
		memcpy(d + o, s, (size_t)(at - s));
		o += (size_t)(at - s);
		o += (size_t)sprintf(d + o, "%s", K[i]);
		s = at + 4;
	}
	strcpy(d + o, s);
	return d;
}

static int parse_str(const char *text, struct cfg **c)
{
	char *t = subst(text);
	int r = cfg_parse(t, strlen(t), "alpha.conf", c);

	free(t);
	return r;
}

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

static const char design_example[] =
	"[Node]\n"
	"Name = alpha\n"
	"PrivateKeyFile = alpha.key\n"
	"Listen = 127.0.0.1:7101\n"
	"ControlSocket = /run/mpcd/alpha.sock\n"
	"DataDir = /var/lib/mpcd/alpha\n"
	"\n"
	"[Peer]                 # one per other node\n"
	"Name = beta\n"
	"PublicKey = @K1@\n"
	"Endpoint = 127.0.0.1:7102\n"
	"Role = compute         # or dealer\n"
	"\n"
	"[Peer]\n"
	"Name = gamma\n"
	"PublicKey = @K2@\n"
	"Endpoint = 127.0.0.1:7103\n"
	"\n"
	"[Dataset]              # private data this node may contribute\n"
	"Name = scans\n"
	"Path = /data/scans.npy\n"
	"\n"
	"[Model]                # models this node owns\n"
	"Name = lenet\n"
	"Path = /models/lenet.onnx\n"
	"Weights = /models/lenet.safetensors    # optional\n"
	"\n"
	"[Policy]\n"
	"Approve = auto          # or manual: `mpcctl approve JOB` by this operator\n"
	"AllowRecipients = alpha, beta\n"
	"AllowPeers = beta, gamma\n";

#define STREQ(a, b) ASSERT(!strcmp((a), (b)))

TEST(cfg_design_example)
{
	char *t;
	struct cfg *c;

	keys_init();
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

	keys_init();
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

	keys_init();
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

#define NODE_HEAD "[Node]\nName = alpha\nPrivateKeyFile = a.key\nListen = 127.0.0.1:7101\n"

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

	keys_init();
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
	{ "MaxJobs = -1\n", MPC_E_FORMAT, "alpha.conf:8: [Node] MaxJobs: '-1' is not a number" },
	{ "MaxJobs = 4 jobs\n", MPC_E_FORMAT, "alpha.conf:8: [Node] MaxJobs: '4 jobs' is not a number" },
	{ "HandshakeTimeout = 0\n", MPC_E_RANGE,
	  "alpha.conf:8: [Node] HandshakeTimeout: '0' is out of range 1..300 seconds" },
	{ "IdleTimeout = 5x\n", MPC_E_FORMAT, "alpha.conf:8: [Node] IdleTimeout: '5x' is not a "
					      "duration (seconds, or a number with s, m, h or d)" },
	{ "[Policy]\nApproveTimeout = 8d\n", MPC_E_RANGE,
	  "alpha.conf:9: [Policy] ApproveTimeout: '8d' is out of range 1..604800 seconds" },
	{ "Role = boss\n", MPC_E_FORMAT, "alpha.conf:8: [Node] Role: 'boss' is not compute or dealer" },
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

	keys_init();
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

	keys_init();
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

static char *dump_str(const struct cfg *c)
{
	char *s = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&s, &n);

	ASSERT(f);
	ASSERT_OK(cfg_dump(c, f));
	fclose(f);
	return s;
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

	keys_init();
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

static char tdir[64];

static const char *tpath(const char *name)
{
	static char buf[4][128];
	static unsigned k;
	char *b = buf[k++ % 4];

	if (!tdir[0]) {
		strcpy(tdir, "/tmp/mpcd-cfg-XXXXXX");
		ASSERT(mkdtemp(tdir));
	}
	snprintf(b, sizeof(buf[0]), "%s/%s", tdir, name);
	return b;
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

	keys_init();
	t = subst(design_example);
	write_file(tpath("alpha.conf"), t, strlen(t));
	ASSERT_OK(cfg_load(tpath("alpha.conf"), &c));
	STREQ(c->node.private_key_file, tpath("alpha.key"));
	STREQ(c->path, tpath("alpha.conf"));
	cfg_free(c);
	ASSERT_EQ(cfg_load(tpath("missing.conf"), &c), MPC_E_IO);
	ASSERT(c == NULL && strstr(mpc_errmsg(0), "missing.conf: No such file"));
	ASSERT_EQ(cfg_load(tdir, &c), MPC_E_IO);
	ASSERT(strstr(mpc_errmsg(0), "not a regular file"));
	big = malloc(CFG_FILE_MAX + 1);
	ASSERT(big);
	memset(big, '\n', CFG_FILE_MAX + 1);
	write_file(tpath("big.conf"), big, CFG_FILE_MAX + 1);
	ASSERT_EQ(cfg_load(tpath("big.conf"), &c), MPC_E_TOOBIG);
	write_file(tpath("big.conf"), big, CFG_FILE_MAX);
	ASSERT_EQ(cfg_load(tpath("big.conf"), &c), MPC_E_FORMAT);	/* no [Node] */
	free(big);
	free(t);
	unlink(tpath("alpha.conf"));
	unlink(tpath("big.conf"));
	ASSERT_EQ(rmdir(tdir), 0);
	return 0;
}

TEST(cfg_lookup)
{
	uint8_t other[32] = { 9 };
	struct cfg *c;

	keys_init();
	ASSERT_OK(parse_str(design_example, &c));
	ASSERT(cfg_peer_by_name(c, "gamma") == &c->peers[1]);
	ASSERT(cfg_peer_by_name(c, "alpha") == NULL);
	ASSERT(cfg_peer_by_name(c, "Beta") == NULL);	/* names are exact */
	ASSERT(cfg_peer_by_name(c, NULL) == NULL);
	ASSERT(cfg_peer_by_key(c, P[0]) == &c->peers[0]);
	ASSERT(cfg_peer_by_key(c, P[1]) == &c->peers[1]);
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

static char *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	char *b = malloc(CFG_FILE_MAX + 1);

	if (!f)
		TEST_FAIL("%s: %s", path, strerror(errno));
	ASSERT(b);
	*n = fread(b, 1, CFG_FILE_MAX, f);
	b[*n] = '\0';
	fclose(f);
	return b;
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
		t = slurp(path, &n);
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

	keys_init();
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

/* ---- policy ------------------------------------------------------------ */

static const char policy_conf[] =
	NODE_HEAD
	"[Peer]\nName = beta\nPublicKey = @K1@\n"
	"[Peer]\nName = gamma\nPublicKey = @K2@\n"
	"[Peer]\nName = dealer\nPublicKey = @K3@\nRole = dealer\n"
	"[Dataset]\nName = scans\nPath = /d/scans.npy\n"
	"[Dataset]\nName = labels\nPath = /d/labels.csv\n"
	"[Model]\nName = lenet\nPath = /m/lenet.onnx\n"
	"[Policy]\nAllowPeers = beta\nAllowRecipients = alpha, beta\n";

struct preq {
	const char *proposer, *model;
	const char *ds[4], *rcpt[4], *parties[5];
};

/* Returns the check's result; *mode and why are set as it sets them. */
static int check(const struct cfg *c, const struct preq *q, enum cfg_approve *mode,
		 char *why, size_t whylen)
{
	struct policy_req r = { .proposer = q->proposer, .model = q->model,
				.datasets = q->ds, .recipients = q->rcpt, .parties = q->parties };

	while (r.n_datasets < 4 && q->ds[r.n_datasets])
		r.n_datasets++;
	while (r.n_recipients < 4 && q->rcpt[r.n_recipients])
		r.n_recipients++;
	while (r.n_parties < 5 && q->parties[r.n_parties])
		r.n_parties++;
	return policy_check(c, &r, mode, why, whylen);
}

static void expect_refusal(const struct cfg *c, const struct preq *q, const char *want)
{
	enum cfg_approve mode = CFG_APPROVE_AUTO;
	char why[128];
	int r = check(c, q, &mode, why, sizeof(why));

	if (r != MPC_E_POLICY || strcmp(why, want) || strcmp(mpc_errmsg(r), want))
		TEST_FAIL("policy: %d '%s' (%s), wanted '%s'", r, why, mpc_errmsg(r), want);
	ASSERT_EQ(mode, CFG_APPROVE_MANUAL);
}

TEST(policy_refusals)
{
	const struct preq ok = { "beta", "lenet", { "scans", "labels" }, { "alpha", "beta" },
				 { "alpha", "beta", "gamma" } };
	struct preq q;
	enum cfg_approve mode;
	struct cfg *c;
	char why[16];

	keys_init();
	ASSERT_OK(parse_str(policy_conf, &c));
	ASSERT_OK(check(c, &ok, &mode, NULL, 0));
	q = ok, q.proposer = "gamma";
	expect_refusal(c, &q, "peer 'gamma' may not propose jobs (AllowPeers)");
	q = ok, q.proposer = "dealer";
	expect_refusal(c, &q, "peer 'dealer' may not propose jobs (AllowPeers)");
	q = ok, q.proposer = "zeta";
	expect_refusal(c, &q, "proposer 'zeta' is not a configured peer");
	q = ok, q.parties[2] = "delta";
	expect_refusal(c, &q, "party 'delta' is not a configured peer");
	q = ok, q.parties[2] = "dealer";
	expect_refusal(c, &q, "party 'dealer' is a dealer, not a compute party");
	q = ok, q.parties[2] = "beta";
	expect_refusal(c, &q, "party 'beta' is listed twice");
	q = ok, q.parties[1] = NULL;
	expect_refusal(c, &q, "a job needs at least 2 compute parties, not 1");
	q = ok, q.parties[0] = "gamma", q.parties[2] = NULL;
	expect_refusal(c, &q, "'alpha' would contribute data but is not a compute party of the job");
	q = ok, q.ds[1] = "xrays";
	expect_refusal(c, &q, "dataset 'xrays' is not configured here");
	q = ok, q.model = "resnet";
	expect_refusal(c, &q, "model 'resnet' is not configured here");
	q = ok, q.rcpt[1] = "gamma";
	expect_refusal(c, &q, "recipient 'gamma' is not in AllowRecipients");
	q = ok, q.rcpt[0] = "dealer";
	expect_refusal(c, &q, "recipient 'dealer' is not in AllowRecipients");
	/* A local job may always be proposed, but obeys the rest. */
	q = ok, q.proposer = "alpha", q.rcpt[1] = "gamma";
	expect_refusal(c, &q, "recipient 'gamma' is not in AllowRecipients");
	q = ok, q.proposer = "alpha", q.ds[0] = "nope";
	expect_refusal(c, &q, "dataset 'nope' is not configured here");
	/* Names from a hostile peer stay one printable, short line. */
	q = ok, q.ds[0] = "a\nb\x1b[31m\xff";
	expect_refusal(c, &q, "dataset 'a?b?[31m?' is not configured here");
	q = ok, q.model = "mmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmm";
	expect_refusal(c, &q, "model 'mmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmm...' is not "
			      "configured here");
	/* A short buffer is cut; the full line stays in mpc_errmsg(). */
	q = ok, q.proposer = "gamma";
	ASSERT_EQ(check(c, &q, &mode, why, sizeof(why)), MPC_E_POLICY);
	STREQ(why, "peer 'gamma' ma");
	STREQ(mpc_errmsg(0), "peer 'gamma' may not propose jobs (AllowPeers)");
	cfg_free(c);
	return 0;
}

TEST(policy_modes)
{
	const struct preq remote = { "beta", NULL, { "scans" }, { "alpha" }, { "alpha", "beta" } };
	const struct preq local = { "alpha", "lenet", { 0 }, { "beta" }, { "beta", "alpha" } };
	const struct preq helper = { "beta", NULL, { 0 }, { "beta" }, { "alpha", "beta" } };
	enum cfg_approve mode;
	struct cfg *c;
	char text[2048], why[64];

	keys_init();
	ASSERT_OK(parse_str(policy_conf, &c));
	ASSERT_OK(check(c, &remote, &mode, why, sizeof(why)));
	ASSERT_EQ(mode, CFG_APPROVE_MANUAL);	/* the default */
	STREQ(why, "");
	ASSERT_OK(check(c, &helper, &mode, why, sizeof(why)));
	ASSERT_EQ(mode, CFG_APPROVE_MANUAL);
	ASSERT_OK(check(c, &local, &mode, why, sizeof(why)));
	ASSERT_EQ(mode, CFG_APPROVE_AUTO);	/* the operator's submit approves it */
	cfg_free(c);
	snprintf(text, sizeof(text), "%sApprove = auto\n", policy_conf);
	ASSERT_OK(parse_str(text, &c));
	ASSERT_OK(check(c, &remote, &mode, why, sizeof(why)));
	ASSERT_EQ(mode, CFG_APPROVE_AUTO);
	cfg_free(c);
	return 0;
}

TEST(policy_dealer)
{
	const struct preq job = { "beta", NULL, { 0 }, { "beta", "gamma" }, { "beta", "gamma" } };
	struct preq q = job;
	enum cfg_approve mode;
	struct cfg *c;

	keys_init();
	ASSERT_OK(parse_str("[Node]\nName = dealer\nPrivateKeyFile = d.key\nListen = 127.0.0.1:7104\n"
			    "Role = dealer\n[Peer]\nName = beta\nPublicKey = @K1@\n"
			    "[Peer]\nName = gamma\nPublicKey = @K2@\n"
			    "[Policy]\nAllowPeers = beta\nApprove = auto\n", &c));
	/* Recipients are not the dealer's concern: it sees no output. */
	ASSERT_OK(check(c, &job, &mode, NULL, 0));
	ASSERT_EQ(mode, CFG_APPROVE_AUTO);
	q.ds[0] = "scans";
	expect_refusal(c, &q, "dataset 'scans' is not configured here");
	q = job, q.parties[1] = "dealer";
	expect_refusal(c, &q, "party 'dealer' is a dealer, not a compute party");
	cfg_free(c);
	return 0;
}

/* ---- audit ------------------------------------------------------------- */

static json_t *parse_line(const char *line)
{
	json_error_t e;
	json_t *j = json_loads(line, JSON_REJECT_DUPLICATES, &e);

	if (!j || !json_is_object(j))
		TEST_FAIL("not a JSON object (%s): %s", e.text, line);
	return j;
}

static const char *jstr(json_t *j, const char *k)
{
	json_t *v = json_object_get(j, k);

	ASSERT(v && json_is_string(v));
	return json_string_value(v);
}

TEST(audit_lines)
{
	static const struct {
		const char *in, *out;
	} strs[] = {
		{ "say \"hi\" \\o/", "say \"hi\" \\o/" },
		{ "a\nb\rc\td\x01\x1f\x7f", "a\nb\rc\td\x01\x1f\x7f" },
		{ "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80" },
		{ "a\xff" "b", "a\xef\xbf\xbd" "b" },
		{ "end\xc3", "end\xef\xbf\xbd" },
		{ "\xe2\x82x", "\xef\xbf\xbdx" },			/* truncated: one U+FFFD */
		{ "\xe0\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },	/* overlong */
		{ "\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },	/* surrogate */
		{ "\xf4\x90\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
		{ "\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd" },
		{ "ls\xe2\x80\xa8ps", "ls\xe2\x80\xa8ps" },
	};
	size_t i, n, nl = 0;
	struct audit *a;
	char *buf, *line, *save, longs[AUDIT_STR_MAX + 100];
	json_t *j;

	ASSERT_OK(audit_open(&a, tpath("audit.log")));
	for (i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
		struct audit_field f[] = { AUDIT_STR("reason", strs[i].in), AUDIT_INT("n", -42),
					   AUDIT_STR(strs[i].in, "k"), AUDIT_STR("none", NULL) };

		ASSERT_OK(audit_event(a, "refused", strs[i].in, f, 4));
	}
	memset(longs, 'x', sizeof(longs) - 1);
	longs[sizeof(longs) - 1] = '\0';
	ASSERT_OK(audit_event(a, "started", NULL, &AUDIT_STR("reason", longs), 1));
	ASSERT_EQ(audit_event(a, "x", "j", &AUDIT_INT("time", 1), 1), MPC_E_ARG);
	ASSERT_EQ(audit_event(a, "x", "j", &AUDIT_INT("job", 1), 1), MPC_E_ARG);
	ASSERT_EQ(audit_event(a, "x", "j", (struct audit_field[]){ AUDIT_INT("a", 1),
								   AUDIT_INT("a", 2) }, 2),
		  MPC_E_ARG);
	ASSERT_EQ(audit_event(a, "", "j", NULL, 0), MPC_E_ARG);
	audit_close(a);
	audit_close(NULL);

	buf = slurp(tpath("audit.log"), &n);
	ASSERT(n > 0 && buf[n - 1] == '\n');
	/* Escapes are there as escapes, not raw bytes. */
	ASSERT(strstr(buf, "\\u0001\\u001f\\u007f") && strstr(buf, "\\u2028"));
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save), nl++) {
		const char *t;

		j = parse_line(line);
		t = jstr(j, "time");
		ASSERT_EQ(strlen(t), 24);
		ASSERT(t[4] == '-' && t[10] == 'T' && t[19] == '.' && t[23] == 'Z');
		ASSERT(!strncmp(line, "{\"time\":", 8));
		if (nl < sizeof(strs) / sizeof(strs[0])) {
			STREQ(jstr(j, "event"), "refused");
			STREQ(jstr(j, "reason"), strs[nl].out);
			STREQ(jstr(j, "job"), strs[nl].out);
			STREQ(jstr(j, strs[nl].out), "k");
			ASSERT_EQ(json_integer_value(json_object_get(j, "n")), -42);
			ASSERT(json_is_null(json_object_get(j, "none")));
			ASSERT_EQ(json_object_size(j), 7);
		} else {
			STREQ(jstr(j, "event"), "started");
			ASSERT(json_object_get(j, "job") == NULL);
			ASSERT_EQ(strlen(jstr(j, "reason")), AUDIT_STR_MAX + 3);
		}
		json_decref(j);
	}
	ASSERT_EQ(nl, sizeof(strs) / sizeof(strs[0]) + 1);
	free(buf);
	unlink(tpath("audit.log"));
	rmdir(tdir);
	return 0;
}

TEST(audit_file)
{
	struct audit *a = (struct audit *)1;
	struct stat st;
	size_t n, i, lines = 0;
	char *buf;

	umask(0);	/* the mode must not depend on the umask */
	ASSERT_OK(audit_open(&a, tpath("a.log")));
	ASSERT_EQ(stat(tpath("a.log"), &st), 0);
	ASSERT_EQ(st.st_mode & 0777, 0600);
	ASSERT_OK(audit_event(a, "proposed", "j1", NULL, 0));
	ASSERT_OK(audit_event(a, "accepted", "j1", NULL, 0));
	audit_close(a);
	ASSERT_OK(audit_open(&a, tpath("a.log")));
	audit_set_sync(a, true);
	ASSERT_OK(audit_event(a, "finished", "j1", &AUDIT_INT("rounds", 17), 1));
	audit_close(a);
	buf = slurp(tpath("a.log"), &n);
	for (i = 0; i < n; i++)
		lines += buf[i] == '\n';
	ASSERT_EQ(lines, 3);
	ASSERT(strstr(buf, "\"event\":\"proposed\",\"job\":\"j1\"}\n{"));
	ASSERT(strstr(buf, "\"event\":\"finished\",\"job\":\"j1\",\"rounds\":17}\n"));
	free(buf);
	/* Others may not write it, nor a symlink redirect it. */
	ASSERT_EQ(chmod(tpath("a.log"), 0620), 0);
	ASSERT_EQ(audit_open(&a, tpath("a.log")), MPC_E_IO);
	ASSERT(a == NULL && strstr(mpc_errmsg(0), "writable by group or others (mode 620)"));
	ASSERT_EQ(chmod(tpath("a.log"), 0640), 0);
	ASSERT_OK(audit_open(&a, tpath("a.log")));
	audit_close(a);
	ASSERT_EQ(symlink(tpath("a.log"), tpath("link.log")), 0);
	ASSERT_EQ(audit_open(&a, tpath("link.log")), MPC_E_IO);
	ASSERT_EQ(audit_open(&a, tdir), MPC_E_IO);
	ASSERT_EQ(audit_open(&a, tpath("no/such/dir.log")), MPC_E_IO);
	unlink(tpath("link.log"));
	unlink(tpath("a.log"));
	ASSERT_EQ(rmdir(tdir), 0);
	return 0;
}

/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * The proposal policy (every refusal with its exact message, approval
 * modes, a dealer's view) and the JSON Lines audit log (escaping, UTF-8
 * repair, field rules, file mode and symlink refusal).
 */
#include <jansson.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit.h"
#include "cfg.h"
#include "cfg_util.h"
#include "err.h"
#include "files_util.h"
#include "policy.h"
#include "test.h"

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

	test_cfg_keys_init();
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

	test_cfg_keys_init();
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

	test_cfg_keys_init();
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

	ASSERT_OK(audit_open(&a, tmp_path("audit.log")));
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

	buf = slurp_text(tmp_path("audit.log"), &n);
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
	unlink(tmp_path("audit.log"));
	rmdir(tmp_dir());
	return 0;
}

TEST(audit_file)
{
	struct audit *a = (struct audit *)1;
	struct stat st;
	size_t n, i, lines = 0;
	char *buf;

	umask(0);	/* the mode must not depend on the umask */
	ASSERT_OK(audit_open(&a, tmp_path("a.log")));
	ASSERT_EQ(stat(tmp_path("a.log"), &st), 0);
	ASSERT_EQ(st.st_mode & 0777, 0600);
	ASSERT_OK(audit_event(a, "proposed", "j1", NULL, 0));
	ASSERT_OK(audit_event(a, "accepted", "j1", NULL, 0));
	audit_close(a);
	ASSERT_OK(audit_open(&a, tmp_path("a.log")));
	audit_set_sync(a, true);
	ASSERT_OK(audit_event(a, "finished", "j1", &AUDIT_INT("rounds", 17), 1));
	audit_close(a);
	buf = slurp_text(tmp_path("a.log"), &n);
	for (i = 0; i < n; i++)
		lines += buf[i] == '\n';
	ASSERT_EQ(lines, 3);
	ASSERT(strstr(buf, "\"event\":\"proposed\",\"job\":\"j1\"}\n{"));
	ASSERT(strstr(buf, "\"event\":\"finished\",\"job\":\"j1\",\"rounds\":17}\n"));
	free(buf);
	/* Others may not write it, nor a symlink redirect it. */
	ASSERT_EQ(chmod(tmp_path("a.log"), 0620), 0);
	ASSERT_EQ(audit_open(&a, tmp_path("a.log")), MPC_E_IO);
	ASSERT(a == NULL && strstr(mpc_errmsg(0), "writable by group or others (mode 620)"));
	ASSERT_EQ(chmod(tmp_path("a.log"), 0640), 0);
	ASSERT_OK(audit_open(&a, tmp_path("a.log")));
	audit_close(a);
	ASSERT_EQ(symlink(tmp_path("a.log"), tmp_path("link.log")), 0);
	ASSERT_EQ(audit_open(&a, tmp_path("link.log")), MPC_E_IO);
	ASSERT_EQ(audit_open(&a, tmp_dir()), MPC_E_IO);
	ASSERT_EQ(audit_open(&a, tmp_path("no/such/dir.log")), MPC_E_IO);
	unlink(tmp_path("link.log"));
	unlink(tmp_path("a.log"));
	ASSERT_EQ(rmdir(tmp_dir()), 0);
	return 0;
}

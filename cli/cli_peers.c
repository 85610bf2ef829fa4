/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * mpcctl peers: every configured peer and its link, and the handshakes
 * this node refused, on the row of the peer they most likely came from,
 * saying which side's key entry is wrong (docs/ctl.md).
 */
#include <stdio.h>

#include "cli.h"

#define NAME_LEN_MAX 32

static const char peers_usage[] =
	"usage: mpcctl [-s SOCKET] peers [--json]\n"
	"\n"
	"Every configured peer: role, endpoint, link state and since when, the last\n"
	"handshake (or rekey) and the link's cipher, bytes sent and received on the\n"
	"link, and the last link error. Under a peer, a handshake this node refused\n"
	"that most likely came from it, saying which side's key entry is wrong.\n";

static void peers_json(const Mpcctlpb__Reply *r)
{
	printf("{\"peers\": [");
	for (size_t i = 0; i < r->n_peers; i++) {
		const Mpcctlpb__PeerInfo *p = r->peers[i];

		printf("%s\n  {\"name\": ", i ? "," : "");
		cli_json_str(p->name);
		printf(", \"role\": ");
		cli_json_str(p->role);
		printf(", \"endpoint\": ");
		cli_json_str(p->endpoint);
		printf(", \"connected\": %s, \"since\": %lld, \"last_handshake\": %lld, "
		       "\"cipher\": ", p->connected ? "true" : "false", (long long)p->since,
		       (long long)p->last_handshake);
		cli_json_str(p->cipher);
		printf(", \"bytes_sent\": %llu, \"bytes_recv\": %llu, \"rekeys\": %u, "
		       "\"last_error\": ", (unsigned long long)p->bytes_sent,
		       (unsigned long long)p->bytes_recv, p->rekeys);
		cli_json_str(p->last_error);
		printf(", \"key_problem\": ");
		cli_json_str(p->key_problem);
		printf(", \"key_problem_at\": %lld}", (long long)p->key_problem_at);
	}
	printf("%s], \"key_problem\": ", r->n_peers ? "\n" : "");
	cli_json_str(r->key_problem);
	printf(", \"key_problem_at\": %lld}\n", (long long)r->key_problem_at);
}

/* A refused handshake, under the table: "  ! WHO: TEXT (3m ago)". */
static void key_line(const char *who, const char *text, int64_t at)
{
	char clean[512], ago[32];

	if (!text || !*text)
		return;
	printf("  ! %s%s%s (%s)\n", who, *who ? ": " : "", cli_clean(clean, sizeof(clean), text),
	       cli_ago(ago, sizeof(ago), at, " ago"));
}

static void peers_table(const Mpcctlpb__Reply *r)
{
	int wn = 4, we = 8;

	for (size_t i = 0; i < r->n_peers; i++) {
		wn = cli_width(wn, r->peers[i]->name, NAME_LEN_MAX);
		we = cli_width(we, r->peers[i]->endpoint, 48);
	}
	printf("%-*s  %-8s  %-*s  %-12s  %-8s  %-9s  %-17s  %9s  %9s  %s\n", wn, "NAME", "ROLE",
	       we, "ENDPOINT", "STATE", "SINCE", "HANDSHAKE", "CIPHER", "SENT", "RECV",
	       "LAST ERROR");
	for (size_t i = 0; i < r->n_peers; i++) {
		const Mpcctlpb__PeerInfo *p = r->peers[i];
		char name[64], role[32], ep[128], since[32], hs[32], cipher[32], sent[32], recv[32];
		char err[512];

		cli_bytes(sent, sizeof(sent), p->bytes_sent);
		cli_bytes(recv, sizeof(recv), p->bytes_recv);
		printf("%-*s  %-8s  %-*s  %-12s  %-8s  %-9s  %-17s  %9s  %9s  %s\n",
		       wn, cli_clean(name, sizeof(name), p->name),
		       cli_clean(role, sizeof(role), p->role),
		       we, cli_clean(ep, sizeof(ep), p->endpoint),
		       p->connected ? "connected" : "disconnected",
		       cli_ago(since, sizeof(since), p->since, " ago"),
		       cli_ago(hs, sizeof(hs), p->last_handshake, " ago"),
		       p->cipher && *p->cipher ? cli_clean(cipher, sizeof(cipher), p->cipher) : "-",
		       sent, recv,
		       p->last_error && *p->last_error ?
		       cli_clean(err, sizeof(err), p->last_error) : "-");
		key_line(name, p->key_problem, p->key_problem_at);
	}
	key_line("", r->key_problem, r->key_problem_at);
}

int peers_main(int argc, char **argv)
{
	Mpcctlpb__Request req = MPCCTLPB__REQUEST__INIT;
	Mpcctlpb__Reply *r = NULL;
	const char *verb = argv[0];
	struct cli_args a;
	int ret;

	if ((ret = cli_parse(argc, argv, peers_usage, CLI_JSON, &a)) != CLI_GO)
		return ret;
	req.req_case = MPCCTLPB__REQUEST__REQ_PEERS;
	req.peers = 1;
	if ((ret = cli_call(verb, &req, &r)) != 0)
		return ret;
	if (a.json)
		peers_json(r);
	else
		peers_table(r);
	mpcctlpb__reply__free_unpacked(r, NULL);
	return cli_flush(verb);
}


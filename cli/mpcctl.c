/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * mpcctl: the operator's command line. One table row per verb, one
 * *_main(argc, argv) per verb; errors are one line on stderr and a
 * non-zero exit status.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include "cli.h"
#include "mpc.h"

static const struct cli_verb verbs[] = {
	{ "peers", peers_main, "show the configured peers and their links" },
	{ "submit", submit_main, "propose a job to the parties; prints its id" },
	{ "list", list_main, "list the jobs this daemon knows" },
	{ "status", status_main, "show every field of one job" },
	{ "wait", wait_main, "wait for a job to end, showing its progress" },
	{ "approve", approve_main, "consent to a job waiting for this node's approval" },
	{ "cancel", cancel_main, "abort a job on every party" },
	{ "result", result_main, "write a job's revealed output to .npy or .csv" },
	{ "show", show_main, "print a result file, optionally beside a reference" },
	{ "inspect", inspect_main, "show a model's inputs, ops, cost and public graph hash" },
	{ "simulate", simulate_main, "run a model on secret shares with every party in-process" },
	{ "genkey", genkey_main, "print a new private key (base64)" },
	{ "pubkey", pubkey_main, "read a private key on stdin, print its public key" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: mpcctl [-s SOCKET] VERB [ARGS...]\n\nverbs:\n");
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		fprintf(f, "  %-10s %s\n", verbs[i].name, verbs[i].desc);
	fprintf(f, "\n`mpcctl VERB --help` describes a verb. The control socket is -s SOCKET,\n"
		"else $MPCD_SOCKET, else the only mpcd socket in %s/.\n", CTL_SOCKET_DIR);
}

/*
 * A verb's status, or 1 after one line when standard output could not be
 * written (a closed pipe: EPIPE, as SIGPIPE is ignored).
 */
static int flushed(const char *verb, int ret)
{
	int e;

	errno = 0;
	if (fflush(stdout) == 0 && !ferror(stdout))
		return ret;
	e = errno;
	/* A verb that failed has said why already. */
	if (ret == 0)
		fprintf(stderr, "mpcctl %s: cannot write to standard output: %s\n", verb,
			e ? strerror(e) : "write error");
	return ret ? ret : 1;
}

int main(int argc, char **argv)
{
	const struct rlimit zero = { 0, 0 };
	int ret;

	/*
	 * A closed pipe (`mpcctl list | head -1`) is a write error to report,
	 * not a silent death by SIGPIPE.
	 */
	signal(SIGPIPE, SIG_IGN);
	/*
	 * mpcctl holds private keys (genkey), every party's plaintext
	 * (simulate) and results (result, show): a core dump of it would leave
	 * them on disk, so none is written, as for mpcd.
	 */
	(void)setrlimit(RLIMIT_CORE, &zero);
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	mpc_tune_malloc();
	/* Global options before the verb: -s PATH, -sPATH, --socket[=]PATH. */
	while (argc > 1) {
		const char *path;

		if (!strcmp(argv[1], "-s") || !strcmp(argv[1], "--socket")) {
			if (argc < 3) {
				fprintf(stderr, "mpcctl: %s needs a socket path\n", argv[1]);
				return 2;
			}
			path = argv[2];
			argc--;
			argv++;
		} else if (!strncmp(argv[1], "-s", 2)) {
			path = argv[1] + 2;
		} else if (!strncmp(argv[1], "--socket=", 9)) {
			path = argv[1] + 9;
		} else {
			break;
		}
		if (!*path) {
			fprintf(stderr, "mpcctl: empty socket path\n");
			return 2;
		}
		cli_set_socket(path);
		argc--;
		argv++;
	}
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return flushed("help", 0);
	}
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (!strcmp(argv[1], verbs[i].name)) {
			ret = verbs[i].fn(argc - 1, argv + 1);
			return flushed(argv[1], ret);
		}
	fprintf(stderr, "mpcctl: unknown verb '%s' (try `mpcctl --help`)\n", argv[1]);
	return 2;
}

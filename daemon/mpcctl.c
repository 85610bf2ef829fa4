/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * mpcctl: the operator's command line. One table row per verb, one
 * *_main(argc, argv) per verb; errors are one line on stderr and a
 * non-zero exit status.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const struct cli_verb verbs[] = {
	{ "simulate", simulate_main, "run a model on secret shares with every party in-process" },
	{ "genkey", genkey_main, "print a new private key (base64)" },
	{ "pubkey", pubkey_main, "read a private key on stdin, print its public key" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: mpcctl VERB [ARGS...]\n\nverbs:\n");
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		fprintf(f, "  %-10s %s\n", verbs[i].name, verbs[i].desc);
	fprintf(f, "\n`mpcctl VERB --help` describes a verb.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (!strcmp(argv[1], verbs[i].name))
			return verbs[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "mpcctl: unknown verb '%s' (try `mpcctl --help`)\n", argv[1]);
	return 2;
}

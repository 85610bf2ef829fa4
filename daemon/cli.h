/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
#ifndef MPC_CLI_H
#define MPC_CLI_H

struct cli_verb {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *desc;
};

int simulate_main(int argc, char **argv);
int genkey_main(int argc, char **argv);
int pubkey_main(int argc, char **argv);

#endif

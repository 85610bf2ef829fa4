/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
#ifndef MPC_CLI_H
#define MPC_CLI_H

#include <stddef.h>
#include <stdint.h>

#include "ctlmsg.h"

struct cli_verb {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *desc;
};

int simulate_main(int argc, char **argv);

struct model;
struct model_value;
/* cli_inputs.c: a data input's declared shape ("[?, 4]"), into buf. */
const char *cli_input_decl(const struct model_value *v, char *buf, size_t len);
/* More or fewer --input than data inputs (given: their names, NULL if none): one line on stderr. */
void cli_input_count_error(const struct model *m, const char *const *given, int n_ia,
			   int have_weights);
int inspect_main(int argc, char **argv);
int show_main(int argc, char **argv);
int genkey_main(int argc, char **argv);
int pubkey_main(int argc, char **argv);

/* Control verbs, over the socket to this operator's mpcd (docs/ctl.md). */
int peers_main(int argc, char **argv);
int submit_main(int argc, char **argv);
int list_main(int argc, char **argv);
int status_main(int argc, char **argv);
int wait_main(int argc, char **argv);
int approve_main(int argc, char **argv);
int cancel_main(int argc, char **argv);
int result_main(int argc, char **argv);

/*
 * Shared by the control verbs (cli_ctl.c, cli_wait.c), cli_socket.c: the
 * socket given with `mpcctl -s PATH`, else $MPCD_SOCKET, else the only
 * socket in CTL_SOCKET_DIR (mpcd's default is CTL_SOCKET_DIR/NAME.sock).
 * cli_socket() returns NULL with the one-line reason in err when there is
 * none there or several.
 */
void cli_set_socket(const char *path);
const char *cli_socket(char *err, size_t errlen);

enum { CLI_JSON = 1, CLI_OUT = 2, CLI_JOB = 4, CLI_TIMEOUT = 8 };
#define CLI_GO (-1)

struct cli_args {
	int json;          /* --json */
	const char *out;   /* -o, --output */
	const char *job;   /* the one positional argument */
	double timeout;    /* --timeout SECONDS; 0: none */
};

/*
 * Parse a verb's argv (argv[0] is the verb) for the options in flags, plus
 * --help. Returns CLI_GO to go on, else the exit status: 0 after --help,
 * 2 after a one-line error (and the usage, for unknown or missing ones).
 */
int cli_parse(int argc, char **argv, const char *usage, unsigned flags, struct cli_args *a);

/* "mpcctl VERB: ..." on stderr, then usage unless NULL; returns 2. */
int cli_error(const char *verb, const char *usage, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * One request to mpcd. 0 with *reply set (ok = true; free it with
 * mpcctlpb__reply__free_unpacked), or 1 with the one-line message for the
 * operator in err: unreachable daemon, broken exchange, or its refusal.
 * cli_call() is the same, printing the message.
 */
int cli_request(const char *verb, const Mpcctlpb__Request *req, Mpcctlpb__Reply **reply,
		char *err, size_t errlen);
int cli_call(const char *verb, const Mpcctlpb__Request *req, Mpcctlpb__Reply **reply);

/* 0, or 1 after a message when standard output could not be written. */
int cli_flush(const char *verb);

/*
 * Showing the daemon's text, which may come from remote peers: cli_clean()
 * makes s fit for a terminal (control characters and bytes that are not
 * UTF-8 become '?'); cli_json_str() prints a JSON string literal.
 */
const char *cli_clean(char *buf, size_t len, const char *s);
void cli_json_str(const char *s);
void cli_json_strs(char **v, size_t n);
/* A table column's width: w, or strlen(s) up to cap. */
int cli_width(int w, const char *s, int cap);
/* "12.3 MB" */
void cli_bytes(char *buf, size_t len, uint64_t b);
/* "3m" + suffix; "-" for t <= 0 (unset). */
const char *cli_ago(char *buf, size_t len, int64_t t, const char *suffix);

/* A job on the command line (cli_wait.c): an id or a unique prefix, lower-cased into id; 0 or 2. */
#define JOB_ID_MAX 64
int cli_job_id(const char *verb, const char *arg, char id[static JOB_ID_MAX + 1]);
/* cli_status.c: the job's state is s; ", 123.4 rows/s, ETA 3m05s" once rows moved, else "". */
int cli_job_is(const Mpcctlpb__JobInfo *j, const char *s);
void cli_job_rate(char *buf, size_t len, const Mpcctlpb__JobInfo *j);

/* cli_status.c: one job as a JSON object (status --json, list, submit, wait). */
#define CLI_PARTIES_MAX 17
void cli_json_job(const Mpcctlpb__JobInfo *j, const char *indent);
/* Whom a proposed job waits for: "approval by beta; the answer of gamma". */
void cli_job_waiting(char *buf, size_t len, const Mpcctlpb__JobInfo *j);

#endif

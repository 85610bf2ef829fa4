/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
#ifndef MPC_AUDIT_H
#define MPC_AUDIT_H

/*
 * The audit log: append-only JSON Lines, one object per event,
 *
 *	{"time":"2026-11-26T12:34:56.789Z","event":"proposed","job":"j-1f3a",
 *	 "proposer":"beta","parties":3}
 *
 * (on one line). time is UTC with milliseconds; job is left out when the
 * event concerns no job. The daemon logs proposed, accepted, refused,
 * approved, expired, started, finished, aborted and cancelled, but any
 * event name will do.
 *
 * NOTHING PRIVATE EVER GOES IN: no data values, shares, seeds, keys or
 * key file contents, no output values. Names, ids, counts, shapes, byte
 * and round counts and one-line reasons are fine. The log is meant to be
 * shown to auditors who may see none of the data.
 *
 * Strings are escaped for JSON (quotes, backslashes, control bytes as
 * \u00XX) and invalid UTF-8 is replaced by U+FFFD, so every line parses
 * whatever bytes a peer put in a name or reason; a value over
 * AUDIT_STR_MAX bytes is cut and ends in "...".
 */
#include <stdbool.h>
#include <stddef.h>

#include "err.h"

#define AUDIT_STR_MAX 1024

struct audit;

enum audit_type {
	AUDIT_T_STR,	/* str, or JSON null when str is NULL */
	AUDIT_T_INT,
};

struct audit_field {
	const char *key;	/* not "time", "event" or "job" */
	enum audit_type type;
	const char *str;
	long long num;
};

#define AUDIT_STR(k, v) ((struct audit_field){ .key = (k), .type = AUDIT_T_STR, .str = (v) })
#define AUDIT_INT(k, v) ((struct audit_field){ .key = (k), .type = AUDIT_T_INT, .num = (v) })

/*
 * Open (or create, mode 0600) the log at path for appending. The
 * directory must exist. Refuses anything but a regular file, a symlink,
 * and a file others may write (MPC_E_IO). On success *a owns a new handle.
 */
int audit_open(struct audit **a, const char *path);

/* Accepts NULL. */
void audit_close(struct audit *a);

/* fdatasync() after every line (off by default). */
void audit_set_sync(struct audit *a, bool on);

/*
 * Append one event: a single write() of the whole line, so lines from
 * several threads (or a concurrent reader) never interleave or tear.
 * job_id may be NULL. Returns 0, MPC_E_ARG (no event name, a reserved or
 * repeated key), MPC_E_NOMEM or MPC_E_IO.
 */
int audit_event(struct audit *a, const char *event, const char *job_id,
		const struct audit_field *fields, size_t n);

#endif

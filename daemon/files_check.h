/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
#ifndef MPC_FILES_CHECK_H
#define MPC_FILES_CHECK_H

/*
 * The files a configuration names, checked before they are needed: every
 * [Model] is read, parsed and checked as a job would (its weights bound,
 * every op supported, one output, its public graph made), and every
 * [Dataset] is opened (with full: read and parsed whole). At `mpcd
 * --check`, at start-up and on a reload (docs/config.md), so a job that
 * cannot run never reaches an operator's approval queue for want of a
 * file.
 */
#include <stddef.h>

#include "cfg.h"

/* Called once per problem with one line: "FILE:LINE: [Model] 'NAME': PATH: problem". */
typedef void files_report_fn(void *arg, const char *line);

/* The number of problems found (0: all good); each reported. */
size_t files_check(const struct cfg *c, int full, files_report_fn *report, void *arg);

#endif

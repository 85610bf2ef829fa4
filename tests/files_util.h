/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
#ifndef MPC_FILES_UTIL_H
#define MPC_FILES_UTIL_H

/*
 * Helpers shared by the file-format tests (test_files.c, test_csv.c,
 * test_st.c) and the scratch files of the others: the
 * public model fixtures, reading them, and the deterministic mutation
 * harness that feeds damaged copies of a file to a parser.
 */
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "ftensor.h"
#include "test.h"

#define ASSERT_FAIL(call, code, word)                                    \
	do {                                                             \
		int rf_ = (call);                                        \
		if (rf_ != (code))                                       \
			TEST_FAIL("%s: %d != %s (%s)", #call, rf_, #code, \
				  mpc_errmsg(rf_));                      \
		if (!strstr(mpc_errmsg(rf_), (word)))                    \
			TEST_FAIL("%s: message '%s' lacks '%s'", #call,  \
				  mpc_errmsg(rf_), (word));              \
	} while (0)

struct fx {
	const char *m;
	int nd;
	int64_t in[4];
	int64_t classes;
	int correct; /* documented plaintext accuracy x 64 */
	size_t params;
};

extern const struct fx fixtures[6];
#define NFX (sizeof(fixtures) / sizeof(fixtures[0]))

/* Fixture path of model directory m, file f (a rotating static buffer). */
const char *fpath(const char *m, const char *f);
/* The whole file (at most 1 GiB) in a malloc'd buffer; the caller frees. */
uint8_t *slurp(const char *path, size_t *len);
void assert_dims(const struct ftensor *t, int nd, const int64_t *d);
/* Deterministic mutations of one file; check(buf, len) must not crash. */
void mutate_all(const uint8_t *orig, size_t len, size_t hdr_end,
		void (*check)(const uint8_t *, size_t));
/* t->data[i] = base + i. */
void fill_seq(struct ftensor *t, float base);
/* This test's scratch directory (made on first use), a path in it (rotating buffers). */
const char *tmp_dir(void);
const char *tmp_path(const char *name);
/* Files in the scratch directory, and emptying it. */
int dir_entries(void);
void tmp_cleanup(void);

#endif

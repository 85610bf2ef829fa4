/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
#ifndef MPC_ERR_H
#define MPC_ERR_H

#include <stddef.h>

/*
 * One error enum for the whole project. Codes name causes that matter to a
 * user; the detail (file, field, op, shape) travels in the thread-local
 * message set by mpc_fail(), so an error that crosses layers keeps one line
 * of text naming what was wrong.
 */
#define MPC_ERR_MAP(XX)                                              \
	XX(SHORT, -1, "input too short")                             \
	XX(TOOBIG, -2, "input too large")                            \
	XX(FORMAT, -3, "malformed input")                            \
	XX(AUTH, -4, "authentication failed")                        \
	XX(PEER_GONE, -5, "peer gone")                               \
	XX(SHAPE, -6, "shape mismatch")                              \
	XX(POLICY, -7, "refused by policy")                          \
	XX(NOMEM, -8, "out of memory")                               \
	XX(INTERNAL, -9, "internal error")                           \
	XX(UNSUPPORTED, -10, "unsupported")                          \
	XX(IO, -11, "I/O error")                                     \
	XX(ARG, -12, "invalid argument")                             \
	XX(RANGE, -13, "value out of range")                         \
	XX(ABORTED, -14, "aborted")

enum mpc_err {
	MPC_OK = 0,
#define MPC_ERR_ENUM(name, val, text) MPC_E_##name = (val),
	MPC_ERR_MAP(MPC_ERR_ENUM)
#undef MPC_ERR_ENUM
};

/* Static text for a code; never NULL. */
const char *mpc_strerror(int err);

/*
 * Set this thread's error message (printf format) and return err, so a
 * failing site reads `return mpc_fail(MPC_E_FORMAT, "npy %s: bad magic", p);`.
 * The message replaces any earlier one.
 */
int mpc_fail(int err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * Prefix this thread's message with context ("file x.onnx: " + old) and
 * return err unchanged; used as errors travel up.
 */
int mpc_fail_ctx(int err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* This thread's last message, or mpc_strerror(err) when none was set. */
const char *mpc_errmsg(int err);

/*
 * The public part of this thread's error: a line that may cross a link to
 * another party (an abort or refusal reason). mpc_fail() sets only the
 * private message, which may quote a value, a cell, an index into private
 * data or a local path; so by default the public part is the code's static
 * text (mpc_strerror), and a site that knows a safe, fixed-format text
 * ("value out of range", "not a number at line 2") sets it with
 * mpc_public() after mpc_fail(). mpc_fail_ctx() leaves it as it is: context
 * is often a path. Returns err.
 */
int mpc_public(int err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The public line: the text given to mpc_public(), else mpc_strerror(err). */
const char *mpc_errpub(int err);

/* Forget this thread's message (both parts). */
void mpc_err_clear(void);

/* A broken internal invariant (a programming error, never bad input). */
_Noreturn void mpc_bug_at(const char *file, int line, const char *what);
#define mpc_bug(what) mpc_bug_at(__FILE__, __LINE__, (what))
#define MPC_CHECK(cond)                                              \
	do {                                                         \
		if (!(cond))                                         \
			mpc_bug_at(__FILE__, __LINE__, #cond);       \
	} while (0)

#define MPC_MUST_CHECK __attribute__((warn_unused_result))

#endif

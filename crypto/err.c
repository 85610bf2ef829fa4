/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ERRMSG_MAX 512

static _Thread_local char errmsg[ERRMSG_MAX];
/* The public part (err.h); empty: the code's static text. */
static _Thread_local char errpub[ERRMSG_MAX];

const char *mpc_strerror(int err)
{
	switch (err) {
	case MPC_OK:
		return "success";
#define MPC_ERR_TEXT(name, val, text) \
	case MPC_E_##name:            \
		return text;
		MPC_ERR_MAP(MPC_ERR_TEXT)
#undef MPC_ERR_TEXT
	}
	return "unknown error";
}

int mpc_fail(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(errmsg, sizeof(errmsg), fmt, ap);
	va_end(ap);
	/* A new error: an older public text must not describe it. */
	errpub[0] = '\0';
	return err;
}

int mpc_public(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(errpub, sizeof(errpub), fmt, ap);
	va_end(ap);
	return err;
}

const char *mpc_errpub(int err)
{
	return errpub[0] ? errpub : mpc_strerror(err);
}

int mpc_fail_ctx(int err, const char *fmt, ...)
{
	char old[ERRMSG_MAX], ctx[ERRMSG_MAX];
	va_list ap;

	snprintf(old, sizeof(old), "%s", errmsg[0] ? errmsg : mpc_strerror(err));
	va_start(ap, fmt);
	vsnprintf(ctx, sizeof(ctx), fmt, ap);
	va_end(ap);
	/* Truncation of an over-long message is acceptable: it stays one line. */
	snprintf(errmsg, sizeof(errmsg), "%.*s: %.*s", ERRMSG_MAX / 2 - 2, ctx,
		 ERRMSG_MAX / 2 - 2, old);
	return err;
}

const char *mpc_errmsg(int err)
{
	return errmsg[0] ? errmsg : mpc_strerror(err);
}

void mpc_err_clear(void)
{
	errmsg[0] = '\0';
	errpub[0] = '\0';
}

_Noreturn void mpc_bug_at(const char *file, int line, const char *what)
{
	fprintf(stderr, "mpc bug: %s:%d: %s\n", file, line, what);
	abort();
}

/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ERRMSG_MAX 512

static _Thread_local char errmsg[ERRMSG_MAX];

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
	return err;
}

int mpc_fail_ctx(int err, const char *fmt, ...)
{
	char old[ERRMSG_MAX];
	size_t used;
	va_list ap;

	memcpy(old, errmsg[0] ? errmsg : mpc_strerror(err), sizeof(old));
	old[sizeof(old) - 1] = '\0';
	va_start(ap, fmt);
	vsnprintf(errmsg, sizeof(errmsg), fmt, ap);
	va_end(ap);
	used = strlen(errmsg);
	if (used + 2 < sizeof(errmsg))
		snprintf(errmsg + used, sizeof(errmsg) - used, ": %s", old);
	return err;
}

const char *mpc_errmsg(int err)
{
	return errmsg[0] ? errmsg : mpc_strerror(err);
}

void mpc_err_clear(void)
{
	errmsg[0] = '\0';
}

_Noreturn void mpc_bug_at(const char *file, int line, const char *what)
{
	fprintf(stderr, "mpc bug: %s:%d: %s\n", file, line, what);
	abort();
}

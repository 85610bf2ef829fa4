/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static char node_name[40] = "mpcd";

void log_set_name(const char *name)
{
	snprintf(node_name, sizeof(node_name), "%s", name);
}

void log_at(const char *level, const char *fn, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* One line: a newline in a peer-supplied string cannot forge another. */
	for (char *p = msg; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	fprintf(stderr, "mpcd[%s] %s: %s: %s\n", node_name, level, fn, msg);
}

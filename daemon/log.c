/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static char node_name[40] = "mpcd";
static struct log_limit *limits; /* every call site that has logged */

void log_set_name(const char *name)
{
	snprintf(node_name, sizeof(node_name), "%s", name);
}

static void emit(const char *level, char *msg)
{
	/* One line: a newline in a peer-supplied string cannot forge another. */
	for (char *p = msg; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	fprintf(stderr, "mpcd[%s] %s: %s\n", node_name, level, msg);
}

void log_at(const char *level, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	emit(level, msg);
}

static double mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The window is over: the newest suppressed line stands for all of them. */
static void window_end(struct log_limit *rl, double now)
{
	if (rl->suppressed) {
		char msg[sizeof(rl->last) + 48];

		snprintf(msg, sizeof(msg), "%s (%lu similar lines suppressed)", rl->last,
			 rl->suppressed - 1);
		emit(rl->level, msg);
	}
	rl->start = now;
	rl->printed = 0;
	rl->suppressed = 0;
}

void log_limited(struct log_limit *rl, const char *level, const char *fmt, ...)
{
	double now = mono_now();
	va_list ap;

	if (!rl->listed) {
		rl->level = level;
		rl->start = now;
		rl->next = limits;
		limits = rl;
		rl->listed = 1;
	}
	if (now - rl->start >= LOG_RL_WINDOW)
		window_end(rl, now);
	va_start(ap, fmt);
	vsnprintf(rl->last, sizeof(rl->last), fmt, ap);
	va_end(ap);
	if (rl->printed < LOG_RL_BURST) {
		rl->printed++;
		emit(level, rl->last);
	} else {
		rl->suppressed++;
	}
}

void log_limit_flush(int all)
{
	double now = mono_now();

	for (struct log_limit *rl = limits; rl; rl = rl->next)
		if (rl->suppressed && (all || now - rl->start >= LOG_RL_WINDOW))
			window_end(rl, now);
}

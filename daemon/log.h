/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
#ifndef MPC_LOG_H
#define MPC_LOG_H

/*
 * Daemon log lines on stderr (journald adds the time): the node's name,
 * the level, the message; the operator reads them, so no C function names.
 * Never shares, keys or data values.
 */
void log_set_name(const char *name);
void log_at(const char *level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_info(...) log_at("info", __VA_ARGS__)
#define log_warn(...) log_at("warn", __VA_ARGS__)
#define log_err(...) log_at("error", __VA_ARGS__)

/*
 * Rate-limited lines, for what an outsider can trigger at will (refused
 * handshakes and connections): at most LOG_RL_BURST lines per call site in
 * each LOG_RL_WINDOW seconds; the rest are counted, and when the window
 * ends the last of them is printed with " (N similar lines suppressed)",
 * so lines printed plus the counts are every event. Loop thread only.
 */
#define LOG_RL_BURST 5
#define LOG_RL_WINDOW 10.0

struct log_limit {
	struct log_limit *next;  /* in the list log_limit_flush walks */
	const char *level;
	double start;            /* of the current window (monotonic seconds) */
	unsigned printed;        /* lines printed in it */
	unsigned long suppressed;
	int listed;
	char last[768];          /* the newest suppressed line */
};

void log_limited(struct log_limit *rl, const char *level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/*
 * Print the count of every window that has ended (the cron, once a
 * second), or with all set of every window (stopping).
 */
void log_limit_flush(int all);

#define log_info_rl(...)                                                   \
	do {                                                               \
		static struct log_limit rl_;                               \
		log_limited(&rl_, "info", __VA_ARGS__);                    \
	} while (0)
#define log_warn_rl(...)                                                   \
	do {                                                               \
		static struct log_limit rl_;                               \
		log_limited(&rl_, "warn", __VA_ARGS__);                    \
	} while (0)

#endif

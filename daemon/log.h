/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
#ifndef MPC_LOG_H
#define MPC_LOG_H

/*
 * Daemon log lines on stderr (journald adds the time): level, the node's
 * name, the function, the message. Never shares, keys or data values.
 */
void log_set_name(const char *name);
void log_at(const char *level, const char *fn, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define log_info(...) log_at("info", __func__, __VA_ARGS__)
#define log_warn(...) log_at("warn", __func__, __VA_ARGS__)
#define log_err(...) log_at("error", __func__, __VA_ARGS__)

#endif

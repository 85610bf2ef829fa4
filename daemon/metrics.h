/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
#ifndef MPC_METRICS_H
#define MPC_METRICS_H

/*
 * The Prometheus endpoint ([Node] MetricsListen, off unless set;
 * docs/daemon.md, "Metrics"): `GET /metrics` over HTTP on the daemon's
 * loop answers the text exposition format 0.0.4 with what the lower
 * layers count (srv->stats, the peers, the jobs). It reads, it never
 * changes anything, and nothing private is in it: states, phases, times,
 * byte and message counts, peer names and job ids, never a job's inputs,
 * values, reasons or paths, never a key.
 *
 * Anyone who can reach the address can scrape it: bind it to loopback or
 * a management network. A request's head is read into a fixed buffer of
 * METRICS_REQ_MAX bytes (more: 431), answered within METRICS_TIMEOUT
 * seconds of the connection (a slow client gets 408), at most
 * METRICS_CONN_MAX connections at once (more are closed at accept).
 */
#include <stddef.h>
#include <stdint.h>

#include "server.h"

#define METRICS_REQ_MAX 4096
#define METRICS_TIMEOUT 5
#define METRICS_CONN_MAX SRV_METRICS_MAX
/* A reply body never grows past this (a daemon's whole scrape is a few KB). */
#define METRICS_BODY_MAX (1u << 20)

/* Loop thread: listen on MetricsListen (0 when it is unset). */
int metrics_listen(struct server *s);
/* Stopping: close the listener and every scrape connection. */
void metrics_close(struct server *s);

/*
 * The text format writer, exposed for tests/test_metrics.c. A buffer that
 * grows up to METRICS_BODY_MAX; a write beyond sets `full` and the reply is
 * a 500 instead of a cut scrape.
 */
struct metrics_buf {
	char *p;
	size_t len, cap;
	int full;
};

void metrics_buf_free(struct metrics_buf *b);
void metrics_printf(struct metrics_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "# HELP name help" and "# TYPE name type" (type: counter, gauge, histogram). */
void metrics_family(struct metrics_buf *b, const char *name, const char *type, const char *help);
/*
 * One sample: name{k1="v1",...} value. labels: NULL, or name and value
 * pairs ending with NULL; values are escaped (\\, \", \n).
 */
void metrics_u64(struct metrics_buf *b, const char *name, const char *const *labels, uint64_t v);
void metrics_f64(struct metrics_buf *b, const char *name, const char *const *labels, double v);
/* A histogram's _bucket (cumulative, le="+Inf" last), _sum and _count samples. */
void metrics_hist(struct metrics_buf *b, const char *name, const char *const *labels,
		  const struct srv_hist *h);
/* Every metric of this daemon (loop thread). */
void metrics_render(struct server *s, struct metrics_buf *b);

/*
 * A request's head so far (len bytes): 0 while it is incomplete and under
 * METRICS_REQ_MAX; else the HTTP status to answer: 200 for GET /metrics,
 * 404 another path, 405 another method, 400 not a request, 431 too large.
 */
int metrics_request(const uint8_t *p, size_t len);

#endif

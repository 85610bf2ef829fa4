/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * The metrics endpoint's pieces that need no daemon (daemon/metrics.c):
 * the Prometheus text format writer (HELP/TYPE lines, labels and their
 * escaping, histograms with cumulative buckets), the body's cap, and the
 * HTTP request head's parser. tests/daemon/test_metrics.sh scrapes a
 * running cluster with Debian's prometheus.
 */
#include <string.h>

#include "metrics.h"
#include "test.h"

TEST(metrics_text_format)
{
	struct metrics_buf b = { 0 };
	const char *l[] = { "peer", "beta", "note", "a\"b\\c\nd", NULL };
	const char *want =
		"# HELP mpcd_x_total Bytes sent\\nto a \\\\ peer.\n"
		"# TYPE mpcd_x_total counter\n"
		"mpcd_x_total{peer=\"beta\",note=\"a\\\"b\\\\c\\nd\"} 18446744073709551615\n"
		"mpcd_x_total 0\n"
		"# HELP mpcd_g A gauge.\n"
		"# TYPE mpcd_g gauge\n"
		"mpcd_g{peer=\"beta\",note=\"a\\\"b\\\\c\\nd\"} 0.25\n";

	metrics_family(&b, "mpcd_x_total", "counter", "Bytes sent\nto a \\ peer.");
	metrics_u64(&b, "mpcd_x_total", l, UINT64_MAX);
	metrics_u64(&b, "mpcd_x_total", NULL, 0);
	metrics_family(&b, "mpcd_g", "gauge", "A gauge.");
	metrics_f64(&b, "mpcd_g", l, 0.25);
	ASSERT(!b.full);
	ASSERT(b.p != NULL);
	if (strcmp(b.p, want))
		TEST_FAIL("got:\n%s\nwant:\n%s", b.p, want);
	ASSERT_EQ(b.len, strlen(want));
	metrics_buf_free(&b);
	return 0;
}

TEST(metrics_histogram)
{
	struct metrics_buf b = { 0 };
	struct srv_hist h;
	const char *l[] = { "phase", "online", NULL };
	char line[128];

	memset(&h, 0, sizeof(h));
	/* On a bound is in its bucket; beyond the last is only in +Inf. */
	srv_hist_observe(&h, 0.01);
	srv_hist_observe(&h, 0.02);
	srv_hist_observe(&h, 1.0);
	srv_hist_observe(&h, 7200);
	ASSERT_U64_EQ(h.count, 4);
	ASSERT_NEAR(h.sum, 7201.03, 1e-9);
	metrics_hist(&b, "mpcd_d_seconds", l, &h);
	ASSERT(!b.full);
	ASSERT(strstr(b.p, "mpcd_d_seconds_bucket{phase=\"online\",le=\"0.01\"} 1\n") == b.p);
	ASSERT(strstr(b.p, "mpcd_d_seconds_bucket{phase=\"online\",le=\"0.05\"} 2\n"));
	ASSERT(strstr(b.p, "mpcd_d_seconds_bucket{phase=\"online\",le=\"0.5\"} 2\n"));
	ASSERT(strstr(b.p, "mpcd_d_seconds_bucket{phase=\"online\",le=\"1\"} 3\n"));
	ASSERT(strstr(b.p, "mpcd_d_seconds_bucket{phase=\"online\",le=\"3600\"} 3\n"));
	ASSERT(strstr(b.p, "mpcd_d_seconds_bucket{phase=\"online\",le=\"+Inf\"} 4\n"));
	ASSERT(strstr(b.p, "mpcd_d_seconds_sum{phase=\"online\"} 7201.03\n"));
	/* _count last, after every bucket and the sum. */
	snprintf(line, sizeof(line), "mpcd_d_seconds_count{phase=\"online\"} 4\n");
	ASSERT(b.len > strlen(line));
	ASSERT(!strcmp(b.p + b.len - strlen(line), line));
	/* One line per bucket, +Inf, sum, count. */
	{
		size_t lines = 0;

		for (size_t i = 0; i < b.len; i++)
			lines += b.p[i] == '\n';
		ASSERT_EQ(lines, (size_t)SRV_HIST_BUCKETS + 3);
	}
	metrics_buf_free(&b);
	return 0;
}

TEST(metrics_body_cap)
{
	struct metrics_buf b = { 0 };
	size_t n = 0;

	/* A body that would pass METRICS_BODY_MAX is marked full, never cut silently. */
	while (!b.full && n++ < 2 * METRICS_BODY_MAX / 16)
		metrics_u64(&b, "mpcd_long_name", NULL, 1);
	ASSERT(b.full);
	ASSERT(b.cap <= METRICS_BODY_MAX);
	ASSERT(b.len < METRICS_BODY_MAX);
	metrics_buf_free(&b);
	ASSERT(b.p == NULL && b.len == 0 && !b.full);
	return 0;
}

static int req(const char *s)
{
	return metrics_request((const uint8_t *)s, strlen(s));
}

TEST(metrics_request_head)
{
	static uint8_t big[METRICS_REQ_MAX];
	char target[400];

	ASSERT_EQ(req("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: */*\r\n\r\n"), 200);
	ASSERT_EQ(req("GET /metrics?format=text HTTP/1.0\n\n"), 200);
	/* Incomplete: wait for more. */
	ASSERT_EQ(req(""), 0);
	ASSERT_EQ(req("GET /metrics HTTP/1.1\r\nHost: x\r\n"), 0);
	ASSERT_EQ(req("GET /metrics HTTP/1.1\r\n\r"), 0);
	ASSERT_EQ(req("GET / HTTP/1.1\r\n\r\n"), 404);
	ASSERT_EQ(req("GET /metricsx HTTP/1.1\r\n\r\n"), 404);
	ASSERT_EQ(req("POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n"), 405);
	ASSERT_EQ(req("HEAD /metrics HTTP/1.1\r\n\r\n"), 405);
	ASSERT_EQ(req("AVERYVERYLONGMETHODNAME /metrics HTTP/1.1\r\n\r\n"), 405);
	ASSERT_EQ(req("GET /metrics\r\n\r\n"), 400);
	ASSERT_EQ(req("GET /metrics SPDY/3\r\n\r\n"), 400);
	ASSERT_EQ(req("GET  /metrics HTTP/1.1\r\n\r\n"), 400);
	ASSERT_EQ(req("\x16\x03\x01\x02\x01\n\n"), 400);
	ASSERT_EQ(req("GET /met\x01rics HTTP/1.1\r\n\r\n"), 400);
	/* A target longer than any served path: 414. */
	memset(target, 'a', sizeof(target));
	memcpy(target, "GET /", 5);
	snprintf(target + 300, sizeof(target) - 300, " HTTP/1.1\r\n\r\n");
	ASSERT_EQ(req(target), 414);
	/* A head that never ends within the cap: 431 once the buffer is full. */
	memset(big, 'A', sizeof(big));
	ASSERT_EQ(metrics_request(big, sizeof(big) - 1), 0);
	ASSERT_EQ(metrics_request(big, sizeof(big)), 431);
	memcpy(big, "GET /metrics HTTP/1.1\r\nX: ", 26);
	ASSERT_EQ(metrics_request(big, sizeof(big)), 431);
	return 0;
}

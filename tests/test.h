/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
#ifndef MPC_TEST_H
#define MPC_TEST_H

/*
 * Unit-test helpers. Assertions never compile out (NDEBUG has no effect)
 * and print both expressions and their values. A test is
 * `TEST(name) { ...; return 0; }`, declared once in a tests/list_*.h file.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEST(name) int test_##name(void)

#define TEST_FAIL(...)                                                   \
	do {                                                             \
		fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);          \
		fprintf(stderr, __VA_ARGS__);                            \
		fputc('\n', stderr);                                     \
		abort();                                                 \
	} while (0)

#define ASSERT(cond)                                                     \
	do {                                                             \
		if (!(cond))                                             \
			TEST_FAIL("assertion failed: %s", #cond);        \
	} while (0)

#define ASSERT_EQ(a, b)                                                  \
	do {                                                             \
		long long a_ = (long long)(a), b_ = (long long)(b);      \
		if (a_ != b_)                                            \
			TEST_FAIL("%s == %s: %lld != %lld", #a, #b, a_, b_); \
	} while (0)

#define ASSERT_U64_EQ(a, b)                                              \
	do {                                                             \
		uint64_t a_ = (uint64_t)(a), b_ = (uint64_t)(b);         \
		if (a_ != b_)                                            \
			TEST_FAIL("%s == %s: 0x%016" PRIx64 " != 0x%016" PRIx64, \
				  #a, #b, a_, b_);                       \
	} while (0)

#define ASSERT_NEAR(a, b, tol)                                           \
	do {                                                             \
		double a_ = (double)(a), b_ = (double)(b);               \
		if (!(a_ - b_ <= (tol) && b_ - a_ <= (tol)))             \
			TEST_FAIL("|%s - %s| <= %g: %.9g vs %.9g", #a, #b, \
				  (double)(tol), a_, b_);                \
	} while (0)

/*
 * TEST_SKIP("why %s", ...): the test cannot run here (no AES-NI, say); the
 * runner reports "ok N name # SKIP why" and counts it apart. Never for a
 * failure: a skipped test is not a passed one.
 */
#define TEST_SKIP_STATUS 77
_Noreturn void test_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#define TEST_SKIP(...) test_skip(__VA_ARGS__)

/*
 * |a - b|, or +inf when either is NaN or infinite. fmax() and a plain
 * "> tol" both let NaN through (fmax drops it, every comparison with it
 * is false), so every distance a test compares goes through here.
 */
double test_diff(double a, double b);

/* A call returning an mpc status that must succeed; prints the message. */
#define ASSERT_OK(call)                                                  \
	do {                                                             \
		int r_ = (call);                                         \
		if (r_ != 0)                                             \
			TEST_FAIL("%s: %d (%s)", #call, r_, mpc_errmsg(r_)); \
	} while (0)

/* Directory of the copied fixtures (env MPC_FIXTURES, else tests/fixtures). */
const char *test_fixtures(void);
/* snprintf into a static rotating buffer: fixture path of "dir/file". */
const char *test_fixture(const char *rel);

#endif

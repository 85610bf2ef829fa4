/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * Test runner: forks one process per test with a timeout, prints the plan
 * ("1..N") first, then TAP lines, and ends with "N passed, N failed,
 * N skipped". A test that crashes, times out or exits with anything but
 * 0 fails; one that calls TEST_SKIP prints "ok N name # SKIP reason" and
 * is counted apart, never as passed. Arguments select tests by name
 * prefix, "-prefix" leaves some out; a prefix that selects nothing is an
 * error (a typo would otherwise run nothing and pass). `-l` lists them.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test.h"

#define X(name, secs) int test_##name(void);
#include "list.h"
#undef X

struct test_entry {
	const char *name;
	int (*fn)(void);
	unsigned timeout;
};

static const struct test_entry test_list[] = {
#define X(name, secs) { #name, test_##name, (secs) },
#include "list.h"
#undef X
};

/*
 * The runner's own cases, one per outcome, run instead of the list when
 * MPC_RUNNER_SELF is set: runner_statuses checks what the runner prints
 * for each, so a runner that counted a crash as a pass would fail there.
 */
static int self_pass(void) { return 0; }
static int self_fail(void) { return 1; }
static int self_crash(void) { abort(); }
static int self_timeout(void) { sleep(30); return 0; }
static int self_skip(void) { TEST_SKIP("a reason"); }
static int self_exit77(void) { exit(TEST_SKIP_STATUS); } /* 77 without a reason */

static const struct test_entry self_tests[] = {
	{ "self_pass", self_pass, 5 },       { "self_fail", self_fail, 5 },
	{ "self_crash", self_crash, 5 },     { "self_timeout", self_timeout, 1 },
	{ "self_skip", self_skip, 5 },       { "self_exit77", self_exit77, 5 },
};

const char *test_fixtures(void)
{
	const char *d = getenv("MPC_FIXTURES");

	return d && *d ? d : "tests/fixtures";
}

const char *test_fixture(const char *rel)
{
	static char buf[8][1024];
	static unsigned k;
	char *b = buf[k++ % 8];

	snprintf(b, sizeof(buf[0]), "%s/%s", test_fixtures(), rel);
	return b;
}

double test_diff(double a, double b)
{
	if (isnan(a) || isnan(b) || isinf(a) || isinf(b))
		return INFINITY;
	return fabs(a - b);
}

/* The write end of the running test's pipe for its skip reason. */
static int skip_fd = -1;

void test_skip(const char *fmt, ...)
{
	char why[256];
	va_list ap;
	ssize_t w;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	/* One write below PIPE_BUF: the runner reads it whole after the exit. */
	w = skip_fd >= 0 ? write(skip_fd, why, strlen(why)) : -1;
	fflush(NULL);
	_exit(w > 0 ? TEST_SKIP_STATUS : 1);
}

/* Arguments are name prefixes to run; "-PREFIX" excludes instead. */
static int selected(const char *name, int argc, char **argv)
{
	int i, any_include = 0, hit = 0;

	for (i = 1; i < argc; i++) {
		if (argv[i][0] == '-') {
			if (!strncmp(name, argv[i] + 1, strlen(argv[i] + 1)))
				return 0;
			continue;
		}
		any_include = 1;
		if (!strncmp(name, argv[i], strlen(argv[i])))
			hit = 1;
	}
	return !any_include || hit;
}

enum { RUN_PASS, RUN_FAIL, RUN_SKIP };

/* Runs t in a child; a skip needs both the status and a reason in why. */
static int run_one(const struct test_entry *t, double *secs, char *why, size_t whylen)
{
	struct timespec t0, t1;
	int status = 0, fds[2];
	ssize_t got;
	pid_t pid;

	why[0] = '\0';
	clock_gettime(CLOCK_MONOTONIC, &t0);
	fflush(NULL);
	/* Close-on-exec and read without blocking: a process the test started
	 * and left running must not hold the runner (the reason, if any, is in
	 * the pipe before the test exits). */
	if (pipe2(fds, O_CLOEXEC) < 0)
		return RUN_FAIL;
	pid = fcntl(fds[0], F_SETFL, O_NONBLOCK) < 0 ? -1 : fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return RUN_FAIL;
	}
	if (pid == 0) {
		close(fds[0]);
		skip_fd = fds[1];
		alarm(t->timeout);
		exit(t->fn() == 0 ? 0 : 1);
	}
	close(fds[1]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	while ((got = read(fds[0], why, whylen - 1)) < 0 && errno == EINTR)
		;
	why[got > 0 ? got : 0] = '\0';
	close(fds[0]);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	*secs = (double)(t1.tv_sec - t0.tv_sec) +
		(double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	if (WIFSIGNALED(status)) {
		printf("# %s: killed by signal %d%s\n", t->name,
		       WTERMSIG(status),
		       WTERMSIG(status) == SIGALRM ? " (timeout)" : "");
		return RUN_FAIL;
	}
	if (WEXITSTATUS(status) == TEST_SKIP_STATUS && why[0])
		return RUN_SKIP;
	return WEXITSTATUS(status) != 0 ? RUN_FAIL : RUN_PASS;
}

int main(int argc, char **argv)
{
	const struct test_entry *tests = test_list;
	size_t i, n = sizeof(test_list) / sizeof(test_list[0]);
	unsigned passed = 0, failed = 0, skipped = 0, k = 0, plan = 0;
	int a;

	if (getenv("MPC_RUNNER_SELF")) {
		tests = self_tests;
		n = sizeof(self_tests) / sizeof(self_tests[0]);
	}

	if (argc == 2 && !strcmp(argv[1], "-l")) {
		for (i = 0; i < n; i++)
			printf("%s\n", tests[i].name);
		return 0;
	}
	for (a = 1; a < argc; a++) {
		const char *p = argv[a] + (argv[a][0] == '-');

		for (i = 0; i < n && strncmp(tests[i].name, p, strlen(p)); i++)
			;
		if (i == n) {
			printf("Bail out! no test name starts with '%s'\n", p);
			return 2;
		}
	}
	for (i = 0; i < n; i++)
		plan += selected(tests[i].name, argc, argv);
	printf("1..%u\n", plan);
	for (i = 0; i < n; i++) {
		char why[256];
		double secs = 0;
		int r;

		if (!selected(tests[i].name, argc, argv))
			continue;
		r = run_one(&tests[i], &secs, why, sizeof(why));
		k++;
		if (r == RUN_SKIP) {
			printf("ok %u %s # SKIP %s\n", k, tests[i].name, why);
			skipped++;
			continue;
		}
		printf("%s %u %s (%.2fs)\n", r == RUN_PASS ? "ok" : "not ok", k,
		       tests[i].name, secs);
		if (r == RUN_PASS)
			passed++;
		else
			failed++;
	}
	/* Never reached (cannot happen in this loop, but the count must not lie). */
	failed += plan - k;
	if (!plan)
		printf("# nothing selected\n");
	printf("%u passed, %u failed, %u skipped\n", passed, failed, skipped);
	return failed || !plan ? 1 : 0;
}

/*
 * runner_statuses fails with _exit(1): neither abort() (a runner that
 * took a signal for a pass would pass it) nor a return (one that took
 * any status for a pass): the runner under test is also the one running it.
 */
#define SELF_FAIL(...)                                                   \
	do {                                                             \
		fprintf(stderr, __VA_ARGS__);                            \
		fputc('\n', stderr);                                     \
		fflush(NULL);                                            \
		_exit(1);                                                \
	} while (0)

/* Starts this runner on its own cases; returns its exit status, output in out. */
static int run_self(const char *args, char *out, size_t len)
{
	char exe[512], cmd[700];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	size_t got = 0;
	FILE *p;
	int st;

	if (n <= 0)
		SELF_FAIL("readlink /proc/self/exe failed");
	exe[n] = '\0';
	snprintf(cmd, sizeof(cmd), "MPC_RUNNER_SELF=1 '%s' %s 2>/dev/null", exe, args);
	if (!(p = popen(cmd, "r")))
		SELF_FAIL("popen %s failed", cmd);
	while (got + 1 < len && (n = (ssize_t)fread(out + got, 1, len - 1 - got, p)) > 0)
		got += (size_t)n;
	out[got] = '\0';
	st = pclose(p);
	if (!WIFEXITED(st))
		SELF_FAIL("the runner did not exit: status %d:\n%s", st, out);
	return WEXITSTATUS(st);
}

/* Each line of out, but TAP comments, starts with the next of want. */
static void expect_lines(const char *out, const char *const *want, size_t n)
{
	const char *l = out;
	size_t k = 0;

	for (; *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : l + strlen(l)) {
		if (*l == '#')
			continue;
		if (k == n || strncmp(l, want[k], strlen(want[k])))
			SELF_FAIL("runner output, line %zu: expected '%s' in:\n%s", k + 1,
				  k < n ? want[k] : "(nothing)", out);
		k++;
	}
	if (k != n)
		SELF_FAIL("runner output: %zu lines of %zu:\n%s", k, n, out);
}

TEST(runner_statuses)
{
	static const char *const all[] = {
		"1..6\n", "ok 1 self_pass (", "not ok 2 self_fail (", "not ok 3 self_crash (",
		"not ok 4 self_timeout (", "ok 5 self_skip # SKIP a reason\n",
		"not ok 6 self_exit77 (", "1 passed, 4 failed, 1 skipped\n",
	};
	static const char *const some[] = { "1..2\n", "ok 1 self_pass (", "ok 2 self_skip # SKIP",
					     "1 passed, 0 failed, 1 skipped\n" };
	static const char *const none[] = { "Bail out! no test name starts with 'self_typo'\n" };
	char out[4096];

	if (run_self("", out, sizeof(out)) != 1)
		SELF_FAIL("all cases: exit status other than 1:\n%s", out);
	expect_lines(out, all, sizeof(all) / sizeof(all[0]));
	if (run_self("self_pass self_skip", out, sizeof(out)) != 0)
		SELF_FAIL("a pass and a skip: exit status other than 0:\n%s", out);
	expect_lines(out, some, sizeof(some) / sizeof(some[0]));
	if (run_self("self_pass self_typo", out, sizeof(out)) != 2)
		SELF_FAIL("a typo: exit status other than 2:\n%s", out);
	expect_lines(out, none, 1);
	if (run_self("-self", out, sizeof(out)) != 1)
		SELF_FAIL("nothing selected: exit status other than 1:\n%s", out);
	return 0;
}

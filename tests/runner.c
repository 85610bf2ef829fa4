/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * Test runner: forks one process per test with a timeout, prints TAP-style
 * lines and ends with "N passed, N failed". Arguments select tests by
 * name prefix, "-prefix" leaves some out; `-l` lists them.
 */
#include <errno.h>
#include <signal.h>
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

static const struct test_entry tests[] = {
#define X(name, secs) { #name, test_##name, (secs) },
#include "list.h"
#undef X
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

static int run_one(const struct test_entry *t, double *secs)
{
	struct timespec t0, t1;
	int status = 0;
	pid_t pid;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		alarm(t->timeout);
		exit(t->fn() == 0 ? 0 : 1);
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	*secs = (double)(t1.tv_sec - t0.tv_sec) +
		(double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	if (WIFSIGNALED(status)) {
		printf("# %s: killed by signal %d%s\n", t->name,
		       WTERMSIG(status),
		       WTERMSIG(status) == SIGALRM ? " (timeout)" : "");
		return 1;
	}
	return WEXITSTATUS(status) != 0;
}

int main(int argc, char **argv)
{
	size_t i, n = sizeof(tests) / sizeof(tests[0]);
	unsigned passed = 0, failed = 0, k = 0;

	if (argc == 2 && !strcmp(argv[1], "-l")) {
		for (i = 0; i < n; i++)
			printf("%s\n", tests[i].name);
		return 0;
	}
	for (i = 0; i < n; i++)
		k += selected(tests[i].name, argc, argv);
	printf("1..%u\n", k);
	k = 0;
	for (i = 0; i < n; i++) {
		double secs = 0;
		int bad;

		if (!selected(tests[i].name, argc, argv))
			continue;
		bad = run_one(&tests[i], &secs);
		printf("%s %u %s (%.2fs)\n", bad ? "not ok" : "ok", ++k,
		       tests[i].name, secs);
		if (bad)
			failed++;
		else
			passed++;
	}
	printf("%u passed, %u failed\n", passed, failed);
	return failed ? 1 : 0;
}

/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * mpcctl show: print a result file, and with --ref beside a reference
 * (say, plaintext inference): per row the values, the argmax of each and
 * whether they agree, then the largest difference. Reads only local files.
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "npy.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: mpcctl show FILE.npy|FILE.csv [--ref REF.npy] [--rows N]\n"
		"\n"
		"Prints a result file (from `mpcctl result` or `simulate -o`) one row a line,\n"
		"the first N rows (default 10). With --ref, each row beside the reference\n"
		"(say, plaintext inference), the argmax of both, and at the end the largest\n"
		"difference and how many rows agree. Needs no daemon.\n");
}

static size_t argmax(const float *v, size_t n)
{
	size_t b = 0;

	for (size_t i = 1; i < n; i++)
		if (v[i] > v[b])
			b = i;
	return b;
}

static void row(const float *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		printf("%s%8.4f", i ? " " : "", v[i]);
}

int show_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ref", required_argument, NULL, 'r' },
		{ "rows", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ftensor t = { 0 }, ref = { 0 };
	const char *ref_path = NULL;
	long rows_max = 10;
	size_t rows, cols, agree = 0;
	double worst = 0;
	int c, ret, status = 1;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'r') {
			ref_path = optarg;
		} else if (c == 'n') {
			char *end;

			rows_max = strtol(optarg, &end, 10);
			if (!*optarg || *end || rows_max < 0) {
				fprintf(stderr, "mpcctl show: --rows '%s': expected a number of "
					"rows, 0 or more\n", optarg);
				return 2;
			}
		} else {
			usage(c == 'h' ? stdout : stderr);
			return c == 'h' ? 0 : 2;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return 2;
	}
	if ((ret = input_load(argv[optind], &t)) != 0 ||
	    (ref_path && (ret = input_load(ref_path, &ref)) != 0)) {
		fprintf(stderr, "mpcctl show: %s\n", mpc_errmsg(ret));
		goto out;
	}
	rows = t.ndim >= 1 ? (size_t)t.dims[0] : 1;
	cols = rows ? t.n / rows : 0;
	if (ref_path && ref.n != t.n) {
		fprintf(stderr, "mpcctl show: %s has %zu values, %s has %zu\n", argv[optind], t.n,
			ref_path, ref.n);
		goto out;
	}
	for (size_t r = 0; r < rows; r++) {
		const float *a = t.data + r * cols, *b = ref_path ? ref.data + r * cols : NULL;
		int same = b && argmax(a, cols) == argmax(b, cols);

		agree += same;
		for (size_t i = 0; b && i < cols; i++)
			worst = fmax(worst, fabs((double)a[i] - b[i]));
		if ((long)r >= rows_max)
			continue;
		printf("row %3zu  ", r);
		row(a, cols);
		if (b) {
			printf("   | ref ");
			row(b, cols);
			printf("   class %zu/%zu %s", argmax(a, cols), argmax(b, cols),
			       same ? "ok" : "DIFFERS");
		}
		printf("\n");
	}
	if ((long)rows > rows_max)
		printf("... %zu more rows\n", rows - (size_t)rows_max);
	if (ref_path)
		printf("max |result - reference| = %.3g; argmax agrees on %zu of %zu rows\n", worst,
		       agree, rows);
	status = 0;
out:
	ftensor_free(&t);
	ftensor_free(&ref);
	return status;
}

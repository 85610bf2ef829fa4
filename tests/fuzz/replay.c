/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * A plain driver for the fuzz targets where clang's libFuzzer is missing:
 * runs LLVMFuzzerTestOneInput once on every file named (a directory: every
 * file in it), built with gcc and ASan/UBSan, so the committed corpora
 * (tests/fuzz/corpus/<target>/) replay as regression tests anyway.
 * Prints "replayed N inputs"; a crash or a sanitizer report is the
 * target's own abort.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static long n_run;

static int one(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long len;

	if (!f || fseek(f, 0, SEEK_END) || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) ||
	    !(buf = malloc((size_t)len + 1)) || fread(buf, 1, (size_t)len, f) != (size_t)len) {
		fprintf(stderr, "replay: cannot read %s\n", path);
		if (f)
			fclose(f);
		free(buf);
		return -1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, (size_t)len);
	free(buf);
	n_run++;
	return 0;
}

int main(int argc, char **argv)
{
	int bad = 0;

	for (int i = 1; i < argc; i++) {
		struct stat st;
		struct dirent **ents;
		int n;

		if (stat(argv[i], &st) || !S_ISDIR(st.st_mode)) {
			bad |= one(argv[i]);
			continue;
		}
		if ((n = scandir(argv[i], &ents, NULL, alphasort)) < 0) {
			fprintf(stderr, "replay: cannot list %s\n", argv[i]);
			bad = 1;
			continue;
		}
		for (int k = 0; k < n; k++) {
			char p[4096];

			if (ents[k]->d_name[0] != '.') {
				snprintf(p, sizeof(p), "%s/%s", argv[i], ents[k]->d_name);
				bad |= one(p);
			}
			free(ents[k]);
		}
		free(ents);
	}
	printf("replayed %ld inputs\n", n_run);
	return bad ? 1 : 0;
}

/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * Helpers shared by the file-format tests; see files_util.h.
 */
#include <dirent.h>
#include <unistd.h>
#include "files_util.h"
#include "npy.h"

const struct fx fixtures[6] = {
	{ "digits_mlp", 2, { 64, 64 }, 10, 63, 2410 },
	{ "tiny_cnn", 4, { 64, 1, 8, 8 }, 10, 62, 410 },
	{ "digits_resavg", 4, { 64, 1, 8, 8 }, 10, 62, 2002 },
	{ "digits_bn_softmax", 2, { 64, 64 }, 10, 61, 2538 },
	{ "iris_logreg", 2, { 64, 4 }, 3, 61, 15 },
	{ "wine_mlp", 2, { 64, 13 }, 3, 63, 139 },
};

const char *fpath(const char *m, const char *f)
{
	static char buf[4][512];
	static unsigned k;
	char *b = buf[k++ % 4];

	snprintf(b, sizeof(buf[0]), "%s/%s", m, f);
	return test_fixture(b);
}

uint8_t *slurp(const char *path, size_t *len)
{
	uint8_t *b = NULL;

	ASSERT_OK(file_read_all(path, (size_t)1 << 30, &b, len));
	return b;
}

void assert_dims(const struct ftensor *t, int nd, const int64_t *d)
{
	int i;

	ASSERT_EQ(t->ndim, nd);
	for (i = 0; i < nd; i++)
		ASSERT_EQ(t->dims[i], d[i]);
}

/* xorshift64; every test runs in its own process, so from this seed. */
static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

void mutate_all(const uint8_t *orig, size_t len, size_t hdr_end,
		void (*check)(const uint8_t *, size_t))
{
	static const uint8_t pick[] = { 0, 0xff, 0x7f, 0x80, ' ', '\n', ',', '[',
					']', '{', '}', '"', '\'', ':', '(', ')',
					'-', '0', '1', '9', 'e' };
	uint8_t *b;
	size_t i, cut;
	int bit, k;

	for (cut = 0; cut < len; cut++) {
		b = malloc(cut ? cut : 1);
		memcpy(b, orig, cut);
		check(b, cut);
		free(b);
	}
	b = malloc(len);
	memcpy(b, orig, len);
	for (i = 0; i < len; i++) {
		for (bit = 0; bit < 8; bit++) {
			if (i > hdr_end + 64 && (i % 13 || bit != (int)(i % 8)))
				continue;
			b[i] ^= (uint8_t)(1u << bit);
			check(b, len);
			b[i] ^= (uint8_t)(1u << bit);
		}
	}
	for (k = 0; k < 3000; k++) {
		size_t pos, n = 1 + next_rand() % 4, cutl = len;
		uint8_t *c;

		for (i = 0; i < n; i++) {
			pos = next_rand() % (hdr_end + 16 < len ? hdr_end + 16 : len);
			b[pos] = next_rand() & 1 ? pick[next_rand() % sizeof(pick)] :
						    (uint8_t)next_rand();
		}
		if (next_rand() % 4 == 0)
			cutl = next_rand() % (len + 1);
		c = malloc(cutl ? cutl : 1);
		memcpy(c, b, cutl);
		check(c, cutl);
		free(c);
		memcpy(b, orig, len);
	}
	free(b);
}

void fill_seq(struct ftensor *t, float base)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		t->data[i] = base + (float)i;
}

static char tmpdir[64];

const char *tmp_dir(void)
{
	if (!tmpdir[0]) {
		strcpy(tmpdir, "/tmp/mpcd-test-XXXXXX");
		ASSERT(mkdtemp(tmpdir));
	}
	return tmpdir;
}

const char *tmp_path(const char *name)
{
	static char buf[4][256];
	static unsigned k;
	char *b = buf[k++ % 4];

	snprintf(b, sizeof(buf[0]), "%s/%s", tmp_dir(), name);
	return b;
}

int dir_entries(void)
{
	DIR *d = opendir(tmpdir);
	struct dirent *e;
	int n = 0;

	ASSERT(d);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

void tmp_cleanup(void)
{
	DIR *d = opendir(tmpdir);
	struct dirent *e;
	char p[512];

	if (!d)
		return;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", tmpdir, e->d_name);
		if (unlink(p))
			rmdir(p);
	}
	closedir(d);
	rmdir(tmpdir);
}

/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
#include "state.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "npy.h"

static void ts_path(const struct server *s, const char *peer, char *buf, size_t len)
{
	snprintf(buf, len, "%s/handshakes/%s", s->cfg->node.data_dir, peer);
}

int state_load_peer(struct peer *p)
{
	char path[4200], line[40], *end;
	FILE *f;
	size_t n;

	ts_path(p->srv, p->cfg->name, path, sizeof(path));
	if (!(f = fopen(path, "re"))) {
		if (errno == ENOENT)
			return 0; /* never connected */
		return mpc_fail(MPC_E_IO, "%s: %s", path, strerror(errno));
	}
	n = fread(line, 1, sizeof(line) - 1, f);
	fclose(f);
	line[n] = '\0';
	/*
	 * Written atomically, so anything but 16 hex digits was put there
	 * by hand: refuse to start rather than forget (fail closed).
	 */
	errno = 0;
	p->last_ts = strtoull(line, &end, 16);
	if (n != 17 || end != line + 16 || *end != '\n' || errno)
		return mpc_fail(MPC_E_FORMAT, "%s: not a handshake timestamp "
			        "(16 hex digits); remove it to forget the peer's", path);
	return 0;
}

int state_load(struct server *s)
{
	char dir[4096];
	int ret;

	snprintf(dir, sizeof(dir), "%s/handshakes", s->cfg->node.data_dir);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return mpc_fail(MPC_E_IO, "%s: %s", dir, strerror(errno));
	for (size_t i = 0; i < s->n_peers; i++)
		if ((ret = state_load_peer(&s->peers[i])) != 0)
			return ret;
	return 0;
}

static int fill_ts(FILE *f, const void *arg)
{
	return fprintf(f, "%016" PRIx64 "\n", *(const uint64_t *)arg) == 17 ? 0 :
	       mpc_fail(MPC_E_IO, "short write");
}

int state_save_ts(struct peer *p, uint64_t ts)
{
	char path[4200];
	int ret;

	ts_path(p->srv, p->cfg->name, path, sizeof(path));
	if ((ret = file_write_atomic(path, fill_ts, &ts)) != 0)
		return ret;
	p->last_ts = ts;
	return 0;
}

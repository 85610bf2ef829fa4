/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * Checks that need more than the config file: its keys against the
 * node's own key pair, and the directories it names. `mpcd --check` runs
 * them so that a config it passes also starts.
 */
#include "node_check.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int node_check_keys(const struct cfg *c, const uint8_t priv[static CFG_KEYBYTES],
		    const uint8_t pub[static CFG_KEYBYTES])
{
	for (size_t i = 0; i < c->n_peers; i++) {
		const struct cfg_peer *p = &c->peers[i];
		const char *what = NULL;

		if (!sodium_memcmp(p->pub, pub, CFG_KEYBYTES))
			what = "this node's own public key: put the key `mpcctl pubkey` prints "
			       "on that node here";
		else if (!sodium_memcmp(p->pub, priv, CFG_KEYBYTES))
			what = "this node's own PRIVATE key: make a new key pair (mpcctl genkey), "
			       "and put the key `mpcctl pubkey` prints on that node here";
		if (what)
			return mpc_fail(MPC_E_ARG, "%s:%u: [Peer] %s: PublicKey is %s", c->path,
					p->line, p->name, what);
	}
	return 0;
}

int node_check_dir(const char *what, const char *path)
{
	char up[4096];
	struct stat st;
	char *slash;

	if (snprintf(up, sizeof(up), "%s", path) >= (int)sizeof(up))
		return mpc_fail(MPC_E_ARG, "%s %s: path too long", what, path);
	/* The path itself, else its nearest existing ancestor, must be a writable directory. */
	while (stat(up, &st) != 0) {
		if (errno != ENOENT && errno != ENOTDIR)
			return mpc_fail(MPC_E_IO, "%s %s: %s: %s", what, path, up, strerror(errno));
		if (!(slash = strrchr(up, '/')))
			snprintf(up, sizeof(up), ".");
		else if (slash == up)
			up[1] = '\0';
		else
			*slash = '\0';
	}
	if (!S_ISDIR(st.st_mode))
		return mpc_fail(MPC_E_IO, "%s %s: cannot be %s: %s is not a directory", what, path,
				strcmp(up, path) ? "created" : "used", up);
	if (access(up, W_OK | X_OK) != 0)
		return mpc_fail(MPC_E_IO, "%s %s: cannot be %s: %s: %s", what, path,
				strcmp(up, path) ? "created" : "written", up, strerror(errno));
	return 0;
}

void node_dir_of(const char *path, char *dir, size_t len)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		snprintf(dir, len, ".");
	else
		snprintf(dir, len, "%.*s", slash == path ? 1 : (int)(slash - path), path);
}

int node_make_dir(const char *what, const char *path, mode_t mode)
{
	char p[4096];
	struct stat st;
	size_t len = strlen(path);

	if (len == 0 || len >= sizeof(p))
		return mpc_fail(MPC_E_ARG, "%s '%s': not a usable path", what, path);
	memcpy(p, path, len + 1);
	/* Each missing component in turn; a slash at the very start is the root. */
	for (size_t i = 1; i <= len; i++) {
		if (p[i] != '/' && p[i] != '\0')
			continue;
		p[i] = '\0';
		if (mkdir(p, i == len ? mode : 0755) != 0 && errno != EEXIST)
			return mpc_fail(MPC_E_IO, "%s %s: cannot create %s: %s", what, path, p,
					strerror(errno));
		p[i] = i == len ? '\0' : '/';
	}
	if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
		return mpc_fail(MPC_E_IO, "%s %s: not a directory", what, path);
	return 0;
}

/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * Which mpcd the control verbs talk to. mpcd's default control socket is
 * /run/mpcd/NAME.sock, one per node: with one daemon on the machine (the
 * usual case) mpcctl finds it there; with several, or none, it says so
 * and the operator names one with -s or $MPCD_SOCKET (docs/ctl.md).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

#define HINT "choose one with -s SOCKET or MPCD_SOCKET"

static const char *socket_path;
static char found[512];

void cli_set_socket(const char *path)
{
	socket_path = path;
}

static int is_sock_name(const char *n)
{
	size_t len = strlen(n);

	return len > 5 && !strcmp(n + len - 5, ".sock");
}

const char *cli_socket(char *err, size_t errlen)
{
	const char *env = getenv("MPCD_SOCKET");
	char names[200] = "", path[512];
	struct dirent *e;
	size_t count = 0;
	DIR *d;

	if (socket_path)
		return socket_path;
	if (env && *env)
		return env;
	if (!(d = opendir(CTL_SOCKET_DIR))) {
		snprintf(err, errlen, "mpcctl: no mpcd control socket in %s: %s (is mpcd running? "
			 "give its ControlSocket with -s or MPCD_SOCKET)", CTL_SOCKET_DIR,
			 strerror(errno));
		return NULL;
	}
	while ((e = readdir(d)) != NULL) {
		struct stat st;

		if (!is_sock_name(e->d_name))
			continue;
		snprintf(path, sizeof(path), "%s/%s", CTL_SOCKET_DIR, e->d_name);
		if (stat(path, &st) != 0 || !S_ISSOCK(st.st_mode))
			continue;
		if (++count == 1)
			snprintf(found, sizeof(found), "%s", path);
		/* Names as readdir gives them; enough of them to choose from. */
		if (strlen(names) + strlen(e->d_name) + 3 < sizeof(names)) {
			if (count > 1)
				strcat(names, ", ");
			strcat(names, e->d_name);
		}
	}
	closedir(d);
	if (count == 1)
		return found;
	if (count == 0)
		snprintf(err, errlen, "mpcctl: no mpcd control socket in %s (is mpcd running? "
			 "give its ControlSocket with -s or MPCD_SOCKET)", CTL_SOCKET_DIR);
	else
		snprintf(err, errlen, "mpcctl: %zu mpcd control sockets in %s (%s): %s", count,
			 CTL_SOCKET_DIR, names, HINT);
	return NULL;
}

/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * Which mpcd the control verbs talk to. mpcd's default control socket is
 * /run/mpcd/NAME.sock, one per node: with one daemon on the machine (the
 * usual case) mpcctl finds it there, also beside sockets a crashed daemon
 * left (it takes the only one a daemon answers on); with several daemons,
 * or none, it says so and the operator names one with -s or $MPCD_SOCKET
 * (docs/ctl.md).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli.h"

#define HINT "choose one with -s SOCKET or MPCD_SOCKET"
#define SOCKETS_MAX 64 /* probed for a live one; more are only counted */

static const char *socket_path;

void cli_set_socket(const char *path)
{
	socket_path = path;
}

static int is_sock_name(const char *n)
{
	size_t len = strlen(n);

	return len > 5 && !strcmp(n + len - 5, ".sock");
}

/* Does a daemon listen there? A crashed one leaves its socket file behind. */
static int answers(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, ok;

	if (strlen(path) >= sizeof(sa.sun_path))
		return 0;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return 0;
	ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

const char *cli_socket(char *err, size_t errlen)
{
	static char paths[SOCKETS_MAX][sizeof(((struct sockaddr_un *)0)->sun_path)];
	const char *env = getenv("MPCD_SOCKET");
	char names[200] = "";
	size_t count = 0, kept = 0, live = 0, which = 0;
	struct dirent *e;
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
		char path[512];

		if (!is_sock_name(e->d_name))
			continue;
		snprintf(path, sizeof(path), "%s/%s", CTL_SOCKET_DIR, e->d_name);
		if (stat(path, &st) != 0 || !S_ISSOCK(st.st_mode) || strlen(path) >= sizeof(paths[0]))
			continue;
		count++;
		if (kept < SOCKETS_MAX)
			memcpy(paths[kept++], path, strlen(path) + 1);
		/* Names as readdir gives them; enough of them to choose from. */
		if (strlen(names) + strlen(e->d_name) + 3 < sizeof(names)) {
			if (count > 1)
				strcat(names, ", ");
			strcat(names, e->d_name);
		}
	}
	closedir(d);
	if (count == 1)
		return paths[0];
	/* Several: the one a daemon answers on, when the others are left over. */
	for (size_t i = 0; i < kept; i++)
		if (answers(paths[i])) {
			live++;
			which = i;
		}
	if (live == 1 && count == kept)
		return paths[which];
	if (count == 0)
		snprintf(err, errlen, "mpcctl: no mpcd control socket in %s (is mpcd running? "
			 "give its ControlSocket with -s or MPCD_SOCKET)", CTL_SOCKET_DIR);
	else
		snprintf(err, errlen, "mpcctl: %zu mpcd control sockets in %s (%s), %zu answering: "
			 "%s", count, CTL_SOCKET_DIR, names, live, HINT);
	return NULL;
}

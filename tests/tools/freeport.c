/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * freeport: print a TCP port of 127.0.0.1 that the kernel just gave out
 * (bind to port 0, read it back, close). Another process may still take
 * it before the caller binds it: callers retry on "address in use".
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int fd, ret = 1;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
	    bind(fd, (const struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) < 0) {
		perror("freeport");
		goto out;
	}
	printf("%u\n", ntohs(sa.sin_port));
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	return ret;
}

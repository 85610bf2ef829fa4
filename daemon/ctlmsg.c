/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
#include "ctlmsg.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int io_all(int fd, void *buf, size_t len, int writing, int timeout_ms)
{
	uint8_t *p = buf;

	while (len) {
		struct pollfd pfd = { .fd = fd, .events = writing ? POLLOUT : POLLIN };
		ssize_t n;
		int r = poll(&pfd, 1, timeout_ms > 0 ? timeout_ms : -1);

		if (r == 0)
			return mpc_fail(MPC_E_IO, "mpcd did not answer in time");
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return mpc_fail(MPC_E_IO, "poll: %s", strerror(errno));
		}
		n = writing ? write(fd, p, len) : read(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return mpc_fail(MPC_E_IO, "control socket: %s", strerror(errno));
		if (n == 0)
			return mpc_fail(MPC_E_IO, "mpcd closed the control connection");
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int pack(const ProtobufCMessage *m, uint8_t **buf, size_t *len)
{
	size_t n = protobuf_c_message_get_packed_size(m);
	uint8_t *b = malloc(n + 4);

	*buf = NULL;
	if (!b)
		return mpc_fail(MPC_E_NOMEM, "control message");
	b[0] = (uint8_t)(n >> 24);
	b[1] = (uint8_t)(n >> 16);
	b[2] = (uint8_t)(n >> 8);
	b[3] = (uint8_t)n;
	protobuf_c_message_pack(m, b + 4);
	*buf = b;
	*len = n + 4;
	return 0;
}

int ctl_pack_reply(const Mpcctlpb__Reply *r, uint8_t **buf, size_t *len)
{
	return pack(&r->base, buf, len);
}

int ctl_call(const char *path, const Mpcctlpb__Request *req,
	     Mpcctlpb__Reply **reply, int timeout_ms)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	uint8_t *out = NULL, *in = NULL, hdr[4];
	size_t outlen = 0, inlen;
	int fd = -1, ret;

	*reply = NULL;
	if (strlen(path) >= sizeof(sa.sun_path))
		return mpc_fail(MPC_E_ARG, "socket path too long: %s", path);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return mpc_fail(MPC_E_IO, "socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		ret = mpc_fail(MPC_E_IO, "cannot reach mpcd at %s: %s", path, strerror(errno));
		goto out;
	}
	if ((ret = pack(&req->base, &out, &outlen)) != 0 ||
	    (ret = io_all(fd, out, outlen, 1, timeout_ms)) != 0 ||
	    (ret = io_all(fd, hdr, 4, 0, timeout_ms)) != 0)
		goto out;
	inlen = (size_t)hdr[0] << 24 | (size_t)hdr[1] << 16 | (size_t)hdr[2] << 8 | hdr[3];
	if (inlen > CTL_REPLY_MAX) {
		ret = mpc_fail(MPC_E_TOOBIG, "reply of %zu bytes is over the limit", inlen);
		goto out;
	}
	if (!(in = malloc(inlen ? inlen : 1))) {
		ret = mpc_fail(MPC_E_NOMEM, "reply");
		goto out;
	}
	if ((ret = io_all(fd, in, inlen, 0, timeout_ms)) != 0)
		goto out;
	if (!(*reply = mpcctlpb__reply__unpack(NULL, inlen, in)))
		ret = mpc_fail(MPC_E_FORMAT, "malformed reply from mpcd");
out:
	free(out);
	free(in);
	close(fd);
	return ret;
}

/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
#ifndef MPC_CTLMSG_H
#define MPC_CTLMSG_H

#include <stddef.h>
#include <stdint.h>

#include "ctl.pb-c.h"
#include "err.h"

/*
 * Control-socket messages (proto/ctl.proto): one Request and one Reply per
 * connection, each as a 4-byte big-endian length and the protobuf bytes.
 * Requests are small; replies carry at most CTL_REPLY_MAX bytes (a result
 * tensor of up to 16 M floats).
 */
#define CTL_REQUEST_MAX ((size_t)64 << 10)
#define CTL_REPLY_MAX ((size_t)80 << 20)

/*
 * mpcd's default ControlSocket is CTL_SOCKET_DIR/NAME.sock (the unit's
 * RuntimeDirectory); mpcctl finds the only one there (cli/cli_socket.c).
 */
#define CTL_SOCKET_DIR "/run/mpcd"

/*
 * Client: connect to path, send req, wait for the reply (timeout_ms, 0 for
 * none). *reply is freed with mpcctlpb__reply__free_unpacked(r, NULL).
 * Errors: MPC_E_IO "cannot reach mpcd at PATH: ...", MPC_E_FORMAT.
 */
int ctl_call(const char *path, const Mpcctlpb__Request *req,
	     Mpcctlpb__Reply **reply, int timeout_ms) MPC_MUST_CHECK;

/* Length-prefixed packing for either side; *buf is malloc'd. */
int ctl_pack_reply(const Mpcctlpb__Reply *r, uint8_t **buf, size_t *len) MPC_MUST_CHECK;

#endif

/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * libFuzzer target for what a peer or the operator sends after the
 * transport: a decrypted peer Frame (protobuf) and the structural checks
 * every job message passes (daemon/wire.c), and a control-socket Request.
 * Byte 0 picks which.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ctl.pb-c.h"
#include "wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char why[256];

	if (size < 1)
		return 0;
	if (data[0] & 1) {
		Mpcctlpb__Request *q = mpcctlpb__request__unpack(NULL, size - 1, data + 1);

		if (q)
			mpcctlpb__request__free_unpacked(q, NULL);
		return 0;
	}
	{
		Mpcpb__Frame *f = mpcpb__frame__unpack(NULL, size - 1, data + 1);

		if (!f)
			return 0;
		wire_check_frame(f, why, sizeof(why));
		/* A reason is one NUL-terminated line. */
		if (strlen(why) >= sizeof(why) || strchr(why, '\n'))
			__builtin_trap();
		mpcpb__frame__free_unpacked(f, NULL);
	}
	return 0;
}

/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
#ifndef MPC_CHAN_UTIL_H
#define MPC_CHAN_UTIL_H

/*
 * Assertions shared by the peer link tests (test_chan.c) and the key file
 * tests (test_keys.c).
 */
#include <string.h>

#include "err.h"
#include "test.h"

#define ASSERT_ERR(call, code)                                           \
	do {                                                             \
		int re_ = (call);                                        \
		if (re_ != (code))                                       \
			TEST_FAIL("%s: %d != %s (%s)", #call, re_, #code, \
				  mpc_errmsg(re_));                      \
	} while (0)

#define ASSERT_MEM_EQ(a, b, n) ASSERT(memcmp((a), (b), (n)) == 0)

#endif

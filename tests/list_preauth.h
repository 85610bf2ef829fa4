/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
X(preauth_buckets, 10)
X(preauth_connections, 10)

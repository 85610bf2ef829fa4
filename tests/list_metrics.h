/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
X(metrics_text_format, 10)
X(metrics_histogram, 10)
X(metrics_body_cap, 10)
X(metrics_request_head, 10)

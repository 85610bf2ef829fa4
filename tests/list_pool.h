/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/* Issue 10: pooling, convolution shapes, precision, softmax (tests/test_eval_pool.c). */
X(evpool_gap_224_exact, 120)

/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/* Issue 10: pooling, convolution shapes, precision, softmax (tests/test_eval_pool.c). */
X(evpool_gap_224_exact, 120)
X(evpool_ref_1d_ceil, 30)
X(evpool_ref_auto_pad, 30)
X(evpool_ref_maxpool_dilations, 30)
X(evpool_ref_conv1d, 30)
X(evpool_refuse_3d, 30)
X(evpool_secure_shapes, 120)
X(evpool_tabular_raw_features, 120)
X(evpool_weight_exps_text, 30)
X(evpool_ref_softmax_axes, 30)
X(evpool_secure_softmax_axes, 120)
X(evpool_weight_exps_folded, 60)
X(evpool_mixed_bits, 60)

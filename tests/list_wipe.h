/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
X(wipe_datasets, 10)
X(wipe_weights, 10)
X(wipe_scaled_weights, 30)

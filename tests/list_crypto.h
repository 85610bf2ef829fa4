/* SPDX-License-Identifier: MIT */
/* The runner itself first (runner.c: what it prints for each outcome). */
X(runner_statuses, 30)
X(rd_bounds, 10)
X(ring_planes_roundtrip, 10)
X(ring_matmul_naive, 10)
X(fxp_roundtrip, 10)
X(prg_deterministic, 10)
X(prg_fill_stream, 10)
X(bilin_conv_naive, 10)
X(corr_dealer_all_kinds, 30)

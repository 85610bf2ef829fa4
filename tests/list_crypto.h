/* SPDX-License-Identifier: MIT */
X(rd_bounds, 10)
X(ring_planes_roundtrip, 10)
X(ring_matmul_naive, 10)
X(fxp_roundtrip, 10)
X(prg_deterministic, 10)
X(bilin_conv_naive, 10)
X(corr_dealer_all_kinds, 30)

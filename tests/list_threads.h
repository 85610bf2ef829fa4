/* SPDX-License-Identifier: MIT */
X(pool_every_index_once, 30)
X(pool_status, 30)
X(pool_concurrent_nested, 60)
X(threads_kernels_same, 60)
X(threads_prg_same, 30)
X(threads_corr_same, 60)
X(threads_protocol_same, 120)
X(threads_model_same, 300)

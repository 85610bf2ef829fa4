/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/* The privacy promise (test_privacy.c, docs/security.md). */
X(priv_err_public_part, 10)
X(priv_fxp_encode_public, 10)
X(priv_input_bound, 10)
X(priv_csv_public, 10)
X(priv_load_public, 10)
X(priv_allow_models, 10)
X(priv_graph_check, 10)
X(priv_parts_check, 10)

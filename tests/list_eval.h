/* SPDX-License-Identifier: MIT */
X(eval_fixtures, 300)
X(eval_fixture_splits, 120)
X(eval_ops_linear, 120)
X(eval_ops_conv_pool, 120)
X(eval_ops_elementwise, 120)
X(eval_ops_norm_act, 120)
X(eval_bench_models, 300)
X(eval_refuse, 30)

/* SPDX-License-Identifier: MIT */
X(layout_torch_flatten, 120)
X(layout_public_graph_folds, 30)
X(layout_plain_values, 30)
X(layout_secure, 120)
X(layout_fold_ops, 30)
X(layout_refusals, 30)
X(layout_rows_moved_refused_in_chunks, 30)

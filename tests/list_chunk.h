/* SPDX-License-Identifier: MIT */
X(chunk_fixtures_mlp, 120)
X(chunk_fixtures_cnn, 120)
X(chunk_fixtures_softmax, 120)
X(chunk_kept_mask, 30)
X(chunk_splits, 60)
X(chunk_refuse_budget, 60)
X(chunk_refuse_mixed, 30)
X(chunk_pick_whole, 30)

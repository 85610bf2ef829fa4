#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Transformer ops as daemon jobs (issue 10): models exported by PyTorch
# 1.13 (tests/daemon/tf/export.py) with LayerNorm (opset 14's
# decomposition and opset 17's op), GELU (erf and tanh forms), Tanh, Div,
# Pow, Sqrt, ReduceMean, and an embedding whose token ids are secret
# (Gather as a one-hot product), each result against PyTorch's output
# (max abs error 0.02, argmax where the margin exceeds 0.01), and a
# transformer encoder layer (nn.TransformerEncoderLayer, 2 heads, GELU)
# at opsets 14 and 17. Usage:
#
#   tests/daemon/test_tf.sh MPCCTL [MPCD]
#
# Four daemons (alpha, beta, gamma, dealer): 2 and 3 parties, the model
# owner's public graph carrying Pow's exponent and ReduceMean's axes to
# the others, the ids pooled by rows from two owners, chunks of rows;
# then SIGTERM. The same in every mode (DAEMON_TESTS=quick too).
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/cli/lib.sh
. tests/daemon/helpers.sh "$@"
plan 9

T=$PWD/tests/daemon/tf

consortium() {
	local d=$TMP/c
	mkdir -p "$d"
	cluster_init "$d" alpha beta gamma dealer || return 1
	"$TMP/npycmp" --split-rows 5 "$T/ids.npy" "$d/ids_top.npy" "$d/ids_bottom.npy" || return 1
	dataset alpha ids_top "$d/ids_top.npy"
	dataset beta ids_bottom "$d/ids_bottom.npy"
	dataset beta x "$T/x.npy"
	dataset beta ids "$T/ids.npy"
	dataset beta seq "$T/seq.npy"
	model gamma ln14 "$T/ln14.onnx"
	model alpha ln17 "$T/ln17.onnx"
	model gamma emb "$T/emb.onnx"
	model gamma enc14 "$T/enc14.onnx"
	model alpha enc17 "$T/enc17.onnx"
	start_all || return 1
	for n in alpha beta gamma; do cluster_wait_peers $n 3 || return 1; done
}

jobs() {
	fixture_job "LayerNorm opset 14 + GELU erf form, 3 parties" alpha alpha \
		"$T/ln14_expected.npy" --model gamma:ln14 --input input=beta:x --output alpha
	fixture_job "LayerNorm opset 17 + GELU tanh form, 2 parties" alpha alpha \
		"$T/ln17_expected.npy" --model alpha:ln17 --input input=beta:x --output alpha
	fixture_job "the same in chunks of 3 rows, 2 parties" alpha alpha \
		"$T/ln17_expected.npy" --model alpha:ln17 --input input=beta:x --output alpha \
		--chunk-rows 3
	fixture_job "embedding with secret ids, 2 parties" beta beta \
		"$T/emb_expected.npy" --model gamma:emb --input ids=beta:ids --output beta
	fixture_job "embedding, ids from alpha and beta by rows, 3 parties, chunks of 4" gamma gamma \
		"$T/emb_expected.npy" --model gamma:emb --input ids=alpha:ids_top+beta:ids_bottom \
		--output gamma --chunk-rows 4
	fixture_job "transformer encoder layer (2 heads, GELU) opset 14, 3 parties" alpha alpha \
		"$T/enc_expected.npy" --model gamma:enc14 --input input=beta:seq --output alpha
	# one chunk: PyTorch's attention transposes the batch off axis 0
	fixture_job "the same at opset 17, 2 parties" alpha alpha \
		"$T/enc_expected.npy" --model alpha:enc17 --input input=beta:seq --output alpha
}

# ---- main ----

begin
if consortium; then
	ok "four daemons connect"
	jobs
else
	not_ok "four daemons connect" "$(tail -n 3 "$CL_DIR"/*.log)"
	for i in 1 2 3 4 5 6 7; do not_ok "job $i" "no consortium"; done
fi
stop_clean "every daemon exits 0 on SIGTERM, no sanitizer report"
finish

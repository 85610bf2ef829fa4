#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Models exported by PyTorch (issue 10; tests/fixtures/torch/, made by
# tests/models/gen_torch.py) as daemon jobs at default settings:
#
#   tests/daemon/test_torch.sh MPCCTL [MPCD]
#
# alpha, beta, gamma and a dealer. Each model is a job of 2 parties (model
# on alpha, data on beta, result to alpha) and of 3 (model on gamma, data
# on beta, result to alpha), submitted by alpha with the input named as
# the export named it; the result is compared with PyTorch's own output
# (tests/tools/npycmp: argmax on every row whose top-2 margin exceeds
# 1e-2, max abs error 0.02; the global average over 224x224 within 1e-3).
# A model whose op or attribute is not supported yet fails with the job's
# reason. Then SIGTERM: every daemon exits 0 with no sanitizer report.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/cli/lib.sh
. tests/daemon/helpers.sh "$@"
T=$F/torch
# Per model: the input's name and npycmp's bound ("-": its default).
MODELS="flatten_view input -
logsoftmax input -
maxpool_ceil input -
conv1d_pool1d input -
batched_matmul input -
plain_export onnx::Gemm_0 -
gap224 input 1e-3
tabular_folded input -
transformer_op14 input -
transformer_op17 input -
embedding_mean input -"
plan 24
begin

consortium() {
	local d=$TMP/c m name tol
	mkdir -p "$d"
	cluster_init "$d" alpha beta gamma dealer || return 1
	while read -r m name tol; do
		dataset beta "$m" "$T/$m/input.npy"
		model alpha "$m" "$T/$m/model.onnx"
		model gamma "$m" "$T/$m/model.onnx"
	done <<<"$MODELS"
	start_all || return 1
	for m in alpha beta gamma; do cluster_wait_peers $m 3 || return 1; done
}

if consortium 2>"$TMP/start.err"; then
	ok "consortium of alpha, beta, gamma and a dealer, every model configured"
else
	not_ok "consortium of alpha, beta, gamma and a dealer, every model configured" \
		"$(cat "$TMP/start.err")"
fi

while read -r m name tol; do
	CMP_ARGS=
	[ "$tol" = - ] || CMP_ARGS="--tol $tol"
	fixture_job "$m, 2 parties (model on alpha, data on beta)" alpha alpha \
		"$T/$m/expected.npy" --model "alpha:$m" --input "$name=beta:$m" --output alpha
	fixture_job "$m, 3 parties (model on gamma, data on beta)" alpha alpha \
		"$T/$m/expected.npy" --model "gamma:$m" --input "$name=beta:$m" --output alpha
done <<<"$MODELS"

stop_clean "every daemon exits 0 on SIGTERM with no sanitizer report"
finish

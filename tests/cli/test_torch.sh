#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Models exported by PyTorch as a data scientist exports them (issue 10;
# tests/fixtures/torch/, made by tests/models/gen_torch.py): each through
# `mpcctl simulate` with 2 and 3 parties at default settings, the result
# compared with PyTorch's own output by tests/tools/npycmp (argmax on every
# row whose top-2 margin exceeds 1e-2, max abs error 0.02; the global
# average over 224x224 within 1e-3). A model whose op or attribute is not
# supported yet fails here with simulate's refusal.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/cli/lib.sh
CTL=${1:-bin/mpcctl}
T=tests/fixtures/torch
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
plan 22

if ! build_tools; then
	not_ok "build tests/tools" "$(head -c 1000 "$TMP/cc.err")"
	finish
	exit
fi

while read -r m name tol; do
	cmp=()
	[ "$tol" = - ] || cmp=(--tol "$tol")
	for n in 2 3; do
		check="simulate $m, $n parties"
		rm -f "$TMP/o.npy"
		if ! run_checked "$CTL" simulate --model "$T/$m/model.onnx" \
			--input "$name=$T/$m/input.npy" --parties $n -o "$TMP/o.npy" \
			</dev/null >"$TMP/log" 2>&1; then
			not_ok "$check" "$(tail -n 2 "$TMP/log")"
		elif ! out=$("$TMP/npycmp" "$TMP/o.npy" "$T/$m/expected.npy" "${cmp[@]}" 2>&1); then
			not_ok "$check" "against PyTorch's output: $out"
		else
			ok "$check"
		fi
	done
done <<<"$MODELS"
finish

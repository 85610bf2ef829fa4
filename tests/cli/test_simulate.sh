#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# mpcctl simulate as a user runs it: every fixture with 2, 3 and 4
# parties (accuracy checked against expected.npy by the C tests; here the
# tool's own plaintext check and the file it writes), vertical pooling,
# and every malformed file refused with one clear line and nothing written.
set -u
cd "$(dirname "$0")/../.."
. tests/cli/lib.sh
CTL=${1:-bin/mpcctl}
F=tests/fixtures

# The tool's own plaintext check within the contract's 0.02 (the C tests
# check the argmax contract against expected.npy row by row).
accurate() {
	awk '/max \|secure - plaintext\|/ { found = 1; e = $8 + 0; bad = !(e <= 0.02) }
	     END { exit !(found && !bad) }' "$1"
}

for m in iris_logreg digits_mlp wine_mlp tiny_cnn digits_resavg digits_bn_softmax; do
	for n in 2 3 4; do
		rm -f "$TMP/o.npy"
		if "$CTL" simulate --model $F/$m/model.onnx --input input=$F/$m/input.npy \
			--parties $n -o "$TMP/o.npy" >"$TMP/log" 2>&1 && accurate "$TMP/log" &&
			[ "$(head -c 6 "$TMP/o.npy" | od -An -c | tr -d ' ')" = "223NUMPY" ]; then
			ok "simulate $m, $n parties"
		else
			not_ok "simulate $m, $n parties" "$(tail -n 3 "$TMP/log")"
		fi
	done
	if "$CTL" simulate --model $F/$m/model_noweights.onnx --weights $F/$m/weights.safetensors \
		--input input=$F/$m/input.npy --parties 3 >"$TMP/log" 2>&1 && accurate "$TMP/log"; then
		ok "simulate $m with safetensors weights"
	else
		not_ok "simulate $m with safetensors weights" "$(tail -n 3 "$TMP/log")"
	fi
done

# Vertical split: columns 0-6 at party 0, 7-12 at party 1, model at party 2.
if "$CTL" simulate --model $F/wine_mlp/model.onnx \
	--input input=$F/wine_mlp/input_party0.npy,$F/wine_mlp/input_party1.npy \
	--parties 3 --json -o "$TMP/w.csv" >"$TMP/log" 2>&1 &&
	grep -q '"rows": 64' "$TMP/log" && [ "$(wc -l <"$TMP/w.csv")" -eq 64 ]; then
	ok "simulate wine_mlp vertical split, CSV output, JSON summary"
else
	not_ok "simulate wine_mlp vertical split" "$(tail -n 3 "$TMP/log")"
fi

# Malformed inputs: refused with one line naming the problem; nothing written.
mal() {
	local name=$1 word=$2
	shift 2
	rm -f "$TMP/bad.npy"
	expect_fail "$name" "$word" "$CTL" simulate "$@" -o "$TMP/bad.npy"
	if [ -e "$TMP/bad.npy" ]; then
		not_ok "$name: nothing written"
	fi
}
M=$F/malformed
W="--model $F/digits_mlp/model_noweights.onnx --input input=$F/digits_mlp/input.npy"
mal "st_header_too_large refused" "exceeds" $W --weights $M/st_header_too_large.safetensors
mal "st_overlapping_offsets refused" "overlap" $W --weights $M/st_overlapping_offsets.safetensors
mal "st_bad_dtype refused" "FLOAT32" $W --weights $M/st_bad_dtype.safetensors
mal "st_truncated_header refused" "JSON" $W --weights $M/st_truncated_header.safetensors
mal "st_offsets_out_of_range refused" "beyond" $W --weights $M/st_offsets_out_of_range.safetensors
mal "st_size_mismatch refused" "st_size_mismatch" $W --weights $M/st_size_mismatch.safetensors
mal "onnx_truncated refused" "protobuf" --model $M/onnx_truncated.onnx --input input=$F/digits_mlp/input.npy
mal "onnx_unsupported_op refused" "Einsum" --model $M/onnx_unsupported_op.onnx --input input=$F/iris_logreg/input.npy
mal "weights not bound" "--weights" --model $F/digits_mlp/model_noweights.onnx --input input=$F/digits_mlp/input.npy
mal "wrong input width" "input" --model $F/digits_mlp/model.onnx --input input=$F/iris_logreg/input.npy
mal "missing input file" "nosuch.npy" --model $F/digits_mlp/model.onnx --input input=$TMP/nosuch.npy
mal "unknown input name" "no --input" --model $F/digits_mlp/model.onnx --input pixels=$F/digits_mlp/input.npy
mal "bad party count" "--parties" --model $F/digits_mlp/model.onnx --input input=$F/digits_mlp/input.npy --parties 1
mal "ot not available" "ot" --model $F/digits_mlp/model.onnx --input input=$F/digits_mlp/input.npy --offline ot
printf 'a,b\n1,2\n3\n' >"$TMP/ragged.csv"
mal "ragged CSV refused" "ragged.csv" --model $F/iris_logreg/model.onnx --input input=$TMP/ragged.csv

# Keys: genkey/pubkey round trip, and a garbage key refused.
umask 077
if "$CTL" genkey >"$TMP/k" && "$CTL" pubkey <"$TMP/k" >"$TMP/p" &&
	[ "$(wc -c <"$TMP/p")" -eq 45 ] && [ "$("$CTL" pubkey <"$TMP/k")" = "$(cat "$TMP/p")" ]; then
	ok "genkey / pubkey"
else
	not_ok "genkey / pubkey"
fi
echo "not base64" >"$TMP/bad.key"
expect_fail "pubkey refuses garbage" "base64" sh -c "\"$CTL\" pubkey <\"$TMP/bad.key\""
finish

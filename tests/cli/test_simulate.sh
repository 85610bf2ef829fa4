#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# mpcctl simulate as a user runs it: every fixture with 2, 3 and 4 parties
# (the weights' owner, and so the party the dealer's corrections go to or
# not, varied) and with safetensors weights, vertical and horizontal
# pooling in 2 and 3 parts, 12 and 20 fractional bits: every file written
# is compared with the fixture's expected.npy (tests/tools/npycmp.c: the
# argmax contract and the error bound). Then npycmp itself must refuse a
# zeroed, a NaN and a reshaped result, and every malformed file is refused
# with one clear line and nothing written.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/cli/lib.sh
CTL=${1:-bin/mpcctl}
F=tests/fixtures
MODELS="iris_logreg digits_mlp wine_mlp tiny_cnn digits_resavg digits_bn_softmax"
plan 63

# accurate LOG TOL: the tool's own plaintext check (text or JSON) says its
# max error is within TOL.
accurate() {
	local e
	e=$(sed -n -e 's/.*max |secure - plaintext| = \([-0-9.e+]*\).*/\1/p' \
		-e 's/.*"max_abs_error": \([-0-9.e+]*\).*/\1/p' "$1" | head -n 1)
	[ -n "$e" ] && awk -v e="$e" -v t="$2" 'BEGIN { exit !(e + 0 <= t + 0) }'
}

# sim NAME EXPECTED NPYCMP-ARGS -- SIMULATE-ARGS...: simulate writes
# $TMP/o.* (-o given in the args), exits 0 with no sanitizer report, and
# the file matches EXPECTED.
sim() {
	local name=$1 exp=$2 cmpargs=() out tol=0.02
	shift 2
	while [ "$1" != -- ]; do cmpargs+=("$1"); shift; done
	shift
	[ "${cmpargs[0]:-}" = --tol ] && tol=${cmpargs[1]}
	rm -f "$TMP"/o.*
	if ! run_checked "$CTL" simulate "$@" >"$TMP/log" 2>&1; then
		not_ok "$name" "exit $?: $(tail -n 3 "$TMP/log")"
	elif ! accurate "$TMP/log" "$tol"; then
		not_ok "$name" "tool's plaintext check over $tol: $(grep -m1 -e plaintext -e max_abs "$TMP/log")"
	elif ! out=$("$TMP/npycmp" "$TMP"/o.* "$exp" "${cmpargs[@]}" 2>&1); then
		not_ok "$name" "against $exp: $out"
	else
		ok "$name"
	fi
}

if ! build_tools; then
	not_ok "build tests/tools" "$(head -c 1000 "$TMP/cc.err")"
	finish
	exit
fi

# Part k belongs to party k mod N, the weights to --model-owner (default
# N-1), and the dealer's corrections go to party N-1: with 2 and 4 parties
# they land on a party that is not the weights' owner.
for m in $MODELS; do
	for n in 2 3 4; do
		owner=$((n == 3 ? 2 : n - 2))
		sim "simulate $m, $n parties, weights at party $owner" $F/$m/expected.npy -- \
			--model $F/$m/model.onnx --input input=$F/$m/input.npy \
			--parties $n --model-owner $owner -o "$TMP/o.npy"
	done
	sim "simulate $m with safetensors weights" $F/$m/expected.npy -- \
		--model $F/$m/model_noweights.onnx --weights $F/$m/weights.safetensors \
		--input input=$F/$m/input.npy --parties 3 -o "$TMP/o.npy"
done

# Pooling: wine's columns 0-6 and 7-12 (the fixture's split, CSV output,
# JSON summary); wine's columns in 3 parts; digits' rows in 3 parts.
W=$F/wine_mlp
sim "simulate wine_mlp vertical split in 2 parts, CSV output" $W/expected.npy -- \
	--model $W/model.onnx --input input=$W/input_party0.npy,$W/input_party1.npy \
	--parties 3 --json -o "$TMP/o.csv"
"$TMP/npycmp" --split-cols 5,4 $W/input.npy "$TMP/c0.npy" "$TMP/c1.npy" "$TMP/c2.npy"
sim "simulate wine_mlp vertical split in 3 parts" $W/expected.npy -- \
	--model $W/model.onnx --input input="$TMP/c0.npy,$TMP/c1.npy,$TMP/c2.npy" \
	--parties 3 --model-owner 0 -o "$TMP/o.npy"
D=$F/digits_mlp
"$TMP/npycmp" --split-rows 20,30 $D/input.npy "$TMP/r0.npy" "$TMP/r1.npy" "$TMP/r2.npy"
sim "simulate digits_mlp horizontal split in 3 parts, 3 parties" $D/expected.npy -- \
	--model $D/model.onnx --input input="$TMP/r0.npy+$TMP/r1.npy+$TMP/r2.npy" \
	--parties 3 -o "$TMP/o.npy"
sim "simulate digits_mlp horizontal split in 3 parts, 4 parties" $D/expected.npy -- \
	--model $D/model.onnx --input input="$TMP/r0.npy+$TMP/r1.npy+$TMP/r2.npy" \
	--parties 4 --model-owner 0 -o "$TMP/o.npy"

# Other fixed points: 12 bits has 16 times the rounding of 16 (the bound
# grows with it, and stays relative to the outputs' size), 20 bits less.
for m in wine_mlp tiny_cnn; do
	sim "simulate $m, 12 fractional bits" $F/$m/expected.npy --tol 0.32 -- \
		--model $F/$m/model.onnx --input input=$F/$m/input.npy --parties 3 \
		--frac-bits 12 -o "$TMP/o.npy"
	sim "simulate $m, 20 fractional bits" $F/$m/expected.npy -- \
		--model $F/$m/model.onnx --input input=$F/$m/input.npy --parties 2 \
		--frac-bits 20 -o "$TMP/o.npy"
done

# The pool of local arithmetic: one thread, and more than the cores.
for t in 1 4; do
	sim "simulate digits_resavg, --threads $t" $F/digits_resavg/expected.npy -- \
		--model $F/digits_resavg/model.onnx --input input=$F/digits_resavg/input.npy \
		--parties 3 --threads $t -o "$TMP/o.npy"
done

# npycmp must be able to fail: a zeroed result, a NaN, a wrong shape.
E=$F/tiny_cnn/expected.npy
size=$(wc -c <$E)
cp $E "$TMP/zero.npy" && dd if=/dev/zero of="$TMP/zero.npy" bs=1 seek=$((size - 64 * 10 * 4)) \
	count=$((64 * 10 * 4)) conv=notrunc 2>/dev/null
cp $E "$TMP/nan.npy" && printf '\000\000\300\177' |
	dd of="$TMP/nan.npy" bs=1 seek=$((size - 4)) conv=notrunc 2>/dev/null
"$TMP/npycmp" --split-cols 5 $E "$TMP/narrow.npy" "$TMP/rest.npy"
for bad in zero nan narrow; do
	if "$TMP/npycmp" "$TMP/$bad.npy" $E >"$TMP/out" 2>&1; then
		not_ok "npycmp refuses a $bad result" "$(cat "$TMP/out")"
	elif [ $? -ne 1 ]; then
		not_ok "npycmp refuses a $bad result" "not as a mismatch: $(cat "$TMP/out")"
	else
		ok "npycmp refuses a $bad result"
	fi
done

# Malformed inputs: refused with one line naming the problem; nothing written.
mal() {
	local name=$1 word=$2 rc lines
	shift 2
	rm -f "$TMP/bad.npy"
	run_checked "$CTL" simulate "$@" -o "$TMP/bad.npy" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	lines=$(wc -l <"$TMP/err")
	if [ $rc -eq 0 ] || [ $rc -ge 128 ]; then
		not_ok "$name" "exit status $rc: $(head -c 300 "$TMP/err")"
	elif [ "$lines" -ne 1 ] || ! grep -q -- "$word" "$TMP/err"; then
		not_ok "$name" "want one line with '$word': $(head -c 300 "$TMP/err")"
	elif [ -e "$TMP/bad.npy" ]; then
		not_ok "$name" "an output file was written"
	else
		ok "$name"
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
mal "bad thread count" "--threads" --model $F/digits_mlp/model.onnx --input input=$F/digits_mlp/input.npy --threads 0
mal "ot not available" "ot" --model $F/digits_mlp/model.onnx --input input=$F/digits_mlp/input.npy --offline ot
printf 'a,b\n1,2\n3\n' >"$TMP/ragged.csv"
mal "ragged CSV refused" "ragged.csv" --model $F/iris_logreg/model.onnx --input input=$TMP/ragged.csv

# Range: inputs under the bound whose logits are not: one warning line on
# stderr naming the node; the fixture's own inputs: none.
for i in 1 2 3; do echo "30000,-30000,30000,-30000"; done >"$TMP/big.csv"
run_checked "$CTL" simulate --model $F/iris_logreg/model.onnx --input input="$TMP/big.csv" \
	-o "$TMP/big.npy" >"$TMP/out" 2>"$TMP/err"
rc=$?
if [ $rc -ne 0 ] || [ "$(grep -c warning "$TMP/err")" -ne 1 ] ||
	! grep -q "warning: node '/0/Gemm' (Gemm) reaches .* beyond 32768, the safe fixed-point range" "$TMP/err"; then
	not_ok "simulate warns when a value leaves the safe range" "exit $rc: $(head -c 400 "$TMP/err")"
else
	ok "simulate warns when a value leaves the safe range"
fi
run_checked "$CTL" simulate --model $F/iris_logreg/model.onnx --input input=$F/iris_logreg/input.npy \
	-o "$TMP/small.npy" >"$TMP/out" 2>"$TMP/err"
rc=$?
if [ $rc -ne 0 ] || grep -q warning "$TMP/err"; then
	not_ok "simulate does not warn within the range" "exit $rc: $(head -c 400 "$TMP/err")"
else
	ok "simulate does not warn within the range"
fi

# Issue 10: PyTorch exports as a user writes them, and refusals that say what to do.
G=$F/graph_view
sim "simulate graph_view (x.view(x.size(0), -1), dynamic batch) in chunks of 5" $G/expected.npy -- \
	--model $G/model.onnx --input input=$G/input.npy --parties 3 --chunk-rows 5 -o "$TMP/o.npy"
G=$F/graph_cls
sim "simulate graph_cls (a CLS row expanded to the batch: ConstantOfShape, Equal, Where, Expand, Concat)" \
	$G/expected.npy -- --model $G/model.onnx --input x=$G/input.npy --parties 3 -o "$TMP/o.npy"
G=$F/graph_plain
sim "simulate graph_plain: input 'onnx::Gemm_0' of a plain export, 2 column parts" $G/expected.npy -- \
	--model $G/model.onnx --input "onnx::Gemm_0=$G/input_part0.npy,$G/input_part1.npy" -o "$TMP/o.npy"
{ printf '\x93NUMPY\x01\x00\x76\x00%s%62s\n' "{'descr': '<f4', 'fortran_order': False, 'shape': (), }" ""
  printf '\x00\x00\x80\x3f'; } >"$TMP/scalar.npy"
mal "scalar input: says to save the rows on the first axis" "holds a scalar (rank 0), the model declares \[?, 4\]" \
	--model $F/iris_logreg/model.onnx --input input="$TMP/scalar.npy"
D=$F/digits_mlp
mal "weights given as --input: names them, says --weights" "'0.weight', '2.bias' are weights.*--weights" \
	--model $D/model_noweights.onnx --input input=$D/input.npy --input 0.weight=$D/input.npy \
	--input 2.bias=$D/input.npy
mal "an input the model does not have: named with the real ones" "data input ('input'), 2 --input given; 'pixels' is not an input" \
	--model $D/model.onnx --input input=$D/input.npy --input pixels=$D/input.npy

# Keys: genkey/pubkey round trip, and a garbage key refused.
umask 077
if run_checked "$CTL" genkey >"$TMP/k" && run_checked "$CTL" pubkey <"$TMP/k" >"$TMP/p" &&
	[ "$(wc -c <"$TMP/p")" -eq 45 ] && [ "$(run_checked "$CTL" pubkey <"$TMP/k")" = "$(cat "$TMP/p")" ]; then
	ok "genkey / pubkey"
else
	not_ok "genkey / pubkey"
fi
echo "not base64" >"$TMP/bad.key"
expect_fail "pubkey refuses garbage" "base64" sh -c "\"$CTL\" pubkey <\"$TMP/bad.key\""
finish

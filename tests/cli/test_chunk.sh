#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# mpcctl simulate in chunks of rows (issue 9) as a user runs it: every
# fixture in chunks of 7 rows (the last one short) and tiny_cnn in chunks
# of 1, each file written compared with the fixture's expected.npy
# (tests/tools/npycmp.c: the argmax contract and the error bound); row and
# column blocks cut at chunk edges; the chunk size, rows/s and peak memory
# in the text and --json reports; a --memory budget that picks chunks; a
# budget one row does not fit refused with the numbers and nothing written.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/cli/lib.sh
CTL=${1:-bin/mpcctl}
F=tests/fixtures
MODELS="iris_logreg digits_mlp wine_mlp tiny_cnn digits_resavg digits_bn_softmax"
plan 13

# sim NAME EXPECTED -- SIMULATE-ARGS...: exits 0 with no sanitizer report
# and the file it wrote ($TMP/o.npy) matches EXPECTED.
sim() {
	local name=$1 exp=$2 out
	shift 3
	rm -f "$TMP"/o.*
	if ! run_checked "$CTL" simulate "$@" -o "$TMP/o.npy" >"$TMP/log" 2>&1; then
		not_ok "$name" "exit $?: $(tail -n 3 "$TMP/log")"
	elif ! out=$("$TMP/npycmp" "$TMP/o.npy" "$exp" 2>&1); then
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

for m in $MODELS; do
	sim "simulate $m in chunks of 7 rows, 3 parties" $F/$m/expected.npy -- \
		--model $F/$m/model.onnx --input input=$F/$m/input.npy --parties 3 --chunk-rows 7
done
sim "simulate tiny_cnn in chunks of 1 row, 2 parties" $F/tiny_cnn/expected.npy -- \
	--model $F/tiny_cnn/model.onnx --input input=$F/tiny_cnn/input.npy --parties 2 --chunk-rows 1
W=$F/wine_mlp
sim "simulate wine_mlp columns at 2 owners in chunks of 7" $W/expected.npy -- \
	--model $W/model.onnx --input input=$W/input_party0.npy,$W/input_party1.npy \
	--parties 3 --chunk-rows 7
D=$F/digits_mlp
"$TMP/npycmp" --split-rows 20,30 $D/input.npy "$TMP/r0.npy" "$TMP/r1.npy" "$TMP/r2.npy"
sim "simulate digits_mlp rows at 3 owners in chunks of 9" $D/expected.npy -- \
	--model $D/model.onnx --input input="$TMP/r0.npy+$TMP/r1.npy+$TMP/r2.npy" \
	--parties 3 --chunk-rows 9

# The reports: chunk size, chunks, rows/s, peak RSS and material.
R=$F/digits_resavg
run_checked "$CTL" simulate --model $R/model.onnx --input $R/input.npy --chunk-rows 7 \
	>"$TMP/log" 2>&1
if grep -q '^rows  *64 in 10 chunks of 7: [0-9.]* rows/s' "$TMP/log" &&
	grep -q '^memory  *peak RSS [0-9.]* MB (budget 1024 MiB); material held by a party at most' "$TMP/log"; then
	ok "text report: rows, chunks, rows/s, memory"
else
	not_ok "text report: rows, chunks, rows/s, memory" "$(head -n 3 "$TMP/log")"
fi
run_checked "$CTL" simulate --model $R/model.onnx --input $R/input.npy --chunk-rows 7 --json \
	>"$TMP/log" 2>&1
if grep -q '"chunk_rows": 7, "chunks": 10, "rows_per_second": [0-9.]*,' "$TMP/log" &&
	grep -q '"peak_rss_bytes": [1-9][0-9]*, "peak_material_bytes_per_party": [1-9][0-9]*' "$TMP/log"; then
	ok "--json report: chunk_rows, chunks, rows_per_second, peak memory"
else
	not_ok "--json report: chunk_rows, chunks, rows_per_second, peak memory" "$(tail -n 2 "$TMP/log")"
fi

# A budget picks the chunks: LeNet's 64 rows do not fit in 200 MiB at once.
"$TMP/npycmp" --random 5 "$TMP/r64.npy" 64 1 28 28 >/dev/null
run_checked "$CTL" simulate --model bench/models/lenet.onnx --input "$TMP/r64.npy" \
	--memory 200 --json >"$TMP/log" 2>&1
chunks=$(sed -n 's/.*"chunks": \([0-9]*\).*/\1/p' "$TMP/log")
err=$(sed -n 's/.*"max_abs_error": \([-0-9.e+]*\).*/\1/p' "$TMP/log")
if [ -n "$chunks" ] && [ "$chunks" -gt 1 ] && [ -n "$err" ] &&
	awk -v e="$err" 'BEGIN { exit !(e + 0 <= 0.02) }'; then
	ok "--memory 200 runs LeNet's 64 rows in $chunks chunks, within 0.02 of plaintext"
else
	not_ok "--memory 200 runs LeNet's 64 rows in chunks" "$(tail -n 3 "$TMP/log")"
fi

# One row over the budget: refused before anything runs, with the numbers.
rm -f "$TMP/bad.npy"
run_checked "$CTL" simulate --model bench/models/lenet.onnx --input "$TMP/r64.npy" \
	--memory 5 -o "$TMP/bad.npy" >"$TMP/out" 2>"$TMP/err"
rc=$?
if [ $rc -eq 0 ] || [ $rc -ge 128 ]; then
	not_ok "--memory 5: one row does not fit" "exit status $rc: $(head -c 300 "$TMP/err")"
elif [ "$(wc -l <"$TMP/err")" -ne 1 ] ||
	! grep -q 'job refused: one row needs [0-9]* MiB of correlated randomness and buffers, the budget is 5 MiB' "$TMP/err"; then
	not_ok "--memory 5: one row does not fit" "$(head -c 300 "$TMP/err")"
elif [ -e "$TMP/bad.npy" ]; then
	not_ok "--memory 5: one row does not fit" "an output file was written"
else
	ok "--memory 5: one row does not fit, refused with the numbers"
fi
finish

#!/bin/bash
# SPDX-License-Identifier: MIT
# mpcctl inspect: every fixture with and without --weights; the public graph
# hash is stable and the same whether the weights sit in the ONNX file or in
# a safetensors file; --json parses; bad files are refused with one line.
# usage: test_inspect.sh path/to/mpcctl
MPCCTL=${1:-bin/mpcctl}
HERE=$(cd "$(dirname "$0")" && pwd)
FIX=$HERE/../fixtures
. "$HERE/lib.sh"

FIXTURES="iris_logreg digits_mlp wine_mlp tiny_cnn digits_resavg digits_bn_softmax"
plan 40

hash_of() { "$MPCCTL" inspect "$@" 2>"$TMP/herr" | awk '$1 == "hash" { print $2 }'; }

for f in $FIXTURES; do
	d=$FIX/$f
	h1=$(hash_of --model "$d/model.onnx")
	h2=$(hash_of --model "$d/model.onnx")
	h3=$(hash_of --model "$d/model_noweights.onnx" --weights "$d/weights.safetensors")
	if [ ${#h1} -eq 64 ] && [ "$h1" = "$h2" ]; then ok "$f: hash printed and stable"
	else not_ok "$f: hash printed and stable" "'$h1' vs '$h2' $(cat "$TMP/herr")"; fi
	if [ -n "$h1" ] && [ "$h1" = "$h3" ]; then ok "$f: same hash with weights in safetensors"
	else not_ok "$f: same hash with weights in safetensors" "'$h1' vs '$h3'"; fi
	if "$MPCCTL" inspect --model "$d/model.onnx" >"$TMP/out" 2>"$TMP/err" &&
		grep -q '^inputs *input \[' "$TMP/out" && grep -q '^outputs ' "$TMP/out" &&
		grep -q '^ops .*Gemm 1\|^ops .*Gemm 2' "$TMP/out" && grep -q '^offline ' "$TMP/out"; then
		ok "$f: inputs, outputs, ops and cost shown"
	else not_ok "$f: inputs, outputs, ops and cost shown" "$(cat "$TMP/out" "$TMP/err")"; fi
	if "$MPCCTL" inspect --json --batch 4 --model "$d/model_noweights.onnx" \
		--weights "$d/weights.safetensors" >"$TMP/json" 2>"$TMP/err" &&
		python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["public_graph_hash"] == sys.argv[1]; assert d["batch"] == 4' \
			"$h1" <"$TMP/json" 2>>"$TMP/err"; then
		ok "$f: --json parses, carries the hash"
	else not_ok "$f: --json parses, carries the hash" "$(head -c 300 "$TMP/json") $(cat "$TMP/err")"; fi
	# Without its weights, a model_noweights file shows the same graph.
	h4=$(hash_of --model "$d/model_noweights.onnx")
	if [ -n "$h1" ] && [ "$h1" = "$h4" ]; then ok "$f: weights not given: same hash"
	else not_ok "$f: weights not given: same hash" "'$h1' vs '$h4' $(cat "$TMP/herr")"; fi
done

for bad in "$FIX"/malformed/*.onnx; do
	expect_fail "$(basename "$bad") refused" "$(basename "$bad")" "$MPCCTL" inspect --model "$bad"
done
for bad in "$FIX"/malformed/st_*.safetensors; do
	expect_fail "$(basename "$bad") refused" "$(basename "$bad")" \
		"$MPCCTL" inspect --model "$FIX/digits_mlp/model_noweights.onnx" --weights "$bad"
done
expect_fail "missing file refused" "nonexistent.onnx" "$MPCCTL" inspect --model "$TMP/nonexistent.onnx"
expect_fail "--model required" "--model" "$MPCCTL" inspect
finish

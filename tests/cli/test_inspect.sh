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
plan 48

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

# Issue 10: a PyTorch flatten (Shape -> Gather -> Unsqueeze -> Concat ->
# Reshape) is shown with its shape computation apart and resolved for the
# batch; element types, weights, every value's shape and the online cost.
G=$FIX/graph_view/model.onnx
if "$MPCCTL" inspect --model "$G" --batch 4 --shapes >"$TMP/out" 2>"$TMP/err" &&
	grep -q '^public   .*Shape 1.*(shape computations' "$TMP/out" &&
	grep -q '^ops      .*Reshape 1' "$TMP/out" &&
	grep -q '^  /Reshape  *Reshape  *\[4, 144\]$' "$TMP/out" &&
	grep -q '^  /Concat  *Concat  *\[2\]  public \[4, -1\]$' "$TMP/out"; then
	ok "graph_view: shape computation public, resolved for --batch 4"
else not_ok "graph_view: shape computation public, resolved for --batch 4" "$(cat "$TMP/out" "$TMP/err")"; fi
if "$MPCCTL" inspect --model "$FIX/digits_mlp/model_noweights.onnx" >"$TMP/out" 2>"$TMP/err" &&
	grep -q '^inputs   input \[?, 64\] FLOAT$' "$TMP/out" &&
	grep -q '^outputs  logits \[?, 10\] FLOAT$' "$TMP/out" &&
	grep -q '^weights  4 tensors, 2410 values (not given: known by their shapes only)$' "$TMP/out"; then
	ok "element types and weights shown"
else not_ok "element types and weights shown" "$(cat "$TMP/out" "$TMP/err")"; fi
# The online cost, measured on zeros: the same rounds with or without the
# weights, more bytes for a larger batch, JSON agreeing with the text.
rounds_of() { awk '$1 == "online" { for (i = 1; i <= NF; i++) if ($(i + 1) == "rounds,") print $i }' "$1"; }
"$MPCCTL" inspect --model "$FIX/tiny_cnn/model.onnx" --online --parties 2 --batch 2 >"$TMP/o1" 2>"$TMP/err"
"$MPCCTL" inspect --model "$FIX/tiny_cnn/model_noweights.onnx" --online --parties 2 --batch 2 >"$TMP/o2" 2>>"$TMP/err"
r1=$(rounds_of "$TMP/o1")
r2=$(rounds_of "$TMP/o2")
if [ -n "$r1" ] && [ "$r1" -gt 0 ] && [ "$r1" = "$r2" ]; then ok "--online: rounds measured, weights or not ($r1)"
else not_ok "--online: rounds measured, weights or not" "'$r1' '$r2' $(cat "$TMP/o1" "$TMP/err")"; fi
if "$MPCCTL" inspect --json --online --parties 2 --batch 2 --model "$FIX/tiny_cnn/model.onnx" >"$TMP/json" 2>"$TMP/err" &&
	python3 -c 'import json,sys; d=json.load(sys.stdin); o=d["online"]; assert o["rounds"] == int(sys.argv[1]) and o["parties"] == 2 and o["bytes_per_party"] > 0, o' \
		"$r1" <"$TMP/json" 2>>"$TMP/err"; then
	ok "--online --json agrees with the text"
else not_ok "--online --json agrees with the text" "$(head -c 300 "$TMP/json") $(cat "$TMP/err")"; fi
if "$MPCCTL" inspect --json --batch 3 --model "$G" >"$TMP/json" 2>"$TMP/err" &&
	python3 -c '
import json, sys
d = json.load(sys.stdin)
v = {x["node"]: x for x in d["values"]}
assert v["/Reshape"]["shape"] == [3, 144], v["/Reshape"]
assert v["/Concat"]["public"] == [3, -1], v["/Concat"]
assert d["public_ops"]["Shape"] == 1 and "Shape" not in d["ops"], d["ops"]
assert d["inputs"][0]["type"] == "FLOAT"' <"$TMP/json" 2>>"$TMP/err"; then
	ok "--json: every value's shape, public values, types"
else not_ok "--json: every value's shape, public values, types" "$(head -c 400 "$TMP/json") $(cat "$TMP/err")"; fi
expect_fail "--parties 1 refused" "--parties" "$MPCCTL" inspect --model "$G" --online --parties 1
# --shape: an input's whole shape (a transformer's sequence length is symbolic too).
if "$MPCCTL" inspect --model "$G" --shape input=3,1,8,8 --shapes >"$TMP/out" 2>"$TMP/err" &&
	grep -q '^  /Reshape  *Reshape  *\[3, 144\]$' "$TMP/out" && grep -q '^offline  batch 3: ' "$TMP/out"; then
	ok "--shape input=3,1,8,8: shapes and cost for it"
else not_ok "--shape input=3,1,8,8: shapes and cost for it" "$(cat "$TMP/out" "$TMP/err")"; fi
if "$MPCCTL" inspect --model "$G" --shape pixels=3,1,8,8 >"$TMP/out" 2>"$TMP/err" &&
	grep -q "^offline  batch 3: not estimated: --shape: 'pixels' is not a data input" "$TMP/out"; then
	ok "--shape naming no input: said so"
else not_ok "--shape naming no input: said so" "$(cat "$TMP/out" "$TMP/err")"; fi

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

#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# make demo: three institutions and a dealer on loopback run one joint
# inference job on real data, end to end through the daemons.
#
#   alpha   a hospital: columns 0-6 of the wine records (wine_mlp/input_party0.npy)
#   beta    a lab:      columns 7-12 of the same records (input_party1.npy)
#   gamma   the model owner: the trained wine MLP (model.onnx)
#   dealer  correlated randomness only; sees no data
#
# alpha proposes the job and is the only recipient of the result. Nobody
# sees another's columns or gamma's weights.
set -eu
cd "$(dirname "$0")/.."
. tests/daemon/cluster.sh

DIR=$(mktemp -d "${TMPDIR:-/tmp}/mpcd-demo.XXXXXX")
cleanup() {
	cluster_stop_all
	echo
	echo "logs and configs were in $DIR (removed); run with KEEP=1 to keep them"
	[ "${KEEP:-0}" = 1 ] || rm -rf "$DIR"
}
trap cleanup EXIT

F=$PWD/tests/fixtures/wine_mlp
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "gamma shows its model to the data owners before any job: mpcctl inspect"
echo "  mpcctl inspect --model wine_mlp/model.onnx"
"$MPCCTL" inspect --model "$F/model.onnx" | sed 's/^/    /'
hash=$("$MPCCTL" inspect --model "$F/model.onnx" --json |
	sed -n 's/.*"public_graph_hash": *"\([0-9a-f]*\)".*/\1/p')
[ ${#hash} -eq 64 ] || { echo "inspect printed no public graph hash" >&2; exit 1; }

say "keys and configs for alpha, beta, gamma and the dealer under $DIR"
cluster_init "$DIR" alpha beta gamma dealer
# The data owners bind the function run on their columns: only this graph.
for n in alpha beta; do echo "AllowModels = $hash" >"$DIR/$n.policy"; done
printf '\n[Dataset]\nName = cols_a\nPath = %s/input_party0.npy\n' "$F" >>"$DIR/alpha.extra"
printf '\n[Dataset]\nName = cols_b\nPath = %s/input_party1.npy\n' "$F" >>"$DIR/beta.extra"
printf '\n[Model]\nName = wine\nPath = %s/model.onnx\n' "$F" >>"$DIR/gamma.extra"
cluster_write_configs
for n in alpha beta gamma dealer; do
	echo "  $n: $(grep -m1 '^Listen' "$DIR/$n.conf"), public key $(cat "$DIR/$n.pub")"
done
echo "  alpha and beta: [Policy] $(grep -m1 '^AllowModels' "$DIR/beta.conf")"

say "starting four mpcd daemons"
for n in alpha beta gamma dealer; do cluster_start "$n"; done
cluster_wait_peers alpha 3 || { echo "peers did not connect" >&2; exit 1; }
ctl alpha peers

say "alpha submits: model gamma:wine on alpha's and beta's columns, result to alpha"
echo "  mpcctl submit --model gamma:wine --input input=alpha:cols_a,beta:cols_b --output alpha --offline dealer:dealer"
id=$(ctl alpha submit --model gamma:wine --input input=alpha:cols_a,beta:cols_b \
	--output alpha --offline dealer:dealer)
echo "  job $id"
ctl alpha wait "$id" --timeout 120

say "result on alpha (first rows) beside plaintext inference of the same model"
ctl alpha result "$id" -o "$DIR/result.npy"
"$MPCCTL" show "$DIR/result.npy" --ref "$F/expected.npy" --rows 8

say "what the job cost, and what each node's audit log recorded"
ctl alpha status "$id" | grep -E '^(state|parties|model hash|sent|received)'
echo "  beta's audit log:"
sed 's/^/    /' "$DIR/beta/audit.log"
say "gamma (the model owner) did not receive the result:"
ctl gamma result "$id" -o "$DIR/nope.npy" || true

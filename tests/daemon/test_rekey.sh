#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Rekeying of peer links (docs/wire.md, "Rekeying"): daemons with
# RekeyAfter = 1 (its minimum) replace their session keys every second or
# two without dropping a link, and a LeNet job (256 rows) running across
# rekeys gives the same result as `mpcctl simulate`. Usage:
#
#   tests/daemon/test_rekey.sh MPCCTL [MPCD]
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/cli/lib.sh
. tests/daemon/helpers.sh "$@"

plan 7
begin

# rekeys NODE PEER: the rekey count of NODE's link to PEER (mpcctl peers).
rekeys() {
	ctl "$1" peers --json 2>/dev/null | grep "\"name\": \"$2\"" |
		sed -n 's/.*"rekeys": *\([0-9]*\).*/\1/p'
}

# since NODE PEER: when NODE's link to PEER came up.
since() {
	ctl "$1" peers --json 2>/dev/null | grep "\"name\": \"$2\"" |
		sed -n 's/.*"since": *\([0-9]*\).*/\1/p'
}

all_rekeyed() {
	local n p r
	for n in alpha gamma dealer; do
		for p in alpha gamma dealer; do
			[ "$n" = "$p" ] && continue
			r=$(rekeys "$n" "$p")
			[ "${r:-0}" -ge "$1" ] || return 1
		done
	done
}

d=$TMP/c
mkdir -p "$d"
cluster_init "$d" alpha gamma dealer
"$TMP/npycmp" --random 2 "$d/r256.npy" 256 1 28 28 >/dev/null
printf '\n[Dataset]\nName = r256\nPath = %s\n' "$d/r256.npy" >>"$d/alpha.extra"
printf '\n[Model]\nName = lenet\nPath = %s\n' "$PWD/bench/models/lenet.onnx" >>"$d/gamma.extra"
# Both suites: alpha's links ChaCha20-Poly1305, gamma-dealer AES-GCM where the CPU has it.
echo "Cipher = chachapoly" >"$d/alpha.node"
for n in gamma dealer; do cluster_peer_set "$n" alpha Endpoint ""; done
# HandshakeTimeout widens the deadline of an exchange (1.5 RekeyAfter + it) on a loaded machine.
for n in alpha gamma dealer; do printf 'RekeyAfter = 1\nHandshakeTimeout = 30\n' >>"$d/$n.node"; done
cluster_write_configs
started=1
for n in alpha gamma dealer; do cluster_start "$n" || started=0; done
if [ $started = 1 ] && cluster_wait_peers alpha 2 && cluster_wait_peers gamma 2 &&
	cluster_wait_peers dealer 2; then
	ok "three daemons with RekeyAfter = 1 connect"
else
	not_ok "three daemons with RekeyAfter = 1 connect" "$(tail -n 3 "$d"/*.log)"
fi
s0=$(since alpha gamma)

# Idle links: every link rekeys, twice, and stays up (the log says so, per rekey).
if wait_until 20 all_rekeyed 2; then
	ok "every link rekeyed at least twice in a few seconds (mpcctl peers: rekeys)"
else
	not_ok "every link rekeyed at least twice" "$(ctl alpha peers --json; ctl gamma peers --json)"
fi
if grep -q "peer gamma: rekeyed (.*offered by us)" "$d/alpha.log" &&
	grep -q "peer alpha: rekeyed (.*offered by alpha)" "$d/gamma.log" &&
	grep -q "peer dealer: rekeyed" "$d/gamma.log"; then
	ok "each rekey is logged at info on both ends (who offered, the old keys' age)"
else
	not_ok "each rekey is logged" "$(grep -h rekey "$d"/*.log | head -n 5)"
fi

# A job across rekeys: the result equals the in-process simulation's.
r0=$(rekeys alpha gamma)
q0=$(rekeys gamma dealer)
r1=
q1=
if ! id=$(ctl alpha submit --model gamma:lenet --input input=alpha:r256 --output alpha 2>"$TMP/err"); then
	not_ok "LeNet (256 rows) across rekeys" "submit: $(cat "$TMP/err")"
elif ! ctl alpha wait "$id" --timeout 300 >/dev/null 2>"$TMP/err" ||
	! { r1=$(rekeys alpha gamma); q1=$(rekeys gamma dealer); }; then
	not_ok "LeNet (256 rows) across rekeys" "$(cat "$TMP/err")"
elif ! ctl alpha result "$id" -o "$TMP/got.npy" 2>"$TMP/err"; then
	not_ok "LeNet (256 rows) across rekeys" "result: $(cat "$TMP/err")"
elif ! "$MPCCTL" simulate --model bench/models/lenet.onnx --input "input=$d/r256.npy" \
	--parties 2 -o "$TMP/sim.npy" >/dev/null 2>"$TMP/err"; then
	not_ok "LeNet (256 rows) across rekeys" "simulate: $(cat "$TMP/err")"
elif ! out=$("$TMP/npycmp" "$TMP/got.npy" "$TMP/sim.npy" 2>&1); then
	not_ok "LeNet (256 rows) across rekeys: the result equals simulate's" "$out"
else
	ok "LeNet (256 rows) across rekeys: the result equals simulate's ($out)"
fi
# Counted as the job ended (before the simulation): a rekey on either of
# its links happened under its traffic; how many fit depends on the load.
if [ "${r1:-0}" -gt "${r0:-0}" ] || [ "${q1:-0}" -gt "${q0:-0}" ]; then
	ok "the job's links rekeyed while it ran (alpha-gamma $r0 -> $r1, gamma-dealer $q0 -> $q1)"
else
	not_ok "the job's links rekeyed while it ran" "alpha-gamma $r0 -> $r1, gamma-dealer $q0 -> $q1"
fi

# Never a dropped link: still connected since the start, nothing closed.
if [ -n "$s0" ] && [ "$(since alpha gamma)" = "$s0" ] && ! grep -q "link closed" "$d"/*.log; then
	ok "no link was dropped or replaced by a rekey"
else
	not_ok "no link was dropped" "$(grep -h "link closed" "$d"/*.log | head -n 3)"
fi

bad=""
for n in alpha gamma dealer; do
	cluster_stop "$n"
	[ "$(cat "$d/$n.rc")" = 0 ] || bad="$bad $n(rc $(cat "$d/$n.rc"))"
	grep -qE "ERROR|runtime error|Sanitizer" "$d/$n.log" && bad="$bad $n(sanitizer)"
done
if [ -z "$bad" ]; then
	ok "the daemons stop cleanly"
else
	not_ok "the daemons stop cleanly" "$bad"
fi
finish

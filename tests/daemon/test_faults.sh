#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Integration tests of mpcd, consortium B: faults on the links and the
# daemons' run-time limits. Usage:
#
#   tests/daemon/test_faults.sh MPCCTL [MPCD]
#
# alpha, beta, gamma, zeta, dealer. alpha reaches beta only through a
# proxy it dials (tests/tools/tproxy.c --control; beta does not dial
# alpha), and proposes AES-256-GCM where the CPU has AES-NI: the proxy
# flips a bit, replays, reorders or drops a frame, or holds the link, at a
# moment the test chooses. alpha pins a wrong key for zeta; zeta has
# MaxFrame 64 KiB (the others 1 MiB) and JobMemory 16 MiB.
#   - wrong key: no link alpha-zeta, both say why;
#   - a captured handshake message replayed to beta, and a flood of bogus
#     handshakes (the rate limit): refused, the links stay up;
#   - tampering and frame replay, reorder, drop: the link closes, the job
#     aborts on every party with one reason, the link comes back and the
#     next job succeeds;
#   - a larger frame than zeta's MaxFrame, a job over its JobMemory;
#   - a peer killed in the online phase (held there by the proxy).
# The jobs are LeNet (bench/models) on 8 random rows, checked against
# mpcctl simulate of the same job. DAEMON_TESTS=quick (the ASan/UBSan run)
# runs the same checks. Every daemon must exit 0 on SIGTERM at the end.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/cli/lib.sh
. tests/daemon/helpers.sh "$@"
plan 38
CIPHER=ChaCha20-Poly1305
grep -qw aes /proc/cpuinfo && CIPHER=AES-256-GCM

# ---- helpers: the proxy, log offsets ----

# The proxy's commands go through fd 7 (a FIFO it reads as stdin).
proxy_cmd() { echo "$*" >&7; }

# proxy_count: client->server bytes the proxy has forwarded so far.
proxy_lines() { grep -c "^$1" "$CL_DIR/proxy.out"; }
more_lines() { [ "$(proxy_lines "$1")" -gt "$2" ]; }
proxy_count() {
	local before
	before=$(proxy_lines c2s)
	proxy_cmd count
	wait_until 30 more_lines c2s "$before" || return 1
	grep '^c2s ' "$CL_DIR/proxy.out" | tail -n 1 | cut -d' ' -f2
}

# Where a log is now, and what was added to it since.
log_at() { wc -c <"$CL_DIR/$1.log"; }
log_since() { tail -c +"$(($2 + 1))" "$CL_DIR/$1.log"; }

# A (re)started proxy to beta's current port, and alpha's endpoint to it:
# cluster_start_all runs this before each attempt.
b_proxy() {
	local p
	for p in "${PROXY_PIDS[@]}"; do kill "$p" 2>/dev/null; done
	rm -f "$CL_DIR/proxy.in" "$CL_DIR/proxy.out"
	mkfifo "$CL_DIR/proxy.in" || return 1
	"$TMP/tproxy" --listen 127.0.0.1:0 --to "127.0.0.1:$(cat "$CL_DIR/beta.port")" --control \
		--capture "$CL_DIR/hs1" --max-seconds 1800 <"$CL_DIR/proxy.in" \
		>"$CL_DIR/proxy.out" 2>>"$CL_DIR/proxy.log" &
	PROXY_PIDS+=($!)
	exec 7>"$CL_DIR/proxy.in"
	wait_until 30 test -s "$CL_DIR/proxy.out" || return 1
	cluster_peer_set alpha beta Endpoint "127.0.0.1:$(head -n 1 "$CL_DIR/proxy.out")"
}

# lenet_job NAME RECIPIENTS: LeNet on alpha's 8 rows, checked on each
# recipient against mpcctl simulate of the same job.
lenet_job() {
	fixture_job "$1" alpha "$2" "$CL_DIR/lenet_r8.npy" --model gamma:lenet \
		--input input=alpha:r8 --output "$2"
}

# ---- consortium B ----

consortium_b() {
	local d=$TMP/b
	mkdir -p "$d"
	cluster_init "$d" alpha beta gamma zeta dealer || return 1
	"$TMP/npycmp" --random 1 "$d/r8.npy" 8 1 28 28 &&
		"$TMP/npycmp" --random 2 "$d/r64.npy" 64 1 28 28 || return 1
	if ! run_checked "$MPCCTL" simulate --model bench/models/lenet.onnx --input input="$d/r8.npy" \
		--parties 3 -o "$d/lenet_r8.npy" >"$d/sim.log" 2>&1; then
		echo "simulate: $(tail -n 3 "$d/sim.log")" >"$d/why"
		return 1
	fi
	dataset alpha r8 "$d/r8.npy"
	dataset beta iris "$F/iris_logreg/input.npy"
	dataset zeta iris "$F/iris_logreg/input.npy"
	dataset zeta r8 "$d/r8.npy"
	dataset zeta r64 "$d/r64.npy"
	model gamma lenet "$PWD/bench/models/lenet.onnx"
	model gamma iris "$F/iris_logreg/model.onnx"
	if [ "$CIPHER" = AES-256-GCM ]; then
		echo "Cipher = aesgcm" >"$d/alpha.node"
	else
		echo "Cipher = chachapoly" >"$d/alpha.node"
	fi
	printf 'MaxFrame = 64K\nJobMemory = 16M\n' >"$d/zeta.node"
	cluster_peer_set beta alpha Endpoint ""
	"$MPCCTL" genkey | "$MPCCTL" pubkey >"$d/wrong.pub"
	cluster_peer_set alpha zeta PublicKey "$(cat "$d/wrong.pub")"
	start_all b_proxy && cluster_wait_peers alpha 3 && cluster_wait_peers beta 4 &&
		cluster_wait_peers gamma 4 && cluster_wait_peers dealer 4
}

cipher_check() {
	if [ "$CIPHER" != AES-256-GCM ]; then
		skip "alpha's link to beta runs AES-256-GCM (Cipher = aesgcm)" "no AES-NI"
	elif grep -q "peer beta: connected (outgoing, AES-256-GCM)" "$CL_DIR/alpha.log"; then
		ok "alpha's link to beta runs AES-256-GCM (Cipher = aesgcm)"
	else
		not_ok "alpha's link to beta runs AES-256-GCM" "$(grep -h connected "$CL_DIR/alpha.log")"
	fi
}

# ---- keys and handshakes ----

# zeta_on_alpha: alpha's peers line for zeta (fails with mpcctl).
zeta_on_alpha() {
	local js
	js=$(ctl alpha peers --json) || return 1
	echo "$js" | grep '"name": "zeta"'
}
zeta_refused() {
	local js
	js=$(zeta_on_alpha) && [ -n "$(echo "$js" | jget last_error)" ] &&
		grep -q "refused a link from unknown key" "$CL_DIR/alpha.log"
}

wrong_key() {
	local js why
	# Both sides have tried at least once in each direction.
	wait_until 30 zeta_refused
	js=$(zeta_on_alpha 2>&1)
	why=$(echo "$js" | jget last_error)
	if echo "$js" | grep -q '"connected": false' && ! connected zeta alpha; then
		ok "wrong key: alpha and zeta do not connect"
	else
		not_ok "wrong key: alpha and zeta do not connect" "$js"
	fi
	if grep -q "refused a link from unknown key" "$CL_DIR/alpha.log" && [ -n "$why" ]; then
		ok "wrong key: alpha's log says why, peers shows a last error ($why)"
	else
		not_ok "wrong key: alpha's log and last error say why" "last_error '$why';" \
			"$(grep zeta "$CL_DIR/alpha.log" | tail -n 3)"
	fi
	expect_bad "wrong key: a job with zeta cannot be submitted" "peer zeta is not connected" \
		--model gamma:iris --input input=zeta:iris --output alpha
	if connected zeta beta && connected zeta gamma; then
		ok "wrong key: zeta's other links are up"
	else
		not_ok "wrong key: zeta's other links are up" "$(ctl zeta peers)"
	fi
}

# alpha's last handshake message 1 to beta, as the proxy saw it, sent to
# beta again: its timestamp is not newer than the one beta accepted.
replayed_handshake() {
	local at out hex
	at=$(log_at beta)
	hex=$(od -An -tx1 -v "$CL_DIR/hs1" 2>/dev/null | tr -d ' \n')
	out=$("$TMP/tproxy" --tcp "127.0.0.1:$(cat "$CL_DIR/beta.port")" --send "$hex" 2>&1)
	if [ ${#hex} -eq 210 ] && echo "$out" | grep -q "reply 0 bytes" &&
		wait_until 30 eval 'log_since beta "$at" | grep -q "replayed handshake"'; then
		ok "replayed handshake: beta refuses alpha's captured message 1"
	else
		not_ok "replayed handshake: beta refuses alpha's captured message 1" \
			"${#hex} hex digits; $out; $(log_since beta "$at" | tail -n 3)"
	fi
	if connected alpha beta && connected beta alpha; then
		ok "replayed handshake: the link alpha-beta stays up"
	else
		not_ok "replayed handshake: the link alpha-beta stays up" "$(ctl beta peers 2>&1)"
	fi
}

# 300 bogus message 1s, 16 connections at a time: more than the burst
# (40) and the rate (20 a second) allow.
rate_limit() {
	local at out
	at=$(log_at beta)
	out=$("$TMP/tproxy" --tcp "127.0.0.1:$(cat "$CL_DIR/beta.port")" --send 01 --send-random 104 \
		--repeat 300 2>&1)
	if wait_until 30 eval 'log_since beta "$at" | grep -q "too many handshakes: rate limited"'; then
		ok "handshake rate limit: beta refuses a flood of handshakes ($out)"
	else
		not_ok "handshake rate limit: beta refuses a flood" \
			"$out; $(log_since beta "$at" | sort | uniq -c | head -n 5)"
	fi
	if connected alpha beta && connected gamma beta && connected dealer beta && alive beta; then
		ok "handshake rate limit: beta still serves, its links stay up"
	else
		not_ok "handshake rate limit: beta still serves, its links stay up" "$(ctl beta peers 2>&1)"
	fi
}

# ---- faults on a running job ----

# link_back NAME: the alpha-beta link is re-established and the next job
# over the same proxy succeeds.
link_back() {
	if wait_until 30 connected alpha beta && wait_until 30 connected beta alpha; then
		fixture_job "$1" alpha alpha "$F/iris_logreg/expected.npy" --model gamma:iris \
			--input input=beta:iris --output alpha
	else
		not_ok "$1" "the link is not back: $(ctl alpha peers 2>&1)"
	fi
}

# link_fault NAME CMD WANT: CMD to the proxy, then a LeNet job; beta's log
# shows the link closed (WANT in the reason), the job aborts everywhere.
link_fault() {
	local name=$1 cmd=$2 want=$3 id n at
	at=$(log_at beta)
	proxy_cmd "$cmd"
	if ! id=$(submit alpha --model gamma:lenet --input input=alpha:r8 --output alpha,beta); then
		not_ok "$name: submit" "$(cat "$TMP/err")"
		return
	fi
	for n in alpha beta gamma dealer; do wait_until 60 ended "$n" "$id"; done
	if log_since beta "$at" | grep "peer alpha: link closed" | grep -qE "$want"; then
		ok "$name: beta closes the link ($CIPHER)"
	else
		not_ok "$name: beta closes the link ($CIPHER)" "$(tail -n 2 "$CL_DIR/proxy.log");" \
			"$(log_since beta "$at" | grep -i 'peer alpha' | tail -n 3)"
	fi
	same_end "$name: the job aborts on every compute party with the same reason" "$id" \
		alpha beta gamma
	dealer_end "$name: the dealer shows the job aborted too" "$id" "$(field alpha "$id" reason)"
	link_back "$name: the link comes back, the next job succeeds"
}

# ---- limits ----

# zeta takes frames of at most 64 KiB; beta and gamma send LeNet's weights
# in chunks of up to 1 MiB.
max_frame() {
	local id n at
	at=$(log_at zeta)
	if ! id=$(submit beta --model gamma:lenet --input input=zeta:r8 --output beta); then
		not_ok "MaxFrame: submit" "$(cat "$TMP/err")"
		return
	fi
	for n in beta gamma zeta; do wait_until 60 ended "$n" "$id"; done
	if log_since zeta "$at" | grep "link closed: " | grep -qE "over MaxFrame|frame length over the limit"; then
		ok "MaxFrame: zeta (64 KiB) closes a link that sends a larger frame"
	else
		not_ok "MaxFrame: zeta closes a link with a larger frame" \
			"$(field beta "$id" state) $(field beta "$id" reason); $(log_since zeta "$at" | tail -n 3)"
	fi
	# zeta closed both of its links to the job at once, so it heard neither
	# the proposer's reason nor gamma's: beta repeats it when the link is
	# back (job.c, on_peer_up).
	for n in beta gamma dealer; do wait_until 30 connected zeta $n; done
	wait_until 10 same_reason "$id" beta zeta
	same_end "MaxFrame: the job aborts on every party with the same reason" "$id" beta gamma zeta
}
same_reason() { [ "$(field "$2" "$1" reason)" = "$(field "$3" "$1" reason)" ]; }

# 64 rows of LeNet need far more than 16 MiB of correlated randomness: in
# one chunk (--chunk-rows 64) the proposer refuses it with zeta's numbers
# (without, it would pick chunks that fit: tests/daemon/test_chunk.sh).
job_memory() {
	local id n
	if ! id=$(submit beta --model gamma:lenet --input input=zeta:r64 --output beta --chunk-rows 64); then
		not_ok "JobMemory: submit" "$(cat "$TMP/err")"
		return
	fi
	for n in beta gamma zeta dealer; do wait_until 60 ended "$n" "$id"; done
	CONTAINS="the JobMemory of zeta is 16 MiB" same_end \
		"JobMemory: zeta refuses a job over 16 MiB, it aborts everywhere with the reason" \
		"$id" beta gamma zeta dealer
}

# ---- a killed peer ----

# The same job as a reference moves B bytes from alpha to beta; the proxy
# then holds the second run after 80 % of them (the online phase: the
# weights phase is 0.5 MB of 7) and gamma is killed while it is held.
online_held() {
	SEEN="$SEEN $(field alpha "$1" state)/$(field alpha "$1" phase)"
	grep -q "^held at" "$CL_DIR/proxy.out" && [ "${SEEN##*/}" = online ]
}

kill_peer() {
	local id n c0 c1 t0 t1 bad="" reasons=""
	c0=$(proxy_count)
	lenet_job "killed peer: the reference job (LeNet, 8 rows) matches mpcctl simulate" alpha,beta
	c1=$(proxy_count)
	if [ -z "$c0" ] || [ -z "$c1" ] || [ "$c1" -le "$c0" ]; then
		not_ok "killed peer: the job is held in its online phase" "proxy counts '$c0' '$c1'"
		return
	fi
	proxy_cmd hold $(((c1 - c0) * 8 / 10))
	if ! id=$(submit alpha --model gamma:lenet --input input=alpha:r8 --output alpha,beta); then
		not_ok "killed peer: submit" "$(cat "$TMP/err")"
		proxy_cmd release
		return
	fi
	SEEN=
	if wait_until 60 online_held "$id"; then
		ok "killed peer: the job is held in its online phase"
	else
		not_ok "killed peer: the job is held in its online phase" \
			"$(field alpha "$id" reason); seen: $(echo "$SEEN" | tr ' ' '\n' | uniq -c | tr '\n' ' ');" \
			"proxy: $(tr '\n' ' ' <"$CL_DIR/proxy.out")"
		proxy_cmd release
		return
	fi
	t0=$(date +%s.%N)
	cluster_kill gamma
	for n in alpha beta; do wait_until 30 ended "$n" "$id"; done
	t1=$(date +%s.%N)
	for n in alpha beta; do
		reasons="$reasons $n:'$(field "$n" "$id" state): $(field "$n" "$id" reason)'"
		state_is "$n" "$id" aborted && field "$n" "$id" reason | grep -q gamma || bad="$bad $n"
	done
	if [ -z "$bad" ]; then
		ok "killed peer: the job aborts on alpha and beta, naming gamma"
	else
		not_ok "killed peer: the job aborts on alpha and beta, naming gamma" \
			"$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f s", b - a }'); wrong on:$bad;$reasons"
	fi
	proxy_cmd release
	wait_until 30 ended dealer "$id"
	dealer_end "killed peer: the dealer shows the job aborted too, naming gamma" "$id" gamma
	still_serving "killed peer: the others still serve" alpha beta dealer
	if cluster_start gamma && wait_until 30 connected alpha gamma && wait_until 30 connected beta gamma &&
		wait_until 30 connected dealer gamma && wait_until 30 connected alpha beta; then
		ok "killed peer: gamma restarts and reconnects"
		lenet_job "killed peer: a new job after the restart succeeds" alpha
	else
		not_ok "killed peer: gamma restarts and reconnects" "$(ctl alpha peers 2>&1)"
	fi
}

# ---- main ----

begin
if consortium_b; then
	ok "consortium B: daemons connect (alpha-beta through the proxy)"
	cipher_check
	wrong_key
	replayed_handshake
	rate_limit
	link_fault "tampering (a flipped bit)" "flip 2000000" "authentication"
	link_fault "a replayed frame" replay "authentication|wrong length"
	link_fault "reordered frames" reorder "authentication|wrong length"
	link_fault "a dropped frame" drop "authentication|wrong length"
	max_frame
	job_memory
	kill_peer
else
	not_ok "consortium B: daemons connect" "$(cat "$TMP/b/why" 2>/dev/null) $(ctl alpha peers 2>&1)"
fi
stop_clean "consortium B: every daemon exits 0 on SIGTERM, no sanitizer report"
finish

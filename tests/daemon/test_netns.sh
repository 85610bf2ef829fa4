#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Integration tests of mpcd across hosts: each daemon (alpha, beta, gamma,
# dealer) in its own network namespace, wired by a veth pair to a "router"
# namespace that holds nothing but one tests/tools/tproxy.c per pair of
# nodes (the first name dials, the proxy forwards to the second; nothing
# is routed, so every byte crosses a proxy). Usage:
#
#   tests/daemon/test_netns.sh MPCCTL [MPCD]
#
# Bandwidth is the kernel's (tc tbf on both ends of every veth), delay,
# loss and reordering the proxies' (netem is not assumed):
#   - LAN: 1 Gbit/s, 0.1 ms each way (0.2 ms RTT);
#   - WAN: 100 Mbit/s, 20 ms each way (40 ms RTT), 0.1 % of the TCP
#     segments lost (they arrive a round trip late, what follows waits)
#     and 0.1 % reordered.
# A job per profile (wine_mlp, vertical pooling, with the dealer) checked
# against the fixture's expected.npy; on the WAN, a LeNet job (alpha and
# beta the recipients) cut mid-job between alpha and beta (the proxy stops
# both directions: a partition of that link) must abort on all four nodes
# with one reason, and after healing the next job must be right. Needs
# root and iproute2: where `ip netns add` fails every check is skipped
# with "cannot create network namespaces". Namespaces are named
# mpcd-t-PID-*, deleted on exit. DAEMON_TESTS=quick runs the same checks.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/cli/lib.sh
. tests/daemon/helpers.sh "$@"
N_CHECKS=19
plan $N_CHECKS

NODES=(alpha beta gamma dealer)
NS_PRE=mpcd-t-$$
NS_R=$NS_PRE-r
MADE_NS=()
PAIRS=()          # "a b port" lines: a dials b through the proxy on port

netns_cleanup() {
	local ns
	cleanup
	for ns in "${MADE_NS[@]}"; do ip netns del "$ns" 2>/dev/null; done
}
trap netns_cleanup EXIT

idx() { local i; for i in "${!NODES[@]}"; do [ "${NODES[$i]}" = "$1" ] && echo $((i + 1)); done; }

# ---- the network ----

# netns_up: the router namespace and one per node, a veth pair each:
# node 10.199.I.2/24 (eth0) <-> router 10.199.I.1/24 (vI). No forwarding.
netns_up() {
	local n i ns
	ip netns add "$NS_R" 2>"$TMP/ns.err" || return 1
	MADE_NS+=("$NS_R")
	ip -n "$NS_R" link set lo up || return 1
	for n in "${NODES[@]}"; do
		i=$(idx "$n")
		ns=$NS_PRE-$n
		ip netns add "$ns" 2>"$TMP/ns.err" || return 1
		MADE_NS+=("$ns")
		ip -n "$NS_R" link add "v$i" type veth peer name eth0 netns "$ns" &&
			ip -n "$NS_R" addr add "10.199.$i.1/24" dev "v$i" &&
			ip -n "$NS_R" link set "v$i" up &&
			ip -n "$ns" addr add "10.199.$i.2/24" dev eth0 &&
			ip -n "$ns" link set eth0 up &&
			ip -n "$ns" link set lo up 2>"$TMP/ns.err" || return 1
	done
}

# shape RATE BURST: tc tbf on both ends of every veth.
shape() {
	local n i
	for n in "${NODES[@]}"; do
		i=$(idx "$n")
		tc -n "$NS_PRE-$n" qdisc replace dev eth0 root tbf rate "$1" burst "$2" latency 50ms &&
			tc -n "$NS_R" qdisc replace dev "v$i" root tbf rate "$1" burst "$2" latency 50ms ||
			return 1
	done 2>"$TMP/tc.err"
}

# shaped NAME RATE: every veth end shows a tbf of RATE (tc's spelling).
shaped() {
	local n i bad=""
	for n in "${NODES[@]}"; do
		i=$(idx "$n")
		tc -n "$NS_PRE-$n" qdisc show dev eth0 | grep -q "tbf .*rate $2 " || bad="$bad $n"
		tc -n "$NS_R" qdisc show dev "v$i" | grep -q "tbf .*rate $2 " || bad="$bad router:v$i"
	done
	if [ -z "$bad" ]; then ok "$1"; else not_ok "$1" "no tbf at $2 on:$bad; $(cat "$TMP/tc.err")"; fi
}

# ---- the proxies ----

stop_proxies() {
	local p
	for p in "${PROXY_PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${PROXY_PIDS[@]}"; do wait "$p" 2>/dev/null; done
	PROXY_PIDS=()
	exec 7>&-
}

# proxies ARGS...: one proxy per pair in the router namespace with the
# profile's ARGS; alpha-beta's takes commands on fd 7 (cut, heal).
proxies() {
	local line a b port ia ib ctl
	stop_proxies
	for line in "${PAIRS[@]}"; do
		read -r a b port <<<"$line"
		ia=$(idx "$a")
		ib=$(idx "$b")
		if [ "$a$b" = alphabeta ]; then
			rm -f "$CL_DIR/cut.in" "$CL_DIR/cut.out"
			mkfifo "$CL_DIR/cut.in" || return 1
			ip netns exec "$NS_R" "$TMP/tproxy" --listen "10.199.$ia.1:$port" --to "10.199.$ib.2:7000" \
				--control "$@" --max-seconds 1800 <"$CL_DIR/cut.in" >"$CL_DIR/cut.out" \
				2>>"$CL_DIR/proxy.$a$b.log" &
			PROXY_PIDS+=($!)
			exec 7>"$CL_DIR/cut.in"
		else
			ip netns exec "$NS_R" "$TMP/tproxy" --listen "10.199.$ia.1:$port" --to "10.199.$ib.2:7000" \
				"$@" --max-seconds 1800 </dev/null >"$CL_DIR/proxy.$a$b.out" \
				2>>"$CL_DIR/proxy.$a$b.log" &
			PROXY_PIDS+=($!)
		fi
	done
	for line in "${PAIRS[@]}"; do
		read -r a b port <<<"$line"
		ctl=$CL_DIR/proxy.$a$b.out
		[ "$a$b" = alphabeta ] && ctl=$CL_DIR/cut.out
		wait_until 30 test -s "$ctl" || return 1
	done
}

all_connected() {
	local n
	for n in "${NODES[@]}"; do cl_count_peers "$n" 3 || return 1; done
}

# ---- the consortium ----

consortium() {
	local d=$TMP/n a b i port=9000 k
	mkdir -p "$d"
	cluster_init "$d" "${NODES[@]}" || return 1
	"$TMP/npycmp" --random 1 "$d/r8.npy" 8 1 28 28 || return 1
	if ! run_checked "$MPCCTL" simulate --model bench/models/lenet.onnx --input input="$d/r8.npy" \
		--parties 3 -o "$d/lenet_r8.npy" >"$d/sim.log" 2>&1; then
		echo "simulate: $(tail -n 3 "$d/sim.log")" >"$d/why"
		return 1
	fi
	for a in "${NODES[@]}"; do
		i=$(idx "$a")
		echo "$NS_PRE-$a" >"$d/$a.netns"
		echo "10.199.$i.2:7000" >"$d/$a.listen"
	done
	# Pairs in name order: the first dials the second through its proxy.
	for a in alpha beta dealer gamma; do
		for b in alpha beta dealer gamma; do
			[[ "$a" < "$b" ]] || continue
			port=$((port + 1))
			PAIRS+=("$a $b $port")
			cluster_peer_set "$a" "$b" Endpoint "10.199.$(idx "$a").1:$port"
			cluster_peer_set "$b" "$a" Endpoint ""
		done
	done
	dataset alpha cols_a "$F/wine_mlp/input_party0.npy"
	dataset beta cols_b "$F/wine_mlp/input_party1.npy"
	dataset alpha r8 "$d/r8.npy"
	model gamma wine "$F/wine_mlp/model.onnx"
	model gamma lenet "$PWD/bench/models/lenet.onnx"
	shape 1gbit 512kb || return 1
	LAN=(--delay-ms 0.1)
	proxies "${LAN[@]}" || return 1
	start_all || return 1
	for k in "${NODES[@]}"; do cluster_wait_peers "$k" 3 || return 1; done
}

wine_job() {
	fixture_job "$1" alpha alpha,beta "$F/wine_mlp/expected.npy" --model gamma:wine \
		--input input=alpha:cols_a,beta:cols_b --output alpha,beta --offline dealer:dealer
}

# ---- WAN: a round waits for at least one delay ----

wan_job() {
	local id r name="WAN (40 ms RTT, 100 Mbit/s, 0.1 % loss): wine_mlp, vertical pooling"
	if ! id=$(submit alpha --model gamma:wine --input input=alpha:cols_a,beta:cols_b \
		--output alpha,beta --offline dealer:dealer); then
		not_ok "$name" "submit: $(cat "$TMP/err")"
		not_ok "$name (result on beta)" "not run"
		not_ok "WAN: the online phase took at least its rounds x 20 ms" "not run"
		return
	fi
	for r in alpha beta; do
		result_matches "$name (result on $r)" "$r" "$id" "$F/wine_mlp/expected.npy"
	done
	wan_delay_seen "$id"
}

WAN=(--delay-ms 20 --loss 0.1 --reorder 0.1 --seed 7)

wan_delay_seen() {
	local id=$1 js secs rounds
	js=$(ctl alpha status "$id" --json 2>/dev/null)
	secs=$(echo "$js" | jget online_seconds)
	rounds=$(echo "$js" | jget online_rounds)
	if [ -n "$secs" ] && [ -n "$rounds" ] && [ "$rounds" -gt 0 ] &&
		awk -v s="$secs" -v r="$rounds" 'BEGIN { exit !(s >= r * 0.020) }'; then
		ok "WAN: the online phase took at least its rounds x 20 ms ($rounds rounds, $secs s)"
	else
		not_ok "WAN: the online phase took at least its rounds x 20 ms" "rounds '$rounds', seconds '$secs'"
	fi
}

# ---- a partition of alpha-beta mid-job ----

running() { state_is alpha "$1" running; }

partition() {
	local id n
	if ! id=$(submit alpha --model gamma:lenet --input input=alpha:r8 --output alpha,beta \
		--offline dealer:dealer); then
		not_ok "partition: submit" "$(cat "$TMP/err")"
		return
	fi
	if wait_until 60 running "$id" && echo cut >&7 && wait_until 30 grep -q '^cut' "$CL_DIR/cut.out" &&
		! ended alpha "$id"; then
		ok "partition: alpha-beta cut while the job runs ($(field alpha "$id" phase))"
	else
		not_ok "partition: alpha-beta cut while the job runs" \
			"alpha: $(field alpha "$id" state) $(field alpha "$id" reason)"
	fi
	for n in "${NODES[@]}"; do wait_until 60 ended "$n" "$id"; done
	CONTAINS="link between alpha and beta lost" same_end \
		"partition: the job aborts on alpha, beta, gamma and the dealer with one reason" \
		"$id" "${NODES[@]}"
	still_serving "partition: every daemon still serves" "${NODES[@]}"
	if connected alpha gamma && connected beta gamma && connected alpha dealer && connected beta dealer; then
		ok "partition: the other links stay up"
	else
		not_ok "partition: the other links stay up" "$(ctl alpha peers 2>&1; ctl beta peers 2>&1)"
	fi
	echo heal >&7
	if wait_until 60 grep -q '^healed' "$CL_DIR/cut.out" && wait_until 60 connected alpha beta &&
		wait_until 60 connected beta alpha; then
		ok "heal: alpha and beta reconnect"
		fixture_job "heal: the next job (LeNet, 8 rows) is right" alpha alpha,beta \
			"$CL_DIR/lenet_r8.npy" --model gamma:lenet --input input=alpha:r8 --output alpha,beta \
			--offline dealer:dealer
	else
		not_ok "heal: alpha and beta reconnect" "$(ctl alpha peers 2>&1)"
		not_ok "heal: the next job is right" "not run"
	fi
}

# The proxies' own counts (printed when they stop) show the WAN's loss
# and reordering happened.
wan_losses() {
	local lost=0 reo=0 segs=0 f l
	stop_proxies
	for f in "$CL_DIR"/proxy.*.log; do
		l=$(grep 'segments,' "$f" | tail -n 1)
		[ -n "$l" ] || continue
		segs=$((segs + $(echo "$l" | awk '{ print $2 }')))
		lost=$((lost + $(echo "$l" | awk '{ print $4 }')))
		reo=$((reo + $(echo "$l" | awk '{ print $6 }')))
	done
	if [ "$lost" -gt 0 ] && [ "$reo" -gt 0 ]; then
		ok "WAN: TCP segments lost and reordered on the way ($segs segments, $lost lost, $reo reordered)"
	else
		not_ok "WAN: TCP segments lost and reordered on the way" "$segs segments, $lost lost, $reo reordered"
	fi
}

# ---- main ----

begin
if ! command -v ip >/dev/null || ! netns_up; then
	why="cannot create network namespaces ($(command -v ip >/dev/null && head -n 1 "$TMP/ns.err" || echo 'no ip(8)'))"
	for k in $(seq 1 $N_CHECKS); do skip "network namespaces ($k)" "$why"; done
	finish
	exit
fi
ok "network: $((${#NODES[@]} + 1)) namespaces, a veth pair per node"
if consortium; then
	ok "consortium: alpha, beta, gamma, dealer in their namespaces connect through the proxies"
	shaped "LAN: tbf 1 Gbit/s on both ends of every veth" 1Gbit
	wine_job "LAN (0.2 ms RTT, 1 Gbit/s): wine_mlp, vertical pooling"
	if shape 100mbit 128kb && proxies "${WAN[@]}" && wait_until 90 all_connected; then
		ok "WAN: proxies at 40 ms RTT, 0.1 % loss and reordering; every link back"
	else
		not_ok "WAN: proxies at 40 ms RTT; every link back" "$(cat "$TMP/tc.err"; ctl alpha peers 2>&1)"
	fi
	shaped "WAN: tbf 100 Mbit/s on both ends of every veth" 100Mbit
	wan_job
	partition
	wan_losses
else
	not_ok "consortium: the daemons connect in their namespaces" \
		"$(cat "$TMP/n/why" 2>/dev/null) $(cat "$TMP/tc.err" 2>/dev/null) $(ctl alpha peers 2>&1 | head -c 600)"
fi
stop_clean "every daemon exits 0 on SIGTERM, no sanitizer report"
finish

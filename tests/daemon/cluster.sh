# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# Sourced by the demo, the benchmarks and the daemon tests: build a
# consortium of mpcd nodes on loopback under one directory, start and stop
# them by PID.
#
#   cluster_init DIR NODE... [dealer]   keys, configs, ports from the kernel
#   cluster_start NODE                  start, wait until its control socket
#                                       answers (status 3: the port was
#                                       taken meanwhile; a new one is chosen)
#   cluster_start_all [HOOK]            write the configs and start every
#                                       node; on a taken port, stop them,
#                                       run HOOK again and retry
#   cluster_stop NODE                   SIGTERM, wait, by PID
#   ctl NODE ARGS...                    mpcctl against that node (through
#                                       run_checked when tests/cli/lib.sh
#                                       is loaded)
#   cluster_wait_peers NODE N           until N peers are connected
#   cluster_peer_set NODE PEER KEY VAL  override a [Peer] key in NODE's
#                                       config (empty VAL: leave it out)
#   cluster_kill NODE                   SIGKILL, by PID
#   cluster_pid NODE                    PID of a running node
#
# Deadlines are generous (CL_DEADLINE, default 30 s): they cost time only
# when something is wrong. cluster_stop leaves the daemon's exit status in
# DIR/NODE.rc. Per node: DIR/NODE.conf, DIR/NODE.key (0600), DIR/NODE/
# (DataDir), DIR/NODE.sock, DIR/NODE.log, DIR/NODE.pid, DIR/NODE.port.
# Extra config lines for a node can be put in DIR/NODE.extra (after its
# [Peer] sections) or DIR/NODE.node (inside [Node]) before the configs are
# written. Other hosts (tests/daemon/test_netns.sh): DIR/NODE.listen holds
# the Listen address (default 127.0.0.1:PORT) and DIR/NODE.netns a network
# namespace the node runs in (ip netns exec; its control socket is still
# a file in DIR).
: "${MPCD:=bin/mpcd}"
: "${MPCCTL:=bin/mpcctl}"
: "${CL_DEADLINE:=30}"

CL_DIR=
CL_NODES=()

# A port the kernel just handed out (tests/tools/freeport.c, built here
# when the caller did not build it): no guessing, and a port taken again
# before the daemon binds it is retried by cluster_start_all.
free_port() {
	if [ -z "${CL_FREEPORT:-}" ]; then
		CL_FREEPORT=$CL_DIR/freeport
		cc -std=c11 -O2 -o "$CL_FREEPORT" "$CL_SRC/../tools/freeport.c" || return 1
	fi
	"$CL_FREEPORT"
}
CL_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

cluster_init() {
	CL_DIR=$(cd "$1" && pwd)
	shift
	CL_NODES=("$@")
	local n
	for n in "${CL_NODES[@]}"; do
		(umask 077 && "$MPCCTL" genkey >"$CL_DIR/$n.key")
		"$MPCCTL" pubkey <"$CL_DIR/$n.key" >"$CL_DIR/$n.pub"
		free_port >"$CL_DIR/$n.port" || return 1
		mkdir -p "$CL_DIR/$n"
		: >"$CL_DIR/$n.extra"
	done
}

role_of() { [ "$1" = dealer ] && echo dealer || echo compute; }

# Faults are set up per link: a wrong key, an endpoint that is a proxy, or
# none at all so that only the other side dials. Kept in DIR/NODE.peer.PEER
# as KEY=VALUE lines, the last one for a key winning.
cluster_peer_set() {
	echo "$3=$4" >>"$CL_DIR/$1.peer.$2"
}

# peer_line NODE PEER KEY DEFAULT: "KEY = value" unless overridden to empty.
peer_line() {
	local f="$CL_DIR/$1.peer.$2" v=$4
	if [ -f "$f" ] && grep -q "^$3=" "$f"; then
		v=$(grep "^$3=" "$f" | tail -n 1 | cut -d= -f2-)
	fi
	[ -n "$v" ] && echo "$3 = $v"
	return 0
}

# Policy defaults for tests: every compute node may propose and receive.
cluster_write_configs() {
	local n p computes=()
	for n in "${CL_NODES[@]}"; do
		[ "$(role_of "$n")" = compute ] && computes+=("$n")
	done
	for n in "${CL_NODES[@]}"; do
		{
			echo "[Node]"
			echo "Name = $n"
			echo "PrivateKeyFile = $CL_DIR/$n.key"
			if [ -f "$CL_DIR/$n.listen" ]; then
				echo "Listen = $(cat "$CL_DIR/$n.listen")"
			else
				echo "Listen = 127.0.0.1:$(cat "$CL_DIR/$n.port")"
			fi
			echo "ControlSocket = $CL_DIR/$n.sock"
			echo "DataDir = $CL_DIR/$n"
			echo "Role = $(role_of "$n")"
			echo "IdleTimeout = ${CL_IDLE:-10}"
			[ -f "$CL_DIR/$n.node" ] && cat "$CL_DIR/$n.node"
			for p in "${CL_NODES[@]}"; do
				[ "$p" = "$n" ] && continue
				echo
				echo "[Peer]"
				echo "Name = $p"
				peer_line "$n" "$p" PublicKey "$(cat "$CL_DIR/$p.pub")"
				peer_line "$n" "$p" Endpoint "127.0.0.1:$(cat "$CL_DIR/$p.port")"
				peer_line "$n" "$p" Role "$(role_of "$p")"
			done
			cat "$CL_DIR/$n.extra"
			if ! grep -qi '^\[Policy\]' "$CL_DIR/$n.extra"; then
				local others=()
				for p in "${computes[@]}"; do [ "$p" != "$n" ] && others+=("$p"); done
				echo
				echo "[Policy]"
				echo "Approve = auto"
				[ "$(role_of "$n")" = compute ] &&
					echo "AllowRecipients = $(IFS=,; echo "${computes[*]}")"
				echo "AllowPeers = $(IFS=,; echo "${others[*]}")"
				if [ -f "$CL_DIR/$n.policy" ]; then cat "$CL_DIR/$n.policy"; fi
			fi
		} >"$CL_DIR/$n.conf"
	done
}

# cl_poll SECONDS CMD...: CMD every 0.05 s until it succeeds (0) or the
# deadline passes (1).
cl_poll() {
	local end=$((SECONDS + $1))
	shift
	while :; do
		"$@" && return 0
		[ $SECONDS -lt $end ] || return 1
		sleep 0.05
	done
}

# Answering, not just a socket file: a killed node leaves one behind.
cl_answers() { [ -S "$CL_DIR/$1.sock" ] && ctl "$1" peers >/dev/null 2>&1; }
cl_up_or_gone() { cl_answers "$1" || ! kill -0 "$(cat "$CL_DIR/$1.pid")" 2>/dev/null; }

cluster_start() {
	local n=$1 from pid
	touch "$CL_DIR/$n.log"
	from=$(($(wc -c <"$CL_DIR/$n.log") + 1))
	if [ -f "$CL_DIR/$n.netns" ]; then
		# ip netns exec execs mpcd: $! is the daemon's PID.
		ip netns exec "$(cat "$CL_DIR/$n.netns")" "$MPCD" -c "$CL_DIR/$n.conf" 2>>"$CL_DIR/$n.log" &
	else
		"$MPCD" -c "$CL_DIR/$n.conf" 2>>"$CL_DIR/$n.log" &
	fi
	pid=$!
	echo $pid >"$CL_DIR/$n.pid"
	cl_poll "$CL_DEADLINE" cl_up_or_gone "$n" || true
	cl_answers "$n" && return 0
	if ! kill -0 $pid 2>/dev/null && tail -c +"$from" "$CL_DIR/$n.log" | grep -q 'address already in use'; then
		rm -f "$CL_DIR/$n.pid"
		wait $pid 2>/dev/null
		free_port >"$CL_DIR/$n.port"
		return 3
	fi
	echo "mpcd $n did not start within ${CL_DEADLINE} s: $(tail -c +"$from" "$CL_DIR/$n.log" | tail -n 3)" >&2
	return 1
}

# The others' configs name the new port: every node restarts on a retry.
cluster_start_all() {
	local hook=${1:-} n rc try
	for try in 1 2 3 4 5; do
		[ -z "$hook" ] || "$hook" || return 1
		cluster_write_configs
		rc=0
		for n in "${CL_NODES[@]}"; do
			cluster_start "$n"
			rc=$?
			[ $rc -eq 0 ] || break
		done
		[ $rc -eq 3 ] || return $rc
		echo "# port of $n was taken: new ports, attempt $((try + 1))" >&2
		cluster_stop_all
	done
	return 1
}

cluster_stop() {
	local n=$1 pid
	[ -f "$CL_DIR/$n.pid" ] || return 0
	pid=$(cat "$CL_DIR/$n.pid")
	rm -f "$CL_DIR/$n.pid"
	if kill -TERM "$pid" 2>/dev/null && ! cl_poll "$CL_DEADLINE" cl_gone "$pid"; then
		echo "mpcd $n did not stop within ${CL_DEADLINE} s of SIGTERM: killed" >&2
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		echo "$?" >"$CL_DIR/$n.rc"
		return 1
	fi
	wait "$pid" 2>/dev/null
	echo $? >"$CL_DIR/$n.rc"
	return 0
}
cl_gone() { ! kill -0 "$1" 2>/dev/null; }

cluster_pid() {
	cat "$CL_DIR/$1.pid" 2>/dev/null
}

cluster_kill() {
	local n=$1 pid
	pid=$(cat "$CL_DIR/$n.pid")
	rm -f "$CL_DIR/$n.pid"
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
}

cluster_stop_all() {
	local n
	for n in "${CL_NODES[@]}"; do cluster_stop "$n"; done
}

ctl() {
	local n=$1
	shift
	if declare -F run_checked >/dev/null; then
		run_checked "$MPCCTL" -s "$CL_DIR/$n.sock" "$@"
	else
		"$MPCCTL" -s "$CL_DIR/$n.sock" "$@"
	fi
}

# cluster_wait_peers NODE N: N links up on NODE within the deadline; on
# failure the last answer (or mpcctl's error) is on stderr.
cl_count_peers() {
	local got
	got=$(ctl "$1" peers --json 2>"$CL_DIR/peers.err") || return 1
	[ "$(echo "$got" | grep -o '"connected": *true' | wc -l)" -ge "$2" ]
}
cluster_wait_peers() {
	cl_poll "$CL_DEADLINE" cl_count_peers "$1" "$2" && return 0
	echo "$1: fewer than $2 peers connected: $(ctl "$1" peers 2>&1 | head -c 600)" >&2
	return 1
}

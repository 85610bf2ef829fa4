# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# Sourced by the demo and the daemon tests: build a consortium of mpcd
# nodes on loopback under one directory, start and stop them by PID.
#
#   cluster_init DIR NODE... [dealer]   keys, configs, free ports
#   cluster_start NODE                  start (waits for the control socket)
#   cluster_stop NODE                   SIGTERM, wait, by PID
#   ctl NODE ARGS...                    mpcctl against that node
#   cluster_wait_peers NODE N           until N peers are connected
#   cluster_peer_set NODE PEER KEY VAL  override a [Peer] key in NODE's
#                                       config (empty VAL: leave it out)
#   cluster_kill NODE                   SIGKILL, by PID
#   cluster_pid NODE                    PID of a running node
#
# cluster_stop leaves the daemon's exit status in DIR/NODE.rc.
# Per node: DIR/NODE.conf, DIR/NODE.key (0600), DIR/NODE/ (DataDir),
# DIR/NODE.sock, DIR/NODE.log, DIR/NODE.pid. Extra config lines for a
# node can be put in DIR/NODE.extra (after its [Peer] sections) or
# DIR/NODE.node (inside [Node]) before cluster_write_configs.
: "${MPCD:=bin/mpcd}"
: "${MPCCTL:=bin/mpcctl}"

CL_DIR=
CL_NODES=()

free_port() {
	# Ask the kernel for a free port via a throwaway bind in python-free shell:
	# pick at random in the dynamic range and check nothing listens there.
	local p
	while :; do
		p=$((20000 + RANDOM % 20000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return
		fi
	done
}

cluster_init() {
	CL_DIR=$(cd "$1" && pwd)
	shift
	CL_NODES=("$@")
	local n
	for n in "${CL_NODES[@]}"; do
		(umask 077 && "$MPCCTL" genkey >"$CL_DIR/$n.key")
		"$MPCCTL" pubkey <"$CL_DIR/$n.key" >"$CL_DIR/$n.pub"
		free_port >"$CL_DIR/$n.port"
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
			echo "Listen = 127.0.0.1:$(cat "$CL_DIR/$n.port")"
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
			fi
		} >"$CL_DIR/$n.conf"
	done
}

cluster_start() {
	local n=$1
	"$MPCD" -c "$CL_DIR/$n.conf" 2>>"$CL_DIR/$n.log" &
	echo $! >"$CL_DIR/$n.pid"
	for _ in $(seq 1 100); do
		# Answering, not just a socket file: a killed node leaves one behind.
		[ -S "$CL_DIR/$n.sock" ] && ctl "$n" peers >/dev/null 2>&1 && return 0
		kill -0 "$(cat "$CL_DIR/$n.pid")" 2>/dev/null || break
		sleep 0.05
	done
	echo "mpcd $n did not start: $(tail -n 3 "$CL_DIR/$n.log")" >&2
	return 1
}

cluster_stop() {
	local n=$1 pid rc
	[ -f "$CL_DIR/$n.pid" ] || return 0
	pid=$(cat "$CL_DIR/$n.pid")
	rm -f "$CL_DIR/$n.pid"
	kill -TERM "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; echo $? >"$CL_DIR/$n.rc"; return 0; }
	for _ in $(seq 1 100); do
		if ! kill -0 "$pid" 2>/dev/null; then
			wait "$pid" 2>/dev/null
			echo $? >"$CL_DIR/$n.rc"
			return 0
		fi
		sleep 0.05
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	rc=$?
	echo "$rc" >"$CL_DIR/$n.rc"
	return 1
}

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
	"$MPCCTL" -s "$CL_DIR/$n.sock" "$@"
}

cluster_wait_peers() {
	local n=$1 want=$2 got
	for _ in $(seq 1 200); do
		got=$(ctl "$n" peers --json 2>/dev/null | grep -o '"connected": *true' | wc -l)
		[ "$got" -ge "$want" ] && return 0
		sleep 0.05
	done
	return 1
}

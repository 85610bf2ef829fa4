#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Integration tests of mpcd under pre-authentication attack (issue 12,
# findings 1 and 2; docs/daemon.md, "Pre-authentication limits"). Usage:
#
#   tests/daemon/test_hostile.sh MPCCTL [MPCD]
#
# alpha, beta, gamma and a dealer that only accepts links (it has no
# Endpoint for anyone). beta runs at `ulimit -n 128`. The attackers are
# tests/tools/pflood.c on 127.0.0.2..127.0.0.9 (loopback takes any 127/8
# address, so one host is eight sources; the daemons talk from 127.0.0.1):
#   - junk message 1s at 1000 a second for 25 s to the dealer; once the
#     dealer rate-limits them alpha restarts: it reconnects within 15 s and
#     a job runs; the dealer logs the flood in a few rate-limited lines
#     whose counts add up to it;
#   - 300 half-open connections held against beta (more than its fd
#     limit): jobs through beta succeed and every mpcctl call on beta does;
#   - 16 idle control connections to alpha: a 17th is refused with a
#     clear error, they are closed after the control timeout (10 s), and
#     mpcctl works again;
#   - a file descriptor limit too low for the peers, jobs and control
#     connections: mpcd refuses to start and says what it needs;
#   - stopping while 20 half-open connections are held: exit 0.
# Every flood is bounded in count and time. Every daemon must exit 0 on
# SIGTERM at the end.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/cli/lib.sh
. tests/daemon/helpers.sh "$@"
plan 19

FLOOD_PIDS=()
flood_cleanup() {
	local p
	for p in "${FLOOD_PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	cleanup
}
trap flood_cleanup EXIT

log_at() { wc -c <"$CL_DIR/$1.log"; }
log_since() { tail -c +"$(($2 + 1))" "$CL_DIR/$1.log"; }

flood_num() { grep -o "$2 [0-9.]*" "$1" | head -n 1 | grep -o '[0-9.]*$'; }

iris_job() {
	fixture_job "$1" alpha "$2" "$F/iris_logreg/expected.npy" --model gamma:iris \
		--input input=beta:iris --output "$2"
}

# beta runs with at most 128 descriptors (soft and hard): a wrapper that
# keeps the daemon's PID (exec).
wrapper() {
	cat >"$TMP/mpcd-wrap" <<EOF
#!/usr/bin/env bash
case "\$2" in */beta.conf) ulimit -n 128 || exit 1 ;; esac
exec "$REAL_MPCD" "\$@"
EOF
	chmod +x "$TMP/mpcd-wrap"
}

consortium() {
	local d=$TMP/h n
	mkdir -p "$d"
	cluster_init "$d" alpha beta gamma dealer || return 1
	dataset beta iris "$F/iris_logreg/input.npy"
	model gamma iris "$F/iris_logreg/model.onnx"
	for n in alpha beta gamma; do cluster_peer_set dealer "$n" Endpoint ""; done
	start_all && cluster_wait_peers alpha 3 && cluster_wait_peers beta 3 &&
		cluster_wait_peers gamma 3 && cluster_wait_peers dealer 3
}

# ---- finding 1: a junk handshake flood while a peer reconnects ----

# pre_auth_events FROM: the dealer's pre-authentication lines since log
# offset FROM, and what they stand for (each line one event, plus the
# similar lines it says were suppressed): "LINES EVENTS".
pre_auth_events() {
	log_since dealer "$1" | grep -E 'closed before authentication|refused a connection from' |
		awk '{ n++; if (match($0, /\(([0-9]+) similar lines suppressed\)/)) {
			s = substr($0, RSTART + 1); sub(/ .*/, "", s); e += s } }
		END { printf "%d %d\n", n, n + e }'
}
events_reach() { [ "$(pre_auth_events "$1" | cut -d' ' -f2)" -ge "$2" ]; }

junk_flood() {
	local at out pid lines events closed made t0 secs
	at=$(log_at dealer)
	"$TMP/pflood" --tcp "127.0.0.1:$(cat "$CL_DIR/dealer.port")" --from 127.0.0.2 --sources 8 \
		--junk 1000 --seconds 25 --max 30000 >"$TMP/junk.out" 2>&1 &
	pid=$!
	FLOOD_PIDS+=("$pid")
	t0=$SECONDS
	# The flood is on when the dealer rate-limits it.
	wait_until 20 eval 'log_since dealer "$at" | grep -q "too many handshakes: rate limited"'
	cluster_stop alpha
	if cluster_start alpha && wait_until 15 connected alpha dealer; then
		ok "junk flood from 8 addresses at 1000/s: alpha restarts and reconnects to the dealer within 15 s"
		wait_until 30 connected alpha beta && wait_until 30 connected alpha gamma
		iris_job "junk flood: a job with the dealer runs during the flood" alpha
	else
		not_ok "junk flood: alpha restarts and reconnects to the dealer within 15 s" \
			"$(ctl alpha peers 2>&1 | grep -A3 dealer | head -c 600)"
		not_ok "junk flood: a job with the dealer runs during the flood" "alpha is not connected"
	fi
	# It ends by itself, 25 s after it began.
	wait "$pid" 2>/dev/null
	secs=$((SECONDS - t0))
	out=$(cat "$TMP/junk.out")
	made=$(flood_num "$TMP/junk.out" connections)
	closed=$(flood_num "$TMP/junk.out" "closed by the server")
	# The last window's count is printed when it ends (up to 10 s later).
	wait_until 30 events_reach "$at" "${closed:-1}"
	read -r lines events <<<"$(pre_auth_events "$at")"
	# Per call site at most 5 lines and one count each 10 s window.
	if [ -n "$made" ] && [ "$closed" -gt 2000 ] && [ "$events" -ge "$closed" ] &&
		[ "$events" -le "$made" ] && [ "$lines" -le $((12 * (secs / 10 + 3))) ]; then
		ok "junk flood: the dealer logs it in $lines lines counting $events events ($out)"
	else
		not_ok "junk flood: the dealer logs it in few lines that count it" \
			"$lines lines, $events events in ${secs} s; flood: $out;" \
			"$(log_since dealer "$at" | grep -m3 -E 'authentication|refused')"
	fi
	if connected dealer beta && connected dealer gamma && alive dealer; then
		ok "junk flood: the dealer still serves, its other links stayed up"
	else
		not_ok "junk flood: the dealer still serves, its links are up" "$(ctl dealer peers 2>&1)"
	fi
}

# ---- finding 2: half-open connections at a low descriptor limit ----

half_open() {
	local at pid i good=0 bad="" out
	at=$(log_at beta)
	if grep -q "RLIMIT_NOFILE 128" "$CL_DIR/beta.log"; then
		ok "beta at ulimit -n 128 logs its descriptor budget"
	else
		not_ok "beta at ulimit -n 128 logs its descriptor budget" \
			"$(grep -m2 -i 'descriptor\|nofile' "$CL_DIR/beta.log")"
	fi
	"$TMP/pflood" --tcp "127.0.0.1:$(cat "$CL_DIR/beta.port")" --from 127.0.0.2 --sources 8 \
		--hold 300 --seconds 15 --max 30000 >"$TMP/hold.out" 2>&1 &
	pid=$!
	FLOOD_PIDS+=("$pid")
	# The flood holds what it may when beta refuses the rest (the old
	# daemon never says so: then go on after 10 s).
	wait_until 10 eval 'log_since beta "$at" | grep -q "refused a connection from 127.0.0"'
	iris_job "300 half-open connections held to beta (ulimit -n 128): job 1 succeeds" alpha,beta
	iris_job "300 half-open connections held to beta: job 2 succeeds" alpha,beta
	iris_job "300 half-open connections held to beta: job 3 succeeds" alpha,beta
	for i in $(seq 20); do
		if ctl beta peers >/dev/null 2>"$TMP/err"; then
			good=$((good + 1))
		else
			bad=$(cat "$TMP/err")
		fi
	done
	if [ "$good" = 20 ]; then
		ok "300 half-open connections held to beta: 20 of 20 mpcctl calls on beta succeed"
	else
		not_ok "300 half-open connections held to beta: mpcctl calls on beta succeed" \
			"$good of 20; last error: $bad"
	fi
	# It ends by itself after 15 s (three HandshakeTimeouts of beta's).
	wait "$pid" 2>/dev/null
	out=$(cat "$TMP/hold.out")
	if log_since beta "$at" | grep -q "refused a connection from 127.0.0.*unauthenticated connections" &&
		connected beta alpha && connected beta gamma && connected beta dealer && alive beta; then
		ok "half-open flood: beta refused what was over its limits and still serves ($out)"
	else
		not_ok "half-open flood: beta refused what was over its limits and still serves" \
			"$out; $(log_since beta "$at" | grep -m3 -E 'refused|open files')"
	fi
}

# ---- control connections ----

idle_control() {
	local pid out closed secs
	"$TMP/pflood" --unix "$CL_DIR/alpha.sock" --hold 16 --until-closed --seconds 40 \
		>"$TMP/ctl.out" 2>&1 &
	pid=$!
	FLOOD_PIDS+=("$pid")
	if wait_until 10 eval '! ctl alpha peers >/dev/null 2>"$TMP/err"' &&
		grep -q "too many control connections" "$TMP/err" && [ "$(wc -l <"$TMP/err")" = 1 ]; then
		ok "16 idle control connections: a 17th mpcctl call is refused in one line ($(cat "$TMP/err"))"
	else
		not_ok "16 idle control connections: a 17th mpcctl call is refused in one line" \
			"$(cat "$TMP/err")"
	fi
	wait "$pid" 2>/dev/null
	out=$(cat "$TMP/ctl.out")
	closed=$(flood_num "$TMP/ctl.out" "closed by the server")
	secs=$(flood_num "$TMP/ctl.out" seconds)
	if [ "$closed" = 16 ] && awk -v s="$secs" 'BEGIN { exit !(s >= 9 && s <= 30) }'; then
		ok "idle control connections: alpha closes all 16 after the 10 s timeout ($out)"
	else
		not_ok "idle control connections: alpha closes all 16 after the 10 s timeout" "$out"
	fi
	if ctl alpha peers >/dev/null 2>"$TMP/err"; then
		ok "idle control connections: mpcctl works again once they are closed"
	else
		not_ok "idle control connections: mpcctl works again" "$(cat "$TMP/err")"
	fi
}

# ---- the descriptor budget ----

# Too few descriptors for 3 peers, 4 jobs and 16 control connections:
# refused before anything listens, with the numbers.
fd_budget() {
	expect_fail "ulimit -n 48: mpcd refuses to start and says how many descriptors it needs" \
		LimitNOFILE bash -c 'ulimit -n 48 && exec timeout 20 "$0" -c "$1"' "$REAL_MPCD" \
		"$CL_DIR/beta.conf"
}

# ---- stopping with connections not yet authenticated ----

sockets_of() { ls -l "/proc/$1/fd" 2>/dev/null | grep -c 'socket:'; }
more_sockets() { [ "$(sockets_of "$1")" -ge "$2" ]; }

# 20 half-open connections held to the dealer while everything stops: each
# is closed (logged, rate-limited) and the daemon exits 0, with no report.
stop_with_half_open() {
	local pid base
	base=$(sockets_of "$(cluster_pid dealer)")
	"$TMP/pflood" --tcp "127.0.0.1:$(cat "$CL_DIR/dealer.port")" --from 127.0.0.2 --sources 4 \
		--hold 20 --until-closed --seconds 60 >"$TMP/stop.out" 2>&1 &
	pid=$!
	FLOOD_PIDS+=("$pid")
	wait_until 30 more_sockets "$(cluster_pid dealer)" $((base + 20))
	stop_clean "every daemon exits 0 on SIGTERM (the dealer holding 20 half-open connections), no sanitizer report"
	kill -TERM "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
}

# ---- main ----

begin
REAL_MPCD=$MPCD
wrapper
MPCD=$TMP/mpcd-wrap
if consortium; then
	ok "consortium: alpha, beta (ulimit -n 128), gamma and a dealer that only accepts"
	junk_flood
	half_open
	idle_control
	fd_budget
	stop_with_half_open
else
	not_ok "consortium: daemons connect" "$(ctl alpha peers 2>&1)"
	stop_clean "every daemon exits 0 on SIGTERM, no sanitizer report"
fi
finish

# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# Sourced by the daemon suites (tests/daemon/test_*.sh MPCCTL [MPCD]) after
# tests/cli/lib.sh: arguments, the cluster, clean-up, and the helpers that
# drive jobs and check them. Every mpcctl call goes through ctl (cluster.sh)
# and so through run_checked: a crash or a sanitizer report fails the check
# that ran it, and each daemon's log is watched the same way.
MPCCTL=$(cd "$(dirname "${1:-bin/mpcctl}")" && pwd)/$(basename "${1:-bin/mpcctl}")
MPCD=${2:-$(dirname "$MPCCTL")/mpcd}
# DAEMON_TESTS=quick (run-all.sh's ASan/UBSan run) runs the same checks:
# the suites keep their jobs small enough for it.
. tests/daemon/cluster.sh
# shellcheck disable=SC2034 # used by the suites
F=$PWD/tests/fixtures
# Sanitized daemons: report leaks, stop at the first error, log stacks.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

PROXY_PIDS=()
cleanup() {
	local p
	[ -n "$CL_DIR" ] && cluster_stop_all
	for p in "${PROXY_PIDS[@]}"; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# begin: the binaries and the tools, or every planned check fails.
begin() {
	if ! [ -x "$MPCD" ] || ! [ -x "$MPCCTL" ]; then
		not_ok "mpcd and mpcctl exist" "$MPCD, $MPCCTL"
		finish
		exit
	fi
	if ! build_tools; then
		not_ok "build tests/tools" "$(head -c 1000 "$TMP/cc.err")"
		finish
		exit
	fi
	CL_FREEPORT=$TMP/freeport
}

# jget KEY: the value of a string or number field of the JSON on stdin.
jget() {
	sed -n "s/.*\"$1\": *\(\"[^\"]*\"\|[-0-9a-z.]*\).*/\1/p" | head -n 1 | tr -d '"'
}

# field NODE JOB KEY: one field of the job's status on NODE (empty if the
# node does not know the job; a crash or sanitizer report is noted).
field() {
	ctl "$1" status "$2" --json 2>/dev/null | jget "$3"
}

# wait_until SECONDS CMD...: poll CMD every 0.1 s; 0 when it succeeded.
wait_until() {
	local end=$((SECONDS + $1))
	shift
	while [ $SECONDS -le $end ]; do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

state_is() { [ "$(field "$1" "$2" state)" = "$3" ]; }
ended() { local s; s=$(field "$1" "$2" state); [ "$s" = finished ] || [ "$s" = aborted ]; }

# connected NODE PEER: NODE's link to PEER is up.
connected() {
	local js
	js=$(ctl "$1" peers --json 2>"$TMP/peers.err") || return 1
	echo "$js" | grep "\"name\": \"$2\"" | grep -q '"connected": true'
}

alive() { kill -0 "$(cluster_pid "$1")" 2>/dev/null && ctl "$1" peers >/dev/null 2>&1; }

# submit NODE ARGS...: the job id on stdout, or fail with the error in $TMP/err.
submit() {
	local n=$1
	shift
	ctl "$n" submit "$@" 2>"$TMP/err"
}

# result_matches NAME NODE JOB EXPECTED: the job finished on NODE and its
# result there matches EXPECTED (tests/tools/npycmp.c, with $CMP_ARGS;
# the file is $TMP/JOB.NODE.$EXT, EXT npy unless set).
result_matches() {
	local name=$1 n=$2 id=$3 exp=$4 out f="$TMP/$3.$2.${EXT:-npy}"
	# shellcheck disable=SC2086
	if ! ctl "$n" wait "$id" --timeout 300 >/dev/null 2>"$TMP/err"; then
		not_ok "$name" "on $n: $(cat "$TMP/err")"
	elif ! ctl "$n" result "$id" -o "$f" 2>"$TMP/err"; then
		not_ok "$name" "result on $n: $(cat "$TMP/err")"
	elif ! out=$("$TMP/npycmp" "$f" "$exp" ${CMP_ARGS:-} 2>&1); then
		not_ok "$name" "on $n: $out"
	else
		ok "$name"
	fi
}

# fixture_job NAME PROPOSER RECIPIENTS EXPECTED SUBMIT-ARGS...: a whole job,
# the result checked on every recipient (comma list).
fixture_job() {
	local name=$1 prop=$2 recips=$3 exp=$4 id r
	shift 4
	if ! id=$(submit "$prop" "$@"); then
		not_ok "$name" "submit: $(cat "$TMP/err")"
		return
	fi
	for r in ${recips//,/ }; do
		result_matches "$name (result on $r)" "$r" "$id" "$exp"
	done
}

# no_traffic NAME JOB NODE...: the job moved no protocol bytes on any node
# that knows it (a refused job must not have sent a share of anything).
no_traffic() {
	local name=$1 id=$2 n js bad="" seen=0
	shift 2
	for n in "$@"; do
		js=$(ctl "$n" status "$id" --json 2>/dev/null) || continue
		seen=$((seen + 1))
		[ "$(echo "$js" | jget bytes_sent)" = 0 ] && [ "$(echo "$js" | jget bytes_recv)" = 0 ] ||
			bad="$bad $n($(echo "$js" | jget bytes_sent)/$(echo "$js" | jget bytes_recv))"
	done
	if [ $seen -eq 0 ] || [ -n "$bad" ]; then
		not_ok "$name" "bytes sent/received on:$bad (nodes that know the job: $seen)"
	else
		ok "$name"
	fi
}

# refused NAME PROPOSER WHY NODES SUBMIT-ARGS...: the job is refused, the
# proposer's `mpcctl status` shows a reason containing WHY, and no node
# that knows it (NODES, comma list) moved a byte of it.
refused() {
	local name=$1 prop=$2 why=$3 nodes=$4 id
	shift 4
	if ! id=$(submit "$prop" "$@"); then
		not_ok "$name" "submit: $(cat "$TMP/err")"
		return
	fi
	if ctl "$prop" wait "$id" --timeout 60 >/dev/null 2>"$TMP/err"; then
		not_ok "$name" "the job ran"
	elif ! state_is "$prop" "$id" aborted; then
		not_ok "$name" "state $(field "$prop" "$id" state): $(cat "$TMP/err")"
	elif ! ctl "$prop" status "$id" >"$TMP/st" 2>"$TMP/err" ||
		! grep '^reason:' "$TMP/st" | grep -qF -- "$why"; then
		not_ok "$name" "reason: $(field "$prop" "$id" reason)"
	else
		ok "$name"
	fi
	# shellcheck disable=SC2086
	no_traffic "$name: no bytes of the job on any node" "$id" ${nodes//,/ }
}

# still_serving NAME NODE...: each daemon runs and answers mpcctl.
still_serving() {
	local name=$1 n bad=""
	shift
	for n in "$@"; do alive "$n" || bad="$bad $n"; done
	if [ -n "$bad" ]; then not_ok "$name" "not answering:$bad"; else ok "$name"; fi
}

# stop_clean NAME: SIGTERM every node; each exits 0 within the deadline
# with no sanitizer report (ASan, UBSan, LeakSanitizer) in its stderr.
stop_clean() {
	local name=$1 n bad=""
	if [ ${#CL_NODES[@]} -eq 0 ]; then
		not_ok "$name" "no consortium"
		return
	fi
	cluster_stop_all
	for n in "${CL_NODES[@]}"; do
		[ "$(cat "$CL_DIR/$n.rc" 2>/dev/null)" = 0 ] || bad="$bad $n:exit=$(cat "$CL_DIR/$n.rc" 2>/dev/null)"
		grep -qE "$SAN_RE" "$CL_DIR/$n.log" && bad="$bad $n:sanitizer"
	done
	if [ -n "$bad" ]; then
		not_ok "$name" "$bad; $(grep -hE -m3 -A3 'ERROR|runtime error|Sanitizer' "$CL_DIR"/*.log | head -c 1500)"
	else
		ok "$name"
	fi
}

dataset() { printf '\n[Dataset]\nName = %s\nPath = %s\n' "$2" "$3" >>"$CL_DIR/$1.extra"; }
model() {
	printf '\n[Model]\nName = %s\nPath = %s\n' "$2" "$3" >>"$CL_DIR/$1.extra"
	[ $# -lt 4 ] || printf 'Weights = %s\n' "$4" >>"$CL_DIR/$1.extra"
}
policy() { printf '\n[Policy]\n%s\n' "$2" >>"$CL_DIR/$1.extra"; }

# start_all [HOOK]: configs written, every node started (cluster.sh), and
# their logs watched for sanitizer reports.
start_all() {
	local n
	cluster_start_all "${1:-}" || return 1
	for n in "${CL_NODES[@]}"; do watch_log "$CL_DIR/$n.log"; done
}

# expect_bad NAME WORD ARGS...: submit on alpha fails (exit 1 or 2, not a
# crash), prints no job id, and says why in one line containing WORD. With
# USAGE=1 the line is the first and the usage follows (exit 2).
expect_bad() {
	local name=$1 word=$2 rc lines
	shift 2
	ctl alpha submit "$@" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	lines=$(wc -l <"$TMP/err")
	if [ $rc -ne 1 ] && [ $rc -ne 2 ]; then
		not_ok "$name" "exit status $rc: $(head -c 300 "$TMP/err")"
	elif [ -s "$TMP/out" ]; then
		not_ok "$name" "printed a job id: $(cat "$TMP/out")"
	elif ! head -n 1 "$TMP/err" | grep -qF -- "$word"; then
		not_ok "$name" "first line lacks '$word': $(head -n 3 "$TMP/err")"
	elif [ "${USAGE:-0}" = 0 ] && [ "$lines" -ne 1 ]; then
		not_ok "$name" "$lines lines: $(head -c 300 "$TMP/err")"
	elif [ "${USAGE:-0}" = 1 ] && { [ $rc -ne 2 ] || ! grep -q '^usage: mpcctl' "$TMP/err"; }; then
		not_ok "$name" "exit $rc, no usage: $(head -c 300 "$TMP/err")"
	else
		ok "$name"
	fi
}

# same_end NAME JOB NODE...: the job is aborted on every NODE, with one reason.
# With CONTAINS set, the reason must contain it.
same_end() {
	local name=$1 id=$2 n r first="" bad="" reasons=""
	shift 2
	for n in "$@"; do
		r=$(field "$n" "$id" reason)
		reasons="$reasons $n:'$(field "$n" "$id" state): $r'"
		[ -z "$first" ] && first=$r
		state_is "$n" "$id" aborted && [ "$r" = "$first" ] || bad=1
	done
	case "$first" in *"${CONTAINS:-}"*) ;; *) bad=1 ;; esac
	if [ -z "$bad" ] && [ -n "$first" ]; then ok "$name"; else not_ok "$name" "$reasons"; fi
}

# dealer_end NAME JOB WANT: the dealer shows the job aborted, not finished
# (its part may be done, the job is not), with a reason containing WANT.
dealer_end() {
	local name=$1 id=$2 r
	r=$(field dealer "$id" reason)
	if state_is dealer "$id" aborted && echo "$r" | grep -qF -- "$3"; then
		ok "$name"
	else
		not_ok "$name" "dealer: '$(field dealer "$id" state): $r', want '$3'"
	fi
}


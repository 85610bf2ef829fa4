#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Soak test of mpcd: many small jobs on one consortium (alpha, beta, gamma
# and a dealer, on loopback), first back to back, then 4 at a time. Usage:
#
#   tests/daemon/test_soak.sh MPCCTL [MPCD]
#
# SOAK_JOBS jobs in each part (default 200: `make soak`; run-all.sh runs
# 100, DAEMON_TESTS=quick 24), alternately wine_mlp
# (vertical pooling, alpha's and beta's columns) and iris_logreg (beta's
# rows), model on gamma, correlations from the dealer, result to alpha.
# Every result is compared with the fixture's expected.npy (npycmp). In
# each part, each daemon's RSS (VmRSS) after the last job must be within
# 10 % of its RSS after the part's first 20 jobs, and its open file
# descriptors (/proc/PID/fd) no more than then. Before issue 12's fix 4
# jobs at a time grew a 5-12 MB daemon's RSS by 10-50 % over 100 jobs
# (glibc thread arenas that malloc_trim cannot shrink, and links' receive
# buffers kept at their largest frame: docs/hardening.md, "Soak"). The
# daemons keep `JobHistory = 16` ended jobs (the default 256 records,
# 26 KB each, would grow RSS by design until the history is full), so
# what grows is a leak. The RSS checks are skipped
# for sanitized daemons (shadow memory and ASan's quarantine grow on their
# own); the fd checks and the results are not. Each part is bounded in
# time (SOAK_SECS, default 1200 s): what did not run counts as failed.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/cli/lib.sh
. tests/daemon/helpers.sh "$@"
plan 8

if [ "${DAEMON_TESTS:-}" = quick ]; then
	JOBS=${SOAK_JOBS:-24}
else
	JOBS=${SOAK_JOBS:-200}
fi
[ "$JOBS" -ge 21 ] || JOBS=21
SECS=${SOAK_SECS:-1200}
HISTORY=16
NODES=(alpha beta gamma dealer)
SAN=
ldd "$MPCD" 2>/dev/null | grep -qE 'lib(a|t)san' && SAN=1

consortium() {
	local d=$TMP/s n
	mkdir -p "$d"
	cluster_init "$d" "${NODES[@]}" || return 1
	dataset alpha cols_a "$F/wine_mlp/input_party0.npy"
	dataset beta cols_b "$F/wine_mlp/input_party1.npy"
	dataset beta iris "$F/iris_logreg/input.npy"
	model gamma wine "$F/wine_mlp/model.onnx"
	model gamma iris "$F/iris_logreg/model.onnx"
	for n in "${NODES[@]}"; do echo "JobHistory = $HISTORY" >>"$d/$n.node"; done
	start_all || return 1
	for n in "${NODES[@]}"; do cluster_wait_peers "$n" 3 || return 1; done
}

# submit_one K: job K (wine when even, iris when odd); "ID EXPECTED" on stdout.
submit_one() {
	local id
	if [ $(($1 % 2)) = 0 ]; then
		id=$(submit alpha --model gamma:wine --input input=alpha:cols_a,beta:cols_b --output alpha \
			--offline dealer:dealer) || return 1
		echo "$id $F/wine_mlp/expected.npy"
	else
		id=$(submit alpha --model gamma:iris --input input=beta:iris --output alpha \
			--offline dealer:dealer) || return 1
		echo "$id $F/iris_logreg/expected.npy"
	fi
}

# check_one ID EXPECTED: the job finished and alpha's result is right; why
# not in $TMP/why.
check_one() {
	local f=$TMP/r.npy out
	if ! ctl alpha wait "$1" --timeout 300 >/dev/null 2>"$TMP/err"; then
		echo "job $1: $(cat "$TMP/err") ($(field alpha "$1" reason))" >"$TMP/why"
	elif ! ctl alpha result "$1" -o "$f" 2>"$TMP/err"; then
		echo "job $1: result: $(cat "$TMP/err")" >"$TMP/why"
	elif ! out=$("$TMP/npycmp" "$f" "$2" 2>&1); then
		echo "job $1: $out" >"$TMP/why"
	else
		rm -f "$f"
		return 0
	fi
	return 1
}

rss_now() { awk '/^VmRSS:/ { print $2 }' "/proc/$(cluster_pid "$1")/status" 2>/dev/null; }
# The smallest of 5 readings over a second: a request or frame being
# handled at the moment of one reading is not growth; a leak is in all.
rss() {
	local i v min=
	for i in 1 2 3 4 5; do
		v=$(rss_now "$1")
		[ -n "$v" ] && { [ -z "$min" ] || [ "$v" -lt "$min" ]; } && min=$v
		[ $i -lt 5 ] && sleep 0.2
	done
	echo "$min"
}
fds() { ls "/proc/$(cluster_pid "$1")/fd" 2>/dev/null | wc -l; }
fds_at_most() { [ "$(fds "$1")" -le "$2" ]; }

# A node's fds once idle: the jobs' sockets and files are closed at their end.
declare -A RSS0 FD0

snapshot() {
	local n
	for n in "${NODES[@]}"; do
		RSS0[$n]=$(rss "$n")
		FD0[$n]=$(fds "$n")
	done
}

# part NAME WIDTH: JOBS jobs, WIDTH at a time; snapshot after the first 20.
part() {
	local name=$1 width=$2 k=0 w i line bad=0 first="" end=$((SECONDS + SECS)) ids=() n
	local rss_bad="" fd_bad="" rss_all="" now
	while [ $k -lt "$JOBS" ] && [ $SECONDS -lt $end ]; do
		ids=()
		for ((w = 0; w < width && k + w < JOBS; w++)); do
			if line=$(submit_one $((k + w))); then
				ids+=("$line")
			else
				bad=$((bad + 1))
				[ -n "$first" ] || first="submit $((k + w)): $(cat "$TMP/err")"
			fi
		done
		for line in "${ids[@]}"; do
			# shellcheck disable=SC2086
			if ! check_one $line; then
				bad=$((bad + 1))
				[ -n "$first" ] || first=$(cat "$TMP/why")
			fi
		done
		k=$((k + w))
		if [ $k -ge 20 ] && [ $((k - w)) -lt 20 ]; then
			for line in "${ids[@]}"; do
				for n in "${NODES[@]}"; do wait_until 30 ended "$n" "${line%% *}"; done
			done
			snapshot
		fi
	done
	# The last wave ended everywhere (the dealer's part ends on Done).
	for line in "${ids[@]}"; do
		for n in "${NODES[@]}"; do wait_until 30 ended "$n" "${line%% *}"; done
	done
	if [ $k -lt "$JOBS" ]; then
		not_ok "$name: $JOBS jobs, every result right" "only $k ran in ${SECS} s (SOAK_SECS); $bad wrong: $first"
	elif [ $bad -gt 0 ]; then
		not_ok "$name: $JOBS jobs, every result right" "$bad wrong; the first: $first"
	else
		ok "$name: $JOBS jobs, every result right"
	fi
	DONE=$((DONE + k))
	for n in "${NODES[@]}"; do
		now=$(rss "$n")
		rss_all="$rss_all $n:${RSS0[$n]:-?}->${now}kB"
		[ -n "${RSS0[$n]:-}" ] && [ -n "$now" ] && [ "$now" -le $((RSS0[$n] * 11 / 10)) ] ||
			rss_bad="$rss_bad $n"
		wait_until 10 fds_at_most "$n" "${FD0[$n]:-0}" || fd_bad="$fd_bad $n:${FD0[$n]:-?}->$(fds "$n")"
	done
	if [ -n "$SAN" ]; then
		skip "$name: RSS after $JOBS jobs within 10 % of after 20 ($rss_all)" "sanitized daemons"
	elif [ -z "$rss_bad" ]; then
		ok "$name: RSS after $JOBS jobs within 10 % of after 20 ($rss_all)"
	else
		not_ok "$name: RSS after $JOBS jobs within 10 % of after 20" \
			"grew on:$rss_bad;$rss_all"
	fi
	if [ -z "$fd_bad" ]; then
		ok "$name: no more open fds after $JOBS jobs than after 20"
	else
		not_ok "$name: no more open fds after $JOBS jobs than after 20" "$fd_bad"
	fi
}

DONE=0
begin
if consortium; then
	ok "consortium: alpha, beta, gamma, dealer connect"
	t0=$SECONDS
	part "back to back" 1
	t1=$SECONDS
	part "4 at a time" 4
	echo "# $JOBS jobs back to back in $((t1 - t0)) s, $JOBS 4 at a time in $((SECONDS - t1)) s"
else
	not_ok "consortium: the daemons connect" "$(ctl alpha peers 2>&1 | head -c 600)"
fi
stop_clean "every daemon exits 0 on SIGTERM, no sanitizer report"
finish

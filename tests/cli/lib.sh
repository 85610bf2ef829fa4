# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# Helpers for the shell suites (tests/cli, tests/daemon): TAP-style output,
# one line per check ("ok N name", "not ok N name", "ok N name # SKIP why"),
# and `finish` prints "N passed, N failed, N skipped" and sets the exit status.
#
#   plan N              the suite runs exactly N checks; declared first
#   ok NAME             a check passed, unless a process it ran left a
#                       sanitizer report or crashed (then it fails)
#   not_ok NAME DETAIL  a check failed
#   skip NAME WHY       a check that cannot run here: skipped, never passed
#   run_checked CMD...  run CMD (stdout and stderr passed through) and note
#                       a sanitizer report or a crash for the next check
#   watch_log FILE      a long-lived process's log: new sanitizer reports in
#                       it fail the next check too
#   expect_fail NAME WORD CMD...  exit 1..127, one stderr line with WORD
#   build_tools         tests/tools into $TMP (npycmp, tproxy, freeport, pflood)
#   finish              a missing or short plan counts as failed checks
PASS=0
FAIL=0
SKIP=0
PLAN=
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
# What a sanitizer prints: ASan, LeakSanitizer, UBSan, TSan.
SAN_RE='ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|WARNING: ThreadSanitizer|SUMMARY: [A-Za-z]+Sanitizer'
WATCHED=()
declare -A WATCH_OFF

# Reports waiting for the next check, in $TMP/pending.
note_problem() { echo "$*" >>"$TMP/pending"; }

# run_checked CMD...: CMD's exit status; a crash (killed by a signal) or a
# sanitizer report on its stderr is noted for the next check.
run_checked() {
	local e rc
	e=$(mktemp "$TMP/stderr.XXXXXX")
	"$@" 2>"$e"
	rc=$?
	cat "$e" >&2
	if [ $rc -ge 128 ] || grep -qE "$SAN_RE" "$e"; then
		note_problem "'$*' exit $rc: $(grep -E -m1 -A4 "$SAN_RE" "$e" | head -c 600)"
	fi
	rm -f "$e"
	return $rc
}

watch_log() {
	WATCHED+=("$1")
	WATCH_OFF[$1]=0
}

# New sanitizer reports in the watched logs since the last check.
scan_watched() {
	local f size
	for f in "${WATCHED[@]}"; do
		[ -f "$f" ] || continue
		size=$(wc -c <"$f")
		if [ "$size" -gt "${WATCH_OFF[$f]}" ]; then
			tail -c +"$((WATCH_OFF[$f] + 1))" "$f" | head -c $((size - WATCH_OFF[$f])) >"$TMP/new"
			grep -qE "$SAN_RE" "$TMP/new" &&
				note_problem "$f: $(grep -E -m1 -A4 "$SAN_RE" "$TMP/new" | head -c 600)"
		fi
		WATCH_OFF[$f]=$size
	done
}

# The checks' output lines. An ok with a pending report is a failure.
report_pending() {
	scan_watched
	[ -s "$TMP/pending" ] || return 1
	return 0
}
ok() {
	if report_pending; then
		local why
		why=$(head -c 1500 "$TMP/pending")
		rm -f "$TMP/pending"
		not_ok "$1" "sanitizer report or crash: $why"
		return
	fi
	PASS=$((PASS + 1))
	echo "ok $((PASS + FAIL + SKIP)) $1"
}
not_ok() {
	FAIL=$((FAIL + 1))
	echo "not ok $((PASS + FAIL + SKIP)) $1"
	shift
	[ $# -gt 0 ] && printf '%s\n' "$*" | head -c 3000 | sed 's/^/# /'
	if [ -s "$TMP/pending" ]; then
		head -c 1500 "$TMP/pending" | sed 's/^/# pending: /'
		rm -f "$TMP/pending"
	fi
	return 0
}
skip() {
	SKIP=$((SKIP + 1))
	echo "ok $((PASS + FAIL + SKIP)) $1 # SKIP $2"
}

# expect_fail NAME WORD CMD...: non-zero exit, exactly one line on stderr
# that contains WORD, and no crash (exit status below 128).
expect_fail() {
	local name=$1 word=$2
	shift 2
	run_checked "$@" >"$TMP/out" 2>"$TMP/err"
	local rc=$?
	local lines
	lines=$(wc -l <"$TMP/err")
	if [ $rc -eq 0 ] || [ $rc -ge 128 ]; then
		not_ok "$name" "exit status $rc: $(head -c 300 "$TMP/err")"
	elif [ "$lines" -ne 1 ]; then
		not_ok "$name" "$lines lines on stderr: $(head -c 300 "$TMP/err")"
	elif ! grep -q -- "$word" "$TMP/err"; then
		not_ok "$name" "stderr lacks '$word': $(cat "$TMP/err")"
	else
		ok "$name"
	fi
}

# build_tools: the test tools, built from their sources into $TMP so the
# suites need no make rule. The C file names the objects it needs.
build_tools() {
	local cflags="-std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror"
	# shellcheck disable=SC2086
	cc $cflags -I. -Icrypto -Imodel tests/tools/npycmp.c model/npy.c model/ftensor.c \
		model/csv.c crypto/err.c crypto/rd.c -lm -o "$TMP/npycmp" 2>"$TMP/cc.err" &&
		cc $cflags tests/tools/tproxy.c -o "$TMP/tproxy" 2>>"$TMP/cc.err" &&
		cc $cflags tests/tools/freeport.c -o "$TMP/freeport" 2>>"$TMP/cc.err" &&
		cc $cflags tests/tools/pflood.c -o "$TMP/pflood" 2>>"$TMP/cc.err"
}

# plan N: the suite will run exactly N checks (TAP "1..N"); declared first.
plan() { PLAN=$1; echo "1..$1"; }

# finish: a missing plan, or fewer or more checks than planned, fails; so
# does a report no check took (a process between checks).
finish() {
	local ran
	report_pending && not_ok "no sanitizer report or crash after the last check"
	ran=$((PASS + FAIL + SKIP))
	if [ -z "$PLAN" ]; then
		not_ok "plan declared" "the suite never called plan N"
	elif [ "$ran" -lt "$PLAN" ]; then
		echo "# planned $PLAN checks, ran $ran: $((PLAN - ran)) counted as failed"
		FAIL=$((FAIL + PLAN - ran))
	elif [ "$ran" -gt "$PLAN" ]; then
		not_ok "plan matches" "planned $PLAN checks, ran $ran"
	fi
	echo "$PASS passed, $FAIL failed, $SKIP skipped"
	[ "$FAIL" -eq 0 ]
}

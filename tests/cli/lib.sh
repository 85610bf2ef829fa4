# SPDX-License-Identifier: MIT
# Helpers for command-line tests: each check prints "ok" or "not ok" with
# its name; `finish` prints "N passed, N failed" and sets the exit status.
PASS=0
FAIL=0
PLAN=
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

ok() { PASS=$((PASS + 1)); echo "ok $((PASS + FAIL)) $1"; }
not_ok() { FAIL=$((FAIL + 1)); echo "not ok $((PASS + FAIL)) $1"; shift; [ $# -gt 0 ] && echo "# $*"; }

# expect_fail NAME WORD CMD...: non-zero exit, exactly one line on stderr
# that contains WORD, and no crash (exit status below 128).
expect_fail() {
	local name=$1 word=$2
	shift 2
	"$@" >"$TMP/out" 2>"$TMP/err"
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

# plan N: the suite will run exactly N checks (TAP "1..N"); declared first.
plan() { PLAN=$1; echo "1..$1"; }

# finish: a missing plan, or fewer or more checks than planned, fails.
finish() {
	local ran=$((PASS + FAIL))
	if [ -z "$PLAN" ]; then
		not_ok "plan declared" "the suite never called plan N"
	elif [ "$ran" -lt "$PLAN" ]; then
		echo "# planned $PLAN checks, ran $ran: $((PLAN - ran)) counted as failed"
		FAIL=$((FAIL + PLAN - ran))
	elif [ "$ran" -gt "$PLAN" ]; then
		not_ok "plan matches" "planned $PLAN checks, ran $ran"
	fi
	echo "$PASS passed, $FAIL failed"
	[ "$FAIL" -eq 0 ]
}

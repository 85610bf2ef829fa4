# SPDX-License-Identifier: MIT
# Helpers for command-line tests: each check prints "ok" or "not ok" with
# its name; `finish` prints "N passed, N failed" and sets the exit status.
PASS=0
FAIL=0
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

finish() {
	echo "$PASS passed, $FAIL failed"
	[ "$FAIL" -eq 0 ]
}

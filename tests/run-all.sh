#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs every suite and ends with one "N passed, N failed" line for CI:
#   1. unit, protocol and model tests (bin/test-runner), optimised build;
#   2. the same under ASan/UBSan (the 10^7-truncation test only once, above);
#   3. command-line tests of mpcctl (tests/cli/*.sh), plain and sanitized;
#   4. daemons on loopback (tests/daemon/test_daemon.sh): every test with the
#      optimised build, and the jobs, policy and bad-request part with
#      ASan/UBSan daemons (DAEMON_TESTS=quick: the fault tests' LeNet jobs
#      would take minutes there).
set -u
cd "$(dirname "$0")/.." || exit 1

total_pass=0
total_fail=0
count() {
	local line
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$1" | tail -n 1)
	if [ -z "$line" ]; then
		echo "# $2: no summary line (crashed?)"
		total_fail=$((total_fail + 1))
		return
	fi
	total_pass=$((total_pass + $(echo "$line" | cut -d' ' -f1)))
	total_fail=$((total_fail + $(echo "$line" | cut -d' ' -f3)))
}

run() {
	local name=$1
	shift
	local log
	log=$(mktemp)
	echo "== $name"
	"$@" 2>&1 | tee "$log" | grep -Ev '^ok ' || true
	count "$log" "$name"
	rm -f "$log"
}

run "unit (optimised)" bin/test-runner
run "unit (ASan/UBSan)" env ASAN_OPTIONS=detect_leaks=1 build/san/bin/test-runner -proto_trunc_1e7
for t in tests/cli/test_*.sh; do
	run "$(basename "$t" .sh)" bash "$t" bin/mpcctl
	run "$(basename "$t" .sh) (ASan/UBSan)" bash "$t" build/san/bin/mpcctl
done
run "daemon" bash tests/daemon/test_daemon.sh bin/mpcctl bin/mpcd
run "daemon (ASan/UBSan)" env DAEMON_TESTS=quick bash tests/daemon/test_daemon.sh \
	build/san/bin/mpcctl build/san/bin/mpcd

echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]

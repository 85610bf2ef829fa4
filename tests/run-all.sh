#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs every suite and ends with one "N passed, N failed, N skipped" line
# for CI (which greps '^[0-9]+ passed, [0-9]+ failed'):
#   1. unit, protocol and model tests (bin/test-runner), optimised build;
#   2. the same under ASan/UBSan (the 10^7-truncation test only once, above);
#   3. command-line suites (tests/cli/test_*.sh MPCCTL), plain and sanitized;
#      ONNX's backend node tests (tests/onnx_node/run.sh; skipped where
#      python3-onnx is missing);
#   4. daemon suites (tests/daemon/test_*.sh MPCCTL MPCD; test_netns.sh
#      across network namespaces, skipped where they cannot be made):
#      every test with the optimised build, DAEMON_TESTS=quick with
#      ASan/UBSan daemons and again with ThreadSanitizer daemons
#      (build/tsan: any report fails the check that saw it); test_soak.sh
#      with SOAK_JOBS=100 (`make soak`: 200);
#   5. the fuzz targets: every committed corpus replayed, then each target
#      fuzzed FUZZ_CI_SECS (default 15) seconds (tests/fuzz/ci.sh);
#   6. the mutation smoke test, tests/mutate/run.sh, when it exists.
# A suite counts what it printed, and one failure more when it exited
# non-zero, printed no summary line or ran out of time. Each suite has its
# own timeout, and the whole run one budget (RUN_ALL_TIMEOUT seconds,
# default 2700): a suite that cannot start in time counts as failed.
set -u
cd "$(dirname "$0")/.." || exit 1

total_pass=0
total_fail=0
total_skip=0
budget_end=$((SECONDS + ${RUN_ALL_TIMEOUT:-2700}))

# count LOG RC NAME: add the suite's summary line, and a failure for a bad
# exit status or a missing summary.
count() {
	local line p f s
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$1" | tail -n 1)
	if [ -z "$line" ]; then
		echo "# $3: no summary line (exit status $2)"
		total_fail=$((total_fail + 1))
		return
	fi
	p=$(echo "$line" | cut -d' ' -f1)
	f=$(echo "$line" | cut -d' ' -f3)
	s=$(echo "$line" | sed -n 's/.* \([0-9][0-9]*\) skipped.*/\1/p')
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
	total_skip=$((total_skip + ${s:-0}))
	if [ "$2" = 124 ] || [ "$2" = 137 ]; then
		echo "# $3: timed out (exit status $2): counted as a failure"
		total_fail=$((total_fail + 1))
	elif [ "$2" != 0 ] && [ "$f" = 0 ]; then
		echo "# $3: exit status $2 with 0 failed: counted as a failure"
		total_fail=$((total_fail + 1))
	elif [ "$2" = 0 ] && [ "$f" != 0 ]; then
		echo "# $3: exit status 0 with $f failed"
	fi
}

# run NAME SECONDS CMD...: CMD under a timeout (within the overall
# budget); its "ok" lines are hidden, the rest is shown as it comes.
run() {
	local name=$1 secs=$2 left log rc t0=$SECONDS
	shift 2
	left=$((budget_end - SECONDS))
	echo "== $name"
	if [ "$left" -le 0 ]; then
		echo "# $name: not run, the overall budget (RUN_ALL_TIMEOUT) is spent"
		total_fail=$((total_fail + 1))
		return
	fi
	[ "$secs" -le "$left" ] || secs=$left
	log=$(mktemp)
	{
		timeout -k 10 "$secs" "$@" 2>&1
		echo "$?" >"$log.rc"
	} | tee "$log" | awk '!/^ok [0-9]+ / || /# SKIP/ { print; fflush() }'
	rc=$(cat "$log.rc" 2>/dev/null || echo 1)
	count "$log" "$rc" "$name"
	echo "# $name: $((SECONDS - t0)) s"
	rm -f "$log" "$log.rc"
}

run "unit (optimised)" 900 bin/test-runner
run "unit (ASan/UBSan)" 900 env ASAN_OPTIONS=detect_leaks=1 build/san/bin/test-runner -proto_trunc_1e7
for t in tests/cli/test_*.sh; do
	run "$(basename "$t" .sh)" 300 bash "$t" bin/mpcctl
	run "$(basename "$t" .sh) (ASan/UBSan)" 600 bash "$t" build/san/bin/mpcctl
done
run "ONNX node tests (tests/onnx_node/run.sh)" 300 bash tests/onnx_node/run.sh bin/mpcctl
# ThreadSanitizer: reports go to stderr (the daemons' logs, watched by the
# suites); the daemon goes on and exits 66 at the end. No suppressions:
# none has been needed (libuv, libsodium and glibc gave no report).
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=0 second_deadlock_stack=1 exitcode=66}
for t in tests/daemon/test_*.sh; do
	run "$(basename "$t" .sh)" 600 env SOAK_JOBS=${SOAK_JOBS:-100} bash "$t" bin/mpcctl bin/mpcd
	run "$(basename "$t" .sh) (ASan/UBSan)" 900 env DAEMON_TESTS=quick bash "$t" \
		build/san/bin/mpcctl build/san/bin/mpcd
	if [ -x build/tsan/bin/mpcd ]; then
		run "$(basename "$t" .sh) (TSan)" 900 env DAEMON_TESTS=quick bash "$t" \
			build/tsan/bin/mpcctl build/tsan/bin/mpcd
	fi
done
run "fuzz corpora replayed" 300 bash tests/fuzz/ci.sh replay
run "fuzz targets, ${FUZZ_CI_SECS:-15} s each" 600 bash tests/fuzz/ci.sh fuzz
if [ -f tests/mutate/run.sh ]; then
	run "mutants (tests/mutate/run.sh)" 900 bash tests/mutate/run.sh
fi

echo "$total_pass passed, $total_fail failed, $total_skip skipped"
[ "$total_fail" -eq 0 ]

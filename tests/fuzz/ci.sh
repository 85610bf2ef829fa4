#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The fuzz targets in `make test` (tests/run-all.sh). Usage:
#
#   tests/fuzz/ci.sh replay     every committed corpus (tests/fuzz/corpus/
#                               <target>/) run once through its target: the
#                               libFuzzer build (build/fuzz/, -runs=0) or,
#                               without clang, the gcc ASan/UBSan driver
#                               (build/fuzz-replay/, tests/fuzz/replay.c)
#   tests/fuzz/ci.sh fuzz       each libFuzzer target fuzzed for
#                               FUZZ_CI_SECS seconds (default 15) from a
#                               copy of its corpus; skipped without clang
#
# One check per target: exit status 0, no crash, no sanitizer report, and
# (replay) every file of the corpus run. A crash leaves its input in
# build/fuzz/ci/crash-* (`build/fuzz/fuzz_T FILE` replays it).
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/cli/lib.sh

TARGETS=(npy csv st onnx chan cfg wire)
MODE=${1:-replay}
SECS=${FUZZ_CI_SECS:-15}
plan ${#TARGETS[@]}

# The corpus is never written: fuzzing works on a copy.
for t in "${TARGETS[@]}"; do
	corpus=tests/fuzz/corpus/$t
	n=$(find "$corpus" -type f 2>/dev/null | wc -l)
	if [ "$n" -eq 0 ]; then
		not_ok "$t: a committed corpus" "$corpus is empty or missing"
		continue
	fi
	if [ "$MODE" = replay ]; then
		if [ -x "build/fuzz/fuzz_$t" ]; then
			run_checked "build/fuzz/fuzz_$t" -runs=0 "$corpus" >"$TMP/out" 2>&1
			rc=$?
			ran=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$TMP/out")
			how="libFuzzer -runs=0"
		elif [ -x "build/fuzz-replay/fuzz_$t" ]; then
			run_checked "build/fuzz-replay/fuzz_$t" "$corpus" >"$TMP/out" 2>&1
			rc=$?
			ran=$(sed -n 's/^replayed \([0-9]*\) inputs.*/\1/p' "$TMP/out")
			how="gcc ASan/UBSan replay"
		else
			not_ok "$t: corpus replayed" "neither build/fuzz/fuzz_$t nor build/fuzz-replay/fuzz_$t"
			continue
		fi
		# libFuzzer counts one run more than the files (the empty input).
		if [ "$rc" -eq 0 ] && [ -n "$ran" ] && [ "$ran" -ge "$n" ]; then
			ok "$t: $n corpus files replayed, no crash ($how)"
		else
			not_ok "$t: $n corpus files replayed, no crash ($how)" \
				"exit $rc, ran '$ran': $(grep -E -m1 -A8 "$SAN_RE|ERROR|deadly|crash" "$TMP/out" | head -c 1500)"
		fi
	else
		if ! [ -x "build/fuzz/fuzz_$t" ]; then
			skip "$t: fuzzed ${SECS} s" "no libFuzzer build (clang missing; MPC_WITH_FUZZ=1 make deps)"
			continue
		fi
		mkdir -p "$TMP/c_$t" build/fuzz/ci
		cp "$corpus"/* "$TMP/c_$t/"
		ml=
		case $t in chan | cfg | csv | wire) ml=-max_len=4096 ;; esac
		# shellcheck disable=SC2086
		run_checked "build/fuzz/fuzz_$t" -max_total_time="$SECS" $ml -timeout=10 -rss_limit_mb=1024 \
			-artifact_prefix=build/fuzz/ci/ "$TMP/c_$t" >"$TMP/out" 2>&1
		rc=$?
		execs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$TMP/out")
		if [ "$rc" -eq 0 ] && [ -n "$execs" ]; then
			ok "$t: fuzzed ${SECS} s, $execs executions, no crash"
		else
			not_ok "$t: fuzzed ${SECS} s, no crash" \
				"exit $rc: $(grep -E -m1 -A12 "$SAN_RE|ERROR|deadly|Test unit written" "$TMP/out" | head -c 2000)"
		fi
	fi
done
finish

#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Jobs in chunks of rows between daemons (issue 9): daemons as processes
# on loopback, driven with mpcctl. Usage:
#
#   tests/daemon/test_chunk.sh MPCCTL [MPCD]
#
# Five daemons (alpha, beta, gamma, mu with JobMemory 16 MiB, dealer):
# fixture jobs in chunks of 1, 7 and 64 rows and the size the proposer
# picks, with 2 and 3 parties, pooled by rows (chunks that cross a part)
# and by columns, each result against its expected.npy; the progress in
# rows; a model one row of which does not fit in mu's JobMemory, refused
# with the numbers on every node (mu proposing, and mu asked) with no byte
# moved; a recipient killed mid-job leaves its .part, removed when it
# starts again; then SIGTERM. The same in every mode (DAEMON_TESTS=quick too).
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/cli/lib.sh
. tests/daemon/helpers.sh "$@"
plan 24

consortium() {
	local d=$TMP/c n
	mkdir -p "$d" "$d/wide"
	cluster_init "$d" alpha beta gamma mu dealer || return 1
	"$TMP/npycmp" --split-rows 27 "$F/tiny_cnn/input.npy" "$d/tiny_top.npy" "$d/tiny_bottom.npy" ||
		return 1
	# A 1024-2048-10 MLP: its weights alone (16 MiB of words, kept twice
	# by each party for the job) are over mu's JobMemory for a single row.
	cc -std=c11 -D_GNU_SOURCE -O2 -Ibuild/gen tests/tools/mkmlp.c build/gen/onnx.pb-c.c \
		-lprotobuf-c -lm -o "$TMP/mkmlp" 2>"$TMP/cc.err" &&
		"$TMP/mkmlp" "$d/wide" 0 1 1024 2048 10 && "$TMP/mkmlp" "$d" 4 1 1024 4 ||
		return 1
	# LeNet on 16 rows: over mu's 16 MiB in one chunk, a few rows fit.
	"$TMP/npycmp" --random 3 "$d/r16.npy" 16 1 28 28 &&
		"$TMP/npycmp" --random 4 "$d/r2k.npy" 2000 1 28 28 &&
		run_checked "$MPCCTL" simulate --model bench/models/lenet.onnx --input input="$d/r16.npy" \
			--parties 3 -o "$d/lenet_r16.npy" >"$d/sim.log" 2>&1 || return 1
	dataset alpha tiny_top "$d/tiny_top.npy"
	dataset alpha cols_a "$F/wine_mlp/input_party0.npy"
	dataset beta tiny_bottom "$d/tiny_bottom.npy"
	dataset beta digits "$F/digits_mlp/input.npy"
	dataset beta iris "$F/iris_logreg/input.npy"
	dataset beta r2k "$d/r2k.npy"
	dataset beta tiny "$F/tiny_cnn/input.npy"
	dataset gamma cols_b "$F/wine_mlp/input_party1.npy"
	dataset mu wide_rows "$d/part0.npy"
	dataset mu r16 "$d/r16.npy"
	model gamma lenet "$PWD/bench/models/lenet.onnx"
	model alpha digits_mlp "$F/digits_mlp/model.onnx"
	model gamma tiny_cnn "$F/tiny_cnn/model_noweights.onnx" "$F/tiny_cnn/weights.safetensors"
	model gamma wine "$F/wine_mlp/model.onnx"
	model gamma iris "$F/iris_logreg/model.onnx"
	model gamma resavg "$F/digits_resavg/model.onnx"
	model gamma wide "$d/wide/model.onnx"
	echo "JobMemory = 16M" >"$d/mu.node"
	start_all || return 1
	for n in alpha beta gamma mu; do cluster_wait_peers $n 4 || return 1; done
}

# A job's rows on NODE: rows_done reached rows_total, in CHUNKS chunks of ROWS.
rows_seen() {
	local name=$1 n=$2 id=$3 chunks=$4 rows=$5 js
	js=$(ctl "$n" status "$id" --json 2>/dev/null)
	if [ "$(echo "$js" | jget rows_done)" = 64 ] && [ "$(echo "$js" | jget rows_total)" = 64 ] &&
		[ "$(echo "$js" | jget chunks)" = "$chunks" ] &&
		[ "$(echo "$js" | jget chunk_rows)" = "$rows" ] &&
		[ "$(echo "$js" | jget daemon_peak_rss)" -gt 0 ] 2>/dev/null; then
		ok "$name"
	else
		not_ok "$name" "$(echo "$js" | grep -E 'rows|chunk|rss')"
	fi
}

chunk_jobs() {
	local id
	# 2 parties: alpha (model) and beta (data); 64 rows in 10 chunks, the last of 1.
	if id=$(submit alpha --model alpha:digits_mlp --input input=beta:digits --output alpha,beta \
		--chunk-rows 7); then
		result_matches "digits_mlp, 2 parties, chunks of 7 rows (result on alpha)" alpha "$id" \
			"$F/digits_mlp/expected.npy"
		result_matches "digits_mlp, 2 parties, chunks of 7 rows (result on beta)" beta "$id" \
			"$F/digits_mlp/expected.npy"
		rows_seen "progress: rows_done reaches rows_total, 10 chunks of 7 (alpha)" alpha "$id" 10 7
		rows_seen "progress: the same on beta, which only holds data" beta "$id" 10 7
		if [ -z "$(find "$CL_DIR/alpha/results" -name '*.part')" ]; then
			ok "the result file was written in place of its .part, none left"
		else
			not_ok "the result file was written in place of its .part" "$(ls "$CL_DIR/alpha/results")"
		fi
	else
		for id in 1 2 3 4 5; do not_ok "digits_mlp in chunks of 7: submit" "$(cat "$TMP/err")"; done
	fi
	# 3 parties, rows in two parts (27 + 37): chunks of one row each.
	fixture_job "tiny_cnn, 3 parties, rows alpha+beta, chunks of 1 row" beta beta \
		"$F/tiny_cnn/expected.npy" --model gamma:tiny_cnn \
		--input input=alpha:tiny_top+beta:tiny_bottom --output beta --chunk-rows 1
	fixture_job "wine_mlp, 3 parties, columns alpha,gamma, one chunk of 64 rows" alpha alpha \
		"$F/wine_mlp/expected.npy" --model gamma:wine --input input=alpha:cols_a,gamma:cols_b \
		--output alpha --chunk-rows 64
	fixture_job "digits_resavg, 3 parties, chunks of 7 rows" alpha alpha \
		"$F/digits_resavg/expected.npy" --model gamma:resavg --input input=beta:tiny \
		--output alpha --chunk-rows 7
	# No --chunk-rows: alpha picks from its JobMemory (all 64 rows fit in 1 GiB).
	if id=$(submit alpha --model gamma:iris --input input=beta:iris --output alpha); then
		result_matches "iris_logreg, chunk size picked by the proposer" alpha "$id" \
			"$F/iris_logreg/expected.npy"
		rows_seen "the proposer's pick: one chunk of 64 rows at JobMemory 1 GiB" alpha "$id" 1 64
	else
		not_ok "iris_logreg, picked chunk size: submit" "$(cat "$TMP/err")"
		not_ok "the proposer's pick" "no job"
	fi
}

# alpha picks chunks that fit mu's JobMemory (from mu's answer), not its own.
smallest_memory() {
	local id js
	if ! id=$(submit alpha --model gamma:lenet --input input=mu:r16 --output alpha); then
		not_ok "LeNet on mu's 16 rows: submit" "$(cat "$TMP/err")"
		not_ok "chunks that fit mu" "no job"
		return
	fi
	result_matches "LeNet on mu's 16 rows, 3 parties, in chunks the proposer picked" alpha "$id" \
		"$CL_DIR/lenet_r16.npy"
	js=$(ctl mu status "$id" --json 2>/dev/null)
	if [ "$(echo "$js" | jget chunks)" -gt 1 ] 2>/dev/null &&
		[ "$(echo "$js" | jget job_memory_estimate)" -le $((16 << 20)) ] &&
		[ "$(echo "$js" | jget job_peak_material)" -gt 0 ] &&
		[ "$(echo "$js" | jget job_peak_material)" -le "$(echo "$js" | jget job_memory_estimate)" ]; then
		ok "alpha picked chunks that fit mu's 16 MiB (the plan and mu's peak of material within it)"
	else
		not_ok "alpha picked chunks that fit mu's 16 MiB" "$(echo "$js" | grep -E 'chunk|material|estimate')"
	fi
}

# wait into a pipe: a line per chunk with the rows, the last with the rate.
wait_lines() {
	local id out
	if ! id=$(submit alpha --model alpha:digits_mlp --input input=beta:digits --output alpha \
		--chunk-rows 16); then
		not_ok "mpcctl wait in a pipe shows rows and the rate" "submit: $(cat "$TMP/err")"
		return
	fi
	out=$(ctl alpha wait "$id" --timeout 120 2>&1 | cat)
	if echo "$out" | tail -n 1 | grep -qE "finished, 64 rows in 4 chunks, [0-9.]+ rows/s" &&
		! echo "$out" | grep -q "layer"; then
		ok "mpcctl wait in a pipe shows rows and the rate, no line per layer"
	else
		not_ok "mpcctl wait in a pipe shows rows and the rate" "$out"
	fi
	if ctl alpha status "$id" >"$TMP/st" 2>"$TMP/err" &&
		grep -qE '^rows: +64 of 64 done, chunk 4 of 4 \(16 rows each\)' "$TMP/st" &&
		grep -qE '^memory: +daemon peak RSS [0-9.]+ [KMG]?B' "$TMP/st"; then
		ok "mpcctl status shows the rows and the peak memory"
	else
		not_ok "mpcctl status shows the rows and the peak memory" "$(cat "$TMP/st" "$TMP/err")"
	fi
}

# One row of the wide model does not fit in mu's 16 MiB.
too_big() {
	local id n
	refused "mu proposes a job one row of which does not fit its JobMemory: refused before Start" \
		mu "mu: one row needs" mu,gamma,dealer \
		--model gamma:wide --input input=mu:wide_rows --output mu
	if grep -qE "one row needs [0-9]+ MiB of correlated randomness and buffers per party, the JobMemory of mu is 16 MiB" \
		"$TMP/st"; then
		ok "the refusal has the numbers (MiB per party, JobMemory)"
	else
		not_ok "the refusal has the numbers" "$(grep reason "$TMP/st")"
	fi
	# alpha (1 GiB) proposes: mu's answer told it mu's JobMemory.
	if ! id=$(submit alpha --model gamma:wide --input input=mu:wide_rows --output alpha); then
		not_ok "mu refuses a job alpha proposed" "submit: $(cat "$TMP/err")"
		not_ok "no bytes" "no job"
		return
	fi
	for n in alpha gamma mu dealer; do wait_until 60 ended "$n" "$id"; done
	CONTAINS="alpha: one row needs" same_end \
		"alpha refuses a job one row of which is over mu's JobMemory: aborted everywhere, one reason" \
		"$id" alpha gamma mu dealer
	no_traffic "no bytes of that job on any node" "$id" alpha gamma mu dealer
}

part_left() { [ -n "$(find "$CL_DIR/alpha/results" -name '*.npy.part')" ]; }

# alpha, a recipient, killed while its result is being written: the .part
# stays; alpha removes it when it starts again (and says so).
killed_part() {
	local id n from
	if ! id=$(submit alpha --model gamma:lenet --input input=beta:r2k --output alpha \
		--chunk-rows 8); then
		not_ok "a recipient killed mid-job leaves its .part" "submit: $(cat "$TMP/err")"
		not_ok "the .part is removed at start-up" "no job"
		return
	fi
	if wait_until 120 part_left; then
		cluster_kill alpha
	fi
	if part_left && [ ! -e "$CL_DIR/alpha/results/$id.npy" ]; then
		ok "a recipient killed mid-job leaves results/ID.npy.part"
	else
		not_ok "a recipient killed mid-job leaves results/ID.npy.part" \
			"$(ls "$CL_DIR/alpha/results"; ctl alpha status "$id" 2>&1 | head -n 3)"
	fi
	for n in beta gamma dealer; do wait_until 60 ended "$n" "$id"; done
	from=$(($(wc -c <"$CL_DIR/alpha.log") + 1))
	if cluster_start alpha && ! part_left &&
		tail -c +"$from" "$CL_DIR/alpha.log" | grep -q "removed .*/results/$id.npy.part: the partial result"; then
		ok "alpha removes the .part when it starts again, and logs it"
	else
		not_ok "alpha removes the .part when it starts again" \
			"$(ls "$CL_DIR/alpha/results"; tail -c +"$from" "$CL_DIR/alpha.log" | tail -n 3)"
	fi
	for n in beta gamma mu; do wait_until 30 connected alpha "$n"; done
}

bad_chunk_rows() {
	USAGE=0 expect_bad "submit --chunk-rows 0 is refused by mpcctl" "--chunk-rows '0'" \
		--model gamma:iris --input input=beta:iris --output alpha --chunk-rows 0
}

# ---- main ----

begin
if consortium; then
	ok "five daemons connect (mu with JobMemory 16 MiB)"
	chunk_jobs
	smallest_memory
	wait_lines
	too_big
	bad_chunk_rows
	killed_part
else
	not_ok "five daemons connect" "$(cat "$TMP/cc.err" 2>/dev/null; tail -n 3 "$CL_DIR"/*.log)"
fi
stop_clean "every daemon exits 0 on SIGTERM, no sanitizer report"
finish

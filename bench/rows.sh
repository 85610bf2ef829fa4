#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Real-sized jobs through daemons (issue 9), called by bench/run.sh and
# runnable alone (after `make bin/mpcctl bin/mpcd bin/mpc-bench`):
#
#   bash bench/rows.sh [OUT.jsonl]
#
# Each workload on a fresh consortium on loopback (so each daemon's peak
# RSS, VmHWM, is that job's), default JobMemory (1 GiB), chunks picked by
# the proposer:
#   lenet_rows      Fashion-MNIST LeNet over BENCH_LENET_ROWS (10,000; 0
#                   skips it) random rows, 2 compute daemons + dealer, then 3;
#   lenet_threads   LeNet over BENCH_THREADS_ROWS (2,000; 0 skips it)
#                   rows, 2 compute daemons + dealer, every node at
#                   [Node] Threads = 1, then 2 (BENCH_THREADS_REPS pairs,
#                   1): the same job's rows/s, bytes and rounds;
#   mlp_tabular     a 30-16-2 MLP over BENCH_TABULAR_ROWS (10^6, about
#                   30 s here) rows, three institutions holding 10
#                   columns each (vertical pooling), checked against the
#                   plaintext model;
#   resavg28        `mpcctl simulate` (one process, 3 parties) of the
#                   residual average-pool CNN (bench/models/resavg28.onnx)
#                   over BENCH_RESAVG_ROWS (1,000; 0 skips it) rows: the
#                   whole process's peak RSS.
# BENCH_CHUNK_ROWS=N imposes chunks of N rows. End to end is submit to
# `mpcctl wait` returning: setup, offline, the weights phase and every
# chunk. One JSON object per line.
set -u
cd "$(dirname "$0")/.."
. tests/daemon/cluster.sh
OUT=${1:-build/bench/rows.jsonl}
mkdir -p "$(dirname "$OUT")"
ROWS_LENET=${BENCH_LENET_ROWS:-10000}
ROWS_TABULAR=${BENCH_TABULAR_ROWS:-1000000}
ROWS_THREADS=${BENCH_THREADS_ROWS:-2000}
ROWS_RESAVG=${BENCH_RESAVG_ROWS:-1000}
DIR=$(mktemp -d "${TMPDIR:-/tmp}/mpcd-rows.XXXXXX")
trap 'cluster_stop_all; rm -rf "$DIR"' EXIT

CL_FREEPORT=$DIR/freeport
cc -std=c11 -O2 -o "$CL_FREEPORT" tests/tools/freeport.c || exit 1

field() { grep -o "\"$2\": *[0-9.e+-]*" <<<"$1" | head -n 1 | sed 's/.*: *//'; }

# consortium NODE...: a fresh one under $DIR/c (configs from $DIR/extra.NODE).
consortium() {
	cluster_stop_all
	rm -rf "$DIR/c"
	mkdir -p "$DIR/c"
	cluster_init "$DIR/c" "$@" dealer || return 1
	for n in "$@"; do [ -f "$DIR/extra.$n" ] && cat "$DIR/extra.$n" >>"$DIR/c/$n.extra"; done
	for n in "$@" dealer; do
		[ -z "${THREADS:-}" ] || echo "Threads = $THREADS" >"$DIR/c/$n.node"
	done
	cluster_write_configs
	for n in "$@" dealer; do cluster_start "$n" || return 1; done
	cluster_wait_peers "$1" $# || return 1
}

# job NAME PARTIES ROWS SUBMIT-ARGS...: one job on alpha, its record.
job() {
	local name=$1 parties=$2 rows=$3 id t0 t1 st n rss="" off on wt
	shift 3
	t0=$(date +%s.%N)
	id=$(ctl alpha submit "$@" --offline dealer:dealer ${BENCH_CHUNK_ROWS:+--chunk-rows "$BENCH_CHUNK_ROWS"}) ||
		return 1
	ctl alpha wait "$id" --timeout 3600 >/dev/null || { echo "job $name failed" >&2; return 1; }
	t1=$(date +%s.%N)
	st=$(ctl alpha status "$id" --json)
	off=$(field "$st" offline_seconds)
	on=$(field "$st" online_seconds)
	wt=$(field "$st" weights_seconds)
	for n in "${CL_NODES[@]}"; do
		rss="$rss${rss:+, }\"$n\": $(awk '/VmHWM/ { print $2 }' "/proc/$(cat "$DIR/c/$n.pid")/status")"
	done
	printf '{"path": "daemon-rows", "workload": "%s", "parties": %d, "threads": %s, "rows": %d, "chunk_rows": %s, "chunks": %s, "plan_bytes": %s, "wall_s": %.3f, "rows_per_s": %.1f, "offline_s": %s, "weights_s": %s, "online_s": %s, "online_bytes_sent": %s, "online_rounds": %s, "weights_bytes_sent": %s, "peak_rss_kb": {%s}}\n' \
		"$name" "$parties" "${THREADS:-0}" "$rows" "$(field "$st" chunk_rows)" "$(field "$st" chunks)" "$(field "$st" job_memory_estimate)" \
		"$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')" \
		"$(awk -v a="$t0" -v b="$t1" -v r="$rows" 'BEGIN{print r/(b-a)}')" "$off" "$wt" "$on" \
		"$(field "$st" online_bytes_sent)" "$(field "$st" online_rounds)" \
		"$(field "$st" weights_bytes_sent)" "$rss"
}

if [ "$ROWS_LENET" -gt 0 ]; then
	bin/mpc-bench --npy "$DIR/lenet.npy" "$ROWS_LENET,1,28,28" || exit 1
	printf '\n[Dataset]\nName = rows\nPath = %s/lenet.npy\n' "$DIR" >"$DIR/extra.alpha"
	printf '\n[Model]\nName = lenet\nPath = %s/bench/models/lenet.onnx\n' "$PWD" >"$DIR/extra.beta"
	consortium alpha beta || exit 1
	job lenet_rows 2 "$ROWS_LENET" --model beta:lenet --input input=alpha:rows --output alpha |
		tee -a "$OUT"
	consortium alpha beta gamma || exit 1
	job lenet_rows 3 "$ROWS_LENET" --model beta:lenet --input input=alpha:rows --output alpha,gamma |
		tee -a "$OUT"
fi

# [Node] Threads = 1 and 2 on every node, the same job (threads 0 above:
# the default, the machine's cores).
if [ "$ROWS_THREADS" -gt 0 ]; then
	bin/mpc-bench --npy "$DIR/lenet_t.npy" "$ROWS_THREADS,1,28,28" || exit 1
	printf '\n[Dataset]\nName = rows\nPath = %s/lenet_t.npy\n' "$DIR" >"$DIR/extra.alpha"
	printf '\n[Model]\nName = lenet\nPath = %s/bench/models/lenet.onnx\n' "$PWD" >"$DIR/extra.beta"
	for rep in $(seq "${BENCH_THREADS_REPS:-1}"); do
		for THREADS in 1 2; do
			consortium alpha beta || exit 1
			job lenet_threads 2 "$ROWS_THREADS" --model beta:lenet --input input=alpha:rows \
				--output alpha | tee -a "$OUT"
		done
	done
	unset THREADS
fi

# The residual average-pool CNN in one process, 3 parties: its peak RSS.
if [ "$ROWS_RESAVG" -gt 0 ]; then
	bin/mpc-bench --npy "$DIR/resavg.npy" "$ROWS_RESAVG,1,28,28" || exit 1
	t0=$(date +%s.%N)
	js=$(bin/mpcctl simulate --model bench/models/resavg28.onnx --input input="$DIR/resavg.npy" \
		--parties 3 --json) || { echo "resavg28 simulate failed" >&2; exit 1; }
	t1=$(date +%s.%N)
	printf '{"path": "simulate-rows", "workload": "resavg28", "parties": 3, "threads": 0, "rows": %d, "chunk_rows": %s, "chunks": %s, "wall_s": %.3f, "rows_per_s": %.1f, "peak_rss_kb": {"process": %d}}\n' \
		"$ROWS_RESAVG" "$(field "$js" chunk_rows)" "$(field "$js" chunks)" \
		"$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')" \
		"$(awk -v a="$t0" -v b="$t1" -v r="$ROWS_RESAVG" 'BEGIN{print r/(b-a)}')" \
		"$(( $(field "$js" peak_rss_bytes) / 1024 ))" | tee -a "$OUT"
fi

# The tabular model and its rows: tests/tools/mkmlp.c (seeded weights).
[ "$ROWS_TABULAR" -gt 0 ] || exit 0
cc -std=c11 -D_GNU_SOURCE -O2 -Ibuild/gen tests/tools/mkmlp.c build/gen/onnx.pb-c.c \
	-lprotobuf-c -lm -o "$DIR/mkmlp" && "$DIR/mkmlp" "$DIR" "$ROWS_TABULAR" 3 30 16 2 || exit 1
rm -f "$DIR"/extra.*
printf '\n[Dataset]\nName = cols\nPath = %s/part0.npy\n' "$DIR" >"$DIR/extra.alpha"
printf '\n[Model]\nName = mlp\nPath = %s/model.onnx\n' "$DIR" >>"$DIR/extra.alpha"
printf '\n[Dataset]\nName = cols\nPath = %s/part1.npy\n' "$DIR" >"$DIR/extra.beta"
printf '\n[Dataset]\nName = cols\nPath = %s/part2.npy\n' "$DIR" >"$DIR/extra.gamma"
consortium alpha beta gamma || exit 1
job mlp_tabular 3 "$ROWS_TABULAR" --model alpha:mlp \
	--input input=alpha:cols,beta:cols,gamma:cols --output alpha | tee -a "$OUT"
# The result against the plaintext model (mkmlp's double precision).
if cc -std=c11 -D_GNU_SOURCE -O2 -I. -Icrypto -Imodel \
	tests/tools/npycmp.c model/npy.c model/ftensor.c model/csv.c crypto/err.c crypto/rd.c \
	-lm -o "$DIR/npycmp"; then
	id=$(ctl alpha list --json | grep -o '"id": "[0-9a-f]*"' | head -n 1 | sed 's/.*"\([0-9a-f]*\)"/\1/')
	ctl alpha result "$id" -o "$DIR/out.npy" && "$DIR/npycmp" "$DIR/out.npy" "$DIR/expected.npy" >&2
fi

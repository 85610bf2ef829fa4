#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# make bench: every benchmark, two paths.
#   in-process: the protocol layer alone (bin/mpc-bench), 2 and 3 parties;
#   daemons:    real mpcd processes on loopback, encrypted links, a dealer.
# Prints one JSON object per line (also in build/bench/results.jsonl) and
# writes docs/benchmarks.md. Compare ratios within one run: absolute times
# on a shared machine drift. BENCH_QUICK=1 skips LeNet batch 64;
# BENCH_INPROC=0, BENCH_WAN=0 and BENCH_ROWS=0 skip those parts.
set -u
cd "$(dirname "$0")/.."
. tests/daemon/cluster.sh
OUT=build/bench
mkdir -p "$OUT"
: >"$OUT/results.jsonl"
REPS=${BENCH_REPS:-5}
QUICK=${BENCH_QUICK:-0}

if [ "${BENCH_INPROC:-1}" = 1 ]; then
	echo "# in-process (protocol layer, threads), median of $REPS" >&2
	bin/mpc-bench --reps "$REPS" --parties 2,3 $([ "$QUICK" = 1 ] && echo --quick) |
		tee -a "$OUT/results.jsonl"
	# [Node] Threads: LeNet batch 64 with the pool at 1 and 2 threads, the
	# two alternating within each rep (docs/benchmarks.md, "Threads").
	[ "$QUICK" = 1 ] || bin/mpc-bench --reps "$REPS" --parties 2 --only lenet --threads 1,2 |
		grep '"batch": 64' | sed 's/"path": "inproc"/"path": "inproc-threads"/' |
		tee -a "$OUT/results.jsonl"
fi

DIR=$(mktemp -d "${TMPDIR:-/tmp}/mpcd-bench.XXXXXX")
trap 'cluster_stop_all; rm -rf "$DIR"' EXIT
echo "# daemons on loopback (encrypted links), dealer offline" >&2
cluster_init "$DIR" alpha beta gamma dealer
for w in "secureml 1 784" "secureml 64 784" "lenet 1 1,28,28" "lenet 64 1,28,28" \
	"transformer 1 64" "transformer 64 64"; do
	set -- $w
	[ "$QUICK" = 1 ] && [ "$1$2" = lenet64 ] && continue
	bin/mpc-bench --npy "$DIR/$1_$2.npy" "$2,$3"
	printf '\n[Dataset]\nName = %s_%s\nPath = %s/%s_%s.npy\n' "$1" "$2" "$DIR" "$1" "$2" >>"$DIR/alpha.extra"
done
for m in secureml lenet; do
	printf '\n[Model]\nName = %s\nPath = %s/bench/models/%s.onnx\n' "$m" "$PWD" "$m" >>"$DIR/beta.extra"
done
# PyTorch's own attention encoder (2 layers, 2 heads, GELU, LayerNorm),
# exported at opset 17 by tests/models/gen_torch.py.
printf '\n[Model]\nName = transformer\nPath = %s/tests/fixtures/torch/transformer_op17/model.onnx\n' "$PWD" >>"$DIR/beta.extra"
# The primitives as models: ReLU of 10^5, 10^6 products, the matmul.
bin/mpc-bench --onnx "$DIR/relu.onnx" relu 100000
bin/mpc-bench --onnx "$DIR/mul.onnx" mul 1000000
bin/mpc-bench --onnx "$DIR/matmul.onnx" matmul 0
bin/mpc-bench --npy "$DIR/relu_x.npy" 100000
bin/mpc-bench --npy "$DIR/mul_x.npy" 1000000
bin/mpc-bench --npy "$DIR/mul_y.npy" 1000000
bin/mpc-bench --npy "$DIR/mm_x.npy" 128,784
for d in relu_x mul_x mm_x; do
	printf '\n[Dataset]\nName = %s\nPath = %s/%s.npy\n' "$d" "$DIR" "$d" >>"$DIR/alpha.extra"
done
printf '\n[Dataset]\nName = mul_y\nPath = %s/mul_y.npy\n' "$DIR" >>"$DIR/beta.extra"
for m in relu mul matmul; do
	printf '\n[Model]\nName = %s\nPath = %s/%s.onnx\n' "$m" "$DIR" "$m" >>"$DIR/beta.extra"
done
printf '\n[Dataset]\nName = wine_a\nPath = %s/tests/fixtures/wine_mlp/input_party0.npy\n' "$PWD" >>"$DIR/alpha.extra"
printf '\n[Dataset]\nName = wine_b\nPath = %s/tests/fixtures/wine_mlp/input_party1.npy\n' "$PWD" >>"$DIR/gamma.extra"
printf '\n[Model]\nName = wine\nPath = %s/tests/fixtures/wine_mlp/model.onnx\n' "$PWD" >>"$DIR/beta.extra"
cluster_write_configs
for n in alpha beta gamma dealer; do cluster_start "$n" || exit 1; done
cluster_wait_peers alpha 3 || { echo "peers did not connect" >&2; exit 1; }

# The median line of JSON records by online_s.
median() {
	awk -F'"online_s": ' '{ split($2, a, ","); print a[1] "\t" $0 }' | sort -g |
		awk '{ l[NR] = $0 } END { x = l[int((NR + 1) / 2)]; sub(/^[^\t]*\t/, "", x); print x }'
}

field() { grep -o "\"$2\": *[0-9.e+-]*" <<<"$1" | head -n 1 | sed 's/.*: *//'; }

# The larger of a number and a record's field (absent: 0).
max_field() { awk -v a="$1" -v b="$(field "$2" "$3")" 'BEGIN{ b += 0; print (b > a) ? b : a }'; }

# One job; prints its JSON record (the slowest compute party's times).
run_job() {
	local name=$1 batch=$2 parties=$3 input=$4 output=$5 model=$6 more=${7:-} id st n
	local off=0 on=0 lay=0 wt=0 wb=0 rounds=0 bytes=0 dealer_bytes=0 t0 t1
	t0=$(date +%s.%N)
	id=$(ctl alpha submit --model "$model" --input "$input" ${more:+--input "$more"} \
		--output "$output" --offline dealer:dealer) || return 1
	ctl alpha wait "$id" --timeout 600 >/dev/null || { echo "job $name failed" >&2; return 1; }
	t1=$(date +%s.%N)
	for n in alpha beta gamma; do
		st=$(ctl "$n" status "$id" --json 2>/dev/null) || continue
		[ -n "$(field "$st" online_rounds)" ] || continue
		off=$(max_field "$off" "$st" offline_seconds)
		on=$(max_field "$on" "$st" online_seconds)
		lay=$(max_field "$lay" "$st" layers_seconds)
		wt=$(max_field "$wt" "$st" weights_seconds)
		wb=$(max_field "$wb" "$st" weights_bytes_sent)
		bytes=$(max_field "$bytes" "$st" online_bytes_sent)
		rounds=$(field "$st" online_rounds)
	done
	dealer_bytes=$(field "$(ctl dealer status "$id" --json)" offline_bytes)
	printf '{"path": "daemon", "workload": "%s", "parties": %d, "batch": %d, "offline_s": %s, "weights_s": %s, "weights_bytes_per_party": %s, "online_s": %s, "layers_s": %s, "online_bytes_per_party": %s, "offline_bytes_dealer": %s, "online_rounds": %s, "wall_s": %.6f}\n' \
		"$name" "$parties" "$batch" "$off" "$wt" "$wb" "$on" "$lay" "$bytes" "${dealer_bytes:-0}" "$rounds" \
		"$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')"
}

# A daemon in service is warm: three unmeasured runs of each workload
# first (first-touch page faults and huge-page compaction, the buffer
# cache, TCP windows). The median of DREPS runs (the daemon path is
# noisier than in-process).
DREPS=${BENCH_DAEMON_REPS:-9}
measure() {
	for k in 1 2 3; do run_job "$@" >/dev/null; done
	for k in $(seq 1 "$DREPS"); do run_job "$@"; done | median | tee -a "$OUT/results.jsonl"
}
measure relu_1e5 1 2 "x=alpha:relu_x" alpha "beta:relu"
measure mul_1e6 1 2 "x=alpha:mul_x" alpha "beta:mul" "y=beta:mul_y"
measure matmul_128x784x64 1 2 "x=alpha:mm_x" alpha "beta:matmul"
for w in "secureml 1" "secureml 64" "lenet 1" "lenet 64" "transformer 1" "transformer 64"; do
	set -- $w
	[ "$QUICK" = 1 ] && [ "$1$2" = lenet64 ] && continue
	measure "$1" "$2" 2 "input=alpha:$1_$2" alpha "beta:$1"
	run_job "$1" "$2" 3 "input=alpha:$1_$2" gamma "beta:$1" | tee -a "$OUT/results.jsonl"
done
run_job wine_mlp 64 3 "input=alpha:wine_a,gamma:wine_b" alpha "beta:wine" | tee -a "$OUT/results.jsonl"
# Peak resident memory of each daemon over all the jobs above (the
# largest: LeNet batch 64).
for n in alpha beta gamma dealer; do
	kb=$(awk '/VmHWM/ { print $2 }' "/proc/$(cat "$DIR/$n.pid")/status" 2>/dev/null)
	printf '{"path": "daemon", "workload": "peak_memory", "node": "%s", "peak_rss_kb": %s}\n' "$n" "${kb:-0}"
done | tee -a "$OUT/results.jsonl"
cluster_stop_all

# WAN: every link through a user-space proxy of 20 ms each way (40 ms
# RTT) and 100 Mbit/s each way (these kernels have no netem qdisc).
if [ "${BENCH_WAN:-1}" = 1 ]; then
	echo "# daemons through a 40 ms RTT, 100 Mbit/s proxy" >&2
	cc -O2 -Wall -o "$DIR/tproxy" tests/tools/tproxy.c || exit 1
	PROXIES=()
	for src in alpha beta gamma dealer; do
		for dst in alpha beta gamma dealer; do
			[ "$src" = "$dst" ] && continue
			"$DIR/tproxy" --listen 127.0.0.1:0 --to "127.0.0.1:$(cat "$DIR/$dst.port")" \
				--delay-ms 20 --rate-kbit 100000 --max-seconds 900 >"$DIR/p.$src.$dst" &
			PROXIES+=($!)
		done
	done
	sleep 0.5
	for src in alpha beta gamma dealer; do
		for dst in alpha beta gamma dealer; do
			[ "$src" = "$dst" ] && continue
			sed -i "s/^Endpoint = 127.0.0.1:$(cat "$DIR/$dst.port")\$/Endpoint = 127.0.0.1:$(head -n1 "$DIR/p.$src.$dst")/" "$DIR/$src.conf"
		done
	done
	for n in alpha beta gamma dealer; do cluster_start "$n" || exit 1; done
	cluster_wait_peers alpha 3 || { echo "peers did not connect through the proxies" >&2; exit 1; }
	run_job lenet 1 2 "input=alpha:lenet_1" alpha "beta:lenet" | sed 's/"daemon"/"daemon-wan40ms"/' | tee -a "$OUT/results.jsonl"
	run_job secureml 64 2 "input=alpha:secureml_64" alpha "beta:secureml" | sed 's/"daemon"/"daemon-wan40ms"/' | tee -a "$OUT/results.jsonl"
	cluster_stop_all
	kill "${PROXIES[@]}" 2>/dev/null
	wait "${PROXIES[@]}" 2>/dev/null
fi

# Real-sized jobs in chunks (bench/rows.sh): LeNet over 10,000 rows with 2
# and 3 parties, a tabular MLP over 10^6 rows; BENCH_ROWS=0 skips them.
if [ "${BENCH_ROWS:-1}" = 1 ] && [ "$QUICK" != 1 ]; then
	echo "# real-sized jobs in chunks of rows (daemons, fresh consortium each)" >&2
	bash bench/rows.sh "$OUT/results.jsonl" >/dev/null || echo "bench/rows.sh failed" >&2
fi

bash bench/report.sh "$OUT/results.jsonl" >docs/benchmarks.md
echo "# wrote docs/benchmarks.md" >&2

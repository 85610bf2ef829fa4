#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The metrics endpoint ([Node] MetricsListen, daemon/metrics.c) scraped by
# Debian's real Prometheus server. Usage:
#
#   tests/daemon/test_metrics.sh MPCCTL [MPCD]
#
# A consortium (alpha, beta, a dealer) on loopback with MetricsListen on
# each runs a job, and a connection to beta's link port that is no mpcd
# handshake shows in beta's handshake failures; prometheus (a port from
# the kernel for its own
# --web.listen-address, a temporary --storage.tsdb.path, scrape_interval
# 1s) scrapes the three, and its HTTP API must show every target up, the
# job among alpha's ended jobs, bytes to and from each peer, every link
# up and the phases' durations. A raw scrape passes `promtool check
# metrics` with no problem and holds nothing private (no key, no path).
# Then, prometheus stopped (by its PID), hostile clients: a request head
# over the cap (431), a slow client (408 after METRICS_TIMEOUT), a POST
# (405), another path (404), more connections than the cap (closed at
# once); the endpoint serves again afterwards. The prometheus checks are
# skipped, saying so, where /usr/bin/prometheus is not installed
# (deploy/install-deps.sh installs it).
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/cli/lib.sh
. tests/daemon/helpers.sh "$@"
plan 19

NODES=(alpha beta dealer)
PROM=${PROMETHEUS:-/usr/bin/prometheus}
PROMTOOL=${PROMTOOL:-/usr/bin/promtool}
PROM_PID=
declare -A MPORT

stop_prom() {
	if [ -n "$PROM_PID" ]; then
		kill "$PROM_PID" 2>/dev/null
		wait "$PROM_PID" 2>/dev/null
		PROM_PID=
	fi
}
trap 'stop_prom; cleanup' EXIT

# A fresh metrics port per node, each time the configs are (re)written.
metrics_ports() {
	local n
	for n in "${NODES[@]}"; do
		MPORT[$n]=$(free_port) || return 1
		echo "MetricsListen = 127.0.0.1:${MPORT[$n]}" >"$CL_DIR/$n.node"
	done
}

consortium() {
	mkdir -p "$TMP/c"
	cluster_init "$TMP/c" "${NODES[@]}" || return 1
	dataset alpha cols_a "$F/wine_mlp/input_party0.npy"
	dataset beta cols_b "$F/wine_mlp/input_party1.npy"
	model alpha wine "$F/wine_mlp/model.onnx"
	start_all metrics_ports || return 1
	for n in "${NODES[@]}"; do cluster_wait_peers "$n" 2 || return 1; done
}

# scrape NODE [PATH]: the whole HTTP reply (head and body) in $TMP/scrape.
scrape() {
	curl -s -i -m 10 "http://127.0.0.1:${MPORT[$1]}${2:-/metrics}" >"$TMP/scrape" 2>"$TMP/curl.err"
}

# pq QUERY: the values of an instant query's result vector, one a line.
pq() {
	curl -s -m 5 "http://127.0.0.1:$PPORT/api/v1/query" --data-urlencode "query=$1" 2>/dev/null |
		jq -r '.data.result[].value[1]' 2>/dev/null
}
# pq_count QUERY N: at least N results (a comparison in QUERY filters them).
pq_count() { [ "$(pq "$1" | wc -l)" -ge "$2" ]; }

# raw_reply NODE REQUEST SECS: REQUEST (printf %b) to NODE's metrics port,
# then what comes back within SECS seconds in $TMP/raw.
raw_reply() {
	local n=$1 req=$2 secs=$3
	exec 5<>"/dev/tcp/127.0.0.1/${MPORT[$n]}" || return 1
	# A subshell: a write the server refused to read kills it, not the suite (SIGPIPE).
	(printf '%b' "$req" >&5) 2>/dev/null
	timeout "$secs" cat <&5 >"$TMP/raw" 2>/dev/null
	exec 5<&-
}

begin
if ! consortium; then
	not_ok "consortium with MetricsListen: alpha, beta, dealer connect" \
		"$(tail -n 3 "$CL_DIR"/*.log 2>/dev/null | head -c 1500)"
	for i in $(seq 2 18); do not_ok "check $i" "no consortium"; done
	stop_clean "every daemon exits 0 on SIGTERM, no sanitizer report"
	finish
	exit
fi
ok "consortium with MetricsListen: alpha, beta, dealer connect"

# --check shows the key, set or not (off by default).
"$MPCD" -c "$CL_DIR/alpha.conf" --check >"$TMP/check" 2>&1
sed '/^MetricsListen/d' "$CL_DIR/alpha.conf" >"$TMP/nometrics.conf"
"$MPCD" -c "$TMP/nometrics.conf" --check >"$TMP/check0" 2>&1
if grep -qx "MetricsListen = 127.0.0.1:${MPORT[alpha]}" "$TMP/check" &&
	grep -qx '# MetricsListen = (none)' "$TMP/check0"; then
	ok "mpcd --check prints MetricsListen (and '(none)' when unset)"
else
	not_ok "mpcd --check prints MetricsListen" "$(grep -i metrics "$TMP/check" "$TMP/check0")"
fi

if id=$(submit alpha --model alpha:wine --input input=alpha:cols_a,beta:cols_b --output alpha \
	--offline dealer:dealer); then
	result_matches "a job (wine_mlp, vertical pooling) with every daemon scraped" alpha "$id" \
		"$F/wine_mlp/expected.npy"
	for n in "${NODES[@]}"; do wait_until 30 ended "$n" "$id"; done
else
	not_ok "a job (wine_mlp, vertical pooling) with every daemon scraped" "submit: $(cat "$TMP/err")"
fi

# Bytes that are no mpcd handshake, to beta's link port: counted by reason.
hs_malformed() {
	scrape beta && grep -q '^mpcd_handshake_failures_total{reason="malformed"} 1' "$TMP/scrape"
}
if exec 5<>"/dev/tcp/127.0.0.1/$(cat "$CL_DIR/beta.port")"; then
	(printf 'GET / HTTP/1.1\r\n\r\n' >&5) 2>/dev/null
	timeout 5 cat <&5 >/dev/null 2>&1
	exec 5<&-
fi
if wait_until 10 hs_malformed; then
	ok "a connection that is no mpcd handshake: mpcd_handshake_failures_total{reason=\"malformed\"} 1"
else
	not_ok "a connection that is no mpcd handshake: counted as malformed" \
		"$(grep '^mpcd_handshake_failures_total' "$TMP/scrape" | tr '\n' ' ')"
fi

# ---- a raw scrape ----
if scrape alpha && head -n 1 "$TMP/scrape" | grep -q '^HTTP/1.1 200' &&
	grep -qi '^Content-Type: text/plain; version=0.0.4' "$TMP/scrape"; then
	ok "GET /metrics: 200, text/plain; version=0.0.4"
else
	not_ok "GET /metrics: 200, text/plain; version=0.0.4" "$(head -c 600 "$TMP/scrape") $(cat "$TMP/curl.err")"
fi
sed '1,/^\r$/d' "$TMP/scrape" >"$TMP/body"
if [ ! -x "$PROMTOOL" ]; then
	skip "promtool check metrics: no problems" "$PROMTOOL is not installed (apt-get install prometheus)"
elif out=$("$PROMTOOL" check metrics <"$TMP/body" 2>&1) && [ -z "$out" ]; then
	ok "promtool check metrics: no problems ($(grep -c '^mpcd_' "$TMP/body") samples)"
else
	not_ok "promtool check metrics: no problems" "$out"
fi
if [ ! -x "$PROMTOOL" ]; then
	skip "deploy/prometheus.yml: promtool check config" "$PROMTOOL is not installed"
elif out=$("$PROMTOOL" check config deploy/prometheus.yml 2>&1); then
	ok "deploy/prometheus.yml: promtool check config"
else
	not_ok "deploy/prometheus.yml: promtool check config" "$out"
fi
leak=""
for n in "${NODES[@]}"; do
	grep -qF "$(cat "$CL_DIR/$n.key")" "$TMP/body" && leak="$leak $n's private key"
	grep -qF "$(cat "$CL_DIR/$n.pub")" "$TMP/body" && leak="$leak $n's public key"
done
grep -qF "$CL_DIR" "$TMP/body" && leak="$leak a path"
grep -qF "$F" "$TMP/body" && leak="$leak a dataset path"
if [ -z "$leak" ] && grep -q '^mpcd_node_info{node="alpha",role="compute"} 1' "$TMP/body"; then
	ok "the scrape holds no key and no path"
else
	not_ok "the scrape holds no key and no path" "found:$leak"
fi

# ---- prometheus ----
PCHECKS=(
	"prometheus: every daemon's target is up"
	"prometheus: alpha's ended-jobs counter shows the job"
	"prometheus: bytes to and from each peer are non-zero"
	"prometheus: every link is up (mpcd_peer_link_up 1)"
	"prometheus: the phases' duration histograms counted the job"
)
if [ ! -x "$PROM" ]; then
	for c in "${PCHECKS[@]}"; do skip "$c" "$PROM is not installed (apt-get install prometheus)"; done
else
	PPORT=$(free_port)
	{
		echo "global:"
		echo "  scrape_interval: 1s"
		echo "  scrape_timeout: 1s"
		echo "scrape_configs:"
		echo "  - job_name: mpcd"
		echo "    static_configs:"
		for n in "${NODES[@]}"; do
			echo "      - targets: ['127.0.0.1:${MPORT[$n]}']"
			echo "        labels: { node: '$n' }"
		done
	} >"$TMP/prometheus.yml"
	"$PROM" --config.file="$TMP/prometheus.yml" --storage.tsdb.path="$TMP/tsdb" \
		--web.listen-address="127.0.0.1:$PPORT" --log.level=warn >"$TMP/prom.log" 2>&1 &
	PROM_PID=$!
	if wait_until 40 pq_count 'up{job="mpcd"} == 1' 3; then
		ok "${PCHECKS[0]}"
	else
		not_ok "${PCHECKS[0]}" "up: $(pq 'up' | tr '\n' ' '); $(tail -n 5 "$TMP/prom.log")"
	fi
	if wait_until 20 pq_count 'mpcd_jobs_ended_total{node="alpha",state="finished"} >= 1' 1; then
		ok "${PCHECKS[1]}"
	else
		not_ok "${PCHECKS[1]}" "$(pq 'mpcd_jobs_ended_total' | tr '\n' ' ')"
	fi
	# alpha and beta exchanged the job's shares; the dealer sent both its corrections.
	if wait_until 20 pq_count 'mpcd_peer_sent_bytes_total > 0' 6 &&
		pq_count 'mpcd_peer_received_bytes_total > 0' 6 &&
		pq_count 'mpcd_peer_sent_messages_total{node="dealer"} > 0' 2; then
		ok "${PCHECKS[2]}"
	else
		not_ok "${PCHECKS[2]}" "sent: $(pq 'mpcd_peer_sent_bytes_total' | tr '\n' ' ') received: $(pq 'mpcd_peer_received_bytes_total' | tr '\n' ' ')"
	fi
	if pq_count 'mpcd_peer_link_up == 1' 6 && ! pq_count 'mpcd_peer_link_up == 0' 1; then
		ok "${PCHECKS[3]}"
	else
		not_ok "${PCHECKS[3]}" "$(pq 'mpcd_peer_link_up' | tr '\n' ' ')"
	fi
	if pq_count 'mpcd_job_phase_duration_seconds_count{node="alpha",phase="online"} >= 1' 1 &&
		pq_count 'mpcd_job_phase_duration_seconds_count{node="dealer",phase="offline"} >= 1' 1; then
		ok "${PCHECKS[4]}"
	else
		not_ok "${PCHECKS[4]}" "$(pq 'mpcd_job_phase_duration_seconds_count' | tr '\n' ' ')"
	fi
	stop_prom
fi

# ---- hostile clients (prometheus stopped: nothing else holds a slot) ----
t0=$SECONDS
raw_reply beta "GET /$(head -c 20000 /dev/zero | tr '\0' a) HTTP/1.1\r\n\r\n" 10
if head -n 1 "$TMP/raw" | grep -q '^HTTP/1.1 431' && [ $((SECONDS - t0)) -le 8 ]; then
	ok "a request head over the cap: 431 and closed"
else
	not_ok "a request head over the cap: 431 and closed" "$((SECONDS - t0)) s: $(head -c 200 "$TMP/raw")"
fi
t0=$SECONDS
raw_reply beta "GET /metr" 15
if head -n 1 "$TMP/raw" | grep -q '^HTTP/1.1 408' && [ $((SECONDS - t0)) -le 10 ]; then
	ok "a slow client: 408 after the timeout ($((SECONDS - t0)) s), then closed"
else
	not_ok "a slow client: 408 after the timeout, then closed" "$((SECONDS - t0)) s: $(head -c 200 "$TMP/raw")"
fi
raw_reply beta "POST /metrics HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello" 5
code1=$(head -n 1 "$TMP/raw")
raw_reply beta "GET /debug/pprof HTTP/1.1\r\n\r\n" 5
code2=$(head -n 1 "$TMP/raw")
if echo "$code1" | grep -q '^HTTP/1.1 405' && echo "$code2" | grep -q '^HTTP/1.1 404'; then
	ok "a POST gets 405, another path 404"
else
	not_ok "a POST gets 405, another path 404" "$code1 / $code2"
fi
# Four idle connections fill the cap: a fifth is closed at once; once they
# time out the endpoint serves again.
exec 6<>"/dev/tcp/127.0.0.1/${MPORT[beta]}" 7<>"/dev/tcp/127.0.0.1/${MPORT[beta]}" \
	8<>"/dev/tcp/127.0.0.1/${MPORT[beta]}" 9<>"/dev/tcp/127.0.0.1/${MPORT[beta]}"
sleep 0.5
t0=$SECONDS
raw_reply beta "GET /metrics HTTP/1.1\r\n\r\n" 5
fifth=$(wc -c <"$TMP/raw")
took=$((SECONDS - t0))
timeout 12 cat <&6 >"$TMP/held" 2>/dev/null
exec 6<&- 7<&- 8<&- 9<&-
if [ "$fifth" = 0 ] && [ "$took" -le 2 ] && head -n 1 "$TMP/held" | grep -q '^HTTP/1.1 408' &&
	wait_until 10 scrape beta && head -n 1 "$TMP/scrape" | grep -q '^HTTP/1.1 200'; then
	ok "over 4 connections: the fifth closed at once, the endpoint serves once they time out"
else
	not_ok "over 4 connections: the fifth closed at once" \
		"fifth: $fifth bytes in $took s; held: $(head -n 1 "$TMP/held"); then: $(head -n 1 "$TMP/scrape")"
fi
still_serving "the daemons still serve links and mpcctl" "${NODES[@]}"
stop_clean "every daemon exits 0 on SIGTERM, no sanitizer report"
finish

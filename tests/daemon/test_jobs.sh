#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The operator's view of jobs (issue 11, findings 1, 2, 5 and 6, and the
# reload): daemons as processes on loopback, driven with mpcctl. Usage:
#
#   tests/daemon/test_jobs.sh MPCCTL [MPCD]
#
# alpha owns digits_resavg (11 layers) and receives; beta holds its rows
# (64, and 1024 random ones for jobs long enough to act on while they
# run); gamma approves by hand and holds a dataset whose file is missing
# and one of the wrong shape; dealer.
#   - progress: `mpcctl wait` in pipe mode, on a pseudo-terminal (script
#     from util-linux) and --json shows every phase and every layer of a
#     job once and in order, a job in chunks once per chunk; submit
#     --json; status and list of a finished job; the proposer is told it
#     waits for gamma's approval;
#   - checks before approval: a missing dataset file and a dataset of the
#     wrong shape are refused to the proposer with the reason and never
#     reach gamma's approval queue; `approve` of such a job prints why;
#     `mpcd --check` names each bad [Dataset] and [Model] and fails, and
#     start-up logs the same lines;
#   - job records: after a restart list, status and result know the jobs
#     that ended before it; a job running at a SIGKILL is recorded aborted
#     "the daemon restarted"; a corrupt record is skipped with a log line;
#     ResultRetention removes old records and results together;
#   - SIGHUP: a model added to the file runs without a restart, a running
#     job survives a reload, a file with an error is refused with one line
#     and the old configuration stays in force, so is a [Node] change, a
#     removed peer's link closes and a peer with another key is dropped
#     while the others stay up, and both come back with the old file.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/cli/lib.sh
. tests/daemon/helpers.sh "$@"
plan 26
begin

RESAVG=(--model alpha:resavg --input input=beta:digits --output alpha)

consortium() {
	local d=$TMP/c
	mkdir -p "$d"
	cluster_init "$d" alpha beta gamma dealer || return 1
	"$TMP/npycmp" --random 7 "$d/many.npy" 1024 1 8 8 || return 1
	model alpha resavg "$F/digits_resavg/model.onnx"
	dataset beta digits "$F/digits_resavg/input.npy"
	dataset beta many "$d/many.npy"
	dataset gamma digits "$F/digits_resavg/input.npy"
	dataset gamma gone "$d/no-such-file.npy"
	dataset gamma iris "$F/iris_logreg/input.npy"
	printf '\n[Policy]\nApprove = manual\nAllowPeers = alpha, beta\nAllowRecipients = alpha\n' \
		>>"$CL_DIR/gamma.extra"
	start_all && cluster_wait_peers alpha 3 && cluster_wait_peers gamma 3
}

# lines FILE: the lines a terminal showed (a carriage return starts a new
# one), without the padding that blanks a longer previous line.
lines() { tr '\r' '\n' <"$1" | sed 's/ *$//' | grep -v '^$'; }

# The progress a job of digits_resavg must show, in order, once each.
expected_steps() {
	printf 'running %s\n' setup offline weights input
	for k in $(seq 1 11); do echo "running online, layer $k/11"; done
	echo "running output"
}

# steps_in_order NAME FILE: the running lines of FILE are exactly
# expected_steps, then one finished line; no line twice.
steps_in_order() {
	local name=$1 f=$2
	lines "$f" | sed -n 's/^job [^:]*: //p' | grep '^running' >"$TMP/got"
	expected_steps >"$TMP/want"
	if ! diff "$TMP/want" "$TMP/got" >"$TMP/diff"; then
		not_ok "$name" "$(cat "$TMP/diff") (output: $(lines "$f" | head -c 1500))"
	elif [ "$(lines "$f" | grep -c ': finished, ')" != 1 ]; then
		not_ok "$name" "no single finished line: $(lines "$f" | tail -n 3)"
	elif [ -n "$(lines "$f" | uniq -d)" ]; then
		not_ok "$name" "repeated lines: $(lines "$f" | uniq -d | head -n 3)"
	else
		ok "$name"
	fi
}

if ! consortium; then
	not_ok "the consortium starts" "$(tail -n 5 "$CL_DIR"/*.log 2>/dev/null | head -c 1500)"
	finish
	exit
fi

# ---- Finding 1: progress ----

# 1. Pipe mode: every phase and layer once, in order.
if id=$(submit alpha "${RESAVG[@]}") && ctl alpha wait "$id" --timeout 120 >"$TMP/pipe" 2>"$TMP/err"; then
	steps_in_order "wait into a pipe: every phase and each of 11 layers once, in order" "$TMP/pipe"
else
	not_ok "wait into a pipe" "$(cat "$TMP/err")"
fi

# 2. On a pseudo-terminal: the same steps, each drawn once.
if ! command -v script >/dev/null; then
	skip "wait on a terminal: every phase and layer once, in order" "script (util-linux) missing"
elif id=$(submit alpha "${RESAVG[@]}") &&
	run_checked script -qfec "$MPCCTL -s $CL_DIR/alpha.sock wait $id --timeout 120" /dev/null \
		>"$TMP/tty" 2>"$TMP/err" && grep -q $'\r' "$TMP/tty"; then
	steps_in_order "wait on a terminal: every phase and layer once, in order" "$TMP/tty"
else
	not_ok "wait on a terminal" "$(cat "$TMP/err"; head -c 600 "$TMP/tty" 2>/dev/null)"
fi

# 3. --json: one object per change, then the final state; submit --json.
if ctl alpha submit --json "${RESAVG[@]}" >"$TMP/sub.json" 2>"$TMP/err" &&
	id=$(/usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["proposed"]["model"]=="alpha:resavg" and d["proposed"]["recipients"]==["alpha"]; print(d["id"])' "$TMP/sub.json") &&
	ctl alpha wait "$id" --json --timeout 120 >"$TMP/wait.json" 2>"$TMP/err" &&
	/usr/bin/python3 - "$TMP/wait.json" >"$TMP/py" 2>&1 <<'EOF'
import json, sys
text = open(sys.argv[1]).read()
dec, i, objs = json.JSONDecoder(), 0, []
while i < len(text):
    while i < len(text) and text[i].isspace():
        i += 1
    if i < len(text):
        o, i = dec.raw_decode(text, i)
        objs.append(o)
steps = [(o["phase"], o["layer"]) for o in objs if o.get("state") == "running" and "phase" in o]
want = [(p, 0) for p in ("setup", "offline", "weights", "input")] + \
       [("online", k) for k in range(1, 12)] + [("output", 0)]
assert steps == want, steps
assert objs[-1]["state"] == "finished" and objs[-1]["layers"] == 11, objs[-1]
EOF
then
	ok "submit --json gives the id and the job; wait --json: one object per step, in order, then the final state"
else
	not_ok "submit/wait --json" "$(cat "$TMP/err" "$TMP/py" 2>/dev/null | head -c 1500)"
fi

# 4. A job in chunks: one line per chunk, each once, in order.
if id=$(submit alpha "${RESAVG[@]}" --chunk-rows 8) &&
	ctl alpha wait "$id" --timeout 120 >"$TMP/chunks" 2>"$TMP/err"; then
	got=$(sed -n 's/.*running, chunk \([0-9]*\/[0-9]*\) done, rows \([0-9]*\) of 64$/\1 \2/p' "$TMP/chunks" | tr '\n' ' ')
	want=$(for k in $(seq 1 8); do printf '%s/8 %s ' "$k" $((8 * k)); done)
	if [ "$got" = "$want" ]; then
		ok "wait on a job in 8 chunks: one line per chunk with its rows, in order"
	else
		not_ok "wait on a job in chunks" "got '$got', want '$want': $(head -c 1200 "$TMP/chunks")"
	fi
else
	not_ok "wait on a job in chunks" "$(cat "$TMP/err")"
fi

# 5. status and list of a finished job: the phase it ended in, the layers, PROGRESS done.
ctl alpha status "$id" >"$TMP/st" 2>&1
ctl alpha list >"$TMP/list" 2>&1
if grep -q '^phase: *output (finished there)$' "$TMP/st" && grep -q '^layers: *11 of 11 done$' "$TMP/st" &&
	grep "^$id " "$TMP/list" | grep -q ' done '; then
	ok "status: a finished job's phase and layers agree (no 'phase: -'); list: PROGRESS done"
else
	not_ok "status and list of a finished job" "$(grep -E '^(phase|layers)' "$TMP/st"); $(grep "^$id" "$TMP/list")"
fi

# 6. The proposer is told whose approval it waits for.
if gid=$(submit alpha --model alpha:resavg --input input=gamma:digits --output alpha) &&
	wait_until 30 state_is gamma "$gid" pending-approval; then
	ctl alpha wait "$gid" --timeout 1 >"$TMP/pw" 2>/dev/null
	ctl alpha status "$gid" >"$TMP/ps" 2>&1
	if grep -q 'waiting for approval by gamma' "$TMP/pw" &&
		grep -q '^waiting for: *approval by gamma' "$TMP/ps" &&
		ctl alpha list | grep "^$gid " | grep -q ' approval '; then
		ok "the proposer's wait, status and list say the job waits for gamma's approval"
	else
		not_ok "waiting for approval by gamma" "$(cat "$TMP/pw"); $(grep waiting "$TMP/ps")"
	fi
	ctl gamma approve "$gid" 2>"$TMP/err" && ctl alpha wait "$gid" --timeout 120 >/dev/null 2>&1
	if state_is alpha "$gid" finished; then
		ok "approved on gamma after its checks: the job runs"
	else
		not_ok "approved job runs" "$(field alpha "$gid" state): $(field alpha "$gid" reason) $(cat "$TMP/err")"
	fi
else
	not_ok "waiting for approval by gamma" "$(cat "$TMP/err"); gamma: $(field gamma "${gid:-x}" state)"
	not_ok "approved job runs" "no job"
fi

# ---- Finding 2: checks before approval ----

# refused_early NAME DATASET WHY: refused to alpha with WHY before gamma's
# operator sees it (never pending on gamma), no byte moved.
refused_early() {
	local name=$1 id
	if ! id=$(submit alpha --model alpha:resavg --input "input=gamma:$2" --output alpha); then
		not_ok "$name" "submit: $(cat "$TMP/err")"
		return
	fi
	wait_until 30 ended alpha "$id"
	if ! state_is alpha "$id" aborted || ! field alpha "$id" reason | grep -qF -- "$3"; then
		not_ok "$name" "alpha: $(field alpha "$id" state): $(field alpha "$id" reason)"
	elif grep -q "job ${id:0:8}.*waits for .mpcctl approve" "$CL_DIR/gamma.log" ||
		[ "$(field gamma "$id" needs_approval)" != false ]; then
		not_ok "$name" "gamma held it for approval: $(grep "${id:0:8}" "$CL_DIR/gamma.log" | head -n 3)"
	else
		ok "$name"
	fi
	LAST_REFUSED=$id
}
refused_early "a missing dataset file: refused with the reason, never in gamma's approval queue" \
	gone "gamma: dataset 'gone': "
refused_early "a dataset of the wrong shape: refused naming the input and shapes, never queued" \
	iris "gamma: input 'input' part 0 (dataset 'iris') has shape [64, 4], the model declares [?, 1, 8, 8]"

# 9. approve of a job that cannot run prints why.
expect_fail "approve of a refused job prints the reason, not 'failed'" "dataset 'iris'" \
	"$MPCCTL" -s "$CL_DIR/gamma.sock" approve "${LAST_REFUSED:-000000}"

# 10-11. --check: every bad [Dataset] and [Model], one line each, exit 1.
cp "$CL_DIR/gamma.conf" "$TMP/check.conf"
printf '\n[Model]\nName = nofile\nPath = %s\n\n[Model]\nName = badop\nPath = %s\n' \
	"$TMP/no-such-model.onnx" "$F/malformed/onnx_unsupported_op.onnx" >>"$TMP/check.conf"
run_checked "$MPCD" -c "$TMP/check.conf" --check >/dev/null 2>"$TMP/check.err"
rc=$?
if [ $rc -eq 1 ] && [ "$(wc -l <"$TMP/check.err")" -eq 3 ] &&
	grep -q "check.conf:[0-9]*: \[Model\] 'nofile': .*no-such-model.onnx: No such file" "$TMP/check.err" &&
	grep -q "check.conf:[0-9]*: \[Model\] 'badop': .*onnx_unsupported_op.onnx: .*" "$TMP/check.err" &&
	grep -q "check.conf:[0-9]*: \[Dataset\] 'gone': .*no-such-file.npy: No such file" "$TMP/check.err"; then
	ok "mpcd --check: a missing model, an unsupported op, a missing dataset: one line each, exit 1"
else
	not_ok "mpcd --check" "exit $rc: $(cat "$TMP/check.err")"
fi
if grep -q "\[Dataset\] 'gone': .*no-such-file.npy: No such file" "$CL_DIR/gamma.log"; then
	ok "start-up logs the missing dataset file of gamma's [Dataset] 'gone'"
else
	not_ok "start-up checks datasets" "$(head -n 5 "$CL_DIR/gamma.log")"
fi

# ---- Finding 5: job records across restarts ----

fid=$(submit alpha "${RESAVG[@]}") && ctl alpha wait "$fid" --timeout 120 >/dev/null 2>&1
lid=$(submit alpha --model alpha:resavg --input input=beta:many --output alpha --chunk-rows 1)
rows_moving() { [ "$(field "$1" "$2" rows_done)" -gt 0 ] 2>/dev/null; }
wait_until 60 rows_moving alpha "$lid"
killed_running=$(field alpha "$lid" state)
cluster_kill alpha
printf 'not a record\n' >"$CL_DIR/alpha/jobs/0123456789abcdef0123456789abcdef.job"
printf 'mpcd job record 1\n\377\377\377\377' >"$CL_DIR/alpha/jobs/00000000000000000000000000000000.job"
cp "$CL_DIR/alpha/jobs/$fid.job" "$CL_DIR/alpha/jobs/11111111111111111111111111111111.job"
cluster_start alpha && watch_log "$CL_DIR/alpha.log"
if [ "$(field alpha "$fid" state)" = finished ] && ctl alpha list | grep -q "^$fid .* done " &&
	ctl alpha result "$fid" -o "$TMP/after.npy" 2>"$TMP/err" &&
	"$TMP/npycmp" "$TMP/after.npy" "$F/digits_resavg/expected.npy" >/dev/null 2>&1; then
	ok "after a restart: list, status and result of a job that finished before it"
else
	not_ok "records survive a restart" "$(field alpha "$fid" state); $(cat "$TMP/err")"
fi
if [ "$killed_running" != running ]; then
	skip "a job running at a SIGKILL is recorded aborted" "the job was $killed_running at the kill"
elif state_is alpha "$lid" aborted && field alpha "$lid" reason | grep -q 'the daemon restarted'; then
	ok "a job running at a SIGKILL is recorded aborted: the daemon restarted"
else
	not_ok "a running job at a crash" "$(field alpha "$lid" state): $(field alpha "$lid" reason)"
fi
if grep -q "job record .*0123456789abcdef0123456789abcdef.job skipped: not a job record" "$CL_DIR/alpha.log" &&
	grep -q "job record .*00000000000000000000000000000000.job skipped: malformed" "$CL_DIR/alpha.log" &&
	grep -q "job record .*11111111111111111111111111111111.job skipped: the id is not the file's name" "$CL_DIR/alpha.log" &&
	alive alpha; then
	ok "corrupt records (no magic, bad protobuf, another job's id) are skipped with a log line; the daemon runs"
else
	not_ok "a corrupt record" "$(grep -i record "$CL_DIR/alpha.log" | tail -n 3)"
fi
rm -f "$CL_DIR/alpha/jobs/0123456789abcdef0123456789abcdef.job" "$CL_DIR/alpha/jobs/00000000000000000000000000000000.job" \
	"$CL_DIR/alpha/jobs/11111111111111111111111111111111.job"

# ---- SIGHUP: reload ----

reloaded() { [ "$(grep -c "$2" "$CL_DIR/$1.log")" -gt "${3:-0}" ]; }
hup() {
	local before
	before=$(grep -c "reload" "$CL_DIR/$1.log")
	kill -HUP "$(cluster_pid "$1")"
	wait_until 30 reloaded "$1" reload "$before"
}
cluster_wait_peers alpha 3
# 17. A model added to the file runs without a restart.
model alpha resavg2 "$F/digits_resavg/model.onnx"
cluster_write_configs
before_links=$(grep -c 'link closed' "$CL_DIR/alpha.log")
peer_sinces() { ctl alpha peers --json | grep -o '"since": [0-9]*' | tr '\n' ' '; }
before_since=$(peer_sinces)
if hup alpha && grep -q 'reloaded .*alpha.conf' "$CL_DIR/alpha.log" &&
	id=$(submit alpha --model alpha:resavg2 --input input=beta:digits --output alpha) &&
	ctl alpha wait "$id" --timeout 120 >/dev/null 2>"$TMP/err"; then
	ok "SIGHUP: a [Model] added to the file runs without a restart"
else
	not_ok "reload adds a model" "$(grep reload "$CL_DIR/alpha.log" | tail -n 2) $(cat "$TMP/err")"
fi
if alive alpha && [ "$(grep -c 'link closed' "$CL_DIR/alpha.log")" = "$before_links" ] &&
	[ "$(peer_sinces)" = "$before_since" ] && cluster_wait_peers alpha 3 2>/dev/null; then
	ok "SIGHUP: every link stays up when the peers did not change"
else
	not_ok "links kept" "$(peer_sinces) vs $before_since; $(grep 'link closed' "$CL_DIR/alpha.log" | tail -n 2)"
fi

# 19. A running job survives a reload.
if id=$(submit alpha --model alpha:resavg --input input=beta:many --output alpha --chunk-rows 2) &&
	wait_until 60 rows_moving alpha "$id" && dataset alpha extra "$F/digits_resavg/input.npy" &&
	cluster_write_configs && hup alpha &&
	ctl alpha wait "$id" --timeout 300 >/dev/null 2>"$TMP/err"; then
	ok "SIGHUP while a job runs: the job finishes"
else
	not_ok "a running job survives a reload" "$(field alpha "${id:-x}" state): $(cat "$TMP/err")"
fi

# 20. A file with an error: refused with one line, the old configuration in force.
cp "$CL_DIR/alpha.conf" "$TMP/alpha.good"
printf '\n[Model]\nName = broken\nPath = %s\nBogus = 1\n' "$F/digits_resavg/model.onnx" >>"$CL_DIR/alpha.conf"
if hup alpha && [ "$(grep -c 'reload refused: .*alpha.conf:[0-9]*: .*Bogus' "$CL_DIR/alpha.log")" = 1 ] &&
	id=$(submit alpha --model alpha:resavg2 --input input=beta:digits --output alpha) &&
	ctl alpha wait "$id" --timeout 120 >/dev/null 2>"$TMP/err"; then
	ok "SIGHUP with an error in the file: one line in the log, the old configuration runs jobs"
else
	not_ok "a bad reload" "$(grep reload "$CL_DIR/alpha.log" | tail -n 2) $(cat "$TMP/err")"
fi
cp "$TMP/alpha.good" "$CL_DIR/alpha.conf"
# [Node] takes a restart: refused too.
sed -i 's/^IdleTimeout = .*/IdleTimeout = 11/' "$CL_DIR/alpha.conf"
if hup alpha && grep -q 'reload refused: .*\[Node\] a limit' "$CL_DIR/alpha.log"; then
	ok "SIGHUP with a [Node] change: refused, it takes a restart"
else
	not_ok "[Node] on a reload" "$(grep reload "$CL_DIR/alpha.log" | tail -n 2)"
fi
cp "$TMP/alpha.good" "$CL_DIR/alpha.conf"

# 22-23. A removed peer's link closes, the others stay; configured again, it reconnects.
since_beta=$(ctl alpha peers --json | grep '"name": "beta"' | jget since)
gone_peer() { ! ctl "$1" peers | grep -q "^$2 "; }
# gamma's [Peer] paragraph out, and gamma out of the policy's lists.
awk 'BEGIN { RS = ""; ORS = "\n\n" } !/^\[Peer\]\nName = gamma\n/' "$TMP/alpha.good" |
	sed -E '/^Allow/ s/,?gamma//' >"$CL_DIR/alpha.conf"
if ! grep -q 'gamma' "$CL_DIR/alpha.conf" && hup alpha && wait_until 30 gone_peer alpha gamma &&
	connected alpha beta &&
	[ "$(ctl alpha peers --json | grep '"name": "beta"' | jget since)" = "$since_beta" ] &&
	grep -q 'peer gamma: link closed: gamma was removed from the configuration' "$CL_DIR/alpha.log"; then
	ok "SIGHUP without gamma's [Peer]: its link closes, beta's stays up"
else
	not_ok "a removed peer" "$(grep reload "$CL_DIR/alpha.log" | tail -n 2); $(ctl alpha peers 2>&1)"
fi
cp "$TMP/alpha.good" "$CL_DIR/alpha.conf"
if hup alpha && wait_until 30 connected alpha gamma; then
	ok "SIGHUP with gamma's [Peer] back: the link comes up again"
else
	not_ok "a peer configured again" "$(ctl alpha peers 2>&1)"
fi

# 23. A peer's key changed: that link alone is dropped and redialled.
other_key=$("$MPCCTL" genkey | "$MPCCTL" pubkey)
dealer_key=$(cat "$CL_DIR/dealer.pub")
since_beta=$(ctl alpha peers --json | grep '"name": "beta"' | jget since)
sed "s|^PublicKey = $dealer_key\$|PublicKey = $other_key|" "$TMP/alpha.good" >"$CL_DIR/alpha.conf"
down() { ! connected "$1" "$2"; }
if grep -q "$other_key" "$CL_DIR/alpha.conf" && hup alpha && wait_until 30 down alpha dealer &&
	grep -q 'peer dealer: link closed: the configuration of dealer changed' "$CL_DIR/alpha.log" &&
	connected alpha beta &&
	[ "$(ctl alpha peers --json | grep '"name": "beta"' | jget since)" = "$since_beta" ] &&
	cp "$TMP/alpha.good" "$CL_DIR/alpha.conf" && hup alpha && wait_until 30 connected alpha dealer; then
	ok "SIGHUP with another key for dealer: its link alone drops; with its key back it comes up"
else
	not_ok "a changed peer key" "$(grep -E 'reload|dealer' "$CL_DIR/alpha.log" | tail -n 4); $(ctl alpha peers 2>&1)"
fi
cp "$TMP/alpha.good" "$CL_DIR/alpha.conf"

# 24. ResultRetention: old records and results go together (a restart with 1 s).
echo "ResultRetention = 1" >"$CL_DIR/alpha.node"
cluster_write_configs
cluster_stop alpha
no_records() { [ -z "$(ls "$CL_DIR/alpha/jobs")" ] && [ -z "$(ls "$CL_DIR/alpha/results")" ] && [ -z "$(ctl alpha list | tail -n +2)" ]; }
sleep 1.1
if cluster_start alpha && watch_log "$CL_DIR/alpha.log" && wait_until 30 no_records; then
	ok "ResultRetention: expired records and result files removed together, after a restart too"
else
	not_ok "ResultRetention" "jobs: $(ls "$CL_DIR/alpha/jobs" | head -n 3); results: $(ls "$CL_DIR/alpha/results" | head -n 3)"
fi

still_serving "every daemon still serves" alpha beta gamma dealer
stop_clean "SIGTERM: every daemon exits 0, no sanitizer report"
finish

#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Integration tests of mpcd, consortium A: daemons as processes on
# loopback, driven with mpcctl. Usage:
#
#   tests/daemon/test_daemon.sh MPCCTL [MPCD]
#
# MPCD defaults to mpcd beside MPCCTL. Seven daemons (alpha, beta, gamma,
# delta, epsilon, kappa, dealer; MaxFrame 64 KiB everywhere): every fixture
# model as a job, jobs of 2, 3 and 4 parties (the dealer's corrections on a
# party that does not own the model), pooling in 2 and 3 parts by rows and
# by columns, 12 and 20 fractional bits, a CSV result, policy refusals,
# manual approval, MaxJobs, cancel and expiry, bad job specs, garbage on
# the control socket; then SIGTERM: every daemon must exit 0 with no
# sanitizer report. The same in every mode (DAEMON_TESTS=quick too).
# Consortium B (faults) is tests/daemon/test_faults.sh.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/cli/lib.sh
. tests/daemon/helpers.sh "$@"
plan 58

# ---- consortium A: jobs, policy, approval, bad requests ----

# ---- consortium A: jobs, policy, approval, bad requests ----

# alpha, beta, gamma, kappa: compute, default policy but for beta (no
# result to gamma); delta: manual approval, proposals from alpha and gamma
# only, one job at a time; epsilon: manual approval that expires after 2 s.
# Every node has the smallest MaxFrame (64 KiB): larger messages go in
# chunks. Jobs of 2 and 4 parties put the dealer's corrections (party n-1,
# the last name) on a party that does not own the model.
consortium_a() {
	local d=$TMP/a s
	mkdir -p "$d"
	cluster_init "$d" alpha beta gamma delta epsilon kappa dealer || return 1
	"$TMP/npycmp" --split-rows 40 "$F/digits_mlp/input.npy" "$d/digits_top.npy" "$d/digits_bottom.npy" &&
		"$TMP/npycmp" --split-rows 24 "$F/tiny_cnn/input.npy" "$d/tiny_top.npy" "$d/tiny_bottom.npy" &&
		"$TMP/npycmp" --split-rows 20,20 "$F/digits_mlp/input.npy" "$d/d0.npy" "$d/d1.npy" "$d/d2.npy" &&
		"$TMP/npycmp" --split-cols 5,4 "$F/wine_mlp/input.npy" "$d/w0.npy" "$d/w1.npy" "$d/w2.npy" ||
		return 1
	dataset alpha cols_a "$F/wine_mlp/input_party0.npy"
	dataset alpha digits_top "$d/digits_top.npy"
	dataset alpha tiny_top "$d/tiny_top.npy"
	dataset alpha tiny "$F/tiny_cnn/input.npy"
	dataset alpha d0 "$d/d0.npy"
	dataset alpha w0 "$d/w0.npy"
	dataset beta cols_b "$F/wine_mlp/input_party1.npy"
	dataset beta digits_bottom "$d/digits_bottom.npy"
	dataset beta tiny_bottom "$d/tiny_bottom.npy"
	dataset beta iris "$F/iris_logreg/input.npy"
	dataset beta digits "$F/digits_mlp/input.npy"
	dataset beta d1 "$d/d1.npy"
	dataset beta w1 "$d/w1.npy"
	dataset gamma digits "$F/digits_bn_softmax/input.npy"
	dataset delta iris "$F/iris_logreg/input.npy"
	dataset epsilon iris "$F/iris_logreg/input.npy"
	dataset kappa d2 "$d/d2.npy"
	dataset kappa w2 "$d/w2.npy"
	model gamma iris "$F/iris_logreg/model.onnx"
	model gamma wine "$F/wine_mlp/model.onnx"
	model gamma resavg "$F/digits_resavg/model.onnx"
	s=model_noweights.onnx
	model gamma digits_mlp "$F/digits_mlp/$s" "$F/digits_mlp/weights.safetensors"
	model gamma tiny_cnn "$F/tiny_cnn/$s" "$F/tiny_cnn/weights.safetensors"
	model beta bn_softmax "$F/digits_bn_softmax/$s" "$F/digits_bn_softmax/weights.safetensors"
	model alpha digits_mlp "$F/digits_mlp/model.onnx"
	model gamma graph_view "$F/graph_view/model.onnx"
	model gamma graph_plain "$F/graph_plain/model.onnx"
	dataset beta gview "$F/graph_view/input.npy"
	dataset alpha gplain0 "$F/graph_plain/input_part0.npy"
	dataset beta gplain1 "$F/graph_plain/input_part1.npy"
	for s in alpha beta gamma delta epsilon kappa dealer; do echo "MaxFrame = 64K" >"$d/$s.node"; done
	# alpha proposes ChaCha20-Poly1305 and is the only one to dial its
	# links; the others propose AES-GCM where the CPU has it.
	echo "Cipher = chachapoly" >>"$d/alpha.node"
	echo "MaxJobs = 1" >>"$d/delta.node"
	for s in beta gamma delta epsilon kappa dealer; do cluster_peer_set "$s" alpha Endpoint ""; done
	policy beta "Approve = auto
AllowRecipients = alpha, beta, delta, epsilon
AllowPeers = alpha, gamma, delta, epsilon"
	policy delta "Approve = manual
ApproveTimeout = 60
AllowRecipients = alpha, beta, gamma, delta, epsilon
AllowPeers = alpha, gamma"
	policy epsilon "Approve = manual
ApproveTimeout = 2
AllowRecipients = alpha, beta, gamma, delta, epsilon
AllowPeers = alpha, beta, gamma, delta"
	start_all || return 1
	for s in alpha beta gamma delta epsilon kappa; do cluster_wait_peers $s 6 || return 1; done
}

# Both suites are in use: alpha's links ChaCha20-Poly1305 (its Cipher),
# beta-gamma AES-256-GCM where the CPU has AES-NI (Cipher = auto).
cipher_check() {
	local want=ChaCha20-Poly1305
	grep -q aes /proc/cpuinfo && want=AES-256-GCM
	if grep -q "peer gamma: connected (outgoing, ChaCha20-Poly1305)" "$CL_DIR/alpha.log" &&
		grep -q "peer gamma: connected (.*, $want)" "$CL_DIR/beta.log"; then
		ok "ciphers: alpha's links ChaCha20-Poly1305 (Cipher = chachapoly), beta-gamma $want"
	else
		not_ok "ciphers: alpha's links ChaCha20-Poly1305, beta-gamma $want" \
			"$(grep -h connected "$CL_DIR/alpha.log" "$CL_DIR/beta.log")"
	fi
}

fixture_jobs() {
	fixture_job "wine_mlp, vertical pooling (alpha's columns, beta's columns)" alpha alpha \
		"$F/wine_mlp/expected.npy" --model gamma:wine --input input=alpha:cols_a,beta:cols_b \
		--output alpha --offline dealer:dealer
	fixture_job "digits_mlp, horizontal pooling (40 rows + 24 rows), weights from safetensors" \
		alpha alpha,beta "$F/digits_mlp/expected.npy" --model gamma:digits_mlp \
		--input input=alpha:digits_top+beta:digits_bottom --output alpha,beta
	fixture_job "iris_logreg (data on beta, model on gamma, result to alpha)" alpha alpha \
		"$F/iris_logreg/expected.npy" --model gamma:iris --input input=beta:iris --output alpha
	fixture_job "tiny_cnn, horizontal pooling of 4-D inputs, proposed by beta" beta beta \
		"$F/tiny_cnn/expected.npy" --model gamma:tiny_cnn \
		--input input=alpha:tiny_top+beta:tiny_bottom --output beta
	fixture_job "digits_resavg (residual Add, pools), proposed by the model owner" gamma beta \
		"$F/digits_resavg/expected.npy" --model gamma:resavg --input input=alpha:tiny \
		--output beta
	fixture_job "digits_bn_softmax (BatchNorm, Softmax; model on beta)" alpha alpha \
		"$F/digits_bn_softmax/expected.npy" --model beta:bn_softmax --input input=gamma:digits \
		--output alpha
}

# Issue 10: models as torch.onnx.export writes them. The flatten's shape
# is computed from Shape (folded by every party, per chunk of rows); a
# plain export names its input 'onnx::Gemm_0'; a binding to a name the
# model does not have is refused naming the real one, before any byte moves.
export_jobs() {
	fixture_job "graph_view: x.view(x.size(0), -1) with a dynamic batch, chunks of 5 rows" \
		alpha alpha "$F/graph_view/expected.npy" --model gamma:graph_view \
		--input input=beta:gview --output alpha --chunk-rows 5
	fixture_job "graph_plain: the input 'onnx::Gemm_0' of a plain export, in 2 column parts" \
		alpha alpha "$F/graph_plain/expected.npy" --model gamma:graph_plain \
		--input "onnx::Gemm_0=alpha:gplain0,beta:gplain1" --output alpha
	refused "a binding to an input the model does not have names the model's inputs" alpha \
		"the job binds 'input', which is not an input of the model; its data input is 'onnx::Gemm_0'" \
		alpha,beta,gamma,dealer --model gamma:graph_plain \
		--input "input=alpha:gplain0,beta:gplain1" --output alpha
}

# Parties are numbered in name order and the dealer's corrections go to the
# last: beta in the 2-party job, kappa in the 4-party ones (gamma owns the
# model). Also 12 and 20 fractional bits, pooling in 3 parts, a CSV result.
party_jobs() {
	fixture_job "digits_mlp, 2 parties (model on alpha, data on beta: corrections to beta), 12 fractional bits" \
		alpha alpha,beta "$F/digits_mlp/expected.npy" --model alpha:digits_mlp \
		--input input=beta:digits --output alpha,beta --frac-bits 12
	fixture_job "digits_mlp, 4 parties, rows in 3 parts (alpha+beta+kappa; corrections to kappa)" \
		alpha alpha "$F/digits_mlp/expected.npy" --model gamma:digits_mlp \
		--input input=alpha:d0+beta:d1+kappa:d2 --output alpha
	EXT=csv fixture_job "wine_mlp, 4 parties, columns in 3 parts, 20 fractional bits, result -o x.csv" \
		beta beta "$F/wine_mlp/expected.npy" --model gamma:wine \
		--input input=alpha:w0,beta:w1,kappa:w2 --output beta --frac-bits 20
}

policy_tests() {
	refused "policy: a recipient beta does not allow is refused" alpha \
		"beta: recipient 'gamma' is not in AllowRecipients" alpha,beta,gamma,dealer \
		--model gamma:iris --input input=beta:iris --output gamma
	refused "policy: a dataset beta does not have is refused" alpha \
		"beta: dataset 'nosuch' is not configured here" alpha,beta,gamma,dealer \
		--model gamma:iris --input input=beta:nosuch --output alpha
	refused "policy: beta may not propose to delta" beta \
		"delta: peer 'beta' may not propose jobs (AllowPeers)" beta,gamma,delta,dealer \
		--model gamma:iris --input input=delta:iris --output beta
	refused "policy: a model gamma does not have is refused" alpha \
		"gamma: model 'nosuch' is not configured here" alpha,beta,gamma,dealer \
		--model gamma:nosuch --input input=beta:iris --output alpha
}

approval_tests() {
	local id id2 w
	if ! id=$(submit alpha --model gamma:iris --input input=delta:iris --output alpha); then
		not_ok "manual approval: submit" "$(cat "$TMP/err")"
		return
	fi
	# Waits: pending on delta and still proposed on alpha, after the
	# others have all answered (gamma and the dealer accept at once).
	if wait_until 30 state_is delta "$id" pending-approval &&
		wait_until 30 state_is gamma "$id" accepted && state_is delta "$id" pending-approval &&
		state_is alpha "$id" proposed && [ "$(field delta "$id" needs_approval)" = true ]; then
		ok "manual approval: the job waits (pending-approval on delta, proposed on alpha)"
	else
		not_ok "manual approval: the job waits" "delta: $(field delta "$id" state)," \
			"gamma: $(field gamma "$id" state), alpha: $(field alpha "$id" state) $(field alpha "$id" reason)"
	fi
	no_traffic "manual approval: nothing sent before approval" "$id" alpha delta gamma dealer
	# delta has MaxJobs = 1 and the job above waits there.
	refused "MaxJobs: a second job on delta is refused while one waits" alpha \
		"running its maximum of 1 jobs (MaxJobs)" alpha,gamma,delta,dealer \
		--model gamma:iris --input input=delta:iris --output gamma
	if ctl delta approve "$id" 2>"$TMP/err"; then
		result_matches "manual approval: runs after mpcctl approve on delta" alpha "$id" \
			"$F/iris_logreg/expected.npy"
	else
		not_ok "manual approval: mpcctl approve" "$(cat "$TMP/err")"
	fi
	# mpcctl cancel on the proposer while delta holds the job.
	if ! id2=$(submit alpha --model gamma:iris --input input=delta:iris --output alpha) ||
		! wait_until 30 state_is delta "$id2" pending-approval; then
		not_ok "cancel: a job waiting on delta" "$(cat "$TMP/err") $(field delta "$id2" state)"
	elif ! ctl alpha cancel "$id2" >"$TMP/out" 2>"$TMP/err"; then
		not_ok "cancel: mpcctl cancel" "$(cat "$TMP/err")"
	else
		for w in alpha delta gamma dealer; do wait_until 30 ended "$w" "$id2"; done
		CONTAINS="cancelled by the operator of alpha" \
			same_end "cancel: aborted on every party with alpha's reason" "$id2" alpha delta gamma dealer
	fi
	no_traffic "cancel: no bytes of the job on any node" "${id2:-none}" alpha delta gamma dealer
	if ! id=$(submit alpha --model gamma:iris --input input=epsilon:iris --output alpha); then
		not_ok "approval expiry: submit" "$(cat "$TMP/err")"
		return
	fi
	ctl alpha wait "$id" --timeout 30 >/dev/null 2>"$TMP/err"
	w=$(field alpha "$id" reason)
	if state_is alpha "$id" aborted && echo "$w" | grep -q "epsilon: not approved in time" &&
		wait_until 30 state_is epsilon "$id" aborted; then
		ok "approval expiry: aborted on the proposer with the reason (ApproveTimeout = 2)"
	else
		not_ok "approval expiry" "alpha: $(field alpha "$id" state) '$w';" \
			"epsilon: $(field epsilon "$id" state)"
	fi
	no_traffic "approval expiry: no bytes of the job on any node" "$id" alpha gamma epsilon dealer
}

# jobs_on_alpha: how many jobs alpha lists (or why mpcctl list failed).
jobs_on_alpha() {
	ctl alpha list --json >"$TMP/list" 2>"$TMP/lerr" || { echo "list failed: $(cat "$TMP/lerr")"; return; }
	grep -c '"id"' "$TMP/list"
}

bad_specs() {
	local before after
	before=$(jobs_on_alpha)
	expect_bad "bad spec: malformed --input" "expected NAME=NODE:DATASET" \
		--model gamma:iris --input input=beta --output alpha
	expect_bad "bad spec: unknown node" "party 'nosuch' is not a configured peer" \
		--model gamma:iris --input input=nosuch:iris --output alpha
	expect_bad "bad spec: unknown dataset of the proposer" "dataset 'nosuch' is not configured here" \
		--model gamma:iris --input input=alpha:nosuch --output alpha
	expect_bad "bad spec: unknown recipient" "'nobody' is not a configured peer" \
		--model gamma:iris --input input=beta:iris --output nobody
	USAGE=1 expect_bad "bad spec: missing --output" "--output is required" \
		--model gamma:iris --input input=beta:iris
	expect_bad "bad spec: --offline ot (not available)" "--offline ot" \
		--model gamma:iris --input input=beta:iris --output alpha --offline ot
	expect_bad "bad spec: a dealer that is not one" "'beta' is not a configured dealer" \
		--model gamma:iris --input input=beta:iris --output alpha --offline dealer:beta
	after=$(jobs_on_alpha)
	if [ "$before" = "$after" ] && [ "$after" -gt 0 ] 2>/dev/null; then
		ok "bad specs: no job was created"
	else
		not_ok "bad specs: no job was created" "$before jobs before, $after after"
	fi
	if ctl gamma result "$(jget id <"$TMP/list")" -o "$TMP/x.npy" 2>"$TMP/err"; then
		not_ok "result on a node that is not a recipient is refused"
	elif [ "$(wc -l <"$TMP/err")" -eq 1 ] && [ ! -e "$TMP/x.npy" ]; then
		ok "result on a node that is not a recipient is refused"
	else
		not_ok "result on a node that is not a recipient is refused" "$(cat "$TMP/err")"
	fi
	still_serving "bad specs: the daemons still serve" alpha beta gamma
}

# garbage NAME WANT HEX [RANDOM-BYTES]: raw bytes to alpha's control
# socket; the reply contains WANT (empty: anything, even none).
garbage() {
	local name=$1 want=$2 out
	out=$("$TMP/tproxy" --unix "$CL_DIR/alpha.sock" --send "$3" --send-random "${4:-0}" \
		--max-seconds 5 2>&1)
	if ! alive alpha; then
		not_ok "$name" "alpha is gone: $out; $(tail -n 5 "$CL_DIR/alpha.log")"
	elif [ -n "$want" ] && ! echo "$out" | grep -qF -- "$want"; then
		not_ok "$name" "$out"
	else
		ok "$name"
	fi
}

control_garbage() {
	garbage "control socket: connect and close" "" ""
	garbage "control socket: an empty request" "unknown request" 00000000
	garbage "control socket: a length of 4 GiB" "request too large" ffffffff
	garbage "control socket: a length over the limit" "request too large" 00010001
	garbage "control socket: random protobuf bytes" "" 00000040 64
	garbage "control socket: a cut request" "" 00001000 16
	garbage "control socket: 256 KiB of noise" "" "" 262144
	# Valid protobuf with empty or odd fields: Submit{}, Status{}, Approve{},
	# Cancel{}, Result{}, and Submit{model "a:b", inputs "x", outputs ""}.
	garbage "control socket: an empty Submit" "--model" 000000021200
	garbage "control socket: an empty Status" "too short" 000000022200
	garbage "control socket: an empty Approve" "too short" 000000022a00
	garbage "control socket: an empty Cancel" "too short" 000000023200
	garbage "control socket: an empty Result" "too short" 000000023a00
	garbage "control socket: a Submit with a bad input" "expected NAME=NODE:DATASET" \
		0000000c120a0a03613a621201781a00
}

# ---- main ----

begin
if consortium_a; then
	ok "consortium A: seven daemons connect"
	cipher_check
	fixture_jobs
	export_jobs
	party_jobs
	policy_tests
	approval_tests
	bad_specs
	control_garbage
else
	not_ok "consortium A: seven daemons connect" "$(tail -n 3 "$CL_DIR"/*.log)"
fi
stop_clean "consortium A: every daemon exits 0 on SIGTERM, no sanitizer report"
finish

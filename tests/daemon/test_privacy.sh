#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The privacy promise as daemons keep it (docs/security.md, issue 8):
# reasons that cross a link carry no value, cell text or local path (the
# failing node keeps the detail); inputs outside the fixed-point range are
# refused before anything is shared; a data owner's AllowModels refuses a
# model by its public graph hash before reading any data, and accepts the
# listed one; every party keeps the public graph it checked; weights held
# in a Constant node or an INT64 initializer (tests/fixtures/privacy/)
# never reach another party: no 16-byte run of them occurs anywhere on a
# node that does not own the model. Usage:
#
#   tests/daemon/test_privacy.sh MPCCTL [MPCD]
#
# One consortium: alpha, beta, gamma (compute; gamma owns the models) and
# a dealer, a few small iris jobs and one job per privacy fixture.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/cli/lib.sh
. tests/daemon/helpers.sh "$@"

# patch_f32 FILE INDEX HEX: overwrite float32 number INDEX of a .npy with a
# v1 header of 128 bytes (the fixtures') by the 4 little-endian bytes HEX.
patch_f32() {
	local b
	b=$(echo "$3" | sed 's/\(..\)/\\x\1/g')
	# shellcheck disable=SC2059
	printf "$b" | dd of="$1" bs=1 seek=$((128 + 4 * $2)) conv=notrunc status=none
}

# all_ended JOB NODE...: the job ended on every node (or is unknown there).
all_ended() {
	local id=$1 n
	shift
	for n in "$@"; do
		ctl "$n" status "$id" >/dev/null 2>&1 || continue
		ended "$n" "$id" || return 1
	done
}

# leak_free NAME JOB FAILING PATTERN...: on every node but FAILING, neither
# the log, the audit log nor `mpcctl status` of the job contains any of the
# fixed strings; on FAILING, the status shows a detail with the first one.
leak_free() {
	local name=$1 id=$2 failing=$3 n p bad=""
	shift 3
	wait_until 20 all_ended "$id" alpha beta gamma dealer
	for n in alpha beta gamma dealer; do
		[ "$n" = "$failing" ] && continue
		ctl "$n" status "$id" >"$TMP/st.$n" 2>&1
		ctl "$n" status "$id" --json >>"$TMP/st.$n" 2>&1
		for p in "$@"; do
			grep -qF -- "$p" "$CL_DIR/$n.log" "$CL_DIR/$n/audit.log" "$TMP/st.$n" &&
				bad="$bad $n:'$p'"
		done
	done
	if [ -n "$bad" ]; then
		not_ok "$name" "found:$bad; alpha's reason: $(field alpha "$id" reason)"
	elif ! field "$failing" "$id" detail | grep -qF -- "$1"; then
		not_ok "$name" "$failing's own status lacks the detail '$1':" \
			"$(ctl "$failing" status "$id" 2>&1 | head -n 4)"
	else
		ok "$name"
	fi
}

# aborted_with NAME JOB NODE WANT: aborted on NODE, its reason contains WANT.
aborted_with() {
	local r
	wait_until 20 ended "$3" "$2"
	r=$(field "$3" "$2" reason)
	if state_is "$3" "$2" aborted && echo "$r" | grep -qF -- "$4"; then
		ok "$1"
	else
		not_ok "$1" "$3: $(field "$3" "$2" state): '$r'"
	fi
}

# no_traffic NAME JOB NODE...: no protocol byte of the job moved anywhere.
no_traffic() {
	local name=$1 id=$2 n js bad=""
	shift 2
	for n in "$@"; do
		js=$(ctl "$n" status "$id" --json 2>/dev/null) || continue
		[ "$(echo "$js" | jget bytes_sent)" = 0 ] && [ "$(echo "$js" | jget bytes_recv)" = 0 ] ||
			bad="$bad $n"
	done
	if [ -n "$bad" ]; then not_ok "$name" "bytes moved on:$bad"; else ok "$name"; fi
}

start_all() {
	local n
	cluster_write_configs
	for n in "${CL_NODES[@]}"; do cluster_start "$n" || return 1; done
	for n in alpha beta gamma; do cluster_wait_peers "$n" 3 || return 1; done
}

plan 21

# npycmp and freeport (tests/cli/lib.sh), before cluster_init asks for ports.
begin

# The privacy fixtures: each model's public graph hash as `mpcctl inspect`
# prints it for the owner's file (alpha will list them in AllowModels).
P=$F/privacy
declare -A PH
for m in constant_gemm int64_gemm; do
	PH[$m]=$(run_checked "$MPCCTL" inspect --model "$P/$m.onnx" 2>/dev/null | sed -n 's/^hash *//p')
done

d=$TMP/c
mkdir -p "$d"
cluster_init "$d" alpha beta gamma dealer
cp "$F/iris_logreg/input.npy" "$d/huge.npy"
patch_f32 "$d/huge.npy" 7 0c91e056 # 1.23457e+14: fits no fixed point
cp "$F/iris_logreg/input.npy" "$d/big.npy"
patch_f32 "$d/big.npy" 5 00247449  # 1e6: fits the ring, not a product
printf 'a,b,c,d\nJane Doe 1962-04-01,1,2,3\n' >"$d/jane.csv"
dataset beta iris "$F/iris_logreg/input.npy"
dataset beta huge "$d/huge.npy"
dataset beta big "$d/big.npy"
dataset beta jane "$d/jane.csv"
dataset alpha iris "$F/iris_logreg/input.npy"
dataset alpha gone "$d/no-such-file.npy"
model gamma iris "$F/iris_logreg/model.onnx"
model gamma wine "$F/wine_mlp/model.onnx"
model gamma constant_gemm "$P/constant_gemm.onnx"
model gamma int64_gemm "$P/int64_gemm.onnx"
dataset alpha constant_gemm "$P/constant_gemm.input.npy"
dataset alpha int64_gemm "$P/int64_gemm.input.npy"
# alpha binds its data to one public graph: first one that is not iris's.
alpha_policy() {
	printf '\n[Policy]\nApprove = auto\nAllowRecipients = alpha, beta, gamma\n' >>"$CL_DIR/alpha.extra"
	printf 'AllowPeers = beta, gamma\nAllowModels = %s\n' "$1" >>"$CL_DIR/alpha.extra"
}
ZERO=0000000000000000000000000000000000000000000000000000000000000000
cp "$CL_DIR/alpha.extra" "$TMP/alpha.extra"
alpha_policy "$ZERO"
if ! start_all; then
	echo "# the consortium did not start"
	finish
	exit 1
fi

# 1-2. A job that runs: every party checked the same public graph, and the
# data owner kept the bytes it checked, named by their SHA-256.
H=
if id=$(submit alpha --model gamma:iris --input input=beta:iris --output alpha) &&
	ctl alpha wait "$id" --timeout 60 >/dev/null 2>"$TMP/err"; then
	H=$(field beta "$id" model_hash)
	# The hash of the public graph, not of the owner's file (with weights).
	if [ ${#H} = 64 ] && [ "$(field alpha "$id" model_hash)" = "$H" ] &&
		[ "$(sha256sum <"$F/iris_logreg/model.onnx" | cut -c1-64)" != "$H" ] &&
		[ "$(field dealer "$id" model_hash)" = "$H" ] &&
		[ "$(field gamma "$id" model_hash)" = "$H" ]; then
		ok "a job: every party shows the same public graph hash ($(echo "$H" | cut -c1-12)...)"
	else
		not_ok "a job: every party shows the same public graph hash" \
			"beta '$H' alpha '$(field alpha "$id" model_hash)' gamma '$(field gamma "$id" model_hash)'"
	fi
	if [ -f "$CL_DIR/beta/graphs/$H.onnx" ] &&
		[ "$(sha256sum <"$CL_DIR/beta/graphs/$H.onnx" | cut -c1-64)" = "$H" ]; then
		ok "the data owner keeps the public graph it checked (DataDir/graphs/HASH.onnx)"
	else
		not_ok "the data owner keeps the public graph it checked" "$(ls "$CL_DIR/beta" 2>&1)"
	fi
else
	not_ok "a job: every party shows the same public graph hash" "$(cat "$TMP/err")"
	not_ok "the data owner keeps the public graph it checked" "no job"
fi

# 3-4. A value that fits no fixed point: the others learn only that.
if id=$(submit alpha --model gamma:iris --input input=beta:huge --output alpha); then
	aborted_with "a huge input value: aborted everywhere with a public reason" "$id" alpha \
		"beta: input 'input' part 0: value out of range"
	leak_free "a huge input value: no value, index or path on another party (beta keeps it)" \
		"$id" beta 1.23457e+14 123456789 "index 7" "$d/huge.npy"
else
	not_ok "a huge input value: submit" "$(cat "$TMP/err")"
	not_ok "a huge input value: no leak" "no job"
fi

# 5-6. A value in the ring but beyond what a product allows: refused
# before anything is shared.
if id=$(submit alpha --model gamma:iris --input input=beta:big --output alpha); then
	aborted_with "range check: 1e6 at 16 fractional bits is refused with the reason" "$id" alpha \
		"beta: input 'input' part 0: value out of range"
	no_traffic "range check: refused before any share moved" "$id" alpha beta gamma dealer
else
	not_ok "range check: submit" "$(cat "$TMP/err")"
	not_ok "range check: no traffic" "no job"
fi

# 7-8. A CSV cell with a name and a birth date.
if id=$(submit alpha --model gamma:iris --input input=beta:jane --output alpha); then
	aborted_with "a bad CSV cell: the reason names the dataset and the line only" "$id" alpha \
		"beta: dataset 'jane': not a number at line 2"
	leak_free "a bad CSV cell: no cell text or path on another party (beta keeps it)" \
		"$id" beta "Jane Doe" 1962 jane.csv
else
	not_ok "a bad CSV cell: submit" "$(cat "$TMP/err")"
	not_ok "a bad CSV cell: no leak" "no job"
fi

# 9-10. AllowModels on alpha lists another graph: refused with the hash,
# before the dataset is read (its file does not even exist).
if id=$(submit beta --model gamma:iris --input input=alpha:gone --output beta); then
	aborted_with "AllowModels: another model is refused, the reason names its hash" "$id" beta \
		"alpha: model hash $(echo "$H" | cut -c1-8)... is not in AllowModels"
	no_traffic "AllowModels: no byte of the refused job moved" "$id" alpha beta gamma dealer
else
	not_ok "AllowModels: submit" "$(cat "$TMP/err")"
	not_ok "AllowModels: no traffic" "no job"
fi

# 11. A node's own submission is bound too.
if id=$(submit alpha --model gamma:wine --input input=alpha:gone --output alpha); then
	wait_until 20 ended alpha "$id"
	if state_is alpha "$id" aborted && field alpha "$id" reason | grep -q "not in AllowModels"; then
		ok "AllowModels: the data owner's own job with another model is refused"
	else
		not_ok "AllowModels: own job" "$(field alpha "$id" state): $(field alpha "$id" reason)"
	fi
else
	not_ok "AllowModels: own job" "$(cat "$TMP/err")"
fi

# 12. With iris's hash listed, alpha's data runs under that model (and
# under the privacy fixtures', for 13-20).
cp "$TMP/alpha.extra" "$CL_DIR/alpha.extra"
alpha_policy "${H:-$ZERO}, ${PH[constant_gemm]:-$ZERO}, ${PH[int64_gemm]:-$ZERO}"
cluster_write_configs
cluster_stop alpha
if cluster_start alpha && cluster_wait_peers alpha 3 &&
	id=$(submit beta --model gamma:iris --input input=alpha:iris --output beta) &&
	ctl beta wait "$id" --timeout 60 >/dev/null 2>"$TMP/err"; then
	ok "AllowModels: the listed model runs on alpha's data"
else
	not_ok "AllowModels: the listed model runs" "$(cat "$TMP/err"); $(tail -n 3 "$CL_DIR/alpha.log")"
fi

# 13-20. Weights that the code before the allowlist sent in plaintext:
# a Constant node's float32 value, an INT64 initializer. gamma owns the
# model, alpha holds the input and alone receives the result, the dealer
# makes the offline material (beta takes no part, and is searched too).

# hexre < HEX: hex digits as PCRE byte escapes; pattern HEXFILE: the
# alternation of the file's 16-byte markers, one a line.
hexre() { sed 's/\(..\)/\\x\1/g'; }
pattern() { hexre <"$1" | paste -sd '|'; }

# privacy_job NAME MODEL: checks 4 of them.
privacy_job() {
	local name=$1 m=$2 id h pat n f out="" bad="" files=() miss=0 line
	if ! id=$(submit alpha --model "gamma:$m" --input "input=alpha:$m" --output alpha) ||
		! ctl alpha wait "$id" --timeout 60 >/dev/null 2>>"$TMP/err"; then
		not_ok "$name: the job runs (gamma's model, alpha's input and result)" \
			"$(cat "$TMP/err"); $(field alpha "${id:-none}" reason)"
		id=
	elif ! ctl alpha result "$id" -o "$TMP/$m.npy" 2>"$TMP/err" ||
		! out=$("$TMP/npycmp" "$TMP/$m.npy" "$P/$m.expected.npy" 2>&1); then
		not_ok "$name: the result on alpha matches $m.expected.npy" "$(cat "$TMP/err") $out"
	elif [ -e "$CL_DIR/gamma/results/$id.npy" ] || [ -e "$CL_DIR/dealer/results/$id.npy" ]; then
		not_ok "$name: the result is alpha's only" "$(ls "$CL_DIR"/*/results)"
	else
		ok "$name: the result on alpha (alone) matches $m.expected.npy"
	fi
	[ -z "$id" ] || wait_until 20 all_ended "$id" alpha gamma dealer
	# The public graph alpha checked and kept is the one inspect names, not
	# gamma's file (before the allowlist, both were the file's SHA-256).
	h=$(field alpha "${id:-none}" model_hash)
	if [ -n "${PH[$m]}" ] && [ "$h" = "${PH[$m]}" ] &&
		[ "$(sha256sum <"$P/$m.onnx" | cut -c1-64)" != "$h" ] &&
		[ "$(field dealer "$id" model_hash)" = "$h" ] &&
		[ -f "$CL_DIR/alpha/graphs/$h.onnx" ] &&
		[ "$(sha256sum <"$CL_DIR/alpha/graphs/$h.onnx" | cut -c1-64)" = "$h" ]; then
		ok "$name: alpha keeps graphs/HASH.onnx, HASH as mpcctl inspect prints it for gamma's file"
	else
		not_ok "$name: alpha keeps the public graph inspect names" \
			"inspect '${PH[$m]}', alpha '$h', dealer '$(field dealer "${id:-none}" model_hash)'," \
			"gamma's file '$(sha256sum <"$P/$m.onnx" | cut -c1-64)'; $(ls "$CL_DIR/alpha/graphs" 2>&1)"
	fi
	# Positive control: every marker is in the owner's file as gamma reads it.
	while read -r line; do
		LC_ALL=C grep -qaP "$(hexre <<<"$line")" "$P/$m.onnx" || miss=$((miss + 1))
	done <"$P/$m.weights.hex"
	if [ $miss = 0 ] && [ "$(wc -l <"$P/$m.weights.hex")" -ge 6 ]; then
		ok "$name: each 16-byte marker of the weights occurs in gamma's model file (the search sees them)"
	else
		not_ok "$name: the markers occur in gamma's file" "$miss of $(wc -l <"$P/$m.weights.hex") missing"
	fi
	# Everything a node that does not own the model has about the job.
	pat=$(pattern "$P/$m.weights.hex")
	for n in alpha beta dealer; do
		{
			ctl "$n" status "${id:-none}"
			ctl "$n" status "${id:-none}" --json
			ctl "$n" list
		} >"$TMP/seen.$n" 2>&1
		files+=("$TMP/seen.$n" "$CL_DIR/$n.log")
		while IFS= read -r -d '' f; do files+=("$f"); done < <(find "$CL_DIR/$n" -type f -print0)
	done
	for f in "${files[@]}"; do
		LC_ALL=C grep -qaP "$pat" "$f" && bad="$bad ${f#"$CL_DIR"/}"
	done
	if [ -n "$bad" ]; then
		not_ok "$name: no byte run of the weights on alpha, beta or the dealer" "found in:$bad"
	elif [ -z "$id" ] || ! printf '%s\n' "${files[@]}" | grep -qF "/alpha/graphs/$h.onnx"; then
		not_ok "$name: no byte run of the weights on alpha, beta or the dealer" \
			"nothing to search: no job or no graph kept"
	else
		ok "$name: no 16-byte run of the weights in ${#files[@]} files of alpha, beta, dealer (DataDir, log, status)"
	fi
}
: >"$TMP/err"
privacy_job "Constant-node weights" constant_gemm
privacy_job "INT64-initializer weights" int64_gemm

# 21. Every daemon stops cleanly.
cluster_stop_all
bad=""
for n in "${CL_NODES[@]}"; do
	[ "$(cat "$CL_DIR/$n.rc" 2>/dev/null)" = 0 ] || bad="$bad $n"
	grep -qE 'ERROR: AddressSanitizer|runtime error|LeakSanitizer' "$CL_DIR/$n.log" && bad="$bad $n:sanitizer"
done
if [ -z "$bad" ]; then ok "every daemon exits 0 with no sanitizer report"; else not_ok "clean stop" "$bad"; fi
finish

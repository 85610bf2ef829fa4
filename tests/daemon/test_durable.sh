#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Integration tests of mpcd: durable state and process hygiene (issue 12,
# findings 3-8). Usage:
#
#   tests/daemon/test_durable.sh MPCCTL [MPCD]
#
# alpha, beta, gamma, dealer; gamma owns iris_logreg, beta holds its rows.
# alpha reaches beta only through a proxy it dials (tests/tools/tproxy.c
# --control --capture), so alpha's handshake message 1 can be replayed.
#   - the end of a job is agreed: finished on every node, or aborted on
#     every node with one reason when a recipient cannot store its result
#     (gamma's results/ on a full tmpfs); no result file is left behind;
#   - audit log on a full tmpfs: whole lines only, the job refused with the
#     reason, the next one runs once there is room;
#   - ResultRetention: expired jobs and result files are removed, old
#     files from before the start too;
#   - a message 1 captured before beta restarts is refused after it;
#   - DataDir 0755 tightened to 0700; no core dumps (RLIMIT_CORE 0, not
#     dumpable: run as nobody, its /proc files belong to root); mpcctl on
#     a closed pipe; the daemon's own checks of
#     repeated --output names and control bytes in input names.
# The tmpfs checks are skipped with a reason where mount fails (not root).
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/cli/lib.sh
. tests/daemon/helpers.sh "$@"
plan 28

MOUNTS=()
umount_all() {
	local m
	for m in "${MOUNTS[@]}"; do umount "$m" 2>/dev/null; done
	MOUNTS=()
}
durable_cleanup() {
	umount_all
	cleanup
}
trap durable_cleanup EXIT

# small_fs DIR: a 256 KiB tmpfs on DIR (made), or 1 when it cannot be mounted.
small_fs() {
	mkdir -p "$1" && mount -t tmpfs -o size=256k,mode=0700 tmpfs "$1" 2>/dev/null || return 1
	MOUNTS+=("$1")
}
# fill DIR: no byte left on its file system (DIR/fill takes it all).
fill() { dd if=/dev/zero of="$1/fill" bs=4k 2>/dev/null; sync; }

proxy_cmd() { echo "$*" >&7; }

# alpha -> proxy (capturing message 1) -> beta; beta does not dial alpha.
b_proxy() {
	local p
	for p in "${PROXY_PIDS[@]}"; do kill "$p" 2>/dev/null; done
	PROXY_PIDS=()
	rm -f "$CL_DIR/proxy.in" "$CL_DIR/proxy.out"
	mkfifo "$CL_DIR/proxy.in" || return 1
	"$TMP/tproxy" --listen 127.0.0.1:0 --to "127.0.0.1:$(cat "$CL_DIR/beta.port")" --control \
		--capture "$CL_DIR/hs1" --max-seconds 1800 <"$CL_DIR/proxy.in" \
		>"$CL_DIR/proxy.out" 2>>"$CL_DIR/proxy.log" &
	PROXY_PIDS+=($!)
	exec 7>"$CL_DIR/proxy.in"
	wait_until 30 test -s "$CL_DIR/proxy.out" || return 1
	cluster_peer_set alpha beta Endpoint "127.0.0.1:$(head -n 1 "$CL_DIR/proxy.out")"
}

iris() { submit "$1" --model gamma:iris --input input=beta:iris --output "$2"; }

consortium() {
	local d=$TMP/c
	mkdir -p "$d"
	cluster_init "$d" alpha beta gamma delta dealer || return 1
	dataset beta iris "$F/iris_logreg/input.npy"
	# delta: a big CSV whose last value is out of range (read, then refused
	# before its operator is asked), each job approved by hand.
	big_csv "$d/big.csv" || return 1
	dataset delta big "$d/big.csv"
	dataset gamma big "$d/big.csv"
	printf '\n[Policy]\nApprove = manual\nAllowPeers = alpha,beta,gamma\nAllowRecipients = alpha\n' \
		>>"$d/delta.extra"
	model gamma iris "$F/iris_logreg/model.onnx"
	# Audit logs of alpha and beta on a small file system (when it mounts).
	if small_fs "$TMP/auditfs"; then
		echo "AuditLog = $TMP/auditfs/alpha.audit" >"$d/alpha.node"
		echo "AuditLog = $TMP/auditfs/beta.audit" >"$d/beta.node"
	fi
	# gamma's results on a small file system: its own, so its audit log and
	# handshake timestamps stay writable.
	mkdir -p "$d/gamma/results"
	small_fs "$d/gamma/results" || true
	# beta's results expire after 5 s; an old file is there from before.
	[ "${DURABLE_OLD:-0}" = 1 ] || echo "ResultRetention = 5s" >>"$d/beta.node"
	mkdir -p "$d/beta/results"
	echo old >"$d/beta/results/0123.npy"
	touch -d '2 days ago' "$d/beta/results/0123.npy"
	chmod 0755 "$d/dealer"
	cluster_peer_set beta alpha Endpoint ""
	start_all b_proxy && cluster_wait_peers alpha 4 && cluster_wait_peers beta 4 &&
		cluster_wait_peers gamma 4 && cluster_wait_peers delta 4 && cluster_wait_peers dealer 4
}

# all_finished NAME JOB: finished on every node, the dealer too.
all_finished() {
	local n bad=""
	for n in alpha beta gamma dealer; do
		wait_until 60 ended "$n" "$2"
		state_is "$n" "$2" finished || bad="$bad $n:$(field "$n" "$2" state)"
	done
	if [ -z "$bad" ]; then ok "$1"; else not_ok "$1" "$bad"; fi
}

# big_csv FILE: 4 columns, BIG_ROWS rows (default 4M: about 64 MB), the
# last value out of the input bound.
big_csv() {
	perl -e 'my $n = shift; my $l = "0.25,0.5,0.75,1.5\n"; my $b = $l x 65536;
		print $b for 1 .. int($n / 65536); print "0.25,0.5,0.75,99999\n";' \
		"${BIG_ROWS:-4194304}" >"$1"
}

# ---- the loop while a big dataset is read ----

# not_ended NODE JOB: the node knows the job and it has not ended.
not_ended() {
	local s
	s=$(field "$1" "$2" state)
	[ -n "$s" ] && [ "$s" != finished ] && [ "$s" != aborted ]
}

big_read() {
	local id st1 st2 name="while delta reads a big dataset, mpcctl is answered"
	if ! id=$(submit alpha --model gamma:iris --input input=delta:big --output alpha); then
		not_ok "$name" "submit: $(cat "$TMP/err")"
		not_ok "the big dataset's job is refused on every party with the reason" "not submitted"
		return
	fi
	# The read starts once delta has checked the graph, before its operator
	# is asked (a job that cannot run is never held for approval).
	wait_until 60 eval 'ls "$CL_DIR/delta/graphs" 2>/dev/null | grep -q onnx'
	# Ordering, not speed: the answers come while the read goes on (the job
	# not ended yet), the read taking seconds and an answer milliseconds.
	st1=$(field delta "$id" state)
	ctl delta peers --json >"$TMP/peers.json" 2>&1
	st2=$(field delta "$id" state)
	if [ "$st1" = proposed ] && [ "$st2" = proposed ] &&
		[ "$(grep -c '"connected": true' "$TMP/peers.json")" -eq 4 ]; then
		ok "$name"
	else
		not_ok "$name" "after approve: $st1, after peers: $st2; $(head -c 300 "$TMP/peers.json")"
	fi
	for n in alpha delta; do wait_until 120 ended "$n" "$id"; done
	CONTAINS="delta: input 'input' part 0: value out of range" same_end \
		"the big dataset's job is refused on every party with the reason" "$id" alpha gamma delta
}

# gamma proposes with its own model and a big dataset of its own: submit
# returns before the read ends; the job fails afterwards, on gamma.
own_big_read() {
	local id st name="a proposer owning the model: submit returns while its dataset is read"
	if ! id=$(submit gamma --model gamma:iris --input input=gamma:big --output alpha); then
		not_ok "$name" "submit: $(cat "$TMP/err")"
		not_ok "the proposer's big dataset: the job aborts with the reason" "not submitted"
		return
	fi
	st=$(field gamma "$id" state)
	if [ "$st" = proposed ]; then ok "$name"; else not_ok "$name" "after submit: $st"; fi
	wait_until 120 ended gamma "$id"
	CONTAINS="gamma: input 'input' part 0: value out of range" same_end \
		"the proposer's big dataset: the job aborts with the reason" "$id" gamma
}

# ---- the end of a job ----

agreed_end() {
	local id
	if id=$(iris alpha alpha,gamma); then
		result_matches "a job's result on alpha" alpha "$id" "$F/iris_logreg/expected.npy"
		all_finished "a job that ran is finished on every node" "$id"
	else
		not_ok "a job's result on alpha" "submit: $(cat "$TMP/err")"
		not_ok "a job that ran is finished on every node" "not submitted"
	fi
	if ! mountpoint -q "$CL_DIR/gamma/results"; then
		skip "full disk on a recipient: aborted on every node with one reason" "cannot mount a tmpfs"
		skip "full disk on a recipient: no result file left on alpha" "cannot mount a tmpfs"
		return
	fi
	fill "$CL_DIR/gamma/results"
	if ! id=$(iris alpha alpha,gamma); then
		not_ok "full disk on a recipient: aborted on every node with one reason" "submit: $(cat "$TMP/err")"
		not_ok "full disk on a recipient: no result file left on alpha" "not submitted"
	else
		for n in alpha beta gamma dealer; do wait_until 60 ended "$n" "$id"; done
		CONTAINS=gamma same_end "full disk on a recipient: aborted on every node with one reason" \
			"$id" alpha beta gamma dealer
		if [ -e "$CL_DIR/alpha/results/$id.npy" ]; then
			not_ok "full disk on a recipient: no result file left on alpha" "$CL_DIR/alpha/results/$id.npy"
		else
			ok "full disk on a recipient: no result file left on alpha"
		fi
	fi
	rm -f "$CL_DIR/gamma/results/fill"
	if id=$(iris alpha gamma); then
		result_matches "with room again, gamma's result" gamma "$id" "$F/iris_logreg/expected.npy"
	else
		not_ok "with room again, gamma's result" "submit: $(cat "$TMP/err")"
	fi
}

# ---- the audit log on a full disk ----

# whole_lines FILE: every line a JSON object, the file ends in a newline.
whole_lines() {
	[ -s "$1" ] && [ "$(tail -c 1 "$1" | od -An -c | tr -d ' ')" = '\n' ] &&
		! grep -qv '^{.*}$' "$1"
}

audit_full() {
	local id i n names=(
		"audit log full: submit on alpha is refused with the reason"
		"audit log full: alpha's audit log holds whole lines only"
		"audit log full: beta refuses a job, aborted everywhere with the reason"
		"audit log full: beta's log says which event was lost"
		"audit log with room again: a job runs and is audited")
	if ! mountpoint -q "$TMP/auditfs"; then
		for n in "${names[@]}"; do skip "$n" "cannot mount a tmpfs"; done
		return
	fi
	# The log's last page may have room for a few lines: jobs until one is
	# refused (at most 10; on the code before, none ever was).
	fill "$TMP/auditfs"
	for i in 1 2 3 4 5 6 7 8 9 10; do
		id=$(iris alpha alpha) || break
		ctl alpha wait "$id" --timeout 60 >/dev/null 2>&1
	done
	if [ "$i" -lt 10 ] && grep -q "alpha cannot write its audit log" "$TMP/err"; then
		ok "${names[0]}"
	else
		not_ok "${names[0]}" "$i jobs: $(cat "$TMP/err")"
	fi
	if whole_lines "$TMP/auditfs/alpha.audit"; then
		ok "${names[1]}"
	else
		not_ok "${names[1]}" "$(tail -c 200 "$TMP/auditfs/alpha.audit" | od -c | tail -n 3)"
	fi
	for i in 1 2 3 4 5 6 7 8 9 10; do
		if ! id=$(iris gamma gamma); then
			i=11
			break
		fi
		for n in beta gamma dealer; do wait_until 60 ended "$n" "$id"; done
		state_is gamma "$id" aborted && break
	done
	if [ "$i" -le 10 ]; then
		CONTAINS="beta: cannot write its audit log" same_end "${names[2]}" "$id" beta gamma dealer
	else
		not_ok "${names[2]}" "never refused; $(cat "$TMP/err")"
	fi
	if grep -q "audit log .*: No space left on device: event '[a-z]*' lost" "$CL_DIR/beta.log"; then
		ok "${names[3]}"
	else
		not_ok "${names[3]}" "$(grep -i audit "$CL_DIR/beta.log" | tail -n 2)"
	fi
	rm -f "$TMP/auditfs/fill"
	if ! id=$(iris alpha alpha); then
		not_ok "${names[4]}" "submit: $(cat "$TMP/err")"
	elif ctl alpha wait "$id" --timeout 60 >/dev/null 2>"$TMP/err" &&
		wait_until 30 grep -q "\"event\":\"finished\",\"job\":\"$id\"" "$TMP/auditfs/alpha.audit" &&
		whole_lines "$TMP/auditfs/alpha.audit"; then
		ok "${names[4]}"
	else
		not_ok "${names[4]}" "$(cat "$TMP/err"); $(tail -n 2 "$TMP/auditfs/alpha.audit")"
	fi
}

# ---- ResultRetention ----

gone() { ! ctl beta status "$1" >/dev/null 2>&1 && [ ! -e "$CL_DIR/beta/results/$1.npy" ]; }

retention() {
	local id
	if wait_until 30 test ! -e "$CL_DIR/beta/results/0123.npy"; then
		ok "ResultRetention: a result file older than it, from before the start, is removed"
	else
		not_ok "ResultRetention: an old result file from before the start is removed" \
			"$(ls "$CL_DIR/beta/results")"
	fi
	if ! id=$(iris alpha beta); then
		not_ok "ResultRetention: the job and its result file expire on beta" "submit: $(cat "$TMP/err")"
		return
	fi
	# alpha finishes only once beta's run ended: beta knew the job by then.
	ctl alpha wait "$id" --timeout 60 >/dev/null 2>&1
	if wait_until 60 gone "$id"; then
		ok "ResultRetention: the job and its result file expire on beta"
	else
		not_ok "ResultRetention: the job and its result file expire on beta" \
			"$(field beta "$id" state); $(ls "$CL_DIR/beta/results")"
	fi
}

# ---- the daemon's own checks of a job spec (a control client other than mpcctl) ----

# raw_submit NODE MODEL INPUT OUTPUT...: a Submit request built by hand;
# prints the reply's printable bytes.
raw_submit() {
	perl -MSocket -e '
		sub str { my ($f, $s) = @_; return chr($f << 3 | 2) . chr(length $s) . $s; }
		my ($sock, $model, $input, @outs) = @ARGV;
		my $sub = str(1, $model) . str(2, $input);
		$sub .= str(3, $_) for @outs;
		my $req = str(2, $sub);
		socket(my $s, PF_UNIX, SOCK_STREAM, 0) or die "socket: $!";
		connect($s, pack_sockaddr_un($sock)) or die "connect: $!";
		syswrite($s, pack("N", length $req) . $req);
		shutdown($s, 1);
		local $/;
		my $r = <$s>;
		$r =~ s/[^ -~]/./g;
		print "$r\n";' "$CL_DIR/$1.sock" "$2" "$3" "${@:4}"
}

spec_checks() {
	local out
	out=$(raw_submit alpha gamma:iris input=beta:iris alpha alpha 2>&1)
	if echo "$out" | grep -q "given twice"; then
		ok "mpcd refuses an --output name given twice"
	else
		not_ok "mpcd refuses an --output name given twice" "reply: $out"
	fi
	out=$(raw_submit alpha gamma:iris "$(printf 'in\033[2Jput')=beta:iris" alpha 2>&1)
	if echo "$out" | grep -q "control character"; then
		ok "mpcd refuses an input name with a control character"
	else
		not_ok "mpcd refuses an input name with a control character" "reply: $out"
	fi
}

# ---- mpcctl on a closed pipe ----

closed_pipe() {
	local rc
	perl -e 'pipe(R, W) or die; close R; open(STDOUT, ">&", \*W) or die; close W; exec @ARGV' \
		-- "$MPCCTL" -s "$CL_DIR/alpha.sock" peers 2>"$TMP/pipe.err"
	rc=$?
	if [ $rc -eq 1 ] && [ "$(wc -l <"$TMP/pipe.err")" -eq 1 ] &&
		grep -q "standard output" "$TMP/pipe.err"; then
		ok "mpcctl peers into a closed pipe: exit 1 and one line"
	else
		not_ok "mpcctl peers into a closed pipe: exit 1 and one line" "exit $rc: $(head -c 300 "$TMP/pipe.err")"
	fi
}

# ---- DataDir ----

datadir_mode() {
	local m
	m=$(stat -c %a "$CL_DIR/dealer")
	if [ "$m" = 700 ] && grep -q "DataDir .* had mode 755: tightened to 700" "$CL_DIR/dealer.log"; then
		ok "a DataDir of mode 755 is tightened to 700, and the log says so"
	else
		not_ok "a DataDir of mode 755 is tightened to 700, and the log says so" "mode $m"
	fi
}

# ---- replay after restart ----

replay_after_restart() {
	local at hex out p
	if [ -s "$CL_DIR/beta/handshakes/alpha" ] &&
		[ "$(stat -c %a "$CL_DIR/beta/handshakes/alpha")" = 600 ]; then
		ok "beta keeps alpha's last handshake timestamp in DataDir/handshakes (0600)"
	else
		not_ok "beta keeps alpha's last handshake timestamp in DataDir/handshakes (0600)" \
			"$(ls -l "$CL_DIR/beta/handshakes" 2>&1)"
	fi
	hex=$(od -An -tx1 -v "$CL_DIR/hs1" 2>/dev/null | tr -d ' \n')
	# No more dials from alpha: the captured message is the newest beta saw.
	for p in "${PROXY_PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	PROXY_PIDS=()
	exec 7>&-
	cluster_stop beta
	if ! cluster_start beta; then
		not_ok "a message 1 captured before beta restarted is refused after" "beta did not start"
		return
	fi
	at=$(wc -c <"$CL_DIR/beta.log")
	out=$("$TMP/tproxy" --tcp "127.0.0.1:$(cat "$CL_DIR/beta.port")" --send "$hex" 2>&1)
	if [ ${#hex} -eq 210 ] && echo "$out" | grep -q "reply 0 bytes" &&
		wait_until 30 eval 'tail -c +$((at + 1)) "$CL_DIR/beta.log" | grep -q "replayed handshake"'; then
		ok "a message 1 captured before beta restarted is refused after"
	else
		not_ok "a message 1 captured before beta restarted is refused after" \
			"${#hex} hex digits; $out; $(tail -c +$((at + 1)) "$CL_DIR/beta.log" | tail -n 3)"
	fi
}

# ---- core dumps ----

core_limits() {
	local cd=$TMP/core pid pat n
	mkdir -p "$cd"
	# The node's config, alone: a core limit as generous as a shell can give.
	(cd "$cd" && ulimit -c unlimited 2>/dev/null; exec "$MPCD" -c "$CL_DIR/dealer.conf") \
		2>>"$CL_DIR/dealer-core.log" &
	pid=$!
	if ! wait_until 30 cl_answers dealer; then
		not_ok "mpcd's core file size limit is 0" "did not start: $(tail -n 3 "$CL_DIR/dealer-core.log")"
		not_ok "SIGQUIT leaves no core file" "did not start"
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		return
	fi
	n=$(grep '^Max core file size' "/proc/$pid/limits" | awk '{print $5, $6}')
	if [ "$n" = "0 0" ]; then
		ok "mpcd's core file size limit is 0"
	else
		not_ok "mpcd's core file size limit is 0" "soft, hard: $n"
	fi
	pat=$(cat /proc/sys/kernel/core_pattern)
	kill -QUIT "$pid"
	wait "$pid" 2>/dev/null
	case "$pat" in
	/* | "|"*) skip "SIGQUIT leaves no core file" "core_pattern '$pat' is not in the working directory" ;;
	*)
		if [ -z "$(ls -A "$cd")" ]; then
			ok "SIGQUIT leaves no core file"
		else
			not_ok "SIGQUIT leaves no core file" "$(ls -l "$cd" | tail -n 2)"
		fi ;;
	esac
	rm -rf "$cd"
}

MPCD=$(cd "$(dirname "$MPCD")" && pwd)/$(basename "$MPCD")
# not_dumpable: the dealer's config, run as nobody. /proc/PID's files
# belong to the process's user while it is dumpable and to root once it
# is not (proc(5)), whatever user reads them.
not_dumpable() {
	local nd pid name="mpcd is not dumpable (PR_SET_DUMPABLE 0: /proc/PID owned by root when it runs as nobody)"
	if ! command -v setpriv >/dev/null || [ "$(id -u)" != 0 ]; then
		skip "$name" "needs root and setpriv"
		return
	fi
	nd=$(mktemp -d /tmp/mpcd-durable.XXXXXX)
	chmod 0755 "$nd"
	sed "s|$CL_DIR/dealer|$nd/dealer|g" "$CL_DIR/dealer.conf" >"$nd/dealer.conf"
	cp "$CL_DIR/dealer.key" "$nd/dealer.key"
	mkdir -m 0700 "$nd/dealer"
	chown -R 65534:65534 "$nd"
	setpriv --reuid=65534 --regid=65534 --clear-groups "$MPCD" -c "$nd/dealer.conf" \
		2>>"$CL_DIR/dealer-nobody.log" &
	pid=$!
	if ! wait_until 30 eval '[ -S "$nd/dealer.sock" ] && "$MPCCTL" -s "$nd/dealer.sock" peers >/dev/null 2>&1'; then
		not_ok "$name" "did not start as nobody: $(tail -n 3 "$CL_DIR/dealer-nobody.log")"
	elif [ "$(stat -c %u "/proc/$pid/status")" = 0 ]; then
		ok "$name"
	else
		not_ok "$name" "/proc/$pid/status belongs to uid $(stat -c %u "/proc/$pid/status")"
	fi
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	rm -rf "$nd"
}

begin
if ! consortium; then
	not_ok "consortium starts" "$(tail -n 3 "$TMP"/c/*.log 2>/dev/null | head -c 1500)"
	finish
	exit
fi
ok "consortium starts"
datadir_mode
big_read
own_big_read
agreed_end
audit_full
retention
spec_checks
closed_pipe
replay_after_restart
still_serving "every daemon still serves" alpha beta gamma delta dealer
stop_clean "every daemon exits 0 on SIGTERM, no sanitizer report"
core_limits
not_dumpable
umount_all
finish

#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The control verbs of mpcctl without a daemon: every verb's --help, the
# command-line checks that run before any connection (one line naming the
# argument, exit 2), usage errors (the problem on the first line, then the
# usage, exit 2), and the message when no mpcd listens (exit 1). The happy
# paths need a daemon: the integration tests cover them. Every mpcctl run
# goes through run_checked: a sanitizer report fails its check.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/cli/lib.sh
CTL=${1:-bin/mpcctl}
VERBS="peers submit list status wait approve cancel result"
# The verbs that need no daemon: their --help too (issue 11: genkey's went
# to stderr with status 2).
LOCAL_VERBS="show inspect simulate genkey pubkey"
plan 92
# No daemon anywhere: a socket path that does not exist.
export MPCD_SOCKET=$TMP/none.sock
ID=0123456789abcdef0123456789abcdef

# expect_usage NAME WORD CMD...: exit status 2, WORD on the first line of
# stderr, the usage after it, nothing on stdout.
expect_usage() {
	local name=$1 word=$2
	shift 2
	run_checked "$@" >"$TMP/out" 2>"$TMP/err"
	local rc=$?
	if [ $rc -ne 2 ]; then
		not_ok "$name" "exit status $rc: $(head -c 300 "$TMP/err")"
	elif ! head -n 1 "$TMP/err" | grep -q -- "$word"; then
		not_ok "$name" "first line lacks '$word': $(head -n 1 "$TMP/err")"
	elif ! grep -q '^usage: mpcctl' "$TMP/err" || [ -s "$TMP/out" ]; then
		not_ok "$name" "no usage on stderr, or output on stdout"
	else
		ok "$name"
	fi
}

# expect_arg NAME WORD CMD...: exit status 2 and one line on stderr that
# contains WORD and is not the connection error (caught before connecting).
expect_arg() {
	local name=$1 word=$2
	shift 2
	run_checked "$@" >"$TMP/out" 2>"$TMP/err"
	local rc=$?
	if [ $rc -ne 2 ] || [ "$(wc -l <"$TMP/err")" -ne 1 ] || grep -q 'cannot reach' "$TMP/err"; then
		not_ok "$name" "exit status $rc: $(head -c 300 "$TMP/err")"
	elif ! grep -q -- "$word" "$TMP/err"; then
		not_ok "$name" "stderr lacks '$word': $(cat "$TMP/err")"
	else
		ok "$name"
	fi
}

# --help: usage on stdout, exit 0, nothing on stderr.
for v in $VERBS $LOCAL_VERBS; do
	if run_checked "$CTL" $v --help >"$TMP/out" 2>"$TMP/err" &&
		grep -q "^usage: mpcctl .*$v" "$TMP/out" && [ ! -s "$TMP/err" ]; then
		ok "$v --help"
	else
		not_ok "$v --help" "$(head -c 300 "$TMP/err")"
	fi
done
# lists_verbs FILE: every control verb has its line (a function: a failed
# grep ends the loop, not the suite).
lists_verbs() {
	local v
	for v in $VERBS; do grep -q "^  $v " "$1" || return 1; done
}
if run_checked "$CTL" --help >"$TMP/out" && grep -q -- '-s SOCKET' "$TMP/out" &&
	lists_verbs "$TMP/out"; then
	ok "mpcctl --help lists every control verb and -s"
else
	not_ok "mpcctl --help lists every control verb and -s" "$(head -c 300 "$TMP/out")"
fi

# Every verb `mpcctl --help` lists has its section in docs/ctl.md.
undocumented=""
for v in $(sed -n 's/^  \([a-z]*\) .*/\1/p' "$TMP/out"); do
	grep -q "^## mpcctl $v\$" docs/ctl.md || undocumented="$undocumented $v"
done
if [ -z "$undocumented" ] && [ "$(sed -n 's/^  \([a-z]*\) .*/\1/p' "$TMP/out" | wc -l)" -ge 13 ]; then
	ok "every verb of mpcctl --help has its section in docs/ctl.md"
else
	not_ok "every verb of mpcctl --help has its section in docs/ctl.md" "missing:$undocumented"
fi

# The manual pages (man/, installed by make install) say the same: every
# verb is in mpcctl(1), every key of the commented example in mpcd.conf(5).
undocumented=""
for v in $(sed -n 's/^  \([a-z]*\) .*/\1/p' "$TMP/out"); do
	# A tagged paragraph of its own: the line after a .TP starts with the verb.
	awk 'prev == ".TP" { print } { prev = $0 }' man/mpcctl.1 |
		grep -qE "^\.(B|BR|BI) \"?$v( |\"|\$)" ||
		undocumented="$undocumented $v"
done
if [ -z "$undocumented" ]; then
	ok "every verb of mpcctl --help is in mpcctl(1)"
else
	not_ok "every verb of mpcctl --help is in mpcctl(1)" "missing:$undocumented"
fi
undocumented=""
for k in $(sed -n 's/^#\? *\([A-Z][A-Za-z]*\) = .*/\1/p' deploy/examples/alpha.conf | sort -u); do
	grep -q "^\.B $k\$" man/mpcd.conf.5 || undocumented="$undocumented $k"
done
if [ -z "$undocumented" ]; then
	ok "every key of deploy/examples/alpha.conf is in mpcd.conf(5)"
else
	not_ok "every key of deploy/examples/alpha.conf is in mpcd.conf(5)" "missing:$undocumented"
fi

# Each manual page renders without a warning (groff -ww, and man -l as a
# reader runs it); test_install.sh checks the installed copies too.
bad=""
for f in man/*.[158]; do
	w=$(groff -man -ww -z "$f" 2>&1; LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$f" 2>&1 >/dev/null)
	[ -z "$w" ] || bad="$bad $f: $w"
done
if [ -z "$bad" ] && [ "$(ls man/*.[158] | wc -l)" -eq 3 ]; then
	ok "man/mpcd.8, mpcctl.1 and mpcd.conf.5 render without a warning"
else
	not_ok "the manual pages render without a warning" "${bad:-not 3 pages in man/}"
fi

# The parts per input docs/ctl.md promises are what mpcctl lets through:
# that many reach the daemon (none here: status 1), one more is refused.
parts=$(sed -n 's/.*at most \([0-9]*\) parts per input.*/\1/p' docs/ctl.md | head -n 1)
many() { local i out=x=n0:d; for ((i = 1; i < $1; i++)); do out="$out,n$i:d"; done; echo "$out"; }
if [ -z "$parts" ]; then
	not_ok "docs/ctl.md's parts per input reach the daemon" "no 'at most N parts per input' in docs/ctl.md"
	not_ok "one part more than docs/ctl.md says is refused"
else
	run_checked "$CTL" submit --model a:m --output a --input "$(many "$parts")" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	if [ $rc -eq 1 ] && grep -q 'cannot reach' "$TMP/err"; then
		ok "docs/ctl.md's $parts parts per input reach the daemon"
	else
		not_ok "docs/ctl.md's $parts parts per input reach the daemon" "exit $rc: $(cat "$TMP/err")"
	fi
	expect_arg "one part more than docs/ctl.md says ($((parts + 1))) is refused" \
		"more than $parts parts" "$CTL" submit --model a:m --output a --input "$(many $((parts + 1)))"
fi

# What the docs tell users to type to make a key does not warn, under the
# usual umask 022, and leaves a key file of mode 0600.
recipes=$(grep -ohE '(\(umask [0-7]+; *)?mpcctl genkey *> *[A-Za-z0-9_.$]+\)?(; *chmod [0-7]+ [A-Za-z0-9_.$]+)?' \
	README.md docs/*.md deploy/examples/* | sort -u)
bad=""
mkdir -p "$TMP/keys" "$TMP/bin"
ln -sf "$(cd "$(dirname "$CTL")" && pwd)/$(basename "$CTL")" "$TMP/bin/mpcctl"
while IFS= read -r r; do
	[ -n "$r" ] || continue
	rm -f "$TMP/keys"/*
	(cd "$TMP/keys" && umask 022 && n=alpha PATH="$TMP/bin:$PATH" bash -c "$r" 2>"$TMP/err")
	f=$(ls "$TMP/keys" | head -n 1)
	if [ -s "$TMP/err" ] || [ -z "$f" ] || [ "$(stat -c %a "$TMP/keys/$f")" != 600 ]; then
		bad="$bad [$r: $(head -c 200 "$TMP/err") mode $(stat -c %a "$TMP/keys/$f" 2>/dev/null)]"
	fi
done <<<"$recipes"
if [ -n "$recipes" ] && [ -z "$bad" ]; then
	ok "the docs' genkey recipes do not warn and make a 0600 file ($(echo "$recipes" | wc -l) recipes)"
else
	not_ok "the docs' genkey recipes do not warn and make a 0600 file" "${bad:-no recipe found}"
fi

# Without -s or MPCD_SOCKET mpcctl takes the only socket in /run/mpcd (mpcd's
# default is /run/mpcd/NAME.sock), and says so when there are none or several:
# in a mount namespace of our own with a tmpfs on /run, never the real one.
discover() {
	unshare -m --propagation private bash -c '
		mount -t tmpfs tmpfs /run || exit 99
		mkdir /run/mpcd
		for n in "$@"; do /usr/bin/python3 -c "import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])" /run/mpcd/$n.sock || exit 99; done
		: >/run/mpcd/notes.txt
		exec env -u MPCD_SOCKET "$0" peers' "$CTL" "$@"
}
if ! unshare -m --propagation private bash -c 'mount -t tmpfs tmpfs /run' 2>/dev/null; then
	skip "one socket in /run/mpcd: mpcctl uses it" "no mount namespace here (needs root)"
	skip "no socket in /run/mpcd: one line, exit 1" "no mount namespace here (needs root)"
	skip "several sockets in /run/mpcd: one line naming them, exit 1" "no mount namespace here (needs root)"
else
	discover alpha >"$TMP/out" 2>"$TMP/err"
	rc=$?
	if [ $rc -eq 1 ] && grep -qF "cannot reach mpcd at /run/mpcd/alpha.sock" "$TMP/err"; then
		ok "one socket in /run/mpcd: mpcctl uses it"
	else
		not_ok "one socket in /run/mpcd: mpcctl uses it" "exit $rc: $(cat "$TMP/err")"
	fi
	discover >"$TMP/out" 2>"$TMP/err"
	rc=$?
	if [ $rc -eq 1 ] && [ "$(wc -l <"$TMP/err")" -eq 1 ] &&
		grep -qF "no mpcd control socket in /run/mpcd" "$TMP/err" && grep -q -- "-s" "$TMP/err"; then
		ok "no socket in /run/mpcd: one line, exit 1"
	else
		not_ok "no socket in /run/mpcd: one line, exit 1" "exit $rc: $(cat "$TMP/err")"
	fi
	discover alpha beta >"$TMP/out" 2>"$TMP/err"
	rc=$?
	if [ $rc -eq 1 ] && [ "$(wc -l <"$TMP/err")" -eq 1 ] && grep -qF "2 mpcd control sockets in /run/mpcd" "$TMP/err" &&
		grep -q "alpha.sock" "$TMP/err" && grep -q "beta.sock" "$TMP/err" && grep -q -- "-s" "$TMP/err"; then
		ok "several sockets in /run/mpcd: one line naming them, exit 1"
	else
		not_ok "several sockets in /run/mpcd: one line naming them, exit 1" "exit $rc: $(cat "$TMP/err")"
	fi
fi

# No daemon: one line naming the socket, with the hint; exit 1.
nodaemon() {
	local name=$1 sock=$2
	shift 2
	run_checked "$@" >"$TMP/out" 2>"$TMP/err"
	local rc=$?
	local want="mpcctl: cannot reach mpcd at $sock: "
	if [ $rc -ne 1 ] || [ "$(wc -l <"$TMP/err")" -ne 1 ] ||
		! grep -qF "$want" "$TMP/err" || ! grep -qF "(is mpcd running? set MPCD_SOCKET or -s)" "$TMP/err" ||
		[ -s "$TMP/out" ]; then
		not_ok "$name" "exit $rc: $(head -c 300 "$TMP/err")"
	else
		ok "$name"
	fi
}
nodaemon "peers without a daemon" "$TMP/none.sock" "$CTL" peers
if grep -qF "No such file or directory" "$TMP/err"; then
	ok "no-daemon message gives the cause"
else
	not_ok "no-daemon message gives the cause" "$(cat "$TMP/err")"
fi
nodaemon "list without a daemon" "$TMP/none.sock" "$CTL" list --json
nodaemon "status without a daemon" "$TMP/none.sock" "$CTL" status $ID
nodaemon "status of a prefix without a daemon" "$TMP/none.sock" "$CTL" status 0123ab
nodaemon "wait without a daemon" "$TMP/none.sock" "$CTL" wait $ID --timeout 5
nodaemon "approve without a daemon" "$TMP/none.sock" "$CTL" approve $ID
nodaemon "cancel without a daemon" "$TMP/none.sock" "$CTL" cancel $ID
nodaemon "submit without a daemon" "$TMP/none.sock" "$CTL" submit --model alpha:lenet \
	--input input=alpha:a,beta:b --input x=beta:c+gamma:d --output alpha,beta --output gamma \
	--offline dealer:gamma --frac-bits 20
nodaemon "submit --offline ot goes to the daemon" "$TMP/none.sock" "$CTL" submit \
	--model alpha:lenet --input input=beta:scans --output alpha --offline ot
nodaemon "-s PATH" "$TMP/other.sock" "$CTL" -s "$TMP/other.sock" peers
nodaemon "-sPATH" "$TMP/other.sock" "$CTL" -s"$TMP/other.sock" list
nodaemon "--socket=PATH" "$TMP/other.sock" "$CTL" --socket="$TMP/other.sock" list
nodaemon "-s with \$MPCD_SOCKET unset" "$TMP/other.sock" env -u MPCD_SOCKET "$CTL" -s "$TMP/other.sock" peers
: >"$TMP/stale.sock"
nodaemon "a file that is not a listening socket" "$TMP/stale.sock" "$CTL" -s "$TMP/stale.sock" peers
rm -f "$TMP/o.npy"
nodaemon "result without a daemon" "$TMP/none.sock" "$CTL" result $ID -o "$TMP/o.npy"
if [ -e "$TMP/o.npy" ]; then
	not_ok "result without a daemon: nothing written"
else
	ok "result without a daemon: nothing written"
fi

# Global option errors.
expect_fail "-s without a path" "needs a socket path" "$CTL" -s
expect_fail "empty socket path" "empty socket path" "$CTL" --socket= peers
expect_fail "unknown verb" "unknown verb" "$CTL" frobnicate

# Usage errors: unknown options, missing or extra arguments.
expect_usage "peers: extra argument" "unexpected argument 'x'" "$CTL" peers x
expect_usage "peers: unknown option" "unknown option '--bogus'" "$CTL" peers --bogus
expect_usage "peers: -o is not a peers option" "unknown option '-o'" "$CTL" peers -o x.npy
expect_usage "list: extra argument" "unexpected argument" "$CTL" list $ID
expect_usage "status: missing JOB" "missing JOB" "$CTL" status
expect_usage "status: two jobs" "unexpected argument" "$CTL" status $ID $ID
expect_usage "status: unknown option" "unknown option '-x'" "$CTL" status $ID -x
expect_usage "wait: missing JOB" "missing JOB" "$CTL" wait
expect_usage "wait: --timeout without a value" "needs a value" "$CTL" wait $ID --timeout
expect_usage "wait: -o is not a wait option" "unknown option '-o'" "$CTL" wait $ID -o x.npy
expect_usage "approve: missing JOB" "missing JOB" "$CTL" approve
expect_usage "cancel: extra argument" "unexpected argument '1'" "$CTL" cancel $ID 1
expect_usage "result: missing JOB" "missing JOB" "$CTL" result -o "$TMP/o.npy"
expect_usage "result: missing -o" "-o OUT.npy|OUT.csv is required" "$CTL" result $ID
expect_usage "submit: nothing" "--model is required" "$CTL" submit
expect_usage "submit: no --input" "--input is required" "$CTL" submit --model a:m --output a
expect_usage "submit: no --output" "--output is required" "$CTL" submit --model a:m --input x=a:d
expect_usage "submit: --batch is not offered" "unknown option '--batch'" "$CTL" submit \
	--model a:m --input x=a:d --output a --batch 4
expect_usage "submit: extra argument" "unexpected argument 'extra'" "$CTL" submit \
	--model a:m --input x=a:d --output a extra
expect_usage "submit: --model without a value" "needs a value" "$CTL" submit --model

# Value errors: one line naming the argument, exit 2, before connecting.
S="submit --output alpha"
expect_arg "job id not hex" "job id 'xyz'" "$CTL" status xyz
expect_arg "job id prefix too short" "at least 6" "$CTL" approve 0123a
expect_arg "job id too long" "job id" "$CTL" cancel ${ID}${ID}00
expect_arg "wait: --timeout 0" "--timeout '0'" "$CTL" wait $ID --timeout 0
expect_arg "wait: --timeout not a number" "--timeout 'soon'" "$CTL" wait $ID --timeout soon
expect_arg "result: not .npy or .csv" "-o '$TMP/o.txt'" "$CTL" result $ID -o "$TMP/o.txt"
expect_arg "result: no file name" "-o" "$CTL" result $ID -o "$TMP/.npy"
expect_arg "submit: --model without NODE:" "--model 'lenet': expected NODE:MODEL" \
	"$CTL" $S --model lenet --input x=a:d
expect_arg "submit: --model bad node name" "not a valid node name" \
	"$CTL" $S --model 'al pha:lenet' --input x=a:d
expect_arg "submit: --model twice" "--model is given twice" \
	"$CTL" $S --model a:m --model a:n --input x=a:d
expect_arg "submit: --input without a dataset" "--input 'x=beta': expected NAME=NODE:DATASET" \
	"$CTL" $S --model a:m --input x=beta
expect_arg "submit: --input without a name" "--input 'beta:scans': expected NAME=NODE:DATASET" \
	"$CTL" $S --model a:m --input beta:scans
expect_arg "submit: --input empty part" "--input 'x=a:d,'" "$CTL" $S --model a:m --input x=a:d,
expect_arg "submit: --input mixes , and +" "mix of ',' and '+'" \
	"$CTL" $S --model a:m --input x=a:d,b:e+c:f
expect_arg "submit: --input name with a control character" "the input name must be 1 to 256" \
	"$CTL" $S --model a:m --input "$(printf 'x\ty')=a:d"
expect_arg "submit: --input name over 256" "the input name must be 1 to 256" \
	"$CTL" $S --model a:m --input "$(printf 'n%.0s' {1..257})=a:d"
# Any ONNX input name (a plain torch.onnx.export names it 'onnx::Gemm_0'):
# the checks pass, and only the missing daemon stops it.
for name in 'onnx::Gemm_0' 'input.1' 'a=b'; do
	run_checked "$CTL" $S --model a:m --input "$name=a:d" >"$TMP/out" 2>"$TMP/err"
	if [ $? -eq 1 ] && grep -q 'cannot reach' "$TMP/err"; then
		ok "submit: --input '$name=a:d' accepted"
	else
		not_ok "submit: --input '$name=a:d' accepted" "$(cat "$TMP/err")"
	fi
done
expect_arg "submit: --input bad dataset" "'d;rm' is not a valid name" \
	"$CTL" $S --model a:m --input 'x=a:d;rm'
expect_arg "submit: --input twice" "input 'x' is given twice" \
	"$CTL" $S --model a:m --input x=a:d --input x=b:e
expect_arg "submit: --output empty node" "--output 'a,,b'" \
	"$CTL" submit --model a:m --input x=a:d --output a,,b
expect_arg "submit: --output twice" "node 'alpha' is given twice" \
	"$CTL" $S --model a:m --input x=a:d --output beta,alpha
expect_arg "submit: --offline unknown" "--offline 'tee'" \
	"$CTL" $S --model a:m --input x=a:d --offline tee
expect_arg "submit: --offline dealer: bad node" "--offline 'dealer:'" \
	"$CTL" $S --model a:m --input x=a:d --offline dealer:
expect_arg "submit: --frac-bits 0" "--frac-bits '0'" \
	"$CTL" $S --model a:m --input x=a:d --frac-bits 0
expect_arg "submit: --frac-bits 31" "--frac-bits '31'" \
	"$CTL" $S --model a:m --input x=a:d --frac-bits 31
expect_arg "submit: --frac-bits not a number" "--frac-bits '16x'" \
	"$CTL" $S --model a:m --input x=a:d --frac-bits 16x
finish

#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# From `make install` to a joint job, as docs/ tell an operator, using only
# the installed files (issue 11, finding 3). Usage:
#
#   tests/daemon/test_install.sh MPCCTL [MPCD]
#
# `make install DESTDIR=$TMP/dest PREFIX=/usr` (of the binaries given, not
# rebuilt); the unit, the manual pages and the installed example configs
# are checked; then, with the installed mpcctl and mpcd only: keys made and
# spread by the recipe of the installed examples/README.md, the four
# example configs (alpha, beta, gamma, the dealer) adapted as that README
# says (ports from the kernel; ControlSocket and DataDir under a temporary
# root standing for /run and /var/lib: nothing is written to the real
# ones; datasets and models pointed at tests/fixtures/wine_mlp), `mpcd
# --check`, the daemons started, and alpha's wine model run on beta's and
# gamma's columns with the dealer, gamma approving by hand; the result is
# compared with the fixture's expected output. Then `make uninstall`.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/cli/lib.sh
. tests/daemon/helpers.sh "$@"
plan 14
DEST=$TMP/dest
ROOT=$TMP/root
ETC=$ROOT/etc/mpcd
NODES="alpha beta gamma dealer"
W=$PWD/tests/fixtures/wine_mlp
declare -A PID
BINDIR=$(dirname "$MPCCTL")

stop_nodes() {
	local n
	for n in "${!PID[@]}"; do
		kill -TERM "${PID[$n]}" 2>/dev/null
		if ! wait_until 30 eval "! kill -0 ${PID[$n]} 2>/dev/null"; then
			kill -KILL "${PID[$n]}" 2>/dev/null
		fi
		wait "${PID[$n]}" 2>/dev/null
		echo $? >"$ROOT/$n.rc"
		unset "PID[$n]"
	done
}
trap 'stop_nodes; cleanup' EXIT

# The installed files only, from here on.
ICTL=$DEST/usr/bin/mpcctl
IMPCD=$DEST/usr/sbin/mpcd
ctl_i() { local n=$1; shift; run_checked "$ICTL" -s "$ROOT/run/mpcd/$n.sock" "$@"; }

begin
mkdir -p "$ROOT"
# ---- make install ----
# -o: the binaries under test as they are, never rebuilt by this make.
# Not the flags of a `make test` this may run under (its jobserver, its variables).
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES
if make --no-print-directory -o "$MPCCTL" -o "$MPCD" install BIN="$BINDIR" \
	DESTDIR="$DEST" PREFIX=/usr >"$TMP/make.log" 2>&1; then
	missing=""
	for f in usr/bin/mpcctl usr/sbin/mpcd usr/share/man/man1/mpcctl.1 \
		usr/share/man/man5/mpcd.conf.5 usr/share/man/man8/mpcd.8 \
		usr/lib/systemd/system/mpcd@.service usr/lib/sysusers.d/mpcd.conf \
		usr/share/doc/mpcd/README.md usr/share/doc/mpcd/config.md \
		usr/share/doc/mpcd/examples/README.md usr/share/doc/mpcd/examples/alpha.conf \
		usr/share/doc/mpcd/examples/beta.conf usr/share/doc/mpcd/examples/gamma.conf \
		usr/share/doc/mpcd/examples/dealer.conf; do
		[ -f "$DEST/$f" ] || missing="$missing $f"
	done
	[ -d "$DEST/etc/mpcd" ] || missing="$missing etc/mpcd/"
	cmp -s "$IMPCD" "$MPCD" || missing="$missing (usr/sbin/mpcd is not the mpcd under test)"
	if [ -z "$missing" ]; then
		ok "make install DESTDIR PREFIX=/usr puts binaries, manual pages, unit, docs, examples"
	else
		not_ok "make install DESTDIR PREFIX=/usr puts every file" "missing:$missing"
	fi
else
	not_ok "make install DESTDIR PREFIX=/usr" "$(tail -n 5 "$TMP/make.log")"
fi

# ---- the unit ----
U=$DEST/usr/lib/systemd/system/mpcd@.service
if grep -qx 'ExecStart=/usr/sbin/mpcd -c /etc/mpcd/%i.conf' "$U" 2>/dev/null &&
	grep -qx 'StateDirectory=mpcd/%i' "$U" && grep -qx 'RuntimeDirectory=mpcd' "$U" &&
	grep -qx 'RuntimeDirectoryPreserve=yes' "$U"; then
	ok "the unit runs the installed mpcd and makes /var/lib/mpcd/%i and /run/mpcd"
else
	not_ok "the unit runs the installed mpcd and makes its directories" \
		"$(grep -E '^(ExecStart|StateDirectory|RuntimeDirectory)' "$U" 2>&1)"
fi
# systemd's own reading of it (an unknown key, a bad value); the binary
# and the manual pages are in DESTDIR, not on this system: those lines go.
if ! command -v systemd-analyze >/dev/null; then
	skip "systemd-analyze verify: the unit has no error" "no systemd-analyze here"
else
	cp "$U" "$TMP/mpcd@alpha.service"
	systemd-analyze verify "$TMP/mpcd@alpha.service" 2>&1 |
		grep -vE 'Command /usr/(sbin/mpcd|bin/mpcctl) is not executable|man mpcd|man mpcctl|^$' >"$TMP/verify"
	if [ ! -s "$TMP/verify" ]; then
		ok "systemd-analyze verify: the unit has no error"
	else
		not_ok "systemd-analyze verify: the unit has no error" "$(head -c 600 "$TMP/verify")"
	fi
fi

# ---- the manual pages, as installed ----
bad=""
for m in man1/mpcctl.1 man5/mpcd.conf.5 man8/mpcd.8; do
	f=$DEST/usr/share/man/$m
	w=$(groff -man -ww -z "$f" 2>&1; LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$f" 2>&1 >/dev/null)
	lines=$(LC_ALL=C.UTF-8 MANWIDTH=80 man -l "$f" 2>/dev/null | wc -l)
	{ [ -z "$w" ] && [ "$lines" -gt 20 ]; } || bad="$bad $m ($lines lines): $w"
done
if [ -z "$bad" ]; then
	ok "the installed manual pages render with man -l, without a warning"
else
	not_ok "the installed manual pages render without a warning" "$bad"
fi

# ---- keys and configs, as the installed examples/README.md says ----
mkdir -p "$ETC"
cp "$DEST"/usr/share/doc/mpcd/examples/*.conf "$ETC/"
# Its "Keys: replace them" block, run as written but for the directory.
sed -n '/^## Keys: replace them/,/^`\*.key`/p' "$DEST/usr/share/doc/mpcd/examples/README.md" |
	sed -n 's/^    //p' | sed "s|^cd deploy/examples|cd '$ETC'|" >"$TMP/keys.sh"
if grep -q 'mpcctl genkey' "$TMP/keys.sh" &&
	(umask 022 && PATH="$DEST/usr/bin:$PATH" bash -e "$TMP/keys.sh") >"$TMP/keys.out" 2>&1 &&
	[ ! -s "$TMP/keys.out" ] && [ "$(stat -c %a "$ETC/alpha.key")" = 600 ] &&
	grep -qF "PublicKey = $(cat "$ETC/beta.pub")" "$ETC/alpha.conf" &&
	grep -qF "PublicKey = $(cat "$ETC/alpha.pub")" "$ETC/dealer.conf"; then
	ok "keys made and spread by examples/README.md's recipe, no warning, 0600"
else
	not_ok "keys made and spread by examples/README.md's recipe" \
		"$(head -c 600 "$TMP/keys.out") $(stat -c %a "$ETC/alpha.key" 2>&1)"
fi
# Ports from the kernel (the examples' 7101..7104 may be taken here); the
# state under the temporary root; the datasets and models of this test
# instead of /srv/mpcd (the examples/README.md: "change the paths").
declare -A PORT
for n in $NODES; do PORT[$n]=$("$TMP/freeport"); done
for n in $NODES; do
	f=$ETC/$n.conf
	sed -i -e "s|127.0.0.1:7101|127.0.0.1:${PORT[alpha]}|; s|127.0.0.1:7102|127.0.0.1:${PORT[beta]}|" \
		-e "s|127.0.0.1:7103|127.0.0.1:${PORT[gamma]}|; s|127.0.0.1:7104|127.0.0.1:${PORT[dealer]}|" \
		-e "s|^ControlSocket = .*|ControlSocket = $ROOT/run/mpcd/$n.sock|" \
		-e "s|^DataDir = .*|DataDir = $ROOT/var/lib/mpcd/$n|" "$f"
	# Drop the examples' [Dataset] and [Model] sections (files under /srv).
	awk '/^\[/ { drop = ($0 == "[Dataset]" || $0 == "[Model]") } !drop' "$f" >"$f.new" &&
		mv "$f.new" "$f"
done
printf '\n[Model]\nName = wine\nPath = %s/model.onnx\n' "$W" >>"$ETC/alpha.conf"
printf '\n[Dataset]\nName = cols_b\nPath = %s/input_party0.npy\n' "$W" >>"$ETC/beta.conf"
printf '\n[Dataset]\nName = cols_c\nPath = %s/input_party1.npy\n' "$W" >>"$ETC/gamma.conf"

# mpcd --check passes each config (it can make DataDir), making nothing.
bad=""
for n in $NODES; do
	run_checked "$IMPCD" -c "$ETC/$n.conf" --check >"$TMP/check.$n" 2>&1 || bad="$bad $n: $(tail -n 2 "$TMP/check.$n")"
done
[ -e "$ROOT/var" ] && bad="$bad (--check made $ROOT/var)"
if [ -z "$bad" ]; then
	ok "mpcd --check passes the four adapted example configs and makes nothing"
else
	not_ok "mpcd --check passes the adapted example configs" "$bad"
fi

# ---- the daemons ----
answers() { [ -S "$ROOT/run/mpcd/$1.sock" ] && "$ICTL" -s "$ROOT/run/mpcd/$1.sock" peers >/dev/null 2>&1; }
started=1
for n in $NODES; do
	"$IMPCD" -c "$ETC/$n.conf" 2>"$ROOT/$n.log" &
	PID[$n]=$!
	watch_log "$ROOT/$n.log"
	wait_until 30 answers "$n" || { started=0; break; }
done
modes=$(stat -c '%a' "$ROOT/var/lib/mpcd/alpha" "$ROOT/var/lib/mpcd/dealer" 2>&1 | tr '\n' ' ')
if [ $started = 1 ] && [ "$modes" = "700 700 " ]; then
	ok "the daemons start; each made its DataDir (and the parents) mode 0700"
else
	not_ok "the daemons start and make their DataDir 0700" "modes: $modes; $(tail -n 3 "$ROOT"/*.log)"
fi
peers_up() { [ "$(ctl_i "$1" peers --json 2>/dev/null | grep -c '"connected": true')" -eq 3 ]; }
if wait_until 30 peers_up alpha && wait_until 30 peers_up gamma && wait_until 30 peers_up dealer; then
	ok "every node connects to its three peers"
else
	not_ok "every node connects to its three peers" "$(ctl_i alpha peers 2>&1)"
fi

# mpcd's default socket is where plain mpcctl looks: --check of a config
# without ControlSocket names /run/mpcd/NAME.sock; and with only alpha's
# socket in /run/mpcd (a mount namespace of this test's own, a tmpfs on
# /run, the real one untouched) `mpcctl peers` without -s reaches alpha.
grep -v '^ControlSocket' "$ETC/beta.conf" >"$TMP/nosock.conf"
sed -i "s|^PrivateKeyFile = .*|PrivateKeyFile = $ETC/beta.key|" "$TMP/nosock.conf"
default=$(run_checked "$IMPCD" -c "$TMP/nosock.conf" --check 2>&1 | sed -n 's/^ControlSocket = //p')
if ! unshare -m --propagation private true 2>/dev/null; then
	skip "plain mpcctl finds the only daemon's socket in /run/mpcd, mpcd's default" \
		"no mount namespace here (needs root); mpcd's default is '$default'"
	skip "beside a stale socket mpcctl takes the live one; with two live ones it says so" \
		"no mount namespace here (needs root)"
else
	mkdir -p "$ROOT/one" && ln "$ROOT/run/mpcd/alpha.sock" "$ROOT/one/alpha.sock"
	unshare -m --propagation private bash -c 'mount -t tmpfs tmpfs /run && mkdir /run/mpcd &&
		mount --bind "$1" /run/mpcd && exec env -u MPCD_SOCKET "$2" peers --json' \
		sh "$ROOT/one" "$ICTL" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	if [ "$default" = /run/mpcd/beta.sock ] && [ $rc -eq 0 ] && grep -q '"name": "beta"' "$TMP/out" &&
		! grep -q '"name": "alpha"' "$TMP/out"; then
		ok "plain mpcctl finds the only daemon's socket in /run/mpcd, mpcd's default"
	else
		not_ok "plain mpcctl finds the only daemon's socket in /run/mpcd" \
			"mpcd's default '$default'; exit $rc: $(cat "$TMP/err")"
	fi
	# Beside a socket a crashed daemon left, still the live one; with two
	# live ones, a line that names them.
	/usr/bin/python3 -c "import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])" \
		"$ROOT/one/crashed.sock"
	unshare -m --propagation private bash -c 'mount -t tmpfs tmpfs /run && mkdir /run/mpcd &&
		mount --bind "$1" /run/mpcd && exec env -u MPCD_SOCKET "$2" peers --json' \
		sh "$ROOT/one" "$ICTL" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	ln "$ROOT/run/mpcd/beta.sock" "$ROOT/one/beta.sock"
	unshare -m --propagation private bash -c 'mount -t tmpfs tmpfs /run && mkdir /run/mpcd &&
		mount --bind "$1" /run/mpcd && exec env -u MPCD_SOCKET "$2" peers --json' \
		sh "$ROOT/one" "$ICTL" >"$TMP/out2" 2>"$TMP/err2"
	rc2=$?
	if [ $rc -eq 0 ] && grep -q '"name": "beta"' "$TMP/out" && [ $rc2 -eq 1 ] &&
		grep -qF "3 mpcd control sockets in /run/mpcd" "$TMP/err2" && grep -qF "2 answering" "$TMP/err2"; then
		ok "beside a stale socket mpcctl takes the live one; with two live ones it says so"
	else
		not_ok "beside a stale socket mpcctl takes the live one; with two it says so" \
			"exit $rc: $(cat "$TMP/err"); exit $rc2: $(cat "$TMP/err2")"
	fi
fi

# ---- the job: ctl.md's "A whole job, by hand" ----
id=$(ctl_i alpha submit --model alpha:wine --input input=beta:cols_b,gamma:cols_c \
	--output alpha --offline dealer:dealer 2>"$TMP/err")
pending() { [ "$(ctl_i gamma status "$id" --json 2>/dev/null | jget state)" = pending-approval ]; }
if [ -n "$id" ] && wait_until 60 pending && ctl_i gamma list | grep -q "$id.*pending-approval" &&
	ctl_i gamma approve "$id" 2>"$TMP/err"; then
	ok "alpha submits; gamma (Approve = manual) sees it pending and approves"
else
	not_ok "alpha submits; gamma sees it pending and approves" \
		"id '$id': $(cat "$TMP/err") $(ctl_i gamma list 2>&1)"
fi
if ctl_i alpha wait "$id" --timeout 120 >/dev/null 2>"$TMP/err" &&
	ctl_i alpha result "$id" -o "$TMP/out.npy" 2>>"$TMP/err" &&
	"$TMP/npycmp" "$TMP/out.npy" "$W/expected.npy" >"$TMP/cmp" 2>&1; then
	ok "the three-institution job with the dealer finishes; alpha's result matches expected.npy"
else
	not_ok "the job finishes and its result matches" "$(cat "$TMP/err" "$TMP/cmp" 2>/dev/null)"
fi

# ---- stop, uninstall ----
stop_nodes
bad=""
for n in $NODES; do
	[ "$(cat "$ROOT/$n.rc" 2>/dev/null)" = 0 ] || bad="$bad $n:exit=$(cat "$ROOT/$n.rc" 2>/dev/null)"
	grep -qE "$SAN_RE" "$ROOT/$n.log" && bad="$bad $n:sanitizer"
	[ -e "$ROOT/run/mpcd/$n.sock" ] && bad="$bad $n:socket left"
done
if [ -z "$bad" ]; then
	ok "every daemon exits 0 on SIGTERM and removes its socket"
else
	not_ok "every daemon exits 0 on SIGTERM" "$bad"
fi
if make --no-print-directory -o "$MPCCTL" -o "$MPCD" uninstall DESTDIR="$DEST" PREFIX=/usr \
	>"$TMP/make.log" 2>&1 && [ -z "$(find "$DEST" -type f)" ] && [ -d "$DEST/etc/mpcd" ]; then
	ok "make uninstall removes every installed file, keeps /etc/mpcd"
else
	not_ok "make uninstall removes every installed file" "$(find "$DEST" -type f | head) $(tail -n 3 "$TMP/make.log")"
fi
finish

#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Integration tests of mpcd: what an operator is told (issue 11, findings
# 3, 4 and 6). Usage:
#
#   tests/daemon/test_ops.sh MPCCTL [MPCD]
#
# alpha, beta, gamma, dealer. alpha pins a wrong key for beta (both dial
# each other); the dealer pins a wrong key for gamma (only gamma dials).
#   - a wrong key points at the side that can fix it: the node with the
#     wrong entry shows "a peer at ADDRESS presented key K, which is not
#     NAME's configured key" under that peer in `mpcctl peers`; the other
#     node is told that the fix is on the other side, never to change its
#     own entry;
#   - every healthy link shows its last handshake and its cipher, and no
#     LAST ERROR, also after two links were dialled at once (the duplicate
#     is resolved, not an error: beta restarts while gamma is stopped, so
#     both dial at once when gamma resumes);
#   - log lines carry no C function names;
#   - `mpcd --check` refuses this node's own public or private key as a
#     peer's PublicKey, naming the section, and a DataDir that cannot be
#     made; it passes directories that can be (DataDir, the control
#     socket's, the audit log's), making nothing.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/cli/lib.sh
. tests/daemon/helpers.sh "$@"
plan 14

# peer_json NODE PEER: NODE's `peers --json` object for PEER.
peer_json() { ctl "$1" peers --json 2>/dev/null | grep "\"name\": \"$2\""; }
# key_problem_has NODE PEER TEXT: NODE's row for PEER carries TEXT.
key_problem_has() { peer_json "$1" "$2" | jget key_problem | grep -qF -- "$3"; }

consortium() {
	local d=$TMP/c
	mkdir -p "$d"
	cluster_init "$d" alpha beta gamma dealer || return 1
	"$MPCCTL" genkey | "$MPCCTL" pubkey >"$d/wrong1.pub"
	"$MPCCTL" genkey | "$MPCCTL" pubkey >"$d/wrong2.pub"
	cluster_peer_set alpha beta PublicKey "$(cat "$d/wrong1.pub")"
	cluster_peer_set dealer gamma PublicKey "$(cat "$d/wrong2.pub")"
	# The dealer dials no one (as deploy/examples): gamma's key reaches it
	# only from gamma's dials, from an address it has no name for.
	for n in alpha beta gamma; do cluster_peer_set dealer "$n" Endpoint ""; done
	start_all && cluster_wait_peers alpha 2 && cluster_wait_peers beta 2 &&
		cluster_wait_peers gamma 2 && cluster_wait_peers dealer 2
}

# ---- wrong keys ----
wrong_keys() {
	local bpub gpub js
	bpub=$(cat "$CL_DIR/beta.pub")
	gpub=$(cat "$CL_DIR/gamma.pub")
	# alpha holds the wrong key for beta: beta's dials show alpha beta's real key.
	if wait_until 60 key_problem_has alpha beta "presented key $bpub, which is not beta's configured key"; then
		ok "alpha (wrong entry for beta): peers shows beta's real key, not beta's configured key"
	else
		not_ok "alpha (wrong entry for beta): peers shows beta's real key" "$(peer_json alpha beta)"
	fi
	# alpha's own dials to beta then blame alpha's entry, not beta's.
	alpha_blames_itself() {
		peer_json alpha beta | jget last_error |
			grep -qF "[Peer] beta PublicKey here is not beta's key"
	}
	if wait_until 60 alpha_blames_itself && ctl alpha peers >"$TMP/table" 2>&1 &&
		grep -A1 '^beta ' "$TMP/table" |
		grep -qF "  ! beta: a peer at 127.0.0.1 presented key $bpub, which is not beta's configured key" &&
		! grep -q "no configured peer's key" "$TMP/table"; then
		ok "alpha's peers table says it under beta's row, and its own dials blame its entry"
	else
		not_ok "alpha's peers table says it under beta's row" "$(cat "$TMP/table")"
	fi
	# beta's entry is right: it is told that alpha's entry for it is wrong.
	if wait_until 60 key_problem_has beta alpha "alpha's [Peer] beta must hold this node's public key $bpub"; then
		js=$(peer_json beta alpha)
		if echo "$js" | jget key_problem | grep -q "is not alpha's configured key" ||
			! echo "$js" | jget last_error | grep -qF "mpcctl peers\` on alpha says which"; then
			not_ok "beta (right entry): told the fix is alpha's, never its own" "$js"
		else
			ok "beta (right entry): told the fix is alpha's, never its own"
		fi
	else
		not_ok "beta (right entry): told the fix is alpha's" "$(peer_json beta alpha)"
	fi
	# The dealer dials no one and has no address for gamma: still named.
	if wait_until 90 key_problem_has dealer gamma "presented key $gpub, which is not gamma's configured key"; then
		ok "dealer (wrong entry for gamma, no Endpoint): peers names gamma"
	else
		not_ok "dealer (wrong entry for gamma, no Endpoint): peers names gamma" \
			"$(ctl dealer peers --json 2>&1)"
	fi
	js=$(peer_json gamma dealer)
	if echo "$js" | jget last_error | grep -qF "during the handshake" &&
		! echo "$js" | jget key_problem | grep -q "configured key"; then
		ok "gamma (right entry for the dealer): its dial says the dealer refused, not to fix its entry"
	else
		not_ok "gamma: its dial says the dealer refused" "$js"
	fi
}

# ---- healthy links ----
# healthy NODE PEER...: each link up, a handshake within the last 10
# minutes, a cipher, no last error and no key problem.
healthy() {
	local n=$1 p js now bad=""
	shift
	now=$(date +%s)
	for p in "$@"; do
		js=$(peer_json "$n" "$p")
		echo "$js" | grep -q '"connected": true' &&
			[ "$(echo "$js" | jget last_handshake)" -gt $((now - 600)) ] 2>/dev/null &&
			echo "$js" | grep -qE '"cipher": "(AES-256-GCM|ChaCha20-Poly1305)"' &&
			echo "$js" | grep -q '"last_error": ""' && echo "$js" | grep -q '"key_problem": ""' ||
			bad="$bad [$n->$p: $js]"
	done
	[ -z "$bad" ] || { echo "$bad" >"$TMP/unhealthy"; return 1; }
}

healthy_links() {
	if healthy alpha gamma dealer && healthy beta gamma dealer && healthy gamma alpha beta &&
		healthy dealer alpha beta && ctl alpha peers | grep '^gamma ' | grep -qE 'ago +(AES-256-GCM|ChaCha20-Poly1305) '; then
		ok "healthy links: last handshake, cipher, no last error (JSON and table)"
	else
		not_ok "healthy links: last handshake, cipher, no last error" "$(cat "$TMP/unhealthy" 2>/dev/null)"
	fi
}

# beta and gamma dial each other at once: beta restarts while gamma is
# stopped (SIGSTOP), so beta's handshake waits in gamma's backlog; when
# gamma resumes, its redial to beta is due before it reads beta's.
dup_seen() { cat "$CL_DIR/beta.log" "$CL_DIR/gamma.log" | grep -c 'duplicate link'; }
duplicate_link() {
	local try before gpid done=0
	for try in 1 2 3; do
		before=$(dup_seen)
		cluster_stop beta
		gpid=$(cluster_pid gamma)
		kill -STOP "$gpid"
		if ! cluster_start beta; then
			kill -CONT "$gpid"
			break
		fi
		sleep 1.5 # gamma's redial to beta (1 s after beta left) falls due meanwhile
		kill -CONT "$gpid"
		wait_until 30 connected beta gamma && wait_until 30 connected gamma beta
		wait_until 5 test "$(dup_seen)" -gt "$before" && { done=1; break; }
	done
	if [ $done = 0 ]; then
		skip "two links dialled at once: the link up shows no LAST ERROR" \
			"no simultaneous dial happened in 3 tries"
	elif wait_until 30 connected beta gamma && wait_until 30 connected gamma beta &&
		healthy beta gamma && healthy gamma beta; then
		ok "two links dialled at once: the link up shows no LAST ERROR"
	else
		not_ok "two links dialled at once: the link up shows no LAST ERROR" \
			"$(cat "$TMP/unhealthy" 2>/dev/null) $(grep -h 'duplicate\|second link' "$CL_DIR/beta.log" "$CL_DIR/gamma.log" | tail -n 4)"
	fi
}

# ---- log lines ----
log_lines() {
	local fns bad
	fns=$(sed -n 's/^[a-z].*[ *]\([a-z_][a-z_0-9]*\)(.*/\1/p' daemon/*.c | sort -u | tr '\n' '|')
	bad=$(cat "$CL_DIR"/*.log | grep -E "^mpcd\[[^]]*\] (info|warn|error): (${fns%|}): ")
	if [ -z "$bad" ] && [ "$(cat "$CL_DIR"/*.log | grep -c '^mpcd\[')" -gt 10 ]; then
		ok "log lines carry no C function names"
	else
		not_ok "log lines carry no C function names" "$(echo "$bad" | head -n 5)"
	fi
}

# ---- mpcd --check ----
# with_beta_key FILE KEY: alpha's config with [Peer] beta's PublicKey KEY.
with_beta_key() {
	awk -v k="$2" '/^\[/ { sec = $0; name = "" }
		sec == "[Peer]" && $1 == "Name" { name = $3 }
		sec == "[Peer]" && name == "beta" && $1 == "PublicKey" { $0 = "PublicKey = " k }
		{ print }' "$CL_DIR/alpha.conf" >"$1"
}
check_cmd() {
	local line
	with_beta_key "$TMP/own_pub.conf" "$(cat "$CL_DIR/alpha.pub")"
	line=$(grep -n '^Name = beta' "$TMP/own_pub.conf" | cut -d: -f1)
	expect_fail "mpcd --check refuses the node's own public key as [Peer] beta's" \
		"own_pub.conf:$((line - 1)): \[Peer\] beta: PublicKey is this node's own public key" \
		"$MPCD" -c "$TMP/own_pub.conf" --check
	with_beta_key "$TMP/own_priv.conf" "$(cat "$CL_DIR/alpha.key")"
	expect_fail "mpcd --check refuses the node's own private key as [Peer] beta's" \
		"\[Peer\] beta: PublicKey is this node's own PRIVATE key" \
		"$MPCD" -c "$TMP/own_priv.conf" --check
	: >"$TMP/afile"
	sed "s|^DataDir = .*|DataDir = $TMP/afile/alpha|" "$CL_DIR/alpha.conf" >"$TMP/baddir.conf"
	expect_fail "mpcd --check refuses a DataDir that cannot be made" \
		"DataDir $TMP/afile/alpha: cannot be created: $TMP/afile is not a directory" \
		"$MPCD" -c "$TMP/baddir.conf" --check
	sed -e "s|^DataDir = .*|DataDir = $TMP/fresh/a/b\nAuditLog = $TMP/fresh/log/audit.log|" \
		-e "s|^ControlSocket = .*|ControlSocket = $TMP/fresh/run/alpha.sock|" "$CL_DIR/alpha.conf" >"$TMP/newdir.conf"
	if run_checked "$MPCD" -c "$TMP/newdir.conf" --check >"$TMP/out" 2>"$TMP/err" && [ ! -e "$TMP/fresh" ]; then
		ok "mpcd --check passes a DataDir, a socket and an audit log directory it can make, making nothing"
	else
		not_ok "mpcd --check passes a DataDir it can make, making nothing" "$(cat "$TMP/err"; ls -R "$TMP/fresh" 2>&1 | head -3)"
	fi
}

begin
if consortium; then
	ok "consortium: alpha-gamma, beta-gamma and the dealer's links up"
	wrong_keys
	healthy_links
	duplicate_link
	log_lines
else
	not_ok "consortium: links up" "$(ctl alpha peers 2>&1)"
fi
check_cmd
stop_clean "every daemon exits 0 on SIGTERM, no sanitizer report"
finish

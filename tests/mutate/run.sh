#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Mutation smoke test: every mutant of tests/mutate/mutants.txt must be
# caught by its test command. Each mutant is applied, alone, to a scratch
# copy of the committed tree (git archive of MUTATE_REV, default HEAD: a
# mutant applies to what is committed, never to a half-edited file; outside
# a git checkout, a copy of the files), the tree is rebuilt incrementally
# in one shared build directory, the command runs there, and the file is
# restored before the next mutant.
#
# A mutant is caught when its command exits non-zero. Harness errors count
# as failures, never as catches: OLD text that does not occur exactly once
# (a refactor moved the line: fix the list), a mutant that does not
# compile, or a command that already fails on the unmutated tree (checked
# once per distinct command before any mutant: a suite that fails anyway
# would "catch" everything).
#
#   tests/mutate/run.sh            every mutant; TAP, then "N passed, N failed"
#   tests/mutate/run.sh NAME...    only those
#   tests/mutate/run.sh -l         list the names
# Environment: MUTATE_REV (revision to mutate), MUTATE_TIMEOUT (seconds per
# command, default 300; a command that times out counts as a catch, as in
# any mutation tool: the mutant made the suite hang), MUTATE_KEEP=1 keeps
# the scratch tree and prints its path, MUTATE_LIST another list file.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
LIST=${MUTATE_LIST:-$HERE/mutants.txt}
REV=${MUTATE_REV:-HEAD}
TMO=${MUTATE_TIMEOUT:-300}
SAN_ARGS=("SANITIZE=address,undefined" B=build/san BIN=build/san/bin OPT=-O1)

# ---- the list: NAME | FILE | OLD | NEW | COMMAND ----
# Fields are separated by " | " (space, bar, space); OLD and NEW are
# literal one-line texts without that separator; COMMAND is the rest of
# the line and runs with bash in the scratch tree.
names=() files=() olds=() news=() cmds=()
lineno=0
while IFS= read -r line || [ -n "$line" ]; do
	lineno=$((lineno + 1))
	case "$line" in '#'* | '') continue ;; esac
	rest=$line f=()
	for _ in 1 2 3 4; do
		case "$rest" in
		*' | '*) f+=("${rest%%' | '*}") rest=${rest#*' | '} ;;
		*) echo "Bail out! $LIST:$lineno: fewer than 5 fields"; exit 2 ;;
		esac
	done
	f+=("$rest")
	names+=("$(echo "${f[0]}" | sed 's/^ *//; s/ *$//')")
	files+=("$(echo "${f[1]}" | sed 's/^ *//; s/ *$//')")
	olds+=("${f[2]}")
	news+=("${f[3]}")
	cmds+=("$(echo "${f[4]}" | sed 's/^ *//; s/ *$//')")
done <"$LIST"

if [ "${1:-}" = -l ]; then
	printf '%s\n' "${names[@]}"
	exit 0
fi

# Selection by name (all when no argument); unknown names are an error.
sel=()
if [ $# -eq 0 ]; then
	sel=("${!names[@]}")
else
	for want in "$@"; do
		hit=
		for i in "${!names[@]}"; do
			[ "${names[$i]}" = "$want" ] && sel+=("$i") && hit=1
		done
		[ -n "$hit" ] || { echo "Bail out! no mutant named '$want'"; exit 2; }
	done
fi

echo "1..${#sel[@]}"
passed=0 failed=0 k=0
# Nothing can run: every planned mutant is counted failed.
bail() {
	echo "# $1"
	echo "0 passed, ${#sel[@]} failed"
	exit 1
}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/mpcd-mutate.XXXXXX")
if [ "${MUTATE_KEEP:-}" = 1 ]; then
	echo "# scratch tree: $WORK/tree"
else
	trap 'rm -rf "$WORK"' EXIT
fi
T=$WORK/tree
mkdir -p "$T"
if git -C "$ROOT" rev-parse -q --verify "$REV^{commit}" >/dev/null 2>&1; then
	git -C "$ROOT" archive "$REV" | tar -x -C "$T" || bail "cannot export $REV"
	echo "# mutating $(git -C "$ROOT" rev-parse --short "$REV") in $T"
elif [ -z "${MUTATE_REV:-}" ] && ! git -C "$ROOT" rev-parse >/dev/null 2>&1; then
	# A source tarball without .git: the files as they are, minus builds.
	tar -C "$ROOT" --exclude=./build --exclude=./bin -cf - . | tar -x -C "$T" ||
		bail "cannot copy $ROOT"
	echo "# not a git checkout: mutating the files of $ROOT in $T"
else
	bail "no commit '$REV' in $ROOT"
fi

# Builds what the selected commands need: the optimised tree always, the
# sanitized one when a command runs something under build/san/.
need_san=
for i in "${sel[@]}"; do
	case "${cmds[$i]}" in *build/san/*) need_san=1 ;; esac
done
build() {
	make -C "$T" -j2 --no-print-directory all bin/test-runner >>"$WORK/build.log" 2>&1 &&
		{ [ -z "$need_san" ] ||
			make -C "$T" -j2 --no-print-directory "${SAN_ARGS[@]}" \
				build/san/bin/mpcctl build/san/bin/mpcd build/san/bin/test-runner \
				>>"$WORK/build.log" 2>&1; }
}
runcmd() { (cd "$T" && timeout -k 10 "$TMO" bash -c "$1") >"$WORK/out" 2>&1; }

build || { tail -n 20 "$WORK/build.log" | sed 's/^/# /'; bail "the unmutated tree does not build"; }

# Every distinct command must pass on the unmutated tree.
declare -A base_ok
for i in "${sel[@]}"; do
	c=${cmds[$i]}
	[ -n "${base_ok[$c]+x}" ] && continue
	if runcmd "$c"; then
		base_ok[$c]=1
	else
		base_ok[$c]=0
		echo "# fails without any mutant: $c"
		grep -E '^not ok|^#' "$WORK/out" | head -n 5 | sed 's/^/#   /'
	fi
done

# apply FILE OLD NEW: exact literal replacement, which must match once.
apply() {
	OLD=$2 NEW=$3 perl -0777 -i -pe '
		my ($o, $n) = ($ENV{OLD}, $ENV{NEW});
		my $c = () = /\Q$o\E/g;
		if ($c != 1) { print STDERR "$c"; exit 3 }
		s/\Q$o\E/$n/;' "$1"
}

for i in "${sel[@]}"; do
	k=$((k + 1))
	name=${names[$i]} file=$T/${files[$i]} cmd=${cmds[$i]}
	if [ ! -f "$file" ]; then
		echo "not ok $k $name # harness: no file ${files[$i]}"
		failed=$((failed + 1))
		continue
	fi
	if [ "${base_ok[$cmd]}" != 1 ]; then
		echo "not ok $k $name # harness: '$cmd' fails without the mutant"
		failed=$((failed + 1))
		continue
	fi
	cp -p "$file" "$WORK/orig"
	if ! n=$(apply "$file" "${olds[$i]}" "${news[$i]}" 2>&1); then
		echo "not ok $k $name # harness: OLD text found ${n:-?} times in ${files[$i]} (must be once)"
		failed=$((failed + 1))
		continue
	fi
	if cmp -s "$file" "$WORK/orig"; then
		echo "not ok $k $name # harness: NEW equals OLD, nothing mutated"
		failed=$((failed + 1))
	elif ! build; then
		echo "not ok $k $name # harness: the mutant does not compile"
		tail -n 5 "$WORK/build.log" | sed 's/^/# /'
		failed=$((failed + 1))
	elif runcmd "$cmd"; then
		echo "not ok $k $name survived ($cmd)"
		failed=$((failed + 1))
	else
		rc=$?
		why=$(grep -m 1 -E '^not ok' "$WORK/out" | cut -c 1-100)
		[ $rc -eq 124 ] && why="timed out after ${TMO}s"
		echo "ok $k $name (caught by $cmd${why:+: $why})"
		passed=$((passed + 1))
	fi
	# Restore content; a fresh mtime makes make rebuild the file.
	cat "$WORK/orig" >"$file"
	touch "$file"
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

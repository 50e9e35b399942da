#!/bin/sh
# SPDX-License-Identifier: MIT
# tools_help.sh - every command-line tool answers --help (usage on stdout, exit 0), --version
# (its name on stdout, exit 0) and rejects an unknown option with its usage-error status and a
# pointer to --help on stderr.
# Usage: tools_help.sh NAME=PATH[:STATUS]...   (STATUS: the usage-error exit status, default 2)
set -u
out=$(mktemp) err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT
fails=0

fail() {
	echo "FAIL: $*" >&2
	fails=$((fails + 1))
}

for spec in "$@"; do
	name=${spec%%=*}
	rest=${spec#*=}
	path=${rest%:*}
	status=2
	[ "$path" != "$rest" ] && status=${rest##*:}

	"$path" --help >"$out" 2>"$err" </dev/null
	rc=$?
	[ $rc -eq 0 ] || fail "$name --help: exit $rc, want 0"
	grep -qi usage "$out" || fail "$name --help: no usage on stdout"

	"$path" --version >"$out" 2>"$err" </dev/null
	rc=$?
	[ $rc -eq 0 ] || fail "$name --version: exit $rc, want 0"
	grep -q "^$name " "$out" || fail "$name --version: stdout does not start with '$name '"

	"$path" --bogus-option >"$out" 2>"$err" </dev/null
	rc=$?
	[ $rc -eq "$status" ] || fail "$name --bogus-option: exit $rc, want $status"
	grep -q -- --help "$err" || fail "$name --bogus-option: no pointer to --help on stderr"
	echo "ok: $name"
done
[ $fails -eq 0 ] || { echo "$fails check(s) failed" >&2; exit 1; }
echo "all $# tools answer --help, --version and reject unknown options"

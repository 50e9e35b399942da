#!/bin/sh
# SPDX-License-Identifier: MIT
# test_viewer_cli.sh VIEW SAMPLES DATA OUT - magma-view's command line (ctest viewer_test_cli).
# Runs with no display at all (DISPLAY unset, SDL_VIDEODRIVER=dummy): --screenshot must not
# need one. Prints one line per check; exits 1 on the first failure.
set -u
view=$1 samples=$2 data=$3 out=$4
mkdir -p "$out"
unset DISPLAY WAYLAND_DISPLAY
export SDL_VIDEODRIVER=dummy

fail() {
	echo "not ok - $*"
	exit 1
}

# expect STATUS WHAT CMD... - run CMD, check its exit status, keep stdout/stderr in $out.
expect() {
	want=$1 what=$2
	shift 2
	"$@" >"$out/stdout" 2>"$out/stderr"
	got=$?
	[ "$got" -eq "$want" ] || { cat "$out/stderr"; fail "$what: exit $got, want $want"; }
	echo "ok - $what"
}

expect 0 "--help exits 0" "$view" --help
grep -q -- "--screenshot OUT.png" "$out/stdout" || fail "--help lists --screenshot"
for opt in --view --at --fault --cycles --size --test-input --version "Exit status"; do
	grep -q -- "$opt" "$out/stdout" || fail "--help explains $opt"
done
expect 0 "--version exits 0" "$view" --version
grep -q "^magma-view " "$out/stdout" || fail "--version prints the version"
expect 2 "an unknown option is exit 2" "$view" --frobnicate "$samples/write.json"
grep -q "Try 'magma-view --help'" "$out/stderr" || fail "the message points to --help"
expect 2 "no trace is exit 2" "$view"
expect 2 "a bad --view is exit 2" "$view" --view sideways "$samples/write.json"
expect 2 "a bad --size is exit 2" "$view" --size 10x10 --screenshot "$out/x.png" "$samples/write.json"
expect 2 "--cycles with END before START is exit 2" "$view" --cycles 9:3 --screenshot "$out/x.png" "$samples/write.json"
expect 0 "--cycles zooms the timeline" "$view" --cycles 0:1000 --screenshot "$out/cycles.png" "$samples/write.json"
expect 2 "--at past the end is exit 2" "$view" --at 99999 --screenshot "$out/x.png" "$samples/write.json"
grep -q "has 202 events" "$out/stderr" || fail "--at says how many events there are"
expect 2 "--fault past the last is exit 2" "$view" --fault 1 --screenshot "$out/x.png" "$samples/write.json"

# Bad traces: a message on stderr and in the picture (exit 2), never a crash.
expect 2 "a truncated trace is exit 2" "$view" --screenshot "$out/corrupt.png" "$data/corrupt.json"
grep -q "bad trace: line" "$out/stderr" || fail "the message names the line"
[ -s "$out/corrupt.png" ] || fail "the error screen is written"
printf '\000\001garbage' >"$out/garbage.json"
expect 2 "binary garbage is exit 2" "$view" --screenshot "$out/garbage.png" "$out/garbage.json"
expect 2 "a missing file is exit 2" "$view" --screenshot "$out/missing.png" "$out/no-such.json"
grep -q "cannot open" "$out/stderr" || fail "a missing file says so"
expect 3 "an unwritable PNG is exit 3" "$view" --screenshot /nonexistent/dir/x.png "$samples/write.json"

for s in write copy fill compute; do
	for v in timeline memory chain; do
		expect 0 "screenshot $s $v" "$view" --screenshot "$out/$s-$v.png" --view "$v" \
			--size 1280x720 "$samples/$s.json"
		[ -s "$out/$s-$v.png" ] || fail "$s-$v.png written"
	done
done
expect 0 "screenshot at an event of a fault trace" "$view" --screenshot "$out/at.png" \
	--view memory --at 70 "$data/fault-two-connections.json"
expect 0 "--fault selects a fault" "$view" --screenshot "$out/fault.png" --fault 1 \
	--view chain "$data/hang-reset.json"
echo "all ok"

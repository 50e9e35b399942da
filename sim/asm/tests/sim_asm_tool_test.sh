#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# sim-asm tool test: assemble -> disassemble -> assemble is bit-exact; errors name the line and
# exit 1; --help exits 0. Usage: sim_asm_tool_test.sh PATH/TO/sim-asm
set -euo pipefail
asm=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() {
	echo "FAIL: $*"
	echo "0 passed, 1 failed"
	exit 1
}

cat >"$tmp/k.s" <<'ASM'
# y[i] = a * x[i] + b, with a divergent tail
	sreg r4, global_id_x
	ld r5, r0, 16          # n
	sltu r6, r4, r5
	if r6
	shl r7, r4, 2
	ldx r8, r0, r7, 64
	fma r8, r8, 2.5, r8
	stx r0, r7, r8, 128
	endif
	exit
ASM
"$asm" -o "$tmp/k.bin" "$tmp/k.s" || fail "assemble"
[[ $(stat -c %s "$tmp/k.bin") -eq 80 ]] || fail "expected 10 words"
"$asm" -d -o "$tmp/k2.s" "$tmp/k.bin" || fail "disassemble"
"$asm" -o "$tmp/k2.bin" "$tmp/k2.s" || fail "reassemble"
cmp -s "$tmp/k.bin" "$tmp/k2.bin" || fail "round trip differs"
"$asm" <"$tmp/k.s" >"$tmp/k3.bin" || fail "stdin/stdout"
cmp -s "$tmp/k.bin" "$tmp/k3.bin" || fail "stdin/stdout output differs"

printf 'add r1, r2, 1\nfrobnicate r1\n' >"$tmp/bad.s"
if "$asm" -o "$tmp/bad.bin" "$tmp/bad.s" 2>"$tmp/err"; then
	fail "bad input accepted"
fi
grep -q "line 2" "$tmp/err" || fail "error does not name line 2: $(cat "$tmp/err")"
"$asm" --help >/dev/null || fail "--help"
echo "5 passed, 0 failed"

#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# package_install.sh BUILD_DIR SOURCE_DIR [FLAGS] - the package_install ctest: what a driver
# project does with magma-sim. Installs BUILD_DIR into a temporary prefix, then builds and runs
# the examples (examples/) against that prefix twice:
#   1. with CMake: find_package(MagmaSim), MagmaSim::magma and MagmaSim::embedded, the
#      examples' own ctests (embedded device, a magma-simd socket, /dev/magma0 under
#      magma-sim-run: the installed daemon, runner and preload shim);
#   2. with pkg-config and a plain cc: `magma-embedded` (libmagma.so plus the embedded archive,
#      recorded with MAGMA_TRACE and replayed by the installed magma-replay: one trace writer
#      per process) and `magma` alone against a daemon, and libmagma.a linked on its own.
# FLAGS go to every compile and link (the sanitizer or coverage flags of the build installed).
set -euo pipefail
build=$1
src=$2
flags=${3:-}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/magma-package-XXXXXX")
daemon_pid=""
cleanup() {
	[[ -n $daemon_pid ]] && kill "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
prefix=$tmp/prefix
step() { echo "== $*"; }
cc=${CC:-cc}

step "cmake --install $build --prefix $prefix"
cmake --install "$build" --prefix "$prefix" >"$tmp/install.log"

step "find_package(MagmaSim): configure, build and run the examples"
cmake -S "$src/examples" -B "$tmp/cmake" -DCMAKE_PREFIX_PATH="$prefix" \
	-DCMAKE_C_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="$flags" >"$tmp/configure.log"
cmake --build "$tmp/cmake" >"$tmp/build.log" 2>&1 || {
	cat "$tmp/build.log"
	exit 1
}
ASAN_OPTIONS=${ASAN_OPTIONS:-}${ASAN_OPTIONS:+:}verify_asan_link_order=0 \
	ctest --test-dir "$tmp/cmake" --output-on-failure

step "pkg-config: assemble the kernel with the installed sim-asm"
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
mkdir -p "$tmp/pc"
"$prefix/bin/sim-asm" "$src/examples/kernel.s" -o "$tmp/pc/kernel.bin"
cmake -DBINARY="$tmp/pc/kernel.bin" -DHEADER="$tmp/pc/kernel_code.h" -DNAME=kernel_code \
	-P "$src/examples/embed_kernel.cmake"

step "pkg-config magma-embedded: libmagma.so + libmagma_embedded.a, traced"
# shellcheck disable=SC2046,SC2086 # pkg-config output and FLAGS are word lists
$cc -std=c11 $flags -I"$tmp/pc" -o "$tmp/pc/embedded" "$src/examples/embedded.c" \
	"$src/examples/first_client.c" $(pkg-config --cflags --libs magma-embedded) \
	-Wl,-rpath,"$prefix/lib"
# (ldd's output goes to a file first: with pipefail, grep -q closing the pipe early would fail
# the pipeline by SIGPIPE.)
ldd "$tmp/pc/embedded" >"$tmp/pc/embedded.ldd"
grep -q "libmagma.so.16 => $prefix/lib/" "$tmp/pc/embedded.ldd" || {
	echo "package_install.sh: the pkg-config build does not use the installed libmagma.so" >&2
	exit 1
}
MAGMA_TRACE=$tmp/pc/embedded.json "$tmp/pc/embedded"
# Two writers on one file would leave NUL bytes and an unreadable document.
tr -d '\n' <"$tmp/pc/embedded.json" >"$tmp/pc/embedded.flat"
if grep -qaP '\x00' "$tmp/pc/embedded.flat"; then
	echo "package_install.sh: the trace holds NUL bytes (two writers)" >&2
	exit 1
fi
grep -q '"type":"dev"' "$tmp/pc/embedded.json" || {
	echo "package_install.sh: the trace has no device events" >&2
	exit 1
}
"$prefix/bin/magma-replay" --quiet "$tmp/pc/embedded.json"

step "pkg-config magma: a magma-simd socket"
# shellcheck disable=SC2046,SC2086
$cc -std=c11 $flags -I"$tmp/pc" -o "$tmp/pc/daemon" "$src/examples/daemon.c" \
	"$src/examples/first_client.c" $(pkg-config --cflags --libs magma) -Wl,-rpath,"$prefix/lib"
"$prefix/bin/magma-simd" --dir "$tmp/sims" --foreground --quiet &
daemon_pid=$!
for _ in $(seq 100); do
	[[ -S $tmp/sims/magma0 ]] && break
	sleep 0.1
done
"$tmp/pc/daemon" "$tmp/sims/magma0"

step "libmagma.a on its own"
# shellcheck disable=SC2046,SC2086
$cc -std=c11 $flags -I"$tmp/pc" -o "$tmp/pc/daemon_static" "$src/examples/daemon.c" \
	"$src/examples/first_client.c" $(pkg-config --cflags magma) "$prefix/lib/libmagma.a" -pthread
ldd "$tmp/pc/daemon_static" >"$tmp/pc/daemon_static.ldd"
if grep -q libmagma "$tmp/pc/daemon_static.ldd"; then
	echo "package_install.sh: the static build still needs libmagma.so" >&2
	exit 1
fi
"$tmp/pc/daemon_static" "$tmp/sims/magma0"
echo "package_install.sh: all passed"

# SPDX-License-Identifier: MIT
# shellcheck shell=bash
#
# scripts/lib.sh - shared set-up for scripts/run, scripts/test and the gate scripts.
#
# Sourced, never run. Provides: the package check/install for a fresh Debian 12 machine
# (magma_ensure_packages: a no-op when everything is present, apt-get when root, otherwise the one
# command to run and exit 1), CMake configure/build/ctest helpers that work incrementally on a
# named build directory under the repository root, and the gate bookkeeping that scripts/test
# prints as its summary. Works without a terminal and with CI=true; never prompts.

MAGMA_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
MAGMA_JOBS=${MAGMA_JOBS:-$(nproc 2>/dev/null || echo 2)}
# Debian packages the build, the tests and the gates need (compiler and CMake included so a
# machine with only one of them gets the other; clang, clang-format and the libFuzzer runtime
# for the thread-safety, format and fuzz gates).
MAGMA_PACKAGES=(cmake g++ pkg-config libgtest-dev libcjson-dev libsdl2-dev valgrind lcov clang
	clang-format libclang-rt-14-dev libsdl2-ttf-dev libsdl2-image-dev fonts-dejavu-core xvfb)

magma_log() {
	printf '==> %s\n' "$*"
}

magma_die() {
	printf 'error: %s\n' "$*" >&2
	exit 1
}

# magma_now_ms - monotonic-enough wall time in milliseconds, for elapsed-time reports.
magma_now_ms() {
	local ns
	ns=$(date +%s%N)
	echo $((ns / 1000000))
}

# magma_fmt_ms MS - "12.3s" / "2m05s".
magma_fmt_ms() {
	local ms=$1
	if ((ms < 60000)); then
		printf '%d.%ds' $((ms / 1000)) $((ms % 1000 / 100))
	else
		printf '%dm%02ds' $((ms / 60000)) $((ms % 60000 / 1000))
	fi
}

# magma_missing_packages - print the packages of MAGMA_PACKAGES that dpkg does not have installed.
magma_missing_packages() {
	local p
	for p in "${MAGMA_PACKAGES[@]}"; do
		if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
			echo "$p"
		fi
	done
}

# magma_ensure_packages - install what is missing (root), or say how (not root) and exit 1.
magma_ensure_packages() {
	local missing=()
	if ! command -v dpkg-query >/dev/null 2>&1; then
		magma_log "dpkg-query not found (not Debian?): assuming the dependencies are installed"
		return 0
	fi
	mapfile -t missing < <(magma_missing_packages)
	if ((${#missing[@]} == 0)); then
		return 0
	fi
	if [[ $(id -u) -ne 0 ]]; then
		printf 'error: missing packages: %s\n' "${missing[*]}" >&2
		printf 'install them with:\n  sudo apt-get update && sudo apt-get install -y %s\n' \
			"${missing[*]}" >&2
		exit 1
	fi
	magma_log "installing: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# magma_configure DIR [CMAKE ARGS...] - configure build tree $MAGMA_ROOT/DIR (cheap when done).
magma_configure() {
	local dir=$1
	shift
	cmake -S "$MAGMA_ROOT" -B "$MAGMA_ROOT/$dir" --log-level=WARNING "$@"
}

# magma_build DIR [TARGETS...] - incremental build with MAGMA_JOBS jobs.
magma_build() {
	local dir=$1 t args=()
	shift
	for t in "$@"; do
		args+=(--target "$t")
	done
	cmake --build "$MAGMA_ROOT/$dir" -j "$MAGMA_JOBS" "${args[@]}"
}

# magma_ctest DIR [CTEST ARGS...] - run the tests of a build tree, output of failures shown.
magma_ctest() {
	local dir=$1
	shift
	ctest --test-dir "$MAGMA_ROOT/$dir" --output-on-failure -j "$MAGMA_JOBS" "$@"
}

# ---- Gate bookkeeping (scripts/test) ----
MAGMA_GATE_NAMES=()
MAGMA_GATE_RESULTS=()
MAGMA_GATE_TIMES=()

# magma_gate NAME CMD [ARGS...] - run CMD in a subshell with errexit and record PASS/FAIL and time.
magma_gate() {
	local name=$1 start rc
	shift
	start=$(magma_now_ms)
	printf '\n==> [%s] starting\n' "$name"
	set +e
	(
		set -e
		"$@"
	)
	rc=$?
	set -e
	MAGMA_GATE_NAMES+=("$name")
	MAGMA_GATE_TIMES+=("$(magma_fmt_ms $(($(magma_now_ms) - start)))")
	if ((rc == 0)); then
		MAGMA_GATE_RESULTS+=(PASS)
	else
		MAGMA_GATE_RESULTS+=(FAIL)
	fi
	printf '==> [%s] %s\n' "$name" "${MAGMA_GATE_RESULTS[-1]}"
}

# magma_gate_skip NAME REASON - record a gate that could not run here.
magma_gate_skip() {
	MAGMA_GATE_NAMES+=("$1")
	MAGMA_GATE_RESULTS+=("SKIP ($2)")
	MAGMA_GATE_TIMES+=("-")
	printf '\n==> [%s] SKIP: %s\n' "$1" "$2"
}

# magma_gate_summary START_MS - print the table; returns 1 if any gate failed.
magma_gate_summary() {
	local start=$1 i failed=0
	printf '\n==================== summary ====================\n'
	for i in "${!MAGMA_GATE_NAMES[@]}"; do
		printf '  %-42s %-6s %8s\n' "${MAGMA_GATE_NAMES[$i]}" "${MAGMA_GATE_RESULTS[$i]}" \
			"${MAGMA_GATE_TIMES[$i]}"
		if [[ ${MAGMA_GATE_RESULTS[$i]} == FAIL ]]; then
			failed=1
		fi
	done
	printf '  %-42s %-6s %8s\n' "total" "$( ((failed)) && echo FAIL || echo PASS)" \
		"$(magma_fmt_ms $(($(magma_now_ms) - start)))"
	printf '=================================================\n'
	return $failed
}

#!/bin/sh
# SPDX-License-Identifier: MIT
# run_under_sim_run.sh MAGMA_SIM_RUN CONFORMANCE_TESTS [GTEST ARGS...]
# Runs the conformance suite unchanged against a private magma-simd: magma-sim-run starts the
# daemon and preloads the shim, the suite opens /dev/magma0. Extra arguments go to the suite.
set -e
run=$1
tests=$2
shift 2
exec "$run" -- "$tests" --device /dev/magma0 "$@"

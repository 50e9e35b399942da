# SPDX-License-Identifier: MIT
# ctest trace_replay_exact: records `trace-sample waits 8` (CPU-side waits; eight connections,
# each released just before the next is created) and replays it REPLAYS times: every replay
# must report the same GPU cycle total and the same device events digest (docs/trace-format.md
# "Determinism"). Before the replay waited for a released connection's teardown, the next
# connection got whichever AS slot was free first: other TLB misses, other cycles.
# Variables: TRACE_SAMPLE, MAGMA_REPLAY (executables), WORK (a scratch file), REPLAYS.
set(ENV{MAGMA_TRACE} "${WORK}")
execute_process(COMMAND "${TRACE_SAMPLE}" waits 8 RESULT_VARIABLE rc)
unset(ENV{MAGMA_TRACE})
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "trace-sample waits 8 failed (${rc})")
endif()
set(first "")
foreach(i RANGE 1 ${REPLAYS})
  execute_process(COMMAND "${MAGMA_REPLAY}" "${WORK}" --quiet RESULT_VARIABLE rc
                  OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "replay ${i} exited ${rc}: ${err}")
  endif()
  string(REGEX MATCH "gpu cycles [0-9]+" cycles "${out}")
  string(REGEX MATCH "device events [0-9a-f]+" device "${out}")
  message(STATUS "replay ${i}: ${cycles}, ${device}")
  if(first STREQUAL "")
    set(first "${cycles}, ${device}")
  elseif(NOT first STREQUAL "${cycles}, ${device}")
    message(FATAL_ERROR "replay ${i} gave ${cycles}, ${device}; replay 1 gave ${first}")
  endif()
endforeach()
file(REMOVE "${WORK}")

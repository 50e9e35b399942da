# SPDX-License-Identifier: MIT
# ctest trace_replay_exit_status: magma-replay's exit statuses are git bisect run's (0 good,
# 1 bad, 125 skip) and its messages name what is wrong. Variables: MAGMA_REPLAY, SAMPLE (the
# write sample), WORK (a scratch directory).
function(expect status regex)
  execute_process(COMMAND "${MAGMA_REPLAY}" ${ARGN} --quiet RESULT_VARIABLE rc
                  OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc STREQUAL "${status}")
    message(FATAL_ERROR "magma-replay ${ARGN}: exit ${rc}, expected ${status}\n${out}${err}")
  endif()
  if(NOT "${out}${err}" MATCHES "${regex}")
    message(FATAL_ERROR "magma-replay ${ARGN}: no '${regex}' in\n${out}${err}")
  endif()
  message(STATUS "exit ${rc}: ${ARGN}")
endfunction()

file(MAKE_DIRECTORY "${WORK}")
file(READ "${SAMPLE}" text)

expect(0 "0 divergences" "${SAMPLE}")
expect(0 "checked events 100 to 140: 5 calls, 1 submissions, 2 completions"
       "${SAMPLE}" --from 100 --to 140)
expect(125 "bad options: --from 99999 is past the trace's last event: it has 202 events \\(0 to 201\\)"
       "${SAMPLE}" --from 99999)
expect(125 "bad options: --from 600 is after --to 400|past the trace" "${SAMPLE}" --from 600 --to 400)
expect(125 "bad options: --from 150 is after --to 100" "${SAMPLE}" --from 150 --to 100)
expect(125 "--stop-at takes 0 to 202" "${SAMPLE}" --stop-at 203)
expect(125 "--from 'x': not an event number" "${SAMPLE}" --from x)
expect(125 "unknown option" "${SAMPLE}" --frobnicate)
expect(125 "bad trace: cannot open" "${WORK}/missing.json")

# The first completion of the data buffer made to expect the zeros it started with.
string(FIND "${text}" "\"digest\":\"a6a806de5c3a14e5\"" at)
string(SUBSTRING "${text}" 0 ${at} head)
math(EXPR rest "${at} + 27")
string(SUBSTRING "${text}" ${rest} -1 tail)
file(WRITE "${WORK}/diverge.json" "${head}\"digest\":\"b9d103fd6854a325\"${tail}")
expect(1 "divergence at event 120 .*first difference at byte 2" "${WORK}/diverge.json")

# Cut mid-line: replayed up to its last complete event, with a warning.
string(SUBSTRING "${text}" 0 15000 cut)
file(WRITE "${WORK}/cut.json" "${cut}")
expect(0 "warning: .* is truncated: line [0-9]+ is cut short" "${WORK}/cut.json")

# Not a trace.
file(WRITE "${WORK}/garbage.json" "hello\n")
expect(125 "bad trace: line 1 .*not a trace" "${WORK}/garbage.json")
file(REMOVE_RECURSE "${WORK}")

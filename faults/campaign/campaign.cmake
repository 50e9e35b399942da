# SPDX-License-Identifier: MIT
# magma-campaign: a campaign of one-fault plans run against any unmodified client, with the
# recovery-coverage matrix (docs/fault-campaigns.md). magma_campaign_core holds everything but
# main(), so the unit tests link the same code the tool runs.
add_library(magma_campaign_core STATIC
            campaign_spec.c campaign_control.c campaign_witness.c campaign_verdict.c
            campaign_stats.c campaign_report.c campaign_report_json.c campaign_merge.c
            campaign_proc.c campaign_point.c)
target_include_directories(magma_campaign_core PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}
                           PRIVATE ${PROJECT_SOURCE_DIR}/faults)
target_link_libraries(magma_campaign_core PUBLIC magma_fault)
# The tools, when they are not next to the executable (a build tree rather than an install).
target_compile_definitions(magma_campaign_core PRIVATE
                           CAMPAIGN_SIMD_PATH="$<TARGET_FILE:magma-simd>"
                           CAMPAIGN_SHIM_PATH="$<TARGET_FILE:magma_sim_shim>"
                           CAMPAIGN_WITNESS_PATH="$<TARGET_FILE:magma-witness>")

add_executable(magma-campaign magma_campaign.c)
target_link_libraries(magma-campaign PRIVATE magma_campaign_core)
target_compile_definitions(magma-campaign PRIVATE CAMPAIGN_VERSION="${PROJECT_VERSION}")
add_dependencies(magma-campaign magma-simd magma_sim_shim magma-witness)

# Unit tests: the campaign file, points and shards; verdicts on canned dumps; percentiles,
# the JSON report and merging.
set(CAMPAIGN_TESTS ${CMAKE_CURRENT_SOURCE_DIR}/tests)
magma_sim_add_test(fault_campaign_spec tests/test_campaign_spec.c LIBS magma_campaign_core)
magma_sim_add_test(fault_campaign_verdict tests/test_campaign_verdict.c
                   LIBS magma_campaign_core)
magma_sim_add_test(fault_campaign_report tests/test_campaign_report.c LIBS magma_campaign_core)
target_compile_definitions(fault_campaign_spec PRIVATE
                           CAMPAIGN_TEST_DIR="${CAMPAIGN_TESTS}"
                           CAMPAIGN_EXAMPLES_DIR="${CMAKE_CURRENT_SOURCE_DIR}/../campaigns")

add_test(NAME fault_campaign_help COMMAND magma-campaign --help)
set_tests_properties(fault_campaign_help PROPERTIES TIMEOUT 60
  PASS_REGULAR_EXPRESSION "usage: magma-campaign .*--shard I/N.*merge")
# A bad campaign file is refused with file, line and field, and exit 2, before anything runs.
add_test(NAME fault_campaign_bad_file
         COMMAND sh -c "\"$0\" \"$1\" -- true; test $? -eq 2"
                 $<TARGET_FILE:magma-campaign> ${CAMPAIGN_TESTS}/bad-stage.json)
set_tests_properties(fault_campaign_bad_file PROPERTIES TIMEOUT 60
  PASS_REGULAR_EXPRESSION "bad-stage.json:8: sweeps\\[1\\]\\.stage: ")

# End to end: every kind, 1-2 points each, against a few fast conformance tests; it must pass.
set(CAMPAIGN_CONFORMANCE_FILTER
    "MagmaExecution.CopyBetweenBuffers:MagmaExecution.FillWritesThePattern:MagmaExecution.ComputeKernelResultsAreVisibleToCpu:MagmaIsolation.EndlessKernelIsAHangThatKillsOnlyTheOffender")
add_test(NAME fault_campaign_short
         COMMAND magma-campaign --timeout 60 ${CAMPAIGN_TESTS}/short.json --
                 $<TARGET_FILE:magma-conformance-tests> --device /dev/magma0
                 --gtest_filter=${CAMPAIGN_CONFORMANCE_FILTER})
# A test whose context a fault killed waits MAGMA_CONFORMANCE_TIMEOUT_MS for a semaphore that
# never comes: 1 s instead of 10 s.
set_tests_properties(fault_campaign_short PROPERTIES TIMEOUT 600
  ENVIRONMENT "ASAN_OPTIONS=verify_asan_link_order=0;MAGMA_CONFORMANCE_TIMEOUT_MS=1000")
# The same point twice, without the witness: the same verdict, fired and applied cycles.
add_test(NAME fault_campaign_determinism
         COMMAND sh ${CAMPAIGN_TESTS}/determinism.sh $<TARGET_FILE:magma-campaign>
                 ${CAMPAIGN_TESTS}/determinism.json
                 $<TARGET_FILE:magma-conformance-tests> --device /dev/magma0
                 --gtest_filter=MagmaExecution.Write32IsVisibleToCpu)
set_tests_properties(fault_campaign_determinism PROPERTIES TIMEOUT 600
  ENVIRONMENT "ASAN_OPTIONS=verify_asan_link_order=0;MAGMA_CONFORMANCE_TIMEOUT_MS=1000")

# SPDX-License-Identifier: MIT
# magma-witness: a magma.h client whose results are known (magma_witness.c), and its tests.
# It reaches a device only through libmagma and the vendor command stream (magma_sim_defs.h,
# kernels assembled by sim_asm); fault_witness_test runs it as a process against a real
# magma-simd.
add_executable(magma-witness magma_witness.c witness_client.c witness_work.c)
target_include_directories(magma-witness PRIVATE ${PROJECT_SOURCE_DIR}/msd-sim/include)
target_link_libraries(magma-witness PRIVATE magma sim_asm)
target_compile_definitions(magma-witness PRIVATE MAGMA_SIM_VERSION="${PROJECT_VERSION}")

# fault_witness_test MODE (witness_test.c): one ctest per mode, each with its own daemon. It
# links witness_work.c to compute the digest every ok round must print.
add_executable(fault_witness_test witness_test.c witness_work.c)
target_include_directories(fault_witness_test PRIVATE ${PROJECT_SOURCE_DIR}/tests/common
                           ${PROJECT_SOURCE_DIR}/msd-sim/include)
target_link_libraries(fault_witness_test PRIVATE sim)
target_compile_definitions(fault_witness_test PRIVATE
                           MAGMA_WITNESS_PATH="$<TARGET_FILE:magma-witness>"
                           MAGMA_SIMD_PATH="$<TARGET_FILE:magma-simd>")
add_dependencies(fault_witness_test magma-witness magma-simd)
foreach(mode rounds until-eof bad-device usage help lost work)
  string(REPLACE "-" "_" name ${mode})
  add_test(NAME fault_witness_${name} COMMAND fault_witness_test ${mode})
  set_tests_properties(fault_witness_${name} PROPERTIES TIMEOUT 300)
endforeach()

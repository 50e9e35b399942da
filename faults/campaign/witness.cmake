# SPDX-License-Identifier: MIT
# magma-witness: a magma.h client whose results are known (magma_witness.c), and its tests.
# It reaches a device only through libmagma and the vendor command stream (magma_sim_defs.h,
# kernels assembled by sim_asm); fault_witness_test runs it as a process against a real
# magma-simd.
add_executable(magma-witness magma_witness.c witness_client.c witness_work.c)
target_include_directories(magma-witness PRIVATE ${PROJECT_SOURCE_DIR}/msd-sim/include)
target_link_libraries(magma-witness PRIVATE magma sim_asm)
target_compile_definitions(magma-witness PRIVATE MAGMA_SIM_VERSION="${PROJECT_VERSION}")

# fault_witness_test (witness_test.c): each test starts a daemon of its own. It links
# witness_work.c to compute the digest every ok round must print.
magma_sim_add_test(fault_witness_test witness_test.c witness_work.c LIBS sim)
target_include_directories(fault_witness_test PRIVATE ${PROJECT_SOURCE_DIR}/msd-sim/include)
target_compile_definitions(fault_witness_test PRIVATE
                           MAGMA_WITNESS_PATH="$<TARGET_FILE:magma-witness>"
                           MAGMA_SIMD_PATH="$<TARGET_FILE:magma-simd>")
add_dependencies(fault_witness_test magma-witness magma-simd)

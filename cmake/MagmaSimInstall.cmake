# SPDX-License-Identifier: MIT
# cmake --install: headers, libraries, tools, docs, a pkg-config file per library (magma.pc,
# magma-embedded.pc) and the CMake package (find_package(MagmaSim): MagmaSim::magma,
# MagmaSim::magma_static, MagmaSim::embedded). docs/getting-started.md shows both in use;
# tests/package_install.sh builds the examples against an installed tree.
include(CMakePackageConfigHelpers)

# Headers: the client API (Fuchsia's paths), the driver interface, the vendor header and the
# model headers it includes, the magma_sim helpers and the embedded device.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/magma/include/lib ${PROJECT_SOURCE_DIR}/magma/include/msd
                  ${PROJECT_SOURCE_DIR}/magma/include/magma_sim
                  ${PROJECT_SOURCE_DIR}/magma/embedded/include/magma_system
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.h")
install(FILES ${PROJECT_SOURCE_DIR}/msd-sim/include/magma_sim_defs.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES ${PROJECT_SOURCE_DIR}/sim/include/sim/sim.h
              ${PROJECT_SOURCE_DIR}/sim/include/sim/sim_cmd.h
              ${PROJECT_SOURCE_DIR}/sim/include/sim/sim_isa.h
              ${PROJECT_SOURCE_DIR}/sim/include/sim/sim_regs.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/sim)

# Libraries. MagmaSim::magma is libmagma.so (what unmodified Magma clients link);
# MagmaSim::magma_static is libmagma.a; MagmaSim::embedded is libmagma_embedded.a, the device
# side in one archive, which links libmagma.so's trace writer when installed.
set_target_properties(magma_shared PROPERTIES EXPORT_NAME magma)
set_target_properties(magma PROPERTIES EXPORT_NAME magma_static)
set_target_properties(magma_embedded PROPERTIES EXPORT_NAME embedded)
install(TARGETS magma magma_shared magma_embedded EXPORT MagmaSimTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(EXPORT MagmaSimTargets NAMESPACE MagmaSim::
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/MagmaSim)
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/MagmaSimConfig.cmake.in
                              ${CMAKE_CURRENT_BINARY_DIR}/MagmaSimConfig.cmake
                              INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/MagmaSim)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/MagmaSimConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/MagmaSimConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/MagmaSimConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/MagmaSim)

# pkg-config files find their prefix from where they are installed (${pcfiledir}), so
# `cmake --install --prefix P` anywhere gives working files.
string(REGEX REPLACE "[^/]+" ".." MAGMA_SIM_PC_UP "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
foreach(pc magma magma-embedded)
  configure_file(${CMAKE_CURRENT_LIST_DIR}/${pc}.pc.in ${CMAKE_CURRENT_BINARY_DIR}/${pc}.pc @ONLY)
  install(FILES ${CMAKE_CURRENT_BINARY_DIR}/${pc}.pc
          DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
endforeach()

# Tools. magma-sim-run finds magma-simd next to itself and the preload shim in
# lib/magma-sim/.
foreach(t magma-info magma-simd magma-sim-run magma-replay magma-trace magma-ctl magma-campaign
          magma-witness magma-view sim-asm sim-demo)
  if(TARGET ${t})
    install(TARGETS ${t} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  endif()
endforeach()
install(TARGETS magma_sim_shim LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}/magma-sim)

# Documentation, the examples' sources, sample traces and fault plans.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
if(EXISTS ${PROJECT_SOURCE_DIR}/examples)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/examples DESTINATION ${CMAKE_INSTALL_DOCDIR})
endif()
install(DIRECTORY ${PROJECT_SOURCE_DIR}/traces/samples/
        DESTINATION ${CMAKE_INSTALL_DATADIR}/magma-sim/traces)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/faults/plans/
        DESTINATION ${CMAKE_INSTALL_DATADIR}/magma-sim/plans)

# The package as a driver project uses it: installed into a temporary prefix, the examples built
# with find_package and with pkg-config, and run (tests/package_install.sh). Sanitizer and
# coverage builds pass their flags on, so the consumers link the same runtimes.
set(MAGMA_SIM_CONSUMER_FLAGS "")
if(MAGMA_SIM_SANITIZE)
  string(APPEND MAGMA_SIM_CONSUMER_FLAGS " -fsanitize=address,undefined")
endif()
if(MAGMA_SIM_COVERAGE)
  string(APPEND MAGMA_SIM_CONSUMER_FLAGS " --coverage")
endif()
if(MAGMA_SIM_FUZZ AND CMAKE_C_COMPILER_ID STREQUAL "Clang")
  string(APPEND MAGMA_SIM_CONSUMER_FLAGS " -fsanitize=address,undefined")
endif()
add_test(NAME package_install
         COMMAND ${PROJECT_SOURCE_DIR}/tests/package_install.sh ${CMAKE_BINARY_DIR}
                 ${PROJECT_SOURCE_DIR} "${MAGMA_SIM_CONSUMER_FLAGS}")
set_tests_properties(package_install PROPERTIES TIMEOUT 300
                     ENVIRONMENT "CC=${CMAKE_C_COMPILER}")

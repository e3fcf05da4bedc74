# SPDX-License-Identifier: Apache-2.0
# Registers every test with CTest: cmocka unit tests beside each module (src/<stage>/*_test.c),
# fuzz-target replays over the committed seed corpora, and end-to-end tests of the CLI.
pkg_check_modules(CMOCKA REQUIRED IMPORTED_TARGET cmocka)
find_program(VG_PYTHON3 python3 REQUIRED)

# ../shared (the team's corpus and test oracles): tests that need it skip plainly without it.
get_filename_component(VG_SHARED_DIR ${PROJECT_SOURCE_DIR}/../shared ABSOLUTE)
set(VG_TEST_MMDB_DIR ${PROJECT_BINARY_DIR}/test-mmdb)
set(VG_TEST_ENV "VG_SOURCE_DIR=${PROJECT_SOURCE_DIR}" "VG_SHARED_DIR=${VG_SHARED_DIR}"
    "VG_BINARY_DIR=${PROJECT_BINARY_DIR}" "VIGIL=$<TARGET_FILE:vigil>"
    "VG_GEO_DIR=${PROJECT_SOURCE_DIR}/data/geo" "VG_TEST_MMDB_DIR=${VG_TEST_MMDB_DIR}"
    "VIGIL_CACHE_DIR=${PROJECT_BINARY_DIR}/rule-cache")

# Small MMDB files written for the tests by Debian's libmaxmind-db-writer-perl.
find_program(VG_PERL perl REQUIRED)
add_test(NAME fixture.test-mmdb
         COMMAND ${VG_PERL} ${PROJECT_SOURCE_DIR}/tests/make_test_mmdb.pl ${VG_TEST_MMDB_DIR})
set_tests_properties(fixture.test-mmdb PROPERTIES FIXTURES_SETUP test_mmdb)

file(GLOB VG_UNIT_TESTS CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/src/*/*_test.c)
foreach(src ${VG_UNIT_TESTS})
  get_filename_component(name ${src} NAME_WE)
  add_executable(${name} ${src})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(${name} PRIVATE vigil::vigil PkgConfig::CMOCKA)
  add_test(NAME unit.${name} COMMAND ${name})
  set_tests_properties(unit.${name} PROPERTIES ENVIRONMENT "${VG_TEST_ENV}" SKIP_RETURN_CODE 77
                       WORKING_DIRECTORY ${PROJECT_BINARY_DIR} FIXTURES_REQUIRED test_mmdb)
endforeach()

# Fuzz targets as plain replay executables: every committed seed, no libFuzzer needed.
foreach(src ${VG_FUZZ_SOURCES})
  get_filename_component(name ${src} NAME_WE)
  add_executable(replay_${name} ${src} ${PROJECT_SOURCE_DIR}/fuzz/replay_main.c)
  target_include_directories(replay_${name} PRIVATE ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(replay_${name} PRIVATE vigil::vigil)
  string(REPLACE "fuzz_" "" corpus ${name})
  add_test(NAME fuzz-replay.${corpus}
           COMMAND replay_${name} ${PROJECT_SOURCE_DIR}/fuzz/corpus/${corpus})
endforeach()

# End-to-end tests of the CLI (Python 3 standard library only).
file(GLOB VG_E2E_TESTS CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/tests/e2e_*.py)
foreach(src ${VG_E2E_TESTS})
  get_filename_component(name ${src} NAME_WE)
  add_test(NAME ${name} COMMAND ${VG_PYTHON3} ${src})
  set_tests_properties(${name} PROPERTIES ENVIRONMENT "${VG_TEST_ENV}" SKIP_RETURN_CODE 77
                       WORKING_DIRECTORY ${PROJECT_BINARY_DIR} TIMEOUT 900
                       FIXTURES_REQUIRED test_mmdb)
endforeach()

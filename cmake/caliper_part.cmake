# caliper_part(NAME SOURCES ... DEPS ... TESTS ...)
# Declares the library caliper_<NAME> (alias caliper::<NAME>) and, when tests are on, one
# GoogleTest binary caliper_<NAME>_test from the *_test.cpp files that live beside the code.
function(caliper_part name)
  cmake_parse_arguments(P "" "" "SOURCES;DEPS;TESTS;TEST_DEPS" ${ARGN})
  add_library(caliper_${name} STATIC ${P_SOURCES})
  add_library(caliper::${name} ALIAS caliper_${name})
  target_include_directories(caliper_${name}
    PUBLIC ${PROJECT_SOURCE_DIR}/include
    PRIVATE ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(caliper_${name} PUBLIC ${P_DEPS})
  if(CALIPER_BUILD_TESTS AND P_TESTS)
    add_executable(caliper_${name}_test ${P_TESTS})
    target_include_directories(caliper_${name}_test PRIVATE ${PROJECT_SOURCE_DIR}/src)
    target_link_libraries(caliper_${name}_test PRIVATE caliper_${name} ${P_TEST_DEPS}
      GTest::gtest GTest::gtest_main GTest::gmock)
    gtest_discover_tests(caliper_${name}_test DISCOVERY_TIMEOUT 60
      PROPERTIES LABELS ${name})
  endif()
endfunction()

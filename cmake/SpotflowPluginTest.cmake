# spotflow_add_plugin_test(<name> PREFIX <ctest prefix> SOURCES <files...>
#                          [PLUGINS <MACRO=target>...] [LIBRARIES <libs...>]
#                          [DEFINITIONS <defs...>] [DEPENDS <targets...>]
#                          [ENVIRONMENT <VAR=value>...])
#
# A GoogleTest executable for a plugin's tests (in-tree, with
# SPOTFLOW_BUILD_TESTS): linked with the harness (spotflow::test_support:
# plugin_harness.hpp, plugin_params.hpp, test_dir.hpp), the SDK, gtest_main
# and nlohmann_json; each PLUGINS item MACRO=target defines MACRO as the
# path of plugin library `target` and builds it first; its cases reach ctest
# as "<prefix>.<Suite>.<Case>".
function(spotflow_add_plugin_test name)
  cmake_parse_arguments(ARG "" "PREFIX" "SOURCES;PLUGINS;LIBRARIES;DEFINITIONS;DEPENDS;ENVIRONMENT" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE spotflow::test_support spotflow::sdk GTest::gtest_main
    nlohmann_json::nlohmann_json ${CMAKE_DL_LIBS} ${ARG_LIBRARIES})
  foreach(item ${ARG_PLUGINS})
    string(REPLACE "=" ";" pair ${item})
    list(GET pair 0 macro)
    list(GET pair 1 plugin)
    target_compile_definitions(${name} PRIVATE ${macro}="$<TARGET_FILE:${plugin}>")
    add_dependencies(${name} ${plugin})
  endforeach()
  if(ARG_DEFINITIONS)
    target_compile_definitions(${name} PRIVATE ${ARG_DEFINITIONS})
  endif()
  if(ARG_DEPENDS)
    add_dependencies(${name} ${ARG_DEPENDS})
  endif()
  if(ARG_ENVIRONMENT)
    gtest_discover_tests(${name} TEST_PREFIX "${ARG_PREFIX}." DISCOVERY_TIMEOUT 60
      PROPERTIES ENVIRONMENT "${ARG_ENVIRONMENT}")
  else()
    gtest_discover_tests(${name} TEST_PREFIX "${ARG_PREFIX}." DISCOVERY_TIMEOUT 60)
  endif()
endfunction()

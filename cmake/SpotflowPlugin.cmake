# spotflow_add_plugin(<target> SOURCES <files...> [LIBRARIES <libs...>])
#
# Builds a plugin as a MODULE library (a .so loaded with dlopen, never linked
# against), with hidden visibility so the only exported symbol is
# `spotflow_entry`. Used in-tree and, through find_package(spotflow), by
# third-party plugins.
function(spotflow_add_plugin target)
  cmake_parse_arguments(ARG "" "OUTPUT_DIRECTORY" "SOURCES;LIBRARIES" ${ARGN})
  add_library(${target} MODULE ${ARG_SOURCES})
  target_link_libraries(${target} PRIVATE spotflow::sdk ${ARG_LIBRARIES})
  set_target_properties(${target} PROPERTIES
    PREFIX ""
    C_VISIBILITY_PRESET hidden
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  if(ARG_OUTPUT_DIRECTORY)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY "${ARG_OUTPUT_DIRECTORY}")
  elseif(DEFINED SPOTFLOW_PLUGIN_OUTPUT_DIR)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY "${SPOTFLOW_PLUGIN_OUTPUT_DIR}")
  endif()
  # A plugin that reaches for a host symbol must fail at link time, not at
  # dlopen: plugins link nothing from the host.
  if(CMAKE_SYSTEM_NAME STREQUAL "Linux")
    target_link_options(${target} PRIVATE "LINKER:--no-undefined")
  endif()
endfunction()

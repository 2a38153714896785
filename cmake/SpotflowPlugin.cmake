# spotflow_add_plugin(<target> SOURCES <files...> [LIBRARIES <libs...>]
#                     [OUTPUT_DIRECTORY <dir>] [NO_INSTALL])
#
# Builds a plugin as a MODULE library (a .so loaded with dlopen, never linked
# against), with hidden visibility so the only exported symbol is
# `spotflow_entry`. Used in-tree and, through find_package(spotflow), by
# third-party plugins.
function(spotflow_add_plugin target)
  cmake_parse_arguments(ARG "NO_INSTALL" "OUTPUT_DIRECTORY" "SOURCES;LIBRARIES" ${ARGN})
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
  # In-tree bundled plugins install next to the CLI's plugin folder, and
  # find spotflow's shared plugin-side libraries (libspotflow_plot) one
  # folder up.
  if(DEFINED SPOTFLOW_PLUGIN_SUBDIR AND NOT ARG_NO_INSTALL AND NOT ARG_OUTPUT_DIRECTORY)
    set_target_properties(${target} PROPERTIES INSTALL_RPATH "$ORIGIN/..")
    install(TARGETS ${target} LIBRARY DESTINATION ${SPOTFLOW_PLUGIN_SUBDIR})
  endif()
  # A plugin that reaches for a host symbol must fail at link time, not at
  # dlopen: plugins link nothing from the host. (No version script to hide
  # the GNU-unique symbols libstdc++ templates export: localising them
  # splits C++ singletons shared with libraries such as ITK, which then
  # crash at exit.)
  if(CMAKE_SYSTEM_NAME STREQUAL "Linux")
    target_link_options(${target} PRIVATE "LINKER:--no-undefined")
  endif()
endfunction()

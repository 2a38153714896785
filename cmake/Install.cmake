# Install layout: bin/spotflow, lib/spotflow/plugins/*.so, include/spotflow/,
# lib/cmake/spotflow/ (the SDK for out-of-tree plugins: find_package(spotflow)).
include(CMakePackageConfigHelpers)

# The C ABI headers and the C++ SDK headers keep their folders apart in the
# source tree and meet in include/spotflow, so an installed plugin includes
# "spotflow/node.h" and "spotflow/node.hpp" alike.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/core/include/spotflow DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/sdk/include/spotflow DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS spotflow_sdk EXPORT spotflowTargets)
install(EXPORT spotflowTargets NAMESPACE spotflow:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/spotflow)

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/spotflowConfig.cmake.in
  ${PROJECT_BINARY_DIR}/spotflowConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/spotflow)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/spotflowConfigVersion.cmake
  COMPATIBILITY SameMajorVersion)
install(FILES
  ${PROJECT_BINARY_DIR}/spotflowConfig.cmake
  ${PROJECT_BINARY_DIR}/spotflowConfigVersion.cmake
  ${PROJECT_SOURCE_DIR}/cmake/SpotflowPlugin.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/spotflow)

# The git commit of the source tree, baked into the binary and the output files'
# provenance: engine/version.hpp is rewritten before every build (cmake/WriteVersion.cmake)
# whenever the commit, or whether the tree is dirty, has changed; "unknown" outside a git
# checkout.
set(SMBSIM_VERSION_HEADER "${PROJECT_BINARY_DIR}/generated/engine/version.hpp")
set(_write_version ${CMAKE_COMMAND} -DSOURCE_DIR=${PROJECT_SOURCE_DIR} -DOUTPUT=${SMBSIM_VERSION_HEADER}
    -DPROJECT_VERSION=${PROJECT_VERSION} -P ${PROJECT_SOURCE_DIR}/cmake/WriteVersion.cmake)
execute_process(COMMAND ${_write_version})  # so the header exists from the first configure
add_custom_target(smbsim_version ALL COMMAND ${_write_version} BYPRODUCTS ${SMBSIM_VERSION_HEADER}
                  COMMENT "Reading the git commit")

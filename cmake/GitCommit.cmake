# The git commit of the source tree, baked into the binary and the output files' provenance.
# Re-read at every configure; "unknown" outside a git checkout.
execute_process(
  COMMAND git -C "${PROJECT_SOURCE_DIR}" rev-parse --short=12 HEAD
  OUTPUT_VARIABLE SMBSIM_GIT_COMMIT OUTPUT_STRIP_TRAILING_WHITESPACE
  ERROR_QUIET RESULT_VARIABLE _git_result)
if(NOT _git_result EQUAL 0 OR SMBSIM_GIT_COMMIT STREQUAL "")
  set(SMBSIM_GIT_COMMIT "unknown")
endif()
execute_process(
  COMMAND git -C "${PROJECT_SOURCE_DIR}" status --porcelain --untracked-files=no
  OUTPUT_VARIABLE _git_dirty OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
if(NOT _git_dirty STREQUAL "" AND NOT SMBSIM_GIT_COMMIT STREQUAL "unknown")
  string(APPEND SMBSIM_GIT_COMMIT "-dirty")
endif()
configure_file("${PROJECT_SOURCE_DIR}/engine/version.hpp.in"
               "${PROJECT_BINARY_DIR}/generated/engine/version.hpp" @ONLY)

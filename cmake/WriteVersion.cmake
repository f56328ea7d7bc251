# Writes engine/version.hpp with the git commit of the source tree (run by the
# smbsim_version target at every build, so the commit baked into the binary and the
# output files' provenance is never stale). configure_file leaves the file untouched when
# nothing changed, so an unchanged commit recompiles nothing.
#   cmake -DSOURCE_DIR=... -DOUTPUT=... -DPROJECT_VERSION=... -P WriteVersion.cmake
execute_process(
  COMMAND git -C "${SOURCE_DIR}" rev-parse --short=12 HEAD
  OUTPUT_VARIABLE SMBSIM_GIT_COMMIT OUTPUT_STRIP_TRAILING_WHITESPACE
  ERROR_QUIET RESULT_VARIABLE _git_result)
if(NOT _git_result EQUAL 0 OR SMBSIM_GIT_COMMIT STREQUAL "")
  set(SMBSIM_GIT_COMMIT "unknown")
endif()
execute_process(
  COMMAND git -C "${SOURCE_DIR}" status --porcelain --untracked-files=no
  OUTPUT_VARIABLE _git_dirty OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
if(NOT _git_dirty STREQUAL "" AND NOT SMBSIM_GIT_COMMIT STREQUAL "unknown")
  string(APPEND SMBSIM_GIT_COMMIT "-dirty")
endif()
configure_file("${SOURCE_DIR}/engine/version.hpp.in" "${OUTPUT}" @ONLY)

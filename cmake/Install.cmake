# `cmake --install build --prefix P` and `cpack -G DEB` (README "Install"): the program,
# the report tool and its Python package, the scenarios, the docs, a bash completion and
# a man page, both generated from the built program so they follow its options and keys.
include(GNUInstallDirs)
set(SMBSIM_DATADIR ${CMAKE_INSTALL_DATADIR}/smbsim)

install(TARGETS smbsim RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(PROGRAMS tools/smbsim-report DESTINATION ${CMAKE_INSTALL_BINDIR})
# The report's package: smbsim-report finds it at ../share/smbsim/python from its own place.
install(DIRECTORY tools/smbsim_report DESTINATION ${SMBSIM_DATADIR}/python FILES_MATCHING PATTERN "*.py")
install(DIRECTORY scenarios/ DESTINATION ${SMBSIM_DATADIR}/scenarios)
install(FILES README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR})

# In the build tree too, `build/smbsim report` finds the report tool beside the program.
add_custom_command(OUTPUT ${PROJECT_BINARY_DIR}/smbsim-report
                   COMMAND ${CMAKE_COMMAND} -E create_symlink ${PROJECT_SOURCE_DIR}/tools/smbsim-report
                           ${PROJECT_BINARY_DIR}/smbsim-report)

# Bash completion: subcommands and options from the built program's --help, --set keys
# from its parameter table (`smbsim --list-keys`).
set(SMBSIM_COMPLETION ${PROJECT_BINARY_DIR}/completion/smbsim)
add_custom_command(OUTPUT ${SMBSIM_COMPLETION}
                   COMMAND ${CMAKE_COMMAND} -DSMBSIM=$<TARGET_FILE:smbsim> -DTEMPLATE=${PROJECT_SOURCE_DIR}/tools/completion/smbsim.bash.in
                           -DOUTPUT=${SMBSIM_COMPLETION} -P ${PROJECT_SOURCE_DIR}/cmake/Completion.cmake
                   DEPENDS smbsim tools/completion/smbsim.bash.in cmake/Completion.cmake)
install(FILES ${SMBSIM_COMPLETION} DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions)
install(CODE "file(CREATE_LINK smbsim \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_DATADIR}/bash-completion/completions/smbsim-report\" SYMBOLIC)")
set(SMBSIM_INSTALL_OUTPUTS ${PROJECT_BINARY_DIR}/smbsim-report ${SMBSIM_COMPLETION})

# Man page: help2man (tools/install-deps installs it) from `smbsim --help`, with every
# command's --help as a section. Without help2man there is no man page, said once here.
find_program(HELP2MAN help2man)
if(HELP2MAN)
  set(SMBSIM_MAN ${PROJECT_BINARY_DIR}/man/smbsim.1)
  add_custom_command(OUTPUT ${SMBSIM_MAN}
                     COMMAND ${CMAKE_COMMAND} -DSMBSIM=$<TARGET_FILE:smbsim> -DHELP2MAN=${HELP2MAN} -DOUTPUT=${SMBSIM_MAN}
                             -P ${PROJECT_SOURCE_DIR}/cmake/ManPage.cmake
                     DEPENDS smbsim cmake/ManPage.cmake)
  # smbsim-report(1) from its argparse --help (the version is the project's).
  set(SMBSIM_REPORT_MAN ${PROJECT_BINARY_DIR}/man/smbsim-report.1)
  file(GLOB SMBSIM_REPORT_SOURCES ${PROJECT_SOURCE_DIR}/tools/smbsim_report/*.py)
  add_custom_command(OUTPUT ${SMBSIM_REPORT_MAN}
                     COMMAND ${CMAKE_COMMAND} -E env COLUMNS=100 ${HELP2MAN} --no-info --version-string=${PROJECT_VERSION}
                             --name "charts and an HTML report of an smbsim result file"
                             --output ${SMBSIM_REPORT_MAN} ${PROJECT_SOURCE_DIR}/tools/smbsim-report
                     DEPENDS tools/smbsim-report ${SMBSIM_REPORT_SOURCES} ${SMBSIM_MAN})
  install(FILES ${SMBSIM_MAN} ${SMBSIM_REPORT_MAN} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
  list(APPEND SMBSIM_INSTALL_OUTPUTS ${SMBSIM_MAN} ${SMBSIM_REPORT_MAN})
else()
  message(STATUS "help2man not found: no man page (tools/install-deps installs it)")
endif()
add_custom_target(smbsim_install_files ALL DEPENDS ${SMBSIM_INSTALL_OUTPUTS})

# The Debian package: runtime libraries found by dpkg-shlibdeps from the binary (cpack
# runs `file` and dpkg-shlibdeps: tools/install-deps installs both); the report tool's
# Python modules named here (it imports h5py, numpy, matplotlib and PyYAML, for the
# scenario's description and plans; tests/check_deps.py checks this list).
set(CPACK_PACKAGE_NAME smbsim)
set(CPACK_PACKAGE_VENDOR smbsim)
set(CPACK_PACKAGE_CONTACT "smbsim maintainers <smbsim@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Monte Carlo stress tests of small-business strategy")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION science)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "python3, python3-h5py, python3-numpy, python3-matplotlib, python3-yaml")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "bash-completion, openmpi-bin")
include(CPack)

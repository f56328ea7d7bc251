# cmake -DSMBSIM=... -DHELP2MAN=... -DOUTPUT=... -P ManPage.cmake: smbsim(1) by help2man
# from `smbsim --help`, with each command's --help as a section of its own.
execute_process(COMMAND ${SMBSIM} --help OUTPUT_VARIABLE overview RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${SMBSIM} --help: exit ${rc}")
endif()
string(REGEX MATCHALL "\n  [a-z]+ " found "${overview}")
set(include "[COMMANDS]\nEach command's own options (\\fBsmbsim\\fR \\fICOMMAND\\fR \\fB--help\\fR prints the same).\n")
foreach(f ${found})
  string(STRIP "${f}" command)
  execute_process(COMMAND ${SMBSIM} ${command} --help OUTPUT_VARIABLE help RESULT_VARIABLE rc)
  # troff: a backslash is \e; a line starting with . or ' would be a request.
  string(REPLACE "\\" "\\e" help "${help}")
  string(REGEX REPLACE "(^|\n)([.'])" "\\1\\\\&\\2" help "${help}")
  string(APPEND include ".SS ${command}\n.nf\n${help}.fi\n")
endforeach()
string(APPEND include "[SEE ALSO]\n\\fBsmbsim-report\\fR(1); the documentation in /usr/share/doc/smbsim (or PREFIX/share/doc/smbsim).\n")
get_filename_component(dir ${OUTPUT} DIRECTORY)
file(MAKE_DIRECTORY ${dir})
file(WRITE ${OUTPUT}.h2m "${include}")
execute_process(COMMAND ${HELP2MAN} --no-info --no-discard-stderr --name "Monte Carlo stress tests of small-business strategy"
                        --include ${OUTPUT}.h2m --output ${OUTPUT} ${SMBSIM}
                RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "help2man ${SMBSIM}: exit ${rc}")
endif()

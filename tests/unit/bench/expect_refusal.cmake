# Runs COMMAND (a ;-list) and passes only when it exits with status 2 (the
# command line was refused) and its output matches EXPECT. A crash, or a
# successful run that happens to print the text, fails: PASS_REGULAR_EXPRESSION
# alone would make CTest ignore the exit status.
#   cmake -DCOMMAND=prog;args -DEXPECT=regex -P expect_refusal.cmake
execute_process(COMMAND ${COMMAND} RESULT_VARIABLE status
                OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 60)
if(NOT status STREQUAL "2")
  message(FATAL_ERROR "exit status '${status}', expected 2\n${out}${err}")
endif()
if(NOT "${out}${err}" MATCHES "${EXPECT}")
  message(FATAL_ERROR "output does not match '${EXPECT}':\n${out}${err}")
endif()

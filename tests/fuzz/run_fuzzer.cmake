# Runs one libFuzzer binary for CTest (tests/fuzz/CMakeLists.txt).
#   MODE=regress: executes every corpus and regression input once (-runs=0).
#   MODE=fuzz: fuzzes for $ENV{CAUSEWAY_FUZZ_SECONDS} seconds (default 60),
#     new inputs going to WORK/corpus (the checked-in corpus is only read),
#     crashes to WORK/artifacts/.
# Missing input directories are skipped (git keeps no empty folders);
# libFuzzer would refuse them.
foreach(v FUZZER CORPUS REGRESSIONS WORK MODE)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "run_fuzzer.cmake: ${v} is not set")
  endif()
endforeach()

set(inputs)
foreach(dir ${CORPUS} ${REGRESSIONS})
  if(IS_DIRECTORY ${dir})
    list(APPEND inputs ${dir})
  endif()
endforeach()

if(MODE STREQUAL "regress")
  if(NOT inputs)
    message(FATAL_ERROR "no corpus or regression inputs for ${FUZZER}")
  endif()
  file(MAKE_DIRECTORY ${WORK}/artifacts)
  set(args -runs=0 -artifact_prefix=${WORK}/artifacts/ ${inputs})
elseif(MODE STREQUAL "fuzz")
  set(seconds 60)
  if(DEFINED ENV{CAUSEWAY_FUZZ_SECONDS})
    set(seconds $ENV{CAUSEWAY_FUZZ_SECONDS})
  endif()
  file(MAKE_DIRECTORY ${WORK}/corpus ${WORK}/artifacts)
  set(args -max_total_time=${seconds} -timeout=30 -rss_limit_mb=2048
           -print_final_stats=1 -artifact_prefix=${WORK}/artifacts/
           ${WORK}/corpus ${inputs})
else()
  message(FATAL_ERROR "run_fuzzer.cmake: MODE must be regress or fuzz")
endif()

execute_process(COMMAND ${FUZZER} ${args} RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${FUZZER} failed (${rc})")
endif()

# Adds tests/fuzz to a build configured with a preset (CMakePresets.json
# sets CMAKE_PROJECT_causeway_INCLUDE to this file). tests/CMakeLists.txt
# picks up only tests/unit/* and tests/integration/*; until it adds
# tests/fuzz itself, this includes that folder's CMakeLists.txt at the end
# of the top-level directory, once every library target is defined
# (deferred calls may not add subdirectories, hence include()). Once
# tests/CMakeLists.txt adds the folder, this file does nothing.
function(causeway_add_fuzz_targets)
  set(list_file ${CMAKE_SOURCE_DIR}/tests/fuzz/CMakeLists.txt)
  if(NOT TARGET causeway_fuzz_replay AND EXISTS ${list_file})
    include(${list_file})
  endif()
endfunction()
cmake_language(DEFER DIRECTORY ${CMAKE_SOURCE_DIR}
               CALL causeway_add_fuzz_targets)

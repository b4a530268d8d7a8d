# Project-wide compile flags: warnings, optional sanitizers, and the helpers that define layers
# and tests.
add_compile_options(-Wall -Wextra -Wshadow -Wnon-virtual-dtor -Wcast-align -Wunused
  -Woverloaded-virtual -Wimplicit-fallthrough -Wno-missing-field-initializers)
if(TESSERA_WERROR)
  add_compile_options(-Werror)
endif()
if(TESSERA_SANITIZE)
  # UBSan without its null and alignment checks: on x86-64 a null dereference faults anyway
  # (the test fails with ASan's report) and a misaligned scalar access does not, while these two
  # checks instrument every member access and cost about a quarter of this build's compile time
  # (GCC 12: 55 s -> 41 s for the heaviest translation unit; ASan alone 33 s).
  add_compile_options(-fsanitize=address,undefined -fno-sanitize=null,alignment
    -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
  # GCC 12's flow analysis gives false "may be used uninitialized" reports on std::variant and
  # std::string under ASan instrumentation; the Release build keeps the warning as an error.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    add_compile_options(-Wno-maybe-uninitialized)
  endif()
  # -O1 as the sanitizers' documentation advises, and line tables only: symbolised reports with
  # file and line, and a build about twice as fast as -O2 -g (the sanitizer build is most of CI).
  set(CMAKE_CXX_FLAGS_RELWITHDEBINFO "-O1 -g1 -DNDEBUG")
endif()

# tessera_layer(NAME DEPS ...): the static library tessera_NAME from every .cc in the current
# source folder, with src/ and include/ on its include path.
function(tessera_layer name)
  cmake_parse_arguments(L "" "" "DEPS" ${ARGN})
  file(GLOB sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cc)
  if(NOT sources)  # a layer still being written: headers only
    add_library(tessera_${name} INTERFACE)
    target_include_directories(tessera_${name} INTERFACE ${PROJECT_SOURCE_DIR}/src
      ${PROJECT_SOURCE_DIR}/include)
    target_link_libraries(tessera_${name} INTERFACE ${L_DEPS})
    return()
  endif()
  add_library(tessera_${name} STATIC ${sources})
  target_include_directories(tessera_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src
    ${PROJECT_SOURCE_DIR}/include)
  target_link_libraries(tessera_${name} PUBLIC ${L_DEPS})
endfunction()

# tessera_test(NAME DEPS ...): one GoogleTest binary from every *.cc in the current folder,
# registered with CTest. Tests find their fixtures through TESSERA_TEST_DATA_DIR.
function(tessera_test name)
  cmake_parse_arguments(T "" "" "DEPS" ${ARGN})
  file(GLOB sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cc)
  if(NOT sources)
    return()
  endif()
  add_executable(${name} ${sources})
  target_link_libraries(${name} PRIVATE ${T_DEPS} GTest::gtest GTest::gtest_main)
  target_compile_definitions(${name} PRIVATE
    TESSERA_TEST_DATA_DIR="${PROJECT_SOURCE_DIR}/tests/data"
    TESSERA_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
    TESSERA_BINARY_DIR="${PROJECT_BINARY_DIR}")
  include(GoogleTest)
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES TIMEOUT 900)
endfunction()

# Compile flags of the fuzz build (TESSERA_FUZZ=ON), included from the top-level CMakeLists.txt
# BEFORE the layers are defined: every library a fuzz target links is then instrumented for
# libFuzzer's coverage feedback and checked by AddressSanitizer and UndefinedBehaviorSanitizer.
# Only the libraries the targets need are built (scripts/fuzz builds the fuzz targets by name).
if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  message(FATAL_ERROR "TESSERA_FUZZ needs clang (libFuzzer ships with it): configure with "
    "-DCMAKE_CXX_COMPILER=clang++ (Debian: clang, libclang-rt-14-dev)")
endif()
if(TESSERA_SANITIZE)
  message(FATAL_ERROR "TESSERA_FUZZ enables ASan+UBSan itself: leave TESSERA_SANITIZE off")
endif()
add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
  -fno-omit-frame-pointer)
add_link_options(-fsanitize=address,undefined)
# -O1 with line tables, as for the sanitizer build, but WITHOUT -DNDEBUG: the debug-only checks
# (TS_DCHECK, the standard library's and nlohmann::json's assertions) stay on, so a broken
# invariant reached by a fuzzed input is a crash the fuzzer reports, not silent corruption.
set(CMAKE_CXX_FLAGS_RELWITHDEBINFO "-O1 -g1")

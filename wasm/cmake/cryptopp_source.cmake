# Crypto++ compiled from Debian's source package, which scripts/fetch-cryptopp-src.sh
# unpacks into third_party/cryptopp-src (never committed). Only the sources SHA-256 needs
# (hex and base64 are the core's own code: Crypto++'s filters were a quarter of the shipped
# Wasm), with Crypto++'s portable C++ code (CRYPTOPP_DISABLE_ASM): the Wasm build links it
# as the core's Crypto++, and the native benchmarks compile the same code to measure what
# that code can do natively (bench/sha_portable_bench.cpp).
set(CRYPTOPP_SRC_DIR ${CMAKE_SOURCE_DIR}/third_party/cryptopp-src CACHE PATH "Crypto++ sources")

set(CRYPTOPP_PORTABLE_SOURCES allocate cryptlib fips140 iterhash misc sha)
if(NOT EMSCRIPTEN)
  # cryptlib.cpp also holds the filter plumbing (ArraySink, ByteQueue, MessageQueue,
  # AlgorithmParameters) that SHA-256 never calls. wasm-ld resolves only what is live; GNU ld
  # wants every reference of a linked object defined, so the native build compiles these too.
  list(APPEND CRYPTOPP_PORTABLE_SOURCES algparam filters mqueue queue)
endif()
list(TRANSFORM CRYPTOPP_PORTABLE_SOURCES PREPEND ${CRYPTOPP_SRC_DIR}/)
list(TRANSFORM CRYPTOPP_PORTABLE_SOURCES APPEND .cpp)

# add_cryptopp_portable(<target>): a static library of those sources. Its users include
# <cryptopp/...> from the source folder.
function(add_cryptopp_portable target)
  if(NOT EXISTS ${CRYPTOPP_SRC_DIR}/sha.cpp)
    message(FATAL_ERROR "Crypto++ sources missing in ${CRYPTOPP_SRC_DIR}: run scripts/fetch-cryptopp-src.sh")
  endif()
  add_library(${target} STATIC ${CRYPTOPP_PORTABLE_SOURCES}
    ${CMAKE_CURRENT_FUNCTION_LIST_DIR}/cryptopp_instantiate.cpp)
  # Portable C++ paths only. For wasm32 the macro changes nothing (same preprocessed
  # sources: Crypto++ has no Wasm-specific code); natively it turns off SHA-NI and the SSE2
  # assembly.
  target_compile_definitions(${target} PUBLIC CRYPTOPP_DISABLE_ASM NDEBUG)
  target_compile_options(${target} PRIVATE -O3 -w)
  if(CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    # Lets LLVM fully unroll the 4-iteration loop around SHA256_HashBlock_CXX's 16 rounds:
    # 64 straight-line rounds, without the per-round `j ?` branch between the first and the
    # expanded message words, and with the round constants as immediates instead of loads.
    # Debian's clang 14 keeps the loop at the default threshold (300) and at 2000, and
    # unrolls it at 4000. Figures: bench/README.md, "SHA-256 in Wasm: where the ceiling
    # is". The property is directory-scoped: it applies to the caller folder's targets.
    set_source_files_properties(${CRYPTOPP_SRC_DIR}/sha.cpp PROPERTIES
      COMPILE_OPTIONS "-mllvm;-unroll-threshold=4000")
  endif()
  set(include_root ${CMAKE_CURRENT_BINARY_DIR}/${target}-include)
  file(MAKE_DIRECTORY ${include_root})
  file(CREATE_LINK ${CRYPTOPP_SRC_DIR} ${include_root}/cryptopp SYMBOLIC)
  target_include_directories(${target} PUBLIC ${include_root} PRIVATE ${CRYPTOPP_SRC_DIR})
endfunction()

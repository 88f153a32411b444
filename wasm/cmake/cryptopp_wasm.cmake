# Crypto++ for WebAssembly, compiled with em++ from Debian's source package, which
# scripts/fetch-cryptopp-src.sh unpacks into third_party/cryptopp-src (never committed).
# Only the sources SHA-256 and the hex/base64 filters need.
set(CRYPTOPP_SRC_DIR ${CMAKE_SOURCE_DIR}/third_party/cryptopp-src CACHE PATH "Crypto++ sources")
if(NOT EXISTS ${CRYPTOPP_SRC_DIR}/sha.cpp)
  message(FATAL_ERROR "Crypto++ sources missing in ${CRYPTOPP_SRC_DIR}: run scripts/fetch-cryptopp-src.sh")
endif()

set(CRYPTOPP_WASM_SOURCES
  algparam allocate basecode base64 cpu cryptlib filters fips140 hex iterhash misc mqueue queue sha
)
list(TRANSFORM CRYPTOPP_WASM_SOURCES PREPEND ${CRYPTOPP_SRC_DIR}/)
list(TRANSFORM CRYPTOPP_WASM_SOURCES APPEND .cpp)

add_library(cryptopp_wasm STATIC ${CRYPTOPP_WASM_SOURCES} ${CMAKE_CURRENT_LIST_DIR}/cryptopp_instantiate.cpp)
# wasm32 takes Crypto++'s portable C++ paths; no SIMD path exists for it anyway.
target_compile_definitions(cryptopp_wasm PUBLIC CRYPTOPP_DISABLE_ASM NDEBUG)
target_compile_options(cryptopp_wasm PRIVATE -O3 -w)
# The core includes <cryptopp/...>: expose the flat source folder under that name.
set(CRYPTOPP_INCLUDE_ROOT ${CMAKE_BINARY_DIR}/cryptopp-include)
file(MAKE_DIRECTORY ${CRYPTOPP_INCLUDE_ROOT})
file(CREATE_LINK ${CRYPTOPP_SRC_DIR} ${CRYPTOPP_INCLUDE_ROOT}/cryptopp SYMBOLIC)
target_include_directories(cryptopp_wasm PUBLIC ${CRYPTOPP_INCLUDE_ROOT} PRIVATE ${CRYPTOPP_SRC_DIR})

add_library(cryptopp_dep INTERFACE)
target_link_libraries(cryptopp_dep INTERFACE cryptopp_wasm)

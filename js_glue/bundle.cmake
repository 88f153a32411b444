# Writes OUT from the Wasm loader (CORE, if given) and the runtime's PARTS, in order.
# FORMAT iife (default): one IIFE, so a site needs one script tag (or one importScripts) and
# nothing leaks into its globals but p2pcdn. FORMAT esm: an ES module (its scope is its own;
# the last part exports).
set(text "/* p2pcdn: peer-to-peer CDN for the web. */\n")
if(NOT FORMAT STREQUAL "esm")
  string(APPEND text "(function () {\n'use strict';\n")
endif()
if(CORE)
  file(READ ${CORE} core)
  # The loader's CommonJS/AMD export tail: within the bundle the factory is used by name, and
  # an ES module that mentions `module` makes bundlers warn.
  string(FIND "${core}" "if (typeof exports === 'object' && typeof module === 'object')" tail)
  if(tail GREATER 0)
    string(SUBSTRING "${core}" 0 ${tail} core)
  endif()
  string(APPEND text "${core}\n")
endif()
string(REPLACE "|" ";" parts "${PARTS}")
foreach(part ${parts})
  file(READ ${part} content)
  get_filename_component(name ${part} NAME)
  string(APPEND text "\n// ---- ${name} ----\n${content}")
endforeach()
if(NOT FORMAT STREQUAL "esm")
  string(APPEND text "})();\n")
endif()
file(WRITE ${OUT} "${text}")

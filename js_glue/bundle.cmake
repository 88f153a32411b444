# Writes OUT = one IIFE holding the Wasm loader (CORE, if given) and the runtime's PARTS, in
# order, so a site needs one script tag (or one importScripts) and nothing leaks into its
# globals but p2pcdn.
set(text "/* p2pcdn: peer-to-peer CDN for the web. */\n(function () {\n'use strict';\n")
if(CORE)
  file(READ ${CORE} core)
  string(APPEND text "${core}\n")
endif()
string(REPLACE "|" ";" parts "${PARTS}")
foreach(part ${parts})
  file(READ ${part} content)
  get_filename_component(name ${part} NAME)
  string(APPEND text "\n// ---- ${name} ----\n${content}")
endforeach()
string(APPEND text "})();\n")
file(WRITE ${OUT} "${text}")

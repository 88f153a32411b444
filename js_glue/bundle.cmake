# Writes OUT = one IIFE holding the Wasm loader (CORE) and the page runtime (PARTS, in order),
# so a site needs one script tag and nothing leaks into its globals but window.p2pcdn.
file(READ ${CORE} core)
set(text "/* p2pcdn: peer-to-peer CDN for the web. */\n(function () {\n'use strict';\n${core}\n")
string(REPLACE "|" ";" parts "${PARTS}")
foreach(part ${parts})
  file(READ ${part} content)
  get_filename_component(name ${part} NAME)
  string(APPEND text "\n// ---- ${name} ----\n${content}")
endforeach()
string(APPEND text "})();\n")
file(WRITE ${OUT} "${text}")

// Conversions between JS values and core types, in one place so every exported call
// turns bad JS input into an error value instead of a trap.
#pragma once
#include <emscripten/val.h>

#include <optional>
#include <string>
#include <vector>

#include "p2pcdn/frame.hpp"
#include "p2pcdn/result.hpp"
#include "p2pcdn/signal.hpp"

namespace p2pcdn::js {

using emscripten::val;

// {error: "truncated", message: "message truncated"}; error names are stable for JS.
val error_value(Errc code);
const char* error_name(Errc code);

// Copies a Uint8Array (or ArrayBuffer) into a reusable heap buffer with one memcpy
// (TypedArray.set) and returns a view of it, valid until the next copy_in.
// Anything else gives an empty view and ok = false.
ByteView copy_in(const val& bytes, bool& ok);

// A JS-owned copy of bytes in the Wasm heap (the heap view would go stale on growth).
val copy_out(ByteView bytes);

// A plain Array of numbers, built in one crossing however long the list (a million pieces).
val u32_array(const std::vector<uint32_t>& values);

std::optional<double> number_field(const val& object, const char* key);
std::optional<std::string> string_field(const val& object, const char* key);

template <size_t N>
std::optional<std::array<uint8_t, N>> hex_bytes(const std::string& hex);

Result<Frame> frame_from_js(const val& object, std::vector<uint8_t>& payload_storage);
val frame_to_js(const Frame& frame);

Result<SignalMessage> signal_from_js(const val& object);
val signal_to_js(const SignalMessage& message);

}  // namespace p2pcdn::js

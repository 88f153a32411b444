// Byte views and big-endian field access. Fields are read byte by byte (no casts onto
// packed structs), and every read is bounds-checked before it happens.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace p2pcdn {

// Non-owning view of bytes (C++17 has no std::span).
struct ByteView {
  const uint8_t* data = nullptr;
  size_t size = 0;

  ByteView() = default;
  ByteView(const uint8_t* d, size_t n) : data(d), size(n) {}
  ByteView(const std::vector<uint8_t>& v) : data(v.data()), size(v.size()) {}  // NOLINT
  static ByteView of(std::string_view s) {
    return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
  }
};

using Sha256Digest = std::array<uint8_t, 32>;
// Resource id = SHA-256 of the canonical URL; content hash = SHA-256 of the body.
using ResourceId = Sha256Digest;
// Signaling peer id: 128 random bits chosen by the server.
using PeerId = std::array<uint8_t, 16>;

class ByteWriter {
 public:
  explicit ByteWriter(std::vector<uint8_t>& out) : out_(out) {}
  void u8(uint8_t v) { out_.push_back(v); }
  void u16(uint16_t v) { put(v, 2); }
  void u32(uint32_t v) { put(v, 4); }
  void u64(uint64_t v) { put(v, 8); }
  void bytes(const uint8_t* p, size_t n) { out_.insert(out_.end(), p, p + n); }
  template <size_t N>
  void array(const std::array<uint8_t, N>& a) {
    bytes(a.data(), N);
  }

 private:
  void put(uint64_t v, int width) {
    for (int i = width - 1; i >= 0; --i) out_.push_back(static_cast<uint8_t>(v >> (8 * i)));
  }
  std::vector<uint8_t>& out_;
};

// Reads fields in order; the first read past the end sets failed() and returns zeros,
// so a decoder checks once at the end instead of after every field.
class ByteReader {
 public:
  explicit ByteReader(ByteView in) : in_(in) {}
  uint8_t u8() { return static_cast<uint8_t>(get(1)); }
  uint16_t u16() { return static_cast<uint16_t>(get(2)); }
  uint32_t u32() { return static_cast<uint32_t>(get(4)); }
  uint64_t u64() { return get(8); }
  template <size_t N>
  std::array<uint8_t, N> array() {
    std::array<uint8_t, N> a{};
    if (take(N)) std::memcpy(a.data(), in_.data + pos_ - N, N);
    return a;
  }
  // A view of the next n bytes, or an empty view (and failed()) if they are not there.
  ByteView view(size_t n) { return take(n) ? ByteView{in_.data + pos_ - n, n} : ByteView{}; }
  std::string string(size_t n) {
    ByteView v = view(n);
    return std::string(reinterpret_cast<const char*>(v.data), v.size);
  }
  size_t remaining() const { return in_.size - pos_; }
  bool failed() const { return failed_; }

 private:
  bool take(size_t n) {
    if (failed_ || n > remaining()) {
      failed_ = true;
      return false;
    }
    pos_ += n;
    return true;
  }
  uint64_t get(size_t width) {
    if (!take(width)) return 0;
    uint64_t v = 0;
    for (size_t i = 0; i < width; ++i) v = (v << 8) | in_.data[pos_ - width + i];
    return v;
  }
  ByteView in_;
  size_t pos_ = 0;
  bool failed_ = false;
};

}  // namespace p2pcdn

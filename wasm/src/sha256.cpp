#include "p2pcdn/sha256.hpp"

#include <cryptopp/sha.h>

#include <algorithm>
#include <cstdint>

namespace p2pcdn {

struct Sha256::Impl {
  CryptoPP::SHA256 hash;
};

Sha256::Sha256() : impl_(std::make_unique<Impl>()) {}
Sha256::~Sha256() = default;
Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&&) noexcept = default;

void Sha256::update(ByteView bytes) {
  if (bytes.size != 0) impl_->hash.Update(bytes.data, bytes.size);
}

Sha256Digest Sha256::finish() {
  Sha256Digest digest{};
  impl_->hash.Final(digest.data());
  return digest;
}

Sha256Digest sha256(ByteView bytes) {
  Sha256Digest digest{};
  CryptoPP::SHA256().CalculateDigest(digest.data(), bytes.data, bytes.size);
  return digest;
}

ResourceId resource_id_for(std::string_view canonical_url, const Sha256Digest& content_hash) {
  Sha256 hasher;
  hasher.update(ByteView::of(canonical_url));
  const uint8_t separator = 0;  // no URL contains a NUL: the two parts cannot run together
  hasher.update(ByteView(&separator, 1));
  hasher.update(ByteView(content_hash.data(), content_hash.size()));
  return hasher.finish();
}

namespace {

// Hex and base64 are written here rather than with Crypto++'s filters: the filter and
// pipeline machinery they pull in was a quarter of the shipped Wasm (issue 17), for
// 32-byte values. Crypto++ stays for SHA-256 itself.
constexpr char kHexDigits[] = "0123456789abcdef";
constexpr char kBase64Alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";  // RFC 4648 §4
constexpr std::string_view kSriPrefix = "sha256-";

// -1 outside the alphabet, so a decoder needs one check per character.
int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// The 4 characters of a group of 1 to 3 bytes: '=' stands for each missing byte.
void append_base64_group(std::string& out, const uint8_t* in, size_t n) {
  const uint32_t group =
      uint32_t{in[0]} << 16 | (n > 1 ? uint32_t{in[1]} << 8 : 0) | (n > 2 ? uint32_t{in[2]} : 0);
  for (size_t k = 0; k < 4; ++k) {
    out.push_back(k <= n ? kBase64Alphabet[(group >> (18 - 6 * k)) & 63] : '=');
  }
}

std::string to_base64(ByteView bytes) {
  std::string out;
  out.reserve((bytes.size + 2) / 3 * 4);
  for (size_t at = 0; at < bytes.size; at += 3) {
    append_base64_group(out, bytes.data + at, std::min<size_t>(3, bytes.size - at));
  }
  return out;
}

// 32 bytes are 43 base64 characters (258 bits) and one '=' of padding. The 2 bits past the
// digest must be zero (RFC 4648 §3.5): one digest has one spelling, which matters because
// the JS side compares SRI strings as text (the worker's cached copies, request integrity).
std::optional<Sha256Digest> digest_from_base64(std::string_view b64) {
  if (b64.size() != 44 || b64[43] != '=') return std::nullopt;
  Sha256Digest digest{};
  uint32_t bits = 0;  // only the low `pending` bits are still to be written
  int pending = 0;
  size_t out = 0;
  for (const char c : b64.substr(0, 43)) {
    const int value = base64_value(c);
    if (value < 0) return std::nullopt;
    bits = bits << 6 | static_cast<uint32_t>(value);
    pending += 6;
    if (pending >= 8) {
      pending -= 8;
      digest[out++] = static_cast<uint8_t>(bits >> pending);
    }
  }
  if ((bits & ((1u << pending) - 1)) != 0) return std::nullopt;
  return digest;
}

}  // namespace

std::string to_hex(ByteView bytes) {
  std::string out(2 * bytes.size, '\0');
  for (size_t i = 0; i < bytes.size; ++i) {
    out[2 * i] = kHexDigits[bytes.data[i] >> 4];
    out[2 * i + 1] = kHexDigits[bytes.data[i] & 0xf];
  }
  return out;
}

// Either case, as hex is written by hand and by other tools; nothing around the digits.
std::optional<Sha256Digest> digest_from_hex(std::string_view hex) {
  Sha256Digest digest{};
  if (hex.size() != 2 * digest.size()) return std::nullopt;
  for (size_t i = 0; i < digest.size(); ++i) {
    const int high = hex_value(hex[2 * i]);
    const int low = hex_value(hex[2 * i + 1]);
    if (high < 0 || low < 0) return std::nullopt;
    digest[i] = static_cast<uint8_t>(high << 4 | low);
  }
  return digest;
}

std::string to_sri(const Sha256Digest& digest) {
  return std::string(kSriPrefix) + to_base64(ByteView(digest.data(), digest.size()));
}

std::optional<Sha256Digest> digest_from_sri(std::string_view sri) {
  if (sri.substr(0, kSriPrefix.size()) != kSriPrefix) return std::nullopt;
  return digest_from_base64(sri.substr(kSriPrefix.size()));
}

}  // namespace p2pcdn

#include "p2pcdn/sha256.hpp"

#include <cryptopp/base64.h>
#include <cryptopp/filters.h>
#include <cryptopp/hex.h>
#include <cryptopp/sha.h>

#include <algorithm>

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

std::string encode_with(CryptoPP::BufferedTransformation* encoder, ByteView bytes) {
  std::string out;
  encoder->Attach(new CryptoPP::StringSink(out));
  CryptoPP::StringSource(bytes.data, bytes.size, true, encoder);
  return out;
}

// Crypto++'s decoders skip characters outside their alphabet, so the caller first checks
// the exact shape; this only converts.
std::optional<Sha256Digest> decode_with(CryptoPP::BufferedTransformation* decoder,
                                        std::string_view text) {
  std::string bytes;
  decoder->Attach(new CryptoPP::StringSink(bytes));
  CryptoPP::StringSource(reinterpret_cast<const CryptoPP::byte*>(text.data()), text.size(), true,
                         decoder);
  if (bytes.size() != std::tuple_size<Sha256Digest>::value) return std::nullopt;
  Sha256Digest digest{};
  std::copy(bytes.begin(), bytes.end(), digest.begin());
  return digest;
}

bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool is_base64(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/';
}

constexpr std::string_view kSriPrefix = "sha256-";

}  // namespace

std::string to_hex(ByteView bytes) {
  return encode_with(new CryptoPP::HexEncoder(nullptr, /*uppercase=*/false), bytes);
}

std::optional<Sha256Digest> digest_from_hex(std::string_view hex) {
  if (hex.size() != 64 || !std::all_of(hex.begin(), hex.end(), is_hex)) return std::nullopt;
  return decode_with(new CryptoPP::HexDecoder, hex);
}

std::string to_sri(const Sha256Digest& digest) {
  return std::string(kSriPrefix) +
         encode_with(new CryptoPP::Base64Encoder(nullptr, /*insertLineBreaks=*/false),
                     ByteView(digest.data(), digest.size()));
}

std::optional<Sha256Digest> digest_from_sri(std::string_view sri) {
  if (sri.substr(0, kSriPrefix.size()) != kSriPrefix) return std::nullopt;
  const std::string_view b64 = sri.substr(kSriPrefix.size());
  // 32 bytes are 43 base64 characters and one '=' of padding.
  if (b64.size() != 44 || b64[43] != '=' || !std::all_of(b64.begin(), b64.end() - 1, is_base64)) {
    return std::nullopt;
  }
  return decode_with(new CryptoPP::Base64Decoder, b64);
}

}  // namespace p2pcdn

// SHA-256 through Crypto++: resource ids (hash of the canonical URL and content hash) and integrity
// (hash of the body), one-shot or incremental, in hex and SRI ("sha256-<base64>") form.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "p2pcdn/bytes.hpp"

namespace p2pcdn {

// Incremental hasher; feed bytes as they become contiguous, finish() once.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;

  void update(ByteView bytes);
  // Returns the digest and resets the hasher for reuse.
  Sha256Digest finish();

 private:
  struct Impl;  // keeps Crypto++ out of this header
  std::unique_ptr<Impl> impl_;
};

Sha256Digest sha256(ByteView bytes);

// The resource id of one version of a resource: its canonical URL (WHATWG URL `href`
// without fragment) and its content hash (see protocol.md). A deploy that changes a file
// changes its id, so holders of the old bytes are never looked up for the new ones; an
// unchanged file keeps its id, and its holders, across deploys.
ResourceId resource_id_for(std::string_view canonical_url, const Sha256Digest& content_hash);

// Lower-case hex of any bytes (digests, resource ids, peer ids).
std::string to_hex(ByteView bytes);
inline std::string to_hex(const Sha256Digest& digest) {
  return to_hex(ByteView(digest.data(), digest.size()));
}
std::optional<Sha256Digest> digest_from_hex(std::string_view hex);

std::string to_sri(const Sha256Digest& digest);
// Accepts exactly "sha256-" + 44 base64 characters (padding included) as to_sri writes them:
// the 2 bits the last character carries past the digest must be zero (RFC 4648 §3.5).
std::optional<Sha256Digest> digest_from_sri(std::string_view sri);

}  // namespace p2pcdn

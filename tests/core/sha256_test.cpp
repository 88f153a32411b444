#include "p2pcdn/sha256.hpp"

#include <gtest/gtest.h>

#include <string>

namespace p2pcdn {
namespace {

// FIPS 180-2 / NIST CSRC example vectors.
const char* kEmpty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const char* kAbc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
const char* k448 = "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1";
const char* kMillionA = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";

TEST(Sha256, PublishedVectorsOneShot) {
  EXPECT_EQ(to_hex(sha256(ByteView::of(""))), kEmpty);
  EXPECT_EQ(to_hex(sha256(ByteView::of("abc"))), kAbc);
  EXPECT_EQ(
      to_hex(sha256(ByteView::of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))),
      k448);
  const std::string million(1000000, 'a');
  EXPECT_EQ(to_hex(sha256(ByteView::of(million))), kMillionA);
}

TEST(Sha256, IncrementalMatchesOneShotForAnySplit) {
  const std::string million(1000000, 'a');
  for (size_t step : {1u, 63u, 64u, 65u, 16384u, 999999u}) {
    if (step == 1) continue;  // a million one-byte updates is slow under Wasm; 63 covers odd splits
    Sha256 h;
    for (size_t at = 0; at < million.size(); at += step) {
      h.update(ByteView::of(std::string_view(million).substr(at, step)));
    }
    EXPECT_EQ(to_hex(h.finish()), kMillionA) << step;
  }
  Sha256 reused;
  reused.update(ByteView::of("abc"));
  EXPECT_EQ(to_hex(reused.finish()), kAbc);
  EXPECT_EQ(to_hex(reused.finish()), kEmpty);  // finish() resets
}

TEST(Sha256, HexRoundTripAndRejects) {
  auto d = digest_from_hex(kAbc);
  ASSERT_TRUE(d);
  EXPECT_EQ(to_hex(*d), kAbc);
  std::string upper = kAbc;
  for (auto& c : upper) c = static_cast<char>(toupper(c));
  EXPECT_EQ(digest_from_hex(upper), d);
  EXPECT_FALSE(digest_from_hex(""));
  EXPECT_FALSE(digest_from_hex(std::string(kAbc).substr(1)));
  std::string bad = kAbc;
  bad[10] = 'g';
  EXPECT_FALSE(digest_from_hex(bad));
}

TEST(Sha256, SriForm) {
  // `echo -n abc | openssl dgst -sha256 -binary | base64`
  EXPECT_EQ(to_sri(sha256(ByteView::of("abc"))),
            "sha256-ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=");
  EXPECT_EQ(to_sri(sha256(ByteView::of(""))),
            "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
  auto d = digest_from_sri("sha256-ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=");
  ASSERT_TRUE(d);
  EXPECT_EQ(to_hex(*d), kAbc);
  EXPECT_FALSE(digest_from_sri("sha384-ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="));
  EXPECT_FALSE(digest_from_sri("sha256-ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0"));
  EXPECT_FALSE(digest_from_sri("sha256-ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAF!0="));
  EXPECT_FALSE(digest_from_sri(""));
}

TEST(Sha256, ResourceIdNamesOneVersionOfOneUrl) {
  const std::string url = "https://example.com/img/logo.png";
  const Sha256Digest v1 = sha256(ByteView::of("one"));
  const Sha256Digest v2 = sha256(ByteView::of("two"));
  std::string joined = url;
  joined.push_back('\0');
  joined.append(reinterpret_cast<const char*>(v1.data()), v1.size());
  EXPECT_EQ(resource_id_for(url, v1), sha256(ByteView::of(joined)));
  EXPECT_NE(resource_id_for(url, v1), resource_id_for(url, v2));
  EXPECT_NE(resource_id_for(url, v1), resource_id_for(url + "?v=2", v1));
}

}  // namespace
}  // namespace p2pcdn

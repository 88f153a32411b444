#include "p2pcdn/sha256.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <utility>
#include <vector>

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

// Hex and base64 are the core's own code (not Crypto++'s filters): these pin down what they
// write and, above all, everything they refuse.
const std::string kHexDigitsBothCases = "0123456789abcdefABCDEF";
const std::string kBase64Alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const std::string kAbcBase64 = "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=";

std::string with_char_at(std::string text, size_t at, char c) {
  text[at] = c;
  return text;
}

TEST(Sha256, HexOfAnyBytes) {
  EXPECT_EQ(to_hex(ByteView()), "");
  std::vector<uint8_t> every_byte;
  std::string expected;
  for (int b = 0; b < 256; ++b) {
    every_byte.push_back(static_cast<uint8_t>(b));
    char two[3];
    std::snprintf(two, sizeof two, "%02x", b);
    expected += two;
  }
  EXPECT_EQ(to_hex(ByteView(every_byte)), expected);
}

TEST(Sha256, HexRejectsAnyOtherCharacterAnywhere) {
  for (int c = 0; c < 256; ++c) {
    const char ch = static_cast<char>(c);
    const bool digit = kHexDigitsBothCases.find(ch) != std::string::npos;
    for (size_t at : {0u, 31u, 63u}) {
      EXPECT_EQ(digest_from_hex(with_char_at(kAbc, at, ch)).has_value(), digit)
          << c << " at " << at;
    }
  }
  EXPECT_EQ(digest_from_hex("BA7816BF8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015AD"),
            digest_from_hex(kAbc));
  EXPECT_FALSE(digest_from_hex(std::string(kAbc) + " "));
  EXPECT_FALSE(digest_from_hex(" " + std::string(kAbc)));
  EXPECT_FALSE(digest_from_hex(std::string(kAbc) + "\n"));
  EXPECT_FALSE(digest_from_hex("0x" + std::string(kAbc).substr(2)));
  EXPECT_FALSE(digest_from_hex(std::string(kAbc) + kAbc));
  EXPECT_FALSE(digest_from_hex(std::string(kAbc) + "0"));
}

TEST(Sha256, SriWritesAndReadsEveryAlphabetCharacter) {
  // Expected bytes from Python's base64.b64decode.
  const std::pair<std::string, std::string> cases[] = {
      {"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopA=",
       "00108310518720928b30d38f41149351559761969b71d79f8218a39259a7a290"},
      {"WXYZabcdefghijklmnopqrstuvwxyz0123456789+/A=",
       "59761969b71d79f8218a39259a7a29aabb2dbafc31cb3d35db7e39ebbf3dfbf0"},
      {"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
       "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"},
      {"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", std::string(64, '0')},
      {"//////////////////////////////////////////8=", std::string(64, 'f')},
  };
  for (const auto& [base64, hex] : cases) {
    const auto digest = digest_from_hex(hex);
    ASSERT_TRUE(digest) << hex;
    EXPECT_EQ(to_sri(*digest), std::string("sha256-") + base64);
    EXPECT_EQ(digest_from_sri(std::string("sha256-") + base64), digest) << base64;
  }
}

TEST(Sha256, SriRejectsAnyOtherCharacterAnywhere) {
  const std::string sri = "sha256-" + kAbcBase64;
  ASSERT_TRUE(digest_from_sri(sri));
  for (int c = 0; c < 256; ++c) {
    const char ch = static_cast<char>(c);
    const bool in_alphabet = kBase64Alphabet.find(ch) != std::string::npos;
    // The first, a middle and the 42nd base64 character; the 43rd, whose last 2 bits fall
    // past the digest, has its own test.
    for (size_t at : {7u, 27u, 48u}) {
      EXPECT_EQ(digest_from_sri(with_char_at(sri, at, ch)).has_value(), in_alphabet)
          << c << " at " << at;
    }
  }
  EXPECT_FALSE(digest_from_sri(with_char_at(sri, 0, 'S')));
  EXPECT_FALSE(digest_from_sri(with_char_at(sri, 6, '_')));
  EXPECT_FALSE(digest_from_sri("sha256-"));
  EXPECT_FALSE(digest_from_sri("sha256"));
  EXPECT_FALSE(digest_from_sri(sri + "\n"));
  EXPECT_FALSE(digest_from_sri(sri + "="));
  EXPECT_FALSE(digest_from_sri("sha256- " + kAbcBase64.substr(1)));
  EXPECT_FALSE(digest_from_sri(sri + " " + sri));  // a list of hashes, as in <script integrity>
}

TEST(Sha256, SriRejectsBadPadding) {
  const std::string sri = "sha256-" + kAbcBase64;
  EXPECT_FALSE(digest_from_sri(with_char_at(sri, 50, 'A')));  // no '='
  EXPECT_FALSE(digest_from_sri(with_char_at(sri, 49, '=')));  // "==": 31 bytes
  EXPECT_FALSE(digest_from_sri(with_char_at(sri, 20, '=')));  // '=' inside
  EXPECT_FALSE(digest_from_sri(sri.substr(0, 50) + "A="));    // 45 characters
  EXPECT_FALSE(digest_from_sri("sha256-" + kAbcBase64.substr(0, 40) + "===="));
  // Base64url's "-_" instead of "+/" (RFC 4648 §5) is another alphabet.
  EXPECT_FALSE(digest_from_sri("sha256-ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0="));
}

TEST(Sha256, SriRejectsNonZeroBitsPastTheDigest) {
  // 43 characters carry 258 bits: the last character ('0', 110100) ends in the 2 bits past
  // the digest. '1', '2' and '3' would spell the same digest differently (RFC 4648 §3.5);
  // only the canonical form is accepted.
  const std::string sri = "sha256-" + kAbcBase64;
  EXPECT_TRUE(digest_from_sri(sri));
  for (char c : {'1', '2', '3'}) EXPECT_FALSE(digest_from_sri(with_char_at(sri, 49, c))) << c;
}

TEST(Sha256, HexAndSriRoundTripManyDigests) {
  for (int i = 0; i < 256; ++i) {
    const Sha256Digest d = sha256(ByteView::of(std::to_string(i)));
    const std::string sri = to_sri(d);
    EXPECT_EQ(sri.size(), 51u);
    EXPECT_EQ(digest_from_sri(sri), d) << sri;
    EXPECT_EQ(digest_from_hex(to_hex(d)), d);
  }
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

// p2pcdn-manifest run on a temporary web root: its JSON checked against digests computed here
// with Crypto++ directly, slice by slice, not through PieceHasher.
#include <cryptopp/base64.h>
#include <cryptopp/filters.h>
#include <cryptopp/sha.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "p2pcdn/sha256.hpp"

namespace p2pcdn::testing {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

constexpr size_t kKiB = 1024;
constexpr size_t kMiB = 1024 * kKiB;

std::string slice_digest(const std::string& bytes, size_t at, size_t size) {
  std::string digest(CryptoPP::SHA256::DIGESTSIZE, '\0');
  CryptoPP::SHA256().CalculateDigest(reinterpret_cast<CryptoPP::byte*>(digest.data()),
                                     reinterpret_cast<const CryptoPP::byte*>(bytes.data() + at),
                                     size);
  return digest;
}

std::string sri(const std::string& bytes) {
  Sha256Digest digest{};
  const std::string raw = slice_digest(bytes, 0, bytes.size());
  std::copy(raw.begin(), raw.end(), digest.begin());
  return to_sri(digest);
}

std::string base64_decode(const std::string& text) {
  std::string bytes;
  CryptoPP::StringSource(text, true, new CryptoPP::Base64Decoder(new CryptoPP::StringSink(bytes)));
  return bytes;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Standard base64 with padding, as many characters as count digests need, and those digests
// one slice after another.
void expect_pieces(const json::object& file, const std::string& bytes, size_t piece_size) {
  ASSERT_TRUE(file.contains("pieces"));
  const json::object& pieces = file.at("pieces").as_object();
  EXPECT_EQ(pieces.at("size").to_number<uint64_t>(), piece_size);
  const std::string hashes(pieces.at("hashes").as_string());
  const size_t count = (bytes.size() + piece_size - 1) / piece_size;
  ASSERT_EQ(hashes.size(), (count * 32 + 2) / 3 * 4);
  EXPECT_EQ(
      hashes.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="),
      std::string::npos);
  const std::string digests = base64_decode(hashes);
  ASSERT_EQ(digests.size(), count * 32);
  for (size_t i = 0; i < count; ++i) {
    const size_t at = i * piece_size;
    EXPECT_EQ(digests.substr(i * 32, 32),
              slice_digest(bytes, at, std::min(piece_size, bytes.size() - at)))
        << "piece " << i;
  }
}

struct ToolRun {
  int exit_code = -1;
  std::string stderr_text;
};

class ManifestTool : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("p2pcdn-manifest-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(root() / "media");
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path root() const { return dir_ / "site"; }
  fs::path manifest_path() const { return dir_ / "manifest.json"; }

  const std::string& write(const std::string& rel, size_t size) {
    std::string bytes(size, '\0');
    for (size_t i = 0; i < size; ++i) bytes[i] = static_cast<char>((i * 7919) ^ (i >> 11));
    return write(rel, bytes);
  }
  const std::string& write(const std::string& rel, const std::string& bytes) {
    std::ofstream(root() / rel, std::ios::binary) << bytes;
    return files_[rel] = bytes;
  }

  ToolRun run(const std::string& flags) {
    fs::remove(manifest_path());
    const fs::path err = dir_ / "stderr.txt";
    const std::string command = std::string("'") + P2PCDN_MANIFEST_BINARY + "' '" +
                                root().string() + "' --out '" + manifest_path().string() + "' " +
                                flags + " 2>'" + err.string() + "'";
    const int status = std::system(command.c_str());
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, read_file(err)};
  }

  json::object manifest() const { return json::parse(read_file(manifest_path())).as_object(); }

  // Size, integrity and type as before pieces existed, and the content hash over them.
  void expect_files_and_content_hash(const json::object& manifest) {
    const json::object& listed = manifest.at("files").as_object();
    EXPECT_EQ(listed.size(), files_.size());
    std::string lines;
    for (const auto& [rel, bytes] : files_) {  // sorted by path, as the content hash wants
      const std::string path = "/" + rel;
      ASSERT_TRUE(listed.contains(path)) << path;
      const json::object& file = listed.at(path).as_object();
      EXPECT_EQ(file.at("size").to_number<uint64_t>(), bytes.size()) << path;
      EXPECT_EQ(file.at("integrity").as_string(), sri(bytes)) << path;
      EXPECT_TRUE(file.contains("type")) << path;
      lines += path + ' ' + std::to_string(bytes.size()) + ' ' + sri(bytes) + '\n';
    }
    EXPECT_EQ(manifest.at("contentHash").as_string(), sri(lines));
  }

  fs::path dir_;
  std::map<std::string, std::string> files_;  // by path under the root
};

TEST_F(ManifestTool, DefaultCutsFilesLargerThan1MiBInto256KiBPieces) {
  write("index.html", "<video src=\"media/film.webm\"></video>");
  write("small.txt", 100);
  write("media/exact.bin", kMiB);
  const auto& over = write("media/over.bin", kMiB + 1);
  const auto& film = write("media/film.webm", 3 * kMiB + 100);
  const ToolRun result = run("");
  ASSERT_EQ(result.exit_code, 0) << result.stderr_text;
  const json::object m = manifest();
  expect_files_and_content_hash(m);
  const json::object& files = m.at("files").as_object();
  EXPECT_FALSE(files.at("/media/exact.bin").as_object().contains("pieces"));
  expect_pieces(files.at("/media/over.bin").as_object(), over, 256 * kKiB);  // last is 1 byte
  expect_pieces(files.at("/media/film.webm").as_object(), film, 256 * kKiB);
  EXPECT_FALSE(files.at("/small.txt").as_object().contains("pieces"));
  EXPECT_EQ(files.at("/media/film.webm").as_object().at("type").as_string(), "video/webm");
  EXPECT_EQ(json::serialize(m.at("pages")), R"({"/index.html":["/media/film.webm"]})");
}

TEST_F(ManifestTool, FlagsSetThresholdAndPieceSize) {
  write("empty.txt", "");
  const auto& one = write("one.txt", "x");
  const auto& multiple = write("media/multiple.bin", 4 * 16 * kKiB);
  const auto& odd = write("media/odd.bin", 100000);
  const ToolRun result = run("--piece-threshold 0 --piece-size 16384");
  ASSERT_EQ(result.exit_code, 0) << result.stderr_text;
  const json::object m = manifest();
  expect_files_and_content_hash(m);
  const json::object& files = m.at("files").as_object();
  EXPECT_FALSE(files.at("/empty.txt").as_object().contains("pieces"));
  expect_pieces(files.at("/one.txt").as_object(), one, 16 * kKiB);
  expect_pieces(files.at("/media/multiple.bin").as_object(), multiple, 16 * kKiB);  // 4, no 5th
  expect_pieces(files.at("/media/odd.bin").as_object(), odd, 16 * kKiB);
}

TEST_F(ManifestTool, HugeThresholdMeansNoPieces) {
  write("media/big.bin", 2 * kMiB);
  const ToolRun result = run("--piece-threshold 18446744073709551615");
  ASSERT_EQ(result.exit_code, 0) << result.stderr_text;
  const json::object m = manifest();
  expect_files_and_content_hash(m);
  EXPECT_FALSE(m.at("files").as_object().at("/media/big.bin").as_object().contains("pieces"));
}

TEST_F(ManifestTool, BadPieceFlagsAreRefused) {
  write("a.txt", 10);
  for (const char* size : {"1000", "8192", "196608", "134217728", "0", "abc", "-16384", "''"}) {
    const ToolRun result = run(std::string("--piece-size ") + size);
    EXPECT_EQ(result.exit_code, 2) << size;
    EXPECT_NE(result.stderr_text.find("--piece-size must be a power of two"), std::string::npos)
        << size << ": " << result.stderr_text;
    EXPECT_FALSE(fs::exists(manifest_path())) << size;
  }
  const ToolRun threshold = run("--piece-threshold 1MiB");
  EXPECT_EQ(threshold.exit_code, 2);
  EXPECT_NE(threshold.stderr_text.find("--piece-threshold"), std::string::npos);
  EXPECT_EQ(run("--piece-size").exit_code, 2);
}

// "x.br" and "x.gz" beside "x" are x itself, precompressed: left out. Without "x" they are
// files of their own.
TEST_F(ManifestTool, PrecompressedSiblingsAreLeftOut) {
  write("app.js", "console.log(1)");
  write("media/b.bin", 100);
  for (const char* sibling : {"app.js.br", "app.js.gz", "media/b.bin.br", "media/b.bin.gz"}) {
    std::ofstream(root() / sibling, std::ios::binary) << "packed";  // not in files_
  }
  write("lone.txt.br", "no lone.txt beside it");
  write("lone.gz", 10);
  const ToolRun result = run("");
  ASSERT_EQ(result.exit_code, 0) << result.stderr_text;
  expect_files_and_content_hash(manifest());  // exactly app.js, b.bin and the two lone files
}

TEST_F(ManifestTool, SymlinkLoopIsSkippedWithAWarning) {
  write("a.txt", 10);
  write("media/b.bin", 2 * kMiB);
  fs::create_symlink("self", root() / "self");
  fs::create_symlink("ping", root() / "media" / "pong");
  fs::create_symlink("pong", root() / "media" / "ping");
  const ToolRun result = run("");
  ASSERT_EQ(result.exit_code, 0) << result.stderr_text;
  EXPECT_NE(result.stderr_text.find("skipped"), std::string::npos) << result.stderr_text;
  EXPECT_NE(result.stderr_text.find("pong"), std::string::npos) << result.stderr_text;
  expect_files_and_content_hash(manifest());  // exactly the two files
}

}  // namespace
}  // namespace p2pcdn::testing

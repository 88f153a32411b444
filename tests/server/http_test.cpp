// Static files, health and metrics over real HTTP.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "http_routes.hpp"
#include "test_client.hpp"

namespace p2pcdn::testing {
namespace {

namespace fs = std::filesystem;

class StaticFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("p2pcdn-http-" + std::to_string(::getpid()));
    fs::create_directories(root_ / "img");
    write("index.html", "<!doctype html><title>t</title>");
    write("app.js", "console.log(1)");
    write("p2pcdn-core.wasm", std::string("\0asm", 4));
    body_.resize(100000);
    for (size_t i = 0; i < body_.size(); ++i) body_[i] = static_cast<char>(i * 13);
    write("img/big.png", body_);
    auto config = test_config();
    config.root = root_.string();
    config.cache_max_age_s = 600;
    server_ = std::make_unique<RunningServer>(config);
  }
  void TearDown() override {
    server_.reset();
    fs::remove_all(root_);
  }
  void write(const std::string& rel, const std::string& content) {
    std::ofstream(root_ / rel, std::ios::binary) << content;
  }
  uint16_t port() const { return server_->port(); }

  fs::path root_;
  std::string body_;
  std::unique_ptr<RunningServer> server_;
};

TEST_F(StaticFiles, ContentTypesAndCaching) {
  auto html = http_get(port(), "/");
  EXPECT_EQ(html.result_int(), 200u);
  EXPECT_EQ(html["content-type"], "text/html; charset=utf-8");
  EXPECT_EQ(html["cache-control"], "no-cache");
  EXPECT_EQ(html.body(), "<!doctype html><title>t</title>");
  EXPECT_EQ(http_get(port(), "/app.js")["content-type"], "text/javascript; charset=utf-8");
  EXPECT_EQ(http_get(port(), "/p2pcdn-core.wasm")["content-type"], "application/wasm");
  auto png = http_get(port(), "/img/big.png?v=3");
  EXPECT_EQ(png["content-type"], "image/png");
  EXPECT_EQ(png["cache-control"], "public, max-age=600");
  EXPECT_EQ(png.body(), body_);
}

TEST_F(StaticFiles, ETagAndIfNoneMatch) {
  auto first = http_get(port(), "/img/big.png");
  const std::string etag = first["etag"];
  ASSERT_FALSE(etag.empty());
  auto again = http_get(port(), "/img/big.png", {{"if-none-match", etag}});
  EXPECT_EQ(again.result_int(), 304u);
  EXPECT_TRUE(again.body().empty());
  auto other = http_get(port(), "/img/big.png", {{"if-none-match", "\"other\""}});
  EXPECT_EQ(other.result_int(), 200u);
}

TEST_F(StaticFiles, Ranges) {
  auto mid = http_get(port(), "/img/big.png", {{"range", "bytes=1000-1999"}});
  EXPECT_EQ(mid.result_int(), 206u);
  EXPECT_EQ(mid["content-range"], "bytes 1000-1999/100000");
  EXPECT_EQ(mid.body(), body_.substr(1000, 1000));
  auto open_end = http_get(port(), "/img/big.png", {{"range", "bytes=99990-"}});
  EXPECT_EQ(open_end.body(), body_.substr(99990));
  auto suffix = http_get(port(), "/img/big.png", {{"range", "bytes=-5"}});
  EXPECT_EQ(suffix["content-range"], "bytes 99995-99999/100000");
  auto past = http_get(port(), "/img/big.png", {{"range", "bytes=100000-"}});
  EXPECT_EQ(past.result_int(), 416u);
  EXPECT_EQ(past["content-range"], "bytes */100000");
  // Several ranges, junk, or a stale If-Range: the whole body.
  EXPECT_EQ(http_get(port(), "/img/big.png", {{"range", "bytes=0-1,5-6"}}).result_int(), 200u);
  EXPECT_EQ(http_get(port(), "/img/big.png", {{"range", "pages=1"}}).result_int(), 200u);
  EXPECT_EQ(http_get(port(), "/img/big.png", {{"range", "bytes=0-1"}, {"if-range", "\"stale\""}})
                .result_int(),
            200u);
}

TEST_F(StaticFiles, HeadAndErrors) {
  auto head = http_get(port(), "/img/big.png", {}, "HEAD");
  EXPECT_EQ(head.result_int(), 200u);
  EXPECT_EQ(head["content-length"], "100000");
  EXPECT_EQ(http_get(port(), "/missing.png").result_int(), 404u);
  EXPECT_EQ(http_get(port(), "/img").result_int(), 404u);  // a folder
  EXPECT_EQ(http_get(port(), "/../etc/passwd").result_int(), 400u);
  EXPECT_EQ(http_get(port(), "/img/%2e%2e/%2e%2e/x").result_int(), 400u);
  EXPECT_EQ(http_get(port(), "/app.js", {}, "POST").result_int(), 405u);
}

// A "<file>.gz" beside a file is sent, as stored, to clients that take gzip.
TEST_F(StaticFiles, PrecompressedSiblings) {
  const std::string gz = "not really gzip, but what the server must send as stored";
  write("app.js.gz", gz);
  const auto identity = http_get(port(), "/app.js");
  EXPECT_EQ(identity.body(), "console.log(1)");
  EXPECT_EQ(identity["vary"], "Accept-Encoding");
  EXPECT_EQ(identity.headers.count("content-encoding"), 0u);

  const auto packed = http_get(port(), "/app.js", {{"accept-encoding", "br, gzip, deflate"}});
  EXPECT_EQ(packed.result_int(), 200u);
  EXPECT_EQ(packed.body(), gz);
  EXPECT_EQ(packed["content-encoding"], "gzip");
  EXPECT_EQ(packed["content-type"], "text/javascript; charset=utf-8");
  EXPECT_EQ(packed["vary"], "Accept-Encoding");
  EXPECT_NE(packed["etag"], identity["etag"]);
  const auto revalidated =
      http_get(port(), "/app.js", {{"accept-encoding", "gzip"}, {"if-none-match", packed["etag"]}});
  EXPECT_EQ(revalidated.result_int(), 304u);
  const auto head = http_get(port(), "/app.js", {{"accept-encoding", "gzip"}}, "HEAD");
  EXPECT_EQ(head["content-length"], std::to_string(gz.size()));

  // Refused by q=0, asked for a range, or older than the file: the file itself.
  for (const char* refusal : {"gzip;q=0", "gzip; q=0.000, identity", "deflate", "gzipx"}) {
    EXPECT_EQ(http_get(port(), "/app.js", {{"accept-encoding", refusal}}).body(), "console.log(1)")
        << refusal;
  }
  EXPECT_EQ(http_get(port(), "/app.js", {{"accept-encoding", "*"}}).body(), gz);
  const auto range =
      http_get(port(), "/app.js", {{"accept-encoding", "gzip"}, {"range", "bytes=0-6"}});
  EXPECT_EQ(range.result_int(), 206u);
  EXPECT_EQ(range.body(), "console");
  EXPECT_EQ(range.headers.count("content-encoding"), 0u);
  fs::last_write_time(root_ / "app.js.gz",
                      fs::last_write_time(root_ / "app.js") - std::chrono::hours(1));
  const auto stale = http_get(port(), "/app.js", {{"accept-encoding", "gzip"}});
  EXPECT_EQ(stale.body(), "console.log(1)");
  EXPECT_EQ(stale.headers.count("vary"), 0u);
}

// A "<file>.br" is preferred to the ".gz" by clients that take brotli; each representation
// has its own ETag, and either sibling makes the answer vary by Accept-Encoding.
TEST_F(StaticFiles, BrotliSiblingPreferredToGzip) {
  const std::string br = "not really brotli either", gz = "not really gzip";
  write("app.js.br", br);
  write("app.js.gz", gz);
  const auto identity = http_get(port(), "/app.js");
  EXPECT_EQ(identity.body(), "console.log(1)");
  EXPECT_EQ(identity["vary"], "Accept-Encoding");
  EXPECT_EQ(identity.headers.count("content-encoding"), 0u);

  const auto packed = http_get(port(), "/app.js", {{"accept-encoding", "gzip, deflate, br"}});
  EXPECT_EQ(packed.result_int(), 200u);
  EXPECT_EQ(packed.body(), br);
  EXPECT_EQ(packed["content-encoding"], "br");
  EXPECT_EQ(packed["content-type"], "text/javascript; charset=utf-8");
  EXPECT_EQ(packed["vary"], "Accept-Encoding");
  const auto gzipped = http_get(port(), "/app.js", {{"accept-encoding", "gzip"}});
  EXPECT_EQ(gzipped.body(), gz);
  EXPECT_EQ(gzipped["content-encoding"], "gzip");
  EXPECT_EQ(packed["etag"].substr(0, 4), "\"br-");
  EXPECT_NE(packed["etag"], identity["etag"]);
  EXPECT_NE(packed["etag"], gzipped["etag"]);
  EXPECT_NE(gzipped["etag"], identity["etag"]);
  const auto revalidated =
      http_get(port(), "/app.js", {{"accept-encoding", "br"}, {"if-none-match", packed["etag"]}});
  EXPECT_EQ(revalidated.result_int(), 304u);
  EXPECT_EQ(revalidated["content-encoding"], "br");
  EXPECT_EQ(http_get(port(), "/app.js", {{"accept-encoding", "br"}}, "HEAD")["content-length"],
            std::to_string(br.size()));

  // A coding named with q=0 is refused even where "*" would take it; "*" takes what is not named.
  const std::pair<const char*, std::string> cases[] = {{"BR", br},
                                                       {"br;q=0.5, gzip", br},
                                                       {"*", br},
                                                       {"gzip, *;q=0", gz},
                                                       {"br;q=0, gzip", gz},
                                                       {"br; q=0.0, *", gz},
                                                       {"gzip;q=1", gz},
                                                       {"br;q=0, gzip;q=0", ""},
                                                       {"deflate", ""},
                                                       {"identity", ""},
                                                       {"brx, gzipx", ""},
                                                       {"br;q=0, *", gz},
                                                       {"", ""},
                                                       {"br;q=0.001", br},
                                                       {"*;q=0", ""}};
  for (const auto& [accept, expected] : cases) {
    const auto res = http_get(port(), "/app.js", {{"accept-encoding", accept}});
    EXPECT_EQ(res.body(), expected.empty() ? "console.log(1)" : expected) << accept;
  }
}

// Ranges count bytes of the file itself; a sibling older than the file is never sent.
TEST_F(StaticFiles, BrotliSiblingNotForRangesOrWhenStale) {
  write("app.js.br", "not really brotli");
  const auto range =
      http_get(port(), "/app.js", {{"accept-encoding", "br, gzip"}, {"range", "bytes=0-6"}});
  EXPECT_EQ(range.result_int(), 206u);
  EXPECT_EQ(range.body(), "console");
  EXPECT_EQ(range.headers.count("content-encoding"), 0u);
  EXPECT_EQ(range["vary"], "Accept-Encoding");

  write("app.js.gz", "not really gzip");
  fs::last_write_time(root_ / "app.js.br",
                      fs::last_write_time(root_ / "app.js") - std::chrono::hours(1));
  const auto stale_br = http_get(port(), "/app.js", {{"accept-encoding", "br, gzip"}});
  EXPECT_EQ(stale_br.body(), "not really gzip");
  EXPECT_EQ(stale_br["content-encoding"], "gzip");
  EXPECT_EQ(http_get(port(), "/app.js", {{"accept-encoding", "br"}}).body(), "console.log(1)");
  fs::last_write_time(root_ / "app.js.gz",
                      fs::last_write_time(root_ / "app.js") - std::chrono::hours(1));
  const auto both_stale = http_get(port(), "/app.js", {{"accept-encoding", "br, gzip"}});
  EXPECT_EQ(both_stale.body(), "console.log(1)");
  EXPECT_EQ(both_stale.headers.count("vary"), 0u);
}

TEST_F(StaticFiles, HealthAndMetrics) {
  auto health = http_get(port(), "/healthz");
  EXPECT_EQ(health.result_int(), 200u);
  EXPECT_EQ(health.body(), "ok\n");
  http_get(port(), "/img/big.png");
  http_get(port(), "/img/big.png", {{"range", "bytes=0-9"}});
  auto metrics = http_get(port(), "/metrics");
  EXPECT_EQ(metrics["content-type"], "text/plain; version=0.0.4; charset=utf-8");
  for (const char* line : {"p2pcdn_connections_open ", "p2pcdn_peers 0", "p2pcdn_relays_total 0",
                           "p2pcdn_rejections_total{reason=\"rate_limited\"} 0",
                           "p2pcdn_static_bytes_total{path=\"/img/big.png\"} 100010"}) {
    EXPECT_NE(metrics.body().find(line), std::string::npos) << line;
  }
}

TEST(HttpHelpers, RangeParsing) {
  server::ByteRange r;
  using server::RangeParse;
  EXPECT_EQ(server::parse_range("bytes=0-0", 10, r), RangeParse::kSatisfiable);
  EXPECT_EQ(r.last, 0u);
  EXPECT_EQ(server::parse_range("bytes=5-100", 10, r), RangeParse::kSatisfiable);
  EXPECT_EQ(r.last, 9u);
  EXPECT_EQ(server::parse_range("bytes=-100", 10, r), RangeParse::kSatisfiable);
  EXPECT_EQ(r.first, 0u);
  EXPECT_EQ(server::parse_range("bytes=10-", 10, r), RangeParse::kUnsatisfiable);
  EXPECT_EQ(server::parse_range("bytes=-0", 10, r), RangeParse::kUnsatisfiable);
  EXPECT_EQ(server::parse_range("bytes=5-4", 10, r), RangeParse::kNone);
  EXPECT_EQ(server::parse_range("bytes=x-4", 10, r), RangeParse::kNone);
  EXPECT_EQ(server::parse_range("bytes=99999999999999999999-", 10, r), RangeParse::kNone);
}

TEST(HttpHelpers, SafePaths) {
  std::string out;
  EXPECT_TRUE(server::safe_path("/a/b.png?x=1", out));
  EXPECT_EQ(out, "/a/b.png");
  EXPECT_TRUE(server::safe_path("/a%20b", out));
  EXPECT_EQ(out, "/a b");
  EXPECT_TRUE(server::safe_path("/..a/b..", out));  // dots inside names are fine
  for (const char* bad :
       {"", "a", "/..", "/a/../b", "/%2E%2E/x", "/a%00b", "/a\\b", "/%zz", "/%2"}) {
    EXPECT_FALSE(server::safe_path(bad, out)) << bad;
  }
}

}  // namespace
}  // namespace p2pcdn::testing

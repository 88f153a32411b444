// Answers one HTTP request: /healthz, /metrics, 426 for /signal without a WebSocket upgrade,
// or a static file (GET/HEAD, ETag, If-None-Match, single Range with 206). No sockets here:
// the HTTP session writes what this returns.
#pragma once
#include <boost/beast/http.hpp>

#include "metrics.hpp"
#include "server_config.hpp"

namespace p2pcdn::server {

namespace http = boost::beast::http;

using HttpRequest = http::request<http::string_body>;

// Largest range answered in one 206, read into memory; clients ask again for the rest.
inline constexpr uint64_t kMaxRangeBytes = 8ull << 20;

// `status` is set to the answer's status, for the access log.
http::message_generator answer_http(const HttpRequest& request, bool keep_alive,
                                    const ServerConfig& config, Metrics& metrics,
                                    http::status& status);

// Pure helpers, exposed for tests.
struct ByteRange {
  uint64_t first = 0;
  uint64_t last = 0;  // inclusive
};
enum class RangeParse { kNone, kSatisfiable, kUnsatisfiable };
// One "bytes=" range against a body of `size` bytes; several ranges are answered whole (200).
RangeParse parse_range(std::string_view header, uint64_t size, ByteRange& out);
// Decodes %XX, strips the query, refuses "..", NUL and anything not starting with '/'.
bool safe_path(std::string_view target, std::string& out);
std::string_view mime_type(std::string_view path);

}  // namespace p2pcdn::server

#include "http_routes.hpp"

#include <boost/beast/core/file.hpp>
#include <cctype>
#include <charconv>
#include <filesystem>
#include <optional>
#include <system_error>

namespace p2pcdn::server {
namespace {

namespace fs = std::filesystem;

// The request being answered, whether the connection stays open after it (the session
// refuses keep-alive while shutting down), and the status of the answer, for the access log.
struct Exchange {
  const HttpRequest& req;
  bool keep_alive;
  http::status& status;
};

// Every response is given its headers here, and the one returned is always the last to get
// them (a 206 that fails to read becomes a 500 made after it), so this records its status.
template <class Body>
void common_headers(http::response<Body>& res, const Exchange& x) {
  res.set(http::field::server, "p2pcdn-server");
  res.keep_alive(x.keep_alive);
  x.status = res.result();
}

http::response<http::string_body> text_response(
    const Exchange& x, http::status status, std::string body,
    std::string_view type = "text/plain; charset=utf-8") {
  const HttpRequest& req = x.req;
  http::response<http::string_body> res{status, req.version()};
  common_headers(res, x);
  res.set(http::field::content_type, type);
  res.set(http::field::cache_control, "no-store");
  res.body() = req.method() == http::verb::head ? std::string() : std::move(body);
  res.prepare_payload();
  return res;
}

http::message_generator text(const Exchange& x, http::status status, std::string body,
                             std::string_view type = "text/plain; charset=utf-8") {
  return text_response(x, status, std::move(body), type);
}

// /signal opened without a WebSocket upgrade: a browser pointed at it, or a proxy that does
// not forward Upgrade. 426 says what is missing where a 404 would say nothing is there.
http::message_generator upgrade_required(const Exchange& x) {
  auto res = text_response(x, http::status::upgrade_required,
                           "/signal is p2pcdn's WebSocket signaling endpoint: open it with a "
                           "WebSocket upgrade\n");
  res.set(http::field::upgrade, "websocket");
  res.set(http::field::connection, "upgrade");
  res.keep_alive(x.keep_alive);  // adds "close" to Connection when the connection ends
  return res;
}

std::string etag_for(uint64_t size, fs::file_time_type mtime) {
  char buf[64];
  const auto ns = static_cast<unsigned long long>(mtime.time_since_epoch().count());
  std::snprintf(buf, sizeof buf, "\"%llx-%llx\"", static_cast<unsigned long long>(size), ns);
  return buf;
}

bool etag_matches(std::string_view if_none_match, const std::string& etag) {
  if (if_none_match == "*") return true;
  // A list of tags, possibly weak (W/"..."): ours matching anywhere in it is a match.
  return if_none_match.find(etag) != std::string_view::npos;
}

// One stored form of a file: the file itself, or a precompressed sibling of it.
struct Representation {
  std::string path;
  uint64_t size = 0;
  std::string etag;
};

// A precompressed sibling "<file><suffix>", sent with Content-Encoding: <coding>. In order of
// preference: brotli at quality 11 is ~10-20 % smaller than gzip -9 on p2pcdn's JS and Wasm.
struct Encoding {
  std::string_view coding;       // its token in Accept-Encoding and Content-Encoding
  std::string_view suffix;       // appended to the file's name
  std::string_view etag_prefix;  // keeps its ETag apart from the file's and the other's
};
constexpr Encoding kEncodings[] = {{"br", ".br", "br-"}, {"gzip", ".gz", "gz-"}};

bool stat_file(const std::string& path, uint64_t& size, fs::file_time_type& mtime) {
  std::error_code ec;
  if (!fs::is_regular_file(fs::status(path, ec)) || ec) return false;
  size = fs::file_size(path, ec);
  if (ec) return false;
  mtime = fs::last_write_time(path, ec);
  return !ec;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Content-coding tokens are case-insensitive (RFC 9110 8.4.1).
bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  }
  return true;
}

// Takes the first item, trimmed, off a list of items separated by `separator`.
std::string_view next_item(std::string_view& list, char separator) {
  const size_t at = list.find(separator);
  const std::string_view item = list.substr(0, at);
  list = at == std::string_view::npos ? std::string_view() : list.substr(at + 1);
  return trim(item);
}

// Whether the parameters of one Accept-Encoding item (";q=0.5") leave it wanted: no q is 1;
// q=0, q=0.0, q=0.000 refuse it, any other value is a yes.
bool q_above_zero(std::string_view params) {
  while (!params.empty()) {
    const std::string_view param = next_item(params, ';');
    if (param.size() < 2 || (param[0] != 'q' && param[0] != 'Q') || param[1] != '=') continue;
    const std::string_view value = param.substr(2);
    if (value.empty() || value[0] != '0') return true;
    return value.substr(1).find_first_not_of(".0") != std::string_view::npos;
  }
  return true;
}

// Whether Accept-Encoding allows `coding`: its own item when the client names it, else a
// "*" item (which stands for codings not named, RFC 9110 12.5.3), with a q above 0.
bool accepts(std::string_view header, std::string_view coding) {
  std::optional<bool> named, star;
  while (!header.empty()) {
    std::string_view params = next_item(header, ',');
    const std::string_view name = next_item(params, ';');
    if (iequals(name, coding)) named = q_above_zero(params);
    if (name == "*") star = q_above_zero(params);
  }
  return named.value_or(star.value_or(false));
}

// "<file><suffix>" if it exists and is no older than the file (a stale one is ignored), with
// an ETag of its own.
bool fresh_sibling(const Representation& file, fs::file_time_type mtime, const Encoding& e,
                   Representation& out) {
  out.path = file.path + std::string(e.suffix);
  fs::file_time_type sibling_mtime;
  if (!stat_file(out.path, out.size, sibling_mtime) || sibling_mtime < mtime) return false;
  out.etag = etag_for(out.size, sibling_mtime).insert(1, e.etag_prefix);
  return true;
}

// What a static request is answered with: the file, or the first fresh sibling in kEncodings
// that the client accepts, for whole-body answers only (ranges count bytes of the file itself).
struct Selection {
  Representation chosen;
  std::string_view coding;  // Content-Encoding; empty for the file itself
  bool vary = false;        // a fresh sibling exists: the answer depends on Accept-Encoding
};

Selection select_representation(const HttpRequest& req, Representation file,
                                fs::file_time_type mtime) {
  Selection s;
  const bool whole = req.count(http::field::range) == 0;
  const std::string_view accept = req[http::field::accept_encoding];
  for (const Encoding& e : kEncodings) {
    Representation sibling;
    if (!fresh_sibling(file, mtime, e, sibling)) continue;
    s.vary = true;
    if (whole && accepts(accept, e.coding)) {
      s.chosen = std::move(sibling);
      s.coding = e.coding;
      return s;
    }
  }
  s.chosen = std::move(file);
  return s;
}

bool read_range(const std::string& path, const ByteRange& r, std::string& out) {
  boost::beast::error_code ec;
  boost::beast::file file;
  file.open(path.c_str(), boost::beast::file_mode::scan, ec);
  if (ec) return false;
  file.seek(r.first, ec);
  if (ec) return false;
  out.resize(r.last - r.first + 1);
  size_t done = 0;
  while (done < out.size()) {
    const size_t n = file.read(out.data() + done, out.size() - done, ec);
    if (ec || n == 0) return false;
    done += n;
  }
  return true;
}

http::message_generator static_file(const Exchange& x, const ServerConfig& config,
                                    Metrics& metrics) {
  const HttpRequest& req = x.req;
  if (req.method() != http::verb::get && req.method() != http::verb::head) {
    auto res = text(x, http::status::method_not_allowed, "GET or HEAD only\n");
    return res;
  }
  std::string rel;
  if (config.root.empty() || !safe_path(req.target(), rel)) {
    return text(x, config.root.empty() ? http::status::not_found : http::status::bad_request,
                config.root.empty() ? "no static files here\n" : "bad path\n");
  }
  if (rel.back() == '/') rel += "index.html";
  for (const auto& prefix : config.deny_prefixes) {
    if (rel.rfind(prefix, 0) == 0)
      return text(x, http::status::forbidden, "denied by --deny-prefix\n");
  }
  Representation file;
  file.path = config.root + rel;
  fs::file_time_type mtime;
  if (!stat_file(file.path, file.size, mtime))
    return text(x, http::status::not_found, "not found\n");
  file.etag = etag_for(file.size, mtime);
  const Selection selection = select_representation(req, std::move(file), mtime);
  const Representation& chosen = selection.chosen;
  const std::string& path = chosen.path;
  const uint64_t size = chosen.size;
  const std::string& etag = chosen.etag;
  const std::string_view type = mime_type(rel);
  std::string cache = type.rfind("text/html", 0) == 0
                          ? std::string("no-cache")
                          : "public, max-age=" + std::to_string(config.cache_max_age_s);
  for (const auto& [prefix, value] : config.cache_control_rules) {
    if (rel.rfind(prefix, 0) == 0) cache = value;
  }
  auto headers = [&](auto& res) {
    common_headers(res, x);
    res.set(http::field::content_type, type);
    res.set(http::field::etag, etag);
    res.set(http::field::cache_control, cache);
    res.set(http::field::accept_ranges, "bytes");
    if (selection.vary) res.set(http::field::vary, "Accept-Encoding");
    if (!selection.coding.empty()) res.set(http::field::content_encoding, selection.coding);
  };

  if (etag_matches(req[http::field::if_none_match], etag)) {
    http::response<http::empty_body> res{http::status::not_modified, req.version()};
    headers(res);
    return res;
  }

  ByteRange range;
  RangeParse parsed = RangeParse::kNone;
  const auto if_range = req[http::field::if_range];
  if (req.count(http::field::range) != 0 && (if_range.empty() || if_range == etag)) {
    parsed = parse_range(req[http::field::range], size, range);
  }
  if (parsed == RangeParse::kUnsatisfiable) {
    http::response<http::string_body> res{http::status::range_not_satisfiable, req.version()};
    headers(res);
    res.set(http::field::content_range, "bytes */" + std::to_string(size));
    res.prepare_payload();
    return res;
  }
  const bool head = req.method() == http::verb::head;
  if (parsed == RangeParse::kSatisfiable) {
    range.last = std::min(range.last, range.first + kMaxRangeBytes - 1);
    http::response<http::string_body> res{http::status::partial_content, req.version()};
    headers(res);
    res.set(http::field::content_range, "bytes " + std::to_string(range.first) + "-" +
                                            std::to_string(range.last) + "/" +
                                            std::to_string(size));
    if (!head && !read_range(path, range, res.body())) {
      return text(x, http::status::internal_server_error, "read failed\n");
    }
    res.content_length(range.last - range.first + 1);
    if (!head) metrics.static_bytes_by_path[rel] += res.body().size();
    return res;
  }
  if (head) {
    http::response<http::empty_body> res{http::status::ok, req.version()};
    headers(res);
    res.content_length(size);
    return res;
  }
  http::file_body::value_type body;
  boost::beast::error_code ec;
  body.open(path.c_str(), boost::beast::file_mode::scan, ec);
  if (ec) return text(x, http::status::not_found, "not found\n");
  http::response<http::file_body> res{std::piecewise_construct, std::make_tuple(std::move(body)),
                                      std::make_tuple(http::status::ok, req.version())};
  headers(res);
  res.prepare_payload();
  metrics.static_bytes_by_path[rel] += size;
  return res;
}

bool parse_u64(std::string_view s, uint64_t& out) {
  if (s.empty()) return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size();
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

RangeParse parse_range(std::string_view header, uint64_t size, ByteRange& out) {
  constexpr std::string_view kUnit = "bytes=";
  if (header.substr(0, kUnit.size()) != kUnit) return RangeParse::kNone;
  const std::string_view spec = header.substr(kUnit.size());
  if (spec.find(',') != std::string_view::npos) return RangeParse::kNone;
  const size_t dash = spec.find('-');
  if (dash == std::string_view::npos) return RangeParse::kNone;
  const std::string_view a = spec.substr(0, dash), b = spec.substr(dash + 1);
  uint64_t first = 0, last = 0;
  if (a.empty()) {  // suffix: the last b bytes
    uint64_t n = 0;
    if (!parse_u64(b, n)) return RangeParse::kNone;
    if (n == 0 || size == 0) return RangeParse::kUnsatisfiable;
    out = {n >= size ? 0 : size - n, size - 1};
    return RangeParse::kSatisfiable;
  }
  if (!parse_u64(a, first)) return RangeParse::kNone;
  if (b.empty()) {
    last = size == 0 ? 0 : size - 1;
  } else if (!parse_u64(b, last) || last < first) {
    return RangeParse::kNone;
  }
  if (first >= size) return RangeParse::kUnsatisfiable;
  out = {first, std::min(last, size - 1)};
  return RangeParse::kSatisfiable;
}

bool safe_path(std::string_view target, std::string& out) {
  target = target.substr(0, target.find('?'));
  if (target.empty() || target[0] != '/') return false;
  out.clear();
  for (size_t i = 0; i < target.size(); ++i) {
    char c = target[i];
    if (c == '%') {
      if (i + 2 >= target.size()) return false;
      const int hi = hex_digit(target[i + 1]), lo = hex_digit(target[i + 2]);
      if (hi < 0 || lo < 0) return false;
      c = static_cast<char>(hi * 16 + lo);
      i += 2;
    }
    if (c == '\0' || c == '\\') return false;
    out.push_back(c);
  }
  // No segment may be "..": checked after decoding, so "%2e%2e" is caught too.
  size_t start = 0;
  while (start <= out.size()) {
    const size_t end = std::min(out.find('/', start), out.size());
    if (out.compare(start, end - start, "..") == 0) return false;
    start = end + 1;
  }
  return true;
}

std::string_view mime_type(std::string_view path) {
  const size_t dot = path.rfind('.');
  const std::string_view ext = dot == std::string_view::npos ? "" : path.substr(dot + 1);
  struct Entry {
    std::string_view ext, type;
  };
  static constexpr Entry kTypes[] = {
      {"html", "text/html; charset=utf-8"},
      {"htm", "text/html; charset=utf-8"},
      {"js", "text/javascript; charset=utf-8"},
      {"mjs", "text/javascript; charset=utf-8"},
      {"css", "text/css; charset=utf-8"},
      {"json", "application/json"},
      {"wasm", "application/wasm"},
      {"map", "application/json"},
      {"txt", "text/plain; charset=utf-8"},
      {"xml", "application/xml"},
      {"png", "image/png"},
      {"jpg", "image/jpeg"},
      {"jpeg", "image/jpeg"},
      {"gif", "image/gif"},
      {"svg", "image/svg+xml"},
      {"webp", "image/webp"},
      {"avif", "image/avif"},
      {"ico", "image/x-icon"},
      {"mp4", "video/mp4"},
      {"webm", "video/webm"},
      {"m3u8", "application/vnd.apple.mpegurl"},
      {"ts", "video/mp2t"},
      {"woff", "font/woff"},
      {"woff2", "font/woff2"},
      {"ttf", "font/ttf"},
      {"otf", "font/otf"},
  };
  for (const auto& e : kTypes) {
    if (e.ext.size() == ext.size() &&
        std::equal(ext.begin(), ext.end(), e.ext.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) == b;
        })) {
      return e.type;
    }
  }
  return "application/octet-stream";
}

http::message_generator answer_http(const HttpRequest& req, bool keep_alive,
                                    const ServerConfig& config, Metrics& metrics,
                                    http::status& status) {
  ++metrics.http_requests;
  const Exchange x{req, keep_alive, status};
  const std::string_view target = req.target();
  const std::string_view path = target.substr(0, target.find('?'));
  if (path == "/healthz") return text(x, http::status::ok, "ok\n");
  if (path == "/signal") return upgrade_required(x);
  if (path == "/metrics") {
    return text(x, http::status::ok, metrics.prometheus_text(),
                "text/plain; version=0.0.4; charset=utf-8");
  }
  return static_file(x, config, metrics);
}

}  // namespace p2pcdn::server

#include "page_references.hpp"

#include <algorithm>
#include <cctype>
#include <optional>
#include <utility>

namespace p2pcdn::server {
namespace {

// A linear scan, not std::regex: libstdc++'s regex recurses once per character matched and
// overflows the stack on a long inline value (a data: image of a few MB).

using Found = std::vector<std::pair<size_t, std::string_view>>;  // position, reference

bool space(char c) {
  return std::isspace(static_cast<unsigned char>(c)) != 0;
}

size_t skip_space(std::string_view t, size_t at) {
  while (at < t.size() && space(t[at])) ++at;
  return at;
}

bool equals_icase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == y;
         });
}

// `word` must be lower case.
size_t find_icase(std::string_view t, std::string_view word, size_t from) {
  for (size_t at = from; at + word.size() <= t.size(); ++at) {
    if (equals_icase(t.substr(at, word.size()), word)) return at;
  }
  return std::string_view::npos;
}

// The quoted value opening at `at`; `at` moves past its closing quote.
std::optional<std::string_view> quoted(std::string_view t, size_t& at) {
  if (at >= t.size() || (t[at] != '"' && t[at] != '\'')) return std::nullopt;
  const size_t end = t.find(t[at], at + 1);
  if (end == std::string_view::npos) return std::nullopt;
  const std::string_view value = t.substr(at + 1, end - at - 1);
  at = end + 1;
  return value;
}

// "a.jpg 1x, b.jpg 2x" -> a.jpg, b.jpg
void srcset_candidates(size_t at, std::string_view value, Found& out) {
  size_t i = 0;
  while (i < value.size()) {
    i = skip_space(value, i);
    size_t end = i;
    while (end < value.size() && !space(value[end]) && value[end] != ',') ++end;
    if (end > i) out.emplace_back(at + i, value.substr(i, end - i));
    const size_t comma = value.find(',', end);
    if (comma == std::string_view::npos) break;
    i = comma + 1;
  }
}

// src="..", href="..", poster="..", srcset="..": attribute values that name a fetched file;
// and data-p2pcdn="..", the script p2pcdn's inline loader adds (js_glue/loader.js), so that a
// page with the loader is known to run p2pcdn as one with its tag is.
// href also names links to other pages; the caller keeps what is a resource.
void attribute_values(std::string_view t, Found& out) {
  for (size_t eq = t.find('='); eq != std::string_view::npos; eq = t.find('=', eq + 1)) {
    size_t name_end = eq;
    while (name_end > 0 && space(t[name_end - 1])) --name_end;
    size_t name_start = name_end;
    while (name_start > 0 && (std::isalnum(static_cast<unsigned char>(t[name_start - 1])) ||
                              t[name_start - 1] == '-')) {
      --name_start;
    }
    const std::string_view name = t.substr(name_start, name_end - name_start);
    const bool srcset = equals_icase(name, "srcset");
    if (!srcset && !equals_icase(name, "src") && !equals_icase(name, "href") &&
        !equals_icase(name, "poster") && !equals_icase(name, "data-p2pcdn")) {
      continue;
    }
    size_t at = skip_space(t, eq + 1);
    const size_t value_at = at + 1;
    const auto value = quoted(t, at);
    if (!value) continue;
    if (srcset) {
      srcset_candidates(value_at, *value, out);
    } else {
      out.emplace_back(value_at, *value);
    }
    eq = at - 1;
  }
}

// url(..) with or without quotes, and @import "..".
void css_references(std::string_view t, Found& out) {
  for (size_t at = find_icase(t, "url(", 0); at != std::string_view::npos;
       at = find_icase(t, "url(", at + 1)) {
    size_t v = skip_space(t, at + 4);
    if (auto value = quoted(t, v)) {
      out.emplace_back(at, *value);
      continue;
    }
    const size_t close = t.find(')', v);
    if (close == std::string_view::npos) break;
    size_t end = close;
    while (end > v && space(t[end - 1])) --end;
    out.emplace_back(at, t.substr(v, end - v));
  }
  for (size_t at = find_icase(t, "@import", 0); at != std::string_view::npos;
       at = find_icase(t, "@import", at + 1)) {
    size_t v = skip_space(t, at + 7);
    if (auto value = quoted(t, v)) out.emplace_back(at, *value);
  }
}

}  // namespace

std::string resolve_site_path(std::string_view reference, std::string_view file_path) {
  std::string ref(reference.substr(0, reference.find_first_of("?#")));
  if (ref.empty() || ref.rfind("//", 0) == 0) return {};
  const size_t colon = ref.find(':');
  if (colon != std::string::npos && ref.find('/') > colon) return {};  // scheme: another site
  std::string joined;
  if (ref[0] == '/') {
    joined = ref;
  } else {
    const size_t slash = file_path.rfind('/');
    joined = std::string(file_path.substr(0, slash == file_path.npos ? 0 : slash)) + "/" + ref;
  }
  std::vector<std::string> segments;
  size_t at = 1;
  while (at <= joined.size()) {
    size_t next = joined.find('/', at);
    if (next == std::string::npos) next = joined.size();
    const std::string segment = joined.substr(at, next - at);
    if (segment == "..") {
      if (!segments.empty()) segments.pop_back();
    } else if (segment != "." && !(segment.empty() && next != joined.size())) {
      segments.push_back(segment);
    }
    at = next + 1;
  }
  std::string path;
  for (const auto& s : segments) path += "/" + s;
  return path.empty() ? "/" : path;
}

std::vector<std::string> page_references(std::string_view text, std::string_view file_path) {
  Found found;
  attribute_values(text, found);
  css_references(text, found);
  std::stable_sort(found.begin(), found.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::string> paths;
  for (const auto& [at, reference] : found) {
    std::string path = resolve_site_path(reference, file_path);
    if (!path.empty()) paths.push_back(std::move(path));
  }
  return paths;
}

}  // namespace p2pcdn::server

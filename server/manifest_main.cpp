// p2pcdn-manifest: hashes every file under a web root and writes the manifest the service
// worker trusts: URL path -> size, SHA-256 (SRI form), content type; plus the manifest's own
// content hash, which names the deploy (a new deploy makes old cached copies unservable).
#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <vector>

#include "http_routes.hpp"
#include "p2pcdn/sha256.hpp"
#include "page_references.hpp"

namespace fs = std::filesystem;
using namespace p2pcdn;

namespace {

struct Entry {
  uint64_t size = 0;
  std::string integrity;
};

bool hash_file(const fs::path& path, Entry& entry) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  Sha256 hash;
  std::vector<char> buffer(1 << 20);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    const auto n = static_cast<size_t>(in.gcount());
    hash.update(ByteView(reinterpret_cast<const uint8_t*>(buffer.data()), n));
    entry.size += n;
  }
  if (in.bad()) return false;
  entry.integrity = to_sri(hash.finish());
  return true;
}

bool hidden(const fs::path& rel) {
  for (const auto& part : rel) {
    if (!part.empty() && part.string()[0] == '.') return true;
  }
  return false;
}

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Per HTML page, the manifest files it will ask for: what it names, and what its stylesheets
// name in turn, in order of first mention. Links to other pages are not resources.
class PageResources {
 public:
  PageResources(const fs::path& root, const std::map<std::string, Entry>& entries)
      : root_(root), entries_(entries) {}

  boost::json::object pages() {
    boost::json::object pages;
    for (const auto& [path, entry] : entries_) {
      if (!ends_with(path, ".html") || entry.size > kMaxScannedBytes) continue;
      std::vector<std::string> resources;
      std::set<std::string> seen{path};
      collect(path, resources, seen);
      boost::json::array list;
      for (const auto& r : resources) list.emplace_back(r);
      pages[path] = std::move(list);
    }
    return pages;
  }

 private:
  static constexpr uint64_t kMaxScannedBytes = 4 << 20;

  void collect(const std::string& path, std::vector<std::string>& out,
               std::set<std::string>& seen) {
    for (const auto& ref : references(path)) {
      const auto it = entries_.find(ref);
      if (it == entries_.end() || ends_with(ref, ".html") || !seen.insert(ref).second) continue;
      out.push_back(ref);
      if (ends_with(ref, ".css") && it->second.size <= kMaxScannedBytes) collect(ref, out, seen);
    }
  }

  // Read once per file: every page names the same stylesheets.
  const std::vector<std::string>& references(const std::string& path) {
    auto it = references_.find(path);
    if (it == references_.end()) {
      it = references_
               .emplace(path, server::page_references(read_text(root_ / path.substr(1)), path))
               .first;
    }
    return it->second;
  }

  const fs::path& root_;
  const std::map<std::string, Entry>& entries_;
  std::map<std::string, std::vector<std::string>> references_;
};

// "x.gz" beside "x" is how p2pcdn-server sends x to clients that take gzip: the same
// resource, not another one.
bool precompressed_sibling(const fs::path& path) {
  std::error_code ec;
  return path.extension() == ".gz" && fs::is_regular_file(fs::path(path).replace_extension(), ec);
}

int usage() {
  std::cerr << "usage: p2pcdn-manifest ROOT [--out FILE]\n"
               "  Hashes every file under ROOT and writes the manifest as JSON to FILE\n"
               "  (default: stdout). Left out: hidden files, FILE, and \"x.gz\" beside \"x\"\n"
               "  (a precompressed copy p2pcdn-server sends to clients that take gzip).\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::string(argv[1]) == "--help") return argc < 2 ? usage() : (usage(), 0);
  const fs::path root = argv[1];
  std::string out_path;
  for (int i = 2; i < argc; ++i) {
    if (std::string(argv[i]) == "--out" && i + 1 < argc) {
      out_path = argv[++i];
    } else {
      return usage();
    }
  }
  std::error_code ec;
  if (!fs::is_directory(root, ec)) {
    std::cerr << "p2pcdn-manifest: " << root << " is not a folder\n";
    return 1;
  }
  const fs::path out_abs = out_path.empty() ? fs::path() : fs::weakly_canonical(out_path, ec);
  std::map<std::string, Entry> entries;  // sorted: the content hash is independent of walk order
  for (auto it = fs::recursive_directory_iterator(root, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file()) continue;
    const fs::path rel = fs::relative(it->path(), root);
    if (hidden(rel) || (!out_abs.empty() && fs::weakly_canonical(it->path()) == out_abs)) continue;
    if (precompressed_sibling(it->path())) continue;
    Entry entry;
    if (!hash_file(it->path(), entry)) {
      std::cerr << "p2pcdn-manifest: cannot read " << it->path() << '\n';
      return 1;
    }
    entries.emplace("/" + rel.generic_string(), entry);
  }
  if (ec) {
    std::cerr << "p2pcdn-manifest: " << ec.message() << '\n';
    return 1;
  }
  Sha256 listing;
  boost::json::object files;
  for (const auto& [path, entry] : entries) {
    const std::string line = path + ' ' + std::to_string(entry.size) + ' ' + entry.integrity + '\n';
    listing.update(ByteView::of(line));
    files[path] = {{"size", entry.size},
                   {"integrity", entry.integrity},
                   {"type", std::string(server::mime_type(path))}};
  }
  const boost::json::object manifest{{"version", 1},
                                     {"contentHash", to_sri(listing.finish())},
                                     {"files", files},
                                     {"pages", PageResources(root, entries).pages()}};
  const std::string text = boost::json::serialize(manifest) + "\n";
  if (out_path.empty()) {
    std::cout << text;
    return 0;
  }
  std::ofstream out(out_path, std::ios::binary);
  out << text;
  if (!out) {
    std::cerr << "p2pcdn-manifest: cannot write " << out_path << '\n';
    return 1;
  }
  std::cerr << "p2pcdn-manifest: " << entries.size() << " files, " << out_path << '\n';
  return 0;
}

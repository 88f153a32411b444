// p2pcdn-manifest: hashes every file under a web root and writes the manifest the service
// worker trusts: URL path -> size, SHA-256 (SRI form), content type, and for large files the
// SHA-256 of each piece; plus the manifest's own content hash, which names the deploy (a new
// deploy makes old cached copies unservable).
#include <boost/json.hpp>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <vector>

#include "http_routes.hpp"
#include "p2pcdn/sha256.hpp"
#include "page_references.hpp"
#include "piece_hasher.hpp"

namespace fs = std::filesystem;
using namespace p2pcdn;

namespace {

struct Entry {
  uint64_t size = 0;
  std::string integrity;
  uint64_t piece_size = 0;   // 0: not cut into pieces
  std::string piece_hashes;  // server::concatenated_base64 of the piece digests
};

// Reads the file once, in blocks (files can be several GB), for both the whole-file digest
// and the piece digests. Returns why it failed, or nothing.
std::optional<std::string> hash_file(const fs::path& path, const server::PiecePolicy& policy,
                                     Entry& entry) {
  std::error_code ec;
  const uint64_t expected_size = fs::file_size(path, ec);
  std::ifstream in(path, std::ios::binary);
  if (ec || !in) return "cannot read";
  const uint64_t piece_size = policy.piece_size_for(expected_size);
  server::PieceHasher hasher(piece_size);
  std::vector<char> buffer(1 << 20);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    hasher.update(ByteView(reinterpret_cast<const uint8_t*>(buffer.data()),
                           static_cast<size_t>(in.gcount())));
  }
  if (in.bad()) return "cannot read";
  const server::FileDigests digests = hasher.finish();
  // The piece size was chosen for the size before reading: pieces of a file that grew or
  // shrank meanwhile may break the threshold or the automatic size's piece count.
  if (digests.size != expected_size) return "size changed while reading";
  entry.size = digests.size;
  entry.integrity = to_sri(digests.whole);
  entry.piece_size = piece_size;
  if (piece_size != 0) entry.piece_hashes = server::concatenated_base64(digests.pieces);
  return std::nullopt;
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

// "x.gz" or "x.br" beside "x" is how p2pcdn-server sends x to clients that take gzip or
// brotli: the same resource, not another one.
bool precompressed_sibling(const fs::path& path) {
  std::error_code ec;
  const fs::path ext = path.extension();
  return (ext == ".gz" || ext == ".br") &&
         fs::is_regular_file(fs::path(path).replace_extension(), ec);
}

int usage() {
  std::cerr
      << "usage: p2pcdn-manifest ROOT [--out FILE] [--piece-threshold BYTES] [--piece-size BYTES]\n"
         "       p2pcdn-manifest --version\n"
         "  Hashes every file under ROOT and writes the manifest as JSON to FILE\n"
         "  (default: stdout). Left out: hidden files, FILE, and \"x.gz\" or \"x.br\"\n"
         "  beside \"x\" (precompressed copies p2pcdn-server sends to clients that take\n"
         "  gzip or brotli).\n"
         "  --piece-threshold BYTES  files larger than this also get the SHA-256 of each\n"
         "                           piece, so browsers can check pieces from several peers\n"
         "                           as they arrive (default 1048576; 0: every non-empty file)\n"
         "  --piece-size BYTES       size of those pieces: a power of two from 16384 to\n"
         "                           67108864 (default: the smallest from 262144 up that\n"
         "                           makes at most 1024 pieces of the file)\n";
  return 2;
}

std::optional<uint64_t> parse_bytes(std::string_view text) {
  uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

struct Options {
  fs::path root;
  std::string out_path;
  server::PiecePolicy pieces;
};

// Returns the exit code when the tool should stop here (--help, a bad argument).
std::optional<int> parse_options(int argc, char** argv, Options& options) {
  if (argc < 2) return usage();
  if (std::string(argv[1]) == "--help") return (usage(), 0);
  if (std::string(argv[1]) == "--version") {
    std::cout << "p2pcdn-manifest " P2PCDN_VERSION "\n";
    return 0;
  }
  options.root = argv[1];
  for (int i = 2; i < argc; ++i) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) return usage();
    const std::string value = argv[++i];
    if (flag == "--out") {
      options.out_path = value;
    } else if (flag == "--piece-threshold") {
      const auto bytes = parse_bytes(value);
      if (!bytes) {
        std::cerr << "p2pcdn-manifest: --piece-threshold takes a number of bytes, not \"" << value
                  << "\"\n";
        return 2;
      }
      options.pieces.threshold = *bytes;
    } else if (flag == "--piece-size") {
      const auto bytes = parse_bytes(value);
      if (!bytes || !server::is_valid_piece_size(*bytes)) {
        std::cerr << "p2pcdn-manifest: --piece-size must be a power of two from "
                  << server::kMinPieceSize << " to " << server::kMaxPieceSize << " bytes, not \""
                  << value << "\"\n";
        return 2;
      }
      options.pieces.piece_size = *bytes;
    } else {
      return usage();
    }
  }
  return std::nullopt;
}

// Every file to list, hashed, by site path; sorted, so the content hash is independent of
// walk order. Returns false after saying why on stderr.
bool collect_entries(const Options& options, std::map<std::string, Entry>& entries) {
  std::error_code ec;
  const fs::path out_abs =
      options.out_path.empty() ? fs::path() : fs::weakly_canonical(options.out_path, ec);
  for (auto it = fs::recursive_directory_iterator(options.root, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    // Exactly what the throwing status() would throw for (a symlink loop, say); a dangling
    // link is just not a file.
    std::error_code status_ec;
    const fs::file_status status = it->status(status_ec);
    if (!fs::status_known(status)) {
      std::cerr << "p2pcdn-manifest: skipped " << it->path() << ": " << status_ec.message() << '\n';
      continue;
    }
    if (!fs::is_regular_file(status)) continue;
    const fs::path rel = fs::relative(it->path(), options.root);
    if (hidden(rel) || (!out_abs.empty() && fs::weakly_canonical(it->path()) == out_abs)) continue;
    if (precompressed_sibling(it->path())) continue;
    Entry entry;
    if (const auto error = hash_file(it->path(), options.pieces, entry)) {
      std::cerr << "p2pcdn-manifest: " << *error << ' ' << it->path() << '\n';
      return false;
    }
    entries.emplace("/" + rel.generic_string(), entry);
  }
  if (ec) {
    std::cerr << "p2pcdn-manifest: " << ec.message() << '\n';
    return false;
  }
  return true;
}

boost::json::object file_json(const std::string& path, const Entry& entry) {
  boost::json::object file{{"size", entry.size},
                           {"integrity", entry.integrity},
                           {"type", std::string(server::mime_type(path))}};
  if (entry.piece_size != 0) {
    file["pieces"] =
        boost::json::object{{"size", entry.piece_size}, {"hashes", entry.piece_hashes}};
  }
  return file;
}

boost::json::object manifest_json(const fs::path& root,
                                  const std::map<std::string, Entry>& entries) {
  Sha256 listing;
  boost::json::object files;
  for (const auto& [path, entry] : entries) {
    const std::string line = path + ' ' + std::to_string(entry.size) + ' ' + entry.integrity + '\n';
    listing.update(ByteView::of(line));
    files[path] = file_json(path, entry);
  }
  return {{"version", 1},
          {"contentHash", to_sri(listing.finish())},
          {"files", files},
          {"pages", PageResources(root, entries).pages()}};
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  if (const auto exit_code = parse_options(argc, argv, options)) return *exit_code;
  std::error_code ec;
  if (!fs::is_directory(options.root, ec)) {
    std::cerr << "p2pcdn-manifest: " << options.root << " is not a folder\n";
    return 1;
  }
  std::map<std::string, Entry> entries;
  if (!collect_entries(options, entries)) return 1;
  const std::string text = boost::json::serialize(manifest_json(options.root, entries)) + "\n";
  if (options.out_path.empty()) {
    std::cout << text;
    return 0;
  }
  std::ofstream out(options.out_path, std::ios::binary);
  out << text;
  if (!out) {
    std::cerr << "p2pcdn-manifest: cannot write " << options.out_path << '\n';
    return 1;
  }
  std::cerr << "p2pcdn-manifest: " << entries.size() << " files, " << options.out_path << '\n';
  return 0;
}

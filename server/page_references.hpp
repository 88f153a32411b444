// What a page will ask for: the subresources an HTML page or a stylesheet names (src, href,
// srcset and poster attributes; CSS url() and @import), as site paths. The manifest lists
// them per page so a visitor can fetch the next page's resources from peers before it
// navigates there.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace p2pcdn::server {

// The references in `text` (HTML or CSS), resolved against `file_path` (a site path such as
// "/docs/index.html"). Same-site relative and root-relative references only: absolute URLs,
// data: and protocol-relative ones name no file of this site. Query and fragment dropped.
std::vector<std::string> page_references(std::string_view text, std::string_view file_path);

// `reference` resolved against the folder of `file_path`, with "." and ".." segments removed;
// empty if it does not name a path of this site.
std::string resolve_site_path(std::string_view reference, std::string_view file_path);

}  // namespace p2pcdn::server

#include "page_references.hpp"

#include <gtest/gtest.h>

using p2pcdn::server::page_references;
using p2pcdn::server::resolve_site_path;
using Paths = std::vector<std::string>;

TEST(ResolveSitePath, RelativeRootRelativeAndDotSegments) {
  EXPECT_EQ(resolve_site_path("img/a.jpg", "/docs/index.html"), "/docs/img/a.jpg");
  EXPECT_EQ(resolve_site_path("/img/a.jpg", "/docs/index.html"), "/img/a.jpg");
  EXPECT_EQ(resolve_site_path("../fonts/x.woff2", "/assets/css/site.css"), "/assets/fonts/x.woff2");
  EXPECT_EQ(resolve_site_path("./a.png?v=3#top", "/p.html"), "/a.png");
  EXPECT_EQ(resolve_site_path("../../../../a.png", "/x/p.html"), "/a.png");  // never above the root
}

TEST(ResolveSitePath, OtherSitesAndNonFilesAreNotPaths) {
  EXPECT_EQ(resolve_site_path("https://cdn.example/a.js", "/p.html"), "");
  EXPECT_EQ(resolve_site_path("//cdn.example/a.js", "/p.html"), "");
  EXPECT_EQ(resolve_site_path("data:image/png;base64,AAAA", "/p.html"), "");
  EXPECT_EQ(resolve_site_path("mailto:a@b.c", "/p.html"), "");
  EXPECT_EQ(resolve_site_path("#section", "/p.html"), "");
  EXPECT_EQ(resolve_site_path("", "/p.html"), "");
}

TEST(PageReferences, HtmlAttributes) {
  const std::string html = R"(<link rel="stylesheet" href="/site.css">
    <img SRC='img/a.jpg' alt="a"><video poster="v.jpg"><source src="v.mp4"></video>
    <img srcset="s-1x.jpg 1x, s-2x.jpg 2x" data-x="1"><a href="other.html">x</a>
    <script src="https://cdn.example/lib.js"></script>)";
  EXPECT_EQ(page_references(html, "/sub/page.html"),
            (Paths{"/site.css", "/sub/img/a.jpg", "/sub/v.jpg", "/sub/v.mp4", "/sub/s-1x.jpg",
                   "/sub/s-2x.jpg", "/sub/other.html"}));
}

// p2pcdn's inline loader names the script it adds in data-p2pcdn; other data- attributes (a
// lazy loader's data-src) are not what the page asks for as it loads.
TEST(PageReferences, TheInlineLoadersScript) {
  const std::string html = R"(<script data-p2pcdn="/p2pcdn/p2pcdn.js" data-sw="/sw.js">(0)</script>
    <img data-src="lazy.jpg" src="a.jpg">)";
  EXPECT_EQ(page_references(html, "/index.html"), (Paths{"/p2pcdn/p2pcdn.js", "/a.jpg"}));
}

TEST(PageReferences, CssUrlsAndImports) {
  const std::string css = R"(@import "base.css"; @import 'print.css';
    .hero { background: url(../img/hero.jpg) } .b { background-image: url( "b.png" ) }
    @font-face { src: url('/fonts/x.woff2') format("woff2") } .d { background: url(data:image/gif;base64,R0) })";
  EXPECT_EQ(page_references(css, "/assets/site.css"),
            (Paths{"/assets/base.css", "/assets/print.css", "/img/hero.jpg", "/assets/b.png",
                   "/fonts/x.woff2"}));
}

TEST(PageReferences, GarbageYieldsNothingAndNeverThrows) {
  EXPECT_TRUE(page_references("src=\"", "/p.html").empty());
  EXPECT_TRUE(page_references("url(", "/p.html").empty());
  EXPECT_TRUE(page_references(std::string(10000, '<'), "/p.html").empty());
}

TEST(PageReferences, HugeInlineValuesDoNotExhaustTheStack) {
  const std::string inline_image = "<img src=\"data:image/png;base64," + std::string(4 << 20, 'A') +
                                   "\"><img src=\"a.png\"><div style=\"background:url(" +
                                   std::string(1 << 20, 'B') + ")\">";
  EXPECT_EQ(page_references(inline_image, "/p.html"),
            (Paths{"/a.png", "/" + std::string(1 << 20, 'B')}));
}

#include "http/static_files.h"

#include <array>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string_view>

namespace caliper::http {
namespace {

namespace fs = std::filesystem;

struct MediaType {
  std::string_view extension;
  std::string_view content_type;
};

// What the built app consists of. Anything else under the root is not served.
constexpr std::array kMediaTypes = {
    MediaType{".html", "text/html; charset=utf-8"},
    MediaType{".js", "text/javascript; charset=utf-8"},
    MediaType{".mjs", "text/javascript; charset=utf-8"},
    MediaType{".css", "text/css; charset=utf-8"},
    MediaType{".json", "application/json"},
    MediaType{".svg", "image/svg+xml"},
    MediaType{".png", "image/png"},
    MediaType{".ico", "image/x-icon"},
    MediaType{".woff2", "font/woff2"},
    MediaType{".wasm", "application/wasm"},
    MediaType{".txt", "text/plain; charset=utf-8"},
};

constexpr std::string_view kNotBuiltPage = R"(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Caliper</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><main><h1>Caliper</h1>
<p>The server is running, but the web app is not built. Build it with
<code>scripts/bootstrap.sh build</code> (or <code>npm ci &amp;&amp; npm run build</code> in
<code>web/</code>), or point the <code>web.root</code> setting at a built copy. The JSON API is
under <code>/api/v1</code> (OpenAPI: <a href="/api/v1/openapi.json">/api/v1/openapi.json</a>).</p>
</main></body></html>
)";

const MediaType* MediaTypeOf(std::string_view name) {
  for (const auto& m : kMediaTypes) {
    if (name.size() > m.extension.size() && name.substr(name.size() - m.extension.size()) == m.extension) return &m;
  }
  return nullptr;
}

void NotFound(httplib::Response& res) {
  res.status = 404;
  res.set_content(R"({"error":{"code":"not_found","message":"no such file"}})", "application/json");
}

// True when every segment of `path` is a plain name: no "", ".", "..", hidden files or
// backslashes (a path that could mean something else on another platform).
bool PlainSegments(const std::string& path) {
  if (path.find('\\') != std::string::npos || path.find('\0') != std::string::npos) return false;
  std::size_t start = 1;
  while (start < path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    std::string_view segment(path.data() + start, end - start);
    if (segment.empty() || segment.front() == '.') return false;
    start = end + 1;
  }
  return true;
}

}  // namespace

StaticFiles::StaticFiles(std::string root) : root_(std::move(root)) {
  std::error_code ec;
  fs::path canonical = fs::canonical(root_, ec);
  if (!ec) root_ = canonical.string();
}

void StaticFiles::Serve(const std::string& path, httplib::Response& res) const {
  std::error_code ec;
  const fs::path index = fs::path(root_) / "index.html";
  if (!fs::is_regular_file(index, ec)) {
    res.status = 200;
    res.set_header("Cache-Control", "no-cache");
    res.set_content(std::string(kNotBuiltPage), "text/html; charset=utf-8");
    return;
  }
  if (path.empty() || path.front() != '/' || !PlainSegments(path)) return NotFound(res);
  std::string relative = path.substr(1);
  if (relative.empty() || relative.back() == '/') relative += "index.html";
  const std::string last = relative.substr(relative.rfind('/') + 1);
  const MediaType* media = MediaTypeOf(last);
  fs::path file;
  if (media == nullptr) {
    // An app route (no extension): the single-page app decides what it shows.
    if (last.find('.') != std::string::npos) return NotFound(res);
    file = index;
    media = MediaTypeOf("index.html");
  } else {
    file = fs::canonical(fs::path(root_) / relative, ec);
    // Symlinks may not lead out of the root.
    if (ec || file.string().rfind(root_ + "/", 0) != 0 || !fs::is_regular_file(file, ec)) return NotFound(res);
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) return NotFound(res);
  std::ostringstream body;
  body << in.rdbuf();
  res.status = 200;
  const bool hashed = relative.rfind("assets/", 0) == 0;
  res.set_header("Cache-Control", hashed ? "public, max-age=31536000, immutable" : "no-cache");
  res.set_content(body.str(), std::string(media->content_type));
}

}  // namespace caliper::http

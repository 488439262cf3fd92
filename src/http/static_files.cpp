#include "http/static_files.h"

#include <array>
#include <filesystem>
#include <fstream>
#include <span>
#include <sstream>
#include <string_view>

#include "caliper/ingest/nifti_io.h"
#include "http/encoding.h"

namespace caliper::http {
namespace {

namespace fs = std::filesystem;

struct MediaType {
  std::string_view extension;
  std::string_view content_type;
  bool text = false;  // worth gzipping
};

// What the built app consists of. Anything else under the root is not served.
constexpr std::array kMediaTypes = {
    MediaType{".html", "text/html; charset=utf-8", true},
    MediaType{".js", "text/javascript; charset=utf-8", true},
    MediaType{".mjs", "text/javascript; charset=utf-8", true},
    MediaType{".css", "text/css; charset=utf-8", true},
    MediaType{".json", "application/json", true},
    MediaType{".svg", "image/svg+xml", true},
    MediaType{".png", "image/png"},
    MediaType{".ico", "image/x-icon"},
    MediaType{".woff2", "font/woff2"},
    MediaType{".wasm", "application/wasm", true},
    MediaType{".txt", "text/plain; charset=utf-8", true},
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

std::shared_ptr<const std::string> StaticFiles::GzipOf(const fs::path& file, const std::string& content) const {
  std::error_code ec;
  const auto modified = fs::last_write_time(file, ec);
  if (ec) return nullptr;
  const std::string key = file.string();
  {
    std::lock_guard lock(mu_);
    auto it = gzipped_.find(key);
    if (it != gzipped_.end() && it->second.size == content.size() && it->second.modified == modified) {
      return it->second.bytes;
    }
  }
  auto gz = ingest::Gzip({reinterpret_cast<const std::uint8_t*>(content.data()), content.size()});
  if (!gz.ok()) return nullptr;  // then the file goes as it is
  auto bytes = std::make_shared<const std::string>(gz->begin(), gz->end());
  std::lock_guard lock(mu_);
  gzipped_[key] = Gzipped{content.size(), modified, bytes};
  return bytes;
}

void StaticFiles::Serve(const std::string& path, httplib::Response& res, std::string_view accept_encoding) const {
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
  if (media->text) res.set_header("Vary", "Accept-Encoding");
  std::string content = body.str();
  if (media->text && AcceptsGzip(accept_encoding)) {
    if (auto gz = GzipOf(file, content)) {
      return SendBytes(res, gz, std::string(media->content_type), true);  // not compressed again
    }
  }
  res.set_content(std::move(content), std::string(media->content_type));
}

}  // namespace caliper::http

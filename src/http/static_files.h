#pragma once

// The web app's built files (web/dist), served to anyone: they hold no data, and every /api
// call they make is authenticated like any other. Internal to http.

#include <httplib.h>

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

namespace caliper::http {

// Serves files below a root folder. Thread-safe (the gzip cache is behind a mutex).
//
// Only regular files whose extension is on an allow-list are served, with that list's
// content type; dot-segments, hidden files, backslashes and symlinks that leave the root are
// 404s. A path whose last segment has no extension (an app route like /projects/x) gets
// index.html, so the single-page app can route it. Files under /assets/ carry a content hash in
// their names (Vite) and are cached for a year as immutable; everything else must be
// revalidated (no-cache), so a new build is picked up at once.
//
// Text files (html, js, css, json, svg, txt, wasm) go gzipped to a client whose Accept-Encoding
// names gzip, compressed once per file version and kept: cpp-httplib would otherwise compress
// each answer again with Brotli at its highest quality (the volume viewer's 900 KB chunk took
// 4.6 s a request on a loaded 2-core machine, docs/web.md).
class StaticFiles {
 public:
  // `root` may not exist (the app is not built): then every request gets a page saying how to
  // build it.
  explicit StaticFiles(std::string root);

  // Answers a GET/HEAD for `path` (already URL-decoded), `accept_encoding` being the request's
  // Accept-Encoding header. Always sets res.status and a body (or, gzipped, a content provider
  // of known length, which cpp-httplib sends as it is).
  void Serve(const std::string& path, httplib::Response& res, std::string_view accept_encoding = "") const;

  const std::string& root() const { return root_; }

 private:
  // A file's gzip, valid while the file keeps its size and modification time.
  struct Gzipped {
    std::uintmax_t size = 0;
    std::filesystem::file_time_type modified;
    std::shared_ptr<const std::string> bytes;
  };
  std::shared_ptr<const std::string> GzipOf(const std::filesystem::path& file, const std::string& content) const;

  std::string root_;  // canonical when it exists, else as given
  mutable std::mutex mu_;
  mutable std::map<std::string, Gzipped> gzipped_;  // by canonical path
};

}  // namespace caliper::http

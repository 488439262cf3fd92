#pragma once

// The web app's built files (web/dist), served to anyone: they hold no data, and every /api
// call they make is authenticated like any other. Internal to http.

#include <httplib.h>

#include <string>

namespace caliper::http {

// Serves files below a root folder. Thread-safe (no mutable state).
//
// Only regular files whose extension is on an allow-list are served, with that list's
// content type; dot-segments, hidden files, backslashes and symlinks that leave the root are
// 404s. A path whose last segment has no extension (an app route like /projects/x) gets
// index.html, so the single-page app can route it. Files under /assets/ carry a content hash in
// their names (Vite) and are cached for a year as immutable; everything else must be
// revalidated (no-cache), so a new build is picked up at once.
class StaticFiles {
 public:
  // `root` may not exist (the app is not built): then every request gets a page saying how to
  // build it.
  explicit StaticFiles(std::string root);

  // Answers a GET/HEAD for `path` (already URL-decoded). Always sets res.status and a body.
  void Serve(const std::string& path, httplib::Response& res) const;

  const std::string& root() const { return root_; }

 private:
  std::string root_;  // canonical when it exists, else as given
};

}  // namespace caliper::http

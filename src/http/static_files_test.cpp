// The web app's files: allow-listed types, the single-page-app fallback, caching, no way out
// of the root, and (through a real server) no authentication for files while /api still
// needs it.

#include "http/static_files.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "http/test_server.h"

namespace caliper::http {
namespace {

namespace fs = std::filesystem;

class StaticFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = fs::temp_directory_path() / ("caliper_static_test_" + std::to_string(::getpid()));
    fs::remove_all(base_);
    root_ = base_ / "dist";
    fs::create_directories(root_ / "assets");
    Write(root_ / "index.html", "<!doctype html><title>app</title>");
    Write(root_ / "assets" / "index-3f2a1b.js", "console.log(1)");
    Write(root_ / "assets" / "style-9c8d.css", "body{}");
    Write(root_ / "favicon.svg", "<svg/>");
    Write(root_ / "notes.db", "not for the web");
    Write(root_ / ".env", "SECRET=1");
    Write(base_ / "outside.js", "outside the root");
    fs::create_symlink(base_ / "outside.js", root_ / "assets" / "escape.js");
  }
  void TearDown() override { fs::remove_all(base_); }

  static void Write(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }

  httplib::Response Get(const std::string& path) const {
    httplib::Response res;
    StaticFiles(root_.string()).Serve(path, res);
    return res;
  }

  fs::path base_, root_;
};

TEST_F(StaticFilesTest, ServesIndexAndHashedAssetsWithTheirTypesAndCaching) {
  auto index = Get("/");
  EXPECT_EQ(index.status, 200);
  EXPECT_EQ(index.body, "<!doctype html><title>app</title>");
  EXPECT_EQ(index.get_header_value("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(index.get_header_value("Cache-Control"), "no-cache");

  auto js = Get("/assets/index-3f2a1b.js");
  EXPECT_EQ(js.status, 200);
  EXPECT_EQ(js.body, "console.log(1)");
  EXPECT_EQ(js.get_header_value("Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(js.get_header_value("Cache-Control"), "public, max-age=31536000, immutable");
  EXPECT_EQ(Get("/assets/style-9c8d.css").get_header_value("Content-Type"), "text/css; charset=utf-8");
  auto svg = Get("/favicon.svg");
  EXPECT_EQ(svg.get_header_value("Content-Type"), "image/svg+xml");
  EXPECT_EQ(svg.get_header_value("Cache-Control"), "no-cache");
}

TEST_F(StaticFilesTest, AppRoutesFallBackToIndex) {
  for (const char* path : {"/projects", "/projects/prj_01ABC/queue", "/admin/audit"}) {
    auto res = Get(path);
    EXPECT_EQ(res.status, 200) << path;
    EXPECT_EQ(res.body, "<!doctype html><title>app</title>") << path;
  }
  // A missing file with an extension is a 404, not the app.
  EXPECT_EQ(Get("/assets/missing-123.js").status, 404);
}

TEST_F(StaticFilesTest, RefusesWhatIsNotTheApp) {
  EXPECT_EQ(Get("/notes.db").status, 404);        // extension not on the allow-list
  EXPECT_EQ(Get("/.env").status, 404);            // hidden file
  EXPECT_EQ(Get("/../outside.js").status, 404);   // dot-segment
  EXPECT_EQ(Get("/assets/./index-3f2a1b.js").status, 404);
  EXPECT_EQ(Get("/assets//index-3f2a1b.js").status, 404);
  EXPECT_EQ(Get("/assets\\index-3f2a1b.js").status, 404);
  EXPECT_EQ(Get("/assets/escape.js").status, 404);  // symlink out of the root
  EXPECT_EQ(Get("relative.js").status, 404);
}

TEST_F(StaticFilesTest, SaysHowToBuildWhenTheAppIsMissing) {
  httplib::Response res;
  StaticFiles((base_ / "not-built").string()).Serve("/", res);
  EXPECT_EQ(res.status, 200);
  EXPECT_NE(res.body.find("npm run build"), std::string::npos);
}

TEST_F(StaticFilesTest, ServerServesFilesWithoutSignInButApiStillNeedsIt) {
  TestServer server;
  ServerOptions options;
  options.threads = 8;
  options.web_root = root_.string();
  Status started = server.Start("caliper_static_server_test", options);
  ASSERT_TRUE(started.ok()) << started.ToString();
  httplib::Client client("127.0.0.1", server.port());
  auto page = client.Get("/projects/prj_01ABC");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_EQ(page->body, "<!doctype html><title>app</title>");
  EXPECT_EQ(page->get_header_value("X-Content-Type-Options"), "nosniff");
  EXPECT_NE(page->get_header_value("Content-Security-Policy").find("default-src 'self'"), std::string::npos);
  EXPECT_EQ(page->get_header_value("X-Frame-Options"), "DENY");
  // Unknown API paths stay JSON errors, never the app; known ones still need a session.
  auto unknown = client.Get("/api/v1/nothing-here");
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 404);
  EXPECT_NE(unknown->body.find("\"not_found\""), std::string::npos);
  auto projects = client.Get("/api/v1/projects");
  ASSERT_TRUE(projects);
  EXPECT_EQ(projects->status, 401);
  // Files are read-only.
  auto post = client.Post("/index.html", "x", "text/plain");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 404);
}

}  // namespace
}  // namespace caliper::http

// The web app's files: allow-listed types, the single-page-app fallback, caching, gzip for
// clients that accept it, no way out of the root, and (through a real server) no
// authentication for files while /api still needs it (and the gzip sent as it is).

#include "http/static_files.h"
#include "http/encoding.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <unistd.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>

#include "http/test_server.h"

namespace caliper::http {
namespace {

namespace fs = std::filesystem;

// `bytes` when they are a gzip stream, inflated; else "(not gzip)".
std::string Gunzipped(const std::string& bytes) {
  if (bytes.size() < 2 || bytes[0] != '\x1f' || bytes[1] != '\x8b') return "(not gzip)";
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 16) != Z_OK) return "(zlib init failed)";
  std::string out(1 << 16, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  zs.avail_in = static_cast<uInt>(bytes.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  const int rc = inflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  inflateEnd(&zs);
  return rc == Z_STREAM_END ? out : "(corrupt gzip)";
}

// What a response's content provider sends (cpp-httplib asks for the rest until it has it all).
std::string Provided(const httplib::Response& res) {
  std::string out;
  httplib::DataSink sink;
  sink.write = [&](const char* data, std::size_t n) {
    out.append(data, n);
    return true;
  };
  while (out.size() < res.content_length_) {
    if (!res.content_provider_(out.size(), res.content_length_ - out.size(), sink)) break;
  }
  return out;
}

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

  httplib::Response Get(const std::string& path, std::string_view accept_encoding = "") const {
    httplib::Response res;
    StaticFiles(root_.string()).Serve(path, res, accept_encoding);
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

TEST_F(StaticFilesTest, GzipsTextFilesForClientsThatAcceptItOncePerVersion) {
  StaticFiles files(root_.string());
  auto get = [&](const std::string& path, std::string_view accept) {
    httplib::Response res;
    files.Serve(path, res, accept);
    return res;
  };
  auto js = get("/assets/index-3f2a1b.js", "gzip, deflate, br, zstd");
  EXPECT_EQ(js.status, 200);
  EXPECT_EQ(js.get_header_value("Content-Encoding"), "gzip");
  EXPECT_EQ(js.get_header_value("Vary"), "Accept-Encoding");
  EXPECT_EQ(js.get_header_value("Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(js.get_header_value("Cache-Control"), "public, max-age=31536000, immutable");
  EXPECT_TRUE(js.body.empty());
  EXPECT_EQ(Gunzipped(Provided(js)), "console.log(1)");
  // The app's routes get index.html gzipped as well.
  EXPECT_EQ(Gunzipped(Provided(get("/projects/prj_01ABC", "gzip"))), "<!doctype html><title>app</title>");
  // No gzip for a client that does not ask for it, refuses it, or only takes Brotli.
  for (std::string_view accept : {"", "identity", "br", "gzip;q=0", "gzip; q=0.0, br", "x-gzip-not"}) {
    auto plain = get("/assets/index-3f2a1b.js", accept);
    EXPECT_EQ(plain.get_header_value("Content-Encoding"), "") << accept;
    EXPECT_EQ(plain.body, "console.log(1)") << accept;
  }
  EXPECT_EQ(get("/assets/index-3f2a1b.js", "br;q=1, gzip;q=0.5").get_header_value("Content-Encoding"), "gzip");
  // A file changed on disk is compressed again, not served from the old gzip.
  Write(root_ / "index.html", "<!doctype html><title>app v2, a longer title</title>");
  EXPECT_EQ(Gunzipped(Provided(get("/", "gzip"))), "<!doctype html><title>app v2, a longer title</title>");
  // Binary types go as they are.
  Write(root_ / "logo.png", "\x89PNG");
  auto png = get("/logo.png", "gzip");
  EXPECT_EQ(png.get_header_value("Content-Encoding"), "");
  EXPECT_EQ(png.body, "\x89PNG");
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
  // A browser's Accept-Encoding gets the file gzipped once: cpp-httplib does not compress
  // it again (with Brotli, which the header also names).
  auto js = client.Get("/assets/index-3f2a1b.js", {{"Accept-Encoding", "gzip, deflate, br"}});
  ASSERT_TRUE(js);
  EXPECT_EQ(js->status, 200);
  EXPECT_EQ(js->get_header_value("Content-Encoding"), "gzip");
  // (the client may have inflated it already)
  EXPECT_EQ(js->body == "console.log(1)" ? js->body : Gunzipped(js->body), "console.log(1)");
  // Files are read-only.
  auto post = client.Post("/index.html", "x", "text/plain");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 404);
}

}  // namespace

// An API answer goes gzipped by us to a client that takes gzip, and as it is otherwise: never as
// a body cpp-httplib would compress with Brotli at quality 11 (docs/api.md, "Compression").
TEST(SendAnswerTest, JsonOfAKibibyteOrMoreIsGzippedOnlyForClientsThatTakeGzip) {
  std::string big = "{\"rows\":[";
  for (int i = 0; i < 200; ++i) big += std::string(i ? "," : "") + "{\"id\":\"itm_" + std::to_string(i) + "\"}";
  big += "]}";
  ASSERT_GE(big.size(), 1024u);
  auto send = [](const std::string& body, const std::string& type, std::string_view accept) {
    httplib::Response res;
    SendAnswer(res, body, type, accept);
    return res;
  };
  auto gz = send(big, "application/json", "gzip, deflate, br, zstd");
  EXPECT_EQ(gz.get_header_value("Content-Encoding"), "gzip");
  EXPECT_EQ(gz.get_header_value("Vary"), "Accept-Encoding");
  EXPECT_EQ(gz.get_header_value("Content-Type"), "application/json");
  EXPECT_TRUE(gz.body.empty()) << "a content provider of known length, which cpp-httplib does not compress";
  const std::string provided = Provided(gz);
  EXPECT_LT(provided.size(), big.size());
  EXPECT_EQ(Gunzipped(provided), big);
  for (std::string_view accept : {"", "br", "gzip;q=0", "identity"}) {
    auto plain = send(big, "application/json", accept);
    EXPECT_EQ(plain.get_header_value("Content-Encoding"), "") << accept;
    EXPECT_TRUE(plain.body.empty()) << accept;
    EXPECT_EQ(Provided(plain), big) << accept;
  }
  // Small answers and binary types go as they are, also to a client that takes gzip.
  EXPECT_EQ(send("{\"ok\":true}", "application/json", "gzip").get_header_value("Content-Encoding"), "");
  EXPECT_EQ(Provided(send("{\"ok\":true}", "application/json", "gzip")), "{\"ok\":true}");
  auto binary = send(std::string(4096, '\x7f'), "application/octet-stream", "gzip");
  EXPECT_EQ(binary.get_header_value("Content-Encoding"), "");
  EXPECT_EQ(binary.get_header_value("Vary"), "");
  EXPECT_EQ(Provided(binary), std::string(4096, '\x7f'));
}

}  // namespace caliper::http

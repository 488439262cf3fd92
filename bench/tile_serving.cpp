// caliper_bench_tiles: Deep Zoom tile serving over loopback HTTP (docs/pathology.md), cold and
// warm tile cache, against the peer: OpenSlide's own read_region + JPEG encoding of the same
// tiles (what a server without Caliper's stored pyramid would do per request).
//
// It ingests one slide (--slide, default $CALIPER_SAMPLE_DATA/wsi/CMU-1-Small-Region.svs) into
// a fresh deployment in a temporary directory, serves it in process on 127.0.0.1 (plain HTTP,
// the product's default server settings), signs a reader in (session cookie; the item assigned
// to them), opens a viewer session and has --clients threads, each with one keep-alive
// connection, fetch the tiles of the --levels highest Deep Zoom levels round-robin for
// --seconds. Every request takes the full path: session, RBAC, viewer-session check, tile.
//   cold  wsi.tile_cache_bytes = 0: every tile is read from the store and decrypted
//   warm  the default cache, primed with one pass over the tiles: every tile from memory
//   peer  the same tiles rendered by OpenSlide (read_region at the best level, averaged down)
//         and JPEG-encoded at Caliper's quality, in process on --clients threads, no HTTP
// Prints a table (tiles/s, p50, p99) with the ratios to the peer, then one JSON line per row.
// Exit 0 when every request succeeded, 1 when any failed, 2 when the setup failed.

#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "bench_support.h"
#include "caliper/app/app.h"
#include "caliper/common/config.h"
#include "caliper/common/sample_data.h"
#include "caliper/http/server.h"
#include "caliper/wsi/slide.h"

namespace caliper::bench {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using SteadyClock = std::chrono::steady_clock;

constexpr char kPassword[] = "tile-bench-passphrase-4c1e";

struct Flags {
  std::string slide;
  int clients = 4;
  int seconds = 5;
  int levels = 3;
};

Flags ParseFlags(int argc, char** argv) {
  Flags f;
  if (auto sample = SampleDataFile("wsi/CMU-1-Small-Region.svs")) f.slide = *sample;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) Die(a + " needs a value");
      return argv[++i];
    };
    if (a == "--slide") {
      f.slide = value();
    } else if (a == "--clients") {
      f.clients = std::max(1, std::atoi(value().c_str()));
    } else if (a == "--seconds") {
      f.seconds = std::max(1, std::atoi(value().c_str()));
    } else if (a == "--levels") {
      f.levels = std::max(1, std::atoi(value().c_str()));
    } else {
      std::cout << "usage: caliper_bench_tiles [--slide PATH ($CALIPER_SAMPLE_DATA/wsi/CMU-1-Small-Region.svs)]\n"
                   "                           [--clients N (4)] [--seconds S per row (5)] [--levels K (3)]\n";
      std::exit(a == "--help" || a == "-h" ? 0 : 2);
    }
  }
  if (f.slide.empty()) Die("no slide: give --slide PATH or set CALIPER_SAMPLE_DATA");
  return f;
}

struct Tile {
  int level;
  std::int64_t col, row;
};

// The tiles of the `levels` highest Deep Zoom levels, level by level, row by row.
std::vector<Tile> TilesOf(const wsi::DeepZoom& dz, int levels) {
  std::vector<Tile> out;
  for (int level = std::max(0, dz.levels - levels); level < dz.levels; ++level) {
    for (std::int64_t row = 0; row < dz.Rows(level); ++row) {
      for (std::int64_t col = 0; col < dz.Columns(level); ++col) out.push_back({level, col, row});
    }
  }
  return out;
}

struct Row {
  std::string name;
  std::int64_t tiles = 0, errors = 0, bytes = 0;
  double seconds = 0;
  std::vector<double> latency_ms;
  double Rate() const { return seconds > 0 ? static_cast<double>(tiles) / seconds : 0; }
  double Percentile(double p) {
    if (latency_ms.empty()) return 0;
    std::sort(latency_ms.begin(), latency_ms.end());
    const std::size_t rank = static_cast<std::size_t>(std::ceil(p * static_cast<double>(latency_ms.size())));
    return latency_ms[std::min(latency_ms.size() - 1, rank == 0 ? 0 : rank - 1)];
  }
};

// Runs `one(client, tile)` on `clients` threads over the tiles, round-robin from a different
// start per thread, for `seconds`; `one` returns the bytes served (< 0 on failure).
template <typename MakeWorker>
Row Drive(const std::string& name, int clients, int seconds, const std::vector<Tile>& tiles, MakeWorker make) {
  Row row;
  row.name = name;
  std::vector<Row> per(static_cast<std::size_t>(clients));
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  const auto start = SteadyClock::now();
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      auto one = make();
      std::size_t next = static_cast<std::size_t>(c) * tiles.size() / static_cast<std::size_t>(clients);
      while (!stop.load(std::memory_order_relaxed)) {
        const Tile& t = tiles[next++ % tiles.size()];
        const auto t0 = SteadyClock::now();
        const std::int64_t bytes = one(t);
        const double ms = std::chrono::duration<double, std::milli>(SteadyClock::now() - t0).count();
        Row& r = per[static_cast<std::size_t>(c)];
        r.latency_ms.push_back(ms);
        if (bytes < 0) {
          ++r.errors;
        } else {
          ++r.tiles;
          r.bytes += bytes;
        }
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  stop = true;
  for (auto& t : threads) t.join();
  row.seconds = std::chrono::duration<double>(SteadyClock::now() - start).count();
  for (auto& r : per) {
    row.tiles += r.tiles;
    row.errors += r.errors;
    row.bytes += r.bytes;
    row.latency_ms.insert(row.latency_ms.end(), r.latency_ms.begin(), r.latency_ms.end());
  }
  return row;
}

// A fresh deployment serving one ingested slide to one signed-in reader with a viewer session.
class Deployment {
 public:
  Deployment(const Flags& flags, std::int64_t tile_cache_bytes) {
    std::string tmpl = (fs::temp_directory_path() / "caliper-bench-tiles-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) Die("mkdtemp failed");
    dir_ = tmpl;
    Check(config_.Set("server.tls", "false"), "server.tls");
    Check(config_.Set("wsi.tile_cache_bytes", std::to_string(tile_cache_bytes)), "wsi.tile_cache_bytes");
    Check(app::App::Init(dir_, config_).status(), "App::Init");
    auto opened = app::App::Open(dir_, config_, {});
    Check(opened.status(), "App::Open");
    app_ = std::move(opened).value();
    const app::RequestContext op = app::LocalOperator();
    auto project = app_->CreateProject(op, "Tile bench", "");
    Check(project.status(), "project");
    const auto started = SteadyClock::now();
    auto slide = app_->IngestSlideFile(op, project->id, flags.slide, fs::path(flags.slide).filename().string());
    Check(slide.status(), "ingest");
    if (slide->outcome != "stored") Die("ingest: " + slide->error.ToString());
    ingest_seconds_ = std::chrono::duration<double>(SteadyClock::now() - started).count();
    ingested_tiles_ = slide->tiles;
    item_ = slide->item_id;
    slide_ = slide->slide;
    auto reader = app_->CreateUser(op, app::NewUser{"bench-reader", "Reader", false, {}, kPassword});
    Check(reader.status(), "reader");
    Check(app_->PutMember(op, project->id, reader->user.id, {core::Role::kAnnotator}, {core::DataType::kPathology})
              .status(),
          "member");
    Check(app_->AssignItem(op, item_, reader->user.id).status(), "assign");
    app::DataPaths paths(dir_);
    auto options = http::ServerOptionsFrom(config_, paths, "127.0.0.1:0");
    Check(options.status(), "server options");
    server_ = std::make_unique<http::Server>(*app_, *options);
    Check(server_->Bind(), "bind");
    thread_ = std::thread([this] { (void)server_->Run(); });
    httplib::Client c("127.0.0.1", server_->port());
    auto login = c.Post("/api/v1/auth/login", json{{"username", "bench-reader"}, {"password", kPassword}}.dump(),
                        "application/json");
    if (!login || login->status != 200) Die("login failed");
    const std::string set_cookie = login->get_header_value("Set-Cookie");
    cookie_ = set_cookie.substr(0, set_cookie.find(';'));
    csrf_ = json::parse(login->body).value("csrf_token", "");
    auto view = c.Post("/api/v1/items/" + item_ + "/dz/sessions", Headers(), "", "application/json");
    if (!view || view->status != 201) Die("viewer session failed");
    prefix_ = "/api/v1/items/" + item_ + "/dz/" + json::parse(view->body)["view"].get<std::string>() + "/slide_files/";
  }

  ~Deployment() {
    server_->Stop();
    thread_.join();
    server_.reset();
    app_.reset();
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }

  httplib::Headers Headers() const { return {{"Cookie", cookie_}, {"X-CSRF-Token", csrf_}}; }
  std::string TilePath(const Tile& t) const {
    return prefix_ + std::to_string(t.level) + "/" + std::to_string(t.col) + "_" + std::to_string(t.row) + ".jpeg";
  }
  int port() const { return server_->port(); }
  const app::SlideInfo& slide() const { return slide_; }
  double ingest_seconds() const { return ingest_seconds_; }
  std::int64_t ingested_tiles() const { return ingested_tiles_; }

  // A worker: one keep-alive connection fetching tiles.
  auto Worker() const {
    return [this] {
      auto c = std::make_shared<httplib::Client>("127.0.0.1", port());
      c->set_keep_alive(true);
      c->set_tcp_nodelay(true);
      return [this, c](const Tile& t) -> std::int64_t {
        auto res = c->Get(TilePath(t), Headers());
        return res && res->status == 200 ? static_cast<std::int64_t>(res->body.size()) : -1;
      };
    };
  }

 private:
  std::string dir_;
  Config config_;
  std::unique_ptr<app::App> app_;
  std::unique_ptr<http::Server> server_;
  std::thread thread_;
  std::string item_, cookie_, csrf_, prefix_;
  app::SlideInfo slide_;
  double ingest_seconds_ = 0;
  std::int64_t ingested_tiles_ = 0;
};

}  // namespace
}  // namespace caliper::bench

int main(int argc, char** argv) {
  using namespace caliper;
  using namespace caliper::bench;
  const Flags flags = ParseFlags(argc, argv);
  std::vector<Row> rows;
  std::vector<Tile> tiles;
  double ingest_rate = 0;
  {
    Deployment cold(flags, 0);
    const app::SlideInfo& s = cold.slide();
    tiles = TilesOf(wsi::DeepZoomFor(s.width, s.height, s.tile_size, s.overlap), flags.levels);
    ingest_rate = static_cast<double>(cold.ingested_tiles()) / cold.ingest_seconds();
    rows.push_back(Drive("caliper_cold", flags.clients, flags.seconds, tiles, cold.Worker()));
  }
  {
    Deployment warm(flags, std::int64_t{256} << 20);
    auto prime = warm.Worker()();
    for (const Tile& t : tiles) {
      if (prime(t) < 0) Die("priming the cache failed");
    }
    rows.push_back(Drive("caliper_warm", flags.clients, flags.seconds, tiles, warm.Worker()));
  }
  {
    auto slide = wsi::Slide::Open(flags.slide);
    Check(slide.status(), "OpenSlide");
    const wsi::Slide& peer = **slide;
    const wsi::SlideProperties& p = peer.properties();
    const wsi::DeepZoom dz = wsi::DeepZoomFor(p.width, p.height, 254, 1);
    rows.push_back(Drive("peer_openslide", flags.clients, flags.seconds, tiles, [&] {
      return [&](const Tile& t) -> std::int64_t {
        auto rgb = peer.RenderTile(dz, t.level, t.col, t.row);
        if (!rgb.ok()) return -1;
        auto jpeg = wsi::EncodeJpeg(*rgb, 90);
        return jpeg.ok() ? static_cast<std::int64_t>(jpeg->size()) : -1;
      };
    }));
  }
  const double peer_rate = rows.back().Rate();
  std::printf("slide %s: %zu tiles of the %d highest Deep Zoom levels, %d clients, %d s per row; ingest %.0f tiles/s\n",
              flags.slide.c_str(), tiles.size(), flags.levels, flags.clients, flags.seconds, ingest_rate);
  std::printf("%-16s %10s %9s %9s %9s %8s %12s\n", "row", "tiles/s", "p50_ms", "p99_ms", "errors", "KiB/tile",
              "x_peer");
  std::int64_t errors = 0;
  std::vector<json> lines;
  for (Row& r : rows) {
    errors += r.errors;
    const double ratio = peer_rate > 0 ? r.Rate() / peer_rate : 0;
    const double kib = r.tiles > 0 ? static_cast<double>(r.bytes) / static_cast<double>(r.tiles) / 1024 : 0;
    std::printf("%-16s %10.0f %9.2f %9.2f %9lld %8.1f %12.2f\n", r.name.c_str(), r.Rate(), r.Percentile(0.5),
                r.Percentile(0.99), static_cast<long long>(r.errors), kib, ratio);
    lines.push_back({{"row", r.name}, {"tiles_per_s", std::round(r.Rate())}, {"p50_ms", r.Percentile(0.5)},
                     {"p99_ms", r.Percentile(0.99)}, {"errors", r.errors}, {"ratio_to_peer", ratio},
                     {"clients", flags.clients}, {"seconds", flags.seconds}, {"tiles", tiles.size()}});
  }
  for (const auto& l : lines) std::cout << l.dump() << "\n";
  return errors == 0 ? 0 : 1;
}

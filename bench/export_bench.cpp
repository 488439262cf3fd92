// caliper_bench_export: how long a dataset export of a large project takes (docs/export.md).
//
// A fresh deployment in a temporary directory (App::Init + App::Open, in process, no HTTP) and
// one project with a published guideline of two classes; --items notes items made by our
// generator (synth::MakeClinicalNotes), each read by --readers annotators through the App
// (claim, one document-level label, submit). Readers give the same class except the last reader
// on every tenth item, so Dawid–Skene has disputed items to weigh. Then, timed:
//   build     the approval of an export request: one consistent read of the project, labels,
//             Dawid–Skene, splits, subgroup report, manifest, tar, encryption and storage
//   download  a one-time token and the download (decrypting the snapshot)
//   verify    unpacking the tar and checking every file against the manifest
// The setup is timed too but is not the figure. Prints a table, then one JSON line.
// Exit 0 on success, 1 when the export failed, 2 when the setup failed.

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench_support.h"
#include "caliper/app/app.h"
#include "caliper/exports/snapshot.h"
#include "read_project.h"

namespace caliper::bench {
namespace {

using SteadyClock = std::chrono::steady_clock;

int Run(int argc, char** argv) {
  int items = 10000, readers = 2;
  std::uint64_t seed = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) Die("usage: caliper_bench_export [--items N] [--readers R] [--seed S]", 2);
    const std::string value = argv[++i];
    if (flag == "--items") items = std::stoi(value);
    else if (flag == "--readers") readers = std::stoi(value);
    else if (flag == "--seed") seed = std::stoull(value);
    else Die("unknown flag " + flag, 2);
  }
  if (items < 1 || readers < 1) Die("--items and --readers must be positive", 2);

  // Readers give the same class (pneumonia on every third item) except the last reader on
  // every tenth item, who disagrees.
  ReadProject rp = MakeReadProject(
      "export", items, readers, seed,
      R"({"classes":[{"id":"pneumonia","name":"Pneumonia","kind":"classification","definition":"d",)"
      R"("codes":[{"system":"SNOMED CT","code":"233604007"}]},)"
      R"({"id":"normal","name":"Normal","kind":"classification","definition":"d"}]})",
      [&](int i, int r) -> std::vector<std::string> {
        const bool pneumonia = (i % 3 == 0) != (r == readers - 1 && readers > 1 && i % 10 == 0);
        return {pneumonia ? "pneumonia" : "normal"};
      });
  app::App* app = rp.app.get();
  const std::string& dir = rp.dir;
  const std::string project_id = rp.project_id;
  const app::RequestContext manager = rp.manager, steward = rp.steward;
  const std::int64_t readings = rp.readings;
  const double setup_s = rp.setup_s;

  const auto requested = Must(app->RequestExport(manager, project_id, "export bench", "{}"), "request", 1);
  auto start = SteadyClock::now();
  const auto built = Must(app->DecideExport(steward, project_id, requested.id, true, "bench"), "approve", 1);
  const double build_s = SecondsSince(start);
  if (built.status != "built") Die("the export is " + built.status + ": " + built.error, 1);
  start = SteadyClock::now();
  const auto token = Must(app->IssueExportToken(manager, project_id, requested.id, 5), "token", 1);
  const std::string tar = Must(app->DownloadExport(token.token, "127.0.0.1"), "download", 1);
  const double download_s = SecondsSince(start);
  start = SteadyClock::now();
  Check(exports::ExtractSnapshotTar(tar, dir + "/snapshot"), "extract", 1);
  const std::int64_t files = Must(exports::VerifySnapshotDirectory(dir + "/snapshot"), "verify", 1);
  const double verify_s = SecondsSince(start);

  RemoveReadProject(rp);

  std::printf("export of %d notes items, %lld readings (%d readers each); setup %.1f s\n", items,
              static_cast<long long>(readings), readers, setup_s);
  std::printf("%-10s %10s %14s\n", "step", "seconds", "items/s");
  std::printf("%-10s %10.3f %14.0f\n", "build", build_s, items / build_s);
  std::printf("%-10s %10.3f %14.0f\n", "download", download_s, items / download_s);
  std::printf("%-10s %10.3f %14.0f\n", "verify", verify_s, items / verify_s);
  std::printf("snapshot: %lld bytes (tar), %lld files verified\n", static_cast<long long>(tar.size()),
              static_cast<long long>(files));
  const nlohmann::json line{{"bench", "export"},     {"items", items},          {"readers", readers},
                            {"readings", readings},  {"setup_s", setup_s},      {"build_s", build_s},
                            {"download_s", download_s}, {"verify_s", verify_s}, {"tar_bytes", tar.size()},
                            {"files", files}};
  std::printf("%s\n", line.dump().c_str());
  return 0;
}

}  // namespace
}  // namespace caliper::bench

int main(int argc, char** argv) { return caliper::bench::Run(argc, argv); }

// caliper_bench_quality_report: what GET /api/v1/projects/{id}/quality costs on a realistic
// project (App::GetProjectQuality, the endpoint's whole work; docs/quality.md).
//
// A fresh deployment (bench/read_project.h) with one project of --items notes items and a
// published guideline of --classes classes; every item read by --readers annotators through
// the App. Item i's classes are class i mod K, and on every seventh item also class (i + 1)
// mod K; the last reader swaps the first for class (i + 2) mod K on every tenth item and the
// first reader adds class (i + 3) mod K on every thirteenth, so the fits have disputed items.
// Then, timed: the report --runs times and one quality sweep (the stored soft labels and
// findings).
// Prints a table, then one JSON line. Exit 0 on success, 1 when the report failed, 2 when the
// setup failed.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench_support.h"
#include "caliper/app/app.h"
#include "read_project.h"

namespace caliper::bench {
namespace {

int Run(int argc, char** argv) {
  int items = 5000, readers = 3, classes = 4, runs = 3;
  std::uint64_t seed = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) {
      Die("usage: caliper_bench_quality_report [--items N] [--readers R] [--classes K] [--runs T] [--seed S]", 2);
    }
    const std::string value = argv[++i];
    if (flag == "--items") items = std::stoi(value);
    else if (flag == "--readers") readers = std::stoi(value);
    else if (flag == "--classes") classes = std::stoi(value);
    else if (flag == "--runs") runs = std::stoi(value);
    else if (flag == "--seed") seed = std::stoull(value);
    else Die("unknown flag " + flag, 2);
  }
  if (items < 1 || readers < 1 || classes < 2 || runs < 1) {
    Die("--items, --readers and --runs must be positive, --classes at least 2", 2);
  }
  nlohmann::json guideline{{"classes", nlohmann::json::array()}};
  for (int k = 0; k < classes; ++k) {
    guideline["classes"].push_back({{"id", "finding" + std::to_string(k + 1)},
                                    {"name", "Finding " + std::to_string(k + 1)},
                                    {"kind", "classification"},
                                    {"definition", "d"}});
  }
  auto name = [](int k) { return "finding" + std::to_string(k + 1); };
  ReadProject rp = MakeReadProject(
      "quality", items, readers, seed, guideline.dump(), [&](int i, int r) -> std::vector<std::string> {
        std::vector<std::string> out{name(i % classes)};
        if (i % 7 == 0) out.push_back(name((i + 1) % classes));
        if (r == readers - 1 && readers > 1 && i % 10 == 0) out[0] = name((i + 2) % classes);
        if (r == 0 && i % 13 == 0) out.push_back(name((i + 3) % classes));
        std::sort(out.begin(), out.end());
        out.erase(std::unique(out.begin(), out.end()), out.end());
        return out;
      });

  std::vector<double> report_s;
  std::size_t fused_readers = 0;
  for (int t = 0; t < runs; ++t) {
    const auto start = std::chrono::steady_clock::now();
    const auto q = Must(rp.app->GetProjectQuality(rp.manager, rp.project_id), "quality report", 1);
    report_s.push_back(SecondsSince(start));
    fused_readers = q.readers_fused.readers.size();
  }
  const auto start = std::chrono::steady_clock::now();
  const auto sweep = Must(rp.app->SweepQuality(rp.manager, rp.project_id), "quality sweep", 1);
  const double sweep_s = SecondsSince(start);
  RemoveReadProject(rp);

  std::printf("quality report of %d notes items, %lld readings (%d readers each, %d classes); setup %.1f s\n",
              items, static_cast<long long>(rp.readings), readers, classes, rp.setup_s);
  std::printf("%-12s %10s\n", "step", "seconds");
  for (int t = 0; t < runs; ++t) std::printf("report %-5d %10.3f\n", t + 1, report_s[t]);
  std::printf("%-12s %10.3f\n", "sweep", sweep_s);
  std::printf("readers scored against the fused label: %zu; sweep stored %lld soft labels\n", fused_readers,
              static_cast<long long>(sweep.soft_labels));
  const nlohmann::json line{{"bench", "quality_report"}, {"items", items},       {"readers", readers},
                            {"classes", classes},         {"readings", rp.readings}, {"setup_s", rp.setup_s},
                            {"report_s", report_s},       {"sweep_s", sweep_s}};
  std::printf("%s\n", line.dump().c_str());
  return 0;
}

}  // namespace
}  // namespace caliper::bench

int main(int argc, char** argv) { return caliper::bench::Run(argc, argv); }

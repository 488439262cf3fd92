#pragma once

// The periodic quality sweep `caliper serve` runs (docs/quality.md, "Stored soft labels and QA
// findings").

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

namespace caliper::app {

class App;

// Runs App::SweepQuality over every project at once and then every `period`, on its own
// thread, as the local operator, until destroyed (the destructor waits for a sweep under way
// to end). A project whose sweep fails is logged and skipped; the others still run.
class QualitySweeper {
 public:
  QualitySweeper(App& app, std::chrono::seconds period);
  ~QualitySweeper();
  QualitySweeper(const QualitySweeper&) = delete;
  QualitySweeper& operator=(const QualitySweeper&) = delete;

  // Rounds finished (one round sweeps every project once).
  std::int64_t rounds() const { return rounds_.load(); }

 private:
  void Run();

  App& app_;
  const std::chrono::seconds period_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;  // guarded by mu_
  std::atomic<std::int64_t> rounds_{0};
  std::thread thread_;  // last: starts after the fields above exist
};

}  // namespace caliper::app

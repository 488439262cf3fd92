#include "caliper/app/sweeper.h"

#include "app/workflow_internal.h"
#include "caliper/app/app.h"
#include "caliper/common/log.h"

namespace caliper::app {

QualitySweeper::QualitySweeper(App& app, std::chrono::seconds period)
    : app_(app), period_(period), thread_([this] { Run(); }) {}

QualitySweeper::~QualitySweeper() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void QualitySweeper::Run() {
  for (;;) {
    auto projects = internal::AllPages<core::Project>(
        [&](const storage::PageRequest& page) { return app_.ListProjects(LocalOperator(), page); });
    if (!projects.ok()) {
      log::Warn("quality sweep: cannot list projects: " + projects.status().ToString());
    } else {
      for (const auto& p : *projects) {
        {
          std::lock_guard lock(mu_);
          if (stop_) return;
        }
        auto swept = app_.SweepQuality(LocalOperator(), p.id);
        if (!swept.ok()) log::Warn("quality sweep of project " + p.id + ": " + swept.status().ToString());
      }
    }
    ++rounds_;
    std::unique_lock lock(mu_);
    if (wake_.wait_for(lock, period_, [this] { return stop_; })) return;
  }
}

}  // namespace caliper::app

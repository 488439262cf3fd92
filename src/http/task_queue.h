#pragma once

// The worker pool cpp-httplib runs connections on. cpp-httplib keeps one worker busy for as
// long as a connection is kept alive, so a fixed pool lets idle keep-alive connections starve
// everyone else once there are more connections than workers. This pool grows a thread per
// connection up to `max_threads`, reuses idle threads, and lets a thread that has had nothing
// to do for `idle_exit` end (down to `min_threads`). Thread-safe.

#include <httplib.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

namespace caliper::http {

class ElasticTaskQueue final : public httplib::TaskQueue {
 public:
  ElasticTaskQueue(std::size_t min_threads, std::size_t max_threads,
                   std::chrono::seconds idle_exit = std::chrono::seconds(60));
  ~ElasticTaskQueue() override;

  void enqueue(std::function<void()> fn) override;
  // Runs the queued jobs, then waits for every thread to end.
  void shutdown() override;

  std::size_t threads() const;

 private:
  void Work();
  // Joins workers that have ended (they are done but their threads need a join).
  void JoinExited(std::unique_lock<std::mutex>& lock);

  const std::size_t min_threads_;
  const std::size_t max_threads_;
  const std::chrono::seconds idle_exit_;
  mutable std::mutex mu_;
  std::condition_variable work_cv_;
  std::condition_variable done_cv_;
  std::deque<std::function<void()>> jobs_;  // guarded by mu_
  std::map<std::thread::id, std::thread> workers_;  // running workers; guarded by mu_
  std::vector<std::thread> exited_;         // workers that ended, to be joined; guarded by mu_
  std::size_t idle_ = 0;                    // workers waiting for a job; guarded by mu_
  bool shutdown_ = false;                   // guarded by mu_
};

}  // namespace caliper::http

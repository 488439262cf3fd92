#include "http/task_queue.h"

namespace caliper::http {

ElasticTaskQueue::ElasticTaskQueue(std::size_t min_threads, std::size_t max_threads,
                                   std::chrono::seconds idle_exit)
    : min_threads_(min_threads),
      max_threads_(std::max<std::size_t>(1, std::max(min_threads, max_threads))),
      idle_exit_(idle_exit) {}

ElasticTaskQueue::~ElasticTaskQueue() { shutdown(); }

void ElasticTaskQueue::enqueue(std::function<void()> fn) {
  std::unique_lock lock(mu_);
  JoinExited(lock);
  jobs_.push_back(std::move(fn));
  if (jobs_.size() <= idle_) {
    work_cv_.notify_one();
  } else if (workers_.size() < max_threads_) {
    // The new thread blocks on mu_ until this function returns, so it finds itself in workers_.
    std::thread worker([this] { Work(); });
    const auto id = worker.get_id();
    workers_.emplace(id, std::move(worker));
  }
  // Else the job waits for the next free worker.
}

void ElasticTaskQueue::Work() {
  std::unique_lock lock(mu_);
  while (true) {
    ++idle_;
    const bool woken = work_cv_.wait_for(lock, idle_exit_, [&] { return shutdown_ || !jobs_.empty(); });
    --idle_;
    if (!jobs_.empty()) {
      auto job = std::move(jobs_.front());
      jobs_.pop_front();
      lock.unlock();
      job();
      lock.lock();
      continue;
    }
    if (shutdown_ || (!woken && workers_.size() > min_threads_)) break;
  }
  auto self = workers_.find(std::this_thread::get_id());
  exited_.push_back(std::move(self->second));
  workers_.erase(self);
  done_cv_.notify_all();
}

void ElasticTaskQueue::JoinExited(std::unique_lock<std::mutex>& lock) {
  if (exited_.empty()) return;
  std::vector<std::thread> exited;
  exited.swap(exited_);
  lock.unlock();
  for (auto& t : exited) t.join();
  lock.lock();
}

void ElasticTaskQueue::shutdown() {
  std::unique_lock lock(mu_);
  shutdown_ = true;
  work_cv_.notify_all();
  done_cv_.wait(lock, [&] { return workers_.empty(); });
  JoinExited(lock);
}

std::size_t ElasticTaskQueue::threads() const {
  std::lock_guard lock(mu_);
  return workers_.size();
}

}  // namespace caliper::http

// A beat on a thread of its own, every `every`, from construction until destruction or until
// the beat says stop. A running export build renews its lease with it (docs/export.md).

#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <stop_token>
#include <thread>

namespace caliper::app {

class Heartbeat {
 public:
  // `beat` returns false to stop beating. The destructor stops the thread and waits for a beat
  // under way to finish.
  Heartbeat(std::chrono::milliseconds every, std::function<bool()> beat)
      : thread_([every, beat = std::move(beat)](std::stop_token stop) {
          std::mutex mu;
          std::condition_variable_any wake;
          std::unique_lock lock(mu);
          for (;;) {
            wake.wait_for(lock, stop, every, [] { return false; });
            if (stop.stop_requested() || !beat()) return;
          }
        }) {}
  Heartbeat(const Heartbeat&) = delete;
  Heartbeat& operator=(const Heartbeat&) = delete;

 private:
  std::jthread thread_;
};

}  // namespace caliper::app

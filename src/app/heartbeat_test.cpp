// The heartbeat a running export build renews its lease with: it beats until it is destroyed
// or the beat says stop, and its destruction does not wait for the next beat.

#include "app/heartbeat.h"

#include <atomic>
#include <chrono>

#include <gtest/gtest.h>

namespace caliper::app {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

// Waits (at most 10 s) until `count` reaches `n`.
bool WaitFor(const std::atomic<int>& count, int n) {
  const auto deadline = steady_clock::now() + std::chrono::seconds(10);
  while (count.load() < n && steady_clock::now() < deadline) std::this_thread::sleep_for(milliseconds(1));
  return count.load() >= n;
}

TEST(HeartbeatTest, BeatsAgainAndAgainUntilDestroyed) {
  std::atomic<int> beats{0};
  {
    Heartbeat heart(milliseconds(2), [&] {
      ++beats;
      return true;
    });
    EXPECT_TRUE(WaitFor(beats, 3)) << beats.load();
  }
  const int at_end = beats.load();
  std::this_thread::sleep_for(milliseconds(30));
  EXPECT_EQ(beats.load(), at_end) << "a destroyed heartbeat does not beat";
}

TEST(HeartbeatTest, StopsWhenTheBeatSaysSo) {
  std::atomic<int> beats{0};
  Heartbeat heart(milliseconds(1), [&] { return ++beats < 2; });
  EXPECT_TRUE(WaitFor(beats, 2));
  std::this_thread::sleep_for(milliseconds(30));
  EXPECT_EQ(beats.load(), 2) << "no beat after the one that said stop";
}

TEST(HeartbeatTest, DestructionDoesNotWaitForTheNextBeat) {
  std::atomic<int> beats{0};
  const auto start = steady_clock::now();
  {
    Heartbeat heart(std::chrono::hours(1), [&] {
      ++beats;
      return true;
    });
  }
  EXPECT_LT(steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_EQ(beats.load(), 0) << "the first beat comes one interval after the start";
}

}  // namespace
}  // namespace caliper::app

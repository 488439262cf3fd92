#pragma once

// A least-recently-used cache bounded by the bytes its values hold (a value larger than the
// whole budget is not kept). Values are shared: the cache may evict one while a request still
// uses it. Internal to app (decoded volumes, decrypted slide tiles). Thread-safe.

#include <cstddef>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>

namespace caliper::app {

template <typename T>
class LruCache {
 public:
  explicit LruCache(std::size_t budget_bytes) : budget_(budget_bytes) {}

  // The value under `key`, now the most recently used; nullptr when absent.
  std::shared_ptr<const T> Find(const std::string& key) {
    std::lock_guard lock(mutex_);
    auto it = index_.find(key);
    if (it == index_.end()) return nullptr;
    entries_.splice(entries_.begin(), entries_, it->second);
    return it->second->value;
  }

  // Keeps `value` (of `bytes`) under `key` unless it is there already, evicting the least
  // recently used values until the budget holds.
  void Put(const std::string& key, std::shared_ptr<const T> value, std::size_t bytes) {
    if (bytes > budget_) return;
    std::lock_guard lock(mutex_);
    if (index_.count(key) != 0) return;  // another request loaded it meanwhile
    entries_.push_front({key, std::move(value), bytes});
    index_[key] = entries_.begin();
    held_ += bytes;
    while (held_ > budget_) {
      held_ -= entries_.back().bytes;
      index_.erase(entries_.back().key);
      entries_.pop_back();
    }
  }

  std::size_t held_bytes() {
    std::lock_guard lock(mutex_);
    return held_;
  }

 private:
  struct Entry {
    std::string key;
    std::shared_ptr<const T> value;
    std::size_t bytes;
  };
  const std::size_t budget_;
  std::mutex mutex_;
  std::size_t held_ = 0;
  std::list<Entry> entries_;  // most recently used first
  std::unordered_map<std::string, typename std::list<Entry>::iterator> index_;
};

}  // namespace caliper::app

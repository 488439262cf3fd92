#pragma once

// The decoded volumes of the imaging items read last (App::LoadVolume): slices of one volume
// are fetched many at a time while a reader scrolls, and decrypting and decoding the NIfTI for
// each would dominate. Internal to app.

#include <cstddef>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "caliper/app/app.h"

namespace caliper::app {

// Least recently used first out, bounded by the voxel bytes held (a volume larger than the
// whole budget is not kept). Keys name the item and its content blob, so a rebuilt volume is
// never served stale. Thread-safe.
struct App::VolumeCache {
  explicit VolumeCache(std::size_t budget_bytes) : budget(budget_bytes) {}

  std::shared_ptr<const dicom::Volume> Find(const std::string& key) {
    std::lock_guard lock(mutex);
    for (auto it = entries.begin(); it != entries.end(); ++it) {
      if (it->first == key) {
        entries.splice(entries.begin(), entries, it);
        return entries.front().second;
      }
    }
    return nullptr;
  }

  void Put(const std::string& key, std::shared_ptr<const dicom::Volume> volume) {
    const std::size_t size = volume->values.size() * sizeof(float);
    if (size > budget) return;
    std::lock_guard lock(mutex);
    for (const auto& entry : entries) {
      if (entry.first == key) return;  // another request decoded it meanwhile
    }
    entries.emplace_front(key, std::move(volume));
    held += size;
    while (held > budget) {
      held -= entries.back().second->values.size() * sizeof(float);
      entries.pop_back();
    }
  }

  const std::size_t budget;
  std::mutex mutex;
  std::size_t held = 0;
  std::list<std::pair<std::string, std::shared_ptr<const dicom::Volume>>> entries;  // newest first
};

}  // namespace caliper::app

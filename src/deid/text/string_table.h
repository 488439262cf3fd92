#pragma once

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// A read-only hash table from strings to values for the detector's per-word lookups. The
// dictionaries hold some 150,000 words, far more than the caches, so a lookup costs its cache
// misses: open addressing over 8-byte slots (a part of the hash and an index), so that a word
// in no list is usually rejected after one miss, and Prefetch to start the miss of a word the
// caller will look up soon. Keys are views: the strings must outlive the table. Immutable after
// construction, so thread-safe.
namespace caliper::deid::text {

// Hash of a short string, eight bytes at a time (splitmix64's finaliser as the mix).
inline std::uint64_t HashWord(std::string_view s) noexcept {
  auto mix = [](std::uint64_t h) {
    h ^= h >> 31;
    h *= 0xBF58476D1CE4E5B9ULL;
    h ^= h >> 27;
    return h;
  };
  std::uint64_t h = 0x9E3779B97F4A7C15ULL ^ s.size();
  std::size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    std::uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    h = mix(h ^ w) * 0x94D049BB133111EBULL;
  }
  if (const std::size_t n = s.size() - i; n > 0) {  // the last 1..7 bytes, with fixed-size loads
    const char* p = s.data() + i;
    std::uint64_t w;
    if (n >= 4) {  // two 4-byte loads, overlapping when n < 8
      std::uint32_t a, b;
      std::memcpy(&a, p, 4);
      std::memcpy(&b, p + n - 4, 4);
      w = a | (std::uint64_t{b} << 32);
    } else {  // bytes 0, n/2 and n-1 cover 1..3 bytes
      w = static_cast<unsigned char>(p[0]) | (std::uint64_t{static_cast<unsigned char>(p[n / 2])} << 8) |
          (std::uint64_t{static_cast<unsigned char>(p[n - 1])} << 16);
    }
    h = mix(h ^ w) * 0x94D049BB133111EBULL;
  }
  return mix(h);
}

template <typename V>
class StringTable {
 public:
  StringTable() = default;
  // Later duplicates of a key are ignored.
  explicit StringTable(const std::vector<std::pair<std::string_view, V>>& entries) {
    const std::size_t capacity = std::bit_ceil(entries.size() * 2 + 2);  // load factor <= 1/2
    slots_.assign(capacity, Slot{});
    mask_ = capacity - 1;
    items_.reserve(entries.size());
    for (const auto& [key, value] : entries) {
      const std::uint64_t h = HashWord(key);
      std::size_t i = h & mask_;
      bool present = false;
      for (; slots_[i].index != 0 && !present; i = (i + 1) & mask_) {
        present = slots_[i].tag == Tag(h) && items_[slots_[i].index - 1].first == key;
      }
      if (present) continue;
      items_.emplace_back(key, value);
      slots_[i] = {Tag(h), static_cast<std::uint32_t>(items_.size())};
    }
  }

  // nullptr when `key` is not in the table; `hash` is HashWord(key).
  const V* Find(std::string_view key, std::uint64_t hash) const noexcept {
    if (slots_.empty()) return nullptr;
    for (std::size_t i = hash & mask_; slots_[i].index != 0; i = (i + 1) & mask_) {
      if (slots_[i].tag != Tag(hash)) continue;
      const auto& item = items_[slots_[i].index - 1];
      if (item.first == key) return &item.second;
    }
    return nullptr;
  }
  const V* Find(std::string_view key) const noexcept { return Find(key, HashWord(key)); }

  // Starts loading the slot of a key with this hash, for a Find soon after.
  void Prefetch(std::uint64_t hash) const noexcept {
    if (!slots_.empty()) __builtin_prefetch(&slots_[hash & mask_]);
  }
  // The next stage, once the slot is loaded: starts loading the item it points to.
  void PrefetchItem(std::uint64_t hash) const noexcept {
    if (slots_.empty()) return;
    const Slot& slot = slots_[hash & mask_];
    if (slot.index != 0) __builtin_prefetch(&items_[slot.index - 1]);
  }

 private:
  struct Slot {
    std::uint32_t tag = 0;
    std::uint32_t index = 0;  // 1 + index in items_; 0 = empty
  };
  static std::uint32_t Tag(std::uint64_t hash) { return static_cast<std::uint32_t>(hash >> 32); }

  std::vector<Slot> slots_;
  std::vector<std::pair<std::string_view, V>> items_;
  std::size_t mask_ = 0;
};

// A set of strings that grows (the names remembered while scanning one text), searched with a
// hash the caller computed once (HashWord). Not thread-safe.
class StringSet {
 public:
  bool Contains(std::string_view key, std::uint64_t hash) const noexcept {
    if (slots_.empty()) return false;
    for (std::size_t i = hash & mask_; slots_[i].index != 0; i = (i + 1) & mask_) {
      if (slots_[i].hash == hash && keys_[slots_[i].index - 1] == key) return true;
    }
    return false;
  }
  void Insert(std::string_view key, std::uint64_t hash) {
    if (Contains(key, hash)) return;
    if (2 * (keys_.size() + 1) > slots_.size()) Grow();  // load factor <= 1/2
    keys_.emplace_back(key);
    Place({hash, static_cast<std::uint32_t>(keys_.size())});
  }
  void Clear() {
    slots_.clear();
    keys_.clear();
    mask_ = 0;
  }

 private:
  struct Slot {
    std::uint64_t hash = 0;
    std::uint32_t index = 0;  // 1 + index in keys_; 0 = empty
  };
  void Place(Slot slot) {
    std::size_t i = slot.hash & mask_;
    while (slots_[i].index != 0) i = (i + 1) & mask_;
    slots_[i] = slot;
  }
  void Grow() {
    std::vector<Slot> old(std::max<std::size_t>(64, 2 * slots_.size()));
    old.swap(slots_);
    mask_ = slots_.size() - 1;
    for (const Slot& slot : old) {
      if (slot.index != 0) Place(slot);
    }
  }

  std::vector<Slot> slots_;
  std::vector<std::string> keys_;
  std::size_t mask_ = 0;
};

}  // namespace caliper::deid::text

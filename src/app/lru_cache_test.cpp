// The byte-bounded LRU cache behind decoded volumes and decrypted slide tiles: what it evicts,
// when, and that a value in use outlives its eviction.

#include "app/lru_cache.h"

#include <gtest/gtest.h>

namespace caliper::app {
namespace {

std::shared_ptr<const std::string> Value(const std::string& s) { return std::make_shared<const std::string>(s); }

TEST(LruCacheTest, EvictsTheLeastRecentlyUsedUntilTheBudgetHolds) {
  LruCache<std::string> cache(100);
  cache.Put("a", Value("A"), 40);
  cache.Put("b", Value("B"), 40);
  EXPECT_EQ(cache.held_bytes(), 80u);
  ASSERT_NE(cache.Find("a"), nullptr);  // a is now more recent than b
  cache.Put("c", Value("C"), 40);       // 120 > 100: b goes
  EXPECT_EQ(cache.Find("b"), nullptr);
  ASSERT_NE(cache.Find("a"), nullptr);
  ASSERT_NE(cache.Find("c"), nullptr);
  EXPECT_EQ(*cache.Find("c"), "C");
  EXPECT_EQ(cache.held_bytes(), 80u);
  cache.Put("d", Value("D"), 100);  // exactly the budget: everything else goes
  EXPECT_EQ(cache.Find("a"), nullptr);
  EXPECT_EQ(cache.Find("c"), nullptr);
  ASSERT_NE(cache.Find("d"), nullptr);
  EXPECT_EQ(cache.held_bytes(), 100u);
}

TEST(LruCacheTest, AValueLargerThanTheBudgetIsNotKeptAndEvictsNothing) {
  LruCache<std::string> cache(100);
  cache.Put("a", Value("A"), 60);
  cache.Put("huge", Value("H"), 101);
  EXPECT_EQ(cache.Find("huge"), nullptr);
  EXPECT_NE(cache.Find("a"), nullptr);
  EXPECT_EQ(cache.held_bytes(), 60u);
  LruCache<std::string> none(0);  // a zero budget keeps nothing (wsi.tile_cache_bytes = 0)
  none.Put("a", Value("A"), 1);
  EXPECT_EQ(none.Find("a"), nullptr);
}

TEST(LruCacheTest, ASecondPutKeepsTheFirstValue) {
  LruCache<std::string> cache(100);
  cache.Put("a", Value("first"), 10);
  cache.Put("a", Value("second"), 10);
  EXPECT_EQ(*cache.Find("a"), "first");
  EXPECT_EQ(cache.held_bytes(), 10u);
}

TEST(LruCacheTest, AValueInUseOutlivesItsEviction) {
  LruCache<std::string> cache(10);
  cache.Put("a", Value("tile"), 10);
  std::shared_ptr<const std::string> held = cache.Find("a");
  cache.Put("b", Value("other"), 10);
  EXPECT_EQ(cache.Find("a"), nullptr);
  ASSERT_NE(held, nullptr);
  EXPECT_EQ(*held, "tile");
}

}  // namespace
}  // namespace caliper::app

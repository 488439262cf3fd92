#include "caliper/common/ids.h"

#include <gtest/gtest.h>

#include <set>

namespace caliper {
namespace {

TEST(IdsTest, RandomIdsAreWellFormedAndDistinct) {
  RandomIdGenerator ids;
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    std::string id = ids.NewId("prj");
    EXPECT_TRUE(IsWellFormedId(id)) << id;
    EXPECT_EQ(id.rfind("prj_", 0), 0u);
    EXPECT_TRUE(seen.insert(id).second);
  }
}

TEST(IdsTest, SequentialIdsAreDeterministic) {
  SequentialIdGenerator a, b;
  EXPECT_EQ(a.NewId("usr"), b.NewId("usr"));
  EXPECT_NE(a.NewId("usr"), a.NewId("usr"));
  EXPECT_TRUE(IsWellFormedId(a.NewId("itm")));
}

TEST(IdsTest, RejectsPathTricksAndJunk) {
  for (const char* bad : {"", "prj_", "../etc/passwd", "prj_0123456789abcdefghjkmnpqr/", "PRJ_0123456789abcdefghjkmnpq",
                          "prj_0123456789abcdefghjkmnpqu", "prj_0123456789abcdefghjkmnp", "_0123456789abcdefghjkmnpq"}) {
    EXPECT_FALSE(IsWellFormedId(bad)) << bad;
  }
}

}  // namespace
}  // namespace caliper

#include "caliper/core/intervals.h"

#include <gtest/gtest.h>

namespace caliper::core {
namespace {

TEST(IntervalMarkupTest, ParsesAndRendersBothLists) {
  auto m = ParseIntervalMarkup(R"({"intervals":[{"onset_s":1.5,"offset_s":3,"class":"af","confidence":0.8}],
                                   "beats":[{"time_s":0.25,"class":"pvc"},{"time_s":10,"class":"n","confidence":null}]})",
                               10.0);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  ASSERT_EQ(m->intervals.size(), 1u);
  EXPECT_EQ(m->intervals[0].onset_s, 1.5);
  EXPECT_EQ(m->intervals[0].label_class, "af");
  EXPECT_EQ(*m->intervals[0].confidence, 0.8);
  ASSERT_EQ(m->beats.size(), 2u);
  EXPECT_FALSE(m->beats[0].confidence.has_value());
  EXPECT_EQ(IntervalMarkupJson(*m),
            R"({"beats":[{"class":"pvc","confidence":null,"time_s":0.25},{"class":"n","confidence":null,"time_s":10.0}],)"
            R"("intervals":[{"class":"af","confidence":0.8,"offset_s":3.0,"onset_s":1.5}]})");
  EXPECT_TRUE(ParseIntervalMarkup("{}", 1.0).ok());
}

TEST(IntervalMarkupTest, RefusesWhatBreaksTheRules) {
  auto code = [](const char* doc) { return ParseIntervalMarkup(doc, 10.0).status(); };
  EXPECT_EQ(code("[").code(), ErrorCode::kMalformedJson);
  EXPECT_EQ(code(R"({"x":[]})").code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(code(R"({"intervals":{}})").code(), ErrorCode::kInvalidArgument);
  const Status reversed = code(R"({"intervals":[{"onset_s":3,"offset_s":3,"class":"af"}]})");
  EXPECT_EQ(reversed.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(reversed.message().find("intervals[0]"), std::string::npos) << reversed.message();
  EXPECT_EQ(code(R"({"intervals":[{"onset_s":-1,"offset_s":3,"class":"af"}]})").code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(code(R"({"intervals":[{"onset_s":1,"offset_s":10.5,"class":"af"}]})").code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(code(R"({"intervals":[{"onset_s":1,"offset_s":2,"class":""}]})").code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(code(R"({"intervals":[{"onset_s":1,"offset_s":2,"class":"af","confidence":1.5}]})").code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(code(R"({"intervals":[{"onset_s":1,"offset_s":2,"class":"af","note":"x"}]})").code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(code(R"({"beats":[{"time_s":11,"class":"n"}]})").code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(code(R"({"beats":[{"time_s":"1","class":"n"}]})").code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace caliper::core

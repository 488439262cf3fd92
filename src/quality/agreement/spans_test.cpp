#include "caliper/quality/spans.h"

#include <vector>

#include <gtest/gtest.h>

namespace caliper::quality {
namespace {

TEST(SpanF1, ExactAndOverlap) {
  // A: three findings; B: one identical, one shifted (overlapping, same label), one with the
  // wrong label, and one extra.
  std::vector<TextSpan> a = {
      {"note1", 0, 10, "pneumonia"}, {"note1", 20, 30, "effusion"}, {"note1", 40, 50, "nodule"}};
  std::vector<TextSpan> b = {{"note1", 0, 10, "pneumonia"},
                             {"note1", 25, 35, "effusion"},
                             {"note1", 40, 50, "mass"},
                             {"note1", 60, 70, "nodule"}};
  auto r = SpanF1(a, b);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exact_matches, 1u);
  EXPECT_DOUBLE_EQ(r->exact_f1, 2.0 / 7.0);
  // Found: A 2 of 3 (recall 2/3), B 2 of 4 (precision 1/2): F1 = 2 * (1/3) / (7/6) = 4/7.
  EXPECT_DOUBLE_EQ(r->overlap_f1, 4.0 / 7.0);
}

TEST(SpanF1, TouchingSpansDoNotOverlapAndDocumentsAreSeparate) {
  std::vector<TextSpan> a = {{"d1", 0, 10, "x"}};
  std::vector<TextSpan> touching = {{"d1", 10, 20, "x"}};
  std::vector<TextSpan> other_doc = {{"d2", 0, 10, "x"}};
  EXPECT_EQ(SpanF1(a, touching)->overlap_f1, 0.0);
  EXPECT_EQ(SpanF1(a, other_doc)->exact_f1, 0.0);
  EXPECT_EQ(SpanF1(a, other_doc)->overlap_f1, 0.0);
}

TEST(SpanF1, EmptyReadersAndBadSpans) {
  std::vector<TextSpan> none, one = {{"d", 1, 2, "x"}};
  EXPECT_EQ(SpanF1(none, none)->exact_f1, 1.0);
  EXPECT_EQ(SpanF1(none, none)->overlap_f1, 1.0);
  EXPECT_EQ(SpanF1(one, none)->overlap_f1, 0.0);
  std::vector<TextSpan> bad = {{"d", 5, 5, "x"}};
  EXPECT_FALSE(SpanF1(bad, one).ok());
}

TEST(SpanF1, RepeatedIdenticalSpansMatchOneToOne) {
  std::vector<TextSpan> twice = {{"d", 0, 4, "x"}, {"d", 0, 4, "x"}};
  std::vector<TextSpan> once = {{"d", 0, 4, "x"}};
  auto r = SpanF1(twice, once);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exact_matches, 1u);
  EXPECT_DOUBLE_EQ(r->exact_f1, 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(r->overlap_f1, 1.0);
}

TEST(MeanPairwiseSpanF1, AveragesEveryPair) {
  std::vector<TextSpan> x = {{"d", 0, 4, "x"}};
  std::vector<TextSpan> y = {{"d", 2, 6, "x"}};
  auto r = MeanPairwiseSpanF1({x, x, y});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->pairs, 3u);
  EXPECT_DOUBLE_EQ(r->mean_exact_f1, 1.0 / 3.0);  // (1 + 0 + 0) / 3
  EXPECT_DOUBLE_EQ(r->mean_overlap_f1, 1.0);
  EXPECT_FALSE(MeanPairwiseSpanF1({x}).ok());
}

}  // namespace
}  // namespace caliper::quality

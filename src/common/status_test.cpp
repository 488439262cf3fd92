#include "caliper/common/status.h"

#include <gtest/gtest.h>

#include <set>

namespace caliper {
namespace {

TEST(StatusTest, OkHasNoError) {
  Status s = Status::Ok();
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.code_name(), "ok");
  EXPECT_EQ(s.http_status(), 200);
}

TEST(StatusTest, ErrorCarriesCodeMessageAndHttpStatus) {
  Status s = Error(ErrorCode::kNotFound, "no such item");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code_name(), "not_found");
  EXPECT_EQ(s.http_status(), 404);
  EXPECT_EQ(s.message(), "no such item");
  EXPECT_EQ(s.ToString(), "not_found: no such item");
  EXPECT_EQ(s.WithContext("reading").message(), "reading: no such item");
}

TEST(StatusTest, EmptyMessageFallsBackToTable) {
  EXPECT_EQ(Error(ErrorCode::kPayloadTooLarge).message(), DescribeError(ErrorCode::kPayloadTooLarge).message);
}

TEST(StatusTest, ErrorTableNamesAreUniqueAndStatusesValid) {
  std::set<std::string_view> names;
  for (int i = 0; i <= static_cast<int>(ErrorCode::kInternal); ++i) {
    const ErrorInfo& info = DescribeError(static_cast<ErrorCode>(i));
    EXPECT_EQ(static_cast<int>(info.code), i);
    EXPECT_TRUE(names.insert(info.name).second) << info.name;
    EXPECT_GE(info.http_status, 200);
    EXPECT_LT(info.http_status, 600);
    EXPECT_FALSE(info.message.empty());
  }
}

Result<int> Half(int x) {
  if (x % 2 != 0) return Error(ErrorCode::kInvalidArgument, "odd");
  return x / 2;
}

Result<int> Quarter(int x) {
  CALIPER_ASSIGN_OR_RETURN(int h, Half(x));
  return Half(h);
}

TEST(ResultTest, PropagatesValuesAndErrors) {
  auto ok = Quarter(8);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, 2);
  auto bad = Quarter(6);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), ErrorCode::kInvalidArgument);
}

TEST(ResultTest, OkStatusIsNotAValue) {
  Result<int> r{Status::Ok()};
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kInternal);
}

}  // namespace
}  // namespace caliper

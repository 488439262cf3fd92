#include "http/multipart_related.h"

#include <gtest/gtest.h>

namespace caliper::http {
namespace {

TEST(MultipartRelated, ContentTypeParameters) {
  auto t = ParseRelatedContentType(R"(Multipart/Related; type="application/dicom"; boundary="b o;u")");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->boundary, "b o;u");
  EXPECT_EQ(t->type, "application/dicom");
  t = ParseRelatedContentType("multipart/related;boundary=xyz");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->boundary, "xyz");
  EXPECT_EQ(t->type, "");
  EXPECT_EQ(ParseRelatedContentType("multipart/form-data; boundary=x").status().code(), ErrorCode::kUnsupported);
  EXPECT_EQ(ParseRelatedContentType("multipart/related; type=x").status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ParseRelatedContentType("multipart/related; boundary=\"open").status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(ParseRelatedContentType("multipart/related; boundary=" + std::string(71, 'a')).status().code(),
            ErrorCode::kInvalidArgument);
}

TEST(MultipartRelated, PartsWithBinaryBodiesPreambleAndEpilogue) {
  const std::string first("DICM\0\r\n--notquite\r\n", 19);
  const std::string body = "preamble\r\n--B\r\nContent-Type: Application/DICOM; transfer-syntax=1.2\r\n\r\n" + first +
                           "\r\n--B  \r\nX-Other: 1\r\n\r\nsecond\r\n--B\r\n\r\n\r\n--B--\r\nepilogue";
  auto parts = ParseMultipartRelated(body, "B");
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
  ASSERT_EQ(parts->size(), 3u);
  EXPECT_EQ((*parts)[0].content_type, "application/dicom");
  EXPECT_EQ((*parts)[0].body, first);
  EXPECT_EQ((*parts)[1].content_type, "");
  EXPECT_EQ((*parts)[1].body, "second");
  EXPECT_EQ((*parts)[2].body, "");
}

TEST(MultipartRelated, MalformedBodiesAreRefused) {
  for (const std::string body : {"", "no boundary here", "--B\r\nContent-Type: a\r\n", "--B\r\n\r\nunclosed",
                                 "--Bjunk\r\n\r\nx\r\n--B--"}) {
    EXPECT_EQ(ParseMultipartRelated(body, "B").status().code(), ErrorCode::kInvalidArgument) << body;
  }
  std::string many;
  for (int i = 0; i < 3; ++i) many += "--B\r\n\r\nx\r\n";
  many += "--B--";
  MultipartLimits limits;
  limits.max_parts = 2;
  EXPECT_EQ(ParseMultipartRelated(many, "B", limits).status().code(), ErrorCode::kInvalidArgument);
  limits.max_parts = 3;
  EXPECT_TRUE(ParseMultipartRelated(many, "B", limits).ok());
  limits.max_header_bytes = 4;
  EXPECT_EQ(ParseMultipartRelated("--B\r\nContent-Type: long\r\n\r\nx\r\n--B--", "B", limits).status().code(),
            ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace caliper::http

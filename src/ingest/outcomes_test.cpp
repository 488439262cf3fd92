#include "caliper/ingest/outcomes.h"

#include <gtest/gtest.h>

#include <sstream>

#include "caliper/common/clock.h"

namespace caliper::ingest {
namespace {

TEST(OutcomesCsvTest, RowsNameAnItemOrAPatientAndBadRowsAreReportedWithTheirLine) {
  std::istringstream in(
      "\xEF\xBB\xBF" "Time,result,class,evidence_type,patient_key,item_id,value\r\n"
      "2026-03-01T00:00:00Z,confirms,malignancy,biopsy,,itm_1,\r\n"
      "2026-03-02T10:00:00Z,refutes,grade,pathology_report,pt-9,,3\r\n"
      "\r\n"
      "2026-03-02,confirms,grade,biopsy,pt-9,,\r\n"
      "2026-03-02T10:00:00Z,maybe,grade,biopsy,pt-9,,\r\n"
      "2026-03-02T10:00:00Z,confirms,grade\r\n");
  auto records = ReadOutcomesCsv(in);
  ASSERT_TRUE(records.ok()) << records.status().ToString();
  ASSERT_EQ(records->size(), 5u);
  const auto& first = (*records)[0];
  ASSERT_TRUE(first.status.ok()) << first.status.ToString();
  EXPECT_EQ(first.line, 2u);
  EXPECT_EQ(first.outcome.item_id, "itm_1");
  EXPECT_EQ(first.outcome.evidence_type, "biopsy");
  EXPECT_EQ(first.outcome.label_class, "malignancy");
  EXPECT_TRUE(first.outcome.confirms);
  EXPECT_EQ(first.outcome.observed_at, *ParseRfc3339("2026-03-01T00:00:00Z"));
  const auto& second = (*records)[1];
  ASSERT_TRUE(second.status.ok());
  EXPECT_EQ(second.outcome.patient_key, "pt-9");
  EXPECT_EQ(second.outcome.value, "3");
  EXPECT_FALSE(second.outcome.confirms);
  EXPECT_EQ((*records)[2].line, 5u);
  EXPECT_NE((*records)[2].status.message().find("line 5: time"), std::string::npos) << (*records)[2].status.message();
  EXPECT_NE((*records)[3].status.message().find("result must be confirms or refutes"), std::string::npos);
  EXPECT_NE((*records)[4].status.message().find("has 3 fields"), std::string::npos);
}

TEST(OutcomesCsvTest, AHeaderWithoutTheColumnsIsRefusedNamingThem) {
  std::istringstream in("item_id,class,time\nitm_1,x,2026-03-01T00:00:00Z\n");
  auto records = ReadOutcomesCsv(in);
  ASSERT_FALSE(records.ok());
  EXPECT_NE(records.status().message().find("patient_key, evidence_type, result"), std::string::npos)
      << records.status().message();
  std::istringstream empty("");
  EXPECT_FALSE(ReadOutcomesCsv(empty).ok());
}

}  // namespace
}  // namespace caliper::ingest

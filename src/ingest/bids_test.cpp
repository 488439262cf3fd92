#include "caliper/ingest/bids.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace caliper::ingest {
namespace {

TEST(BidsTest, CoarsensTheKnownKeysAndDropsEverythingElse) {
  const std::string sidecar = R"({
    "Modality": "MR", "Manufacturer": "Siemens", "ManufacturersModelName": "Prisma_fit",
    "MagneticFieldStrength": 2.89, "SliceThickness": 4, "BodyPartExamined": "brain",
    "SeriesDescription": "t1_fl2d_sag <JOHN>", "AcquisitionDateTime": "2022-04-07T15:05:34.5",
    "PatientSex": "F", "PatientAge": "093Y", "PatientName": "DOE^JOHN", "PatientID": "12345",
    "InstitutionName": "General Hospital", "ProtocolName": "t1_fl2d sag"})";
  auto cohort = CohortFromBidsSidecar(sidecar);
  ASSERT_TRUE(cohort.ok());
  const auto j = nlohmann::json::parse(*cohort);
  EXPECT_EQ(j["modality"], "MR");
  EXPECT_EQ(j["manufacturer"], "SIEMENS");
  EXPECT_EQ(j["model"], "PRISMA_FIT");
  EXPECT_EQ(j["field_strength_t"], "2.9");
  EXPECT_EQ(j["slice_thickness_mm"], "4.0");
  EXPECT_EQ(j["body_part"], "BRAIN");
  EXPECT_EQ(j["series_description"], "T1_FL2D_SAG JOHN");
  EXPECT_EQ(j["protocol"], "T1_FL2D SAG");
  EXPECT_EQ(j["acquisition_year"], "2022");
  EXPECT_EQ(j["sex"], "F");
  EXPECT_EQ(j["age_band"], "90+");
  EXPECT_EQ(j.size(), 11u);  // nothing else: no name, id or institution
  EXPECT_EQ(nlohmann::json::parse(*CohortFromBidsSidecar(R"({"PatientAge": 47})"))["age_band"], "45-49");
  EXPECT_EQ(*CohortFromBidsSidecar("{}"), "{}");
  EXPECT_EQ(CohortFromBidsSidecar("[1,2]").status().code(), ErrorCode::kMalformedJson);
  EXPECT_EQ(CohortFromBidsSidecar("{oops").status().code(), ErrorCode::kMalformedJson);
}

TEST(BidsTest, SidecarPath) {
  EXPECT_EQ(BidsSidecarPath("/d/sub-01_T1w.nii.gz"), "/d/sub-01_T1w.json");
  EXPECT_EQ(BidsSidecarPath("/d/x.nii"), "/d/x.json");
  auto none = ReadCohortForNifti("/nonexistent/x.nii.gz");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
}

}  // namespace
}  // namespace caliper::ingest

#include <gtest/gtest.h>

#include <cmath>

#include "caliper/waveform/waveform.h"

namespace caliper::waveform {
namespace {

Waveform Sample() {
  Waveform w;
  w.source_format = "dicom";
  w.sampling_rate_hz = 500;
  w.samples = 6;
  w.start_offset_s = 0.25;
  w.leads.push_back({"I", {0, 5, -5, 2147483647, -2147483647 - 1, 64}, 0.005, -0.1});
  w.leads.push_back({"II", {1, 1, 1, 1, 1, 1}, 1e-3, 0});
  w.annotations.push_back({2, "N", "Normal beat", "", 1, 0, 0});
  w.annotations.push_back({5, "+", "Rhythm change", "(AFIB", 0, 1, 2});
  w.age_band = "60-64";
  w.sex = "M";
  w.group_label = "RHYTHM";
  w.warnings = {"left out"};
  Waveform median = w;
  median.annotations.clear();
  median.samples = 2;
  median.group_label = "MEDIAN BEAT";
  for (Lead& l : median.leads) l.digital.resize(2);
  w.extra_groups.push_back(median);
  return w;
}

TEST(StoredTest, RoundTripsEverything) {
  const Waveform w = Sample();
  ASSERT_TRUE(Validate(w).ok());
  auto back = DecodeStored(EncodeStored(w));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->leads[0].digital, w.leads[0].digital);
  EXPECT_EQ(back->leads[1].digital, w.leads[1].digital);
  EXPECT_EQ(back->leads[0].Millivolts(1), w.leads[0].Millivolts(1));
  EXPECT_EQ(back->annotations[1].aux, "(AFIB");
  EXPECT_EQ(back->annotations[1].num, 2);
  EXPECT_EQ(back->start_offset_s, 0.25);
  EXPECT_EQ(back->sex, "M");
  ASSERT_EQ(back->extra_groups.size(), 1u);
  EXPECT_EQ(back->extra_groups[0].group_label, "MEDIAN BEAT");
  EXPECT_EQ(back->extra_groups[0].leads[0].digital, (std::vector<std::int32_t>{0, 5}));
}

TEST(StoredTest, SmallStepsTakeOneByte) {
  Waveform w;
  w.source_format = "wfdb";
  w.sampling_rate_hz = 360;
  w.samples = 10000;
  Lead lead{"MLII", {}, 0.005, 0};
  for (int i = 0; i < 10000; ++i) lead.digital.push_back(static_cast<int>(std::lround(40 * std::sin(i / 50.0))));
  w.leads.push_back(lead);
  const std::string stored = EncodeStored(w);
  EXPECT_LT(stored.size(), 10000u + 400u);
}

TEST(StoredTest, RefusesCorruptBytes) {
  const std::string stored = EncodeStored(Sample());
  EXPECT_EQ(DecodeStored("CALWAVE0").status().code(), ErrorCode::kIntegrity);
  EXPECT_EQ(DecodeStored(stored.substr(0, stored.size() - 1)).status().code(), ErrorCode::kIntegrity);
  EXPECT_EQ(DecodeStored(stored + "x").status().code(), ErrorCode::kIntegrity);
  std::string bad_json = stored;
  bad_json[12] = '[';
  EXPECT_EQ(DecodeStored(bad_json).status().code(), ErrorCode::kIntegrity);
}

TEST(ModelTest, ValidatesAndConvertsUnits) {
  Waveform w = Sample();
  EXPECT_TRUE(Validate(w).ok());
  w.annotations[0].sample = 6;
  EXPECT_EQ(Validate(w).code(), ErrorCode::kInvalidArgument);
  w = Sample();
  w.leads[1].digital.pop_back();
  EXPECT_EQ(Validate(w).code(), ErrorCode::kInvalidArgument);
  w = Sample();
  w.sampling_rate_hz = 0;
  EXPECT_EQ(Validate(w).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(*MillivoltsPerUnit("uV"), 1e-3);
  EXPECT_EQ(*MillivoltsPerUnit("V"), 1e3);
  EXPECT_EQ(*MillivoltsPerUnit("mV"), 1.0);
  EXPECT_EQ(MillivoltsPerUnit("mmHg").status().code(), ErrorCode::kUnsupported);
  EXPECT_EQ(WfdbAnnotationCode(1)->symbol, "N");
  EXPECT_FALSE(WfdbAnnotationCode(15).has_value());
}

}  // namespace
}  // namespace caliper::waveform

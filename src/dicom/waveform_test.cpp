#include "caliper/dicom/waveform.h"

#include <gtest/gtest.h>

#include <string>

#include "caliper/dicom/deid.h"
#include "caliper/security/crypto.h"
#include "waveform/test_support.h"

namespace caliper::dicom {
namespace {

using waveform::testing::CrossCheck;
using waveform::testing::ReadAll;

// The sample 12-lead ECG, de-identified first (as ingest does), then read: 12 leads at 1000 Hz,
// 10 000 samples in the RHYTHM group, the MEDIAN BEAT kept as a second group, and the values
// equal to pydicom's own decode (tests/waveform/crosscheck.py) at a few samples of every lead.
TEST(DicomWaveformTest, TwelveLeadEcgAgreesWithPydicom) {
  auto path = SampleDataFile("waveform/waveform_ecg_12lead.dcm");
  if (!path) {
    if (SampleDataRequired()) FAIL() << "waveform/waveform_ecg_12lead.dcm is missing";
    GTEST_SKIP() << "CALIPER_SAMPLE_DATA is not set";
  }
  security::Key key;
  key.fill(3);
  auto deid = DicomDeidentifier::Create({}, [key](std::string_view m) { return security::KeyedBlake2b(key, m); });
  ASSERT_TRUE(deid.ok());
  auto clean = (*deid)->Deidentify(ReadAll(*path));
  ASSERT_TRUE(clean.ok()) << clean.status().ToString();
  EXPECT_TRUE(IsWaveformSopClass(clean->sop_class_uid));
  for (const char* phi : {"642341", "Galliera", "13002689", "19710123"}) {
    EXPECT_EQ(clean->bytes.find(phi), std::string::npos) << phi;
  }
  auto w = ReadDicomWaveform(clean->bytes);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_EQ(w->source_format, "dicom");
  EXPECT_EQ(w->group_label, "RHYTHM");
  EXPECT_EQ(w->sampling_rate_hz, 1000);
  EXPECT_EQ(w->samples, 10000);
  EXPECT_DOUBLE_EQ(w->DurationSeconds(), 10.0);
  const std::vector<std::string> names = {"I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"};
  ASSERT_EQ(w->leads.size(), names.size());
  for (std::size_t l = 0; l < names.size(); ++l) EXPECT_EQ(w->leads[l].name, names[l]);
  ASSERT_EQ(w->extra_groups.size(), 1u);
  EXPECT_EQ(w->extra_groups[0].group_label, "MEDIAN BEAT");
  EXPECT_EQ(w->extra_groups[0].samples, 1200);

  auto ref = CrossCheck(CALIPER_SOURCE_DIR, "dicom " + *path);
  ASSERT_TRUE(ref.has_value());
  ASSERT_EQ((*ref)["groups"].size(), 2u);
  const waveform::Waveform* groups[] = {&*w, &w->extra_groups[0]};
  for (std::size_t g = 0; g < 2; ++g) {
    const auto& rg = (*ref)["groups"][g];
    EXPECT_EQ(groups[g]->group_label, rg["label"].get<std::string>());
    EXPECT_EQ(groups[g]->samples, rg["samples"].get<std::int64_t>());
    EXPECT_EQ(groups[g]->sampling_rate_hz, rg["rate"].get<double>());
    for (std::size_t l = 0; l < 12; ++l) {
      const std::string meaning = rg["leads"][l]["name"].get<std::string>();
      EXPECT_NE(meaning.find(groups[g]->leads[l].name), std::string::npos) << meaning;
      for (const auto& [index, mv] : rg["leads"][l]["mv"].items()) {
        EXPECT_NEAR(groups[g]->leads[l].Millivolts(std::stoul(index)), mv.get<double>(), 1e-12) << g << l << index;
      }
    }
  }
}

TEST(DicomWaveformTest, RefusesFilesWithoutWaveform) {
  EXPECT_EQ(ReadDicomWaveform("not dicom").status().code(), ErrorCode::kInvalidArgument);
  EXPECT_FALSE(IsWaveformSopClass("1.2.840.10008.5.1.4.1.1.2"));
}

}  // namespace
}  // namespace caliper::dicom

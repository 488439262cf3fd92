// `caliper ingest waveform` end to end (docs/waveforms.md): a folder with a synthetic EDF+ file,
// a synthetic WFDB record and a header whose signal file is missing; the per-record report
// (table and --json) and exit codes; one waveforms item per record with nothing identifying in
// the database's clear columns; and, when present, the sample records of $CALIPER_SAMPLE_DATA.

#include <filesystem>

#include "caliper/common/sample_data.h"
#include "caliper/waveform/waveform.h"
#include "support/e2e.h"

namespace caliper::e2e {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class IngestWaveformCliTest : public ProjectDeploymentTest {
 protected:
  IngestWaveformCliTest() : ProjectDeploymentTest("caliper_ingest_waveform_cli", "Waveforms") {}
};

TEST_F(IngestWaveformCliTest, OneItemPerRecordWithAReport) {
  waveform::Waveform w;
  w.sampling_rate_hz = 100;
  w.samples = 200;
  w.leads.push_back({"ECG II", {}, 1e-3, 0});
  for (int i = 0; i < 200; ++i) w.leads[0].digital.push_back(i * 3 - 300);
  auto edf = waveform::WriteEdf(w, {"MRN-77 M 01-JAN-1960 Doe_John", "Startdate 01-JAN-2020 X X X"});
  ASSERT_TRUE(edf.ok());
  fs::create_directories(dir_ / "in/sub");
  WriteFile(dir_ / "in/rec.edf", *edf);
  WriteFile(dir_ / "in/sub/r.hea", "r 1 100 4\nr.dat 16 200 16 0 0 0 0 II\n");
  WriteFile(dir_ / "in/sub/r.dat", std::string(8, '\0'));
  WriteFile(dir_ / "in/sub/lost.hea", "lost 1 100 4\nlost.dat 16 200 16 0 0 0 0 II\n");
  WriteFile(dir_ / "in/readme.txt", "not a record");

  RunResult r = Cli({"ingest", "waveform", dir_ / "in", "--project", "Waveforms", "--json"});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);  // lost.hea has no signal file
  json out = json::parse(r.out, nullptr, false);
  ASSERT_FALSE(out.is_discarded()) << Describe(r);
  EXPECT_EQ(out["stored"], 2);
  EXPECT_EQ(out["errors"], 1);
  ASSERT_EQ(out["records"].size(), 3u);
  for (const json& rec : out["records"]) {
    const std::string name = rec["name"];
    if (name.find("lost.hea") != std::string::npos) {
      EXPECT_EQ(rec["outcome"], "error") << rec.dump();
      EXPECT_THAT(rec["error"]["message"].get<std::string>(), HasSubstr("lost.dat"));
    } else {
      EXPECT_EQ(rec["outcome"], "stored") << rec.dump();
    }
  }
  EXPECT_EQ(Scalar("SELECT count(*) FROM items WHERE data_type = 'waveforms';"), "2");
  const std::string rows = Scalar("SELECT patient_key || cohort_json || modality FROM items;");
  for (const char* secret : {"MRN-77", "Doe", "1960", "rec.edf"}) EXPECT_THAT(rows, ::testing::Not(HasSubstr(secret)));
  EXPECT_THAT(rows, HasSubstr("60-64"));  // the EDF+ age band (born 1960, recorded 2020)

  ExpectTable(Cli({"ingest", "waveform", dir_ / "in/sub/r.hea", "--project", "Waveforms"}), 0,
              "record\tformat\toutcome\titem\tleads\tsamples\trate_hz\tannotations\tnote", "\twfdb\tstored\titm_",
              "1 records: 1 stored, 0 errors");
  EXPECT_EQ(Cli({"ingest", "waveform", dir_ / "in/readme.txt", "--project", "Waveforms"}).exit_code, 1);
}

TEST_F(IngestWaveformCliTest, TheSampleFolder) {
  auto dcm = SampleDataFile("waveform/waveform_ecg_12lead.dcm");
  if (!dcm) {
    if (SampleDataRequired()) FAIL() << "waveform/waveform_ecg_12lead.dcm is missing";
    GTEST_SKIP() << "CALIPER_SAMPLE_DATA is not set";
  }
  RunResult r = Cli({"ingest", "waveform", fs::path(*dcm).parent_path().string(), "--project", "Waveforms", "--json"});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  json out = json::parse(r.out, nullptr, false);
  ASSERT_FALSE(out.is_discarded()) << Describe(r);
  EXPECT_EQ(out["stored"], 3);  // 100, s0010_re and the DICOM ECG
  std::map<std::string, json> by_format;
  for (const json& rec : out["records"]) by_format[rec["format"]] = rec;
  EXPECT_EQ(by_format["dicom"]["leads"], 12);
  EXPECT_EQ(by_format["dicom"]["sampling_rate_hz"], 1000);
  EXPECT_EQ(Scalar("SELECT count(*) FROM items WHERE data_type = 'waveforms';"), "3");
  const std::string rows = Scalar("SELECT patient_key || cohort_json FROM items;");
  for (const char* secret : {"642341", "Galliera", "infero", "s0010"}) {
    EXPECT_THAT(rows, ::testing::Not(HasSubstr(secret)));
  }
}

}  // namespace
}  // namespace caliper::e2e

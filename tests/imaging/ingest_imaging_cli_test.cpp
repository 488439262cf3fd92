// `caliper ingest dicom` and `caliper ingest nifti` end to end (docs/imaging.md): folders, single
// files and .zip archives, the per-file report (table and --json) and exit codes, one item per
// series, nothing identifying in the database's clear columns, and, when present, the sample
// series and volumes of $CALIPER_SAMPLE_DATA.

#include <filesystem>

#include "caliper/common/sample_data.h"
#include "caliper/dicom/encode.h"
#include "caliper/dicom/phantom.h"
#include "caliper/ingest/nifti_io.h"
#include "support/e2e.h"

namespace caliper::e2e {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class IngestImagingCliTest : public ProjectDeploymentTest {
 protected:
  IngestImagingCliTest() : ProjectDeploymentTest("caliper_ingest_imaging_cli", "Imaging") {}
  // Writes a phantom series of `slices` slices into `dir`; returns the file paths.
  static std::vector<std::string> Phantom(const std::string& dir, int slices, std::uint64_t seed) {
    dicom::CtPhantomOptions o;
    o.slices = slices;
    o.rows = o.cols = 16;
    o.seed = seed;
    std::vector<std::string> paths;
    EXPECT_TRUE(dicom::WriteCtPhantomSeries(o, dir, &paths).ok());
    return paths;
  }
};

TEST_F(IngestImagingCliTest, FoldersFilesAndZipsBecomeOneItemPerSeries) {
  const auto a = Phantom(dir_ / "a", 5, 1);
  const auto b = Phantom(dir_ / "b", 4, 2);
  WriteFile(dir_ / "a/readme.txt", "not DICOM");
  // Series b: two slices loose, the rest (and one repeat) in a zip.
  fs::create_directories(dir_ / "z");
  RunResult zip = RunProgram("zip", {"-j", "-q", dir_ / "z/b.zip", b[1], b[2], b[3]});
  ASSERT_EQ(zip.exit_code, 0) << Describe(zip);
  RunResult r = Cli({"ingest", "dicom", dir_ / "a", b[0], b[1], dir_ / "z/b.zip", "--project", "Imaging", "--json"});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);  // the readme is an error
  json out = json::parse(r.out, nullptr, false);
  ASSERT_FALSE(out.is_discarded()) << Describe(r);
  EXPECT_EQ(out["stored"], 9);
  EXPECT_EQ(out["duplicates"], 1);  // b[1], loose and zipped
  EXPECT_EQ(out["errors"], 1);
  EXPECT_EQ(out["files"].size(), 11u);
  bool zipped = false;
  for (const json& f : out["files"]) {
    const std::string name = f["name"];
    zipped = zipped || name.find("b.zip!") != std::string::npos;
    if (name.find("readme.txt") != std::string::npos) {
      EXPECT_EQ(f["outcome"], "error") << f.dump();
    }
  }
  EXPECT_TRUE(zipped);
  EXPECT_EQ(Scalar("SELECT count(*) FROM items WHERE data_type = 'imaging';"), "2");
  EXPECT_EQ(Scalar("SELECT count(*) FROM dicom_instances;"), "9");
  EXPECT_EQ(Scalar("SELECT group_concat(content_type) FROM items;"), "application/gzip,application/gzip");
  // Nothing identifying in the clear columns.
  const std::string rows =
      Scalar("SELECT patient_key || cohort_json || modality FROM items; "
             "SELECT sop_instance_uid || series_uid || study_uid FROM dicom_instances;");
  for (const std::string& secret : {std::string("MRN-000123"), std::string("DOE"), dicom::DeriveUid(1, "series"),
                                    dicom::DeriveUid(1, "study"), dicom::DeriveUid(2, "sop/0")}) {
    EXPECT_THAT(rows, ::testing::Not(HasSubstr(secret)));
  }

  // Again, as a table: everything is a duplicate, exit 0.
  RunResult again = Cli({"ingest", "dicom", dir_ / "a/ct_0001.dcm", "--project", "Imaging"});
  EXPECT_EQ(again.exit_code, 0) << Describe(again);
  EXPECT_THAT(again.out, HasSubstr("file\toutcome\titem\tmodality\tnote\n"));
  EXPECT_THAT(again.out, HasSubstr("\tduplicate\titm_"));
  EXPECT_THAT(again.err, HasSubstr("1 files: 0 stored, 1 duplicates"));
}

TEST_F(IngestImagingCliTest, AnInconsistentInstanceIsAnErrorOfItsFileAndTheBatchGoesOn) {
  // Series 4 (8 slices of 16x16, 5 mm) with a 32x32 slice among them and a rotated one, and
  // series 5 with a gap (its third slice missing).
  const auto a = Phantom(dir_ / "a", 8, 4);
  const auto b = Phantom(dir_ / "b", 5, 5);
  fs::remove(b[2]);
  dicom::CtPhantomOptions o;
  o.slices = 8;
  o.rows = o.cols = 32;
  o.seed = 4;
  o.sop_label = "large";
  std::vector<std::string> large;
  ASSERT_TRUE(dicom::WriteCtPhantomSeries(o, dir_ / "large", &large).ok());
  fs::rename(large[5], dir_ / "a/ct_0005b.dcm");
  o.rows = o.cols = 16;
  o.sop_label = "rotated";
  o.orientation = "1\\0\\0\\0\\0\\-1";
  std::vector<std::string> rotated;
  ASSERT_TRUE(dicom::WriteCtPhantomSeries(o, dir_ / "rotated", &rotated).ok());
  RunResult r = Cli({"ingest", "dicom", dir_ / "a", dir_ / "b", rotated[6], "--project", "Imaging", "--json"});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  json out = json::parse(r.out, nullptr, false);
  ASSERT_FALSE(out.is_discarded()) << Describe(r);
  EXPECT_EQ(out["stored"], 8 + 4);
  EXPECT_EQ(out["errors"], 2);
  std::string series_a;
  for (const json& s : out["series"]) {
    if (s["instances"] == 8) series_a = s["series_uid"];
    if (s["instances"] == 4) {
      ASSERT_EQ(s["warnings"].size(), 1u) << s.dump();
      EXPECT_THAT(s["warnings"][0].get<std::string>(), HasSubstr("gap: 1 missing slice(s)"));
    }
  }
  ASSERT_FALSE(series_a.empty()) << out["series"].dump();
  for (const json& f : out["files"]) {
    const std::string name = f["name"];
    if (name.find("ct_0005b") == std::string::npos && name.find("rotated") == std::string::npos) {
      EXPECT_EQ(f["outcome"], "stored") << f.dump();
      continue;
    }
    EXPECT_EQ(f["outcome"], "error") << f.dump();
    EXPECT_EQ(f["error"]["code"], "conflict") << f.dump();
    EXPECT_THAT(f["error"]["message"].get<std::string>(),
                HasSubstr("inconsistent with series " + series_a + ": " +
                          (name.find("rotated") == std::string::npos ? "32x32, the series is 16x16"
                                                                     : "Image Orientation (Patient)")));
  }
  EXPECT_EQ(Scalar("SELECT count(*) FROM dicom_instances;"), "12");
  EXPECT_EQ(Scalar("SELECT count(*) FROM items;"), "2");

  // As a table: the file's row says why; the series' warning goes to stderr.
  fs::create_directories(dir_ / "c");
  const auto c = Phantom(dir_ / "c", 5, 6);
  fs::remove(c[2]);
  o.seed = 6;
  o.sop_label = "rotated-c";
  std::vector<std::string> rotated_c;
  ASSERT_TRUE(dicom::WriteCtPhantomSeries(o, dir_ / "rotated-c", &rotated_c).ok());
  RunResult table = Cli({"ingest", "dicom", dir_ / "c", rotated_c[1], "--project", "Imaging"});
  EXPECT_EQ(table.exit_code, 1) << Describe(table);
  EXPECT_THAT(table.out, HasSubstr("\terror\t\tCT\tconflict: inconsistent with series 2.25."));
  EXPECT_THAT(table.err, HasSubstr(": no volume built: cannot build a volume: gap: 1 missing slice(s)"));
}

// The phantom slice with its Modality (0008,0060) CS "CT" patched to "US" in the bytes: an
// ultrasound frame may carry burned-in text, so server ingest holds it in the quarantine.
std::string AsUltrasound(std::string bytes) {
  const std::string tag("\x08\x00\x60\x00" "CS\x02\x00" "CT", 10);
  const std::size_t at = bytes.find(tag);
  EXPECT_NE(at, std::string::npos);
  if (at != std::string::npos) bytes.replace(at + 8, 2, "US");
  return bytes;
}

TEST_F(IngestImagingCliTest, QuarantineListSaysHowManyArePending) {
  const auto a = Phantom(dir_ / "a", 3, 3);
  fs::create_directories(dir_ / "us");
  for (std::size_t i = 0; i < a.size(); ++i) {
    WriteFile(dir_ / ("us/us_" + std::to_string(i) + ".dcm"), AsUltrasound(ReadFile(a[i])));
  }
  RunResult ingest = Cli({"ingest", "dicom", dir_ / "us", "--project", "Imaging"});
  EXPECT_EQ(ingest.exit_code, 1) << Describe(ingest);  // quarantined files make the exit code 1
  EXPECT_THAT(ingest.err, HasSubstr("3 quarantined"));
  ASSERT_EQ(Cli({"user", "add", "steward"}).exit_code, 0);
  ASSERT_EQ(Cli({"project", "add-member", "Imaging", "steward", "--role", "data_steward"}).exit_code, 0);
  const std::vector<std::string> list = {"quarantine", "list", "--project", "Imaging", "--as", "steward"};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = list;
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  };

  RunResult text = Cli(list);
  ASSERT_EQ(text.exit_code, 0) << Describe(text);
  EXPECT_THAT(text.out, HasSubstr("  pending  US  "));
  EXPECT_THAT(text.out, ::testing::EndsWith("\n3 pending\n"));
  json all = json::parse(Cli(with({"--json"})).out, nullptr, false);
  ASSERT_TRUE(all.is_object()) << all.dump();
  EXPECT_EQ(all["data"].size(), 3u);
  EXPECT_EQ(all["pending"], 3);

  // One discarded: two pending; the count is the project's whatever --status lists.
  const std::string first = all["data"][0]["id"];
  RunResult discard = Cli({"quarantine", "discard", first, "--project", "Imaging", "--as", "steward", "--reason", "test"});
  ASSERT_EQ(discard.exit_code, 0) << Describe(discard);
  json discarded = json::parse(Cli(with({"--status", "discarded", "--json"})).out, nullptr, false);
  ASSERT_TRUE(discarded.is_object()) << discarded.dump();
  ASSERT_EQ(discarded["data"].size(), 1u);
  EXPECT_EQ(discarded["data"][0]["id"], first);
  EXPECT_EQ(discarded["pending"], 2);
  RunResult pending = Cli(with({"--status", "pending"}));
  EXPECT_THAT(pending.out, ::testing::EndsWith("\n2 pending\n"));
  EXPECT_THAT(pending.out, ::testing::Not(HasSubstr(first)));
}

// A project's blanking rule applied at ingest shows in the table's note and, with --json, in
// each file's `actions` (the structure of deid-report.jsonl).
TEST_F(IngestImagingCliTest, BlankedInstancesSayWhatWasBlankedAndDecoded) {
  ASSERT_EQ(Cli({"project", "dicom-settings", "Imaging", "--blank", "US:0,0,4,4"}).exit_code, 0);
  auto us = dicom::MakeUltrasoundCinePhantom(2, 16, 16, /*ybr_planar=*/false, 51);
  ASSERT_TRUE(us.ok());
  auto jpeg = dicom::Transcode(*us, "1.2.840.10008.1.2.4.50");
  ASSERT_TRUE(jpeg.ok()) << jpeg.status().ToString();
  fs::create_directories(dir_ / "us");
  WriteFile(dir_ / "us/cine.dcm", std::string(jpeg->begin(), jpeg->end()));
  RunResult table = Cli({"ingest", "dicom", dir_ / "us/cine.dcm", "--project", "Imaging"});
  EXPECT_EQ(table.exit_code, 0) << Describe(table);
  EXPECT_THAT(table.out, HasSubstr("\tstored\titm_"));
  EXPECT_THAT(table.out, HasSubstr("\tUS\t2 rectangles blanked (decompressed from 1.2.840.10008.1.2.4.50)\n"));

  auto other = dicom::MakeUltrasoundCinePhantom(2, 16, 16, /*ybr_planar=*/false, 53);
  ASSERT_TRUE(other.ok());
  WriteFile(dir_ / "us/native.dcm", std::string(other->begin(), other->end()));
  RunResult r = Cli({"ingest", "dicom", dir_ / "us/native.dcm", "--project", "Imaging", "--json"});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  json out = json::parse(r.out, nullptr, false);
  ASSERT_FALSE(out.is_discarded()) << Describe(r);
  const json& actions = out["files"][0]["actions"];
  EXPECT_EQ(actions["pixels_blanked"], 2);
  EXPECT_TRUE(actions["pixels_decompressed_from"].is_null()) << "native: blanked in place";
  EXPECT_GT(actions["uid_remapped"], 0);
}

TEST_F(IngestImagingCliTest, NiftiWithSidecarsOneItemPerVolume) {
  const auto geometry = ingest::NiftiGeometryFromAffine({3, 3, 2}, {{{1, 0, 0, 0}, {0, 1, 0, 0}, {0, 0, 2, 0}}});
  std::vector<float> values(18, 7.0f);
  fs::create_directories(dir_ / "bids/sub-07/anat");
  ASSERT_TRUE(ingest::WriteNiftiFloat32(dir_ / "bids/sub-07/anat/sub-07_T1w.nii.gz", geometry, values).ok());
  WriteFile(dir_ / "bids/sub-07/anat/sub-07_T1w.json", R"({"Modality":"MR","PatientSex":"M"})");
  WriteFile(dir_ / "bids/sub-07/anat/broken.nii", "no");
  RunResult r = Cli({"ingest", "nifti", dir_ / "bids", "--project", "Imaging", "--json"});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  json out = json::parse(r.out, nullptr, false);
  ASSERT_FALSE(out.is_discarded()) << Describe(r);
  EXPECT_EQ(out["stored"], 1);
  EXPECT_EQ(out["errors"], 1);
  EXPECT_EQ(Scalar("SELECT modality || ' ' || json_extract(cohort_json, '$.sex') FROM items;"), "MR M");
  // A keyed hash, not the subject's id (a random hex digest may hold "07" by chance: 1 run in 9).
  const std::string key = Scalar("SELECT patient_key FROM items;");
  EXPECT_THAT(key, ::testing::MatchesRegex("pt_[0-9a-f]{32}"));
  EXPECT_THAT(key, ::testing::Not(HasSubstr("sub-07")));
}

TEST_F(IngestImagingCliTest, SampleSeriesAndVolumes) {
  const auto marker = SampleDataFile("dicom-series/README.md");
  if (!marker) {
    if (SampleDataRequired()) FAIL() << "sample data missing";
    GTEST_SKIP() << "CALIPER_SAMPLE_DATA not set";
  }
  const fs::path series = fs::path(*marker).parent_path();
  RunResult r = Cli({"ingest", "dicom", series / "mr-t1-sag-dcm_qa_decubitus", series / "ct-head-gantry-tilt-dcm_qa_ct",
                     "--project", "Imaging", "--json"});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  json out = json::parse(r.out, nullptr, false);
  ASSERT_FALSE(out.is_discarded()) << Describe(r);
  EXPECT_EQ(out["stored"], 35 + 28);
  ASSERT_EQ(out["series"].size(), 2u);
  for (const json& s : out["series"]) {
    if (s["modality"] == "MR") {
      EXPECT_EQ(s["volume"]["dims"], json::array({256, 256, 35})) << s.dump();
    } else {
      // Slices 1.08 to 7 mm apart: kept as instances, no volume, and the report says why.
      EXPECT_TRUE(s["volume"].is_null()) << s.dump();
      EXPECT_THAT(s["no_volume"].get<std::string>(), HasSubstr("spacing")) << s.dump();
    }
  }
  // The TotalSegmentator CT has no Series Instance UID at all: every file is refused, clearly.
  r = Cli({"ingest", "dicom", series / "ct-abdomen-totalsegmentator", "--project", "Imaging", "--json"});
  out = json::parse(r.out, nullptr, false);
  ASSERT_FALSE(out.is_discarded()) << Describe(r);
  EXPECT_EQ(out["errors"], 20);
  EXPECT_THAT(out["files"][0]["error"]["message"].get<std::string>(), HasSubstr("Series Instance UID"));

  const auto nifti = SampleDataFile("nifti/nibabel_example4d.nii.gz");
  ASSERT_TRUE(nifti.has_value());
  r = Cli({"ingest", "nifti", *nifti, "--patient", "P1", "--project", "Imaging", "--json"});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  out = json::parse(r.out, nullptr, false);
  ASSERT_FALSE(out.is_discarded()) << Describe(r);
  EXPECT_GT(out["files"][0]["item_ids"].size(), 1u);  // one item per time point
}

}  // namespace
}  // namespace caliper::e2e

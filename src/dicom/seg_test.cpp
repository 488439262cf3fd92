#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "caliper/common/sample_data.h"
#include "caliper/dicom/label_map.h"
#include "caliper/dicom/phantom.h"
#include "dicom/test_support.h"
#include "dicom/zstd.h"

namespace caliper::dicom {
namespace {

namespace fs = std::filesystem;
using Bytes = std::vector<std::uint8_t>;

struct Fixture {
  std::vector<Bytes> files;
  Volume volume;
  LabelMap map;
};

// A phantom volume with two segments: the lesion (manual) and the liver (automatic: a threshold,
// CID 7162 Histogram Analysis).
Fixture Make() {
  CtPhantomOptions o;
  o.slices = 9;
  o.rows = 36;
  o.cols = 48;
  o.pixel_spacing_mm = 0.8;
  o.slice_thickness_mm = 2.0;
  o.seed = 17;
  o.accession_number = "ACC-0042";  // the default (17 characters) is too long for SH
  Fixture f;
  f.files = testing::Series(o);
  f.volume = *testing::Build(f.files);
  f.map = EmptyLabelMap(f.volume);
  for (std::size_t n = 0; n < f.map.labels.size(); ++n) {
    if (f.volume.values[n] == kPhantomLesionHu) f.map.labels[n] = 1;
    if (f.volume.values[n] == kPhantomLiverHu) f.map.labels[n] = 2;
  }
  f.map.segments = {
      {1, "lesion", "Lesion", {"49755003", "SCT", "Morphologically abnormal structure"},
       {"108369006", "SCT", "Neoplasm"}, SegmentAlgorithm::kManual, "", {}},
      {2, "liver", "Liver", {"123037004", "SCT", "Anatomical structure"}, {"10200004", "SCT", "Liver"},
       SegmentAlgorithm::kAutomatic, "caliper-threshold",
       {{"123105", "DCM", "Histogram Analysis"}, "caliper-threshold", "1.2"}},
  };
  return f;
}

std::string TempPath(const std::string& name) {
  return (fs::temp_directory_path() / ("caliper_seg_" + std::to_string(::getpid()) + "_" + name)).string();
}

void WriteFile(const std::string& path, const Bytes& bytes) {
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()),
                                              static_cast<std::streamsize>(bytes.size()));
}

std::string RunCommand(const std::string& cmd, int* status) {
  const std::string out = TempPath("out.txt");
  *status = std::system((cmd + " > '" + out + "' 2>&1").c_str());
  std::ifstream in(out);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  fs::remove(out);
  return text;
}

TEST(SegTest, WritesASegThatReadsBackToTheSameLabelMap) {
  Fixture f = Make();
  auto seg = WriteSegmentation(f.map, f.volume, f.files[0]);
  ASSERT_TRUE(seg.ok()) << seg.status().ToString();
  auto back = ReadSegmentation(*seg, f.volume);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->labels, f.map.labels);
  ASSERT_EQ(back->segments.size(), 2u);
  EXPECT_EQ(back->segments[0].name, "Lesion");
  EXPECT_EQ(back->segments[0].type.value, "108369006");
  EXPECT_EQ(back->segments[0].type.scheme, "SCT");
  EXPECT_EQ(back->segments[0].algorithm, SegmentAlgorithm::kManual);
  EXPECT_EQ(back->segments[1].category.meaning, "Anatomical structure");
  EXPECT_EQ(back->segments[1].algorithm, SegmentAlgorithm::kAutomatic);
  EXPECT_EQ(back->segments[1].algorithm_name, "caliper-threshold");
  const AlgorithmIdentification& id = back->segments[1].algorithm_identification;
  EXPECT_EQ(id.family.value, "123105");
  EXPECT_EQ(id.family.scheme, "DCM");
  EXPECT_EQ(id.family.meaning, "Histogram Analysis");
  EXPECT_EQ(id.name, "caliper-threshold");
  EXPECT_EQ(id.version, "1.2");
  EXPECT_FALSE(back->segments[0].algorithm_identification.Complete());
}

// The Segmentation Algorithm Identification Sequence is written for calculated segments whose
// identification is complete, and for no MANUAL segment.
TEST(SegTest, AlgorithmIdentificationOnlyForCalculatedSegmentsThatHaveAllOfIt) {
  Fixture f = Make();
  f.map.segments[0].algorithm_identification = {kArtificialIntelligence, "drawn", "1"};  // MANUAL: not written
  f.map.segments[1].algorithm = SegmentAlgorithm::kSemiAutomatic;
  auto seg = WriteSegmentation(f.map, f.volume, f.files[0]);
  ASSERT_TRUE(seg.ok()) << seg.status().ToString();
  auto back = ReadSegmentation(*seg, f.volume);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->segments[0].algorithm, SegmentAlgorithm::kManual);
  EXPECT_EQ(back->segments[0].algorithm_identification.name, "");
  EXPECT_EQ(back->segments[1].algorithm, SegmentAlgorithm::kSemiAutomatic);
  EXPECT_EQ(back->segments[1].algorithm_identification.version, "1.2");

  f.map.segments[1].algorithm_identification.version.clear();  // incomplete: name only
  seg = WriteSegmentation(f.map, f.volume, f.files[0]);
  ASSERT_TRUE(seg.ok()) << seg.status().ToString();
  back = ReadSegmentation(*seg, f.volume);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->segments[1].algorithm_name, "caliper-threshold");
  EXPECT_EQ(back->segments[1].algorithm_identification.name, "");
}

// A SEG is read only onto the series it was drawn on: its Frame of Reference and its
// Referenced Series Sequence say which.
TEST(SegTest, ASegOfAnotherFrameOfReferenceOrSeriesIsRefused) {
  Fixture f = Make();
  auto seg = WriteSegmentation(f.map, f.volume, f.files[0]);
  ASSERT_TRUE(seg.ok()) << seg.status().ToString();
  auto refs = ReadSegmentationReferences(*seg);
  ASSERT_TRUE(refs.ok()) << refs.status().ToString();
  EXPECT_EQ(refs->frame_of_reference_uid, f.volume.frame_of_reference_uid);
  EXPECT_EQ(refs->series_instance_uids, std::vector<std::string>{f.volume.series_instance_uid});
  EXPECT_FALSE(ReadSegmentationReferences(Bytes{'n', 'o', 'p', 'e'}).ok());

  const Bytes other_frame = testing::Modify(*seg, [](DcmDataset& ds) {
    ASSERT_TRUE(ds.putAndInsertString(DCM_FrameOfReferenceUID, "2.25.1").good());
  });
  auto refused = ReadSegmentation(other_frame, f.volume);
  EXPECT_EQ(refused.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("Frame of Reference UID 2.25.1 is not the series'"), std::string::npos)
      << refused.status().ToString();
  const Bytes no_frame = testing::Modify(*seg, [](DcmDataset& ds) { (void)ds.findAndDeleteElement(DCM_FrameOfReferenceUID); });
  EXPECT_NE(ReadSegmentation(no_frame, f.volume).status().message().find("names no Frame of Reference UID"),
            std::string::npos);
  const Bytes other_series = testing::Modify(*seg, [](DcmDataset& ds) {
    DcmItem* series = nullptr;
    ASSERT_TRUE(ds.findAndGetSequenceItem(DCM_ReferencedSeriesSequence, series, 0).good());
    ASSERT_TRUE(series->putAndInsertString(DCM_SeriesInstanceUID, "2.25.2").good());
  });
  refused = ReadSegmentation(other_series, f.volume);
  EXPECT_NE(refused.status().message().find("references series 2.25.2, not the series"), std::string::npos)
      << refused.status().ToString();
  // A volume that does not know its series (a NIfTI item's) reads it by geometry alone.
  Volume anonymous = f.volume;
  anonymous.frame_of_reference_uid.clear();
  anonymous.series_instance_uid.clear();
  auto by_geometry = ReadSegmentation(other_frame, anonymous);
  ASSERT_TRUE(by_geometry.ok()) << by_geometry.status().ToString();
  EXPECT_EQ(by_geometry->labels, f.map.labels);
}

// With fixed UIDs and date/time the output is the same bytes every time (dataset exports).
TEST(SegTest, FixedUidsAndTimeGiveTheSameBytesEveryTime) {
  Fixture f = Make();
  SegWriteOptions o;
  o.sop_instance_uid = "2.25.11";
  o.series_instance_uid = "2.25.12";
  o.dimension_organization_uid = "2.25.13";
  o.content_date = "20261127";
  o.content_time = "083000";
  auto a = WriteSegmentation(f.map, f.volume, f.files[0], o);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  auto b = WriteSegmentation(f.map, f.volume, f.files[0], o);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(*a, *b);
  auto generated = WriteSegmentation(f.map, f.volume, f.files[0]);
  ASSERT_TRUE(generated.ok());
  EXPECT_NE(*a, *generated);  // otherwise fresh UIDs
  const std::string text(a->begin(), a->end());
  for (const char* v : {"2.25.11", "2.25.12", "2.25.13", "20261127", "083000"}) {
    EXPECT_NE(text.find(v), std::string::npos) << v;
  }
}

// dciodvfy (dicom3tools) must report no error for what we write.
TEST(SegTest, DciodvfyFindsNoErrors) {
  if (std::system("command -v dciodvfy > /dev/null 2>&1") != 0) {
    if (SampleDataRequired()) FAIL() << "dciodvfy (Debian dicom3tools) is required";
    GTEST_SKIP() << "dciodvfy not installed";
  }
  Fixture f = Make();
  auto seg = WriteSegmentation(f.map, f.volume, f.files[0]);
  ASSERT_TRUE(seg.ok()) << seg.status().ToString();
  const std::string path = TempPath("seg.dcm");
  WriteFile(path, *seg);
  int status = 0;
  const std::string report = RunCommand("dciodvfy '" + path + "'", &status);
  fs::remove(path);
  EXPECT_EQ(report.find("Error"), std::string::npos) << report;
  EXPECT_NE(report.find("Segmentation"), std::string::npos) << report;  // it knew the IOD
}

// pydicom reads it back with matching geometry, segments and references.
TEST(SegTest, PydicomReadsMatchingGeometry) {
  // A dependency scripts/bootstrap.sh installs, not sample data: required everywhere.
  ASSERT_TRUE(fs::exists("/usr/bin/python3")) << "python3 with pydicom (Debian python3-pydicom) is required";
  Fixture f = Make();
  auto seg = WriteSegmentation(f.map, f.volume, f.files[0]);
  ASSERT_TRUE(seg.ok());
  const std::string path = TempPath("seg_py.dcm");
  WriteFile(path, *seg);
  int status = 0;
  const std::string out = RunCommand(std::string("/usr/bin/python3 ") + CALIPER_SOURCE_DIR +
                                  "/tests/imaging/pydicom_seg_check.py '" + path + "'",
                              &status);
  fs::remove(path);
  ASSERT_EQ(status, 0) << out;
  const auto j = nlohmann::json::parse(out);
  EXPECT_EQ(j["sop_class"], "1.2.840.10008.5.1.4.1.1.66.4");
  EXPECT_EQ(j["rows"], 36);
  EXPECT_EQ(j["columns"], 48);
  EXPECT_EQ(j["frame_of_reference"], f.volume.frame_of_reference_uid);
  EXPECT_EQ(j["study"], f.volume.study_instance_uid);
  EXPECT_EQ(j["referenced_series"], f.volume.series_instance_uid);
  EXPECT_EQ(j["referenced_instances"], 9);
  EXPECT_EQ(j["pixel_spacing"], nlohmann::json({0.8, 0.8}));
  EXPECT_EQ(j["orientation"], nlohmann::json({1, 0, 0, 0, 1, 0}));
  ASSERT_EQ(j["segments"].size(), 2u);
  EXPECT_EQ(j["segments"][0]["algorithm"], "MANUAL");
  EXPECT_FALSE(j["segments"][0].contains("algorithm_name"));
  EXPECT_FALSE(j["segments"][0].contains("identification"));
  EXPECT_EQ(j["segments"][1]["algorithm"], "AUTOMATIC");
  EXPECT_EQ(j["segments"][1]["algorithm_name"], "caliper-threshold");
  EXPECT_EQ(j["segments"][1]["identification"],
            nlohmann::json::parse(R"({"family": ["123105", "DCM", "Histogram Analysis"],
                                      "name": "caliper-threshold", "version": "1.2"})"));
  EXPECT_EQ(j["segments"][0]["type"], "108369006");
  int total_set[3] = {0, 0, 0};
  for (const auto& frame : j["per_frame"]) {
    const int segment = frame["segment"];
    total_set[segment] += frame["set"].get<int>();
    // The frame's position is a slice of the volume, and its source is that slice's instance.
    const double z = frame["position"][2];
    const int k = static_cast<int>(std::lround(z / 2.0));
    ASSERT_GE(k, 0);
    ASSERT_LT(k, 9);
    EXPECT_NEAR(z, 2.0 * k, 1e-6);
    EXPECT_EQ(frame["source"], f.volume.slices[k].sop_instance_uid);
  }
  EXPECT_EQ(total_set[1], std::count(f.map.labels.begin(), f.map.labels.end(), 1));
  EXPECT_EQ(total_set[2], std::count(f.map.labels.begin(), f.map.labels.end(), 2));
}

TEST(SegTest, ValidationAndAlignmentMessages) {
  Fixture f = Make();
  LabelMap bad = f.map;
  bad.segments[1].algorithm_name.clear();
  EXPECT_NE(ValidateLabelMap(bad).message().find("must name its algorithm"), std::string::npos);
  bad = f.map;
  bad.segments.pop_back();
  EXPECT_NE(ValidateLabelMap(bad).message().find("label 2"), std::string::npos);
  bad = f.map;
  bad.segments[0].type.value.clear();
  EXPECT_FALSE(ValidateLabelMap(bad).ok());
  bad = f.map;
  bad.dims[2] = 8;
  EXPECT_FALSE(ValidateLabelMap(bad).ok());
  bad.labels.resize(static_cast<std::size_t>(48) * 36 * 8);
  EXPECT_NE(CheckAligned(bad, f.volume).message().find("mask is 48x36x8 but the volume is 48x36x9"),
            std::string::npos);
  bad = f.map;
  bad.lps[0][3] += 0.5;
  const Status shifted = CheckAligned(bad, f.volume);
  EXPECT_NE(shifted.message().find("not on the volume's grid"), std::string::npos) << shifted.message();
  EXPECT_EQ(WriteSegmentation(bad, f.volume, f.files[0]).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(CheckAligned(f.map, f.volume).ok());
}

TEST(SegTest, StoredFormIsZstdAndRoundTrips) {
  Fixture f = Make();
  auto stored = CompressLabelMap(f.map);
  ASSERT_TRUE(stored.ok());
  EXPECT_LT(stored->size(), f.map.labels.size() / 10);
  auto back = DecompressLabelMap(*stored);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->labels, f.map.labels);
  EXPECT_EQ(back->dims, f.map.dims);
  EXPECT_EQ(back->lps, f.map.lps);
  EXPECT_EQ(back->segments[1].algorithm_name, "caliper-threshold");
  EXPECT_EQ(back->segments[1].algorithm_identification.family.meaning, "Histogram Analysis");
  EXPECT_EQ(back->segments[1].algorithm_identification.version, "1.2");
  EXPECT_EQ(back->segments[0].category.meaning, "Morphologically abnormal structure");
  Bytes corrupt = *stored;
  corrupt[corrupt.size() / 2] ^= 0xff;
  EXPECT_FALSE(DecompressLabelMap(corrupt).ok());
  EXPECT_EQ(DecompressLabelMap(Bytes{'n', 'o', 'p', 'e'}).status().code(), ErrorCode::kIntegrity);
  EXPECT_FALSE(DecompressLabelMap(*stored, 100).ok());
}

// Masks stored before segments had algorithm identification ("CLM1") still read.
TEST(SegTest, TheEarlierStoredFormStillReads) {
  Fixture f = Make();
  Bytes payload;
  auto put = [&](const void* p, std::size_t n) {
    payload.insert(payload.end(), static_cast<const std::uint8_t*>(p), static_cast<const std::uint8_t*>(p) + n);
  };
  auto str = [&](const std::string& s) {
    const auto n = static_cast<std::uint32_t>(s.size());
    put(&n, sizeof n);
    put(s.data(), s.size());
  };
  for (int d : f.map.dims) {
    const auto v = static_cast<std::int32_t>(d);
    put(&v, sizeof v);
  }
  for (const auto& row : f.map.lps) put(row.data(), sizeof(double) * row.size());
  const auto count = static_cast<std::uint32_t>(f.map.segments.size());
  put(&count, sizeof count);
  for (const Segment& s : f.map.segments) {
    const auto algorithm = static_cast<std::uint8_t>(s.algorithm);
    put(&s.label, 1);
    put(&algorithm, 1);
    for (const std::string* v : {&s.class_id, &s.name, &s.category.value, &s.category.scheme, &s.category.meaning,
                                 &s.type.value, &s.type.scheme, &s.type.meaning, &s.algorithm_name}) {
      str(*v);
    }
  }
  put(f.map.labels.data(), f.map.labels.size());
  auto frame = ZstdCompress(payload);
  ASSERT_TRUE(frame.ok());
  Bytes v1 = {'C', 'L', 'M', '1'};
  v1.insert(v1.end(), frame->begin(), frame->end());
  auto back = DecompressLabelMap(v1);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->labels, f.map.labels);
  ASSERT_EQ(back->segments.size(), 2u);
  EXPECT_EQ(back->segments[1].algorithm, SegmentAlgorithm::kAutomatic);
  EXPECT_EQ(back->segments[1].algorithm_name, "caliper-threshold");
  EXPECT_FALSE(back->segments[1].algorithm_identification.Complete());
  v1[3] = '9';
  EXPECT_EQ(DecompressLabelMap(v1).status().code(), ErrorCode::kIntegrity);
}

Bytes ReadSample(const std::string& relative) {
  auto path = SampleDataFile(relative);
  if (!path) return {};
  std::ifstream in(*path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

TEST(SegTest, ReadsTheSampleSegmentations) {
  std::vector<Bytes> source;
  for (const char* name : {"17106.dcm", "17136.dcm", "17166.dcm", "17196.dcm"}) {
    source.push_back(ReadSample(std::string("dicom-seg/source-ct-16x16/") + name));
    if (source.back().empty()) {
      if (SampleDataRequired()) FAIL() << "sample data missing";
      GTEST_SKIP() << "CALIPER_SAMPLE_DATA not set";
    }
  }
  std::vector<std::span<const std::uint8_t>> all(source.begin(), source.end());
  // The first slice lies 202.5 mm (162 steps) below the others: refused as a gap.
  auto whole = BuildVolume(all);
  ASSERT_FALSE(whole.ok());
  EXPECT_NE(whole.status().message().find("gap: 161 missing slice(s)"), std::string::npos)
      << whole.status().message();
  // The SEGs cover the other three (1.25 mm apart).
  std::vector<std::span<const std::uint8_t>> three(all.begin() + 1, all.end());
  auto volume = BuildVolume(three);
  ASSERT_TRUE(volume.ok()) << volume.status().ToString();

  auto binary = ReadSegmentation(ReadSample("dicom-seg/seg_image_ct_binary.dcm"), *volume);
  ASSERT_TRUE(binary.ok()) << binary.status().ToString();
  ASSERT_EQ(binary->segments.size(), 1u);
  EXPECT_EQ(binary->segments[0].name, "first segment");
  const auto set = std::count(binary->labels.begin(), binary->labels.end(), 1);
  EXPECT_GT(set, 0);
  auto fractional = ReadSegmentation(ReadSample("dicom-seg/seg_image_ct_binary_fractional.dcm"), *volume);
  ASSERT_TRUE(fractional.ok()) << fractional.status().ToString();
  EXPECT_EQ(fractional->labels, binary->labels);

  // This one also covers the far first slice, which is not part of the volume.
  auto overlap = ReadSegmentation(ReadSample("dicom-seg/seg_image_ct_binary_overlap.dcm"), *volume);
  ASSERT_FALSE(overlap.ok());
  EXPECT_NE(overlap.status().message().find("frame 1 lies on no slice of the volume"),
            std::string::npos)
      << overlap.status().message();

  auto labelmap = ReadSegmentation(ReadSample("dicom-seg/seg_image_sm_control_labelmap.dcm"), *volume);
  EXPECT_EQ(labelmap.status().code(), ErrorCode::kUnsupported);
  auto slide = ReadSegmentation(ReadSample("dicom-seg/sm_image_control.dcm"), *volume);
  EXPECT_NE(slide.status().message().find("not a DICOM Segmentation"), std::string::npos);

  // And what we write on this real series reads back the same.
  auto rewritten = WriteSegmentation(*binary, *volume, source[1]);
  ASSERT_TRUE(rewritten.ok()) << rewritten.status().ToString();
  auto again = ReadSegmentation(*rewritten, *volume);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->labels, binary->labels);
}

}  // namespace
}  // namespace caliper::dicom

// Masks in a snapshot: NIfTI label maps on the volume's grid, STAPLE probability maps equal to
// quality::StapleBinary, DICOM-SEG that reads back and passes dciodvfy, all byte-identical when
// built twice. Fixtures: the CT phantom of our own generator.

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "caliper/common/sample_data.h"
#include "caliper/dicom/label_map.h"
#include "caliper/dicom/phantom.h"
#include "caliper/exports/snapshot.h"
#include "caliper/ingest/volume_nifti.h"
#include "caliper/quality/staple.h"

namespace caliper::exports {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using Bytes = std::vector<std::uint8_t>;

const dicom::Segment kLiver{1, "liver", "Liver", {"123037004", "SCT", "Anatomical structure"},
                            {"10200004", "SCT", "Liver"}, dicom::SegmentAlgorithm::kManual, "", {}};
const dicom::Segment kLesion{2, "lesion", "Lesion", {"49755003", "SCT", "Morphologically abnormal structure"},
                             {"108369006", "SCT", "Neoplasm"}, dicom::SegmentAlgorithm::kManual, "", {}};

struct Phantom {
  std::vector<Bytes> files;
  dicom::Volume volume;
};

Phantom MakePhantom() {
  dicom::CtPhantomOptions o;
  o.slices = 6;
  o.rows = 24;
  o.cols = 32;
  o.seed = 5;
  o.accession_number = "ACC-0042";  // the default is too long for SH
  Phantom p;
  auto files = dicom::MakeCtPhantomSeries(o);
  EXPECT_TRUE(files.ok()) << files.status().ToString();
  if (!files.ok()) return p;
  p.files = *files;
  std::vector<std::span<const std::uint8_t>> spans(p.files.begin(), p.files.end());
  auto volume = dicom::BuildVolume(spans);
  EXPECT_TRUE(volume.ok()) << volume.status().ToString();
  if (volume.ok()) p.volume = *volume;
  return p;
}

// Reader masks of the phantom: reader-01 the liver and the lesion; reader-02 the liver without
// its first column of voxels (so the two disagree) and no lesion.
dicom::LabelMap ReaderMap(const dicom::Volume& v, int reader) {
  dicom::LabelMap map = dicom::EmptyLabelMap(v);
  for (int k = 0; k < v.dims[2]; ++k) {
    for (int j = 0; j < v.dims[1]; ++j) {
      bool first = true;
      for (int i = 0; i < v.dims[0]; ++i) {
        const std::size_t n = v.Index(i, j, k);
        if (v.values[n] == dicom::kPhantomLiverHu) {
          if (reader == 1 || !first) map.labels[n] = 1;
          first = false;
        }
        if (reader == 1 && v.values[n] == dicom::kPhantomLesionHu) map.labels[n] = 2;
      }
    }
  }
  map.segments = reader == 1 ? std::vector<dicom::Segment>{kLiver, kLesion} : std::vector<dicom::Segment>{kLiver};
  return map;
}

SnapshotMask Stored(const dicom::LabelMap& map, std::int64_t version) {
  auto bytes = dicom::CompressLabelMap(map);
  EXPECT_TRUE(bytes.ok()) << bytes.status().ToString();
  return {version, bytes.ok() ? *bytes : Bytes{}};
}

SnapshotInput MaskInput(const Phantom& p) {
  SnapshotInput in;
  in.dataset_id = "exp_masks";
  in.project_id = "prj_masks";
  in.created_at = "2026-11-27T08:30:00Z";
  in.caliper_version = "0.test";
  in.code_system_of = {{"liver", "SNOMED CT"}, {"lesion", "SNOMED CT"}};
  in.code_of = {{"liver", "10200004"}, {"lesion", "108369006"}};
  SnapshotItem it;
  it.item.id = "itm_ct";
  it.item.patient_key = "p1";
  it.item.data_type = core::DataType::kImaging;
  it.item.modality = "CT";
  core::Annotation liver;
  liver.label_class = "liver";
  liver.evidence_kind = "mask";
  liver.evidence_json = R"({"version":2})";
  it.readings = {SnapshotReading{"reader-01", "radiologist", {liver}, {}, Stored(ReaderMap(p.volume, 1), 2)},
                 SnapshotReading{"reader-02", "radiologist", {liver}, {}, Stored(ReaderMap(p.volume, 2), 1)}};
  it.final_labels = {liver};
  it.adjudicator = "adjudicator-01";
  it.final_mask = Stored(ReaderMap(p.volume, 1), 1);
  SnapshotVolume volume;
  volume.geometry = ingest::VolumeNiftiGeometry(p.volume);
  volume.series = p.volume;
  volume.series.values.clear();
  volume.source_instance = p.files.front();
  it.volume = volume;
  in.items.push_back(it);
  // The same item as if it had come from a NIfTI file: no DICOM-SEG.
  it.item.id = "itm_nifti";
  it.item.patient_key = "p2";
  it.volume->source_instance.clear();
  in.items.push_back(it);
  return in;
}

std::vector<ingest::NiftiVolume> Decode(const std::string& bytes) {
  auto volumes = ingest::DecodeNifti({reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()});
  EXPECT_TRUE(volumes.ok()) << volumes.status().ToString();
  return volumes.ok() ? *volumes : std::vector<ingest::NiftiVolume>{};
}

TEST(SnapshotMasks, LabelMapsStapleAndSegAreByteIdenticalWhenBuiltTwice) {
  const Phantom p = MakePhantom();
  ASSERT_FALSE(p.files.empty());
  const SnapshotInput in = MaskInput(p);
  auto a = BuildSnapshot(in);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  auto b = BuildSnapshot(in);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(a->files, b->files);
  for (const char* path : {"masks/nifti/itm_ct/reader-01.nii.gz", "masks/nifti/itm_ct/reader-02.nii.gz",
                           "masks/nifti/itm_ct/final.nii.gz", "masks/dicom-seg/itm_ct/reader-01.dcm",
                           "masks/dicom-seg/itm_ct/reader-02.dcm", "masks/dicom-seg/itm_ct/final.dcm",
                           "masks/staple/itm_ct.nii.gz", "masks/staple/itm_ct.json", "masks/index.csv",
                           "masks/nifti/itm_nifti/reader-01.nii.gz", "masks/staple/itm_nifti.nii.gz"}) {
    EXPECT_TRUE(a->files.count(path)) << path;
  }
  EXPECT_FALSE(a->files.count("masks/dicom-seg/itm_nifti/reader-01.dcm"));
  // The manifest hashes every mask file and says why the NIfTI item has no DICOM-SEG.
  const json manifest = json::parse(a->files.at("manifest.json"));
  std::set<std::string> listed;
  for (const auto& f : manifest["files"]) listed.insert(f["path"]);
  for (const auto& [path, bytes] : a->files) {
    if (path != "manifest.json") {
      EXPECT_TRUE(listed.count(path)) << path;
    }
  }
  EXPECT_EQ(manifest["masks"]["nifti"], 6);
  EXPECT_EQ(manifest["masks"]["dicom_seg"], 3);
  EXPECT_EQ(manifest["masks"]["staple"], 2);
  ASSERT_EQ(manifest["masks"]["dicom_seg_skipped"].size(), 3u);
  EXPECT_EQ(manifest["masks"]["dicom_seg_skipped"][0]["item_id"], "itm_nifti");
  EXPECT_NE(manifest["masks"]["dicom_seg_skipped"][0]["reason"].get<std::string>().find("NIfTI"), std::string::npos);
  EXPECT_NE(a->files.at("masks/index.csv").find("itm_ct,p1,train,reader-01,2,1=liver 2=lesion,"
                                                "masks/nifti/itm_ct/reader-01.nii.gz,masks/dicom-seg/itm_ct/reader-01.dcm\n"),
            std::string::npos)
      << a->files.at("masks/index.csv");
  EXPECT_NE(a->files.at("masks/index.csv").find("itm_nifti,p2,"), std::string::npos);
  // Another snapshot of the same data: other DICOM UIDs.
  SnapshotInput other = in;
  other.dataset_id = "exp_other";
  auto c = BuildSnapshot(other);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->files.at("masks/nifti/itm_ct/reader-01.nii.gz"), a->files.at("masks/nifti/itm_ct/reader-01.nii.gz"));
  EXPECT_NE(c->files.at("masks/dicom-seg/itm_ct/reader-01.dcm"), a->files.at("masks/dicom-seg/itm_ct/reader-01.dcm"));
}

TEST(SnapshotMasks, NiftiDecodesToTheSameVoxelsOnTheVolumesGrid) {
  const Phantom p = MakePhantom();
  ASSERT_FALSE(p.files.empty());
  auto s = BuildSnapshot(MaskInput(p));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  const auto geometry = ingest::VolumeNiftiGeometry(p.volume);
  for (int reader : {1, 2}) {
    const auto volumes = Decode(s->files.at("masks/nifti/itm_ct/reader-0" + std::to_string(reader) + ".nii.gz"));
    ASSERT_EQ(volumes.size(), 1u);
    const auto expected = ReaderMap(p.volume, reader).labels;
    ASSERT_EQ(volumes[0].values.size(), expected.size());
    for (std::size_t n = 0; n < expected.size(); ++n) ASSERT_EQ(volumes[0].values[n], expected[n]) << n;
    EXPECT_EQ(volumes[0].geometry.dims, geometry.dims);
    EXPECT_EQ(volumes[0].geometry.sform_code, geometry.sform_code);
    for (int r = 0; r < 3; ++r) {
      for (int c = 0; c < 4; ++c) EXPECT_NEAR(volumes[0].geometry.srow[r][c], geometry.srow[r][c], 1e-5);
    }
  }
}

TEST(SnapshotMasks, StapleMapEqualsQualityStaplePerClass) {
  const Phantom p = MakePhantom();
  ASSERT_FALSE(p.files.empty());
  auto s = BuildSnapshot(MaskInput(p));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  const auto volumes = Decode(s->files.at("masks/staple/itm_ct.nii.gz"));
  ASSERT_EQ(volumes.size(), 2u);  // liver, lesion
  const json description = json::parse(s->files.at("masks/staple/itm_ct.json"));
  ASSERT_EQ(description["classes"].size(), 2u);
  const auto r1 = ReaderMap(p.volume, 1), r2 = ReaderMap(p.volume, 2);
  quality::Grid grid;
  grid.dims = {p.volume.dims[0], p.volume.dims[1], p.volume.dims[2]};
  grid.spacing_mm = p.volume.spacing_mm;
  for (int c = 0; c < 2; ++c) {
    const json& cls = description["classes"][c];
    EXPECT_EQ(cls["class"], c == 0 ? "liver" : "lesion");
    EXPECT_EQ(cls["volume"], c);
    EXPECT_EQ(cls["code"]["code"], c == 0 ? "10200004" : "108369006");
    const std::uint8_t label = static_cast<std::uint8_t>(c + 1);
    std::vector<std::uint8_t> a(r1.labels.size()), b(r2.labels.size());
    for (std::size_t n = 0; n < a.size(); ++n) {
      a[n] = r1.labels[n] == label;
      b[n] = r2.labels[n] == label;
    }
    const std::vector<quality::MaskView> views = {{grid, a}, {grid, b}};
    auto expected = quality::StapleBinary(views);
    ASSERT_TRUE(expected.ok()) << expected.status().ToString();
    const auto& map = volumes[static_cast<std::size_t>(c)].values;
    ASSERT_EQ(map.size(), expected->consensus.size());
    for (std::size_t n = 0; n < map.size(); ++n) {
      ASSERT_GE(map[n], 0.0f);
      ASSERT_LE(map[n], 1.0f);
      ASSERT_EQ(map[n], expected->consensus[n]) << n;
    }
    ASSERT_EQ(cls["readers"].size(), 2u);
    EXPECT_EQ(cls["readers"][1]["reader"], "reader-02");
    EXPECT_NEAR(cls["readers"][0]["sensitivity"].get<double>(), expected->sensitivity[0], 1e-9);
    EXPECT_NEAR(cls["readers"][1]["specificity"].get<double>(), expected->specificity[1], 1e-9);
    EXPECT_NEAR(cls["prior"].get<double>(), expected->prior, 1e-9);
  }
  // reader-02 missed a column of the liver: less sensitive than reader-01.
  EXPECT_LT(description["classes"][0]["readers"][1]["sensitivity"].get<double>(),
            description["classes"][0]["readers"][0]["sensitivity"].get<double>());
  EXPECT_EQ(description["masks"], json::parse(R"([{"reader":"reader-01","version":2},{"reader":"reader-02","version":1}])"));
}

std::string TempPath(const std::string& name) {
  return (fs::temp_directory_path() / ("caliper_masks_" + std::to_string(::getpid()) + "_" + name)).string();
}

TEST(SnapshotMasks, DicomSegReadsBackAndPassesDciodvfy) {
  const Phantom p = MakePhantom();
  ASSERT_FALSE(p.files.empty());
  auto s = BuildSnapshot(MaskInput(p));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  const bool have_dciodvfy = std::system("command -v dciodvfy > /dev/null 2>&1") == 0;
  if (!have_dciodvfy && SampleDataRequired()) FAIL() << "dciodvfy (Debian dicom3tools) is required";
  for (const char* name : {"reader-01", "reader-02", "final"}) {
    const std::string& bytes = s->files.at(std::string("masks/dicom-seg/itm_ct/") + name + ".dcm");
    const Bytes seg(bytes.begin(), bytes.end());
    auto back = dicom::ReadSegmentation(seg, p.volume);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(back->labels, ReaderMap(p.volume, std::string(name) == "reader-02" ? 2 : 1).labels) << name;
    if (!have_dciodvfy) continue;
    const std::string path = TempPath(std::string(name) + ".dcm"), report_path = path + ".txt";
    std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    (void)std::system(("dciodvfy '" + path + "' > '" + report_path + "' 2>&1").c_str());
    std::ifstream in(report_path);
    const std::string report((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    fs::remove(path);
    fs::remove(report_path);
    EXPECT_EQ(report.find("Error"), std::string::npos) << name << ":\n" << report;
    EXPECT_NE(report.find("Segmentation"), std::string::npos) << report;  // it knew the IOD
  }
  if (!have_dciodvfy) GTEST_SKIP() << "dciodvfy not installed; the SEGs read back but were not validated";
}

TEST(SnapshotMasks, AMaskOffTheVolumesGridFailsTheBuild) {
  const Phantom p = MakePhantom();
  ASSERT_FALSE(p.files.empty());
  SnapshotInput in = MaskInput(p);
  dicom::Volume smaller = p.volume;
  smaller.dims[2] -= 1;
  smaller.values.resize(static_cast<std::size_t>(smaller.dims[0]) * smaller.dims[1] * smaller.dims[2]);
  in.items[0].readings[1].mask = Stored(dicom::EmptyLabelMap(smaller), 3);
  auto s = BuildSnapshot(in);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), ErrorCode::kIntegrity);
  EXPECT_NE(s.status().message().find("reader-02"), std::string::npos) << s.status().message();
  EXPECT_NE(s.status().message().find("but the volume is 32x24x6"), std::string::npos) << s.status().message();
}

}  // namespace
}  // namespace caliper::exports

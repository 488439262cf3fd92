// Imaging in through the App: DICOM de-identified before storage and grouped into one item
// per series (also over two uploads), duplicates, bad and quarantined files, the volume as
// NIfTI, the re-identification link, NIfTI ingest (3D and 4D), slices, readers' masks and
// masks in a dataset export.

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "app/app_test_support.h"
#include "caliper/app/app.h"
#include "caliper/common/sample_data.h"
#include "caliper/dicom/encode.h"
#include "caliper/dicom/image.h"
#include "caliper/dicom/label_map.h"
#include "caliper/dicom/phantom.h"
#include "caliper/exports/snapshot.h"
#include "caliper/ingest/nifti_io.h"
#include "dicom/test_phantom.h"

namespace caliper::app {
namespace {

using nlohmann::json;

constexpr int kSlices = 6, kSize = 24;

class ImagingTest : public ProjectAppTest {
 protected:
  ImagingTest() : ProjectAppTest("caliper_imaging_test_", "Imaging") {}

  void SetUp() override {
    ProjectAppTest::SetUp();
    if (HasFatalFailure()) return;
    phantom_ = Phantom(7);
    ASSERT_EQ(phantom_.size(), static_cast<std::size_t>(kSlices));
  }

  // The whole phantom ingested as one series item: its id ("" on failure), and the report.
  std::string IngestPhantom(DicomIngestReport* report = nullptr) {
    DicomIngestReport r = Ingest(Slices({0, 1, 2, 3, 4, 5}));
    EXPECT_EQ(r.series.size(), 1u);
    if (report != nullptr) *report = r;
    return r.series.size() == 1u ? r.series[0].item_id : "";
  }

  // A phantom CT series (kSlices slices of kSize x kSize), its UIDs derived from `seed`.
  static std::vector<std::string> Phantom(std::uint64_t seed) {
    return dicom::testing::CtPhantomFiles(kSlices, kSize, seed);
  }

  // Publishes a guideline of `schema` and makes tasks for `readers` readers per item.
  void PublishWithTasks(const RequestContext& manager, const std::string& schema, int readers) {
    auto draft = app_->CreateGuidelineDraft(manager, project_id_, schema);
    ASSERT_TRUE(draft.ok()) << draft.status().ToString();
    ASSERT_TRUE(app_->PublishGuideline(manager, project_id_, draft->id, draft->revision).ok());
    core::WorkflowSettings settings;
    settings.project_id = project_id_;
    settings.readers_per_item = readers;
    ASSERT_TRUE(app_->PutWorkflowSettings(manager, settings).ok());
    ASSERT_TRUE(app_->CreateTasks(manager, project_id_, {}).ok());
  }

  // The phantom's slices `slices` (0-based) as inputs named "ct_<k>".
  std::vector<ImagingInput> Slices(std::initializer_list<int> slices) const {
    std::vector<ImagingInput> out;
    for (int k : slices) out.push_back({"ct_" + std::to_string(k), phantom_[k]});
    return out;
  }

  // The phantom's slice `k` varied by `vary`, named `name`: an odd instance of the phantom's
  // series (the same seed: series, study and patient; its own SOP Instance UID).
  static ImagingInput OddSlice(const std::string& name, int k,
                               const std::function<void(dicom::CtPhantomOptions&)>& vary) {
    dicom::CtPhantomOptions o;
    o.slices = kSlices;
    o.rows = o.cols = kSize;
    o.seed = 7;
    o.sop_label = name;
    vary(o);
    auto series = dicom::MakeCtPhantomSeries(o);
    EXPECT_TRUE(series.ok()) << series.status().ToString();
    return {name, series.ok() ? std::string(series->at(k).begin(), series->at(k).end()) : ""};
  }

  // `bytes` (a Part 10 file) in JPEG Lossless (Process 14, SV1) with its one fragment's bytes
  // overwritten by zeros: the header reads and de-identifies, the pixel data does not decode.
  static std::string UndecodableJpeg(const std::string& bytes) {
    auto jpeg = dicom::Transcode({reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()},
                                 "1.2.840.10008.1.2.4.70");
    EXPECT_TRUE(jpeg.ok()) << jpeg.status().ToString();
    if (!jpeg.ok()) return "";
    std::string out(jpeg->begin(), jpeg->end());
    const std::size_t pixel_data = out.find(std::string("\xE0\x7F\x10\x00", 4));
    const std::size_t soi = out.find("\xFF\xD8\xFF", pixel_data);  // the fragment's JPEG stream
    EXPECT_TRUE(pixel_data != std::string::npos && soi != std::string::npos && soi >= 4);
    if (pixel_data == std::string::npos || soi == std::string::npos || soi < 4) return "";
    std::uint32_t length = 0;  // the fragment item's length, just before its data
    for (int b = 3; b >= 0; --b) length = (length << 8) | static_cast<unsigned char>(out[soi - 4 + b]);
    EXPECT_LE(soi + length, out.size());
    std::fill(out.begin() + static_cast<std::ptrdiff_t>(soi),
              out.begin() + static_cast<std::ptrdiff_t>(std::min<std::size_t>(soi + length, out.size())), '\0');
    return out;
  }

  // Blob files (not temporary ones or the sweep's lock).
  std::size_t BlobFiles() const {
    std::size_t n = 0;
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir_ / "blobs")) {
      n += e.is_regular_file() && e.path().filename() != "sweep.lock" &&
           e.path().parent_path().filename() != "tmp";
    }
    return n;
  }

  DicomIngestReport Ingest(std::vector<ImagingInput> inputs) {
    auto report = app_->IngestDicom(LocalOperator(), project_id_, std::move(inputs));
    EXPECT_TRUE(report.ok()) << report.status().ToString();
    return report.ok() ? *report : DicomIngestReport{};
  }

  static std::vector<std::string> Outcomes(const DicomIngestReport& r) {
    std::vector<std::string> out;
    for (const auto& f : r.files) out.push_back(f.outcome);
    return out;
  }

  // The stored series' volume, decoded.
  ingest::NiftiVolume Volume(const std::string& item_id) {
    auto bytes = app_->ReadVolumeNifti(LocalOperator(), item_id);
    EXPECT_TRUE(bytes.ok()) << bytes.status().ToString();
    if (!bytes.ok()) return {};
    auto volumes = ingest::DecodeNifti({reinterpret_cast<const std::uint8_t*>(bytes->data()), bytes->size()});
    EXPECT_TRUE(volumes.ok() && volumes->size() == 1u);
    return volumes.ok() && !volumes->empty() ? volumes->front() : ingest::NiftiVolume{};
  }

  // A label map on the volume of `item_id` (its geometry) with `label` in voxel (i, j, k).
  std::string MaskOn(const std::string& item_id, int label, int i, int j, int k, int slices = kSlices) {
    std::vector<std::uint8_t> labels(static_cast<std::size_t>(kSize) * kSize * slices, 0);
    labels[(static_cast<std::size_t>(k) * kSize + j) * kSize + i] = static_cast<std::uint8_t>(label);
    return MaskOf(item_id, labels, slices);
  }
  std::string MaskOf(const std::string& item_id, const std::vector<std::uint8_t>& labels, int slices = kSlices) {
    ingest::NiftiVolume v = Volume(item_id);
    v.geometry.dims[2] = slices;
    auto bytes = ingest::EncodeNiftiUint8(v.geometry, labels, /*gzip=*/true);
    EXPECT_TRUE(bytes.ok());
    return bytes.ok() ? std::string(bytes->begin(), bytes->end()) : "";
  }

  RequestContext Member(const std::string& name, core::Role role) {
    NewUser spec;
    spec.username = name;
    spec.password = "imaging-test-passphrase-1";
    auto user = app_->CreateUser(LocalOperator(), spec);
    EXPECT_TRUE(user.ok()) << user.status().ToString();
    RequestContext ctx;
    if (!user.ok()) return ctx;
    EXPECT_TRUE(app_->PutMember(LocalOperator(), project_id_, user->user.id, {role}, {core::DataType::kImaging}).ok());
    ctx.principal.user = user->user;
    return ctx;
  }

  // Reader n's mask: a 6x6 square on slices 1..4, shifted n voxels, from row `first_row` on.
  static std::vector<std::uint8_t> Square(int shift, int first_row) {
    std::vector<std::uint8_t> labels(static_cast<std::size_t>(kSize) * kSize * kSlices, 0);
    for (int k = 1; k <= 4; ++k) {
      for (int j = 8 + first_row; j < 14; ++j) {
        for (int i = 8 + shift; i < 14 + shift; ++i) labels[(static_cast<std::size_t>(k) * kSize + j) * kSize + i] = 1;
      }
    }
    return labels;
  }
  static core::Annotation MaskLabel(std::int64_t version) {
    core::Annotation a;
    a.evidence_kind = "mask";
    a.evidence_json = "{\"version\":" + std::to_string(version) + "}";
    a.label_class = "liver";
    return a;
  }

  // One series read by two readers, each with a liver mask (Square(n, 0), as version 2) and a
  // label naming it, escalated to adjudication by a reviewer unless the liver class has
  // `adjudication` thresholds (a JSON object).
  struct MaskDisagreement {
    std::string item_id;
    RequestContext manager, steward, adjudicator;
    std::vector<RequestContext> readers;
    std::vector<std::string> labels;  // the readers' label ids
    std::vector<std::string> tasks;   // and their tasks
  };
  MaskDisagreement ReadersDisagreeOnMasks(const std::string& adjudication = "") {
    MaskDisagreement d;
    DicomIngestReport r = Ingest(Slices({0, 1, 2, 3, 4, 5}));
    EXPECT_EQ(r.series.size(), 1u);
    if (r.series.size() != 1u) return d;
    d.item_id = r.series[0].item_id;
    d.manager = Member("mmanager", core::Role::kManager);
    d.steward = Member("msteward", core::Role::kDataSteward);
    d.readers = {Member("mreader1", core::Role::kAnnotator), Member("mreader2", core::Role::kAnnotator)};
    const RequestContext reviewer = Member("mreviewer", core::Role::kReviewer);
    d.adjudicator = Member("madjudicator", core::Role::kAdjudicator);
    const std::string thresholds = adjudication.empty() ? "" : ", \"adjudication\": " + adjudication;
    auto draft = app_->CreateGuidelineDraft(d.manager, project_id_, R"({"classes": [
        {"id": "liver", "name": "Liver", "kind": "segmentation", "definition": "the liver",
         "codes": [{"system": "SNOMED CT", "code": "10200004", "display": "Liver"}])" + thresholds + "}]}");
    EXPECT_TRUE(draft.ok()) << draft.status().ToString();
    if (!draft.ok()) return d;
    EXPECT_TRUE(app_->PublishGuideline(d.manager, project_id_, draft->id, draft->revision).ok());
    core::WorkflowSettings settings;
    settings.project_id = project_id_;
    settings.readers_per_item = 2;
    EXPECT_TRUE(app_->PutWorkflowSettings(d.manager, settings).ok());
    EXPECT_TRUE(app_->CreateTasks(d.manager, project_id_, {}).ok());
    std::vector<std::string> tasks;
    for (int n = 0; n < 2; ++n) {
      auto task = app_->ClaimNextTask(d.readers[n], project_id_);
      EXPECT_TRUE(task.ok() && task->has_value()) << task.status().ToString();
      if (!task.ok() || !task->has_value()) return d;
      EXPECT_TRUE(app_->PutMask(d.readers[n], d.item_id, MaskOf(d.item_id, Square(n, 0))).ok());
      auto put = app_->PutMask(d.readers[n], d.item_id, MaskOf(d.item_id, Square(n, 0)));  // version 2
      EXPECT_TRUE(put.ok()) << put.status().ToString();
      if (!put.ok()) return d;
      auto label = app_->CreateAnnotation(d.readers[n], d.item_id, MaskLabel(put->version));
      EXPECT_TRUE(label.ok()) << label.status().ToString();
      if (!label.ok()) return d;
      d.labels.push_back(label->id);
      EXPECT_TRUE(app_->SubmitTask(d.readers[n], project_id_, (*task)->id).ok());
      tasks.push_back((*task)->id);
    }
    d.tasks = tasks;
    if (!adjudication.empty()) return d;
    ReviewRequest escalate;
    escalate.decision = core::ReviewDecision::kEscalate;
    escalate.reason = "the readers' livers differ";
    EXPECT_TRUE(app_->ReviewTask(reviewer, project_id_, tasks[1], escalate).ok());
    return d;
  }

  // Two readers' stored squares one voxel apart under a liver class with `dice_below`
  // `threshold`, as the adjudicator sees them; checks the Dice both ways are compared by:
  // 6 x 6 x 4 voxels each, Dice = 2 * 120 / (144 + 144) = 0.833.
  ItemReadings SquaresUnderDiceThreshold(const std::string& threshold) {
    const MaskDisagreement d = ReadersDisagreeOnMasks(R"({"class_mismatch": false, "dice_below": )" + threshold + "}");
    if (HasFailure()) return {};
    auto readings = app_->ListReadings(d.adjudicator, d.item_id);
    EXPECT_TRUE(readings.ok()) << readings.status().ToString();
    if (!readings.ok()) return {};
    EXPECT_EQ(readings->classes.size(), 1u);
    if (readings->classes.size() == 1u) {
      EXPECT_TRUE(readings->classes[0].min_dice.has_value());
      EXPECT_NEAR(readings->classes[0].min_dice.value_or(0), 240.0 / 288.0, 1e-9);
    }
    return *readings;
  }

  // The project's export, requested by d.manager, approved by d.steward and downloaded.
  std::string ExportTar(const MaskDisagreement& d) {
    auto requested = app_->RequestExport(d.manager, project_id_, "liver model", "{}");
    EXPECT_TRUE(requested.ok()) << requested.status().ToString();
    if (!requested.ok()) return "";
    auto built = app_->DecideExport(d.steward, project_id_, requested->id, true, "ok");
    EXPECT_TRUE(built.ok()) << built.status().ToString();
    if (!built.ok()) return "";
    EXPECT_EQ(built->status, "built") << built->error;
    auto token = app_->IssueExportToken(d.manager, project_id_, requested->id, 5);
    EXPECT_TRUE(token.ok());
    auto tar = token.ok() ? app_->DownloadExport(token->token, "192.0.2.1") : Result<std::string>(token.status());
    EXPECT_TRUE(tar.ok()) << tar.status().ToString();
    return tar.ok() ? *tar : "";
  }
  static std::string TarFile(const std::string& tar, const std::string& name) {
    auto bytes = exports::ReadTarFile(tar, name);
    EXPECT_TRUE(bytes.ok()) << name << ": " << bytes.status().ToString();
    return bytes.ok() ? *bytes : std::string();
  }

  // The caller's latest mask, decoded from the NIfTI GET /mask answers with.
  std::vector<std::uint8_t> OwnMask(const RequestContext& ctx, const std::string& item_id) {
    return MaskVoxels(app_->ReadOwnMask(ctx, item_id));
  }
  // The voxels of a mask's NIfTI.
  static std::vector<std::uint8_t> MaskVoxels(const Result<std::string>& back) {
    EXPECT_TRUE(back.ok()) << back.status().ToString();
    if (!back.ok()) return {};
    auto decoded = ingest::DecodeNifti({reinterpret_cast<const std::uint8_t*>(back->data()), back->size()});
    EXPECT_TRUE(decoded.ok() && decoded->size() == 1u);
    if (!decoded.ok() || decoded->empty()) return {};
    return std::vector<std::uint8_t>(decoded->front().values.begin(), decoded->front().values.end());
  }

  // The details of the last audit event named `action`.
  json LastAuditDetails(const std::string& action) {
    json out;
    EXPECT_TRUE(app_->ExportAudit(LocalOperator(), 0, SystemClock::Instance().Now() + kMicrosPerHour,
                                  [&](const storage::AuditEvent& e) {
                                    if (e.action == action) out = json::parse(e.details_json);
                                    return Status::Ok();
                                  })
                    .ok());
    return out;
  }

  // The volume of a series (Part 10 files).
  static dicom::Volume VolumeOf(const std::vector<std::string>& files) {
    std::vector<std::span<const std::uint8_t>> spans;
    for (const auto& f : files) spans.emplace_back(reinterpret_cast<const std::uint8_t*>(f.data()), f.size());
    auto volume = dicom::BuildVolume(spans);
    EXPECT_TRUE(volume.ok()) << volume.status().ToString();
    return volume.ok() ? *volume : dicom::Volume{};
  }

  // A DICOM-SEG of `labels` on `volume` (source: `source`), one segment per entry of `segments`.
  static std::string SegOf(const dicom::Volume& volume, const std::string& source, const std::vector<std::uint8_t>& labels,
                           std::vector<dicom::Segment> segments) {
    dicom::LabelMap map = dicom::EmptyLabelMap(volume);
    map.labels = labels;
    map.segments = std::move(segments);
    auto seg = dicom::WriteSegmentation(map, volume, {reinterpret_cast<const std::uint8_t*>(source.data()), source.size()});
    EXPECT_TRUE(seg.ok()) << seg.status().ToString();
    return seg.ok() ? std::string(seg->begin(), seg->end()) : "";
  }
  static dicom::Segment SegSegment(std::uint8_t label, const std::string& name, dicom::CodedConcept type,
                                   dicom::SegmentAlgorithm algorithm = dicom::SegmentAlgorithm::kManual,
                                   const std::string& algorithm_name = "") {
    return {label, "", name, {"123037004", "SCT", "Anatomical structure"}, std::move(type), algorithm, algorithm_name, {}};
  }

  // The volume rebuilt from the item's stored (de-identified) instances.
  dicom::Volume StoredVolume(const DicomIngestReport& r) {
    std::vector<std::string> files;
    for (const auto& f : r.files) {
      if (f.outcome != "stored") continue;
      auto bytes = app_->ReadDicomInstance(LocalOperator(), f.item_id, f.sop_instance_uid);
      EXPECT_TRUE(bytes.ok()) << bytes.status().ToString();
      if (bytes.ok()) files.push_back(*bytes);
    }
    return VolumeOf(files);
  }

  std::vector<std::string> phantom_;
};

TEST_F(ImagingTest, OneSeriesBecomesOneDeidentifiedItemWithItsVolume) {
  DicomIngestReport r = Ingest(Slices({0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(Outcomes(r), std::vector<std::string>(kSlices, "stored"));
  ASSERT_EQ(r.series.size(), 1u);
  const DicomSeriesResult& s = r.series[0];
  EXPECT_TRUE(s.created);
  EXPECT_EQ(s.added, kSlices);
  EXPECT_EQ(s.instances, kSlices);
  EXPECT_EQ(s.dims, (std::array<int, 3>{kSize, kSize, kSlices}));
  EXPECT_EQ(s.no_volume, "");
  EXPECT_EQ(s.modality, "CT");
  for (const auto& f : r.files) {
    EXPECT_EQ(f.item_id, s.item_id);
    EXPECT_EQ(f.series_uid, s.series_uid);
    EXPECT_NE(f.series_uid, dicom::DeriveUid(7, "series"));  // the pseudonymous UID
  }
  EXPECT_EQ(ItemCount(), 1u);

  auto item = app_->GetItem(LocalOperator(), s.item_id);
  ASSERT_TRUE(item.ok());
  EXPECT_EQ(item->data_type, core::DataType::kImaging);
  EXPECT_EQ(item->modality, "CT");
  EXPECT_EQ(item->content_type, "application/gzip");
  EXPECT_EQ(item->patient_key.rfind("pt_", 0), 0u);
  const json cohort = json::parse(item->cohort_json);
  EXPECT_EQ(cohort.value("sex", ""), "F");
  EXPECT_EQ(cohort.value("age_band", ""), "65-69");
  EXPECT_EQ(cohort.value("protocol", ""), "ABD PELVIS");  // for the subgroup report's protocol
  EXPECT_EQ(cohort.value("ethnicity", ""), "HISPANIC");
  EXPECT_EQ(item->cohort_json.find("DOE"), std::string::npos);

  ingest::NiftiVolume v = Volume(s.item_id);
  EXPECT_EQ(v.geometry.dims, (std::array<std::int64_t, 3>{kSize, kSize, kSlices}));
  EXPECT_FLOAT_EQ(v.geometry.spacing_mm[2], 5.0f);
  EXPECT_TRUE(std::any_of(v.values.begin(), v.values.end(), [](float x) { return x == dicom::kPhantomBoneHu; }));

  // The link back to the original patient and study, only through its own (audited) call.
  auto link = app_->ReadReidentificationLink(LocalOperator(), s.item_id);
  ASSERT_TRUE(link.ok()) << link.status().ToString();
  const json l = json::parse(*link);
  EXPECT_EQ(l["original_patient_id"], "MRN-000123");
  EXPECT_EQ(l["original_study_uid"], dicom::DeriveUid(7, "study"));

  const auto actions = AuditActions();
  for (const char* a : {"dicom.ingest", "item.create", "imaging.series_ingest", "item.read", "imaging.reidentify"}) {
    EXPECT_NE(std::find(actions.begin(), actions.end(), a), actions.end()) << a;
  }
}

TEST_F(ImagingTest, ASeriesSplitOverUploadsStaysOneItemAndRebuildsItsVolume) {
  // Slices 0, 1 and 3: a gap, so no volume yet; the instances are kept.
  DicomIngestReport first = Ingest(Slices({0, 1, 3}));
  ASSERT_EQ(first.series.size(), 1u);
  EXPECT_NE(first.series[0].no_volume, "");
  EXPECT_EQ(first.series[0].dims, (std::array<int, 3>{0, 0, 0}));
  const std::string item_id = first.series[0].item_id;
  EXPECT_EQ(app_->ReadVolumeNifti(LocalOperator(), item_id).status().code(), ErrorCode::kNotFound);

  // The rest, with slice 1 again and slice 4 twice in one upload.
  DicomIngestReport second = Ingest(Slices({2, 1, 4, 4, 5}));
  EXPECT_EQ(Outcomes(second), (std::vector<std::string>{"stored", "duplicate", "stored", "duplicate", "stored"}));
  for (const auto& f : second.files) EXPECT_EQ(f.item_id, item_id) << f.name;
  ASSERT_EQ(second.series.size(), 1u);
  EXPECT_FALSE(second.series[0].created);
  EXPECT_EQ(second.series[0].added, 3);
  EXPECT_EQ(second.series[0].instances, kSlices);
  EXPECT_EQ(second.series[0].dims, (std::array<int, 3>{kSize, kSize, kSlices}));
  EXPECT_EQ(ItemCount(), 1u);
  EXPECT_EQ(Volume(item_id).geometry.dims[2], kSlices);

  // Everything again: all duplicates, nothing new.
  DicomIngestReport third = Ingest(Slices({0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(Outcomes(third), std::vector<std::string>(kSlices, "duplicate"));
  EXPECT_TRUE(third.series.empty());
  EXPECT_EQ(ItemCount(), 1u);
}

TEST_F(ImagingTest, TheBlobSweepDeletesOnlyOldBlobsNoRowNames) {
  namespace fs = std::filesystem;
  const fs::path blobs = dir_ / "blobs";
  auto age_everything = [&] {
    for (const auto& e : fs::recursive_directory_iterator(blobs)) {
      if (e.is_regular_file()) fs::last_write_time(e.path(), fs::file_time_type::clock::now() - std::chrono::hours(48));
    }
  };
  // Each upload that grows the series rebuilds its volume; the volume before is left unnamed.
  std::vector<std::string> sops;
  auto ingest = [&](std::initializer_list<int> slices) {
    DicomIngestReport r = Ingest(Slices(slices));
    for (const auto& f : r.files) sops.push_back(f.sop_instance_uid);
    return r;
  };
  const std::string item_id = ingest({0, 1, 2}).series.at(0).item_id;
  age_everything();
  ASSERT_EQ(ingest({3, 4}).series.at(0).instances, 5);  // this volume stays young
  ASSERT_EQ(ingest({5}).series.at(0).dims, (std::array<int, 3>{kSize, kSize, kSlices}));
  std::ofstream(blobs / "tmp" / "put-00000000000000ab") << "an interrupted write";
  std::ofstream(blobs / "tmp" / "put-00000000000000cd") << "a write under way";
  fs::last_write_time(blobs / "tmp" / "put-00000000000000ab", fs::file_time_type::clock::now() - std::chrono::hours(48));
  auto files = [&] {  // blobs and temporary files (not the sweep's lock file)
    std::size_t n = 0;
    for (const auto& e : fs::recursive_directory_iterator(blobs)) {
      n += e.is_regular_file() && e.path().filename() != "sweep.lock" ? 1 : 0;
    }
    return n;
  };
  const std::size_t before = files();

  App::BlobSweepOptions options;
  options.min_age = std::chrono::hours(0);
  EXPECT_EQ(app_->SweepBlobs(LocalOperator(), options).status().code(), ErrorCode::kInvalidArgument);
  options.min_age = std::chrono::hours(24);
  for (const bool dry_run : {true, false}) {  // the same counts; only the real run deletes
    options.dry_run = dry_run;
    auto swept = app_->SweepBlobs(LocalOperator(), options);
    ASSERT_TRUE(swept.ok()) << swept.status().ToString();
    EXPECT_EQ(swept->dry_run, dry_run);
    EXPECT_EQ(swept->removed, 1) << "the first volume";
    EXPECT_GT(swept->removed_bytes, 0);
    EXPECT_EQ(swept->young, 1) << "the second volume";
    EXPECT_EQ(swept->temporary_removed, 1);
    EXPECT_EQ(swept->blobs, swept->referenced + 2);
    EXPECT_EQ(files(), dry_run ? before : before - 2);
  }
  EXPECT_TRUE(fs::exists(blobs / "tmp" / "put-00000000000000cd"));
  // Everything a row names still reads: the volume, every instance, the re-identification link.
  EXPECT_EQ(Volume(item_id).geometry.dims[2], kSlices);
  ASSERT_EQ(sops.size(), static_cast<std::size_t>(kSlices));
  for (const auto& sop : sops) EXPECT_TRUE(app_->ReadDicomInstance(LocalOperator(), item_id, sop).ok()) << sop;
  EXPECT_TRUE(app_->ReadReidentificationLink(LocalOperator(), item_id).ok());
  // A second sweep finds nothing more to delete; both runs are audited with their counts.
  auto again = app_->SweepBlobs(LocalOperator(), options);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->removed, 0);
  const auto actions = AuditActions();
  EXPECT_EQ(std::count(actions.begin(), actions.end(), "blobs.sweep"), 3);
}

// The top-level text attributes of a stored instance (dicom::ReadTextAttributes), audited read.
std::map<std::string, std::string> StoredAttributes(App& app, const std::string& item_id, const std::string& sop) {
  auto bytes = app.ReadDicomInstance(LocalOperator(), item_id, sop);
  EXPECT_TRUE(bytes.ok()) << bytes.status().ToString();
  if (!bytes.ok()) return {};
  auto attributes = dicom::ReadTextAttributes({reinterpret_cast<const std::uint8_t*>(bytes->data()), bytes->size()});
  EXPECT_TRUE(attributes.ok()) << attributes.status().ToString();
  return attributes.ok() ? *attributes : std::map<std::string, std::string>{};
}

std::string Get(const std::map<std::string, std::string>& attributes, const std::string& tag) {
  auto it = attributes.find(tag);
  return it == attributes.end() ? "" : it->second;
}

constexpr char kStudyDate[] = "00080020", kPatientSex[] = "00100040", kPatientAge[] = "00101010",
               kStudyUid[] = "0020000D", kDeidMethod[] = "00120063", kTemporalModified[] = "00280303",
               kSynthCreator[] = "00090010", kSynthName[] = "00091001", kSynthId[] = "00091002";

TEST_F(ImagingTest, TheProjectsDicomOptionsShapeWhatIsStoredFromThenOn) {
  // Defaults first: the Basic Profile alone.
  auto defaults = app_->GetDicomSettings(LocalOperator(), project_id_);
  ASSERT_TRUE(defaults.ok());
  EXPECT_TRUE(defaults->options.empty());
  EXPECT_EQ(defaults->updated_at, 0);

  core::DicomSettings settings;
  settings.project_id = project_id_;
  settings.options = {"retain-modified-dates", "retain-patient-characteristics"};
  settings.safe_private = {"CALIPER SYNTH:0009:02"};
  settings.blanking = {"CT/Caliper Synthetic/PHANTOM-1:0,0,4,3"};
  auto put = app_->PutDicomSettings(LocalOperator(), settings);
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  EXPECT_EQ(put->options, (std::vector<std::string>{"retain-dates", "retain-patient-characteristics",
                                                    "retain-safe-private"}));
  settings.options = {"retain-uids"};
  EXPECT_EQ(app_->PutDicomSettings(LocalOperator(), settings).status().code(), ErrorCode::kInvalidArgument);
  settings.options = {};
  settings.blanking = {"CT:0,0,4"};
  EXPECT_EQ(app_->PutDicomSettings(LocalOperator(), settings).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(app_->GetDicomSettings(LocalOperator(), project_id_)->options, put->options) << "refusals change nothing";

  DicomIngestReport first = Ingest(Slices({0, 1, 2}));
  ASSERT_EQ(Outcomes(first), std::vector<std::string>(3, "stored"));
  const std::string item_id = first.series.at(0).item_id;
  const auto a0 = StoredAttributes(*app_, item_id, first.files[0].sop_instance_uid);
  const auto a1 = StoredAttributes(*app_, item_id, first.files[1].sop_instance_uid);
  // Retain Longitudinal Temporal Information with Modified Dates: shifted back, one offset.
  const std::string shifted = Get(a0, kStudyDate);
  ASSERT_EQ(shifted.size(), 8u) << "the study date is kept, shifted";
  EXPECT_LT(shifted, "20250312");
  EXPECT_EQ(Get(a1, kStudyDate), shifted) << "one offset per patient";
  EXPECT_EQ(Get(a0, kTemporalModified), "MODIFIED");
  // Retain Patient Characteristics; Retain Safe Private keeps only the listed element.
  EXPECT_EQ(Get(a0, kPatientSex), "F");
  EXPECT_EQ(Get(a0, kPatientAge), "067Y");
  EXPECT_EQ(Get(a0, kSynthCreator), "CALIPER SYNTH");
  EXPECT_EQ(Get(a0, kSynthId), "MRN-000123");
  EXPECT_FALSE(a0.count(kSynthName)) << "not on the safe list";
  for (const char* option : {"Modified Dates", "Patient Characteristics", "Safe Private", "Clean Pixel Data"}) {
    EXPECT_NE(Get(a0, kDeidMethod).find(option), std::string::npos) << option;
  }
  // The blanking rule of the device: the rectangle is zero (HU -1024), the rest as acquired.
  auto original = dicom::DecodeImage({reinterpret_cast<const std::uint8_t*>(phantom_[0].data()), phantom_[0].size()});
  auto stored_bytes = app_->ReadDicomInstance(LocalOperator(), item_id, first.files[0].sop_instance_uid);
  ASSERT_TRUE(original.ok() && stored_bytes.ok());
  auto stored = dicom::DecodeImage(
      {reinterpret_cast<const std::uint8_t*>(stored_bytes->data()), stored_bytes->size()});
  ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  ASSERT_EQ(stored->values.size(), original->values.size());
  int changed = 0, blanked = 0;
  for (int y = 0; y < kSize; ++y) {
    for (int x = 0; x < kSize; ++x) {
      const std::size_t n = static_cast<std::size_t>(y) * kSize + x;
      if (x < 4 && y < 3) {
        blanked += stored->values[n] == -1024.0f;
      } else {
        changed += stored->values[n] != original->values[n];
      }
    }
  }
  EXPECT_EQ(blanked, 12);
  EXPECT_EQ(changed, 0);

  // Back to the Basic Profile: the next upload of the same series is stored without the
  // options, in the same item and the same (pseudonymous) study.
  core::DicomSettings none;
  none.project_id = project_id_;
  ASSERT_TRUE(app_->PutDicomSettings(LocalOperator(), none).ok());
  DicomIngestReport second = Ingest(Slices({3, 4, 5}));
  ASSERT_EQ(Outcomes(second), std::vector<std::string>(3, "stored"));
  ASSERT_EQ(second.series.size(), 1u);
  EXPECT_EQ(second.series[0].item_id, item_id);
  EXPECT_EQ(second.series[0].instances, kSlices);
  EXPECT_EQ(second.series[0].dims, (std::array<int, 3>{kSize, kSize, kSlices}));
  const auto a4 = StoredAttributes(*app_, item_id, second.files[1].sop_instance_uid);
  EXPECT_EQ(Get(a4, kStudyUid), Get(a0, kStudyUid)) << "UID mapping depends on the key only";
  EXPECT_NE(Get(a4, kStudyDate), shifted);
  EXPECT_NE(Get(a4, kStudyDate), "20250312");
  EXPECT_EQ(Get(a4, kPatientSex), "");
  EXPECT_FALSE(a4.count(kSynthCreator));
  EXPECT_EQ(Get(a4, kDeidMethod).find("Modified Dates"), std::string::npos);
  EXPECT_EQ(Get(a4, kTemporalModified), "REMOVED");

  const auto actions = AuditActions();
  EXPECT_EQ(std::count(actions.begin(), actions.end(), "project.dicom_settings"), 2);
  EXPECT_EQ(std::count(actions.begin(), actions.end(), "imaging.instance_read"), 4);
}

// Pixel values of one stored or quarantined Part 10 file.
std::vector<float> PixelsOf(const std::string& part10) {
  auto image = dicom::DecodeImage({reinterpret_cast<const std::uint8_t*>(part10.data()), part10.size()});
  EXPECT_TRUE(image.ok()) << image.status().ToString();
  return image.ok() ? image->values : std::vector<float>{};
}

TEST_F(ImagingTest, AStewardReleasesBlanksOrDiscardsWhatTheQuarantineHolds) {
  // A phantom series whose header says Burned In Annotation = YES: every slice waits for review.
  dicom::CtPhantomOptions o;
  o.slices = 3;
  o.rows = o.cols = kSize;
  o.seed = 21;
  o.burned_in_annotation = true;
  auto series = dicom::MakeCtPhantomSeries(o);
  ASSERT_TRUE(series.ok());
  std::vector<std::string> slices;
  for (const auto& b : *series) slices.emplace_back(b.begin(), b.end());
  DicomIngestReport r = Ingest({{"bi_0", slices[0]}, {"bi_1", slices[1]}, {"bi_2", slices[2]}});
  ASSERT_EQ(Outcomes(r), std::vector<std::string>(3, "quarantined"));
  std::vector<std::string> ids;
  for (const auto& f : r.files) {
    EXPECT_EQ(f.item_id, "");
    EXPECT_NE(std::find(f.reasons.begin(), f.reasons.end(), "Burned In Annotation = YES"), f.reasons.end());
    ASSERT_EQ(f.quarantine_id.rfind("qrn_", 0), 0u) << f.quarantine_id;
    ids.push_back(f.quarantine_id);
  }
  EXPECT_EQ(json::parse(DicomIngestReportJson(r))["files"][0]["quarantine_id"], ids[0]);
  EXPECT_EQ(ItemCount(), 0u) << "nothing in an item before a steward decides";
  // The same instance again keeps its one entry.
  DicomIngestReport again = Ingest({{"bi_0 again", slices[0]}});
  EXPECT_EQ(again.files.at(0).outcome, "quarantined");
  EXPECT_EQ(again.files.at(0).quarantine_id, ids[0]);

  RequestContext steward = Member("steward", core::Role::kDataSteward);
  auto pending = app_->ListQuarantine(steward, project_id_, "pending", {"", 50});
  ASSERT_TRUE(pending.ok()) << pending.status().ToString();
  ASSERT_EQ(pending->rows.size(), 3u);
  EXPECT_EQ(pending->rows[0].modality, "CT");
  EXPECT_EQ(app_->ListQuarantine(steward, project_id_, "lost", {"", 50}).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(app_->GetQuarantined(steward, "prj_other", ids[0]).status().code(), ErrorCode::kNotFound);

  // The steward looks: frame 0 as a PNG of the stored grid; there is no frame 1.
  auto png = app_->RenderQuarantinedFrame(steward, project_id_, ids[0], 0);
  ASSERT_TRUE(png.ok()) << png.status().ToString();
  EXPECT_EQ(png->png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  EXPECT_EQ(png->frames, 1);
  EXPECT_EQ(app_->RenderQuarantinedFrame(steward, project_id_, ids[0], 1).status().code(),
            ErrorCode::kInvalidArgument);

  // Release: into the series' item, pixels exactly as acquired.
  auto released = app_->DecideQuarantined(steward, project_id_, ids[0], {QuarantineAction::kRelease, {}, "no text"});
  ASSERT_TRUE(released.ok()) << released.status().ToString();
  EXPECT_EQ(released->status, "released");
  EXPECT_EQ(released->decided_by, steward.principal.user.id);
  EXPECT_EQ(released->reason, "no text");
  const std::string item_id = released->item_id;
  ASSERT_FALSE(item_id.empty());
  auto stored0 = app_->ReadDicomInstance(LocalOperator(), item_id, r.files[0].sop_instance_uid);
  ASSERT_TRUE(stored0.ok()) << stored0.status().ToString();
  EXPECT_EQ(PixelsOf(*stored0), PixelsOf(slices[0]));
  auto again_decided = app_->DecideQuarantined(steward, project_id_, ids[0], {QuarantineAction::kDiscard, {}, "oops"});
  EXPECT_EQ(again_decided.status().code(), ErrorCode::kConflict) << "decided once";

  // Blank: a rectangle wholly outside the image is refused and changes nothing; then a real one.
  auto outside = app_->DecideQuarantined(steward, project_id_, ids[1],
                                         {QuarantineAction::kBlank, {{kSize + 5, 0, 4, 4}}, ""});
  EXPECT_EQ(outside.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(app_->GetQuarantined(steward, project_id_, ids[1])->status, "pending");
  auto blanked = app_->DecideQuarantined(steward, project_id_, ids[1],
                                         {QuarantineAction::kBlank, {{2, 1, 5, 3}}, "initials top left"});
  ASSERT_TRUE(blanked.ok()) << blanked.status().ToString();
  EXPECT_EQ(blanked->status, "blanked");
  EXPECT_EQ(blanked->item_id, item_id) << "the same series, the same item";
  EXPECT_EQ(json::parse(blanked->rects_json), json::parse(R"([{"x":2,"y":1,"width":5,"height":3}])"));
  auto stored1 = app_->ReadDicomInstance(LocalOperator(), item_id, r.files[1].sop_instance_uid);
  ASSERT_TRUE(stored1.ok());
  const std::vector<float> before = PixelsOf(slices[1]), after = PixelsOf(*stored1);
  ASSERT_EQ(before.size(), after.size());
  int zero = 0, changed_outside = 0;
  for (int y = 0; y < kSize; ++y) {
    for (int x = 0; x < kSize; ++x) {
      const std::size_t n = static_cast<std::size_t>(y) * kSize + x;
      if (x >= 2 && x < 7 && y >= 1 && y < 4) zero += after[n] == -1024.0f;  // stored 0
      else changed_outside += after[n] != before[n];
    }
  }
  EXPECT_EQ(zero, 15);
  EXPECT_EQ(changed_outside, 0);
  auto attributes = dicom::ReadTextAttributes({reinterpret_cast<const std::uint8_t*>(stored1->data()), stored1->size()});
  ASSERT_TRUE(attributes.ok());
  EXPECT_NE(Get(*attributes, kDeidMethod).find("Clean Pixel Data"), std::string::npos);
  ingest::NiftiVolume v = Volume(item_id);
  EXPECT_EQ(v.geometry.dims, (std::array<std::int64_t, 3>{kSize, kSize, 2})) << "the volume holds both";

  // Discard: a reason is required; the pixels are deleted, the record stays.
  auto before_discard = app_->GetQuarantined(steward, project_id_, ids[2]);
  ASSERT_TRUE(before_discard.ok());
  const std::string blob = before_discard->blob;
  const auto blob_path = dir_ / "blobs" / blob.substr(0, 2) / blob.substr(2);
  EXPECT_TRUE(std::filesystem::exists(blob_path));
  EXPECT_EQ(app_->DecideQuarantined(steward, project_id_, ids[2], {QuarantineAction::kDiscard, {}, ""}).status().code(),
            ErrorCode::kInvalidArgument);
  auto discarded = app_->DecideQuarantined(steward, project_id_, ids[2],
                                           {QuarantineAction::kDiscard, {}, "name across the image"});
  ASSERT_TRUE(discarded.ok()) << discarded.status().ToString();
  EXPECT_EQ(discarded->status, "discarded");
  EXPECT_EQ(discarded->item_id, "");
  EXPECT_EQ(discarded->blob, "");
  EXPECT_FALSE(std::filesystem::exists(blob_path)) << "the pixels are gone";
  EXPECT_EQ(app_->RenderQuarantinedFrame(steward, project_id_, ids[2], 0).status().code(), ErrorCode::kNotFound);
  auto kept = app_->GetQuarantined(steward, project_id_, ids[2]);
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(kept->reason, "name across the image");
  EXPECT_EQ(kept->decided_by, steward.principal.user.id);
  EXPECT_TRUE(kept->decided_at.has_value());
  EXPECT_EQ(app_->ListQuarantine(steward, project_id_, "pending", {"", 50})->rows.size(), 0u);
  EXPECT_EQ(ItemCount(), 1u);

  const auto actions = AuditActions();
  auto count = [&](const char* a) { return std::count(actions.begin(), actions.end(), a); };
  EXPECT_EQ(count("quarantine.add"), 3);
  EXPECT_EQ(count("quarantine.view"), 1);
  EXPECT_EQ(count("quarantine.release"), 1);
  EXPECT_EQ(count("quarantine.blank"), 1);
  EXPECT_EQ(count("quarantine.discard"), 1);
}

TEST_F(ImagingTest, AReleasedUltrasoundCineKeepsEveryFrameAsAcquired) {
  auto us = dicom::MakeUltrasoundCinePhantom(3, 16, 20, /*ybr_planar=*/false, 9);
  ASSERT_TRUE(us.ok());
  const std::string bytes(us->begin(), us->end());
  DicomIngestReport r = Ingest({{"us.dcm", bytes}});
  ASSERT_EQ(Outcomes(r), std::vector<std::string>{"quarantined"});
  RequestContext steward = Member("us-steward", core::Role::kDataSteward);
  const std::string id = r.files[0].quarantine_id;
  for (int frame : {0, 2}) {
    auto rendered = app_->RenderQuarantinedFrame(steward, project_id_, id, frame);
    ASSERT_TRUE(rendered.ok()) << rendered.status().ToString();
    EXPECT_EQ(rendered->frames, 3);
    const std::string* png = &rendered->png;
    // IHDR: the stored grid (20 columns, 16 rows), 8-bit RGB (colour type 2).
    ASSERT_GT(png->size(), 26u);
    auto be32 = [&](std::size_t at) {
      std::uint32_t v = 0;
      for (int b = 0; b < 4; ++b) v = (v << 8) | static_cast<unsigned char>((*png)[at + b]);
      return v;
    };
    EXPECT_EQ(be32(16), 20u);
    EXPECT_EQ(be32(20), 16u);
    EXPECT_EQ((*png)[24], 8);
    EXPECT_EQ((*png)[25], 2);
  }
  auto released = app_->DecideQuarantined(steward, project_id_, id, {QuarantineAction::kRelease, {}, ""});
  ASSERT_TRUE(released.ok()) << released.status().ToString();
  auto stored = app_->ReadDicomInstance(LocalOperator(), released->item_id, r.files[0].sop_instance_uid);
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(PixelsOf(*stored), PixelsOf(bytes));
  auto item = app_->GetItem(LocalOperator(), released->item_id);
  ASSERT_TRUE(item.ok());
  EXPECT_EQ(item->modality, "US");
}

// Ultrasound very often comes JPEG baseline compressed: a steward's rectangles decode every frame,
// zero the rectangle and release the instance native into its item.
TEST_F(ImagingTest, AStewardBlanksACompressedUltrasoundCineIntoItsItem) {
  constexpr int kFrames = 3, kRows = 16, kCols = 24;
  auto us = dicom::MakeUltrasoundCinePhantom(kFrames, kRows, kCols, /*ybr_planar=*/false, 19);
  ASSERT_TRUE(us.ok());
  auto jpeg = dicom::Transcode(*us, "1.2.840.10008.1.2.4.50");
  ASSERT_TRUE(jpeg.ok()) << jpeg.status().ToString();
  const std::string bytes(jpeg->begin(), jpeg->end());
  DicomIngestReport r = Ingest({{"us.dcm", bytes}});
  ASSERT_EQ(Outcomes(r), std::vector<std::string>{"quarantined"});
  RequestContext steward = Member("jpeg-steward", core::Role::kDataSteward);
  const std::string id = r.files[0].quarantine_id;
  auto blanked = app_->DecideQuarantined(steward, project_id_, id,
                                         {QuarantineAction::kBlank, {{2, 1, 6, 4}}, "name top left"});
  ASSERT_TRUE(blanked.ok()) << blanked.status().ToString();
  EXPECT_EQ(blanked->status, "blanked");
  ASSERT_FALSE(blanked->item_id.empty());
  auto stored = app_->ReadDicomInstance(LocalOperator(), blanked->item_id, r.files[0].sop_instance_uid);
  ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  auto image = dicom::DecodeImage({reinterpret_cast<const std::uint8_t*>(stored->data()), stored->size()});
  ASSERT_TRUE(image.ok()) << image.status().ToString();
  EXPECT_EQ(image->transfer_syntax_uid, "1.2.840.10008.1.2.1") << "stored native, not re-encoded";
  EXPECT_EQ(image->frames, kFrames);
  const std::vector<float> before = PixelsOf(bytes), after = image->values;
  ASSERT_EQ(before.size(), after.size());
  int zero = 0, changed_outside = 0;
  for (int f = 0; f < kFrames; ++f) {
    for (int y = 0; y < kRows; ++y) {
      for (int x = 0; x < kCols; ++x) {
        for (int c = 0; c < 3; ++c) {
          const std::size_t n = ((static_cast<std::size_t>(f) * kRows + y) * kCols + x) * 3 + c;
          if (x >= 2 && x < 8 && y >= 1 && y < 5) zero += after[n] == 0.0f;
          else changed_outside += after[n] != before[n];
        }
      }
    }
  }
  EXPECT_EQ(zero, kFrames * 6 * 4 * 3);
  EXPECT_EQ(changed_outside, 0) << "every other pixel as the JPEG decodes";
  auto attributes = dicom::ReadTextAttributes({reinterpret_cast<const std::uint8_t*>(stored->data()), stored->size()});
  ASSERT_TRUE(attributes.ok());
  EXPECT_EQ(Get(*attributes, "00280004"), "RGB") << "YBR_FULL_422 decoded to RGB";
  EXPECT_EQ(Get(*attributes, "00282110"), "01") << "it was lossy once";
  EXPECT_NE(Get(*attributes, kDeidMethod).find("Clean Pixel Data"), std::string::npos);
  std::string details;
  ASSERT_TRUE(app_->ExportAudit(LocalOperator(), 0, SystemClock::Instance().Now() + kMicrosPerHour,
                                [&](const storage::AuditEvent& e) {
                                  if (e.action == "quarantine.blank") details = e.details_json;
                                  return Status::Ok();
                                })
                  .ok());
  ASSERT_FALSE(details.empty());
  EXPECT_EQ(json::parse(details)["pixels_decompressed_from"], "1.2.840.10008.1.2.4.50");
}

// A blanking rule that decodes JPEG ultrasound says so per file, as `caliper deid dicom` does in
// deid-report.jsonl: in the report, in the report's JSON and in the audit event of the series.
TEST_F(ImagingTest, TheIngestReportAndAuditSayWhatDeidentificationDidToEachFile) {
  core::DicomSettings settings;
  settings.project_id = project_id_;
  settings.blanking = {"US:2,1,6,4", "US:100,100,5,5"};  // the second lies outside the image
  ASSERT_TRUE(app_->PutDicomSettings(LocalOperator(), settings).ok());
  constexpr int kFrames = 3;
  auto us = dicom::MakeUltrasoundCinePhantom(kFrames, 16, 24, /*ybr_planar=*/false, 29);
  ASSERT_TRUE(us.ok());
  auto jpeg = dicom::Transcode(*us, "1.2.840.10008.1.2.4.50");
  ASSERT_TRUE(jpeg.ok()) << jpeg.status().ToString();
  std::vector<ImagingInput> inputs = {{"us.dcm", std::string(jpeg->begin(), jpeg->end())},
                                      {"ct.dcm", phantom_[0]},
                                      {"notes.txt", "not DICOM at all"}};
  DicomIngestReport r = Ingest(std::move(inputs));
  ASSERT_EQ(Outcomes(r), (std::vector<std::string>{"stored", "stored", "error"})) << "a rule applied: not held";
  ASSERT_TRUE(r.files[0].actions.has_value());
  EXPECT_EQ(r.files[0].actions->pixels_blanked, kFrames) << "one rectangle met each frame";
  EXPECT_EQ(r.files[0].actions->pixels_decompressed_from, "1.2.840.10008.1.2.4.50");
  EXPECT_GT(r.files[0].actions->uid_remapped, 0);
  ASSERT_TRUE(r.files[1].actions.has_value());
  EXPECT_EQ(r.files[1].actions->pixels_blanked, 0);
  EXPECT_EQ(r.files[1].actions->pixels_decompressed_from, "");
  EXPECT_GT(r.files[1].actions->dummy, 0) << "the phantom's name and Patient ID";
  EXPECT_FALSE(r.files[2].actions.has_value()) << "not de-identified";

  const json report = json::parse(DicomIngestReportJson(r));
  const json& us_actions = report["files"][0]["actions"];
  EXPECT_EQ(us_actions["pixels_blanked"], kFrames);
  EXPECT_EQ(us_actions["pixels_decompressed_from"], "1.2.840.10008.1.2.4.50");
  EXPECT_EQ(us_actions, json::parse(DeidActionsJson(*r.files[0].actions)));
  EXPECT_TRUE(report["files"][1]["actions"]["pixels_decompressed_from"].is_null());
  EXPECT_EQ(report["files"][1]["actions"]["pixels_blanked"], 0);
  EXPECT_FALSE(report["files"][2].contains("actions"));
  for (const char* key : {"dummy", "zeroed", "removed", "kept", "cleaned", "uid_remapped", "private_removed",
                          "private_kept", "dates_shifted", "pixels_blanked", "pixels_decompressed_from"}) {
    EXPECT_TRUE(us_actions.contains(key)) << key;
  }

  // The audit event of each series names its instances' actions, committed with them.
  std::map<std::string, json> by_sop;
  ASSERT_TRUE(app_->ExportAudit(LocalOperator(), 0, SystemClock::Instance().Now() + kMicrosPerHour,
                                [&](const storage::AuditEvent& e) {
                                  if (e.action != "imaging.series_ingest") return Status::Ok();
                                  const json details = json::parse(e.details_json);
                                  for (const json& d : details["deidentified"]) {
                                    by_sop[d["sop_instance_uid"]] = d["actions"];
                                  }
                                  return Status::Ok();
                                })
                  .ok());
  ASSERT_EQ(by_sop.size(), 2u);
  EXPECT_EQ(by_sop[r.files[0].sop_instance_uid], us_actions);
  EXPECT_EQ(by_sop[r.files[1].sop_instance_uid], report["files"][1]["actions"]);

  // A held instance's actions go with its quarantine.add event.
  auto held_us = dicom::MakeUltrasoundCinePhantom(2, 16, 16, false, 31);
  ASSERT_TRUE(held_us.ok());
  ASSERT_TRUE(app_->PutDicomSettings(LocalOperator(), {project_id_, {}, {}, {}, 0}).ok());
  DicomIngestReport held = Ingest({{"held.dcm", std::string(held_us->begin(), held_us->end())}});
  ASSERT_EQ(Outcomes(held), std::vector<std::string>{"quarantined"});
  ASSERT_TRUE(held.files[0].actions.has_value());
  EXPECT_EQ(held.files[0].actions->pixels_blanked, 0);
  const json added = LastAuditDetails("quarantine.add");
  EXPECT_EQ(added["actions"], json::parse(DeidActionsJson(*held.files[0].actions)));
  EXPECT_TRUE(added["actions"]["pixels_decompressed_from"].is_null());
}

TEST_F(ImagingTest, BadAndQuarantinedFilesAreReportedAndNeverStored) {
  auto us = dicom::MakeUltrasoundCinePhantom(2, 16, 16, false, 3);
  ASSERT_TRUE(us.ok());
  std::vector<ImagingInput> inputs = {{"notes.txt", "not DICOM at all"},
                                      {"us.dcm", std::string(us->begin(), us->end())},
                                      {"truncated.dcm", phantom_[0].substr(0, 400)}};
  DicomIngestReport r = Ingest(std::move(inputs));
  EXPECT_EQ(Outcomes(r), (std::vector<std::string>{"error", "quarantined", "error"}));
  EXPECT_EQ(r.files[0].error.code(), ErrorCode::kInvalidArgument);
  EXPECT_FALSE(r.files[1].reasons.empty());
  EXPECT_EQ(r.files[1].item_id, "");
  EXPECT_FALSE(r.files[1].quarantine_id.empty()) << "kept in the quarantine, not in an item";
  EXPECT_TRUE(r.series.empty());
  EXPECT_EQ(ItemCount(), 0u);
  const json report = json::parse(DicomIngestReportJson(r));
  EXPECT_EQ(report["errors"], 2);
  EXPECT_EQ(report["quarantined"], 1);
  EXPECT_EQ(report["stored"], 0);
}

// A quarantined instance that cannot join its series is not released into it: the steward's
// release is a 409 saying why and to discard it; the entry stays pending, the item unchanged.
TEST_F(ImagingTest, AQuarantinedInstanceThatCannotJoinItsSeriesIsNotReleased) {
  DicomIngestReport first = Ingest(Slices({0, 1, 2}));
  ASSERT_EQ(Outcomes(first), std::vector<std::string>(3, "stored"));
  ASSERT_EQ(first.series.size(), 1u);
  const std::string item_id = first.series[0].item_id;
  DicomIngestReport held = Ingest({OddSlice("rotated", 3, [](dicom::CtPhantomOptions& o) {
    o.orientation = "1\\0\\0\\0\\0\\-1";
    o.burned_in_annotation = true;
  })});
  ASSERT_EQ(Outcomes(held), std::vector<std::string>{"quarantined"});
  const std::string id = held.files[0].quarantine_id;
  RequestContext steward = Member("steward", core::Role::kDataSteward);
  const std::size_t blobs = BlobFiles();
  auto release = app_->DecideQuarantined(steward, project_id_, id, {QuarantineAction::kRelease, {}, "no text"});
  EXPECT_EQ(release.status().code(), ErrorCode::kConflict);
  EXPECT_EQ(release.status().message(), "inconsistent with series " + first.series[0].series_uid +
                                            ": Image Orientation (Patient) 1\\0\\0\\0\\0\\-1, the series' is "
                                            "1\\0\\0\\0\\1\\0; discard it");
  auto still = app_->GetQuarantined(steward, project_id_, id);
  ASSERT_TRUE(still.ok()) << still.status().ToString();
  EXPECT_EQ(still->status, "pending");
  EXPECT_EQ(app_->ReadDicomInstance(LocalOperator(), item_id, held.files[0].sop_instance_uid).status().code(),
            ErrorCode::kNotFound);
  EXPECT_EQ(BlobFiles(), blobs) << "nothing written for the refused release";
  auto discarded = app_->DecideQuarantined(steward, project_id_, id, {QuarantineAction::kDiscard, {}, "rotated"});
  ASSERT_TRUE(discarded.ok()) << discarded.status().ToString();
  EXPECT_EQ(discarded->status, "discarded");
}

TEST_F(ImagingTest, AnInstanceThatCannotJoinItsSeriesIsAnErrorAndNothingOfItIsStored) {
  // One upload: the series' slices with a 12x12 slice, a rotated one and one in another frame of
  // reference among them (the first file is an odd one: the series is what most files agree on).
  std::vector<ImagingInput> inputs;
  inputs.push_back(OddSlice("small", 2, [](dicom::CtPhantomOptions& o) { o.rows = o.cols = 12; }));
  for (ImagingInput& in : Slices({0, 1, 2})) inputs.push_back(std::move(in));
  inputs.push_back(OddSlice("rotated", 3, [](dicom::CtPhantomOptions& o) { o.orientation = "1\\0\\0\\0\\0\\-1"; }));
  for (ImagingInput& in : Slices({3, 4, 5})) inputs.push_back(std::move(in));
  inputs.push_back(OddSlice("elsewhere", 4, [](dicom::CtPhantomOptions& o) { o.frame_of_reference_label = "b"; }));
  DicomIngestReport r = Ingest(std::move(inputs));
  EXPECT_EQ(Outcomes(r), (std::vector<std::string>{"error", "stored", "stored", "stored", "error", "stored",
                                                   "stored", "stored", "error"}));
  ASSERT_EQ(r.series.size(), 1u);
  const DicomSeriesResult& s = r.series[0];
  EXPECT_EQ(s.added, kSlices);
  EXPECT_EQ(s.instances, kSlices);
  EXPECT_EQ(s.dims, (std::array<int, 3>{kSize, kSize, kSlices})) << s.no_volume;
  EXPECT_TRUE(s.warnings.empty());
  const std::string prefix = "inconsistent with series " + s.series_uid + ": ";
  EXPECT_EQ(r.files[0].error.message(), prefix + "12x12, the series is 24x24");
  EXPECT_EQ(r.files[4].error.message(),
            prefix + "Image Orientation (Patient) 1\\0\\0\\0\\0\\-1, the series' is 1\\0\\0\\0\\1\\0");
  EXPECT_EQ(r.files[8].error.message().rfind(prefix + "Frame of Reference UID 2.25.", 0), 0u)
      << r.files[8].error.message();
  EXPECT_EQ(r.files[8].error.message().find(dicom::DeriveUid(7, "b")), std::string::npos) << "pseudonymous UIDs";
  for (std::size_t n : {0u, 4u, 8u}) {
    const DicomFileResult& f = r.files[n];
    EXPECT_EQ(f.error.code(), ErrorCode::kConflict) << f.name;
    EXPECT_EQ(f.item_id, "") << f.name;
    EXPECT_EQ(f.series_uid, s.series_uid) << f.name;
    EXPECT_EQ(app_->ReadDicomInstance(LocalOperator(), s.item_id, f.sop_instance_uid).status().code(),
              ErrorCode::kNotFound)
        << f.name;
  }
  // Stored: the six instances, the re-identification link and the volume; nothing of the others.
  EXPECT_EQ(BlobFiles(), static_cast<std::size_t>(kSlices) + 2);
  const json report = json::parse(DicomIngestReportJson(r));
  EXPECT_EQ(report["errors"], 3);
  EXPECT_EQ(report["stored"], kSlices);
  EXPECT_EQ(report["files"][0]["error"]["code"], "conflict");

  // Later, alone: a slice off the series' line is refused and writes nothing (no blob, no item
  // change, no audit event of a store); the same instance again is still a duplicate.
  auto count = [this](const char* action) {
    const auto actions = AuditActions();  // (itself audited, as audit.export)
    return std::count(actions.begin(), actions.end(), action);
  };
  const std::size_t blobs = BlobFiles();
  const auto ingests = count("dicom.ingest"), series_ingests = count("imaging.series_ingest");
  ASSERT_EQ(series_ingests, 1);
  std::vector<ImagingInput> later_inputs;
  later_inputs.push_back(OddSlice("shifted", 2, [](dicom::CtPhantomOptions& o) { o.offset_mm = {30, 0, 0}; }));
  later_inputs.push_back(Slices({2})[0]);
  DicomIngestReport later = Ingest(std::move(later_inputs));
  EXPECT_EQ(Outcomes(later), (std::vector<std::string>{"error", "duplicate"}));
  EXPECT_NE(later.files[0].error.message().find("lies 30.000 mm off the line of the series' slice positions"),
            std::string::npos)
      << later.files[0].error.message();
  EXPECT_TRUE(later.series.empty());
  EXPECT_EQ(BlobFiles(), blobs);
  EXPECT_EQ(count("dicom.ingest"), ingests + 1);
  EXPECT_EQ(count("imaging.series_ingest"), series_ingests) << "no store audited";
  EXPECT_EQ(count("item.create"), 1);
  EXPECT_EQ(ItemCount(), 1u);
  EXPECT_EQ(Volume(s.item_id).geometry.dims[2], kSlices);
}

// An instance whose header de-identifies but whose pixel data does not decode (JPEG Lossless, its
// fragment overwritten), in a batch with the rest of its series: an error of its file naming the
// decode failure, nothing of it stored, the batch goes on. Quarantined (Burned In Annotation =
// YES) it cannot be released or blanked into the series either: it stays pending until discarded.
TEST_F(ImagingTest, AnInstanceWhosePixelsDoNotDecodeIsRefusedWhileItsSeriesIsStored) {
  std::vector<ImagingInput> inputs = {{"corrupt", UndecodableJpeg(phantom_[5])}};
  for (ImagingInput& in : Slices({0, 1, 2, 3, 4})) inputs.push_back(std::move(in));
  DicomIngestReport r = Ingest(std::move(inputs));
  EXPECT_EQ(Outcomes(r), (std::vector<std::string>{"error", "stored", "stored", "stored", "stored", "stored"}));
  ASSERT_EQ(r.series.size(), 1u);
  const DicomSeriesResult& s = r.series[0];
  const DicomFileResult& bad = r.files[0];
  EXPECT_EQ(bad.error.code(), ErrorCode::kConflict);
  EXPECT_EQ(bad.error.message().rfind("inconsistent with series " + s.series_uid + ": does not decode as an image (", 0),
            0u)
      << bad.error.message();
  EXPECT_NE(bad.error.message().find("JPEG Lossless, Non-hierarchical, 1st Order Prediction pixel data could not be "
                                     "decoded), the series' instances do"),
            std::string::npos)
      << bad.error.message();
  EXPECT_FALSE(bad.sop_instance_uid.empty()) << "its header was de-identified";
  EXPECT_EQ(bad.item_id, "");
  EXPECT_EQ(app_->ReadDicomInstance(LocalOperator(), s.item_id, bad.sop_instance_uid).status().code(),
            ErrorCode::kNotFound);
  EXPECT_EQ(s.added, kSlices - 1);
  EXPECT_EQ(s.dims, (std::array<int, 3>{kSize, kSize, kSlices - 1})) << s.no_volume;
  EXPECT_EQ(BlobFiles(), static_cast<std::size_t>(kSlices - 1) + 2) << "the instances, the link and the volume";
  EXPECT_EQ(json::parse(DicomIngestReportJson(r))["errors"], 1);

  // The same pixels behind a Burned In Annotation = YES header wait in the quarantine.
  ImagingInput held = OddSlice("corrupt-held", 5, [](dicom::CtPhantomOptions& o) { o.burned_in_annotation = true; });
  held.bytes = UndecodableJpeg(held.bytes);
  DicomIngestReport quarantined = Ingest({held});
  ASSERT_EQ(Outcomes(quarantined), std::vector<std::string>{"quarantined"});
  const std::string id = quarantined.files[0].quarantine_id;
  RequestContext steward = Member("steward", core::Role::kDataSteward);
  EXPECT_FALSE(app_->RenderQuarantinedFrame(steward, project_id_, id, 0).ok()) << "nothing to look at";
  const std::size_t blobs = BlobFiles();
  auto release = app_->DecideQuarantined(steward, project_id_, id, {QuarantineAction::kRelease, {}, "no text"});
  EXPECT_EQ(release.status().code(), ErrorCode::kConflict);
  EXPECT_EQ(release.status().message().rfind("inconsistent with series " + s.series_uid + ": does not decode as an image (", 0),
            0u)
      << release.status().message();
  EXPECT_NE(release.status().message().find("the series' instances do; discard it"), std::string::npos)
      << release.status().message();
  EXPECT_FALSE(app_->DecideQuarantined(steward, project_id_, id, {QuarantineAction::kBlank, {{0, 0, 4, 4}}, ""}).ok());
  EXPECT_EQ(BlobFiles(), blobs) << "nothing written for the refused decisions";
  EXPECT_EQ(app_->GetQuarantined(steward, project_id_, id)->status, "pending");
  EXPECT_EQ(Volume(s.item_id).geometry.dims[2], kSlices - 1);
  auto discarded = app_->DecideQuarantined(steward, project_id_, id, {QuarantineAction::kDiscard, {}, "pixels unreadable"});
  ASSERT_TRUE(discarded.ok()) << discarded.status().ToString();
  EXPECT_EQ(discarded->status, "discarded");
}

// Alone (a series of its own), such an instance is refused as well, with the decoder's own
// error: stored, it would make an item whose image nobody can see. (A file without Pixel Data
// is not refused for that alone: DecodeImage's kNotFound, not an image rather than a broken one.)
TEST_F(ImagingTest, AnUndecodableInstanceAloneIsAnErrorNotAnItem) {
  ImagingInput lone = OddSlice("lone", 2, [](dicom::CtPhantomOptions& o) { o.seed = 8; });
  lone.bytes = UndecodableJpeg(lone.bytes);
  const std::size_t blobs = BlobFiles();
  DicomIngestReport r = Ingest({lone});
  ASSERT_EQ(Outcomes(r), std::vector<std::string>{"error"});
  EXPECT_EQ(r.files[0].error.code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(r.files[0].error.message().rfind("its pixel data does not decode: the JPEG Lossless", 0), 0u)
      << r.files[0].error.message();
  EXPECT_EQ(r.files[0].item_id, "");
  EXPECT_EQ(BlobFiles(), blobs) << "nothing of it stored";
  EXPECT_EQ(json::parse(DicomIngestReportJson(r))["errors"], 1);
}

TEST_F(ImagingTest, AnIncompleteSeriesIsStoredWithAWarningAndCompletedLater) {
  DicomIngestReport first = Ingest(Slices({0, 1, 3, 4, 5}));
  EXPECT_EQ(Outcomes(first), std::vector<std::string>(kSlices - 1, "stored"));
  ASSERT_EQ(first.series.size(), 1u);
  ASSERT_EQ(first.series[0].warnings.size(), 1u);
  EXPECT_EQ(first.series[0].warnings[0].rfind("no volume built: cannot build a volume: gap: 1 missing slice(s)", 0),
            0u)
      << first.series[0].warnings[0];
  const json report = json::parse(DicomIngestReportJson(first));
  EXPECT_EQ(report["series"][0]["warnings"].size(), 1u);
  EXPECT_EQ(report["errors"], 0);
  // The missing slice, and a second acquisition at slice 3's position: both stored (the second
  // is no error of its file: the series holds two acquisitions), so no volume, said.
  std::vector<ImagingInput> rest = Slices({2});
  rest.push_back(OddSlice("second", 3, [](dicom::CtPhantomOptions&) {}));
  DicomIngestReport second = Ingest(std::move(rest));
  EXPECT_EQ(Outcomes(second), (std::vector<std::string>{"stored", "stored"}));
  ASSERT_EQ(second.series.size(), 1u);
  EXPECT_EQ(second.series[0].instances, kSlices + 1);
  ASSERT_EQ(second.series[0].warnings.size(), 1u);
  EXPECT_NE(second.series[0].warnings[0].find("1 slice(s) share a position"), std::string::npos)
      << second.series[0].warnings[0];
}

TEST_F(ImagingTest, NiftiFilesBecomeItemsOnePerVolume) {
  ingest::NiftiGeometry g = ingest::NiftiGeometryFromAffine({4, 3, 2}, {{{2, 0, 0, -4}, {0, 2, 0, -3}, {0, 0, 3, 0}}});
  std::vector<float> values(24);
  for (std::size_t n = 0; n < values.size(); ++n) values[n] = static_cast<float>(n) * 0.5f;
  auto file = ingest::EncodeNiftiFloat32(g, values, /*gzip=*/true);
  ASSERT_TRUE(file.ok());
  std::vector<NiftiInput> inputs = {
      {"sub-01_T1w.nii.gz", std::string(file->begin(), file->end()), "sub-01",
       R"({"Modality":"MR","PatientSex":"F","MagneticFieldStrength":3,"PatientName":"DOE^JANE"})"},
      {"broken.nii", "not nifti", "sub-02", ""},
      {"nobody.nii.gz", std::string(file->begin(), file->end()), "", ""}};
  auto results = app_->IngestNifti(LocalOperator(), project_id_, std::move(inputs));
  ASSERT_TRUE(results.ok()) << results.status().ToString();
  ASSERT_EQ(results->size(), 3u);
  EXPECT_EQ((*results)[0].outcome, "stored");
  ASSERT_EQ((*results)[0].item_ids.size(), 1u);
  EXPECT_EQ((*results)[0].dims, (std::array<std::int64_t, 3>{4, 3, 2}));
  EXPECT_EQ((*results)[1].outcome, "error");
  EXPECT_EQ((*results)[2].outcome, "error");
  EXPECT_EQ(ItemCount(), 1u);
  auto item = app_->GetItem(LocalOperator(), (*results)[0].item_ids[0]);
  ASSERT_TRUE(item.ok());
  EXPECT_EQ(item->modality, "MR");
  EXPECT_EQ(item->cohort_json.find("DOE"), std::string::npos);
  EXPECT_EQ(json::parse(item->cohort_json).value("sex", ""), "F");
  ingest::NiftiVolume v = Volume(item->id);
  EXPECT_EQ(v.values, values);
  EXPECT_DOUBLE_EQ(ingest::BestAffine(v.geometry)[0][3], -4.0);
}

TEST_F(ImagingTest, SlicesRenderAsPngs) {
  DicomIngestReport r = Ingest(Slices({0, 1, 2, 3, 4, 5}));
  ASSERT_EQ(r.series.size(), 1u);
  App::SliceRequest request{"axial", 2, "ct-abdomen", std::nullopt, std::nullopt};
  auto png = app_->RenderSlice(LocalOperator(), r.series[0].item_id, request);
  ASSERT_TRUE(png.ok()) << png.status().ToString();
  EXPECT_EQ(png->substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  request = {"sagittal", 0, "", 40.0, 400.0};
  EXPECT_TRUE(app_->RenderSlice(LocalOperator(), r.series[0].item_id, request).ok());
  request = {"axial", kSlices, "", std::nullopt, std::nullopt};
  EXPECT_EQ(app_->RenderSlice(LocalOperator(), r.series[0].item_id, request).status().code(),
            ErrorCode::kInvalidArgument);
  request = {"oblique", 0, "", std::nullopt, std::nullopt};
  EXPECT_EQ(app_->RenderSlice(LocalOperator(), r.series[0].item_id, request).status().code(),
            ErrorCode::kInvalidArgument);
  request = {"axial", 0, "", 40.0, std::nullopt};
  EXPECT_EQ(app_->RenderSlice(LocalOperator(), r.series[0].item_id, request).status().code(),
            ErrorCode::kInvalidArgument);
  const auto actions = AuditActions();
  EXPECT_EQ(std::count(actions.begin(), actions.end(), "imaging.slice_read"), 2);
}

TEST_F(ImagingTest, MasksAreCheckedAgainstTheVolumeAndVersionedPerReader) {
  DicomIngestReport r = Ingest(Slices({0, 1, 2, 3, 4, 5}));
  ASSERT_EQ(r.series.size(), 1u);
  const std::string item_id = r.series[0].item_id;
  RequestContext reader = LocalOperator();
  EXPECT_EQ(app_->ReadOwnMask(reader, item_id).status().code(), ErrorCode::kNotFound);

  auto v1 = app_->PutMask(reader, item_id, MaskOn(item_id, 1, 3, 4, 2));
  ASSERT_TRUE(v1.ok()) << v1.status().ToString();
  EXPECT_EQ(v1->version, 1);
  EXPECT_EQ(v1->labels, std::vector<int>{1});
  auto v2 = app_->PutMask(reader, item_id, MaskOn(item_id, 2, 5, 6, 3));
  ASSERT_TRUE(v2.ok()) << v2.status().ToString();
  EXPECT_EQ(v2->version, 2);

  auto back = app_->ReadOwnMask(reader, item_id);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  auto decoded = ingest::DecodeNifti({reinterpret_cast<const std::uint8_t*>(back->data()), back->size()});
  ASSERT_TRUE(decoded.ok() && decoded->size() == 1u);
  const auto& mask = decoded->front();
  EXPECT_EQ(mask.geometry.dims, (std::array<std::int64_t, 3>{kSize, kSize, kSlices}));
  EXPECT_EQ(mask.values[(3 * kSize + 6) * kSize + 5], 2.0f);
  EXPECT_EQ(std::count(mask.values.begin(), mask.values.end(), 0.0f), kSize * kSize * kSlices - 1);

  // Another grid: a clear refusal, nothing stored.
  auto wrong = app_->PutMask(reader, item_id, MaskOn(item_id, 1, 0, 0, 0, kSlices - 1));
  EXPECT_EQ(wrong.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(wrong.status().message().find("but the volume is"), std::string::npos) << wrong.status().message();
  EXPECT_EQ(app_->PutMask(reader, item_id, "not a mask").status().code(), ErrorCode::kInvalidArgument);

  // Each reader has their own masks.
  auto other = app_->CreateUser(LocalOperator(), NewUser{"reader2", "Reader Two", false, {}, "a long password 123"});
  ASSERT_TRUE(other.ok());
  RequestContext them;
  them.principal.user = other->user;
  EXPECT_EQ(app_->ReadOwnMask(them, item_id).status().code(), ErrorCode::kNotFound);
  const auto actions = AuditActions();
  EXPECT_EQ(std::count(actions.begin(), actions.end(), "mask.put"), 2);
  EXPECT_EQ(std::count(actions.begin(), actions.end(), "mask.read"), 1);
}

TEST_F(ImagingTest, MaskLabelsFollowTheGuidelinesSegmentationClassesAndNameAMaskVersion) {
  DicomIngestReport r = Ingest(Slices({0, 1, 2, 3, 4, 5}));
  ASSERT_EQ(r.series.size(), 1u);
  const std::string item_id = r.series[0].item_id;
  const RequestContext ctx = LocalOperator();
  const std::string schema = R"({"classes": [
      {"id": "finding", "name": "Finding", "kind": "classification", "definition": "any"},
      {"id": "liver", "name": "Liver", "kind": "segmentation", "definition": "the liver",
       "codes": [{"system": "SNOMED CT", "code": "10200004", "display": "Liver"}]}]})";
  auto draft = app_->CreateGuidelineDraft(ctx, project_id_, schema);
  ASSERT_TRUE(draft.ok()) << draft.status().ToString();
  ASSERT_TRUE(app_->PublishGuideline(ctx, project_id_, draft->id, draft->revision).ok());

  // One segmentation class: label 1 is the liver, label 2 stands for nothing.
  auto refused = app_->PutMask(ctx, item_id, MaskOn(item_id, 2, 1, 1, 1));
  EXPECT_EQ(refused.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("not a segmentation class"), std::string::npos);
  ASSERT_TRUE(app_->PutMask(ctx, item_id, MaskOn(item_id, 1, 1, 1, 1)).ok());

  auto label = [&](const std::string& cls, const std::string& data) {
    core::Annotation a;
    a.evidence_kind = "mask";
    a.evidence_json = data;
    a.label_class = cls;
    return app_->CreateAnnotation(ctx, item_id, a);
  };
  auto ok = label("liver", R"({"version":1})");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->evidence_kind, "mask");
  EXPECT_EQ(label("liver", R"({"version":2})").status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(label("liver", R"({})").status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(label("finding", R"({"version":1})").status().code(), ErrorCode::kInvalidArgument);
}

// Two readers segment the liver of a DICOM series differently, the reading is escalated and an
// adjudicator draws the final mask; two exports of the project carry every mask as NIfTI (the
// same bytes both times), as DICOM-SEG on the de-identified series and the STAPLE map.
TEST_F(ImagingTest, MasksOfReadersAndTheAdjudicatorAreExported) {
  const MaskDisagreement d = ReadersDisagreeOnMasks();
  ASSERT_FALSE(HasFailure());
  const std::string& item_id = d.item_id;
  const auto& readers = d.readers;
  // The adjudicator's final mask: reader 1's square without its first row.
  auto final_put = app_->PutMask(d.adjudicator, item_id, MaskOf(item_id, Square(0, 1)));
  ASSERT_TRUE(final_put.ok()) << final_put.status().ToString();
  AdjudicationRequest adjudication;
  adjudication.label = MaskLabel(final_put->version);
  adjudication.rationale = "the first row is not liver";
  auto decided = app_->Adjudicate(d.adjudicator, item_id, adjudication);
  ASSERT_TRUE(decided.ok()) << decided.status().ToString();

  const std::string first = ExportTar(d), second = ExportTar(d);
  ASSERT_FALSE(first.empty());
  ASSERT_FALSE(second.empty());
  auto file = TarFile;
  const std::string dir = "masks/nifti/" + item_id + "/";
  // Pseudonyms follow the sorted user ids.
  const int first_reader = readers[0].principal.user.id < readers[1].principal.user.id ? 0 : 1;
  const std::map<std::string, std::vector<std::uint8_t>> expected = {
      {"reader-01", Square(first_reader, 0)}, {"reader-02", Square(1 - first_reader, 0)}, {"final", Square(0, 1)}};
  for (const auto& [name, labels] : expected) {
    const std::string nifti = file(first, dir + name + ".nii.gz");
    EXPECT_EQ(nifti, file(second, dir + name + ".nii.gz")) << name;
    auto decoded = ingest::DecodeNifti({reinterpret_cast<const std::uint8_t*>(nifti.data()), nifti.size()});
    ASSERT_TRUE(decoded.ok() && decoded->size() == 1u) << name;
    EXPECT_EQ(std::vector<float>(labels.begin(), labels.end()), decoded->front().values) << name;
    // The SEG lies on the de-identified series: it reads back onto the phantom's slices.
    const std::string seg = file(first, "masks/dicom-seg/" + item_id + "/" + name + ".dcm");
    std::vector<std::span<const std::uint8_t>> spans;
    for (const auto& f : phantom_) spans.emplace_back(reinterpret_cast<const std::uint8_t*>(f.data()), f.size());
    auto volume = dicom::BuildVolume(spans);
    ASSERT_TRUE(volume.ok());
    // Its geometry, that is: the SEG names the de-identified series and frame of reference.
    auto refs = dicom::ReadSegmentationReferences({reinterpret_cast<const std::uint8_t*>(seg.data()), seg.size()});
    ASSERT_TRUE(refs.ok());
    EXPECT_NE(refs->frame_of_reference_uid, volume->frame_of_reference_uid);
    EXPECT_EQ(refs->frame_of_reference_uid.rfind("2.25.", 0), 0u);
    volume->frame_of_reference_uid.clear();
    volume->series_instance_uid.clear();
    auto back = dicom::ReadSegmentation({reinterpret_cast<const std::uint8_t*>(seg.data()), seg.size()}, *volume);
    ASSERT_TRUE(back.ok()) << name << ": " << back.status().ToString();
    EXPECT_EQ(back->labels, labels) << name;
    ASSERT_EQ(back->segments.size(), 1u);
    EXPECT_EQ(back->segments[0].type.value, "10200004");
    EXPECT_EQ(back->segments[0].algorithm, dicom::SegmentAlgorithm::kManual) << name;  // drawn, no pre-label
  }
  EXPECT_EQ(file(first, "masks/staple/" + item_id + ".nii.gz"), file(second, "masks/staple/" + item_id + ".nii.gz"));
  const auto staple = json::parse(file(first, "masks/staple/" + item_id + ".json"));
  EXPECT_EQ(staple["masks"], json::parse(R"([{"reader":"reader-01","version":2},{"reader":"reader-02","version":2}])"));
  EXPECT_EQ(staple["classes"][0]["class"], "liver");
  EXPECT_EQ(staple["classes"][0]["code"]["code"], "10200004");
  const auto manifest = json::parse(file(first, "manifest.json"));
  EXPECT_EQ(manifest["masks"]["nifti"], 3);
  EXPECT_EQ(manifest["masks"]["dicom_seg"], 3);
  EXPECT_EQ(manifest["masks"]["staple"], 1);
  const auto record = json::parse(file(first, "labels.jsonl"));
  EXPECT_EQ(record["status"], "adjudicated");
  EXPECT_EQ(record["evidence"]["kind"], "mask");
  const auto actions = AuditActions();
  EXPECT_EQ(std::count(actions.begin(), actions.end(), "export.build"), 2);
}

TEST_F(ImagingTest, AnAdjudicatorMayChooseAReadersMaskLabel) {
  const MaskDisagreement d = ReadersDisagreeOnMasks();
  ASSERT_FALSE(HasFailure());
  // The adjudicator has no mask of their own: a label they write cannot name one ...
  AdjudicationRequest written;
  written.label = MaskLabel(2);
  written.rationale = "as reader 2";
  auto refused = app_->Adjudicate(d.adjudicator, d.item_id, written);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("you have no mask on this item"), std::string::npos)
      << refused.status().ToString();
  // ... but choosing reader 2's label names reader 2's version 2.
  AdjudicationRequest choice;
  choice.source_annotation_id = d.labels[1];
  choice.rationale = "reader 2 follows the capsule";
  auto decided = app_->Adjudicate(d.adjudicator, d.item_id, choice);
  ASSERT_TRUE(decided.ok()) << decided.status().ToString();
  EXPECT_EQ(decided->final_label.author, d.adjudicator.principal.user.id);
  EXPECT_EQ(decided->final_label.origin, "adjudication:" + d.labels[1]);

  const std::string tar = ExportTar(d);
  ASSERT_FALSE(tar.empty());
  const std::string nifti = TarFile(tar, "masks/nifti/" + d.item_id + "/final.nii.gz");
  auto decoded = ingest::DecodeNifti({reinterpret_cast<const std::uint8_t*>(nifti.data()), nifti.size()});
  ASSERT_TRUE(decoded.ok() && decoded->size() == 1u);
  const std::vector<std::uint8_t> chosen = Square(1, 0);
  EXPECT_EQ(decoded->front().values, std::vector<float>(chosen.begin(), chosen.end()));
}

// The mask QA rules on a reader's stored masks (docs/quality.md, "QA rules"): one label map
// holds four classes, each naming mask version 1. On submit the empty and the island-bearing
// masks are flagged; the mask painted on air only once the sweep reads the CT volume in HU;
// the clean mask never.
TEST_F(ImagingTest, TheAdjudicatorSeesEachReadingsMaskAndTheirStapleConsensus) {
  const MaskDisagreement d = ReadersDisagreeOnMasks();
  ASSERT_FALSE(HasFailure());
  // Each reading's mask is the version its label names (2), whoever asks among adjudicators.
  for (int n = 0; n < 2; ++n) {
    EXPECT_EQ(MaskVoxels(app_->ReadReadingMask(d.adjudicator, d.item_id, d.tasks[n])), Square(n, 0)) << n;
    const json audit = LastAuditDetails("mask.read");
    EXPECT_EQ(audit["task_id"], d.tasks[n]);
    EXPECT_EQ(audit["reader"], d.readers[n].principal.user.id);
    EXPECT_EQ(audit["version"], 2);
  }
  // The figures compare the stored masks though the class has no dice_below trigger:
  // 6 x 6 x 4 voxels each, one voxel apart, Dice = 2 * 120 / 288.
  auto readings = app_->ListReadings(d.adjudicator, d.item_id);
  ASSERT_TRUE(readings.ok()) << readings.status().ToString();
  ASSERT_EQ(readings->classes.size(), 1u);
  EXPECT_NEAR(readings->classes[0].min_dice.value_or(0), 240.0 / 288.0, 1e-9);
  auto other = app_->ReadReadingMask(d.adjudicator, d.item_id, "tsk_nope");
  EXPECT_EQ(other.status().code(), ErrorCode::kNotFound);
  EXPECT_NE(other.status().message().find("not a submitted reading of this item"), std::string::npos);

  // STAPLE of the two squares (one voxel apart): everything both drew, nothing neither drew.
  auto fused = app_->ReadFusedMask(d.adjudicator, d.item_id);
  ASSERT_TRUE(fused.ok()) << fused.status().ToString();
  const std::vector<std::uint8_t> consensus = MaskVoxels(fused->nifti);
  const auto a = Square(0, 0), b = Square(1, 0);
  ASSERT_EQ(consensus.size(), a.size());
  std::size_t both = 0;
  for (std::size_t v = 0; v < a.size(); ++v) {
    if (a[v] && b[v]) {
      ++both;
      EXPECT_EQ(consensus[v], 1) << v;
    }
    if (!a[v] && !b[v]) {
      EXPECT_EQ(consensus[v], 0) << v;
    }
  }
  EXPECT_EQ(both, 120u);
  const json fit = json::parse(fused->description);
  EXPECT_EQ(fit["method"], "staple");
  EXPECT_EQ(fit["labels"], json::parse("[0, 1]"));
  ASSERT_EQ(fit["readers"].size(), 2u);
  for (int n = 0; n < 2; ++n) {
    EXPECT_EQ(fit["readers"][n]["task_id"], d.tasks[n]);
    EXPECT_EQ(fit["readers"][n]["version"], 2);
    EXPECT_GT(fit["readers"][n]["agreement"]["0"].get<double>(), 0.9);
  }
  EXPECT_EQ(LastAuditDetails("mask.read")["fused"], "staple");
  auto verify = app_->VerifyAudit(LocalOperator());
  ASSERT_TRUE(verify.ok());
  EXPECT_TRUE(verify->ok) << verify->problem;
}

TEST_F(ImagingTest, StapleNeedsTheMasksOfTwoReadings) {
  DicomIngestReport r = Ingest(Slices({0, 1, 2, 3, 4, 5}));
  ASSERT_EQ(r.series.size(), 1u);
  const RequestContext adjudicator = Member("fadjudicator", core::Role::kAdjudicator);
  auto fused = app_->ReadFusedMask(adjudicator, r.series[0].item_id);
  EXPECT_EQ(fused.status().code(), ErrorCode::kConflict);
  EXPECT_NE(fused.status().message().find("at least two submitted readings; 0 of"), std::string::npos)
      << fused.status().message();
}

TEST_F(ImagingTest, MaskQaRulesRunOnSubmitAndOutsideBodyOnlyInTheSweep) {
  DicomIngestReport r = Ingest(Slices({0, 1, 2, 3, 4, 5}));
  ASSERT_EQ(r.series.size(), 1u);
  const std::string item_id = r.series[0].item_id;
  const RequestContext manager = Member("qmanager", core::Role::kManager);
  const RequestContext reader = Member("qreader", core::Role::kAnnotator);
  // Labels 1..4 stand for the segmentation classes in order.
  PublishWithTasks(manager, R"({"classes": [
      {"id": "spleen", "name": "Spleen", "kind": "segmentation", "definition": "the spleen"},
      {"id": "kidney", "name": "Kidney", "kind": "segmentation", "definition": "the kidney"},
      {"id": "lesion", "name": "Lesion", "kind": "segmentation", "definition": "a lesion"},
      {"id": "liver", "name": "Liver", "kind": "segmentation", "definition": "the liver"}]})", 1);
  ASSERT_FALSE(HasFatalFailure());
  auto task = app_->ClaimNextTask(reader, project_id_);
  ASSERT_TRUE(task.ok() && task->has_value()) << task.status().ToString();

  std::vector<std::uint8_t> labels(static_cast<std::size_t>(kSize) * kSize * kSlices, 0);
  auto paint = [&](int label, int i0, int i1, int j0, int j1, int k0, int k1) {
    for (int k = k0; k <= k1; ++k) {
      for (int j = j0; j <= j1; ++j) {
        for (int i = i0; i <= i1; ++i) labels[(static_cast<std::size_t>(k) * kSize + j) * kSize + i] = label;
      }
    }
  };
  // spleen (1): nothing painted.
  paint(2, 4, 7, 8, 13, 1, 4);        // kidney: 96 voxels in the body ...
  paint(2, 16, 16, 16, 16, 2, 2);     // ... and a stray voxel far from them
  paint(3, 0, 1, 0, 1, 1, 2);         // lesion: 8 voxels in the air at the corner of the slices
  paint(4, 10, 13, 10, 13, 1, 4);     // liver: a solid block in the middle of the body
  auto put = app_->PutMask(reader, item_id, MaskOf(item_id, labels));
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  std::map<std::string, std::string> label_of;  // class -> annotation id
  for (const std::string cls : {"spleen", "kidney", "lesion", "liver"}) {
    core::Annotation a = MaskLabel(put->version);
    a.label_class = cls;
    auto created = app_->CreateAnnotation(reader, item_id, a);
    ASSERT_TRUE(created.ok()) << cls << ": " << created.status().ToString();
    label_of[cls] = created->id;
  }
  ASSERT_TRUE(app_->SubmitTask(reader, project_id_, (*task)->id).ok());

  // The mask.* findings stored for the item, by class; every one names its label and `source`.
  auto mask_rules = [&](const std::string& source) {
    std::map<std::string, std::set<std::string>> out;
    auto stored = app_->GetStoredQuality(manager, project_id_, item_id);
    EXPECT_TRUE(stored.ok()) << stored.status().ToString();
    if (!stored.ok()) return out;
    for (const auto& f : stored->findings) {
      if (f.rule.rfind("mask.", 0) != 0) continue;
      EXPECT_EQ(f.source, source) << f.rule;
      EXPECT_EQ(f.annotation_id, label_of[f.label_class]) << f.rule;
      out[f.label_class].insert(f.rule);
    }
    return out;
  };
  using Rules = std::map<std::string, std::set<std::string>>;
  EXPECT_EQ(mask_rules("submit"), (Rules{{"spleen", {"mask.empty_finding"}}, {"kidney", {"mask.islands"}}}));

  auto sweep = app_->SweepQuality(manager, project_id_);
  ASSERT_TRUE(sweep.ok()) << sweep.status().ToString();
  EXPECT_EQ(mask_rules("sweep"), (Rules{{"spleen", {"mask.empty_finding"}},
                                        {"kidney", {"mask.islands"}},
                                        {"lesion", {"mask.outside_body"}}}));
}

TEST_F(ImagingTest, StoredMasksBelowTheDiceThresholdGoToAdjudication) {
  const ItemReadings readings = SquaresUnderDiceThreshold("0.9");
  ASSERT_FALSE(HasFailure());
  for (const auto& r : readings.readings) EXPECT_EQ(r.task.state, core::TaskState::kEscalated) << r.task.id;
  ASSERT_EQ(readings.triggers.size(), 1u);
  EXPECT_EQ(readings.triggers[0].reason, "dice_below");
}

TEST_F(ImagingTest, StoredMasksAboveTheDiceThresholdStayOutOfAdjudication) {
  const ItemReadings readings = SquaresUnderDiceThreshold("0.8");
  ASSERT_FALSE(HasFailure());
  for (const auto& r : readings.readings) EXPECT_NE(r.task.state, core::TaskState::kEscalated) << r.task.id;
  EXPECT_TRUE(readings.triggers.empty());
}

}  // namespace
}  // namespace caliper::app

namespace caliper::app {
namespace {

// A reader's mask exported as DICOM-SEG comes back in through PUT /mask (as a DICOM-SEG) to
// the same voxels; the segment goes to the liver class by its SNOMED CT code.
TEST_F(ImagingTest, AnExportedSegUploadedBackGivesTheSameVoxels) {
  const MaskDisagreement d = ReadersDisagreeOnMasks();
  ASSERT_FALSE(HasFailure());
  const std::string tar = ExportTar(d);
  ASSERT_FALSE(tar.empty());
  const int first_reader = d.readers[0].principal.user.id < d.readers[1].principal.user.id ? 0 : 1;
  const std::string seg = TarFile(tar, "masks/dicom-seg/" + d.item_id + "/reader-01.dcm");
  ASSERT_FALSE(seg.empty());
  const RequestContext importer = Member("importer", core::Role::kAnnotator);
  auto put = app_->PutMask(importer, d.item_id, seg, MaskFormat::kDicomSeg);
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  EXPECT_EQ(put->version, 1);
  EXPECT_EQ(put->labels, std::vector<int>{1});
  EXPECT_EQ(OwnMask(importer, d.item_id), Square(first_reader, 0));
  const json details = LastAuditDetails("mask.put");
  EXPECT_EQ(details["format"], "dicom-seg");
  EXPECT_FALSE(details.contains("uids_mapped"));  // it names the stored series itself
  EXPECT_EQ(details["segments"], json::parse(R"([{"segment":"1","class":"liver"}])"));
  // The same bytes as NIfTI are not a DICOM-SEG, and a DICOM-SEG is not NIfTI.
  EXPECT_EQ(app_->PutMask(importer, d.item_id, MaskOf(d.item_id, Square(0, 0)), MaskFormat::kDicomSeg).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(app_->PutMask(importer, d.item_id, seg).status().code(), ErrorCode::kInvalidArgument);
}

// A SEG drawn on the series as it left the scanner (original UIDs) meets the stored,
// de-identified series once its UIDs are mapped as the project's de-identification maps them;
// segments go to classes by code or by label, and what does not fit is refused, naming why,
// with nothing stored.
TEST_F(ImagingTest, ADicomSegOfTheOriginalSeriesIsMappedOntoTheGuidelinesClasses) {
  const std::string item_id = IngestPhantom();
  ASSERT_FALSE(item_id.empty());
  const RequestContext ctx = LocalOperator();
  auto draft = app_->CreateGuidelineDraft(ctx, project_id_, R"({"classes": [
      {"id": "liver", "name": "Liver", "kind": "segmentation", "definition": "the liver",
       "codes": [{"system": "SNOMED CT", "code": "10200004", "display": "Liver"}]},
      {"id": "lesion", "name": "Lesion", "kind": "segmentation", "definition": "a liver lesion"}]})");
  ASSERT_TRUE(draft.ok()) << draft.status().ToString();
  ASSERT_TRUE(app_->PublishGuideline(ctx, project_id_, draft->id, draft->revision).ok());
  const dicom::Volume original = VolumeOf(phantom_);
  ASSERT_FALSE(HasFailure());

  // Segment 1 the liver by its code (retired SRT designator), segment 2 the lesion by its label.
  std::vector<std::uint8_t> labels = Square(0, 0);
  labels[(2 * kSize + 10) * kSize + 10] = 2;
  const std::string seg = SegOf(original, phantom_[0], labels,
                                {SegSegment(1, "Leber", {"10200004", "SRT", "Liver"}),
                                 SegSegment(2, "lesion", {"4147007", "SCT", "Mass"}, dicom::SegmentAlgorithm::kAutomatic,
                                            "lesion-finder 2")});
  auto put = app_->PutMask(ctx, item_id, seg, MaskFormat::kDicomSeg);
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  EXPECT_EQ(put->labels, (std::vector<int>{1, 2}));
  EXPECT_EQ(OwnMask(ctx, item_id), labels);
  json details = LastAuditDetails("mask.put");
  EXPECT_EQ(details["uids_mapped"], true);
  EXPECT_EQ(details["segments"], json::parse(R"([{"segment":"1","class":"liver"},{"segment":"2","class":"lesion"}])"));

  // Segments are numbered in the SEG, not in the guideline: a SEG whose only segment is the
  // lesion still stores it as label 2.
  std::vector<std::uint8_t> lesion_only(labels.size(), 0);
  lesion_only[(2 * kSize + 10) * kSize + 10] = 1;
  auto lesion = app_->PutMask(ctx, item_id,
                              SegOf(original, phantom_[0], lesion_only, {SegSegment(1, "Lesion", {"1", "99X", "x"})}),
                              MaskFormat::kDicomSeg);
  ASSERT_TRUE(lesion.ok()) << lesion.status().ToString();
  EXPECT_EQ(lesion->labels, std::vector<int>{2});
  std::vector<std::uint8_t> as_class(lesion_only.size(), 0);
  as_class[(2 * kSize + 10) * kSize + 10] = 2;
  EXPECT_EQ(OwnMask(ctx, item_id), as_class);

  auto puts = [&] {
    const auto actions = AuditActions();
    return std::count(actions.begin(), actions.end(), "mask.put");
  };
  const auto puts_before = puts();
  // A segment that is no class of the guideline.
  auto unmapped = app_->PutMask(ctx, item_id,
                                SegOf(original, phantom_[0], Square(0, 0), {SegSegment(1, "Kidney", {"64033007", "SCT", "Kidney"})}),
                                MaskFormat::kDicomSeg);
  EXPECT_EQ(unmapped.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(unmapped.status().message().find("segment 1 ('Kidney', SCT 64033007 'Kidney') matches no segmentation class"),
            std::string::npos)
      << unmapped.status().ToString();
  EXPECT_NE(unmapped.status().message().find("liver ('Liver', SCT 10200004 'Liver')"), std::string::npos);
  // A SEG of another series (another phantom: its own frame of reference).
  const std::vector<std::string> other_series = Phantom(8);
  const dicom::Volume other = VolumeOf(other_series);
  ASSERT_FALSE(other_series.empty());
  ASSERT_NE(other.frame_of_reference_uid, original.frame_of_reference_uid);
  auto elsewhere = app_->PutMask(ctx, item_id,
                                 SegOf(other, other_series.front(), Square(0, 0), {SegSegment(1, "Liver", {"10200004", "SCT", "Liver"})}),
                                 MaskFormat::kDicomSeg);
  EXPECT_EQ(elsewhere.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(elsewhere.status().message().find("was not drawn on this item's series"), std::string::npos)
      << elsewhere.status().ToString();
  // Not DICOM at all.
  EXPECT_EQ(app_->PutMask(ctx, item_id, "not a segmentation", MaskFormat::kDicomSeg).status().code(),
            ErrorCode::kInvalidArgument);
  // Nothing of the refused uploads was stored.
  EXPECT_EQ(puts(), puts_before);
  EXPECT_EQ(OwnMask(ctx, item_id), as_class);

  // A NIfTI item has no series for a SEG to reference.
  const std::string nifti_item = [&] {
    ingest::NiftiVolume v = Volume(item_id);
    std::vector<std::int16_t> ints(v.values.begin(), v.values.end());
    auto bytes = ingest::EncodeNiftiInt16(v.geometry, ints, /*gzip=*/true);
    EXPECT_TRUE(bytes.ok());
    auto results = app_->IngestNifti(ctx, project_id_, {{"ct.nii.gz", std::string(bytes->begin(), bytes->end()), "sub-1", ""}});
    EXPECT_TRUE(results.ok() && results->size() == 1u && (*results)[0].item_ids.size() == 1u);
    return results.ok() && !results->empty() && !(*results)[0].item_ids.empty() ? (*results)[0].item_ids[0] : "";
  }();
  ASSERT_FALSE(nifti_item.empty());
  auto no_series = app_->PutMask(ctx, nifti_item, seg, MaskFormat::kDicomSeg);
  EXPECT_EQ(no_series.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(no_series.status().message().find("did not come from a DICOM series"), std::string::npos);
}

// The sample DICOM-SEG (highdicom's, on a CT downsized to 16x16) on the three regularly spaced
// slices of its source series, ingested and so de-identified: its UIDs are mapped, its one
// segment ("first segment", SCT 272673000 Bone) goes to the bone class by code, and the voxels
// are those dicom::ReadSegmentation places on the original series. The overlap sample also
// covers the far fourth slice, which the item does not hold: refused.
TEST_F(ImagingTest, TheSampleDicomSegIsAMaskOfItsSeries) {
  std::vector<std::string> source;
  for (const char* name : {"17136.dcm", "17166.dcm", "17196.dcm"}) {
    auto path = SampleDataFile(std::string("dicom-seg/source-ct-16x16/") + name);
    if (!path) {
      if (SampleDataRequired()) FAIL() << "sample data missing: dicom-seg/source-ct-16x16";
      GTEST_SKIP() << "CALIPER_SAMPLE_DATA not set";
    }
    std::ifstream in(*path, std::ios::binary);
    source.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  auto read = [](const std::string& relative) {
    auto path = SampleDataFile(relative);
    EXPECT_TRUE(path.has_value()) << relative;
    std::ifstream in(path.value_or(""), std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  };
  const std::string binary = read("dicom-seg/seg_image_ct_binary.dcm");
  const std::string overlap = read("dicom-seg/seg_image_ct_binary_overlap.dcm");
  ASSERT_FALSE(binary.empty());
  std::vector<ImagingInput> inputs;
  for (std::size_t n = 0; n < source.size(); ++n) inputs.push_back({"ct_" + std::to_string(n), source[n]});
  DicomIngestReport r = Ingest(std::move(inputs));
  ASSERT_EQ(r.series.size(), 1u) << DicomIngestReportJson(r);
  ASSERT_TRUE(r.series[0].no_volume.empty()) << r.series[0].no_volume;
  const std::string item_id = r.series[0].item_id;
  const RequestContext ctx = LocalOperator();
  auto draft = app_->CreateGuidelineDraft(ctx, project_id_, R"({"classes": [
      {"id": "soft", "name": "Soft tissue", "kind": "segmentation", "definition": "not bone"},
      {"id": "bone", "name": "Bone", "kind": "segmentation", "definition": "bone",
       "codes": [{"system": "SNOMED CT", "code": "272673000", "display": "Bone"}]}]})");
  ASSERT_TRUE(draft.ok()) << draft.status().ToString();
  ASSERT_TRUE(app_->PublishGuideline(ctx, project_id_, draft->id, draft->revision).ok());

  auto put = app_->PutMask(ctx, item_id, binary, MaskFormat::kDicomSeg);
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  EXPECT_EQ(put->labels, std::vector<int>{2});
  EXPECT_EQ(LastAuditDetails("mask.put")["uids_mapped"], true);
  std::vector<std::span<const std::uint8_t>> spans;
  for (const auto& f : source) spans.emplace_back(reinterpret_cast<const std::uint8_t*>(f.data()), f.size());
  auto original = dicom::BuildVolume(spans);
  ASSERT_TRUE(original.ok()) << original.status().ToString();
  auto expected = dicom::ReadSegmentation({reinterpret_cast<const std::uint8_t*>(binary.data()), binary.size()}, *original);
  ASSERT_TRUE(expected.ok()) << expected.status().ToString();
  std::vector<std::uint8_t> as_bone = expected->labels;
  for (auto& v : as_bone) v = v == 1 ? 2 : 0;
  ASSERT_GT(std::count(as_bone.begin(), as_bone.end(), 2), 0);
  EXPECT_EQ(OwnMask(ctx, item_id), as_bone);

  auto refused = app_->PutMask(ctx, item_id, overlap, MaskFormat::kDicomSeg);
  EXPECT_EQ(refused.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("lies on no slice of the volume"), std::string::npos)
      << refused.status().ToString();
}

// Exported SEGs say where each segment came from: a reader who accepted a model's voxels
// pre-label unchanged gets AUTOMATIC with the model as Segment Algorithm Name; one who
// corrected it, or accepted it and then changed its voxels, SEMIAUTOMATIC; a drawn mask MANUAL.
TEST_F(ImagingTest, ExportedSegsNameThePrelabelModelAsTheirAlgorithm) {
  DicomIngestReport r;
  const std::string item_id = IngestPhantom(&r);
  ASSERT_FALSE(item_id.empty());
  const RequestContext manager = Member("pmanager", core::Role::kManager);
  const RequestContext steward = Member("psteward", core::Role::kDataSteward);
  std::vector<RequestContext> readers;
  for (const char* name : {"preader1", "preader2", "preader3", "preader4"}) readers.push_back(Member(name, core::Role::kAnnotator));
  PublishWithTasks(manager, R"({"classes": [
      {"id": "liver", "name": "Liver", "kind": "segmentation", "definition": "the liver",
       "codes": [{"system": "SNOMED CT", "code": "10200004", "display": "Liver"}]}]})", 4);
  ASSERT_FALSE(HasFatalFailure());

  // The model's liver: Square(0, 0) as runs of voxels.
  const std::vector<std::uint8_t> model = Square(0, 0);
  json runs = json::array();
  for (std::size_t n = 0; n < model.size(); ++n) {
    if (model[n] == 0) continue;
    if (!runs.empty() && runs.back()[0].get<std::size_t>() + runs.back()[1].get<std::size_t>() == n) {
      runs.back()[1] = runs.back()[1].get<std::size_t>() + 1;
    } else {
      runs.push_back({n, 1});
    }
  }
  core::Prelabel p;
  p.item_id = item_id;
  p.model_name = "livernet";
  p.model_version = "3.1";
  p.evidence_kind = "voxels";
  p.evidence_json = json{{"dims", {kSize, kSize, kSlices}}, {"runs", runs}}.dump();
  p.label_class = "liver";
  auto uploaded = app_->AddPrelabels(manager, project_id_, {p});
  ASSERT_TRUE(uploaded.ok()) << uploaded.status().ToString();
  ASSERT_EQ(uploaded->stored.size(), 1u);
  const std::string prelabel_id = uploaded->stored[0].id;

  std::vector<std::string> tasks;
  for (const auto& reader : readers) {
    auto task = app_->ClaimNextTask(reader, project_id_);
    ASSERT_TRUE(task.ok() && task->has_value()) << task.status().ToString();
    tasks.push_back((*task)->id);
  }
  PrelabelDecisionRequest accept;
  // Reader 1 accepts: the model's voxels become their mask version 1, which the label names.
  auto accepted = app_->DecidePrelabel(readers[0], item_id, prelabel_id, accept);
  ASSERT_TRUE(accepted.ok()) << accepted.status().ToString();
  ASSERT_TRUE(accepted->annotation.has_value());
  EXPECT_EQ(accepted->annotation->evidence_kind, "mask");
  EXPECT_EQ(json::parse(accepted->annotation->evidence_json), json::parse(R"({"version":1})"));
  EXPECT_EQ(OwnMask(readers[0], item_id), model);
  EXPECT_EQ(LastAuditDetails("mask.put")["prelabel_id"], prelabel_id);
  // Reader 2 draws their own liver and corrects the pre-label with it.
  auto drawn = app_->PutMask(readers[1], item_id, MaskOf(item_id, Square(1, 0)));
  ASSERT_TRUE(drawn.ok());
  PrelabelDecisionRequest correct;
  correct.decision = core::PrelabelStatus::kCorrected;
  correct.correction = MaskLabel(drawn->version);
  auto corrected = app_->DecidePrelabel(readers[1], item_id, prelabel_id, correct);
  ASSERT_TRUE(corrected.ok()) << corrected.status().ToString();
  // Measured against the stored mask: 6x6x4 squares one voxel apart share 5x6x4 voxels, so
  // Dice = 2 * 120 / (144 + 144) and the correction is 1 - Dice.
  ASSERT_TRUE(corrected->decision.correction_size.has_value());
  EXPECT_NEAR(*corrected->decision.correction_size, 1.0 - 240.0 / 288.0, 1e-9);
  // Reader 3 accepts, then trims the liver (version 2) and has the label name that version.
  auto third = app_->DecidePrelabel(readers[2], item_id, prelabel_id, accept);
  ASSERT_TRUE(third.ok()) << third.status().ToString();
  auto trimmed = app_->PutMask(readers[2], item_id, MaskOf(item_id, Square(0, 1)));
  ASSERT_TRUE(trimmed.ok());
  AnnotationPatch patch;
  patch.evidence_json = json{{"version", trimmed->version}}.dump();
  ASSERT_TRUE(app_->UpdateAnnotation(readers[2], third->annotation->id, third->annotation->revision, patch).ok());
  // Reader 4 draws without the model.
  auto own = app_->PutMask(readers[3], item_id, MaskOf(item_id, Square(0, 0)));
  ASSERT_TRUE(own.ok());
  ASSERT_TRUE(app_->CreateAnnotation(readers[3], item_id, MaskLabel(own->version)).ok());
  for (std::size_t n = 0; n < readers.size(); ++n) {
    ASSERT_TRUE(app_->SubmitTask(readers[n], project_id_, tasks[n]).ok()) << n;
  }

  MaskDisagreement d;
  d.manager = manager;
  d.steward = steward;
  const std::string tar = ExportTar(d);
  ASSERT_FALSE(tar.empty());
  // Pseudonyms follow the sorted user ids.
  std::vector<std::pair<std::string, int>> order;
  for (int n = 0; n < 4; ++n) order.emplace_back(readers[n].principal.user.id, n);
  std::sort(order.begin(), order.end());
  const std::array<dicom::SegmentAlgorithm, 4> expected = {
      dicom::SegmentAlgorithm::kAutomatic, dicom::SegmentAlgorithm::kSemiAutomatic,
      dicom::SegmentAlgorithm::kSemiAutomatic, dicom::SegmentAlgorithm::kManual};
  dicom::Volume stored = StoredVolume(r);
  for (int pseudonym = 0; pseudonym < 4; ++pseudonym) {
    const int n = order[pseudonym].second;
    const std::string seg = TarFile(tar, "masks/dicom-seg/" + item_id + "/reader-0" + std::to_string(pseudonym + 1) + ".dcm");
    auto back = dicom::ReadSegmentation({reinterpret_cast<const std::uint8_t*>(seg.data()), seg.size()}, stored);
    ASSERT_TRUE(back.ok()) << n << ": " << back.status().ToString();
    ASSERT_EQ(back->segments.size(), 1u);
    EXPECT_EQ(back->segments[0].algorithm, expected[n]) << "reader " << n + 1;
    EXPECT_EQ(back->segments[0].algorithm_name, n == 3 ? "" : "livernet@3.1") << "reader " << n + 1;
    // The Segmentation Algorithm Identification: the model's family, name and version.
    const dicom::AlgorithmIdentification& id = back->segments[0].algorithm_identification;
    EXPECT_EQ(id.family.value, n == 3 ? "" : "123110") << "reader " << n + 1;
    EXPECT_EQ(id.family.scheme, n == 3 ? "" : "DCM") << "reader " << n + 1;
    EXPECT_EQ(id.name, n == 3 ? "" : "livernet") << "reader " << n + 1;
    EXPECT_EQ(id.version, n == 3 ? "" : "3.1") << "reader " << n + 1;
  }
}

// A NIfTI label map says nothing of who drew it: a reader's save after a version with calculated
// segments keeps each unchanged segment's origin (type, Segment Algorithm Name, algorithm
// identification) and makes each edited one SEMIAUTOMATIC with the same algorithm ("calculated
// segmentation with user assistance", PS3.3 C.8.20.2); a class the reader drew is MANUAL. The
// algorithm name and version an imported DICOM-SEG states are kept and exported.
TEST_F(ImagingTest, AReadersEditOfACalculatedSegmentIsSemiautomaticAndAnUnchangedOneKeepsItsOrigin) {
  DicomIngestReport r;
  const std::string item_id = IngestPhantom(&r);
  ASSERT_FALSE(item_id.empty());
  MaskDisagreement d;
  d.manager = Member("emanager", core::Role::kManager);
  d.steward = Member("esteward", core::Role::kDataSteward);
  const RequestContext reader = Member("ereader", core::Role::kAnnotator);
  PublishWithTasks(d.manager, R"({"classes": [
      {"id": "liver", "name": "Liver", "kind": "segmentation", "definition": "the liver",
       "codes": [{"system": "SNOMED CT", "code": "10200004", "display": "Liver"}]},
      {"id": "lesion", "name": "Lesion", "kind": "segmentation", "definition": "a liver lesion",
       "codes": [{"system": "SNOMED CT", "code": "4147007", "display": "Mass"}]},
      {"id": "spleen", "name": "Spleen", "kind": "segmentation", "definition": "the spleen"}]})", 1);
  ASSERT_FALSE(HasFatalFailure());
  auto task = app_->ClaimNextTask(reader, project_id_);
  ASSERT_TRUE(task.ok() && task->has_value()) << task.status().ToString();

  // Version 1: a model's SEG of the stored series, the liver and a lesion both AUTOMATIC.
  const dicom::Volume stored = StoredVolume(r);
  auto source = app_->ReadDicomInstance(LocalOperator(), item_id, r.files[0].sop_instance_uid);
  ASSERT_TRUE(source.ok()) << source.status().ToString();
  auto voxel = [](int i, int j, int k) { return (static_cast<std::size_t>(k) * kSize + j) * kSize + i; };
  std::vector<std::uint8_t> labels = Square(0, 0);
  labels[voxel(2, 2, 2)] = 2;
  auto calculated = [](std::uint8_t label, const std::string& name, dicom::CodedConcept type, const std::string& model,
                       const std::string& version) {
    dicom::Segment s = SegSegment(label, name, std::move(type), dicom::SegmentAlgorithm::kAutomatic,
                                  model + "@" + version);
    s.algorithm_identification = {dicom::kArtificialIntelligence, model, version};
    return s;
  };
  auto v1 = app_->PutMask(reader, item_id,
                          SegOf(stored, *source, labels,
                                {calculated(1, "Liver", {"10200004", "SCT", "Liver"}, "livernet", "3.1"),
                                 calculated(2, "Lesion", {"4147007", "SCT", "Mass"}, "lesionnet", "2")}),
                          MaskFormat::kDicomSeg);
  ASSERT_TRUE(v1.ok()) << v1.status().ToString();
  // Version 2, as NIfTI: the liver as it was, the lesion grown by a voxel, a spleen drawn.
  labels[voxel(2, 3, 2)] = 2;
  labels[voxel(20, 20, 1)] = 3;
  auto v2 = app_->PutMask(reader, item_id, MaskOf(item_id, labels));
  ASSERT_TRUE(v2.ok()) << v2.status().ToString();
  EXPECT_EQ(v2->labels, (std::vector<int>{1, 2, 3}));
  for (const char* cls : {"liver", "lesion", "spleen"}) {
    core::Annotation a = MaskLabel(v2->version);
    a.label_class = cls;
    auto label = app_->CreateAnnotation(reader, item_id, a);
    ASSERT_TRUE(label.ok()) << cls << ": " << label.status().ToString();
  }
  ASSERT_TRUE(app_->SubmitTask(reader, project_id_, (*task)->id).ok());

  const std::string tar = ExportTar(d);
  ASSERT_FALSE(tar.empty());
  const std::string seg = TarFile(tar, "masks/dicom-seg/" + item_id + "/reader-01.dcm");
  auto back = dicom::ReadSegmentation({reinterpret_cast<const std::uint8_t*>(seg.data()), seg.size()}, stored);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ASSERT_EQ(back->segments.size(), 3u);
  struct Expected {
    const char* name;
    dicom::SegmentAlgorithm algorithm;
    const char* algorithm_name;
    dicom::AlgorithmIdentification identification;
  };
  const Expected expected[] = {
      {"Liver", dicom::SegmentAlgorithm::kAutomatic, "livernet@3.1", {dicom::kArtificialIntelligence, "livernet", "3.1"}},
      {"Lesion", dicom::SegmentAlgorithm::kSemiAutomatic, "lesionnet@2", {dicom::kArtificialIntelligence, "lesionnet", "2"}},
      {"Spleen", dicom::SegmentAlgorithm::kManual, "", {}},
  };
  for (std::size_t n = 0; n < 3; ++n) {
    const dicom::Segment& s = back->segments[n];
    const dicom::AlgorithmIdentification& id = expected[n].identification;
    EXPECT_EQ(s.name, expected[n].name);
    EXPECT_EQ(s.algorithm, expected[n].algorithm) << s.name;
    EXPECT_EQ(s.algorithm_name, expected[n].algorithm_name) << s.name;
    EXPECT_EQ(s.algorithm_identification.family.value, id.family.value) << s.name;
    EXPECT_EQ(s.algorithm_identification.family.meaning, id.family.meaning) << s.name;
    EXPECT_EQ(s.algorithm_identification.name, id.name) << s.name;
    EXPECT_EQ(s.algorithm_identification.version, id.version) << s.name;
  }
  EXPECT_EQ(back->labels, labels);
}

}  // namespace
}  // namespace caliper::app

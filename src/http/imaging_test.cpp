// Imaging through the HTTP API over loopback, with the phantom series: STOW-RS upload with a
// per-instance report, the volume as NIfTI, slice PNGs, mask round trip and refusal of a
// misaligned mask, the re-identification link for data stewards only, who is refused, and the
// audit events of every read.

#include <gtest/gtest.h>
#include <httplib.h>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "caliper/app/app.h"
#include "caliper/dicom/encode.h"
#include "caliper/dicom/image.h"
#include "caliper/dicom/label_map.h"
#include "caliper/dicom/phantom.h"
#include "caliper/http/server.h"
#include "caliper/ingest/nifti_io.h"
#include "dicom/test_phantom.h"
#include "http/test_server.h"

namespace caliper::http {
namespace {

using nlohmann::json;

constexpr const char* kPassword = "imaging-test-passphrase-1";
constexpr int kSlices = 4, kSize = 16;
constexpr char kBoundary[] = "caliper-test-boundary";

using Session = TestSession;

class ImagingApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (harness_ == nullptr) {
      ServerOptions server_options;
      server_options.threads = 16;
      auto harness = std::make_unique<TestServer>();
      Status started = harness->Start("caliper_imaging_api_test", server_options);
      ASSERT_TRUE(started.ok()) << started.ToString();
      harness_ = harness.release();
      app_ = &harness_->app();
    }
  }
  static void TearDownTestSuite() { delete harness_; }

  static httplib::Result Send(const std::string& method, const std::string& path, const Session* s,
                              const std::string& body = "", const std::string& type = "application/json") {
    return harness_->Send(method, path, s, body, type);
  }

  static json Body(const httplib::Result& res) { return json::parse(res->body, nullptr, false); }

  // A user signed in; a member of `project_id` with `roles` unless there are none. The tests of
  // this file share one deployment, so each test names its own users (a prefix of its own): a
  // name another test took cannot be created again, and its session would be empty.
  static Session User(const std::string& username, const std::string& project_id, const std::vector<core::Role>& roles) {
    Session s = harness_->SignedInUser(username, kPassword, project_id, roles, {core::DataType::kImaging});
    EXPECT_FALSE(s.cookie.empty()) << username << " could not sign in";
    return s;
  }

  // A STOW-RS body: one part per (content type, bytes).
  static std::string Stow(const std::vector<std::pair<std::string, std::string>>& parts) {
    std::string body;
    for (const auto& [type, bytes] : parts) {
      body += std::string("--") + kBoundary + "\r\nContent-Type: " + type + "\r\n\r\n" + bytes + "\r\n";
    }
    return body + "--" + kBoundary + "--\r\n";
  }
  // The phantom CT series of `slices` slices (kSize x kSize) of `seed`, as STOW-RS parts.
  static std::vector<std::pair<std::string, std::string>> CtParts(int slices, std::uint64_t seed) {
    std::vector<std::pair<std::string, std::string>> parts;
    for (std::string& file : dicom::testing::CtPhantomFiles(slices, kSize, seed)) {
      parts.emplace_back("application/dicom", std::move(file));
    }
    return parts;
  }
  static std::string StowType() {
    return std::string("multipart/related; type=\"application/dicom\"; boundary=") + kBoundary;
  }

  static int AuditCount(const std::string& action, const std::string& object_id) {
    return harness_->AuditCount(action, object_id);
  }

  static std::optional<ingest::NiftiVolume> Nifti(const std::string& bytes) {
    auto volumes = ingest::DecodeNifti({reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()});
    if (!volumes.ok() || volumes->size() != 1) return std::nullopt;
    return volumes->front();
  }

  static std::uint32_t BigEndian32(const std::string& s, std::size_t at) {
    return (std::uint32_t{static_cast<unsigned char>(s[at])} << 24) |
           (std::uint32_t{static_cast<unsigned char>(s[at + 1])} << 16) |
           (std::uint32_t{static_cast<unsigned char>(s[at + 2])} << 8) | static_cast<unsigned char>(s[at + 3]);
  }

  static inline TestServer* harness_ = nullptr;
  static inline app::App* app_ = nullptr;
};

TEST_F(ImagingApiTest, StowVolumeSlicesMasksAndWhoMaySeeThem) {
  auto project = app_->CreateProject(app::LocalOperator(), "Imaging API", "");
  ASSERT_TRUE(project.ok());
  const std::string p = project->id;
  Session manager = User("i-manager", p, {core::Role::kManager});
  Session reader = User("i-reader", p, {core::Role::kAnnotator});
  Session unassigned = User("i-unassigned", p, {core::Role::kAnnotator});
  Session steward = User("i-steward", p, {core::Role::kDataSteward});
  Session outsider = User("i-outsider", p, {});

  dicom::CtPhantomOptions o;
  o.slices = kSlices;
  o.rows = o.cols = kSize;
  o.seed = 11;
  auto series = dicom::MakeCtPhantomSeries(o);
  ASSERT_TRUE(series.ok());
  std::vector<std::pair<std::string, std::string>> parts;
  for (const auto& bytes : *series) parts.emplace_back("application/dicom", std::string(bytes.begin(), bytes.end()));
  parts.emplace_back("text/plain", "a note");
  const std::string stow_path = "/api/v1/projects/" + p + "/dicomweb/studies";

  EXPECT_EQ(Send("POST", stow_path, &outsider, Stow(parts), StowType())->status, 403);
  EXPECT_EQ(Send("POST", stow_path, &reader, Stow(parts), StowType())->status, 403);
  EXPECT_EQ(Send("POST", stow_path, &manager, "{}", "application/json")->status, 415);
  auto stored = Send("POST", stow_path, &manager, Stow(parts), StowType());
  ASSERT_EQ(stored->status, 202) << stored->body;  // the text part was refused
  json report = Body(stored);
  EXPECT_EQ(report["stored"], kSlices);
  EXPECT_EQ(report["errors"], 1);
  EXPECT_EQ(report["files"][kSlices]["name"], "part 5");
  EXPECT_EQ(report["files"][kSlices]["error"]["code"], "unsupported");
  ASSERT_EQ(report["series"].size(), 1u);
  EXPECT_EQ(report["series"][0]["volume"]["dims"], json::array({kSize, kSize, kSlices}));
  const std::string item = report["series"][0]["item_id"];
  // The same instances again: all duplicates, 200.
  parts.pop_back();
  auto again = Send("POST", stow_path, &manager, Stow(parts), StowType());
  ASSERT_EQ(again->status, 200) << again->body;
  EXPECT_EQ(Body(again)["duplicates"], kSlices);
  // An instance that cannot join the series (rotated): a 202 whose report says why; nothing stored.
  const int series_ingests = AuditCount("imaging.series_ingest", item);
  dicom::CtPhantomOptions rotated = o;
  rotated.sop_label = "rotated";
  rotated.orientation = "0\\1\\0\\0\\0\\-1";
  auto odd = dicom::MakeCtPhantomSeries(rotated);
  ASSERT_TRUE(odd.ok());
  auto inconsistent = Send("POST", stow_path, &manager,
                           Stow({{"application/dicom", std::string(odd->at(1).begin(), odd->at(1).end())}}), StowType());
  ASSERT_EQ(inconsistent->status, 202) << inconsistent->body;
  const json refusal = Body(inconsistent);
  EXPECT_EQ(refusal["errors"], 1);
  EXPECT_EQ(refusal["series"], json::array());
  EXPECT_EQ(refusal["files"][0]["error"]["code"], "conflict");
  EXPECT_EQ(refusal["files"][0]["error"]["message"],
            "inconsistent with series " + report["series"][0]["series_uid"].get<std::string>() +
                ": Image Orientation (Patient) 0\\1\\0\\0\\0\\-1, the series' is 1\\0\\0\\0\\1\\0");
  EXPECT_EQ(AuditCount("imaging.series_ingest", item), series_ingests);
  ASSERT_TRUE(app_->AssignItem(app::LocalOperator(), item, reader.user_id).ok());

  // The volume.
  const std::string base = "/api/v1/items/" + item;
  auto volume = Send("GET", base + "/volume.nii.gz", &reader);
  ASSERT_EQ(volume->status, 200) << volume->body;
  EXPECT_EQ(volume->get_header_value("Content-Type"), "application/gzip");
  auto v = Nifti(volume->body);
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->geometry.dims, (std::array<std::int64_t, 3>{kSize, kSize, kSlices}));
  EXPECT_EQ(Send("GET", base + "/volume.nii.gz", &unassigned)->status, 403);
  EXPECT_EQ(Send("GET", base + "/volume.nii.gz", &outsider)->status, 403);
  EXPECT_EQ(AuditCount("item.read", item), 1);

  // Slices.
  auto png = Send("GET", base + "/slices/axial/1.png?preset=ct-abdomen", &reader);
  ASSERT_EQ(png->status, 200) << png->body;
  EXPECT_EQ(png->get_header_value("Content-Type"), "image/png");
  ASSERT_GT(png->body.size(), 24u);
  EXPECT_EQ(png->body.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  EXPECT_EQ(BigEndian32(png->body, 16), static_cast<std::uint32_t>(kSize));  // IHDR width
  EXPECT_EQ(BigEndian32(png->body, 20), static_cast<std::uint32_t>(kSize));  // IHDR height
  EXPECT_EQ(Send("GET", base + "/slices/coronal/0.png?wc=40&ww=400", &reader)->status, 200);
  EXPECT_EQ(Send("GET", base + "/slices/axial/99.png", &reader)->status, 400);
  EXPECT_EQ(Send("GET", base + "/slices/oblique/0.png", &reader)->status, 400);
  EXPECT_EQ(Send("GET", base + "/slices/axial/x.png", &reader)->status, 400);
  EXPECT_EQ(Send("GET", base + "/slices/axial/0.png?wc=abc&ww=1", &reader)->status, 400);
  EXPECT_EQ(Send("GET", base + "/slices/axial/0.png", &unassigned)->status, 403);
  EXPECT_EQ(AuditCount("imaging.slice_read", item), 2);

  // Masks: a reader's own, on the volume's grid.
  std::vector<std::uint8_t> labels(static_cast<std::size_t>(kSize) * kSize * kSlices, 0);
  labels[(2 * kSize + 5) * kSize + 7] = 1;
  auto mask = ingest::EncodeNiftiUint8(v->geometry, labels, /*gzip=*/true);
  ASSERT_TRUE(mask.ok());
  const std::string mask_bytes(mask->begin(), mask->end());
  EXPECT_EQ(Send("GET", base + "/mask", &reader)->status, 404);
  EXPECT_EQ(Send("PUT", base + "/mask", &unassigned, mask_bytes, "application/gzip")->status, 403);
  EXPECT_EQ(Send("PUT", base + "/mask", &reader, mask_bytes, "text/plain")->status, 415);
  auto put = Send("PUT", base + "/mask", &reader, mask_bytes, "application/gzip");
  ASSERT_EQ(put->status, 200) << put->body;
  EXPECT_EQ(Body(put)["version"], 1);
  EXPECT_EQ(Body(put)["labels"], json::array({1}));
  auto back = Send("GET", base + "/mask", &reader);
  ASSERT_EQ(back->status, 200) << back->body;
  auto m = Nifti(back->body);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->geometry.dims, v->geometry.dims);
  EXPECT_EQ(m->values[(2 * kSize + 5) * kSize + 7], 1.0f);
  EXPECT_EQ(std::count(m->values.begin(), m->values.end(), 1.0f), 1);
  // Shifted by 3 mm: refused, saying where.
  ingest::NiftiGeometry shifted = ingest::NiftiGeometryFromAffine(v->geometry.dims, [&] {
    auto a = ingest::BestAffine(v->geometry);
    a[0][3] += 3;
    return a;
  }());
  auto misaligned = ingest::EncodeNiftiUint8(shifted, labels, /*gzip=*/true);
  ASSERT_TRUE(misaligned.ok());
  auto refused = Send("PUT", base + "/mask", &reader, std::string(misaligned->begin(), misaligned->end()),
                      "application/gzip");
  EXPECT_EQ(refused->status, 400) << refused->body;
  EXPECT_NE(Body(refused)["error"]["message"].get<std::string>().find("mask voxel"), std::string::npos) << refused->body;
  EXPECT_EQ(Send("GET", base + "/mask", &manager)->status, 404);  // the manager has no mask of their own
  EXPECT_EQ(AuditCount("mask.put", item), 1);
  EXPECT_EQ(AuditCount("mask.read", item), 1);

  // The same voxel as a DICOM-SEG of the series as it was sent (its original UIDs).
  std::vector<std::span<const std::uint8_t>> spans(series->begin(), series->end());
  auto original = dicom::BuildVolume(spans);
  ASSERT_TRUE(original.ok());
  dicom::LabelMap seg_map = dicom::EmptyLabelMap(*original);
  seg_map.labels[(2 * kSize + 6) * kSize + 7] = 1;
  seg_map.segments = {{1, "", "Finding", {"49755003", "SCT", "Morphologically abnormal structure"},
                       {"4147007", "SCT", "Mass"}, dicom::SegmentAlgorithm::kManual, "", {}}};
  auto seg = dicom::WriteSegmentation(seg_map, *original, series->front());
  ASSERT_TRUE(seg.ok()) << seg.status().ToString();
  const std::string seg_bytes(seg->begin(), seg->end());
  EXPECT_EQ(Send("PUT", base + "/mask", &unassigned, seg_bytes, "application/dicom")->status, 403);
  auto seg_refused = Send("PUT", base + "/mask", &reader, mask_bytes, "application/dicom");  // NIfTI bytes
  EXPECT_EQ(seg_refused->status, 400) << seg_refused->body;
  auto seg_put = Send("PUT", base + "/mask", &reader, seg_bytes, "application/dicom");
  ASSERT_EQ(seg_put->status, 200) << seg_put->body;
  EXPECT_EQ(Body(seg_put)["version"], 2);
  auto seg_back = Nifti(Send("GET", base + "/mask", &reader)->body);
  ASSERT_TRUE(seg_back.has_value());
  EXPECT_EQ(seg_back->values[(2 * kSize + 6) * kSize + 7], 1.0f);
  EXPECT_EQ(std::count(seg_back->values.begin(), seg_back->values.end(), 1.0f), 1);
  EXPECT_EQ(AuditCount("mask.put", item), 2);
  EXPECT_EQ(AuditCount("mask.read", item), 2);

  // The way back to the patient: data stewards only.
  EXPECT_EQ(Send("GET", base + "/reidentification", &manager)->status, 403);
  auto link = Send("GET", base + "/reidentification", &steward);
  ASSERT_EQ(link->status, 200) << link->body;
  EXPECT_EQ(Body(link)["original_patient_id"], "MRN-000123");
  EXPECT_EQ(AuditCount("imaging.reidentify", item), 1);
}

TEST_F(ImagingApiTest, DicomSettingsAreTheManagersAndShapeTheInstancesStoredNext) {
  auto project = app_->CreateProject(app::LocalOperator(), "Imaging settings API", "");
  ASSERT_TRUE(project.ok());
  const std::string p = project->id;
  Session manager = User("s-manager", p, {core::Role::kManager});
  Session reader = User("s-reader", p, {core::Role::kAnnotator});
  Session steward = User("s-steward", p, {core::Role::kDataSteward});
  const std::string settings_path = "/api/v1/projects/" + p + "/dicom-settings";

  auto defaults = Send("GET", settings_path, &manager);
  ASSERT_EQ(defaults->status, 200) << defaults->body;
  EXPECT_EQ(Body(defaults)["options"], json::array());
  EXPECT_TRUE(Body(defaults)["updated_at"].is_null());
  const std::string body = json{{"options", {"retain-patient-characteristics"}}}.dump();
  EXPECT_EQ(Send("GET", settings_path, &reader)->status, 403);
  EXPECT_EQ(Send("PUT", settings_path, &reader, body)->status, 403);
  EXPECT_EQ(Send("PUT", settings_path, &steward, body)->status, 403);
  auto bad = Send("PUT", settings_path, &manager, json{{"blanking", {"US:0,0,640"}}}.dump());
  EXPECT_EQ(bad->status, 400);
  EXPECT_NE(Body(bad)["error"]["message"].get<std::string>().find("US:0,0,640"), std::string::npos) << bad->body;
  auto put = Send("PUT", settings_path, &manager, body);
  ASSERT_EQ(put->status, 200) << put->body;
  EXPECT_EQ(Body(put)["options"], json::array({"retain-patient-characteristics"}));
  EXPECT_EQ(Body(Send("GET", settings_path, &manager))["options"], Body(put)["options"]);
  EXPECT_EQ(AuditCount("project.dicom_settings", p), 1);

  const auto parts = CtParts(2, 12);
  ASSERT_EQ(parts.size(), 2u);
  auto stored = Send("POST", "/api/v1/projects/" + p + "/dicomweb/studies", &manager, Stow(parts), StowType());
  ASSERT_EQ(stored->status, 200) << stored->body;
  const json report = Body(stored);
  const std::string item = report["series"][0]["item_id"];
  const std::string sop = report["files"][0]["sop_instance_uid"];
  const std::string instance_path = "/api/v1/items/" + item + "/instances/" + sop;
  EXPECT_EQ(Send("GET", instance_path, &reader)->status, 403) << "not assigned";
  EXPECT_EQ(Send("GET", "/api/v1/items/" + item + "/instances/2.25.1", &manager)->status, 404);
  auto instance = Send("GET", instance_path, &manager);
  ASSERT_EQ(instance->status, 200) << instance->body;
  EXPECT_EQ(instance->get_header_value("Content-Type"), "application/dicom");
  auto attributes = dicom::ReadTextAttributes(
      {reinterpret_cast<const std::uint8_t*>(instance->body.data()), instance->body.size()});
  ASSERT_TRUE(attributes.ok()) << attributes.status().ToString();
  EXPECT_EQ(attributes->at("00100040"), "F") << "Retain Patient Characteristics keeps the sex";
  EXPECT_EQ(attributes->at("00080018"), sop);
  const auto birth = attributes->find("00100030");
  EXPECT_TRUE(birth == attributes->end() || birth->second.empty()) << "the birth date still goes";
  EXPECT_EQ(AuditCount("imaging.instance_read", item), 1);
}

// STOW-RS answers, per instance, what de-identification did: a JPEG ultrasound cine blanked by
// the project's rule says how many rectangles were zeroed and which syntax was decoded.
TEST_F(ImagingApiTest, StowReportsWhatDeidentificationDidToEachInstance) {
  auto project = app_->CreateProject(app::LocalOperator(), "Imaging STOW actions", "");
  ASSERT_TRUE(project.ok());
  const std::string p = project->id;
  Session manager = User("a-manager", p, {core::Role::kManager});
  auto put = Send("PUT", "/api/v1/projects/" + p + "/dicom-settings", &manager,
                  json{{"blanking", {"US:0,0,8,2"}}}.dump());
  ASSERT_EQ(put->status, 200) << put->body;
  constexpr int kFrames = 2;
  auto us = dicom::MakeUltrasoundCinePhantom(kFrames, 16, 16, /*ybr_planar=*/false, 41);
  ASSERT_TRUE(us.ok());
  auto jpeg = dicom::Transcode(*us, "1.2.840.10008.1.2.4.50");
  ASSERT_TRUE(jpeg.ok()) << jpeg.status().ToString();
  const auto ct = CtParts(1, 43);
  ASSERT_EQ(ct.size(), 1u);
  auto stored = Send("POST", "/api/v1/projects/" + p + "/dicomweb/studies", &manager,
                     Stow({{"application/dicom", std::string(jpeg->begin(), jpeg->end())}, ct[0], {"text/plain", "a note"}}),
                     StowType());
  ASSERT_EQ(stored->status, 202) << stored->body;
  const json report = Body(stored);
  ASSERT_EQ(report["files"].size(), 3u);
  EXPECT_EQ(report["files"][0]["outcome"], "stored");
  EXPECT_EQ(report["files"][0]["actions"]["pixels_blanked"], kFrames);
  EXPECT_EQ(report["files"][0]["actions"]["pixels_decompressed_from"], "1.2.840.10008.1.2.4.50");
  EXPECT_EQ(report["files"][1]["outcome"], "stored");
  EXPECT_EQ(report["files"][1]["actions"]["pixels_blanked"], 0);
  EXPECT_TRUE(report["files"][1]["actions"]["pixels_decompressed_from"].is_null());
  EXPECT_GT(report["files"][1]["actions"]["uid_remapped"], 0);
  EXPECT_FALSE(report["files"][2].contains("actions")) << "refused before de-identification";
  const std::string item = report["files"][0]["item_id"];
  EXPECT_EQ(AuditCount("imaging.series_ingest", item), 1);
}

TEST_F(ImagingApiTest, OnlyTheDataStewardSeesAndDecidesTheQuarantine) {
  auto project = app_->CreateProject(app::LocalOperator(), "Imaging quarantine API", "");
  ASSERT_TRUE(project.ok());
  const std::string p = project->id;
  Session manager = User("q-manager", p, {core::Role::kManager});
  Session reader = User("q-reader", p, {core::Role::kAnnotator});
  Session auditor = User("q-auditor", p, {core::Role::kAuditor});
  Session steward = User("q-steward", p, {core::Role::kDataSteward});
  auto us = dicom::MakeUltrasoundCinePhantom(2, 16, 16, /*ybr_planar=*/false, 4);
  ASSERT_TRUE(us.ok());
  auto stored = Send("POST", "/api/v1/projects/" + p + "/dicomweb/studies", &manager,
                     Stow({{"application/dicom", std::string(us->begin(), us->end())}}), StowType());
  ASSERT_EQ(stored->status, 202) << stored->body;
  const json report = Body(stored);
  EXPECT_EQ(report["quarantined"], 1);
  const std::string id = report["files"][0]["quarantine_id"];
  const std::string base = "/api/v1/projects/" + p + "/quarantine";

  for (const Session* s : {&manager, &reader, &auditor}) {
    auto list = Send("GET", base, s);
    EXPECT_EQ(list->status, 403) << s->user_id;
    EXPECT_EQ(list->body.find(id), std::string::npos) << "a refusal shows nothing";
    EXPECT_EQ(Send("GET", base + "/" + id + "/frames/0.png", s)->status, 403);
    EXPECT_EQ(Send("POST", base + "/" + id + "/release", s, "{}")->status, 403);
  }
  EXPECT_EQ(AuditCount("quarantine.list", p), 0) << "a refused list reads nothing";
  auto list = Send("GET", base + "?status=pending", &steward);
  ASSERT_EQ(list->status, 200) << list->body;
  ASSERT_EQ(Body(list)["data"].size(), 1u);
  EXPECT_EQ(Body(list)["data"][0]["id"], id);
  EXPECT_EQ(Body(list)["data"][0]["modality"], "US");
  EXPECT_EQ(Body(list)["pending"], 1);
  EXPECT_EQ(AuditCount("quarantine.list", p), 1);
  auto frame = Send("GET", base + "/" + id + "/frames/1.png", &steward);
  ASSERT_EQ(frame->status, 200) << frame->body;
  EXPECT_EQ(frame->get_header_value("Content-Type"), "image/png");
  EXPECT_EQ(frame->get_header_value("Caliper-Frame-Count"), "2");
  EXPECT_EQ(Send("GET", base + "/" + id + "/frames/2.png", &steward)->status, 400);
  EXPECT_EQ(AuditCount("quarantine.view", id), 1);

  EXPECT_EQ(Send("POST", base + "/" + id + "/blank", &steward, json{{"rects", json::array()}}.dump())->status, 400);
  EXPECT_EQ(Send("POST", base + "/" + id + "/discard", &steward, "{}")->status, 400) << "a reason is required";
  auto blanked = Send("POST", base + "/" + id + "/blank", &steward,
                      json{{"rects", {{{"x", 0}, {"y", 0}, {"width", 16}, {"height", 3}}}}, {"reason", "name bar"}}
                          .dump());
  ASSERT_EQ(blanked->status, 200) << blanked->body;
  EXPECT_EQ(Body(blanked)["status"], "blanked");
  EXPECT_EQ(Body(blanked)["decided_by"], steward.user_id);
  EXPECT_FALSE(Body(blanked)["item_id"].is_null());
  EXPECT_EQ(Send("POST", base + "/" + id + "/release", &steward, "{}")->status, 409);
  EXPECT_EQ(Send("GET", base + "/" + id + "/frames/0.png", &steward)->status, 404) << "the pixels left the quarantine";
  EXPECT_EQ(AuditCount("quarantine.blank", id), 1);
  auto shown = Send("GET", base + "/" + id, &steward);
  ASSERT_EQ(shown->status, 200);
  EXPECT_EQ(Body(shown)["rects"][0]["width"], 16);
  EXPECT_EQ(Body(shown)["reason"], "name bar");
  // The pending count whatever the filter: none is left once the one entry is decided.
  auto decided = Send("GET", base + "?status=blanked&limit=1", &steward);
  ASSERT_EQ(decided->status, 200) << decided->body;
  EXPECT_EQ(Body(decided)["data"].size(), 1u);
  EXPECT_EQ(Body(decided)["pending"], 0);
  EXPECT_EQ(AuditCount("quarantine.list", p), 2);
}

TEST_F(ImagingApiTest, DicomSourcesAreSetByManagersAndAudited) {
  auto project = app_->CreateProject(app::LocalOperator(), "DICOM sources API", "");
  auto other = app_->CreateProject(app::LocalOperator(), "DICOM sources other", "");
  ASSERT_TRUE(project.ok() && other.ok());
  const std::string path = "/api/v1/projects/" + project->id + "/dicom-sources";
  Session manager = User("d-manager", project->id, {core::Role::kManager});
  Session steward = User("d-steward", project->id, {core::Role::kDataSteward});
  Session other_manager = User("d-other-manager", other->id, {core::Role::kManager});
  const json list = {{"sources", {{{"ae_title", " CT1 "}, {"description", "CT room 3"}}, {{"ae_title", "MR1"}}}}};

  EXPECT_EQ(Send("PUT", path, &steward, list.dump())->status, 403);
  EXPECT_EQ(Send("GET", path, &steward)->status, 403);
  EXPECT_EQ(Send("PUT", path, &other_manager, list.dump())->status, 403);
  auto put = Send("PUT", path, &manager, list.dump());
  ASSERT_EQ(put->status, 200) << put->body;
  EXPECT_EQ(Body(put)["sources"][0]["ae_title"], "CT1");  // trimmed
  auto got = Send("GET", path, &manager);
  ASSERT_EQ(got->status, 200);
  EXPECT_EQ(Body(got), Body(put));
  EXPECT_EQ(Body(got)["sources"][1], json({{"ae_title", "MR1"}, {"description", ""}}));
  EXPECT_EQ(Body(got)["receiver"], json({{"listen", ""}, {"ae_title", "CALIPER"}})) << "the receiver is off here";
  EXPECT_EQ(AuditCount("project.dicom_sources", project->id), 1);

  // Another project cannot take a title that sends here; bad titles are 400.
  auto taken = Send("PUT", "/api/v1/projects/" + other->id + "/dicom-sources", &other_manager,
                    json{{"sources", {{{"ae_title", "CT1"}}}}}.dump());
  EXPECT_EQ(taken->status, 409) << taken->body;
  EXPECT_EQ(Send("PUT", path, &manager, json{{"sources", {{{"ae_title", "TOO-LONG-FOR-AN-AE"}}}}}.dump())->status, 400);
  EXPECT_EQ(Send("PUT", path, &manager, json{{"sources", {{{"title", "CT1"}}}}}.dump())->status, 400);
  EXPECT_EQ(Send("PUT", path, &manager, json{{"sources", {{{"ae_title", "CT1"}, {"port", 1}}}}}.dump())->status, 400);
  EXPECT_EQ(AuditCount("project.dicom_sources", project->id), 1);
  auto project_now = app_->ProjectOfDicomSource("CT1");
  ASSERT_TRUE(project_now.ok());
  EXPECT_EQ(*project_now, project->id);
}

}  // namespace
}  // namespace caliper::http

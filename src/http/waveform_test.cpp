// Waveforms through the HTTP API over loopback: multipart upload of a synthetic WFDB record and
// a synthetic EDF+ file (and, with CALIPER_SAMPLE_DATA, MIT-BIH record 100 and the DICOM 12-lead
// ECG) with a per-record report, the record's description, windows of samples in mV, the
// reference annotations, who is refused, and the audit events of every read.

#include <gtest/gtest.h>
#include <httplib.h>

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "caliper/app/app.h"
#include "caliper/common/sample_data.h"
#include "caliper/http/server.h"
#include "caliper/waveform/waveform.h"
#include "http/test_server.h"

namespace caliper::http {
namespace {

using nlohmann::json;

constexpr const char* kPassword = "waveform-test-passphrase-1";

using Session = TestSession;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// A WFDB record "syn": 2 leads at 250 Hz, 1000 samples in format 16 (lead I: i mod 200 - 100
// counts, gain 200 -> mV = counts / 200; lead II constant 50 counts with baseline 10), and an
// annotation file with N at samples 100 and 350 and V at 600.
waveform::FileSet SyntheticWfdb() {
  std::string dat;
  auto put16 = [&](int v) {
    const auto u = static_cast<std::uint16_t>(static_cast<std::int16_t>(v));
    dat.push_back(static_cast<char>(u & 0xFF));
    dat.push_back(static_cast<char>(u >> 8));
  };
  for (int i = 0; i < 1000; ++i) {
    put16(i % 200 - 100);
    put16(50);
  }
  auto word = [](int code, int step) {
    const unsigned w = static_cast<unsigned>(code << 10 | step);
    return std::string{static_cast<char>(w & 0xFF), static_cast<char>(w >> 8)};
  };
  const std::string atr = word(1, 100) + word(1, 250) + word(5, 250) + word(0, 0);
  // Checksums: lead I sums to 5 x (-100) = -500; lead II to 50 000, -15 536 as a 16-bit value.
  return {{"syn.hea", "# 47 F\nsyn 2 250 1000 10:11:12 03/04/2005\nsyn.dat 16 200/mV 16 0 0 -500 0 I\n"
                      "syn.dat 16 200(10)/mV 16 0 0 -15536 0 II\n"},
          {"syn.dat", dat},
          {"syn.atr", atr}};
}

class WaveformApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (harness_ == nullptr) {
      auto harness = std::make_unique<TestServer>();
      Status started = harness->Start("caliper_waveform_api_test", ServerOptions{});
      ASSERT_TRUE(started.ok()) << started.ToString();
      harness_ = harness.release();
      app_ = &harness_->app();
    }
  }
  static void TearDownTestSuite() { delete harness_; }

  static httplib::Headers Headers(const Session* s) {
    httplib::Headers h;
    if (s != nullptr) {
      h.emplace("Cookie", s->cookie);
      h.emplace("X-CSRF-Token", s->csrf);
    }
    return h;
  }
  static httplib::Client Client() {
    httplib::Client c("127.0.0.1", harness_->port());
    c.set_read_timeout(120, 0);
    return c;
  }
  static httplib::Result Get(const std::string& path, const Session* s) { return Client().Get(path, Headers(s)); }
  static httplib::Result Upload(const std::string& project_id, const waveform::FileSet& files, const Session* s) {
    httplib::MultipartFormDataItems parts;
    for (const auto& [name, bytes] : files) parts.push_back({"file", bytes, name, "application/octet-stream"});
    return Client().Post("/api/v1/projects/" + project_id + "/waveforms", Headers(s), parts);
  }
  static json Body(const httplib::Result& res) { return json::parse(res->body, nullptr, false); }

  static Session User(const std::string& username, const std::string& project_id, const std::vector<core::Role>& roles) {
    Session s = harness_->SignedInUser(username, kPassword, project_id, roles, {core::DataType::kWaveforms});
    EXPECT_FALSE(s.cookie.empty()) << username << " could not sign in";
    return s;
  }

  static int AuditCount(const std::string& action, const std::string& object_id) {
    return harness_->AuditCount(action, object_id);
  }

  static inline TestServer* harness_ = nullptr;
  static inline app::App* app_ = nullptr;
};

TEST_F(WaveformApiTest, UploadDescribeWindowAnnotationsAndWhoMaySeeThem) {
  auto project = app_->CreateProject(app::LocalOperator(), "Waveform API", "");
  ASSERT_TRUE(project.ok());
  const std::string p = project->id;
  Session manager = User("w-manager", p, {core::Role::kManager});
  Session reader = User("w-reader", p, {core::Role::kAnnotator});
  Session unassigned = User("w-unassigned", p, {core::Role::kAnnotator});
  Session outsider = User("w-outsider", p, {});

  waveform::FileSet files = SyntheticWfdb();
  waveform::Waveform known;
  known.sampling_rate_hz = 100;
  known.samples = 300;
  known.leads.push_back({"ECG", {}, 1e-3, 0});
  for (int i = 0; i < 300; ++i) known.leads[0].digital.push_back((i % 50) * 20 - 500);
  auto edf = waveform::WriteEdf(known, {"MCH-0234567 F 02-MAY-1951 Haagse_Harry", "Startdate 02-MAR-2002 X X X"});
  ASSERT_TRUE(edf.ok());
  files["ecg.edf"] = *edf;
  files["orphan.dat"] = "no header names me";

  EXPECT_EQ(Upload(p, files, &reader)->status, 403);
  EXPECT_EQ(Upload(p, files, &outsider)->status, 403);
  EXPECT_EQ(Client().Post("/api/v1/projects/" + p + "/waveforms", Headers(&manager), "{}", "application/json")->status,
            400);
  auto stored = Upload(p, files, &manager);
  ASSERT_EQ(stored->status, 202) << stored->body;  // the orphan is refused
  json report = Body(stored);
  EXPECT_EQ(report["stored"], 2);
  EXPECT_EQ(report["errors"], 1);
  std::map<std::string, json> by_name;
  for (const auto& r : report["records"]) by_name[r["name"]] = r;
  ASSERT_EQ(by_name.size(), 3u);
  EXPECT_EQ(by_name["syn.hea"]["format"], "wfdb");
  EXPECT_EQ(by_name["syn.hea"]["leads"], 2);
  EXPECT_EQ(by_name["syn.hea"]["annotations"], 3);
  EXPECT_EQ(by_name["ecg.edf"]["format"], "edf+");
  EXPECT_EQ(by_name["orphan.dat"]["outcome"], "error");
  const std::string wfdb_item = by_name["syn.hea"]["item_id"];
  const std::string edf_item = by_name["ecg.edf"]["item_id"];
  ASSERT_TRUE(app_->AssignItem(app::LocalOperator(), wfdb_item, reader.user_id).ok());
  ASSERT_TRUE(app_->AssignItem(app::LocalOperator(), edf_item, reader.user_id).ok());

  // The items keep only coarsened cohort facts.
  auto item = Get("/api/v1/items/" + wfdb_item, &manager);
  ASSERT_EQ(item->status, 200);
  EXPECT_EQ(Body(item)["data_type"], "waveforms");
  EXPECT_EQ(Body(item)["cohort"]["age_band"], "45-49");
  EXPECT_EQ(Body(item)["cohort"]["sex"], "F");
  auto edf_meta = Get("/api/v1/items/" + edf_item, &manager);
  EXPECT_EQ(Body(edf_meta)["cohort"]["age_band"], "50-54");
  EXPECT_EQ(edf_meta->body.find("Haagse"), std::string::npos);

  // The description.
  const std::string base = "/api/v1/items/" + wfdb_item;
  auto desc = Get(base + "/waveform", &reader);
  ASSERT_EQ(desc->status, 200) << desc->body;
  json d = Body(desc);
  EXPECT_EQ(d["sampling_rate_hz"], 250);
  EXPECT_EQ(d["samples"], 1000);
  EXPECT_DOUBLE_EQ(d["duration_s"].get<double>(), 4.0);
  EXPECT_EQ(d["source_format"], "wfdb");
  EXPECT_EQ(d["leads"], json::array({{{"name", "I"}, {"units", "mV"}}, {{"name", "II"}, {"units", "mV"}}}));
  EXPECT_EQ(Get(base + "/waveform", &unassigned)->status, 403);
  EXPECT_EQ(Get(base + "/waveform", &outsider)->status, 403);
  EXPECT_EQ(AuditCount("waveform.read", wfdb_item), 1);

  // Windows: seconds from the first sample, mV.
  auto window = Get(base + "/waveform/samples?from_s=1&to_s=1.02&leads=II,I", &reader);
  ASSERT_EQ(window->status, 200) << window->body;
  json w = Body(window);
  EXPECT_EQ(w["start_sample"], 250);
  ASSERT_EQ(w["leads"].size(), 2u);
  EXPECT_EQ(w["leads"][0]["name"], "II");
  ASSERT_EQ(w["leads"][1]["values"].size(), 5u);  // samples 250..254
  for (int k = 0; k < 5; ++k) {
    EXPECT_DOUBLE_EQ(w["leads"][1]["values"][k].get<double>(), ((250 + k) % 200 - 100) / 200.0);
    EXPECT_DOUBLE_EQ(w["leads"][0]["values"][k].get<double>(), (50 - 10) / 200.0);
  }
  auto all = Get(base + "/waveform/samples", &reader);
  ASSERT_EQ(all->status, 200);
  EXPECT_EQ(Body(all)["leads"][0]["values"].size(), 1000u);  // 10 s asked, clipped to 4 s
  EXPECT_EQ(Get(base + "/waveform/samples?from_s=-1", &reader)->status, 400);
  EXPECT_EQ(Get(base + "/waveform/samples?from_s=4", &reader)->status, 400);
  EXPECT_EQ(Get(base + "/waveform/samples?from_s=1&to_s=5", &reader)->status, 400);
  EXPECT_EQ(Get(base + "/waveform/samples?from_s=2&to_s=1", &reader)->status, 400);
  EXPECT_EQ(Get(base + "/waveform/samples?from_s=abc", &reader)->status, 400);
  EXPECT_EQ(Get(base + "/waveform/samples?leads=V7", &reader)->status, 400);
  EXPECT_EQ(Get(base + "/waveform/samples?group=MEDIAN%20BEAT", &reader)->status, 400);
  EXPECT_EQ(Get(base + "/waveform/samples", &unassigned)->status, 403);
  EXPECT_EQ(AuditCount("waveform.samples_read", wfdb_item), 2);

  // The reference annotations.
  auto ann = Get(base + "/waveform/annotations", &reader);
  ASSERT_EQ(ann->status, 200) << ann->body;
  json a = Body(ann);
  ASSERT_EQ(a.size(), 3u);
  EXPECT_EQ(a[0], (json{{"sample", 100}, {"time_s", 0.4}, {"symbol", "N"}, {"label", "Normal beat"}, {"aux", ""}}));
  EXPECT_EQ(a[2]["sample"], 600);
  EXPECT_EQ(a[2]["symbol"], "V");
  EXPECT_EQ(AuditCount("waveform.annotations_read", wfdb_item), 1);

  // EDF values come back within one 16-bit step of the written ones.
  auto edf_window = Get("/api/v1/items/" + edf_item + "/waveform/samples?from_s=0&to_s=3", &reader);
  ASSERT_EQ(edf_window->status, 200);
  json e = Body(edf_window)["leads"][0]["values"];
  ASSERT_EQ(e.size(), 300u);
  for (int i = 0; i < 300; i += 17) EXPECT_NEAR(e[i].get<double>(), ((i % 50) * 20 - 500) / 1000.0, 0.98 / 65535);

  // A non-waveform item has no waveform.
  app::NewItem other;
  other.data_type = core::DataType::kWaveforms;
  other.patient_key = "pt-x";
  std::istringstream in("not a stored waveform");
  auto created = app_->CreateItem(app::LocalOperator(), p, other, in);
  ASSERT_TRUE(created.ok());
  EXPECT_EQ(Get("/api/v1/items/" + created->id + "/waveform", &manager)->status, 404);
}

// The sample data: MIT-BIH record 100 with its beat labels and the DICOM 12-lead ECG
// (de-identified on the way in).
TEST_F(WaveformApiTest, SampleRecordsImportWithTheirAnnotationsAndLeads) {
  auto hea = SampleDataFile("waveform/wfdb/100.hea");
  auto dcm = SampleDataFile("waveform/waveform_ecg_12lead.dcm");
  if (!hea || !dcm) {
    if (SampleDataRequired()) FAIL() << "the waveform sample files are missing";
    GTEST_SKIP() << "CALIPER_SAMPLE_DATA is not set";
  }
  auto project = app_->CreateProject(app::LocalOperator(), "Waveform samples", "");
  ASSERT_TRUE(project.ok());
  Session manager = User("ws-manager", project->id, {core::Role::kManager});
  const std::string folder = std::filesystem::path(*hea).parent_path().string();
  waveform::FileSet files;
  for (const char* f : {"100.hea", "100.dat", "100.atr"}) files[f] = ReadAll(folder + "/" + f);
  files["ecg.dcm"] = ReadAll(*dcm);
  auto stored = Upload(project->id, files, &manager);
  ASSERT_EQ(stored->status, 200) << stored->body.substr(0, 2000);
  std::map<std::string, json> by_name;
  const json report = Body(stored);
  for (const auto& r : report["records"]) by_name[r["name"]] = r;

  const std::string mit = by_name["100.hea"]["item_id"];
  auto ann = Get("/api/v1/items/" + mit + "/waveform/annotations", &manager);
  ASSERT_EQ(ann->status, 200);
  json a = Body(ann);
  // 2274 annotations: 2239 N, 33 A, 1 V and the opening rhythm label (checked against an
  // independent read of 100.atr in src/waveform/wfdb_test.cpp).
  ASSERT_EQ(a.size(), 2274u);
  EXPECT_EQ(a[0]["symbol"], "+");
  EXPECT_EQ(a[0]["aux"], "(N");
  EXPECT_EQ(a[1]["sample"], 77);
  EXPECT_NEAR(a[1]["time_s"].get<double>(), 77.0 / 360, 1e-12);
  EXPECT_NEAR(a[2]["time_s"].get<double>(), 370.0 / 360, 1e-12);

  const std::string ecg = by_name["ecg.dcm"]["item_id"];
  EXPECT_EQ(by_name["ecg.dcm"]["format"], "dicom");
  auto desc = Get("/api/v1/items/" + ecg + "/waveform", &manager);
  ASSERT_EQ(desc->status, 200);
  json d = Body(desc);
  EXPECT_EQ(d["sampling_rate_hz"], 1000);
  EXPECT_EQ(d["samples"], 10000);
  ASSERT_EQ(d["leads"].size(), 12u);
  EXPECT_EQ(d["leads"][3]["name"], "aVR");
  EXPECT_EQ(d["leads"][11]["name"], "V6");
  ASSERT_EQ(d["groups"].size(), 1u);
  EXPECT_EQ(d["groups"][0]["label"], "MEDIAN BEAT");
  auto median = Get("/api/v1/items/" + ecg + "/waveform/samples?group=MEDIAN%20BEAT&leads=II", &manager);
  ASSERT_EQ(median->status, 200) << median->body;
  EXPECT_EQ(Body(median)["leads"][0]["values"].size(), 1200u);
  auto item = Get("/api/v1/items/" + ecg, &manager);
  EXPECT_EQ(Body(item)["cohort"]["age_band"], "40-44");
  EXPECT_EQ(Body(item)["modality"], "ECG");
  for (const char* phi : {"642341", "Galliera", "13002689"}) EXPECT_EQ(item->body.find(phi), std::string::npos);
}

// Interval and beat labels: each reader's own versions, validation against the record and the
// guideline, and the agreement between readers for those who may see every reading.
TEST_F(WaveformApiTest, IntervalsPerReaderAndTheirAgreement) {
  auto project = app_->CreateProject(app::LocalOperator(), "Waveform intervals", "");
  ASSERT_TRUE(project.ok());
  const std::string p = project->id;
  Session manager = User("wi-manager", p, {core::Role::kManager});
  Session r1 = User("wi-reader1", p, {core::Role::kAnnotator});
  Session r2 = User("wi-reader2", p, {core::Role::kAnnotator});
  Session adjudicator = User("wi-adjudicator", p, {core::Role::kAdjudicator});
  auto stored = Upload(p, SyntheticWfdb(), &manager);
  ASSERT_EQ(stored->status, 200) << stored->body;
  const std::string item = Body(stored)["records"][0]["item_id"];
  for (const Session* s : {&r1, &r2}) ASSERT_TRUE(app_->AssignItem(app::LocalOperator(), item, s->user_id).ok());
  const std::string path = "/api/v1/items/" + item + "/intervals";
  auto put = [&](const Session& s, const json& body) {
    return Client().Put(path, Headers(&s), body.dump(), "application/json");
  };
  const json one = {{"intervals", {{{"onset_s", 0.5}, {"offset_s", 2.5}, {"class", "af"}, {"confidence", 0.9}}}},
                    {"beats", {{{"time_s", 0.4}, {"class", "pvc"}}}}};
  EXPECT_EQ(put(r1, one)->status, 409);  // no published guideline yet

  const json schema = {
      {"classes",
       {{{"id", "af"}, {"name", "Atrial fibrillation"}, {"kind", "classification"}, {"data_types", {"waveforms"}},
         {"definition", "An episode of atrial fibrillation."}},
        {{"id", "pvc"}, {"name", "Premature ventricular contraction"}, {"kind", "classification"},
         {"data_types", {"waveforms"}}, {"definition", "A premature ventricular beat."}},
        {{"id", "lesion"}, {"name", "Lesion"}, {"kind", "segmentation"}, {"data_types", {"imaging"}},
         {"definition", "Not for waveforms."}}}}};
  auto draft = app_->CreateGuidelineDraft(app::LocalOperator(), p, schema.dump());
  ASSERT_TRUE(draft.ok()) << draft.status().ToString();
  ASSERT_TRUE(app_->PublishGuideline(app::LocalOperator(), p, draft->id, draft->revision).ok());

  EXPECT_EQ(Get(path, &r1)->status, 200);
  EXPECT_EQ(Body(Get(path, &r1))["version"], 0);
  auto first = put(r1, one);
  ASSERT_EQ(first->status, 200) << first->body;
  EXPECT_EQ(Body(first)["version"], 1);
  json bad = one;
  bad["intervals"][0]["offset_s"] = 0.5;
  EXPECT_EQ(put(r1, bad)->status, 400);  // offset not after onset
  bad["intervals"][0]["offset_s"] = 4.5;
  EXPECT_EQ(put(r1, bad)->status, 400);  // beyond the 4 s record
  bad = one;
  bad["intervals"][0]["class"] = "lesion";
  auto wrong_type = put(r1, bad);
  EXPECT_EQ(wrong_type->status, 400);
  EXPECT_NE(wrong_type->body.find("waveforms"), std::string::npos) << wrong_type->body;
  bad["intervals"][0]["class"] = "flutter";
  EXPECT_EQ(put(r1, bad)->status, 400);  // not in the guideline
  bad = one;
  bad["beats"][0]["confidence"] = 2;
  EXPECT_EQ(put(r1, bad)->status, 400);
  EXPECT_EQ(put(manager, one)->status, 403);  // managers do not label

  // Reader 2: AF 1.0-2.5 (IoU 1.5 / 2.0 = 0.75 with reader 1's), the PVC 100 ms later.
  const json two = {{"intervals", {{{"onset_s", 1.0}, {"offset_s", 2.5}, {"class", "af"}}}},
                    {"beats", {{{"time_s", 0.5}, {"class", "pvc"}}}}};
  ASSERT_EQ(put(r2, two)->status, 200);
  auto own = Get(path, &r2);
  ASSERT_EQ(own->status, 200);
  EXPECT_EQ(Body(own)["version"], 1);
  ASSERT_EQ(Body(own)["intervals"].size(), 1u);
  EXPECT_EQ(Body(own)["intervals"][0]["onset_s"], 1.0);  // only their own
  EXPECT_EQ(Body(Get(path, &r1))["intervals"][0]["onset_s"], 0.5);

  EXPECT_EQ(Get(path + "/agreement", &r1)->status, 403);
  auto agreement = Get(path + "/agreement", &adjudicator);
  ASSERT_EQ(agreement->status, 200) << agreement->body;
  json a = Body(agreement);
  EXPECT_EQ(a["iou_threshold"], 0.5);
  EXPECT_EQ(a["beat_tolerance_ms"], 150.0);
  ASSERT_EQ(a["readers"].size(), 2u);
  ASSERT_EQ(a["pairs"].size(), 1u);
  EXPECT_EQ(a["pairs"][0]["interval_f1"], 1.0);
  EXPECT_NEAR(a["pairs"][0]["mean_onset_error_ms"].get<double>(), 500.0, 1e-9);
  EXPECT_NEAR(a["pairs"][0]["mean_offset_error_ms"].get<double>(), 0.0, 1e-9);
  EXPECT_EQ(a["pairs"][0]["beat_f1"], 1.0);
  EXPECT_NEAR(a["pairs"][0]["mean_beat_error_ms"].get<double>(), 100.0, 1e-9);
  EXPECT_EQ(Get(path + "/agreement", &manager)->status, 200);
  EXPECT_EQ(AuditCount("markup.put", item), 2);
  EXPECT_EQ(AuditCount("markup.list", item), 2);
}

}  // namespace
}  // namespace caliper::http

// Notes ingest through the App: de-identified before storage, per-patient consistency,
// code-point offsets of the replacements, per-record errors, duplicates, nothing half-stored.

#include <gtest/gtest.h>

#include <chrono>
#include <sstream>

#include <nlohmann/json.hpp>

#include "app/app_test_support.h"
#include "caliper/app/app.h"

namespace caliper::app {
namespace {

using nlohmann::json;

class NotesTest : public ProjectAppTest {
 protected:
  NotesTest() : ProjectAppTest("caliper_notes_test_", "Notes") {}

  std::vector<NoteIngestResult> Ingest(ingest::NoteFormat format, const std::string& data,
                                       ingest::NoteReaderOptions options = {}) {
    std::istringstream in(data);
    auto reader = ingest::NoteReader::Create(format, in, options);
    auto results = app_->IngestNotes(LocalOperator(), project_id_, *reader);
    EXPECT_TRUE(results.ok()) << results.status().ToString();
    return results.ok() ? *results : std::vector<NoteIngestResult>{};
  }

  // Labs ingest of a Caliper CSV.
  std::vector<LabIngestResult> IngestLabsCsv(const std::string& csv) {
    std::istringstream in(csv);
    auto records = ingest::ReadLabs(ingest::LabFormat::kCsv, in, 1 << 20);
    EXPECT_TRUE(records.ok()) << records.status().ToString();
    if (!records.ok()) return {};
    auto results = app_->IngestLabs(LocalOperator(), project_id_, *records);
    EXPECT_TRUE(results.ok()) << results.status().ToString();
    return results.ok() ? *results : std::vector<LabIngestResult>{};
  }

  NoteView Read(const std::string& item_id) {
    auto view = app_->ReadNote(LocalOperator(), item_id);
    EXPECT_TRUE(view.ok()) << view.status().ToString();
    return view.ok() ? *view : NoteView{};
  }

  // The code points [start, end) of UTF-8 `s`.
  static std::string Slice(const std::string& s, std::size_t start, std::size_t end) {
    std::size_t cp = 0, begin = s.size(), stop = s.size();
    for (std::size_t i = 0; i <= s.size(); ++i) {
      if (i < s.size() && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) continue;
      if (cp == start) begin = std::min(begin, i);
      if (cp == end) {
        stop = i;
        break;
      }
      ++cp;
    }
    return s.substr(begin, stop - begin);
  }
};

TEST_F(NotesTest, StoredTextIsDeidentifiedWithSpansInCodePointsOfTheStoredText) {
  const std::string text =
      "Ünïcödé header — Patient: John Smith, MRN: 4471234. Seen by Dr. Alvarez on 03/12/2025. "
      "Call 617-555-0142. Mr. Smith is stable.";
  auto results = Ingest(ingest::NoteFormat::kJsonl,
                        json{{"id", "n1"}, {"patient", "MRN4471234"}, {"text", text}, {"author", "Dr. Alvarez"},
                             {"service", "cardiology"}}
                                .dump() + "\n");
  ASSERT_EQ(results.size(), 1u);
  ASSERT_EQ(results[0].outcome, "stored") << results[0].error.ToString();
  const NoteView view = Read(results[0].item_id);
  for (const char* secret : {"John", "Smith", "4471234", "Alvarez", "03/12/2025", "617-555-0142"}) {
    EXPECT_EQ(view.text.find(secret), std::string::npos) << secret << " survived: " << view.text;
  }
  EXPECT_EQ(view.text.rfind("Ünïcödé header — ", 0), 0u);
  EXPECT_EQ(view.item.data_type, core::DataType::kNotes);
  EXPECT_EQ(view.item.patient_key.rfind("pt_", 0), 0u);
  EXPECT_EQ(view.item.patient_key.find("4471234"), std::string::npos);
  // Metadata strings are de-identified too; other metadata is kept.
  json cohort = json::parse(view.item.cohort_json);
  EXPECT_EQ(cohort["service"], "cardiology");
  EXPECT_EQ(cohort["author"].get<std::string>().find("Alvarez"), std::string::npos);
  // Every span points at its replacement in the stored text (code points, multi-byte text
  // before them).
  json phi = json::parse(view.note.phi_json);
  ASSERT_GE(phi.size(), 6u);
  std::int64_t code_points = 0;
  for (char c : view.text) code_points += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  EXPECT_EQ(view.note.chars, code_points);
  std::size_t names = 0;
  for (const auto& span : phi) {
    const std::string piece = Slice(view.text, span["start"], span["end"]);
    EXPECT_FALSE(piece.empty());
    if (span["type"] == "NAME") {
      ++names;
      EXPECT_TRUE(std::isupper(static_cast<unsigned char>(piece[0]))) << piece;
    }
    if (span["type"] == "DATE") {
      EXPECT_EQ(piece.size(), 10u) << piece;  // same format, shifted
    }
    if (span["type"] == "PHONE") {
      EXPECT_EQ(piece.size(), 12u) << piece;
    }
  }
  EXPECT_GE(names, 3u);
  EXPECT_EQ(results[0].phi, phi.size());
  EXPECT_EQ(view.note.deid_mode, "surrogate");
}

TEST_F(NotesTest, SurrogatesAreConsistentWithinAPatientAndDifferAcrossPatients) {
  std::string data;
  data += json{{"id", "a1"}, {"patient", "P-1"}, {"text", "Mr. Jonathan Whitfield seen on 01/02/2024."}}.dump() + "\n";
  data += json{{"id", "a2"}, {"patient", "P-1"}, {"text", "Follow-up: Mr. Jonathan Whitfield, 01/09/2024."}}.dump() + "\n";
  data += json{{"id", "b1"}, {"patient", "P-2"}, {"text", "Mr. Jonathan Whitfield seen on 01/02/2024."}}.dump() + "\n";
  auto results = Ingest(ingest::NoteFormat::kJsonl, data);
  ASSERT_EQ(results.size(), 3u);
  for (const auto& r : results) ASSERT_EQ(r.outcome, "stored") << r.error.ToString();
  auto names_and_date = [&](const std::string& item_id) {
    const NoteView v = Read(item_id);
    json phi = json::parse(v.note.phi_json);
    std::vector<std::string> out;
    for (const auto& s : phi) out.push_back(Slice(v.text, s["start"], s["end"]));
    return std::make_pair(v, out);
  };
  auto [a1, a1_spans] = names_and_date(results[0].item_id);
  auto [a2, a2_spans] = names_and_date(results[1].item_id);
  auto [b1, b1_spans] = names_and_date(results[2].item_id);
  ASSERT_EQ(a1_spans.size(), 2u);
  ASSERT_EQ(a2_spans.size(), 2u);
  EXPECT_EQ(a1.item.patient_key, a2.item.patient_key);
  EXPECT_NE(a1.item.patient_key, b1.item.patient_key);
  EXPECT_EQ(a1_spans[0], a2_spans[0]) << "the same name gets the same surrogate within a patient";
  EXPECT_NE(a1_spans[0], b1_spans[0]) << "another patient gets another surrogate";
  // Dates keep their interval (7 days) within a patient.
  auto days = [](const std::string& us) {  // "MM/DD/YYYY"
    using namespace std::chrono;
    const year_month_day d{year{std::stoi(us.substr(6, 4))}, month{static_cast<unsigned>(std::stoi(us.substr(0, 2)))},
                           day{static_cast<unsigned>(std::stoi(us.substr(3, 2)))}};
    return sys_days{d}.time_since_epoch().count();
  };
  EXPECT_EQ(days(a2_spans[1]) - days(a1_spans[1]), 7) << a1_spans[1] << " -> " << a2_spans[1];
  EXPECT_NE(a1_spans[1], "01/02/2024");
}

TEST_F(NotesTest, BadRecordsAreReportedAndNothingOfThemIsStored) {
  std::string data;
  data += json{{"id", "ok"}, {"patient", "P"}, {"text", "Stable overnight."}}.dump() + "\n";
  data += json{{"id", "empty"}, {"patient", "P"}, {"text", "   \n"}}.dump() + "\n";
  data += json{{"id", "ctrl"}, {"patient", "P"}, {"text", std::string("bell\x07here")}}.dump() + "\n";
  data += json{{"id", "nopatient"}, {"text", "No patient field."}}.dump() + "\n";
  data += "{\"id\":\"utf8\",\"patient\":\"P\",\"text\":\"bad \xC3\x28\"}\n";
  data += json{{"id", "ok"}, {"patient", "P"}, {"text", "Stable overnight."}}.dump() + "\n";
  auto results = Ingest(ingest::NoteFormat::kJsonl, data);
  ASSERT_EQ(results.size(), 6u);
  EXPECT_EQ(results[0].outcome, "stored");
  EXPECT_EQ(results[1].outcome, "error");
  EXPECT_NE(results[1].error.message().find("empty"), std::string::npos);
  EXPECT_NE(results[2].error.message().find("U+0007 at code point 4"), std::string::npos) << results[2].error.message();
  EXPECT_NE(results[3].error.message().find("no patient"), std::string::npos);
  EXPECT_NE(results[4].error.message().find("invalid UTF-8"), std::string::npos) << results[4].error.message();
  EXPECT_EQ(results[5].outcome, "duplicate");
  EXPECT_EQ(results[5].item_id, results[0].item_id);
  EXPECT_EQ(ItemCount(), 1u);
  // The report is JSON with counts.
  json report = json::parse(NoteIngestReportJson(results));
  EXPECT_EQ(report["stored"], 1);
  EXPECT_EQ(report["duplicates"], 1);
  EXPECT_EQ(report["errors"], 4);
  EXPECT_EQ(report["records"][2]["error"]["code"], "invalid_argument");
}

TEST_F(NotesTest, TagModeAndClinicianNamesComeFromTheProjectSettings) {
  core::TextSettings settings;
  settings.project_id = project_id_;
  settings.deid_mode = "tag";
  settings.clinician_names = {"Quentin Zabrowski"};
  ASSERT_TRUE(app_->PutTextSettings(LocalOperator(), settings).ok());
  settings.deid_mode = "blur";
  EXPECT_EQ(app_->PutTextSettings(LocalOperator(), settings).status().code(), ErrorCode::kInvalidArgument);
  ingest::NoteReaderOptions options;
  options.text_id = "t1";
  options.text_patient = "P";
  auto results = Ingest(ingest::NoteFormat::kText, "discussed with quentin zabrowski today.", options);
  ASSERT_EQ(results.size(), 1u);
  ASSERT_EQ(results[0].outcome, "stored") << results[0].error.ToString();
  const NoteView view = Read(results[0].item_id);
  EXPECT_EQ(view.text, "discussed with [NAME] today.");
  EXPECT_EQ(view.note.phi_json, R"([{"end":21,"start":15,"type":"NAME"}])");
  EXPECT_EQ(view.note.deid_mode, "tag");
}

TEST_F(NotesTest, OverlongNotesAreRefusedWithBoundedMemory) {
  ingest::NoteReaderOptions options;
  options.max_note_bytes = 1000;
  options.text_patient = "P";
  auto results = Ingest(ingest::NoteFormat::kText, std::string(5000, 'a'), options);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].outcome, "error");
  EXPECT_EQ(results[0].error.code(), ErrorCode::kPayloadTooLarge);
  EXPECT_EQ(ItemCount(), 0u);
}

TEST_F(NotesTest, ReadingANoteIsAuditedAndOtherItemsAreNotNotes) {
  auto results = Ingest(ingest::NoteFormat::kCsv, "id,patient,text\nc1,P,Stable.\n");
  ASSERT_EQ(results.size(), 1u);
  ASSERT_EQ(results[0].outcome, "stored");
  Read(results[0].item_id);
  std::vector<std::string> actions;
  ASSERT_TRUE(app_->ExportAudit(LocalOperator(), 0, SystemClock::Instance().Now() + kMicrosPerHour,
                                [&](const storage::AuditEvent& e) {
                                  actions.push_back(e.action);
                                  return Status::Ok();
                                })
                  .ok());
  EXPECT_NE(std::find(actions.begin(), actions.end(), "notes.ingest"), actions.end());
  EXPECT_NE(std::find(actions.begin(), actions.end(), "note.create"), actions.end());
  EXPECT_NE(std::find(actions.begin(), actions.end(), "item.read"), actions.end());
  NewItem spec;
  spec.patient_key = "pt-x";
  std::istringstream in("bytes");
  auto item = app_->CreateItem(LocalOperator(), project_id_, spec, in);
  ASSERT_TRUE(item.ok());
  EXPECT_EQ(app_->ReadNote(LocalOperator(), item->id).status().code(), ErrorCode::kNotFound);
  spec.patient_key = "#text-deid";
  EXPECT_EQ(app_->CreateItem(LocalOperator(), project_id_, spec, in).status().code(), ErrorCode::kInvalidArgument);
}

// ---- span labels ---------------------------------------------------------------------------

class SpanLabelsTest : public NotesTest {
 protected:
  void SetUp() override {
    NotesTest::SetUp();
    core::TextSettings settings;
    settings.project_id = project_id_;
    settings.deid_mode = "tag";
    ASSERT_TRUE(app_->PutTextSettings(LocalOperator(), settings).ok());
    ingest::NoteReaderOptions options;
    options.text_id = "n";
    options.text_patient = "P";
    // 62 code points; "É" and "–" are one each.
    auto results = Ingest(ingest::NoteFormat::kText, "Épanchement – mild effusion in the left pleura. Aspirin 81 mg.",
                          options);
    ASSERT_EQ(results.size(), 1u);
    ASSERT_EQ(results[0].outcome, "stored") << results[0].error.ToString();
    item_id_ = results[0].item_id;
    const json schema = {
        {"classes",
         {{{"id", "finding"}, {"name", "Finding"}, {"kind", "span"}, {"definition", "a finding"},
           {"terms", {"effusion"}}, {"codes", {{{"system", "SNOMED CT"}, {"code", "60046008"}}}},
           {"context_attributes", {{"assertion", {"present", "absent", "possible"}}}}},
          {{"id", "location"}, {"name", "Location"}, {"kind", "span"}, {"definition", "where"}},
          {{"id", "drug"}, {"name", "Drug"}, {"kind", "span"}, {"definition", "a drug"}},
          {{"id", "dose"}, {"name", "Dose"}, {"kind", "span"}, {"definition", "a dose"}},
          {{"id", "effusion_dx"}, {"name", "Effusion (document)"}, {"kind", "classification"},
           {"definition", "the note reports an effusion"}}}},
        {"relations",
         {{{"id", "located_at"}, {"name", "located at"}, {"from", {"finding"}}, {"to", {"location"}}},
          {{"id", "has_dose"}, {"name", "has dose"}, {"from", {"drug"}}, {"to", {"dose"}}}}}};
    auto draft = app_->CreateGuidelineDraft(LocalOperator(), project_id_, schema.dump());
    ASSERT_TRUE(draft.ok()) << draft.status().ToString();
    ASSERT_TRUE(app_->PublishGuideline(LocalOperator(), project_id_, draft->id, draft->revision).ok());
  }

  Result<core::Annotation> Label(const std::string& cls, const std::string& kind, const json& data,
                                 const std::string& relations = "[]", core::Assertion assertion = core::Assertion::kPresent,
                                 const RequestContext& ctx = LocalOperator()) {
    core::Annotation a;
    a.label_class = cls;
    a.evidence_kind = kind;
    a.evidence_json = data.dump();
    a.relations_json = relations;
    a.assertion = assertion;
    return app_->CreateAnnotation(ctx, item_id_, a);
  }

  std::string item_id_;
};

TEST_F(SpanLabelsTest, OffsetsAreCodePointsInsideTheStoredNote) {
  const NoteView view = Read(item_id_);
  EXPECT_EQ(view.note.chars, 62);
  EXPECT_EQ(Slice(view.text, 19, 27), "effusion");
  auto finding = Label("finding", "span", {{"start", 19}, {"end", 27}}, "[]", core::Assertion::kAbsent);
  ASSERT_TRUE(finding.ok()) << finding.status().ToString();
  EXPECT_TRUE(Label("finding", "span", {{"start", 55}, {"end", 62}}).ok());  // up to the last code point
  auto past = Label("finding", "span", {{"start", 55}, {"end", 63}});
  EXPECT_NE(past.status().message().find("past the end of the note (62 code points)"), std::string::npos)
      << past.status().ToString();
  EXPECT_NE(Label("finding", "span", {{"start", 5}, {"end", 5}}).status().message().find("0 <= start < end"),
            std::string::npos);
  EXPECT_NE(Label("finding", "span", {{"start", "5"}, {"end", 9}}).status().message().find("must be {"),
            std::string::npos);
  EXPECT_NE(Label("finding", "roi", {{"x", 1}}).status().message().find("span class"), std::string::npos);
  // Document-level label with evidence spans.
  EXPECT_TRUE(Label("effusion_dx", "document", {{"spans", {{{"start", 19}, {"end", 27}}}}}).ok());
  auto doc = Label("effusion_dx", "document", {{"spans", {{{"start", 19}, {"end", 27}}, {{"start", 60}, {"end", 70}}}}});
  EXPECT_NE(doc.status().message().find("evidence.data.spans[1].end 70"), std::string::npos) << doc.status().ToString();
}

TEST_F(SpanLabelsTest, ContextValuesAreStoredAndLimitedByTheClass) {
  core::Annotation a;
  a.label_class = "finding";
  a.evidence_kind = "span";
  a.evidence_json = json{{"start", 19}, {"end", 27}}.dump();
  a.assertion = core::Assertion::kPossible;
  a.temporality = core::Temporality::kHistorical;
  a.experiencer = core::Experiencer::kFamily;
  a.confidence = 0.7;
  auto created = app_->CreateAnnotation(LocalOperator(), item_id_, a);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  auto read = app_->GetAnnotation(LocalOperator(), created->id);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->assertion, core::Assertion::kPossible);
  EXPECT_EQ(read->temporality, core::Temporality::kHistorical);
  EXPECT_EQ(read->experiencer, core::Experiencer::kFamily);
  EXPECT_EQ(read->confidence, 0.7);
  a.assertion = core::Assertion::kHypothetical;
  auto refused = app_->CreateAnnotation(LocalOperator(), item_id_, a);
  EXPECT_NE(refused.status().message().find("allows assertion present, absent, possible, not hypothetical"),
            std::string::npos)
      << refused.status().ToString();
  AnnotationPatch patch;
  patch.temporality = core::Temporality::kFuture;
  auto updated = app_->UpdateAnnotation(LocalOperator(), created->id, created->revision, patch);
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  EXPECT_EQ(app_->GetAnnotation(LocalOperator(), created->id)->temporality, core::Temporality::kFuture);
}

TEST_F(SpanLabelsTest, RelationsFollowTheSchema) {
  auto location = Label("location", "span", {{"start", 35}, {"end", 46}});
  auto drug = Label("drug", "span", {{"start", 48}, {"end", 55}});
  auto dose = Label("dose", "span", {{"start", 56}, {"end", 61}});
  ASSERT_TRUE(location.ok() && drug.ok() && dose.ok());
  auto rel = [](const std::string& type, const std::string& target) {
    return json::array({{{"type", type}, {"target", target}}}).dump();
  };
  auto finding = Label("finding", "span", {{"start", 19}, {"end", 27}}, rel("located_at", location->id));
  ASSERT_TRUE(finding.ok()) << finding.status().ToString();
  EXPECT_EQ(json::parse(app_->GetAnnotation(LocalOperator(), finding->id)->relations_json)[0]["target"], location->id);
  EXPECT_TRUE(Label("drug", "span", {{"start", 48}, {"end", 55}}, rel("has_dose", dose->id)).ok());
  auto unknown = Label("finding", "span", {{"start", 19}, {"end", 27}}, rel("treats", location->id));
  EXPECT_NE(unknown.status().message().find("relations: located_at, has_dose"), std::string::npos)
      << unknown.status().ToString();
  auto wrong_start = Label("location", "span", {{"start", 35}, {"end", 46}}, rel("located_at", location->id));
  EXPECT_NE(wrong_start.status().message().find("does not start at class 'location'"), std::string::npos);
  auto wrong_end = Label("finding", "span", {{"start", 19}, {"end", 27}}, rel("located_at", drug->id));
  EXPECT_NE(wrong_end.status().message().find("cannot point to class 'drug'"), std::string::npos);
  auto missing = Label("finding", "span", {{"start", 19}, {"end", 27}}, rel("located_at", "ann_nope"));
  EXPECT_NE(missing.status().message().find("no label of yours"), std::string::npos);
  const std::string twice = json::array({{{"type", "located_at"}, {"target", location->id}},
                                         {{"type", "located_at"}, {"target", location->id}}})
                                .dump();
  EXPECT_NE(Label("finding", "span", {{"start", 19}, {"end", 27}}, twice).status().message().find("repeats"),
            std::string::npos);
}

TEST_F(SpanLabelsTest, SpanAgreementComparesSubmittedReadings) {
  std::vector<RequestContext> readers;
  for (const char* name : {"reader-a", "reader-b"}) {
    NewUser u;
    u.username = name;
    u.display_name = name;
    u.password = "a long enough password 1";
    auto created = app_->CreateUser(LocalOperator(), u);
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    ASSERT_TRUE(app_->PutMember(LocalOperator(), project_id_, created->user.id, {core::Role::kAnnotator},
                                {core::DataType::kNotes})
                    .ok());
    ASSERT_TRUE(app_->AssignItem(LocalOperator(), item_id_, created->user.id).ok());
    RequestContext ctx;
    ctx.principal.user = created->user;
    readers.push_back(ctx);
  }
  ASSERT_TRUE(Label("finding", "span", {{"start", 19}, {"end", 27}}, "[]", core::Assertion::kAbsent, readers[0]).ok());
  ASSERT_TRUE(Label("finding", "span", {{"start", 19}, {"end", 27}}, "[]", core::Assertion::kPresent, readers[1]).ok());
  ASSERT_TRUE(Label("location", "span", {{"start", 35}, {"end", 46}}, "[]", core::Assertion::kPresent, readers[1]).ok());
  auto before = app_->SpanAgreement(LocalOperator(), project_id_);
  ASSERT_TRUE(before.ok());
  EXPECT_EQ(before->pairs, 0u) << "readings count once submitted";
  for (const auto& ctx : readers) {
    auto tasks = app_->ListTasks(ctx, project_id_, std::nullopt, {"", 50});
    ASSERT_TRUE(tasks.ok() && tasks->rows.size() == 1);
    ASSERT_TRUE(app_->SubmitTask(ctx, project_id_, tasks->rows[0].id).ok());
  }
  auto report = app_->SpanAgreement(LocalOperator(), project_id_);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->items, 1u);
  EXPECT_EQ(report->readers, 2u);
  EXPECT_EQ(report->pairs, 1u);
  EXPECT_NEAR(report->class_exact_f1, 2.0 / 3.0, 1e-12);   // 1 match of 1 + 2 spans
  EXPECT_NEAR(report->class_overlap_f1, 2.0 / 3.0, 1e-12);  // R = 1, P = 1/2
  EXPECT_EQ(report->full_exact_f1, 0.0);                     // absent vs present
}

// ---- labs ------------------------------------------------------------------------------------

TEST_F(NotesTest, LabsMeetTheNotesOfTheirPatientWithTheSameDateShift) {
  // A note and labs of the same source patient.
  auto notes = Ingest(ingest::NoteFormat::kJsonl,
                      json{{"id", "n"}, {"patient", "MRN-77"}, {"text", "Creatinine rising since 03/01/2024."}}.dump() +
                          "\n");
  ASSERT_EQ(notes.size(), 1u);
  ASSERT_EQ(notes[0].outcome, "stored") << notes[0].error.ToString();
  const auto results = IngestLabsCsv(
      "patient,time,loinc,value,unit,ref_low,ref_high\n"
      "MRN-77,2024-03-01T00:00:00Z,14682-9,88.4,umol/L,53,115\n"
      "MRN-77,2024-03-03T00:00:00Z,2160-0,2.4,mg/dL,0.6,1.3\n"
      "MRN-77,2024-03-03T00:00:00Z,2160-1,2.4,mg/dL,0.6,1.3\n"
      "OTHER,2024-03-03T00:00:00Z,2345-7,5.5,mmol/L,,\n");
  ASSERT_EQ(results.size(), 4u);
  EXPECT_EQ(results[0].outcome, "stored");
  EXPECT_TRUE(results[0].normalised);
  EXPECT_EQ(results[2].outcome, "error");
  EXPECT_NE(results[2].error.message().find("check digit"), std::string::npos);
  EXPECT_EQ(results[0].item_id, results[1].item_id);
  EXPECT_NE(results[0].item_id, results[3].item_id);

  auto labs_json = app_->PatientLabsJson(LocalOperator(), notes[0].item_id);
  ASSERT_TRUE(labs_json.ok()) << labs_json.status().ToString();
  json labs = json::parse(*labs_json);
  ASSERT_EQ(labs["results"].size(), 2u);
  EXPECT_EQ(labs["results"][0]["normalised"]["unit"], "mg/dL");
  EXPECT_NEAR(labs["results"][0]["normalised"]["value"].get<double>(), 1.0, 1e-3);
  EXPECT_EQ(labs["results"][1]["flag"], "high");
  // The note's surrogate date and the first lab's time moved by the same number of days.
  const NoteView note = Read(notes[0].item_id);
  EXPECT_EQ(labs["patient_key"], note.item.patient_key);
  const json phi = json::parse(note.note.phi_json);
  ASSERT_EQ(phi.size(), 1u);
  const std::string shifted = Slice(note.text, phi[0]["start"], phi[0]["end"]);  // MM/DD/YYYY
  const std::string lab_time = labs["results"][0]["time"];                        // YYYY-MM-DDT...
  EXPECT_EQ(shifted, lab_time.substr(5, 2) + "/" + lab_time.substr(8, 2) + "/" + lab_time.substr(0, 4));
  EXPECT_NE(lab_time.substr(0, 10), "2024-03-01");
}

TEST_F(NotesTest, LabsItemsKeepTheirPatientsCohortDeidentified) {
  const auto results = IngestLabsCsv(
      "patient,time,loinc,value,sex,age_band,site\n"
      "MRN-78,2024-03-02T00:00:00Z,2160-0,1.1,F,60-64,site-1\n"
      "MRN-78,2024-03-01T00:00:00Z,2160-0,1.0,F,55-59,site-1\n"
      "MRN-79,2024-03-01T00:00:00Z,2160-0,0.9,M,,call 555-867-5309\n"
      "MRN-80,2024-03-01T00:00:00Z,2160-0,0.9,,,\n");
  ASSERT_EQ(results.size(), 4u);
  auto cohort = [&](std::size_t i) {
    EXPECT_EQ(results[i].outcome, "stored") << results[i].error.ToString();
    auto item = app_->GetItem(LocalOperator(), results[i].item_id);
    EXPECT_TRUE(item.ok()) << item.status().ToString();
    return item.ok() ? json::parse(item->cohort_json) : json();
  };
  // The latest result's attributes (the age band at the later draw).
  EXPECT_EQ(cohort(0), (json{{"sex", "F"}, {"age_band", "60-64"}, {"site", "site-1"}}));
  // De-identified like a note's metadata: the phone number is gone.
  const json other = cohort(2);
  EXPECT_EQ(other["sex"], "M");
  EXPECT_FALSE(other.contains("age_band"));
  EXPECT_EQ(other["site"].get<std::string>().find("555-867-5309"), std::string::npos) << other.dump();
  EXPECT_EQ(cohort(3), json::object());
}

TEST_F(NotesTest, TimeLabelsNeedAPointOrAWindow) {
  const json schema = {{"classes",
                        {{{"id", "aki_onset"}, {"name", "AKI onset"}, {"kind", "outcome"},
                          {"definition", "KDIGO stage 1 or more"},
                          {"codes", {{{"system", "ICD-10-CM"}, {"code", "N17.9"}}}}}}}};
  auto draft = app_->CreateGuidelineDraft(LocalOperator(), project_id_, schema.dump());
  ASSERT_TRUE(draft.ok()) << draft.status().ToString();
  ASSERT_TRUE(app_->PublishGuideline(LocalOperator(), project_id_, draft->id, draft->revision).ok());
  NewItem spec;
  spec.data_type = core::DataType::kLabs;
  spec.patient_key = "pt-l";
  std::istringstream in("{}");
  auto item = app_->CreateItem(LocalOperator(), project_id_, spec, in);
  ASSERT_TRUE(item.ok());
  auto label = [&](const json& data) {
    core::Annotation a;
    a.label_class = "aki_onset";
    a.evidence_kind = "time";
    a.evidence_json = data.dump();
    return app_->CreateAnnotation(LocalOperator(), item->id, a);
  };
  EXPECT_TRUE(label({{"at", "2024-03-03T00:00:00Z"}}).ok());
  EXPECT_TRUE(label({{"from", "2024-03-01T00:00:00Z"}, {"to", "2024-03-03T00:00:00Z"}}).ok());
  EXPECT_NE(label({{"from", "2024-03-04T00:00:00Z"}, {"to", "2024-03-03T00:00:00Z"}}).status().message().find("ends before"),
            std::string::npos);
  EXPECT_NE(label({{"at", "March 3"}}).status().message().find("evidence.data.at"), std::string::npos);
  EXPECT_NE(label({{"when", 1}}).status().message().find("evidence.data.from"), std::string::npos);
  // A schema with a bad code is refused on save, naming the class.
  json bad = schema;
  bad["classes"][0]["codes"][0]["code"] = "N179";
  auto refused = app_->CreateGuidelineDraft(LocalOperator(), project_id_, bad.dump());
  EXPECT_NE(refused.status().message().find("class 'aki_onset' (classes[0]): field 'codes[0].code'"), std::string::npos)
      << refused.status().ToString();
}

}  // namespace
}  // namespace caliper::app

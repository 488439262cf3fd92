// `caliper demo`: a data directory with a demo project built from our own synthetic data
// generator (src/synth: a CT phantom, notes and labs with fake PHI, each ingested and
// de-identified like a hospital's upload; nothing from a real patient), then the server. With
// CALIPER_SAMPLE_DATA it also ingests the public sample ECGs (MIT-BIH record 100, a DICOM
// 12-lead ECG).

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

#include "caliper/common/sample_data.h"
#include "caliper/http/server.h"
#include "caliper/synth/synthetic.h"
#include "caliper/waveform/waveform.h"
#include "cli/cli_support.h"

namespace caliper::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr std::string_view kDemoProject = "Demo: synthetic CT, notes and labs";
constexpr std::uint64_t kDemoSeed = 20261126;

struct DemoAccount {
  std::string username;
  std::string display_name;
  std::vector<core::Role> roles;
  std::vector<core::Qualification> qualifications;
};

const std::vector<DemoAccount>& DemoAccounts() {
  using core::Qualification;
  using core::Role;
  static const std::vector<DemoAccount> kAccounts = {
      {"manager", "Dana Manager", {Role::kManager}, {}},
      {"reader1", "Dr. Reader One", {Role::kAnnotator}, {Qualification::kRadiologist}},
      {"reader2", "Dr. Reader Two", {Role::kAnnotator}, {Qualification::kRadiologist}},
      {"reviewer", "Dr. Reviewer", {Role::kReviewer, Role::kAdjudicator}, {Qualification::kRadiologist}},
      {"auditor", "Audit Officer", {Role::kAuditor}, {}},
  };
  return kAccounts;
}

// Every reader of the demo is assigned `item_id`.
Status AssignToReaders(app::App& app, const std::string& item_id, const std::vector<std::string>& readers) {
  for (const auto& reader : readers) {
    CALIPER_RETURN_IF_ERROR(app.AssignItem(app::LocalOperator(), item_id, reader).status());
  }
  return Status::Ok();
}

// Creates the demo project, its members and items. Returns the users' ids by username.
Status LoadDemoProject(app::App& app, std::map<std::string, std::string>& user_ids) {
  auto ctx = app::LocalOperator();
  CALIPER_ASSIGN_OR_RETURN(core::Project project,
                           app.CreateProject(ctx, std::string(kDemoProject),
                                             "Synthetic data made by Caliper's own generator; no real patient."));
  for (const auto& a : DemoAccounts()) {
    app::NewUser u;
    u.username = a.username;
    u.display_name = a.display_name;
    u.qualifications = a.qualifications;
    CALIPER_ASSIGN_OR_RETURN(auto created, app.CreateUser(ctx, u));
    user_ids[a.username] = created.user.id;
    CALIPER_RETURN_IF_ERROR(app.PutMember(ctx, project.id, created.user.id, a.roles,
                                          {core::DataType::kImaging, core::DataType::kNotes, core::DataType::kLabs,
                                           core::DataType::kWaveforms, core::DataType::kPathology})
                                .status());
  }
  const std::vector<std::string> readers = {user_ids["reader1"], user_ids["reader2"]};
  // A published guideline, so readers can label at once (labels are pinned to it).
  const json schema = {
      {"classes",
       {{{"id", "liver_lesion"}, {"name", "Liver lesion"}, {"kind", "segmentation"},
         {"codes", {{{"system", "SNOMED CT"}, {"code", "300331000"}}}},
         {"data_types", {"imaging"}},
         {"definition", "A focal liver lesion on CT (synthetic phantom)."},
         {"inclusion_criteria", {"focal area of different attenuation within the liver"}},
         {"exclusion_criteria", {"vessels", "image artefacts"}}},
        {{"id", "pulmonary_nodule"}, {"name", "Pulmonary nodule"}, {"kind", "span"},
         {"codes", {{{"system", "SNOMED CT"}, {"code", "427359005"}}}},
         {"data_types", {"notes"}},
         {"definition", "A mention of a lung nodule in a report, with its assertion."}},
        {{"id", "abnormal_lab"}, {"name", "Abnormal lab result"}, {"kind", "classification"},
         {"codes", {{{"system", "SNOMED CT"}, {"code", "263654008"}, {"display", "Abnormal"}}}},
         {"data_types", {"labs"}},
         {"definition", "A result outside its reference range that matters clinically."},
         {"inclusion_criteria", {"a value outside the reference range printed with it"}},
         {"exclusion_criteria", {"a value flagged only because of a known pre-analytical error (haemolysis)"}},
         {"edge_cases", {"a borderline value repeated within range on the same day is not abnormal"}},
         {"evidence_sources", {"lab_result", "clinical_note"}}},
        {{"id", "atrial_fibrillation"}, {"name", "Atrial fibrillation"}, {"kind", "classification"},
         {"codes", {{{"system", "SNOMED CT"}, {"code", "49436004"}, {"display", "Atrial fibrillation"}}}},
         {"data_types", {"waveforms"}},
         {"definition", "An episode of atrial fibrillation on the ECG: its onset and offset (interval label)."},
         {"inclusion_criteria", {"irregularly irregular RR intervals without distinct P waves"}}},
        {{"id", "ventricular_premature_beat"}, {"name", "Ventricular premature beat"}, {"kind", "classification"},
         {"codes", {{{"system", "SNOMED CT"}, {"code", "17338001"}, {"display", "Ventricular premature beats"}}}},
         {"data_types", {"waveforms"}},
         {"definition", "A premature, wide QRS complex not preceded by a P wave (beat label)."}},
        {{"id", "tumour_region"}, {"name", "Tumour region"}, {"kind", "polygon"},
         {"data_types", {"pathology"}},
         {"definition", "An area of invasive tumour on a whole-slide image, outlined as a polygon or rectangle."},
         {"edge_cases", {"tumour at the edge of the tissue: outline it and mark the region borderline"}}}}}};
  CALIPER_ASSIGN_OR_RETURN(core::GuidelineVersion draft,
                           app.CreateGuidelineDraft(ctx, project.id, schema.dump()));
  CALIPER_RETURN_IF_ERROR(app.PublishGuideline(ctx, project.id, draft.id, draft.revision).status());

  fs::path source = fs::path(app.paths().root) / "demo-source";
  fs::remove_all(source);
  CALIPER_RETURN_IF_ERROR(synth::WriteDemoDataset(source.string(), kDemoSeed));
  // Imaging: each patient's phantom series goes through DICOM ingest like real data: de-identified
  // before storage, one item per series with its volume (docs/imaging.md).
  std::vector<app::ImagingInput> instances;
  for (const auto& patient_dir : fs::directory_iterator(source / "ct")) {
    for (const auto& f : fs::directory_iterator(patient_dir.path())) {
      CALIPER_ASSIGN_OR_RETURN(std::string bytes, ReadWholeFile(f.path()));
      instances.push_back({f.path().filename().string(), std::move(bytes)});
    }
  }
  CALIPER_ASSIGN_OR_RETURN(app::DicomIngestReport imaging, app.IngestDicom(ctx, project.id, std::move(instances)));
  for (const auto& f : imaging.files) {
    if (f.outcome != "stored") {
      return Error(ErrorCode::kInternal, "the demo phantom " + f.name + " was not stored: " + f.outcome + " " +
                                             f.error.ToString());
    }
  }
  for (const auto& series : imaging.series) CALIPER_RETURN_IF_ERROR(AssignToReaders(app, series.item_id, readers));
  // Notes and labs go through notes and labs ingest like a hospital's upload (docs/notes.md,
  // docs/labs.md): the notes are de-identified before storage, and every item of one source
  // patient (their notes, their labs and, with the phantom's Patient ID, their CT) gets the same
  // pseudonymous patient key. The patient's sex, age band and site come as the notes' metadata
  // and the labs' cohort columns, and become the items' cohort (the subgroup report's
  // attributes), de-identified like any upload's.
  {
    std::ifstream in(source / "notes.jsonl", std::ios::binary);
    auto reader = ingest::NoteReader::Create(ingest::NoteFormat::kJsonl, in, {});
    CALIPER_ASSIGN_OR_RETURN(auto notes, app.IngestNotes(ctx, project.id, *reader));
    for (const auto& r : notes) {
      if (r.outcome != "stored") {
        return Error(ErrorCode::kInternal, "the demo note " + r.source_id + " was not stored: " + r.outcome + " " +
                                               r.error.ToString());
      }
      CALIPER_RETURN_IF_ERROR(AssignToReaders(app, r.item_id, readers));
    }
  }
  {
    std::ifstream in(source / "labs.csv", std::ios::binary);
    CALIPER_ASSIGN_OR_RETURN(auto records, ingest::ReadLabs(ingest::LabFormat::kCsv, in, std::size_t{1} << 30));
    CALIPER_ASSIGN_OR_RETURN(auto labs, app.IngestLabs(ctx, project.id, records));
    std::set<std::string> items;  // one per patient
    for (const auto& r : labs) {
      if (r.outcome != "stored") {
        return Error(ErrorCode::kInternal, "the demo lab result on line " + std::to_string(r.line) +
                                               " was not stored: " + r.error.ToString());
      }
      items.insert(r.item_id);
    }
    for (const auto& item_id : items) CALIPER_RETURN_IF_ERROR(AssignToReaders(app, item_id, readers));
  }
  // Waveforms: with CALIPER_SAMPLE_DATA, MIT-BIH record 100 (with its beat labels) and the DICOM
  // 12-lead ECG go through waveform ingest like any upload (docs/waveforms.md). Without the
  // sample data the demo has no waveform item.
  waveform::FileSet waveform_files;
  for (const char* relative : {"waveform/wfdb/100.hea", "waveform/wfdb/100.dat", "waveform/wfdb/100.atr",
                               "waveform/waveform_ecg_12lead.dcm"}) {
    if (auto path = SampleDataFile(relative)) {
      CALIPER_ASSIGN_OR_RETURN(waveform_files[fs::path(*path).filename().string()], ReadWholeFile(*path));
    }
  }
  if (!waveform_files.empty()) {
    CALIPER_ASSIGN_OR_RETURN(auto records,
                             app.IngestWaveforms(ctx, project.id, waveform::GroupRecordFiles(std::move(waveform_files))));
    for (const auto& r : records) {
      if (r.outcome != "stored") {
        return Error(ErrorCode::kInternal, "the sample waveform " + r.name + " was not stored: " + r.error.ToString());
      }
      CALIPER_RETURN_IF_ERROR(AssignToReaders(app, r.item_id, readers));
    }
  }
  fs::remove_all(source);
  // Pathology: the public sample slide, when the sample data is at hand (CALIPER_SAMPLE_DATA);
  // the demo does not need it.
  if (auto slide = SampleDataFile("wsi/CMU-1-Small-Region.svs")) {
    CALIPER_ASSIGN_OR_RETURN(app::SlideIngestResult r, app.IngestSlideFile(ctx, project.id, *slide, "sample.svs"));
    if (r.outcome != "stored") {
      return Error(ErrorCode::kInternal, "the sample slide was not stored: " + r.error.ToString());
    }
    CALIPER_RETURN_IF_ERROR(AssignToReaders(app, r.item_id, readers));
  }
  return Status::Ok();
}

}  // namespace

int RunDemo(const CommonOptions& options, const std::string& listen) {
  auto config = LoadConfig(options);
  if (!config.ok()) return Fail(config.status());
  app::DataPaths paths(options.data_dir);
  // The demo resets passwords and adds demo accounts: never on a real deployment.
  const std::string marker = paths.root + "/.caliper-demo";
  if (fs::exists(paths.keys_dir) && !fs::exists(marker)) {
    return Fail(Error(ErrorCode::kConflict, paths.root + " is a deployment that `caliper demo` did not create; "
                                                      "use another --data directory for the demo"));
  }
  if (!fs::exists(paths.keys_dir)) {
    std::error_code ec;
    fs::create_directories(paths.root, ec);
    std::ofstream(marker) << "made by caliper demo\n";
  }
  auto init = app::App::Init(options.data_dir, *config);
  if (!init.ok()) return Fail(init.status());
  if (!fs::exists(paths.tls_dir + "/cert.pem")) {
    if (Status s = http::MakeSelfSignedCertificate(paths.tls_dir + "/cert.pem", paths.tls_dir + "/key.pem"); !s.ok()) {
      return Fail(s);
    }
  }
  auto opened = app::App::Open(options.data_dir, *config, {});
  if (!opened.ok()) return Fail(opened.status());
  app::App& app = **opened;

  auto ctx = app::LocalOperator();
  std::map<std::string, std::string> user_ids;
  auto existing = app.FindUser(ctx, "reader1");
  if (!existing.ok()) {
    if (Status s = LoadDemoProject(app, user_ids); !s.ok()) return Fail(s.WithContext("loading the demo project"));
  }
  // Fresh passwords on every start, so the banner always shows working ones. They are not
  // one-time passwords: these throwaway demo accounts should work at once.
  std::ostringstream banner;
  banner << "\nDemo project: " << kDemoProject << " (synthetic data only)\n"
         << "Accounts (passwords are new on every `caliper demo`):\n";
  std::vector<std::string> names = {"admin"};
  for (const auto& a : DemoAccounts()) names.push_back(a.username);
  for (const auto& name : names) {
    auto user = app.FindUser(ctx, name);
    if (!user.ok()) return Fail(user.status());
    auto password = app.ResetPassword(ctx, user->id, /*must_change=*/false);
    if (!password.ok()) return Fail(password.status());
    banner << "  " << name << std::string(10 - std::min<std::size_t>(9, name.size()), ' ') << *password << "\n";
  }
  banner << "\n";
  return Serve(app, listen, banner.str());
}

}  // namespace caliper::cli

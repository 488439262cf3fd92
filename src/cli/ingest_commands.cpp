// `caliper ingest notes|labs FILE... --project P`: clinical notes (.txt, JSONL, CSV; de-identified
// before storage, docs/notes.md) and lab results (CSV, FHIR JSON; docs/labs.md) into a project.
// Prints one row per record (or the reports as JSON); exit code 1 when any record was refused.
// `caliper ingest dicom|nifti PATH... --project P`: imaging (docs/imaging.md), one row per file.
// `caliper ingest waveform PATH... --project P`: waveform records (docs/waveforms.md), one row per
// record.
// `caliper ingest slide PATH... --project P`: whole-slide images (docs/pathology.md), one row per
// file, tile progress on a terminal.

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "caliper/exports/snapshot.h"
#include "caliper/ingest/bids.h"
#include "caliper/ingest/labs.h"
#include "caliper/ingest/notes.h"
#include "caliper/waveform/waveform.h"
#include "cli/cli_support.h"

namespace caliper::cli {
namespace {

using nlohmann::json;

struct IngestOptions {
  std::vector<std::string> files;
  std::string project;
  std::string format;   // "" = by extension
  std::string patient;  // .txt notes
};

std::string ErrorText(const Status& s) {
  return s.ok() ? "" : std::string(s.code_name()) + ": " + s.message();
}

// Opens the App and the project, then runs `one_file(app, project_id, path, stream)` on each
// file in turn; it prints its table rows, counts refused records in `errors` and returns its
// report as JSON text. With --json the reports are printed together at the end.
template <typename OneFile>
int RunIngest(const CommonOptions& common, const IngestOptions& options, const char* header, OneFile one_file) {
  auto app = OpenApp(common);
  if (!app.ok()) return Fail(app.status());
  auto project = FindProject(**app, options.project);
  if (!project.ok()) return Fail(project.status());
  json files = json::array();
  int errors = 0;
  if (!common.json) std::cout << header;
  for (const std::string& path : options.files) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return Fail(Error(ErrorCode::kIo, "cannot open " + path));
    Result<std::string> report = one_file(**app, project->id, path, in, errors);
    if (!report.ok()) return Fail(report.status().WithContext(path));
    json r = json::parse(*report);
    r["file"] = path;
    files.push_back(std::move(r));
  }
  if (common.json) PrintJson({{"project_id", project->id}, {"files", files}});
  return errors == 0 ? 0 : 1;
}

int RunIngestNotes(const CommonOptions& common, const IngestOptions& options) {
  return RunIngest(
      common, options, "file\trecord\tline\tid\toutcome\titem\tphi\terror\n",
      [&](app::App& app, const std::string& project_id, const std::string& path, std::istream& in,
          int& errors) -> Result<std::string> {
        CALIPER_ASSIGN_OR_RETURN(auto format, options.format.empty() ? ingest::NoteFormatOfPath(path)
                                                                     : ingest::ParseNoteFormat(options.format));
        CALIPER_ASSIGN_OR_RETURN(auto max_note, app.config().GetInt("ingest.max_note_bytes"));
        ingest::NoteReaderOptions reader_options;
        reader_options.max_note_bytes = static_cast<std::size_t>(max_note);
        reader_options.text_id = std::filesystem::path(path).stem().string();
        reader_options.text_patient = options.patient;
        auto reader = ingest::NoteReader::Create(format, in, reader_options);
        CALIPER_ASSIGN_OR_RETURN(auto results, app.IngestNotes(app::LocalOperator(), project_id, *reader));
        for (const auto& r : results) {
          errors += r.outcome == "error";
          if (common.json) continue;
          std::cout << path << '\t' << r.number << '\t' << r.line << '\t' << r.source_id << '\t' << r.outcome << '\t'
                    << r.item_id << '\t' << (r.outcome == "stored" ? std::to_string(r.phi) : "") << '\t'
                    << ErrorText(r.error) << '\n';
        }
        return app::NoteIngestReportJson(results);
      });
}

int RunIngestLabs(const CommonOptions& common, const IngestOptions& options) {
  return RunIngest(
      common, options, "file\trecord\tline\toutcome\titem\tnormalised\terror\n",
      [&](app::App& app, const std::string& project_id, const std::string& path, std::istream& in,
          int& errors) -> Result<std::string> {
        CALIPER_ASSIGN_OR_RETURN(auto format, options.format.empty() ? ingest::LabFormatOfPath(path)
                                                                     : ingest::ParseLabFormat(options.format));
        CALIPER_ASSIGN_OR_RETURN(auto records, ingest::ReadLabs(format, in, std::size_t{1} << 30));
        CALIPER_ASSIGN_OR_RETURN(auto results, app.IngestLabs(app::LocalOperator(), project_id, records));
        for (const auto& r : results) {
          errors += r.outcome == "error";
          if (common.json) continue;
          std::cout << path << '\t' << r.number << '\t' << r.line << '\t' << r.outcome << '\t' << r.item_id << '\t'
                    << (r.outcome == "stored" ? (r.normalised ? "yes" : "no") : "") << '\t' << ErrorText(r.error)
                    << '\n';
        }
        return app::LabIngestReportJson(results);
      });
}

// ---- imaging ----------------------------------------------------------------------------------

namespace fs = std::filesystem;

// DICOM files are handed to the App in batches of about this many bytes (a series split over
// batches still lands in one item; its volume is rebuilt with each batch).
constexpr std::size_t kBatchBytes = std::size_t{256} << 20;

bool EndsWith(std::string name, std::string_view suffix) {
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
  return name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Every regular file named by `paths`: files as given, folders recursively (sorted).
Result<std::vector<fs::path>> ListFiles(const std::vector<std::string>& paths) {
  std::vector<fs::path> out;
  for (const std::string& p : paths) {
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      std::vector<fs::path> found;
      for (auto it = fs::recursive_directory_iterator(p, fs::directory_options::skip_permission_denied, ec);
           !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (it->is_regular_file()) found.push_back(it->path());
      }
      if (ec) return Error(ErrorCode::kIo, "listing " + p + ": " + ec.message());
      std::sort(found.begin(), found.end());
      out.insert(out.end(), found.begin(), found.end());
    } else if (fs::is_regular_file(p, ec)) {
      out.emplace_back(p);
    } else {
      return Error(ErrorCode::kNotFound, p + " is not a file or folder");
    }
  }
  return out;
}

// Prints the per-file rows of one batch and adds them up.
struct DicomTally {
  std::size_t files = 0, stored = 0, duplicates = 0, quarantined = 0, errors = 0;
  nlohmann::json files_json = nlohmann::json::array();
  nlohmann::json series_json = nlohmann::json::array();

  void Add(const app::DicomIngestReport& report, bool json_out) {
    const json r = json::parse(app::DicomIngestReportJson(report));
    for (const auto& f : report.files) {
      ++files;
      stored += f.outcome == "stored";
      duplicates += f.outcome == "duplicate";
      quarantined += f.outcome == "quarantined";
      errors += f.outcome == "error";
      if (json_out) continue;
      std::string note = ErrorText(f.error);
      for (const auto& reason : f.reasons) note += (note.empty() ? "" : "; ") + reason;
      if (f.actions && f.actions->pixels_blanked > 0) {
        note += (note.empty() ? "" : "; ") + std::to_string(f.actions->pixels_blanked) + " rectangles blanked";
        if (!f.actions->pixels_decompressed_from.empty()) {
          note += " (decompressed from " + f.actions->pixels_decompressed_from + ")";
        }
      }
      std::cout << f.name << '\t' << f.outcome << '\t' << f.item_id << '\t' << f.modality << '\t' << note << '\n';
    }
    for (const auto& f : r["files"]) files_json.push_back(f);
    for (const auto& s : r["series"]) series_json.push_back(s);
    if (json_out) return;
    for (const auto& s : report.series) {  // a gap, irregular spacing, a gantry tilt, …
      for (const auto& w : s.warnings) std::cerr << "caliper: series " << s.item_id << ": " << w << '\n';
    }
  }
  void Progress(bool tty) const {
    if (!tty) return;
    std::cerr << "\rcaliper: " << files << " files: " << stored << " stored, " << duplicates << " duplicates, "
              << quarantined << " quarantined, " << errors << " errors" << std::flush;
  }
};

// What an imaging ingest works on: the App, the project and the files the paths name.
struct ImagingTarget {
  std::unique_ptr<app::App> app;
  core::Project project;
  std::vector<fs::path> files;
};

Result<ImagingTarget> OpenImagingTarget(const CommonOptions& common, const IngestOptions& options) {
  ImagingTarget t;
  CALIPER_ASSIGN_OR_RETURN(t.app, OpenApp(common));
  CALIPER_ASSIGN_OR_RETURN(t.project, FindProject(*t.app, options.project));
  CALIPER_ASSIGN_OR_RETURN(t.files, ListFiles(options.files));
  return t;
}

int RunIngestDicom(const CommonOptions& common, const IngestOptions& options) {
  auto target = OpenImagingTarget(common, options);
  if (!target.ok()) return Fail(target.status());
  ImagingTarget& t = *target;
  const bool tty = ::isatty(STDERR_FILENO) == 1;
  DicomTally tally;
  std::vector<app::ImagingInput> batch;
  std::size_t batch_bytes = 0;
  auto flush = [&]() -> Status {
    if (batch.empty()) return Status::Ok();
    CALIPER_ASSIGN_OR_RETURN(auto report, t.app->IngestDicom(app::LocalOperator(), t.project.id, std::move(batch)));
    batch.clear();
    batch_bytes = 0;
    tally.Add(report, common.json);
    tally.Progress(tty);
    return Status::Ok();
  };
  auto add = [&](std::string name, std::string bytes) -> Status {
    batch_bytes += bytes.size();
    batch.push_back({std::move(name), std::move(bytes)});
    return batch_bytes >= kBatchBytes ? flush() : Status::Ok();
  };
  if (!common.json) std::cout << "file\toutcome\titem\tmodality\tnote\n";
  for (const fs::path& path : t.files) {
    Status s;
    if (EndsWith(path.filename().string(), ".zip")) {
      s = exports::ForEachZipEntry(path.string(), kMaxFileBytes, [&](const std::string& entry, std::string bytes) {
        return add(path.string() + "!" + entry, std::move(bytes));
      });
    } else {
      auto bytes = ReadWholeFile(path);
      s = bytes.ok() ? add(path.string(), std::move(*bytes)) : bytes.status();
    }
    if (!s.ok()) return Fail(s);
  }
  if (Status s = flush(); !s.ok()) return Fail(s);
  if (tty && tally.files > 0) std::cerr << "\n";
  if (common.json) {
    PrintJson({{"project_id", t.project.id},
               {"files", tally.files_json},
               {"series", tally.series_json},
               {"stored", tally.stored},
               {"duplicates", tally.duplicates},
               {"quarantined", tally.quarantined},
               {"errors", tally.errors}});
  } else {
    std::cerr << "caliper: " << tally.files << " files: " << tally.stored << " stored, " << tally.duplicates
              << " duplicates, " << tally.quarantined << " quarantined, " << tally.errors << " errors; "
              << tally.series_json.size() << " series updated\n";
  }
  return tally.errors == 0 && tally.quarantined == 0 ? 0 : 1;
}

// The BIDS subject of a path ("sub-01" from ".../sub-01/anat/sub-01_T1w.nii.gz"), or "".
std::string BidsSubject(const fs::path& path) {
  for (auto it = path.begin(); it != path.end(); ++it) {
    const std::string part = it->string();
    if (part.rfind("sub-", 0) == 0 && part.size() > 4 && part.find('_') == std::string::npos) return part;
  }
  const std::string name = path.filename().string();
  if (name.rfind("sub-", 0) == 0) return name.substr(0, name.find('_'));
  return "";
}

int RunIngestNifti(const CommonOptions& common, const IngestOptions& options) {
  auto target = OpenImagingTarget(common, options);
  if (!target.ok()) return Fail(target.status());
  ImagingTarget& t = *target;
  std::vector<app::NiftiInput> inputs;
  for (const fs::path& path : t.files) {
    if (!EndsWith(path.string(), ".nii") && !EndsWith(path.string(), ".nii.gz")) continue;
    app::NiftiInput input;
    input.name = path.string();
    input.patient = options.patient.empty() ? BidsSubject(path) : options.patient;
    auto bytes = ReadWholeFile(path);
    if (!bytes.ok()) return Fail(bytes.status());
    input.bytes = std::move(*bytes);
    auto sidecar = ingest::BidsSidecarPath(path.string());
    if (fs::is_regular_file(sidecar)) {
      auto text = ReadWholeFile(sidecar);
      if (!text.ok()) return Fail(text.status());
      input.sidecar_json = std::move(*text);
    }
    inputs.push_back(std::move(input));
  }
  if (inputs.empty()) return Fail(Error(ErrorCode::kInvalidArgument, "no .nii or .nii.gz file among the paths"));
  auto results = t.app->IngestNifti(app::LocalOperator(), t.project.id, std::move(inputs));
  if (!results.ok()) return Fail(results.status());
  int errors = 0;
  if (!common.json) std::cout << "file\toutcome\titems\tdims\terror\n";
  for (const auto& r : *results) {
    errors += r.outcome == "error";
    if (common.json) continue;
    std::string items;
    for (const auto& id : r.item_ids) items += (items.empty() ? "" : ",") + id;
    std::cout << r.name << '\t' << r.outcome << '\t' << items << '\t' << r.dims[0] << 'x' << r.dims[1] << 'x'
              << r.dims[2] << '\t' << ErrorText(r.error) << '\n';
  }
  if (common.json) {
    json out = json::parse(app::NiftiIngestReportJson(*results));
    out["project_id"] = t.project.id;
    PrintJson(out);
  }
  return errors == 0 ? 0 : 1;
}

// The files of the waveform record rooted at `path` (a .hea with the signal files it names and
// its .atr from the same folder; an .edf; a .dcm), as waveform::GroupRecordFiles groups them.
Result<waveform::Grouping> WaveformRecordAt(const fs::path& path) {
  waveform::FileSet files;
  CALIPER_ASSIGN_OR_RETURN(files[path.filename().string()], ReadWholeFile(path));
  if (EndsWith(path.filename().string(), ".hea")) {
    const fs::path folder = path.parent_path();
    if (auto names = waveform::WfdbSignalFiles(files.begin()->second); names.ok()) {
      for (const std::string& name : *names) {
        if (!fs::is_regular_file(folder / name)) continue;  // the reader reports it missing
        CALIPER_ASSIGN_OR_RETURN(files[name], ReadWholeFile(folder / name));
      }
    }
    const fs::path atr = fs::path(path).replace_extension(".atr");
    if (fs::is_regular_file(atr)) {
      CALIPER_ASSIGN_OR_RETURN(files[atr.filename().string()], ReadWholeFile(atr));
    }
  }
  return waveform::GroupRecordFiles(std::move(files));
}

bool IsWaveformRoot(const fs::path& path) {
  const std::string name = path.filename().string();
  return EndsWith(name, ".hea") || EndsWith(name, ".edf") || EndsWith(name, ".dcm");
}

int RunIngestWaveform(const CommonOptions& common, const IngestOptions& options) {
  auto target = OpenImagingTarget(common, options);
  if (!target.ok()) return Fail(target.status());
  ImagingTarget& t = *target;
  std::vector<fs::path> roots;
  for (const fs::path& path : t.files) {
    if (IsWaveformRoot(path)) roots.push_back(path);
  }
  if (roots.empty()) return Fail(Error(ErrorCode::kInvalidArgument, "no .hea, .edf or .dcm file among the paths"));
  const bool tty = ::isatty(STDERR_FILENO) == 1;
  json records = json::array();
  int stored = 0, errors = 0;
  if (!common.json) std::cout << "record\tformat\toutcome\titem\tleads\tsamples\trate_hz\tannotations\tnote\n";
  for (std::size_t i = 0; i < roots.size(); ++i) {
    auto grouping = WaveformRecordAt(roots[i]);
    if (!grouping.ok()) return Fail(grouping.status());
    auto results = t.app->IngestWaveforms(app::LocalOperator(), t.project.id, std::move(*grouping));
    if (!results.ok()) return Fail(results.status());
    for (auto& r : *results) {
      r.name = (roots[i].parent_path() / r.name).string();
      (r.outcome == "stored" ? stored : errors) += 1;
      if (common.json) continue;
      std::string note = ErrorText(r.error);
      for (const auto& w : r.warnings) note += (note.empty() ? "" : "; ") + w;
      std::cout << r.name << '\t' << r.format << '\t' << r.outcome << '\t' << r.item_id << '\t' << r.leads << '\t'
                << r.samples << '\t' << r.sampling_rate_hz << '\t' << r.annotations << '\t' << note << '\n';
    }
    const json report = json::parse(app::WaveformIngestReportJson(*results));
    for (const json& row : report["records"]) records.push_back(row);
    if (tty) std::cerr << "\rcaliper: " << (i + 1) << "/" << roots.size() << " records: " << stored << " stored, "
                       << errors << " errors" << std::flush;
  }
  if (tty) std::cerr << "\n";
  if (common.json) {
    PrintJson({{"project_id", t.project.id}, {"records", records}, {"stored", stored}, {"errors", errors}});
  } else {
    std::cerr << "caliper: " << roots.size() << " records: " << stored << " stored, " << errors << " errors\n";
  }
  return errors == 0 ? 0 : 1;
}

int RunIngestSlide(const CommonOptions& common, const IngestOptions& options) {
  auto target = OpenImagingTarget(common, options);
  if (!target.ok()) return Fail(target.status());
  ImagingTarget& t = *target;
  const bool tty = ::isatty(STDERR_FILENO) == 1;
  int stored = 0, errors = 0;
  json files = json::array();
  if (!common.json) std::cout << "file\toutcome\titem\tsize\ttiles\tdropped\terror\n";
  for (const fs::path& path : t.files) {
    const std::string name = path.string();
    auto progress = [&](std::int64_t done, std::int64_t total) {
      if (tty && (done % 64 == 0 || done == total)) {
        std::cerr << "\rcaliper: " << name << ": " << done << "/" << total << " tiles" << std::flush;
      }
    };
    auto r = t.app->IngestSlideFile(app::LocalOperator(), t.project.id, name, name, progress);
    if (tty) std::cerr << "\n";
    if (!r.ok()) return Fail(r.status().WithContext(name));
    (r->outcome == "stored" ? stored : errors) += 1;
    files.push_back(json::parse(app::SlideIngestResultJson(*r)));
    if (common.json) continue;
    std::string dropped = std::to_string(r->dropped_properties) + " properties";
    for (const auto& image : r->dropped_images) dropped += ", " + image;
    std::cout << name << '\t' << r->outcome << '\t' << r->item_id << '\t'
              << (r->outcome == "stored" ? std::to_string(r->slide.width) + "x" + std::to_string(r->slide.height) : "")
              << '\t' << r->tiles << '\t' << (r->outcome == "stored" ? dropped : "") << '\t' << ErrorText(r->error)
              << '\n';
  }
  if (common.json) {
    PrintJson({{"project_id", t.project.id}, {"files", files}, {"stored", stored}, {"errors", errors}});
  } else {
    std::cerr << "caliper: " << t.files.size() << " files: " << stored << " slides stored, " << errors << " errors\n";
  }
  return errors == 0 ? 0 : 1;
}

}  // namespace

void AddIngestCommands(CLI::App& root, CommonOptions& common, int& exit_code) {
  auto* ingest = root.add_subcommand("ingest", "Bring data into a project");
  ingest->require_subcommand(1);
  // shared: they outlive this function with the callbacks
  auto notes_options = std::make_shared<IngestOptions>();
  auto labs_options = std::make_shared<IngestOptions>();

  auto* notes = ingest->add_subcommand(
      "notes", "Clinical notes (.txt, JSONL {id,patient,text,...}, CSV id,patient,text,...), de-identified "
               "with the project's text settings before storage; one item per note");
  AddCommonOptions(*notes, common);
  notes->add_option("files", notes_options->files, "notes files")->required();
  notes->add_option("--project", notes_options->project, "project id or name")->required();
  notes->add_option("--format", notes_options->format, "txt, jsonl or csv (default: by file extension)");
  notes->add_option("--patient", notes_options->patient, "source patient identifier of .txt notes");
  notes->callback([&common, notes_options, &exit_code] { exit_code = RunIngestNotes(common, *notes_options); });

  auto* labs = ingest->add_subcommand(
      "labs", "Lab results (Caliper or OMOP MEASUREMENT CSV, FHIR R4 JSON): LOINC checked, pseudonymous patient, "
              "shifted times, normalised units; one item per patient and file");
  AddCommonOptions(*labs, common);
  labs->add_option("files", labs_options->files, "labs files (.csv, .json)")->required();
  labs->add_option("--project", labs_options->project, "project id or name")->required();
  labs->add_option("--format", labs_options->format, "csv or json (default: by file extension)");
  labs->callback([&common, labs_options, &exit_code] { exit_code = RunIngestLabs(common, *labs_options); });

  auto dicom_options = std::make_shared<IngestOptions>();
  auto* dicom = ingest->add_subcommand(
      "dicom", "DICOM files, folders (recursively) and .zip archives, de-identified (PS3.15 Basic Profile) before "
               "storage; one item per series with its volume as NIfTI. Quarantined (burned-in text) and bad files "
               "are reported and not stored (exit code 1)");
  AddCommonOptions(*dicom, common);
  dicom->add_option("paths", dicom_options->files, "files, folders or .zip archives")->required();
  dicom->add_option("--project", dicom_options->project, "project id or name")->required();
  dicom->callback([&common, dicom_options, &exit_code] { exit_code = RunIngestDicom(common, *dicom_options); });

  auto nifti_options = std::make_shared<IngestOptions>();
  auto* nifti = ingest->add_subcommand(
      "nifti", "NIfTI volumes (.nii, .nii.gz; folders recursively) with their BIDS JSON sidecars (cohort); one "
               "item per volume (a 4D file: one per time point)");
  AddCommonOptions(*nifti, common);
  nifti->add_option("paths", nifti_options->files, "files or folders")->required();
  nifti->add_option("--project", nifti_options->project, "project id or name")->required();
  nifti->add_option("--patient", nifti_options->patient,
                    "source patient identifier (default: the BIDS subject, sub-<label>, of each path)");
  nifti->callback([&common, nifti_options, &exit_code] { exit_code = RunIngestNifti(common, *nifti_options); });

  auto waveform_options = std::make_shared<IngestOptions>();
  auto* waveform = ingest->add_subcommand(
      "waveform", "Waveform records (ECG): WFDB (.hea with its signal files and .atr beside it), EDF/EDF+ (.edf) "
                  "and DICOM waveforms (.dcm); folders recursively. Identifiers stripped (DICOM: PS3.15 "
                  "de-identification first); one item per record");
  AddCommonOptions(*waveform, common);
  waveform->add_option("paths", waveform_options->files, "record files or folders")->required();
  waveform->add_option("--project", waveform_options->project, "project id or name")->required();
  waveform->callback([&common, waveform_options, &exit_code] {
    exit_code = RunIngestWaveform(common, *waveform_options);
  });

  auto slide_options = std::make_shared<IngestOptions>();
  auto* slide = ingest->add_subcommand(
      "slide", "Whole-slide images (SVS, NDPI, MRXS, tiled TIFF and the other formats OpenSlide 3.4.1 reads; not "
               "DICOM-WSI; folders recursively): de-identified (size, um/px, objective power and vendor kept; label, "
               "macro and thumbnail dropped) and re-written as encrypted Deep Zoom tiles; one item per slide. Files "
               "OpenSlide cannot read are reported and not stored (exit code 1)");
  AddCommonOptions(*slide, common);
  slide->add_option("paths", slide_options->files, "slide files or folders")->required();
  slide->add_option("--project", slide_options->project, "project id or name")->required();
  slide->callback([&common, slide_options, &exit_code] { exit_code = RunIngestSlide(common, *slide_options); });
}

}  // namespace caliper::cli

// `caliper ingest notes|labs FILE... --project P`: clinical notes (.txt, JSONL, CSV; de-identified
// before storage, docs/notes.md) and lab results (CSV, FHIR JSON; docs/labs.md) into a project.
// Prints one row per record (or the reports as JSON); exit code 1 when any record was refused.

#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>

#include "caliper/ingest/labs.h"
#include "caliper/ingest/notes.h"
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
}

}  // namespace caliper::cli

// The workflow commands a manager scripts (docs/workflow.md), acting as the local operator on
// the data directory:
//   caliper prelabels upload PROJECT FILE.jsonl      model predictions, one per line
//   caliper prelabels context PROJECT [--item ID]    the ConText pre-labeller over the notes
//   caliper outcomes import FILE.csv --project P     outcome events (ingest/outcomes.h)
// Bad lines are reported on standard error with their number and skipped; the exit code is
// then 1 (0 when everything was stored).

#include <fstream>
#include <iostream>

#include "caliper/ingest/outcomes.h"
#include "cli/cli_support.h"

namespace caliper::cli {
namespace {

using nlohmann::json;

struct WorkflowArgs {
  CommonOptions common;
  std::string project;
  std::string file;
  std::vector<std::string> items;
};

// Reads a JSONL file of predictions; every line that is no prediction is reported and skipped.
// `line_of[i]` is the 1-based line number of rows[i].
struct PredictionFile {
  std::vector<core::Prelabel> rows;
  std::vector<std::size_t> line_of;
  int refused = 0;
};

Result<PredictionFile> ReadPredictions(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Error(ErrorCode::kNotFound, "cannot read " + path);
  PredictionFile out;
  std::size_t number = 0;
  for (std::string line; std::getline(in, line);) {
    ++number;
    if (line.empty() || line == "\r") continue;
    auto row = app::PrelabelFromJson(line);
    if (row.ok() && (row->item_id.empty() || row->model_name.empty())) {
      row = Error(ErrorCode::kInvalidArgument, "each line needs item_id and model {name, version}");
    }
    if (!row.ok()) {
      std::cerr << "caliper: " << path << ":" << number << ": " << row.status().message() << "\n";
      ++out.refused;
      continue;
    }
    out.rows.push_back(std::move(row).value());
    out.line_of.push_back(number);
  }
  return out;
}

// Prints the rows the app refused (by their line in `args.file`) and the totals; exit code 1
// when anything was refused. `refused` counts the lines refused before the app saw them.
int Report(const WorkflowArgs& args, const std::vector<app::RowError>& errors, const std::vector<std::size_t>& line_of,
           std::size_t stored, int refused, const char* what) {
  for (const auto& e : errors) {
    std::cerr << "caliper: " << args.file << ":" << line_of[e.index] << ": " << e.message << "\n";
    ++refused;
  }
  if (args.common.json) {
    PrintJson({{"stored", stored}, {"refused", refused}});
  } else {
    std::cout << "Stored " << stored << " " << what << "; refused " << refused << "\n";
  }
  return refused == 0 ? 0 : 1;
}

int UploadPrelabels(app::App& app, const WorkflowArgs& args) {
  auto project = FindProject(app, args.project);
  if (!project.ok()) return Fail(project.status());
  auto file = ReadPredictions(args.file);
  if (!file.ok()) return Fail(file.status());
  if (file->rows.empty()) return Report(args, {}, {}, 0, file->refused, "pre-labels");
  auto upload = app.AddPrelabels(app::LocalOperator(), project->id, file->rows);
  if (!upload.ok()) return Fail(upload.status());
  return Report(args, upload->errors, file->line_of, upload->stored.size(), file->refused, "pre-labels");
}

int ImportOutcomes(app::App& app, const WorkflowArgs& args) {
  auto project = FindProject(app, args.project);
  if (!project.ok()) return Fail(project.status());
  std::ifstream in(args.file, std::ios::binary);
  if (!in) return Fail(Error(ErrorCode::kNotFound, "cannot read " + args.file));
  auto records = ingest::ReadOutcomesCsv(in);
  if (!records.ok()) return Fail(records.status());
  std::vector<core::Outcome> rows;
  std::vector<std::size_t> line_of;
  int refused = 0;
  for (const auto& r : *records) {
    if (!r.status.ok()) {
      std::cerr << "caliper: " << args.file << ":" << r.line << ": " << r.status.message() << "\n";
      ++refused;
      continue;
    }
    rows.push_back(r.outcome);
    line_of.push_back(r.line);
  }
  if (rows.empty()) return Report(args, {}, {}, 0, refused, "outcomes");
  auto upload = app.AddOutcomes(app::LocalOperator(), project->id, rows);
  if (!upload.ok()) return Fail(upload.status());
  return Report(args, upload->errors, line_of, upload->stored.size(), refused, "outcomes");
}

int RunContext(app::App& app, const WorkflowArgs& args) {
  auto project = FindProject(app, args.project);
  if (!project.ok()) return Fail(project.status());
  auto report = app.RunContextPrelabels(app::LocalOperator(), project->id, args.items);
  if (!report.ok()) return Fail(report.status());
  for (const auto& e : report->errors) std::cerr << "caliper: " << e.message << "\n";
  if (args.common.json) {
    PrintJson({{"notes", report->notes},
               {"stored", report->stored.size()},
               {"already_stored", report->already},
               {"failed", report->errors.size()}});
  } else {
    std::cout << "Read " << report->notes << " notes; stored " << report->stored.size() << " pre-labels ("
              << report->already << " stored before); " << report->errors.size() << " notes failed\n";
  }
  return report->errors.empty() ? 0 : 1;
}

}  // namespace

void AddWorkflowCommands(CLI::App& root, int& exit_code) {
  // One set of arguments shared by the subcommands (only one runs per invocation).
  static WorkflowArgs args;
  auto with_app = [&exit_code](int (*body)(app::App&, const WorkflowArgs&)) {
    return [&exit_code, body] {
      auto app = OpenApp(args.common);
      exit_code = app.ok() ? body(**app, args) : Fail(app.status());
    };
  };

  auto* prelabels = root.add_subcommand("prelabels", "Model pre-labels (suggestions readers decide on)");
  prelabels->require_subcommand(1);
  auto* upload = prelabels->add_subcommand("upload", "Store model predictions from a JSONL file as pre-labels");
  AddCommonOptions(*upload, args.common);
  upload->add_option("project", args.project, "Project id or name")->required();
  upload->add_option("file", args.file, "JSONL: one {item_id, model, evidence, label, score?, scores?} per line")
      ->required();
  upload->callback(with_app(&UploadPrelabels));

  auto* context = prelabels->add_subcommand(
      "context", "Run the ConText pre-labeller over the project's notes (terms from the published guideline)");
  AddCommonOptions(*context, args.common);
  context->add_option("project", args.project, "Project id or name")->required();
  context->add_option("--item", args.items, "A note item (repeatable); none = every note of the project");
  context->callback(with_app(&RunContext));

  auto* outcomes = root.add_subcommand("outcomes", "Outcome events that confirm or refute labels later");
  outcomes->require_subcommand(1);
  auto* import = outcomes->add_subcommand("import", "Record outcome events from a CSV file");
  AddCommonOptions(*import, args.common);
  import->add_option("file", args.file, "CSV: item_id,patient_key,evidence_type,class,value,result,time")->required();
  import->add_option("--project", args.project, "Project id or name")->required();
  import->callback(with_app(&ImportOutcomes));
}

}  // namespace caliper::cli

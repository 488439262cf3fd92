// The workflow commands a manager scripts (docs/workflow.md), acting as the local operator on
// the data directory:
//   caliper prelabels upload PROJECT FILE.jsonl      model predictions, one per line
//   caliper prelabels context PROJECT [--item ID]    the ConText pre-labeller over the notes
//   caliper outcomes import FILE.csv --project P     outcome events (ingest/outcomes.h)
//   caliper guideline publish PROJECT FILE.json      a new guideline version, with its impact
//   caliper guideline reannotate PROJECT --to N      send impacted readings back to their readers
//   caliper guideline feedback PROJECT [--version N] reviewers' feedback counted by class
//   caliper quality sweep PROJECT                    soft labels and QA findings stored now
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
  std::string from_version;  // guideline version numbers (or ids)
  std::string to_version;
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

// The project's guideline version `ref` (its number, or its id); "" = the version in force.
Result<core::GuidelineVersion> FindGuideline(app::App& app, const std::string& project_id, const std::string& ref) {
  std::optional<core::GuidelineVersion> current;
  storage::PageRequest page;
  page.limit = 500;
  for (;;) {
    CALIPER_ASSIGN_OR_RETURN(auto rows, app.ListGuidelines(app::LocalOperator(), project_id, page));
    for (auto& g : rows.rows) {
      if (g.status != core::GuidelineStatus::kPublished) continue;
      if (ref.empty() ? (!current || g.version > current->version) : (std::to_string(g.version) == ref || g.id == ref)) {
        current = std::move(g);
      }
    }
    if (rows.next.empty()) break;
    page.after = rows.next;
  }
  if (current) return *current;
  return Error(ErrorCode::kNotFound, ref.empty() ? "the project has no published guideline"
                                                 : "the project has no published guideline version " + ref);
}

json ImpactJson(const app::GuidelineImpact& impact) {
  json classes = json::array();
  for (const auto& c : impact.diff.classes) classes.push_back({{"id", c.id}, {"change", c.change}, {"fields", c.fields}});
  return {{"from_version", impact.diff.from.version}, {"to_version", impact.diff.to.version},
          {"classes", classes}, {"impacted_labels", impact.labels.size()}};
}

void PrintImpact(const app::GuidelineImpact& impact) {
  std::cout << "Version " << impact.diff.to.version << " against " << impact.diff.from.version << ": "
            << impact.diff.classes.size() << " classes differ, " << impact.labels.size()
            << " labels were made under the old version of a changed or removed class\n";
  for (const auto& c : impact.diff.classes) {
    std::cout << "  " << c.change << " " << c.id;
    for (const auto& f : c.fields) std::cout << (&f == &c.fields.front() ? " (" : ", ") << f;
    std::cout << (c.fields.empty() ? "" : ")") << "\n";
  }
}

int PublishGuideline(app::App& app, const WorkflowArgs& args) {
  auto project = FindProject(app, args.project);
  if (!project.ok()) return Fail(project.status());
  auto text = ReadWholeFile(args.file);
  if (!text.ok()) return Fail(text.status());
  const auto& op = app::LocalOperator();
  auto draft = app.CreateGuidelineDraft(op, project->id, *text);
  if (!draft.ok()) return Fail(Error(draft.status().code(), args.file + ": " + draft.status().message()));
  auto published = app.PublishGuideline(op, project->id, draft->id, draft->revision);
  if (!published.ok()) return Fail(published.status());
  json out{{"id", published->id}, {"version", published->version}};
  std::optional<app::GuidelineImpact> impact;
  if (!published->based_on.empty()) {
    auto report = app.GuidelineImpactOf(op, project->id, published->id, "");
    if (!report.ok()) return Fail(report.status());
    impact = std::move(*report);
    out["impact"] = ImpactJson(*impact);
  }
  if (args.common.json) {
    PrintJson(out);
  } else {
    std::cout << "Published guideline version " << published->version << " (" << published->id << ")\n";
    if (impact) PrintImpact(*impact);
  }
  return 0;
}

int Reannotate(app::App& app, const WorkflowArgs& args) {
  auto project = FindProject(app, args.project);
  if (!project.ok()) return Fail(project.status());
  auto to = FindGuideline(app, project->id, args.to_version);
  if (!to.ok()) return Fail(to.status());
  std::string from_id;
  if (!args.from_version.empty()) {
    auto from = FindGuideline(app, project->id, args.from_version);
    if (!from.ok()) return Fail(from.status());
    from_id = from->id;
  }
  auto report = app.ReannotateImpacted(app::LocalOperator(), project->id, to->id, from_id);
  if (!report.ok()) return Fail(report.status());
  if (args.common.json) {
    json reopened = json::array();
    for (const auto& t : report->reopened) reopened.push_back({{"task_id", t.id}, {"item_id", t.item_id}});
    json skipped = json::array();
    for (const auto& s : report->skipped) {
      skipped.push_back({{"task_id", s.task_id}, {"annotation_id", s.annotation_id}, {"reason", s.reason}});
    }
    PrintJson({{"impact", ImpactJson(report->impact)}, {"reopened", reopened}, {"skipped", skipped}});
  } else {
    PrintImpact(report->impact);
    std::cout << "Sent " << report->reopened.size() << " readings back to their readers; left "
              << report->skipped.size() << " alone\n";
    for (const auto& s : report->skipped) std::cout << "  " << s.annotation_id << ": " << s.reason << "\n";
  }
  return 0;
}

int Feedback(app::App& app, const WorkflowArgs& args) {
  auto project = FindProject(app, args.project);
  if (!project.ok()) return Fail(project.status());
  std::string version_id;
  if (!args.to_version.empty()) {
    auto version = FindGuideline(app, project->id, args.to_version);
    if (!version.ok()) return Fail(version.status());
    version_id = version->id;
  }
  auto report = app.GuidelineFeedbackOf(app::LocalOperator(), project->id, version_id);
  if (!report.ok()) return Fail(report.status());
  if (args.common.json) {
    json classes = json::array();
    for (const auto& c : report->classes) {
      classes.push_back({{"label_class", c.label_class}, {"total", c.total}, {"items", c.items},
                         {"kinds", c.kinds}, {"recurring", c.recurring}});
    }
    PrintJson({{"guideline_version_id", report->guideline_version_id}, {"classes", classes},
               {"entries", report->entries.size()}});
  } else {
    std::cout << report->entries.size() << " feedback notes on " << report->classes.size() << " classes\n";
    for (const auto& c : report->classes) {
      std::cout << "  " << c.label_class << ": " << c.total << " on " << c.items << " items"
                << (c.recurring ? " (recurring)" : "");
      for (const auto& [kind, n] : c.kinds) std::cout << ", " << kind << " " << n;
      std::cout << "\n";
    }
  }
  return 0;
}

int Sweep(app::App& app, const WorkflowArgs& args) {
  auto project = FindProject(app, args.project);
  if (!project.ok()) return Fail(project.status());
  auto sweep = app.SweepQuality(app::LocalOperator(), project->id);
  if (!sweep.ok()) return Fail(sweep.status());
  if (args.common.json) {
    PrintJson({{"items", sweep->items}, {"soft_labels", sweep->soft_labels}, {"findings", sweep->findings}});
  } else {
    std::cout << "Swept " << sweep->items << " items: stored " << sweep->soft_labels << " soft labels and "
              << sweep->findings << " QA findings\n";
  }
  return 0;
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

  auto* guideline = root.add_subcommand("guideline", "Guideline versions: publish, re-annotate, feedback");
  guideline->require_subcommand(1);
  auto* publish = guideline->add_subcommand(
      "publish", "Publish a label schema (JSON, docs/label-schema.schema.json) as the next version; prints its impact");
  AddCommonOptions(*publish, args.common);
  publish->add_option("project", args.project, "Project id or name")->required();
  publish->add_option("file", args.file, "The label schema: {\"classes\": [...], ...}")->required();
  publish->callback(with_app(&PublishGuideline));

  auto* reannotate = guideline->add_subcommand(
      "reannotate", "Send every reading with a label the new version changed back to its reader");
  AddCommonOptions(*reannotate, args.common);
  reannotate->add_option("project", args.project, "Project id or name")->required();
  reannotate->add_option("--to", args.to_version, "The version in force (number or id; default: the newest)");
  reannotate->add_option("--from", args.from_version, "The old version (default: the one --to is based on)");
  reannotate->callback(with_app(&Reannotate));

  auto* feedback = guideline->add_subcommand("feedback", "Reviewers' and adjudicators' guideline feedback, by class");
  AddCommonOptions(*feedback, args.common);
  feedback->add_option("project", args.project, "Project id or name")->required();
  feedback->add_option("--version", args.to_version, "Only feedback on this version (number or id; default: all)");
  feedback->callback(with_app(&Feedback));

  auto* quality = root.add_subcommand("quality", "Stored quality figures of a project");
  quality->require_subcommand(1);
  auto* sweep = quality->add_subcommand(
      "sweep", "Fit Dawid-Skene per class and run every QA rule now; store soft labels and findings");
  AddCommonOptions(*sweep, args.common);
  sweep->add_option("project", args.project, "Project id or name")->required();
  sweep->callback(with_app(&Sweep));
}

}  // namespace caliper::cli

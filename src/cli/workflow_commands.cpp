// The workflow commands a manager scripts (docs/workflow.md), acting as the local operator on
// the data directory:
//   caliper prelabels upload PROJECT FILE.jsonl      model predictions, one per line
//   caliper prelabels context PROJECT [--item ID]    the ConText pre-labeller over the notes
//   caliper outcomes import FILE.csv --project P     outcome events (ingest/outcomes.h)
//   caliper guideline publish PROJECT FILE.json      a new guideline version, with its impact
//   caliper guideline reannotate PROJECT --to N      send impacted readings back to their readers
//   caliper guideline feedback PROJECT [--version N] reviewers' feedback counted by class
//   caliper guideline diff PROJECT [--from N] [--to N]  what changed per class
//   caliper quality sweep PROJECT                    soft labels and QA findings stored now
//   caliper workflow show|set PROJECT [FILE.json]    the workflow settings (set merges FILE in)
//   caliper tasks create PROJECT [--item ID]         top items up to k open tasks
//   caliper tasks list PROJECT [--state S]           the project's tasks
//   caliper gold set ITEM [CLASS...]                 mark an item as gold with its answer
//   caliper prelabels run PROJECT --backend URL --caliper-url URL --as USER
//                                                    ask a model back-end for pre-labels
//   caliper prelabels stats PROJECT                  acceptance, correction size, anchoring
//   caliper outcomes labels|scores PROJECT           truth status of labels; readers and models
//                                                    re-scored against confirmed truth
// With --json, each prints what the matching API call answers.
// Bad lines are reported on standard error with their number and skipped; the exit code is
// then 1 (0 when everything was stored).

#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <set>

#include "caliper/core/rules.h"
#include "caliper/ingest/outcomes.h"
#include "cli/cli_support.h"
#include "http/model_backend.h"
#include "http/route.h"

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
  std::string state;                 // tasks list --state
  std::vector<std::string> classes;  // gold set: the answer
  std::string as_user;               // prelabels run --as
  std::string backend_url, caliper_url;
  int token_minutes = 15;
};

// Prints rows as the API lists them: {"data": [render(row), ...]}.
template <typename Rows, typename Render>
void PrintData(const Rows& rows, Render render) {
  json data = json::array();
  for (const auto& row : rows) data.push_back(render(row));
  PrintJson(json{{"data", data}});
}

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

int UploadPrelabels(app::App& app, const core::Project& project, const WorkflowArgs& args) {
  auto file = ReadPredictions(args.file);
  if (!file.ok()) return Fail(file.status());
  if (file->rows.empty()) return Report(args, {}, {}, 0, file->refused, "pre-labels");
  auto upload = app.AddPrelabels(app::LocalOperator(), project.id, file->rows);
  if (!upload.ok()) return Fail(upload.status());
  return Report(args, upload->errors, file->line_of, upload->stored.size(), file->refused, "pre-labels");
}

int ImportOutcomes(app::App& app, const core::Project& project, const WorkflowArgs& args) {
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
  auto upload = app.AddOutcomes(app::LocalOperator(), project.id, rows);
  if (!upload.ok()) return Fail(upload.status());
  return Report(args, upload->errors, line_of, upload->stored.size(), refused, "outcomes");
}

int RunContext(app::App& app, const core::Project& project, const WorkflowArgs& args) {
  auto report = app.RunContextPrelabels(app::LocalOperator(), project.id, args.items);
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

int PublishGuideline(app::App& app, const core::Project& project, const WorkflowArgs& args) {
  auto text = ReadWholeFile(args.file);
  if (!text.ok()) return Fail(text.status());
  const auto& op = app::LocalOperator();
  auto draft = app.CreateGuidelineDraft(op, project.id, *text);
  if (!draft.ok()) return Fail(Error(draft.status().code(), args.file + ": " + draft.status().message()));
  auto published = app.PublishGuideline(op, project.id, draft->id, draft->revision);
  if (!published.ok()) return Fail(published.status());
  json out{{"id", published->id}, {"version", published->version}};
  std::optional<app::GuidelineImpact> impact;
  if (!published->based_on.empty()) {
    auto report = app.GuidelineImpactOf(op, project.id, published->id, "");
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

int Reannotate(app::App& app, const core::Project& project, const WorkflowArgs& args) {
  auto to = FindGuideline(app, project.id, args.to_version);
  if (!to.ok()) return Fail(to.status());
  std::string from_id;
  if (!args.from_version.empty()) {
    auto from = FindGuideline(app, project.id, args.from_version);
    if (!from.ok()) return Fail(from.status());
    from_id = from->id;
  }
  auto report = app.ReannotateImpacted(app::LocalOperator(), project.id, to->id, from_id);
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

int Feedback(app::App& app, const core::Project& project, const WorkflowArgs& args) {
  std::string version_id;
  if (!args.to_version.empty()) {
    auto version = FindGuideline(app, project.id, args.to_version);
    if (!version.ok()) return Fail(version.status());
    version_id = version->id;
  }
  auto report = app.GuidelineFeedbackOf(app::LocalOperator(), project.id, version_id);
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

// `caliper guideline diff`: --to defaults to the version in force, --from to the one --to is
// based on.
int Diff(app::App& app, const core::Project& project, const WorkflowArgs& args) {
  auto to = FindGuideline(app, project.id, args.to_version);
  if (!to.ok()) return Fail(to.status());
  std::string from_id = to->based_on;
  if (!args.from_version.empty()) {
    auto from = FindGuideline(app, project.id, args.from_version);
    if (!from.ok()) return Fail(from.status());
    from_id = from->id;
  }
  if (from_id.empty()) {
    return Fail(Error(ErrorCode::kInvalidArgument, "version " + std::to_string(to->version) +
                                                       " is based on no other version; name one with --from"));
  }
  auto diff = app.DiffGuidelines(app::LocalOperator(), project.id, from_id, to->id);
  if (!diff.ok()) return Fail(diff.status());
  if (args.common.json) {
    PrintJson(http::GuidelineDiffJson(*diff));
    return 0;
  }
  std::cout << "Version " << diff->to.version << " against " << diff->from.version << ": " << diff->classes.size()
            << " classes differ\n";
  for (const auto& c : diff->classes) {
    std::cout << "  " << c.change << " " << c.id;
    for (const auto& f : c.fields) std::cout << (&f == &c.fields.front() ? " (" : ", ") << f;
    std::cout << (c.fields.empty() ? "" : ")") << "\n";
  }
  return 0;
}

void PrintSettings(const json& settings) {
  for (const auto& [field, value] : settings.items()) {
    std::cout << field << " = " << (value.is_string() ? value.get<std::string>() : value.dump()) << "\n";
  }
}

int ShowWorkflow(app::App& app, const core::Project& project, const WorkflowArgs& args) {
  auto settings = app.GetWorkflowSettings(app::LocalOperator(), project.id);
  if (!settings.ok()) return Fail(settings.status());
  const json out = http::WorkflowSettingsJson(*settings);
  if (args.common.json) {
    PrintJson(out);
  } else {
    PrintSettings(out);
  }
  return 0;
}

// `caliper workflow set PROJECT FILE`: the fields FILE names replace the current ones (a JSON
// merge patch: null clears a field back to its default); the others stay as they are.
int SetWorkflow(app::App& app, const core::Project& project, const WorkflowArgs& args) {
  std::string text;
  if (args.file == "-") {
    text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  } else {
    auto read = ReadWholeFile(args.file);
    if (!read.ok()) return Fail(read.status());
    text = std::move(*read);
  }
  const json patch = json::parse(text, nullptr, false);
  if (!patch.is_object()) {
    return Fail(Error(ErrorCode::kInvalidArgument, args.file + ": not a JSON object of workflow settings"));
  }
  const auto& op = app::LocalOperator();
  auto current = app.GetWorkflowSettings(op, project.id);
  if (!current.ok()) return Fail(current.status());
  json merged = http::WorkflowSettingsJson(*current);
  merged.merge_patch(patch);
  auto settings = app::WorkflowSettingsFromJson(project.id, merged.dump());
  if (!settings.ok()) return Fail(settings.status().WithContext(args.file));
  auto saved = app.PutWorkflowSettings(op, *settings);
  if (!saved.ok()) return Fail(saved.status().WithContext(args.file));
  const json out = http::WorkflowSettingsJson(*saved);
  if (args.common.json) {
    PrintJson(out);
  } else {
    std::cout << "Saved the workflow settings of " << project.name << "\n";
    PrintSettings(out);
  }
  return 0;
}

int CreateTasks(app::App& app, const core::Project& project, const WorkflowArgs& args) {
  auto tasks = app.CreateTasks(app::LocalOperator(), project.id, args.items);
  if (!tasks.ok()) return Fail(tasks.status());
  if (args.common.json) {
    PrintData(*tasks, http::TaskJson);
  } else {
    std::set<std::string> items;
    for (const auto& t : *tasks) items.insert(t.item_id);
    std::cout << "Created " << tasks->size() << " tasks on " << items.size() << " items\n";
  }
  return 0;
}

int ListTasks(app::App& app, const core::Project& project, const WorkflowArgs& args) {
  std::optional<core::TaskState> state;
  if (!args.state.empty()) {
    auto parsed = core::ParseTaskState(args.state);
    if (!parsed.ok()) return Fail(parsed.status());
    state = *parsed;
  }
  std::vector<core::Task> tasks;
  storage::PageRequest page{"", 500};
  for (;;) {
    auto rows = app.ListTasks(app::LocalOperator(), project.id, state, page);
    if (!rows.ok()) return Fail(rows.status());
    tasks.insert(tasks.end(), rows->rows.begin(), rows->rows.end());
    if (rows->next.empty()) break;
    page.after = rows->next;
  }
  if (args.common.json) {
    PrintData(tasks, http::TaskJson);
    return 0;
  }
  std::cout << "TASK                             ITEM                             STATE        ASSIGNEE\n";
  for (const auto& t : tasks) {
    std::cout << t.id << "  " << t.item_id << "  " << core::ToString(t.state)
              << std::string(13 - std::min<std::size_t>(12, core::ToString(t.state).size()), ' ')
              << (t.assignee.empty() ? "-" : t.assignee) << "\n";
  }
  std::cout << tasks.size() << " tasks\n";
  return 0;
}

int SetGold(app::App& app, const WorkflowArgs& args) {
  auto gold = app.SetGoldItem(app::LocalOperator(), args.file, args.classes);
  if (!gold.ok()) return Fail(gold.status());
  if (args.common.json) {
    PrintJson(http::GoldItemJson(*gold));
  } else {
    std::cout << "Item " << gold->item_id << " is gold; a correct reading names "
              << (gold->answer.empty() ? "none of the classes" : "");
    for (const auto& c : gold->answer) std::cout << (&c == &gold->answer.front() ? "" : ", ") << c;
    std::cout << "\n";
  }
  return 0;
}

int RunBackend(app::App& app, const core::Project& project, const WorkflowArgs& args) {
  auto ctx = ActAs(app, args.as_user, project.id, security::Permission::kPrelabelWrite, "prelabels.run");
  if (!ctx.ok()) return Fail(ctx.status());
  app::ModelRunRequest request;
  request.backend_url = args.backend_url;
  request.caliper_url = args.caliper_url;
  request.item_ids = args.items;
  request.token_minutes = args.token_minutes;
  http::HttpModelBackend transport;
  auto report = app.RunModelBackend(*ctx, project.id, request, transport);
  if (!report.ok()) return Fail(report.status());
  for (const auto& e : report->errors) std::cerr << "caliper: " << e.message << "\n";
  if (args.common.json) {
    json stored = json::array();
    for (const auto& p : report->stored) stored.push_back(http::PrelabelJson(p));
    PrintJson(json{{"items", report->items}, {"stored", stored}, {"errors", http::RowErrorsJson(report->errors)}});
  } else {
    std::cout << "Asked the back-end about " << report->items << " items: stored " << report->stored.size()
              << " pre-labels; " << report->errors.size() << " items failed\n";
  }
  return report->errors.empty() ? 0 : 1;
}

// A share as a percentage, or "-" when there is nothing to share.
std::string Percent(int part, int whole) {
  if (whole <= 0) return "-";
  char text[16];
  std::snprintf(text, sizeof text, "%.1f%%", 100.0 * part / whole);
  return text;
}

int PrelabelStats(app::App& app, const core::Project& project, const WorkflowArgs& args) {
  auto stats = app.PrelabelStats(app::LocalOperator(), project.id);
  if (!stats.ok()) return Fail(stats.status());
  if (args.common.json) {
    PrintData(*stats, http::ModelVersionStatsJson);
    return 0;
  }
  std::cout << "MODEL@VERSION  PRE-LABELS  ACCEPTED  CORRECTED  REJECTED  ACCEPTANCE  CORRECTION  AGREE SHOWN  AGREE HIDDEN\n";
  for (const auto& s : *stats) {
    const int decided = s.accepted + s.corrected + s.rejected;
    char size[16] = "-";
    if (s.mean_correction_size) std::snprintf(size, sizeof size, "%.3f", *s.mean_correction_size);
    std::cout << s.model_name << "@" << s.model_version << "  " << s.prelabels << "  " << s.accepted << "  "
              << s.corrected << "  " << s.rejected << "  " << Percent(s.accepted, decided) << "  " << size << "  "
              << Percent(s.shown_agreeing, s.shown_readings) << " of " << s.shown_readings << "  "
              << Percent(s.hidden_agreeing, s.hidden_readings) << " of " << s.hidden_readings << "\n";
  }
  std::cout << stats->size() << " model versions\n";
  return 0;
}

int OutcomeLabels(app::App& app, const core::Project& project, const WorkflowArgs& args) {
  auto labels = app.EvaluateTruth(app::LocalOperator(), project.id);
  if (!labels.ok()) return Fail(labels.status());
  if (args.common.json) {
    PrintData(*labels, http::LabelTruthJson);
    return 0;
  }
  std::map<std::string, int> by_status;
  for (const auto& l : *labels) {
    ++by_status[l.status];
    std::cout << l.annotation.id << "  " << l.annotation.item_id << "  " << l.annotation.label_class << "  "
              << l.status << (l.outcome_id.empty() ? "" : "  " + l.outcome_id) << "\n";
  }
  std::cout << labels->size() << " labels need confirmation";
  for (const auto& [status, n] : by_status) std::cout << (status == by_status.begin()->first ? ": " : ", ") << n << " " << status;
  std::cout << "\n";
  return 0;
}

int OutcomeScores(app::App& app, const core::Project& project, const WorkflowArgs& args) {
  auto scores = app.ScoreAgainstTruth(app::LocalOperator(), project.id);
  if (!scores.ok()) return Fail(scores.status());
  if (args.common.json) {
    PrintJson(http::TruthScoresJson(*scores));
    return 0;
  }
  auto print = [](const char* heading, const std::vector<app::TruthScore>& rows) {
    std::cout << heading << "  CONFIRMED  REFUTED  PROVISIONAL  UNCONFIRMED  ACCURACY\n";
    for (const auto& s : rows) {
      char accuracy[16] = "-";
      if (s.accuracy) std::snprintf(accuracy, sizeof accuracy, "%.3f", *s.accuracy);
      std::cout << s.reader << "  " << s.confirmed << "  " << s.refuted << "  " << s.provisional << "  "
                << s.unconfirmed << "  " << accuracy << "\n";
    }
  };
  print("READER", scores->readers);
  print("MODEL", scores->models);
  return 0;
}

int Sweep(app::App& app, const core::Project& project, const WorkflowArgs& args) {
  auto sweep = app.SweepQuality(app::LocalOperator(), project.id);
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
  using ProjectBody = int (*)(app::App&, const core::Project&, const WorkflowArgs&);
  // The command's PROJECT (id or name) is found first.
  auto with_project = [&exit_code](ProjectBody body) {
    return [&exit_code, body] {
      auto app = OpenApp(args.common);
      if (!app.ok()) {
        exit_code = Fail(app.status());
        return;
      }
      auto project = FindProject(**app, args.project);
      exit_code = project.ok() ? body(**app, *project, args) : Fail(project.status());
    };
  };
  // A subcommand of `parent` whose first argument is PROJECT.
  auto project_command = [&](CLI::App* parent, const char* name, const char* help, ProjectBody body) {
    auto* cmd = parent->add_subcommand(name, help);
    AddCommonOptions(*cmd, args.common);
    cmd->add_option("project", args.project, "Project id or name")->required();
    cmd->callback(with_project(body));
    return cmd;
  };
  auto group = [&root](const char* name, const char* help) {
    auto* cmd = root.add_subcommand(name, help);
    cmd->require_subcommand(1);
    return cmd;
  };
  const char* kItems = "An item (repeatable); none = every item";

  auto* prelabels = group("prelabels", "Model pre-labels (suggestions readers decide on)");
  project_command(prelabels, "upload", "Store model predictions from a JSONL file as pre-labels", &UploadPrelabels)
      ->add_option("file", args.file, "JSONL: one {item_id, model, evidence, label, score?, scores?} per line")
      ->required();
  project_command(prelabels, "context",
                  "Run the ConText pre-labeller over the project's notes (terms from the published guideline)",
                  &RunContext)
      ->add_option("--item", args.items, "A note item (repeatable); none = every note of the project");
  auto* run = project_command(
      prelabels, "run", "Ask a model back-end for pre-labels of every item (or the --item ones), by the back-end protocol",
      &RunBackend);
  run->add_option("--backend", args.backend_url, "The back-end's http(s) URL")->required();
  run->add_option("--caliper-url", args.caliper_url, "How the back-end reaches this deployment's server (https://host:port)")
      ->required();
  run->add_option("--as", args.as_user, "The manager asking (the item tokens are theirs)")->required();
  run->add_option("--item", args.items, kItems);
  run->add_option("--token-minutes", args.token_minutes, "Lifetime of each item's fetch token (1..1440)")->default_val(15);
  project_command(prelabels, "stats",
                  "Per model version: decisions, acceptance rate, correction size, anchoring comparison", &PrelabelStats);

  auto* outcomes = group("outcomes", "Outcome events that confirm or refute labels later");
  auto* import = outcomes->add_subcommand("import", "Record outcome events from a CSV file");
  AddCommonOptions(*import, args.common);
  import->add_option("file", args.file, "CSV: item_id,patient_key,evidence_type,class,value,result,time")->required();
  import->add_option("--project", args.project, "Project id or name")->required();
  import->callback(with_project(&ImportOutcomes));
  project_command(outcomes, "labels",
                  "Every label that needs confirmation, with its status now (provisional, confirmed, ...)", &OutcomeLabels);
  project_command(outcomes, "scores", "Readers and model versions re-scored against confirmed truth", &OutcomeScores);

  auto* guideline = group("guideline", "Guideline versions: publish, diff, re-annotate, feedback");
  project_command(guideline, "publish",
                  "Publish a label schema (JSON, docs/label-schema.schema.json) as the next version; prints its impact",
                  &PublishGuideline)
      ->add_option("file", args.file, "The label schema: {\"classes\": [...], ...}")
      ->required();
  auto* diff = project_command(guideline, "diff", "What changed per class between two published versions", &Diff);
  diff->add_option("--from", args.from_version, "The old version (number or id; default: the one --to is based on)");
  diff->add_option("--to", args.to_version, "The new version (number or id; default: the version in force)");
  auto* reannotate = project_command(
      guideline, "reannotate", "Send every reading with a label the new version changed back to its reader", &Reannotate);
  reannotate->add_option("--to", args.to_version, "The version in force (number or id; default: the newest)");
  reannotate->add_option("--from", args.from_version, "The old version (default: the one --to is based on)");
  project_command(guideline, "feedback", "Reviewers' and adjudicators' guideline feedback, by class", &Feedback)
      ->add_option("--version", args.to_version, "Only feedback on this version (number or id; default: all)");

  auto* workflow = group("workflow", "A project's workflow settings (docs/workflow.md)");
  project_command(workflow, "show", "Print the workflow settings", &ShowWorkflow);
  project_command(workflow, "set",
                  "Change the settings FILE names (a JSON object, as PUT .../workflow; null = back to the default)",
                  &SetWorkflow)
      ->add_option("file", args.file, "JSON file of settings, or - for standard input")
      ->required();

  auto* tasks = group("tasks", "A project's reading tasks");
  project_command(tasks, "create",
                  "Top every item (or the --item ones) up to the settings' readers per item in open tasks", &CreateTasks)
      ->add_option("--item", args.items, kItems);
  project_command(tasks, "list", "List the project's tasks", &ListTasks)
      ->add_option("--state", args.state, "Only tasks in this state (open, claimed, submitted, ...)");

  auto* gold = group("gold", "Gold items: known answers mixed into readers' tasks");
  auto* gold_set = gold->add_subcommand(
      "set", "Mark an item as gold with the classes a correct reading names (none given = no class)");
  AddCommonOptions(*gold_set, args.common);
  gold_set->add_option("item", args.file, "Item id")->required();
  gold_set->add_option("classes", args.classes, "The answer's classes (ids of the current guideline)");
  gold_set->callback([&exit_code] {
    auto app = OpenApp(args.common);
    exit_code = app.ok() ? SetGold(**app, args) : Fail(app.status());
  });

  auto* quality = group("quality", "Stored quality figures of a project");
  project_command(quality, "sweep",
                  "Fit Dawid-Skene per class and run every QA rule now; store soft labels and findings", &Sweep);
}

}  // namespace caliper::cli

#pragma once

// What caliper_bench_export and caliper_bench_quality_report share: a fresh deployment in a
// temporary directory (App::Init + App::Open, in process, no HTTP) with one project of notes
// items (synth::MakeClinicalNotes), a published guideline, and every item read by `readers`
// annotators through the App (claim, document-level labels, submit).

#include <stdlib.h>

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "bench_support.h"
#include "caliper/app/app.h"
#include "caliper/synth/synthetic.h"

namespace caliper::bench {

struct ReadProject {
  std::string dir;  // the deployment's data directory (a fresh temporary directory)
  std::unique_ptr<app::App> app;
  std::string project_id;
  app::RequestContext manager, steward;
  std::int64_t readings = 0;
  double setup_s = 0;
};

// The classes reader `reader` (0-based) gives item number `item`: one label per class.
using LabelsOf = std::function<std::vector<std::string>(int item, int reader)>;

// `guideline_json` is the published guideline; `name` names the temporary directory and users.
inline ReadProject MakeReadProject(const std::string& name, int items, int readers, std::uint64_t seed,
                                   const std::string& guideline_json, const LabelsOf& labels_of) {
  namespace fs = std::filesystem;
  ReadProject out;
  std::string tmpl = (fs::temp_directory_path() / ("caliper-bench-" + name + "-XXXXXX")).string();
  if (::mkdtemp(tmpl.data()) == nullptr) Die("mkdtemp failed", 2);
  out.dir = tmpl;
  Config config;
  Check(app::App::Init(out.dir, config).status(), "App::Init");
  out.app = Must(app::App::Open(out.dir, config, {}), "App::Open");
  app::App& app = *out.app;
  const app::RequestContext admin = app::LocalOperator();

  const auto setup_start = std::chrono::steady_clock::now();
  const auto project = Must(app.CreateProject(admin, name + " bench", ""), "project");
  out.project_id = project.id;
  auto member = [&](const std::string& user_name, core::Role role) {
    app::NewUser spec;
    spec.username = user_name;
    spec.password = "export-bench-passphrase-7d2a";
    auto user = Must(app.CreateUser(admin, spec), "user " + user_name);
    Check(app.PutMember(admin, project.id, user.user.id, {role}, {core::DataType::kNotes}).status(),
          "member " + user_name);
    app::RequestContext ctx;
    ctx.principal.user = user.user;
    return ctx;
  };
  out.manager = member("bmanager", core::Role::kManager);
  out.steward = member("bsteward", core::Role::kDataSteward);
  std::vector<app::RequestContext> annotators;
  for (int r = 0; r < readers; ++r) annotators.push_back(member("breader" + std::to_string(r + 1), core::Role::kAnnotator));
  const auto draft = Must(app.CreateGuidelineDraft(out.manager, project.id, guideline_json), "guideline");
  Check(app.PublishGuideline(out.manager, project.id, draft.id, draft.revision).status(), "publish");
  core::WorkflowSettings settings;
  settings.project_id = project.id;
  settings.readers_per_item = readers;
  Check(app.PutWorkflowSettings(out.manager, settings).status(), "workflow settings");

  std::map<std::string, int> index_of;  // item id -> its number
  {
    const auto notes = synth::MakeClinicalNotes(items, seed);
    for (const auto& note : notes) {
      app::NewItem spec;
      spec.data_type = core::DataType::kNotes;
      spec.patient_key = note.patient;
      spec.content_type = "text/plain";
      std::istringstream in(note.text);
      const auto item = Must(app.CreateItem(admin, project.id, spec, in), "item");
      index_of[item.id] = static_cast<int>(index_of.size());
    }
  }
  Check(app.CreateTasks(out.manager, project.id, {}).status(), "tasks");
  for (int r = 0; r < readers; ++r) {
    for (;;) {
      auto task = Must(app.ClaimNextTask(annotators[r], project.id), "claim");
      if (!task) break;
      for (const auto& label_class : labels_of(index_of.at(task->item_id), r)) {
        core::Annotation a;
        a.evidence_kind = "document";
        a.evidence_json = "{}";
        a.label_class = label_class;
        a.confidence = 0.9;
        Check(app.CreateAnnotation(annotators[r], task->item_id, a).status(), "label");
      }
      Check(app.SubmitTask(annotators[r], project.id, task->id).status(), "submit");
      ++out.readings;
    }
  }
  out.setup_s = SecondsSince(setup_start);
  return out;
}

// Closes the deployment and removes its directory.
inline void RemoveReadProject(ReadProject& project) {
  project.app.reset();
  std::error_code ignored;
  std::filesystem::remove_all(project.dir, ignored);
}

}  // namespace caliper::bench

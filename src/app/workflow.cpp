// The labelling workflow: guideline versions, workflow settings, tasks (claim, lease, submit),
// review and adjudication. Every task state change goes through core::TaskTransition and is
// an audit event committed with the change. docs/workflow.md describes the flow.

#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "app/mask_evidence.h"
#include "caliper/app/app.h"
#include "caliper/common/random.h"
#include "caliper/core/rules.h"
#include "app/disagreement.h"
#include "app/workflow_internal.h"

namespace caliper::app {
namespace {

using nlohmann::json;
using security::AuditRecord;
using storage::TxnMode;
using internal::AllAnnotations;
using internal::Contains;
using internal::IsReading;

// How often a claim retries when another writer changed the chosen task first (a backend
// without serialised writers); SQLite serialises writers, so the first attempt wins there.
constexpr int kClaimAttempts = 3;

bool Holds(const std::vector<core::Role>& roles, core::Role role) {
  return std::find(roles.begin(), roles.end(), role) != roles.end();
}

// A new label made from `source` (correction or adjudication): new id and author, revision 1.
core::Annotation DerivedLabel(const core::Annotation& source, const std::string& id, const std::string& author,
                              TimeMicros now) {
  core::Annotation a = source;
  a.id = id;
  a.author = author;
  a.guideline_version_id.clear();
  a.revision = 1;
  a.created_at = a.updated_at = now;
  return a;
}

}  // namespace

// ---- helpers -----------------------------------------------------------------------------------

Result<std::vector<internal::ClassReading>> internal::ProjectReadings(storage::Transaction& txn, const core::Item& first) {
  CALIPER_ASSIGN_OR_RETURN(auto items, internal::AllPages<core::Item>(
                                           [&](const storage::PageRequest& p) { return txn.ListItems(first.project_id, p); }));
  std::stable_partition(items.begin(), items.end(), [&](const core::Item& i) { return i.id == first.id; });
  std::vector<internal::ClassReading> out;
  for (const auto& item : items) {
    CALIPER_ASSIGN_OR_RETURN(auto tasks, txn.ListTasksOfItem(item.id));
    std::erase_if(tasks, [](const core::Task& t) { return t.assignee.empty() || !IsReading(t.state); });
    if (tasks.empty()) continue;
    CALIPER_ASSIGN_OR_RETURN(auto labels, AllAnnotations(txn, item.id));
    for (const auto& t : tasks) {
      internal::ClassReading r{item.id, t.assignee, {}};
      for (const auto& a : internal::ReaderLabels(t, labels)) {
        if (a.assertion != core::Assertion::kAbsent) r.classes.insert(a.label_class);
      }
      out.push_back(std::move(r));
    }
  }
  return out;
}

Result<AuditRecord> App::StepTask(const RequestContext& ctx, core::Task& task, core::TaskEvent event,
                                  const std::string& details_json) const {
  const core::TaskState from = task.state;
  CALIPER_ASSIGN_OR_RETURN(task.state, core::TaskTransition(from, event));
  json details = json::parse(details_json);
  details["item_id"] = task.item_id;
  details["from"] = core::ToString(from);
  details["to"] = core::ToString(task.state);
  return Record(ctx, "task." + std::string(core::ToString(event)), "task", task.id, details.dump());
}

Result<core::LabelClass> App::PinToGuideline(storage::Transaction& txn, core::Annotation& a, const core::Item& item,
                                             const std::string& mask_owner) {
  CALIPER_ASSIGN_OR_RETURN(auto current, internal::PublishedGuideline(txn, item.project_id, "labels need one"));
  if (!a.guideline_version_id.empty() && a.guideline_version_id != current.id) {
    return Error(ErrorCode::kConflict, "guideline version " + std::to_string(current.version) +
                                           " is in force now; reload it and label again");
  }
  CALIPER_ASSIGN_OR_RETURN(core::LabelSchema schema, core::ParseLabelSchema(current.schema_json));
  const core::LabelClass* cls = schema.Find(a.label_class);
  if (cls == nullptr) {
    std::string known;
    for (const auto& c : schema.classes) known += (known.empty() ? "" : ", ") + c.id;
    return Error(ErrorCode::kInvalidArgument, "label class '" + a.label_class + "' is not in guideline version " +
                                                  std::to_string(current.version) + " (classes: " + known + ")");
  }
  if (!cls->data_types.empty() && !Contains(cls->data_types, item.data_type)) {
    return Error(ErrorCode::kInvalidArgument, "label class '" + a.label_class + "' does not apply to " +
                                                  std::string(core::ToString(item.data_type)) + " items");
  }
  CALIPER_RETURN_IF_ERROR(CheckTextLabel(txn, a, item, schema, *cls));
  CALIPER_RETURN_IF_ERROR(CheckMaskEvidence(txn, a, item, *cls, mask_owner.empty() ? a.author : mask_owner));
  a.guideline_version_id = current.id;
  return *cls;
}

Status App::TouchReaderTask(storage::Transaction& txn, const RequestContext& ctx, const core::Item& item,
                            core::Annotation& a) {
  CALIPER_ASSIGN_OR_RETURN(auto tasks, txn.ListTasksOfItem(item.id));
  CALIPER_ASSIGN_OR_RETURN(auto repeat, internal::RepeatInProgress(txn, item.id, ctx.principal.user.id));
  if (repeat) tasks = {*repeat};  // a repeat read in progress takes the reader's labels
  for (core::Task& t : tasks) {
    if (t.assignee != ctx.principal.user.id) continue;
    if (t.state != core::TaskState::kClaimed) {
      return Error(ErrorCode::kConflict, "your task on this item is " + std::string(core::ToString(t.state)) +
                                             "; labels change only while it is claimed");
    }
    const TimeMicros now = clock_.Now();
    if (t.lease_expires_at) {
      if (*t.lease_expires_at <= now) {
        return Error(ErrorCode::kConflict, "your lease on this task has expired; claim a task again");
      }
      CALIPER_ASSIGN_OR_RETURN(core::WorkflowSettings settings, SettingsOf(txn, item.project_id));
      const std::int64_t expected = t.revision;
      t.lease_expires_at = now + settings.lease_minutes * kMicrosPerMinute;
      t.revision = expected + 1;
      t.updated_at = now;
      CALIPER_RETURN_IF_ERROR(txn.UpdateTask(t, expected));
    }
    a.task_id = t.id;
    return Status::Ok();
  }
  return Status::Ok();  // not a reader of this item (no task): nothing to link
}

Result<core::WorkflowSettings> App::SettingsOf(storage::Transaction& txn, const std::string& project_id) {
  auto stored = txn.GetWorkflowSettings(project_id);
  if (stored.ok() || stored.status().code() != ErrorCode::kNotFound) return stored;
  core::WorkflowSettings defaults;
  defaults.project_id = project_id;
  return defaults;
}

// ---- guidelines ----------------------------------------------------------------------------------

Result<core::GuidelineVersion> App::CreateGuidelineDraft(const RequestContext& ctx, const std::string& project_id,
                                                         const std::string& schema_json) {
  CALIPER_ASSIGN_OR_RETURN(std::string canonical, core::CanonicalLabelSchema(schema_json));
  core::GuidelineVersion g;
  g.id = ids_.NewId("gdl");
  g.project_id = project_id;
  g.schema_json = std::move(canonical);
  g.created_at = clock_.Now();
  g.created_by = ctx.actor();
  CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kWrite));
  auto current = txn->GetCurrentGuideline(project_id);
  if (current.ok()) g.based_on = current->id;
  Status inserted = txn->InsertGuidelineVersion(g);
  if (inserted.code() == ErrorCode::kAlreadyExists) {
    return Error(ErrorCode::kConflict, "the project has a draft already; edit it or publish it first");
  }
  CALIPER_RETURN_IF_ERROR(inserted);
  CALIPER_RETURN_IF_ERROR(
      CommitWithAudit(*txn, Record(ctx, "guideline.create", "guideline_version", g.id, internal::GuidelineDetails(g).dump())));
  return g;
}

Result<storage::Page<core::GuidelineVersion>> App::ListGuidelines(const RequestContext& ctx,
                                                                  const std::string& project_id,
                                                                  const storage::PageRequest& page) {
  (void)ctx;
  CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kRead));
  return txn->ListGuidelineVersions(project_id, page);
}

Result<core::GuidelineVersion> App::GetGuideline(const RequestContext& ctx, const std::string& project_id,
                                                 const std::string& id) {
  (void)ctx;
  CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kRead));
  auto g = txn->GetGuidelineVersion(id);
  if (!g.ok() || g->project_id != project_id) return Error(ErrorCode::kNotFound, "no such guideline version");
  return g;
}

Result<GuidelineEdit> App::EditGuideline(const RequestContext& ctx, const std::string& project_id,
                                         const std::string& id, std::int64_t expected_revision,
                                         const std::string& schema_json) {
  CALIPER_ASSIGN_OR_RETURN(std::string canonical, core::CanonicalLabelSchema(schema_json));
  CALIPER_ASSIGN_OR_RETURN(core::GuidelineVersion g, GetGuideline(ctx, project_id, id));
  if (g.status == core::GuidelineStatus::kPublished) {
    // Published versions never change: the edit becomes a new draft based on this one.
    CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kWrite));
    core::GuidelineVersion draft;
    draft.id = ids_.NewId("gdl");
    draft.project_id = project_id;
    draft.schema_json = std::move(canonical);
    draft.based_on = g.id;
    draft.created_at = clock_.Now();
    draft.created_by = ctx.actor();
    Status inserted = txn->InsertGuidelineVersion(draft);
    if (inserted.code() == ErrorCode::kAlreadyExists) {
      return Error(ErrorCode::kConflict, "the project has a draft already; edit it instead");
    }
    CALIPER_RETURN_IF_ERROR(inserted);
    CALIPER_RETURN_IF_ERROR(CommitWithAudit(
        *txn, Record(ctx, "guideline.create", "guideline_version", draft.id, internal::GuidelineDetails(draft).dump())));
    return GuidelineEdit{draft, true};
  }
  CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kWrite));
  g.schema_json = std::move(canonical);
  g.revision = expected_revision + 1;
  CALIPER_RETURN_IF_ERROR(txn->UpdateGuidelineVersion(g, expected_revision));
  CALIPER_RETURN_IF_ERROR(
      CommitWithAudit(*txn, Record(ctx, "guideline.update", "guideline_version", g.id, internal::GuidelineDetails(g).dump())));
  return GuidelineEdit{g, false};
}

Result<core::GuidelineVersion> App::PublishGuideline(const RequestContext& ctx, const std::string& project_id,
                                                     const std::string& id, std::int64_t expected_revision) {
  CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kWrite));
  auto found = txn->GetGuidelineVersion(id);
  if (!found.ok() || found->project_id != project_id) return Error(ErrorCode::kNotFound, "no such guideline version");
  core::GuidelineVersion g = *found;
  if (g.status == core::GuidelineStatus::kPublished) {
    return Error(ErrorCode::kConflict, "version " + std::to_string(g.version) + " is published already");
  }
  int number = 1;
  auto current = txn->GetCurrentGuideline(project_id);
  if (current.ok()) {
    number = current->version + 1;
  } else if (current.status().code() != ErrorCode::kNotFound) {
    return current.status();
  }
  g.status = core::GuidelineStatus::kPublished;
  g.version = number;
  g.published_at = clock_.Now();
  g.revision = expected_revision + 1;
  CALIPER_RETURN_IF_ERROR(txn->UpdateGuidelineVersion(g, expected_revision));
  CALIPER_RETURN_IF_ERROR(
      CommitWithAudit(*txn, Record(ctx, "guideline.publish", "guideline_version", g.id, internal::GuidelineDetails(g).dump())));
  return g;
}

Result<GuidelineDiff> App::DiffGuidelines(const RequestContext& ctx, const std::string& project_id,
                                          const std::string& from_id, const std::string& to_id) {
  GuidelineDiff diff;
  CALIPER_ASSIGN_OR_RETURN(diff.from, GetGuideline(ctx, project_id, from_id));
  CALIPER_ASSIGN_OR_RETURN(diff.to, GetGuideline(ctx, project_id, to_id));
  CALIPER_ASSIGN_OR_RETURN(auto from, core::ParseLabelSchema(diff.from.schema_json));
  CALIPER_ASSIGN_OR_RETURN(auto to, core::ParseLabelSchema(diff.to.schema_json));
  diff.classes = core::DiffLabelSchemas(from, to);
  return diff;
}

Result<GuidelineImpact> App::GuidelineImpactOf(const RequestContext& ctx, const std::string& project_id,
                                               const std::string& to_id, std::string from_id) {
  if (from_id.empty()) {
    CALIPER_ASSIGN_OR_RETURN(core::GuidelineVersion to, GetGuideline(ctx, project_id, to_id));
    if (to.based_on.empty()) {
      return Error(ErrorCode::kInvalidArgument, "from: this version is based on none; name the version to compare with");
    }
    from_id = to.based_on;
  }
  GuidelineImpact out;
  CALIPER_ASSIGN_OR_RETURN(out.diff, DiffGuidelines(ctx, project_id, from_id, to_id));
  std::map<std::string, std::string> changed;  // class -> change
  for (const auto& c : out.diff.classes) {
    if (c.change != "added") changed[c.id] = c.change;
  }
  if (!changed.empty()) {
    CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kRead));
    CALIPER_ASSIGN_OR_RETURN(auto items, internal::AllPages<core::Item>(
                                             [&](const storage::PageRequest& p) { return txn->ListItems(project_id, p); }));
    for (const auto& item : items) {
      CALIPER_ASSIGN_OR_RETURN(auto labels, AllAnnotations(*txn, item.id));
      for (auto& a : labels) {
        const auto change = changed.find(a.label_class);
        if (a.guideline_version_id != from_id || change == changed.end()) continue;
        out.labels.push_back({std::move(a), change->second});
      }
    }
  }
  CALIPER_RETURN_IF_ERROR(Audit(Record(ctx, "guideline.impact", "guideline_version", to_id,
                                       json{{"project_id", project_id}, {"from", from_id},
                                            {"labels", out.labels.size()}}.dump())));
  return out;
}

Result<ReannotationReport> App::ReannotateImpacted(const RequestContext& ctx, const std::string& project_id,
                                                   const std::string& to_id, const std::string& from_id) {
  ReannotationReport out;
  CALIPER_ASSIGN_OR_RETURN(out.impact, GuidelineImpactOf(ctx, project_id, to_id, from_id));
  CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kWrite));
  CALIPER_ASSIGN_OR_RETURN(core::GuidelineVersion current,
                           internal::PublishedGuideline(*txn, project_id, "re-annotation is under one"));
  if (current.id != to_id) {
    return Error(ErrorCode::kConflict, "readings are re-annotated under the version in force (version " +
                                           std::to_string(current.version) + "); publish this one first");
  }
  std::map<std::string, std::vector<std::string>> labels_of_task;  // task -> its impacted labels
  for (const auto& l : out.impact.labels) {
    const core::Annotation& a = l.annotation;
    if (a.task_id.empty()) {
      out.skipped.push_back({"", a.id, "not made in a task"});
      continue;
    }
    labels_of_task[a.task_id].push_back(a.id);
  }
  std::vector<AuditRecord> records;
  const TimeMicros now = clock_.Now();
  for (const auto& [task_id, label_ids] : labels_of_task) {
    CALIPER_ASSIGN_OR_RETURN(core::Task task, txn->GetTask(task_id));
    auto skip = [&](const std::string& reason) {
      for (const auto& id : label_ids) out.skipped.push_back({task_id, id, reason});
    };
    if (task.kind == core::TaskKind::kRepeat) {
      skip("a repeat read measures its reader under the version it was made under; it is not re-annotated");
      continue;
    }
    if (task.assignee.empty() || task.state == core::TaskState::kOpen || task.state == core::TaskState::kClaimed ||
        task.state == core::TaskState::kRejected) {
      skip("the reading is still in progress; it is labelled under the version in force when saved");
      continue;
    }
    const std::int64_t expected = task.revision;
    CALIPER_ASSIGN_OR_RETURN(
        auto step, StepTask(ctx, task, core::TaskEvent::kReannotate,
                            json{{"guideline_version_id", to_id}, {"version", current.version}, {"labels", label_ids}}
                                .dump()));
    task.lease_expires_at.reset();  // assigned back to its reader: it never returns to the pool
    task.revision = expected + 1;
    task.updated_at = now;
    CALIPER_RETURN_IF_ERROR(txn->UpdateTask(task, expected));
    records.push_back(std::move(step));
    out.reopened.push_back(std::move(task));
  }
  if (!records.empty()) CALIPER_RETURN_IF_ERROR(CommitWithAudit(*txn, records));
  return out;
}

// ---- settings and tasks ------------------------------------------------------------------------

Result<core::WorkflowSettings> App::GetWorkflowSettings(const RequestContext& ctx, const std::string& project_id) {
  (void)ctx;
  CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kRead));
  return SettingsOf(*txn, project_id);
}

Status internal::ValidateWorkflowSettings(const core::WorkflowSettings& settings) {
  if (settings.readers_per_item < 1 || settings.readers_per_item > 20) {
    return Error(ErrorCode::kInvalidArgument, "readers_per_item must be 1 to 20");
  }
  if (settings.lease_minutes < 1 || settings.lease_minutes > 7 * 24 * 60) {
    return Error(ErrorCode::kInvalidArgument, "lease_minutes must be 1 to 10080 (a week)");
  }
  if (!(settings.prelabel_hidden_share >= 0 && settings.prelabel_hidden_share <= 1)) {
    return Error(ErrorCode::kInvalidArgument, "prelabel_hidden_share must be between 0 and 1");
  }
  if (!(settings.gold_rate >= 0 && settings.gold_rate <= 1)) {
    return Error(ErrorCode::kInvalidArgument, "gold_rate must be between 0 and 1");
  }
  if (!(settings.review_rate >= 0 && settings.review_rate <= 1)) {
    return Error(ErrorCode::kInvalidArgument, "review_rate must be between 0 and 1");
  }
  if (!(settings.repeat_rate >= 0 && settings.repeat_rate <= 1)) {
    return Error(ErrorCode::kInvalidArgument, "repeat_rate must be between 0 and 1");
  }
  if (settings.washout_days < 0 || settings.washout_days > 3650) {
    return Error(ErrorCode::kInvalidArgument, "washout_days must be 0 to 3650");
  }
  if (settings.washout_readings < 0 || settings.washout_readings > 100000) {
    return Error(ErrorCode::kInvalidArgument, "washout_readings must be 0 to 100000");
  }
  if (settings.repeat_rate > 0 && settings.washout_days == 0 && settings.washout_readings == 0) {
    return Error(ErrorCode::kInvalidArgument,
                 "repeat reads need a wash-out: set washout_days or washout_readings (or both)");
  }
  return Status::Ok();
}

security::AuditRecord App::WorkflowUpdateRecord(const RequestContext& ctx, const core::WorkflowSettings& settings) const {
  json types = json::array();
  for (auto t : settings.data_types) types.push_back(core::ToString(t));
  return Record(ctx, "workflow.update", "project", settings.project_id,
                json{{"readers_per_item", settings.readers_per_item},
                     {"required_qualification", settings.required_qualification
                                                    ? json(core::ToString(*settings.required_qualification))
                                                    : json(nullptr)},
                     {"data_types", types},
                     {"lease_minutes", settings.lease_minutes},
                     {"task_order", core::ToString(settings.task_order)},
                     {"prelabel_hidden_share", settings.prelabel_hidden_share},
                     {"gold_rate", settings.gold_rate},
                     {"review_rate", settings.review_rate},
                     {"repeat_rate", settings.repeat_rate},
                     {"washout_days", settings.washout_days},
                     {"washout_readings", settings.washout_readings}}.dump());
}

Result<core::WorkflowSettings> App::PutWorkflowSettings(const RequestContext& ctx, core::WorkflowSettings settings) {
  CALIPER_RETURN_IF_ERROR(internal::ValidateWorkflowSettings(settings));
  settings.updated_at = clock_.Now();
  CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kWrite));
  CALIPER_RETURN_IF_ERROR(txn->PutWorkflowSettings(settings));
  CALIPER_RETURN_IF_ERROR(CommitWithAudit(*txn, WorkflowUpdateRecord(ctx, settings)));
  return settings;
}

Result<core::GoldItem> App::SetGoldItem(const RequestContext& ctx, const std::string& item_id,
                                        std::vector<std::string> answer) {
  CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kWrite));
  CALIPER_ASSIGN_OR_RETURN(core::Item item, txn->GetItem(item_id));
  CALIPER_ASSIGN_OR_RETURN(auto current,
                           internal::PublishedGuideline(*txn, item.project_id, "gold answers name its classes"));
  CALIPER_ASSIGN_OR_RETURN(core::LabelSchema schema, core::ParseLabelSchema(current.schema_json));
  std::sort(answer.begin(), answer.end());
  answer.erase(std::unique(answer.begin(), answer.end()), answer.end());
  for (std::size_t i = 0; i < answer.size(); ++i) {
    if (schema.Find(answer[i]) == nullptr) {
      return Error(ErrorCode::kInvalidArgument, "answers: class '" + answer[i] + "' is not in guideline version " +
                                                    std::to_string(current.version));
    }
  }
  core::GoldItem gold{item.id, item.project_id, std::move(answer), ctx.principal.user.id, clock_.Now()};
  CALIPER_RETURN_IF_ERROR(txn->PutGoldItem(gold));
  CALIPER_RETURN_IF_ERROR(CommitWithAudit(*txn, Record(ctx, "item.gold", "item", item.id,
                                                       json{{"project_id", item.project_id},
                                                            {"classes", gold.answer.size()}}.dump())));
  return gold;
}

Result<std::vector<core::Task>> App::CreateTasks(const RequestContext& ctx, const std::string& project_id,
                                                 const std::vector<std::string>& item_ids) {
  CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kWrite));
  CALIPER_ASSIGN_OR_RETURN(core::WorkflowSettings settings, SettingsOf(*txn, project_id));
  std::vector<core::Item> items;
  if (item_ids.empty()) {
    storage::PageRequest page;
    page.limit = 500;
    for (;;) {
      CALIPER_ASSIGN_OR_RETURN(auto rows, txn->ListItems(project_id, page));
      for (auto& item : rows.rows) {
        if (settings.data_types.empty() || Contains(settings.data_types, item.data_type)) items.push_back(item);
      }
      if (rows.next.empty()) break;
      page.after = rows.next;
    }
  } else {
    for (const auto& id : item_ids) {
      auto item = txn->GetItem(id);
      if (!item.ok() || item->project_id != project_id) return Error(ErrorCode::kNotFound, "no item " + id + " here");
      if (!settings.data_types.empty() && !Contains(settings.data_types, item->data_type)) {
        return Error(ErrorCode::kInvalidArgument, "item " + id + " is " +
                                                      std::string(core::ToString(item->data_type)) +
                                                      ", outside the project's task data types");
      }
      items.push_back(*item);
    }
  }
  std::vector<core::Task> created;
  const TimeMicros now = clock_.Now();
  for (const auto& item : items) {
    CALIPER_ASSIGN_OR_RETURN(auto existing, txn->ListTasksOfItem(item.id));
    for (auto n = static_cast<int>(existing.size()); n < settings.readers_per_item; ++n) {
      core::Task t;
      t.id = ids_.NewId("tsk");
      t.project_id = project_id;
      t.item_id = item.id;
      t.revision = 1;
      t.created_at = t.updated_at = now;
      CALIPER_RETURN_IF_ERROR(txn->InsertTask(t));
      created.push_back(std::move(t));
    }
  }
  CALIPER_RETURN_IF_ERROR(CommitWithAudit(
      *txn, Record(ctx, "task.create", "project", project_id,
                   json{{"items", items.size()}, {"tasks", created.size()},
                        {"readers_per_item", settings.readers_per_item}}.dump())));
  return created;
}

Result<storage::Page<core::Task>> App::ListTasks(const RequestContext& ctx, const std::string& project_id,
                                                 std::optional<core::TaskState> state,
                                                 const storage::PageRequest& page) {
  CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kRead));
  storage::TaskFilter filter{project_id, std::nullopt, state};
  // Blinding: a reader learns nothing of other readers' tasks.
  if (IsBlinded(*txn, ctx, project_id, security::Permission::kAnnotationRead)) filter.assignee = ctx.principal.user.id;
  return txn->ListTasks(filter, page);
}

Result<core::Task> App::GetTask(const RequestContext& ctx, const std::string& project_id, const std::string& task_id) {
  CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kRead));
  auto task = txn->GetTask(task_id);
  if (!task.ok() || task->project_id != project_id ||
      (task->assignee != ctx.principal.user.id && IsBlinded(*txn, ctx, project_id, security::Permission::kAnnotationRead))) {
    return Error(ErrorCode::kNotFound, "no such task");
  }
  return task;
}

Result<std::vector<core::Review>> App::ListTaskReviews(const RequestContext& ctx, const std::string& project_id,
                                                       const std::string& task_id) {
  CALIPER_ASSIGN_OR_RETURN(core::Task task, GetTask(ctx, project_id, task_id));
  std::vector<core::Review> reviews;
  {
    CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kRead));
    CALIPER_ASSIGN_OR_RETURN(reviews, txn->ListReviewsOfTask(task.id));
  }
  CALIPER_RETURN_IF_ERROR(
      Audit(Record(ctx, "review.list", "task", task.id, json{{"reviews", reviews.size()}}.dump())));
  return reviews;
}

Result<std::optional<core::Task>> App::ClaimNextTask(const RequestContext& ctx, const std::string& project_id) {
  const std::string& me = ctx.principal.user.id;
  for (int attempt = 1;; ++attempt) {
    CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kWrite));
    CALIPER_ASSIGN_OR_RETURN(core::WorkflowSettings settings, SettingsOf(*txn, project_id));
    CALIPER_ASSIGN_OR_RETURN(core::User user, txn->GetUser(me));
    if (settings.required_qualification && !Contains(user.qualifications, *settings.required_qualification)) {
      return Error(ErrorCode::kPermissionDenied, "this project's tasks need the '" +
                                                     std::string(core::ToString(*settings.required_qualification)) +
                                                     "' qualification");
    }
    CALIPER_ASSIGN_OR_RETURN(core::Membership member, txn->GetMembership(project_id, me));
    std::vector<AuditRecord> records;
    core::Task task;
    // A rejected reading goes back to its reader before anything new.
    storage::PageRequest one;
    one.limit = 1;
    CALIPER_ASSIGN_OR_RETURN(auto rejected, txn->ListTasks({project_id, me, core::TaskState::kRejected}, one));
    std::optional<core::Task> repeat;
    if (rejected.rows.empty()) {
      CALIPER_ASSIGN_OR_RETURN(repeat, DueRepeat(*txn, project_id, me, member));
    }
    if (!rejected.rows.empty()) {
      task = rejected.rows.front();
      CALIPER_ASSIGN_OR_RETURN(auto step, StepTask(ctx, task, core::TaskEvent::kReopen));
      records.push_back(std::move(step));
    } else if (repeat) {  // a repeat read whose wash-out has passed comes next
      task = std::move(*repeat);
      if (task.state == core::TaskState::kClaimed) {
        CALIPER_ASSIGN_OR_RETURN(auto step, StepTask(ctx, task, core::TaskEvent::kLeaseExpire,
                                                     json{{"previous_assignee", task.assignee}}.dump()));
        records.push_back(std::move(step));
      }
    } else {
      std::vector<core::DataType> scopes;
      for (auto t : member.scopes) {
        if (settings.data_types.empty() || Contains(settings.data_types, t)) scopes.push_back(t);
      }
      const TimeMicros now = clock_.Now();
      // kRandom: a fresh permutation per claim, drawn from the reader and the time.
      const std::uint64_t seed = SplitMix64(std::hash<std::string>{}(me) ^ static_cast<std::uint64_t>(now) ^
                                            static_cast<std::uint64_t>(attempt));
      // Gold items first on a gold_rate share of claims, drawn from the same seed.
      const double draw = static_cast<double>(SplitMix64(seed) >> 11) * 0x1.0p-53;  // [0, 1)
      auto found = txn->FindClaimableTask(project_id, me, scopes, now, settings.task_order, seed,
                                          draw < settings.gold_rate);
      if (!found.ok()) {
        if (found.status().code() == ErrorCode::kNotFound) return std::optional<core::Task>();
        return found.status();
      }
      task = *found;
      if (task.state == core::TaskState::kClaimed) {  // its lease ran out: back to the pool first
        CALIPER_ASSIGN_OR_RETURN(auto step, StepTask(ctx, task, core::TaskEvent::kLeaseExpire,
                                                     json{{"previous_assignee", task.assignee}}.dump()));
        records.push_back(std::move(step));
      }
    }
    CALIPER_ASSIGN_OR_RETURN(auto claim, StepTask(ctx, task, core::TaskEvent::kClaim));
    records.push_back(std::move(claim));
    const std::int64_t expected = task.revision;
    const TimeMicros now = clock_.Now();
    task.assignee = me;
    task.lease_expires_at = now + settings.lease_minutes * kMicrosPerMinute;
    task.revision = expected + 1;
    task.updated_at = now;
    Status updated = txn->UpdateTask(task, expected);
    if ((updated.code() == ErrorCode::kPreconditionFailed || updated.code() == ErrorCode::kAlreadyExists) &&
        attempt < kClaimAttempts) {
      continue;  // another writer took it first; look again
    }
    CALIPER_RETURN_IF_ERROR(updated);
    CALIPER_RETURN_IF_ERROR(CommitWithAudit(*txn, records));
    return std::optional<core::Task>(task);
  }
}

Result<core::Task> App::ReleaseTask(const RequestContext& ctx, const std::string& project_id,
                                    const std::string& task_id) {
  CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kWrite));
  auto found = txn->GetTask(task_id);
  if (!found.ok() || found->project_id != project_id || found->assignee != ctx.principal.user.id) {
    return Error(ErrorCode::kNotFound, "no such task of yours");
  }
  core::Task task = *found;
  if (task.state == core::TaskState::kClaimed && !task.lease_expires_at) {
    return Error(ErrorCode::kConflict, "a manager assigned this task to you; it is not released to the pool");
  }
  const std::int64_t expected = task.revision;
  CALIPER_ASSIGN_OR_RETURN(auto step, StepTask(ctx, task, core::TaskEvent::kRelease));
  if (task.kind == core::TaskKind::kReading) task.assignee.clear();  // a repeat stays its reader's
  task.lease_expires_at.reset();
  task.revision = expected + 1;
  task.updated_at = clock_.Now();
  CALIPER_RETURN_IF_ERROR(txn->UpdateTask(task, expected));
  CALIPER_RETURN_IF_ERROR(CommitWithAudit(*txn, step));
  return task;
}

Result<core::Task> App::SubmitTask(const RequestContext& ctx, const std::string& project_id,
                                   const std::string& task_id) {
  CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kWrite));
  std::vector<AuditRecord> records;
  CALIPER_ASSIGN_OR_RETURN(core::Task task, SubmitIn(*txn, ctx, project_id, task_id, records));
  CALIPER_RETURN_IF_ERROR(CommitWithAudit(*txn, records));
  return task;
}

Result<App::SubmitReply> App::SubmitTaskOnce(const RequestContext& ctx, const std::string& project_id,
                                             const std::string& task_id, const std::string& key,
                                             const std::function<std::string(const core::Task&)>& render) {
  if (key.empty() || key.size() > 200) {
    return Error(ErrorCode::kInvalidArgument, "Idempotency-Key must be 1 to 200 characters");
  }
  const std::string scope = "submit " + task_id;
  CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kWrite));
  auto kept = txn->GetIdempotentReply(ctx.principal.user.id, key);
  if (kept.ok()) {
    if (kept->scope != scope) {
      return Error(ErrorCode::kConflict, "this Idempotency-Key was used for another request; send a new key");
    }
    return SubmitReply{kept->body, true};
  }
  if (kept.status().code() != ErrorCode::kNotFound) return kept.status();
  std::vector<AuditRecord> records;
  CALIPER_ASSIGN_OR_RETURN(core::Task task, SubmitIn(*txn, ctx, project_id, task_id, records));
  SubmitReply reply{render(task), false};
  CALIPER_RETURN_IF_ERROR(
      txn->InsertIdempotentReply({ctx.principal.user.id, key, scope, 200, reply.body, clock_.Now()}));
  CALIPER_RETURN_IF_ERROR(CommitWithAudit(*txn, records));
  return reply;
}

Result<core::Task> App::SubmitIn(storage::Transaction& txn, const RequestContext& ctx, const std::string& project_id,
                                 const std::string& task_id, std::vector<AuditRecord>& records) {
  auto found = txn.GetTask(task_id);
  if (!found.ok() || found->project_id != project_id || found->assignee != ctx.principal.user.id) {
    return Error(ErrorCode::kNotFound, "no such task of yours");
  }
  core::Task task = *found;
  const TimeMicros now = clock_.Now();
  if (task.state == core::TaskState::kClaimed && task.lease_expires_at && *task.lease_expires_at <= now) {
    return Error(ErrorCode::kConflict, "your lease on this task has expired; claim a task again");
  }
  CALIPER_ASSIGN_OR_RETURN(auto labels, AllAnnotations(txn, task.item_id));
  const auto mine = std::count_if(labels.begin(), labels.end(), [&](const core::Annotation& a) {
    return a.task_id == task.id && a.author == ctx.principal.user.id;
  });
  const std::int64_t expected = task.revision;
  CALIPER_ASSIGN_OR_RETURN(auto step, StepTask(ctx, task, core::TaskEvent::kSubmit, json{{"labels", mine}}.dump()));
  if (mine == 0) {
    return Error(ErrorCode::kInvalidArgument,
                 "a reading needs at least one label (record an absent finding with assertion 'absent')");
  }
  task.lease_expires_at.reset();
  task.revision = expected + 1;
  task.updated_at = now;
  CALIPER_RETURN_IF_ERROR(txn.UpdateTask(task, expected));
  records.push_back(std::move(step));
  if (task.kind == core::TaskKind::kReading) {  // a repeat is measured against its reader, not decided
    CALIPER_RETURN_IF_ERROR(SettleReadings(txn, ctx, task, records));
    CALIPER_RETURN_IF_ERROR(ScheduleRepeat(txn, ctx, task, records));
  }
  CALIPER_RETURN_IF_ERROR(RecordItemQa(txn, ctx, task.item_id, records));
  return task;
}

int internal::ReadersNeeded(const core::WorkflowSettings& settings, const core::LabelSchema& schema,
                  const std::vector<core::Annotation>& reading_labels, std::string& why) {
  int needed = settings.readers_per_item;
  for (const auto& a : reading_labels) {
    const core::LabelClass* cls = schema.Find(a.label_class);
    if (cls == nullptr || !cls->readers || a.assertion == core::Assertion::kAbsent || *cls->readers <= needed) continue;
    needed = *cls->readers;
    why = cls->id;
  }
  return needed;
}

double internal::ReviewRateOf(const core::WorkflowSettings& settings, const core::LabelSchema& schema,
                    const std::vector<core::Annotation>& labels) {
  std::optional<double> rate;
  for (const auto& a : labels) {
    const core::LabelClass* cls = schema.Find(a.label_class);
    if (cls == nullptr) continue;
    const double r = cls->review_rate ? *cls->review_rate : cls->required_qualification ? 1.0 : settings.review_rate;
    rate = std::max(rate.value_or(0.0), r);
  }
  return rate.value_or(settings.review_rate);
}

Status App::SettleReadings(storage::Transaction& txn, const RequestContext& ctx, core::Task& submitted,
                           std::vector<AuditRecord>& records) {
  CALIPER_ASSIGN_OR_RETURN(core::WorkflowSettings settings, SettingsOf(txn, submitted.project_id));
  CALIPER_ASSIGN_OR_RETURN(auto all_tasks, txn.ListTasksOfItem(submitted.item_id));
  auto current = txn.GetCurrentGuideline(submitted.project_id);
  if (!current.ok()) return current.status();  // the labels were pinned to it
  CALIPER_ASSIGN_OR_RETURN(core::LabelSchema schema, core::ParseLabelSchema(current->schema_json));
  CALIPER_ASSIGN_OR_RETURN(auto labels, AllAnnotations(txn, submitted.item_id));
  std::vector<core::Task> tasks = all_tasks;
  std::erase_if(tasks, [](const core::Task& t) { return t.assignee.empty() || !IsReading(t.state); });
  std::vector<ReadingLabels> readings;
  std::vector<core::Annotation> reading_labels;
  for (const auto& t : tasks) {
    readings.push_back({t.assignee, internal::ReaderLabels(t, labels)});
    reading_labels.insert(reading_labels.end(), readings.back().labels.begin(), readings.back().labels.end());
  }
  const TimeMicros now = clock_.Now();

  // Readers per class: a class asking for more readers than the item has tasks adds open ones.
  std::string raised_by;
  const int needed = internal::ReadersNeeded(settings, schema, reading_labels, raised_by);
  if (static_cast<int>(all_tasks.size()) < needed) {
    const auto before = all_tasks.size();
    for (auto n = static_cast<int>(before); n < needed; ++n) {
      core::Task t;
      t.id = ids_.NewId("tsk");
      t.project_id = submitted.project_id;
      t.item_id = submitted.item_id;
      t.revision = 1;
      t.created_at = t.updated_at = now;
      CALIPER_RETURN_IF_ERROR(txn.InsertTask(t));
    }
    records.push_back(Record(ctx, "task.create", "item", submitted.item_id,
                             json{{"tasks", static_cast<std::size_t>(needed) - before},
                                  {"readers_per_item", needed},
                                  {"label_class", raised_by},
                                  {"reason", "the class needs more readers"}}.dump()));
  }
  if (static_cast<int>(tasks.size()) < needed) return Status::Ok();  // wait for the other readings
  // One step of a reading of the item, stored and audited with the submit.
  auto step = [&](core::Task t, core::TaskEvent event, const json& details) -> Status {
    const std::int64_t expected = t.revision;
    CALIPER_ASSIGN_OR_RETURN(auto record, StepTask(ctx, t, event, details.dump()));
    records.push_back(std::move(record));
    t.revision = expected + 1;
    t.updated_at = now;
    CALIPER_RETURN_IF_ERROR(txn.UpdateTask(t, expected));
    if (t.id == submitted.id) submitted = t;
    return Status::Ok();
  };

  // Disagreement beyond a class's threshold: every undecided reading goes to adjudication. The
  // stored masks are read only now, once every reading is in.
  for (ReadingLabels& r : readings) CALIPER_RETURN_IF_ERROR(LoadNamedMasks(txn, schema, submitted.item_id, r));
  const std::vector<TriggerHit> hits = AdjudicationTriggers(schema, Disagreement(readings));
  if (!hits.empty()) {
    json reasons = json::array();
    for (const auto& h : hits) {
      reasons.push_back(json{{"label_class", h.label_class}, {"reason", h.reason}, {"detail", h.detail}});
    }
    bool escalated = false;
    for (const core::Task& t : tasks) {
      if (t.state != core::TaskState::kSubmitted && t.state != core::TaskState::kInReview) continue;
      CALIPER_RETURN_IF_ERROR(step(t, core::TaskEvent::kEscalate, json{{"automatic", true}, {"triggers", reasons}}));
      escalated = true;
    }
    if (!escalated) return Status::Ok();  // every reading was decided already
    for (const auto& h : hits) {
      CALIPER_RETURN_IF_ERROR(txn.InsertAdjudicationTrigger({ids_.NewId("atr"), submitted.project_id,
                                                             submitted.item_id, h.label_class, h.reason, h.detail,
                                                             now}));
    }
    return Status::Ok();
  }

  // Review sampling: an agreeing reading outside its sample is accepted without a reviewer. The
  // draw is a stable hash of the task, so the decision can be recomputed from the audit trail.
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    if (tasks[i].state != core::TaskState::kSubmitted) continue;
    const double rate = internal::ReviewRateOf(settings, schema, readings[i].labels);
    const double draw = core::StableDraw({tasks[i].id, "review"});
    if (draw < rate) continue;
    CALIPER_RETURN_IF_ERROR(step(tasks[i], core::TaskEvent::kWaiveReview, json{{"review_rate", rate}, {"draw", draw}}));
  }
  return Status::Ok();
}

Status App::ScheduleRepeat(storage::Transaction& txn, const RequestContext& ctx, const core::Task& reading,
                           std::vector<AuditRecord>& records) {
  CALIPER_ASSIGN_OR_RETURN(core::WorkflowSettings settings, SettingsOf(txn, reading.project_id));
  if (settings.repeat_rate <= 0) return Status::Ok();
  CALIPER_ASSIGN_OR_RETURN(core::Item item, txn.GetItem(reading.item_id));
  if (!internal::RepeatableType(item.data_type)) return Status::Ok();
  auto existing = txn.GetRepeatTask(reading.item_id, reading.assignee);
  if (existing.ok()) return Status::Ok();  // one repeat per reader and item (a re-submit after a rejection)
  if (existing.status().code() != ErrorCode::kNotFound) return existing.status();
  const double draw = core::StableDraw({reading.id, "repeat"});
  if (draw >= settings.repeat_rate) return Status::Ok();
  const TimeMicros now = clock_.Now();
  core::Task repeat;
  repeat.id = ids_.NewId("tsk");
  repeat.project_id = reading.project_id;
  repeat.item_id = reading.item_id;
  repeat.assignee = reading.assignee;
  repeat.revision = 1;
  repeat.created_at = repeat.updated_at = now;
  repeat.kind = core::TaskKind::kRepeat;
  repeat.repeat_of = reading.id;
  if (settings.washout_days > 0) repeat.due_at = now + settings.washout_days * 24 * 60 * kMicrosPerMinute;
  if (settings.washout_readings > 0) {
    CALIPER_ASSIGN_OR_RETURN(std::int64_t made, txn.CountReadings(reading.project_id, reading.assignee));
    repeat.due_after_readings = made + settings.washout_readings;
  }
  CALIPER_RETURN_IF_ERROR(txn.InsertTask(repeat));
  records.push_back(Record(ctx, "task.create", "task", repeat.id,
                           json{{"kind", "repeat"},
                                {"item_id", repeat.item_id},
                                {"repeat_of", reading.id},
                                {"due_at", repeat.due_at ? json(*repeat.due_at) : json(nullptr)},
                                {"due_after_readings",
                                 repeat.due_after_readings ? json(*repeat.due_after_readings) : json(nullptr)},
                                {"repeat_rate", settings.repeat_rate},
                                {"draw", draw}}.dump()));
  return Status::Ok();
}

Result<std::optional<core::Task>> App::DueRepeat(storage::Transaction& txn, const std::string& project_id,
                                                 const std::string& user_id, const core::Membership& member) {
  const TimeMicros now = clock_.Now();
  std::optional<std::int64_t> made;  // the reader's readings, counted once when a repeat asks
  for (core::TaskState state : {core::TaskState::kOpen, core::TaskState::kClaimed}) {
    storage::TaskFilter filter{project_id, user_id, state, core::TaskKind::kRepeat};
    CALIPER_ASSIGN_OR_RETURN(auto repeats, internal::AllPages<core::Task>([&](const storage::PageRequest& page) {
                               return txn.ListTasks(filter, page);
                             }));
    for (auto& t : repeats) {
      if (state == core::TaskState::kClaimed && (!t.lease_expires_at || *t.lease_expires_at > now)) continue;
      if (t.due_at && *t.due_at > now) continue;
      if (t.due_after_readings) {
        if (!made) {
          CALIPER_ASSIGN_OR_RETURN(made, txn.CountReadings(project_id, user_id));
        }
        if (*made < *t.due_after_readings) continue;
      }
      CALIPER_ASSIGN_OR_RETURN(core::Item item, txn.GetItem(t.item_id));
      if (!Contains(member.scopes, item.data_type)) continue;  // no longer in the reader's scope
      return std::optional<core::Task>(std::move(t));
    }
  }
  return std::optional<core::Task>();
}

// ---- review and adjudication ---------------------------------------------------------------------

Result<ReviewOutcome> App::ReviewTask(const RequestContext& ctx, const std::string& project_id,
                                      const std::string& task_id, const ReviewRequest& request) {
  using core::ReviewDecision;
  const bool reject = request.decision == ReviewDecision::kReject;
  if (reject != request.reject_reason.has_value()) {
    return Error(ErrorCode::kInvalidArgument, reject ? "a rejection needs a reason_code" : "only a rejection has a reason_code");
  }
  if (request.decision == ReviewDecision::kEscalate && request.reason.empty()) {
    return Error(ErrorCode::kInvalidArgument, "an escalation needs a note (reason)");
  }
  if (request.reject_reason == core::RejectReason::kOther && request.reason.empty()) {
    return Error(ErrorCode::kInvalidArgument, "reason_code 'other' needs a note (reason) saying what is wrong");
  }
  if (request.reason.size() > 2000) return Error(ErrorCode::kInvalidArgument, "reason must be at most 2000 characters");
  if (request.decision == ReviewDecision::kCorrect && (!request.correction || request.annotation_id.empty())) {
    return Error(ErrorCode::kInvalidArgument, "a correction needs annotation_id and the corrected label");
  }
  if (request.decision != ReviewDecision::kCorrect && request.correction) {
    return Error(ErrorCode::kInvalidArgument, "only a correction carries a corrected label");
  }
  CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kWrite));
  auto found = txn->GetTask(task_id);
  if (!found.ok() || found->project_id != project_id) return Error(ErrorCode::kNotFound, "no such task");
  ReviewOutcome out;
  out.task = *found;
  core::Task& task = out.task;
  if (task.assignee == ctx.principal.user.id) {
    return Error(ErrorCode::kPermissionDenied, "you cannot review your own reading");
  }
  if (task.kind == core::TaskKind::kRepeat) {
    return Error(ErrorCode::kConflict, "a repeat read is not reviewed; it measures its reader against themself");
  }
  CALIPER_ASSIGN_OR_RETURN(core::Item item, txn->GetItem(task.item_id));
  {
    // Reviewers hold the qualification of every class the reading names.
    CALIPER_ASSIGN_OR_RETURN(auto current, internal::PublishedGuideline(*txn, project_id, "labels need one"));
    CALIPER_ASSIGN_OR_RETURN(core::LabelSchema schema, core::ParseLabelSchema(current.schema_json));
    CALIPER_ASSIGN_OR_RETURN(auto labels, AllAnnotations(*txn, task.item_id));
    for (const auto& a : internal::ReaderLabels(task, labels)) {
      if (const core::LabelClass* cls = schema.Find(a.label_class)) {
        CALIPER_RETURN_IF_ERROR(internal::NeedsQualification(ctx.principal.user, *cls, "reviewing"));
      }
    }
  }
  const TimeMicros now = clock_.Now();
  std::vector<AuditRecord> records;
  const std::int64_t expected = task.revision;
  if (task.state == core::TaskState::kSubmitted && request.decision != ReviewDecision::kEscalate) {
    CALIPER_ASSIGN_OR_RETURN(auto start, StepTask(ctx, task, core::TaskEvent::kStartReview));
    records.push_back(std::move(start));
  }
  const core::TaskEvent event = request.decision == ReviewDecision::kReject     ? core::TaskEvent::kReject
                                : request.decision == ReviewDecision::kEscalate ? core::TaskEvent::kEscalate
                                                                                : core::TaskEvent::kAccept;
  CALIPER_ASSIGN_OR_RETURN(auto decided, StepTask(ctx, task, event));
  records.push_back(std::move(decided));

  if (!request.annotation_id.empty()) {
    auto original = txn->GetAnnotation(request.annotation_id);
    if (!original.ok() || original->task_id != task.id) {
      return Error(ErrorCode::kInvalidArgument, "annotation_id must name a label of this reading");
    }
    if (request.correction) {
      core::Annotation corrected = DerivedLabel(*original, ids_.NewId("ann"), ctx.principal.user.id, now);
      corrected.evidence_kind = request.correction->evidence_kind;
      corrected.evidence_json = request.correction->evidence_json;
      corrected.label_class = request.correction->label_class;
      corrected.code_system = request.correction->code_system;
      corrected.code = request.correction->code;
      corrected.confidence = request.correction->confidence;
      corrected.assertion = request.correction->assertion;
      corrected.origin = "correction:" + original->id;
      CALIPER_RETURN_IF_ERROR(core::ValidateAnnotation(corrected));
      CALIPER_ASSIGN_OR_RETURN(core::LabelClass corrected_class, PinToGuideline(*txn, corrected, item));
      CALIPER_RETURN_IF_ERROR(internal::NeedsQualification(ctx.principal.user, corrected_class, "reviewing"));
      CALIPER_RETURN_IF_ERROR(txn->InsertAnnotation(corrected));
      records.push_back(Record(ctx, "annotation.create", "annotation", corrected.id,
                               json{{"item_id", item.id}, {"label_class", corrected.label_class},
                                    {"corrects", original->id}}.dump()));
      out.correction = corrected;
    }
  }
  out.review = core::Review{ids_.NewId("rev"),
                            task.id,
                            request.annotation_id,
                            ctx.principal.user.id,
                            request.decision,
                            request.reason,
                            out.correction ? out.correction->id : "",
                            now,
                            request.reject_reason};
  CALIPER_RETURN_IF_ERROR(txn->InsertReview(out.review));
  json detail{{"task_id", task.id}, {"decision", core::ToString(request.decision)}};
  if (request.reject_reason) detail["reason_code"] = core::ToString(*request.reject_reason);
  records.push_back(Record(ctx, "review.create", "review", out.review.id, detail.dump()));
  task.revision = expected + 1;
  task.updated_at = now;
  CALIPER_RETURN_IF_ERROR(txn->UpdateTask(task, expected));
  CALIPER_RETURN_IF_ERROR(CommitWithAudit(*txn, records));
  return out;
}

Result<AdjudicationOutcome> App::Adjudicate(const RequestContext& ctx, const std::string& item_id,
                                            const AdjudicationRequest& request) {
  if (request.rationale.empty() || request.rationale.size() > 5000) {
    return Error(ErrorCode::kInvalidArgument, "rationale must be 1 to 5000 characters");
  }
  if (request.source_annotation_id.empty() == !request.label.has_value()) {
    return Error(ErrorCode::kInvalidArgument, "choose a reading's label (annotation_id) or write one (label), not both");
  }
  CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kWrite));
  CALIPER_ASSIGN_OR_RETURN(core::Item item, txn->GetItem(item_id));
  CALIPER_ASSIGN_OR_RETURN(auto tasks, txn->ListTasksOfItem(item_id));
  AdjudicationOutcome out;
  for (const auto& t : tasks) {
    if (t.state == core::TaskState::kEscalated) out.tasks.push_back(t);
  }
  if (out.tasks.empty()) return Error(ErrorCode::kConflict, "no reading of this item is escalated");
  const TimeMicros now = clock_.Now();
  const std::string final_id = ids_.NewId("ann");
  std::string mask_owner;  // a chosen reading's mask evidence names that reader's mask
  if (request.label) {
    out.final_label = DerivedLabel(*request.label, final_id, ctx.principal.user.id, now);
    out.final_label.origin = "adjudication";
  } else {
    auto source = txn->GetAnnotation(request.source_annotation_id);
    if (!source.ok() || source->item_id != item_id) {
      return Error(ErrorCode::kInvalidArgument, "annotation_id must name a label of this item");
    }
    out.final_label = DerivedLabel(*source, final_id, ctx.principal.user.id, now);
    out.final_label.origin = "adjudication:" + source->id;
    mask_owner = source->author;
  }
  out.final_label.project_id = item.project_id;
  out.final_label.item_id = item_id;
  out.final_label.task_id.clear();
  out.final_label.status = core::LabelStatus::kAdjudicated;
  CALIPER_RETURN_IF_ERROR(core::ValidateAnnotation(out.final_label));
  CALIPER_ASSIGN_OR_RETURN(core::LabelClass cls, PinToGuideline(*txn, out.final_label, item, mask_owner));
  CALIPER_RETURN_IF_ERROR(internal::NeedsQualification(ctx.principal.user, cls, "adjudicating"));
  if (cls.resolver_role) {
    CALIPER_ASSIGN_OR_RETURN(core::Membership member, txn->GetMembership(item.project_id, ctx.principal.user.id));
    if (!Holds(member.roles, *cls.resolver_role)) {
      return Error(ErrorCode::kPermissionDenied, "class '" + cls.id + "' is resolved only by the " +
                                                     std::string(core::ToString(*cls.resolver_role)) + " role");
    }
  }
  CALIPER_RETURN_IF_ERROR(txn->InsertAnnotation(out.final_label));
  out.adjudication = core::Adjudication{ids_.NewId("adj"), item.project_id,          item_id,
                                        ctx.principal.user.id, request.source_annotation_id, final_id,
                                        request.rationale,   now};
  CALIPER_RETURN_IF_ERROR(txn->InsertAdjudication(out.adjudication));
  std::vector<AuditRecord> records;
  for (core::Task& t : out.tasks) {
    const std::int64_t expected = t.revision;
    CALIPER_ASSIGN_OR_RETURN(auto step, StepTask(ctx, t, core::TaskEvent::kAdjudicate,
                                                 json{{"adjudication_id", out.adjudication.id}}.dump()));
    records.push_back(std::move(step));
    t.revision = expected + 1;
    t.updated_at = now;
    CALIPER_RETURN_IF_ERROR(txn->UpdateTask(t, expected));
  }
  records.push_back(Record(ctx, "adjudication.create", "adjudication", out.adjudication.id,
                           json{{"item_id", item_id}, {"final_annotation_id", final_id},
                                {"source_annotation_id", request.source_annotation_id},
                                {"label_class", out.final_label.label_class}}.dump()));
  CALIPER_RETURN_IF_ERROR(CommitWithAudit(*txn, records));
  return out;
}

Result<ItemReadings> App::ListReadings(const RequestContext& ctx, const std::string& item_id) {
  ItemReadings out;
  std::string project_id;
  {
    CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kRead));
    CALIPER_ASSIGN_OR_RETURN(core::Item item, txn->GetItem(item_id));
    project_id = item.project_id;
    CALIPER_ASSIGN_OR_RETURN(auto tasks, txn->ListTasksOfItem(item_id));
    CALIPER_ASSIGN_OR_RETURN(auto labels, AllAnnotations(*txn, item_id));
    std::vector<ReadingLabels> submitted;
    for (const auto& t : tasks) {
      if (t.assignee.empty()) continue;
      Reading r{t, {}, {}};
      for (const auto& a : labels) {
        if (a.task_id == t.id) r.annotations.push_back(a);
      }
      CALIPER_ASSIGN_OR_RETURN(r.reviews, txn->ListReviewsOfTask(t.id));
      if (IsReading(t.state)) {
        submitted.push_back({t.assignee, internal::ReaderLabels(t, labels)});
        // The adjudicator compares every mask a reading names (min_dice), whatever its class's
        // triggers.
        CALIPER_RETURN_IF_ERROR(LoadReadingMasks(*txn, item_id, submitted.back(),
                                                 [&](const std::string& a) { return GetBlob(*txn, a); },
                                                 [](const std::string&) { return true; }));
      }
      out.readings.push_back(std::move(r));
    }
    out.classes = Disagreement(submitted);
    CALIPER_ASSIGN_OR_RETURN(out.triggers, txn->ListAdjudicationTriggersOfItem(item_id));
    if (!out.classes.empty()) {
      CALIPER_ASSIGN_OR_RETURN(auto project, internal::ProjectReadings(*txn, item));
      for (auto& c : out.classes) {
        std::vector<quality::Rating> presence;
        for (const auto& p : project) {
          presence.push_back({p.item_id, p.reader, p.classes.count(c.label_class) ? "present" : "absent"});
        }
        CALIPER_ASSIGN_OR_RETURN(c.posterior, PresencePosterior(presence));
      }
    }
  }
  CALIPER_RETURN_IF_ERROR(Audit(Record(ctx, "readings.read", "item", item_id,
                                       json{{"project_id", project_id}, {"readings", out.readings.size()}}.dump())));
  return out;
}

// ---- annotation history ------------------------------------------------------------------------

Result<std::vector<AnnotationHistoryEntry>> App::GetAnnotationHistory(const RequestContext& ctx,
                                                                      const std::string& annotation_id) {
  std::vector<AnnotationHistoryEntry> out;
  std::string project_id;
  {
    CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kRead));
    auto found = txn->GetAnnotation(annotation_id);
    if (!found.ok() || (found->author != ctx.principal.user.id &&
                        IsBlinded(*txn, ctx, found->project_id, security::Permission::kAnnotationRead))) {
      return Error(ErrorCode::kNotFound, "no such annotation");
    }
    const core::Annotation& current = *found;
    project_id = current.project_id;
    CALIPER_ASSIGN_OR_RETURN(auto versions, txn->ListAnnotationVersions(annotation_id));
    // Version r was made by the change that replaced version r - 1 (the first by its author).
    std::string by = current.author, reason, change = "create";
    TimeMicros at = current.created_at;
    for (auto& v : versions) {
      out.push_back({std::move(v.annotation), change, by, at, reason});
      by = v.replaced_by;
      at = v.replaced_at;
      reason = v.reason;
      change = "edit";
    }
    out.push_back({current, change, by, at, reason});
    // Corrections and adjudicated labels made from it: new annotations that name it as origin.
    CALIPER_ASSIGN_OR_RETURN(auto labels, AllAnnotations(*txn, current.item_id));
    CALIPER_ASSIGN_OR_RETURN(auto adjudications, txn->ListAdjudicationsOfItem(current.item_id));
    std::vector<core::Review> reviews;
    if (!current.task_id.empty()) {
      CALIPER_ASSIGN_OR_RETURN(reviews, txn->ListReviewsOfTask(current.task_id));
    }
    for (const auto& a : labels) {
      if (a.origin == "correction:" + annotation_id) {
        const auto review = std::find_if(reviews.begin(), reviews.end(),
                                         [&](const core::Review& r) { return r.corrected_annotation_id == a.id; });
        out.push_back({a, "correction", a.author, a.created_at, review == reviews.end() ? "" : review->reason});
      } else if (a.origin == "adjudication:" + annotation_id) {
        const auto adj = std::find_if(adjudications.begin(), adjudications.end(),
                                      [&](const core::Adjudication& d) { return d.final_annotation_id == a.id; });
        out.push_back({a, "adjudication", a.author, a.created_at, adj == adjudications.end() ? "" : adj->rationale});
      }
    }
  }
  CALIPER_RETURN_IF_ERROR(Audit(Record(ctx, "annotation.history", "annotation", annotation_id,
                                       json{{"project_id", project_id}, {"versions", out.size()}}.dump())));
  return out;
}

}  // namespace caliper::app

// Guideline feedback: reviewers and adjudicators note where the published guideline did not fit
// an item; managers see the exceptions counted by class before they write the next version
// (docs/workflow.md, "Guideline feedback").

#include <algorithm>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "app/workflow_internal.h"
#include "caliper/app/app.h"
#include "caliper/core/rules.h"
#include "caliper/deid/text_deid.h"

namespace caliper::app {
namespace {

using nlohmann::json;
using storage::TxnMode;

constexpr std::size_t kMaxNoteBytes = 4000;

}  // namespace

Result<core::GuidelineFeedback> App::AddGuidelineFeedback(const RequestContext& ctx, const std::string& item_id,
                                                          const std::string& label_class, core::FeedbackKind kind,
                                                          const std::string& note) {
  if (note.size() > kMaxNoteBytes) {
    return Error(ErrorCode::kInvalidArgument, "note must be at most " + std::to_string(kMaxNoteBytes) + " bytes");
  }
  CALIPER_RETURN_IF_ERROR(deid::CheckUtf8(note).WithContext("note"));
  CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kWrite));
  CALIPER_ASSIGN_OR_RETURN(core::Item item, txn->GetItem(item_id));
  CALIPER_ASSIGN_OR_RETURN(auto current, internal::PublishedGuideline(*txn, item.project_id, "feedback is about one"));
  CALIPER_ASSIGN_OR_RETURN(core::LabelSchema schema, core::ParseLabelSchema(current.schema_json));
  if (schema.Find(label_class) == nullptr) {
    return Error(ErrorCode::kInvalidArgument, "class '" + label_class + "' is not in guideline version " +
                                                  std::to_string(current.version));
  }
  core::GuidelineFeedback f;
  f.id = ids_.NewId("gfb");
  f.project_id = item.project_id;
  f.item_id = item.id;
  f.label_class = label_class;
  f.guideline_version_id = current.id;
  f.kind = kind;
  f.note = note;
  f.author = ctx.principal.user.id;
  f.created_at = clock_.Now();
  CALIPER_RETURN_IF_ERROR(txn->InsertGuidelineFeedback(f));
  // The note is free text about a patient's item: the audit records that there was one, not what it says.
  CALIPER_RETURN_IF_ERROR(CommitWithAudit(
      *txn, Record(ctx, "guideline.feedback", "item", item.id,
                   json{{"feedback_id", f.id}, {"class", label_class}, {"kind", core::ToString(kind)},
                        {"guideline_version_id", f.guideline_version_id}, {"note_bytes", note.size()}}
                       .dump())));
  return f;
}

Result<GuidelineFeedbackReport> App::GuidelineFeedbackOf(const RequestContext& ctx, const std::string& project_id,
                                                         const std::string& guideline_version_id) {
  CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kWrite));
  CALIPER_RETURN_IF_ERROR(txn->GetProject(project_id).status());
  if (!guideline_version_id.empty()) {
    auto g = txn->GetGuidelineVersion(guideline_version_id);
    if (!g.ok() || g->project_id != project_id) return Error(ErrorCode::kNotFound, "no such guideline version");
  }
  CALIPER_ASSIGN_OR_RETURN(auto rows, txn->ListGuidelineFeedback(project_id));
  GuidelineFeedbackReport report;
  report.guideline_version_id = guideline_version_id;
  struct Tally {
    FeedbackClassCount count;
    std::set<std::string> items;
    std::map<std::string, std::set<std::string>> items_by_kind;
  };
  std::map<std::string, Tally> by_class;
  for (auto& f : rows) {
    if (!guideline_version_id.empty() && f.guideline_version_id != guideline_version_id) continue;
    Tally& t = by_class[f.label_class];
    const std::string kind(core::ToString(f.kind));
    ++t.count.total;
    ++t.count.kinds[kind];
    t.items.insert(f.item_id);
    t.items_by_kind[kind].insert(f.item_id);
    report.entries.push_back(std::move(f));
  }
  for (auto& [label_class, t] : by_class) {
    t.count.label_class = label_class;
    t.count.items = static_cast<int>(t.items.size());
    for (const auto& [kind, items] : t.items_by_kind) t.count.recurring = t.count.recurring || items.size() >= 2;
    report.classes.push_back(std::move(t.count));
  }
  std::stable_sort(report.classes.begin(), report.classes.end(),
                   [](const FeedbackClassCount& a, const FeedbackClassCount& b) { return a.total > b.total; });
  std::stable_sort(report.entries.begin(), report.entries.end(),
                   [](const core::GuidelineFeedback& a, const core::GuidelineFeedback& b) {
                     return a.created_at > b.created_at;
                   });
  CALIPER_RETURN_IF_ERROR(CommitWithAudit(
      *txn, Record(ctx, "guideline.feedback_read", "project", project_id,
                   json{{"guideline_version_id", guideline_version_id}, {"entries", report.entries.size()}}.dump())));
  return report;
}

}  // namespace caliper::app

// Delayed ground truth (docs/workflow.md, "Ground truth that arrives later"): outcome events
// and what they make of labels whose class requires confirmation. Statuses are decided when
// read (DecideTruth at the clock's now), so nothing has to wake up when a window passes.

#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "caliper/app/app.h"
#include "app/truth.h"
#include "app/workflow_internal.h"

namespace caliper::app {
namespace {

using nlohmann::json;
using storage::TxnMode;

constexpr std::size_t kMaxOutcomeRows = 10'000;

// The rules of the current guideline's classes that need confirmation, by class id.
Result<std::map<std::string, core::ConfirmationRule>> ConfirmationRules(storage::Transaction& txn,
                                                                         const std::string& project_id) {
  std::map<std::string, core::ConfirmationRule> rules;
  auto current = txn.GetCurrentGuideline(project_id);
  if (!current.ok()) {
    if (current.status().code() == ErrorCode::kNotFound) return rules;
    return current.status();
  }
  CALIPER_ASSIGN_OR_RETURN(core::LabelSchema schema, core::ParseLabelSchema(current->schema_json));
  for (const auto& c : schema.classes) {
    if (c.confirmation) rules[c.id] = *c.confirmation;
  }
  return rules;
}

// Everything truth is decided on, gathered in one read transaction.
struct TruthInputs {
  std::map<std::string, core::ConfirmationRule> rules;
  std::vector<core::Outcome> outcomes;
  std::vector<core::Item> items;
  std::map<std::string, std::vector<core::Annotation>> labels;  // by item, all of them
  std::map<std::string, std::vector<core::Annotation>> readers;  // by item, readers' own in readings
  std::map<std::string, std::vector<core::Prelabel>> prelabels;  // by item
};

Result<TruthInputs> GatherTruth(storage::Transaction& txn, const std::string& project_id) {
  TruthInputs in;
  CALIPER_RETURN_IF_ERROR(txn.GetProject(project_id).status());
  CALIPER_ASSIGN_OR_RETURN(in.rules, ConfirmationRules(txn, project_id));
  CALIPER_ASSIGN_OR_RETURN(in.outcomes, txn.ListOutcomes(project_id));
  if (in.rules.empty()) return in;
  CALIPER_ASSIGN_OR_RETURN(in.items, internal::AllPages<core::Item>(
                                         [&](const storage::PageRequest& p) { return txn.ListItems(project_id, p); }));
  for (const auto& item : in.items) {
    CALIPER_ASSIGN_OR_RETURN(auto labels, internal::AllAnnotations(txn, item.id));
    CALIPER_ASSIGN_OR_RETURN(auto tasks, txn.ListTasksOfItem(item.id));
    for (const auto& t : tasks) {
      if (t.assignee.empty() || !internal::IsReading(t.state)) continue;
      for (auto& a : internal::ReaderLabels(t, labels)) in.readers[item.id].push_back(std::move(a));
    }
    in.labels[item.id] = std::move(labels);
    CALIPER_ASSIGN_OR_RETURN(in.prelabels[item.id], txn.ListPrelabelsOfItem(item.id));
  }
  return in;
}

void Count(TruthScore& s, TruthStatus status) {
  switch (status) {
    case TruthStatus::kConfirmed:
      ++s.confirmed;
      break;
    case TruthStatus::kRefuted:
      ++s.refuted;
      break;
    case TruthStatus::kUnconfirmed:
      ++s.unconfirmed;
      break;
    case TruthStatus::kProvisional:
      ++s.provisional;
      break;
  }
  if (s.confirmed + s.refuted > 0) {
    s.accuracy = static_cast<double>(s.confirmed) / static_cast<double>(s.confirmed + s.refuted);
  }
}

std::vector<TruthScore> Values(std::map<std::string, TruthScore>& by_key) {
  std::vector<TruthScore> out;
  for (auto& [key, score] : by_key) out.push_back(std::move(score));
  return out;
}

}  // namespace

Result<core::Outcome> OutcomeFromJson(const std::string& json_text) {
  using internal::StringField;
  const json j = json::parse(json_text, nullptr, false);
  if (!j.is_object()) return Error(ErrorCode::kInvalidArgument, "an outcome must be a JSON object");
  CALIPER_RETURN_IF_ERROR(internal::CheckFields(
      j, "", {"item_id", "patient_key", "evidence_type", "class", "value", "result", "time"},
      {"evidence_type", "class", "result", "time"}));
  core::Outcome o;
  CALIPER_ASSIGN_OR_RETURN(o.item_id, StringField(j, "item_id", ""));
  CALIPER_ASSIGN_OR_RETURN(o.patient_key, StringField(j, "patient_key", ""));
  CALIPER_ASSIGN_OR_RETURN(o.evidence_type, StringField(j, "evidence_type", ""));
  CALIPER_ASSIGN_OR_RETURN(o.label_class, StringField(j, "class", ""));
  CALIPER_ASSIGN_OR_RETURN(o.value, StringField(j, "value", ""));
  CALIPER_ASSIGN_OR_RETURN(std::string result, StringField(j, "result", ""));
  if (result != "confirms" && result != "refutes") {
    return Error(ErrorCode::kInvalidArgument, "field 'result' must be confirms or refutes");
  }
  o.confirms = result == "confirms";
  CALIPER_ASSIGN_OR_RETURN(std::string time, StringField(j, "time", ""));
  auto at = ParseRfc3339(time);
  if (!at.ok()) return Error(ErrorCode::kInvalidArgument, "field 'time': " + at.status().message());
  o.observed_at = *at;
  return o;
}

Result<OutcomeUpload> App::AddOutcomes(const RequestContext& ctx, const std::string& project_id,
                                       std::vector<core::Outcome> rows) {
  if (rows.empty()) return Error(ErrorCode::kInvalidArgument, "no outcomes given");
  if (rows.size() > kMaxOutcomeRows) {
    return Error(ErrorCode::kInvalidArgument, "at most " + std::to_string(kMaxOutcomeRows) + " outcomes per upload");
  }
  CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kWrite));
  CALIPER_RETURN_IF_ERROR(txn->GetProject(project_id).status());
  CALIPER_ASSIGN_OR_RETURN(auto rules, ConfirmationRules(*txn, project_id));
  OutcomeUpload out;
  const TimeMicros now = clock_.Now();
  for (std::size_t i = 0; i < rows.size(); ++i) {
    core::Outcome& o = rows[i];
    auto refuse = [&](const std::string& message) { out.errors.push_back({i, message}); };
    if (o.item_id.empty() == o.patient_key.empty()) {
      refuse("name exactly one of item_id and patient_key");
      continue;
    }
    if (!o.item_id.empty()) {
      auto item = txn->GetItem(o.item_id);
      if (!item.ok() && item.status().code() != ErrorCode::kNotFound) return item.status();
      if (!item.ok() || item->project_id != project_id) {
        refuse("item_id: no item " + o.item_id + " in this project");
        continue;
      }
    }
    const auto rule = rules.find(o.label_class);
    if (rule == rules.end()) {
      refuse("class: '" + o.label_class + "' is not a class of the current guideline that needs confirmation");
      continue;
    }
    if (!internal::Contains(rule->second.evidence_sources, o.evidence_type)) {
      refuse("evidence_type: '" + o.evidence_type + "' does not confirm class '" + o.label_class + "'");
      continue;
    }
    o.id = ids_.NewId("out");
    o.project_id = project_id;
    o.recorded_by = ctx.actor();
    o.recorded_at = now;
    CALIPER_RETURN_IF_ERROR(txn->InsertOutcome(o));
    out.stored.push_back(o);
  }
  if (out.stored.empty()) {
    return Error(ErrorCode::kInvalidArgument, "no outcome could be stored; the first refused: [" +
                                                  std::to_string(out.errors.front().index) + "] " +
                                                  out.errors.front().message);
  }
  json ids = json::array();
  for (const auto& o : out.stored) ids.push_back(o.id);
  CALIPER_RETURN_IF_ERROR(CommitWithAudit(
      *txn, Record(ctx, "outcome.record", "project", project_id,
                   json{{"stored", ids}, {"refused", out.errors.size()}}.dump())));
  return out;
}

Result<std::vector<LabelTruth>> App::EvaluateTruth(const RequestContext& ctx, const std::string& project_id) {
  TruthInputs in;
  {
    CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kRead));
    CALIPER_ASSIGN_OR_RETURN(in, GatherTruth(*txn, project_id));
  }
  const TimeMicros now = clock_.Now();
  std::vector<LabelTruth> out;
  for (const auto& item : in.items) {
    for (const auto& a : in.labels[item.id]) {
      const auto rule = in.rules.find(a.label_class);
      if (rule == in.rules.end()) continue;
      const TruthDecision d = DecideTruth(ClaimOf(a, item), rule->second, in.outcomes, now);
      out.push_back({a, std::string(ToString(d.status)), d.outcome_id});
    }
  }
  CALIPER_RETURN_IF_ERROR(Audit(Record(ctx, "truth.read", "project", project_id,
                                       json{{"labels", out.size()}, {"outcomes", in.outcomes.size()}}.dump())));
  return out;
}

Result<std::map<std::string, TruthState>> App::TruthOfLabels(const std::vector<core::Annotation>& labels) {
  std::map<std::string, TruthState> out;
  if (labels.empty()) return out;
  const std::string& project_id = labels.front().project_id;
  CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kRead));
  CALIPER_ASSIGN_OR_RETURN(auto rules, ConfirmationRules(*txn, project_id));
  if (rules.empty()) return out;
  CALIPER_ASSIGN_OR_RETURN(auto outcomes, txn->ListOutcomes(project_id));
  std::map<std::string, core::Item> items;
  const TimeMicros now = clock_.Now();
  for (const auto& a : labels) {
    if (a.project_id != project_id) return Error(ErrorCode::kInvalidArgument, "labels of several projects");
    const auto rule = rules.find(a.label_class);
    if (rule == rules.end()) continue;
    auto item = items.find(a.item_id);
    if (item == items.end()) {
      CALIPER_ASSIGN_OR_RETURN(core::Item got, txn->GetItem(a.item_id));
      item = items.emplace(a.item_id, std::move(got)).first;
    }
    const TruthDecision d = DecideTruth(ClaimOf(a, item->second), rule->second, outcomes, now);
    out[a.id] = TruthState{std::string(ToString(d.status)), d.outcome_id};
  }
  return out;
}

Result<TruthScores> App::ScoreAgainstTruth(const RequestContext& ctx, const std::string& project_id) {
  TruthInputs in;
  {
    CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kRead));
    CALIPER_ASSIGN_OR_RETURN(in, GatherTruth(*txn, project_id));
  }
  const TimeMicros now = clock_.Now();
  std::map<std::string, TruthScore> readers, models;
  for (const auto& item : in.items) {
    for (const auto& a : in.readers[item.id]) {
      const auto rule = in.rules.find(a.label_class);
      if (rule == in.rules.end()) continue;
      TruthScore& s = readers[a.author];
      s.reader = a.author;
      Count(s, DecideTruth(ClaimOf(a, item), rule->second, in.outcomes, now).status);
    }
    for (const auto& p : in.prelabels[item.id]) {
      const auto rule = in.rules.find(p.label_class);
      if (rule == in.rules.end()) continue;
      Claim claim{item.id, item.patient_key, p.label_class, p.assertion != core::Assertion::kAbsent, p.code,
                  p.created_at};
      TruthScore& s = models[p.model_name + "@" + p.model_version];
      s.reader = p.model_name + "@" + p.model_version;
      Count(s, DecideTruth(claim, rule->second, in.outcomes, now).status);
    }
  }
  TruthScores out{Values(readers), Values(models)};
  CALIPER_RETURN_IF_ERROR(Audit(Record(ctx, "outcome.scores", "project", project_id,
                                       json{{"readers", out.readers.size()}, {"models", out.models.size()}}.dump())));
  return out;
}

}  // namespace caliper::app

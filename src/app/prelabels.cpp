// AI pre-labels: storing model suggestions (bulk upload or the model back-end protocol),
// readers' decisions on them, and per-model-version statistics. A pre-label is never a label:
// only a reader's decision makes one, and it is the reader's. docs/workflow.md describes it.

#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "app/evidence.h"
#include "app/mask_evidence.h"
#include "app/workflow_internal.h"
#include "caliper/app/app.h"
#include "caliper/core/rules.h"

namespace caliper::app {
namespace {

using nlohmann::json;
using security::AuditRecord;
using storage::TxnMode;
using internal::CheckFields;
using internal::StringField;

constexpr std::size_t kMaxUploadRows = 10'000;

std::string ModelKey(const core::Prelabel& p) { return p.model_name + "@" + p.model_version; }

// kInvalidArgument unless `text` is a JSON object whose values are numbers in [0, 1].
Status CheckScores(const std::string& text) {
  const json scores = json::parse(text.empty() ? "{}" : text, nullptr, false);
  if (!scores.is_object()) return Error(ErrorCode::kInvalidArgument, "scores must be an object {class: probability}");
  for (const auto& [cls, p] : scores.items()) {
    if (!p.is_number() || !(p.get<double>() >= 0 && p.get<double>() <= 1)) {
      return Error(ErrorCode::kInvalidArgument, "scores['" + cls + "'] must be a number between 0 and 1");
    }
  }
  return Status::Ok();
}

Status CheckJsonObject(const std::string& text, const char* field) {
  const json j = json::parse(text.empty() ? "{}" : text, nullptr, false);
  if (!j.is_object()) return Error(ErrorCode::kInvalidArgument, std::string(field) + " must be an object");
  return Status::Ok();
}

}  // namespace

Result<core::Prelabel> PrelabelFromJson(const std::string& text) {
  const json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) return Error(ErrorCode::kInvalidArgument, "a pre-label must be a JSON object");
  CALIPER_RETURN_IF_ERROR(CheckFields(j, "",
                                      {"item_id", "model", "evidence", "label", "assertion", "score", "scores",
                                       "attributes"},
                                      {"evidence", "label"}));
  core::Prelabel p;
  CALIPER_ASSIGN_OR_RETURN(p.item_id, StringField(j, "item_id", ""));
  if (j.contains("model")) {
    CALIPER_RETURN_IF_ERROR(CheckFields(j["model"], "model.", {"name", "version"}, {"name", "version"}));
    CALIPER_ASSIGN_OR_RETURN(p.model_name, StringField(j["model"], "name", "model."));
    CALIPER_ASSIGN_OR_RETURN(p.model_version, StringField(j["model"], "version", "model."));
  }
  CALIPER_RETURN_IF_ERROR(CheckFields(j["evidence"], "evidence.", {"kind", "data"}, {"kind"}));
  CALIPER_ASSIGN_OR_RETURN(p.evidence_kind, StringField(j["evidence"], "kind", "evidence."));
  p.evidence_json = j["evidence"].value("data", json::object()).dump();
  CALIPER_RETURN_IF_ERROR(CheckFields(j["label"], "label.", {"class", "code_system", "code"}, {"class"}));
  CALIPER_ASSIGN_OR_RETURN(p.label_class, StringField(j["label"], "class", "label."));
  CALIPER_ASSIGN_OR_RETURN(p.code_system, StringField(j["label"], "code_system", "label."));
  CALIPER_ASSIGN_OR_RETURN(p.code, StringField(j["label"], "code", "label."));
  if (j.contains("assertion")) {
    CALIPER_ASSIGN_OR_RETURN(std::string assertion, StringField(j, "assertion", ""));
    CALIPER_ASSIGN_OR_RETURN(p.assertion, core::ParseAssertion(assertion));
  }
  if (j.contains("score") && !j["score"].is_null()) {
    if (!j["score"].is_number()) return Error(ErrorCode::kInvalidArgument, "field 'score' must be a number");
    p.score = j["score"].get<double>();
  }
  if (j.contains("scores")) p.scores_json = j["scores"].dump();
  if (j.contains("attributes")) p.attributes_json = j["attributes"].dump();
  return p;
}

Result<PrelabelUpload> App::AddPrelabels(const RequestContext& ctx, const std::string& project_id,
                                         std::vector<core::Prelabel> rows) {
  if (rows.empty()) return Error(ErrorCode::kInvalidArgument, "no pre-labels given");
  if (rows.size() > kMaxUploadRows) {
    return Error(ErrorCode::kInvalidArgument, "at most " + std::to_string(kMaxUploadRows) + " pre-labels per upload");
  }
  CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kWrite));
  PrelabelUpload out;
  std::map<std::string, core::Item> items;  // cache: uploads name few items many times
  const TimeMicros now = clock_.Now();
  for (std::size_t i = 0; i < rows.size(); ++i) {
    core::Prelabel& p = rows[i];
    auto refuse = [&](const Status& s) { out.errors.push_back({i, s.message()}); };
    Status valid = core::ValidatePrelabel(p);
    if (valid.ok()) valid = CheckScores(p.scores_json);
    if (valid.ok()) valid = CheckJsonObject(p.evidence_json, "evidence.data");
    if (valid.ok()) valid = CheckJsonObject(p.attributes_json, "attributes");
    if (!valid.ok()) {
      refuse(valid);
      continue;
    }
    auto cached = items.find(p.item_id);
    if (cached == items.end()) {
      auto item = txn->GetItem(p.item_id);
      if (!item.ok() || item->project_id != project_id) {
        if (item.ok() || item.status().code() == ErrorCode::kNotFound) {
          refuse(Error(ErrorCode::kNotFound, "no item " + p.item_id + " in this project"));
          continue;
        }
        return item.status();
      }
      cached = items.emplace(p.item_id, *item).first;
    }
    // Pinned like a label: the class must be in the version in force and apply to the item.
    core::Annotation as_label;
    as_label.label_class = p.label_class;
    auto pinned = PinToGuideline(*txn, as_label, cached->second);
    if (!pinned.ok()) {
      if (pinned.status().code() == ErrorCode::kConflict) return pinned.status();  // no guideline at all
      refuse(pinned.status());
      continue;
    }
    p.id = ids_.NewId("pre");
    p.project_id = project_id;
    p.guideline_version_id = as_label.guideline_version_id;
    p.created_at = now;
    p.created_by = ctx.actor();
    if (p.evidence_json.empty()) p.evidence_json = "{}";
    if (p.attributes_json.empty()) p.attributes_json = "{}";
    if (p.scores_json.empty()) p.scores_json = "{}";
    CALIPER_RETURN_IF_ERROR(txn->InsertPrelabel(p));
    out.stored.push_back(p);
  }
  json ids = json::array();
  std::set<std::string> models;
  for (const auto& p : out.stored) {
    ids.push_back(p.id);
    models.insert(ModelKey(p));
  }
  CALIPER_RETURN_IF_ERROR(CommitWithAudit(
      *txn, Record(ctx, "prelabel.upload", "project", project_id,
                   json{{"stored", ids}, {"models", models}, {"refused", out.errors.size()}}.dump())));
  return out;
}

Result<std::vector<PrelabelView>> App::ListPrelabels(const RequestContext& ctx, const std::string& item_id) {
  CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kRead));
  CALIPER_ASSIGN_OR_RETURN(core::Item item, txn->GetItem(item_id));
  const bool blinded = IsBlinded(*txn, ctx, item.project_id, security::Permission::kAnnotationRead);
  std::vector<PrelabelView> out;
  if (blinded) {
    CALIPER_ASSIGN_OR_RETURN(core::WorkflowSettings settings, SettingsOf(*txn, item.project_id));
    if (core::PrelabelHiddenFor(item.project_id, ctx.principal.user.id, settings.prelabel_hidden_share)) return out;
  }
  CALIPER_ASSIGN_OR_RETURN(auto prelabels, txn->ListPrelabelsOfItem(item_id));
  CALIPER_ASSIGN_OR_RETURN(auto decisions, txn->ListPrelabelDecisionsOfItem(item_id));
  std::optional<core::Task> repeat;
  if (blinded) {
    CALIPER_ASSIGN_OR_RETURN(repeat, internal::RepeatInProgress(*txn, item_id, ctx.principal.user.id));
  }
  for (auto& p : prelabels) {
    PrelabelView v{std::move(p), core::PrelabelStatus::kPending, {}};
    for (const auto& d : decisions) {
      if (d.prelabel_id != v.prelabel.id) continue;
      if (blinded && d.reader != ctx.principal.user.id) continue;  // another reader's decision
      if (repeat && d.task_id != repeat->id) continue;            // the first reading's, during a repeat
      v.decisions.push_back(d);
      v.status = d.status;  // ascending ids: the latest wins
    }
    out.push_back(std::move(v));
  }
  return out;
}

namespace {

// The label of `label`'s class by its author in its task that rests on their mask (evidence kind
// mask), when `label` rests on the mask too; nullopt otherwise.
Result<std::optional<core::Annotation>> MaskLabelOfClass(storage::Transaction& txn, const core::Annotation& label) {
  if (label.evidence_kind != "mask") return std::optional<core::Annotation>();
  CALIPER_ASSIGN_OR_RETURN(auto all, internal::AllAnnotations(txn, label.item_id));
  for (auto& a : all) {
    if (a.author == label.author && a.task_id == label.task_id && a.label_class == label.label_class &&
        a.evidence_kind == "mask") {
      return std::optional<core::Annotation>(std::move(a));
    }
  }
  return std::optional<core::Annotation>();
}

}  // namespace

Result<PrelabelDecisionOutcome> App::DecidePrelabel(const RequestContext& ctx, const std::string& item_id,
                                                    const std::string& prelabel_id,
                                                    const PrelabelDecisionRequest& request) {
  using core::PrelabelStatus;
  if (request.decision == PrelabelStatus::kPending) {
    return Error(ErrorCode::kInvalidArgument, "decision must be accepted, corrected or rejected");
  }
  if ((request.decision == PrelabelStatus::kCorrected) != request.correction.has_value()) {
    return Error(ErrorCode::kInvalidArgument, "a correction (and only a correction) carries the corrected label");
  }
  if (request.reason.size() > 2000) return Error(ErrorCode::kInvalidArgument, "reason must be at most 2000 characters");
  CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kWrite));
  CALIPER_ASSIGN_OR_RETURN(core::Item item, txn->GetItem(item_id));
  auto found = txn->GetPrelabel(prelabel_id);
  CALIPER_ASSIGN_OR_RETURN(core::WorkflowSettings settings, SettingsOf(*txn, item.project_id));
  if (!found.ok() || found->item_id != item_id ||
      core::PrelabelHiddenFor(item.project_id, ctx.principal.user.id, settings.prelabel_hidden_share)) {
    return Error(ErrorCode::kNotFound, "no such pre-label on this item");
  }
  const core::Prelabel& p = *found;
  PrelabelDecisionOutcome out;
  core::PrelabelDecision& d = out.decision;
  d.id = ids_.NewId("pld");
  d.prelabel_id = p.id;
  d.project_id = item.project_id;
  d.item_id = item_id;
  d.reader = ctx.principal.user.id;
  d.status = request.decision;
  d.reason = request.reason;
  d.decided_at = clock_.Now();
  std::vector<AuditRecord> records;
  // The decision belongs to the reader's task on the item, like their labels.
  core::Annotation label;
  if (request.decision == PrelabelStatus::kCorrected) {
    label = *request.correction;
  } else {
    label.evidence_kind = p.evidence_kind;
    label.evidence_json = p.evidence_json;
    label.label_class = p.label_class;
    label.code_system = p.code_system;
    label.code = p.code;
    label.assertion = p.assertion;
    label.confidence = p.score;  // the model's score is the reader's confidence until they change it
    // Context a pre-labeller gave (ConText's temporality and experiencer) comes along.
    const json attributes = json::parse(p.attributes_json.empty() ? "{}" : p.attributes_json, nullptr, false);
    if (attributes.is_object() && attributes.contains("temporality") && attributes["temporality"].is_string()) {
      CALIPER_ASSIGN_OR_RETURN(label.temporality,
                               core::ParseTemporality(attributes["temporality"].get<std::string>()));
    }
    if (attributes.is_object() && attributes.contains("experiencer") && attributes["experiencer"].is_string()) {
      CALIPER_ASSIGN_OR_RETURN(label.experiencer,
                               core::ParseExperiencer(attributes["experiencer"].get<std::string>()));
    }
  }
  label.id = ids_.NewId("ann");
  label.project_id = item.project_id;
  label.item_id = item_id;
  label.author = ctx.principal.user.id;
  label.origin = "prelabel:" + ModelKey(p);
  label.revision = 1;
  label.created_at = label.updated_at = d.decided_at;
  CALIPER_RETURN_IF_ERROR(TouchReaderTask(*txn, ctx, item, label));
  if (label.task_id.empty()) {
    return Error(ErrorCode::kConflict, "you hold no task on this item; claim one before deciding on its pre-labels");
  }
  d.task_id = label.task_id;
  if (request.decision != PrelabelStatus::kRejected) {
    label.guideline_version_id = request.decision == PrelabelStatus::kCorrected ? label.guideline_version_id : "";
    CALIPER_RETURN_IF_ERROR(core::ValidateAnnotation(label));
    CALIPER_ASSIGN_OR_RETURN(core::LabelClass cls, PinToGuideline(*txn, label, item));
    CALIPER_RETURN_IF_ERROR(internal::NeedsQualification(ctx.principal.user, cls, "labelling"));
    // An accepted segmentation of a volume becomes the reader's mask (docs/imaging.md).
    if (request.decision == PrelabelStatus::kAccepted) {
      CALIPER_RETURN_IF_ERROR(PrelabelIntoMask(*txn, ctx, item, p, label, records));
    }
    // A label resting on the reader's mask is their one label of its class on it: the label of
    // the class already resting on an earlier version (theirs, in this task) becomes this one,
    // its former content kept in its history, instead of a second label of the class.
    CALIPER_ASSIGN_OR_RETURN(std::optional<core::Annotation> resting, MaskLabelOfClass(*txn, label));
    if (resting) {
      label.id = resting->id;
      label.status = resting->status;
      label.relations_json = resting->relations_json;
      label.created_at = resting->created_at;
      label.revision = resting->revision + 1;
      CALIPER_RETURN_IF_ERROR(txn->UpdateAnnotation(label, resting->revision));
      CALIPER_RETURN_IF_ERROR(txn->InsertAnnotationVersion(
          {*resting, ctx.principal.user.id, label.updated_at, "pre-label " + p.id + " " + std::string(core::ToString(request.decision))}));
      records.push_back(Record(ctx, "annotation.update", "annotation", label.id,
                               json{{"revision", label.revision}, {"reason_given", true}, {"prelabel_id", p.id}}.dump()));
    } else {
      CALIPER_RETURN_IF_ERROR(txn->InsertAnnotation(label));
      records.push_back(Record(ctx, "annotation.create", "annotation", label.id,
                               json{{"item_id", item_id}, {"label_class", label.label_class}, {"task_id", label.task_id},
                                    {"guideline_version_id", label.guideline_version_id}, {"prelabel_id", p.id}}
                                   .dump()));
    }
    d.annotation_id = label.id;
    if (request.decision == PrelabelStatus::kCorrected) {
      // A segmentation corrected with the reader's stored mask is measured against that mask.
      std::optional<ClassMask> stored;
      if (const auto version = MaskVersionOf(label); version && p.evidence_kind == "voxels") {
        CALIPER_ASSIGN_OR_RETURN(dicom::LabelMap map, StoredMask(*txn, item_id, label.author, *version,
                                                                 [&](const std::string& a) { return GetBlob(*txn, a); }));
        stored = ClassMaskOf(map, label.label_class);
      }
      d.correction_size = CorrectionSize(p, label, stored ? std::optional(quality::MaskView{stored->grid, stored->voxels})
                                                          : std::nullopt);
    }
    out.annotation = label;
  }
  Status inserted = txn->InsertPrelabelDecision(d);
  if (inserted.code() == ErrorCode::kAlreadyExists) {
    return Error(ErrorCode::kConflict, "you decided on this pre-label already");
  }
  CALIPER_RETURN_IF_ERROR(inserted);
  records.push_back(Record(ctx, "prelabel.decide", "prelabel", p.id,
                           json{{"item_id", item_id}, {"decision", core::ToString(d.status)},
                                {"model", ModelKey(p)}, {"annotation_id", d.annotation_id},
                                {"correction_size", d.correction_size ? json(*d.correction_size) : json(nullptr)}}
                               .dump()));
  CALIPER_RETURN_IF_ERROR(CommitWithAudit(*txn, records));
  return out;
}

Result<std::vector<ModelVersionStats>> App::PrelabelStats(const RequestContext& ctx, const std::string& project_id) {
  (void)ctx;
  CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kRead));
  CALIPER_ASSIGN_OR_RETURN(core::WorkflowSettings settings, SettingsOf(*txn, project_id));
  CALIPER_ASSIGN_OR_RETURN(auto prelabels, internal::AllPages<core::Prelabel>([&](const storage::PageRequest& page) {
                             return txn->ListPrelabelsOfProject(project_id, page);
                           }));
  CALIPER_ASSIGN_OR_RETURN(auto decisions,
                           internal::AllPages<core::PrelabelDecision>([&](const storage::PageRequest& page) {
                             return txn->ListPrelabelDecisions(project_id, page);
                           }));
  std::map<std::string, ModelVersionStats> by_model;
  std::map<std::string, std::string> model_of;  // pre-label id -> model key
  // model key -> item id -> classes it suggested there
  std::map<std::string, std::map<std::string, std::set<std::string>>> suggested;
  for (const auto& p : prelabels) {
    ModelVersionStats& s = by_model[ModelKey(p)];
    s.model_name = p.model_name;
    s.model_version = p.model_version;
    ++s.prelabels;
    model_of[p.id] = ModelKey(p);
    suggested[ModelKey(p)][p.item_id].insert(p.label_class);
  }
  std::map<std::string, double> correction_sum;
  for (const auto& d : decisions) {
    ModelVersionStats& s = by_model[model_of[d.prelabel_id]];
    if (d.status == core::PrelabelStatus::kAccepted) ++s.accepted;
    if (d.status == core::PrelabelStatus::kRejected) ++s.rejected;
    if (d.status == core::PrelabelStatus::kCorrected) {
      ++s.corrected;
      correction_sum[model_of[d.prelabel_id]] += d.correction_size.value_or(1.0);
    }
  }
  // Anchoring: every submitted reading on an item with this model's suggestions, split by
  // whether its reader was shown pre-labels.
  for (auto& [key, s] : by_model) {
    const int decided = s.accepted + s.corrected + s.rejected;
    s.acceptance_rate = decided > 0 ? static_cast<double>(s.accepted) / decided : 0.0;
    if (s.corrected > 0) s.mean_correction_size = correction_sum[key] / s.corrected;
    for (const auto& [item_id, classes] : suggested[key]) {
      CALIPER_ASSIGN_OR_RETURN(auto tasks, txn->ListTasksOfItem(item_id));
      CALIPER_ASSIGN_OR_RETURN(auto labels, internal::AllAnnotations(*txn, item_id));
      for (const auto& t : tasks) {
        if (t.assignee.empty() || t.state == core::TaskState::kOpen || t.state == core::TaskState::kClaimed) continue;
        bool agrees = false;
        for (const auto& a : labels) {
          if (a.task_id == t.id && a.author == t.assignee && a.assertion != core::Assertion::kAbsent &&
              classes.count(a.label_class) > 0) {
            agrees = true;
          }
        }
        if (core::PrelabelHiddenFor(project_id, t.assignee, settings.prelabel_hidden_share)) {
          ++s.hidden_readings;
          s.hidden_agreeing += agrees ? 1 : 0;
        } else {
          ++s.shown_readings;
          s.shown_agreeing += agrees ? 1 : 0;
        }
      }
    }
  }
  std::vector<ModelVersionStats> out;
  for (auto& [key, s] : by_model) out.push_back(std::move(s));
  return out;
}

Result<ModelRunReport> App::RunModelBackend(const RequestContext& ctx, const std::string& project_id,
                                            const ModelRunRequest& request, ModelBackendTransport& transport) {
  if (request.backend_url.empty()) return Error(ErrorCode::kInvalidArgument, "backend_url is required");
  if (request.token_minutes < 1 || request.token_minutes > 24 * 60) {
    return Error(ErrorCode::kInvalidArgument, "token_minutes must be 1 to 1440");
  }
  if (ctx.principal.via_token()) {
    return Error(ErrorCode::kPermissionDenied, "API tokens cannot mint item tokens for a model back-end; sign in");
  }
  std::vector<core::Item> items;
  core::GuidelineVersion guideline;
  {
    CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kRead));
    CALIPER_ASSIGN_OR_RETURN(guideline, internal::PublishedGuideline(*txn, project_id, "pre-labels need one"));
    if (request.item_ids.empty()) {
      CALIPER_ASSIGN_OR_RETURN(items, internal::AllPages<core::Item>([&](const storage::PageRequest& page) {
                                 return txn->ListItems(project_id, page);
                               }));
    } else {
      for (const auto& id : request.item_ids) {
        auto item = txn->GetItem(id);
        if (!item.ok() || item->project_id != project_id) return Error(ErrorCode::kNotFound, "no item " + id + " here");
        items.push_back(*item);
      }
    }
  }
  ModelRunReport report;
  report.items = static_cast<int>(items.size());
  const json schema = json::parse(guideline.schema_json);
  for (std::size_t i = 0; i < items.size(); ++i) {
    const core::Item& item = items[i];
    auto fail = [&](const std::string& why) { report.errors.push_back({i, "item " + item.id + ": " + why}); };
    // A token that reads this one item, for a short time.
    const TimeMicros expires = clock_.Now() + request.token_minutes * kMicrosPerMinute;
    security::Authenticator::IssuedToken token;
    {
      CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kWrite));
      CALIPER_ASSIGN_OR_RETURN(token, auth_.IssueApiToken(*txn, ctx.principal.user, project_id,
                                                          "model-backend", {security::Permission::kItemRead},
                                                          expires, item.id));
      CALIPER_RETURN_IF_ERROR(CommitWithAudit(
          *txn, Record(ctx, "token.create", "api_token", token.token.id,
                       json{{"user_id", ctx.principal.user.id}, {"project_id", project_id}, {"item_id", item.id},
                            {"permissions", {"item_read"}}, {"purpose", "model_backend"}}.dump())));
    }
    const std::string path = "/api/v1/items/" + item.id;
    const json body{
        {"protocol", "caliper-prelabel/1"},
        {"task", {{"project_id", project_id}, {"item_id", item.id}, {"kind", "prelabel"}}},
        {"item",
         {{"id", item.id},
          {"data_type", core::ToString(item.data_type)},
          {"modality", item.modality},
          {"content_type", item.content_type},
          {"content_url", request.caliper_url + path + "/content"},
          {"metadata_url", request.caliper_url + path},
          {"token", token.secret},
          {"token_expires_at", FormatRfc3339(expires)}}},
        {"guideline", {{"id", guideline.id}, {"version", guideline.version}}},
        {"schema", schema}};
    auto answer = transport.PostJson(request.backend_url, body.dump());
    if (!answer.ok()) {
      fail(answer.status().message());
      continue;
    }
    const json reply = json::parse(*answer, nullptr, false);
    if (!reply.is_object() || !reply.contains("model") || !reply["model"].is_object() ||
        !reply["model"].value("name", json()).is_string() || !reply["model"].value("version", json()).is_string() ||
        !reply.contains("predictions") || !reply["predictions"].is_array()) {
      fail("the back-end's answer is not {model: {name, version}, predictions: [...]}");
      continue;
    }
    std::vector<core::Prelabel> rows;
    bool malformed = false;
    for (const json& pred : reply["predictions"]) {
      auto row = PrelabelFromJson(pred.dump());
      if (!row.ok()) {
        fail("prediction " + std::to_string(rows.size()) + ": " + row.status().message());
        malformed = true;
        break;
      }
      row->item_id = item.id;
      row->model_name = reply["model"]["name"].get<std::string>();
      row->model_version = reply["model"]["version"].get<std::string>();
      rows.push_back(std::move(row).value());
    }
    if (malformed) continue;
    if (rows.empty()) continue;  // the model found nothing to suggest
    auto stored = AddPrelabels(ctx, project_id, std::move(rows));
    if (!stored.ok()) {
      fail(stored.status().message());
      continue;
    }
    for (auto& p : stored->stored) report.stored.push_back(std::move(p));
    for (const auto& e : stored->errors) fail("prediction " + std::to_string(e.index) + ": " + e.message);
  }
  return report;
}

}  // namespace caliper::app

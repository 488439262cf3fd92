// Project files: a whole project — name, label schema, workflow, text and DICOM settings — in one JSON
// document, created in one transaction (docs/project-file.md).

#include <nlohmann/json.hpp>

#include "app/ingest_internal.h"
#include "app/workflow_internal.h"
#include "caliper/app/app.h"
#include "caliper/core/rules.h"

namespace caliper::app {
namespace {

using nlohmann::json;
using internal::CheckFields;
using internal::StringField;
using storage::TxnMode;

Result<json> ParseObject(const std::string& text, const std::string& what) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Error(ErrorCode::kInvalidArgument, what + " must be a JSON object");
  return j;
}

Result<int> IntField(const json& object, const char* name, const std::string& where, int fallback) {
  if (!object.contains(name)) return fallback;
  const json& v = object[name];
  if (!v.is_number_integer() || v.get<std::int64_t>() < -1'000'000 || v.get<std::int64_t>() > 1'000'000) {
    return Error(ErrorCode::kInvalidArgument, "field '" + where + name + "' must be a whole number");
  }
  return v.get<int>();
}

Result<double> NumberField(const json& object, const char* name, const std::string& where, double fallback) {
  if (!object.contains(name)) return fallback;
  if (!object[name].is_number()) return Error(ErrorCode::kInvalidArgument, "field '" + where + name + "' must be a number");
  return object[name].get<double>();
}

Result<std::vector<std::string>> StringsField(const json& object, const char* name, const std::string& where) {
  std::vector<std::string> out;
  if (!object.contains(name)) return out;
  const json& v = object[name];
  if (!v.is_array()) return Error(ErrorCode::kInvalidArgument, "field '" + where + name + "' must be a list of strings");
  for (const json& e : v) {
    if (!e.is_string()) return Error(ErrorCode::kInvalidArgument, "field '" + where + name + "' must be a list of strings");
    out.push_back(e.get<std::string>());
  }
  return out;
}

Result<core::WorkflowSettings> WorkflowFrom(const json& j, const std::string& where) {
  CALIPER_RETURN_IF_ERROR(CheckFields(j, where,
                                      {"readers_per_item", "required_qualification", "data_types", "lease_minutes",
                                       "task_order", "prelabel_hidden_share", "gold_rate", "review_rate",
                                       "repeat_rate", "washout_days", "washout_readings"},
                                      {}));
  core::WorkflowSettings w;
  CALIPER_ASSIGN_OR_RETURN(w.readers_per_item, IntField(j, "readers_per_item", where, w.readers_per_item));
  CALIPER_ASSIGN_OR_RETURN(w.lease_minutes, IntField(j, "lease_minutes", where, w.lease_minutes));
  CALIPER_ASSIGN_OR_RETURN(w.prelabel_hidden_share,
                           NumberField(j, "prelabel_hidden_share", where, w.prelabel_hidden_share));
  CALIPER_ASSIGN_OR_RETURN(w.gold_rate, NumberField(j, "gold_rate", where, w.gold_rate));
  CALIPER_ASSIGN_OR_RETURN(w.review_rate, NumberField(j, "review_rate", where, w.review_rate));
  CALIPER_ASSIGN_OR_RETURN(w.repeat_rate, NumberField(j, "repeat_rate", where, w.repeat_rate));
  CALIPER_ASSIGN_OR_RETURN(w.washout_days, IntField(j, "washout_days", where, w.washout_days));
  CALIPER_ASSIGN_OR_RETURN(w.washout_readings, IntField(j, "washout_readings", where, w.washout_readings));
  if (j.contains("task_order")) {
    CALIPER_ASSIGN_OR_RETURN(std::string order, StringField(j, "task_order", where));
    CALIPER_ASSIGN_OR_RETURN(w.task_order, core::ParseTaskOrder(order));
  }
  if (j.contains("required_qualification") && !j["required_qualification"].is_null()) {
    CALIPER_ASSIGN_OR_RETURN(std::string q, StringField(j, "required_qualification", where));
    CALIPER_ASSIGN_OR_RETURN(w.required_qualification, core::ParseQualification(q));
  }
  CALIPER_ASSIGN_OR_RETURN(auto types, StringsField(j, "data_types", where));
  for (const auto& t : types) {
    CALIPER_ASSIGN_OR_RETURN(auto type, core::ParseDataType(t));
    w.data_types.push_back(type);
  }
  return w;
}

Result<core::TextSettings> TextFrom(const json& j) {
  CALIPER_RETURN_IF_ERROR(CheckFields(j, "text.", {"deid_mode", "clinician_names"}, {}));
  core::TextSettings t;
  if (j.contains("deid_mode")) {
    CALIPER_ASSIGN_OR_RETURN(t.deid_mode, StringField(j, "deid_mode", "text."));
  }
  CALIPER_ASSIGN_OR_RETURN(t.clinician_names, StringsField(j, "clinician_names", "text."));
  return t;
}

Result<core::DicomSettings> DicomFrom(const json& j) {
  CALIPER_RETURN_IF_ERROR(CheckFields(j, "dicom.", {"options", "safe_private", "blanking"}, {}));
  core::DicomSettings d;
  CALIPER_ASSIGN_OR_RETURN(d.options, StringsField(j, "options", "dicom."));
  CALIPER_ASSIGN_OR_RETURN(d.safe_private, StringsField(j, "safe_private", "dicom."));
  CALIPER_ASSIGN_OR_RETURN(d.blanking, StringsField(j, "blanking", "dicom."));
  return d;
}

}  // namespace

Result<core::WorkflowSettings> WorkflowSettingsFromJson(const std::string& project_id, const std::string& json_text) {
  CALIPER_ASSIGN_OR_RETURN(json j, ParseObject(json_text, "the workflow settings"));
  CALIPER_ASSIGN_OR_RETURN(core::WorkflowSettings w, WorkflowFrom(j, ""));
  w.project_id = project_id;
  return w;
}

Result<ProjectFile> ProjectFileFromJson(const std::string& json_text) {
  CALIPER_ASSIGN_OR_RETURN(json j, ParseObject(json_text, "a project file"));
  CALIPER_RETURN_IF_ERROR(CheckFields(j, "",
                                      {"$schema", "caliper_project", "name", "description", "guideline", "publish",
                                       "workflow", "text", "dicom"},
                                      {"name", "guideline"}));
  if (j.contains("caliper_project") && j["caliper_project"] != 1) {
    return Error(ErrorCode::kInvalidArgument, "caliper_project must be 1 (the only project file format so far)");
  }
  ProjectFile f;
  CALIPER_ASSIGN_OR_RETURN(f.name, StringField(j, "name", ""));
  CALIPER_ASSIGN_OR_RETURN(f.description, StringField(j, "description", ""));
  if (!j["guideline"].is_object()) {
    return Error(ErrorCode::kInvalidArgument, "field 'guideline' must be a label schema (a JSON object)");
  }
  f.schema_json = j["guideline"].dump();
  if (j.contains("publish")) {
    if (!j["publish"].is_boolean()) return Error(ErrorCode::kInvalidArgument, "field 'publish' must be true or false");
    f.publish = j["publish"].get<bool>();
  }
  if (j.contains("workflow")) {
    CALIPER_ASSIGN_OR_RETURN(f.workflow, WorkflowFrom(j["workflow"], "workflow."));
  }
  if (j.contains("text")) {
    CALIPER_ASSIGN_OR_RETURN(f.text, TextFrom(j["text"]));
  }
  if (j.contains("dicom")) {
    CALIPER_ASSIGN_OR_RETURN(f.dicom, DicomFrom(j["dicom"]));
  }
  return f;
}

Result<ProjectFromFile> App::CreateProjectFromFile(const RequestContext& ctx, const ProjectFile& file) {
  // Everything that can be checked without the database is checked before it is touched.
  CALIPER_ASSIGN_OR_RETURN(std::string canonical, core::CanonicalLabelSchema(file.schema_json));
  ProjectFromFile out;
  if (file.workflow) {
    out.workflow = *file.workflow;
    CALIPER_RETURN_IF_ERROR(internal::ValidateWorkflowSettings(out.workflow));
  }
  if (file.text) {
    out.text = *file.text;
    CALIPER_RETURN_IF_ERROR(internal::ValidateTextSettings(out.text));
  }
  if (file.dicom) {
    out.dicom = *file.dicom;
    CALIPER_RETURN_IF_ERROR(internal::NormaliseDicomSettings(out.dicom).WithContext("dicom"));
  }
  const TimeMicros now = clock_.Now();
  CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kWrite));
  CALIPER_ASSIGN_OR_RETURN(out.project, InsertNewProject(*txn, ctx, file.name, file.description));
  std::vector<security::AuditRecord> records{Record(ctx, "project.create", "project", out.project.id)};

  core::GuidelineVersion& g = out.guideline;
  g.id = ids_.NewId("gdl");
  g.project_id = out.project.id;
  g.schema_json = std::move(canonical);
  g.created_at = now;
  g.created_by = ctx.actor();
  if (file.publish) {
    g.status = core::GuidelineStatus::kPublished;
    g.version = 1;
    g.published_at = now;
  }
  CALIPER_RETURN_IF_ERROR(txn->InsertGuidelineVersion(g));
  records.push_back(Record(ctx, "guideline.create", "guideline_version", g.id, internal::GuidelineDetails(g).dump()));
  if (file.publish) {
    records.push_back(Record(ctx, "guideline.publish", "guideline_version", g.id, internal::GuidelineDetails(g).dump()));
  }

  out.workflow.project_id = out.project.id;
  out.text.project_id = out.project.id;
  out.dicom.project_id = out.project.id;
  if (file.workflow) {
    out.workflow.updated_at = now;
    CALIPER_RETURN_IF_ERROR(txn->PutWorkflowSettings(out.workflow));
    records.push_back(WorkflowUpdateRecord(ctx, out.workflow));
  }
  if (file.text) {
    out.text.updated_at = now;
    CALIPER_RETURN_IF_ERROR(txn->PutTextSettings(out.text));
    records.push_back(TextSettingsRecord(ctx, out.text));
  }
  if (file.dicom) {
    out.dicom.updated_at = now;
    CALIPER_RETURN_IF_ERROR(txn->PutDicomSettings(out.dicom));
    records.push_back(DicomSettingsRecord(ctx, out.dicom));
  }
  CALIPER_RETURN_IF_ERROR(CommitWithAudit(*txn, records));
  return out;
}

}  // namespace caliper::app

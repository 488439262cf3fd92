#include "http/route.h"

#include <charconv>
#include <cmath>

#include "caliper/core/rules.h"

namespace caliper::http {
namespace {

std::string_view TypeName(FieldType t) {
  switch (t) {
    case FieldType::kString: return "a string";
    case FieldType::kInteger: return "an integer";
    case FieldType::kNumber: return "a number";
    case FieldType::kNullableNumber: return "a number or null";
    case FieldType::kBoolean: return "true or false";
    case FieldType::kStringArray: return "an array of strings";
    case FieldType::kObject: return "an object";
    case FieldType::kObjectArray: return "an array of objects";
  }
  return "a value";
}

bool HasType(const json& v, FieldType t) {
  switch (t) {
    case FieldType::kString: return v.is_string();
    case FieldType::kInteger: return v.is_number_integer();
    case FieldType::kNumber: return v.is_number();
    case FieldType::kNullableNumber: return v.is_number() || v.is_null();
    case FieldType::kBoolean: return v.is_boolean();
    case FieldType::kObject: return v.is_object();
    case FieldType::kObjectArray:
      if (!v.is_array()) return false;
      for (const auto& e : v) {
        if (!e.is_object()) return false;
      }
      return true;
    case FieldType::kStringArray:
      if (!v.is_array()) return false;
      for (const auto& e : v) {
        if (!e.is_string()) return false;
      }
      return true;
  }
  return false;
}

json OptionalTime(const std::optional<TimeMicros>& t) {
  return t ? json(FormatRfc3339(*t)) : json(nullptr);
}

// Reads one sub-object strictly: only `allowed` keys, each of the given type.
Status CheckObject(const json& obj, const std::string& name, const std::vector<Field>& allowed) {
  auto checked = ParseStrictJson(obj.dump(), allowed);
  return checked.ok() ? Status::Ok() : checked.status().WithContext(name);
}

}  // namespace

Result<core::Annotation> AnnotationFrom(const json& body) {
  core::Annotation a;
  const json& evidence = body["evidence"];
  CALIPER_RETURN_IF_ERROR(CheckObject(evidence, "evidence",
                                      {{"kind", FieldType::kString, true, ""}, {"data", FieldType::kObject, false, ""}}));
  a.evidence_kind = evidence["kind"].get<std::string>();
  a.evidence_json = evidence.value("data", json::object()).dump();
  const json& label = body["label"];
  CALIPER_RETURN_IF_ERROR(CheckObject(label, "label",
                                      {{"class", FieldType::kString, true, ""},
                                       {"code_system", FieldType::kString, false, ""},
                                       {"code", FieldType::kString, false, ""}}));
  a.label_class = label["class"].get<std::string>();
  a.code_system = label.value("code_system", "");
  a.code = label.value("code", "");
  if (body.contains("uncertainty")) {
    const json& u = body["uncertainty"];
    CALIPER_RETURN_IF_ERROR(CheckObject(u, "uncertainty",
                                        {{"confidence", FieldType::kNullableNumber, false, ""},
                                         {"assertion", FieldType::kString, false, ""}}));
    if (u.contains("confidence") && !u["confidence"].is_null()) a.confidence = u["confidence"].get<double>();
    if (u.contains("assertion")) {
      CALIPER_ASSIGN_OR_RETURN(a.assertion, core::ParseAssertion(u["assertion"].get<std::string>()));
    }
  }
  if (body.contains("context")) {
    const json& c = body["context"];
    CALIPER_RETURN_IF_ERROR(CheckObject(c, "context",
                                        {{"temporality", FieldType::kString, false, ""},
                                         {"experiencer", FieldType::kString, false, ""}}));
    if (c.contains("temporality")) {
      CALIPER_ASSIGN_OR_RETURN(a.temporality, core::ParseTemporality(c["temporality"].get<std::string>()));
    }
    if (c.contains("experiencer")) {
      CALIPER_ASSIGN_OR_RETURN(a.experiencer, core::ParseExperiencer(c["experiencer"].get<std::string>()));
    }
  }
  if (body.contains("relations")) {
    const json& relations = body["relations"];
    if (!relations.is_array()) return Error(ErrorCode::kInvalidArgument, "field 'relations' must be an array");
    json out = json::array();
    for (std::size_t i = 0; i < relations.size(); ++i) {
      CALIPER_RETURN_IF_ERROR(CheckObject(relations[i], "relations[" + std::to_string(i) + "]",
                                          {{"type", FieldType::kString, true, ""},
                                           {"target", FieldType::kString, true, ""}}));
      out.push_back({{"type", relations[i]["type"]}, {"target", relations[i]["target"]}});
    }
    a.relations_json = out.dump();
  }
  a.guideline_version_id = body.value("guideline_version_id", "");
  return a;
}

const std::vector<RegisteredRoute>& RouteTable() {
  static const std::vector<RegisteredRoute> kTable = [] {
    std::vector<RegisteredRoute> all;
    auto add = [&](std::vector<Route> routes, const std::string& area) {
      for (auto& r : routes) all.push_back({std::move(r), area});
    };
    add(SystemRoutes(), "system");
    add(AuthRoutes(), "auth");
    add(UserRoutes(), "users");
    add(ProjectRoutes(), "projects");
    add(ItemRoutes(), "items");
    add(AuditRoutes(), "audit");
    add(WorkflowRoutes(), "workflow");
    add(QualityRoutes(), "quality");
    add(NoteRoutes(), "notes");
    add(ExportRoutes(), "exports");
    add(PrelabelRoutes(), "prelabels");
    add(ImagingRoutes(), "imaging");
    add(WaveformRoutes(), "waveforms");
    add(PathologyRoutes(), "pathology");
    return all;
  }();
  return kTable;
}

Reply JsonReply(const json& body, int status) {
  Reply r;
  r.status = status;
  r.body = body.dump();
  return r;
}

Result<storage::PageRequest> PageFrom(const httplib::Request& req) {
  storage::PageRequest page;
  if (req.has_param("cursor")) page.after = req.get_param_value("cursor");
  if (req.has_param("limit")) {
    const std::string text = req.get_param_value("limit");
    int limit = 0;
    for (char c : text) {
      if (c < '0' || c > '9' || limit > 100000) {
        return Error(ErrorCode::kInvalidArgument, "limit must be a whole number from 1 to 500");
      }
      limit = limit * 10 + (c - '0');
    }
    if (limit < 1 || limit > 500) {
      return Error(ErrorCode::kInvalidArgument, "limit must be a whole number from 1 to 500");
    }
    page.limit = limit;
  }
  return page;
}

std::string ETagOf(std::int64_t revision) { return "\"" + std::to_string(revision) + "\""; }

Result<std::int64_t> IfMatchRevision(const httplib::Request& req) {
  const std::string if_match = req.get_header_value("If-Match");
  if (if_match.size() < 3 || if_match.front() != '"' || if_match.back() != '"') {
    return Error(ErrorCode::kPreconditionFailed, "send If-Match with the ETag you read");
  }
  std::int64_t revision = 0;
  for (std::size_t i = 1; i + 1 < if_match.size(); ++i) {
    const char c = if_match[i];
    if (c < '0' || c > '9' || revision > 1'000'000'000'000) {
      return Error(ErrorCode::kPreconditionFailed, "If-Match is not an ETag this server made");
    }
    revision = revision * 10 + (c - '0');
  }
  return revision;
}

Result<json> ParseStrictJson(const std::string& text, const std::vector<Field>& fields) {
  json body = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) return Error(ErrorCode::kMalformedJson, "the body is not valid JSON");
  if (!body.is_object()) return Error(ErrorCode::kInvalidArgument, "the body must be a JSON object");
  for (const auto& [key, value] : body.items()) {
    const Field* field = nullptr;
    for (const auto& f : fields) {
      if (f.name == key) field = &f;
    }
    if (field == nullptr) {
      std::string known;
      for (const auto& f : fields) known += (known.empty() ? "" : ", ") + f.name;
      return Error(ErrorCode::kUnknownField,
                   "unknown field '" + key + "' (this endpoint takes: " + known + ")");
    }
    if (!HasType(value, field->type)) {
      return Error(ErrorCode::kInvalidArgument,
                   "field '" + key + "' must be " + std::string(TypeName(field->type)));
    }
  }
  for (const auto& f : fields) {
    if (f.required && !body.contains(f.name)) {
      return Error(ErrorCode::kInvalidArgument, "field '" + f.name + "' is required");
    }
  }
  return body;
}

Result<std::optional<double>> QueryNumber(const httplib::Request& req, const char* name) {
  if (!req.has_param(name)) return std::optional<double>();
  const std::string text = req.get_param_value(name);
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value)) {
    return Error(ErrorCode::kInvalidArgument, std::string(name) + " must be a number");
  }
  return std::optional<double>(value);
}

std::vector<std::string> StringList(const json& value) {
  std::vector<std::string> out;
  if (value.is_array()) {
    for (const auto& e : value) out.push_back(e.get<std::string>());
  }
  return out;
}

json UserJson(const core::User& u) {
  json quals = json::array();
  for (auto q : u.qualifications) quals.push_back(core::ToString(q));
  return json{{"id", u.id},
              {"username", u.username},
              {"display_name", u.display_name},
              {"is_admin", u.is_admin},
              {"disabled", u.disabled},
              {"must_change_password", u.must_change_password},
              {"locked_until", OptionalTime(u.locked_until)},
              {"qualifications", quals},
              {"created_at", FormatRfc3339(u.created_at)}};
}

json ProjectJson(const core::Project& p) {
  return json{{"id", p.id},
              {"name", p.name},
              {"description", p.description},
              {"created_at", FormatRfc3339(p.created_at)},
              {"created_by", p.created_by}};
}

json MembershipJson(const core::Membership& m) {
  json roles = json::array(), scopes = json::array();
  for (auto r : m.roles) roles.push_back(core::ToString(r));
  for (auto s : m.scopes) scopes.push_back(core::ToString(s));
  return json{{"project_id", m.project_id},
              {"user_id", m.user_id},
              {"roles", roles},
              {"scopes", scopes},
              {"created_at", FormatRfc3339(m.created_at)}};
}

json ItemJson(const core::Item& i) {
  return json{{"id", i.id},
              {"project_id", i.project_id},
              {"data_type", core::ToString(i.data_type)},
              {"modality", i.modality},
              {"patient_key", i.patient_key},
              {"cohort", json::parse(i.cohort_json.empty() ? "{}" : i.cohort_json, nullptr, false)},
              {"content_type", i.content_type},
              {"content_bytes", i.content_bytes},
              {"created_at", FormatRfc3339(i.created_at)}};
}

json TaskJson(const core::Task& t) {
  return json{{"id", t.id},
              {"project_id", t.project_id},
              {"item_id", t.item_id},
              {"assignee", t.assignee},
              {"state", core::ToString(t.state)},
              {"lease_expires_at", OptionalTime(t.lease_expires_at)},
              {"revision", t.revision},
              {"created_at", FormatRfc3339(t.created_at)},
              {"updated_at", FormatRfc3339(t.updated_at)}};
}

json AnnotationJson(const core::Annotation& a) {
  return json{
      {"id", a.id},
      {"item_id", a.item_id},
      {"project_id", a.project_id},
      {"author", a.author},
      {"guideline_version_id", a.guideline_version_id},
      {"evidence", {{"kind", a.evidence_kind},
                    {"data", json::parse(a.evidence_json.empty() ? "{}" : a.evidence_json, nullptr, false)}}},
      {"label", {{"class", a.label_class}, {"code_system", a.code_system}, {"code", a.code}}},
      {"uncertainty", {{"confidence", a.confidence ? json(*a.confidence) : json(nullptr)},
                       {"assertion", core::ToString(a.assertion)}}},
      {"context", {{"temporality", core::ToString(a.temporality)}, {"experiencer", core::ToString(a.experiencer)}}},
      {"relations", json::parse(a.relations_json.empty() ? "[]" : a.relations_json, nullptr, false)},
      {"status", core::ToString(a.status)},
      {"origin", a.origin},
      {"revision", a.revision},
      {"created_at", FormatRfc3339(a.created_at)},
      {"updated_at", FormatRfc3339(a.updated_at)}};
}

json GuidelineJson(const core::GuidelineVersion& g) {
  return json{{"id", g.id},
              {"project_id", g.project_id},
              {"version", g.version == 0 ? json(nullptr) : json(g.version)},
              {"status", core::ToString(g.status)},
              {"schema", json::parse(g.schema_json, nullptr, false)},
              {"based_on", g.based_on.empty() ? json(nullptr) : json(g.based_on)},
              {"revision", g.revision},
              {"created_at", FormatRfc3339(g.created_at)},
              {"created_by", g.created_by},
              {"published_at", OptionalTime(g.published_at)}};
}

json TextSettingsJson(const core::TextSettings& t) {
  return json{{"project_id", t.project_id},
              {"deid_mode", t.deid_mode},
              {"clinician_names", t.clinician_names},
              {"updated_at", t.updated_at == 0 ? json(nullptr) : json(FormatRfc3339(t.updated_at))}};
}

json DicomSettingsJson(const core::DicomSettings& d) {
  return json{{"project_id", d.project_id},
              {"options", d.options},
              {"safe_private", d.safe_private},
              {"blanking", d.blanking},
              {"updated_at", d.updated_at == 0 ? json(nullptr) : json(FormatRfc3339(d.updated_at))}};
}

json WorkflowSettingsJson(const core::WorkflowSettings& w) {
  json types = json::array();
  for (auto t : w.data_types) types.push_back(core::ToString(t));
  return json{{"readers_per_item", w.readers_per_item},
              {"required_qualification",
               w.required_qualification ? json(core::ToString(*w.required_qualification)) : json(nullptr)},
              {"data_types", types},
              {"lease_minutes", w.lease_minutes},
              {"task_order", core::ToString(w.task_order)},
              {"prelabel_hidden_share", w.prelabel_hidden_share},
              {"gold_rate", w.gold_rate},
              {"review_rate", w.review_rate},
              {"repeat_rate", w.repeat_rate},
              {"washout_days", w.washout_days},
              {"washout_readings", w.washout_readings}};
}

json PrelabelJson(const core::Prelabel& p) {
  auto parsed = [](const std::string& text) { return json::parse(text.empty() ? "{}" : text, nullptr, false); };
  return json{{"id", p.id},
              {"project_id", p.project_id},
              {"item_id", p.item_id},
              {"model", {{"name", p.model_name}, {"version", p.model_version}}},
              {"guideline_version_id", p.guideline_version_id},
              {"evidence", {{"kind", p.evidence_kind}, {"data", parsed(p.evidence_json)}}},
              {"label", {{"class", p.label_class}, {"code_system", p.code_system}, {"code", p.code}}},
              {"assertion", core::ToString(p.assertion)},
              {"attributes", parsed(p.attributes_json)},
              {"score", p.score ? json(*p.score) : json(nullptr)},
              {"scores", parsed(p.scores_json)},
              {"created_at", FormatRfc3339(p.created_at)},
              {"created_by", p.created_by}};
}

json PrelabelDecisionJson(const core::PrelabelDecision& d) {
  return json{{"id", d.id},
              {"prelabel_id", d.prelabel_id},
              {"item_id", d.item_id},
              {"reader", d.reader},
              {"task_id", d.task_id},
              {"status", core::ToString(d.status)},
              {"annotation_id", d.annotation_id.empty() ? json(nullptr) : json(d.annotation_id)},
              {"correction_size", d.correction_size ? json(*d.correction_size) : json(nullptr)},
              {"reason", d.reason},
              {"decided_at", FormatRfc3339(d.decided_at)}};
}

json ModelVersionStatsJson(const app::ModelVersionStats& s) {
  auto share = [](int part, int whole) { return whole > 0 ? json(static_cast<double>(part) / whole) : json(nullptr); };
  return json{{"model", {{"name", s.model_name}, {"version", s.model_version}}},
              {"prelabels", s.prelabels},
              {"accepted", s.accepted},
              {"corrected", s.corrected},
              {"rejected", s.rejected},
              {"acceptance_rate", s.accepted + s.corrected + s.rejected > 0 ? json(s.acceptance_rate) : json(nullptr)},
              {"mean_correction_size", s.mean_correction_size ? json(*s.mean_correction_size) : json(nullptr)},
              {"anchoring",
               {{"shown", {{"readings", s.shown_readings}, {"agreeing", s.shown_agreeing},
                           {"agreement", share(s.shown_agreeing, s.shown_readings)}}},
                {"hidden", {{"readings", s.hidden_readings}, {"agreeing", s.hidden_agreeing},
                            {"agreement", share(s.hidden_agreeing, s.hidden_readings)}}}}}};
}

json GuidelineDiffJson(const app::GuidelineDiff& d) {
  json classes = json::array();
  for (const auto& c : d.classes) classes.push_back(json{{"id", c.id}, {"change", c.change}, {"fields", c.fields}});
  return json{{"from", {{"id", d.from.id}, {"version", d.from.version}}},
              {"to", {{"id", d.to.id}, {"version", d.to.version}}},
              {"classes", classes}};
}

json GoldItemJson(const core::GoldItem& g) {
  json answers = json::array();
  for (const auto& c : g.answer) answers.push_back(json{{"class", c}});
  return json{{"item_id", g.item_id}, {"answers", answers}, {"set_by", g.set_by}, {"set_at", FormatRfc3339(g.set_at)}};
}

json TruthScoresJson(const app::TruthScores& s) {
  auto rows = [](const std::vector<app::TruthScore>& scores, const char* key) {
    json out = json::array();
    for (const auto& t : scores) {
      out.push_back(json{{key, t.reader}, {"confirmed", t.confirmed}, {"refuted", t.refuted},
                         {"provisional", t.provisional}, {"unconfirmed", t.unconfirmed},
                         {"accuracy", t.accuracy ? json(*t.accuracy) : json(nullptr)}});
    }
    return out;
  };
  return json{{"readers", rows(s.readers, "reader")}, {"models", rows(s.models, "model")}};
}

json LabelTruthJson(const app::LabelTruth& l) {
  return json{{"annotation_id", l.annotation.id}, {"item_id", l.annotation.item_id},
              {"class", l.annotation.label_class}, {"author", l.annotation.author},
              {"status", l.status}, {"outcome_id", l.outcome_id}};
}

json RowErrorsJson(const std::vector<app::RowError>& errors) {
  json out = json::array();
  for (const auto& e : errors) out.push_back(json{{"index", e.index}, {"message", e.message}});
  return out;
}

Result<json> AnnotationsJsonWithTruth(app::App& app, const std::vector<core::Annotation>& labels) {
  CALIPER_ASSIGN_OR_RETURN(auto truth, app.TruthOfLabels(labels));
  json out = json::array();
  for (const auto& a : labels) {
    json j = AnnotationJson(a);
    const auto t = truth.find(a.id);
    j["truth"] = t == truth.end() ? json(nullptr)
                                  : json{{"status", t->second.status},
                                         {"outcome_id", t->second.outcome_id.empty() ? json(nullptr)
                                                                                     : json(t->second.outcome_id)}};
    out.push_back(std::move(j));
  }
  return out;
}

Result<json> AnnotationJsonWithTruth(app::App& app, const core::Annotation& a) {
  CALIPER_ASSIGN_OR_RETURN(json one, AnnotationsJsonWithTruth(app, {a}));
  return one.at(0);
}

json ReviewJson(const core::Review& r) {
  return json{{"id", r.id},
              {"task_id", r.task_id},
              {"annotation_id", r.annotation_id.empty() ? json(nullptr) : json(r.annotation_id)},
              {"reviewer", r.reviewer},
              {"decision", core::ToString(r.decision)},
              {"reason_code", r.reject_reason ? json(core::ToString(*r.reject_reason)) : json(nullptr)},
              {"reason", r.reason},
              {"corrected_annotation_id",
               r.corrected_annotation_id.empty() ? json(nullptr) : json(r.corrected_annotation_id)},
              {"created_at", FormatRfc3339(r.created_at)}};
}

json AdjudicationJson(const core::Adjudication& a) {
  return json{{"id", a.id},
              {"item_id", a.item_id},
              {"adjudicator", a.adjudicator},
              {"source_annotation_id", a.source_annotation_id.empty() ? json(nullptr) : json(a.source_annotation_id)},
              {"final_annotation_id", a.final_annotation_id},
              {"rationale", a.rationale},
              {"created_at", FormatRfc3339(a.created_at)}};
}

json ApiTokenJson(const storage::ApiToken& t) {
  return json{{"id", t.id},
              {"name", t.name},
              {"user_id", t.user_id},
              {"project_id", t.project_id},
              {"permissions", t.permissions},
              {"created_at", FormatRfc3339(t.created_at)},
              {"expires_at", OptionalTime(t.expires_at)},
              {"revoked_at", OptionalTime(t.revoked_at)}};
}

json AuditEventJson(const storage::AuditEvent& e) {
  return json{{"seq", e.seq},
              {"time", FormatRfc3339(e.time)},
              {"actor", e.actor},
              {"session_id", e.session_id},
              {"source_address", e.source_address},
              {"action", e.action},
              {"object_type", e.object_type},
              {"object_id", e.object_id},
              {"outcome", e.outcome},
              {"details", json::parse(e.details_json, nullptr, false)},
              {"prev_hash", e.prev_hash},
              {"hash", e.hash}};
}

}  // namespace caliper::http

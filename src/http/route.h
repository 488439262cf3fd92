#pragma once

// What a route table entry is, and the helpers handlers share. Internal to http.

#include <httplib.h>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "caliper/app/app.h"
#include "caliper/common/status.h"
#include "caliper/security/policy.h"

namespace caliper::http {

using nlohmann::json;

enum class FieldType { kString, kInteger, kNumber, kBoolean, kStringArray, kObject, kNullableNumber, kObjectArray };

// One field of a JSON request body. Bodies are strict: unknown fields, missing required
// fields and wrong types are 400s that name the field.
struct Field {
  std::string name;
  FieldType type;
  bool required;
  std::string description;
  std::vector<std::string> values = {};  // kString: the accepted values (OpenAPI enum); the handler checks them
};

// kDicomStow, kMask and kSlide: the raw body (up to server.max_upload_bytes), which the
// handler checks (Content-Type) and parses; RawMediaTypes names its types for OpenAPI. kFormFiles:
// multipart/form-data of file parts only (no 'metadata' part), read by the handler.
enum class BodyKind { kNone, kJson, kMultipart, kDicomStow, kMask, kFormFiles, kSlide };
inline bool IsRawBody(BodyKind kind) {
  return kind == BodyKind::kDicomStow || kind == BodyKind::kMask || kind == BodyKind::kSlide;
}
inline std::vector<std::string> RawMediaTypes(BodyKind kind) {
  if (kind == BodyKind::kDicomStow) return {"multipart/related"};
  if (kind == BodyKind::kSlide) return {"application/octet-stream"};
  return {"application/gzip", "application/dicom"};  // kMask: NIfTI or DICOM-SEG
}

// What a handler gets: the authenticated request.
struct Call {
  const httplib::Request& req;
  app::RequestContext ctx;
  std::map<std::string, std::string> params;  // path parameters
  json body;                                  // the validated JSON body (kJson routes)
  std::string Param(const std::string& name) const { return params.at(name); }
};

// What a handler answers.
struct Reply {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
};

using Handler = std::function<Result<Reply>(app::App&, Call&)>;

struct Route {
  std::string method;
  std::string path;                  // "/api/v1/projects/{project_id}"
  security::Permission permission;   // checked before the handler
  std::string summary;
  BodyKind body_kind = BodyKind::kNone;
  std::vector<Field> fields;         // for kJson bodies (and the metadata part of kMultipart)
  Handler handler;
};

// A route with the area (table) that declares it, as registered.
struct RegisteredRoute : Route {
  std::string area;
};

// The tables, one per area (src/http/routes/*.cpp).
std::vector<Route> SystemRoutes();
std::vector<Route> AuthRoutes();
std::vector<Route> UserRoutes();
std::vector<Route> ProjectRoutes();
std::vector<Route> ItemRoutes();
std::vector<Route> AuditRoutes();
std::vector<Route> WorkflowRoutes();
std::vector<Route> QualityRoutes();
std::vector<Route> NoteRoutes();
std::vector<Route> ExportRoutes();
std::vector<Route> PrelabelRoutes();
std::vector<Route> ImagingRoutes();
std::vector<Route> WaveformRoutes();
std::vector<Route> PathologyRoutes();
// All of them, in order.
const std::vector<RegisteredRoute>& RouteTable();

// Helpers for handlers.
Reply JsonReply(const json& body, int status = 200);
// Pagination from ?limit=&cursor= (kInvalidArgument on a bad limit).
Result<storage::PageRequest> PageFrom(const httplib::Request& req);
template <typename T, typename F>
json PageJson(const storage::Page<T>& page, F to_json) {
  json data = json::array();
  for (const auto& row : page.rows) data.push_back(to_json(row));
  return json{{"data", data}, {"next_cursor", page.next.empty() ? json(nullptr) : json(page.next)}};
}
// ETags are the quoted revision of a resource. IfMatchRevision reads the revision a client
// sends back in If-Match: kPreconditionFailed when it is missing or not one of ours.
std::string ETagOf(std::int64_t revision);
Result<std::int64_t> IfMatchRevision(const httplib::Request& req);
// Validates `text` against `fields` (see Field).
Result<json> ParseStrictJson(const std::string& text, const std::vector<Field>& fields);
std::vector<std::string> StringList(const json& value);
// A finite number from the query parameter `name`, when present (kInvalidArgument naming it
// when it is not a number).
Result<std::optional<double>> QueryNumber(const httplib::Request& req, const char* name);

// Renderers of domain values (snake_case fields, RFC 3339 times).
json UserJson(const core::User& u);
json ProjectJson(const core::Project& p);
json MembershipJson(const core::Membership& m);
json ItemJson(const core::Item& i);
json TaskJson(const core::Task& t);
json AnnotationJson(const core::Annotation& a);
// AnnotationJson plus "truth": {status: provisional|confirmed|refuted|unconfirmed, outcome_id}
// for a label of a class that needs confirmation, null for the others (App::TruthOfLabels,
// decided now). The plural renders a JSON array; all labels of one project.
Result<json> AnnotationJsonWithTruth(app::App& app, const core::Annotation& a);
Result<json> AnnotationsJsonWithTruth(app::App& app, const std::vector<core::Annotation>& labels);
// Reads an annotation body {evidence, label, uncertainty, guideline_version_id} strictly.
Result<core::Annotation> AnnotationFrom(const json& body);
json GuidelineJson(const core::GuidelineVersion& g);
json WorkflowSettingsJson(const core::WorkflowSettings& w);
json TextSettingsJson(const core::TextSettings& t);
json DicomSettingsJson(const core::DicomSettings& d);
json ReviewJson(const core::Review& r);
json AdjudicationJson(const core::Adjudication& a);
json PrelabelJson(const core::Prelabel& p);
json PrelabelDecisionJson(const core::PrelabelDecision& d);
// The answers of the API and of the CLI's --json (one form for both).
json ModelVersionStatsJson(const app::ModelVersionStats& s);
json GuidelineDiffJson(const app::GuidelineDiff& d);
json GoldItemJson(const core::GoldItem& g);
json TruthScoresJson(const app::TruthScores& s);
json LabelTruthJson(const app::LabelTruth& l);
// A list of rows refused by a bulk operation: [{index, message}].
json RowErrorsJson(const std::vector<app::RowError>& errors);
json ApiTokenJson(const storage::ApiToken& t);
json AuditEventJson(const storage::AuditEvent& e);

}  // namespace caliper::http

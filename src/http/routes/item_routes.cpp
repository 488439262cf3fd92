#include <sstream>

#include "caliper/core/rules.h"
#include "http/route.h"

namespace caliper::http {
namespace {

// The label with its truth status (AnnotationJsonWithTruth) and its ETag.
Result<Reply> AnnotationReply(app::App& app, const core::Annotation& a, int status = 200) {
  CALIPER_ASSIGN_OR_RETURN(json body, AnnotationJsonWithTruth(app, a));
  Reply r = JsonReply(body, status);
  r.headers.emplace_back("ETag", ETagOf(a.revision));
  return r;
}

// The label fields shared by create and update: evidence, label, uncertainty.
const std::vector<Field>& AnnotationFields() {
  static const std::vector<Field> kFields = {
      {"evidence", FieldType::kObject, true,
       "{kind: span|voxels|roi|value|time|document|mask, data: {...}} where in the source (mask: {version}, "
       "one of your mask versions on the item)"},
      {"label", FieldType::kObject, true, "{class, code_system, code}: the target label and its code"},
      {"uncertainty", FieldType::kObject, false,
       "{confidence: 0..1, assertion: present|absent|possible|conditional|hypothetical}"},
      {"context", FieldType::kObject, false,
       "{temporality: current|historical|future, experiencer: patient|family|other} (defaults current, patient)"},
      {"relations", FieldType::kObjectArray, false,
       "[{type, target}]: relations of the schema from this label to another label of yours on the item"},
      {"guideline_version_id", FieldType::kString, false, "the guideline version in force"},
  };
  return kFields;
}

// A replacement carries the label and, optionally, why (kept in the annotation's history).
const std::vector<Field>& AnnotationUpdateFields() {
  static const std::vector<Field> kFields = [] {
    std::vector<Field> fields = AnnotationFields();
    fields.push_back({"reason", FieldType::kString, false, "why the label changed (optional; kept in its history)"});
    return fields;
  }();
  return kFields;
}

}  // namespace

// Media types item content is stored and served as. Anything else (text/html, scripts, SVG)
// becomes application/octet-stream, so uploaded content can never run in the app's origin.
std::string SafeContentType(const std::string& declared) {
  static const std::vector<std::string> kAllowed = {
      "application/dicom", "application/octet-stream", "application/json", "application/gzip",
      "application/zip", "text/plain", "text/csv", "image/png", "image/jpeg", "image/tiff"};
  std::string base = declared.substr(0, declared.find(';'));
  base.erase(base.find_last_not_of(' ') + 1);
  for (auto& c : base) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const auto& allowed : kAllowed) {
    if (base == allowed) return base.rfind("text/", 0) == 0 ? base + "; charset=utf-8" : base;
  }
  return "application/octet-stream";
}

std::vector<Route> ItemRoutes() {
  using security::Permission;
  return {
      {"POST", "/api/v1/projects/{project_id}/items", Permission::kItemCreate,
       "Add an item: multipart/form-data with a 'metadata' part (JSON, the fields below) and a "
       "'content' part (the de-identified bytes, encrypted at rest under the patient's data key).",
       BodyKind::kMultipart,
       {{"data_type", FieldType::kString, true, "imaging, pathology, notes, labs, waveforms"},
        {"modality", FieldType::kString, false, "CT, MR, SM, ECG, NOTE, ..."},
        {"patient_key", FieldType::kString, true, "pseudonymous patient key (never a real identifier)"},
        {"cohort", FieldType::kObject, false, "cohort metadata: age_band, sex, site, ..."}},
       [](app::App& app, Call& call) -> Result<Reply> {
         if (!call.req.has_file("content")) return Error(ErrorCode::kInvalidArgument, "the 'content' part is required");
         const auto& content = call.req.get_file_value("content");
         app::NewItem item;
         CALIPER_ASSIGN_OR_RETURN(item.data_type, core::ParseDataType(call.body["data_type"].get<std::string>()));
         item.modality = call.body.value("modality", "");
         item.patient_key = call.body["patient_key"].get<std::string>();
         item.cohort_json = call.body.value("cohort", json::object()).dump();
         item.content_type = SafeContentType(content.content_type);
         std::istringstream in(content.content);
         CALIPER_ASSIGN_OR_RETURN(auto created, app.CreateItem(call.ctx, call.Param("project_id"), item, in));
         return JsonReply(ItemJson(created), 201);
       }},
      {"GET", "/api/v1/projects/{project_id}/items", Permission::kItemList,
       "The project's items (annotators: only those assigned to them).", BodyKind::kNone, {},
       [](app::App& app, Call& call) -> Result<Reply> {
         CALIPER_ASSIGN_OR_RETURN(auto page, PageFrom(call.req));
         CALIPER_ASSIGN_OR_RETURN(auto items, app.ListItems(call.ctx, call.Param("project_id"), page));
         return JsonReply(PageJson(items, ItemJson));
       }},
      {"GET", "/api/v1/items/{item_id}", Permission::kItemRead, "One item's metadata.", BodyKind::kNone, {},
       [](app::App& app, Call& call) -> Result<Reply> {
         CALIPER_ASSIGN_OR_RETURN(auto item, app.GetItem(call.ctx, call.Param("item_id")));
         return JsonReply(ItemJson(item));
       }},
      {"GET", "/api/v1/items/{item_id}/content", Permission::kItemRead,
       "The item's de-identified content (audited; never cached).", BodyKind::kNone, {},
       [](app::App& app, Call& call) -> Result<Reply> {
         CALIPER_ASSIGN_OR_RETURN(auto item, app.GetItem(call.ctx, call.Param("item_id")));
         CALIPER_ASSIGN_OR_RETURN(auto bytes, app.ReadItemContent(call.ctx, item.id));
         Reply r;
         r.body = std::move(bytes);
         r.content_type = SafeContentType(item.content_type);
         r.headers.emplace_back("Content-Disposition", "inline");
         // Content is data, never a document of this origin: no scripts, no plugins, no forms.
         r.headers.emplace_back("Content-Security-Policy", "sandbox; default-src 'none'");
         return r;
       }},
      {"POST", "/api/v1/items/{item_id}/assignments", Permission::kTaskAssign,
       "Assign the item to an annotator (creates a task).", BodyKind::kJson,
       {{"user_id", FieldType::kString, true, "the annotator"}},
       [](app::App& app, Call& call) -> Result<Reply> {
         CALIPER_ASSIGN_OR_RETURN(auto task, app.AssignItem(call.ctx, call.Param("item_id"),
                                                            call.body["user_id"].get<std::string>()));
         return JsonReply(TaskJson(task), 201);
       }},
      {"POST", "/api/v1/items/{item_id}/annotations", Permission::kAnnotationWrite,
       "Label the item: evidence, target label (with its code) and uncertainty. Every label the API "
       "answers with carries `truth`: for a class that needs confirmation {status: provisional|confirmed|"
       "refuted|unconfirmed, outcome_id} as decided now from the outcome events, else null.",
       BodyKind::kJson,
       AnnotationFields(),
       [](app::App& app, Call& call) -> Result<Reply> {
         CALIPER_ASSIGN_OR_RETURN(auto a, AnnotationFrom(call.body));
         CALIPER_ASSIGN_OR_RETURN(auto created, app.CreateAnnotation(call.ctx, call.Param("item_id"), a));
         return AnnotationReply(app, created, 201);
       }},
      {"GET", "/api/v1/items/{item_id}/annotations", Permission::kAnnotationRead,
       "The item's labels (annotators see only their own: blinding), each with its `truth` status (null "
       "for classes that need no confirmation).",
       BodyKind::kNone, {},
       [](app::App& app, Call& call) -> Result<Reply> {
         CALIPER_ASSIGN_OR_RETURN(auto page, PageFrom(call.req));
         CALIPER_ASSIGN_OR_RETURN(auto rows, app.ListAnnotations(call.ctx, call.Param("item_id"), page));
         CALIPER_ASSIGN_OR_RETURN(json data, AnnotationsJsonWithTruth(app, rows.rows));
         return JsonReply(json{{"data", data}, {"next_cursor", rows.next.empty() ? json(nullptr) : json(rows.next)}});
       }},
      {"GET", "/api/v1/items/{item_id}/annotations/{annotation_id}", Permission::kAnnotationRead,
       "One label, with its ETag.", BodyKind::kNone, {},
       [](app::App& app, Call& call) -> Result<Reply> {
         CALIPER_ASSIGN_OR_RETURN(auto a, app.GetAnnotation(call.ctx, call.Param("annotation_id")));
         if (a.item_id != call.Param("item_id")) return Error(ErrorCode::kNotFound, "no such annotation");
         return AnnotationReply(app, a);
       }},
      {"PUT", "/api/v1/items/{item_id}/annotations/{annotation_id}", Permission::kAnnotationWrite,
       "Replace your label. Send If-Match with the ETag you read; a stale one gets 412. The version replaced "
       "is kept in the label's history with `reason`.",
       BodyKind::kJson, AnnotationUpdateFields(),
       [](app::App& app, Call& call) -> Result<Reply> {
         CALIPER_ASSIGN_OR_RETURN(std::int64_t expected, IfMatchRevision(call.req));
         CALIPER_ASSIGN_OR_RETURN(auto existing, app.GetAnnotation(call.ctx, call.Param("annotation_id")));
         if (existing.item_id != call.Param("item_id")) return Error(ErrorCode::kNotFound, "no such annotation");
         CALIPER_ASSIGN_OR_RETURN(auto a, AnnotationFrom(call.body));
         app::AnnotationPatch patch;
         patch.evidence_kind = a.evidence_kind;
         patch.evidence_json = a.evidence_json;
         patch.label_class = a.label_class;
         patch.code_system = a.code_system;
         patch.code = a.code;
         patch.confidence = a.confidence;
         patch.assertion = a.assertion;
         patch.temporality = a.temporality;
         patch.experiencer = a.experiencer;
         patch.relations_json = a.relations_json;
         patch.reason = call.body.value("reason", "");
         CALIPER_ASSIGN_OR_RETURN(auto updated, app.UpdateAnnotation(call.ctx, existing.id, expected, patch));
         return AnnotationReply(app, updated);
       }},
  };
}

}  // namespace caliper::http

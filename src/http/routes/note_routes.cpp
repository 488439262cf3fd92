// Clinical text and labs (docs/notes.md, docs/spans.md, docs/labs.md): note upload
// (de-identified before storage), the reading view with replacement spans, the project's text
// de-identification settings, span agreement, lab upload and a patient's labs.

#include <sstream>

#include "caliper/core/rules.h"
#include "http/route.h"

namespace caliper::http {

std::vector<Route> NoteRoutes() {
  using security::Permission;
  return {
      {"POST", "/api/v1/projects/{project_id}/notes", Permission::kItemCreate,
       "Upload clinical notes: multipart/form-data with a 'metadata' part (JSON, the fields below) and a "
       "'content' part (a .txt note, JSONL of {id, patient, text, ...metadata} or CSV with id, patient, text "
       "columns). Each note is de-identified with the project's text settings before it is stored, as one "
       "item; the answer reports every record (stored, duplicate or error with its reason).",
       BodyKind::kMultipart,
       {{"format", FieldType::kString, true, "txt, jsonl or csv"},
        {"id", FieldType::kString, false, "txt: the note's source id"},
        {"patient", FieldType::kString, false, "txt: the source patient identifier (required for txt)"}},
       [](app::App& app, Call& call) -> Result<Reply> {
         if (!call.req.has_file("content")) return Error(ErrorCode::kInvalidArgument, "the 'content' part is required");
         CALIPER_ASSIGN_OR_RETURN(auto format, ingest::ParseNoteFormat(call.body["format"].get<std::string>()));
         ingest::NoteReaderOptions options;
         CALIPER_ASSIGN_OR_RETURN(auto max_note, app.config().GetInt("ingest.max_note_bytes"));
         options.max_note_bytes = static_cast<std::size_t>(max_note);
         options.text_id = call.body.value("id", "");
         options.text_patient = call.body.value("patient", "");
         std::istringstream in(call.req.get_file_value("content").content);
         auto reader = ingest::NoteReader::Create(format, in, options);
         CALIPER_ASSIGN_OR_RETURN(auto results, app.IngestNotes(call.ctx, call.Param("project_id"), *reader));
         Reply r;
         r.body = app::NoteIngestReportJson(results);
         return r;
       }},
      {"GET", "/api/v1/items/{item_id}/note", Permission::kItemRead,
       "A note's de-identified text with every tag or surrogate as {start, end, type}: Unicode code-point "
       "offsets into that text (audited like the content).",
       BodyKind::kNone, {},
       [](app::App& app, Call& call) -> Result<Reply> {
         CALIPER_ASSIGN_OR_RETURN(auto view, app.ReadNote(call.ctx, call.Param("item_id")));
         json body = {{"item", ItemJson(view.item)},
                      {"text", view.text},
                      {"chars", view.note.chars},
                      {"offsets", "unicode_code_points"},
                      {"phi", json::parse(view.note.phi_json, nullptr, false)},
                      {"deid", {{"mode", view.note.deid_mode}, {"edition", view.note.deid_edition}}}};
         Reply r = JsonReply(body);
         r.headers.emplace_back("Cache-Control", "no-store");
         return r;
       }},
      {"POST", "/api/v1/projects/{project_id}/labs", Permission::kItemCreate,
       "Upload lab results: multipart/form-data with a 'metadata' part {format: csv|json} and a 'content' part "
       "(Caliper CSV, OMOP MEASUREMENT CSV, FHIR R4 Bundle/Observations or an array of flat objects; "
       "docs/labs.md). LOINC codes are checked (format, check digit); each patient's results become one item "
       "with pseudonymous patient key, shifted times and normalised units; every record is reported.",
       BodyKind::kMultipart,
       {{"format", FieldType::kString, true, "csv or json"}},
       [](app::App& app, Call& call) -> Result<Reply> {
         if (!call.req.has_file("content")) return Error(ErrorCode::kInvalidArgument, "the 'content' part is required");
         CALIPER_ASSIGN_OR_RETURN(auto format, ingest::ParseLabFormat(call.body["format"].get<std::string>()));
         const std::string& content = call.req.get_file_value("content").content;
         std::istringstream in(content);
         CALIPER_ASSIGN_OR_RETURN(auto records, ingest::ReadLabs(format, in, content.size()));
         CALIPER_ASSIGN_OR_RETURN(auto results, app.IngestLabs(call.ctx, call.Param("project_id"), records));
         Reply r;
         r.body = app::LabIngestReportJson(results);
         return r;
       }},
      {"GET", "/api/v1/items/{item_id}/labs", Permission::kItemRead,
       "The lab results of the item's patient (for reading a note beside them), sorted by time, with "
       "normalised values (audited). Needs item_read on the item and the labs data type in the caller's "
       "scopes (403 otherwise).",
       BodyKind::kNone, {},
       [](app::App& app, Call& call) -> Result<Reply> {
         // The route authorised the item; its patient's labs are another data type.
         CALIPER_RETURN_IF_ERROR(app.Authorize(call.ctx, Permission::kItemRead, "", call.Param("item_id"),
                                               "GET /api/v1/items/{item_id}/labs", "", "", core::DataType::kLabs));
         CALIPER_ASSIGN_OR_RETURN(auto body, app.PatientLabsJson(call.ctx, call.Param("item_id")));
         Reply r;
         r.body = std::move(body);
         r.headers.emplace_back("Cache-Control", "no-store");
         return r;
       }},
      {"GET", "/api/v1/projects/{project_id}/span-agreement", Permission::kQualityRead,
       "Agreement between readers on span labels of the project's notes: exact and overlap F1 by class, and "
       "with assertion, temporality and experiencer (means over reader pairs on the notes both read).",
       BodyKind::kNone, {},
       [](app::App& app, Call& call) -> Result<Reply> {
         CALIPER_ASSIGN_OR_RETURN(auto r, app.SpanAgreement(call.ctx, call.Param("project_id")));
         return JsonReply(json{{"items", r.items},
                               {"readers", r.readers},
                               {"pairs", r.pairs},
                               {"class", {{"exact_f1", r.class_exact_f1}, {"overlap_f1", r.class_overlap_f1}}},
                               {"full", {{"exact_f1", r.full_exact_f1}, {"overlap_f1", r.full_overlap_f1}}}});
       }},
      {"GET", "/api/v1/projects/{project_id}/text-settings", Permission::kTaskAssign,
       "How the project de-identifies notes: deid_mode (surrogate or tag) and clinician names.",
       BodyKind::kNone, {},
       [](app::App& app, Call& call) -> Result<Reply> {
         CALIPER_ASSIGN_OR_RETURN(auto t, app.GetTextSettings(call.ctx, call.Param("project_id")));
         return JsonReply(TextSettingsJson(t));
       }},
      {"PUT", "/api/v1/projects/{project_id}/text-settings", Permission::kTaskAssign,
       "Set how notes are de-identified from now on (notes stored before keep their form).", BodyKind::kJson,
       {{"deid_mode", FieldType::kString, true, "surrogate (consistent realistic surrogates) or tag ([TYPE])"},
        {"clinician_names", FieldType::kStringArray, false, "names always treated as NAME (any letter case)"}},
       [](app::App& app, Call& call) -> Result<Reply> {
         core::TextSettings t;
         t.project_id = call.Param("project_id");
         t.deid_mode = call.body["deid_mode"].get<std::string>();
         if (call.body.contains("clinician_names")) t.clinician_names = StringList(call.body["clinician_names"]);
         CALIPER_ASSIGN_OR_RETURN(auto saved, app.PutTextSettings(call.ctx, t));
         return JsonReply(TextSettingsJson(saved));
       }},
  };
}

}  // namespace caliper::http

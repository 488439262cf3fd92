// AI pre-labels: bulk upload, the model back-end protocol, readers' decisions and the
// per-model statistics (docs/workflow.md, "AI pre-labels").

#include <algorithm>

#include "caliper/core/rules.h"
#include "http/model_backend.h"
#include "http/route.h"

namespace caliper::http {
namespace {

json PrelabelViewJson(const app::PrelabelView& v) {
  json out = PrelabelJson(v.prelabel);
  out["status"] = core::ToString(v.status);
  json decisions = json::array();
  for (const auto& d : v.decisions) decisions.push_back(PrelabelDecisionJson(d));
  out["decisions"] = decisions;
  return out;
}

// The origin the back-end should use to reach this server: the Host the caller used.
std::string OriginOf(const httplib::Request& req) {
  const std::string host = req.get_header_value("Host");
  const bool tls = req.ssl != nullptr;
  return (tls ? "https://" : "http://") + (host.empty() ? std::string("localhost") : host);
}

}  // namespace

std::vector<Route> PrelabelRoutes() {
  using security::Permission;
  return {
      {"POST", "/api/v1/projects/{project_id}/prelabels", Permission::kPrelabelWrite,
       "Upload model predictions as pre-labels (at most 10000). Each row: {item_id, model: {name, version}, "
       "evidence, label, assertion?, score?, scores?, attributes?}. Rows that fail a check are reported by "
       "index and skipped; the others are stored, pinned to the guideline version in force.",
       BodyKind::kJson,
       {{"prelabels", FieldType::kObjectArray, true, "the predictions (docs/workflow.md)"}},
       [](app::App& app, Call& call) -> Result<Reply> {
         std::vector<core::Prelabel> rows;
         std::vector<app::RowError> refused;
         std::vector<std::size_t> origin;  // index in the request of each parsed row
         const json& list = call.body["prelabels"];
         for (std::size_t i = 0; i < list.size(); ++i) {
           auto row = app::PrelabelFromJson(list[i].dump());
           if (!row.ok()) {
             refused.push_back({i, row.status().message()});
             continue;
           }
           if (row->item_id.empty() || row->model_name.empty()) {
             refused.push_back({i, "each uploaded pre-label needs item_id and model {name, version}"});
             continue;
           }
           rows.push_back(std::move(row).value());
           origin.push_back(i);
         }
         app::PrelabelUpload upload;
         if (!rows.empty()) {
           CALIPER_ASSIGN_OR_RETURN(upload, app.AddPrelabels(call.ctx, call.Param("project_id"), std::move(rows)));
         }
         for (auto e : upload.errors) refused.push_back({origin[e.index], e.message});
         std::sort(refused.begin(), refused.end(), [](const auto& a, const auto& b) { return a.index < b.index; });
         if (upload.stored.empty()) {
           std::string why;
           for (std::size_t i = 0; i < refused.size() && i < 3; ++i) {
             why += "; row " + std::to_string(refused[i].index) + ": " + refused[i].message;
           }
           return Error(ErrorCode::kInvalidArgument, "no pre-label was stored" + why);
         }
         json stored = json::array();
         for (const auto& p : upload.stored) stored.push_back(PrelabelJson(p));
         return JsonReply(json{{"stored", stored}, {"errors", RowErrorsJson(refused)}}, 201);
       }},
      {"POST", "/api/v1/projects/{project_id}/prelabels/run", Permission::kPrelabelWrite,
       "Ask a model back-end for pre-labels (docs/workflow.md, the model back-end protocol): for each item, "
       "Caliper POSTs the task, an item reference with a scoped token that expires and the label schema; "
       "the predictions it answers are stored. Items the back-end fails on are reported and skipped.",
       BodyKind::kJson,
       {{"backend_url", FieldType::kString, true, "the back-end's http(s) URL"},
        {"item_ids", FieldType::kStringArray, false, "the items; none = all"},
        {"token_minutes", FieldType::kInteger, false, "lifetime of each item's fetch token, 1..1440 (default 15)"}},
       [](app::App& app, Call& call) -> Result<Reply> {
         app::ModelRunRequest request;
         request.backend_url = call.body["backend_url"].get<std::string>();
         request.item_ids = StringList(call.body.value("item_ids", json::array()));
         request.token_minutes = call.body.value("token_minutes", 15);
         request.caliper_url = OriginOf(call.req);
         HttpModelBackend transport;
         CALIPER_ASSIGN_OR_RETURN(auto report,
                                  app.RunModelBackend(call.ctx, call.Param("project_id"), request, transport));
         json stored = json::array();
         for (const auto& p : report.stored) stored.push_back(PrelabelJson(p));
         return JsonReply(json{{"items", report.items}, {"stored", stored}, {"errors", RowErrorsJson(report.errors)}});
       }},
      {"POST", "/api/v1/projects/{project_id}/prelabels/context", Permission::kPrelabelWrite,
       "Run the ConText pre-labeller (docs/context.md) over the project's notes: each mention of a term of "
       "the published guideline's classes becomes a pre-label of model context with span evidence, the "
       "assertion, and temporality and experiencer as attributes. Mentions stored before are not stored "
       "again; notes that fail are reported and skipped.",
       BodyKind::kJson,
       {{"item_ids", FieldType::kStringArray, false, "the note items; none = every note of the project"}},
       [](app::App& app, Call& call) -> Result<Reply> {
         CALIPER_ASSIGN_OR_RETURN(auto report,
                                  app.RunContextPrelabels(call.ctx, call.Param("project_id"),
                                                          StringList(call.body.value("item_ids", json::array()))));
         json stored = json::array();
         for (const auto& p : report.stored) stored.push_back(PrelabelJson(p));
         return JsonReply(json{{"notes", report.notes},
                               {"already_stored", report.already},
                               {"stored", stored},
                               {"errors", RowErrorsJson(report.errors)}});
       }},
      {"GET", "/api/v1/projects/{project_id}/prelabels/stats", Permission::kPrelabelWrite,
       "Per model version: pre-labels, readers' accepted / corrected / rejected decisions, acceptance rate, "
       "mean correction size, and the anchoring comparison (agreement with the model of readers shown "
       "pre-labels versus readers in the hidden share).",
       BodyKind::kNone, {},
       [](app::App& app, Call& call) -> Result<Reply> {
         CALIPER_ASSIGN_OR_RETURN(auto stats, app.PrelabelStats(call.ctx, call.Param("project_id")));
         json data = json::array();
         for (const auto& s : stats) data.push_back(ModelVersionStatsJson(s));
         return JsonReply(json{{"data", data}});
       }},
      {"GET", "/api/v1/items/{item_id}/prelabels", Permission::kAnnotationRead,
       "The item's pre-labels. Readers see only their own decisions, and readers in the project's hidden "
       "share see none.",
       BodyKind::kNone, {},
       [](app::App& app, Call& call) -> Result<Reply> {
         CALIPER_ASSIGN_OR_RETURN(auto views, app.ListPrelabels(call.ctx, call.Param("item_id")));
         json data = json::array();
         for (const auto& v : views) data.push_back(PrelabelViewJson(v));
         return JsonReply(json{{"data", data}});
       }},
      {"POST", "/api/v1/items/{item_id}/prelabels/{prelabel_id}/decision", Permission::kAnnotationWrite,
       "Decide on a pre-label as a reader with a claimed task on the item: accepted (your label becomes a copy "
       "of it), corrected (your label is `correction`), or rejected. Your label is yours, provisional and "
       "reviewed like any other; 409 when you decided already.",
       BodyKind::kJson,
       {{"decision", FieldType::kString, true, "accepted, corrected, rejected"},
        {"correction", FieldType::kObject, false, "corrected: {evidence, label, uncertainty} of your label"},
        {"reason", FieldType::kString, false, "an optional note"}},
       [](app::App& app, Call& call) -> Result<Reply> {
         app::PrelabelDecisionRequest request;
         CALIPER_ASSIGN_OR_RETURN(request.decision,
                                  core::ParsePrelabelStatus(call.body["decision"].get<std::string>()));
         request.reason = call.body.value("reason", "");
         if (call.body.contains("correction")) {
           auto correction = AnnotationFrom(call.body["correction"]);
           if (!correction.ok()) return correction.status().WithContext("correction");
           request.correction = std::move(correction).value();
         }
         CALIPER_ASSIGN_OR_RETURN(auto out, app.DecidePrelabel(call.ctx, call.Param("item_id"),
                                                               call.Param("prelabel_id"), request));
         json annotation = nullptr;
         if (out.annotation) {
           CALIPER_ASSIGN_OR_RETURN(annotation, AnnotationJsonWithTruth(app, *out.annotation));
         }
         return JsonReply(json{{"decision", PrelabelDecisionJson(out.decision)}, {"annotation", annotation}}, 201);
       }},
  };
}

}  // namespace caliper::http

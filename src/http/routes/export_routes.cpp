// Dataset exports (docs/export.md): request, two-person approval, one-time download tokens,
// writes to admin-approved directories, and the snapshot's documentation for viewing.

#include "http/route.h"

namespace caliper::http {
namespace {

json ExportJson(const storage::DatasetExport& e) {
  return json{{"id", e.id},
              {"project_id", e.project_id},
              {"version", e.version},
              {"reason", e.reason},
              {"spec", json::parse(e.spec_json)},
              {"status", e.status},
              {"requested_by", e.requested_by},
              {"requested_at", FormatRfc3339(e.requested_at)},
              {"decided_by", e.decided_by.empty() ? json(nullptr) : json(e.decided_by)},
              {"decided_at", e.decided_at ? json(FormatRfc3339(*e.decided_at)) : json(nullptr)},
              {"decision_note", e.decision_note},
              {"build_started_at", e.build_started_at ? json(FormatRfc3339(*e.build_started_at)) : json(nullptr)},
              {"build_renewed_at", e.build_renewed_at ? json(FormatRfc3339(*e.build_renewed_at)) : json(nullptr)},
              {"snapshot_bytes", e.snapshot_bytes},
              {"manifest_sha256", e.manifest_sha256.empty() ? json(nullptr) : json(e.manifest_sha256)},
              {"error", e.error.empty() ? json(nullptr) : json(e.error)}};
}

const std::vector<Field>& NoteFields() {
  static const std::vector<Field> kFields = {{"note", FieldType::kString, false, "why (kept with the decision)"}};
  return kFields;
}

Handler Decide(bool approve) {
  return [approve](app::App& app, Call& call) -> Result<Reply> {
    CALIPER_ASSIGN_OR_RETURN(auto e, app.DecideExport(call.ctx, call.Param("project_id"), call.Param("export_id"),
                                                      approve, call.body.value("note", "")));
    return JsonReply(ExportJson(e));
  };
}

}  // namespace

std::vector<Route> ExportRoutes() {
  using security::Permission;
  return {
      {"POST", "/api/v1/projects/{project_id}/exports", Permission::kExportRequest,
       "Request an export of the project's dataset. Another user with export_approve must approve it; the "
       "snapshot is built at approval.",
       BodyKind::kJson,
       {{"reason", FieldType::kString, true, "why the data leaves (kept in the audit log)"},
        {"splits", FieldType::kObject, false, "{train, validation, test (sum 1), seed, stratify_by: [cohort keys]}"},
        {"subgroups", FieldType::kObject, false, "{min_share, agreement_margin}: subgroup report thresholds"}},
       [](app::App& app, Call& call) -> Result<Reply> {
         json spec = json::object();
         if (call.body.contains("splits")) spec["splits"] = call.body["splits"];
         if (call.body.contains("subgroups")) spec["subgroups"] = call.body["subgroups"];
         CALIPER_ASSIGN_OR_RETURN(auto e, app.RequestExport(call.ctx, call.Param("project_id"),
                                                            call.body["reason"].get<std::string>(), spec.dump()));
         return JsonReply(ExportJson(e), 201);
       }},
      {"GET", "/api/v1/projects/{project_id}/exports", Permission::kExportApprove,
       "The project's export requests and snapshots.", BodyKind::kNone, {},
       [](app::App& app, Call& call) -> Result<Reply> {
         CALIPER_ASSIGN_OR_RETURN(auto page, PageFrom(call.req));
         CALIPER_ASSIGN_OR_RETURN(auto rows, app.ListExports(call.ctx, call.Param("project_id"), page));
         return JsonReply(PageJson(rows, ExportJson));
       }},
      {"GET", "/api/v1/projects/{project_id}/exports/{export_id}", Permission::kExportApprove, "One export.",
       BodyKind::kNone, {},
       [](app::App& app, Call& call) -> Result<Reply> {
         CALIPER_ASSIGN_OR_RETURN(auto e, app.GetExport(call.ctx, call.Param("project_id"), call.Param("export_id")));
         return JsonReply(ExportJson(e));
       }},
      {"POST", "/api/v1/projects/{project_id}/exports/{export_id}/approve", Permission::kExportApprove,
       "Approve a request (never your own: 403) and build its immutable snapshot.", BodyKind::kJson, NoteFields(),
       Decide(true)},
      {"POST", "/api/v1/projects/{project_id}/exports/{export_id}/deny", Permission::kExportApprove,
       "Deny a request (never your own: 403).", BodyKind::kJson, NoteFields(), Decide(false)},
      {"POST", "/api/v1/projects/{project_id}/exports/{export_id}/rebuild", Permission::kExportApprove,
       "Build a failed export again, once what failed it is put right (a missing blob restored, a bad label "
       "corrected), or whose build was cut off (still approved export.build_lease_minutes after its build "
       "started or last renewed its lease): a new consistent read of the project under the same approval. Never your own request (403); "
       "409 for any other export.",
       BodyKind::kNone, {},
       [](app::App& app, Call& call) -> Result<Reply> {
         CALIPER_ASSIGN_OR_RETURN(auto e, app.RebuildExport(call.ctx, call.Param("project_id"), call.Param("export_id")));
         return JsonReply(ExportJson(e));
       }},
      {"POST", "/api/v1/projects/{project_id}/exports/{export_id}/tokens", Permission::kExportRequest,
       "A one-time download token for a built export, valid `minutes` (at most export.token_minutes).",
       BodyKind::kJson, {{"minutes", FieldType::kInteger, false, "lifetime, default 15"}},
       [](app::App& app, Call& call) -> Result<Reply> {
         const int minutes = call.body.contains("minutes") ? call.body["minutes"].get<int>() : 15;
         CALIPER_ASSIGN_OR_RETURN(auto issued, app.IssueExportToken(call.ctx, call.Param("project_id"),
                                                                    call.Param("export_id"), minutes));
         return JsonReply(json{{"token", issued.token}, {"expires_at", FormatRfc3339(issued.expires_at)},
                               {"download_path", "/api/v1/exports/download/" + issued.token}},
                          201);
       }},
      {"POST", "/api/v1/projects/{project_id}/exports/{export_id}/write", Permission::kExportRequest,
       "Write the built snapshot, unpacked, to a new directory below one of export.allowed_dirs.", BodyKind::kJson,
       {{"path", FieldType::kString, true, "absolute path of a new directory on the server"}},
       [](app::App& app, Call& call) -> Result<Reply> {
         CALIPER_RETURN_IF_ERROR(app.WriteExportToPath(call.ctx, call.Param("project_id"), call.Param("export_id"),
                                                       call.body["path"].get<std::string>()));
         return JsonReply(json{{"path", call.body["path"]}});
       }},
      {"GET", "/api/v1/projects/{project_id}/exports/{export_id}/files/{name}", Permission::kExportApprove,
       "View the snapshot's manifest.json, subgroup_report.json or subgroup_report.html.", BodyKind::kNone, {},
       [](app::App& app, Call& call) -> Result<Reply> {
         const std::string name = call.Param("name");
         CALIPER_ASSIGN_OR_RETURN(auto bytes, app.ReadExportFile(call.ctx, call.Param("project_id"),
                                                                 call.Param("export_id"), name));
         Reply r;
         r.body = std::move(bytes);
         r.content_type = name.ends_with(".html") ? "text/html; charset=utf-8" : "application/json";
         return r;
       }},
      {"GET", "/api/v1/exports/download/{token}", Permission::kNone,
       "Download a built snapshot (a tar) with a one-time token: 404 unknown or expired, 409 already used.",
       BodyKind::kNone, {},
       [](app::App& app, Call& call) -> Result<Reply> {
         CALIPER_ASSIGN_OR_RETURN(auto tar, app.DownloadExport(call.Param("token"), call.ctx.source_address));
         Reply r;
         r.body = std::move(tar);
         r.content_type = "application/x-tar";
         r.headers.emplace_back("Content-Disposition", "attachment; filename=\"caliper-dataset.tar\"");
         return r;
       }},
  };
}

}  // namespace caliper::http

#include "caliper/core/rules.h"
#include "http/route.h"

namespace caliper::http {

std::vector<Route> ProjectRoutes() {
  using security::Permission;
  return {
      {"POST", "/api/v1/projects", Permission::kProjectCreate, "Create a project.", BodyKind::kJson,
       {{"name", FieldType::kString, true, "unique project name"},
        {"description", FieldType::kString, false, "what the project labels and why"}},
       [](app::App& app, Call& call) -> Result<Reply> {
         CALIPER_ASSIGN_OR_RETURN(auto p, app.CreateProject(call.ctx, call.body["name"].get<std::string>(),
                                                            call.body.value("description", "")));
         return JsonReply(ProjectJson(p), 201);
       }},
      {"POST", "/api/v1/project-files", Permission::kProjectCreate,
       "Create a whole project from one project file (docs/project-file.md, schema "
       "docs/project-file.schema.json): the project, its first guideline version (published unless "
       "publish is false) and its workflow, text and DICOM settings, in one transaction — nothing is created when "
       "any part is refused.",
       BodyKind::kJson,
       {{"$schema", FieldType::kString, false, "the project file schema's URL or path (ignored)"},
        {"caliper_project", FieldType::kInteger, false, "the file format version: 1"},
        {"name", FieldType::kString, true, "unique project name"},
        {"description", FieldType::kString, false, "what the project labels and why"},
        {"guideline", FieldType::kObject, true, "the label schema (docs/label-schema.schema.json)"},
        {"publish", FieldType::kBoolean, false, "publish the guideline as version 1 (default true)"},
        {"workflow", FieldType::kObject, false, "workflow settings, as PUT /projects/{id}/workflow"},
        {"text", FieldType::kObject, false, "text settings, as PUT /projects/{id}/text-settings"},
        {"dicom", FieldType::kObject, false, "DICOM de-identification settings, as PUT /projects/{id}/dicom-settings"}},
       [](app::App& app, Call& call) -> Result<Reply> {
         CALIPER_ASSIGN_OR_RETURN(auto file, app::ProjectFileFromJson(call.body.dump()));
         CALIPER_ASSIGN_OR_RETURN(auto made, app.CreateProjectFromFile(call.ctx, file));
         return JsonReply(json{{"project", ProjectJson(made.project)},
                               {"guideline", GuidelineJson(made.guideline)},
                               {"workflow", WorkflowSettingsJson(made.workflow)},
                               {"text", TextSettingsJson(made.text)},
                               {"dicom", DicomSettingsJson(made.dicom)}},
                          201);
       }},
      {"GET", "/api/v1/projects", Permission::kAuthenticated,
       "Projects you are a member of (administrators: all).", BodyKind::kNone, {},
       [](app::App& app, Call& call) -> Result<Reply> {
         CALIPER_ASSIGN_OR_RETURN(auto page, PageFrom(call.req));
         CALIPER_ASSIGN_OR_RETURN(auto projects, app.ListProjects(call.ctx, page));
         return JsonReply(PageJson(projects, ProjectJson));
       }},
      {"GET", "/api/v1/projects/{project_id}", Permission::kProjectRead, "One project.", BodyKind::kNone, {},
       [](app::App& app, Call& call) -> Result<Reply> {
         CALIPER_ASSIGN_OR_RETURN(auto p, app.GetProject(call.ctx, call.Param("project_id")));
         return JsonReply(ProjectJson(p));
       }},
      {"GET", "/api/v1/projects/{project_id}/members", Permission::kProjectRead,
       "The project's members with their roles and data-type scopes.", BodyKind::kNone, {},
       [](app::App& app, Call& call) -> Result<Reply> {
         CALIPER_ASSIGN_OR_RETURN(auto page, PageFrom(call.req));
         CALIPER_ASSIGN_OR_RETURN(auto members, app.ListMembers(call.ctx, call.Param("project_id"), page));
         return JsonReply(PageJson(members, MembershipJson));
       }},
      {"PUT", "/api/v1/projects/{project_id}/members/{user_id}", Permission::kMemberManage,
       "Set a member's roles and data-type scopes (adds the member if new).", BodyKind::kJson,
       {{"roles", FieldType::kStringArray, true,
         "manager, annotator, reviewer, adjudicator, auditor, data_steward"},
        {"scopes", FieldType::kStringArray, false, "imaging, pathology, notes, labs, waveforms"}},
       [](app::App& app, Call& call) -> Result<Reply> {
         std::vector<core::Role> roles;
         std::vector<core::DataType> scopes;
         for (const auto& r : StringList(call.body["roles"])) {
           CALIPER_ASSIGN_OR_RETURN(auto role, core::ParseRole(r));
           roles.push_back(role);
         }
         for (const auto& s : StringList(call.body.value("scopes", json::array()))) {
           CALIPER_ASSIGN_OR_RETURN(auto scope, core::ParseDataType(s));
           scopes.push_back(scope);
         }
         CALIPER_ASSIGN_OR_RETURN(auto m, app.PutMember(call.ctx, call.Param("project_id"), call.Param("user_id"),
                                                        roles, scopes));
         return JsonReply(MembershipJson(m));
       }},
      {"DELETE", "/api/v1/projects/{project_id}/members/{user_id}", Permission::kMemberManage,
       "Remove a member.", BodyKind::kNone, {},
       [](app::App& app, Call& call) -> Result<Reply> {
         CALIPER_RETURN_IF_ERROR(app.RemoveMember(call.ctx, call.Param("project_id"), call.Param("user_id")));
         Reply r;
         r.status = 204;
         return r;
       }},
      {"POST", "/api/v1/projects/{project_id}/tokens", Permission::kTokenCreate,
       "Make an API token for yourself, scoped to this project and a set of permissions you hold. "
       "The secret is returned once.",
       BodyKind::kJson,
       {{"name", FieldType::kString, true, "what the token is for"},
        {"permissions", FieldType::kStringArray, true, "project permission names"},
        {"expires_at", FieldType::kString, false, "RFC 3339 time; none = no expiry"}},
       [](app::App& app, Call& call) -> Result<Reply> {
         std::vector<security::Permission> perms;
         for (const auto& name : StringList(call.body["permissions"])) {
           CALIPER_ASSIGN_OR_RETURN(auto p, security::ParsePermission(name));
           perms.push_back(p);
         }
         std::optional<TimeMicros> expires;
         if (call.body.contains("expires_at")) {
           CALIPER_ASSIGN_OR_RETURN(expires, ParseRfc3339(call.body["expires_at"].get<std::string>()));
         }
         CALIPER_ASSIGN_OR_RETURN(auto issued,
                                  app.CreateApiToken(call.ctx, call.ctx.principal.user.id, call.Param("project_id"),
                                                     call.body["name"].get<std::string>(), perms, expires));
         json body = ApiTokenJson(issued.token);
         body["secret"] = issued.secret;
         return JsonReply(body, 201);
       }},
  };
}

}  // namespace caliper::http

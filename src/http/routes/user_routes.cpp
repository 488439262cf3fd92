#include "caliper/core/rules.h"
#include "http/route.h"

namespace caliper::http {
namespace {

Reply NoContent() {
  Reply r;
  r.status = 204;
  return r;
}

}  // namespace

std::vector<Route> UserRoutes() {
  using security::Permission;
  return {
      {"POST", "/api/v1/users", Permission::kUserManage,
       "Create a local user. Without a password, a one-time password is returned once.", BodyKind::kJson,
       {{"username", FieldType::kString, true, "lower-case letters, digits, '.', '-', '_'"},
        {"display_name", FieldType::kString, false, "the name shown in the app"},
        {"is_admin", FieldType::kBoolean, false, "global administrator"},
        {"qualifications", FieldType::kStringArray, false,
         "radiologist, pathologist, clinician, general_annotator"},
        {"password", FieldType::kString, false, "an initial password (else one is generated)"}},
       [](app::App& app, Call& call) -> Result<Reply> {
         app::NewUser u;
         u.username = call.body["username"].get<std::string>();
         u.display_name = call.body.value("display_name", "");
         u.is_admin = call.body.value("is_admin", false);
         u.password = call.body.value("password", "");
         for (const auto& q : StringList(call.body.value("qualifications", json::array()))) {
           CALIPER_ASSIGN_OR_RETURN(auto parsed, core::ParseQualification(q));
           u.qualifications.push_back(parsed);
         }
         CALIPER_ASSIGN_OR_RETURN(auto created, app.CreateUser(call.ctx, u));
         json body = UserJson(created.user);
         if (!created.one_time_password.empty()) body["one_time_password"] = created.one_time_password;
         return JsonReply(body, 201);
       }},
      {"GET", "/api/v1/users", Permission::kUserManage, "List users.", BodyKind::kNone, {},
       [](app::App& app, Call& call) -> Result<Reply> {
         CALIPER_ASSIGN_OR_RETURN(auto page, PageFrom(call.req));
         CALIPER_ASSIGN_OR_RETURN(auto users, app.ListUsers(call.ctx, page));
         return JsonReply(PageJson(users, UserJson));
       }},
      {"GET", "/api/v1/users/{user_id}", Permission::kUserManage, "One user.", BodyKind::kNone, {},
       [](app::App& app, Call& call) -> Result<Reply> {
         CALIPER_ASSIGN_OR_RETURN(auto user, app.GetUser(call.ctx, call.Param("user_id")));
         return JsonReply(UserJson(user));
       }},
      {"POST", "/api/v1/users/{user_id}/disable", Permission::kUserManage,
       "Disable a user; their sessions end at once.", BodyKind::kNone, {},
       [](app::App& app, Call& call) -> Result<Reply> {
         CALIPER_RETURN_IF_ERROR(app.SetUserDisabled(call.ctx, call.Param("user_id"), true));
         return NoContent();
       }},
      {"POST", "/api/v1/users/{user_id}/enable", Permission::kUserManage, "Enable a disabled user.",
       BodyKind::kNone, {},
       [](app::App& app, Call& call) -> Result<Reply> {
         CALIPER_RETURN_IF_ERROR(app.SetUserDisabled(call.ctx, call.Param("user_id"), false));
         return NoContent();
       }},
      {"POST", "/api/v1/users/{user_id}/reset-password", Permission::kUserManage,
       "Give a user a new one-time password (returned once); their sessions end.", BodyKind::kNone, {},
       [](app::App& app, Call& call) -> Result<Reply> {
         CALIPER_ASSIGN_OR_RETURN(auto password, app.ResetPassword(call.ctx, call.Param("user_id")));
         return JsonReply({{"one_time_password", password}});
       }},
      {"POST", "/api/v1/users/{user_id}/revoke-sessions", Permission::kUserManage,
       "End every session of a user.", BodyKind::kNone, {},
       [](app::App& app, Call& call) -> Result<Reply> {
         CALIPER_ASSIGN_OR_RETURN(int revoked, app.RevokeSessions(call.ctx, call.Param("user_id")));
         return JsonReply({{"revoked", revoked}});
       }},
  };
}

}  // namespace caliper::http

#include "caliper/core/rules.h"
#include "http/route.h"

namespace caliper::http {
namespace {

std::string SessionCookie(const std::string& token, TimeMicros max_age) {
  return "caliper_session=" + token + "; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=" +
         std::to_string(max_age / kMicrosPerSecond);
}

json SessionJson(const app::App& app, const security::Principal& p) {
  const auto& s = app.auth_settings();
  return json{{"user", UserJson(p.user)},
              {"idle_timeout_seconds", s.idle_timeout / kMicrosPerSecond},
              {"idle_warning_seconds", s.idle_warning / kMicrosPerSecond}};
}

}  // namespace

std::vector<Route> AuthRoutes() {
  using security::Permission;
  return {
      {"POST", "/api/v1/auth/login", Permission::kNone,
       "Sign in. Sets the HttpOnly session cookie and returns the CSRF token to send as "
       "X-CSRF-Token on every state-changing request.",
       BodyKind::kJson,
       {{"username", FieldType::kString, true, "the username"},
        {"password", FieldType::kString, true, "the password"}},
       [](app::App& app, Call& call) -> Result<Reply> {
         CALIPER_ASSIGN_OR_RETURN(
             auto login, app.Login(call.body["username"].get<std::string>(),
                                   call.body["password"].get<std::string>(), call.ctx.source_address));
         security::Principal p;
         p.user = login.user;
         json body = SessionJson(app, p);
         body["csrf_token"] = login.session.csrf_token;
         body["expires_at"] = FormatRfc3339(login.session.session.absolute_expires_at);
         Reply r = JsonReply(body);
         r.headers.emplace_back("Set-Cookie", SessionCookie(login.session.token, app.auth_settings().absolute_timeout));
         return r;
       }},
      {"POST", "/api/v1/auth/logout", Permission::kAuthenticated, "End this session.", BodyKind::kNone, {},
       [](app::App& app, Call& call) -> Result<Reply> {
         if (call.ctx.principal.via_token()) {
           return Error(ErrorCode::kInvalidArgument, "API tokens are revoked, not signed out");
         }
         CALIPER_RETURN_IF_ERROR(app.Logout(call.ctx));
         Reply r;
         r.status = 204;
         r.headers.emplace_back("Set-Cookie", SessionCookie("", 0));
         return r;
       }},
      {"GET", "/api/v1/auth/session", Permission::kAuthenticated,
       "The signed-in user and the session's timeouts (the UI warns before the idle timeout).",
       BodyKind::kNone, {},
       [](app::App& app, Call& call) -> Result<Reply> { return JsonReply(SessionJson(app, call.ctx.principal)); }},
      {"POST", "/api/v1/me/password", Permission::kAuthenticated, "Change your own password.", BodyKind::kJson,
       {{"current_password", FieldType::kString, true, "the password now"},
        {"new_password", FieldType::kString, true, "the new password (see the password policy)"}},
       [](app::App& app, Call& call) -> Result<Reply> {
         CALIPER_RETURN_IF_ERROR(app.ChangeOwnPassword(call.ctx, call.body["current_password"].get<std::string>(),
                                                       call.body["new_password"].get<std::string>()));
         Reply r;
         r.status = 204;
         return r;
       }},
      {"GET", "/api/v1/me/tokens", Permission::kAuthenticated, "Your API tokens (never their secrets).",
       BodyKind::kNone, {},
       [](app::App& app, Call& call) -> Result<Reply> {
         CALIPER_ASSIGN_OR_RETURN(auto page, PageFrom(call.req));
         CALIPER_ASSIGN_OR_RETURN(auto tokens, app.ListApiTokens(call.ctx, call.ctx.principal.user.id, page));
         return JsonReply(PageJson(tokens, ApiTokenJson));
       }},
      {"DELETE", "/api/v1/me/tokens/{token_id}", Permission::kAuthenticated, "Revoke one of your API tokens.",
       BodyKind::kNone, {},
       [](app::App& app, Call& call) -> Result<Reply> {
         CALIPER_RETURN_IF_ERROR(app.RevokeApiToken(call.ctx, call.Param("token_id")));
         Reply r;
         r.status = 204;
         return r;
       }},
  };
}

}  // namespace caliper::http

#include "caliper/http/server.h"
#include "http/route.h"

namespace caliper::http {
namespace {

constexpr std::string_view kPlaceholderPage = R"(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Caliper</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><main><h1>Caliper</h1>
<p>The server is running. The web app arrives with its own issue; until then use the JSON API
under <code>/api/v1</code> (its OpenAPI document is at
<a href="/api/v1/openapi.json">/api/v1/openapi.json</a>) or the <code>caliper</code> command.</p>
</main></body></html>
)";

}  // namespace

std::vector<Route> SystemRoutes() {
  using security::Permission;
  return {
      {"GET", "/healthz", Permission::kNone, "Liveness: the process answers.", BodyKind::kNone, {},
       [](app::App&, Call&) -> Result<Reply> { return JsonReply({{"status", "ok"}}); }},
      {"GET", "/readyz", Permission::kNone, "Readiness: the store answers.", BodyKind::kNone, {},
       [](app::App& app, Call&) -> Result<Reply> {
         if (!app.Ready()) return Error(ErrorCode::kUnavailable, "the store is not answering");
         return JsonReply({{"status", "ready"}});
       }},
      {"GET", "/api/v1/openapi.json", Permission::kNone, "This API's OpenAPI 3.0 document.", BodyKind::kNone, {},
       [](app::App&, Call&) -> Result<Reply> {
         Reply r;
         r.body = OpenApiJson();
         return r;
       }},
      {"GET", "/", Permission::kNone, "The web app (a placeholder page for now).", BodyKind::kNone, {},
       [](app::App&, Call&) -> Result<Reply> {
         Reply r;
         r.body = std::string(kPlaceholderPage);
         r.content_type = "text/html; charset=utf-8";
         return r;
       }},
  };
}

}  // namespace caliper::http

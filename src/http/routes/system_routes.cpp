#include "caliper/http/server.h"
#include "http/route.h"

namespace caliper::http {

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
  };
}

}  // namespace caliper::http

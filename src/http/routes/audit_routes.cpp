#include "http/route.h"

namespace caliper::http {

std::vector<Route> AuditRoutes() {
  using security::Permission;
  return {
      {"GET", "/api/v1/audit/verify", Permission::kAuditVerify,
       "Walk the whole audit chain and its signed checkpoints.", BodyKind::kNone, {},
       [](app::App& app, Call& call) -> Result<Reply> {
         CALIPER_ASSIGN_OR_RETURN(auto report, app.VerifyAudit(call.ctx));
         return JsonReply({{"ok", report.ok},
                           {"events", report.events},
                           {"checkpoints_checked", report.checkpoints_checked},
                           {"first_bad_seq", report.first_bad_seq},
                           {"problem", report.problem}});
       }},
      {"GET", "/api/v1/audit/events", Permission::kAuditVerify,
       "Audit events with time in [from, to] (RFC 3339 query parameters), oldest first, at most 1000.",
       BodyKind::kNone, {},
       [](app::App& app, Call& call) -> Result<Reply> {
         TimeMicros from = 0, to = app.clock().Now();
         if (call.req.has_param("from")) {
           CALIPER_ASSIGN_OR_RETURN(from, ParseRfc3339(call.req.get_param_value("from")));
         }
         if (call.req.has_param("to")) {
           CALIPER_ASSIGN_OR_RETURN(to, ParseRfc3339(call.req.get_param_value("to")));
         }
         json data = json::array();
         CALIPER_RETURN_IF_ERROR(app.ExportAudit(call.ctx, from, to, [&](const storage::AuditEvent& e) {
           if (data.size() >= 1000) return Error(ErrorCode::kInvalidArgument, "more than 1000 events; narrow from/to");
           data.push_back(AuditEventJson(e));
           return Status::Ok();
         }));
         return JsonReply({{"data", data}});
       }},
  };
}

}  // namespace caliper::http

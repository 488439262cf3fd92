// Quality indicators, reviewer analytics and QA findings for the dashboards (docs/quality.md).

#include <cmath>

#include "caliper/core/rules.h"
#include "http/route.h"

namespace caliper::http {
namespace {

// NaN (an undefined rate) becomes null.
json Number(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

json ProportionJson(const quality::Proportion& p) {
  return json{{"n", p.n}, {"hits", p.hits}, {"rate", Number(p.rate)}, {"ci", json::array({Number(p.lo), Number(p.hi)})}};
}

json RateJson(const quality::RateReport& r) {
  json groups = json::array(), series = json::array();
  for (const auto& g : r.by_group) {
    json row = ProportionJson(g.rate);
    row["group"] = g.group;
    groups.push_back(row);
  }
  for (const auto& p : r.over_time) {
    json row = ProportionJson(p.rate);
    row["bucket_start"] = FormatRfc3339(p.bucket_start * kMicrosPerSecond);
    series.push_back(row);
  }
  return json{{"overall", ProportionJson(r.overall)}, {"by_group", groups}, {"over_time", series}};
}

json FindingJson(const quality::QaFinding& f) {
  return json{{"rule", f.rule}, {"severity", std::string(quality::ToString(f.severity))},
              {"item_id", f.item.empty() ? json(nullptr) : json(f.item)},
              {"label_class", f.label_class.empty() ? json(nullptr) : json(f.label_class)},
              {"annotation_id", f.annotation.empty() ? json(nullptr) : json(f.annotation)},
              {"message", f.message}, {"fix", f.fix}};
}

json FindingsJson(const std::vector<quality::QaFinding>& findings) {
  json out = json::array();
  for (const auto& f : findings) out.push_back(FindingJson(f));
  return out;
}

json ReadersJson(const quality::ReaderAnalytics& a, const std::string& reference) {
  json readers = json::array();
  for (const auto& r : a.readers) {
    readers.push_back(json{{"reader", r.reader}, {"n", r.n}, {"agree", r.agree}, {"accuracy", Number(r.accuracy)},
                           {"peers_accuracy", Number(r.peers_accuracy)}, {"p_value", r.p_value},
                           {"p_adjusted", r.p_adjusted}, {"flagged", r.flagged}, {"confusion", r.confusion}});
  }
  return json{{"reference", reference}, {"test", std::string(quality::ReaderAnalytics::kTest)},
              {"alpha", a.alpha}, {"categories", a.categories}, {"unreferenced", a.unreferenced},
              {"readers", readers}};
}

// The reviewers section: each reader against the adjudicated labels (at the top level), the
// fused labels (`fused`) and the gold answers (`gold`), and intra-reader agreement.
json ReviewersJson(const app::ProjectQuality& q) {
  json out = ReadersJson(q.readers, "adjudicated label set");
  out["fused"] = ReadersJson(q.readers_fused, "fused label set (Dawid-Skene posterior >= 0.5 per class, items read twice or more)");
  out["gold"] = ReadersJson(q.readers_gold, "gold answer");
  json intra = json::array();
  for (const auto& a : q.intra_reader) {
    intra.push_back(json{{"reader", a.reader}, {"pairs", a.pairs}, {"agreement", Number(a.agreement)},
                         {"kappa", a.kappa ? Number(*a.kappa) : json(nullptr)}, {"note", a.note}});
  }
  out["intra_reader"] = intra;
  return out;
}

json QualityJson(const app::ProjectQuality& q) {
  json agreement = json::array();
  for (const auto& c : q.agreement) {
    agreement.push_back(json{{"label_class", c.label_class}, {"items", c.items}, {"readings", c.readings},
                             {"metric", "krippendorff_alpha_nominal"},
                             {"alpha", c.alpha ? Number(*c.alpha) : json(nullptr)},
                             {"ci", c.ci ? json::array({c.ci->lo, c.ci->hi}) : json(nullptr)},
                             {"note", c.note}});
  }
  json by_reason = json::array();
  for (const auto& [reason, count] : q.rejections_by_reason) {
    by_reason.push_back(json{{"reason_code", core::ToString(reason)}, {"rejections", count}});
  }
  return json{{"items", q.items},
              {"readings", q.readings},
              {"adjudicated_items", q.adjudicated_items},
              {"agreement", agreement},
              {"rejection_rate", RateJson(q.rejection)},
              {"rejections_by_reason", by_reason},
              {"adjudication_rate", RateJson(q.adjudication)},
              {"error_rate_by_class", RateJson(q.error_by_class)},
              {"error_rate_by_modality", RateJson(q.error_by_modality)},
              {"reviewers", ReviewersJson(q)},
              {"findings", FindingsJson(q.findings)}};
}

}  // namespace

std::vector<Route> QualityRoutes() {
  using security::Permission;
  return {
      {"GET", "/api/v1/projects/{project_id}/quality", Permission::kQualityRead,
       "The project's quality indicators: agreement per class (Krippendorff's alpha, bootstrap 95% CI), "
       "rejection and adjudication rates and error rates by class and modality (Wilson 95% CI, overall, per "
       "group and over time; ?bucket=day|week|month, default week), rejections counted per reason code "
       "(rejections_by_reason: every code, zeros included), reviewer analytics against adjudicated "
       "labels with the deviation test, and every QA finding (docs/quality.md).",
       BodyKind::kNone, {},
       [](app::App& app, Call& call) -> Result<Reply> {
         std::int64_t bucket = 7 * 24 * 3600;
         if (call.req.has_param("bucket")) {
           const std::string b = call.req.get_param_value("bucket");
           if (b == "day") bucket = 24 * 3600;
           else if (b == "month") bucket = 30 * 24 * 3600;
           else if (b != "week") return Error(ErrorCode::kInvalidArgument, "bucket must be day, week or month");
         }
         CALIPER_ASSIGN_OR_RETURN(auto q, app.GetProjectQuality(call.ctx, call.Param("project_id"), bucket));
         return JsonReply(QualityJson(q));
       }},
      {"GET", "/api/v1/items/{item_id}/qa", Permission::kQualityRead,
       "The QA findings of one item (the rules a submit runs): each names the rule, the item and a fix.",
       BodyKind::kNone, {},
       [](app::App& app, Call& call) -> Result<Reply> {
         CALIPER_ASSIGN_OR_RETURN(auto findings, app.GetItemQaFindings(call.ctx, call.Param("item_id")));
         return JsonReply(json{{"data", FindingsJson(findings)}});
       }},
      {"POST", "/api/v1/projects/{project_id}/quality/sweep", Permission::kQualityRead,
       "Run the quality sweep now (the server runs it every quality.sweep_seconds): a Dawid–Skene fit per class "
       "stored as each item's soft label, and every QA rule's findings stored in place of the last ones.",
       BodyKind::kNone, {},
       [](app::App& app, Call& call) -> Result<Reply> {
         CALIPER_ASSIGN_OR_RETURN(auto sweep, app.SweepQuality(call.ctx, call.Param("project_id")));
         return JsonReply(json{{"items", sweep.items}, {"soft_labels", sweep.soft_labels}, {"findings", sweep.findings}});
       }},
      {"GET", "/api/v1/projects/{project_id}/quality/stored", Permission::kQualityRead,
       "The stored soft labels (fused probability per item and class) and QA findings, as the last sweep and the "
       "submits since left them; ?item_id= for one item.",
       BodyKind::kNone, {},
       [](app::App& app, Call& call) -> Result<Reply> {
         const std::string item = call.req.has_param("item_id") ? call.req.get_param_value("item_id") : "";
         CALIPER_ASSIGN_OR_RETURN(auto stored, app.GetStoredQuality(call.ctx, call.Param("project_id"), item));
         json soft = json::array();
         for (const auto& s : stored.soft_labels) {
           soft.push_back(json{{"item_id", s.item_id}, {"label_class", s.label_class}, {"method", s.method},
                               {"probability", Number(s.probability)}, {"readings", s.readings},
                               {"computed_at", FormatRfc3339(s.computed_at)}});
         }
         json findings = json::array();
         for (const auto& f : stored.findings) {
           auto or_null = [](const std::string& v) { return v.empty() ? json(nullptr) : json(v); };
           findings.push_back(json{{"id", f.id}, {"rule", f.rule}, {"severity", f.severity},
                                   {"item_id", or_null(f.item_id)}, {"label_class", or_null(f.label_class)},
                                   {"annotation_id", or_null(f.annotation_id)}, {"message", f.message},
                                   {"fix", f.fix}, {"source", f.source}, {"found_at", FormatRfc3339(f.found_at)}});
         }
         return JsonReply(json{{"soft_labels", soft}, {"findings", findings}});
       }},
  };
}

}  // namespace caliper::http

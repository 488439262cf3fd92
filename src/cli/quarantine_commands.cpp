// `caliper quarantine list|show|release|blank|discard` (docs/deid-dicom.md): a data steward's
// review of DICOM instances held for suspected burned-in text, on the local data directory, as a
// named user (--as) who must hold quarantine_review in the project — the decisions are audited
// with that user, as over the API.

#include <fstream>
#include <iostream>

#include "cli/cli_support.h"

namespace caliper::cli {
namespace {

using nlohmann::json;

struct QuarantineOptions {
  std::string project;
  std::string as_user;
  std::string id;
  std::string status;
  std::string reason;
  std::vector<std::string> rects;  // X,Y,W,H
  std::string png;                 // show: write frame --frame here
  int frame = 0;
};

json Row(const storage::QuarantinedInstance& q) {
  return {{"id", q.id},
          {"status", q.status},
          {"modality", q.modality},
          {"sop_instance_uid", q.sop_instance_uid},
          {"series_uid", q.series_uid},
          {"reasons", q.reasons},
          {"created_at", FormatRfc3339(q.created_at)},
          {"decided_by", q.decided_by},
          {"decided_at", q.decided_at ? json(FormatRfc3339(*q.decided_at)) : json(nullptr)},
          {"reason", q.reason},
          {"rects", json::parse(q.rects_json, nullptr, false)},
          {"item_id", q.item_id}};
}

void Print(const CommonOptions& common, const storage::QuarantinedInstance& q) {
  if (common.json) {
    PrintJson(Row(q));
    return;
  }
  std::string reasons;
  for (const auto& r : q.reasons) reasons += (reasons.empty() ? "" : "; ") + r;
  std::cout << q.id << "  " << q.status << "  " << q.modality << "  " << reasons;
  if (!q.item_id.empty()) std::cout << "  -> " << q.item_id;
  if (!q.decided_by.empty()) std::cout << "  by " << q.decided_by;
  if (!q.reason.empty()) std::cout << "  (" << q.reason << ")";
  std::cout << "\n";
}

Result<dicom::PixelRect> ParseRect(const std::string& text) {
  dicom::PixelRect r;
  char tail = 0;
  if (std::sscanf(text.c_str(), "%d,%d,%d,%d%c", &r.x, &r.y, &r.width, &r.height, &tail) != 4) {
    return Error(ErrorCode::kInvalidArgument, "--rect wants X,Y,W,H, got '" + text + "'");
  }
  return r;
}

}  // namespace

void AddQuarantineCommands(CLI::App& root, CommonOptions& common, int& exit_code) {
  static QuarantineOptions o;
  auto* cmd = root.add_subcommand("quarantine", "Review DICOM instances held for suspected burned-in text");
  cmd->require_subcommand(1);
  auto with_steward = [&](auto body) {
    return [&, body] {
      auto app = OpenApp(common);
      if (!app.ok()) {
        exit_code = Fail(app.status());
        return;
      }
      auto p = FindProject(**app, o.project);
      if (!p.ok()) {
        exit_code = Fail(p.status());
        return;
      }
      auto ctx = ActAs(**app, o.as_user, p->id, security::Permission::kQuarantineReview, "cli quarantine");
      exit_code = ctx.ok() ? body(**app, *ctx, p->id) : Fail(ctx.status());
    };
  };
  auto common_options = [&](CLI::App* sub) {
    AddCommonOptions(*sub, common);
    sub->add_option("--project", o.project, "project id or name")->required();
    sub->add_option("--as", o.as_user, "the data steward acting (needs quarantine_review)")->required();
  };

  auto* list = cmd->add_subcommand(
      "list", "List the project's quarantined instances, then how many are pending (--json: {data, pending})");
  common_options(list);
  list->add_option("--status", o.status, "pending, released, blanked or discarded (default: all)");
  list->callback(with_steward([&](app::App& app, const app::RequestContext& ctx, const std::string& project_id) {
    storage::PageRequest page{"", 500};
    json rows = json::array();
    std::int64_t pending = 0;  // the project's pending entries, whatever --status (the API's `pending`)
    for (;;) {
      auto entries = app.ListQuarantine(ctx, project_id, o.status, page);
      if (!entries.ok()) return Fail(entries.status());
      for (const auto& q : entries->rows) {
        if (common.json) rows.push_back(Row(q));
        else Print(common, q);
      }
      pending = entries->pending;
      if (entries->next.empty()) break;
      page.after = entries->next;
    }
    if (common.json) PrintJson({{"data", rows}, {"pending", pending}});
    else std::cout << pending << " pending\n";
    return 0;
  }));

  auto* show = cmd->add_subcommand("show", "One entry; with --png, write one frame of its pixels (audited)");
  common_options(show);
  show->add_option("id", o.id, "quarantine id")->required();
  show->add_option("--png", o.png, "write frame --frame as PNG to this file");
  show->add_option("--frame", o.frame, "frame, from 0 (default 0)");
  show->callback(with_steward([&](app::App& app, const app::RequestContext& ctx, const std::string& project_id) {
    auto q = app.GetQuarantined(ctx, project_id, o.id);
    if (!q.ok()) return Fail(q.status());
    Print(common, *q);
    if (o.png.empty()) return 0;
    auto png = app.RenderQuarantinedFrame(ctx, project_id, o.id, o.frame);
    if (!png.ok()) return Fail(png.status());
    std::ofstream out(o.png, std::ios::binary | std::ios::trunc);
    out.write(png->png.data(), static_cast<std::streamsize>(png->png.size()));
    if (!out.flush()) return Fail(Error(ErrorCode::kIo, "writing " + o.png));
    return 0;
  }));

  for (const app::QuarantineAction action :
       {app::QuarantineAction::kRelease, app::QuarantineAction::kBlank, app::QuarantineAction::kDiscard}) {
    const char* name = action == app::QuarantineAction::kRelease ? "release"
                       : action == app::QuarantineAction::kBlank ? "blank"
                                                                 : "discard";
    const char* what = action == app::QuarantineAction::kRelease
                           ? "You saw no identifier: store the instance into its series"
                       : action == app::QuarantineAction::kBlank
                           ? "Zero rectangles in every frame, then store the instance into its series"
                           : "Delete the pixels (the entry keeps who, when and why)";
    auto* sub = cmd->add_subcommand(name, what);
    common_options(sub);
    sub->add_option("id", o.id, "quarantine id")->required();
    auto* reason = sub->add_option("--reason", o.reason, "why");
    if (action == app::QuarantineAction::kDiscard) reason->required();
    if (action == app::QuarantineAction::kBlank) {
      sub->add_option("--rect", o.rects, "X,Y,W,H in pixels (repeatable)")->required();
    }
    sub->callback(with_steward([&, action](app::App& app, const app::RequestContext& ctx, const std::string& project_id) {
      app::QuarantineDecision decision;
      decision.action = action;
      decision.reason = o.reason;
      for (const auto& text : o.rects) {
        auto rect = ParseRect(text);
        if (!rect.ok()) return Fail(rect.status());
        decision.rects.push_back(*rect);
      }
      auto q = app.DecideQuarantined(ctx, project_id, o.id, decision);
      if (!q.ok()) return Fail(q.status());
      Print(common, *q);
      return 0;
    }));
  }
}

}  // namespace caliper::cli

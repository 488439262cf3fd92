// `caliper export ...`: the dataset export flow from the command line (docs/export.md). The
// commands act on the local data directory as a named user (--as), so the two-person rule
// and the permissions are those of that user, checked as the API checks them.

#include <fstream>
#include <iostream>

#include "caliper/exports/snapshot.h"
#include "cli/cli_support.h"

namespace caliper::cli {
namespace {

using nlohmann::json;

struct ExportOptions {
  std::string project;
  std::string as_user;
  std::string reason;
  std::string spec_file;
  std::string export_id;
  std::string note;
  int minutes = 15;
  std::string token;
  std::string out;
  std::string dir;
};

json ExportRow(const storage::DatasetExport& e) {
  return {{"id", e.id},           {"version", e.version}, {"status", e.status}, {"reason", e.reason},
          {"requested_by", e.requested_by}, {"decided_by", e.decided_by}, {"bytes", e.snapshot_bytes},
          {"manifest_sha256", e.manifest_sha256}, {"error", e.error}};
}

void PrintExport(const CommonOptions& common, const storage::DatasetExport& e) {
  if (common.json) {
    PrintJson(ExportRow(e));
    return;
  }
  std::cout << e.id << "  v" << e.version << "  " << e.status;
  if (!e.manifest_sha256.empty()) std::cout << "  " << e.snapshot_bytes << " bytes  manifest sha256 " << e.manifest_sha256;
  if (!e.error.empty()) std::cout << "  error: " << e.error;
  std::cout << "\n";
}

Result<std::string> ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error(ErrorCode::kNotFound, "cannot read " + path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

void AddExportCommands(CLI::App& root, CommonOptions& common, int& exit_code) {
  static ExportOptions o;
  auto* cmd = root.add_subcommand("export", "Request, approve, download and verify dataset exports");
  cmd->require_subcommand(1);
  auto with_app = [&](auto body) {
    return [&, body] {
      auto app = OpenApp(common);
      exit_code = app.ok() ? body(**app) : Fail(app.status());
    };
  };
  auto project_of = [](app::App& app) { return FindProject(app, o.project); };

  auto* request = cmd->add_subcommand("request", "Ask for an export; another user must approve it");
  AddCommonOptions(*request, common);
  request->add_option("--project", o.project, "project id or name")->required();
  request->add_option("--as", o.as_user, "the requesting user (needs export_request)")->required();
  request->add_option("--reason", o.reason, "why the data leaves")->required();
  request->add_option("--spec", o.spec_file, "JSON file: {splits:{train,validation,test,seed,stratify_by}, subgroups:{...}}");
  request->callback(with_app([&](app::App& app) {
    auto p = project_of(app);
    if (!p.ok()) return Fail(p.status());
    auto ctx = ActAs(app, o.as_user, p->id, security::Permission::kExportRequest, "cli export request");
    if (!ctx.ok()) return Fail(ctx.status());
    std::string spec = "{}";
    if (!o.spec_file.empty()) {
      auto text = ReadText(o.spec_file);
      if (!text.ok()) return Fail(text.status());
      spec = *text;
    }
    auto e = app.RequestExport(*ctx, p->id, o.reason, spec);
    if (!e.ok()) return Fail(e.status());
    PrintExport(common, *e);
    return 0;
  }));

  // approve, deny and rebuild: a second person's step on one export.
  enum class Step { kApprove, kDeny, kRebuild };
  for (const Step step : {Step::kApprove, Step::kDeny, Step::kRebuild}) {
    auto* decide = cmd->add_subcommand(
        step == Step::kApprove ? "approve" : step == Step::kDeny ? "deny" : "rebuild",
        step == Step::kApprove ? "Approve a request (not your own) and build the snapshot"
        : step == Step::kDeny  ? "Deny a request (not your own)"
                               : "Build a failed or cut-off export again (not your own request)");
    AddCommonOptions(*decide, common);
    decide->add_option("--project", o.project, "project id or name")->required();
    decide->add_option("--as", o.as_user, "the deciding user (needs export_approve)")->required();
    decide->add_option("export", o.export_id, "export id")->required();
    if (step != Step::kRebuild) decide->add_option("--note", o.note, "why");
    decide->callback(with_app([&, step](app::App& app) {
      auto p = project_of(app);
      if (!p.ok()) return Fail(p.status());
      auto ctx = ActAs(app, o.as_user, p->id, security::Permission::kExportApprove, "cli export decide");
      if (!ctx.ok()) return Fail(ctx.status());
      auto e = step == Step::kRebuild ? app.RebuildExport(*ctx, p->id, o.export_id)
                                      : app.DecideExport(*ctx, p->id, o.export_id, step == Step::kApprove, o.note);
      if (!e.ok()) return Fail(e.status());
      PrintExport(common, *e);
      return e->status == "failed" ? 1 : 0;
    }));
  }

  auto* list = cmd->add_subcommand("list", "List a project's exports");
  AddCommonOptions(*list, common);
  list->add_option("--project", o.project, "project id or name")->required();
  list->callback(with_app([&](app::App& app) {
    auto p = project_of(app);
    if (!p.ok()) return Fail(p.status());
    storage::PageRequest page{"", 500};
    json rows = json::array();
    for (;;) {
      auto exports = app.ListExports(app::LocalOperator(), p->id, page);
      if (!exports.ok()) return Fail(exports.status());
      for (const auto& e : exports->rows) {
        if (common.json) rows.push_back(ExportRow(e));
        else PrintExport(common, e);
      }
      if (exports->next.empty()) break;
      page.after = exports->next;
    }
    if (common.json) PrintJson(rows);
    return 0;
  }));

  auto* token = cmd->add_subcommand("token", "Issue a one-time download token for a built export");
  AddCommonOptions(*token, common);
  token->add_option("--project", o.project, "project id or name")->required();
  token->add_option("--as", o.as_user, "who will download (needs export_request)")->required();
  token->add_option("export", o.export_id, "export id")->required();
  token->add_option("--minutes", o.minutes, "lifetime (default 15, at most export.token_minutes)");
  token->callback(with_app([&](app::App& app) {
    auto p = project_of(app);
    if (!p.ok()) return Fail(p.status());
    auto ctx = ActAs(app, o.as_user, p->id, security::Permission::kExportRequest, "cli export token");
    if (!ctx.ok()) return Fail(ctx.status());
    auto issued = app.IssueExportToken(*ctx, p->id, o.export_id, o.minutes);
    if (!issued.ok()) return Fail(issued.status());
    if (common.json) {
      PrintJson({{"token", issued->token}, {"expires_at", FormatRfc3339(issued->expires_at)}});
    } else {
      std::cout << issued->token << "\n";
    }
    return 0;
  }));

  auto* download = cmd->add_subcommand("download", "Spend a download token: unpack the snapshot into a new directory and verify it");
  AddCommonOptions(*download, common);
  download->add_option("--token", o.token, "the one-time token")->required();
  download->add_option("--out", o.out, "a new directory")->required();
  download->callback(with_app([&](app::App& app) {
    auto tar = app.DownloadExport(o.token, "cli");
    if (!tar.ok()) return Fail(tar.status());
    if (Status s = exports::ExtractSnapshotTar(*tar, o.out); !s.ok()) return Fail(s);
    auto checked = exports::VerifySnapshotDirectory(o.out);
    if (!checked.ok()) return Fail(checked.status());
    if (common.json) PrintJson({{"out", o.out}, {"files", *checked}});
    else std::cout << "wrote " << o.out << ": " << *checked << " files, every hash matches the manifest\n";
    return 0;
  }));

  auto* write = cmd->add_subcommand("write", "Write a built export to a new directory below export.allowed_dirs");
  AddCommonOptions(*write, common);
  write->add_option("--project", o.project, "project id or name")->required();
  write->add_option("--as", o.as_user, "who takes it (needs export_request)")->required();
  write->add_option("export", o.export_id, "export id")->required();
  write->add_option("--out", o.out, "absolute path of a new directory")->required();
  write->callback(with_app([&](app::App& app) {
    auto p = project_of(app);
    if (!p.ok()) return Fail(p.status());
    auto ctx = ActAs(app, o.as_user, p->id, security::Permission::kExportRequest, "cli export write");
    if (!ctx.ok()) return Fail(ctx.status());
    if (Status s = app.WriteExportToPath(*ctx, p->id, o.export_id, o.out); !s.ok()) return Fail(s);
    std::cout << "wrote " << o.out << "\n";
    return 0;
  }));

  auto* verify = cmd->add_subcommand("verify", "Check every file of an unpacked snapshot against its manifest (no server)");
  verify->add_option("dir", o.dir, "the snapshot directory")->required();
  verify->add_flag("--json", common.json, "print JSON");
  verify->callback([&] {
    auto checked = exports::VerifySnapshotDirectory(o.dir);
    if (!checked.ok()) {
      exit_code = Fail(checked.status());
      return;
    }
    if (common.json) PrintJson({{"ok", true}, {"files", *checked}});
    else std::cout << "ok: " << *checked << " files match manifest.json\n";
    exit_code = 0;
  });
}

}  // namespace caliper::cli

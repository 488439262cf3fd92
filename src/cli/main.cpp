// `caliper`: the command line. Each command parses its flags, calls the App (as the local
// operator) and prints a table for people or JSON (--json) for scripts. Exit code 0 on
// success, 1 on an error (printed to stderr), 2 on bad usage.

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "caliper/core/rules.h"
#include "caliper/http/server.h"
#include "caliper/security/crypto.h"
#include "cli/cli_support.h"

namespace caliper::cli {
namespace {

using nlohmann::json;

json UserRow(const core::User& u) {
  json quals = json::array();
  for (auto q : u.qualifications) quals.push_back(core::ToString(q));
  return {{"id", u.id}, {"username", u.username}, {"display_name", u.display_name},
          {"is_admin", u.is_admin}, {"disabled", u.disabled}, {"qualifications", quals}};
}

template <typename T, typename Parse>
Result<std::vector<T>> ParseAll(const std::vector<std::string>& names, Parse parse) {
  std::vector<T> out;
  for (const auto& n : names) {
    CALIPER_ASSIGN_OR_RETURN(T v, parse(n));
    out.push_back(v);
  }
  return out;
}

}  // namespace
}  // namespace caliper::cli

int main(int argc, char** argv) {
  using namespace caliper;
  using namespace caliper::cli;
  using nlohmann::json;

  CLI::App root{"Caliper: trustworthy labels for health AI"};
  root.require_subcommand(1);
  CommonOptions common;
  std::string listen;
  int exit_code = 0;
  auto run = [&](auto body) { return [&, body] { exit_code = body(); }; };
  auto with_app = [&](auto body) {
    return [&, body] {
      auto app = OpenApp(common);
      exit_code = app.ok() ? body(**app) : Fail(app.status());
    };
  };

  // init
  auto* init = root.add_subcommand("init", "Prepare a data directory: keys, TLS certificate, database, first admin");
  AddCommonOptions(*init, common);
  init->callback(run([&] {
    auto config = LoadConfig(common);
    if (!config.ok()) return Fail(config.status());
    auto result = app::App::Init(common.data_dir, *config);
    if (!result.ok()) return Fail(result.status());
    app::DataPaths paths(common.data_dir);
    if (!std::filesystem::exists(paths.tls_dir + "/cert.pem")) {
      if (Status s = http::MakeSelfSignedCertificate(paths.tls_dir + "/cert.pem", paths.tls_dir + "/key.pem"); !s.ok()) {
        return Fail(s);
      }
    }
    if (common.json) {
      PrintJson({{"data_dir", common.data_dir}, {"created", result->created},
                 {"admin_username", result->admin_username},
                 {"admin_password", result->created ? json(result->admin_password) : json(nullptr)}});
    } else if (result->created) {
      std::cout << "Initialised " << common.data_dir << "\n"
                << "First administrator: " << result->admin_username << "\n"
                << "One-time password:   " << result->admin_password << "  (change it at first sign-in)\n";
    } else {
      std::cout << common.data_dir << " is initialised already; nothing changed.\n";
    }
    return 0;
  }));

  // serve
  auto* serve = root.add_subcommand("serve", "Serve the API (and web app) until SIGTERM");
  AddCommonOptions(*serve, common);
  serve->add_option("--listen", listen, "HOST:PORT (default: server.listen)");
  serve->callback(with_app([&](app::App& app) { return Serve(app, listen, ""); }));

  // demo
  auto* demo = root.add_subcommand("demo", "Initialise if needed, load a demo project with synthetic data, serve");
  AddCommonOptions(*demo, common);
  demo->add_option("--listen", listen, "HOST:PORT (default: server.listen)");
  demo->callback(run([&] { return RunDemo(common, listen); }));

  // openapi
  auto* openapi = root.add_subcommand("openapi",
                                      "Print the API's OpenAPI 3.0 document (the web app's client is typed from it)");
  openapi->callback(run([&] {
    std::cout << http::OpenApiJson() << "\n";
    return 0;
  }));

  // config
  auto* config_cmd = root.add_subcommand("config", "List every setting with its effective value and source");
  AddCommonOptions(*config_cmd, common);
  config_cmd->callback(run([&] {
    auto config = LoadConfig(common);
    if (!config.ok()) return Fail(config.status());
    json rows = json::array();
    for (const auto& s : AllSettings()) {
      rows.push_back({{"key", s.key}, {"value", config->GetString(s.key)}, {"source", config->SourceOf(s.key)},
                      {"default", s.default_value}, {"env", EnvVarFor(s.key)}, {"description", s.description}});
    }
    if (common.json) {
      PrintJson(rows);
    } else {
      for (const auto& r : rows) {
        std::cout << r["key"].get<std::string>() << " = " << r["value"].get<std::string>() << "  ("
                  << r["source"].get<std::string>() << ")\n";
      }
    }
    return 0;
  }));

  // user
  auto* user = root.add_subcommand("user", "Manage local users");
  user->require_subcommand(1);
  std::string username, display_name;
  bool admin = false;
  std::vector<std::string> qualifications;
  auto* user_add = user->add_subcommand("add", "Create a user; prints a one-time password");
  AddCommonOptions(*user_add, common);
  user_add->add_option("username", username, "Username")->required();
  user_add->add_option("--display-name", display_name, "Name shown in the app");
  user_add->add_flag("--admin", admin, "Global administrator");
  user_add->add_option("--qualification", qualifications, "radiologist, pathologist, clinician, general_annotator");
  user_add->callback(with_app([&](app::App& app) {
    app::NewUser u;
    u.username = username;
    u.display_name = display_name;
    u.is_admin = admin;
    auto quals = ParseAll<core::Qualification>(qualifications, core::ParseQualification);
    if (!quals.ok()) return Fail(quals.status());
    u.qualifications = *quals;
    auto created = app.CreateUser(app::LocalOperator(), u);
    if (!created.ok()) return Fail(created.status());
    json row = UserRow(created->user);
    row["one_time_password"] = created->one_time_password;
    if (common.json) {
      PrintJson(row);
    } else {
      std::cout << "Created " << created->user.username << " (" << created->user.id << ")\n"
                << "One-time password: " << created->one_time_password << "\n";
    }
    return 0;
  }));
  auto* user_list = user->add_subcommand("list", "List users");
  AddCommonOptions(*user_list, common);
  user_list->callback(with_app([&](app::App& app) {
    json rows = json::array();
    storage::PageRequest page{"", 500};
    while (true) {
      auto users = app.ListUsers(app::LocalOperator(), page);
      if (!users.ok()) return Fail(users.status());
      for (const auto& u : users->rows) rows.push_back(UserRow(u));
      if (users->next.empty()) break;
      page.after = users->next;
    }
    if (common.json) {
      PrintJson(rows);
    } else {
      for (const auto& r : rows) {
        std::cout << r["username"].get<std::string>() << "\t" << r["id"].get<std::string>()
                  << (r["is_admin"].get<bool>() ? "\tadmin" : "") << (r["disabled"].get<bool>() ? "\tdisabled" : "")
                  << "\n";
      }
    }
    return 0;
  }));
  auto* user_disable = user->add_subcommand("disable", "Disable a user and end their sessions");
  AddCommonOptions(*user_disable, common);
  user_disable->add_option("username", username, "Username")->required();
  user_disable->callback(with_app([&](app::App& app) {
    auto u = app.FindUser(app::LocalOperator(), username);
    if (!u.ok()) return Fail(u.status());
    if (Status s = app.SetUserDisabled(app::LocalOperator(), u->id, true); !s.ok()) return Fail(s);
    if (common.json) PrintJson({{"id", u->id}, {"disabled", true}});
    else std::cout << "Disabled " << username << "\n";
    return 0;
  }));
  auto* user_reset = user->add_subcommand("reset-password", "Give a user a new one-time password");
  AddCommonOptions(*user_reset, common);
  user_reset->add_option("username", username, "Username")->required();
  user_reset->callback(with_app([&](app::App& app) {
    auto u = app.FindUser(app::LocalOperator(), username);
    if (!u.ok()) return Fail(u.status());
    auto password = app.ResetPassword(app::LocalOperator(), u->id);
    if (!password.ok()) return Fail(password.status());
    if (common.json) PrintJson({{"id", u->id}, {"one_time_password", *password}});
    else std::cout << "One-time password for " << username << ": " << *password << "\n";
    return 0;
  }));

  // project
  auto* project = root.add_subcommand("project", "Manage projects");
  project->require_subcommand(1);
  std::string project_name, description, project_ref;
  std::vector<std::string> roles, scopes;
  std::string project_file;
  auto* project_create = project->add_subcommand(
      "create", "Create a project; with --file, the whole project (guideline, workflow, text and DICOM settings) from a "
                "project file (docs/project-file.md)");
  AddCommonOptions(*project_create, common);
  auto* name_option = project_create->add_option("name", project_name, "Project name");
  auto* file_option = project_create->add_option("--file", project_file, "A project file (JSON)");
  auto* description_option = project_create->add_option("--description", description, "What the project labels");
  name_option->excludes(file_option);
  description_option->excludes(file_option);
  project_create->callback(with_app([&](app::App& app) {
    if (project_file.empty()) {
      if (project_name.empty()) return Fail(Error(ErrorCode::kInvalidArgument, "give a project name or --file"));
      auto p = app.CreateProject(app::LocalOperator(), project_name, description);
      if (!p.ok()) return Fail(p.status());
      if (common.json) PrintJson({{"id", p->id}, {"name", p->name}});
      else std::cout << "Created project " << p->name << " (" << p->id << ")\n";
      return 0;
    }
    auto text = ReadWholeFile(project_file);
    if (!text.ok()) return Fail(text.status());
    auto file = app::ProjectFileFromJson(*text);
    if (!file.ok()) return Fail(file.status().WithContext(project_file));
    auto made = app.CreateProjectFromFile(app::LocalOperator(), *file);
    if (!made.ok()) return Fail(made.status().WithContext(project_file));
    if (common.json) {
      PrintJson({{"id", made->project.id}, {"name", made->project.name}, {"guideline_id", made->guideline.id},
                 {"guideline_version", made->guideline.version}});
    } else {
      std::cout << "Created project " << made->project.name << " (" << made->project.id << ") with guideline "
                << (made->guideline.version > 0 ? "version " + std::to_string(made->guideline.version)
                                                : std::string("draft"))
                << " (" << made->guideline.id << ")\n";
    }
    return 0;
  }));
  auto* project_list = project->add_subcommand("list", "List projects");
  AddCommonOptions(*project_list, common);
  project_list->callback(with_app([&](app::App& app) {
    json rows = json::array();
    storage::PageRequest page{"", 500};
    while (true) {
      auto projects = app.ListProjects(app::LocalOperator(), page);
      if (!projects.ok()) return Fail(projects.status());
      for (const auto& p : projects->rows) rows.push_back({{"id", p.id}, {"name", p.name}});
      if (projects->next.empty()) break;
      page.after = projects->next;
    }
    if (common.json) PrintJson(rows);
    else for (const auto& r : rows) std::cout << r["id"].get<std::string>() << "\t" << r["name"].get<std::string>() << "\n";
    return 0;
  }));
  auto* add_member = project->add_subcommand("add-member", "Give a user roles (and data-type scopes) in a project");
  AddCommonOptions(*add_member, common);
  add_member->add_option("project", project_ref, "Project id or name")->required();
  add_member->add_option("username", username, "Username")->required();
  add_member->add_option("--role", roles, "manager, annotator, reviewer, adjudicator, auditor, data_steward")->required();
  add_member->add_option("--scope", scopes, "imaging, pathology, notes, labs, waveforms");
  add_member->callback(with_app([&](app::App& app) {
    auto p = FindProject(app, project_ref);
    if (!p.ok()) return Fail(p.status());
    auto u = app.FindUser(app::LocalOperator(), username);
    if (!u.ok()) return Fail(u.status());
    auto parsed_roles = ParseAll<core::Role>(roles, core::ParseRole);
    if (!parsed_roles.ok()) return Fail(parsed_roles.status());
    auto parsed_scopes = ParseAll<core::DataType>(scopes, core::ParseDataType);
    if (!parsed_scopes.ok()) return Fail(parsed_scopes.status());
    auto m = app.PutMember(app::LocalOperator(), p->id, u->id, *parsed_roles, *parsed_scopes);
    if (!m.ok()) return Fail(m.status());
    if (common.json) PrintJson({{"project_id", p->id}, {"user_id", u->id}, {"roles", roles}, {"scopes", scopes}});
    else std::cout << username << " is now a member of " << p->name << "\n";
    return 0;
  }));

  auto* dicom_settings = project->add_subcommand(
      "dicom-settings", "Show, or with --options/--safe-private/--blank set, how the project de-identifies DICOM "
                        "from now on (docs/deid-dicom.md)");
  AddCommonOptions(*dicom_settings, common);
  std::string deid_options;
  std::vector<std::string> safe_private, blanking;
  dicom_settings->add_option("project", project_ref, "Project id or name")->required();
  auto* options_option = dicom_settings->add_option(
      "--options", deid_options,
      "comma-separated: retain-dates, retain-patient-characteristics, retain-device-identity, clean-descriptors, "
      "retain-safe-private ('' for none)");
  auto* safe_option = dicom_settings->add_option("--safe-private", safe_private,
                                                 "private element to keep, CREATOR:GGGG:EE (hex; repeatable)");
  auto* blank_option = dicom_settings->add_option(
      "--blank", blanking, "blank pixels MODALITY[/MANUFACTURER[/MODEL]]:X,Y,W,H (repeatable)");
  dicom_settings->callback(with_app([&](app::App& app) {
    auto p = FindProject(app, project_ref);
    if (!p.ok()) return Fail(p.status());
    Result<core::DicomSettings> settings = app.GetDicomSettings(app::LocalOperator(), p->id);
    // Any of the three replaces the whole settings (what is not given is empty).
    if (options_option->count() + safe_option->count() + blank_option->count() > 0) {
      core::DicomSettings put;
      put.project_id = p->id;
      std::stringstream names(deid_options);
      for (std::string name; std::getline(names, name, ',');) {
        if (!name.empty()) put.options.push_back(name);
      }
      put.safe_private = safe_private;
      put.blanking = blanking;
      settings = app.PutDicomSettings(app::LocalOperator(), put);
    }
    if (!settings.ok()) return Fail(settings.status());
    const json out = {{"project_id", p->id},
                      {"options", settings->options},
                      {"safe_private", settings->safe_private},
                      {"blanking", settings->blanking}};
    if (common.json) {
      PrintJson(out);
    } else {
      auto line = [](const std::vector<std::string>& v) {
        std::string text;
        for (const auto& s : v) text += (text.empty() ? "" : ", ") + s;
        return text.empty() ? std::string("(none)") : text;
      };
      std::cout << "options:      " << line(settings->options) << "\n"
                << "safe private: " << line(settings->safe_private) << "\n"
                << "blanking:     " << line(settings->blanking) << "\n";
    }
    return 0;
  }));

  // token
  auto* token = root.add_subcommand("token", "Manage API tokens for scripts and model back-ends");
  token->require_subcommand(1);
  std::string token_name, token_id, expires;
  std::vector<std::string> permissions;
  auto* token_create = token->add_subcommand("create", "Make a token for a user, scoped to one project");
  AddCommonOptions(*token_create, common);
  token_create->add_option("--user", username, "The user the token acts as")->required();
  token_create->add_option("--project", project_ref, "Project id or name")->required();
  token_create->add_option("--permission", permissions, "Project permission names (repeatable)")->required();
  token_create->add_option("--name", token_name, "What the token is for")->required();
  token_create->add_option("--expires", expires, "RFC 3339 expiry time");
  token_create->callback(with_app([&](app::App& app) {
    auto p = FindProject(app, project_ref);
    if (!p.ok()) return Fail(p.status());
    auto u = app.FindUser(app::LocalOperator(), username);
    if (!u.ok()) return Fail(u.status());
    auto perms = ParseAll<security::Permission>(permissions, security::ParsePermission);
    if (!perms.ok()) return Fail(perms.status());
    std::optional<TimeMicros> expiry;
    if (!expires.empty()) {
      auto t = ParseRfc3339(expires);
      if (!t.ok()) return Fail(t.status());
      expiry = *t;
    }
    auto issued = app.CreateApiToken(app::LocalOperator(), u->id, p->id, token_name, *perms, expiry);
    if (!issued.ok()) return Fail(issued.status());
    if (common.json) PrintJson({{"id", issued->token.id}, {"secret", issued->secret}});
    else std::cout << "Token " << issued->token.id << " (shown once): " << issued->secret << "\n";
    return 0;
  }));
  auto* token_revoke = token->add_subcommand("revoke", "Revoke a token");
  AddCommonOptions(*token_revoke, common);
  token_revoke->add_option("id", token_id, "Token id")->required();
  token_revoke->callback(with_app([&](app::App& app) {
    if (Status s = app.RevokeApiToken(app::LocalOperator(), token_id); !s.ok()) return Fail(s);
    if (common.json) PrintJson({{"id", token_id}, {"revoked", true}});
    else std::cout << "Revoked " << token_id << "\n";
    return 0;
  }));

  // audit
  auto* audit = root.add_subcommand("audit", "Verify and export the tamper-evident audit log");
  audit->require_subcommand(1);
  std::string from, to, out_file;
  auto* verify = audit->add_subcommand("verify", "Walk the chain; exit 1 naming the first bad event");
  AddCommonOptions(*verify, common);
  verify->callback(with_app([&](app::App& app) {
    auto report = app.VerifyAudit(app::LocalOperator());
    if (!report.ok()) return Fail(report.status());
    if (common.json) {
      PrintJson({{"ok", report->ok}, {"events", report->events}, {"checkpoints_checked", report->checkpoints_checked},
                 {"first_bad_seq", report->first_bad_seq}, {"problem", report->problem}});
    } else if (report->ok) {
      std::cout << "audit chain ok: " << report->events << " events, " << report->checkpoints_checked
                << " signed checkpoints checked\n";
    } else {
      std::cerr << "audit chain BROKEN at event " << report->first_bad_seq << ": " << report->problem << "\n";
    }
    return report->ok ? 0 : 1;
  }));
  auto* export_cmd = audit->add_subcommand("export", "Write events with time in [from, to] as JSONL");
  AddCommonOptions(*export_cmd, common);
  export_cmd->add_option("--from", from, "RFC 3339 start (default: the beginning)");
  export_cmd->add_option("--to", to, "RFC 3339 end (default: now)");
  export_cmd->add_option("--out", out_file, "File to write (default: standard output)");
  export_cmd->callback(with_app([&](app::App& app) {
    TimeMicros t0 = 0, t1 = app.clock().Now();
    if (!from.empty()) {
      auto t = ParseRfc3339(from);
      if (!t.ok()) return Fail(t.status());
      t0 = *t;
    }
    if (!to.empty()) {
      auto t = ParseRfc3339(to);
      if (!t.ok()) return Fail(t.status());
      t1 = *t;
    }
    std::ofstream file;
    if (!out_file.empty()) {
      file.open(out_file, std::ios::binary | std::ios::trunc);
      if (!file) return Fail(Error(ErrorCode::kIo, "cannot write " + out_file));
    }
    std::ostream& out = out_file.empty() ? std::cout : file;
    Status s = app.ExportAudit(app::LocalOperator(), t0, t1, [&](const storage::AuditEvent& e) {
      out << json{{"seq", e.seq}, {"time", FormatRfc3339(e.time)}, {"actor", e.actor}, {"session_id", e.session_id},
                  {"source_address", e.source_address}, {"action", e.action}, {"object_type", e.object_type},
                  {"object_id", e.object_id}, {"outcome", e.outcome},
                  {"details", json::parse(e.details_json, nullptr, false)}, {"prev_hash", e.prev_hash},
                  {"hash", e.hash}}.dump()
          << "\n";
      return out ? Status::Ok() : Error(ErrorCode::kIo, "write failed");
    });
    return s.ok() ? 0 : Fail(s);
  }));

  // key
  auto* key = root.add_subcommand("key", "Manage encryption keys");
  key->require_subcommand(1);
  bool new_master = false;
  auto* rotate = key->add_subcommand("rotate", "New project keys; re-wrap every data key (no blob is re-encrypted)");
  AddCommonOptions(*rotate, common);
  rotate->add_flag("--master", new_master, "Also replace the master key file");
  rotate->callback(with_app([&](app::App& app) {
    auto report = app.RotateKeys(app::LocalOperator(), new_master);
    if (!report.ok()) return Fail(report.status());
    if (common.json) PrintJson({{"project_keys", report->project_keys}, {"data_keys", report->data_keys}, {"new_master", new_master}});
    else std::cout << "Rotated " << report->project_keys << " project keys; re-wrapped " << report->data_keys << " data keys\n";
    return 0;
  }));

  // blobs
  auto* blobs = root.add_subcommand("blobs", "Manage the encrypted blob files");
  blobs->require_subcommand(1);
  int min_age_hours = 24;
  bool dry_run = false;
  auto* sweep = blobs->add_subcommand(
      "sweep", "Delete blob files no row names any more, and leftover temporary files (audited)");
  AddCommonOptions(*sweep, common);
  sweep->add_option("--min-age-hours", min_age_hours, "Keep files written more recently (at least 1)")
      ->default_val(24)
      ->check(CLI::Range(1, 24 * 3650));
  sweep->add_flag("--dry-run", dry_run, "Count what would be deleted; delete nothing");
  sweep->callback(with_app([&](app::App& app) {
    app::App::BlobSweepOptions options;
    options.min_age = std::chrono::hours(min_age_hours);
    options.dry_run = dry_run;
    auto r = app.SweepBlobs(app::LocalOperator(), options);
    if (!r.ok()) return Fail(r.status());
    if (common.json) {
      PrintJson({{"dry_run", r->dry_run}, {"blobs", r->blobs}, {"referenced", r->referenced}, {"young", r->young},
                 {"removed", r->removed}, {"removed_bytes", r->removed_bytes},
                 {"temporary_removed", r->temporary_removed}});
    } else {
      std::cout << r->blobs << " blobs: " << r->referenced << " referenced, " << r->young
                << " unreferenced but younger than " << min_age_hours << " h (kept), " << r->removed
                << (dry_run ? " unreferenced would be deleted (" : " unreferenced deleted (") << r->removed_bytes
                << " bytes); " << r->temporary_removed << " leftover temporary files"
                << (dry_run ? " would be deleted\n" : " deleted\n");
    }
    return 0;
  }));

  AddQualityCommands(root, exit_code);
  AddDeidCommands(root, exit_code);
  AddDicomDeidCommand(*root.get_subcommand("deid"), exit_code);
  AddIngestCommands(root, common, exit_code);
  AddExportCommands(root, common, exit_code);
  AddQuarantineCommands(root, common, exit_code);
  AddWorkflowCommands(root, exit_code);

  try {
    root.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return root.exit(e) == 0 ? 0 : 2;
  }
  return exit_code;
}

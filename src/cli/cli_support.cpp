#include "cli/cli_support.h"

#include <signal.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <thread>

#include "caliper/app/dicom_receiver.h"
#include "caliper/app/sweeper.h"
#include "caliper/common/log.h"
#include "caliper/http/server.h"

namespace caliper::cli {

void AddCommonOptions(CLI::App& cmd, CommonOptions& options) {
  cmd.add_option("--data", options.data_dir, "Data directory of the deployment")->capture_default_str();
  cmd.add_option("--config", options.config_file, "Configuration file (default <data>/caliper.toml)");
  cmd.add_option("--set", options.settings, "Override a setting: --set section.name=value (repeatable)");
  cmd.add_flag("--json", options.json, "Print results as JSON for scripts");
}

Result<Config> LoadConfig(const CommonOptions& options) {
  std::map<std::string, std::string> overrides;
  for (const auto& s : options.settings) {
    auto eq = s.find('=');
    if (eq == std::string::npos || eq == 0) {
      return Error(ErrorCode::kInvalidArgument, "--set takes section.name=value, not '" + s + "'");
    }
    overrides[s.substr(0, eq)] = s.substr(eq + 1);
  }
  bool explicit_file = !options.config_file.empty();
  std::string path = explicit_file ? options.config_file : app::DataPaths(options.data_dir).config_file;
  CALIPER_ASSIGN_OR_RETURN(Config config, Config::Load(path, explicit_file, overrides));
  log::SetLevel(config.GetString("log.level"));
  return config;
}

Result<std::unique_ptr<app::App>> OpenApp(const CommonOptions& options) {
  CALIPER_ASSIGN_OR_RETURN(Config config, LoadConfig(options));
  return app::App::Open(options.data_dir, config, {});
}

Result<app::RequestContext> ActAs(app::App& app, const std::string& username, const std::string& project_id,
                                  security::Permission permission, const std::string& action) {
  if (username.empty()) return Error(ErrorCode::kInvalidArgument, "--as USERNAME is required (who is acting)");
  app::RequestContext ctx;
  CALIPER_ASSIGN_OR_RETURN(ctx.principal.user, app.FindUser(app::LocalOperator(), username));
  ctx.source_address = "cli";
  CALIPER_RETURN_IF_ERROR(app.Authorize(ctx, permission, project_id, "", action));
  return ctx;
}

Result<core::Project> FindProject(app::App& app, const std::string& id_or_name) {
  storage::PageRequest page{"", 500};
  while (true) {
    CALIPER_ASSIGN_OR_RETURN(auto projects, app.ListProjects(app::LocalOperator(), page));
    for (const auto& p : projects.rows) {
      if (p.id == id_or_name || p.name == id_or_name) return p;
    }
    if (projects.next.empty()) break;
    page.after = projects.next;
  }
  return Error(ErrorCode::kNotFound, "no project with id or name '" + id_or_name + "'");
}

int Fail(const Status& status) {
  std::cerr << "caliper: " << status.ToString() << "\n";
  return 1;
}

void PrintJson(const nlohmann::json& value) { std::cout << value.dump(2) << "\n"; }

int Serve(app::App& app, const std::string& listen, const std::string& banner) {
  auto options = http::ServerOptionsFrom(app.config(), app.paths(), listen);
  if (!options.ok()) return Fail(options.status());
  http::Server server(app, *options);
  // Signals go to one watcher thread, which stops the server; in-flight requests finish.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  if (Status s = server.Bind(); !s.ok()) return Fail(s);
  // The C-STORE receiver, when configured (its threads inherit the blocked signals).
  auto scp_options = app::StoreScpOptionsFrom(app.config());
  if (!scp_options.ok()) return Fail(scp_options.status());
  std::unique_ptr<app::DicomReceiver> receiver;
  if (scp_options->has_value()) {
    auto started = app::DicomReceiver::Start(app, **scp_options);
    if (!started.ok()) return Fail(started.status());
    receiver = std::move(*started);
  }
  std::thread watcher([&] {
    int received = 0;
    sigwait(&signals, &received);
    log::Info("signal " + std::to_string(received) + ": finishing in-flight requests");
    server.Stop();
  });
  const std::string scheme = options->tls ? "https" : "http";
  std::string host = options->host.find(':') != std::string::npos ? "[" + options->host + "]" : options->host;
  std::cout << banner << "Caliper is serving on " << scheme << "://" << host << ":" << server.port() << "/\n"
            << std::flush;
  if (receiver != nullptr) {
    std::cout << "DICOM C-STORE receiver on " << (*scp_options)->host << ":" << receiver->port() << " as AE title "
              << (*scp_options)->ae_title << "\n"
              << std::flush;
  }
  auto sweep_seconds = app.config().GetInt("quality.sweep_seconds");
  if (!sweep_seconds.ok()) return Fail(sweep_seconds.status());
  std::optional<app::QualitySweeper> sweeper;
  if (*sweep_seconds > 0) sweeper.emplace(app, std::chrono::seconds(*sweep_seconds));
  Status run = server.Run();
  sweeper.reset();   // finishes the sweep under way, if any
  receiver.reset();  // each association ends after its message under way
  // Wake the watcher if the server ended on its own.
  pthread_kill(watcher.native_handle(), SIGTERM);
  watcher.join();
  app.Close();
  log::Info("stopped");
  return run.ok() ? 0 : Fail(run);
}

Result<std::string> ReadWholeFile(const std::filesystem::path& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (ec) return Error(ErrorCode::kIo, "cannot read " + path.string() + ": " + ec.message());
  if (size > kMaxFileBytes) return Error(ErrorCode::kPayloadTooLarge, path.string() + " is larger than 2 GiB");
  std::ifstream in(path, std::ios::binary);
  std::string bytes(size, '\0');
  if (!in.read(bytes.data(), static_cast<std::streamsize>(size))) {
    return Error(ErrorCode::kIo, "cannot read " + path.string());
  }
  return bytes;
}

}  // namespace caliper::cli

#pragma once

// For the http tests: one deployment in a temporary directory and a plain-HTTP server on a
// free loopback port, with a FakeClock the test moves. One per test process.

#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include "caliper/app/app.h"
#include "caliper/http/server.h"

namespace caliper::http {

class TestServer {
 public:
  // Initialises a deployment under the temp directory (named after `name` and the pid) and
  // starts serving. Returns the error when any step fails (tests assert on it).
  Status Start(const std::string& name, ServerOptions options) {
    dir_ = std::filesystem::temp_directory_path() / (name + "_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    Config config;
    CALIPER_ASSIGN_OR_RETURN(app::InitResult init, app::App::Init(dir_.string(), config));
    admin_password_ = init.admin_password;
    clock_ = std::make_unique<FakeClock>(SystemClock::Instance().Now());
    app::App::Options app_options;
    app_options.clock = clock_.get();
    CALIPER_ASSIGN_OR_RETURN(app_, app::App::Open(dir_.string(), config, app_options));
    options.tls = false;
    options.port = 0;
    server_ = std::make_unique<Server>(*app_, options);
    CALIPER_RETURN_IF_ERROR(server_->Bind());
    thread_ = std::thread([this] { (void)server_->Run(); });
    return Status::Ok();
  }

  ~TestServer() {
    if (server_) server_->Stop();
    if (thread_.joinable()) thread_.join();
    server_.reset();
    app_.reset();
    std::error_code ignored;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ignored);
  }

  int port() const { return server_->port(); }
  app::App& app() { return *app_; }
  FakeClock& clock() { return *clock_; }
  const std::filesystem::path& dir() const { return dir_; }
  // The first admin's one-time password from `caliper init`.
  const std::string& admin_password() const { return admin_password_; }

 private:
  std::filesystem::path dir_;
  std::string admin_password_;
  std::unique_ptr<FakeClock> clock_;
  std::unique_ptr<app::App> app_;
  std::unique_ptr<Server> server_;
  std::thread thread_;
};

}  // namespace caliper::http

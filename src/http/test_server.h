#pragma once

// For the http tests: one deployment in a temporary directory and a plain-HTTP server on a
// free loopback port, with a FakeClock the test moves. One per test process.

#include <httplib.h>

#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "caliper/app/app.h"
#include "caliper/http/server.h"

namespace caliper::http {

// A signed-in browser session: the session cookie ("caliper_session=...") and CSRF token.
struct TestSession {
  std::string cookie;
  std::string csrf;
  std::string user_id;
};

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
    // Returns once the server answers: cpp-httplib ignores a stop() that comes before its accept
    // loop started, and the destructor would then wait for it forever (a suite that skips at
    // once hung in TearDownTestSuite).
    httplib::Client probe("127.0.0.1", server_->port());
    probe.set_read_timeout(30, 0);
    if (!probe.Get("/healthz")) return Error(ErrorCode::kUnavailable, "the test server does not answer");
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
  // Creates `username` with `password`, makes them a member of `project_id` with `roles` in
  // `scopes` (unless `roles` is empty) and signs in over HTTP. An empty session on failure.
  TestSession SignedInUser(const std::string& username, const std::string& password, const std::string& project_id,
                           const std::vector<core::Role>& roles, const std::vector<core::DataType>& scopes) {
    app::NewUser spec;
    spec.username = username;
    spec.password = password;
    auto user = app_->CreateUser(app::LocalOperator(), spec);
    if (!user.ok()) return {};
    if (!roles.empty() && !app_->PutMember(app::LocalOperator(), project_id, user->user.id, roles, scopes).ok()) return {};
    return LogIn(username, password, user->user.id);
  }
  // A new browser session of an existing user (e.g. after the clock moved past the idle
  // timeout). An empty session on failure.
  TestSession LogIn(const std::string& username, const std::string& password, const std::string& user_id) const {
    auto res = Send("POST", "/api/v1/auth/login", nullptr,
                    nlohmann::json{{"username", username}, {"password", password}}.dump());
    if (!res || res->status != 200) return {};
    const std::string set_cookie = res->get_header_value("Set-Cookie");
    const auto body = nlohmann::json::parse(res->body, nullptr, false);
    return {set_cookie.substr(0, set_cookie.find(';')), body.value("csrf_token", ""), user_id};
  }
  // One request over loopback as `s` (nullptr: anonymous).
  httplib::Result Send(const std::string& method, const std::string& path, const TestSession* s,
                       const std::string& body = "", const std::string& type = "application/json") const {
    httplib::Client c("127.0.0.1", port());
    c.set_read_timeout(60, 0);
    httplib::Headers h;
    if (s != nullptr) {
      h.emplace("Cookie", s->cookie);
      h.emplace("X-CSRF-Token", s->csrf);
    }
    if (method == "GET") return c.Get(path, h);
    if (method == "PUT") return c.Put(path, h, body, type);
    return c.Post(path, h, body, type);
  }
  // How many successful audit events `action` on `object_id` the deployment holds.
  int AuditCount(const std::string& action, const std::string& object_id) {
    int n = 0;
    const Status s = app_->ExportAudit(app::LocalOperator(), 0, clock_->Now() + 24 * kMicrosPerHour,
                                       [&](const storage::AuditEvent& e) {
                                         if (e.action == action && e.object_id == object_id && e.outcome == "success") ++n;
                                         return Status::Ok();
                                       });
    return s.ok() ? n : -1;
  }

 private:
  std::filesystem::path dir_;
  std::string admin_password_;
  std::unique_ptr<FakeClock> clock_;
  std::unique_ptr<app::App> app_;
  std::unique_ptr<Server> server_;
  std::thread thread_;
};

}  // namespace caliper::http

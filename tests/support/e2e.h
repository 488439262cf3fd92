#pragma once

// Plumbing for the suites that drive the real `caliper` binary as an operator or a client
// would: temporary data directories, running commands, a server process that never outlives
// its test, and a small client for the JSON API (plain HTTP on loopback).
//
// Not thread-safe unless a class says so; `Api` is one client per thread.

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <nlohmann/json.hpp>

namespace caliper::e2e {

using nlohmann::json;
using std::chrono::milliseconds;

// The `caliper` binary under test: $CALIPER_E2E_BINARY when set (to test an installed binary),
// else the one this build made (its path is compiled in by tests/CMakeLists.txt).
const std::string& CaliperBinary();

// A fresh directory under the system temp directory; removed with its contents on destruction.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  // path() + "/" + name
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

std::string ReadFile(const std::string& path);
// Writes `content` to `path` (replacing it) and sets `mode`.
void WriteFile(const std::string& path, const std::string& content, unsigned mode = 0644);
// Permission bits of `path` (e.g. 0600); -1 when it does not exist.
int ModeOf(const std::string& path);

// A child process started with fork + exec. The child dies with the test process
// (PR_SET_PDEATHSIG; so Spawn from a thread that lives as long as the child, such as the test's
// own thread), and the destructor kills and reaps a child still running: no test leaves a
// process behind.
class ChildProcess {
 public:
  ChildProcess() = default;
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Starts `program` (looked up in PATH when it has no '/') with `args`; stdin is /dev/null,
  // stdout and stderr go to the files named (created or truncated). CALIPER_* variables of
  // the test's environment are not passed on, so they cannot change what is tested.
  ::testing::AssertionResult Spawn(const std::string& program, const std::vector<std::string>& args,
                                   const std::string& stdout_file, const std::string& stderr_file);
  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  void Signal(int signal) const;
  // Waits up to `timeout` for the child to end. Its exit code, 128 + n when signal n ended it;
  // nullopt when it still runs.
  std::optional<int> Wait(milliseconds timeout);
  // SIGKILL, then reaps. The exit code as Wait returns it; -1 when no child was running.
  int Kill();

 private:
  pid_t pid_ = -1;
};

struct RunResult {
  int exit_code = -1;  // 128 + n when signal n ended it (9 after a timeout)
  std::string out;
  std::string err;
};
// Runs a program to its end, capturing its output; kills it after `timeout`.
RunResult RunProgram(const std::string& program, const std::vector<std::string>& args,
                     milliseconds timeout = milliseconds(120'000));
RunResult Caliper(const std::vector<std::string>& args,
                  milliseconds timeout = milliseconds(120'000));
// `sqlite3 <database> <sql>`: the operator's way into the database (used to tamper with it).
RunResult Sqlite(const std::string& database, const std::string& sql);
// Describes a run for failure messages.
std::string Describe(const RunResult& r);
// An ingest command's table report: its exit code, the header line and a row on stdout, the
// summary on stderr.
void ExpectTable(const RunResult& r, int exit_code, const std::string& header, const std::string& row,
                 const std::string& summary);

// `caliper init --data <data_dir> --json`; returns the admin's one-time password ("" after
// a test failure).
std::string InitDeployment(const std::string& data_dir);

// A fixture: a deployment in a fresh directory `dir_` (data in `data_`) with one project named
// `project`, for suites that run commands against it.
class ProjectDeploymentTest : public ::testing::Test {
 protected:
  ProjectDeploymentTest(const std::string& prefix, std::string project)
      : dir_(prefix), data_(dir_ / "data"), project_(std::move(project)) {}
  void SetUp() override;
  // `caliper <args> --data <data_>`.
  RunResult Cli(std::vector<std::string> args) const;
  // One value (or rows, newline-separated) of `sql` against the deployment's database.
  std::string Scalar(const std::string& sql) const;

  TempDir dir_;
  std::string data_;
  std::string project_;
};

// `caliper serve --data <data_dir> --listen 127.0.0.1:0 <extra_args>` (port 0: the server picks a
// free port and prints it in its banner), or another serving command (`demo`). stdout and
// stderr go to <data_dir>.serve.out/.err.
class ServerProcess {
 public:
  ServerProcess(std::string data_dir, std::vector<std::string> extra_args, std::string command = "serve");
  // A plain-HTTP server on loopback (--set server.tls=false).
  static std::vector<std::string> PlainHttp() { return {"--set", "server.tls=false"}; }

  // Starts the server and waits (up to `timeout`) until GET /healthz answers 200.
  ::testing::AssertionResult Start(milliseconds timeout = milliseconds(30'000));
  // SIGTERM, then waits up to `timeout`. The exit code; nullopt when it did not end in time
  // (it is then killed).
  std::optional<int> Terminate(milliseconds timeout = milliseconds(30'000));
  // kill -9, then reaps.
  void Kill9() { child_.Kill(); }
  int port() const { return port_; }
  bool tls() const { return tls_; }
  // The server's stdout (its banner) and stderr.
  std::string Out() const;
  // Both, for failure messages.
  std::string Log() const;

 private:
  ::testing::AssertionResult Healthy() const;

  std::string data_dir_;
  std::vector<std::string> extra_args_;
  std::string command_;
  ChildProcess child_;
  int port_ = 0;
  bool tls_ = false;
};

// ---- the JSON API ------------------------------------------------------------------------------

struct Session {
  std::string cookie;  // "caliper_session=..."
  std::string csrf;    // sent as X-CSRF-Token on state-changing requests
};

// A client for a plain-HTTP server on 127.0.0.1, one connection per request: what a
// connection carries is not what these suites test, and a server without TCP_NODELAY (before
// abf1709) stalled ~40 ms per small response on a kept-alive connection.
class Api {
 public:
  explicit Api(int port);
  httplib::Result Get(const std::string& path, const Session* session);
  httplib::Result Post(const std::string& path, const Session* session, const json& body);
  httplib::Result Put(const std::string& path, const Session* session, const json& body);
  // POST /api/v1/projects/{project_id}/items: multipart with 'metadata' and 'content'.
  httplib::Result UploadItem(const std::string& project_id, const Session& session,
                             const json& metadata, const std::string& content);
  ::testing::AssertionResult Login(const std::string& username, const std::string& password,
                                   Session& out);

 private:
  httplib::Headers Headers(const Session* session) const;
  httplib::Client client_;
};

// The response body as JSON (discarded when there is no response or it is not JSON).
json Body(const httplib::Result& res);
// "201 {...}" or "no response (<error>)", for failure messages.
std::string Describe(const httplib::Result& res);

// A password that satisfies the default policy.
inline constexpr const char* kPassword = "correct-horse-battery-9";

// A project with a manager and an annotator, both scoped to imaging, made through the API by
// the admin; every session signed in.
struct Team {
  std::string project_id;
  std::string manager_id;
  std::string annotator_id;
  Session admin;
  Session manager;
  Session annotator;
};
::testing::AssertionResult MakeTeam(Api& api, const std::string& admin_password, Team& team);

// A synthetic imaging item's metadata.
json ImagingItem(const std::string& patient_key);

}  // namespace caliper::e2e

#include "support/e2e.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

extern char** environ;

namespace caliper::e2e {
namespace {

namespace fs = std::filesystem;

// PATH lookup, done before fork (the child may only make async-signal-safe calls).
std::string Resolve(const std::string& program) {
  if (program.find('/') != std::string::npos) return program;
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path != nullptr ? path : "/usr/bin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    std::string candidate = (dir.empty() ? "." : dir) + "/" + program;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return program;
}

std::vector<std::string> ChildEnvironment() {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::strncmp(*e, "CALIPER_", 8) != 0) env.emplace_back(*e);
  }
  return env;
}

std::vector<char*> CStrings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

int ExitCodeOf(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return -1;
}

}  // namespace

const std::string& CaliperBinary() {
  static const std::string kBinary = [] {
    const char* override_path = std::getenv("CALIPER_E2E_BINARY");
    return std::string(override_path != nullptr && *override_path != '\0' ? override_path
                                                                          : CALIPER_BINARY);
  }();
  return kBinary;
}

// ---- files
// ---------------------------------------------------------------------------------------

TempDir::TempDir(const std::string& prefix) {
  std::string pattern = (fs::temp_directory_path() / (prefix + "_XXXXXX")).string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    ADD_FAILURE() << "mkdtemp " << pattern << ": " << std::strerror(errno);
  }
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void WriteFile(const std::string& path, const std::string& content, unsigned mode) {
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << content;
    if (!out) ADD_FAILURE() << "cannot write " << path;
  }
  if (::chmod(path.c_str(), mode) != 0)
    ADD_FAILURE() << "chmod " << path << ": " << std::strerror(errno);
}

int ModeOf(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return -1;
  return static_cast<int>(st.st_mode & 07777);
}

// ---- processes
// -----------------------------------------------------------------------------------

ChildProcess::~ChildProcess() { Kill(); }

::testing::AssertionResult ChildProcess::Spawn(const std::string& program,
                                               const std::vector<std::string>& args,
                                               const std::string& stdout_file,
                                               const std::string& stderr_file) {
  if (running()) return ::testing::AssertionFailure() << "a child is running already";
  std::vector<std::string> argv_strings = {Resolve(program)};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<std::string> env_strings = ChildEnvironment();
  std::vector<char*> argv = CStrings(argv_strings);
  std::vector<char*> envp = CStrings(env_strings);
  const std::string exec_failed = "cannot execute " + argv_strings[0] + "\n";
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) return ::testing::AssertionFailure() << "fork: " << std::strerror(errno);
  if (pid == 0) {
    // The child: async-signal-safe calls only, then exec.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    const int in = ::open("/dev/null", O_RDONLY);
    const int out = ::open(stdout_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int err = ::open(stderr_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (in < 0 || out < 0 || err < 0) ::_exit(126);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(err, 2);
    ::execve(argv[0], argv.data(), envp.data());
    (void)!::write(2, exec_failed.data(), exec_failed.size());
    ::_exit(127);
  }
  pid_ = pid;
  return ::testing::AssertionSuccess();
}

void ChildProcess::Signal(int signal) const {
  if (running()) ::kill(pid_, signal);
}

std::optional<int> ChildProcess::Wait(milliseconds timeout) {
  if (!running()) return std::nullopt;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    int status = 0;
    const pid_t done = ::waitpid(pid_, &status, WNOHANG);
    if (done == pid_) {
      pid_ = -1;
      return ExitCodeOf(status);
    }
    if (done < 0 && errno != EINTR) {
      pid_ = -1;
      return -1;
    }
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(milliseconds(5));
  }
}

int ChildProcess::Kill() {
  if (!running()) return -1;
  ::kill(pid_, SIGKILL);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
  return ExitCodeOf(status);
}

RunResult RunProgram(const std::string& program, const std::vector<std::string>& args,
                     milliseconds timeout) {
  TempDir scratch("caliper_run");
  RunResult result;
  ChildProcess child;
  auto spawned = child.Spawn(program, args, scratch / "out", scratch / "err");
  if (!spawned) {
    ADD_FAILURE() << spawned.message();
    return result;
  }
  std::optional<int> code = child.Wait(timeout);
  if (!code) {
    ADD_FAILURE() << program << " still running after " << timeout.count() << " ms; killed";
    code = child.Kill();
  }
  result.exit_code = *code;
  result.out = ReadFile(scratch / "out");
  result.err = ReadFile(scratch / "err");
  return result;
}

RunResult Caliper(const std::vector<std::string>& args, milliseconds timeout) {
  return RunProgram(CaliperBinary(), args, timeout);
}

RunResult Sqlite(const std::string& database, const std::string& sql) {
  RunResult r = RunProgram("sqlite3", {"-bail", database, sql});
  EXPECT_EQ(r.exit_code, 0) << "sqlite3 " << sql << "\n" << Describe(r);
  return r;
}

void ExpectTable(const RunResult& r, int exit_code, const std::string& header, const std::string& row,
                 const std::string& summary) {
  EXPECT_EQ(r.exit_code, exit_code) << Describe(r);
  EXPECT_THAT(r.out, ::testing::HasSubstr(header + "\n"));
  EXPECT_THAT(r.out, ::testing::HasSubstr(row));
  EXPECT_THAT(r.err, ::testing::HasSubstr(summary));
}

std::string Describe(const RunResult& r) {
  return "exit code " + std::to_string(r.exit_code) + "\n--- stdout ---\n" + r.out +
         "--- stderr ---\n" + r.err;
}

std::string InitDeployment(const std::string& data_dir) {
  RunResult r = Caliper({"init", "--data", data_dir, "--json"});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  json out = json::parse(r.out, nullptr, false);
  if (out.is_discarded() || !out["admin_password"].is_string()) {
    ADD_FAILURE() << "init printed no admin password: " << Describe(r);
    return "";
  }
  return out["admin_password"].get<std::string>();
}

void ProjectDeploymentTest::SetUp() {
  InitDeployment(data_);
  RunResult r = Caliper({"project", "create", project_, "--data", data_});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
}

RunResult ProjectDeploymentTest::Cli(std::vector<std::string> args) const {
  args.insert(args.end(), {"--data", data_});
  return Caliper(args);
}

std::string ProjectDeploymentTest::Scalar(const std::string& sql) const {
  std::string out = Sqlite(data_ + "/caliper.db", sql).out;
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

// ---- the server
// ----------------------------------------------------------------------------------

ServerProcess::ServerProcess(std::string data_dir, std::vector<std::string> extra_args, std::string command)
    : data_dir_(std::move(data_dir)), extra_args_(std::move(extra_args)), command_(std::move(command)) {}

::testing::AssertionResult ServerProcess::Start(milliseconds timeout) {
  std::vector<std::string> args = {command_, "--data", data_dir_, "--listen", "127.0.0.1:0"};
  args.insert(args.end(), extra_args_.begin(), extra_args_.end());
  port_ = 0;
  // The old banner goes first, or its port would be read before the child truncates the file.
  std::filesystem::remove(data_dir_ + ".serve.out");
  std::filesystem::remove(data_dir_ + ".serve.err");
  if (auto spawned =
          child_.Spawn(CaliperBinary(), args, data_dir_ + ".serve.out", data_dir_ + ".serve.err");
      !spawned) {
    return spawned;
  }
  // The banner names the port: "Caliper is serving on http://127.0.0.1:PORT/".
  const std::string banner = "Caliper is serving on ";
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (auto code = child_.Wait(milliseconds(0))) {
      return ::testing::AssertionFailure()
             << "caliper " << command_ << " exited with " << *code << " before answering\n"
             << Log();
    }
    if (port_ == 0) {
      const std::string out = ReadFile(data_dir_ + ".serve.out");
      const auto at = out.find(banner);
      const auto end = at == std::string::npos ? std::string::npos : out.find("/\n", at);
      if (end != std::string::npos) {
        const std::string url = out.substr(at + banner.size(), end - at - banner.size());
        tls_ = url.rfind("https://", 0) == 0;
        port_ = std::stoi(url.substr(url.rfind(':') + 1));
      }
    }
    if (port_ != 0 && Healthy()) return ::testing::AssertionSuccess();
    std::this_thread::sleep_for(milliseconds(20));
  }
  child_.Kill();
  return ::testing::AssertionFailure()
         << "caliper " << command_ << " did not answer GET /healthz with 200 within " << timeout.count() << " ms\n"
         << Log();
}

::testing::AssertionResult ServerProcess::Healthy() const {
  const std::string url =
      std::string(tls_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_) + "/healthz";
  if (tls_) {
    RunResult r = RunProgram(
        "curl", {"-sk", "--max-time", "2", "-o", "/dev/null", "-w", "%{http_code}", url});
    if (r.exit_code == 0 && r.out == "200") return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << url << ": " << Describe(r);
  }
  httplib::Client client("127.0.0.1", port_);
  client.set_connection_timeout(1, 0);
  client.set_read_timeout(2, 0);
  auto res = client.Get("/healthz");
  if (res && res->status == 200) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << url << ": " << Describe(res);
}

std::optional<int> ServerProcess::Terminate(milliseconds timeout) {
  child_.Signal(SIGTERM);
  std::optional<int> code = child_.Wait(timeout);
  if (!code) child_.Kill();
  return code;
}

std::string ServerProcess::Out() const { return ReadFile(data_dir_ + ".serve.out"); }

std::string ServerProcess::Log() const {
  return "--- caliper " + command_ + " stdout ---\n" + Out() + "--- caliper " + command_ + " stderr ---\n" +
         ReadFile(data_dir_ + ".serve.err");
}

// ---- the API
// ---------------------------------------------------------------------------------------

Api::Api(int port) : client_("127.0.0.1", port) {
  client_.set_keep_alive(false);
  client_.set_tcp_nodelay(true);
  client_.set_connection_timeout(5, 0);
  client_.set_read_timeout(60, 0);
  client_.set_write_timeout(60, 0);
}

httplib::Headers Api::Headers(const Session* session) const {
  httplib::Headers h;
  if (session != nullptr) {
    h.emplace("Cookie", session->cookie);
    h.emplace("X-CSRF-Token", session->csrf);
  }
  return h;
}

httplib::Result Api::Get(const std::string& path, const Session* session) {
  return client_.Get(path, Headers(session));
}

httplib::Result Api::Post(const std::string& path, const Session* session, const json& body) {
  return client_.Post(path, Headers(session), body.dump(), "application/json");
}

httplib::Result Api::Put(const std::string& path, const Session* session, const json& body) {
  return client_.Put(path, Headers(session), body.dump(), "application/json");
}

httplib::Result Api::UploadItem(const std::string& project_id, const Session& session,
                                const json& metadata, const std::string& content) {
  httplib::MultipartFormDataItems parts = {
      {"metadata", metadata.dump(), "", "application/json"},
      {"content", content, "slice.bin", "application/octet-stream"}};
  return client_.Post("/api/v1/projects/" + project_id + "/items", Headers(&session), parts);
}

::testing::AssertionResult Api::Login(const std::string& username, const std::string& password,
                                      Session& out) {
  auto res = Post("/api/v1/auth/login", nullptr, {{"username", username}, {"password", password}});
  if (!res || res->status != 200) {
    return ::testing::AssertionFailure() << "login as " << username << ": " << Describe(res);
  }
  const std::string set_cookie = res->get_header_value("Set-Cookie");
  out.cookie = set_cookie.substr(0, set_cookie.find(';'));
  out.csrf = Body(res).value("csrf_token", "");
  if (out.cookie.empty() || out.csrf.empty()) {
    return ::testing::AssertionFailure()
           << "login as " << username << " set no session: " << Describe(res);
  }
  return ::testing::AssertionSuccess();
}

json Body(const httplib::Result& res) {
  if (!res) return json(json::value_t::discarded);
  return json::parse(res->body, nullptr, false);
}

std::string Describe(const httplib::Result& res) {
  if (!res) return "no response (" + httplib::to_string(res.error()) + ")";
  return std::to_string(res->status) + " " + res->body.substr(0, 500);
}

::testing::AssertionResult MakeTeam(Api& api, const std::string& admin_password, Team& team) {
  if (auto ok = api.Login("admin", admin_password, team.admin); !ok) return ok;
  // The first admin's password is one-time: the API refuses everything else until it changes.
  auto changed = api.Post("/api/v1/me/password", &team.admin,
                          {{"current_password", admin_password},
                           {"new_password", "end to end operator passphrase"}});
  if (!changed || changed->status != 204)
    return ::testing::AssertionFailure() << "change the admin password: " << Describe(changed);
  // The change ends every session: sign in again with the new password.
  if (auto ok = api.Login("admin", "end to end operator passphrase", team.admin); !ok) return ok;
  auto project = api.Post("/api/v1/projects", &team.admin, {{"name", "End to end"}});
  if (!project || project->status != 201)
    return ::testing::AssertionFailure() << "create project: " << Describe(project);
  team.project_id = Body(project)["id"].get<std::string>();
  for (auto [name, role, id] : {std::tuple{"manager", "manager", &team.manager_id},
                                std::tuple{"annotator", "annotator", &team.annotator_id}}) {
    auto user =
        api.Post("/api/v1/users", &team.admin, {{"username", name}, {"password", kPassword}});
    if (!user || user->status != 201)
      return ::testing::AssertionFailure() << "create " << name << ": " << Describe(user);
    *id = Body(user)["id"].get<std::string>();
    auto member = api.Put("/api/v1/projects/" + team.project_id + "/members/" + *id, &team.admin,
                          {{"roles", {role}}, {"scopes", {"imaging"}}});
    if (!member || member->status != 200)
      return ::testing::AssertionFailure() << "add " << name << ": " << Describe(member);
  }
  if (auto ok = api.Login("manager", kPassword, team.manager); !ok) return ok;
  return api.Login("annotator", kPassword, team.annotator);
}

json ImagingItem(const std::string& patient_key) {
  return {{"data_type", "imaging"}, {"modality", "CT"}, {"patient_key", patient_key}};
}

}  // namespace caliper::e2e

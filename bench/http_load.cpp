// caliper_bench_http: throughput and latency of authenticated reads and writes through the
// HTTP API under concurrent keep-alive load, and whether idle keep-alive connections starve
// active ones.
//
// It initialises a fresh deployment in a temporary directory (App::Init + App::Open), serves
// it in process on 127.0.0.1 with the product's default server settings (server.threads 256,
// keep-alive 30 s), and drives it over loopback with --clients threads, each holding one
// keep-alive connection (cpp-httplib client). Every request takes the full path: session
// cookie, CSRF token on writes, RBAC (an annotator with the item assigned), audit event in
// the same transaction as the change, synchronous=FULL.
//
// Phases (--seconds each):
//   read_meta          GET  /api/v1/items/{id}              item metadata (no audit)
//   read_content       GET  /api/v1/items/{id}/content      audited decrypting read of 64 KiB
//   write              POST /api/v1/items/{id}/annotations  one label (audited)
//   fairness_baseline  read_meta from newly connecting clients, nothing else connected
//   fairness_idle      the same while --idle raw sockets each sent one request and stay open
//   tasks_cycle        --readers annotators each loop POST tasks/next -> POST annotations ->
//                      POST tasks/{id}/submit (k = 3, --task-items items); latency per request,
//                      throughput in cycles, tasks/next and submit p50/p99 reported apart
// The first three warm up (each client's connecting request is not timed); the fairness
// phases time it, since a new connection is what idle ones could starve.
//
// Latency is measured per attempt, failed attempts included (a timed-out request counts at
// the timeout). Prints a table and one JSON line per phase (lines starting with '{'). Exit
// status: 0 when every request got the expected answer, 1 when any failed, 2 when the setup
// failed.

#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <latch>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "bench_support.h"
#include "caliper/app/app.h"
#include "caliper/common/config.h"
#include "caliper/http/server.h"

namespace caliper::bench {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using SteadyClock = std::chrono::steady_clock;

constexpr std::size_t kContentBytes = 64 * 1024;
constexpr char kPassword[] = "load-test-passphrase-7f3a9c";  // passes the password policy

struct Flags {
  int clients = 32;
  int seconds = 5;
  int idle = 300;
  int timeout_seconds = 10;  // per request, client side
  int threads = 0;           // 0 = the product default (server.threads)
  bool tls = false;
  std::vector<std::string> phases = {"read_meta", "read_content", "write", "fairness", "tasks"};
  int readers = 50;        // the tasks phase: concurrent readers
  int task_items = 3000;   // the tasks phase: items (k = 3 tasks each)
};

Flags ParseFlags(int argc, char** argv) {
  Flags f;
  auto number = [&](int& i, int min) {
    if (i + 1 >= argc) Die(std::string(argv[i]) + " needs a value");
    int v = std::atoi(argv[++i]);
    if (v < min) Die(std::string(argv[i - 1]) + " must be at least " + std::to_string(min));
    return v;
  };
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--clients") {
      f.clients = number(i, 1);
    } else if (a == "--seconds") {
      f.seconds = number(i, 1);
    } else if (a == "--idle") {
      f.idle = number(i, 0);
    } else if (a == "--timeout") {
      f.timeout_seconds = number(i, 1);
    } else if (a == "--threads") {
      f.threads = number(i, 4);
    } else if (a == "--tls") {
      f.tls = true;
    } else if (a == "--readers") {
      if (i + 1 >= argc) Die("--readers needs a value");
      f.readers = std::atoi(argv[++i]);
      if (f.readers < 1 || f.readers > 1000) Die("--readers must be 1..1000");
    } else if (a == "--task-items") {
      if (i + 1 >= argc) Die("--task-items needs a value");
      f.task_items = std::atoi(argv[++i]);
      if (f.task_items < 1) Die("--task-items must be positive");
    } else if (a == "--phases") {
      if (i + 1 >= argc) Die("--phases needs a value");
      f.phases.clear();
      std::string list = argv[++i];
      for (std::size_t pos = 0; pos <= list.size();) {
        std::size_t comma = std::min(list.find(',', pos), list.size());
        f.phases.push_back(list.substr(pos, comma - pos));
        pos = comma + 1;
      }
    } else {
      std::cout << "usage: caliper_bench_http [--clients N (32)] [--seconds S per phase (5)] [--idle N (300)]\n"
                   "                          [--timeout S per request (10)] [--threads N (server.threads)]\n"
                   "                          [--tls] [--phases read_meta,read_content,write,fairness,tasks]\n"
                   "                          [--readers N (50)] [--task-items N (3000)]\n";
      std::exit(a == "--help" || a == "-h" ? 0 : 2);
    }
  }
  return f;
}

// ---- the deployment under test -----------------------------------------------------------------

struct Session {
  std::string cookie;  // "caliper_session=..."
  std::string csrf;
};

// A temporary data directory with an App and a Server running on its own thread. Removes the
// directory when destroyed.
class Deployment {
 public:
  explicit Deployment(const Flags& flags) : tls_(flags.tls) {
    std::string tmpl = (fs::temp_directory_path() / "caliper-bench-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) Die("mkdtemp failed");
    dir_ = tmpl;
    Check(config_.Set("server.tls", tls_ ? "true" : "false"), "server.tls");
    if (flags.threads > 0) Check(config_.Set("server.threads", std::to_string(flags.threads)), "server.threads");
    auto init = app::App::Init(dir_, config_);
    Check(init.status(), "App::Init");
    admin_password_ = init->admin_password;
    app::DataPaths paths(dir_);
    if (tls_) {
      Check(http::MakeSelfSignedCertificate(paths.tls_dir + "/cert.pem", paths.tls_dir + "/key.pem"), "certificate");
    }
    auto app = app::App::Open(dir_, config_, {});
    Check(app.status(), "App::Open");
    app_ = std::move(app).value();
    // The first admin's password from Init is one-time (it must be changed before anything
    // else); the benchmark replaces it with a lasting one.
    auto admin = app_->FindUser(app::LocalOperator(), "admin");
    Check(admin.status(), "find admin");
    auto lasting = app_->ResetPassword(app::LocalOperator(), admin->id, /*must_change=*/false);
    Check(lasting.status(), "admin password");
    admin_password_ = *lasting;
    auto options = http::ServerOptionsFrom(config_, paths, "127.0.0.1:0");
    Check(options.status(), "server options");
    options_ = *options;
    server_ = std::make_unique<http::Server>(*app_, options_);
    Check(server_->Bind(), "bind");
    thread_ = std::thread([this] { (void)server_->Run(); });
  }

  ~Deployment() {
    server_->Stop();
    thread_.join();
    server_.reset();
    app_.reset();
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }

  int port() const { return server_->port(); }
  bool tls() const { return tls_; }
  const http::ServerOptions& options() const { return options_; }
  const std::string& admin_password() const { return admin_password_; }
  app::App& app() const { return *app_; }
  std::string base_url() const { return std::string(tls_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(port()); }

  // A keep-alive client with TCP_NODELAY, as browsers use; the self-signed certificate is not
  // verified.
  std::unique_ptr<httplib::Client> NewClient(int timeout_seconds) const {
    auto c = std::make_unique<httplib::Client>(base_url());
    c->set_keep_alive(true);
    c->set_tcp_nodelay(true);
    c->set_connection_timeout(timeout_seconds, 0);
    c->set_read_timeout(timeout_seconds, 0);
    c->set_write_timeout(timeout_seconds, 0);
    if (tls_) c->enable_server_certificate_verification(false);
    return c;
  }

 private:
  bool tls_;
  std::string dir_;
  Config config_;
  std::string admin_password_;
  std::unique_ptr<app::App> app_;
  http::ServerOptions options_;
  std::unique_ptr<http::Server> server_;
  std::thread thread_;
};

httplib::Headers HeadersOf(const Session& s) { return {{"Cookie", s.cookie}, {"X-CSRF-Token", s.csrf}}; }

// The parsed body of `res`; dies unless it has status `expected`.
json Expect(const httplib::Result& res, int expected, const std::string& what) {
  if (!res) Die(what + ": no answer (" + httplib::to_string(res.error()) + ")");
  if (res->status != expected) Die(what + ": HTTP " + std::to_string(res->status) + " " + res->body);
  return json::parse(res->body, nullptr, false);
}

Session Login(httplib::Client& c, const std::string& username, const std::string& password) {
  auto res = c.Post("/api/v1/auth/login", json{{"username", username}, {"password", password}}.dump(),
                    "application/json");
  json body = Expect(res, 200, "login " + username);
  const std::string set_cookie = res->get_header_value("Set-Cookie");
  return {set_cookie.substr(0, set_cookie.find(';')), body.value("csrf_token", "")};
}

// What the load phases act on: an annotator's session and an item assigned to them.
struct Target {
  Session annotator;
  std::string item_id;
};

// Through the API, as a deployment would be set up: the admin creates a project, a manager
// and an annotator; the manager uploads a 64 KiB imaging item and assigns it.
Target Populate(const Deployment& d) {
  auto c = d.NewClient(30);
  Session admin = Login(*c, "admin", d.admin_password());
  const std::string project_id =
      Expect(c->Post("/api/v1/projects", HeadersOf(admin), json{{"name", "Load test"}}.dump(), "application/json"),
             201, "create project")["id"];
  auto make_member = [&](const std::string& username, const std::string& role) {
    const std::string id = Expect(c->Post("/api/v1/users", HeadersOf(admin),
                                          json{{"username", username}, {"password", kPassword}}.dump(),
                                          "application/json"),
                                  201, "create " + username)["id"];
    Expect(c->Put("/api/v1/projects/" + project_id + "/members/" + id, HeadersOf(admin),
                  json{{"roles", {role}}, {"scopes", {"imaging"}}}.dump(), "application/json"),
           200, "add " + username);
    return id;
  };
  make_member("load-manager", "manager");
  const std::string annotator_id = make_member("load-annotator", "annotator");

  Session manager = Login(*c, "load-manager", kPassword);
  std::string content(kContentBytes, '\0');
  for (std::size_t i = 0; i < content.size(); ++i) content[i] = static_cast<char>((i * 2654435761u) >> 13);
  httplib::MultipartFormDataItems parts = {
      {"metadata", json{{"data_type", "imaging"}, {"modality", "CT"}, {"patient_key", "pt-load-0001"}}.dump(), "",
       "application/json"},
      {"content", content, "slice.dcm", "application/dicom"}};
  Target t;
  t.item_id = Expect(c->Post("/api/v1/projects/" + project_id + "/items", HeadersOf(manager), parts), 201,
                     "upload item")["id"];
  Expect(c->Post("/api/v1/items/" + t.item_id + "/assignments", HeadersOf(manager),
                 json{{"user_id", annotator_id}}.dump(), "application/json"),
         201, "assign item");
  t.annotator = Login(*c, "load-annotator", kPassword);
  return t;
}

// ---- load ----------------------------------------------------------------------------------

// One request; returns "" when the answer is the expected one, else a short error kind.
using Request = std::function<std::string(httplib::Client&)>;

std::string Verdict(const httplib::Result& res, int status, std::size_t body_bytes = 0) {
  if (!res) return httplib::to_string(res.error());
  if (res->status != status) return "HTTP " + std::to_string(res->status);
  if (body_bytes != 0 && res->body.size() != body_bytes) return "short body";
  return "";
}

struct PhaseResult {
  std::string name;
  int clients = 0;
  int idle = 0;
  double seconds = 0;
  double cpu_percent = 0;  // process CPU time / wall time (100 = one core busy)
  std::int64_t syn_drops = 0;  // listen queue overflows during the phase
  std::int64_t requests = 0;  // timed requests
  std::int64_t ok = 0;        // timed requests answered as expected
  std::int64_t errors = 0;    // failed requests, warm-up included
  std::int64_t client_min = -1, client_max = 0;  // fewest and most answered requests of one client
  std::map<std::string, std::int64_t> error_kinds;
  std::vector<double> latency_ms;  // every attempt, sorted
  json extra = json::object();

  // Nearest-rank percentile; 0 when nothing was measured.
  double Percentile(double p) const {
    if (latency_ms.empty()) return 0;
    std::size_t rank = static_cast<std::size_t>(std::ceil(p * static_cast<double>(latency_ms.size())));
    return latency_ms[std::clamp<std::size_t>(rank, 1, latency_ms.size()) - 1];
  }
  double rps() const { return seconds > 0 ? static_cast<double>(ok) / seconds : 0; }
};

// TcpExt ListenOverflows from /proc/net/netstat: SYNs dropped because a listen queue was
// full (this network namespace; -1 when unreadable).
std::int64_t ListenOverflows() {
  std::ifstream in("/proc/net/netstat");
  std::string names, values;
  while (std::getline(in, names) && std::getline(in, values)) {
    if (names.rfind("TcpExt:", 0) != 0) continue;
    std::istringstream n(names), v(values);
    for (std::string name, value; n >> name && v >> value;) {
      if (name == "ListenOverflows") return std::stoll(value);
    }
  }
  return -1;
}

double CpuSeconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  auto secs = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return secs(u.ru_utime) + secs(u.ru_stime);
}

// How a phase's clients start.
enum class Start {
  kWarm,   // each client connects with one untimed request first: steady-state figures
  kFresh,  // the first, connecting request is timed too: what a newly arriving user sees
};

// Runs `request` in a loop on flags.clients threads, each with its own keep-alive connection,
// until flags.seconds have passed. The request in flight at the deadline completes and is
// counted. A failed warm-up request counts as an error.
PhaseResult RunPhase(const std::string& name, const Deployment& d, const Flags& flags, const Request& request,
                     Start start) {
  struct Worker {
    std::vector<double> latency_ms;
    std::int64_t ok = 0;
    std::map<std::string, std::int64_t> errors;
  };
  std::vector<Worker> workers(static_cast<std::size_t>(flags.clients));
  std::latch ready(flags.clients + 1);  // every client connected (kWarm) or about to
  std::latch go(flags.clients + 1);     // `deadline` is set
  SteadyClock::time_point deadline;
  std::vector<std::thread> threads;
  for (auto& w : workers) {
    threads.emplace_back([&, &w = w] {
      auto client = d.NewClient(flags.timeout_seconds);
      if (start == Start::kWarm) {
        std::string error = request(*client);
        if (!error.empty()) ++w.errors["warm-up: " + error];
      }
      ready.arrive_and_wait();
      go.arrive_and_wait();
      while (SteadyClock::now() < deadline) {
        const auto started = SteadyClock::now();
        std::string error = request(*client);
        w.latency_ms.push_back(std::chrono::duration<double, std::milli>(SteadyClock::now() - started).count());
        if (error.empty()) {
          ++w.ok;
        } else {
          ++w.errors[error];
        }
      }
    });
  }
  ready.arrive_and_wait();
  const double cpu_before = CpuSeconds();
  const std::int64_t overflows_before = ListenOverflows();
  const auto started = SteadyClock::now();
  deadline = started + std::chrono::seconds(flags.seconds);
  go.arrive_and_wait();
  for (auto& t : threads) t.join();
  PhaseResult r;
  r.name = name;
  r.clients = flags.clients;
  r.seconds = std::chrono::duration<double>(SteadyClock::now() - started).count();
  r.cpu_percent = 100 * (CpuSeconds() - cpu_before) / r.seconds;
  r.syn_drops = ListenOverflows() - overflows_before;
  for (auto& w : workers) {
    r.latency_ms.insert(r.latency_ms.end(), w.latency_ms.begin(), w.latency_ms.end());
    r.ok += w.ok;
    r.client_min = r.client_min < 0 ? w.ok : std::min(r.client_min, w.ok);
    r.client_max = std::max(r.client_max, w.ok);
    for (const auto& [kind, n] : w.errors) {
      r.error_kinds[kind] += n;
      r.errors += n;
    }
  }
  r.requests = static_cast<std::int64_t>(r.latency_ms.size());
  std::sort(r.latency_ms.begin(), r.latency_ms.end());
  return r;
}

// ---- the labelling workflow: tasks/next + submit ----------------------------------------------

// --readers annotators (each its own session and keep-alive connection) in a project with a
// published guideline, k = 3 and --task-items notes items with tasks; each reader loops
// claim (POST tasks/next) -> one label (POST annotations) -> submit (POST tasks/{id}/submit)
// for flags.seconds, or until the pool is empty (204). Latency per endpoint; a cycle is the
// three requests. Items are created through App (small synthetic notes), the rest through the
// API.
PhaseResult RunTaskPhase(const Deployment& d, const Flags& flags) {
  auto c = d.NewClient(60);
  Session admin = Login(*c, "admin", d.admin_password());
  const std::string project_id = Expect(c->Post("/api/v1/projects", HeadersOf(admin),
                                                json{{"name", "Task load"}}.dump(), "application/json"),
                                        201, "create project")["id"];
  auto member = [&](const std::string& username, const std::string& role) {
    const std::string id = Expect(c->Post("/api/v1/users", HeadersOf(admin),
                                          json{{"username", username}, {"password", kPassword}}.dump(),
                                          "application/json"),
                                  201, "create " + username)["id"];
    Expect(c->Put("/api/v1/projects/" + project_id + "/members/" + id, HeadersOf(admin),
                  json{{"roles", {role}}, {"scopes", {"notes"}}}.dump(), "application/json"),
           200, "add " + username);
  };
  member("task-manager", "manager");
  for (int r = 0; r < flags.readers; ++r) member("task-reader-" + std::to_string(r), "annotator");
  Session manager = Login(*c, "task-manager", kPassword);
  const std::string base = "/api/v1/projects/" + project_id;
  const json schema = {{"classes", {{{"id", "finding"}, {"name", "Finding"}, {"kind", "classification"},
                                     {"definition", "any finding"}}}}};
  auto draft = c->Post(base + "/guidelines", HeadersOf(manager), json{{"schema", schema}}.dump(), "application/json");
  const std::string guideline = Expect(draft, 201, "guideline")["id"];
  httplib::Headers if_match = HeadersOf(manager);
  if_match.emplace("If-Match", draft->get_header_value("ETag"));
  Expect(c->Post(base + "/guidelines/" + guideline + "/publish", if_match, "", "application/json"), 200, "publish");
  Expect(c->Put(base + "/workflow", HeadersOf(manager), json{{"readers_per_item", 3}, {"lease_minutes", 30}}.dump(),
                "application/json"),
         200, "workflow");
  for (int i = 0; i < flags.task_items; ++i) {
    app::NewItem item;
    item.data_type = core::DataType::kNotes;
    item.modality = "NOTE";
    item.patient_key = "pt-task-" + std::to_string(i % 200);
    item.content_type = "text/plain";
    std::istringstream content("synthetic note " + std::to_string(i));
    Check(d.app().CreateItem(app::LocalOperator(), project_id, item, content).status(), "create item");
  }
  Expect(c->Post(base + "/tasks", HeadersOf(manager), "{}", "application/json"), 201, "create tasks");
  std::vector<Session> readers;
  for (int r = 0; r < flags.readers; ++r) readers.push_back(Login(*c, "task-reader-" + std::to_string(r), kPassword));
  const std::string label = json{{"evidence", {{"kind", "document"}}}, {"label", {{"class", "finding"}}}}.dump();

  struct Worker {
    std::vector<double> next_ms, label_ms, submit_ms;
    std::int64_t cycles = 0;
    bool drained = false;
    std::map<std::string, std::int64_t> errors;
  };
  std::vector<Worker> workers(static_cast<std::size_t>(flags.readers));
  std::latch go(flags.readers + 1);
  SteadyClock::time_point deadline;
  std::vector<std::thread> threads;
  for (int r = 0; r < flags.readers; ++r) {
    threads.emplace_back([&, r] {
      Worker& w = workers[static_cast<std::size_t>(r)];
      const httplib::Headers h = HeadersOf(readers[static_cast<std::size_t>(r)]);
      auto client = d.NewClient(flags.timeout_seconds);
      auto timed = [](std::vector<double>& into, auto call) {
        const auto t0 = SteadyClock::now();
        auto res = call();
        into.push_back(std::chrono::duration<double, std::milli>(SteadyClock::now() - t0).count());
        return res;
      };
      go.arrive_and_wait();
      while (SteadyClock::now() < deadline) {
        auto next = timed(w.next_ms, [&] { return client->Post(base + "/tasks/next", h, "", "application/json"); });
        if (next && next->status == 204) {
          w.drained = true;
          return;
        }
        if (std::string e = Verdict(next, 200); !e.empty()) {
          ++w.errors["tasks/next: " + e];
          continue;
        }
        const json task = json::parse(next->body, nullptr, false);
        const std::string item = task.value("item_id", "");
        const std::string id = task.value("id", "");
        auto made = timed(w.label_ms, [&] {
          return client->Post("/api/v1/items/" + item + "/annotations", h, label, "application/json");
        });
        if (std::string e = Verdict(made, 201); !e.empty()) {
          ++w.errors["annotation: " + e];
          continue;
        }
        auto submitted = timed(w.submit_ms, [&] {
          return client->Post(base + "/tasks/" + id + "/submit", h, "", "application/json");
        });
        if (std::string e = Verdict(submitted, 200); !e.empty()) {
          ++w.errors["submit: " + e];
          continue;
        }
        ++w.cycles;
      }
    });
  }
  const double cpu_before = CpuSeconds();
  const auto started = SteadyClock::now();
  deadline = started + std::chrono::seconds(flags.seconds);
  go.arrive_and_wait();
  for (auto& t : threads) t.join();
  PhaseResult r;
  r.name = "tasks_cycle";
  r.clients = flags.readers;
  r.seconds = std::chrono::duration<double>(SteadyClock::now() - started).count();
  r.cpu_percent = 100 * (CpuSeconds() - cpu_before) / r.seconds;
  std::vector<double> next_ms, submit_ms;
  int drained = 0;
  for (auto& w : workers) {
    r.latency_ms.insert(r.latency_ms.end(), w.next_ms.begin(), w.next_ms.end());
    r.latency_ms.insert(r.latency_ms.end(), w.label_ms.begin(), w.label_ms.end());
    r.latency_ms.insert(r.latency_ms.end(), w.submit_ms.begin(), w.submit_ms.end());
    next_ms.insert(next_ms.end(), w.next_ms.begin(), w.next_ms.end());
    submit_ms.insert(submit_ms.end(), w.submit_ms.begin(), w.submit_ms.end());
    r.ok += w.cycles;
    r.client_min = r.client_min < 0 ? w.cycles : std::min(r.client_min, w.cycles);
    r.client_max = std::max(r.client_max, w.cycles);
    drained += w.drained ? 1 : 0;
    for (const auto& [kind, n] : w.errors) {
      r.error_kinds[kind] += n;
      r.errors += n;
    }
  }
  r.requests = static_cast<std::int64_t>(r.latency_ms.size());
  std::sort(r.latency_ms.begin(), r.latency_ms.end());
  auto percentile = [](std::vector<double>& v, double p) {
    if (v.empty()) return 0.0;
    std::sort(v.begin(), v.end());
    const auto rank = static_cast<std::size_t>(std::ceil(p * static_cast<double>(v.size())));
    return std::round(v[std::clamp<std::size_t>(rank, 1, v.size()) - 1] * 100) / 100;
  };
  r.extra = {{"cycles_per_s", std::round(static_cast<double>(r.ok) / r.seconds * 10) / 10},
             {"tasks_next_p50_ms", percentile(next_ms, 0.5)},
             {"tasks_next_p99_ms", percentile(next_ms, 0.99)},
             {"submit_p50_ms", percentile(submit_ms, 0.5)},
             {"submit_p99_ms", percentile(submit_ms, 0.99)},
             {"readers_drained", drained},
             {"task_items", flags.task_items}};
  return r;
}

// ---- idle keep-alive connections --------------------------------------------------------------

// Raw sockets that each send one request and then stay open without reading further or
// closing: what a browser tab left open on a viewer looks like to the server. Closed when
// destroyed.
class IdleConnections {
 public:
  IdleConnections(int port, int n, const std::string& request) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (int i = 0; i < n; ++i) {
      // Paced: a burst of connects overflows the server's listen backlog (5 in cpp-httplib),
      // and each dropped SYN costs a 1 s retransmission; opening must stay well inside the
      // keep-alive timeout.
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (fd < 0) Die("socket: " + std::string(std::strerror(errno)));
      if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 ||
          ::send(fd, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size())) {
        Die("idle connection " + std::to_string(i) + ": " + std::strerror(errno));
      }
      conns_.push_back({fd});
    }
  }
  ~IdleConnections() {
    for (const auto& c : conns_) ::close(c.fd);
  }
  IdleConnections(const IdleConnections&) = delete;
  IdleConnections& operator=(const IdleConnections&) = delete;

  // Reads whatever has arrived, waiting up to `wait` for every connection to be answered.
  void Poll(std::chrono::milliseconds wait) {
    const auto until = SteadyClock::now() + wait;
    for (;;) {
      std::vector<pollfd> fds;
      std::vector<Conn*> which;
      for (auto& c : conns_) {
        if (c.closed_by_server) continue;
        fds.push_back({c.fd, POLLIN, 0});
        which.push_back(&c);
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - SteadyClock::now()).count();
      if (fds.empty() || ::poll(fds.data(), fds.size(), static_cast<int>(std::max<std::int64_t>(left, 0))) <= 0) return;
      for (std::size_t i = 0; i < fds.size(); ++i) {
        if ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
        char buf[16384];
        ssize_t n = ::recv(fds[i].fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n > 0) {
          if (which[i]->received == 0) which[i]->ok = std::strncmp(buf, "HTTP/1.1 200", 12) == 0;
          which[i]->received += static_cast<std::size_t>(n);
        } else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
          which[i]->closed_by_server = true;
        }
      }
      if (answered() == static_cast<int>(conns_.size()) || SteadyClock::now() >= until) return;
    }
  }

  int answered() const {
    return static_cast<int>(std::count_if(conns_.begin(), conns_.end(), [](const Conn& c) { return c.ok; }));
  }
  int closed_by_server() const {
    return static_cast<int>(std::count_if(conns_.begin(), conns_.end(), [](const Conn& c) { return c.closed_by_server; }));
  }

 private:
  struct Conn {
    int fd;
    std::size_t received = 0;
    bool ok = false;  // the answer began with "HTTP/1.1 200"
    bool closed_by_server = false;
  };
  std::vector<Conn> conns_;
};

// ---- output --------------------------------------------------------------------------------

void PrintTableHeader() {
  std::printf("%-18s %7s %5s %9s %7s %9s %8s %8s %8s %9s %5s %8s %11s\n", "phase", "clients", "idle", "requests",
              "errors", "req/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "cpu%", "synDrops", "per-client");
}

void PrintRow(const PhaseResult& r) {
  const std::string per_client = std::to_string(r.client_min) + ".." + std::to_string(r.client_max);
  std::printf("%-18s %7d %5d %9lld %7lld %9.1f %8.2f %8.2f %8.2f %9.2f %5.0f %8lld %11s\n", r.name.c_str(), r.clients,
              r.idle, static_cast<long long>(r.requests), static_cast<long long>(r.errors), r.rps(),
              r.Percentile(0.50), r.Percentile(0.90), r.Percentile(0.99),
              r.latency_ms.empty() ? 0.0 : r.latency_ms.back(), r.cpu_percent, static_cast<long long>(r.syn_drops),
              per_client.c_str());
  for (const auto& [kind, n] : r.error_kinds) std::printf("    errors: %lld x %s\n", static_cast<long long>(n), kind.c_str());
  std::fflush(stdout);
}

json JsonOf(const PhaseResult& r, const Deployment& d) {
  auto round2 = [](double v) { return std::round(v * 100) / 100; };
  json j{{"bench", "http"},
         {"phase", r.name},
         {"tls", d.tls()},
         {"server_threads", d.options().threads},
         {"clients", r.clients},
         {"idle_connections", r.idle},
         {"seconds", round2(r.seconds)},
         {"requests", r.requests},
         {"errors", r.errors},
         {"error_kinds", r.error_kinds},
         {"rps", round2(r.rps())},
         {"p50_ms", round2(r.Percentile(0.50))},
         {"p90_ms", round2(r.Percentile(0.90))},
         {"p99_ms", round2(r.Percentile(0.99))},
         {"max_ms", round2(r.latency_ms.empty() ? 0.0 : r.latency_ms.back())},
         {"cpu_percent", round2(r.cpu_percent)},
         {"syn_drops", r.syn_drops},
         {"client_min_ok", r.client_min},
         {"client_max_ok", r.client_max}};
  j.update(r.extra);
  return j;
}

int Main(int argc, char** argv) {
  const Flags flags = ParseFlags(argc, argv);
  Deployment d(flags);
  const Target target = Populate(d);
  const httplib::Headers headers = HeadersOf(target.annotator);
  const std::string item_path = "/api/v1/items/" + target.item_id;

  const Request read_meta = [&](httplib::Client& c) { return Verdict(c.Get(item_path, headers), 200); };
  const Request read_content = [&](httplib::Client& c) {
    return Verdict(c.Get(item_path + "/content", headers), 200, kContentBytes);
  };
  const std::string label =
      json{{"evidence", {{"kind", "roi"}, {"data", {{"x", 12}, {"y", 40}, {"w", 16}, {"h", 16}}}}},
           {"label", {{"class", "nodule"}, {"code_system", "SNOMED CT"}, {"code", "27925004"}}},
           {"uncertainty", {{"confidence", 0.8}, {"assertion", "present"}}}}
          .dump();
  const Request write = [&](httplib::Client& c) {
    return Verdict(c.Post(item_path + "/annotations", headers, label, "application/json"), 201);
  };

  std::printf("caliper_bench_http: %s on 127.0.0.1:%d, server.threads=%d, keep-alive %d s / %d requests, "
              "%d clients, %d s per phase, %u cores\n\n",
              d.tls() ? "HTTPS" : "HTTP", d.port(), d.options().threads, d.options().keep_alive_seconds,
              d.options().keep_alive_max_requests, flags.clients, flags.seconds, std::thread::hardware_concurrency());
  PrintTableHeader();
  std::vector<json> lines;
  std::int64_t errors = 0;
  auto report = [&](const PhaseResult& r) {
    PrintRow(r);
    lines.push_back(JsonOf(r, d));
    errors += r.errors;
  };
  const std::map<std::string, Request> simple = {
      {"read_meta", read_meta}, {"read_content", read_content}, {"write", write}};
  std::vector<std::string> notes;
  for (const std::string& phase : flags.phases) {
    if (simple.count(phase)) {
      report(RunPhase(phase, d, flags, simple.at(phase), Start::kWarm));
    } else if (phase == "fairness") {
      if (d.tls()) {
        notes.push_back("fairness: skipped with --tls (the idle connections are plain-HTTP raw sockets)");
        continue;
      }
      PhaseResult baseline = RunPhase("fairness_baseline", d, flags, read_meta, Start::kFresh);
      report(baseline);
      const std::string idle_request = "GET /api/v1/auth/session HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: " +
                                       target.annotator.cookie + "\r\n\r\n";
      const auto opening = SteadyClock::now();
      IdleConnections idle(d.port(), flags.idle, idle_request);
      const double open_seconds = std::chrono::duration<double>(SteadyClock::now() - opening).count();
      idle.Poll(std::chrono::seconds(2));
      const int answered_before = idle.answered();
      PhaseResult loaded = RunPhase("fairness_idle", d, flags, read_meta, Start::kFresh);
      idle.Poll(std::chrono::milliseconds(0));
      loaded.idle = flags.idle;
      loaded.extra = {{"idle_open_seconds", std::round(open_seconds * 100) / 100},
                      {"idle_answered_before", answered_before},
                      {"idle_answered_after", idle.answered()},
                      {"idle_closed_by_server", idle.closed_by_server()}};
      report(loaded);
      std::printf("    %d idle connections opened in %.1f s: %d answered before the phase, %d after, %d closed by the "
                  "server\n",
                  flags.idle, open_seconds, answered_before, idle.answered(), idle.closed_by_server());
      std::fflush(stdout);
      char note[256];
      std::snprintf(note, sizeof note,
                    "fairness: with %d idle keep-alive connections open, p50 %.2f -> %.2f ms, p99 %.2f -> %.2f ms, "
                    "%lld of %lld requests failed",
                    flags.idle, baseline.Percentile(0.5), loaded.Percentile(0.5), baseline.Percentile(0.99),
                    loaded.Percentile(0.99), static_cast<long long>(loaded.errors),
                    static_cast<long long>(loaded.requests));
      notes.push_back(note);
    } else if (phase == "tasks") {
      PhaseResult r = RunTaskPhase(d, flags);
      report(r);
      char note[320];
      std::snprintf(note, sizeof note,
                    "tasks: %d readers, claim + label + submit: %.1f cycles/s; tasks/next p50 %.2f / p99 %.2f ms, "
                    "submit p50 %.2f / p99 %.2f ms",
                    flags.readers, r.extra["cycles_per_s"].get<double>(), r.extra["tasks_next_p50_ms"].get<double>(),
                    r.extra["tasks_next_p99_ms"].get<double>(), r.extra["submit_p50_ms"].get<double>(),
                    r.extra["submit_p99_ms"].get<double>());
      notes.push_back(note);
    } else {
      Die("unknown phase '" + phase + "' (read_meta, read_content, write, fairness, tasks)");
    }
  }
  std::printf("\n");
  for (const auto& n : notes) std::printf("%s\n", n.c_str());
  for (const auto& j : lines) std::printf("%s\n", j.dump().c_str());
  if (errors > 0) {
    std::fprintf(stderr, "caliper_bench_http: %lld requests failed\n", static_cast<long long>(errors));
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace caliper::bench

int main(int argc, char** argv) { return caliper::bench::Main(argc, argv); }

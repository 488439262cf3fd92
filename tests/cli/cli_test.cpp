// The `caliper` command end to end, as an operator uses it: init, users, projects, tokens,
// the audit log (verify, tamper, export), key rotation, configuration, and `serve` (TLS,
// plain HTTP only on loopback, SIGTERM with requests in flight). Each test has its own data
// directory.

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "support/e2e.h"

namespace caliper::e2e {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

class CliTest : public ::testing::Test {
 protected:
  // `caliper <args> --data <data>`
  RunResult Cli(std::vector<std::string> args) const {
    args.insert(args.end(), {"--data", data_});
    return Caliper(args);
  }
  // Runs a command that must succeed with --json and returns what it printed.
  json CliJson(std::vector<std::string> args) const {
    args.push_back("--json");
    RunResult r = Cli(args);
    EXPECT_EQ(r.exit_code, 0) << Describe(r);
    json out = json::parse(r.out, nullptr, false);
    EXPECT_FALSE(out.is_discarded()) << "not JSON: " << r.out;
    return out;
  }
  // Runs a command that must fail with exit code 1, printing one "caliper: ..." line to stderr
  // and nothing to stdout; returns stderr.
  std::string CliError(std::vector<std::string> args) const {
    RunResult r = Cli(args);
    EXPECT_EQ(r.exit_code, 1) << Describe(r);
    EXPECT_THAT(r.err, StartsWith("caliper: ")) << Describe(r);
    EXPECT_EQ(r.out, "");
    return r.err;
  }
  std::string Scalar(const std::string& sql) const {
    std::string out = Sqlite(db_, sql).out;
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
  }
  int LastSeq() const { return std::stoi(Scalar("SELECT max(seq) FROM audit_events;")); }
  // One audit event per project.
  void CreateProjects(int n) const {
    for (int i = 0; i < n; ++i)
      ASSERT_EQ(Cli({"project", "create", "p" + std::to_string(i)}).exit_code, 0);
  }
  // `caliper audit verify` on a tampered database: exit code 1, stderr names `seq`.
  void ExpectVerifyNames(int seq, const std::string& problem) const {
    RunResult r = Cli({"audit", "verify"});
    EXPECT_EQ(r.exit_code, 1) << Describe(r);
    std::smatch m;
    ASSERT_TRUE(std::regex_search(r.err, m, std::regex("BROKEN at event (\\d+)"))) << Describe(r);
    EXPECT_EQ(std::stoi(m[1]), seq) << r.err;
    EXPECT_THAT(r.err, HasSubstr(problem));
    json report = json::parse(Cli({"audit", "verify", "--json"}).out, nullptr, false);
    EXPECT_EQ(report["ok"], false);
    EXPECT_EQ(report["first_bad_seq"], seq);
  }

  TempDir dir_{"caliper_cli_test"};
  const std::string data_ = dir_ / "data";
  const std::string db_ = data_ + "/caliper.db";
};

// "2026-11-26T18:59:43.510726Z" -> microseconds since the epoch.
std::int64_t Micros(const std::string& rfc3339) {
  std::tm tm{};
  int fraction_at = 0;
  EXPECT_EQ(std::sscanf(rfc3339.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon,
                        &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &fraction_at),
            6)
      << rfc3339;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  std::int64_t micros = static_cast<std::int64_t>(::timegm(&tm)) * 1'000'000;
  std::string rest = rfc3339.substr(static_cast<std::size_t>(fraction_at));
  if (!rest.empty() && rest[0] == '.') {
    std::string digits = rest.substr(1, rest.find('Z') - 1);
    digits.resize(6, '0');
    micros += std::stoll(digits);
  }
  EXPECT_EQ(rfc3339.back(), 'Z') << rfc3339;
  return micros;
}

std::string RandomBytes(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string out(n, '\0');
  for (char& c : out) c = static_cast<char>(rng() & 0xff);
  return out;
}

// ---- the binary -------------------------------------------------------------------------------

// The binary's allocator is mimalloc (docs/adr/0014), for every library it loads: the dynamic
// linker's own account (LD_DEBUG=bindings) of where each library's allocation functions went.
TEST(Binary, AllocatesThroughMimalloc) {
  RunResult r = RunProgram("env", {"LD_DEBUG=bindings", CaliperBinary(), "deid", "text"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  static const std::regex kBinding(
      R"(binding file (\S+) \[0\] to (\S+) \[0\]: normal symbol `(malloc|free|calloc|realloc|posix_memalign|aligned_alloc|_Znwm|_ZdlPv|_ZdlPvm|_Znam|_ZdaPv)')");
  std::set<std::string> from;  // the libraries whose allocation functions were bound
  std::istringstream lines(r.err);
  for (std::string line; std::getline(lines, line);) {
    std::smatch m;
    if (line.find("normal symbol") == std::string::npos || !std::regex_search(line, m, kBinding)) continue;
    EXPECT_THAT(m[2].str(), HasSubstr("libmimalloc.so")) << line;
    from.insert(std::filesystem::path(m[1].str()).filename().string());
  }
  EXPECT_THAT(from, ::testing::IsSupersetOf({"libdcmdata.so.17", "libc.so.6", "libstdc++.so.6"}));
}

// ---- init ---------------------------------------------------------------------------------------

TEST_F(CliTest, InitPrintsTheAdminPasswordOnceAndKeepsKeysPrivate) {
  json first = CliJson({"init"});
  EXPECT_EQ(first["created"], true);
  EXPECT_EQ(first["admin_username"], "admin");
  ASSERT_TRUE(first["admin_password"].is_string());
  EXPECT_GE(first["admin_password"].get<std::string>().size(), 12u);

  EXPECT_EQ(ModeOf(data_), 0700);
  EXPECT_EQ(ModeOf(data_ + "/keys"), 0700);
  EXPECT_EQ(ModeOf(data_ + "/keys/master.key"), 0600);
  EXPECT_EQ(ModeOf(data_ + "/keys/audit-signing.key"), 0600);
  EXPECT_EQ(ModeOf(data_ + "/tls/key.pem"), 0600);
  const std::string master_key = ReadFile(data_ + "/keys/master.key");
  const std::string cert = ReadFile(data_ + "/tls/cert.pem");
  EXPECT_EQ(master_key.size(), 65u) << "64 hex digits and a newline";
  EXPECT_FALSE(cert.empty());
  const std::string events = Scalar("SELECT count(*) FROM audit_events;");

  json again = CliJson({"init"});
  EXPECT_EQ(again["created"], false);
  EXPECT_TRUE(again["admin_password"].is_null()) << again;
  EXPECT_EQ(ReadFile(data_ + "/keys/master.key"), master_key);
  EXPECT_EQ(ReadFile(data_ + "/tls/cert.pem"), cert);
  EXPECT_EQ(Scalar("SELECT count(*) FROM users;"), "1");
  EXPECT_EQ(Scalar("SELECT count(*) FROM audit_events;"), events);
  RunResult human = Cli({"init"});
  EXPECT_EQ(human.exit_code, 0);
  EXPECT_THAT(human.out, HasSubstr("nothing changed"));
}

// ---- users, projects, tokens
// ------------------------------------------------------------------------

TEST_F(CliTest, UsersProjectsMembersAndTokens) {
  InitDeployment(data_);
  json alice = CliJson(
      {"user", "add", "alice", "--display-name", "Dr. Alice", "--qualification", "radiologist"});
  EXPECT_THAT(alice["id"].get<std::string>(), StartsWith("usr_"));
  EXPECT_EQ(alice["username"], "alice");
  EXPECT_EQ(alice["display_name"], "Dr. Alice");
  EXPECT_EQ(alice["is_admin"], false);
  EXPECT_EQ(alice["qualifications"], json::array({"radiologist"}));
  EXPECT_GE(alice["one_time_password"].get<std::string>().size(), 12u);

  RunResult bob = Cli({"user", "add", "bob"});
  ASSERT_EQ(bob.exit_code, 0) << Describe(bob);
  std::smatch m;
  ASSERT_TRUE(std::regex_search(bob.out, m, std::regex("One-time password: (\\S+)\n"))) << bob.out;
  const std::string bob_password = m[1];
  EXPECT_NE(bob_password, alice["one_time_password"]);

  json users = CliJson({"user", "list"});
  std::set<std::string> names;
  for (const auto& u : users) names.insert(u["username"].get<std::string>());
  EXPECT_EQ(names, (std::set<std::string>{"admin", "alice", "bob"}));
  for (const auto& u : users) {
    if (u["username"] == "alice") {
      EXPECT_EQ(u["id"], alice["id"]);
    }
    EXPECT_FALSE(u.contains("one_time_password")) << "a list never shows passwords";
  }

  json project = CliJson({"project", "create", "Chest CT", "--description", "nodules"});
  EXPECT_THAT(project["id"].get<std::string>(), StartsWith("prj_"));
  EXPECT_EQ(project["name"], "Chest CT");
  json member = CliJson({"project", "add-member", "Chest CT", "alice", "--role", "annotator",
                         "--role", "reviewer", "--scope", "imaging", "--scope", "notes"});
  EXPECT_EQ(member["project_id"], project["id"]);
  EXPECT_EQ(member["user_id"], alice["id"]);
  EXPECT_EQ(Scalar("SELECT roles || ' ' || scopes FROM memberships WHERE user_id='" +
                   alice["id"].get<std::string>() + "';"),
            R"(["annotator","reviewer"] ["imaging","notes"])");
  // By id as well as by name.
  CliJson({"project", "add-member", project["id"], "bob", "--role", "manager"});

  json token =
      CliJson({"token", "create", "--user", "alice", "--project", "Chest CT", "--permission",
               "item_list", "--permission", "annotation_read", "--name", "model back-end"});
  const std::string token_id = token["id"], secret = token["secret"];
  EXPECT_THAT(token_id, StartsWith("tok_"));
  EXPECT_THAT(secret, StartsWith("cal_"));
  EXPECT_GE(secret.size(), 36u);
  // Shown once: no file of the deployment holds the secret (only its hash).
  for (const auto& f : std::filesystem::recursive_directory_iterator(data_)) {
    if (f.is_regular_file()) {
      EXPECT_EQ(ReadFile(f.path().string()).find(secret.substr(4)), std::string::npos) << f.path();
    }
  }
  RunResult human_token = Cli({"token", "create", "--user", "alice", "--project", "Chest CT",
                               "--permission", "item_list", "--name", "second"});
  EXPECT_EQ(human_token.exit_code, 0);
  EXPECT_THAT(human_token.out, HasSubstr("(shown once): cal_"));
  EXPECT_EQ(Scalar("SELECT revoked_at IS NULL FROM api_tokens WHERE id='" + token_id + "';"), "1");
  json revoked = CliJson({"token", "revoke", token_id});
  EXPECT_EQ(revoked["revoked"], true);
  EXPECT_EQ(Scalar("SELECT revoked_at IS NOT NULL FROM api_tokens WHERE id='" + token_id + "';"),
            "1");

  json disabled = CliJson({"user", "disable", "alice"});
  EXPECT_EQ(disabled["id"], alice["id"]);
  for (const auto& u : CliJson({"user", "list"})) {
    EXPECT_EQ(u["disabled"], u["username"] == "alice") << u;
  }

  json reset = CliJson({"user", "reset-password", "bob"});
  const std::string new_password = reset["one_time_password"];
  EXPECT_GE(new_password.size(), 12u);
  EXPECT_NE(new_password, bob_password);

  // Every change above is in the audit log, by the local operator.
  EXPECT_EQ(
      Scalar("SELECT count(*) FROM audit_events WHERE action IN ('token.revoke', 'user.disable', "
             "'user.reset_password') AND actor='system';"),
      "3");

  // Errors: exit code 1 with a clear message, and nothing changes.
  const std::string before = Scalar("SELECT count(*) FROM audit_events;");
  EXPECT_THAT(CliError({"user", "add", "alice"}), HasSubstr("a user named 'alice' exists already"));
  EXPECT_THAT(CliError({"project", "add-member", "Chest CT", "bob", "--role", "wizard"}),
              HasSubstr("'wizard' is not a role"));
  EXPECT_THAT(CliError({"project", "add-member", "Nowhere", "bob", "--role", "annotator"}),
              HasSubstr("no project with id or name 'Nowhere'"));
  EXPECT_THAT(CliError({"project", "add-member", "Chest CT", "bob", "--role", "annotator",
                        "--scope", "smells"}),
              HasSubstr("smells"));
  EXPECT_THAT(CliError({"user", "disable", "nobody"}), HasSubstr("nobody"));
  EXPECT_THAT(CliError({"token", "create", "--user", "alice", "--project", "Chest CT",
                        "--permission", "fly", "--name", "x"}),
              HasSubstr("fly"));
  EXPECT_THAT(CliError({"token", "revoke", "tok_00000000000000000000000000"}),
              HasSubstr("not_found"));
  EXPECT_EQ(Scalar("SELECT count(*) FROM users;"), "3");
  EXPECT_EQ(Scalar("SELECT count(*) FROM audit_events;"), before);
}

TEST_F(CliTest, ProjectCreateFileMakesTheWholeProjectOrNothing) {
  InitDeployment(data_);
  json file = {{"caliper_project", 1},
               {"name", "From a file"},
               {"guideline",
                {{"classes",
                  {{{"id", "fracture"}, {"name", "Fracture"}, {"kind", "classification"},
                    {"definition", "A break in the cortex."}}}}}},
               {"workflow", {{"readers_per_item", 3}, {"task_order", "random"}}}};
  const std::string path = dir_ / "project.json";
  WriteFile(path, file.dump());
  json made = CliJson({"project", "create", "--file", path});
  EXPECT_EQ(made["name"], "From a file");
  EXPECT_EQ(made["guideline_version"], 1);
  const std::string id = made["id"];
  EXPECT_EQ(Scalar("SELECT status || ' ' || version FROM guideline_versions WHERE project_id='" + id + "';"),
            "published 1");
  EXPECT_EQ(Scalar("SELECT readers_per_item FROM workflow_settings WHERE project_id='" + id + "';"), "3");

  // A refused file names the file and the problem, and changes nothing.
  const std::string events = Scalar("SELECT count(*) FROM audit_events;");
  file["name"] = "Half made";
  file["workflow"]["readers_per_item"] = 99;
  WriteFile(path, file.dump());
  EXPECT_THAT(CliError({"project", "create", "--file", path}),
              AllOf(HasSubstr("project.json"), HasSubstr("readers_per_item must be 1 to 20")));
  EXPECT_EQ(Scalar("SELECT count(*) FROM projects WHERE name='Half made';"), "0");
  EXPECT_EQ(Scalar("SELECT count(*) FROM audit_events;"), events);
  EXPECT_THAT(CliError({"project", "create", "--file", dir_ / "missing.json"}), HasSubstr("missing.json"));
  EXPECT_THAT(CliError({"project", "create"}), HasSubstr("give a project name or --file"));
  EXPECT_EQ(Cli({"project", "create", "x", "--file", path}).exit_code, 2) << "a name and a file are exclusive";
}

TEST_F(CliTest, GuidelinePublishReannotateAndFeedback) {
  InitDeployment(data_);
  json cls = {{"id", "fracture"}, {"name", "Fracture"}, {"kind", "classification"},
              {"definition", "A break in the cortex."}};
  json file = {{"caliper_project", 1}, {"name", "Guided"}, {"guideline", {{"classes", {cls}}}}};
  const std::string path = dir_ / "project.json";
  WriteFile(path, file.dump());
  CliJson({"project", "create", "--file", path});

  // Version 2 changes the class's definition: the impact names it (no labels yet).
  cls["definition"] = "A break in the cortex, seen on two views.";
  const std::string v2 = dir_ / "v2.json";
  WriteFile(v2, json{{"classes", {cls}}}.dump());
  json published = CliJson({"guideline", "publish", "Guided", v2});
  EXPECT_EQ(published["version"], 2);
  EXPECT_EQ(published["impact"]["from_version"], 1);
  ASSERT_EQ(published["impact"]["classes"].size(), 1u);
  EXPECT_EQ(published["impact"]["classes"][0]["id"], "fracture");
  EXPECT_EQ(published["impact"]["classes"][0]["fields"], json::array({"definition"}));
  EXPECT_EQ(published["impact"]["impacted_labels"], 0);

  json re = CliJson({"guideline", "reannotate", "Guided", "--from", "1", "--to", "2"});
  EXPECT_EQ(re["impact"]["to_version"], 2);
  EXPECT_EQ(re["reopened"].size(), 0u);
  EXPECT_THAT(Cli({"guideline", "publish", "Guided", v2}).out, HasSubstr("Published guideline version 3"));
  EXPECT_THAT(CliError({"guideline", "reannotate", "Guided", "--from", "1", "--to", "2"}),
              HasSubstr("under the version in force (version 3")) << "version 3 is in force now";
  EXPECT_THAT(CliError({"guideline", "reannotate", "Guided", "--to", "9"}),
              HasSubstr("no published guideline version 9"));
  json fb = CliJson({"guideline", "feedback", "Guided", "--version", "2"});
  EXPECT_EQ(fb["classes"].size(), 0u);
  EXPECT_EQ(fb["entries"], 0);

  // A bad schema names the file and the field, and publishes nothing.
  const std::string bad = dir_ / "bad.json";
  WriteFile(bad, R"({"classes":[{"id":"x","name":"X","kind":"guess","definition":"d"}]})");
  EXPECT_THAT(CliError({"guideline", "publish", "Guided", bad}), AllOf(HasSubstr("bad.json"), HasSubstr("kind")));
  EXPECT_EQ(Scalar("SELECT count(*) FROM guideline_versions;"), "3");
  EXPECT_EQ(Scalar("SELECT count(*) FROM audit_events WHERE action='guideline.publish';"), "3");

  // The quality sweep of a project without readings stores nothing and says so.
  json swept = CliJson({"quality", "sweep", "Guided"});
  EXPECT_EQ(swept["items"], 0);
  EXPECT_EQ(swept["soft_labels"], 0);
  EXPECT_EQ(Scalar("SELECT count(*) FROM audit_events WHERE action='quality.sweep';"), "1");
  EXPECT_THAT(CliError({"quality", "sweep", "Nowhere"}), HasSubstr("Nowhere"));
}

TEST_F(CliTest, BadUsageExitsTwo) {
  InitDeployment(data_);
  const std::vector<std::vector<std::string>> cases = {
      {},
      {"frobnicate"},
      {"user"},
      {"user", "add"},
      {"user", "list", "--no-such-flag"},
      {"project", "add-member", "p", "alice"},  // --role is required
      {"token", "create", "--user", "alice"},
      {"audit", "verify", "extra-argument"},
      {"blobs", "sweep", "--min-age-hours", "0"},
  };
  for (const auto& args : cases) {
    std::vector<std::string> with_data = args;
    if (!args.empty() && args[0] != "frobnicate")
      with_data.insert(with_data.end(), {"--data", data_});
    RunResult r = Caliper(with_data);
    std::string command;
    for (const auto& a : args) command += a + " ";
    EXPECT_EQ(r.exit_code, 2) << command << Describe(r);
    EXPECT_FALSE(r.err.empty()) << command;
  }
  // Not bad usage, but no deployment: exit 1 telling the operator what to do.
  RunResult missing = Caliper({"user", "list", "--data", dir_ / "nothing-here"});
  EXPECT_EQ(missing.exit_code, 1) << Describe(missing);
  EXPECT_THAT(missing.err, HasSubstr("caliper init"));
}

// ---- the audit log
// ------------------------------------------------------------------------------------

TEST_F(CliTest, AuditVerifyPassesOnAHealthyDeployment) {
  InitDeployment(data_);
  CreateProjects(5);
  RunResult r = Cli({"audit", "verify"});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("audit chain ok: 6 events"));
  json report = CliJson({"audit", "verify"});
  EXPECT_EQ(report["ok"], true);
  EXPECT_EQ(report["events"], 7) << "the first verify is itself an event";
  EXPECT_EQ(report["first_bad_seq"], 0);
  EXPECT_GE(report["checkpoints_checked"].get<int>(), 7);
}

// The chain is append-only in the database (triggers); an attacker with the sqlite3 tool drops
// the triggers first.
TEST_F(CliTest, AuditVerifyNamesAChangedEvent) {
  InitDeployment(data_);
  CreateProjects(8);
  Sqlite(db_,
         "DROP TRIGGER audit_events_no_update; UPDATE audit_events SET action='item.export' WHERE "
         "seq=4;");
  ExpectVerifyNames(4, "changed");
}

TEST_F(CliTest, AuditVerifyNamesADeletedEvent) {
  InitDeployment(data_);
  CreateProjects(8);
  Sqlite(db_, "DROP TRIGGER audit_events_no_delete; DELETE FROM audit_events WHERE seq=5;");
  ExpectVerifyNames(5, "event 5 missing");
}

TEST_F(CliTest, AuditVerifyNamesACutTail) {
  InitDeployment(data_);
  CreateProjects(8);
  const int last = LastSeq();
  ASSERT_EQ(last, 9);
  // The database's own checkpoints go too; the signed side file still remembers the tail.
  Sqlite(db_,
         "DROP TRIGGER audit_events_no_delete; DELETE FROM audit_checkpoints WHERE seq > 6; "
         "DELETE FROM audit_events WHERE seq > 6;");
  ExpectVerifyNames(7, "events after 6 were removed");
  EXPECT_EQ(LastSeq(), 6) << "a broken chain is never extended";
}

TEST_F(CliTest, AuditExportWritesJsonlForATimeRange) {
  InitDeployment(data_);
  CreateProjects(8);
  RunResult all = Cli({"audit", "export"});
  ASSERT_EQ(all.exit_code, 0) << Describe(all);
  std::vector<json> events;
  std::istringstream lines(all.out);
  for (std::string line; std::getline(lines, line);) {
    events.push_back(json::parse(line, nullptr, false));
    ASSERT_FALSE(events.back().is_discarded()) << line;
  }
  ASSERT_EQ(events.size(), 9u);
  for (std::size_t i = 1; i < events.size(); ++i) {
    EXPECT_EQ(events[i]["seq"], events[i - 1]["seq"].get<int>() + 1);
    EXPECT_EQ(events[i]["prev_hash"], events[i - 1]["hash"]) << "the export carries the chain";
    EXPECT_LT(Micros(events[i - 1]["time"]), Micros(events[i]["time"]));
  }
  const std::string from = events[2]["time"], to = events[6]["time"];  // seq 3 and 7
  const std::string out_file = dir_ / "audit.jsonl";
  RunResult ranged = Cli({"audit", "export", "--from", from, "--to", to, "--out", out_file});
  ASSERT_EQ(ranged.exit_code, 0) << Describe(ranged);
  EXPECT_EQ(ranged.out, "") << "--out writes the file only";
  std::vector<int> seqs;
  std::istringstream file(ReadFile(out_file));
  for (std::string line; std::getline(file, line);) {
    json e = json::parse(line, nullptr, false);
    ASSERT_FALSE(e.is_discarded()) << "not JSON: " << line;
    for (const char* field : {"seq", "time", "actor", "action", "object_type", "object_id",
                              "outcome", "hash", "prev_hash", "details"}) {
      EXPECT_TRUE(e.contains(field)) << field << " in " << line;
    }
    EXPECT_GE(Micros(e["time"]), Micros(from));
    EXPECT_LE(Micros(e["time"]), Micros(to));
    if (!seqs.empty()) {
      EXPECT_GT(e["seq"].get<int>(), seqs.back());
    }
    seqs.push_back(e["seq"]);
  }
  EXPECT_EQ(seqs, (std::vector<int>{3, 4, 5, 6, 7}));
  // The export is itself audited.
  EXPECT_EQ(Scalar("SELECT count(*) FROM audit_events WHERE action='audit.export';"), "2");
}

// ---- keys
// ----------------------------------------------------------------------------------------------

TEST_F(CliTest, KeyRotationKeepsContentReadableAndRetiresTheOldMasterKey) {
  const std::string admin_password = InitDeployment(data_);
  ServerProcess server(data_, ServerProcess::PlainHttp());
  ASSERT_TRUE(server.Start());
  Team team;
  std::string item_id;
  const std::string content = RandomBytes(200 * 1024, 7);
  {
    Api api(server.port());
    ASSERT_TRUE(MakeTeam(api, admin_password, team));
    auto item = api.UploadItem(team.project_id, team.manager, ImagingItem("pt-rotate"), content);
    ASSERT_TRUE(item && item->status == 201) << Describe(item);
    item_id = Body(item)["id"];
  }
  // Reads the content back through a freshly started server (sessions live in the database).
  auto read_back = [&]() -> httplib::Result {
    if (!server.port()) ADD_FAILURE() << "no server";
    Api api(server.port());
    return api.Get("/api/v1/items/" + item_id + "/content", &team.manager);
  };
  auto first = read_back();
  ASSERT_TRUE(first && first->status == 200) << Describe(first);
  ASSERT_TRUE(first->body == content) << "content read back differs";
  ASSERT_EQ(server.Terminate(), 0) << server.Log();

  const std::string old_master = ReadFile(data_ + "/keys/master.key");
  json rotated = CliJson({"key", "rotate"});
  EXPECT_EQ(rotated["new_master"], false);
  EXPECT_GE(rotated["project_keys"].get<int>(), 1);
  EXPECT_GE(rotated["data_keys"].get<int>(), 1);
  EXPECT_EQ(ReadFile(data_ + "/keys/master.key"), old_master)
      << "plain rotation keeps the master key";
  ASSERT_TRUE(server.Start());
  auto after_rotate = read_back();
  ASSERT_TRUE(after_rotate && after_rotate->status == 200) << Describe(after_rotate);
  EXPECT_TRUE(after_rotate->body == content) << "content differs after `key rotate`";
  ASSERT_EQ(server.Terminate(), 0) << server.Log();

  json master_rotated = CliJson({"key", "rotate", "--master"});
  EXPECT_EQ(master_rotated["new_master"], true);
  const std::string new_master = ReadFile(data_ + "/keys/master.key");
  EXPECT_NE(new_master, old_master);
  EXPECT_EQ(new_master.size(), old_master.size());
  EXPECT_EQ(ModeOf(data_ + "/keys/master.key"), 0600);
  EXPECT_EQ(ModeOf(data_ + "/keys/master.key.previous"), -1)
      << "no copy of the old key is left behind";
  ASSERT_TRUE(server.Start());
  auto after_master = read_back();
  ASSERT_TRUE(after_master && after_master->status == 200) << Describe(after_master);
  EXPECT_TRUE(after_master->body == content) << "content differs after `key rotate --master`";
  ASSERT_EQ(server.Terminate(), 0) << server.Log();
  EXPECT_EQ(Cli({"audit", "verify"}).exit_code, 0);

  // An old copy of the master key no longer opens the deployment: every command that opens
  // it refuses at once, naming the problem, before any patient data is touched.
  WriteFile(data_ + "/keys/master.key", old_master, 0600);
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"key", "rotate"}, std::vector<std::string>{"audit", "verify"},
        std::vector<std::string>{"serve", "--set", "server.tls=false", "--listen", "127.0.0.1:1"}}) {
    RunResult stale = Cli(args);
    EXPECT_EQ(stale.exit_code, 1) << args[0] << ": " << Describe(stale);
    EXPECT_THAT(stale.err, HasSubstr("key_unavailable")) << args[0];
    EXPECT_THAT(stale.err, HasSubstr("does not open under the master key")) << args[0];
  }

  // The current key opens everything again.
  WriteFile(data_ + "/keys/master.key", new_master, 0600);
  ASSERT_TRUE(server.Start());
  auto restored = read_back();
  ASSERT_TRUE(restored && restored->status == 200) << Describe(restored);
  EXPECT_TRUE(restored->body == content);
  EXPECT_EQ(server.Terminate(), 0) << server.Log();
}

// ---- configuration
// ------------------------------------------------------------------------------------

TEST_F(CliTest, BlobSweepBesideARunningServerDeletesOnlyUnnamedOldFiles) {
  const std::string admin_password = InitDeployment(data_);
  ServerProcess server(data_, ServerProcess::PlainHttp());
  ASSERT_TRUE(server.Start());
  Team team;
  const std::string content = RandomBytes(50 * 1024, 11);
  Api api(server.port());
  ASSERT_TRUE(MakeTeam(api, admin_password, team));
  auto item = api.UploadItem(team.project_id, team.manager, ImagingItem("pt-sweep"), content);
  ASSERT_TRUE(item && item->status == 201) << Describe(item);
  const std::string item_id = Body(item)["id"];
  // A file no row names (as a write that failed before its commit leaves one), and every file
  // made two days old.
  namespace fs = std::filesystem;
  const fs::path blobs = fs::path(data_) / "blobs";
  const fs::path orphan = blobs / "ab" / std::string(62, 'c');
  fs::create_directories(orphan.parent_path());
  WriteFile(orphan.string(), "ciphertext nobody names", 0600);
  for (const auto& e : fs::recursive_directory_iterator(blobs)) {
    if (e.is_regular_file()) fs::last_write_time(e.path(), fs::file_time_type::clock::now() - std::chrono::hours(48));
  }
  json dry = CliJson({"blobs", "sweep", "--dry-run"});
  EXPECT_EQ(dry["dry_run"], true);
  EXPECT_EQ(dry["removed"], 1);
  EXPECT_GE(dry["referenced"].get<int>(), 1);
  EXPECT_TRUE(fs::exists(orphan));
  json swept = CliJson({"blobs", "sweep"});
  EXPECT_EQ(swept["removed"], 1);
  EXPECT_EQ(swept["removed_bytes"], 23);
  EXPECT_EQ(swept["referenced"], dry["referenced"]);
  EXPECT_FALSE(fs::exists(orphan));
  auto read = api.Get("/api/v1/items/" + item_id + "/content", &team.manager);
  ASSERT_TRUE(read && read->status == 200) << Describe(read);
  EXPECT_TRUE(read->body == content) << "the item's content survives the sweep";
  ASSERT_EQ(server.Terminate(), 0) << server.Log();
  EXPECT_EQ(Scalar("SELECT count(*) FROM audit_events WHERE action='blobs.sweep';"), "2");
  EXPECT_EQ(Cli({"audit", "verify"}).exit_code, 0);
}

TEST_F(CliTest, ConfigListsEverySettingWithItsSource) {
  InitDeployment(data_);
  json rows = CliJson({"config", "--set", "server.threads=32"});
  ASSERT_TRUE(rows.is_array());
  std::set<std::string> keys;
  for (const auto& r : rows) {
    const std::string key = r["key"];
    EXPECT_TRUE(keys.insert(key).second) << "listed twice: " << key;
    std::string env = "CALIPER_" + key;
    for (char& c : env)
      c = c == '.' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    EXPECT_EQ(r["env"], env);
    EXPECT_FALSE(r["description"].get<std::string>().empty()) << key;
    EXPECT_TRUE(r["default"].is_string()) << key;
    if (key == "server.threads") {
      EXPECT_EQ(r["value"], "32");
      EXPECT_EQ(r["source"], "flag");
    } else {
      EXPECT_EQ(r["source"], "default") << key;
      EXPECT_EQ(r["value"], r["default"]) << key;
    }
  }
  for (const char* key : {"server.listen",
                          "server.tls",
                          "server.threads",
                          "server.keep_alive_seconds",
                          "server.keep_alive_max_requests",
                          "server.max_body_bytes",
                          "server.max_upload_bytes",
                          "tls.cert_file",
                          "tls.key_file",
                          "keys.master_key_file",
                          "keys.master_key_env",
                          "session.idle_timeout_minutes",
                          "session.absolute_timeout_minutes",
                          "session.idle_warning_seconds",
                          "login.max_failures",
                          "login.failure_window_minutes",
                          "login.lockout_minutes",
                          "login.max_attempts_per_address_per_minute",
                          "password.min_length",
                          "password.hash_ops",
                          "audit.checkpoint_every",
                          "log.level"}) {
    EXPECT_EQ(keys.count(key), 1u) << key << " is not listed";
  }

  WriteFile(data_ + "/caliper.toml", "[server]\nlisten = \"127.0.0.1:9443\"\n");
  for (const auto& r : CliJson({"config"})) {
    if (r["key"] == "server.listen") {
      EXPECT_EQ(r["value"], "127.0.0.1:9443");
      EXPECT_EQ(r["source"], "file");
    }
  }
}

TEST_F(CliTest, UnknownSettingsAreErrors) {
  InitDeployment(data_);
  EXPECT_THAT(CliError({"config", "--set", "nope.x=1"}), HasSubstr("unknown setting 'nope.x'"));
  EXPECT_THAT(CliError({"config", "--set", "server.threads"}), HasSubstr("section.name=value"));
  WriteFile(data_ + "/caliper.toml", "[server]\nlisten = \"127.0.0.1:9443\"\nthreds = 8\n");
  const std::string err = CliError({"config"});
  EXPECT_THAT(err, HasSubstr("'server.threds'"));
  EXPECT_THAT(err, HasSubstr("caliper.toml"));
  // Every command reads the file, so a typo stops the server too.
  EXPECT_THAT(CliError({"serve", "--listen", "127.0.0.1:0", "--set", "server.tls=false"}),
              HasSubstr("'server.threds'"));
}

// ---- serve
// ----------------------------------------------------------------------------------------------

TEST_F(CliTest, PlainHttpIsRefusedOffLoopback) {
  InitDeployment(data_);
  RunResult r =
      Caliper({"serve", "--data", data_, "--listen", "0.0.0.0:0", "--set", "server.tls=false"},
              milliseconds(20'000));
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_THAT(r.err,
              HasSubstr("plain HTTP (server.tls=false) is allowed only on a loopback address"));
  EXPECT_THAT(r.out, Not(HasSubstr("serving")));
}

TEST_F(CliTest, ServesTlsByDefaultWithHsts) {
  InitDeployment(data_);
  ServerProcess server(data_, {});
  ASSERT_TRUE(server.Start());
  EXPECT_TRUE(server.tls());
  const std::string base = "127.0.0.1:" + std::to_string(server.port());
  RunResult r =
      RunProgram("curl", {"-sk", "-i", "--max-time", "10", "https://" + base + "/healthz"});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.out, StartsWith("HTTP/1.1 200"));
  EXPECT_THAT(r.out, HasSubstr("Strict-Transport-Security: max-age="));
  EXPECT_THAT(r.out, HasSubstr(R"({"status":"ok"})"));
  // The certificate `init` made is for this host.
  RunResult verified =
      RunProgram("curl", {"-s", "--max-time", "10", "--cacert", data_ + "/tls/cert.pem",
                          "https://localhost:" + std::to_string(server.port()) + "/healthz"});
  EXPECT_EQ(verified.exit_code, 0) << Describe(verified);
  // Plain HTTP to the TLS port gets no answer.
  RunResult plain = RunProgram("curl", {"-s", "--max-time", "10", "-o", "/dev/null", "-w",
                                        "%{http_code}", "http://" + base + "/healthz"});
  EXPECT_NE(plain.out, "200") << Describe(plain);
  EXPECT_EQ(server.Terminate(), 0) << server.Log();
}

TEST_F(CliTest, SigtermLetsInFlightRequestsFinish) {
  const std::string admin_password = InitDeployment(data_);
  ServerProcess server(data_, ServerProcess::PlainHttp());
  ASSERT_TRUE(server.Start());
  Team team;
  {
    Api api(server.port());
    ASSERT_TRUE(MakeTeam(api, admin_password, team));
  }
  struct Acked {
    std::string id;
    std::string content;
  };
  std::mutex mu;
  std::vector<Acked> acked;
  std::vector<std::string> broken;  // responses that were not a complete 201
  std::atomic<bool> stop{false};
  std::atomic<int> in_flight_completed{0}, failed{0};
  std::atomic<std::int64_t> sigterm_at{0};  // steady_clock ticks; 0 = not yet
  auto now = [] { return std::chrono::steady_clock::now().time_since_epoch().count(); };
  std::vector<std::thread> clients;
  for (int t = 0; t < 6; ++t) {
    clients.emplace_back([&, t] {
      Api api(server.port());
      for (int i = 0; !stop; ++i) {
        std::string content = RandomBytes(256 * 1024 + static_cast<std::size_t>(i), 1000 * t + i);
        const auto sent = now();
        auto res = api.UploadItem(team.project_id, team.manager,
                                  ImagingItem("pt-" + std::to_string(t)), content);
        const auto signalled = sigterm_at.load();
        if (!res) {
          ++failed;
          if (signalled != 0) break;  // the server is going away
          continue;
        }
        if (signalled != 0 && res->status == 503) {  // refused while the server drains
          ++failed;
          break;
        }
        json body = Body(res);
        std::lock_guard<std::mutex> lock(mu);
        if (res->status != 201 || !body.is_object() || !body["id"].is_string() ||
            body.value("content_bytes", -1) != static_cast<int>(content.size())) {
          broken.push_back(Describe(res));
          continue;
        }
        acked.push_back({body["id"], std::move(content)});
        if (signalled != 0 && sent < signalled) ++in_flight_completed;
      }
    });
  }
  std::this_thread::sleep_for(milliseconds(800));
  sigterm_at = now();
  const auto code = server.Terminate();
  stop = true;
  for (auto& c : clients) c.join();
  EXPECT_EQ(code, 0) << server.Log();
  EXPECT_TRUE(broken.empty()) << broken.size()
                              << " incomplete responses, first: " << broken.front();
  ASSERT_FALSE(acked.empty());
  std::printf(
      "SIGTERM: %zu uploads acknowledged, %d in flight at SIGTERM completed, %d refused after it\n",
      acked.size(), in_flight_completed.load(), failed.load());
  EXPECT_GE(in_flight_completed.load(), 1)
      << "no request was in flight at SIGTERM; the test proved nothing";

  // Every acknowledged upload is there, byte for byte, after a restart.
  ASSERT_TRUE(server.Start());
  Api api(server.port());
  for (const auto& a : acked) {
    auto res = api.Get("/api/v1/items/" + a.id + "/content", &team.manager);
    ASSERT_TRUE(res && res->status == 200) << a.id << ": " << Describe(res);
    EXPECT_TRUE(res->body == a.content) << a.id << " differs";
  }
  EXPECT_EQ(server.Terminate(), 0) << server.Log();
  RunResult verify = Cli({"audit", "verify"});
  EXPECT_EQ(verify.exit_code, 0) << Describe(verify);
}


// The export flow from the command line: request, the two-person rule, approval and build,
// a one-time token, download + verify, and verify catching a changed byte.
TEST_F(CliTest, ExportRequestApproveDownloadVerify) {
  InitDeployment(data_);
  CliJson({"user", "add", "mia"});
  CliJson({"user", "add", "sam"});
  json project = CliJson({"project", "create", "Export CT"});
  CliJson({"project", "add-member", "Export CT", "mia", "--role", "manager"});
  CliJson({"project", "add-member", "Export CT", "sam", "--role", "data_steward"});
  // A data steward may approve but not request.
  EXPECT_THAT(CliError({"export", "request", "--project", "Export CT", "--as", "sam", "--reason", "x"}),
              HasSubstr("permission"));
  json requested = CliJson({"export", "request", "--project", "Export CT", "--as", "mia", "--reason", "model v2"});
  EXPECT_EQ(requested["status"], "requested");
  const std::string id = requested["id"];
  EXPECT_THAT(CliError({"export", "approve", id, "--project", "Export CT", "--as", "mia"}), HasSubstr("two-person"));
  json built = CliJson({"export", "approve", id, "--project", "Export CT", "--as", "sam", "--note", "ok"});
  EXPECT_EQ(built["status"], "built");
  EXPECT_EQ(built["manifest_sha256"].get<std::string>().size(), 64u);
  const std::string token =
      CliJson({"export", "token", id, "--project", "Export CT", "--as", "mia", "--minutes", "5"})["token"];
  const std::string out = dir_ / "dataset";
  RunResult download = Cli({"export", "download", "--token", token, "--out", out});
  ASSERT_EQ(download.exit_code, 0) << Describe(download);
  EXPECT_THAT(download.out, HasSubstr("every hash matches"));
  EXPECT_THAT(CliError({"export", "download", "--token", token, "--out", dir_ / "again"}),
              HasSubstr("already used"));
  RunResult verify = Caliper({"export", "verify", out});
  EXPECT_EQ(verify.exit_code, 0) << Describe(verify);
  {
    std::ofstream f(out + "/labels.csv", std::ios::app);
    f << "tampered\n";
  }
  verify = Caliper({"export", "verify", out});
  EXPECT_EQ(verify.exit_code, 1) << Describe(verify);
  EXPECT_THAT(verify.err, HasSubstr("labels.csv"));
  json listed = CliJson({"export", "list", "--project", project["id"].get<std::string>()});
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0]["status"], "built");
  // Only a failed build is built again (AppTest.AFailedExportIsRebuiltOnceItsCauseIsPutRight
  // fails one), and never by its requester.
  EXPECT_THAT(CliError({"export", "rebuild", id, "--project", "Export CT", "--as", "sam"}),
              HasSubstr("is built; only a failed or cut-off build is built again"));
  EXPECT_THAT(CliError({"export", "rebuild", id, "--project", "Export CT", "--as", "mia"}), HasSubstr("two-person"));
  EXPECT_EQ(Scalar("SELECT count(*) FROM audit_events WHERE action='export.rebuild' AND outcome='denied';"), "1");
}

TEST_F(CliTest, OutcomesImportReadsTheCsvAndReportsWhatItRefuses) {
  InitDeployment(data_);
  CliJson({"project", "create", "Outcomes"});
  const std::string csv = dir_ / "outcomes.csv";
  {
    std::ofstream f(csv);
    f << "item_id,class,time\n";
  }
  EXPECT_THAT(CliError({"outcomes", "import", csv, "--project", "Outcomes"}),
              HasSubstr("lacks the columns: patient_key, evidence_type, result"));
  {
    std::ofstream f(csv);
    f << "item_id,patient_key,evidence_type,class,value,result,time\n"
         ",pt-1,biopsy,malignancy,,confirms,2026-01-01T00:00:00Z\n"
         ",pt-1,biopsy,malignancy,,maybe,2026-01-01T00:00:00Z\n";
  }
  // The bad row is reported by line; the good one names a class no guideline confirms.
  std::string err = CliError({"outcomes", "import", csv, "--project", "Outcomes"});
  EXPECT_THAT(err, HasSubstr("outcomes.csv:3: line 3: result must be confirms or refutes"));
  EXPECT_THAT(err, HasSubstr("no outcome could be stored"));
  EXPECT_THAT(err, HasSubstr("'malignancy' is not a class of the current guideline that needs confirmation"));
}


// ---- the workflow, scripted by a manager -----------------------------------------------------

// A project from a file (pneumonia needs a biopsy within 90 days), three notes, and the ids of
// the note items, oldest first.
class WorkflowCliTest : public CliTest {
 protected:
  void SetUp() override {
    InitDeployment(data_);
    json file = {{"caliper_project", 1},
                 {"name", "Wards"},
                 {"guideline",
                  {{"classes",
                    {{{"id", "pneumonia"}, {"name", "Pneumonia"}, {"kind", "classification"},
                      {"definition", "Consolidation with clinical signs."},
                      {"confirmation", {{"evidence_sources", {"biopsy"}}, {"window_days", 90}}}},
                     {{"id", "effusion"}, {"name", "Effusion"}, {"kind", "classification"},
                      {"definition", "Fluid in the pleural space."}}}}}},
                 {"workflow", {{"readers_per_item", 2}, {"task_order", "random"}}}};
    WriteFile(dir_ / "project.json", file.dump());
    CliJson({"project", "create", "--file", dir_ / "project.json"});
    std::string notes;
    for (int i = 1; i <= 3; ++i) {
      notes += json{{"id", "n" + std::to_string(i)}, {"patient", "MRN00" + std::to_string(40 + i)},
                    {"text", "Right lower lobe opacity, note " + std::to_string(i) + "."}}
                   .dump() +
               "\n";
    }
    WriteFile(dir_ / "notes.jsonl", notes);
    RunResult ingest = Cli({"ingest", "notes", dir_ / "notes.jsonl", "--project", "Wards"});
    ASSERT_EQ(ingest.exit_code, 0) << Describe(ingest);
    std::stringstream ids(Scalar("SELECT id FROM items ORDER BY created_at, id;"));
    for (std::string id; std::getline(ids, id);) items_.push_back(id);
    ASSERT_EQ(items_.size(), 3u);
  }
  std::vector<std::string> items_;
};

TEST_F(WorkflowCliTest, SettingsTasksGoldAndGuidelineDiff) {
  json settings = CliJson({"workflow", "show", "Wards"});
  EXPECT_EQ(settings["readers_per_item"], 2);
  EXPECT_EQ(settings["task_order"], "random");
  EXPECT_THAT(Cli({"workflow", "show", "Wards"}).out, HasSubstr("readers_per_item = 2"));

  // `set` changes the fields the file names and keeps the others.
  const std::string kUpdates = "SELECT count(*) FROM audit_events WHERE action='workflow.update';";
  const int updates_before = std::stoi(Scalar(kUpdates));
  WriteFile(dir_ / "w.json", R"({"readers_per_item": 1, "gold_rate": 0.25})");
  settings = CliJson({"workflow", "set", "Wards", dir_ / "w.json"});
  EXPECT_EQ(settings["readers_per_item"], 1);
  EXPECT_EQ(settings["gold_rate"], 0.25);
  EXPECT_EQ(settings["task_order"], "random") << "a field the file does not name stays";
  EXPECT_EQ(Scalar("SELECT readers_per_item FROM workflow_settings;"), "1");
  // Refused settings name the file and the field, and change nothing.
  WriteFile(dir_ / "bad.json", R"({"readers_per_item": 99})");
  EXPECT_THAT(CliError({"workflow", "set", "Wards", dir_ / "bad.json"}),
              AllOf(HasSubstr("bad.json"), HasSubstr("readers_per_item must be 1 to 20")));
  WriteFile(dir_ / "bad.json", R"({"readers": 2})");
  EXPECT_THAT(CliError({"workflow", "set", "Wards", dir_ / "bad.json"}), HasSubstr("unknown field 'readers'"));
  WriteFile(dir_ / "bad.json", "[1]");
  EXPECT_THAT(CliError({"workflow", "set", "Wards", dir_ / "bad.json"}), HasSubstr("not a JSON object"));
  EXPECT_EQ(CliJson({"workflow", "show", "Wards"}), settings);
  EXPECT_EQ(std::stoi(Scalar(kUpdates)), updates_before + 1) << "one audited change; the refused ones wrote none";

  // Tasks: every item topped up to one open task; a second run makes none.
  json created = CliJson({"tasks", "create", "Wards"});
  ASSERT_EQ(created["data"].size(), 3u);
  std::set<std::string> tasked;
  for (const auto& t : created["data"]) tasked.insert(t["item_id"].get<std::string>());
  EXPECT_EQ(tasked, std::set<std::string>(items_.begin(), items_.end()));
  EXPECT_THAT(Cli({"tasks", "create", "Wards"}).out, HasSubstr("Created 0 tasks on 0 items"));
  EXPECT_EQ(CliJson({"tasks", "list", "Wards", "--state", "open"})["data"].size(), 3u);
  EXPECT_EQ(CliJson({"tasks", "list", "Wards", "--state", "submitted"})["data"].size(), 0u);
  EXPECT_THAT(Cli({"tasks", "list", "Wards"}).out, HasSubstr("3 tasks"));
  EXPECT_THAT(CliError({"tasks", "list", "Wards", "--state", "sleeping"}), HasSubstr("sleeping"));

  // Gold: the answer is checked against the guideline in force.
  json gold = CliJson({"gold", "set", items_[0], "pneumonia"});
  EXPECT_EQ(gold["answers"], json::array({{{"class", "pneumonia"}}}));
  EXPECT_EQ(gold["item_id"], items_[0]);
  EXPECT_THAT(Cli({"gold", "set", items_[1]}).out, HasSubstr("names none of the classes"));
  EXPECT_THAT(CliError({"gold", "set", items_[2], "fracture"}), HasSubstr("fracture"));
  EXPECT_EQ(Scalar("SELECT count(*) FROM audit_events WHERE action='item.gold';"), "2");

  // The diff of version 2 against the version it is based on, and against a named one.
  EXPECT_THAT(CliError({"guideline", "diff", "Wards"}), HasSubstr("based on no other version"));
  json v2 = {{"classes",
              {{{"id", "pneumonia"}, {"name", "Pneumonia"}, {"kind", "classification"},
                {"definition", "Consolidation with clinical signs."},
                {"confirmation", {{"evidence_sources", {"biopsy"}}, {"window_days", 90}}}},
               {{"id", "effusion"}, {"name", "Effusion"}, {"kind", "classification"},
                {"definition", "Fluid in the pleural space, seen on two views."}},
               {{"id", "nodule"}, {"name", "Nodule"}, {"kind", "classification"}, {"definition", "A small opacity."}}}}};
  WriteFile(dir_ / "v2.json", v2.dump());
  CliJson({"guideline", "publish", "Wards", dir_ / "v2.json"});
  json diff = CliJson({"guideline", "diff", "Wards"});
  EXPECT_EQ(diff["from"]["version"], 1);
  EXPECT_EQ(diff["to"]["version"], 2);
  EXPECT_EQ(diff["classes"], json::parse(R"([{"id":"effusion","change":"changed","fields":["definition"]},
                                             {"id":"nodule","change":"added","fields":[]}])"));
  EXPECT_EQ(CliJson({"guideline", "diff", "Wards", "--from", "2", "--to", "2"})["classes"].size(), 0u);
  RunResult text = Cli({"guideline", "diff", "Wards", "--from", "1"});
  EXPECT_THAT(text.out, AllOf(HasSubstr("2 classes differ"), HasSubstr("changed effusion (definition)")));
  EXPECT_THAT(CliError({"guideline", "diff", "Wards", "--from", "7"}), HasSubstr("no published guideline version 7"));
}

TEST_F(WorkflowCliTest, PrelabelStatsAndScoresAgainstLaterTruth) {
  std::string rows;
  for (int i = 0; i < 2; ++i) {
    rows += json{{"item_id", items_[i]}, {"model", {{"name", "toy"}, {"version", "1"}}},
                 {"evidence", {{"kind", "document"}}}, {"label", {{"class", "pneumonia"}}}, {"score", 0.8}}
                .dump() +
            "\n";
  }
  WriteFile(dir_ / "pre.jsonl", rows);
  CliJson({"prelabels", "upload", "Wards", dir_ / "pre.jsonl"});
  json stats = CliJson({"prelabels", "stats", "Wards"});
  ASSERT_EQ(stats["data"].size(), 1u);
  EXPECT_EQ(stats["data"][0]["model"], json({{"name", "toy"}, {"version", "1"}}));
  EXPECT_EQ(stats["data"][0]["prelabels"], 2);
  EXPECT_EQ(stats["data"][0]["acceptance_rate"], nullptr) << "no reader has decided yet";
  EXPECT_THAT(Cli({"prelabels", "stats", "Wards"}).out, AllOf(HasSubstr("toy@1  2  0  0  0  -"), HasSubstr("1 model versions")));

  // A biopsy confirms the first item's pneumonia and refutes the second's.
  WriteFile(dir_ / "outcomes.csv",
            "item_id,patient_key,evidence_type,class,value,result,time\n" + items_[0] +
                ",,biopsy,pneumonia,,confirms,2026-01-01T00:00:00Z\n" + items_[1] +
                ",,biopsy,pneumonia,,refutes,2026-01-02T00:00:00Z\n");
  CliJson({"outcomes", "import", dir_ / "outcomes.csv", "--project", "Wards"});
  json scores = CliJson({"outcomes", "scores", "Wards"});
  ASSERT_EQ(scores["models"].size(), 1u);
  EXPECT_EQ(scores["models"][0]["model"], "toy@1");
  EXPECT_EQ(scores["models"][0]["confirmed"], 1);
  EXPECT_EQ(scores["models"][0]["refuted"], 1);
  EXPECT_EQ(scores["models"][0]["accuracy"], 0.5);
  EXPECT_EQ(scores["readers"].size(), 0u) << "no reader has labelled yet";
  EXPECT_THAT(Cli({"outcomes", "scores", "Wards"}).out, HasSubstr("toy@1  1  1  0  0  0.500"));
  EXPECT_EQ(CliJson({"outcomes", "labels", "Wards"})["data"].size(), 0u) << "pre-labels are no labels";
  EXPECT_EQ(Scalar("SELECT count(*) FROM audit_events WHERE action='outcome.scores';"), "2");
  EXPECT_THAT(CliError({"outcomes", "scores", "Nowhere"}), HasSubstr("Nowhere"));
}

// `caliper prelabels run` beside a running server: the back-end gets a token for each item
// and fetches the item through the server, as a manager's run from the API does.
TEST_F(CliTest, PrelabelsRunAsksTheBackEndThroughTheServer) {
  const std::string admin_password = InitDeployment(data_);
  ServerProcess server(data_, ServerProcess::PlainHttp());
  ASSERT_TRUE(server.Start());
  Api api(server.port());
  Team team;
  ASSERT_TRUE(MakeTeam(api, admin_password, team));
  auto item = api.UploadItem(team.project_id, team.manager, ImagingItem("pt-run"), "pixels of item one");
  ASSERT_TRUE(item && item->status == 201) << Describe(item);
  const std::string item_id = Body(item)["id"];
  WriteFile(dir_ / "schema.json",
            json{{"classes", {{{"id", "nodule"}, {"name", "Nodule"}, {"kind", "classification"},
                               {"definition", "A small opacity."}}}}}
                .dump());
  CliJson({"guideline", "publish", team.project_id, dir_ / "schema.json"});

  // The back-end: fetches the item with the token it was sent, predicts a nodule.
  struct Backend {
    httplib::Server server;
    std::thread thread;
    std::mutex mu;
    std::vector<std::string> fetched;
    int port = 0;
    void Stop() {
      server.stop();
      if (thread.joinable()) thread.join();
    }
    ~Backend() { Stop(); }
  } backend;
  backend.server.Post("/predict", [&backend](const httplib::Request& req, httplib::Response& res) {
    const json call = json::parse(req.body, nullptr, false);
    const std::string url = call["item"]["content_url"];
    const std::string origin = url.substr(0, url.find("/api/"));
    httplib::Client caliper(origin);
    auto content = caliper.Get(url.substr(origin.size()),
                               {{"Authorization", "Bearer " + call["item"]["token"].get<std::string>()}});
    if (!content || content->status != 200) {
      res.status = 502;
      return;
    }
    std::lock_guard<std::mutex> lock(backend.mu);
    backend.fetched.push_back(content->body);
    res.set_content(json{{"model", {{"name", "toy"}, {"version", "2"}}},
                         {"predictions", {{{"evidence", {{"kind", "document"}}}, {"label", {{"class", "nodule"}}},
                                           {"score", 0.9}}}}}
                        .dump(),
                    "application/json");
  });
  backend.port = backend.server.bind_to_any_port("127.0.0.1");
  backend.thread = std::thread([&backend] { backend.server.listen_after_bind(); });
  const std::string backend_url = "http://127.0.0.1:" + std::to_string(backend.port) + "/predict";
  const std::string caliper_url = "http://127.0.0.1:" + std::to_string(server.port());

  json run = CliJson({"prelabels", "run", team.project_id, "--backend", backend_url, "--caliper-url", caliper_url,
                      "--as", "manager"});
  EXPECT_EQ(run["items"], 1);
  ASSERT_EQ(run["stored"].size(), 1u);
  EXPECT_EQ(run["stored"][0]["item_id"], item_id);
  EXPECT_EQ(run["stored"][0]["model"]["version"], "2");
  {
    std::lock_guard<std::mutex> lock(backend.mu);
    EXPECT_EQ(backend.fetched, std::vector<std::string>{"pixels of item one"});
  }
  // An annotator may not ask; nor may anyone without --as.
  EXPECT_THAT(CliError({"prelabels", "run", team.project_id, "--backend", backend_url, "--caliper-url", caliper_url,
                        "--as", "annotator"}),
              HasSubstr("permission"));
  EXPECT_EQ(Cli({"prelabels", "run", team.project_id, "--backend", backend_url, "--caliper-url", caliper_url}).exit_code,
            2);
  backend.Stop();
  // A back-end that is gone: the item is reported, nothing stored, exit code 1.
  RunResult gone = Cli({"prelabels", "run", team.project_id, "--backend", backend_url, "--caliper-url", caliper_url,
                        "--as", "manager", "--json"});
  EXPECT_EQ(gone.exit_code, 1) << Describe(gone);
  EXPECT_THAT(gone.err, HasSubstr("item " + item_id));
  EXPECT_EQ(json::parse(gone.out, nullptr, false)["stored"].size(), 0u);
  EXPECT_EQ(Scalar("SELECT count(*) FROM prelabels;"), "1");
  ASSERT_EQ(server.Terminate(), 0) << server.Log();
}

}  // namespace
}  // namespace caliper::e2e

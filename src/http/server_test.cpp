// End-to-end tests of the HTTP API over loopback: the RBAC matrix over every route of the
// route table, sessions, CSRF, lock-out, bad input, headers and the audit trail.

#include "caliper/http/server.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <filesystem>
#include <map>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "caliper/app/app.h"
#include "http/test_server.h"

namespace caliper::http {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using security::Permission;

struct Session {
  std::string cookie;  // "caliper_session=..."
  std::string csrf;
};

class ApiTest : public ::testing::Test {
 protected:
  // Starts one deployment and server per test process, from the first test's SetUp: a failure
  // here fails that test (in SetUpTestSuite, gtest would report every test as skipped).
  void SetUp() override {
    if (!started_) StartServer();
    ASSERT_TRUE(started_) << "the test server did not start";
  }

  static void StartServer() {
    ServerOptions server_options;
    server_options.threads = 16;
    server_options.max_body_bytes = 64 * 1024;
    server_options.max_upload_bytes = 1 << 20;
    harness_ = new TestServer();
    Status started = harness_->Start("caliper_http_test", server_options);
    ASSERT_TRUE(started.ok()) << started.ToString();
    dir_ = harness_->dir();
    admin_password_ = harness_->admin_password();
    clock_ = &harness_->clock();
    app_ = &harness_->app();
    port_ = harness_->port();
    // The first admin's password is a one-time password: replace it, as a person would.
    Session first = Login("admin", admin_password_);
    const std::string chosen = "a chosen passphrase 42";
    auto changed = Send("POST", "/api/v1/me/password", &first,
                        json{{"current_password", admin_password_}, {"new_password", chosen}}.dump());
    ASSERT_EQ(changed->status, 204) << changed->body;
    admin_password_ = chosen;
    started_ = true;
  }

  static void TearDownTestSuite() { delete harness_; }

  static httplib::Client Client() {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(30, 0);
    return c;
  }

  static httplib::Headers Headers(const Session* s, bool with_csrf = true) {
    httplib::Headers h;
    if (s != nullptr) {
      h.emplace("Cookie", s->cookie);
      if (with_csrf) h.emplace("X-CSRF-Token", s->csrf);
    }
    return h;
  }

  static httplib::Result Send(const std::string& method, const std::string& path, const Session* s,
                              const std::string& body = "", const std::string& type = "application/json",
                              httplib::Headers extra = {}) {
    auto c = Client();
    httplib::Headers h = Headers(s);
    for (auto& e : extra) h.insert(e);
    if (method == "GET") return c.Get(path, h);
    if (method == "DELETE") return c.Delete(path, h, body, type);
    if (method == "POST") return c.Post(path, h, body, type);
    if (method == "PUT") return c.Put(path, h, body, type);
    return c.Patch(path, h, body, type);
  }

  static Session Login(const std::string& username, const std::string& password) {
    auto res = Send("POST", "/api/v1/auth/login", nullptr,
                    json{{"username", username}, {"password", password}}.dump());
    EXPECT_TRUE(res) << "no answer";
    if (!res) return {};
    EXPECT_EQ(res->status, 200) << res->body;
    Session s;
    std::string set_cookie = res->get_header_value("Set-Cookie");
    s.cookie = set_cookie.substr(0, set_cookie.find(';'));
    s.csrf = json::parse(res->body).value("csrf_token", "");
    return s;
  }

  static json Body(const httplib::Result& res) { return json::parse(res->body, nullptr, false); }

  // Creates a user through the API as admin with a chosen password (so no change is forced)
  // and returns (id, password).
  static std::pair<std::string, std::string> MakeUser(const Session& admin, const std::string& name) {
    const std::string password = "test user pass phrase " + std::to_string(name.size() * 7919);
    auto res = Send("POST", "/api/v1/users", &admin, json{{"username", name}, {"password", password}}.dump());
    EXPECT_EQ(res->status, 201) << res->body;
    return {Body(res)["id"].get<std::string>(), password};
  }

  // Publishes a guideline with `classes` (labels need one); returns its id.
  static std::string PublishGuideline(const Session& manager, const std::string& project_id,
                                      const std::vector<std::string>& classes) {
    json schema{{"classes", json::array()}};
    for (const auto& c : classes) {
      schema["classes"].push_back({{"id", c}, {"name", c}, {"kind", "classification"}, {"definition", c}});
    }
    const std::string base = "/api/v1/projects/" + project_id + "/guidelines";
    auto draft = Send("POST", base, &manager, json{{"schema", schema}}.dump());
    EXPECT_EQ(draft->status, 201) << draft->body;
    const std::string id = Body(draft)["id"];
    auto published = Send("POST", base + "/" + id + "/publish", &manager, "", "application/json",
                          {{"If-Match", draft->get_header_value("ETag")}});
    EXPECT_EQ(published->status, 200) << published->body;
    return id;
  }

  // Events in the audit chain, or -1 when it does not verify. Each call itself appends one
  // "audit.verify" event after counting.
  static std::int64_t AuditCount() {
    auto verify = app_->VerifyAudit(app::LocalOperator());
    return verify.ok() && verify->ok ? verify->events : -1;
  }

  static inline bool started_ = false;
  static inline fs::path dir_;
  static inline std::string admin_password_;
  static inline TestServer* harness_ = nullptr;  // owns the deployment and the server
  static inline FakeClock* clock_ = nullptr;
  static inline app::App* app_ = nullptr;
  static inline int port_ = 0;
};

// ---- the RBAC matrix ---------------------------------------------------------------------------

// Who may do what, written out independently of the policy's own table: the test fails when
// the two disagree, and every route of the route table is checked for every role.
const std::map<Permission, std::set<std::string>>& ExpectedGrants() {
  static const std::set<std::string> kEveryone = {"anonymous", "outsider", "admin", "manager", "annotator",
                                                  "annotator_unassigned", "reviewer", "adjudicator",
                                                  "auditor", "data_steward"};
  static const std::map<Permission, std::set<std::string>> kGrants = {
      {Permission::kNone, kEveryone},
      {Permission::kAuthenticated, {"outsider", "admin", "manager", "annotator", "annotator_unassigned", "reviewer",
                                    "adjudicator", "auditor", "data_steward"}},
      {Permission::kUserManage, {"admin"}},
      {Permission::kProjectCreate, {"admin"}},
      {Permission::kProjectList, {"admin"}},
      {Permission::kAuditVerify, {"admin"}},
      {Permission::kProjectRead, {"admin", "manager", "annotator", "annotator_unassigned", "reviewer", "adjudicator",
                                  "auditor", "data_steward"}},
      {Permission::kMemberManage, {"admin", "manager"}},
      {Permission::kItemCreate, {"manager", "data_steward"}},
      {Permission::kItemList, {"manager", "annotator", "annotator_unassigned", "reviewer", "adjudicator", "data_steward"}},
      {Permission::kTaskAssign, {"manager"}},
      {Permission::kTaskClaim, {"annotator", "annotator_unassigned"}},
      {Permission::kGuidelineEdit, {"manager"}},
      {Permission::kPrelabelWrite, {"manager"}},
      {Permission::kItemRead, {"manager", "annotator", "reviewer", "adjudicator", "data_steward"}},
      {Permission::kAnnotationRead, {"manager", "annotator", "reviewer", "adjudicator"}},
      {Permission::kAnnotationWrite, {"annotator"}},
      {Permission::kReview, {"reviewer"}},
      {Permission::kAdjudicate, {"adjudicator"}},
      {Permission::kAuditRead, {"admin", "auditor"}},
      {Permission::kTokenCreate, {"manager", "annotator", "annotator_unassigned", "reviewer", "adjudicator"}},
      {Permission::kExportRequest, {"manager"}},
      {Permission::kExportApprove, {"manager", "data_steward"}},
      {Permission::kReidentify, {"data_steward"}},
      {Permission::kQualityRead, {"admin", "manager", "reviewer", "adjudicator", "auditor"}},
      {Permission::kGuidelineFeedback, {"reviewer", "adjudicator"}},
      {Permission::kQuarantineReview, {"data_steward"}},
  };
  return kGrants;
}

TEST_F(ApiTest, RbacMatrixCoversEveryRouteAndRole) {
  Session admin = Login("admin", admin_password_);
  // A project with one member per role, all scoped to imaging and notes.
  auto project = Send("POST", "/api/v1/projects", &admin, json{{"name", "RBAC matrix"}}.dump());
  ASSERT_EQ(project->status, 201) << project->body;
  const std::string project_id = Body(project)["id"];
  struct Account {
    std::string username, id, password;
  };
  std::map<std::string, Account> users;  // by role
  const std::vector<std::string> roles = {"manager", "annotator", "annotator_unassigned", "reviewer",
                                          "adjudicator", "auditor", "data_steward"};
  for (const auto& role : roles) {
    std::string name = "m-" + role;
    std::replace(name.begin(), name.end(), '_', '-');
    auto [id, password] = MakeUser(admin, name);
    users[role] = {name, id, password};
    std::string project_role = role == "annotator_unassigned" ? "annotator" : role;
    auto put = Send("PUT", "/api/v1/projects/" + project_id + "/members/" + id, &admin,
                    json{{"roles", {project_role}}, {"scopes", {"imaging", "notes", "labs"}}}.dump());
    ASSERT_EQ(put->status, 200) << put->body;
  }
  auto [outsider_id, outsider_pw] = MakeUser(admin, "outsider");
  users["outsider"] = {"outsider", outsider_id, outsider_pw};
  auto victim = MakeUser(admin, "victim");

  std::map<std::string, Session> sessions;
  for (const auto& [role, account] : users) sessions[role] = Login(account.username, account.password);
  sessions["admin"] = admin;

  // An item assigned to "annotator", and a label by them.
  Session manager = sessions["manager"];
  httplib::MultipartFormDataItems parts = {
      {"metadata", json{{"data_type", "imaging"}, {"modality", "CT"}, {"patient_key", "pt-0001"}}.dump(), "", "application/json"},
      {"content", "synthetic bytes", "slice.dcm", "application/dicom"}};
  auto item_res = Client().Post("/api/v1/projects/" + project_id + "/items", Headers(&manager), parts);
  ASSERT_EQ(item_res->status, 201) << item_res->body;
  const std::string item_id = Body(item_res)["id"];
  auto assign = Send("POST", "/api/v1/items/" + item_id + "/assignments", &manager,
                     json{{"user_id", users["annotator"].id}}.dump());
  ASSERT_EQ(assign->status, 201) << assign->body;
  const std::string guideline_id = PublishGuideline(manager, project_id, {"lesion"});
  const std::string task_id = Body(assign)["id"];
  auto label = Send("POST", "/api/v1/items/" + item_id + "/annotations", &sessions["annotator"],
                    json{{"evidence", {{"kind", "roi"}, {"data", {{"x", 1}}}}}, {"label", {{"class", "lesion"}}}}.dump());
  ASSERT_EQ(label->status, 201) << label->body;
  const std::string annotation_id = Body(label)["id"];
  auto prelabel = Send("POST", "/api/v1/projects/" + project_id + "/prelabels", &manager,
                       json{{"prelabels", {{{"item_id", item_id}, {"model", {{"name", "m"}, {"version", "1"}}},
                                            {"evidence", {{"kind", "roi"}}}, {"label", {{"class", "lesion"}}}}}}}
                           .dump());
  ASSERT_EQ(prelabel->status, 201) << prelabel->body;
  const std::string prelabel_id = Body(prelabel)["stored"][0]["id"];
  auto token = Send("POST", "/api/v1/projects/" + project_id + "/tokens", &manager,
                    json{{"name", "t"}, {"permissions", {"item_list"}}}.dump());
  ASSERT_EQ(token->status, 201) << token->body;
  const std::string token_id = Body(token)["id"];

  const std::map<std::string, std::string> ids = {{"project_id", project_id}, {"item_id", item_id},
                                                  {"user_id", victim.first}, {"annotation_id", annotation_id},
                                                  {"token_id", token_id}, {"task_id", task_id},
                                                  {"guideline_id", guideline_id},
                                                  {"base_guideline_id", guideline_id},
                                                  {"export_id", "exp_0000000000000000000000000z"},
                                                  {"name", "manifest.json"},
                                                  {"plane", "axial"}, {"index", "0"},
                                                  {"sop_instance_uid", "2.25.1"},
                                                  {"quarantine_id", "qrn_0000000000000000000000000z"},
                                                  {"token", "cex_not-a-token"},
                                                  {"prelabel_id", prelabel_id},
                                                  {"view", "dzv_0000000000000000000000000z"},
                                                  {"level", "0"}, {"tile", "0_0"}};
  std::vector<std::string> all_roles = {"anonymous", "outsider", "admin"};
  all_roles.insert(all_roles.end(), roles.begin(), roles.end());
  int checked = 0;
  for (const RouteInfo& route : AllRoutes()) {
    ASSERT_TRUE(ExpectedGrants().count(route.permission))
        << route.method << " " << route.path << ": no expectation for " << security::ToString(route.permission);
    std::string path = route.path;
    for (const auto& [name, value] : ids) {
      auto pos = path.find("{" + name + "}");
      if (pos != std::string::npos) path.replace(pos, name.size() + 2, value);
    }
    ASSERT_EQ(path.find('{'), std::string::npos) << "no test id for a parameter of " << route.path;
    for (const auto& role : all_roles) {
      if (route.path == "/api/v1/auth/logout") continue;  // checked last, it ends the session
      const Session* s = role == "anonymous" ? nullptr : &sessions[role];
      auto res = Send(route.method, path, s, route.takes_body ? "{}" : "");
      ASSERT_TRUE(res) << route.method << " " << path;
      bool expected = ExpectedGrants().at(route.permission).count(role) > 0;
      if (expected) {
        EXPECT_NE(res->status, 401) << role << " " << route.method << " " << route.path << ": " << res->body;
        EXPECT_NE(res->status, 403) << role << " " << route.method << " " << route.path << ": " << res->body;
      } else {
        EXPECT_EQ(res->status, role == "anonymous" ? 401 : 403)
            << role << " " << route.method << " " << route.path << ": " << res->body;
      }
      ++checked;
      // Some allowed calls end sessions (revoke-sessions targets the victim only); keep every
      // role's session alive for the next route.
      if (s != nullptr && Send("GET", "/api/v1/auth/session", s)->status != 200) {
        FAIL() << role << " lost its session after " << route.method << " " << route.path;
      }
    }
  }
  EXPECT_GT(checked, 200);
  for (const auto& role : all_roles) {
    if (role == "anonymous") {
      EXPECT_EQ(Send("POST", "/api/v1/auth/logout", nullptr)->status, 401);
    } else {
      EXPECT_EQ(Send("POST", "/api/v1/auth/logout", &sessions[role])->status, 204) << role;
      EXPECT_EQ(Send("GET", "/api/v1/auth/session", &sessions[role])->status, 401) << role << " signed out";
    }
  }
  EXPECT_GT(AuditCount(), 0);
}

// ---- sessions, CSRF, lock-out --------------------------------------------------------------------

TEST_F(ApiTest, StateChangesWithoutTheCsrfTokenAreRefusedAndWriteNothing) {
  Session admin = Login("admin", admin_password_);
  auto c = Client();
  httplib::Headers no_csrf = Headers(&admin, false);
  auto res = c.Post("/api/v1/projects", no_csrf, json{{"name", "csrf-victim"}}.dump(), "application/json");
  EXPECT_EQ(res->status, 403);
  EXPECT_EQ(Body(res)["error"]["code"], "csrf_failed");
  httplib::Headers wrong = Headers(&admin, false);
  wrong.emplace("X-CSRF-Token", "forged");
  EXPECT_EQ(c.Post("/api/v1/projects", wrong, json{{"name", "csrf-victim"}}.dump(), "application/json")->status, 403);
  // With the token the same request goes through: the list then holds it and never the victim.
  ASSERT_EQ(Send("POST", "/api/v1/projects", &admin, json{{"name", "csrf-control"}}.dump())->status, 201);
  auto list = Send("GET", "/api/v1/projects?limit=500", &admin);
  const json projects = Body(list);  // kept whole: a range-for over Body(list)["data"] reads a destroyed temporary
  int controls = 0;
  for (const auto& p : projects["data"]) {
    EXPECT_NE(p["name"], "csrf-victim");
    controls += p["name"] == "csrf-control";
  }
  EXPECT_EQ(controls, 1);
}

TEST_F(ApiTest, AOneTimePasswordMustBeChangedBeforeAnythingElse) {
  Session admin = Login("admin", admin_password_);
  auto created = Send("POST", "/api/v1/users", &admin, json{{"username", "newcomer"}}.dump());
  ASSERT_EQ(created->status, 201);
  const std::string one_time = Body(created)["one_time_password"];
  Session s = Login("newcomer", one_time);
  auto blocked = Send("GET", "/api/v1/projects", &s);
  EXPECT_EQ(blocked->status, 403);
  EXPECT_EQ(Body(blocked)["error"]["code"], "password_change_required");
  auto session = Send("GET", "/api/v1/auth/session", &s);
  ASSERT_EQ(session->status, 200);
  EXPECT_TRUE(Body(session)["user"]["must_change_password"].get<bool>());
  auto same = Send("POST", "/api/v1/me/password", &s,
                   json{{"current_password", one_time}, {"new_password", one_time}}.dump());
  EXPECT_EQ(same->status, 400) << "the new password must differ";
  auto changed = Send("POST", "/api/v1/me/password", &s,
                      json{{"current_password", one_time}, {"new_password", "a passphrase of my own"}}.dump());
  ASSERT_EQ(changed->status, 204) << changed->body;
  EXPECT_EQ(Send("GET", "/api/v1/projects", &s)->status, 401) << "the change ends every session";
  Session fresh = Login("newcomer", "a passphrase of my own");
  EXPECT_EQ(Send("GET", "/api/v1/projects", &fresh)->status, 200);
  auto wrong = Send("POST", "/api/v1/me/password", &fresh,
                    json{{"current_password", "not my passphrase"}, {"new_password", "whatever else 123"}}.dump());
  EXPECT_EQ(wrong->status, 401);
  int failures = 0;
  ASSERT_TRUE(app_->ExportAudit(app::LocalOperator(), 0, clock_->Now() + kMicrosPerHour, [&](const storage::AuditEvent& e) {
    if (e.action == "user.change_password" && e.outcome == "failure") ++failures;
    return Status::Ok();
  }).ok());
  EXPECT_EQ(failures, 1) << "a wrong current password is audited";
}

TEST_F(ApiTest, SessionCookieIsHardened) {
  auto res = Send("POST", "/api/v1/auth/login", nullptr, json{{"username", "admin"}, {"password", admin_password_}}.dump());
  ASSERT_EQ(res->status, 200);
  std::string cookie = res->get_header_value("Set-Cookie");
  for (const char* attr : {"HttpOnly", "Secure", "SameSite=Strict", "Path=/"}) {
    EXPECT_NE(cookie.find(attr), std::string::npos) << attr;
  }
  EXPECT_EQ(res->body.find(cookie.substr(16, 20)), std::string::npos) << "the session token is not in the body";
}

TEST_F(ApiTest, IdleAndAbsoluteTimeoutsEndSessions) {
  Session admin = Login("admin", admin_password_);
  clock_->Advance(14 * kMicrosPerMinute);
  EXPECT_EQ(Send("GET", "/api/v1/auth/session", &admin)->status, 200);
  clock_->Advance(16 * kMicrosPerMinute);
  auto expired = Send("GET", "/api/v1/auth/session", &admin);
  EXPECT_EQ(expired->status, 401);
  EXPECT_EQ(Body(expired)["error"]["code"], "session_expired");

  Session busy = Login("admin", admin_password_);
  for (int i = 0; i < 12 * 6 - 1; ++i) {
    clock_->Advance(10 * kMicrosPerMinute);
    ASSERT_EQ(Send("GET", "/api/v1/auth/session", &busy)->status, 200) << i;
  }
  clock_->Advance(11 * kMicrosPerMinute);
  EXPECT_EQ(Send("GET", "/api/v1/auth/session", &busy)->status, 401) << "12 h absolute timeout";
}

TEST_F(ApiTest, AdminRevocationAndDisablingEndSessions) {
  Session admin = Login("admin", admin_password_);
  auto [id, password] = MakeUser(admin, "revokee");
  Session user = Login("revokee", password);
  EXPECT_EQ(Send("GET", "/api/v1/auth/session", &user)->status, 200);
  auto revoke = Send("POST", "/api/v1/users/" + id + "/revoke-sessions", &admin);
  EXPECT_EQ(revoke->status, 200);
  EXPECT_EQ(Body(revoke)["revoked"], 1);
  EXPECT_EQ(Send("GET", "/api/v1/auth/session", &user)->status, 401);
  Session again = Login("revokee", password);
  EXPECT_EQ(Send("POST", "/api/v1/users/" + id + "/disable", &admin)->status, 204);
  EXPECT_EQ(Send("GET", "/api/v1/auth/session", &again)->status, 401);
  auto login = Send("POST", "/api/v1/auth/login", nullptr, json{{"username", "revokee"}, {"password", password}}.dump());
  EXPECT_EQ(login->status, 401);
}

TEST_F(ApiTest, RepeatedFailedSignInsLockTheAccount) {
  Session admin = Login("admin", admin_password_);
  auto [id, password] = MakeUser(admin, "forgetful");
  for (int i = 0; i < 4; ++i) {
    auto res = Send("POST", "/api/v1/auth/login", nullptr, json{{"username", "forgetful"}, {"password", "wrong-" + std::to_string(i) + "-password"}}.dump());
    EXPECT_EQ(res->status, 401);
  }
  auto locked = Send("POST", "/api/v1/auth/login", nullptr, json{{"username", "forgetful"}, {"password", "wrong-again-password"}}.dump());
  EXPECT_EQ(locked->status, 423);
  EXPECT_EQ(Body(locked)["error"]["code"], "account_locked");
  auto right = Send("POST", "/api/v1/auth/login", nullptr, json{{"username", "forgetful"}, {"password", password}}.dump());
  EXPECT_EQ(right->status, 423) << "locked even with the right password";
  clock_->Advance(16 * kMicrosPerMinute);
  right = Send("POST", "/api/v1/auth/login", nullptr, json{{"username", "forgetful"}, {"password", password}}.dump());
  EXPECT_EQ(right->status, 200);
  // Every failure is in the audit log.
  int failures = 0;
  ASSERT_TRUE(app_->ExportAudit(app::LocalOperator(), 0, clock_->Now() + kMicrosPerHour, [&](const storage::AuditEvent& e) {
    if (e.action == "auth.login" && e.object_id == id && e.outcome == "failure") ++failures;
    return Status::Ok();
  }).ok());
  EXPECT_EQ(failures, 6);
}

// ---- bad input -------------------------------------------------------------------------------------

TEST_F(ApiTest, BadInputGets400Or413AndWritesNothing) {
  Session admin = Login("admin", admin_password_);
  const std::int64_t before = AuditCount();
  struct Case {
    std::string body;
    int status;
    std::string code;
  };
  const std::vector<Case> cases = {
      {"{not json", 400, "malformed_json"},
      {"[1,2]", 400, "invalid_argument"},
      {R"({"name": 42})", 400, "invalid_argument"},
      {R"({"name": "x", "owner": "me"})", 400, "unknown_field"},
      {R"({"description": "no name"})", 400, "invalid_argument"},
      {R"({"name": ""})", 400, "invalid_argument"},
      {"{\"name\": \"" + std::string(70 * 1024, 'a') + "\"}", 413, "payload_too_large"},
  };
  for (const auto& c : cases) {
    auto res = Send("POST", "/api/v1/projects", &admin, c.body);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, c.status) << c.body.substr(0, 40) << ": " << res->body;
    EXPECT_EQ(Body(res)["error"]["code"], c.code) << c.body.substr(0, 40);
    EXPECT_FALSE(Body(res)["error"]["message"].get<std::string>().empty());
  }
  EXPECT_EQ(AuditCount(), before + 1) << "no request above wrote anything (the 1 is the first count's own event)";
  for (const char* path : {"/api/v1/projects/..%2F..%2Fetc", "/api/v1/projects/../users", "/api/v1/items/prj_%00",
                           "/api/v1/nothing-here", "/api/v1/items/itm_0000000000000000000000000"}) {
    auto res = Send("GET", path, &admin);
    ASSERT_TRUE(res) << path;
    EXPECT_EQ(res->status, 404) << path << ": " << res->body;
  }
  EXPECT_EQ(Send("GET", "/api/v1/projects?limit=0", &admin)->status, 400);
  EXPECT_EQ(Send("GET", "/api/v1/projects?limit=abc", &admin)->status, 400);
  EXPECT_EQ(Send("DELETE", "/api/v1/projects", &admin)->status, 405);
}

// ---- items, blinding, headers, OpenAPI ------------------------------------------------------------

TEST_F(ApiTest, ItemsAreEncryptedAtRestReadBackAndAnnotatorsAreBlinded) {
  Session admin = Login("admin", admin_password_);
  const std::string project_id = Body(Send("POST", "/api/v1/projects", &admin, json{{"name", "Blinding"}}.dump()))["id"];
  auto [manager_id, manager_pw] = MakeUser(admin, "b-manager");
  auto [r1_id, r1_pw] = MakeUser(admin, "b-reader1");
  auto [r2_id, r2_pw] = MakeUser(admin, "b-reader2");
  for (const auto& [id, role] : std::vector<std::pair<std::string, std::string>>{
           {manager_id, "manager"}, {r1_id, "annotator"}, {r2_id, "annotator"}}) {
    ASSERT_EQ(Send("PUT", "/api/v1/projects/" + project_id + "/members/" + id, &admin,
                   json{{"roles", {role}}, {"scopes", {"notes"}}}.dump())->status, 200);
  }
  Session manager = Login("b-manager", manager_pw), r1 = Login("b-reader1", r1_pw), r2 = Login("b-reader2", r2_pw);
  const std::string secret_text = "Synthetic note: possible small nodule, follow-up advised.";
  httplib::MultipartFormDataItems parts = {
      {"metadata", json{{"data_type", "notes"}, {"patient_key", "pt-77"}}.dump(), "", "application/json"},
      {"content", secret_text, "note.txt", "text/plain"}};
  auto item = Client().Post("/api/v1/projects/" + project_id + "/items", Headers(&manager), parts);
  ASSERT_EQ(item->status, 201) << item->body;
  const std::string item_id = Body(item)["id"];
  // Nothing under the data directory holds the plain text.
  for (const auto& f : fs::recursive_directory_iterator(dir_)) {
    if (!f.is_regular_file()) continue;
    std::ifstream in(f.path(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(bytes.find("possible small nodule"), std::string::npos) << f.path();
  }
  for (const auto& id : {r1_id, r2_id}) {
    ASSERT_EQ(Send("POST", "/api/v1/items/" + item_id + "/assignments", &manager, json{{"user_id", id}}.dump())->status, 201);
  }
  PublishGuideline(manager, project_id, {"nodule", "mass"});
  auto content = Send("GET", "/api/v1/items/" + item_id + "/content", &r1);
  ASSERT_EQ(content->status, 200);
  EXPECT_EQ(content->body, secret_text);
  EXPECT_EQ(content->get_header_value("Cache-Control"), "no-store");

  auto label = [&](const Session& s, const std::string& cls) {
    return Send("POST", "/api/v1/items/" + item_id + "/annotations", &s,
                json{{"evidence", {{"kind", "span"}, {"data", {{"start", 18}, {"end", 39}}}}},
                     {"label", {{"class", cls}, {"code_system", "SNOMED CT"}, {"code", "427359005"}}},
                     {"uncertainty", {{"confidence", 0.6}, {"assertion", "possible"}}}}.dump());
  };
  auto a1 = label(r1, "nodule");
  ASSERT_EQ(a1->status, 201) << a1->body;
  ASSERT_EQ(label(r2, "nodule")->status, 201);
  auto seen_by_r1 = Body(Send("GET", "/api/v1/items/" + item_id + "/annotations", &r1))["data"];
  ASSERT_EQ(seen_by_r1.size(), 1u) << "reader 1 sees only their own label";
  EXPECT_EQ(seen_by_r1[0]["author"], r1_id);
  EXPECT_EQ(seen_by_r1[0]["uncertainty"]["assertion"], "possible");
  EXPECT_EQ(Body(Send("GET", "/api/v1/items/" + item_id + "/annotations", &manager))["data"].size(), 2u);
  const std::string a2_id = Body(Send("GET", "/api/v1/items/" + item_id + "/annotations", &r2))["data"][0]["id"];
  EXPECT_EQ(Send("GET", "/api/v1/items/" + item_id + "/annotations/" + a2_id, &r1)->status, 404);

  // Optimistic concurrency on edits.
  const std::string a1_id = Body(a1)["id"];
  std::string etag = a1->get_header_value("ETag");
  json edit{{"evidence", {{"kind", "span"}}}, {"label", {{"class", "mass"}}}};
  EXPECT_EQ(Send("PUT", "/api/v1/items/" + item_id + "/annotations/" + a1_id, &r1, edit.dump())->status, 412);
  auto ok = Send("PUT", "/api/v1/items/" + item_id + "/annotations/" + a1_id, &r1, edit.dump(), "application/json",
                 {{"If-Match", etag}});
  EXPECT_EQ(ok->status, 200) << ok->body;
  auto stale = Send("PUT", "/api/v1/items/" + item_id + "/annotations/" + a1_id, &r1, edit.dump(), "application/json",
                    {{"If-Match", etag}});
  EXPECT_EQ(stale->status, 412);
}

// ---- clinical notes and labs (docs/notes.md, docs/labs.md) ------------------------------------------

TEST_F(ApiTest, NotesAreDeidentifiedOnUploadAndReadWithTheirSurrogateSpans) {
  Session admin = Login("admin", admin_password_);
  const std::string project_id = Body(Send("POST", "/api/v1/projects", &admin, json{{"name", "Notes API"}}.dump()))["id"];
  auto [manager_id, manager_pw] = MakeUser(admin, "n-manager");
  ASSERT_EQ(Send("PUT", "/api/v1/projects/" + project_id + "/members/" + manager_id, &admin,
                 json{{"roles", {"manager"}}, {"scopes", {"notes", "labs"}}}.dump())->status, 200);
  Session manager = Login("n-manager", manager_pw);
  auto settings = Send("PUT", "/api/v1/projects/" + project_id + "/text-settings", &manager,
                       json{{"deid_mode", "tag"}, {"clinician_names", {"Ada Quill"}}}.dump());
  ASSERT_EQ(settings->status, 200) << settings->body;
  EXPECT_EQ(Body(Send("GET", "/api/v1/projects/" + project_id + "/text-settings", &manager))["deid_mode"], "tag");
  EXPECT_EQ(Send("PUT", "/api/v1/projects/" + project_id + "/text-settings", &manager,
                 json{{"deid_mode", "blur"}}.dump())->status, 400);

  const std::string jsonl = json{{"id", "n1"}, {"patient", "MRN-9"}, {"text", "Zoë seen by ada quill on 03/12/2025."}}.dump() +
                            "\n{\"id\":\"n2\",\"patient\":\"MRN-9\",\"text\":\"\"}\n";
  httplib::MultipartFormDataItems parts = {{"metadata", json{{"format", "jsonl"}}.dump(), "", "application/json"},
                                           {"content", jsonl, "notes.jsonl", "application/x-ndjson"}};
  auto up = Client().Post("/api/v1/projects/" + project_id + "/notes", Headers(&manager), parts);
  ASSERT_EQ(up->status, 200) << up->body;
  json report = Body(up);
  EXPECT_EQ(report["stored"], 1);
  EXPECT_EQ(report["errors"], 1);
  EXPECT_EQ(report["records"][1]["error"]["code"], "invalid_argument");
  const std::string item_id = report["records"][0]["item_id"];
  auto note = Send("GET", "/api/v1/items/" + item_id + "/note", &manager);
  ASSERT_EQ(note->status, 200) << note->body;
  json n = Body(note);
  EXPECT_EQ(n["text"], "Zoë seen by [NAME] on [DATE].");
  EXPECT_EQ(n["offsets"], "unicode_code_points");
  EXPECT_EQ(n["phi"], json::parse(R"([{"start":12,"end":18,"type":"NAME"},{"start":22,"end":28,"type":"DATE"}])"));
  EXPECT_EQ(n["item"]["patient_key"].get<std::string>().rfind("pt_", 0), 0u);

  // Labs of the same source patient meet the note.
  parts = {{"metadata", json{{"format", "csv"}}.dump(), "", "application/json"},
           {"content", "patient,time,loinc,value,unit\nMRN-9,2025-03-12T08:00:00Z,2160-0,1.4,mg/dL\n", "labs.csv",
            "text/csv"}};
  auto labs_up = Client().Post("/api/v1/projects/" + project_id + "/labs", Headers(&manager), parts);
  ASSERT_EQ(labs_up->status, 200) << labs_up->body;
  EXPECT_EQ(Body(labs_up)["stored"], 1);
  auto labs = Send("GET", "/api/v1/items/" + item_id + "/labs", &manager);
  ASSERT_EQ(labs->status, 200) << labs->body;
  ASSERT_EQ(Body(labs)["results"].size(), 1u);
  EXPECT_EQ(Body(labs)["results"][0]["loinc"], "2160-0");
  EXPECT_NE(Body(labs)["results"][0]["time"], "2025-03-12T08:00:00Z");  // shifted

  // A reviewer scoped to notes reads the note but not the patient's labs beside it: the labs
  // are another data type, so the refusal names the scope and is audited.
  auto [reviewer_id, reviewer_pw] = MakeUser(admin, "n-reviewer");
  ASSERT_EQ(Send("PUT", "/api/v1/projects/" + project_id + "/members/" + reviewer_id, &admin,
                 json{{"roles", {"reviewer"}}, {"scopes", {"notes"}}}.dump())->status, 200);
  Session reviewer = Login("n-reviewer", reviewer_pw);
  EXPECT_EQ(Send("GET", "/api/v1/items/" + item_id + "/note", &reviewer)->status, 200);
  const TimeMicros before = clock_->Now();
  auto refused = Send("GET", "/api/v1/items/" + item_id + "/labs", &reviewer);
  ASSERT_EQ(refused->status, 403) << refused->body;
  EXPECT_EQ(Body(refused)["error"]["message"], "your scopes in this project do not include labs data");
  EXPECT_EQ(refused->body.find("2160-0"), std::string::npos);
  int denials = 0;
  ASSERT_TRUE(app_->ExportAudit(app::LocalOperator(), before, clock_->Now(), [&](const storage::AuditEvent& e) {
    if (e.actor == reviewer_id && e.object_id == item_id && e.outcome == "denied") ++denials;
    return Status::Ok();
  }).ok());
  EXPECT_EQ(denials, 1);
  // With the labs scope added, the same reviewer reads them.
  ASSERT_EQ(Send("PUT", "/api/v1/projects/" + project_id + "/members/" + reviewer_id, &admin,
                 json{{"roles", {"reviewer"}}, {"scopes", {"notes", "labs"}}}.dump())->status, 200);
  auto allowed = Send("GET", "/api/v1/items/" + item_id + "/labs", &reviewer);
  ASSERT_EQ(allowed->status, 200) << allowed->body;
  EXPECT_EQ(Body(allowed)["results"].size(), 1u);
}

TEST_F(ApiTest, SecurityHeadersAndHealth) {
  auto res = Send("GET", "/healthz", nullptr);
  ASSERT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(res->get_header_value("Referrer-Policy"), "no-referrer");
  EXPECT_NE(res->get_header_value("Content-Security-Policy").find("default-src 'self'"), std::string::npos);
  EXPECT_EQ(Send("GET", "/readyz", nullptr)->status, 200);
  auto api = Send("GET", "/api/v1/projects", nullptr);
  EXPECT_EQ(api->status, 401);
  EXPECT_EQ(api->get_header_value("Cache-Control"), "no-store");
  EXPECT_EQ(Body(api)["error"]["code"], "unauthenticated");
  EXPECT_NE(Send("GET", "/", nullptr)->body.find("Caliper"), std::string::npos);
}

// API answers go gzipped by the server, never Brotli-compressed by cpp-httplib (0.39 s for this
// document; docs/api.md, "Compression"); a client that takes no gzip gets them as they are.
TEST_F(ApiTest, AnswersAreGzippedForClientsThatTakeGzipAndNeverBrotli) {
  httplib::Client c = Client();
  c.set_decompress(false);
  auto gz = c.Get("/api/v1/openapi.json", {{"Accept-Encoding", "gzip, deflate, br, zstd"}});
  ASSERT_TRUE(gz);
  EXPECT_EQ(gz->status, 200);
  EXPECT_EQ(gz->get_header_value("Content-Encoding"), "gzip");
  EXPECT_EQ(gz->get_header_value("Vary"), "Accept-Encoding");
  ASSERT_GE(gz->body.size(), 2u);
  EXPECT_EQ(gz->body.substr(0, 2), "\x1f\x8b");
  auto br = c.Get("/api/v1/openapi.json", {{"Accept-Encoding", "br"}});
  ASSERT_TRUE(br);
  EXPECT_EQ(br->get_header_value("Content-Encoding"), "");
  EXPECT_FALSE(json::parse(br->body, nullptr, false).is_discarded()) << "plain JSON";
  EXPECT_GT(br->body.size(), gz->body.size());
}

TEST_F(ApiTest, OpenApiDocumentsEveryRoute) {
  auto res = Send("GET", "/api/v1/openapi.json", nullptr);
  ASSERT_EQ(res->status, 200);
  json doc = Body(res);
  EXPECT_EQ(doc["openapi"], "3.0.3");
  for (const RouteInfo& r : AllRoutes()) {
    std::string method = r.method;
    std::transform(method.begin(), method.end(), method.begin(), ::tolower);
    ASSERT_TRUE(doc["paths"].contains(r.path)) << r.path;
    ASSERT_TRUE(doc["paths"][r.path].contains(method)) << r.method << " " << r.path;
    EXPECT_EQ(doc["paths"][r.path][method]["x-permission"], security::ToString(r.permission));
  }
  // A mask is NIfTI or a DICOM-SEG.
  const json& mask = doc["paths"]["/api/v1/items/{item_id}/mask"]["put"]["requestBody"]["content"];
  EXPECT_TRUE(mask.contains("application/gzip"));
  EXPECT_TRUE(mask.contains("application/dicom"));
}

TEST_F(ApiTest, ApiTokensReachOnlyTheirProjectAndPermissions) {
  Session admin = Login("admin", admin_password_);
  const std::string p1 = Body(Send("POST", "/api/v1/projects", &admin, json{{"name", "Token home"}}.dump()))["id"];
  const std::string p2 = Body(Send("POST", "/api/v1/projects", &admin, json{{"name", "Token elsewhere"}}.dump()))["id"];
  auto [id, pw] = MakeUser(admin, "scripter");
  for (const auto& p : {p1, p2}) {
    ASSERT_EQ(Send("PUT", "/api/v1/projects/" + p + "/members/" + id, &admin,
                   json{{"roles", {"manager"}}, {"scopes", {"imaging"}}}.dump())->status, 200);
  }
  Session s = Login("scripter", pw);
  auto over = Send("POST", "/api/v1/projects/" + p1 + "/tokens", &s,
                   json{{"name", "too much"}, {"permissions", {"reidentify"}}}.dump());
  EXPECT_EQ(over->status, 403) << "a token never holds more than its user";
  auto token = Send("POST", "/api/v1/projects/" + p1 + "/tokens", &s,
                    json{{"name", "model backend"}, {"permissions", {"item_list", "project_read"}}}.dump());
  ASSERT_EQ(token->status, 201) << token->body;
  const std::string secret = Body(token)["secret"];
  httplib::Headers bearer = {{"Authorization", "Bearer " + secret}};
  auto c = Client();
  EXPECT_EQ(c.Get("/api/v1/projects/" + p1 + "/items", bearer)->status, 200);
  EXPECT_EQ(c.Get("/api/v1/projects/" + p2 + "/items", bearer)->status, 403);
  EXPECT_EQ(c.Post("/api/v1/projects", bearer, json{{"name", "nope"}}.dump(), "application/json")->status, 403);
  const std::string token_id = Body(token)["id"];
  EXPECT_EQ(Send("DELETE", "/api/v1/me/tokens/" + token_id, &s)->status, 204);
  EXPECT_EQ(c.Get("/api/v1/projects/" + p1 + "/items", bearer)->status, 401);
}

TEST_F(ApiTest, HardeningAgainstCommonAttacks) {
  Session admin = Login("admin", admin_password_);
  // Chunked bodies are refused before they are read (cpp-httplib would read them whole).
  {
    auto c = Client();
    httplib::Headers h = Headers(&admin);
    h.emplace("Transfer-Encoding", "chunked");
    auto res = c.Post("/api/v1/projects", h, json{{"name", "chunked"}}.dump(), "application/json");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 411) << res->body;
  }
  // JSON routes take only JSON: a cross-site text/plain form cannot reach them.
  auto form = Send("POST", "/api/v1/auth/login", nullptr,
                   json{{"username", "admin"}, {"password", admin_password_}}.dump(), "text/plain");
  EXPECT_EQ(form->status, 415);

  const std::string project_id = Body(Send("POST", "/api/v1/projects", &admin, json{{"name", "Hardening"}}.dump()))["id"];
  auto [manager_id, manager_pw] = MakeUser(admin, "h-manager");
  auto [reader_id, reader_pw] = MakeUser(admin, "h-reader");
  auto [other_id, other_pw] = MakeUser(admin, "h-other");
  auto put = [&](const Session& by, const std::string& id, std::vector<std::string> roles) {
    return Send("PUT", "/api/v1/projects/" + project_id + "/members/" + id, &by,
                json{{"roles", roles}, {"scopes", {"notes"}}}.dump());
  };
  ASSERT_EQ(put(admin, manager_id, {"manager"})->status, 200);
  Session manager = Login("h-manager", manager_pw);
  // Separation of duties: no self-promotion, and stewards and auditors come from an admin.
  EXPECT_EQ(put(manager, manager_id, {"manager", "data_steward"})->status, 403);
  EXPECT_EQ(put(manager, reader_id, {"annotator", "data_steward"})->status, 403);
  ASSERT_EQ(put(admin, reader_id, {"annotator", "data_steward"})->status, 200);
  ASSERT_EQ(put(manager, other_id, {"annotator"})->status, 200);

  // Uploaded HTML is never served as HTML.
  PublishGuideline(manager, project_id, {"finding"});
  httplib::MultipartFormDataItems parts = {
      {"metadata", json{{"data_type", "notes"}, {"patient_key", "pt-h"}}.dump(), "", "application/json"},
      {"content", "<script>alert(1)</script>", "x.html", "text/html"}};
  auto item = Client().Post("/api/v1/projects/" + project_id + "/items", Headers(&manager), parts);
  ASSERT_EQ(item->status, 201) << item->body;
  const std::string item_id = Body(item)["id"];
  EXPECT_EQ(Body(item)["content_type"], "application/octet-stream");
  for (const auto& id : {reader_id, other_id}) {
    ASSERT_EQ(Send("POST", "/api/v1/items/" + item_id + "/assignments", &manager, json{{"user_id", id}}.dump())->status, 201);
  }
  Session reader = Login("h-reader", reader_pw), other = Login("h-other", other_pw);
  auto content = Send("GET", "/api/v1/items/" + item_id + "/content", &reader);
  ASSERT_EQ(content->status, 200);
  EXPECT_EQ(content->get_header_value("Content-Type"), "application/octet-stream");
  bool sandboxed = false;
  for (const auto& [k, v] : content->headers) sandboxed |= k == "Content-Security-Policy" && v.find("sandbox") != std::string::npos;
  EXPECT_TRUE(sandboxed);

  // Blinding holds for an annotator who also holds a role that may not read labels.
  auto label = Send("POST", "/api/v1/items/" + item_id + "/annotations", &other,
                    json{{"evidence", {{"kind", "span"}}}, {"label", {{"class", "finding"}}}}.dump());
  ASSERT_EQ(label->status, 201) << label->body;
  EXPECT_TRUE(Body(Send("GET", "/api/v1/items/" + item_id + "/annotations", &reader))["data"].empty());

  // API tokens act only inside their project permissions: not as the person, not to mint tokens.
  auto token = Send("POST", "/api/v1/projects/" + project_id + "/tokens", &manager,
                    json{{"name", "script"}, {"permissions", {"item_list", "token_create"}}}.dump());
  ASSERT_EQ(token->status, 201) << token->body;
  httplib::Headers bearer = {{"Authorization", "Bearer " + Body(token)["secret"].get<std::string>()}};
  auto c = Client();
  EXPECT_EQ(c.Get("/api/v1/projects/" + project_id + "/items", bearer)->status, 200);
  EXPECT_EQ(c.Get("/api/v1/me/tokens", bearer)->status, 403);
  EXPECT_EQ(c.Post("/api/v1/me/password", bearer,
                   json{{"current_password", manager_pw}, {"new_password", "taken over 12345"}}.dump(),
                   "application/json")->status, 403);
  auto minted = c.Post("/api/v1/projects/" + project_id + "/tokens", bearer,
                       json{{"name", "wider"}, {"permissions", {"member_manage"}}}.dump(), "application/json");
  EXPECT_EQ(minted->status, 403) << minted->body;
}

TEST_F(ApiTest, AuditChainVerifiesAfterEverything) {
  Session admin = Login("admin", admin_password_);
  auto res = Send("GET", "/api/v1/audit/verify", &admin);
  ASSERT_EQ(res->status, 200);
  EXPECT_TRUE(Body(res)["ok"].get<bool>()) << res->body;
  EXPECT_GT(Body(res)["events"].get<int>(), 1);
}

}  // namespace
}  // namespace caliper::http

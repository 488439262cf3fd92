// The labelling workflow through the HTTP API over loopback: guideline versions and label
// pinning, atomic claims under 50 concurrent clients, leases (FakeClock), blinding of tasks,
// and the review / adjudication state machine with its forbidden transitions and roles.

#include <gtest/gtest.h>
#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "caliper/app/app.h"
#include "caliper/core/rules.h"
#include "caliper/http/server.h"
#include "http/test_server.h"

namespace caliper::http {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kPassword = "workflow-test-passphrase-1";

struct Session {
  std::string cookie;
  std::string csrf;
  std::string user_id;
};

json LabelSchema(const std::vector<std::string>& classes) {
  json out = json::array();
  for (const auto& c : classes) {
    out.push_back(json{{"id", c}, {"name", c}, {"kind", "classification"}, {"definition", "what " + c + " means"}});
  }
  return json{{"classes", out}};
}

json Label(const std::string& cls, const std::string& guideline_id = "") {
  json body{{"evidence", {{"kind", "document"}}}, {"label", {{"class", cls}}}};
  if (!guideline_id.empty()) body["guideline_version_id"] = guideline_id;
  return body;
}

class WorkflowTest : public ::testing::Test {
 protected:
  // Starts the server from the first test's SetUp: a failure fails that test (in
  // SetUpTestSuite, gtest would report every test as skipped).
  void SetUp() override {
    if (harness_ == nullptr) {
      ServerOptions server_options;
      server_options.threads = 64;
      auto harness = std::make_unique<TestServer>();
      Status started = harness->Start("caliper_workflow_test", server_options);
      ASSERT_TRUE(started.ok()) << started.ToString();
      harness_ = harness.release();
      clock_ = &harness_->clock();
      app_ = &harness_->app();
    }
  }

  static void TearDownTestSuite() { delete harness_; }

  static httplib::Result Send(const std::string& method, const std::string& path, const Session* s,
                              const json& body = nullptr, httplib::Headers extra = {}) {
    httplib::Client c("127.0.0.1", harness_->port());
    c.set_read_timeout(60, 0);
    httplib::Headers h = extra;
    if (s != nullptr) {
      h.emplace("Cookie", s->cookie);
      h.emplace("X-CSRF-Token", s->csrf);
    }
    const std::string text = body.is_null() ? "" : body.dump();
    if (method == "GET") return c.Get(path, h);
    if (method == "PUT") return c.Put(path, h, text, "application/json");
    return c.Post(path, h, text, "application/json");
  }

  static json Body(const httplib::Result& res) { return json::parse(res->body, nullptr, false); }

  // A user with a chosen password (so no forced change), a member with `roles`.
  static Session Member(const std::string& username, const std::string& project_id, const std::vector<core::Role>& roles,
                        std::vector<core::Qualification> qualifications = {}) {
    app::NewUser spec;
    spec.username = username;
    spec.password = kPassword;
    spec.qualifications = std::move(qualifications);
    auto user = app_->CreateUser(app::LocalOperator(), spec);
    EXPECT_TRUE(user.ok()) << user.status().ToString();
    EXPECT_TRUE(app_->PutMember(app::LocalOperator(), project_id, user->user.id, roles,
                                {core::DataType::kNotes, core::DataType::kImaging}).ok());
    auto res = Send("POST", "/api/v1/auth/login", nullptr, json{{"username", username}, {"password", kPassword}});
    EXPECT_EQ(res->status, 200) << res->body;
    std::string set_cookie = res->get_header_value("Set-Cookie");
    return {set_cookie.substr(0, set_cookie.find(';')), Body(res).value("csrf_token", ""), user->user.id};
  }

  static std::string Project(const std::string& name) {
    auto p = app_->CreateProject(app::LocalOperator(), name, "");
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    return p->id;
  }

  static std::string Item(const std::string& project_id, int n) {
    app::NewItem spec;
    spec.data_type = core::DataType::kNotes;
    spec.patient_key = "pt-" + std::to_string(n);
    std::istringstream content("synthetic note " + std::to_string(n));
    auto item = app_->CreateItem(app::LocalOperator(), project_id, spec, content);
    EXPECT_TRUE(item.ok()) << item.status().ToString();
    return item->id;
  }

  // Creates and publishes a guideline with `classes` (or a whole label schema); returns its id.
  static std::string Publish(const Session& manager, const std::string& project_id,
                             const std::vector<std::string>& classes) {
    return PublishSchema(manager, project_id, LabelSchema(classes));
  }
  static std::string PublishSchema(const Session& manager, const std::string& project_id, const json& schema) {
    const std::string base = "/api/v1/projects/" + project_id + "/guidelines";
    auto draft = Send("POST", base, &manager, json{{"schema", schema}});
    EXPECT_EQ(draft->status, 201) << draft->body;
    const std::string id = Body(draft)["id"];
    auto published = Send("POST", base + "/" + id + "/publish", &manager, nullptr,
                          {{"If-Match", draft->get_header_value("ETag")}});
    EXPECT_EQ(published->status, 200) << published->body;
    return id;
  }

  static int AuditCount(const std::string& action, const std::string& object_id = "") {
    int n = 0;
    EXPECT_TRUE(app_->ExportAudit(app::LocalOperator(), 0, clock_->Now() + 24 * kMicrosPerHour, [&](const storage::AuditEvent& e) {
      if (e.action == action && (object_id.empty() || e.object_id == object_id)) ++n;
      return Status::Ok();
    }).ok());
    return n;
  }

  static inline TestServer* harness_ = nullptr;  // owns the deployment and the server
  static inline FakeClock* clock_ = nullptr;
  static inline app::App* app_ = nullptr;
};

TEST_F(WorkflowTest, GuidelinesAreVersionedAndEveryLabelIsPinned) {
  const std::string p = Project("Guidelines");
  Session manager = Member("g-manager", p, {core::Role::kManager});
  Session reader = Member("g-reader", p, {core::Role::kAnnotator});
  const std::string item = Item(p, 1);
  ASSERT_EQ(app_->AssignItem(app::LocalOperator(), item, reader.user_id).status().code(), ErrorCode::kOk);
  const std::string base = "/api/v1/projects/" + p + "/guidelines";

  // No published guideline: labels are refused.
  auto early = Send("POST", "/api/v1/items/" + item + "/annotations", &reader, Label("pneumonia"));
  EXPECT_EQ(early->status, 409) << early->body;

  // Validation names the class and the field.
  json bad = LabelSchema({"pneumonia", "effusion"});
  bad["classes"][1]["kind"] = "blob";
  auto refused = Send("POST", base, &manager, json{{"schema", bad}});
  ASSERT_EQ(refused->status, 400);
  EXPECT_NE(Body(refused)["error"]["message"].get<std::string>().find("class 'effusion' (classes[1]): field 'kind'"),
            std::string::npos)
      << refused->body;

  auto draft = Send("POST", base, &manager, json{{"schema", LabelSchema({"pneumonia"})}});
  ASSERT_EQ(draft->status, 201) << draft->body;
  const std::string v1 = Body(draft)["id"];
  EXPECT_TRUE(Body(draft)["version"].is_null());
  EXPECT_EQ(Send("POST", base, &manager, json{{"schema", LabelSchema({"x"})}})->status, 409) << "one draft at a time";
  EXPECT_EQ(Send("PUT", base + "/" + v1, &manager, json{{"schema", LabelSchema({"pneumonia", "effusion"})}})->status,
            412)
      << "a draft edit needs If-Match";
  auto edited = Send("PUT", base + "/" + v1, &manager, json{{"schema", LabelSchema({"pneumonia", "effusion"})}},
                     {{"If-Match", draft->get_header_value("ETag")}});
  ASSERT_EQ(edited->status, 200) << edited->body;
  EXPECT_EQ(Send("POST", base + "/" + v1 + "/publish", &manager, nullptr,
                 {{"If-Match", draft->get_header_value("ETag")}})->status,
            412)
      << "stale ETag";
  auto published = Send("POST", base + "/" + v1 + "/publish", &manager, nullptr,
                        {{"If-Match", edited->get_header_value("ETag")}});
  ASSERT_EQ(published->status, 200) << published->body;
  EXPECT_EQ(Body(published)["version"], 1);
  EXPECT_EQ(Body(published)["status"], "published");
  EXPECT_EQ(Send("POST", base + "/" + v1 + "/publish", &manager)->status, 409);
  EXPECT_EQ(Send("POST", base, &reader, json{{"schema", LabelSchema({"x"})}})->status, 403);

  // Labels are pinned to version 1 and must use its classes.
  auto label = Send("POST", "/api/v1/items/" + item + "/annotations", &reader, Label("pneumonia"));
  ASSERT_EQ(label->status, 201) << label->body;
  EXPECT_EQ(Body(label)["guideline_version_id"], v1);
  auto unknown = Send("POST", "/api/v1/items/" + item + "/annotations", &reader, Label("nodule"));
  EXPECT_EQ(unknown->status, 400);
  EXPECT_NE(unknown->body.find("not in guideline version 1"), std::string::npos) << unknown->body;

  // Editing a published version makes a new draft; the published one never changes.
  auto v2_draft = Send("PUT", base + "/" + v1, &manager, json{{"schema", LabelSchema({"effusion", "nodule"})}});
  ASSERT_EQ(v2_draft->status, 201) << v2_draft->body;
  const std::string v2 = Body(v2_draft)["id"];
  EXPECT_EQ(Body(v2_draft)["based_on"], v1);
  EXPECT_EQ(Body(Send("GET", base + "/" + v1, &reader))["schema"], LabelSchema({"pneumonia", "effusion"}));
  auto diff = Send("GET", base + "/" + v2 + "/diff/" + v1, &reader);
  ASSERT_EQ(diff->status, 200) << diff->body;
  EXPECT_EQ(Body(diff)["classes"], json::parse(R"([{"id":"nodule","change":"added","fields":[]},
                                                   {"id":"pneumonia","change":"removed","fields":[]}])"));
  ASSERT_EQ(Send("POST", base + "/" + v2 + "/publish", &manager, nullptr,
                 {{"If-Match", v2_draft->get_header_value("ETag")}})->status,
            200);
  EXPECT_EQ(Send("POST", "/api/v1/items/" + item + "/annotations", &reader, Label("nodule", v1))->status, 409)
      << "a client still on version 1 is told to reload";
  auto pinned = Send("POST", "/api/v1/items/" + item + "/annotations", &reader, Label("nodule", v2));
  ASSERT_EQ(pinned->status, 201) << pinned->body;
  EXPECT_EQ(Body(pinned)["guideline_version_id"], v2);
  EXPECT_EQ(Body(Send("GET", base, &manager))["data"].size(), 2u);
  EXPECT_EQ(AuditCount("guideline.publish"), 2);
}

TEST_F(WorkflowTest, AProjectFileMakesTheProjectItsGuidelineAndSettingsOverTheApi) {
  app::NewUser spec;
  spec.username = "pf-admin";
  spec.password = kPassword;
  spec.is_admin = true;
  ASSERT_TRUE(app_->CreateUser(app::LocalOperator(), spec).ok());
  auto login = Send("POST", "/api/v1/auth/login", nullptr, json{{"username", "pf-admin"}, {"password", kPassword}});
  ASSERT_EQ(login->status, 200) << login->body;
  const std::string set_cookie = login->get_header_value("Set-Cookie");
  const Session admin{set_cookie.substr(0, set_cookie.find(';')), Body(login).value("csrf_token", ""), ""};

  json file = {{"caliper_project", 1},
               {"name", "Project file over HTTP"},
               {"guideline", LabelSchema({"pneumonia", "effusion"})},
               {"workflow", {{"readers_per_item", 2}, {"data_types", {"notes"}}, {"lease_minutes", 10}}},
               {"text", {{"deid_mode", "tag"}}}};
  auto made = Send("POST", "/api/v1/project-files", &admin, file);
  ASSERT_EQ(made->status, 201) << made->body;
  const json body = Body(made);
  const std::string p = body["project"]["id"];
  EXPECT_EQ(body["guideline"]["status"], "published");
  EXPECT_EQ(body["workflow"]["readers_per_item"], 2);
  EXPECT_EQ(body["text"]["deid_mode"], "tag");
  auto workflow = Send("GET", "/api/v1/projects/" + p + "/workflow", &admin);
  ASSERT_EQ(workflow->status, 200) << workflow->body;
  EXPECT_EQ(Body(workflow)["lease_minutes"], 10);
  EXPECT_EQ(Body(workflow)["data_types"], json::array({"notes"}));
  EXPECT_EQ(AuditCount("guideline.publish", body["guideline"]["id"]), 1);

  // Refused parts answer 400 naming the member, and create nothing.
  file["name"] = "Never made";
  file["workflow"]["readers_per_item"] = "two";
  auto bad = Send("POST", "/api/v1/project-files", &admin, file);
  ASSERT_EQ(bad->status, 400) << bad->body;
  EXPECT_EQ(Body(bad)["error"]["message"], "field 'workflow.readers_per_item' must be a whole number");
  file["workflow"]["readers_per_item"] = 2;
  file["guideline"]["classes"][0]["kind"] = "blob";
  EXPECT_EQ(Send("POST", "/api/v1/project-files", &admin, file)->status, 400);
  auto projects = app_->ListProjects(app::LocalOperator(), {"", 500});
  ASSERT_TRUE(projects.ok());
  for (const auto& row : projects->rows) EXPECT_NE(row.name, "Never made");

  // Only those who may create projects may send one.
  Session manager = Member("pf-manager", p, {core::Role::kManager});
  EXPECT_EQ(Send("POST", "/api/v1/project-files", &manager, file)->status, 403);
}

TEST_F(WorkflowTest, ReviewersNoteWhereTheGuidelineDidNotFitAndManagersSeeItCountedByClass) {
  const std::string p = Project("Guideline feedback");
  Session manager = Member("gf-manager", p, {core::Role::kManager});
  Session reviewer = Member("gf-reviewer", p, {core::Role::kReviewer});
  Session adjudicator = Member("gf-adjudicator", p, {core::Role::kAdjudicator});
  Session reader = Member("gf-reader", p, {core::Role::kAnnotator});
  const std::string item1 = Item(p, 1), item2 = Item(p, 2);
  auto feedback = [&](const Session& who, const std::string& item, json body) {
    return Send("POST", "/api/v1/items/" + item + "/guideline-feedback", &who, body);
  };
  const json missing_edge = {{"class", "pneumonia"}, {"kind", "missing_edge_case"}, {"note", "aspiration?"}};

  auto early = feedback(reviewer, item1, missing_edge);
  EXPECT_EQ(early->status, 409) << "no published guideline yet: " << early->body;
  const std::string v1 = Publish(manager, p, {"pneumonia", "effusion"});

  auto made = feedback(reviewer, item1, missing_edge);
  ASSERT_EQ(made->status, 201) << made->body;
  EXPECT_EQ(Body(made)["guideline_version_id"], v1);
  EXPECT_EQ(Body(made)["kind"], "missing_edge_case");
  ASSERT_EQ(feedback(adjudicator, item2, missing_edge)->status, 201);
  ASSERT_EQ(feedback(adjudicator, item2, {{"class", "effusion"}, {"kind", "unclear_definition"}})->status, 201);
  EXPECT_EQ(AuditCount("guideline.feedback", item2), 2);

  // Readers do not write feedback; classes and kinds are checked.
  EXPECT_EQ(feedback(reader, item1, missing_edge)->status, 403);
  auto unknown_class = feedback(reviewer, item1, {{"class", "fracture"}, {"kind", "other"}});
  EXPECT_EQ(unknown_class->status, 400);
  EXPECT_NE(Body(unknown_class)["error"]["message"].get<std::string>().find("'fracture' is not in guideline version 1"),
            std::string::npos);
  EXPECT_EQ(feedback(reviewer, item1, {{"class", "pneumonia"}, {"kind", "typo"}})->status, 400);
  EXPECT_EQ(feedback(reviewer, item1, {{"class", "pneumonia"}, {"kind", "other"}, {"note", std::string(4001, 'x')}})
                ->status,
            400);

  // Managers see it counted: pneumonia's missing edge case recurs on two items.
  const std::string url = "/api/v1/projects/" + p + "/guideline-feedback";
  auto report = Send("GET", url, &manager);
  ASSERT_EQ(report->status, 200) << report->body;
  const json r = Body(report);
  ASSERT_EQ(r["classes"].size(), 2u) << r.dump();
  EXPECT_EQ(r["classes"][0]["class"], "pneumonia");
  EXPECT_EQ(r["classes"][0]["total"], 2);
  EXPECT_EQ(r["classes"][0]["items"], 2);
  EXPECT_EQ(r["classes"][0]["kinds"]["missing_edge_case"], 2);
  EXPECT_EQ(r["classes"][0]["recurring"], true);
  EXPECT_EQ(r["classes"][1]["class"], "effusion");
  EXPECT_EQ(r["classes"][1]["recurring"], false);
  EXPECT_EQ(r["entries"].size(), 3u);
  EXPECT_EQ(Send("GET", url, &reviewer)->status, 403) << "the counts are for those who edit the guideline";

  // Per version: a new version starts with no feedback.
  const std::string v2 = Publish(manager, p, {"pneumonia", "effusion", "atelectasis"});
  auto v2_report = Send("GET", url + "?version=" + v2, &manager);
  ASSERT_EQ(v2_report->status, 200) << v2_report->body;
  EXPECT_TRUE(Body(v2_report)["classes"].empty());
  EXPECT_EQ(Body(Send("GET", url + "?version=" + v1, &manager))["entries"].size(), 3u);
  EXPECT_EQ(Send("GET", url + "?version=gdl_00000000000000000000000000", &manager)->status, 404);
}

TEST_F(WorkflowTest, FiftyConcurrentClientsNeverShareATaskOrAnItem) {
  constexpr int kItems = 40, kReaders = 5, kThreads = 50, kReadersPerItem = 3;
  const std::string p = Project("Concurrency");
  Session manager = Member("c-manager", p, {core::Role::kManager});
  std::vector<Session> readers;
  for (int r = 0; r < kReaders; ++r) readers.push_back(Member("c-reader" + std::to_string(r), p, {core::Role::kAnnotator}));
  for (int i = 0; i < kItems; ++i) Item(p, i);
  ASSERT_EQ(Send("PUT", "/api/v1/projects/" + p + "/workflow", &manager,
                 json{{"readers_per_item", kReadersPerItem}, {"lease_minutes", 60}})->status,
            200);
  auto created = Send("POST", "/api/v1/projects/" + p + "/tasks", &manager, json::object());
  ASSERT_EQ(created->status, 201) << created->body;
  ASSERT_EQ(Body(created)["data"].size(), static_cast<std::size_t>(kItems * kReadersPerItem));

  struct Claim {
    int reader;
    std::string task_id, item_id;
  };
  std::mutex mu;
  std::vector<Claim> claims;
  std::vector<std::string> failures;
  std::vector<double> latencies_ms;
  const auto started = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const int reader = t % kReaders;
      for (;;) {
        const auto before = std::chrono::steady_clock::now();
        auto res = Send("POST", "/api/v1/projects/" + p + "/tasks/next", &readers[reader]);
        const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - before).count();
        std::lock_guard<std::mutex> lock(mu);
        latencies_ms.push_back(ms);
        if (!res) {
          failures.push_back("no answer");
          return;
        }
        if (res->status == 204) return;
        if (res->status != 200) {
          failures.push_back(std::to_string(res->status) + " " + res->body);
          return;
        }
        json task = json::parse(res->body);
        claims.push_back({reader, task["id"], task["item_id"]});
      }
    });
  }
  for (auto& th : threads) th.join();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  ASSERT_TRUE(failures.empty()) << failures.front();

  // On the results: every task once, no reader with the same item twice, every task claimed
  // (5 readers x 40 items leave room for all 120).
  std::set<std::string> tasks;
  std::map<int, std::set<std::string>> items_of_reader;
  for (const auto& c : claims) {
    EXPECT_TRUE(tasks.insert(c.task_id).second) << "task " << c.task_id << " went to two claims";
    EXPECT_TRUE(items_of_reader[c.reader].insert(c.item_id).second) << "reader " << c.reader << " got an item twice";
  }
  EXPECT_EQ(claims.size(), static_cast<std::size_t>(kItems * kReadersPerItem));
  // In the store: each task is claimed by the reader who was told so.
  std::map<std::string, std::string> holder;
  for (const auto& c : claims) holder[c.task_id] = readers[c.reader].user_id;
  auto all = Send("GET", "/api/v1/projects/" + p + "/tasks?limit=500", &manager);
  ASSERT_EQ(all->status, 200);
  ASSERT_EQ(Body(all)["data"].size(), static_cast<std::size_t>(kItems * kReadersPerItem)) << all->body.substr(0, 300);
  std::map<std::string, std::set<std::string>> readers_of_item;
  const json listed = Body(all);
  for (const auto& t : listed["data"]) {
    EXPECT_EQ(t["state"], "claimed");
    EXPECT_EQ(t["assignee"], holder[t["id"]]) << t.dump();
    EXPECT_TRUE(readers_of_item[t["item_id"]].insert(t["assignee"].get<std::string>()).second);
  }
  EXPECT_EQ(readers_of_item.size(), static_cast<std::size_t>(kItems));
  EXPECT_EQ(AuditCount("task.claim"), kItems * kReadersPerItem);
  std::sort(latencies_ms.begin(), latencies_ms.end());
  std::printf("[ figures  ] %zu claims + %zu empty answers by %d clients (%d readers) in %.2f s: %.0f requests/s, "
              "p50 %.1f ms, p99 %.1f ms\n",
              claims.size(), latencies_ms.size() - claims.size(), kThreads, kReaders, seconds,
              static_cast<double>(latencies_ms.size()) / seconds, latencies_ms[latencies_ms.size() / 2],
              latencies_ms[latencies_ms.size() * 99 / 100]);
}

TEST_F(WorkflowTest, AnIdleLeaseReturnsTheTaskToThePool) {
  const std::string p = Project("Leases");
  Session manager = Member("l-manager", p, {core::Role::kManager});
  Session a = Member("l-reader-a", p, {core::Role::kAnnotator});
  Session b = Member("l-reader-b", p, {core::Role::kAnnotator});
  Publish(manager, p, {"finding"});
  const std::string item = Item(p, 1);
  ASSERT_EQ(Send("PUT", "/api/v1/projects/" + p + "/workflow", &manager, json{{"lease_minutes", 10}})->status, 200);
  ASSERT_EQ(Send("POST", "/api/v1/projects/" + p + "/tasks", &manager, json{{"item_ids", {item}}})->status, 201);
  auto claimed = Send("POST", "/api/v1/projects/" + p + "/tasks/next", &a);
  ASSERT_EQ(claimed->status, 200) << claimed->body;
  const std::string task = Body(claimed)["id"];
  EXPECT_EQ(Send("POST", "/api/v1/projects/" + p + "/tasks/next", &b)->status, 204) << "k = 1: nothing left";

  // Activity extends the lease: 6 + 6 minutes with a label in between keeps it.
  clock_->Advance(6 * kMicrosPerMinute);
  ASSERT_EQ(Send("POST", "/api/v1/items/" + item + "/annotations", &a, Label("finding"))->status, 201);
  clock_->Advance(6 * kMicrosPerMinute);
  EXPECT_EQ(Send("POST", "/api/v1/projects/" + p + "/tasks/next", &b)->status, 204);

  // 10 idle minutes: the task goes back to the pool, and A can no longer submit.
  clock_->Advance(5 * kMicrosPerMinute);
  EXPECT_EQ(Send("POST", "/api/v1/projects/" + p + "/tasks/" + task + "/submit", &a)->status, 409);
  EXPECT_EQ(Send("POST", "/api/v1/items/" + item + "/annotations", &a, Label("finding"))->status, 409);
  auto taken = Send("POST", "/api/v1/projects/" + p + "/tasks/next", &b);
  ASSERT_EQ(taken->status, 200) << taken->body;
  EXPECT_EQ(Body(taken)["id"], task);
  EXPECT_EQ(Body(taken)["assignee"], b.user_id);
  EXPECT_EQ(AuditCount("task.lease_expire", task), 1);
  EXPECT_EQ(Send("POST", "/api/v1/projects/" + p + "/tasks/" + task + "/submit", &a)->status, 403)
      << "A holds no task of the item any more";
  EXPECT_EQ(Send("POST", "/api/v1/projects/" + p + "/tasks/" + task + "/submit", &b)->status, 400)
      << "B has no label yet";
  ASSERT_EQ(Send("POST", "/api/v1/items/" + item + "/annotations", &b, Label("finding"))->status, 201);
  auto released = Send("POST", "/api/v1/projects/" + p + "/tasks/" + task + "/release", &b);
  ASSERT_EQ(released->status, 200) << released->body;
  EXPECT_EQ(Body(released)["state"], "open");
  EXPECT_EQ(Send("POST", "/api/v1/projects/" + p + "/tasks/" + task + "/release", &b)->status, 404);
}

TEST_F(WorkflowTest, QualificationAndScopeDecideWhoGetsTasks) {
  const std::string p = Project("Qualified");
  Session manager = Member("q-manager", p, {core::Role::kManager});
  Session general = Member("q-general", p, {core::Role::kAnnotator}, {core::Qualification::kGeneralAnnotator});
  Session radiologist = Member("q-radiologist", p, {core::Role::kAnnotator}, {core::Qualification::kRadiologist});
  Item(p, 1);
  ASSERT_EQ(Send("PUT", "/api/v1/projects/" + p + "/workflow", &manager,
                 json{{"required_qualification", "radiologist"}, {"data_types", {"imaging"}}})->status,
            200);
  auto none = Send("POST", "/api/v1/projects/" + p + "/tasks", &manager, json::object());
  EXPECT_EQ(Body(none)["data"].size(), 0u) << "the notes item is outside the task data types";
  EXPECT_EQ(Send("POST", "/api/v1/projects/" + p + "/tasks/next", &general)->status, 403);
  EXPECT_EQ(Send("POST", "/api/v1/projects/" + p + "/tasks/next", &radiologist)->status, 204);
  EXPECT_EQ(Send("PUT", "/api/v1/projects/" + p + "/workflow", &manager, json{{"readers_per_item", 0}})->status, 400);
  EXPECT_EQ(Send("PUT", "/api/v1/projects/" + p + "/workflow", &general, json::object())->status, 403);
}

TEST_F(WorkflowTest, ReviewAndAdjudicationFollowTheStateMachine) {
  const std::string p = Project("Review");
  Session manager = Member("r-manager", p, {core::Role::kManager});
  std::vector<Session> readers = {Member("r-reader1", p, {core::Role::kAnnotator}),
                                  Member("r-reader2", p, {core::Role::kAnnotator}),
                                  Member("r-reader3", p, {core::Role::kAnnotator})};
  Session reviewer = Member("r-reviewer", p, {core::Role::kReviewer});
  Session adjudicator = Member("r-adjudicator", p, {core::Role::kAdjudicator});
  Publish(manager, p, {"pneumonia", "normal"});
  const std::string item = Item(p, 1);
  ASSERT_EQ(Send("PUT", "/api/v1/projects/" + p + "/workflow", &manager, json{{"readers_per_item", 3}})->status, 200);
  ASSERT_EQ(Send("POST", "/api/v1/projects/" + p + "/tasks", &manager, json::object())->status, 201);
  const std::string tasks = "/api/v1/projects/" + p + "/tasks/";
  std::vector<std::string> task_of, label_of;
  for (int r = 0; r < 3; ++r) {
    auto claimed = Send("POST", tasks + "next", &readers[r]);
    ASSERT_EQ(claimed->status, 200) << claimed->body;
    task_of.push_back(Body(claimed)["id"]);
    auto label = Send("POST", "/api/v1/items/" + item + "/annotations", &readers[r], Label(r == 1 ? "normal" : "pneumonia"));
    ASSERT_EQ(label->status, 201) << label->body;
    label_of.push_back(Body(label)["id"]);
  }
  auto review = [&](const Session& s, int r, json body) { return Send("POST", tasks + task_of[r] + "/reviews", &s, body); };

  // Blinding extends to tasks: a reader sees only their own.
  auto mine = Body(Send("GET", "/api/v1/projects/" + p + "/tasks", &readers[0]))["data"];
  ASSERT_EQ(mine.size(), 1u);
  EXPECT_EQ(mine[0]["id"], task_of[0]);
  EXPECT_EQ(Send("GET", tasks + task_of[1], &readers[0])->status, 404);
  EXPECT_EQ(Send("POST", tasks + task_of[1] + "/submit", &readers[0])->status, 404);
  EXPECT_EQ(Body(Send("GET", "/api/v1/projects/" + p + "/tasks", &reviewer))["data"].size(), 3u);

  // Nothing to review before a submit; readers and adjudicators may not review (403).
  EXPECT_EQ(review(reviewer, 0, {{"decision", "accept"}})->status, 409);
  for (int r = 0; r < 3; ++r) ASSERT_EQ(Send("POST", tasks + task_of[r] + "/submit", &readers[r])->status, 200);
  EXPECT_EQ(Send("POST", tasks + task_of[0] + "/submit", &readers[0])->status, 409) << "submitted already";
  EXPECT_EQ(Send("POST", "/api/v1/items/" + item + "/annotations", &readers[0], Label("pneumonia"))->status, 409)
      << "no labels after submit";
  EXPECT_EQ(review(readers[1], 0, {{"decision", "accept"}})->status, 403);
  EXPECT_EQ(review(adjudicator, 0, {{"decision", "accept"}})->status, 403);
  EXPECT_EQ(review(reviewer, 0, {{"decision", "approve"}})->status, 400);

  // accept
  auto accepted = review(reviewer, 0, {{"decision", "accept"}});
  ASSERT_EQ(accepted->status, 201) << accepted->body;
  EXPECT_EQ(Body(accepted)["task"]["state"], "accepted");
  EXPECT_EQ(review(reviewer, 0, {{"decision", "reject"}, {"reason_code", "wrong_class"}})->status, 409)
      << "accepted is final";
  EXPECT_TRUE(Body(accepted)["review"]["reason_code"].is_null());

  // reject needs a reason code of the list (docs/workflow.md, "Reason codes"); an unknown one is
  // refused with the list; "other" needs a note; only a rejection has a code. Nothing is stored.
  EXPECT_EQ(review(reviewer, 1, {{"decision", "reject"}})->status, 400);
  EXPECT_EQ(review(reviewer, 1, {{"decision", "reject"}, {"reason", "wrong_class"}})->status, 400)
      << "the code is not free text";
  auto unknown = review(reviewer, 1, {{"decision", "reject"}, {"reason_code", "sloppy"}});
  ASSERT_EQ(unknown->status, 400);
  const std::string refusal = Body(unknown)["error"]["message"];
  for (const core::RejectReason r : core::AllRejectReasons()) {
    EXPECT_NE(refusal.find(core::ToString(r)), std::string::npos) << refusal;
  }
  EXPECT_NE(refusal.find("sloppy"), std::string::npos) << refusal;
  const json openapi = Body(Send("GET", "/api/v1/openapi.json", nullptr));
  const json codes = openapi["paths"]["/api/v1/projects/{project_id}/tasks/{task_id}/reviews"]["post"]["requestBody"]
                            ["content"]["application/json"]["schema"]["properties"]["reason_code"]["enum"];
  ASSERT_EQ(codes.size(), core::AllRejectReasons().size()) << "OpenAPI lists the codes";
  EXPECT_EQ(codes[0], "wrong_class");
  EXPECT_EQ(review(reviewer, 1, {{"decision", "reject"}, {"reason_code", "other"}})->status, 400) << "other needs a note";
  EXPECT_EQ(review(reviewer, 1, {{"decision", "reject"}, {"reason_code", 3}})->status, 400);
  EXPECT_EQ(review(reviewer, 1, {{"decision", "accept"}, {"reason_code", "wrong_class"}})->status, 400);
  EXPECT_EQ(Body(Send("GET", tasks + task_of[1] + "/reviews", &readers[1]))["data"].size(), 0u);

  // A rejection sends the reading back to its reader, who gets it first and reads why.
  auto rejected = review(reviewer, 1, {{"decision", "reject"}, {"reason_code", "wrong_class"},
                                       {"reason", "this is a normal study"}});
  ASSERT_EQ(rejected->status, 201) << rejected->body;
  EXPECT_EQ(Body(rejected)["task"]["state"], "rejected");
  EXPECT_EQ(Body(rejected)["review"]["reason_code"], "wrong_class");
  EXPECT_EQ(Body(rejected)["review"]["reason"], "this is a normal study");
  auto why = Send("GET", tasks + task_of[1] + "/reviews", &readers[1]);
  ASSERT_EQ(why->status, 200) << why->body;
  ASSERT_EQ(Body(why)["data"].size(), 1u);
  EXPECT_EQ(Body(why)["data"][0]["decision"], "reject");
  EXPECT_EQ(Body(why)["data"][0]["reason_code"], "wrong_class");
  EXPECT_EQ(Body(why)["data"][0]["reason"], "this is a normal study");
  EXPECT_EQ(Send("GET", tasks + task_of[1] + "/reviews", &readers[0])->status, 404) << "blinding: not your reading";
  EXPECT_EQ(AuditCount("review.list", task_of[1]), 2);
  auto back = Send("POST", tasks + "next", &readers[1]);
  ASSERT_EQ(back->status, 200) << back->body;
  EXPECT_EQ(Body(back)["id"], task_of[1]);
  EXPECT_EQ(Body(back)["state"], "claimed");
  ASSERT_EQ(Send("POST", tasks + task_of[1] + "/submit", &readers[1])->status, 200);

  // correct: a new label version, the original kept.
  auto corrected = review(reviewer, 2, {{"decision", "correct"}, {"annotation_id", label_of[2]},
                                        {"correction", Label("normal")}});
  ASSERT_EQ(corrected->status, 201) << corrected->body;
  EXPECT_EQ(Body(corrected)["task"]["state"], "accepted");
  EXPECT_EQ(Body(corrected)["correction"]["label"]["class"], "normal");
  EXPECT_EQ(Body(corrected)["correction"]["origin"], "correction:" + label_of[2]);
  EXPECT_EQ(Body(corrected)["correction"]["author"], reviewer.user_id);
  auto original = Send("GET", "/api/v1/items/" + item + "/annotations/" + label_of[2], &manager);
  EXPECT_EQ(Body(original)["label"]["class"], "pneumonia");

  // escalate (needs a note) straight from submitted, then adjudication.
  const std::string adjudications = "/api/v1/items/" + item + "/adjudications";
  EXPECT_EQ(Send("POST", adjudications, &adjudicator, json{{"annotation_id", label_of[0]}, {"rationale", "x"}})->status,
            409)
      << "nothing escalated yet";
  EXPECT_EQ(review(reviewer, 1, {{"decision", "escalate"}})->status, 400);
  auto escalated = review(reviewer, 1, {{"decision", "escalate"}, {"reason", "readers disagree"}});
  ASSERT_EQ(escalated->status, 201) << escalated->body;
  EXPECT_EQ(Body(escalated)["task"]["state"], "escalated");

  auto readings = Send("GET", "/api/v1/items/" + item + "/readings", &adjudicator);
  ASSERT_EQ(readings->status, 200) << readings->body;
  ASSERT_EQ(Body(readings)["data"].size(), 3u);
  EXPECT_EQ(Send("GET", "/api/v1/items/" + item + "/readings", &reviewer)->status, 403);
  EXPECT_EQ(Send("GET", "/api/v1/items/" + item + "/readings", &readers[0])->status, 403);

  EXPECT_EQ(Send("POST", adjudications, &reviewer, json{{"annotation_id", label_of[0]}, {"rationale", "x"}})->status,
            403);
  EXPECT_EQ(Send("POST", adjudications, &adjudicator, json{{"annotation_id", label_of[0]}})->status, 400);
  EXPECT_EQ(Send("POST", adjudications, &adjudicator, json{{"label", Label("nodule")}, {"rationale", "x"}})->status, 400)
      << "the final label is checked against the guideline";
  auto decided = Send("POST", adjudications, &adjudicator,
                      json{{"annotation_id", label_of[0]}, {"rationale", "consolidation in the right lower lobe"}});
  ASSERT_EQ(decided->status, 201) << decided->body;
  EXPECT_EQ(Body(decided)["final_label"]["status"], "adjudicated");
  EXPECT_EQ(Body(decided)["final_label"]["label"]["class"], "pneumonia");
  EXPECT_EQ(Body(decided)["final_label"]["author"], adjudicator.user_id);
  EXPECT_EQ(Body(decided)["adjudication"]["source_annotation_id"], label_of[0]);
  ASSERT_EQ(Body(decided)["tasks"].size(), 1u);
  EXPECT_EQ(Body(decided)["tasks"][0]["state"], "adjudicated");
  EXPECT_EQ(Send("POST", adjudications, &adjudicator, json{{"annotation_id", label_of[0]}, {"rationale", "x"}})->status,
            409)
      << "adjudicated is final";
  EXPECT_EQ(review(reviewer, 1, {{"decision", "accept"}})->status, 409);

  // The quality report counts rejections by code: every code, zeros included.
  auto quality = Send("GET", "/api/v1/projects/" + p + "/quality", &manager);
  ASSERT_EQ(quality->status, 200) << quality->body;
  const json by_reason = Body(quality)["rejections_by_reason"];
  ASSERT_EQ(by_reason.size(), core::AllRejectReasons().size()) << by_reason.dump();
  for (const auto& row : by_reason) {
    EXPECT_EQ(row["rejections"], row["reason_code"] == "wrong_class" ? 1 : 0) << row.dump();
  }
  EXPECT_EQ(Body(quality)["rejection_rate"]["overall"]["hits"], 1);

  // Every step is in the audit log.
  EXPECT_EQ(AuditCount("task.submit", task_of[1]), 2);
  EXPECT_EQ(AuditCount("task.reject", task_of[1]), 1);
  EXPECT_EQ(AuditCount("task.reopen", task_of[1]), 1);
  EXPECT_EQ(AuditCount("task.escalate", task_of[1]), 1);
  EXPECT_EQ(AuditCount("task.adjudicate", task_of[1]), 1);
  EXPECT_EQ(AuditCount("task.start_review", task_of[0]), 1);
  auto verify = app_->VerifyAudit(app::LocalOperator());
  ASSERT_TRUE(verify.ok());
  EXPECT_TRUE(verify->ok);
}

TEST_F(WorkflowTest, DisagreementGoldAndHistoryOverTheApi) {
  const std::string p = Project("Triggers over HTTP");
  Session manager = Member("t-manager", p, {core::Role::kManager});
  std::vector<Session> readers = {Member("t-reader1", p, {core::Role::kAnnotator}),
                                  Member("t-reader2", p, {core::Role::kAnnotator})};
  Session adjudicator = Member("t-adjudicator", p, {core::Role::kAdjudicator});
  json schema = LabelSchema({"pneumonia", "normal"});
  schema["classes"][0]["adjudication"] = json::object();
  const std::string base = "/api/v1/projects/" + p + "/guidelines";
  auto bad = Send("POST", base, &manager, json{{"schema", json{{"classes", {{{"id", "x"}, {"name", "x"},
                                                 {"kind", "classification"}, {"definition", "d"},
                                                 {"adjudication", {{"dice_below", 2}}}}}}}}});
  EXPECT_EQ(bad->status, 400);
  EXPECT_NE(bad->body.find("adjudication.dice_below"), std::string::npos) << bad->body;
  auto draft = Send("POST", base, &manager, json{{"schema", schema}});
  ASSERT_EQ(draft->status, 201) << draft->body;
  ASSERT_EQ(Send("POST", base + "/" + Body(draft)["id"].get<std::string>() + "/publish", &manager, nullptr,
                 {{"If-Match", draft->get_header_value("ETag")}})->status, 200);
  const std::string plain = Item(p, 1), gold = Item(p, 2);
  EXPECT_EQ(Send("PUT", "/api/v1/items/" + gold + "/gold", &manager, json{{"answers", {{{"klass", "normal"}}}}})->status,
            400);
  auto marked = Send("PUT", "/api/v1/items/" + gold + "/gold", &manager, json{{"answers", {{{"class", "normal"}}}}});
  ASSERT_EQ(marked->status, 200) << marked->body;
  EXPECT_EQ(Send("PUT", "/api/v1/items/" + gold + "/gold", &readers[0], json{{"answers", json::array()}})->status, 403);
  ASSERT_EQ(Send("PUT", "/api/v1/projects/" + p + "/workflow", &manager,
                 json{{"readers_per_item", 2}, {"gold_rate", 0}})->status, 200);
  ASSERT_EQ(Send("POST", "/api/v1/projects/" + p + "/tasks", &manager, json::object())->status, 201);

  // Readers read both items; the gold one (last, at rate 0) looks like any other.
  const std::string tasks = "/api/v1/projects/" + p + "/tasks/";
  std::map<std::string, std::vector<std::string>> labels_of;  // item -> label per reader
  std::map<std::string, json> item_views, task_views;
  for (int r = 0; r < 2; ++r) {
    for (const std::string& expected : {plain, gold}) {
      auto claimed = Send("POST", tasks + "next", &readers[r]);
      ASSERT_EQ(claimed->status, 200) << claimed->body;
      json task = Body(claimed);
      ASSERT_EQ(task["item_id"], expected);
      task_views[expected] = task;
      item_views[expected] = Body(Send("GET", "/api/v1/items/" + expected, &readers[r]));
      auto label = Send("POST", "/api/v1/items/" + expected + "/annotations", &readers[r],
                        Label(r == 0 && expected == plain ? "pneumonia" : "normal"));
      ASSERT_EQ(label->status, 201) << label->body;
      labels_of[expected].push_back(Body(label)["id"]);
      auto submitted = Send("POST", tasks + task["id"].get<std::string>() + "/submit", &readers[r]);
      ASSERT_EQ(submitted->status, 200) << submitted->body;
      EXPECT_EQ(Body(submitted)["state"], r == 1 && expected == plain ? "escalated" : "submitted");
    }
  }
  auto keys = [](const json& j) {
    std::vector<std::string> out;
    for (auto it = j.begin(); it != j.end(); ++it) out.push_back(it.key());
    return out;
  };
  EXPECT_EQ(keys(task_views[plain]), keys(task_views[gold]));
  EXPECT_EQ(keys(item_views[plain]), keys(item_views[gold]));
  EXPECT_EQ(item_views[gold].dump().find("gold"), std::string::npos);

  auto readings = Send("GET", "/api/v1/items/" + plain + "/readings", &adjudicator);
  ASSERT_EQ(readings->status, 200) << readings->body;
  json view = Body(readings);
  ASSERT_EQ(view["triggers"].size(), 1u);
  EXPECT_EQ(view["triggers"][0]["reason"], "class_mismatch");
  EXPECT_EQ(view["triggers"][0]["label_class"], "pneumonia");
  ASSERT_EQ(view["classes"].size(), 2u);
  EXPECT_TRUE(view["classes"][1]["posterior"].is_number()) << view["classes"];
  EXPECT_EQ(AuditCount("readings.read", plain), 1);

  auto quality = Send("GET", "/api/v1/projects/" + p + "/quality", &manager);
  ASSERT_EQ(quality->status, 200) << quality->body;
  const json reviewers = Body(quality)["reviewers"];
  EXPECT_EQ(reviewers["gold"]["reference"], "gold answer");
  json gold_scores = reviewers["gold"]["readers"];
  ASSERT_EQ(gold_scores.size(), 2u) << reviewers;
  for (const auto& g : gold_scores) {
    EXPECT_EQ(g["n"], 1);
    EXPECT_EQ(g["agree"], 1);
    EXPECT_EQ(g["flagged"], false);
  }
  EXPECT_EQ(reviewers["fused"]["readers"].size(), 2u) << reviewers;
  EXPECT_TRUE(reviewers["fused"]["test"].is_string());

  // History: the reader's own label only; reasons travel with the edit.
  const std::string history = "/api/v1/annotations/" + labels_of[plain][0] + "/history";
  auto own = Send("GET", history, &readers[0]);
  ASSERT_EQ(own->status, 200) << own->body;
  ASSERT_EQ(Body(own)["data"].size(), 1u);
  EXPECT_EQ(Body(own)["data"][0]["change"], "create");
  EXPECT_EQ(Send("GET", history, &readers[1])->status, 404);
  EXPECT_EQ(Send("GET", history, &adjudicator)->status, 200);
  EXPECT_EQ(Send("GET", "/api/v1/annotations/ann_0000000000000000000000000z/history", &adjudicator)->status, 404);
  EXPECT_EQ(AuditCount("annotation.history", labels_of[plain][0]), 2);
}

TEST_F(WorkflowTest, ReviewSamplingAndRepeatReadsOverTheApi) {
  const std::string p = Project("Sampling over HTTP");
  Session manager = Member("rs-manager", p, {core::Role::kManager});
  Session reader = Member("rs-reader", p, {core::Role::kAnnotator});
  const std::string base = "/api/v1/projects/" + p;
  auto draft = Send("POST", base + "/guidelines", &manager, json{{"schema", LabelSchema({"pneumonia", "normal"})}});
  ASSERT_EQ(draft->status, 201) << draft->body;
  ASSERT_EQ(Send("POST", base + "/guidelines/" + Body(draft)["id"].get<std::string>() + "/publish", &manager, nullptr,
                 {{"If-Match", draft->get_header_value("ETag")}})->status, 200);
  auto no_washout = Send("PUT", base + "/workflow", &manager, json{{"repeat_rate", 1}});
  EXPECT_EQ(no_washout->status, 400);
  EXPECT_NE(no_washout->body.find("wash-out"), std::string::npos) << no_washout->body;
  auto put = Send("PUT", base + "/workflow", &manager,
                  json{{"review_rate", 0}, {"repeat_rate", 1}, {"washout_readings", 1}});
  ASSERT_EQ(put->status, 200) << put->body;
  EXPECT_EQ(Body(put)["review_rate"], 0);
  EXPECT_EQ(Body(put)["washout_readings"], 1);
  Item(p, 1);
  Item(p, 2);
  ASSERT_EQ(Send("POST", base + "/tasks", &manager, json::object())->status, 201);

  // Outside the review sample (rate 0): accepted at once. Each reading gets a repeat.
  std::vector<json> views;
  for (int n = 0; n < 2; ++n) {
    auto claimed = Send("POST", base + "/tasks/next", &reader);
    ASSERT_EQ(claimed->status, 200) << claimed->body;
    views.push_back(Body(claimed));
    const std::string item = views.back()["item_id"];
    ASSERT_EQ(Send("POST", "/api/v1/items/" + item + "/annotations", &reader, Label("normal"))->status, 201);
    auto submitted = Send("POST", base + "/tasks/" + views.back()["id"].get<std::string>() + "/submit", &reader);
    ASSERT_EQ(submitted->status, 200) << submitted->body;
    EXPECT_EQ(Body(submitted)["state"], "accepted");
  }
  EXPECT_EQ(AuditCount("task.waive_review", views[0]["id"].get<std::string>()), 1);

  // One reading later the first item's repeat is due; it looks like any task, and is blind.
  auto repeat = Send("POST", base + "/tasks/next", &reader);
  ASSERT_EQ(repeat->status, 200) << repeat->body;
  json view = Body(repeat);
  const std::string first = views[0]["item_id"];
  EXPECT_EQ(view["item_id"], first);
  EXPECT_NE(view["id"], views[0]["id"]);
  std::vector<std::string> keys, repeat_keys;
  for (auto it = views[0].begin(); it != views[0].end(); ++it) keys.push_back(it.key());
  for (auto it = view.begin(); it != view.end(); ++it) repeat_keys.push_back(it.key());
  EXPECT_EQ(keys, repeat_keys);
  auto own = Send("GET", "/api/v1/items/" + first + "/annotations", &reader);
  ASSERT_EQ(own->status, 200) << own->body;
  EXPECT_EQ(Body(own)["data"].size(), 0u);
  ASSERT_EQ(Send("POST", "/api/v1/items/" + first + "/annotations", &reader, Label("normal"))->status, 201);
  ASSERT_EQ(Send("POST", base + "/tasks/" + view["id"].get<std::string>() + "/submit", &reader)->status, 200);

  auto quality = Send("GET", base + "/quality", &manager);
  ASSERT_EQ(quality->status, 200) << quality->body;
  json intra = Body(quality)["reviewers"]["intra_reader"];
  ASSERT_EQ(intra.size(), 1u) << intra;
  EXPECT_EQ(intra[0]["pairs"], 1);
  EXPECT_EQ(intra[0]["agreement"], 1);
  auto listed = Send("GET", base + "/tasks", &manager);
  ASSERT_EQ(listed->status, 200);
  EXPECT_EQ(Body(listed)["data"].size(), 2u) << "task lists show the readings only";

  // The stored quality: the submits' findings at once, soft labels after a sweep.
  EXPECT_EQ(Send("POST", base + "/quality/sweep", &reader)->status, 403);
  auto sweep = Send("POST", base + "/quality/sweep", &manager);
  ASSERT_EQ(sweep->status, 200) << sweep->body;
  EXPECT_EQ(Body(sweep)["soft_labels"], 2) << "two items, one class named";
  auto stored = Send("GET", base + "/quality/stored?item_id=" + first, &manager);
  ASSERT_EQ(stored->status, 200) << stored->body;
  json soft = Body(stored)["soft_labels"];
  ASSERT_EQ(soft.size(), 1u) << soft;
  EXPECT_EQ(soft[0]["label_class"], "normal");
  EXPECT_EQ(soft[0]["probability"], 1.0);
  EXPECT_EQ(Send("GET", base + "/quality/stored", &reader)->status, 403);
  EXPECT_EQ(AuditCount("quality.sweep", p), 1);
}

TEST_F(WorkflowTest, OutcomesConfirmLabelsAndRescoreReaders) {
  const std::string p = Project("Outcomes over HTTP");
  Session manager = Member("o-manager", p, {core::Role::kManager});
  Session reader = Member("o-reader", p, {core::Role::kAnnotator});
  json schema = LabelSchema({"malignancy"});
  schema["classes"][0]["confirmation"] = {{"evidence_sources", {"biopsy"}}, {"window_days", 90}};
  PublishSchema(manager, p, schema);
  ASSERT_FALSE(HasFailure());
  const std::string item = Item(p, 1);
  ASSERT_EQ(Send("POST", "/api/v1/projects/" + p + "/tasks", &manager, json::object())->status, 201);
  auto claimed = Send("POST", "/api/v1/projects/" + p + "/tasks/next", &reader);
  ASSERT_EQ(claimed->status, 200) << claimed->body;
  ASSERT_EQ(Send("POST", "/api/v1/items/" + item + "/annotations", &reader, Label("malignancy"))->status, 201);
  ASSERT_EQ(Send("POST", "/api/v1/projects/" + p + "/tasks/" + Body(claimed)["id"].get<std::string>() + "/submit",
                 &reader)->status, 200);

  const std::string outcomes = "/api/v1/projects/" + p + "/outcomes";
  const std::string when = FormatRfc3339(clock_->Now());
  auto none = Send("POST", outcomes, &manager, json{{"outcomes", {{{"item_id", item}, {"evidence_type", "biopsy"},
                                                                  {"class", "malignancy"}, {"result", "maybe"},
                                                                  {"time", when}}}}});
  EXPECT_EQ(none->status, 400);
  EXPECT_NE(none->body.find("outcomes[0]: field 'result'"), std::string::npos) << none->body;
  auto recorded = Send("POST", outcomes, &manager,
                       json{{"outcomes", {{{"item_id", item}, {"evidence_type", "biopsy"}, {"class", "malignancy"},
                                           {"result", "confirms"}, {"time", when}},
                                          {{"item_id", item}, {"evidence_type", "image_finding"},
                                           {"class", "malignancy"}, {"result", "confirms"}, {"time", when}}}}});
  ASSERT_EQ(recorded->status, 201) << recorded->body;
  EXPECT_EQ(Body(recorded)["stored"].size(), 1u);
  ASSERT_EQ(Body(recorded)["errors"].size(), 1u);
  EXPECT_EQ(Body(recorded)["errors"][0]["index"], 1);
  EXPECT_EQ(Send("POST", outcomes, &reader, json{{"outcomes", json::array()}})->status, 403);

  auto labels = Send("GET", outcomes + "/labels", &manager);
  ASSERT_EQ(labels->status, 200) << labels->body;
  ASSERT_EQ(Body(labels)["data"].size(), 1u);
  EXPECT_EQ(Body(labels)["data"][0]["status"], "confirmed");
  EXPECT_EQ(Body(labels)["data"][0]["outcome_id"], Body(recorded)["stored"][0]["id"]);
  auto scores = Send("GET", outcomes + "/scores", &manager);
  ASSERT_EQ(scores->status, 200) << scores->body;
  ASSERT_EQ(Body(scores)["readers"].size(), 1u);
  EXPECT_EQ(Body(scores)["readers"][0]["reader"], reader.user_id);
  EXPECT_EQ(Body(scores)["readers"][0]["confirmed"], 1);
  EXPECT_EQ(Body(scores)["readers"][0]["accuracy"], 1.0);
  EXPECT_EQ(Send("GET", outcomes + "/scores", &reader)->status, 403);
  EXPECT_EQ(AuditCount("outcome.record"), 1);
  EXPECT_GE(AuditCount("outcome.scores"), 1);
}

// The truth status rides on the label itself: provisional until an outcome decides it, then
// confirmed or refuted (naming the outcome), unconfirmed once the window has passed; null for
// a class that needs no confirmation.
TEST_F(WorkflowTest, EveryLabelTheApiAnswersWithCarriesItsTruthStatus) {
  const std::string p = Project("Truth in the label");
  Session manager = Member("lt-manager", p, {core::Role::kManager});
  Session reader = Member("lt-reader", p, {core::Role::kAnnotator});
  json schema = LabelSchema({"malignancy", "cyst"});
  schema["classes"][0]["confirmation"] = {{"evidence_sources", {"biopsy"}}, {"window_days", 30}};
  PublishSchema(manager, p, schema);
  ASSERT_FALSE(HasFailure());
  Item(p, 1);
  Item(p, 2);
  ASSERT_EQ(Send("POST", "/api/v1/projects/" + p + "/tasks", &manager, json::object())->status, 201);
  std::vector<std::string> items, malignancy;  // in the order claimed; the reader's label of it on each
  std::string cyst;
  for (int n = 0; n < 2; ++n) {
    auto claimed = Send("POST", "/api/v1/projects/" + p + "/tasks/next", &reader);
    ASSERT_EQ(claimed->status, 200) << claimed->body;
    const std::string item = Body(claimed)["item_id"];
    items.push_back(item);
    auto made = Send("POST", "/api/v1/items/" + item + "/annotations", &reader, Label("malignancy"));
    ASSERT_EQ(made->status, 201) << made->body;
    EXPECT_EQ(Body(made)["truth"]["status"], "provisional") << made->body;
    EXPECT_TRUE(Body(made)["truth"]["outcome_id"].is_null());
    malignancy.push_back(Body(made)["id"]);
    if (cyst.empty()) {
      auto other = Send("POST", "/api/v1/items/" + item + "/annotations", &reader, Label("cyst"));
      ASSERT_EQ(other->status, 201) << other->body;
      ASSERT_TRUE(Body(other).contains("truth"));
      EXPECT_TRUE(Body(other)["truth"].is_null()) << "cyst needs no confirmation";
      cyst = Body(other)["id"];
    }
    ASSERT_EQ(Send("POST", "/api/v1/projects/" + p + "/tasks/" + Body(claimed)["id"].get<std::string>() + "/submit",
                   &reader)->status, 200);
  }
  // What the item's labels say, by label id, as `s` reads them.
  auto truth_of = [&](const Session& s, const std::string& item) {
    std::map<std::string, json> out;
    auto listed = Send("GET", "/api/v1/items/" + item + "/annotations", &s);
    EXPECT_EQ(listed->status, 200) << listed->body;
    const json body = Body(listed);  // a range-for over Body(listed)["data"] would outlive its temporary
    for (const auto& a : body["data"]) out[a["id"]] = a["truth"];
    return out;
  };
  EXPECT_EQ(truth_of(reader, items[0])[malignancy[0]]["status"], "provisional");
  EXPECT_TRUE(truth_of(reader, items[0])[cyst].is_null());

  // A biopsy refutes the malignancy of item 1: its label says so, naming the outcome.
  auto recorded = Send("POST", "/api/v1/projects/" + p + "/outcomes", &manager,
                       json{{"outcomes", {{{"item_id", items[0]}, {"evidence_type", "biopsy"}, {"class", "malignancy"},
                                           {"result", "refutes"}, {"time", FormatRfc3339(clock_->Now())}}}}});
  ASSERT_EQ(recorded->status, 201) << recorded->body;
  const std::string outcome = Body(recorded)["stored"][0]["id"];
  const json refuted = truth_of(reader, items[0])[malignancy[0]];
  EXPECT_EQ(refuted["status"], "refuted") << refuted.dump();
  EXPECT_EQ(refuted["outcome_id"], outcome);
  auto one = Send("GET", "/api/v1/items/" + items[0] + "/annotations/" + malignancy[0], &manager);
  ASSERT_EQ(one->status, 200) << one->body;
  EXPECT_EQ(Body(one)["truth"]["status"], "refuted");
  EXPECT_EQ(truth_of(manager, items[1])[malignancy[1]]["status"], "provisional") << "another item's outcome";

  // Past the 30-day window item 2's label, with no outcome, is unconfirmed (sessions have
  // expired by then: a new manager reads).
  clock_->Advance(31 * 24 * kMicrosPerHour);
  Session later = Member("lt-manager-later", p, {core::Role::kManager});
  EXPECT_EQ(truth_of(later, items[1])[malignancy[1]]["status"], "unconfirmed");
  EXPECT_EQ(truth_of(later, items[0])[malignancy[0]]["status"], "refuted") << "a decided label stays decided";
}

TEST_F(WorkflowTest, ASubmitWithAnIdempotencyKeyCanBeRetried) {
  const std::string p = Project("Idempotent submits");
  Session manager = Member("i-manager", p, {core::Role::kManager});
  std::vector<Session> readers = {Member("i-reader1", p, {core::Role::kAnnotator}),
                                  Member("i-reader2", p, {core::Role::kAnnotator})};
  Publish(manager, p, {"pneumonia"});
  const std::vector<std::string> items = {Item(p, 1), Item(p, 2), Item(p, 3)};
  ASSERT_EQ(Send("POST", "/api/v1/projects/" + p + "/tasks", &manager, json::object())->status, 201);
  const std::string tasks = "/api/v1/projects/" + p + "/tasks/";
  std::vector<std::string> task_of;
  for (int r = 0; r < 2; ++r) {
    auto claimed = Send("POST", tasks + "next", &readers[r]);
    ASSERT_EQ(claimed->status, 200) << claimed->body;
    task_of.push_back(Body(claimed)["id"]);
    ASSERT_EQ(Send("POST", "/api/v1/items/" + Body(claimed)["item_id"].get<std::string>() + "/annotations",
                   &readers[r], Label("pneumonia"))->status, 201);
  }
  auto submit = [&](int r, const std::string& key) {
    return Send("POST", tasks + task_of[r] + "/submit", &readers[r], nullptr, {{"Idempotency-Key", key}});
  };
  auto first = submit(0, "retry-1");
  ASSERT_EQ(first->status, 200) << first->body;
  EXPECT_EQ(first->get_header_value("Idempotency-Replayed"), "");
  auto again = submit(0, "retry-1");
  ASSERT_EQ(again->status, 200) << again->body;
  EXPECT_EQ(again->body, first->body) << "the same answer";
  EXPECT_EQ(again->get_header_value("Idempotency-Replayed"), "true");
  EXPECT_EQ(AuditCount("task.submit", task_of[0]), 1) << "no second effect";
  EXPECT_EQ(Send("POST", tasks + task_of[0] + "/submit", &readers[0])->status, 409) << "without the key: submitted";
  // The key is the caller's: another reader may use the same one.
  EXPECT_EQ(submit(1, "retry-1")->status, 200);
  auto elsewhere = submit(1, "retry-1");
  EXPECT_EQ(elsewhere->status, 200);
  EXPECT_EQ(elsewhere->get_header_value("Idempotency-Replayed"), "true") << "reader 2's own first answer";
  EXPECT_EQ(submit(0, std::string(201, 'k'))->status, 400);
  // A key is for one request: on the reader's next task it is refused.
  auto third = Send("POST", tasks + "next", &readers[0]);
  ASSERT_EQ(third->status, 200) << third->body;
  const std::string third_id = Body(third)["id"];
  ASSERT_EQ(Send("POST", "/api/v1/items/" + Body(third)["item_id"].get<std::string>() + "/annotations", &readers[0],
                 Label("pneumonia"))->status, 201);
  auto submit_third = [&](const std::string& key) {
    return Send("POST", tasks + third_id + "/submit", &readers[0], nullptr, {{"Idempotency-Key", key}});
  };
  EXPECT_EQ(submit_third("retry-1")->status, 409);
  EXPECT_EQ(submit_third("retry-2")->status, 200);
}

TEST_F(WorkflowTest, TheImpactReportListsLabelsOfChangedClassesUnderTheOldVersion) {
  const std::string p = Project("Impact");
  Session manager = Member("imp-manager", p, {core::Role::kManager});
  Session reader = Member("imp-reader", p, {core::Role::kAnnotator});
  const std::string v1 = Publish(manager, p, {"pneumonia", "normal"});
  const std::string item = Item(p, 1);
  ASSERT_EQ(Send("POST", "/api/v1/projects/" + p + "/tasks", &manager, json::object())->status, 201);
  ASSERT_EQ(Send("POST", "/api/v1/projects/" + p + "/tasks/next", &reader)->status, 200);
  auto changed = Send("POST", "/api/v1/items/" + item + "/annotations", &reader, Label("pneumonia"));
  ASSERT_EQ(changed->status, 201) << changed->body;
  ASSERT_EQ(Send("POST", "/api/v1/items/" + item + "/annotations", &reader, Label("normal"))->status, 201);
  // Version 2 changes the definition of pneumonia only.
  const std::string base = "/api/v1/projects/" + p + "/guidelines/";
  json schema = LabelSchema({"pneumonia", "normal"});
  schema["classes"][0]["definition"] = "consolidation with air bronchograms";
  auto draft = Send("PUT", base + v1, &manager, json{{"schema", schema}});
  ASSERT_EQ(draft->status, 201) << draft->body;
  const std::string v2 = Body(draft)["id"];
  ASSERT_EQ(Send("POST", base + v2 + "/publish", &manager, nullptr, {{"If-Match", draft->get_header_value("ETag")}})
                ->status, 200);
  auto impact = Send("GET", base + v2 + "/impact", &manager);
  ASSERT_EQ(impact->status, 200) << impact->body;
  json labels = Body(impact)["labels"];
  ASSERT_EQ(labels.size(), 1u) << impact->body;
  EXPECT_EQ(labels[0]["annotation_id"], Body(changed)["id"]);
  EXPECT_EQ(labels[0]["change"], "changed");
  EXPECT_EQ(Body(impact)["from"]["id"], v1);
  auto explicit_from = Send("GET", base + v2 + "/impact?from=" + v1, &manager);
  EXPECT_EQ(Body(explicit_from)["labels"].size(), 1u);
  EXPECT_EQ(Send("GET", base + v1 + "/impact", &manager)->status, 400) << "v1 is based on none";
  EXPECT_EQ(Send("GET", base + v2 + "/impact", &reader)->status, 403);
  EXPECT_EQ(AuditCount("guideline.impact", v2), 2);
}

TEST_F(WorkflowTest, ReannotationSendsFinishedReadingsBackToTheirReadersUnderTheNewVersion) {
  const std::string p = Project("Reannotation");
  Session manager = Member("rea-manager", p, {core::Role::kManager});
  Session reader = Member("rea-reader", p, {core::Role::kAnnotator});
  Session other = Member("rea-other", p, {core::Role::kAnnotator});
  const std::string v1 = Publish(manager, p, {"pneumonia", "normal"});
  Item(p, 1);
  Item(p, 2);
  ASSERT_EQ(Send("POST", "/api/v1/projects/" + p + "/tasks", &manager, json::object())->status, 201);
  // reader finishes a reading of item 1 (pneumonia); other is still reading item 2 (pneumonia).
  auto claimed = Send("POST", "/api/v1/projects/" + p + "/tasks/next", &reader);
  ASSERT_EQ(claimed->status, 200) << claimed->body;
  const std::string task = Body(claimed)["id"];
  const std::string item = Body(claimed)["item_id"];
  auto label = Send("POST", "/api/v1/items/" + item + "/annotations", &reader, Label("pneumonia"));
  ASSERT_EQ(label->status, 201) << label->body;
  ASSERT_EQ(Send("POST", "/api/v1/projects/" + p + "/tasks/" + task + "/submit", &reader)->status, 200);
  auto other_claim = Send("POST", "/api/v1/projects/" + p + "/tasks/next", &other);
  ASSERT_EQ(other_claim->status, 200) << other_claim->body;
  const std::string other_item = Body(other_claim)["item_id"];
  ASSERT_EQ(Send("POST", "/api/v1/items/" + other_item + "/annotations", &other, Label("pneumonia"))->status, 201);
  EXPECT_NE(item, other_item);

  // Version 2 changes pneumonia; re-annotation needs it to be in force.
  const std::string base = "/api/v1/projects/" + p + "/guidelines/";
  json schema = LabelSchema({"pneumonia", "normal"});
  schema["classes"][0]["definition"] = "consolidation with air bronchograms";
  auto draft = Send("PUT", base + v1, &manager, json{{"schema", schema}});
  ASSERT_EQ(draft->status, 201) << draft->body;
  const std::string v2 = Body(draft)["id"];
  auto early = Send("POST", base + v2 + "/reannotate", &manager, json::object());
  EXPECT_EQ(early->status, 409) << "a draft is not in force: " << early->body;
  ASSERT_EQ(Send("POST", base + v2 + "/publish", &manager, nullptr, {{"If-Match", draft->get_header_value("ETag")}})
                ->status, 200);
  EXPECT_EQ(Send("POST", base + v2 + "/reannotate", &reader, json::object())->status, 403);

  auto done = Send("POST", base + v2 + "/reannotate", &manager, json::object());
  ASSERT_EQ(done->status, 200) << done->body;
  const json report = Body(done);
  EXPECT_EQ(report["labels"].size(), 2u) << done->body;
  ASSERT_EQ(report["reopened"].size(), 1u) << done->body;
  EXPECT_EQ(report["reopened"][0]["id"], task);
  EXPECT_EQ(report["reopened"][0]["state"], "claimed");
  EXPECT_EQ(report["reopened"][0]["assignee"], reader.user_id);
  ASSERT_EQ(report["skipped"].size(), 1u) << "other's reading is still in progress";
  EXPECT_EQ(AuditCount("task.reannotate", task), 1);

  // The reader labels again: the save pins the label to version 2, and the reading is submitted anew.
  const std::string label_url = "/api/v1/items/" + item + "/annotations/" + Body(label)["id"].get<std::string>();
  auto read = Send("GET", label_url, &reader);
  ASSERT_EQ(read->status, 200) << read->body;
  json again = Label("pneumonia");
  again["reason"] = "re-read under guideline version 2";
  auto saved = Send("PUT", label_url, &reader, again, {{"If-Match", read->get_header_value("ETag")}});
  ASSERT_EQ(saved->status, 200) << saved->body;
  EXPECT_EQ(Body(saved)["guideline_version_id"], v2);
  ASSERT_EQ(Send("POST", "/api/v1/projects/" + p + "/tasks/" + task + "/submit", &reader)->status, 200);
  auto after = Send("GET", base + v2 + "/impact", &manager);
  ASSERT_EQ(after->status, 200);
  EXPECT_EQ(Body(after)["labels"].size(), 1u) << "only other's label is still under version 1";
}

TEST_F(WorkflowTest, AClassThatNeedsAQualificationIsLabelledAndReviewedOnlyByThoseWhoHoldIt) {
  using core::Qualification;
  const std::string p = Project("Qualified classes");
  Session manager = Member("qc-manager", p, {core::Role::kManager});
  Session radiologist = Member("qc-radiologist", p, {core::Role::kAnnotator}, {Qualification::kRadiologist});
  Session student = Member("qc-student", p, {core::Role::kAnnotator}, {Qualification::kGeneralAnnotator});
  Session lay_reviewer = Member("qc-lay-reviewer", p, {core::Role::kReviewer});
  Session rad_reviewer = Member("qc-rad-reviewer", p, {core::Role::kReviewer}, {Qualification::kRadiologist});
  json schema = LabelSchema({"nodule", "normal"});
  schema["classes"][0]["required_qualification"] = "radiologist";
  const std::string base = "/api/v1/projects/" + p + "/guidelines";
  auto draft = Send("POST", base, &manager, json{{"schema", schema}});
  ASSERT_EQ(draft->status, 201) << draft->body;
  ASSERT_EQ(Send("POST", base + "/" + Body(draft)["id"].get<std::string>() + "/publish", &manager, nullptr,
                 {{"If-Match", draft->get_header_value("ETag")}})
                ->status,
            200);
  const std::string item_a = Item(p, 1), item_b = Item(p, 2);
  ASSERT_TRUE(app_->AssignItem(app::LocalOperator(), item_a, student.user_id).ok());
  ASSERT_TRUE(app_->AssignItem(app::LocalOperator(), item_b, radiologist.user_id).ok());

  auto refused = Send("POST", "/api/v1/items/" + item_a + "/annotations", &student, Label("nodule"));
  EXPECT_EQ(refused->status, 403) << refused->body;
  EXPECT_EQ(Body(refused)["error"]["message"], "labelling class 'nodule' needs the radiologist qualification");
  EXPECT_EQ(Send("POST", "/api/v1/items/" + item_a + "/annotations", &student, Label("normal"))->status, 201)
      << "classes without a qualification are open to every reader";
  ASSERT_EQ(Send("POST", "/api/v1/items/" + item_b + "/annotations", &radiologist, Label("nodule"))->status, 201);
  auto tasks = Body(Send("GET", "/api/v1/projects/" + p + "/tasks", &radiologist))["data"];
  ASSERT_EQ(tasks.size(), 1u);
  const std::string task = tasks[0]["id"];
  const std::string task_url = "/api/v1/projects/" + p + "/tasks/" + task;
  ASSERT_EQ(Send("POST", task_url + "/submit", &radiologist)->status, 200);

  auto lay = Send("POST", task_url + "/reviews", &lay_reviewer, json{{"decision", "accept"}});
  EXPECT_EQ(lay->status, 403) << lay->body;
  EXPECT_EQ(Body(lay)["error"]["message"], "reviewing class 'nodule' needs the radiologist qualification");
  auto qualified = Send("POST", task_url + "/reviews", &rad_reviewer, json{{"decision", "accept"}});
  EXPECT_EQ(qualified->status, 201) << qualified->body;
}

// A minimal model back-end (docs/workflow.md, "The model back-end protocol"): it fetches the
// item's content with the scoped token it was sent and answers one prediction whose score it
// reads from the note's number ("synthetic note 2" -> 0.52).
class ExampleBackend {
 public:
  ExampleBackend() {
    server_.Post("/predict", [this](const httplib::Request& req, httplib::Response& res) {
      const json call = json::parse(req.body, nullptr, false);
      std::lock_guard<std::mutex> lock(mu_);
      if (!call.is_object() || call["protocol"] != "caliper-prelabel/1" || !call["schema"].contains("classes")) {
        res.status = 400;
        return;
      }
      const std::string url = call["item"]["content_url"];
      const std::string origin = url.substr(0, url.find("/api/"));
      token_ = call["item"]["token"];
      content_url_ = url;
      httplib::Client caliper(origin);
      auto content = caliper.Get(url.substr(origin.size()), {{"Authorization", "Bearer " + token_}});
      if (!content || content->status != 200) {
        res.status = 502;
        return;
      }
      contents_.push_back(content->body);
      const int n = content->body.back() - '0';
      const double score = 0.5 + 0.01 * n + (n == 1 ? 0.4 : 0.0);
      res.set_content(json{{"model", {{"name", "toy"}, {"version", "1"}}},
                           {"predictions",
                            {{{"evidence", {{"kind", "document"}}},
                              {"label", {{"class", "pneumonia"}}},
                              {"score", score},
                              {"scores", {{"pneumonia", score}, {"normal", 1 - score}}}}}}}
                          .dump(),
                      "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~ExampleBackend() {
    server_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/predict"; }
  std::vector<std::string> contents() {
    std::lock_guard<std::mutex> lock(mu_);
    return contents_;
  }
  std::string last_token() {
    std::lock_guard<std::mutex> lock(mu_);
    return token_;
  }
  std::string last_content_url() {
    std::lock_guard<std::mutex> lock(mu_);
    return content_url_;
  }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::vector<std::string> contents_;
  std::string token_, content_url_;
};

TEST_F(WorkflowTest, PrelabelsComeFromTheBackEndAndOnlyReadersTurnThemIntoLabels) {
  const std::string p = Project("Prelabels");
  Session manager = Member("p-manager", p, {core::Role::kManager});
  Session a = Member("p-reader-a", p, {core::Role::kAnnotator});
  Session b = Member("p-reader-b", p, {core::Role::kAnnotator});
  Session reviewer = Member("p-reviewer", p, {core::Role::kReviewer});
  Publish(manager, p, {"pneumonia", "normal"});
  std::vector<std::string> items = {Item(p, 1), Item(p, 2), Item(p, 7)};
  const std::string base = "/api/v1/projects/" + p;

  // The back-end is asked per item; it reads each item with the token it was given.
  ExampleBackend backend;
  EXPECT_EQ(Send("POST", base + "/prelabels/run", &a, json{{"backend_url", backend.url()}})->status, 403);
  auto run = Send("POST", base + "/prelabels/run", &manager, json{{"backend_url", backend.url()}, {"token_minutes", 5}});
  ASSERT_EQ(run->status, 200) << run->body;
  EXPECT_EQ(Body(run)["items"], 3);
  EXPECT_TRUE(Body(run)["errors"].empty()) << run->body;
  ASSERT_EQ(Body(run)["stored"].size(), 3u);
  EXPECT_EQ(Body(run)["stored"][0]["model"], json({{"name", "toy"}, {"version", "1"}}));
  std::vector<std::string> contents = backend.contents();
  std::sort(contents.begin(), contents.end());
  EXPECT_EQ(contents, (std::vector<std::string>{"synthetic note 1", "synthetic note 2", "synthetic note 7"}));
  // The token reaches its one item, for its lifetime only.
  httplib::Client direct("127.0.0.1", harness_->port());
  const httplib::Headers bearer = {{"Authorization", "Bearer " + backend.last_token()}};
  const std::string last_path = backend.last_content_url().substr(backend.last_content_url().find("/api/"));
  EXPECT_EQ(direct.Get(last_path, bearer)->status, 200);
  for (const auto& other : items) {
    if (last_path.find(other) == std::string::npos) {
      EXPECT_EQ(direct.Get("/api/v1/items/" + other + "/content", bearer)->status, 403) << "another item";
    }
  }
  EXPECT_EQ(direct.Get(base + "/tasks", bearer)->status, 403) << "nothing project-wide";
  clock_->Advance(6 * kMicrosPerMinute);
  EXPECT_EQ(direct.Get(last_path, bearer)->status, 401) << "expired";

  // A back-end that cannot be reached is reported per item, nothing stored.
  auto down = Send("POST", base + "/prelabels/run", &manager,
                   json{{"backend_url", "http://127.0.0.1:1/predict"}, {"item_ids", {items[0]}}});
  ASSERT_EQ(down->status, 200) << down->body;
  EXPECT_EQ(Body(down)["errors"].size(), 1u);
  EXPECT_TRUE(Body(down)["stored"].empty());

  // Bulk upload: bad rows are reported by index and skipped.
  auto upload = Send("POST", base + "/prelabels", &manager,
                     json{{"prelabels",
                           {{{"item_id", items[0]}, {"model", {{"name", "toy"}, {"version", "2"}}},
                             {"evidence", {{"kind", "document"}}}, {"label", {{"class", "normal"}}}, {"score", 0.8}},
                            {{"item_id", items[0]}, {"model", {{"name", "toy"}, {"version", "2"}}},
                             {"evidence", {{"kind", "document"}}}, {"label", {{"class", "nodule"}}}},
                            {{"item_id", items[1]}, {"evidence", {{"kind", "document"}}}, {"label", {{"class", "normal"}}}},
                            {{"item_id", items[1]}, {"model", {{"name", "toy"}, {"version", "2"}}},
                             {"evidence", {{"kind", "document"}}}, {"label", {{"class", "normal"}}}, {"score", 1.5}}}}});
  ASSERT_EQ(upload->status, 201) << upload->body;
  EXPECT_EQ(Body(upload)["stored"].size(), 1u);
  ASSERT_EQ(Body(upload)["errors"].size(), 3u) << upload->body;
  EXPECT_EQ(Body(upload)["errors"][0]["index"], 1);
  EXPECT_NE(Body(upload)["errors"][0]["message"].get<std::string>().find("not in guideline version 1"), std::string::npos);
  EXPECT_EQ(Body(upload)["errors"][1]["index"], 2);
  EXPECT_EQ(Body(upload)["errors"][2]["index"], 3);
  EXPECT_EQ(Send("POST", base + "/prelabels", &a, json{{"prelabels", json::array()}})->status, 403);
  const std::string toy2 = Body(upload)["stored"][0]["id"];

  // Active learning: the item the model is least sure of comes first (0.52, then 0.57, then 0.91).
  ASSERT_EQ(Send("PUT", base + "/workflow", &manager, json{{"readers_per_item", 2}, {"task_order", "least_sure"}})->status,
            200);
  ASSERT_EQ(Send("POST", base + "/tasks", &manager, json::object())->status, 201);
  auto first_a = Send("POST", base + "/tasks/next", &a);
  auto first_b = Send("POST", base + "/tasks/next", &b);
  ASSERT_EQ(first_a->status, 200);
  ASSERT_EQ(first_b->status, 200);
  EXPECT_EQ(Body(first_a)["item_id"], items[1]);
  EXPECT_EQ(Body(first_b)["item_id"], items[1]);

  // Reader A accepts; the label is A's own, provisional, made from the suggestion.
  const std::string item = items[1];
  auto listed = Send("GET", "/api/v1/items/" + item + "/prelabels", &a);
  ASSERT_EQ(listed->status, 200) << listed->body;
  ASSERT_EQ(Body(listed)["data"].size(), 1u);
  EXPECT_EQ(Body(listed)["data"][0]["status"], "pending");
  const std::string pre = Body(listed)["data"][0]["id"];
  const std::string decide = "/api/v1/items/" + item + "/prelabels/" + pre + "/decision";
  auto accepted = Send("POST", decide, &a, json{{"decision", "accepted"}});
  ASSERT_EQ(accepted->status, 201) << accepted->body;
  EXPECT_EQ(Body(accepted)["annotation"]["author"], a.user_id);
  EXPECT_EQ(Body(accepted)["annotation"]["status"], "provisional");
  EXPECT_EQ(Body(accepted)["annotation"]["origin"], "prelabel:toy@1");
  ASSERT_TRUE(Body(listed)["data"][0]["score"].is_number()) << listed->body;
  EXPECT_EQ(Body(accepted)["annotation"]["uncertainty"]["confidence"], Body(listed)["data"][0]["score"])
      << "the model's score is the reader's confidence until they change it";
  EXPECT_EQ(Body(accepted)["decision"]["task_id"], Body(first_a)["id"]);
  EXPECT_EQ(Send("POST", decide, &a, json{{"decision", "rejected"}})->status, 409) << "decided already";
  EXPECT_EQ(Send("POST", decide, &a, json{{"decision", "pending"}})->status, 400);
  EXPECT_EQ(Send("POST", decide, &a, json{{"decision", "corrected"}})->status, 400) << "a correction needs the label";

  // Blinding: B does not see A's decision, and corrects.
  auto for_b = Body(Send("GET", "/api/v1/items/" + item + "/prelabels", &b));
  EXPECT_EQ(for_b["data"][0]["status"], "pending");
  EXPECT_TRUE(for_b["data"][0]["decisions"].empty());
  auto corrected = Send("POST", decide, &b, json{{"decision", "corrected"}, {"correction", Label("normal")}});
  ASSERT_EQ(corrected->status, 201) << corrected->body;
  EXPECT_EQ(Body(corrected)["decision"]["correction_size"], 1.0);
  EXPECT_EQ(Body(corrected)["annotation"]["label"]["class"], "normal");
  EXPECT_EQ(Body(Send("GET", "/api/v1/items/" + item + "/prelabels", &reviewer))["data"][0]["decisions"].size(), 2u);
  // A reader without a task on the item cannot decide there.
  EXPECT_EQ(Send("POST", "/api/v1/items/" + items[0] + "/prelabels/" + toy2 + "/decision", &a,
                 json{{"decision", "rejected"}})->status,
            403);

  // Pre-labels never appear among the labels: only the readers' two.
  auto labels = Body(Send("GET", "/api/v1/items/" + item + "/annotations", &manager))["data"];
  ASSERT_EQ(labels.size(), 2u);
  for (const auto& l : labels) EXPECT_NE(l["author"], manager.user_id);

  ASSERT_EQ(Send("POST", base + "/tasks/" + Body(first_a)["id"].get<std::string>() + "/submit", &a)->status, 200);
  ASSERT_EQ(Send("POST", base + "/tasks/" + Body(first_b)["id"].get<std::string>() + "/submit", &b)->status, 200);
  auto stats = Send("GET", base + "/prelabels/stats", &manager);
  ASSERT_EQ(stats->status, 200) << stats->body;
  json toy1;
  const json stats_body = Body(stats);
  for (const auto& s : stats_body["data"]) {
    if (s["model"]["version"] == "1") toy1 = s;
  }
  EXPECT_EQ(toy1["prelabels"], 3);
  EXPECT_EQ(toy1["accepted"], 1);
  EXPECT_EQ(toy1["corrected"], 1);
  EXPECT_EQ(toy1["acceptance_rate"], 0.5);
  EXPECT_EQ(toy1["mean_correction_size"], 1.0);
  EXPECT_EQ(toy1["anchoring"]["shown"]["readings"], 2);
  EXPECT_EQ(toy1["anchoring"]["shown"]["agreeing"], 1);
  EXPECT_EQ(toy1["anchoring"]["hidden"]["readings"], 0);
  EXPECT_EQ(Send("GET", base + "/prelabels/stats", &a)->status, 403);

  // The hidden share sees no pre-labels at all (and cannot decide on one).
  ASSERT_EQ(Send("PUT", base + "/workflow", &manager,
                 json{{"readers_per_item", 2}, {"task_order", "least_sure"}, {"prelabel_hidden_share", 1.0}})->status,
            200);
  auto next_a = Send("POST", base + "/tasks/next", &a);
  ASSERT_EQ(next_a->status, 200);
  const std::string hidden_item = Body(next_a)["item_id"];
  EXPECT_TRUE(Body(Send("GET", "/api/v1/items/" + hidden_item + "/prelabels", &a))["data"].empty());
  EXPECT_EQ(Body(Send("GET", "/api/v1/items/" + hidden_item + "/prelabels", &manager))["data"].size(),
            hidden_item == items[0] ? 2u : 1u);
  // Arms follow the share in force: both earlier readings now count as hidden.
  auto stats_hidden = Body(Send("GET", base + "/prelabels/stats", &manager));
  for (const auto& s : stats_hidden["data"]) {
    if (s["model"]["version"] == "1") {
      EXPECT_EQ(s["anchoring"]["hidden"]["readings"], 2);
    }
  }
  EXPECT_EQ(AuditCount("prelabel.decide"), 2);
  EXPECT_GE(AuditCount("prelabel.upload"), 2);
}

TEST_F(WorkflowTest, ContextPrelabelsAreSuggestionsThatCarryTheirContext) {
  const std::string p = Project("ContextRun");
  Session manager = Member("ctx-manager", p, {core::Role::kManager});
  Session a = Member("c-reader", p, {core::Role::kAnnotator});
  const std::string base = "/api/v1/projects/" + p;
  auto note = [&](const std::string& patient, const std::string& text) {
    app::NewItem spec;
    spec.data_type = core::DataType::kNotes;
    spec.patient_key = patient;
    spec.content_type = "text/plain";
    std::istringstream content(text);
    auto item = app_->CreateItem(app::LocalOperator(), p, spec, content);
    EXPECT_TRUE(item.ok()) << item.status().ToString();
    return item->id;
  };
  const std::string text1 = "Chest film: no pneumonia. Mother had pneumonia.";
  const std::string n1 = note("pt-c1", text1);
  const std::string n2 = note("pt-c2", "Right lower lobe pneumonia.");
  const std::string run = base + "/prelabels/context";
  EXPECT_EQ(Send("POST", run, &manager, json::object())->status, 409) << "no guideline yet";
  Publish(manager, p, {"pneumonia"});
  auto no_terms = Send("POST", run, &manager, json::object());
  EXPECT_EQ(no_terms->status, 400);
  EXPECT_NE(no_terms->body.find("has terms"), std::string::npos) << no_terms->body;

  // Version 2 gives the class its terms and its code.
  const json code = {{"system", "SNOMED CT"}, {"code", "233604007"}, {"display", "Pneumonia"}};
  const json schema = {{"classes",
                        {{{"id", "pneumonia"}, {"name", "Pneumonia"}, {"kind", "span"}, {"definition", "pneumonia"},
                          {"terms", {"pneumonia"}}, {"codes", {code}}}}}};
  auto draft = Send("POST", base + "/guidelines", &manager, json{{"schema", schema}});
  ASSERT_EQ(draft->status, 201) << draft->body;
  ASSERT_EQ(Send("POST", base + "/guidelines/" + Body(draft)["id"].get<std::string>() + "/publish", &manager, nullptr,
                 {{"If-Match", draft->get_header_value("ETag")}})->status,
            200);
  EXPECT_EQ(Send("POST", run, &a, json::object())->status, 403);
  auto first = Send("POST", run, &manager, json::object());
  ASSERT_EQ(first->status, 200) << first->body;
  EXPECT_EQ(Body(first)["notes"], 2);
  EXPECT_TRUE(Body(first)["errors"].empty()) << first->body;
  const json stored = Body(first)["stored"];
  ASSERT_EQ(stored.size(), 3u) << first->body;
  std::map<std::pair<std::string, long>, json> by_place;
  for (const auto& s : stored) {
    EXPECT_EQ(s["model"], json({{"name", "context"}, {"version", "1"}}));
    EXPECT_EQ(s["evidence"]["kind"], "span");
    EXPECT_EQ(s["label"], json({{"class", "pneumonia"}, {"code_system", "SNOMED CT"}, {"code", "233604007"}}));
    by_place[{s["item_id"].get<std::string>(), s["evidence"]["data"]["start"].get<long>()}] = s;
  }
  const long negated = static_cast<long>(text1.find("pneumonia"));
  const long family = static_cast<long>(text1.rfind("pneumonia"));
  const std::pair<std::string, long> at_negated{n1, negated}, at_family{n1, family}, at_n2{n2, 17};
  ASSERT_EQ(by_place.count(at_negated), 1u) << first->body;
  ASSERT_EQ(by_place.count(at_family), 1u) << first->body;
  ASSERT_EQ(by_place.count(at_n2), 1u) << first->body;
  EXPECT_EQ(by_place[at_negated]["assertion"], "absent");
  EXPECT_EQ(by_place[at_negated]["evidence"]["data"]["end"], negated + 9);
  EXPECT_EQ(by_place[at_family]["attributes"]["experiencer"], "family");
  EXPECT_EQ(by_place[at_n2]["assertion"], "present");
  EXPECT_EQ(by_place[at_n2]["attributes"], json({{"experiencer", "patient"}, {"temporality", "current"}}));

  // Running again stores nothing new; pre-labels are never labels.
  auto again = Send("POST", run, &manager, json{{"item_ids", {n1}}});
  ASSERT_EQ(again->status, 200) << again->body;
  EXPECT_TRUE(Body(again)["stored"].empty());
  EXPECT_EQ(Body(again)["already_stored"], 2);
  EXPECT_TRUE(Body(Send("GET", "/api/v1/items/" + n1 + "/annotations", &manager))["data"].empty());
  EXPECT_GE(AuditCount("item.read", n1), 2) << "each note the pre-labeller reads is audited";

  // A reader who accepts the family mention gets a label with its context.
  ASSERT_EQ(Send("POST", base + "/tasks", &manager, json{{"item_ids", {n1}}})->status, 201);
  auto task = Send("POST", base + "/tasks/next", &a);
  ASSERT_EQ(task->status, 200) << task->body;
  const std::string pre = by_place[at_family]["id"];
  auto accepted = Send("POST", "/api/v1/items/" + n1 + "/prelabels/" + pre + "/decision", &a,
                       json{{"decision", "accepted"}});
  ASSERT_EQ(accepted->status, 201) << accepted->body;
  EXPECT_EQ(Body(accepted)["annotation"]["context"]["experiencer"], "family");
  EXPECT_EQ(Body(accepted)["annotation"]["origin"], "prelabel:context@1");
  EXPECT_EQ(Body(accepted)["annotation"]["label"]["code"], "233604007");
}

}  // namespace
}  // namespace caliper::http

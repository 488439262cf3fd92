#include "caliper/app/app.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <set>
#include <fstream>
#include <sstream>
#include <thread>

#include "app/workflow_internal.h"
#include "caliper/app/sweeper.h"
#include "caliper/exports/snapshot.h"

namespace caliper::app {
namespace {

namespace fs = std::filesystem;

class AppTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("caliper_app_test_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    auto init = App::Init(dir_.string(), config_);
    ASSERT_TRUE(init.ok()) << init.status().ToString();
    init_ = *init;
    Reopen();
  }
  void TearDown() override {
    app_.reset();
    fs::remove_all(dir_);
  }
  void Reopen() {
    app_.reset();
    auto app = App::Open(dir_.string(), config_, {});
    ASSERT_TRUE(app.ok()) << app.status().ToString();
    app_ = std::move(*app);
  }

  // The actions of every audit event, in order.
  std::vector<std::string> AuditActions() {
    std::vector<std::string> actions;
    EXPECT_TRUE(app_->ExportAudit(LocalOperator(), 0, SystemClock::Instance().Now() + kMicrosPerHour,
                                  [&](const storage::AuditEvent& e) {
                                    actions.push_back(e.action + ":" + e.outcome);
                                    return Status::Ok();
                                  })
                    .ok());
    return actions;
  }

  core::Item AddItem(const std::string& project_id, const std::string& text) {
    NewItem spec;
    spec.data_type = core::DataType::kNotes;
    spec.patient_key = "pt-1";
    spec.content_type = "text/plain";
    std::istringstream in(text);
    auto item = app_->CreateItem(LocalOperator(), project_id, spec, in);
    EXPECT_TRUE(item.ok()) << item.status().ToString();
    return item.ok() ? *item : core::Item{};
  }

  struct ReadProject {
    std::string project_id;
    RequestContext manager, steward, reviewer, adjudicator;
    std::vector<RequestContext> readers;
    std::vector<std::string> items;
    std::map<std::pair<int, int>, std::string> task_of;
  };
  void BuildReadProject() {
  // Six notes read by three readers each; r1 and r2 always give the truth (pneumonia on even
  // items, normal on odd ones), r3 disagrees on items 0..2. Items 0 and 1 are escalated and
  // adjudicated to the truth, r3's reading of item 2 is rejected, r1's of item 3 accepted.
  auto project = app_->CreateProject(LocalOperator(), "quality", "");
  ASSERT_TRUE(project.ok());
  rp_.project_id = project->id;
  auto member = [&](const std::string& name, core::Role role) {
    NewUser spec;
    spec.username = name;
    spec.password = "quality-test-passphrase-1";
    auto user = app_->CreateUser(LocalOperator(), spec);
    EXPECT_TRUE(user.ok()) << user.status().ToString();
    EXPECT_TRUE(app_->PutMember(LocalOperator(), project->id, user->user.id, {role}, {core::DataType::kNotes}).ok());
    RequestContext ctx;
    ctx.principal.user = user->user;
    return ctx;
  };
  rp_.manager = member("qmanager", core::Role::kManager);
  rp_.steward = member("qsteward", core::Role::kDataSteward);
  RequestContext& manager = rp_.manager;
  rp_.readers = {member("qr1", core::Role::kAnnotator), member("qr2", core::Role::kAnnotator),
                                         member("qr3", core::Role::kAnnotator)};
  rp_.reviewer = member("qreviewer", core::Role::kReviewer);
  rp_.adjudicator = member("qadjudicator", core::Role::kAdjudicator);
  auto& readers = rp_.readers;
  auto& reviewer = rp_.reviewer;
  auto& adjudicator = rp_.adjudicator;
  auto draft = app_->CreateGuidelineDraft(
      manager, project->id,
      R"({"classes":[{"id":"pneumonia","name":"Pneumonia","kind":"classification","definition":"d"},)"
      R"({"id":"normal","name":"Normal","kind":"classification","definition":"d"}]})");
  ASSERT_TRUE(draft.ok()) << draft.status().ToString();
  ASSERT_TRUE(app_->PublishGuideline(manager, project->id, draft->id, draft->revision).ok());
  core::WorkflowSettings settings;
  settings.project_id = project->id;
  settings.readers_per_item = 3;
  ASSERT_TRUE(app_->PutWorkflowSettings(manager, settings).ok());
  auto& items = rp_.items;
  for (int i = 0; i < 6; ++i) items.push_back(AddItem(project->id, "note " + std::to_string(i)).id);
  ASSERT_TRUE(app_->CreateTasks(manager, project->id, {}).ok());

  auto& task_of = rp_.task_of;  // (reader, item) -> task
  for (int r = 0; r < 3; ++r) {
    for (;;) {
      auto task = app_->ClaimNextTask(readers[r], project->id);
      ASSERT_TRUE(task.ok()) << task.status().ToString();
      if (!task->has_value()) break;
      const int i = static_cast<int>(std::find(items.begin(), items.end(), (*task)->item_id) - items.begin());
      const bool truth_is_pneumonia = i % 2 == 0;
      const bool says_pneumonia = (r == 2 && i <= 2) ? !truth_is_pneumonia : truth_is_pneumonia;
      core::Annotation a;
      a.evidence_kind = "document";
      a.evidence_json = "{}";
      a.label_class = says_pneumonia ? "pneumonia" : "normal";
      auto created = app_->CreateAnnotation(readers[r], (*task)->item_id, a);
      ASSERT_TRUE(created.ok()) << created.status().ToString();
      ASSERT_TRUE(app_->SubmitTask(readers[r], project->id, (*task)->id).ok());
      task_of[{r, i}] = (*task)->id;
    }
  }
  ASSERT_EQ(task_of.size(), 18u);
  auto review = [&](int r, int i, core::ReviewDecision decision, const std::string& reason) {
    ReviewRequest request;
    request.decision = decision;
    request.reason = reason;
    if (decision == core::ReviewDecision::kReject) request.reject_reason = core::RejectReason::kWrongClass;
    auto outcome = app_->ReviewTask(reviewer, project->id, task_of[{r, i}], request);
    ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  };
  review(2, 0, core::ReviewDecision::kEscalate, "readers disagree");
  review(2, 1, core::ReviewDecision::kEscalate, "readers disagree");
  review(2, 2, core::ReviewDecision::kReject, "");
  review(0, 3, core::ReviewDecision::kAccept, "");
  for (int i : {0, 1}) {
    auto readings = app_->ListReadings(adjudicator, items[static_cast<std::size_t>(i)]);
    ASSERT_TRUE(readings.ok());
    std::string truth_label;
    for (const auto& reading : readings->readings) {
      if (reading.task.id == task_of[{0, i}]) truth_label = reading.annotations.at(0).id;
    }
    AdjudicationRequest request;
    request.source_annotation_id = truth_label;
    request.rationale = "the consolidation is clear";
    auto decided = app_->Adjudicate(adjudicator, items[static_cast<std::size_t>(i)], request);
    ASSERT_TRUE(decided.ok()) << decided.status().ToString();
  }
  }
  ReadProject rp_;

  fs::path dir_;
  Config config_;
  InitResult init_;
  std::unique_ptr<App> app_;
};

TEST_F(AppTest, InitMakesPrivateKeysAndAFirstAdminOnce) {
  EXPECT_TRUE(init_.created);
  EXPECT_EQ(init_.admin_username, "admin");
  struct stat st {};
  ASSERT_EQ(::stat((dir_ / "keys/master.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat((dir_ / "keys").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  auto admin = app_->FindUser(LocalOperator(), "admin");
  ASSERT_TRUE(admin.ok());
  EXPECT_TRUE(admin->is_admin);
  EXPECT_TRUE(admin->must_change_password);
  auto again = App::Init(dir_.string(), config_);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->created);
  EXPECT_TRUE(again->admin_password.empty());
}

TEST_F(AppTest, OpenWithoutInitNamesTheFix) {
  auto app = App::Open((dir_ / "nowhere").string(), config_, {});
  ASSERT_FALSE(app.ok());
  EXPECT_NE(app.status().message().find("caliper init"), std::string::npos);
}

TEST_F(AppTest, ItemContentIsEncryptedAtRestAndEveryReadIsAudited) {
  auto project = app_->CreateProject(LocalOperator(), "p", "");
  ASSERT_TRUE(project.ok());
  const std::string text = "synthetic text: small hypodense lesion in segment VII";
  core::Item item = AddItem(project->id, text);
  for (const auto& f : fs::recursive_directory_iterator(dir_)) {
    if (!f.is_regular_file()) continue;
    std::ifstream in(f.path(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(bytes.find("hypodense"), std::string::npos) << f.path();
  }
  auto read = app_->ReadItemContent(LocalOperator(), item.id);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(*read, text);
  auto actions = AuditActions();
  EXPECT_NE(std::find(actions.begin(), actions.end(), "item.create:success"), actions.end());
  EXPECT_NE(std::find(actions.begin(), actions.end(), "item.read:success"), actions.end());
}

TEST_F(AppTest, AFailedChangeWritesNoAuditEvent) {
  ASSERT_TRUE(app_->CreateProject(LocalOperator(), "twice", "").ok());
  auto before = AuditActions().size();
  auto again = app_->CreateProject(LocalOperator(), "twice", "");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), ErrorCode::kAlreadyExists);
  // ExportAudit itself appends one "audit.export" event per call.
  EXPECT_EQ(AuditActions().size(), before + 1);
}

TEST_F(AppTest, DenialsAreAudited) {
  auto project = app_->CreateProject(LocalOperator(), "denials", "");
  ASSERT_TRUE(project.ok());
  auto user = app_->CreateUser(LocalOperator(), {"nobody", "", false, {}, ""});
  ASSERT_TRUE(user.ok());
  RequestContext ctx;
  ctx.principal.user = user->user;
  ctx.source_address = "192.0.2.7";
  Status s = app_->Authorize(ctx, security::Permission::kItemList, project->id, "", "GET items");
  EXPECT_EQ(s.code(), ErrorCode::kPermissionDenied);
  EXPECT_EQ(app_->Authorize(ctx, security::Permission::kItemList, "prj_0000000000000000000000000z", "", "GET items").code(),
            ErrorCode::kNotFound);
  auto actions = AuditActions();
  EXPECT_EQ(std::count(actions.begin(), actions.end(), "GET items:denied"), 2);
}

TEST_F(AppTest, KeyRotationKeepsContentReadableAndReplacesTheMasterKey) {
  auto project = app_->CreateProject(LocalOperator(), "rotate", "");
  ASSERT_TRUE(project.ok());
  core::Item item = AddItem(project->id, "before rotation");
  std::ifstream old_key_file(dir_ / "keys/master.key");
  std::string old_key((std::istreambuf_iterator<char>(old_key_file)), std::istreambuf_iterator<char>());

  auto plain = app_->RotateKeys(LocalOperator(), false);
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_EQ(plain->project_keys, 1);
  EXPECT_EQ(plain->data_keys, 1);
  auto master = app_->RotateKeys(LocalOperator(), true);
  ASSERT_TRUE(master.ok()) << master.status().ToString();
  std::ifstream new_key_file(dir_ / "keys/master.key");
  std::string new_key((std::istreambuf_iterator<char>(new_key_file)), std::istreambuf_iterator<char>());
  EXPECT_NE(new_key, old_key);
  EXPECT_FALSE(fs::exists(dir_ / "keys/master.key.previous"));
  Reopen();
  auto read = app_->ReadItemContent(LocalOperator(), item.id);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(*read, "before rotation");
  auto verify = app_->VerifyAudit(LocalOperator());
  ASSERT_TRUE(verify.ok());
  EXPECT_TRUE(verify->ok) << verify->problem;
}


TEST_F(AppTest, QualityIndicatorsFromAReadProject) {
  BuildReadProject();
  ASSERT_FALSE(HasFatalFailure());
  const auto& project_id = rp_.project_id;
  const auto& manager = rp_.manager;
  const auto& reviewer = rp_.reviewer;
  const auto& readers = rp_.readers;
  const auto& items = rp_.items;
  auto q = app_->GetProjectQuality(manager, project_id);
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ(q->items, 6);
  EXPECT_EQ(q->readings, 18);
  EXPECT_EQ(q->adjudicated_items, 2);
  // Krippendorff's alpha by hand: coincidences PP 5, NN 7, PN = NP 3 (n = 18); D_o = 6/18,
  // D_e = 2 * 8 * 10 / (18 * 17); alpha = 1 - D_o / D_e = 0.3625. One class per reading, so
  // the label set and each class give the same figure.
  ASSERT_EQ(q->agreement.size(), 3u);
  for (const auto& c : q->agreement) {
    ASSERT_TRUE(c.alpha.has_value()) << c.label_class << ": " << c.note;
    EXPECT_NEAR(*c.alpha, 0.3625, 1e-12) << c.label_class;
    EXPECT_EQ(c.items, 6);
    ASSERT_TRUE(c.ci.has_value());
    EXPECT_LE(c.ci->lo, *c.alpha);
    EXPECT_GE(c.ci->hi, *c.alpha);
  }
  EXPECT_EQ(q->rejection.overall.n, 4);
  EXPECT_EQ(q->rejection.overall.hits, 1);
  ASSERT_EQ(q->rejections_by_reason.size(), core::AllRejectReasons().size()) << "every code, zeros included";
  for (const auto& [reason, count] : q->rejections_by_reason) {
    EXPECT_EQ(count, reason == core::RejectReason::kWrongClass ? 1 : 0) << core::ToString(reason);
  }
  EXPECT_EQ(q->adjudication.overall.n, 6);
  EXPECT_EQ(q->adjudication.overall.hits, 2);
  // Readings on adjudicated items: 6, of which r3's two are wrong.
  EXPECT_EQ(q->error_by_modality.overall.n, 6);
  EXPECT_EQ(q->error_by_modality.overall.hits, 2);
  ASSERT_EQ(q->readers.readers.size(), 3u);
  for (const auto& r : q->readers.readers) {
    EXPECT_EQ(r.n, 2) << r.reader;
    EXPECT_EQ(r.agree, r.reader == readers[2].principal.user.id ? 0 : 2) << r.reader;
  }
  // Against the fused label (Dawid–Skene per class over the 18 readings): two of three readers
  // always agree, so it is the truth on every item, and r3 agrees on items 3..5 only. Fisher's
  // one-sided test for r3 against the pooled others, [[3, 3], [12, 0]] (15 agreements in 18
  // ratings, 6 of them r3's): P(X <= 3) = C(15,3) C(3,3) / C(18,6) = 455 / 18564; Holm over
  // three readers (r3's p the smallest): 3 * 455 / 18564 = 0.0735, not below 0.05.
  ASSERT_EQ(q->readers_fused.readers.size(), 3u);
  for (const auto& r : q->readers_fused.readers) {
    const bool r3 = r.reader == readers[2].principal.user.id;
    EXPECT_EQ(r.n, 6) << r.reader;
    EXPECT_EQ(r.agree, r3 ? 3 : 6) << r.reader;
    if (!r3) continue;
    EXPECT_NEAR(r.p_value, 455.0 / 18564.0, 1e-12);
    EXPECT_NEAR(r.p_adjusted, 3 * 455.0 / 18564.0, 1e-12);
    EXPECT_FALSE(r.flagged);
    EXPECT_EQ(r.confusion, (std::vector<std::vector<std::int64_t>>{{2, 1}, {2, 1}}))
        << "reference normal x reader {normal, pneumonia}: item 1 said pneumonia; reference pneumonia: items 0, 2 said normal";
  }
  EXPECT_EQ(q->readers_fused.unreferenced, 0);
  for (const auto& r : q->readers_gold.readers) EXPECT_EQ(r.n, 0) << "no gold items";
  EXPECT_EQ(q->readers_gold.unreferenced, 18);
  // Item 2's disagreement is not adjudicated; items 0 and 1 are.
  std::vector<std::string> unresolved;
  for (const auto& f : q->findings) {
    if (f.rule == "disagreement.unresolved") unresolved.push_back(f.item);
  }
  EXPECT_EQ(unresolved, std::vector<std::string>{items[2]});
  auto item_findings = app_->GetItemQaFindings(reviewer, items[2]);
  ASSERT_TRUE(item_findings.ok());
  ASSERT_EQ(item_findings->size(), 1u);
  EXPECT_EQ(item_findings->front().rule, "disagreement.unresolved");
  auto actions = AuditActions();
  EXPECT_EQ(std::count(actions.begin(), actions.end(), "quality.read:success"), 1);
  EXPECT_EQ(std::count(actions.begin(), actions.end(), "quality.item_read:success"), 1);
}


TEST_F(AppTest, ExportsNeedASecondPersonAndTokensAreOneTimeAndExpire) {
  BuildReadProject();
  ASSERT_FALSE(HasFatalFailure());
  // Reopen on a fake clock (starting now) so token lifetimes can be stepped through.
  FakeClock clock(SystemClock::Instance().Now());
  app_.reset();
  ASSERT_TRUE(config_.Set("export.allowed_dirs", (dir_ / "approved").string()).ok());
  App::Options options;
  options.clock = &clock;
  auto reopened = App::Open(dir_.string(), config_, options);
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  app_ = std::move(*reopened);
  const std::string& project_id = rp_.project_id;

  EXPECT_EQ(app_->RequestExport(rp_.manager, project_id, "", "{}").status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(app_->RequestExport(rp_.manager, project_id, "x", R"({"splits":{"train":0.9}})").status().code(),
            ErrorCode::kInvalidArgument);
  auto requested = app_->RequestExport(rp_.manager, project_id, "train the pneumonia model",
                                       R"({"splits":{"train":0.5,"validation":0.25,"test":0.25,"seed":3}})");
  ASSERT_TRUE(requested.ok()) << requested.status().ToString();
  EXPECT_EQ(requested->version, 1);
  // No token before it is built.
  EXPECT_EQ(app_->IssueExportToken(rp_.manager, project_id, requested->id, 10).status().code(), ErrorCode::kConflict);
  // The two-person rule: the manager may approve exports, but not their own request.
  auto self = app_->DecideExport(rp_.manager, project_id, requested->id, true, "mine");
  EXPECT_EQ(self.status().code(), ErrorCode::kPermissionDenied);
  auto built = app_->DecideExport(rp_.steward, project_id, requested->id, true, "IRB 2026-114");
  ASSERT_TRUE(built.ok()) << built.status().ToString();
  EXPECT_EQ(built->status, "built") << built->error;
  EXPECT_EQ(built->decided_by, rp_.steward.principal.user.id);
  EXPECT_EQ(app_->DecideExport(rp_.steward, project_id, requested->id, false, "").status().code(),
            ErrorCode::kConflict);

  auto token = app_->IssueExportToken(rp_.manager, project_id, requested->id, 10);
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  EXPECT_EQ(app_->IssueExportToken(rp_.manager, project_id, requested->id, 100000).status().code(),
            ErrorCode::kInvalidArgument);
  auto tar = app_->DownloadExport(token->token, "192.0.2.1");
  ASSERT_TRUE(tar.ok()) << tar.status().ToString();
  EXPECT_EQ(static_cast<std::int64_t>(tar->size()), built->snapshot_bytes);
  EXPECT_EQ(app_->DownloadExport(token->token, "192.0.2.1").status().code(), ErrorCode::kConflict);  // one time
  EXPECT_EQ(app_->DownloadExport("cex_not-a-token", "192.0.2.1").status().code(), ErrorCode::kNotFound);
  auto late = app_->IssueExportToken(rp_.manager, project_id, requested->id, 5);
  ASSERT_TRUE(late.ok());
  clock.Advance(5 * kMicrosPerMinute);
  EXPECT_EQ(app_->DownloadExport(late->token, "192.0.2.1").status().code(), ErrorCode::kNotFound);
  // The same snapshot downloaded again is byte-identical.
  auto again = app_->IssueExportToken(rp_.manager, project_id, requested->id, 5);
  ASSERT_TRUE(again.ok());
  auto tar2 = app_->DownloadExport(again->token, "192.0.2.1");
  ASSERT_TRUE(tar2.ok());
  EXPECT_EQ(*tar, *tar2);

  // Unpacked, it verifies; its labels are what the project says.
  const std::string out = (dir_ / "download").string();
  ASSERT_TRUE(exports::ExtractSnapshotTar(*tar, out).ok());
  auto checked = exports::VerifySnapshotDirectory(out);
  ASSERT_TRUE(checked.ok()) << checked.status().ToString();
  std::ifstream labels(out + "/labels.jsonl");
  std::map<std::string, nlohmann::json> by_item;
  for (std::string line; std::getline(labels, line);) {
    auto r = nlohmann::json::parse(line);
    by_item[r["item_id"]] = r;
  }
  ASSERT_EQ(by_item.size(), 6u);
  EXPECT_EQ(by_item[rp_.items[0]]["status"], "adjudicated");
  EXPECT_EQ(by_item[rp_.items[0]]["label_class"], "pneumonia");
  EXPECT_EQ(by_item[rp_.items[0]]["adjudication"]["rationale"], "the consolidation is clear");
  EXPECT_EQ(by_item[rp_.items[2]]["status"], "provisional");
  EXPECT_TRUE(by_item[rp_.items[2]]["disputed"].get<bool>());
  EXPECT_EQ(by_item[rp_.items[3]]["status"], "consensus");
  for (const auto& [item, r] : by_item) {
    for (const auto& reader : r["readers"]) {
      EXPECT_TRUE(reader["reader"].get<std::string>().starts_with("reader-")) << "readers are pseudonymous";
    }
  }
  std::ifstream manifest_file(out + "/manifest.json");
  const auto manifest = nlohmann::json::parse(manifest_file);
  EXPECT_EQ(manifest["approvers"], nlohmann::json::array({"qsteward"}));
  EXPECT_EQ(manifest["requested_by"], "qmanager");
  EXPECT_EQ(manifest["splits"]["seed"], 3);
  auto html = app_->ReadExportFile(rp_.steward, project_id, requested->id, "subgroup_report.html");
  ASSERT_TRUE(html.ok());
  EXPECT_NE(html->find("<svg"), std::string::npos);
  EXPECT_EQ(app_->ReadExportFile(rp_.steward, project_id, requested->id, "labels.jsonl").status().code(),
            ErrorCode::kNotFound);

  // Written to the server only below export.allowed_dirs.
  EXPECT_EQ(app_->WriteExportToPath(rp_.manager, project_id, requested->id, (dir_ / "elsewhere").string()).code(),
            ErrorCode::kPermissionDenied);
  EXPECT_EQ(app_->WriteExportToPath(rp_.manager, project_id, requested->id, (dir_ / "approved/../x").string()).code(),
            ErrorCode::kPermissionDenied);
  ASSERT_TRUE(app_->WriteExportToPath(rp_.manager, project_id, requested->id, (dir_ / "approved/v1").string()).ok());
  EXPECT_TRUE(exports::VerifySnapshotDirectory((dir_ / "approved/v1").string()).ok());

  // Every step is in the audit log, the refusals too.
  auto actions = AuditActions();
  auto count = [&](const std::string& a) { return std::count(actions.begin(), actions.end(), a); };
  EXPECT_EQ(count("export.request:success"), 1);
  EXPECT_EQ(count("export.approve:denied"), 1);  // the manager's own
  EXPECT_EQ(count("export.approve:success"), 1);
  EXPECT_EQ(count("export.build:success"), 1);
  EXPECT_EQ(count("export.token:success"), 3);
  EXPECT_EQ(count("export.download:success"), 2);
  EXPECT_EQ(count("export.download:denied"), 2);  // a reused and an expired token
  EXPECT_EQ(count("export.read:success"), 1);
  EXPECT_EQ(count("export.write:success"), 1);
}

// A build that failed (here: a note's blob gone from the disk) is built again once the blob is
// back, by a second person, under the same approval; nothing half-written in between.
TEST_F(AppTest, AFailedExportIsRebuiltOnceItsCauseIsPutRight) {
  BuildReadProject();
  ASSERT_FALSE(HasFatalFailure());
  const std::string& project_id = rp_.project_id;
  auto item = app_->GetItem(LocalOperator(), rp_.items[0]);
  ASSERT_TRUE(item.ok()) << item.status().ToString();
  const std::filesystem::path blob = dir_ / "blobs" / item->content_blob.substr(0, 2) / item->content_blob.substr(2);
  const std::filesystem::path aside = dir_ / "aside";
  ASSERT_TRUE(std::filesystem::exists(blob)) << blob;
  std::filesystem::rename(blob, aside);

  auto requested = app_->RequestExport(rp_.manager, project_id, "train", "{}");
  ASSERT_TRUE(requested.ok()) << requested.status().ToString();
  auto failed = app_->DecideExport(rp_.steward, project_id, requested->id, true, "IRB 2026-114");
  ASSERT_TRUE(failed.ok()) << failed.status().ToString();
  EXPECT_EQ(failed->status, "failed");
  EXPECT_NE(failed->error.find("the text of note item " + rp_.items[0]), std::string::npos) << failed->error;
  EXPECT_NE(failed->error.find(item->content_blob + " not found"), std::string::npos) << failed->error;
  EXPECT_EQ(failed->snapshot_blob, "");
  EXPECT_EQ(app_->IssueExportToken(rp_.manager, project_id, requested->id, 10).status().code(), ErrorCode::kConflict);

  // The requester may not rebuild their own request; nor does a rebuild before the cause is
  // put right do more than fail again.
  EXPECT_EQ(app_->RebuildExport(rp_.manager, project_id, requested->id).status().code(),
            ErrorCode::kPermissionDenied);
  auto again = app_->RebuildExport(rp_.steward, project_id, requested->id);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->status, "failed");

  std::filesystem::rename(aside, blob);
  auto rebuilt = app_->RebuildExport(rp_.steward, project_id, requested->id);
  ASSERT_TRUE(rebuilt.ok()) << rebuilt.status().ToString();
  EXPECT_EQ(rebuilt->status, "built") << rebuilt->error;
  EXPECT_EQ(rebuilt->error, "");
  EXPECT_EQ(rebuilt->decided_by, rp_.steward.principal.user.id) << "the approval stands";
  EXPECT_EQ(rebuilt->version, 1);
  auto token = app_->IssueExportToken(rp_.manager, project_id, requested->id, 10);
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  auto tar = app_->DownloadExport(token->token, "192.0.2.1");
  ASSERT_TRUE(tar.ok()) << tar.status().ToString();
  const std::string out = (dir_ / "download").string();
  ASSERT_TRUE(exports::ExtractSnapshotTar(*tar, out).ok());
  EXPECT_TRUE(exports::VerifySnapshotDirectory(out).ok());
  // A built export is never built again, nor is one still requested.
  EXPECT_EQ(app_->RebuildExport(rp_.steward, project_id, requested->id).status().code(), ErrorCode::kConflict);
  auto pending = app_->RequestExport(rp_.manager, project_id, "again", "{}");
  ASSERT_TRUE(pending.ok());
  EXPECT_EQ(app_->RebuildExport(rp_.steward, project_id, pending->id).status().code(), ErrorCode::kConflict);
  EXPECT_EQ(app_->RebuildExport(rp_.steward, project_id, "exp_nothing").status().code(), ErrorCode::kNotFound);

  auto actions = AuditActions();
  auto count = [&](const std::string& a) { return std::count(actions.begin(), actions.end(), a); };
  EXPECT_EQ(count("export.rebuild:success"), 2);
  EXPECT_EQ(count("export.rebuild:denied"), 1);
  EXPECT_EQ(count("export.build:success"), 3) << "the first build, the failed rebuild, the good one";
}

// A build cut off mid-way (the process stopped) leaves its export `approved`. Within the build
// lease (from its start or its last renewal) it may still be running, so nobody builds it again;
// past the lease a second person does.
TEST_F(AppTest, AnExportWhoseBuildWasCutOffIsBuiltAgainOnceItsLeaseHasRunOut) {
  BuildReadProject();
  ASSERT_FALSE(HasFatalFailure());
  const std::string& project_id = rp_.project_id;
  auto requested = app_->RequestExport(rp_.manager, project_id, "train", "{}");
  ASSERT_TRUE(requested.ok()) << requested.status().ToString();

  // What an approval writes before its build starts, left behind by a process that stopped.
  FakeClock clock(SystemClock::Instance().Now());
  app_.reset();
  {
    auto store = storage::OpenSqliteStore((dir_ / "caliper.db").string());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    auto txn = (*store)->Begin(storage::TxnMode::kWrite);
    ASSERT_TRUE(txn.ok());
    auto e = (*txn)->GetExport(requested->id);
    ASSERT_TRUE(e.ok());
    const std::int64_t revision = e->revision;
    e->status = "approved";
    e->decided_by = rp_.steward.principal.user.id;
    e->decided_at = e->build_started_at = clock.Now();
    e->build_renewed_at = clock.Now() + 8 * kMicrosPerMinute;  // its last renewal before it stopped
    e->revision = revision + 1;
    ASSERT_TRUE((*txn)->UpdateExport(*e, revision).ok());
    ASSERT_TRUE((*txn)->Commit().ok());
  }
  App::Options options;
  options.clock = &clock;
  auto reopened = App::Open(dir_.string(), config_, options);
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  app_ = std::move(*reopened);

  auto early = app_->RebuildExport(rp_.steward, project_id, requested->id);
  EXPECT_EQ(early.status().code(), ErrorCode::kConflict);
  EXPECT_NE(early.status().message().find("may still run"), std::string::npos) << early.status().ToString();
  EXPECT_NE(early.status().message().find("export.build_lease_minutes"), std::string::npos);
  clock.Advance(10 * kMicrosPerMinute + 1);
  auto renewed = app_->RebuildExport(rp_.steward, project_id, requested->id);
  EXPECT_EQ(renewed.status().code(), ErrorCode::kConflict)
      << "10 minutes (the default lease) after its start, but the build renewed its lease at 8";
  EXPECT_NE(renewed.status().message().find("lease renewed"), std::string::npos) << renewed.status().ToString();
  clock.Advance(8 * kMicrosPerMinute - 1);
  EXPECT_EQ(app_->RebuildExport(rp_.steward, project_id, requested->id).status().code(), ErrorCode::kConflict)
      << "exactly 10 minutes after the last renewal: not run out yet";
  clock.Advance(1);
  EXPECT_EQ(app_->RebuildExport(rp_.manager, project_id, requested->id).status().code(),
            ErrorCode::kPermissionDenied);
  auto rebuilt = app_->RebuildExport(rp_.steward, project_id, requested->id);
  ASSERT_TRUE(rebuilt.ok()) << rebuilt.status().ToString();
  EXPECT_EQ(rebuilt->status, "built") << rebuilt->error;
  EXPECT_EQ(rebuilt->build_started_at, clock.Now());
  EXPECT_FALSE(rebuilt->build_renewed_at) << "a new build starts a new lease (too short to be renewed here)";
  auto token = app_->IssueExportToken(rp_.manager, project_id, requested->id, 10);
  ASSERT_TRUE(token.ok()) << token.status().ToString();

  std::vector<std::string> details;
  ASSERT_TRUE(app_->ExportAudit(LocalOperator(), 0, clock.Now() + kMicrosPerHour,
                                [&](const storage::AuditEvent& e) {
                                  if (e.action == "export.rebuild" && e.outcome == "success") {
                                    details.push_back(e.details_json);
                                  }
                                  return Status::Ok();
                                })
                  .ok());
  ASSERT_EQ(details.size(), 1u);
  EXPECT_EQ(nlohmann::json::parse(details[0])["previous_status"], "approved") << details[0];
  EXPECT_TRUE(nlohmann::json::parse(details[0]).contains("build_started_at")) << details[0];
  EXPECT_TRUE(nlohmann::json::parse(details[0]).contains("build_renewed_at")) << details[0];
}

// A running build renews its lease (here every millisecond instead of every fifth of
// export.build_lease_minutes), each renewal audited; the export keeps its last renewal.
TEST_F(AppTest, ARunningExportBuildRenewsItsLease) {
  BuildReadProject();
  ASSERT_FALSE(HasFatalFailure());
  App::Options options;
  options.export_lease_renewal = std::chrono::milliseconds(1);
  app_.reset();
  auto reopened = App::Open(dir_.string(), config_, options);
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  app_ = std::move(*reopened);
  // A small build can end before the renewing thread is first scheduled (seen on a fast machine
  // under ctest -j2, and with both cores busy, where ten builds in a row ended first): builds
  // for up to ten seconds, until one has renewed its lease. A build that did not renew it
  // recorded no renewal, so every renewal audited is the last build's.
  std::optional<storage::DatasetExport> built;
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!(built && built->build_renewed_at) && std::chrono::steady_clock::now() < give_up) {
    auto requested = app_->RequestExport(rp_.manager, rp_.project_id, "train", "{}");
    ASSERT_TRUE(requested.ok()) << requested.status().ToString();
    auto decided = app_->DecideExport(rp_.steward, rp_.project_id, requested->id, true, "ok");
    ASSERT_TRUE(decided.ok()) << decided.status().ToString();
    EXPECT_EQ(decided->status, "built") << decided->error;
    built = *decided;
  }
  ASSERT_TRUE(built->build_renewed_at) << "builds for ten seconds each took too little time to renew their lease";
  EXPECT_GT(*built->build_renewed_at, *built->build_started_at);
  auto stored = app_->GetExport(rp_.steward, rp_.project_id, built->id);
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->build_renewed_at, built->build_renewed_at);
  auto actions = AuditActions();
  const auto renewals = std::count(actions.begin(), actions.end(), "export.build_lease:success");
  EXPECT_GE(renewals, 1);
  // Every renewal lies between the last approval and the last build's result.
  const auto last = [&](const char* action) {
    const auto it = std::find(actions.rbegin(), actions.rend(), action);
    return it == actions.rend() ? actions.end() : std::prev(it.base());
  };
  const auto approve = last("export.approve:success");
  const auto result = last("export.build:success");
  ASSERT_NE(approve, actions.end());
  ASSERT_NE(result, actions.end());
  ASSERT_LT(approve, result);
  EXPECT_EQ(std::count(approve, result, "export.build_lease:success"), renewals);
  auto verify = app_->VerifyAudit(LocalOperator());
  ASSERT_TRUE(verify.ok()) << verify.status().ToString();
  EXPECT_TRUE(verify->ok) << verify->problem;
}

// ---- automatic adjudication and annotation history ----------------------------------------------

// A project with k = 2 readers on note items and a guideline whose classes set adjudication
// thresholds: pneumonia (class mismatch, low confidence below 0.5, resolved by managers),
// severity (grades 2 apart) and normal (no thresholds).
class WorkflowAppTest : public AppTest {
 protected:
  void SetUp() override {
    AppTest::SetUp();
    auto project = app_->CreateProject(LocalOperator(), "triggers", "");
    ASSERT_TRUE(project.ok());
    project_id_ = project->id;
    manager_ = Member("wmanager", {core::Role::kManager});
    readers_ = {Member("wr1", {core::Role::kAnnotator}), Member("wr2", {core::Role::kAnnotator})};
    reviewer_ = Member("wreviewer", {core::Role::kReviewer});
    adjudicator_ = Member("wadjudicator", {core::Role::kAdjudicator});
    senior_ = Member("wsenior", {core::Role::kAdjudicator, core::Role::kManager});
    auto draft = app_->CreateGuidelineDraft(
        manager_, project_id_,
        R"({"classes":[{"id":"pneumonia","name":"Pneumonia","kind":"classification","definition":"d",)"
        R"("resolver_role":"manager","adjudication":{"low_confidence_below":0.5}},)"
        R"({"id":"severity","name":"Severity","kind":"ordinal_grade","definition":"d","adjudication":)"
        R"({"class_mismatch":false,"grade_distance":2}},)"
        R"({"id":"normal","name":"Normal","kind":"classification","definition":"d"}]})");
    ASSERT_TRUE(draft.ok()) << draft.status().ToString();
    ASSERT_TRUE(app_->PublishGuideline(manager_, project_id_, draft->id, draft->revision).ok());
    core::WorkflowSettings settings;
    settings.project_id = project_id_;
    settings.readers_per_item = 2;
    ASSERT_TRUE(app_->PutWorkflowSettings(manager_, settings).ok());
  }

  RequestContext Member(const std::string& name, const std::vector<core::Role>& roles) {
    NewUser spec;
    spec.username = name;
    spec.password = "workflow-test-passphrase-1";
    auto user = app_->CreateUser(LocalOperator(), spec);
    EXPECT_TRUE(user.ok()) << user.status().ToString();
    EXPECT_TRUE(app_->PutMember(LocalOperator(), project_id_, user->user.id, roles, {core::DataType::kNotes}).ok());
    RequestContext ctx;
    ctx.principal.user = user->user;
    return ctx;
  }

  // Tasks for the items, oldest first in the order given (fifo serves them so).
  void TasksInOrder(const std::vector<std::string>& items) {
    for (const auto& item : items) ASSERT_TRUE(app_->CreateTasks(manager_, project_id_, {item}).ok());
  }

  // Reader r claims the item's task, labels it and submits; returns the submitted task.
  core::Task Read(int r, const std::string& item_id, std::vector<core::Annotation> labels) {
    auto task = app_->ClaimNextTask(readers_[r], project_id_);
    EXPECT_TRUE(task.ok() && task->has_value());
    if (!task.ok() || !task->has_value()) return {};
    EXPECT_EQ((*task)->item_id, item_id) << "fifo: items are read in order";
    for (auto& a : labels) {
      auto created = app_->CreateAnnotation(readers_[r], item_id, a);
      EXPECT_TRUE(created.ok()) << created.status().ToString();
    }
    auto submitted = app_->SubmitTask(readers_[r], project_id_, (*task)->id);
    EXPECT_TRUE(submitted.ok()) << submitted.status().ToString();
    return submitted.ok() ? *submitted : core::Task{};
  }

  static core::Annotation Label(const std::string& cls, std::optional<double> confidence = std::nullopt,
                                const std::string& kind = "document", const std::string& data = "{}") {
    core::Annotation a;
    a.evidence_kind = kind;
    a.evidence_json = data;
    a.label_class = cls;
    a.confidence = confidence;
    return a;
  }

  std::string project_id_;
  RequestContext manager_, reviewer_, adjudicator_, senior_;
  std::vector<RequestContext> readers_;
};

TEST_F(WorkflowAppTest, ABlindedReadersPagesNeverNameAnotherReadersLabel) {
  const std::string item = AddItem(project_id_, "paged note").id;
  TasksInOrder({item});
  std::map<int, std::set<std::string>> made;  // reader -> label ids
  for (int r = 0; r < 2; ++r) {
    auto task = app_->ClaimNextTask(readers_[r], project_id_);
    ASSERT_TRUE(task.ok() && task->has_value());
  }
  for (int n = 0; n < 6; ++n) {  // interleaved: ids are random, so the readers' labels mix in id order
    for (int r = 0; r < 2; ++r) {
      auto created = app_->CreateAnnotation(readers_[r], item, Label("pneumonia"));
      ASSERT_TRUE(created.ok()) << created.status().ToString();
      made[r].insert(created->id);
    }
  }
  for (int limit : {1, 2, 5}) {
    std::set<std::string> seen;
    storage::PageRequest page{"", limit};
    for (int pages = 0;; ++pages) {
      ASSERT_LT(pages, 20);
      auto rows = app_->ListAnnotations(readers_[0], item, page);
      ASSERT_TRUE(rows.ok()) << rows.status().ToString();
      EXPECT_LE(rows->rows.size(), static_cast<std::size_t>(limit));
      for (const auto& a : rows->rows) seen.insert(a.id);
      if (rows->next.empty()) break;
      EXPECT_EQ(rows->rows.size(), static_cast<std::size_t>(limit)) << "no short page before the last";
      EXPECT_EQ(made[0].count(rows->next), 1u) << "limit " << limit << ": the cursor names " << rows->next;
      page.after = rows->next;
    }
    EXPECT_EQ(seen, made[0]) << "limit " << limit;
  }
}

TEST_F(WorkflowAppTest, TheKthReadingStartsAdjudicationWhenAClassThresholdIsCrossed) {
  std::vector<std::string> items;
  for (int i = 0; i < 4; ++i) items.push_back(AddItem(project_id_, "note " + std::to_string(i)).id);
  TasksInOrder(items);
  auto grade = [](int g) { return Label("severity", std::nullopt, "value", R"({"value":)" + std::to_string(g) + "}"); };
  // Reader 1 reads all four items first: one reading of k = 2 starts nothing.
  const core::Task first = Read(0, items[0], {Label("pneumonia", 0.9)});
  EXPECT_EQ(first.state, core::TaskState::kSubmitted);
  Read(0, items[1], {grade(1)});
  Read(0, items[2], {Label("pneumonia", 0.3)});
  Read(0, items[3], {Label("pneumonia", 0.9), grade(2)});
  // Reader 2: a different class; grades 2 apart; agreement under low confidence; agreement.
  EXPECT_EQ(Read(1, items[0], {Label("normal", 0.9)}).state, core::TaskState::kEscalated);
  EXPECT_EQ(Read(1, items[1], {grade(3)}).state, core::TaskState::kEscalated);
  EXPECT_EQ(Read(1, items[2], {Label("pneumonia", 0.8)}).state, core::TaskState::kEscalated);
  EXPECT_EQ(Read(1, items[3], {Label("pneumonia", 0.7), grade(3)}).state, core::TaskState::kSubmitted);
  auto first_now = app_->GetTask(manager_, project_id_, first.id);
  ASSERT_TRUE(first_now.ok());
  EXPECT_EQ(first_now->state, core::TaskState::kEscalated) << "every reading of the item goes";

  auto reasons = [&](const std::string& item_id) {
    auto view = app_->ListReadings(adjudicator_, item_id);
    EXPECT_TRUE(view.ok()) << view.status().ToString();
    std::vector<std::string> out;
    if (view.ok()) {
      for (const auto& g : view->triggers) out.push_back(g.label_class + ":" + g.reason);
    }
    return out;
  };
  using Strings = std::vector<std::string>;
  EXPECT_EQ(reasons(items[0]), Strings({"pneumonia:class_mismatch"})) << "normal sets no thresholds";
  EXPECT_EQ(reasons(items[1]), Strings({"severity:grade_distance"}));
  EXPECT_EQ(reasons(items[2]), Strings({"pneumonia:low_confidence"}));
  EXPECT_TRUE(reasons(items[3]).empty());

  // The adjudicator's view: the disagreement and the fused suggestion per class.
  auto view = app_->ListReadings(adjudicator_, items[0]);
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->readings.size(), 2u);
  ASSERT_EQ(view->classes.size(), 2u);
  EXPECT_EQ(view->classes[1].label_class, "pneumonia");
  EXPECT_EQ(view->classes[1].naming, 1);
  ASSERT_TRUE(view->classes[1].posterior.has_value());
  EXPECT_GT(*view->classes[1].posterior, 0.0);
  EXPECT_LT(*view->classes[1].posterior, 1.0);
  EXPECT_DOUBLE_EQ(*view->classes[1].min_confidence, 0.9);

  // Pneumonia is resolved by managers: an adjudicator without the role is refused.
  std::string pneumonia_label;
  for (const auto& r : view->readings) {
    for (const auto& a : r.annotations) {
      if (a.label_class == "pneumonia") pneumonia_label = a.id;
    }
  }
  AdjudicationRequest request;
  request.source_annotation_id = pneumonia_label;
  request.rationale = "consolidation on the note's findings";
  auto refused = app_->Adjudicate(adjudicator_, items[0], request);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), ErrorCode::kPermissionDenied);
  auto decided = app_->Adjudicate(senior_, items[0], request);
  ASSERT_TRUE(decided.ok()) << decided.status().ToString();
  EXPECT_EQ(decided->tasks.size(), 2u);

  auto actions = AuditActions();
  auto count = [&](const std::string& a) { return std::count(actions.begin(), actions.end(), a); };
  EXPECT_EQ(count("task.escalate:success"), 6);
  EXPECT_EQ(count("readings.read:success"), 5);
}

TEST_F(WorkflowAppTest, EveryChangeOfALabelIsKeptWithWhoWhenAndWhy) {
  const std::string item_id = AddItem(project_id_, "note").id;
  ASSERT_TRUE(app_->CreateTasks(manager_, project_id_, {}).ok());
  auto task = app_->ClaimNextTask(readers_[0], project_id_);
  ASSERT_TRUE(task.ok() && task->has_value());
  auto created = app_->CreateAnnotation(readers_[0], item_id, Label("normal", 0.6));
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  AnnotationPatch patch;
  patch.label_class = "pneumonia";
  patch.reason = "missed the infiltrate";
  auto edited = app_->UpdateAnnotation(readers_[0], created->id, 1, patch);
  ASSERT_TRUE(edited.ok()) << edited.status().ToString();
  AnnotationPatch sure;
  sure.confidence = 0.95;
  ASSERT_TRUE(app_->UpdateAnnotation(readers_[0], created->id, 2, sure).ok());
  AnnotationPatch long_reason;
  long_reason.reason = std::string(2001, 'x');
  auto too_long = app_->UpdateAnnotation(readers_[0], created->id, 3, long_reason);
  ASSERT_FALSE(too_long.ok());
  EXPECT_NE(too_long.status().message().find("reason"), std::string::npos);
  ASSERT_TRUE(app_->SubmitTask(readers_[0], project_id_, (*task)->id).ok());
  ReviewRequest correct;
  correct.decision = core::ReviewDecision::kCorrect;
  correct.annotation_id = created->id;
  correct.reason = "a lobar pattern";
  correct.correction = Label("pneumonia", 1.0);
  ASSERT_TRUE(app_->ReviewTask(reviewer_, project_id_, (*task)->id, correct).ok());

  auto history = app_->GetAnnotationHistory(readers_[0], created->id);
  ASSERT_TRUE(history.ok()) << history.status().ToString();
  ASSERT_EQ(history->size(), 4u);
  const auto& h = *history;
  EXPECT_EQ(h[0].change, "create");
  EXPECT_EQ(h[0].annotation.label_class, "normal");
  EXPECT_EQ(h[0].by, readers_[0].principal.user.id);
  EXPECT_EQ(h[1].change, "edit");
  EXPECT_EQ(h[1].annotation.revision, 2);
  EXPECT_EQ(h[1].annotation.label_class, "pneumonia");
  EXPECT_EQ(h[1].reason, "missed the infiltrate");
  EXPECT_GE(h[1].at, h[0].at);
  EXPECT_EQ(h[2].annotation.revision, 3);
  EXPECT_EQ(*h[2].annotation.confidence, 0.95);
  EXPECT_EQ(h[2].reason, "");
  EXPECT_EQ(h[3].change, "correction");
  EXPECT_EQ(h[3].by, reviewer_.principal.user.id);
  EXPECT_EQ(h[3].reason, "a lobar pattern");

  // Blinding: another reader never learns the label exists; others see it.
  auto blinded = app_->GetAnnotationHistory(readers_[1], created->id);
  ASSERT_FALSE(blinded.ok());
  EXPECT_EQ(blinded.status().code(), ErrorCode::kNotFound);
  EXPECT_TRUE(app_->GetAnnotationHistory(adjudicator_, created->id).ok());
  auto actions = AuditActions();
  EXPECT_EQ(std::count(actions.begin(), actions.end(), "annotation.history:success"), 2);
}

TEST_F(WorkflowAppTest, GoldItemsAreServedAtTheRateAndScoreEachReader) {
  std::vector<std::string> items;
  for (int i = 0; i < 3; ++i) items.push_back(AddItem(project_id_, "note " + std::to_string(i)).id);
  auto unknown = app_->SetGoldItem(manager_, items[2], {"pneumonia", "fracture"});
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(unknown.status().message().find("answers: class 'fracture'"), std::string::npos);
  auto gold = app_->SetGoldItem(manager_, items[2], {"pneumonia", "pneumonia"});
  ASSERT_TRUE(gold.ok()) << gold.status().ToString();
  EXPECT_EQ(gold->answer, std::vector<std::string>{"pneumonia"});

  core::WorkflowSettings settings;
  settings.project_id = project_id_;
  settings.readers_per_item = 2;
  settings.gold_rate = 1.5;
  EXPECT_EQ(app_->PutWorkflowSettings(manager_, settings).status().code(), ErrorCode::kInvalidArgument);
  settings.gold_rate = 1;  // every claim serves gold first while there is some
  ASSERT_TRUE(app_->PutWorkflowSettings(manager_, settings).ok());
  TasksInOrder(items);
  for (int r = 0; r < 2; ++r) {
    auto task = app_->ClaimNextTask(readers_[r], project_id_);
    ASSERT_TRUE(task.ok() && task->has_value());
    EXPECT_EQ((*task)->item_id, items[2]) << "the newest item, but gold";
    ASSERT_TRUE(app_->CreateAnnotation(readers_[r], items[2], Label(r == 0 ? "pneumonia" : "normal")).ok());
    ASSERT_TRUE(app_->SubmitTask(readers_[r], project_id_, (*task)->id).ok());
  }
  auto next = app_->ClaimNextTask(readers_[0], project_id_);
  ASSERT_TRUE(next.ok() && next->has_value());
  EXPECT_EQ((*next)->item_id, items[0]) << "no gold left: fifo";

  auto q = app_->GetProjectQuality(manager_, project_id_);
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  std::map<std::string, quality::ReaderScore> by_reader;
  for (const auto& g : q->readers_gold.readers) by_reader[g.reader] = g;
  ASSERT_EQ(by_reader.size(), 2u);
  const auto& right = by_reader[readers_[0].principal.user.id];
  const auto& wrong = by_reader[readers_[1].principal.user.id];
  EXPECT_EQ(right.n, 1);
  EXPECT_EQ(right.agree, 1);
  EXPECT_DOUBLE_EQ(right.accuracy, 1.0);
  EXPECT_EQ(wrong.n, 1);
  EXPECT_EQ(wrong.agree, 0);
  EXPECT_DOUBLE_EQ(wrong.accuracy, 0.0);
  // Fisher's one-sided test of [[0, 1], [1, 0]]: P(X <= 0) = C(1,0) C(1,1) / C(2,1) = 1/2,
  // Holm over two readers: min(1, 2 * 1/2) = 1.
  EXPECT_DOUBLE_EQ(wrong.p_value, 0.5);
  EXPECT_DOUBLE_EQ(wrong.p_adjusted, 1.0);
  EXPECT_FALSE(wrong.flagged);
  EXPECT_EQ(q->readers_gold.unreferenced, 0) << "the non-gold item 0 is claimed but not yet submitted";
  auto actions = AuditActions();
  EXPECT_EQ(std::count(actions.begin(), actions.end(), "item.gold:success"), 1);
}

// ---- randomised serving: each test also takes its measure with the feature off (fifo,
// gold_rate 0, share 0) and sees it fall outside the bounds, so the bounds can fail ----

// The number of pairs out of order: 0 for the order of creation. For a uniformly random
// permutation of n it has mean n(n-1)/4 and variance n(n-1)(2n+5)/72.
int Inversions(const std::vector<int>& order) {
  int n = 0;
  for (std::size_t i = 0; i < order.size(); ++i) {
    for (std::size_t j = i + 1; j < order.size(); ++j) n += order[i] > order[j] ? 1 : 0;
  }
  return n;
}

TEST_F(WorkflowAppTest, RandomOrderServesEveryTaskOnceShuffledAndDifferentlyPerProject) {
  constexpr int kItems = 20;
  // One reader claims every task of a project whose tasks were made in item order; the answer
  // is the creation index of each item as it was served.
  auto served_order = [&](const std::string& project_id, core::TaskOrder task_order) {
    std::vector<std::string> items;
    for (int i = 0; i < kItems; ++i) items.push_back(AddItem(project_id, "note " + std::to_string(i)).id);
    core::WorkflowSettings settings;
    settings.project_id = project_id;
    settings.readers_per_item = 1;
    settings.task_order = task_order;
    EXPECT_TRUE(app_->PutWorkflowSettings(LocalOperator(), settings).ok());
    for (const auto& item : items) EXPECT_TRUE(app_->CreateTasks(LocalOperator(), project_id, {item}).ok());
    std::vector<int> order;
    for (int n = 0; n < kItems; ++n) {
      auto task = app_->ClaimNextTask(readers_[0], project_id);
      if (!task.ok() || !task->has_value()) {
        ADD_FAILURE() << "claim " << n << ": " << (task.ok() ? "nothing left" : task.status().ToString());
        break;
      }
      order.push_back(static_cast<int>(std::find(items.begin(), items.end(), (*task)->item_id) - items.begin()));
    }
    auto none = app_->ClaimNextTask(readers_[0], project_id);
    EXPECT_TRUE(none.ok() && !none->has_value()) << "every task is served once";
    return order;
  };
  std::vector<std::string> others;
  for (const char* name : {"random order, second project", "fifo order, control"}) {
    auto other = app_->CreateProject(LocalOperator(), name, "");
    ASSERT_TRUE(other.ok());
    ASSERT_TRUE(app_->PutMember(LocalOperator(), other->id, readers_[0].principal.user.id, {core::Role::kAnnotator},
                                {core::DataType::kNotes}).ok());
    others.push_back(other->id);
  }
  const std::vector<int> first = served_order(project_id_, core::TaskOrder::kRandom);
  const std::vector<int> second = served_order(others[0], core::TaskOrder::kRandom);
  const std::vector<int> fifo = served_order(others[1], core::TaskOrder::kFifo);
  ASSERT_FALSE(HasFailure());

  std::vector<int> creation(kItems);
  for (int i = 0; i < kItems; ++i) creation[static_cast<std::size_t>(i)] = i;
  for (const auto* order : {&first, &second}) {
    std::vector<int> sorted = *order;
    std::sort(sorted.begin(), sorted.end());
    EXPECT_EQ(sorted, creation) << "the same items, each once";
    EXPECT_NE(*order, creation) << "not the order of creation";
    // 20 items: mean 95 inversions, sd 15.4; a shuffle falls outside 26..164 (4.5 sd) with
    // probability 5e-7 (exact count). fifo gives 0, a reversed order 190.
    EXPECT_GE(Inversions(*order), 26) << ::testing::PrintToString(*order);
    EXPECT_LE(Inversions(*order), 164) << ::testing::PrintToString(*order);
  }
  EXPECT_NE(first, second) << "two projects (two seeds) are served in different orders";
  // The same measure with the feature off: fifo serves the creation order (0 inversions).
  EXPECT_EQ(fifo, creation);
  EXPECT_EQ(Inversions(fifo), 0);
}

TEST_F(WorkflowAppTest, AGoldRateOfAQuarterServesGoldOnAboutAQuarterOfClaims) {
  constexpr int kGold = 100, kPlain = 200, kClaims = 200;
  // A project of 100 gold and 200 other items at `rate`: how many of 200 claims serve gold.
  // Gold stays claimable throughout (at most 100 gold claims) and so do the others (200).
  auto gold_served_at = [&](double rate) {
    auto project = app_->CreateProject(LocalOperator(), "gold at " + std::to_string(rate), "");
    EXPECT_TRUE(project.ok());
    if (!project.ok()) return -1;
    EXPECT_TRUE(app_->PutMember(LocalOperator(), project->id, readers_[0].principal.user.id,
                                {core::Role::kAnnotator}, {core::DataType::kNotes}).ok());
    auto draft = app_->CreateGuidelineDraft(
        LocalOperator(), project->id,
        R"({"classes":[{"id":"pneumonia","name":"Pneumonia","kind":"classification","definition":"d"}]})");
    EXPECT_TRUE(draft.ok() && app_->PublishGuideline(LocalOperator(), project->id, draft->id, draft->revision).ok());
    std::set<std::string> gold;
    for (int i = 0; i < kGold + kPlain; ++i) {
      const std::string item = AddItem(project->id, "note " + std::to_string(i)).id;
      if (i % 3 == 0) {  // gold spread among the others, so creation order does not favour them
        EXPECT_TRUE(app_->SetGoldItem(LocalOperator(), item, {"pneumonia"}).ok());
        gold.insert(item);
      }
    }
    EXPECT_EQ(gold.size(), static_cast<std::size_t>(kGold));
    core::WorkflowSettings settings;
    settings.project_id = project->id;
    settings.readers_per_item = 1;
    settings.gold_rate = rate;
    EXPECT_TRUE(app_->PutWorkflowSettings(LocalOperator(), settings).ok());
    EXPECT_TRUE(app_->CreateTasks(LocalOperator(), project->id, {}).ok());
    int served = 0;
    for (int n = 0; n < kClaims; ++n) {
      auto task = app_->ClaimNextTask(readers_[0], project->id);
      if (!task.ok() || !task->has_value()) {
        ADD_FAILURE() << "claim " << n;
        break;
      }
      served += gold.count((*task)->item_id) > 0 ? 1 : 0;
    }
    return served;
  };
  // Binomial(200, 0.25): mean 50, sd 6.1. Accepted: 23..77 (4.4 sd; P(outside) = 9.5e-6).
  const int served = gold_served_at(0.25);
  EXPECT_GE(served, 23);
  EXPECT_LE(served, 77);
  // The same measure with the feature off: rate 0 serves gold only after the rest (none here).
  EXPECT_EQ(gold_served_at(0), 0);
}

TEST_F(WorkflowAppTest, APrelabelHiddenShareHidesFromAboutThatShareOfReadersAlwaysTheSame) {
  constexpr int kProjects = 20, kReaders = 10;
  constexpr double kShare = 0.3;
  std::vector<RequestContext> readers;
  for (int r = 0; r < kReaders; ++r) {
    NewUser spec;
    spec.username = "hidden-share-" + std::to_string(r);
    spec.password = "workflow-test-passphrase-1";
    auto user = app_->CreateUser(LocalOperator(), spec);
    ASSERT_TRUE(user.ok()) << user.status().ToString();
    RequestContext ctx;
    ctx.principal.user = user->user;
    readers.push_back(ctx);
  }
  // The arm is drawn per (project, reader): 20 projects x 10 readers are 200 draws.
  int hidden = 0, shown = 0;
  std::vector<std::pair<std::string, std::string>> first_items;  // (project, its first item)
  for (int p = 0; p < kProjects; ++p) {
    auto project = app_->CreateProject(LocalOperator(), "hidden share " + std::to_string(p), "");
    ASSERT_TRUE(project.ok());
    auto draft = app_->CreateGuidelineDraft(
        LocalOperator(), project->id,
        R"({"classes":[{"id":"pneumonia","name":"Pneumonia","kind":"classification","definition":"d"}]})");
    ASSERT_TRUE(draft.ok()) << draft.status().ToString();
    ASSERT_TRUE(app_->PublishGuideline(LocalOperator(), project->id, draft->id, draft->revision).ok());
    core::WorkflowSettings settings;
    settings.project_id = project->id;
    settings.prelabel_hidden_share = kShare;
    ASSERT_TRUE(app_->PutWorkflowSettings(LocalOperator(), settings).ok());
    std::vector<core::Prelabel> suggestions;
    const std::vector<std::string> items = {AddItem(project->id, "a").id, AddItem(project->id, "b").id};
    first_items.emplace_back(project->id, items[0]);
    for (const auto& item : items) {
      core::Prelabel s;
      s.item_id = item;
      s.model_name = "m";
      s.model_version = "1";
      s.evidence_kind = "document";
      s.label_class = "pneumonia";
      suggestions.push_back(s);
    }
    ASSERT_TRUE(app_->AddPrelabels(LocalOperator(), project->id, suggestions).ok());
    for (const auto& reader : readers) {
      ASSERT_TRUE(app_->PutMember(LocalOperator(), project->id, reader.principal.user.id, {core::Role::kAnnotator},
                                  {core::DataType::kNotes}).ok());
      // Both items, the first twice: a reader is in one arm for the whole project.
      std::vector<std::size_t> seen;
      for (const auto& item : {items[0], items[1], items[0]}) {
        auto listed = app_->ListPrelabels(reader, item);
        ASSERT_TRUE(listed.ok()) << listed.status().ToString();
        seen.push_back(listed->size());
      }
      EXPECT_TRUE(seen == std::vector<std::size_t>(3, 0) || seen == std::vector<std::size_t>(3, 1))
          << "reader " << reader.principal.user.username << ": " << ::testing::PrintToString(seen);
      (seen[0] == 0 ? hidden : shown) += 1;
    }
  }
  // Binomial(200, 0.3): mean 60, sd 6.5. Accepted: 32..88 (4.3 sd; P(outside) = 1.2e-5).
  // Share 0 hides from none, 1 from all.
  EXPECT_EQ(hidden + shown, kProjects * kReaders);
  EXPECT_GE(hidden, 32);
  EXPECT_LE(hidden, 88);

  // The same measure with the feature off: share 0 hides from no one.
  int hidden_at_zero = 0;
  for (const auto& [project_id, item] : first_items) {
    core::WorkflowSettings settings;
    settings.project_id = project_id;
    ASSERT_TRUE(app_->PutWorkflowSettings(LocalOperator(), settings).ok());
    for (const auto& reader : readers) {
      auto listed = app_->ListPrelabels(reader, item);
      ASSERT_TRUE(listed.ok()) << listed.status().ToString();
      hidden_at_zero += listed->empty() ? 1 : 0;
    }
  }
  EXPECT_EQ(hidden_at_zero, 0);
}

// Publishes `classes_json` (the classes array) as the project's next guideline version.
void PublishClasses(App& app, const RequestContext& manager, const std::string& project_id,
                    const std::string& classes_json) {
  auto draft = app.CreateGuidelineDraft(manager, project_id, R"({"classes":)" + classes_json + "}");
  ASSERT_TRUE(draft.ok()) << draft.status().ToString();
  ASSERT_TRUE(app.PublishGuideline(manager, project_id, draft->id, draft->revision).ok());
}

TEST_F(WorkflowAppTest, AClassThatAsksForMoreReadersAddsTasksAndWaitsForThem) {
  PublishClasses(*app_, manager_, project_id_,
                 R"([{"id":"pneumonia","name":"Pneumonia","kind":"classification","definition":"d","readers":3,)"
                 R"("adjudication":{}},)"
                 R"({"id":"normal","name":"Normal","kind":"classification","definition":"d"}])");
  std::vector<std::string> items;
  for (int i = 0; i < 3; ++i) items.push_back(AddItem(project_id_, "note " + std::to_string(i)).id);
  TasksInOrder(items);  // k = 2: two tasks each
  auto tasks_of = [&](const std::string& item) {
    auto all = app_->ListTasks(manager_, project_id_, std::nullopt, storage::PageRequest{});
    EXPECT_TRUE(all.ok());
    return std::count_if(all->rows.begin(), all->rows.end(), [&](const core::Task& t) { return t.item_id == item; });
  };
  core::Annotation absent = Label("pneumonia");
  absent.assertion = core::Assertion::kAbsent;
  EXPECT_EQ(Read(0, items[0], {Label("pneumonia", 0.9)}).state, core::TaskState::kSubmitted);
  EXPECT_EQ(tasks_of(items[0]), 3) << "pneumonia needs three readers";
  Read(0, items[1], {Label("normal", 0.9)});
  Read(0, items[2], {absent});
  EXPECT_EQ(tasks_of(items[1]), 2);
  EXPECT_EQ(tasks_of(items[2]), 2) << "an absent finding does not name the class";

  // Two agreeing readings of three: nothing is decided yet; the third reader completes the item.
  const core::Task second = Read(1, items[0], {Label("pneumonia", 0.8)});
  EXPECT_EQ(second.state, core::TaskState::kSubmitted);
  RequestContext third = Member("wr3", {core::Role::kAnnotator});
  std::optional<core::Task> claimed;
  for (int n = 0; n < 3 && !claimed; ++n) {  // fifo serves items 1 and 2 first: their tasks are older
    auto next = app_->ClaimNextTask(third, project_id_);
    ASSERT_TRUE(next.ok() && next->has_value()) << "the added task is claimable";
    if ((*next)->item_id == items[0]) claimed = **next;
  }
  ASSERT_TRUE(claimed.has_value());
  ASSERT_TRUE(app_->CreateAnnotation(third, items[0], Label("normal", 0.9)).ok());
  auto done = app_->SubmitTask(third, project_id_, claimed->id);
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_EQ(done->state, core::TaskState::kEscalated) << "the third reading disagrees: adjudication";
  auto second_now = app_->GetTask(manager_, project_id_, second.id);
  ASSERT_TRUE(second_now.ok());
  EXPECT_EQ(second_now->state, core::TaskState::kEscalated);
  auto actions = AuditActions();
  EXPECT_EQ(std::count(actions.begin(), actions.end(), "task.create:success"), 3 + 1);
}

TEST_F(WorkflowAppTest, ReadingsOutsideTheReviewSampleAreAcceptedWithoutAReviewer) {
  PublishClasses(*app_, manager_, project_id_,
                 R"([{"id":"pneumonia","name":"Pneumonia","kind":"classification","definition":"d","review_rate":1},)"
                 R"({"id":"normal","name":"Normal","kind":"classification","definition":"d"}])");
  core::WorkflowSettings settings;
  settings.project_id = project_id_;
  settings.readers_per_item = 1;
  settings.review_rate = 1.5;
  EXPECT_EQ(app_->PutWorkflowSettings(manager_, settings).status().code(), ErrorCode::kInvalidArgument);
  settings.review_rate = 0.5;
  ASSERT_TRUE(app_->PutWorkflowSettings(manager_, settings).ok());
  std::vector<std::string> items;
  for (int i = 0; i < 41; ++i) items.push_back(AddItem(project_id_, "note " + std::to_string(i)).id);
  TasksInOrder(items);
  int waived = 0;
  for (int i = 0; i < 40; ++i) {
    const core::Task t = Read(0, items[static_cast<std::size_t>(i)], {Label("normal", 0.9)});
    const bool outside = core::StableDraw({t.id, "review"}) >= 0.5;
    EXPECT_EQ(t.state, outside ? core::TaskState::kAccepted : core::TaskState::kSubmitted) << "the audited draw decides";
    waived += outside ? 1 : 0;
  }
  EXPECT_GT(waived, 8);
  EXPECT_LT(waived, 32);
  auto actions = AuditActions();
  EXPECT_EQ(std::count(actions.begin(), actions.end(), "task.waive_review:success"), waived);
  // A class with its own rate of 1 is always reviewed.
  EXPECT_EQ(Read(0, items[40], {Label("normal", 0.9), Label("pneumonia", 0.9)}).state, core::TaskState::kSubmitted);
}

TEST_F(WorkflowAppTest, ReviewSamplingWaitsForEveryReadingAndNeverPassesOverADisagreement) {
  core::WorkflowSettings settings;
  settings.project_id = project_id_;
  settings.readers_per_item = 2;
  settings.review_rate = 0;
  ASSERT_TRUE(app_->PutWorkflowSettings(manager_, settings).ok());
  std::vector<std::string> items;
  for (int i = 0; i < 2; ++i) items.push_back(AddItem(project_id_, "note " + std::to_string(i)).id);
  TasksInOrder(items);
  const core::Task first = Read(0, items[0], {Label("normal", 0.9)});
  EXPECT_EQ(first.state, core::TaskState::kSubmitted) << "one reading of two";
  Read(0, items[1], {Label("normal", 0.9)});
  EXPECT_EQ(Read(1, items[0], {Label("normal", 0.8)}).state, core::TaskState::kAccepted);
  auto first_now = app_->GetTask(manager_, project_id_, first.id);
  ASSERT_TRUE(first_now.ok());
  EXPECT_EQ(first_now->state, core::TaskState::kAccepted) << "both agreeing readings, once complete";
  EXPECT_EQ(Read(1, items[1], {Label("pneumonia", 0.9)}).state, core::TaskState::kEscalated);
}

TEST_F(WorkflowAppTest, RepeatReadsComeBackAfterTheWashoutBlindAndAreMeasuredAgainstTheFirst) {
  core::WorkflowSettings settings;
  settings.project_id = project_id_;
  settings.readers_per_item = 1;
  settings.repeat_rate = 1;
  EXPECT_EQ(app_->PutWorkflowSettings(manager_, settings).status().message(),
            "repeat reads need a wash-out: set washout_days or washout_readings (or both)");
  settings.washout_readings = 2;
  ASSERT_TRUE(app_->PutWorkflowSettings(manager_, settings).ok());
  std::vector<std::string> items;
  for (int i = 0; i < 4; ++i) items.push_back(AddItem(project_id_, "note " + std::to_string(i)).id);
  TasksInOrder(items);
  const RequestContext& reader = readers_[0];
  const core::Task first = Read(0, items[0], {Label("normal", 0.9)});
  auto hidden = app_->ListTasks(manager_, project_id_, std::nullopt, storage::PageRequest{});
  ASSERT_TRUE(hidden.ok());
  EXPECT_EQ(hidden->rows.size(), 4u) << "task lists show readings only";
  // Two more readings pass the wash-out of the first item's repeat (due after 1 + 2 readings).
  Read(0, items[1], {Label("normal", 0.9)});
  Read(0, items[2], {Label("pneumonia", 0.9)});
  auto repeat = app_->ClaimNextTask(reader, project_id_);
  ASSERT_TRUE(repeat.ok() && repeat->has_value()) << (repeat.ok() ? "none" : repeat.status().ToString());
  EXPECT_EQ((*repeat)->item_id, items[0]) << "the due repeat comes before the open item 3";
  EXPECT_EQ((*repeat)->kind, core::TaskKind::kRepeat);
  EXPECT_EQ((*repeat)->repeat_of, first.id);

  // Blind to the first reading while it runs; the new label belongs to the repeat.
  auto own = app_->ListAnnotations(reader, items[0], storage::PageRequest{});
  ASSERT_TRUE(own.ok());
  EXPECT_TRUE(own->rows.empty()) << "the first reading's label is hidden";
  auto again = app_->CreateAnnotation(reader, items[0], Label("pneumonia", 0.9));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->task_id, (*repeat)->id);
  own = app_->ListAnnotations(reader, items[0], storage::PageRequest{});
  ASSERT_TRUE(own.ok());
  ASSERT_EQ(own->rows.size(), 1u);
  EXPECT_EQ(own->rows[0].id, again->id);

  // Another reader never gets it; a reviewer cannot review it.
  auto other = app_->ClaimNextTask(readers_[1], project_id_);
  ASSERT_TRUE(other.ok() && other->has_value());
  EXPECT_EQ((*other)->item_id, items[3]);
  ReviewRequest accept;
  EXPECT_EQ(app_->ReviewTask(reviewer_, project_id_, (*repeat)->id, accept).status().code(), ErrorCode::kConflict);
  auto done = app_->SubmitTask(reader, project_id_, (*repeat)->id);
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_EQ(done->state, core::TaskState::kSubmitted);
  auto qa = app_->GetStoredQuality(manager_, project_id_, items[0]);
  ASSERT_TRUE(qa.ok()) << qa.status().ToString();
  EXPECT_TRUE(std::any_of(qa->findings.begin(), qa->findings.end(),
                          [](const auto& f) { return f.rule == "consistency.repeat_read"; }))
      << "the repeat's submit stored the finding that the reader changed their mind";

  // The item still has one reading; the quality report compares the repeat with the first.
  auto readings = app_->ListReadings(adjudicator_, items[0]);
  ASSERT_TRUE(readings.ok()) << readings.status().ToString();
  EXPECT_EQ(readings->readings.size(), 1u);
  auto q = app_->GetProjectQuality(manager_, project_id_);
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  ASSERT_EQ(q->intra_reader.size(), 1u);
  EXPECT_EQ(q->intra_reader[0].reader, reader.principal.user.id);
  EXPECT_EQ(q->intra_reader[0].pairs, 1);
  EXPECT_DOUBLE_EQ(q->intra_reader[0].agreement, 0.0) << "normal, then pneumonia";
  ASSERT_TRUE(q->intra_reader[0].kappa.has_value()) << q->intra_reader[0].note;
  EXPECT_DOUBLE_EQ(*q->intra_reader[0].kappa, 0.0) << "p_o = 0 and p_e = 0: no agreement beyond chance";
  EXPECT_EQ(q->readings, 3) << "the repeat is not a reading";
  auto actions = AuditActions();
  EXPECT_EQ(std::count(actions.begin(), actions.end(), "task.create:success"), 4 + 3) << "three readings, three repeats";
  EXPECT_EQ(std::count(actions.begin(), actions.end(), "qa.run:success"), 4) << "every submit, the repeat's too";
}

TEST_F(WorkflowAppTest, SubmitsAndSweepsStoreQaFindingsAndSoftLabels) {
  std::vector<std::string> items;
  for (int i = 0; i < 3; ++i) items.push_back(AddItem(project_id_, "note " + std::to_string(i)).id);
  TasksInOrder(items);
  for (int r = 0; r < 2; ++r) {
    Read(r, items[0], {Label("pneumonia", 0.9)});
    Read(r, items[1], {Label(r == 0 ? "pneumonia" : "normal", 0.9)});
  }
  // Each submit stored its item's findings, the same the item's QA view computes.
  auto item_view = app_->GetItemQaFindings(manager_, items[1]);
  ASSERT_TRUE(item_view.ok()) << item_view.status().ToString();
  auto stored = app_->GetStoredQuality(manager_, project_id_, items[1]);
  ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  ASSERT_EQ(stored->findings.size(), item_view->size());
  ASSERT_FALSE(stored->findings.empty()) << "the readings disagree: unresolved disagreement";
  for (std::size_t i = 0; i < stored->findings.size(); ++i) {
    EXPECT_EQ(stored->findings[i].rule, (*item_view)[i].rule);
    EXPECT_EQ(stored->findings[i].source, "submit");
  }
  EXPECT_TRUE(stored->soft_labels.empty()) << "soft labels come from a sweep";

  // A sweep stores one soft label per item and named class, equal to the adjudicator's fused
  // suggestion, and the project's findings (the project-level rules too).
  auto sweep = app_->SweepQuality(manager_, project_id_);
  ASSERT_TRUE(sweep.ok()) << sweep.status().ToString();
  EXPECT_EQ(sweep->items, 3);
  EXPECT_EQ(sweep->soft_labels, 2 * 2) << "items 0 and 1 have readings; pneumonia and normal are named";
  auto all = app_->GetStoredQuality(manager_, project_id_, "");
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->soft_labels.size(), 4u);
  auto readings = app_->ListReadings(adjudicator_, items[1]);
  ASSERT_TRUE(readings.ok()) << readings.status().ToString();
  for (const auto& c : readings->classes) {
    const auto soft = std::find_if(all->soft_labels.begin(), all->soft_labels.end(), [&](const auto& s) {
      return s.item_id == items[1] && s.label_class == c.label_class;
    });
    ASSERT_NE(soft, all->soft_labels.end()) << c.label_class;
    ASSERT_TRUE(c.posterior.has_value());
    EXPECT_NEAR(soft->probability, *c.posterior, 1e-12) << c.label_class;
    EXPECT_EQ(soft->readings, 2);
  }
  auto q = app_->GetProjectQuality(manager_, project_id_);
  ASSERT_TRUE(q.ok());
  ASSERT_EQ(all->findings.size(), q->findings.size()) << "the same rules over the same data";
  for (const auto& f : all->findings) EXPECT_EQ(f.source, "sweep");
  EXPECT_EQ(sweep->findings, static_cast<std::int64_t>(q->findings.size()));
  auto actions = AuditActions();
  EXPECT_EQ(std::count(actions.begin(), actions.end(), "quality.sweep:success"), 1);
  EXPECT_EQ(std::count(actions.begin(), actions.end(), "qa.run:success"), 4) << "one per submit";
}

TEST_F(WorkflowAppTest, TheSweeperSweepsEveryProjectAtOnceAndStopsWhenAsked) {
  const std::string item = AddItem(project_id_, "note").id;
  TasksInOrder({item});
  Read(0, item, {Label("pneumonia", 0.9)});
  const auto started = std::chrono::steady_clock::now();
  {
    QualitySweeper sweeper(*app_, std::chrono::hours(1));
    for (int i = 0; i < 400 && sweeper.rounds() == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_EQ(sweeper.rounds(), 1);
  }  // stops at once, not after the hour
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::minutes(1));
  auto stored = app_->GetStoredQuality(manager_, project_id_, item);
  ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  ASSERT_EQ(stored->soft_labels.size(), 1u);
  EXPECT_EQ(stored->soft_labels[0].label_class, "pneumonia");
  EXPECT_DOUBLE_EQ(stored->soft_labels[0].probability, 1.0) << "every reading names it";
}

TEST(ReviewRate, ClassesOverrideTheProjectAndSpecialistClassesAreAlwaysReviewed) {
  auto schema = core::ParseLabelSchema(
      R"({"classes":[{"id":"a","name":"A","kind":"classification","definition":"d"},)"
      R"({"id":"b","name":"B","kind":"classification","definition":"d","review_rate":0.1,"readers":4},)"
      R"({"id":"s","name":"S","kind":"classification","definition":"d","required_qualification":"pathologist"}]})");
  ASSERT_TRUE(schema.ok()) << schema.status().ToString();
  core::WorkflowSettings settings;
  settings.readers_per_item = 2;
  settings.review_rate = 0.3;
  auto label = [](const std::string& cls) {
    core::Annotation a;
    a.label_class = cls;
    return a;
  };
  EXPECT_DOUBLE_EQ(internal::ReviewRateOf(settings, *schema, {}), 0.3);
  EXPECT_DOUBLE_EQ(internal::ReviewRateOf(settings, *schema, {label("a")}), 0.3);
  EXPECT_DOUBLE_EQ(internal::ReviewRateOf(settings, *schema, {label("b")}), 0.1);
  EXPECT_DOUBLE_EQ(internal::ReviewRateOf(settings, *schema, {label("b"), label("a")}), 0.3);
  EXPECT_DOUBLE_EQ(internal::ReviewRateOf(settings, *schema, {label("b"), label("s")}), 1.0);
  std::string why = "-";
  EXPECT_EQ(internal::ReadersNeeded(settings, *schema, {label("a")}, why), 2);
  EXPECT_EQ(why, "-");
  EXPECT_EQ(internal::ReadersNeeded(settings, *schema, {label("a"), label("b")}, why), 4);
  EXPECT_EQ(why, "b");
}

// Delayed ground truth on a fake clock: labels of a class that needs a biopsy within 30 days.
class TruthAppTest : public AppTest {
 protected:
  void SetUp() override {
    AppTest::SetUp();
    app_.reset();
    App::Options options;
    options.clock = &clock_;
    auto app = App::Open(dir_.string(), config_, options);
    ASSERT_TRUE(app.ok()) << app.status().ToString();
    app_ = std::move(*app);
  }

  // A project `name` with one annotator `username` (notes scope) and `classes` (a JSON array)
  // published as its guideline; sets project_id_ and returns the reader.
  RequestContext OneReaderProject(const std::string& name, const std::string& username, const std::string& classes) {
    auto project = app_->CreateProject(LocalOperator(), name, "");
    EXPECT_TRUE(project.ok()) << project.status().ToString();
    if (!project.ok()) return {};
    project_id_ = project->id;
    NewUser spec;
    spec.username = username;
    spec.password = "clocked-test-passphrase-1";
    auto user = app_->CreateUser(LocalOperator(), spec);
    EXPECT_TRUE(user.ok()) << user.status().ToString();
    if (!user.ok()) return {};
    EXPECT_TRUE(app_->PutMember(LocalOperator(), project_id_, user->user.id, {core::Role::kAnnotator},
                                {core::DataType::kNotes}).ok());
    auto draft = app_->CreateGuidelineDraft(LocalOperator(), project_id_, R"({"classes":)" + classes + "}");
    EXPECT_TRUE(draft.ok()) << draft.status().ToString();
    if (draft.ok()) {
      EXPECT_TRUE(app_->PublishGuideline(LocalOperator(), project_id_, draft->id, draft->revision).ok());
    }
    RequestContext reader;
    reader.principal.user = user->user;
    return reader;
  }

  // The reader claims the next task, labels its item `cls` (document evidence) and submits.
  void ReadNext(const RequestContext& reader, const std::string& cls) {
    auto task = app_->ClaimNextTask(reader, project_id_);
    ASSERT_TRUE(task.ok() && task->has_value());
    core::Annotation a;
    a.evidence_kind = "document";
    a.evidence_json = "{}";
    a.label_class = cls;
    ASSERT_TRUE(app_->CreateAnnotation(reader, (*task)->item_id, a).ok());
    ASSERT_TRUE(app_->SubmitTask(reader, project_id_, (*task)->id).ok());
  }

  FakeClock clock_;
  std::string project_id_;
};

using RepeatClockTest = TruthAppTest;

TEST_F(RepeatClockTest, ARepeatWaitsForItsWashoutDays) {
  const RequestContext reader = OneReaderProject(
      "repeats", "rreader", R"([{"id":"benign","name":"Benign","kind":"classification","definition":"d"}])");
  ASSERT_FALSE(HasFailure());
  core::WorkflowSettings settings;
  settings.project_id = project_id_;
  settings.repeat_rate = 1;
  settings.washout_days = 7;
  ASSERT_TRUE(app_->PutWorkflowSettings(LocalOperator(), settings).ok());
  const core::Item item = AddItem(project_id_, "a note");
  ASSERT_TRUE(app_->CreateTasks(LocalOperator(), project_id_, {}).ok());
  ReadNext(reader, "benign");
  ASSERT_FALSE(HasFailure());

  clock_.Advance(7 * 24 * 3600 * kMicrosPerSecond - 1);
  auto early = app_->ClaimNextTask(reader, project_id_);
  ASSERT_TRUE(early.ok());
  EXPECT_FALSE(early->has_value()) << "a microsecond before the wash-out ends";
  clock_.Advance(1);
  auto due = app_->ClaimNextTask(reader, project_id_);
  ASSERT_TRUE(due.ok() && due->has_value());
  EXPECT_EQ((*due)->item_id, item.id);
  EXPECT_EQ((*due)->kind, core::TaskKind::kRepeat);
  // A released repeat stays its reader's, and comes back to them.
  auto released = app_->ReleaseTask(reader, project_id_, (*due)->id);
  ASSERT_TRUE(released.ok()) << released.status().ToString();
  EXPECT_EQ(released->assignee, reader.principal.user.id);
  auto back = app_->ClaimNextTask(reader, project_id_);
  ASSERT_TRUE(back.ok() && back->has_value());
  EXPECT_EQ((*back)->id, (*due)->id);
}

TEST_F(TruthAppTest, LabelsGoFromProvisionalToConfirmedRefutedOrUnconfirmed) {
  const RequestContext reader = OneReaderProject(
      "truth", "treader",
      R"([{"id":"malignancy","name":"Malignancy","kind":"classification","definition":"d",)"
      R"("confirmation":{"evidence_sources":["biopsy"],"window_days":30}},)"
      R"({"id":"benign","name":"Benign","kind":"classification","definition":"d"}])");
  ASSERT_FALSE(HasFailure());
  std::vector<core::Item> items;
  for (int i = 0; i < 3; ++i) items.push_back(AddItem(project_id_, "note " + std::to_string(i)));
  ASSERT_TRUE(app_->CreateTasks(LocalOperator(), project_id_, {}).ok());
  for (int i = 0; i < 3; ++i) ReadNext(reader, "malignancy");
  ASSERT_FALSE(HasFailure());
  core::Prelabel suggestion;
  suggestion.item_id = items[0].id;
  suggestion.model_name = "m";
  suggestion.model_version = "1";
  suggestion.evidence_kind = "document";
  suggestion.label_class = "malignancy";
  ASSERT_TRUE(app_->AddPrelabels(LocalOperator(), project_id_, {suggestion}).ok());

  auto statuses = [&]() {
    std::map<std::string, std::string> by_item;
    auto truth = app_->EvaluateTruth(LocalOperator(), project_id_);
    EXPECT_TRUE(truth.ok()) << truth.status().ToString();
    if (truth.ok()) {
      for (const auto& l : *truth) by_item[l.annotation.item_id] = l.status;
    }
    return by_item;
  };
  EXPECT_EQ(statuses()[items[2].id], "provisional");

  clock_.Advance(10 * 24 * kMicrosPerHour);
  auto outcome = [&](const std::string& item_id, bool confirms, const std::string& cls, const std::string& evidence) {
    core::Outcome o;
    o.item_id = item_id;
    o.evidence_type = evidence;
    o.label_class = cls;
    o.confirms = confirms;
    o.observed_at = clock_.Now();
    return o;
  };
  core::Outcome both = outcome(items[2].id, true, "malignancy", "biopsy");
  both.patient_key = items[2].patient_key;
  auto upload = app_->AddOutcomes(LocalOperator(), project_id_,
                                  {outcome(items[0].id, true, "malignancy", "biopsy"),
                                   outcome(items[1].id, false, "malignancy", "biopsy"),
                                   outcome(items[2].id, true, "benign", "biopsy"),
                                   outcome(items[2].id, true, "malignancy", "outcome"), both});
  ASSERT_TRUE(upload.ok()) << upload.status().ToString();
  EXPECT_EQ(upload->stored.size(), 2u);
  ASSERT_EQ(upload->errors.size(), 3u);
  EXPECT_EQ(upload->errors[0].index, 2u);
  EXPECT_NE(upload->errors[0].message.find("class: 'benign'"), std::string::npos);
  EXPECT_NE(upload->errors[1].message.find("evidence_type: 'outcome'"), std::string::npos);
  EXPECT_NE(upload->errors[2].message.find("exactly one of item_id and patient_key"), std::string::npos);
  auto none = app_->AddOutcomes(LocalOperator(), project_id_, {outcome(items[2].id, true, "benign", "biopsy")});
  EXPECT_EQ(none.status().code(), ErrorCode::kInvalidArgument);

  auto now = statuses();
  EXPECT_EQ(now[items[0].id], "confirmed");
  EXPECT_EQ(now[items[1].id], "refuted");
  EXPECT_EQ(now[items[2].id], "provisional");
  clock_.Advance(21 * 24 * kMicrosPerHour);  // 31 days after the labels
  EXPECT_EQ(statuses()[items[2].id], "unconfirmed");

  auto scores = app_->ScoreAgainstTruth(LocalOperator(), project_id_);
  ASSERT_TRUE(scores.ok()) << scores.status().ToString();
  ASSERT_EQ(scores->readers.size(), 1u);
  const TruthScore& r = scores->readers[0];
  EXPECT_EQ(r.reader, reader.principal.user.id);
  EXPECT_EQ(r.confirmed, 1);
  EXPECT_EQ(r.refuted, 1);
  EXPECT_EQ(r.unconfirmed, 1);
  EXPECT_EQ(r.provisional, 0);
  EXPECT_DOUBLE_EQ(*r.accuracy, 0.5);
  ASSERT_EQ(scores->models.size(), 1u);
  EXPECT_EQ(scores->models[0].reader, "m@1");
  EXPECT_EQ(scores->models[0].confirmed, 1);
  EXPECT_DOUBLE_EQ(*scores->models[0].accuracy, 1.0);

  auto actions = AuditActions();
  auto count = [&](const std::string& a) { return std::count(actions.begin(), actions.end(), a); };
  EXPECT_EQ(count("outcome.record:success"), 1);
  EXPECT_EQ(count("truth.read:success"), 3);
  EXPECT_EQ(count("outcome.scores:success"), 1);
}

}  // namespace
}  // namespace caliper::app

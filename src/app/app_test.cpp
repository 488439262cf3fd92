#include "caliper/app/app.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

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

}  // namespace
}  // namespace caliper::app

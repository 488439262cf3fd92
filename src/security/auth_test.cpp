#include "caliper/security/auth.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "caliper/security/crypto.h"

namespace caliper::security {
namespace {

class AuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(InitCrypto().ok());
    dir_ = std::filesystem::temp_directory_path() /
           ("caliper_auth_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter_++));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    auto store = storage::OpenSqliteStore((dir_ / "caliper.db").string());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
    auth_ = std::make_unique<Authenticator>(clock_, ids_, AuthSettings{});
    core::User u;
    u.id = ids_.NewId("usr");
    u.username = "alice";
    u.display_name = "Alice";
    u.password_hash = HashPassword(kPassword, "interactive").value();
    u.created_at = clock_.Now();
    auto txn = Write();
    ASSERT_TRUE(txn->InsertUser(u).ok());
    ASSERT_TRUE(txn->Commit().ok());
    user_ = u;
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::unique_ptr<storage::Transaction> Write() { return std::move(store_->Begin(storage::TxnMode::kWrite).value()); }

  LoginOutcome LoginAs(const std::string& password, const std::string& address = "10.0.0.1") {
    auto txn = Write();
    LoginOutcome out = auth_->Login(*txn, "alice", password, address);
    EXPECT_TRUE(txn->Commit().ok());
    return out;
  }

  Result<Principal> Resume(const std::string& token) {
    auto txn = Write();
    auto p = auth_->ResumeSession(*txn, token);
    if (p.ok() && p->touch_due) {
      EXPECT_TRUE(auth_->Touch(*txn, p->session_id).ok());
    }
    EXPECT_TRUE(txn->Commit().ok());
    return p;
  }

  static constexpr const char* kPassword = "correct horse battery";
  static inline int counter_ = 0;
  std::filesystem::path dir_;
  FakeClock clock_;
  SequentialIdGenerator ids_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<Authenticator> auth_;
  core::User user_;
};

TEST_F(AuthTest, LoginIssuesASessionStoredOnlyAsHashes) {
  LoginOutcome out = LoginAs(kPassword);
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  EXPECT_EQ(out.issued.token.size(), 43u) << "256-bit token, base64url";
  EXPECT_NE(out.issued.session.token_hash, out.issued.token);
  EXPECT_EQ(out.issued.session.token_hash, Sha256Hex(out.issued.token));
  auto p = Resume(out.issued.token);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->user.id, user_.id);
}

TEST_F(AuthTest, WrongPasswordAndUnknownUserLookTheSame) {
  LoginOutcome wrong = LoginAs("not the password at all");
  EXPECT_EQ(wrong.status.code(), ErrorCode::kUnauthenticated);
  auto txn = Write();
  LoginOutcome unknown = auth_->Login(*txn, "mallory", "whatever whatever", "10.0.0.1");
  EXPECT_EQ(unknown.status.code(), ErrorCode::kUnauthenticated);
  EXPECT_EQ(unknown.status.message(), wrong.status.message());
}

TEST_F(AuthTest, LocksOutAfterRepeatedFailuresThenUnlocksAfterTheLockout) {
  for (int i = 0; i < 4; ++i) EXPECT_EQ(LoginAs("wrong password " + std::to_string(i)).status.code(), ErrorCode::kUnauthenticated);
  EXPECT_EQ(LoginAs("wrong password 5").status.code(), ErrorCode::kAccountLocked);
  // Even the right password is refused while locked.
  EXPECT_EQ(LoginAs(kPassword).status.code(), ErrorCode::kAccountLocked);
  clock_.Advance(16 * kMicrosPerMinute);
  EXPECT_TRUE(LoginAs(kPassword).status.ok());
}

TEST_F(AuthTest, ThrottlesOneAddress) {
  for (int i = 0; i < 30; ++i) (void)LoginAs("wrong but long " + std::to_string(i), "10.9.9.9");
  EXPECT_EQ(LoginAs(kPassword, "10.9.9.9").status.code(), ErrorCode::kTooManyRequests);
  clock_.Advance(2 * kMicrosPerMinute);
  EXPECT_NE(LoginAs(kPassword, "10.9.9.9").status.code(), ErrorCode::kTooManyRequests);
}

TEST_F(AuthTest, IdleTimeoutEndsASessionButActivityKeepsItAlive) {
  LoginOutcome out = LoginAs(kPassword);
  ASSERT_TRUE(out.status.ok());
  for (int i = 0; i < 6; ++i) {
    clock_.Advance(10 * kMicrosPerMinute);
    ASSERT_TRUE(Resume(out.issued.token).ok()) << "active at minute " << (i + 1) * 10;
  }
  clock_.Advance(15 * kMicrosPerMinute);
  auto expired = Resume(out.issued.token);
  ASSERT_FALSE(expired.ok());
  EXPECT_EQ(expired.status().code(), ErrorCode::kSessionExpired);
}

TEST_F(AuthTest, AbsoluteTimeoutEndsEvenAnActiveSession) {
  LoginOutcome out = LoginAs(kPassword);
  ASSERT_TRUE(out.status.ok());
  for (int minute = 0; minute < 12 * 60 - 10; minute += 10) {
    clock_.Advance(10 * kMicrosPerMinute);
    ASSERT_TRUE(Resume(out.issued.token).ok()) << minute;
  }
  clock_.Advance(20 * kMicrosPerMinute);
  auto expired = Resume(out.issued.token);
  ASSERT_FALSE(expired.ok());
  EXPECT_EQ(expired.status().code(), ErrorCode::kSessionExpired);
}

TEST_F(AuthTest, RevokedSessionsAndWrongCsrfAreRefused) {
  LoginOutcome out = LoginAs(kPassword);
  ASSERT_TRUE(out.status.ok());
  {
    auto txn = Write();
    EXPECT_TRUE(auth_->CheckCsrf(*txn, out.issued.session.id, out.issued.csrf_token).ok());
    EXPECT_EQ(auth_->CheckCsrf(*txn, out.issued.session.id, "forged").code(), ErrorCode::kCsrfFailed);
    EXPECT_EQ(auth_->CheckCsrf(*txn, out.issued.session.id, "").code(), ErrorCode::kCsrfFailed);
    ASSERT_TRUE(txn->RevokeUserSessions(user_.id, clock_.Now()).ok());
    ASSERT_TRUE(txn->Commit().ok());
  }
  auto revoked = Resume(out.issued.token);
  ASSERT_FALSE(revoked.ok());
  EXPECT_EQ(revoked.status().code(), ErrorCode::kUnauthenticated);
}

TEST_F(AuthTest, ApiTokensResolveUntilRevokedOrExpired) {
  core::Project project;
  project.id = ids_.NewId("prj");
  project.name = "p";
  project.created_at = clock_.Now();
  std::string secret, id;
  {
    auto txn = Write();
    ASSERT_TRUE(txn->InsertProject(project).ok());
    auto issued = auth_->IssueApiToken(*txn, user_, project.id, "model", {Permission::kItemList},
                                       clock_.Now() + kMicrosPerHour);
    ASSERT_TRUE(issued.ok()) << issued.status().ToString();
    ASSERT_TRUE(txn->Commit().ok());
    secret = issued->secret;
    id = issued->token.id;
    EXPECT_EQ(secret.rfind("cal_", 0), 0u);
  }
  {
    auto txn = Write();
    auto p = auth_->ResumeApiToken(*txn, secret);
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(p->token_project_id, project.id);
    EXPECT_EQ(p->token_permissions, std::vector<std::string>{"item_list"});
    EXPECT_FALSE(auth_->ResumeApiToken(*txn, secret + "x").ok());
  }
  clock_.Advance(2 * kMicrosPerHour);
  {
    auto txn = Write();
    EXPECT_FALSE(auth_->ResumeApiToken(*txn, secret).ok()) << "expired";
    EXPECT_FALSE(auth_->IssueApiToken(*txn, user_, project.id, "x", {Permission::kUserManage}, std::nullopt).ok())
        << "global permissions cannot go on a token";
  }
}

}  // namespace
}  // namespace caliper::security

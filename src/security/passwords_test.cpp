#include "caliper/security/passwords.h"

#include <gtest/gtest.h>

#include <set>

#include "caliper/security/crypto.h"

namespace caliper::security {
namespace {

TEST(PasswordsTest, PolicyRejectsWeakPasswords) {
  EXPECT_EQ(CheckPasswordPolicy("short", "alice", 12).code(), ErrorCode::kWeakPassword);
  EXPECT_EQ(CheckPasswordPolicy("my-alice-password", "alice", 12).code(), ErrorCode::kWeakPassword);
  EXPECT_EQ(CheckPasswordPolicy("aaaaaaaaaaaaaaaa", "bob", 12).code(), ErrorCode::kWeakPassword);
  EXPECT_EQ(CheckPasswordPolicy("Password1234", "bob", 12).code(), ErrorCode::kWeakPassword);
  EXPECT_TRUE(CheckPasswordPolicy("correct horse battery", "bob", 12).ok());
  // Length counts characters, not bytes.
  EXPECT_FALSE(CheckPasswordPolicy("ääääääbcdef", "bob", 12).ok());
}

TEST(PasswordsTest, OneTimePasswordsPassThePolicyAndDiffer) {
  ASSERT_TRUE(InitCrypto().ok());
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    std::string p = GenerateOneTimePassword();
    EXPECT_EQ(p.size(), 23u);
    EXPECT_TRUE(CheckPasswordPolicy(p, "someone", 12).ok()) << p;
    EXPECT_TRUE(seen.insert(p).second);
  }
}

}  // namespace
}  // namespace caliper::security

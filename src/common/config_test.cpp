#include "caliper/common/config.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace caliper {
namespace {

std::string TempFile(const std::string& name, const std::string& text) {
  auto path = std::filesystem::temp_directory_path() / ("caliper_config_test_" + name);
  std::ofstream(path) << text;
  return path.string();
}

TEST(ConfigTest, DefaultsComeFromTheTable) {
  Config c;
  EXPECT_EQ(c.GetString("server.listen"), "127.0.0.1:8443");
  EXPECT_EQ(*c.GetInt("session.idle_timeout_minutes"), 15);
  EXPECT_EQ(*c.GetInt("session.absolute_timeout_minutes"), 720);
  EXPECT_EQ(c.SourceOf("server.listen"), "default");
}

TEST(ConfigTest, FileThenEnvThenFlagsWin) {
  std::string path = TempFile("layers.toml", "[server]\nlisten = \"127.0.0.1:9000\"\nthreads = 64\n[login]\nmax_failures = 3\n");
  setenv("CALIPER_SERVER_THREADS", "128", 1);
  auto c = Config::Load(path, true, {{"login.max_failures", "7"}});
  unsetenv("CALIPER_SERVER_THREADS");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->GetString("server.listen"), "127.0.0.1:9000");
  EXPECT_EQ(c->SourceOf("server.listen"), "file");
  EXPECT_EQ(*c->GetInt("server.threads"), 128);
  EXPECT_EQ(c->SourceOf("server.threads"), "env");
  EXPECT_EQ(*c->GetInt("login.max_failures"), 7);
  EXPECT_EQ(c->SourceOf("login.max_failures"), "flag");
}

TEST(ConfigTest, UnknownKeysAndBadFilesAreErrors) {
  auto typo = Config::Load(TempFile("typo.toml", "[server]\nlistn = \"x\"\n"), true, {});
  ASSERT_FALSE(typo.ok());
  EXPECT_NE(typo.status().message().find("server.listn"), std::string::npos);
  auto broken = Config::Load(TempFile("broken.toml", "[server\n"), true, {});
  EXPECT_FALSE(broken.ok());
  EXPECT_FALSE(Config::Load("", false, {{"nope.key", "1"}}).ok());
  EXPECT_FALSE(Config::Load("/nonexistent/caliper.toml", true, {}).ok());
  EXPECT_TRUE(Config::Load("/nonexistent/caliper.toml", false, {}).ok());
}

TEST(ConfigTest, TypedGettersRejectJunk) {
  auto c = Config::Load("", false, {{"server.threads", "many"}, {"server.tls", "perhaps"}});
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(c->GetInt("server.threads").ok());
  EXPECT_FALSE(c->GetBool("server.tls").ok());
}

TEST(ConfigTest, EverySettingIsDocumented) {
  std::ifstream doc(std::string(CALIPER_SOURCE_DIR) + "/docs/configuration.md");
  ASSERT_TRUE(doc) << "docs/configuration.md is missing";
  std::stringstream text;
  text << doc.rdbuf();
  for (const auto& s : AllSettings()) {
    EXPECT_NE(text.str().find("`" + std::string(s.key) + "`"), std::string::npos)
        << s.key << " is not in docs/configuration.md";
    EXPECT_NE(text.str().find(EnvVarFor(s.key)), std::string::npos) << EnvVarFor(s.key);
  }
}

}  // namespace
}  // namespace caliper

#pragma once

// For the App tests: a deployment initialised in a fresh temporary directory (named after the
// test), opened, with one project. One per test.

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "caliper/app/app.h"

namespace caliper::app {

class ProjectAppTest : public ::testing::Test {
 protected:
  ProjectAppTest(std::string prefix, std::string project) : prefix_(std::move(prefix)), project_(std::move(project)) {}

  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           (prefix_ + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    ASSERT_TRUE(App::Init(dir_.string(), config_).ok());
    auto app = App::Open(dir_.string(), config_, {});
    ASSERT_TRUE(app.ok()) << app.status().ToString();
    app_ = std::move(*app);
    auto project = app_->CreateProject(LocalOperator(), project_, "");
    ASSERT_TRUE(project.ok()) << project.status().ToString();
    project_id_ = project->id;
  }
  void TearDown() override {
    app_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Items of the project an admin lists.
  std::size_t ItemCount() {
    auto items = app_->ListItems(LocalOperator(), project_id_, {"", 500});
    return items.ok() ? items->rows.size() : 0;
  }

  // The action of every audit event so far, oldest first.
  std::vector<std::string> AuditActions() {
    std::vector<std::string> actions;
    EXPECT_TRUE(app_->ExportAudit(LocalOperator(), 0, SystemClock::Instance().Now() + kMicrosPerHour,
                                  [&](const storage::AuditEvent& e) {
                                    actions.push_back(e.action);
                                    return Status::Ok();
                                  })
                    .ok());
    return actions;
  }

  std::string prefix_, project_;
  std::filesystem::path dir_;
  Config config_;
  std::unique_ptr<App> app_;
  std::string project_id_;
};

}  // namespace caliper::app

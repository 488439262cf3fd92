#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

#include "app/app_test_support.h"
#include "caliper/core/rules.h"

namespace caliper::app {
namespace {

using nlohmann::json;

class ProjectFileTest : public ProjectAppTest {
 protected:
  ProjectFileTest() : ProjectAppTest("caliper_project_file_test_", "existing") {}

  static json Example() {
    std::ifstream in(CALIPER_SOURCE_DIR "/docs/examples/project.json");
    std::stringstream text;
    text << in.rdbuf();
    return json::parse(text.str());
  }

  std::size_t ProjectCount() {
    auto projects = app_->ListProjects(LocalOperator(), {"", 500});
    return projects.ok() ? projects->rows.size() : 0;
  }

  // Actions of every audit event so far, but those of reading the audit itself.
  std::vector<std::string> AuditActions() {
    std::vector<std::string> actions;
    EXPECT_TRUE(app_->ExportAudit(LocalOperator(), 0, SystemClock::Instance().Now() + kMicrosPerHour,
                                  [&](const storage::AuditEvent& e) {
                                    if (!e.action.starts_with("audit.")) actions.push_back(e.action);
                                    return Status::Ok();
                                  })
                    .ok());
    return actions;
  }

  // Creating `file` is refused with a message containing `message`, and leaves nothing behind.
  void ExpectRefused(const json& file, const std::string& message, ErrorCode code = ErrorCode::kInvalidArgument) {
    const std::size_t projects = ProjectCount();
    const std::size_t events = AuditActions().size();
    auto parsed = ProjectFileFromJson(file.dump());
    Status status = parsed.status();
    if (parsed.ok()) status = app_->CreateProjectFromFile(LocalOperator(), *parsed).status();
    EXPECT_EQ(status.code(), code) << status.ToString();
    EXPECT_NE(status.message().find(message), std::string::npos) << status.message();
    EXPECT_EQ(ProjectCount(), projects) << "a refused project file leaves no project";
    EXPECT_EQ(AuditActions().size(), events) << "and no audit event";
  }
};

TEST_F(ProjectFileTest, TheDocumentedExampleMakesTheWholeProjectInOneGo) {
  auto file = ProjectFileFromJson(Example().dump());
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  auto made = app_->CreateProjectFromFile(LocalOperator(), *file);
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  EXPECT_EQ(made->project.name, "Chest CT nodules");

  // The guideline is version 1, published, and the project's current one.
  auto guidelines = app_->ListGuidelines(LocalOperator(), made->project.id, {"", 10});
  ASSERT_TRUE(guidelines.ok());
  ASSERT_EQ(guidelines->rows.size(), 1u);
  EXPECT_EQ(guidelines->rows[0].status, core::GuidelineStatus::kPublished);
  EXPECT_EQ(guidelines->rows[0].version, 1);
  auto schema = core::ParseLabelSchema(guidelines->rows[0].schema_json);
  ASSERT_TRUE(schema.ok());
  ASSERT_NE(schema->Find("pulmonary_nodule"), nullptr);
  EXPECT_NE(schema->Find("nodule_mention"), nullptr);

  // Workflow and text settings are stored as given, not left at their defaults.
  auto w = app_->GetWorkflowSettings(LocalOperator(), made->project.id);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->readers_per_item, 2);
  EXPECT_EQ(w->lease_minutes, 45);
  EXPECT_EQ(w->task_order, core::TaskOrder::kRandom);
  ASSERT_TRUE(w->required_qualification.has_value());
  EXPECT_EQ(*w->required_qualification, core::Qualification::kRadiologist);
  EXPECT_EQ(w->data_types, (std::vector<core::DataType>{core::DataType::kImaging, core::DataType::kNotes}));
  EXPECT_DOUBLE_EQ(w->prelabel_hidden_share, 0.25);
  EXPECT_DOUBLE_EQ(w->gold_rate, 0.05);
  auto t = app_->GetTextSettings(LocalOperator(), made->project.id);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->deid_mode, "surrogate");
  EXPECT_GT(t->updated_at, 0) << "stored, not the defaults";
  auto d = app_->GetDicomSettings(LocalOperator(), made->project.id);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->options, (std::vector<std::string>{"retain-dates", "retain-patient-characteristics",
                                                  "clean-descriptors", "retain-safe-private"}))
      << "canonical names; a safe private element turns Retain Safe Private on";
  EXPECT_EQ(d->safe_private, (std::vector<std::string>{"ACME CT 1.0:0009:10"}));
  EXPECT_EQ(d->blanking, (std::vector<std::string>{"US/ACME/Sono 9:0,0,640,48"}));

  // Audited as if made step by step.
  const auto actions = AuditActions();
  const std::vector<std::string> tail(actions.end() - 6, actions.end());
  EXPECT_EQ(tail, (std::vector<std::string>{"project.create", "guideline.create", "guideline.publish",
                                            "workflow.update", "project.text_settings",
                                            "project.dicom_settings"}));
}

TEST_F(ProjectFileTest, PublishFalseLeavesADraftAndSettingsLeftOutKeepTheirDefaults) {
  json f = Example();
  f["publish"] = false;
  f.erase("workflow");
  f.erase("text");
  f.erase("dicom");
  f["name"] = "draft only";
  auto file = ProjectFileFromJson(f.dump());
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  auto made = app_->CreateProjectFromFile(LocalOperator(), *file);
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  EXPECT_EQ(made->guideline.status, core::GuidelineStatus::kDraft);
  EXPECT_EQ(made->guideline.version, 0);
  auto w = app_->GetWorkflowSettings(LocalOperator(), made->project.id);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->readers_per_item, 1);
  EXPECT_EQ(w->updated_at, 0) << "nothing stored: the defaults";
  const auto actions = AuditActions();
  EXPECT_EQ(actions.back(), "guideline.create");
}

TEST_F(ProjectFileTest, AnyRefusedPartLeavesNothingBehind) {
  json unknown = Example();
  unknown["workflow"]["readers"] = 2;
  ExpectRefused(unknown, "unknown field 'workflow.readers'");

  json wrong_type = Example();
  wrong_type["workflow"]["lease_minutes"] = "45";
  ExpectRefused(wrong_type, "field 'workflow.lease_minutes' must be a whole number");

  json out_of_range = Example();
  out_of_range["workflow"]["readers_per_item"] = 0;
  ExpectRefused(out_of_range, "readers_per_item must be 1 to 20");

  json bad_schema = Example();
  bad_schema["guideline"]["classes"][0]["kind"] = "blob";
  ExpectRefused(bad_schema, "class 'pulmonary_nodule' (classes[0])");

  json bad_text = Example();
  bad_text["text"]["deid_mode"] = "redact";
  ExpectRefused(bad_text, "deid_mode must be 'surrogate' or 'tag'");

  json bad_option = Example();
  bad_option["dicom"]["options"] = {"retain-uids"};
  ExpectRefused(bad_option, "unknown de-identification option 'retain-uids'");

  json bad_blank = Example();
  bad_blank["dicom"]["blanking"] = {"US:0,0,0,10"};
  ExpectRefused(bad_blank, "a blanking rectangle needs a positive size");

  json no_guideline = Example();
  no_guideline.erase("guideline");
  ExpectRefused(no_guideline, "missing field 'guideline'");

  json future = Example();
  future["caliper_project"] = 2;
  ExpectRefused(future, "caliper_project must be 1");

  json taken = Example();
  taken["name"] = "existing";  // the fixture's project
  ExpectRefused(taken, "a project named 'existing' exists already", ErrorCode::kAlreadyExists);

  EXPECT_EQ(ProjectFileFromJson("[1, 2]").status().message(), "a project file must be a JSON object");
}

TEST(WorkflowSettingsFromJson, ReadsEveryFieldStrictly) {
  auto w = WorkflowSettingsFromJson("prj_x", R"({"readers_per_item": 3, "required_qualification": null,
                                                 "data_types": ["pathology"], "task_order": "least_sure"})");
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_EQ(w->project_id, "prj_x");
  EXPECT_EQ(w->readers_per_item, 3);
  EXPECT_FALSE(w->required_qualification.has_value());
  EXPECT_EQ(w->data_types, std::vector<core::DataType>{core::DataType::kPathology});
  EXPECT_EQ(w->task_order, core::TaskOrder::kLeastSure);
  EXPECT_EQ(w->lease_minutes, 30) << "left out: the default";
  EXPECT_FALSE(WorkflowSettingsFromJson("prj_x", R"({"task_order": "lifo"})").ok());
  EXPECT_FALSE(WorkflowSettingsFromJson("prj_x", R"({"data_types": ["x-ray"]})").ok());
  EXPECT_EQ(WorkflowSettingsFromJson("prj_x", R"({"gold_rate": "high"})").status().message(),
            "field 'gold_rate' must be a number");
}

}  // namespace
}  // namespace caliper::app

// Readers' markup through the App: regions on a slide checked against the slide and the
// guideline, versioned per reader, blinded, every access audited.

#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>

#include <nlohmann/json.hpp>

#include "app/app_test_support.h"
#include "caliper/app/app.h"

namespace caliper::app {
namespace {

using nlohmann::json;
using storage::MarkupKind;

class MarkupTest : public ProjectAppTest {
 protected:
  MarkupTest() : ProjectAppTest("caliper_markup_test_", "Markup") {}

  void SetUp() override {
    ProjectAppTest::SetUp();
    if (HasFatalFailure()) return;
    // A slide item of 1000 x 500 level-0 pixels (its description as ingest writes it).
    SlideInfo slide;
    slide.width = 1000;
    slide.height = 500;
    slide.levels = 11;
    slide.vendor = "generic-tiff";
    std::istringstream content(SlideInfoJson(slide));
    NewItem item;
    item.data_type = core::DataType::kPathology;
    item.modality = "SM";
    item.patient_key = "pt-1";
    item.content_type = kSlideContentType;
    auto created = app_->CreateItem(LocalOperator(), project_id_, item, content);
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    item_id_ = created->id;
    reader1_ = Reader("reader1");
    reader2_ = Reader("reader2");
  }

  RequestContext Reader(const std::string& name) {
    auto user = app_->CreateUser(LocalOperator(), NewUser{name, name, false, {}, "a long password 123"});
    EXPECT_TRUE(user.ok()) << user.status().ToString();
    RequestContext ctx;
    if (user.ok()) ctx.principal.user = user->user;
    return ctx;
  }

  void Publish() {
    const std::string schema = R"({"classes": [
        {"id": "tumour", "name": "Tumour", "kind": "polygon", "definition": "invasive tumour",
         "data_types": ["pathology"]},
        {"id": "stroma", "name": "Stroma", "kind": "polygon", "definition": "stroma"},
        {"id": "finding", "name": "Finding", "kind": "span", "definition": "text", "data_types": ["notes"]}]})";
    auto draft = app_->CreateGuidelineDraft(LocalOperator(), project_id_, schema);
    ASSERT_TRUE(draft.ok()) << draft.status().ToString();
    ASSERT_TRUE(app_->PublishGuideline(LocalOperator(), project_id_, draft->id, draft->revision).ok());
  }

  json Region(const std::string& id, const std::string& cls, const std::string& xywh) const {
    return {{"type", "Annotation"},
            {"id", id},
            {"body", json::array({{{"type", "TextualBody"}, {"purpose", "classifying"}, {"value", cls}}})},
            {"target", {{"source", item_id_}, {"selector", {{"type", "FragmentSelector"}, {"value", xywh}}}}}};
  }

  static std::string Doc(const std::vector<json>& regions) {
    json list = json::array();
    for (const auto& r : regions) list.push_back(r);
    return json{{"annotations", list}}.dump();
  }

  std::string item_id_;
  RequestContext reader1_, reader2_;
};

TEST_F(MarkupTest, RegionsAreVersionedPerReaderAndBlinded) {
  Publish();
  auto none = app_->ReadOwnMarkup(reader1_, item_id_, MarkupKind::kRegions);
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_EQ(none->version, 0);
  EXPECT_TRUE(none->document.empty());

  auto v1 = app_->PutRegions(reader1_, item_id_, Doc({Region("a", "tumour", "xywh=pixel:10,10,100,50")}));
  ASSERT_TRUE(v1.ok()) << v1.status().ToString();
  EXPECT_EQ(v1->version, 1);
  auto v2 = app_->PutRegions(reader1_, item_id_,
                             Doc({Region("a", "tumour", "xywh=pixel:10,10,100,50"),
                                  Region("b", "stroma", "xywh=pixel:500,100,20,20")}));
  ASSERT_TRUE(v2.ok()) << v2.status().ToString();
  EXPECT_EQ(v2->version, 2);
  auto theirs = app_->PutRegions(reader2_, item_id_, Doc({Region("z", "stroma", "xywh=pixel:0,0,1000,500")}));
  ASSERT_TRUE(theirs.ok()) << theirs.status().ToString();
  EXPECT_EQ(theirs->version, 1);

  auto mine = app_->ReadOwnMarkup(reader1_, item_id_, MarkupKind::kRegions);
  ASSERT_TRUE(mine.ok());
  EXPECT_EQ(mine->version, 2);
  const json doc = json::parse(mine->document);
  ASSERT_EQ(doc["annotations"].size(), 2u);
  EXPECT_EQ(doc["annotations"][1]["id"], "b");
  EXPECT_TRUE(doc["guideline_version_id"].is_string());
  // Reader 2 sees only their own.
  auto other = app_->ReadOwnMarkup(reader2_, item_id_, MarkupKind::kRegions);
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(json::parse(other->document)["annotations"][0]["id"], "z");
  // Intervals are another kind: none yet.
  auto intervals = app_->ReadOwnMarkup(reader1_, item_id_, MarkupKind::kIntervals);
  ASSERT_TRUE(intervals.ok());
  EXPECT_EQ(intervals->version, 0);

  auto all = app_->ListReadersMarkup(LocalOperator(), item_id_, MarkupKind::kRegions);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->size(), 2u);
  std::vector<std::int64_t> versions = {(*all)[0].version, (*all)[1].version};
  std::sort(versions.begin(), versions.end());
  EXPECT_EQ(versions, (std::vector<std::int64_t>{1, 2}));

  const auto actions = AuditActions();
  EXPECT_EQ(std::count(actions.begin(), actions.end(), "markup.put"), 3);
  EXPECT_EQ(std::count(actions.begin(), actions.end(), "markup.read"), 4);
  EXPECT_EQ(std::count(actions.begin(), actions.end(), "markup.list"), 1);
}

TEST_F(MarkupTest, RegionsAreCheckedAgainstTheSlideAndTheGuideline) {
  const std::string good = Doc({Region("a", "tumour", "xywh=pixel:10,10,100,50")});
  auto unpublished = app_->PutRegions(reader1_, item_id_, good);
  EXPECT_EQ(unpublished.status().code(), ErrorCode::kConflict);
  Publish();
  auto unknown = app_->PutRegions(reader1_, item_id_, Doc({Region("a", "necrosis", "xywh=pixel:1,1,2,2")}));
  EXPECT_EQ(unknown.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(unknown.status().message().find("class 'necrosis' is not in guideline version 1"), std::string::npos);
  auto wrong_type = app_->PutRegions(reader1_, item_id_, Doc({Region("a", "finding", "xywh=pixel:1,1,2,2")}));
  EXPECT_EQ(wrong_type.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(wrong_type.status().message().find("does not apply to pathology"), std::string::npos);
  auto outside = app_->PutRegions(reader1_, item_id_, Doc({Region("a", "tumour", "xywh=pixel:950,10,100,50")}));
  EXPECT_EQ(outside.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(outside.status().message().find("outside the slide"), std::string::npos);
  // Nothing of the refused documents was stored.
  auto none = app_->ReadOwnMarkup(reader1_, item_id_, MarkupKind::kRegions);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->version, 0);
  // Only slides hold regions.
  std::istringstream content("text");
  NewItem note;
  note.data_type = core::DataType::kNotes;
  note.patient_key = "pt-1";
  auto note_item = app_->CreateItem(LocalOperator(), project_id_, note, content);
  ASSERT_TRUE(note_item.ok());
  EXPECT_EQ(app_->PutRegions(reader1_, note_item->id, good).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(app_->PutRegions(reader1_, item_id_, good).ok());
}

TEST_F(MarkupTest, RegionAgreementIsDiceAndIouPerClassOnTheRasterisedRegions) {
  Publish();
  // The slide is 1000 x 500: one cell per level-0 pixel. Tumour: two 100 x 100 squares half on
  // top of each other (Dice 2 * 5000 / 20000 = 0.5, IoU 5000 / 15000). Stroma: only reader 1.
  ASSERT_TRUE(app_->PutRegions(reader1_, item_id_,
                               Doc({Region("a", "tumour", "xywh=pixel:0,0,100,100"),
                                    Region("b", "stroma", "xywh=pixel:500,100,20,20"),
                                    Region("p", "stroma", "xywh=pixel:700,100,0,0")}))
                  .ok());
  ASSERT_TRUE(app_->PutRegions(reader2_, item_id_, Doc({Region("z", "tumour", "xywh=pixel:50,0,100,100")})).ok());
  auto report = app_->RegionAgreement(LocalOperator(), item_id_);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->cell_px, 1);
  EXPECT_EQ(report->grid_width, 1000);
  EXPECT_EQ(report->grid_height, 500);
  EXPECT_FALSE(report->cell_um.has_value());  // the test slide has no scale
  ASSERT_EQ(report->readers.size(), 2u);
  ASSERT_EQ(report->classes.size(), 2u);
  const RegionClassAgreement& stroma = report->classes[0];
  const RegionClassAgreement& tumour = report->classes[1];
  EXPECT_EQ(stroma.label_class, "stroma");
  EXPECT_EQ(tumour.label_class, "tumour");
  ASSERT_EQ(tumour.pairs.size(), 1u);
  EXPECT_DOUBLE_EQ(tumour.pairs[0].dice, 0.5);
  EXPECT_DOUBLE_EQ(tumour.pairs[0].iou, 5000.0 / 15000.0);
  EXPECT_EQ(tumour.pairs[0].intersection, 5000);
  EXPECT_EQ(tumour.cells, (std::vector<std::int64_t>{10000, 10000}));
  ASSERT_TRUE(tumour.staple.has_value()) << tumour.staple_note;
  EXPECT_EQ(tumour.staple->sensitivity.size(), 2u);
  EXPECT_GE(tumour.staple->consensus_cells, 5000);
  EXPECT_LE(tumour.staple->consensus_cells, 15000);
  // Stroma: reader 2 drew none (a point has no area): Dice 0.
  ASSERT_EQ(stroma.pairs.size(), 1u);
  EXPECT_DOUBLE_EQ(stroma.pairs[0].dice, 0.0);
  std::vector<std::int64_t> stroma_cells = stroma.cells;
  std::sort(stroma_cells.begin(), stroma_cells.end());
  EXPECT_EQ(stroma_cells, (std::vector<std::int64_t>{0, 400}));
  const auto actions = AuditActions();
  EXPECT_EQ(std::count(actions.begin(), actions.end(), "regions.agreement"), 1);
}

}  // namespace
}  // namespace caliper::app

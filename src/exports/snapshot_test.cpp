#include "caliper/exports/snapshot.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace caliper::exports {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

core::Annotation Label(const std::string& id, const std::string& cls, double confidence = 0.8) {
  core::Annotation a;
  a.id = id;
  a.label_class = cls;
  a.evidence_kind = "document";
  a.evidence_json = "{}";
  a.confidence = confidence;
  a.guideline_version_id = "gdl_1";
  return a;
}

SnapshotReading Reading(const std::string& reader, const std::string& cls, const std::string& id,
                        std::optional<core::ReviewDecision> review = std::nullopt) {
  SnapshotReading r{reader, "radiologist", {Label(id, cls)}, {}, std::nullopt};
  if (review) {
    core::Review v;
    v.decision = *review;
    if (*review == core::ReviewDecision::kReject) v.reject_reason = core::RejectReason::kWrongClass;
    r.reviews.push_back(v);
  }
  return r;
}

// Nine items of six patients. Cohort: sex F on 4 items, M on 3, missing on 2; age bands.
//   i1 p1 F  two readers agree "mass"            -> consensus
//   i2 p1 F  readers disagree, adjudicated "mass" -> adjudicated
//   i3 p2 F  readers agree "normal"; one rejected review
//   i4 p2 F  one reader "normal"                 -> provisional
//   i5 p3 M  readers agree "normal"
//   i6 p4 M  readers disagree, not adjudicated   -> provisional, disputed
//   i7 p4 M  readers agree "mass"
//   i8 p5 -  readers agree "normal"
//   i9 p6 -  readers agree "normal"
SnapshotInput Input() {
  SnapshotInput in;
  in.dataset_id = "exp_test";
  in.version = 3;
  in.project_id = "prj_test";
  in.project_name = "Chest";
  in.created_at = "2026-11-26T12:00:00Z";
  in.caliper_version = "0.test";
  in.guideline_versions = {{"gdl_1", 1}};
  in.requested_by = "Manager";
  in.approvers = {"Steward"};
  in.code_system_of = {{"mass", "SNOMED CT"}, {"normal", "SNOMED CT"}};
  in.code_of = {{"mass", "4147007"}, {"normal", "17621005"}};
  struct Row {
    const char* id;
    const char* patient;
    const char* cohort;
  };
  const std::vector<Row> rows = {{"i1", "p1", R"({"sex":"F","age_band":"60-64"})"},
                                 {"i2", "p1", R"({"sex":"F","age_band":"60-64"})"},
                                 {"i3", "p2", R"({"sex":"F","age_band":"40-44"})"},
                                 {"i4", "p2", R"({"sex":"F","age_band":"40-44"})"},
                                 {"i5", "p3", R"({"sex":"M","age_band":"90+"})"},
                                 {"i6", "p4", R"({"sex":"M","age_band":"70-74"})"},
                                 {"i7", "p4", R"({"sex":"M","age_band":"70-74"})"},
                                 {"i8", "p5", R"({})"},
                                 {"i9", "p6", R"({"age_band":"50-54"})"}};
  for (const auto& row : rows) {
    SnapshotItem it;
    it.item.id = row.id;
    it.item.patient_key = row.patient;
    it.item.cohort_json = row.cohort;
    it.item.modality = "CT";
    in.items.push_back(it);
  }
  auto& items = in.items;
  items[0].readings = {Reading("reader-01", "mass", "a1"), Reading("reader-02", "mass", "a2")};
  items[1].readings = {Reading("reader-01", "mass", "a3", core::ReviewDecision::kEscalate),
                       Reading("reader-02", "normal", "a4")};
  items[1].final_labels = {Label("f2", "mass", 1.0)};
  items[1].adjudicator = "adjudicator-01";
  items[1].adjudication_rationale = "spiculated margin";
  items[2].readings = {Reading("reader-01", "normal", "a5", core::ReviewDecision::kReject),
                       Reading("reader-02", "normal", "a6", core::ReviewDecision::kAccept)};
  items[3].readings = {Reading("reader-01", "normal", "a7")};
  items[4].readings = {Reading("reader-01", "normal", "a8"), Reading("reader-02", "normal", "a9")};
  items[5].readings = {Reading("reader-01", "mass", "a10"), Reading("reader-02", "normal", "a11")};
  items[6].readings = {Reading("reader-01", "mass", "a12"), Reading("reader-02", "mass", "a13")};
  items[7].readings = {Reading("reader-01", "normal", "a14"), Reading("reader-02", "normal", "a15")};
  items[8].readings = {Reading("reader-01", "normal", "a16"), Reading("reader-02", "normal", "a17")};
  in.splits.seed = 7;
  in.subgroups.min_share = 0.25;
  in.subgroups.min_items_for_agreement = 1;
  return in;
}

std::vector<json> Records(const Snapshot& s) {
  std::vector<json> out;
  std::istringstream in(s.files.at("labels.jsonl"));
  for (std::string line; std::getline(in, line);) out.push_back(json::parse(line));
  return out;
}

TEST(Snapshot, RecordsCarryStatusUncertaintyAndProvenance) {
  auto s = BuildSnapshot(Input());
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  const auto records = Records(*s);
  ASSERT_EQ(records.size(), 9u);  // one label per item
  std::map<std::string, json> by_item;
  for (const auto& r : records) by_item[r["item_id"]] = r;
  EXPECT_EQ(by_item["i1"]["status"], "consensus");
  EXPECT_EQ(by_item["i2"]["status"], "adjudicated");
  EXPECT_EQ(by_item["i2"]["label_class"], "mass");
  EXPECT_EQ(by_item["i2"]["adjudication"]["rationale"], "spiculated margin");
  EXPECT_EQ(by_item["i2"]["code"]["code"], "4147007");
  EXPECT_EQ(by_item["i4"]["status"], "provisional");
  EXPECT_FALSE(by_item["i4"]["disputed"].get<bool>());
  EXPECT_EQ(by_item["i6"]["status"], "provisional");
  EXPECT_TRUE(by_item["i6"]["disputed"].get<bool>());
  EXPECT_EQ(by_item["i3"]["readers"][0]["reviews"][0]["decision"], "reject");
  EXPECT_EQ(by_item["i3"]["readers"][0]["reviews"][0]["reason_code"], "wrong_class");
  EXPECT_EQ(by_item["i3"]["readers"][0]["qualification"], "radiologist");
  EXPECT_EQ(by_item["i1"]["uncertainty"]["reader_confidences"], json::array({0.8, 0.8}));
  // Dawid–Skene posteriors are probabilities of the item's label set.
  const double p = by_item["i6"]["uncertainty"]["fused_posterior"].get<double>();
  EXPECT_GT(p, 0.0);
  EXPECT_LT(p, 1.0);
  EXPECT_NEAR(by_item["i1"]["uncertainty"]["fused_label_sets"]["mass"].get<double>() +
                  by_item["i1"]["uncertainty"]["fused_label_sets"]["normal"].get<double>(),
              1.0, 2e-6);
  // The CSV has a header and one row per record.
  const std::string& csv = s->files.at("labels.csv");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 10);
}

TEST(Snapshot, TextSpansAsBratStandoffAndBioc) {
  SnapshotInput in = Input();
  SnapshotItem& note = in.items[0];
  note.item.data_type = core::DataType::kNotes;
  // Code points: "É" is one; "effusion" is [7, 15); "Mild\neffusion" is [17, 30).
  note.text = "\xC3\x89p: no effusion.\nMild\neffusion left.";
  core::Annotation negated = Label("s1", "mass");
  negated.evidence_kind = "span";
  negated.evidence_json = R"({"start":7,"end":15})";
  negated.assertion = core::Assertion::kAbsent;
  core::Annotation across = Label("s2", "mass");
  across.evidence_kind = "span";
  across.evidence_json = R"({"start":17,"end":30})";
  across.experiencer = core::Experiencer::kFamily;
  note.readings[0].labels = {negated};
  note.readings[1].labels = {across};
  auto snapshot = BuildSnapshot(in);
  ASSERT_TRUE(snapshot.ok()) << snapshot.status().ToString();
  const auto& files = snapshot->files;
  ASSERT_EQ(files.count("spans/brat/i1.txt"), 1u);
  EXPECT_EQ(files.at("spans/brat/i1.txt"), note.text);
  EXPECT_EQ(files.count("spans/brat/i2.txt"), 0u) << "items without spans have no brat files";
  const std::string ann = files.at("spans/brat/i1.ann");
  EXPECT_NE(ann.find("T1\tmass 7 15\teffusion\n"), std::string::npos) << ann;
  EXPECT_NE(ann.find("A1\tAssertion T1 absent\n"), std::string::npos) << ann;
  EXPECT_NE(ann.find("#1\tAnnotatorNotes T1\treader-01\n"), std::string::npos) << ann;
  EXPECT_NE(ann.find("T2\tmass 17 21;22 30\tMild effusion\n"), std::string::npos) << "fragments at line breaks\n" << ann;
  EXPECT_NE(ann.find("A6\tExperiencer T2 family\n"), std::string::npos) << ann;
  EXPECT_NE(files.at("spans/brat/annotation.conf").find("Assertion\tArg:<ENTITY>, Value:absent|present"),
            std::string::npos);

  const json bioc = json::parse(files.at("spans/bioc.json"));
  ASSERT_EQ(bioc["documents"].size(), 1u);
  const json& passage = bioc["documents"][0]["passages"][0];
  EXPECT_EQ(bioc["documents"][0]["id"], "i1");
  EXPECT_EQ(passage["text"], note.text);
  ASSERT_EQ(passage["annotations"].size(), 2u);
  EXPECT_EQ(passage["annotations"][0]["locations"][0], json({{"offset", 7}, {"length", 8}}));
  EXPECT_EQ(passage["annotations"][0]["text"], "effusion");
  EXPECT_EQ(passage["annotations"][0]["infons"]["assertion"], "absent");
  EXPECT_EQ(passage["annotations"][1]["infons"]["annotator"], "reader-02");
  EXPECT_EQ(passage["annotations"][1]["text"], "Mild\neffusion");
  // The manifest lists them with their hashes, like every file.
  const json manifest = json::parse(files.at("manifest.json"));
  EXPECT_NE(manifest.dump().find("spans/bioc.json"), std::string::npos);
  EXPECT_NE(manifest.dump().find("spans/brat/i1.ann"), std::string::npos);

  // A span past the end of its text is refused, not written.
  note.readings[1].labels[0].evidence_json = R"({"start":17,"end":99})";
  auto bad = BuildSnapshot(in);
  EXPECT_EQ(bad.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("outside its text (36 code points)"), std::string::npos)
      << bad.status().ToString();
}

TEST(Snapshot, NoPatientInTwoSplitsAndSeededSplits) {
  SnapshotInput in = Input();
  // 60 more patients with two items each, so the fractions show.
  for (int p = 0; p < 60; ++p) {
    for (int k = 0; k < 2; ++k) {
      SnapshotItem it;
      it.item.id = "x" + std::to_string(p) + "_" + std::to_string(k);
      it.item.patient_key = "q" + std::to_string(p);
      it.item.cohort_json = "{}";
      it.readings = {Reading("reader-01", p % 3 ? "normal" : "mass", it.item.id + "a")};
      in.items.push_back(it);
    }
  }
  auto s = BuildSnapshot(in);
  ASSERT_TRUE(s.ok());
  std::map<std::string, std::set<std::string>> splits_of_patient;
  std::map<std::string, int> patients_per_split;
  for (const auto& r : Records(*s)) splits_of_patient[r["patient"]].insert(r["split"]);
  for (const auto& [patient, splits] : splits_of_patient) {
    EXPECT_EQ(splits.size(), 1u) << "patient " << patient << " is in two splits";
    ++patients_per_split[*splits.begin()];
  }
  EXPECT_EQ(splits_of_patient.size(), 66u);
  EXPECT_NEAR(patients_per_split["train"], 0.7 * 66, 3);
  EXPECT_NEAR(patients_per_split["validation"], 0.15 * 66, 3);
  EXPECT_NEAR(patients_per_split["test"], 0.15 * 66, 3);
  // Same seed: same split; another seed: another split.
  auto again = SplitPatients(in);
  ASSERT_TRUE(again.ok());
  in.splits.seed = 8;
  auto other = SplitPatients(in);
  ASSERT_TRUE(other.ok());
  EXPECT_NE(*again, *other);
  const json manifest = json::parse(s->files.at("manifest.json"));
  EXPECT_EQ(manifest["splits"]["seed"], 7);
  EXPECT_EQ(manifest["splits"]["unit"], "patient");
  in.splits.train = 0.9;
  EXPECT_FALSE(SplitPatients(in).ok());
}

TEST(Snapshot, SplitsKeepEachLabelAndSubgroupInProportion) {
  // 200 patients, one item each: a fifth "mass", the rest "normal"; sex alternates. Each
  // (label, sex) stratum is cut 70/15/15 on its own, so each holds its share within one
  // patient; a split that ignored the strata would miss that in some stratum.
  SnapshotInput in;
  in.dataset_id = "exp_strata";
  in.splits.seed = 11;
  in.splits.stratify_by = {"sex"};
  for (int p = 0; p < 200; ++p) {
    SnapshotItem it;
    it.item.id = "s" + std::to_string(p);
    it.item.patient_key = "pt" + std::to_string(p);
    it.item.cohort_json = json{{"sex", p % 2 ? "M" : "F"}}.dump();
    it.readings = {Reading("reader-01", p % 5 == 0 ? "mass" : "normal", it.item.id + "a")};
    in.items.push_back(it);
  }
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {  // one lucky seed would prove nothing
    in.splits.seed = seed;
    auto split = SplitPatients(in);
    ASSERT_TRUE(split.ok()) << split.status().ToString();
    std::map<std::string, std::map<std::string, int>> per_stratum;  // "label|sex" -> split -> patients
    std::map<std::string, int> size;
    for (int p = 0; p < 200; ++p) {
      const std::string stratum = std::string(p % 5 == 0 ? "mass" : "normal") + "|" + (p % 2 ? "M" : "F");
      ++per_stratum[stratum][split->at("pt" + std::to_string(p))];
      ++size[stratum];
    }
    ASSERT_EQ(per_stratum.size(), 4u);
    for (const auto& [stratum, counts] : per_stratum) {
      const double n = size[stratum];
      for (const auto& [name, share] : {std::pair{"train", 0.7}, {"validation", 0.15}, {"test", 0.15}}) {
        EXPECT_NEAR(counts.count(name) ? counts.at(name) : 0, share * n, 1.0) << stratum << " " << name << " seed " << seed;
      }
    }
  }
  auto s = BuildSnapshot(in);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(json::parse(s->files.at("manifest.json"))["splits"]["stratified_by"],
            json::parse(R"(["final label set", "sex"])"));
}

TEST(Snapshot, ManifestSaysWhatWhenAndUnderWhichRules) {
  SnapshotInput in = Input();
  in.deidentification_json = R"({"dicom_profile":"PS3.15 E.1.1 Basic","text_mode":"surrogate"})";
  in.guideline_versions = {{"gdl_1", 1}, {"gdl_2", 2}};
  auto s = BuildSnapshot(in);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  const json m = json::parse(s->files.at("manifest.json"));
  EXPECT_EQ(m["dataset_id"], "exp_test");
  EXPECT_EQ(m["version"], 3);
  EXPECT_EQ(m["project"], json::parse(R"({"id":"prj_test","name":"Chest"})"));
  EXPECT_EQ(m["created_at"], "2026-11-26T12:00:00Z");
  EXPECT_EQ(m["caliper_version"], "0.test");
  EXPECT_EQ(m["guideline_versions"], json::parse(R"([{"id":"gdl_1","version":1},{"id":"gdl_2","version":2}])"));
  EXPECT_EQ(m["deidentification"]["dicom_profile"], "PS3.15 E.1.1 Basic");
  EXPECT_EQ(m["deidentification"]["text_mode"], "surrogate");
  EXPECT_EQ(m["requested_by"], "Manager");
  EXPECT_EQ(m["approvers"], json::parse(R"(["Steward"])"));
  EXPECT_EQ(m["items"], 9);
  // Every file but the manifest itself is listed with its size and SHA-256.
  std::set<std::string> listed;
  for (const auto& f : m["files"]) {
    listed.insert(f["path"]);
    EXPECT_EQ(f["bytes"], s->files.at(f["path"]).size()) << f["path"];
    EXPECT_EQ(f["sha256"].get<std::string>().size(), 64u) << f["path"];
  }
  EXPECT_EQ(listed.size() + 1, s->files.size());
  EXPECT_FALSE(listed.count("manifest.json"));
}

TEST(Snapshot, ByteIdenticalWhenBuiltTwice) {
  auto a = BuildSnapshot(Input());
  auto b = BuildSnapshot(Input());
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(a->files, b->files);
  auto ta = TarSnapshot(*a);
  auto tb = TarSnapshot(*b);
  ASSERT_TRUE(ta.ok()) << ta.status().ToString();
  ASSERT_TRUE(tb.ok());
  EXPECT_EQ(*ta, *tb);
}

// Item i1 as a slide (1000 x 800) with two readers' regions: a 100 x 50 rectangle and a
// right triangle of legs 40 (area 800) by reader-01, a point by reader-02.
SnapshotInput WithRegions() {
  SnapshotInput in = Input();
  in.region_classes = {{"mass", "Mass"}, {"normal", "Normal"}};
  SnapshotItem& slide = in.items[0];
  slide.item.data_type = core::DataType::kPathology;
  slide.slide_width = 1000;
  slide.slide_height = 800;
  core::Region rect;
  rect.id = "r1";
  rect.label_class = "mass";
  rect.shape = core::RegionShape::kRectangle;
  rect.confidence = 0.75;
  rect.borderline = true;
  rect.points = {{10, 20}, {110, 20}, {110, 70}, {10, 70}};
  core::Region tri;
  tri.id = "t1";
  tri.label_class = "normal";
  tri.points = {{0, 0}, {40, 0}, {0, 40}};
  core::Region point;
  point.id = "p1";
  point.label_class = "mass";
  point.shape = core::RegionShape::kPoint;
  point.points = {{5, 6}};
  slide.regions = {{"reader-01", 2, {rect, tri}}, {"reader-02", 1, {point}}};
  return in;
}

TEST(Snapshot, RegionsAsGeoJsonAndCoco) {
  auto s = BuildSnapshot(WithRegions());
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  ASSERT_TRUE(s->files.count("regions/geojson/i1.geojson"));
  ASSERT_TRUE(s->files.count("regions/coco.json"));
  const json geo = json::parse(s->files.at("regions/geojson/i1.geojson"));
  EXPECT_EQ(geo["type"], "FeatureCollection");
  ASSERT_EQ(geo["features"].size(), 3u);
  const json& rect = geo["features"][0];
  EXPECT_EQ(rect["geometry"]["type"], "Polygon");
  // The ring is closed (RFC 7946 3.1.6): five positions for four corners.
  EXPECT_EQ(rect["geometry"]["coordinates"][0].size(), 5u);
  EXPECT_EQ(rect["geometry"]["coordinates"][0][4], json::array({10.0, 20.0}));
  EXPECT_EQ(rect["properties"]["classification"]["name"], "mass");
  EXPECT_EQ(rect["properties"]["code"], "4147007");
  EXPECT_EQ(rect["properties"]["reader"], "reader-01");
  EXPECT_EQ(rect["properties"]["confidence"], 0.75);
  EXPECT_EQ(rect["properties"]["borderline"], true);
  EXPECT_EQ(geo["features"][2]["geometry"], (json{{"type", "Point"}, {"coordinates", {5.0, 6.0}}}));

  const json coco = json::parse(s->files.at("regions/coco.json"));
  EXPECT_EQ(coco["categories"], (json::array({{{"id", 1}, {"name", "mass"}, {"supercategory", "pathology"},
                                               {"display", "Mass"}},
                                              {{"id", 2}, {"name", "normal"}, {"supercategory", "pathology"},
                                               {"display", "Normal"}}})));
  ASSERT_EQ(coco["images"].size(), 1u);
  EXPECT_EQ(coco["images"][0]["width"], 1000);
  EXPECT_EQ(coco["images"][0]["height"], 800);
  ASSERT_EQ(coco["annotations"].size(), 2u);  // the point is in GeoJSON only
  const json& a = coco["annotations"][0];
  EXPECT_EQ(a["category_id"], 1);
  EXPECT_DOUBLE_EQ(a["area"].get<double>(), 5000.0);
  EXPECT_EQ(a["bbox"], json::array({10.0, 20.0, 100.0, 50.0}));
  EXPECT_EQ(a["segmentation"][0], json::array({10.0, 20.0, 110.0, 20.0, 110.0, 70.0, 10.0, 70.0}));
  EXPECT_EQ(a["iscrowd"], 0);
  EXPECT_DOUBLE_EQ(coco["annotations"][1]["area"].get<double>(), 800.0);
  EXPECT_EQ(coco["annotations"][1]["category_id"], 2);

  // Hashed in the manifest like every file, and byte-identical when built again.
  const json manifest = json::parse(s->files.at("manifest.json"));
  std::set<std::string> listed;
  for (const auto& f : manifest["files"]) listed.insert(f["path"]);
  EXPECT_TRUE(listed.count("regions/coco.json"));
  EXPECT_TRUE(listed.count("regions/geojson/i1.geojson"));
  auto again = BuildSnapshot(WithRegions());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->files, s->files);
  // A region of a class that is not a pathology class is refused.
  SnapshotInput bad = WithRegions();
  bad.region_classes = {{"normal", "Normal"}};
  EXPECT_EQ(BuildSnapshot(bad).status().code(), ErrorCode::kInvalidArgument);
  // Without regions, no regions/ files.
  auto plain = BuildSnapshot(Input());
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(plain->files.count("regions/coco.json"));
}

class SnapshotDir : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("caliper_snapshot_test_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(SnapshotDir, VerifyFindsAChangedByteAMissingAndAnExtraFile) {
  auto s = BuildSnapshot(Input());
  ASSERT_TRUE(s.ok());
  auto tar = TarSnapshot(*s);
  ASSERT_TRUE(tar.ok());
  ASSERT_TRUE(ExtractSnapshotTar(*tar, dir_.string()).ok());
  auto checked = VerifySnapshotDirectory(dir_.string());
  ASSERT_TRUE(checked.ok()) << checked.status().ToString();
  EXPECT_EQ(*checked, 5);  // every file but the manifest
  EXPECT_EQ(ExtractSnapshotTar(*tar, dir_.string()).code(), ErrorCode::kAlreadyExists);

  {  // one changed byte
    std::fstream f(dir_ / "labels.csv", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(3);
    f.put('#');
  }
  auto changed = VerifySnapshotDirectory(dir_.string());
  ASSERT_EQ(changed.status().code(), ErrorCode::kIntegrity);
  EXPECT_NE(changed.status().message().find("labels.csv"), std::string::npos);
  std::ofstream(dir_ / "labels.csv", std::ios::binary) << s->files.at("labels.csv");
  ASSERT_TRUE(VerifySnapshotDirectory(dir_.string()).ok());

  std::ofstream(dir_ / "extra.txt") << "x";
  EXPECT_EQ(VerifySnapshotDirectory(dir_.string()).status().code(), ErrorCode::kIntegrity);
  fs::remove(dir_ / "extra.txt");
  fs::remove(dir_ / "splits.csv");
  auto missing = VerifySnapshotDirectory(dir_.string());
  ASSERT_EQ(missing.status().code(), ErrorCode::kIntegrity);
  EXPECT_NE(missing.status().message().find("splits.csv"), std::string::npos);
}

TEST_F(SnapshotDir, ExtractRefusesPathsOutsideTheDirectory) {
  Snapshot evil;
  evil.files["../escape.txt"] = "x";
  auto tar = TarSnapshot(evil);
  ASSERT_TRUE(tar.ok());
  EXPECT_EQ(ExtractSnapshotTar(*tar, dir_.string()).code(), ErrorCode::kInvalidArgument);
  EXPECT_FALSE(fs::exists(dir_.parent_path() / "escape.txt"));
}

// The report's figures for the nine-item project above, by hand.
TEST(SubgroupReport, MatchesAHandComputedProject) {
  auto s = BuildSnapshot(Input());
  ASSERT_TRUE(s.ok());
  const json report = json::parse(s->files.at("subgroup_report.json"));
  EXPECT_EQ(report["items"], 9);
  EXPECT_EQ(report["patients"], 6);
  json sex;
  for (const auto& a : report["attributes"]) {
    if (a["attribute"] == "sex") sex = a;
  }
  ASSERT_FALSE(sex.is_null());
  EXPECT_EQ(sex["missing"], 2);
  std::map<std::string, json> g;
  for (const auto& row : sex["subgroups"]) g[row["value"]] = row;
  ASSERT_EQ(g.size(), 3u);
  EXPECT_EQ(g["F"]["items"], 4);
  EXPECT_EQ(g["F"]["patients"], 2);
  EXPECT_NEAR(g["F"]["share"].get<double>(), 4.0 / 9, 1e-6);
  EXPECT_NEAR(g["M"]["share"].get<double>(), 3.0 / 9, 1e-6);
  EXPECT_NEAR(g["(missing)"]["share"].get<double>(), 2.0 / 9, 1e-6);
  // F: final classes mass (i1, i2), normal (i3, i4) -> 50% each.
  EXPECT_NEAR(g["F"]["prevalence"]["mass"].get<double>(), 0.5, 1e-9);
  // M: i5 normal, i6 none agreed, i7 mass -> 1/3 each.
  EXPECT_NEAR(g["M"]["prevalence"]["normal"].get<double>(), 1.0 / 3, 1e-6);
  // F reviews: escalate (i2), reject + accept (i3): 1 of 3 rejected. M has no reviews.
  EXPECT_NEAR(g["F"]["rejection_rate"].get<double>(), 1.0 / 3, 1e-6);
  EXPECT_TRUE(g["M"]["rejection_rate"].is_null());
  // F: items with two readings i1, i2, i3, of which i2 adjudicated; M: i5, i6, i7, none.
  EXPECT_NEAR(g["F"]["adjudication_rate"].get<double>(), 1.0 / 3, 1e-6);
  EXPECT_NEAR(g["M"]["adjudication_rate"].get<double>(), 0.0, 1e-12);
  // min_share 0.25: the missing group (22%) is not a subgroup to flag; F and M are above.
  EXPECT_TRUE(g["(missing)"]["flags"].empty());
  EXPECT_TRUE(g["F"]["flags"].empty());
  // Age band: 90+ has one item (11% < 25%): under-represented.
  for (const auto& a : report["attributes"]) {
    if (a["attribute"] != "age_band") continue;
    for (const auto& row : a["subgroups"]) {
      if (row["value"] == "90+") {
        EXPECT_EQ(row["flags"], json::array({"under-represented"}));
      }
    }
  }
  // Agreement: M items i5 (N,N), i6 (M,N), i7 (M,M): alpha by hand. Coincidences: NN 2,
  // MM 2, MN = NM 1 (n = 6); D_o = 2/6, D_e = 2*3*3/(6*5) = 0.6 -> alpha = 1 - (1/3)/0.6 = 4/9.
  EXPECT_NEAR(g["M"]["agreement"].get<double>(), 4.0 / 9, 1e-6);
  bool statement = false;
  for (const auto& line : report["missing_data_statement"]) {
    if (line == "sex: missing for 2 of 9 items (22.2%)") statement = true;
  }
  EXPECT_TRUE(statement) << report["missing_data_statement"].dump();
  const std::string& html = s->files.at("subgroup_report.html");
  EXPECT_NE(html.find("<svg"), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_NE(html.find("under-represented"), std::string::npos);
}


// The agreement flags, both ways. Overall alpha is 1/2 (by hand: MM 4, NN 8, MN = NM 2 over
// i1..i3 and i5..i9, n = 16; D_o = 1/4, D_e = 2*6*10/(16*15) = 1/2). With i1, i3, i5 and i7 read
// on MR, the MR readers always agree (alpha 1) and the CT ones (i2, i6 disagree; i8, i9 agree;
// i4 has one reading) reach 1 - (1/2)/(3/7) = -1/6.
TEST(SubgroupReport, FlagsAgreementOutsideTheMarginEitherWay) {
  SnapshotInput in = Input();
  for (int i : {0, 2, 4, 6}) in.items[i].item.modality = "MR";
  auto report_with = [&](double margin) {
    in.subgroups.agreement_margin = margin;
    auto s = BuildSnapshot(in);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? json::parse(s->files.at("subgroup_report.json")) : json();
  };
  auto groups_of = [](const json& report, const std::string& attribute) {
    std::map<std::string, json> g;
    for (const auto& a : report["attributes"]) {
      if (a["attribute"] != attribute) continue;
      for (const auto& row : a["subgroups"]) g[row["value"]] = row;
    }
    return g;
  };

  json report = report_with(0.25);
  // The report rounds to six decimals.
  EXPECT_NEAR(report["overall"]["agreement"].get<double>(), 0.5, 1e-6);
  auto modality = groups_of(report, "modality");
  ASSERT_EQ(modality.size(), 2u);
  EXPECT_NEAR(modality["MR"]["agreement"].get<double>(), 1.0, 1e-6);
  EXPECT_NEAR(modality["CT"]["agreement"].get<double>(), -1.0 / 6, 1e-6);
  EXPECT_EQ(modality["MR"]["flags"], json::array({"agreement higher"}));
  EXPECT_EQ(modality["CT"]["flags"], json::array({"agreement lower"}));
  // Sex: F and M both at 4/9, inside the margin; the missing group has no variation (no alpha).
  auto sex = groups_of(report, "sex");
  EXPECT_TRUE(sex["F"]["flags"].empty());
  EXPECT_TRUE(sex["M"]["flags"].empty());
  EXPECT_TRUE(sex["(missing)"]["agreement"].is_null());
  EXPECT_TRUE(sex["(missing)"]["flags"].empty()) << "no alpha, no agreement flag";
  auto s = BuildSnapshot(in);
  ASSERT_TRUE(s.ok());
  EXPECT_NE(s->files.at("subgroup_report.html").find("agreement higher"), std::string::npos);

  // A tighter margin flags F and M (1/18 below overall); a wider one keeps only CT's gap (2/3).
  sex = groups_of(report_with(0.05), "sex");
  EXPECT_EQ(sex["F"]["flags"], json::array({"agreement lower"}));
  EXPECT_EQ(sex["M"]["flags"], json::array({"agreement lower"}));
  modality = groups_of(report_with(0.6), "modality");
  EXPECT_TRUE(modality["MR"]["flags"].empty());
  EXPECT_EQ(modality["CT"]["flags"], json::array({"agreement lower"}));
  EXPECT_TRUE(groups_of(report_with(0.7), "modality")["CT"]["flags"].empty());
}

}  // namespace
}  // namespace caliper::exports

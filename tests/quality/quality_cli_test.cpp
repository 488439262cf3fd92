// `caliper agree` and `caliper fuse` end to end through the binary (issue 6, docs/quality.md):
// the JSON fields the issue specifies, values against published answers (the same sources the
// library tests cite), exit 1 with a "caliper: ..." message for bad input, exit 2 for bad usage.
// Inputs are written by the test: ratings CSV, NIfTI masks via ingest's WriteNiftiUint8, and
// the binary's own STAPLE output.

#include <array>
#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

#include "caliper/ingest/nifti_io.h"
#include "support/e2e.h"

namespace caliper::e2e {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// Keys of a JSON object, in order (nlohmann::json sorts them).
std::vector<std::string> Keys(const json& object) {
  std::vector<std::string> keys;
  for (const auto& [key, value] : object.items()) keys.push_back(key);
  return keys;
}

// A binary mask on a grid with spacing in mm, x fastest.
struct Mask {
  std::int64_t nx, ny, nz;
  std::array<double, 3> spacing{1, 1, 1};
  std::vector<std::uint8_t> voxels = std::vector<std::uint8_t>(nx * ny * nz, 0);

  // Sets the box [lo, hi] (inclusive) to 1.
  void Box(std::array<int, 3> lo, std::array<int, 3> hi) {
    for (int z = lo[2]; z <= hi[2]; ++z)
      for (int y = lo[1]; y <= hi[1]; ++y)
        for (int x = lo[0]; x <= hi[0]; ++x) voxels[(z * ny + y) * nx + x] = 1;
  }
  ingest::NiftiGeometry Geometry() const {
    ingest::NiftiGeometry g;
    g.dims = {nx, ny, nz};
    g.spacing_mm = spacing;
    g.pixdim = spacing;
    g.xyz_units = 2;  // NIFTI_UNITS_MM
    return g;
  }
};

class QualityCliTest : public ::testing::Test {
 protected:
  // Runs a command that must succeed and print JSON.
  static json Json(const std::vector<std::string>& args) {
    RunResult r = Caliper(args);
    EXPECT_EQ(r.exit_code, 0) << Describe(r);
    json out = json::parse(r.out, nullptr, false);
    EXPECT_FALSE(out.is_discarded()) << "not JSON: " << Describe(r);
    return out;
  }
  // Runs a command that must fail with exit 1, one "caliper: ..." message and no output;
  // returns stderr.
  static std::string Error(const std::vector<std::string>& args) {
    RunResult r = Caliper(args);
    EXPECT_EQ(r.exit_code, 1) << Describe(r);
    EXPECT_THAT(r.err, StartsWith("caliper: ")) << Describe(r);
    EXPECT_EQ(r.out, "") << Describe(r);
    return r.err;
  }
  std::string Write(const std::string& name, const std::string& content) const {
    WriteFile(dir_ / name, content);
    return dir_ / name;
  }
  std::string WriteMask(const std::string& name, const Mask& mask) const {
    Status s = ingest::WriteNiftiUint8(dir_ / name, mask.Geometry(), mask.voxels);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return dir_ / name;
  }

  TempDir dir_{"caliper_quality_cli_test"};
};

// Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C: 4 observers x
// 12 units with missing values (= Gwet 2014 p. 120, irrCAC `cac.raw4raters`); a missing value
// is an absent row, and one row has an empty value (also missing).
std::string KrippendorffCsv() {
  const char* m[12][4] = {{"1", "1", "", "1"},  {"2", "2", "3", "2"}, {"3", "3", "3", "3"},
                          {"3", "3", "3", "3"}, {"2", "2", "2", "2"}, {"1", "2", "3", "4"},
                          {"4", "4", "4", "4"}, {"1", "1", "2", "1"}, {"2", "2", "2", "2"},
                          {"", "5", "5", "5"},  {"", "", "1", "1"},   {"", "", "3", ""}};
  const char* observers[4] = {"A", "B", "C", "D"};
  std::string csv = "item,rater,value\r\n";
  for (int u = 0; u < 12; ++u) {
    for (int o = 0; o < 4; ++o) {
      if (*m[u][o] == '\0' && u != 0) continue;  // absent row; unit 1's stays, empty
      csv += "unit" + std::to_string(u + 1) + "," + observers[o] + "," + m[u][o] + "\r\n";
    }
  }
  return csv;
}

// ---- agree on ratings ---------------------------------------------------------------------------

TEST_F(QualityCliTest, AgreeReproducesKrippendorff2011AndGwet2014) {
  const std::string csv = Write("ratings.csv", KrippendorffCsv());
  json alpha = Json({"agree", "--metric", "krippendorff", "--input", csv, "--bootstrap", "200"});
  EXPECT_EQ(Keys(alpha),
            (std::vector<std::string>{"ci", "metric", "n_items", "n_raters", "value"}));
  EXPECT_EQ(alpha["metric"], "krippendorff");
  EXPECT_NEAR(alpha["value"].get<double>(), 0.74342, 5e-6);  // irrCAC; Krippendorff: 0.743
  EXPECT_EQ(alpha["n_items"], 11);  // unit 12 has one value: not pairable
  EXPECT_EQ(alpha["n_raters"], 4);
  ASSERT_TRUE(alpha["ci"].is_array()) << alpha.dump();
  ASSERT_EQ(alpha["ci"].size(), 2u);
  EXPECT_LT(alpha["ci"][0].get<double>(), 0.74342);
  EXPECT_GT(alpha["ci"][1].get<double>(), 0.74342);
  EXPECT_LE(alpha["ci"][1].get<double>(), 1.0);
  // The same seed gives the same interval.
  EXPECT_EQ(Json({"agree", "--metric", "krippendorff", "--input", csv, "--bootstrap", "200"})["ci"],
            alpha["ci"]);

  // Krippendorff (2011): 0.815 ordinal, 0.849 interval, 0.797 ratio.
  const std::vector<std::pair<std::string, double>> levels = {
      {"ordinal", 0.815}, {"interval", 0.849}, {"ratio", 0.797}};
  for (const auto& [level, expected] : levels) {
    json r = Json({"agree", "--metric", "krippendorff", "--level", level, "--input", csv,
                   "--bootstrap", "0"});
    EXPECT_NEAR(r["value"].get<double>(), expected, 5e-4) << level;
    EXPECT_TRUE(r["ci"].is_null()) << level;
  }
  // irrCAC overview vignette on the same data: percent 0.8181818, AC1 0.77544, Fleiss (Gwet's
  // generalisation for missing ratings) 0.76117; weighted AC2 0.859 linear, Fleiss 0.865
  // quadratic.
  const std::vector<std::tuple<std::string, std::string, double, double>> others = {
      {"percent", "none", 0.8181818, 5e-8}, {"gwet", "none", 0.77544, 5e-6},
      {"fleiss", "none", 0.76117, 5e-6},    {"gwet", "linear", 0.859, 5e-4},
      {"fleiss", "quadratic", 0.865, 5e-4}};
  for (const auto& [metric, weights, expected, tolerance] : others) {
    json r = Json({"agree", "--metric", metric, "--weights", weights, "--input", csv,
                   "--bootstrap", "0"});
    EXPECT_EQ(r["metric"], metric);
    EXPECT_NEAR(r["value"].get<double>(), expected, tolerance) << metric << " " << weights;
    EXPECT_EQ(r["n_raters"], 4);
  }
}

TEST_F(QualityCliTest, AgreeCohenOnWikipediaExample) {
  // Wikipedia, "Cohen's kappa": 50 proposals, yes/yes 20, yes/no 5, no/yes 10, no/no 15;
  // p_o = 0.7, p_e = 0.5, kappa = 0.4.
  std::string csv = "item,rater,value\n";
  const std::vector<std::tuple<int, std::string, std::string>> cells = {
      {20, "yes", "yes"}, {5, "yes", "no"}, {10, "no", "yes"}, {15, "no", "no"}};
  int item = 0;
  for (const auto& [count, a, b] : cells) {
    for (int c = 0; c < count; ++c, ++item) {
      csv += "p" + std::to_string(item) + ",A," + a + "\n";
      csv += "p" + std::to_string(item) + ",B," + b + "\n";
    }
  }
  json r = Json({"agree", "--metric", "cohen", "--input", Write("cohen.csv", csv), "--bootstrap",
                 "0"});
  EXPECT_NEAR(r["value"].get<double>(), 0.4, 1e-12);
  EXPECT_EQ(r["n_items"], 50);
  EXPECT_EQ(r["n_raters"], 2);
}

// ---- agree on masks -----------------------------------------------------------------------------

TEST_F(QualityCliTest, AgreeOnMasksOffsetCubesAndParallelSlabs) {
  // Two 10^3 cubes 3 voxels apart along x, spacing 2 x 1 x 0.5 mm: Dice = 0.7,
  // IoU = 700/1300, Hausdorff = 3 voxels * 2 mm = 6 mm (docs/quality.md).
  Mask a{30, 30, 30, {2, 1, 0.5}}, b = a;
  a.Box({10, 10, 10}, {19, 19, 19});
  b.Box({13, 10, 10}, {22, 19, 19});
  const std::string pa = WriteMask("a.nii.gz", a), pb = WriteMask("b.nii", b);
  json dice = Json({"agree", "--metric", "dice", "--a", pa, "--b", pb});
  EXPECT_EQ(dice["metric"], "dice");
  EXPECT_DOUBLE_EQ(dice["value"].get<double>(), 0.7);
  EXPECT_EQ(dice["intersection_voxels"], 700);
  EXPECT_DOUBLE_EQ(Json({"agree", "--metric", "iou", "--a", pa, "--b", pb})["value"].get<double>(),
                   700.0 / 1300.0);
  json hd = Json({"agree", "--metric", "hd", "--a", pa, "--b", pb});
  EXPECT_NEAR(hd["value"].get<double>(), 6.0, 1e-6);
  EXPECT_EQ(hd["unit"], "mm");
  EXPECT_EQ(hd["a_surface_voxels"], 1000 - 512);

  // One-voxel planes z = 5 and z = 8, 2.5 mm slices: every surface distance is 7.5 mm.
  Mask c{16, 12, 12, {0.8, 0.8, 2.5}}, d = c;
  c.Box({0, 0, 5}, {15, 11, 5});
  d.Box({0, 0, 8}, {15, 11, 8});
  const std::string pc = WriteMask("c.nii.gz", c), pd = WriteMask("d.nii.gz", d);
  for (const std::string metric : {"hd", "hd95", "assd"}) {
    EXPECT_NEAR(Json({"agree", "--metric", metric, "--a", pc, "--b", pd})["value"].get<double>(),
                7.5, 1e-6)
        << metric;
  }
  json nsd = Json({"agree", "--metric", "nsd", "--a", pc, "--b", pd, "--tolerance-mm", "7.5"});
  EXPECT_DOUBLE_EQ(nsd["value"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(nsd["tolerance_mm"].get<double>(), 7.5);
  EXPECT_DOUBLE_EQ(Json({"agree", "--metric", "nsd", "--a", pc, "--b", pd, "--tolerance-mm",
                         "7.4"})["value"]
                       .get<double>(),
                   0.0);

  // An empty mask against a non-empty one: the distance is infinite, printed as null.
  Mask empty{16, 12, 12, {0.8, 0.8, 2.5}};
  json inf = Json({"agree", "--metric", "hd95", "--a", WriteMask("e.nii.gz", empty), "--b", pd});
  EXPECT_TRUE(inf["value"].is_null()) << inf.dump();
  EXPECT_THAT(inf["note"].get<std::string>(), HasSubstr("empty"));
}

// ---- fuse ---------------------------------------------------------------------------------------

TEST_F(QualityCliTest, FuseDawidSkeneOnTheAnaesthesiaData) {
  // Dawid & Skene (1979), Table 1: 45 patients x 5 observers, observer 1 three times (repeated
  // ratings are rows with the same item and rater). Class marginals ~0.40, 0.42, 0.11, 0.07;
  // finer digits and the log-likelihood are the EM fixed point the library test pins.
  constexpr int kAnaesthesia[45][7] = {
      {1, 1, 1, 1, 1, 1, 1}, {3, 3, 3, 4, 3, 3, 4}, {1, 1, 2, 2, 1, 2, 2}, {2, 2, 2, 3, 1, 2, 1},
      {2, 2, 2, 3, 2, 2, 2}, {2, 2, 2, 3, 3, 2, 2}, {1, 2, 2, 2, 1, 1, 1}, {3, 3, 3, 3, 4, 3, 3},
      {2, 2, 2, 2, 2, 2, 3}, {2, 3, 2, 2, 2, 2, 3}, {4, 4, 4, 4, 4, 4, 4}, {2, 2, 2, 3, 3, 4, 3},
      {1, 1, 1, 1, 1, 1, 1}, {2, 2, 2, 3, 2, 1, 2}, {1, 2, 1, 1, 1, 1, 1}, {1, 1, 1, 2, 1, 1, 1},
      {1, 1, 1, 1, 1, 1, 1}, {1, 1, 1, 1, 1, 1, 1}, {2, 2, 2, 2, 2, 2, 1}, {2, 2, 2, 1, 3, 2, 2},
      {2, 2, 2, 2, 2, 2, 2}, {2, 2, 2, 2, 2, 2, 1}, {2, 2, 2, 3, 2, 2, 2}, {2, 2, 1, 2, 2, 2, 2},
      {1, 1, 1, 1, 1, 1, 1}, {1, 1, 1, 1, 1, 1, 1}, {2, 3, 2, 2, 2, 2, 2}, {1, 1, 1, 1, 1, 1, 1},
      {1, 1, 1, 1, 1, 1, 1}, {1, 1, 2, 1, 1, 2, 1}, {1, 1, 1, 1, 1, 1, 1}, {3, 3, 3, 3, 2, 3, 3},
      {1, 1, 1, 1, 1, 1, 1}, {2, 2, 2, 2, 2, 2, 2}, {2, 2, 2, 3, 2, 3, 2}, {4, 3, 3, 4, 3, 4, 3},
      {2, 2, 1, 2, 2, 3, 2}, {2, 3, 2, 3, 2, 3, 3}, {3, 3, 3, 3, 4, 3, 2}, {1, 1, 1, 1, 1, 1, 1},
      {1, 1, 1, 1, 1, 1, 1}, {1, 2, 1, 2, 1, 1, 1}, {2, 3, 2, 2, 2, 2, 2}, {1, 2, 1, 1, 1, 1, 1},
      {2, 2, 2, 2, 2, 2, 2}};
  std::string csv = "item,rater,value\n";
  for (int p = 0; p < 45; ++p) {
    for (int c = 0; c < 7; ++c) {
      csv += "patient" + std::to_string(p + 1) + ",obs" + std::to_string(c < 3 ? 1 : c - 1) +
             "," + std::to_string(kAnaesthesia[p][c]) + "\n";
    }
  }
  json r = Json({"fuse", "--method", "dawid-skene", "--input", Write("anaesthesia.csv", csv)});
  for (const std::string key : {"priors", "confusion", "posteriors", "log_likelihood"}) {
    EXPECT_TRUE(r.contains(key)) << key << " missing: " << r.dump();
  }
  const std::vector<double> priors = {0.399555, 0.421983, 0.111795, 0.066667};
  for (int j = 0; j < 4; ++j) {
    EXPECT_NEAR(r["priors"][std::to_string(j + 1)].get<double>(), priors[j], 1e-5) << j;
  }
  EXPECT_NEAR(r["log_likelihood"].get<double>(), -192.890881, 1e-5);
  EXPECT_NEAR(r["confusion"]["obs1"]["1"]["1"].get<double>(), 0.889488, 1e-5);
  EXPECT_NEAR(r["confusion"]["obs1"]["3"]["3"].get<double>(), 0.661178, 1e-5);
  EXPECT_EQ(r["confusion"].size(), 5u);
  ASSERT_EQ(r["posteriors"].size(), 45u);
  EXPECT_NEAR(r["posteriors"]["patient38"]["3"].get<double>(), 0.9788, 5e-4);
  EXPECT_EQ(r["converged"], true);
}

TEST_F(QualityCliTest, FuseStapleAnalyticFixedPointAndItsConsensusFile) {
  // Raters 1 and 2 draw the same cube S (216 voxels); rater 3 draws S plus 32 false positives
  // F. The fixed point is exact: sensitivities 1, specificities 1, 1, 1 - 32 / (8000 - 216),
  // consensus 1 on S and 0 elsewhere (the staple_test.cpp case, here through files).
  Mask a{20, 20, 20, {1.5, 1.5, 3}};
  a.Box({2, 2, 2}, {7, 7, 7});
  Mask c = a;
  c.Box({12, 12, 12}, {13, 15, 15});
  const std::vector<std::string> masks = {WriteMask("r1.nii.gz", a), WriteMask("r2.nii.gz", a),
                                          WriteMask("r3.nii.gz", c)};
  const std::string out = dir_ / "consensus.nii.gz";
  json r = Json({"fuse", "--method", "staple", "--masks", masks[0], masks[1], masks[2], "--out",
                 out});
  ASSERT_TRUE(r["raters"].is_array()) << r.dump();
  ASSERT_EQ(r["raters"].size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(r["raters"][i]["mask"], masks[i]);
    EXPECT_NEAR(r["raters"][i]["sensitivity"].get<double>(), 1.0, 1e-9) << i;
  }
  EXPECT_NEAR(r["raters"][0]["specificity"].get<double>(), 1.0, 1e-9);
  EXPECT_NEAR(r["raters"][2]["specificity"].get<double>(), 1.0 - 32.0 / (8000 - 216), 1e-9);
  EXPECT_NEAR(r["prior"].get<double>(), (216 * 3 + 32) / 3.0 / 8000.0, 1e-12);
  EXPECT_EQ(r["out"], out);

  // The consensus file has the first mask's grid, float probabilities, and is S exactly.
  auto consensus = ingest::ReadNiftiVolume(out);
  ASSERT_TRUE(consensus.ok()) << consensus.status().ToString();
  EXPECT_EQ(consensus->geometry.dims, (std::array<std::int64_t, 3>{20, 20, 20}));
  EXPECT_NEAR(consensus->geometry.spacing_mm[2], 3.0, 1e-6);
  EXPECT_NEAR(consensus->values[(3 * 20 + 3) * 20 + 3], 1.0, 1e-6);
  EXPECT_NEAR(consensus->values[(13 * 20 + 13) * 20 + 12], 0.0, 1e-6);
  // ... so the binary itself finds it identical to rater 1 (probability maps read at >= 0.5).
  json dice = Json({"agree", "--metric", "dice", "--a", out, "--b", masks[0]});
  EXPECT_DOUBLE_EQ(dice["value"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(
      Json({"agree", "--metric", "hd", "--a", out, "--b", masks[0]})["value"].get<double>(), 0.0);

  // Multi-label: the uint8 labels are written.
  const std::string labels = dir_ / "labels.nii.gz";
  json multi = Json({"fuse", "--method", "staple", "--multi-label", "--masks", masks[0], masks[1],
                     masks[2], "--out", labels});
  EXPECT_EQ(multi["multi_label"], true);
  EXPECT_EQ(multi["labels"], json::array({0, 1}));
  auto label_map = ingest::ReadNiftiLabelMap(labels);
  ASSERT_TRUE(label_map.ok()) << label_map.status().ToString();
  EXPECT_EQ(label_map->labels, a.voxels);
}

// ---- errors -------------------------------------------------------------------------------------

TEST_F(QualityCliTest, BadInputExitsOneWithAClearMessage) {
  const std::string csv = Write("ratings.csv", KrippendorffCsv());
  EXPECT_THAT(Error({"agree", "--metric", "fleiss", "--input", dir_ / "missing.csv"}),
              HasSubstr("missing.csv"));
  EXPECT_THAT(Error({"agree", "--metric", "fleiss", "--input",
                     Write("header.csv", "item,reader,value\n1,a,1\n")}),
              HasSubstr("item,rater,value"));
  EXPECT_THAT(Error({"agree", "--metric", "krippendorff", "--level", "interval", "--input",
                     Write("labels.csv", "item,rater,value\n1,a,yes\n1,b,no\n2,a,yes\n2,b,yes\n")}),
              HasSubstr("yes"));
  // Every rating in one category: kappa is undefined, said so rather than printed as NaN.
  EXPECT_THAT(Error({"agree", "--metric", "fleiss", "--bootstrap", "0", "--input",
                     Write("same.csv", "item,rater,value\n1,a,x\n1,b,x\n2,a,x\n2,b,x\n")}),
              HasSubstr("chance agreement is 1"));
  // Repeated ratings are an error for agreement (which one counts?).
  EXPECT_FALSE(Error({"agree", "--metric", "percent", "--input",
                      Write("twice.csv", "item,rater,value\n1,a,x\n1,a,y\n1,b,x\n")})
                   .empty());
  EXPECT_FALSE(
      Error({"agree", "--metric", "krippendorff", "--weights", "linear", "--input", csv}).empty());
  EXPECT_THAT(Error({"agree", "--metric", "tau", "--input", csv}), HasSubstr("unknown metric"));

  Mask a{8, 8, 8}, b{8, 8, 9};
  a.Box({2, 2, 2}, {4, 4, 4});
  b.Box({2, 2, 2}, {4, 4, 4});
  const std::string pa = WriteMask("a.nii.gz", a), pb = WriteMask("b.nii.gz", b);
  EXPECT_FALSE(Error({"agree", "--metric", "dice", "--a", pa, "--b", pb}).empty());
  EXPECT_FALSE(Error({"fuse", "--method", "staple", "--masks", pa, pb}).empty());
  EXPECT_THAT(Error({"agree", "--metric", "dice", "--a", pa, "--b", csv}), HasSubstr("ratings.csv"));
  EXPECT_FALSE(Error({"agree", "--metric", "dice", "--a", pa}).empty());
  EXPECT_FALSE(Error({"fuse", "--method", "staple", "--masks", pa}).empty());
  EXPECT_THAT(Error({"fuse", "--method", "em", "--input", csv}), HasSubstr("unknown method"));
  // All masks empty: nothing to estimate.
  Mask empty{8, 8, 8};
  const std::string pe = WriteMask("empty.nii.gz", empty);
  EXPECT_FALSE(Error({"fuse", "--method", "staple", "--masks", pe, pe}).empty());
}

TEST_F(QualityCliTest, BadUsageExitsTwo) {
  const std::vector<std::vector<std::string>> cases = {
      {"agree"},                                                  // --metric is required
      {"agree", "--metric"},                                      // no value
      {"agree", "--metric", "fleiss", "--no-such-flag"},          //
      {"agree", "--metric", "fleiss", "--bootstrap", "many"},     // not a number
      {"agree", "--metric", "nsd", "--tolerance-mm", "wide"},     //
      {"fuse"},                                                   // --method is required
      {"fuse", "--method", "staple", "--masks"},                  //
      {"fuse", "--method", "dawid-skene", "--input", "x", "y"},  // stray argument
  };
  for (const auto& args : cases) {
    RunResult r = Caliper(args);
    std::string command;
    for (const auto& a : args) command += a + " ";
    EXPECT_EQ(r.exit_code, 2) << command << Describe(r);
    EXPECT_FALSE(r.err.empty()) << command;
  }
}

}  // namespace
}  // namespace caliper::e2e

// `caliper ingest slide` end to end (docs/pathology.md): a folder with the sample slide of
// $CALIPER_SAMPLE_DATA, a truncated copy of it and a text file; the per-file report (table and
// --json) and exit codes; one pathology item for the slide, with nothing identifying from the
// scanner's metadata in the database's clear columns or in the stored (encrypted) files.

#include <filesystem>
#include <fstream>
#include <iterator>

#include "caliper/common/sample_data.h"
#include "support/e2e.h"

namespace caliper::e2e {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

class IngestSlideCliTest : public ProjectDeploymentTest {
 protected:
  IngestSlideCliTest() : ProjectDeploymentTest("caliper_ingest_slide_cli", "Slides") {}

  static std::string ReadAll(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }
};

// Values the SVS's ImageDescription carries (scanner, file name, user id).
constexpr const char* kScannerSecrets[] = {"CPAPERIOCS", "CMU-1", "b414003d-95c6-48b0-9369-8010ed517ba7"};

TEST_F(IngestSlideCliTest, TheSampleSlideIsStoredAndBadFilesAreReported) {
  auto svs = SampleDataFile("wsi/CMU-1-Small-Region.svs");
  if (!svs) {
    if (SampleDataRequired()) FAIL() << "wsi/CMU-1-Small-Region.svs is missing";
    GTEST_SKIP() << "CALIPER_SAMPLE_DATA is not set";
  }
  const std::string bytes = ReadAll(*svs);
  ASSERT_GT(bytes.size(), 100000u);
  fs::create_directories(dir_ / "in");
  fs::copy_file(*svs, dir_ / "in/CMU-1-Small-Region.svs");
  WriteFile(dir_ / "in/truncated.svs", bytes.substr(0, 4096));
  WriteFile(dir_ / "in/readme.txt", "not a slide");

  RunResult r = Cli({"ingest", "slide", dir_ / "in", "--project", "Slides", "--json"});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);  // two files are not slides
  json out = json::parse(r.out, nullptr, false);
  ASSERT_FALSE(out.is_discarded()) << Describe(r);
  EXPECT_EQ(out["stored"], 1);
  EXPECT_EQ(out["errors"], 2);
  ASSERT_EQ(out["files"].size(), 3u);
  std::string item_id;
  for (const json& f : out["files"]) {
    const std::string name = f["name"];
    if (name.find("CMU-1-Small-Region.svs") != std::string::npos) {
      ASSERT_EQ(f["outcome"], "stored") << f.dump();
      EXPECT_EQ(f["slide"]["width"], 2220) << f.dump();
      EXPECT_EQ(f["slide"]["height"], 2967) << f.dump();
      EXPECT_GT(f["tiles"].get<int>(), 0);
      EXPECT_GT(f["dropped_properties"].get<int>(), 0) << "the scanner's properties are not kept";
      item_id = f["item_id"];
    } else {
      EXPECT_EQ(f["outcome"], "error") << f.dump();
      EXPECT_FALSE(f["error"]["message"].get<std::string>().empty()) << f.dump();
    }
  }
  ASSERT_FALSE(item_id.empty());
  EXPECT_EQ(Scalar("SELECT count(*) FROM items WHERE data_type = 'pathology';"), "1");
  EXPECT_EQ(Scalar("SELECT count(*) FROM items;"), "1") << "nothing half-stored for the bad files";
  const std::string rows = Scalar("SELECT patient_key || cohort_json || modality || content_type FROM items;");
  for (const char* secret : kScannerSecrets) EXPECT_THAT(rows, Not(HasSubstr(secret)));
  // Every file the deployment wrote (database, blobs, audit) holds none of them in clear.
  for (const auto& entry : fs::recursive_directory_iterator(data_)) {
    if (!entry.is_regular_file()) continue;
    const std::string content = ReadAll(entry.path());
    for (const char* secret : kScannerSecrets) {
      EXPECT_EQ(content.find(secret), std::string::npos) << entry.path() << " holds " << secret;
    }
  }

  // The table form, for one bad file: a header, the error row, a summary, exit 1.
  ExpectTable(Cli({"ingest", "slide", dir_ / "in/readme.txt", "--project", "Slides"}), 1,
              "file\toutcome\titem\tsize\ttiles\tdropped\terror", "readme.txt\terror\t",
              "1 files: 0 slides stored, 1 errors");
  EXPECT_NE(Cli({"ingest", "slide", dir_ / "in/readme.txt", "--project", "No such project"}).exit_code, 0);
}

}  // namespace
}  // namespace caliper::e2e

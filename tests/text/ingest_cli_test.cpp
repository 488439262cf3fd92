// `caliper ingest notes` and `caliper ingest labs` end to end (docs/notes.md, docs/labs.md):
// every format, the per-record report and exit codes, nothing of a bad record stored, the
// stored text de-identified, and an over-long note refused without holding it in memory.
#include "support/e2e.h"

namespace caliper::e2e {
namespace {

using ::testing::HasSubstr;

class IngestCliTest : public ProjectDeploymentTest {
 protected:
  IngestCliTest() : ProjectDeploymentTest("caliper_ingest_cli", "Notes") {}
};

TEST_F(IngestCliTest, NotesInEveryFormatWithAPerRecordReport) {
  WriteFile(dir_ / "a.jsonl",
            json{{"id", "n1"}, {"patient", "MRN0042"}, {"text", "Seen by Dr. Alvarez on 03/12/2025. Stable."},
                 {"service", "medicine"}}.dump() +
                "\n" + "not json\n" + json{{"id", "n2"}, {"patient", "MRN0042"}, {"text", " "}}.dump() + "\n");
  WriteFile(dir_ / "b.csv", "id,patient,text\nc1,MRN0043,\"Call 617-555-0142, re: CT.\"\n");
  WriteFile(dir_ / "c.txt", "Mr. Whitfield walked twice today.\n");
  RunResult r = Cli({"ingest", "notes", dir_ / "a.jsonl", dir_ / "b.csv", dir_ / "c.txt", "--patient", "MRN0044",
                     "--project", "Notes", "--json"});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);  // two records were refused
  json out = json::parse(r.out, nullptr, false);
  ASSERT_FALSE(out.is_discarded()) << Describe(r);
  ASSERT_EQ(out["files"].size(), 3u);
  const json& a = out["files"][0];
  EXPECT_EQ(a["stored"], 1);
  EXPECT_EQ(a["errors"], 2);
  EXPECT_EQ(a["records"][1]["line"], 2);
  EXPECT_THAT(a["records"][1]["error"]["message"].get<std::string>(), HasSubstr("not a JSON object"));
  EXPECT_THAT(a["records"][2]["error"]["message"].get<std::string>(), HasSubstr("empty"));
  EXPECT_EQ(out["files"][1]["stored"], 1);
  EXPECT_EQ(out["files"][2]["records"][0]["id"], "c");
  EXPECT_EQ(Scalar("SELECT count(*) FROM items WHERE data_type = 'notes';"), "3");
  EXPECT_EQ(Scalar("SELECT count(*) FROM notes;"), "3");
  // No source identifier reaches the database (the text is encrypted; these are the clear columns).
  const std::string rows = Scalar("SELECT patient_key || cohort_json FROM items;");
  for (const char* secret : {"MRN0042", "MRN0043", "MRN0044", "Alvarez"}) {
    EXPECT_THAT(rows, ::testing::Not(HasSubstr(secret)));
  }
  // Ingesting again finds every note stored: duplicates, nothing new.
  RunResult again = Cli({"ingest", "notes", dir_ / "b.csv", "--project", "Notes"});
  EXPECT_EQ(again.exit_code, 0) << Describe(again);
  EXPECT_THAT(again.out, HasSubstr("\tduplicate\t"));
  EXPECT_EQ(Scalar("SELECT count(*) FROM notes;"), "3");
}

// Peak resident kilobytes of `caliper ingest notes <file>` (GNU time's %M).
long PeakKb(const std::string& data, const std::string& file, RunResult& r) {
  r = RunProgram("/usr/bin/time", {"-f", "peak_kb=%M", CaliperBinary(), "ingest", "notes", file, "--project", "Notes",
                                   "--set", "ingest.max_note_bytes=1048576", "--data", data});
  const auto at = r.err.rfind("peak_kb=");
  return at == std::string::npos ? -1 : std::stol(r.err.substr(at + 8));
}

TEST_F(IngestCliTest, AFiftyMegabyteNoteOverTheLimitIsRefusedWithBoundedMemory) {
  std::string big = "{\"id\":\"big\",\"patient\":\"P\",\"text\":\"";
  big.append(50u << 20, 'a');
  big += "\"}\n{\"id\":\"small\",\"patient\":\"P\",\"text\":\"fine\"}\n";
  WriteFile(dir_ / "big.jsonl", big);
  big.clear();
  big.shrink_to_fit();
  WriteFile(dir_ / "small.jsonl", "{\"id\":\"tiny\",\"patient\":\"P\",\"text\":\"ok\"}\n");
  RunResult r;
  const long small_kb = PeakKb(data_, dir_ / "small.jsonl", r);
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  const long big_kb = PeakKb(data_, dir_ / "big.jsonl", r);
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("payload_too_large"));
  EXPECT_THAT(r.out, HasSubstr("\tstored\t"));
  // The 50 MB line is read past, never held: the peak grows by a few MB at most.
  ASSERT_GT(small_kb, 0) << r.err;
  EXPECT_LT(big_kb - small_kb, 16 * 1024) << "peak " << big_kb << " KB vs " << small_kb << " KB";
}

TEST_F(IngestCliTest, LabsFromCsvAndFhir) {
  WriteFile(dir_ / "labs.csv",
            "patient,time,loinc,value,unit,ref_low,ref_high\n"
            "MRN0042,2024-03-01T00:00:00Z,14682-9,88.4,umol/L,53,115\n"
            "MRN0042,2024-03-02T00:00:00Z,2160-1,1.0,mg/dL,0.6,1.3\n");
  WriteFile(dir_ / "obs.json",
            R"({"resourceType":"Observation","category":[{"coding":[{"code":"laboratory"}]}],)"
            R"("code":{"coding":[{"system":"http://loinc.org","code":"2339-0"}]},"subject":{"reference":"Patient/7"},)"
            R"("effectiveDateTime":"2024-03-01T08:00:00Z","valueQuantity":{"value":5.5,"code":"mmol/L"}})");
  RunResult r = Cli({"ingest", "labs", dir_ / "labs.csv", dir_ / "obs.json", "--project", "Notes", "--json"});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);  // the bad check digit
  json out = json::parse(r.out, nullptr, false);
  ASSERT_FALSE(out.is_discarded()) << Describe(r);
  EXPECT_EQ(out["files"][0]["stored"], 1);
  EXPECT_THAT(out["files"][0]["records"][1]["error"]["message"].get<std::string>(), HasSubstr("check digit"));
  EXPECT_EQ(out["files"][1]["stored"], 1);
  EXPECT_EQ(out["files"][1]["records"][0]["normalised"], true);
  EXPECT_EQ(Scalar("SELECT count(*) FROM items WHERE data_type = 'labs';"), "2");
  EXPECT_EQ(Scalar("SELECT count(*) FROM items WHERE patient_key LIKE '%MRN%' OR patient_key LIKE '%Patient%';"), "0");
}

}  // namespace
}  // namespace caliper::e2e

// `caliper deid dicom` end to end through the binary (issue 3, docs/deid-dicom.md): the report
// contract, the key file, consistency across runs and split uploads, quarantine, bad files.
// Inputs come from our phantom generator (caliper::dicom) and, when present, the sample data.

#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "caliper/common/sample_data.h"
#include "caliper/dicom/encode.h"
#include "caliper/dicom/image.h"
#include "caliper/dicom/phantom.h"
#include "support/e2e.h"

namespace caliper::e2e {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

std::vector<json> Report(const std::string& out_dir) {
  std::vector<json> lines;
  std::string text = ReadFile(out_dir + "/deid-report.jsonl");
  std::size_t start = 0;
  for (std::size_t end; (end = text.find('\n', start)) != std::string::npos; start = end + 1) {
    lines.push_back(json::parse(text.substr(start, end - start)));
  }
  return lines;
}

// Every output file, relative to `dir`, with its bytes.
std::map<std::string, std::string> Outputs(const std::string& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file() && e.path().extension() == ".dcm") {
      out[e.path().lexically_relative(dir).string()] = ReadFile(e.path().string());
    }
  }
  return out;
}

void WritePhantom(const std::string& dir, int slices = 4) {
  dicom::CtPhantomOptions o;
  o.seed = 7;
  o.slices = slices;
  o.rows = o.cols = 16;
  ASSERT_TRUE(dicom::WriteCtPhantomSeries(o, dir, nullptr).ok());
}

// The phantom slice with its Modality (0008,0060) CS "CT" patched to "US" in the bytes.
std::string AsUltrasound(const std::string& bytes) {
  const std::string tag("\x08\x00\x60\x00" "CS\x02\x00" "CT", 10);
  std::string out = bytes;
  const std::size_t at = out.find(tag);
  EXPECT_NE(at, std::string::npos);
  if (at != std::string::npos) out.replace(at + 8, 2, "US");
  return out;
}

TEST(DeidDicomCli, WritesTheReportAndDeidentifiedFilesAndCreatesTheKey) {
  TempDir tmp("caliper_deid_dicom_cli");
  const std::string in = tmp / "in", out = tmp / "out", key = tmp / "project.key";
  WritePhantom(in + "/DOE_JANE");
  WriteFile(in + "/DOE_JANE/us.dcm", AsUltrasound(ReadFile(in + "/DOE_JANE/ct_0001.dcm")));
  WriteFile(in + "/notes.txt", "not a DICOM file");
  WriteFile(in + "/empty.dcm", "");

  RunResult r = Caliper({"deid", "dicom", "--in", in, "--out", out, "--key-file", key});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);  // two files are errors
  EXPECT_EQ(ModeOf(key), 0600);
  EXPECT_EQ(ReadFile(key).size(), 65u);
  EXPECT_THAT(r.err, HasSubstr("7 files: 4 ok, 1 quarantined, 2 errors"));

  const std::vector<json> lines = Report(out);
  ASSERT_EQ(lines.size(), 7u);
  std::map<std::string, json> by_input;
  for (const json& line : lines) {
    std::vector<std::string> keys;
    for (const auto& [k, v] : line.items()) keys.push_back(k);
    EXPECT_EQ(keys, (std::vector<std::string>{"actions", "burned_in_risk", "error", "input", "output", "status"}));
    by_input[line["input"]] = line;
  }
  EXPECT_EQ(by_input["DOE_JANE/ct_0001.dcm"]["status"], "ok");
  EXPECT_EQ(by_input["DOE_JANE/ct_0001.dcm"]["burned_in_risk"], false);
  EXPECT_GT(by_input["DOE_JANE/ct_0001.dcm"]["actions"]["uid_remapped"], 3);
  EXPECT_EQ(by_input["DOE_JANE/ct_0001.dcm"]["actions"]["private_removed"], 2);
  EXPECT_EQ(by_input["DOE_JANE/us.dcm"]["status"], "quarantined");
  EXPECT_EQ(by_input["DOE_JANE/us.dcm"]["burned_in_risk"], true);
  EXPECT_EQ(by_input["DOE_JANE/us.dcm"]["output"].get<std::string>().rfind("quarantine/", 0), 0u);
  EXPECT_EQ(by_input["notes.txt"]["status"], "error");
  EXPECT_TRUE(by_input["notes.txt"]["output"].is_null());
  EXPECT_THAT(by_input["notes.txt"]["error"].get<std::string>(), HasSubstr("not a DICOM"));
  EXPECT_EQ(by_input["empty.dcm"]["status"], "error");

  const auto outputs = Outputs(out);
  EXPECT_EQ(outputs.size(), 5u);
  for (const json& line : lines) {
    if (line["status"] != "error") {
      EXPECT_TRUE(outputs.count(line["output"])) << line.dump();
    }
  }
  for (const auto& [name, bytes] : outputs) {
    EXPECT_EQ(name.find("DOE"), std::string::npos);  // no input path in the output names
    for (const char* phi : {"DOE", "JANE", "MRN-000123", "19580214", "Caliper General", "SMITH",
                            "SN-4417-XYZ", "CALIPER SYNTH", "ACC-20250312"}) {
      EXPECT_EQ(bytes.find(phi), std::string::npos) << phi << " in " << name;
    }
  }
}

// A JPEG baseline ultrasound cine under a blanking rule for its modality: decoded, blanked and
// written native to OUT (not quarantine), status ok, its actions saying so; a file in a compressed
// syntax Caliper does not decode is an error for that file, never an unblanked output.
TEST(DeidDicomCli, ACompressedUltrasoundIsDecodedBlankedAndWrittenToOut) {
  TempDir tmp("caliper_deid_dicom_cli_blank");
  const std::string in = tmp / "in", out = tmp / "out", key = tmp / "project.key";
  auto us = dicom::MakeUltrasoundCinePhantom(2, 16, 24, /*ybr_planar=*/false, 23);
  ASSERT_TRUE(us.ok());
  auto jpeg = dicom::Transcode(*us, "1.2.840.10008.1.2.4.50");
  ASSERT_TRUE(jpeg.ok()) << jpeg.status().ToString();
  const std::string bytes(jpeg->begin(), jpeg->end());
  fs::create_directories(in);
  WriteFile(in + "/us.dcm", bytes);
  std::string retired = bytes;  // JPEG Extended 3 & 5 (retired), a syntax Caliper does not decode
  const std::size_t at = retired.find("1.2.840.10008.1.2.4.50");
  ASSERT_NE(at, std::string::npos);
  retired.replace(at, 22, "1.2.840.10008.1.2.4.52");
  WriteFile(in + "/us_retired.dcm", retired);

  RunResult r = Caliper({"deid", "dicom", "--in", in, "--out", out, "--key-file", key, "--blank", "US:0,0,8,4"});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);  // the retired syntax is an error
  EXPECT_THAT(r.err, HasSubstr("2 files: 1 ok, 0 quarantined, 1 errors"));
  std::map<std::string, json> by_input;
  for (const json& line : Report(out)) by_input[line["input"]] = line;
  const json& ok = by_input["us.dcm"];
  EXPECT_EQ(ok["status"], "ok") << ok.dump();
  EXPECT_EQ(ok["burned_in_risk"], true);
  EXPECT_EQ(ok["actions"]["pixels_blanked"], 2);
  EXPECT_EQ(ok["actions"]["pixels_decompressed_from"], "1.2.840.10008.1.2.4.50");
  const std::string output = ok["output"];
  EXPECT_NE(output.rfind("quarantine/", 0), 0u) << output;
  const json& bad = by_input["us_retired.dcm"];
  EXPECT_EQ(bad["status"], "error");
  EXPECT_TRUE(bad["output"].is_null());
  EXPECT_THAT(bad["error"].get<std::string>(), HasSubstr("1.2.840.10008.1.2.4.52"));
  EXPECT_EQ(Outputs(out).size(), 1u) << "nothing written for the error";

  const std::string written = ReadFile(out + "/" + output);
  auto image = dicom::DecodeImage({reinterpret_cast<const std::uint8_t*>(written.data()), written.size()});
  ASSERT_TRUE(image.ok()) << image.status().ToString();
  EXPECT_EQ(image->transfer_syntax_uid, "1.2.840.10008.1.2.1");
  int zero = 0;
  for (int f = 0; f < 2; ++f) {
    for (int y = 0; y < 4; ++y) {
      for (int x = 0; x < 8; ++x) {
        for (int c = 0; c < 3; ++c) zero += image->values[((std::size_t(f) * 16 + y) * 24 + x) * 3 + c] == 0.0f;
      }
    }
  }
  EXPECT_EQ(zero, 2 * 4 * 8 * 3);
}

TEST(DeidDicomCli, TheSameKeyMapsTheSameWayAcrossRunsAndSplitUploads) {
  TempDir tmp("caliper_deid_dicom_cli_split");
  const std::string key = tmp / "k";
  WritePhantom(tmp / "all");
  fs::create_directories(tmp / "half1");
  fs::create_directories(tmp / "half2");
  for (const char* name : {"ct_0001.dcm", "ct_0002.dcm"}) fs::copy(tmp / ("all/" + std::string(name)), tmp / ("half1/" + std::string(name)));
  for (const char* name : {"ct_0003.dcm", "ct_0004.dcm"}) fs::copy(tmp / ("all/" + std::string(name)), tmp / ("half2/" + std::string(name)));
  for (const char* run : {"a", "b"}) {
    RunResult r = Caliper({"deid", "dicom", "--in", tmp / "all", "--out", tmp / ("out-" + std::string(run)),
                           "--key-file", key, "--options", "retain-dates,clean-descriptors"});
    ASSERT_EQ(r.exit_code, 0) << Describe(r);
  }
  for (const char* half : {"half1", "half2"}) {
    RunResult r = Caliper({"deid", "dicom", "--in", tmp / half, "--out", tmp / ("out-" + std::string(half)),
                           "--key-file", key, "--options", "retain-dates,clean-descriptors", "--jobs", "1"});
    ASSERT_EQ(r.exit_code, 0) << Describe(r);
  }
  const auto a = Outputs(tmp / "out-a"), b = Outputs(tmp / "out-b");
  EXPECT_EQ(a, b);  // same names (new UIDs) and same bytes
  auto merged = Outputs(tmp / "out-half1");
  merged.merge(Outputs(tmp / "out-half2"));
  EXPECT_EQ(merged, a);  // the study split over two uploads is one study, byte for byte
  std::set<std::string> studies;
  for (const auto& [name, bytes] : a) studies.insert(name.substr(0, name.find('/')));
  EXPECT_EQ(studies.size(), 1u);
  // Another key: other UIDs.
  RunResult r = Caliper({"deid", "dicom", "--in", tmp / "all", "--out", tmp / "out-other", "--key-file", tmp / "k2"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_NE(Outputs(tmp / "out-other").begin()->first, a.begin()->first);
}

// Every regular file under `dir`, relative to it, hidden ones included.
std::set<std::string> AllFiles(const std::string& dir) {
  std::set<std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) files.insert(e.path().lexically_relative(dir).string());
  }
  return files;
}

TEST(DeidDicomCli, EachInputIsDoneOnceAndAFailedOneLeavesNoFile) {
  TempDir tmp("caliper_deid_dicom_cli_queue");
  const std::string in = tmp / "in", out = tmp / "out";
  WritePhantom(in + "/series", 12);
  // A valid header over pixel data cut short: an error, and no output, named or not.
  const std::string whole = ReadFile(in + "/series/ct_0001.dcm");
  WriteFile(in + "/truncated.dcm", whole.substr(0, whole.size() - 100));

  RunResult r = Caliper({"deid", "dicom", "--in", in, "--out", out, "--key-file", tmp / "k", "--jobs", "3"});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("13 files: 12 ok, 0 quarantined, 1 errors"));
  std::map<std::string, int> times_reported;
  std::set<std::string> outputs{"deid-report.jsonl"};
  for (const json& line : Report(out)) {
    ++times_reported[line["input"]];
    if (line["status"] == "ok") outputs.insert(line["output"].get<std::string>());
  }
  EXPECT_EQ(times_reported.size(), 13u);
  for (const auto& [input, times] : times_reported) EXPECT_EQ(times, 1) << input;
  EXPECT_EQ(outputs.size(), 13u);  // twelve distinct outputs and the report
  EXPECT_EQ(AllFiles(out), outputs);  // nothing else: no temporary file, no partial output
}

TEST(DeidDicomCli, ARunIntoTheSameFolderAgainReplacesItsOutputsWhole) {
  TempDir tmp("caliper_deid_dicom_cli_again");
  const std::string in = tmp / "in", out = tmp / "out", key = tmp / "k";
  WritePhantom(in);
  ASSERT_EQ(Caliper({"deid", "dicom", "--in", in, "--out", out, "--key-file", key}).exit_code, 0);
  const auto first = Outputs(out);
  const std::set<std::string> files = AllFiles(out);
  // Damage one output: the second run must put the whole file back under the same name.
  const std::string damaged = out + "/" + first.begin()->first;
  WriteFile(damaged, "damaged");
  RunResult r = Caliper({"deid", "dicom", "--in", in, "--out", out, "--key-file", key});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(Outputs(out), first);
  EXPECT_EQ(AllFiles(out), files);
}

// The report's lines byte for byte (docs/deid-dicom.md): the fields in their order, strings
// escaped as JSON, and a file name that is not UTF-8 reported with U+FFFD for its bad bytes
// rather than ending the run.
TEST(DeidDicomCli, ReportLinesAreExactJsonAlsoForFileNamesThatAreNotUtf8) {
  TempDir tmp("caliper_deid_dicom_cli_lines");
  const std::string in = tmp / "in", out = tmp / "out";
  WritePhantom(in + "/series", 2);
  fs::rename(in + "/series/ct_0001.dcm", in + "/series/a\"b\\c \xC3\xA9.dcm");
  fs::rename(in + "/series/ct_0002.dcm", in + "/series/bad \xFF name.dcm");
  WriteFile(in + "/notes.txt", "not a DICOM file");

  RunResult r =
      Caliper({"deid", "dicom", "--in", in, "--out", out, "--key-file", tmp / "k", "--jobs", "1"});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("3 files: 2 ok, 0 quarantined, 1 errors"));
  const std::string text = ReadFile(out + "/deid-report.jsonl");
  const std::vector<json> lines = Report(out);
  ASSERT_EQ(lines.size(), 3u) << text;
  // The phantom's second slice references the first: two more UIDs remapped.
  auto ok_line = [&](const std::string& input, const json& line, int uids) {
    return R"({"input":")" + input + R"(","output":")" + line["output"].get<std::string>() +
           R"(","status":"ok","burned_in_risk":false,)"
           R"("actions":{"dummy":6,"zeroed":17,"removed":12,"kept":0,"cleaned":0,"uid_remapped":)" +
           std::to_string(uids) +
           R"(,"private_removed":2,"private_kept":0,"dates_shifted":0,"pixels_blanked":0,)"
           R"("pixels_decompressed_from":null},"error":null})" +
           "\n";
  };
  const std::string expected =
      R"({"input":"notes.txt","output":null,"status":"error","burned_in_risk":false,)"
      R"("actions":{},"error":")" +
      lines[0]["error"].get<std::string>() + "\"}\n" +
      ok_line("series/a\\\"b\\\\c \xC3\xA9.dcm", lines[1], 4) +
      ok_line("series/bad \xEF\xBF\xBD name.dcm", lines[2], 6);
  EXPECT_EQ(text, expected);
  EXPECT_THAT(lines[0]["error"].get<std::string>(), HasSubstr("DICM"));
}

TEST(DeidDicomCli, BadUsageAndBadKeys) {
  TempDir tmp("caliper_deid_dicom_cli_usage");
  fs::create_directories(tmp / "in");
  EXPECT_EQ(Caliper({"deid", "dicom", "--in", tmp / "in"}).exit_code, 2);
  RunResult r = Caliper({"deid", "dicom", "--in", tmp / "in", "--out", tmp / "out", "--key-file",
                         tmp / "k", "--options", "retain-uids"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("unknown de-identification option 'retain-uids'"));
  WriteFile(tmp / "bad.key", "short");
  r = Caliper({"deid", "dicom", "--in", tmp / "in", "--out", tmp / "out", "--key-file", tmp / "bad.key"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("64 hexadecimal characters"));
  r = Caliper({"deid", "dicom", "--in", tmp / "in", "--out", tmp / "in/out", "--key-file", tmp / "k"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("--out must not be inside --in"));
}

TEST(DeidDicomCli, EverySampleFileIsDeidentified) {
  const auto marker = SampleDataFile("dicom-series/README.md");
  if (!marker) {
    if (SampleDataRequired()) FAIL() << "sample data missing";
    GTEST_SKIP() << "CALIPER_SAMPLE_DATA not set";
  }
  const fs::path root = fs::path(*marker).parent_path().parent_path();
  TempDir tmp("caliper_deid_dicom_cli_samples");
  fs::create_directories(tmp / "in");
  for (const char* dir : {"dicom-series", "dicom-seg"}) fs::copy(root / dir, tmp / ("in/" + std::string(dir)), fs::copy_options::recursive);
  fs::copy(root / "waveform/waveform_ecg_12lead.dcm", tmp / "in/waveform_ecg_12lead.dcm");
  RunResult r = Caliper({"deid", "dicom", "--in", tmp / "in", "--out", tmp / "out", "--key-file", tmp / "k"});
  // The READMEs are inputs too, and errors (not DICOM); every .dcm is de-identified.
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  int dicom = 0;
  for (const json& line : Report(tmp / "out")) {
    const std::string input = line["input"];
    if (input.size() > 4 && input.substr(input.size() - 4) == ".dcm") {
      ++dicom;
      EXPECT_NE(line["status"], "error") << line.dump();
    } else {
      EXPECT_EQ(line["status"], "error") << line.dump();
    }
  }
  EXPECT_EQ(dicom, 93);
}

}  // namespace
}  // namespace caliper::e2e

#include "caliper/synth/synthetic.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "caliper/common/clock.h"

namespace caliper::synth {
namespace {

namespace fs = std::filesystem;

// Decodes UTF-8 into code points; written here independently of the generator's helpers.
std::u32string Decode(const std::string& s) {
  std::u32string out;
  for (std::size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    const int len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    char32_t cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
    for (int k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    out.push_back(cp);
    i += static_cast<std::size_t>(len);
  }
  return out;
}

std::string Encode(const std::u32string& s) {
  std::string out;
  for (char32_t cp : s) {
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }
  return out;
}

std::string SpanText(const SyntheticNote& note, const PhiSpan& span) {
  return Encode(Decode(note.text).substr(span.start, span.end - span.start));
}

// What each PHI type's text must look like; a span at wrong offsets fails these.
const std::map<PhiType, std::regex>& Shapes() {
  static const std::map<PhiType, std::regex> k = {
      {PhiType::kDate,
       std::regex(R"(\d{4}-\d{2}-\d{2}|\d{2}/\d{2}/\d{4}|[A-Z][a-z]+ \d{1,2}, \d{4})")},
      {PhiType::kAge, std::regex(R"(\d{1,3})")},
      {PhiType::kPhone, std::regex(R"(\(\d{3}\) 555-01\d{2})")},
      {PhiType::kFax, std::regex(R"(\(\d{3}\) 555-01\d{2})")},
      {PhiType::kEmail, std::regex(R"([a-z.]+\d{2}@example\.com)")},
      {PhiType::kSsn, std::regex(R"(9\d{2}-\d{2}-\d{4})")},
      {PhiType::kMrn, std::regex(R"(MRN-\d{6})")},
      {PhiType::kAccount, std::regex(R"(ACCT-\d{8})")},
      {PhiType::kLicense, std::regex(R"(DL S\d{8})")},
      {PhiType::kVehicle, std::regex(R"(\d[A-Z]{3}\d{3})")},
      {PhiType::kDevice, std::regex(R"((SN-\d{4}-XYZ|PM-\d{5}-X))")},
      {PhiType::kUrl, std::regex(R"(https://[a-z.-]+\.example/[a-z/]+\d+)")},
      {PhiType::kIp, std::regex(R"((192\.0\.2|198\.51\.100|203\.0\.113)\.\d{1,3})")},
      {PhiType::kZip, std::regex(R"(\d{5})")},
      {PhiType::kId, std::regex(R"(ACC-\d{8}-\d{4}|HMO-\d{5}-\d{2})")},
      // Names, places and organisations start with a capital (ASCII or not) and hold no digit.
      {PhiType::kName, std::regex(R"([^a-z0-9 ][^0-9]*)")},
      {PhiType::kOther, std::regex(R"([A-Z][^0-9]*)")},
  };
  return k;
}

std::string ReadBytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

std::vector<std::string> Split(const std::string& line, char sep) {
  std::vector<std::string> out(1);
  for (char c : line) {
    if (c == sep) {
      out.emplace_back();
    } else {
      out.back().push_back(c);
    }
  }
  return out;
}

class TempDir {
 public:
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = fs::temp_directory_path() /
            (std::string("caliper_synth_") + info->name() + "_" + std::to_string(::getpid()));
    fs::remove_all(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

TEST(PhiTypeTest, NamesRoundTrip) {
  for (int i = 0; i <= static_cast<int>(PhiType::kOther); ++i) {
    const auto type = static_cast<PhiType>(i);
    EXPECT_EQ(ParsePhiType(PhiTypeName(type)), type);
  }
  EXPECT_EQ(PhiTypeName(PhiType::kName), "NAME");
  EXPECT_EQ(PhiTypeName(PhiType::kLocation), "LOCATION");
  EXPECT_EQ(ParsePhiType("name"), std::nullopt);
  EXPECT_EQ(ParsePhiType("PERSON"), std::nullopt);
}

TEST(PatientsTest, StableKeysAgesAndAccents) {
  const std::vector<SyntheticPatient> ten = MakePatients(10, 5);
  const std::vector<SyntheticPatient> four = MakePatients(4, 5);
  ASSERT_EQ(ten.size(), 10u);
  std::set<std::string> keys;
  for (std::size_t i = 0; i < ten.size(); ++i) {
    const SyntheticPatient& p = ten[i];
    keys.insert(p.key);
    if (i < four.size()) {
      EXPECT_EQ(four[i].key, p.key);  // prefix-stable
    }
    EXPECT_TRUE(std::regex_match(p.key, std::regex(R"(MRN-\d{6})"))) << p.key;
    EXPECT_TRUE(std::regex_match(p.birth_date, std::regex(R"(\d{4}-\d{2}-\d{2})")));
    EXPECT_TRUE(p.sex == "F" || p.sex == "M");
    const bool non_ascii =
        std::any_of(p.given_name.begin(), p.given_name.end(),
                    [](char c) { return static_cast<unsigned char>(c) >= 0x80; }) ||
        std::any_of(p.family_name.begin(), p.family_name.end(),
                    [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
    EXPECT_EQ(non_ascii, i % 3 == 1) << p.given_name << " " << p.family_name;
    if (i % 4 == 3) {
      EXPECT_GT(p.age_at_admit, 89);
    } else {
      EXPECT_LE(p.age_at_admit, 89);
    }
    // The stated age agrees with the dates.
    const int by = std::stoi(p.birth_date.substr(0, 4));
    const int ay = std::stoi(p.admit_date.substr(0, 4));
    const int age = ay - by - (p.admit_date.substr(5) < p.birth_date.substr(5) ? 1 : 0);
    EXPECT_EQ(age, p.age_at_admit);
  }
  EXPECT_EQ(keys.size(), 10u);
  EXPECT_NE(MakePatients(1, 6)[0].key, ten[0].key);
  EXPECT_TRUE(MakePatients(0, 5).empty());
}

TEST(NotesTest, SpansMatchTheTextAtCodePointOffsets) {
  const std::vector<SyntheticNote> notes = MakeClinicalNotes(30, 11);
  ASSERT_EQ(notes.size(), 30u);
  const std::vector<SyntheticPatient> patients = MakePatients(10, 11);
  std::set<std::string> ids;
  std::set<PhiType> seen;
  bool byte_offsets_differ = false;
  for (std::size_t i = 0; i < notes.size(); ++i) {
    const SyntheticNote& note = notes[i];
    ids.insert(note.id);
    EXPECT_EQ(note.patient, patients[i / 3].key);
    const std::size_t length = Decode(note.text).size();
    std::size_t previous_end = 0;
    ASSERT_FALSE(note.phi.empty());
    for (const PhiSpan& span : note.phi) {
      ASSERT_LT(span.start, span.end);
      ASSERT_LE(span.end, length);
      EXPECT_GE(span.start, previous_end) << "spans overlap or are unsorted in " << note.id;
      previous_end = span.end;
      seen.insert(span.type);
      const std::string text = SpanText(note, span);
      const auto shape = Shapes().find(span.type);
      if (shape != Shapes().end()) {
        EXPECT_TRUE(std::regex_match(text, shape->second))
            << note.id << " " << PhiTypeName(span.type) << " [" << text << "]";
      }
      if (span.type == PhiType::kMrn) {
        EXPECT_EQ(text, note.patient);
      }
      if (note.text.find(text) != span.start) byte_offsets_differ = true;
    }
  }
  EXPECT_EQ(ids.size(), notes.size());
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(PhiType::kOther) + 1) << "every type occurs";
  EXPECT_TRUE(byte_offsets_differ) << "some note must have non-ASCII text before a span";
}

TEST(NotesTest, EveryMentionOfThePatientIsMarked) {
  const std::vector<SyntheticNote> notes = MakeClinicalNotes(12, 3);
  const std::vector<SyntheticPatient> patients = MakePatients(4, 3);
  for (std::size_t i = 0; i < notes.size(); ++i) {
    const SyntheticNote& note = notes[i];
    const SyntheticPatient& p = patients[i / 3];
    const std::u32string text = Decode(note.text);
    for (const std::string& needle : {p.family_name, p.key}) {
      const std::u32string n = Decode(needle);
      std::size_t hits = 0;
      for (std::size_t at = text.find(n); at != std::u32string::npos; at = text.find(n, at + 1)) {
        ++hits;
        const bool covered = std::any_of(note.phi.begin(), note.phi.end(), [&](const PhiSpan& s) {
          return s.start <= at && at + n.size() <= s.end;
        });
        EXPECT_TRUE(covered) << note.id << ": unmarked '" << needle << "' at " << at;
      }
      EXPECT_GT(hits, 0u) << note.id << " never mentions " << needle;
    }
  }
}

TEST(NotesTest, CoverClinicalLanguageAndOldAges) {
  const std::vector<SyntheticNote> notes = MakeClinicalNotes(12, 21);
  std::set<std::string> kinds;
  bool old_age = false;
  for (const SyntheticNote& note : notes) {
    kinds.insert(note.kind);
    std::string lower = note.text;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](char c) {
      return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    });
    EXPECT_TRUE(std::regex_search(lower, std::regex(R"(\bno\b|negative for)"))) << note.id;
    EXPECT_TRUE(std::regex_search(
        lower, std::regex(R"(possible|may represent|questionable|likely|probable)")))
        << note.id;
    if (note.kind != "progress_note") {
      EXPECT_TRUE(
          std::regex_search(lower, std::regex(R"(mother|father|sister|brother|family history)")))
          << note.id;
    }
    for (const PhiSpan& span : note.phi) {
      if (span.type == PhiType::kAge && std::stoi(SpanText(note, span)) > 89) old_age = true;
    }
  }
  EXPECT_EQ(kinds,
            (std::set<std::string>{"radiology_report", "discharge_summary", "progress_note"}));
  EXPECT_TRUE(old_age);
}

TEST(NotesTest, DeterministicPerSeed) {
  const auto a = MakeClinicalNotes(9, 77);
  const auto b = MakeClinicalNotes(9, 77);
  const auto c = MakeClinicalNotes(9, 78);
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].text, b[i].text);
    ASSERT_EQ(a[i].phi.size(), b[i].phi.size());
    for (std::size_t k = 0; k < a[i].phi.size(); ++k)
      EXPECT_EQ(a[i].phi[k].start, b[i].phi[k].start);
  }
  EXPECT_NE(a[0].text, c[0].text);
  EXPECT_TRUE(MakeClinicalNotes(0, 1).empty());
  EXPECT_EQ(MakeClinicalNotes(4, 77)[3].text, MakeClinicalNotes(9, 77)[3].text);
}

TEST(LabsTest, CsvHasTheColumnsCodesAndPlausibleValues) {
  const std::string csv = MakeLabsCsv(5, 9);
  const std::vector<std::string> lines = Lines(csv);
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines[0], "patient_id,loinc,test_name,value,unit,ref_low,ref_high,collected_at,sex,age_band,site");
  std::map<std::string, SyntheticPatient> by_key;
  for (const SyntheticPatient& p : MakePatients(5, 9)) by_key[p.key] = p;
  const std::map<std::string, std::pair<std::string, std::string>> expected = {
      {"718-7", {"Hemoglobin", "g/dL"}},   {"2160-0", {"Creatinine", "mg/dL"}},
      {"2345-7", {"Glucose", "mg/dL"}},    {"6690-2", {"WBC", "10*3/uL"}},
      {"2823-3", {"Potassium", "mmol/L"}}, {"2951-2", {"Sodium", "mmol/L"}},
      {"777-3", {"Platelets", "10*3/uL"}}, {"1742-6", {"ALT", "U/L"}}};
  std::set<std::string> patient_ids;
  std::set<std::string> loincs;
  int abnormal = 0;
  const int rows = static_cast<int>(lines.size()) - 1;
  for (std::size_t i = 1; i < lines.size(); ++i) {
    const std::vector<std::string> f = Split(lines[i], ',');
    ASSERT_EQ(f.size(), 11u) << lines[i];
    // The patient's cohort attributes on every row.
    const SyntheticPatient& patient = by_key.at(f[0]);
    EXPECT_EQ(f[8], patient.sex);
    EXPECT_EQ(f[9], core::AgeBand(patient.age_at_admit));
    EXPECT_EQ(f[10], patient.site);
    patient_ids.insert(f[0]);
    loincs.insert(f[1]);
    const auto code = expected.find(f[1]);
    ASSERT_NE(code, expected.end()) << f[1];
    EXPECT_EQ(f[2], code->second.first);
    EXPECT_EQ(f[4], code->second.second);
    const double value = std::stod(f[3]);
    const double low = std::stod(f[5]);
    const double high = std::stod(f[6]);
    EXPECT_GT(value, 0.0);
    EXPECT_LT(low, high);
    if (value < low || value > high) ++abnormal;
    ASSERT_EQ(f[7].back(), 'Z');
    EXPECT_TRUE(ParseRfc3339(f[7]).ok()) << f[7];
  }
  EXPECT_EQ(rows, 5 * 3 * 8);
  EXPECT_EQ(loincs.size(), expected.size());
  std::set<std::string> keys;
  for (const SyntheticPatient& p : MakePatients(5, 9)) keys.insert(p.key);
  EXPECT_EQ(patient_ids, keys);
  EXPECT_GT(abnormal, rows / 20);
  EXPECT_LT(abnormal, rows / 3);
  EXPECT_EQ(csv, MakeLabsCsv(5, 9));
  EXPECT_NE(csv, MakeLabsCsv(5, 10));
}

// Every file under `root`, relative path -> bytes.
std::map<std::string, std::string> Snapshot(const fs::path& root) {
  std::map<std::string, std::string> out;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (entry.is_regular_file())
      out[fs::relative(entry.path(), root).string()] = ReadBytes(entry.path());
  }
  return out;
}

TEST(DemoDatasetTest, LayoutAndContents) {
  TempDir dir;
  ASSERT_TRUE(WriteDemoDataset(dir.path().string(), 1234).ok());
  const std::vector<SyntheticPatient> patients = MakePatients(4, 1234);
  for (int i = 0; i < 2; ++i) {
    const fs::path ct = dir.path() / "ct" / patients[i].key;
    ASSERT_TRUE(fs::is_directory(ct)) << ct;
    EXPECT_EQ(std::distance(fs::directory_iterator(ct), fs::directory_iterator()), 16);
    const std::string first = ReadBytes(ct / "ct_0001.dcm");
    EXPECT_EQ(first.substr(128, 4), "DICM");
    EXPECT_NE(first.find(patients[i].key), std::string::npos);
    EXPECT_NE(first.find(patients[i].family_name), std::string::npos);  // UTF-8 PN
  }
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path() / "ct"), fs::directory_iterator()), 2);

  const std::vector<std::string> notes = Lines(ReadBytes(dir.path() / "notes.jsonl"));
  const std::vector<std::string> truth = Lines(ReadBytes(dir.path() / "notes_truth.jsonl"));
  ASSERT_EQ(notes.size(), 12u);
  ASSERT_EQ(truth.size(), 12u);
  const std::vector<SyntheticNote> expected = MakeClinicalNotes(12, 1234);
  for (std::size_t i = 0; i < notes.size(); ++i) {
    const auto n = nlohmann::json::parse(notes[i]);
    EXPECT_EQ(n.size(), 6u);
    EXPECT_EQ(n.at("id"), expected[i].id);
    EXPECT_EQ(n.at("patient"), expected[i].patient);
    EXPECT_EQ(n.at("text"), expected[i].text);
    const SyntheticPatient& patient = patients[i / 3];
    EXPECT_EQ(n.at("patient"), patient.key);
    EXPECT_EQ(n.at("sex"), patient.sex);
    EXPECT_EQ(n.at("age_band"), core::AgeBand(patient.age_at_admit));
    EXPECT_EQ(n.at("site"), patient.site);
    const auto t = nlohmann::json::parse(truth[i]);
    EXPECT_EQ(t.at("id"), expected[i].id);
    ASSERT_EQ(t.at("phi").size(), expected[i].phi.size());
    for (std::size_t k = 0; k < expected[i].phi.size(); ++k) {
      const auto& s = t.at("phi")[k];
      const PhiSpan& span = expected[i].phi[k];
      EXPECT_EQ(s.at("start"), span.start);
      EXPECT_EQ(s.at("end"), span.end);
      EXPECT_EQ(s.at("type"), PhiTypeName(span.type));
      EXPECT_EQ(s.at("text"), SpanText(expected[i], span));
    }
  }
  EXPECT_EQ(ReadBytes(dir.path() / "labs.csv"), MakeLabsCsv(4, 1234));
}

TEST(DemoDatasetTest, ByteIdenticalForTheSameSeed) {
  TempDir dir;
  ASSERT_TRUE(WriteDemoDataset((dir.path() / "a").string(), 99).ok());
  ASSERT_TRUE(WriteDemoDataset((dir.path() / "b").string(), 99).ok());
  ASSERT_TRUE(WriteDemoDataset((dir.path() / "c").string(), 100).ok());
  const auto a = Snapshot(dir.path() / "a");
  const auto b = Snapshot(dir.path() / "b");
  const auto c = Snapshot(dir.path() / "c");
  EXPECT_EQ(a.size(), 2u * 16u + 3u);
  EXPECT_TRUE(a == b);
  EXPECT_NE(a.at("labs.csv"), c.at("labs.csv"));
  EXPECT_NE(a.at("notes.jsonl"), c.at("notes.jsonl"));
}

TEST(DemoDatasetTest, UnwritableDirectoryIsIoError) {
  TempDir dir;
  fs::create_directories(dir.path());
  std::ofstream(dir.path() / "file") << "x";
  const Status s = WriteDemoDataset((dir.path() / "file" / "demo").string(), 1);
  EXPECT_EQ(s.code(), ErrorCode::kIo) << s.ToString();
}

}  // namespace
}  // namespace caliper::synth

// `caliper demo` (src/cli/demo.cpp) as a client sees it: its notes and labs came in through notes
// and labs ingest like a hospital's upload, so the notes are de-identified (no name or MRN of the
// generator's patients is left, the surrogates are listed), and one patient's notes, labs and CT
// share one pseudonymous patient key — GET /items/{id}/labs of a note or a CT answers exactly
// that patient's results, with shifted times. The notes and labs carry their patient's cohort
// attributes (sex, age band, site: the subgroup report's). Every demo item is assigned to both
// readers.

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "caliper/synth/synthetic.h"
#include "support/e2e.h"

namespace caliper::e2e {
namespace {

// The demo's generator seed and patients (kDemoSeed in src/cli/demo.cpp, WriteDemoDataset).
constexpr std::uint64_t kDemoSeed = 20261126;
constexpr int kDemoPatients = 4;
constexpr int kDemoCtPatients = 2;

// A patient's results as (LOINC code, value), sorted: what identifies them after the times
// were shifted.
using LabValues = std::vector<std::pair<std::string, double>>;

// The demo banner's accounts ("  reader1   xxxxx-xxxxx-..."): username -> password.
std::map<std::string, std::string> Passwords(const std::string& banner) {
  std::map<std::string, std::string> out;
  std::istringstream lines(banner);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("  ", 0) != 0) continue;
    std::istringstream words(line);
    std::string name, password;
    if (words >> name >> password) out[name] = password;
  }
  return out;
}

// Whether `word` is in `text` between non-letters ("Wilson", not the "Wilson" of "Wilsondale";
// bytes of non-ASCII letters count as letters) anywhere but inside a span of `phi` (the
// surrogates de-identification put in, [start, end) in code points): a surrogate may happen to
// be another patient's name.
bool OutsideSurrogates(const std::string& text, const json& phi, const std::string& word) {
  std::vector<std::size_t> byte_of;  // code point -> byte offset, and the end
  for (std::size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) byte_of.push_back(i);
  }
  byte_of.push_back(text.size());
  const auto letter = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || (c & 0x80) != 0; };
  for (auto at = text.find(word); at != std::string::npos; at = text.find(word, at + 1)) {
    const std::size_t end = at + word.size();
    if ((at > 0 && letter(text[at - 1])) || (end < text.size() && letter(text[end]))) continue;
    const bool surrogate = std::any_of(phi.begin(), phi.end(), [&](const json& s) {
      return byte_of.at(s["start"].get<std::size_t>()) <= at && end <= byte_of.at(s["end"].get<std::size_t>());
    });
    if (!surrogate) return true;
  }
  return false;
}

// The generator's labs CSV by patient: the values, and every collection time.
struct SourceLabs {
  std::map<std::string, LabValues> values;
  std::set<std::string> times;
};
SourceLabs ReadSourceLabs() {
  SourceLabs out;
  std::istringstream lines(synth::MakeLabsCsv(kDemoPatients, kDemoSeed));
  std::string line;
  std::getline(lines, line);  // patient_id,loinc,test_name,value,unit,ref_low,ref_high,collected_at,sex,age_band,site
  while (std::getline(lines, line)) {
    std::vector<std::string> f;
    std::istringstream fields(line);
    for (std::string field; std::getline(fields, field, ',');) f.push_back(field);
    EXPECT_EQ(f.size(), 11u) << line;
    if (f.size() != 11) continue;
    out.values[f[0]].emplace_back(f[1], std::stod(f[3]));
    out.times.insert(f[7]);
  }
  for (auto& [patient, values] : out.values) std::sort(values.begin(), values.end());
  return out;
}

LabValues ValuesOf(const json& results) {
  LabValues out;
  for (const auto& r : results) out.emplace_back(r.at("loinc").get<std::string>(), r.at("value").get<double>());
  std::sort(out.begin(), out.end());
  return out;
}

// The source patient whose results these are ("" when none).
std::string PatientOf(const SourceLabs& source, const json& results) {
  const LabValues values = ValuesOf(results);
  for (const auto& [patient, expected] : source.values) {
    if (expected == values) return patient;
  }
  return "";
}

// The cohort attributes the generator gives `patient` (its notes' metadata, its labs' columns),
// which notes and labs ingest keep as the items' cohort: what the subgroup report reads.
json Cohort(const std::vector<synth::SyntheticPatient>& patients, const std::string& patient) {
  for (const auto& p : patients) {
    if (p.key == patient) return {{"sex", p.sex}, {"age_band", core::AgeBand(p.age_at_admit)}, {"site", p.site}};
  }
  ADD_FAILURE() << "no patient " << patient;
  return nullptr;
}

TEST(DemoTest, NotesAndLabsAreIngestedAndMeetTheirPatientsCt) {
  TempDir dir("caliper_demo_");
  ServerProcess server(dir / "data", ServerProcess::PlainHttp(), "demo");
  // Loading the demo (CT ingest, note de-identification) takes a while on a loaded machine.
  ASSERT_TRUE(server.Start(milliseconds(180'000)));
  const auto passwords = Passwords(server.Out());
  ASSERT_TRUE(passwords.contains("manager") && passwords.contains("reader1") && passwords.contains("reader2"))
      << server.Out();
  Api api(server.port());
  Session manager, reader1, reader2;
  ASSERT_TRUE(api.Login("manager", passwords.at("manager"), manager));
  ASSERT_TRUE(api.Login("reader1", passwords.at("reader1"), reader1));
  ASSERT_TRUE(api.Login("reader2", passwords.at("reader2"), reader2));

  const json projects = Body(api.Get("/api/v1/projects", &manager))["data"];
  ASSERT_EQ(projects.size(), 1u) << projects.dump();
  const std::string project_id = projects[0]["id"];
  const json items = Body(api.Get("/api/v1/projects/" + project_id + "/items?limit=500", &manager))["data"];
  std::map<std::string, std::vector<json>> by_type;
  std::set<std::string> item_ids;
  for (const auto& item : items) {
    by_type[item["data_type"].get<std::string>()].push_back(item);
    item_ids.insert(item["id"].get<std::string>());
  }
  // The same items as before notes and labs went through ingest (the sample-data waveforms
  // and slide are not there: the server gets no CALIPER_SAMPLE_DATA).
  ASSERT_EQ(by_type.size(), 3u) << items.dump();
  ASSERT_EQ(by_type["notes"].size(), 12u);
  ASSERT_EQ(by_type["labs"].size(), static_cast<std::size_t>(kDemoPatients));
  ASSERT_EQ(by_type["imaging"].size(), static_cast<std::size_t>(kDemoCtPatients));
  for (Session* reader : {&reader1, &reader2}) {
    auto tasks = api.Get("/api/v1/projects/" + project_id + "/tasks?limit=500", reader);
    ASSERT_EQ(tasks->status, 200) << Describe(tasks);
    const json body = Body(tasks);
    std::set<std::string> assigned;
    for (const auto& t : body["data"]) assigned.insert(t["item_id"].get<std::string>());
    EXPECT_EQ(assigned, item_ids) << Describe(tasks);
  }

  const SourceLabs source = ReadSourceLabs();
  ASSERT_EQ(source.values.size(), static_cast<std::size_t>(kDemoPatients));
  const std::vector<synth::SyntheticPatient> patients = synth::MakePatients(kDemoPatients, kDemoSeed);
  std::map<std::string, std::string> key_of;  // source patient -> pseudonymous key
  // Notes: de-identified, and beside each its patient's labs (asked as reader1, who reads it).
  for (const auto& item : by_type["notes"]) {
    const std::string id = item["id"];
    auto note = api.Get("/api/v1/items/" + id + "/note", &reader1);
    ASSERT_EQ(note->status, 200) << Describe(note);
    const json n = Body(note);
    EXPECT_EQ(n["deid"]["mode"], "surrogate");
    EXPECT_FALSE(n["phi"].empty()) << n.dump();
    const std::string text = n["text"];
    for (const auto& p : patients) {
      EXPECT_FALSE(OutsideSurrogates(text, n["phi"], p.family_name)) << p.family_name << " in " << text;
      EXPECT_FALSE(OutsideSurrogates(text, n["phi"], p.key)) << p.key << " in " << text;
    }
    auto labs = api.Get("/api/v1/items/" + id + "/labs", &reader1);
    ASSERT_EQ(labs->status, 200) << Describe(labs);
    const json l = Body(labs);
    EXPECT_EQ(l["patient_key"], item["patient_key"]);
    ASSERT_EQ(l["results"].size(), 24u) << l.dump();  // three draws of eight tests
    for (const auto& r : l["results"]) EXPECT_FALSE(source.times.contains(r["time"].get<std::string>())) << "not shifted: " << r;
    const std::string patient = PatientOf(source, l["results"]);
    ASSERT_FALSE(patient.empty()) << "the results are no one patient's: " << l.dump();
    const std::string note_key = item["patient_key"];
    EXPECT_EQ(key_of.try_emplace(patient, note_key).first->second, note_key) << patient << "'s notes have different keys";
    EXPECT_EQ(item["cohort"], Cohort(patients, patient)) << "note " << id;
  }
  ASSERT_EQ(key_of.size(), static_cast<std::size_t>(kDemoPatients));
  std::set<std::string> note_keys;
  for (const auto& [patient, key] : key_of) {
    EXPECT_EQ(key.rfind("pt_", 0), 0u) << key;
    note_keys.insert(key);
  }
  EXPECT_EQ(note_keys.size(), static_cast<std::size_t>(kDemoPatients));
  // Labs: one item per patient, under the notes' keys, with the patient's cohort attributes.
  std::set<std::string> lab_keys;
  for (const auto& item : by_type["labs"]) {
    lab_keys.insert(item["patient_key"].get<std::string>());
    EXPECT_EQ(item["content_type"], "application/json");
    const auto patient = std::find_if(key_of.begin(), key_of.end(),
                                      [&](const auto& entry) { return entry.second == item["patient_key"]; });
    ASSERT_NE(patient, key_of.end()) << item.dump();
    EXPECT_EQ(item["cohort"], Cohort(patients, patient->first)) << "labs " << item.dump();
  }
  EXPECT_EQ(lab_keys, note_keys);
  // The CT series of the first two patients: their keys are their notes' keys.
  std::set<std::string> ct_patients;
  for (const auto& item : by_type["imaging"]) {
    auto labs = api.Get("/api/v1/items/" + item["id"].get<std::string>() + "/labs", &reader1);
    ASSERT_EQ(labs->status, 200) << Describe(labs);
    const std::string patient = PatientOf(source, Body(labs)["results"]);
    ASSERT_TRUE(key_of.contains(patient)) << "no labs meet the CT " << item.dump();
    EXPECT_EQ(key_of[patient], item["patient_key"]);
    ct_patients.insert(patient);
  }
  EXPECT_EQ(ct_patients, (std::set<std::string>{patients[0].key, patients[1].key}));
  EXPECT_EQ(server.Terminate(), 0);
}

}  // namespace
}  // namespace caliper::e2e

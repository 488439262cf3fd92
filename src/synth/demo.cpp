#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <system_error>

#include "caliper/dicom/phantom.h"
#include "caliper/synth/synthetic.h"
#include "caliper/common/random.h"
#include "synth/utf8.h"

namespace caliper::synth {
namespace {

constexpr std::uint64_t kCtStream = 4;
constexpr int kDemoPatients = 4;
constexpr int kDemoCtPatients = 2;
constexpr int kDemoNotes = 3 * kDemoPatients;

Status WriteFile(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) return Error(ErrorCode::kIo, "writing " + path.string());
  return Status::Ok();
}

// JSON Lines (one compact object per line). Invalid UTF-8 cannot occur in our text, but the
// replace handler keeps dump() from throwing if it ever did.
std::string JsonLine(const nlohmann::ordered_json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::string NoDashes(std::string s) {
  std::erase(s, '-');
  return s;
}

}  // namespace

Status WriteDemoDataset(const std::string& out_dir, std::uint64_t seed) {
  const std::filesystem::path root(out_dir);
  std::error_code ec;
  std::filesystem::create_directories(root, ec);
  if (ec) return Error(ErrorCode::kIo, "creating " + out_dir + ": " + ec.message());

  const std::vector<SyntheticPatient> patients = MakePatients(kDemoPatients, seed);
  for (int i = 0; i < kDemoCtPatients; ++i) {
    const SyntheticPatient& p = patients[static_cast<std::size_t>(i)];
    dicom::CtPhantomOptions options;
    options.patient_name = p.family_name + "^" + p.given_name + "^" + p.middle_initial;
    options.patient_id = p.key;
    // The notes and labs name the patient by the MRN alone, and so does the series: with an
    // issuer, the series' pseudonymous patient key (issuer and ID, docs/imaging.md) would not
    // be theirs.
    options.issuer_of_patient_id.clear();
    options.birth_date = NoDashes(p.birth_date);
    options.patient_sex = p.sex;
    options.study_date = NoDashes(p.admit_date);
    options.accession_number = p.accession;
    options.seed = Mix(seed, kCtStream, static_cast<std::uint64_t>(i));
    CALIPER_RETURN_IF_ERROR(
        dicom::WriteCtPhantomSeries(options, (root / "ct" / p.key).string(), nullptr));
  }

  std::string notes;
  std::string truth;
  for (const SyntheticNote& note : MakeClinicalNotes(kDemoNotes, seed)) {
    // The patient's cohort attributes ride along as note metadata, as in a hospital's export.
    const SyntheticPatient& p =
        *std::find_if(patients.begin(), patients.end(), [&](const SyntheticPatient& q) { return q.key == note.patient; });
    notes += JsonLine({{"id", note.id}, {"patient", note.patient}, {"text", note.text}, {"sex", p.sex},
                       {"age_band", core::AgeBand(p.age_at_admit)}, {"site", p.site}});
    nlohmann::ordered_json spans = nlohmann::ordered_json::array();
    for (const PhiSpan& span : note.phi) {
      spans.push_back({{"start", span.start},
                       {"end", span.end},
                       {"type", PhiTypeName(span.type)},
                       {"text", SubstrCodePoints(note.text, span.start, span.end)}});
    }
    truth += JsonLine({{"id", note.id}, {"patient", note.patient}, {"phi", spans}});
  }
  CALIPER_RETURN_IF_ERROR(WriteFile(root / "notes.jsonl", notes));
  CALIPER_RETURN_IF_ERROR(WriteFile(root / "notes_truth.jsonl", truth));
  return WriteFile(root / "labs.csv", MakeLabsCsv(kDemoPatients, seed));
}

}  // namespace caliper::synth

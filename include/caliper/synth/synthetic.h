#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "caliper/common/status.h"
#include "caliper/core/phi.h"

// Synthetic test data: patients, clinical notes with PHI ground truth, labs, and a demo
// dataset on disk. Nothing here comes from a real patient; every name, number and place is
// drawn from small built-in lists or made up. All generators are deterministic: the same
// arguments give the same output (no std:: distributions, whose results differ between
// standard libraries, and no clock).
// All functions are thread-safe (no shared state).
namespace caliper::synth {

// The kinds of PHI a note's ground truth marks: the one list in core.
using core::ParsePhiType;
using core::PhiType;
using core::PhiTypeName;

// Where one piece of PHI sits in a note's text, in Unicode code points (not bytes) from the
// start: [start, end). Every age is marked AGE; only ages over 89 are Safe Harbor PHI, so
// consumers that need that rule filter on the value.
struct PhiSpan {
  std::size_t start = 0;
  std::size_t end = 0;
  PhiType type = PhiType::kOther;
};

struct SyntheticNote {
  std::string id;            // "note-0001", unique within one call
  std::string patient;       // the patient's key (SyntheticPatient::key)
  std::string kind;          // "radiology_report", "discharge_summary" or "progress_note"
  std::string text;          // UTF-8
  std::vector<PhiSpan> phi;  // sorted by start, non-overlapping
};

// A made-up patient shared by the notes, labs and CT of one seed.
struct SyntheticPatient {
  std::string key;             // MRN, "MRN-123456"; also the DICOM Patient ID
  std::string given_name;      // may be non-ASCII ("José")
  std::string middle_initial;  // "Q"
  std::string family_name;     // may be non-ASCII ("Müller")
  std::string sex;             // "F" or "M"
  std::string birth_date;      // "YYYY-MM-DD"
  std::string admit_date;      // "YYYY-MM-DD": the encounter's first day and the CT study date
  int age_at_admit = 0;        // whole years; over 89 for every fourth patient
  std::string accession;       // "ACC-YYYYMMDD-NNNN", the CT's accession number
  std::string site;            // "site-1" or "site-2" (by index parity): the made-up hospital
};

// Patients 0..count-1 for `seed`. Patient i depends only on (i, seed), so a longer list
// extends a shorter one. Patients with i % 3 == 1 have non-ASCII names; those with
// i % 4 == 3 are over 89 at admission. Returns an empty list for count <= 0.
std::vector<SyntheticPatient> MakePatients(int count, std::uint64_t seed);

// `count` short clinical notes (nothing for count <= 0) in three styles: radiology report,
// discharge summary and progress note, in that rotation; note i belongs to
// MakePatients(.., seed)[i / 3], so each patient gets one note of each style. Notes embed
// fake PHI of every PhiType across a set of three, negated and uncertain findings, family
// history, and mention the patient's age; `phi` is the exact ground truth.
std::vector<SyntheticNote> MakeClinicalNotes(int count, std::uint64_t seed);

// `count` harder notes for the de-identification evaluation, in rotation: a lower-case,
// run-on nursing note; an ED triage note full of abbreviations; a radiology addendum. PHI in
// many formats (ten date formats, six phone formats, MRNs with and without letters, spaced
// SSNs, upper-case e-mail, a URL without scheme, private IPs), lower-case names after "dr"
// and relation words, names and places mostly absent from the de-identifier's dictionaries.
// Ages under 90 are plain text (not PHI). Note i's patient is "hard-patient-<i>"; `phi` is
// the exact ground truth.
std::vector<SyntheticNote> MakeHardClinicalNotes(int count, std::uint64_t seed);

// A labs CSV for MakePatients(patients, seed): header
// "patient_id,loinc,test_name,value,unit,ref_low,ref_high,collected_at,sex,age_band,site" (the
// last three: the patient's cohort attributes, age band as core::AgeBand of age_at_admit), then
// for each patient
// three blood draws of eight tests with real LOINC codes (e.g. 718-7 Hemoglobin g/dL),
// collected_at in RFC 3339 UTC. Values are plausible, roughly one in six outside the reference
// range. No field needs quoting; lines end in '\n'.
std::string MakeLabsCsv(int patients, std::uint64_t seed);

// Writes the demo dataset for MakePatients(4, seed) into `out_dir` (created if missing):
//   ct/<patient key>/ct_NNNN.dcm   a CT phantom series (dicom::WriteCtPhantomSeries) for each
//                                  of the first two patients, with their names and dates and
//                                  their key as Patient ID without an issuer (as the notes and
//                                  labs name them)
//   notes.jsonl                    one {"id","patient","text","sex","age_band","site"} per
//                                  line (the patient's cohort attributes as in MakeLabsCsv),
//                                  12 notes
//   notes_truth.jsonl              one {"id","patient","phi":[{"start","end","type","text"}]}
//                                  per line, offsets in code points as in PhiSpan
//   labs.csv                       MakeLabsCsv(4, seed)
// The output is byte-identical for the same seed. Errors: kIo when anything cannot be
// written (partial output is left in place).
Status WriteDemoDataset(const std::string& out_dir, std::uint64_t seed);

}  // namespace caliper::synth

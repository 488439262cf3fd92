#include <array>

#include "caliper/synth/synthetic.h"
#include "synth/calendar.h"
#include "synth/lexicon.h"
#include "caliper/common/random.h"

namespace caliper::synth {
namespace {

constexpr std::uint64_t kPatientStream = 1;


SyntheticPatient MakePatient(int index, std::uint64_t seed) {
  Rng rng(Mix(seed, kPatientStream, static_cast<std::uint64_t>(index)));
  SyntheticPatient p;
  // Keys are distinct for distinct indexes: 7919 is coprime with 900000.
  const std::uint64_t base = Mix(seed, kPatientStream, ~0ULL) % 900000;
  p.key = "MRN-" +
          std::to_string(100000 + (base + 7919ULL * static_cast<std::uint64_t>(index)) % 900000);

  p.sex = rng.Chance(0.5) ? "F" : "M";
  const bool accented = index % 3 == 1;
  if (accented) {
    p.given_name =
        rng.Pick(p.sex == "F" ? lexicon::FemaleGivenAccented() : lexicon::MaleGivenAccented());
    p.family_name = rng.Pick(lexicon::FamilyAccented());
  } else {
    p.given_name = rng.Pick(p.sex == "F" ? lexicon::FemaleGiven() : lexicon::MaleGiven());
    p.family_name = rng.Pick(lexicon::Family());
  }
  p.middle_initial = std::string(1, static_cast<char>('A' + rng.Uniform(0, 25)));

  // Admission between 2024-01-01 and 2025-12-31; birth so that the age lands on the target
  // (the 2..300 extra days keep it clear of the birthday).
  const long long admit = DaysFromCivil({2024, 1, 1}) + rng.Uniform(0, 730);
  const int target_age = index % 4 == 3 ? rng.Uniform(90, 97) : rng.Uniform(24, 86);
  const long long birth = admit - static_cast<long long>(target_age * 365.25) - rng.Uniform(2, 300);
  const CivilDate admit_date = CivilFromDays(admit);
  const CivilDate birth_date = CivilFromDays(birth);
  p.admit_date = FormatIso(admit_date);
  p.birth_date = FormatIso(birth_date);
  p.age_at_admit = AgeInYears(birth_date, admit_date);
  p.accession = "ACC-" + FormatDicom(admit_date) + "-" + rng.Digits(4);
  p.site = index % 2 == 0 ? "site-1" : "site-2";
  return p;
}

}  // namespace


std::vector<SyntheticPatient> MakePatients(int count, std::uint64_t seed) {
  std::vector<SyntheticPatient> out;
  for (int i = 0; i < count; ++i) out.push_back(MakePatient(i, seed));
  return out;
}

}  // namespace caliper::synth

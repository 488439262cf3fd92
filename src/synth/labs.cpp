#include <algorithm>
#include <cstdio>

#include "caliper/common/clock.h"
#include "caliper/synth/synthetic.h"
#include "synth/calendar.h"
#include "caliper/common/random.h"

namespace caliper::synth {
namespace {

constexpr std::uint64_t kLabStream = 3;
constexpr int kDraws = 3;
constexpr double kAbnormalRate = 1.0 / 6.0;

// One test: LOINC code and its unit (loinc.org), an adult reference range, the decimals a lab
// reports, and the mean and spread of normal results.
struct LabTest {
  const char* loinc;
  const char* name;
  const char* unit;
  double low;
  double high;
  int decimals;
  double mean;
  double sd;
};

constexpr LabTest kTests[] = {
    {"718-7", "Hemoglobin", "g/dL", 12.0, 17.5, 1, 14.2, 1.2},
    {"2160-0", "Creatinine", "mg/dL", 0.6, 1.3, 2, 0.95, 0.15},
    {"2345-7", "Glucose", "mg/dL", 70, 99, 0, 86, 8},
    {"6690-2", "WBC", "10*3/uL", 4.0, 11.0, 1, 7.2, 1.5},
    {"2823-3", "Potassium", "mmol/L", 3.5, 5.1, 1, 4.2, 0.3},
    {"2951-2", "Sodium", "mmol/L", 135, 145, 0, 140, 2},
    {"777-3", "Platelets", "10*3/uL", 150, 400, 0, 260, 45},
    {"1742-6", "ALT", "U/L", 7, 56, 0, 24, 8},
};

std::string Fixed(double v, int decimals) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

// A normal result inside [low, high], or with kAbnormalRate one 10%..60% of the range beyond
// it (so rounding cannot bring it back inside).
double DrawValue(const LabTest& t, Rng& rng) {
  const double range = t.high - t.low;
  if (rng.Chance(kAbnormalRate)) {
    const double beyond = range * (0.1 + 0.5 * rng.Real());
    if (rng.Chance(0.5)) return t.high + beyond;
    return std::max(t.low - beyond, t.low * 0.3);
  }
  return std::clamp(rng.Normal(t.mean, t.sd), t.low, t.high);
}

}  // namespace

std::string MakeLabsCsv(int patients, std::uint64_t seed) {
  std::string csv = "patient_id,loinc,test_name,value,unit,ref_low,ref_high,collected_at,sex,age_band,site\n";
  const std::vector<SyntheticPatient> people = MakePatients(patients, seed);
  for (std::size_t i = 0; i < people.size(); ++i) {
    const SyntheticPatient& p = people[i];
    Rng rng(Mix(seed, kLabStream, i));
    const long long admit_day = DaysFromCivil(ParseIso(p.admit_date));
    const std::string cohort = p.sex + "," + core::AgeBand(p.age_at_admit) + "," + p.site;
    for (int draw = 0; draw < kDraws; ++draw) {
      // Morning draws on consecutive days, 06:00-07:29 UTC.
      const TimeMicros at =
          ((admit_day + draw) * 86400 + 6 * 3600 + rng.Uniform(0, 89) * 60) * kMicrosPerSecond;
      const std::string collected_at = FormatRfc3339(at);
      for (const LabTest& t : kTests) {
        const double value = DrawValue(t, rng);
        csv += p.key + "," + t.loinc + "," + t.name + "," + Fixed(value, t.decimals) + "," +
               t.unit + "," + Fixed(t.low, t.decimals) + "," + Fixed(t.high, t.decimals) + "," +
               collected_at + "," + cohort + "\n";
      }
    }
  }
  return csv;
}

}  // namespace caliper::synth

// Harder synthetic notes for the de-identification evaluation (docs/deid-text.md): written the
// way real notes are — lower-case nursing notes in run-on text, triage notes full of
// abbreviations, radiology addenda — with PHI in many formats and spellings and names that
// are often in no dictionary. Separate from MakeClinicalNotes, whose fixtures other tests pin.

#include <cstdio>

#include "caliper/common/random.h"
#include "caliper/synth/synthetic.h"
#include "synth/calendar.h"
#include "synth/note_builder.h"

namespace caliper::synth {
namespace {

constexpr std::uint64_t kHardNoteStream = 5;

// Names of many origins, about half absent from the US Census 1990 lists the de-identifier
// uses, so the evaluation does not reward dictionary lookups alone. Invented combinations.
const std::vector<std::string>& Given() {
  static const std::vector<std::string> k = {
      "Oluwaseun", "Xiomara", "Thandiwe", "Bartholomew", "Priyanka", "Anh",     "Siobhan", "Mateus",
      "Ngozi",     "Dmitri",  "Keisha",   "Rosalind",    "Tobias",   "Marisol", "Farhan",  "Ingrid",
      "Jamal",     "Beatriz", "Wen",      "Colette",     "Mary",     "James",   "Linda",   "Robert"};
  return k;
}
const std::vector<std::string>& Surnames() {
  static const std::vector<std::string> k = {
      "Okonkwo",  "Villanueva", "Nakashima", "Kowalczyk", "Abernathy", "Delacroix-Ruiz", "Oyelaran",
      "Haugland", "Szymanski",  "McAllister", "Thibodeaux", "Quintanilla", "Brennan",   "Castellano",
      "Iwu",      "Lindqvist",  "Rahman",    "Baptiste",  "Garcia",    "Hughes",         "Foster"};
  return k;
}
const std::vector<std::string>& Streets() {
  static const std::vector<std::string> k = {"Birchwood Ct", "Harbor View Rd", "N Wabash Ave",
                                             "Old Mill Lane", "Quarry St",     "Rt 9"};
  return k;
}
struct Place {
  std::string city, state, zip;
};
const std::vector<Place>& Places() {
  static const std::vector<Place> k = {{"Worcester", "MA", "01608"}, {"Tacoma", "WA", "98402"},
                                       {"Lubbock", "TX", "79401"},   {"Duluth", "MN", "55802"},
                                       {"Savannah", "GA", "31401"},  {"Cheyenne", "WY", "82001"}};
  return k;
}
const std::vector<std::string>& Facilities() {
  static const std::vector<std::string> k = {"Maplewood Nursing Home", "St. Agnes Hospital",
                                             "Harborview Rehab Center", "Pinecrest Clinic"};
  return k;
}

std::string Lower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

std::string Two(int v) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%02d", v);
  return buf;
}

const char* const kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                               "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
const char* const kLongMonths[] = {"january", "february", "march",     "april",   "may",      "june",
                                   "july",    "august",   "september", "october", "november", "december"};

// A date in one of many formats seen in notes.
std::string AnyDate(const CivilDate& d, Rng& rng) {
  const std::string y2 = Two(d.year % 100);
  switch (rng.Uniform(0, 9)) {
    case 0: return std::to_string(d.month) + "/" + std::to_string(d.day) + "/" + y2;           // 3/7/25
    case 1: return Two(d.month) + "-" + Two(d.day) + "-" + std::to_string(d.year);              // 03-07-2025
    case 2: return Two(d.day) + "-" + kMonths[d.month - 1] + "-" + std::to_string(d.year);     // 07-Mar-2025
    case 3: return std::string(kLongMonths[d.month - 1]) + " " + std::to_string(d.day) + "th";  // march 7th
    case 4: return std::to_string(d.year) + "/" + Two(d.month) + "/" + Two(d.day);              // 2025/03/07
    case 5: return std::to_string(d.day) + " " + kMonths[d.month - 1] + " " + std::to_string(d.year);  // 7 Mar 2025
    case 6: return std::to_string(d.month) + "/" + std::to_string(d.day);                       // 3/7
    case 7: return FormatLong(d);                                                              // March 7, 2025
    case 8: return std::string(kMonths[d.month - 1]) + ". " + std::to_string(d.day) + ", " + std::to_string(d.year);
    default: return FormatIso(d);
  }
}

std::string AnyPhone(Rng& rng) {
  const std::string area = std::to_string(rng.Uniform(201, 989));
  const std::string line = "01" + rng.Digits(2);
  switch (rng.Uniform(0, 5)) {
    case 0: return area + "." + "555." + line;
    case 1: return area + "-555-" + line;
    case 2: return "(" + area + ")555-" + line;
    case 3: return area + "555" + line;
    case 4: return "+1 " + area + " 555 " + line;
    default: return "(" + area + ") 555-" + line + " x" + rng.Digits(3);
  }
}

std::string AnyMrn(Rng& rng) {
  switch (rng.Uniform(0, 2)) {
    case 0: return rng.Digits(8);
    case 1: return "A" + rng.Digits(7);
    default: return rng.Digits(3) + "-" + rng.Digits(2) + "-" + rng.Digits(2);
  }
}

struct Person {
  std::string given, family, relative_given, doctor_given, doctor;  // doctor: family name
  int age;
  CivilDate birth, seen;
};

// Ages over 89 are PHI (Safe Harbor); younger ones are plain text.
NoteBuilder& Age(NoteBuilder& b, int age) {
  return age > 89 ? b.Phi(std::to_string(age), PhiType::kAge) : b.Text(std::to_string(age));
}

void NursingNote(const Person& p, Rng& rng, NoteBuilder& b) {
  const Place& place = rng.Pick(Places());
  const std::string relation = rng.Pick(std::vector<std::string>{"daughter", "son", "wife", "husband", "niece"});
  b.Text("nsg note 0700-1900 pt ")
      .Phi(Lower(p.given) + " " + Lower(p.family), PhiType::kName)
      .Text(" ");
  Age(b, p.age)
      .Text(rng.Chance(0.5) ? "yo " : " y/o ")
      .Text("a&ox3 resting comfortably no c/o pain vss afebrile tolerating po intake ")
      .Text(relation + " ")
      .Phi(Lower(p.relative_given), PhiType::kName)
      .Text(" at bedside updated on poc can be reached at ")
      .Phi(AnyPhone(rng), PhiType::kPhone)
      .Text(" dr ")
      .Phi(Lower(p.doctor), PhiType::kName)
      .Text(" aware of k 3.2 repleted per protocol, no edema noted, denies sob. pt lives at ")
      .Phi(std::to_string(rng.Uniform(3, 990)) + " " + Lower(rng.Pick(Streets())), PhiType::kLocation)
      .Text(" ")
      .Phi(Lower(place.city), PhiType::kLocation)
      .Text(" " + place.state + " ")
      .Phi(place.zip, PhiType::kZip)
      .Text(" w/ spouse, dob ")
      .Phi(AnyDate(p.birth, rng), PhiType::kDate)
      .Text(" mrn ")
      .Phi(AnyMrn(rng), PhiType::kMrn)
      .Text(" fall risk precautions in place bed alarm on will recheck bmp on ")
      .Phi(AnyDate(CivilFromDays(DaysFromCivil(p.seen) + 1), rng), PhiType::kDate)
      .Text(" per dr ")
      .Phi(Lower(p.doctor), PhiType::kName)
      .Text("\n");
}

void TriageNote(const Person& p, Rng& rng, NoteBuilder& b) {
  const std::string facility = rng.Pick(Facilities());
  b.Text("ED TRIAGE ")
      .Phi(AnyDate(p.seen, rng), PhiType::kDate)
      .Text(" 14:32\nCC: SOB x2d. HPI: ");
  Age(b, p.age)
      .Text(" y/o BIBA from ")
      .Phi(facility, PhiType::kLocation)
      .Text(", hx CHF, COPD, AFib on apixaban. Per EMS pt found by son ")
      .Phi(p.relative_given, PhiType::kName)
      .Text(" this am. PCP ")
      .Phi(p.doctor_given + " " + p.doctor, PhiType::kName)
      .Text(" MD ph ")
      .Phi(AnyPhone(rng), PhiType::kPhone)
      .Text(". Pt ID verified w/ name ")
      .Phi(p.given + " " + p.family, PhiType::kName)
      .Text(" and DOB ")
      .Phi(AnyDate(p.birth, rng), PhiType::kDate)
      .Text(". Ins: Medicare ID ")
      .Phi(rng.Digits(1) + "EG" + rng.Digits(1) + "-TE" + rng.Digits(1) + "-MK" + rng.Digits(2), PhiType::kId)
      .Text(", SSN ")
      .Phi("9" + rng.Digits(2) + " " + rng.Digits(2) + " " + rng.Digits(4), PhiType::kSsn)
      .Text(". Contact: ")
      .Phi(Lower(p.given) + "_" + Lower(p.family) + rng.Digits(2) + "@EXAMPLE.NET", PhiType::kEmail)
      .Text(". Allergies: PCN (rash). Vitals HR 112 BP 148/92 RR 24 SpO2 88% RA. ESI 2.\n");
}

void RadiologyAddendum(const Person& p, Rng& rng, NoteBuilder& b) {
  const CivilDate prior = CivilFromDays(DaysFromCivil(p.seen) - rng.Uniform(30, 400));
  b.Text("ADDENDUM - CT CHEST W/O CONTRAST\nCOMPARISON: ")
      .Phi(AnyDate(prior, rng), PhiType::kDate)
      .Text(" and ")
      .Phi(AnyDate(CivilFromDays(DaysFromCivil(prior) + 7), rng), PhiType::kDate)
      .Text(".\nFINDINGS: 6 mm RUL nodule unchanged. No PE. Pacemaker leads in standard position, "
         "generator serial no. ")
      .Phi("PJN" + rng.Digits(6) + "H", PhiType::kDevice)
      .Text(".\nResults discussed by phone with Dr. ")
      .Phi(p.doctor, PhiType::kName)
      .Text(" on ")
      .Phi(AnyDate(p.seen, rng), PhiType::kDate)
      .Text(", callback ")
      .Phi(AnyPhone(rng), PhiType::kPhone)
      .Text(". Accession #")
      .Phi(rng.Digits(9), PhiType::kId)
      .Text(". Images: ")
      .Phi("www.imaging-portal.example.org/view?acc=" + rng.Digits(7), PhiType::kUrl)
      .Text(" (workstation ")
      .Phi("10." + std::to_string(rng.Uniform(1, 250)) + "." + std::to_string(rng.Uniform(1, 250)) + "." +
             std::to_string(rng.Uniform(2, 250)),
         PhiType::kIp)
      .Text(")\nDictated by: ")
      .Phi(p.doctor + ", " + p.doctor_given, PhiType::kName)
      .Text(", M.D.\n");
}

}  // namespace

std::vector<SyntheticNote> MakeHardClinicalNotes(int count, std::uint64_t seed) {
  std::vector<SyntheticNote> out;
  for (int i = 0; i < count; ++i) {
    Rng rng(Mix(seed, kHardNoteStream, static_cast<std::uint64_t>(i)));
    Person p;
    p.given = rng.Pick(Given());
    p.family = rng.Pick(Surnames());
    p.relative_given = rng.Pick(Given());
    p.doctor_given = rng.Pick(Given());
    p.doctor = rng.Pick(Surnames());
    p.age = rng.Chance(0.5) ? rng.Uniform(90, 104) : rng.Uniform(40, 89);
    p.seen = CivilFromDays(DaysFromCivil({2024, 1, 1}) + rng.Uniform(0, 700));
    p.birth = CivilFromDays(DaysFromCivil(p.seen) - p.age * 365 - rng.Uniform(0, 360));
    NoteBuilder b;
    const char* kind = "nursing_note";
    switch (i % 3) {
      case 0:
        NursingNote(p, rng, b);
        break;
      case 1:
        kind = "triage_note";
        TriageNote(p, rng, b);
        break;
      default:
        kind = "radiology_addendum";
        RadiologyAddendum(p, rng, b);
        break;
    }
    char id[32];
    std::snprintf(id, sizeof id, "hard-%04d", i + 1);
    SyntheticNote note;
    note.kind = kind;
    note.id = id;
    note.patient = "hard-patient-" + std::to_string(i);
    note.text = b.TakeText();
    note.phi = b.TakePhi();
    out.push_back(std::move(note));
  }
  return out;
}

}  // namespace caliper::synth

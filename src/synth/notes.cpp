#include <cstdio>
#include <utility>

#include "caliper/synth/synthetic.h"
#include "synth/calendar.h"
#include "synth/lexicon.h"
#include "synth/note_builder.h"
#include "caliper/common/random.h"
#include "synth/utf8.h"

namespace caliper::synth {
namespace {

constexpr std::uint64_t kNoteStream = 2;

// Lower-case ASCII for e-mail local parts: folds the accented letters our lists use and
// drops anything else that is not a letter.
std::string AsciiFold(std::string_view s) {
  static const std::pair<std::string_view, char> kFolds[] = {
      {"é", 'e'}, {"ë", 'e'}, {"è", 'e'}, {"ễ", 'e'}, {"ü", 'u'}, {"ø", 'o'},
      {"ó", 'o'}, {"ç", 'c'}, {"Ç", 'c'}, {"ř", 'r'}, {"á", 'a'}, {"Å", 'a'}};
  std::string out;
  for (std::size_t i = 0; i < s.size();) {
    bool folded = false;
    for (const auto& [from, to] : kFolds) {
      if (s.substr(i, from.size()) == from) {
        out.push_back(to);
        i += from.size();
        folded = true;
        break;
      }
    }
    if (folded) continue;
    const char c = s[i++];
    if (c >= 'A' && c <= 'Z') out.push_back(static_cast<char>(c - 'A' + 'a'));
    if (c >= 'a' && c <= 'z') out.push_back(c);
  }
  return out;
}

// Draws happen in separate statements throughout: the operands of `+` are unsequenced, and the
// output must not depend on the compiler's evaluation order.
std::string Phone(Rng& rng) {
  const std::string area = rng.Pick(lexicon::AreaCodes());
  return "(" + area + ") 555-01" + rng.Digits(2);
}

std::string DocumentationIp(Rng& rng) {
  static const std::vector<std::string> kNets = {"192.0.2.", "198.51.100.", "203.0.113."};
  const std::string net = rng.Pick(kNets);
  return net + std::to_string(rng.Uniform(2, 254));
}

std::string Decimal1(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

// Sentences for the clinical body. Negated and uncertain findings and family history are
// what the notes must exercise besides PHI.
const std::vector<std::string>& NegatedFindings() {
  static const std::vector<std::string> k = {
      "Chest radiograph showed no evidence of pneumothorax.",
      "Duplex ultrasound showed no evidence of deep vein thrombosis.",
      "Serial troponins showed no myocardial infarction.",
      "Chest radiograph was negative for pleural effusion."};
  return k;
}
const std::vector<std::string>& UncertainFindings() {
  static const std::vector<std::string> k = {
      "Possible small nodule in the right upper lobe; outpatient CT is suggested.",
      "Redness of the left shin may represent early cellulitis.",
      "Loose stools were likely viral, less likely C. difficile colitis.",
      "Probable mild hepatic steatosis on ultrasound."};
  return k;
}
const std::vector<std::string>& UncertainLungFindings() {
  static const std::vector<std::string> k = {
      "Possible small nodule in the right lower lobe; follow-up CT is suggested.",
      "Questionable small right pleural effusion.", "Probable dependent atelectasis."};
  return k;
}
const std::vector<std::string>& FamilyHistory() {
  static const std::vector<std::string> k = {
      "Mother had breast cancer.", "Father had a myocardial infarction.",
      "Sister has type 2 diabetes.", "Brother was treated for colon cancer.",
      "Family history is negative for bleeding disorders."};
  return k;
}
const std::vector<std::string>& Diagnoses() {
  static const std::vector<std::string> k = {
      "community-acquired pneumonia", "cellulitis of the left leg", "acute pancreatitis",
      "a heart failure exacerbation", "sigmoid diverticulitis"};
  return k;
}

struct NoteContext {
  const SyntheticPatient& patient;
  CivilDate admit;
  std::string noun;     // "woman" / "man"
  std::string title;    // "Ms." / "Mr."
  std::string pronoun;  // "She" / "He"
};

void RadiologyReport(const NoteContext& c, Rng& rng, NoteBuilder& b) {
  const SyntheticPatient& p = c.patient;
  b.Text("CT ABDOMEN AND PELVIS WITH IV CONTRAST\nPatient: ")
      .Phi(p.given_name + " " + p.family_name, PhiType::kName)
      .Text("    MRN: ")
      .Phi(p.key, PhiType::kMrn)
      .Text("    DOB: ")
      .Phi(FormatUs(ParseIso(p.birth_date)), PhiType::kDate)
      .Text("\nExam date: ")
      .Phi(FormatIso(c.admit), PhiType::kDate)
      .Text("    Accession: ")
      .Phi(p.accession, PhiType::kId)
      .Text("\nReferring physician: Dr. ")
      .Phi(rng.Pick(lexicon::Clinicians()), PhiType::kName)
      .Text(", fax ")
      .Phi(Phone(rng), PhiType::kFax)
      .Text("\nScanner serial: ")
      .Phi("SN-" + rng.Digits(4) + "-XYZ", PhiType::kDevice)
      .Text("    Images: ")
      .Phi("https://pacs.caliper-general.example/studies/" + rng.Digits(6), PhiType::kUrl)
      .Text("\n\nCLINICAL HISTORY: ")
      .Phi(std::to_string(p.age_at_admit), PhiType::kAge)
      .Text("-year-old " + c.noun + " with right upper quadrant pain. " +
            rng.Pick(FamilyHistory()) + "\n\nFINDINGS:\nLiver: ");
  const bool lesion = rng.Chance(0.7);
  if (lesion) {
    b.Text("A " + Decimal1(0.8 + 0.1 * rng.Uniform(0, 17)) +
           " cm hypoattenuating lesion in hepatic segment VII, possibly a hemangioma.\n");
  } else {
    b.Text("No focal hepatic lesion.\n");
  }
  const std::string uncertain = rng.Pick(UncertainLungFindings());
  b.Text("Lung bases: " + uncertain + " No evidence of pneumothorax." +
         "\nOther: No free fluid or free air.\nSpine: Mild degenerative change. No "
         "fracture.\n\nIMPRESSION:\n1. ")
      .Text(lesion ? "Indeterminate hepatic lesion; MRI recommended." : "No hepatic lesion.")
      .Text("\n2. No acute abnormality.\n\nElectronically signed by Dr. ")
      .Phi(rng.Pick(lexicon::Clinicians()), PhiType::kName)
      .Text(" on ")
      .Phi(FormatLong(c.admit), PhiType::kDate)
      .Text(" from workstation ")
      .Phi(DocumentationIp(rng), PhiType::kIp)
      .Text(".\n");
}

void DischargeSummary(const NoteContext& c, Rng& rng, NoteBuilder& b) {
  const SyntheticPatient& p = c.patient;
  const long long admit_days = DaysFromCivil(c.admit);
  const CivilDate discharge = CivilFromDays(admit_days + rng.Uniform(2, 6));
  const CivilDate follow_up = CivilFromDays(DaysFromCivil(discharge) + rng.Uniform(7, 14));
  const lexicon::Town& town = rng.Pick(lexicon::Towns());
  const std::string email =
      AsciiFold(p.given_name) + "." + AsciiFold(p.family_name) + rng.Digits(2) + "@example.com";
  const lexicon::Occupation& work = rng.Pick(lexicon::Occupations());
  const std::string house_number = std::to_string(rng.Uniform(2, 980));
  const std::string street = rng.Pick(lexicon::Streets());
  const std::string ssn_area = "9" + rng.Digits(2);
  const std::string ssn_group = rng.Digits(2);
  const std::string ssn = ssn_area + "-" + ssn_group + "-" + rng.Digits(4);
  const std::string diagnosis = rng.Pick(Diagnoses());
  const int family_count = static_cast<int>(FamilyHistory().size());
  const int family_1 = rng.Uniform(0, family_count - 1);
  const int family_2 = (family_1 + rng.Uniform(1, family_count - 1)) % family_count;
  const std::string negated = rng.Pick(NegatedFindings());
  const std::string uncertain = rng.Pick(UncertainFindings());

  b.Text("DISCHARGE SUMMARY\nPatient: ")
      .Phi(p.family_name + ", " + p.given_name + " " + p.middle_initial + ".", PhiType::kName)
      .Text("    MRN: ")
      .Phi(p.key, PhiType::kMrn)
      .Text("    Account: ")
      .Phi("ACCT-" + rng.Digits(8), PhiType::kAccount)
      .Text("\nAdmission date: ")
      .Phi(FormatUs(c.admit), PhiType::kDate)
      .Text("    Discharge date: ")
      .Phi(FormatUs(discharge), PhiType::kDate)
      .Text("\nAttending: Dr. ")
      .Phi(rng.Pick(lexicon::Clinicians()), PhiType::kName)
      .Text("\nAddress: ")
      .Phi(house_number + " " + street, PhiType::kLocation)
      .Text(", ")
      .Phi(town.city, PhiType::kLocation)
      .Text(", " + town.state + " ")
      .Phi(town.zip, PhiType::kZip)
      .Text("\nPhone: ")
      .Phi(Phone(rng), PhiType::kPhone)
      .Text("    Email: ")
      .Phi(email, PhiType::kEmail)
      .Text("\nSSN: ")
      .Phi(ssn, PhiType::kSsn)
      .Text("\n\nHISTORY OF PRESENT ILLNESS: " + c.title + " ")
      .Phi(p.family_name, PhiType::kName)
      .Text(" is a ")
      .Phi(std::to_string(p.age_at_admit), PhiType::kAge)
      .Text("-year-old " + c.noun + " admitted with " + diagnosis + ".\nFAMILY HISTORY: " +
            FamilyHistory()[family_1] + " " + FamilyHistory()[family_2] + "\nSOCIAL HISTORY: ")
      .Text(p.age_at_admit > 89 ? "Retired " + work.job + ", formerly at "
                                : "Works as a " + work.job + " at ")
      .Phi(work.employer, PhiType::kOther)
      .Text(". Driver's license ")
      .Phi("DL S" + rng.Digits(8), PhiType::kLicense)
      .Text(" on file.\nHOSPITAL COURSE: Treated with intravenous antibiotics and fluids. " +
            negated + " " + uncertain +
            " Blood cultures were negative.\nDEVICES: Pacemaker, serial ")
      .Phi("PM-" + rng.Digits(5) + "-X", PhiType::kDevice)
      .Text(".\nDISCHARGE PLAN: Follow up with Dr. ")
      .Phi(rng.Pick(lexicon::Clinicians()), PhiType::kName)
      .Text(" at ")
      .Phi(rng.Pick(lexicon::Clinics()), PhiType::kLocation)
      .Text(" on ")
      .Phi(FormatLong(follow_up), PhiType::kDate)
      .Text(". Results are available at ")
      .Phi("https://portal.caliper-general.example/results/" + rng.Digits(5), PhiType::kUrl)
      .Text(".\n");
}

void ProgressNote(const NoteContext& c, Rng& rng, NoteBuilder& b) {
  const SyntheticPatient& p = c.patient;
  const int hospital_day = rng.Uniform(2, 4);
  const CivilDate today = CivilFromDays(DaysFromCivil(c.admit) + hospital_day - 1);
  struct Relation {
    std::string word;
    bool female;
  };
  static const std::vector<Relation> kRelations = {
      {"Daughter", true}, {"Son", false}, {"Sister", true}, {"Brother", false}};
  static const std::vector<std::string> kSubjective = {
      "breathing is easier", "leg pain is improving", "appetite has returned",
      "abdominal pain is better"};
  const Relation& relation = rng.Pick(kRelations);
  const std::string relative_given =
      rng.Pick(relation.female ? lexicon::FemaleGiven() : lexicon::MaleGiven());
  const std::string subjective = rng.Pick(kSubjective);
  const std::string temperature = Decimal1(36.5 + 0.1 * rng.Uniform(0, 15));
  const std::string heart_rate = std::to_string(rng.Uniform(62, 104));
  const std::string systolic = std::to_string(rng.Uniform(105, 150));
  const std::string diastolic = std::to_string(rng.Uniform(60, 92));
  const std::string spo2 = std::to_string(rng.Uniform(92, 99));
  const std::string uncertain = rng.Pick(UncertainFindings());
  const std::string negated = rng.Pick(NegatedFindings());
  const std::string member_id = rng.Digits(5);
  const std::string member_suffix = rng.Digits(2);
  std::string plate = std::to_string(rng.Uniform(1, 9));
  for (int i = 0; i < 3; ++i) plate.push_back(static_cast<char>('A' + rng.Uniform(0, 25)));
  plate += rng.Digits(3);

  b.Text("PROGRESS NOTE ")
      .Phi(FormatIso(today), PhiType::kDate)
      .Text("\n")
      .Phi(p.given_name + " " + p.family_name, PhiType::kName)
      .Text(" (MRN ")
      .Phi(p.key, PhiType::kMrn)
      .Text("), age ")
      .Phi(std::to_string(p.age_at_admit), PhiType::kAge)
      .Text(", hospital day " + std::to_string(hospital_day) + ".\nS: " + c.pronoun + " reports " +
            subjective + ". Denies chest pain and shortness of breath. " + relation.word + " ")
      .Phi(relative_given + " " + p.family_name, PhiType::kName)
      .Text(" visited and can be reached at ")
      .Phi(Phone(rng), PhiType::kPhone)
      .Text(".\nO: T " + temperature + " C, HR " + heart_rate + ", BP " + systolic + "/" +
            diastolic + ", SpO2 " + spo2 + "% on room air.\nA/P: Improving. " + uncertain + " " +
            negated + " Continue current antibiotics.\nInsurance member ID ")
      .Phi("HMO-" + member_id + "-" + member_suffix, PhiType::kId)
      .Text(". Arrived by private car, plate ")
      .Phi(plate, PhiType::kVehicle)
      .Text(". Telemetry reviewed remotely from ")
      .Phi(DocumentationIp(rng), PhiType::kIp)
      .Text(".\nSigned: Dr. ")
      .Phi(rng.Pick(lexicon::Clinicians()), PhiType::kName)
      .Text("\n");
}

}  // namespace

std::vector<SyntheticNote> MakeClinicalNotes(int count, std::uint64_t seed) {
  std::vector<SyntheticNote> out;
  if (count <= 0) return out;
  const std::vector<SyntheticPatient> patients = MakePatients((count + 2) / 3, seed);
  for (int i = 0; i < count; ++i) {
    const SyntheticPatient& p = patients[static_cast<std::size_t>(i / 3)];
    const bool female = p.sex == "F";
    const NoteContext context{p, ParseIso(p.admit_date), female ? "woman" : "man",
                              female ? "Ms." : "Mr.", female ? "She" : "He"};
    Rng rng(Mix(seed, kNoteStream, static_cast<std::uint64_t>(i)));
    NoteBuilder builder;
    SyntheticNote note;
    switch (i % 3) {
      case 0:
        note.kind = "radiology_report";
        RadiologyReport(context, rng, builder);
        break;
      case 1:
        note.kind = "discharge_summary";
        DischargeSummary(context, rng, builder);
        break;
      default:
        note.kind = "progress_note";
        ProgressNote(context, rng, builder);
        break;
    }
    char id[32];
    std::snprintf(id, sizeof id, "note-%04d", i + 1);
    note.id = id;
    note.patient = p.key;
    note.text = builder.TakeText();
    note.phi = builder.TakePhi();
    out.push_back(std::move(note));
  }
  return out;
}

}  // namespace caliper::synth

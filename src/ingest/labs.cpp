#include "caliper/ingest/labs.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "caliper/core/codes.h"
#include "ingest/csv.h"

namespace caliper::ingest {
namespace {

using nlohmann::json;

// ---- units ------------------------------------------------------------------------------------

enum class Dimension { kMass, kSubstance, kEquivalents, kCount, kOther };

struct UnitInfo {
  const char* ucum;  // canonical spelling
  Dimension dimension;
  double factor;  // to the dimension's base: g/L, mol/L, eq/L, 1/L; 1 for kOther
};

// Spellings met in lab feeds (lower case, 'µ' and 'μ' read as 'u') -> UCUM unit.
const std::map<std::string, UnitInfo>& Units() {
  static const std::map<std::string, UnitInfo> kUnits = [] {
    std::map<std::string, UnitInfo> m;
    auto add = [&](std::initializer_list<const char*> spellings, UnitInfo info) {
      for (const char* s : spellings) m[s] = info;
    };
    add({"g/l"}, {"g/L", Dimension::kMass, 1});
    add({"g/dl"}, {"g/dL", Dimension::kMass, 10});
    add({"mg/dl"}, {"mg/dL", Dimension::kMass, 1e-2});
    add({"mg/l", "ug/ml", "mcg/ml"}, {"mg/L", Dimension::kMass, 1e-3});
    add({"ug/dl", "mcg/dl"}, {"ug/dL", Dimension::kMass, 1e-5});
    add({"ng/ml", "ug/l", "mcg/l"}, {"ng/mL", Dimension::kMass, 1e-6});
    add({"pg/ml", "ng/l"}, {"pg/mL", Dimension::kMass, 1e-9});
    add({"mol/l"}, {"mol/L", Dimension::kSubstance, 1});
    add({"mmol/l"}, {"mmol/L", Dimension::kSubstance, 1e-3});
    add({"umol/l", "mcmol/l"}, {"umol/L", Dimension::kSubstance, 1e-6});
    add({"nmol/l"}, {"nmol/L", Dimension::kSubstance, 1e-9});
    add({"pmol/l"}, {"pmol/L", Dimension::kSubstance, 1e-12});
    add({"meq/l"}, {"meq/L", Dimension::kEquivalents, 1e-3});
    add({"10*3/ul", "10^3/ul", "x10e3/ul", "x10^3/ul", "k/ul", "thou/ul", "10*9/l", "10^9/l", "x10e9/l",
         "x10^9/l"},
        {"10*3/uL", Dimension::kCount, 1e9});
    add({"10*6/ul", "10^6/ul", "x10e6/ul", "x10^6/ul", "m/ul", "mill/ul", "10*12/l", "10^12/l", "x10e12/l",
         "x10^12/l"},
        {"10*6/uL", Dimension::kCount, 1e12});
    add({"/ul", "cells/ul", "/mm3"}, {"/uL", Dimension::kCount, 1e6});
    add({"u/l", "iu/l", "[iu]/l"}, {"U/L", Dimension::kOther, 1});
    add({"%"}, {"%", Dimension::kOther, 1});
    add({"mm[hg]", "mmhg"}, {"mm[Hg]", Dimension::kOther, 1});
    add({"fl"}, {"fL", Dimension::kOther, 1});
    add({"pg"}, {"pg", Dimension::kOther, 1});
    add({"kg"}, {"kg", Dimension::kOther, 1});
    add({"kg/m2"}, {"kg/m2", Dimension::kOther, 1});
    add({"/min", "{beats}/min", "bpm"}, {"/min", Dimension::kOther, 1});
    add({"ml/min/{1.73_m2}", "ml/min/1.73m2"}, {"mL/min/{1.73_m2}", Dimension::kOther, 1});
    return m;
  }();
  return kUnits;
}

const UnitInfo* FindUnit(std::string_view unit) {
  std::string key;
  for (std::size_t i = 0; i < unit.size(); ++i) {
    // 'µ' (U+00B5, C2 B5) and 'μ' (U+03BC, CE BC) are both micro.
    if (i + 1 < unit.size() && ((unit[i] == '\xC2' && unit[i + 1] == '\xB5') ||
                                (unit[i] == '\xCE' && unit[i + 1] == '\xBC'))) {
      key += 'u';
      ++i;
    } else if (unit[i] != ' ') {
      key += static_cast<char>(std::tolower(static_cast<unsigned char>(unit[i])));
    }
  }
  auto it = Units().find(key);
  return it == Units().end() ? nullptr : &it->second;
}

// Analytes whose results arrive in different units, with the unit Caliper shows them in, the
// molar mass for mass <-> amount conversions (g/mol, PubChem; urea nitrogen counts its two N
// atoms) and the charge for mEq. docs/labs.md lists the table with its sources.
struct Analyte {
  const char* name;
  std::vector<std::string_view> loinc;
  const char* unit;
  double molar_mass;
  int valence;
};

constexpr double kNoMolarMass = 0;

const std::vector<Analyte>& Analytes() {
  static const std::vector<Analyte> kAnalytes = {
      {"creatinine", {"2160-0", "38483-4", "14682-9", "35203-9"}, "mg/dL", 113.12, 0},
      {"glucose", {"2345-7", "2339-0", "41653-7", "15074-8", "14749-6"}, "mg/dL", 180.16, 0},
      {"urea nitrogen", {"3094-0", "6299-2", "14937-7"}, "mg/dL", 28.014, 0},
      {"cholesterol", {"2093-3", "14647-2", "18262-6", "13457-7", "2089-1", "2085-9", "14646-4"}, "mg/dL", 386.65, 0},
      {"triglycerides", {"2571-8", "14927-8"}, "mg/dL", 885.7, 0},
      {"calcium", {"17861-6", "2000-8", "49765-1"}, "mg/dL", 40.078, 2},
      {"magnesium", {"19123-9", "2601-3"}, "mg/dL", 24.305, 2},
      {"uric acid", {"3084-1", "14933-6"}, "mg/dL", 168.11, 0},
      {"bilirubin", {"1975-2", "14631-6", "1968-7", "14629-0"}, "mg/dL", 584.66, 0},
      {"sodium", {"2951-2", "2947-0"}, "mmol/L", 22.990, 1},
      {"potassium", {"2823-3", "6298-4"}, "mmol/L", 39.098, 1},
      {"chloride", {"2075-0", "2069-3"}, "mmol/L", 35.45, 1},
      {"bicarbonate", {"2028-9", "1963-8", "20565-8"}, "mmol/L", 61.017, 1},
      {"hemoglobin", {"718-7", "20509-6", "59260-0"}, "g/dL", 16114.5, 0},
      {"albumin", {"1751-7", "61151-7"}, "g/dL", kNoMolarMass, 0},
      {"leukocytes", {"6690-2", "26464-8"}, "10*3/uL", kNoMolarMass, 0},
      {"platelets", {"777-3", "26515-7"}, "10*3/uL", kNoMolarMass, 0},
      {"erythrocytes", {"789-8", "26453-1"}, "10*6/uL", kNoMolarMass, 0},
  };
  return kAnalytes;
}

const Analyte* FindAnalyte(std::string_view loinc) {
  for (const Analyte& a : Analytes()) {
    if (std::find(a.loinc.begin(), a.loinc.end(), loinc) != a.loinc.end()) return &a;
  }
  return nullptr;
}

// ---- values -----------------------------------------------------------------------------------

std::optional<double> Number(std::string_view text) {
  const std::string t = Trim(text);
  if (t.empty()) return std::nullopt;
  std::istringstream in(t);
  in.imbue(std::locale::classic());
  double v = 0;
  in >> v;
  if (in.fail() || !in.eof() || !std::isfinite(v)) return std::nullopt;
  return v;
}

// RFC 3339, "YYYY-MM-DD HH:MM:SS" (taken as UTC) or a date "YYYY-MM-DD" (midnight UTC).
Result<TimeMicros> ParseTime(std::string_view text) {
  std::string t = Trim(text);
  if (t.size() == 10) t += "T00:00:00Z";
  if (t.size() == 19 && t[10] == ' ') t[10] = 'T';
  if (t.size() == 19) t += 'Z';
  auto parsed = ParseRfc3339(t);
  if (!parsed.ok()) {
    return Error(ErrorCode::kInvalidArgument, "time '" + Trim(text) +
                                                  "' is not RFC 3339, 'YYYY-MM-DD HH:MM:SS' or 'YYYY-MM-DD'");
  }
  return parsed;
}

// "3.5-5.1", "3.5 - 5.1", "<5", "> 60", "<=5".
void ParseRange(std::string_view text, LabRecord& r) {
  const std::string t = Trim(text);
  if (t.empty()) return;
  if (t[0] == '<' || t[0] == '>') {
    const std::size_t skip = t.size() > 1 && t[1] == '=' ? 2 : 1;
    auto v = Number(t.substr(skip));
    if (t[0] == '<') r.ref_high = v;
    else r.ref_low = v;
    return;
  }
  const auto dash = t.find('-', 1);
  if (dash == std::string::npos) return;
  r.ref_low = Number(t.substr(0, dash));
  r.ref_high = Number(t.substr(dash + 1));
}

// The cohort attributes the Caliper shapes may carry (docs/labs.md), named as the subgroup
// report names them.
constexpr std::array<const char*, 6> kCohortFields = {"sex", "age_band", "race", "ethnicity", "site", "care_setting"};
constexpr std::size_t kMaxCohortValue = 64;

// The checks every record passes once its fields are read.
void Finish(LabRecord& r) {
  if (!r.status.ok()) return;
  if (r.patient.empty()) {
    r.status = Error(ErrorCode::kInvalidArgument, "the result has no patient");
  } else if (r.loinc.empty()) {
    r.status = Error(ErrorCode::kInvalidArgument, "the result has no LOINC code");
  } else if (Status s = core::ValidateLoinc(r.loinc); !s.ok()) {
    r.status = s;
  } else if (!r.value && r.value_text.empty()) {
    r.status = Error(ErrorCode::kInvalidArgument, "the result has no value");
  } else if (r.value_text.size() > 200 || r.unit.size() > 64 || r.name.size() > 200) {
    r.status = Error(ErrorCode::kInvalidArgument, "value, unit or name is too long");
  }
  for (const auto& [name, value] : r.cohort) {
    if (r.status.ok() && value.size() > kMaxCohortValue) {
      r.status = Error(ErrorCode::kInvalidArgument, "the cohort attribute " + name + " is over 64 bytes");
    }
  }
}

// ---- CSV --------------------------------------------------------------------------------------

// Column names of each field, Caliper's first, then synonyms and the OMOP MEASUREMENT names.
struct Columns {
  int patient = -1, time = -1, date = -1, loinc = -1, name = -1, value = -1, value_text = -1, unit = -1,
      low = -1, high = -1, range = -1;
  std::vector<std::pair<std::string, int>> cohort;  // the cohort columns present, by name
};

Result<Columns> ColumnsOf(const std::vector<std::string>& header) {
  Columns c;
  auto find = [&](std::initializer_list<const char*> names) {
    for (const char* n : names) {
      auto it = std::find(header.begin(), header.end(), n);
      if (it != header.end()) return static_cast<int>(it - header.begin());
    }
    return -1;
  };
  c.patient = find({"patient", "patient_id", "person_id", "subject"});
  c.time = find({"time", "collected_at", "effective", "datetime", "measurement_datetime"});
  c.date = find({"date", "measurement_date"});
  c.loinc = find({"loinc", "code", "loinc_code", "measurement_source_value"});
  c.name = find({"name", "test_name", "test"});
  c.value = find({"value", "value_as_number", "result"});
  c.value_text = find({"value_text", "value_source_value"});
  c.unit = find({"unit", "units", "unit_source_value"});
  c.low = find({"ref_low", "range_low", "reference_low"});
  c.high = find({"ref_high", "range_high", "reference_high"});
  c.range = find({"reference_range", "ref_range", "range"});
  for (const char* name : kCohortFields) {
    if (int at = find({name}); at >= 0) c.cohort.emplace_back(name, at);
  }
  std::string missing;
  if (c.patient < 0) missing += " patient";
  if (c.time < 0 && c.date < 0) missing += " time";
  if (c.loinc < 0) missing += " loinc";
  if (c.value < 0 && c.value_text < 0) missing += " value";
  if (!missing.empty()) {
    return Error(ErrorCode::kInvalidArgument, "the labs CSV header lacks the columns:" + missing +
                                                  " (docs/labs.md lists the names accepted)");
  }
  return c;
}

Result<std::vector<LabRecord>> ReadCsv(std::istream& in, std::size_t max_bytes) {
  CsvParser csv(in, 1 << 20);
  std::vector<std::string> header;
  bool too_long = false;
  CALIPER_RETURN_IF_ERROR(csv.ReadRecord(header, too_long));
  for (auto& h : header) h = Lower(Trim(h));
  if (!header.empty() && header[0].rfind("\xEF\xBB\xBF", 0) == 0) header[0].erase(0, 3);
  CALIPER_ASSIGN_OR_RETURN(Columns c, ColumnsOf(header));
  std::vector<LabRecord> out;
  std::size_t bytes = 0;
  std::vector<std::string> f;
  while (!csv.AtEnd()) {
    LabRecord r;
    r.line = csv.NextLine();
    if (Status s = csv.ReadRecord(f, too_long); !s.ok()) {
      r.number = out.size() + 1;
      r.status = s;
      out.push_back(std::move(r));
      break;
    }
    if (f.size() == 1 && f[0].empty()) continue;
    for (const auto& field : f) bytes += field.size() + 1;
    if (bytes > max_bytes) return Error(ErrorCode::kPayloadTooLarge, "the labs file is over the size limit");
    r.number = out.size() + 1;
    if (too_long || f.size() != header.size()) {
      r.status = Error(ErrorCode::kInvalidArgument, "record on line " + std::to_string(r.line) + " has " +
                                                        std::to_string(f.size()) + " fields; the header has " +
                                                        std::to_string(header.size()));
      out.push_back(std::move(r));
      continue;
    }
    auto field = [&](int i) { return i < 0 ? std::string() : Trim(f[static_cast<std::size_t>(i)]); };
    r.patient = field(c.patient);
    r.loinc = field(c.loinc);
    r.name = field(c.name);
    r.unit = field(c.unit);
    const std::string value = field(c.value);
    r.value = Number(value);
    if (!r.value) r.value_text = value.empty() ? field(c.value_text) : value;
    r.ref_low = Number(field(c.low));
    r.ref_high = Number(field(c.high));
    ParseRange(field(c.range), r);
    for (const auto& [name, at] : c.cohort) {
      if (std::string v = field(at); !v.empty()) r.cohort[name] = std::move(v);
    }
    const std::string time = field(c.time).empty() ? field(c.date) : field(c.time);
    auto t = ParseTime(time);
    if (t.ok()) {
      r.time = *t;
    } else {
      r.status = t.status();
    }
    Finish(r);
    out.push_back(std::move(r));
  }
  return out;
}

// ---- JSON -------------------------------------------------------------------------------------

std::string Str(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_integer()) return v.dump();
  return "";
}

std::optional<double> Num(const json& v) {
  if (v.is_number()) return v.get<double>();
  if (v.is_string()) return Number(v.get<std::string>());
  return std::nullopt;
}

bool IsLaboratory(const json& obs) {
  if (!obs.contains("category")) return true;
  for (const auto& cat : obs["category"]) {
    for (const auto& coding : cat.value("coding", json::array())) {
      if (coding.value("code", "") == "laboratory") return true;
    }
  }
  return false;
}

LabRecord FromObservation(const json& obs) {
  LabRecord r;
  r.patient = obs.contains("subject") ? Str(obs["subject"].value("reference", json())) : "";
  for (const auto& coding : obs.value("code", json::object()).value("coding", json::array())) {
    if (coding.value("system", "") == "http://loinc.org") {
      r.loinc = Str(coding.value("code", json()));
      r.name = Str(coding.value("display", json()));
      break;
    }
  }
  std::string time = Str(obs.value("effectiveDateTime", json()));
  if (time.empty() && obs.contains("effectivePeriod")) time = Str(obs["effectivePeriod"].value("start", json()));
  if (time.empty()) time = Str(obs.value("issued", json()));
  if (obs.contains("valueQuantity")) {
    const json& q = obs["valueQuantity"];
    r.value = Num(q.value("value", json()));
    r.unit = Str(q.value("code", json()));
    if (r.unit.empty()) r.unit = Str(q.value("unit", json()));
  } else if (obs.contains("valueString")) {
    r.value_text = Str(obs["valueString"]);
  } else if (obs.contains("valueCodeableConcept")) {
    r.value_text = Str(obs["valueCodeableConcept"].value("text", json()));
  }
  if (obs.contains("referenceRange") && obs["referenceRange"].is_array() && !obs["referenceRange"].empty()) {
    const json& range = obs["referenceRange"][0];
    if (range.contains("low")) r.ref_low = Num(range["low"].value("value", json()));
    if (range.contains("high")) r.ref_high = Num(range["high"].value("value", json()));
  }
  auto t = ParseTime(time);
  if (t.ok()) {
    r.time = *t;
  } else {
    r.status = time.empty() ? Error(ErrorCode::kInvalidArgument, "the observation has no effective time") : t.status();
  }
  return r;
}

LabRecord FromFlat(const json& o) {
  LabRecord r;
  if (!o.is_object()) {
    r.status = Error(ErrorCode::kInvalidArgument, "a result must be a JSON object");
    return r;
  }
  r.patient = Str(o.value("patient", json()));
  r.loinc = Str(o.value("loinc", json()));
  r.name = Str(o.value("name", json()));
  r.unit = Str(o.value("unit", json()));
  r.value = Num(o.value("value", json()));
  if (!r.value) r.value_text = Str(o.value("value", json()));
  r.ref_low = Num(o.value("ref_low", json()));
  r.ref_high = Num(o.value("ref_high", json()));
  if (o.contains("reference_range")) ParseRange(Str(o["reference_range"]), r);
  for (const char* name : kCohortFields) {
    if (std::string v = Trim(Str(o.value(name, json()))); !v.empty()) r.cohort[name] = std::move(v);
  }
  auto t = ParseTime(Str(o.value("time", json())));
  if (t.ok()) {
    r.time = *t;
  } else {
    r.status = t.status();
  }
  return r;
}

Result<std::vector<LabRecord>> ReadJson(std::istream& in, std::size_t max_bytes) {
  std::string text;
  std::array<char, 64 * 1024> chunk{};
  while (in) {
    in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    text.append(chunk.data(), static_cast<std::size_t>(in.gcount()));
    if (text.size() > max_bytes) return Error(ErrorCode::kPayloadTooLarge, "the labs file is over the size limit");
  }
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return Error(ErrorCode::kInvalidArgument, "the labs file is not valid JSON (UTF-8)");
  std::vector<json> entries;
  if (doc.is_object() && doc.value("resourceType", "") == "Bundle") {
    for (const auto& e : doc.value("entry", json::array())) {
      if (e.contains("resource")) entries.push_back(e["resource"]);
    }
  } else if (doc.is_array()) {
    entries.assign(doc.begin(), doc.end());
  } else {
    entries.push_back(doc);
  }
  std::vector<LabRecord> out;
  for (const json& e : entries) {
    const bool fhir = e.is_object() && e.contains("resourceType");
    if (fhir && (e["resourceType"] != "Observation" || !IsLaboratory(e))) continue;  // other resources
    LabRecord r = fhir ? FromObservation(e) : FromFlat(e);
    r.number = out.size() + 1;
    Finish(r);
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace

Result<LabFormat> ParseLabFormat(std::string_view name) {
  const std::string n = Lower(name);
  if (n == "csv") return LabFormat::kCsv;
  if (n == "json") return LabFormat::kJson;
  return Error(ErrorCode::kInvalidArgument, "'" + std::string(name) + "' is not a labs format (one of: csv, json)");
}

Result<LabFormat> LabFormatOfPath(std::string_view path) {
  const auto dot = path.rfind('.');
  if (dot == std::string_view::npos || path.find('/', dot) != std::string_view::npos) {
    return Error(ErrorCode::kInvalidArgument, std::string(path) + ": no file extension; labs are read from .csv or .json");
  }
  auto format = ParseLabFormat(path.substr(dot + 1));
  if (!format.ok()) {
    return Error(ErrorCode::kInvalidArgument, std::string(path) + ": unknown extension; labs are read from .csv or .json");
  }
  return format;
}

Result<std::vector<LabRecord>> ReadLabs(LabFormat format, std::istream& in, std::size_t max_bytes) {
  return format == LabFormat::kCsv ? ReadCsv(in, max_bytes) : ReadJson(in, max_bytes);
}

std::string CanonicalUnit(std::string_view unit) {
  const UnitInfo* u = FindUnit(unit);
  return u == nullptr ? "" : u->ucum;
}

std::optional<NormalisedValue> NormaliseLabValue(std::string_view loinc, double value, std::string_view unit) {
  const UnitInfo* from = FindUnit(unit);
  if (from == nullptr) return std::nullopt;
  const Analyte* analyte = FindAnalyte(loinc);
  if (analyte == nullptr) return NormalisedValue{value, from->ucum, ""};
  const UnitInfo* to = FindUnit(analyte->unit);
  if (to == nullptr) return std::nullopt;  // unreachable: every analyte unit is in the table
  NormalisedValue out{0, to->ucum, analyte->name};
  if (from->dimension == to->dimension) {
    out.value = value * from->factor / to->factor;
    return out;
  }
  // Through the amount of substance, mol/L.
  double mol_per_l = 0;
  switch (from->dimension) {
    case Dimension::kSubstance:
      mol_per_l = value * from->factor;
      break;
    case Dimension::kMass:
      if (analyte->molar_mass == kNoMolarMass) return std::nullopt;
      mol_per_l = value * from->factor / analyte->molar_mass;
      break;
    case Dimension::kEquivalents:
      if (analyte->valence == 0) return std::nullopt;
      mol_per_l = value * from->factor / analyte->valence;
      break;
    default:
      return std::nullopt;
  }
  switch (to->dimension) {
    case Dimension::kSubstance:
      out.value = mol_per_l / to->factor;
      return out;
    case Dimension::kMass:
      if (analyte->molar_mass == kNoMolarMass) return std::nullopt;
      out.value = mol_per_l * analyte->molar_mass / to->factor;
      return out;
    default:
      return std::nullopt;
  }
}

}  // namespace caliper::ingest

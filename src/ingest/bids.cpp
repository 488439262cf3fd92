#include "caliper/ingest/bids.h"

#include <nlohmann/json.hpp>

#include <cctype>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "caliper/core/phi.h"

namespace caliper::ingest {
namespace {

using nlohmann::json;

std::optional<std::string> Text(const json& j, std::initializer_list<const char*> keys) {
  for (const char* key : keys) {
    auto it = j.find(key);
    if (it != j.end() && it->is_string() && !it->get<std::string>().empty()) return it->get<std::string>();
  }
  return std::nullopt;
}

std::optional<double> Number(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end()) return std::nullopt;
  if (it->is_number()) return it->get<double>();
  if (it->is_string()) {
    try {
      return std::stod(it->get<std::string>());
    } catch (...) {
    }
  }
  return std::nullopt;
}

std::string OneDecimal(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

std::string Clean(const std::string& in) {
  std::string out;
  for (unsigned char c : in) {
    const char u = static_cast<char>(std::toupper(c));
    if (std::isalnum(static_cast<unsigned char>(u)) || u == '.' || u == '_' || u == '-' || u == '+') {
      out += u;
    } else if (!out.empty() && out.back() != ' ') {
      out += ' ';
    }
    if (out.size() >= 64) break;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

std::optional<std::string> AgeBand(const json& j) {
  auto it = j.find("PatientAge");
  if (it == j.end()) return std::nullopt;
  int years = -1;
  if (it->is_number()) {
    years = static_cast<int>(std::floor(it->get<double>()));
  } else if (it->is_string()) {
    const std::string s = it->get<std::string>();
    if (s.size() == 4 && s[3] == 'Y' && std::isdigit(static_cast<unsigned char>(s[0]))) {
      years = std::stoi(s.substr(0, 3));
    } else if (s.size() == 4 && (s[3] == 'M' || s[3] == 'W' || s[3] == 'D')) {
      years = 0;
    }
  }
  if (years < 0) return std::nullopt;
  return core::AgeBand(years);
}

}  // namespace

Result<std::string> CohortFromBidsSidecar(std::string_view json_text) {
  const json j = json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return Error(ErrorCode::kMalformedJson, "the BIDS sidecar is not a JSON object");
  }
  json out = json::object();
  if (auto v = Text(j, {"Modality"})) out["modality"] = Clean(*v);
  if (auto v = Text(j, {"Manufacturer"})) out["manufacturer"] = Clean(*v);
  if (auto v = Text(j, {"ManufacturersModelName"})) out["model"] = Clean(*v);
  if (auto v = Number(j, "MagneticFieldStrength")) out["field_strength_t"] = OneDecimal(*v);
  if (auto v = Number(j, "SliceThickness")) out["slice_thickness_mm"] = OneDecimal(*v);
  if (auto v = Number(j, "KVP")) out["kvp"] = std::to_string(static_cast<int>(std::lround(*v)));
  if (auto v = Text(j, {"BodyPart", "BodyPartExamined"})) out["body_part"] = Clean(*v);
  if (auto v = Text(j, {"SeriesDescription"})) out["series_description"] = Clean(*v);
  if (auto v = Text(j, {"ProtocolName"})) out["protocol"] = Clean(*v);
  if (auto v = Text(j, {"AcquisitionDateTime", "AcquisitionDate", "StudyDate"});
      v && v->size() >= 4 && std::isdigit(static_cast<unsigned char>((*v)[0]))) {
    out["acquisition_year"] = v->substr(0, 4);
  }
  if (auto v = Text(j, {"PatientSex"}); v && (*v == "M" || *v == "F" || *v == "O")) out["sex"] = *v;
  if (auto band = AgeBand(j)) out["age_band"] = *band;
  return out.dump();
}

std::string BidsSidecarPath(const std::string& nifti_path) {
  std::string base = nifti_path;
  for (const char* ext : {".nii.gz", ".nii"}) {
    const std::string e = ext;
    if (base.size() > e.size() && base.compare(base.size() - e.size(), e.size(), e) == 0) {
      base.resize(base.size() - e.size());
      break;
    }
  }
  return base + ".json";
}

Result<std::optional<std::string>> ReadCohortForNifti(const std::string& nifti_path) {
  const std::string path = BidsSidecarPath(nifti_path);
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return std::optional<std::string>();
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error(ErrorCode::kIo, "cannot read " + path);
  std::ostringstream text;
  text << in.rdbuf();
  CALIPER_ASSIGN_OR_RETURN(std::string cohort, CohortFromBidsSidecar(text.str()));
  return std::optional<std::string>(std::move(cohort));
}

}  // namespace caliper::ingest

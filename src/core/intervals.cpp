#include "caliper/core/intervals.h"

#include <cmath>

#include <nlohmann/json.hpp>

namespace caliper::core {
namespace {

using nlohmann::json;

Status Invalid(const std::string& where, const std::string& what) {
  return Error(ErrorCode::kInvalidArgument, where + " " + what);
}

Status CheckKeys(const json& entry, const std::string& where, std::initializer_list<const char*> allowed) {
  if (!entry.is_object()) return Invalid(where, "must be an object");
  for (const auto& [key, value] : entry.items()) {
    bool known = false;
    for (const char* a : allowed) known = known || key == a;
    if (!known) return Invalid(where + "." + key, "is not a known field");
  }
  return Status::Ok();
}

Result<double> Time(const json& entry, const std::string& where, const char* field, double duration_s) {
  if (!entry.contains(field) || !entry[field].is_number()) return Invalid(where + "." + field, "must be a number");
  const double t = entry[field].get<double>();
  if (!std::isfinite(t) || t < 0 || t > duration_s) {
    return Invalid(where + "." + field, "must lie within the record (0 to " + std::to_string(duration_s) + " s)");
  }
  return t;
}

Result<std::string> Class(const json& entry, const std::string& where) {
  if (!entry.contains("class") || !entry["class"].is_string() || entry["class"].get<std::string>().empty()) {
    return Invalid(where + ".class", "must be a class id");
  }
  return entry["class"].get<std::string>();
}

Result<std::optional<double>> Confidence(const json& entry, const std::string& where) {
  if (!entry.contains("confidence") || entry["confidence"].is_null()) return std::optional<double>();
  const json& c = entry["confidence"];
  if (!c.is_number() || !(c.get<double>() >= 0 && c.get<double>() <= 1)) {
    return Invalid(where + ".confidence", "must be a number between 0 and 1");
  }
  return std::optional<double>(c.get<double>());
}

json ConfidenceJson(const std::optional<double>& c) { return c ? json(*c) : json(nullptr); }

}  // namespace

Result<IntervalMarkup> ParseIntervalMarkup(std::string_view document, double duration_s) {
  const json j = json::parse(document, nullptr, false);
  if (j.is_discarded()) return Error(ErrorCode::kMalformedJson, "the intervals document is not JSON");
  CALIPER_RETURN_IF_ERROR(CheckKeys(j, "the document", {"intervals", "beats"}));
  for (const char* list : {"intervals", "beats"}) {
    if (j.contains(list) && !j[list].is_array()) return Invalid(list, "must be a list");
  }
  const json intervals = j.value("intervals", json::array());
  const json beats = j.value("beats", json::array());
  if (intervals.size() + beats.size() > kMaxIntervalMarks) {
    return Error(ErrorCode::kPayloadTooLarge, "at most 200000 intervals and beats in one document");
  }
  IntervalMarkup out;
  for (std::size_t i = 0; i < intervals.size(); ++i) {
    const std::string where = "intervals[" + std::to_string(i) + "]";
    const json& e = intervals[i];
    CALIPER_RETURN_IF_ERROR(CheckKeys(e, where, {"onset_s", "offset_s", "class", "confidence"}));
    IntervalMark m;
    CALIPER_ASSIGN_OR_RETURN(m.onset_s, Time(e, where, "onset_s", duration_s));
    CALIPER_ASSIGN_OR_RETURN(m.offset_s, Time(e, where, "offset_s", duration_s));
    if (m.offset_s <= m.onset_s) return Invalid(where, "must end (offset_s) after it starts (onset_s)");
    CALIPER_ASSIGN_OR_RETURN(m.label_class, Class(e, where));
    CALIPER_ASSIGN_OR_RETURN(m.confidence, Confidence(e, where));
    out.intervals.push_back(std::move(m));
  }
  for (std::size_t i = 0; i < beats.size(); ++i) {
    const std::string where = "beats[" + std::to_string(i) + "]";
    const json& e = beats[i];
    CALIPER_RETURN_IF_ERROR(CheckKeys(e, where, {"time_s", "class", "confidence"}));
    BeatMark m;
    CALIPER_ASSIGN_OR_RETURN(m.time_s, Time(e, where, "time_s", duration_s));
    CALIPER_ASSIGN_OR_RETURN(m.label_class, Class(e, where));
    CALIPER_ASSIGN_OR_RETURN(m.confidence, Confidence(e, where));
    out.beats.push_back(std::move(m));
  }
  return out;
}

std::string IntervalMarkupJson(const IntervalMarkup& markup) {
  json intervals = json::array();
  for (const auto& m : markup.intervals) {
    intervals.push_back({{"onset_s", m.onset_s}, {"offset_s", m.offset_s}, {"class", m.label_class},
                         {"confidence", ConfidenceJson(m.confidence)}});
  }
  json beats = json::array();
  for (const auto& m : markup.beats) {
    beats.push_back({{"time_s", m.time_s}, {"class", m.label_class}, {"confidence", ConfidenceJson(m.confidence)}});
  }
  return json{{"intervals", intervals}, {"beats", beats}}.dump();
}

}  // namespace caliper::core

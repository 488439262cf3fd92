// Whole-slide images (docs/pathology.md): the de-identified slide description that is a
// pathology item's content.

#include <nlohmann/json.hpp>

#include "caliper/app/app.h"

namespace caliper::app {
namespace {

using nlohmann::json;

json Optional(const std::optional<double>& v) { return v ? json(*v) : json(nullptr); }

std::optional<double> OptionalNumber(const json& j, const char* name) {
  if (!j.contains(name) || j[name].is_null()) return std::nullopt;
  return j[name].get<double>();
}

}  // namespace

std::string SlideInfoJson(const SlideInfo& s) {
  return json{{"width", s.width},
              {"height", s.height},
              {"mpp_x", Optional(s.mpp_x)},
              {"mpp_y", Optional(s.mpp_y)},
              {"objective_power", Optional(s.objective_power)},
              {"vendor", s.vendor},
              {"levels", s.levels},
              {"tile_size", s.tile_size},
              {"overlap", s.overlap},
              {"format", s.format},
              {"source_format", s.source_format}}
      .dump();
}

Result<SlideInfo> ParseSlideInfo(const std::string& json_text) {
  const json j = json::parse(json_text, nullptr, false);
  if (!j.is_object()) return Error(ErrorCode::kIntegrity, "the slide description is not a JSON object");
  try {
    SlideInfo s;
    s.width = j.at("width").get<std::int64_t>();
    s.height = j.at("height").get<std::int64_t>();
    s.mpp_x = OptionalNumber(j, "mpp_x");
    s.mpp_y = OptionalNumber(j, "mpp_y");
    s.objective_power = OptionalNumber(j, "objective_power");
    s.vendor = j.at("vendor").get<std::string>();
    s.levels = j.at("levels").get<int>();
    s.tile_size = j.at("tile_size").get<int>();
    s.overlap = j.at("overlap").get<int>();
    s.format = j.at("format").get<std::string>();
    s.source_format = j.value("source_format", "");
    if (s.width <= 0 || s.height <= 0 || s.tile_size <= 0 || s.overlap < 0 || s.levels <= 0) {
      return Error(ErrorCode::kIntegrity, "the slide description has impossible dimensions");
    }
    return s;
  } catch (const json::exception& e) {
    return Error(ErrorCode::kIntegrity, std::string("the slide description is malformed: ") + e.what());
  }
}

Result<SlideInfo> App::SlideOf(const core::Item& item) {
  if (item.data_type != core::DataType::kPathology || item.content_type != kSlideContentType) {
    return Error(ErrorCode::kNotFound, "the item holds no slide");
  }
  CALIPER_ASSIGN_OR_RETURN(std::string text, DecryptContent(item));
  return ParseSlideInfo(text);
}

}  // namespace caliper::app

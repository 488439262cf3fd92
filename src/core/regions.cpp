#include "caliper/core/regions.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>

#include <nlohmann/json.hpp>

namespace caliper::core {
namespace {

using nlohmann::json;

constexpr std::string_view kAnnoContext = "http://www.w3.org/ns/anno.jsonld";

Status Bad(const std::string& where, const std::string& what) {
  return Error(ErrorCode::kInvalidArgument, where + ": " + what);
}

// A finite number spelled in full (no trailing text).
std::optional<double> Number(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value)) {
    return std::nullopt;
  }
  return value;
}

// The "points" attribute of the first <polygon> element of an SVG fragment.
Result<std::vector<RegionPoint>> SvgPolygon(std::string_view svg) {
  const std::size_t polygon = svg.find("<polygon");
  if (polygon == std::string_view::npos) {
    return Error(ErrorCode::kInvalidArgument, "SvgSelector value holds no <polygon> element");
  }
  if (svg.find("<polygon", polygon + 1) != std::string_view::npos) {
    return Error(ErrorCode::kInvalidArgument, "SvgSelector value holds more than one <polygon>");
  }
  std::size_t at = svg.find("points=", polygon);
  const std::size_t close = svg.find('>', polygon);
  if (at == std::string_view::npos || at > close || at + 7 >= svg.size()) {
    return Error(ErrorCode::kInvalidArgument, "the <polygon> has no points attribute");
  }
  const char quote = svg[at + 7];
  if (quote != '"' && quote != '\'') {
    return Error(ErrorCode::kInvalidArgument, "the points attribute is not quoted");
  }
  const std::size_t end = svg.find(quote, at + 8);
  if (end == std::string_view::npos) return Error(ErrorCode::kInvalidArgument, "the points attribute is not closed");
  std::string_view list = svg.substr(at + 8, end - at - 8);
  // SVG 1.1 9.7.1: coordinate pairs separated by whitespace and/or commas.
  std::vector<double> numbers;
  std::size_t i = 0;
  while (i < list.size()) {
    while (i < list.size() && (list[i] == ' ' || list[i] == ',' || list[i] == '\n' || list[i] == '\t' ||
                               list[i] == '\r')) {
      ++i;
    }
    std::size_t j = i;
    while (j < list.size() && list[j] != ' ' && list[j] != ',' && list[j] != '\n' && list[j] != '\t' &&
           list[j] != '\r') {
      ++j;
    }
    if (j == i) break;
    auto v = Number(list.substr(i, j - i));
    if (!v) return Error(ErrorCode::kInvalidArgument, "'" + std::string(list.substr(i, j - i)) + "' in points is not a number");
    numbers.push_back(*v);
    if (numbers.size() > 2 * kMaxPolygonVertices) {
      return Error(ErrorCode::kInvalidArgument, "the polygon has more than " + std::to_string(kMaxPolygonVertices) +
                                                    " vertices");
    }
    i = j;
  }
  if (numbers.size() % 2 != 0) return Error(ErrorCode::kInvalidArgument, "points hold an odd count of numbers");
  std::vector<RegionPoint> points;
  for (std::size_t k = 0; k < numbers.size(); k += 2) points.push_back({numbers[k], numbers[k + 1]});
  if (points.size() < 3) return Error(ErrorCode::kInvalidArgument, "a polygon needs at least 3 vertices");
  return points;
}

// Media Fragments URI 1.0, 4.2.2 (spatial dimension): "xywh=[pixel:]x,y,w,h".
Result<std::vector<RegionPoint>> MediaFragment(std::string_view value, RegionShape& shape) {
  if (value.rfind("xywh=", 0) != 0) {
    return Error(ErrorCode::kInvalidArgument, "FragmentSelector value must start with xywh=");
  }
  value.remove_prefix(5);
  if (value.rfind("pixel:", 0) == 0) {
    value.remove_prefix(6);
  } else if (value.rfind("percent:", 0) == 0) {
    return Error(ErrorCode::kInvalidArgument, "percent: fragments are not accepted; give level-0 pixels");
  }
  double v[4] = {};
  for (int k = 0; k < 4; ++k) {
    const std::size_t comma = k < 3 ? value.find(',') : value.size();
    if (comma == std::string_view::npos) {
      return Error(ErrorCode::kInvalidArgument, "xywh needs four numbers x,y,w,h");
    }
    auto n = Number(value.substr(0, comma));
    if (!n) return Error(ErrorCode::kInvalidArgument, "xywh needs four numbers x,y,w,h");
    v[k] = *n;
    value.remove_prefix(std::min(value.size(), comma + 1));
  }
  const double x = v[0], y = v[1], w = v[2], h = v[3];
  if (w < 0 || h < 0) return Error(ErrorCode::kInvalidArgument, "xywh width and height must not be negative");
  if (w == 0 && h == 0) {
    shape = RegionShape::kPoint;
    return std::vector<RegionPoint>{{x, y}};
  }
  if (w == 0 || h == 0) {
    return Error(ErrorCode::kInvalidArgument, "a rectangle needs width and height above 0 (both 0 is a point)");
  }
  shape = RegionShape::kRectangle;
  return std::vector<RegionPoint>{{x, y}, {x + w, y}, {x + w, y + h}, {x, y + h}};
}

Status ParseBodies(const json& bodies, const std::string& where, Region& r) {
  const json list = bodies.is_array() ? bodies : json::array({bodies});
  bool classified = false;
  for (std::size_t k = 0; k < list.size(); ++k) {
    const std::string at = where + ": body[" + std::to_string(k) + "]";
    const json& b = list[k];
    if (!b.is_object()) return Bad(at, "must be an object");
    if (b.value("type", "") != "TextualBody") return Bad(at, "type must be TextualBody");
    if (!b.contains("purpose") || !b["purpose"].is_string()) return Bad(at, "purpose must be a string");
    const std::string purpose = b["purpose"];
    if (!b.contains("value")) return Bad(at, "has no value");
    const json& value = b["value"];
    if (purpose == "classifying") {
      if (classified) return Bad(at, "a second classifying body; one class per region");
      if (!value.is_string() || value.get<std::string>().empty()) return Bad(at, "the class must be a non-empty string");
      r.label_class = value;
      classified = true;
    } else if (purpose == "caliper:confidence") {
      std::optional<double> c;
      if (value.is_number()) c = value.get<double>();
      if (value.is_string()) c = Number(value.get<std::string>());
      if (!c || !std::isfinite(*c) || *c < 0 || *c > 1) return Bad(at, "confidence must be a number in [0, 1]");
      r.confidence = c;
    } else if (purpose == "caliper:borderline") {
      if (value.is_boolean()) {
        r.borderline = value.get<bool>();
      } else if (value == "true" || value == "false") {
        r.borderline = value == "true";
      } else {
        return Bad(at, "borderline must be true or false");
      }
    } else {
      return Bad(at, "purpose '" + purpose + "' is not one of classifying, caliper:confidence, caliper:borderline");
    }
  }
  if (!classified) return Bad(where, "no body with purpose classifying names the region's class");
  return Status::Ok();
}

}  // namespace

std::string_view ToString(RegionShape shape) {
  switch (shape) {
    case RegionShape::kPolygon: return "polygon";
    case RegionShape::kRectangle: return "rectangle";
    case RegionShape::kPoint: return "point";
  }
  return "polygon";
}

Result<std::vector<Region>> ParseRegions(std::string_view json_text, std::string_view item_id, double width,
                                         double height) {
  const json doc = json::parse(json_text, nullptr, false);
  if (doc.is_discarded()) return Error(ErrorCode::kInvalidArgument, "the regions are not valid JSON");
  if (!doc.is_object() || !doc.contains("annotations") || !doc["annotations"].is_array()) {
    return Error(ErrorCode::kInvalidArgument, "give the regions as {\"annotations\": [...]}");
  }
  const json& list = doc["annotations"];
  if (list.size() > kMaxRegions) {
    return Error(ErrorCode::kInvalidArgument, "at most " + std::to_string(kMaxRegions) + " annotations per item");
  }
  std::vector<Region> out;
  std::set<std::string> ids;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const json& a = list[i];
    std::string where = "annotations[" + std::to_string(i) + "]";
    if (!a.is_object()) return Bad(where, "must be an object");
    if (!a.contains("id") || !a["id"].is_string() || a["id"].get<std::string>().empty()) {
      return Bad(where, "id must be a non-empty string");
    }
    Region r;
    r.id = a["id"];
    where += " (id '" + r.id + "')";
    if (!ids.insert(r.id).second) return Bad(where, "the id is used twice");
    if (a.value("type", "") != "Annotation") return Bad(where, "type must be Annotation");
    if (a.contains("@context") && a["@context"] != kAnnoContext) {
      return Bad(where, "@context must be " + std::string(kAnnoContext));
    }
    if (!a.contains("body")) return Bad(where, "has no body");
    CALIPER_RETURN_IF_ERROR(ParseBodies(a["body"], where, r));
    if (!a.contains("target") || !a["target"].is_object()) return Bad(where, "target must be an object");
    const json& target = a["target"];
    if (!target.contains("source") || target["source"] != item_id) {
      return Bad(where, "target.source must be this item's id");
    }
    if (!target.contains("selector") || !target["selector"].is_object()) {
      return Bad(where, "target.selector must be an object");
    }
    const json& selector = target["selector"];
    const std::string type = selector.value("type", "");
    if (!selector.contains("value") || !selector["value"].is_string()) {
      return Bad(where, "target.selector.value must be a string");
    }
    const std::string value = selector["value"];
    Result<std::vector<RegionPoint>> points = std::vector<RegionPoint>{};
    if (type == "SvgSelector") {
      r.shape = RegionShape::kPolygon;
      points = SvgPolygon(value);
    } else if (type == "FragmentSelector") {
      points = MediaFragment(value, r.shape);
    } else {
      return Bad(where, "target.selector.type must be SvgSelector (polygon) or FragmentSelector (rectangle, point)");
    }
    if (!points.ok()) return Bad(where + ": target.selector", points.status().message());
    for (const RegionPoint& p : *points) {
      if (!(p.x >= 0 && p.x <= width && p.y >= 0 && p.y <= height)) {
        return Bad(where + ": target.selector", "point (" + std::to_string(p.x) + ", " + std::to_string(p.y) +
                                                    ") lies outside the slide (0..." + std::to_string(width) +
                                                    ", 0..." + std::to_string(height) + " level-0 pixels)");
      }
    }
    r.points = std::move(points).value();
    out.push_back(std::move(r));
  }
  return out;
}

double RegionArea(const Region& region) {
  double twice = 0;
  const auto& p = region.points;
  for (std::size_t i = 0; i < p.size(); ++i) {
    const RegionPoint& a = p[i];
    const RegionPoint& b = p[(i + 1) % p.size()];
    twice += a.x * b.y - b.x * a.y;
  }
  return std::abs(twice) / 2;
}

RegionBox RegionBounds(const Region& region) {
  if (region.points.empty()) return {};
  double x0 = region.points[0].x, x1 = x0, y0 = region.points[0].y, y1 = y0;
  for (const RegionPoint& p : region.points) {
    x0 = std::min(x0, p.x);
    x1 = std::max(x1, p.x);
    y0 = std::min(y0, p.y);
    y1 = std::max(y1, p.y);
  }
  return {x0, y0, x1 - x0, y1 - y0};
}

}  // namespace caliper::core

#pragma once

// Regions readers draw on a whole-slide image (docs/pathology.md): W3C Web Annotations (Web
// Annotation Data Model, W3C Recommendation 2017) as Annotorious' W3CImageFormat emits them,
// with Caliper's bodies for class, confidence and the borderline flag. Coordinates are
// level-0 pixels of the slide, x to the right and y down.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "caliper/common/status.h"

namespace caliper::core {

enum class RegionShape {
  kPolygon,    // SvgSelector <polygon points="x,y x,y ...">, at least 3 vertices
  kRectangle,  // FragmentSelector xywh=pixel:x,y,w,h with w > 0 and h > 0
  kPoint,      // FragmentSelector with w = h = 0
};
std::string_view ToString(RegionShape shape);  // "polygon" | "rectangle" | "point"

struct RegionPoint {
  double x = 0, y = 0;
};

struct Region {
  std::string id;           // the annotation's id, unique in its document
  std::string label_class;  // body with purpose "classifying"
  std::optional<double> confidence;  // body "caliper:confidence", in [0, 1]
  bool borderline = false;           // body "caliper:borderline"
  RegionShape shape = RegionShape::kPolygon;
  // Polygon: its vertices as drawn; rectangle: its corners (x,y), (x+w,y), (x+w,y+h), (x,y+h);
  // point: the one point.
  std::vector<RegionPoint> points;
};

// At most this many annotations in one document, and vertices in one polygon.
inline constexpr std::size_t kMaxRegions = 10'000;
inline constexpr std::size_t kMaxPolygonVertices = 100'000;

// Parses a regions document {"annotations": [annotation, ...]} and checks each annotation:
// "type" "Annotation", a non-empty "id" unique in the document, "@context" (when given) the
// W3C one, bodies TextualBody with purpose classifying (exactly one, a non-empty class id),
// caliper:confidence (a number or numeric string in [0, 1]) or caliper:borderline (true or
// false, as boolean or string), target.source equal to `item_id`, and a selector that parses
// with every coordinate finite and inside [0, width] x [0, height]. kInvalidArgument naming
// the annotation and field otherwise, e.g. "annotations[2] (id 'a7'): target.selector: ...".
// Whether the classes exist is the caller's check (it holds the guideline).
Result<std::vector<Region>> ParseRegions(std::string_view json_text, std::string_view item_id, double width,
                                         double height);

// Area (shoelace formula, level-0 pixels squared; 0 for a point) and bounding box.
double RegionArea(const Region& region);
struct RegionBox {
  double x = 0, y = 0, width = 0, height = 0;
};
RegionBox RegionBounds(const Region& region);

}  // namespace caliper::core

#include "exports/regions.h"

#include <nlohmann/json.hpp>

#include "caliper/core/regions.h"

namespace caliper::exports {
namespace {

using ordered_json = nlohmann::ordered_json;

ordered_json Ring(const core::Region& r) {
  ordered_json ring = ordered_json::array();
  for (const auto& p : r.points) ring.push_back({p.x, p.y});
  ring.push_back({r.points.front().x, r.points.front().y});  // GeoJSON rings close (RFC 7946 3.1.6)
  return ring;
}

ordered_json Confidence(const core::Region& r) { return r.confidence ? ordered_json(*r.confidence) : ordered_json(nullptr); }

}  // namespace

Status AddRegionFiles(const SnapshotInput& input, const std::vector<const SnapshotItem*>& items,
                      const std::map<std::string, std::string>& split_of, Snapshot& snapshot) {
  std::map<std::string, int> category_of;  // class id -> COCO category id (schema order, from 1)
  ordered_json categories = ordered_json::array();
  for (const auto& [id, name] : input.region_classes) {
    category_of[id] = static_cast<int>(category_of.size()) + 1;
    categories.push_back({{"id", category_of[id]}, {"name", id}, {"supercategory", "pathology"}, {"display", name}});
  }
  ordered_json images = ordered_json::array(), annotations = ordered_json::array();
  int image_id = 0, annotation_id = 0;
  for (const SnapshotItem* it : items) {
    if (it->regions.empty()) continue;
    ++image_id;
    const std::string split = split_of.count(it->item.patient_key) ? split_of.at(it->item.patient_key) : "";
    images.push_back({{"id", image_id},
                      {"file_name", it->item.id},
                      {"width", it->slide_width},
                      {"height", it->slide_height},
                      {"caliper_item_id", it->item.id},
                      {"split", split}});
    ordered_json features = ordered_json::array();
    for (const SnapshotRegions& reading : it->regions) {
      for (const core::Region& r : reading.regions) {
        const auto code_system = input.code_system_of.find(r.label_class);
        const auto code = input.code_of.find(r.label_class);
        ordered_json geometry = r.shape == core::RegionShape::kPoint
                                    ? ordered_json{{"type", "Point"}, {"coordinates", {r.points[0].x, r.points[0].y}}}
                                    : ordered_json{{"type", "Polygon"}, {"coordinates", ordered_json::array({Ring(r)})}};
        features.push_back(
            {{"type", "Feature"},
             {"id", reading.reader + "/" + r.id},
             {"geometry", geometry},
             {"properties",
              {{"objectType", "annotation"},
               {"classification", {{"name", r.label_class}}},
               {"reader", reading.reader},
               {"version", reading.version},
               {"annotation_id", r.id},
               {"shape", std::string(core::ToString(r.shape))},
               {"code_system", code_system == input.code_system_of.end() ? "" : code_system->second},
               {"code", code == input.code_of.end() ? "" : code->second},
               {"confidence", Confidence(r)},
               {"borderline", r.borderline},
               {"split", split}}}});
        if (r.shape == core::RegionShape::kPoint) continue;  // COCO segmentations have area
        auto category = category_of.find(r.label_class);
        if (category == category_of.end()) {
          return Error(ErrorCode::kInvalidArgument, "region class '" + r.label_class + "' of item " + it->item.id +
                                                        " is not a pathology class of the guideline");
        }
        ordered_json polygon = ordered_json::array();
        for (const auto& p : r.points) {
          polygon.push_back(p.x);
          polygon.push_back(p.y);
        }
        const core::RegionBox box = core::RegionBounds(r);
        annotations.push_back({{"id", ++annotation_id},
                               {"image_id", image_id},
                               {"category_id", category->second},
                               {"segmentation", ordered_json::array({polygon})},
                               {"area", core::RegionArea(r)},
                               {"bbox", {box.x, box.y, box.width, box.height}},
                               {"iscrowd", 0},
                               {"attributes",
                                {{"reader", reading.reader},
                                 {"annotation_id", r.id},
                                 {"confidence", Confidence(r)},
                                 {"borderline", r.borderline}}}});
      }
    }
    const ordered_json collection{{"type", "FeatureCollection"},
                                  {"properties", {{"item_id", it->item.id},
                                                  {"coordinates", "level-0 slide pixels, x right, y down"},
                                                  {"width", it->slide_width},
                                                  {"height", it->slide_height}}},
                                  {"features", features}};
    snapshot.files["regions/geojson/" + it->item.id + ".geojson"] = collection.dump(2) + "\n";
  }
  if (image_id == 0) return Status::Ok();
  const ordered_json coco{{"info", {{"description", "Caliper dataset " + input.dataset_id + " regions"},
                                    {"version", std::to_string(input.version)},
                                    {"date_created", input.created_at}}},
                          {"images", images},
                          {"annotations", annotations},
                          {"categories", categories}};
  snapshot.files["regions/coco.json"] = coco.dump(2) + "\n";
  return Status::Ok();
}

}  // namespace caliper::exports

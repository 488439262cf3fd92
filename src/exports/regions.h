#pragma once

// Readers' regions on slides in a snapshot as GeoJSON and COCO (docs/pathology.md, "Export").
// Internal to the exports part.

#include <map>
#include <string>
#include <vector>

#include "caliper/exports/snapshot.h"

namespace caliper::exports {

// Adds, for the slide items (in the order given, sorted by id) with regions, one
// regions/geojson/<item_id>.geojson (a FeatureCollection in level-0 pixel coordinates, one
// Feature per region: Polygon, or Point, with class, code, reader, confidence, borderline,
// split) and one regions/coco.json over all of them (images, polygon annotations with area and
// bbox, categories = input.region_classes; points are in GeoJSON only). Adds nothing when no
// item has a region. Errors: kInvalidArgument for a polygon or rectangle whose class is not a
// region class.
Status AddRegionFiles(const SnapshotInput& input, const std::vector<const SnapshotItem*>& items,
                      const std::map<std::string, std::string>& split_of, Snapshot& snapshot);

}  // namespace caliper::exports

#pragma once

// How far an item's submitted readings are apart, class by class, and which automatic
// adjudication triggers that sets off under a class's thresholds (docs/workflow.md,
// "Automatic adjudication"); the fused suggestion the adjudicator sees beside the readings.
// Pure functions; internal to app.

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "caliper/app/app.h"
#include "caliper/common/status.h"
#include "caliper/core/label_schema.h"
#include "caliper/core/types.h"
#include "caliper/quality/ratings.h"
#include "caliper/quality/volume.h"

namespace caliper::app {

// A reader's stored mask for one class: 1 where the mask holds the class's segment.
struct ClassMask {
  quality::Grid grid;
  std::vector<std::uint8_t> voxels;
};

// One submitted reading: its reader, the reader's own labels on the item, and the stored masks
// its mask evidence names, by class (where loaded: App::LoadNamedMasks).
struct ReadingLabels {
  ReadingLabels(std::string reader_id, std::vector<core::Annotation> reader_labels)
      : reader(std::move(reader_id)), labels(std::move(reader_labels)) {}
  std::string reader;
  std::vector<core::Annotation> labels;
  std::map<std::string, ClassMask> masks;
};

// Figures per class, ascending by class id. min_dice is the lowest Dice of two readings' masks:
// voxels evidence with voxels evidence, stored masks (ReadingLabels::masks) with stored masks.
// Evidence that does not parse is left out of its figure (ValidateAnnotation and the guideline
// checks catch it when the label is written).
std::vector<ClassDisagreement> Disagreement(const std::vector<ReadingLabels>& readings);

// A trigger that fired: reason is class_mismatch | grade_distance | dice_below | span_mismatch
// | low_confidence; detail is the figure against the threshold.
struct TriggerHit {
  std::string label_class;
  std::string reason;
  std::string detail;
};

// The triggers `figures` set off under the thresholds of `schema`'s classes (a class not in the
// schema sets off none). class_mismatch and span_mismatch need two readings or more.
std::vector<TriggerHit> AdjudicationTriggers(const core::LabelSchema& schema,
                                             const std::vector<ClassDisagreement>& figures);

// Dawid–Skene (quality::DawidSkene) posterior that the first item of `presence` has the class,
// where `presence` holds every reading of the class in the project as value "present" or
// "absent" (the item of interest's ratings first). Unset when `presence` is empty.
Result<std::optional<double>> PresencePosterior(const std::vector<quality::Rating>& presence);

// The same fit, read for every item of `presence`: item id -> posterior that it has the class.
Result<std::map<std::string, double>> PresencePosteriors(const std::vector<quality::Rating>& presence);

}  // namespace caliper::app

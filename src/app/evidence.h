#pragma once

// Comparing two labels' evidence: the shapes the workflow understands inside evidence.data
// (docs/workflow.md, "Evidence shapes"), and the distances the pre-label statistics and the
// adjudication triggers use. Internal to app.
//
//   span    {"start": int, "end": int}             half-open character offsets, end > start
//   voxels  {"dims": [x, y, z], "spacing_mm": [sx, sy, sz],
//            "runs": [[start, length], ...]}       foreground voxels as runs of linear
//                                                  indices (x fastest, then y, then z)

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "caliper/common/status.h"
#include "caliper/core/types.h"
#include "caliper/quality/volume.h"

namespace caliper::app {

struct MaskEvidence {
  quality::Grid grid;
  std::vector<std::uint8_t> voxels;  // 0/1, grid.voxel_count() of them
};

// kInvalidArgument naming the field when `evidence_json` is not the voxels shape above (runs
// out of range or overlapping included).
Result<MaskEvidence> ParseMaskEvidence(const std::string& evidence_json);

struct SpanEvidence {
  std::int64_t start = 0;
  std::int64_t end = 0;
};
Result<SpanEvidence> ParseSpanEvidence(const std::string& evidence_json);

// Dice of two voxels evidences (caliper::quality::MaskOverlap); errors as the parsers and
// for different grids.
Result<double> EvidenceDice(const std::string& a_json, const std::string& b_json);

// Intersection over union of two spans' offsets (0 when disjoint).
double SpanOverlap(const SpanEvidence& a, const SpanEvidence& b);

// How far `label` moved from `suggestion`, 0..1: 1 when the class or code differs; otherwise,
// for two masks 1 - Dice, for two spans 1 - overlap; for other evidence 0 when the evidence
// data is the same JSON and 1 when it was replaced. Unparseable masks or spans count as
// replaced (1). `stored`: for a label resting on a stored mask (evidence kind "mask"), the
// class's voxels in that mask version, compared with a voxels suggestion as two masks (on the
// stored mask's grid; a suggestion of other dimensions counts as replaced).
double CorrectionSize(const core::Prelabel& suggestion, const core::Annotation& label,
                      const std::optional<quality::MaskView>& stored = std::nullopt);

}  // namespace caliper::app

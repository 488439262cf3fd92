#pragma once

// Agreement between two readers who label a waveform record with intervals (onset, offset,
// class) and beats (time, class). No I/O. Definitions (docs/waveforms.md):
//
// Intervals. Two intervals of the SAME class match when their temporal IoU,
// |a ∩ b| / |a ∪ b| (lengths in seconds), is at least `iou_threshold` (default 0.5). Matching is
// one-to-one and greedy: candidate pairs in descending IoU (ties: earlier onset of a, then of b)
// are taken while both are free. Overlap F1 = 2 * matched / (|A| + |B|); both readers with no
// intervals: 1; exactly one: 0. For matched pairs, the onset error |onset_a - onset_b| and the
// offset error |offset_a - offset_b| in milliseconds (mean and max).
//
// Beats. Two beat labels of the same class match when they lie within `beat_tolerance_s`
// (default 0.150 s, the beat-by-beat match window of ANSI/AAMI EC57), one-to-one, greedy in
// ascending time difference; beat F1 as above, and the mean absolute timing error
// of matched beats in ms.

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "caliper/common/status.h"

namespace caliper::quality {

struct TimeInterval {
  double onset_s = 0;
  double offset_s = 0;  // > onset_s
  std::string label;
};

struct BeatLabel {
  double time_s = 0;
  std::string label;
};

struct IntervalAgreementOptions {
  double iou_threshold = 0.5;     // (0, 1]
  double beat_tolerance_s = 0.150;  // > 0
};

struct ClassIntervalAgreement {
  std::string label;
  std::size_t a = 0, b = 0, matched = 0;
  double f1 = 0;
};

struct IntervalAgreement {
  std::size_t a_intervals = 0, b_intervals = 0, matched_intervals = 0;
  double interval_f1 = 0;
  std::optional<double> mean_onset_error_ms, mean_offset_error_ms, max_onset_error_ms, max_offset_error_ms;
  std::vector<ClassIntervalAgreement> per_class;  // every class either reader used, sorted
  std::size_t a_beats = 0, b_beats = 0, matched_beats = 0;
  double beat_f1 = 0;
  std::optional<double> mean_beat_error_ms;
};

// Errors: kInvalidArgument for an interval with offset <= onset or a non-finite time, or
// options outside their ranges.
Result<IntervalAgreement> CompareIntervals(std::span<const TimeInterval> a, std::span<const TimeInterval> b,
                                           std::span<const BeatLabel> a_beats, std::span<const BeatLabel> b_beats,
                                           const IntervalAgreementOptions& options = {});

}  // namespace caliper::quality

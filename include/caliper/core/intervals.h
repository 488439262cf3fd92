#pragma once

// A reader's interval and beat labels on a waveform item (docs/waveforms.md), as
// PUT /api/v1/items/{item_id}/intervals sends them:
//   {"intervals": [{"onset_s", "offset_s", "class", "confidence"}],
//    "beats": [{"time_s", "class", "confidence"}]}
// Times are seconds from the record's first sample. No I/O.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "caliper/common/status.h"

namespace caliper::core {

struct IntervalMark {
  double onset_s = 0;
  double offset_s = 0;
  std::string label_class;
  std::optional<double> confidence;  // [0, 1]
};

struct BeatMark {
  double time_s = 0;
  std::string label_class;
  std::optional<double> confidence;  // [0, 1]
};

struct IntervalMarkup {
  std::vector<IntervalMark> intervals;
  std::vector<BeatMark> beats;
};

// At most this many intervals plus beats in one document.
inline constexpr std::size_t kMaxIntervalMarks = 200'000;

// Parses a document strictly: both lists optional, no other field; every interval needs
// 0 <= onset_s < offset_s <= duration_s, every beat 0 <= time_s <= duration_s; "class" a
// non-empty string; "confidence" absent, null or a number in [0, 1]. kInvalidArgument naming
// the entry ("intervals[2].offset_s ...") otherwise.
Result<IntervalMarkup> ParseIntervalMarkup(std::string_view document, double duration_s);

// {"intervals": [...], "beats": [...]} with the fields above (confidence null when absent).
std::string IntervalMarkupJson(const IntervalMarkup& markup);

}  // namespace caliper::core

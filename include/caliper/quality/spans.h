#pragma once

// Agreement between readers who mark text spans (start, end, label), e.g. findings in a
// clinical note. Offsets are half-open [start, end) in whatever unit the caller uses
// (characters or bytes), per document.
//
// Exact F1: a span matches an identical span (same document, start, end and label) of the other
// reader, one to one; F1 = 2 * matches / (|A| + |B|).
// Overlap F1 (lenient): a span of A is found when some span of B in the same document with the
// same label overlaps it (shares at least one offset), and vice versa; with R = found(A) / |A|
// and P = found(B) / |B|, F1 = 2PR / (P + R) (0 when both are 0).
// Both readers with no spans: F1 = 1; exactly one with none: F1 = 0.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "caliper/common/status.h"

namespace caliper::quality {

struct TextSpan {
  std::string document;
  std::int64_t start = 0;
  std::int64_t end = 0;  // exclusive
  std::string label;
};

struct SpanAgreement {
  double exact_f1 = 0;
  double overlap_f1 = 0;
  std::size_t a_spans = 0;
  std::size_t b_spans = 0;
  std::size_t exact_matches = 0;
};

// Errors: kInvalidArgument for a span with end <= start or a negative start.
Result<SpanAgreement> SpanF1(std::span<const TextSpan> a, std::span<const TextSpan> b);

struct PairwiseSpanAgreement {
  double mean_exact_f1 = 0;
  double mean_overlap_f1 = 0;
  std::size_t pairs = 0;
};

// The mean of SpanF1 over every unordered pair of readers. Errors: as SpanF1;
// kInvalidArgument with fewer than two readers.
Result<PairwiseSpanAgreement> MeanPairwiseSpanF1(const std::vector<std::vector<TextSpan>>& readers);

}  // namespace caliper::quality

#include "caliper/quality/spans.h"

#include <algorithm>
#include <map>
#include <tuple>

namespace caliper::quality {
namespace {

Status Validate(std::span<const TextSpan> spans) {
  for (const auto& s : spans) {
    if (s.start < 0 || s.end <= s.start) {
      return Error(ErrorCode::kInvalidArgument, "span [" + std::to_string(s.start) + ", " +
                                                    std::to_string(s.end) + ") in document '" +
                                                    s.document + "' is empty or negative");
    }
  }
  return Status::Ok();
}

using Key = std::tuple<std::string, std::int64_t, std::int64_t, std::string>;

// Spans grouped by (document, label), sorted by start, for overlap queries.
using Index = std::map<std::pair<std::string, std::string>, std::vector<const TextSpan*>>;

Index MakeIndex(std::span<const TextSpan> spans) {
  Index index;
  for (const auto& s : spans) index[{s.document, s.label}].push_back(&s);
  for (auto& [key, list] : index) {
    std::sort(list.begin(), list.end(), [](auto* x, auto* y) { return x->start < y->start; });
  }
  return index;
}

// How many spans of `spans` overlap some span of the same document and label in `other`.
std::size_t CountFound(std::span<const TextSpan> spans, const Index& other) {
  std::size_t found = 0;
  for (const auto& s : spans) {
    auto it = other.find({s.document, s.label});
    if (it == other.end()) continue;
    // Candidates start before s.end; one of them must end after s.start.
    const auto& list = it->second;
    auto stop = std::lower_bound(list.begin(), list.end(), s.end,
                                 [](const TextSpan* x, std::int64_t e) { return x->start < e; });
    found += std::any_of(list.begin(), stop, [&](const TextSpan* x) { return x->end > s.start; });
  }
  return found;
}

}  // namespace

Result<SpanAgreement> SpanF1(std::span<const TextSpan> a, std::span<const TextSpan> b) {
  CALIPER_RETURN_IF_ERROR(Validate(a));
  CALIPER_RETURN_IF_ERROR(Validate(b));
  SpanAgreement r;
  r.a_spans = a.size();
  r.b_spans = b.size();
  if (a.empty() && b.empty()) {
    r.exact_f1 = r.overlap_f1 = 1.0;
    return r;
  }
  if (a.empty() || b.empty()) return r;

  std::map<Key, std::size_t> unmatched;  // B's spans, as a multiset
  for (const auto& s : b) ++unmatched[{s.document, s.start, s.end, s.label}];
  for (const auto& s : a) {
    auto it = unmatched.find({s.document, s.start, s.end, s.label});
    if (it != unmatched.end() && it->second > 0) {
      --it->second;
      ++r.exact_matches;
    }
  }
  r.exact_f1 = 2.0 * r.exact_matches / static_cast<double>(a.size() + b.size());

  const double recall = static_cast<double>(CountFound(a, MakeIndex(b))) / a.size();
  const double precision = static_cast<double>(CountFound(b, MakeIndex(a))) / b.size();
  r.overlap_f1 = precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0.0;
  return r;
}

Result<PairwiseSpanAgreement> MeanPairwiseSpanF1(
    const std::vector<std::vector<TextSpan>>& readers) {
  if (readers.size() < 2) {
    return Error(ErrorCode::kInvalidArgument, "pairwise span agreement needs two readers");
  }
  PairwiseSpanAgreement r;
  for (std::size_t i = 0; i < readers.size(); ++i) {
    for (std::size_t j = i + 1; j < readers.size(); ++j) {
      CALIPER_ASSIGN_OR_RETURN(SpanAgreement pair, SpanF1(readers[i], readers[j]));
      r.mean_exact_f1 += pair.exact_f1;
      r.mean_overlap_f1 += pair.overlap_f1;
      ++r.pairs;
    }
  }
  r.mean_exact_f1 /= r.pairs;
  r.mean_overlap_f1 /= r.pairs;
  return r;
}

}  // namespace caliper::quality

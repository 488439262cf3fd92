#include "caliper/quality/intervals.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <tuple>

namespace caliper::quality {
namespace {

double F1(std::size_t matched, std::size_t a, std::size_t b) {
  if (a + b == 0) return 1.0;
  return 2.0 * static_cast<double>(matched) / static_cast<double>(a + b);
}

Status CheckIntervals(std::span<const TimeInterval> v, const char* who) {
  for (const TimeInterval& i : v) {
    if (!std::isfinite(i.onset_s) || !std::isfinite(i.offset_s) || i.offset_s <= i.onset_s) {
      return Error(ErrorCode::kInvalidArgument, std::string("an interval of reader ") + who +
                                                    " does not end after it starts");
    }
  }
  return Status::Ok();
}

double Iou(const TimeInterval& a, const TimeInterval& b) {
  const double inter = std::min(a.offset_s, b.offset_s) - std::max(a.onset_s, b.onset_s);
  if (inter <= 0) return 0;
  const double uni = (a.offset_s - a.onset_s) + (b.offset_s - b.onset_s) - inter;
  return inter / uni;
}

}  // namespace

Result<IntervalAgreement> CompareIntervals(std::span<const TimeInterval> a, std::span<const TimeInterval> b,
                                           std::span<const BeatLabel> a_beats, std::span<const BeatLabel> b_beats,
                                           const IntervalAgreementOptions& options) {
  if (!(options.iou_threshold > 0 && options.iou_threshold <= 1) || !(options.beat_tolerance_s > 0)) {
    return Error(ErrorCode::kInvalidArgument, "the IoU threshold must be in (0, 1] and the beat tolerance positive");
  }
  CALIPER_RETURN_IF_ERROR(CheckIntervals(a, "A"));
  CALIPER_RETURN_IF_ERROR(CheckIntervals(b, "B"));
  for (const auto* beats : {&a_beats, &b_beats}) {
    for (const BeatLabel& x : *beats) {
      if (!std::isfinite(x.time_s)) return Error(ErrorCode::kInvalidArgument, "a beat time is not a number");
    }
  }
  IntervalAgreement out;
  out.a_intervals = a.size();
  out.b_intervals = b.size();

  // Candidate pairs of one class at or above the threshold, best first.
  struct Pair {
    double iou;
    std::size_t i, j;
  };
  std::vector<Pair> pairs;
  for (std::size_t i = 0; i < a.size(); ++i) {
    for (std::size_t j = 0; j < b.size(); ++j) {
      if (a[i].label != b[j].label) continue;
      const double iou = Iou(a[i], b[j]);
      if (iou >= options.iou_threshold) pairs.push_back({iou, i, j});
    }
  }
  std::sort(pairs.begin(), pairs.end(), [&](const Pair& x, const Pair& y) {
    return std::make_tuple(-x.iou, a[x.i].onset_s, b[x.j].onset_s) < std::make_tuple(-y.iou, a[y.i].onset_s, b[y.j].onset_s);
  });
  std::vector<bool> used_a(a.size()), used_b(b.size());
  std::map<std::string, ClassIntervalAgreement> classes;
  for (const auto& x : a) ++classes[x.label].a;
  for (const auto& x : b) ++classes[x.label].b;
  double onset_sum = 0, offset_sum = 0, onset_max = 0, offset_max = 0;
  for (const Pair& p : pairs) {
    if (used_a[p.i] || used_b[p.j]) continue;
    used_a[p.i] = used_b[p.j] = true;
    ++out.matched_intervals;
    ++classes[a[p.i].label].matched;
    const double on = std::abs(a[p.i].onset_s - b[p.j].onset_s) * 1000;
    const double off = std::abs(a[p.i].offset_s - b[p.j].offset_s) * 1000;
    onset_sum += on;
    offset_sum += off;
    onset_max = std::max(onset_max, on);
    offset_max = std::max(offset_max, off);
  }
  out.interval_f1 = F1(out.matched_intervals, a.size(), b.size());
  if (out.matched_intervals > 0) {
    const auto n = static_cast<double>(out.matched_intervals);
    out.mean_onset_error_ms = onset_sum / n;
    out.mean_offset_error_ms = offset_sum / n;
    out.max_onset_error_ms = onset_max;
    out.max_offset_error_ms = offset_max;
  }
  for (auto& [label, c] : classes) {
    c.label = label;
    c.f1 = F1(c.matched, c.a, c.b);
    out.per_class.push_back(c);
  }

  out.a_beats = a_beats.size();
  out.b_beats = b_beats.size();
  struct BeatPair {
    double dt;
    std::size_t i, j;
  };
  // B's beats by time, so each beat of A looks only at those within the tolerance.
  std::vector<std::size_t> b_order(b_beats.size());
  for (std::size_t j = 0; j < b_order.size(); ++j) b_order[j] = j;
  std::sort(b_order.begin(), b_order.end(), [&](std::size_t x, std::size_t y) { return b_beats[x].time_s < b_beats[y].time_s; });
  std::vector<BeatPair> beat_pairs;
  for (std::size_t i = 0; i < a_beats.size(); ++i) {
    const double t = a_beats[i].time_s;
    auto it = std::lower_bound(b_order.begin(), b_order.end(), t - options.beat_tolerance_s,
                               [&](std::size_t j, double v) { return b_beats[j].time_s < v; });
    for (; it != b_order.end() && b_beats[*it].time_s <= t + options.beat_tolerance_s; ++it) {
      if (a_beats[i].label == b_beats[*it].label) beat_pairs.push_back({std::abs(t - b_beats[*it].time_s), i, *it});
    }
  }
  std::sort(beat_pairs.begin(), beat_pairs.end(), [](const BeatPair& x, const BeatPair& y) {
    return std::tie(x.dt, x.i, x.j) < std::tie(y.dt, y.i, y.j);
  });
  std::vector<bool> beat_a(a_beats.size()), beat_b(b_beats.size());
  double dt_sum = 0;
  for (const BeatPair& p : beat_pairs) {
    if (beat_a[p.i] || beat_b[p.j]) continue;
    beat_a[p.i] = beat_b[p.j] = true;
    ++out.matched_beats;
    dt_sum += p.dt * 1000;
  }
  out.beat_f1 = F1(out.matched_beats, a_beats.size(), b_beats.size());
  if (out.matched_beats > 0) out.mean_beat_error_ms = dt_sum / static_cast<double>(out.matched_beats);
  return out;
}

}  // namespace caliper::quality

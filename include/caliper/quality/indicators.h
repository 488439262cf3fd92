#pragma once

// Project indicators as proportions: label rejection rate, adjudication rate, error rate by
// modality or class, pre-label acceptance per model version, each with a Wilson score 95%
// interval (Wilson 1927; Agresti & Coull 1998 recommend it over the Wald interval for small n
// and rates near 0 or 1), overall, per group and per time bucket.
//
// The caller turns its records into Outcome values (one per review, per item, per pre-label
// decision ...); this file only counts. No I/O; thread-compatible.

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "caliper/common/status.h"

namespace caliper::quality {

// One observation: at `time` (Unix seconds, UTC), in `group` (a class, modality, model
// version; may be empty), the event of interest happened (`hit`) or not.
struct Outcome {
  std::int64_t time = 0;
  std::string group;
  bool hit = false;
};

struct Proportion {
  std::int64_t n = 0;
  std::int64_t hits = 0;
  double rate = 0;  // hits / n; NaN when n = 0
  double lo = 0;    // Wilson score interval at the given confidence (z = 1.959964 for 95%)
  double hi = 0;
};

// Errors: kInvalidArgument unless 0 <= hits <= n. With n = 0 rate, lo and hi are NaN.
Result<Proportion> WilsonProportion(std::int64_t hits, std::int64_t n, double z = 1.959963984540054);

struct GroupRate {
  std::string group;
  Proportion rate;
};

struct RatePoint {
  std::int64_t bucket_start = 0;  // Unix seconds, a multiple of the bucket width
  Proportion rate;
};

struct RateReport {
  Proportion overall;
  std::vector<GroupRate> by_group;  // sorted by group name
  std::vector<RatePoint> over_time;  // ascending, only buckets with observations
};

// Errors: kInvalidArgument when bucket_seconds < 1. Times before 1970 are bucketed by floor.
Result<RateReport> SummariseOutcomes(std::span<const Outcome> outcomes,
                                     std::int64_t bucket_seconds = 7 * 24 * 3600);

}  // namespace caliper::quality

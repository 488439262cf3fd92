#include "caliper/quality/indicators.h"

#include <cmath>
#include <limits>
#include <map>

namespace caliper::quality {

Result<Proportion> WilsonProportion(std::int64_t hits, std::int64_t n, double z) {
  if (n < 0 || hits < 0 || hits > n) {
    return Error(ErrorCode::kInvalidArgument, "a proportion needs 0 <= hits <= n");
  }
  Proportion p{.n = n, .hits = hits};
  if (n == 0) {
    p.rate = p.lo = p.hi = std::numeric_limits<double>::quiet_NaN();
    return p;
  }
  const double nn = static_cast<double>(n);
  const double phat = static_cast<double>(hits) / nn;
  const double z2 = z * z;
  const double centre = (phat + z2 / (2 * nn)) / (1 + z2 / nn);
  const double half = z / (1 + z2 / nn) * std::sqrt(phat * (1 - phat) / nn + z2 / (4 * nn * nn));
  p.rate = phat;
  p.lo = std::max(0.0, centre - half);
  p.hi = std::min(1.0, centre + half);
  return p;
}

Result<RateReport> SummariseOutcomes(std::span<const Outcome> outcomes,
                                     std::int64_t bucket_seconds) {
  if (bucket_seconds < 1) {
    return Error(ErrorCode::kInvalidArgument, "the time bucket must be at least one second");
  }
  struct Count {
    std::int64_t n = 0;
    std::int64_t hits = 0;
    void Add(bool hit) {
      ++n;
      hits += hit ? 1 : 0;
    }
  };
  Count overall;
  std::map<std::string, Count> groups;
  std::map<std::int64_t, Count> buckets;
  for (const auto& o : outcomes) {
    overall.Add(o.hit);
    groups[o.group].Add(o.hit);
    std::int64_t start = o.time / bucket_seconds * bucket_seconds;
    if (o.time < 0 && o.time % bucket_seconds != 0) start -= bucket_seconds;
    buckets[start].Add(o.hit);
  }
  RateReport report;
  CALIPER_ASSIGN_OR_RETURN(report.overall, WilsonProportion(overall.hits, overall.n));
  for (const auto& [group, c] : groups) {
    CALIPER_ASSIGN_OR_RETURN(auto rate, WilsonProportion(c.hits, c.n));
    report.by_group.push_back({group, rate});
  }
  for (const auto& [start, c] : buckets) {
    CALIPER_ASSIGN_OR_RETURN(auto rate, WilsonProportion(c.hits, c.n));
    report.over_time.push_back({start, rate});
  }
  return report;
}

}  // namespace caliper::quality

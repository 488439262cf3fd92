#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "caliper/common/status.h"
#include "caliper/deid/text_deid.h"

struct hs_database;
struct hs_scratch;

// The Hyperscan bridge: the only code that includes <hs/hs.h>. One database of every
// identifier pattern scans the text once for match ends (block mode); each pattern's own
// database, reversed, then reads back from each end to its leftmost start (patterns.cpp).
namespace caliper::deid::text {

// What a pattern finds; kinds other than kIdentifier are checked or completed by the
// detector before they become PHI.
enum class PatternKind {
  kIdentifier,  // the match is PHI of `type` as it stands
  kNumericDate, // a date of digits: checked for a valid month and day
  kAge,         // an age phrase: PHI only when its number is over 89
  kZip,         // five digits (+4): PHI as ZIP only after a state or a "ZIP" label
  kShortDate,   // month/day without a year ("3/14"): a date only after "on", "since", ...
};

// What follows a URL pattern's match and belongs to it, read after the scan (patterns.cpp).
enum class UrlTail {
  kNone,
  kPath,  // when a '/' follows: the path, up to whitespace or one of <>"'()[]{}
  kRest,  // up to whitespace or one of <>"'()[]{}
};

struct PatternMatch {
  std::size_t begin = 0;
  std::size_t end = 0;
  unsigned id = 0;
};

struct PatternInfo {
  PatternKind kind;
  PhiType type;
  int priority;
  UrlTail tail = UrlTail::kNone;
};

// `regex` read backwards (literals, escapes, classes, groups, alternation and quantifiers):
// "ab(?:c|de)?\\d{2}" gives "\\d{2}(?:c|ed)?ba". Errors: kInternal for other syntax.
Result<std::string> ReversedRegex(std::string_view regex);

// Every end of every match of `regexes` (caseless) in `text`, as (end, index of the regex), in
// Hyperscan's order: for tests that check a hand-written matcher against its regex.
// Errors: kInternal when a regex does not compile or the scan fails.
Result<std::vector<std::pair<std::size_t, unsigned>>> RegexEnds(const std::vector<std::string>& regexes,
                                                               std::string_view text);

// The pattern databases compiled and serialised, as the build writes them
// (caliper_pattern_db_gen): a binary loads them at start instead of compiling, which takes some
// 0.3 s (patterns.cpp). Errors: kInternal naming the pattern Hyperscan refused.
Result<std::string> CompilePatternDatabases();
// The serialised databases this binary was built with (pattern_db_built.cpp; none in the
// generator itself).
std::string_view BuiltPatternDatabases();
// Whether `blob` would be loaded: made by this Hyperscan from exactly these patterns, and taken by
// Hyperscan for this CPU. Errors: kInvalidArgument saying what does not fit.
Status CheckPatternDatabases(std::string_view blob);
// Whether this process loaded the built databases (false: it compiled its own).
bool PatternDatabasesFromBuild();

class PatternScanner {
 public:
  // Errors: kInternal naming the pattern Hyperscan refused.
  static Result<std::unique_ptr<PatternScanner>> Create();
  ~PatternScanner();
  PatternScanner(const PatternScanner&) = delete;
  PatternScanner& operator=(const PatternScanner&) = delete;

  // Appends the matches in `text` to `out`: for each pattern and leftmost start, the longest
  // match (so repeats do not multiply the output). Errors: kInternal if the scan fails.
  Status Scan(std::string_view text, std::vector<PatternMatch>& out);
  const PatternInfo& Info(unsigned id) const { return infos_[id]; }

  struct End {
    std::size_t end;
    unsigned id;
  };

 private:
  static constexpr std::size_t kNone = std::size_t(-1);
  PatternScanner() = default;
  Status FindStarts(std::string_view text, unsigned id);

  hs_scratch* scratch_ = nullptr;  // for every database (shared, compiled once per process)
  std::vector<PatternInfo> infos_;
  // Working memory of Scan, kept between calls.
  std::vector<End> ends_;                            // every match end, in Hyperscan's order
  std::vector<std::vector<std::size_t>> by_pattern_; // per pattern, its ends in increasing order
  std::vector<std::vector<std::size_t>> starts_;     // per pattern, the start of each end
  std::vector<std::size_t> last_;                    // per pattern, its last match in the output
  std::string reversed_;        // " " + the text backwards (its first text.size() + 1 bytes)
  bool reversed_ready_ = false; // reversed_ holds this Scan's text
};

}  // namespace caliper::deid::text

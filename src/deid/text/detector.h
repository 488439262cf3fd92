#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "caliper/common/status.h"
#include "caliper/deid/text_deid.h"
#include "deid/text/string_table.h"

// The PHI detector behind TextDeidentifier: Hyperscan patterns for the regular identifiers,
// a word pass with dictionaries, context cues and a score for names and places, labels that
// type the number after them, then overlap resolution. Offsets here are BYTES.
namespace caliper::deid::text {

struct ByteSpan {
  std::size_t begin = 0;
  std::size_t end = 0;
  PhiType type = PhiType::kOther;
  int priority = 0;  // breaks ties between spans of equal length
};

class PatternScanner;  // patterns.h
struct LabelEnd;       // labels.h

// The label phrases in `s` (labels.h) as the detector finds them, from the words of the text:
// for tests, which check them against the phrases read as regexes.
std::vector<LabelEnd> LabelsIn(std::string_view s);


// Not thread-safe (owns the scanner scratch). One per thread.
class Detector {
 public:
  static Result<std::unique_ptr<Detector>> Create(const std::vector<std::string>& clinicians);
  ~Detector();

  // PHI in valid UTF-8 `text`, sorted, non-overlapping, byte offsets. Errors: kInternal when
  // the pattern scan fails.
  Result<std::vector<ByteSpan>> Detect(std::string_view text);

  struct Scratch;  // detector.cpp

 private:
  explicit Detector(std::unique_ptr<PatternScanner> scanner);
  // Appends the candidate spans of one segment (at byte `base` of the text) to the scratch's.
  // `original` is `text` before Unwrapped blanked its soft line breaks (the same length).
  Status DetectSegment(std::string_view text, std::string_view original, std::size_t base);
  // OCR letter-spacing in one segment ("D O B : 0 4 / 1 2 / 1 9 6 0"): each run of single
  // characters is detected again with its spaces taken out, and what is found there is resolved
  // with `out[first..]` (the segment's resolved spans), keeping `out` sorted.
  Status DetectSpacedRuns(std::string_view segment, std::size_t base, std::vector<ByteSpan>& out,
                          std::size_t first);

  std::unique_ptr<PatternScanner> scanner_;
  std::vector<std::vector<std::string>> clinicians_;  // lower-case tokens of each name
  StringSet known_names_;                             // per Detect call: propagated names
  std::unique_ptr<Scratch> scratch_;
};

}  // namespace caliper::deid::text

#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "caliper/common/status.h"
#include "caliper/core/rules.h"
#include "caliper/core/types.h"

// ConText pre-labelling of clinical text (Harkema et al. 2009, "ConText: an algorithm for
// determining negation, experiencer, and temporal status from clinical reports", J Biomed
// Inform 42:839-851): dictionary concept spotting from a schema's term lists, then ConText
// triggers with direction and scope termination decide each concept's assertion, temporality
// and experiencer. The trigger list is data (src/prelabel/context_rules.tsv, docs/adr/0006);
// approach and measured figures: docs/context.md.
// The output is pre-labels for readers to accept, correct or reject, never final labels.
namespace caliper::prelabel {

// The source and version written on every pre-label; bumps when rules or algorithm change.
inline constexpr std::string_view kContextSource = "context@1";

// The label values are core's, so pre-labels become annotations without translation.
using core::Experiencer;
using core::Temporality;

// "present", "absent", "possible", ... / "current", "historical", "future" / "patient", ...
inline std::string_view AssertionName(core::Assertion a) { return core::ToString(a); }
inline std::string_view TemporalityName(Temporality t) { return core::ToString(t); }
inline std::string_view ExperiencerName(Experiencer e) { return core::ToString(e); }

// One class of the schema and the terms that name it ("pneumonia", "pulmonary embolism").
// Terms match case-insensitively (ASCII letters), on token boundaries, across any whitespace.
struct ConceptTerms {
  std::string label_class;
  std::vector<std::string> terms;
};

// One pre-label: [start, end) in Unicode code points of the input text.
struct PreLabel {
  std::string label_class;
  std::size_t start = 0;
  std::size_t end = 0;
  core::Assertion assertion = core::Assertion::kPresent;
  Temporality temporality = Temporality::kCurrent;
  Experiencer experiencer = Experiencer::kPatient;
  std::string source{kContextSource};
};

struct ContextOptions {
  // A trigger's scope ends at a termination term, at the end of the sentence, or after this
  // many word tokens, whichever comes first.
  std::size_t max_scope_tokens = 8;
};

// Immutable after Create; Label is const and safe to call from several threads.
class ContextLabeller {
 public:
  // Builds the matcher for `concepts` with the built-in rule set. Errors: kInvalidArgument
  // when a class has no name or a term has no word character.
  static Result<std::unique_ptr<ContextLabeller>> Create(std::vector<ConceptTerms> concepts,
                                                         ContextOptions options = {});
  virtual ~ContextLabeller() = default;

  // Pre-labels for every concept mention in `text` (UTF-8), sorted by start, non-overlapping
  // (the longest term wins). Errors: kInvalidArgument for invalid UTF-8.
  virtual Result<std::vector<PreLabel>> Label(std::string_view text) const = 0;
};

}  // namespace caliper::prelabel

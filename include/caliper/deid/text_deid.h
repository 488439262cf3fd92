#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "caliper/common/status.h"
#include "caliper/core/phi.h"

// De-identification of clinical text under HIPAA Safe Harbor (45 CFR 164.514(b)(2)):
// detection of the identifiers that can appear in free text and their replacement by
// consistent surrogates or [TYPE] tags. Approach, dictionaries, scoring and evaluation:
// docs/deid-text.md; the choice of packaged dictionaries: docs/adr/0005.
namespace caliper::deid {

// The kinds of PHI reported: the one list in core (the `caliper deid text` contract's types).
using core::kPhiTypeCount;
using core::ParsePhiType;
using core::PhiType;
using core::PhiTypeName;

// One identifier in a text: [start, end) in Unicode code points from the start of the text.
struct PhiSpan {
  std::size_t start = 0;
  std::size_t end = 0;
  PhiType type = PhiType::kOther;
  friend bool operator==(const PhiSpan&, const PhiSpan&) = default;
};

enum class ReplacementMode {
  kTag,        // each identifier becomes "[TYPE]"
  kSurrogate,  // realistic, consistent surrogates (see TextDeidentifier::Deidentify)
};
std::optional<ReplacementMode> ParseReplacementMode(std::string_view name);  // "tag", "surrogate"

struct TextDeidOptions {
  ReplacementMode mode = ReplacementMode::kTag;
  // The project's secret (any bytes, at least 16) from which surrogate choices and each
  // patient's date offset are derived with a keyed PRF. Required for kSurrogate; never
  // written to any output. Different keys give unrelated surrogates.
  std::string secret_key;
  // Clinicians' names ("Sarah Chen") always treated as NAME, in any letter case.
  std::vector<std::string> clinician_names;
  // Longer texts are refused with kPayloadTooLarge (memory stays bounded: about 4x the text).
  std::size_t max_text_bytes = std::size_t{64} << 20;
};

struct DeidentifiedText {
  std::string text;          // the de-identified text (UTF-8)
  std::vector<PhiSpan> phi;  // offsets into the INPUT text, sorted, non-overlapping
  // The same spans, in the same order, as code-point offsets into the OUTPUT `text`: where
  // each tag or surrogate now stands (so a reader's UI can mark surrogates visibly).
  std::vector<PhiSpan> replaced;
};

// The number of days surrogate mode shifts every date of `patient` under `secret_key` (in
// [-365, -1] or [1, 365], never 0): the same shift Deidentify applies to the patient's notes,
// for shifting their other dated data (lab results) consistently.
int PatientDateShiftDays(std::string_view secret_key, std::string_view patient);

// Ok when `text` is well-formed UTF-8 (RFC 3629); otherwise kInvalidArgument naming the byte
// offset of the first bad sequence. The check every input of TextDeidentifier passes.
Status CheckUtf8(std::string_view text);

// Finds and replaces PHI. Create once (compiling the patterns and loading the dictionaries
// costs tens of milliseconds) and reuse. Not thread-safe (it owns one scanner scratch space):
// use one instance per thread.
class TextDeidentifier {
 public:
  // Errors: kInvalidArgument when kSurrogate is asked without a key of >= 16 bytes;
  // kInternal when the pattern database does not compile.
  static Result<std::unique_ptr<TextDeidentifier>> Create(TextDeidOptions options);
  virtual ~TextDeidentifier() = default;

  // The PHI in `text`, sorted by start, non-overlapping. Errors: kInvalidArgument for invalid
  // UTF-8 (the message gives the byte offset), kPayloadTooLarge above max_text_bytes. Control
  // characters are accepted, separate tokens and stay in place. An empty text has no PHI.
  virtual Result<std::vector<PhiSpan>> Detect(std::string_view text) = 0;

  // Detect, then replace every span. In kSurrogate mode, for one `patient` (any key; "" is a
  // patient too) the same name token always gets the same surrogate name, every date is
  // shifted by the same number of days (so intervals survive) and keeps its format, numbers
  // keep their shape, ages over 89 become "90+", and ZIP codes keep their first three digits
  // ("00" after them) except in the sparsely populated 3-digit areas, which become "000".
  virtual Result<DeidentifiedText> Deidentify(std::string_view text, std::string_view patient) = 0;

  // Where the dictionaries came from (paths and checksums of the packaged inputs).
  virtual std::string_view LexiconEdition() const = 0;
};

}  // namespace caliper::deid

#include "caliper/deid/text_deid.h"

#include <array>

#include "deid/text/detector.h"
#include "deid/text/lexicon.h"
#include "deid/text/surrogate.h"
#include "deid/text/utf8.h"

namespace caliper::deid {
namespace {


class TextDeidentifierImpl final : public TextDeidentifier {
 public:
  TextDeidentifierImpl(TextDeidOptions options, std::unique_ptr<text::Detector> detector)
      : options_(std::move(options)), detector_(std::move(detector)) {}

  Result<std::vector<PhiSpan>> Detect(std::string_view text) override {
    auto bytes = DetectBytes(text);
    if (!bytes.ok()) return bytes.status();
    return ToCodePoints(text, *bytes);
  }

  Result<DeidentifiedText> Deidentify(std::string_view text, std::string_view patient) override {
    auto bytes = DetectBytes(text);
    if (!bytes.ok()) return bytes.status();
    DeidentifiedText out;
    out.text.reserve(text.size() + text.size() / 8);
    std::optional<text::SurrogateMaker> surrogates;
    if (options_.mode == ReplacementMode::kSurrogate) surrogates.emplace(options_.secret_key, patient);
    std::size_t pos = 0;
    std::vector<text::ByteSpan> replaced;
    replaced.reserve(bytes->size());
    for (const text::ByteSpan& s : *bytes) {
      out.text.append(text.substr(pos, s.begin - pos));
      const std::size_t begin = out.text.size();
      if (surrogates) {
        surrogates->AppendReplacement(s.type, text.substr(s.begin, s.end - s.begin), out.text);
      } else {
        out.text += '[';
        out.text += PhiTypeName(s.type);
        out.text += ']';
      }
      replaced.push_back({.begin = begin, .end = out.text.size(), .type = s.type});
      pos = s.end;
    }
    out.text.append(text.substr(pos));
    out.phi = ToCodePoints(text, *bytes);
    out.replaced = ToCodePoints(out.text, replaced);
    return out;
  }

  std::string_view LexiconEdition() const override {
    return text::PackagedLexicon().edition;
  }

 private:
  Result<std::vector<text::ByteSpan>> DetectBytes(std::string_view text) {
    if (text.size() > options_.max_text_bytes) {
      return Error(ErrorCode::kPayloadTooLarge,
                   "text of " + std::to_string(text.size()) + " bytes is over the limit of " +
                       std::to_string(options_.max_text_bytes));
    }
    CALIPER_RETURN_IF_ERROR(text::ValidateUtf8(text));
    return detector_->Detect(text);
  }

  static std::vector<PhiSpan> ToCodePoints(std::string_view text,
                                           const std::vector<text::ByteSpan>& spans) {
    text::CodePointCursor cursor(text);
    std::vector<PhiSpan> out;
    out.reserve(spans.size());
    for (const text::ByteSpan& s : spans) {
      const std::size_t start = cursor.At(s.begin);
      out.push_back({start, cursor.At(s.end), s.type});
    }
    return out;
  }

  TextDeidOptions options_;
  std::unique_ptr<text::Detector> detector_;
};

}  // namespace


Status CheckUtf8(std::string_view text) { return text::ValidateUtf8(text); }

int PatientDateShiftDays(std::string_view secret_key, std::string_view patient) {
  return text::SurrogateMaker(secret_key, patient).date_offset_days();
}

std::optional<ReplacementMode> ParseReplacementMode(std::string_view name) {
  if (name == "tag") return ReplacementMode::kTag;
  if (name == "surrogate") return ReplacementMode::kSurrogate;
  return std::nullopt;
}

Result<std::unique_ptr<TextDeidentifier>> TextDeidentifier::Create(TextDeidOptions options) {
  if (options.mode == ReplacementMode::kSurrogate && options.secret_key.size() < 16) {
    return Error(ErrorCode::kInvalidArgument,
                 "surrogate mode needs a secret key of at least 16 bytes");
  }
  auto detector = text::Detector::Create(options.clinician_names);
  if (!detector.ok()) return detector.status();
  return std::unique_ptr<TextDeidentifier>(
      new TextDeidentifierImpl(std::move(options), std::move(detector).value()));
}

}  // namespace caliper::deid

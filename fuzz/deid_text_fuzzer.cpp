// libFuzzer harness for the text de-identification scanner (caliper::deid::TextDeidentifier):
// Detect and Deidentify on arbitrary bytes. Besides ASan/UBSan findings it checks the
// contract of include/caliper/deid/text_deid.h and aborts when it is broken:
//   - invalid UTF-8 is kInvalidArgument, never a crash; valid input is never refused as such;
//   - spans are sorted, non-overlapping, non-empty and inside the text (code points);
//   - Deidentify reports the same spans as Detect and returns valid UTF-8.
// Run: fuzz/run.sh.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string_view>

#include "caliper/deid/text_deid.h"

namespace {

using caliper::ErrorCode;
using caliper::deid::PhiSpan;
using caliper::deid::ReplacementMode;
using caliper::deid::TextDeidentifier;
using caliper::deid::TextDeidOptions;

[[noreturn]] void Fail(const char* what) {
  std::fprintf(stderr, "contract broken: %s\n", what);
  std::abort();
}

// Code points of `s`, or -1 when it is not well-formed UTF-8 (RFC 3629).
long CountCodePoints(std::string_view s) {
  long n = 0;
  for (std::size_t i = 0; i < s.size(); ++n) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t len = c < 0x80 ? 1 : c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3
                                   : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
    if (len == 0 || i + len > s.size()) return -1;
    for (std::size_t k = 1; k < len; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      unsigned char lo = 0x80, hi = 0xBF;
      if (k == 1 && c == 0xE0) lo = 0xA0;
      if (k == 1 && c == 0xED) hi = 0x9F;
      if (k == 1 && c == 0xF0) lo = 0x90;
      if (k == 1 && c == 0xF4) hi = 0x8F;
      if (b < lo || b > hi) return -1;
    }
    i += len;
  }
  return n;
}

std::unique_ptr<TextDeidentifier> Make(ReplacementMode mode) {
  TextDeidOptions o;
  o.mode = mode;
  o.secret_key = "fuzzing-secret-key-0123456789";
  o.clinician_names = {"Sarah Chen"};
  auto d = TextDeidentifier::Create(std::move(o));
  if (!d.ok()) Fail("Create");
  return std::move(d).value();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::unique_ptr<TextDeidentifier> tagger = Make(ReplacementMode::kTag);
  static const std::unique_ptr<TextDeidentifier> surrogates = Make(ReplacementMode::kSurrogate);
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const long code_points = CountCodePoints(text);

  auto spans = tagger->Detect(text);
  if (code_points < 0) {
    if (spans.ok() || spans.status().code() != ErrorCode::kInvalidArgument) {
      Fail("invalid UTF-8 not refused with kInvalidArgument");
    }
    return 0;
  }
  if (!spans.ok()) Fail("valid UTF-8 refused");
  std::size_t previous_end = 0;
  for (const PhiSpan& s : *spans) {
    if (s.start >= s.end || s.start < previous_end ||
        s.end > static_cast<std::size_t>(code_points)) {
      Fail("span unsorted, overlapping, empty or outside the text");
    }
    previous_end = s.end;
  }

  auto replaced = surrogates->Deidentify(text, "patient-1");
  if (!replaced.ok()) Fail("Deidentify refused text that Detect accepted");
  if (replaced->phi != *spans) Fail("Deidentify and Detect disagree");
  if (CountCodePoints(replaced->text) < 0) Fail("surrogate output is not valid UTF-8");
  return 0;
}

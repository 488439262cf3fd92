#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "caliper/deid/text_deid.h"
#include "deid/text/siphash.h"

// Realistic surrogates for detected PHI, consistent within one patient: every choice is a
// keyed PRF (SipHash-2-4) of (project key, patient, type, original value), so the same value
// of the same patient always gets the same surrogate and nothing needs to be stored.
namespace caliper::deid::text {

// Not thread-safe (H reuses one buffer): one per text.
class SurrogateMaker {
 public:
  // `key`: the project's secret, any length >= 16 bytes.
  SurrogateMaker(std::string_view key, std::string_view patient);

  // Appends the surrogate of `original`, PHI of `type`, to `out`.
  void AppendReplacement(PhiType type, std::string_view original, std::string& out) const;
  std::string Replace(PhiType type, std::string_view original) const {
    std::string out;
    AppendReplacement(type, original, out);
    return out;
  }

  // Days every date of this patient moves: in [-365, -1] or [1, 365], never 0.
  int date_offset_days() const { return date_offset_days_; }

  // The Safe Harbor ZIP rule: the first three digits followed by "00", or "000" when the
  // 3-digit area is one of the sparsely populated ones (45 CFR 164.514(b)(2)(i)(B)).
  static std::string GeneraliseZip(std::string_view zip);

 private:
  std::uint64_t H(std::string_view domain, std::string_view value) const;
  // Each appends the surrogate of `original` to `out`.
  void Name(std::string_view original, std::string& out) const;
  void Place(std::string_view original, std::string& out) const;
  void Shape(std::string_view domain, std::string_view original, std::string& out) const;
  void Date(std::string_view original, std::string& out) const;

  // A run of letters or digits in a date: Date's working memory, kept between calls.
  struct DatePiece {
    std::size_t begin, end;
    bool digits;
  };

  SipHash24 prf_;
  std::string patient_;
  mutable std::string input_;  // H's buffer: "patient \x1f domain \x1f value"
  mutable std::vector<DatePiece> pieces_;    // Date's pieces of the original
  mutable std::vector<std::size_t> numbers_; // Date's pieces of digits that are not a whole date
  int date_offset_days_ = 0;
};

}  // namespace caliper::deid::text

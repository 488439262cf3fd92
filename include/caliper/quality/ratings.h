#pragma once

// Categorical ratings as the agreement metrics and Dawid–Skene see them: who (rater) said
// what (value) about which item. A missing rating is simply an absent entry. Values are
// labels; when every label is a number the set is "numeric" and categories are ordered by
// value, which the weighted and the ordinal/interval/ratio statistics need.
//
// No I/O here: ParseRatingsCsv takes text that the caller read.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "caliper/common/status.h"

namespace caliper::quality {

// One rating as it arrives (a CSV row, an API payload).
struct Rating {
  std::string item;
  std::string rater;
  std::string value;
};

// One rating by index into a RatingSet's items, raters and categories.
struct CodedRating {
  std::uint32_t item = 0;
  std::uint32_t rater = 0;
  std::uint32_t category = 0;
};

// An immutable, indexed set of ratings. Ratings are stored grouped by item (item 0's ratings
// first), so per-item statistics take one pass. Repeated ratings (the same rater rating the
// same item twice) are kept: Dawid–Skene uses them; the agreement metrics reject them.
// Thread-compatible; cheap to move, not to copy.
class RatingSet {
 public:
  // From labelled ratings. Errors: kInvalidArgument when `ratings` is empty or a field is
  // empty. Categories are the distinct values: when all parse as finite numbers ("3", "2.5",
  // "-1e3") the set is numeric, values equal as numbers are one category ("1" and "1.0"), and
  // categories are ordered by value; otherwise they are ordered by label (byte order). Items and
  // raters keep their order of first appearance.
  static Result<RatingSet> FromRatings(std::span<const Rating> ratings);

  // From a dense items × raters matrix (row-major, `values[item * n_raters + rater]`); NaN is a
  // missing rating. The set is numeric; item i is named "i" and rater r "r". This is the fast
  // path for large inputs (no strings per rating). Errors: kInvalidArgument when the sizes do
  // not match or a value is infinite.
  static Result<RatingSet> FromMatrix(std::size_t n_items, std::size_t n_raters,
                                      std::span<const double> values);

  std::size_t n_items() const { return item_offsets_.size() - 1; }
  std::size_t n_raters() const { return n_raters_; }
  std::size_t n_categories() const { return category_labels_.size(); }
  std::size_t n_ratings() const { return ratings_.size(); }

  // True when every category is a number; category_values() is then ascending.
  bool numeric() const { return numeric_; }
  const std::vector<double>& category_values() const { return category_values_; }
  const std::vector<std::string>& category_labels() const { return category_labels_; }
  // A label that is not a number (for error messages), empty when numeric().
  const std::string& first_non_numeric() const { return first_non_numeric_; }

  std::string ItemName(std::size_t item) const;
  std::string RaterName(std::size_t rater) const;

  // All ratings, grouped by item.
  std::span<const CodedRating> ratings() const { return ratings_; }
  // The ratings of one item.
  std::span<const CodedRating> ItemRatings(std::size_t item) const {
    return std::span<const CodedRating>(ratings_).subspan(
        item_offsets_[item], item_offsets_[item + 1] - item_offsets_[item]);
  }

 private:
  RatingSet() = default;

  std::size_t n_raters_ = 0;
  std::vector<std::string> item_names_;   // empty: item i is named "i"
  std::vector<std::string> rater_names_;  // empty: rater r is named "r"
  std::vector<std::string> category_labels_;
  std::vector<double> category_values_;  // filled when numeric_
  bool numeric_ = false;
  std::string first_non_numeric_;
  std::vector<CodedRating> ratings_;
  std::vector<std::size_t> item_offsets_{0};
};

// Parses CSV text whose header is exactly `item,rater,value` (surrounding spaces, a UTF-8 BOM
// and CRLF line ends are accepted; fields may be double-quoted with "" for a quote). A row with
// an empty value is a missing rating and is skipped; blank lines are skipped. Errors:
// kInvalidArgument naming the line for a wrong header, a row without exactly three fields, an
// empty item or rater, an unterminated quote, or no ratings at all.
Result<std::vector<Rating>> ParseRatingsCsv(std::string_view text);

}  // namespace caliper::quality

#include "caliper/quality/ratings.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <optional>
#include <unordered_map>

namespace caliper::quality {
namespace {

std::optional<double> ParseNumber(std::string_view text) {
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  double value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || !std::isfinite(value)) {
    return std::nullopt;
  }
  return value;
}

// Stable counting sort of ratings by item; returns the item offsets.
std::vector<std::size_t> GroupByItem(std::size_t n_items, std::vector<CodedRating>& ratings) {
  std::vector<std::size_t> offsets(n_items + 1, 0);
  for (const auto& r : ratings) ++offsets[r.item + 1];
  std::partial_sum(offsets.begin(), offsets.end(), offsets.begin());
  std::vector<CodedRating> grouped(ratings.size());
  std::vector<std::size_t> next(offsets.begin(), offsets.end() - 1);
  for (const auto& r : ratings) grouped[next[r.item]++] = r;
  ratings = std::move(grouped);
  return offsets;
}

}  // namespace

Result<RatingSet> RatingSet::FromRatings(std::span<const Rating> ratings) {
  if (ratings.empty()) return Error(ErrorCode::kInvalidArgument, "no ratings");
  RatingSet set;
  std::unordered_map<std::string, std::uint32_t> items, raters, labels;
  std::vector<std::uint32_t> label_of_rating;
  std::vector<std::string> distinct_labels;
  set.ratings_.reserve(ratings.size());
  label_of_rating.reserve(ratings.size());
  auto intern = [](std::unordered_map<std::string, std::uint32_t>& index,
                   std::vector<std::string>& names, const std::string& name) {
    auto [it, inserted] = index.emplace(name, static_cast<std::uint32_t>(names.size()));
    if (inserted) names.push_back(name);
    return it->second;
  };
  for (const auto& r : ratings) {
    if (r.item.empty() || r.rater.empty() || r.value.empty()) {
      return Error(ErrorCode::kInvalidArgument, "a rating has an empty item, rater or value");
    }
    CodedRating coded;
    coded.item = intern(items, set.item_names_, r.item);
    coded.rater = intern(raters, set.rater_names_, r.rater);
    label_of_rating.push_back(intern(labels, distinct_labels, r.value));
    set.ratings_.push_back(coded);
  }
  set.n_raters_ = set.rater_names_.size();

  // Categories: by numeric value when every label is a number, else by label.
  std::vector<std::optional<double>> numbers;
  numbers.reserve(distinct_labels.size());
  set.numeric_ = true;
  for (const auto& label : distinct_labels) {
    numbers.push_back(ParseNumber(label));
    if (!numbers.back() && set.numeric_) {
      set.numeric_ = false;
      set.first_non_numeric_ = label;
    }
  }
  std::vector<std::uint32_t> category_of_label(distinct_labels.size());
  if (set.numeric_) {
    std::map<double, std::uint32_t> by_value;
    for (const auto& n : numbers) by_value.emplace(*n, 0);
    for (auto& [value, index] : by_value) {
      index = static_cast<std::uint32_t>(set.category_values_.size());
      set.category_values_.push_back(value);
      set.category_labels_.push_back("");
    }
    for (std::size_t l = 0; l < distinct_labels.size(); ++l) {
      std::uint32_t c = by_value[*numbers[l]];
      category_of_label[l] = c;
      // The first label seen for a value names the category.
      if (set.category_labels_[c].empty()) set.category_labels_[c] = distinct_labels[l];
    }
  } else {
    std::vector<std::uint32_t> order(distinct_labels.size());
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(),
              [&](auto a, auto b) { return distinct_labels[a] < distinct_labels[b]; });
    for (std::uint32_t c = 0; c < order.size(); ++c) {
      category_of_label[order[c]] = c;
      set.category_labels_.push_back(distinct_labels[order[c]]);
    }
  }
  for (std::size_t i = 0; i < set.ratings_.size(); ++i) {
    set.ratings_[i].category = category_of_label[label_of_rating[i]];
  }
  set.item_offsets_ = GroupByItem(set.item_names_.size(), set.ratings_);
  return set;
}

Result<RatingSet> RatingSet::FromMatrix(std::size_t n_items, std::size_t n_raters,
                                        std::span<const double> values) {
  if (n_raters == 0 || values.size() != n_items * n_raters) {
    return Error(ErrorCode::kInvalidArgument, "matrix size does not match items x raters");
  }
  if (n_items >= std::numeric_limits<std::uint32_t>::max() ||
      n_raters >= std::numeric_limits<std::uint32_t>::max()) {
    return Error(ErrorCode::kInvalidArgument, "too many items or raters");
  }
  RatingSet set;
  set.n_raters_ = n_raters;
  set.numeric_ = true;
  // Distinct values. Small non-negative integers (category codes 0..255, the usual case) are
  // looked up in a table; other values go to a small vector, then to a hash map when there are
  // many.
  constexpr std::uint32_t kNotSeen = std::numeric_limits<std::uint32_t>::max();
  auto small_code = [](double v) -> int {
    return v >= 0 && v < 256 && v == static_cast<double>(static_cast<int>(v))
               ? static_cast<int>(v)
               : -1;
  };
  std::array<std::uint32_t, 256> small{};  // 1 when seen, later the category index
  std::unordered_map<double, std::uint32_t> index;
  std::vector<double> seen;
  for (double v : values) {
    if (const int code = small_code(v); code >= 0) {
      small[code] = 1;
      continue;
    }
    if (std::isnan(v)) continue;
    if (!std::isfinite(v)) return Error(ErrorCode::kInvalidArgument, "a rating is infinite");
    if (seen.size() < 64) {
      if (std::find(seen.begin(), seen.end(), v) == seen.end()) seen.push_back(v);
    } else if (index.emplace(v, 0).second) {
      seen.push_back(v);
    }
  }
  for (int code = 0; code < 256; ++code) {
    if (small[code]) seen.push_back(code);
  }
  std::sort(seen.begin(), seen.end());
  seen.erase(std::unique(seen.begin(), seen.end()), seen.end());
  index.clear();
  small.fill(kNotSeen);
  for (std::uint32_t c = 0; c < seen.size(); ++c) {
    if (const int code = small_code(seen[c]); code >= 0) small[code] = c;
    index[seen[c]] = c;
  }
  set.category_values_ = seen;
  for (double v : seen) {
    char buffer[32];
    auto [end, error] = std::to_chars(buffer, buffer + sizeof buffer, v);
    set.category_labels_.emplace_back(buffer, error == std::errc() ? end : buffer);
  }

  set.ratings_.resize(values.size());
  set.item_offsets_.assign(n_items + 1, 0);
  const bool few = seen.size() <= 16;
  std::size_t n = 0;
  for (std::size_t i = 0; i < n_items; ++i) {
    for (std::size_t r = 0; r < n_raters; ++r) {
      const double v = values[i * n_raters + r];
      std::uint32_t c;
      if (const int code = small_code(v); code >= 0) {
        c = small[code];
      } else if (std::isnan(v)) {
        continue;
      } else {
        c = few ? static_cast<std::uint32_t>(std::lower_bound(seen.begin(), seen.end(), v) -
                                             seen.begin())
                : index[v];
      }
      set.ratings_[n++] = {static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(r), c};
    }
    set.item_offsets_[i + 1] = n;
  }
  set.ratings_.resize(n);
  return set;
}

std::string RatingSet::ItemName(std::size_t item) const {
  return item_names_.empty() ? std::to_string(item) : item_names_[item];
}

std::string RatingSet::RaterName(std::size_t rater) const {
  return rater_names_.empty() ? std::to_string(rater) : rater_names_[rater];
}

namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

// Splits one CSV record starting at `pos`; advances `pos` past its line end. Quoted fields may
// hold commas, quotes ("") and line breaks.
Status ReadRecord(std::string_view text, std::size_t& pos, std::size_t& line,
                  std::vector<std::string>& fields) {
  fields.assign(1, "");
  bool quoted = false;
  bool was_quoted = false;
  std::size_t start_line = line;
  while (pos < text.size()) {
    char c = text[pos++];
    if (quoted) {
      if (c == '"') {
        if (pos < text.size() && text[pos] == '"') {
          fields.back() += '"';
          ++pos;
        } else {
          quoted = false;
        }
      } else {
        if (c == '\n') ++line;
        fields.back() += c;
      }
    } else if (c == '"' && Trim(fields.back()).empty() && !was_quoted) {
      fields.back().clear();
      quoted = was_quoted = true;
    } else if (c == ',') {
      fields.emplace_back();
      was_quoted = false;
    } else if (c == '\n') {
      ++line;
      break;
    } else {
      fields.back() += c;
    }
  }
  if (quoted) {
    return Error(ErrorCode::kInvalidArgument,
                 "line " + std::to_string(start_line) + ": unterminated quoted field");
  }
  for (auto& f : fields) f = std::string(Trim(f));
  return Status::Ok();
}

}  // namespace

Result<std::vector<Rating>> ParseRatingsCsv(std::string_view text) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  std::size_t pos = 0;
  std::size_t line = 1;
  std::vector<std::string> fields;
  // Header: the first non-blank line.
  while (pos < text.size()) {
    std::size_t this_line = line;
    CALIPER_RETURN_IF_ERROR(ReadRecord(text, pos, line, fields));
    if (fields.size() == 1 && fields[0].empty()) continue;
    if (fields != std::vector<std::string>{"item", "rater", "value"}) {
      return Error(
          ErrorCode::kInvalidArgument,
          "line " + std::to_string(this_line) + ": the header must be exactly item,rater,value");
    }
    break;
  }
  if (fields != std::vector<std::string>{"item", "rater", "value"}) {
    return Error(ErrorCode::kInvalidArgument, "empty input: expected the header item,rater,value");
  }
  std::vector<Rating> ratings;
  while (pos < text.size()) {
    std::size_t this_line = line;
    CALIPER_RETURN_IF_ERROR(ReadRecord(text, pos, line, fields));
    if (fields.size() == 1 && fields[0].empty()) continue;
    if (fields.size() != 3) {
      return Error(ErrorCode::kInvalidArgument, "line " + std::to_string(this_line) +
                                                    ": expected 3 fields, found " +
                                                    std::to_string(fields.size()));
    }
    if (fields[0].empty() || fields[1].empty()) {
      return Error(ErrorCode::kInvalidArgument,
                   "line " + std::to_string(this_line) + ": empty item or rater");
    }
    if (fields[2].empty()) continue;  // a missing rating
    ratings.push_back({std::move(fields[0]), std::move(fields[1]), std::move(fields[2])});
  }
  if (ratings.empty()) return Error(ErrorCode::kInvalidArgument, "no ratings after the header");
  return ratings;
}

}  // namespace caliper::quality

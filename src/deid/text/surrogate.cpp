#include "deid/text/surrogate.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "deid/text/lexicon.h"
#include "deid/text/spelled_ordinal.h"
#include "deid/text/utf8.h"

namespace caliper::deid::text {
namespace {

// 3-digit ZIP areas with 20,000 or fewer people (2000 Census), which Safe Harbor requires to
// be replaced by 000: HHS, "Guidance Regarding Methods for De-identification of Protected
// Health Information in Accordance with the HIPAA Privacy Rule" (2012), section 3.1.
constexpr std::array<std::string_view, 17> kRestrictedZip3 = {
    "036", "059", "063", "102", "203", "556", "692", "790", "821",
    "823", "830", "831", "878", "879", "884", "890", "893"};

constexpr std::array<std::string_view, 12> kMonths = {
    "january", "february", "march",     "april",   "may",      "june",
    "july",    "august",   "september", "october", "november", "december"};

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsUpper(char c) { return c >= 'A' && c <= 'Z'; }
char Lower(char c) { return IsUpper(c) ? static_cast<char>(c - 'A' + 'a') : c; }
char Upper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }

std::string LowerAscii(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = Lower(c);
  return out;
}

// Appends `word` to `out` with the letter case of `model` (all upper, all lower, or as it is).
void AppendMatchingCase(std::string& out, std::string_view word, std::string_view model) {
  bool any_lower = false, any_upper = false;
  for (char c : model) {
    any_lower |= c >= 'a' && c <= 'z';
    any_upper |= IsUpper(c);
  }
  const std::size_t at = out.size();
  out += word;
  if (any_upper && !any_lower && model.size() > 1) {
    for (std::size_t i = at; i < out.size(); ++i) out[i] = Upper(out[i]);
  } else if (any_lower && !any_upper) {
    for (std::size_t i = at; i < out.size(); ++i) out[i] = Lower(out[i]);
  }
}

// Whether `hay` holds `needle`, ignoring the case of ASCII letters.
bool HoldsCaseless(std::string_view hay, std::string_view needle) {
  if (needle.size() > hay.size()) return false;
  for (std::size_t i = 0; i + needle.size() <= hay.size(); ++i) {
    std::size_t k = 0;
    while (k < needle.size() && Lower(hay[i + k]) == Lower(needle[k])) ++k;
    if (k == needle.size()) return true;
  }
  return false;
}

// The base letters of a Latin letter with diacritics (U+00C0-U+017F, and Vietnamese's
// U+1EA0-U+1EF9), in lower case; "" for other code points.
std::string_view BaseLetters(char32_t c) {
  static constexpr std::string_view kLatin1[64] = {
      "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",   // U+00C0
      "d", "n", "o", "o", "o", "o", "o", "",  "o", "u", "u", "u", "u", "y", "th", "ss",  // U+00D0
      "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",   // U+00E0
      "d", "n", "o", "o", "o", "o", "o", "",  "o", "u", "u", "u", "u", "y", "th", "y"};  // U+00F0
  // Latin Extended-A: the first code point of each run of one base letter, and that letter.
  static constexpr std::pair<char32_t, std::string_view> kExtendedA[] = {
      {0x100, "a"}, {0x106, "c"}, {0x10E, "d"}, {0x112, "e"}, {0x11C, "g"}, {0x124, "h"}, {0x128, "i"},
      {0x132, "ij"}, {0x134, "j"}, {0x136, "k"}, {0x139, "l"}, {0x143, "n"}, {0x14C, "o"}, {0x152, "oe"},
      {0x154, "r"}, {0x15A, "s"}, {0x162, "t"}, {0x168, "u"}, {0x174, "w"}, {0x176, "y"}, {0x179, "z"},
      {0x17F, "s"}, {0x180, ""}};
  static constexpr std::pair<char32_t, std::string_view> kVietnamese[] = {
      {0x1EA0, "a"}, {0x1EB8, "e"}, {0x1EC8, "i"}, {0x1ECC, "o"}, {0x1EE4, "u"}, {0x1EF2, "y"}, {0x1EFA, ""}};
  const auto run = [c](const auto& runs) {
    std::string_view base;
    for (const auto& [first, letters] : runs) {
      if (c < first) break;
      base = letters;
    }
    return base;
  };
  if (c >= 0xC0 && c < 0x100) return kLatin1[c - 0xC0];
  if (c >= 0x100 && c < 0x180) return run(kExtendedA);
  if (c >= 0x1EA0 && c < 0x1EFA) return run(kVietnamese);
  return {};
}

// `word` in lower-case ASCII: letters with diacritics as their base letters ("Muñoz" as "munoz",
// "Nguyễn" as "nguyen"); other non-ASCII code points kept as they are.
std::string FoldToAscii(std::string_view word) {
  std::string out;
  out.reserve(word.size());
  for (std::size_t i = 0; i < word.size();) {
    if (static_cast<unsigned char>(word[i]) < 0x80) {
      out.push_back(Lower(word[i++]));
      continue;
    }
    std::size_t len = 1;
    const std::string_view base = BaseLetters(DecodeAt(word, i, len));
    if (base.empty()) {
      out.append(word.substr(i, len));
    } else {
      out.append(base);
    }
    i += len;
  }
  return out;
}

// The entry of `pool` that `h` picks for `word`, or the next one that keeps nothing of it
// readable: not the word itself, nor one of the two inside the other ("john" as "Johnny", "ann"
// as "Leann"), also without its diacritics ("Muñoz" as "Munoz").
const std::string& Pick(const std::vector<std::string>& pool, std::uint64_t h, std::string_view word) {
  // An ASCII word (most) is compared as it is: the case is ignored below.
  const std::string folded = FirstNonAscii(word) == word.size() ? std::string(word) : FoldToAscii(word);
  for (std::size_t k = 0; k < pool.size(); ++k) {
    const std::string& p = pool[(h + k) % pool.size()];
    if (!HoldsCaseless(p, folded) && !HoldsCaseless(folded, p)) return p;
  }
  return pool[h % pool.size()];
}

// Hinnant's civil-date algorithms ("chrono-Compatible Low-Level Date Algorithms").
long long DaysFromCivil(int y, int m, int d) {
  y -= m <= 2;
  const long long era = (y >= 0 ? y : y - 399) / 400;
  const long long yoe = y - era * 400;
  const long long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}
void CivilFromDays(long long z, int& y, int& m, int& d) {
  z += 719468;
  const long long era = (z >= 0 ? z : z - 146096) / 146097;
  const long long doe = z - era * 146097;
  const long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const long long mp = (5 * doy + 2) / 153;
  d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  y = static_cast<int>(yoe + era * 400 + (m <= 2));
}

// Appends `v` (>= 0) in at least `width` digits, zero-padded ("3" stays "3" at width 1, 12 is "12").
void AppendPadded(std::string& out, int v, std::size_t width) {
  char digits[16];
  std::size_t n = 0;
  auto u = static_cast<unsigned>(v);
  do {
    digits[n++] = static_cast<char>('0' + u % 10);
    u /= 10;
  } while (u > 0);
  if (width > n) out.append(width - n, '0');
  while (n > 0) out.push_back(digits[--n]);
}

// The value of a run of digits (at most 9 are read: longer runs are no part of a date).
int DigitsValue(std::string_view digits) {
  int v = 0;
  for (std::size_t i = 0; i < digits.size() && i < 9; ++i) v = v * 10 + (digits[i] - '0');
  return v;
}

std::string_view Ordinal(int day) {
  if (day % 100 >= 11 && day % 100 <= 13) return "th";
  switch (day % 10) {
    case 1: return "st";
    case 2: return "nd";
    case 3: return "rd";
    default: return "th";
  }
}

}  // namespace

SurrogateMaker::SurrogateMaker(std::string_view key, std::string_view patient)
    : prf_([&] {
        std::array<unsigned char, 16> k{};
        for (std::size_t i = 0; i < key.size(); ++i) k[i % 16] ^= static_cast<unsigned char>(key[i]);
        std::uint64_t k0 = 0, k1 = 0;
        for (int i = 7; i >= 0; --i) {
          k0 = (k0 << 8) | k[static_cast<std::size_t>(i)];
          k1 = (k1 << 8) | k[static_cast<std::size_t>(i) + 8];
        }
        return SipHash24(k0, k1);
      }()),
      patient_(patient) {
  input_ = patient_;
  input_ += '\x1f';
  const std::uint64_t h = H("date-offset", "");
  const int magnitude = 1 + static_cast<int>(h % 365);
  date_offset_days_ = (h >> 32) & 1 ? magnitude : -magnitude;
}

std::uint64_t SurrogateMaker::H(std::string_view domain, std::string_view value) const {
  // The prefix "patient \x1f" stays in the buffer; only domain and value are rewritten.
  input_.resize(patient_.size() + 1);
  input_ += domain;
  input_ += '\x1f';
  input_ += value;
  return prf_(input_);
}

std::string SurrogateMaker::GeneraliseZip(std::string_view zip) {
  // A Canadian or British postcode ("m5v 2t6", "SW3 4RP"): only its first letter, the province
  // or postal area, is kept; the rest becomes zeros ("m00 000"), the way a ZIP keeps 3 digits.
  if (std::any_of(zip.begin(), zip.end(), [](char c) { return IsAlpha(c); })) {
    std::string out(zip);
    for (std::size_t i = 1; i < out.size(); ++i) {
      if (IsAlpha(out[i]) || IsDigit(out[i])) out[i] = '0';
    }
    return out;
  }
  const std::string_view zip3 = zip.substr(0, 3);
  for (std::string_view r : kRestrictedZip3) {
    if (r == zip3) return "000";
  }
  return std::string(zip3) + "00";
}

void SurrogateMaker::Name(std::string_view original, std::string& out) const {
  const Lexicon& lex = Lexicon::Get();
  std::size_t i = 0;
  while (i < original.size()) {
    const auto c = static_cast<unsigned char>(original[i]);
    if (!(IsAlpha(original[i]) || c >= 0x80)) {
      out.push_back(original[i++]);
      continue;
    }
    std::size_t j = i;
    while (j < original.size() &&
           (IsAlpha(original[j]) || static_cast<unsigned char>(original[j]) >= 0x80 ||
            ((original[j] == '\'' || original[j] == '-') && j + 1 < original.size() &&
             IsAlpha(original[j + 1])))) {
      ++j;
    }
    const std::string_view word = original.substr(i, j - i);
    const std::string lower = LowerAscii(word);
    const std::uint64_t h = H("name", lower);
    if (word.size() == 1) {
      // Another letter, never the initial itself.
      const int letter = IsAlpha(word[0]) ? Lower(word[0]) - 'a' : 0;
      out.push_back(static_cast<char>((IsUpper(word[0]) ? 'A' : 'a') + (letter + 1 + static_cast<int>(h % 25)) % 26));
    } else {
      const auto& pool = lex.FirstName(lower) > lex.Surname(lower) ? lex.first_name_pool()
                                                                   : lex.surname_pool();
      AppendMatchingCase(out, Pick(pool, h, lower), word);
    }
    i = j;
  }
}

void SurrogateMaker::Place(std::string_view original, std::string& out) const {
  static constexpr std::array<std::string_view, 40> kKeep = {
      "street", "st", "avenue", "ave", "road", "rd", "lane", "ln", "drive", "dr",
      "boulevard", "blvd", "court", "ct", "way", "place", "pl", "apt", "suite", "unit",
      "hospital", "clinic", "center", "centre", "medical", "health", "community", "school",
      "library", "university", "college", "institute", "pharmacy", "family", "general",
      "public", "elementary", "memorial", "county", "box"};
  const Lexicon& lex = Lexicon::Get();
  std::size_t i = 0;
  while (i < original.size()) {
    const char c = original[i];
    if (IsDigit(c)) {
      out.push_back(static_cast<char>('0' + H("place-digit", original.substr(0, i + 1)) % 10));
      ++i;
      continue;
    }
    if (!(IsAlpha(c) || static_cast<unsigned char>(c) >= 0x80)) {
      out.push_back(c);
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < original.size() && (IsAlpha(original[j]) || static_cast<unsigned char>(original[j]) >= 0x80)) ++j;
    const std::string_view word = original.substr(i, j - i);
    const std::string lower = LowerAscii(word);
    bool keep = word.size() <= 1;
    for (std::string_view k : kKeep) keep |= k == lower;
    if (keep) {
      out += word;
    } else {
      AppendMatchingCase(out, Pick(lex.city_pool(), H("place", lower), lower), word);
    }
    i = j;
  }
}

// Digits stay digits, letters stay letters of the same case, the rest is kept.
void SurrogateMaker::Shape(std::string_view domain, std::string_view original, std::string& out) const {
  std::uint64_t h = H(domain, original);
  std::uint64_t round = 0;
  out.reserve(out.size() + original.size());
  for (std::size_t i = 0; i < original.size(); ++i) {
    if (i % 12 == 11) h = H(domain, std::string(original) + std::to_string(++round));
    const unsigned v = static_cast<unsigned>((h >> ((i % 12) * 5)) & 0x1F);
    const char c = original[i];
    if (IsDigit(c)) {
      out.push_back(static_cast<char>('0' + v % 10));
    } else if (IsAlpha(c)) {
      out.push_back(static_cast<char>((IsUpper(c) ? 'A' : 'a') + v % 26));
    } else {
      out.push_back(c);
    }
  }
}

void SurrogateMaker::Date(std::string_view original, std::string& out) const {
  // A numeric date with blanks in it (OCR: "0 4 / 1 2 / 1 9 6 0", "dob 4 /12 /31"): shifted
  // without them, then the blanks are put back where they were, or, when a month or day grew a
  // digit, between digits as between the original's and around each separator as around the
  // original's.
  if (original.find(' ') != std::string_view::npos &&
      std::none_of(original.begin(), original.end(), [](char c) { return IsAlpha(c); })) {
    std::string compact;
    std::vector<std::string_view> after;  // the blanks after each character of `compact`
    for (std::size_t k = 0; k < original.size();) {
      std::size_t e = k;
      while (e < original.size() && original[e] == ' ') ++e;
      if (e > k) {
        if (!after.empty()) after.back() = original.substr(k, e - k);
        k = e;
        continue;
      }
      compact.push_back(original[k++]);
      after.emplace_back();
    }
    std::string shifted;
    Date(compact, shifted);
    if (shifted == "[DATE]") {
      out += shifted;
      return;
    }
    if (shifted.size() == compact.size()) {
      for (std::size_t k = 0; k < shifted.size(); ++k) {
        out.push_back(shifted[k]);
        out.append(after[k]);
      }
      return;
    }
    std::string_view digit_gap;
    std::vector<std::pair<std::string_view, std::string_view>> around;  // blanks before and after each separator
    for (std::size_t k = 0; k < compact.size(); ++k) {
      if (IsDigit(compact[k])) {
        if (k + 1 < compact.size() && IsDigit(compact[k + 1]) && digit_gap.empty()) digit_gap = after[k];
      } else {
        around.emplace_back(k > 0 ? after[k - 1] : std::string_view(), after[k]);
      }
    }
    std::size_t sep = 0;
    for (std::size_t k = 0; k < shifted.size(); ++k) {
      if (IsDigit(shifted[k])) {
        out.push_back(shifted[k]);
        if (k + 1 < shifted.size() && IsDigit(shifted[k + 1])) out.append(digit_gap);
        continue;
      }
      const auto blanks = sep < around.size() ? around[sep++] : std::pair<std::string_view, std::string_view>();
      out.append(blanks.first);
      out.push_back(shifted[k]);
      out.append(blanks.second);
    }
    return;
  }
  std::vector<DatePiece>& pieces = pieces_;  // kept between calls, so not allocated for each date
  pieces.clear();
  for (std::size_t i = 0; i < original.size();) {
    if (IsDigit(original[i]) || IsAlpha(original[i])) {
      const bool digits = IsDigit(original[i]);
      std::size_t j = i;
      while (j < original.size() && (digits ? IsDigit(original[j]) : IsAlpha(original[j]))) ++j;
      pieces.push_back({i, j, digits});
      i = j;
    } else {
      ++i;
    }
  }
  int year = 2000, month = 0, day = 0, last_day = 0;
  bool year_last = false;  // an eight-digit date written MMDDYYYY
  std::size_t year_piece = SIZE_MAX, month_piece = SIZE_MAX, day_piece = SIZE_MAX, last_day_piece = SIZE_MAX;
  // A day in words ("the third of march", "june twenty first"): its piece(s) and value.
  std::size_t spelled_piece = SIZE_MAX, spelled_end = SIZE_MAX;
  int spelled_day = 0;
  std::vector<std::size_t>& numbers = numbers_;
  numbers.clear();
  for (std::size_t k = 0; k < pieces.size(); ++k) {
    const std::string_view t = original.substr(pieces[k].begin, pieces[k].end - pieces[k].begin);
    if (!pieces[k].digits) {
      const std::string lower = LowerAscii(t);
      if (spelled_piece == SIZE_MAX) {
        if (k + 1 < pieces.size() && !pieces[k + 1].digits) {
          spelled_day = SpelledOrdinalDay(
              lower, LowerAscii(original.substr(pieces[k + 1].begin, pieces[k + 1].end - pieces[k + 1].begin)));
          if (spelled_day > 0) spelled_end = k + 1;
        }
        if (spelled_day == 0) spelled_day = SpelledOrdinalDay(lower);
        if (spelled_day > 0) {
          spelled_piece = k;
          if (spelled_end != SIZE_MAX) ++k;
          continue;
        }
      }
      for (std::size_t m = 0; m < kMonths.size() && month_piece == SIZE_MAX; ++m) {
        if (lower.size() >= 3 && kMonths[m].substr(0, lower.size()) == lower) {
          month = static_cast<int>(m) + 1;
          month_piece = k;
        }
      }
      continue;
    }
    if (t.size() == 8) {  // YYYYMMDD, or MMDDYYYY (a month is never 19 or 20)
      year_last = t.substr(0, 2) != "19" && t.substr(0, 2) != "20";
      year = DigitsValue(t.substr(year_last ? 4 : 0, 4));
      month = DigitsValue(t.substr(year_last ? 0 : 4, 2));
      day = DigitsValue(t.substr(year_last ? 2 : 6, 2));
      year_piece = month_piece = day_piece = k;
      continue;
    }
    numbers.push_back(k);
  }
  auto value = [&](std::size_t k) {
    return DigitsValue(original.substr(pieces[k].begin, pieces[k].end - pieces[k].begin));
  };
  auto width = [&](std::size_t k) { return pieces[k].end - pieces[k].begin; };
  if (spelled_piece != SIZE_MAX && day_piece == SIZE_MAX && month_piece != SIZE_MAX) {
    day_piece = spelled_piece;
    day = spelled_day;
    for (std::size_t k : numbers) {  // "the third of march 2019", "march third, '19"
      if (width(k) == 4 || width(k) == 2) {
        year = width(k) == 4 ? value(k) : 2000 + value(k);
        year_piece = k;
      }
    }
  }
  if (day_piece == SIZE_MAX) {
    if (month_piece != SIZE_MAX) {  // "March 12, 2025", "12 March", "March 2025"
      for (std::size_t k : numbers) {
        const bool apostrophe = pieces[k].begin > 0 && original[pieces[k].begin - 1] == '\'';
        if (width(k) == 4 || (width(k) == 2 && apostrophe)) {  // "March 2019", "march '19"
          year = width(k) == 4 ? value(k) : 2000 + value(k);
          year_piece = k;
        } else if (day_piece == SIZE_MAX && width(k) <= 2) {
          day = value(k);
          day_piece = k;
        } else if (width(k) == 2) {
          year = 2000 + value(k);
          year_piece = k;
        }
      }
    } else if (numbers.size() == 3 && width(numbers[2]) <= 2 &&
               original.substr(pieces[numbers[0]].end, pieces[numbers[1]].begin - pieces[numbers[0]].end) == "/" &&
               original.substr(pieces[numbers[1]].end, pieces[numbers[2]].begin - pieces[numbers[1]].end) == "-") {
      // A day range inside a month without a year ("3/7-9"): both days shifted, in a leap year.
      month_piece = numbers[0];
      day_piece = numbers[1];
      last_day_piece = numbers[2];
      month = value(month_piece);
      day = value(day_piece);
      last_day = value(last_day_piece);
      if (last_day < 1 || last_day > 31) {
        out += "[DATE]";
        return;
      }
    } else if (numbers.size() == 3) {
      std::size_t y = numbers[2], a = numbers[0], b = numbers[1];
      if (width(numbers[0]) == 4) {
        y = numbers[0];
        a = numbers[1];
        b = numbers[2];
        month_piece = a;
        day_piece = b;
      } else if (value(a) > 12) {  // day first
        day_piece = a;
        month_piece = b;
      } else {
        month_piece = a;
        day_piece = b;
      }
      year_piece = y;
      year = width(y) == 2 ? (value(y) > 30 ? 1900 : 2000) + value(y) : value(y);
      month = value(month_piece);
      day = value(day_piece);
    } else if (numbers.size() == 2 && width(numbers[0]) <= 2 && width(numbers[1]) <= 2) {
      // Month/day without a year ("3/14"): shifted in a leap year, so that 2/29 exists; no
      // year is written.
      month_piece = numbers[0];
      day_piece = numbers[1];
      month = value(month_piece);
      day = value(day_piece);
    }
  }
  const bool has_day = day_piece != SIZE_MAX;
  if (month < 1 || month > 12 || (has_day && (day < 1 || day > 31))) {
    out += "[DATE]";
    return;
  }
  if (!has_day) day = 15;  // "March 2025": shift the middle of the month
  int y = 0, m = 0, d = 0;
  CivilFromDays(DaysFromCivil(year, month, day) + date_offset_days_, y, m, d);

  std::size_t pos = 0;
  for (std::size_t k = 0; k < pieces.size(); ++k) {
    if (k == spelled_end) {  // written with the first word ("twenty first" -> "ninth")
      pos = pieces[k].end;
      continue;
    }
    out.append(original.substr(pos, pieces[k].begin - pos));
    const std::string_view t = original.substr(pieces[k].begin, pieces[k].end - pieces[k].begin);
    if (k == day_piece && k == spelled_piece) {
      std::string name(kSpelledOrdinals[static_cast<std::size_t>(d - 1)]);
      if (IsUpper(t[0])) name[0] = Upper(name[0]);
      AppendMatchingCase(out, name, t);
    } else if (k == year_piece && k == month_piece) {
      if (year_last) {
        AppendPadded(out, m, 2);
        AppendPadded(out, d, 2);
        AppendPadded(out, y, 4);
      } else {
        AppendPadded(out, y, 4);
        AppendPadded(out, m, 2);
        AppendPadded(out, d, 2);
      }
    } else if (k == year_piece) {
      if (t.size() == 2) {
        AppendPadded(out, y % 100, 2);
      } else {
        AppendPadded(out, y, t.size());
      }
    } else if (k == month_piece && !pieces[k].digits) {
      std::string name(kMonths[static_cast<std::size_t>(m - 1)]);
      // Abbreviated stays abbreviated, and a full name stays full ("March" may become "November").
      if (t.size() < kMonths[static_cast<std::size_t>(month - 1)].size()) name = name.substr(0, 3);
      if (IsUpper(t[0])) name[0] = Upper(name[0]);
      AppendMatchingCase(out, name, t);
    } else if (k == month_piece) {
      AppendPadded(out, m, t.size());
    } else if (k == day_piece) {
      AppendPadded(out, d, t.size());
    } else if (k == last_day_piece) {  // the range's end: its month too if the shift crossed one
      int y2 = 0, m2 = 0, d2 = 0;
      CivilFromDays(DaysFromCivil(year, month, last_day) + date_offset_days_, y2, m2, d2);
      if (m2 != m) {
        AppendPadded(out, m2, pieces[month_piece].end - pieces[month_piece].begin);
        out += '/';
      }
      AppendPadded(out, d2, t.size());
    } else if (const std::string suffix = !pieces[k].digits && k > 0 && k - 1 == day_piece && t.size() == 2
                                              ? LowerAscii(t)
                                              : std::string();
               suffix == "st" || suffix == "nd" || suffix == "rd" || suffix == "th") {
      AppendMatchingCase(out, Ordinal(d), t);
    } else {
      out += t;
    }
    pos = pieces[k].end;
  }
  out.append(original.substr(pos));
}

void SurrogateMaker::AppendReplacement(PhiType type, std::string_view original, std::string& out) const {
  switch (type) {
    case PhiType::kName:
      Name(original, out);
      return;
    case PhiType::kDate:
      Date(original, out);
      return;
    case PhiType::kAge:
      out += "90+";
      return;
    case PhiType::kZip:
      out += GeneraliseZip(original);
      return;
    case PhiType::kLocation:
    case PhiType::kOther:
      Place(original, out);
      return;
    case PhiType::kEmail: {
      const Lexicon& lex = Lexicon::Get();
      const std::uint64_t h = H("email", LowerAscii(original));
      out += LowerAscii(lex.first_name_pool()[h % lex.first_name_pool().size()]);
      out += '.';
      out += LowerAscii(lex.surname_pool()[(h >> 20) % lex.surname_pool().size()]);
      out += std::to_string(h % 97);
      out += "@example.org";
      return;
    }
    case PhiType::kUrl: {
      static const char* kHex = "0123456789abcdef";
      std::uint64_t h = H("url", original);
      out += "https://example.org/";
      for (int i = 0; i < 8; ++i, h >>= 4) out.push_back(kHex[h & 15]);
      return;
    }
    case PhiType::kIp:
      out += "192.0.2.";  // RFC 5737
      out += std::to_string(1 + H("ip", original) % 254);
      return;
    case PhiType::kSsn: {
      const std::size_t at = out.size();
      Shape("ssn", original, out);
      for (std::size_t i = at; i < out.size(); ++i) {  // area 9xx is never issued, so the surrogate is never a real SSN
        if (IsDigit(out[i])) {
          out[i] = '9';
          break;
        }
      }
      return;
    }
    default:
      Shape(PhiTypeName(type), original, out);
      return;
  }
}

}  // namespace caliper::deid::text

#include "deid/text/patterns.h"

#include <hs/hs.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

namespace caliper::deid::text {
namespace {

constexpr const char* kMonth =
    "(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    "sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)";
constexpr const char* kYear = "(?:19|20)\\d{2}";
// Ages over 89 in words: ninety to ninety-nine, (one) hundred to hundred and nineteen. A leading
// "one" is not in the pattern (a word that common at a word start made the whole scan a third
// slower); the detector takes it into the span, and the "aged" pattern allows it.
constexpr const char* kSpelledAgeOver89 =
    "(?:ninety(?:[\\s-]?(?:one|two|three|four|five|six|seven|eight|nine))?|hundred"
    "(?:\\s+(?:and\\s+)?(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|"
    "fourteen|fifteen|sixteen|seventeen|eighteen|nineteen))?)";
constexpr const char* kExtension = "(?:\\s*(?:x|ext\\.?)\\s*\\d{1,5})?";
constexpr const char* kStreetFull =
    "(?:street|avenue|road|lane|drive|boulevard|court|place|terrace|circle|highway|parkway|"
    "square|trail|alley|crescent|way|st|ave|rd|ln|ct|blvd|hwy|pkwy|cir|ter)";
constexpr const char* kStreetCap =
    "(?:Street|St|Avenue|Ave|Road|Rd|Lane|Ln|Drive|Dr|Boulevard|Blvd|Court|Ct|Way|Place|Pl|"
    "Terrace|Ter|Circle|Cir|Highway|Hwy|Parkway|Pkwy|Square|Sq|Trail|Trl|Alley|Row|Crescent|"
    "STREET|ST|AVENUE|AVE|ROAD|RD|LANE|LN|DRIVE|DR|BOULEVARD|BLVD|COURT|CT|WAY|PLACE|PL)";
constexpr const char* kUnit = "(?:,?\\s*(?:apt|apartment|suite|ste|unit|#)\\.?\\s*#?\\s*[a-z0-9-]{1,6})?";

struct PatternDef {
  std::string regex;
  PatternKind kind;
  PhiType type;
  int priority;
  bool caseless;
  UrlTail tail = UrlTail::kNone;
};

// The bytes of a URL's path: all but whitespace and <>"'()[]{} (as in the class below).
bool IsPathByte(char c) {
  const bool space = c == ' ' || (c >= '\t' && c <= '\r');
  return !space && (c == '\0' || std::strchr("<>\"'()[]{}", c) == nullptr);  // strchr finds '\0' too
}

std::vector<PatternDef> Definitions() {
  const std::string m = kMonth, y = kYear, ext = kExtension, spelled = kSpelledAgeOver89;
  using K = PatternKind;
  using T = PhiType;
  return {
      // Dates: every element but the year (45 CFR 164.514(b)(2)(i)(C)).
      {"\\b\\d{1,2}[/.-]\\d{1,2}[/.-](?:\\d{4}|\\d{2})\\b", K::kNumericDate, T::kDate, 3, false},
      {"\\b" + y + "[/.-]\\d{1,2}[/.-]\\d{1,2}\\b", K::kNumericDate, T::kDate, 3, false},
      // Month/day without a year, "3/14" or "3-14" (decided with its context in detector.cpp).
      {"\\b\\d{1,2}[/-]\\d{1,2}\\b", K::kShortDate, T::kDate, 2, false},
      {"\\b" + y + "(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\\d|3[01])\\b", K::kIdentifier, T::kDate, 1, false},
      {"\\b(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\\d|3[01])" + y + "\\b", K::kIdentifier, T::kDate, 1, false},  // MMDDYYYY
      {"\\b" + m + "\\.?\\s{1,3}\\d{1,2}(?:st|nd|rd|th)?\\b(?:,?\\s{1,3}" + y + "\\b)?",
       K::kIdentifier, T::kDate, 3, true},
      {"\\b\\d{1,2}(?:st|nd|rd|th)?\\s{1,3}(?:of\\s+)?" + m + "\\b\\.?(?:,?\\s{1,3}" + y + "\\b)?",
       K::kIdentifier, T::kDate, 3, true},
      {"\\b" + m + "\\.?,?\\s{1,3}" + y + "\\b", K::kIdentifier, T::kDate, 3, true},
      {"\\b\\d{1,2}[-/]?" + m + "[-/]?(?:" + y + "|\\d{2})\\b", K::kIdentifier, T::kDate, 3, true},  // 03mar2024
      // Ages: the number is PHI when over 89 (45 CFR 164.514(b)(2)(i)(C)).
      {"\\b\\d{2,3}\\s*-?\\s*(?:years?|yrs?|y)\\.?\\s*-?\\s*(?:old|o\\.?)\\b", K::kAge, T::kAge, 3, true},
      {"\\b\\d{2,3}\\s*(?:y/o|yo\\b|y\\.o\\.)", K::kAge, T::kAge, 3, true},
      {"\\b(?:age|aged)\\s*(?:of\\s*)?:?\\s*\\d{2,3}\\b", K::kAge, T::kAge, 3, true},
      {"\\b(?:in\\s+(?:his|her|their)\\s+)(?:(?:early|mid|late)[\\s-])?(?:9\\d|1[0-2]\\d)'?s\\b", K::kAge, T::kAge, 3,
       true},
      // Spelled out ("ninety-two year old", "aged one hundred and one"): always over 89.
      {"\\b" + spelled + "\\s*-?\\s*(?:(?:years?|yrs?|y)\\.?\\s*-?\\s*(?:old|o\\.?)\\b|y/o|yo\\b|y\\.o\\.)",
       K::kAge, T::kAge, 3, true},
      {"\\b(?:age|aged)\\s*(?:of\\s*)?:?\\s*(?:one\\s+)?" + spelled + "\\b", K::kAge, T::kAge, 3, true},
      // Telephone numbers (fax is decided by a "fax" label before the number).
      {"(?:\\+?1[\\s.-]?)?\\(\\d{3}\\)\\s?\\d{3}[\\s.-]?\\d{4}\\b" + ext, K::kIdentifier, T::kPhone, 4, true},
      {"\\b\\d{3}\\s\\d{3}\\s\\d{4}\\b" + ext, K::kIdentifier, T::kPhone, 2, true},  // "617 555 0142"
      {"(?:\\+?1[\\s.-])?\\b\\d{3}[.-]\\d{3}[.-]\\d{4}\\b" + ext, K::kIdentifier, T::kPhone, 4, true},
      // International, also with the trunk prefix in parentheses ("+44 (0)20 7946 0958").
      {"\\+\\d{1,3}[\\s.-]?(?:\\(0\\)\\s?)?\\d{2,4}[\\s.-]?\\d{3,4}[\\s.-]?\\d{3,4}\\b", K::kIdentifier, T::kPhone, 3,
       false},
      {"\\b\\d{3}-\\d{4}\\b", K::kIdentifier, T::kPhone, 1, false},
      // SSN, e-mail, web addresses, IP addresses.
      {"\\b\\d{3}-\\d{2}-\\d{4}\\b", K::kIdentifier, T::kSsn, 5, false},
      {"\\b\\d{3}\\s\\d{2}\\s\\d{4}\\b", K::kIdentifier, T::kSsn, 2, false},
      {"[a-z0-9._%+-]+@[a-z0-9-]+(?:\\.[a-z0-9-]+)*\\.[a-z]{2,}", K::kIdentifier, T::kEmail, 6, true},
      // A URL's path is read by IsPathByte after the match (UrlTail): as part of the regex, it
      // reported an end at each of its bytes, and those ends cost a fifth of the scan.
      {"\\b(?:https?|ftp)://[^\\s<>\"'()\\[\\]{}]", K::kIdentifier, T::kUrl, 6, true, UrlTail::kRest},
      {"\\bwww\\.[a-z0-9-]+(?:\\.[a-z0-9-]+)+", K::kIdentifier, T::kUrl, 6, true, UrlTail::kPath},
      {"\\b[a-z0-9-]+(?:\\.[a-z0-9-]+)*\\.(?:com|org|net|edu|gov|io|info|biz)\\b", K::kIdentifier, T::kUrl, 2, true,
       UrlTail::kPath},
      {"\\b(?:\\d{1,3}\\.){3}\\d{1,3}\\b", K::kIdentifier, T::kIp, 5, false},
      {"\\b(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}\\b", K::kIdentifier, T::kIp, 5, true},
      {"\\b(?:[0-9a-f]{1,4}:){1,6}:(?:[0-9a-f]{1,4}:){0,5}[0-9a-f]{1,4}\\b", K::kIdentifier, T::kIp, 4, true},
      // Geography smaller than a state: street addresses, P.O. and rural route boxes, ZIP codes.
      {std::string("\\b\\d{1,6}[A-Za-z]?\\s+(?:[A-Z0-9][A-Za-z'.-]*\\s+){1,3}") + kStreetCap + "\\b\\.?" + kUnit,
       K::kIdentifier, T::kLocation, 4, false},
      {std::string("\\b\\d{1,6}[a-z]?\\s+(?:[a-z0-9][a-z'.-]*\\s+){1,3}") + kStreetFull + "\\b" + kUnit,
       K::kIdentifier, T::kLocation, 3, true},
      // "PO Box 1123", and a rural route's box ("RR 2 Box 14", "Rural Route 3, Box 7").
      {"\\b(?:p\\.?\\s?o\\.?\\s?|(?:rr|rural\\s+route)\\s*#?\\d{1,3},?\\s+)box\\s+\\d+\\b", K::kIdentifier,
       T::kLocation, 4, true},
      {"\\b\\d{1,6}\\s+(?:rt|rte|route|hwy|highway|state\\s+route|county\\s+road)\\.?\\s*\\d{1,4}\\b",
       K::kIdentifier, T::kLocation, 4, true},
      {"\\b\\d{5}(?:-\\d{4})?\\b", K::kZip, T::kZip, 3, false},
  };
}

// Keeps, for each pattern and leftmost start, the longest match. Ends arrive nearly in order: a
// pattern whose alternatives Hyperscan runs in different engines can report a later end before
// an earlier one, which must not cut the match back.
void Keep(unsigned id, std::size_t from, std::size_t to, std::size_t& last, std::vector<PatternMatch>& out) {
  if (last != std::size_t(-1)) {
    PatternMatch& prev = out[last];
    if (prev.begin == from) {  // the same match, perhaps longer
      prev.end = std::max(prev.end, to);
      return;
    }
    if (from < prev.end) return;  // starts inside the previous match of this pattern
  }
  last = out.size();
  out.push_back({from, to, id});
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

// The regex read backwards: a text matches `ReversedRegex(r)` exactly when the text read
// backwards matches `r`. The subset the patterns above use (literals, escapes, classes,
// groups, alternation, quantifiers) is enough; anything else is refused rather than guessed.
class Reverser {
 public:
  explicit Reverser(std::string_view r) : r_(r) {}

  Result<std::string> Run() {
    std::string out = Alternation();
    if (!error_.empty()) return Error(ErrorCode::kInternal, error_ + " in pattern " + std::string(r_));
    if (i_ != r_.size()) return Error(ErrorCode::kInternal, "unbalanced ')' in pattern " + std::string(r_));
    return out;
  }

 private:
  // Alternatives joined by '|', each reversed, in their order.
  std::string Alternation() {
    std::string out = Sequence();
    while (error_.empty() && i_ < r_.size() && r_[i_] == '|') {
      ++i_;
      out += "|" + Sequence();
    }
    return out;
  }

  // Quantified atoms up to '|' or ')', in reverse order.
  std::string Sequence() {
    std::vector<std::string> items;
    while (error_.empty() && i_ < r_.size() && r_[i_] != '|' && r_[i_] != ')') {
      std::string item = Atom();
      item += Quantifier();
      items.push_back(std::move(item));
    }
    std::string out;
    for (auto it = items.rbegin(); it != items.rend(); ++it) out += *it;
    return out;
  }

  std::string Atom() {
    const char c = r_[i_];
    if (static_cast<unsigned char>(c) >= 0x80 || c == '^' || c == '$') return Fail("unsupported character");
    if (c == '\\') {
      if (i_ + 1 >= r_.size()) return Fail("trailing '\\'");
      const char e = r_[i_ + 1];
      if (std::isdigit(static_cast<unsigned char>(e)) || std::string_view("xQEpPco").find(e) != std::string_view::npos) {
        return Fail("unsupported escape");
      }
      i_ += 2;
      return std::string{'\\', e};
    }
    if (c == '[') {  // a class reads the same both ways: copied whole
      std::size_t j = i_ + 1;
      if (j < r_.size() && r_[j] == '^') ++j;
      if (j < r_.size() && r_[j] == ']') ++j;
      while (j < r_.size() && r_[j] != ']') j += r_[j] == '\\' ? 2 : 1;
      if (j >= r_.size()) return Fail("unclosed '['");
      std::string out(r_.substr(i_, j + 1 - i_));
      i_ = j + 1;
      return out;
    }
    if (c == '(') {
      i_ += r_.substr(i_, 3) == "(?:" ? 3 : 1;
      if (r_[i_ - 1] == '(' && i_ < r_.size() && r_[i_] == '?') return Fail("unsupported group");
      std::string inner = Alternation();
      if (i_ >= r_.size() || r_[i_] != ')') return Fail("unclosed '('");
      ++i_;
      return "(?:" + inner + ")";
    }
    if (c == '*' || c == '+' || c == '?' || c == '{') return Fail("quantifier without an atom");
    ++i_;
    return std::string(1, c);
  }

  std::string Quantifier() {
    std::string q;
    if (i_ < r_.size() && (r_[i_] == '?' || r_[i_] == '*' || r_[i_] == '+')) {
      q = r_[i_++];
    } else if (i_ < r_.size() && r_[i_] == '{') {
      const std::size_t close = r_.find('}', i_);
      if (close == std::string_view::npos) return Fail("unclosed '{'");
      q = r_.substr(i_, close + 1 - i_);
      i_ = close + 1;
    }
    if (!q.empty() && i_ < r_.size() && (r_[i_] == '?' || r_[i_] == '+')) return Fail("lazy or possessive quantifier");
    return q;
  }

  std::string Fail(const char* why) {
    if (error_.empty()) error_ = std::string(why) + " at byte " + std::to_string(i_);
    i_ = r_.size();
    return "";
  }

  std::string_view r_;
  std::size_t i_ = 0;
  std::string error_;
};

// Finding where matches start is what made Hyperscan slow: with start-of-match tracking on,
// the whole set scanned at 18 MB/s (the harder synthetic notes) and took 4-5 s to compile.
// So the whole text is scanned once for match ends only, and each match's start is then found
// by reading backwards from its end: the pattern reversed and anchored, scanned over the text
// reversed from that end, reports where every match ending there starts, and the farthest is
// the leftmost start. An anchored scan stops once no match can go on, so it reads about as far
// as the match is long. The URL and e-mail patterns, whose matches never hold whitespace but
// end at every byte of a long address, instead find their starts with start-of-match tracking
// in one window from the whitespace before their ends: one scan for many ends. A pattern whose
// matches all have one length ("\b\d{3}-\d{4}\b") needs no scan at all.
struct CompiledPatterns {
  hs_database* ends = nullptr;          // every pattern, ends only
  std::vector<unsigned> width;          // per pattern, the length of every match; 0 when they differ
  std::vector<hs_database*> reversed;   // per pattern, "^[\s\S]" + reversed; null for the spaceless
                                        // and the fixed-width
  std::vector<hs_database*> starts;     // per spaceless pattern, leftmost start of match; else null
  std::vector<PatternInfo> infos;
  Status status;
};

void FreeDatabases(CompiledPatterns& c) {
  for (auto* dbs : {&c.reversed, &c.starts}) {
    for (hs_database* db : *dbs) hs_free_database(db);
  }
  hs_free_database(c.ends);
  c = CompiledPatterns();
}

Status CompileError(hs_compile_error_t* error, const std::string& pattern) {
  std::string message = "hyperscan: ";
  message += error && error->message ? error->message : "compile failed";
  message += " in pattern " + pattern;
  hs_free_compile_error(error);
  return Error(ErrorCode::kInternal, message);
}

unsigned FlagsOf(const PatternDef& d) { return d.caseless ? HS_FLAG_CASELESS : 0u; }

// How a pattern's match starts are found, and the expression and flags of the database that
// finds them (none for a fixed width). Compile follows it, and Load checks a serialised database
// against it, so that nothing compiled another way is ever loaded.
enum class StartsBy : std::uint32_t { kWidth = 0, kWindow = 1, kReversed = 2 };
struct StartPlan {
  StartsBy by = StartsBy::kWidth;
  std::string expression;
  unsigned flags = 0;
};

Result<StartPlan> PlanStarts(const PatternDef& d, unsigned width) {
  if (width > 0) return StartPlan{};
  if (d.type == PhiType::kUrl || d.type == PhiType::kEmail) {
    return StartPlan{StartsBy::kWindow, d.regex, FlagsOf(d) | HS_FLAG_SOM_LEFTMOST};
  }
  // The byte at the end (or a space past the text's end) first, so that a \b there is judged.
  auto reversed = ReversedRegex(d.regex);
  if (!reversed.ok()) return reversed.status();
  return StartPlan{StartsBy::kReversed, "^[\\s\\S](?:" + *reversed + ")", FlagsOf(d)};
}

Status Compile(CompiledPatterns& c) {
  const std::vector<PatternDef> defs = Definitions();
  std::vector<const char*> expressions;
  std::vector<unsigned> flags, ids;
  for (unsigned i = 0; i < defs.size(); ++i) {
    expressions.push_back(defs[i].regex.c_str());
    flags.push_back(FlagsOf(defs[i]));
    ids.push_back(i);
    c.infos.push_back({defs[i].kind, defs[i].type, defs[i].priority, defs[i].tail});
  }
  hs_compile_error_t* error = nullptr;
  if (hs_compile_multi(expressions.data(), flags.data(), ids.data(), static_cast<unsigned>(expressions.size()),
                       HS_MODE_BLOCK, nullptr, &c.ends, &error) != HS_SUCCESS) {
    const int at = error ? error->expression : -1;
    return CompileError(error, at >= 0 ? std::to_string(at) : "set");
  }
  c.width.assign(defs.size(), 0);
  c.reversed.assign(defs.size(), nullptr);
  c.starts.assign(defs.size(), nullptr);
  for (unsigned i = 0; i < defs.size(); ++i) {
    // Every match of the same length ("\b\d{3}-\d{4}\b"): its start is its end less that length,
    // with no scan (Hyperscan's analysis of the expression says so).
    hs_expr_info_t* info = nullptr;
    if (hs_expression_info(expressions[i], flags[i], &info, &error) != HS_SUCCESS) {
      return CompileError(error, std::to_string(i) + " (info)");
    }
    if (info->min_width == info->max_width && info->min_width > 0) c.width[i] = info->min_width;
    std::free(info);  // allocated by Hyperscan's default allocator, malloc
    auto plan = PlanStarts(defs[i], c.width[i]);
    if (!plan.ok()) return plan.status();
    if (plan->by == StartsBy::kWidth) continue;
    hs_database*& db = plan->by == StartsBy::kWindow ? c.starts[i] : c.reversed[i];
    if (hs_compile(plan->expression.c_str(), plan->flags, HS_MODE_BLOCK, nullptr, &db, &error) != HS_SUCCESS) {
      return CompileError(error, std::to_string(i) + (plan->by == StartsBy::kReversed ? " (reversed)" : ""));
    }
  }
  return Status::Ok();
}

// ---- The databases as the build compiled them (docs/deid-text.md, "Pattern databases") ----
//
// Compiling takes some 1.9 billion instructions (0.3 s), in every process that de-identifies
// text. The build compiles them once (caliper_pattern_db_gen) and the binary carries them
// serialised: "caliper-hs-2\n", Hyperscan's version, the mode, then per pattern its flags,
// regex, match width and how its starts are found (with that database's expression, flags and
// bytes), then the database of every pattern. They are loaded only if all of that is what this
// binary would compile (the version, the mode, every regex and flag, and each pattern's plan for
// its starts from its width) and Hyperscan takes each database for this CPU; otherwise they are
// compiled, as before.

constexpr std::string_view kDatabaseMagic = "caliper-hs-2\n";

void PutU32(std::string& out, std::uint32_t v) { out.append(reinterpret_cast<const char*>(&v), sizeof v); }
void PutBytes(std::string& out, std::string_view bytes) {
  PutU32(out, static_cast<std::uint32_t>(bytes.size()));
  out.append(bytes);
}

Status PutDatabase(std::string& out, const hs_database* db) {
  char* bytes = nullptr;
  std::size_t length = 0;
  if (hs_serialize_database(db, &bytes, &length) != HS_SUCCESS) {
    return Error(ErrorCode::kInternal, "hyperscan: cannot serialise a database");
  }
  PutBytes(out, std::string_view(bytes, length));
  std::free(bytes);  // allocated by Hyperscan's default allocator, malloc
  return Status::Ok();
}

// Reads what PutU32/PutBytes wrote; false (and at end) once the input runs out.
class BlobReader {
 public:
  explicit BlobReader(std::string_view in) : in_(in) {}
  bool U32(std::uint32_t& v) {
    if (in_.size() < sizeof v) return Fail();
    std::memcpy(&v, in_.data(), sizeof v);
    in_.remove_prefix(sizeof v);
    return true;
  }
  bool Bytes(std::string_view& bytes) {
    std::uint32_t n = 0;
    if (!U32(n) || in_.size() < n) return Fail();
    bytes = in_.substr(0, n);
    in_.remove_prefix(n);
    return true;
  }
  bool Literal(std::string_view expected) {
    if (in_.substr(0, expected.size()) != expected) return Fail();
    in_.remove_prefix(expected.size());
    return true;
  }
  bool AtEnd() const { return in_.empty(); }

 private:
  bool Fail() {
    in_ = {};
    return false;
  }
  std::string_view in_;
};

Result<std::string> Serialize(const CompiledPatterns& c, const std::vector<PatternDef>& defs) {
  std::string out(kDatabaseMagic);
  PutBytes(out, hs_version());
  PutU32(out, HS_MODE_BLOCK);
  PutU32(out, static_cast<std::uint32_t>(defs.size()));
  for (std::size_t i = 0; i < defs.size(); ++i) {
    PutU32(out, FlagsOf(defs[i]));
    PutBytes(out, defs[i].regex);
    PutU32(out, c.width[i]);
    auto plan = PlanStarts(defs[i], c.width[i]);
    if (!plan.ok()) return plan.status();
    PutU32(out, static_cast<std::uint32_t>(plan->by));
    if (plan->by == StartsBy::kWidth) continue;
    PutBytes(out, plan->expression);
    PutU32(out, plan->flags);
    CALIPER_RETURN_IF_ERROR(PutDatabase(out, plan->by == StartsBy::kWindow ? c.starts[i] : c.reversed[i]));
  }
  CALIPER_RETURN_IF_ERROR(PutDatabase(out, c.ends));
  return out;
}

hs_database* Deserialize(std::string_view bytes) {
  hs_database* db = nullptr;
  return hs_deserialize_database(bytes.data(), bytes.size(), &db) == HS_SUCCESS ? db : nullptr;
}

// Fills `c` from `blob`; on any mismatch or error frees what it made and says why.
Status Load(std::string_view blob, const std::vector<PatternDef>& defs, CompiledPatterns& c) {
  BlobReader in(blob);
  std::uint32_t mode = 0, n = 0;
  std::string_view version;
  if (!in.Literal(kDatabaseMagic) || !in.Bytes(version) || !in.U32(mode) || !in.U32(n)) {
    return Error(ErrorCode::kInvalidArgument, "no pattern databases");
  }
  if (version != hs_version()) return Error(ErrorCode::kInvalidArgument, "made by another Hyperscan");
  if (mode != HS_MODE_BLOCK || n != defs.size()) return Error(ErrorCode::kInvalidArgument, "made for other patterns");
  CompiledPatterns loaded;
  loaded.width.assign(n, 0);
  loaded.reversed.assign(n, nullptr);
  loaded.starts.assign(n, nullptr);
  const auto other = [](std::uint32_t i) {
    return Error(ErrorCode::kInvalidArgument, "made for other patterns (pattern " + std::to_string(i) + ")");
  };
  const Status cut_short = Error(ErrorCode::kInvalidArgument, "pattern databases cut short");
  Status status = Status::Ok();
  for (std::uint32_t i = 0; i < n && status.ok(); ++i) {
    std::uint32_t flags = 0, by = 0, start_flags = 0;
    std::string_view regex, expression, db;
    if (!in.U32(flags) || !in.Bytes(regex) || !in.U32(loaded.width[i]) || !in.U32(by)) {
      status = cut_short;
      continue;
    }
    if (regex != defs[i].regex || flags != FlagsOf(defs[i])) {
      status = other(i);
      continue;
    }
    auto plan = PlanStarts(defs[i], loaded.width[i]);
    if (!plan.ok()) {
      status = plan.status();
    } else if (by != static_cast<std::uint32_t>(plan->by)) {
      status = other(i);
    } else if (plan->by == StartsBy::kWidth) {
      continue;
    } else if (!in.Bytes(expression) || !in.U32(start_flags) || !in.Bytes(db)) {
      status = cut_short;
    } else if (expression != plan->expression || start_flags != plan->flags) {
      status = other(i);
    } else if (hs_database* made = Deserialize(db); made == nullptr) {
      status = Error(ErrorCode::kInvalidArgument, "Hyperscan refused the database of pattern " + std::to_string(i));
    } else {
      (plan->by == StartsBy::kWindow ? loaded.starts : loaded.reversed)[i] = made;
    }
  }
  std::string_view ends;
  if (status.ok() && (!in.Bytes(ends) || !in.AtEnd())) status = cut_short;
  if (status.ok() && (loaded.ends = Deserialize(ends)) == nullptr) {
    status = Error(ErrorCode::kInvalidArgument, "Hyperscan refused the database of every pattern");
  }
  if (!status.ok()) {
    FreeDatabases(loaded);
    return status;
  }
  for (const PatternDef& d : defs) loaded.infos.push_back({d.kind, d.type, d.priority, d.tail});
  c = std::move(loaded);
  return Status::Ok();
}

// The databases are made once per process (loaded as the build compiled them, or compiled)
// and shared: Hyperscan databases are immutable and may be scanned from many threads, each with
// its own scratch. They live as long as the process: never destroyed, so that no thread still
// scanning at exit finds them freed (and leak checkers see them reachable from this pointer).
struct ProcessPatterns {
  CompiledPatterns patterns;
  bool from_build = false;
};

const ProcessPatterns& Process() {
  static const ProcessPatterns* const kPatterns = [] {
    auto* p = new ProcessPatterns();
    p->from_build = Load(BuiltPatternDatabases(), Definitions(), p->patterns).ok();
    if (!p->from_build) p->patterns.status = Compile(p->patterns);
    return p;
  }();
  return *kPatterns;
}

const CompiledPatterns& Compiled() { return Process().patterns; }

int OnEnd(unsigned id, unsigned long long /*from*/, unsigned long long to, unsigned /*flags*/, void* ctx) {
  static_cast<std::vector<PatternScanner::End>*>(ctx)->push_back({static_cast<std::size_t>(to), id});
  return 0;
}

// The farthest end of a reversed match: ends arrive in increasing order.
int OnReversedEnd(unsigned /*id*/, unsigned long long /*from*/, unsigned long long to, unsigned /*flags*/, void* ctx) {
  *static_cast<std::size_t*>(ctx) = static_cast<std::size_t>(to);
  return 0;
}

// out[0, n + 1) = " " + `text` backwards, eight bytes at a time (a byte at a time took 7
// instructions a byte); `out` only grows, so that it is not cleared for every text.
void Reverse(std::string_view text, std::string& out) {
  const std::size_t n = text.size();
  if (out.size() < n + 1) out.resize(n + 1);
  out[0] = ' ';
  char* to = out.data() + 1;
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    std::uint64_t word;
    std::memcpy(&word, text.data() + n - i - 8, 8);
    word = __builtin_bswap64(word);
    std::memcpy(to + i, &word, 8);
  }
  for (; i < n; ++i) to[i] = text[n - 1 - i];
}

// Leftmost starts of the matches of one pattern whose ends are ends[first, last), from one scan
// of text[from, to): ends absent from the window's matches keep npos.
struct StartWindow {
  const std::vector<std::size_t>* ends;
  std::vector<std::size_t>* starts;
  std::size_t next, last, from;
};

int OnStart(unsigned /*id*/, unsigned long long from, unsigned long long to, unsigned /*flags*/, void* ctx) {
  auto& w = *static_cast<StartWindow*>(ctx);
  const std::size_t end = w.from + static_cast<std::size_t>(to);
  while (w.next < w.last && (*w.ends)[w.next] < end) ++w.next;
  if (w.next < w.last && (*w.ends)[w.next] == end) (*w.starts)[w.next] = w.from + static_cast<std::size_t>(from);
  return 0;
}

}  // namespace

Result<std::string> ReversedRegex(std::string_view regex) { return Reverser(regex).Run(); }

Result<std::vector<std::pair<std::size_t, unsigned>>> RegexEnds(const std::vector<std::string>& regexes,
                                                               std::string_view text) {
  std::vector<const char*> expressions;
  std::vector<unsigned> flags, ids;
  for (unsigned i = 0; i < regexes.size(); ++i) {
    expressions.push_back(regexes[i].c_str());
    flags.push_back(HS_FLAG_CASELESS);
    ids.push_back(i);
  }
  hs_database* db = nullptr;
  hs_compile_error_t* error = nullptr;
  if (hs_compile_multi(expressions.data(), flags.data(), ids.data(), static_cast<unsigned>(expressions.size()),
                       HS_MODE_BLOCK, nullptr, &db, &error) != HS_SUCCESS) {
    return CompileError(error, "set");
  }
  hs_scratch* scratch = nullptr;
  std::vector<PatternScanner::End> ends;
  const bool ok = hs_alloc_scratch(db, &scratch) == HS_SUCCESS &&
                  hs_scan(db, text.data(), static_cast<unsigned>(text.size()), 0, scratch, OnEnd, &ends) == HS_SUCCESS;
  hs_free_scratch(scratch);
  hs_free_database(db);
  if (!ok) return Error(ErrorCode::kInternal, "hyperscan: scan failed");
  std::vector<std::pair<std::size_t, unsigned>> out;
  for (const PatternScanner::End& e : ends) out.emplace_back(e.end, e.id);
  return out;
}

Result<std::string> CompilePatternDatabases() {
  CompiledPatterns c;
  const Status status = Compile(c);
  Result<std::string> out = status.ok() ? Serialize(c, Definitions()) : Result<std::string>(status);
  FreeDatabases(c);
  return out;
}

Status CheckPatternDatabases(std::string_view blob) {
  CompiledPatterns c;
  CALIPER_RETURN_IF_ERROR(Load(blob, Definitions(), c));
  FreeDatabases(c);
  return Status::Ok();
}

bool PatternDatabasesFromBuild() { return Process().from_build; }

Result<std::unique_ptr<PatternScanner>> PatternScanner::Create() {
  const CompiledPatterns& c = Compiled();
  if (!c.status.ok()) return c.status;
  std::unique_ptr<PatternScanner> s(new PatternScanner());
  s->infos_ = c.infos;
  // One scratch serves every database: each allocation grows it to fit.
  if (hs_alloc_scratch(c.ends, &s->scratch_) != HS_SUCCESS) {
    return Error(ErrorCode::kInternal, "hyperscan: cannot allocate scratch");
  }
  for (const auto* dbs : {&c.starts, &c.reversed}) {
    for (hs_database* db : *dbs) {
      if (db != nullptr && hs_alloc_scratch(db, &s->scratch_) != HS_SUCCESS) {
        return Error(ErrorCode::kInternal, "hyperscan: cannot allocate scratch");
      }
    }
  }
  s->by_pattern_.resize(c.infos.size());
  s->starts_.resize(c.infos.size());
  return s;
}

PatternScanner::~PatternScanner() { hs_free_scratch(scratch_); }

Status PatternScanner::FindStarts(std::string_view text, unsigned id) {
  const CompiledPatterns& c = Compiled();
  const std::vector<std::size_t>& ends = by_pattern_[id];
  std::vector<std::size_t>& starts = starts_[id];
  starts.assign(ends.size(), kNone);
  if (const std::size_t width = c.width[id]; width > 0) {
    for (std::size_t k = 0; k < ends.size(); ++k) starts[k] = ends[k] - width;
    return Status::Ok();
  }
  if (c.reversed[id] != nullptr) {
    // reversed_ is " " + the text backwards: text[e] is at reversed_[n - e], and the scan from
    // there reads text[e], then text[e - 1], ... down to text[0].
    if (!reversed_ready_) Reverse(text, reversed_);
    reversed_ready_ = true;
    for (std::size_t k = 0; k < ends.size(); ++k) {
      const std::size_t at = text.size() - ends[k];
      std::size_t farthest = 0;
      if (hs_scan(c.reversed[id], reversed_.data() + at, static_cast<unsigned>(text.size() + 1 - at), 0, scratch_,
                  OnReversedEnd, &farthest) != HS_SUCCESS) {
        return Error(ErrorCode::kInternal, "hyperscan: scan failed");
      }
      if (farthest > 0) starts[k] = ends[k] - (farthest - 1);  // the first byte read is text[e] itself
    }
    return Status::Ok();
  }
  // The match lies after the last whitespace before its end; ends with no whitespace between
  // them share one window, which starts at that whitespace (for a \b at the match's start).
  for (std::size_t k = 0; k < ends.size();) {
    std::size_t g = k + 1;
    while (g < ends.size() && std::none_of(text.begin() + static_cast<std::ptrdiff_t>(ends[g - 1]),
                                           text.begin() + static_cast<std::ptrdiff_t>(ends[g]), IsSpace)) {
      ++g;
    }
    std::size_t from = ends[k];
    while (from > 0 && !IsSpace(text[from - 1])) --from;
    from = from > 0 ? from - 1 : 0;
    // One byte past the last end, so that a \b there sees the text that follows.
    const std::size_t to = std::min(ends[g - 1] + 1, text.size());
    StartWindow w{&ends, &starts, k, g, from};
    if (hs_scan(c.starts[id], text.data() + from, static_cast<unsigned>(to - from), 0, scratch_, OnStart, &w) !=
        HS_SUCCESS) {
      return Error(ErrorCode::kInternal, "hyperscan: scan failed");
    }
    k = g;
  }
  return Status::Ok();
}

Status PatternScanner::Scan(std::string_view text, std::vector<PatternMatch>& out) {
  const CompiledPatterns& c = Compiled();
  ends_.clear();
  if (hs_scan(c.ends, text.data(), static_cast<unsigned>(text.size()), 0, scratch_, OnEnd, &ends_) != HS_SUCCESS) {
    return Error(ErrorCode::kInternal, "hyperscan: scan failed");
  }
  for (std::vector<std::size_t>& e : by_pattern_) e.clear();
  for (const End& e : ends_) by_pattern_[e.id].push_back(e.end);
  reversed_ready_ = false;  // made again, for this text, when a pattern first needs it
  for (unsigned id = 0; id < by_pattern_.size(); ++id) {
    std::vector<std::size_t>& ends = by_pattern_[id];
    if (ends.empty()) continue;
    // Nearly always in order already (see Keep).
    if (!std::is_sorted(ends.begin(), ends.end())) std::sort(ends.begin(), ends.end());
    CALIPER_RETURN_IF_ERROR(FindStarts(text, id));
  }
  // The matches in the order Hyperscan found their ends, each with its leftmost start.
  last_.assign(infos_.size(), kNone);
  for (const End& e : ends_) {
    const std::vector<std::size_t>& ends = by_pattern_[e.id];
    const auto at = std::lower_bound(ends.begin(), ends.end(), e.end) - ends.begin();
    const std::size_t from = starts_[e.id][static_cast<std::size_t>(at)];
    if (from == kNone) return Error(ErrorCode::kInternal, "hyperscan: no start for a match end");
    std::size_t to = e.end;
    const UrlTail tail = infos_[e.id].tail;
    if (tail == UrlTail::kRest || (tail == UrlTail::kPath && to < text.size() && text[to] == '/')) {
      while (to < text.size() && IsPathByte(text[to])) ++to;
    }
    Keep(e.id, from, to, last_[e.id], out);
  }
  return Status::Ok();
}

}  // namespace caliper::deid::text

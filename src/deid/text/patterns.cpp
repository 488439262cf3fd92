#include "deid/text/patterns.h"

#include <hs/hs.h>

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
    "square|trail|alley|crescent|st|ave|rd|ln|ct|blvd|hwy|pkwy|cir|ter)";
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
};

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
      {"\\+\\d{1,3}[\\s.-]?\\d{2,4}[\\s.-]?\\d{3,4}[\\s.-]?\\d{3,4}\\b", K::kIdentifier, T::kPhone, 3, false},
      {"\\b\\d{3}-\\d{4}\\b", K::kIdentifier, T::kPhone, 1, false},
      // SSN, e-mail, web addresses, IP addresses.
      {"\\b\\d{3}-\\d{2}-\\d{4}\\b", K::kIdentifier, T::kSsn, 5, false},
      {"\\b\\d{3}\\s\\d{2}\\s\\d{4}\\b", K::kIdentifier, T::kSsn, 2, false},
      {"[a-z0-9._%+-]+@[a-z0-9-]+(?:\\.[a-z0-9-]+)*\\.[a-z]{2,}", K::kIdentifier, T::kEmail, 6, true},
      {"\\b(?:https?|ftp)://[^\\s<>\"'()\\[\\]{}]+", K::kIdentifier, T::kUrl, 6, true},
      {"\\bwww\\.[a-z0-9-]+(?:\\.[a-z0-9-]+)+(?:/[^\\s<>\"'()\\[\\]{}]*)?", K::kIdentifier, T::kUrl, 6, true},
      {"\\b[a-z0-9-]+(?:\\.[a-z0-9-]+)*\\.(?:com|org|net|edu|gov|io|info|biz)\\b(?:/[^\\s<>\"'()\\[\\]{}]*)?",
       K::kIdentifier, T::kUrl, 2, true},
      {"\\b(?:\\d{1,3}\\.){3}\\d{1,3}\\b", K::kIdentifier, T::kIp, 5, false},
      {"\\b(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}\\b", K::kIdentifier, T::kIp, 5, true},
      {"\\b(?:[0-9a-f]{1,4}:){1,6}:(?:[0-9a-f]{1,4}:){0,5}[0-9a-f]{1,4}\\b", K::kIdentifier, T::kIp, 4, true},
      // Geography smaller than a state: street addresses, P.O. boxes, ZIP codes.
      {std::string("\\b\\d{1,6}[A-Za-z]?\\s+(?:[A-Z0-9][A-Za-z'.-]*\\s+){1,3}") + kStreetCap + "\\b\\.?" + kUnit,
       K::kIdentifier, T::kLocation, 4, false},
      {std::string("\\b\\d{1,6}[a-z]?\\s+(?:[a-z0-9][a-z'.-]*\\s+){1,3}") + kStreetFull + "\\b" + kUnit,
       K::kIdentifier, T::kLocation, 3, true},
      {"\\bp\\.?\\s?o\\.?\\s?box\\s+\\d+\\b", K::kIdentifier, T::kLocation, 4, true},
      {"\\b\\d{1,6}\\s+(?:rt|rte|route|hwy|highway|state\\s+route|county\\s+road)\\.?\\s*\\d{1,4}\\b",
       K::kIdentifier, T::kLocation, 4, true},
      {"\\b\\d{5}(?:-\\d{4})?\\b", K::kZip, T::kZip, 3, false},
      // Labels that type the identifier after them.
      {"\\b(?:mrn|mr\\s*no|medical\\s+record(?:\\s+(?:number|no|num))?|med\\s+rec|chart\\s+(?:number|no)|"
       "patient\\s+id|pt\\s+id|hospital\\s+(?:number|no)|unit\\s+(?:number|no))\\b|\\bmr#",
       K::kLabel, T::kMrn, 0, true},
      {"\\b(?:account|acct|billing\\s+(?:number|no))\\b", K::kLabel, T::kAccount, 0, true},
      {"\\b(?:licen[cs]e|lic|dl|dea|npi|certificate|cert)\\b", K::kLabel, T::kLicense, 0, true},
      {"\\b(?:plate|vin|vehicle)\\b", K::kLabel, T::kVehicle, 0, true},
      {"\\b(?:serial|s/n|sn|device\\s+id|udi|implant\\s+id|lot)\\b", K::kLabel, T::kDevice, 0, true},
      {"\\b(?:member(?:\\s+id)?|policy(?:\\s+(?:number|no))?|group\\s+(?:number|no)|insurance\\s+id|"
       "subscriber(?:\\s+id)?|beneficiary|medicaid|medicare|health\\s+plan|accession(?:\\s+(?:number|no))?|"
       "specimen(?:\\s+id)?|encounter(?:\\s+id)?|visit\\s+id|case\\s+(?:number|no)|order\\s+(?:number|no)|"
       "claim(?:\\s+(?:number|no))?)\\b",
       K::kLabel, T::kId, 0, true},
      {"\\b(?:ssn|social\\s+security(?:\\s+(?:number|no))?)\\b|\\bss#", K::kLabel, T::kSsn, 0, true},
      {"\\b(?:phone|ph|tel|telephone|cell|mobile|pager|beeper|contact|call|callback|call\\s+back|reached\\s+at)\\b",
       K::kLabel, T::kPhone, 0, true},
      {"\\b(?:fax|facsimile)\\b", K::kLabel, T::kFax, 0, true},
      {"\\b(?:zip|zip\\s+code|postal\\s+code)\\b", K::kLabel, T::kZip, 0, true},
  };
}

struct ScanContext {
  std::vector<PatternMatch>* out;
  std::vector<std::size_t>* last;  // index in *out of the last match of each pattern, or npos
  const std::vector<PatternInfo>* infos;
};

int OnMatch(unsigned id, unsigned long long from, unsigned long long to, unsigned /*flags*/,
            void* ctx) {
  auto& c = *static_cast<ScanContext*>(ctx);
  std::size_t& last = (*c.last)[id];
  if ((*c.infos)[id].kind == PatternKind::kLabel) {
    // Labels are compiled without start of match (only where they end is used): every end
    // is a match; the same end twice is one.
    if (last == std::size_t(-1) || (*c.out)[last].end != to) {
      last = c.out->size();
      c.out->push_back({static_cast<std::size_t>(to), static_cast<std::size_t>(to), id});
    }
    return 0;
  }
  if (last != std::size_t(-1)) {
    PatternMatch& prev = (*c.out)[last];
    if (prev.begin == from) {  // the same match, longer
      prev.end = to;
      return 0;
    }
    if (from < prev.end) return 0;  // starts inside the previous match of this pattern
  }
  last = c.out->size();
  c.out->push_back({static_cast<std::size_t>(from), static_cast<std::size_t>(to), id});
  return 0;
}

// The database is compiled once per process (it takes about a second) and shared: Hyperscan
// databases are immutable and may be scanned from many threads, each with its own scratch.
struct CompiledPatterns {
  hs_database* db = nullptr;
  std::vector<PatternInfo> infos;
  Status status;
};

const CompiledPatterns& Compiled() {
  static const CompiledPatterns kCompiled = [] {
    CompiledPatterns c;
    const std::vector<PatternDef> defs = Definitions();
    std::vector<const char*> expressions;
    std::vector<unsigned> flags, ids;
    for (unsigned i = 0; i < defs.size(); ++i) {
      expressions.push_back(defs[i].regex.c_str());
      // Start of match is costly to track; label matches need only their end.
      const unsigned som = defs[i].kind == PatternKind::kLabel ? 0u : HS_FLAG_SOM_LEFTMOST;
      flags.push_back(som | (defs[i].caseless ? HS_FLAG_CASELESS : 0u));
      ids.push_back(i);
      c.infos.push_back({defs[i].kind, defs[i].type, defs[i].priority});
    }
    hs_compile_error_t* error = nullptr;
    if (hs_compile_multi(expressions.data(), flags.data(), ids.data(),
                         static_cast<unsigned>(expressions.size()), HS_MODE_BLOCK, nullptr,
                         &c.db, &error) != HS_SUCCESS) {
      std::string message = "hyperscan: ";
      message += error && error->message ? error->message : "compile failed";
      if (error && error->expression >= 0) {
        message += " in pattern " + std::to_string(error->expression);
      }
      hs_free_compile_error(error);
      c.status = Error(ErrorCode::kInternal, message);
    }
    return c;
  }();
  return kCompiled;
}

}  // namespace

Result<std::unique_ptr<PatternScanner>> PatternScanner::Create() {
  const CompiledPatterns& c = Compiled();
  if (!c.status.ok()) return c.status;
  std::unique_ptr<PatternScanner> s(new PatternScanner());
  s->db_ = c.db;
  s->infos_ = c.infos;
  if (hs_alloc_scratch(s->db_, &s->scratch_) != HS_SUCCESS) {
    return Error(ErrorCode::kInternal, "hyperscan: cannot allocate scratch");
  }
  return s;
}

PatternScanner::~PatternScanner() { hs_free_scratch(scratch_); }

Status PatternScanner::Scan(std::string_view text, std::vector<PatternMatch>& out) {
  std::vector<std::size_t> last(infos_.size(), std::size_t(-1));
  ScanContext ctx{&out, &last, &infos_};
  const hs_error_t rc = hs_scan(db_, text.data(), static_cast<unsigned>(text.size()), 0,
                                scratch_, OnMatch, &ctx);
  if (rc != HS_SUCCESS) return Error(ErrorCode::kInternal, "hyperscan: scan failed");
  return Status::Ok();
}

}  // namespace caliper::deid::text

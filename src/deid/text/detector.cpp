#include "deid/text/detector.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <unordered_map>

#include "deid/text/labels.h"
#include "deid/text/lexicon.h"
#include "deid/text/patterns.h"
#include "deid/text/spelled_ordinal.h"
#include "deid/text/utf8.h"

namespace caliper::deid::text {
namespace {

// Segments are scanned one at a time so that memory for words and matches stays bounded on a
// very long text; they end at a line break (or a space, or any code point boundary).
constexpr std::size_t kSegmentBytes = std::size_t{1} << 20;

bool IsAsciiAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAsciiUpper(char c) { return c >= 'A' && c <= 'Z'; }
char Lower(char c) { return IsAsciiUpper(c) ? static_cast<char>(c - 'A' + 'a') : c; }
std::string LowerWord(std::string_view w) {
  std::string out(w);
  for (char& c : out) c = Lower(c);
  return out;
}
bool IsBlank(char c) { return c == ' ' || c == '\t'; }
bool IsSpaceByte(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Non-ASCII code points count as letters except punctuation, symbols and spaces of the
// Latin-1 supplement and the general punctuation block (U+2000..U+206F), ideographic
// punctuation (U+3000..U+303F), the byte-order mark and × ÷.
bool IsLetterCodePoint(char32_t cp) {
  if (cp < 0x80) return IsAsciiAlpha(static_cast<char>(cp));
  if (cp < 0xC0) return false;
  if (cp == 0xD7 || cp == 0xF7) return false;
  if (cp >= 0x2000 && cp <= 0x206F) return false;
  if (cp >= 0x3000 && cp <= 0x303F) return false;
  if (cp == 0xFEFF) return false;
  return true;
}

// Upper-case Latin letters outside ASCII (Latin-1 and Latin Extended-A/B, Vietnamese), enough
// to see that "Åsa" and "Çelik" are capitalised.
bool IsUpperCodePoint(char32_t cp) {
  if (cp < 0x80) return IsAsciiUpper(static_cast<char>(cp));
  if (cp >= 0xC0 && cp <= 0xDE) return cp != 0xD7;
  if (cp >= 0x100 && cp <= 0x17F) return cp % 2 == 0;
  return false;
}

// Kept small (56 bytes): a segment has some 170,000 words, and every rule walks them.
struct Word {
  std::string_view lower;          // ASCII letters folded; points into Detector::Scratch::lower
  std::uint64_t hash = 0;          // HashWord(lower)
  std::uint32_t begin = 0, end = 0;  // bytes in the segment (at most kSegmentBytes)
  float first = 0, last = 0;       // dictionary prevalence
  std::int16_t score = 0;
  std::uint8_t grammar = 0;        // Grammar flags
  std::uint8_t phrase = 0;         // Phrase flags
  bool cap = false;                // first letter upper case
  bool all_caps = false;           // every ASCII letter upper case, length >= 2
  bool common = false;             // a common English word
  bool calendar = false;           // month or weekday name
  bool city = false;               // a one-word city name
  bool city_start = false;         // the first word of some city name
  bool state = false;              // a state name or abbreviation
  bool name = false;
  bool cue_name = false;  // a lower-case name that context alone makes one ("dr okafor")
  bool sentence_start = false;  // first word, or one of .!?:; or a line break since the last word
  bool plain = false;           // ASCII letters only (no apostrophe, hyphen or other letter)
  bool label_head = false;      // the first word of a label phrase ("medical" in "medical record")
};
static_assert(sizeof(Word) == 56);

// The fixed vocabulary of the rules (grammar of the context cues, not a dictionary of PHI),
// as bit flags so that each word is looked up once (RuleFlagsOf) rather than in every list.
enum Grammar : std::uint8_t {
  kTitle = 1u << 0,
  kNameCue = 1u << 1,
  kCredential = 1u << 2,
  kCalendar = 1u << 3,
  kInstitution = 1u << 4,
  kPlaceCue = 1u << 5,
  kEmployerCue = 1u << 6,
  kRelation = 1u << 7,  // a relative or carer ("daughter", "dtr", "wife"); also a name cue
};

// Adds a rule's words to a word -> flags map.
using RuleWordMap = std::unordered_map<std::string_view, std::uint8_t>;
void AddRuleWords(RuleWordMap& t, std::uint8_t flag, std::initializer_list<std::string_view> words) {
  for (std::string_view word : words) t[word] |= flag;
}

RuleWordMap GrammarWords() {
  RuleWordMap t;
  auto add = [&](std::uint8_t flag, std::initializer_list<std::string_view> words) { AddRuleWords(t, flag, words); };
  add(kTitle, {"dr", "mr", "mrs", "ms", "miss", "mx", "prof", "doctor", "dra", "np", "atty", "rev", "señora", "señor",
               "sra", "senhora", "senhor"});
  add(kNameCue, {"patient", "pt", "name", "attending", "physician", "surgeon", "nurse", "rn", "pcp",
                 "resident", "fellow", "intern", "provider", "by", "cc", "signed", "guardian", "friend",
                 "grandmother", "grandfather", "companion", "neighbor", "neighbour", "roommate", "manager",
                 "worker", "counselor", "counsellor", "therapist", "teacher", "advocate", "sibling", "cousin",
                 "coach", "landlord", "landlady", "pastor", "boss", "coworker", "co-worker", "housemate",
                 "classmate", "babysitter", "sitter", "nanny", "chaplain", "sponsor", "aide", "subscriber", "insured",
                 "guarantor", "policyholder", "pharmacist", "emt", "medic", "paramedic", "rep", "officer", "caller",
                 "assistant", "doula", "midwife", "tech", "technician", "circulator", "anesthesiologist",
                 "anesthetist", "named",
                 "dear"});  // a letter's salutation ("Dear Maria,")
  add(kNameCue | kRelation,
      {"daughter", "son", "wife", "husband", "mother", "father", "sister", "brother", "spouse", "partner", "niece",
       "nephew", "aunt", "uncle", "grandson", "granddaughter", "mom", "dad", "fiance", "fiancee", "caregiver",
       "dtr", "dau", "husb", "sis", "bro", "stepson", "stepdaughter", "son-in-law", "daughter-in-law", "grandma",
       "grandpa", "girlfriend", "boyfriend", "stepdad", "stepmom", "stepmother", "stepfather",
       // Spanish and Portuguese ("su hija Carmen", "filho João").
       "hija", "hijo", "esposa", "esposo", "marido", "hermana", "hermano", "filha", "filho", "irmã", "irmão",
       "mãe"});
  add(kCredential, {"md", "do", "rn", "np", "pa", "phd", "dds", "dmd", "mbbs", "frcp", "lpn", "cnp",
                    "aprn", "crna", "dpm", "od", "pharmd", "lcsw", "cna", "lvn"});
  add(kCalendar, {"january", "february", "march", "april", "may", "june", "july", "august",
                  "september", "october", "november", "december", "jan", "feb", "mar", "apr",
                  "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "monday", "tuesday",
                  "wednesday", "thursday", "friday", "saturday", "sunday", "tues", "weds", "thur", "thurs"});
  add(kInstitution, {"hospital", "clinic", "center", "centre", "infirmary", "school", "library",
                     "university", "college", "institute", "pharmacy", "cvs", "walgreens", "walmart",
                     "costco", "hospice", "sanatorium", "elementary",
                     "academy", "church", "practice", "laboratory", "laboratories", "company", "inc",
                     "corporation", "corp", "llc", "associates", "court", "schools"});
  add(kPlaceCue, {"in", "from", "near", "to", "at", "of"});
  add(kEmployerCue, {"works", "work", "worked", "working", "employed", "employer", "employee",
                     "formerly", "retired", "job"});
  return t;
}

bool In(std::string_view w, std::initializer_list<std::string_view> set) {
  return std::find(set.begin(), set.end(), w) != set.end();
}
// Verbs that move a patient between hospitals ("transferred from", "xfer to").
bool IsTransferVerb(std::string_view w) { return In(w, {"transferred", "transfer", "xfer", "xferred", "transported"}); }
// Modal verbs, some of them listed first names ("son will call", "daughter in law will call").
bool IsModal(std::string_view w) {
  return In(w, {"will", "can", "shall", "would", "could", "should", "might", "must"});
}

// The words that anchor the phrase rules (WordPass::Phrases), looked up with the Grammar words
// (RuleFlagsOf).
enum Phrase : std::uint8_t {
  kAgeCue = 1u << 0,          // "pt ninety-two", "who is 100", "alive, 93"
  kNicknameCue = 1u << 1,     // "goes by", "aka", "(be) called", "known as", "prefers"
  kFacility = 1u << 2,        // a facility word ending a lower-case facility name ("maplewood snf")
  kResidence = 1u << 3,       // one where people stay: any name word may precede it after "to", "at"
  kFacilityPair = 1u << 4,    // the second word of "nursing home", "medical center", ...
  kPlaceVerb = 1u << 5,       // "transferred from", "born in", "moved to" before a city
  kSurnameParticle = 1u << 6, // "np de la cruz"
  kAgeWord = 1u << 7,         // "nonagenarian": an age over 89 in one word
};
RuleWordMap PhraseWords() {
  RuleWordMap t;
  auto add = [&](std::uint8_t flag, std::initializer_list<std::string_view> words) { AddRuleWords(t, flag, words); };
  add(kAgeCue, {"pt", "patient", "who", "alive"});
  add(kNicknameCue, {"by", "aka", "called", "as", "nickname", "nicknamed", "prefers"});
  add(kFacility, {"hospital", "clinic", "hospice", "snf", "rehab", "ltach", "shelter", "daycare", "preschool"});
  add(kResidence, {"snf", "rehab", "ltach", "shelter", "daycare", "preschool"});
  add(kFacilityPair, {"home", "living", "center", "centre", "school"});
  add(kPlaceVerb, {"transferred", "transfer", "xfer", "xferred", "transported", "arrived", "sent", "born",
                   "lives", "living", "resides", "residing", "moved", "relocated", "up"});
  add(kSurnameParticle, {"de", "del", "della", "van", "von", "da", "di", "du", "le", "la", "mac", "mc", "al",
                         "el", "bin", "ben", "der", "den", "ni", "nic", "dos", "das", "ter"});
  add(kAgeWord, {"nonagenarian", "nonagenarians", "centenarian", "centenarians", "supercentenarian"});
  return t;
}

// A word's Grammar and Phrase flags, from one lookup (two took 4% of the time on clinicians'
// notes); `hash` is HashWord(w).
struct RuleFlags {
  std::uint8_t grammar = 0, phrase = 0;
  bool label_head = false;  // one of LabelHeads()
};
RuleFlags RuleFlagsOf(std::string_view w, std::uint64_t hash) {
  static const StringTable<RuleFlags> kTable = [] {
    std::unordered_map<std::string_view, RuleFlags> t;
    for (const auto& [word, flag] : GrammarWords()) t[word].grammar = flag;
    for (const auto& [word, flag] : PhraseWords()) t[word].phrase = flag;
    for (std::string_view head : LabelHeads()) t[head].label_head = true;
    return StringTable<RuleFlags>({t.begin(), t.end()});
  }();
  const RuleFlags* flags = kTable.Find(w, hash);
  return flags == nullptr ? RuleFlags{} : *flags;
}
// Whether lower-case `w` is a credential ("md", "rn"), from GrammarWords: a table of its own, so
// that RuleFlagsOf keeps a single caller and stays inlined in the word pass (a second one cost 3 %).
bool IsCredential(std::string_view w) {
  static const StringTable<bool> kTable = [] {
    std::vector<std::pair<std::string_view, bool>> t;
    for (const auto& [word, flag] : GrammarWords()) {
      if (flag & kCredential) t.emplace_back(word, true);
    }
    return StringTable<bool>(t);
  }();
  return kTable.Find(w) != nullptr;
}
// A word that ends an organisation's name without saying "hospital" or "clinic": what it does or
// how it is organised ("Kearns Family Health", "Front Range Medical Transport", "Green Hills
// Manor", "Magic City Dermatology"). A rule, not a dictionary: the names before it are not listed.
// `hash` is HashWord(w).
bool IsOrganisationWord(std::string_view w, std::uint64_t hash) {
  static const StringTable<bool> kTable = [] {
    std::vector<std::pair<std::string_view, bool>> t;
    for (std::string_view word :
         {"health", "services", "network", "transport", "manor", "regional", "general", "partners", "group",
          "specialists", "medicine", "respiratory", "dermatology", "cardiology", "gastroenterology", "oncology",
          "hematology", "neurology", "urology", "orthopedics", "pediatrics", "radiology", "imaging"}) {
      t.emplace_back(word, true);
    }
    return StringTable<bool>(t);
  }();
  return w.size() >= 5 && kTable.Find(w, hash) != nullptr;  // "group" is the shortest
}
// Words that, first before an organisation word, make the phrase a kind of care or a department
// rather than a name ("Emergency Medical Services", "Adult Protective Services", "Internal
// Medicine", "Behavioral Health"), or an order to one ("Consult Pediatric Cardiology").
bool IsCareKindWord(std::string_view w) {
  return In(w, {"emergency", "adult", "child", "protective", "social", "family", "internal", "primary", "pediatric",
                "behavioral", "behavioural", "mental", "home", "community", "public", "occupational", "physical",
                "urgent", "critical", "intensive", "palliative", "interventional", "surgical", "clinical", "nuclear",
                "sleep", "sports", "preventive", "women's", "men's", "maternal", "veterans", "student", "employee",
                "integrative", "geriatric", "adolescent", "oral", "consult", "consulted", "called", "per", "paged",
                "notified", "contacted", "discussed", "see", "seen", "refer", "referred", "please", "follow", "with",
                "vascular", "cardiac", "pulmonary", "infectious", "digestive", "environmental"});
}
// A word that comes after an eponym ("disease" in "Lyme disease"), by where else it may come.
enum class AfterEponym : std::uint8_t {
  kNone,
  kRightAfter,    // only right after it ("Clark level", "Blake drain")
  kTwoNames,      // also after two capitalised names: a finding only an eponym comes before
                  // ("Austin Flint murmur"; a person is "seen with Maria Lopez", never "Maria Lopez murmur")
  kOneWordLater,  // also one word later ("Glasgow coma scale", "Amsterdam II criteria")
};
// One hashed lookup: Places asks Eponym of every word that may start a city name.
AfterEponym EponymNoun(const Word& w) {
  using A = AfterEponym;
  static const StringTable<A> kTable({
      {"disease", A::kRightAfter}, {"syndrome", A::kRightAfter}, {"sign", A::kRightAfter}, {"test", A::kRightAfter},
      {"maneuver", A::kRightAfter}, {"virus", A::kRightAfter}, {"fever", A::kRightAfter},
      {"procedure", A::kRightAfter}, {"classification", A::kRightAfter}, {"palsy", A::kRightAfter},
      {"phenomenon", A::kRightAfter}, {"model", A::kRightAfter}, {"level", A::kRightAfter},
      {"esophagus", A::kRightAfter}, {"paralysis", A::kRightAfter}, {"neuroma", A::kRightAfter},
      {"fracture", A::kRightAfter}, {"triad", A::kRightAfter}, {"pentad", A::kRightAfter}, {"drain", A::kRightAfter},
      {"murmur", A::kTwoNames}, {"pupil", A::kTwoNames}, {"protein", A::kTwoNames}, {"node", A::kTwoNames},
      {"scale", A::kOneWordLater}, {"score", A::kOneWordLater}, {"criteria", A::kOneWordLater},
  });
  const A* after = kTable.Find(w.lower, w.hash);
  return after == nullptr ? A::kNone : *after;
}
bool UnitAfter(std::string_view s, std::size_t i);
int ParseInt(std::string_view s);
// Words that may follow a label before its identifier ("MRN number: 123").
bool IsLabelSeparator(char c) {
  return c == ' ' || c == '\t' || c == ':' || c == '#' || c == '=' || c == '.' || c == '-';
}
bool IsLabelFiller(std::string_view w) {
  return In(w, {"number", "no", "num", "nr", "id", "is", "of", "code", "on", "file", "ph", "at", "to", "her",
                "him", "me", "them",
                // what is sent ("fax results to 617-555-0142")
                "results", "result", "report", "reports", "records", "copy", "copies", "labs", "orders", "notes",
                "forms", "paperwork", "it"});
}

// What the tokenizer does with each byte: an ASCII letter maps to its lower case (with
// kUpperBit when it was upper case); other ASCII bytes to kStopByte when they end a sentence or a
// field (.!?:; and line breaks: "Seen today. Smith", "Name: Smith") and kOtherByte otherwise;
// bytes of multi-byte code points to kMultiByte (decoded).
constexpr std::uint8_t kOtherByte = 0, kStopByte = 1, kMultiByte = 2, kUpperBit = 0x80;
constexpr std::array<std::uint8_t, 256> kByteClass = [] {
  std::array<std::uint8_t, 256> t{};
  t.fill(kOtherByte);
  for (int c = 0x80; c < 0x100; ++c) t[c] = kMultiByte;
  for (char c : std::string_view(".!?\n:;")) t[static_cast<unsigned char>(c)] = kStopByte;
  for (int c = 'a'; c <= 'z'; ++c) {
    t[c] = static_cast<std::uint8_t>(c);
    t[c - 'a' + 'A'] = static_cast<std::uint8_t>(c | kUpperBit);
  }
  return t;
}();
constexpr bool IsLetterClass(std::uint8_t t) { return (t & ~kUpperBit) >= 'a'; }
constexpr std::array<bool, 256> kAlnumByte = [] {
  std::array<bool, 256> t{};
  for (int c = 0; c < 256; ++c) t[c] = (c >= '0' && c <= '9') || IsLetterClass(kByteClass[c]);
  return t;
}();
bool IsAlnumByte(char c) { return kAlnumByte[static_cast<unsigned char>(c)]; }  // ASCII letter or digit
// Whether the label ending at byte `end` names a pager ("pager", "beeper", with a ':' or '#' after
// it). "pgr" is no label: it is as often the progesterone receptor ("PgR 1234 fmol/mg").
bool PagerLabelEndsAt(std::string_view s, std::size_t end) {
  while (end > 0 && !IsAsciiAlpha(s[end - 1])) --end;
  std::size_t b = end;
  while (b > 0 && IsAsciiAlpha(s[b - 1])) --b;
  if (end - b > 6) return false;
  char w[6];
  for (std::size_t k = b; k < end; ++k) w[k - b] = Lower(s[k]);
  const std::string_view word(w, end - b);
  return word == "pager" || word == "beeper";
}
// The end of a handle ("mlopez", "maria.lopez", "jdoe_51") from byte `i`: letters, digits, '_'
// and '.' inside it; a '.' that ends it is the sentence's.
std::size_t HandleEnd(std::string_view s, std::size_t i) {
  std::size_t e = i;
  while (e < s.size() && (IsAlnumByte(s[e]) || s[e] == '_' || (s[e] == '.' && e + 1 < s.size() &&
                                                                  IsAlnumByte(s[e + 1])))) {
    ++e;
  }
  return e;
}

// Appends the words of `s` (runs of letters, with inner apostrophes and hyphens) to `words`,
// and writes their lower-case forms to the start of `lower`, which the words' views point into.
// A lower-case form is never longer than its word, so `lower` is grown to s.size() when shorter
// and written through a pointer (a push_back per letter was a third of the time). It is never
// shrunk, so that a buffer kept between texts is not zero-filled again for each.
void Tokenize(std::string_view s, std::string& lower, std::vector<Word>& words) {
  if (lower.size() < s.size()) lower.resize(s.size());
  char* const arena = lower.data();
  char* out = arena;
  const std::size_t n = s.size();
  bool stop = true;  // a stop since the last word (or the text's start)
  std::size_t i = 0;
  while (i < n) {
    std::uint8_t t = kByteClass[static_cast<unsigned char>(s[i])];
    std::size_t len = 1;
    char32_t cp = 0;
    if (t == kMultiByte) {
      cp = DecodeAt(s, i, len);
      if (!IsLetterCodePoint(cp)) {
        i += len;
        continue;
      }
    } else if (!IsLetterClass(t)) {
      stop |= t == kStopByte;
      ++i;
      continue;
    }
    Word& w = words.emplace_back();
    w.begin = static_cast<std::uint32_t>(i);
    w.cap = t == kMultiByte ? IsUpperCodePoint(cp) : (t & kUpperBit) != 0;
    w.sentence_start = stop;
    stop = false;
    char* const word_lower = out;
    std::uint8_t upper = kUpperBit;  // every letter so far upper case
    std::size_t not_letters = 0;     // bytes of `lower` that are not one letter each
    while (i < n) {
      t = kByteClass[static_cast<unsigned char>(s[i])];
      if (IsLetterClass(t)) {  // the common case, without decoding
        upper &= t;
        *out++ = static_cast<char>(t & ~kUpperBit);
        ++i;
        continue;
      }
      std::size_t l = 1;
      const char32_t u = t == kMultiByte ? DecodeAt(s, i, l) : static_cast<unsigned char>(s[i]);
      if (t == kMultiByte && IsLetterCodePoint(u)) {
        if (!IsUpperCodePoint(u)) upper = 0;
        std::memcpy(out, s.data() + i, l);
        out += l;
        not_letters += l - 1;
        i += l;
        continue;
      }
      // An apostrophe or hyphen between letters stays inside the word (O'Brien, Mary-Jo).
      if ((u == '\'' || u == '-' || u == 0x2019) && i + l < n) {
        std::size_t l2 = 1;
        if (IsLetterCodePoint(DecodeAt(s, i + l, l2))) {
          *out++ = u == '-' ? '-' : '\'';
          ++not_letters;
          i += l;
          continue;
        }
      }
      break;
    }
    w.end = static_cast<std::uint32_t>(i);
    const std::size_t bytes = static_cast<std::size_t>(out - word_lower);
    w.all_caps = upper != 0 && bytes - not_letters >= 2;
    w.plain = not_letters == 0;
    w.lower = std::string_view(word_lower, bytes);
  }
}

// The bytes between two words, e.g. " ", ", ", ". ".
std::string_view Gap(std::string_view s, const Word& a, const Word& b) {
  return s.substr(a.end, b.begin - a.end);
}
bool IsSpaceGap(std::string_view g) { return g == " "; }
// True when only spaces, tabs and one optional ':' or '.' separate two words on one line.
bool IsCueGap(std::string_view g) {
  int punct = 0;
  for (char c : g) {
    if (c == ' ' || c == '\t') continue;
    if ((c == ':' || c == '.' || c == ',') && ++punct <= 1) continue;
    return false;
  }
  return !g.empty() && g.size() <= 4;
}
// A capital letter and its full stop ("John Q. Smith"), but not the first letter of a credential
// written with stops ("Morales, Ana M.D.", "D.O.", "R.N.").
bool IsInitial(std::string_view s, const Word& w) {
  if (w.end - w.begin != 1 || !w.cap || w.end >= s.size() || s[w.end] != '.') return false;
  std::string letters(1, Lower(s[w.begin]));
  for (std::size_t k = w.end + 1; k + 1 < s.size() && IsAsciiAlpha(s[k]) && s[k + 1] == '.'; k += 2) {
    letters += Lower(s[k]);
  }
  return letters.size() == 1 || !IsCredential(letters);
}

// "3rd", "21st": a day of the month in digits with its ordinal suffix at byte `i` of `s`, and no
// letter or digit after it; returns where it ends, or 0.
std::size_t DigitOrdinalDayEnd(std::string_view s, std::size_t i) {
  std::size_t k = i;
  while (k < s.size() && IsDigit(s[k]) && k - i < 3) ++k;
  if (k == i || k - i > 2 || k + 2 > s.size()) return 0;
  const int day = ParseInt(s.substr(i, k - i));
  const std::string suffix = LowerWord(s.substr(k, 2));
  if (day < 1 || day > 31 || !In(suffix, {"st", "nd", "rd", "th"})) return 0;
  return k + 2 == s.size() || !IsAlnumByte(s[k + 2]) ? k + 2 : 0;
}

// "seen on the 5th.", "on the 12th at 3 pm": a day of the month alone after "on the", where the
// phrase ends or a time or an agent follows; not "on the 5th floor", "on the 2nd, 3rd toes",
// "on the 3rd attempt". Returns where the day ends, or `i`.
std::size_t OnTheDayEnd(std::string_view s, std::size_t i) {
  constexpr std::string_view kOnThe = "on the ";  // compared in place: most tokens here are doses ("5mg")
  if (i < kOnThe.size() || (i > kOnThe.size() && IsAsciiAlpha(s[i - kOnThe.size() - 1]))) return i;
  for (std::size_t k = 0; k < kOnThe.size(); ++k) {
    if (Lower(s[i - kOnThe.size() + k]) != kOnThe[k]) return i;
  }
  const std::size_t e = DigitOrdinalDayEnd(s, i);
  if (e == 0) return i;
  if (e == s.size() || std::strchr(".;)\n", s[e]) != nullptr) return e;
  if (s[e] == ',') return e + 2 < s.size() && s[e + 1] == ' ' && IsDigit(s[e + 2]) ? i : e;
  if (s[e] != ' ') return i;
  std::size_t k = e + 1;
  while (k < s.size() && IsAsciiAlpha(s[k])) ++k;
  return In(LowerWord(s.substr(e + 1, k - e - 1)), {"at", "by", "when"}) ? e : i;
}

// ---- the name and place pass -------------------------------------------------------------

class WordPass {
 public:
  // `original` is `s` before its soft line breaks were blanked (Unwrapped), for the rules that
  // read a record's lines; `s` itself when it has none.
  WordPass(std::string_view s, std::string_view original, std::vector<Word>& words,
           const std::vector<std::vector<std::string>>& clinicians, StringSet& known,
           std::vector<ByteSpan>& out, std::size_t base)
      : s_(s), original_(original), w_(words), clinicians_(clinicians), known_(known), out_(out), base_(base) {}

  // Looks every word up once: dictionaries and rule words (before Run, and before the labels,
  // which start at words with label_head).
  void LookUp() {
    const Lexicon& lex = Lexicon::Get();
    for (Word& w : w_) w.hash = HashWord(w.lower);
    constexpr std::size_t kAhead = 8;  // words looked up ahead: the dictionary is not in cache
    for (std::size_t i = 0; i < w_.size(); ++i) {
      if (i + 2 * kAhead < w_.size()) lex.Prefetch(w_[i + 2 * kAhead].hash);
      if (i + kAhead < w_.size()) lex.PrefetchItem(w_[i + kAhead].hash);
      Word& w = w_[i];
      if (const Lexicon::Entry* e = lex.Find(w.lower, w.hash)) {
        w.first = e->first;
        w.last = e->last;
        w.common = e->common;
        w.city = e->city;
        w.city_start = e->city_start;
        w.state = e->state;
      }
      const RuleFlags rule = RuleFlagsOf(w.lower, w.hash);
      w.grammar = rule.grammar;
      w.phrase = rule.phrase;
      w.calendar = (w.grammar & kCalendar) != 0;
      w.label_head = rule.label_head;
    }
  }

  // Names and places, after LookUp.
  void Run() {
    ScoreNames();
    Phrases();
    EmitNames();
    Places();
  }

 private:
  // "dr page pending": the word after a title is the message to the doctor, not a surname,
  // when a word saying what became of it follows.
  bool MessageAfter(std::size_t i) const {
    return i + 1 < w_.size() && IsSpaceGap(Gap(s_, w_[i], w_[i + 1])) &&
           In(w_[i + 1].lower, {"pending", "sent", "placed", "returned", "answered", "unanswered", "out", "x",
                                "again", "made", "awaiting", "re", "to", "for", "about"});
  }

  // A chain whose stores are known by their street ("cvs on elm"); its name alone is no place
  // ("Called Walgreens" is not a facility name).
  static bool IsPharmacyChain(const Word& w) {
    return (w.grammar & kInstitution) && In(w.lower, {"cvs", "walgreens", "walmart", "costco"});
  }

  // A word that may be part of a name once context says a name is there.
  bool NameLike(const Word& w, bool after_cue) const {
    if (w.calendar || (w.grammar & (kTitle | kCredential))) return false;
    if (w.all_caps && !after_cue) return false;
    if (w.cap) return !w.common || w.first > 0 || w.last > 0;
    // Lower-case text: a dictionary name right after a cue.
    return after_cue && (w.first > 0 || w.last > 0);
  }

  // A lower-case word that could only be a name: in no common-word list, no rule word, at
  // least three letters ("okafor" in "dr okafor", "xiomara" in "daughter xiomara").
  static bool LowerName(const Word& w) {
    return !w.cap && !w.common && !w.calendar && w.grammar == 0 && w.lower.size() >= 3;
  }

  // A cue that names a person other than a relative ("roommate", "coach", "sibling"): after it a
  // word in no list is a given name ("her roommate tyrell", "coach jaylen said").
  static bool PersonNoun(const Word& w) {
    return In(w.lower, {"friend", "companion", "neighbor", "neighbour", "roommate", "manager", "worker", "counselor",
                        "counsellor", "therapist", "teacher", "advocate", "sibling", "cousin", "grandmother",
                        "grandfather", "guardian", "coach", "landlord", "landlady", "pastor", "boss", "coworker",
                        "co-worker", "housemate", "classmate", "babysitter", "sitter", "nanny", "chaplain", "sponsor",
                        "aide", "subscriber", "insured", "guarantor", "policyholder", "pharmacist", "emt", "medic",
                        "paramedic", "rep", "officer"});
  }

  // A clinician's role that is a name cue but no PersonNoun (a word in no list after it is a
  // surname as often as a given name: "rn okonkwo", "tech haggerty").
  static bool CareRole(const Word& w) {
    return In(w.lower, {"rn", "nurse", "tech", "technician", "circulator", "midwife", "doula"});
  }

  // A name in capitals after a cue and a colon, from word `k`: particles ("DE LA"), then a surname
  // and a listed first name after ", " or " " ("SMITH, JOHN", "JOHN SMITH"), or one listed name
  // that is no common word ("OKAFOR"). "PATIENT: ALERT AND ORIENTED" is no name.
  void HeaderNameAt(std::size_t k) {
    const std::size_t n = w_.size();
    const std::size_t b = k;
    while (k + 1 < n && (w_[k].phrase & kSurnameParticle) && w_[k].all_caps && IsSpaceGap(Gap(s_, w_[k], w_[k + 1]))) {
      ++k;
    }
    const auto word = [&](const Word& w) { return w.all_caps && !w.calendar && w.grammar == 0 && w.lower.size() >= 2; };
    if (!word(w_[k])) return;
    std::size_t e = k;
    if (k + 1 < n && word(w_[k + 1]) && !w_[k + 1].state && !IsModal(w_[k].lower) &&
        (w_[k].first > 0 || w_[k].last > 0 || !w_[k].common || b < k)) {
      // After the comma of "LAST, FIRST" a word in no common list too ("DE LA CRUZ, MARIA-JOSE").
      const std::string_view g = Gap(s_, w_[k], w_[k + 1]);
      if (((g == ", " || g == ",") && (w_[k + 1].first > 0 || !w_[k + 1].common)) ||
          (IsSpaceGap(g) && (w_[k + 1].first > 0 ||
                             (w_[k].first > 0 && (w_[k + 1].last > 0 || !w_[k + 1].common || w_[k].first >= 0.05))))) {
        e = k + 1;
      }
    }
    if (e == k && !(b < k || (!w_[k].common && (w_[k].first > 0 || w_[k].last > 0 || w_[k].lower.size() >= 5)))) {
      return;  // one word: a listed name or one of five letters or more in no list ("OKAFOR"; not "NPO")
    }
    for (std::size_t j = b; j <= e; ++j) w_[j].cue_name = true;
  }

  // An organisation's acronym in capitals right after word `k` ("Boston EMS", "Quincy PD"): two to
  // four letters, no credential ("Smith MD") or state ("Boston MA"), and no function word, which in
  // a line in capitals is in capitals too ("BROCKTON EMS"; in "TO HOME WITH VNA", "WITH" is none).
  bool AcronymAfter(std::size_t k) const {
    if (k + 1 >= w_.size()) return false;
    const Word& a = w_[k + 1];
    return a.all_caps && a.lower.size() <= 4 && a.plain && !(a.grammar & kCredential) && !a.state &&
           !In(a.lower, {"with", "and", "the", "for", "to", "from", "by", "on", "in", "at", "of", "per", "via",
                         "or", "but", "as", "into", "onto", "over", "then", "when", "was", "is", "are", "has",
                         "had", "not", "no", "will", "can", "may"}) &&
           IsSpaceGap(Gap(s_, w_[k], a));
  }

  // Five digits at byte `i` and no more ("worcester ma 01608"; not "check in 2/3 days").
  bool ZipAt(std::size_t i) const {
    for (std::size_t k = i; k < i + 5; ++k) {
      if (k >= s_.size() || !IsDigit(s_[k])) return false;
    }
    return i + 5 == s_.size() || !IsDigit(s_[i + 5]);
  }

  // "Joplin, MO", "Tyler, TX 75701": whether the capitalised word `i`, before ", " and a two-letter
  // state code in capitals that ends the phrase or comes before a ZIP code, is a town, even one
  // that is no listed city or is a name; not before a credential ("Smith, MD", "Lee, PA") nor before
  // "OR" going on ("Jones, OR at 10").
  bool TownBeforeStateCode(std::size_t i) const {
    if (i + 1 >= w_.size() || !w_[i + 1].state) return false;  // the rarest first: called at every ", "
    const Word& w = w_[i];
    const Word& code = w_[i + 1];
    if (!w.cap || !w.plain || w.all_caps || w.grammar != 0 || w.calendar || w.state || w.lower.size() < 3 ||
        !code.all_caps || code.lower.size() != 2 || Gap(s_, w, code) != ", " || IsCredential(code.lower)) {
      return false;
    }
    const std::size_t e = code.end;
    if (e < s_.size() && s_[e] == ' ' && ZipAt(e + 1)) return true;
    if (e != s_.size() && std::string_view(",.;)\n\r").find(s_[e]) == std::string_view::npos) return false;
    // Without a ZIP, "Hypertension, MI", "Cardiology, ID", "Heparin, SC", "Recovery, OR" read the
    // same: a listed city, or a word that puts a place before it ("lives in Pharr, TX", "(Tyler,
    // TX)", "from Kyle, TX").
    if (Lexicon::Get().City(w.lower)) return true;
    if (w.begin > 0 && s_[w.begin - 1] == '(') return true;
    return i > 0 && IsSpaceGap(Gap(s_, w_[i - 1], w)) &&
           In(w_[i - 1].lower, {"in", "from", "at", "near", "to", "outside"});
  }

  // From the capitalised name word `i`, one or two lower-case surname particles and then a
  // capitalised word that may be a name, in direction `dir` (+1 after, -1 before): the index of
  // that word ("Pieter van den Broek", "Anneliese van der Westhuizen"), or `i` when there is none.
  std::size_t ParticlesToCapital(std::size_t i, int dir) const {
    if (!w_[i].cap) return i;
    std::size_t k = i;
    for (int particles = 0; particles < 3; ++particles) {
      if ((dir < 0 && k == 0) || (dir > 0 && k + 1 >= w_.size())) return i;
      const std::size_t next = dir > 0 ? k + 1 : k - 1;
      if (!IsSpaceGap(dir > 0 ? Gap(s_, w_[k], w_[next]) : Gap(s_, w_[next], w_[k]))) return i;
      k = next;
      if (w_[k].cap) {
        // After the particles, a surname that is also a common word ("Abdul Rahman bin Said").
        const Word& x = w_[k];
        const bool surname = NameLike(x, false) || (dir > 0 && !x.all_caps && !x.calendar && x.grammar == 0);
        return particles > 0 && surname && !IsModal(x.lower) ? k : i;
      }
      if (!(w_[k].phrase & kSurnameParticle) || particles == 2) return i;
    }
    return i;
  }

  // Whether the lower-case words from `k` to the end of the phrase (',', '.', ';', a line break or
  // the end; at most five words, one blank apart) may all be a name: one word, or words that are
  // surname particles or names (in no common list, or a listed name that is no common word).
  // "yusuf bin hamid al-harbi," but not "very supportive," or "at home now,".
  bool AppositionNameAt(std::size_t k) const {
    for (std::size_t j = k; j < w_.size() && j < k + 5; ++j) {
      const Word& w = w_[j];
      if (j > k && (!IsSpaceGap(Gap(s_, w_[j - 1], w)) || w.cap ||
                    !((w.phrase & kSurnameParticle) || LowerName(w) ||
                      ((w.first > 0 || w.last > 0) && !w.common && w.grammar == 0)))) {
        return false;
      }
      if (w.end == s_.size() || std::strchr(",.;\n", s_[w.end]) != nullptr) return true;
    }
    return false;
  }

  // A capitalised word `k` that the words around it say is a person's surname, after a place cue:
  // "transferred to Okonkwo's service", "transferred to Harding team", "the care of Okonkwo" (a
  // hospital after a verb of transfer is a place: "transferred to Beth Israel").
  bool PersonAfterPlaceCue(std::size_t k) const {
    if (k < 2 || !IsSpaceGap(Gap(s_, w_[k - 1], w_[k])) || !IsSpaceGap(Gap(s_, w_[k - 2], w_[k - 1]))) return false;
    if (w_[k - 1].lower == "of") return w_[k - 2].lower == "care";
    return w_[k - 1].lower == "to" && IsTransferVerb(w_[k - 2].lower) &&
           (w_[k].lower.ends_with("'s") ||
            (k + 1 < w_.size() && IsSpaceGap(Gap(s_, w_[k], w_[k + 1])) && In(w_[k + 1].lower, {"service", "team"})));
  }

  // "Jose's mom", "Kevin's wife": a capitalised possessive before a relation word, whose name
  // (without "'s") is a listed name in no common list, or in no list at all and of four letters
  // or more ("Patient's wife", "Mother's sister", "Pt's son", "Dtr's son" are none).
  static bool PossessiveName(const Word& w) {
    if (!w.cap || w.all_caps || !w.lower.ends_with("'s")) return false;
    const std::string_view base = w.lower.substr(0, w.lower.size() - 2);
    const Lexicon::Entry* e = Lexicon::Get().Find(base);
    return e == nullptr ? base.size() >= 4 : !e->common && (e->first > 0 || e->last > 0);
  }

  // A possessive whose stem is a listed first name and no common word ("Jose's"; not "Crohn's").
  static bool FirstNamePossessive(const Word& w) {
    if (w.all_caps || !w.lower.ends_with("'s")) return false;
    const Lexicon::Entry* e = Lexicon::Get().Find(w.lower.substr(0, w.lower.size() - 2));
    return e != nullptr && e->first > 0 && !e->common;
  }

  // The words before word `k` that name the writer or the addressee of a message: "From:" and
  // "To:" opening a line of an e-mail's header, and "this is" ("Hi Dr. Patel, this is Maria"). The
  // name must be listed, or in no common list and no town ("From: Boston" is none).
  bool MessageCueBefore(std::size_t k) const {
    const Word& c = w_[k - 1];
    const Word& w = w_[k];
    if (!(w.first > 0 || w.last > 0 || (!w.common && !w.city))) return false;
    const std::string_view g = Gap(s_, c, w);
    if (c.sentence_start && (c.lower == "from" || c.lower == "to") && g == ": ") return true;
    return k >= 2 && c.lower == "is" && w_[k - 2].lower == "this" && IsSpaceGap(g) && w.first > 0 &&
           IsSpaceGap(Gap(s_, w_[k - 2], c));
  }

  // A record's demographic field after a name: "dob", "mrn", "ssn".
  static bool DemographicField(const Word& w) { return In(w.lower, {"dob", "mrn", "ssn"}); }

  // A lower-case "last, first" opening a line, with a demographic field after it on the line
  // ("o'neil, mary  dob 3.22.1958"): a surname (listed, or in no list) at word `i`, and a listed
  // first name that is no common word; not "cough, fever  dob on file".
  void LineHeadNameAt(std::size_t i) {
    const std::size_t n = w_.size();
    const Word& last = w_[i];
    if (!OpensLine(last) || i + 2 >= n || !(LowerName(last) || (last.last > 0 && !last.common))) return;
    const Word& first = w_[i + 1];
    if (first.cap || first.first == 0 || first.common || first.state || first.calendar || first.grammar != 0) return;
    for (std::size_t k = i + 2; k < n && k <= i + 4; ++k) {
      if (Gap(original_, w_[k - 1], w_[k]).find('\n') != std::string_view::npos) return;
      if (DemographicField(w_[k])) {
        w_[i].cue_name = w_[i + 1].cue_name = true;
        return;
      }
    }
  }

  // Whether an HL7 v2 name may start at byte `k`: right after a field's '|', or after a '|', an
  // identifier of digits only and its '^' ("|1234^KIM^ANNA"; not "|2106-3^WHITE").
  bool Hl7NameFieldAt(std::size_t k) const {
    if (s_[k - 1] == '|') return true;
    if (s_[k - 1] != '^') return false;
    std::size_t d = k - 1;
    while (d > 0 && IsDigit(s_[d - 1])) --d;
    return d + 1 < k && d > 0 && s_[d - 1] == '|';
  }
  // Whether a coding system follows the component ending at byte `k` ("^CDCREC", "^HL70005",
  // "^ISO639"): a component with a digit, or one of the usual systems' names.
  bool Hl7CodingSystemAt(std::size_t k) const {
    if (k >= s_.size() || s_[k] != '^') return false;
    std::size_t e = k + 1;
    bool digit = false;
    for (; e < s_.size() && s_[e] != '^' && s_[e] != '|'; ++e) digit = digit || IsDigit(s_[e]);
    return digit || In(LowerWord(s_.substr(k + 1, e - k - 1)),
                       {"cdcrec", "loinc", "ln", "sct", "snomedct", "rxnorm", "ndc", "cvx", "ucum"});
  }

  // Whether only blanks come between the line's start and word `w` (a soft line break counts).
  bool OpensLine(const Word& w) const {
    std::size_t b = w.begin;
    while (b > 0 && IsBlank(original_[b - 1])) --b;
    return b == 0 || original_[b - 1] == '\n';
  }

  // "LAST, FIRST" in capitals on a line of its own, as record headers put it ("CAMPBELL, DOLORES"
  // under "Record date: 2069-04-07"): words `i` and `i + 1`, a listed surname and a listed first
  // name that is no common word; not "ALLERGIES, NKDA", "HTN, TIA", "ZYRTEC, ALLEGRA" (problem
  // and drug lists put their abbreviations and brands so).
  void CapitalLineNameAt(std::size_t i) {
    if (i + 1 >= w_.size()) return;
    const Word& last = w_[i];
    const Word& first = w_[i + 1];
    if (!first.all_caps || first.first == 0 || first.common || first.state || first.grammar != 0 ||
        last.last == 0 || last.grammar != 0 || !OpensLine(last)) {
      return;
    }
    std::size_t e = first.end;
    while (e < original_.size() && IsBlank(original_[e])) ++e;
    if (e < original_.size() && original_[e] != '\n' && original_[e] != '\r') return;
    w_[i].cue_name = w_[i + 1].cue_name = true;
  }

  // A letter's "RE:" opening a line at word `i`, before a first name and a surname in capitals
  // ("RE: MARIA SANTOS"): a listed first name, and after it a listed surname that is no common
  // word, or a first name that is no common word and after it a word in no common list. Not "Called
  // pt re: TIA", "RE: GRACE PERIOD", "RE: ALLEGRA REFILL".
  bool RegardingNameAt(std::size_t i) const {
    if (w_[i].lower != "re" || i + 2 >= w_.size() || !OpensLine(w_[i])) return false;
    const Word& first = w_[i + 1];
    const Word& last = w_[i + 2];
    return first.first > 0 && last.all_caps && IsSpaceGap(Gap(s_, first, last)) && !last.common &&
           (last.last > 0 || !first.common);
  }

  // Scoring (docs/deid-text.md): dictionary evidence, capitalisation, common-word and
  // calendar penalties, context bonuses; a word with score >= 3 is a name.
  void ScoreNames() {
    const std::size_t n = w_.size();
    for (std::size_t i = 0; i < n; ++i) {
      Word& w = w_[i];
      int score = 0;
      if (w.first > 0) score += w.first >= 0.05 ? 2 : 1;
      if (w.last > 0) score += w.last >= 0.05 ? 2 : 1;
      if (w.cap && !w.all_caps) score += 1;
      if (w.common) score -= 2;
      if (w.calendar) score -= 4;
      if (w.all_caps || !w.cap) score -= 2;
      if (w.first == 0 && w.last == 0) score -= 1;
      if (w.sentence_start && w.common) score -= 1;
      if (w.cap && known_.Contains(w.lower, w.hash)) score += 4;
      // "Columbus, Georgia": a state after a place name and a comma is the state, and a city
      // before ", <state>" is the city ("Franklin, TN").
      if (w.state && i > 0 && w_[i - 1].cap && Gap(s_, w_[i - 1], w) == ", ") score -= 4;
      if (w.city && i + 1 < n && w_[i + 1].state && w_[i + 1].cap && Gap(s_, w, w_[i + 1]) == ", ") score -= 4;
      w.score = static_cast<std::int16_t>(score);
    }
    // Context: titles and cues name the words after them, credentials the words before.
    for (std::size_t i = 0; i + 1 < n; ++i) {
      const std::string_view gap = Gap(s_, w_[i], w_[i + 1]);
      const bool title = (w_[i].grammar & kTitle) && IsCueGap(gap);
      const bool relation = (w_[i].grammar & kRelation) != 0;
      // Lower-case notes: after a title or a relation word, a word in no common list is a
      // name, and after a relation word any listed first name ("wife grace", "son mark"); after
      // any cue, a listed first name that is not a common word. "dr.smith", "son (mike)" and
      // "wife, mary-ellen, ..." (between commas) too.
      // Between commas, or at the end of the sentence ("pt's sister, rosa", "her nephew, yusuf bin
      // hamid al-harbi,").
      const bool apposition = relation && gap == ", " && AppositionNameAt(i + 1);
      // "case manager, keisha boateng": after any cue and a comma, a listed first name that is no
      // common word (below).
      const bool cue_comma = !relation && (w_[i].grammar & kNameCue) && gap == ", ";
      if (!w_[i + 1].cap && (title || (w_[i].grammar & kNameCue)) &&
          (IsSpaceGap(gap) || (title && (gap == ". " || gap == ".")) || (relation && gap == " (") || apposition ||
           cue_comma || ((gap == " (" || IsCueGap(gap)) && PersonNoun(w_[i])))) {
        const Word& next = w_[i + 1];
        // A listed name, even a common word ("son mark", "dr smith"), but not a modal verb ("son
        // will call": "will" is a listed first name).
        const bool listed = !next.calendar && next.grammar == 0 && next.lower.size() >= 3 &&
                            !IsModal(next.lower);
        const bool first_name = listed && next.first > 0;
        // After "pt", "patient", "name": two such words in a row ("pt farhan quintanilla"), or a
        // listed first name that is a common word and then a word in no list ("pt wen oyelaran")
        // or a listed surname ("pt wen foster"). A frequent first name that is a common word is
        // more often that word: then the word in no list must have four letters or more ("pt
        // rose oob" is out of bed; "pt wen iwu").
        const Word* after = i + 2 < n && IsSpaceGap(Gap(s_, next, w_[i + 2])) && !w_[i + 2].cap ? &w_[i + 2] : nullptr;
        const bool pair = after != nullptr && (LowerName(next) || first_name) &&
                          ((LowerName(*after) && (LowerName(next) || next.first < 0.05 || after->lower.size() >= 4)) ||
                           (after->last > 0 && !after->calendar && after->grammar == 0)) &&
                          In(w_[i].lower, {"pt", "patient", "name"});
        // After a title, a two-letter word in no list, or a listed name that is no common word
        // or state ("dr wu", "dr ng", "dr li"); not "dr rx", "dr dx".
        const bool short_surname = title && next.lower.size() == 2 && !next.common && !next.state &&
                                   next.grammar == 0 && next.lower[1] != 'x';
        // After a noun for a person who is no relative, a word in no list of four letters or more:
        // right after it ("coach jaylen said"), or after its comma when the word ends the phrase
        // ("sibling, jaylen (8)").
        // The same after a clinician's role ("first assist rn okonkwo", "per nurse adebayo"), but
        // not a verb in -ed or -ing that is no listed name or place name ("rn titrated", "nurse
        // triaged"; "rn harding", "rn redding").
        const bool person = !relation && !title && LowerName(next) && next.lower.size() >= 4 &&
                            (PersonNoun(w_[i]) ||
                             (CareRole(w_[i]) && (next.first > 0 || next.last > 0 || next.city ||
                                                  !(next.lower.ends_with("ed") || next.lower.ends_with("ing")))));
        const bool person_gap = IsCueGap(gap) || gap == " (";  // "subscriber: o'neil", "rep (tyler)"
        if (cue_comma) {
          const std::size_t e = next.end;
          const bool closes = e == s_.size() || std::strchr(",.;(\n", s_[e]) != nullptr ||
                              (s_[e] == ' ' && e + 1 < s_.size() && s_[e + 1] == '(');
          if ((first_name && !next.common) || (person && closes)) w_[i + 1].cue_name = true;
        } else if (((title || relation) && LowerName(next)) || pair || (first_name && (relation || !next.common)) ||
                   (person && person_gap) || (first_name && !next.common && gap == " (" && PersonNoun(w_[i])) ||
                   (title && listed && next.last > 0 && !MessageAfter(i + 1)) || short_surname) {
          w_[i + 1].cue_name = true;
          if (pair) w_[i + 2].cue_name = true;
        }
      }
      if (w_[i].sentence_start) {
        if (!w_[i].cap && gap == ", ") LineHeadNameAt(i);
        if (w_[i].all_caps && gap == ", ") CapitalLineNameAt(i);
        // "Subject: Jose's refill": a listed first name's possessive on an e-mail's subject line.
        if (w_[i + 1].cap && gap == ": " && w_[i].lower == "subject" && FirstNamePossessive(w_[i + 1])) {
          w_[i + 1].cue_name = true;
        }
      }
      // A header in capitals after a cue and a colon: "Patient: SMITH, JOHN", "NAME: DE LA CRUZ, MARIA";
      // after a letter's "RE:", only a full name ("RE: MARIA SANTOS"; not "RE: LASIX").
      if (w_[i + 1].all_caps && gap.find(':') != std::string_view::npos && IsCueGap(gap) &&
          ((w_[i].grammar & kNameCue) || RegardingNameAt(i))) {
        HeaderNameAt(i + 1);
      }
      // Notes in capitals: after "DR", a word in no common list ("DR KESSLER"; not after "MR" or
      // "MRS", which are also magnetic resonance and the modified Rankin scale), nor before a
      // modality or test ("Azure XT DR MRI" is a pacemaker's model, made safe for MRI).
      if (title && w_[i].all_caps && IsSpaceGap(gap) && w_[i + 1].all_caps && !w_[i + 1].common &&
          !w_[i + 1].calendar && w_[i + 1].grammar == 0 && w_[i + 1].lower.size() >= 3 &&
          In(w_[i].lower, {"dr", "doctor"}) &&
          !In(w_[i + 1].lower, {"mri", "pet", "ecg", "ekg", "eeg", "emg", "cxr", "kub"})) {
        w_[i + 1].cue_name = true;
      }
      // "partner (Deshawn)"; "From: Maria Lopez", "this is Maria".
      const bool cue = !title && w_[i + 1].cap &&
                       (((w_[i].grammar & kNameCue) && (IsCueGap(gap) || (relation && gap == " ("))) ||
                        (((w_[i].sentence_start && (w_[i].grammar & kPlaceCue)) ||
                          (w_[i + 1].first > 0 && w_[i].lower == "is")) &&
                         MessageCueBefore(i + 1)));
      if (!title && !cue) continue;
      if (!NameLike(w_[i + 1], true)) continue;
      if (!title && w_[i + 1].common && w_[i + 1].first == 0 && w_[i + 1].last == 0) continue;
      if (!title && IsModal(w_[i + 1].lower)) continue;  // "Her Son Will Call"
      if (!title && w_[i + 1].city && w_[i + 1].first == 0 && AcronymAfter(i + 1)) continue;  // "by Boston EMS"
      w_[i + 1].score += 4;
    }
    for (std::size_t i = 1; i < n; ++i) {
      if (!(w_[i].grammar & kCredential) || !w_[i].all_caps) continue;
      const std::string_view g = Gap(s_, w_[i - 1], w_[i]);
      // "Tanisha, RN", "Tanisha RN", "Tanisha (CNA)"; in brackets not after a role ("Reviewed with
      // Hospitalist (MD)", "Intensivist (MD)", "Attending Physician (MD)").
      const std::string_view role = w_[i - 1].lower;
      const bool bracketed = g == " (" && w_[i].end < s_.size() && s_[w_[i].end] == ')' && !role.ends_with("ist") &&
                             !In(role, {"physician", "clinician", "technician", "attending", "resident", "fellow",
                                        "provider", "team", "staff", "nurse", "surgeon"});
      if ((g == ", " || g == " " || bracketed) && NameLike(w_[i - 1], false)) w_[i - 1].score += 4;
    }
    // Pairs: a first name followed by a surname-like word ("John Smith"), or "Smith, John".
    for (std::size_t i = 0; i + 1 < n; ++i) {
      Word& a = w_[i];
      Word& b = w_[i + 1];
      const std::string_view g = Gap(s_, a, b);
      if (!a.cap || !b.cap || a.calendar || b.calendar) continue;
      // An HL7 v2 name pasted in ("PID|1||...||LOPEZ^MARIA^A||", "PV1|...|1234^KIM^ANNA"): the
      // family and the given name, components after a field's '|' or after an identifier of
      // digits only that opens its field, one of them a listed name; not a city before its state
      // ("^BOSTON^MA^"), nor a code's text before its coding system ("2106-3^WHITE^CDCREC",
      // "ENG^ENGLISH^ISO639").
      if (s_[a.end] == '^' && b.begin == a.end + 1 && a.begin >= 2 && Hl7NameFieldAt(a.begin) &&
          a.lower.size() >= 2 && b.lower.size() >= 2 && !b.state && a.grammar == 0 && b.grammar == 0 &&
          (a.first > 0 || a.last > 0 || b.first > 0 || b.last > 0) && !Hl7CodingSystemAt(b.end)) {
        a.cue_name = b.cue_name = true;
        continue;
      }
      if (IsSpaceGap(g) && a.first > 0 && (b.last > 0 || !b.common) && NameLike(b, false)) {
        a.score += 2;
        b.score += 2;
      } else if (g == ", " && b.first > 0 && !b.state && (a.last > 0 || !a.common) && NameLike(a, false) &&
                 !a.all_caps) {  // "Smith, John" but not "Columbus, Georgia"
        // "Harris, Tyler, TX": the second word is a town, but the first keeps what the pair gave it
        // ("Emergency contact: Young, Tyler, TX 75701").
        a.score += 2;
        if (!TownBeforeStateCode(i + 1)) b.score += 2;
      }
    }
    // Configured clinicians, matched as whole sequences in any letter case.
    for (const auto& name : clinicians_) {
      for (std::size_t i = 0; i + name.size() <= n; ++i) {
        bool match = true;
        for (std::size_t k = 0; k < name.size() && match; ++k) match = w_[i + k].lower == name[k];
        if (match) {
          for (std::size_t k = 0; k < name.size(); ++k) w_[i + k].score += 10;
        }
      }
    }
    for (Word& w : w_) w.name = w.score >= 3 || w.cue_name;
    for (std::size_t i = 0; i < n; ++i) {
      if (w_[i].name && !w_[i].cue_name && Eponym(i) && !NameBeforeEponymNoun(i)) w_[i].name = false;
    }
    // A lower-case name found by context continues into the next lower-case word that is a
    // listed surname or in no common list ("pt mary okafor").
    for (std::size_t i = 0; i + 1 < n; ++i) {
      if (!w_[i].cue_name || w_[i + 1].name || w_[i + 1].cap) continue;
      const Word& next = w_[i + 1];
      const std::string_view g = Gap(s_, w_[i], next);
      // "o'neil, patrick": a listed first name after a lower-case surname found by context.
      if (g == ", " && next.first > 0 && !next.common && !next.state && !next.calendar && next.grammar == 0 &&
          (i == 0 || !w_[i - 1].cue_name)) {
        w_[i + 1].name = w_[i + 1].cue_name = true;
        continue;
      }
      if (!IsSpaceGap(g)) continue;
      // "aoife ni bhriain", "maria de la cruz": particles before the surname; "ana maria da
      // silva": a listed middle name, even a common word, before them.
      const bool middle = next.first > 0 && next.grammar == 0 && !next.calendar && !IsModal(next.lower) &&
                          i + 3 < n && (w_[i + 2].phrase & kSurnameParticle) && IsSpaceGap(Gap(s_, next, w_[i + 2]));
      if ((next.phrase & kSurnameParticle) || middle) {
        std::size_t e = middle ? i + 3 : i + 2;
        if (e + 1 < n && (w_[e].phrase & kSurnameParticle) && IsSpaceGap(Gap(s_, w_[e - 1], w_[e]))) ++e;
        if (e < n && IsSpaceGap(Gap(s_, w_[e - 1], w_[e])) && LowerName(w_[e]) && w_[e].lower.size() >= 4) {
          for (std::size_t j = i + 1; j <= e; ++j) w_[j].name = w_[j].cue_name = true;
        }
        continue;
      }
      if ((LowerName(next) || (next.last > 0 && !next.common && !next.calendar)) && !DemographicField(next)) {
        w_[i + 1].name = w_[i + 1].cue_name = true;
      }
    }
    // A name continues into the words next to it: "Sarah Chen", "Müller, José Q.", and across
    // lower-case particles into a capitalised word ("Pieter van den Broek").
    for (std::size_t i = 0; i + 1 < n; ++i) {
      if (!w_[i].name || w_[i + 1].name) continue;
      if (const std::size_t e = ParticlesToCapital(i, +1); e != i) {
        for (std::size_t k = i + 1; k <= e; ++k) w_[k].name = true;
        i = e - 1;
        continue;
      }
      const std::string_view g = Gap(s_, w_[i], w_[i + 1]);
      const bool near = IsSpaceGap(g) || (g == ", " && !w_[i].all_caps && !TownBeforeStateCode(i + 1)) ||
                        (g == ". " && IsInitial(s_, w_[i]));
      if (near && (NameLike(w_[i + 1], false) || IsInitial(s_, w_[i + 1])) && !IsModal(w_[i + 1].lower)) {
        w_[i + 1].name = true;  // not "Her Son Dmitri Volkov Will Pick Her Up"
      }
    }
    for (std::size_t i = n; i-- > 1;) {
      if (!w_[i].name || w_[i - 1].name) continue;
      if (const std::size_t b = ParticlesToCapital(i, -1); b != i) {  // "Anneliese van der Westhuizen"
        for (std::size_t k = b; k < i; ++k) w_[k].name = true;
        continue;
      }
      // "Maria Lopez" at a sentence's start: a frequent first name before a capitalised name, even
      // a common word ("maria" is one); not a modal verb ("Will Smith call").
      const Word& p = w_[i - 1];
      if (IsSpaceGap(Gap(s_, p, w_[i])) && p.cap &&
          ((!p.common && NameLike(p, false)) ||
           (p.first >= 0.05 && !p.all_caps && w_[i].cap && !w_[i].all_caps && NameLike(p, false) &&
            p.grammar == 0 && !IsModal(p.lower)))) {
        w_[i - 1].name = true;
      } else if (p.sentence_start && p.last > 0 && p.cap && !p.all_caps && p.grammar == 0 && !p.calendar &&
                 Gap(s_, p, w_[i]) == ", " && w_[i].first > 0 && w_[i].cap && !w_[i].all_caps) {
        w_[i - 1].name = true;  // "Smith, John" opening a line or a field: a listed surname, even a common word
      }
    }
    // Strong names are remembered for the rest of the text.
    for (const Word& w : w_) {
      if (w.name && w.cap && !w.common && !w.calendar && w.lower.size() > 1) known_.Insert(w.lower, w.hash);
    }
    for (Word& w : w_) {
      if (!w.name && w.cap && !w.all_caps && known_.Contains(w.lower, w.hash)) w.name = true;
    }
  }

  void EmitNames() {
    const std::size_t n = w_.size();
    for (std::size_t i = 0; i < n;) {
      if (!w_[i].name) {
        ++i;
        continue;
      }
      std::size_t j = i;
      while (j + 1 < n && w_[j + 1].name) {
        const std::string_view g = Gap(s_, w_[j], w_[j + 1]);
        if (!(IsSpaceGap(g) || g == ", " || (g == ". " && IsInitial(s_, w_[j])))) break;
        ++j;
      }
      std::size_t end = w_[j].end;
      if (IsInitial(s_, w_[j])) ++end;  // "Smith, John Q."
      // "Dr. Aber-\nnathy": a name hyphenated across a line break (faxes, OCR) goes on in the
      // lower-case word that opens the next line.
      if (j + 1 < n && end + 2 == w_[j + 1].begin && s_[end] == '-' && s_[end + 1] == '\n' && !w_[j + 1].cap) {
        end = w_[++j].end;
      }
      // "transferred from Beth Israel Deaconess-Needham": a hospital; patients are not moved
      // from or to a person named without a title ("transferred to Dr. Castellanos") or a word
      // saying person ("transferred to Okonkwo's service").
      const bool hospital = i >= 2 && (w_[i - 1].grammar & kPlaceCue) && In(w_[i - 1].lower, {"from", "to"}) &&
                            IsTransferVerb(w_[i - 2].lower) &&
                            IsSpaceGap(Gap(s_, w_[i - 1], w_[i])) && IsSpaceGap(Gap(s_, w_[i - 2], w_[i - 1])) &&
                            !PersonAfterPlaceCue(i);
      Add(w_[i].begin, end, hospital ? PhiType::kLocation : PhiType::kName, 2);
      AgeBetweenCommasAt(end);
      i = j + 1;
    }
  }

  // "Mr. Pieter van den Broek, 91, presents": an age over 89 (90-125) between commas right after
  // a name ending at byte `e`, and no number after them.
  void AgeBetweenCommasAt(std::size_t e) {
    if (e + 2 >= s_.size() || s_[e] != ',' || s_[e + 1] != ' ') return;
    std::size_t k = e + 2;
    while (k < s_.size() && IsDigit(s_[k]) && k - e < 5) ++k;
    // Not a list of values: "Smith, 95, 96".
    if (k + 2 >= s_.size() || s_[k] != ',' || k - (e + 2) < 2 || (s_[k + 1] == ' ' && IsDigit(s_[k + 2]))) return;
    if (const int age = ParseInt(s_.substr(e + 2, k - e - 2)); age >= 90 && age <= 125) {
      Add(e + 2, k, PhiType::kAge, 3);
    }
  }

  // "a woman of 93", "a gentleman of 91,": an age over 89 (90-125) after a word saying person and
  // "of", the word `i`, when the phrase ends there or goes on about the person ("with", "who");
  // not a weight or a share ("a man of 95 kg", "a woman of 90 percent").
  void AgeAfterPersonOfAt(std::size_t i) {
    const std::size_t b = w_[i].end + 1;
    if (i == 0 || b >= s_.size() || s_[b - 1] != ' ' || !IsDigit(s_[b]) ||
        !IsSpaceGap(Gap(s_, w_[i - 1], w_[i])) ||
        !In(w_[i - 1].lower, {"woman", "man", "gentleman", "gent", "lady", "female", "male"})) {
      return;
    }
    std::size_t e = b;
    while (e < s_.size() && IsDigit(s_[e])) ++e;
    if (e - b > 3) return;
    // What follows ends the phrase or goes on about the person.
    bool person = e == s_.size() || ((s_[e] == ',' || s_[e] == ';' || s_[e] == ')' || s_[e] == '.') &&
                                     (e + 1 == s_.size() || !IsDigit(s_[e + 1])));
    if (!person && s_[e] == ' ') {
      std::size_t k = i + 1;
      while (k < w_.size() && w_[k].begin <= e) ++k;
      person = k < w_.size() && w_[k].begin == e + 1 &&
               In(w_[k].lower, {"with", "who", "years", "yrs", "yo", "and", "presents", "presenting", "from", "lives",
                                "living", "was", "is", "has"});
    }
    if (!person) return;
    if (const int age = ParseInt(s_.substr(b, e - b)); age >= 90 && age <= 125) Add(b, e, PhiType::kAge, 3);
  }

  // "who is 100", "pt is 93", "alive at 97", "died at 101", "alive, 93": an age over 89 (90-125) in
  // digits after words that say a person's age or life, from word `i` ("who", "pt", "patient",
  // "alive", or "at" after "alive", "died", "deceased", "passed"); not a value ("pt is 95 kg",
  // "who is 92% adherent", "alive at 100.2").
  void AgeAfterLifePhraseAt(std::size_t i) {
    const std::size_t n = w_.size();
    const std::string_view w = w_[i].lower;
    std::size_t b = w_[i].end;
    if (w == "alive" && s_.substr(b, 2) == ", ") {
      b += 2;
    } else if (w == "at" && i > 0 && IsSpaceGap(Gap(s_, w_[i - 1], w_[i])) &&
               In(w_[i - 1].lower, {"alive", "died", "deceased", "passed"})) {
      b += 1;
    } else if (w != "alive" && w != "at" && i + 1 < n && w_[i + 1].lower == "is" &&
               IsSpaceGap(Gap(s_, w_[i], w_[i + 1]))) {
      b = w_[i + 1].end + 1;
    } else {
      return;
    }
    if (b >= s_.size() || s_[b - 1] != ' ' || !IsDigit(s_[b])) return;
    std::size_t e = b;
    while (e < s_.size() && IsDigit(s_[e])) ++e;
    if (e < s_.size() && (s_[e] == '/' || s_[e] == '%' || s_[e] == ':' || s_[e] == '-' ||
                          (s_[e] == '.' && e + 1 < s_.size() && IsDigit(s_[e + 1])))) {
      return;
    }
    // What follows must say an age: the phrase's end, or a word of age or of the person's life
    // ("who is 100 and lives alone", "died at 101 of pneumonia", "alive at 97 years"); not a
    // value's unit or state ("pt is 92 on 2L", "is 98 percent", "is 103 F", "is 120 over 80",
    // "alive at 90 d", "alive, 90s").
    std::size_t u = e;
    while (u < s_.size() && IsBlank(s_[u])) ++u;
    if (u < s_.size() && std::string_view(",.;)\n\r").find(s_[u]) == std::string_view::npos) {
      if (u == e) return;  // "90s", "100mg"
      std::size_t v = u;
      while (v < s_.size() && (IsAsciiAlpha(s_[v]) || s_[v] == '/' || s_[v] == '-')) ++v;
      if (!In(LowerWord(s_.substr(u, v - u)), {"and", "but", "with", "of", "yo", "y/o", "yr", "yrs", "year", "years",
                                                "-year", "-years", "years-old", "now", "today", "this", "in", "who"})) {
        return;
      }
    }
    if (const int age = ParseInt(s_.substr(b, e - b)); e - b <= 3 && age >= 90 && age <= 125) {
      Add(b, e, PhiType::kAge, 3);
    }
  }

  // An age over 89 written short with the sex at the word `i`, "F" or "M" in capitals: "93F",
  // "93 F", "F/93", "M, 91". "99F" is as often a temperature, so the words around it must say
  // patient: no temperature word before it ("Tmax 101F", "febrile to 102F") and a word that
  // goes on to describe a patient after it ("93F from home", "F/93, hx CHF", "91M with afib").
  void SexAndAgeAt(std::size_t i) {
    const std::size_t n = w_.size();
    const std::size_t sb = w_[i].begin, se = w_[i].end;
    const auto number_byte = [](char c) {
      return IsAlnumByte(c) || std::string_view("./-,").find(c) != std::string_view::npos;
    };
    std::size_t b = 0, e = 0;             // the age's digits
    std::size_t before = sb, after = se;  // where the age and the sex begin and end
    if (sb > 0 && (IsDigit(s_[sb - 1]) || (sb > 1 && s_[sb - 1] == ' ' && IsDigit(s_[sb - 2])))) {
      if (se < s_.size() && (IsAlnumByte(s_[se]) || s_[se] == '/')) return;  // "93F/U"
      e = IsDigit(s_[sb - 1]) ? sb : sb - 1;  // "93F", "93 F"
      b = e;
      while (b > 0 && IsDigit(s_[b - 1])) --b;
      if (b > 0 && number_byte(s_[b - 1])) return;  // "101.5F"
      before = b;
    } else {  // "F/93", "M, 91"
      if (se + 1 < s_.size() && s_[se] == '/') {
        b = se + 1;
      } else if (se + 2 < s_.size() && s_[se] == ',' && s_[se + 1] == ' ') {
        b = se + 2;
      } else {
        return;
      }
      e = b;
      while (e < s_.size() && IsDigit(s_[e])) ++e;
      if (e < s_.size() && number_byte(s_[e]) && s_[e] != ',') return;
      if (e + 2 < s_.size() && s_[e] == ',' && s_[e + 1] == ' ' && IsDigit(s_[e + 2])) return;  // "M, 91, 92"
      after = e;
    }
    if (e - b < 2 || e - b > 3) return;
    if (const int age = ParseInt(s_.substr(b, e - b)); age < 90 || age > 125) return;
    // The word before, next to it, is no temperature word.
    std::size_t p = i;
    while (p > 0 && w_[p - 1].end > before) --p;
    if (p > 0 && before - w_[p - 1].end <= 2 &&
        In(w_[p - 1].lower, {"t", "temp", "temps", "temperature", "tmax", "tm", "tc", "max", "febrile", "afebrile",
                             "fever", "fevers", "spiked", "spike", "to", "of", "at", "degrees", "oral", "rectal"})) {
      return;
    }
    std::size_t k = i + 1;
    while (k < n && w_[k].begin < after) ++k;
    if (k >= n) return;
    for (std::size_t j = after; j < w_[k].begin; ++j) {
      if (s_[j] != ' ' && s_[j] != ',') return;
    }
    const Word& next = w_[k];
    const bool slash = next.end < s_.size() && s_[next.end] == '/';  // "w/", "s/p", "h/o", "c/o", "p/w"
    if (In(next.lower, {"with", "from", "presents", "presenting", "presented", "who", "hx", "pmh", "here", "admitted",
                        "brought", "bib", "biba", "transferred", "sent", "lives", "living", "resident"}) ||
        (slash && In(next.lower, {"w", "s", "h", "c", "p"}))) {
      Add(b, e, PhiType::kAge, 3);
    }
  }

  void Places() {
    const Lexicon& lex = Lexicon::Get();
    const std::size_t n = w_.size();
    // Where a word right after a street address would begin (past " " or ", "), in the segment.
    std::vector<std::size_t> after_address;
    for (const ByteSpan& c : out_) {
      if (c.type != PhiType::kLocation || c.end < base_) continue;
      std::size_t k = c.end - base_;
      if (k < s_.size() && s_[k] == ',') ++k;
      while (k < s_.size() && IsBlank(s_[k])) ++k;
      after_address.push_back(k);
    }
    std::sort(after_address.begin(), after_address.end());
    const auto after_street_at = [&](std::size_t k) {
      return std::binary_search(after_address.begin(), after_address.end(), w_[k].begin);
    };
    for (std::size_t i = 0; i < n; ++i) {
      // Lower-case notes: a listed city right after a street address ("14 elm st apt 3b
      // springfield"), or after "in", "from", "near" when it is no common word or name ("retired
      // teacher from worcester").
      if (!w_[i].cap && w_[i].city_start) {
        const bool after_street = after_street_at(i);
        // "in the natick mall" as "in natick".
        const bool after_the = i >= 2 && w_[i - 1].lower == "the" &&
                               In(w_[i - 2].lower, {"in", "at", "from", "near"}) &&
                               IsSpaceGap(Gap(s_, w_[i - 2], w_[i - 1]));
        const bool after_cue = i > 0 && IsSpaceGap(Gap(s_, w_[i - 1], w_[i])) &&
                               (In(w_[i - 1].lower, {"in", "from", "near"}) || after_the);
        // A chain's home in a town ("dc to sunrise of wayland"): the town; the chain is no place.
        const bool chain_of = i >= 3 && w_[i - 1].lower == "of" && In(w_[i - 3].lower, {"to", "at", "from"}) &&
                              !w_[i - 2].cap && w_[i - 2].grammar == 0 && IsSpaceGap(Gap(s_, w_[i - 1], w_[i])) &&
                              IsSpaceGap(Gap(s_, w_[i - 2], w_[i - 1])) && IsSpaceGap(Gap(s_, w_[i - 3], w_[i - 2]));
        if (after_street || after_cue || chain_of) {
          const std::size_t len = LowerCityAt(i);
          const Word& w = w_[i];
          // After "in", a listed name too ("daycare in quincy", "raised in lynn"): people are
          // seldom "in" someone, but often "from" them ("call from linda").
          const bool plain = !w.common && w.grammar == 0 &&
                             (after_street || (w_[i - 1].lower == "in" && !chain_of) || (w.first == 0 && w.last == 0));
          if (len > 1 || (len == 1 && plain)) {
            Add(w_[i].begin, w_[i + len - 1].end, PhiType::kLocation, 1);
            i += len - 1;
            continue;
          }
        }
      }
      // A town before ", <country>" ("called from accra, ghana", "Lyon, France"), in no common list.
      if (w_[i].end < s_.size() && s_[w_[i].end] == ',' && i + 1 < n && Gap(s_, w_[i], w_[i + 1]) == ", " &&
          !w_[i].common && w_[i].grammar == 0 && !w_[i].calendar && !w_[i].all_caps && !w_[i].state &&
          w_[i].lower.size() >= 3 && w_[i + 1].cap == w_[i].cap && !w_[i].name && lex.Country(w_[i + 1].lower) &&
          !lex.Country(w_[i].lower)) {
        Add(w_[i].begin, w_[i].end, PhiType::kLocation, 1);
        continue;
      }
      // Institutions: capitalised words ending in "Clinic", "Hospital", "School", ... or
      // "Nursing Home".
      const bool nursing_home = w_[i].lower == "home" && i > 0 && w_[i - 1].lower == "nursing";
      if (((w_[i].grammar & kInstitution) || nursing_home) && w_[i].cap && i > 0 && !IsPharmacyChain(w_[i])) {
        std::size_t b = i;
        while (b > 0 && IsSpaceGap(Gap(s_, w_[b - 1], w_[b])) && w_[b - 1].cap &&
               !(w_[b - 1].grammar & kTitle) && i - b < 5) {
          --b;
        }
        // "St. Vincent Hospital", "Mt. Auburn Hospital": a saint's, a mount's or a fort's
        // abbreviation and its stop open the name.
        if (b < i && b > 0 && w_[b - 1].cap && Gap(s_, w_[b - 1], w_[b]) == ". " &&
            In(w_[b - 1].lower, {"st", "mt", "ft"})) {
          --b;
        }
        if (b < i && !(w_[b].all_caps && w_[i].all_caps)) {
          Add(w_[b].begin, w_[i].end, EmployerContext(b) ? PhiType::kOther : PhiType::kLocation, 2);
        }
        continue;
      }
      // Organisations without such a word: one to four capitalised words before an organisation
      // word ("Kearns Family Health", "Green Hills Manor"), the first no kind of care ("Emergency
      // Medical Services") and, when it stands alone, no common word ("Sleep Medicine", "Mass
      // General") nor a person's after a title ("Dr. Patel Cardiology"). Diagnoses, studies and
      // departments are written the same way ("Acute Hypoxic Respiratory Failure", "Magnetic
      // Resonance Imaging", "Seen in Gynecologic Oncology", "Neuro Radiology read"), so the run
      // must come where a place does: after "at", "to", "from", "via" or "through" (and "the"),
      // after "with" or "by" when two words or more come before the organisation word, or after
      // the colon of a label that names one ("Agency:", "To:"); and it must end the phrase (no
      // capitalised word after it: "Respiratory Failure", "Group A Strep", "Health Plan").
      if (w_[i].cap && !w_[i].all_caps && i > 0 && w_[i - 1].cap && IsOrganisationWord(w_[i].lower, w_[i].hash) &&
          IsSpaceGap(Gap(s_, w_[i - 1], w_[i])) &&
          !(i + 1 < n && w_[i + 1].cap && IsSpaceGap(Gap(s_, w_[i], w_[i + 1])))) {
        std::size_t b = i;
        while (b > 0 && IsSpaceGap(Gap(s_, w_[b - 1], w_[b])) && w_[b - 1].cap && !w_[b - 1].all_caps &&
               w_[b - 1].grammar == 0 && !w_[b - 1].calendar && i - b < 4) {
          --b;
        }
        const bool after_title = b > 0 && (w_[b - 1].grammar & kTitle);
        std::size_t cue = b;  // the word before the run, past "the"
        if (cue > 0 && w_[cue - 1].lower == "the" && IsSpaceGap(Gap(s_, w_[cue - 1], w_[cue]))) --cue;
        const std::string_view gap = cue > 0 ? Gap(s_, w_[cue - 1], w_[cue]) : std::string_view();
        const bool where_a_place_is =
            cue > 0 && ((IsSpaceGap(gap) && (In(w_[cue - 1].lower, {"at", "to", "from", "via", "through"}) ||
                                             // "ride with Blue Heron Transport", "visits by Prairie Wind
                                             // Home Health Services"; not "reviewed with Neuro Radiology".
                                             (i - b >= 2 && In(w_[cue - 1].lower, {"with", "by"})))) ||
                        ((gap == ": " || gap == ":") &&
                         In(w_[cue - 1].lower, {"to", "from", "agency", "facility", "practice", "provider", "vendor",
                                                "company", "dme", "lab", "laboratory", "pharmacy"})));
        if (b < i && !after_title && where_a_place_is && !IsCareKindWord(w_[b].lower) &&
            !IsOrganisationWord(w_[b].lower, w_[b].hash) && (i - b >= 2 || !w_[b].common)) {
          Add(w_[b].begin, w_[i].end, EmployerContext(b) ? PhiType::kOther : PhiType::kLocation, 2);
          continue;
        }
      }
      // Employers without such a word: "works as a driver at Blue River Trucking", "fired from
      // Amazon warehouse".
      if ((w_[i].lower == "at" || w_[i].lower == "from") && i + 1 < n && w_[i + 1].cap && !w_[i + 1].calendar &&
          (w_[i].lower == "at" ? EmployerContext(i) : LeftJobBefore(i))) {
        std::size_t e = i + 1;
        while (e + 1 < n && (IsSpaceGap(Gap(s_, w_[e], w_[e + 1])) || Gap(s_, w_[e], w_[e + 1]) == " & ") &&
               w_[e + 1].cap && e - i < 4) {
          ++e;  // "works at Stop & Shop"
        }
        Add(w_[i + 1].begin, w_[e].end, PhiType::kOther, 1);
        continue;
      }
      if (w_[i].lower == "at" && i + 1 < n && !w_[i + 1].cap && w_[i + 1].grammar == 0 && !w_[i + 1].calendar &&
          EmployerContext(i)) {
        i = LowerEmployerAt(i);
        continue;
      }
      // Lower-case notes: a listed city right before a state abbreviation and a ZIP code
      // ("worcester MA 01608").
      if (!w_[i].cap && w_[i].city_start && i + 1 < n && lex.City(w_[i].lower) && w_[i + 1].state &&
          (w_[i + 1].all_caps || !w_[i + 1].cap) && IsSpaceGap(Gap(s_, w_[i], w_[i + 1])) &&
          w_[i + 1].end < s_.size() && s_[w_[i + 1].end] == ' ' && ZipAt(w_[i + 1].end + 1)) {
        Add(w_[i].begin, w_[i].end, PhiType::kLocation, 1);
        continue;
      }
      if (!w_[i].cap) continue;
      if (i + 1 < n && w_[i + 1].state && TownBeforeStateCode(i)) {  // the state here: asked of every word
        Add(w_[i].begin, w_[i].end, PhiType::kLocation, 3);
        continue;
      }
      if (w_[i].lower.size() == 1 && (w_[i].lower[0] == 'f' || w_[i].lower[0] == 'm')) SexAndAgeAt(i);  // "93F"
      if (w_[i].calendar || !w_[i].city_start || Eponym(i) || AfterStatusPost(i)) continue;
      // Cities: gazetteer words before ", <state>", or after "in"/"from", or unusual words.
      for (std::size_t len = std::min(lex.max_city_words(), n - i); len >= 1; --len) {
        std::string key(w_[i].lower);
        bool ok = true;
        for (std::size_t k = 1; k < len && ok; ++k) {
          ok = IsSpaceGap(Gap(s_, w_[i + k - 1], w_[i + k])) && w_[i + k].cap;
          key += ' ';
          key += w_[i + k].lower;
        }
        if (!ok || !lex.City(key)) continue;
        const std::size_t last = i + len - 1;
        const bool before_state = last + 1 < n && Gap(s_, w_[last], w_[last + 1]) == ", " &&
                                  w_[last + 1].state &&
                                  (w_[last + 1].all_caps || w_[last + 1].cap);
        // "FROM WORCESTER": in a line in capitals, as "from Worcester".
        const bool caps = w_[i].all_caps && i > 0 && w_[i - 1].all_caps;
        const bool after_cue = i > 0 && (w_[i - 1].grammar & kPlaceCue) && (!w_[i - 1].cap || caps) &&
                               IsSpaceGap(Gap(s_, w_[i - 1], w_[i]));
        // "born in Canada": no place under Safe Harbor; but "Resides in Lebanon" is the town.
        const bool lives_in = after_cue && len == 1 && i > 1 && w_[i - 1].lower == "in" &&
                              In(w_[i - 2].lower, {"lives", "living", "resides", "residing"});
        if (lex.Country(key) && !before_state && !lives_in) {
          i = last;
          break;
        }
        const bool plain = !w_[i].common && w_[i].first == 0 && w_[i].last == 0 &&
                           (!w_[i].all_caps || (caps && after_cue)) && !lex.State(key);
        // After a verb of transfer, a town in no common list even if a first name ("TRANSFERRED TO
        // CHELSEA"; "spoke to Chelsea" stays a name).
        const bool strong_cue =
            after_cue && i > 1 &&
            (In(w_[i - 2].lower, {"lives", "living", "resides", "residing", "moved", "born", "home"}) ||
             (IsTransferVerb(w_[i - 2].lower) && !w_[i].common && IsSpaceGap(Gap(s_, w_[i - 2], w_[i - 1]))));
        // "visiting sister in Lowell": after "in", a listed first name too (people are seldom "in"
        // someone, as for lower-case towns above).
        const bool in_town = after_cue && len == 1 && w_[i - 1].lower == "in" && !w_[i].common && !w_[i].name &&
                             (!w_[i].all_caps || caps) && !lex.State(key);
        // "in Fall River": a town of several words after a cue, even one of common words; "14 Elm
        // Terrace, Quincy": a town right after a street address (looked up last: the costliest).
        if (before_state || strong_cue || (after_cue && (plain || in_town || len > 1)) || (plain && len > 1) ||
            (plain && !w_[i].sentence_start && !ShortNumberAfter(last)) ||
            (w_[i].first == 0 && !w_[i].name && AcronymAfter(last)) || after_street_at(i)) {
          if (!lex.State(key) || before_state) Add(w_[i].begin, w_[last].end, PhiType::kLocation, 1);
          i = last;
          break;
        }
      }
    }
  }

  // Phrases that name a person, an age or a place in lower-case notes, after ScoreNames
  // (docs/deid-text.md, step 5 and 6): nicknames, "dr de la cruz", "rn k. osei", "daughter in
  // law kasia", "pt ninety-two", facilities ("maplewood snf", "st. mary's hospital") and cities
  // after "transferred from", "born in", "moved to".
  void Phrases() {
    const std::size_t n = w_.size();
    for (std::size_t i = 0; i < n; ++i) {
      const Word& w = w_[i];
      const std::uint8_t phrase = w.phrase;
      if (phrase == 0 && !(w.grammar & (kTitle | kRelation | kCredential | kPlaceCue | kInstitution | kCalendar))) {
        // A cue for a person, then an initial ("pharmacist j. okoro") or a priest's "fr.": looked
        // at below.
        if (!(w.grammar & kNameCue) || i + 2 >= n ||
            (w_[i + 1].end - w_[i + 1].begin != 1 && w_[i + 1].lower != "fr")) {
          continue;
        }
      }
      if (phrase & (kFacility | kFacilityPair)) FacilityEndingAt(i);
      if (phrase & kAgeWord) Add(w.begin, w.end, PhiType::kAge, 3);
      if ((w.grammar & kPlaceCue) && w.lower == "of") AgeAfterPersonOfAt(i);
      if ((phrase & kAgeCue) || ((w.grammar & kPlaceCue) && w.lower == "at")) AgeAfterLifePhraseAt(i);
      if (w.grammar & kCalendar) SpelledDateAt(i);
      if (i + 1 == n) break;
      const bool spaced = IsSpaceGap(Gap(s_, w, w_[i + 1]));
      if ((phrase & kAgeCue) && spaced) SpelledAgeAt(i + 1);
      if ((phrase & kNicknameCue) && spaced) NicknameAt(i);
      if ((w.grammar & kPlaceCue) && i > 0 && spaced && IsSpaceGap(Gap(s_, w_[i - 1], w)) &&
          (w_[i - 1].phrase & kPlaceVerb) && In(w.lower, {"from", "to", "in"})) {
        CityAfterPlaceVerb(i + 1);
      }
      if ((w.grammar & kPlaceCue) && spaced) {
        // "transferred to Okonkwo's service", "the care of Okonkwo".
        if (w_[i + 1].cap && !w_[i + 1].all_caps && PersonAfterPlaceCue(i + 1) && NameLike(w_[i + 1], true)) {
          w_[i + 1].name = w_[i + 1].cue_name = true;
        }
        if (w.lower == "in") NeighbourhoodAt(i + 1);
        if (w.lower == "at") SpelledEmailAt(i);
        if (w.lower != "of" && i + 3 < n && In(w_[i + 1].lower, {"st", "saint"})) SaintPossessiveAt(i + 1);
        if (i + 3 < n && w_[i + 2].lower == "and" && w.lower != "of") AndPossessiveAt(i + 1);
      }
      if ((w.grammar & kInstitution) && i + 2 < n && spaced && In(w_[i + 1].lower, {"on", "at"}) &&
          (w.lower == "pharmacy" || IsPharmacyChain(w))) {
        StreetAfterPharmacy(i + 2);
      }
      if (w.grammar & (kTitle | kCredential)) {
        InitialAndSurnameAt(i);
      } else if ((w.grammar & kNameCue) && i + 2 < n && w_[i + 1].end - w_[i + 1].begin == 1 &&
                 (w_[i + 1].cap || PersonNoun(w))) {
        InitialAndSurnameAt(i);  // "pharmacist j. okoro", "emt d. haggerty", "tech D. Abernathy"
      } else if ((w.grammar & kNameCue) && i + 2 < n && w_[i + 1].lower == "fr" && spaced) {
        PriestAt(i + 1);  // "chaplain fr. mcgillicuddy"
      }
      if ((w.grammar & kTitle) && (spaced || Gap(s_, w, w_[i + 1]) == ". ")) ParticleSurnameAt(i + 1);
      if ((phrase & kSurnameParticle) && w.lower == "de" && i + 1 < n) DayDeMonthAt(i);  // "3 de marzo"
      // "Jose's mom", "Kevin's wife".
      if ((w.grammar & kRelation) && i > 0 && PossessiveName(w_[i - 1]) && IsSpaceGap(Gap(s_, w_[i - 1], w))) {
        w_[i - 1].name = w_[i - 1].cue_name = true;
      }
      // "daughter in law kasia", "son in law mike".
      if ((w.grammar & kRelation) && i + 3 < n && w_[i + 1].lower == "in" && w_[i + 2].lower == "law" &&
          spaced && IsSpaceGap(Gap(s_, w_[i + 2], w_[i + 3])) && !w_[i + 3].cap &&
          (LowerName(w_[i + 3]) || w_[i + 3].first > 0) && w_[i + 3].grammar == 0 && !IsModal(w_[i + 3].lower)) {
        w_[i + 3].name = w_[i + 3].cue_name = true;
      }
    }
  }

  // Dates the patterns do not see, at the month word `i`: a two-digit year ("march '19"), a day
  // in words before "of" ("the third of march", "twenty first of june") or after the month
  // ("march third", "june the twenty-first"; not after "may", a verb too).
  void SpelledDateAt(std::size_t i) {
    const std::size_t n = w_.size();
    const Word& m = w_[i];
    if (m.lower.ends_with("day")) return;  // a weekday
    MonthAfterTimeWordAt(i);
    const std::size_t e = m.end;
    if (e + 4 <= s_.size() && s_[e] == ' ' && s_[e + 1] == '\'' && IsDigit(s_[e + 2]) && IsDigit(s_[e + 3]) &&
        (e + 4 == s_.size() || !IsDigit(s_[e + 4]))) {
      Add(m.begin, e + 4, PhiType::kDate, 3);
      return;
    }
    // The day of the ordinal word(s) ending at word `k` (one word, or "twenty first"), and where
    // they begin.
    const auto day_ending_at = [&](std::size_t k, std::size_t& begin) {
      begin = k;
      if (k > 0 && IsSpaceGap(Gap(s_, w_[k - 1], w_[k]))) {
        if (const int day = SpelledOrdinalDay(w_[k - 1].lower, w_[k].lower); day > 0) {
          begin = k - 1;
          return day;
        }
      }
      return SpelledOrdinalDay(w_[k].lower);
    };
    if (i >= 2 && w_[i - 1].lower == "of" && IsSpaceGap(Gap(s_, w_[i - 1], m)) &&
        IsSpaceGap(Gap(s_, w_[i - 2], w_[i - 1]))) {
      std::size_t b = 0;
      if (day_ending_at(i - 2, b) > 0) Add(w_[b].begin, m.end, PhiType::kDate, 3);
      return;
    }
    if (m.lower == "may") return;
    std::size_t k = i + 1;
    if (k < n && w_[k].lower == "the" && IsSpaceGap(Gap(s_, m, w_[k]))) {
      // "march the 3rd": a day in digits and its ordinal suffix (the patterns take "march 3rd").
      if (const std::size_t e = DigitOrdinalDayEnd(s_, w_[k].end + 1); e > 0 && s_[w_[k].end] == ' ') {
        Add(m.begin, e, PhiType::kDate, 3);
        return;
      }
      ++k;
    }
    if (k >= n || !IsSpaceGap(Gap(s_, w_[k - 1], w_[k]))) return;
    std::size_t b = 0;
    if (k + 1 < n && IsSpaceGap(Gap(s_, w_[k], w_[k + 1])) && day_ending_at(k + 1, b) > 0 && b == k) {
      Add(m.begin, w_[k + 1].end, PhiType::kDate, 3);
    } else if (SpelledOrdinalDay(w_[k].lower) > 0) {
      Add(m.begin, w_[k].end, PhiType::kDate, 3);
    }
  }

  // "el 3 de marzo", "12 de março de 1931": a date in Spanish or Portuguese around the word "de"
  // (`d`): a day in digits (1-31) right before it, a month's name after it, and a year after a
  // second "de". The month's names are no calendar words elsewhere ("Julio" is a first name).
  void DayDeMonthAt(std::size_t d) {
    const std::size_t n = w_.size();
    std::size_t b = w_[d].begin;
    if (b < 2 || s_[b - 1] != ' ' || !IsSpaceGap(Gap(s_, w_[d], w_[d + 1]))) return;
    const std::size_t e = b - 1;
    b = e;
    while (b > 0 && IsDigit(s_[b - 1]) && e - b < 3) --b;
    if (e - b < 1 || e - b > 2 || (b > 0 && (IsAlnumByte(s_[b - 1]) || s_[b - 1] == '/' || s_[b - 1] == '.'))) return;
    if (const int day = ParseInt(s_.substr(b, e - b)); day < 1 || day > 31) return;
    if (!In(w_[d + 1].lower, {"enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre",
                              "setiembre", "octubre", "noviembre", "diciembre", "janeiro", "fevereiro", "março",
                              "maio", "junho", "julho", "setembro", "outubro", "novembro", "dezembro"})) {
      return;
    }
    std::size_t end = w_[d + 1].end;
    // "de 2024": the year belongs to the date.
    if (d + 2 < n && w_[d + 2].lower == "de" && IsSpaceGap(Gap(s_, w_[d + 1], w_[d + 2])) &&
        w_[d + 2].end + 5 <= s_.size() && s_[w_[d + 2].end] == ' ') {
      const std::size_t y = w_[d + 2].end + 1;
      if (IsDigit(s_[y]) && IsDigit(s_[y + 1]) && IsDigit(s_[y + 2]) && IsDigit(s_[y + 3]) &&
          (y + 4 == s_.size() || !IsAlnumByte(s_[y + 4]))) {
        end = y + 4;
      }
    }
    Add(b, end, PhiType::kDate, 3);
  }

  // "j.doe.1957 at gmail dot com": an e-mail address with "at" and "dot" spelled out, around the
  // word "at" (`a`): letters, digits, '.', '_', '-' or '+' before it (two or more, a letter first),
  // one word, "dot" and a top-level domain after it.
  void SpelledEmailAt(std::size_t a) {
    if (a + 3 >= w_.size() || w_[a + 2].lower != "dot" || !IsSpaceGap(Gap(s_, w_[a + 1], w_[a + 2])) ||
        !IsSpaceGap(Gap(s_, w_[a + 2], w_[a + 3])) ||
        !In(w_[a + 3].lower, {"com", "org", "net", "edu", "gov", "us", "io", "co", "uk", "ca", "de", "fr"})) {
      return;
    }
    if (w_[a].begin < 3 || s_[w_[a].begin - 1] != ' ') return;
    const std::size_t e = w_[a].begin - 1;
    std::size_t b = e;
    while (b > 0 && (IsAlnumByte(s_[b - 1]) || std::string_view("._-+").find(s_[b - 1]) != std::string_view::npos)) {
      --b;
    }
    if (e - b >= 2 && IsAsciiAlpha(s_[b])) Add(b, w_[a + 3].end, PhiType::kEmail, 3);
  }

  // "cvs on elm", "walgreens on main st": the street of a pharmacy, without a house number, at
  // word `k` after "<pharmacy> on" — a word that ends the phrase or comes before a street suffix,
  // but not what else a pharmacy is on ("pharmacy on file", "cvs on hold"). A rule word is a
  // street's name only before its suffix ("cvs on centre st").
  void StreetAfterPharmacy(std::size_t k) {
    const std::size_t n = w_.size();
    const Word& x = w_[k];
    const auto suffix = [&](std::size_t j) {
      return j < n && IsSpaceGap(Gap(s_, w_[j - 1], w_[j])) &&
             In(w_[j].lower, {"st", "street", "ave", "avenue", "rd", "road", "blvd", "boulevard", "ln", "lane",
                              "dr", "drive", "way", "pl", "place", "sq", "square", "pkwy", "parkway", "hwy"});
    };
    if (!IsSpaceGap(Gap(s_, w_[k - 1], x)) || x.calendar || (x.grammar != 0 && !suffix(k + 1)) || x.lower.size() < 3 ||
        In(x.lower, {"file", "record", "records", "hold", "call", "speaker", "phone", "line", "order", "backorder",
                     "vacation", "site", "auto", "mail", "break", "duty", "time", "today", "tomorrow", "now",
                     "weekends", "weekdays", "the", "her", "his", "their", "its", "list", "formulary", "profile",
                     "refill", "delivery", "discharge", "admission", "campus", "premises", "demand"})) {
      return;
    }
    std::size_t e = k;
    if (suffix(k + 1)) {
      e = k + 1;
    } else if (k + 1 < n && IsSpaceGap(Gap(s_, x, w_[k + 1])) && suffix(k + 2) && w_[k + 1].grammar == 0) {
      e = k + 2;  // "walgreens on north main st"
    } else if (k + 1 < n && Gap(s_, x, w_[k + 1]).find_first_of(",.;\n") == std::string_view::npos) {
      return;  // the word does not end the phrase: "cvs on elm" but not "cvs on auto refill"
    }
    Add(x.begin, w_[e].end, PhiType::kLocation, 1);
  }

  // "pt ninety-two", "patient is ninety one": a spelled age over 89 at word `k` (after an
  // optional "is", "now"), unless a unit follows ("pt ninety minutes post op").
  void SpelledAgeAt(std::size_t k) {
    const std::size_t n = w_.size();
    if (k + 1 < n && In(w_[k].lower, {"is", "now", "turned", "turns"}) && IsSpaceGap(Gap(s_, w_[k], w_[k + 1]))) ++k;
    const auto unit = [](std::string_view u) {
      return In(u, {"one", "two", "three", "four", "five", "six", "seven", "eight", "nine"});
    };
    const std::string_view w = w_[k].lower;
    std::size_t e = k;
    const auto next_is = [&](std::size_t j, std::initializer_list<std::string_view> set) {
      return j + 1 < n && IsSpaceGap(Gap(s_, w_[j], w_[j + 1])) && In(w_[j + 1].lower, set);
    };
    if (w == "ninety") {
      if (k + 1 < n && IsSpaceGap(Gap(s_, w_[k], w_[k + 1])) && unit(w_[k + 1].lower)) e = k + 1;
    } else if (w.starts_with("ninety-")) {
      if (!unit(w.substr(7))) return;
    } else {
      return;  // "one hundred" and over: rare enough without "year old" to leave
    }
    if (w_[e].end < s_.size() && (s_[w_[e].end] == '%' || UnitAfter(s_, w_[e].end))) return;
    if (next_is(e, {"percent", "seconds", "sec", "degrees", "pounds", "beats", "bpm", "meters", "yards"})) return;
    Add(w_[k].begin, w_[e].end, PhiType::kAge, 3);
  }

  // "in January", "until late March", "since Aug": a capitalised month's name alone right after a
  // word that puts a time in it is a date element (Safe Harbor keeps only the year), at the
  // calendar word `i` (no weekday). Not in lower case, where "may" and "march" are verbs as often
  // and the third round keeps "seen in june the same day".
  void MonthAfterTimeWordAt(std::size_t i) {
    const Word& m = w_[i];
    if (i == 0 || !m.cap || m.all_caps || In(m.lower, {"tues", "weds", "thur", "thurs"})) return;
    if (IsSpaceGap(Gap(s_, w_[i - 1], m)) &&
        In(w_[i - 1].lower, {"in", "until", "since", "early", "late", "during", "through", "before", "after"})) {
      Add(m.begin, m.end, PhiType::kDate, 2);
    }
  }

  // A nickname after the cue word `c`: "goes by bobby", "aka bob", "prefers to be called
  // bobby", "known as dot", "prefers bobby". The name is a listed first name (even a common
  // word, as nicknames often are) or, except after "prefers", a lower-case word in no list.
  void NicknameAt(std::size_t c) {
    const std::string_view cue = w_[c].lower;
    const std::string_view before = c > 0 && IsSpaceGap(Gap(s_, w_[c - 1], w_[c])) ? w_[c - 1].lower : "";
    const bool strong = cue == "aka" || cue == "nickname" || cue == "nicknamed" ||
                        (cue == "by" && In(before, {"goes", "go", "going", "went"})) ||
                        (cue == "called" && In(before, {"be", "is", "being"})) || (cue == "as" && before == "known");
    if (!strong && cue != "prefers") return;
    Word& next = w_[c + 1];
    if (next.calendar || next.grammar != 0 || next.lower.find('\'') != std::string_view::npos ||
        IsModal(next.lower) || In(next.lower, {"walker", "cane", "wheelchair", "scooter", "car", "bus", "foot"})) {
      return;
    }
    // After "prefers" a common word is a name only when the phrase ends there ("prefers bobby,"
    // but not "prefers grace period").
    const bool ends = c + 2 >= w_.size() || !IsSpaceGap(Gap(s_, next, w_[c + 2]));
    if ((next.first > 0 && (strong || !next.common || ends)) ||
        (strong && !next.common && next.lower.size() >= 3 && next.first == 0 && next.last == 0)) {
      next.name = next.cue_name = true;
    }
  }

  // "dr. b. achebe", "rn k. osei", "tech D. Abernathy": a title or a cue, an initial with its
  // period and a surname in the same case (listed, or in no common list; "E. coli", "A. line"
  // are neither).
  void InitialAndSurnameAt(std::size_t t) {
    if (t + 2 >= w_.size()) return;
    const std::string_view g = Gap(s_, w_[t], w_[t + 1]);
    const Word& initial = w_[t + 1];
    const Word& surname = w_[t + 2];
    if (!(g == " " || g == ". " || g == ".") || initial.end - initial.begin != 1 || initial.cap != surname.cap ||
        Gap(s_, initial, surname) != ". " || surname.all_caps) {
      return;
    }
    if (surname.cap ? NameLike(surname, true) && (!surname.common || surname.last > 0)
                    : LowerName(surname) || (surname.last > 0 && surname.grammar == 0 && !surname.calendar)) {
      Add(initial.begin, surname.end, PhiType::kName, 2);
    }
  }

  // "chaplain fr. mcgillicuddy", "anointed by fr. okonjo": "fr." at word `k`, after a cue for a
  // person, is a priest's title, and the word after it a name (a listed name or one in no list).
  // Not a title elsewhere: "16 fr foley" is a catheter's size, "xfer fr osh" is "from".
  void PriestAt(std::size_t k) {
    const Word& x = w_[k + 1];
    const std::string_view g = Gap(s_, w_[k], x);
    if ((g != ". " && g != ".") || x.calendar || x.grammar != 0 || x.lower.size() < 3 ||
        !(LowerName(x) || x.first > 0 || x.last > 0 || (x.cap && !x.common))) {
      return;
    }
    Add(x.begin, x.end, PhiType::kName, 2);
  }

  // "dr de la cruz", "dr van der berg", "dr la fleur": particles and a surname after a title.
  void ParticleSurnameAt(std::size_t k) {
    const std::size_t n = w_.size();
    if (!(w_[k].phrase & kSurnameParticle) || w_[k].cap) return;
    std::size_t e = k + 1;
    if (e < n && IsSpaceGap(Gap(s_, w_[k], w_[e])) && In(w_[e].lower, {"la", "der", "den", "los", "las"})) ++e;
    // The surname: capitalised and a name ("Mrs. van der Berg"), or lower-case and in no common list
    // or a listed name.
    if (e >= n || !IsSpaceGap(Gap(s_, w_[e - 1], w_[e])) || w_[e].grammar != 0 || w_[e].calendar ||
        w_[e].lower.size() < 3 ||
        !(w_[e].cap ? NameLike(w_[e], false) && !IsModal(w_[e].lower)
                    : LowerName(w_[e]) || w_[e].last > 0 || w_[e].first > 0) ||
        In(w_[e].lower, {"facto", "novo", "jure", "minimis", "rigueur", "trop", "vivo", "vitro", "nada", "luxe"})) {
      return;  // "np de facto in charge": Latin and French phrases, not a surname
    }
    Add(w_[k].begin, w_[e].end, PhiType::kName, 2);
  }

  // A word of a lower-case facility name that alone says "name": a listed city or name that is
  // no common word or state ("maplewood", "boston", "spaulding" is not listed), or a listed
  // name's possessive ("mary's").
  static bool FacilityNameWord(const Word& w) {
    if (w.cap || w.grammar != 0 || w.calendar || w.lower.size() < 3) return false;
    if ((w.city || w.first > 0 || w.last > 0) && !w.common && !w.state) return true;
    if (!w.lower.ends_with("'s")) return false;
    const Lexicon::Entry* e = Lexicon::Get().Find(w.lower.substr(0, w.lower.size() - 2));
    return e != nullptr && (e->first > 0 || e->last > 0) && !e->common;
  }
  // Any other word of such a name ("sunrise" in "dc to sunrise rehab"), but not the words that
  // say what kind of care it is or whose it is.
  // `capitalised`: the same test of a capitalised word ("Little Sprouts daycare"; not "Acute rehab").
  static bool FacilityOtherWord(const Word& w, bool capitalised = false) {
    return w.cap == capitalised && !w.all_caps && w.grammar == 0 && !w.calendar && w.lower.size() >= 3 &&
           w.lower.find('\'') == std::string_view::npos &&
           !In(w.lower, {"acute", "subacute", "inpatient", "outpatient", "cardiac", "cardio", "pulmonary", "pulm",
                         "physical", "occupational", "speech", "vestibular", "pelvic", "floor", "stroke", "ortho",
                         "orthopedic", "neuro", "geri", "geriatric", "pediatric", "peds", "short", "long", "term",
                         "short-term", "long-term", "day", "home", "local", "outside", "nearby", "same", "another",
                         "other", "new", "skilled", "drug", "alcohol", "substance", "detox", "residential",
                         "transitional", "intensive", "cognitive", "memory", "respite", "her", "his", "their", "its",
                         "our", "your", "the", "this", "that", "any", "some", "prior", "previous", "former",
                         "current", "usual", "snf", "rehab", "hospital", "facility", "str", "irf", "tcu", "ltc",
                         "private", "nursing", "assisted", "medical", "health", "care", "bed", "placement", "vs",
                         "wound", "and", "versus", "then", "with", "awaiting", "needs", "accepted", "pending",
                         "homeless", "family", "emergency", "womens", "mens", "youth", "overnight", "adult", "child",
                         "children", "infant", "toddler", "sibling", "shelter", "daycare", "preschool", "attends",
                         "attend", "attended"});
  }

  // A lower-case facility name ending at word `i` ("maplewood snf", "st. mary's hospital",
  // "boston medical center", "maple grove nursing home"): the name words before the facility
  // word(s), at most three; "st."/"saint" and the word after it; any other words only before a
  // place where people stay and after "to", "at", "from", "in", "of" ("dc to sunrise rehab").
  void FacilityEndingAt(std::size_t i) {
    const Word& w = w_[i];
    if (w.cap) return;
    const std::uint8_t phrase = w.phrase;
    std::size_t h = i;  // where the facility words begin
    bool residence = (phrase & kResidence) != 0;
    if (phrase & kFacilityPair) {
      if (i == 0 || !IsSpaceGap(Gap(s_, w_[i - 1], w))) return;
      const std::string_view first = w_[i - 1].lower;
      const bool pair = (w.lower == "home" && first == "nursing") || (w.lower == "living" && first == "assisted") ||
                        ((w.lower == "center" || w.lower == "centre") &&
                         In(first, {"medical", "rehab", "care", "health", "rehabilitation"})) ||
                        (w.lower == "school" && In(first, {"high", "middle", "elementary", "junior", "primary"}));
      if (!pair) return;
      h = i - 1;
      residence = (w.lower != "center" && w.lower != "school") || first == "rehab" || first == "care";
    }
    const auto name_run = [&](bool any_word) {
      std::size_t b = h;
      while (b > 0 && h - b < 3 && IsSpaceGap(Gap(s_, w_[b - 1], w_[b])) &&
             (FacilityNameWord(w_[b - 1]) || (any_word && FacilityOtherWord(w_[b - 1])))) {
        --b;
      }
      return b;
    };
    std::size_t b = name_run(false);
    // "maple grove nursing home" is no listed city: other words after a place cue.
    if (residence) {
      const std::size_t b_any = name_run(true);
      if (b_any < b && b_any > 0 &&
          ((w_[b_any - 1].grammar & kPlaceCue) || In(w_[b_any - 1].lower, {"attends", "attend", "attended"})) &&
          IsSpaceGap(Gap(s_, w_[b_any - 1], w_[b_any]))) {
        b = b_any;
      }
    }
    // "Little Sprouts daycare", "Spaulding rehab": capitalised words before a lower-case word of a
    // place where people stay or a child's, none opening a sentence ("Acute rehab" is a kind).
    if (residence && b == h) {
      while (b > 0 && h - b < 3 && IsSpaceGap(Gap(s_, w_[b - 1], w_[b])) && !w_[b - 1].sentence_start &&
             FacilityOtherWord(w_[b - 1], true)) {
        --b;
      }
    }
    // A two-word listed city ("fall river rehab").
    for (std::size_t k = h >= 3 ? h - 3 : 0; k + 1 < h && b == h; ++k) {
      if (!w_[k].cap && LowerCityAt(k) == h - k) b = k;
    }
    // "st. mary's hospital", "saint anne's": the word after the saint is any word.
    if (b == h && h >= 2 && !w_[h - 1].cap && w_[h - 1].grammar == 0 && In(w_[h - 2].lower, {"st", "saint"})) {
      const std::string_view g = Gap(s_, w_[h - 2], w_[h - 1]);
      if (IsSpaceGap(g) || g == ". ") b = h - 2;
    } else if (b < h && b >= 1 && In(w_[b - 1].lower, {"st", "saint"})) {
      const std::string_view g = Gap(s_, w_[b - 1], w_[b]);
      if (IsSpaceGap(g) || g == ". ") --b;
    }
    // "the lahey clinic", "the mayo clinic": after "the", one word in no list or a listed name,
    // but not the kind of clinic ("the anticoag clinic", "the pain clinic", "the als clinic").
    if (b == h && h >= 2 && w_[h - 2].lower == "the" && IsSpaceGap(Gap(s_, w_[h - 2], w_[h - 1])) &&
        IsSpaceGap(Gap(s_, w_[h - 1], w_[h]))) {
      const Word& x = w_[h - 1];
      if (x.lower.size() >= 4 && x.lower.find('-') == std::string_view::npos && !x.state &&
          (!x.common || x.first > 0 || x.last > 0) && FacilityOtherWord(x) &&
          !In(x.lower, {"anticoag", "coumadin", "warfarin", "derm", "heme", "onco", "rheum", "endo", "nephro",
                        "gastro", "obgyn", "urogyn", "suboxone", "methadone", "preop", "postop", "ostomy", "lvad",
                        "afib", "esrd", "gerd", "ptsd", "copd", "peds", "lipid", "travel", "teaching", "resident"})) {
        b = h - 1;
      }
    }
    if (b < h) Add(w_[b].begin, w.end, PhiType::kLocation, 2);
  }

  // A place named by two words joined by "and", the second a possessive, after a place cue ("born
  // at brigham and women's", "to brigham and women's hospital"): the first word in no common
  // word list and no rule word ("at rest and pt's", "at mom and dad's" are no place).
  void AndPossessiveAt(std::size_t i) {
    const Word& a = w_[i];
    const Word& b = w_[i + 2];
    if (a.common || a.grammar != 0 || a.phrase != 0 || a.calendar || a.lower.size() < 3 ||
        !IsSpaceGap(Gap(s_, a, w_[i + 1])) || !IsSpaceGap(Gap(s_, w_[i + 1], b)) || !b.lower.ends_with("'s") ||
        b.lower.size() < 5 || b.grammar != 0 || (b.cap != a.cap)) {
      return;
    }
    std::size_t e = i + 2;
    if (e + 1 < w_.size() && IsSpaceGap(Gap(s_, b, w_[e + 1])) &&
        ((w_[e + 1].grammar & kInstitution) || (w_[e + 1].phrase & kFacility))) {
      ++e;  // "brigham and women's hospital"
    }
    Add(a.begin, w_[e].end, PhiType::kLocation, 2);
  }

  // "transferred from st. elizabeth's", "at saint anne's": a saint's possessive after a place cue
  // names a hospital or a parish, with or without its facility word.
  void SaintPossessiveAt(std::size_t k) {
    const Word& b = w_[k + 1];
    const std::string_view g = Gap(s_, w_[k], b);
    if (!(IsSpaceGap(g) || g == ". ") || !b.lower.ends_with("'s") || b.lower.size() < 5 || b.grammar != 0 ||
        b.cap != w_[k].cap || (k + 2 < w_.size() && w_[k + 2].lower == "wort")) {
      return;  // "switched to st. john's wort" is the herb
    }
    Add(w_[k].begin, b.end, PhiType::kLocation, 1);
  }

  // A neighbourhood in no list where a verb of living puts the patient, at most four words back
  // in the sentence ("lives w/ son in chinatown", "grew up in dorchester" when unlisted): a word
  // in no list at all, of five letters or more, not in capitals ("lives in sro", "lives in
  // assisted living", "lives in SNF" stay).
  void NeighbourhoodAt(std::size_t i) {
    const Word& w = w_[i];
    if (w.common || w.grammar != 0 || w.phrase != 0 || w.calendar || w.first > 0 || w.last > 0 || w.city ||
        w.state || w.all_caps || w.lower.size() < 5 || w.lower.find_first_of("-'") != std::string_view::npos) {
      return;
    }
    for (std::size_t k = i - 1; k-- > 0 && i - k <= 5;) {
      if (Gap(s_, w_[k], w_[k + 1]).find_first_of(".;:\n") != std::string_view::npos) return;
      if (In(w_[k].lower, {"lives", "living", "lived", "resides", "residing", "resided", "raised", "grew"})) {
        Add(w.begin, w.end, PhiType::kLocation, 1);
        return;
      }
    }
  }

  // A lower-case listed city after "transferred from", "born in", "moved to", even a common word
  // ("transferred from riverside"), but not where a patient is moved within a hospital or home.
  void CityAfterPlaceVerb(std::size_t i) {
    if (w_[i].cap || !w_[i].city_start) return;
    // A country that is also a listed US town, where the patient lives ("lives in lebanon"): the
    // town; after any other verb ("born in lebanon", "moved to mexico") the country.
    if (w_[i].city && !w_[i].state && w_[i - 1].lower == "in" &&
        In(w_[i - 2].lower, {"lives", "living", "resides", "residing"}) && Lexicon::Get().Country(w_[i].lower)) {
      Add(w_[i].begin, w_[i].end, PhiType::kLocation, 1);
      return;
    }
    const std::size_t len = LowerCityAt(i);
    if (len == 0 || (len == 1 && In(w_[i].lower, {"home", "ward", "nursery", "house", "center", "central", "section",
                                                  "transfer", "university", "bay", "floor", "unit"}))) {
      return;
    }
    // A common word that is also a town is the town after a verb of transfer ("transferred from
    // riverside") or before a state ("lives in bath, me"), not after one of living or birth
    // alone ("lives in bath").
    const bool state_after = i + 1 < w_.size() && w_[i + 1].state &&
                             Gap(s_, w_[i], w_[i + 1]).find_first_not_of(", ") == std::string_view::npos;
    if (len == 1 && w_[i].common && !state_after && !IsTransferVerb(w_[i - 2].lower) &&
        !In(w_[i - 2].lower, {"arrived", "sent"})) {
      return;
    }
    Add(w_[i].begin, w_[i + len - 1].end, PhiType::kLocation, 1);
  }

  // The number of lower-case words from `i` that name a listed city and not a state or country
  // ("worcester", "new bedford"; not "canada"), longest first; 0 when none do.
  std::size_t LowerCityAt(std::size_t i) const {
    const Lexicon& lex = Lexicon::Get();
    std::string key;
    for (std::size_t len = std::min(lex.max_city_words(), w_.size() - i); len >= 1; --len) {
      key.assign(w_[i].lower);
      bool ok = true;
      for (std::size_t k = 1; k < len && ok; ++k) {
        ok = IsSpaceGap(Gap(s_, w_[i + k - 1], w_[i + k])) && !w_[i + k].cap;
        key += ' ';
        key += w_[i + k].lower;
      }
      if (!ok) continue;
      const Lexicon::Entry* e = lex.Find(key);
      if (e != nullptr && e->city && !e->state && !e->country) return len;
    }
    return 0;
  }

  // A capitalised word naming a disease, sign, finding or device ("Lyme disease", "Barrett
  // esophagus", "Clark level", "Blake drain"), or a scale or score one word later ("Glasgow coma
  // scale", "Amsterdam II criteria"), or the first of two capitalised names before a finding
  // ("Austin Flint murmur", "Bence Jones protein").
  bool Eponym(std::size_t i) const {
    if (i + 1 >= w_.size() || !IsSpaceGap(Gap(s_, w_[i], w_[i + 1]))) return false;
    if (EponymNoun(w_[i + 1]) != AfterEponym::kNone) return true;
    if (i + 2 >= w_.size() || !IsSpaceGap(Gap(s_, w_[i + 1], w_[i + 2]))) return false;
    const AfterEponym later = EponymNoun(w_[i + 2]);
    return later == AfterEponym::kOneWordLater || (later == AfterEponym::kTwoNames && w_[i + 1].cap);
  }

  // Whether word `i`, which Eponym accepts, is a name all the same: after a title ("Dr. Blake
  // drain"); after another cue, before a noun a person is also the subject of ("daughter Mary
  // drain care", "pt Grace Level 2 trauma"; not "caused by Addison disease", "Mother Parkinson
  // disease"); or one of a full name, a capitalised listed first name and the word after it
  // ("Maria Lopez level 2 trauma", "Anna Flint murmur"), unless the two are a known eponym
  // ("Austin Flint murmur").
  bool NameBeforeEponymNoun(std::size_t i) const {
    if (i > 0 && IsCueGap(Gap(s_, w_[i - 1], w_[i]))) {
      if (w_[i - 1].grammar & kTitle) return true;
      if ((w_[i - 1].grammar & kNameCue) && In(w_[i + 1].lower, {"drain", "level"})) return true;
    }
    const auto full_name = [&](std::size_t k) {
      static constexpr std::pair<std::string_view, std::string_view> kEponymPairs[] = {
          {"austin", "flint"}, {"bence", "jones"}, {"marcus", "gunn"}, {"argyll", "robertson"}};
      const Word& a = w_[k];
      const Word& b = w_[k + 1];
      return a.cap && a.first > 0 && b.cap && EponymNoun(b) == AfterEponym::kNone && IsSpaceGap(Gap(s_, a, b)) &&
             std::ranges::none_of(kEponymPairs, [&](const auto& p) { return a.lower == p.first && b.lower == p.second; });
    };
    return (i > 0 && full_name(i - 1)) || full_name(i);
  }

  // "s/p Whipple", "status post Nissen": after these comes a procedure or an event, not a place
  // (many procedures are named after surgeons whose names are towns).
  bool AfterStatusPost(std::size_t i) const {
    std::size_t b = w_[i].begin;
    while (b > 0 && IsBlank(s_[b - 1])) --b;
    if (b == w_[i].begin) return false;
    if (b >= 3 && Lower(s_[b - 3]) == 's' && s_[b - 2] == '/' && Lower(s_[b - 1]) == 'p') {
      return b == 3 || !IsAlnumByte(s_[b - 4]);
    }
    return i >= 2 && w_[i - 1].lower == "post" && w_[i - 2].lower == "status";
  }

  // A short number right after word `k` ("Braden 18", "Gleason 3+4"): one or two digits after
  // one blank, and no more digits.
  bool ShortNumberAfter(std::size_t k) const {
    const std::size_t e = w_[k].end;
    if (e + 1 >= s_.size() || s_[e] != ' ' || !IsDigit(s_[e + 1])) return false;
    const std::size_t d = e + 2 < s_.size() && IsDigit(s_[e + 2]) ? e + 3 : e + 2;
    return d >= s_.size() || !IsDigit(s_[d]);
  }

  // Lower-case notes: an employer after "at" in a sentence about work ("works as a cashier at
  // stop & shop", "employed at home depot in dedham"): up to three lower-case words joined by
  // " " or " & ", ending before a rule word or one of time, place or manner ("works at home most
  // days", "works at night", "works at a bank"); one word alone only if it is no common word
  // ("works at raytheon"). Returns the index of the last word taken, or `i`.
  std::size_t LowerEmployerAt(std::size_t i) {
    std::size_t last = i;
    for (std::size_t k = i + 1; k < w_.size() && k - i <= 3; ++k) {
      const Word& x = w_[k];
      if (k > i + 1) {
        const std::string_view g = Gap(s_, w_[k - 1], x);
        if (g != " " && g != " & ") break;
        if (x.lower.ends_with("ing")) break;  // "works at home doing crafts"
      }
      if (x.cap || x.grammar != 0 || x.calendar || x.lower.size() < 2 ||
          In(x.lower, {"a", "an", "the", "his", "her", "their", "my", "our", "your", "this", "that", "these",
                       "those", "same", "least", "most", "all", "some", "night", "nights", "day", "days", "times",
                       "time", "part", "full", "as", "for", "since", "until", "and", "but", "with", "on", "by",
                       "while", "when", "where", "now", "currently", "still", "weekend", "weekends", "age",
                       "yesterday", "today", "tonight", "tomorrow", "last", "next", "am", "pm", "risk", "baseline",
                       "rest", "desk", "bedside"})) {
        break;
      }
      last = k;
    }
    if (last == i || (last == i + 1 && (w_[last].common || w_[last].lower.size() < 3))) return i;
    Add(w_[i + 1].begin, w_[last].end, PhiType::kOther, 1);
    return last;
  }

  // A verb of leaving a job right before "from" at word `i` ("fired from", "laid off from",
  // "retired from"; not "discharged from", "d/c'd from").
  bool LeftJobBefore(std::size_t i) const {
    return i > 0 && IsSpaceGap(Gap(s_, w_[i - 1], w_[i])) &&
           In(w_[i - 1].lower, {"fired", "retired", "resigned", "terminated", "dismissed", "off", "quit"});
  }

  // An employment word earlier in the same sentence (at most 8 words back).
  bool EmployerContext(std::size_t i) const {
    for (std::size_t k = i; k-- > 0 && i - k <= 8;) {
      if (w_[k].grammar & kEmployerCue) return true;
      if (Gap(s_, w_[k], w_[k + 1]).find_first_of(".\n") != std::string_view::npos) return false;
    }
    return false;
  }

  void Add(std::size_t b, std::size_t e, PhiType t, int priority) {
    out_.push_back({base_ + b, base_ + e, t, priority});
  }

  std::string_view s_;
  std::string_view original_;  // s_ with its soft line breaks (Unwrapped)
  std::vector<Word>& w_;
  const std::vector<std::vector<std::string>>& clinicians_;
  StringSet& known_;
  std::vector<ByteSpan>& out_;
  std::size_t base_;
};

// ---- numbers -----------------------------------------------------------------------------

// Runs of letters and digits with inner '-' or '_' ("MRN-123456", "SN-1234-XYZ", "jdoe_51").
struct IdToken {
  std::size_t begin, end;
  int digits, letters;
  bool hyphen;
};
IdToken IdTokenAt(std::string_view s, std::size_t i) {
  IdToken t{i, i, 0, 0, false};
  while (t.end < s.size()) {
    const char c = s[t.end];
    if (IsDigit(c)) {
      ++t.digits;
    } else if (IsAsciiAlpha(c)) {
      ++t.letters;
    } else if (c == '-' && t.end > i && t.end + 1 < s.size() &&
               (IsDigit(s[t.end + 1]) || IsAsciiAlpha(s[t.end + 1]))) {
      t.hyphen = true;
    } else if (c == '_' && t.end > i && t.end + 1 < s.size() && IsAlnumByte(s[t.end + 1])) {
      // "jdoe_51": a user name's underscore joins its parts.
    } else {
      break;
    }
    ++t.end;
  }
  return t;
}
// "0700-1900": a range of 24-hour clock times (a shift), not an identifier.
bool IsTimeRange(std::string_view s, const IdToken& t) {
  if (t.end - t.begin != 9 || t.letters != 0 || s[t.begin + 4] != '-') return false;
  auto clock = [&](std::size_t i) {
    const int h = (s[i] - '0') * 10 + (s[i + 1] - '0'), m = (s[i + 2] - '0') * 10 + (s[i + 3] - '0');
    return h <= 24 && m <= 59;
  };
  return clock(t.begin) && clock(t.begin + 5);
}
// "120-80", "110-120": a range of two values of at most three digits each, not an identifier.
bool IsValueRange(std::string_view s, const IdToken& t) {
  if (t.letters != 0 || !t.hyphen) return false;
  const std::string_view token = s.substr(t.begin, t.end - t.begin);
  const std::size_t dash = token.find('-');
  return token.find('-', dash + 1) == std::string_view::npos && dash <= 3 && token.size() - dash - 1 <= 3;
}
// "G2P1001", "g3p2": gravida and para, an obstetric history, not an identifier.
bool IsGravidaPara(std::string_view s, const IdToken& t) {
  std::size_t k = t.begin;
  if (t.hyphen || Lower(s[k]) != 'g') return false;
  for (++k; k < t.end && IsDigit(s[k]); ++k) {
  }
  if (k == t.begin + 1 || k - t.begin > 3 || k >= t.end || Lower(s[k]) != 'p') return false;
  for (++k; k < t.end && IsDigit(s[k]); ++k) {
  }
  return k == t.end && t.letters == 2;
}

// "1968-1971": a range of two years (1900-2099, the second not before the first), not an
// identifier (a year alone is no PHI).
bool IsYearRange(std::string_view s, const IdToken& t) {
  if (t.end - t.begin != 9 || t.letters != 0 || s[t.begin + 4] != '-') return false;
  const int from = ParseInt(s.substr(t.begin, 4)), to = ParseInt(s.substr(t.begin + 5, 4));
  return from >= 1900 && from <= 2099 && to >= from && to <= 2099;
}

bool LooksLikeId(std::string_view s, const IdToken& t) {
  if (IsTimeRange(s, t) || IsValueRange(s, t) || IsYearRange(s, t)) return false;
  return (t.digits >= 5 || (t.digits >= 4 && t.letters >= 1 && t.hyphen)) && !IsGravidaPara(s, t);
}

// "22 o'connell way" is a street; "2 puffs either way" and "walked 20 feet all the way" are not:
// in a street address match `m`, the word before "way" is no determiner or quantifier.
bool WayIsNoStreet(std::string_view m) {
  std::string before;
  for (std::size_t i = 0; i < m.size();) {
    while (i < m.size() && !IsAsciiAlpha(m[i])) ++i;
    const std::size_t b = i;
    while (i < m.size() && (IsAsciiAlpha(m[i]) || m[i] == '\'')) ++i;
    std::string word = LowerWord(m.substr(b, i - b));
    if (word == "way") {
      return In(before, {"the", "a", "an", "either", "neither", "any", "one", "two", "other", "another", "same",
                         "that", "this", "no", "each", "every", "some", "which", "his", "her", "their", "its", "my",
                         "our", "your", "long", "half", "right", "wrong", "whole", "only", "best", "both", "all"});
    }
    before = std::move(word);
  }
  return false;
}

// Where the street of a street address match `m` at byte `b` of `s` starts in `m`: after its
// first word when that is a preposition, the number before it being no house number ("12 on Main
// St", "04/12/2024 at Lowell District Court": a date's year); `m.size()` (no street) when the
// number is the year of a date ('/' before it) and no preposition follows; else 0.
std::size_t StreetStart(std::string_view s, std::size_t b, std::string_view m) {
  std::size_t i = 0;
  while (i < m.size() && !IsAsciiAlpha(m[i])) ++i;
  std::size_t e = i;
  while (e < m.size() && IsAsciiAlpha(m[e])) ++e;
  if (e < m.size() && m[e] == ' ' &&
      In(LowerWord(m.substr(i, e - i)), {"at", "in", "on", "to", "from", "by", "for", "of", "with"})) {
    return e + 1;
  }
  return b > 0 && s[b - 1] == '/' ? m.size() : 0;
}

// "IRB #2019P001234", "IRB protocol no. 2019P001234": a review board's protocol number, before the
// token at byte `b` of `s`, identifies a study, not a person (as "study 2023-0117").
bool AfterIrb(std::string_view s, std::size_t b) {
  // Without a copy: most tokens have no word before them that is one of these.
  const auto is = [&](std::size_t a, std::size_t e, std::string_view lower) {
    if (e - a != lower.size()) return false;
    for (std::size_t k = 0; k < lower.size(); ++k) {
      if (Lower(s[a + k]) != lower[k]) return false;
    }
    return true;
  };
  for (int words = 0; words < 3; ++words) {
    while (b > 0 && (s[b - 1] == ' ' || s[b - 1] == '#' || s[b - 1] == ':' || s[b - 1] == '.')) --b;
    std::size_t a = b;
    while (a > 0 && IsAsciiAlpha(s[a - 1])) --a;
    if (is(a, b, "irb")) return true;
    if (!is(a, b, "protocol") && !is(a, b, "no") && !is(a, b, "number")) return false;
    b = a;
  }
  return false;
}

// Where the number of a spelled-out age match starts and ends: after "age"/"aged"/"of"/":",
// and before the first word that starts with 'y' ("year", "yo", "y/o"; no number word does).
std::pair<std::size_t, std::size_t> SpelledAge(std::string_view m) {
  std::size_t b = 0;
  for (std::size_t i = 0; i < m.size();) {
    std::size_t j = i;
    while (j < m.size() && IsAsciiAlpha(m[j])) ++j;
    const std::string w = LowerWord(m.substr(i, j - i));
    if (!w.empty() && w != "age" && w != "aged" && w != "of") break;
    i = b = j == i ? j + 1 : j;
  }
  std::size_t e = b;
  for (std::size_t i = b; i < m.size(); ++i) {
    const bool word_start = IsAsciiAlpha(m[i]) && (i == 0 || !IsAsciiAlpha(m[i - 1]));
    if (word_start && Lower(m[i]) == 'y') break;
    if (IsAsciiAlpha(m[i])) e = i + 1;
  }
  return {b, e};
}

int ParseInt(std::string_view s) {
  int v = 0;
  for (char c : s) {
    if (!IsDigit(c)) break;
    v = v * 10 + (c - '0');
    if (v > 100000) break;
  }
  return v;
}

// "03/12/2025", "12.3.25", "2025-03-12": month and day in range in some order.
bool PlausibleNumericDate(std::string_view m) {
  std::array<int, 3> v{};
  std::array<int, 3> width{};
  int k = 0;
  for (std::size_t i = 0; i < m.size() && k < 3;) {
    if (!IsDigit(m[i])) {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < m.size() && IsDigit(m[j])) ++j;
    v[k] = ParseInt(m.substr(i, j - i));
    width[k++] = static_cast<int>(j - i);
    i = j;
  }
  if (k != 3) return false;
  auto md = [](int mo, int d) { return mo >= 1 && mo <= 12 && d >= 1 && d <= 31; };
  if (width[0] == 4) return md(v[1], v[2]);
  return md(v[0], v[1]) || md(v[1], v[0]);
}

// "2023-03-05T14:22": a date and a time as machines write them (ISO 8601), read as one token;
// whether the token `t` starts with such a date (the time after it is no PHI).
bool IsoDateBeforeTime(std::string_view s, const IdToken& t) {
  if (t.end - t.begin < 13 || t.letters != 1 || s[t.begin + 10] != 'T' || !IsDigit(s[t.begin + 11])) return false;
  const std::string_view d = s.substr(t.begin, 10);
  return d[4] == '-' && d[7] == '-' && IsDigit(d[3]) && IsDigit(d[6]) && IsDigit(d[9]) && PlausibleNumericDate(d);
}

bool ValidIpv4(std::string_view m) {
  int octet = 0, count = 0, parts = 0;
  for (char c : m) {
    if (c == '.') {
      if (count == 0 || octet > 255) return false;
      octet = count = 0;
      ++parts;
      continue;
    }
    octet = octet * 10 + (c - '0');
    ++count;
  }
  return parts == 3 && count > 0 && octet <= 255;
}

// The word (letters only, lower case) that ends just before byte `i`, skipping spaces and
// one comma.
std::string WordBefore(std::string_view s, std::size_t i) {
  while (i > 0 && (s[i - 1] == ' ' || s[i - 1] == ',' || s[i - 1] == '\t')) --i;
  std::size_t b = i;
  while (b > 0 && IsAsciiAlpha(s[b - 1])) --b;
  std::string w(s.substr(b, i - b));
  for (char& c : w) c = Lower(c);
  return w;
}

// ---- month/day without a year ------------------------------------------------------------
// "3/14" may be a date, a fraction, a score, a ratio or a blood pressure. The rule
// (docs/deid-text.md, "Month/day without a year"): the values must be a month and a day of
// that month, no unit or counted noun may follow, and the context must say "date" — a date
// word or a clock time, or a list or range with another date ("3/7 and 3/14", "3/7-3/9").

// A month/day match: [begin, end) in the segment; `date` once decided, `linkable` when only a
// neighbouring date is missing.
struct MonthDay {
  std::size_t begin, end;
  bool date = false, linkable = false;
};

bool ValidMonthDay(int month, int day) {
  // February 29 counts: the year is unknown.
  static constexpr std::array<int, 12> kDays{31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month >= 1 && month <= 12 && day >= 1 && day <= kDays[static_cast<std::size_t>(month - 1)];
}

// Whether `s` has one or two digits, '/', one or two digits ending at byte `i` (and not more
// digits before them).
bool MonthDayEndsAt(std::string_view s, std::size_t i) {
  std::size_t k = i, n = 0;
  while (k > 0 && IsDigit(s[k - 1]) && n < 3) --k, ++n;
  if (n < 1 || n > 2 || k == 0 || s[k - 1] != '/') return false;
  std::size_t j = k - 1;
  n = 0;
  while (j > 0 && IsDigit(s[j - 1]) && n < 3) --j, ++n;
  return n >= 1 && n <= 2 && (j == 0 || !IsDigit(s[j - 1]));
}
// The same starting at byte `i`.
bool MonthDayStartsAt(std::string_view s, std::size_t i) {
  std::size_t k = i;
  while (k < s.size() && IsDigit(s[k]) && k - i < 3) ++k;
  if (k == i || k - i > 2 || k >= s.size() || s[k] != '/') return false;
  std::size_t j = ++k;
  while (j < s.size() && IsDigit(s[j]) && j - k < 3) ++j;
  return j > k && j - k <= 2 && (j == s.size() || !IsDigit(s[j]));
}

// A short number after a month/day ending at byte `e` ("3/7-9", "3/30-2"): where it ends, or `e`
// when none is there (one or two digits after '-' and no more of a number after them:
// "3/7-3/9" is a range of two month/days, "3/7-25" a full date).
std::size_t DashNumberEnd(std::string_view s, std::size_t e) {
  if (e + 1 >= s.size() || s[e] != '-' || !IsDigit(s[e + 1])) return e;
  std::size_t j = e + 1;
  while (j < s.size() && IsDigit(s[j]) && j - e <= 2) ++j;
  const bool more = j < s.size() && (IsDigit(s[j]) || ((s[j] == '/' || s[j] == '.' || s[j] == '-') &&
                                                        j + 1 < s.size() && IsDigit(s[j + 1])));
  return more ? e : j;
}
// A day range inside a month ("3/7-9"): where its second day ends, given a month/day `month`/`day`
// ending at byte `e`; `e` when the number after it is no later day of the same month.
std::size_t DayRangeEnd(std::string_view s, std::size_t e, int month, int day) {
  const std::size_t j = DashNumberEnd(s, e);
  if (j == e) return e;
  const int last = ParseInt(s.substr(e + 1, j - e - 1));
  return last > day && ValidMonthDay(month, last) ? j : e;
}

// A word of letters with inner '/', '-' or '\'' ("f/u", "follow-up", "b/p", "dc'd") ending at
// byte `i`; returns where it begins (`i` when there is none).
std::size_t WordStartBefore(std::string_view s, std::size_t i) {
  std::size_t b = i;
  while (b > 0 && (IsAsciiAlpha(s[b - 1]) ||
                   ((s[b - 1] == '/' || s[b - 1] == '-' || s[b - 1] == '\'') && b < i && b >= 2 &&
                    IsAsciiAlpha(s[b - 2])))) {
    --b;
  }
  return b;
}

// The word before byte `i` past blanks and at most one ',', ':', '.' or '(' ("Comparison: 3/4",
// "f/u 12/4", "appt. 3/7"), lower case; `begin` is where it starts. Empty if none.
std::string CueBefore(std::string_view s, std::size_t i, std::size_t& begin) {
  while (i > 0 && IsBlank(s[i - 1])) --i;
  if (i > 0 && (s[i - 1] == ',' || s[i - 1] == ':' || s[i - 1] == '.' || s[i - 1] == '(')) {
    --i;
    while (i > 0 && IsBlank(s[i - 1])) --i;
  }
  begin = WordStartBefore(s, i);
  return LowerWord(s.substr(begin, i - begin));
}

// After these a month/day is a date (unless a unit follows: "on 1/2 tab").
bool IsDateCue(std::string_view w) {
  return In(w, {"on", "since", "until", "till", "til", "dated", "date", "dob", "dos", "doa", "dod", "doi",
                "due", "before", "after", "starting", "started", "start", "f/u", "fu", "followup", "follow-up",
                "recheck", "rechecked", "seen", "return", "returns", "returned", "rtc", "appt", "appointment",
                "scheduled", "rescheduled", "admitted", "admit", "admission", "adm", "discharged", "discharge",
                "dc'd", "d/c'd", "dc", "d/c", "encounter", "visit",
                "comparison", "prior", "last", "next", "expires", "expired", "effective", "onset", "began",
                "ended", "lmp", "edd", "edc", "drawn", "collected", "born", "bday", "birthday", "bm", "check",
                "interrogated", "implanted", "explanted", "removed", "placed", "inserted", "replaced", "exchanged",
                "attempt", "monday", "tuesday",
                "wednesday", "thursday", "friday", "saturday", "sunday", "mon", "tue", "tues", "wed", "thu",
                "thur", "thurs", "fri"});
}
// "scheduled for 4/2", "as of 6/1", "compared to 3/7": a preposition after one of these; "chest
// x-ray of 6/30": "of" after a study.
bool IsDatePhrase(std::string_view head, std::string_view preposition) {
  return (In(preposition, {"for", "of", "to", "with"}) &&
          In(head, {"scheduled", "rescheduled", "planned", "set", "booked", "appt", "appointment", "as", "week",
                    "compared", "comparison"})) ||
         (preposition == "of" && In(head, {"x-ray", "xray", "cxr", "film", "films", "study", "studies", "exam",
                                           "ct", "cta", "mri", "mra", "echo", "ekg", "ecg", "ultrasound", "scan"}));
}
// After these a value may follow as well as a date ("from 3/5 to 4/5"): a date only when no
// measurement word is near (MeasurementBefore).
bool IsRangeCue(std::string_view w) { return In(w, {"from", "through", "thru", "by", "between"}); }

// A measurement, scale or dose word among the five words (and 64 bytes) before byte `i` in the
// same sentence ("strength improved from 3/5", "bp 120/80 and", "reduce by 1/2").
bool MeasurementBefore(std::string_view s, std::size_t i) {
  const std::size_t stop = i > 64 ? i - 64 : 0;
  for (int words = 0; i > stop && words < 5;) {
    const char c = s[i - 1];
    const bool decimal_point = c == '.' && i >= 2 && IsDigit(s[i - 2]) && i < s.size() && IsDigit(s[i]);
    if (c == '\n' || c == '\r' || c == ';' || c == '!' || c == '?' || (c == '.' && !decimal_point)) return false;
    if (!IsAsciiAlpha(c)) {
      --i;
      continue;
    }
    const std::size_t b = WordStartBefore(s, i);
    if (In(LowerWord(s.substr(b, i - b)),
           {"bp", "b/p", "pressure", "pressures", "gcs", "strength", "power", "motor", "grip", "reflex",
            "reflexes", "dtr", "dtrs", "pulse", "pulses", "sensation", "pain", "score", "scores", "scale",
            "ratio", "grade", "graded", "murmur", "apgar", "apgars", "vision", "acuity", "va", "mmse", "moca",
            "ef", "rated", "fraction", "dose", "doses", "tab", "tabs", "tablet", "tablets", "reduce", "reduced",
            "decrease", "decreased", "increase", "increased", "titrate", "titrated", "wean", "weaned", "taper",
            "tapered", "cores", "nodes", "i/e", "x", "dilution", "dilutions", "titer", "titre"})) {
      return true;
    }
    ++words;
    i = b;
  }
  return false;
}

// A follow-up, appointment or admission word among the six words (and 64 bytes) before byte `i`
// in the same sentence, not right before it ("follow up at boston medical center 12/10").
bool FollowUpBefore(std::string_view s, std::size_t i) {
  const std::size_t stop = i > 64 ? i - 64 : 0;
  for (int words = 0; i > stop && words < 6;) {
    const char c = s[i - 1];
    if (c == '\n' || c == '\r' || c == ';' || c == '!' || c == '?' || c == '.') return false;
    if (!IsAsciiAlpha(c)) {
      --i;
      continue;
    }
    const std::size_t b = WordStartBefore(s, i);
    const std::string w = LowerWord(s.substr(b, i - b));
    if (In(w, {"f/u", "fu", "followup", "follow-up", "appt", "appointment", "scheduled", "rescheduled", "rtc",
               "admitted", "discharged", "dc'd", "d/c'd", "dc", "d/c"})) {
      return true;
    }
    if (w == "up") {  // "follow up"
      std::size_t k = b;
      while (k > 0 && IsBlank(s[k - 1])) --k;
      const std::size_t f = WordStartBefore(s, k);
      if (LowerWord(s.substr(f, k - f)) == "follow") return true;
    }
    ++words;
    i = b;
  }
  return false;
}

// A unit or counted noun right after byte `i` ("1/2 tab", "5/5 strength", "2/6 murmur").
bool UnitAfter(std::string_view s, std::size_t i) {
  while (i < s.size() && IsBlank(s[i])) ++i;
  if (i < s.size() && s[i] == '%') return true;
  std::size_t e = i;
  while (e < s.size() &&
         (IsAsciiAlpha(s[e]) || (s[e] == '/' && e > i && e + 1 < s.size() && IsAsciiAlpha(s[e + 1])))) {
    ++e;
  }
  return e > i &&
         In(LowerWord(s.substr(i, e - i)),
            {"tab", "tabs", "tablet", "tablets", "pill", "pills", "cap", "caps", "capsule", "capsules", "mg", "mcg",
             "g", "gm", "gram", "grams", "kg", "ml", "cc", "l", "lpm", "unit", "units", "u", "iu", "meq", "mmol",
             "mmhg", "mm", "cm", "inch", "inches", "ns", "nss", "normal", "strength", "power", "dose", "doses",
             "of", "times", "x", "puff", "puffs", "drop", "drops", "gtt", "gtts", "cup", "cups", "tsp", "tbsp", "hr",
             "hrs", "hour", "hours", "min", "mins", "minute", "minutes", "day", "days", "wk", "wks", "week", "weeks",
             "mo", "mos", "month", "months", "yr", "yrs", "year", "years", "murmur", "systolic", "diastolic",
             "holosystolic", "sem", "reflexes", "pulses", "sets", "reps", "attempts", "occasions", "cores",
             "nodes", "views", "lymph", "positive", "negative", "bottles", "level", "levels", "interspace", "disc",
             "bilaterally", "bilateral", "b/l", "throughout", "ratio", "score", "scale", "pain", "vision", "shift",
             "shifts", "x/day", "x/wk", "patients", "pts", "people", "beds", "steps", "stairs", "flights", "blocks",
             "feet", "ft", "servings", "meals", "beers", "drinks", "cigarettes", "packs", "ppd", "lbs", "lb", "liter",
             "liters", "litre", "litres", "regimen", "schedule"});
}

// Between two dates of a list or range: "and", "or", "to", "through", "vs", "-", "&", ",".
// Returns where the date before byte `i` must end (ConnectorBefore) or the date after byte `i`
// must begin (ConnectorAfter), or npos.
bool IsConnector(std::string_view w) {
  return In(w, {"and", "or", "to", "through", "thru", "until", "till", "vs", "versus", "then"});
}
std::size_t ConnectorBefore(std::string_view s, std::size_t i) {
  while (i > 0 && IsBlank(s[i - 1])) --i;
  if (i == 0) return std::string_view::npos;
  if (s[i - 1] == '-' || s[i - 1] == '&' || s[i - 1] == ',') {
    --i;
  } else {
    const std::size_t b = WordStartBefore(s, i);
    if (b == i || !IsConnector(LowerWord(s.substr(b, i - b)))) return std::string_view::npos;
    i = b;
  }
  while (i > 0 && IsBlank(s[i - 1])) --i;
  return i;
}
std::size_t ConnectorAfter(std::string_view s, std::size_t i) {
  while (i < s.size() && IsBlank(s[i])) ++i;
  if (i == s.size()) return std::string_view::npos;
  if (s[i] == '-' || s[i] == '&' || s[i] == ',') {
    ++i;
  } else {
    std::size_t e = i;
    while (e < s.size() && IsAsciiAlpha(s[e])) ++e;
    if (e == i || !IsConnector(LowerWord(s.substr(i, e - i)))) return std::string_view::npos;
    i = e;
  }
  while (i < s.size() && IsBlank(s[i])) ++i;
  return i;
}

// A clock time right after byte `e`: "3/14 14:32", "3/14 @ 9:05", "3/14@1400".
bool ClockTimeAfter(std::string_view s, std::size_t e) {
  std::size_t i = e;
  while (i < s.size() && IsBlank(s[i])) ++i;
  const bool at = i < s.size() && s[i] == '@';
  if (at) ++i;
  while (i < s.size() && IsBlank(s[i])) ++i;
  if (i == e) return false;
  std::size_t j = i;
  while (j < s.size() && IsDigit(s[j]) && j - i < 5) ++j;
  const std::size_t digits = j - i;
  if ((digits == 1 || digits == 2) && j + 2 < s.size() && s[j] == ':' && IsDigit(s[j + 1]) && IsDigit(s[j + 2])) {
    return true;
  }
  // "@1400": four digits only after '@' (without it they may be a count or a dose).
  return at && digits == 4 && ParseInt(s.substr(i, 2)) <= 23 && ParseInt(s.substr(i + 2, 2)) <= 59;
}

// A word saying how a value goes right after byte `i` ("3/4: improving").
bool StatusAfter(std::string_view s, std::size_t i) {
  while (i < s.size() && IsBlank(s[i])) ++i;
  std::size_t e = i;
  while (e < s.size() && IsAsciiAlpha(s[e])) ++e;
  return e > i && In(LowerWord(s.substr(i, e - i)),
                     {"improving", "improved", "better", "worse", "worsening", "worsened", "stable", "unchanged",
                      "same", "resolved", "resolving", "normal", "abnormal", "positive", "negative", "pass",
                      "passed", "fail", "failed", "good", "fair", "poor", "up", "down", "increased", "decreased"});
}

// Decides one month/day match [b, e) of `s` on its own: a date, not one, or one if linked to
// a neighbouring date. The separator is '/' ("3/14") or '-' ("3-14").
// A verb saying what a study found, after byte `i` past blanks ("egd 11/12 showed gastritis").
bool FindingAfter(std::string_view s, std::size_t i) {
  while (i < s.size() && IsBlank(s[i])) ++i;
  std::size_t e = i;
  while (e < s.size() && IsAsciiAlpha(s[e])) ++e;
  return e > i && In(LowerWord(s.substr(i, e - i)), {"showed", "shows", "revealed", "reveals", "demonstrated",
                                                      "demonstrates", "showing", "revealing"});
}

// Whether the month/day [b, e) is in brackets after a day of the stay: "POD#2 (3/6)", "HD 4
// (3/8)", "day 3 (11/2)", "DOL 5 (1/9)".
bool BracketedAfterDayCount(std::string_view s, std::size_t b, std::size_t e) {
  if (b < 4 || e >= s.size() || s[b - 1] != '(' || s[e] != ')') return false;
  std::size_t k = b - 1;
  while (k > 0 && IsBlank(s[k - 1])) --k;
  const std::size_t digits_end = k;
  while (k > 0 && IsDigit(s[k - 1])) --k;
  if (k == digits_end || digits_end - k > 3) return false;
  const int day_count = ParseInt(s.substr(k, digits_end - k));
  if (k > 0 && (s[k - 1] == '#' || IsBlank(s[k - 1]))) --k;
  const std::size_t word_end = k;
  while (k > 0 && IsAsciiAlpha(s[k - 1])) --k;
  if (word_end - k < 2 || word_end - k > 3 || (k > 0 && IsAlnumByte(s[k - 1]))) return false;
  char w[3];
  for (std::size_t j = k; j < word_end; ++j) w[j - k] = Lower(s[j]);
  if (!In(std::string_view(w, word_end - k), {"pod", "hd", "day", "dol"})) return false;
  // "day 5 (5/7) of ceftriaxone", "Abx day 3 (3/7) today": the day of a course of so many days,
  // the same number first, or the course named after it.
  std::size_t slash = b;
  while (slash < e && IsDigit(s[slash])) ++slash;
  if (ParseInt(s.substr(b, slash - b)) == day_count) return false;
  return !(e + 4 <= s.size() && s.substr(e + 1, 3) == " of" && (e + 4 == s.size() || !IsAlnumByte(s[e + 4])));
}

// `original` is `s` with its soft line breaks (Unwrapped): a measurement word on the line before
// is no context of a month/day ("elevated blood pressure\nfrom 3/5 to 4/5").
MonthDay JudgeMonthDay(std::string_view s, std::string_view original, std::size_t b, std::size_t e) {
  std::size_t sep = b;
  while (IsDigit(s[sep])) ++sep;
  const bool dash = s[sep] == '-';
  const int month = ParseInt(s.substr(b, sep - b));
  const int day = ParseInt(s.substr(sep + 1, e - sep - 1));
  // A day range inside the month ("admitted 3/7-9") is judged, and taken, as one.
  if (!dash) e = DayRangeEnd(s, e, month, day);
  MonthDay m{b, e};
  // A short number after '-' that is no later day ("since 3/10-9", "3/30-2") is left as it is
  // and the month/day judged alone, but a unit after that number still makes it a dose
  // ("1/2-1 tab").
  const std::size_t number_end = dash ? e : DashNumberEnd(s, e);
  // Part of a longer number ("3/14/25" is the full date's, "1.5/2" a ratio, "3-4/10" a
  // score), except a range of two month/days ("3/7-3/9").
  const bool longer_after = e + 1 < s.size() && IsDigit(s[e + 1]) &&
                            (s[e] == '/' || s[e] == '.' ||
                             (s[e] == '-' && !MonthDayStartsAt(s, e + 1) && number_end == e));
  const bool longer_before = b >= 2 && IsDigit(s[b - 2]) &&
                             (s[b - 1] == '/' || s[b - 1] == '.' || (s[b - 1] == '-' && !MonthDayEndsAt(s, b - 1)));
  if (longer_after || longer_before) return m;
  if (!ValidMonthDay(month, day)) return m;
  if (UnitAfter(s, number_end)) return m;
  if (ClockTimeAfter(s, number_end)) {
    m.date = true;
    return m;
  }
  std::size_t cue_begin = b;
  const std::string cue = CueBefore(s, b, cue_begin);
  std::size_t head_begin = cue_begin;
  const std::string head = CueBefore(s, cue_begin, head_begin);
  // "on 7-3 pt slept well": a nursing shift (7 a.m. to 3 p.m., 3-11, 11-7, 7-7) after an "on"
  // that opens the sentence; after a verb ("fell on 7-3") it is taken for a date.
  if (dash && cue == "on" &&
      ((month == 7 && (day == 3 || day == 7)) || (month == 3 && day == 11) || (month == 11 && day == 7))) {
    std::size_t k = cue_begin;
    while (k > 0 && IsBlank(s[k - 1])) --k;
    if (k == 0 || std::string_view(".;:!?,(\n\r").find(s[k - 1]) != std::string_view::npos) return m;
  }
  if (IsDateCue(cue) || IsDatePhrase(head, cue) || (!dash && BracketedAfterDayCount(s, b, number_end))) {
    m.date = true;
    return m;
  }
  if (MeasurementBefore(original, b)) return m;
  if (!dash && FollowUpBefore(s, b)) {
    m.date = true;
    return m;
  }
  // A heading dated by it: "echo 11/7: ef 55%", "11/12: pt called"; but a score before a word
  // saying how it goes is the score ("3/4: improving", "2/3: unchanged").
  if (number_end < s.size() && s[number_end] == ':' && (number_end + 1 == s.size() || !IsDigit(s[number_end + 1])) &&
      !StatusAfter(s, number_end + 1)) {
    m.date = true;
    return m;
  }
  // "egd 11/12 showed gastritis": a verb of findings after it dates a study.
  if (!dash && FindingAfter(s, number_end)) {
    m.date = true;
    return m;
  }
  // "from 2-3", "between 3-4": with a dash these are far more often counts than dates.
  m.date = IsRangeCue(cue) && !dash;
  m.linkable = !m.date;
  return m;
}

// Appends to `out` the month/day matches `days` of segment `s` (at byte `base` of the text, in
// order of begin) that are dates; `out` holds the segment's other pattern candidates, whose
// dates anchor lists and ranges.
void AddMonthDayDates(std::string_view s, std::string_view original, std::size_t base, int priority,
                      std::vector<MonthDay>& days, std::vector<ByteSpan>& out) {
  for (MonthDay& d : days) d = JudgeMonthDay(s, original, d.begin, d.end);
  std::vector<std::size_t> ends, begins;  // of the other dates, in the segment
  for (const ByteSpan& c : out) {
    if (c.type != PhiType::kDate) continue;
    ends.push_back(c.end - base);
    begins.push_back(c.begin - base);
  }
  std::sort(ends.begin(), ends.end());
  std::sort(begins.begin(), begins.end());
  // Linked to a date before it (one sweep forward carries "3/4, 3/11 and 3/18"), then to a
  // date after it (one sweep backward).
  for (std::size_t k = 0; k < days.size(); ++k) {
    MonthDay& d = days[k];
    if (!d.linkable) continue;
    const std::size_t p = ConnectorBefore(s, d.begin);
    if (p == std::string_view::npos) continue;
    d.date = (k > 0 && days[k - 1].date && days[k - 1].end == p) || std::binary_search(ends.begin(), ends.end(), p);
  }
  for (std::size_t k = days.size(); k-- > 0;) {
    MonthDay& d = days[k];
    if (!d.linkable || d.date) continue;
    const std::size_t q = ConnectorAfter(s, d.end);
    if (q == std::string_view::npos) continue;
    d.date = (k + 1 < days.size() && days[k + 1].date && days[k + 1].begin == q) ||
             std::binary_search(begins.begin(), begins.end(), q);
  }
  for (const MonthDay& d : days) {
    if (d.date) out.push_back({base + d.begin, base + d.end, PhiType::kDate, priority});
  }
}

// "10/2024", "3-2019": a month and a year (1900-2099) starting at byte `i`, not part of a longer
// number or date and not a ratio or dose ("ratio 1/2000", "1/2000 units"; UnitAfter's wider
// list would keep "06/2021 normal"); returns where it ends, or `i`.
std::size_t MonthYearEnd(std::string_view s, std::size_t i) {
  if (i > 0 && (s[i - 1] == '/' || s[i - 1] == '-' || s[i - 1] == '.' || s[i - 1] == ':')) return i;
  std::size_t j = i;
  while (j < s.size() && IsDigit(s[j]) && j - i < 3) ++j;
  if (j - i < 1 || j - i > 2 || j + 5 > s.size() || (s[j] != '/' && s[j] != '-')) return i;
  const int month = ParseInt(s.substr(i, j - i));
  const std::size_t y = j + 1;
  const std::size_t e = y + 4;
  if (month < 1 || month > 12 || !(s.substr(y, 2) == "19" || s.substr(y, 2) == "20") ||
      !std::all_of(s.begin() + static_cast<std::ptrdiff_t>(y), s.begin() + static_cast<std::ptrdiff_t>(e), IsDigit)) {
    return i;
  }
  if (e < s.size() && (IsDigit(s[e]) || IsAsciiAlpha(s[e]) ||
                       ((s[e] == '/' || s[e] == '-' || s[e] == '.') && e + 1 < s.size() && IsDigit(s[e + 1])))) {
    return i;
  }
  std::size_t u = e;
  while (u < s.size() && IsBlank(s[u])) ++u;
  std::size_t v = u;
  while (v < s.size() && IsAsciiAlpha(s[v])) ++v;
  if (In(LowerWord(s.substr(u, v - u)), {"units", "unit", "u", "iu", "mg", "mcg", "ml", "dilution", "solution"}) ||
      MeasurementBefore(s, i)) {
    return i;
  }
  return e;
}

// "dose 10-2000 units", "dilution 1-1000": a range of two numbers with a unit after it or a
// measurement word before it, not an identifier.
bool DoseRange(std::string_view s, const IdToken& t) {
  if (t.letters != 0 || !t.hyphen) return false;
  const std::string_view token = s.substr(t.begin, t.end - t.begin);
  if (std::count(token.begin(), token.end(), '-') != 1) return false;
  return UnitAfter(s, t.end) || MeasurementBefore(s, t.begin);
}

// A phone number as written outside the US, with its trunk prefix 0 and no "+": groups of 2-6
// digits separated by one space or one '.' (the same each time), 10 or 11 digits in all ("01 42
// 68 53 00", "020 7946 0958", "07700 900123"), starting at byte `i`. Returns where it ends, or `i`.
// Two-digit groups that step evenly upwards ("05 10 15 20 25", "02 04 06 08 10") are a scale or
// a list of values, not a phone.
std::size_t TrunkPhoneEnd(std::string_view s, std::size_t i) {
  if (i > 0 && (s[i - 1] == '.' || s[i - 1] == '/' || s[i - 1] == '-' || s[i - 1] == ',')) return i;
  std::size_t j = i, digits = 0, groups = 0;
  char sep = 0;
  int previous = -1, step = 0;
  bool steps_evenly = true;
  while (true) {
    std::size_t k = j;
    while (k < s.size() && IsDigit(s[k])) ++k;
    const std::size_t len = k - j;
    if (len < 2 || len > 6 || (groups == 0 && len > 5)) return i;
    const int value = len == 2 ? (s[j] - '0') * 10 + (s[j + 1] - '0') : -1;
    if (value < 0 || (previous >= 0 && (value <= previous || (groups > 1 && value - previous != step)))) {
      steps_evenly = false;
    }
    if (previous >= 0) step = value - previous;
    previous = value;
    digits += len;
    ++groups;
    j = k;
    if (digits > 11) return i;
    const bool more = j + 1 < s.size() && (s[j] == ' ' || s[j] == '.') && (sep == 0 || s[j] == sep) &&
                      IsDigit(s[j + 1]);
    if (!more) break;
    sep = s[j++];
  }
  if (groups < 2 || digits < 10 || steps_evenly) return i;
  if (j < s.size() && (IsAsciiAlpha(s[j]) || s[j] == '/' || s[j] == '-' || s[j] == '%')) return i;
  return j;
}

// A numeric date with blanks around its separators, as OCR and hurried typing leave it ("dob 4
// /12 /31", "04 / 12 / 1931"): one or two digits, one or two digits, two or four digits, each
// '/' with at most one blank on either side and at least one blank in all, a plausible date,
// and no measurement word before it ("strength 4 / 5 / 5"). Returns where it ends, or `i`.
std::size_t SpacedDateEnd(std::string_view s, std::size_t i) {
  if (i > 0 && (IsDigit(s[i - 1]) || s[i - 1] == '/' || s[i - 1] == '.')) return i;
  std::string compact;
  std::size_t j = i;
  bool blank = false;
  for (int part = 0; part < 3; ++part) {
    if (part > 0) {
      if (j < s.size() && s[j] == ' ') ++j, blank = true;
      if (j >= s.size() || s[j] != '/') return i;
      compact.push_back(s[j++]);
      if (j < s.size() && s[j] == ' ') ++j, blank = true;
    }
    const std::size_t b = j;
    while (j < s.size() && IsDigit(s[j]) && j - b < 5) compact.push_back(s[j++]);
    const std::size_t len = j - b;
    if (len == 0 || (part < 2 && len > 2) || (part == 2 && len != 2 && len != 4)) return i;
  }
  if (!blank || (j < s.size() && (IsAlnumByte(s[j]) || s[j] == '/'))) return i;
  if (!PlausibleNumericDate(compact) || MeasurementBefore(s, i)) return i;
  return j;
}

// A phone number in international form after its '+' ("+33 4 78 62 21 90", "+49 89 1234567"):
// a country code of 1-3 digits, then groups of 1-5 digits after one blank, '.' or '-' each, 8-15
// digits in all, starting at byte `i` (after the '+'). Returns where it ends, or `i`. The
// patterns take the common forms; this takes groups of one digit, as French numbers have.
std::size_t InternationalPhoneEnd(std::string_view s, std::size_t i) {
  std::size_t j = i, digits = 0, groups = 0;
  while (true) {
    const std::size_t b = j;
    while (j < s.size() && IsDigit(s[j])) ++j;
    const std::size_t len = j - b;
    if (len == 0 || len > 5 || (groups == 0 && len > 3)) return i;
    digits += len;
    ++groups;
    if (j + 1 < s.size() && (s[j] == ' ' || s[j] == '.' || s[j] == '-') && IsDigit(s[j + 1])) {
      ++j;
      continue;
    }
    break;
  }
  if (groups < 3 || digits < 8 || digits > 15) return i;
  if (j < s.size() && (IsAsciiAlpha(s[j]) || s[j] == '/' || s[j] == '%')) return i;
  return j;
}

// Digits spoken out, as transcription writes them ("six one seven five five five ..."): seven
// words or more of "zero", "oh" and "one" to "nine", one blank or ", " between them, starting at
// byte `i`. Returns where the last one ends, or `i`.
std::size_t SpokenDigitsEnd(std::string_view s, std::size_t i) {
  std::size_t end = i;
  int digits = 0;
  for (std::size_t k = i; k < s.size();) {
    std::size_t e = k;
    while (e < s.size() && IsAsciiAlpha(s[e])) ++e;
    if (e == k || (e < s.size() && IsAlnumByte(s[e])) ||
        !In(LowerWord(s.substr(k, e - k)),
            {"zero", "oh", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"})) {
      break;
    }
    ++digits;
    end = e;
    k = e < s.size() && s[e] == ',' ? e + 1 : e;
    if (k >= s.size() || !IsBlank(s[k])) break;
    ++k;
  }
  return digits >= 7 ? end : i;
}

// A British postcode's shape from byte `i`, where its one or two letters end at `j` ("sw3 4rp",
// "SW1A 1AA": a digit, an optional letter or digit, one blank, then a digit and two letters).
// Returns where it ends, or `i`.
std::size_t BritishPostcodeEnd(std::string_view s, std::size_t i, std::size_t j) {
  const auto alpha = [&](std::size_t k) { return k < s.size() && IsAsciiAlpha(s[k]); };
  const auto digit = [&](std::size_t k) { return k < s.size() && IsDigit(s[k]); };
  std::size_t k = j;
  if (!digit(k)) return i;
  ++k;
  if (alpha(k) || digit(k)) ++k;
  if (k >= s.size() || s[k] != ' ' || !digit(k + 1) || !alpha(k + 2) || !alpha(k + 3)) return i;
  return k + 4 >= s.size() || !IsAlnumByte(s[k + 4]) ? k + 4 : i;
}

// Whether the six characters from byte `i` read as a TNM stage ("T2N0M0": tumour T0-T4, nodes
// N0-N3, metastasis M0-M1; AJCC Cancer Staging Manual, 8th ed.) or a Glasgow Coma Scale's parts
// ("E3V4M5": eyes 1-4, verbal 1-5, motor 1-6).
bool StageOrComaScaleAt(std::string_view s, std::size_t i) {
  const auto at = [&](std::size_t k, char letter, char top) {
    return Lower(s[i + k]) == letter && s[i + k + 1] >= '0' && s[i + k + 1] <= top;
  };
  return i + 6 <= s.size() && ((at(0, 't', '4') && at(2, 'n', '3') && at(4, 'm', '1')) ||
                                (at(0, 'e', '4') && at(2, 'v', '5') && at(4, 'm', '6')));
}

// A Canadian postal code ("m5v 2t6": letter digit letter, digit letter digit) or a British
// postcode after a listed city ("london sw3 4rp"), from byte `i` where the token's letters end
// at `j`. Returns where it ends, or `i`. Not "l4 5mm", "t12 4mg": no city before those. After a
// ZIP label (`labelled`) a British postcode needs no city.
std::size_t PostcodeEnd(std::string_view s, std::size_t i, std::size_t j, bool labelled) {
  const auto alpha = [&](std::size_t k) { return k < s.size() && IsAsciiAlpha(s[k]); };
  const auto digit = [&](std::size_t k) { return k < s.size() && IsDigit(s[k]); };
  const auto ends = [&](std::size_t k) { return k >= s.size() || !IsAlnumByte(s[k]); };
  if (i > 0 && (IsAlnumByte(s[i - 1]) || s[i - 1] == '-')) return i;
  // Canadian: A1A 1A1 or A1A1A1; not a TNM stage or a coma scale's parts, which have the same
  // shape without the blank ("T2N0M0": tumour, nodes, metastasis; "E3V4M5"), unless a ZIP
  // label, a province or a city comes before it ("Calgary AB T2N0M0").
  if (j == i + 1 && digit(j) && alpha(j + 1)) {
    std::size_t k = j + 2;
    const bool blank = k < s.size() && s[k] == ' ';
    if (blank) ++k;
    if (digit(k) && alpha(k + 1) && digit(k + 2) && ends(k + 3)) {
      if (blank || labelled || !StageOrComaScaleAt(s, i)) return k + 3;
      const std::string before = WordBefore(s, i);
      if (In(before, {"ab", "bc", "mb", "nb", "nl", "ns", "nt", "nu", "on", "pe", "qc", "sk", "yt"}) ||
          (!before.empty() && Lexicon::Get().City(before))) {
        return k + 3;
      }
    }
  }
  // British: the outward code, one blank, the inward code, after a listed city.
  const std::size_t e = BritishPostcodeEnd(s, i, j);
  if (e == i || !(labelled || Lexicon::Get().City(WordBefore(s, i)))) return i;
  return e;
}

// A street written with its kind before its name, as in France, Spain, Italy, Portugal ("14 rue
// des lilas", "22 calle mayor"): a number of 1-4 digits, the street word, and the words up to the
// next ',', '.', ';' or line end (at most five), starting at byte `i`. Returns where it ends, or `i`.
std::size_t ForeignStreetEnd(std::string_view s, std::size_t i) {
  std::size_t j = i;
  while (j < s.size() && IsDigit(s[j]) && j - i < 5) ++j;
  if (j - i > 4 || j + 1 >= s.size() || s[j] != ' ' || (i > 0 && (IsAlnumByte(s[i - 1]) || s[i - 1] == '.'))) return i;
  const char c = Lower(s[j + 1]);
  if (c != 'r' && c != 'c' && c != 'a' && c != 'p') return i;  // the street words' first letters
  std::size_t k = j + 1;
  while (k < s.size() && IsAsciiAlpha(s[k])) ++k;
  if (!In(LowerWord(s.substr(j + 1, k - j - 1)), {"rue", "calle", "avenida", "rua", "piazza", "avinguda", "carrer",
                                                  "paseo", "plaza"})) {
    return i;
  }
  std::size_t end = k;
  for (int words = 0; words < 5 && end + 1 < s.size() && s[end] == ' ' && IsAsciiAlpha(s[end + 1]); ++words) {
    std::size_t e = end + 1;
    while (e < s.size() && (IsAsciiAlpha(s[e]) || s[e] == '\'' || s[e] == '-')) ++e;
    end = e;
  }
  return end > k ? end : i;
}

// A count and what is counted after a label ("mrn 12 tabs given", "acct 45 units"): UnitAfter
// without "of" and "x" ("mrn 4455 x2 verified" keeps its number).
bool CountAfter(std::string_view s, std::size_t i) {
  std::size_t u = i;
  while (u < s.size() && IsBlank(s[u])) ++u;
  std::size_t v = u;
  while (v < s.size() && IsAsciiAlpha(s[v])) ++v;
  return !In(LowerWord(s.substr(u, v - u)), {"of", "x"}) && UnitAfter(s, i);
}

bool IsNumericType(PhiType t) {
  switch (t) {
    case PhiType::kPhone:
    case PhiType::kFax:
    case PhiType::kSsn:
    case PhiType::kMrn:
    case PhiType::kAccount:
    case PhiType::kLicense:
    case PhiType::kVehicle:
    case PhiType::kDevice:
    case PhiType::kId:
    case PhiType::kZip:
      return true;
    default:
      return false;
  }
}

// The order in which overlapping candidates win: longest first, then by priority, then the
// leftmost, then by type (so that the result never depends on the sort).
bool Wins(const ByteSpan& a, const ByteSpan& b) {
  const std::size_t la = a.end - a.begin, lb = b.end - b.begin;
  if (la != lb) return la > lb;
  if (a.priority != b.priority) return a.priority > b.priority;
  if (a.begin != b.begin) return a.begin < b.begin;
  return a.type < b.type;
}

}  // namespace

// Working memory of one segment, kept between segments and texts so that scanning a long text
// allocates it once.
struct Detector::Scratch {
  std::vector<PatternMatch> matches;
  std::vector<LabelEnd> labels;
  std::vector<ByteSpan> candidates;
  std::size_t sorted_candidates = 0;   // candidates[0, this) are in order of begin (Resolve)
  std::vector<ByteSpan> group;         // Resolve: one group of overlapping candidates
  std::vector<unsigned char> taken;    // Resolve: bytes of the group already kept
  std::string lower;                   // the words' lower-case forms (Tokenize; kept, not cleared)
  std::vector<Word> words;
  std::vector<MonthDay> month_days;    // month/day matches ("3/14"), decided after the scan
  std::string unwrapped;               // a hard-wrapped segment with its soft breaks blanked (Unwrapped)

  void Clear() {
    matches.clear();
    labels.clear();
    candidates.clear();
    sorted_candidates = 0;
    words.clear();
    month_days.clear();
  }
};

namespace {

// The label phrases (labels.h) in the segment, in order of their ends: each starts at a run of
// ASCII letters that is a phrase's head. A plain word is one run, flagged by LookUp; a word
// with an apostrophe, a hyphen or another letter ("x-mrn", "émrn") is looked at run by run.
void FindLabels(std::string_view s, const std::vector<Word>& words, std::vector<LabelEnd>& out) {
  for (const Word& w : words) {
    if (w.plain) {
      if (w.label_head) MatchLabels(s, w.begin, w.end, w.lower, out);
      continue;
    }
    for (std::size_t i = w.begin; i < w.end;) {
      if (!IsAsciiAlpha(s[i])) {
        ++i;
        continue;
      }
      std::size_t e = i;
      char head[16];
      while (e < w.end && IsAsciiAlpha(s[e])) {
        if (e - i < sizeof head) head[e - i] = Lower(s[e]);
        ++e;
      }
      if (e - i <= sizeof head) MatchLabels(s, i, e, std::string_view(head, e - i), out);
      i = e;
    }
  }
  std::sort(out.begin(), out.end(), [](const LabelEnd& a, const LabelEnd& b) { return a.end < b.end; });
}

}  // namespace

std::vector<LabelEnd> LabelsIn(std::string_view s) {
  std::string lower;
  std::vector<Word> words;
  Tokenize(s, lower, words);
  std::vector<ByteSpan> none;
  StringSet known;
  WordPass(s, s, words, {}, known, none, 0).LookUp();
  std::vector<LabelEnd> labels;
  FindLabels(s, words, labels);
  return labels;
}

namespace {

bool ByBegin(const ByteSpan& a, const ByteSpan& b) { return a.begin < b.begin; }

// Sorts [first, last) by begin, stably: by insertion, one pass when the spans are in order or
// nearly (a span moves past the few it overlaps), and by std::stable_sort once the insertions
// have moved more than a few spans per span, so that spans far out of order never cost n².
void SortByBegin(std::vector<ByteSpan>::iterator first, std::vector<ByteSpan>::iterator last) {
  const std::ptrdiff_t budget = 8 * (last - first);
  std::ptrdiff_t moved = 0;
  for (auto i = first; i != last && moved <= budget; ++i) {
    const ByteSpan v = *i;
    auto j = i;
    for (; j != first && v.begin < (j - 1)->begin; --j, ++moved) *j = *(j - 1);
    *j = v;
  }
  if (moved > budget) std::stable_sort(first, last, ByBegin);
}

// Keeps the candidates that win (Wins) over those they overlap, greedily: in winning order, a
// candidate is kept when it overlaps none kept before it. Each group of candidates linked by
// overlaps is resolved on its own, which gives the same result as resolving them all at once
// (candidates of different groups never meet), and a candidate that overlaps nothing, the
// common case, is kept without sorting. Appends the kept spans to `out` in order of begin;
// `c` is left sorted by begin. `c[0, scratch.sorted_candidates)` is in order of begin already:
// only the rest is sorted, then merged with it (which spans of one begin come first does not
// change what is kept: Wins orders any two different spans).
void Resolve(std::vector<ByteSpan>& c, Detector::Scratch& scratch, std::vector<ByteSpan>& out) {
  const auto sorted = c.begin() + static_cast<std::ptrdiff_t>(std::min(scratch.sorted_candidates, c.size()));
  SortByBegin(sorted, c.end());
  std::inplace_merge(c.begin(), sorted, c.end(), ByBegin);
  std::erase_if(c, [](const ByteSpan& s) { return s.end <= s.begin; });
  for (std::size_t i = 0; i < c.size();) {
    std::size_t j = i + 1, end = c[i].end;
    for (; j < c.size() && c[j].begin < end; ++j) end = std::max(end, c[j].end);
    if (j == i + 1) {
      out.push_back(c[i++]);
      continue;
    }
    const std::size_t first = c[i].begin;
    std::vector<ByteSpan>& group = scratch.group;
    group.assign(c.begin() + static_cast<std::ptrdiff_t>(i), c.begin() + static_cast<std::ptrdiff_t>(j));
    std::sort(group.begin(), group.end(), Wins);
    scratch.taken.assign(end - first, 0);
    const std::size_t kept = out.size();
    for (const ByteSpan& s : group) {
      const auto b = scratch.taken.begin() + static_cast<std::ptrdiff_t>(s.begin - first);
      const auto e = scratch.taken.begin() + static_cast<std::ptrdiff_t>(s.end - first);
      if (std::find(b, e, 1) != e) continue;
      std::fill(b, e, 1);
      out.push_back(s);
    }
    std::sort(out.begin() + static_cast<std::ptrdiff_t>(kept), out.end(), ByBegin);
    i = j;
  }
}

}  // namespace

Detector::Detector(std::unique_ptr<PatternScanner> scanner)
    : scanner_(std::move(scanner)), scratch_(std::make_unique<Scratch>()) {}
Detector::~Detector() = default;

Result<std::unique_ptr<Detector>> Detector::Create(const std::vector<std::string>& clinicians) {
  auto scanner = PatternScanner::Create();
  if (!scanner.ok()) return scanner.status();
  Lexicon::Get();  // load the dictionaries now rather than on the first text
  std::unique_ptr<Detector> d(new Detector(std::move(scanner).value()));
  for (const std::string& name : clinicians) {
    std::string lower;
    std::vector<Word> words;
    Tokenize(name, lower, words);
    std::vector<std::string> tokens;
    for (const Word& w : words) tokens.emplace_back(w.lower);
    if (!tokens.empty()) d->clinicians_.push_back(std::move(tokens));
  }
  return d;
}

namespace {

// Words more than numbers at the end of a line of 40 bytes or more, which the next line's rules
// may read as context: at most 8 of its last 40 bytes are digits (not "O: T 37.9 HR 88 BP 132/74
// RR 18 SpO2 96% RA", whose last 40 hold 15). Counted eight bytes at a time: the high bit of each
// byte between '0' and '9' (the "hasbetween" of Bit Twiddling Hacks, exact for any byte), summed.
bool IsProse(std::string_view line) {
  constexpr std::uint64_t kOnes = ~std::uint64_t{0} / 255, kLow7 = kOnes * 127, kHigh = kOnes * 128;
  const char* tail = line.data() + line.size() - 40;
  std::uint64_t sum = 0;  // digits per byte lane, at most 5
  for (int k = 0; k < 5; ++k) {
    std::uint64_t x;
    std::memcpy(&x, tail + 8 * k, 8);
    sum += (((kOnes * (127 + '9' + 1) - (x & kLow7)) & ~x & ((x & kLow7) + kOnes * (127 - ('0' - 1)))) & kHigh) >> 7;
  }
  return (sum * kOnes) >> 56 <= 8;
}

// Whether the last word of the line ending at byte `p` goes on past the line's end: it opens
// with a small letter or a digit ("his wife", "seen on", "in"), or is capitalised right after a
// title ("Dr. Marguerite"). A capitalised word alone ends as many lines of lists and headings
// as it wraps ("...metoprolol and Lasix\nWarren, PA-C will follow").
bool GoesOnAt(std::string_view s, std::size_t line, std::size_t p) {
  std::size_t b = p;
  while (b > line && IsAlnumByte(s[b - 1])) --b;
  if (b == p) return s[p - 1] == ',' || s[p - 1] == ')';
  if (!(s[b] >= 'A' && s[b] <= 'Z')) return true;
  if (b < line + 2 || s[b - 1] != ' ' || s[b - 2] != '.') return false;
  std::size_t t = b - 2;
  while (t > line && IsAsciiAlpha(s[t - 1])) --t;
  return In(LowerWord(s.substr(t, b - 2 - t)), {"dr", "mr", "mrs", "ms", "prof"});
}

// Hard-wrapped text (docs/deid-text.md, "How it finds PHI", 1): notes that a system, an editor or
// a transcriptionist wrapped break sentences at line ends ("his wife\nAdaeze reports", "seen
// on\n11/2"), where the context rules, which read the blanks between words, stop. A line break
// is soft, and read as a blank, when the line before is prose that goes on: at least 40 bytes,
// not mostly digits at its end (IsProse), its last word going on (GoesOnAt); and the next line
// goes on with it: its first byte a letter or a digit, and its first word no field label (a word
// and ':', "DOB:") and no list number ("2.", "3)"). The rules that read a record's lines
// (OpensLine, a measurement word before a month/day) and the sentence starts still see the
// break. Returns `s` when no break is soft, else a copy in `buffer` whose soft breaks are blanks
// (the same length, so every offset holds).
std::string_view Unwrapped(std::string_view s, std::string& buffer) {
  constexpr std::size_t kMinLine = 40;
  bool copied = false;
  std::size_t line = 0;  // where the line before the break starts
  while (line < s.size()) {
    const void* nl = std::memchr(s.data() + line, '\n', s.size() - line);
    if (nl == nullptr) break;
    const std::size_t p = static_cast<std::size_t>(static_cast<const char*>(nl) - s.data());
    const std::size_t next = p + 1;
    if (p - line >= kMinLine && next < s.size() && IsAlnumByte(s[next]) && GoesOnAt(s, line, p) &&
        IsProse(s.substr(line, p - line))) {
      std::size_t x = next;
      while (x < s.size() && IsAlnumByte(s[x])) ++x;
      const bool label = x < s.size() && s[x] == ':';
      const bool list_number = x < s.size() && IsDigit(s[next]) && (s[x] == '.' || s[x] == ')') &&
                               (x + 1 == s.size() || s[x + 1] == ' ');
      if (!label && !list_number) {
        if (!copied) buffer.assign(s.data(), s.size());
        copied = true;
        buffer[p] = ' ';
      }
    }
    line = next;
  }
  return copied ? std::string_view(buffer) : s;
}

}  // namespace

Result<std::vector<ByteSpan>> Detector::Detect(std::string_view text) {
  known_names_.Clear();
  std::vector<ByteSpan> out;
  std::size_t base = 0;
  while (base < text.size()) {
    std::size_t len = std::min(kSegmentBytes, text.size() - base);
    if (base + len < text.size()) {
      const std::string_view window = text.substr(base, len);
      std::size_t cut = window.rfind('\n');
      if (cut == std::string_view::npos || cut < len / 2) cut = window.rfind(' ');
      if (cut != std::string_view::npos && cut >= len / 2) {
        len = cut + 1;
      } else {
        while (len > 0 && (static_cast<unsigned char>(text[base + len]) & 0xC0) == 0x80) --len;
      }
    }
    scratch_->Clear();
    const std::string_view original = text.substr(base, len);
    const std::string_view segment = Unwrapped(original, scratch_->unwrapped);
    CALIPER_RETURN_IF_ERROR(DetectSegment(segment, original, base));
    const std::size_t first = out.size();
    Resolve(scratch_->candidates, *scratch_, out);
    CALIPER_RETURN_IF_ERROR(DetectSpacedRuns(segment, base, out, first));
    base += len;
  }
  return out;
}

Status Detector::DetectSpacedRuns(std::string_view s, std::size_t base, std::vector<ByteSpan>& out,
                                  std::size_t first) {
  // Where runs may start: three one-letter words with one to three spaces between them, the
  // segment's words being still in the scratch ("P t  n a m e", "D O B :", "m r n :"). Looking
  // at words rather than bytes keeps this to a few instructions per word.
  std::vector<std::size_t> starts;
  {
    const std::vector<Word>& w = scratch_->words;
    const auto spaced = [&](const Word& a, const Word& b) {
      const std::string_view g = Gap(s, a, b);
      return !g.empty() && g.size() <= 3 && g.find_first_not_of(' ') == std::string_view::npos;
    };
    const auto one = [&](std::size_t k) { return w[k].end - w[k].begin == 1; };
    for (std::size_t k = 0; k + 2 < w.size(); ++k) {
      if (!one(k + 2)) {  // then no run starts at k, k + 1 or k + 2
        k += 2;
        continue;
      }
      if (!one(k) || !one(k + 1) || !spaced(w[k], w[k + 1]) || !spaced(w[k + 1], w[k + 2]) ||
          (w[k].begin > 0 && !IsSpaceByte(s[w[k].begin - 1]))) {
        continue;
      }
      starts.push_back(w[k].begin);
      while (k + 1 < w.size() && w[k + 1].end - w[k + 1].begin == 1 && spaced(w[k], w[k + 1])) ++k;
    }
  }
  std::vector<ByteSpan> found;  // in the text's bytes, in order
  std::string collapsed;
  std::vector<std::uint32_t> where;  // byte of the segment for each byte of `collapsed`
  std::size_t done = 0;
  for (const std::size_t i : starts) {
    if (i < done) continue;
    collapsed.clear();
    where.clear();
    // Take single characters (one may carry a punctuation mark: "1 9 6 0, "); one space between
    // them joins them, two or three make a word break; any other token ends the run, and the
    // rest of the line (at most 48 bytes) is taken as written, as the value of a spaced label
    // ("m r n : 4455667").
    const auto single_at = [&](std::size_t k) {  // the length of a single character there, or 0
      if (k >= s.size() || IsSpaceByte(s[k])) return std::size_t{0};
      if (k + 1 == s.size() || IsSpaceByte(s[k + 1])) return std::size_t{1};
      const bool punct = std::string_view(",;:.)").find(s[k + 1]) != std::string_view::npos &&
                         (k + 2 == s.size() || IsSpaceByte(s[k + 2]));
      return punct ? std::size_t{2} : std::size_t{0};
    };
    std::size_t j = i;
    for (std::size_t len = single_at(j); len > 0;) {
      for (std::size_t c = j; c < j + len; ++c) {
        collapsed.push_back(s[c]);
        where.push_back(static_cast<std::uint32_t>(c));
      }
      j += len;
      std::size_t k = j;
      while (k < s.size() && s[k] == ' ' && k - j < 4) ++k;
      const std::size_t spaces = k - j;
      if (k == s.size() || spaces == 0 || spaces > 3 || IsSpaceByte(s[k])) break;
      const std::size_t previous = len;
      len = single_at(k);
      if (spaces > 1 || len == 0 || previous == 2) {  // a word break, a value, after punctuation
        collapsed.push_back(' ');
        where.push_back(static_cast<std::uint32_t>(j));
      }
      j = k;
      if (len == 0) {
        std::size_t e = std::min(s.size(), j + 48);
        while (e < s.size() && (static_cast<unsigned char>(s[e]) & 0xC0) == 0x80) --e;  // a code point boundary
        for (; j < e && s[j] != '\n' && s[j] != '\r'; ++j) {
          collapsed.push_back(s[j]);
          where.push_back(static_cast<std::uint32_t>(j));
        }
      }
    }
    done = j;
    scratch_->Clear();
    CALIPER_RETURN_IF_ERROR(DetectSegment(collapsed, collapsed, 0));
    std::vector<ByteSpan> spans;
    Resolve(scratch_->candidates, *scratch_, spans);
    for (const ByteSpan& c : spans) {
      if (c.type == PhiType::kId && c.priority == 0) continue;  // digits run together: no catch-all IDs
      found.push_back({base + where[c.begin], base + where[c.end - 1] + 1, c.type, c.priority});
    }
  }
  // A span found in a run replaces the segment's spans it overlaps when it wins over each of them
  // (Wins: "Hall, Marguerite" over "Marguerite", a labelled MRN over a catch-all ID); `out`
  // stays sorted and without overlaps.
  const auto segment = out.begin() + static_cast<std::ptrdiff_t>(first);
  std::vector<ByteSpan> added;
  for (const ByteSpan& f : found) {
    auto lo = std::partition_point(segment, out.end(), [&](const ByteSpan& o) { return o.end <= f.begin; });
    auto hi = std::partition_point(lo, out.end(), [&](const ByteSpan& o) { return o.begin < f.end; });
    if (!std::all_of(lo, hi, [&](const ByteSpan& o) { return o.end <= o.begin || Wins(f, o); })) continue;
    for (auto o = lo; o != hi; ++o) o->end = o->begin;  // emptied, erased below
    added.push_back(f);
  }
  if (added.empty()) return Status::Ok();
  std::erase_if(out, [](const ByteSpan& o) { return o.end <= o.begin; });
  const std::size_t kept = out.size();
  out.insert(out.end(), added.begin(), added.end());
  std::inplace_merge(out.begin() + static_cast<std::ptrdiff_t>(first), out.begin() + static_cast<std::ptrdiff_t>(kept),
                     out.end(), ByBegin);
  return Status::Ok();
}

Status Detector::DetectSegment(std::string_view s, std::string_view original, std::size_t base) {
  std::vector<ByteSpan>& out = scratch_->candidates;
  std::vector<PatternMatch>& matches = scratch_->matches;
  CALIPER_RETURN_IF_ERROR(scanner_->Scan(s, matches));
  const Lexicon& lex = Lexicon::Get();
  int month_day_priority = 0;
  for (const PatternMatch& m : matches) {
    const PatternInfo& info = scanner_->Info(m.id);
    std::string_view text = s.substr(m.begin, m.end - m.begin);
    switch (info.kind) {
      case PatternKind::kNumericDate: {
        // "11/28-12/2" is a range of two month/days, not the date "11/28-12".
        if (m.end + 1 < s.size() && s[m.end] == '/' && IsDigit(s[m.end + 1])) break;
        // "pain 3-4/10" is a range on a scale: a '-' then a '/'.
        const std::size_t first_sep = text.find_first_not_of("0123456789");
        if (text[first_sep] == '-' && text.find('/', first_sep) != std::string_view::npos) break;
        if (PlausibleNumericDate(text)) out.push_back({base + m.begin, base + m.end, info.type, info.priority});
        break;
      }
      case PatternKind::kShortDate:  // decided with its neighbours below
        scratch_->month_days.push_back({m.begin, m.end});
        month_day_priority = info.priority;
        break;
      case PatternKind::kAge: {
        std::size_t d = 0;
        while (d < text.size() && !IsDigit(text[d])) ++d;
        if (d == text.size()) {  // in words, and over 89 by the pattern: "ninety-two year old"
          auto [b, e] = SpelledAge(text);
          b += m.begin;
          // "one hundred and one year old": the pattern starts at "hundred".
          if (b == m.begin && b >= 4 && LowerWord(s.substr(b - 4, 4)) == "one " && (b == 4 || !IsAsciiAlpha(s[b - 5]))) {
            b -= 4;
          }
          out.push_back({base + b, base + m.begin + e, PhiType::kAge, info.priority});
          break;
        }
        std::size_t e = d;
        while (e < text.size() && IsDigit(text[e])) ++e;
        if (ParseInt(text.substr(d, e - d)) > 89) {
          // "in her 90s" keeps the "s" with the number.
          if (e < text.size() && (text[e] == 's' || text[e] == '\'')) e = text.size();
          out.push_back({base + m.begin + d, base + m.begin + e, PhiType::kAge, info.priority});
        }
        break;
      }
      case PatternKind::kZip: {
        const std::string before = WordBefore(s, m.begin);
        // A two-letter state in lower case ("in", "or", "me" are words too) only after a listed
        // city: "boston ma 02115".
        const auto city_before = [&] {
          std::size_t k = m.begin;
          while (k > 0 && !IsAsciiAlpha(s[k - 1])) --k;
          return lex.City(WordBefore(s, k - std::min(k, before.size())));
        };
        const bool after_state = !before.empty() && lex.State(before) && m.begin >= 2 &&
                                 (IsAsciiUpper(s[m.begin - 2]) || before.size() > 2 || city_before());
        if (after_state) out.push_back({base + m.begin, base + m.end, PhiType::kZip, 5});
        break;
      }
      case PatternKind::kIdentifier: {
        if (info.type == PhiType::kIp && text.find(':') == std::string_view::npos &&
            !ValidIpv4(text)) {
          break;
        }
        const std::size_t street = info.type == PhiType::kLocation ? StreetStart(s, m.begin, text) : 0;
        if (info.type == PhiType::kLocation && (WayIsNoStreet(text) || street == text.size())) break;
        std::size_t end = m.end;
        if (info.type == PhiType::kUrl) {  // trailing punctuation ends a sentence, not a URL
          while (end > m.begin && std::strchr(".,;:!?", s[end - 1])) --end;
        }
        out.push_back({base + m.begin + street, base + end, info.type, info.priority});
        break;
      }
    }
  }

  const std::size_t matched = out.size();
  if (!scratch_->month_days.empty()) {
    AddMonthDayDates(s, original, base, month_day_priority, scratch_->month_days, out);
  }
  const std::size_t dated = out.size();

  // Identifier-like tokens: the catch-all for "any other unique identifying number". Each
  // token (a run of ASCII letters and digits) is looked at from its first byte.
  const char* const p = s.data();
  const std::size_t n = s.size();
  for (std::size_t i = 0; i < n;) {
    if (i > 0 && IsAlnumByte(p[i - 1])) {  // inside a token: on to its end
      while (i < n && IsAlnumByte(p[i])) ++i;
    }
    while (i < n && !IsAlnumByte(p[i])) ++i;
    if (i == n) break;
    // Most tokens are words of letters alone, which have no digit: skip them in one tight loop.
    std::size_t j = i;
    while (j < n && IsLetterClass(kByteClass[static_cast<unsigned char>(p[j])])) ++j;
    if (j == s.size() || !(IsDigit(s[j]) || (s[j] == '-' && j + 1 < s.size() &&
                                              (IsDigit(s[j + 1]) || IsAsciiAlpha(s[j + 1]))))) {
      i = j;
      continue;
    }
    if (const std::size_t e = j == i ? MonthYearEnd(s, i) : i; e > i) {
      out.push_back({base + i, base + e, PhiType::kDate, 3});
      i = e;
      continue;
    }
    // Only one or two digits and a letter are looked at further ("5th").
    if (j == i && i + 2 < n && (IsAsciiAlpha(p[i + 1]) || IsAsciiAlpha(p[i + 2]))) {
      if (const std::size_t e = OnTheDayEnd(s, i); e > i) {
        out.push_back({base + i, base + e, PhiType::kDate, 3});
        i = e;
        continue;
      }
    }
    // "dob 4 /12 /31": only a digit or two before a blank or '/' is looked at further.
    if (j == i && i + 2 < n && (p[i + 1] == ' ' || p[i + 2] == ' ' || p[i + 1] == '/' || p[i + 2] == '/')) {
      if (const std::size_t e = SpacedDateEnd(s, i); e > i) {
        out.push_back({base + i, base + e, PhiType::kDate, 3});
        i = e;
        continue;
      }
    }
    if (i > 0 && p[i - 1] == '+' && j == i) {  // "+33 4 78 62 21 90"
      if (const std::size_t e = InternationalPhoneEnd(s, i); e > i) {
        out.push_back({base + i - 1, base + e, PhiType::kPhone, 2});
        i = e;
        continue;
      }
    }
    if (j > i && j - i <= 2) {  // "m5v 2t6", "sw3 4rp"
      if (const std::size_t e = PostcodeEnd(s, i, j, false); e > i) {
        out.push_back({base + i, base + e, PhiType::kZip, 4});
        i = e;
        continue;
      }
    }
    if (j == i && p[i] != '0') {  // "14 rue des lilas"
      if (const std::size_t e = ForeignStreetEnd(s, i); e > i) {
        out.push_back({base + i, base + e, PhiType::kLocation, 3});
        i = e;
        continue;
      }
    }
    if (s[i] == '0') {
      if (const std::size_t e = TrunkPhoneEnd(s, i); e > i) {
        out.push_back({base + i, base + e, PhiType::kPhone, 2});
        i = e;
        continue;
      }
    }
    const IdToken t = IdTokenAt(s, i);
    if (LooksLikeId(s, t)) {
      if (IsoDateBeforeTime(s, t)) {
        out.push_back({base + t.begin, base + t.begin + 10, PhiType::kDate, 3});
      } else if (!DoseRange(s, t) &&  // a procedure code is no identifier of anyone ("cpt 99214")
                 !(t.letters == 0 && t.digits == 5 && !t.hyphen && In(WordBefore(s, t.begin), {"cpt", "hcpcs"}))) {
        out.push_back({base + t.begin, base + t.end, PhiType::kId, 0});
      }
    }
    i = std::max(t.end, i + 1);
  }

  // An IRB's protocol number is no ID (AfterIrb). Read here, over the catch-all's IDs alone: in the
  // loop above it cost the loop's every byte (docs/deid-text.md, "What the eighth round left").
  out.erase(std::remove_if(out.begin() + static_cast<std::ptrdiff_t>(dated), out.end(),
                           [&](const ByteSpan& c) {
                             return c.type == PhiType::kId && c.priority == 0 && AfterIrb(s, c.begin - base);
                           }),
            out.end());

  // The words, looked up once, for the labels and then the names and places.
  Tokenize(s, scratch_->lower, scratch_->words);
  if (original.data() != s.data()) {
    // A soft line break still starts a sentence: a common word after it is no name the more
    // ("...bed alarm on\nRose spots absent"), as after any line break.
    std::vector<Word>& w = scratch_->words;
    for (std::size_t k = 1; k < w.size(); ++k) {
      if (!w[k].sentence_start && Gap(original, w[k - 1], w[k]).find('\n') != std::string_view::npos) {
        w[k].sentence_start = true;
      }
    }
  }
  WordPass words(s, original, scratch_->words, clinicians_, known_names_, out, base);
  words.LookUp();
  std::vector<LabelEnd>& labels = scratch_->labels;
  FindLabels(s, scratch_->words, labels);

  // Labels type the identifier right after them (within a few words), found by begin: the
  // candidates are put in order of begin. They came in three runs, each nearly or wholly in that
  // order already (the pattern matches, by end; the month/days; the tokens): each run is sorted
  // on its own, then the runs are merged. Spans of one begin keep that order of runs.
  SortByBegin(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(matched));
  SortByBegin(out.begin() + static_cast<std::ptrdiff_t>(matched), out.begin() + static_cast<std::ptrdiff_t>(dated));
  SortByBegin(out.begin() + static_cast<std::ptrdiff_t>(dated), out.end());
  std::inplace_merge(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(matched),
                     out.begin() + static_cast<std::ptrdiff_t>(dated), ByBegin);
  std::inplace_merge(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(dated), out.end(), ByBegin);
  scratch_->sorted_candidates = out.size();
  for (const LabelEnd& label : labels) {
    std::size_t i = label.end;
    for (int hops = 0; hops < 6 && i < s.size(); ++hops) {
      while (i < s.size() && IsLabelSeparator(s[i])) ++i;
      std::size_t e = i;
      while (e < s.size() && IsAsciiAlpha(s[e])) ++e;
      if (e > i && e < s.size() && !IsDigit(s[e])) {
        std::string w(s.substr(i, e - i));
        for (char& c : w) c = Lower(c);
        if (IsLabelFiller(w)) {
          i = e;
          continue;
        }
      }
      break;
    }
    if (i >= s.size() || i - label.end > 24) continue;
    auto it = std::lower_bound(out.begin(), out.end(), base + i,
                               [](const ByteSpan& a, std::size_t b) { return a.begin < b; });
    // A short upper-case prefix word belongs to the identifier ("DL S12345678"), and so does a
    // lower-case one in no word list before spaced digit groups ("member id xjh 445 667 889").
    std::size_t id_begin = i;
    IdToken t = IdTokenAt(s, i);
    const bool spaced_label = label.type != PhiType::kPhone && label.type != PhiType::kFax &&
                              label.type != PhiType::kZip;
    if (t.digits == 0 && t.letters <= 3 && t.end < s.size() && s[t.end] == ' ') {
      const std::string_view prefix = s.substr(i, t.end - i);
      const bool upper =
          std::all_of(prefix.begin(), prefix.end(), [](char c) { return IsAsciiUpper(c) || c == '-'; });
      const IdToken next = IdTokenAt(s, t.end + 1);
      const bool lower_prefix = spaced_label && !t.hyphen && next.letters == 0 && next.digits >= 2 &&
                                next.end < s.size() && s[next.end] == ' ' && !lex.CommonWord(LowerWord(prefix));
      if (next.digits > 0 && (upper || lower_prefix)) {
        t = {i, next.end, next.digits, t.letters + next.letters, next.hyphen};
      }
    }
    // An identifier written in short spaced groups ("mrn 00 44 12 88", "xjh 445 667 889").
    if (spaced_label && t.digits > 0 && t.digits < 5) {
      for (IdToken next; t.end + 1 < s.size() && s[t.end] == ' ' && IsDigit(s[t.end + 1]);) {
        next = IdTokenAt(s, t.end + 1);
        if (next.letters != 0 || next.hyphen || next.digits < 2 || next.digits > 4 ||
            (next.end < s.size() && (s[next.end] == '/' || s[next.end] == '.'))) {
          break;
        }
        t = {t.begin, next.end, t.digits + next.digits, t.letters, false};
      }
    }
    if (t.letters == 0 && t.digits < 5 && CountAfter(s, t.end)) continue;
    // A pager's number is four to six digits ("pager 34567", "beeper 2211"); a phone's is seven or more.
    const int phone_digits = label.type == PhiType::kPhone && PagerLabelEndsAt(s, label.end) ? 4 : 7;
    bool typed = false;
    for (auto k = it; k != out.end() && k->begin == base + id_begin; ++k) {
      if (!IsNumericType(k->type)) continue;
      typed = true;
      if (label.type == PhiType::kPhone && (k->type != PhiType::kId || t.digits < phone_digits)) break;
      if (label.type == PhiType::kFax && k->type != PhiType::kPhone) break;
      if (label.type == PhiType::kZip && k->type != PhiType::kId) break;
      k->type = label.type;
      k->priority = 6;
      k->end = std::max(k->end, base + t.end);
      break;
    }
    if (typed) continue;
    if (t.digits == 0 && s[label.end - 1] == '@') {
      // "instagram @mlopez": right after a network's name and "@" the word is a handle, digits or not.
      if (id_begin != label.end) continue;
      if (const std::size_t e = HandleEnd(s, id_begin); e >= id_begin + 2) {
        out.push_back({base + id_begin, base + e, label.type, 6});
      }
      continue;
    }
    if (t.digits == 0) {
      // "phone number is six one seven ...": digits spoken out after the label.
      if (const std::size_t e = SpokenDigitsEnd(s, id_begin); e > id_begin) {
        out.push_back({base + id_begin, base + e, label.type, 6});
      }
      continue;
    }
    // Part of a month/day or fraction ("encounter 11/12"): not this label's identifier.
    if (t.letters == 0 && t.end + 1 < s.size() && s[t.end] == '/' && IsDigit(s[t.end + 1])) continue;
    const bool phone_like = label.type == PhiType::kPhone || label.type == PhiType::kFax;
    if (phone_like && t.digits < phone_digits) {
      // A number abroad without its "+" ("faxed to 233 30 276 1234"): after a phone label, read
      // as the "+" form is.
      if (const std::size_t e = t.letters == 0 ? InternationalPhoneEnd(s, id_begin) : id_begin; e > id_begin) {
        out.push_back({base + id_begin, base + e, label.type, 6});
      }
      continue;
    }
    if (label.type == PhiType::kSsn && t.digits != 9) continue;
    if (label.type == PhiType::kZip && t.digits != 5 && t.digits != 9) {
      // "postcode SW1A 1AA", "zip T2N0M0": after its label a postcode needs no city before it, and
      // is no TNM stage.
      std::size_t j = id_begin;
      while (j < s.size() && IsAsciiAlpha(s[j])) ++j;
      if (const std::size_t e = j > id_begin && j - id_begin <= 2 ? PostcodeEnd(s, id_begin, j, true) : id_begin;
          e > id_begin) {
        out.push_back({base + id_begin, base + e, PhiType::kZip, 6});
      }
      continue;
    }
    out.push_back({base + id_begin, base + t.end, label.type, 6});
  }

  words.Run();  // names and places
  return Status::Ok();
}

}  // namespace caliper::deid::text

#include "caliper/dicom/deid.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <dcmtk/dcmdata/dcostrmb.h>
#include <dcmtk/dcmdata/dcpixel.h>
#include <dcmtk/dcmdata/dcsequen.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmdata/dcvrui.h>
#include <dcmtk/dcmdata/dcxfer.h>
#include <dcmtk/oflog/oflog.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "caliper/dicom/image.h"
#include "dicom/codecs.h"
#include "dicom/dataset_util.h"
#include "dicom/deid_profile.h"

namespace caliper::dicom {
namespace {

using profile::Action;

constexpr char kDummyText[] = "ANONYMIZED";
constexpr char kDeidentifierName[] = "Caliper DICOM de-identifier";

// CID 7050 De-identification Method (PS3.16), scheme DCM.
struct MethodCode {
  const char* value;
  const char* meaning;
};
constexpr MethodCode kBasicProfile{"113100", "Basic Application Confidentiality Profile"};
constexpr MethodCode kCleanPixelData{"113101", "Clean Pixel Data Option"};
constexpr MethodCode kCleanDescriptors{"113105", "Clean Descriptors Option"};
constexpr MethodCode kModifiedDates{"113107",
                                    "Retain Longitudinal Temporal Information Modified Dates Option"};
constexpr MethodCode kPatientCharacteristics{"113108", "Retain Patient Characteristics Option"};
constexpr MethodCode kDeviceIdentity{"113109", "Retain Device Identity Option"};
constexpr MethodCode kSafePrivate{"113111", "Retain Safe Private Option"};

// SOP classes whose pixels often carry burned-in text whatever Burned In Annotation says:
// ultrasound, secondary capture, visible-light photography and video, encapsulated documents.
struct RiskyClass {
  const char* uid;
  const char* reason;
};
constexpr RiskyClass kRiskyClasses[] = {
    {UID_UltrasoundImageStorage, "Ultrasound Image Storage"},
    {UID_UltrasoundMultiframeImageStorage, "Ultrasound Multi-frame Image Storage"},
    {UID_RETIRED_UltrasoundImageStorage, "Ultrasound Image Storage (retired)"},
    {UID_RETIRED_UltrasoundMultiframeImageStorage, "Ultrasound Multi-frame Image Storage (retired)"},
    {UID_SecondaryCaptureImageStorage, "Secondary Capture Image Storage"},
    {UID_MultiframeSingleBitSecondaryCaptureImageStorage, "Multi-frame Single Bit Secondary Capture"},
    {UID_MultiframeGrayscaleByteSecondaryCaptureImageStorage, "Multi-frame Grayscale Byte Secondary Capture"},
    {UID_MultiframeGrayscaleWordSecondaryCaptureImageStorage, "Multi-frame Grayscale Word Secondary Capture"},
    {UID_MultiframeTrueColorSecondaryCaptureImageStorage, "Multi-frame True Color Secondary Capture"},
    {UID_VLEndoscopicImageStorage, "VL Endoscopic Image Storage"},
    {UID_VideoEndoscopicImageStorage, "Video Endoscopic Image Storage"},
    {UID_VLPhotographicImageStorage, "VL Photographic Image Storage"},
    {UID_VideoPhotographicImageStorage, "Video Photographic Image Storage"},
    {UID_OphthalmicPhotography8BitImageStorage, "Ophthalmic Photography 8 Bit Image Storage"},
    {UID_OphthalmicPhotography16BitImageStorage, "Ophthalmic Photography 16 Bit Image Storage"},
    {UID_EncapsulatedPDFStorage, "Encapsulated PDF Storage"},
    {UID_EncapsulatedCDAStorage, "Encapsulated CDA Storage"},
};
// Modalities of the same kind, for classes not listed (e.g. enhanced US volumes).
constexpr const char* kRiskyModalities[] = {"US", "OT", "XC", "ES", "DOC"};

std::string Trim(std::string_view s) { return std::string(TrimPadding(s)); }

std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// The whole value of `element` (all values, backslash-separated), trimmed; "" if null.
std::string Get(DcmElement* element) { return element == nullptr ? std::string() : TrimmedValue(*element); }

// The whole value of `key` in `item` or `index` (not searching sequences), as Get(element).
std::string Get(DcmItem& item, const DcmTagKey& key) {
  DcmElement* element = nullptr;
  return Get(item.findAndGetElement(key, element, /*searchIntoSub=*/false).good() ? element
                                                                                  : nullptr);
}
std::string Get(const ElementIndex& index, const DcmTagKey& key) { return Get(index.Find(key)); }

std::vector<std::string> SplitValues(const std::string& s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    const std::size_t end = s.find('\\', start);
    out.push_back(s.substr(start, end == std::string::npos ? end : end - start));
    if (end == std::string::npos) return out;
    start = end + 1;
  }
}

std::string JoinValues(const std::vector<std::string>& values) {
  std::string out;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i) out += '\\';
    out += values[i];
  }
  return out;
}

// --- dates (days since 1970-01-01 in the proleptic Gregorian calendar; Hinnant's algorithms)
long DaysFromCivil(long y, unsigned m, unsigned d) {
  y -= m <= 2;
  const long era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<long>(doe) - 719468;
}

void CivilFromDays(long z, long& y, unsigned& m, unsigned& d) {
  z += 719468;
  const long era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<long>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
}

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

// Shifts the YYYYMMDD at the start of `value` by `days`; false if it is not a valid date.
bool ShiftDatePrefix(std::string& value, int days) {
  if (value.size() < 8 || !AllDigits(std::string_view(value).substr(0, 8))) return false;
  const long y = std::stol(value.substr(0, 4));
  const unsigned m = static_cast<unsigned>(std::stoul(value.substr(4, 2)));
  const unsigned d = static_cast<unsigned>(std::stoul(value.substr(6, 2)));
  if (m < 1 || m > 12 || d < 1 || d > 31) return false;
  long ny;
  unsigned nm, nd;
  CivilFromDays(DaysFromCivil(y, m, d) + days, ny, nm, nd);
  if (ny < 1 || ny > 9999) return false;
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04ld%02u%02u", ny, nm, nd);
  value.replace(0, 8, buf);
  return true;
}

// Shifts each value (and each side of a range "A-B") of a DA or DT by `days`. False when a
// non-empty part is not a full date (it must then be removed, not kept).
bool ShiftDateValues(std::string& text, int days) {
  std::vector<std::string> values = SplitValues(text);
  for (std::string& v : values) {
    v = Trim(v);
    if (v.empty()) continue;
    const std::size_t dash = v.size() > 8 ? v.find('-', 8) : std::string::npos;
    // A DT may carry a UTC offset "-0500" after the date; a range has 8+ digits after '-'.
    if (dash != std::string::npos && v.size() - dash - 1 >= 8 && AllDigits(v.substr(dash + 1, 8))) {
      std::string a = v.substr(0, dash), b = v.substr(dash + 1);
      if (!ShiftDatePrefix(a, days) || !ShiftDatePrefix(b, days)) return false;
      v = a + "-" + b;
    } else if (!ShiftDatePrefix(v, days)) {
      return false;
    }
  }
  text = JoinValues(values);
  return true;
}

// Tokens of a text for matching identifying words: runs of letters, digits and non-ASCII bytes.
bool IsWordByte(unsigned char c) { return std::isalnum(c) || c >= 0x80; }

std::string Base32(const unsigned char* bytes, std::size_t n_chars) {
  static constexpr char kAlphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  std::string out;
  std::uint64_t acc = 0;
  int bits = 0;
  std::size_t i = 0;
  while (out.size() < n_chars) {
    if (bits < 5) {
      acc = (acc << 8) | bytes[i++];
      bits += 8;
    }
    out.push_back(kAlphabet[(acc >> (bits - 5)) & 31]);
    bits -= 5;
  }
  return out;
}

// The words of the values de-identification removes or replaces, for Clean Descriptors: a word
// counts from `min_length` bytes (2 in names, 3 elsewhere), and a number from 4 digits. Kept as
// the values' text, upper-cased: a set of words cost a string and a hash for every word of every
// such value (some 20 million instructions for the benchmark's 593 files), and a file's values
// are usually a few hundred bytes, searched for a descriptor's few words. Past kIndexFrom bytes
// (a vendor's private text block), searching would cost the text's length for every word, so the
// words are indexed once instead.
class IdentifyingWords {
 public:
  void Add(std::string_view value, std::size_t min_length) {
    std::string& to = min_length <= 2 ? from_two_ : from_three_;
    to.push_back('\0');  // no word byte: words never run from one value into the next
    for (char c : value) to.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
    index_.reset();
  }

  // Whether `word` (upper case, a whole token of word bytes) is a word of the values.
  bool Has(std::string_view word) const {
    if (AllDigits(word) && word.size() < 4) return false;
    if (from_two_.size() + from_three_.size() < kIndexFrom) {
      return (word.size() >= 2 && Holds(from_two_, word)) || (word.size() >= 3 && Holds(from_three_, word));
    }
    if (!index_) {
      index_.emplace();
      IndexWords(from_two_, 2);
      IndexWords(from_three_, 3);
    }
    return index_->count(word) > 0;
  }

 private:
  static constexpr std::size_t kIndexFrom = 16 * 1024;

  static bool Holds(std::string_view text, std::string_view word) {
    for (std::size_t at = text.find(word); at != std::string_view::npos; at = text.find(word, at + 1)) {
      const std::size_t end = at + word.size();
      if ((at == 0 || !IsWordByte(static_cast<unsigned char>(text[at - 1]))) &&
          (end == text.size() || !IsWordByte(static_cast<unsigned char>(text[end])))) {
        return true;
      }
    }
    return false;
  }

  void IndexWords(std::string_view text, std::size_t min_length) const {
    std::size_t i = 0;
    while (i < text.size()) {
      while (i < text.size() && !IsWordByte(static_cast<unsigned char>(text[i]))) ++i;
      std::size_t j = i;
      while (j < text.size() && IsWordByte(static_cast<unsigned char>(text[j]))) ++j;
      if (j - i >= min_length) index_->insert(text.substr(i, j - i));
      i = j;
    }
  }

  std::string from_two_, from_three_;
  mutable std::optional<std::unordered_set<std::string_view>> index_;  // views into the texts
};

// What one instance contributes before its headers change.
struct Context {
  std::string pseudonym;  // Patient ID and Patient's Name
  int date_offset_days = 0;
  IdentifyingWords identifying_words;
  DeidActions actions;
};

class Engine {
 public:
  Engine(const DeidOptions& options, const KeyedHash& hash) : options_(options), hash_(hash) {}

  std::string Uid(std::string_view uid) const { return PseudonymousUid(hash_, uid); }

  std::array<unsigned char, 32> Hash(std::string_view domain, std::string_view data) const {
    std::string message(domain);
    message.push_back('\x1f');
    message.append(data);
    return hash_(message);
  }

  // Collects the words of every value the profile will remove or replace (PN components,
  // identifiers, addresses, ...), at any depth, so Clean can strip them from descriptors.
  void CollectIdentifyingWords(DcmItem& item, Context& ctx) const {
    ForEachElement(item, [&](DcmElement& e) {
      const DcmTagKey key = e.getTag();
      if (e.ident() == EVR_SQ) {
        ForEachItem(static_cast<DcmSequenceOfItems&>(e),
                    [&](DcmItem& sub) { CollectIdentifyingWords(sub, ctx); });
        return;
      }
      const profile::ProfileRow* row = profile::Find(key.getGroup(), key.getElement());
      bool identifying = key.isPrivate() || e.ident() == EVR_PN;
      if (row != nullptr) {
        // Descriptors (those Clean Descriptors may keep) are what gets cleaned, not a source.
        const Action a = profile::Resolve(*row, options_);
        identifying = (a == Action::kRemove || a == Action::kZero || a == Action::kDummy) &&
                      row->options[static_cast<int>(profile::Column::kCleanDescriptors)] != 'C';
      }
      if (!identifying || !e.isaString()) return;
      // Every value as stored (a NUL is no word byte): the words of DCMTK's normalised copy.
      ctx.identifying_words.Add(StoredValue(e), e.ident() == EVR_PN ? 2 : 3);
    });
  }

  // Clean Descriptors (PS3.15 E.3.5): the text without the instance's identifying words and
  // without long digit runs (dates, record numbers); separators are collapsed.
  static std::string CleanText(const std::string& text, const IdentifyingWords& words) {
    std::string out;
    std::size_t i = 0;
    bool pending_space = false;
    while (i < text.size()) {
      if (!IsWordByte(static_cast<unsigned char>(text[i]))) {
        const char c = text[i++];
        if (c == ' ' || c == '^' || c == '\\' || c == ',' || c == '-' || c == '_') {
          pending_space = !out.empty();
        } else if (!out.empty() && c != '\r' && c != '\n' && c != '\t') {
          out.push_back(c);
        } else {
          pending_space = !out.empty();
        }
        continue;
      }
      std::size_t j = i;
      while (j < text.size() && IsWordByte(static_cast<unsigned char>(text[j]))) ++j;
      const std::string word = text.substr(i, j - i);
      std::size_t digits = 0, longest = 0;
      for (char c : word) {
        digits = std::isdigit(static_cast<unsigned char>(c)) ? digits + 1 : 0;
        longest = std::max(longest, digits);
      }
      if (!words.Has(Upper(word)) && longest < 5) {
        if (pending_space) out.push_back(' ');
        out += word;
        pending_space = false;
      }
      i = j;
    }
    return Trim(out);
  }

  // Applies the profile to every element of `item` and, recursively, of its sequences.
  void Process(DcmItem& item, Context& ctx, bool top_level) const {
    // Private Creator values of this item's blocks, for the safe list.
    std::unordered_map<std::uint32_t, std::string> creators;
    if (options_.retain_safe_private) {
      ForEachElement(item, [&](DcmElement& e) {
        const DcmTagKey key = e.getTag();
        if (key.isPrivate() && key.getElement() >= 0x10 && key.getElement() <= 0xFF) {
          OFString v;
          e.getOFStringArray(v);
          creators[(std::uint32_t{key.getGroup()} << 16) | key.getElement()] = Trim(v.c_str());
        }
      });
    }
    std::set<std::uint32_t> used_blocks;  // (group << 16) | block of kept safe elements
    std::vector<DcmTagKey> removal;
    ForEachElement(item, [&](DcmElement& e) {
      const DcmTagKey key = e.getTag();
      const std::uint16_t g = key.getGroup(), el = key.getElement();
      if (g & 1) {
        if (el >= 0x10 && el <= 0xFF) return;  // creators: decided after their elements
        const std::uint32_t block = (std::uint32_t{g} << 16) | (el >> 8);
        if (el >= 0x1000 && IsSafePrivate(creators, g, el)) {
          used_blocks.insert(block);
          ++ctx.actions.private_kept;
          if (e.ident() == EVR_SQ) ProcessSequence(e, ctx);
          return;
        }
        removal.push_back(key);
        ++ctx.actions.private_removed;
        return;
      }
      if (el == 0x0000) {  // group lengths, at every depth: Run writes the file without them
        removal.push_back(key);
        return;
      }
      if (g == 0x0002) {  // file meta information in a data set: PS3.10 7.1 keeps it in the meta
        removal.push_back(key);
        ++ctx.actions.removed;
        return;
      }
      if (top_level && IsMarker(key)) return;  // replaced below
      if (!Apply(e, ctx)) removal.push_back(key);
    });
    ForEachElement(item, [&](DcmElement& e) {
      const DcmTagKey key = e.getTag();
      if ((key.getGroup() & 1) && key.getElement() >= 0x10 && key.getElement() <= 0xFF &&
          !used_blocks.count((std::uint32_t{key.getGroup()} << 16) | key.getElement())) {
        removal.push_back(key);
      }
    });
    for (const DcmTagKey& key : removal) {
      if (DcmElement* gone = item.remove(key)) delete gone;
    }
  }

  bool IsSafePrivate(const std::unordered_map<std::uint32_t, std::string>& creators,
                     std::uint16_t group, std::uint16_t element) const {
    if (!options_.retain_safe_private) return false;
    auto it = creators.find((std::uint32_t{group} << 16) | (element >> 8));
    if (it == creators.end()) return false;
    for (const SafePrivateElement& s : options_.safe_private) {
      if (s.group == group && s.element == (element & 0xFF) && s.creator == it->second) return true;
    }
    return false;
  }

  static bool IsMarker(const DcmTagKey& key) {
    return key == DCM_PatientIdentityRemoved || key == DCM_DeidentificationMethod ||
           key == DCM_DeidentificationMethodCodeSequence ||
           key == DCM_LongitudinalTemporalInformationModified;
  }

  void ProcessSequence(DcmElement& e, Context& ctx) const {
    auto& sq = static_cast<DcmSequenceOfItems&>(e);
    ForEachItem(sq, [&](DcmItem& item) { Process(item, ctx, false); });
  }

  // Applies the action for one public element; false when it must be removed.
  bool Apply(DcmElement& e, Context& ctx) const {
    const DcmTagKey key = e.getTag();
    const DcmEVR vr = e.ident();
    DeidActions& n = ctx.actions;
    if (key == DCM_PatientID || key == DCM_PatientName) {
      ++n.dummy;
      return e.putString(ctx.pseudonym.c_str()).good();
    }
    const profile::ProfileRow* row = profile::Find(key.getGroup(), key.getElement());
    if (row == nullptr) {
      // Not in the table (PS3.15 E.1.1 note: newer, retired and vendor attributes): names
      // are emptied, dates removed or shifted, sequences searched.
      if (vr == EVR_SQ) {
        ProcessSequence(e, ctx);
      } else if (vr == EVR_PN) {
        ++n.zeroed;
        return e.putString("").good();
      } else if (vr == EVR_DA || vr == EVR_DT) {
        return ShiftOrRemove(e, ctx);
      }
      return true;
    }
    const Action action = profile::Resolve(*row, options_);
    switch (action) {
      case Action::kRemove:
        ++n.removed;
        return false;
      case Action::kKeep:
        ++n.kept;
        if (vr == EVR_SQ) ProcessSequence(e, ctx);
        return true;
      case Action::kZero:
        ++n.zeroed;
        if (vr == EVR_SQ) {
          static_cast<DcmSequenceOfItems&>(e).clear();
          return true;
        }
        return e.clear().good();
      case Action::kUid:
        if (vr == EVR_SQ) {
          ++n.uid_remapped;
          ProcessSequence(e, ctx);
          return true;
        }
        return RemapUid(e, ctx);
      case Action::kDummy:
        return Dummy(e, ctx);
      case Action::kClean:
        return Clean(e, ctx);
    }
    return false;
  }

  bool RemapUid(DcmElement& e, Context& ctx) const {
    if (e.ident() != EVR_UI) {
      ++ctx.actions.removed;  // a UID not encoded as UI (e.g. UN) cannot be mapped: remove
      return false;
    }
    // Each UID cut at a NUL (padding some writers put after every value, not only the last) and
    // trimmed, as DCMTK's normalised copy of each value would be.
    std::vector<std::string> values = SplitValues(Trim(StoredValue(e)));
    for (std::string& v : values) {
      v = Trim(v.substr(0, v.find('\0')));
      if (!v.empty()) v = Uid(v);
    }
    ++ctx.actions.uid_remapped;
    return e.putString(JoinValues(values).c_str()).good();
  }

  bool Dummy(DcmElement& e, Context& ctx) const {
    ++ctx.actions.dummy;
    switch (e.ident()) {
      case EVR_SQ:
        ProcessSequence(e, ctx);
        return true;
      case EVR_UI:
        --ctx.actions.dummy;
        return RemapUid(e, ctx);
      case EVR_DA: return e.putString("19000101").good();
      case EVR_TM: return e.putString("000000").good();
      case EVR_DT: return e.putString("19000101000000").good();
      case EVR_AS: return e.putString("000Y").good();
      case EVR_DS:
      case EVR_IS: return e.putString("0").good();
      case EVR_PN: return e.putString("ANONYMOUS").good();
      case EVR_AE: case EVR_CS: case EVR_LO: case EVR_LT: case EVR_SH: case EVR_ST:
      case EVR_UC: case EVR_UT:
        return e.putString(kDummyText).good();
      case EVR_US: case EVR_SS: case EVR_UL: case EVR_SL: case EVR_FL: case EVR_FD:
        return e.putString("0").good();
      default:  // binary or unknown VR: no VR-consistent dummy is known, so remove it
        --ctx.actions.dummy;
        ++ctx.actions.removed;
        return false;
    }
  }

  bool Clean(DcmElement& e, Context& ctx) const {
    const DcmEVR vr = e.ident();
    if (vr == EVR_SQ) {
      ++ctx.actions.cleaned;
      ProcessSequence(e, ctx);
      return true;
    }
    if (vr == EVR_DA || vr == EVR_DT) return ShiftOrRemove(e, ctx);
    if (vr == EVR_TM) {  // dates move by whole days: times of day are kept
      ++ctx.actions.cleaned;
      return true;
    }
    if (e.isaString() && vr != EVR_UI) {
      OFString value;
      e.getOFStringArray(value);
      ++ctx.actions.cleaned;
      return e.putString(CleanText(value.c_str(), ctx.identifying_words).c_str()).good();
    }
    ++ctx.actions.removed;  // nothing known to be safe to keep
    return false;
  }

  bool ShiftOrRemove(DcmElement& e, Context& ctx) const {
    if (!options_.retain_modified_dates) {
      ++ctx.actions.removed;
      return false;
    }
    OFString raw;
    e.getOFStringArray(raw);
    std::string value = raw.c_str();
    if (!ShiftDateValues(value, ctx.date_offset_days)) {
      ++ctx.actions.removed;
      return false;
    }
    ++ctx.actions.cleaned;
    ++ctx.actions.dates_shifted;
    return e.putString(value.c_str()).good();
  }

  const DeidOptions& options() const { return options_; }

 private:
  const DeidOptions& options_;
  const KeyedHash& hash_;
};

void AddCode(DcmItem& ds, const MethodCode& code) {
  DcmItem* item = nullptr;
  if (ds.findOrCreateSequenceItem(DCM_DeidentificationMethodCodeSequence, item, -2).bad()) return;
  item->putAndInsertString(DCM_CodeValue, code.value);
  item->putAndInsertString(DCM_CodingSchemeDesignator, "DCM");
  item->putAndInsertString(DCM_CodeMeaning, code.meaning);
}

// 5-year age bands, 90 and over grouped (HIPAA Safe Harbor's limit).
std::string AgeBand(int years) {
  if (years < 0) return {};
  if (years >= 90) return "90+";
  const int low = years / 5 * 5;
  return std::to_string(low) + "-" + std::to_string(low + 4);
}

int AgeFromString(const std::string& as) {  // PS3.5 AS: nnnD, nnnW, nnnM or nnnY
  if (as.size() != 4 || !AllDigits(as.substr(0, 3))) return -1;
  const int n = std::stoi(as.substr(0, 3));
  switch (as[3]) {
    case 'Y': return n;
    case 'M': return n / 12;
    case 'W': return n / 52;
    case 'D': return n / 365;
    default: return -1;
  }
}

int AgeFromDates(const std::string& birth, const std::string& on) {
  if (birth.size() < 8 || on.size() < 8 || !AllDigits(birth.substr(0, 8)) || !AllDigits(on.substr(0, 8))) {
    return -1;
  }
  int years = std::stoi(on.substr(0, 4)) - std::stoi(birth.substr(0, 4));
  if (on.substr(4, 4) < birth.substr(4, 4)) --years;
  return years;
}

// The Image Pixel module's geometry (PS3.3 C.7.6.3); absent attributes take their defaults.
// Native YBR_FULL_422 stores Y1 Y2 Cb Cr for each pair of pixels in a row (PS3.3 C.7.6.3.1.2):
// two samples a pixel, not three.
struct PixelGeometry {
  Uint16 rows = 0, cols = 0, bits = 0, spp = 1, planar = 0;
  Sint32 frames = 1;
  bool ybr422 = false;
  Uint16 StoredSamples() const { return ybr422 && spp == 3 ? 2 : spp; }
  explicit PixelGeometry(DcmItem& ds) : PixelGeometry(ElementIndex(ds)) {}
  explicit PixelGeometry(const ElementIndex& ds)
      : ybr422(Upper(Get(ds, DCM_PhotometricInterpretation)) == "YBR_FULL_422") {
    auto u16 = [&](const DcmTagKey& key, Uint16& out) {
      Uint16 v = 0;
      DcmElement* e = ds.Find(key);
      if (e != nullptr && e->getUint16(v).good()) out = v;
    };
    u16(DCM_Rows, rows);
    u16(DCM_Columns, cols);
    u16(DCM_BitsAllocated, bits);
    u16(DCM_SamplesPerPixel, spp);
    u16(DCM_PlanarConfiguration, planar);
    Sint32 f = 0;
    DcmElement* e = ds.Find(DCM_NumberOfFrames);
    if (e != nullptr && e->getSint32(f).good()) frames = f;
  }
};

// The Pixel Data element at the start of `element` (little endian): the size of its header (tag,
// VR and length) and its value length (0 for encapsulated pixel data, whose geometry is not
// checked against its length).
struct PixelElement {
  std::size_t header = 0;
  std::uint64_t length = 0;
};
Result<PixelElement> ReadPixelElement(std::string_view element, const DcmXfer& xfer) {
  if (element.size() < 12) return Error(ErrorCode::kInvalidArgument, "truncated Pixel Data");
  const auto* b = reinterpret_cast<const unsigned char*>(element.data());
  auto u16 = [b](std::size_t at) { return std::uint32_t{b[at]} | (std::uint32_t{b[at + 1]} << 8); };
  auto u32 = [&](std::size_t at) { return u16(at) | (u16(at + 2) << 16); };
  PixelElement out{8, u32(4)};  // implicit VR: tag, length
  if (xfer.isExplicitVR()) {    // tag, VR, then 2 reserved bytes and 4 of length, or 2 of length
    const bool long_length = FormOfVr(element.substr(4, 2)).long_length;
    out = long_length ? PixelElement{12, u32(8)} : PixelElement{8, u16(6)};
  }
  if (out.length == 0xFFFFFFFF) out.length = 0;
  return out;
}

// Validates that native Pixel Data holds what Rows x Columns x frames x samples claims.
Status CheckPixelGeometry(const PixelGeometry& g, bool encapsulated, std::uint64_t pixel_bytes) {
  if (g.rows == 0 || g.cols == 0) {
    return Error(ErrorCode::kInvalidArgument, "Pixel Data without Rows and Columns");
  }
  if (g.frames < 1 || g.spp < 1 || g.spp > 4 || g.bits == 0 || g.bits > 64) {
    return Error(ErrorCode::kInvalidArgument,
                 "implausible Number of Frames, Samples per Pixel or Bits Allocated");
  }
  if (encapsulated) return Status::Ok();
  const unsigned __int128 bits_total =
      static_cast<unsigned __int128>(g.rows) * g.cols * g.frames * g.StoredSamples() * g.bits;
  if ((bits_total + 7) / 8 > pixel_bytes) {
    return Error(ErrorCode::kInvalidArgument,
                 "the header claims " + std::to_string(g.rows) + "x" + std::to_string(g.cols) +
                     "x" + std::to_string(g.frames) + " pixels, more than Pixel Data holds (" +
                     std::to_string(pixel_bytes) + " bytes)");
  }
  return Status::Ok();
}

bool EqualsIgnoreCase(const std::string& a, const std::string& b) { return Upper(Trim(a)) == Upper(Trim(b)); }

const BlankingRule* FindBlankingRule(const DeidOptions& o, const CohortMetadata& c) {
  for (const BlankingRule& r : o.blanking) {
    if (!EqualsIgnoreCase(r.modality, c.modality)) continue;
    if (!r.manufacturer.empty() && !EqualsIgnoreCase(r.manufacturer, c.manufacturer)) continue;
    if (!r.model.empty() && !EqualsIgnoreCase(r.model, c.model)) continue;
    return &r;
  }
  return nullptr;
}

// The rectangles of `rects` that meet an image of `g`'s size.
int RectsInImage(const PixelGeometry& g, const std::vector<PixelRect>& rects) {
  return static_cast<int>(std::count_if(rects.begin(), rects.end(), [&](const PixelRect& r) {
    return std::max(0, r.x) < std::min<int>(g.cols, r.x + r.width) &&
           std::max(0, r.y) < std::min<int>(g.rows, r.y + r.height);
  }));
}

// Whether native pixel data of `g` can be blanked: kUnsupported unless its samples are whole bytes
// and, for YBR_FULL_422, Columns are even and Planar Configuration is 0.
Status CheckBlankable(const PixelGeometry& g) {
  if (g.bits % 8 != 0) {
    return Error(ErrorCode::kUnsupported,
                 "blanking needs whole-byte pixels (Bits Allocated " + std::to_string(g.bits) + ")");
  }
  if (g.ybr422) {
    CALIPER_RETURN_IF_ERROR(CheckYbr422Columns(g.cols));
    if (g.planar != 0) {
      return Error(ErrorCode::kUnsupported, "blanking YBR_FULL_422 needs Planar Configuration 0 (PS3.3 C.7.6.3.1.2)");
    }
  }
  return Status::Ok();
}

// The bytes of one frame of native pixel data of `g` (CheckBlankable: whole-byte samples).
std::size_t FrameBytes(const PixelGeometry& g) {
  return std::size_t{g.rows} * g.cols * g.StoredSamples() * (g.bits / 8);
}

// Overwrites `rects` with zero in every sample of one frame of native pixel data of `g` (which
// passed CheckBlankable); returns how many rectangles met it. YBR_FULL_422 is blanked in place, in
// whole pixel pairs: a rectangle's edge at an odd column widens by one pixel, since the pair's Cb
// and Cr belong to both of its pixels.
int BlankFrame(const PixelGeometry& g, Uint8* frame, const std::vector<PixelRect>& rects) {
  const std::size_t bpp = g.bits / 8;  // bytes per sample
  const std::size_t spp = g.StoredSamples();
  const std::size_t plane = std::size_t{g.rows} * g.cols;
  int blanked = 0;
  for (const PixelRect& r : rects) {
    int x0 = std::max(0, r.x), x1 = std::min<int>(g.cols, r.x + r.width);
    const int y0 = std::max(0, r.y), y1 = std::min<int>(g.rows, r.y + r.height);
    if (x0 >= x1 || y0 >= y1) continue;
    if (g.ybr422) x0 -= x0 % 2, x1 += x1 % 2;  // whole pairs (cols is even)
    for (int y = y0; y < y1; ++y) {
      if (g.planar == 1 && spp > 1) {
        for (std::size_t s = 0; s < spp; ++s) {
          std::memset(frame + (s * plane + std::size_t(y) * g.cols + x0) * bpp, 0, std::size_t(x1 - x0) * bpp);
        }
      } else {
        std::memset(frame + (std::size_t(y) * g.cols + x0) * spp * bpp, 0, std::size_t(x1 - x0) * spp * bpp);
      }
    }
    ++blanked;
  }
  return blanked;
}

// Overwrites `rects` with zero in every frame of native pixel data (BlankFrame).
Result<int> Blank(DcmDataset& ds, DcmElement& pixels, const std::vector<PixelRect>& rects) {
  const PixelGeometry g(ds);
  CALIPER_RETURN_IF_ERROR(CheckBlankable(g));
  Uint8* data = nullptr;
  if (pixels.getUint8Array(data).bad() || data == nullptr) {
    return Error(ErrorCode::kInvalidArgument, "Pixel Data cannot be read");
  }
  int blanked = 0;
  for (Sint32 f = 0; f < g.frames; ++f) {
    blanked += BlankFrame(g, data + static_cast<std::size_t>(f) * FrameBytes(g), rects);
  }
  return blanked;
}

// Native pixel data kept as it came (the Pixel Data element at the start of `element`, which ends
// the file) with `rects` zeroed in every frame, never parsed: its element header, its frames
// copied and blanked a few at a time (a buffer of at least 256 KiB and one frame), then whatever
// follows the last frame, handed to `sink` in turn. The same bytes as DCMTK writes for the parsed
// element blanked by Blank. The geometry must have passed CheckPixelGeometry and CheckBlankable.
Status CopyBlanked(std::string_view element, const DcmXfer& xfer, const PixelGeometry& g,
                   const std::vector<PixelRect>& rects, const std::function<Status(std::string_view)>& sink) {
  CALIPER_ASSIGN_OR_RETURN(const PixelElement e, ReadPixelElement(element, xfer));
  std::string buffer(element.substr(0, e.header));
  std::string_view value = element.substr(e.header);
  const std::size_t frame_bytes = FrameBytes(g);
  for (Sint32 f = 0; f < g.frames; ++f) {
    const std::size_t at = buffer.size();
    buffer.append(value.substr(0, frame_bytes));
    value.remove_prefix(frame_bytes);
    BlankFrame(g, reinterpret_cast<Uint8*>(buffer.data() + at), rects);
    if (buffer.size() >= (std::size_t{256} << 10)) {
      CALIPER_RETURN_IF_ERROR(sink(buffer));
      buffer.clear();
    }
  }
  CALIPER_RETURN_IF_ERROR(sink(buffer));
  return sink(value);
}

// Blanking, for rules and stewards' decisions alike: zeroes `rects` in every frame of the
// instance's pixel data and returns how many were blanked, summed over frames. Compressed pixel
// data is decoded first (DecompressPixelData, DecodeImage's decoders, within DecodeLimits) unless
// no rectangle meets the image; it is then native, `xfer` becomes Explicit VR Little Endian,
// `decompressed_from` names the syntax it had, and a lossy one sets Lossy Image Compression to
// "01" when the header did not say so (its ratio and method are kept as they are).
Result<int> BlankPixels(DcmDataset& ds, const std::vector<PixelRect>& rects, E_TransferSyntax& xfer,
                        std::string& decompressed_from) {
  if (RectsInImage(PixelGeometry(ds), rects) == 0) return 0;
  const DcmXfer source(xfer);
  if (source.isEncapsulated()) {
    CALIPER_RETURN_IF_ERROR(
        DecompressPixelData(ds, xfer, DecodeLimits{}).WithContext("blanking needs the pixel data decoded"));
    OFString lossy;
    if (source.isLossy() && (ds.findAndGetOFString(DCM_LossyImageCompression, lossy).bad() || lossy.empty())) {
      ds.putAndInsertString(DCM_LossyImageCompression, "01");
    }
    decompressed_from = source.getXferID();
    xfer = EXS_LittleEndianExplicit;
  }
  DcmElement* pixels = nullptr;
  if (ds.findAndGetElement(DCM_PixelData, pixels, false).bad() || pixels == nullptr) {
    return Error(ErrorCode::kInvalidArgument, "the instance has no Pixel Data");
  }
  CALIPER_RETURN_IF_ERROR(CheckPixelGeometry(PixelGeometry(ds), false, pixels->getLength()));
  return Blank(ds, *pixels, rects);
}

// The file as DCMTK writes it, handed to `sink` in chunks of at most 256 KiB (one fixed buffer),
// so that no copy of the whole file is made; the sink's first error stops the writing.
// `group_lengths`: EGL_recalcGL recalculates the group lengths the dataset holds (DCMTK first walks
// every element at every depth for them); EGL_noChange skips that walk, for a dataset known to
// hold none (Engine::Process removes them all, at every depth).
Status Serialize(DcmFileFormat& file, E_TransferSyntax xfer, E_GrpLenEncoding group_lengths,
                 const std::function<Status(std::string_view)>& sink) {
  constexpr std::size_t kChunk = std::size_t{256} << 10;
  const std::unique_ptr<char[]> chunk(new char[kChunk]);
  DcmOutputBufferStream stream(chunk.get(), kChunk);
  file.transferInit();
  OFCondition cond = EC_StreamNotifyClient;
  Status sunk = Status::Ok();
  while (cond == EC_StreamNotifyClient && sunk.ok()) {
    cond = file.write(stream, xfer, EET_ExplicitLength, nullptr, group_lengths, EPD_noChange, 0, 0,
                      0, EWM_createNewMeta);
    void* buffer = nullptr;
    offile_off_t length = 0;
    stream.flushBuffer(buffer, length);
    sunk = sink(std::string_view(static_cast<const char*>(buffer), static_cast<std::size_t>(length)));
  }
  file.transferEnd();
  CALIPER_RETURN_IF_ERROR(sunk);
  if (cond.bad()) return Error(ErrorCode::kInternal, std::string("writing the instance: ") + cond.text());
  return Status::Ok();
}

// A sink (for Serialize and CopyBlanked) that appends each chunk to `out`.
std::function<Status(std::string_view)> AppendTo(std::string& out) {
  return [&out](std::string_view chunk) {
    out.append(chunk);
    return Status::Ok();
  };
}

// The file in one string, allocated once for `size_hint` bytes (an upper bound of the file's
// size, so that the largest element is not copied again as the string grows).
Result<std::string> Serialize(DcmFileFormat& file, E_TransferSyntax xfer,
                              E_GrpLenEncoding group_lengths, std::size_t size_hint) {
  std::string out;
  out.reserve(size_hint);
  CALIPER_RETURN_IF_ERROR(Serialize(file, xfer, group_lengths, AppendTo(out)));
  return out;
}

// An upper bound of the size of `file` written from the `input_size` bytes it was read from:
// the input, plus the Pixel Data element's length when it was decoded (compressed pixel data
// written native), plus room for the elements de-identification adds.
std::size_t OutputSizeHint(DcmDataset& ds, std::size_t input_size, bool decoded) {
  std::size_t hint = input_size + 4096;
  DcmElement* pixels = nullptr;
  if (decoded && ds.findAndGetElement(DCM_PixelData, pixels, false).good() && pixels != nullptr) {
    hint += pixels->getLength();
  }
  return hint;
}

void QuietDcmtkOnce() {
  static std::once_flag once;
  std::call_once(once, [] { OFLog::configure(OFLogger::FATAL_LOG_LEVEL); });
}

// Parses a Part 10 file held in memory into `file`. kInvalidArgument for input without the
// preamble, with an element longer than the file, truncated or malformed. With `pixel_tail`
// (may be null) only what precedes the top-level Pixel Data is parsed when that element ends
// the file in a little endian, non-deflated transfer syntax: *pixel_tail is then where it starts
// (the rest of the file, taken over as it is), else ElementLayout::kNone.
Status ReadPart10(std::string_view part10, DcmFileFormat& file, std::size_t* pixel_tail = nullptr) {
  if (part10.size() < 132 || part10.substr(128, 4) != "DICM") {
    return Error(ErrorCode::kInvalidArgument, "not a DICOM Part 10 file (no DICM preamble)");
  }
  CALIPER_ASSIGN_OR_RETURN(const ElementLayout layout, ScanElements(part10));
  std::string_view parsed = part10;
  if (pixel_tail != nullptr) {
    *pixel_tail = ElementLayout::kNone;
    const DcmXfer xfer(layout.transfer_syntax_uid.c_str());
    if (layout.pixel_data_tail != ElementLayout::kNone && xfer.getXfer() != EXS_Unknown &&
        xfer.getByteOrder() == EBO_LittleEndian && xfer.getStreamCompression() == ESC_none) {
      *pixel_tail = layout.pixel_data_tail;
      parsed = part10.substr(0, layout.pixel_data_tail);
    }
  }
  CALIPER_RETURN_IF_ERROR(ParseInMemory(parsed, file, EGL_noChange));
  if (pixel_tail != nullptr && *pixel_tail != ElementLayout::kNone) {
    // DCMTK must have read the dataset in the syntax the walk assumed, and the writer must not
    // owe the pixel data a group length.
    const DcmXfer read(file.getDataset()->getOriginalXfer());
    if (layout.transfer_syntax_uid != read.getXferID() || file.getDataset()->tagExists(DcmTagKey(0x7FE0, 0x0000))) {
      file.clear();
      *pixel_tail = ElementLayout::kNone;
      return ReadPart10(part10, file, nullptr);
    }
  }
  return Status::Ok();
}

// A whole file mapped read-only (DeidentifyFileTo reads the header through it and leaves the
// pixel data to the kernel); unmapped and closed when it goes.
class MappedFile {
 public:
  static Result<MappedFile> Open(const std::string& path) {
    MappedFile f;
    f.fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (f.fd_ < 0) return Error(ErrorCode::kIo, "cannot read " + path + ": " + std::strerror(errno));
    struct stat st {};
    if (::fstat(f.fd_, &st) != 0 || !S_ISREG(st.st_mode)) return Error(ErrorCode::kIo, "cannot read " + path);
    f.size_ = static_cast<std::size_t>(st.st_size);
    if (f.size_ == 0) return f;
    void* data = ::mmap(nullptr, f.size_, PROT_READ, MAP_PRIVATE, f.fd_, 0);
    if (data == MAP_FAILED) return Error(ErrorCode::kIo, "cannot map " + path + ": " + std::strerror(errno));
    f.data_ = static_cast<const char*>(data);
    return f;
  }
  MappedFile(MappedFile&& o) noexcept
      : fd_(std::exchange(o.fd_, -1)), data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)) {}
  MappedFile& operator=(MappedFile&&) = delete;
  ~MappedFile() {
    if (data_ != nullptr) ::munmap(const_cast<char*>(data_), size_);
    if (fd_ >= 0) ::close(fd_);
  }
  int fd() const { return fd_; }
  std::size_t size() const { return size_; }
  std::string_view view() const { return {data_, size_}; }

 private:
  MappedFile() = default;
  int fd_ = -1;
  const char* data_ = nullptr;
  std::size_t size_ = 0;
};

Status WriteAll(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Error(ErrorCode::kIo, std::string("writing the de-identified file: ") + std::strerror(errno));
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return Status::Ok();
}

// Appends `in` from `offset` to its end to `out`: by copy_file_range, or through the mapping
// where the kernel cannot copy between the two files.
Status CopyTail(const MappedFile& in, std::size_t offset, int out) {
  loff_t at = static_cast<loff_t>(offset);
  while (static_cast<std::size_t>(at) < in.size()) {
    const ssize_t n = ::copy_file_range(in.fd(), &at, out, nullptr, in.size() - static_cast<std::size_t>(at), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EOPNOTSUPP || errno == EINVAL)) {
      return WriteAll(out, in.view().substr(static_cast<std::size_t>(at)));
    }
    if (n < 0) return Error(ErrorCode::kIo, std::string("copying the pixel data: ") + std::strerror(errno));
    if (n == 0) return Error(ErrorCode::kIo, "the input file shrank while it was de-identified");
  }
  return Status::Ok();
}

Status CheckRects(const std::vector<PixelRect>& rects) {
  for (const PixelRect& rect : rects) {
    if (rect.width <= 0 || rect.height <= 0) {
      return Error(ErrorCode::kInvalidArgument, "a blanking rectangle needs a positive size");
    }
  }
  return Status::Ok();
}

Status CheckSafePrivate(const SafePrivateElement& s) {
  if ((s.group & 1) == 0 || s.group < 0x0009 || s.creator.empty()) {
    return Error(ErrorCode::kInvalidArgument, "a safe private element needs an odd group >= 0009 and a creator");
  }
  return Status::Ok();
}

Status CheckBlankingRule(const BlankingRule& r) {
  if (r.modality.empty()) return Error(ErrorCode::kInvalidArgument, "a blanking rule needs a modality");
  return CheckRects(r.rects);
}

bool HasCode(DcmItem& ds, const MethodCode& code) {
  DcmSequenceOfItems* seq = nullptr;
  if (ds.findAndGetSequence(DCM_DeidentificationMethodCodeSequence, seq).bad() || seq == nullptr) return false;
  for (unsigned long i = 0; i < seq->card(); ++i) {
    OFString value;
    if (seq->getItem(i)->findAndGetOFString(DCM_CodeValue, value).good() && value == code.value) return true;
  }
  return false;
}

}  // namespace

std::string_view ProfileEdition() { return profile::Edition(); }

std::string PseudonymousUid(const KeyedHash& hash, std::string_view uid) {
  std::string message = "uid";
  message.push_back('\x1f');
  message.append(uid);
  const std::array<unsigned char, 32> digest = hash(message);
  unsigned __int128 value = 0;
  for (int i = 0; i < 16; ++i) value = (value << 8) | digest[i];
  return Uid225(value);
}

Status ParseDeidOptionList(std::string_view list, DeidOptions& options) {
  std::size_t start = 0;
  while (start <= list.size()) {
    std::size_t end = list.find(',', start);
    if (end == std::string_view::npos) end = list.size();
    const std::string name = Trim(std::string(list.substr(start, end - start)));
    start = end + 1;
    if (name.empty()) continue;
    if (name == "retain-dates" || name == "retain-modified-dates") {
      options.retain_modified_dates = true;
    } else if (name == "retain-patient-characteristics") {
      options.retain_patient_characteristics = true;
    } else if (name == "retain-device-identity") {
      options.retain_device_identity = true;
    } else if (name == "clean-descriptors") {
      options.clean_descriptors = true;
    } else if (name == "retain-safe-private") {
      options.retain_safe_private = true;
    } else {
      return Error(ErrorCode::kInvalidArgument,
                   "unknown de-identification option '" + name +
                       "' (known: retain-dates, retain-patient-characteristics, "
                       "retain-device-identity, clean-descriptors, retain-safe-private)");
    }
  }
  return Status::Ok();
}

std::vector<std::string> DeidOptionNames(const DeidOptions& o) {
  std::vector<std::string> names;
  if (o.retain_modified_dates) names.emplace_back("retain-dates");
  if (o.retain_patient_characteristics) names.emplace_back("retain-patient-characteristics");
  if (o.retain_device_identity) names.emplace_back("retain-device-identity");
  if (o.clean_descriptors) names.emplace_back("clean-descriptors");
  if (o.retain_safe_private) names.emplace_back("retain-safe-private");
  return names;
}

Result<SafePrivateElement> ParseSafePrivateSpec(std::string_view spec_view) {
  // CREATOR:GGGG:EE; the creator may itself contain ':' so the numbers are taken from the end.
  const std::string spec(spec_view);
  const std::size_t last = spec.rfind(':');
  const std::size_t mid = last == std::string::npos || last == 0 ? std::string::npos : spec.rfind(':', last - 1);
  auto bad = [&] {
    return Error(ErrorCode::kInvalidArgument, "a safe private element is CREATOR:GGGG:EE (hex), not '" + spec + "'");
  };
  if (mid == std::string::npos) return bad();
  auto hex = [](const std::string& text, unsigned long max) -> std::optional<unsigned long> {
    if (text.empty() || text.size() > 4 || !std::all_of(text.begin(), text.end(), [](unsigned char c) {
          return std::isxdigit(c) != 0;
        })) {
      return std::nullopt;
    }
    const unsigned long value = std::stoul(text, nullptr, 16);
    if (value > max) return std::nullopt;
    return value;
  };
  const auto group = hex(spec.substr(mid + 1, last - mid - 1), 0xFFFF);
  const auto element = hex(spec.substr(last + 1), 0xFF);
  if (!group || !element) return bad();
  SafePrivateElement out{spec.substr(0, mid), static_cast<std::uint16_t>(*group),
                         static_cast<std::uint8_t>(*element)};
  CALIPER_RETURN_IF_ERROR(CheckSafePrivate(out).WithContext("'" + spec + "'"));
  return out;
}

Result<BlankingRule> ParseBlankingSpec(std::string_view spec_view) {
  const std::string spec(spec_view);
  const std::size_t colon = spec.rfind(':');
  BlankingRule rule;
  PixelRect rect;
  char tail = 0;
  if (colon == std::string::npos ||
      std::sscanf(spec.c_str() + colon + 1, "%d,%d,%d,%d%c", &rect.x, &rect.y, &rect.width, &rect.height,
                  &tail) != 4) {
    return Error(ErrorCode::kInvalidArgument,
                 "a blanking rule is MODALITY[/MANUFACTURER[/MODEL]]:X,Y,W,H, not '" + spec + "'");
  }
  std::stringstream device(spec.substr(0, colon));
  std::getline(device, rule.modality, '/');
  std::getline(device, rule.manufacturer, '/');
  std::getline(device, rule.model);
  rule.modality = Trim(rule.modality);
  rule.rects.push_back(rect);
  CALIPER_RETURN_IF_ERROR(CheckBlankingRule(rule).WithContext("'" + spec + "'"));
  return rule;
}

Result<DeidOptions> DeidOptionsFromSpecs(std::string_view option_list, const std::vector<std::string>& safe_private,
                                         const std::vector<std::string>& blanking) {
  DeidOptions options;
  CALIPER_RETURN_IF_ERROR(ParseDeidOptionList(option_list, options));
  for (const std::string& spec : safe_private) {
    CALIPER_ASSIGN_OR_RETURN(SafePrivateElement element, ParseSafePrivateSpec(spec));
    options.safe_private.push_back(std::move(element));
    options.retain_safe_private = true;
  }
  for (const std::string& spec : blanking) {
    CALIPER_ASSIGN_OR_RETURN(BlankingRule rule, ParseBlankingSpec(spec));
    options.blanking.push_back(std::move(rule));
  }
  return options;
}

Result<std::string> BlankPixelRects(std::string_view part10, const std::vector<PixelRect>& rects,
                                    BlankOutcome* outcome) {
  CALIPER_RETURN_IF_ERROR(CheckRects(rects));
  if (rects.empty()) return Error(ErrorCode::kInvalidArgument, "no rectangle to blank");
  QuietDcmtkOnce();
  DcmFileFormat file;
  CALIPER_RETURN_IF_ERROR(ReadPart10(part10, file));
  DcmDataset& ds = *file.getDataset();
  E_TransferSyntax xfer = ds.getOriginalXfer();
  if (xfer == EXS_Unknown) return Error(ErrorCode::kInvalidArgument, "unknown transfer syntax");
  DcmElement* pixels = nullptr;
  if (ds.findAndGetElement(DCM_PixelData, pixels, false).bad() || pixels == nullptr) {
    return Error(ErrorCode::kInvalidArgument, "the instance has no Pixel Data");
  }
  CALIPER_RETURN_IF_ERROR(
      CheckPixelGeometry(PixelGeometry(ds), DcmXfer(xfer).isEncapsulated(), pixels->getLength()));
  BlankOutcome done;
  CALIPER_ASSIGN_OR_RETURN(done.blanked, BlankPixels(ds, rects, xfer, done.decompressed_from));
  if (done.blanked > 0 && !HasCode(ds, kCleanPixelData)) {
    OFString method;
    ds.findAndGetOFStringArray(DCM_DeidentificationMethod, method);
    method += method.empty() ? "Clean Pixel Data (rectangles)" : "\\Clean Pixel Data (rectangles)";
    ds.putAndInsertString(DCM_DeidentificationMethod, method.c_str());
    AddCode(ds, kCleanPixelData);
  }
  if (outcome != nullptr) *outcome = done;
  return Serialize(file, xfer, EGL_recalcGL,
                   OutputSizeHint(ds, part10.size(), !done.decompressed_from.empty()));
}

struct DicomDeidentifier::Impl {
  DeidOptions options;
  KeyedHash hash;
};

DicomDeidentifier::DicomDeidentifier(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
DicomDeidentifier::~DicomDeidentifier() = default;
const DeidOptions& DicomDeidentifier::options() const { return impl_->options; }

Result<std::unique_ptr<DicomDeidentifier>> DicomDeidentifier::Create(DeidOptions options,
                                                                     KeyedHash hash) {
  if (!hash) return Error(ErrorCode::kInvalidArgument, "a keyed hash is required");
  for (const SafePrivateElement& s : options.safe_private) CALIPER_RETURN_IF_ERROR(CheckSafePrivate(s));
  for (const BlankingRule& r : options.blanking) CALIPER_RETURN_IF_ERROR(CheckBlankingRule(r));
  QuietDcmtkOnce();
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  impl->hash = std::move(hash);
  return std::unique_ptr<DicomDeidentifier>(new DicomDeidentifier(std::move(impl)));
}

Result<DeidResult> DicomDeidentifier::DeidentifyFileTo(const std::string& path, int out) const {
  CALIPER_ASSIGN_OR_RETURN(const MappedFile in, MappedFile::Open(path));
  if (in.size() == 0) return Error(ErrorCode::kInvalidArgument, "empty file");
  if (in.size() > impl_->options.max_input_bytes) {
    return Error(ErrorCode::kPayloadTooLarge, path + " is larger than the configured limit");
  }
  FileOut file_out{out, ElementLayout::kNone};
  CALIPER_ASSIGN_OR_RETURN(DeidResult result, Run(in.view(), impl_->options.keep_pixel_bytes, &file_out));
  if (file_out.pixel_tail != ElementLayout::kNone) CALIPER_RETURN_IF_ERROR(CopyTail(in, file_out.pixel_tail, out));
  return result;
}

Result<DeidResult> DicomDeidentifier::Deidentify(std::string_view part10) const {
  const DeidOptions& o = impl_->options;
  if (part10.empty()) return Error(ErrorCode::kInvalidArgument, "empty file");
  if (part10.size() > o.max_input_bytes) {
    return Error(ErrorCode::kPayloadTooLarge, "the instance is larger than the configured limit");
  }
  return Run(part10, o.keep_pixel_bytes, nullptr);
}

Result<DeidResult> DicomDeidentifier::Run(std::string_view part10, bool keep_pixel_bytes,
                                          FileOut* file_out) const {
  const DeidOptions& o = impl_->options;
  DcmFileFormat file;
  // The pixel data is never changed unless blanked: when it ends the file it is not parsed,
  // and its bytes are appended to the de-identified header as they came.
  std::size_t pixel_tail = ElementLayout::kNone;
  CALIPER_RETURN_IF_ERROR(ReadPart10(part10, file, keep_pixel_bytes ? &pixel_tail : nullptr));
  const bool tail = pixel_tail != ElementLayout::kNone;
  DcmDataset& ds = *file.getDataset();
  DcmMetaInfo& meta = *file.getMetaInfo();
  E_TransferSyntax xfer = ds.getOriginalXfer();
  if (xfer == EXS_Unknown) return Error(ErrorCode::kInvalidArgument, "unknown transfer syntax");
  const DcmXfer xfer_info(xfer);
  // Everything read before the profile changes the dataset is read through one index (about 40
  // reads, each a walk of the element list through DcmItem::findAndGet*).
  const ElementIndex index(ds);
  const PixelGeometry geometry(index);

  DeidResult result;
  result.transfer_syntax_uid = xfer_info.getXferID();
  result.sop_class_uid = Get(index, DCM_SOPClassUID);
  if (result.sop_class_uid.empty()) result.sop_class_uid = Get(meta, DCM_MediaStorageSOPClassUID);

  // Pixel Data: checked, decoded only when a blanking rule applies to compressed pixel data.
  DcmElement* pixels = tail ? nullptr : index.Find(DCM_PixelData);
  if (tail) {
    CALIPER_ASSIGN_OR_RETURN(const PixelElement element, ReadPixelElement(part10.substr(pixel_tail), xfer_info));
    CALIPER_RETURN_IF_ERROR(
        CheckPixelGeometry(geometry, xfer_info.isEncapsulated(), element.length));
  } else if (pixels != nullptr) {
    CALIPER_RETURN_IF_ERROR(
        CheckPixelGeometry(geometry, xfer_info.isEncapsulated(), pixels->getLength()));
  }

  // Cohort metadata and burned-in risk, read before anything is removed.
  CohortMetadata& c = result.cohort;
  c.modality = Get(index, DCM_Modality);
  c.sex = Get(index, DCM_PatientSex);
  if (c.sex != "F" && c.sex != "M" && c.sex != "O") c.sex.clear();
  int age = AgeFromString(Get(index, DCM_PatientAge));
  std::string on = Get(index, DCM_AcquisitionDate);
  if (on.empty()) on = Get(index, DCM_AcquisitionDateTime).substr(0, 8);
  if (on.empty()) on = Get(index, DCM_SeriesDate);
  if (on.empty()) on = Get(index, DCM_StudyDate);
  if (on.empty()) on = Get(index, DCM_ContentDate);
  if (age < 0) age = AgeFromDates(Get(index, DCM_PatientBirthDate), on);
  c.age_band = AgeBand(age);
  c.manufacturer = Get(index, DCM_Manufacturer);
  c.model = Get(index, DCM_ManufacturerModelName);
  c.field_strength = Get(index, DCM_MagneticFieldStrength);
  c.slice_thickness = Get(index, DCM_SliceThickness);
  c.kvp = Get(index, DCM_KVP);
  c.body_part = Get(index, DCM_BodyPartExamined);
  if (on.size() >= 4 && AllDigits(on.substr(0, 4))) c.acquisition_year = on.substr(0, 4);

  Engine engine(o, impl_->hash);
  const std::string institution = Upper(Get(index, DCM_InstitutionName));
  if (!institution.empty()) {
    const auto digest = engine.Hash("site", institution);
    c.site = "site-" + Base32(digest.data(), 8);
  }

  if (Upper(Get(index, DCM_BurnedInAnnotation)) == "YES") {
    result.burned_in_reasons.push_back("Burned In Annotation = YES");
  }
  if (Upper(Get(index, DCM_RecognizableVisualFeatures)) == "YES") {
    result.burned_in_reasons.push_back("Recognizable Visual Features = YES");
  }
  for (const RiskyClass& r : kRiskyClasses) {
    if (result.sop_class_uid == r.uid) result.burned_in_reasons.push_back(std::string("SOP class ") + r.reason);
  }
  for (const char* m : kRiskyModalities) {
    if (Upper(c.modality) == m) result.burned_in_reasons.push_back("modality " + c.modality);
  }
  result.burned_in_risk = !result.burned_in_reasons.empty();

  // The patient: pseudonym and date offset keyed on the original Patient ID (with its
  // issuer); without one, on the study, so unknown patients are not merged into one.
  PatientLink& link = result.patient;
  link.original_patient_id = Get(index, DCM_PatientID);
  link.original_issuer = Get(index, DCM_IssuerOfPatientID);
  link.original_name = Get(index, DCM_PatientName);
  link.original_study_uid = Get(index, DCM_StudyInstanceUID);
  std::string patient_key = "id:" + link.original_issuer + "\x1f" + link.original_patient_id;
  if (link.original_patient_id.empty()) {
    std::string study = Get(index, DCM_StudyInstanceUID);
    if (study.empty()) study = Get(meta, DCM_MediaStorageSOPInstanceUID);
    patient_key = "study:" + study;
  }
  const auto patient_digest = engine.Hash("patient", patient_key);
  link.pseudonymous_id = "PSN-" + Base32(patient_digest.data(), 16);
  const auto offset_digest = engine.Hash("date-offset", patient_key);
  const std::uint32_t r = (std::uint32_t{offset_digest[0]} << 24) | (std::uint32_t{offset_digest[1]} << 16) |
                          (std::uint32_t{offset_digest[2]} << 8) | offset_digest[3];
  link.date_offset_days = -static_cast<int>(1 + r % 3650);

  Context ctx{link.pseudonymous_id, link.date_offset_days, {}, {}};
  engine.CollectIdentifyingWords(ds, ctx);
  if (!link.original_name.empty()) ctx.identifying_words.Add(link.original_name, 2);
  c.series_description =
      Engine::CleanText(Get(index, DCM_SeriesDescription), ctx.identifying_words);
  c.protocol = Engine::CleanText(Get(index, DCM_ProtocolName), ctx.identifying_words);
  // Ethnic Group is removed by the profile, so its own words count as identifying: not cleaned
  // against them, only upper-cased (a short code string, at most 16 characters).
  c.ethnicity = Upper(Get(index, DCM_EthnicGroup));

  // Blanking, before the headers change (the rule matches on device attributes). Native pixel
  // data kept as it came is blanked as it is copied (CopyBlanked, below); compressed pixel data
  // must be decoded, so the file is then parsed whole.
  const BlankingRule* rule = FindBlankingRule(o, c);
  if (rule != nullptr && tail && xfer_info.isEncapsulated()) return Run(part10, /*keep_pixel_bytes=*/false, file_out);
  if (rule != nullptr && tail) {
    const int met = RectsInImage(geometry, rule->rects);
    if (met > 0) CALIPER_RETURN_IF_ERROR(CheckBlankable(geometry));
    ctx.actions.pixels_blanked = met * geometry.frames;
  } else if (rule != nullptr && pixels != nullptr) {
    CALIPER_ASSIGN_OR_RETURN(ctx.actions.pixels_blanked,
                             BlankPixels(ds, rule->rects, xfer, ctx.actions.pixels_decompressed_from));
    result.transfer_syntax_uid = DcmXfer(xfer).getXferID();
  }
  const bool blanked = rule != nullptr && ctx.actions.pixels_blanked > 0;
  const bool copy_blanked = tail && blanked;
  result.quarantine = result.burned_in_risk && !blanked;

  engine.Process(ds, ctx, /*top_level=*/true);

  // What was done, in the instance (PS3.15 E.1.1 and CID 7050).
  ds.putAndInsertString(DCM_PatientIdentityRemoved, "YES");
  std::string method = std::string(kDeidentifierName) + "\\" + profile::Edition() + "\\Basic Profile";
  if (o.retain_modified_dates) method += "\\Modified Dates";
  if (o.retain_patient_characteristics) method += "\\Patient Characteristics";
  if (o.retain_device_identity) method += "\\Device Identity";
  if (o.clean_descriptors) method += "\\Clean Descriptors";
  if (o.retain_safe_private) method += "\\Safe Private";
  if (blanked) method += "\\Clean Pixel Data (rectangles)";
  ds.putAndInsertString(DCM_DeidentificationMethod, method.c_str());
  delete ds.remove(DCM_DeidentificationMethodCodeSequence);
  AddCode(ds, kBasicProfile);
  if (blanked) AddCode(ds, kCleanPixelData);
  if (o.clean_descriptors) AddCode(ds, kCleanDescriptors);
  if (o.retain_modified_dates) AddCode(ds, kModifiedDates);
  if (o.retain_patient_characteristics) AddCode(ds, kPatientCharacteristics);
  if (o.retain_device_identity) AddCode(ds, kDeviceIdentity);
  if (o.retain_safe_private) AddCode(ds, kSafePrivate);
  ds.putAndInsertString(DCM_LongitudinalTemporalInformationModified,
                        o.retain_modified_dates ? "MODIFIED" : "REMOVED");

  result.study_uid = Get(ds, DCM_StudyInstanceUID);
  result.series_uid = Get(ds, DCM_SeriesInstanceUID);
  result.sop_instance_uid = Get(ds, DCM_SOPInstanceUID);
  if (result.sop_instance_uid.empty()) {
    const std::string original = Get(meta, DCM_MediaStorageSOPInstanceUID);
    if (!original.empty()) result.sop_instance_uid = engine.Uid(original);
  }
  result.actions = ctx.actions;
  // The meta header is written anew from the dataset (no source AE title, no private info).
  // No further copy of the whole file is made: it goes to the output file chunk by chunk, or
  // into a string allocated once for it (decoded pixel data included).
  if (file_out != nullptr) {
    file_out->pixel_tail = copy_blanked ? ElementLayout::kNone : pixel_tail;
    const auto write = [fd = file_out->fd](std::string_view chunk) { return WriteAll(fd, chunk); };
    CALIPER_RETURN_IF_ERROR(Serialize(file, xfer, EGL_noChange, write));
    if (copy_blanked) {
      CALIPER_RETURN_IF_ERROR(CopyBlanked(part10.substr(pixel_tail), xfer_info, geometry, rule->rects, write));
    }
    return result;
  }
  const bool decoded = !ctx.actions.pixels_decompressed_from.empty();
  CALIPER_ASSIGN_OR_RETURN(result.bytes, Serialize(file, xfer, EGL_noChange,
                                                   OutputSizeHint(ds, part10.size(), decoded)));
  if (copy_blanked) {
    CALIPER_RETURN_IF_ERROR(
        CopyBlanked(part10.substr(pixel_tail), xfer_info, geometry, rule->rects, AppendTo(result.bytes)));
  } else if (tail) {
    result.bytes.append(part10.substr(pixel_tail));
  }
  return result;
}

}  // namespace caliper::dicom

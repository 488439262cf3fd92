#include "deid/text/labels.h"

#include <unordered_map>

#include "deid/text/string_table.h"

namespace caliper::deid::text {
namespace {

bool IsWordByte(char c) {  // \w in a regex without Unicode: ASCII letters, digits and '_'
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}
bool IsRegexSpace(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }  // \s: \t \n \v \f \r and ' '
char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
bool IsLetter(char c) { return Lower(c) >= 'a' && Lower(c) <= 'z'; }

std::string_view Head(std::string_view phrase) {
  std::size_t i = 0;
  while (i < phrase.size() && IsLetter(phrase[i])) ++i;
  return phrase.substr(0, i);
}

// Whether the rest of a phrase after its head, `tail`, matches at s[i]; sets `end` past it.
bool MatchTail(std::string_view s, std::size_t i, std::string_view tail, std::size_t& end) {
  for (const char c : tail) {
    if (c == ' ') {
      if (i == s.size() || !IsRegexSpace(s[i])) return false;
      while (i < s.size() && IsRegexSpace(s[i])) ++i;
    } else if (i == s.size() || Lower(s[i]) != c) {
      return false;
    } else {
      ++i;
    }
  }
  end = i;
  return true;
}

// Per head, the phrases it starts.
const StringTable<std::vector<const LabelPhrase*>>& ByHead() {
  static const StringTable<std::vector<const LabelPhrase*>> kTable = [] {
    std::unordered_map<std::string_view, std::vector<const LabelPhrase*>> t;
    for (const LabelPhrase& p : LabelPhrases()) t[Head(p.text)].push_back(&p);
    return StringTable<std::vector<const LabelPhrase*>>({t.begin(), t.end()});
  }();
  return kTable;
}

}  // namespace

const std::vector<LabelPhrase>& LabelPhrases() {
  using T = PhiType;
  static const std::vector<LabelPhrase> kPhrases = {
      {"mrn", T::kMrn}, {"mr no", T::kMrn}, {"mrno", T::kMrn}, {"mr#", T::kMrn},
      {"medical record", T::kMrn}, {"medical record number", T::kMrn}, {"medical record no", T::kMrn},
      {"medical record num", T::kMrn}, {"med rec", T::kMrn}, {"chart number", T::kMrn}, {"chart no", T::kMrn},
      {"patient id", T::kMrn}, {"pt id", T::kMrn}, {"hosp number", T::kMrn}, {"hosp no", T::kMrn},
      {"hospital number", T::kMrn}, {"hospital no", T::kMrn}, {"unit number", T::kMrn}, {"unit no", T::kMrn},
      {"account", T::kAccount}, {"acct", T::kAccount}, {"billing number", T::kAccount},
      {"billing no", T::kAccount},
      {"license", T::kLicense}, {"licence", T::kLicense}, {"lic", T::kLicense}, {"dl", T::kLicense},
      {"dea", T::kLicense}, {"npi", T::kLicense}, {"certificate", T::kLicense}, {"cert", T::kLicense},
      {"plate", T::kVehicle}, {"vin", T::kVehicle}, {"vehicle", T::kVehicle},
      {"serial", T::kDevice}, {"s/n", T::kDevice}, {"sn", T::kDevice}, {"device id", T::kDevice},
      {"udi", T::kDevice}, {"implant id", T::kDevice}, {"lot", T::kDevice},
      {"member", T::kId}, {"member id", T::kId}, {"policy", T::kId}, {"policy number", T::kId},
      {"policy no", T::kId}, {"group number", T::kId}, {"group no", T::kId}, {"insurance id", T::kId},
      {"subscriber", T::kId}, {"subscriber id", T::kId}, {"beneficiary", T::kId}, {"medicaid", T::kId},
      {"medicare", T::kId}, {"health plan", T::kId}, {"accession", T::kId}, {"accession number", T::kId},
      {"accession no", T::kId}, {"specimen", T::kId}, {"specimen id", T::kId}, {"encounter", T::kId},
      {"encounter id", T::kId}, {"visit id", T::kId}, {"case number", T::kId}, {"case no", T::kId},
      {"order number", T::kId}, {"order no", T::kId}, {"claim", T::kId}, {"claim number", T::kId},
      {"claim no", T::kId}, {"nhs", T::kId}, {"nhs number", T::kId}, {"nhs no", T::kId},
      {"ssn", T::kSsn}, {"social security", T::kSsn}, {"social security number", T::kSsn},
      {"social security no", T::kSsn}, {"ss#", T::kSsn},
      {"phone", T::kPhone}, {"ph", T::kPhone}, {"tel", T::kPhone}, {"telephone", T::kPhone}, {"cell", T::kPhone},
      {"mobile", T::kPhone}, {"pager", T::kPhone}, {"beeper", T::kPhone}, {"contact", T::kPhone},
      {"call", T::kPhone}, {"callback", T::kPhone}, {"call back", T::kPhone}, {"reached at", T::kPhone},
      {"fax", T::kFax}, {"faxed", T::kFax}, {"facsimile", T::kFax},
      {"zip", T::kZip}, {"zip code", T::kZip}, {"postal code", T::kZip}, {"postcode", T::kZip},
      {"post code", T::kZip},
      // Accounts and handles: Safe Harbor's "any other unique identifying number, characteristic,
      // or code" (45 CFR 164.514(b)(2)(i)(R)).
      {"username", T::kId}, {"user name", T::kId}, {"user id", T::kId}, {"userid", T::kId},
      {"login id", T::kId}, {"login name", T::kId}, {"portal id", T::kId}, {"mychart id", T::kId},
      {"screen name", T::kId},
      // A handle after its network's name ("twitter @jdoe1951"; not "twitter 3x/day").
      {"twitter @", T::kId}, {"twitter: @", T::kId}, {"instagram @", T::kId}, {"instagram: @", T::kId},
      {"tiktok @", T::kId}, {"tiktok: @", T::kId}, {"snapchat @", T::kId}, {"snapchat: @", T::kId},
  };
  return kPhrases;
}

std::vector<std::string_view> LabelHeads() {
  std::vector<std::string_view> heads;
  for (const LabelPhrase& p : LabelPhrases()) heads.push_back(Head(p.text));
  return heads;
}

void MatchLabels(std::string_view s, std::size_t begin, std::size_t end, std::string_view head,
                 std::vector<LabelEnd>& out) {
  if (begin > 0 && IsWordByte(s[begin - 1])) return;
  const auto* phrases = ByHead().Find(head);
  if (phrases == nullptr) return;
  for (const LabelPhrase* p : *phrases) {
    std::size_t e = 0;
    if (!MatchTail(s, end, p->text.substr(head.size()), e)) continue;
    if (IsLetter(p->text.back()) && e < s.size() && IsWordByte(s[e])) continue;
    out.push_back({e, p->type});
  }
}

}  // namespace caliper::deid::text

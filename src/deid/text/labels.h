#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "caliper/deid/text_deid.h"

// Labels that type the identifier after them ("MRN", "fax", "serial no"). They are found from
// the words of the text rather than by the Hyperscan scan: as short caseless literals that
// English is full of ("ph", "sn", "call", "order"), they took a fifth of that scan's
// instructions, while the word pass looks up every word anyway (docs/deid-text.md).
namespace caliper::deid::text {

// A label phrase: ASCII letters, ' ' for one or more whitespace bytes ([\t\n\v\f\r ]), and other
// bytes taken literally ('#', '/'). It matches, ignoring the case of letters, where a word
// boundary comes before it (the byte before is no ASCII letter, digit or '_'), and when it ends
// in a letter, also one after it: the regex \b(?:phrase)\b with ' ' read as \s+.
struct LabelPhrase {
  std::string_view text;
  PhiType type;
};
const std::vector<LabelPhrase>& LabelPhrases();

// The heads of the phrases: each one's first run of letters ("medical" in "medical record").
std::vector<std::string_view> LabelHeads();

struct LabelEnd {
  std::size_t end;  // byte just past the phrase
  PhiType type;
};

// Appends the ends of the phrases that match at s[begin], where s[begin, end) is a whole run of
// ASCII letters (the bytes around it are no ASCII letters), `head` its lower-case form and one of
// LabelHeads(). Checks the word boundary before `begin` itself.
void MatchLabels(std::string_view s, std::size_t begin, std::size_t end, std::string_view head,
                 std::vector<LabelEnd>& out);

}  // namespace caliper::deid::text

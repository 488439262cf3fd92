#include "deid/text/lexicon.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <unordered_map>

namespace caliper::deid::text {
namespace {

template <typename F>
void ForEachLine(std::string_view text, F&& f) {
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    const std::string_view line = text.substr(0, nl);
    if (!line.empty()) f(line);
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
}

// Reads "name\tpercent" lines into `field` of each name's entry (a repeated name keeps the
// last percent).
void LoadNames(std::string_view text, std::unordered_map<std::string_view, Lexicon::Entry>& entries,
               double Lexicon::Entry::*field) {
  ForEachLine(text, [&](std::string_view line) {
    const std::size_t tab = line.find('\t');
    const std::string number(line.substr(tab + 1));
    entries[line.substr(0, tab)].*field = std::strtod(number.c_str(), nullptr);
  });
}

std::string TitleCase(std::string_view lower) {
  std::string out(lower);
  bool start = true;
  for (char& c : out) {
    if (start && c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    start = c == ' ' || c == '-' || c == '\'';
  }
  return out;
}

// Surrogates are drawn from the commoner names (>= 0.01 %), so they look ordinary.
std::vector<std::string> Pool(const std::unordered_map<std::string_view, Lexicon::Entry>& entries,
                              double Lexicon::Entry::*field) {
  std::vector<std::string> out;
  for (const auto& [name, entry] : entries) {
    if (entry.*field >= 0.01) out.push_back(TitleCase(name));
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

const Lexicon& Lexicon::Get() {
  static const Lexicon kLexicon;
  return kLexicon;
}

Lexicon::Lexicon() {
  const PackagedLexiconData& d = PackagedLexicon();
  std::unordered_map<std::string_view, Entry> entries;
  LoadNames(d.first_names, entries, &Entry::first);
  LoadNames(d.surnames, entries, &Entry::last);
  ForEachLine(d.common_words, [&](std::string_view w) { entries[w].common = true; });
  ForEachLine(d.states, [&](std::string_view w) { entries[w].state = true; });
  ForEachLine(d.zips, [&](std::string_view w) { zips_.insert(w); });
  ForEachLine(d.countries, [&](std::string_view w) { entries[w].country = true; });
  ForEachLine(d.cities, [&](std::string_view w) {
    entries[w].city = true;
    entries[w.substr(0, w.find(' '))].city_start = true;
    max_city_words_ = std::max<std::size_t>(max_city_words_, 1 + std::count(w.begin(), w.end(), ' '));
  });
  // Surrogate cities: one-word city names that are not common words, in list order.
  ForEachLine(d.cities, [&](std::string_view w) {
    if (w.find(' ') == std::string_view::npos && !entries[w].common) city_pool_.push_back(TitleCase(w));
  });
  first_pool_ = Pool(entries, &Entry::first);
  surname_pool_ = Pool(entries, &Entry::last);
  table_ = StringTable<Entry>({entries.begin(), entries.end()});
}

double Lexicon::FirstName(std::string_view lower) const {
  const Entry* e = Find(lower);
  return e == nullptr ? 0.0 : e->first;
}

double Lexicon::Surname(std::string_view lower) const {
  const Entry* e = Find(lower);
  return e == nullptr ? 0.0 : e->last;
}

}  // namespace caliper::deid::text

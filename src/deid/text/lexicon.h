#pragma once

#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "deid/text/string_table.h"

// The de-identifier's dictionaries, generated at build time from packaged data by
// tools/gen_deid_lexicon.py (docs/adr/0005): never typed by hand.
namespace caliper::deid::text {

// Newline-separated lists, lower case. Names carry "\t<percent of the population>".
struct PackagedLexiconData {
  std::string_view first_names;  // US Census 1990, male and female first names
  std::string_view surnames;     // US Census 1990, top surnames
  std::string_view common_words; // wamerican entries that start in lower case
  std::string_view cities;       // US city names of the zipcodes package
  std::string_view states;       // US state names and two-letter abbreviations
  std::string_view zips;         // US five-digit ZIP codes
  std::string_view countries;    // ISO 3166-1 country names (Debian iso-codes)
  std::string_view edition;      // where each list came from, with checksums
};
const PackagedLexiconData& PackagedLexicon();  // generated source

// Lookup tables built once from PackagedLexicon(). Immutable after construction, so
// thread-safe. Keys are lower-case ASCII or UTF-8 as given.
class Lexicon {
 public:
  static const Lexicon& Get();

  // Everything the lists say about one word (or multi-word city or state name), found with
  // one lookup: the detector asks this for every word of a text.
  struct Entry {
    double first = 0;         // percent of the population with this first name; 0 = not listed
    double last = 0;          // the same for surnames
    bool common = false;      // a common English word
    bool city = false;        // a US city name (possibly several words)
    bool city_start = false;  // the first word of some city name
    bool state = false;       // a US state name or abbreviation
    bool country = false;     // a country name ("canada", also a US town): no place under Safe Harbor
  };
  // nullptr when the word is in no list. `hash` is HashWord(lower).
  const Entry* Find(std::string_view lower) const { return table_.Find(lower); }
  const Entry* Find(std::string_view lower, std::uint64_t hash) const { return table_.Find(lower, hash); }
  // Start loading what Find(word with this hash) reads, for a caller that looks words up in
  // order: Prefetch some words ahead, PrefetchItem nearer.
  void Prefetch(std::uint64_t hash) const { table_.Prefetch(hash); }
  void PrefetchItem(std::uint64_t hash) const { table_.PrefetchItem(hash); }

  // Percent of the population with this first name / surname; 0 when not listed.
  double FirstName(std::string_view lower) const;
  double Surname(std::string_view lower) const;
  bool CommonWord(std::string_view lower) const { return Has(lower, &Entry::common); }
  bool City(std::string_view lower) const { return Has(lower, &Entry::city); }
  bool State(std::string_view lower) const { return Has(lower, &Entry::state); }
  bool Country(std::string_view lower) const { return Has(lower, &Entry::country); }
  bool Zip(std::string_view digits) const { return zips_.count(digits) > 0; }
  std::size_t max_city_words() const { return max_city_words_; }

  // Surrogate pools, in a fixed order (title case).
  const std::vector<std::string>& first_name_pool() const { return first_pool_; }
  const std::vector<std::string>& surname_pool() const { return surname_pool_; }
  const std::vector<std::string>& city_pool() const { return city_pool_; }

 private:
  Lexicon();
  bool Has(std::string_view lower, bool Entry::*flag) const {
    const Entry* e = Find(lower);
    return e != nullptr && e->*flag;
  }
  StringTable<Entry> table_;
  std::unordered_set<std::string_view> zips_;
  std::size_t max_city_words_ = 1;
  std::vector<std::string> first_pool_, surname_pool_, city_pool_;
};

}  // namespace caliper::deid::text

#pragma once

#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

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
  std::string_view edition;      // where each list came from, with checksums
};
const PackagedLexiconData& PackagedLexicon();  // generated source

// Lookup tables built once from PackagedLexicon(). Immutable after construction, so
// thread-safe. Keys are lower-case ASCII or UTF-8 as given.
class Lexicon {
 public:
  static const Lexicon& Get();

  // Percent of the population with this first name / surname; 0 when not listed.
  double FirstName(std::string_view lower) const;
  double Surname(std::string_view lower) const;
  bool CommonWord(std::string_view lower) const { return common_.count(lower) > 0; }
  bool City(std::string_view lower) const { return cities_.count(lower) > 0; }
  bool State(std::string_view lower) const { return states_.count(lower) > 0; }
  bool Zip(std::string_view digits) const { return zips_.count(digits) > 0; }
  std::size_t max_city_words() const { return max_city_words_; }

  // Surrogate pools, in a fixed order (title case).
  const std::vector<std::string>& first_name_pool() const { return first_pool_; }
  const std::vector<std::string>& surname_pool() const { return surname_pool_; }
  const std::vector<std::string>& city_pool() const { return city_pool_; }

 private:
  Lexicon();
  std::unordered_map<std::string_view, double> first_, last_;
  std::unordered_set<std::string_view> common_, cities_, states_, zips_;
  std::size_t max_city_words_ = 1;
  std::vector<std::string> first_pool_, surname_pool_, city_pool_;
};

}  // namespace caliper::deid::text

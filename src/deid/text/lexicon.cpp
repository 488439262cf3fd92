#include "deid/text/lexicon.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>

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

void LoadNames(std::string_view text, std::unordered_map<std::string_view, double>& out) {
  ForEachLine(text, [&](std::string_view line) {
    const std::size_t tab = line.find('\t');
    const std::string number(line.substr(tab + 1));
    out[line.substr(0, tab)] = std::strtod(number.c_str(), nullptr);
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
std::vector<std::string> Pool(const std::unordered_map<std::string_view, double>& names) {
  std::vector<std::string> out;
  for (const auto& [name, percent] : names) {
    if (percent >= 0.01) out.push_back(TitleCase(name));
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
  LoadNames(d.first_names, first_);
  LoadNames(d.surnames, last_);
  ForEachLine(d.common_words, [&](std::string_view w) { common_.insert(w); });
  ForEachLine(d.states, [&](std::string_view w) { states_.insert(w); });
  ForEachLine(d.zips, [&](std::string_view w) { zips_.insert(w); });
  ForEachLine(d.cities, [&](std::string_view w) {
    cities_.insert(w);
    max_city_words_ = std::max<std::size_t>(max_city_words_, 1 + std::count(w.begin(), w.end(), ' '));
    if (w.find(' ') == std::string_view::npos && !common_.count(w)) city_pool_.push_back(TitleCase(w));
  });
  first_pool_ = Pool(first_);
  surname_pool_ = Pool(last_);
}

double Lexicon::FirstName(std::string_view lower) const {
  const auto it = first_.find(lower);
  return it == first_.end() ? 0.0 : it->second;
}

double Lexicon::Surname(std::string_view lower) const {
  const auto it = last_.find(lower);
  return it == last_.end() ? 0.0 : it->second;
}

}  // namespace caliper::deid::text

#include "caliper/prelabel/context.h"

#include <algorithm>
#include <array>
#include <map>
#include <optional>
#include <string>
#include <utility>

#include "prelabel/context_rules_text.h"

namespace caliper::prelabel {
namespace {

using core::Assertion;

// ConText's trigger categories (Harkema et al. 2009, Table 1) as named in context_rules.tsv.
enum class Category {
  kNegated,
  kPossible,
  kHistorical,
  kHypothetical,
  kFamily,
  kPseudo,
  kTerminate
};
enum class Direction { kForward, kBackward, kBidirectional, kNone };

struct Token {
  std::size_t begin = 0;  // bytes
  std::size_t end = 0;
  std::string norm;       // ASCII letters lower-cased
  bool word = false;      // letters/digits (or any non-ASCII); else one punctuation character
  bool boundary = false;  // ends a sentence ('.', '!', '?', ';' or a blank line before it)
};

bool IsWordByte(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80;
}
bool IsSpace(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// Words are maximal runs of word bytes; every other non-space byte is a token of its own. A
// sentence ends at '.', '!', '?' or ';' (not a '.' between digits) and before a blank line.
std::vector<Token> Tokenize(std::string_view s) {
  std::vector<Token> tokens;
  std::size_t i = 0;
  int newlines = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (IsSpace(c) || c < 0x20 || c == 0x7F) {
      if (c == '\n') ++newlines;
      ++i;
      continue;
    }
    if (newlines >= 2 && !tokens.empty()) tokens.back().boundary = true;
    newlines = 0;
    Token t;
    t.begin = i;
    if (IsWordByte(c)) {
      while (i < s.size() && IsWordByte(static_cast<unsigned char>(s[i]))) ++i;
      t.word = true;
    } else {
      ++i;
      const bool decimal_point =
          c == '.' && t.begin > 0 && IsDigit(s[t.begin - 1]) && i < s.size() && IsDigit(s[i]);
      t.boundary = (c == '.' && !decimal_point) || c == '!' || c == '?' || c == ';';
    }
    t.end = i;
    t.norm = Lower(s.substr(t.begin, t.end - t.begin));
    tokens.push_back(std::move(t));
  }
  return tokens;
}

std::vector<std::string> PhraseTokens(std::string_view phrase) {
  std::vector<std::string> out;
  for (Token& t : Tokenize(phrase)) out.push_back(std::move(t.norm));
  return out;
}

// A phrase dictionary keyed by first token; at each position the longest phrase wins.
template <typename Value>
class PhraseMatcher {
 public:
  void Add(std::vector<std::string> tokens, Value value) {
    auto& list = by_first_[tokens.front()];
    list.emplace_back(std::move(tokens), std::move(value));
    std::stable_sort(list.begin(), list.end(),
                     [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
  }
  // The longest phrase starting at token `i`: its length in tokens and value.
  std::optional<std::pair<std::size_t, const Value*>> Longest(const std::vector<Token>& tokens,
                                                              std::size_t i) const {
    auto it = by_first_.find(tokens[i].norm);
    if (it == by_first_.end()) return std::nullopt;
    for (const auto& [phrase, value] : it->second) {
      if (i + phrase.size() > tokens.size()) continue;
      bool match = true;
      for (std::size_t k = 1; k < phrase.size() && match; ++k) {
        match = tokens[i + k].norm == phrase[k];
      }
      if (match) return std::make_pair(phrase.size(), &value);
    }
    return std::nullopt;
  }

 private:
  std::map<std::string, std::vector<std::pair<std::vector<std::string>, Value>>, std::less<>>
      by_first_;
};

struct Rule {
  Category category = Category::kPseudo;
  Direction direction = Direction::kNone;
};

std::optional<Category> ParseCategory(std::string_view s) {
  static constexpr std::array<std::pair<std::string_view, Category>, 7> kNames{{
      {"NEGATED_EXISTENCE", Category::kNegated},
      {"POSSIBLE_EXISTENCE", Category::kPossible},
      {"HISTORICAL", Category::kHistorical},
      {"HYPOTHETICAL", Category::kHypothetical},
      {"FAMILY", Category::kFamily},
      {"PSEUDO", Category::kPseudo},
      {"TERMINATE", Category::kTerminate},
  }};
  for (const auto& [name, c] : kNames) {
    if (name == s) return c;
  }
  return std::nullopt;
}

std::optional<Direction> ParseDirection(std::string_view s) {
  if (s == "forward") return Direction::kForward;
  if (s == "backward") return Direction::kBackward;
  if (s == "bidirectional") return Direction::kBidirectional;
  if (s == "-") return Direction::kNone;
  return std::nullopt;
}

// The compiled-in rule file; a malformed line is a build defect, caught by the tests.
Result<PhraseMatcher<Rule>> LoadRules() {
  PhraseMatcher<Rule> rules;
  std::string_view rest = kContextRulesTsv;
  int line_no = 0;
  while (!rest.empty()) {
    ++line_no;
    const std::size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
    if (line.empty() || line.front() == '#') continue;
    const std::size_t t1 = line.find('\t');
    const std::size_t t2 = t1 == std::string_view::npos ? t1 : line.find('\t', t1 + 1);
    if (t2 == std::string_view::npos) {
      return Error(ErrorCode::kInternal, "context_rules.tsv line " + std::to_string(line_no) +
                                             ": expected phrase, category, direction");
    }
    auto category = ParseCategory(line.substr(t1 + 1, t2 - t1 - 1));
    auto direction = ParseDirection(line.substr(t2 + 1));
    auto tokens = PhraseTokens(line.substr(0, t1));
    if (!category || !direction || tokens.empty()) {
      return Error(ErrorCode::kInternal,
                   "context_rules.tsv line " + std::to_string(line_no) + ": bad rule");
    }
    rules.Add(std::move(tokens), Rule{*category, *direction});
  }
  return rules;
}

// RFC 3629 well-formedness; the byte offset of the first bad sequence, if any.
std::optional<std::size_t> FirstInvalidUtf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t len = 0;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c < 0x80)
      len = 1;
    else if (c >= 0xC2 && c <= 0xDF)
      len = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      return i;
    }
    if (i + len > s.size()) return i;
    for (std::size_t k = 1; k < len; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xBF)) return i;
    }
    i += len;
  }
  return std::nullopt;
}

struct Trigger {
  Rule rule;
  std::size_t begin = 0;  // tokens
  std::size_t end = 0;
};

class ContextLabellerImpl final : public ContextLabeller {
 public:
  ContextLabellerImpl(PhraseMatcher<Rule> rules, PhraseMatcher<std::string> concepts,
                      ContextOptions options)
      : rules_(std::move(rules)), concepts_(std::move(concepts)), options_(options) {}

  Result<std::vector<PreLabel>> Label(std::string_view text) const override {
    if (auto bad = FirstInvalidUtf8(text)) {
      return Error(ErrorCode::kInvalidArgument,
                   "text is not valid UTF-8 at byte " + std::to_string(*bad));
    }
    const std::vector<Token> tokens = Tokenize(text);
    std::vector<Trigger> triggers;
    for (std::size_t i = 0; i < tokens.size();) {
      auto m = rules_.Longest(tokens, i);
      if (!m) {
        ++i;
        continue;
      }
      triggers.push_back(Trigger{*m->second, i, i + m->first});
      i += m->first;
    }
    std::vector<PreLabel> out;
    std::size_t cp = 0, cp_byte = 0;  // code points before byte cp_byte
    auto to_cp = [&](std::size_t byte) {
      for (; cp_byte < byte; ++cp_byte) {
        if ((static_cast<unsigned char>(text[cp_byte]) & 0xC0) != 0x80) ++cp;
      }
      return cp;
    };
    for (std::size_t i = 0; i < tokens.size();) {
      auto m = concepts_.Longest(tokens, i);
      if (!m) {
        ++i;
        continue;
      }
      PreLabel label = Assess(tokens, triggers, i, i + m->first);
      label.label_class = *m->second;
      label.start = to_cp(tokens[i].begin);
      label.end = to_cp(tokens[i + m->first - 1].end);
      out.push_back(std::move(label));
      i += m->first;
    }
    return out;
  }

 private:
  // One past the last token of trigger `t`'s forward scope.
  std::size_t ForwardLimit(const std::vector<Token>& tokens, const std::vector<Trigger>& triggers,
                           const Trigger& t) const {
    if (t.end > 0 && tokens[t.end - 1].boundary) return t.end;
    std::size_t words = 0;
    for (std::size_t k = t.end; k < tokens.size(); ++k) {
      if (IsTermination(triggers, k)) return k;
      if (tokens[k].word && ++words > options_.max_scope_tokens) return k;
      if (tokens[k].boundary) return tokens[k].word ? k + 1 : k;
    }
    return tokens.size();
  }
  // First token index of a backward scope.
  std::size_t BackwardLimit(const std::vector<Token>& tokens, const std::vector<Trigger>& triggers,
                            const Trigger& t) const {
    std::size_t words = 0;
    for (std::size_t k = t.begin; k > 0; --k) {
      const std::size_t j = k - 1;
      if (tokens[j].boundary || IsTermination(triggers, j)) return k;
      if (tokens[j].word && ++words > options_.max_scope_tokens) return k;
    }
    return 0;
  }
  static bool IsTermination(const std::vector<Trigger>& triggers, std::size_t token) {
    auto it = std::upper_bound(triggers.begin(), triggers.end(), token,
                               [](std::size_t k, const Trigger& t) { return k < t.begin; });
    if (it == triggers.begin()) return false;
    --it;
    return token < it->end && it->rule.category == Category::kTerminate;
  }

  // Applies every trigger whose scope holds the concept [begin, end) (tokens). Among the
  // assertion triggers (negated, possible, hypothetical) the nearest wins.
  PreLabel Assess(const std::vector<Token>& tokens, const std::vector<Trigger>& triggers,
                  std::size_t begin, std::size_t end) const {
    PreLabel label;
    std::size_t nearest = tokens.size() + 1;
    for (const Trigger& t : triggers) {
      const Category c = t.rule.category;
      if (c == Category::kPseudo || c == Category::kTerminate) continue;
      const Direction d = t.rule.direction;
      std::size_t distance = 0;
      bool in_scope = false;
      if ((d == Direction::kForward || d == Direction::kBidirectional) && begin >= t.end &&
          begin < ForwardLimit(tokens, triggers, t)) {
        in_scope = true;
        distance = begin - t.end;
      } else if ((d == Direction::kBackward || d == Direction::kBidirectional) && end <= t.begin &&
                 begin >= BackwardLimit(tokens, triggers, t)) {
        in_scope = true;
        distance = t.begin - end;
      }
      if (!in_scope) continue;
      switch (c) {
        case Category::kHistorical:
          label.temporality = Temporality::kHistorical;
          break;
        case Category::kFamily:
          label.experiencer = Experiencer::kFamily;
          break;
        case Category::kNegated:
        case Category::kPossible:
        case Category::kHypothetical:
          if (distance < nearest) {
            nearest = distance;
            label.assertion = c == Category::kNegated    ? Assertion::kAbsent
                              : c == Category::kPossible ? Assertion::kPossible
                                                         : Assertion::kHypothetical;
          }
          break;
        case Category::kPseudo:
        case Category::kTerminate:
          break;
      }
    }
    return label;
  }

  PhraseMatcher<Rule> rules_;
  PhraseMatcher<std::string> concepts_;  // value: the class
  ContextOptions options_;
};

}  // namespace


Result<std::unique_ptr<ContextLabeller>> ContextLabeller::Create(std::vector<ConceptTerms> concepts,
                                                                 ContextOptions options) {
  auto rules = LoadRules();
  if (!rules.ok()) return rules.status();
  PhraseMatcher<std::string> matcher;
  for (ConceptTerms& c : concepts) {
    if (c.label_class.empty()) {
      return Error(ErrorCode::kInvalidArgument, "a concept class has no name");
    }
    for (const std::string& term : c.terms) {
      auto tokens = PhraseTokens(term);
      const bool has_word = std::any_of(tokens.begin(), tokens.end(), [](const std::string& t) {
        return IsWordByte(static_cast<unsigned char>(t.front()));
      });
      if (!has_word) {
        return Error(ErrorCode::kInvalidArgument,
                     "class " + c.label_class + ": term \"" + term + "\" has no word character");
      }
      matcher.Add(std::move(tokens), c.label_class);
    }
  }
  return std::unique_ptr<ContextLabeller>(
      std::make_unique<ContextLabellerImpl>(std::move(rules).value(), std::move(matcher), options));
}

}  // namespace caliper::prelabel

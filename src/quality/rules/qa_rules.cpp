#include "caliper/quality/qa_rules.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <map>
#include <set>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

namespace caliper::quality {
namespace {

std::string Join(const std::set<std::string>& values) {
  std::string out;
  for (const auto& v : values) {
    if (!out.empty()) out += ", ";
    out += v;
  }
  return out.empty() ? "(none)" : out;
}

std::string Percent(double share) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.1f%%", 100.0 * share);
  return buffer;
}

using LabelSet = std::set<std::string>;

// Labels grouped by reading (task), keeping the reading's item and reader.
struct Reading {
  std::string item;
  std::string reader;
  LabelSet classes;
};

void RepeatReads(const std::map<std::string, Reading>& readings, std::vector<QaFinding>& out) {
  // (item, reader) -> the distinct label sets of that reader's readings of the item.
  std::map<std::pair<std::string, std::string>, std::set<LabelSet>> sets;
  for (const auto& [task, reading] : readings) sets[{reading.item, reading.reader}].insert(reading.classes);
  for (const auto& [key, distinct] : sets) {
    if (distinct.size() < 2) continue;
    std::string seen;
    for (const auto& s : distinct) seen += (seen.empty() ? "{" : "; {") + Join(s) + "}";
    out.push_back({"consistency.repeat_read", QaSeverity::kWarning, key.first, "", "",
                   "reader " + key.second + " labelled this item differently on " +
                       std::to_string(distinct.size()) + " reads: " + seen,
                   "review the reads side by side; if the guideline is ambiguous here, add an "
                   "edge-case rule"});
  }
}

void SameContent(std::span<const QaItem> items, std::span<const QaLabel> labels,
                 std::vector<QaFinding>& out) {
  std::unordered_map<std::string, LabelSet> finals;
  for (const auto& l : labels) {
    if (l.final) finals[l.item].insert(l.label_class);
  }
  std::map<std::string, std::vector<const QaItem*>> by_digest;
  for (const auto& item : items) {
    if (!item.content_digest.empty() && finals.count(item.id)) by_digest[item.content_digest].push_back(&item);
  }
  for (const auto& [digest, group] : by_digest) {
    std::set<LabelSet> distinct;
    for (const auto* item : group) distinct.insert(finals[item->id]);
    if (distinct.size() < 2) continue;
    for (const auto* item : group) {
      std::string others;
      for (const auto* other : group) {
        if (other != item) others += (others.empty() ? "" : ", ") + other->id;
      }
      out.push_back({"consistency.same_content", QaSeverity::kError, item->id, "", "",
                     "final labels {" + Join(finals[item->id]) +
                         "} differ from those of items with identical content: " + others,
                     "adjudicate the identical items together so they carry one label"});
    }
  }
}

void Imbalance(std::span<const QaLabel> labels, const QaSettings& settings,
               std::vector<QaFinding>& out) {
  std::unordered_set<std::string> labelled_items;
  std::unordered_map<std::string, std::unordered_set<std::string>> items_per_class;
  for (const auto& l : labels) {
    labelled_items.insert(l.item);
    items_per_class[l.label_class].insert(l.item);
  }
  if (labelled_items.empty()) return;
  const double n = static_cast<double>(labelled_items.size());
  for (const auto& c : settings.schema_classes) {
    const auto count = static_cast<std::int64_t>(items_per_class[c].size());
    const double share = static_cast<double>(count) / n;
    if (share >= settings.min_class_share && count >= settings.min_class_items) continue;
    out.push_back({"imbalance.under_represented", QaSeverity::kInfo, "", c, "",
                   "class " + c + " is on " + std::to_string(count) + " of " +
                       std::to_string(labelled_items.size()) + " labelled items (" + Percent(share) +
                       "; thresholds " + Percent(settings.min_class_share) + " and " +
                       std::to_string(settings.min_class_items) + " items)",
                   "enrich the pool with likely cases (active learning order, targeted sampling) "
                   "or report the class as under-represented in the dataset card"});
  }
}

void MissingRequired(std::span<const QaItem> items, const std::map<std::string, Reading>& readings,
                     const QaSettings& settings, std::vector<QaFinding>& out) {
  std::unordered_set<std::string> finished;
  for (const auto& item : items) {
    if (item.reading_finished) finished.insert(item.id);
  }
  for (const auto& [task, reading] : readings) {
    if (!finished.count(reading.item)) continue;
    for (const auto& c : settings.required_classes) {
      if (reading.classes.count(c)) continue;
      out.push_back({"missing.required", QaSeverity::kError, reading.item, c, "",
                     "reading " + task + " by " + reading.reader + " has no label of required class " + c,
                     "reopen the task so the reader records " + c + " (or its absence)"});
    }
  }
}

void Duplicates(std::span<const QaLabel> labels, std::vector<QaFinding>& out) {
  std::map<std::tuple<std::string, std::string, std::string>, std::vector<const QaLabel*>> groups;
  for (const auto& l : labels) groups[{l.task, l.label_class, l.item}].push_back(&l);
  for (const auto& [key, group] : groups) {
    const auto& [task, label_class, item] = key;
    for (std::size_t i = 0; i < group.size(); ++i) {
      for (std::size_t j = i + 1; j < group.size(); ++j) {
        const QaLabel& a = *group[i];
        const QaLabel& b = *group[j];
        const bool spans = a.span_start >= 0 && b.span_start >= 0;
        if (spans && a.span_start < b.span_end && b.span_start < a.span_end &&
            !(a.span_start == b.span_start && a.span_end == b.span_end)) {
          out.push_back({"duplicate.overlapping_span", QaSeverity::kWarning, item, label_class,
                         b.annotation,
                         "spans [" + std::to_string(a.span_start) + ", " + std::to_string(a.span_end) +
                             ") and [" + std::to_string(b.span_start) + ", " +
                             std::to_string(b.span_end) + ") of class " + label_class +
                             " overlap in one reading (annotations " + a.annotation + ", " +
                             b.annotation + ")",
                         "merge the two spans or delete one"});
        } else if (a.evidence == b.evidence &&
                   (!spans || (a.span_start == b.span_start && a.span_end == b.span_end))) {
          out.push_back({"duplicate.label", QaSeverity::kWarning, item, label_class, b.annotation,
                         "class " + label_class + " is recorded twice on the same evidence in one "
                         "reading (annotations " + a.annotation + ", " + b.annotation + ")",
                         "delete the duplicate annotation " + b.annotation});
        }
      }
    }
  }
}

void Unresolved(std::span<const QaItem> items, std::span<const QaLabel> labels,
                const std::map<std::string, Reading>& readings, std::vector<QaFinding>& out) {
  std::unordered_set<std::string> resolved;
  for (const auto& item : items) {
    if (item.adjudicated) resolved.insert(item.id);
  }
  for (const auto& l : labels) {
    if (l.final) resolved.insert(l.item);
  }
  // item -> reader -> the label set of that reader's latest reading (by task id order).
  std::map<std::string, std::map<std::string, LabelSet>> per_item;
  for (const auto& [task, reading] : readings) per_item[reading.item][reading.reader] = reading.classes;
  for (const auto& [item, by_reader] : per_item) {
    if (resolved.count(item) || by_reader.size() < 2) continue;
    std::set<LabelSet> distinct;
    for (const auto& [reader, set] : by_reader) distinct.insert(set);
    if (distinct.size() < 2) continue;
    out.push_back({"disagreement.unresolved", QaSeverity::kError, item, "", "",
                   std::to_string(by_reader.size()) + " readers gave " +
                       std::to_string(distinct.size()) + " different label sets and the item has no "
                       "adjudicated label",
                   "send the item to adjudication"});
  }
}

void Outdated(std::span<const QaLabel> labels, const QaSettings& settings,
              std::vector<QaFinding>& out) {
  for (const auto& l : labels) {
    if (l.guideline_version >= settings.current_guideline_version) continue;
    auto changed = settings.changed_since.find(l.guideline_version);
    if (changed == settings.changed_since.end() ||
        std::find(changed->second.begin(), changed->second.end(), l.label_class) == changed->second.end()) {
      continue;
    }
    out.push_back({"guideline.outdated", QaSeverity::kWarning, l.item, l.label_class, l.annotation,
                   "made under guideline version " + std::to_string(l.guideline_version) +
                       "; class " + l.label_class + " changed by version " +
                       std::to_string(settings.current_guideline_version),
                   "create a re-annotation task for this item under the current version"});
  }
}

}  // namespace

std::string_view ToString(QaSeverity severity) {
  switch (severity) {
    case QaSeverity::kInfo: return "info";
    case QaSeverity::kWarning: return "warning";
    case QaSeverity::kError: return "error";
  }
  return "warning";
}

std::vector<QaFinding> RunLabelRules(std::span<const QaItem> items, std::span<const QaLabel> labels,
                                     const QaSettings& settings) {
  std::map<std::string, Reading> readings;
  for (const auto& l : labels) {
    if (l.final || l.task.empty()) continue;
    Reading& r = readings[l.task];
    r.item = l.item;
    r.reader = l.reader;
    r.classes.insert(l.label_class);
  }
  std::vector<QaFinding> out;
  RepeatReads(readings, out);
  SameContent(items, labels, out);
  Imbalance(labels, settings, out);
  MissingRequired(items, readings, settings, out);
  Duplicates(labels, out);
  Unresolved(items, labels, readings, out);
  Outdated(labels, settings, out);
  std::stable_sort(out.begin(), out.end(), [](const QaFinding& a, const QaFinding& b) {
    return std::tie(a.rule, a.item) < std::tie(b.rule, b.item);
  });
  return out;
}

}  // namespace caliper::quality

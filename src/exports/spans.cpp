// brat standoff and BioC JSON for the text spans of a snapshot (docs/export.md). Every span
// label of an item is written — each reader's (annotator reader-01, ...) and the adjudicated
// ones (annotator adjudicator-01, ...) — so a user can take the final spans or study the
// disagreement. Deterministic: items by id, spans by (start, end, annotator, class).

#include "exports/spans.h"

#include <algorithm>
#include <optional>
#include <set>
#include <tuple>

#include <nlohmann/json.hpp>

#include "caliper/core/rules.h"

namespace caliper::exports {
namespace {

using ordered_json = nlohmann::ordered_json;

struct Span {
  std::int64_t start = 0, end = 0;  // code points
  std::string label_class, annotator, assertion, temporality, experiencer;
  std::optional<double> confidence;
  bool final = false;  // an adjudicated label
};

bool operator<(const Span& a, const Span& b) {
  return std::tie(a.start, a.end, a.annotator, a.label_class) < std::tie(b.start, b.end, b.annotator, b.label_class);
}

// The spans an annotation's evidence names: span evidence {start, end}, or the evidence spans
// of a document-level label.
std::vector<std::pair<std::int64_t, std::int64_t>> SpansOf(const core::Annotation& a) {
  std::vector<std::pair<std::int64_t, std::int64_t>> out;
  const auto data = nlohmann::json::parse(a.evidence_json.empty() ? "{}" : a.evidence_json, nullptr, false);
  auto add = [&](const nlohmann::json& s) {
    if (s.is_object() && s.contains("start") && s.contains("end") && s["start"].is_number_integer() &&
        s["end"].is_number_integer()) {
      out.emplace_back(s["start"].get<std::int64_t>(), s["end"].get<std::int64_t>());
    }
  };
  if (a.evidence_kind == "span") add(data);
  if (a.evidence_kind == "document" && data.is_object() && data.contains("spans") && data["spans"].is_array()) {
    for (const auto& s : data["spans"]) add(s);
  }
  return out;
}

std::vector<Span> SpansOfItem(const SnapshotItem& it) {
  std::vector<Span> out;
  auto take = [&](const core::Annotation& a, const std::string& annotator, bool final) {
    for (const auto& [start, end] : SpansOf(a)) {
      out.push_back({start, end, a.label_class, annotator, std::string(core::ToString(a.assertion)),
                     std::string(core::ToString(a.temporality)), std::string(core::ToString(a.experiencer)),
                     a.confidence, final});
    }
  };
  for (const auto& r : it.readings) {
    for (const auto& a : r.labels) take(a, r.reader, false);
  }
  for (const auto& a : it.final_labels) take(a, it.adjudicator, true);
  std::sort(out.begin(), out.end());
  return out;
}

// Byte offset of each code point of `text`, plus text.size() at the end.
std::vector<std::size_t> CodePointStarts(const std::string& text) {
  std::vector<std::size_t> starts;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) starts.push_back(i);
  }
  starts.push_back(text.size());
  return starts;
}

// brat writes a span across line breaks as fragments "s e;s e" with their texts joined by a
// space (a .ann line cannot hold a newline).
std::pair<std::string, std::string> BratFragments(const std::string& text, const std::vector<std::size_t>& at,
                                                  std::int64_t start, std::int64_t end) {
  std::string offsets, covered;
  std::int64_t from = start;
  auto close = [&](std::int64_t to) {
    if (to > from) {
      offsets += (offsets.empty() ? "" : ";") + std::to_string(from) + " " + std::to_string(to);
      covered += (covered.empty() ? "" : " ") + text.substr(at[from], at[to] - at[from]);
    }
  };
  for (std::int64_t cp = start; cp < end; ++cp) {
    const char c = text[at[cp]];
    if (c == '\n' || c == '\r') {
      close(cp);
      from = cp + 1;
    }
  }
  close(end);
  return {offsets, covered};
}

}  // namespace

Status AddSpanFiles(const SnapshotInput& input, const std::vector<const SnapshotItem*>& items,
                    const std::map<std::string, std::string>& split_of, Snapshot& snapshot) {
  ordered_json documents = ordered_json::array();
  std::set<std::string> classes, assertions, temporalities, experiencers;
  for (const SnapshotItem* it : items) {
    if (it->text.empty()) continue;
    const std::vector<Span> spans = SpansOfItem(*it);
    if (spans.empty()) continue;
    const std::vector<std::size_t> at = CodePointStarts(it->text);
    const auto chars = static_cast<std::int64_t>(at.size() - 1);
    ordered_json annotations = ordered_json::array();
    std::string ann;
    int n = 0;
    for (const Span& s : spans) {
      if (s.start < 0 || s.start >= s.end || s.end > chars) {
        return Error(ErrorCode::kInvalidArgument, "item " + it->item.id + ": span [" + std::to_string(s.start) + ", " +
                                                      std::to_string(s.end) + ") is outside its text (" +
                                                      std::to_string(chars) + " code points)");
      }
      ++n;
      const std::string id = std::to_string(n);
      const std::string covered = it->text.substr(at[s.start], at[s.end] - at[s.start]);
      ordered_json infons{{"type", s.label_class},   {"annotator", s.annotator},
                          {"final", s.final ? "true" : "false"}, {"assertion", s.assertion},
                          {"temporality", s.temporality}, {"experiencer", s.experiencer}};
      if (s.confidence) infons["confidence"] = std::to_string(*s.confidence);
      annotations.push_back(ordered_json{{"id", id},
                                         {"infons", infons},
                                         {"locations", ordered_json::array({{{"offset", s.start}, {"length", s.end - s.start}}})},
                                         {"text", covered}});
      const auto [offsets, fragments] = BratFragments(it->text, at, s.start, s.end);
      ann += "T" + id + "\t" + s.label_class + " " + offsets + "\t" + fragments + "\n";
      ann += "A" + std::to_string(3 * n - 2) + "\tAssertion T" + id + " " + s.assertion + "\n";
      ann += "A" + std::to_string(3 * n - 1) + "\tTemporality T" + id + " " + s.temporality + "\n";
      ann += "A" + std::to_string(3 * n) + "\tExperiencer T" + id + " " + s.experiencer + "\n";
      ann += "#" + id + "\tAnnotatorNotes T" + id + "\t" + s.annotator + (s.final ? " (adjudicated)" : "") + "\n";
      classes.insert(s.label_class);
      assertions.insert(s.assertion);
      temporalities.insert(s.temporality);
      experiencers.insert(s.experiencer);
    }
    snapshot.files["spans/brat/" + it->item.id + ".txt"] = it->text;
    snapshot.files["spans/brat/" + it->item.id + ".ann"] = ann;
    documents.push_back(ordered_json{
        {"id", it->item.id},
        {"infons", {{"patient", it->item.patient_key}, {"split", split_of.at(it->item.patient_key)}}},
        {"passages", ordered_json::array({{{"offset", 0},
                                           {"infons", ordered_json::object()},
                                           {"text", it->text},
                                           {"sentences", ordered_json::array()},
                                           {"annotations", annotations},
                                           {"relations", ordered_json::array()}}})},
        {"annotations", ordered_json::array()},
        {"relations", ordered_json::array()}});
  }
  if (documents.empty()) return Status::Ok();
  const ordered_json collection{
      {"source", "Caliper " + input.caliper_version},
      {"date", input.created_at.substr(0, 10)},
      {"key", "caliper-spans.key"},
      {"infons",
       {{"dataset_id", input.dataset_id},
        {"dataset_version", std::to_string(input.version)},
        {"offsets", "Unicode code points of the passage text"}}},
      {"documents", documents}};
  snapshot.files["spans/bioc.json"] = collection.dump(1) + "\n";
  auto values = [](const std::set<std::string>& v) {
    std::string out;
    for (const auto& s : v) out += (out.empty() ? "" : "|") + s;
    return out;
  };
  std::string conf = "[entities]\n";
  for (const auto& c : classes) conf += c + "\n";
  conf += "\n[relations]\n\n[events]\n\n[attributes]\n";
  conf += "Assertion\tArg:<ENTITY>, Value:" + values(assertions) + "\n";
  conf += "Temporality\tArg:<ENTITY>, Value:" + values(temporalities) + "\n";
  conf += "Experiencer\tArg:<ENTITY>, Value:" + values(experiencers) + "\n";
  snapshot.files["spans/brat/annotation.conf"] = conf;
  return Status::Ok();
}

}  // namespace caliper::exports

#pragma once

// Span-level, type-aware evaluation of the detector against synthetic notes' ground truth
// (docs/deid-text.md, "Evaluation"), shared by the evaluation test and bench/deid_text.cpp.
// Header-only so that the deid library itself does not depend on the generator.
//
// Recall: a true span counts as found when the first detected span overlapping it has the same
// type; exactly when the bounds also match. Covered: a true span overlaps any detected span, of
// any type (what Safe Harbor asks: the identifier is removed, whatever it is called).
// Precision: a detected span is correct when it overlaps a true span of the same type. Ages of
// 89 and under are not Safe Harbor PHI and leave the truth.

#include <cstdio>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "caliper/deid/text_deid.h"
#include "caliper/synth/synthetic.h"
#include "synth/utf8.h"

namespace caliper::deid::text {

struct TypeCounts {
  int truth = 0, found = 0, exact = 0, covered = 0, detected = 0, correct = 0;
  double recall() const { return truth ? double(found) / truth : 1.0; }
  double covered_share() const { return truth ? double(covered) / truth : 1.0; }
  double exact_recall() const { return truth ? double(exact) / truth : 1.0; }
  double precision() const { return detected ? double(correct) / detected : 1.0; }
};

struct EvaluationReport {
  std::map<PhiType, TypeCounts> types;
  TypeCounts all;
  // "TYPE: text | context", the context being up to 30 code points on either side with the
  // span in brackets and line breaks shown as spaces.
  std::vector<std::string> false_positives;  // detections outside the truth
  std::vector<std::string> misses;           // true spans not found; "NAME as ID: ..." when covered
};

inline std::string DescribeSpan(const std::string& text, std::size_t start, std::size_t end, PhiType type) {
  std::string context = synth::SubstrCodePoints(text, start > 30 ? start - 30 : 0, start) + "[" +
                        synth::SubstrCodePoints(text, start, end) + "]" +
                        synth::SubstrCodePoints(text, end, end + 30);
  for (char& c : context) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  return std::string(PhiTypeName(type)) + ": " + synth::SubstrCodePoints(text, start, end) + " | " + context;
}

inline bool IsSafeHarborPhi(const synth::SyntheticNote& note, const synth::PhiSpan& s) {
  if (s.type != synth::PhiType::kAge) return true;
  return std::stoi(synth::SubstrCodePoints(note.text, s.start, s.end)) > 89;
}

inline Result<EvaluationReport> Evaluate(TextDeidentifier& deid, const std::vector<synth::SyntheticNote>& notes) {
  EvaluationReport r;
  for (const synth::SyntheticNote& note : notes) {
    CALIPER_ASSIGN_OR_RETURN(std::vector<PhiSpan> found, deid.Detect(note.text));
    std::vector<bool> used(found.size(), false);
    for (const synth::PhiSpan& t : note.phi) {
      if (!IsSafeHarborPhi(note, t)) continue;
      const auto type = static_cast<PhiType>(t.type);
      TypeCounts& c = r.types[type];
      ++c.truth;
      ++r.all.truth;
      bool hit = false;
      const PhiSpan* cover = nullptr;
      for (std::size_t k = 0; k < found.size(); ++k) {
        const PhiSpan& d = found[k];
        if (d.start < t.end && t.start < d.end) {
          used[k] = true;
          cover = &d;
          ++c.covered;
          ++r.all.covered;
          if (d.type == type) {
            hit = true;
            ++c.found;
            ++r.all.found;
            if (d.start == t.start && d.end == t.end) {
              ++c.exact;
              ++r.all.exact;
            }
          }
          break;
        }
      }
      if (!hit) {
        const std::string miss = DescribeSpan(note.text, t.start, t.end, type);
        r.misses.push_back(cover == nullptr ? miss
                                            : std::string(PhiTypeName(type)) + " as " +
                                                  std::string(PhiTypeName(cover->type)) +
                                                  miss.substr(PhiTypeName(type).size()));
      }
    }
    for (std::size_t k = 0; k < found.size(); ++k) {
      TypeCounts& c = r.types[found[k].type];
      ++c.detected;
      ++r.all.detected;
      for (const synth::PhiSpan& t : note.phi) {
        if (found[k].start < t.end && t.start < found[k].end && static_cast<PhiType>(t.type) == found[k].type) {
          ++c.correct;
          ++r.all.correct;
          break;
        }
      }
      if (!used[k]) {
        r.false_positives.push_back(DescribeSpan(note.text, found[k].start, found[k].end, found[k].type));
      }
    }
  }
  return r;
}

// Notes written by hand with their PHI marked in place (testdata/held_out_notes.txt): notes are
// separated by a line "---", or "--- batch N", which starts batch N; lines starting with '#'
// before the first note are comments; a span of PHI is written "{{TYPE|text}}", TYPE one of the
// CLI contract's types. Returns the notes with the marks taken out, their spans in code points
// (ids "held-out-1", ...) and their batch as `kind` ("batch 1"; "" before any), or an error
// naming the note and the problem.
inline Result<std::vector<synth::SyntheticNote>> ReadMarkedNotes(std::string_view file) {
  std::vector<synth::SyntheticNote> notes;
  std::vector<std::string> raw;      // each note's lines, marks still in
  std::vector<std::string> batches;  // each note's batch
  bool in_notes = false;
  for (std::size_t at = 0; at < file.size();) {
    std::size_t eol = file.find('\n', at);
    if (eol == std::string_view::npos) eol = file.size();
    const std::string_view line = file.substr(at, eol - at);
    at = eol + 1;
    if (line == "---" || line.starts_with("--- batch ")) {
      in_notes = true;
      raw.emplace_back();
      batches.push_back(line == "---" ? (batches.empty() ? "" : batches.back()) : std::string(line.substr(4)));
    } else if (in_notes) {
      raw.back() += std::string(line) + "\n";
    } else if (!line.empty() && line[0] != '#') {
      return Error(ErrorCode::kInvalidArgument, "marked notes: text before the first \"---\"");
    }
  }
  for (std::size_t n = 0; n < raw.size(); ++n) {
    synth::SyntheticNote note;
    note.id = "held-out-" + std::to_string(n + 1);
    note.patient = note.id;
    note.kind = batches[n];
    const std::string& r = raw[n];
    const auto bad = [&](const std::string& why) {
      return Error(ErrorCode::kInvalidArgument, "marked notes: note " + std::to_string(n + 1) + ": " + why);
    };
    std::size_t code_points = 0;
    for (std::size_t i = 0; i < r.size();) {
      if (r.compare(i, 2, "}}") == 0) return bad("\"}}\" without \"{{\"");
      if (r.compare(i, 2, "{{") != 0) {
        code_points += (static_cast<unsigned char>(r[i]) & 0xC0) != 0x80;
        note.text += r[i++];
        continue;
      }
      const std::size_t bar = r.find('|', i);
      const std::size_t close = r.find("}}", i);
      if (close == std::string::npos || bar == std::string::npos || bar > close) return bad("unclosed \"{{\"");
      const std::string type_name = r.substr(i + 2, bar - i - 2);
      const std::optional<PhiType> type = ParsePhiType(type_name);
      if (!type) return bad("unknown PHI type \"" + type_name + "\"");
      const std::string_view inner = std::string_view(r).substr(bar + 1, close - bar - 1);
      if (inner.empty() || inner.find("{{") != std::string_view::npos) return bad("empty or nested mark");
      // The evaluation reads an age's number to keep only ages over 89 (IsSafeHarborPhi).
      if (*type == PhiType::kAge &&
          (inner.size() > 3 || inner.find_first_not_of("0123456789") != std::string_view::npos)) {
        return bad("an AGE mark holds the age in digits, not \"" + std::string(inner) + "\"");
      }
      const std::size_t start = code_points;
      code_points += synth::CountCodePoints(inner);
      note.text += inner;
      note.phi.push_back({start, code_points, *type});
      i = close + 2;
    }
    notes.push_back(std::move(note));
  }
  return notes;
}

// ReadMarkedNotes on the file at `path`.
inline Result<std::vector<synth::SyntheticNote>> ReadMarkedNotesFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error(ErrorCode::kNotFound, "marked notes: cannot read " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return ReadMarkedNotes(text.str());
}

// The notes of each batch (ReadMarkedNotes), in the order the batches first appear.
inline std::vector<std::pair<std::string, std::vector<synth::SyntheticNote>>> ByBatch(
    const std::vector<synth::SyntheticNote>& notes) {
  std::vector<std::pair<std::string, std::vector<synth::SyntheticNote>>> out;
  for (const synth::SyntheticNote& n : notes) {
    if (out.empty() || out.back().first != n.kind) out.emplace_back(n.kind, std::vector<synth::SyntheticNote>{});
    out.back().second.push_back(n);
  }
  return out;
}

inline void PrintReport(const EvaluationReport& r, const char* title, std::FILE* out = stdout) {
  std::fprintf(out, "%s\n%-9s %6s %8s %8s %8s %9s\n", title, "type", "truth", "recall", "exact", "covered",
               "precision");
  for (const auto& [type, c] : r.types) {
    std::fprintf(out, "%-9s %6d %8.3f %8.3f %8.3f %9.3f\n", std::string(PhiTypeName(type)).c_str(), c.truth,
                 c.recall(), c.exact_recall(), c.covered_share(), c.precision());
  }
  std::fprintf(out, "%-9s %6d %8.3f %8.3f %8.3f %9.3f\n", "ALL", r.all.truth, r.all.recall(), r.all.exact_recall(),
               r.all.covered_share(), r.all.precision());
}

// One line: the report's totals under `label`.
inline void PrintTotals(const EvaluationReport& r, const std::string& label, std::FILE* out = stdout) {
  std::fprintf(out, "%-24s %6d %8.3f %8.3f %8.3f %9.3f\n", label.c_str(), r.all.truth, r.all.recall(),
               r.all.exact_recall(), r.all.covered_share(), r.all.precision());
}

// Evaluates the marked notes, prints the table of all of them under `title` and a line of totals
// for each batch, and returns the report of all of them.
inline Result<EvaluationReport> EvaluateByBatch(TextDeidentifier& deid, const std::vector<synth::SyntheticNote>& notes,
                                                const std::string& title, std::FILE* out = stdout) {
  // Each note is detected once: the batches' reports are summed into the whole one.
  const auto add = [](TypeCounts& to, const TypeCounts& c) {
    to.truth += c.truth;
    to.found += c.found;
    to.exact += c.exact;
    to.covered += c.covered;
    to.detected += c.detected;
    to.correct += c.correct;
  };
  EvaluationReport all;
  std::vector<std::pair<std::string, EvaluationReport>> batches;
  for (const auto& [batch, batch_notes] : ByBatch(notes)) {
    CALIPER_ASSIGN_OR_RETURN(EvaluationReport r, Evaluate(deid, batch_notes));
    for (const auto& [type, c] : r.types) add(all.types[type], c);
    add(all.all, r.all);
    all.misses.insert(all.misses.end(), r.misses.begin(), r.misses.end());
    all.false_positives.insert(all.false_positives.end(), r.false_positives.begin(), r.false_positives.end());
    batches.emplace_back(batch + " (" + std::to_string(batch_notes.size()) + " notes)", std::move(r));
  }
  PrintReport(all, title.c_str(), out);
  for (const auto& [label, r] : batches) PrintTotals(r, label, out);
  return all;
}

}  // namespace caliper::deid::text

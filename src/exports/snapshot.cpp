#include "caliper/exports/snapshot.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "caliper/common/random.h"
#include "caliper/core/rules.h"
#include "caliper/quality/dawid_skene.h"
#include "caliper/security/crypto.h"
#include "exports/csv.h"
#include "exports/masks.h"
#include "exports/regions.h"
#include "exports/spans.h"
#include "exports/subgroups.h"

namespace caliper::exports {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

std::string SetLabel(const std::set<std::string>& classes) {
  std::string out;
  for (const auto& c : classes) out += (out.empty() ? "" : "+") + c;
  return out.empty() ? "(none)" : out;
}

std::set<std::string> ClassesOf(const std::vector<core::Annotation>& labels) {
  std::set<std::string> out;
  for (const auto& a : labels) out.insert(a.label_class);
  return out;
}

// Rounds to 6 decimals so the text of a posterior is the same on every platform.
double Round6(double v) { return std::round(v * 1e6) / 1e6; }

// Per item, the fused (Dawid–Skene) posterior of each reading label set, when two or more
// readings exist anywhere in the project; empty otherwise.
std::map<std::string, std::map<std::string, double>> FusedPosteriors(const SnapshotInput& input) {
  std::vector<quality::Rating> ratings;
  for (const auto& it : input.items) {
    for (const auto& r : it.readings) ratings.push_back({it.item.id, r.reader, SetLabel(ClassesOf(r.labels))});
  }
  std::map<std::string, std::map<std::string, double>> out;
  if (ratings.empty()) return out;
  auto set = quality::RatingSet::FromRatings(ratings);
  if (!set.ok() || set->n_categories() < 2) return out;
  auto fused = quality::DawidSkene(*set, quality::DawidSkeneOptions{});
  if (!fused.ok()) return out;
  for (std::size_t i = 0; i < set->n_items(); ++i) {
    auto& row = out[set->ItemName(i)];
    for (std::size_t k = 0; k < set->n_categories(); ++k) {
      row[set->category_labels()[k]] = Round6(fused->posteriors[i * set->n_categories() + k]);
    }
  }
  return out;
}

struct FinalLabel {
  std::string label_class;
  std::string status;  // adjudicated | consensus | provisional | confirmed | unconfirmed
  bool disputed = false;
  const core::Annotation* annotation = nullptr;  // the label carrying evidence and provenance
};

// The final labels of an item: the adjudicated ones; else, when every reading has the same
// label set, that set (consensus with two or more readings, provisional with one); else the
// most probable fused label set, provisional and disputed. A label whose own status is
// confirmed or unconfirmed (delayed ground truth) keeps it.
std::vector<FinalLabel> FinalLabels(const SnapshotItem& it, const std::map<std::string, double>* posterior) {
  std::vector<FinalLabel> out;
  auto with_status = [](const core::Annotation& a, std::string fallback) {
    if (a.status == core::LabelStatus::kConfirmed || a.status == core::LabelStatus::kUnconfirmed) {
      return std::string(core::ToString(a.status));
    }
    return fallback;
  };
  if (!it.final_labels.empty()) {
    for (const auto& a : it.final_labels) out.push_back({a.label_class, with_status(a, "adjudicated"), false, &a});
    return out;
  }
  if (it.readings.empty()) return out;
  std::set<std::set<std::string>> distinct;
  for (const auto& r : it.readings) distinct.insert(ClassesOf(r.labels));
  std::set<std::string> chosen;
  bool disputed = false;
  if (distinct.size() == 1) {
    chosen = *distinct.begin();
  } else {
    disputed = true;
    std::string best;
    double best_p = -1;
    if (posterior) {
      for (const auto& [label, p] : *posterior) {
        if (p > best_p) best = label, best_p = p;
      }
    }
    for (const auto& r : it.readings) {
      if (SetLabel(ClassesOf(r.labels)) == best || best.empty()) {
        chosen = ClassesOf(r.labels);
        break;
      }
    }
  }
  const std::string status = disputed ? "provisional" : (it.readings.size() >= 2 ? "consensus" : "provisional");
  for (const auto& c : chosen) {
    const core::Annotation* source = nullptr;
    for (const auto& r : it.readings) {
      for (const auto& a : r.labels) {
        if (a.label_class == c && source == nullptr) source = &a;
      }
    }
    out.push_back({c, source ? with_status(*source, status) : status, disputed, source});
  }
  return out;
}

ordered_json EvidenceJson(const core::Annotation* a) {
  if (a == nullptr) return nullptr;
  ordered_json e = ordered_json::parse(a->evidence_json, nullptr, false);
  if (e.is_discarded()) e = a->evidence_json;
  return ordered_json{{"kind", a->evidence_kind}, {"detail", e}};
}

std::string PosteriorText(double p) {
  std::ostringstream s;
  s.precision(6);
  s << std::fixed << p;
  return s.str();
}

}  // namespace

Result<std::map<std::string, std::string>> SplitPatients(const SnapshotInput& input) {
  const SplitSpec& s = input.splits;
  if (s.train < 0 || s.validation < 0 || s.test < 0 || std::abs(s.train + s.validation + s.test - 1) > 1e-9) {
    return Error(ErrorCode::kInvalidArgument, "split fractions must be non-negative and sum to 1");
  }
  // patient -> the counts of final label sets of their items, and their stratum attributes.
  std::map<std::string, std::map<std::string, int>> label_counts;
  std::map<std::string, std::string> attributes;
  for (const auto& it : input.items) {
    if (it.item.patient_key.empty()) {
      return Error(ErrorCode::kInvalidArgument, "item " + it.item.id + " has no patient");
    }
    std::set<std::string> finals;
    for (const auto& f : FinalLabels(it, nullptr)) finals.insert(f.label_class);
    ++label_counts[it.item.patient_key][SetLabel(finals)];
    if (!attributes.count(it.item.patient_key)) {
      const json cohort = json::parse(it.item.cohort_json.empty() ? "{}" : it.item.cohort_json, nullptr, false);
      std::string key;
      for (const auto& attribute : s.stratify_by) {
        std::string value = attribute == "modality" ? it.item.modality : "";
        if (attribute != "modality" && cohort.is_object() && cohort.contains(attribute)) {
          value = cohort[attribute].is_string() ? cohort[attribute].get<std::string>() : cohort[attribute].dump();
        }
        key += "|" + attribute + "=" + value;
      }
      attributes[it.item.patient_key] = key;
    }
  }
  std::map<std::string, std::vector<std::string>> strata;  // patients in sorted order
  for (const auto& [patient, counts] : label_counts) {
    const auto top = std::max_element(counts.begin(), counts.end(),
                                       [](const auto& a, const auto& b) { return a.second < b.second; });
    strata[top->first + attributes[patient]].push_back(patient);
  }
  std::map<std::string, std::string> out;
  std::uint64_t stream = 0;
  for (auto& [stratum, patients] : strata) {
    Rng rng(Mix(s.seed, 0x5e11, stream++));
    for (std::size_t i = patients.size(); i > 1; --i) {
      const std::size_t j = static_cast<std::size_t>(rng.Next() % i);
      std::swap(patients[i - 1], patients[j]);
    }
    // Largest remainders: floor of each share, then the leftovers to the largest fractions.
    const double n = static_cast<double>(patients.size());
    const std::array<double, 3> want = {s.train * n, s.validation * n, s.test * n};
    std::array<std::size_t, 3> take{};
    std::size_t given = 0;
    for (int k = 0; k < 3; ++k) given += take[k] = static_cast<std::size_t>(std::floor(want[k]));
    std::array<int, 3> order = {0, 1, 2};
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
      return want[a] - std::floor(want[a]) > want[b] - std::floor(want[b]);
    });
    for (int k = 0; given < patients.size(); k = (k + 1) % 3, ++given) ++take[order[k]];
    static const std::array<const char*, 3> kNames = {"train", "validation", "test"};
    std::size_t next = 0;
    for (int k = 0; k < 3; ++k) {
      for (std::size_t i = 0; i < take[k]; ++i) out[patients[next++]] = kNames[k];
    }
  }
  return out;
}

Result<Snapshot> BuildSnapshot(const SnapshotInput& input) {
  CALIPER_ASSIGN_OR_RETURN(auto split_of, SplitPatients(input));
  const auto posteriors = FusedPosteriors(input);
  std::vector<const SnapshotItem*> items;
  for (const auto& it : input.items) items.push_back(&it);
  std::sort(items.begin(), items.end(), [](const auto* a, const auto* b) { return a->item.id < b->item.id; });

  std::string jsonl;
  std::string csv = "item_id,patient,split,label_class,code_system,code,status,disputed,fused_posterior\n";
  std::map<std::string, std::int64_t> split_items, split_patients_seen;
  std::set<std::string> counted_patients;
  std::int64_t records = 0;
  for (const SnapshotItem* it : items) {
    const auto post = posteriors.find(it->item.id);
    const auto* posterior = post == posteriors.end() ? nullptr : &post->second;
    const std::string& split = split_of.at(it->item.patient_key);
    ++split_items[split];
    if (counted_patients.insert(it->item.patient_key).second) ++split_patients_seen[split];
    ordered_json readers = ordered_json::array();
    std::vector<double> confidences;
    for (const auto& r : it->readings) {
      ordered_json classes = ordered_json::array();
      ordered_json conf = nullptr;
      for (const auto& c : ClassesOf(r.labels)) classes.push_back(c);
      for (const auto& a : r.labels) {
        if (a.confidence) {
          conf = *a.confidence;
          confidences.push_back(*a.confidence);
        }
      }
      ordered_json reviews = ordered_json::array();
      for (const auto& v : r.reviews) {
        reviews.push_back(ordered_json{
            {"decision", std::string(core::ToString(v.decision))},
            {"reason_code", v.reject_reason ? ordered_json(std::string(core::ToString(*v.reject_reason))) : ordered_json()},
            {"reason", v.reason}});
      }
      readers.push_back(ordered_json{{"reader", r.reader}, {"qualification", r.qualification},
                                     {"label_classes", classes}, {"confidence", conf}, {"reviews", reviews}});
    }
    ordered_json fused = nullptr;
    if (posterior) {
      fused = ordered_json::object();
      for (const auto& [label, p] : *posterior) fused[label] = p;
    }
    for (const FinalLabel& f : FinalLabels(*it, posterior)) {
      const std::string system = input.code_system_of.count(f.label_class) ? input.code_system_of.at(f.label_class) : "";
      const std::string code = input.code_of.count(f.label_class) ? input.code_of.at(f.label_class) : "";
      double fused_p = -1;
      if (posterior) {
        for (const auto& [label, p] : *posterior) {
          std::set<std::string> parts;
          std::stringstream ss(label);
          for (std::string part; std::getline(ss, part, '+');) parts.insert(part);
          if (parts.count(f.label_class)) fused_p = (fused_p < 0 ? 0 : fused_p) + p;
        }
      }
      ordered_json record{
          {"dataset_id", input.dataset_id},
          {"dataset_version", input.version},
          {"item_id", it->item.id},
          {"patient", it->item.patient_key},
          {"split", split},
          {"data_type", std::string(core::ToString(it->item.data_type))},
          {"modality", it->item.modality},
          {"label_class", f.label_class},
          {"code", ordered_json{{"system", system}, {"code", code}}},
          {"status", f.status},
          {"disputed", f.disputed},
          {"evidence", EvidenceJson(f.annotation)},
          {"uncertainty",
           ordered_json{{"reader_confidences", confidences},
                        {"fused_posterior", fused_p < 0 ? ordered_json(nullptr) : ordered_json(Round6(fused_p))},
                        {"fused_label_sets", fused},
                        {"assertion", f.annotation ? std::string(core::ToString(f.annotation->assertion)) : "present"}}},
          {"guideline_version_id", f.annotation ? f.annotation->guideline_version_id : ""},
          {"readers", readers},
          {"adjudication", it->adjudicator.empty()
                               ? ordered_json(nullptr)
                               : ordered_json{{"adjudicator", it->adjudicator}, {"rationale", it->adjudication_rationale}}},
          {"prelabel_origin", f.annotation && f.annotation->origin != "human" ? ordered_json(f.annotation->origin)
                                                                             : ordered_json(nullptr)}};
      jsonl += record.dump() + "\n";
      ++records;
      csv += Csv(it->item.id) + "," + Csv(it->item.patient_key) + "," + split + "," + Csv(f.label_class) + "," +
             Csv(system) + "," + Csv(code) + "," + f.status + "," + (f.disputed ? "true" : "false") + "," +
             (fused_p < 0 ? "" : PosteriorText(Round6(fused_p))) + "\n";
    }
  }
  std::string splits_csv = "patient,split\n";
  for (const auto& [patient, split] : split_of) splits_csv += Csv(patient) + "," + split + "\n";

  Snapshot snapshot;
  snapshot.files["labels.jsonl"] = jsonl;
  snapshot.files["labels.csv"] = csv;
  snapshot.files["splits.csv"] = splits_csv;
  CALIPER_ASSIGN_OR_RETURN(auto report, BuildSubgroupReport(input, split_of));
  snapshot.files["subgroup_report.json"] = report.json_text;
  snapshot.files["subgroup_report.html"] = report.html;
  CALIPER_RETURN_IF_ERROR(AddSpanFiles(input, items, split_of, snapshot));
  CALIPER_RETURN_IF_ERROR(AddRegionFiles(input, items, split_of, snapshot));
  CALIPER_ASSIGN_OR_RETURN(ordered_json masks, AddMaskFiles(input, items, split_of, snapshot));

  ordered_json files = ordered_json::array();
  for (const auto& [path, bytes] : snapshot.files) {
    files.push_back(ordered_json{{"path", path}, {"bytes", bytes.size()}, {"sha256", security::Sha256Hex(bytes)}});
  }
  ordered_json guidelines = ordered_json::array();
  for (const auto& [id, number] : input.guideline_versions) guidelines.push_back({{"id", id}, {"version", number}});
  ordered_json split_counts = ordered_json::object();
  for (const char* name : {"train", "validation", "test"}) {
    split_counts[name] = ordered_json{{"patients", split_patients_seen[name]}, {"items", split_items[name]}};
  }
  ordered_json manifest{
      {"dataset_id", input.dataset_id},
      {"version", input.version},
      {"project", ordered_json{{"id", input.project_id}, {"name", input.project_name}}},
      {"created_at", input.created_at},
      {"caliper_version", input.caliper_version},
      {"guideline_versions", guidelines},
      {"deidentification", ordered_json::parse(input.deidentification_json)},
      {"requested_by", input.requested_by},
      {"approvers", input.approvers},
      {"splits", ordered_json{{"unit", "patient"},
                              {"seed", input.splits.seed},
                              {"fractions", {{"train", input.splits.train},
                                             {"validation", input.splits.validation},
                                             {"test", input.splits.test}}},
                              {"stratified_by", [&] {
                                 ordered_json s = ordered_json::array({"final label set"});
                                 for (const auto& a : input.splits.stratify_by) s.push_back(a);
                                 return s;
                               }()},
                              {"counts", split_counts}}},
      {"records", records},
      {"items", input.items.size()}};
  if (!masks.is_null()) manifest["masks"] = masks;
  manifest["files"] = files;
  snapshot.files["manifest.json"] = manifest.dump(2) + "\n";
  return snapshot;
}

Result<std::int64_t> VerifySnapshotDirectory(const std::string& dir) {
  namespace fs = std::filesystem;
  auto read = [](const fs::path& p) -> Result<std::string> {
    std::ifstream in(p, std::ios::binary);
    if (!in) return Error(ErrorCode::kNotFound, "cannot read " + p.string());
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  };
  CALIPER_ASSIGN_OR_RETURN(std::string manifest_text, read(fs::path(dir) / "manifest.json"));
  const json manifest = json::parse(manifest_text, nullptr, false);
  if (!manifest.is_object() || !manifest.contains("files") || !manifest["files"].is_array()) {
    return Error(ErrorCode::kIntegrity, "manifest.json is not a Caliper manifest (no files list)");
  }
  std::set<std::string> listed;
  std::int64_t checked = 0;
  for (const auto& f : manifest["files"]) {
    const std::string path = f.value("path", "");
    if (path.empty() || path.find("..") != std::string::npos || path.front() == '/') {
      return Error(ErrorCode::kIntegrity, "manifest lists a bad path '" + path + "'");
    }
    listed.insert(path);
    auto bytes = read(fs::path(dir) / path);
    if (!bytes.ok()) return Error(ErrorCode::kIntegrity, path + " is listed in the manifest but missing");
    if (static_cast<std::int64_t>(bytes->size()) != f.value("bytes", std::int64_t{-1})) {
      return Error(ErrorCode::kIntegrity, path + " has " + std::to_string(bytes->size()) + " bytes, the manifest says " +
                                              std::to_string(f.value("bytes", std::int64_t{-1})));
    }
    if (security::Sha256Hex(*bytes) != f.value("sha256", "")) {
      return Error(ErrorCode::kIntegrity, path + " does not match its SHA-256 in the manifest");
    }
    ++checked;
  }
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    const std::string rel = fs::relative(entry.path(), dir).generic_string();
    if (rel != "manifest.json" && !listed.count(rel)) {
      return Error(ErrorCode::kIntegrity, rel + " is not listed in the manifest");
    }
  }
  return checked;
}

}  // namespace caliper::exports

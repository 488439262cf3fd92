// Quality indicators, reviewer analytics and QA findings of a project, computed from the store
// with caliper::quality (docs/quality.md). Reads happen in one read transaction; the access is
// audited in its own write transaction before the figures are returned.

#include <algorithm>
#include <map>
#include <set>
#include <span>
#include <tuple>
#include <utility>

#include <nlohmann/json.hpp>

#include "caliper/app/app.h"
#include "app/disagreement.h"
#include "app/ingest_internal.h"
#include "app/mask_evidence.h"
#include "app/workflow_internal.h"
#include "caliper/dicom/label_map.h"

namespace caliper::app {
namespace {

using nlohmann::json;
using storage::TxnMode;
using security::AuditRecord;

// A reading: one reader's submitted task on an item and the classes they labelled.
struct ItemReading {
  core::Task task;
  std::vector<const core::Annotation*> labels;
  std::set<std::string> classes;
};

// Everything the indicators need about one item.
struct ItemRecord {
  core::Item item;
  std::vector<core::Task> tasks;
  std::vector<core::Annotation> annotations;
  std::vector<ItemReading> readings;
  std::vector<ItemReading> repeats;  // submitted repeat reads (wash-out) of the readers
  std::vector<core::Review> reviews;
  std::optional<std::set<std::string>> reference;  // the adjudicated label set
  std::set<std::string> final_ids;                 // annotations that are the final labels
};

// The reader's own labels in task `t` of the item (a reviewer's correction keeps the task id
// but not the author), and the classes they name.
ItemReading ReadingOf(const core::Task& t, const ItemRecord& r) {
  ItemReading reading{t, {}, {}};
  for (const auto& a : r.annotations) {
    if (a.task_id == t.id && a.author == t.assignee && !r.final_ids.count(a.id)) {
      reading.labels.push_back(&a);
      reading.classes.insert(a.label_class);
    }
  }
  return reading;
}

bool Submitted(core::TaskState s) { return s != core::TaskState::kOpen && s != core::TaskState::kClaimed; }

std::string SetLabel(const std::set<std::string>& classes) {
  if (classes.empty()) return "(none)";
  std::string out;
  for (const auto& c : classes) out += (out.empty() ? "" : "+") + c;
  return out;
}

Result<ItemRecord> GatherItem(storage::Transaction& txn, core::Item item) {
  ItemRecord r;
  r.item = std::move(item);
  CALIPER_ASSIGN_OR_RETURN(r.tasks, txn.ListTasksOfItem(r.item.id));
  CALIPER_ASSIGN_OR_RETURN(r.annotations, internal::AllAnnotations(txn, r.item.id));
  CALIPER_ASSIGN_OR_RETURN(auto adjudications, txn.ListAdjudicationsOfItem(r.item.id));
  if (!adjudications.empty()) {
    const auto latest = std::max_element(adjudications.begin(), adjudications.end(),
                                         [](const auto& a, const auto& b) { return a.created_at < b.created_at; });
    std::set<std::string> reference;
    for (const auto& adj : adjudications) {
      if (adj.created_at != latest->created_at) continue;
      r.final_ids.insert(adj.final_annotation_id);
      for (const auto& a : r.annotations) {
        if (a.id == adj.final_annotation_id) reference.insert(a.label_class);
      }
    }
    r.reference = std::move(reference);
  }
  for (const auto& t : r.tasks) {
    if (t.assignee.empty() || !Submitted(t.state)) continue;
    ItemReading reading = ReadingOf(t, r);
    CALIPER_ASSIGN_OR_RETURN(auto reviews, txn.ListReviewsOfTask(t.id));
    for (auto& v : reviews) r.reviews.push_back(std::move(v));
    r.readings.push_back(std::move(reading));
    auto repeat = txn.GetRepeatTask(r.item.id, t.assignee);
    if (repeat.ok() && Submitted(repeat->state)) {
      r.repeats.push_back(ReadingOf(*repeat, r));
    } else if (!repeat.ok() && repeat.status().code() != ErrorCode::kNotFound) {
      return repeat.status();
    }
  }
  return r;
}

// Guideline facts for the QA rules: version numbers by id, the current version and, for each
// older published version, the classes that differ from the current one.
struct GuidelineFacts {
  std::map<std::string, std::int64_t> version_of;
  quality::QaSettings settings;
};

Result<GuidelineFacts> GatherGuidelines(storage::Transaction& txn, const std::string& project_id) {
  GuidelineFacts facts;
  auto current = txn.GetCurrentGuideline(project_id);
  if (!current.ok()) {
    if (current.status().code() == ErrorCode::kNotFound) return facts;
    return current.status();
  }
  CALIPER_ASSIGN_OR_RETURN(auto current_schema, core::ParseLabelSchema(current->schema_json));
  facts.settings.current_guideline_version = current->version;
  for (const auto& c : current_schema.classes) {
    facts.settings.schema_classes.push_back(c.id);
    if (json::parse(c.json, nullptr, false).value("required", false)) facts.settings.required_classes.push_back(c.id);
  }
  storage::PageRequest page{"", 500};
  for (;;) {
    CALIPER_ASSIGN_OR_RETURN(auto rows, txn.ListGuidelineVersions(project_id, page));
    for (const auto& g : rows.rows) {
      if (g.status != core::GuidelineStatus::kPublished) continue;
      facts.version_of[g.id] = g.version;
      if (g.version >= current->version) continue;
      CALIPER_ASSIGN_OR_RETURN(auto schema, core::ParseLabelSchema(g.schema_json));
      auto& changed = facts.settings.changed_since[g.version];
      for (const auto& d : core::DiffLabelSchemas(schema, current_schema)) changed.push_back(d.id);
    }
    if (rows.next.empty()) break;
    page.after = rows.next;
  }
  return facts;
}

void AddQaRows(const ItemRecord& r, const GuidelineFacts& g, std::vector<quality::QaItem>& items,
               std::vector<quality::QaLabel>& labels) {
  bool finished = !r.tasks.empty();
  for (const auto& t : r.tasks) finished = finished && Submitted(t.state);
  items.push_back({r.item.id, r.item.content_blob, r.reference.has_value(), finished});
  auto row = [&](const core::Annotation& a, const std::string& task, bool final) {
    quality::QaLabel l;
    l.annotation = a.id;
    l.item = r.item.id;
    l.reader = a.author;
    l.task = task;
    l.label_class = a.label_class;
    auto v = g.version_of.find(a.guideline_version_id);
    l.guideline_version = v == g.version_of.end() ? g.settings.current_guideline_version : v->second;
    l.evidence = a.evidence_kind + ":" + a.evidence_json;
    if (a.evidence_kind == "span") {
      const json e = json::parse(a.evidence_json, nullptr, false);
      if (e.is_object() && e.contains("start") && e.contains("end") && e["start"].is_number_integer() &&
          e["end"].is_number_integer()) {
        l.span_start = e["start"].get<std::int64_t>();
        l.span_end = e["end"].get<std::int64_t>();
      }
    }
    l.final = final;
    labels.push_back(std::move(l));
  };
  for (const auto& reading : r.readings) {
    for (const auto* a : reading.labels) row(*a, reading.task.id, false);
  }
  for (const auto& repeat : r.repeats) {  // consistency.repeat_read compares them with the first
    for (const auto* a : repeat.labels) row(*a, repeat.task.id, false);
  }
  for (const auto& a : r.annotations) {
    if (r.final_ids.count(a.id)) row(a, "", true);
  }
}

// The stored mask versions the item's submitted readings (first and repeat reads) name: (reader,
// version) -> the labels with mask evidence naming it.
using NamedMasks = std::map<std::pair<std::string, std::int64_t>, std::vector<const core::Annotation*>>;
NamedMasks MasksNamed(const ItemRecord& r) {
  NamedMasks named;
  auto collect = [&](const ItemReading& reading) {
    for (const auto* a : reading.labels) {
      if (auto version = MaskVersionOf(*a)) named[{reading.task.assignee, *version}].push_back(a);
    }
  };
  for (const auto& reading : r.readings) collect(reading);
  for (const auto& repeat : r.repeats) collect(repeat);
  return named;
}

// A mask the rules could not check: an error finding naming the label, so the sweep and the
// submit carry on and the reader puts the mask again.
quality::QaFinding Unreadable(const std::string& item_id, const core::Annotation& a, std::int64_t version,
                              const Status& why) {
  return {"mask.unreadable", quality::QaSeverity::kError, item_id, a.label_class, a.id,
          "mask version " + std::to_string(version) + " that the label names could not be checked: " + why.message(),
          "put the mask again and label it with the new version; tell an administrator if it persists"};
}

// The mask rules (quality::RunMaskRules, docs/quality.md "QA rules") over the masks `named`:
// each mask version read and decoded once, each class it holds for a label checked once, as
// claimed present unless the label's assertion is 'absent'. `ct`: the item's volume in HU on
// the masks' grid, for mask.outside_body (nullopt: that rule does not run). A mask that cannot
// be read, decoded or checked is a mask.unreadable finding; a failure of the store or the disk
// is returned.
Result<std::vector<quality::QaFinding>> MaskFindings(storage::Transaction& txn, const core::Item& item,
                                                     const NamedMasks& named, const internal::BlobReader& read_blob,
                                                     std::optional<std::span<const float>> ct) {
  std::vector<quality::QaFinding> out;
  const quality::MaskQaSettings settings;
  for (const auto& [key, labels] : named) {
    const auto& [reader, version] = key;
    auto map = StoredMask(txn, item.id, reader, version, read_blob);
    if (!map.ok() && internal::IsStoreFailure(map.status())) return map.status();
    std::set<std::string> checked;
    for (const core::Annotation* a : labels) {
      if (!checked.insert(a->label_class).second) continue;
      if (!map.ok()) {
        out.push_back(Unreadable(item.id, *a, version, map.status()));
        continue;
      }
      const ClassMask mask = ClassMaskOf(*map, a->label_class);
      auto found = quality::RunMaskRules(item.id, a->label_class, quality::MaskView{mask.grid, mask.voxels},
                                         a->assertion != core::Assertion::kAbsent, ct, settings);
      if (!found.ok()) {
        out.push_back(Unreadable(item.id, *a, version, found.status()));
        continue;
      }
      for (auto& f : *found) {
        f.annotation = a->id;
        out.push_back(std::move(f));
      }
    }
  }
  return out;
}

std::int64_t Seconds(TimeMicros t) { return t / kMicrosPerSecond; }

Result<ClassAgreement> AgreementOn(const std::string& label_class, const std::vector<ItemRecord>& records) {
  ClassAgreement out;
  out.label_class = label_class;
  std::vector<quality::Rating> ratings;
  for (const auto& r : records) {
    if (r.readings.size() < 2) continue;
    ++out.items;
    std::set<std::string> raters;  // of this item
    for (const auto& reading : r.readings) {
      ++out.readings;
      const std::string value = label_class == "*" ? SetLabel(reading.classes)
                                                   : (reading.classes.count(label_class) ? "present" : "absent");
      // Repeat reads (wash-out) by one reader are one rater's several ratings: keep the first.
      const std::string& rater = reading.task.assignee;
      if (!raters.insert(rater).second) continue;
      ratings.push_back({r.item.id, rater, value});
    }
  }
  if (out.items == 0) {
    out.note = "no item has two readings yet";
    return out;
  }
  CALIPER_ASSIGN_OR_RETURN(auto set, quality::RatingSet::FromRatings(ratings));
  quality::AgreementSpec spec;
  spec.metric = quality::AgreementMetric::kKrippendorff;
  spec.level = quality::MeasurementLevel::kNominal;
  auto alpha = quality::ComputeAgreement(set, spec);
  if (!alpha.ok()) {
    out.note = alpha.status().message();
    return out;
  }
  out.alpha = alpha->value;
  quality::BootstrapOptions boot;
  boot.replicates = 500;
  if (auto ci = quality::BootstrapAgreement(set, spec, boot); ci.ok()) {
    out.ci = *ci;
  } else {
    out.note = "no interval: " + ci.status().message();
  }
  return out;
}

// One Dawid–Skene fit per class named by any reading, over every reading (PresencePosteriors:
// present/absent per reading): class -> item -> posterior that the item has the class. The
// sweep's soft labels and the fused reference of the reviewer analytics. Computed on every
// report: on 5,000 items read three times with four classes it takes about 35 ms (docs/quality.md,
// "Cost of the quality report"), not worth a cache.
Result<std::map<std::string, std::map<std::string, double>>> FitClasses(
    const std::vector<internal::ClassReading>& readings) {
  std::set<std::string> classes;
  for (const auto& r : readings) classes.insert(r.classes.begin(), r.classes.end());
  std::map<std::string, std::map<std::string, double>> out;
  for (const auto& c : classes) {
    std::vector<quality::Rating> presence;
    for (const auto& r : readings) presence.push_back({r.item_id, r.reader, r.classes.count(c) ? "present" : "absent"});
    CALIPER_ASSIGN_OR_RETURN(out[c], PresencePosteriors(presence));
  }
  return out;
}

// The fused label set of every item read at least twice: the classes whose posterior
// (FitClasses over the project's readings) is at least one half. Items read once are left out:
// their fused label would be that one reading.
Result<std::vector<quality::ReferenceLabel>> FusedReference(const std::vector<ItemRecord>& records) {
  std::vector<internal::ClassReading> readings;
  for (const auto& r : records) {
    for (const auto& reading : r.readings) readings.push_back({r.item.id, reading.task.assignee, reading.classes});
  }
  CALIPER_ASSIGN_OR_RETURN(auto fit, FitClasses(readings));
  std::vector<quality::ReferenceLabel> out;
  for (const auto& r : records) {
    if (r.readings.size() < 2) continue;
    std::set<std::string> fused;
    for (const auto& [label_class, posterior] : fit) {
      const auto p = posterior.find(r.item.id);
      if (p != posterior.end() && p->second >= 0.5) fused.insert(label_class);
    }
    out.push_back({r.item.id, SetLabel(fused)});
  }
  return out;
}

// The gold answers as reference label sets.
std::vector<quality::ReferenceLabel> GoldReference(const std::vector<core::GoldItem>& gold) {
  std::vector<quality::ReferenceLabel> out;
  for (const auto& g : gold) out.push_back({g.item_id, SetLabel(std::set<std::string>(g.answer.begin(), g.answer.end()))});
  return out;
}

// Each reader's repeat reads against their first readings of the same items (docs/quality.md,
// "Intra-reader reliability"), by reader id: the share of identical label sets and Cohen's
// kappa between the first and the repeat reading as two raters.
std::vector<IntraReaderAgreement> IntraReaderOf(const std::vector<ItemRecord>& records) {
  std::map<std::string, std::vector<quality::Rating>> ratings;  // reader -> first/repeat ratings
  std::map<std::string, IntraReaderAgreement> by_reader;
  for (const auto& r : records) {
    for (const auto& again : r.repeats) {
      const auto first = std::find_if(r.readings.begin(), r.readings.end(),
                                      [&](const ItemReading& x) { return x.task.id == again.task.repeat_of; });
      if (first == r.readings.end()) continue;  // the first reading was sent back since
      const std::string& reader = again.task.assignee;
      IntraReaderAgreement& a = by_reader[reader];
      a.reader = reader;
      ++a.pairs;
      a.agreement += first->classes == again.classes ? 1 : 0;
      ratings[reader].push_back({r.item.id, "first", SetLabel(first->classes)});
      ratings[reader].push_back({r.item.id, "repeat", SetLabel(again.classes)});
    }
  }
  std::vector<IntraReaderAgreement> out;
  for (auto& [reader, a] : by_reader) {
    a.agreement /= static_cast<double>(a.pairs);
    auto set = quality::RatingSet::FromRatings(ratings[reader]);
    auto kappa = set.ok() ? quality::CohenKappa(*set, quality::AgreementWeights::kNone)
                          : Result<quality::AgreementResult>(set.status());
    if (kappa.ok()) {
      a.kappa = kappa->value;
    } else {
      a.note = kappa.status().message();
    }
    out.push_back(a);
  }
  return out;
}

}  // namespace

Result<ProjectQuality> App::GetProjectQuality(const RequestContext& ctx, const std::string& project_id,
                                              std::int64_t bucket_seconds) {
  if (bucket_seconds < 3600) return Error(ErrorCode::kInvalidArgument, "bucket_seconds must be at least 3600");
  std::vector<ItemRecord> records;
  GuidelineFacts guidelines;
  std::vector<core::GoldItem> gold;
  {
    CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kRead));
    CALIPER_RETURN_IF_ERROR(txn->GetProject(project_id).status());
    CALIPER_ASSIGN_OR_RETURN(guidelines, GatherGuidelines(*txn, project_id));
    CALIPER_ASSIGN_OR_RETURN(gold, txn->ListGoldItems(project_id));
    storage::PageRequest page{"", 500};
    for (;;) {
      CALIPER_ASSIGN_OR_RETURN(auto rows, txn->ListItems(project_id, page));
      for (auto& item : rows.rows) {
        CALIPER_ASSIGN_OR_RETURN(auto record, GatherItem(*txn, std::move(item)));
        records.push_back(std::move(record));
      }
      if (rows.next.empty()) break;
      page.after = rows.next;
    }
  }

  ProjectQuality q;
  q.items = static_cast<std::int64_t>(records.size());
  std::vector<quality::Outcome> rejection, adjudication, error_class, error_modality;
  std::vector<quality::Rating> reader_ratings;
  std::vector<quality::ReferenceLabel> reference;
  std::vector<quality::QaItem> qa_items;
  std::vector<quality::QaLabel> qa_labels;
  std::set<std::string> classes(guidelines.settings.schema_classes.begin(), guidelines.settings.schema_classes.end());
  for (const core::RejectReason reason : core::AllRejectReasons()) q.rejections_by_reason.emplace_back(reason, 0);
  for (const auto& r : records) {
    q.readings += static_cast<std::int64_t>(r.readings.size());
    if (r.reference) {
      ++q.adjudicated_items;
      reference.push_back({r.item.id, SetLabel(*r.reference)});
    }
    for (const auto& v : r.reviews) {
      const auto task = std::find_if(r.tasks.begin(), r.tasks.end(), [&](const auto& t) { return t.id == v.task_id; });
      rejection.push_back({Seconds(v.created_at), task == r.tasks.end() ? "" : task->assignee,
                           v.decision == core::ReviewDecision::kReject});
      if (!v.reject_reason) continue;
      for (auto& [reason, count] : q.rejections_by_reason) count += reason == *v.reject_reason ? 1 : 0;
    }
    TimeMicros last_submit = r.item.created_at;
    for (const auto& reading : r.readings) {
      last_submit = std::max(last_submit, reading.task.updated_at);
      for (const auto& c : reading.classes) classes.insert(c);
      reader_ratings.push_back({r.item.id, reading.task.assignee, SetLabel(reading.classes)});
      if (!r.reference) continue;
      const std::int64_t t = Seconds(reading.task.updated_at);
      error_modality.push_back({t, r.item.modality, reading.classes != *r.reference});
      std::set<std::string> involved = reading.classes;
      involved.insert(r.reference->begin(), r.reference->end());
      for (const auto& c : involved) error_class.push_back({t, c, reading.classes.count(c) != r.reference->count(c)});
    }
    if (r.readings.size() >= 2) {
      adjudication.push_back({Seconds(last_submit), r.item.modality, r.reference.has_value()});
    }
    AddQaRows(r, guidelines, qa_items, qa_labels);
  }
  CALIPER_ASSIGN_OR_RETURN(q.rejection, quality::SummariseOutcomes(rejection, bucket_seconds));
  CALIPER_ASSIGN_OR_RETURN(q.adjudication, quality::SummariseOutcomes(adjudication, bucket_seconds));
  CALIPER_ASSIGN_OR_RETURN(q.error_by_class, quality::SummariseOutcomes(error_class, bucket_seconds));
  CALIPER_ASSIGN_OR_RETURN(q.error_by_modality, quality::SummariseOutcomes(error_modality, bucket_seconds));
  CALIPER_ASSIGN_OR_RETURN(q.readers, quality::AnalyseReaders(reader_ratings, reference));
  CALIPER_ASSIGN_OR_RETURN(auto fused, FusedReference(records));
  CALIPER_ASSIGN_OR_RETURN(q.readers_fused, quality::AnalyseReaders(reader_ratings, fused));
  CALIPER_ASSIGN_OR_RETURN(q.readers_gold, quality::AnalyseReaders(reader_ratings, GoldReference(gold)));
  CALIPER_ASSIGN_OR_RETURN(auto overall, AgreementOn("*", records));
  q.agreement.push_back(std::move(overall));
  for (const auto& c : classes) {
    CALIPER_ASSIGN_OR_RETURN(auto per_class, AgreementOn(c, records));
    q.agreement.push_back(std::move(per_class));
  }
  q.findings = quality::RunLabelRules(qa_items, qa_labels, guidelines.settings);
  q.intra_reader = IntraReaderOf(records);

  CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kWrite));
  CALIPER_RETURN_IF_ERROR(CommitWithAudit(
      *txn, Record(ctx, "quality.read", "project", project_id,
                   json{{"items", q.items}, {"readings", q.readings}, {"findings", q.findings.size()}}.dump())));
  return q;
}

Result<std::vector<quality::QaFinding>> internal::ItemQaFindings(storage::Transaction& txn, const core::Item& item,
                                                                 const BlobReader& read_blob) {
  std::vector<quality::QaItem> qa_items;
  std::vector<quality::QaLabel> qa_labels;
  CALIPER_ASSIGN_OR_RETURN(GuidelineFacts guidelines, GatherGuidelines(txn, item.project_id));
  CALIPER_ASSIGN_OR_RETURN(auto record, GatherItem(txn, item));
  AddQaRows(record, guidelines, qa_items, qa_labels);
  // Project-level rules (class balance) say nothing about one item.
  guidelines.settings.schema_classes.clear();
  auto findings = quality::RunLabelRules(qa_items, qa_labels, guidelines.settings);
  // Without intensities: decoding the volume on every submit would keep the reader waiting.
  CALIPER_ASSIGN_OR_RETURN(auto masks, MaskFindings(txn, record.item, MasksNamed(record), read_blob, std::nullopt));
  for (auto& f : masks) findings.push_back(std::move(f));
  return findings;
}

std::vector<storage::QaFindingRow> App::QaRows(const std::string& project_id,
                                               const std::vector<quality::QaFinding>& findings,
                                               const std::string& source) {
  std::vector<storage::QaFindingRow> rows;
  const TimeMicros now = clock_.Now();
  for (const auto& f : findings) {
    rows.push_back({ids_.NewId("qaf"), project_id, f.item, f.rule, std::string(quality::ToString(f.severity)),
                    f.label_class, f.annotation, f.message, f.fix, source, now});
  }
  return rows;
}

Status App::RecordItemQa(storage::Transaction& txn, const RequestContext& ctx, const std::string& item_id,
                         std::vector<AuditRecord>& records) {
  CALIPER_ASSIGN_OR_RETURN(core::Item item, txn.GetItem(item_id));
  CALIPER_ASSIGN_OR_RETURN(auto findings, internal::ItemQaFindings(
                                               txn, item, [&](const std::string& a) { return GetBlob(txn, a); }));
  CALIPER_RETURN_IF_ERROR(txn.ReplaceQaFindings(item.project_id, item.id, QaRows(item.project_id, findings, "submit")));
  records.push_back(Record(ctx, "qa.run", "item", item.id,
                           json{{"project_id", item.project_id}, {"findings", findings.size()}, {"source", "submit"}}
                               .dump()));
  return Status::Ok();
}

Result<QualitySweep> App::SweepQuality(const RequestContext& ctx, const std::string& project_id) {
  CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kWrite));
  CALIPER_RETURN_IF_ERROR(txn->GetProject(project_id).status());
  QualitySweep out;
  const TimeMicros now = clock_.Now();
  // Soft labels: one Dawid–Skene fit per class over every reading of the project.
  CALIPER_ASSIGN_OR_RETURN(auto items, internal::AllPages<core::Item>(
                                           [&](const storage::PageRequest& p) { return txn->ListItems(project_id, p); }));
  out.items = static_cast<std::int64_t>(items.size());
  std::vector<storage::SoftLabel> soft;
  if (!items.empty()) {
    CALIPER_ASSIGN_OR_RETURN(auto readings, internal::ProjectReadings(*txn, items.front()));
    std::map<std::string, std::int64_t> readings_of;
    for (const auto& r : readings) ++readings_of[r.item_id];
    CALIPER_ASSIGN_OR_RETURN(auto fit, FitClasses(readings));
    for (const auto& [label_class, posteriors] : fit) {
      for (const auto& [item_id, p] : posteriors) {
        soft.push_back({item_id, project_id, label_class, "dawid_skene", p, readings_of[item_id], now});
      }
    }
  }
  std::sort(soft.begin(), soft.end(), [](const auto& a, const auto& b) {
    return std::tie(a.item_id, a.label_class) < std::tie(b.item_id, b.label_class);
  });
  CALIPER_RETURN_IF_ERROR(txn->ReplaceSoftLabels(project_id, soft));
  out.soft_labels = static_cast<std::int64_t>(soft.size());
  // QA findings: every rule over every item, the project-level ones too.
  CALIPER_ASSIGN_OR_RETURN(GuidelineFacts guidelines, GatherGuidelines(*txn, project_id));
  std::vector<quality::QaItem> qa_items;
  std::vector<quality::QaLabel> qa_labels;
  std::vector<quality::QaFinding> mask_findings;
  const internal::BlobReader read_blob = [&](const std::string& a) { return GetBlob(*txn, a); };
  for (auto& item : items) {
    CALIPER_ASSIGN_OR_RETURN(auto record, GatherItem(*txn, std::move(item)));
    AddQaRows(record, guidelines, qa_items, qa_labels);
    const NamedMasks named = MasksNamed(record);
    if (named.empty()) continue;
    // A CT item's volume in HU, decoded for its masks only, one item at a time.
    std::optional<std::vector<float>> hu;
    if (record.item.modality == "CT" && HasVolume(record.item)) {
      auto values = [&]() -> Result<std::vector<float>> {
        CALIPER_ASSIGN_OR_RETURN(std::string nifti, read_blob(record.item.content_blob));
        return VolumeValues(nifti);
      }();
      if (values.ok()) {
        hu = std::move(values).value();
      } else if (internal::IsStoreFailure(values.status())) {
        return values.status();
      } else {
        mask_findings.push_back({"mask.unreadable", quality::QaSeverity::kError, record.item.id, "", "",
                                 "the item's CT volume could not be decoded (" + values.status().message() +
                                     "), so mask.outside_body did not run on its masks",
                                 "tell an administrator: the stored volume is damaged"});
      }
    }
    std::optional<std::span<const float>> ct;
    if (hu) ct = std::span<const float>(*hu);
    CALIPER_ASSIGN_OR_RETURN(auto found, MaskFindings(*txn, record.item, named, read_blob, ct));
    for (auto& f : found) mask_findings.push_back(std::move(f));
  }
  auto findings = quality::RunLabelRules(qa_items, qa_labels, guidelines.settings);
  for (auto& f : mask_findings) findings.push_back(std::move(f));
  CALIPER_RETURN_IF_ERROR(txn->ReplaceQaFindings(project_id, std::nullopt, QaRows(project_id, findings, "sweep")));
  out.findings = static_cast<std::int64_t>(findings.size());
  CALIPER_RETURN_IF_ERROR(CommitWithAudit(
      *txn, Record(ctx, "quality.sweep", "project", project_id,
                   json{{"items", out.items}, {"soft_labels", out.soft_labels}, {"findings", out.findings}}.dump())));
  return out;
}

Result<StoredQuality> App::GetStoredQuality(const RequestContext& ctx, const std::string& project_id,
                                            const std::string& item_id) {
  StoredQuality out;
  CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kWrite));
  CALIPER_RETURN_IF_ERROR(txn->GetProject(project_id).status());
  CALIPER_ASSIGN_OR_RETURN(out.soft_labels, txn->ListSoftLabels(project_id, item_id));
  CALIPER_ASSIGN_OR_RETURN(out.findings, txn->ListQaFindings(project_id));
  if (!item_id.empty()) std::erase_if(out.findings, [&](const auto& f) { return f.item_id != item_id; });
  CALIPER_RETURN_IF_ERROR(CommitWithAudit(
      *txn, Record(ctx, "quality.stored_read", "project", project_id,
                   json{{"item_id", item_id}, {"soft_labels", out.soft_labels.size()}, {"findings", out.findings.size()}}
                       .dump())));
  return out;
}

Result<std::vector<quality::QaFinding>> App::GetItemQaFindings(const RequestContext& ctx, const std::string& item_id) {
  std::vector<quality::QaFinding> findings;
  {
    CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kRead));
    CALIPER_ASSIGN_OR_RETURN(core::Item item, txn->GetItem(item_id));
    CALIPER_ASSIGN_OR_RETURN(findings, internal::ItemQaFindings(
                                           *txn, item, [&](const std::string& a) { return GetBlob(*txn, a); }));
  }
  CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kWrite));
  CALIPER_RETURN_IF_ERROR(CommitWithAudit(
      *txn, Record(ctx, "quality.item_read", "item", item_id, json{{"findings", findings.size()}}.dump())));
  return findings;
}

}  // namespace caliper::app

// Lab results: ingest (pseudonymous patient, shifted times, normalised units) and the
// patient's labs for the note reading room. docs/labs.md.

#include <algorithm>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "app/ingest_internal.h"
#include "caliper/app/app.h"
#include "caliper/deid/text_deid.h"

namespace caliper::app {
namespace {

using nlohmann::json;
using storage::TxnMode;

json Optional(const std::optional<double>& v) { return v ? json(*v) : json(nullptr); }

// "low" / "high" against the reference range; null inside it or without one.
json Flag(const ingest::LabRecord& r) {
  if (!r.value) return nullptr;
  if (r.ref_low && *r.value < *r.ref_low) return "low";
  if (r.ref_high && *r.value > *r.ref_high) return "high";
  return nullptr;
}

}  // namespace

std::string LabIngestReportJson(const std::vector<LabIngestResult>& results) {
  json records = json::array();
  int stored = 0;
  for (const auto& r : results) {
    json row = {{"record", r.number}, {"line", r.line}, {"outcome", r.outcome}};
    if (r.outcome == "stored") {
      ++stored;
      row["item_id"] = r.item_id;
      row["normalised"] = r.normalised;
    } else {
      row["error"] = {{"code", r.error.code_name()}, {"message", r.error.message()}};
    }
    records.push_back(std::move(row));
  }
  return json{{"records", records}, {"stored", stored}, {"errors", static_cast<int>(results.size()) - stored}}
      .dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<std::vector<LabIngestResult>> App::IngestLabs(const RequestContext& ctx, const std::string& project_id,
                                                     const std::vector<ingest::LabRecord>& records) {
  CALIPER_ASSIGN_OR_RETURN(core::TextSettings settings, GetTextSettings(ctx, project_id));
  CALIPER_ASSIGN_OR_RETURN(std::string secret, BeginIngest(ctx, project_id, "labs.ingest",
                                                           json{{"records", records.size()}}.dump()));
  // The cohort attributes are de-identified as a note's metadata is (short texts).
  CALIPER_ASSIGN_OR_RETURN(auto deid, internal::TextDeidentifierFor(settings, secret, 64 * 1024));
  std::vector<LabIngestResult> results(records.size());
  std::map<std::string, std::vector<std::size_t>> by_patient;  // source patient -> record indexes
  for (std::size_t i = 0; i < records.size(); ++i) {
    results[i].number = records[i].number;
    results[i].line = records[i].line;
    if (!records[i].status.ok()) {
      results[i].outcome = "error";
      results[i].error = records[i].status;
    } else {
      by_patient[records[i].patient].push_back(i);
    }
  }
  for (auto& [patient, indexes] : by_patient) {
    const std::string patient_key = PatientKeyFor(secret, patient);
    const TimeMicros shift = deid::PatientDateShiftDays(secret, patient_key) * 24 * kMicrosPerHour;
    std::stable_sort(indexes.begin(), indexes.end(),
                     [&](std::size_t a, std::size_t b) { return records[a].time < records[b].time; });
    json rows = json::array();
    json cohort = json::object();  // each attribute as the patient's latest result gives it
    for (std::size_t i : indexes) {
      const ingest::LabRecord& r = records[i];
      for (const auto& [name, value] : r.cohort) cohort[name] = value;
      json row = {{"time", FormatRfc3339(r.time + shift)}, {"loinc", r.loinc}, {"name", r.name},
                  {"value", Optional(r.value)}, {"value_text", r.value_text}, {"unit", r.unit},
                  {"ref_low", Optional(r.ref_low)}, {"ref_high", Optional(r.ref_high)}, {"flag", Flag(r)},
                  {"normalised", nullptr}};
      if (r.value) {
        if (auto n = ingest::NormaliseLabValue(r.loinc, *r.value, r.unit)) {
          row["normalised"] = {{"value", n->value}, {"unit", n->unit}, {"analyte", n->analyte}};
          results[i].normalised = true;
        }
      }
      rows.push_back(std::move(row));
    }
    if (Status s = internal::DeidentifyMetadata(*deid, patient_key, cohort); !s.ok()) {
      for (std::size_t i : indexes) results[i] = LabIngestResult{results[i].number, results[i].line, "error", "", false, s};
      continue;
    }
    core::Item item;
    item.id = ids_.NewId("itm");
    item.project_id = project_id;
    item.data_type = core::DataType::kLabs;
    item.modality = "LAB";
    item.patient_key = patient_key;
    item.cohort_json = cohort.dump(-1, ' ', false, json::error_handler_t::replace);
    item.content_type = "application/json";
    item.created_at = clock_.Now();
    item.created_by = ctx.actor();
    std::istringstream content(json{{"results", rows}}.dump(-1, ' ', false, json::error_handler_t::replace));
    auto stored = [&]() -> Status {
      CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kWrite));
      CALIPER_RETURN_IF_ERROR(InsertItemWithContent(*txn, item, content));
      return CommitWithAudit(*txn, Record(ctx, "labs.create", "item", item.id,
                                          json{{"project_id", project_id}, {"results", rows.size()}}.dump()));
    }();
    if (!stored.ok()) return stored;  // the store failed: nothing more can be stored
    for (std::size_t i : indexes) {
      results[i].outcome = "stored";
      results[i].item_id = item.id;
    }
  }
  return results;
}

Result<std::string> App::PatientLabsJson(const RequestContext& ctx, const std::string& item_id) {
  std::vector<core::Item> labs;
  std::string patient_key;
  {
    CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kRead));
    CALIPER_ASSIGN_OR_RETURN(core::Item item, txn->GetItem(item_id));
    patient_key = item.patient_key;
    CALIPER_ASSIGN_OR_RETURN(labs, txn->ListItemsOfPatient(item.project_id, item.patient_key, core::DataType::kLabs));
  }
  json results = json::array();
  for (const core::Item& lab : labs) {
    CALIPER_ASSIGN_OR_RETURN(std::string content, ReadItemContent(ctx, lab.id));
    json doc = json::parse(content, nullptr, false);
    if (!doc.is_object() || !doc.contains("results")) continue;  // a labs item uploaded in another shape
    for (auto& row : doc["results"]) {
      row["item_id"] = lab.id;
      results.push_back(std::move(row));
    }
  }
  std::stable_sort(results.begin(), results.end(), [](const json& a, const json& b) {
    return a.value("time", "") < b.value("time", "");
  });
  return json{{"patient_key", patient_key}, {"results", results}}.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace caliper::app

// Waveforms in and out (docs/waveforms.md): records read into the common model, de-identified
// (DICOM) or stripped by their readers (WFDB, EDF), stored as one encrypted item each, and read
// back whole, as windows of samples, or as their reference annotations.

#include <algorithm>
#include <cmath>
#include <sstream>

#include <nlohmann/json.hpp>

#include "app/ingest_internal.h"
#include "app/markup_internal.h"
#include "caliper/app/app.h"
#include "caliper/core/intervals.h"
#include "caliper/dicom/waveform.h"

namespace caliper::app {
namespace {

using nlohmann::json;
using storage::TxnMode;

constexpr char kWaveformType[] = "application/x-caliper-waveform";
constexpr std::int64_t kMaxWindowValues = 2'000'000;

json ErrorJson(const Status& s) { return json{{"code", s.code_name()}, {"message", s.message()}}; }

// The EDF patient field's first subfield (EDF+: the hospital code), or the whole field.
std::string EdfPatientSource(const std::string& bytes) {
  if (bytes.size() < 88) return {};
  std::string field = bytes.substr(8, 80);
  std::istringstream in(field);
  std::string first;
  in >> first;
  return first.empty() || first == "X" ? field : first;
}

}  // namespace

std::string WaveformIngestReportJson(const std::vector<WaveformIngestResult>& results) {
  json records = json::array();
  int stored = 0, errors = 0;
  for (const auto& r : results) {
    json row = {{"name", r.name},       {"format", r.format},   {"outcome", r.outcome},
                {"item_id", r.item_id}, {"leads", r.leads},     {"samples", r.samples},
                {"sampling_rate_hz", r.sampling_rate_hz},      {"annotations", r.annotations},
                {"warnings", r.warnings}};
    if (!r.error.ok()) row["error"] = ErrorJson(r.error);
    (r.outcome == "stored" ? stored : errors) += 1;
    records.push_back(std::move(row));
  }
  return json{{"records", records}, {"stored", stored}, {"errors", errors}}.dump(-1, ' ', false,
                                                                                json::error_handler_t::replace);
}

Result<std::vector<WaveformIngestResult>> App::IngestWaveforms(const RequestContext& ctx, const std::string& project_id,
                                                               waveform::Grouping grouping) {
  CALIPER_ASSIGN_OR_RETURN(std::string secret,
                           BeginIngest(ctx, project_id, "waveform.ingest",
                                       json{{"records", grouping.records.size()},
                                            {"left_over", grouping.left_over.size()}}
                                           .dump()));
  // DICOM waveforms are de-identified with the project's DICOM settings, as images are.
  CALIPER_ASSIGN_OR_RETURN(const core::DicomSettings dicom_settings, GetDicomSettings(ctx, project_id));
  std::unique_ptr<dicom::DicomDeidentifier> deid;
  std::vector<WaveformIngestResult> results;
  for (waveform::RecordInput& record : grouping.records) {
    WaveformIngestResult r;
    r.name = record.name;
    auto attempt = [&]() -> Status {
      waveform::Waveform w;
      std::string patient_source;
      std::string cohort = "{}";
      std::string modality = "ECG";
      if (record.format == "wfdb") {
        CALIPER_ASSIGN_OR_RETURN(w, waveform::ReadWfdb(record.files, record.name));
        patient_source = "#wfdb\x1f" + record.name.substr(0, record.name.size() - 4);
      } else if (record.format == "edf") {
        const std::string& bytes = record.files.begin()->second;
        CALIPER_ASSIGN_OR_RETURN(w, waveform::ReadEdf(bytes));
        patient_source = "#edf\x1f" + EdfPatientSource(bytes);
      } else if (record.format == "dicom") {
        if (deid == nullptr) {
          CALIPER_ASSIGN_OR_RETURN(deid, internal::DeidentifierFor(secret, dicom_settings));
        }
        // De-identified before anything is read from it; the original bytes are dropped.
        CALIPER_ASSIGN_OR_RETURN(auto clean, deid->Deidentify(record.files.begin()->second));
        record.files.clear();
        if (!dicom::IsWaveformSopClass(clean.sop_class_uid)) {
          return Error(ErrorCode::kInvalidArgument, "not a DICOM waveform (use DICOM ingest for images)");
        }
        CALIPER_ASSIGN_OR_RETURN(w, dicom::ReadDicomWaveform(clean.bytes));
        w.age_band = clean.cohort.age_band;
        w.sex = clean.cohort.sex;
        patient_source = internal::DicomPatientSource(clean.patient);
        cohort = internal::CohortJson(clean.cohort);
        modality = internal::ModalityOf(clean.cohort.modality);
      } else {
        return Error(ErrorCode::kInvalidArgument, "unknown record format " + record.format);
      }
      record.files.clear();
      r.format = w.source_format;
      if (record.format != "dicom") {
        json c = json::object();
        if (!w.age_band.empty()) c["age_band"] = w.age_band;
        if (!w.sex.empty()) c["sex"] = w.sex;
        c["modality"] = modality;
        cohort = c.dump();
      }
      const std::string stored = waveform::EncodeStored(w);
      CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kWrite));
      core::Item item;
      item.id = ids_.NewId("itm");
      item.project_id = project_id;
      item.data_type = core::DataType::kWaveforms;
      item.modality = modality;
      item.patient_key = PatientKeyFor(secret, patient_source);
      item.cohort_json = cohort;
      item.content_type = kWaveformType;
      item.created_at = clock_.Now();
      item.created_by = ctx.actor();
      std::istringstream in(stored);
      CALIPER_RETURN_IF_ERROR(InsertItemWithContent(*txn, item, in));
      CALIPER_RETURN_IF_ERROR(CommitWithAudit(
          *txn, Record(ctx, "item.create", "item", item.id,
                       json{{"project_id", project_id}, {"data_type", "waveforms"}, {"source", w.source_format},
                            {"leads", w.leads.size()}, {"samples", w.samples}, {"annotations", w.annotations.size()}}
                           .dump())));
      r.item_id = item.id;
      r.leads = static_cast<std::int64_t>(w.leads.size());
      r.samples = w.samples;
      r.sampling_rate_hz = w.sampling_rate_hz;
      r.annotations = static_cast<std::int64_t>(w.annotations.size());
      r.warnings = w.warnings;
      return Status::Ok();
    };
    Status s = attempt();
    if (!s.ok() && internal::IsStoreFailure(s)) return s;
    r.outcome = s.ok() ? "stored" : "error";
    r.error = s;
    results.push_back(std::move(r));
  }
  for (auto& [name, why] : grouping.left_over) {
    WaveformIngestResult r;
    r.name = name;
    r.outcome = "error";
    r.error = why;
    results.push_back(std::move(r));
  }
  return results;
}

Result<std::pair<core::Item, waveform::Waveform>> App::LoadWaveform(const std::string& item_id) {
  core::Item item;
  {
    CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kRead));
    CALIPER_ASSIGN_OR_RETURN(item, txn->GetItem(item_id));
  }
  if (item.data_type != core::DataType::kWaveforms || item.content_type != kWaveformType) {
    return Error(ErrorCode::kNotFound, "the item has no waveform");
  }
  CALIPER_ASSIGN_OR_RETURN(std::string bytes, DecryptContent(item));
  CALIPER_ASSIGN_OR_RETURN(waveform::Waveform w, waveform::DecodeStored(bytes));
  return std::pair{std::move(item), std::move(w)};
}

Result<waveform::Waveform> App::ReadWaveform(const RequestContext& ctx, const std::string& item_id,
                                             const std::string& action) {
  CALIPER_ASSIGN_OR_RETURN(auto loaded, LoadWaveform(item_id));
  CALIPER_RETURN_IF_ERROR(Audit(Record(ctx, action, "item", loaded.first.id)));
  return std::move(loaded.second);
}

Result<WaveformWindow> App::ReadWaveformWindow(const RequestContext& ctx, const std::string& item_id,
                                               const WaveformWindowRequest& request) {
  const double from_s = request.from_s.value_or(0);
  if (!std::isfinite(from_s) || from_s < 0) return Error(ErrorCode::kInvalidArgument, "from_s must be 0 or more");
  if (request.to_s && !(std::isfinite(*request.to_s) && *request.to_s > from_s)) {
    return Error(ErrorCode::kInvalidArgument, "to_s must be after from_s");
  }
  CALIPER_ASSIGN_OR_RETURN(auto loaded, LoadWaveform(item_id));
  const core::Item& item = loaded.first;
  const waveform::Waveform& record = loaded.second;
  const waveform::Waveform* w = &record;
  if (!request.group.empty() && request.group != record.group_label) {
    auto it = std::find_if(record.extra_groups.begin(), record.extra_groups.end(),
                           [&](const waveform::Waveform& g) { return g.group_label == request.group; });
    if (it == record.extra_groups.end()) return Error(ErrorCode::kInvalidArgument, "the record has no group " + request.group);
    w = &*it;
  }
  const double duration = w->DurationSeconds();
  if (from_s >= duration) {
    return Error(ErrorCode::kInvalidArgument, "from_s lies beyond the record (" + std::to_string(duration) + " s)");
  }
  const double to_s = std::min(request.to_s.value_or(from_s + 10), duration);
  if (request.to_s && *request.to_s > duration + 1e-9) {
    return Error(ErrorCode::kInvalidArgument, "to_s lies beyond the record (" + std::to_string(duration) + " s)");
  }
  WaveformWindow out;
  out.sampling_rate_hz = w->sampling_rate_hz;
  out.start_sample = static_cast<std::int64_t>(std::floor(from_s * w->sampling_rate_hz));
  const std::int64_t end = std::min<std::int64_t>(w->samples, static_cast<std::int64_t>(std::ceil(to_s * w->sampling_rate_hz)));
  std::vector<const waveform::Lead*> leads;
  if (request.leads.empty()) {
    for (const auto& l : w->leads) leads.push_back(&l);
  } else {
    for (const std::string& name : request.leads) {
      auto it = std::find_if(w->leads.begin(), w->leads.end(), [&](const waveform::Lead& l) { return l.name == name; });
      if (it == w->leads.end()) return Error(ErrorCode::kInvalidArgument, "the record has no lead " + name);
      leads.push_back(&*it);
    }
  }
  if ((end - out.start_sample) * static_cast<std::int64_t>(leads.size()) > kMaxWindowValues) {
    return Error(ErrorCode::kInvalidArgument, "the window holds more than 2000000 values: ask for fewer seconds or leads");
  }
  for (const waveform::Lead* l : leads) {
    out.names.push_back(l->name);
    std::vector<double>& v = out.values_mv.emplace_back();
    v.reserve(static_cast<std::size_t>(end - out.start_sample));
    for (std::int64_t s = out.start_sample; s < end; ++s) v.push_back(l->Millivolts(static_cast<std::size_t>(s)));
  }
  CALIPER_RETURN_IF_ERROR(Audit(Record(ctx, "waveform.samples_read", "item", item.id,
                                       json{{"from_sample", out.start_sample}, {"to_sample", end},
                                            {"leads", out.names}, {"group", request.group}}
                                           .dump())));
  return out;
}

// ---- interval and beat labels -------------------------------------------------------------------

Result<MarkupVersion> App::PutIntervals(const RequestContext& ctx, const std::string& item_id,
                                        const std::string& document) {
  CALIPER_ASSIGN_OR_RETURN(auto loaded, LoadWaveform(item_id));
  const core::Item& item = loaded.first;
  CALIPER_ASSIGN_OR_RETURN(core::IntervalMarkup markup,
                           core::ParseIntervalMarkup(document, loaded.second.DurationSeconds()));
  CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kWrite));
  CALIPER_ASSIGN_OR_RETURN(auto guideline, internal::CurrentGuidelineFor(*txn, item.project_id, "intervals"));
  for (std::size_t i = 0; i < markup.intervals.size(); ++i) {
    CALIPER_RETURN_IF_ERROR(internal::CheckMarkupClass(guideline, markup.intervals[i].label_class, core::DataType::kWaveforms,
                                             "intervals[" + std::to_string(i) + "]"));
  }
  for (std::size_t i = 0; i < markup.beats.size(); ++i) {
    CALIPER_RETURN_IF_ERROR(internal::CheckMarkupClass(guideline, markup.beats[i].label_class, core::DataType::kWaveforms,
                                             "beats[" + std::to_string(i) + "]"));
  }
  json stored = json::parse(core::IntervalMarkupJson(markup));
  stored["guideline_version_id"] = guideline.version.id;
  return StoreMarkup(*txn, ctx, item, storage::MarkupKind::kIntervals, stored.dump(),
                     json{{"intervals", markup.intervals.size()}, {"beats", markup.beats.size()},
                          {"guideline_version_id", guideline.version.id}}
                         .dump());
}

Result<IntervalAgreementReport> App::IntervalAgreementOf(const RequestContext& ctx, const std::string& item_id) {
  CALIPER_ASSIGN_OR_RETURN(auto loaded, LoadWaveform(item_id));
  CALIPER_ASSIGN_OR_RETURN(auto readings, ListReadersMarkup(ctx, item_id, storage::MarkupKind::kIntervals));
  const double duration = loaded.second.DurationSeconds();
  IntervalAgreementReport report;
  std::vector<std::vector<quality::TimeInterval>> intervals;
  std::vector<std::vector<quality::BeatLabel>> beats;
  for (const MarkupVersion& m : readings) {
    json doc = json::parse(m.document, nullptr, false);
    if (!doc.is_object()) return Error(ErrorCode::kIntegrity, "a stored intervals document is not JSON");
    doc.erase("guideline_version_id");
    CALIPER_ASSIGN_OR_RETURN(core::IntervalMarkup markup, core::ParseIntervalMarkup(doc.dump(), duration));
    report.readers.push_back({m.author, m.version, markup.intervals.size(), markup.beats.size()});
    auto& iv = intervals.emplace_back();
    for (const auto& x : markup.intervals) iv.push_back({x.onset_s, x.offset_s, x.label_class});
    auto& bv = beats.emplace_back();
    for (const auto& x : markup.beats) bv.push_back({x.time_s, x.label_class});
  }
  for (std::size_t a = 0; a < readings.size(); ++a) {
    for (std::size_t b = a + 1; b < readings.size(); ++b) {
      CALIPER_ASSIGN_OR_RETURN(auto agreement,
                               quality::CompareIntervals(intervals[a], intervals[b], beats[a], beats[b], report.options));
      report.pairs.push_back({readings[a].author, readings[b].author, std::move(agreement)});
    }
  }
  return report;
}

}  // namespace caliper::app

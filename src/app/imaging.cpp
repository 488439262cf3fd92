// Imaging in (docs/imaging.md): DICOM de-identified and stored as one item per series with its
// volume as NIfTI, NIfTI files as items, slices rendered from an item's volume, and readers'
// masks on it.

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <map>
#include <numeric>
#include <span>
#include <sstream>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "app/disagreement.h"
#include "app/evidence.h"
#include "app/ingest_internal.h"
#include "app/mask_evidence.h"
#include "app/lru_cache.h"
#include "app/workflow_internal.h"
#include "caliper/app/app.h"
#include "caliper/dicom/deid.h"
#include "caliper/dicom/label_map.h"
#include "caliper/dicom/render.h"
#include "caliper/exports/snapshot.h"
#include "caliper/ingest/bids.h"
#include "caliper/ingest/nifti_io.h"
#include "caliper/ingest/volume_nifti.h"
#include "caliper/quality/staple.h"
#include "caliper/security/crypto.h"

namespace caliper::app {
namespace internal {

using nlohmann::json;

bool IsStoreFailure(const Status& s) {
  return s.code() == ErrorCode::kStorage || s.code() == ErrorCode::kIo || s.code() == ErrorCode::kUnavailable;
}

Result<dicom::DeidOptions> DeidOptionsOf(const core::DicomSettings& settings) {
  constexpr std::size_t kMaxEntries = 1000;
  if (settings.options.size() > kMaxEntries || settings.safe_private.size() > kMaxEntries ||
      settings.blanking.size() > kMaxEntries) {
    return Error(ErrorCode::kInvalidArgument, "at most 1000 options, safe private elements and blanking rules each");
  }
  std::string list;
  for (const std::string& name : settings.options) list += name + ",";
  return dicom::DeidOptionsFromSpecs(list, settings.safe_private, settings.blanking);
}

Status NormaliseDicomSettings(core::DicomSettings& settings) {
  CALIPER_ASSIGN_OR_RETURN(dicom::DeidOptions options, DeidOptionsOf(settings));
  settings.options = dicom::DeidOptionNames(options);
  return Status::Ok();
}

Result<core::DicomSettings> DicomSettingsIn(storage::Transaction& txn, const std::string& project_id) {
  auto stored = txn.GetDicomSettings(project_id);
  if (stored.ok() || stored.status().code() != ErrorCode::kNotFound) return stored;
  core::DicomSettings defaults;
  defaults.project_id = project_id;
  return defaults;
}

Result<std::unique_ptr<dicom::DicomDeidentifier>> DeidentifierFor(const std::string& secret,
                                                                  const core::DicomSettings& settings) {
  CALIPER_ASSIGN_OR_RETURN(dicom::DeidOptions options, DeidOptionsOf(settings));
  security::Key key{};
  std::copy_n(secret.begin(), std::min(secret.size(), key.size()), key.begin());
  const security::Key subkey = security::DeriveSubkey(key, "dicom-deid");
  security::SecureZero(key.data(), key.size());
  return dicom::DicomDeidentifier::Create(
      std::move(options), [subkey](std::string_view m) { return security::KeyedBlake2b(subkey, m); });
}

std::string CohortJson(const dicom::CohortMetadata& c) {
  json out = json::object();
  auto put = [&](const char* key, const std::string& value) {
    if (!value.empty()) out[key] = value;
  };
  put("age_band", c.age_band);
  put("sex", c.sex);
  put("manufacturer", c.manufacturer);
  put("model", c.model);
  put("field_strength_t", c.field_strength);
  put("slice_thickness_mm", c.slice_thickness);
  put("kvp", c.kvp);
  put("body_part", c.body_part);
  put("series_description", c.series_description);
  put("protocol", c.protocol);
  put("ethnicity", c.ethnicity);
  put("site", c.site);
  put("acquisition_year", c.acquisition_year);
  put("modality", c.modality);
  return out.dump();
}

std::string ModalityOf(const std::string& modality) {
  if (modality.empty() || modality.size() > 32) return "OT";
  return modality;
}

std::string DicomPatientSource(const dicom::PatientLink& p) {
  if (p.original_patient_id.empty()) return "#dicom\x1f" + p.pseudonymous_id;
  return p.original_issuer.empty() ? p.original_patient_id : p.original_issuer + "\x1f" + p.original_patient_id;
}

}  // namespace internal

namespace {

using internal::CohortJson;
using internal::DeidentifierFor;
using internal::IsStoreFailure;
using internal::ModalityOf;

using nlohmann::json;
using storage::TxnMode;

// The data key that encrypts re-identification links is kept under this reserved patient key
// ('#' cannot start a patient key), so the links are a project's, not a patient's.
constexpr char kLinkOwner[] = "#reid-links";
constexpr char kNiftiType[] = "application/gzip";
// Masks and NIfTI uploads: at most this many voxels (all volumes of a file).
constexpr std::int64_t kMaxVoxels = std::int64_t{1} << 30;
// A private coding scheme (PS3.16 8.2: designators starting "99" are local) for segments whose
// class names no code of its own.
constexpr char kLocalScheme[] = "99CALIPER";

json ErrorJson(const Status& s) { return json{{"code", s.code_name()}, {"message", s.message()}}; }

// Where a NIfTI's voxels lie, as the dicom part says it: LPS, 4x4.
dicom::Affine LpsAffine(const ingest::NiftiGeometry& geometry) {
  const auto ras = ingest::BestAffine(geometry);
  dicom::Affine a{};
  for (int r = 0; r < 3; ++r) a[r] = ras[r];
  a[3] = {0, 0, 0, 1};
  return dicom::LpsToRas(a);  // the same flip both ways
}

// A decoded NIfTI volume in the dicom part's terms (LPS affine, i fastest).
dicom::Volume VolumeFromNifti(ingest::NiftiVolume nifti, const std::string& modality) {
  dicom::Volume v;
  for (int d = 0; d < 3; ++d) {
    v.dims[d] = static_cast<int>(nifti.geometry.dims[d]);
    v.spacing_mm[d] = nifti.geometry.spacing_mm[d];
  }
  v.lps = LpsAffine(nifti.geometry);
  v.values = std::move(nifti.values);
  v.modality = modality;
  return v;
}

// The volume as .nii.gz: int16 when every value is a whole number that fits, else float32.
Result<std::vector<std::uint8_t>> EncodeVolume(const ingest::NiftiVolume& v) {
  const bool whole = std::all_of(v.values.begin(), v.values.end(), [](float x) {
    return std::isfinite(x) && x == std::round(x) && x >= -32768.0f && x <= 32767.0f;
  });
  if (!whole) return ingest::EncodeNiftiFloat32(v.geometry, v.values, /*gzip=*/true);
  std::vector<std::int16_t> ints(v.values.begin(), v.values.end());
  return ingest::EncodeNiftiInt16(v.geometry, ints, /*gzip=*/true);
}

std::istringstream StreamOf(const std::vector<std::uint8_t>& bytes) {
  return std::istringstream(std::string(bytes.begin(), bytes.end()));
}

// The segments labels 1..N stand for: the current guideline's segmentation classes in schema
// order (label k = the k-th), or, without such classes, any label 1..255 under a local code.
struct SegmentTable {
  std::vector<dicom::Segment> by_class;  // empty: no guideline with segmentation classes
};

std::string SchemeOf(const std::string& system) {
  if (system == "SNOMED CT") return "SCT";
  if (system == "RadLex") return "RADLEX";
  if (system == "LOINC") return "LN";
  return system;
}

SegmentTable SegmentsOf(const core::LabelSchema& schema) {
  SegmentTable table;
  for (const core::LabelClass& cls : schema.classes) {
    if (cls.kind != "segmentation" || table.by_class.size() == 255) continue;
    dicom::Segment s;
    s.label = static_cast<std::uint8_t>(table.by_class.size() + 1);
    s.class_id = cls.id;
    s.name = cls.name;
    s.category = {"segmentation", kLocalScheme, "Segmentation class"};
    s.type = {cls.id, kLocalScheme, cls.name};
    if (auto code = core::PrimaryCode(cls)) {
      s.type = {code->code, SchemeOf(code->system), code->display.empty() ? cls.name : code->display};
    }
    table.by_class.push_back(std::move(s));
  }
  return table;
}

// The re-identification link of an instance's series, as stored encrypted (only a data
// steward reads it back).
std::string LinkJson(const dicom::DeidResult& r) {
  return json{{"original_patient_id", r.patient.original_patient_id},
              {"original_issuer", r.patient.original_issuer},
              {"original_study_uid", r.patient.original_study_uid},
              {"pseudonymous_id", r.patient.pseudonymous_id},
              {"study_uid", r.study_uid}}
      .dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace

std::string DeidActionsJson(const dicom::DeidActions& a) {
  // Written field by field, as an ordered_json of these fields dumps them (compact): it is part of
  // every line of `caliper deid dicom`'s report, where building that object cost ten times more.
  const std::pair<const char*, int> counts[] = {{"dummy", a.dummy},
                                                {"zeroed", a.zeroed},
                                                {"removed", a.removed},
                                                {"kept", a.kept},
                                                {"cleaned", a.cleaned},
                                                {"uid_remapped", a.uid_remapped},
                                                {"private_removed", a.private_removed},
                                                {"private_kept", a.private_kept},
                                                {"dates_shifted", a.dates_shifted},
                                                {"pixels_blanked", a.pixels_blanked}};
  std::string out = "{";
  for (const auto& [name, count] : counts) {
    out += '"';
    out += name;
    out += "\":";
    out += std::to_string(count);
    out += ',';
  }
  out += "\"pixels_decompressed_from\":";
  out +=
      a.pixels_decompressed_from.empty()
          ? "null"
          : json(a.pixels_decompressed_from).dump(-1, ' ', false, json::error_handler_t::replace);
  out += '}';
  return out;
}

std::string DicomIngestReportJson(const DicomIngestReport& report) {
  json files = json::array();
  std::map<std::string, int> counts = {{"stored", 0}, {"duplicate", 0}, {"quarantined", 0}, {"error", 0}};
  for (const auto& f : report.files) {
    json row = {{"name", f.name}, {"outcome", f.outcome}};
    if (!f.item_id.empty()) row["item_id"] = f.item_id;
    if (!f.sop_instance_uid.empty()) row["sop_instance_uid"] = f.sop_instance_uid;
    if (!f.series_uid.empty()) row["series_uid"] = f.series_uid;
    if (!f.modality.empty()) row["modality"] = f.modality;
    if (!f.reasons.empty()) row["reasons"] = f.reasons;
    if (!f.quarantine_id.empty()) row["quarantine_id"] = f.quarantine_id;
    if (f.actions) row["actions"] = json::parse(DeidActionsJson(*f.actions));
    if (!f.error.ok()) row["error"] = ErrorJson(f.error);
    ++counts[f.outcome];
    files.push_back(std::move(row));
  }
  json series = json::array();
  for (const auto& s : report.series) {
    series.push_back({{"item_id", s.item_id},
                      {"series_uid", s.series_uid},
                      {"modality", s.modality},
                      {"created", s.created},
                      {"added", s.added},
                      {"instances", s.instances},
                      {"volume", s.no_volume.empty() ? json{{"dims", s.dims}} : json(nullptr)},
                      {"no_volume", s.no_volume},
                      {"warnings", s.warnings}});
  }
  return json{{"files", files},
              {"series", series},
              {"stored", counts["stored"]},
              {"duplicates", counts["duplicate"]},
              {"quarantined", counts["quarantined"]},
              {"errors", counts["error"]}}
      .dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string NiftiIngestReportJson(const std::vector<NiftiIngestResult>& results) {
  json files = json::array();
  int stored = 0, errors = 0;
  for (const auto& r : results) {
    json row = {{"name", r.name}, {"outcome", r.outcome}, {"item_ids", r.item_ids}, {"dims", r.dims}};
    if (!r.error.ok()) row["error"] = ErrorJson(r.error);
    (r.outcome == "stored" ? stored : errors) += 1;
    files.push_back(std::move(row));
  }
  return json{{"files", files}, {"stored", stored}, {"errors", errors}}.dump(-1, ' ', false,
                                                                              json::error_handler_t::replace);
}

// ---- DICOM --------------------------------------------------------------------------------------

// Builds the volume of series item `item` from `instances` (every instance it holds, Part 10
// bytes) and stores it, in `txn`, as the item's content; reports into `sr`. A series that does
// not build keeps its earlier content and says why in sr.no_volume.
Status App::StoreSeriesVolume(storage::Transaction& txn, const core::Item& item,
                              const std::vector<std::span<const std::uint8_t>>& instances, DicomSeriesResult& sr) {
  sr.instances = static_cast<std::int64_t>(instances.size());
  auto volume = dicom::BuildVolume(instances);
  if (!volume.ok()) {
    // Incomplete (a gap, irregular spacing; C-STORE sends a series over many associations) or
    // several acquisitions at one position: stored, and said.
    sr.no_volume = volume.status().message();
    sr.warnings.push_back("no volume built: " + sr.no_volume);
    return Status::Ok();
  }
  CALIPER_ASSIGN_OR_RETURN(auto nifti, ingest::VolumeToNifti(*volume, /*gzip=*/true));
  auto in = StreamOf(nifti);
  CALIPER_ASSIGN_OR_RETURN(auto put, PutBlob(txn, item.project_id, item.patient_key, in));
  CALIPER_RETURN_IF_ERROR(txn.UpdateItemContent(item.id, put.address, kNiftiType, put.bytes));
  sr.dims = volume->dims;
  sr.warnings = volume->warnings;
  sr.no_volume.clear();
  return Status::Ok();
}

Result<core::DicomSettings> App::GetDicomSettings(const RequestContext& ctx, const std::string& project_id) {
  (void)ctx;
  CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kRead));
  CALIPER_RETURN_IF_ERROR(txn->GetProject(project_id).status());
  return internal::DicomSettingsIn(*txn, project_id);
}

security::AuditRecord App::DicomSettingsRecord(const RequestContext& ctx, const core::DicomSettings& settings) const {
  return Record(ctx, "project.dicom_settings", "project", settings.project_id,
                json{{"options", settings.options},
                     {"safe_private", settings.safe_private},
                     {"blanking", settings.blanking}}
                    .dump(-1, ' ', false, json::error_handler_t::replace));
}

Result<core::DicomSettings> App::PutDicomSettings(const RequestContext& ctx, core::DicomSettings settings) {
  CALIPER_RETURN_IF_ERROR(internal::NormaliseDicomSettings(settings));
  settings.updated_at = clock_.Now();
  CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kWrite));
  CALIPER_RETURN_IF_ERROR(txn->GetProject(settings.project_id).status());
  CALIPER_RETURN_IF_ERROR(txn->PutDicomSettings(settings));
  CALIPER_RETURN_IF_ERROR(CommitWithAudit(*txn, DicomSettingsRecord(ctx, settings)));
  return settings;
}

Result<DicomIngestReport> App::IngestDicom(const RequestContext& ctx, const std::string& project_id,
                                           std::vector<ImagingInput> inputs, bool build_volumes) {
  CALIPER_ASSIGN_OR_RETURN(core::DicomSettings settings, GetDicomSettings(ctx, project_id));
  CALIPER_ASSIGN_OR_RETURN(
      std::string secret,
      BeginIngest(ctx, project_id, "dicom.ingest",
                  json{{"files", inputs.size()}, {"options", settings.options}}.dump(-1, ' ', false,
                                                                                     json::error_handler_t::replace)));
  CALIPER_ASSIGN_OR_RETURN(auto deid, DeidentifierFor(secret, settings));

  DicomIngestReport report;
  report.files.resize(inputs.size());
  struct Pending {
    std::size_t index;  // into report.files
    SeriesInstance instance;
  };
  std::map<std::string, std::vector<Pending>> by_series;
  std::map<std::string, std::size_t> first_of_sop;  // within this ingest
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    DicomFileResult& f = report.files[i];
    f.name = inputs[i].name;
    auto r = deid->Deidentify(inputs[i].bytes);
    std::string().swap(inputs[i].bytes);  // the original, with its identifiers, is not kept
    if (!r.ok()) {
      f.outcome = "error";
      f.error = r.status();
      continue;
    }
    f.sop_instance_uid = r->sop_instance_uid;
    f.series_uid = r->series_uid;
    f.modality = r->cohort.modality;
    f.actions = r->actions;
    if (r->sop_instance_uid.empty() || r->series_uid.empty()) {
      f.outcome = "error";
      f.error = Error(ErrorCode::kInvalidArgument, "the instance has no SOP Instance UID or no Series Instance UID");
      continue;
    }
    if (!first_of_sop.emplace(r->sop_instance_uid, i).second) {
      f.outcome = "duplicate";  // its item (or quarantine entry) is filled in below
      continue;
    }
    SeriesInstance instance;
    instance.sop_instance_uid = r->sop_instance_uid;
    instance.study_uid = r->study_uid;
    instance.patient_key = PatientKeyFor(secret, internal::DicomPatientSource(r->patient));
    instance.modality = ModalityOf(r->cohort.modality);
    instance.cohort_json = CohortJson(r->cohort);
    instance.link_json = LinkJson(*r);
    instance.bytes = std::move(r->bytes);
    instance.actions = r->actions;
    if (r->quarantine) {
      f.reasons = r->burned_in_reasons;
      Status s = QuarantineInstance(ctx, project_id, r->series_uid, std::move(instance), f);
      if (!s.ok()) {
        if (IsStoreFailure(s)) return s;
        f.outcome = "error";
        f.error = s;
      }
      continue;
    }
    by_series[r->series_uid].push_back({i, std::move(instance)});
  }

  for (auto& [series_uid, pending] : by_series) {
    std::vector<SeriesInstance> instances;
    for (Pending& p : pending) instances.push_back(std::move(p.instance));
    DicomSeriesResult sr;
    // The lookups, the volume build and the writes are one transaction: a concurrent upload of
    // the same series waits for this one, so a series keeps one item and its volume sees every
    // instance. (Building holds the writer for the series' decode time.)
    auto attempt = [&]() -> Status {
      CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kWrite));
      std::vector<security::AuditRecord> records;
      CALIPER_RETURN_IF_ERROR(StoreInSeries(*txn, ctx, project_id, series_uid, instances, sr, records, build_volumes));
      if (sr.added == 0) return Status::Ok();  // nothing new: nothing to commit
      return CommitWithAudit(*txn, records);
    };
    Status s = attempt();
    if (!s.ok() && IsStoreFailure(s)) return s;
    for (std::size_t k = 0; k < instances.size(); ++k) {
      DicomFileResult& f = report.files[pending[k].index];
      switch (instances[k].fate) {
        case SeriesInstance::Fate::kStored:
          f.outcome = s.ok() ? "stored" : "error";
          if (s.ok()) f.item_id = sr.item_id;
          else f.error = s;
          break;
        case SeriesInstance::Fate::kDuplicate:
          f.outcome = "duplicate";
          f.item_id = instances[k].duplicate_of;
          break;
        case SeriesInstance::Fate::kOtherPatient:
          f.outcome = "error";
          f.error = Error(ErrorCode::kInvalidArgument, "the instance's patient differs from its series'");
          break;
        case SeriesInstance::Fate::kInconsistent:
          f.outcome = "error";
          f.error = instances[k].refusal;
          break;
      }
    }
    if (s.ok() && sr.added > 0) report.series.push_back(std::move(sr));
  }
  // Repeats within this ingest point at the item (or quarantine entry) their first copy went to.
  for (auto& f : report.files) {
    if (f.outcome == "duplicate" && f.item_id.empty()) {
      const DicomFileResult& first = report.files[first_of_sop[f.sop_instance_uid]];
      f.item_id = first.item_id;
      f.quarantine_id = first.quarantine_id;
    }
  }
  return report;
}

Status App::StoreInSeries(storage::Transaction& txn, const RequestContext& ctx, const std::string& project_id,
                          const std::string& series_uid, std::vector<SeriesInstance>& instances,
                          DicomSeriesResult& sr, std::vector<security::AuditRecord>& records,
                          bool build_volume) {
  sr.series_uid = series_uid;
  if (instances.empty()) return Status::Ok();
  core::Item item;
  auto existing = txn.FindSeriesItem(project_id, series_uid);
  if (existing.ok()) {
    CALIPER_ASSIGN_OR_RETURN(item, txn.GetItem(*existing));
  } else if (existing.status().code() == ErrorCode::kNotFound) {
    item.id = ids_.NewId("itm");
    item.project_id = project_id;
    item.data_type = core::DataType::kImaging;
    item.patient_key = instances.front().patient_key;
    item.content_type = "application/dicom";  // until a volume is built
    item.created_at = clock_.Now();
    item.created_by = ctx.actor();
    sr.created = true;
  } else {
    return existing.status();
  }
  sr.item_id = item.id;
  std::vector<SeriesInstance*> candidates;
  for (SeriesInstance& s : instances) {
    if (s.patient_key != item.patient_key) {
      s.fate = SeriesInstance::Fate::kOtherPatient;
      continue;
    }
    auto dup = txn.FindDicomInstance(project_id, s.sop_instance_uid);
    if (dup.ok()) {
      s.fate = SeriesInstance::Fate::kDuplicate;
      s.duplicate_of = dup->item_id;
      continue;
    }
    if (dup.status().code() != ErrorCode::kNotFound) return dup.status();
    s.fate = SeriesInstance::Fate::kStored;
    candidates.push_back(&s);
  }
  CALIPER_RETURN_IF_ERROR(RefuseInconsistent(txn, sr.created ? "" : item.id, series_uid, candidates));
  std::vector<const SeriesInstance*> fresh;
  for (const SeriesInstance* s : candidates) {
    if (s->fate == SeriesInstance::Fate::kStored) fresh.push_back(s);
  }
  if (fresh.empty()) return Status::Ok();

  if (sr.created) {
    const SeriesInstance& founder = *fresh.front();  // the new item's modality, cohort and link
    item.modality = founder.modality;
    item.cohort_json = founder.cohort_json;
    CALIPER_RETURN_IF_ERROR(txn.InsertItem(item));
    std::istringstream link_json(founder.link_json);
    CALIPER_ASSIGN_OR_RETURN(auto put, PutBlob(txn, project_id, kLinkOwner, link_json));
    CALIPER_RETURN_IF_ERROR(txn.InsertReidentificationLink({item.id, project_id, put.address, item.created_at}));
    records.push_back(Record(ctx, "item.create", "item", item.id,
                             json{{"project_id", project_id}, {"data_type", "imaging"}, {"modality", item.modality}}
                                 .dump()));
  }
  sr.modality = item.modality;
  // Every instance of the series, for the volume: those stored before, then the new ones.
  std::vector<std::string> earlier;
  CALIPER_ASSIGN_OR_RETURN(auto stored, txn.ListDicomInstances(item.id));
  for (const auto& d : stored) {
    if (!build_volume) break;  // only counted
    CALIPER_ASSIGN_OR_RETURN(std::string bytes, GetBlob(txn, d.blob));
    earlier.push_back(std::move(bytes));
  }
  std::vector<std::span<const std::uint8_t>> all;
  auto add = [&all](const std::string& b) { all.emplace_back(reinterpret_cast<const std::uint8_t*>(b.data()), b.size()); };
  for (const auto& b : earlier) add(b);
  for (const SeriesInstance* s : fresh) {
    std::istringstream in(s->bytes);
    CALIPER_ASSIGN_OR_RETURN(auto put, PutBlob(txn, project_id, item.patient_key, in));
    CALIPER_RETURN_IF_ERROR(txn.InsertDicomInstance({project_id, s->sop_instance_uid, item.id, series_uid,
                                                     s->study_uid, put.address, put.bytes, clock_.Now()}));
    add(s->bytes);
  }
  sr.added = static_cast<std::int64_t>(fresh.size());
  json deidentified = json::array();  // what de-identification did to each instance stored
  for (const SeriesInstance* s : fresh) {
    if (s->actions) {
      deidentified.push_back({{"sop_instance_uid", s->sop_instance_uid}, {"actions", json::parse(DeidActionsJson(*s->actions))}});
    }
  }
  if (build_volume) {
    CALIPER_RETURN_IF_ERROR(StoreSeriesVolume(txn, item, all, sr));
  } else {
    sr.instances = static_cast<std::int64_t>(stored.size() + fresh.size());
    sr.no_volume = "deferred (App::BuildDicomVolumes)";
  }
  records.push_back(Record(ctx, "imaging.series_ingest", "item", item.id,
                           json{{"project_id", project_id},
                                {"added", sr.added},
                                {"instances", sr.instances},
                                {"volume", sr.no_volume.empty()},
                                {"deidentified", std::move(deidentified)}}
                               .dump(-1, ' ', false, json::error_handler_t::replace)));
  return Status::Ok();
}

Status App::RefuseInconsistent(storage::Transaction& txn, const std::string& item_id, const std::string& series_uid,
                               const std::vector<SeriesInstance*>& candidates) {
  if (candidates.empty()) return Status::Ok();
  auto bytes_of = [](const std::string& b) {
    return std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(b.data()), b.size());
  };
  dicom::SeriesGeometry geometry;
  if (!item_id.empty()) {
    // Instances stored before are taken as they are (they were checked on arrival); a few give
    // the series' reference and line.
    CALIPER_ASSIGN_OR_RETURN(auto stored, txn.ListDicomInstances(item_id));
    for (const auto& d : stored) {
      if (geometry.settled()) break;
      CALIPER_ASSIGN_OR_RETURN(std::string bytes, GetBlob(txn, d.blob));
      if (auto image = dicom::DecodeImage(bytes_of(bytes)); image.ok()) (void)geometry.Add(*image);
    }
  }
  std::vector<Result<dicom::DecodedImage>> images;
  images.reserve(candidates.size());
  for (const SeriesInstance* c : candidates) {
    images.push_back(dicom::DecodeImage(bytes_of(c->bytes)));
    if (images.back().ok()) std::vector<float>().swap(images.back()->values);  // geometry only
  }
  std::vector<std::size_t> order(candidates.size());
  std::iota(order.begin(), order.end(), 0);
  if (geometry.empty()) {
    std::map<std::string, int> count;
    for (const auto& image : images) {
      if (image.ok()) ++count[dicom::SeriesGeometryKey(*image)];
    }
    std::size_t typical = 0;
    int best = 0;
    for (std::size_t k = 0; k < images.size(); ++k) {
      if (!images[k].ok()) continue;
      const int n = count[dicom::SeriesGeometryKey(*images[k])];
      if (n > best) best = n, typical = k;
    }
    std::rotate(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(typical),
                order.begin() + static_cast<std::ptrdiff_t>(typical) + 1);
  }
  for (std::size_t k : order) {
    SeriesInstance& c = *candidates[k];
    const Status& decoded = images[k].status();
    if (!decoded.ok() && decoded.code() != ErrorCode::kNotFound) {
      // Pixel Data that does not decode (corrupt, or a syntax Caliper cannot read) is refused
      // whatever the series holds: stored, it would be an image nobody can see.
      c.fate = SeriesInstance::Fate::kInconsistent;
      c.refusal = geometry.empty()
                      ? Status(decoded.code(), "its pixel data does not decode: " + decoded.message())
                      : Error(ErrorCode::kConflict, "inconsistent with series " + series_uid +
                                                        ": does not decode as an image (" + decoded.message() +
                                                        "), the series' instances do");
      continue;
    }
    Status fits = images[k].ok() ? geometry.Add(*images[k])
                  : geometry.empty()
                      ? Status::Ok()  // a series of non-images (no Pixel Data), or not yet of images
                      : Error(ErrorCode::kConflict, "has no Pixel Data, the series' instances do");
    if (fits.ok()) continue;
    c.fate = SeriesInstance::Fate::kInconsistent;
    c.refusal = Error(ErrorCode::kConflict, "inconsistent with series " + series_uid + ": " + fits.message());
  }
  return Status::Ok();
}

Status App::QuarantineInstance(const RequestContext& ctx, const std::string& project_id, const std::string& series_uid,
                               SeriesInstance instance, DicomFileResult& f) {
  CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kWrite));
  // Released before: the series holds it. Still pending: one entry per instance.
  auto stored = txn->FindDicomInstance(project_id, instance.sop_instance_uid);
  if (stored.ok()) {
    f.outcome = "duplicate";
    f.item_id = stored->item_id;
    return Status::Ok();
  }
  if (stored.status().code() != ErrorCode::kNotFound) return stored.status();
  auto pending = txn->FindPendingQuarantine(project_id, instance.sop_instance_uid);
  if (pending.ok()) {
    f.outcome = "quarantined";
    f.quarantine_id = pending->id;
    return Status::Ok();
  }
  if (pending.status().code() != ErrorCode::kNotFound) return pending.status();
  storage::QuarantinedInstance q;
  q.id = ids_.NewId("qrn");
  q.project_id = project_id;
  q.sop_instance_uid = instance.sop_instance_uid;
  q.series_uid = series_uid;
  q.study_uid = instance.study_uid;
  q.modality = instance.modality;
  q.patient_key = instance.patient_key;
  q.cohort_json = instance.cohort_json;
  q.reasons = f.reasons;
  q.created_at = clock_.Now();
  q.created_by = ctx.actor();
  {
    std::istringstream in(instance.bytes);
    CALIPER_ASSIGN_OR_RETURN(auto put, PutBlob(*txn, project_id, instance.patient_key, in));
    q.blob = put.address;
    q.bytes = put.bytes;
  }
  {
    std::istringstream in(instance.link_json);
    CALIPER_ASSIGN_OR_RETURN(auto put, PutBlob(*txn, project_id, kLinkOwner, in));
    q.link_blob = put.address;
  }
  CALIPER_RETURN_IF_ERROR(txn->InsertQuarantinedInstance(q));
  CALIPER_RETURN_IF_ERROR(CommitWithAudit(
      *txn, Record(ctx, "quarantine.add", "quarantine", q.id,
                   json{{"project_id", project_id}, {"sop_instance_uid", q.sop_instance_uid},
                        {"series_uid", series_uid}, {"modality", q.modality}, {"reasons", q.reasons},
                        {"actions", instance.actions ? json::parse(DeidActionsJson(*instance.actions)) : json(nullptr)}}
                       .dump(-1, ' ', false, json::error_handler_t::replace))));
  f.outcome = "quarantined";
  f.quarantine_id = q.id;
  return Status::Ok();
}

Result<std::vector<DicomSeriesResult>> App::BuildDicomVolumes(const RequestContext& ctx, const std::string& project_id,
                                                              const std::vector<std::string>& item_ids) {
  std::vector<DicomSeriesResult> results;
  for (const std::string& item_id : item_ids) {
    DicomSeriesResult sr;
    sr.item_id = item_id;
    CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kWrite));
    auto item = txn->GetItem(item_id);
    if (!item.ok() && item.status().code() != ErrorCode::kNotFound) return item.status();
    CALIPER_ASSIGN_OR_RETURN(auto stored, txn->ListDicomInstances(item_id));
    if (!item.ok() || item->project_id != project_id || stored.empty()) {
      return Error(ErrorCode::kNotFound, "no DICOM series item " + item_id + " in the project");
    }
    sr.series_uid = stored.front().series_uid;
    sr.modality = item->modality;
    std::vector<std::string> bytes;
    for (const auto& d : stored) {
      CALIPER_ASSIGN_OR_RETURN(std::string b, GetBlob(*txn, d.blob));
      bytes.push_back(std::move(b));
    }
    std::vector<std::span<const std::uint8_t>> all;
    for (const auto& b : bytes) all.emplace_back(reinterpret_cast<const std::uint8_t*>(b.data()), b.size());
    CALIPER_RETURN_IF_ERROR(StoreSeriesVolume(*txn, *item, all, sr));
    CALIPER_RETURN_IF_ERROR(CommitWithAudit(*txn, Record(ctx, "imaging.volume_build", "item", item_id,
                                                         json{{"project_id", project_id},
                                                              {"instances", sr.instances},
                                                              {"volume", sr.no_volume.empty()}}
                                                             .dump())));
    results.push_back(std::move(sr));
  }
  return results;
}

Result<std::string> App::ReadReidentificationLink(const RequestContext& ctx, const std::string& item_id) {
  std::string text;
  {
    CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kRead));
    CALIPER_ASSIGN_OR_RETURN(auto link, txn->GetReidentificationLink(item_id));
    CALIPER_ASSIGN_OR_RETURN(text, GetBlob(*txn, link.blob));
  }
  CALIPER_RETURN_IF_ERROR(Audit(Record(ctx, "imaging.reidentify", "item", item_id)));
  return text;
}

Result<std::string> App::ReadDicomInstance(const RequestContext& ctx, const std::string& item_id,
                                           const std::string& sop_instance_uid) {
  CALIPER_ASSIGN_OR_RETURN(core::Item item, GetItem(ctx, item_id));
  std::string bytes;
  {
    CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kRead));
    auto instance = txn->FindDicomInstance(item.project_id, sop_instance_uid);
    if (instance.ok() && instance->item_id != item.id) instance = Error(ErrorCode::kNotFound, "");
    if (!instance.ok()) {
      if (instance.status().code() != ErrorCode::kNotFound) return instance.status();
      return Error(ErrorCode::kNotFound, "the item holds no instance with that SOP Instance UID");
    }
    CALIPER_ASSIGN_OR_RETURN(bytes, GetBlob(*txn, instance->blob));
  }
  CALIPER_RETURN_IF_ERROR(Audit(Record(ctx, "imaging.instance_read", "item", item.id,
                                       json{{"sop_instance_uid", sop_instance_uid}}.dump())));
  return bytes;
}

// ---- NIfTI --------------------------------------------------------------------------------------

Result<std::vector<NiftiIngestResult>> App::IngestNifti(const RequestContext& ctx, const std::string& project_id,
                                                        std::vector<NiftiInput> inputs) {
  CALIPER_ASSIGN_OR_RETURN(std::string secret, BeginIngest(ctx, project_id, "nifti.ingest",
                                                           json{{"files", inputs.size()}}.dump()));
  std::vector<NiftiIngestResult> results;
  for (NiftiInput& input : inputs) {
    NiftiIngestResult r;
    r.name = input.name;
    auto attempt = [&]() -> Status {
      if (input.patient.empty()) return Error(ErrorCode::kInvalidArgument, "the file names no patient");
      std::string cohort = "{}";
      if (!input.sidecar_json.empty()) {
        CALIPER_ASSIGN_OR_RETURN(cohort, ingest::CohortFromBidsSidecar(input.sidecar_json));
      }
      const std::string modality = ModalityOf(json::parse(cohort).value("modality", ""));
      const auto* data = reinterpret_cast<const std::uint8_t*>(input.bytes.data());
      CALIPER_ASSIGN_OR_RETURN(auto volumes, ingest::DecodeNifti({data, input.bytes.size()}, kMaxVoxels));
      std::string().swap(input.bytes);
      if (volumes.empty()) return Error(ErrorCode::kInvalidArgument, "the file holds no volume");
      r.dims = volumes.front().geometry.dims;
      CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kWrite));
      std::vector<security::AuditRecord> records;
      std::vector<std::string> ids;
      for (std::size_t t = 0; t < volumes.size(); ++t) {
        CALIPER_ASSIGN_OR_RETURN(auto nifti, EncodeVolume(volumes[t]));
        core::Item item;
        item.id = ids_.NewId("itm");
        item.project_id = project_id;
        item.data_type = core::DataType::kImaging;
        item.modality = modality;
        item.patient_key = PatientKeyFor(secret, input.patient);
        item.cohort_json = cohort;
        item.content_type = kNiftiType;
        item.created_at = clock_.Now();
        item.created_by = ctx.actor();
        auto in = StreamOf(nifti);
        CALIPER_RETURN_IF_ERROR(InsertItemWithContent(*txn, item, in));
        records.push_back(Record(ctx, "item.create", "item", item.id,
                                 json{{"project_id", project_id}, {"data_type", "imaging"}, {"source", "nifti"},
                                      {"volume", t}, {"volumes", volumes.size()}}
                                     .dump()));
        ids.push_back(item.id);
      }
      CALIPER_RETURN_IF_ERROR(CommitWithAudit(*txn, records));
      r.item_ids = std::move(ids);
      return Status::Ok();
    };
    Status s = attempt();
    if (!s.ok() && IsStoreFailure(s)) return s;
    r.outcome = s.ok() ? "stored" : "error";
    r.error = s;
    results.push_back(std::move(r));
  }
  return results;
}

// ---- volumes, slices and masks ------------------------------------------------------------------

Result<std::shared_ptr<const dicom::Volume>> App::LoadVolume(const core::Item& item) {
  if (!HasVolume(item)) return Error(ErrorCode::kNotFound, "the item has no volume");
  const std::string key = item.id + "/" + item.content_blob;
  std::shared_ptr<const dicom::Volume> volume = volume_cache_->Find(key);
  if (volume == nullptr) {
    std::string bytes;
    {
      CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kRead));
      CALIPER_ASSIGN_OR_RETURN(bytes, GetBlob(*txn, item.content_blob));
    }
    const auto* data = reinterpret_cast<const std::uint8_t*>(bytes.data());
    CALIPER_ASSIGN_OR_RETURN(auto volumes, ingest::DecodeNifti({data, bytes.size()}, kMaxVoxels));
    if (volumes.size() != 1) return Error(ErrorCode::kIntegrity, "the item's volume is not one 3D volume");
    auto decoded = std::make_shared<dicom::Volume>(VolumeFromNifti(std::move(volumes.front()), item.modality));
    volume_cache_->Put(key, decoded, decoded->values.size() * sizeof(float));
    volume = std::move(decoded);
  }
  return volume;
}

Result<std::string> App::ReadVolumeNifti(const RequestContext& ctx, const std::string& item_id) {
  CALIPER_ASSIGN_OR_RETURN(core::Item item, GetItem(ctx, item_id));
  if (item.data_type != core::DataType::kImaging || item.content_type != kNiftiType) {
    return Error(ErrorCode::kNotFound, "the item has no volume");
  }
  return ReadItemContent(ctx, item_id);
}

Result<std::string> App::RenderSlice(const RequestContext& ctx, const std::string& item_id,
                                     const SliceRequest& request) {
  CALIPER_ASSIGN_OR_RETURN(dicom::Plane plane, dicom::ParsePlane(request.plane));
  if (request.center.has_value() != request.width.has_value()) {
    return Error(ErrorCode::kInvalidArgument, "give both wc and ww, or neither");
  }
  if (!request.preset.empty() && request.center) {
    return Error(ErrorCode::kInvalidArgument, "give a preset or wc and ww, not both");
  }
  CALIPER_ASSIGN_OR_RETURN(core::Item item, GetItem(ctx, item_id));
  CALIPER_ASSIGN_OR_RETURN(auto volume, LoadVolume(item));
  dicom::Window window = dicom::DefaultWindow(*volume);
  if (!request.preset.empty()) {
    CALIPER_ASSIGN_OR_RETURN(window, dicom::PresetWindow(request.preset, *volume));
  } else if (request.center) {
    window = {*request.center, *request.width};
  }
  CALIPER_ASSIGN_OR_RETURN(auto png, dicom::RenderSlicePng(*volume, plane, request.index, window));
  // Audited once the slice exists, before any byte of it leaves.
  CALIPER_RETURN_IF_ERROR(Audit(Record(ctx, "imaging.slice_read", "item", item.id,
                                       json{{"plane", dicom::PlaneName(plane)}, {"index", request.index}}.dump())));
  return std::string(png.begin(), png.end());
}

namespace {

// A NIfTI upload as a label map: one 3D volume of whole numbers 0..255.
Result<dicom::LabelMap> LabelMapFromNifti(const std::string& nifti) {
  const auto* data = reinterpret_cast<const std::uint8_t*>(nifti.data());
  auto decoded = ingest::DecodeNifti({data, nifti.size()}, kMaxVoxels);
  if (!decoded.ok()) return decoded.status().WithContext("the mask");
  if (decoded->size() != 1) return Error(ErrorCode::kInvalidArgument, "the mask must be one 3D volume");
  ingest::NiftiVolume& mask = decoded->front();
  dicom::LabelMap map;
  for (int d = 0; d < 3; ++d) map.dims[d] = static_cast<int>(mask.geometry.dims[d]);
  map.lps = LpsAffine(mask.geometry);
  map.labels.reserve(mask.values.size());
  for (std::size_t n = 0; n < mask.values.size(); ++n) {
    const float v = mask.values[n];
    if (!(v >= 0 && v <= 255 && v == std::round(v))) {
      return Error(ErrorCode::kInvalidArgument, "mask voxel " + std::to_string(n) + " holds " + std::to_string(v) +
                                                    "; labels are whole numbers 0..255");
    }
    map.labels.push_back(static_cast<std::uint8_t>(v));
  }
  return map;
}

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// SNOMED CT's designator, and the retired one older SEGs use for it.
bool SameScheme(const std::string& a, const std::string& b) {
  auto norm = [](const std::string& s) { return Lower(s) == "srt" ? std::string("sct") : Lower(s); };
  return norm(a) == norm(b);
}

std::string CodeText(const dicom::CodedConcept& c) {
  return c.value.empty() ? "no type code" : c.scheme + " " + c.value + " '" + c.meaning + "'";
}

// The labels of a DICOM-SEG read by dicom::ReadSegmentation (1..N in Segment Number order,
// class_id the Segment Number) become the guideline's: each segment goes to the segmentation
// class whose type code it carries (Segmented Property Type: value and scheme, SRT = SCT),
// else to the class whose id or name is its Segment Label (case-insensitive); several
// segments may go to one class. Without segmentation classes, labels stay 1..N under local
// codes. Each label keeps its segments' Segment Algorithm Type (mixed: SEMIAUTOMATIC) and the
// Name and Algorithm Identification of its first calculated segment.
// kInvalidArgument names a segment that goes to no class, or to several.
Result<json> SegmentsOntoClasses(dicom::LabelMap& map, const SegmentTable& table) {
  std::array<int, 256> to{};  // SEG label -> the guideline's label
  std::map<int, std::vector<const dicom::Segment*>> sources;  // the guideline's label -> its segments
  json mapping = json::array();
  for (const dicom::Segment& s : map.segments) {
    int label = s.label;
    if (!table.by_class.empty()) {
      std::vector<int> by_code, by_name;
      for (std::size_t c = 0; c < table.by_class.size(); ++c) {
        const dicom::Segment& cls = table.by_class[c];
        if (!s.type.value.empty() && s.type.value == cls.type.value && SameScheme(s.type.scheme, cls.type.scheme)) {
          by_code.push_back(static_cast<int>(c) + 1);
        }
        if (!s.name.empty() && (Lower(s.name) == Lower(cls.class_id) || Lower(s.name) == Lower(cls.name))) {
          by_name.push_back(static_cast<int>(c) + 1);
        }
      }
      std::vector<int> fit = by_code;
      if (by_code.size() > 1) {  // one code, several classes: the label decides
        std::erase_if(fit, [&](int c) { return std::find(by_name.begin(), by_name.end(), c) == by_name.end(); });
      } else if (by_code.empty()) {
        fit = by_name;
      }
      const std::string what = "segment " + s.class_id + " ('" + s.name + "', " + CodeText(s.type) + ")";
      if (fit.size() != 1) {
        std::string classes;
        for (const auto& cls : table.by_class) {
          classes += (classes.empty() ? "" : "; ") + cls.class_id + " ('" + cls.name + "', " + CodeText(cls.type) + ")";
        }
        return Error(ErrorCode::kInvalidArgument,
                     what + (fit.empty() ? " matches no segmentation class of the guideline"
                                         : " matches several segmentation classes of the guideline") +
                         " by its Segmented Property Type code or its Segment Label; the classes: " + classes);
      }
      label = fit.front();
      mapping.push_back({{"segment", s.class_id}, {"class", table.by_class[label - 1].class_id}});
    }
    if (s.algorithm != dicom::SegmentAlgorithm::kManual && s.algorithm_name.empty()) {
      return Error(ErrorCode::kInvalidArgument, "segment " + s.class_id + " ('" + s.name +
                                                    "') is not MANUAL but names no Segment Algorithm Name");
    }
    to[s.label] = label;
    sources[label].push_back(&s);
  }
  for (auto& v : map.labels) v = static_cast<std::uint8_t>(to[v]);
  std::vector<dicom::Segment> segments;
  for (const auto& [label, from] : sources) {
    dicom::Segment out;
    out.label = static_cast<std::uint8_t>(label);
    out.algorithm = from.front()->algorithm;
    for (const dicom::Segment* s : from) {
      if (s->algorithm != out.algorithm) out.algorithm = dicom::SegmentAlgorithm::kSemiAutomatic;
      if (out.algorithm_name.empty() && s->algorithm != dicom::SegmentAlgorithm::kManual) {
        out.algorithm_name = s->algorithm_name;
        out.algorithm_identification = s->algorithm_identification;
      }
    }
    segments.push_back(std::move(out));
  }
  map.segments = std::move(segments);  // codes and names: the caller's, from the table
  return mapping;
}

// `text` in DICOM's LO: printable ASCII without '\', at most 64 characters.
std::string LongString(std::string text) {
  for (auto& c : text) {
    if (c == '\\' || static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e) c = '_';
  }
  return text.substr(0, 64);
}

// Segment `s` as the output of the pre-label's model, of type `algorithm` (AUTOMATIC or
// SEMIAUTOMATIC): Segment Algorithm Name "name@version" (as a label's origin names it), and the
// Algorithm Identification: family Artificial Intelligence, the model's name and version.
void SetModelAlgorithm(dicom::Segment& s, const core::Prelabel& p, dicom::SegmentAlgorithm algorithm) {
  s.algorithm = algorithm;
  s.algorithm_name = LongString(p.model_name + "@" + p.model_version);
  s.algorithm_identification = {dicom::kArtificialIntelligence, LongString(p.model_name), LongString(p.model_version)};
}

// A NIfTI label map says nothing of who drew it, so each segment of `map` (MANUAL as made from
// the file) takes its provenance from the same class's segment (same label and class) in the
// reader's `previous` version when that one was calculated: its Segment Algorithm Type, Name and
// Identification as they were if the segment's voxels are exactly the same, else SEMIAUTOMATIC
// ("calculated segmentation with user assistance", PS3.3 C.8.20.2) with the same algorithm: the
// reader edited the algorithm's segment. A previous version on another grid counts as changed.
// Segments whose class was drawn (MANUAL) or absent in the previous version stay MANUAL.
void InheritProvenance(dicom::LabelMap& map, const dicom::LabelMap& previous) {
  std::array<bool, 256> changed{};
  const bool same_grid = previous.labels.size() == map.labels.size();
  if (!same_grid) changed.fill(true);
  for (std::size_t n = 0; same_grid && n < map.labels.size(); ++n) {
    if (map.labels[n] != previous.labels[n]) changed[map.labels[n]] = changed[previous.labels[n]] = true;
  }
  for (dicom::Segment& s : map.segments) {
    for (const dicom::Segment& p : previous.segments) {
      if (p.label != s.label || p.class_id != s.class_id || p.algorithm == dicom::SegmentAlgorithm::kManual) continue;
      s.algorithm = changed[s.label] ? dicom::SegmentAlgorithm::kSemiAutomatic : p.algorithm;
      s.algorithm_name = p.algorithm_name;
      s.algorithm_identification = p.algorithm_identification;
    }
  }
}

}  // namespace

Result<MaskVersion> App::PutMask(const RequestContext& ctx, const std::string& item_id, const std::string& bytes,
                                 MaskFormat format) {
  CALIPER_ASSIGN_OR_RETURN(core::Item item, GetItem(ctx, item_id));
  CALIPER_ASSIGN_OR_RETURN(auto volume, LoadVolume(item));  // the grid every mask of the item lies on
  dicom::LabelMap map;
  json details = {{"format", format == MaskFormat::kDicomSeg ? "dicom-seg" : "nifti"}};
  if (format == MaskFormat::kNifti) {
    CALIPER_ASSIGN_OR_RETURN(map, LabelMapFromNifti(bytes));
  } else {
    CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kRead));
    auto series = LoadStoredSeries(*txn, item.id);
    if (!series.ok() && series.status().code() == ErrorCode::kNotFound) {
      return Error(ErrorCode::kInvalidArgument,
                   "the item did not come from a DICOM series, which a DICOM-SEG must reference; send the mask as NIfTI");
    }
    if (!series.ok()) return series.status().WithContext("the item's series");
    const std::span<const std::uint8_t> seg(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
    auto refs = dicom::ReadSegmentationReferences(seg);
    if (!refs.ok()) return Error(ErrorCode::kInvalidArgument, "the DICOM-SEG: " + refs.status().message());
    // Drawn on the series as it came (before de-identification): its UIDs mapped as this
    // project's de-identification maps them meet the stored series'.
    std::string mapped;
    const std::string& frame = series->volume.frame_of_reference_uid;
    if (refs->frame_of_reference_uid != frame) {
      CALIPER_ASSIGN_OR_RETURN(std::string secret, TextSecret(*txn, item.project_id));
      CALIPER_ASSIGN_OR_RETURN(core::DicomSettings settings, internal::DicomSettingsIn(*txn, item.project_id));
      CALIPER_ASSIGN_OR_RETURN(auto deid, DeidentifierFor(secret, settings));
      security::SecureZero(secret.data(), secret.size());
      auto deidentified = deid->Deidentify(bytes);
      if (deidentified.ok()) {
        const std::span<const std::uint8_t> again(reinterpret_cast<const std::uint8_t*>(deidentified->bytes.data()),
                                                  deidentified->bytes.size());
        auto remapped = dicom::ReadSegmentationReferences(again);
        if (remapped.ok() && remapped->frame_of_reference_uid == frame) mapped = std::move(deidentified->bytes);
      }
      if (mapped.empty()) {
        return Error(ErrorCode::kInvalidArgument,
                     "the DICOM-SEG was not drawn on this item's series: its Frame of Reference UID '" +
                         refs->frame_of_reference_uid + "' is not the series' (" + frame +
                         "), neither as stored nor as this project's de-identification maps the original UIDs");
      }
      details["uids_mapped"] = true;
    }
    auto read = dicom::ReadSegmentation(
        mapped.empty() ? seg
                       : std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(mapped.data()), mapped.size()),
        series->volume);
    if (!read.ok()) return Error(ErrorCode::kInvalidArgument, "the DICOM-SEG: " + read.status().message());
    map = std::move(read).value();
  }
  CALIPER_RETURN_IF_ERROR(dicom::CheckAligned(map, *volume));

  CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kWrite));
  SegmentTable table;
  if (auto guideline = txn->GetCurrentGuideline(item.project_id); guideline.ok()) {
    CALIPER_ASSIGN_OR_RETURN(auto schema, core::ParseLabelSchema(guideline->schema_json));
    table = SegmentsOf(schema);
  } else if (guideline.status().code() != ErrorCode::kNotFound) {
    return guideline.status();
  }
  // What each label's segment says of its algorithm: a DICOM-SEG's own; for NIfTI, what the
  // reader's previous version says (InheritProvenance).
  std::map<int, dicom::Segment> algorithm_of;
  if (format == MaskFormat::kDicomSeg) {
    CALIPER_ASSIGN_OR_RETURN(json mapping, SegmentsOntoClasses(map, table));
    if (!mapping.empty()) details["segments"] = mapping;
    for (const auto& s : map.segments) algorithm_of[s.label] = s;
  }
  std::array<bool, 256> used{};
  for (std::uint8_t v : map.labels) used[v] = true;
  map.segments.clear();
  for (int label = 1; label < 256; ++label) {
    if (!used[label]) continue;
    if (!table.by_class.empty()) {
      if (static_cast<std::size_t>(label) > table.by_class.size()) {
        return Error(ErrorCode::kInvalidArgument,
                     "mask label " + std::to_string(label) + " is not a segmentation class of the guideline (labels 1.." +
                         std::to_string(table.by_class.size()) + " stand for its segmentation classes in order)");
      }
      map.segments.push_back(table.by_class[label - 1]);
    } else {
      const std::string name = "label " + std::to_string(label);
      map.segments.push_back({static_cast<std::uint8_t>(label), "", name, {"segmentation", kLocalScheme,
                              "Segmentation class"}, {std::to_string(label), kLocalScheme, name},
                              dicom::SegmentAlgorithm::kManual, "", {}});
    }
    if (auto it = algorithm_of.find(label); it != algorithm_of.end()) {
      map.segments.back().algorithm = it->second.algorithm;
      map.segments.back().algorithm_name = it->second.algorithm_name;
      map.segments.back().algorithm_identification = it->second.algorithm_identification;
    }
  }
  if (format == MaskFormat::kNifti) {
    auto latest = txn->GetLatestMask(item.id, ctx.principal.user.id);
    if (latest.ok()) {
      CALIPER_ASSIGN_OR_RETURN(dicom::LabelMap previous,
                               StoredMask(*txn, item.id, ctx.principal.user.id, latest->version,
                                          [&](const std::string& address) { return GetBlob(*txn, address); }));
      InheritProvenance(map, previous);
    } else if (latest.status().code() != ErrorCode::kNotFound) {
      return latest.status();
    }
  }
  std::vector<security::AuditRecord> records;
  CALIPER_ASSIGN_OR_RETURN(MaskVersion out, InsertMaskVersion(*txn, ctx, item, map, details.dump(), records));
  CALIPER_RETURN_IF_ERROR(CommitWithAudit(*txn, records));
  return out;
}

Result<MaskVersion> App::InsertMaskVersion(storage::Transaction& txn, const RequestContext& ctx, const core::Item& item,
                                           const dicom::LabelMap& map, const std::string& details_json,
                                           std::vector<security::AuditRecord>& records) {
  CALIPER_ASSIGN_OR_RETURN(auto compressed, dicom::CompressLabelMap(map));
  MaskVersion out;
  for (const auto& s : map.segments) out.labels.push_back(s.label);
  std::sort(out.labels.begin(), out.labels.end());
  storage::ItemMask row;
  auto latest = txn.GetLatestMask(item.id, ctx.principal.user.id);
  if (!latest.ok() && latest.status().code() != ErrorCode::kNotFound) return latest.status();
  row.id = ids_.NewId("msk");
  row.item_id = item.id;
  row.project_id = item.project_id;
  row.author = ctx.principal.user.id;
  row.version = latest.ok() ? latest->version + 1 : 1;
  auto in = StreamOf(compressed);
  CALIPER_ASSIGN_OR_RETURN(auto put, PutBlob(txn, item.project_id, item.patient_key, in));
  row.blob = put.address;
  row.bytes = put.bytes;
  row.created_at = clock_.Now();
  CALIPER_RETURN_IF_ERROR(txn.InsertMask(row));
  json details = json::parse(details_json.empty() ? "{}" : details_json);
  details["mask_id"] = row.id;
  details["version"] = row.version;
  details["labels"] = out.labels;
  records.push_back(Record(ctx, "mask.put", "item", item.id, details.dump()));
  out.id = row.id;
  out.item_id = item.id;
  out.version = row.version;
  out.bytes = row.bytes;
  out.created_at = row.created_at;
  return out;
}

Result<App::StoredSeries> App::LoadStoredSeries(storage::Transaction& txn, const std::string& item_id) {
  CALIPER_ASSIGN_OR_RETURN(auto instances, txn.ListDicomInstances(item_id));
  if (instances.empty()) return Error(ErrorCode::kNotFound, "the item holds no DICOM instances");
  std::vector<std::string> files;
  for (const auto& d : instances) {
    CALIPER_ASSIGN_OR_RETURN(std::string bytes, GetBlob(txn, d.blob));
    files.push_back(std::move(bytes));
  }
  std::vector<std::span<const std::uint8_t>> spans;
  for (const auto& f : files) spans.emplace_back(reinterpret_cast<const std::uint8_t*>(f.data()), f.size());
  auto series = dicom::BuildVolume(spans);
  if (!series.ok()) return series.status();
  StoredSeries out;
  out.volume = std::move(series).value();
  std::vector<float>().swap(out.volume.values);  // geometry and sources only
  out.first_instance = std::move(files.front());
  return out;
}

Status App::PrelabelIntoMask(storage::Transaction& txn, const RequestContext& ctx, const core::Item& item,
                             const core::Prelabel& prelabel, core::Annotation& label,
                             std::vector<security::AuditRecord>& records) {
  if (label.evidence_kind != "voxels" || !HasVolume(item)) return Status::Ok();
  CALIPER_ASSIGN_OR_RETURN(auto guideline, txn.GetGuidelineVersion(label.guideline_version_id));
  CALIPER_ASSIGN_OR_RETURN(auto schema, core::ParseLabelSchema(guideline.schema_json));
  const SegmentTable table = SegmentsOf(schema);
  const auto cls = std::find_if(table.by_class.begin(), table.by_class.end(),
                                [&](const dicom::Segment& s) { return s.class_id == label.label_class; });
  if (cls == table.by_class.end()) return Status::Ok();  // not a segmentation class
  CALIPER_ASSIGN_OR_RETURN(auto volume, LoadVolume(item));
  CALIPER_ASSIGN_OR_RETURN(MaskEvidence voxels, ParseMaskEvidence(label.evidence_json));
  const auto& g = voxels.grid.dims;
  if (g[0] != volume->dims[0] || g[1] != volume->dims[1] || g[2] != volume->dims[2]) {
    return Error(ErrorCode::kInvalidArgument, "the pre-label's voxels are " + std::to_string(g[0]) + "x" +
                                                  std::to_string(g[1]) + "x" + std::to_string(g[2]) +
                                                  " but the item's volume is " + std::to_string(volume->dims[0]) + "x" +
                                                  std::to_string(volume->dims[1]) + "x" + std::to_string(volume->dims[2]));
  }
  dicom::LabelMap map = dicom::EmptyLabelMap(*volume);
  std::int64_t base_version = 0;
  auto latest = txn.GetLatestMask(item.id, ctx.principal.user.id);
  if (latest.ok()) {
    CALIPER_ASSIGN_OR_RETURN(std::string compressed, GetBlob(txn, latest->blob));
    CALIPER_ASSIGN_OR_RETURN(map, dicom::DecompressLabelMap({reinterpret_cast<const std::uint8_t*>(compressed.data()),
                                                             compressed.size()}));
    base_version = latest->version;
    if (map.labels.size() != voxels.voxels.size()) {
      return Error(ErrorCode::kConflict, "your mask version " + std::to_string(base_version) +
                                             " lies on an earlier grid of the item's volume; put a mask on its grid first");
    }
  } else if (latest.status().code() != ErrorCode::kNotFound) {
    return latest.status();
  }
  // The class's voxels become exactly the model's; a voxel of another class is never taken over.
  std::map<std::uint8_t, std::int64_t> taken;
  for (std::size_t n = 0; n < map.labels.size(); ++n) {
    std::uint8_t& v = map.labels[n];
    if (voxels.voxels[n] != 0) {
      if (v != 0 && v != cls->label) ++taken[v];
      else v = cls->label;
    } else if (v == cls->label) {
      v = 0;
    }
  }
  if (!taken.empty()) {
    std::string which;
    for (const auto& [v, count] : taken) {
      std::string name = "label " + std::to_string(v);
      for (const auto& s : map.segments) {
        if (s.label == v && !s.class_id.empty()) name = s.class_id;
      }
      which += (which.empty() ? "" : ", ") + std::to_string(count) + " voxel(s) of " + name;
    }
    return Error(ErrorCode::kConflict, "the pre-label's voxels cover " + which + " in your mask version " +
                                           std::to_string(base_version) + "; correct the pre-label instead");
  }
  std::erase_if(map.segments, [&](const dicom::Segment& s) { return s.label == cls->label; });
  if (std::find(map.labels.begin(), map.labels.end(), cls->label) != map.labels.end()) {
    dicom::Segment segment = *cls;
    SetModelAlgorithm(segment, prelabel, dicom::SegmentAlgorithm::kAutomatic);
    map.segments.push_back(std::move(segment));
    std::sort(map.segments.begin(), map.segments.end(), [](const auto& a, const auto& b) { return a.label < b.label; });
  }
  CALIPER_ASSIGN_OR_RETURN(MaskVersion version,
                           InsertMaskVersion(txn, ctx, item, map,
                                             json{{"format", "prelabel"}, {"prelabel_id", prelabel.id}}.dump(), records));
  label.evidence_kind = "mask";
  label.evidence_json = json{{"version", version.version}}.dump();
  return Status::Ok();
}

Status CheckMaskEvidence(storage::Transaction& txn, const core::Annotation& a, const core::Item& item,
                         const core::LabelClass& cls, const std::string& owner) {
  if (a.evidence_kind != "mask") return Status::Ok();
  if (item.data_type != core::DataType::kImaging) {
    return Error(ErrorCode::kInvalidArgument, "mask evidence is for imaging items");
  }
  if (cls.kind != "segmentation") {
    return Error(ErrorCode::kInvalidArgument, "label class '" + cls.id + "' is a " + cls.kind +
                                                  " class; mask evidence is for segmentation classes");
  }
  const json data = json::parse(a.evidence_json.empty() ? "{}" : a.evidence_json, nullptr, false);
  if (!data.is_object() || !data.contains("version") || !data["version"].is_number_integer() ||
      data["version"].get<std::int64_t>() < 1) {
    return Error(ErrorCode::kInvalidArgument, "evidence.data.version must be the number of one of your masks");
  }
  const std::int64_t version = data["version"].get<std::int64_t>();
  const bool own = owner == a.author;
  const std::string whose = own ? "your" : "the chosen reading's";
  auto latest = txn.GetLatestMask(item.id, owner);
  if (!latest.ok()) {
    if (latest.status().code() != ErrorCode::kNotFound) return latest.status();
    return Error(ErrorCode::kInvalidArgument, own ? "evidence.data.version: you have no mask on this item; put one first"
                                                  : "evidence.data.version: the chosen reading has no mask on this item");
  }
  if (version > latest->version) {  // versions run 1, 2, ... per reader and item
    return Error(ErrorCode::kInvalidArgument, "evidence.data.version " + std::to_string(version) + ": " + whose +
                                                  " latest mask on this item is version " +
                                                  std::to_string(latest->version));
  }
  return Status::Ok();
}

std::optional<std::int64_t> MaskVersionOf(const core::Annotation& a) {
  if (a.evidence_kind != "mask") return std::nullopt;
  const json data = json::parse(a.evidence_json.empty() ? "{}" : a.evidence_json, nullptr, false);
  if (!data.is_object() || !data.contains("version") || !data["version"].is_number_integer()) return std::nullopt;
  return data["version"].get<std::int64_t>();
}

Result<dicom::LabelMap> StoredMask(storage::Transaction& txn, const std::string& item_id, const std::string& author,
                                   std::int64_t version, const internal::BlobReader& read_blob) {
  CALIPER_ASSIGN_OR_RETURN(storage::ItemMask row, txn.GetMask(item_id, author, version));
  CALIPER_ASSIGN_OR_RETURN(std::string compressed, read_blob(row.blob));
  const auto* data = reinterpret_cast<const std::uint8_t*>(compressed.data());
  return dicom::DecompressLabelMap({data, compressed.size()});
}

quality::Grid GridOf(const dicom::LabelMap& map) {
  quality::Grid grid;
  for (int d = 0; d < 3; ++d) {
    grid.dims[d] = map.dims[d];
    grid.spacing_mm[d] = std::hypot(map.lps[0][d], map.lps[1][d], map.lps[2][d]);
  }
  return grid;
}

ClassMask ClassMaskOf(const dicom::LabelMap& map, const std::string& label_class) {
  ClassMask mask;
  mask.grid = GridOf(map);
  std::optional<std::uint8_t> label;
  for (const auto& s : map.segments) {
    if (s.class_id == label_class) label = s.label;
  }
  mask.voxels.resize(map.labels.size());
  for (std::size_t n = 0; n < map.labels.size(); ++n) mask.voxels[n] = label && map.labels[n] == *label ? 1 : 0;
  return mask;
}

bool HasVolume(const core::Item& item) {
  return item.data_type == core::DataType::kImaging && item.content_type == kNiftiType && !item.content_blob.empty();
}

Result<std::vector<float>> VolumeValues(std::string_view nifti) {
  const auto* data = reinterpret_cast<const std::uint8_t*>(nifti.data());
  CALIPER_ASSIGN_OR_RETURN(auto volumes, ingest::DecodeNifti({data, nifti.size()}, kMaxVoxels));
  if (volumes.size() != 1) return Error(ErrorCode::kIntegrity, "the stored volume is not one 3D volume");
  return std::move(volumes.front().values);
}

namespace {

// The pre-label decisions on an item that made labels: label id -> (pre-label, decision).
struct PrelabelOrigin {
  core::Prelabel prelabel;
  core::PrelabelStatus status = core::PrelabelStatus::kAccepted;
};
using PrelabelOrigins = std::map<std::string, PrelabelOrigin>;

Result<PrelabelOrigins> PrelabelOriginsOf(storage::Transaction& txn, const std::string& item_id) {
  CALIPER_ASSIGN_OR_RETURN(auto prelabels, txn.ListPrelabelsOfItem(item_id));
  CALIPER_ASSIGN_OR_RETURN(auto decisions, txn.ListPrelabelDecisionsOfItem(item_id));
  PrelabelOrigins out;
  for (const auto& d : decisions) {
    if (d.annotation_id.empty()) continue;
    for (const auto& p : prelabels) {
      if (p.id == d.prelabel_id) out[d.annotation_id] = {p, d.status};
    }
  }
  return out;
}

// A stored mask (`stored`, CompressLabelMap's form) with the Segment Algorithm Type each
// segment has in exports (docs/imaging.md): when the reading's label of the segment's class
// with mask evidence came from a pre-label decision, AUTOMATIC with the model as algorithm
// name if the reader accepted it and the class's voxels are still exactly the pre-label's
// voxels, SEMIAUTOMATIC (same name) if the reader corrected it or changed its voxels since;
// other segments as stored.
Result<std::vector<std::uint8_t>> WithPrelabelAlgorithms(const std::string& stored,
                                                         const std::vector<core::Annotation>& labels,
                                                         const PrelabelOrigins& origins) {
  const std::span<const std::uint8_t> bytes(reinterpret_cast<const std::uint8_t*>(stored.data()), stored.size());
  CALIPER_ASSIGN_OR_RETURN(dicom::LabelMap map, dicom::DecompressLabelMap(bytes));
  bool changed = false;
  for (dicom::Segment& s : map.segments) {
    const PrelabelOrigin* origin = nullptr;
    for (const core::Annotation& a : labels) {
      auto it = origins.find(a.id);
      if (a.label_class == s.class_id && a.evidence_kind == "mask" && it != origins.end()) origin = &it->second;
    }
    if (origin == nullptr) continue;
    bool unchanged = false;
    if (origin->status == core::PrelabelStatus::kAccepted && origin->prelabel.evidence_kind == "voxels") {
      auto voxels = ParseMaskEvidence(origin->prelabel.evidence_json);
      unchanged = voxels.ok() && voxels->voxels.size() == map.labels.size();
      for (std::size_t n = 0; unchanged && n < map.labels.size(); ++n) {
        unchanged = (map.labels[n] == s.label) == (voxels->voxels[n] != 0);
      }
    }
    SetModelAlgorithm(s, origin->prelabel,
                      unchanged ? dicom::SegmentAlgorithm::kAutomatic : dicom::SegmentAlgorithm::kSemiAutomatic);
    changed = true;
  }
  if (!changed) return std::vector<std::uint8_t>(stored.begin(), stored.end());
  return dicom::CompressLabelMap(map);
}

// The highest mask version that labels with mask evidence name, if any.
std::optional<std::int64_t> NamedMaskVersion(const std::vector<core::Annotation>& labels) {
  std::optional<std::int64_t> out;
  for (const auto& a : labels) {
    if (auto version = MaskVersionOf(a)) out = std::max(out.value_or(0), *version);
  }
  return out;
}

}  // namespace

Status App::AddItemMasks(storage::Transaction& txn, exports::SnapshotItem& it, const std::string& final_author) {
  std::optional<PrelabelOrigins> origins;  // read once, when a mask is named
  auto load = [&](const std::string& author, std::int64_t version,
                  const std::vector<core::Annotation>& labels) -> Result<exports::SnapshotMask> {
    CALIPER_ASSIGN_OR_RETURN(storage::ItemMask row, txn.GetMask(it.item.id, author, version));
    CALIPER_ASSIGN_OR_RETURN(std::string bytes, GetBlob(txn, row.blob));
    if (!origins) {
      CALIPER_ASSIGN_OR_RETURN(origins, PrelabelOriginsOf(txn, it.item.id));
    }
    CALIPER_ASSIGN_OR_RETURN(auto stored, WithPrelabelAlgorithms(bytes, labels, *origins));
    return exports::SnapshotMask{version, std::move(stored)};
  };
  bool any = false;
  for (auto& r : it.readings) {
    if (auto version = NamedMaskVersion(r.labels)) {
      CALIPER_ASSIGN_OR_RETURN(r.mask, load(r.reader, *version, r.labels));
      any = true;
    }
  }
  if (auto version = NamedMaskVersion(it.final_labels); version && !final_author.empty()) {
    CALIPER_ASSIGN_OR_RETURN(it.final_mask, load(final_author, *version, it.final_labels));
    any = true;
  }
  if (!any) return Status::Ok();
  if (it.item.content_type != kNiftiType || it.item.content_blob.empty()) {
    return Error(ErrorCode::kIntegrity, "item " + it.item.id + " has masks but no volume");
  }
  exports::SnapshotVolume volume;
  {
    CALIPER_ASSIGN_OR_RETURN(std::string nifti, GetBlob(txn, it.item.content_blob));
    const auto* data = reinterpret_cast<const std::uint8_t*>(nifti.data());
    CALIPER_ASSIGN_OR_RETURN(auto volumes, ingest::DecodeNifti({data, nifti.size()}, kMaxVoxels));
    if (volumes.size() != 1) return Error(ErrorCode::kIntegrity, "the volume of item " + it.item.id + " is not one 3D volume");
    volume.geometry = volumes.front().geometry;
  }
  auto series = LoadStoredSeries(txn, it.item.id);
  if (series.ok()) {  // the SEG needs its geometry and sources only
    volume.series = std::move(series->volume);
    volume.source_instance.assign(series->first_instance.begin(), series->first_instance.end());
  } else if (series.status().code() != ErrorCode::kNotFound) {
    return series.status().WithContext("rebuilding the series of item " + it.item.id);
  }
  it.volume = std::move(volume);
  return Status::Ok();
}

Status LoadReadingMasks(storage::Transaction& txn, const std::string& item_id, ReadingLabels& reading,
                        const internal::BlobReader& read_blob, const std::function<bool(const std::string&)>& wanted) {
  for (const core::Annotation& a : reading.labels) {
    const auto version = MaskVersionOf(a);
    if (!version || reading.masks.count(a.label_class) || !wanted(a.label_class)) continue;
    CALIPER_ASSIGN_OR_RETURN(dicom::LabelMap map, StoredMask(txn, item_id, reading.reader, *version, read_blob));
    reading.masks.emplace(a.label_class, ClassMaskOf(map, a.label_class));
  }
  return Status::Ok();
}

Status App::LoadNamedMasks(storage::Transaction& txn, const core::LabelSchema& schema, const std::string& item_id,
                           ReadingLabels& reading) {
  return LoadReadingMasks(txn, item_id, reading, [&](const std::string& a) { return GetBlob(txn, a); },
                          [&](const std::string& label_class) {
                            const core::LabelClass* cls = schema.Find(label_class);
                            return cls != nullptr && cls->adjudication.dice_below.has_value();
                          });
}

namespace {

// A stored label map as the viewer loads it: NIfTI (.nii.gz, uint8) with the RAS affine.
Result<std::string> MaskNiftiGz(const dicom::LabelMap& map) {
  std::array<std::array<double, 4>, 3> ras{};
  const dicom::Affine flipped = dicom::LpsToRas(map.lps);
  for (int r = 0; r < 3; ++r) ras[r] = flipped[r];
  const auto geometry = ingest::NiftiGeometryFromAffine({map.dims[0], map.dims[1], map.dims[2]}, ras);
  CALIPER_ASSIGN_OR_RETURN(auto nifti, ingest::EncodeNiftiUint8(geometry, map.labels, /*gzip=*/true));
  return std::string(nifti.begin(), nifti.end());
}

// The submitted readings of an item whose labels name a mask, with the highest version they
// name: the mask each reading stands on.
struct ReadingMaskVersion {
  core::Task task;
  std::int64_t version = 0;
};
Result<std::vector<ReadingMaskVersion>> ReadingMaskVersions(storage::Transaction& txn, const std::string& item_id) {
  CALIPER_ASSIGN_OR_RETURN(auto tasks, txn.ListTasksOfItem(item_id));
  CALIPER_ASSIGN_OR_RETURN(auto labels, internal::AllAnnotations(txn, item_id));
  std::vector<ReadingMaskVersion> out;
  for (const auto& t : tasks) {
    if (t.assignee.empty() || !internal::IsReading(t.state)) continue;
    std::optional<std::int64_t> version;
    for (const auto& a : internal::ReaderLabels(t, labels)) {
      if (auto v = MaskVersionOf(a); v && (!version || *v > *version)) version = v;
    }
    if (version) out.push_back({t, *version});
  }
  return out;
}

}  // namespace

Result<std::string> App::ReadOwnMask(const RequestContext& ctx, const std::string& item_id) {
  storage::ItemMask row;
  std::string compressed;
  {
    CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kRead));
    CALIPER_ASSIGN_OR_RETURN(row, txn->GetLatestMask(item_id, ctx.principal.user.id));
    // A repeat read in progress starts blind: the masks of the first reading are not shown.
    CALIPER_ASSIGN_OR_RETURN(auto repeat, internal::RepeatInProgress(*txn, item_id, ctx.principal.user.id));
    if (repeat && row.created_at < repeat->created_at) {
      return Error(ErrorCode::kNotFound, "you have no mask on this item in this reading yet");
    }
    CALIPER_ASSIGN_OR_RETURN(compressed, GetBlob(*txn, row.blob));
  }
  const auto* data = reinterpret_cast<const std::uint8_t*>(compressed.data());
  CALIPER_ASSIGN_OR_RETURN(dicom::LabelMap map, dicom::DecompressLabelMap({data, compressed.size()}));
  CALIPER_ASSIGN_OR_RETURN(std::string nifti, MaskNiftiGz(map));
  CALIPER_RETURN_IF_ERROR(Audit(Record(ctx, "mask.read", "item", item_id,
                                       json{{"mask_id", row.id}, {"version", row.version}}.dump())));
  return nifti;
}

Result<std::string> App::ReadReadingMask(const RequestContext& ctx, const std::string& item_id,
                                         const std::string& task_id) {
  std::string project_id;
  ReadingMaskVersion found;
  dicom::LabelMap map;
  {
    CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kRead));
    CALIPER_ASSIGN_OR_RETURN(core::Item item, txn->GetItem(item_id));
    project_id = item.project_id;
    CALIPER_ASSIGN_OR_RETURN(auto readings, ReadingMaskVersions(*txn, item_id));
    auto it = std::find_if(readings.begin(), readings.end(), [&](const auto& r) { return r.task.id == task_id; });
    if (it == readings.end()) {
      return Error(ErrorCode::kNotFound, "task " + task_id + " is not a submitted reading of this item whose labels "
                                         "name a mask");
    }
    found = *it;
    CALIPER_ASSIGN_OR_RETURN(map, StoredMask(*txn, item_id, found.task.assignee, found.version,
                                             [&](const std::string& address) { return GetBlob(*txn, address); }));
  }
  CALIPER_ASSIGN_OR_RETURN(std::string nifti, MaskNiftiGz(map));
  CALIPER_RETURN_IF_ERROR(Audit(Record(ctx, "mask.read", "item", item_id,
                                       json{{"project_id", project_id},
                                            {"task_id", task_id},
                                            {"reader", found.task.assignee},
                                            {"version", found.version}}
                                           .dump())));
  return nifti;
}

Result<FusedMask> App::ReadFusedMask(const RequestContext& ctx, const std::string& item_id) {
  std::string project_id;
  std::vector<ReadingMaskVersion> readings;
  std::vector<dicom::LabelMap> maps;
  {
    CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kRead));
    CALIPER_ASSIGN_OR_RETURN(core::Item item, txn->GetItem(item_id));
    project_id = item.project_id;
    CALIPER_ASSIGN_OR_RETURN(readings, ReadingMaskVersions(*txn, item_id));
    if (readings.size() < 2) {
      return Error(ErrorCode::kConflict, "STAPLE needs the masks of at least two submitted readings; " +
                                             std::to_string(readings.size()) + " of this item's readings name one");
    }
    for (const auto& r : readings) {
      CALIPER_ASSIGN_OR_RETURN(auto m, StoredMask(*txn, item_id, r.task.assignee, r.version,
                                                  [&](const std::string& address) { return GetBlob(*txn, address); }));
      maps.push_back(std::move(m));
    }
  }
  std::vector<quality::MaskView> views;
  for (const auto& m : maps) views.push_back({GridOf(m), m.labels});
  auto fit = quality::StapleMultiLabel(views);
  if (!fit.ok()) return Error(ErrorCode::kConflict, "STAPLE cannot fuse these masks: " + fit.status().message());
  FusedMask out;
  dicom::LabelMap fused = maps.front();
  fused.labels = fit->consensus;
  CALIPER_ASSIGN_OR_RETURN(out.nifti, MaskNiftiGz(fused));
  const std::size_t n = fit->labels.size();
  json raters = json::array();
  for (std::size_t r = 0; r < readings.size(); ++r) {
    // Per label: P(the reader says it | truth is it), the diagonal of the reader's confusion.
    json agreement = json::object();
    for (std::size_t s = 0; s < n; ++s) agreement[std::to_string(fit->labels[s])] = fit->confusion[r][s * n + s];
    raters.push_back({{"task_id", readings[r].task.id}, {"reader", readings[r].task.assignee},
                      {"version", readings[r].version}, {"agreement", agreement}});
  }
  out.description = json{{"method", "staple"}, {"labels", fit->labels}, {"priors", fit->priors},
                          {"iterations", fit->iterations}, {"converged", fit->converged}, {"readers", raters}}
                         .dump();
  json audit{{"project_id", project_id}, {"fused", "staple"}, {"readings", json::array()}};
  for (const auto& r : readings) audit["readings"].push_back({{"task_id", r.task.id}, {"version", r.version}});
  CALIPER_RETURN_IF_ERROR(Audit(Record(ctx, "mask.read", "item", item_id, audit.dump())));
  return out;
}

}  // namespace caliper::app

#pragma once

// The composition root: the one place that wires storage, security and the other parts
// together, and the use cases the HTTP API and the CLI call. Every use case that changes
// state, or reads patient data, appends its audit event in the same transaction as the
// change. Use cases trust that the caller has authorised the request (http checks every
// route with Authorize before its handler; the CLI acts as the local operator).
//
// Thread-safe: one App serves all request threads.

#include <array>
#include <chrono>
#include <functional>
#include <istream>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <utility>
#include <string_view>
#include <vector>

#include "caliper/common/clock.h"
#include "caliper/common/config.h"
#include "caliper/common/ids.h"
#include "caliper/common/status.h"
#include "caliper/core/label_schema.h"
#include "caliper/core/types.h"
#include "caliper/dicom/deid.h"
#include "caliper/dicom/volume.h"
#include "caliper/ingest/labs.h"
#include "caliper/ingest/notes.h"
#include "caliper/quality/agreement.h"
#include "caliper/quality/indicators.h"
#include "caliper/quality/intervals.h"
#include "caliper/quality/qa_rules.h"
#include "caliper/quality/reviewers.h"
#include "caliper/security/audit.h"
#include "caliper/security/auth.h"
#include "caliper/security/blob_store.h"
#include "caliper/security/keys.h"
#include "caliper/security/policy.h"
#include "caliper/storage/store.h"
#include "caliper/waveform/waveform.h"

namespace caliper::exports {
struct SnapshotItem;
}  // namespace caliper::exports
namespace caliper::dicom {
struct LabelMap;
}  // namespace caliper::dicom

namespace caliper::app {

template <typename T>
class LruCache;  // app/lru_cache.h
struct ReadingLabels;  // app/disagreement.h

// Where a deployment keeps its files, all under one data directory.
struct DataPaths {
  explicit DataPaths(std::string data_dir);
  std::string root;
  std::string config_file;      // caliper.toml
  std::string database;         // caliper.db
  std::string blobs;            // blobs/
  std::string keys_dir;         // keys/ (master.key, audit-signing.key/.pub)
  std::string master_key;       // keys/master.key
  std::string tls_dir;          // tls/ (cert.pem, key.pem)
  std::string audit_checkpoints;  // audit/checkpoints.log
};

// Who is acting and from where.
struct RequestContext {
  security::Principal principal;
  std::string source_address;  // "" for local commands
  std::string actor() const { return principal.user.id.empty() ? "anonymous" : principal.user.id; }
};

// The local operator running a CLI command on the server's machine.
RequestContext LocalOperator();

// A DICOM sender reaching the C-STORE receiver: the actor is "dicom:" + its calling AE title
// (trimmed), from `peer_address`. It holds no role; the receiver acts for it only in the
// project its title is allowed to send to.
RequestContext DicomSourceContext(const std::string& calling_ae, const std::string& peer_address);

struct NewUser {
  std::string username;
  std::string display_name;
  bool is_admin = false;
  std::vector<core::Qualification> qualifications;
  std::string password;  // "" = generate a one-time password (returned once)
};

struct CreatedUser {
  core::User user;
  std::string one_time_password;  // "" when the caller chose the password
};

struct LoginResult {
  core::User user;
  security::IssuedSession session;
};

struct NewItem {
  core::DataType data_type = core::DataType::kImaging;
  std::string modality;
  std::string patient_key;
  std::string cohort_json = "{}";
  std::string content_type = "application/octet-stream";
};

struct AnnotationPatch {
  std::optional<std::string> evidence_kind, evidence_json, label_class, code_system, code;
  std::optional<std::optional<double>> confidence;
  std::optional<core::Assertion> assertion;
  std::optional<core::Temporality> temporality;
  std::optional<core::Experiencer> experiencer;
  std::optional<std::string> relations_json;
  std::string reason;  // why (optional, at most 2000 characters); kept in the history
};

struct InitResult {
  std::string admin_username;
  std::string admin_password;  // one-time; must be changed at first sign-in
  bool created = false;        // false when the data directory was initialised before
};

// ---- the labelling workflow (src/app/workflow.cpp, docs/workflow.md) ----

// Editing a guideline version: a draft changes in place; a published version stays as it is
// and the edit becomes a new draft based on it (`created`).
struct GuidelineEdit {
  core::GuidelineVersion version;
  bool created = false;
};

struct GuidelineDiff {
  core::GuidelineVersion from, to;
  std::vector<core::ClassDiff> classes;
};

struct ReviewRequest {
  core::ReviewDecision decision = core::ReviewDecision::kAccept;
  std::optional<core::RejectReason> reject_reason;  // required for reject, refused otherwise
  std::string reason;  // the note: required to escalate and with RejectReason::kOther
  std::string annotation_id;  // the label decided on; required for correct
  std::optional<core::Annotation> correction;  // correct: evidence, label and uncertainty
};

struct ReviewOutcome {
  core::Task task;
  core::Review review;
  std::optional<core::Annotation> correction;  // the new version (the original is kept)
};

struct AdjudicationRequest {
  std::string source_annotation_id;       // choose a reading's label ...
  std::optional<core::Annotation> label;  // ... or write the final label
  std::string rationale;                  // required
};

struct AdjudicationOutcome {
  core::Adjudication adjudication;
  core::Annotation final_label;
  std::vector<core::Task> tasks;  // the escalated tasks, now adjudicated
};

// What publishing a version means for the labels made before it: every label pinned to the
// `from` version whose class was removed or changed on the way to `to`.
struct GuidelineImpact {
  GuidelineDiff diff;
  struct Label {
    core::Annotation annotation;
    std::string change;  // the class's change: "removed" | "changed"
  };
  std::vector<Label> labels;
};

// What App::ReannotateImpacted did: the impact report it acted on, the readings sent back to
// their readers, and the labels' tasks it left alone with the reason.
struct ReannotationReport {
  GuidelineImpact impact;
  std::vector<core::Task> reopened;
  struct Skipped {
    std::string task_id;
    std::string annotation_id;
    std::string reason;
  };
  std::vector<Skipped> skipped;
};

// The fused suggestion for an item's masks (App::ReadFusedMask): the consensus label map as
// NIfTI (.nii.gz) and the fit as JSON: {"method": "staple", "labels", "priors", "iterations",
// "converged", "readers": [{"task_id", "reader", "version", "agreement": {label: P(the reader
// says it | truth is it)}}]}.
struct FusedMask {
  std::string nifti;
  std::string description;
};

// One reader's reading of an item, as the adjudicator sees it (identities revealed).
struct Reading {
  core::Task task;
  std::vector<core::Annotation> annotations;
  std::vector<core::Review> reviews;
};

// The disagreement of an item's submitted readings on one class (every class a reading labels).
struct ClassDisagreement {
  std::string label_class;
  int readings = 0;  // readings compared
  int naming = 0;    // readings with a label of the class whose assertion is not 'absent'
  // Highest minus lowest grade among the readings' grades (evidence kind "value",
  // {"value": number}); unset with fewer than two graded readings.
  std::optional<double> grade_distance;
  // Lowest Dice between two readings' masks (a reading's first mask of the class: evidence kind
  // "voxels", or "mask": in ListReadings always, on submit for a class with a dice_below
  // trigger); unset with fewer than two masks on one grid.
  std::optional<double> min_dice;
  // Lowest exact span F1 (quality::SpanF1 on the spans of the class) between two readings;
  // unset when no reading has a span of the class.
  std::optional<double> min_span_f1;
  std::optional<double> min_confidence;  // lowest reader confidence in a label of the class
  // The fused suggestion: Dawid–Skene posterior that the class is present on the item, fitted
  // over every submitted reading of the project (present / absent per reading).
  std::optional<double> posterior;
};

// What the adjudicator sees of an item: every reading side by side (identities revealed), the
// disagreement per class with the fused suggestion, and the automatic triggers that fired.
struct ItemReadings {
  std::vector<Reading> readings;
  std::vector<ClassDisagreement> classes;
  std::vector<core::AdjudicationTrigger> triggers;
};

// One version of an annotation in its history: the label as it was, who made that version,
// when and why. `change` is create | edit | correction | adjudication; a correction or an
// adjudicated label is a new annotation (its own id) derived from this one.
struct AnnotationHistoryEntry {
  core::Annotation annotation;
  std::string change;
  std::string by;
  TimeMicros at = 0;
  std::string reason;  // the edit's reason, the review's reason or the adjudication's rationale
};

// Agreement on one class among items read by at least two readers: each reading says the
// class is there or not; Krippendorff's alpha (nominal) with a seeded bootstrap interval.
struct ClassAgreement {
  std::string label_class;  // "*" for the whole label set of a reading
  std::int64_t items = 0;    // items with at least two readings
  std::int64_t readings = 0;
  std::optional<double> alpha;  // absent when undefined (e.g. no variation); see `note`
  std::optional<quality::ConfidenceInterval> ci;
  std::string note;
};

// One reader's repeat reads against their first readings (docs/quality.md, "Intra-reader
// reliability").
struct IntraReaderAgreement {
  std::string reader;
  std::int64_t pairs = 0;        // items read twice (both readings submitted)
  double agreement = 0;          // share of pairs with the same label set
  std::optional<double> kappa;   // Cohen's kappa, first vs repeat; none when undefined (see note)
  std::string note;
};

// What a quality sweep stored (App::SweepQuality).
struct QualitySweep {
  std::int64_t items = 0;
  std::int64_t soft_labels = 0;
  std::int64_t findings = 0;
};

// The stored soft labels and QA findings of a project (or one item of it).
struct StoredQuality {
  std::vector<storage::SoftLabel> soft_labels;
  std::vector<storage::QaFindingRow> findings;
};

// A project's quality indicators (docs/quality.md, "Indicators"), computed from the store.
struct ProjectQuality {
  std::int64_t items = 0;
  std::int64_t readings = 0;           // submitted readings (tasks past claimed)
  std::int64_t adjudicated_items = 0;
  std::vector<ClassAgreement> agreement;
  quality::RateReport rejection;         // per review decision, hit = reject, group = reader
  // Rejections per reason code: every code, in core::AllRejectReasons() order.
  std::vector<std::pair<core::RejectReason, std::int64_t>> rejections_by_reason;
  quality::RateReport adjudication;      // per item with >= 2 readings, group = modality
  quality::RateReport error_by_class;    // per reading x class vs the adjudicated label
  quality::RateReport error_by_modality; // per reading vs the adjudicated label set
  // Each reader against three references (docs/quality.md, "Indicators and reviewer
  // analytics"); a reading agrees when its label set equals the reference's, no more and no
  // fewer classes.
  quality::ReaderAnalytics readers;        // the item's latest adjudication
  quality::ReaderAnalytics readers_fused;  // the fused label of items read at least twice
  quality::ReaderAnalytics readers_gold;   // the gold answer
  std::vector<IntraReaderAgreement> intra_reader;  // per reader, repeat vs first reading, by reader id
  std::vector<quality::QaFinding> findings;
};

// ---- clinical notes (src/app/notes.cpp, docs/notes.md) ----

// What happened to one record of a notes file.
struct NoteIngestResult {
  std::size_t number = 0;  // record number within its file (1-based)
  std::size_t line = 0;    // the line it starts on
  std::string source_id;   // the source's note id, echoed to the caller (never stored)
  std::string outcome;     // "stored" | "duplicate" | "error"
  std::string item_id;     // stored: the new item; duplicate: the item stored before
  std::int64_t chars = 0;  // stored: code points of the de-identified text
  std::size_t phi = 0;     // stored: identifiers replaced
  Status error;            // error: why the record was skipped (nothing of it was stored)
};

// The per-record report of an ingest as JSON text: {"records": [{"record", "line", "id",
// "outcome", "item_id", "chars", "phi", "error": {"code", "message"}}], "stored",
// "duplicates", "errors"} (what the API answers and `caliper ingest notes --json` prints).
std::string NoteIngestReportJson(const std::vector<NoteIngestResult>& results);

// Agreement between readers on the span labels of a project's notes (quality::SpanF1, docs/
// spans.md). Each pair of readers is compared on the note items both submitted a reading of;
// figures are means over those pairs. "class" compares spans and classes; "full" also the
// assertion, temporality and experiencer.
struct SpanAgreementReport {
  std::size_t items = 0;    // note items with at least two submitted readings
  std::size_t readers = 0;  // readers with a submitted reading of such an item
  std::size_t pairs = 0;    // reader pairs compared
  double class_exact_f1 = 0, class_overlap_f1 = 0;
  double full_exact_f1 = 0, full_overlap_f1 = 0;
};

// What happened to one lab result of a file (App::IngestLabs).
struct LabIngestResult {
  std::size_t number = 0;
  std::size_t line = 0;
  std::string outcome;  // "stored" | "error"
  std::string item_id;  // stored: the patient's labs item of this ingest
  bool normalised = false;  // stored: the value was converted to the analyte's unit
  Status error;
};
// {"records": [{"record", "line", "outcome", "item_id", "normalised", "error"}], "stored",
// "errors"} (API answer, `caliper ingest labs --json`).
std::string LabIngestReportJson(const std::vector<LabIngestResult>& results);

// ---- imaging (src/app/imaging.cpp, docs/imaging.md) ----

// One uploaded file: a name for the report (a path, a part number) and its bytes.
struct ImagingInput {
  std::string name;
  std::string bytes;
};

// What happened to one DICOM file of an ingest.
struct DicomFileResult {
  std::string name;
  std::string outcome;  // "stored" | "duplicate" | "quarantined" | "error"
  std::string item_id;  // stored, duplicate: the series item
  std::string sop_instance_uid;  // pseudonymous ("" for an error)
  std::string series_uid;        // pseudonymous
  std::string modality;
  std::vector<std::string> reasons;  // quarantined: why burned-in text is suspected
  std::string quarantine_id;         // quarantined: its entry in the quarantine (also a repeat's)
  Status error;                      // error: why the file was skipped (nothing of it stored)
  // What de-identification did to the file (the `actions` of `caliper deid dicom`'s report:
  // DeidActionsJson); absent when it did not de-identify.
  std::optional<dicom::DeidActions> actions;
};

// What happened to one series (item) of an ingest that stored at least one instance.
struct DicomSeriesResult {
  std::string item_id;
  std::string series_uid;  // pseudonymous
  std::string modality;
  bool created = false;         // a new item (else instances joined an earlier upload's item)
  std::int64_t added = 0;       // instances stored by this ingest
  std::int64_t instances = 0;   // instances the item holds now
  std::array<int, 3> dims{0, 0, 0};  // the volume (columns, rows, slices); 0s when none
  std::string no_volume;        // why the series has no volume ("" when it has one)
  std::vector<std::string> warnings;  // of the volume build (e.g. gantry tilt)
};

struct DicomIngestReport {
  std::vector<DicomFileResult> files;  // one per input, in order
  std::vector<DicomSeriesResult> series;
};
// What de-identification did to one instance, as a JSON object: {"dummy", "zeroed", "removed",
// "kept", "cleaned", "uid_remapped", "private_removed", "private_kept", "dates_shifted",
// "pixels_blanked", "pixels_decompressed_from": UID | null} (docs/deid-dicom.md). The one
// serialiser of `actions` in deid-report.jsonl, the ingest report and the ingest's audit events.
std::string DeidActionsJson(const dicom::DeidActions& actions);

// {"files": [{"name", "outcome", "item_id", "sop_instance_uid", "series_uid", "modality",
// "reasons", "quarantine_id", "actions" (DeidActionsJson; absent when the file did not
// de-identify), "error": {"code", "message"}}], "series": [{"item_id", "series_uid", "modality",
// "created", "added", "instances", "volume": {"dims"} | null, "no_volume", "warnings"}],
// "stored", "duplicates", "quarantined", "errors"} (API answer, `caliper ingest dicom --json`).
std::string DicomIngestReportJson(const DicomIngestReport& report);

// What a data steward decides about a quarantined instance (App::DecideQuarantined).
enum class QuarantineAction { kRelease, kBlank, kDiscard };
// "release" | "blank" | "discard"; kInvalidArgument otherwise.
Result<QuarantineAction> ParseQuarantineAction(std::string_view name);
struct QuarantineDecision {
  QuarantineAction action = QuarantineAction::kRelease;
  std::vector<dicom::PixelRect> rects;  // kBlank: 1..100 rectangles, pixel coordinates of every frame
  std::string reason;                   // why (required to discard; at most 2000 bytes)
};
// One frame of a quarantined instance, rendered for review.
// A page of the quarantine, with how many of the project's entries are pending (whatever the
// page's status filter).
struct QuarantineList : storage::Page<storage::QuarantinedInstance> {
  std::int64_t pending = 0;
};

struct QuarantineFrame {
  std::string png;  // the frame as stored (dicom::RenderFramePng)
  int frames = 0;   // how many frames the instance holds
};

// One NIfTI file with what it comes with: the source patient identifier (made pseudonymous
// like a note's) and the text of its BIDS JSON sidecar ("" when none).
struct NiftiInput {
  std::string name;
  std::string bytes;  // .nii or .nii.gz
  std::string patient;
  std::string sidecar_json;
};

struct NiftiIngestResult {
  std::string name;
  std::string outcome;  // "stored" | "error"
  std::vector<std::string> item_ids;  // one per volume (a 4D file: one per time point)
  std::array<std::int64_t, 3> dims{0, 0, 0};
  Status error;
};
// {"files": [{"name", "outcome", "item_ids", "dims", "error"}], "stored", "errors"}.
std::string NiftiIngestReportJson(const std::vector<NiftiIngestResult>& results);

// ---- waveforms (src/app/waveforms.cpp, docs/waveforms.md) ----

// What happened to one record (or one left-over file) of a waveform ingest.
struct WaveformIngestResult {
  std::string name;     // the record's header, .edf or .dcm file name (or the left-over file)
  std::string format;   // wfdb | edf | edf+ | dicom ("" when nothing was read)
  std::string outcome;  // "stored" | "error"
  std::string item_id;
  std::int64_t leads = 0, samples = 0, annotations = 0;
  double sampling_rate_hz = 0;
  std::vector<std::string> warnings;  // what the reader left out
  Status error;                       // error: why nothing of the record was stored
};
// {"records": [{"name", "format", "outcome", "item_id", "leads", "samples", "sampling_rate_hz",
// "annotations", "warnings", "error": {"code", "message"}}], "stored", "errors"} (API answer,
// `caliper ingest waveform --json`).
std::string WaveformIngestReportJson(const std::vector<WaveformIngestResult>& results);

// Which samples of a waveform item to read: seconds from the record's first sample (from_s
// default 0; to_s default from_s + 10 s, clipped to the record), the leads by name (all when
// empty), and the group ("" = the record, else an extra group's label such as "MEDIAN BEAT").
struct WaveformWindowRequest {
  std::optional<double> from_s, to_s;
  std::vector<std::string> leads;
  std::string group;
};

struct WaveformWindow {
  double sampling_rate_hz = 0;
  std::int64_t start_sample = 0;
  std::vector<std::string> names;
  std::vector<std::vector<double>> values_mv;  // per lead, in `names` order
};

// Agreement between the readers of one waveform item (App::IntervalAgreementOf).
struct IntervalAgreementReport {
  struct Reader {
    std::string author;  // user id
    std::int64_t version = 0;
    std::size_t intervals = 0, beats = 0;
  };
  struct Pair {
    std::string reader_a, reader_b;
    quality::IntervalAgreement agreement;
  };
  quality::IntervalAgreementOptions options;
  std::vector<Reader> readers;  // ascending by author
  std::vector<Pair> pairs;      // every unordered pair
};

// What PUT /items/{id}/mask carries: a NIfTI label map or a DICOM Segmentation.
enum class MaskFormat { kNifti, kDicomSeg };

// A stored mask version, as its reader uploaded it.
struct MaskVersion {
  std::string id;
  std::string item_id;
  std::int64_t version = 0;
  std::int64_t bytes = 0;  // compressed
  std::vector<int> labels;  // the labels present (1..255)
  TimeMicros created_at = 0;
};

// One version of one reader's markup (docs/pathology.md): the JSON document of its kind.
struct MarkupVersion {
  std::string id;             // "" when the reader has none (version 0)
  std::string item_id;
  std::string author;         // user id
  storage::MarkupKind kind = storage::MarkupKind::kRegions;
  std::int64_t version = 0;   // 1, 2, ... per (item, author, kind); 0 = none yet
  std::string document;       // the stored JSON text ("" when version is 0)
  std::int64_t bytes = 0;
  TimeMicros created_at = 0;
};

// Agreement between readers' regions on one slide (docs/pathology.md, "Agreement"): every
// reader's latest regions rasterised per class on one grid, compared pairwise and fused.
struct RegionClassAgreement {
  std::string label_class;
  std::vector<std::int64_t> cells;  // per reader (order of RegionAgreementReport::readers)
  struct Pair {
    std::string reader_a, reader_b;  // user ids
    double dice = 0, iou = 0;
    std::int64_t intersection = 0;  // cells
  };
  std::vector<Pair> pairs;
  struct Staple {
    std::vector<double> sensitivity, specificity;  // per reader
    double prior = 0;
    std::int64_t consensus_cells = 0;  // cells whose posterior is at least 0.5
    int iterations = 0;
    bool converged = false;
  };
  std::optional<Staple> staple;
  std::string staple_note;  // why there is no STAPLE (fewer than two readers, nothing drawn)
};
struct RegionAgreementReport {
  std::string item_id;
  struct Reader {
    std::string user_id;
    std::int64_t version = 0;
  };
  std::vector<Reader> readers;
  std::int64_t cell_px = 1;             // level-0 pixels per grid cell side
  std::int64_t grid_width = 0, grid_height = 0;
  std::optional<double> cell_um;        // cell side in micrometres, when the slide has a scale
  std::vector<RegionClassAgreement> classes;  // ascending by class id
};

// A stored whole-slide image, de-identified (docs/pathology.md): what GET /items/{id}/slide
// returns. The item's content is this as JSON (kSlideContentType), encrypted.
struct SlideInfo {
  std::int64_t width = 0, height = 0;  // level-0 pixels
  std::optional<double> mpp_x, mpp_y;  // micrometres per level-0 pixel
  std::optional<double> objective_power;
  std::string vendor;                  // OpenSlide's vendor name, e.g. "aperio"
  int levels = 0;                      // Deep Zoom levels 0..levels-1; levels-1 is level 0 of the slide
  int tile_size = 254;                 // Deep Zoom TileSize (without overlap)
  int overlap = 1;                     // Deep Zoom Overlap
  std::string format = "jpeg";
};
inline constexpr const char* kSlideContentType = "application/vnd.caliper.slide+json";
// The slide as JSON text {width, height, mpp_x, mpp_y, objective_power, vendor, levels,
// tile_size, overlap, format} (absent values are null), and back
// (kIntegrity when the text is not such an object).
std::string SlideInfoJson(const SlideInfo& slide);
Result<SlideInfo> ParseSlideInfo(const std::string& json_text);

// One slide file's ingest (docs/pathology.md).
struct SlideIngestResult {
  std::string name;     // as the caller named the file (reported back, never stored)
  std::string outcome;  // "stored" | "error"
  Status error;         // why, for "error"
  std::string item_id;  // for "stored"
  SlideInfo slide;      // what was kept (for "stored")
  std::int64_t tiles = 0;
  int dropped_properties = 0;               // properties of the file not kept
  std::vector<std::string> dropped_images;  // associated images never read (label, macro, ...)
};

// {name, outcome, item_id, slide, tiles, dropped_properties, dropped_images} for "stored",
// {name, outcome, error: {code, message}} for "error" (HTTP and the CLI's --json).
std::string SlideIngestResultJson(const SlideIngestResult& result);

// A reader's viewer session on a slide: tiles are served only inside a live one.
struct SlideViewSession {
  std::string view;
  TimeMicros expires_at = 0;
  SlideInfo slide;
};

// A stored note as a reader sees it: the de-identified text and where its tags or
// surrogates stand (code points into `text`).
struct NoteView {
  core::Item item;
  core::Note note;
  std::string text;
};

// ---- project files (src/app/project_file.cpp, docs/project-file.md) ----

// Workflow settings from their JSON form (the body of PUT .../workflow, the "workflow" member
// of a project file): every field optional (defaults as core::WorkflowSettings), unknown fields
// and wrong types are kInvalidArgument naming the field. Ranges are checked when stored.
Result<core::WorkflowSettings> WorkflowSettingsFromJson(const std::string& project_id, const std::string& json_text);

// A whole project in one JSON document (schema: docs/project-file.schema.json): its name and
// description, the label schema of its first guideline version (published unless "publish"
// is false), and optionally its workflow and text settings.
struct ProjectFile {
  std::string name;
  std::string description;
  std::string schema_json;  // the "guideline" member, as given
  bool publish = true;
  std::optional<core::WorkflowSettings> workflow;  // project_id left empty
  std::optional<core::TextSettings> text;           // project_id left empty
  std::optional<core::DicomSettings> dicom;         // project_id left empty
};

// Reads a project file; strict (unknown members, wrong types and a missing name or guideline
// are kInvalidArgument naming the member; "caliper_project" must be 1 when given).
Result<ProjectFile> ProjectFileFromJson(const std::string& json_text);

// What App::CreateProjectFromFile made.
struct ProjectFromFile {
  core::Project project;
  core::GuidelineVersion guideline;
  core::WorkflowSettings workflow;
  core::TextSettings text;
  core::DicomSettings dicom;
};

// ---- guideline feedback (src/app/guideline_feedback.cpp, docs/workflow.md) ----

// Feedback on one class, counted (GuidelineFeedbackReport).
struct FeedbackClassCount {
  std::string label_class;
  int total = 0;
  int items = 0;                     // distinct items
  std::map<std::string, int> kinds;  // feedback kind -> count
  // Some kind was reported on two or more distinct items: an exception that recurs, not a one-off.
  bool recurring = false;
};

struct GuidelineFeedbackReport {
  std::string guideline_version_id;  // the version the counts are for; "" = every version
  std::vector<FeedbackClassCount> classes;       // most feedback first
  std::vector<core::GuidelineFeedback> entries;  // newest first
};

// ---- AI pre-labels (src/app/prelabels.cpp, docs/workflow.md "AI pre-labels") ----

// Reads one prediction (the wire format of bulk uploads and of model back-end answers, in
// docs/workflow.md): {item_id?, model?: {name, version}, evidence: {kind, data?},
// label: {class, code_system?, code?}, assertion?, score?, scores?, attributes?}. Strict:
// unknown fields and wrong types are kInvalidArgument naming the field. Values are checked
// when stored (App::AddPrelabels).
Result<core::Prelabel> PrelabelFromJson(const std::string& json_text);

// One row of a bulk upload that was refused: its index in the upload and why. Refused rows
// are skipped; the others are stored.
struct RowError {
  std::size_t index = 0;
  std::string message;
};

struct PrelabelUpload {
  std::vector<core::Prelabel> stored;
  std::vector<RowError> errors;
};

// A pre-label as the caller may see it: a reader sees only their own decision (blinding), and
// `status` is that decision or kPending; others see every decision and status kPending unless
// someone decided (then the latest decision's status).
struct PrelabelView {
  core::Prelabel prelabel;
  core::PrelabelStatus status = core::PrelabelStatus::kPending;
  std::vector<core::PrelabelDecision> decisions;
};

struct PrelabelDecisionRequest {
  core::PrelabelStatus decision = core::PrelabelStatus::kAccepted;  // accepted, corrected, rejected
  std::optional<core::Annotation> correction;  // corrected: the reader's own label
  std::string reason;                          // optional note
};

struct PrelabelDecisionOutcome {
  core::PrelabelDecision decision;
  std::optional<core::Annotation> annotation;  // the reader's label (accepted or corrected)
};

// Per model version: how readers received its suggestions (docs/workflow.md).
struct ModelVersionStats {
  std::string model_name, model_version;
  int prelabels = 0;
  int accepted = 0, corrected = 0, rejected = 0;
  double acceptance_rate = 0;  // accepted / decided (0 when none decided)
  std::optional<double> mean_correction_size;  // over corrected decisions
  // Anchoring: submitted readings on items with this version's pre-labels, by whether the
  // reader was shown pre-labels, and how many of them name a class the model suggested.
  int shown_readings = 0, shown_agreeing = 0;
  int hidden_readings = 0, hidden_agreeing = 0;
};

// How Caliper reaches a model back-end (the http part provides one over HTTP/JSON). Must be
// thread-safe when one App serves several request threads.
class ModelBackendTransport {
 public:
  virtual ~ModelBackendTransport() = default;
  // POSTs the JSON `body` to `url`; returns the response body of a 2xx answer. kUnavailable
  // when the back-end cannot be reached or answers otherwise (the message says how).
  virtual Result<std::string> PostJson(const std::string& url, const std::string& body) = 0;
};

struct ModelRunRequest {
  std::string backend_url;            // where the back-end listens
  std::string caliper_url;            // how the back-end reaches this server ("https://host:port")
  std::vector<std::string> item_ids;  // none = every item of the project
  int token_minutes = 15;             // lifetime of each item's fetch token, 1..1440
};

struct ModelRunReport {
  int items = 0;
  std::vector<core::Prelabel> stored;
  std::vector<RowError> errors;  // index = the item's position; message names item and cause
};

// What a ConText run stored (App::RunContextPrelabels).
struct ContextRunReport {
  int notes = 0;                      // note items read
  int already = 0;                    // mentions skipped: the same pre-label was stored before
  std::vector<core::Prelabel> stored;
  std::vector<RowError> errors;       // index = the note's position; message names item and cause
};

// ---- delayed ground truth (src/app/outcomes.cpp, docs/workflow.md) ----

// Reads one outcome event of the API: {item_id | patient_key, evidence_type, class, value?,
// result: confirms | refutes, time: RFC 3339}. Strict: kInvalidArgument naming the field.
Result<core::Outcome> OutcomeFromJson(const std::string& json_text);

struct OutcomeUpload {
  std::vector<core::Outcome> stored;
  std::vector<RowError> errors;  // refused rows (skipped)
};

// A label of a class that needs confirmation, with its status now: provisional, confirmed,
// refuted or unconfirmed, and the deciding outcome ("" when none).
struct LabelTruth {
  core::Annotation annotation;
  std::string status;
  std::string outcome_id;
};

// A label's truth status alone (LabelTruth without the label).
struct TruthState {
  std::string status;
  std::string outcome_id;  // "" when none decided it
};

// One reader's (or one model version's) labels against confirmed truth: a label is right
// when confirmed and wrong when refuted; accuracy = confirmed / (confirmed + refuted).
struct TruthScore {
  std::string reader;  // user id, or "<model>@<version>" for pre-labels
  int confirmed = 0, refuted = 0, provisional = 0, unconfirmed = 0;
  std::optional<double> accuracy;  // unset while nothing is decided
};

struct TruthScores {
  std::vector<TruthScore> readers;  // their own labels in submitted readings
  std::vector<TruthScore> models;   // pre-labels, per model version
};

class App {
 public:
  struct Options {
    const Clock* clock = nullptr;  // default: SystemClock
    IdGenerator* ids = nullptr;    // default: RandomIdGenerator
    const security::KeyProvider* key_provider = nullptr;  // default: from config/data dir
    // How often a running export build renews its lease; zero: a fifth of
    // export.build_lease_minutes (tests make it short).
    std::chrono::milliseconds export_lease_renewal{0};
  };

  // Prepares a data directory: folders (0700), the master key file (0600), the audit
  // signing keys, the database with migrations, and the first admin ("admin") with a
  // one-time password. Idempotent: an initialised directory is left as it is.
  static Result<InitResult> Init(const std::string& data_dir, const Config& config);

  // Opens an initialised data directory. kUnavailable naming the missing piece otherwise.
  static Result<std::unique_ptr<App>> Open(const std::string& data_dir, const Config& config,
                                           const Options& options);
  ~App();

  const DataPaths& paths() const { return paths_; }
  const Config& config() const { return config_; }
  const Clock& clock() const { return clock_; }
  const security::AuthSettings& auth_settings() const { return auth_.settings(); }
  // True while the store answers (for /readyz).
  bool Ready();
  // Stops accepting work and closes the store.
  void Close();

  // ---- authentication and authorisation ----
  Result<LoginResult> Login(const std::string& username, const std::string& password,
                            const std::string& source_address);
  Status Logout(const RequestContext& ctx);
  // Resolves a session cookie or an API token ("cal_..." bearer).
  Result<security::Principal> AuthenticateSession(const std::string& token);
  Result<security::Principal> AuthenticateApiToken(const std::string& token);
  Status CheckCsrf(const security::Principal& principal, const std::string& csrf_token);
  // Decides `permission` for the request on the resource named by project_id / item_id
  // (either may be ""). kNotFound when the resource does not exist; kPermissionDenied when
  // the policy says no. Every refusal is audited.
  // A `task_id` stands for its item (and must belong to project_id when that is given); so
  // does an `annotation_id` when neither an item nor a task is named.
  // `as_data_type` decides as if the item were of that data type: for data of another type
  // reached through the item (a note's patient's labs need the labs scope too).
  Status Authorize(const RequestContext& ctx, security::Permission permission,
                   const std::string& project_id, const std::string& item_id,
                   const std::string& action, const std::string& task_id = "",
                   const std::string& annotation_id = "",
                   std::optional<core::DataType> as_data_type = std::nullopt);

  // ---- users ----
  Result<CreatedUser> CreateUser(const RequestContext& ctx, const NewUser& user);
  Result<storage::Page<core::User>> ListUsers(const RequestContext& ctx, const storage::PageRequest& page);
  Result<core::User> GetUser(const RequestContext& ctx, const std::string& id);
  Result<core::User> FindUser(const RequestContext& ctx, const std::string& username);
  Status SetUserDisabled(const RequestContext& ctx, const std::string& user_id, bool disabled);
  // A new random password; the user's sessions end. With `must_change` (the default) it is a
  // one-time password that the API accepts only for changing it.
  Result<std::string> ResetPassword(const RequestContext& ctx, const std::string& user_id,
                                    bool must_change = true);
  Status ChangeOwnPassword(const RequestContext& ctx, const std::string& old_password,
                           const std::string& new_password);
  Result<int> RevokeSessions(const RequestContext& ctx, const std::string& user_id);

  // ---- projects ----
  Result<core::Project> CreateProject(const RequestContext& ctx, const std::string& name,
                                      const std::string& description);
  // Admins see every project, others their own.
  // Creates a project with its guideline, workflow and text settings from a project file, all
  // in one transaction (nothing is left behind when any part is refused); audited as
  // project.create, guideline.create (+ guideline.publish), workflow.update,
  // project.text_settings and project.dicom_settings, as if made one by one.
  Result<ProjectFromFile> CreateProjectFromFile(const RequestContext& ctx, const ProjectFile& file);
  Result<storage::Page<core::Project>> ListProjects(const RequestContext& ctx, const storage::PageRequest& page);
  Result<core::Project> GetProject(const RequestContext& ctx, const std::string& id);
  Result<core::Membership> PutMember(const RequestContext& ctx, const std::string& project_id,
                                     const std::string& user_id, const std::vector<core::Role>& roles,
                                     const std::vector<core::DataType>& scopes);
  Status RemoveMember(const RequestContext& ctx, const std::string& project_id, const std::string& user_id);
  Result<storage::Page<core::Membership>> ListMembers(const RequestContext& ctx, const std::string& project_id,
                                                      const storage::PageRequest& page);

  // ---- API tokens ----
  Result<security::Authenticator::IssuedToken> CreateApiToken(
      const RequestContext& ctx, const std::string& user_id, const std::string& project_id,
      const std::string& name, const std::vector<security::Permission>& permissions,
      std::optional<TimeMicros> expires_at);
  Status RevokeApiToken(const RequestContext& ctx, const std::string& token_id);
  Result<storage::Page<storage::ApiToken>> ListApiTokens(const RequestContext& ctx, const std::string& user_id,
                                                         const storage::PageRequest& page);

  // ---- items ----
  // Encrypts `content` under the data key of (project, patient) and records the item.
  Result<core::Item> CreateItem(const RequestContext& ctx, const std::string& project_id,
                                const NewItem& item, std::istream& content);
  // Annotators see only items assigned to them.
  Result<storage::Page<core::Item>> ListItems(const RequestContext& ctx, const std::string& project_id,
                                              const storage::PageRequest& page);
  Result<core::Item> GetItem(const RequestContext& ctx, const std::string& item_id);
  // Decrypts the content; writes the audit event before returning any byte.
  Result<std::string> ReadItemContent(const RequestContext& ctx, const std::string& item_id);
  // Assigns an item to a reader (a task).
  Result<core::Task> AssignItem(const RequestContext& ctx, const std::string& item_id,
                                const std::string& user_id);

  // ---- clinical notes (src/app/notes.cpp) ----
  // The project's text settings (defaults until first put: surrogate mode, no clinicians).
  Result<core::TextSettings> GetTextSettings(const RequestContext& ctx, const std::string& project_id);
  // kInvalidArgument for an unknown mode or more than 10,000 clinician names.
  Result<core::TextSettings> PutTextSettings(const RequestContext& ctx, core::TextSettings settings);
  // Reads every record of `reader` and stores each good one as its own item (data type
  // notes, text/plain): the text is checked (ingest::CheckNoteText), de-identified with the
  // project's settings BEFORE anything is stored, and written with its note row and audit
  // event in one transaction, so a record is stored whole or not at all. The source patient
  // identifier becomes a pseudonymous patient key (keyed hash under the project's
  // de-identification secret), which also keys surrogate consistency: one patient's names and
  // date shift are the same in every note of the project. String metadata values are
  // de-identified too. A record already stored (same source id, or same patient and text
  // when there is no id) is reported as a duplicate. One result per record, in order; the
  // call itself fails only when the project is missing or the store fails.
  Result<std::vector<NoteIngestResult>> IngestNotes(const RequestContext& ctx, const std::string& project_id,
                                                    ingest::NoteReader& reader);
  // Span agreement over the project's note items (see SpanAgreementReport).
  Result<SpanAgreementReport> SpanAgreement(const RequestContext& ctx, const std::string& project_id);
  // Stores lab results: the good records of each source patient become one item (data type
  // labs, modality LAB, application/json content encrypted under the patient's data key) with
  // the pseudonymous patient key of the notes (so notes and labs of a patient meet), every
  // time shifted by that patient's date shift (deid::PatientDateShiftDays, as the notes'
  // surrogate dates) and values normalised to each analyte's unit (ingest::NormaliseLabValue;
  // the original value and unit are kept). Records with an error are reported and skipped.
  Result<std::vector<LabIngestResult>> IngestLabs(const RequestContext& ctx, const std::string& project_id,
                                                  const std::vector<ingest::LabRecord>& records);
  // Every lab result of the patient of `item_id` (any item of theirs, e.g. the note being
  // read), merged from their labs items and sorted by time, as JSON text {"patient_key",
  // "results": [{"item_id", "time", "loinc", "name", "value", "value_text", "unit",
  // "ref_low", "ref_high", "flag", "normalised": {"value", "unit", "analyte"} | null}]}.
  // Each labs item read is audited.
  Result<std::string> PatientLabsJson(const RequestContext& ctx, const std::string& item_id);
  // The de-identified text of a note item with its replacement spans; audited like
  // ReadItemContent. kNotFound when the item is not a note.
  Result<NoteView> ReadNote(const RequestContext& ctx, const std::string& item_id);

  // ---- imaging (src/app/imaging.cpp) ----
  // The project's DICOM de-identification settings (until first put: the Basic Profile alone,
  // no option, no blanking rule).
  Result<core::DicomSettings> GetDicomSettings(const RequestContext& ctx, const std::string& project_id);
  // Sets them for uploads from now on (stored instances keep their form; UIDs and pseudonyms
  // depend on the project's key only, so a series split across a change keeps its UIDs).
  // Options are stored by their canonical names. kInvalidArgument (naming the entry) for an
  // unknown option, a safe private element or blanking rule that dicom::DeidOptionsFromSpecs
  // refuses, or more than 1000 entries of a kind. Audited as project.dicom_settings.
  Result<core::DicomSettings> PutDicomSettings(const RequestContext& ctx, core::DicomSettings settings);
  // De-identifies every DICOM file with the project's DicomDeidentifier (PS3.15 Basic
  // Profile with the project's options and blanking rules, GetDicomSettings; pseudonyms keyed by the project's de-identification secret)
  // BEFORE anything is stored, then stores the instances grouped by their (new) Series
  // Instance UID: one imaging item per series, found again by that UID when a later upload
  // brings more of it. Each series batch commits whole, with its audit event: the encrypted
  // instances, the item (modality and coarsened cohort of the first instance; patient key as
  // the notes' under the same secret), its re-identification link (original Patient ID and
  // Study UID, encrypted, data stewards only), and as the item's content the volume as NIfTI
  // (.nii.gz) built from every instance of the series when dicom::BuildVolume succeeds (else
  // the item keeps only its instances and the report says why). Files with suspected
  // burned-in text (and no blanking rule) are quarantined: de-identified in their headers and
  // kept encrypted in the quarantine (not in an item) for a data steward's pixel review, with
  // their reasons, audited as quarantine.add; the report names the entry (an instance already
  // pending keeps its one entry). A repeated instance is a duplicate. The call fails only when
  // the project is missing or the store does.
  // With `build_volumes` false the instances are stored as above but no volume is built (the
  // series result says "deferred"); BuildDicomVolumes builds them later, once per series
  // however many ingests brought its instances (the C-STORE receiver ingests instance by
  // instance and builds at the end of the association).
  Result<DicomIngestReport> IngestDicom(const RequestContext& ctx, const std::string& project_id,
                                        std::vector<ImagingInput> inputs, bool build_volumes = true);
  // Builds the volume of each series item in `item_ids` from every instance it holds and stores
  // it as the item's content (as IngestDicom does), one transaction per item with its audit
  // event (imaging.volume_build). kNotFound when an item is not a DICOM series of the project
  // (items before it are done).
  Result<std::vector<DicomSeriesResult>> BuildDicomVolumes(const RequestContext& ctx, const std::string& project_id,
                                                           const std::vector<std::string>& item_ids);

  // ---- DICOM sources: who may send to the C-STORE receiver (src/app/dicom_sources.cpp) ----
  // The calling AE titles allowed to send to the project, ascending.
  Result<std::vector<core::DicomSource>> GetDicomSources(const RequestContext& ctx, const std::string& project_id);
  // Makes `sources` the project's whole list. Each title must be valid (dicom::IsValidAeTitle)
  // and is kept trimmed; titles must be distinct; descriptions at most 200 printable characters;
  // at most 1000 titles. kConflict when a title already sends to another project. Audited as
  // project.dicom_sources with the titles.
  Result<std::vector<core::DicomSource>> PutDicomSources(const RequestContext& ctx, const std::string& project_id,
                                                         std::vector<core::DicomSource> sources);
  // The project that takes DICOM from `calling_ae` (compared trimmed); kNotFound when none.
  Result<std::string> ProjectOfDicomSource(const std::string& calling_ae);
  // Stores each NIfTI file (3D, or 4D as one item per time point) as imaging items whose
  // content is the volume as .nii.gz (int16 when every value fits, else float32), cohort from
  // the BIDS sidecar (ingest::CohortFromBidsSidecar), modality from the sidecar ("OT" when it
  // names none). A file commits whole (all its items) with its audit events, or not at all.
  // NIfTI carries no identifiers in its voxels; its header's free text (descrip, aux_file,
  // intent_name) is not kept, since the volume is re-encoded.
  Result<std::vector<NiftiIngestResult>> IngestNifti(const RequestContext& ctx, const std::string& project_id,
                                                     std::vector<NiftiInput> inputs);
  // The original identity behind a DICOM series item ({"original_patient_id",
  // "original_issuer", "original_study_uid", "pseudonymous_id"} as JSON text); audited as
  // imaging.reidentify. Authorise with kReidentify (data stewards) before calling.
  Result<std::string> ReadReidentificationLink(const RequestContext& ctx, const std::string& item_id);
  // ---- quarantine for pixel review (src/app/quarantine.cpp, docs/deid-dicom.md) ----
  // Authorise with kQuarantineReview (data stewards) on the project before calling.
  // The project's quarantined instances by id, optionally only those with `status` (pending,
  // released, blanked, discarded; kInvalidArgument otherwise), and the number pending; audited
  // as quarantine.list.
  Result<QuarantineList> ListQuarantine(const RequestContext& ctx, const std::string& project_id,
                                        const std::string& status, const storage::PageRequest& page);
  // One entry; kNotFound unless it is the project's.
  Result<storage::QuarantinedInstance> GetQuarantined(const RequestContext& ctx, const std::string& project_id,
                                                      const std::string& quarantine_id);
  // Frame `frame` (from 0) of a pending entry's pixels as a PNG, as stored (dicom::RenderFramePng:
  // the coordinates blanking rectangles use), with the instance's frame count; audited as
  // quarantine.view. kNotFound once decided, kInvalidArgument for a frame it does not hold.
  Result<QuarantineFrame> RenderQuarantinedFrame(const RequestContext& ctx, const std::string& project_id,
                                                 const std::string& quarantine_id, int frame);
  // Decides a pending entry, in one transaction with its audit event (quarantine.release,
  // quarantine.blank, quarantine.discard, naming the decider): release stores the instance into
  // its series' item exactly as ingest would have (item made, volume rebuilt); blank first zeroes
  // the rectangles in every frame (dicom::BlankPixelRects, which decodes compressed pixel data
  // and stores it native; kUnsupported for a syntax it cannot decode) and then releases;
  // discard deletes the pixels. The entry keeps who, when, why and the rectangles, never the
  // pixels. kConflict for an entry already decided, or one whose instance
  // an item already holds; kInvalidArgument for a bad decision (nothing changes then).
  Result<storage::QuarantinedInstance> DecideQuarantined(const RequestContext& ctx, const std::string& project_id,
                                                         const std::string& quarantine_id,
                                                         const QuarantineDecision& decision);

  // One stored (de-identified) instance of a DICOM series item, as the Part 10 file; audited as
  // imaging.instance_read. kNotFound when the item holds no instance with that (pseudonymous)
  // SOP Instance UID.
  Result<std::string> ReadDicomInstance(const RequestContext& ctx, const std::string& item_id,
                                        const std::string& sop_instance_uid);
  // The item's volume as NIfTI (.nii.gz), audited like ReadItemContent. kNotFound when the item
  // has no volume (e.g. a series that did not build).
  Result<std::string> ReadVolumeNifti(const RequestContext& ctx, const std::string& item_id);
  // One slice of the item's volume as a PNG (dicom::RenderSlicePng), window from `preset`, or
  // `center`/`width`, else the volume's default. The read is audited (imaging.slice_read).
  struct SliceRequest {
    std::string plane;  // axial | coronal | sagittal
    int index = 0;
    std::string preset;
    std::optional<double> center, width;
  };
  Result<std::string> RenderSlice(const RequestContext& ctx, const std::string& item_id,
                                  const SliceRequest& request);
  // Stores the caller's mask on an imaging item: `bytes` is a .nii/.nii.gz label map (integer
  // labels 0..255) or, with MaskFormat::kDicomSeg, a DICOM Segmentation of the item's DICOM
  // series (its Frame of Reference and Referenced Series the series', as stored or as this
  // project's de-identification maps the original UIDs; each segment mapped to a segmentation
  // class of the guideline by its type code or its label, docs/imaging.md). The map must lie
  // on the item's volume grid (same dims, voxel corners within 1e-3 mm; else kInvalidArgument
  // saying what differs), and when the project's current guideline has segmentation classes,
  // every label must be one of them. Kept compressed (dicom::CompressLabelMap) and encrypted,
  // as the caller's next version; each reader's masks are their own. Audited as mask.put with
  // the version and format.
  Result<MaskVersion> PutMask(const RequestContext& ctx, const std::string& item_id, const std::string& bytes,
                              MaskFormat format = MaskFormat::kNifti);
  // The caller's latest mask on the item as NIfTI (.nii.gz, uint8, the volume's geometry);
  // kNotFound when they have none. Audited as mask.read.
  Result<std::string> ReadOwnMask(const RequestContext& ctx, const std::string& item_id);
  // For the adjudicator comparing masks: the mask a submitted reading of the item stands on (the
  // highest version its labels name as evidence) as NIfTI, like ReadOwnMask; kNotFound when
  // `task_id` is not such a reading. Audited as mask.read with the task, reader and version.
  Result<std::string> ReadReadingMask(const RequestContext& ctx, const std::string& item_id,
                                      const std::string& task_id);
  // The multi-label STAPLE consensus (quality::StapleMultiLabel) of those masks, every reading
  // that names one: the fused suggestion for masks. kConflict with fewer than two, or when STAPLE
  // cannot estimate them (one label everywhere). Audited as mask.read with the readings fused.
  Result<FusedMask> ReadFusedMask(const RequestContext& ctx, const std::string& item_id);

  // ---- waveforms (src/app/waveforms.cpp) ----
  // Stores each record of `grouping` (waveform::GroupRecordFiles) as one waveforms item whose
  // content is the stored waveform (waveform::EncodeStored), encrypted under the patient's data
  // key: WFDB and EDF/EDF+ through the waveform part's readers, DICOM waveforms de-identified
  // first (the project's DicomDeidentifier) and then read (dicom::ReadDicomWaveform). Only the
  // model is kept, never the files. Patient key: DICOM as IngestDicom; EDF from its patient
  // field; WFDB from the record name (PatientKeyFor under the project's secret). A record
  // commits whole with its audit event or not at all; a bad record or left-over file is
  // reported and skipped. Fails only when the project is missing or the store does.
  Result<std::vector<WaveformIngestResult>> IngestWaveforms(const RequestContext& ctx, const std::string& project_id,
                                                            waveform::Grouping grouping);
  // The item's waveform (kNotFound unless a waveforms item with a stored waveform). Audited as
  // `action` ("waveform.read" or "waveform.annotations_read").
  Result<waveform::Waveform> ReadWaveform(const RequestContext& ctx, const std::string& item_id,
                                          const std::string& action = "waveform.read");
  // A window of the item's samples in mV. kInvalidArgument for a window outside the record,
  // empty or reversed, an unknown lead or group, or more than 2 000 000 values. Audited as
  // waveform.samples_read with the window.
  Result<WaveformWindow> ReadWaveformWindow(const RequestContext& ctx, const std::string& item_id,
                                            const WaveformWindowRequest& request);
  // ---- whole-slide images (src/app/slides.cpp) ----
  // Opens the file with OpenSlide and stores it as a new pathology item (modality SM): its
  // allow-listed properties (wsi::SlideProperties) as the item's content, its pyramid re-written
  // as Deep Zoom JPEG tiles (254 px + 1 overlap, quality 90), each encrypted under the item's
  // own data key (each slide is its own pseudonymous patient). Nothing else of the file is kept:
  // not its other properties, not its associated images, not its name, not the file. A file
  // OpenSlide cannot read, or a tile it fails on, is reported as outcome "error" and nothing of it
  // is stored. Audited: slide.ingest_start (when its key is made), then item.create and
  // slide.ingest with the item. The call fails only when the project is missing or the store
  // fails.
  // `progress` (when given) is called after each tile with (tiles done, tiles in all).
  Result<SlideIngestResult> IngestSlideFile(const RequestContext& ctx, const std::string& project_id,
                                            const std::string& path, const std::string& name,
                                            const std::function<void(std::int64_t, std::int64_t)>& progress = {});
  // As IngestSlideFile, from bytes: written to a private temporary file (0600, in the data
  // directory's tmp/) that is removed whatever happens. `name` gives only the extension.
  Result<SlideIngestResult> IngestSlideBytes(const RequestContext& ctx, const std::string& project_id,
                                             std::string_view bytes, const std::string& name);
  // The slide's de-identified description; kNotFound when the item holds no slide.
  Result<SlideInfo> ReadSlideInfo(const RequestContext& ctx, const std::string& item_id);
  // Opens a viewer session of the caller on the slide (wsi.viewer_session_minutes long).
  // Audited as slide.view_open: one event per session, not per tile.
  Result<SlideViewSession> OpenSlideView(const RequestContext& ctx, const std::string& item_id);
  // The slide, when `view_id` is a live viewer session of the caller on this item; else
  // kNotFound (unknown, another user's or item's, or ended: nothing says which, or that it
  // exists).
  Result<SlideInfo> CheckSlideView(const RequestContext& ctx, const std::string& item_id, const std::string& view_id);
  // One Deep Zoom tile (JPEG) inside a live viewer session (CheckSlideView); kNotFound past
  // the last tile. Decrypted tiles are cached (wsi.tile_cache_bytes, least recently used out).
  Result<std::string> ReadSlideTile(const RequestContext& ctx, const std::string& item_id, const std::string& view_id,
                                    int level, std::int64_t col, std::int64_t row);

  // ---- interval and beat labels on waveforms (src/app/waveforms.cpp, docs/waveforms.md) ----
  // Stores the caller's interval and beat labels on a waveforms item as their next version of
  // markup kind "intervals": `document` as core::ParseIntervalMarkup reads it (times inside the
  // record), every class in the project's current published guideline and applying to
  // waveforms (kConflict without a published guideline). Audited as markup.put.
  Result<MarkupVersion> PutIntervals(const RequestContext& ctx, const std::string& item_id, const std::string& document);
  // Agreement between every pair of readers' latest intervals on the item
  // (quality::CompareIntervals with its default IoU threshold and beat tolerance). Authorise
  // with kQualityRead (who may see every reading) before calling; audited as markup.list.
  Result<IntervalAgreementReport> IntervalAgreementOf(const RequestContext& ctx, const std::string& item_id);
  // ---- per-reader markup: regions on slides, intervals on waveforms (src/app/markup.cpp) ----
  // Stores the caller's regions on a pathology item as their next version: `document` is
  // {"annotations": [W3C Web Annotation, ...]} (core::ParseRegions, coordinates inside the
  // slide), every class must be in the project's current published guideline and apply to
  // pathology (kConflict without a published guideline; kInvalidArgument naming the
  // annotation otherwise). Stored encrypted as {"guideline_version_id", "annotations"} with
  // the annotations as given. Audited as markup.put.
  Result<MarkupVersion> PutRegions(const RequestContext& ctx, const std::string& item_id, const std::string& document);
  // The caller's latest markup of `kind` on the item (version 0 and an empty document when
  // they have none). Blinding: only ever the caller's own. Audited as markup.read.
  Result<MarkupVersion> ReadOwnMarkup(const RequestContext& ctx, const std::string& item_id, storage::MarkupKind kind);
  // Every reader's latest markup of `kind` on the item, ascending by author. Authorise with
  // kAdjudicate (who may see every reading) before calling. Audited as markup.list.
  Result<std::vector<MarkupVersion>> ListReadersMarkup(const RequestContext& ctx, const std::string& item_id,
                                                       storage::MarkupKind kind);

  // Pairwise Dice and IoU per class between every reader's latest regions on a slide, and
  // binary STAPLE per class (quality::StapleBinary), on a grid whose longer side is at most
  // 2048 cells (quality::RegionGridFor). Authorise with quality_read before calling. Audited
  // as regions.agreement. kNotFound when the item holds no slide.
  Result<RegionAgreementReport> RegionAgreement(const RequestContext& ctx, const std::string& item_id);

  // ---- annotations ----
  Result<core::Annotation> CreateAnnotation(const RequestContext& ctx, const std::string& item_id,
                                            core::Annotation annotation);
  // Blinding: an annotator sees only their own labels.
  Result<storage::Page<core::Annotation>> ListAnnotations(const RequestContext& ctx,
                                                          const std::string& item_id,
                                                          const storage::PageRequest& page);
  Result<core::Annotation> GetAnnotation(const RequestContext& ctx, const std::string& id);
  // Only the author may edit; `expected_revision` guards against lost updates (412).
  Result<core::Annotation> UpdateAnnotation(const RequestContext& ctx, const std::string& id,
                                            std::int64_t expected_revision, const AnnotationPatch& patch);

  // ---- the labelling workflow (src/app/workflow.cpp) ----
  // Guidelines. Schemas are validated against docs/label-schema.schema.json (400 naming the
  // class and field). One draft per project (409 for a second); published versions are
  // immutable. `expected_revision` guards drafts against lost updates (412).
  Result<core::GuidelineVersion> CreateGuidelineDraft(const RequestContext& ctx, const std::string& project_id,
                                                      const std::string& schema_json);
  Result<storage::Page<core::GuidelineVersion>> ListGuidelines(const RequestContext& ctx,
                                                               const std::string& project_id,
                                                               const storage::PageRequest& page);
  Result<core::GuidelineVersion> GetGuideline(const RequestContext& ctx, const std::string& project_id,
                                              const std::string& id);
  Result<GuidelineEdit> EditGuideline(const RequestContext& ctx, const std::string& project_id, const std::string& id,
                                      std::int64_t expected_revision, const std::string& schema_json);
  // Numbers the draft (highest published + 1) and freezes it; 409 when already published.
  Result<core::GuidelineVersion> PublishGuideline(const RequestContext& ctx, const std::string& project_id,
                                                  const std::string& id, std::int64_t expected_revision);
  Result<GuidelineDiff> DiffGuidelines(const RequestContext& ctx, const std::string& project_id,
                                       const std::string& from_id, const std::string& to_id);
  // The impact report of version `to_id` against `from_id` (default: the version `to_id` is
  // based on): the labels made under `from_id` of classes removed or changed since. Audited as
  // guideline.impact. kInvalidArgument when there is no base to compare with.
  Result<GuidelineImpact> GuidelineImpactOf(const RequestContext& ctx, const std::string& project_id,
                                            const std::string& to_id, std::string from_id);

  // Re-annotation after a guideline change: every reading with a label in the impact report of
  // `to_id` (from `from_id`, as GuidelineImpactOf) goes back to its reader — the task becomes
  // claimed by them again with no lease — so they label it again under `to_id`, which must be
  // the version in force (409 otherwise). A correction or adjudicated label sends back the
  // reading it was made on. Readings still in progress, and labels made outside a task, are
  // reported as skipped. One transaction; each reopened task is audited as task.reannotate
  // naming the version and its labels.
  Result<ReannotationReport> ReannotateImpacted(const RequestContext& ctx, const std::string& project_id,
                                                const std::string& to_id, const std::string& from_id);

  // Workflow settings (defaults until first put: 1 reader, no qualification, every data
  // type, 30 minute leases).
  Result<core::WorkflowSettings> GetWorkflowSettings(const RequestContext& ctx, const std::string& project_id);
  Result<core::WorkflowSettings> PutWorkflowSettings(const RequestContext& ctx, core::WorkflowSettings settings);

  // Guideline feedback: a reviewer or adjudicator of the item's project notes that the current
  // published guideline did not fit this item for `label_class` (which it must define; 409
  // without a published guideline). The note is optional, UTF-8, at most 4000 bytes. Audited
  // as guideline.feedback.
  Result<core::GuidelineFeedback> AddGuidelineFeedback(const RequestContext& ctx, const std::string& item_id,
                                                       const std::string& label_class, core::FeedbackKind kind,
                                                       const std::string& note);
  // The project's feedback counted by class (and kind), for the version `guideline_version_id`
  // ("" = every version), with the entries themselves. Audited as guideline.feedback_read.
  Result<GuidelineFeedbackReport> GuidelineFeedbackOf(const RequestContext& ctx, const std::string& project_id,
                                                      const std::string& guideline_version_id);

  // Marks an item as gold (or replaces its answer): `answer` names the classes a correct
  // reading names, each in the current guideline (400 naming it; 409 without a published
  // guideline). Readers are never told (task and item views are unchanged). Audited as item.gold.
  Result<core::GoldItem> SetGoldItem(const RequestContext& ctx, const std::string& item_id,
                                     std::vector<std::string> answer);

  // Tasks. CreateTasks tops every named item (none named = every item of the project within
  // the settings' data types) up to k open tasks; returns the new tasks.
  Result<std::vector<core::Task>> CreateTasks(const RequestContext& ctx, const std::string& project_id,
                                              const std::vector<std::string>& item_ids);
  // Annotators see only their own tasks (blinding); others see all.
  Result<storage::Page<core::Task>> ListTasks(const RequestContext& ctx, const std::string& project_id,
                                              std::optional<core::TaskState> state, const storage::PageRequest& page);
  Result<core::Task> GetTask(const RequestContext& ctx, const std::string& project_id, const std::string& task_id);
  // The reviews of a reading, oldest first: how its reader learns why it came back. Blinding
  // as GetTask (an annotator: only their own tasks, else 404). Audited as "review.list".
  Result<std::vector<core::Review>> ListTaskReviews(const RequestContext& ctx, const std::string& project_id,
                                                    const std::string& task_id);
  // Claims atomically: the caller's rejected tasks first (back to their reader), then the
  // oldest open (or lease-expired) task on an item within the caller's scopes that the caller
  // holds no task of. nullopt when there is none. 403 without the required qualification.
  Result<std::optional<core::Task>> ClaimNextTask(const RequestContext& ctx, const std::string& project_id);
  // Hands a pool claim back (409 for a task a manager assigned, which has no lease).
  Result<core::Task> ReleaseTask(const RequestContext& ctx, const std::string& project_id, const std::string& task_id);
  // Needs at least one label of the reader on the task; 409 once the lease has expired.
  Result<core::Task> SubmitTask(const RequestContext& ctx, const std::string& project_id, const std::string& task_id);
  // SubmitTask made safe to retry (Idempotency-Key): the first successful answer of the caller
  // for `key` (the body `render` makes of the submitted task) is kept in the submit's
  // transaction and given again, with no second effect, when the caller repeats the key.
  // kConflict when the caller used the key for another task; kInvalidArgument for an empty key
  // or one over 200 characters.
  struct SubmitReply {
    std::string body;
    bool replayed = false;
  };
  Result<SubmitReply> SubmitTaskOnce(const RequestContext& ctx, const std::string& project_id,
                                     const std::string& task_id, const std::string& key,
                                     const std::function<std::string(const core::Task&)>& render);
  // Review of a submitted reading by someone other than its reader; 409 for a transition the
  // state machine refuses.
  Result<ReviewOutcome> ReviewTask(const RequestContext& ctx, const std::string& project_id,
                                   const std::string& task_id, const ReviewRequest& request);
  // Decides an item with escalated readings (409 when there is none); the caller must hold the
  // class's resolver role when the class names one.
  Result<AdjudicationOutcome> Adjudicate(const RequestContext& ctx, const std::string& item_id,
                                         const AdjudicationRequest& request);
  // Every reading of the item side by side, with reader identities, the disagreement and the
  // fused suggestion per class and the automatic triggers (adjudicators only); audited as
  // "readings.read".
  Result<ItemReadings> ListReadings(const RequestContext& ctx, const std::string& item_id);
  // Every version of an annotation, oldest first: its own revisions, then the corrections and
  // adjudicated labels made from it. Blinding as GetAnnotation (an annotator: only their own
  // labels, else 404). Audited as "annotation.history".
  Result<std::vector<AnnotationHistoryEntry>> GetAnnotationHistory(const RequestContext& ctx,
                                                                   const std::string& annotation_id);

  // ---- quality (quality.cpp) ----
  // Indicators, reviewer analytics and QA findings of the whole project (the sweep); audited
  // as "quality.read". `bucket_seconds` sets the width of the time series (default a week).
  Result<ProjectQuality> GetProjectQuality(const RequestContext& ctx, const std::string& project_id,
                                           std::int64_t bucket_seconds = 7 * 24 * 3600);
  // The QA findings of one item (what a submit runs), audited as "quality.item_read".
  Result<std::vector<quality::QaFinding>> GetItemQaFindings(const RequestContext& ctx, const std::string& item_id);
  // The quality sweep (docs/quality.md, "Stored soft labels and QA findings"): fits
  // Dawid–Skene per class over every reading of the project and stores each item's soft label,
  // runs every QA rule over the project and stores the findings (replacing the last sweep's and
  // the submits'), in one transaction, audited as quality.sweep. `caliper serve` runs it for
  // every project each quality.sweep_seconds; a submit stores its item's findings itself.
  Result<QualitySweep> SweepQuality(const RequestContext& ctx, const std::string& project_id);
  // What the last sweep and submits stored; `item_id` "" = the whole project. Audited as
  // quality.stored_read. Authorise with kQualityRead first.
  Result<StoredQuality> GetStoredQuality(const RequestContext& ctx, const std::string& project_id,
                                         const std::string& item_id);
  // AI pre-labels. AddPrelabels stores model suggestions for items of the project, pinned to
  // the current published guideline (409 without one); each row is checked (item of the
  // project, class in the guideline and applicable to the item, model fields, score(s) in
  // [0, 1]) and refused rows are reported and skipped. One audit event for the batch.
  Result<PrelabelUpload> AddPrelabels(const RequestContext& ctx, const std::string& project_id,
                                      std::vector<core::Prelabel> rows);
  // The item's pre-labels as the caller may see them. Readers in the hidden share
  // (WorkflowSettings::prelabel_hidden_share) get none, as if there were none.
  Result<std::vector<PrelabelView>> ListPrelabels(const RequestContext& ctx, const std::string& item_id);
  // A reader's decision: accepted (their label becomes a copy of the suggestion), corrected
  // (their label is `correction`), rejected (no label). The label is the reader's own
  // (provisional, in their task, reviewed like any other): a pre-label never becomes a label
  // without a human. 409 when the reader decided on it before or their task is not claimed.
  Result<PrelabelDecisionOutcome> DecidePrelabel(const RequestContext& ctx, const std::string& item_id,
                                                 const std::string& prelabel_id,
                                                 const PrelabelDecisionRequest& request);
  Result<std::vector<ModelVersionStats>> PrelabelStats(const RequestContext& ctx, const std::string& project_id);
  // The model back-end protocol: for each item, issues an item-scoped expiring token, POSTs
  // {task, item reference, schema} to the back-end and stores the predictions it returns
  // (through AddPrelabels). Items the back-end fails on are reported and skipped.
  Result<ModelRunReport> RunModelBackend(const RequestContext& ctx, const std::string& project_id,
                                         const ModelRunRequest& request, ModelBackendTransport& transport);

  // The ConText pre-labeller (prelabel/context.h, docs/context.md) over the project's notes
  // (`item_ids`, or every note item when none): concepts are the term lists of the classes
  // of the published guideline (409 without one; 400 when no class has terms), each mention
  // becomes a pre-label of model "context" at the rules' version, with span evidence
  // {start, end} in code points, the ConText assertion, and temporality and experiencer as
  // attributes (carried into the reader's label when accepted). Each note read is audited;
  // a mention already stored by the same version is not stored twice.
  Result<ContextRunReport> RunContextPrelabels(const RequestContext& ctx, const std::string& project_id,
                                               const std::vector<std::string>& item_ids);

  // ---- delayed ground truth (outcomes.cpp) ----
  // Stores outcome events of the project. Each row is checked (exactly one of item of the
  // project or patient key; the class is in the current guideline and has a confirmation rule
  // naming the evidence type; a time) and refused rows are reported and skipped; kInvalidArgument
  // when none can be stored. One audit event (outcome.record) for the batch.
  Result<OutcomeUpload> AddOutcomes(const RequestContext& ctx, const std::string& project_id,
                                    std::vector<core::Outcome> rows);
  // The status of every label of a class with a confirmation rule, decided now from the
  // outcomes (lazily: nothing is stored; call it whenever the status is needed). Audited as
  // truth.read.
  Result<std::vector<LabelTruth>> EvaluateTruth(const RequestContext& ctx, const std::string& project_id);
  // The status now of each of `labels` (all of one project) whose class has a confirmation rule
  // in the project's current guideline, by annotation id; other labels are not in the map.
  // Decided as EvaluateTruth; not audited (it adds to labels the caller has read).
  Result<std::map<std::string, TruthState>> TruthOfLabels(const std::vector<core::Annotation>& labels);
  // Readers and pre-label model versions re-scored against confirmed truth; audited as
  // outcome.scores.
  Result<TruthScores> ScoreAgainstTruth(const RequestContext& ctx, const std::string& project_id);

  // ---- dataset exports (export.cpp, docs/export.md) ----
  // A request to export the project's dataset; `spec_json` holds splits and report settings
  // ({"splits":{"train","validation","test","seed","stratify_by"},"subgroups":{"min_share",
  // "agreement_margin"}}, all optional). Audited as export.request.
  Result<storage::DatasetExport> RequestExport(const RequestContext& ctx, const std::string& project_id,
                                               const std::string& reason, const std::string& spec_json);
  Result<storage::Page<storage::DatasetExport>> ListExports(const RequestContext& ctx, const std::string& project_id,
                                                            const storage::PageRequest& page);
  Result<storage::DatasetExport> GetExport(const RequestContext& ctx, const std::string& project_id,
                                           const std::string& export_id);
  // Approve (then build the snapshot at once) or deny. Two-person rule: the requester never
  // decides their own request (403). 409 unless the export is still requested.
  Result<storage::DatasetExport> DecideExport(const RequestContext& ctx, const std::string& project_id,
                                              const std::string& export_id, bool approve, const std::string& note);
  // Builds a failed export again (after what failed it was put right: a missing blob restored,
  // a bad label corrected), from a new consistent read of the project; the approval stands.
  // Also an export whose build was cut off: still `approved` more than export.build_lease_minutes
  // after its build started or last renewed its lease (a running build renews it every fifth of
  // that; a process that stopped mid-build does not). Should that build in fact still be
  // running, only one of the two stores its result (the export's revision decides).
  // Two-person rule as DecideExport (403 for the requester, audited as denied); 409 otherwise.
  // Audited as export.rebuild with the previous status and error, then export.build.
  Result<storage::DatasetExport> RebuildExport(const RequestContext& ctx, const std::string& project_id,
                                               const std::string& export_id);
  // A one-time download token for a built export, valid `minutes` (<= export.token_minutes).
  struct IssuedExportToken {
    std::string token;  // shown once
    TimeMicros expires_at = 0;
  };
  Result<IssuedExportToken> IssueExportToken(const RequestContext& ctx, const std::string& project_id,
                                             const std::string& export_id, int minutes);
  // Spends a download token (404 unknown or expired, 409 used) and returns the snapshot tar.
  Result<std::string> DownloadExport(const std::string& token, const std::string& source_address);
  // One documentation file of a built snapshot (manifest.json, subgroup_report.json or
  // subgroup_report.html) for viewing in the app; audited as export.read.
  Result<std::string> ReadExportFile(const RequestContext& ctx, const std::string& project_id,
                                     const std::string& export_id, const std::string& name);
  // Writes the built snapshot, unpacked, to a new directory under one of export.allowed_dirs.
  Status WriteExportToPath(const RequestContext& ctx, const std::string& project_id, const std::string& export_id,
                           const std::string& path);

  // ---- audit and keys ----
  Result<security::AuditVerifyReport> VerifyAudit(const RequestContext& ctx);
  Status ExportAudit(const RequestContext& ctx, TimeMicros from, TimeMicros to,
                     const std::function<Status(const storage::AuditEvent&)>& sink);
  // Re-wraps every data key under new project keys; with `new_master`, also replaces the
  // master key file. No blob is re-encrypted.
  Result<security::KeyManager::RotationReport> RotateKeys(const RequestContext& ctx, bool new_master);

  // Deletes the blob files no row names any more (a volume rebuilt when its series grew, the
  // pixels of a refused decision, writes a crash or a failure left behind) and leftover
  // temporary files, when written more than `min_age` ago; audited as blobs.sweep with the
  // counts. docs/security.md, "Unreferenced blobs".
  struct BlobSweepOptions {
    std::chrono::hours min_age{24};  // at least 1 h: longer than any write before its commit
    bool dry_run = false;            // count only
  };
  struct BlobSweepReport {
    std::int64_t blobs = 0;          // blob files found
    std::int64_t referenced = 0;     // of them, named by a row: kept
    std::int64_t young = 0;          // unreferenced but written within min_age: kept
    std::int64_t removed = 0;        // unreferenced and older: deleted (dry run: would be)
    std::int64_t removed_bytes = 0;  // their file sizes
    std::int64_t temporary_removed = 0;  // leftover temporary files deleted (dry run: would be)
    bool dry_run = false;
  };
  Result<BlobSweepReport> SweepBlobs(const RequestContext& ctx, const BlobSweepOptions& options);

  // Appends one audit event in its own transaction (for events with no other change, such
  // as a denied request).
  Status Audit(const security::AuditRecord& record);

 private:
  App(DataPaths paths, Config config, const Clock& clock, IdGenerator& ids,
      std::unique_ptr<storage::Store> store, std::unique_ptr<security::KeyProvider> owned_keys,
      const security::KeyProvider& keys, security::AuditKeys audit_keys, security::AuthSettings auth,
      std::chrono::milliseconds export_lease_renewal);

  security::AuditRecord Record(const RequestContext& ctx, std::string action, std::string object_type,
                               std::string object_id, std::string details_json = "{}") const;
  // Appends `record` (or every one of `records`) to `txn`, commits, and flushes audit
  // checkpoints.
  Status CommitWithAudit(storage::Transaction& txn, const security::AuditRecord& record);
  Status CommitWithAudit(storage::Transaction& txn, const std::vector<security::AuditRecord>& records);
  // A new project row and its key in `txn` (name and description checked); no audit event.
  Result<core::Project> InsertNewProject(storage::Transaction& txn, const RequestContext& ctx,
                                         const std::string& name, const std::string& description);
  // The audit events of a workflow-settings change and of a text-settings change.
  security::AuditRecord WorkflowUpdateRecord(const RequestContext& ctx, const core::WorkflowSettings& settings) const;
  security::AuditRecord TextSettingsRecord(const RequestContext& ctx, const core::TextSettings& settings) const;
  security::AuditRecord DicomSettingsRecord(const RequestContext& ctx, const core::DicomSettings& settings) const;
  // The volume of a series item, built from `instances` and stored in `txn` (src/app/imaging.cpp).
  Status StoreSeriesVolume(storage::Transaction& txn, const core::Item& item,
                           const std::vector<std::span<const std::uint8_t>>& instances, DicomSeriesResult& sr);
  // Workflow helpers (workflow.cpp).
  // Applies `event` to `task` through core::TaskTransition (409 when refused) and returns
  // the audit record of the step.
  // The decrypted tar of a built export, after committing the audit event `action`.
  Result<std::string> BuiltSnapshot(const RequestContext& ctx, const std::string& project_id,
                                    const std::string& export_id, const std::string& action, const std::string& detail);
  Result<security::AuditRecord> StepTask(const RequestContext& ctx, core::Task& task, core::TaskEvent event,
                                         const std::string& details_json = "{}") const;
  // Pins `a` to the project's current published guideline: 409 when none is published or `a`
  // names another version; 400 when its class is not in it or does not apply to the item.
  // `mask_owner`: whose masks mask evidence may name (empty: the label's author; an adjudicator
  // choosing a reading's label names that reader's mask).
  Result<core::LabelClass> PinToGuideline(storage::Transaction& txn, core::Annotation& a, const core::Item& item,
                                          const std::string& mask_owner = {});
  // Links a reader's label to their task on the item and extends its lease (activity); 409
  // when that task is not claimed or its lease has expired.
  Status TouchReaderTask(storage::Transaction& txn, const RequestContext& ctx, const core::Item& item,
                         core::Annotation& a);
  // The checks a label of a text item must pass against the guideline's schema (notes.cpp,
  // docs/spans.md): context values the class allows; a span class needs span evidence; span
  // offsets ({"start", "end"}, or "spans" of a document label) are code points inside the
  // stored note; relations are schema relation types to another label of the same author on
  // the same item whose class the type allows. kInvalidArgument naming the field otherwise.
  Status CheckTextLabel(storage::Transaction& txn, const core::Annotation& a, const core::Item& item,
                        const core::LabelSchema& schema, const core::LabelClass& cls);
  // Inserts `item` with its content encrypted under the (project, patient) data key, without
  // committing (CreateItem and IngestNotes commit it with their audit events).
  Status InsertItemWithContent(storage::Transaction& txn, core::Item& item, std::istream& content);
  // Encrypts `content` under the data key of (project, patient) into the blob store (the
  // caller records the address in its transaction).
  Result<security::BlobStore::PutResult> PutBlob(storage::Transaction& txn, const std::string& project_id,
                                                 const std::string& patient_key, std::istream& content);
  // Markup helpers (markup.cpp). StoreMarkup stores `document` (already checked for its kind)
  // as the caller's next version of `kind` on `item` and commits `txn` with the markup.put
  // audit event (the JSON object `details_json` gains kind, markup_id and version).
  Result<MarkupVersion> StoreMarkup(storage::Transaction& txn, const RequestContext& ctx, const core::Item& item,
                                    storage::MarkupKind kind, const std::string& document, const std::string& details_json);
  // Every reader's latest markup of `kind` on the item, decrypted; not audited.
  Result<std::vector<MarkupVersion>> LatestMarkupOfAll(storage::Transaction& txn, const std::string& item_id,
                                                       storage::MarkupKind kind);
  // A slide item's size and every reader's latest regions (readers not yet pseudonymised),
  // into `item` for a snapshot; not audited (the export build is).
  Status AddSlideRegions(storage::Transaction& txn, exports::SnapshotItem& item);
  // An imaging item's masks for a snapshot (imaging.cpp): each reading's (the highest version
  // its labels with mask evidence name; readers not yet pseudonymised) and the final one (the
  // version the final labels name, a mask of `final_author`), decrypted, and when there is any,
  // the item's volume (NIfTI geometry; for a DICOM series, the series rebuilt from its stored
  // instances and one instance). Not audited (the export build is).
  Status AddItemMasks(storage::Transaction& txn, exports::SnapshotItem& item, const std::string& final_author);
  // Export `export_id` of `project_id` read in `txn` for a decision by ctx's user (`action`:
  // export.approve, export.deny, export.rebuild): 404 when it is not there; 403 for its requester
  // (the two-person rule: "cannot `verb` it"), the refusal audited as denied and committed.
  Result<storage::DatasetExport> ExportToDecide(storage::Transaction& txn, const RequestContext& ctx,
                                                const std::string& project_id, const std::string& export_id,
                                                const std::string& action, const std::string& verb);
  // Builds the snapshot of approved export `e` (export.cpp) from one consistent read of its
  // project, under the export's data key; stores it built, or failed with the error. Audited as
  // export.build. While it runs it renews the build's lease (export.build_lease, audited).
  Result<storage::DatasetExport> BuildExport(const RequestContext& ctx, storage::DatasetExport e,
                                             security::KeyManager::DataKeyRef key_ref);
  // Stores `map` (checked by the caller) as the caller's next mask version on `item`, without
  // committing; appends the mask.put audit event (`details_json`, an object, gains mask_id,
  // version and labels) to `records`.
  Result<MaskVersion> InsertMaskVersion(storage::Transaction& txn, const RequestContext& ctx, const core::Item& item,
                                        const dicom::LabelMap& map, const std::string& details_json,
                                        std::vector<security::AuditRecord>& records);
  // A DICOM series item's series rebuilt from its stored instances for its geometry and
  // sources (voxel values dropped), and its first instance. kNotFound when the item holds no
  // DICOM instances; the BuildVolume error when the series does not build.
  struct StoredSeries {
    dicom::Volume volume;
    std::string first_instance;
  };
  Result<StoredSeries> LoadStoredSeries(storage::Transaction& txn, const std::string& item_id);
  // An accepted pre-label's voxels into the reader's mask (imaging.cpp): when `label` (the
  // reader's copy of `prelabel`, pinned to the guideline in force) has voxels evidence of a
  // segmentation class on an imaging item with a volume, those voxels become exactly the class's voxels in the reader's
  // next mask version (their latest, else an empty map; its segment AUTOMATIC, the model as
  // algorithm name) and the label's evidence becomes that mask version. Otherwise nothing.
  // kInvalidArgument when the voxels are not on the volume's grid; kConflict when they cover
  // voxels of another class in the reader's mask.
  Status PrelabelIntoMask(storage::Transaction& txn, const RequestContext& ctx, const core::Item& item,
                          const core::Prelabel& prelabel, core::Annotation& label,
                          std::vector<security::AuditRecord>& records);
  // The stored masks that `reading`'s mask evidence names, for the classes of `schema` with a
  // dice_below trigger, into reading.masks (imaging.cpp).
  Status LoadNamedMasks(storage::Transaction& txn, const core::LabelSchema& schema, const std::string& item_id,
                        ReadingLabels& reading);
  // The slide of a pathology item (its content, decrypted and parsed); not audited.
  // kNotFound when the item holds no slide.
  Result<SlideInfo> SlideOf(const core::Item& item);
  // Decrypts blob `address` (its data key named in its header).
  Result<std::string> GetBlob(storage::Transaction& txn, const std::string& address);
  // The item's volume: its NIfTI content decoded (cached for a few items). Not audited: the
  // caller audits what it returns. kNotFound when the item has no volume. Shared: the cache
  // may evict a volume while a request still renders from it.
  Result<std::shared_ptr<const dicom::Volume>> LoadVolume(const core::Item& item);
  // A de-identified DICOM instance on its way into its series' item (imaging.cpp).
  struct SeriesInstance {
    std::string bytes;  // the de-identified Part 10 file
    std::string sop_instance_uid, study_uid;  // pseudonymous
    std::string patient_key;  // pseudonymous (PatientKeyFor of internal::DicomPatientSource)
    std::string modality;     // the item's, should this instance make it
    std::string cohort_json;  // likewise
    std::string link_json;    // the series' re-identification link, likewise (stored encrypted)
    // What de-identification did (IngestDicom), audited with the instance; absent for a
    // quarantined instance released later (its decision is audited instead).
    std::optional<dicom::DeidActions> actions;
    // What StoreInSeries did with it.
    enum class Fate { kStored, kDuplicate, kOtherPatient, kInconsistent } fate = Fate::kStored;
    std::string duplicate_of;  // kDuplicate: the item that holds the instance already
    Status refusal;            // kInconsistent: why it cannot join the series' volume
  };
  // Stores `instances` (of one series) in `txn` without committing, setting every instance's
  // fate: one stored already is kDuplicate, one of another patient than the item's
  // kOtherPatient, one that cannot join the series' volume kInconsistent (different size,
  // orientation, Frame of Reference, Pixel Spacing, colour, geometry, or off the series' line:
  // dicom::SeriesGeometry against the instances stored and the batch's; nothing of it is
  // written); the rest are inserted. Finds the series' item or makes it (with its
  // re-identification link) from the first instance stored, rebuilds the volume from every
  // instance of the series (unless `build_volume` is false: then "deferred"; a series that does
  // not build yet — a gap, irregular spacing — gets a warning), and appends the audit records
  // (item.create, imaging.series_ingest with the `actions` of each instance stored that has
  // them). `sr` says what happened (added = 0: nothing was
  // written).
  Status StoreInSeries(storage::Transaction& txn, const RequestContext& ctx, const std::string& project_id,
                       const std::string& series_uid, std::vector<SeriesInstance>& instances,
                       DicomSeriesResult& sr, std::vector<security::AuditRecord>& records, bool build_volume = true);
  // Marks kInconsistent (refusal kConflict) each of `candidates` (new instances of `series_uid`,
  // in arrival order) that cannot join the series' volume: dicom::SeriesGeometry against the
  // instances item `item_id` holds ("" for a new series; read until the series' line is known)
  // and the candidates accepted before it; one without Pixel Data in a series of images. Pixel
  // Data that does not decode is refused in any series (alone: the decode error's own code). A
  // new series starts from a candidate of the most common geometry (dicom::SeriesGeometryKey),
  // so one odd file is the one refused whatever the order of the files.
  Status RefuseInconsistent(storage::Transaction& txn, const std::string& item_id, const std::string& series_uid,
                            const std::vector<SeriesInstance*>& candidates);
  // Keeps a quarantined instance (encrypted, with its link) in its own transaction with its
  // audit event, and fills `f` (quarantined with the entry's id; a duplicate when an item holds
  // it; the pending entry's id when one exists already).
  Status QuarantineInstance(const RequestContext& ctx, const std::string& project_id, const std::string& series_uid,
                            SeriesInstance instance, DicomFileResult& f);
  // The project's entry `quarantine_id` in `txn` (kNotFound when absent or another project's).
  Result<storage::QuarantinedInstance> QuarantinedIn(storage::Transaction& txn, const std::string& project_id,
                                                     const std::string& quarantine_id);
  // The item's content, decrypted; not audited (callers audit the read they make of it).
  Result<std::string> DecryptContent(const core::Item& item);
  // The item and its stored waveform, decoded (waveforms.cpp); not audited. kNotFound unless a
  // waveforms item with a stored waveform.
  Result<std::pair<core::Item, waveform::Waveform>> LoadWaveform(const std::string& item_id);
  // The pseudonymous patient key of a source patient identifier under the project's secret.
  static std::string PatientKeyFor(const std::string& secret, const std::string& patient);
  // The project's de-identification secret (a data key owned by the project, created on
  // first use), for surrogates and pseudonymous patient keys.
  Result<std::string> TextSecret(storage::Transaction& txn, const std::string& project_id);
  // The start of an ingest: the project's secret (kNotFound without the project), whose
  // creation on first use commits with the ingest's audit event `action` on the project.
  Result<std::string> BeginIngest(const RequestContext& ctx, const std::string& project_id, std::string action,
                                  std::string details_json);
  Result<core::WorkflowSettings> SettingsOf(storage::Transaction& txn, const std::string& project_id);
  // The submit itself, inside `txn` (SubmitTask and SubmitTaskOnce commit it with `records`).
  Result<core::Task> SubmitIn(storage::Transaction& txn, const RequestContext& ctx, const std::string& project_id,
                              const std::string& task_id, std::vector<security::AuditRecord>& records);
  // After a submit (docs/workflow.md): adds open tasks when a class the readings name needs
  // more readers than the item has (LabelClass::readers); when the item has all the readings
  // it needs, compares them (Disagreement) under the current guideline's thresholds and
  // escalates the item's submitted and in-review tasks when a trigger fires, recording the
  // triggers; else accepts the submitted readings outside the review sample (kWaiveReview).
  // `submitted` is updated when its state changes. Appends the audit records of the steps.
  Status SettleReadings(storage::Transaction& txn, const RequestContext& ctx, core::Task& submitted,
                        std::vector<security::AuditRecord>& records);
  // After a reading's first submit: on a repeat_rate share of readings (a stable draw of the
  // task), a repeat task for its reader with the settings' wash-out (docs/workflow.md, "Repeat
  // reads"). Appends its task.create record.
  Status ScheduleRepeat(storage::Transaction& txn, const RequestContext& ctx, const core::Task& reading,
                        std::vector<security::AuditRecord>& records);
  // After a submit: the item's QA findings, stored in place of its last ones (source
  // "submit"); appends a qa.run record.
  Status RecordItemQa(storage::Transaction& txn, const RequestContext& ctx, const std::string& item_id,
                      std::vector<security::AuditRecord>& records);
  std::vector<storage::QaFindingRow> QaRows(const std::string& project_id,
                                            const std::vector<quality::QaFinding>& findings,
                                            const std::string& source);
  // The first repeat of the reader whose wash-out has passed (open, or claimed with a lapsed
  // lease) on an item in the member's scopes; none when there is none.
  Result<std::optional<core::Task>> DueRepeat(storage::Transaction& txn, const std::string& project_id,
                                              const std::string& user_id, const core::Membership& member);
  Result<core::Membership> MembershipOf(storage::Transaction& txn, const std::string& project_id,
                                        const std::string& user_id);
  // Blinding: true when the principal reaches `permission` in the project only as an
  // annotator (no other role of theirs grants it), so they see only their own work. Fails
  // closed: true without a membership.
  bool IsBlinded(storage::Transaction& txn, const RequestContext& ctx, const std::string& project_id,
                 security::Permission permission);

  DataPaths paths_;
  Config config_;
  const Clock& clock_;
  IdGenerator& ids_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<security::KeyProvider> owned_keys_;
  const security::KeyProvider& keys_;
  security::KeyManager key_manager_;
  std::unique_ptr<security::BlobStore> blobs_;
  security::AuditLog audit_;
  security::Bytes audit_public_key_;
  security::Authenticator auth_;
  // Decoded volumes of the items read last, by item id and content blob (imaging.cpp).
  std::unique_ptr<LruCache<dicom::Volume>> volume_cache_;
  // Decrypted slide tiles, by item, level and tile (slides.cpp).
  std::unique_ptr<LruCache<std::string>> tile_cache_;
  std::int64_t slide_view_minutes_ = 60;
  std::chrono::milliseconds export_lease_renewal_;  // see Options
};

}  // namespace caliper::app

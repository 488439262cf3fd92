#pragma once

// Caliper's domain types: plain values, no I/O. Free-form structured parts (cohort metadata,
// evidence geometry, attributes) travel as canonical JSON text so that no third-party type
// appears in this header; the layers that read them (http, export) parse them.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "caliper/common/clock.h"

namespace caliper::core {

// ---- people and access --------------------------------------------------------------------

enum class Role {  // per project; kAdmin is global and held on the user, never a membership
  kAdmin,
  kManager,
  kAnnotator,
  kReviewer,
  kAdjudicator,
  kAuditor,
  kDataSteward,  // the only role that may ever see re-identification links
};

enum class Qualification { kRadiologist, kPathologist, kClinician, kGeneralAnnotator };

enum class DataType { kImaging, kPathology, kNotes, kLabs, kWaveforms };

struct User {
  std::string id;
  std::string username;
  std::string display_name;
  std::string password_hash;  // Argon2id encoded string; never leaves security/storage
  bool is_admin = false;
  bool disabled = false;
  bool must_change_password = false;
  std::optional<TimeMicros> locked_until;  // set by lock-out after repeated failed sign-ins
  std::vector<Qualification> qualifications;
  TimeMicros created_at = 0;
};

struct Project {
  std::string id;
  std::string name;
  std::string description;
  TimeMicros created_at = 0;
  std::string created_by;
};

struct Membership {
  std::string project_id;
  std::string user_id;
  std::vector<Role> roles;
  std::vector<DataType> scopes;  // data types this member may reach; empty = none
  TimeMicros created_at = 0;
};

// ---- data ---------------------------------------------------------------------------------

struct Item {
  std::string id;
  std::string project_id;
  DataType data_type = DataType::kImaging;
  std::string modality;       // "CT", "MR", "SM", "ECG", "NOTE", ...
  std::string patient_key;    // pseudonymous; never a real identifier
  std::string cohort_json;    // {"age_band":..,"sex":..,"site":..,...}; "{}" when none
  std::string content_blob;   // blob address of the de-identified content; "" when none
  std::string content_type;   // media type of that content
  std::int64_t content_bytes = 0;
  TimeMicros created_at = 0;
  std::string created_by;
};

// How a project de-identifies clinical text before it is stored (docs/notes.md).
struct TextSettings {
  std::string project_id;
  std::string deid_mode = "surrogate";       // "surrogate" | "tag"
  std::vector<std::string> clinician_names;  // always treated as names, in any letter case
  TimeMicros updated_at = 0;
};

// How a project de-identifies DICOM before it is stored (docs/deid-dicom.md), in the words of
// `caliper deid dicom` (parsed by dicom::DeidOptionsFromSpecs when used). Applies to uploads
// from the moment it is set; stored instances keep the form they were stored in.
struct DicomSettings {
  std::string project_id;
  std::vector<std::string> options;       // canonical option names: "retain-dates", ...
  std::vector<std::string> safe_private;  // "CREATOR:GGGG:EE" (Retain Safe Private)
  std::vector<std::string> blanking;      // "MODALITY[/MANUFACTURER[/MODEL]]:X,Y,W,H"
  TimeMicros updated_at = 0;
};

// A calling AE title allowed to send to the C-STORE receiver for a project (docs/imaging.md,
// "C-STORE receiver"). One title belongs to one project only.
struct DicomSource {
  std::string ae_title;     // 1-16 characters of the default repertoire, trimmed
  std::string description;  // what sends under it, e.g. "CT scanner, room 3"; may be empty
};

// A stored clinical note. The item's content is the de-identified text (text/plain, UTF-8);
// this row records how it was made and where the replacements stand in it.
struct Note {
  std::string item_id;
  std::string project_id;
  // Keyed hash (the project's de-identification secret) of the source's note id, or of
  // patient and text when the source gave no id: re-ingesting finds duplicates without the
  // source id being kept.
  std::string source_hash;
  std::string deid_mode;     // "surrogate" | "tag"
  std::string deid_edition;  // short hash of the de-identifier's dictionary edition
  std::int64_t chars = 0;    // code points of the stored text
  // [{"start", "end", "type"}]: every tag or surrogate, as Unicode code-point offsets into
  // the stored (de-identified) text.
  std::string phi_json = "[]";
  TimeMicros created_at = 0;
};

// ---- guidelines and labels ------------------------------------------------------------------

enum class GuidelineStatus { kDraft, kPublished };

// A version of a project's guideline: its label schema (docs/label-schema.schema.json). A
// draft is editable and unnumbered (version 0); publishing numbers it 1, 2, ... and freezes it.
struct GuidelineVersion {
  std::string id;
  std::string project_id;
  int version = 0;  // 0 while a draft
  GuidelineStatus status = GuidelineStatus::kDraft;
  std::string schema_json;  // label classes with their definitions (see docs)
  std::string based_on;     // the version this draft was made from; "" for the first
  std::int64_t revision = 1;  // bumps on every edit of a draft; the ETag
  TimeMicros created_at = 0;
  std::string created_by;
  std::optional<TimeMicros> published_at;
};

// Which claimable task a reader gets next: the oldest (fifo), a random one, or the one on the
// item the models are least sure of (active learning: the lowest top pre-label score first,
// items without scored pre-labels last).
enum class TaskOrder { kFifo, kRandom, kLeastSure };

// How a project hands out work (docs/workflow.md).
struct WorkflowSettings {
  std::string project_id;
  int readers_per_item = 1;  // k: independent readings per item
  std::optional<Qualification> required_qualification;  // readers must hold it
  std::vector<DataType> data_types;  // item types that get tasks; empty = every type
  int lease_minutes = 30;  // a claimed task returns to the pool after this long without activity
  TimeMicros updated_at = 0;
  TaskOrder task_order = TaskOrder::kFifo;
  // Share (0..1) of readers who never see pre-labels, to measure anchoring; each reader's arm
  // is fixed by a hash of (project, reader) (PrelabelHiddenFor in core/rules.h).
  double prelabel_hidden_share = 0;
  // Share (0..1) of claims that serve a gold item first when one is claimable (else any task;
  // with 0, gold items come after the other tasks).
  double gold_rate = 0;
  // Share (0..1) of complete, agreeing readings that go to review; the others are accepted
  // without one. Classes may raise it (LabelClass::review_rate; specialist classes: 1).
  double review_rate = 1;
  // Repeat reads: the share (0..1) of readings their reader reads again, once the wash-out
  // has passed: `washout_days` days and `washout_readings` readings of theirs since (either
  // may be 0, not both when repeat_rate > 0).
  double repeat_rate = 0;
  int washout_days = 0;
  int washout_readings = 0;
};

// An outcome event (docs/workflow.md, "Ground truth that arrives later"): evidence that
// arrived after labelling and confirms or refutes a class (or one value of it) for an item or
// for every item of a pseudonymous patient.
struct Outcome {
  std::string id;
  std::string project_id;
  std::string item_id;      // the item it speaks of, or "" when it names a patient
  std::string patient_key;  // the pseudonymous patient, or "" when it names an item
  std::string evidence_type;  // an evidence source of the class (biopsy, pathology_report, ...)
  std::string label_class;
  std::string value;        // "" = the class itself; else one value of it (a grade, a code)
  bool confirms = true;     // false: refutes
  TimeMicros observed_at = 0;
  std::string recorded_by;
  TimeMicros recorded_at = 0;
};

// An item with a known answer (docs/workflow.md, "Gold items"): the classes a correct reading
// names, no more and no fewer.
struct GoldItem {
  std::string item_id;
  std::string project_id;
  std::vector<std::string> answer;  // class ids; empty = the item shows none of the classes
  std::string set_by;
  TimeMicros set_at = 0;
};

// Where a published guideline did not fit an item (docs/workflow.md, "Guideline feedback"):
// written by reviewers and adjudicators, counted by class for the next version.
enum class FeedbackKind { kUnclearDefinition, kMissingEdgeCase, kCriteriaConflict, kNeedsExample, kOther };

struct GuidelineFeedback {
  std::string id;
  std::string project_id;
  std::string item_id;
  std::string label_class;
  std::string guideline_version_id;  // the published version in force when it was written
  FeedbackKind kind = FeedbackKind::kOther;
  std::string note;
  std::string author;
  TimeMicros created_at = 0;
};

// ---- tasks ---------------------------------------------------------------------------------

// Task life cycle (see TaskTransition):
//   open -> claimed -> submitted -> in_review -> accepted | rejected | escalated
//   claimed -> open (lease expired or released); rejected -> open (re-read);
//   escalated -> adjudicated
enum class TaskState {
  kOpen,
  kClaimed,
  kSubmitted,
  kInReview,
  kAccepted,
  kRejected,
  kEscalated,
  kAdjudicated,
};

// kReannotate: a guideline change sends a finished reading back to its reader (claimed, no
// lease) to label again under the version in force (App::ReannotateImpacted).
// kWaiveReview: review sampling passed the reading over (submitted -> accepted, no reviewer).
enum class TaskEvent {
  kClaim, kRelease, kLeaseExpire, kSubmit, kStartReview, kAccept, kReject, kEscalate, kAdjudicate, kReopen,
  kReannotate, kWaiveReview
};

// kReading: one of the item's k independent readings. kRepeat: the same reader reads the item
// again after a wash-out, for intra-reader reliability; it belongs to its reader from the
// start and never counts as one of the item's readings (docs/workflow.md, "Repeat reads").
enum class TaskKind { kReading, kRepeat };

struct Task {
  std::string id;
  std::string project_id;
  std::string item_id;
  std::string assignee;  // user id; "" while open (a repeat's reader from the start)
  TaskState state = TaskState::kOpen;
  std::optional<TimeMicros> lease_expires_at;
  std::int64_t revision = 0;  // bumps on every change; optimistic concurrency
  TimeMicros created_at = 0;
  TimeMicros updated_at = 0;
  TaskKind kind = TaskKind::kReading;
  // A repeat: the reading it repeats, and its wash-out: claimable from `due_at`, once its
  // reader has made `due_after_readings` readings in the project (either may be absent).
  std::string repeat_of;
  std::optional<TimeMicros> due_at;
  std::optional<std::int64_t> due_after_readings;
};

// ---- annotations ---------------------------------------------------------------------------

enum class Assertion { kPresent, kAbsent, kPossible, kConditional, kHypothetical };
// When the finding holds relative to the note, and whose it is (ConText, Harkema et al. 2009).
enum class Temporality { kCurrent, kHistorical, kFuture };
enum class Experiencer { kPatient, kFamily, kOther };

enum class LabelStatus { kProvisional, kConfirmed, kUnconfirmed, kConsensus, kAdjudicated };

// A label kept as three separate things (DESIGN.md, reason 1) plus where it came from.
struct Annotation {
  std::string id;
  std::string project_id;
  std::string item_id;
  std::string task_id;  // "" when not made in a task
  std::string author;   // user id
  std::string guideline_version_id;
  // Evidence: where in the source. kind is span | voxels | roi | value | time | document.
  std::string evidence_kind;
  std::string evidence_json;
  // Target label: a class of the schema and the code it binds to.
  std::string label_class;
  std::string code_system;  // "SNOMED CT", "ICD-10-CM", "RadLex", "LOINC"
  std::string code;
  // Uncertainty.
  std::optional<double> confidence;  // reader confidence in [0, 1]
  Assertion assertion = Assertion::kPresent;
  Temporality temporality = Temporality::kCurrent;
  Experiencer experiencer = Experiencer::kPatient;
  LabelStatus status = LabelStatus::kProvisional;
  // Relations to other labels of the item, as defined by the schema's relation types:
  // [{"type": "located_at", "target": "<annotation id>"}] (canonical JSON; "[]" when none).
  std::string relations_json = "[]";
  // Provenance.
  std::string origin = "human";  // human | prelabel:<model>@<version>
  std::int64_t revision = 1;
  TimeMicros created_at = 0;
  TimeMicros updated_at = 0;
};

enum class ReviewDecision { kAccept, kCorrect, kReject, kEscalate };

// Why a reviewer sends a reading back (docs/workflow.md, "Reason codes"). kOther needs a note.
enum class RejectReason {
  kWrongClass,
  kBoundaryInaccurate,
  kMissedFinding,
  kInsufficientEvidence,
  kGuidelineNotFollowed,
  kDataQuality,
  kOther
};

// A reviewer's decision on a submitted reading (a task).
struct Review {
  std::string id;
  std::string task_id;
  std::string annotation_id;  // the label decided on; "" when the decision covers the reading
  std::string reviewer;
  ReviewDecision decision = ReviewDecision::kAccept;
  std::string reason;  // the reviewer's note: required to escalate and with RejectReason::kOther
  std::string corrected_annotation_id;  // correct: the new version; the original is kept
  TimeMicros created_at = 0;
  std::optional<RejectReason> reject_reason;  // set exactly when the decision is reject
};

// An adjudicator's decision on an item whose readings were escalated.
struct Adjudication {
  std::string id;
  std::string project_id;
  std::string item_id;
  std::string adjudicator;
  std::string source_annotation_id;  // the reading chosen; "" when the adjudicator wrote the label
  std::string final_annotation_id;
  std::string rationale;
  TimeMicros created_at = 0;
};

// Why an item's readings went to adjudication by themselves (docs/workflow.md, "Automatic
// adjudication"): one row per class and trigger that fired when the k-th reading was submitted.
struct AdjudicationTrigger {
  std::string id;
  std::string project_id;
  std::string item_id;
  std::string label_class;
  std::string reason;  // class_mismatch | grade_distance | dice_below | span_mismatch | low_confidence
  std::string detail;  // the figure against the threshold, e.g. "grades 1 and 3 (distance >= 2)"
  TimeMicros created_at = 0;
};

// A superseded version of an annotation: the label as it was at `annotation.revision`, and
// the change that replaced it (who, when, why).
struct AnnotationVersion {
  Annotation annotation;
  std::string replaced_by;  // user id
  TimeMicros replaced_at = 0;
  std::string reason;       // the editor's reason; "" when none was given
};

// ---- AI pre-labels (docs/workflow.md, "AI pre-labels") ---------------------------------------

// A model's suggestion for an item: evidence and target label like an Annotation, with the
// model that made it and its scores. A pre-label is never a label: a human reader decides on
// it (PrelabelDecision), and only the reader's resulting annotation enters the workflow.
struct Prelabel {
  std::string id;
  std::string project_id;
  std::string item_id;
  std::string model_name;     // "context", "chexnet", ...
  std::string model_version;  // "1", "2024-05-01", ...
  std::string guideline_version_id;  // the published version in force when it was stored
  std::string evidence_kind;  // as Annotation
  std::string evidence_json;  // the payload for this class (span, mask, ROI, ...)
  std::string label_class;
  std::string code_system;
  std::string code;
  Assertion assertion = Assertion::kPresent;
  std::string attributes_json = "{}";  // model attributes (temporality, experiencer, ...)
  std::optional<double> score;         // the model's probability for this label, [0, 1]
  std::string scores_json = "{}";      // {"class": probability, ...} over the classes it scored
  TimeMicros created_at = 0;
  std::string created_by;  // who stored it (uploader or the user who ran the back-end)
};

enum class PrelabelStatus { kPending, kAccepted, kCorrected, kRejected };

// One reader's decision on a pre-label (each reader decides on their own: blinding).
struct PrelabelDecision {
  std::string id;
  std::string prelabel_id;
  std::string project_id;
  std::string item_id;
  std::string reader;
  std::string task_id;  // the reader's task on the item ("" when none)
  PrelabelStatus status = PrelabelStatus::kAccepted;  // never kPending once stored
  std::string annotation_id;  // the reader's label made from it; "" when rejected
  // Corrected: how far the reader moved from the suggestion, 0..1 (1 for a class change;
  // 1 - Dice for masks, 1 - overlap for spans otherwise; 0 when only the assertion changed).
  std::optional<double> correction_size;
  std::string reason;  // optional note (rejections)
  TimeMicros decided_at = 0;
};

}  // namespace caliper::core

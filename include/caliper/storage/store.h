#pragma once

// The Store contract. Every backend (SQLite now, PostgreSQL later) implements it and passes
// the one conformance suite (src/storage/store_conformance_test.cpp). No SQL and no backend
// type appears outside the backend's own folder.
//
// All reads and writes happen inside a Transaction. A Transaction rolls back when destroyed
// without Commit(), so an early `return` on error never leaves half a change. The audit event
// of a change is appended through the same Transaction, so it commits with the change.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "caliper/common/clock.h"
#include "caliper/common/status.h"
#include "caliper/core/types.h"

namespace caliper::storage {

// Cursor pagination: rows come in ascending id order, starting after `after` ("" = start).
struct PageRequest {
  std::string after;
  int limit = 50;  // 1..500; backends clamp
};

template <typename T>
struct Page {
  std::vector<T> rows;
  std::string next;  // pass as `after` for the next page; "" when this is the last page
};

struct Session {
  std::string id;
  std::string user_id;
  std::string token_hash;  // hex SHA-256 of the bearer secret; the secret itself is never stored
  std::string csrf_hash;   // hex SHA-256 of the CSRF token
  std::string source_address;
  TimeMicros created_at = 0;
  TimeMicros last_seen_at = 0;
  TimeMicros absolute_expires_at = 0;
  std::optional<TimeMicros> revoked_at;
};

struct ApiToken {
  std::string id;
  std::string name;
  std::string user_id;     // who acts when the token is used
  std::string project_id;  // the one project it reaches
  std::vector<std::string> permissions;  // permission names (security/policy.h)
  std::string item_id;     // "" = every item of the project; else the one item it reaches
  std::string token_hash;
  TimeMicros created_at = 0;
  std::optional<TimeMicros> expires_at;
  std::optional<TimeMicros> revoked_at;
};

// A request to take a project's dataset out (docs/export.md).
struct DatasetExport {
  std::string id;
  std::string project_id;
  std::int64_t version = 0;  // per project: 1, 2, ...
  std::string spec_json = "{}";  // splits and report settings as requested
  std::string reason;
  std::string status = "requested";  // requested | approved | denied | built | failed
  std::string requested_by;
  TimeMicros requested_at = 0;
  std::string decided_by;  // "" until approved or denied; never requested_by
  std::optional<TimeMicros> decided_at;
  std::string decision_note;
  std::string snapshot_blob;  // the encrypted tar; "" until built
  std::int64_t snapshot_bytes = 0;
  std::string manifest_sha256;
  std::string error;  // why the build failed
  std::int64_t revision = 1;
  std::optional<TimeMicros> build_started_at;  // when the current (or last) build began
  std::optional<TimeMicros> build_renewed_at;  // when that build last renewed its lease (it does while it runs)
};

// A one-time, time-limited download token of a built export; only its hash is stored.
struct ExportToken {
  std::string id;
  std::string export_id;
  std::string token_hash;
  std::string issued_to;
  TimeMicros created_at = 0;
  TimeMicros expires_at = 0;
  std::optional<TimeMicros> used_at;
};

// The answer to a request made with an Idempotency-Key, kept so that the same user repeating
// the key gets it again instead of a second effect (docs/api.md).
struct IdempotentReply {
  std::string user_id;
  std::string key;    // as the client sent it
  std::string scope;  // what the key was used for: "submit <task id>"
  int status = 200;
  std::string body;
  TimeMicros created_at = 0;
};

struct LoginAttempt {
  std::string username;
  std::string source_address;
  TimeMicros at = 0;
  bool success = false;
};

// One row of the audit chain. `seq` is assigned by the backend on append (1, 2, ...; no gaps).
struct AuditEvent {
  std::int64_t seq = 0;
  TimeMicros time = 0;
  std::string actor;           // user id, "system", or "anonymous"
  std::string session_id;      // "" when none
  std::string source_address;  // "" for local commands
  std::string action;          // "user.create", "item.read", "auth.login", ...
  std::string object_type;
  std::string object_id;
  std::string outcome;         // "success" | "denied" | "failure"
  std::string details_json;    // never holds PHI values
  std::string prev_hash;       // hex; "" for seq 1
  std::string hash;            // hex
};

struct AuditCheckpoint {
  std::int64_t seq = 0;  // the last event covered
  std::string hash;      // that event's hash
  std::string signature; // hex Ed25519 over "caliper-audit-checkpoint\n<seq>\n<hash>"
  TimeMicros time = 0;
};

// A project key wrapped by the master key.
struct ProjectKey {
  std::string project_id;
  std::vector<unsigned char> wrapped;
  std::int64_t version = 1;
  TimeMicros created_at = 0;
};

// A data key (one per project and pseudonymous patient) wrapped by its project key.
struct DataKey {
  std::string id;
  std::string project_id;
  std::string patient_key;
  std::vector<unsigned char> wrapped;
  std::int64_t project_key_version = 1;
  TimeMicros created_at = 0;
  std::optional<TimeMicros> destroyed_at;  // crypto-shredded: wrapped is empty
};

// One de-identified DICOM instance of an imaging item (one item per series, docs/imaging.md).
// UIDs are the pseudonymous ones de-identification made; the original ones are never stored
// in clear.
struct DicomInstance {
  std::string project_id;
  std::string sop_instance_uid;
  std::string item_id;
  std::string series_uid;
  std::string study_uid;
  std::string blob;  // the de-identified Part 10 file, encrypted under the item's data key
  std::int64_t bytes = 0;
  TimeMicros created_at = 0;
};

// Where a series item came from (original Patient ID and Study Instance UID), as an encrypted
// blob only a data steward may have decrypted.
struct ReidentificationLink {
  std::string item_id;
  std::string project_id;
  std::string blob;
  TimeMicros created_at = 0;
};

// A DICOM instance held for pixel review (docs/deid-dicom.md): de-identified in its headers,
// kept encrypted apart from any item until a data steward decides. UIDs are pseudonymous.
struct QuarantinedInstance {
  std::string id;  // "qrn_..."
  std::string project_id;
  std::string sop_instance_uid, series_uid, study_uid;
  std::string modality;
  std::string patient_key;
  std::string cohort_json = "{}";
  std::vector<std::string> reasons;  // why burned-in text is suspected
  std::string blob;       // the de-identified Part 10 file, encrypted; "" once decided
  std::string link_blob;  // the series' re-identification link, encrypted; "" once decided
  std::int64_t bytes = 0;
  std::string status = "pending";  // pending | released | blanked | discarded
  TimeMicros created_at = 0;
  std::string created_by;
  std::optional<TimeMicros> decided_at;
  std::string decided_by;
  std::string reason;             // the steward's
  std::string rects_json = "[]";  // blanked: [{"x","y","width","height"}]
  std::string item_id;            // released, blanked: the series item
};

// One version of one reader's mask (label map) on an imaging item.
struct ItemMask {
  std::string id;
  std::string item_id;
  std::string project_id;
  std::string author;
  std::int64_t version = 1;  // per (item, author): 1, 2, ...
  std::string blob;          // dicom::CompressLabelMap output, encrypted under the item's key
  std::int64_t bytes = 0;
  TimeMicros created_at = 0;
};

// What a markup document holds (docs/pathology.md, docs/waveforms.md).
enum class MarkupKind {
  kRegions,    // W3C Web Annotations on a slide, level-0 pixel coordinates
  kIntervals,  // interval and beat labels on a waveform
};
constexpr std::string_view MarkupKindName(MarkupKind kind) {
  return kind == MarkupKind::kRegions ? "regions" : "intervals";
}

// One version of one reader's markup (a JSON document) of one kind on an item.
struct ItemMarkup {
  std::string id;
  std::string item_id;
  std::string project_id;
  std::string author;
  MarkupKind kind = MarkupKind::kRegions;
  std::int64_t version = 1;  // per (item, author, kind): 1, 2, ...
  std::string blob;          // the JSON document, encrypted under the item's key
  std::int64_t bytes = 0;
  TimeMicros created_at = 0;
};

// One Deep Zoom tile of a stored slide (docs/pathology.md).
struct SlideTile {
  std::string item_id;
  int level = 0;
  std::int64_t col = 0, row = 0;
  std::string blob;  // the JPEG, encrypted under the item's key
  std::int64_t bytes = 0;
};

// A reader's viewer session on a slide: tiles are served only inside a live one.
struct SlideView {
  std::string id;
  std::string item_id;
  std::string user_id;
  TimeMicros created_at = 0;
  TimeMicros expires_at = 0;
};

// The fused probability that a class is present on an item (docs/quality.md, "Stored soft
// labels and QA findings").
struct SoftLabel {
  std::string item_id;
  std::string project_id;
  std::string label_class;
  std::string method = "dawid_skene";
  double probability = 0;
  std::int64_t readings = 0;  // the item's readings the fit saw
  TimeMicros computed_at = 0;
};

// A QA rule finding as the last run saw it (quality::QaFinding, stored).
struct QaFindingRow {
  std::string id;
  std::string project_id;
  std::string item_id;  // "" for a project-level finding
  std::string rule;
  std::string severity;  // "info" | "warning" | "error"
  std::string label_class;
  std::string annotation_id;
  std::string message;
  std::string fix;
  std::string source;  // "submit" | "sweep"
  TimeMicros found_at = 0;
};

// Which tasks ListTasks returns; unset fields do not filter.
struct TaskFilter {
  std::string project_id;  // required
  std::optional<std::string> assignee;
  std::optional<core::TaskState> state;
  core::TaskKind kind = core::TaskKind::kReading;
};

class Transaction {
 public:
  virtual ~Transaction() = default;  // implementations roll back unless committed

  // Makes every change durable (fsync'd) or returns kStorage and rolls back. After Commit,
  // the transaction may not be used again.
  virtual Status Commit() = 0;

  // Users. GetUser* return kNotFound when absent.
  virtual Status InsertUser(const core::User& user) = 0;  // kAlreadyExists on username clash
  virtual Status UpdateUser(const core::User& user) = 0;  // kNotFound when absent
  virtual Result<core::User> GetUser(const std::string& id) = 0;
  virtual Result<core::User> GetUserByUsername(const std::string& username) = 0;
  virtual Result<Page<core::User>> ListUsers(const PageRequest& page) = 0;

  // Sign-in attempts (for lock-out and throttling).
  virtual Status InsertLoginAttempt(const LoginAttempt& attempt) = 0;
  // Failures for `username` at or after `since`, stopping at the most recent success.
  virtual Result<int> CountRecentFailures(const std::string& username, TimeMicros since) = 0;
  // Failed attempts from `address` at or after `since` (throttling of one source).
  virtual Result<int> CountAttemptsFromAddress(const std::string& address, TimeMicros since) = 0;

  // Sessions.
  virtual Status InsertSession(const Session& session) = 0;
  virtual Result<Session> GetSessionByTokenHash(const std::string& token_hash) = 0;
  virtual Result<Session> GetSession(const std::string& id) = 0;
  virtual Status TouchSession(const std::string& id, TimeMicros last_seen_at) = 0;
  virtual Status RevokeSession(const std::string& id, TimeMicros at) = 0;
  virtual Result<int> RevokeUserSessions(const std::string& user_id, TimeMicros at) = 0;

  // API tokens.
  virtual Status InsertApiToken(const ApiToken& token) = 0;
  virtual Result<ApiToken> GetApiTokenByHash(const std::string& token_hash) = 0;
  virtual Result<ApiToken> GetApiToken(const std::string& id) = 0;
  virtual Status RevokeApiToken(const std::string& id, TimeMicros at) = 0;
  virtual Result<Page<ApiToken>> ListApiTokens(const std::string& user_id, const PageRequest& page) = 0;

  // Projects and memberships.
  virtual Status InsertProject(const core::Project& project) = 0;  // kAlreadyExists on name clash
  virtual Result<core::Project> GetProject(const std::string& id) = 0;
  virtual Result<Page<core::Project>> ListProjects(const PageRequest& page) = 0;
  virtual Result<Page<core::Project>> ListProjectsOfUser(const std::string& user_id,
                                                         const PageRequest& page) = 0;
  // Inserts or replaces the membership of (project_id, user_id).
  virtual Status PutMembership(const core::Membership& membership) = 0;
  virtual Status DeleteMembership(const std::string& project_id, const std::string& user_id) = 0;
  virtual Result<core::Membership> GetMembership(const std::string& project_id,
                                                 const std::string& user_id) = 0;
  virtual Result<Page<core::Membership>> ListMemberships(const std::string& project_id,
                                                         const PageRequest& page) = 0;

  // Items.
  virtual Status InsertItem(const core::Item& item) = 0;
  virtual Result<core::Item> GetItem(const std::string& id) = 0;
  virtual Result<Page<core::Item>> ListItems(const std::string& project_id, const PageRequest& page) = 0;
  // Every item of one pseudonymous patient in a project with the given data type, ascending
  // by id (a patient has few items of a type; no paging).
  virtual Result<std::vector<core::Item>> ListItemsOfPatient(const std::string& project_id,
                                                             const std::string& patient_key,
                                                             core::DataType data_type) = 0;

  // Clinical notes (one row per note item) and each project's text settings.
  // InsertNote: kAlreadyExists when the project holds a note with the same source_hash.
  virtual Status InsertNote(const core::Note& note) = 0;
  virtual Result<core::Note> GetNote(const std::string& item_id) = 0;
  // kNotFound when the project has no note with that source hash.
  virtual Result<core::Note> FindNoteBySource(const std::string& project_id, const std::string& source_hash) = 0;
  virtual Status PutTextSettings(const core::TextSettings& settings) = 0;
  // kNotFound until first put.
  virtual Result<core::TextSettings> GetTextSettings(const std::string& project_id) = 0;
  // Each project's DICOM de-identification settings. GetDicomSettings: kNotFound until first put.
  virtual Status PutDicomSettings(const core::DicomSettings& settings) = 0;
  virtual Result<core::DicomSettings> GetDicomSettings(const std::string& project_id) = 0;

  // Stores a new blob as the item's content (an imaging item's volume, rebuilt as its series
  // grows). kNotFound when absent.
  virtual Status UpdateItemContent(const std::string& item_id, const std::string& content_blob,
                                   const std::string& content_type, std::int64_t content_bytes) = 0;

  // DICOM instances. InsertDicomInstance: kAlreadyExists when the project holds that SOP
  // Instance UID. FindDicomInstance: kNotFound when it does not. FindSeriesItem: the item of
  // the project's series, kNotFound when none. ListDicomInstances: ascending by SOP UID.
  virtual Status InsertDicomInstance(const DicomInstance& instance) = 0;
  virtual Result<DicomInstance> FindDicomInstance(const std::string& project_id,
                                                  const std::string& sop_instance_uid) = 0;
  virtual Result<std::string> FindSeriesItem(const std::string& project_id, const std::string& series_uid) = 0;
  virtual Result<std::vector<DicomInstance>> ListDicomInstances(const std::string& item_id) = 0;
  // The calling AE titles allowed to send DICOM to a project (ascending by title).
  // ReplaceDicomSources makes `sources` the project's whole list; kAlreadyExists when one of
  // the titles belongs to another project. FindDicomSourceProject: the project a title sends
  // to, kNotFound when none.
  virtual Result<std::vector<core::DicomSource>> ListDicomSources(const std::string& project_id) = 0;
  virtual Status ReplaceDicomSources(const std::string& project_id, const std::vector<core::DicomSource>& sources,
                                     TimeMicros updated_at) = 0;
  virtual Result<std::string> FindDicomSourceProject(const std::string& ae_title) = 0;
  // Re-identification links: one per item (kAlreadyExists for a second); kNotFound when none.
  // The quarantine. InsertQuarantinedInstance: kAlreadyExists when the project has a pending
  // entry for that SOP Instance UID. FindPendingQuarantine: kNotFound when it has none.
  // ListQuarantine: by id, all or those with `status`; CountPendingQuarantine: how many of the
  // project's entries are pending. DecideQuarantinedInstance writes the
  // decision fields (status, decided_*, reason, rects, item, blobs) of a pending entry;
  // kConflict when it is no longer pending, kNotFound when absent.
  virtual Status InsertQuarantinedInstance(const QuarantinedInstance& q) = 0;
  virtual Result<QuarantinedInstance> GetQuarantinedInstance(const std::string& id) = 0;
  virtual Result<QuarantinedInstance> FindPendingQuarantine(const std::string& project_id,
                                                            const std::string& sop_instance_uid) = 0;
  virtual Result<Page<QuarantinedInstance>> ListQuarantine(const std::string& project_id, const std::string& status,
                                                           const PageRequest& page) = 0;
  virtual Result<std::int64_t> CountPendingQuarantine(const std::string& project_id) = 0;
  virtual Status DecideQuarantinedInstance(const QuarantinedInstance& q) = 0;

  virtual Status InsertReidentificationLink(const ReidentificationLink& link) = 0;
  virtual Result<ReidentificationLink> GetReidentificationLink(const std::string& item_id) = 0;
  // Masks. InsertMask: kAlreadyExists when (item, author, version) is taken. GetLatestMask:
  // the author's highest version on the item, kNotFound when none. GetMask: that version,
  // kNotFound when the author has no such version on the item.
  virtual Status InsertMask(const ItemMask& mask) = 0;
  virtual Result<ItemMask> GetLatestMask(const std::string& item_id, const std::string& author) = 0;
  virtual Result<ItemMask> GetMask(const std::string& item_id, const std::string& author, std::int64_t version) = 0;
  // Markup. InsertMarkup: kAlreadyExists when (item, author, kind, version) is taken.
  // GetLatestMarkup: the author's highest version of the kind on the item, kNotFound when none.
  // ListLatestMarkup: every author's highest version of the kind on the item, ascending by
  // author.
  virtual Status InsertMarkup(const ItemMarkup& markup) = 0;
  virtual Result<ItemMarkup> GetLatestMarkup(const std::string& item_id, const std::string& author,
                                             MarkupKind kind) = 0;
  virtual Result<std::vector<ItemMarkup>> ListLatestMarkup(const std::string& item_id, MarkupKind kind) = 0;
  // Slides. InsertSlideTile: kAlreadyExists when the tile is stored. GetSlideTile, GetSlideView:
  // kNotFound when absent. CountSlideTiles: the tiles stored for the item.
  virtual Status InsertSlideTile(const SlideTile& tile) = 0;
  virtual Result<SlideTile> GetSlideTile(const std::string& item_id, int level, std::int64_t col,
                                         std::int64_t row) = 0;
  virtual Result<std::int64_t> CountSlideTiles(const std::string& item_id) = 0;
  virtual Status InsertSlideView(const SlideView& view) = 0;
  virtual Result<SlideView> GetSlideView(const std::string& id) = 0;

  // Calls fn with every blob address a row names (items, DICOM instances, re-identification
  // links, masks, markup, slide tiles, exports, the quarantine), in no order, repeats possible.
  // The sweep of unreferenced blobs keeps exactly these.
  virtual Status ForEachBlobReference(const std::function<Status(const std::string& address)>& fn) = 0;

  // Tasks (an item assigned to a reader). ListTasksOfItem returns the item's readings (tasks
  // of kind kReading), ascending by id; repeats are reached by GetRepeatTask and ListTasks
  // with kind kRepeat. GetTask reads either kind.
  virtual Status InsertTask(const core::Task& task) = 0;
  virtual Result<std::vector<core::Task>> ListTasksOfItem(const std::string& item_id) = 0;
  virtual Result<core::Task> GetTask(const std::string& id) = 0;
  // The repeat of `user_id` on the item; kNotFound when they have none.
  virtual Result<core::Task> GetRepeatTask(const std::string& item_id, const std::string& user_id) = 0;
  // The readings of `user_id` in the project that count (submitted and not sent back: states
  // submitted, in_review, accepted, escalated, adjudicated).
  virtual Result<std::int64_t> CountReadings(const std::string& project_id, const std::string& user_id) = 0;
  // Succeeds only when the stored revision equals `expected_revision` (else
  // kPreconditionFailed; kNotFound when absent); stores every field but id, project_id,
  // item_id and created_at as given. kAlreadyExists when the assignee holds another task of
  // the item.
  virtual Status UpdateTask(const core::Task& task, std::int64_t expected_revision) = 0;
  virtual Result<Page<core::Task>> ListTasks(const TaskFilter& filter, const PageRequest& page) = 0;
  // A reading (kind kReading) of the project that `user_id` may claim: open, or claimed with a lease that ended
  // at or before `now`; on an item whose data type is in `data_types`; and on an item where
  // `user_id` holds no other task. kNotFound when none. Which one, by `order`: kFifo the
  // oldest (created_at, then id); kRandom the first of a permutation drawn from `seed` (a
  // different seed, a different order); kLeastSure the one whose item has the lowest highest
  // pre-label score (items without scored pre-labels last, then fifo). Before the order, a
  // task on a gold item comes first when `gold_first`, last otherwise.
  virtual Result<core::Task> FindClaimableTask(const std::string& project_id, const std::string& user_id,
                                               const std::vector<core::DataType>& data_types, TimeMicros now,
                                               core::TaskOrder order = core::TaskOrder::kFifo,
                                               std::uint64_t seed = 0, bool gold_first = false) = 0;

  // Guideline versions. UpdateGuidelineVersion succeeds only on a draft whose stored revision
  // equals `expected_revision` (else kPreconditionFailed) and stores every field but id,
  // project_id, created_at and created_by. kAlreadyExists for a second draft of a project or
  // a repeated published number.
  virtual Status InsertGuidelineVersion(const core::GuidelineVersion& version) = 0;
  virtual Result<core::GuidelineVersion> GetGuidelineVersion(const std::string& id) = 0;
  virtual Status UpdateGuidelineVersion(const core::GuidelineVersion& version, std::int64_t expected_revision) = 0;
  // Ascending by id, like every list.
  virtual Result<Page<core::GuidelineVersion>> ListGuidelineVersions(const std::string& project_id,
                                                                     const PageRequest& page) = 0;
  // The published version with the highest number; kNotFound when none is published.
  virtual Result<core::GuidelineVersion> GetCurrentGuideline(const std::string& project_id) = 0;

  // Workflow settings; GetWorkflowSettings is kNotFound until first put.
  virtual Status PutWorkflowSettings(const core::WorkflowSettings& settings) = 0;
  virtual Result<core::WorkflowSettings> GetWorkflowSettings(const std::string& project_id) = 0;

  // Reviews and adjudications, ascending by id.
  virtual Status InsertReview(const core::Review& review) = 0;
  virtual Result<std::vector<core::Review>> ListReviewsOfTask(const std::string& task_id) = 0;
  virtual Status InsertAdjudication(const core::Adjudication& adjudication) = 0;
  virtual Result<std::vector<core::Adjudication>> ListAdjudicationsOfItem(const std::string& item_id) = 0;

  // Outcome events, ascending by id. InsertOutcome: kNotFound when the project (or a named
  // item) does not exist.
  virtual Status InsertOutcome(const core::Outcome& outcome) = 0;
  virtual Result<std::vector<core::Outcome>> ListOutcomes(const std::string& project_id) = 0;

  // Gold items. PutGoldItem inserts or replaces the item's answer; GetGoldItem is kNotFound
  // for an item that is not gold; ListGoldItems is ascending by item id.
  virtual Status PutGoldItem(const core::GoldItem& gold) = 0;
  virtual Result<core::GoldItem> GetGoldItem(const std::string& item_id) = 0;
  virtual Result<std::vector<core::GoldItem>> ListGoldItems(const std::string& project_id) = 0;

  // Guideline feedback, ascending by id. InsertGuidelineFeedback: kNotFound when the project or
  // the item does not exist.
  virtual Status InsertGuidelineFeedback(const core::GuidelineFeedback& feedback) = 0;
  virtual Result<std::vector<core::GuidelineFeedback>> ListGuidelineFeedback(const std::string& project_id) = 0;

  // Soft labels: ReplaceSoftLabels drops every soft label of the project and stores `rows`;
  // ListSoftLabels returns the project's (only the item's when `item_id` is not ""), by item
  // then class.
  virtual Status ReplaceSoftLabels(const std::string& project_id, const std::vector<SoftLabel>& rows) = 0;
  virtual Result<std::vector<SoftLabel>> ListSoftLabels(const std::string& project_id, const std::string& item_id) = 0;
  // QA findings: ReplaceQaFindings drops the item's findings (every finding of the project when
  // `item_id` is unset) and stores `rows`; ListQaFindings returns the project's by item then id.
  virtual Status ReplaceQaFindings(const std::string& project_id, const std::optional<std::string>& item_id,
                                   const std::vector<QaFindingRow>& rows) = 0;
  virtual Result<std::vector<QaFindingRow>> ListQaFindings(const std::string& project_id) = 0;

  // Automatic adjudication triggers (docs/workflow.md), ascending by id.
  virtual Status InsertAdjudicationTrigger(const core::AdjudicationTrigger& trigger) = 0;
  virtual Result<std::vector<core::AdjudicationTrigger>> ListAdjudicationTriggersOfItem(
      const std::string& item_id) = 0;

  // AI pre-labels and the readers' decisions on them, ascending by id. InsertPrelabelDecision
  // is kAlreadyExists when the reader decided on that pre-label before.
  virtual Status InsertPrelabel(const core::Prelabel& prelabel) = 0;
  virtual Result<core::Prelabel> GetPrelabel(const std::string& id) = 0;
  virtual Result<std::vector<core::Prelabel>> ListPrelabelsOfItem(const std::string& item_id) = 0;
  virtual Result<Page<core::Prelabel>> ListPrelabelsOfProject(const std::string& project_id,
                                                              const PageRequest& page) = 0;
  virtual Status InsertPrelabelDecision(const core::PrelabelDecision& decision) = 0;
  virtual Result<std::vector<core::PrelabelDecision>> ListPrelabelDecisionsOfItem(const std::string& item_id) = 0;
  virtual Result<Page<core::PrelabelDecision>> ListPrelabelDecisions(const std::string& project_id,
                                                                     const PageRequest& page) = 0;

  // Annotations. UpdateAnnotation succeeds only when the stored revision equals
  // `expected_revision` (else kPreconditionFailed) and stores annotation.revision as given.
  virtual Status InsertAnnotation(const core::Annotation& annotation) = 0;
  virtual Result<core::Annotation> GetAnnotation(const std::string& id) = 0;
  virtual Status UpdateAnnotation(const core::Annotation& annotation, std::int64_t expected_revision) = 0;
  virtual Result<Page<core::Annotation>> ListAnnotations(const std::string& item_id,
                                                         const PageRequest& page) = 0;
  // Superseded versions of an annotation (its history), ascending by revision.
  // InsertAnnotationVersion: kAlreadyExists for a second row of the same (id, revision);
  // kNotFound when the annotation does not exist.
  virtual Status InsertAnnotationVersion(const core::AnnotationVersion& version) = 0;
  virtual Result<std::vector<core::AnnotationVersion>> ListAnnotationVersions(const std::string& annotation_id) = 0;

  // Audit chain storage (the chain's rules live in security/audit).
  // Appends with seq = last seq + 1 and writes that seq back into `event`.
  // Exports. UpdateExport: kConflict when the revision moved (or the export is built: built
  // exports are immutable); NextExportVersion is 1 + the project's highest version.
  virtual Status InsertExport(const DatasetExport& e) = 0;
  virtual Result<DatasetExport> GetExport(const std::string& id) = 0;
  virtual Status UpdateExport(const DatasetExport& e, std::int64_t expected_revision) = 0;
  virtual Result<Page<DatasetExport>> ListExports(const std::string& project_id, const PageRequest& page) = 0;
  virtual Result<std::int64_t> NextExportVersion(const std::string& project_id) = 0;
  virtual Status InsertExportToken(const ExportToken& t) = 0;
  virtual Result<ExportToken> GetExportTokenByHash(const std::string& token_hash) = 0;
  // Marks the token used; kConflict when it already was.
  virtual Status UseExportToken(const std::string& id, TimeMicros at) = 0;

  // Idempotent replies. InsertIdempotentReply: kAlreadyExists for a repeated (user_id, key);
  // GetIdempotentReply: kNotFound when the user never used the key.
  virtual Status InsertIdempotentReply(const IdempotentReply& reply) = 0;
  virtual Result<IdempotentReply> GetIdempotentReply(const std::string& user_id, const std::string& key) = 0;

  virtual Status AppendAuditEvent(AuditEvent& event) = 0;
  // The newest event, or kNotFound when the log is empty.
  virtual Result<AuditEvent> GetLastAuditEvent() = 0;
  // Events with seq > after_seq, ascending, at most `limit`.
  virtual Result<std::vector<AuditEvent>> ListAuditEvents(std::int64_t after_seq, int limit) = 0;
  virtual Status InsertAuditCheckpoint(const AuditCheckpoint& checkpoint) = 0;
  // The checkpoint with the highest seq, or kNotFound.
  virtual Result<AuditCheckpoint> GetLastAuditCheckpoint() = 0;

  // Keys.
  virtual Status PutProjectKey(const ProjectKey& key) = 0;  // insert or replace
  virtual Result<ProjectKey> GetProjectKey(const std::string& project_id) = 0;
  virtual Result<std::vector<ProjectKey>> ListProjectKeys() = 0;
  virtual Status InsertDataKey(const DataKey& key) = 0;
  virtual Status UpdateDataKey(const DataKey& key) = 0;  // wrapped, version, destroyed_at
  virtual Result<DataKey> GetDataKey(const std::string& id) = 0;
  virtual Result<DataKey> FindDataKey(const std::string& project_id, const std::string& patient_key) = 0;
  virtual Result<std::vector<DataKey>> ListDataKeys(const std::string& project_id) = 0;
};

enum class TxnMode {
  kRead,   // a consistent snapshot; writes fail
  kWrite,  // serialised with other writers (may wait up to the busy timeout)
};

// A database. Thread-safe: any number of threads may hold transactions at once.
class Store {
 public:
  virtual ~Store() = default;
  virtual Result<std::unique_ptr<Transaction>> Begin(TxnMode mode) = 0;
  // The schema version the database is at (the highest applied migration).
  virtual Result<int> SchemaVersion() = 0;
  // Flushes and closes; later Begin calls fail with kUnavailable.
  virtual void Close() = 0;
};

struct SqliteOptions {
  int busy_timeout_ms = 10'000;
  int pool_size = 8;  // connections kept open for concurrent readers
};

// The (table, column) pairs of the SQLite schema that hold blob addresses, which
// ForEachBlobReference reads. A test checks every column named `blob` or `*_blob` is listed:
// name every new column that holds blob addresses so (a `tile_address` would pass unseen and
// the sweep would delete its blobs), and never keep an address inside a JSON column.
const std::vector<std::pair<std::string, std::string>>& SqliteBlobColumns();

// Opens (creating if needed) the SQLite database at `path`, in WAL mode with foreign keys on
// and synchronous=FULL, and applies pending migrations (embedded in the binary).
Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path, const SqliteOptions& options = {});

}  // namespace caliper::storage

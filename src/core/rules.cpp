#include "caliper/core/rules.h"

#include <array>
#include <cstdint>
#include <utility>

#include "caliper/common/random.h"

namespace caliper::core {
namespace {

template <typename E, std::size_t N>
using NameTable = std::array<std::pair<E, std::string_view>, N>;

constexpr NameTable<Role, 7> kRoles = {{{Role::kAdmin, "admin"},
                                        {Role::kManager, "manager"},
                                        {Role::kAnnotator, "annotator"},
                                        {Role::kReviewer, "reviewer"},
                                        {Role::kAdjudicator, "adjudicator"},
                                        {Role::kAuditor, "auditor"},
                                        {Role::kDataSteward, "data_steward"}}};
constexpr NameTable<Qualification, 4> kQualifications = {
    {{Qualification::kRadiologist, "radiologist"},
     {Qualification::kPathologist, "pathologist"},
     {Qualification::kClinician, "clinician"},
     {Qualification::kGeneralAnnotator, "general_annotator"}}};
constexpr NameTable<DataType, 5> kDataTypes = {{{DataType::kImaging, "imaging"},
                                                {DataType::kPathology, "pathology"},
                                                {DataType::kNotes, "notes"},
                                                {DataType::kLabs, "labs"},
                                                {DataType::kWaveforms, "waveforms"}}};
constexpr NameTable<TaskState, 8> kTaskStates = {{{TaskState::kOpen, "open"},
                                                  {TaskState::kClaimed, "claimed"},
                                                  {TaskState::kSubmitted, "submitted"},
                                                  {TaskState::kInReview, "in_review"},
                                                  {TaskState::kAccepted, "accepted"},
                                                  {TaskState::kRejected, "rejected"},
                                                  {TaskState::kEscalated, "escalated"},
                                                  {TaskState::kAdjudicated, "adjudicated"}}};
constexpr NameTable<TaskEvent, 12> kTaskEvents = {{{TaskEvent::kClaim, "claim"},
                                                   {TaskEvent::kRelease, "release"},
                                                   {TaskEvent::kLeaseExpire, "lease_expire"},
                                                   {TaskEvent::kSubmit, "submit"},
                                                   {TaskEvent::kStartReview, "start_review"},
                                                   {TaskEvent::kAccept, "accept"},
                                                   {TaskEvent::kReject, "reject"},
                                                   {TaskEvent::kEscalate, "escalate"},
                                                   {TaskEvent::kAdjudicate, "adjudicate"},
                                                   {TaskEvent::kReopen, "reopen"},
                                                   {TaskEvent::kReannotate, "reannotate"},
                                                   {TaskEvent::kWaiveReview, "waive_review"}}};
constexpr NameTable<Assertion, 5> kAssertions = {{{Assertion::kPresent, "present"},
                                                  {Assertion::kAbsent, "absent"},
                                                  {Assertion::kPossible, "possible"},
                                                  {Assertion::kConditional, "conditional"},
                                                  {Assertion::kHypothetical, "hypothetical"}}};
constexpr NameTable<Temporality, 3> kTemporalities = {{{Temporality::kCurrent, "current"},
                                                       {Temporality::kHistorical, "historical"},
                                                       {Temporality::kFuture, "future"}}};
constexpr NameTable<Experiencer, 3> kExperiencers = {{{Experiencer::kPatient, "patient"},
                                                     {Experiencer::kFamily, "family"},
                                                     {Experiencer::kOther, "other"}}};
constexpr NameTable<LabelStatus, 5> kLabelStatuses = {{{LabelStatus::kProvisional, "provisional"},
                                                       {LabelStatus::kConfirmed, "confirmed"},
                                                       {LabelStatus::kUnconfirmed, "unconfirmed"},
                                                       {LabelStatus::kConsensus, "consensus"},
                                                       {LabelStatus::kAdjudicated, "adjudicated"}}};
constexpr NameTable<ReviewDecision, 4> kDecisions = {{{ReviewDecision::kAccept, "accept"},
                                                      {ReviewDecision::kCorrect, "correct"},
                                                      {ReviewDecision::kReject, "reject"},
                                                      {ReviewDecision::kEscalate, "escalate"}}};
// Display order: the reviewer's select offers them so (docs/workflow.md, "Reason codes").
constexpr NameTable<RejectReason, 7> kRejectReasons = {
    {{RejectReason::kWrongClass, "wrong_class"},
     {RejectReason::kBoundaryInaccurate, "boundary_inaccurate"},
     {RejectReason::kMissedFinding, "missed_finding"},
     {RejectReason::kInsufficientEvidence, "insufficient_evidence"},
     {RejectReason::kGuidelineNotFollowed, "guideline_not_followed"},
     {RejectReason::kDataQuality, "data_quality"},
     {RejectReason::kOther, "other"}}};
constexpr NameTable<GuidelineStatus, 2> kGuidelineStatuses = {
    {{GuidelineStatus::kDraft, "draft"}, {GuidelineStatus::kPublished, "published"}}};

constexpr NameTable<TaskOrder, 3> kTaskOrders = {
    {{TaskOrder::kFifo, "fifo"}, {TaskOrder::kRandom, "random"}, {TaskOrder::kLeastSure, "least_sure"}}};
constexpr NameTable<TaskKind, 2> kTaskKinds = {{{TaskKind::kReading, "reading"}, {TaskKind::kRepeat, "repeat"}}};
constexpr NameTable<FeedbackKind, 5> kFeedbackKinds = {{{FeedbackKind::kUnclearDefinition, "unclear_definition"},
                                                       {FeedbackKind::kMissingEdgeCase, "missing_edge_case"},
                                                       {FeedbackKind::kCriteriaConflict, "criteria_conflict"},
                                                       {FeedbackKind::kNeedsExample, "needs_example"},
                                                       {FeedbackKind::kOther, "other"}}};
constexpr NameTable<PrelabelStatus, 4> kPrelabelStatuses = {{{PrelabelStatus::kPending, "pending"},
                                                             {PrelabelStatus::kAccepted, "accepted"},
                                                             {PrelabelStatus::kCorrected, "corrected"},
                                                             {PrelabelStatus::kRejected, "rejected"}}};

template <typename E, std::size_t N>
std::string_view NameOf(const NameTable<E, N>& table, E v) {
  for (const auto& [e, name] : table) {
    if (e == v) return name;
  }
  return "unknown";
}

template <typename E, std::size_t N>
Result<E> Parse(const NameTable<E, N>& table, std::string_view what, std::string_view text) {
  std::string accepted;
  for (const auto& [e, name] : table) {
    if (name == text) return e;
    accepted += accepted.empty() ? "" : ", ";
    accepted += name;
  }
  return Error(ErrorCode::kInvalidArgument, "'" + std::string(text) + "' is not a " +
                                                std::string(what) + " (one of: " + accepted + ")");
}

}  // namespace

std::string_view ToString(Role v) { return NameOf(kRoles, v); }
std::string_view ToString(Qualification v) { return NameOf(kQualifications, v); }
std::string_view ToString(DataType v) { return NameOf(kDataTypes, v); }
std::string_view ToString(TaskState v) { return NameOf(kTaskStates, v); }
std::string_view ToString(TaskEvent v) { return NameOf(kTaskEvents, v); }
std::string_view ToString(Assertion v) { return NameOf(kAssertions, v); }
std::string_view ToString(Temporality v) { return NameOf(kTemporalities, v); }
std::string_view ToString(Experiencer v) { return NameOf(kExperiencers, v); }
std::string_view ToString(LabelStatus v) { return NameOf(kLabelStatuses, v); }
std::string_view ToString(ReviewDecision v) { return NameOf(kDecisions, v); }
std::string_view ToString(GuidelineStatus v) { return NameOf(kGuidelineStatuses, v); }
std::string_view ToString(TaskOrder v) { return NameOf(kTaskOrders, v); }
std::string_view ToString(PrelabelStatus v) { return NameOf(kPrelabelStatuses, v); }
std::string_view ToString(FeedbackKind v) { return NameOf(kFeedbackKinds, v); }
std::string_view ToString(TaskKind v) { return NameOf(kTaskKinds, v); }
std::string_view ToString(RejectReason v) { return NameOf(kRejectReasons, v); }

Result<Role> ParseRole(std::string_view t) { return Parse(kRoles, "role", t); }
Result<Qualification> ParseQualification(std::string_view t) {
  return Parse(kQualifications, "qualification", t);
}
Result<DataType> ParseDataType(std::string_view t) { return Parse(kDataTypes, "data type", t); }
Result<TaskState> ParseTaskState(std::string_view t) { return Parse(kTaskStates, "task state", t); }
Result<Assertion> ParseAssertion(std::string_view t) { return Parse(kAssertions, "assertion", t); }
Result<Temporality> ParseTemporality(std::string_view t) { return Parse(kTemporalities, "temporality", t); }
Result<Experiencer> ParseExperiencer(std::string_view t) { return Parse(kExperiencers, "experiencer", t); }
Result<LabelStatus> ParseLabelStatus(std::string_view t) {
  return Parse(kLabelStatuses, "label status", t);
}
Result<ReviewDecision> ParseReviewDecision(std::string_view t) {
  return Parse(kDecisions, "review decision", t);
}
Result<GuidelineStatus> ParseGuidelineStatus(std::string_view t) {
  return Parse(kGuidelineStatuses, "guideline status", t);
}

Result<TaskOrder> ParseTaskOrder(std::string_view t) { return Parse(kTaskOrders, "task order", t); }
Result<FeedbackKind> ParseFeedbackKind(std::string_view t) { return Parse(kFeedbackKinds, "feedback kind", t); }
Result<TaskKind> ParseTaskKind(std::string_view t) { return Parse(kTaskKinds, "task kind", t); }
Result<RejectReason> ParseRejectReason(std::string_view t) { return Parse(kRejectReasons, "reject reason code", t); }
std::vector<RejectReason> AllRejectReasons() {
  std::vector<RejectReason> out;
  for (const auto& entry : kRejectReasons) out.push_back(entry.first);
  return out;
}
Result<PrelabelStatus> ParsePrelabelStatus(std::string_view t) {
  return Parse(kPrelabelStatuses, "pre-label status", t);
}

Result<TaskState> TaskTransition(TaskState from, TaskEvent event) {
  using S = TaskState;
  using E = TaskEvent;
  struct Edge {
    S from;
    E event;
    S to;
  };
  static constexpr std::array kEdges = {
      Edge{S::kOpen, E::kClaim, S::kClaimed},          Edge{S::kClaimed, E::kRelease, S::kOpen},
      Edge{S::kClaimed, E::kLeaseExpire, S::kOpen},    Edge{S::kClaimed, E::kSubmit, S::kSubmitted},
      Edge{S::kSubmitted, E::kStartReview, S::kInReview}, Edge{S::kSubmitted, E::kWaiveReview, S::kAccepted},
      Edge{S::kInReview, E::kAccept, S::kAccepted},    Edge{S::kInReview, E::kReject, S::kRejected},
      Edge{S::kInReview, E::kEscalate, S::kEscalated}, Edge{S::kSubmitted, E::kEscalate, S::kEscalated},
      Edge{S::kEscalated, E::kAdjudicate, S::kAdjudicated},
      Edge{S::kRejected, E::kReopen, S::kOpen},
      // A finished reading goes back to its reader when the guideline changes under it.
      Edge{S::kSubmitted, E::kReannotate, S::kClaimed},   Edge{S::kInReview, E::kReannotate, S::kClaimed},
      Edge{S::kAccepted, E::kReannotate, S::kClaimed},    Edge{S::kEscalated, E::kReannotate, S::kClaimed},
      Edge{S::kAdjudicated, E::kReannotate, S::kClaimed},
  };
  for (const Edge& e : kEdges) {
    if (e.from == from && e.event == event) return e.to;
  }
  return Error(ErrorCode::kConflict, "a task that is " + std::string(ToString(from)) +
                                         " cannot take '" + std::string(ToString(event)) + "'");
}

Status ValidateUsername(std::string_view username) {
  if (username.size() < 2 || username.size() > 64) {
    return Error(ErrorCode::kInvalidArgument, "username must be 2 to 64 characters");
  }
  for (char c : username) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
    if (!ok) {
      return Error(ErrorCode::kInvalidArgument,
                   "username may hold only lower-case letters, digits, '.', '-' and '_'");
    }
  }
  return Status::Ok();
}

Status ValidateProjectName(std::string_view name) {
  if (name.empty() || name.size() > 200) {
    return Error(ErrorCode::kInvalidArgument, "project name must be 1 to 200 characters");
  }
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7f) {
      return Error(ErrorCode::kInvalidArgument, "project name must not hold control characters");
    }
  }
  return Status::Ok();
}

Status ValidateAnnotation(const Annotation& a) {
  static constexpr std::array<std::string_view, 7> kEvidenceKinds = {
      "span", "voxels", "roi", "value", "time", "document", "mask"};
  bool kind_ok = false;
  for (auto k : kEvidenceKinds) kind_ok = kind_ok || k == a.evidence_kind;
  if (!kind_ok) {
    return Error(ErrorCode::kInvalidArgument,
                 "evidence.kind must be one of span, voxels, roi, value, time, document, mask");
  }
  if (a.label_class.empty() || a.label_class.size() > 200) {
    return Error(ErrorCode::kInvalidArgument, "label.class must be 1 to 200 characters");
  }
  if (a.confidence && (*a.confidence < 0.0 || *a.confidence > 1.0)) {
    return Error(ErrorCode::kInvalidArgument, "uncertainty.confidence must be between 0 and 1");
  }
  if (!a.code.empty() && a.code_system.empty()) {
    return Error(ErrorCode::kInvalidArgument, "label.code needs label.code_system");
  }
  return Status::Ok();
}

namespace {

Status ValidateModelField(std::string_view value, std::string_view field) {
  if (value.empty() || value.size() > 100) {
    return Error(ErrorCode::kInvalidArgument, std::string(field) + " must be 1 to 100 characters");
  }
  for (unsigned char c : value) {
    if (c < 0x20 || c == 0x7f) {
      return Error(ErrorCode::kInvalidArgument, std::string(field) + " must not hold control characters");
    }
  }
  return Status::Ok();
}

}  // namespace

Status ValidatePrelabel(const Prelabel& p) {
  CALIPER_RETURN_IF_ERROR(ValidateModelField(p.model_name, "model.name"));
  CALIPER_RETURN_IF_ERROR(ValidateModelField(p.model_version, "model.version"));
  Annotation as_label;
  as_label.evidence_kind = p.evidence_kind;
  as_label.label_class = p.label_class;
  as_label.code_system = p.code_system;
  as_label.code = p.code;
  CALIPER_RETURN_IF_ERROR(ValidateAnnotation(as_label));
  if (p.score && !(*p.score >= 0.0 && *p.score <= 1.0)) {
    return Error(ErrorCode::kInvalidArgument, "score must be between 0 and 1");
  }
  return Status::Ok();
}

double StableDraw(std::initializer_list<std::string_view> parts) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  bool first = true;
  for (std::string_view part : parts) {
    if (!first) {
      h ^= static_cast<unsigned char>('\n');
      h *= 0x100000001b3ULL;
    }
    first = false;
    for (unsigned char c : part) {
      h ^= c;
      h *= 0x100000001b3ULL;
    }
  }
  h = SplitMix64(h);  // FNV's high bits mix poorly for similar ids
  return static_cast<double>(h >> 11) / static_cast<double>(1ULL << 53);
}

bool PrelabelHiddenFor(const std::string& project_id, const std::string& user_id, double hidden_share) {
  if (hidden_share <= 0) return false;
  if (hidden_share >= 1) return true;
  return StableDraw({project_id, user_id}) < hidden_share;
}

}  // namespace caliper::core

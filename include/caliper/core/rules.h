#pragma once

// Domain rules over the types in types.h: names on the wire, the task state machine and
// validation. Pure functions; thread-safe.

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "caliper/common/status.h"
#include "caliper/core/types.h"

namespace caliper::core {

// Stable snake_case names used in the API, storage and exports.
std::string_view ToString(Role v);
std::string_view ToString(Qualification v);
std::string_view ToString(DataType v);
std::string_view ToString(TaskState v);
std::string_view ToString(TaskEvent v);
std::string_view ToString(Assertion v);
std::string_view ToString(Temporality v);
std::string_view ToString(Experiencer v);
std::string_view ToString(LabelStatus v);
std::string_view ToString(ReviewDecision v);
std::string_view ToString(GuidelineStatus v);
std::string_view ToString(TaskOrder v);
std::string_view ToString(PrelabelStatus v);
std::string_view ToString(FeedbackKind v);
std::string_view ToString(TaskKind v);
std::string_view ToString(RejectReason v);

// Inverses; kInvalidArgument naming the accepted values when `text` is not one of them.
Result<Role> ParseRole(std::string_view text);
Result<Qualification> ParseQualification(std::string_view text);
Result<DataType> ParseDataType(std::string_view text);
Result<TaskState> ParseTaskState(std::string_view text);
Result<Assertion> ParseAssertion(std::string_view text);
Result<Temporality> ParseTemporality(std::string_view text);
Result<Experiencer> ParseExperiencer(std::string_view text);
Result<LabelStatus> ParseLabelStatus(std::string_view text);
Result<ReviewDecision> ParseReviewDecision(std::string_view text);
Result<GuidelineStatus> ParseGuidelineStatus(std::string_view text);
Result<TaskOrder> ParseTaskOrder(std::string_view text);
Result<PrelabelStatus> ParsePrelabelStatus(std::string_view text);
Result<FeedbackKind> ParseFeedbackKind(std::string_view text);
Result<TaskKind> ParseTaskKind(std::string_view text);
Result<RejectReason> ParseRejectReason(std::string_view text);
// Every reject reason, in the order a reviewer is offered them.
std::vector<RejectReason> AllRejectReasons();

// The task state machine: the state after `event`, or kConflict when `event` is not allowed
// in `from`.
Result<TaskState> TaskTransition(TaskState from, TaskEvent event);

// Validation of user-supplied fields. kInvalidArgument with a message naming the field.
Status ValidateUsername(std::string_view username);
Status ValidateProjectName(std::string_view name);
Status ValidateAnnotation(const Annotation& annotation);
// Model name and version (1..100 characters, no control characters), the label fields as
// ValidateAnnotation, score in [0, 1]. (scores_json is checked where JSON is parsed: app.)
Status ValidatePrelabel(const Prelabel& prelabel);

// The anchoring experiment's arm: true when `user_id` is among the `hidden_share` (0..1) of
// the project's readers who never see pre-labels. Stable for a given share: a hash of
// (project_id, user_id) mapped to [0, 1) is compared with the share.
bool PrelabelHiddenFor(const std::string& project_id, const std::string& user_id, double hidden_share);

// A stable draw in [0, 1) from `parts` (FNV-1a 64 over the parts joined by '\n', then
// SplitMix64): the same for the same parts in every process and on every platform, so a
// sampling decision can be recomputed and audited.
double StableDraw(std::initializer_list<std::string_view> parts);

}  // namespace caliper::core

#pragma once

// The one policy function that decides every permission. Deny by default: a permission is
// granted only by a row of the role table in policy.cpp, and only within the project (and
// data-type scope) of the membership that carries the role.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "caliper/common/status.h"
#include "caliper/core/types.h"

namespace caliper::security {

enum class Permission {
  kNone,            // public route (health checks, sign-in); no principal needed
  kAuthenticated,   // any signed-in user, no project involved (own profile, own tokens)
  kUserManage,      // global: create, list, disable users; revoke sessions
  kProjectCreate,   // global
  kProjectList,     // global: list every project (admin); others see their own
  kProjectRead,     // project: see the project and its members
  kMemberManage,    // project: add or change members
  kItemCreate,      // project: add items
  kItemList,        // project: list items (annotators: only assigned ones)
  kTaskAssign,      // project/item: assign items to readers, create tasks, workflow settings
  kTaskClaim,       // project: claim the next task from the pool (readers)
  kGuidelineEdit,   // project: write and publish guideline versions
  kPrelabelWrite,   // project: upload model pre-labels, run a model back-end, see model statistics
  kItemRead,        // item: read metadata and content (annotators: only when assigned)
  kAnnotationRead,  // item: read labels (annotators: only their own — blinding)
  kAnnotationWrite, // item: create and edit own labels
  kReview,          // item: accept, correct, reject, escalate
  kAdjudicate,      // item: decide disagreements
  kAuditRead,       // project: read the project's audit events; global for admins
  kAuditVerify,     // global: verify and export the whole chain
  kTokenCreate,     // project: make an API token for this project
  kExportRequest,   // project
  kExportApprove,   // project
  kReidentify,      // project: see re-identification links (data steward only)
  kQualityRead,     // project: quality indicators, reviewer analytics, QA findings (they
                    // summarise every reader's labels, so annotators never hold it)
  kGuidelineFeedback,  // item: note where the guideline did not fit an item (reviewers, adjudicators)
  kQuarantineReview,   // project: see quarantined DICOM pixels and release, blank or discard them
                       // (data stewards only)
};

std::string_view ToString(Permission p);
Result<Permission> ParsePermission(std::string_view text);
// Every permission, in enum order (the RBAC tests iterate over it).
const std::vector<Permission>& AllPermissions();
// True for permissions decided within one project (a membership is needed).
bool IsProjectScoped(Permission p);

// Who is asking, after authentication.
struct Principal {
  core::User user;
  std::string session_id;                  // "" when authenticated by API token
  std::string token_id;                    // "" when authenticated by session
  std::string token_project_id;            // the one project an API token reaches
  std::vector<std::string> token_permissions;
  std::string token_item_id;               // "" = the token reaches every item of its project
  bool touch_due = false;                  // the session's last_seen should be refreshed
  bool via_token() const { return !token_id.empty(); }
};

// What the request touches, resolved before the decision.
struct AccessTarget {
  std::string project_id;                   // "" for global routes
  const core::Membership* membership = nullptr;  // the principal's, in project_id; may be null
  std::optional<core::DataType> data_type;  // set for item routes
  std::string item_id;                      // set for item routes
  bool assigned = false;                    // the item is assigned to the principal
};

enum class DenyReason { kNone, kNoRole, kOutOfScope, kNotAssigned, kTokenLimit, kDisabled };

struct Decision {
  bool allowed = false;
  DenyReason reason = DenyReason::kNoRole;
};

// Decides whether `principal` may use `permission` on `target`. Pure; thread-safe.
// Rules, in order: disabled users get nothing; kNone is always allowed; kAuthenticated needs
// a principal; an API token grants at most its listed permissions in its one project (and
// nothing that is not project-scoped, not even kAuthenticated; an item-scoped token only on
// its item's routes); global
// admins hold every global permission and kProjectRead/kMemberManage/kAuditRead in every
// project but no data access unless they also hold a project role; otherwise the
// membership's roles must grant it (role table), the item's data type must be in the
// membership's scopes, and annotators must be assigned to the item.
Decision Decide(const Principal& principal, Permission permission, const AccessTarget& target);

// The roles that grant `permission` inside a project (for documentation and tests).
std::vector<core::Role> RolesGranting(Permission permission);

}  // namespace caliper::security

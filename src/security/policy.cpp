#include "caliper/security/policy.h"

#include <algorithm>
#include <array>

#include "caliper/core/rules.h"

namespace caliper::security {
namespace {

using core::Role;

struct PermissionRow {
  Permission permission;
  std::string_view name;
  bool project_scoped;
  bool needs_item_scope;      // the item's data type must be in the membership's scopes
  bool annotator_needs_assignment;
  bool admin_without_role;    // global admins hold it in every project
  std::vector<Role> roles;    // project roles that grant it
};

// The role table: the only place a permission is granted.
const std::vector<PermissionRow>& Table() {
  static const std::vector<PermissionRow> kTable = {
      {Permission::kNone, "none", false, false, false, true, {}},
      {Permission::kAuthenticated, "authenticated", false, false, false, true, {}},
      {Permission::kUserManage, "user_manage", false, false, false, true, {}},
      {Permission::kProjectCreate, "project_create", false, false, false, true, {}},
      {Permission::kProjectList, "project_list", false, false, false, true, {}},
      {Permission::kProjectRead, "project_read", true, false, false, true,
       {Role::kManager, Role::kAnnotator, Role::kReviewer, Role::kAdjudicator, Role::kAuditor,
        Role::kDataSteward}},
      {Permission::kMemberManage, "member_manage", true, false, false, true, {Role::kManager}},
      {Permission::kItemCreate, "item_create", true, false, false, false,
       {Role::kManager, Role::kDataSteward}},
      {Permission::kItemList, "item_list", true, false, false, false,
       {Role::kManager, Role::kAnnotator, Role::kReviewer, Role::kAdjudicator, Role::kDataSteward}},
      {Permission::kTaskAssign, "task_assign", true, false, false, false, {Role::kManager}},
      {Permission::kTaskClaim, "task_claim", true, false, false, false, {Role::kAnnotator}},
      {Permission::kGuidelineEdit, "guideline_edit", true, false, false, false, {Role::kManager}},
      {Permission::kPrelabelWrite, "prelabel_write", true, false, false, false, {Role::kManager}},
      {Permission::kItemRead, "item_read", true, true, true, false,
       {Role::kManager, Role::kAnnotator, Role::kReviewer, Role::kAdjudicator, Role::kDataSteward}},
      {Permission::kAnnotationRead, "annotation_read", true, true, true, false,
       {Role::kManager, Role::kAnnotator, Role::kReviewer, Role::kAdjudicator}},
      {Permission::kAnnotationWrite, "annotation_write", true, true, true, false, {Role::kAnnotator}},
      {Permission::kReview, "review", true, true, false, false, {Role::kReviewer}},
      {Permission::kAdjudicate, "adjudicate", true, true, false, false, {Role::kAdjudicator}},
      {Permission::kAuditRead, "audit_read", true, false, false, true, {Role::kAuditor}},
      {Permission::kAuditVerify, "audit_verify", false, false, false, true, {}},
      {Permission::kTokenCreate, "token_create", true, false, false, false,
       {Role::kManager, Role::kAnnotator, Role::kReviewer, Role::kAdjudicator}},
      {Permission::kExportRequest, "export_request", true, false, false, false, {Role::kManager}},
      {Permission::kExportApprove, "export_approve", true, false, false, false,
       {Role::kManager, Role::kDataSteward}},
      {Permission::kReidentify, "reidentify", true, false, false, false, {Role::kDataSteward}},
      {Permission::kQualityRead, "quality_read", true, false, false, true,
       {Role::kManager, Role::kReviewer, Role::kAdjudicator, Role::kAuditor}},
      {Permission::kGuidelineFeedback, "guideline_feedback", true, true, false, false,
       {Role::kReviewer, Role::kAdjudicator}},
      {Permission::kQuarantineReview, "quarantine_review", true, false, false, false, {Role::kDataSteward}},
  };
  return kTable;
}

const PermissionRow& RowOf(Permission p) {
  for (const auto& row : Table()) {
    if (row.permission == p) return row;
  }
  return Table().front();  // unreachable: every enumerator has a row (tested)
}

bool Has(const std::vector<Role>& roles, Role r) {
  return std::find(roles.begin(), roles.end(), r) != roles.end();
}

}  // namespace

std::string_view ToString(Permission p) { return RowOf(p).name; }

Result<Permission> ParsePermission(std::string_view text) {
  for (const auto& row : Table()) {
    if (row.name == text && row.project_scoped) return row.permission;
  }
  return Error(ErrorCode::kInvalidArgument,
               "'" + std::string(text) + "' is not a project permission");
}

const std::vector<Permission>& AllPermissions() {
  static const std::vector<Permission> kAll = [] {
    std::vector<Permission> all;
    for (const auto& row : Table()) all.push_back(row.permission);
    return all;
  }();
  return kAll;
}

bool IsProjectScoped(Permission p) { return RowOf(p).project_scoped; }

std::vector<core::Role> RolesGranting(Permission p) { return RowOf(p).roles; }

Decision Decide(const Principal& principal, Permission permission, const AccessTarget& target) {
  const PermissionRow& row = RowOf(permission);
  if (permission == Permission::kNone) return {true, DenyReason::kNone};
  if (principal.user.id.empty() || principal.user.disabled) return {false, DenyReason::kDisabled};
  if (principal.via_token()) {
    // A token reaches one project and only the permissions it lists.
    bool listed = std::find(principal.token_permissions.begin(), principal.token_permissions.end(),
                            row.name) != principal.token_permissions.end();
    // That excludes the signed-in user's own pages (password, tokens): a token never acts
    // as the person.
    if (!row.project_scoped || !listed || target.project_id != principal.token_project_id) {
      return {false, DenyReason::kTokenLimit};
    }
    if (!principal.token_item_id.empty() && target.item_id != principal.token_item_id) {
      return {false, DenyReason::kTokenLimit};
    }
  }
  if (permission == Permission::kAuthenticated) return {true, DenyReason::kNone};
  if (!row.project_scoped) {
    return principal.user.is_admin ? Decision{true, DenyReason::kNone}
                                   : Decision{false, DenyReason::kNoRole};
  }
  if (principal.user.is_admin && row.admin_without_role && !principal.via_token()) {
    return {true, DenyReason::kNone};
  }
  const core::Membership* m = target.membership;
  if (m == nullptr || m->project_id != target.project_id) return {false, DenyReason::kNoRole};
  bool granted = false;
  bool only_as_annotator = true;
  for (Role r : m->roles) {
    if (Has(row.roles, r)) {
      granted = true;
      if (r != Role::kAnnotator) only_as_annotator = false;
    }
  }
  if (!granted) return {false, DenyReason::kNoRole};
  if (row.needs_item_scope) {
    if (!target.data_type ||
        std::find(m->scopes.begin(), m->scopes.end(), *target.data_type) == m->scopes.end()) {
      return {false, DenyReason::kOutOfScope};
    }
  }
  if (row.annotator_needs_assignment && only_as_annotator && target.data_type && !target.assigned) {
    return {false, DenyReason::kNotAssigned};
  }
  return {true, DenyReason::kNone};
}

}  // namespace caliper::security

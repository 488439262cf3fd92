#include "caliper/security/policy.h"

#include <gtest/gtest.h>

#include <set>

#include "caliper/core/rules.h"

namespace caliper::security {
namespace {

using core::DataType;
using core::Role;

Principal UserWith(bool admin = false) {
  Principal p;
  p.user.id = "usr_1";
  p.user.username = "someone";
  p.user.is_admin = admin;
  return p;
}

core::Membership Member(std::vector<Role> roles, std::vector<DataType> scopes = {DataType::kImaging}) {
  core::Membership m;
  m.project_id = "prj_1";
  m.user_id = "usr_1";
  m.roles = std::move(roles);
  m.scopes = std::move(scopes);
  return m;
}

AccessTarget In(const core::Membership* m, std::optional<DataType> type = std::nullopt, bool assigned = false) {
  AccessTarget t;
  t.project_id = "prj_1";
  t.membership = m;
  t.data_type = type;
  t.assigned = assigned;
  return t;
}

TEST(PolicyTest, EveryPermissionHasAUniqueName) {
  std::set<std::string_view> names;
  for (Permission p : AllPermissions()) EXPECT_TRUE(names.insert(ToString(p)).second) << ToString(p);
  EXPECT_EQ(names.size(), static_cast<std::size_t>(Permission::kQuarantineReview) + 1);
}

TEST(PolicyTest, DenyByDefaultWithoutMembership) {
  Principal p = UserWith();
  for (Permission perm : AllPermissions()) {
    if (perm == Permission::kNone || perm == Permission::kAuthenticated) continue;
    EXPECT_FALSE(Decide(p, perm, In(nullptr, DataType::kImaging, true)).allowed) << ToString(perm);
  }
}

TEST(PolicyTest, AnnotatorReachesOnlyAssignedItemsInScope) {
  Principal p = UserWith();
  auto m = Member({Role::kAnnotator});
  EXPECT_TRUE(Decide(p, Permission::kItemRead, In(&m, DataType::kImaging, true)).allowed);
  Decision unassigned = Decide(p, Permission::kItemRead, In(&m, DataType::kImaging, false));
  EXPECT_FALSE(unassigned.allowed);
  EXPECT_EQ(unassigned.reason, DenyReason::kNotAssigned);
  Decision out_of_scope = Decide(p, Permission::kItemRead, In(&m, DataType::kNotes, true));
  EXPECT_FALSE(out_of_scope.allowed);
  EXPECT_EQ(out_of_scope.reason, DenyReason::kOutOfScope);
  EXPECT_FALSE(Decide(p, Permission::kItemCreate, In(&m)).allowed);
  EXPECT_FALSE(Decide(p, Permission::kReidentify, In(&m)).allowed);
}

TEST(PolicyTest, OnlyDataStewardsReidentify) {
  Principal p = UserWith();
  for (Role r : {Role::kManager, Role::kAnnotator, Role::kReviewer, Role::kAdjudicator, Role::kAuditor}) {
    auto m = Member({r});
    EXPECT_FALSE(Decide(p, Permission::kReidentify, In(&m)).allowed) << core::ToString(r);
  }
  auto steward = Member({Role::kDataSteward});
  EXPECT_TRUE(Decide(p, Permission::kReidentify, In(&steward)).allowed);
  EXPECT_FALSE(Decide(UserWith(true), Permission::kReidentify, In(nullptr)).allowed) << "not even an admin";
}

TEST(PolicyTest, MembershipOfAnotherProjectGrantsNothing) {
  Principal p = UserWith();
  auto m = Member({Role::kManager});
  m.project_id = "prj_2";
  EXPECT_FALSE(Decide(p, Permission::kProjectRead, In(&m)).allowed);
}

TEST(PolicyTest, AdminsManageButDoNotReadDataWithoutARole) {
  Principal admin = UserWith(true);
  EXPECT_TRUE(Decide(admin, Permission::kUserManage, {}).allowed);
  EXPECT_TRUE(Decide(admin, Permission::kProjectRead, In(nullptr)).allowed);
  EXPECT_TRUE(Decide(admin, Permission::kMemberManage, In(nullptr)).allowed);
  EXPECT_FALSE(Decide(admin, Permission::kItemRead, In(nullptr, DataType::kImaging, true)).allowed);
  EXPECT_FALSE(Decide(UserWith(false), Permission::kUserManage, {}).allowed);
}

TEST(PolicyTest, TokensAreLimitedToTheirProjectAndPermissions) {
  Principal p = UserWith();
  p.token_id = "tok_1";
  p.token_project_id = "prj_1";
  p.token_permissions = {"item_list"};
  auto m = Member({Role::kManager});
  EXPECT_TRUE(Decide(p, Permission::kItemList, In(&m)).allowed);
  EXPECT_FALSE(Decide(p, Permission::kItemCreate, In(&m)).allowed) << "not listed on the token";
  AccessTarget other = In(&m);
  other.project_id = "prj_2";
  m.project_id = "prj_2";
  EXPECT_FALSE(Decide(p, Permission::kItemList, other).allowed) << "another project";
  Principal admin_token = p;
  admin_token.user.is_admin = true;
  EXPECT_FALSE(Decide(admin_token, Permission::kUserManage, {}).allowed) << "tokens never act globally";
  EXPECT_FALSE(Decide(p, Permission::kAuthenticated, {}).allowed)
      << "nor as the signed-in person (own password, own tokens)";
}

TEST(PolicyTest, DisabledUsersGetNothing) {
  Principal p = UserWith(true);
  p.user.disabled = true;
  EXPECT_FALSE(Decide(p, Permission::kAuthenticated, {}).allowed);
  EXPECT_FALSE(Decide(p, Permission::kUserManage, {}).allowed);
}

}  // namespace
}  // namespace caliper::security

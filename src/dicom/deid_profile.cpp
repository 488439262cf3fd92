#include "dicom/deid_profile.h"

#include <algorithm>
#include <string_view>
#include <unordered_map>

namespace caliper::dicom::profile {
namespace {

#include "dicom/deid_profile_table.inc"

struct Index {
  std::unordered_map<std::uint32_t, const ProfileRow*> exact;
  std::vector<const ProfileRow*> masked;
  Index() {
    for (const ProfileRow& row : kProfileRows) {
      if (row.group_mask == 0xFFFF && row.element_mask == 0xFFFF) {
        exact.emplace((std::uint32_t{row.group} << 16) | row.element, &row);
      } else {
        masked.push_back(&row);
      }
    }
  }
};

const Index& TheIndex() {
  static const Index index;
  return index;
}

Action FromCode(char code) {
  switch (code) {
    case 'D': return Action::kDummy;
    case 'Z': return Action::kZero;
    case 'U': return Action::kUid;
    case 'K': return Action::kKeep;
    case 'C': return Action::kClean;
    default: return Action::kRemove;
  }
}

}  // namespace

std::span<const ProfileRow> Rows() { return kProfileRows; }
const char* Edition() { return kProfileEdition; }

const ProfileRow* Find(std::uint16_t group, std::uint16_t element) {
  const Index& index = TheIndex();
  if (auto it = index.exact.find((std::uint32_t{group} << 16) | element); it != index.exact.end()) {
    return it->second;
  }
  for (const ProfileRow* row : index.masked) {
    if ((group & row->group_mask) == row->group && (element & row->element_mask) == row->element) {
      return row;
    }
  }
  return nullptr;
}

Action Resolve(const ProfileRow& row, const DeidOptions& options) {
  auto cell = [&](Column c) { return row.options[static_cast<int>(c)]; };
  bool any_keep = false, any_clean = false;
  auto consider = [&](bool enabled, Column c) {
    if (!enabled) return;
    any_keep |= cell(c) == 'K';
    any_clean |= cell(c) == 'C';
  };
  if (options.retain_modified_dates && cell(Column::kModifiedDates) == 'C') return Action::kClean;
  consider(options.retain_device_identity, Column::kDeviceIdentity);
  consider(options.retain_patient_characteristics, Column::kPatientCharacteristics);
  consider(options.clean_descriptors, Column::kCleanDescriptors);
  if (any_keep) return Action::kKeep;
  if (any_clean) return Action::kClean;

  const std::string_view basic = row.basic;
  if (basic == "X/Z/U*") return row.in_std_iod ? Action::kUid : Action::kRemove;
  if (basic.size() > 1 && row.in_std_iod && basic[0] == 'X') return FromCode(basic[2]);
  return FromCode(basic[0]);
}

}  // namespace caliper::dicom::profile

#pragma once

// Helpers the workflow use cases share (workflow.cpp, prelabels.cpp, ...). Internal to app.

#include <algorithm>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "caliper/common/status.h"
#include "caliper/core/label_schema.h"
#include "caliper/core/rules.h"
#include "caliper/core/types.h"
#include "caliper/quality/qa_rules.h"
#include "caliper/storage/store.h"

namespace caliper::app::internal {

template <typename T>
bool Contains(const std::vector<T>& values, const T& v) {
  return std::find(values.begin(), values.end(), v) != values.end();
}

// A task whose reading counts: submitted and not sent back to its reader.
inline bool IsReading(core::TaskState s) {
  return s != core::TaskState::kOpen && s != core::TaskState::kClaimed && s != core::TaskState::kRejected;
}

// Items of these types get repeat reads: their readings are labels made in a task. Slides and
// waveforms are read as per-reader markup documents (regions, intervals) that a second
// reading would replace, so they get none.
inline bool RepeatableType(core::DataType t) {
  return t == core::DataType::kImaging || t == core::DataType::kNotes || t == core::DataType::kLabs;
}

// The reader's repeat read of the item while it is in progress (claimed): then their labels,
// pre-label decisions and masks go to it, and they see none of their first reading's.
inline Result<std::optional<core::Task>> RepeatInProgress(storage::Transaction& txn, const std::string& item_id,
                                                          const std::string& user_id) {
  auto repeat = txn.GetRepeatTask(item_id, user_id);
  if (repeat.ok()) {
    if (repeat->state != core::TaskState::kClaimed) return std::optional<core::Task>();
    return std::optional<core::Task>(std::move(*repeat));
  }
  if (repeat.status().code() == ErrorCode::kNotFound) return std::optional<core::Task>();
  return repeat.status();
}

// One submitted reading of the project, as the classes it names (assertion not 'absent').
struct ClassReading {
  std::string item_id;
  std::string reader;
  std::set<std::string> classes;
};

// Every submitted reading of the item's project, the item's own first (PresencePosterior
// expects its item first).
Result<std::vector<ClassReading>> ProjectReadings(storage::Transaction& txn, const core::Item& first);

// Reads and decrypts one blob (App::GetBlob on the caller's transaction).
using BlobReader = std::function<Result<std::string>(const std::string& address)>;

// The item-level QA rule findings of `item` as the store in `txn` has it (quality.cpp): the
// label rules and the mask rules over the stored masks its readings name, without the CT
// intensities (mask.outside_body runs in the sweep only; docs/quality.md).
Result<std::vector<quality::QaFinding>> ItemQaFindings(storage::Transaction& txn, const core::Item& item,
                                                       const BlobReader& read_blob);

// kInvalidArgument naming `where` + the first field of `object` not in `allowed`, or a
// required one missing.
inline Status CheckFields(const nlohmann::json& object, const std::string& where,
                          std::initializer_list<const char*> allowed, std::initializer_list<const char*> required) {
  if (!object.is_object()) return Error(ErrorCode::kInvalidArgument, where + " must be an object");
  for (const auto& [key, value] : object.items()) {
    bool known = false;
    for (const char* a : allowed) known = known || key == a;
    if (!known) return Error(ErrorCode::kInvalidArgument, "unknown field '" + where + key + "'");
  }
  for (const char* r : required) {
    if (!object.contains(r)) return Error(ErrorCode::kInvalidArgument, "missing field '" + where + r + "'");
  }
  return Status::Ok();
}

// The string field `name` of `object` ("" when absent); kInvalidArgument naming it when it is
// not a string.
inline Result<std::string> StringField(const nlohmann::json& object, const char* name, const std::string& where) {
  if (!object.contains(name)) return std::string();
  if (!object[name].is_string()) {
    return Error(ErrorCode::kInvalidArgument, "field '" + where + name + "' must be a string");
  }
  return object[name].get<std::string>();
}

// kInvalidArgument naming the first workflow setting out of range (PUT workflow, project files).
Status ValidateWorkflowSettings(const core::WorkflowSettings& settings);

// The readings an item needs: the project's k, raised by every class the readings' labels name
// (assertion not 'absent') that asks for more readers (LabelClass::readers); `why` is set to
// the class that raised it last (left as it is when none did).
int ReadersNeeded(const core::WorkflowSettings& settings, const core::LabelSchema& schema,
                  const std::vector<core::Annotation>& reading_labels, std::string& why);

// The share of readings with these labels that are reviewed: the largest rate of the classes
// they name (a class's review_rate, else 1 for a specialist class — one with a required
// qualification —, else the project's review_rate), or the project's when they name none.
double ReviewRateOf(const core::WorkflowSettings& settings, const core::LabelSchema& schema,
                    const std::vector<core::Annotation>& labels);

// kInvalidArgument unless the de-identification mode and clinician names are usable.
Status ValidateTextSettings(const core::TextSettings& settings);

// What a guideline version's audit events record about it.
inline nlohmann::json GuidelineDetails(const core::GuidelineVersion& g) {
  return nlohmann::json{{"project_id", g.project_id}, {"version", g.version}, {"revision", g.revision},
                        {"based_on", g.based_on}};
}

// The project's current published guideline version, or kConflict "the project has no published
// guideline yet; <why>" when it has none.
inline Result<core::GuidelineVersion> PublishedGuideline(storage::Transaction& txn, const std::string& project_id,
                                                         const std::string& why) {
  auto current = txn.GetCurrentGuideline(project_id);
  if (current.ok() || current.status().code() != ErrorCode::kNotFound) return current;
  return Error(ErrorCode::kConflict, "the project has no published guideline yet; " + why);
}

// kPermissionDenied unless `user` holds the qualification `cls` requires (none: anyone may);
// `act` names what they were doing ("labelling", "reviewing", "adjudicating").
inline Status NeedsQualification(const core::User& user, const core::LabelClass& cls, const std::string& act) {
  if (!cls.required_qualification || Contains(user.qualifications, *cls.required_qualification)) return Status::Ok();
  return Error(ErrorCode::kPermissionDenied, act + " class '" + cls.id + "' needs the " +
                                                 std::string(core::ToString(*cls.required_qualification)) +
                                                 " qualification");
}

// Every row of a paged listing: `list(page)` is called until it returns no next cursor.
template <typename T, typename List>
Result<std::vector<T>> AllPages(List list) {
  std::vector<T> out;
  storage::PageRequest page;
  page.limit = 500;
  for (;;) {
    CALIPER_ASSIGN_OR_RETURN(storage::Page<T> rows, list(page));
    for (auto& r : rows.rows) out.push_back(std::move(r));
    if (rows.next.empty()) return out;
    page.after = rows.next;
  }
}

// One page of a listing filtered by `keep`, as the caller may see it: raw pages are read until
// `request.limit` rows are kept and one more kept row shows there is more. `next` names the
// last row kept, so a cursor never names a row the caller may not see (and a page is never
// short or empty while kept rows remain).
template <typename T, typename List, typename Keep>
Result<storage::Page<T>> FilteredPage(const storage::PageRequest& request, List list, Keep keep) {
  storage::Page<T> out;
  const auto limit = static_cast<std::size_t>(std::clamp(request.limit, 1, 500));
  storage::PageRequest raw{request.after, static_cast<int>(limit)};
  for (;;) {
    CALIPER_ASSIGN_OR_RETURN(storage::Page<T> rows, list(raw));
    for (auto& r : rows.rows) {
      if (!keep(r)) continue;
      if (out.rows.size() == limit) {
        out.next = out.rows.back().id;
        return out;
      }
      out.rows.push_back(std::move(r));
    }
    if (rows.next.empty()) return out;
    raw.after = rows.next;
  }
}

// Every annotation of an item (all pages).
inline Result<std::vector<core::Annotation>> AllAnnotations(storage::Transaction& txn, const std::string& item_id) {
  return AllPages<core::Annotation>([&](const storage::PageRequest& page) { return txn.ListAnnotations(item_id, page); });
}

// The reader's own labels in their task (a reviewer's correction keeps the task id but not
// the author).
inline std::vector<core::Annotation> ReaderLabels(const core::Task& task, const std::vector<core::Annotation>& labels) {
  std::vector<core::Annotation> out;
  for (const auto& a : labels) {
    if (a.task_id == task.id && a.author == task.assignee) out.push_back(a);
  }
  return out;
}

}  // namespace caliper::app::internal

// Dataset exports (docs/export.md): request -> approval by another user -> an immutable,
// encrypted snapshot -> one-time download tokens or a write to an admin-approved directory.
// Every step is audited in the transaction that makes it.

#include <algorithm>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "caliper/app/app.h"
#include "caliper/common/log.h"
#include "caliper/core/rules.h"
#include "caliper/exports/snapshot.h"
#include "caliper/security/crypto.h"
#include "app/heartbeat.h"
#include "app/ingest_internal.h"
#include "app/workflow_internal.h"

namespace caliper::app {
namespace {

using nlohmann::json;
using storage::TxnMode;

constexpr const char* kCaliperVersion = "0.3.0";

// Parses and checks the request's settings; the canonical form is what is stored.
Result<json> ParseSpec(const std::string& text) {
  json spec = json::parse(text.empty() ? "{}" : text, nullptr, false);
  if (!spec.is_object()) return Error(ErrorCode::kInvalidArgument, "the export spec must be a JSON object");
  json out = json::object();
  const json splits = spec.value("splits", json::object());
  const json subgroups = spec.value("subgroups", json::object());
  if (!splits.is_object() || !subgroups.is_object()) {
    return Error(ErrorCode::kInvalidArgument, "splits and subgroups must be objects");
  }
  for (const auto& [k, v] : spec.items()) {
    if (k != "splits" && k != "subgroups") return Error(ErrorCode::kUnknownField, "unknown field '" + k + "'");
  }
  const double train = splits.value("train", 0.7), validation = splits.value("validation", 0.15),
               test = splits.value("test", 0.15);
  if (train < 0 || validation < 0 || test < 0 || std::abs(train + validation + test - 1) > 1e-9) {
    return Error(ErrorCode::kInvalidArgument, "splits.train, validation and test must be >= 0 and sum to 1");
  }
  const json stratify = splits.value("stratify_by", json::array());
  if (!stratify.is_array()) return Error(ErrorCode::kInvalidArgument, "splits.stratify_by must be an array of names");
  for (const auto& s : stratify) {
    if (!s.is_string()) return Error(ErrorCode::kInvalidArgument, "splits.stratify_by must be an array of names");
  }
  const double min_share = subgroups.value("min_share", 0.05), margin = subgroups.value("agreement_margin", 0.1);
  if (min_share < 0 || min_share > 1 || margin < 0 || margin > 2) {
    return Error(ErrorCode::kInvalidArgument, "subgroups.min_share must be in [0, 1] and agreement_margin in [0, 2]");
  }
  out["splits"] = {{"train", train}, {"validation", validation}, {"test", test},
                   {"seed", splits.value("seed", std::uint64_t{1})}, {"stratify_by", stratify}};
  out["subgroups"] = {{"min_share", min_share}, {"agreement_margin", margin}};
  return out;
}

// Pseudonyms per role within one export: user ids sorted, numbered from 01.
class Pseudonyms {
 public:
  std::string Of(const std::string& role, const std::string& user_id) {
    auto& ids = ids_[role];
    auto it = std::find(ids.begin(), ids.end(), user_id);
    if (it == ids.end()) return role + "-?";
    char buffer[16];
    std::snprintf(buffer, sizeof buffer, "%02d", static_cast<int>(it - ids.begin()) + 1);
    return role + "-" + buffer;
  }
  void Add(const std::string& role, const std::string& user_id) {
    auto& ids = ids_[role];
    if (std::find(ids.begin(), ids.end(), user_id) == ids.end()) ids.push_back(user_id);
  }
  void Sort() {
    for (auto& [role, ids] : ids_) std::sort(ids.begin(), ids.end());
  }

 private:
  std::map<std::string, std::vector<std::string>> ids_;
};

bool Submitted(core::TaskState s) { return s != core::TaskState::kOpen && s != core::TaskState::kClaimed; }

// Export `export_id` when it belongs to `project_id`: another project's export is not there (404).
Result<storage::DatasetExport> ExportIn(storage::Transaction& txn, const std::string& project_id,
                                        const std::string& export_id) {
  auto found = txn.GetExport(export_id);
  if (!found.ok() || found->project_id != project_id) {
    return Error(ErrorCode::kNotFound, "no export " + export_id + " in this project");
  }
  return found;
}

// As ExportIn, and built (409 otherwise): what tokens, downloads and writes need.
Result<storage::DatasetExport> BuiltExportIn(storage::Transaction& txn, const std::string& project_id,
                                             const std::string& export_id) {
  CALIPER_ASSIGN_OR_RETURN(storage::DatasetExport e, ExportIn(txn, project_id, export_id));
  if (e.status != "built") return Error(ErrorCode::kConflict, "export " + export_id + " is " + e.status + ", not built");
  return e;
}

}  // namespace

Result<storage::DatasetExport> App::RequestExport(const RequestContext& ctx, const std::string& project_id,
                                                  const std::string& reason, const std::string& spec_json) {
  if (reason.empty() || reason.size() > 2000) return Error(ErrorCode::kInvalidArgument, "reason must be 1 to 2000 characters");
  CALIPER_ASSIGN_OR_RETURN(json spec, ParseSpec(spec_json));
  storage::DatasetExport e;
  e.id = ids_.NewId("exp");
  e.project_id = project_id;
  e.reason = reason;
  e.spec_json = spec.dump();
  e.requested_by = ctx.principal.user.id;
  e.requested_at = clock_.Now();
  CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kWrite));
  CALIPER_RETURN_IF_ERROR(txn->GetProject(project_id).status());
  CALIPER_ASSIGN_OR_RETURN(e.version, txn->NextExportVersion(project_id));
  CALIPER_RETURN_IF_ERROR(txn->InsertExport(e));
  CALIPER_RETURN_IF_ERROR(CommitWithAudit(
      *txn, Record(ctx, "export.request", "export", e.id,
                   json{{"project_id", project_id}, {"version", e.version}, {"spec", spec}}.dump())));
  return e;
}

Result<storage::Page<storage::DatasetExport>> App::ListExports(const RequestContext& ctx, const std::string& project_id,
                                                               const storage::PageRequest& page) {
  (void)ctx;
  CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kRead));
  return txn->ListExports(project_id, page);
}

Result<storage::DatasetExport> App::GetExport(const RequestContext& ctx, const std::string& project_id,
                                              const std::string& export_id) {
  (void)ctx;
  CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kRead));
  return ExportIn(*txn, project_id, export_id);
}

Result<storage::DatasetExport> App::ExportToDecide(storage::Transaction& txn, const RequestContext& ctx,
                                                   const std::string& project_id, const std::string& export_id,
                                                   const std::string& action, const std::string& verb) {
  CALIPER_ASSIGN_OR_RETURN(storage::DatasetExport e, ExportIn(txn, project_id, export_id));
  if (e.requested_by != ctx.principal.user.id) return e;
  const std::string why = "the requester of an export cannot " + verb + " it (two-person rule)";
  auto refused = Record(ctx, action, "export", e.id, json{{"refused", why}}.dump());
  refused.outcome = "denied";
  CALIPER_RETURN_IF_ERROR(CommitWithAudit(txn, refused));
  return Error(ErrorCode::kPermissionDenied, why);
}

Result<storage::DatasetExport> App::DecideExport(const RequestContext& ctx, const std::string& project_id,
                                                 const std::string& export_id, bool approve, const std::string& note) {
  storage::DatasetExport e;
  security::KeyManager::DataKeyRef key_ref;
  {
    CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kWrite));
    CALIPER_ASSIGN_OR_RETURN(e, ExportToDecide(*txn, ctx, project_id, export_id, approve ? "export.approve" : "export.deny",
                                               "approve or deny"));
    if (e.status != "requested") {
      return Error(ErrorCode::kConflict, "export " + e.id + " is already " + e.status);
    }
    const std::int64_t revision = e.revision;
    e.status = approve ? "approved" : "denied";
    e.decided_by = ctx.principal.user.id;
    e.decided_at = clock_.Now();
    e.decision_note = note;
    if (approve) e.build_started_at = e.decided_at;
    e.revision = revision + 1;
    CALIPER_RETURN_IF_ERROR(txn->UpdateExport(e, revision));
    // The snapshot's data key is made with the approval (a key is a write).
    if (approve) {
      CALIPER_ASSIGN_OR_RETURN(key_ref, key_manager_.DataKeyFor(*txn, project_id, "export:" + e.id));
    }
    CALIPER_RETURN_IF_ERROR(CommitWithAudit(*txn, Record(ctx, approve ? "export.approve" : "export.deny", "export",
                                                         e.id, json{{"note", note}}.dump())));
  }
  if (!approve) return e;
  return BuildExport(ctx, std::move(e), std::move(key_ref));
}

Result<storage::DatasetExport> App::RebuildExport(const RequestContext& ctx, const std::string& project_id,
                                                  const std::string& export_id) {
  CALIPER_ASSIGN_OR_RETURN(std::int64_t lease_minutes, config_.GetInt("export.build_lease_minutes"));
  storage::DatasetExport e;
  security::KeyManager::DataKeyRef key_ref;
  {
    CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kWrite));
    CALIPER_ASSIGN_OR_RETURN(e, ExportToDecide(*txn, ctx, project_id, export_id, "export.rebuild", "rebuild"));
    const TimeMicros now = clock_.Now();
    // A build still `approved` past its lease was cut off (the process stopped mid-build): a
    // running build renews the lease every fifth of it.
    const TimeMicros lease_from = std::max(e.build_started_at.value_or(now), e.build_renewed_at.value_or(0));
    const bool cut_off = e.status == "approved" && now - lease_from > lease_minutes * kMicrosPerMinute;
    if (e.status != "failed" && !cut_off) {
      std::string why = "export " + e.id + " is " + e.status;
      if (e.status == "approved") {
        why += " and its build, started " + FormatRfc3339(e.build_started_at.value_or(now)) +
               (e.build_renewed_at ? " (lease renewed " + FormatRfc3339(*e.build_renewed_at) + ")" : "") +
               ", may still run; it counts as cut off " + std::to_string(lease_minutes) +
               " minutes after its lease was last renewed (export.build_lease_minutes)";
      }
      return Error(ErrorCode::kConflict, why + "; only a failed or cut-off build is built again");
    }
    json details{{"previous_status", e.status}, {"previous_error", e.error}};
    if (cut_off) {
      details["build_started_at"] = FormatRfc3339(*e.build_started_at);
      if (e.build_renewed_at) details["build_renewed_at"] = FormatRfc3339(*e.build_renewed_at);
    }
    const std::int64_t revision = e.revision;
    e.status = "approved";
    e.error.clear();
    e.build_started_at = now;
    e.build_renewed_at.reset();
    e.revision = revision + 1;
    CALIPER_RETURN_IF_ERROR(txn->UpdateExport(e, revision));
    CALIPER_ASSIGN_OR_RETURN(key_ref, key_manager_.DataKeyFor(*txn, project_id, "export:" + e.id));
    CALIPER_RETURN_IF_ERROR(CommitWithAudit(*txn, Record(ctx, "export.rebuild", "export", e.id, details.dump())));
  }
  return BuildExport(ctx, std::move(e), std::move(key_ref));
}

Result<storage::DatasetExport> App::BuildExport(const RequestContext& ctx, storage::DatasetExport e,
                                                security::KeyManager::DataKeyRef key_ref) {
  const std::string project_id = e.project_id;
  // The lease: renewed while this build runs, so that nobody takes it for cut off. A renewal
  // finding the export changed (someone rebuilt it meanwhile) stops renewing; this build then
  // learns it when it records its result.
  CALIPER_ASSIGN_OR_RETURN(std::int64_t lease_minutes, config_.GetInt("export.build_lease_minutes"));
  const std::chrono::milliseconds renew_every =
      export_lease_renewal_.count() > 0
          ? export_lease_renewal_
          : std::max<std::chrono::milliseconds>(std::chrono::seconds(1),
                                                std::chrono::milliseconds(std::chrono::minutes(lease_minutes)) / 5);
  auto renew = [this, &ctx, id = e.id, revision = e.revision]() -> bool {
    Status renewed = [&]() -> Status {
      CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kWrite));
      CALIPER_ASSIGN_OR_RETURN(storage::DatasetExport current, txn->GetExport(id));
      if (current.revision != revision || current.status != "approved") {
        return Error(ErrorCode::kConflict, "export " + id + " changed meanwhile; its lease is no longer this build's");
      }
      current.build_renewed_at = clock_.Now();
      CALIPER_RETURN_IF_ERROR(txn->UpdateExport(current, revision));  // same revision: the build's own
      return CommitWithAudit(*txn, Record(ctx, "export.build_lease", "export", id,
                                          json{{"renewed_at", FormatRfc3339(*current.build_renewed_at)}}.dump()));
    }();
    if (!renewed.ok()) log::Warn("export build lease not renewed: " + renewed.ToString());
    return renewed.ok();
  };
  std::optional<Heartbeat> lease(std::in_place, renew_every, renew);
  // Build the snapshot from one consistent read of the project.
  exports::SnapshotInput input;
  // A failure here (as in the build) leaves the export failed with the error.
  Status gathered = [&]() -> Status {
    CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kRead));
    CALIPER_ASSIGN_OR_RETURN(core::Project project, txn->GetProject(project_id));
    const json spec = json::parse(e.spec_json);
    input.dataset_id = e.id;
    input.version = e.version;
    input.project_id = project.id;
    input.project_name = project.name;
    input.created_at = FormatRfc3339(*e.decided_at);
    input.caliper_version = kCaliperVersion;
    CALIPER_ASSIGN_OR_RETURN(core::DicomSettings dicom_settings, internal::DicomSettingsIn(*txn, project_id));
    input.deidentification_json =
        json{{"patients", "pseudonymous patient keys; no direct identifier is stored"},
             {"notes", "HIPAA Safe Harbor text de-identification before storage (docs/deid-text.md)"},
             {"imaging",
              {{"profile", "DICOM PS3.15 Annex E Basic Application Level Confidentiality Profile (docs/deid-dicom.md)"},
               {"edition", std::string(dicom::ProfileEdition())},
               {"options", dicom_settings.options},
               {"safe_private", dicom_settings.safe_private},
               {"blanking", dicom_settings.blanking},
               {"settings_updated_at", dicom_settings.updated_at == 0 ? json(nullptr)
                                                                : json(FormatRfc3339(dicom_settings.updated_at))},
               {"note", "the project's settings at export time; each instance's De-identification Method (Code "
                        "Sequence) names the options it was stored under"}}},
             {"pathology", "slides re-written as Deep Zoom tiles; only size, mpp, objective power and vendor kept; "
                           "associated images dropped (docs/pathology.md)"}}
            .dump();
    CALIPER_ASSIGN_OR_RETURN(core::User requester, txn->GetUser(e.requested_by));
    CALIPER_ASSIGN_OR_RETURN(core::User approver, txn->GetUser(e.decided_by));
    input.requested_by = requester.display_name.empty() ? requester.username : requester.display_name;
    input.approvers = {approver.display_name.empty() ? approver.username : approver.display_name};
    input.splits.train = spec["splits"]["train"];
    input.splits.validation = spec["splits"]["validation"];
    input.splits.test = spec["splits"]["test"];
    input.splits.seed = spec["splits"]["seed"];
    input.splits.stratify_by = spec["splits"]["stratify_by"].get<std::vector<std::string>>();
    input.subgroups.min_share = spec["subgroups"]["min_share"];
    input.subgroups.agreement_margin = spec["subgroups"]["agreement_margin"];
    if (auto current = txn->GetCurrentGuideline(project_id); current.ok()) {
      CALIPER_ASSIGN_OR_RETURN(auto schema, core::ParseLabelSchema(current->schema_json));
      for (const auto& c : schema.classes) {
        if (c.data_types.empty() || std::find(c.data_types.begin(), c.data_types.end(),
                                              core::DataType::kPathology) != c.data_types.end()) {
          input.region_classes.emplace_back(c.id, c.name);
        }
        if (auto code = core::PrimaryCode(c)) {
          input.code_system_of[c.id] = code->system;
          input.code_of[c.id] = code->code;
        }
      }
    }
    std::map<std::string, int> guideline_numbers;
    {
      storage::PageRequest page{"", 500};
      for (;;) {
        CALIPER_ASSIGN_OR_RETURN(auto rows, txn->ListGuidelineVersions(project_id, page));
        for (const auto& g : rows.rows) {
          if (g.status == core::GuidelineStatus::kPublished) guideline_numbers[g.id] = g.version;
        }
        if (rows.next.empty()) break;
        page.after = rows.next;
      }
    }
    Pseudonyms names;
    std::set<std::string> used_guidelines;
    std::map<std::string, core::User> users;
    storage::PageRequest page{"", 500};
    for (;;) {
      CALIPER_ASSIGN_OR_RETURN(auto rows, txn->ListItems(project_id, page));
      for (auto& item : rows.rows) {
        exports::SnapshotItem it;
        it.item = item;
        CALIPER_ASSIGN_OR_RETURN(auto tasks, txn->ListTasksOfItem(item.id));
        CALIPER_ASSIGN_OR_RETURN(auto annotations, internal::AllAnnotations(*txn, item.id));
        CALIPER_ASSIGN_OR_RETURN(auto adjudications, txn->ListAdjudicationsOfItem(item.id));
        std::set<std::string> final_ids;
        std::string final_mask_author;  // whose mask a final label with mask evidence names
        if (!adjudications.empty()) {
          const auto& latest = *std::max_element(adjudications.begin(), adjudications.end(),
                                                 [](const auto& a, const auto& b) { return a.created_at < b.created_at; });
          final_ids.insert(latest.final_annotation_id);
          it.adjudicator = latest.adjudicator;  // pseudonymised below
          it.adjudication_rationale = latest.rationale;
          names.Add("adjudicator", latest.adjudicator);
          // The adjudicator's own mask, or the one of the reading whose label they chose.
          final_mask_author = latest.adjudicator;
          for (const auto& a : annotations) {
            if (!latest.source_annotation_id.empty() && a.id == latest.source_annotation_id) final_mask_author = a.author;
          }
        }
        for (const auto& a : annotations) {
          if (final_ids.count(a.id)) it.final_labels.push_back(a);
          if (!a.guideline_version_id.empty()) used_guidelines.insert(a.guideline_version_id);
        }
        for (const auto& t : tasks) {
          if (t.assignee.empty() || !Submitted(t.state)) continue;
          exports::SnapshotReading reading;
          reading.reader = t.assignee;  // pseudonymised below
          names.Add("reader", t.assignee);
          if (!users.count(t.assignee)) {
            CALIPER_ASSIGN_OR_RETURN(users[t.assignee], txn->GetUser(t.assignee));
          }
          for (const auto& a : annotations) {
            if (a.task_id == t.id && a.author == t.assignee && !final_ids.count(a.id)) reading.labels.push_back(a);
          }
          CALIPER_ASSIGN_OR_RETURN(reading.reviews, txn->ListReviewsOfTask(t.id));
          it.readings.push_back(std::move(reading));
        }
        if (item.data_type == core::DataType::kImaging) {
          CALIPER_RETURN_IF_ERROR(AddItemMasks(*txn, it, final_mask_author));
        }
        if (item.data_type == core::DataType::kPathology && item.content_type == kSlideContentType) {
          CALIPER_RETURN_IF_ERROR(AddSlideRegions(*txn, it));
          for (const auto& r : it.regions) names.Add("reader", r.reader);
        }
        input.items.push_back(std::move(it));
      }
      if (rows.next.empty()) break;
      page.after = rows.next;
    }
    names.Sort();
    for (auto& it : input.items) {
      if (!it.adjudicator.empty()) it.adjudicator = names.Of("adjudicator", it.adjudicator);
      for (auto& r : it.readings) {
        std::string quals;
        for (auto q : users[r.reader].qualifications) quals += (quals.empty() ? "" : ",") + std::string(core::ToString(q));
        r.qualification = quals;
        r.reader = names.Of("reader", r.reader);
        for (auto& a : r.labels) a.author = r.reader;
      }
      for (auto& a : it.final_labels) a.author = it.adjudicator;
      for (auto& r : it.regions) r.reader = names.Of("reader", r.reader);
      std::sort(it.regions.begin(), it.regions.end(), [](const auto& a, const auto& b) { return a.reader < b.reader; });
    }
    for (const auto& id : used_guidelines) {
      if (guideline_numbers.count(id)) input.guideline_versions.push_back({id, guideline_numbers[id]});
    }
    return Status::Ok();
  }();
  // The text of notes with span labels goes along (spans/ in the snapshot); the build's audit
  // event counts the notes read.
  std::int64_t notes_read = 0;
  Status texts = gathered;
  for (auto& it : input.items) {
    if (!texts.ok()) break;
    if (it.item.data_type != core::DataType::kNotes) continue;
    bool spans = false;
    auto has_span = [](const core::Annotation& a) { return a.evidence_kind == "span" || a.evidence_kind == "document"; };
    for (const auto& r : it.readings) spans = spans || std::any_of(r.labels.begin(), r.labels.end(), has_span);
    spans = spans || std::any_of(it.final_labels.begin(), it.final_labels.end(), has_span);
    if (!spans) continue;
    auto text = DecryptContent(it.item);
    if (!text.ok()) {
      texts = text.status().WithContext("the text of note item " + it.item.id);
      break;
    }
    it.text = std::move(text).value();
    ++notes_read;
  }
  std::int64_t masks_read = 0;
  for (const auto& it : input.items) {
    masks_read += it.final_mask ? 1 : 0;
    for (const auto& r : it.readings) masks_read += r.mask ? 1 : 0;
  }
  auto snapshot = texts.ok() ? exports::BuildSnapshot(input) : Result<exports::Snapshot>(texts);
  Result<std::string> tar = snapshot.ok() ? exports::TarSnapshot(*snapshot) : Result<std::string>(snapshot.status());
  std::string blob;
  if (tar.ok()) {
    std::istringstream in(*tar);
    auto put = blobs_->Put(key_ref.key, key_ref.id, in);
    security::SecureZero(key_ref.key.data(), key_ref.key.size());
    if (put.ok()) blob = put->address;
    else tar = put.status();
  }
  lease.reset();  // the result is recorded next
  CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kWrite));
  {
    CALIPER_ASSIGN_OR_RETURN(storage::DatasetExport current, txn->GetExport(e.id));
    e.build_renewed_at = current.build_renewed_at;  // kept: when this build last renewed its lease
  }
  const std::int64_t revision = e.revision;
  e.revision = revision + 1;
  if (tar.ok()) {
    e.status = "built";
    e.snapshot_blob = blob;
    e.snapshot_bytes = static_cast<std::int64_t>(tar->size());
    e.manifest_sha256 = security::Sha256Hex(snapshot->files.at("manifest.json"));
  } else {
    e.status = "failed";
    e.error = tar.status().ToString();
  }
  CALIPER_RETURN_IF_ERROR(txn->UpdateExport(e, revision));
  CALIPER_RETURN_IF_ERROR(CommitWithAudit(
      *txn, Record(ctx, "export.build", "export", e.id,
                   json{{"status", e.status}, {"items", input.items.size()}, {"notes_read", notes_read},
                        {"masks_read", masks_read}, {"bytes", e.snapshot_bytes},
                        {"manifest_sha256", e.manifest_sha256}, {"error", e.error}}.dump())));
  return e;
}

Result<App::IssuedExportToken> App::IssueExportToken(const RequestContext& ctx, const std::string& project_id,
                                                     const std::string& export_id, int minutes) {
  CALIPER_ASSIGN_OR_RETURN(std::int64_t longest, config_.GetInt("export.token_minutes"));
  if (minutes < 1 || minutes > longest) {
    return Error(ErrorCode::kInvalidArgument, "minutes must be 1 to " + std::to_string(longest) + " (export.token_minutes)");
  }
  CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kWrite));
  CALIPER_RETURN_IF_ERROR(BuiltExportIn(*txn, project_id, export_id).status());
  IssuedExportToken out;
  out.token = "cex_" + security::RandomToken();
  storage::ExportToken t;
  t.id = ids_.NewId("etk");
  t.export_id = export_id;
  t.token_hash = security::Sha256Hex(out.token);
  t.issued_to = ctx.principal.user.id;
  t.created_at = clock_.Now();
  t.expires_at = out.expires_at = t.created_at + minutes * kMicrosPerMinute;
  CALIPER_RETURN_IF_ERROR(txn->InsertExportToken(t));
  CALIPER_RETURN_IF_ERROR(CommitWithAudit(
      *txn, Record(ctx, "export.token", "export", export_id,
                   json{{"token_id", t.id}, {"expires_at", FormatRfc3339(t.expires_at)}}.dump())));
  return out;
}

Result<std::string> App::DownloadExport(const std::string& token, const std::string& source_address) {
  storage::DatasetExport e;
  security::Key key;
  {
    CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kWrite));
    auto t = txn->GetExportTokenByHash(security::Sha256Hex(token));
    if (!t.ok()) return Error(ErrorCode::kNotFound, "no such download token");
    RequestContext ctx;
    CALIPER_ASSIGN_OR_RETURN(ctx.principal.user, txn->GetUser(t->issued_to));
    ctx.source_address = source_address;
    const bool expired = clock_.Now() >= t->expires_at;
    if (expired || t->used_at) {
      auto refused = Record(ctx, "export.download", "export", t->export_id,
                            json{{"token_id", t->id}, {"refused", expired ? "token expired" : "token already used"}}.dump());
      refused.outcome = "denied";
      CALIPER_RETURN_IF_ERROR(CommitWithAudit(*txn, refused));
      return expired ? Error(ErrorCode::kNotFound, "the download token expired")
                     : Error(ErrorCode::kConflict, "the download token was already used");
    }
    CALIPER_ASSIGN_OR_RETURN(e, txn->GetExport(t->export_id));
    CALIPER_ASSIGN_OR_RETURN(std::string key_id, blobs_->KeyIdOf(e.snapshot_blob));
    CALIPER_ASSIGN_OR_RETURN(key, key_manager_.UnwrapDataKey(*txn, key_id));
    CALIPER_RETURN_IF_ERROR(txn->UseExportToken(t->id, clock_.Now()));
    CALIPER_RETURN_IF_ERROR(CommitWithAudit(
        *txn, Record(ctx, "export.download", "export", e.id,
                     json{{"token_id", t->id}, {"bytes", e.snapshot_bytes}, {"manifest_sha256", e.manifest_sha256}}.dump())));
  }
  std::ostringstream out;
  Status got = blobs_->Get(key, e.snapshot_blob, out);
  security::SecureZero(key.data(), key.size());
  CALIPER_RETURN_IF_ERROR(got);
  return std::move(out).str();
}

Result<std::string> App::ReadExportFile(const RequestContext& ctx, const std::string& project_id,
                                        const std::string& export_id, const std::string& name) {
  if (name != "manifest.json" && name != "subgroup_report.json" && name != "subgroup_report.html") {
    return Error(ErrorCode::kNotFound, "only manifest.json and the subgroup report can be viewed; download the rest");
  }
  CALIPER_ASSIGN_OR_RETURN(std::string tar, BuiltSnapshot(ctx, project_id, export_id, "export.read", name));
  return exports::ReadTarFile(tar, name);
}

Result<std::string> App::BuiltSnapshot(const RequestContext& ctx, const std::string& project_id,
                                       const std::string& export_id, const std::string& action,
                                       const std::string& detail) {
  storage::DatasetExport e;
  security::Key key;
  {
    CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kRead));
    CALIPER_ASSIGN_OR_RETURN(e, BuiltExportIn(*txn, project_id, export_id));
    CALIPER_ASSIGN_OR_RETURN(std::string key_id, blobs_->KeyIdOf(e.snapshot_blob));
    CALIPER_ASSIGN_OR_RETURN(key, key_manager_.UnwrapDataKey(*txn, key_id));
  }
  {  // the event commits before any byte leaves
    CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kWrite));
    CALIPER_RETURN_IF_ERROR(CommitWithAudit(
        *txn, Record(ctx, action, "export", e.id, json{{"detail", detail}, {"bytes", e.snapshot_bytes}}.dump())));
  }
  std::ostringstream tar;
  Status got = blobs_->Get(key, e.snapshot_blob, tar);
  security::SecureZero(key.data(), key.size());
  CALIPER_RETURN_IF_ERROR(got);
  return std::move(tar).str();
}

Status App::WriteExportToPath(const RequestContext& ctx, const std::string& project_id, const std::string& export_id,
                              const std::string& path) {
  namespace fs = std::filesystem;
  const fs::path target = fs::path(path).lexically_normal();
  bool allowed = false;
  std::stringstream dirs(config_.GetString("export.allowed_dirs"));
  for (std::string dir; std::getline(dirs, dir, ':');) {
    if (dir.empty() || dir.front() != '/') continue;
    const fs::path base = fs::path(dir).lexically_normal();
    const auto rel = target.lexically_relative(base);
    if (!rel.empty() && *rel.begin() != ".." && rel != ".") allowed = true;
  }
  if (!target.is_absolute() || !allowed) {
    return Error(ErrorCode::kPermissionDenied,
                 "exports may be written only below a directory in export.allowed_dirs (set by the admin)");
  }
  CALIPER_ASSIGN_OR_RETURN(std::string tar, BuiltSnapshot(ctx, project_id, export_id, "export.write", target.string()));
  return exports::ExtractSnapshotTar(tar, target.string());
}

}  // namespace caliper::app

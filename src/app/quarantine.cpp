// Quarantine for pixel review (docs/deid-dicom.md, "Quarantine for pixel review"): DICOM
// instances whose pixels may carry burned-in identifiers, de-identified in their headers and kept
// encrypted apart from every item until a data steward has looked at them and released them
// into their series, blanked rectangles and released them, or discarded them.

#include <nlohmann/json.hpp>

#include "app/ingest_internal.h"
#include "caliper/app/app.h"
#include "caliper/dicom/deid.h"
#include "caliper/dicom/image.h"
#include "caliper/dicom/render.h"

namespace caliper::app {
namespace {

using nlohmann::json;
using storage::TxnMode;

constexpr std::size_t kMaxReasonBytes = 2000;
constexpr std::size_t kMaxRects = 100;

json RectsJson(const std::vector<dicom::PixelRect>& rects) {
  json out = json::array();
  for (const auto& r : rects) out.push_back({{"x", r.x}, {"y", r.y}, {"width", r.width}, {"height", r.height}});
  return out;
}

std::string_view ActionName(QuarantineAction a) {
  switch (a) {
    case QuarantineAction::kRelease: return "release";
    case QuarantineAction::kBlank: return "blank";
    case QuarantineAction::kDiscard: return "discard";
  }
  return "release";
}

}  // namespace

Result<QuarantineAction> ParseQuarantineAction(std::string_view name) {
  for (auto a : {QuarantineAction::kRelease, QuarantineAction::kBlank, QuarantineAction::kDiscard}) {
    if (ActionName(a) == name) return a;
  }
  return Error(ErrorCode::kInvalidArgument, "a quarantine decision is release, blank or discard");
}

Result<storage::QuarantinedInstance> App::QuarantinedIn(storage::Transaction& txn, const std::string& project_id,
                                                        const std::string& quarantine_id) {
  auto q = txn.GetQuarantinedInstance(quarantine_id);
  if (q.ok() && q->project_id != project_id) {
    return Error(ErrorCode::kNotFound, "no quarantined instance " + quarantine_id + " in this project");
  }
  return q;
}

Result<QuarantineList> App::ListQuarantine(const RequestContext& ctx, const std::string& project_id,
                                           const std::string& status, const storage::PageRequest& page) {
  if (!status.empty() && status != "pending" && status != "released" && status != "blanked" && status != "discarded") {
    return Error(ErrorCode::kInvalidArgument, "status is pending, released, blanked or discarded");
  }
  QuarantineList list;
  {
    CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kRead));
    CALIPER_RETURN_IF_ERROR(txn->GetProject(project_id).status());
    CALIPER_ASSIGN_OR_RETURN(static_cast<storage::Page<storage::QuarantinedInstance>&>(list),
                             txn->ListQuarantine(project_id, status, page));
    CALIPER_ASSIGN_OR_RETURN(list.pending, txn->CountPendingQuarantine(project_id));
  }
  // Audited before any row leaves, as the frames are.
  CALIPER_RETURN_IF_ERROR(Audit(Record(ctx, "quarantine.list", "project", project_id,
                                       json{{"status", status}, {"rows", list.rows.size()}, {"pending", list.pending}}
                                           .dump())));
  return list;
}

Result<storage::QuarantinedInstance> App::GetQuarantined(const RequestContext& ctx, const std::string& project_id,
                                                         const std::string& quarantine_id) {
  (void)ctx;
  CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kRead));
  return QuarantinedIn(*txn, project_id, quarantine_id);
}

Result<QuarantineFrame> App::RenderQuarantinedFrame(const RequestContext& ctx, const std::string& project_id,
                                                    const std::string& quarantine_id, int frame) {
  std::string bytes;
  {
    CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kRead));
    CALIPER_ASSIGN_OR_RETURN(storage::QuarantinedInstance q, QuarantinedIn(*txn, project_id, quarantine_id));
    if (q.blob.empty()) {
      return Error(ErrorCode::kNotFound, "quarantined instance " + q.id + " was " + q.status +
                                             "; its pixels are no longer in the quarantine");
    }
    CALIPER_ASSIGN_OR_RETURN(bytes, GetBlob(*txn, q.blob));
  }
  CALIPER_ASSIGN_OR_RETURN(auto image,
                           dicom::DecodeImage({reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()}));
  CALIPER_ASSIGN_OR_RETURN(auto png, dicom::RenderFramePng(image, frame));
  // Audited once the frame exists, before any byte of it leaves.
  CALIPER_RETURN_IF_ERROR(Audit(Record(ctx, "quarantine.view", "quarantine", quarantine_id,
                                       json{{"project_id", project_id}, {"frame", frame}}.dump())));
  return QuarantineFrame{std::string(png.begin(), png.end()), image.frames};
}

Result<storage::QuarantinedInstance> App::DecideQuarantined(const RequestContext& ctx, const std::string& project_id,
                                                            const std::string& quarantine_id,
                                                            const QuarantineDecision& decision) {
  if (decision.reason.size() > kMaxReasonBytes) {
    return Error(ErrorCode::kInvalidArgument, "the reason is longer than 2000 bytes");
  }
  if (decision.action == QuarantineAction::kDiscard && decision.reason.empty()) {
    return Error(ErrorCode::kInvalidArgument, "say why the instance is discarded (reason)");
  }
  if (decision.action == QuarantineAction::kBlank && (decision.rects.empty() || decision.rects.size() > kMaxRects)) {
    return Error(ErrorCode::kInvalidArgument, "blank needs 1 to 100 rectangles");
  }
  if (decision.action != QuarantineAction::kBlank && !decision.rects.empty()) {
    return Error(ErrorCode::kInvalidArgument, "rectangles are for blank only");
  }
  CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kWrite));
  CALIPER_ASSIGN_OR_RETURN(storage::QuarantinedInstance q, QuarantinedIn(*txn, project_id, quarantine_id));
  if (q.status != "pending") {
    return Error(ErrorCode::kConflict, "quarantined instance " + q.id + " was already " + q.status + " by " +
                                           q.decided_by + " at " + FormatRfc3339(q.decided_at.value_or(0)));
  }
  const std::string old_blob = q.blob;
  std::vector<security::AuditRecord> records;
  json details = {{"project_id", project_id}, {"sop_instance_uid", q.sop_instance_uid}, {"reason", decision.reason}};
  if (decision.action != QuarantineAction::kDiscard) {
    SeriesInstance instance;
    CALIPER_ASSIGN_OR_RETURN(instance.bytes, GetBlob(*txn, q.blob));
    if (decision.action == QuarantineAction::kBlank) {
      dicom::BlankOutcome blanked;
      CALIPER_ASSIGN_OR_RETURN(instance.bytes, dicom::BlankPixelRects(instance.bytes, decision.rects, &blanked));
      if (blanked.blanked == 0) return Error(ErrorCode::kInvalidArgument, "every rectangle lies outside the image");
      details["rects"] = RectsJson(decision.rects);
      if (!blanked.decompressed_from.empty()) details["pixels_decompressed_from"] = blanked.decompressed_from;
    }
    CALIPER_ASSIGN_OR_RETURN(instance.link_json, GetBlob(*txn, q.link_blob));
    instance.sop_instance_uid = q.sop_instance_uid;
    instance.study_uid = q.study_uid;
    instance.patient_key = q.patient_key;
    instance.modality = q.modality;
    instance.cohort_json = q.cohort_json;
    std::vector<SeriesInstance> instances;
    instances.push_back(std::move(instance));
    DicomSeriesResult series;
    CALIPER_RETURN_IF_ERROR(StoreInSeries(*txn, ctx, project_id, q.series_uid, instances, series, records));
    const SeriesInstance& done = instances.front();
    if (done.fate == SeriesInstance::Fate::kDuplicate) {
      return Error(ErrorCode::kConflict, "item " + done.duplicate_of +
                                             " already holds this instance; discard the quarantined copy");
    }
    if (done.fate == SeriesInstance::Fate::kInconsistent) {
      return Error(ErrorCode::kConflict, done.refusal.message() + "; discard it");
    }
    if (done.fate == SeriesInstance::Fate::kOtherPatient) {
      return Error(ErrorCode::kInvalidArgument, "the instance's patient differs from its series' in item " +
                                                    series.item_id + "; discard it");
    }
    q.item_id = series.item_id;
    details["item_id"] = q.item_id;
  }
  q.status = decision.action == QuarantineAction::kRelease ? "released"
             : decision.action == QuarantineAction::kBlank ? "blanked"
                                                            : "discarded";
  q.decided_at = clock_.Now();
  q.decided_by = ctx.actor();
  q.reason = decision.reason;
  q.rects_json = RectsJson(decision.rects).dump();
  q.blob.clear();  // the pixels live on in the item (released, blanked) or nowhere (discarded)
  q.link_blob.clear();
  CALIPER_RETURN_IF_ERROR(txn->DecideQuarantinedInstance(q));
  records.push_back(Record(ctx, "quarantine." + std::string(ActionName(decision.action)), "quarantine", q.id,
                           details.dump(-1, ' ', false, json::error_handler_t::replace)));
  CALIPER_RETURN_IF_ERROR(CommitWithAudit(*txn, records));
  // Blobs are addressed by their content under their data key, so a released instance is stored
  // at the address it had in the quarantine: that copy now belongs to the item. Blanked or
  // discarded pixels go once the decision is committed, unless an item or a new pending entry
  // holds the very same bytes; checked and removed under the write lock, so no writer can name
  // them in between (a failure to remove leaves ciphertext no row points at, for the blob
  // sweep). The encrypted re-identification link is the series' (its item and other entries
  // share it) and stays.
  if (decision.action != QuarantineAction::kRelease) {
    if (auto lock = store_->Begin(TxnMode::kWrite); lock.ok()) {
      auto stored = (*lock)->FindDicomInstance(project_id, q.sop_instance_uid);
      auto pending = (*lock)->FindPendingQuarantine(project_id, q.sop_instance_uid);
      const bool in_item = stored.ok() ? stored->blob == old_blob : stored.status().code() != ErrorCode::kNotFound;
      const bool in_quarantine = pending.ok() ? pending->blob == old_blob
                                              : pending.status().code() != ErrorCode::kNotFound;
      if (!in_item && !in_quarantine) (void)blobs_->Remove(old_blob);
    }  // nothing written: rolled back
  }
  return q;
}

}  // namespace caliper::app

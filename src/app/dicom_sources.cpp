// DICOM sources (docs/imaging.md, "C-STORE receiver"): the calling AE titles each project takes
// instances from.

#include <algorithm>
#include <set>

#include <nlohmann/json.hpp>

#include "caliper/app/app.h"
#include "caliper/dicom/store_scp.h"

namespace caliper::app {

namespace {

using nlohmann::json;
using storage::TxnMode;

constexpr std::size_t kMaxSources = 1000;
constexpr std::size_t kMaxDescription = 200;

// Titles valid, trimmed and distinct; descriptions short and printable.
Status NormaliseSources(std::vector<core::DicomSource>& sources) {
  if (sources.size() > kMaxSources) return Error(ErrorCode::kInvalidArgument, "at most 1000 DICOM sources");
  std::set<std::string> seen;
  for (auto& s : sources) {
    if (!dicom::IsValidAeTitle(s.ae_title)) {
      return Error(ErrorCode::kInvalidArgument,
                   "an AE title must be 1-16 characters of the default repertoire (printable ASCII), "
                   "no backslash, not only spaces");
    }
    s.ae_title = dicom::TrimAeTitle(s.ae_title);
    if (!seen.insert(s.ae_title).second) {
      return Error(ErrorCode::kInvalidArgument, "the AE title '" + s.ae_title + "' is listed twice");
    }
    const bool printable = std::all_of(s.description.begin(), s.description.end(), [](char c) {
      return static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) != 0x7F;
    });
    if (s.description.size() > kMaxDescription || !printable) {
      return Error(ErrorCode::kInvalidArgument, "a DICOM source's description must be at most 200 bytes, "
                                                "no control characters");
    }
  }
  std::sort(sources.begin(), sources.end(),
            [](const core::DicomSource& a, const core::DicomSource& b) { return a.ae_title < b.ae_title; });
  return Status::Ok();
}

}  // namespace

RequestContext DicomSourceContext(const std::string& calling_ae, const std::string& peer_address) {
  RequestContext ctx;
  ctx.principal.user.id = "dicom:" + dicom::TrimAeTitle(calling_ae);
  ctx.principal.user.username = ctx.principal.user.id;
  ctx.source_address = peer_address;
  return ctx;
}

Result<std::vector<core::DicomSource>> App::GetDicomSources(const RequestContext& ctx, const std::string& project_id) {
  (void)ctx;
  CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kRead));
  CALIPER_RETURN_IF_ERROR(txn->GetProject(project_id).status());
  return txn->ListDicomSources(project_id);
}

Result<std::vector<core::DicomSource>> App::PutDicomSources(const RequestContext& ctx, const std::string& project_id,
                                                            std::vector<core::DicomSource> sources) {
  CALIPER_RETURN_IF_ERROR(NormaliseSources(sources));
  CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kWrite));
  CALIPER_RETURN_IF_ERROR(txn->GetProject(project_id).status());
  for (const auto& s : sources) {
    auto owner = txn->FindDicomSourceProject(s.ae_title);
    if (owner.ok() && *owner != project_id) {
      return Error(ErrorCode::kConflict, "the AE title '" + s.ae_title +
                                             "' already sends to another project; remove it there first");
    }
    if (!owner.ok() && owner.status().code() != ErrorCode::kNotFound) return owner.status();
  }
  CALIPER_RETURN_IF_ERROR(txn->ReplaceDicomSources(project_id, sources, clock_.Now()));
  json titles = json::array();
  for (const auto& s : sources) titles.push_back(s.ae_title);
  CALIPER_RETURN_IF_ERROR(
      CommitWithAudit(*txn, Record(ctx, "project.dicom_sources", "project", project_id, json{{"ae_titles", titles}}.dump())));
  return sources;
}

Result<std::string> App::ProjectOfDicomSource(const std::string& calling_ae) {
  CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kRead));
  return txn->FindDicomSourceProject(dicom::TrimAeTitle(calling_ae));
}

}  // namespace caliper::app

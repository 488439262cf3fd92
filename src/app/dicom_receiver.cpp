#include "caliper/app/dicom_receiver.h"

#include <nlohmann/json.hpp>

#include "caliper/app/app.h"
#include "caliper/common/log.h"

namespace caliper::app {

namespace {

using nlohmann::json;

// A C-STORE status (PS3.7 C.4.2.1.4): Refused, Not Authorized.
constexpr std::uint16_t kStoreNotAuthorized = 0x0124;

}  // namespace

Result<std::optional<dicom::StoreScpOptions>> StoreScpOptionsFrom(const Config& config) {
  const std::string& listen = config.GetString("dicom_scp.listen");
  if (listen.empty()) return std::optional<dicom::StoreScpOptions>();
  dicom::StoreScpOptions o;
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return Error(ErrorCode::kInvalidArgument, "dicom_scp.listen must be HOST:PORT, not '" + listen + "'");
  }
  o.host = listen.substr(0, colon);
  const std::string port = listen.substr(colon + 1);
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
      std::stoi(port) > 65535) {
    return Error(ErrorCode::kInvalidArgument, "bad port in dicom_scp.listen '" + listen + "'");
  }
  o.port = std::stoi(port);
  o.ae_title = config.GetString("dicom_scp.ae_title");
  CALIPER_ASSIGN_OR_RETURN(auto pdu, config.GetInt("dicom_scp.max_pdu_bytes"));
  CALIPER_ASSIGN_OR_RETURN(auto idle, config.GetInt("dicom_scp.idle_timeout_seconds"));
  CALIPER_ASSIGN_OR_RETURN(auto associations, config.GetInt("dicom_scp.max_associations"));
  CALIPER_ASSIGN_OR_RETURN(auto instance, config.GetInt("dicom_scp.max_instance_bytes"));
  if (pdu < 0 || pdu > 1 << 20 || idle < 0 || idle > 1 << 20 || associations < 0 || associations > 1 << 20 ||
      instance < 0) {
    return Error(ErrorCode::kInvalidArgument, "a dicom_scp limit is out of range");
  }
  o.max_pdu_bytes = static_cast<std::uint32_t>(pdu);
  o.idle_timeout_seconds = static_cast<int>(idle);
  o.max_associations = static_cast<int>(associations);
  o.max_instance_bytes = static_cast<std::uint64_t>(instance);
  CALIPER_RETURN_IF_ERROR(dicom::ValidateStoreScpOptions(o).WithContext("dicom_scp"));
  return std::optional<dicom::StoreScpOptions>(o);
}

DicomReceiver::DicomReceiver(App& app) : app_(app) {}

Result<std::unique_ptr<DicomReceiver>> DicomReceiver::Start(App& app, const dicom::StoreScpOptions& options) {
  std::unique_ptr<DicomReceiver> receiver(new DicomReceiver(app));
  CALIPER_ASSIGN_OR_RETURN(receiver->scp_, dicom::StoreScp::Start(options, *receiver));
  return receiver;
}

DicomReceiver::~DicomReceiver() {
  if (scp_ != nullptr) scp_->Stop();  // calls Ended for every open association
}

int DicomReceiver::port() const { return scp_->port(); }

bool DicomReceiver::AcceptCalling(const dicom::Association& association) {
  auto project = app_.ProjectOfDicomSource(association.calling_ae);
  if (!project.ok() && project.status().code() != ErrorCode::kNotFound) {
    log::Warn("dicom receiver: cannot look up a calling AE title: " + project.status().ToString());
  }
  return project.ok();
}

void DicomReceiver::Refused(const dicom::Association& association, std::string_view reason) {
  const RequestContext ctx = DicomSourceContext(association.calling_ae, association.peer_address);
  security::AuditRecord record;
  record.actor = ctx.actor();
  record.source_address = ctx.source_address;
  record.action = "dicom.association_refused";
  record.object_type = "dicom_receiver";
  record.object_id = association.called_ae;
  record.outcome = "denied";
  record.details_json = json{{"calling_ae", association.calling_ae},
                             {"called_ae", association.called_ae},
                             {"reason", std::string(reason)}}
                            .dump(-1, ' ', false, json::error_handler_t::replace);
  if (Status s = app_.Audit(record); !s.ok()) log::Warn("dicom receiver: cannot audit a refusal: " + s.ToString());
}

dicom::StoreOutcome DicomReceiver::Store(const dicom::Association& association, std::string part10) {
  auto project = app_.ProjectOfDicomSource(association.calling_ae);
  if (!project.ok()) {
    if (project.status().code() == ErrorCode::kNotFound) {
      return {kStoreNotAuthorized, "calling AE title no longer allowed"};
    }
    return {dicom::kStoreOutOfResources, "cannot look up the calling AE title; try again"};
  }
  const RequestContext ctx = DicomSourceContext(association.calling_ae, association.peer_address);
  std::vector<ImagingInput> inputs(1);
  inputs[0].name = "c-store";
  inputs[0].bytes = std::move(part10);
  auto report = app_.IngestDicom(ctx, *project, std::move(inputs), /*build_volumes=*/false);
  if (!report.ok()) {
    log::Warn("dicom receiver: ingest failed: " + report.status().ToString());
    return {dicom::kStoreOutOfResources, "cannot store now; try again"};
  }
  const DicomFileResult& f = report->files.front();
  if (f.outcome == "stored") {
    std::lock_guard lock(mu_);
    touched_[association.id][*project].insert(f.item_id);
  }
  // A quarantined instance is kept (de-identified, encrypted) for a data steward's review: the
  // sender has delivered it and must not send it again.
  if (f.outcome == "stored" || f.outcome == "duplicate" || f.outcome == "quarantined") return {};
  const ErrorCode code = f.error.code();
  if (code == ErrorCode::kInvalidArgument || code == ErrorCode::kUnsupported) {
    return {dicom::kStoreCannotUnderstand, f.error.message()};
  }
  if (code == ErrorCode::kPayloadTooLarge) return {dicom::kStoreOutOfResources, f.error.message()};
  return {dicom::kStoreProcessingFailure, f.error.message()};
}

void DicomReceiver::Ended(const dicom::Association& association) {
  std::map<std::string, std::set<std::string>> touched;
  {
    std::lock_guard lock(mu_);
    auto it = touched_.find(association.id);
    if (it == touched_.end()) return;
    touched = std::move(it->second);
    touched_.erase(it);
  }
  const RequestContext ctx = DicomSourceContext(association.calling_ae, association.peer_address);
  for (const auto& [project_id, items] : touched) {
    auto built = app_.BuildDicomVolumes(ctx, project_id, {items.begin(), items.end()});
    if (!built.ok()) log::Warn("dicom receiver: building volumes failed: " + built.status().ToString());
  }
}

}  // namespace caliper::app

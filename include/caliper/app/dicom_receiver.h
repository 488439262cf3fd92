#pragma once

// The DICOM C-STORE receiver `caliper serve` runs when dicom_scp.listen is set (docs/imaging.md,
// "C-STORE receiver"): dicom::StoreScp wired to the projects' lists of DICOM sources and to
// App::IngestDicom.

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "caliper/common/config.h"
#include "caliper/common/status.h"
#include "caliper/dicom/store_scp.h"

namespace caliper::app {

class App;

// The receiver's options from the dicom_scp.* settings; std::nullopt when dicom_scp.listen is
// empty (no receiver). kInvalidArgument names a bad value.
Result<std::optional<dicom::StoreScpOptions>> StoreScpOptionsFrom(const Config& config);

// Accepts an association only from a calling AE title on some project's list (others are
// rejected and audited as dicom.association_refused, outcome denied). Each instance goes
// through App::IngestDicom into the project of its sender's title, as the actor
// "dicom:<AE title>" (DicomSourceContext): de-identified before anything is stored, grouped
// into series, duplicates recognised, burned-in risk quarantined, audited. Volumes are built
// once per series when the association ends (App::BuildDicomVolumes), not once per instance.
// The sender's status: 0x0000 for stored, duplicate and quarantined instances (kept for a
// data steward's pixel review); 0xC000 for unreadable or unsupported input; 0xA700 when storing failed
// (may be retried); 0x0124 when the title was removed from the list meanwhile.
// Thread-safe (the receiver's threads call it).
class DicomReceiver final : public dicom::StoreHandler {
 public:
  // Starts listening. Errors as dicom::StoreScp::Start. `app` must outlive the receiver.
  static Result<std::unique_ptr<DicomReceiver>> Start(App& app, const dicom::StoreScpOptions& options);
  // Stops the receiver (each association ends after its message under way; deferred volumes
  // are built first).
  ~DicomReceiver() override;
  DicomReceiver(const DicomReceiver&) = delete;
  DicomReceiver& operator=(const DicomReceiver&) = delete;

  int port() const;

  bool AcceptCalling(const dicom::Association& association) override;
  void Refused(const dicom::Association& association, std::string_view reason) override;
  dicom::StoreOutcome Store(const dicom::Association& association, std::string part10) override;
  void Ended(const dicom::Association& association) override;

 private:
  explicit DicomReceiver(App& app);

  App& app_;
  std::mutex mu_;
  // Per open association: the series items it added instances to, by project.
  std::map<std::uint64_t, std::map<std::string, std::set<std::string>>> touched_;  // guarded by mu_
  std::unique_ptr<dicom::StoreScp> scp_;  // stopped in the destructor, before the fields above go
};

}  // namespace caliper::app

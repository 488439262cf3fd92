#pragma once

// A DICOM Storage SCP (PS3.4 Annex B) and Verification SCP (PS3.4 Annex A) on DCMTK dcmnet:
// the C-STORE receiver `caliper serve` starts when configured (docs/imaging.md, "C-STORE
// receiver"). Instances are received into memory only, never written to disk, and handed to a
// StoreHandler that decides what becomes of them and which status the sender gets.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "caliper/common/status.h"

namespace caliper::dicom {

struct StoreScpOptions {
  // Where to listen: an IPv4 address or a host name that resolves to one (DCMTK 3.6.7 speaks
  // IPv4 only), and a port (0 = an ephemeral port; StoreScp::port() says which).
  std::string host = "127.0.0.1";
  int port = 11112;
  // The called AE title this receiver answers to (1-16 characters of the default repertoire);
  // an association calling another title is rejected ("called AE title not recognized").
  std::string ae_title = "CALIPER";
  // The largest PDU we receive, in bytes (4096..131072, DCMTK's range).
  std::uint32_t max_pdu_bytes = 131072;
  // An association that sends nothing for this long (between messages or inside one) is
  // aborted; also the time allowed for a new connection to send its A-ASSOCIATE-RQ. 1..3600.
  int idle_timeout_seconds = 60;
  // Associations served at once (1..256); one more is rejected as transient, "local limit
  // exceeded", and the sender may retry.
  int max_associations = 8;
  // An instance larger than this (Part 10 bytes) is received to the end, discarded, and
  // refused with 0xA700 (Out of Resources). 1 KiB .. 4 GiB.
  std::uint64_t max_instance_bytes = std::uint64_t{1} << 30;
};

// Checks the ranges above; kInvalidArgument names the first value out of range.
Status ValidateStoreScpOptions(const StoreScpOptions& options);

// Whether `title` is a valid AE title (PS3.5 6.2, VR AE): 1-16 characters of the default
// character repertoire (printable ASCII), no backslash, not only spaces. Leading and trailing
// spaces are insignificant; compare titles with TrimAeTitle.
bool IsValidAeTitle(std::string_view title);
std::string TrimAeTitle(std::string_view title);

// One association, as the handler sees it.
struct Association {
  std::uint64_t id = 0;      // unique within one StoreScp, for logs
  std::string calling_ae;    // trimmed
  std::string called_ae;     // trimmed
  std::string peer_address;  // the sender's IPv4 address
};

// C-STORE response statuses (PS3.4 Table B.2-1, PS3.7 C.4.2.1.4).
inline constexpr std::uint16_t kStoreSuccess = 0x0000;
inline constexpr std::uint16_t kStoreOutOfResources = 0xA700;     // Refused: Out of Resources
inline constexpr std::uint16_t kStoreDataSetMismatch = 0xA900;    // Error: Data Set does not match SOP Class
inline constexpr std::uint16_t kStoreCannotUnderstand = 0xC000;   // Error: Cannot understand
inline constexpr std::uint16_t kStoreProcessingFailure = 0x0110;  // Processing failure (PS3.7 C.4.2.1.4)

// What the sender is told about one instance: the status, and for a failure an Error Comment
// (0000,0902), cut to its 64 characters.
struct StoreOutcome {
  std::uint16_t status = kStoreSuccess;
  std::string comment;
};

// What the receiver asks of its owner. Called from the receiver's threads, possibly for several
// associations at once: implementations must be thread-safe. None may throw.
class StoreHandler {
 public:
  virtual ~StoreHandler() = default;
  // Whether `association` (its called AE title already checked) may send to us. When false it
  // is rejected with "calling AE title not recognized" and Refused is called.
  virtual bool AcceptCalling(const Association& association) = 0;
  // An association was rejected (`reason` says why, e.g. "calling AE title not recognized"),
  // for the audit trail.
  virtual void Refused(const Association& association, std::string_view reason) = 0;
  // One received instance as a Part 10 file (a meta header made from the C-STORE request and
  // the negotiated transfer syntax, then the data set exactly as received). The handler owns
  // the bytes; its answer goes back to the sender.
  virtual StoreOutcome Store(const Association& association, std::string part10) = 0;
  // The association is over (released, aborted or timed out), after its last Store.
  virtual void Ended(const Association& association) = 0;
};

// The receiver: an accepting thread and one thread per association. Accepts the Verification
// SOP Class and the storage SOP classes of StorageSopClasses() in the transfer syntaxes that
// DecodeImage decodes (the sender's first proposed one is taken). Stop (or the destructor)
// stops accepting, lets each association finish the message under way, then aborts it, and
// waits for every thread. Thread-safe.
class StoreScp {
 public:
  // Binds, listens and starts accepting. Errors: kInvalidArgument for bad options, kUnavailable
  // when the address cannot be resolved or bound (e.g. the port is taken), kInternal when DCMTK
  // fails. `handler` must outlive the receiver.
  static Result<std::unique_ptr<StoreScp>> Start(const StoreScpOptions& options, StoreHandler& handler);
  ~StoreScp();
  StoreScp(const StoreScp&) = delete;
  StoreScp& operator=(const StoreScp&) = delete;

  // The port listened on (the ephemeral one when options.port was 0).
  int port() const;
  // Associations being served now.
  int active_associations() const;
  void Stop();

  struct State;  // dicom/store_scp.cpp

 private:
  explicit StoreScp(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// The storage SOP Class UIDs the receiver accepts (CT, MR, PET, CR, DX, MG, US, SC, NM, XA,
// RF, RT, enhanced CT/MR/PET/XA, SEG, ...).
const std::vector<std::string>& StorageSopClasses();

}  // namespace caliper::dicom

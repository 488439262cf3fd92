// The C-STORE receiver on DCMTK dcmnet's association (ASC_) and message (DIMSE_) API: one
// accepting thread, one thread per association, instances received into memory.

#include "caliper/dicom/store_scp.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <dcmtk/dcmdata/dcostrma.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmnet/assoc.h>
#include <dcmtk/dcmnet/dcmlayer.h>
#include <dcmtk/dcmnet/dcmtrans.h>
#include <dcmtk/dcmnet/dimse.h>
#include <dcmtk/dcmnet/dul.h>
#include <dcmtk/dcmnet/dulstruc.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <limits>
#include <condition_variable>
#include <list>
#include <map>
#include <mutex>
#include <thread>
#include <utility>

#include "caliper/common/log.h"
#include "caliper/dicom/image.h"

namespace caliper::dicom {

namespace {

Status Invalid(const std::string& message) { return Error(ErrorCode::kInvalidArgument, message); }

std::string SocketError(const std::string& what) { return what + ": " + std::strerror(errno); }

// A DcmConsumer that appends to a string up to a cap; past it, it keeps accepting (so the
// sender's data is drained and the association stays usable) but drops the bytes.
class CappedStringConsumer final : public DcmConsumer {
 public:
  explicit CappedStringConsumer(std::uint64_t cap) : cap_(cap) {}
  OFBool good() const override { return OFTrue; }
  OFCondition status() const override { return EC_Normal; }
  OFBool isFlushed() const override { return OFTrue; }
  offile_off_t avail() const override { return std::numeric_limits<offile_off_t>::max() / 2; }
  offile_off_t write(const void* buf, offile_off_t buflen) override {
    if (buflen <= 0) return 0;
    const auto n = static_cast<std::uint64_t>(buflen);
    if (!over_ && data_.size() + n <= cap_) {
      data_.append(static_cast<const char*>(buf), static_cast<std::size_t>(n));
    } else if (!over_) {
      over_ = true;
      std::string().swap(data_);
    }
    return buflen;
  }
  void flush() override {}

  bool over() const { return over_; }
  std::string Take() { return std::move(data_); }

 private:
  const std::uint64_t cap_;
  bool over_ = false;
  std::string data_;
};

class CappedStringStream final : public DcmOutputStream {
 public:
  // DcmOutputStream keeps the pointer only; the member is constructed before any write.
  explicit CappedStringStream(std::uint64_t cap) : DcmOutputStream(&consumer_), consumer_(cap) {}
  CappedStringConsumer& consumer() { return consumer_; }

 private:
  CappedStringConsumer consumer_;
};

// Plain TCP as DCMTK's default layer, remembering the socket of the connection it made last: the
// accepting thread reads it right after ASC_receiveAssociation (the only caller), so that Stop
// can shut down the socket of an association waiting for its next command.
class RecordingTransportLayer final : public DcmTransportLayer {
 public:
  DcmTransportConnection* createConnection(DcmNativeSocketType socket, OFBool secure) override {
    if (secure) return nullptr;  // no TLS here
    last_socket_ = socket;
    return new DcmTCPConnection(socket);  // DCMTK's API: the association owns and deletes it
  }
  DcmNativeSocketType TakeLastSocket() { return std::exchange(last_socket_, DCMNET_INVALID_SOCKET); }

 private:
  DcmNativeSocketType last_socket_ = DCMNET_INVALID_SOCKET;
};

// Error Comment (0000,0902) is LO: at most 64 characters, no backslash or control characters.
std::string ErrorComment(const std::string& text) {
  std::string out = text.substr(0, 64);
  for (char& c : out) {
    if (c == '\\' || static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7F) c = ' ';
  }
  return out;
}

// Resolves `host` to one IPv4 address.
Result<in_addr> ResolveIpv4(const std::string& host) {
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (int rc = getaddrinfo(host.c_str(), nullptr, &hints, &found); rc != 0 || found == nullptr) {
    return Error(ErrorCode::kUnavailable, "cannot resolve '" + host + "' to an IPv4 address: " + gai_strerror(rc));
  }
  const in_addr addr = reinterpret_cast<const sockaddr_in*>(found->ai_addr)->sin_addr;
  freeaddrinfo(found);
  return addr;
}

// A listening TCP socket on host:port; the port it got is written to `bound_port`.
Result<int> Listen(const std::string& host, int port, int& bound_port) {
  CALIPER_ASSIGN_OR_RETURN(in_addr addr, ResolveIpv4(host));
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Error(ErrorCode::kUnavailable, SocketError("socket"));
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr = addr;
  sa.sin_port = htons(static_cast<std::uint16_t>(port));
  socklen_t len = sizeof(sa);
  if (bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0 || listen(fd, 64) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len) != 0) {
    Status s = Error(ErrorCode::kUnavailable, SocketError("cannot listen on " + host + ":" + std::to_string(port)));
    close(fd);
    return s;
  }
  bound_port = ntohs(sa.sin_port);
  return fd;
}

// The transfer syntaxes we accept, the sender's order deciding among them; DCMTK takes the
// first of ours that the sender proposed, so the uncompressed ones go last.
std::vector<const char*> AcceptedTransferSyntaxes() {
  static const std::vector<std::string> kOrder = {
      UID_JPEG2000LosslessOnlyTransferSyntax,   UID_JPEG2000TransferSyntax,
      UID_JPEGLSLosslessTransferSyntax,         UID_JPEGLSLossyTransferSyntax,
      UID_JPEGProcess14SV1TransferSyntax,       UID_JPEGProcess14TransferSyntax,
      UID_JPEGProcess1TransferSyntax,           UID_JPEGProcess2_4TransferSyntax,
      UID_RLELosslessTransferSyntax,            UID_DeflatedExplicitVRLittleEndianTransferSyntax,
      UID_LittleEndianExplicitTransferSyntax,   UID_BigEndianExplicitTransferSyntax,
      UID_LittleEndianImplicitTransferSyntax};
  std::vector<const char*> out;
  for (const auto& uid : kOrder) {
    if (IsSupportedTransferSyntax(uid)) out.push_back(uid.c_str());
  }
  return out;
}

}  // namespace

// ---- options and AE titles ----------------------------------------------------------------------

std::string TrimAeTitle(std::string_view title) {
  const auto first = title.find_first_not_of(' ');
  if (first == std::string_view::npos) return "";
  const auto last = title.find_last_not_of(' ');
  return std::string(title.substr(first, last - first + 1));
}

bool IsValidAeTitle(std::string_view title) {
  if (title.empty() || title.size() > 16) return false;
  for (char c : title) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7F || c == '\\') return false;
  }
  return !TrimAeTitle(title).empty();
}

Status ValidateStoreScpOptions(const StoreScpOptions& o) {
  if (o.host.empty()) return Invalid("the receiver needs an address to listen on");
  if (o.port < 0 || o.port > 65535) return Invalid("the receiver's port must be 0..65535");
  if (!IsValidAeTitle(o.ae_title)) {
    return Invalid("the receiver's AE title must be 1-16 printable ASCII characters, no backslash, not only spaces");
  }
  if (o.max_pdu_bytes < ASC_MINIMUMPDUSIZE || o.max_pdu_bytes > ASC_MAXIMUMPDUSIZE) {
    return Invalid("the receiver's maximum PDU must be 4096..131072 bytes");
  }
  if (o.idle_timeout_seconds < 1 || o.idle_timeout_seconds > 3600) {
    return Invalid("the receiver's idle timeout must be 1..3600 seconds");
  }
  if (o.max_associations < 1 || o.max_associations > 256) {
    return Invalid("the receiver's concurrent associations must be 1..256");
  }
  if (o.max_instance_bytes < 1024 || o.max_instance_bytes > (std::uint64_t{4} << 30)) {
    return Invalid("the receiver's instance size cap must be 1 KiB..4 GiB");
  }
  return Status::Ok();
}

const std::vector<std::string>& StorageSopClasses() {
  static const std::vector<std::string> kClasses = {
      UID_CTImageStorage,
      UID_EnhancedCTImageStorage,
      UID_LegacyConvertedEnhancedCTImageStorage,
      UID_MRImageStorage,
      UID_EnhancedMRImageStorage,
      UID_EnhancedMRColorImageStorage,
      UID_LegacyConvertedEnhancedMRImageStorage,
      UID_PositronEmissionTomographyImageStorage,
      UID_EnhancedPETImageStorage,
      UID_LegacyConvertedEnhancedPETImageStorage,
      UID_NuclearMedicineImageStorage,
      UID_ComputedRadiographyImageStorage,
      UID_DigitalXRayImageStorageForPresentation,
      UID_DigitalXRayImageStorageForProcessing,
      UID_DigitalMammographyXRayImageStorageForPresentation,
      UID_DigitalMammographyXRayImageStorageForProcessing,
      UID_BreastTomosynthesisImageStorage,
      UID_UltrasoundImageStorage,
      UID_UltrasoundMultiframeImageStorage,
      UID_SecondaryCaptureImageStorage,
      UID_MultiframeSingleBitSecondaryCaptureImageStorage,
      UID_MultiframeGrayscaleByteSecondaryCaptureImageStorage,
      UID_MultiframeGrayscaleWordSecondaryCaptureImageStorage,
      UID_MultiframeTrueColorSecondaryCaptureImageStorage,
      UID_XRayAngiographicImageStorage,
      UID_EnhancedXAImageStorage,
      UID_XRayRadiofluoroscopicImageStorage,
      UID_EnhancedXRFImageStorage,
      UID_RTImageStorage,
      UID_SegmentationStorage,
  };
  return kClasses;
}

// ---- the receiver -------------------------------------------------------------------------------

struct StoreScp::State {
  StoreScpOptions options;
  StoreHandler* handler = nullptr;
  RecordingTransportLayer transport;  // outlives `network`, which uses it
  T_ASC_Network* network = nullptr;
  int listen_fd = -1;  // owned by `network` once handed over
  int port = 0;
  int wake[2] = {-1, -1};  // a byte written to wake[1] stops the accepting thread

  std::mutex mu;
  std::condition_variable changed;
  bool stopping = false;  // guarded by mu
  int active = 0;         // guarded by mu
  std::uint64_t next_id = 1;
  struct Worker {
    std::thread thread;
    bool done = false;  // guarded by mu
  };
  std::list<Worker> workers;  // guarded by mu
  // The open associations: their socket, and whether they wait for a command (then Stop shuts
  // the socket down to end the wait; one inside a message finishes it first).
  struct Live {
    DcmNativeSocketType socket = DCMNET_INVALID_SOCKET;
    bool waiting = false;
  };
  std::map<std::uint64_t, Live> live;  // guarded by mu
  std::thread acceptor;

  bool Stopping() {
    std::lock_guard lock(mu);
    return stopping;
  }

  void AcceptLoop();
  void Negotiate(T_ASC_Association* assoc, DcmNativeSocketType socket);
  void Serve(T_ASC_Association* assoc, const Association& who, DcmNativeSocketType socket);
  // Handles one C-STORE request; false when the association cannot go on.
  bool HandleStore(T_ASC_Association* assoc, T_ASC_PresentationContextID pres_id, T_DIMSE_C_StoreRQ& req,
                   const Association& who);
  void Reject(T_ASC_Association* assoc, T_ASC_RejectParametersResult result, T_ASC_RejectParametersSource source,
              T_ASC_RejectParametersReason reason);
  void JoinFinishedWorkers();
};

namespace {

// Closes the connection and frees the association. After a release or a rejection the peer
// closes first (we wait up to a second for it); after an abort there is nothing to wait for.
void DropAssociation(T_ASC_Association*& assoc, bool orderly) {
  if (orderly) {
    ASC_dropSCPAssociation(assoc, 1);
  } else {
    ASC_dropAssociation(assoc);
  }
  ASC_destroyAssociation(&assoc);
}

// Sends an A-ABORT. DCMTK then waits for the peer to close the connection (up to the network
// timeout); shutting our reading side first makes that wait end at once.
void Abort(T_ASC_Association* assoc, DcmNativeSocketType socket) {
  if (socket != DCMNET_INVALID_SOCKET) shutdown(socket, SHUT_RD);
  ASC_abortAssociation(assoc);
}

}  // namespace

void StoreScp::State::Reject(T_ASC_Association* assoc, T_ASC_RejectParametersResult result,
                             T_ASC_RejectParametersSource source, T_ASC_RejectParametersReason reason) {
  T_ASC_RejectParameters rej{result, source, reason};
  ASC_rejectAssociation(assoc, &rej);
}

void StoreScp::State::JoinFinishedWorkers() {
  std::list<Worker> finished;
  {
    std::lock_guard lock(mu);
    for (auto it = workers.begin(); it != workers.end();) {
      if (it->done) {
        auto next = std::next(it);
        finished.splice(finished.end(), workers, it);
        it = next;
      } else {
        ++it;
      }
    }
  }
  for (auto& w : finished) w.thread.join();
}

void StoreScp::State::AcceptLoop() {
  for (;;) {
    pollfd fds[2] = {{listen_fd, POLLIN, 0}, {wake[0], POLLIN, 0}};
    const int n = poll(fds, 2, 1000);
    if (Stopping()) return;
    JoinFinishedWorkers();
    if (n <= 0 || (fds[0].revents & POLLIN) == 0) continue;
    T_ASC_Association* assoc = nullptr;
    // The connection is waiting, so this accepts it and reads its A-ASSOCIATE-RQ (within the
    // network's timeout, the idle timeout).
    OFCondition cond = ASC_receiveAssociation(network, &assoc, static_cast<long>(options.max_pdu_bytes), nullptr,
                                              nullptr, OFFalse, DUL_NOBLOCK, 1);
    const DcmNativeSocketType socket = transport.TakeLastSocket();
    if (cond == DUL_NOASSOCIATIONREQUEST) {
      if (assoc != nullptr) ASC_destroyAssociation(&assoc);
      continue;
    }
    if (cond.bad()) {
      log::Warn(std::string("dicom receiver: a connection failed before its association: ") + cond.text());
      if (assoc != nullptr) DropAssociation(assoc, false);
      continue;
    }
    Negotiate(assoc, socket);
  }
}

void StoreScp::State::Negotiate(T_ASC_Association* assoc, DcmNativeSocketType socket) {
  Association who;
  {
    std::lock_guard lock(mu);
    who.id = next_id++;
  }
  who.calling_ae = TrimAeTitle(assoc->params->DULparams.callingAPTitle);
  who.called_ae = TrimAeTitle(assoc->params->DULparams.calledAPTitle);
  who.peer_address = assoc->params->DULparams.callingPresentationAddress;

  // The refusal is recorded before the sender learns of it.
  auto refuse = [&](T_ASC_RejectParametersResult result, T_ASC_RejectParametersSource source,
                    T_ASC_RejectParametersReason reason, std::string_view why) {
    handler->Refused(who, why);
    Reject(assoc, result, source, reason);
    DropAssociation(assoc, true);
  };
  if (std::string(assoc->params->DULparams.applicationContextName) != UID_StandardApplicationContext) {
    refuse(ASC_RESULT_REJECTEDPERMANENT, ASC_SOURCE_SERVICEUSER, ASC_REASON_SU_APPCONTEXTNAMENOTSUPPORTED,
           "application context name not supported");
    return;
  }
  if (who.called_ae != TrimAeTitle(options.ae_title)) {
    refuse(ASC_RESULT_REJECTEDPERMANENT, ASC_SOURCE_SERVICEUSER, ASC_REASON_SU_CALLEDAETITLENOTRECOGNIZED,
           "called AE title not recognized");
    return;
  }
  if (!IsValidAeTitle(who.calling_ae) || !handler->AcceptCalling(who)) {
    refuse(ASC_RESULT_REJECTEDPERMANENT, ASC_SOURCE_SERVICEUSER, ASC_REASON_SU_CALLINGAETITLENOTRECOGNIZED,
           "calling AE title not recognized");
    return;
  }
  bool over_limit = false;
  {
    std::lock_guard lock(mu);
    over_limit = active >= options.max_associations;
  }
  if (over_limit) {
    refuse(ASC_RESULT_REJECTEDTRANSIENT, ASC_SOURCE_SERVICEPROVIDER_PRESENTATION_RELATED,
           ASC_REASON_SP_PRES_LOCALLIMITEXCEEDED, "too many associations at once");
    return;
  }

  const char* verification[] = {UID_VerificationSOPClass};
  const char* uncompressed[] = {UID_LittleEndianExplicitTransferSyntax, UID_LittleEndianImplicitTransferSyntax};
  OFCondition cond = ASC_acceptContextsWithPreferredTransferSyntaxes(assoc->params, verification, 1, uncompressed, 2);
  std::vector<const char*> classes;
  for (const auto& uid : StorageSopClasses()) classes.push_back(uid.c_str());
  std::vector<const char*> syntaxes = AcceptedTransferSyntaxes();
  if (cond.good()) {
    cond = ASC_acceptContextsWithPreferredTransferSyntaxes(assoc->params, classes.data(),
                                                           static_cast<int>(classes.size()), syntaxes.data(),
                                                           static_cast<int>(syntaxes.size()));
  }
  if (cond.bad() || ASC_countAcceptedPresentationContexts(assoc->params) == 0) {
    refuse(ASC_RESULT_REJECTEDPERMANENT, ASC_SOURCE_SERVICEUSER, ASC_REASON_SU_NOREASON,
           "no acceptable presentation context");
    return;
  }
  if (ASC_acknowledgeAssociation(assoc).bad()) {
    DropAssociation(assoc, false);
    return;
  }
  std::lock_guard lock(mu);
  ++active;
  live[who.id].socket = socket;
  workers.emplace_back();
  Worker& worker = workers.back();
  worker.thread = std::thread([this, assoc, who, socket, &worker]() mutable {
    Serve(assoc, who, socket);
    handler->Ended(who);
    std::lock_guard done_lock(mu);
    --active;
    worker.done = true;
    changed.notify_all();
  });
}

void StoreScp::State::Serve(T_ASC_Association* assoc, const Association& who, DcmNativeSocketType socket) {
  bool released = false;
  for (;;) {
    {
      std::lock_guard lock(mu);
      if (stopping) {
        Abort(assoc, socket);
        break;
      }
      live[who.id].waiting = true;
    }
    T_ASC_PresentationContextID pres_id = 0;
    T_DIMSE_Message msg{};
    OFCondition cond =
        DIMSE_receiveCommand(assoc, DIMSE_NONBLOCKING, options.idle_timeout_seconds, &pres_id, &msg, nullptr);
    bool stopped = false;
    {
      std::lock_guard lock(mu);
      live[who.id].waiting = false;
      stopped = stopping;
    }
    if (cond == DIMSE_NODATAAVAILABLE || (cond.bad() && stopped)) {
      Abort(assoc, socket);  // idle too long, or the receiver stops
      break;
    }
    if (cond == DUL_PEERREQUESTEDRELEASE) {
      released = ASC_acknowledgeRelease(assoc).good();
      break;
    }
    if (cond == DUL_PEERABORTEDASSOCIATION) break;
    if (cond.bad()) {
      log::Warn("dicom receiver: association " + std::to_string(who.id) + " from " + who.calling_ae +
                ": " + cond.text());
      Abort(assoc, socket);
      break;
    }
    bool go_on = true;
    if (msg.CommandField == DIMSE_C_ECHO_RQ) {
      go_on = DIMSE_sendEchoResponse(assoc, pres_id, &msg.msg.CEchoRQ, STATUS_Success, nullptr).good();
    } else if (msg.CommandField == DIMSE_C_STORE_RQ) {
      go_on = HandleStore(assoc, pres_id, msg.msg.CStoreRQ, who);
    } else {
      log::Warn("dicom receiver: association " + std::to_string(who.id) + " sent an unsupported command (0x" +
                std::to_string(static_cast<int>(msg.CommandField)) + ")");
      go_on = false;
    }
    if (!go_on) {
      Abort(assoc, socket);
      break;
    }
  }
  DropAssociation(assoc, released);
  std::lock_guard lock(mu);
  live.erase(who.id);
}

bool StoreScp::State::HandleStore(T_ASC_Association* assoc, T_ASC_PresentationContextID pres_id,
                                  T_DIMSE_C_StoreRQ& req, const Association& who) {
  T_ASC_PresentationContext pc;
  if (ASC_findAcceptedPresentationContext(assoc->params, pres_id, &pc).bad()) return false;

  CappedStringStream stream(options.max_instance_bytes);
  // The Part 10 meta header (PS3.10 7.1) from the request and the negotiated syntax.
  DcmMetaInfo meta;
  const Uint8 version[2] = {0, 1};
  meta.putAndInsertUint8Array(DCM_FileMetaInformationVersion, version, 2);
  meta.putAndInsertString(DCM_MediaStorageSOPClassUID, req.AffectedSOPClassUID);
  meta.putAndInsertString(DCM_MediaStorageSOPInstanceUID, req.AffectedSOPInstanceUID);
  meta.putAndInsertString(DCM_TransferSyntaxUID, pc.acceptedTransferSyntax);
  meta.putAndInsertString(DCM_ImplementationClassUID, OFFIS_IMPLEMENTATION_CLASS_UID);
  meta.putAndInsertString(DCM_ImplementationVersionName, OFFIS_DTK_IMPLEMENTATION_VERSION_NAME);
  meta.putAndInsertString(DCM_SourceApplicationEntityTitle, who.calling_ae.c_str());
  meta.computeGroupLengthAndPadding(EGL_withGL, EPD_noChange, EXS_LittleEndianExplicit, EET_ExplicitLength);
  meta.transferInit();
  const OFCondition wrote = meta.write(stream, EXS_LittleEndianExplicit, EET_ExplicitLength, nullptr);
  meta.transferEnd();

  T_ASC_PresentationContextID data_pres_id = 0;
  OFCondition cond = DIMSE_receiveDataSetInFile(assoc, DIMSE_NONBLOCKING, options.idle_timeout_seconds,
                                                &data_pres_id, &stream, nullptr, nullptr);
  if (cond.bad()) {
    log::Warn("dicom receiver: association " + std::to_string(who.id) + ": receiving an instance failed: " +
              cond.text());
    return false;
  }

  StoreOutcome outcome;
  if (wrote.bad()) {
    outcome = {kStoreOutOfResources, "cannot make the file meta header"};
  } else if (stream.consumer().over()) {
    outcome = {kStoreOutOfResources,
               "instance larger than " + std::to_string(options.max_instance_bytes) + " bytes"};
  } else if (data_pres_id != pres_id) {
    outcome = {kStoreCannotUnderstand, "data set sent on another presentation context"};
  } else if (std::string(req.AffectedSOPClassUID) != pc.abstractSyntax) {
    outcome = {kStoreDataSetMismatch, "SOP Class differs from the presentation context's"};
  } else {
    outcome = handler->Store(who, stream.consumer().Take());
  }

  T_DIMSE_C_StoreRSP rsp{};
  rsp.MessageIDBeingRespondedTo = req.MessageID;
  rsp.DataSetType = DIMSE_DATASET_NULL;
  rsp.DimseStatus = outcome.status;
  OFStandard::strlcpy(rsp.AffectedSOPClassUID, req.AffectedSOPClassUID, sizeof(rsp.AffectedSOPClassUID));
  OFStandard::strlcpy(rsp.AffectedSOPInstanceUID, req.AffectedSOPInstanceUID, sizeof(rsp.AffectedSOPInstanceUID));
  rsp.opts = O_STORE_AFFECTEDSOPCLASSUID | O_STORE_AFFECTEDSOPINSTANCEUID;
  DcmDataset detail;
  const bool with_comment = outcome.status != kStoreSuccess && !outcome.comment.empty();
  if (with_comment) detail.putAndInsertString(DCM_ErrorComment, ErrorComment(outcome.comment).c_str());
  return DIMSE_sendStoreResponse(assoc, pres_id, &req, &rsp, with_comment ? &detail : nullptr).good();
}

StoreScp::StoreScp(std::unique_ptr<State> state) : state_(std::move(state)) {}

Result<std::unique_ptr<StoreScp>> StoreScp::Start(const StoreScpOptions& options, StoreHandler& handler) {
  CALIPER_RETURN_IF_ERROR(ValidateStoreScpOptions(options));
  auto state = std::make_unique<State>();
  state->options = options;
  state->handler = &handler;
  CALIPER_ASSIGN_OR_RETURN(state->listen_fd, Listen(options.host, options.port, state->port));
  if (pipe2(state->wake, O_CLOEXEC) != 0) {
    close(state->listen_fd);
    return Error(ErrorCode::kInternal, SocketError("pipe"));
  }
  // No reverse DNS for a connecting peer: its address is what we log and audit.
  dcmDisableGethostbyaddr.set(OFTrue);
  // DCMTK 3.6.7 binds its own acceptor socket to every IPv4 address; to listen on the configured
  // address only, the network is made as a requestor (no socket of its own) and given ours.
  OFCondition cond = ASC_initializeNetwork(NET_REQUESTOR, 0, options.idle_timeout_seconds, &state->network);
  if (cond.bad()) {
    close(state->listen_fd);
    close(state->wake[0]);
    close(state->wake[1]);
    return Error(ErrorCode::kInternal, std::string("DCMTK network: ") + cond.text());
  }
  ASC_setTransportLayer(state->network, &state->transport, 0);
  auto* key = reinterpret_cast<PRIVATE_NETWORKKEY*>(state->network->network);
  key->applicationFunction |= DICOM_APPLICATION_ACCEPTOR;
  key->networkSpecific.TCP.port = state->port;
  key->networkSpecific.TCP.listenSocket = state->listen_fd;  // closed by ASC_dropNetwork
  state->network->role = NET_ACCEPTORREQUESTOR;
  state->network->acceptorPort = state->port;
  State* s = state.get();
  s->acceptor = std::thread([s] { s->AcceptLoop(); });
  log::Info("dicom receiver listening on " + options.host + ":" + std::to_string(state->port) + " as " +
            TrimAeTitle(options.ae_title));
  return std::unique_ptr<StoreScp>(new StoreScp(std::move(state)));
}

int StoreScp::port() const { return state_->port; }

int StoreScp::active_associations() const {
  std::lock_guard lock(state_->mu);
  return state_->active;
}

void StoreScp::Stop() {
  State& s = *state_;
  {
    std::lock_guard lock(s.mu);
    if (s.stopping && !s.acceptor.joinable()) return;
    s.stopping = true;
    for (const auto& [id, association] : s.live) {
      if (association.waiting && association.socket != DCMNET_INVALID_SOCKET) shutdown(association.socket, SHUT_RD);
    }
  }
  const char byte = 1;
  [[maybe_unused]] const auto written = write(s.wake[1], &byte, 1);
  if (s.acceptor.joinable()) s.acceptor.join();
  // Each association ends after the message under way (a waiting one at once).
  std::list<State::Worker> all;
  {
    std::unique_lock lock(s.mu);
    s.changed.wait(lock, [&] { return s.active == 0; });
    all.swap(s.workers);
  }
  for (auto& w : all) w.thread.join();
  if (s.network != nullptr) ASC_dropNetwork(&s.network);
  close(s.wake[0]);
  close(s.wake[1]);
  s.wake[0] = s.wake[1] = -1;
}

StoreScp::~StoreScp() { Stop(); }

}  // namespace caliper::dicom

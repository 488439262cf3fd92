#include "caliper/dicom/store_scp.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmnet/assoc.h>
#include <dcmtk/dcmnet/dimse.h>
#include <dcmtk/dcmnet/dul.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <mutex>
#include <set>
#include <thread>

#include "dicom/codecs.h"
#include "dicom/test_support.h"

namespace caliper::dicom {
namespace {

namespace fs = std::filesystem;
using testing::Bytes;

// Records what the receiver hands over; accepts the calling titles in `allowed`; answers a
// Store with success when the bytes parse as DICOM, else with "cannot understand".
class RecordingHandler final : public StoreHandler {
 public:
  explicit RecordingHandler(std::set<std::string> allowed) : allowed_(std::move(allowed)) {}
  bool AcceptCalling(const Association& a) override { return allowed_.count(a.calling_ae) > 0; }
  void Refused(const Association& a, std::string_view reason) override {
    std::lock_guard lock(mu_);
    refused_.emplace_back(a.calling_ae, std::string(reason));
  }
  StoreOutcome Store(const Association& a, std::string part10) override {
    std::lock_guard lock(mu_);
    callers_.push_back(a.calling_ae);
    DcmFileFormat file;
    const auto* p = reinterpret_cast<const std::uint8_t*>(part10.data());
    Status read = ReadDicom({p, part10.size()}, file);
    if (!read.ok()) return {kStoreCannotUnderstand, read.message()};
    stored_.push_back(std::move(part10));
    return {};
  }
  void Ended(const Association& a) override {
    std::lock_guard lock(mu_);
    ended_.push_back(a.id);
  }

  std::vector<std::string> stored() {
    std::lock_guard lock(mu_);
    return stored_;
  }
  std::vector<std::pair<std::string, std::string>> refused() {
    std::lock_guard lock(mu_);
    return refused_;
  }
  std::size_t ended() {
    std::lock_guard lock(mu_);
    return ended_.size();
  }
  std::size_t store_calls() {
    std::lock_guard lock(mu_);
    return callers_.size();
  }

 private:
  const std::set<std::string> allowed_;
  std::mutex mu_;
  std::vector<std::string> stored_;
  std::vector<std::string> callers_;
  std::vector<std::pair<std::string, std::string>> refused_;
  std::vector<std::uint64_t> ended_;
};

// A small SCU on dcmnet, as a modality or PACS would send.
class Scu {
 public:
  ~Scu() {
    if (assoc_ != nullptr) {
      ASC_releaseAssociation(assoc_);
      ASC_destroyAssociation(&assoc_);
    }
    if (net_ != nullptr) ASC_dropNetwork(&net_);
  }

  // Requests an association proposing `sop_classes` (and Verification) in explicit VR little
  // endian. Returns the condition; a rejection's parameters land in reject().
  OFCondition Associate(int port, const std::string& calling, const std::string& called = "CALIPER",
                        std::vector<std::string> sop_classes = {UID_CTImageStorage}) {
    OFCondition cond = ASC_initializeNetwork(NET_REQUESTOR, 0, 10, &net_);
    if (cond.bad()) return cond;
    T_ASC_Parameters* params = nullptr;
    ASC_createAssociationParameters(&params, ASC_DEFAULTMAXPDU);
    ASC_setAPTitles(params, calling.c_str(), called.c_str(), nullptr);
    const std::string peer = "127.0.0.1:" + std::to_string(port);
    ASC_setPresentationAddresses(params, "localhost", peer.c_str());
    const char* syntaxes[] = {UID_LittleEndianExplicitTransferSyntax};
    sop_classes.insert(sop_classes.begin(), UID_VerificationSOPClass);
    T_ASC_PresentationContextID id = 1;
    for (const auto& uid : sop_classes) {
      ASC_addPresentationContext(params, id, uid.c_str(), syntaxes, 1);
      id += 2;
    }
    cond = ASC_requestAssociation(net_, params, &assoc_);
    if (cond == DUL_ASSOCIATIONREJECTED) ASC_getRejectParameters(params, &reject_);
    if (cond.bad()) {
      ASC_destroyAssociation(&assoc_);  // frees params too
      assoc_ = nullptr;
      return cond;
    }
    return cond;
  }

  const T_ASC_RejectParameters& reject() const { return reject_; }
  T_ASC_Association* assoc() { return assoc_; }

  Result<std::uint16_t> Echo() {
    DIC_US status = 0;
    DcmDataset* detail = nullptr;
    OFCondition cond = DIMSE_echoUser(assoc_, assoc_->nextMsgID++, DIMSE_BLOCKING, 0, &status, &detail);
    delete detail;
    if (cond.bad()) return Error(ErrorCode::kUnavailable, cond.text());
    return static_cast<std::uint16_t>(status);
  }

  // Sends one Part 10 file; the response's status and Error Comment.
  Result<std::pair<std::uint16_t, std::string>> Store(const Bytes& part10) {
    DcmFileFormat file;
    CALIPER_RETURN_IF_ERROR(ReadDicom(part10, file));
    DcmDataset* ds = file.getDataset();
    OFString sop_class, sop_instance;
    ds->findAndGetOFString(DCM_SOPClassUID, sop_class);
    ds->findAndGetOFString(DCM_SOPInstanceUID, sop_instance);
    const T_ASC_PresentationContextID pres = ASC_findAcceptedPresentationContextID(assoc_, sop_class.c_str());
    if (pres == 0) return Error(ErrorCode::kUnsupported, "no presentation context for " + std::string(sop_class.c_str()));
    T_DIMSE_C_StoreRQ req{};
    req.MessageID = assoc_->nextMsgID++;
    OFStandard::strlcpy(req.AffectedSOPClassUID, sop_class.c_str(), sizeof(req.AffectedSOPClassUID));
    OFStandard::strlcpy(req.AffectedSOPInstanceUID, sop_instance.c_str(), sizeof(req.AffectedSOPInstanceUID));
    req.DataSetType = DIMSE_DATASET_PRESENT;
    req.Priority = DIMSE_PRIORITY_MEDIUM;
    T_DIMSE_C_StoreRSP rsp{};
    DcmDataset* detail = nullptr;
    OFCondition cond = DIMSE_storeUser(assoc_, pres, &req, nullptr, ds, nullptr, nullptr, DIMSE_BLOCKING, 0, &rsp,
                                       &detail);
    if (cond.bad()) return Error(ErrorCode::kUnavailable, cond.text());
    return std::make_pair(static_cast<std::uint16_t>(rsp.DimseStatus), CommentOf(detail));
  }

  // Sends a C-STORE-RQ for a CT instance whose data set is `raw` bytes, as they are (not
  // DICOM, truncated, ...); the response's status and Error Comment.
  Result<std::pair<std::uint16_t, std::string>> StoreRaw(const std::string& raw) {
    const T_ASC_PresentationContextID pres = ASC_findAcceptedPresentationContextID(assoc_, UID_CTImageStorage);
    // The command set (PS3.7 9.3.1.1), implicit VR little endian, written out by hand since
    // DCMTK will not announce a data set it does not send itself.
    auto element = [](std::uint16_t tag, std::string value) {
      if (value.size() % 2 != 0) value.push_back('\0');
      std::string e(8, '\0');
      e[2] = static_cast<char>(tag & 0xFF);
      e[3] = static_cast<char>(tag >> 8);
      const auto n = static_cast<std::uint32_t>(value.size());
      for (int i = 0; i < 4; ++i) e[4 + i] = static_cast<char>((n >> (8 * i)) & 0xFF);
      return e + value;
    };
    auto us = [](std::uint16_t v) { return std::string{static_cast<char>(v & 0xFF), static_cast<char>(v >> 8)}; };
    std::string body = element(0x0002, UID_CTImageStorage) + element(0x0100, us(0x0001)) +
                       element(0x0110, us(assoc_->nextMsgID++)) + element(0x0700, us(0x0000)) +
                       element(0x0800, us(0x0000)) + element(0x1000, "2.25.1234");
    std::string length(4, '\0');
    for (int i = 0; i < 4; ++i) length[i] = static_cast<char>((body.size() >> (8 * i)) & 0xFF);
    std::string command = element(0x0000, length) + body;
    std::string data = raw;
    DUL_PDV pdvs[2]{};
    pdvs[0].fragmentLength = static_cast<unsigned long>(command.size());
    pdvs[0].presentationContextID = pres;
    pdvs[0].pdvType = DUL_COMMANDPDV;
    pdvs[0].lastPDV = OFTrue;
    pdvs[0].data = command.data();
    pdvs[1].fragmentLength = static_cast<unsigned long>(data.size());
    pdvs[1].presentationContextID = pres;
    pdvs[1].pdvType = DUL_DATASETPDV;
    pdvs[1].lastPDV = OFTrue;
    pdvs[1].data = data.data();
    for (DUL_PDV& pdv : pdvs) {
      DUL_PDVLIST list{};
      list.count = 1;
      list.pdv = &pdv;
      OFCondition cond = DUL_WritePDVs(&assoc_->DULassociation, &list);
      if (cond.bad()) return Error(ErrorCode::kUnavailable, cond.text());
    }
    T_ASC_PresentationContextID rsp_pres = 0;
    T_DIMSE_Message rsp{};
    DcmDataset* detail = nullptr;
    OFCondition cond = DIMSE_receiveCommand(assoc_, DIMSE_BLOCKING, 0, &rsp_pres, &rsp, &detail);
    if (cond.bad()) return Error(ErrorCode::kUnavailable, std::string("response: ") + cond.text());
    if (rsp.CommandField != DIMSE_C_STORE_RSP) return Error(ErrorCode::kInternal, "not a C-STORE-RSP");
    return std::make_pair(static_cast<std::uint16_t>(rsp.msg.CStoreRSP.DimseStatus), CommentOf(detail));
  }

 private:
  static std::string CommentOf(DcmDataset* detail) {
    std::string comment;
    if (detail != nullptr) {
      OFString text;
      if (detail->findAndGetOFString(DCM_ErrorComment, text).good()) comment = text.c_str();
      delete detail;
    }
    return comment;
  }

  T_ASC_Network* net_ = nullptr;
  T_ASC_Association* assoc_ = nullptr;
  T_ASC_RejectParameters reject_{};
};

class StoreScpTest : public ::testing::Test {
 protected:
  void Start(StoreScpOptions options = {}) {
    options.port = 0;
    auto scp = StoreScp::Start(options, handler_);
    ASSERT_TRUE(scp.ok()) << scp.status().ToString();
    scp_ = std::move(*scp);
    ASSERT_GT(scp_->port(), 0);
  }
  static std::vector<Bytes> Phantom(int slices, std::uint64_t seed) {
    CtPhantomOptions o;
    o.slices = slices;
    o.rows = o.cols = 16;
    o.seed = seed;
    return testing::Series(o);
  }
  // Waits up to 5 s for `done`.
  static bool Eventually(const std::function<bool()>& done) {
    for (int i = 0; i < 500; ++i) {
      if (done()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return done();
  }

  RecordingHandler handler_{{"CT1", "PACS"}};
  std::unique_ptr<StoreScp> scp_;
};

TEST_F(StoreScpTest, AnswersEcho) {
  Start();
  Scu scu;
  ASSERT_TRUE(scu.Associate(scp_->port(), "CT1").good());
  auto status = scu.Echo();
  ASSERT_TRUE(status.ok()) << status.status().ToString();
  EXPECT_EQ(*status, STATUS_Success);
}

TEST_F(StoreScpTest, RejectsAnUnknownCallingAeTitleAndStoresNothing) {
  Start();
  Scu scu;
  OFCondition cond = scu.Associate(scp_->port(), "INTRUDER");
  ASSERT_EQ(cond, DUL_ASSOCIATIONREJECTED) << cond.text();
  EXPECT_EQ(scu.reject().result, ASC_RESULT_REJECTEDPERMANENT);
  EXPECT_EQ(scu.reject().source, ASC_SOURCE_SERVICEUSER);
  EXPECT_EQ(scu.reject().reason, ASC_REASON_SU_CALLINGAETITLENOTRECOGNIZED);
  auto refused = handler_.refused();
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_EQ(refused[0].first, "INTRUDER");
  EXPECT_EQ(refused[0].second, "calling AE title not recognized");
  EXPECT_EQ(handler_.store_calls(), 0u);
}

TEST_F(StoreScpTest, RejectsAnotherCalledAeTitle) {
  Start();
  Scu scu;
  ASSERT_EQ(scu.Associate(scp_->port(), "CT1", "OTHER"), DUL_ASSOCIATIONREJECTED);
  EXPECT_EQ(scu.reject().reason, ASC_REASON_SU_CALLEDAETITLENOTRECOGNIZED);
}

TEST_F(StoreScpTest, RejectsAnAssociationWithNoStorageClassWeAccept) {
  Start();
  Scu scu;
  ASSERT_EQ(scu.Associate(scp_->port(), "CT1", "CALIPER", {UID_RawDataStorage}), EC_Normal);
  // Verification was proposed too, so the association stands; the raw data class does not.
  EXPECT_EQ(ASC_findAcceptedPresentationContextID(scu.assoc(), UID_RawDataStorage), 0);
}

TEST_F(StoreScpTest, ReceivesASeriesIntoMemoryAsPart10Files) {
  Start();
  const auto series = Phantom(5, 11);
  {
    Scu scu;
    ASSERT_TRUE(scu.Associate(scp_->port(), "CT1").good());
    for (const auto& file : series) {
      auto r = scu.Store(file);
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      EXPECT_EQ(r->first, kStoreSuccess) << r->second;
    }
  }
  ASSERT_TRUE(Eventually([&] { return handler_.ended() == 1; }));
  const auto stored = handler_.stored();
  ASSERT_EQ(stored.size(), series.size());
  for (std::size_t i = 0; i < series.size(); ++i) {
    ASSERT_GT(stored[i].size(), 132u);
    EXPECT_EQ(stored[i].substr(128, 4), "DICM");
    DcmFileFormat sent, got;
    ASSERT_TRUE(ReadDicom(series[i], sent).ok());
    ASSERT_TRUE(ReadDicom({reinterpret_cast<const std::uint8_t*>(stored[i].data()), stored[i].size()}, got).ok());
    OFString a, b, ts, source;
    sent.getDataset()->findAndGetOFString(DCM_SOPInstanceUID, a);
    got.getDataset()->findAndGetOFString(DCM_SOPInstanceUID, b);
    EXPECT_EQ(a, b);
    got.getMetaInfo()->findAndGetOFString(DCM_MediaStorageSOPInstanceUID, b);
    EXPECT_EQ(a, b);
    got.getMetaInfo()->findAndGetOFString(DCM_TransferSyntaxUID, ts);
    EXPECT_EQ(ts, UID_LittleEndianExplicitTransferSyntax);
    got.getMetaInfo()->findAndGetOFString(DCM_SourceApplicationEntityTitle, source);
    EXPECT_EQ(source, "CT1");
    // The pixels arrive unchanged.
    const Uint8 *pa = nullptr, *pb = nullptr;
    unsigned long na = 0, nb = 0;
    ASSERT_TRUE(sent.getDataset()->findAndGetUint8Array(DCM_PixelData, pa, &na).good());
    ASSERT_TRUE(got.getDataset()->findAndGetUint8Array(DCM_PixelData, pb, &nb).good());
    ASSERT_EQ(na, nb);
    EXPECT_EQ(std::memcmp(pa, pb, na), 0);
  }
}

TEST_F(StoreScpTest, ABadPayloadGetsAFailureStatusAndTheAssociationGoesOn) {
  Start();
  const auto series = Phantom(2, 12);
  Scu scu;
  ASSERT_TRUE(scu.Associate(scp_->port(), "PACS").good());
  auto garbage = scu.StoreRaw("this is not a DICOM data set, at all");
  ASSERT_TRUE(garbage.ok()) << garbage.status().ToString();
  EXPECT_EQ(garbage->first, kStoreCannotUnderstand);
  EXPECT_FALSE(garbage->second.empty());
  EXPECT_LE(garbage->second.size(), 64u);
  // A data set cut off in the middle of its Pixel Data (PDVs have even lengths).
  // The data set after the meta header: (0002,0000) at 132 holds the group's length at 140.
  const std::uint32_t meta_length = series[0][140] | (series[0][141] << 8) | (series[0][142] << 16) |
                                    (static_cast<std::uint32_t>(series[0][143]) << 24);
  const std::string whole(series[0].begin() + 144 + meta_length, series[0].end());
  ASSERT_EQ(whole.size() % 2, 0u);
  auto truncated = scu.StoreRaw(whole.substr(0, whole.size() - 100));
  ASSERT_TRUE(truncated.ok()) << truncated.status().ToString();
  EXPECT_EQ(truncated->first, kStoreCannotUnderstand) << truncated->second;
  auto good = scu.Store(series[1]);
  ASSERT_TRUE(good.ok()) << good.status().ToString();
  EXPECT_EQ(good->first, kStoreSuccess);
  EXPECT_EQ(handler_.stored().size(), 1u);
}

TEST_F(StoreScpTest, RefusesAnInstanceOverTheSizeCapAndGoesOn) {
  StoreScpOptions options;
  options.max_instance_bytes = 1024;
  Start(options);
  Scu scu;
  ASSERT_TRUE(scu.Associate(scp_->port(), "CT1").good());
  auto big = scu.Store(Phantom(1, 13)[0]);
  ASSERT_TRUE(big.ok()) << big.status().ToString();
  EXPECT_EQ(big->first, kStoreOutOfResources);
  EXPECT_EQ(big->second, "instance larger than 1024 bytes");
  EXPECT_EQ(handler_.store_calls(), 0u);
  auto echo = scu.Echo();
  ASSERT_TRUE(echo.ok()) << echo.status().ToString();
  EXPECT_EQ(*echo, STATUS_Success);
}

TEST_F(StoreScpTest, CapsConcurrentAssociations) {
  StoreScpOptions options;
  options.max_associations = 1;
  Start(options);
  auto first = std::make_unique<Scu>();
  ASSERT_TRUE(first->Associate(scp_->port(), "CT1").good());
  ASSERT_TRUE(Eventually([&] { return scp_->active_associations() == 1; }));
  Scu second;
  ASSERT_EQ(second.Associate(scp_->port(), "CT1"), DUL_ASSOCIATIONREJECTED);
  EXPECT_EQ(second.reject().result, ASC_RESULT_REJECTEDTRANSIENT);
  EXPECT_EQ(second.reject().reason, ASC_REASON_SP_PRES_LOCALLIMITEXCEEDED);
  first.reset();  // released
  ASSERT_TRUE(Eventually([&] { return scp_->active_associations() == 0; }));
  Scu third;
  EXPECT_TRUE(third.Associate(scp_->port(), "CT1").good());
}

TEST_F(StoreScpTest, AbortsAnIdleAssociation) {
  StoreScpOptions options;
  options.idle_timeout_seconds = 1;
  Start(options);
  Scu scu;
  ASSERT_TRUE(scu.Associate(scp_->port(), "CT1").good());
  ASSERT_TRUE(Eventually([&] { return handler_.ended() == 1; }));
  EXPECT_FALSE(scu.Echo().ok());
}

TEST_F(StoreScpTest, StopEndsAnOpenAssociation) {
  Start();
  Scu scu;
  ASSERT_TRUE(scu.Associate(scp_->port(), "CT1").good());
  ASSERT_TRUE(Eventually([&] { return scp_->active_associations() == 1; }));
  const auto begin = std::chrono::steady_clock::now();
  scp_->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - begin, std::chrono::seconds(5));
  EXPECT_EQ(handler_.ended(), 1u);
  EXPECT_FALSE(scu.Echo().ok());
}

TEST_F(StoreScpTest, ListensOnlyWhereTold) {
  Start();
  StoreScpOptions again;
  again.port = scp_->port();
  auto taken = StoreScp::Start(again, handler_);
  ASSERT_FALSE(taken.ok());
  EXPECT_EQ(taken.status().code(), ErrorCode::kUnavailable);
  again.host = "no-such-host.invalid";
  again.port = 0;
  EXPECT_EQ(StoreScp::Start(again, handler_).status().code(), ErrorCode::kUnavailable);
}

TEST(StoreScpOptionsTest, ValidatesAeTitlesAndLimits) {
  EXPECT_TRUE(IsValidAeTitle("CT1"));
  EXPECT_TRUE(IsValidAeTitle(" CT 1 "));
  EXPECT_TRUE(IsValidAeTitle("ABCDEFGHIJKLMNOP"));
  EXPECT_FALSE(IsValidAeTitle(""));
  EXPECT_FALSE(IsValidAeTitle("    "));
  EXPECT_FALSE(IsValidAeTitle("ABCDEFGHIJKLMNOPQ"));
  EXPECT_FALSE(IsValidAeTitle("CT\\1"));
  EXPECT_FALSE(IsValidAeTitle("CT\t1"));
  EXPECT_FALSE(IsValidAeTitle("CT\xC3\xA9"));
  EXPECT_EQ(TrimAeTitle("  CT 1  "), "CT 1");

  StoreScpOptions o;
  EXPECT_TRUE(ValidateStoreScpOptions(o).ok());
  o.max_pdu_bytes = 1000;
  EXPECT_EQ(ValidateStoreScpOptions(o).code(), ErrorCode::kInvalidArgument);
  o = {};
  o.ae_title = "";
  EXPECT_EQ(ValidateStoreScpOptions(o).code(), ErrorCode::kInvalidArgument);
  o = {};
  o.max_associations = 0;
  EXPECT_EQ(ValidateStoreScpOptions(o).code(), ErrorCode::kInvalidArgument);
  o = {};
  o.idle_timeout_seconds = 0;
  EXPECT_EQ(ValidateStoreScpOptions(o).code(), ErrorCode::kInvalidArgument);
}

// The receiver with DCMTK's own command-line SCUs, as an administrator would test it.
TEST_F(StoreScpTest, WorksWithEchoscuAndStorescu) {
  ASSERT_TRUE(fs::exists("/usr/bin/storescu") && fs::exists("/usr/bin/echoscu"))
      << "install the Debian package dcmtk (scripts/bootstrap.sh)";
  Start();
  const std::string port = std::to_string(scp_->port());
  EXPECT_EQ(std::system(("echoscu -q -aet CT1 -aec CALIPER 127.0.0.1 " + port).c_str()), 0);
  const fs::path dir = fs::temp_directory_path() / ("caliper_scp_test_" + std::to_string(getpid()));
  CtPhantomOptions o;
  o.slices = 3;
  o.rows = o.cols = 16;
  std::vector<std::string> files;
  ASSERT_TRUE(WriteCtPhantomSeries(o, dir.string(), &files).ok());
  std::string command = "storescu -q -aet CT1 -aec CALIPER 127.0.0.1 " + port;
  for (const auto& f : files) command += " " + f;
  EXPECT_EQ(std::system(command.c_str()), 0);
  // An unknown title is refused: storescu fails and nothing arrives.
  EXPECT_NE(std::system(("storescu -q -aet NOBODY -aec CALIPER 127.0.0.1 " + port + " " + files[0]).c_str()), 0);
  fs::remove_all(dir);
  ASSERT_TRUE(Eventually([&] { return handler_.ended() == 2; }));
  EXPECT_EQ(handler_.stored().size(), 3u);
  EXPECT_EQ(handler_.refused().size(), 1u);
}

}  // namespace
}  // namespace caliper::dicom

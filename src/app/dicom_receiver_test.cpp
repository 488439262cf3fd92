// The C-STORE receiver through the App, driven by DCMTK's storescu and echoscu over loopback:
// the projects' lists of DICOM sources, refused associations, instances de-identified into one
// item per series with one volume build per association, duplicates, bad payloads, audit.

#include "caliper/app/dicom_receiver.h"

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <thread>

#include "app/app_test_support.h"
#include "caliper/app/app.h"
#include "caliper/common/sample_data.h"
#include "caliper/dicom/phantom.h"

namespace caliper::app {
namespace {

namespace fs = std::filesystem;

constexpr std::uint64_t kSeed = 31;

struct Event {
  std::string action, actor, outcome, details;
};

class DicomReceiverTest : public ProjectAppTest {
 protected:
  DicomReceiverTest() : ProjectAppTest("caliper_dicom_receiver_test_", "Receiver") {}

  void SetUp() override {
    ProjectAppTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_TRUE(fs::exists("/usr/bin/storescu") && fs::exists("/usr/bin/echoscu"))
        << "install the Debian package dcmtk (scripts/bootstrap.sh)";
    auto sources = app_->PutDicomSources(LocalOperator(), project_id_, {{"CT1", "CT scanner"}});
    ASSERT_TRUE(sources.ok()) << sources.status().ToString();
    dicom::StoreScpOptions options;
    options.port = 0;
    auto receiver = DicomReceiver::Start(*app_, options);
    ASSERT_TRUE(receiver.ok()) << receiver.status().ToString();
    receiver_ = std::move(*receiver);
  }
  void TearDown() override {
    receiver_.reset();
    ProjectAppTest::TearDown();
  }

  // Writes the phantom series (fake PHI: DOE^JANE^Q, MRN-000123) and returns its files.
  std::vector<std::string> PhantomFiles(int slices) {
    dicom::CtPhantomOptions o;
    o.slices = slices;
    o.rows = o.cols = 16;
    o.seed = kSeed;
    std::vector<std::string> files;
    EXPECT_TRUE(dicom::WriteCtPhantomSeries(o, (dir_ / "send").string(), &files).ok());
    return files;
  }

  // storescu's exit status sending `files` in one association as `calling_ae`.
  int StoreScu(const std::string& calling_ae, const std::vector<std::string>& files) {
    std::string command = "storescu -q -aet " + calling_ae + " -aec CALIPER 127.0.0.1 " +
                          std::to_string(receiver_->port());
    for (const auto& f : files) command += " '" + f + "'";
    return std::system(command.c_str());
  }

  std::vector<Event> Events() {
    std::vector<Event> events;
    EXPECT_TRUE(app_->ExportAudit(LocalOperator(), 0, SystemClock::Instance().Now() + kMicrosPerHour,
                                  [&](const storage::AuditEvent& e) {
                                    events.push_back({e.action, e.actor, e.outcome, e.details_json});
                                    return Status::Ok();
                                  })
                    .ok());
    return events;
  }
  int Count(const std::string& action) {
    int n = 0;
    for (const auto& e : Events()) n += e.action == action;
    return n;
  }
  // Waits (up to 20 s) until `action` has been audited `n` times: the receiver finishes an
  // association (volume builds) just after the sender is told it was released.
  bool AwaitCount(const std::string& action, int n) {
    for (int i = 0; i < 400 && Count(action) < n; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    return Count(action) == n;
  }

  // Whether `text` appears in clear in any file of the deployment (database, WAL, blobs).
  bool InDataDirectory(const std::string& text) {
    for (const auto& entry : fs::recursive_directory_iterator(dir_)) {
      if (!entry.is_regular_file() || entry.path().string().find("/send/") != std::string::npos) continue;
      std::ifstream in(entry.path(), std::ios::binary);
      const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      if (bytes.find(text) != std::string::npos) return true;
    }
    return false;
  }

  std::unique_ptr<DicomReceiver> receiver_;
};

TEST_F(DicomReceiverTest, AnswersEchoFromAnAllowedTitle) {
  const std::string port = std::to_string(receiver_->port());
  EXPECT_EQ(std::system(("echoscu -q -aet CT1 -aec CALIPER 127.0.0.1 " + port).c_str()), 0);
  EXPECT_NE(std::system(("echoscu -q -aet CT1 -aec WRONG 127.0.0.1 " + port).c_str()), 0);
}

TEST_F(DicomReceiverTest, StoresASeriesAsOneDeidentifiedItemWithOneVolumeBuild) {
  const auto files = PhantomFiles(12);
  ASSERT_EQ(StoreScu("CT1", files), 0);
  ASSERT_TRUE(AwaitCount("imaging.volume_build", 1));
  EXPECT_EQ(ItemCount(), 1u);
  auto items = app_->ListItems(LocalOperator(), project_id_, {"", 10});
  ASSERT_TRUE(items.ok() && items->rows.size() == 1u);
  const core::Item& item = items->rows[0];
  EXPECT_EQ(item.modality, "CT");
  EXPECT_EQ(item.content_type, "application/gzip");  // the volume, as NIfTI
  EXPECT_EQ(item.created_by, "dicom:CT1");
  auto volume = app_->ReadVolumeNifti(LocalOperator(), item.id);
  EXPECT_TRUE(volume.ok()) << volume.status().ToString();

  // Every instance was ingested and audited as its sender; the volume was built once.
  int ingests = 0, series = 0;
  for (const auto& e : Events()) {
    if (e.action == "dicom.ingest" || e.action == "imaging.series_ingest" || e.action == "imaging.volume_build") {
      EXPECT_EQ(e.actor, "dicom:CT1") << e.action;
    }
    ingests += e.action == "dicom.ingest";
    series += e.action == "imaging.series_ingest";
  }
  EXPECT_EQ(ingests, 12);
  EXPECT_EQ(series, 12);
  EXPECT_EQ(Count("imaging.volume_build"), 1);

  // No original identifier is kept in clear anywhere: names, ids, UIDs.
  for (const std::string& original :
       {std::string("DOE^JANE"), std::string("MRN-000123"), std::string("ACC-20250312-0042"),
        dicom::DeriveUid(kSeed, "study"), dicom::DeriveUid(kSeed, "series"), dicom::DeriveUid(kSeed, "sop/0")}) {
    EXPECT_FALSE(InDataDirectory(original)) << original;
  }
  // The original identity stays reachable for data stewards only, through the link.
  auto link = app_->ReadReidentificationLink(LocalOperator(), item.id);
  ASSERT_TRUE(link.ok()) << link.status().ToString();
  EXPECT_NE(link->find("MRN-000123"), std::string::npos);
}

TEST_F(DicomReceiverTest, TheSameSeriesAgainGivesDuplicatesNotNewItems) {
  const auto files = PhantomFiles(4);
  ASSERT_EQ(StoreScu("CT1", files), 0);
  ASSERT_TRUE(AwaitCount("imaging.volume_build", 1));
  ASSERT_EQ(StoreScu("CT1", files), 0);  // duplicates are a success for the sender
  ASSERT_TRUE(AwaitCount("dicom.ingest", 8));
  EXPECT_EQ(ItemCount(), 1u);
  EXPECT_EQ(Count("imaging.series_ingest"), 4);  // only the first sending stored instances
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(Count("imaging.volume_build"), 1);  // nothing new to build
}

TEST_F(DicomReceiverTest, RefusesAnUnknownTitleAuditsItAndStoresNothing) {
  const auto files = PhantomFiles(2);
  EXPECT_NE(StoreScu("STRANGER", files), 0);
  ASSERT_TRUE(AwaitCount("dicom.association_refused", 1));
  EXPECT_EQ(ItemCount(), 0u);
  EXPECT_EQ(Count("dicom.ingest"), 0);
  for (const auto& e : Events()) {
    if (e.action != "dicom.association_refused") continue;
    EXPECT_EQ(e.actor, "dicom:STRANGER");
    EXPECT_EQ(e.outcome, "denied");
    EXPECT_NE(e.details.find("calling AE title not recognized"), std::string::npos) << e.details;
  }
}

TEST_F(DicomReceiverTest, ABadPayloadIsRefusedAndNothingIsStored) {
  dicom::Association who;
  who.id = 77;
  who.calling_ae = "CT1";
  who.peer_address = "127.0.0.1";
  const dicom::StoreOutcome garbage = receiver_->Store(who, "not DICOM at all");
  EXPECT_EQ(garbage.status, dicom::kStoreCannotUnderstand);
  EXPECT_FALSE(garbage.comment.empty());
  std::ifstream in(PhantomFiles(1)[0], std::ios::binary);
  std::string file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const dicom::StoreOutcome truncated = receiver_->Store(who, file.substr(0, file.size() / 2));
  EXPECT_EQ(truncated.status, dicom::kStoreCannotUnderstand) << truncated.comment;
  // A title taken off the list meanwhile is no longer authorised.
  ASSERT_TRUE(app_->PutDicomSources(LocalOperator(), project_id_, {}).ok());
  EXPECT_EQ(receiver_->Store(who, file).status, 0x0124);
  receiver_->Ended(who);
  EXPECT_EQ(ItemCount(), 0u);
}

TEST_F(DicomReceiverTest, AnInstanceThatCannotJoinItsSeriesIsRefusedAndTheAssociationGoesOn) {
  dicom::Association who;
  who.id = 78;
  who.calling_ae = "CT1";
  who.peer_address = "127.0.0.1";
  dicom::CtPhantomOptions o;
  o.slices = 3;
  o.rows = o.cols = 16;
  o.seed = kSeed;
  auto series = dicom::MakeCtPhantomSeries(o);
  o.sop_label = "elsewhere";
  o.frame_of_reference_label = "elsewhere";
  auto odd = dicom::MakeCtPhantomSeries(o);
  ASSERT_TRUE(series.ok() && odd.ok());
  auto store = [&](const std::vector<std::uint8_t>& bytes) {
    return receiver_->Store(who, std::string(bytes.begin(), bytes.end()));
  };
  EXPECT_EQ(store(series->at(0)).status, dicom::kStoreSuccess);
  const dicom::StoreOutcome refused = store(odd->at(1));
  EXPECT_EQ(refused.status, dicom::kStoreProcessingFailure);
  EXPECT_EQ(refused.comment.rfind("inconsistent with series 2.25.", 0), 0u) << refused.comment;
  EXPECT_NE(refused.comment.find("Frame of Reference UID"), std::string::npos) << refused.comment;
  EXPECT_EQ(store(series->at(1)).status, dicom::kStoreSuccess);
  EXPECT_EQ(store(series->at(2)).status, dicom::kStoreSuccess);
  receiver_->Ended(who);
  ASSERT_TRUE(AwaitCount("imaging.volume_build", 1));
  EXPECT_EQ(Count("imaging.series_ingest"), 3);
  auto items = app_->ListItems(LocalOperator(), project_id_, {"", 10});
  ASSERT_TRUE(items.ok() && items->rows.size() == 1u);
  EXPECT_EQ(items->rows[0].content_type, "application/gzip") << "the three slices built";
}

TEST_F(DicomReceiverTest, AnInstanceAtBurnedInRiskIsAcceptedIntoTheQuarantineNotAnItem) {
  auto us = dicom::MakeUltrasoundCinePhantom(2, 16, 16, /*ybr_planar=*/false, 4);
  ASSERT_TRUE(us.ok()) << us.status().ToString();
  const fs::path file = dir_ / "us.dcm";
  std::ofstream(file, std::ios::binary).write(reinterpret_cast<const char*>(us->data()),
                                              static_cast<std::streamsize>(us->size()));
  EXPECT_EQ(StoreScu("CT1", {file.string()}), 0) << "delivered: the sender must not retry";
  ASSERT_TRUE(AwaitCount("quarantine.add", 1));
  EXPECT_EQ(ItemCount(), 0u);
  auto pending = app_->ListQuarantine(LocalOperator(), project_id_, "pending", {});
  ASSERT_TRUE(pending.ok()) << pending.status().ToString();
  ASSERT_EQ(pending->rows.size(), 1u);
  EXPECT_EQ(pending->rows[0].modality, "US");
  EXPECT_EQ(pending->rows[0].created_by, "dicom:CT1");
  // Sent again: the one pending entry, still accepted.
  EXPECT_EQ(StoreScu("CT1", {file.string()}), 0);
  ASSERT_TRUE(AwaitCount("dicom.ingest", 2));
  EXPECT_EQ(Count("quarantine.add"), 1);
}

TEST_F(DicomReceiverTest, StoresARealSeriesFromTheSampleData) {
  const auto readme = SampleDataFile("dicom-series/README.md");
  if (!readme) {
    if (SampleDataRequired()) FAIL() << "CALIPER_SAMPLE_DATA has no dicom-series/";
    GTEST_SKIP() << "CALIPER_SAMPLE_DATA not set";
  }
  const fs::path dir = fs::path(*readme).parent_path() / "mr-t1-sag-dcm_qa_decubitus";
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() == ".dcm") files.push_back(entry.path().string());
  }
  ASSERT_FALSE(files.empty()) << dir;
  ASSERT_EQ(StoreScu("CT1", files), 0);
  ASSERT_TRUE(AwaitCount("imaging.volume_build", 1));
  EXPECT_EQ(ItemCount(), 1u);
  EXPECT_EQ(Count("dicom.ingest"), static_cast<int>(files.size()));
}

TEST_F(DicomReceiverTest, DicomSourcesAreValidatedExclusiveAndAudited) {
  auto other = app_->CreateProject(LocalOperator(), "Other", "");
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(app_->PutDicomSources(LocalOperator(), other->id, {{"CT1", ""}}).status().code(), ErrorCode::kConflict);
  for (const char* bad : {"", "   ", "ABCDEFGHIJKLMNOPQ", "A\\B", "A\nB"}) {
    EXPECT_EQ(app_->PutDicomSources(LocalOperator(), other->id, {{bad, ""}}).status().code(),
              ErrorCode::kInvalidArgument)
        << bad;
  }
  EXPECT_EQ(app_->PutDicomSources(LocalOperator(), other->id, {{"MR1", ""}, {" MR1 ", ""}}).status().code(),
            ErrorCode::kInvalidArgument);
  auto saved = app_->PutDicomSources(LocalOperator(), other->id, {{" MR1 ", "3 T scanner"}, {"AB", ""}});
  ASSERT_TRUE(saved.ok()) << saved.status().ToString();
  ASSERT_EQ(saved->size(), 2u);
  EXPECT_EQ((*saved)[0].ae_title, "AB");
  EXPECT_EQ((*saved)[1].ae_title, "MR1");
  auto project = app_->ProjectOfDicomSource("  MR1");
  ASSERT_TRUE(project.ok());
  EXPECT_EQ(*project, other->id);
  EXPECT_EQ(Count("project.dicom_sources"), 2);  // SetUp's and this one
}

TEST(DicomReceiverOptionsTest, ComeFromTheSettings) {
  Config config;
  auto off = StoreScpOptionsFrom(config);
  ASSERT_TRUE(off.ok());
  EXPECT_FALSE(off->has_value());
  ASSERT_TRUE(config.Set("dicom_scp.listen", "127.0.0.1:11112").ok());
  ASSERT_TRUE(config.Set("dicom_scp.ae_title", "RESEARCH").ok());
  auto on = StoreScpOptionsFrom(config);
  ASSERT_TRUE(on.ok() && on->has_value()) << on.status().ToString();
  EXPECT_EQ((*on)->host, "127.0.0.1");
  EXPECT_EQ((*on)->port, 11112);
  EXPECT_EQ((*on)->ae_title, "RESEARCH");
  EXPECT_EQ((*on)->max_associations, 8);
  for (const char* bad : {"11112", "127.0.0.1:", "127.0.0.1:99999", "127.0.0.1:x"}) {
    ASSERT_TRUE(config.Set("dicom_scp.listen", bad).ok());
    EXPECT_EQ(StoreScpOptionsFrom(config).status().code(), ErrorCode::kInvalidArgument) << bad;
  }
  ASSERT_TRUE(config.Set("dicom_scp.listen", "127.0.0.1:0").ok());
  ASSERT_TRUE(config.Set("dicom_scp.max_pdu_bytes", "100").ok());
  EXPECT_EQ(StoreScpOptionsFrom(config).status().code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace caliper::app

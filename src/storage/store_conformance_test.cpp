// The Store conformance suite: every backend must pass all of it. A backend joins with one
// INSTANTIATE_TEST_SUITE_P line naming a factory that opens (creating if needed) a store kept
// in a given, initially empty directory.

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <functional>
#include <ostream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "caliper/storage/store.h"
#include "storage/sqlite/migrations.h"

namespace caliper::storage {
namespace {

struct StoreBackend {
  std::string name;
  // Opens the store kept in `dir`; nullptr (after reporting a test failure) when it cannot.
  std::function<std::unique_ptr<Store>(const std::string& dir)> open;
  int schema_version;  // the highest migration number the backend ships
};

// Names the backend in test output instead of dumping its bytes.
void PrintTo(const StoreBackend& backend, std::ostream* os) { *os << backend.name; }

template <typename T>
const Status& StatusOf(const Result<T>& r) {
  return r.status();
}
inline const Status& StatusOf(const Status& s) { return s; }

#define ASSERT_OK(expr)                                                        \
  do {                                                                         \
    const auto& ok_result_ = (expr);                                           \
    ASSERT_TRUE(StatusOf(ok_result_).ok()) << StatusOf(ok_result_).ToString(); \
  } while (0)
#define EXPECT_OK(expr)                                                        \
  do {                                                                         \
    const auto& ok_result_ = (expr);                                           \
    EXPECT_TRUE(StatusOf(ok_result_).ok()) << StatusOf(ok_result_).ToString(); \
  } while (0)
#define EXPECT_CODE(expr, expected_code)                      \
  do {                                                        \
    const auto& code_result_ = (expr);                        \
    EXPECT_EQ(StatusOf(code_result_).code(), (expected_code)) \
        << StatusOf(code_result_).ToString();                 \
  } while (0)
#define ASSERT_OK_AND_ASSIGN_IMPL_(tmp, lhs, expr)  \
  auto tmp = (expr);                                \
  ASSERT_TRUE(tmp.ok()) << tmp.status().ToString(); \
  lhs = std::move(tmp).value()
#define ASSERT_OK_AND_ASSIGN(lhs, expr) \
  ASSERT_OK_AND_ASSIGN_IMPL_(CALIPER_CONCAT_(assign_result_, __LINE__), lhs, expr)

constexpr TimeMicros kT0 = 1'767'225'600LL * kMicrosPerSecond;  // 2026-01-01

core::User MakeUser(const std::string& id, const std::string& username) {
  core::User u;
  u.id = id;
  u.username = username;
  u.display_name = "Dr " + username;
  u.password_hash = "$argon2id$v=19$m=65536,t=2,p=1$c2FsdA$aGFzaA";
  u.created_at = kT0;
  return u;
}

core::Project MakeProject(const std::string& id, const std::string& name) {
  return core::Project{id, name, "about " + name, kT0, "usr_admin"};
}

core::Item MakeItem(const std::string& id, const std::string& project_id) {
  core::Item i;
  i.id = id;
  i.project_id = project_id;
  i.data_type = core::DataType::kPathology;
  i.modality = "SM";
  i.patient_key = "pat_" + id;
  i.cohort_json = R"({"age_band":"40-49","sex":"F"})";
  i.content_blob = "sha256:abcd";
  i.content_type = "application/dicom";
  i.content_bytes = 123456;
  i.created_at = kT0 + 1;
  i.created_by = "usr_a";
  return i;
}

core::Annotation MakeAnnotation(const std::string& id, const std::string& project_id,
                                const std::string& item_id) {
  core::Annotation a;
  a.id = id;
  a.project_id = project_id;
  a.item_id = item_id;
  a.task_id = "tsk_1";
  a.author = "usr_a";
  a.guideline_version_id = "gdl_1";
  a.evidence_kind = "roi";
  a.evidence_json = R"({"x":1,"y":2,"w":3,"h":4})";
  a.label_class = "nodule";
  a.code_system = "SNOMED CT";
  a.code = "27925004";
  a.confidence = 0.75;
  a.assertion = core::Assertion::kPossible;
  a.temporality = core::Temporality::kHistorical;
  a.experiencer = core::Experiencer::kFamily;
  a.relations_json = R"([{"target":"ann_0","type":"located_at"}])";
  a.status = core::LabelStatus::kConfirmed;
  a.origin = "prelabel:detector@1.2";
  a.revision = 1;
  a.created_at = kT0 + 10;
  a.updated_at = kT0 + 10;
  return a;
}

Session MakeSession(const std::string& id, const std::string& user_id) {
  Session s;
  s.id = id;
  s.user_id = user_id;
  s.token_hash = "tok_" + id;
  s.csrf_hash = "csrf_" + id;
  s.source_address = "10.0.0.7";
  s.created_at = kT0;
  s.last_seen_at = kT0;
  s.absolute_expires_at = kT0 + 12 * kMicrosPerHour;
  return s;
}

AuditEvent MakeEvent(const std::string& action) {
  AuditEvent e;
  e.time = kT0 + 5;
  e.actor = "usr_a";
  e.session_id = "ses_1";
  e.source_address = "10.0.0.7";
  e.action = action;
  e.object_type = "user";
  e.object_id = "usr_b";
  e.outcome = "success";
  e.details_json = R"({"k":"v"})";
  e.prev_hash = "00ff";
  e.hash = "ff00";
  return e;
}

std::string MakeTempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "caliper_store_XXXXXX").string();
  char* dir = mkdtemp(pattern.data());
  return dir != nullptr ? std::string(dir) : std::string();
}

class StoreConformanceTest : public ::testing::TestWithParam<StoreBackend> {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir();
    ASSERT_FALSE(dir_.empty());
    store_ = GetParam().open(dir_);
    ASSERT_NE(store_, nullptr);
  }

  void TearDown() override {
    store_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  // Closes the store and opens it again from the same directory.
  void Reopen() {
    store_->Close();
    store_.reset();
    store_ = GetParam().open(dir_);
    ASSERT_NE(store_, nullptr);
  }

  // Runs `body` in one write transaction and commits it.
  void InWrite(const std::function<void(Transaction&)>& body) {
    ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin(TxnMode::kWrite));
    body(*txn);
    ASSERT_OK(txn->Commit());
  }

  // Inserts users u1.., project prj_1 and its item itm_1 (the parents most rows need).
  void SeedParents() {
    InWrite([](Transaction& t) {
      ASSERT_OK(t.InsertUser(MakeUser("usr_a", "alice")));
      ASSERT_OK(t.InsertUser(MakeUser("usr_b", "bob")));
      ASSERT_OK(t.InsertProject(MakeProject("prj_1", "Lung CT")));
      ASSERT_OK(t.InsertItem(MakeItem("itm_1", "prj_1")));
    });
  }

  std::unique_ptr<Transaction> MustBegin(TxnMode mode) {
    auto txn = store_->Begin(mode);
    if (!txn.ok()) {
      ADD_FAILURE() << "Begin: " << txn.status().ToString();
      return nullptr;
    }
    return std::move(txn).value();
  }

  std::string dir_;
  std::unique_ptr<Store> store_;
};

// ---- clinical notes --------------------------------------------------------------------------

TEST_P(StoreConformanceTest, DicomInstancesLinksAndMasks) {
  SeedParents();
  InWrite([](Transaction& t) {
    ASSERT_OK(t.InsertItem(MakeItem("itm_2", "prj_1")));
    DicomInstance d{"prj_1", "2.25.2", "itm_1", "2.25.100", "2.25.200", "blob2", 1000, kT0};
    ASSERT_OK(t.InsertDicomInstance(d));
    d.sop_instance_uid = "2.25.1";
    d.blob = "blob1";
    ASSERT_OK(t.InsertDicomInstance(d));
    d.item_id = "itm_2";  // the same instance again, even for another item
    EXPECT_CODE(t.InsertDicomInstance(d), ErrorCode::kAlreadyExists);
    ASSERT_OK(t.InsertReidentificationLink({"itm_1", "prj_1", "linkblob", kT0}));
    EXPECT_CODE(t.InsertReidentificationLink({"itm_1", "prj_1", "other", kT0}), ErrorCode::kAlreadyExists);
    ASSERT_OK(t.UpdateItemContent("itm_1", "niftiblob", "application/gzip", 77));
    EXPECT_CODE(t.UpdateItemContent("itm_9", "x", "application/gzip", 1), ErrorCode::kNotFound);
    ItemMask m{"msk_1", "itm_1", "prj_1", "usr_a", 1, "mask1", 10, kT0};
    ASSERT_OK(t.InsertMask(m));
    m.id = "msk_2";
    EXPECT_CODE(t.InsertMask(m), ErrorCode::kAlreadyExists);  // version 1 again
    m.version = 2;
    m.blob = "mask2";
    ASSERT_OK(t.InsertMask(m));
    ASSERT_OK(t.InsertMask({"msk_3", "itm_1", "prj_1", "usr_b", 1, "maskb", 11, kT0}));
  });
  ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin(TxnMode::kRead));
  ASSERT_OK_AND_ASSIGN(std::string item, txn->FindSeriesItem("prj_1", "2.25.100"));
  EXPECT_EQ(item, "itm_1");
  EXPECT_CODE(txn->FindSeriesItem("prj_1", "2.25.101"), ErrorCode::kNotFound);
  ASSERT_OK_AND_ASSIGN(DicomInstance got, txn->FindDicomInstance("prj_1", "2.25.2"));
  EXPECT_EQ(got.blob, "blob2");
  EXPECT_EQ(got.study_uid, "2.25.200");
  EXPECT_EQ(got.bytes, 1000);
  EXPECT_CODE(txn->FindDicomInstance("prj_1", "2.25.3"), ErrorCode::kNotFound);
  ASSERT_OK_AND_ASSIGN(auto instances, txn->ListDicomInstances("itm_1"));
  ASSERT_EQ(instances.size(), 2u);
  EXPECT_EQ(instances[0].sop_instance_uid, "2.25.1");
  EXPECT_EQ(instances[1].sop_instance_uid, "2.25.2");
  ASSERT_OK_AND_ASSIGN(auto none, txn->ListDicomInstances("itm_2"));
  EXPECT_TRUE(none.empty());
  ASSERT_OK_AND_ASSIGN(auto link, txn->GetReidentificationLink("itm_1"));
  EXPECT_EQ(link.blob, "linkblob");
  EXPECT_CODE(txn->GetReidentificationLink("itm_2"), ErrorCode::kNotFound);
  ASSERT_OK_AND_ASSIGN(core::Item updated, txn->GetItem("itm_1"));
  EXPECT_EQ(updated.content_blob, "niftiblob");
  EXPECT_EQ(updated.content_type, "application/gzip");
  EXPECT_EQ(updated.content_bytes, 77);
  ASSERT_OK_AND_ASSIGN(auto latest, txn->GetLatestMask("itm_1", "usr_a"));
  EXPECT_EQ(latest.version, 2);
  EXPECT_EQ(latest.blob, "mask2");
  ASSERT_OK_AND_ASSIGN(auto theirs, txn->GetLatestMask("itm_1", "usr_b"));
  EXPECT_EQ(theirs.blob, "maskb");
  EXPECT_EQ(theirs.bytes, 11);
  EXPECT_CODE(txn->GetLatestMask("itm_2", "usr_a"), ErrorCode::kNotFound);
  ASSERT_OK_AND_ASSIGN(auto first, txn->GetMask("itm_1", "usr_a", 1));
  EXPECT_EQ(first.version, 1);
  EXPECT_EQ(first.blob, "mask1");
  EXPECT_CODE(txn->GetMask("itm_1", "usr_a", 3), ErrorCode::kNotFound);
  EXPECT_CODE(txn->GetMask("itm_1", "usr_b", 2), ErrorCode::kNotFound);
}

TEST_P(StoreConformanceTest, QuarantineEntriesAreDecidedOnce) {
  SeedParents();
  QuarantinedInstance q;
  q.id = "qrn_1";
  q.project_id = "prj_1";
  q.sop_instance_uid = "2.25.7";
  q.series_uid = "2.25.8";
  q.study_uid = "2.25.9";
  q.modality = "US";
  q.patient_key = "pat_1";
  q.reasons = {"modality US"};
  q.blob = "b1";
  q.link_blob = "l1";
  q.bytes = 100;
  q.created_at = kT0;
  q.created_by = "usr_1";
  InWrite([&](Transaction& t) {
    ASSERT_OK(t.InsertQuarantinedInstance(q));
    QuarantinedInstance twin = q;
    twin.id = "qrn_2";
    EXPECT_CODE(t.InsertQuarantinedInstance(twin), ErrorCode::kAlreadyExists);  // one pending per instance
    twin.sop_instance_uid = "2.25.70";
    ASSERT_OK(t.InsertQuarantinedInstance(twin));
  });
  InWrite([&](Transaction& t) {
    QuarantinedInstance d = q;
    d.status = "blanked";
    d.decided_at = kT0 + 5;
    d.decided_by = "usr_2";
    d.reason = "name bar";
    d.rects_json = R"([{"x":0,"y":0,"width":4,"height":2}])";
    d.item_id = "itm_1";
    d.blob.clear();
    d.link_blob.clear();
    ASSERT_OK(t.DecideQuarantinedInstance(d));
    d.status = "discarded";
    EXPECT_CODE(t.DecideQuarantinedInstance(d), ErrorCode::kConflict);
    d.id = "qrn_none";
    EXPECT_CODE(t.DecideQuarantinedInstance(d), ErrorCode::kNotFound);
    QuarantinedInstance again = q;  // the same instance may wait again once decided
    again.id = "qrn_3";
    ASSERT_OK(t.InsertQuarantinedInstance(again));
  });
  ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin(TxnMode::kRead));
  ASSERT_OK_AND_ASSIGN(QuarantinedInstance got, txn->GetQuarantinedInstance("qrn_1"));
  EXPECT_EQ(got.status, "blanked");
  EXPECT_EQ(got.decided_at, kT0 + 5);
  EXPECT_EQ(got.decided_by, "usr_2");
  EXPECT_EQ(got.item_id, "itm_1");
  EXPECT_EQ(got.blob, "");
  EXPECT_EQ(got.reasons, (std::vector<std::string>{"modality US"}));
  ASSERT_OK_AND_ASSIGN(QuarantinedInstance pending, txn->FindPendingQuarantine("prj_1", "2.25.7"));
  EXPECT_EQ(pending.id, "qrn_3");
  EXPECT_CODE(txn->FindPendingQuarantine("prj_1", "2.25.99"), ErrorCode::kNotFound);
  ASSERT_OK_AND_ASSIGN(auto all, txn->ListQuarantine("prj_1", "", {"", 2}));
  ASSERT_EQ(all.rows.size(), 2u);
  EXPECT_EQ(all.rows[0].id, "qrn_1");
  EXPECT_EQ(all.next, "qrn_2");
  ASSERT_OK_AND_ASSIGN(auto only_pending, txn->ListQuarantine("prj_1", "pending", {"", 50}));
  ASSERT_EQ(only_pending.rows.size(), 2u);
  EXPECT_EQ(only_pending.rows[0].id, "qrn_2");
  ASSERT_OK_AND_ASSIGN(std::int64_t pending_count, txn->CountPendingQuarantine("prj_1"));
  EXPECT_EQ(pending_count, 2);
  ASSERT_OK_AND_ASSIGN(std::int64_t none_pending, txn->CountPendingQuarantine("prj_none"));
  EXPECT_EQ(none_pending, 0);
  EXPECT_CODE(txn->GetQuarantinedInstance("qrn_none"), ErrorCode::kNotFound);
}

TEST_P(StoreConformanceTest, MarkupVersionsPerReaderAndKind) {
  SeedParents();
  InWrite([](Transaction& t) {
    ASSERT_OK(t.InsertItem(MakeItem("itm_2", "prj_1")));
    ItemMarkup m{"mku_1", "itm_1", "prj_1", "usr_a", MarkupKind::kRegions, 1, "r1", 10, kT0};
    ASSERT_OK(t.InsertMarkup(m));
    m.id = "mku_2";
    EXPECT_CODE(t.InsertMarkup(m), ErrorCode::kAlreadyExists);  // version 1 again
    m.version = 2;
    m.blob = "r2";
    ASSERT_OK(t.InsertMarkup(m));
    // The same version number of another kind, or by another reader, is its own.
    ASSERT_OK(t.InsertMarkup({"mku_3", "itm_1", "prj_1", "usr_a", MarkupKind::kIntervals, 1, "i1", 5, kT0}));
    ASSERT_OK(t.InsertMarkup({"mku_4", "itm_1", "prj_1", "usr_b", MarkupKind::kRegions, 1, "rb", 11, kT0 + 1}));
  });
  ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin(TxnMode::kRead));
  ASSERT_OK_AND_ASSIGN(auto mine, txn->GetLatestMarkup("itm_1", "usr_a", MarkupKind::kRegions));
  EXPECT_EQ(mine.id, "mku_2");
  EXPECT_EQ(mine.version, 2);
  EXPECT_EQ(mine.blob, "r2");
  EXPECT_EQ(mine.kind, MarkupKind::kRegions);
  ASSERT_OK_AND_ASSIGN(auto intervals, txn->GetLatestMarkup("itm_1", "usr_a", MarkupKind::kIntervals));
  EXPECT_EQ(intervals.blob, "i1");
  EXPECT_EQ(intervals.kind, MarkupKind::kIntervals);
  EXPECT_CODE(txn->GetLatestMarkup("itm_1", "usr_b", MarkupKind::kIntervals), ErrorCode::kNotFound);
  EXPECT_CODE(txn->GetLatestMarkup("itm_2", "usr_a", MarkupKind::kRegions), ErrorCode::kNotFound);
  ASSERT_OK_AND_ASSIGN(auto all, txn->ListLatestMarkup("itm_1", MarkupKind::kRegions));
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].author, "usr_a");
  EXPECT_EQ(all[0].version, 2);
  EXPECT_EQ(all[1].author, "usr_b");
  EXPECT_EQ(all[1].blob, "rb");
  EXPECT_EQ(all[1].bytes, 11);
  EXPECT_EQ(all[1].created_at, kT0 + 1);
  ASSERT_OK_AND_ASSIGN(auto none, txn->ListLatestMarkup("itm_2", MarkupKind::kRegions));
  EXPECT_TRUE(none.empty());
}

TEST_P(StoreConformanceTest, SlideTilesAndViewerSessions) {
  SeedParents();
  InWrite([](Transaction& t) {
    ASSERT_OK(t.InsertSlideTile({"itm_1", 12, 3, 4, "tile-12-3-4", 900}));
    ASSERT_OK(t.InsertSlideTile({"itm_1", 0, 0, 0, "tile-0", 300}));
    EXPECT_CODE(t.InsertSlideTile({"itm_1", 12, 3, 4, "again", 1}), ErrorCode::kAlreadyExists);
    ASSERT_OK(t.InsertSlideView({"dzv_1", "itm_1", "usr_a", kT0, kT0 + 60}));
    EXPECT_CODE(t.InsertSlideView({"dzv_1", "itm_1", "usr_b", kT0, kT0 + 60}), ErrorCode::kAlreadyExists);
  });
  ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin(TxnMode::kRead));
  ASSERT_OK_AND_ASSIGN(SlideTile tile, txn->GetSlideTile("itm_1", 12, 3, 4));
  EXPECT_EQ(tile.blob, "tile-12-3-4");
  EXPECT_EQ(tile.bytes, 900);
  EXPECT_EQ(tile.level, 12);
  EXPECT_CODE(txn->GetSlideTile("itm_1", 12, 4, 3), ErrorCode::kNotFound);
  ASSERT_OK_AND_ASSIGN(std::int64_t count, txn->CountSlideTiles("itm_1"));
  EXPECT_EQ(count, 2);
  ASSERT_OK_AND_ASSIGN(std::int64_t none, txn->CountSlideTiles("itm_2"));
  EXPECT_EQ(none, 0);
  ASSERT_OK_AND_ASSIGN(SlideView view, txn->GetSlideView("dzv_1"));
  EXPECT_EQ(view.item_id, "itm_1");
  EXPECT_EQ(view.user_id, "usr_a");
  EXPECT_EQ(view.expires_at, kT0 + 60);
  EXPECT_CODE(txn->GetSlideView("dzv_2"), ErrorCode::kNotFound);
}

TEST_P(StoreConformanceTest, DicomSourcesBelongToOneProject) {
  SeedParents();
  InWrite([](Transaction& t) {
    ASSERT_OK(t.InsertProject(MakeProject("prj_2", "Brain MR")));
    ASSERT_OK(t.ReplaceDicomSources("prj_1", {{"CT1", "CT room 3"}, {"AB", ""}}, kT0));
  });
  {
    // A title of another project is refused (the caller rolls back).
    ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin(TxnMode::kWrite));
    EXPECT_CODE(txn->ReplaceDicomSources("prj_2", {{"MR1", ""}, {"CT1", ""}}, kT0), ErrorCode::kAlreadyExists);
  }
  {
    ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin(TxnMode::kRead));
    ASSERT_OK_AND_ASSIGN(auto sources, txn->ListDicomSources("prj_1"));
    ASSERT_EQ(sources.size(), 2u);
    EXPECT_EQ(sources[0].ae_title, "AB");
    EXPECT_EQ(sources[1].ae_title, "CT1");
    EXPECT_EQ(sources[1].description, "CT room 3");
    ASSERT_OK_AND_ASSIGN(std::string project, txn->FindDicomSourceProject("CT1"));
    EXPECT_EQ(project, "prj_1");
    EXPECT_CODE(txn->FindDicomSourceProject("MR1"), ErrorCode::kNotFound);
  }
  InWrite([](Transaction& t) {
    ASSERT_OK(t.ReplaceDicomSources("prj_1", {{"AB", "replaced"}}, kT0));  // the whole list
    ASSERT_OK(t.ReplaceDicomSources("prj_2", {{"CT1", ""}}, kT0));          // free again
  });
  ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin(TxnMode::kRead));
  ASSERT_OK_AND_ASSIGN(auto sources, txn->ListDicomSources("prj_1"));
  ASSERT_EQ(sources.size(), 1u);
  EXPECT_EQ(sources[0].description, "replaced");
  ASSERT_OK_AND_ASSIGN(std::string project, txn->FindDicomSourceProject("CT1"));
  EXPECT_EQ(project, "prj_2");
}

TEST_P(StoreConformanceTest, NotesTextSettingsAndAPatientsItems) {
  SeedParents();
  InWrite([](Transaction& t) {
    core::Item labs = MakeItem("itm_2", "prj_1");
    labs.data_type = core::DataType::kLabs;
    labs.patient_key = "pat_shared";
    ASSERT_OK(t.InsertItem(labs));
    core::Item other_type = MakeItem("itm_3", "prj_1");
    other_type.patient_key = "pat_shared";
    ASSERT_OK(t.InsertItem(other_type));
    core::Note n;
    n.item_id = "itm_1";
    n.project_id = "prj_1";
    n.source_hash = "h1";
    n.deid_mode = "surrogate";
    n.deid_edition = "e1";
    n.chars = 42;
    n.phi_json = R"([{"end":9,"start":3,"type":"NAME"}])";
    n.created_at = kT0;
    ASSERT_OK(t.InsertNote(n));
    n.item_id = "itm_2";
    EXPECT_CODE(t.InsertNote(n), ErrorCode::kAlreadyExists);  // same source in the project
    core::TextSettings ts;
    ts.project_id = "prj_1";
    ts.deid_mode = "tag";
    ts.clinician_names = {"Sarah Chen", "Zoë Q"};
    ts.updated_at = kT0;
    ASSERT_OK(t.PutTextSettings(ts));
    ts.deid_mode = "surrogate";
    ASSERT_OK(t.PutTextSettings(ts));  // replaces
    core::DicomSettings ds;
    ds.project_id = "prj_1";
    ds.options = {"retain-dates"};
    ds.safe_private = {"ACME:0009:01"};
    ds.blanking = {"US/ACME:0,0,10,10", "OT:1,1,2,2"};
    ds.updated_at = kT0;
    ASSERT_OK(t.PutDicomSettings(ds));
    ds.options = {"retain-dates", "clean-descriptors"};
    ASSERT_OK(t.PutDicomSettings(ds));  // replaces
  });
  ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin(TxnMode::kRead));
  ASSERT_OK_AND_ASSIGN(core::Note got, txn->GetNote("itm_1"));
  EXPECT_EQ(got.chars, 42);
  EXPECT_EQ(got.phi_json, R"([{"end":9,"start":3,"type":"NAME"}])");
  EXPECT_EQ(got.deid_mode, "surrogate");
  ASSERT_OK_AND_ASSIGN(core::Note by_source, txn->FindNoteBySource("prj_1", "h1"));
  EXPECT_EQ(by_source.item_id, "itm_1");
  EXPECT_CODE(txn->FindNoteBySource("prj_1", "h2"), ErrorCode::kNotFound);
  EXPECT_CODE(txn->GetNote("itm_2"), ErrorCode::kNotFound);
  ASSERT_OK_AND_ASSIGN(core::TextSettings ts, txn->GetTextSettings("prj_1"));
  EXPECT_EQ(ts.deid_mode, "surrogate");
  EXPECT_EQ(ts.clinician_names, (std::vector<std::string>{"Sarah Chen", "Zoë Q"}));
  EXPECT_CODE(txn->GetTextSettings("prj_2"), ErrorCode::kNotFound);
  ASSERT_OK_AND_ASSIGN(core::DicomSettings ds, txn->GetDicomSettings("prj_1"));
  EXPECT_EQ(ds.options, (std::vector<std::string>{"retain-dates", "clean-descriptors"}));
  EXPECT_EQ(ds.safe_private, (std::vector<std::string>{"ACME:0009:01"}));
  EXPECT_EQ(ds.blanking, (std::vector<std::string>{"US/ACME:0,0,10,10", "OT:1,1,2,2"}));
  EXPECT_EQ(ds.updated_at, kT0);
  EXPECT_CODE(txn->GetDicomSettings("prj_2"), ErrorCode::kNotFound);
  ASSERT_OK_AND_ASSIGN(auto labs, txn->ListItemsOfPatient("prj_1", "pat_shared", core::DataType::kLabs));
  ASSERT_EQ(labs.size(), 1u);
  EXPECT_EQ(labs[0].id, "itm_2");
  ASSERT_OK_AND_ASSIGN(auto none, txn->ListItemsOfPatient("prj_1", "someone-else", core::DataType::kLabs));
  EXPECT_TRUE(none.empty());
}

// ---- migrations and durability --------------------------------------------------------------

TEST_P(StoreConformanceTest, MigratesAnEmptyDatabaseToTheLatestSchema) {
  ASSERT_OK_AND_ASSIGN(int version, store_->SchemaVersion());
  EXPECT_EQ(version, GetParam().schema_version);
  EXPECT_GE(version, 1);
}

TEST_P(StoreConformanceTest, ReopeningAppliesNothingAndKeepsData) {
  InWrite([](Transaction& t) { ASSERT_OK(t.InsertUser(MakeUser("usr_a", "alice"))); });
  ASSERT_NO_FATAL_FAILURE(Reopen());
  ASSERT_OK_AND_ASSIGN(int version, store_->SchemaVersion());
  EXPECT_EQ(version, GetParam().schema_version);
  ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin(TxnMode::kRead));
  ASSERT_OK_AND_ASSIGN(core::User u, txn->GetUser("usr_a"));
  EXPECT_EQ(u.username, "alice");
}

TEST_P(StoreConformanceTest, CommittedDataOfEveryKindSurvivesCloseAndReopen) {
  SeedParents();
  AuditEvent event = MakeEvent("user.create");
  InWrite([&](Transaction& t) {
    ASSERT_OK(t.InsertAnnotation(MakeAnnotation("ann_1", "prj_1", "itm_1")));
    ASSERT_OK(t.InsertSession(MakeSession("ses_1", "usr_a")));
    ASSERT_OK(t.AppendAuditEvent(event));
    ASSERT_OK(t.PutProjectKey(ProjectKey{"prj_1", {1, 2, 3}, 1, kT0}));
  });
  ASSERT_NO_FATAL_FAILURE(Reopen());
  ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin(TxnMode::kRead));
  EXPECT_OK(txn->GetUser("usr_b"));
  EXPECT_OK(txn->GetProject("prj_1"));
  EXPECT_OK(txn->GetItem("itm_1"));
  EXPECT_OK(txn->GetAnnotation("ann_1"));
  EXPECT_OK(txn->GetSession("ses_1"));
  ASSERT_OK_AND_ASSIGN(AuditEvent last, txn->GetLastAuditEvent());
  EXPECT_EQ(last.seq, 1);
  ASSERT_OK_AND_ASSIGN(ProjectKey key, txn->GetProjectKey("prj_1"));
  EXPECT_EQ(key.wrapped, (std::vector<unsigned char>{1, 2, 3}));
}

TEST_P(StoreConformanceTest, BeginAfterCloseIsUnavailable) {
  store_->Close();
  EXPECT_CODE(store_->Begin(TxnMode::kRead), ErrorCode::kUnavailable);
  EXPECT_CODE(store_->Begin(TxnMode::kWrite), ErrorCode::kUnavailable);
  store_->Close();  // idempotent
}

// ---- transactions ---------------------------------------------------------------------------

TEST_P(StoreConformanceTest, DestroyingAWriteTransactionWithoutCommitRollsBack) {
  {
    ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin(TxnMode::kWrite));
    ASSERT_OK(txn->InsertUser(MakeUser("usr_a", "alice")));
    ASSERT_OK(txn->InsertProject(MakeProject("prj_1", "Lung CT")));
    ASSERT_OK_AND_ASSIGN(core::User seen_inside, txn->GetUser("usr_a"));
    EXPECT_EQ(seen_inside.username, "alice");
  }
  ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin(TxnMode::kRead));
  EXPECT_CODE(txn->GetUser("usr_a"), ErrorCode::kNotFound);
  EXPECT_CODE(txn->GetProject("prj_1"), ErrorCode::kNotFound);
  ASSERT_OK_AND_ASSIGN(auto users, txn->ListUsers({}));
  EXPECT_TRUE(users.rows.empty());
}

TEST_P(StoreConformanceTest, WriteInAReadTransactionFails) {
  {
    ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin(TxnMode::kRead));
    Status status = txn->InsertUser(MakeUser("usr_a", "alice"));
    EXPECT_FALSE(status.ok());
    EXPECT_NE(status.message().find("read"), std::string::npos) << status.ToString();
    AuditEvent event = MakeEvent("x");
    EXPECT_FALSE(txn->AppendAuditEvent(event).ok());
    EXPECT_FALSE(txn->PutProjectKey(ProjectKey{"prj_1", {1}, 1, kT0}).ok());
    EXPECT_OK(txn->Commit());
  }
  ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin(TxnMode::kRead));
  EXPECT_CODE(txn->GetUser("usr_a"), ErrorCode::kNotFound);
  EXPECT_CODE(txn->GetLastAuditEvent(), ErrorCode::kNotFound);
}

TEST_P(StoreConformanceTest, ATransactionCannotBeUsedAfterCommit) {
  ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin(TxnMode::kWrite));
  ASSERT_OK(txn->InsertUser(MakeUser("usr_a", "alice")));
  ASSERT_OK(txn->Commit());
  EXPECT_FALSE(txn->Commit().ok());
  EXPECT_FALSE(txn->InsertUser(MakeUser("usr_b", "bob")).ok());
  EXPECT_FALSE(txn->GetUser("usr_a").ok());
  txn.reset();
  ASSERT_OK_AND_ASSIGN(auto read, store_->Begin(TxnMode::kRead));
  EXPECT_OK(read->GetUser("usr_a"));
  EXPECT_CODE(read->GetUser("usr_b"), ErrorCode::kNotFound);
}

TEST_P(StoreConformanceTest, AFailedStatementLeavesTheTransactionUsable) {
  InWrite([](Transaction& t) {
    ASSERT_OK(t.InsertUser(MakeUser("usr_a", "alice")));
    EXPECT_CODE(t.InsertUser(MakeUser("usr_x", "alice")), ErrorCode::kAlreadyExists);
    ASSERT_OK(t.InsertUser(MakeUser("usr_b", "bob")));
  });
  ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin(TxnMode::kRead));
  ASSERT_OK_AND_ASSIGN(auto users, txn->ListUsers({}));
  ASSERT_EQ(users.rows.size(), 2u);
  EXPECT_EQ(users.rows[0].id, "usr_a");
  EXPECT_EQ(users.rows[1].id, "usr_b");
}

TEST_P(StoreConformanceTest, AReadTransactionSeesItsSnapshotOnly) {
  InWrite([](Transaction& t) { ASSERT_OK(t.InsertUser(MakeUser("usr_a", "alice"))); });
  ASSERT_OK_AND_ASSIGN(auto reader, store_->Begin(TxnMode::kRead));
  // Committed after the reader began: invisible to it.
  InWrite([](Transaction& t) {
    ASSERT_OK(t.InsertUser(MakeUser("usr_b", "bob")));
    core::User a = MakeUser("usr_a", "alice");
    a.display_name = "changed";
    ASSERT_OK(t.UpdateUser(a));
  });
  EXPECT_CODE(reader->GetUser("usr_b"), ErrorCode::kNotFound);
  ASSERT_OK_AND_ASSIGN(core::User old_a, reader->GetUser("usr_a"));
  EXPECT_EQ(old_a.display_name, "Dr alice");
  ASSERT_OK(reader->Commit());
  ASSERT_OK_AND_ASSIGN(auto fresh, store_->Begin(TxnMode::kRead));
  EXPECT_OK(fresh->GetUser("usr_b"));
  ASSERT_OK_AND_ASSIGN(core::User new_a, fresh->GetUser("usr_a"));
  EXPECT_EQ(new_a.display_name, "changed");
}

TEST_P(StoreConformanceTest, ReadersRunWhileAWriterIsOpen) {
  SeedParents();
  ASSERT_OK_AND_ASSIGN(auto writer, store_->Begin(TxnMode::kWrite));
  ASSERT_OK(writer->InsertUser(MakeUser("usr_c", "carol")));
  std::atomic<int> ok_reads = 0;
  std::vector<std::thread> readers;
  for (int i = 0; i < 4; ++i) {
    readers.emplace_back([&] {
      auto txn = store_->Begin(TxnMode::kRead);
      if (!txn.ok()) return;
      // Uncommitted rows of the writer are invisible.
      if ((*txn)->GetUser("usr_a").ok() &&
          (*txn)->GetUser("usr_c").status().code() == ErrorCode::kNotFound) {
        ++ok_reads;
      }
    });
  }
  for (auto& t : readers) t.join();
  EXPECT_EQ(ok_reads.load(), 4);
  ASSERT_OK(writer->Commit());
}

TEST_P(StoreConformanceTest, ConcurrentWritersAllCommit) {
  constexpr int kThreads = 8;
  constexpr int kRowsEach = 50;
  std::atomic<int> failures = 0;
  std::vector<std::string> errors(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kRowsEach; ++i) {
        const std::string name = "w" + std::to_string(t) + "_" + std::to_string(i);
        auto txn = store_->Begin(TxnMode::kWrite);
        Status status = txn.ok() ? (*txn)->InsertUser(MakeUser("usr_" + name, name)) : txn.status();
        if (status.ok()) {
          AuditEvent event = MakeEvent("user.create");
          status = (*txn)->AppendAuditEvent(event);
        }
        if (status.ok()) status = (*txn)->Commit();
        if (!status.ok()) {
          ++failures;
          errors[t] = status.ToString();
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  for (const auto& e : errors) EXPECT_EQ(e, "");

  ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin(TxnMode::kRead));
  std::set<std::string> ids;
  PageRequest page{"", 500};
  ASSERT_OK_AND_ASSIGN(auto users, txn->ListUsers(page));
  for (const auto& u : users.rows) ids.insert(u.id);
  EXPECT_EQ(ids.size(), static_cast<std::size_t>(kThreads * kRowsEach));
  EXPECT_EQ(users.next, "");
  ASSERT_OK_AND_ASSIGN(auto events, txn->ListAuditEvents(0, 1000));
  ASSERT_EQ(events.size(), static_cast<std::size_t>(kThreads * kRowsEach));
  for (std::size_t i = 0; i < events.size(); ++i)
    EXPECT_EQ(events[i].seq, static_cast<std::int64_t>(i + 1));
}

// ---- users and sign-in ----------------------------------------------------------------------

TEST_P(StoreConformanceTest, UserRoundTrip) {
  core::User u = MakeUser("usr_a", "alice");
  u.is_admin = true;
  u.must_change_password = true;
  u.locked_until = kT0 + kMicrosPerMinute;
  u.qualifications = {core::Qualification::kRadiologist, core::Qualification::kGeneralAnnotator};
  InWrite([&](Transaction& t) { ASSERT_OK(t.InsertUser(u)); });

  ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin(TxnMode::kWrite));
  for (auto got : {txn->GetUser("usr_a"), txn->GetUserByUsername("alice")}) {
    ASSERT_OK(got);
    EXPECT_EQ(got->id, "usr_a");
    EXPECT_EQ(got->username, "alice");
    EXPECT_EQ(got->display_name, "Dr alice");
    EXPECT_EQ(got->password_hash, u.password_hash);
    EXPECT_TRUE(got->is_admin);
    EXPECT_FALSE(got->disabled);
    EXPECT_TRUE(got->must_change_password);
    EXPECT_EQ(got->locked_until, u.locked_until);
    EXPECT_EQ(got->qualifications, u.qualifications);
    EXPECT_EQ(got->created_at, kT0);
  }

  u.username = "alice2";
  u.display_name = "Alice";
  u.is_admin = false;
  u.disabled = true;
  u.locked_until.reset();
  u.qualifications = {core::Qualification::kPathologist};
  u.created_at = 1;  // not updatable
  ASSERT_OK(txn->UpdateUser(u));
  ASSERT_OK_AND_ASSIGN(core::User got, txn->GetUser("usr_a"));
  EXPECT_EQ(got.username, "alice2");
  EXPECT_EQ(got.display_name, "Alice");
  EXPECT_FALSE(got.is_admin);
  EXPECT_TRUE(got.disabled);
  EXPECT_FALSE(got.locked_until.has_value());
  EXPECT_EQ(got.qualifications, std::vector{core::Qualification::kPathologist});
  EXPECT_EQ(got.created_at, kT0);
  EXPECT_CODE(txn->GetUserByUsername("alice"), ErrorCode::kNotFound);
  EXPECT_CODE(txn->UpdateUser(MakeUser("usr_missing", "zed")), ErrorCode::kNotFound);
  ASSERT_OK(txn->Commit());
}

TEST_P(StoreConformanceTest, UserClashesAreAlreadyExists) {
  InWrite([](Transaction& t) {
    ASSERT_OK(t.InsertUser(MakeUser("usr_a", "alice")));
    ASSERT_OK(t.InsertUser(MakeUser("usr_b", "bob")));
    EXPECT_CODE(t.InsertUser(MakeUser("usr_c", "alice")), ErrorCode::kAlreadyExists);
    EXPECT_CODE(t.InsertUser(MakeUser("usr_a", "carol")), ErrorCode::kAlreadyExists);
    EXPECT_CODE(t.UpdateUser(MakeUser("usr_b", "alice")), ErrorCode::kAlreadyExists);
  });
}

TEST_P(StoreConformanceTest, CountsRecentFailuresSinceTheLastSuccess) {
  auto attempt = [](const std::string& user, const std::string& address, TimeMicros at,
                    bool success) {
    return LoginAttempt{user, address, at, success};
  };
  InWrite([&](Transaction& t) {
    ASSERT_OK(t.InsertLoginAttempt(attempt("alice", "10.0.0.1", kT0 + 1, false)));
    ASSERT_OK(t.InsertLoginAttempt(attempt("alice", "10.0.0.1", kT0 + 2, false)));
    ASSERT_OK(t.InsertLoginAttempt(attempt("alice", "10.0.0.2", kT0 + 3, true)));
    ASSERT_OK(t.InsertLoginAttempt(attempt("alice", "10.0.0.1", kT0 + 4, false)));
    ASSERT_OK(t.InsertLoginAttempt(attempt("alice", "10.0.0.1", kT0 + 5, false)));
    ASSERT_OK(t.InsertLoginAttempt(attempt("alice", "10.0.0.1", kT0 + 6, false)));
    ASSERT_OK(t.InsertLoginAttempt(attempt("bob", "10.0.0.1", kT0 + 7, false)));
  });
  ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin(TxnMode::kRead));
  ASSERT_OK_AND_ASSIGN(int since_start, txn->CountRecentFailures("alice", kT0));
  EXPECT_EQ(since_start, 3);  // the two before the success do not count
  ASSERT_OK_AND_ASSIGN(int since_5, txn->CountRecentFailures("alice", kT0 + 5));
  EXPECT_EQ(since_5, 2);
  ASSERT_OK_AND_ASSIGN(int bob, txn->CountRecentFailures("bob", kT0));
  EXPECT_EQ(bob, 1);
  ASSERT_OK_AND_ASSIGN(int nobody, txn->CountRecentFailures("nobody", kT0));
  EXPECT_EQ(nobody, 0);
  ASSERT_OK_AND_ASSIGN(int from_1, txn->CountAttemptsFromAddress("10.0.0.1", kT0));
  EXPECT_EQ(from_1, 6);
  ASSERT_OK_AND_ASSIGN(int from_1_late, txn->CountAttemptsFromAddress("10.0.0.1", kT0 + 6));
  EXPECT_EQ(from_1_late, 2);
  ASSERT_OK_AND_ASSIGN(int from_2, txn->CountAttemptsFromAddress("10.0.0.2", kT0));
  EXPECT_EQ(from_2, 0);  // only failures count against an address
}

TEST_P(StoreConformanceTest, AttemptsAtTheSameInstantCountInRecordedOrder) {
  InWrite([&](Transaction& t) {
    ASSERT_OK(t.InsertLoginAttempt({"alice", "a", kT0, false}));
    ASSERT_OK(t.InsertLoginAttempt({"alice", "a", kT0 + 9, false}));  // before the success
    ASSERT_OK(t.InsertLoginAttempt({"alice", "a", kT0 + 9, true}));
    ASSERT_OK(t.InsertLoginAttempt({"alice", "a", kT0 + 9, false}));  // after it
  });
  ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin(TxnMode::kRead));
  ASSERT_OK_AND_ASSIGN(int n, txn->CountRecentFailures("alice", kT0));
  EXPECT_EQ(n, 1);
}

// ---- sessions and tokens --------------------------------------------------------------------

TEST_P(StoreConformanceTest, SessionLifecycle) {
  SeedParents();
  InWrite([](Transaction& t) {
    ASSERT_OK(t.InsertSession(MakeSession("ses_1", "usr_a")));
    ASSERT_OK(t.InsertSession(MakeSession("ses_2", "usr_a")));
    ASSERT_OK(t.InsertSession(MakeSession("ses_3", "usr_b")));
    Session clash = MakeSession("ses_4", "usr_b");
    clash.token_hash = "tok_ses_1";
    EXPECT_CODE(t.InsertSession(clash), ErrorCode::kAlreadyExists);
    EXPECT_CODE(t.InsertSession(MakeSession("ses_5", "usr_missing")), ErrorCode::kNotFound);
  });
  ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin(TxnMode::kWrite));
  ASSERT_OK_AND_ASSIGN(Session s, txn->GetSessionByTokenHash("tok_ses_1"));
  EXPECT_EQ(s.id, "ses_1");
  EXPECT_EQ(s.user_id, "usr_a");
  EXPECT_EQ(s.csrf_hash, "csrf_ses_1");
  EXPECT_EQ(s.source_address, "10.0.0.7");
  EXPECT_EQ(s.created_at, kT0);
  EXPECT_EQ(s.absolute_expires_at, kT0 + 12 * kMicrosPerHour);
  EXPECT_FALSE(s.revoked_at.has_value());

  ASSERT_OK(txn->TouchSession("ses_1", kT0 + 100));
  ASSERT_OK_AND_ASSIGN(Session touched, txn->GetSession("ses_1"));
  EXPECT_EQ(touched.last_seen_at, kT0 + 100);

  ASSERT_OK(txn->RevokeSession("ses_1", kT0 + 200));
  ASSERT_OK(txn->RevokeSession("ses_1", kT0 + 300));  // keeps the first time
  ASSERT_OK_AND_ASSIGN(Session revoked, txn->GetSession("ses_1"));
  EXPECT_EQ(revoked.revoked_at, kT0 + 200);

  ASSERT_OK_AND_ASSIGN(int n, txn->RevokeUserSessions("usr_a", kT0 + 400));
  EXPECT_EQ(n, 1);  // ses_2 only; ses_1 was revoked already
  ASSERT_OK_AND_ASSIGN(Session s2, txn->GetSession("ses_2"));
  EXPECT_EQ(s2.revoked_at, kT0 + 400);
  ASSERT_OK_AND_ASSIGN(Session s3, txn->GetSession("ses_3"));
  EXPECT_FALSE(s3.revoked_at.has_value());
  ASSERT_OK_AND_ASSIGN(Session s1, txn->GetSession("ses_1"));
  EXPECT_EQ(s1.revoked_at, kT0 + 200);
  ASSERT_OK(txn->Commit());
}

TEST_P(StoreConformanceTest, ApiTokenRoundTripAndListing) {
  SeedParents();
  ApiToken token;
  token.id = "tkn_1";
  token.name = "pipeline";
  token.user_id = "usr_a";
  token.project_id = "prj_1";
  token.permissions = {"item.read", "annotation.write", "odd \"quoted\" name"};
  token.token_hash = "hash_1";
  token.created_at = kT0;
  token.expires_at = kT0 + kMicrosPerHour;
  InWrite([&](Transaction& t) {
    ASSERT_OK(t.InsertApiToken(token));
    ApiToken other = token;
    other.id = "tkn_2";
    other.token_hash = "hash_2";
    other.expires_at.reset();
    other.permissions.clear();
    ASSERT_OK(t.InsertApiToken(other));
    other.id = "tkn_3";
    other.user_id = "usr_b";
    other.token_hash = "hash_3";
    ASSERT_OK(t.InsertApiToken(other));
    other.id = "tkn_4";
    EXPECT_CODE(t.InsertApiToken(other), ErrorCode::kAlreadyExists);  // same hash
    other.token_hash = "hash_4";
    other.project_id = "prj_missing";
    EXPECT_CODE(t.InsertApiToken(other), ErrorCode::kNotFound);
  });
  ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin(TxnMode::kWrite));
  ASSERT_OK_AND_ASSIGN(ApiToken got, txn->GetApiTokenByHash("hash_1"));
  EXPECT_EQ(got.id, "tkn_1");
  EXPECT_EQ(got.name, "pipeline");
  EXPECT_EQ(got.user_id, "usr_a");
  EXPECT_EQ(got.project_id, "prj_1");
  EXPECT_EQ(got.permissions, token.permissions);
  EXPECT_EQ(got.created_at, kT0);
  EXPECT_EQ(got.expires_at, token.expires_at);
  EXPECT_FALSE(got.revoked_at.has_value());
  ASSERT_OK_AND_ASSIGN(ApiToken second, txn->GetApiToken("tkn_2"));
  EXPECT_TRUE(second.permissions.empty());
  EXPECT_FALSE(second.expires_at.has_value());

  ASSERT_OK(txn->RevokeApiToken("tkn_1", kT0 + 5));
  ASSERT_OK_AND_ASSIGN(ApiToken revoked, txn->GetApiToken("tkn_1"));
  EXPECT_EQ(revoked.revoked_at, kT0 + 5);

  ASSERT_OK_AND_ASSIGN(auto of_a, txn->ListApiTokens("usr_a", {}));
  ASSERT_EQ(of_a.rows.size(), 2u);
  EXPECT_EQ(of_a.rows[0].id, "tkn_1");
  EXPECT_EQ(of_a.rows[1].id, "tkn_2");
  EXPECT_EQ(of_a.next, "");
  ASSERT_OK_AND_ASSIGN(auto of_b, txn->ListApiTokens("usr_b", {}));
  ASSERT_EQ(of_b.rows.size(), 1u);
  EXPECT_EQ(of_b.rows[0].id, "tkn_3");
}

// ---- projects and memberships ---------------------------------------------------------------

TEST_P(StoreConformanceTest, ProjectsRoundTripAndNameClash) {
  InWrite([](Transaction& t) {
    ASSERT_OK(t.InsertProject(MakeProject("prj_2", "Breast MR")));
    ASSERT_OK(t.InsertProject(MakeProject("prj_1", "Lung CT")));
    EXPECT_CODE(t.InsertProject(MakeProject("prj_3", "Lung CT")), ErrorCode::kAlreadyExists);
    EXPECT_CODE(t.InsertProject(MakeProject("prj_1", "Other")), ErrorCode::kAlreadyExists);
  });
  ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin(TxnMode::kRead));
  ASSERT_OK_AND_ASSIGN(core::Project p, txn->GetProject("prj_1"));
  EXPECT_EQ(p.name, "Lung CT");
  EXPECT_EQ(p.description, "about Lung CT");
  EXPECT_EQ(p.created_at, kT0);
  EXPECT_EQ(p.created_by, "usr_admin");
  ASSERT_OK_AND_ASSIGN(auto all, txn->ListProjects({}));
  ASSERT_EQ(all.rows.size(), 2u);
  EXPECT_EQ(all.rows[0].id, "prj_1");
  EXPECT_EQ(all.rows[1].id, "prj_2");
}

TEST_P(StoreConformanceTest, MembershipsPutReplaceListAndDelete) {
  SeedParents();
  InWrite([](Transaction& t) {
    ASSERT_OK(t.InsertProject(MakeProject("prj_2", "Breast MR")));
    ASSERT_OK(t.InsertProject(MakeProject("prj_3", "Notes")));
    ASSERT_OK(t.PutMembership(
        {"prj_1", "usr_a", {core::Role::kAnnotator}, {core::DataType::kImaging}, kT0}));
    ASSERT_OK(t.PutMembership({"prj_1", "usr_b", {core::Role::kReviewer}, {}, kT0}));
    ASSERT_OK(t.PutMembership({"prj_3", "usr_a", {core::Role::kManager}, {}, kT0}));
    // Replaces the first.
    ASSERT_OK(t.PutMembership({"prj_1",
                               "usr_a",
                               {core::Role::kAnnotator, core::Role::kDataSteward},
                               {core::DataType::kNotes, core::DataType::kWaveforms},
                               kT0 + 1}));
    EXPECT_CODE(t.PutMembership({"prj_missing", "usr_a", {}, {}, kT0}), ErrorCode::kNotFound);
    EXPECT_CODE(t.PutMembership({"prj_1", "usr_missing", {}, {}, kT0}), ErrorCode::kNotFound);
  });
  ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin(TxnMode::kWrite));
  ASSERT_OK_AND_ASSIGN(core::Membership m, txn->GetMembership("prj_1", "usr_a"));
  EXPECT_EQ(m.roles, (std::vector{core::Role::kAnnotator, core::Role::kDataSteward}));
  EXPECT_EQ(m.scopes, (std::vector{core::DataType::kNotes, core::DataType::kWaveforms}));
  EXPECT_EQ(m.created_at, kT0 + 1);

  ASSERT_OK_AND_ASSIGN(auto members, txn->ListMemberships("prj_1", {}));
  ASSERT_EQ(members.rows.size(), 2u);
  EXPECT_EQ(members.rows[0].user_id, "usr_a");
  EXPECT_EQ(members.rows[1].user_id, "usr_b");
  EXPECT_TRUE(members.rows[1].scopes.empty());
  ASSERT_OK_AND_ASSIGN(auto first, txn->ListMemberships("prj_1", {"", 1}));
  ASSERT_EQ(first.rows.size(), 1u);
  EXPECT_EQ(first.next, "usr_a");
  ASSERT_OK_AND_ASSIGN(auto second, txn->ListMemberships("prj_1", {first.next, 1}));
  ASSERT_EQ(second.rows.size(), 1u);
  EXPECT_EQ(second.rows[0].user_id, "usr_b");
  EXPECT_EQ(second.next, "");

  ASSERT_OK_AND_ASSIGN(auto of_a, txn->ListProjectsOfUser("usr_a", {}));
  ASSERT_EQ(of_a.rows.size(), 2u);
  EXPECT_EQ(of_a.rows[0].id, "prj_1");
  EXPECT_EQ(of_a.rows[1].id, "prj_3");
  ASSERT_OK_AND_ASSIGN(auto of_b, txn->ListProjectsOfUser("usr_b", {}));
  ASSERT_EQ(of_b.rows.size(), 1u);
  EXPECT_EQ(of_b.rows[0].name, "Lung CT");

  ASSERT_OK(txn->DeleteMembership("prj_1", "usr_a"));
  EXPECT_CODE(txn->DeleteMembership("prj_1", "usr_a"), ErrorCode::kNotFound);
  EXPECT_CODE(txn->GetMembership("prj_1", "usr_a"), ErrorCode::kNotFound);
  ASSERT_OK_AND_ASSIGN(auto of_a_after, txn->ListProjectsOfUser("usr_a", {}));
  ASSERT_EQ(of_a_after.rows.size(), 1u);
  EXPECT_EQ(of_a_after.rows[0].id, "prj_3");
  ASSERT_OK(txn->Commit());
}

// ---- items and annotations ------------------------------------------------------------------

TEST_P(StoreConformanceTest, ItemsRoundTripAndStayInTheirProject) {
  SeedParents();
  InWrite([](Transaction& t) {
    ASSERT_OK(t.InsertProject(MakeProject("prj_2", "Breast MR")));
    ASSERT_OK(t.InsertItem(MakeItem("itm_2", "prj_2")));
    core::Item bare = MakeItem("itm_3", "prj_1");
    bare.cohort_json = "{}";
    bare.content_blob.clear();
    bare.data_type = core::DataType::kNotes;
    ASSERT_OK(t.InsertItem(bare));
    EXPECT_CODE(t.InsertItem(MakeItem("itm_1", "prj_1")), ErrorCode::kAlreadyExists);
    EXPECT_CODE(t.InsertItem(MakeItem("itm_9", "prj_missing")), ErrorCode::kNotFound);
  });
  ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin(TxnMode::kRead));
  ASSERT_OK_AND_ASSIGN(core::Item i, txn->GetItem("itm_1"));
  core::Item want = MakeItem("itm_1", "prj_1");
  EXPECT_EQ(i.project_id, want.project_id);
  EXPECT_EQ(i.data_type, core::DataType::kPathology);
  EXPECT_EQ(i.modality, "SM");
  EXPECT_EQ(i.patient_key, want.patient_key);
  EXPECT_EQ(i.cohort_json, want.cohort_json);
  EXPECT_EQ(i.content_blob, want.content_blob);
  EXPECT_EQ(i.content_type, want.content_type);
  EXPECT_EQ(i.content_bytes, 123456);
  EXPECT_EQ(i.created_at, want.created_at);
  EXPECT_EQ(i.created_by, "usr_a");
  ASSERT_OK_AND_ASSIGN(core::Item bare, txn->GetItem("itm_3"));
  EXPECT_EQ(bare.content_blob, "");
  EXPECT_EQ(bare.data_type, core::DataType::kNotes);

  ASSERT_OK_AND_ASSIGN(auto in_1, txn->ListItems("prj_1", {}));
  ASSERT_EQ(in_1.rows.size(), 2u);
  EXPECT_EQ(in_1.rows[0].id, "itm_1");
  EXPECT_EQ(in_1.rows[1].id, "itm_3");
  ASSERT_OK_AND_ASSIGN(auto in_2, txn->ListItems("prj_2", {}));
  ASSERT_EQ(in_2.rows.size(), 1u);
  EXPECT_EQ(in_2.rows[0].id, "itm_2");
}

TEST_P(StoreConformanceTest, AnnotationRoundTripAndRevisionPrecondition) {
  SeedParents();
  core::Annotation a = MakeAnnotation("ann_1", "prj_1", "itm_1");
  InWrite([&](Transaction& t) {
    ASSERT_OK(t.InsertAnnotation(a));
    core::Annotation no_confidence = MakeAnnotation("ann_2", "prj_1", "itm_1");
    no_confidence.confidence.reset();
    no_confidence.task_id = "";
    ASSERT_OK(t.InsertAnnotation(no_confidence));
    EXPECT_CODE(t.InsertAnnotation(a), ErrorCode::kAlreadyExists);
    EXPECT_CODE(t.InsertAnnotation(MakeAnnotation("ann_3", "prj_1", "itm_missing")),
                ErrorCode::kNotFound);
  });
  ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin(TxnMode::kWrite));
  ASSERT_OK_AND_ASSIGN(core::Annotation got, txn->GetAnnotation("ann_1"));
  EXPECT_EQ(got.project_id, "prj_1");
  EXPECT_EQ(got.item_id, "itm_1");
  EXPECT_EQ(got.task_id, "tsk_1");
  EXPECT_EQ(got.author, "usr_a");
  EXPECT_EQ(got.guideline_version_id, "gdl_1");
  EXPECT_EQ(got.evidence_kind, "roi");
  EXPECT_EQ(got.evidence_json, a.evidence_json);
  EXPECT_EQ(got.label_class, "nodule");
  EXPECT_EQ(got.code_system, "SNOMED CT");
  EXPECT_EQ(got.code, "27925004");
  EXPECT_EQ(got.confidence, 0.75);
  EXPECT_EQ(got.assertion, core::Assertion::kPossible);
  EXPECT_EQ(got.temporality, core::Temporality::kHistorical);
  EXPECT_EQ(got.experiencer, core::Experiencer::kFamily);
  EXPECT_EQ(got.relations_json, a.relations_json);
  EXPECT_EQ(got.status, core::LabelStatus::kConfirmed);
  EXPECT_EQ(got.origin, "prelabel:detector@1.2");
  EXPECT_EQ(got.revision, 1);
  EXPECT_EQ(got.created_at, kT0 + 10);
  EXPECT_EQ(got.updated_at, kT0 + 10);
  ASSERT_OK_AND_ASSIGN(core::Annotation second, txn->GetAnnotation("ann_2"));
  EXPECT_FALSE(second.confidence.has_value());
  EXPECT_EQ(second.task_id, "");

  core::Annotation edit = got;
  edit.code = "123";
  edit.status = core::LabelStatus::kAdjudicated;
  edit.assertion = core::Assertion::kAbsent;
  edit.confidence.reset();
  edit.revision = 2;
  edit.updated_at = kT0 + 20;
  ASSERT_OK(txn->UpdateAnnotation(edit, 1));
  ASSERT_OK_AND_ASSIGN(core::Annotation after, txn->GetAnnotation("ann_1"));
  EXPECT_EQ(after.revision, 2);
  EXPECT_EQ(after.code, "123");
  EXPECT_EQ(after.status, core::LabelStatus::kAdjudicated);
  EXPECT_EQ(after.assertion, core::Assertion::kAbsent);
  EXPECT_FALSE(after.confidence.has_value());
  EXPECT_EQ(after.updated_at, kT0 + 20);
  EXPECT_EQ(after.created_at, kT0 + 10);

  // A stale writer that read revision 1 loses.
  core::Annotation stale = got;
  stale.code = "lost";
  stale.revision = 2;
  EXPECT_CODE(txn->UpdateAnnotation(stale, 1), ErrorCode::kPreconditionFailed);
  ASSERT_OK_AND_ASSIGN(core::Annotation unchanged, txn->GetAnnotation("ann_1"));
  EXPECT_EQ(unchanged.code, "123");
  EXPECT_CODE(txn->UpdateAnnotation(MakeAnnotation("ann_missing", "prj_1", "itm_1"), 1),
              ErrorCode::kNotFound);

  ASSERT_OK_AND_ASSIGN(auto listed, txn->ListAnnotations("itm_1", {}));
  ASSERT_EQ(listed.rows.size(), 2u);
  EXPECT_EQ(listed.rows[0].id, "ann_1");
  EXPECT_EQ(listed.rows[1].id, "ann_2");
  ASSERT_OK_AND_ASSIGN(auto none, txn->ListAnnotations("itm_other", {}));
  EXPECT_TRUE(none.rows.empty());
  ASSERT_OK(txn->Commit());
}

// ---- pagination -----------------------------------------------------------------------------

TEST_P(StoreConformanceTest, PaginationVisitsEveryRowOnceInIdOrder) {
  constexpr int kUsers = 23;
  InWrite([](Transaction& t) {
    // Inserted out of order; pages come back in id order.
    for (int i = kUsers - 1; i >= 0; --i) {
      char id[16];
      std::snprintf(id, sizeof id, "usr_%03d", i);
      ASSERT_OK(t.InsertUser(MakeUser(id, std::string("name") + id)));
    }
  });
  ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin(TxnMode::kRead));
  std::vector<std::string> seen;
  PageRequest request{"", 5};
  int pages = 0;
  for (;;) {
    ASSERT_OK_AND_ASSIGN(auto page, txn->ListUsers(request));
    ++pages;
    ASSERT_LE(page.rows.size(), 5u);
    for (const auto& u : page.rows) seen.push_back(u.id);
    if (page.next.empty()) break;
    EXPECT_EQ(page.next, page.rows.back().id);
    request.after = page.next;
    ASSERT_LT(pages, 10) << "pagination does not end";
  }
  EXPECT_EQ(pages, 5);
  ASSERT_EQ(seen.size(), static_cast<std::size_t>(kUsers));
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), seen.size());
  EXPECT_EQ(seen.front(), "usr_000");
  EXPECT_EQ(seen.back(), "usr_022");

  // An exact multiple of the limit: the last full page may say "more" but the next is empty.
  ASSERT_OK_AND_ASSIGN(auto tail, txn->ListUsers({"usr_017", 5}));
  EXPECT_EQ(tail.rows.size(), 5u);
  EXPECT_EQ(tail.next, "");
}

TEST_P(StoreConformanceTest, PageLimitsAreClamped) {
  SeedParents();
  InWrite([](Transaction& t) {
    for (int i = 0; i < 501; ++i) {
      char id[16];
      std::snprintf(id, sizeof id, "itm_x%04d", i);
      ASSERT_OK(t.InsertItem(MakeItem(id, "prj_1")));
    }
  });
  ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin(TxnMode::kRead));
  ASSERT_OK_AND_ASSIGN(auto huge, txn->ListItems("prj_1", {"", 100000}));
  EXPECT_EQ(huge.rows.size(), 500u);
  EXPECT_EQ(huge.next, huge.rows.back().id);
  ASSERT_OK_AND_ASSIGN(auto zero, txn->ListItems("prj_1", {"", 0}));
  EXPECT_EQ(zero.rows.size(), 1u);
  EXPECT_EQ(zero.next, "itm_1");
  ASSERT_OK_AND_ASSIGN(auto negative, txn->ListItems("prj_1", {"", -7}));
  EXPECT_EQ(negative.rows.size(), 1u);
}

// ---- audit ----------------------------------------------------------------------------------

TEST_P(StoreConformanceTest, AuditSeqIsAssignedWithoutGaps) {
  AuditEvent first = MakeEvent("auth.login");
  InWrite([&](Transaction& t) { ASSERT_OK(t.AppendAuditEvent(first)); });
  EXPECT_EQ(first.seq, 1);
  {
    // A rolled-back append leaves no gap.
    ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin(TxnMode::kWrite));
    AuditEvent dropped = MakeEvent("dropped");
    ASSERT_OK(txn->AppendAuditEvent(dropped));
    EXPECT_EQ(dropped.seq, 2);
  }
  std::vector<AuditEvent> more;
  InWrite([&](Transaction& t) {
    for (int i = 0; i < 4; ++i) {
      AuditEvent e = MakeEvent("item.read");
      e.seq = 999;  // ignored: the store assigns
      e.object_id = "itm_" + std::to_string(i);
      ASSERT_OK(t.AppendAuditEvent(e));
      more.push_back(e);
    }
  });
  ASSERT_EQ(more.size(), 4u);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(more[i].seq, i + 2);

  ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin(TxnMode::kRead));
  ASSERT_OK_AND_ASSIGN(AuditEvent last, txn->GetLastAuditEvent());
  EXPECT_EQ(last.seq, 5);
  EXPECT_EQ(last.object_id, "itm_3");
  ASSERT_OK_AND_ASSIGN(auto all, txn->ListAuditEvents(0, 100));
  ASSERT_EQ(all.size(), 5u);
  EXPECT_EQ(all[0].action, "auth.login");
  EXPECT_EQ(all[0].time, kT0 + 5);
  EXPECT_EQ(all[0].actor, "usr_a");
  EXPECT_EQ(all[0].session_id, "ses_1");
  EXPECT_EQ(all[0].source_address, "10.0.0.7");
  EXPECT_EQ(all[0].object_type, "user");
  EXPECT_EQ(all[0].outcome, "success");
  EXPECT_EQ(all[0].details_json, R"({"k":"v"})");
  EXPECT_EQ(all[0].prev_hash, "00ff");
  EXPECT_EQ(all[0].hash, "ff00");
  ASSERT_OK_AND_ASSIGN(auto middle, txn->ListAuditEvents(2, 2));
  ASSERT_EQ(middle.size(), 2u);
  EXPECT_EQ(middle[0].seq, 3);
  EXPECT_EQ(middle[1].seq, 4);
  ASSERT_OK_AND_ASSIGN(auto past_end, txn->ListAuditEvents(5, 10));
  EXPECT_TRUE(past_end.empty());
}

TEST_P(StoreConformanceTest, AuditCheckpoints) {
  {
    ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin(TxnMode::kRead));
    EXPECT_CODE(txn->GetLastAuditEvent(), ErrorCode::kNotFound);
    EXPECT_CODE(txn->GetLastAuditCheckpoint(), ErrorCode::kNotFound);
  }
  InWrite([](Transaction& t) {
    for (int i = 0; i < 3; ++i) {
      AuditEvent e = MakeEvent("x");
      ASSERT_OK(t.AppendAuditEvent(e));
    }
    ASSERT_OK(t.InsertAuditCheckpoint({3, "h3", "sig3", kT0 + 3}));
    ASSERT_OK(t.InsertAuditCheckpoint({1, "h1", "sig1", kT0 + 1}));
    EXPECT_CODE(t.InsertAuditCheckpoint({3, "h3", "sig3", kT0 + 3}), ErrorCode::kAlreadyExists);
  });
  ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin(TxnMode::kRead));
  ASSERT_OK_AND_ASSIGN(AuditCheckpoint c, txn->GetLastAuditCheckpoint());
  EXPECT_EQ(c.seq, 3);
  EXPECT_EQ(c.hash, "h3");
  EXPECT_EQ(c.signature, "sig3");
  EXPECT_EQ(c.time, kT0 + 3);
}

// ---- keys -----------------------------------------------------------------------------------

TEST_P(StoreConformanceTest, ProjectKeysPutReplaceAndList) {
  InWrite([](Transaction& t) {
    ASSERT_OK(t.PutProjectKey({"prj_b", {9, 8}, 1, kT0}));
    ASSERT_OK(t.PutProjectKey({"prj_a", {0, 1, 0, 255}, 1, kT0}));
    ASSERT_OK(t.PutProjectKey({"prj_b", {7, 7, 7}, 2, kT0 + 1}));  // rotation replaces
  });
  ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin(TxnMode::kRead));
  ASSERT_OK_AND_ASSIGN(ProjectKey b, txn->GetProjectKey("prj_b"));
  EXPECT_EQ(b.wrapped, (std::vector<unsigned char>{7, 7, 7}));
  EXPECT_EQ(b.version, 2);
  EXPECT_EQ(b.created_at, kT0 + 1);
  ASSERT_OK_AND_ASSIGN(auto keys, txn->ListProjectKeys());
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[0].project_id, "prj_a");
  EXPECT_EQ(keys[0].wrapped, (std::vector<unsigned char>{0, 1, 0, 255}));
  EXPECT_EQ(keys[1].project_id, "prj_b");
  EXPECT_CODE(txn->GetProjectKey("prj_c"), ErrorCode::kNotFound);
}

TEST_P(StoreConformanceTest, DataKeysLookupAndDestroy) {
  DataKey key{"dk_1", "prj_1", "pat_1", {1, 2, 3, 4}, 1, kT0, std::nullopt};
  InWrite([&](Transaction& t) {
    ASSERT_OK(t.InsertDataKey(key));
    ASSERT_OK(t.InsertDataKey({"dk_2", "prj_1", "pat_2", {5}, 1, kT0, std::nullopt}));
    ASSERT_OK(t.InsertDataKey({"dk_3", "prj_2", "pat_1", {6}, 1, kT0, std::nullopt}));
    EXPECT_CODE(t.InsertDataKey({"dk_4", "prj_1", "pat_1", {7}, 1, kT0, std::nullopt}),
                ErrorCode::kAlreadyExists);
    EXPECT_CODE(t.InsertDataKey({"dk_1", "prj_9", "pat_9", {7}, 1, kT0, std::nullopt}),
                ErrorCode::kAlreadyExists);
  });
  ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin(TxnMode::kWrite));
  ASSERT_OK_AND_ASSIGN(DataKey found, txn->FindDataKey("prj_1", "pat_1"));
  EXPECT_EQ(found.id, "dk_1");
  EXPECT_EQ(found.wrapped, key.wrapped);
  EXPECT_EQ(found.project_key_version, 1);
  EXPECT_EQ(found.created_at, kT0);
  EXPECT_FALSE(found.destroyed_at.has_value());
  ASSERT_OK_AND_ASSIGN(DataKey other_project, txn->FindDataKey("prj_2", "pat_1"));
  EXPECT_EQ(other_project.id, "dk_3");
  EXPECT_CODE(txn->FindDataKey("prj_1", "pat_9"), ErrorCode::kNotFound);

  // Re-wrap under project key version 2.
  found.wrapped = {42, 43};
  found.project_key_version = 2;
  ASSERT_OK(txn->UpdateDataKey(found));
  ASSERT_OK_AND_ASSIGN(DataKey rewrapped, txn->GetDataKey("dk_1"));
  EXPECT_EQ(rewrapped.wrapped, (std::vector<unsigned char>{42, 43}));
  EXPECT_EQ(rewrapped.project_key_version, 2);

  // Crypto-shred: the wrapped key is gone, the row stays.
  rewrapped.wrapped.clear();
  rewrapped.destroyed_at = kT0 + 99;
  ASSERT_OK(txn->UpdateDataKey(rewrapped));
  ASSERT_OK_AND_ASSIGN(DataKey destroyed, txn->FindDataKey("prj_1", "pat_1"));
  EXPECT_TRUE(destroyed.wrapped.empty());
  EXPECT_EQ(destroyed.destroyed_at, kT0 + 99);
  DataKey missing = key;
  missing.id = "dk_missing";
  EXPECT_CODE(txn->UpdateDataKey(missing), ErrorCode::kNotFound);

  ASSERT_OK_AND_ASSIGN(auto in_1, txn->ListDataKeys("prj_1"));
  ASSERT_EQ(in_1.size(), 2u);
  EXPECT_EQ(in_1[0].id, "dk_1");
  EXPECT_EQ(in_1[1].id, "dk_2");
  ASSERT_OK(txn->Commit());
}

// ---- missing rows ---------------------------------------------------------------------------

// ---- the labelling workflow ---------------------------------------------------------------------

core::Task MakeTask(const std::string& id, const std::string& item_id, TimeMicros created_at) {
  core::Task t;
  t.id = id;
  t.project_id = "prj_1";
  t.item_id = item_id;
  t.revision = 1;
  t.created_at = t.updated_at = created_at;
  return t;
}

core::GuidelineVersion MakeDraft(const std::string& id, const std::string& project_id) {
  core::GuidelineVersion g;
  g.id = id;
  g.project_id = project_id;
  g.schema_json = R"({"classes":[]})";
  g.created_at = kT0;
  g.created_by = "usr_a";
  return g;
}

TEST_P(StoreConformanceTest, GuidelineDraftsEditPublishAndFreeze) {
  SeedParents();
  core::GuidelineVersion draft = MakeDraft("gdl_1", "prj_1");
  InWrite([&](Transaction& t) {
    ASSERT_OK(t.InsertGuidelineVersion(draft));
    EXPECT_CODE(t.InsertGuidelineVersion(MakeDraft("gdl_2", "prj_1")), ErrorCode::kAlreadyExists);
    EXPECT_CODE(t.GetCurrentGuideline("prj_1"), ErrorCode::kNotFound);
  });
  InWrite([&](Transaction& t) {
    core::GuidelineVersion edited = draft;
    edited.schema_json = R"({"classes":[{"id":"x"}]})";
    edited.revision = 2;
    ASSERT_OK(t.UpdateGuidelineVersion(edited, 1));
    EXPECT_CODE(t.UpdateGuidelineVersion(edited, 1), ErrorCode::kPreconditionFailed);
    core::GuidelineVersion published = edited;
    published.status = core::GuidelineStatus::kPublished;
    published.version = 1;
    published.revision = 3;
    published.published_at = kT0 + 5;
    ASSERT_OK(t.UpdateGuidelineVersion(published, 2));
    published.schema_json = "{}";
    published.revision = 4;
    EXPECT_CODE(t.UpdateGuidelineVersion(published, 3), ErrorCode::kConflict);
    core::GuidelineVersion next = MakeDraft("gdl_2", "prj_1");
    next.based_on = "gdl_1";
    ASSERT_OK(t.InsertGuidelineVersion(next));
    core::GuidelineVersion clash = MakeDraft("gdl_3", "prj_1");
    clash.status = core::GuidelineStatus::kPublished;
    clash.version = 1;
    clash.published_at = kT0;
    EXPECT_CODE(t.InsertGuidelineVersion(clash), ErrorCode::kAlreadyExists);
  });
  ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin(TxnMode::kRead));
  ASSERT_OK_AND_ASSIGN(core::GuidelineVersion current, txn->GetCurrentGuideline("prj_1"));
  EXPECT_EQ(current.id, "gdl_1");
  EXPECT_EQ(current.version, 1);
  EXPECT_EQ(current.status, core::GuidelineStatus::kPublished);
  EXPECT_EQ(current.schema_json, R"({"classes":[{"id":"x"}]})");
  EXPECT_EQ(current.revision, 3);
  EXPECT_EQ(current.published_at, kT0 + 5);
  EXPECT_EQ(current.created_by, "usr_a");
  ASSERT_OK_AND_ASSIGN(core::GuidelineVersion next, txn->GetGuidelineVersion("gdl_2"));
  EXPECT_EQ(next.based_on, "gdl_1");
  EXPECT_EQ(next.status, core::GuidelineStatus::kDraft);
  EXPECT_FALSE(next.published_at.has_value());
  ASSERT_OK_AND_ASSIGN(auto all, txn->ListGuidelineVersions("prj_1", {}));
  ASSERT_EQ(all.rows.size(), 2u);
  EXPECT_EQ(all.rows[0].id, "gdl_1");
  EXPECT_CODE(txn->GetGuidelineVersion("gdl_9"), ErrorCode::kNotFound);
}

TEST_P(StoreConformanceTest, WorkflowSettingsPutReplaceAndGet) {
  SeedParents();
  InWrite([](Transaction& t) {
    EXPECT_CODE(t.GetWorkflowSettings("prj_1"), ErrorCode::kNotFound);
    core::WorkflowSettings w{"prj_1", 3, core::Qualification::kRadiologist, {core::DataType::kImaging}, 20, kT0};
    ASSERT_OK(t.PutWorkflowSettings(w));
    w.readers_per_item = 2;
    w.required_qualification.reset();
    w.data_types = {};
    w.gold_rate = 0.25;
    ASSERT_OK(t.PutWorkflowSettings(w));
  });
  ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin(TxnMode::kRead));
  ASSERT_OK_AND_ASSIGN(core::WorkflowSettings w, txn->GetWorkflowSettings("prj_1"));
  EXPECT_EQ(w.readers_per_item, 2);
  EXPECT_FALSE(w.required_qualification.has_value());
  EXPECT_TRUE(w.data_types.empty());
  EXPECT_EQ(w.lease_minutes, 20);
  EXPECT_EQ(w.gold_rate, 0.25);
  EXPECT_EQ(w.review_rate, 1.0) << "every reading is reviewed unless said otherwise";
  EXPECT_EQ(w.repeat_rate, 0.0);
}

TEST_P(StoreConformanceTest, SoftLabelsAndQaFindingsAreReplacedWhole) {
  SeedParents();  // prj_1 with itm_1
  InWrite([](Transaction& t) {
    core::Item other = MakeItem("itm_2", "prj_1");
    ASSERT_OK(t.InsertItem(other));
    ASSERT_OK(t.ReplaceSoftLabels("prj_1", {{"itm_1", "prj_1", "a", "dawid_skene", 0.25, 2, kT0},
                                            {"itm_2", "prj_1", "a", "dawid_skene", 1.0, 1, kT0}}));
    ASSERT_OK(t.ReplaceSoftLabels("prj_1", {{"itm_2", "prj_1", "b", "dawid_skene", 0.5, 3, kT0 + 1}}));
    ASSERT_OK(t.ReplaceQaFindings("prj_1", std::nullopt,
                                  {{"qaf_1", "prj_1", "itm_1", "r1", "warning", "a", "", "m1", "f1", "sweep", kT0},
                                   {"qaf_2", "prj_1", "itm_2", "r2", "error", "", "", "m2", "f2", "sweep", kT0},
                                   {"qaf_3", "prj_1", "", "imbalance", "info", "a", "", "m3", "f3", "sweep", kT0}}));
    // A submit replaces only its item's.
    ASSERT_OK(t.ReplaceQaFindings("prj_1", std::string("itm_1"),
                                  {{"qaf_4", "prj_1", "itm_1", "r4", "warning", "", "ann_1", "m4", "f4", "submit",
                                    kT0 + 2}}));
  });
  ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin(TxnMode::kRead));
  ASSERT_OK_AND_ASSIGN(auto soft, txn->ListSoftLabels("prj_1", ""));
  ASSERT_EQ(soft.size(), 1u) << "the second replace dropped the first's rows";
  EXPECT_EQ(soft[0].item_id, "itm_2");
  EXPECT_EQ(soft[0].label_class, "b");
  EXPECT_EQ(soft[0].probability, 0.5);
  EXPECT_EQ(soft[0].readings, 3);
  EXPECT_EQ(soft[0].computed_at, kT0 + 1);
  ASSERT_OK_AND_ASSIGN(auto none, txn->ListSoftLabels("prj_1", "itm_1"));
  EXPECT_TRUE(none.empty());
  ASSERT_OK_AND_ASSIGN(auto findings, txn->ListQaFindings("prj_1"));
  ASSERT_EQ(findings.size(), 3u);
  EXPECT_EQ(findings[0].id, "qaf_3") << "project-level first ('' sorts first)";
  EXPECT_EQ(findings[1].id, "qaf_4");
  EXPECT_EQ(findings[1].source, "submit");
  EXPECT_EQ(findings[1].annotation_id, "ann_1");
  EXPECT_EQ(findings[2].id, "qaf_2");
  EXPECT_EQ(findings[2].severity, "error");
}

TEST_P(StoreConformanceTest, RepeatTasksStandApartFromReadings) {
  SeedParents();  // itm_1 is pathology
  InWrite([](Transaction& t) {
    core::Task reading = MakeTask("tsk_1", "itm_1", kT0);
    reading.assignee = "usr_a";
    reading.state = core::TaskState::kSubmitted;
    ASSERT_OK(t.InsertTask(reading));
    core::Task repeat = MakeTask("tsk_2", "itm_1", kT0 + 1);
    repeat.assignee = "usr_a";  // the same reader and item: allowed for a repeat
    repeat.kind = core::TaskKind::kRepeat;
    repeat.repeat_of = "tsk_1";
    repeat.due_at = kT0 + 100;
    repeat.due_after_readings = 3;
    ASSERT_OK(t.InsertTask(repeat));
    core::Task second = MakeTask("tsk_3", "itm_1", kT0 + 2);
    second.assignee = "usr_a";
    second.kind = core::TaskKind::kRepeat;
    EXPECT_CODE(t.InsertTask(second), ErrorCode::kAlreadyExists);  // one repeat per reader and item
  });
  ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin(TxnMode::kRead));
  ASSERT_OK_AND_ASSIGN(auto of_item, txn->ListTasksOfItem("itm_1"));
  ASSERT_EQ(of_item.size(), 1u) << "repeats are not among an item's readings";
  EXPECT_EQ(of_item[0].id, "tsk_1");
  EXPECT_EQ(of_item[0].kind, core::TaskKind::kReading);
  ASSERT_OK_AND_ASSIGN(core::Task repeat, txn->GetRepeatTask("itm_1", "usr_a"));
  EXPECT_EQ(repeat.id, "tsk_2");
  EXPECT_EQ(repeat.kind, core::TaskKind::kRepeat);
  EXPECT_EQ(repeat.repeat_of, "tsk_1");
  EXPECT_EQ(repeat.due_at, kT0 + 100);
  EXPECT_EQ(repeat.due_after_readings, 3);
  EXPECT_CODE(txn->GetRepeatTask("itm_1", "usr_b"), ErrorCode::kNotFound);
  ASSERT_OK_AND_ASSIGN(auto readings, txn->ListTasks({"prj_1", "usr_a", std::nullopt}, {}));
  ASSERT_EQ(readings.rows.size(), 1u);
  ASSERT_OK_AND_ASSIGN(auto repeats,
                       txn->ListTasks({"prj_1", "usr_a", std::nullopt, core::TaskKind::kRepeat}, {}));
  ASSERT_EQ(repeats.rows.size(), 1u);
  EXPECT_EQ(repeats.rows[0].id, "tsk_2");
  ASSERT_OK_AND_ASSIGN(std::int64_t made, txn->CountReadings("prj_1", "usr_a"));
  EXPECT_EQ(made, 1) << "the submitted reading; not the repeat";
  ASSERT_OK_AND_ASSIGN(std::int64_t none, txn->CountReadings("prj_1", "usr_b"));
  EXPECT_EQ(none, 0);
  // An open repeat belongs to its reader, never to the pool.
  EXPECT_CODE(txn->FindClaimableTask("prj_1", "usr_b", {core::DataType::kPathology}, kT0 + 1000),
              ErrorCode::kNotFound);
}

TEST_P(StoreConformanceTest, TasksUpdateUnderRevisionAndOneReaderPerItem) {
  SeedParents();
  InWrite([](Transaction& t) {
    ASSERT_OK(t.InsertTask(MakeTask("tsk_1", "itm_1", kT0)));
    ASSERT_OK(t.InsertTask(MakeTask("tsk_2", "itm_1", kT0 + 1)));
    core::Task claimed = MakeTask("tsk_1", "itm_1", kT0);
    claimed.assignee = "usr_a";
    claimed.state = core::TaskState::kClaimed;
    claimed.lease_expires_at = kT0 + kMicrosPerMinute;
    claimed.revision = 2;
    ASSERT_OK(t.UpdateTask(claimed, 1));
    EXPECT_CODE(t.UpdateTask(claimed, 1), ErrorCode::kPreconditionFailed);
    core::Task second = MakeTask("tsk_2", "itm_1", kT0 + 1);
    second.assignee = "usr_a";
    second.revision = 2;
    EXPECT_CODE(t.UpdateTask(second, 1), ErrorCode::kAlreadyExists);  // one task per reader and item
    EXPECT_CODE(t.UpdateTask(MakeTask("tsk_9", "itm_1", kT0), 1), ErrorCode::kNotFound);
  });
  ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin(TxnMode::kRead));
  ASSERT_OK_AND_ASSIGN(core::Task t, txn->GetTask("tsk_1"));
  EXPECT_EQ(t.assignee, "usr_a");
  EXPECT_EQ(t.state, core::TaskState::kClaimed);
  EXPECT_EQ(t.lease_expires_at, kT0 + kMicrosPerMinute);
  EXPECT_EQ(t.revision, 2);
  ASSERT_OK_AND_ASSIGN(auto mine, txn->ListTasks({"prj_1", "usr_a", std::nullopt}, {}));
  ASSERT_EQ(mine.rows.size(), 1u);
  ASSERT_OK_AND_ASSIGN(auto open, txn->ListTasks({"prj_1", std::nullopt, core::TaskState::kOpen}, {}));
  ASSERT_EQ(open.rows.size(), 1u);
  EXPECT_EQ(open.rows[0].id, "tsk_2");
  ASSERT_OK_AND_ASSIGN(auto all, txn->ListTasks({"prj_1", std::nullopt, std::nullopt}, {"", 1}));
  EXPECT_EQ(all.rows.size(), 1u);
  EXPECT_EQ(all.next, "tsk_1");
  EXPECT_CODE(txn->GetTask("tsk_9"), ErrorCode::kNotFound);
}

TEST_P(StoreConformanceTest, ClaimableTasksRespectScopeLeaseAndReadersItems) {
  SeedParents();  // itm_1 is pathology
  const std::vector<core::DataType> pathology = {core::DataType::kPathology};
  InWrite([](Transaction& t) {
    core::Item notes = MakeItem("itm_2", "prj_1");
    notes.data_type = core::DataType::kNotes;
    ASSERT_OK(t.InsertItem(notes));
    ASSERT_OK(t.InsertTask(MakeTask("tsk_n", "itm_2", kT0)));
    ASSERT_OK(t.InsertTask(MakeTask("tsk_2", "itm_1", kT0 + 2)));
    ASSERT_OK(t.InsertTask(MakeTask("tsk_1", "itm_1", kT0 + 1)));
  });
  ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin(TxnMode::kWrite));
  ASSERT_OK_AND_ASSIGN(core::Task first, txn->FindClaimableTask("prj_1", "usr_a", pathology, kT0));
  EXPECT_EQ(first.id, "tsk_1") << "oldest first, only within the data types";
  EXPECT_CODE(txn->FindClaimableTask("prj_1", "usr_a", {}, kT0), ErrorCode::kNotFound);
  first.assignee = "usr_a";
  first.state = core::TaskState::kClaimed;
  first.lease_expires_at = kT0 + 10;
  first.revision = 2;
  ASSERT_OK(txn->UpdateTask(first, 1));
  // usr_a holds a task of itm_1 already.
  EXPECT_CODE(txn->FindClaimableTask("prj_1", "usr_a", pathology, kT0), ErrorCode::kNotFound);
  ASSERT_OK_AND_ASSIGN(core::Task for_b, txn->FindClaimableTask("prj_1", "usr_b", pathology, kT0));
  EXPECT_EQ(for_b.id, "tsk_2");
  for_b.assignee = "usr_b";
  for_b.state = core::TaskState::kClaimed;
  for_b.revision = 2;
  ASSERT_OK(txn->UpdateTask(for_b, 1));  // no lease: never expires
  EXPECT_CODE(txn->FindClaimableTask("prj_1", "usr_b", pathology, kT0 + 9), ErrorCode::kNotFound);
  ASSERT_OK_AND_ASSIGN(core::Task expired, txn->FindClaimableTask("prj_1", "usr_c", pathology, kT0 + 10));
  EXPECT_EQ(expired.id, "tsk_1") << "a lease that has ended returns the task to the pool";
  EXPECT_EQ(expired.state, core::TaskState::kClaimed);
  EXPECT_CODE(txn->FindClaimableTask("prj_1", "usr_b", pathology, kT0 + 10), ErrorCode::kNotFound);
}

TEST_P(StoreConformanceTest, ExpiredLeasesAndOpenTasksShareOneOldestFirstOrder) {
  SeedParents();  // itm_1 is pathology
  const std::vector<core::DataType> pathology = {core::DataType::kPathology};
  InWrite([](Transaction& t) {
    ASSERT_OK(t.InsertItem(MakeItem("itm_3", "prj_1")));
    ASSERT_OK(t.InsertItem(MakeItem("itm_4", "prj_1")));
    ASSERT_OK(t.InsertTask(MakeTask("tsk_c", "itm_4", kT0 + 1)));
    core::Task leased = MakeTask("tsk_b", "itm_1", kT0 + 2);
    leased.assignee = "usr_a";
    leased.state = core::TaskState::kClaimed;
    leased.lease_expires_at = kT0 + 10;
    ASSERT_OK(t.InsertTask(leased));
    ASSERT_OK(t.InsertTask(MakeTask("tsk_a", "itm_3", kT0 + 3)));
  });
  ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin(TxnMode::kWrite));
  ASSERT_OK_AND_ASSIGN(core::Task oldest, txn->FindClaimableTask("prj_1", "usr_c", pathology, kT0 + 10));
  EXPECT_EQ(oldest.id, "tsk_c") << "an open task older than the expired lease";
  oldest.assignee = "usr_d";
  oldest.state = core::TaskState::kClaimed;
  oldest.revision = 2;
  ASSERT_OK(txn->UpdateTask(oldest, 1));  // no lease: never expires
  ASSERT_OK_AND_ASSIGN(core::Task running, txn->FindClaimableTask("prj_1", "usr_c", pathology, kT0 + 9));
  EXPECT_EQ(running.id, "tsk_a") << "the lease of tsk_b still runs";
  ASSERT_OK_AND_ASSIGN(core::Task expired, txn->FindClaimableTask("prj_1", "usr_c", pathology, kT0 + 10));
  EXPECT_EQ(expired.id, "tsk_b") << "the expired lease is older than the open tsk_a";
}

TEST_P(StoreConformanceTest, GoldItemsKeepTheirAnswerAndComeFirstOnlyWhenAsked) {
  SeedParents();  // itm_1 is pathology
  const std::vector<core::DataType> pathology = {core::DataType::kPathology};
  InWrite([](Transaction& t) {
    ASSERT_OK(t.InsertItem(MakeItem("itm_2", "prj_1")));
    ASSERT_OK(t.InsertTask(MakeTask("tsk_1", "itm_1", kT0)));
    ASSERT_OK(t.InsertTask(MakeTask("tsk_2", "itm_2", kT0 + 1)));
    EXPECT_CODE(t.GetGoldItem("itm_2"), ErrorCode::kNotFound);
    ASSERT_OK(t.PutGoldItem({"itm_2", "prj_1", {"nodule"}, "usr_a", kT0}));
    ASSERT_OK(t.PutGoldItem({"itm_2", "prj_1", {"nodule", "mass"}, "usr_b", kT0 + 5}));  // replaces
    EXPECT_CODE(t.PutGoldItem({"itm_9", "prj_1", {}, "usr_a", kT0}), ErrorCode::kNotFound);
  });
  ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin(TxnMode::kRead));
  ASSERT_OK_AND_ASSIGN(core::GoldItem gold, txn->GetGoldItem("itm_2"));
  EXPECT_EQ(gold.answer, (std::vector<std::string>{"nodule", "mass"}));
  EXPECT_EQ(gold.set_by, "usr_b");
  EXPECT_EQ(gold.set_at, kT0 + 5);
  ASSERT_OK_AND_ASSIGN(auto all, txn->ListGoldItems("prj_1"));
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].item_id, "itm_2");
  for (auto order : {core::TaskOrder::kFifo, core::TaskOrder::kRandom, core::TaskOrder::kLeastSure}) {
    ASSERT_OK_AND_ASSIGN(core::Task first, txn->FindClaimableTask("prj_1", "usr_a", pathology, kT0, order, 7, true));
    EXPECT_EQ(first.id, "tsk_2") << "the gold item first";
    ASSERT_OK_AND_ASSIGN(core::Task last, txn->FindClaimableTask("prj_1", "usr_a", pathology, kT0, order, 7, false));
    EXPECT_EQ(last.id, "tsk_1") << "the gold item last";
  }
}

TEST_P(StoreConformanceTest, GuidelineFeedbackIsKeptInOrderAndNeverChanged) {
  SeedParents();
  using core::FeedbackKind;
  InWrite([](Transaction& t) {
    ASSERT_OK(t.InsertGuidelineVersion(MakeDraft("gdl_1", "prj_1")));
    ASSERT_OK(t.InsertGuidelineFeedback(
        {"gfb_2", "prj_1", "itm_1", "nodule", "gdl_1", FeedbackKind::kMissingEdgeCase, "perifissural?", "usr_b", kT0 + 1}));
    ASSERT_OK(t.InsertGuidelineFeedback(
        {"gfb_1", "prj_1", "itm_1", "nodule", "gdl_1", FeedbackKind::kUnclearDefinition, "", "usr_a", kT0}));
    EXPECT_CODE(t.InsertGuidelineFeedback(
                    {"gfb_3", "prj_1", "itm_9", "nodule", "gdl_1", FeedbackKind::kOther, "", "usr_a", kT0}),
                ErrorCode::kNotFound);
    EXPECT_FALSE(t.InsertGuidelineFeedback({"gfb_4", "prj_1", "itm_1", "nodule", "gdl_1", FeedbackKind::kOther,
                                            std::string(4001, 'x'), "usr_a", kT0})
                     .ok())
        << "notes are at most 4000 characters";
  });
  ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin(TxnMode::kRead));
  ASSERT_OK_AND_ASSIGN(auto rows, txn->ListGuidelineFeedback("prj_1"));
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].id, "gfb_1");
  EXPECT_EQ(rows[0].kind, FeedbackKind::kUnclearDefinition);
  EXPECT_EQ(rows[1].note, "perifissural?");
  EXPECT_EQ(rows[1].kind, FeedbackKind::kMissingEdgeCase);
  EXPECT_EQ(rows[1].author, "usr_b");
  EXPECT_EQ(rows[1].created_at, kT0 + 1);
  ASSERT_OK_AND_ASSIGN(auto none, txn->ListGuidelineFeedback("prj_9"));
  EXPECT_TRUE(none.empty());
}

TEST_P(StoreConformanceTest, OutcomesNameAnItemOrAPatient) {
  SeedParents();
  InWrite([](Transaction& t) {
    ASSERT_OK(t.InsertOutcome({"out_2", "prj_1", "", "pat_itm_1", "biopsy", "nodule", "", false, kT0 + 5, "usr_a", kT0}));
    ASSERT_OK(t.InsertOutcome({"out_1", "prj_1", "itm_1", "", "pathology_report", "grade", "3", true, kT0, "usr_b",
                               kT0 + 1}));
    EXPECT_CODE(t.InsertOutcome({"out_3", "prj_1", "itm_9", "", "biopsy", "nodule", "", true, kT0, "usr_a", kT0}),
                ErrorCode::kNotFound);
    EXPECT_FALSE(t.InsertOutcome({"out_4", "prj_1", "itm_1", "pat_itm_1", "biopsy", "nodule", "", true, kT0, "u", kT0})
                     .ok())
        << "an item or a patient, not both";
    EXPECT_FALSE(t.InsertOutcome({"out_5", "prj_1", "", "", "biopsy", "nodule", "", true, kT0, "u", kT0}).ok())
        << "an item or a patient, not neither";
  });
  ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin(TxnMode::kRead));
  ASSERT_OK_AND_ASSIGN(auto outcomes, txn->ListOutcomes("prj_1"));
  ASSERT_EQ(outcomes.size(), 2u);
  EXPECT_EQ(outcomes[0].id, "out_1");
  EXPECT_EQ(outcomes[0].item_id, "itm_1");
  EXPECT_EQ(outcomes[0].value, "3");
  EXPECT_TRUE(outcomes[0].confirms);
  EXPECT_EQ(outcomes[0].recorded_at, kT0 + 1);
  EXPECT_EQ(outcomes[1].item_id, "");
  EXPECT_EQ(outcomes[1].patient_key, "pat_itm_1");
  EXPECT_FALSE(outcomes[1].confirms);
  EXPECT_EQ(outcomes[1].observed_at, kT0 + 5);
  ASSERT_OK_AND_ASSIGN(auto none, txn->ListOutcomes("prj_2"));
  EXPECT_TRUE(none.empty());
}

TEST_P(StoreConformanceTest, IdempotentRepliesAreKeptOncePerUserAndKey) {
  SeedParents();
  InWrite([](Transaction& t) {
    EXPECT_CODE(t.GetIdempotentReply("usr_a", "k-1"), ErrorCode::kNotFound);
    ASSERT_OK(t.InsertIdempotentReply({"usr_a", "k-1", "submit tsk_1", 200, R"({"id":"tsk_1"})", kT0}));
    EXPECT_CODE(t.InsertIdempotentReply({"usr_a", "k-1", "submit tsk_2", 200, "{}", kT0}), ErrorCode::kAlreadyExists);
    ASSERT_OK(t.InsertIdempotentReply({"usr_b", "k-1", "submit tsk_2", 200, "{}", kT0 + 1}));
  });
  ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin(TxnMode::kRead));
  ASSERT_OK_AND_ASSIGN(IdempotentReply a, txn->GetIdempotentReply("usr_a", "k-1"));
  EXPECT_EQ(a.scope, "submit tsk_1");
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.body, R"({"id":"tsk_1"})");
  EXPECT_EQ(a.created_at, kT0);
  ASSERT_OK_AND_ASSIGN(IdempotentReply b, txn->GetIdempotentReply("usr_b", "k-1"));
  EXPECT_EQ(b.scope, "submit tsk_2");
}

core::Prelabel MakePrelabel(const std::string& id, const std::string& item_id, std::optional<double> score) {
  core::Prelabel p;
  p.id = id;
  p.project_id = "prj_1";
  p.item_id = item_id;
  p.model_name = "toy";
  p.model_version = "1";
  p.guideline_version_id = "gdl_1";
  p.evidence_kind = "document";
  p.evidence_json = "{}";
  p.label_class = "nodule";
  p.score = score;
  p.scores_json = R"({"nodule":0.5})";
  p.created_at = kT0;
  p.created_by = "usr_a";
  return p;
}

TEST_P(StoreConformanceTest, PrelabelsAndOneDecisionPerReader) {
  SeedParents();
  InWrite([](Transaction& t) {
    ASSERT_OK(t.InsertGuidelineVersion(MakeDraft("gdl_1", "prj_1")));
    ASSERT_OK(t.InsertPrelabel(MakePrelabel("pre_1", "itm_1", 0.7)));
    ASSERT_OK(t.InsertPrelabel(MakePrelabel("pre_2", "itm_1", std::nullopt)));
    EXPECT_CODE(t.InsertPrelabel(MakePrelabel("pre_3", "itm_9", 0.1)), ErrorCode::kNotFound);
    core::Prelabel bad = MakePrelabel("pre_4", "itm_1", 1.5);
    EXPECT_CODE(t.InsertPrelabel(bad), ErrorCode::kInvalidArgument);
    core::PrelabelDecision d{"pld_1", "pre_1", "prj_1", "itm_1", "usr_a", "tsk_1",
                             core::PrelabelStatus::kCorrected, "ann_1", 0.25, "", kT0};
    ASSERT_OK(t.InsertPrelabelDecision(d));
    d.id = "pld_2";
    EXPECT_CODE(t.InsertPrelabelDecision(d), ErrorCode::kAlreadyExists);  // usr_a decided already
    d.reader = "usr_b";
    d.status = core::PrelabelStatus::kRejected;
    d.annotation_id.clear();
    d.correction_size.reset();
    ASSERT_OK(t.InsertPrelabelDecision(d));
    d.id = "pld_3";
    d.prelabel_id = "pre_2";
    d.status = core::PrelabelStatus::kAccepted;  // an acceptance names the reader's label
    EXPECT_CODE(t.InsertPrelabelDecision(d), ErrorCode::kInvalidArgument);
  });
  ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin(TxnMode::kRead));
  ASSERT_OK_AND_ASSIGN(core::Prelabel p, txn->GetPrelabel("pre_1"));
  EXPECT_EQ(p.model_name, "toy");
  EXPECT_EQ(p.score, 0.7);
  EXPECT_EQ(p.scores_json, R"({"nodule":0.5})");
  ASSERT_OK_AND_ASSIGN(auto of_item, txn->ListPrelabelsOfItem("itm_1"));
  ASSERT_EQ(of_item.size(), 2u);
  EXPECT_FALSE(of_item[1].score.has_value());
  ASSERT_OK_AND_ASSIGN(auto page, txn->ListPrelabelsOfProject("prj_1", {"", 1}));
  EXPECT_EQ(page.next, "pre_1");
  ASSERT_OK_AND_ASSIGN(auto decisions, txn->ListPrelabelDecisionsOfItem("itm_1"));
  ASSERT_EQ(decisions.size(), 2u);
  EXPECT_EQ(decisions[0].correction_size, 0.25);
  EXPECT_EQ(decisions[1].status, core::PrelabelStatus::kRejected);
  ASSERT_OK_AND_ASSIGN(auto all, txn->ListPrelabelDecisions("prj_1", {}));
  EXPECT_EQ(all.rows.size(), 2u);
}

TEST_P(StoreConformanceTest, ClaimOrdersLeastSureFirstOrByASeededPermutation) {
  SeedParents();
  const std::vector<core::DataType> pathology = {core::DataType::kPathology};
  InWrite([](Transaction& t) {
    ASSERT_OK(t.InsertGuidelineVersion(MakeDraft("gdl_1", "prj_1")));
    for (int i = 2; i <= 6; ++i) {
      ASSERT_OK(t.InsertItem(MakeItem("itm_" + std::to_string(i), "prj_1")));
    }
    for (int i = 1; i <= 6; ++i) {
      ASSERT_OK(t.InsertTask(MakeTask("tsk_" + std::to_string(i), "itm_" + std::to_string(i), kT0 + i)));
    }
    ASSERT_OK(t.InsertPrelabel(MakePrelabel("pre_1", "itm_3", 0.9)));
    ASSERT_OK(t.InsertPrelabel(MakePrelabel("pre_2", "itm_3", 0.2)));  // the item's best: 0.9
    ASSERT_OK(t.InsertPrelabel(MakePrelabel("pre_3", "itm_5", 0.6)));
    ASSERT_OK(t.InsertPrelabel(MakePrelabel("pre_4", "itm_6", std::nullopt)));
  });
  ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin(TxnMode::kRead));
  ASSERT_OK_AND_ASSIGN(core::Task least, txn->FindClaimableTask("prj_1", "usr_a", pathology, kT0,
                                                               core::TaskOrder::kLeastSure));
  EXPECT_EQ(least.id, "tsk_5");
  ASSERT_OK_AND_ASSIGN(core::Task fifo, txn->FindClaimableTask("prj_1", "usr_a", pathology, kT0));
  EXPECT_EQ(fifo.id, "tsk_1");
  std::set<std::string> firsts;
  for (std::uint64_t seed = 1; seed <= 40; ++seed) {
    ASSERT_OK_AND_ASSIGN(core::Task t, txn->FindClaimableTask("prj_1", "usr_a", pathology, kT0,
                                                             core::TaskOrder::kRandom, seed * 0x9e3779b97f4a7c15ULL));
    firsts.insert(t.id);
    ASSERT_OK_AND_ASSIGN(core::Task again, txn->FindClaimableTask("prj_1", "usr_a", pathology, kT0,
                                                                 core::TaskOrder::kRandom, seed * 0x9e3779b97f4a7c15ULL));
    EXPECT_EQ(again.id, t.id) << "a seed is one order";
  }
  EXPECT_GE(firsts.size(), 4u) << "different seeds start elsewhere";
}

TEST_P(StoreConformanceTest, ReviewsAndAdjudicationsRoundTrip) {
  SeedParents();
  InWrite([](Transaction& t) {
    ASSERT_OK(t.InsertTask(MakeTask("tsk_1", "itm_1", kT0)));
    ASSERT_OK(t.InsertAnnotation(MakeAnnotation("ann_1", "prj_1", "itm_1")));
    ASSERT_OK(t.InsertReview(
        {"rev_2", "tsk_1", "", "usr_b", core::ReviewDecision::kEscalate, "unsure", "", kT0 + 2, std::nullopt}));
    ASSERT_OK(t.InsertReview(
        {"rev_1", "tsk_1", "ann_1", "usr_b", core::ReviewDecision::kCorrect, "", "ann_1", kT0, std::nullopt}));
    ASSERT_OK(t.InsertReview({"rev_4", "tsk_1", "", "usr_b", core::ReviewDecision::kReject, "see the apex", "",
                              kT0 + 4, core::RejectReason::kMissedFinding}));
    EXPECT_CODE(
        t.InsertReview({"rev_3", "tsk_9", "", "usr_b", core::ReviewDecision::kAccept, "", "", kT0, std::nullopt}),
        ErrorCode::kNotFound);
    ASSERT_OK(t.InsertAdjudication({"adj_1", "prj_1", "itm_1", "usr_a", "ann_1", "ann_1", "agrees with biopsy", kT0}));
    EXPECT_CODE(t.InsertAdjudication({"adj_2", "prj_1", "itm_1", "usr_a", "", "ann_9", "x", kT0}), ErrorCode::kNotFound);
  });
  ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin(TxnMode::kRead));
  ASSERT_OK_AND_ASSIGN(auto reviews, txn->ListReviewsOfTask("tsk_1"));
  ASSERT_EQ(reviews.size(), 3u);
  EXPECT_EQ(reviews[0].id, "rev_1");
  EXPECT_EQ(reviews[0].decision, core::ReviewDecision::kCorrect);
  EXPECT_EQ(reviews[0].corrected_annotation_id, "ann_1");
  EXPECT_FALSE(reviews[0].reject_reason.has_value());
  EXPECT_EQ(reviews[1].reason, "unsure");
  EXPECT_EQ(reviews[2].reject_reason, core::RejectReason::kMissedFinding);
  EXPECT_EQ(reviews[2].reason, "see the apex");
  ASSERT_OK_AND_ASSIGN(auto adjudications, txn->ListAdjudicationsOfItem("itm_1"));
  ASSERT_EQ(adjudications.size(), 1u);
  EXPECT_EQ(adjudications[0].rationale, "agrees with biopsy");
  EXPECT_EQ(adjudications[0].source_annotation_id, "ann_1");
}

TEST_P(StoreConformanceTest, AdjudicationTriggersRoundTripPerItem) {
  SeedParents();
  InWrite([](Transaction& t) {
    ASSERT_OK(t.InsertItem(MakeItem("itm_2", "prj_1")));
    ASSERT_OK(t.InsertAdjudicationTrigger(
        {"atr_2", "prj_1", "itm_1", "grade", "grade_distance", "grades 1 and 3 (distance >= 2)", kT0 + 1}));
    ASSERT_OK(t.InsertAdjudicationTrigger({"atr_1", "prj_1", "itm_1", "nodule", "class_mismatch", "1 of 2", kT0}));
    ASSERT_OK(t.InsertAdjudicationTrigger({"atr_3", "prj_1", "itm_2", "nodule", "low_confidence", "0.2", kT0}));
    EXPECT_CODE(t.InsertAdjudicationTrigger({"atr_4", "prj_1", "itm_9", "nodule", "class_mismatch", "", kT0}),
                ErrorCode::kNotFound);
    EXPECT_FALSE(t.InsertAdjudicationTrigger({"atr_5", "prj_1", "itm_1", "nodule", "majority", "", kT0}).ok())
        << "only the documented reasons";
  });
  ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin(TxnMode::kRead));
  ASSERT_OK_AND_ASSIGN(auto triggers, txn->ListAdjudicationTriggersOfItem("itm_1"));
  ASSERT_EQ(triggers.size(), 2u);
  EXPECT_EQ(triggers[0].id, "atr_1");
  EXPECT_EQ(triggers[0].reason, "class_mismatch");
  EXPECT_EQ(triggers[1].label_class, "grade");
  EXPECT_EQ(triggers[1].detail, "grades 1 and 3 (distance >= 2)");
  EXPECT_EQ(triggers[1].created_at, kT0 + 1);
}

TEST_P(StoreConformanceTest, AnnotationVersionsAreKeptInRevisionOrderOncePerRevision) {
  SeedParents();
  core::Annotation a = MakeAnnotation("ann_1", "prj_1", "itm_1");
  InWrite([&](Transaction& t) {
    ASSERT_OK(t.InsertAnnotation(a));
    core::Annotation second = a;
    second.label_class = "mass";
    second.confidence = 0.4;
    second.revision = 2;
    ASSERT_OK(t.InsertAnnotationVersion({second, "usr_a", kT0 + 20, "grew on the follow-up"}));
    ASSERT_OK(t.InsertAnnotationVersion({a, "usr_a", kT0 + 10, ""}));
    EXPECT_CODE(t.InsertAnnotationVersion({a, "usr_a", kT0 + 30, "again"}), ErrorCode::kAlreadyExists);
    core::Annotation missing = MakeAnnotation("ann_9", "prj_1", "itm_1");
    EXPECT_CODE(t.InsertAnnotationVersion({missing, "usr_a", kT0, ""}), ErrorCode::kNotFound);
  });
  ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin(TxnMode::kRead));
  ASSERT_OK_AND_ASSIGN(auto versions, txn->ListAnnotationVersions("ann_1"));
  ASSERT_EQ(versions.size(), 2u);
  EXPECT_EQ(versions[0].annotation.revision, 1);
  EXPECT_EQ(versions[0].annotation.label_class, "nodule");
  EXPECT_EQ(versions[0].replaced_at, kT0 + 10);
  EXPECT_EQ(versions[1].annotation.label_class, "mass");
  EXPECT_EQ(versions[1].annotation.confidence, 0.4);
  EXPECT_EQ(versions[1].replaced_by, "usr_a");
  EXPECT_EQ(versions[1].reason, "grew on the follow-up");
  ASSERT_OK_AND_ASSIGN(auto none, txn->ListAnnotationVersions("ann_2"));
  EXPECT_TRUE(none.empty());
}

TEST_P(StoreConformanceTest, ExportsKeepTheTwoPersonRuleAndTokensAreSingleUse) {
  SeedParents();
  DatasetExport e;
  e.id = "exp_1";
  e.project_id = "prj_1";
  e.reason = "train the nodule model";
  e.requested_by = "usr_a";
  e.requested_at = kT0;
  InWrite([&](Transaction& t) {
    ASSERT_OK_AND_ASSIGN(std::int64_t v, t.NextExportVersion("prj_1"));
    EXPECT_EQ(v, 1);
    e.version = v;
    ASSERT_OK(t.InsertExport(e));
    ASSERT_OK_AND_ASSIGN(std::int64_t next, t.NextExportVersion("prj_1"));
    EXPECT_EQ(next, 2);
    DatasetExport same_version = e;
    same_version.id = "exp_2";
    EXPECT_CODE(t.InsertExport(same_version), ErrorCode::kAlreadyExists);
  });
  InWrite([&](Transaction& t) {
    // The requester deciding their own request is refused by the schema itself.
    DatasetExport self = e;
    self.status = "approved";
    self.decided_by = "usr_a";
    self.decided_at = kT0 + 1;
    self.revision = 2;
    EXPECT_CODE(t.UpdateExport(self, 1), ErrorCode::kInvalidArgument);
  });
  InWrite([&](Transaction& t) {
    DatasetExport approved = e;
    approved.status = "approved";
    approved.decided_by = "usr_b";
    approved.decided_at = kT0 + 1;
    approved.revision = 2;
    ASSERT_OK(t.UpdateExport(approved, 1));
    EXPECT_CODE(t.UpdateExport(approved, 1), ErrorCode::kConflict);  // stale revision
    approved.status = "built";
    approved.snapshot_blob = "blob_1";
    approved.snapshot_bytes = 42;
    approved.manifest_sha256 = std::string(64, 'a');
    approved.revision = 3;
    ASSERT_OK(t.UpdateExport(approved, 2));
    approved.snapshot_blob = "blob_2";
    approved.revision = 4;
    EXPECT_FALSE(t.UpdateExport(approved, 3).ok()) << "a built export is immutable";
  });
  ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin(TxnMode::kWrite));
  ASSERT_OK_AND_ASSIGN(DatasetExport got, txn->GetExport("exp_1"));
  EXPECT_EQ(got.status, "built");
  EXPECT_EQ(got.decided_by, "usr_b");
  EXPECT_EQ(got.snapshot_blob, "blob_1");
  EXPECT_EQ(got.snapshot_bytes, 42);
  EXPECT_EQ(got.reason, e.reason);
  ASSERT_OK_AND_ASSIGN(auto page, txn->ListExports("prj_1", PageRequest{"", 10}));
  ASSERT_EQ(page.rows.size(), 1u);
  ExportToken token{"etk_1", "exp_1", "hash_e1", "usr_a", kT0, kT0 + kMicrosPerHour, std::nullopt};
  ASSERT_OK(txn->InsertExportToken(token));
  ASSERT_OK_AND_ASSIGN(ExportToken t1, txn->GetExportTokenByHash("hash_e1"));
  EXPECT_EQ(t1.export_id, "exp_1");
  EXPECT_FALSE(t1.used_at.has_value());
  ASSERT_OK(txn->UseExportToken("etk_1", kT0 + 5));
  EXPECT_CODE(txn->UseExportToken("etk_1", kT0 + 6), ErrorCode::kConflict);
  ASSERT_OK_AND_ASSIGN(ExportToken used, txn->GetExportTokenByHash("hash_e1"));
  EXPECT_EQ(used.used_at, kT0 + 5);
  EXPECT_CODE(txn->GetExportTokenByHash("nope").status(), ErrorCode::kNotFound);
  EXPECT_CODE(txn->GetExport("exp_none").status(), ErrorCode::kNotFound);
}

TEST_P(StoreConformanceTest, MissingRowsAreNotFound) {
  ASSERT_OK_AND_ASSIGN(auto txn, store_->Begin(TxnMode::kWrite));
  EXPECT_CODE(txn->GetUser("x"), ErrorCode::kNotFound);
  EXPECT_CODE(txn->GetUserByUsername("x"), ErrorCode::kNotFound);
  EXPECT_CODE(txn->GetSession("x"), ErrorCode::kNotFound);
  EXPECT_CODE(txn->GetSessionByTokenHash("x"), ErrorCode::kNotFound);
  EXPECT_CODE(txn->TouchSession("x", kT0), ErrorCode::kNotFound);
  EXPECT_CODE(txn->RevokeSession("x", kT0), ErrorCode::kNotFound);
  EXPECT_CODE(txn->GetApiToken("x"), ErrorCode::kNotFound);
  EXPECT_CODE(txn->GetApiTokenByHash("x"), ErrorCode::kNotFound);
  EXPECT_CODE(txn->RevokeApiToken("x", kT0), ErrorCode::kNotFound);
  EXPECT_CODE(txn->GetProject("x"), ErrorCode::kNotFound);
  EXPECT_CODE(txn->GetMembership("x", "y"), ErrorCode::kNotFound);
  EXPECT_CODE(txn->DeleteMembership("x", "y"), ErrorCode::kNotFound);
  EXPECT_CODE(txn->GetItem("x"), ErrorCode::kNotFound);
  EXPECT_CODE(txn->GetAnnotation("x"), ErrorCode::kNotFound);
  EXPECT_CODE(txn->GetLastAuditEvent(), ErrorCode::kNotFound);
  EXPECT_CODE(txn->GetLastAuditCheckpoint(), ErrorCode::kNotFound);
  EXPECT_CODE(txn->GetProjectKey("x"), ErrorCode::kNotFound);
  EXPECT_CODE(txn->GetDataKey("x"), ErrorCode::kNotFound);
  EXPECT_CODE(txn->FindDataKey("x", "y"), ErrorCode::kNotFound);
  ASSERT_OK_AND_ASSIGN(int revoked, txn->RevokeUserSessions("x", kT0));
  EXPECT_EQ(revoked, 0);
  ASSERT_OK_AND_ASSIGN(auto keys, txn->ListDataKeys("x"));
  EXPECT_TRUE(keys.empty());
}

// ---- backends -------------------------------------------------------------------------------

std::unique_ptr<Store> OpenSqliteForTest(const std::string& dir) {
  auto store = OpenSqliteStore(dir + "/caliper.db");
  if (!store.ok()) {
    ADD_FAILURE() << "OpenSqliteStore: " << store.status().ToString();
    return nullptr;
  }
  return std::move(store).value();
}

INSTANTIATE_TEST_SUITE_P(
    Sqlite, StoreConformanceTest,
    ::testing::Values(StoreBackend{"sqlite", &OpenSqliteForTest,
                                   sqlite::Migrations().back().number}),
    [](const ::testing::TestParamInfo<StoreBackend>& info) { return info.param.name; });

}  // namespace
}  // namespace caliper::storage

// caliper_bench_audit: how fast the tamper-evident audit chain grows (AuditLog::Append on the
// SQLite store, synchronous=FULL, in a temporary directory on the same file system as
// TMPDIR).
//
//   BM_AppendCommitEach/<checkpoint_every>   one event per write transaction, then Commit and
//       FlushCheckpoints: the pattern of every audited request (App::CommitWithAudit). Bound
//       by fsync: one for the WAL commit, plus one for the checkpoint side file when a
//       checkpoint is due.
//   BM_AppendBatched/<checkpoint_every>      100 events per transaction: the cost of reading
//       the chain head, hashing, signing due checkpoints and inserting, with the commit's
//       fsync spread over 100 events.
//   BM_ChainHash, BM_SignCheckpoint          the CPU parts alone, for where the time goes.
//
// items_per_second is audit events per second. Wall-clock time (UseRealTime): fsync waits
// are not CPU time.

#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>

#include <benchmark/benchmark.h>

#include "caliper/common/clock.h"
#include "caliper/security/audit.h"
#include "caliper/security/crypto.h"
#include "caliper/storage/store.h"

namespace caliper::bench {
namespace {

namespace fs = std::filesystem;

constexpr int kBatch = 100;

// A fresh database, audit signing keys and AuditLog in a temporary directory, removed when
// destroyed.
class AuditEnv {
 public:
  explicit AuditEnv(int checkpoint_every) {
    std::string tmpl = (fs::temp_directory_path() / "caliper-bench-audit-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) return;
    dir_ = tmpl;
    auto store = storage::OpenSqliteStore(dir_ + "/caliper.db");
    auto keys = security::LoadAuditKeys(dir_ + "/keys", true);
    if (!store.ok() || !keys.ok()) return;
    store_ = std::move(store).value();
    log_ = std::make_unique<security::AuditLog>(SystemClock::Instance(), *keys, dir_ + "/checkpoints.log",
                                                checkpoint_every);
  }
  ~AuditEnv() {
    if (store_) store_->Close();
    std::error_code ignored;
    if (!dir_.empty()) fs::remove_all(dir_, ignored);
  }

  bool ok() const { return log_ != nullptr; }

  // Appends `n` events in one write transaction and commits it; false on any error.
  bool AppendAndCommit(int n) {
    auto txn = store_->Begin(storage::TxnMode::kWrite);
    if (!txn.ok()) return false;
    std::int64_t seq = 0;
    for (int i = 0; i < n; ++i) {
      if (!log_->Append(**txn, Record(next_++), &seq).ok()) return false;
    }
    if (!(*txn)->Commit().ok()) return false;
    log_->FlushCheckpoints(seq);
    return true;
  }

  // An event shaped like an audited content read.
  static security::AuditRecord Record(std::int64_t i) {
    security::AuditRecord r;
    r.actor = "usr_01HZX3K4M5N6P7Q8R9S0T1V2W3";
    r.session_id = "ses_01HZX3K4M5N6P7Q8R9S0T1V2W4";
    r.source_address = "127.0.0.1";
    r.action = "item.read";
    r.object_type = "item";
    r.object_id = "itm_" + std::to_string(i);
    r.details_json = R"({"bytes":65536})";
    return r;
  }

 private:
  std::string dir_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<security::AuditLog> log_;
  std::int64_t next_ = 0;
};

void Run(benchmark::State& state, int events_per_txn) {
  AuditEnv env(static_cast<int>(state.range(0)));
  if (!env.ok()) {
    state.SkipWithError("cannot set up the store and keys");
    return;
  }
  for (auto _ : state) {
    if (!env.AppendAndCommit(events_per_txn)) {
      state.SkipWithError("append or commit failed");
      return;
    }
  }
  state.SetItemsProcessed(state.iterations() * events_per_txn);
}

void BM_AppendCommitEach(benchmark::State& state) { Run(state, 1); }
void BM_AppendBatched(benchmark::State& state) { Run(state, kBatch); }

void BM_ChainHash(benchmark::State& state) {
  storage::AuditEvent e;
  e.seq = 12345;
  e.time = 1700000000000000;
  e.actor = "usr_01HZX3K4M5N6P7Q8R9S0T1V2W3";
  e.action = "item.read";
  e.object_type = "item";
  e.object_id = "itm_01HZX3K4M5N6P7Q8R9S0T1V2W5";
  e.outcome = "success";
  e.details_json = R"({"bytes":65536})";
  e.prev_hash = std::string(64, 'a');
  for (auto _ : state) benchmark::DoNotOptimize(security::ChainHash(e.prev_hash, e));
  state.SetItemsProcessed(state.iterations());
}

void BM_SignCheckpoint(benchmark::State& state) {
  const security::SigningKeyPair keys = security::NewSigningKeyPair();
  const std::string message = "caliper-audit-checkpoint\n12345\n" + std::string(64, 'a');
  for (auto _ : state) benchmark::DoNotOptimize(security::Sign(keys.secret_key, message));
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK(BM_AppendCommitEach)->ArgName("checkpoint_every")->Arg(1)->Arg(100)->UseRealTime()->MinTime(2.0);
BENCHMARK(BM_AppendBatched)->ArgName("checkpoint_every")->Arg(1)->Arg(100)->UseRealTime()->MinTime(2.0);
BENCHMARK(BM_ChainHash);
BENCHMARK(BM_SignCheckpoint);

}  // namespace
}  // namespace caliper::bench

int main(int argc, char** argv) {
  if (!caliper::security::InitCrypto().ok()) return 2;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

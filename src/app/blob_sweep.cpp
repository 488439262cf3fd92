// The sweep of unreferenced blobs (docs/security.md, "Unreferenced blobs").
//
// Every row that names a blob got its address from a Put made shortly before its commit:
// Put refreshes the file time of a blob it finds already stored, and a writer that Puts long
// before it commits (slide ingest, one tile at a time) touches its blobs again just before.
// So a blob whose file is older than `min_age` and that no row named when the references were
// read is one nothing is about to name. The references are read first, the files after; a
// file is deleted only if it is still older than the cut-off at that moment
// (BlobStore::RemoveIfOlder moves it aside and checks again).

#include <algorithm>
#include <array>

#include <nlohmann/json.hpp>

#include "caliper/app/app.h"
#include "caliper/security/crypto.h"

namespace caliper::app {

using nlohmann::json;
using storage::TxnMode;

namespace {

using Address = std::array<unsigned char, 32>;

std::optional<Address> Decode(const std::string& hex) {
  auto bytes = security::FromHex(hex);
  if (!bytes.ok() || bytes->size() != Address{}.size()) return std::nullopt;
  Address a;
  std::copy(bytes->begin(), bytes->end(), a.begin());
  return a;
}

}  // namespace

Result<App::BlobSweepReport> App::SweepBlobs(const RequestContext& ctx, const BlobSweepOptions& options) {
  if (options.min_age < std::chrono::hours(1)) {
    return Error(ErrorCode::kInvalidArgument, "the minimum age of a swept blob is 1 hour");
  }
  const auto cutoff = std::chrono::system_clock::now() - options.min_age;
  // 32 bytes per reference, sorted: a few million blobs fit in memory.
  std::vector<Address> referenced;
  {
    CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kRead));
    CALIPER_RETURN_IF_ERROR(txn->ForEachBlobReference([&](const std::string& address) -> Status {
      auto a = Decode(address);
      if (!a) return Error(ErrorCode::kIntegrity, "a row names a malformed blob address: " + address);
      referenced.push_back(*a);
      return Status::Ok();
    }));
  }
  std::sort(referenced.begin(), referenced.end());
  referenced.erase(std::unique(referenced.begin(), referenced.end()), referenced.end());

  BlobSweepReport report;
  report.dry_run = options.dry_run;
  Status swept = [&]() -> Status {
    CALIPER_ASSIGN_OR_RETURN(auto lock, blobs_->BeginSweep());
    return blobs_->ForEachFile([&](const security::BlobStore::StoredFile& file) -> Status {
      if (!file.address.empty()) {
        ++report.blobs;
        const auto a = Decode(file.address);
        if (a && std::binary_search(referenced.begin(), referenced.end(), *a)) {
          ++report.referenced;
          return Status::Ok();
        }
      }
      using Outcome = security::BlobStore::RemoveOutcome;
      Outcome outcome = file.modified < cutoff ? Outcome::kRemoved : Outcome::kNewer;
      if (outcome == Outcome::kRemoved && !options.dry_run) {
        CALIPER_ASSIGN_OR_RETURN(outcome, blobs_->RemoveIfOlder(file, cutoff));
      }
      if (outcome == Outcome::kNewer && !file.address.empty()) ++report.young;
      if (outcome != Outcome::kRemoved) return Status::Ok();
      if (file.address.empty()) {
        ++report.temporary_removed;
      } else {
        ++report.removed;
        report.removed_bytes += file.file_bytes;
      }
      return Status::Ok();
    });
  }();
  // Audited whether or not it finished: what was deleted before an error is counted too.
  security::AuditRecord record = Record(
      ctx, "blobs.sweep", "deployment", "",
      json{{"dry_run", report.dry_run},
           {"min_age_hours", options.min_age.count()},
           {"blobs", report.blobs},
           {"referenced", report.referenced},
           {"young", report.young},
           {"removed", report.removed},
           {"removed_bytes", report.removed_bytes},
           {"temporary_removed", report.temporary_removed},
           {"error", swept.ok() ? "" : swept.ToString()}}
          .dump(-1, ' ', false, json::error_handler_t::replace));
  if (!swept.ok()) record.outcome = "failure";
  CALIPER_RETURN_IF_ERROR(Audit(record));
  CALIPER_RETURN_IF_ERROR(swept);
  return report;
}

}  // namespace caliper::app

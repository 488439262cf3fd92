// The sweep of unreferenced blobs (docs/security.md, "Unreferenced blobs").
//
// Every row that names a blob got its address from a Put, and Put refreshes the file time of a
// blob it finds already stored. So a blob whose file is older than `min_age` and that no row
// named when the references were read is one nothing is about to name: no write lasts that long
// between its Put and its commit (slide ingest, the longest, writes its tiles under a new key,
// at new addresses). The references are read first, the files after; a file is deleted only if
// it is still older than the cut-off at that moment.

#include <algorithm>
#include <array>

#include <nlohmann/json.hpp>

#include "caliper/app/app.h"
#include "caliper/security/crypto.h"

namespace caliper::app {

using nlohmann::json;

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
  CALIPER_RETURN_IF_ERROR(blobs_->ForEachFile([&](const security::BlobStore::StoredFile& file) -> Status {
    if (!file.address.empty()) {
      ++report.blobs;
      const auto a = Decode(file.address);
      if (a && std::binary_search(referenced.begin(), referenced.end(), *a)) {
        ++report.referenced;
        return Status::Ok();
      }
    }
    if (file.modified >= cutoff) {
      if (!file.address.empty()) ++report.young;
      return Status::Ok();
    }
    bool removed = options.dry_run;
    if (!options.dry_run) {
      CALIPER_ASSIGN_OR_RETURN(removed, blobs_->RemoveIfOlder(file, cutoff));
    }
    if (!removed) {
      if (!file.address.empty()) ++report.young;  // written again since it was listed
    } else if (file.address.empty()) {
      ++report.temporary_removed;
    } else {
      ++report.removed;
      report.removed_bytes += file.file_bytes;
    }
    return Status::Ok();
  }));
  CALIPER_RETURN_IF_ERROR(Audit(Record(
      ctx, "blobs.sweep", "deployment", "",
      json{{"dry_run", report.dry_run},
           {"min_age_hours", options.min_age.count()},
           {"blobs", report.blobs},
           {"referenced", report.referenced},
           {"young", report.young},
           {"removed", report.removed},
           {"removed_bytes", report.removed_bytes},
           {"temporary_removed", report.temporary_removed}}
          .dump())));
  return report;
}

}  // namespace caliper::app

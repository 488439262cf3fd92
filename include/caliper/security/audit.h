#pragma once

// The tamper-evident audit chain. Each event's hash = SHA-256 over the previous event's hash
// and the event's canonical form (see CanonicalForm); every `checkpoint_every` events a
// checkpoint (seq, hash) is signed with Ed25519 and stored both in the database and appended
// to a side file, so deleting the tail of the log (and its checkpoints in the database) is
// still detected.

#include <cstdint>
#include <functional>
#include <mutex>
#include <vector>
#include <string>

#include "caliper/common/clock.h"
#include "caliper/common/status.h"
#include "caliper/security/crypto.h"
#include "caliper/storage/store.h"

namespace caliper::security {

// What a caller says happened; AuditLog fills in time, seq and hashes.
struct AuditRecord {
  std::string actor = "system";
  std::string session_id;
  std::string source_address;
  std::string action;
  std::string object_type;
  std::string object_id;
  std::string outcome = "success";
  std::string details_json = "{}";  // never PHI values: ids, counts, field names, codes
};

// The exact bytes hashed for an event: fields joined with '\n' in a fixed order, each
// escaped so a field cannot forge a separator.
std::string CanonicalForm(const storage::AuditEvent& event);
std::string ChainHash(const std::string& prev_hash, const storage::AuditEvent& event);

struct AuditKeys {
  Bytes public_key;
  Bytes secret_key;
};
// Loads the Ed25519 pair from `dir`/audit-signing.key (0600, hex secret) and
// `dir`/audit-signing.pub, creating them when `create` is true and they are absent.
Result<AuditKeys> LoadAuditKeys(const std::string& dir, bool create);

// Thread-safe; relies on the store serialising write transactions (as every backend does).
class AuditLog {
 public:
  // `checkpoint_file` receives one line per checkpoint: "<seq> <hash> <signature-hex>" ("" =
  // no side file). `checkpoint_every` <= 0 disables checkpoints.
  AuditLog(const Clock& clock, AuditKeys keys, std::string checkpoint_file, int checkpoint_every);

  // Appends `record` inside `txn` (so it commits, or rolls back, with the change it records).
  // A checkpoint row, when due, is written in the same transaction; its side-file line is
  // written by Flush after the commit. kInternal if the store assigns an unexpected seq.
  // Lines queued by a transaction that rolled back are dropped by the next Append. When
  // `seq_out` is given it receives the event's seq (pass it to FlushCheckpoints).
  Status Append(storage::Transaction& txn, const AuditRecord& record,
                std::int64_t* seq_out = nullptr);
  // Appends the pending side-file lines of checkpoints with seq <= `committed_through` (call
  // after a successful Commit with the seq that Append gave), one write(2) per line with
  // O_APPEND. Lines of later, not yet committed events stay queued, so the side file never
  // names an event that may still roll back. No fsync: a line lost to a power cut only
  // weakens truncation detection for the newest events, and kill -9 loses nothing the kernel
  // already has. Best effort: lines that could not be written stay queued.
  void FlushCheckpoints(std::int64_t committed_through);

 private:
  const Clock& clock_;
  AuditKeys keys_;
  std::string checkpoint_file_;
  int checkpoint_every_;
  std::mutex mu_;
  std::vector<std::string> pending_lines_;
};

struct AuditVerifyReport {
  bool ok = true;
  std::int64_t events = 0;
  std::int64_t checkpoints_checked = 0;
  std::int64_t first_bad_seq = 0;  // 0 when ok
  std::string problem;            // what failed, naming the place
};

// Walks the whole chain in one read transaction: seq continuity from 1, each prev_hash and
// hash, the newest database checkpoint and every side-file checkpoint (signature, and hash of
// the event it covers; a log shorter than a signed checkpoint was truncated). Stops at the
// first problem. A missing side file holds no checkpoints; a malformed line is a finding
// (first_bad_seq 0). Errors only for I/O and storage failures.
Result<AuditVerifyReport> VerifyAuditChain(storage::Store& store, const Bytes& public_key,
                                           const std::string& checkpoint_file);

// Calls `sink` with each event whose time lies in [from, to], in seq order.
Status ExportAudit(storage::Store& store, TimeMicros from, TimeMicros to,
                   const std::function<Status(const storage::AuditEvent&)>& sink);

}  // namespace caliper::security

#include "caliper/security/audit.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "caliper/security/keys.h"

namespace caliper::security {
namespace {

constexpr int kPageSize = 500;
constexpr std::size_t kSecretKeyBytes = 64;  // Ed25519, libsodium's seed+public form
constexpr std::size_t kPublicKeyBytes = 32;

void AppendEscaped(std::string& out, std::string_view field) {
  for (char c : field) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
}

std::string CheckpointMessage(std::int64_t seq, const std::string& hash) {
  return "caliper-audit-checkpoint\n" + std::to_string(seq) + "\n" + hash;
}

bool CheckpointSignatureValid(const Bytes& public_key, std::int64_t seq, const std::string& hash,
                              const std::string& signature_hex) {
  Result<Bytes> signature = FromHex(signature_hex);
  return signature.ok() && VerifySignature(public_key, CheckpointMessage(seq, hash), *signature);
}

// One line of the checkpoint side file: "<seq> <hash> <signature-hex>"; line 0 stands for
// the database's checkpoint.
struct SignedCheckpoint {
  int line = 0;
  std::int64_t seq = 0;
  std::string hash;
  std::string signature;
};

// Reads the side file. A missing file holds no checkpoints. An unterminated last line (a write
// cut short by a crash) is ignored; any other malformed line is an error naming the line.
Result<std::vector<SignedCheckpoint>> ReadSideFile(const std::string& path) {
  std::vector<SignedCheckpoint> out;
  if (path.empty() || (::access(path.c_str(), F_OK) != 0 && errno == ENOENT)) return out;
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error(ErrorCode::kIo, "cannot read the audit checkpoint file " + path);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::size_t start = 0;
  int line_number = 0;
  while (start < text.size()) {
    const std::size_t end = text.find('\n', start);
    if (end == std::string::npos) break;
    ++line_number;
    std::istringstream fields(text.substr(start, end - start));
    SignedCheckpoint checkpoint;
    checkpoint.line = line_number;
    std::string rest;
    if (!(fields >> checkpoint.seq >> checkpoint.hash >> checkpoint.signature) ||
        (fields >> rest) || checkpoint.seq < 1) {
      return Error(ErrorCode::kIntegrity, "audit checkpoint file " + path + " line " +
                                              std::to_string(line_number) + " is malformed");
    }
    out.push_back(std::move(checkpoint));
    start = end + 1;
  }
  return out;
}

AuditVerifyReport Failure(AuditVerifyReport report, std::int64_t seq, std::string problem) {
  report.ok = false;
  report.first_bad_seq = seq;
  report.problem = std::move(problem);
  return report;
}

std::string TruncationProblem(std::int64_t last_seq, std::int64_t covered_seq) {
  const std::string n = std::to_string(last_seq);
  return "the log ends at event " + n + " but a signed checkpoint covers event " +
         std::to_string(covered_seq) + ": events after " + n + " were removed";
}

}  // namespace

std::string CanonicalForm(const storage::AuditEvent& event) {
  const std::string seq = std::to_string(event.seq);
  const std::string time = std::to_string(event.time);
  const std::string_view fields[] = {seq,
                                     time,
                                     event.actor,
                                     event.session_id,
                                     event.source_address,
                                     event.action,
                                     event.object_type,
                                     event.object_id,
                                     event.outcome,
                                     event.details_json,
                                     event.prev_hash};
  std::string out;
  bool first = true;
  for (std::string_view field : fields) {
    if (!first) out.push_back('\n');
    first = false;
    AppendEscaped(out, field);
  }
  return out;
}

std::string ChainHash(const std::string& prev_hash, const storage::AuditEvent& event) {
  return Sha256Hex(prev_hash + "\n" + CanonicalForm(event));
}

Result<AuditKeys> LoadAuditKeys(const std::string& dir, bool create) {
  const std::string key_path = dir + "/audit-signing.key";
  const std::string pub_path = dir + "/audit-signing.pub";
  if (create && ::access(key_path.c_str(), F_OK) != 0 && errno == ENOENT) {
    SigningKeyPair pair = NewSigningKeyPair();
    std::string secret_hex = ToHex(pair.secret_key) + "\n";
    Status written = WriteFileAtomically(key_path, secret_hex, /*overwrite=*/false, 0600);
    SecureZero(secret_hex.data(), secret_hex.size());
    // kAlreadyExists: another process created the pair first; load theirs below.
    if (!written.ok() && written.code() != ErrorCode::kAlreadyExists) return written;
    if (written.ok()) {
      CALIPER_RETURN_IF_ERROR(
          WriteFileAtomically(pub_path, ToHex(pair.public_key) + "\n", /*overwrite=*/true, 0644));
    }
    SecureZero(pair.secret_key.data(), pair.secret_key.size());
  }

  AuditKeys keys;
  CALIPER_ASSIGN_OR_RETURN(std::string secret_hex, ReadSecretFile(key_path));
  Result<Bytes> secret = FromHex(secret_hex);
  SecureZero(secret_hex.data(), secret_hex.size());
  if (!secret.ok() || secret->size() != kSecretKeyBytes) {
    return Error(ErrorCode::kKeyUnavailable,
                 "key file " + key_path + " does not hold an Ed25519 secret key (128 hex digits)");
  }
  keys.secret_key = std::move(secret).value();
  // The secret key's second half is its public key.
  const Bytes derived_public(keys.secret_key.begin() + 32, keys.secret_key.end());

  std::ifstream pub_in(pub_path);
  if (!pub_in) {
    if (!create)
      return Error(ErrorCode::kKeyUnavailable, "public key file " + pub_path + " is missing");
    CALIPER_RETURN_IF_ERROR(
        WriteFileAtomically(pub_path, ToHex(derived_public) + "\n", /*overwrite=*/true, 0644));
    keys.public_key = derived_public;
    return keys;
  }
  std::string pub_hex;
  pub_in >> pub_hex;
  Result<Bytes> pub = FromHex(pub_hex);
  if (!pub.ok() || pub->size() != kPublicKeyBytes) {
    return Error(
        ErrorCode::kKeyUnavailable,
        "public key file " + pub_path + " does not hold an Ed25519 public key (64 hex digits)");
  }
  if (*pub != derived_public) {
    return Error(ErrorCode::kKeyUnavailable,
                 "public key file " + pub_path + " does not match " + key_path);
  }
  keys.public_key = std::move(pub).value();
  return keys;
}

AuditLog::AuditLog(const Clock& clock, AuditKeys keys, std::string checkpoint_file,
                   int checkpoint_every)
    : clock_(clock),
      keys_(std::move(keys)),
      checkpoint_file_(std::move(checkpoint_file)),
      checkpoint_every_(checkpoint_every) {}

Status AuditLog::Append(storage::Transaction& txn, const AuditRecord& record,
                        std::int64_t* seq_out) {
  storage::AuditEvent event;
  Result<storage::AuditEvent> last = txn.GetLastAuditEvent();
  if (last.ok()) {
    event.seq = last->seq + 1;
    event.prev_hash = last->hash;
  } else if (last.status().code() == ErrorCode::kNotFound) {
    event.seq = 1;
  } else {
    return last.status();
  }
  {
    // Queued lines at or beyond this seq belong to transactions that rolled back (writers are
    // serialised, so everything committed is <= last seq): they must never reach the file.
    std::lock_guard<std::mutex> lock(mu_);
    std::erase_if(pending_lines_, [&](const std::string& line) {
      return std::stoll(line.substr(0, line.find(' '))) >= event.seq;
    });
  }
  event.time = clock_.Now();
  event.actor = record.actor;
  event.session_id = record.session_id;
  event.source_address = record.source_address;
  event.action = record.action;
  event.object_type = record.object_type;
  event.object_id = record.object_id;
  event.outcome = record.outcome;
  event.details_json = record.details_json;
  event.hash = ChainHash(event.prev_hash, event);

  const std::int64_t expected_seq = event.seq;
  CALIPER_RETURN_IF_ERROR(txn.AppendAuditEvent(event));
  if (event.seq != expected_seq) {
    return Error(ErrorCode::kInternal, "the store assigned audit seq " + std::to_string(event.seq) +
                                           " but the chain expected " +
                                           std::to_string(expected_seq));
  }

  if (seq_out != nullptr) *seq_out = event.seq;
  if (checkpoint_every_ > 0 && event.seq % checkpoint_every_ == 0) {
    storage::AuditCheckpoint checkpoint;
    checkpoint.seq = event.seq;
    checkpoint.hash = event.hash;
    checkpoint.signature = ToHex(Sign(keys_.secret_key, CheckpointMessage(event.seq, event.hash)));
    checkpoint.time = event.time;
    if (checkpoint.signature.empty()) {
      return Error(ErrorCode::kKeyUnavailable,
                   "the audit signing key is not an Ed25519 secret key");
    }
    CALIPER_RETURN_IF_ERROR(txn.InsertAuditCheckpoint(checkpoint));
    std::lock_guard<std::mutex> lock(mu_);
    pending_lines_.push_back(std::to_string(checkpoint.seq) + " " + checkpoint.hash + " " +
                             checkpoint.signature + "\n");
  }
  return Status::Ok();
}

void AuditLog::FlushCheckpoints(std::int64_t committed_through) {
  std::lock_guard<std::mutex> lock(mu_);
  if (checkpoint_file_.empty()) pending_lines_.clear();  // no side file configured
  auto seq_of = [](const std::string& line) { return std::stoll(line.substr(0, line.find(' '))); };
  std::vector<std::string> due;
  std::erase_if(pending_lines_, [&](const std::string& line) {
    if (seq_of(line) > committed_through) return false;
    due.push_back(line);
    return true;
  });
  if (due.empty()) return;
  const int fd = ::open(checkpoint_file_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  std::size_t done = 0;
  if (fd >= 0) {
    for (const std::string& line : due) {
      // One write per line, so concurrent appenders (O_APPEND) never interleave within a line.
      if (::write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) break;
      ++done;
    }
    ::close(fd);
  }
  // Lines not written stay queued for the next flush.
  pending_lines_.insert(pending_lines_.begin(), due.begin() + static_cast<long>(done), due.end());
}

Result<AuditVerifyReport> VerifyAuditChain(storage::Store& store, const Bytes& public_key,
                                           const std::string& checkpoint_file) {
  AuditVerifyReport report;
  Result<std::vector<SignedCheckpoint>> side_file = ReadSideFile(checkpoint_file);
  if (!side_file.ok()) {
    if (side_file.status().code() != ErrorCode::kIntegrity) return side_file.status();
    return Failure(report, 0, side_file.status().message());
  }
  CALIPER_ASSIGN_OR_RETURN(std::unique_ptr<storage::Transaction> txn,
                           store.Begin(storage::TxnMode::kRead));
  Result<storage::AuditCheckpoint> db_checkpoint = txn->GetLastAuditCheckpoint();
  if (!db_checkpoint.ok() && db_checkpoint.status().code() != ErrorCode::kNotFound) {
    return db_checkpoint.status();
  }
  // Every checkpoint in seq order, so the earliest disagreement is the one reported.
  std::vector<SignedCheckpoint> checkpoints = std::move(side_file).value();
  if (db_checkpoint.ok()) {
    checkpoints.push_back({0, db_checkpoint->seq, db_checkpoint->hash, db_checkpoint->signature});
  }
  std::stable_sort(
      checkpoints.begin(), checkpoints.end(),
      [](const SignedCheckpoint& a, const SignedCheckpoint& b) { return a.seq < b.seq; });
  // Hashes of the events the checkpoints cover, gathered during the walk.
  std::map<std::int64_t, std::string> covered;
  for (const SignedCheckpoint& checkpoint : checkpoints) covered[checkpoint.seq];

  std::int64_t last_seq = 0;
  std::string last_hash;
  for (;;) {
    CALIPER_ASSIGN_OR_RETURN(std::vector<storage::AuditEvent> page,
                             txn->ListAuditEvents(last_seq, kPageSize));
    for (const storage::AuditEvent& event : page) {
      const std::string at = "event " + std::to_string(event.seq);
      if (event.seq > last_seq + 1) {
        const std::int64_t missing = last_seq + 1;
        const std::string gap = event.seq == missing + 1
                                    ? "event " + std::to_string(missing) + " missing"
                                    : "events " + std::to_string(missing) + " to " +
                                          std::to_string(event.seq - 1) + " missing";
        return Failure(report, missing,
                       gap + ": seq jumps from " + std::to_string(last_seq) + " to " +
                           std::to_string(event.seq) + " (deleted)");
      }
      if (event.seq != last_seq + 1) {
        return Failure(report, event.seq,
                       at + ": out of order after event " + std::to_string(last_seq));
      }
      if (event.prev_hash != last_hash) {
        return Failure(report, event.seq,
                       at + ": prev_hash does not match the hash of event " +
                           std::to_string(last_seq) +
                           " (an earlier event was changed or replaced)");
      }
      if (ChainHash(event.prev_hash, event) != event.hash) {
        return Failure(report, event.seq, at + ": hash does not match its contents (changed)");
      }
      if (auto it = covered.find(event.seq); it != covered.end()) it->second = event.hash;
      last_seq = event.seq;
      last_hash = event.hash;
      ++report.events;
    }
    if (page.size() < static_cast<std::size_t>(kPageSize)) break;
  }

  // A checkpoint beyond the end means the tail was cut; one within must sign the hash of the
  // event it covers.
  for (const SignedCheckpoint& checkpoint : checkpoints) {
    const std::string where = checkpoint.line == 0 ? std::string("database checkpoint")
                                                   : "checkpoint in " + checkpoint_file + " line " +
                                                         std::to_string(checkpoint.line);
    if (!CheckpointSignatureValid(public_key, checkpoint.seq, checkpoint.hash,
                                  checkpoint.signature)) {
      return Failure(report, checkpoint.seq,
                     "the " + where + " for event " + std::to_string(checkpoint.seq) +
                         " has an invalid signature (forged, or signed with another key)");
    }
    if (checkpoint.seq > last_seq) {
      return Failure(report, last_seq + 1, TruncationProblem(last_seq, checkpoint.seq));
    }
    if (covered[checkpoint.seq] != checkpoint.hash) {
      return Failure(report, checkpoint.seq,
                     "event " + std::to_string(checkpoint.seq) + ": hash differs from the signed " +
                         where + " (the log was rewritten up to here)");
    }
    ++report.checkpoints_checked;
  }
  return report;
}

Status ExportAudit(storage::Store& store, TimeMicros from, TimeMicros to,
                   const std::function<Status(const storage::AuditEvent&)>& sink) {
  CALIPER_ASSIGN_OR_RETURN(std::unique_ptr<storage::Transaction> txn,
                           store.Begin(storage::TxnMode::kRead));
  std::int64_t after = 0;
  for (;;) {
    CALIPER_ASSIGN_OR_RETURN(std::vector<storage::AuditEvent> page,
                             txn->ListAuditEvents(after, kPageSize));
    for (const storage::AuditEvent& event : page) {
      if (event.time >= from && event.time <= to) CALIPER_RETURN_IF_ERROR(sink(event));
      after = event.seq;
    }
    if (page.size() < static_cast<std::size_t>(kPageSize)) return Status::Ok();
  }
}

}  // namespace caliper::security

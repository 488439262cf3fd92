#pragma once

// Envelope encryption keys: master key -> project keys -> data keys (one per project and
// pseudonymous patient). Destroying a data key makes that patient's blobs unreadable for good
// (crypto-shredding). Key rotation re-wraps; it never re-encrypts blobs.

#include <memory>
#include <string>
#include <string_view>

#include "caliper/common/clock.h"
#include "caliper/common/status.h"
#include "caliper/security/crypto.h"
#include "caliper/storage/store.h"

namespace caliper::security {

// Supplies the master key. Implementations are thread-safe.
class KeyProvider {
 public:
  virtual ~KeyProvider() = default;
  virtual Result<Key> MasterKey() const = 0;
};

// Reads 64 hex digits from an environment variable when it is set, else from a key file,
// which must be a regular file with mode 0600 (kKeyUnavailable names the problem otherwise).
class FileKeyProvider final : public KeyProvider {
 public:
  FileKeyProvider(std::string key_file, std::string env_var);
  Result<Key> MasterKey() const override;

 private:
  std::string key_file_;
  std::string env_var_;
};

// A fixed key, for tests.
class StaticKeyProvider final : public KeyProvider {
 public:
  explicit StaticKeyProvider(const Key& key) : key_(key) {}
  Result<Key> MasterKey() const override { return key_; }

 private:
  Key key_;
};

// Writes a new random master key as hex to `path` with mode 0600, atomically (temp file +
// rename). kAlreadyExists when the file exists and `overwrite` is false.
Status WriteNewMasterKeyFile(const std::string& path, bool overwrite);

// Reads a file that holds a secret: it must be a regular file (symlinks are followed) with
// mode exactly 0600. Returns its content without trailing whitespace. kKeyUnavailable names
// the path and the problem (absent, not a regular file, wrong mode, unreadable, too large).
Result<std::string> ReadSecretFile(const std::string& path);
// Writes `content` to `path` with `mode` atomically: temp file beside it, fsync, rename (or
// link when not overwriting, so an existing file is never replaced), fsync of the directory.
// Creates a missing parent directory with mode 0700. kAlreadyExists when the file exists and
// `overwrite` is false; kIo on other failures.
Status WriteFileAtomically(const std::string& path, std::string_view content, bool overwrite,
                           unsigned mode = 0600);

// kKeyUnavailable naming the project when `master` does not open every stored project key
// (a wrong or stale master key); ok for a deployment with no project yet.
Status VerifyMasterKey(storage::Transaction& txn, const Key& master);

// Resolves wrapped keys through a Transaction. Thread-safe (holds no mutable state).
class KeyManager {
 public:
  KeyManager(const KeyProvider& master, const Clock& clock) : master_(master), clock_(clock) {}

  // Creates the project key if the project has none.
  Status EnsureProjectKey(storage::Transaction& txn, const std::string& project_id) const;
  // The data key for (project, patient), created (and wrapped) on first use. Returns its
  // id and the plain key.
  struct DataKeyRef {
    std::string id;
    Key key;
  };
  Result<DataKeyRef> DataKeyFor(storage::Transaction& txn, const std::string& project_id,
                                const std::string& patient_key) const;
  // The plain data key with id `data_key_id`; kKeyUnavailable if it was destroyed.
  Result<Key> UnwrapDataKey(storage::Transaction& txn, const std::string& data_key_id) const;
  // Crypto-shredding: forgets the wrapped data key.
  Status DestroyDataKey(storage::Transaction& txn, const std::string& data_key_id) const;

  struct RotationReport {
    int project_keys = 0;
    int data_keys = 0;
  };
  // New project key for every project; every live data key re-wrapped under it. When
  // `new_master` is given, project keys are wrapped under it (the caller then installs it).
  Result<RotationReport> Rotate(storage::Transaction& txn, const Key* new_master) const;

 private:
  const KeyProvider& master_;
  const Clock& clock_;
};

}  // namespace caliper::security

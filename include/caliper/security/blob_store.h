#pragma once

// Encrypted, content-addressed blobs on disk. Each blob is encrypted with the data key of its
// project and patient (streaming XChaCha20-Poly1305, 64 KiB chunks); its address is a keyed
// hash of the plaintext under that data key, so equal content of one patient is stored once
// and addresses reveal nothing across patients. Writes go to a temp file, fsync, then rename:
// a crash never leaves a half blob under a real address.

#include <chrono>
#include <cstdint>
#include <functional>
#include <istream>
#include <memory>
#include <ostream>
#include <string>

#include "caliper/common/status.h"
#include "caliper/security/crypto.h"

namespace caliper::security {

class BlobStore {
 public:
  virtual ~BlobStore() = default;
  // Encrypts and stores the whole of `in`. Returns the address (64 hex digits) and the number
  // of plaintext bytes.
  struct PutResult {
    std::string address;
    std::int64_t bytes = 0;
  };
  virtual Result<PutResult> Put(const Key& data_key, const std::string& data_key_id,
                                std::istream& in) = 0;
  // Decrypts blob `address` into `out`. kInvalidArgument for a malformed address; kNotFound
  // if absent; kIntegrity if the file was changed or truncated (and then nothing is written to
  // `out` past the last good chunk — callers buffer or discard; FileBlobStore writes nothing).
  virtual Status Get(const Key& data_key, const std::string& address, std::ostream& out) = 0;
  // The data key id recorded in the blob's header (so a reader knows which key to fetch).
  // kNotFound if absent, kIntegrity if the header is malformed.
  virtual Result<std::string> KeyIdOf(const std::string& address) = 0;
  // Deletes the blob's file. kNotFound if absent.
  virtual Status Remove(const std::string& address) = 0;

  // Refreshes the blob's file time (a writer that Put it long ago and is about to name it
  // calls this just before its commit). kNotFound if absent.
  virtual Status Touch(const std::string& address) = 0;

  // For the sweep of unreferenced blobs (App::SweepBlobs). Times are the file system's
  // (std::chrono::system_clock), as the files are. Put refreshes the time of a blob it finds
  // already stored, so a blob written or re-written since `cutoff` is never taken for an old one.
  struct StoredFile {
    std::string address;  // "" for a leftover temporary file
    std::string path;
    std::int64_t file_bytes = 0;
    std::chrono::system_clock::time_point modified;
  };
  // Held for the whole sweep; released when destroyed.
  class SweepLock {
   public:
    virtual ~SweepLock() = default;
  };
  // Takes the store's sweep lock (kUnavailable while another sweep holds it) and puts back
  // every blob an interrupted sweep had moved aside.
  virtual Result<std::unique_ptr<SweepLock>> BeginSweep() = 0;
  // Every stored blob and leftover temporary file, in no order.
  virtual Status ForEachFile(const std::function<Status(const StoredFile&)>& fn) = 0;
  // Deletes the file (a blob or a temporary file from ForEachFile, under the sweep lock) only
  // if it was last written before `cutoff`.
  enum class RemoveOutcome { kRemoved, kNewer, kGone };
  virtual Result<RemoveOutcome> RemoveIfOlder(const StoredFile& file,
                                              std::chrono::system_clock::time_point cutoff) = 0;
};

// Files under `root`/ab/cdef... . Thread-safe.
class FileBlobStore final : public BlobStore {
 public:
  explicit FileBlobStore(std::string root) : root_(std::move(root)) {}
  Result<PutResult> Put(const Key& data_key, const std::string& data_key_id, std::istream& in) override;
  Status Get(const Key& data_key, const std::string& address, std::ostream& out) override;
  Result<std::string> KeyIdOf(const std::string& address) override;
  Status Remove(const std::string& address) override;
  Status Touch(const std::string& address) override;
  Result<std::unique_ptr<SweepLock>> BeginSweep() override;
  Status ForEachFile(const std::function<Status(const StoredFile&)>& fn) override;
  Result<RemoveOutcome> RemoveIfOlder(const StoredFile& file, std::chrono::system_clock::time_point cutoff) override;
  // Path of a blob's file (tests use it to tamper).
  std::string PathOf(const std::string& address) const;

 private:
  std::string root_;
};

}  // namespace caliper::security

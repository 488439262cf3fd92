#include "caliper/security/keys.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "security/file_util.h"

namespace caliper::security {
namespace {

using file::Fd;
using file::FsyncDir;
using file::IoError;
using file::MakeDirs;
using file::ParentOf;

constexpr std::size_t kMaxSecretFileBytes = 64 * 1024;
constexpr std::string_view kWhitespace = " \t\r\n";

std::string_view TrimRight(std::string_view s) {
  const std::size_t end = s.find_last_not_of(kWhitespace);
  return end == std::string_view::npos ? std::string_view() : s.substr(0, end + 1);
}

// 64 hex digits -> Key. `source` names where they came from, for the error message (which
// never repeats the value).
Result<Key> ParseMasterKey(std::string_view hex, const std::string& source) {
  Result<Bytes> bytes = FromHex(hex);
  if (!bytes.ok() || bytes->size() != kKeyBytes) {
    return Error(ErrorCode::kKeyUnavailable,
                 source + " does not hold a master key (64 hex digits)");
  }
  Key key;
  std::copy(bytes->begin(), bytes->end(), key.begin());
  SecureZero(bytes->data(), bytes->size());
  return key;
}

std::string ProjectKeyAd(const std::string& project_id, std::int64_t version) {
  return "caliper-project-key:" + project_id + ":v" + std::to_string(version);
}

std::string DataKeyAd(const std::string& data_key_id) { return "caliper-data-key:" + data_key_id; }

Result<Key> OpenProjectKey(const Key& master, const storage::ProjectKey& project_key) {
  Result<Key> key = UnwrapKey(master, project_key.wrapped,
                              ProjectKeyAd(project_key.project_id, project_key.version));
  if (!key.ok()) {
    return Error(ErrorCode::kKeyUnavailable,
                 "the project key of project " + project_key.project_id + " (v" +
                     std::to_string(project_key.version) +
                     ") does not open under the master key (wrong master key, or the stored "
                     "key was changed)");
  }
  return key;
}

Status DestroyedError(const std::string& data_key_id) {
  return Error(ErrorCode::kKeyUnavailable,
               "data key " + data_key_id + " was destroyed (crypto-shredded)");
}

Result<Key> OpenDataKey(const Key& project_key, std::int64_t project_key_version,
                        const storage::DataKey& data_key) {
  if (data_key.destroyed_at.has_value()) return DestroyedError(data_key.id);
  if (data_key.project_key_version != project_key_version) {
    return Error(ErrorCode::kKeyUnavailable,
                 "data key " + data_key.id + " is wrapped under project key v" +
                     std::to_string(data_key.project_key_version) + " but the project key is v" +
                     std::to_string(project_key_version));
  }
  Result<Key> key = UnwrapKey(project_key, data_key.wrapped, DataKeyAd(data_key.id));
  if (!key.ok()) {
    return Error(ErrorCode::kIntegrity,
                 "data key " + data_key.id + " does not open under its project key (changed)");
  }
  return key;
}

// The plain project key of `project_id` and its version.
Result<std::pair<Key, std::int64_t>> ProjectKeyOf(storage::Transaction& txn,
                                                  const KeyProvider& master,
                                                  const std::string& project_id) {
  CALIPER_ASSIGN_OR_RETURN(const storage::ProjectKey stored, txn.GetProjectKey(project_id));
  CALIPER_ASSIGN_OR_RETURN(const Key master_key, master.MasterKey());
  CALIPER_ASSIGN_OR_RETURN(const Key key, OpenProjectKey(master_key, stored));
  return std::make_pair(key, stored.version);
}

}  // namespace

FileKeyProvider::FileKeyProvider(std::string key_file, std::string env_var)
    : key_file_(std::move(key_file)), env_var_(std::move(env_var)) {}

Result<Key> FileKeyProvider::MasterKey() const {
  const char* from_env = env_var_.empty() ? nullptr : std::getenv(env_var_.c_str());
  if (from_env != nullptr && *from_env != '\0') {
    return ParseMasterKey(TrimRight(from_env), "environment variable " + env_var_);
  }
  CALIPER_ASSIGN_OR_RETURN(std::string hex, ReadSecretFile(key_file_));
  Result<Key> key = ParseMasterKey(hex, "key file " + key_file_);
  SecureZero(hex.data(), hex.size());
  return key;
}

Result<std::string> ReadSecretFile(const std::string& path) {
  // O_NONBLOCK so that a FIFO in the key's place cannot hang the open; fstat rejects it.
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (!fd.valid()) {
    const std::string reason = errno == ENOENT ? "does not exist" : std::strerror(errno);
    return Error(ErrorCode::kKeyUnavailable, "key file " + path + " " + reason);
  }
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) {
    return Error(ErrorCode::kKeyUnavailable,
                 "key file " + path + " cannot be examined: " + std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) {
    return Error(ErrorCode::kKeyUnavailable, "key file " + path + " is not a regular file");
  }
  const unsigned mode = st.st_mode & 07777;
  if (mode != 0600) {
    char octal[8];
    std::snprintf(octal, sizeof octal, "%04o", mode);
    return Error(ErrorCode::kKeyUnavailable, "key file " + path + " has mode " + octal +
                                                 "; it must be 0600 (chmod 600 " + path + ")");
  }
  if (st.st_size > static_cast<off_t>(kMaxSecretFileBytes)) {
    return Error(ErrorCode::kKeyUnavailable, "key file " + path + " is too large to hold a key");
  }
  std::string content(kMaxSecretFileBytes + 1, '\0');
  std::size_t got = 0;
  while (got < content.size()) {
    const ssize_t r = ::read(fd.get(), content.data() + got, content.size() - got);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      return Error(ErrorCode::kKeyUnavailable,
                   "key file " + path + " cannot be read: " + std::strerror(errno));
    }
    if (r == 0) break;
    got += static_cast<std::size_t>(r);
  }
  if (got > kMaxSecretFileBytes) {
    return Error(ErrorCode::kKeyUnavailable, "key file " + path + " is too large to hold a key");
  }
  std::string result(TrimRight(std::string_view(content.data(), got)));
  SecureZero(content.data(), content.size());
  return result;
}

Status WriteFileAtomically(const std::string& path, std::string_view content, bool overwrite,
                           unsigned mode) {
  const std::string dir = ParentOf(path);
  CALIPER_RETURN_IF_ERROR(MakeDirs(dir));
  struct stat st;
  if (!overwrite && ::lstat(path.c_str(), &st) == 0) {
    return Error(ErrorCode::kAlreadyExists, path + " already exists");
  }
  const std::string tmp = path + ".tmp-" + RandomHex(8);
  Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode));
  if (!fd.valid()) return IoError("cannot create", tmp);
  struct TmpRemover {
    const std::string& tmp;
    // After a rename the temp name is already gone; after a link it is a second name.
    ~TmpRemover() { ::unlink(tmp.c_str()); }
  } remover{tmp};
  if (::fchmod(fd.get(), mode) != 0) return IoError("cannot set the mode of", tmp);  // umask
  CALIPER_RETURN_IF_ERROR(file::WriteAll(fd.get(), content.data(), content.size(), tmp));
  if (::fsync(fd.get()) != 0) return IoError("cannot fsync", tmp);
  if (!fd.Close()) return IoError("cannot close", tmp);
  if (overwrite) {
    if (::rename(tmp.c_str(), path.c_str()) != 0) return IoError("cannot rename to", path);
  } else if (::link(tmp.c_str(), path.c_str()) != 0) {
    if (errno == EEXIST) return Error(ErrorCode::kAlreadyExists, path + " already exists");
    return IoError("cannot create", path);
  }
  return FsyncDir(dir);
}

Status WriteNewMasterKeyFile(const std::string& path, bool overwrite) {
  Key key = RandomKey();
  std::string hex = ToHex(key.data(), key.size()) + "\n";
  Status status = WriteFileAtomically(path, hex, overwrite, 0600);
  SecureZero(hex.data(), hex.size());
  SecureZero(key.data(), key.size());
  return status;
}

Status KeyManager::EnsureProjectKey(storage::Transaction& txn,
                                    const std::string& project_id) const {
  Result<storage::ProjectKey> existing = txn.GetProjectKey(project_id);
  if (existing.ok()) return Status::Ok();
  if (existing.status().code() != ErrorCode::kNotFound) return existing.status();
  CALIPER_ASSIGN_OR_RETURN(const Key master_key, master_.MasterKey());
  storage::ProjectKey created;
  created.project_id = project_id;
  created.version = 1;
  created.wrapped = WrapKey(master_key, RandomKey(), ProjectKeyAd(project_id, created.version));
  created.created_at = clock_.Now();
  return txn.PutProjectKey(created);
}

// A destroyed data key is reported, never replaced: new data for a shredded patient must not
// quietly get a fresh key.
Result<KeyManager::DataKeyRef> KeyManager::DataKeyFor(storage::Transaction& txn,
                                                      const std::string& project_id,
                                                      const std::string& patient_key) const {
  Result<storage::DataKey> existing = txn.FindDataKey(project_id, patient_key);
  if (existing.ok()) {
    if (existing->destroyed_at.has_value()) return DestroyedError(existing->id);
    CALIPER_ASSIGN_OR_RETURN(const auto project_key, ProjectKeyOf(txn, master_, project_id));
    CALIPER_ASSIGN_OR_RETURN(const Key key,
                             OpenDataKey(project_key.first, project_key.second, *existing));
    return DataKeyRef{existing->id, key};
  }
  if (existing.status().code() != ErrorCode::kNotFound) return existing.status();

  CALIPER_RETURN_IF_ERROR(EnsureProjectKey(txn, project_id));
  CALIPER_ASSIGN_OR_RETURN(const auto project_key, ProjectKeyOf(txn, master_, project_id));
  storage::DataKey created;
  created.id = "dk_" + RandomHex(16);
  created.project_id = project_id;
  created.patient_key = patient_key;
  created.project_key_version = project_key.second;
  created.created_at = clock_.Now();
  const Key key = RandomKey();
  created.wrapped = WrapKey(project_key.first, key, DataKeyAd(created.id));
  CALIPER_RETURN_IF_ERROR(txn.InsertDataKey(created));
  return DataKeyRef{created.id, key};
}

Result<Key> KeyManager::UnwrapDataKey(storage::Transaction& txn,
                                      const std::string& data_key_id) const {
  CALIPER_ASSIGN_OR_RETURN(const storage::DataKey stored, txn.GetDataKey(data_key_id));
  if (stored.destroyed_at.has_value()) return DestroyedError(stored.id);
  CALIPER_ASSIGN_OR_RETURN(const auto project_key, ProjectKeyOf(txn, master_, stored.project_id));
  return OpenDataKey(project_key.first, project_key.second, stored);
}

Status KeyManager::DestroyDataKey(storage::Transaction& txn, const std::string& data_key_id) const {
  CALIPER_ASSIGN_OR_RETURN(storage::DataKey stored, txn.GetDataKey(data_key_id));
  if (stored.destroyed_at.has_value()) return Status::Ok();  // already shredded
  stored.wrapped.clear();
  stored.destroyed_at = clock_.Now();
  return txn.UpdateDataKey(stored);
}

Status VerifyMasterKey(storage::Transaction& txn, const Key& master) {
  CALIPER_ASSIGN_OR_RETURN(std::vector<storage::ProjectKey> project_keys, txn.ListProjectKeys());
  for (const storage::ProjectKey& project_key : project_keys) {
    CALIPER_ASSIGN_OR_RETURN(Key key, OpenProjectKey(master, project_key));
    SecureZero(key.data(), key.size());
  }
  return Status::Ok();
}

Result<KeyManager::RotationReport> KeyManager::Rotate(storage::Transaction& txn,
                                                      const Key* new_master) const {
  CALIPER_ASSIGN_OR_RETURN(const Key current_master, master_.MasterKey());
  const Key& target_master = new_master != nullptr ? *new_master : current_master;
  CALIPER_ASSIGN_OR_RETURN(std::vector<storage::ProjectKey> project_keys, txn.ListProjectKeys());
  RotationReport report;
  for (storage::ProjectKey& project_key : project_keys) {
    CALIPER_ASSIGN_OR_RETURN(const Key old_key, OpenProjectKey(current_master, project_key));
    const Key new_key = RandomKey();
    const std::int64_t old_version = project_key.version;
    const std::int64_t new_version = old_version + 1;
    CALIPER_ASSIGN_OR_RETURN(std::vector<storage::DataKey> data_keys,
                             txn.ListDataKeys(project_key.project_id));
    for (storage::DataKey& data_key : data_keys) {
      if (data_key.destroyed_at.has_value()) continue;
      CALIPER_ASSIGN_OR_RETURN(const Key plain, OpenDataKey(old_key, old_version, data_key));
      data_key.wrapped = WrapKey(new_key, plain, DataKeyAd(data_key.id));
      data_key.project_key_version = new_version;
      CALIPER_RETURN_IF_ERROR(txn.UpdateDataKey(data_key));
      ++report.data_keys;
    }
    project_key.version = new_version;
    project_key.wrapped =
        WrapKey(target_master, new_key, ProjectKeyAd(project_key.project_id, new_version));
    project_key.created_at = clock_.Now();
    CALIPER_RETURN_IF_ERROR(txn.PutProjectKey(project_key));
    ++report.project_keys;
  }
  return report;
}

}  // namespace caliper::security

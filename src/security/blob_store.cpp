// File format of one blob (all integers little-endian):
//
//   "CALB1\n"                 magic, 6 bytes
//   u16 n, n bytes            the data key id
//   24 bytes                  secretstream header
//   chunks: u32 len, len bytes of ciphertext (<= 64 KiB plaintext + 17 bytes each)
//
// The last chunk carries the FINAL tag; an empty blob is one empty FINAL chunk. The magic and
// key id are the associated data of the first chunk, so changing them fails authentication,
// and secretstream chains every later chunk to the first. The address is keyed BLAKE2b-256 of
// the plaintext under a subkey of the data key (DeriveSubkey(key, "blob-address")).

#include "caliper/security/blob_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string_view>
#include <utility>

#include "security/file_util.h"

namespace caliper::security {
namespace {

using file::Fd;
using file::FsyncDir;
using file::IoError;
using file::ReadUpTo;
using file::WriteAll;

constexpr std::string_view kMagic = "CALB1\n";
constexpr std::size_t kChunkBytes = 64 * 1024;
constexpr std::size_t kMaxChunkCiphertext = kChunkBytes + kStreamOverheadBytes;
constexpr std::size_t kMaxKeyIdBytes = 0xffff;
constexpr std::string_view kAddressPurpose = "blob-address";

// Unlinks `path` on destruction unless disarmed.
class RemoveOnExit {
 public:
  explicit RemoveOnExit(std::string path) : path_(std::move(path)) {}
  ~RemoveOnExit() {
    if (!path_.empty()) ::unlink(path_.c_str());
  }
  RemoveOnExit(const RemoveOnExit&) = delete;
  RemoveOnExit& operator=(const RemoveOnExit&) = delete;
  void Disarm() { path_.clear(); }

 private:
  std::string path_;
};

bool IsAddress(std::string_view address) {
  if (address.size() != 64) return false;
  for (char c : address) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

Status CheckAddress(const std::string& address) {
  if (IsAddress(address)) return Status::Ok();
  return Error(ErrorCode::kInvalidArgument, "blob address must be 64 lower-case hex digits");
}

Status IntegrityError(const std::string& address, std::string_view detail) {
  return Error(ErrorCode::kIntegrity,
               "blob " + address +
                   " failed its integrity check (changed or truncated): " + std::string(detail));
}

// Creates directory `path` (mode 0700) unless it exists. Sets `created` when it made it.
Status MakeDir(const std::string& path, bool* created = nullptr) {
  if (::mkdir(path.c_str(), 0700) == 0) {
    if (created != nullptr) *created = true;
    return Status::Ok();
  }
  if (errno == EEXIST) return Status::Ok();
  return IoError("cannot create directory", path);
}

// The authenticated prefix of a blob file: magic, key id length, key id.
std::string FileHeader(const std::string& data_key_id) {
  std::string header(kMagic);
  header.push_back(static_cast<char>(data_key_id.size() & 0xff));
  header.push_back(static_cast<char>(data_key_id.size() >> 8));
  header += data_key_id;
  return header;
}

// Reads the file header of an open blob; kIntegrity (through `address`) when malformed.
// On success the file offset is at the secretstream header.
Result<std::string> ReadFileHeader(int fd, const std::string& path, const std::string& address) {
  unsigned char fixed[kMagic.size() + 2];
  CALIPER_ASSIGN_OR_RETURN(std::size_t got, ReadUpTo(fd, fixed, sizeof fixed, path));
  if (got != sizeof fixed || std::memcmp(fixed, kMagic.data(), kMagic.size()) != 0) {
    return IntegrityError(address, "bad magic");
  }
  const std::size_t id_size = fixed[kMagic.size()] | (std::size_t{fixed[kMagic.size() + 1]} << 8);
  std::string id(id_size, '\0');
  CALIPER_ASSIGN_OR_RETURN(
      got, ReadUpTo(fd, reinterpret_cast<unsigned char*>(id.data()), id_size, path));
  if (got != id_size || id.empty()) return IntegrityError(address, "bad key id");
  return FileHeader(id);
}

Result<Fd> OpenBlob(const std::string& path, const std::string& address) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    if (errno == ENOENT) return Error(ErrorCode::kNotFound, "blob " + address + " not found");
    return IoError("cannot open blob", path);
  }
  return Result<Fd>(std::move(fd));
}

}  // namespace

std::string FileBlobStore::PathOf(const std::string& address) const {
  if (address.size() < 3) return root_ + "/" + address;
  return root_ + "/" + address.substr(0, 2) + "/" + address.substr(2);
}

Result<BlobStore::PutResult> FileBlobStore::Put(const Key& data_key, const std::string& data_key_id,
                                                std::istream& in) {
  if (data_key_id.empty() || data_key_id.size() > kMaxKeyIdBytes) {
    return Error(ErrorCode::kInvalidArgument, "data key id must be 1 to 65535 bytes");
  }
  const std::string tmp_dir = root_ + "/tmp";
  CALIPER_RETURN_IF_ERROR(MakeDir(root_));
  CALIPER_RETURN_IF_ERROR(MakeDir(tmp_dir));
  const std::string tmp_path = tmp_dir + "/put-" + RandomHex(16);
  Fd fd(::open(tmp_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!fd.valid()) return IoError("cannot create", tmp_path);
  RemoveOnExit remove_tmp(tmp_path);

  const std::string file_header = FileHeader(data_key_id);
  Bytes stream_header;
  StreamEncryptor encryptor(data_key, stream_header);
  KeyedHasher hasher(DeriveSubkey(data_key, kAddressPurpose));
  CALIPER_RETURN_IF_ERROR(WriteAll(fd.get(), file_header.data(), file_header.size(), tmp_path));
  CALIPER_RETURN_IF_ERROR(WriteAll(fd.get(), stream_header.data(), stream_header.size(), tmp_path));

  Bytes chunk(kChunkBytes);
  std::int64_t total = 0;
  bool first = true;
  bool last = false;
  while (!last) {
    in.read(reinterpret_cast<char*>(chunk.data()), static_cast<std::streamsize>(kChunkBytes));
    if (in.bad()) return Error(ErrorCode::kIo, "reading blob input failed");
    const auto got = static_cast<std::size_t>(in.gcount());
    last = got < kChunkBytes || in.peek() == std::istream::traits_type::eof();
    if (in.bad()) return Error(ErrorCode::kIo, "reading blob input failed");
    hasher.Update(chunk.data(), got);
    const Bytes sealed =
        encryptor.Push(chunk.data(), got, last, first ? std::string_view(file_header) : "");
    first = false;
    const auto size = static_cast<std::uint32_t>(sealed.size());
    const unsigned char size_le[4] = {
        static_cast<unsigned char>(size), static_cast<unsigned char>(size >> 8),
        static_cast<unsigned char>(size >> 16), static_cast<unsigned char>(size >> 24)};
    CALIPER_RETURN_IF_ERROR(WriteAll(fd.get(), size_le, sizeof size_le, tmp_path));
    CALIPER_RETURN_IF_ERROR(WriteAll(fd.get(), sealed.data(), sealed.size(), tmp_path));
    total += static_cast<std::int64_t>(got);
  }
  SecureZero(chunk.data(), chunk.size());
  if (::fsync(fd.get()) != 0) return IoError("cannot fsync", tmp_path);
  if (!fd.Close()) return IoError("cannot close", tmp_path);

  PutResult result{hasher.FinalHex(), total};
  const std::string shard = root_ + "/" + result.address.substr(0, 2);
  bool shard_created = false;
  CALIPER_RETURN_IF_ERROR(MakeDir(shard, &shard_created));
  const std::string final_path = PathOf(result.address);
  struct stat st;
  if (::stat(final_path.c_str(), &st) == 0) {  // same content: stored once, its time refreshed
    if (::utimensat(AT_FDCWD, final_path.c_str(), nullptr, 0) == 0) return result;
    if (errno != ENOENT) return IoError("cannot touch", final_path);
    // swept away since the stat: stored anew below
  }
  if (::rename(tmp_path.c_str(), final_path.c_str()) != 0)
    return IoError("cannot rename to", final_path);
  remove_tmp.Disarm();
  CALIPER_RETURN_IF_ERROR(FsyncDir(shard));
  if (shard_created) CALIPER_RETURN_IF_ERROR(FsyncDir(root_));
  return result;
}

// Get decrypts the whole blob into memory and writes to `out` only after every chunk, the
// FINAL tag, the absence of trailing bytes and the address have been verified, so a changed or
// truncated blob yields no bytes at all. Memory rather than a temp file: blobs are at most a
// few hundred MB, and plaintext never touches the disk outside its encrypted file.
Status FileBlobStore::Get(const Key& data_key, const std::string& address, std::ostream& out) {
  CALIPER_RETURN_IF_ERROR(CheckAddress(address));
  const std::string path = PathOf(address);
  CALIPER_ASSIGN_OR_RETURN(Fd fd, OpenBlob(path, address));
  CALIPER_ASSIGN_OR_RETURN(const std::string file_header, ReadFileHeader(fd.get(), path, address));

  Bytes stream_header(kStreamHeaderBytes);
  CALIPER_ASSIGN_OR_RETURN(std::size_t got,
                           ReadUpTo(fd.get(), stream_header.data(), stream_header.size(), path));
  if (got != stream_header.size()) return IntegrityError(address, "short stream header");
  StreamDecryptor decryptor;
  if (!decryptor.Init(data_key, stream_header).ok()) {
    return IntegrityError(address, "bad stream header");
  }

  struct stat st;
  Bytes plain;
  if (::fstat(fd.get(), &st) == 0 && st.st_size > 0)
    plain.reserve(static_cast<std::size_t>(st.st_size));
  KeyedHasher hasher(DeriveSubkey(data_key, kAddressPurpose));
  Bytes sealed(kMaxChunkCiphertext);
  Bytes chunk;
  bool first = true;
  bool last = false;
  Status failure;
  while (!last) {
    unsigned char size_le[4];
    CALIPER_ASSIGN_OR_RETURN(got, ReadUpTo(fd.get(), size_le, sizeof size_le, path));
    if (got != sizeof size_le) {
      failure = IntegrityError(address, "ends before its final chunk");
      break;
    }
    const std::size_t size = size_le[0] | (std::size_t{size_le[1]} << 8) |
                             (std::size_t{size_le[2]} << 16) | (std::size_t{size_le[3]} << 24);
    if (size < kStreamOverheadBytes || size > kMaxChunkCiphertext) {
      failure = IntegrityError(address, "bad chunk length");
      break;
    }
    CALIPER_ASSIGN_OR_RETURN(got, ReadUpTo(fd.get(), sealed.data(), size, path));
    if (got != size) {
      failure = IntegrityError(address, "ends inside a chunk");
      break;
    }
    if (!decryptor
             .Pull(sealed.data(), size, chunk, last, first ? std::string_view(file_header) : "")
             .ok()) {
      failure = IntegrityError(address, "a chunk failed authentication");
      break;
    }
    first = false;
    hasher.Update(chunk.data(), chunk.size());
    plain.insert(plain.end(), chunk.begin(), chunk.end());
    SecureZero(chunk.data(), chunk.size());
  }
  if (failure.ok()) {
    unsigned char extra;
    CALIPER_ASSIGN_OR_RETURN(got, ReadUpTo(fd.get(), &extra, 1, path));
    if (got != 0) failure = IntegrityError(address, "has bytes after its final chunk");
  }
  if (failure.ok() && !ConstantTimeEquals(hasher.FinalHex(), address)) {
    failure = IntegrityError(address, "content does not match its address");
  }
  if (failure.ok()) {
    out.write(reinterpret_cast<const char*>(plain.data()),
              static_cast<std::streamsize>(plain.size()));
    if (!out) failure = Error(ErrorCode::kIo, "writing blob " + address + " to its output failed");
  }
  SecureZero(plain.data(), plain.size());
  return failure;
}

Result<std::string> FileBlobStore::KeyIdOf(const std::string& address) {
  CALIPER_RETURN_IF_ERROR(CheckAddress(address));
  const std::string path = PathOf(address);
  CALIPER_ASSIGN_OR_RETURN(Fd fd, OpenBlob(path, address));
  CALIPER_ASSIGN_OR_RETURN(const std::string file_header, ReadFileHeader(fd.get(), path, address));
  return file_header.substr(kMagic.size() + 2);
}

namespace {

std::chrono::system_clock::time_point ModifiedOf(const struct stat& st) {
  return std::chrono::system_clock::time_point(std::chrono::duration_cast<std::chrono::system_clock::duration>(
      std::chrono::seconds(st.st_mtim.tv_sec) + std::chrono::nanoseconds(st.st_mtim.tv_nsec)));
}

// Calls fn(name) for every entry of directory `path` but "." and ".."; a missing directory
// has none.
Status ForEachEntry(const std::string& path, const std::function<Status(const std::string&)>& fn) {
  DIR* dir = ::opendir(path.c_str());
  if (dir == nullptr) {
    if (errno == ENOENT || errno == ENOTDIR) return Status::Ok();
    return IoError("cannot list", path);
  }
  std::unique_ptr<DIR, int (*)(DIR*)> closer(dir, &::closedir);
  for (;;) {
    errno = 0;
    const struct dirent* e = ::readdir(dir);
    if (e == nullptr) {
      if (errno != 0) return IoError("cannot list", path);
      return Status::Ok();
    }
    const std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    CALIPER_RETURN_IF_ERROR(fn(name));
  }
}

}  // namespace

Status FileBlobStore::ForEachFile(const std::function<Status(const StoredFile&)>& fn) {
  auto visit = [&](const std::string& path, std::string address) -> Status {
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0) {
      if (errno == ENOENT) return Status::Ok();  // removed meanwhile
      return IoError("cannot stat", path);
    }
    if (!S_ISREG(st.st_mode)) return Status::Ok();
    return fn({std::move(address), path, static_cast<std::int64_t>(st.st_size), ModifiedOf(st)});
  };
  return ForEachEntry(root_, [&](const std::string& shard) -> Status {
    if (shard == "tmp") {
      return ForEachEntry(root_ + "/tmp", [&](const std::string& name) -> Status {
        if (name.rfind("put-", 0) != 0 && name.rfind("sweep-", 0) != 0) return Status::Ok();
        return visit(root_ + "/tmp/" + name, "");
      });
    }
    if (shard.size() != 2) return Status::Ok();  // not ours
    return ForEachEntry(root_ + "/" + shard, [&](const std::string& rest) -> Status {
      const std::string address = shard + rest;
      if (!IsAddress(address)) return Status::Ok();  // not ours
      return visit(root_ + "/" + shard + "/" + rest, address);
    });
  });
}

namespace {

// The flock(2) on tmp/sweep.lock, held by one sweep at a time.
class FileSweepLock final : public BlobStore::SweepLock {
 public:
  explicit FileSweepLock(Fd fd) : fd_(std::move(fd)) {}

 private:
  Fd fd_;  // closing it releases the lock
};

// A blob moved aside by a sweep: tmp/sweep-<address>-<random>. Its address, or "".
std::string AddressAside(std::string_view name) {
  if (name.rfind("sweep-", 0) != 0 || name.size() < 6 + 64 + 1 || name[6 + 64] != '-') return "";
  const std::string address(name.substr(6, 64));
  return IsAddress(address) ? address : "";
}

}  // namespace

Status FileBlobStore::Touch(const std::string& address) {
  CALIPER_RETURN_IF_ERROR(CheckAddress(address));
  const std::string path = PathOf(address);
  if (::utimensat(AT_FDCWD, path.c_str(), nullptr, 0) == 0) return Status::Ok();
  if (errno == ENOENT) return Error(ErrorCode::kNotFound, "blob " + address + " not found");
  return IoError("cannot touch", path);
}

Result<std::unique_ptr<BlobStore::SweepLock>> FileBlobStore::BeginSweep() {
  const std::string tmp_dir = root_ + "/tmp";
  CALIPER_RETURN_IF_ERROR(MakeDir(root_));
  CALIPER_RETURN_IF_ERROR(MakeDir(tmp_dir));
  const std::string lock_path = tmp_dir + "/sweep.lock";
  Fd fd(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!fd.valid()) return IoError("cannot open", lock_path);
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) return Error(ErrorCode::kUnavailable, "another blob sweep is running");
    return IoError("cannot lock", lock_path);
  }
  // A sweep stopped between moving a blob aside and putting it back (or deleting it) left it
  // in tmp/: back to its address unless the address holds the same content again.
  bool restored = false;
  CALIPER_RETURN_IF_ERROR(ForEachEntry(tmp_dir, [&](const std::string& name) -> Status {
    const std::string address = AddressAside(name);
    if (address.empty()) return Status::Ok();
    const std::string aside = tmp_dir + "/" + name;
    const std::string shard = root_ + "/" + address.substr(0, 2);
    CALIPER_RETURN_IF_ERROR(MakeDir(shard));
    if (::link(aside.c_str(), PathOf(address).c_str()) != 0 && errno != EEXIST) {
      return IoError("cannot put back", PathOf(address));
    }
    CALIPER_RETURN_IF_ERROR(FsyncDir(shard));
    if (::unlink(aside.c_str()) != 0 && errno != ENOENT) return IoError("cannot remove", aside);
    restored = true;
    return Status::Ok();
  }));
  if (restored) CALIPER_RETURN_IF_ERROR(FsyncDir(tmp_dir));
  return std::unique_ptr<SweepLock>(std::make_unique<FileSweepLock>(std::move(fd)));
}

Result<BlobStore::RemoveOutcome> FileBlobStore::RemoveIfOlder(const StoredFile& file,
                                                              std::chrono::system_clock::time_point cutoff) {
  const std::string tmp_dir = root_ + "/tmp";
  auto in_tmp = [&](std::string_view prefix) {
    const std::string start = tmp_dir + "/" + std::string(prefix);
    return file.path.rfind(start, 0) == 0 && file.path.find('/', start.size()) == std::string::npos;
  };
  // Only paths this store hands out: a blob's own path, or a temporary file directly in tmp/.
  const bool temporary = file.address.empty();
  const bool ours = temporary ? in_tmp("put-") || in_tmp("sweep-")
                              : IsAddress(file.address) && file.path == PathOf(file.address);
  if (!ours) return Error(ErrorCode::kInvalidArgument, "not a file of this blob store: " + file.path);
  // kRemoved when older than the cut-off (to be removed), kNewer, or kGone.
  auto age_of = [&](const std::string& path) -> Result<RemoveOutcome> {
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0) {
      if (errno == ENOENT) return RemoveOutcome::kGone;
      return IoError("cannot stat", path);
    }
    return ModifiedOf(st) < cutoff ? RemoveOutcome::kRemoved : RemoveOutcome::kNewer;
  };
  CALIPER_ASSIGN_OR_RETURN(RemoveOutcome age, age_of(file.path));
  if (age != RemoveOutcome::kRemoved) return age;
  std::string doomed = file.path;
  if (!temporary) {
    // Moved aside first (under a name that keeps its address, so BeginSweep puts it back if
    // this sweep stops here): a Put of the same content that found the blob just before has
    // refreshed its time (checked again below, and the blob put back), and one that comes
    // after finds no blob and writes it anew, so a blob a writer relies on is never lost.
    doomed = tmp_dir + "/sweep-" + file.address + "-" + RandomHex(8);
    if (::rename(file.path.c_str(), doomed.c_str()) != 0) {
      if (errno == ENOENT) return RemoveOutcome::kGone;
      return IoError("cannot move aside", file.path);
    }
    CALIPER_ASSIGN_OR_RETURN(age, age_of(doomed));
    if (age == RemoveOutcome::kNewer) {
      const std::string shard = file.path.substr(0, file.path.rfind('/'));
      if (::link(doomed.c_str(), file.path.c_str()) != 0 && errno != EEXIST) {
        return IoError("cannot put back", file.path);
      }
      CALIPER_RETURN_IF_ERROR(FsyncDir(shard));
      if (::unlink(doomed.c_str()) != 0) return IoError("cannot remove", doomed);
      CALIPER_RETURN_IF_ERROR(FsyncDir(tmp_dir));
      return RemoveOutcome::kNewer;
    }
  }
  if (::unlink(doomed.c_str()) != 0) {
    if (errno == ENOENT) return RemoveOutcome::kGone;
    return IoError("cannot remove", doomed);
  }
  if (!temporary) CALIPER_RETURN_IF_ERROR(FsyncDir(file.path.substr(0, file.path.rfind('/'))));
  CALIPER_RETURN_IF_ERROR(FsyncDir(tmp_dir));
  return RemoveOutcome::kRemoved;
}

Status FileBlobStore::Remove(const std::string& address) {
  CALIPER_RETURN_IF_ERROR(CheckAddress(address));
  const std::string path = PathOf(address);
  if (::unlink(path.c_str()) != 0) {
    if (errno == ENOENT) return Error(ErrorCode::kNotFound, "blob " + address + " not found");
    return IoError("cannot remove blob", path);
  }
  return FsyncDir(root_ + "/" + address.substr(0, 2));
}

}  // namespace caliper::security

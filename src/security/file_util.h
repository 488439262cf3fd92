#pragma once

// POSIX file helpers shared by the key files and the blob store (internal to security).
// Errors are kIo Statuses naming the path and errno's text.

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

#include "caliper/common/status.h"

namespace caliper::security::file {

// Owns a file descriptor; closes it on destruction. Movable, not copyable.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd();
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&&) = delete;
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  // Closes now, reporting the error close() may carry for written data.
  bool Close();

 private:
  int fd_;
};

// kIo: "<what> <path>: <strerror(errno)>".
Status IoError(std::string_view what, const std::string& path);
// "a/b/c" -> "a/b"; "c" -> "."; "/c" -> "/".
std::string ParentOf(const std::string& path);
// mkdir -p; every directory it creates gets mode 0700.
Status MakeDirs(const std::string& path);
Status FsyncDir(const std::string& path);
// Writes all `n` bytes, retrying on EINTR and short writes.
Status WriteAll(int fd, const void* data, std::size_t n, const std::string& path);
// Reads up to `n` bytes, stopping early only at end of file. Returns the count read.
Result<std::size_t> ReadUpTo(int fd, unsigned char* data, std::size_t n, const std::string& path);

}  // namespace caliper::security::file

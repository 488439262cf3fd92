// Snapshot tar files through libarchive: written deterministically (sorted paths, fixed
// metadata), read back with path checks; and reading ZIP archives of uploads. libarchive is
// used only here.

#include <archive.h>
#include <archive_entry.h>

#include <filesystem>
#include <fstream>
#include <memory>

#include "caliper/exports/snapshot.h"

namespace caliper::exports {
namespace {

struct WriterDeleter {
  void operator()(archive* a) const { archive_write_free(a); }
};
struct ReaderDeleter {
  void operator()(archive* a) const { archive_read_free(a); }
};
struct EntryDeleter {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};

Status ArchiveError(archive* a, const std::string& what) {
  const char* message = archive_error_string(a);
  return Error(ErrorCode::kIo, what + ": " + (message ? message : "libarchive error"));
}

}  // namespace

Result<std::string> TarSnapshot(const Snapshot& snapshot) {
  std::unique_ptr<archive, WriterDeleter> a(archive_write_new());
  if (!a) return Error(ErrorCode::kInternal, "libarchive: out of memory");
  archive_write_set_format_ustar(a.get());
  archive_write_set_bytes_in_last_block(a.get(), 1);
  std::size_t size = 0;
  std::string buffer;
  // The whole tar is at most the files plus headers and padding.
  std::size_t capacity = 10240;
  for (const auto& [path, bytes] : snapshot.files) capacity += bytes.size() + 1024;
  buffer.resize(capacity);
  if (archive_write_open_memory(a.get(), buffer.data(), buffer.size(), &size) != ARCHIVE_OK) {
    return ArchiveError(a.get(), "tar");
  }
  for (const auto& [path, bytes] : snapshot.files) {  // std::map: sorted paths
    std::unique_ptr<archive_entry, EntryDeleter> e(archive_entry_new());
    archive_entry_set_pathname(e.get(), path.c_str());
    archive_entry_set_size(e.get(), static_cast<la_int64_t>(bytes.size()));
    archive_entry_set_filetype(e.get(), AE_IFREG);
    archive_entry_set_perm(e.get(), 0644);
    archive_entry_set_mtime(e.get(), 0, 0);
    archive_entry_set_uid(e.get(), 0);
    archive_entry_set_gid(e.get(), 0);
    if (archive_write_header(a.get(), e.get()) != ARCHIVE_OK) return ArchiveError(a.get(), "tar " + path);
    if (archive_write_data(a.get(), bytes.data(), bytes.size()) != static_cast<la_ssize_t>(bytes.size())) {
      return ArchiveError(a.get(), "tar " + path);
    }
  }
  if (archive_write_close(a.get()) != ARCHIVE_OK) return ArchiveError(a.get(), "tar");
  buffer.resize(size);
  return buffer;
}

Result<std::string> ReadTarFile(const std::string& tar_bytes, const std::string& name) {
  std::unique_ptr<archive, ReaderDeleter> a(archive_read_new());
  archive_read_support_format_tar(a.get());
  if (archive_read_open_memory(a.get(), tar_bytes.data(), tar_bytes.size()) != ARCHIVE_OK) {
    return ArchiveError(a.get(), "reading the snapshot");
  }
  archive_entry* e = nullptr;
  for (;;) {
    const int r = archive_read_next_header(a.get(), &e);
    if (r == ARCHIVE_EOF) break;
    if (r != ARCHIVE_OK) return ArchiveError(a.get(), "reading the snapshot");
    if (name != archive_entry_pathname(e)) continue;
    std::string out;
    char chunk[65536];
    for (;;) {
      const la_ssize_t n = archive_read_data(a.get(), chunk, sizeof chunk);
      if (n < 0) return ArchiveError(a.get(), "reading " + name);
      if (n == 0) return out;
      out.append(chunk, static_cast<std::size_t>(n));
    }
  }
  return Error(ErrorCode::kNotFound, "the snapshot has no " + name);
}

Status ForEachZipEntry(const std::string& zip_path, std::size_t max_entry_bytes,
                       const std::function<Status(const std::string& path, std::string bytes)>& entry) {
  std::unique_ptr<archive, ReaderDeleter> a(archive_read_new());
  archive_read_support_format_zip(a.get());
  if (archive_read_open_filename(a.get(), zip_path.c_str(), 1 << 16) != ARCHIVE_OK) {
    return ArchiveError(a.get(), "opening " + zip_path);
  }
  archive_entry* e = nullptr;
  for (;;) {
    const int r = archive_read_next_header(a.get(), &e);
    if (r == ARCHIVE_EOF) return Status::Ok();
    if (r != ARCHIVE_OK) return ArchiveError(a.get(), "reading " + zip_path);
    if (archive_entry_filetype(e) != AE_IFREG) continue;
    const std::string path = archive_entry_pathname(e) ? archive_entry_pathname(e) : "";
    std::string bytes;
    char chunk[65536];
    for (;;) {
      const la_ssize_t n = archive_read_data(a.get(), chunk, sizeof chunk);
      if (n < 0) return ArchiveError(a.get(), "reading " + zip_path + ": " + path);
      if (n == 0) break;
      if (bytes.size() + static_cast<std::size_t>(n) > max_entry_bytes) {
        return Error(ErrorCode::kPayloadTooLarge, zip_path + ": " + path + " is larger than " +
                                                      std::to_string(max_entry_bytes) + " bytes");
      }
      bytes.append(chunk, static_cast<std::size_t>(n));
    }
    CALIPER_RETURN_IF_ERROR(entry(path, std::move(bytes)));
  }
}

Status ExtractSnapshotTar(const std::string& tar_bytes, const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_empty(dir, ec)) {
    return Error(ErrorCode::kAlreadyExists, dir + " exists and is not empty");
  }
  fs::create_directories(dir, ec);
  if (ec) return Error(ErrorCode::kIo, "cannot create " + dir + ": " + ec.message());
  std::unique_ptr<archive, ReaderDeleter> a(archive_read_new());
  archive_read_support_format_tar(a.get());
  if (archive_read_open_memory(a.get(), tar_bytes.data(), tar_bytes.size()) != ARCHIVE_OK) {
    return ArchiveError(a.get(), "reading the snapshot");
  }
  archive_entry* e = nullptr;
  for (;;) {
    const int r = archive_read_next_header(a.get(), &e);
    if (r == ARCHIVE_EOF) break;
    if (r != ARCHIVE_OK) return ArchiveError(a.get(), "reading the snapshot");
    const std::string path = archive_entry_pathname(e);
    if (archive_entry_filetype(e) != AE_IFREG || path.empty() || path.front() == '/' ||
        path.find("..") != std::string::npos) {
      return Error(ErrorCode::kInvalidArgument, "the snapshot holds a refused entry '" + path + "'");
    }
    const fs::path target = fs::path(dir) / path;
    fs::create_directories(target.parent_path(), ec);
    std::ofstream out(target, std::ios::binary | std::ios::trunc);
    if (!out) return Error(ErrorCode::kIo, "cannot write " + target.string());
    char chunk[65536];
    for (;;) {
      const la_ssize_t n = archive_read_data(a.get(), chunk, sizeof chunk);
      if (n < 0) return ArchiveError(a.get(), "reading " + path);
      if (n == 0) break;
      out.write(chunk, n);
    }
    if (!out.flush()) return Error(ErrorCode::kIo, "cannot write " + target.string());
  }
  return Status::Ok();
}

}  // namespace caliper::exports

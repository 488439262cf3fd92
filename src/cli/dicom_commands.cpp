// `caliper deid dicom`: PS3.15 de-identification of a folder of DICOM files without a server
// or a store (docs/deid-dicom.md). Every regular file under --in is one input; each becomes
// OUT/<study>/<series>/<instance>.dcm named by its new UIDs (OUT/quarantine/... when its pixels
// may carry burned-in text), and one line of OUT/deid-report.jsonl:
//   {"input","output","status":"ok"|"quarantined"|"error","burned_in_risk","actions","error"}
// with input relative to --in and output relative to --out (null for an error). Originals are
// never copied; the original-to-pseudonym link is not written (there is no store to keep it
// encrypted). Exit 1 when any file is an error; the batch always goes on.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

#include "caliper/dicom/deid.h"
#include "caliper/security/crypto.h"
#include "cli/cli_support.h"

namespace caliper::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::ordered_json;

struct DeidDicomOptions {
  std::string in, out, options, key_file;
  std::vector<std::string> safe_private;  // CREATOR:GGGG:EE
  std::vector<std::string> blank;         // MODALITY[/MANUFACTURER[/MODEL]]:X,Y,W,H
  int jobs = 0;
};

// The project key: 64 hex characters in --key-file, created (0600, random) when absent.
Result<security::Key> LoadOrCreateKey(const std::string& path) {
  CALIPER_RETURN_IF_ERROR(security::InitCrypto());
  if (!fs::exists(path)) {
    const security::Key key = security::RandomKey();
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return Error(ErrorCode::kIo, "creating " + path + ": " + std::strerror(errno));
    const std::string text = security::ToHex(key.data(), key.size()) + "\n";
    const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    const bool closed = ::close(fd) == 0;
    if (!written || !closed) return Error(ErrorCode::kIo, "writing " + path);
    std::cerr << "caliper: created a new key in " << path << " (keep it: the same key maps the "
              << "same identities and UIDs the same way)\n";
    return key;
  }
  std::ifstream in(path, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in && !in.eof()) return Error(ErrorCode::kIo, "cannot read " + path);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
  auto bytes = security::FromHex(text);
  if (!bytes.ok() || bytes->size() != security::kKeyBytes) {
    return Error(ErrorCode::kInvalidArgument, path + " must hold 64 hexadecimal characters (a 32-byte key)");
  }
  security::Key key;
  std::copy(bytes->begin(), bytes->end(), key.begin());
  return key;
}

// A name in `dir` for a file being written: hidden, and unique to this process and thread.
fs::path TempName(const fs::path& dir) {
  return dir / (".caliper-tmp-" + std::to_string(::getpid()) + "-" +
                std::to_string(std::hash<std::thread::id>{}(std::this_thread::get_id())));
}

// Whether a file opened with O_TMPFILE can be given a name: by linkat through /proc/self/fd,
// which unlike AT_EMPTY_PATH needs no privilege.
bool CanNameUnnamedFiles() {
  static const bool can = ::access("/proc/self/fd", X_OK) == 0;
  return can;
}

// An output file written without a name and given its final one once whole (Commit), so no
// half-written file ever carries a name, not even when the process is killed: an O_TMPFILE
// file in `dir` (the same file system as the output), linked into place; where the file system
// cannot make one, a temporary name in `dir`, renamed into place and removed when uncommitted.
// An existing output of the same name is replaced atomically (readers see the old file or the
// new one). The folders of the final name are made as needed. Not synced to disk: like cp, an
// output survives a crash of this process, not of the machine.
class TempOutput {
 public:
  explicit TempOutput(const fs::path& dir) {
    if (CanNameUnnamedFiles()) {
      fd_ = ::open(dir.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
      if (fd_ >= 0 || (errno != EOPNOTSUPP && errno != EISDIR)) {
        open_errno_ = errno;
        return;
      }
    }
    named_ = TempName(dir);
    fd_ = ::open(named_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    open_errno_ = errno;
  }
  TempOutput(const TempOutput&) = delete;
  TempOutput& operator=(const TempOutput&) = delete;
  ~TempOutput() {
    if (fd_ >= 0) ::close(fd_);
    if (!named_.empty() && !committed_) ::unlink(named_.c_str());
  }
  // The descriptor to write to; kIo when the file could not be created.
  Result<int> fd() const {
    if (fd_ < 0) return Error(ErrorCode::kIo, "creating an output file: " + std::string(std::strerror(open_errno_)));
    return fd_;
  }
  // Gives the written file the name `path` and closes it.
  Status Commit(const fs::path& path) {
    if (fd_ < 0) return Error(ErrorCode::kIo, "writing " + path.string());
    int err = named_.empty() ? LinkUnnamed(path) : RenameNamed(path);
    if (err == 0) committed_ = true;
    if (::close(std::exchange(fd_, -1)) != 0 && err == 0) {
      err = errno;
      ::unlink(path.c_str());
    }
    if (err != 0) return Error(ErrorCode::kIo, "storing " + path.string() + ": " + std::strerror(err));
    return Status::Ok();
  }

 private:
  // Runs `name` (0 or an errno) again once the folders of `path` are made, when they were missing.
  template <typename F>
  static int WithFolders(const fs::path& path, F name) {
    int err = name();
    if (err != ENOENT) return err;
    std::error_code ec;
    fs::create_directories(path.parent_path(), ec);
    return ec ? ec.value() : name();
  }
  int LinkUnnamed(const fs::path& path) const {
    const std::string self = "/proc/self/fd/" + std::to_string(fd_);
    auto link_as = [&](const fs::path& name) {
      return ::linkat(AT_FDCWD, self.c_str(), AT_FDCWD, name.c_str(), AT_SYMLINK_FOLLOW) == 0 ? 0 : errno;
    };
    const int err = WithFolders(path, [&] { return link_as(path); });
    if (err != EEXIST) return err;
    // The output exists (a run into the same folder again): a name beside it, renamed over it.
    const fs::path temp = TempName(path.parent_path());
    ::unlink(temp.c_str());  // left by a killed run of a process with this id, if any
    if (const int e = link_as(temp); e != 0) return e;
    if (::rename(temp.c_str(), path.c_str()) == 0) return 0;
    const int e = errno;
    ::unlink(temp.c_str());
    return e;
  }
  int RenameNamed(const fs::path& path) const {
    return WithFolders(path, [&] { return ::rename(named_.c_str(), path.c_str()) == 0 ? 0 : errno; });
  }

  int fd_ = -1;
  int open_errno_ = 0;
  fs::path named_;  // empty for an O_TMPFILE file
  bool committed_ = false;
};

// Writes `bytes` to `path` through a TempOutput: never a half-written output.
Status WriteAtomically(const fs::path& path, std::string_view bytes) {
  TempOutput out(path.parent_path().empty() ? fs::path(".") : path.parent_path());
  CALIPER_ASSIGN_OR_RETURN(const int fd, out.fd());
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Error(ErrorCode::kIo, "writing " + path.string() + ": " + std::strerror(errno));
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return out.Commit(path);
}

// The output path of one instance, relative to --out: named by its new UIDs only, so no
// input path (often holding names or record numbers) leaks into the output.
std::string OutputName(const dicom::DeidResult& r) {
  auto part = [](const std::string& uid, const char* none) { return uid.empty() ? std::string(none) : uid; };
  return (fs::path(r.quarantine ? "quarantine" : "") / part(r.study_uid, "no-study") /
          part(r.series_uid, "no-series") / (part(r.sop_instance_uid, "no-instance") + ".dcm"))
      .lexically_normal()
      .string();
}

struct Outcome {
  std::string line;
  bool error = false;
  bool quarantined = false;
};

// `text` as a JSON string; bytes that are not UTF-8 (a file name may hold any) become U+FFFD.
std::string JsonString(const std::string& text) {
  return ordered_json(text).dump(-1, ' ', false, ordered_json::error_handler_t::replace);
}

// One line of deid-report.jsonl (docs/deid-dicom.md), its fields in this order, written directly
// rather than built as a JSON object and dumped (a fifth of the instructions). `actions` is a JSON
// object (app::DeidActionsJson, or "{}"); a null `output` or `error` is written as null.
std::string ReportLine(const std::string& input, const std::string* output, std::string_view status,
                       bool burned_in_risk, std::string_view actions, const std::string* error) {
  std::string line = "{\"input\":" + JsonString(input);
  line += ",\"output\":";
  line += output != nullptr ? JsonString(*output) : "null";
  line += ",\"status\":\"";
  line += status;
  line += "\",\"burned_in_risk\":";
  line += burned_in_risk ? "true" : "false";
  line += ",\"actions\":";
  line += actions;
  line += ",\"error\":";
  line += error != nullptr ? JsonString(*error) : "null";
  line += '}';
  return line;
}

Outcome ProcessOne(const dicom::DicomDeidentifier& deid, const fs::path& file, const fs::path& in_root,
                   const fs::path& out_root) {
  const std::string input = file.lexically_relative(in_root).string();
  auto fail = [&](const Status& s) {
    const std::string error = s.ToString();
    return Outcome{ReportLine(input, nullptr, "error", false, "{}", &error), true, false};
  };
  TempOutput out(out_root);
  auto fd = out.fd();
  if (!fd.ok()) return fail(fd.status());
  auto result = deid.DeidentifyFileTo(file.string(), *fd);
  if (!result.ok()) return fail(result.status());
  const std::string name = OutputName(*result);
  if (Status s = out.Commit(out_root / name); !s.ok()) return fail(s);
  return Outcome{ReportLine(input, &name, result->quarantine ? "quarantined" : "ok",
                            result->burned_in_risk, app::DeidActionsJson(result->actions), nullptr),
                 false, result->quarantine};
}

int RunDeidDicom(const DeidDicomOptions& o) {
  std::error_code ec;
  const fs::path in_root = fs::weakly_canonical(o.in, ec);
  if (ec || !fs::is_directory(in_root)) {
    return Fail(Error(ErrorCode::kNotFound, "--in " + o.in + " is not a directory"));
  }
  fs::create_directories(o.out, ec);
  const fs::path out_root = fs::weakly_canonical(o.out, ec);
  if (ec || !fs::is_directory(out_root)) {
    return Fail(Error(ErrorCode::kIo, "--out " + o.out + " cannot be created"));
  }
  const auto [a, b] = std::mismatch(in_root.begin(), in_root.end(), out_root.begin(), out_root.end());
  if (a == in_root.end()) {
    return Fail(Error(ErrorCode::kInvalidArgument, "--out must not be inside --in"));
  }
  if (b == out_root.end()) {
    return Fail(Error(ErrorCode::kInvalidArgument, "--in must not be inside --out"));
  }

  auto options = dicom::DeidOptionsFromSpecs(o.options, o.safe_private, o.blank);
  if (!options.ok()) return Fail(options.status());
  auto key = LoadOrCreateKey(o.key_file);
  if (!key.ok()) return Fail(key.status());
  const security::Key subkey = security::DeriveSubkey(*key, "dicom-deid");
  auto deid = dicom::DicomDeidentifier::Create(
      std::move(options).value(), [subkey](std::string_view m) { return security::KeyedBlake2b(subkey, m); });
  if (!deid.ok()) return Fail(deid.status());

  std::vector<fs::path> files;
  for (auto it = fs::recursive_directory_iterator(in_root, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file()) files.push_back(it->path());
  }
  if (ec) return Fail(Error(ErrorCode::kIo, "listing " + o.in + ": " + ec.message()));
  std::sort(files.begin(), files.end());

  const int jobs = std::max(1, o.jobs > 0 ? o.jobs : static_cast<int>(std::thread::hardware_concurrency()));
  std::vector<Outcome> outcomes(files.size());
  std::atomic<std::size_t> next{0}, done{0}, errors{0}, quarantined{0};
  std::mutex progress_mutex;
  const bool tty = ::isatty(STDERR_FILENO) == 1;
  auto worker = [&] {
    for (std::size_t i; (i = next.fetch_add(1)) < files.size();) {
      outcomes[i] = ProcessOne(**deid, files[i], in_root, out_root);
      errors += outcomes[i].error;
      quarantined += outcomes[i].quarantined;
      const std::size_t n = ++done;
      if (tty && (n % 16 == 0 || n == files.size())) {
        std::lock_guard lock(progress_mutex);
        std::cerr << "\rcaliper: de-identified " << n << "/" << files.size() << " files ("
                  << quarantined << " quarantined, " << errors << " errors)" << std::flush;
      }
    }
  };
  std::vector<std::thread> threads;
  for (int t = 1; t < std::min<int>(jobs, static_cast<int>(files.size())); ++t) threads.emplace_back(worker);
  worker();
  for (std::thread& t : threads) t.join();
  if (tty && !files.empty()) std::cerr << "\n";

  std::string report;
  for (const Outcome& outcome : outcomes) report += outcome.line + "\n";
  if (Status s = WriteAtomically(out_root / "deid-report.jsonl", report); !s.ok()) return Fail(s);
  std::cerr << "caliper: " << files.size() << " files: " << files.size() - errors - quarantined
            << " ok, " << quarantined << " quarantined, " << errors << " errors; report in "
            << (out_root / "deid-report.jsonl").string() << "\n";
  return errors == 0 ? 0 : 1;
}

}  // namespace

void AddDicomDeidCommand(CLI::App& deid, int& exit_code) {
  auto options = std::make_shared<DeidDicomOptions>();  // shared: outlives this function with the callback
  auto* cmd = deid.add_subcommand(
      "dicom", "PS3.15 de-identification of every file under --in into --out, with a JSONL report");
  cmd->add_option("--in", options->in, "folder of DICOM files (searched recursively)")->required();
  cmd->add_option("--out", options->out, "output folder (created); not inside --in")->required();
  cmd->add_option("--key-file", options->key_file,
                  "project key (64 hex characters); created 0600 when absent")
      ->required();
  cmd->add_option("--options", options->options,
                  "comma-separated: retain-dates, retain-patient-characteristics, "
                  "retain-device-identity, clean-descriptors, retain-safe-private");
  cmd->add_option("--safe-private", options->safe_private,
                  "private element to keep, CREATOR:GGGG:EE (hex; repeatable)");
  cmd->add_option("--blank", options->blank,
                  "blank pixels MODALITY[/MANUFACTURER[/MODEL]]:X,Y,W,H (repeatable)");
  cmd->add_option("--jobs", options->jobs, "worker threads (default: one per core)");
  cmd->callback([options, &exit_code] { exit_code = RunDeidDicom(*options); });
}

}  // namespace caliper::cli

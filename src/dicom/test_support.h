#pragma once

// Helpers shared by the src/dicom tests: phantom series in memory, volumes built from them,
// and editing a file's dataset with DCMTK.

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <string>
#include <span>
#include <vector>

#include "caliper/dicom/phantom.h"
#include "caliper/dicom/volume.h"
#include "dicom/codecs.h"

namespace caliper::dicom::testing {

using Bytes = std::vector<std::uint8_t>;

inline std::vector<Bytes> Series(const CtPhantomOptions& o) {
  auto s = MakeCtPhantomSeries(o);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? *s : std::vector<Bytes>{};
}

inline Result<Volume> Build(const std::vector<Bytes>& files, const VolumeOptions& options = {}) {
  std::vector<std::span<const std::uint8_t>> spans(files.begin(), files.end());
  return BuildVolume(spans, options);
}

inline Volume MustBuild(const CtPhantomOptions& o) {
  auto v = Build(Series(o));
  EXPECT_TRUE(v.ok()) << v.status().ToString();
  return v.ok() ? *v : Volume{};
}

// Runs `body` in a child process whose address space may grow by `headroom` bytes at most (an
// allocation beyond it fails) and which is killed after `seconds`, and returns the child's exit
// code: `body`'s result, 3 when the child died (an uncaught std::bad_alloc, or killed when its
// time ran out), 4 when the limits could not be set, -1 when no child.
inline int InLimitedChild(const std::function<int()>& body, std::size_t headroom = std::size_t{512} << 20,
                          unsigned seconds = 60) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    std::size_t vm_kb = 0;
    std::ifstream status("/proc/self/status");
    for (std::string line; std::getline(status, line);) {
      if (line.rfind("VmSize:", 0) == 0) vm_kb = std::strtoull(line.c_str() + 7, nullptr, 10);
    }
    const rlim_t limit = vm_kb * 1024 + headroom;
    const rlimit r{limit, limit};
    if (vm_kb == 0 || ::setrlimit(RLIMIT_AS, &r) != 0) ::_exit(4);
    ::alarm(seconds);
    ::_exit(body());
  }
  if (pid < 0) return -1;
  int wstatus = 0;
  pid_t waited;
  while ((waited = ::waitpid(pid, &wstatus, 0)) < 0 && errno == EINTR) {
  }
  if (waited != pid) {
    ::kill(pid, SIGKILL);
    return -1;
  }
  return WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 3;
}

// The bytes of a Part 10 file after its preamble and file meta information (whose group length
// comes first): a bare data set, as DCMTK reads one, the syntax guessed from its first bytes.
template <typename Container>
Container BareDataSet(const Container& part10) {
  EXPECT_GE(part10.size(), 144u);
  if (part10.size() < 144) return {};
  const auto* b = reinterpret_cast<const std::uint8_t*>(part10.data());
  const std::size_t meta = b[140] | (b[141] << 8) | (b[142] << 16) | (std::size_t{b[143]} << 24);
  return Container(part10.begin() + static_cast<std::ptrdiff_t>(std::min(part10.size(), 144 + meta)), part10.end());
}

// Sets the 4-byte length right after the last `tag_and_header` in `bytes` to 0xF0FFFFFF (some
// 4 GB, in a file of a few KB).
template <typename Container>
Container WithForgedLength(Container bytes, const Bytes& tag_and_header) {
  auto at = std::find_end(bytes.begin(), bytes.end(), tag_and_header.begin(), tag_and_header.end(),
                          [](auto a, auto b) { return static_cast<std::uint8_t>(a) == b; });
  EXPECT_NE(at, bytes.end());
  if (at == bytes.end()) return bytes;
  const auto length_at = static_cast<std::size_t>(at - bytes.begin()) + tag_and_header.size();
  for (std::size_t i = 0; i < 4; ++i) bytes[length_at + i] = static_cast<typename Container::value_type>(i == 3 ? 0xF0 : 0xFF);
  return bytes;
}

// The tag of the element inside the sequence WithPrivateUnSequence adds (implicit VR: its
// 4-byte length follows).
inline const Bytes kUnSequenceInnerTag = {0x09, 0x00, 0x01, 0x10};

// An explicit VR little endian Part 10 file with a private sequence of VR UN and undefined length
// (DCMTK reads its content as implicit VR little endian) added before Patient's Name: a creator
// (0009,0010), then (0009,1000) UN holding one item with (0009,1001), 4 bytes.
template <typename Container>
Container WithPrivateUnSequence(const Container& part10) {
  const Bytes un_sequence = {
      0x09, 0x00, 0x10, 0x00, 'L', 'O', 8, 0, 'C', 'R', 'E', 'A', 'T', 'O', 'R', ' ',
      0x09, 0x00, 0x00, 0x10, 'U', 'N', 0, 0, 0xFF, 0xFF, 0xFF, 0xFF,
      0xFE, 0xFF, 0x00, 0xE0, 0xFF, 0xFF, 0xFF, 0xFF,
      0x09, 0x00, 0x01, 0x10, 0x04, 0x00, 0x00, 0x00, 'A', 'B', 'C', 'D',
      0xFE, 0xFF, 0x0D, 0xE0, 0, 0, 0, 0, 0xFE, 0xFF, 0xDD, 0xE0, 0, 0, 0, 0};
  const Bytes patient_name = {0x10, 0x00, 0x10, 0x00, 'P', 'N'};
  auto before = std::search(part10.begin(), part10.end(), patient_name.begin(), patient_name.end(),
                            [](auto a, auto b) { return static_cast<std::uint8_t>(a) == b; });
  EXPECT_NE(before, part10.end()) << "no Patient's Name in explicit VR";
  Container out(part10.begin(), before);
  out.insert(out.end(), un_sequence.begin(), un_sequence.end());
  out.insert(out.end(), before, part10.end());
  return out;
}

// Loads `bytes`, lets `change` edit the dataset, writes it back (explicit VR little endian).
inline Bytes Modify(const Bytes& bytes, const std::function<void(DcmDataset&)>& change) {
  DcmFileFormat file;
  EXPECT_TRUE(ReadDicom(bytes, file).ok());
  change(*file.getDataset());
  auto out = WriteDicom(file, EXS_LittleEndianExplicit);
  EXPECT_TRUE(out.ok()) << out.status().ToString();
  return out.ok() ? *out : Bytes{};
}

// One stored sample of the native YBR_FULL_422 cine below: c is 0 (Y, per pixel), 1 (Cb) or 2
// (Cr, per pair of pixels: the same for x and x ^ 1). Covers 0..255 in each.
inline std::uint8_t Ybr422Sample(int frame, int y, int x, int c) {
  if (c == 0) return static_cast<std::uint8_t>((x * 9 + y * 5 + frame * 17) % 256);
  const int pair = x / 2;
  return static_cast<std::uint8_t>(c == 1 ? (pair * 23 + y * 7 + frame * 3 + 40) % 256
                                          : (pair * 11 + y * 13 + frame * 29 + 90) % 256);
}

// The ultrasound cine phantom with its pixel data replaced by native YBR_FULL_422 (PS3.3
// C.7.6.3.1.2: Y1 Y2 Cb Cr for each pair of pixels in a row; `cols` even) from Ybr422Sample.
inline Bytes Ybr422Cine(int frames, int rows, int cols) {
  auto us = MakeUltrasoundCinePhantom(frames, rows, cols, /*ybr_planar=*/false, 3);
  EXPECT_TRUE(us.ok()) << us.status().ToString();
  EXPECT_EQ(cols % 2, 0);
  if (!us.ok()) return {};
  std::vector<Uint8> packed;
  for (int f = 0; f < frames; ++f) {
    for (int y = 0; y < rows; ++y) {
      for (int x = 0; x < cols; x += 2) {
        for (int s : {0, 1}) packed.push_back(Ybr422Sample(f, y, x + s, 0));
        for (int c : {1, 2}) packed.push_back(Ybr422Sample(f, y, x, c));
      }
    }
  }
  return Modify(*us, [&](DcmDataset& ds) {
    ds.putAndInsertString(DCM_PhotometricInterpretation, "YBR_FULL_422");
    ds.putAndInsertUint16(DCM_PlanarConfiguration, 0);
    ds.putAndInsertUint8Array(DCM_PixelData, packed.data(), static_cast<unsigned long>(packed.size()));
  });
}

// Native YBR_FULL_422 with an odd number of Columns (rows * cols even), its Y1 Y2 Cb Cr
// groups running on from one row into the next, as a writer that ignores rows stores them: a
// layout PS3.3 C.7.6.3.1.2 does not define (it pairs the pixels of each row).
inline Bytes Ybr422OddColumnsCine(int frames, int rows, int cols) {
  EXPECT_EQ(cols % 2, 1);
  EXPECT_EQ(rows % 2, 0);
  auto us = MakeUltrasoundCinePhantom(frames, rows, cols, /*ybr_planar=*/false, 3);
  EXPECT_TRUE(us.ok()) << us.status().ToString();
  if (!us.ok()) return {};
  std::vector<Uint8> packed(std::size_t(frames) * rows * cols * 2);
  for (std::size_t i = 0; i < packed.size(); ++i) packed[i] = static_cast<Uint8>(i % 4 < 2 ? i * 7 % 256 : 128);
  return Modify(*us, [&](DcmDataset& ds) {
    ds.putAndInsertString(DCM_PhotometricInterpretation, "YBR_FULL_422");
    ds.putAndInsertUint16(DCM_PlanarConfiguration, 0);
    ds.putAndInsertUint8Array(DCM_PixelData, packed.data(), static_cast<unsigned long>(packed.size()));
  });
}

}  // namespace caliper::dicom::testing

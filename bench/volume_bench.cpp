// Imaging benchmark: a 512 x 512 x 300 CT phantom series (our generator, explicit VR little
// endian, one file per slice in a temporary directory) is read from disk and built into a
// volume; then its first axial slice is rendered to PNG and the volume written as .nii.gz.
// With --peer, /usr/bin/python3 + pydicom + numpy (bench/volume_peer.py) builds the same
// volume from the same files (read, sort along the normal, stack, rescale) and the ratio is
// printed. Usage: caliper_bench_volume [--slices N] [--size N] [--repeat R] [--peer SCRIPT]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <unistd.h>

#include "caliper/dicom/phantom.h"
#include "caliper/dicom/render.h"
#include "caliper/dicom/volume.h"
#include "caliper/ingest/volume_nifti.h"

namespace {

using Clock = std::chrono::steady_clock;
double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

std::vector<std::uint8_t> ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::vector<std::uint8_t>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

int main(int argc, char** argv) {
  using namespace caliper;
  int slices = 300, size = 512, repeat = 3;
  std::string peer;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--slices")) slices = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--size")) size = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--repeat")) repeat = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--peer")) peer = argv[i + 1];
  }
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("caliper_bench_volume_" + std::to_string(::getpid()));
  dicom::CtPhantomOptions o;
  o.slices = slices;
  o.rows = o.cols = size;
  o.pixel_spacing_mm = 0.7;
  o.slice_thickness_mm = 1.0;
  o.seed = 1;
  auto t0 = Clock::now();
  if (auto s = dicom::WriteCtPhantomSeries(o, dir.string(), nullptr); !s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    return 1;
  }
  std::printf("generated %d x %d x %d CT series (%d files) in %.2f s\n", size, size, slices, slices,
              Seconds(t0, Clock::now()));

  double best_build = 1e9, best_render = 1e9, best_nifti = 1e9;
  std::size_t png_bytes = 0, nifti_bytes = 0;
  for (int r = 0; r < repeat; ++r) {
    const auto a = Clock::now();
    std::vector<std::vector<std::uint8_t>> files;
    for (const auto& e : fs::directory_iterator(dir)) files.push_back(ReadFile(e.path()));
    std::vector<std::span<const std::uint8_t>> spans(files.begin(), files.end());
    auto volume = dicom::BuildVolume(spans);
    const auto b = Clock::now();
    if (!volume.ok()) {
      std::fprintf(stderr, "%s\n", volume.status().ToString().c_str());
      return 1;
    }
    files.clear();
    auto png = dicom::RenderSlicePng(*volume, dicom::Plane::kAxial, 0, dicom::DefaultWindow(*volume));
    const auto c = Clock::now();
    auto nifti = ingest::VolumeToNifti(*volume);
    const auto d = Clock::now();
    if (!png.ok() || !nifti.ok()) return 1;
    png_bytes = png->size();
    nifti_bytes = nifti->size();
    best_build = std::min(best_build, Seconds(a, b));
    best_render = std::min(best_render, Seconds(b, c));
    best_nifti = std::min(best_nifti, Seconds(c, d));
  }
  std::printf("caliper: read + build volume      %.3f s (best of %d)\n", best_build, repeat);
  std::printf("caliper: render first axial slice %.4f s (%zu-byte PNG)\n", best_render, png_bytes);
  std::printf("caliper: volume -> .nii.gz        %.3f s (%zu bytes)\n", best_nifti, nifti_bytes);
  int rc = 0;
  if (!peer.empty()) {
    const fs::path out = dir / "peer.txt";
    const std::string cmd = "/usr/bin/python3 '" + peer + "' '" + dir.string() + "' " +
                            std::to_string(repeat) + " > '" + out.string() + "'";
    if (std::system(cmd.c_str()) != 0) {
      std::fprintf(stderr, "peer failed: %s\n", cmd.c_str());
      rc = 1;
    } else {
      std::ifstream in(out);
      double peer_seconds = 0;
      in >> peer_seconds;
      std::printf("pydicom+numpy: read + build volume %.3f s (best of %d)\n", peer_seconds, repeat);
      std::printf("ratio (pydicom / caliper): %.2fx\n", peer_seconds / best_build);
    }
  }
  fs::remove_all(dir);
  return rc;
}

// The peer of Caliper's STAPLE in bench/quality_bench.sh: ITK's itk::STAPLEImageFilter on the
// masks caliper_bench_quality wrote, then the Dice between ITK's and Caliper's consensus maps
// thresholded at 0.5.
//
//   caliper_bench_staple_itk DIR RATERS SIDE
//
// Reads DIR/rater<r>.u8 (SIDE^3 voxels, x fastest) and DIR/caliper_consensus.f32. Prints
// human-readable lines and "RESULT <name> <value>" lines. Built only when CMake finds ITK.

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include <itkImage.h>
#include <itkImageRegionConstIterator.h>
#include <itkImportImageFilter.h>
#include <itkSTAPLEImageFilter.h>

namespace {

using MaskImage = itk::Image<unsigned char, 3>;
using ProbabilityImage = itk::Image<double, 3>;

template <typename T>
bool ReadRaw(const std::string& path, std::vector<T>& out) {
  std::ifstream in(path, std::ios::binary);
  in.read(reinterpret_cast<char*>(out.data()), static_cast<std::streamsize>(out.size() * sizeof(T)));
  return static_cast<bool>(in);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: caliper_bench_staple_itk DIR RATERS SIDE\n");
    return 2;
  }
  const std::string dir = argv[1];
  const int raters = std::stoi(argv[2]);
  const itk::SizeValueType side = std::stoul(argv[3]);
  const std::size_t n = side * side * side;

  std::vector<std::vector<unsigned char>> masks(raters, std::vector<unsigned char>(n));
  auto staple = itk::STAPLEImageFilter<MaskImage, ProbabilityImage>::New();
  staple->SetForegroundValue(1);
  std::vector<MaskImage::Pointer> images;
  for (int r = 0; r < raters; ++r) {
    if (!ReadRaw(dir + "/rater" + std::to_string(r) + ".u8", masks[r])) {
      std::fprintf(stderr, "cannot read rater %d\n", r);
      return 1;
    }
    auto import = itk::ImportImageFilter<unsigned char, 3>::New();
    MaskImage::RegionType region;
    region.SetSize({side, side, side});
    import->SetRegion(region);
    import->SetImportPointer(masks[r].data(), n, false);
    import->Update();
    images.push_back(import->GetOutput());
    staple->SetInput(r, images.back());
  }
  const auto start = std::chrono::steady_clock::now();
  staple->Update();
  const std::chrono::duration<double> seconds = std::chrono::steady_clock::now() - start;
  std::printf("itk      STAPLEImageFilter %lu^3 x %d raters: %.3f s, %u iterations\n", side,
              raters, seconds.count(), staple->GetElapsedIterations());
  for (int r = 0; r < raters; ++r) {
    std::printf("itk        rater %d: sensitivity %.6f specificity %.8f\n", r,
                staple->GetSensitivity(r), staple->GetSpecificity(r));
  }

  std::vector<float> caliper(n);
  if (!ReadRaw(dir + "/caliper_consensus.f32", caliper)) {
    std::fprintf(stderr, "cannot read caliper_consensus.f32\n");
    return 1;
  }
  itk::ImageRegionConstIterator<ProbabilityImage> it(staple->GetOutput(),
                                                     staple->GetOutput()->GetLargestPossibleRegion());
  std::size_t both = 0, itk_count = 0, caliper_count = 0, i = 0;
  double max_difference = 0;
  for (it.GoToBegin(); !it.IsAtEnd(); ++it, ++i) {
    const bool a = it.Get() >= 0.5, b = caliper[i] >= 0.5f;
    itk_count += a;
    caliper_count += b;
    both += a && b;
    max_difference = std::max(max_difference, std::abs(it.Get() - caliper[i]));
  }
  const double dice = 2.0 * both / static_cast<double>(itk_count + caliper_count);
  std::printf("itk      consensus >= 0.5: %zu voxels (caliper %zu); Dice %.6f; max |W_itk - W_caliper| %.3g\n",
              itk_count, caliper_count, dice, max_difference);
  std::printf("RESULT itk_staple_s %.9g\nRESULT itk_iterations %u\nRESULT staple_dice %.9g\n",
              seconds.count(), staple->GetElapsedIterations(), dice);
  return 0;
}

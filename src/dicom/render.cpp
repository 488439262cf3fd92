#include "caliper/dicom/render.h"

#include <algorithm>
#include <array>
#include <cmath>

#include "dicom/png.h"

namespace caliper::dicom {
namespace {

constexpr WindowPreset kPresets[] = {
    {"ct-brain", "CT", 40, 80, "brain parenchyma"},
    {"ct-subdural", "CT", 75, 215, "subdural and extra-axial blood"},
    {"ct-stroke", "CT", 40, 40, "early ischaemia (grey/white contrast)"},
    {"ct-lung", "CT", -600, 1500, "lung parenchyma"},
    {"ct-mediastinum", "CT", 50, 350, "mediastinum, vessels"},
    {"ct-abdomen", "CT", 40, 400, "abdominal soft tissue (the CT default)"},
    {"ct-liver", "CT", 60, 160, "liver lesions"},
    {"ct-bone", "CT", 400, 1800, "bone"},
    {"mr-auto", "", 0, 0, "1st to 99th percentile of the volume (MR, PET, any non-CT)"},
};

// Which voxel axis lies nearest each patient axis (LPS x, y, z), and whether the voxel index
// grows along that patient axis (+1) or against it (-1).
struct AxisMap {
  std::array<int, 3> axis{0, 1, 2};
  std::array<int, 3> sign{1, 1, 1};
  std::array<double, 3> spacing{1, 1, 1};  // mm per voxel step along each voxel axis
};

AxisMap MapAxes(const Volume& v) {
  AxisMap m;
  std::array<std::array<double, 3>, 3> cols{};
  for (int a = 0; a < 3; ++a) {
    double len = 0;
    for (int r = 0; r < 3; ++r) {
      cols[a][r] = v.lps[r][a];
      len += cols[a][r] * cols[a][r];
    }
    m.spacing[a] = len > 0 ? std::sqrt(len) : 1;
  }
  // Greedy: take the largest |component| first, so a permutation always results.
  std::array<bool, 3> voxel_used{}, patient_used{};
  for (int round = 0; round < 3; ++round) {
    int best_a = -1, best_p = -1;
    double best = -1;
    for (int a = 0; a < 3; ++a) {
      for (int p = 0; p < 3; ++p) {
        if (!voxel_used[a] && !patient_used[p] && std::abs(cols[a][p]) > best) {
          best = std::abs(cols[a][p]);
          best_a = a;
          best_p = p;
        }
      }
    }
    voxel_used[best_a] = patient_used[best_p] = true;
    m.axis[best_p] = best_a;
    m.sign[best_p] = cols[best_a][best_p] >= 0 ? 1 : -1;
  }
  return m;
}

// A screen direction: patient axis (0 x, 1 y, 2 z of LPS) and whether it runs along +LPS.
struct Direction {
  int patient;
  int dir;
};
struct PlaneLayout {
  Direction u, v, n;  // image columns (left to right), rows (top to bottom), slice index
};

PlaneLayout LayoutOf(Plane plane) {
  switch (plane) {
    case Plane::kAxial:  // from the feet: R on the left (+x to the right), A at the top
      return {{0, 1}, {1, 1}, {2, 1}};
    case Plane::kCoronal:  // from the front: R on the left, S at the top; index towards A
      return {{0, 1}, {2, -1}, {1, -1}};
    case Plane::kSagittal:  // from the left: A on the left, S at the top; index towards L
      return {{1, 1}, {2, -1}, {0, 1}};
  }
  return {{0, 1}, {1, 1}, {2, 1}};
}

std::uint8_t Grey(float value, const Window& w) {
  // PS3.3 C.11.2.1.2.1, the linear VOI function, to 0..255.
  const double width = std::max(w.width, 1.0);
  const double y = ((value - (w.center - 0.5)) / (width - 1.0 > 0 ? width - 1.0 : 1.0) + 0.5) * 255.0;
  return static_cast<std::uint8_t>(std::lround(std::clamp(y, 0.0, 255.0)));
}

}  // namespace

Result<Plane> ParsePlane(std::string_view name) {
  if (name == "axial") return Plane::kAxial;
  if (name == "coronal") return Plane::kCoronal;
  if (name == "sagittal") return Plane::kSagittal;
  return Error(ErrorCode::kInvalidArgument,
               "unknown plane '" + std::string(name) + "' (axial, coronal or sagittal)");
}

std::string_view PlaneName(Plane plane) {
  switch (plane) {
    case Plane::kAxial:
      return "axial";
    case Plane::kCoronal:
      return "coronal";
    case Plane::kSagittal:
      return "sagittal";
  }
  return "axial";
}

std::span<const WindowPreset> WindowPresets() { return kPresets; }

namespace {

// The window between the 1st and 99th percentile of `values` (width >= 1).
Window PercentileWindow(std::span<const float> values) {
  if (values.empty()) return {};
  // A strided sample of at most ~1M values keeps this fast on big volumes.
  const std::size_t stride = std::max<std::size_t>(1, values.size() / (1u << 20));
  std::vector<float> sample;
  sample.reserve(values.size() / stride + 1);
  for (std::size_t i = 0; i < values.size(); i += stride) sample.push_back(values[i]);
  auto percentile = [&](double q) {
    const std::size_t at = static_cast<std::size_t>(q * (sample.size() - 1));
    std::nth_element(sample.begin(), sample.begin() + static_cast<std::ptrdiff_t>(at), sample.end());
    return static_cast<double>(sample[at]);
  };
  const double lo = percentile(0.01);
  const double hi = percentile(0.99);
  return {(lo + hi) / 2.0, std::max(hi - lo, 1.0)};
}

}  // namespace

Window AutoWindow(const Volume& volume) { return PercentileWindow(volume.values); }

Result<Window> PresetWindow(std::string_view name, const Volume& volume) {
  for (const WindowPreset& p : kPresets) {
    if (p.name == name) {
      if (p.width <= 0) return AutoWindow(volume);
      return Window{p.center, p.width};
    }
  }
  std::string names;
  for (const WindowPreset& p : kPresets) names += (names.empty() ? "" : ", ") + std::string(p.name);
  return Error(ErrorCode::kInvalidArgument,
               "unknown window preset '" + std::string(name) + "' (" + names + ")");
}

Window DefaultWindow(const Volume& volume) {
  if (volume.window_center && volume.window_width && *volume.window_width > 0) {
    return {*volume.window_center, *volume.window_width};
  }
  if (volume.modality == "CT") return {40, 400};
  return AutoWindow(volume);
}

int SliceCount(const Volume& volume, Plane plane) {
  const AxisMap m = MapAxes(volume);
  return volume.dims[m.axis[LayoutOf(plane).n.patient]];
}

Result<SliceImage> RenderSlice(const Volume& volume, Plane plane, int index, const Window& window,
                               const RenderOptions& options) {
  if (volume.values.empty() ||
      volume.values.size() != static_cast<std::size_t>(volume.dims[0]) * volume.dims[1] * volume.dims[2]) {
    return Error(ErrorCode::kInvalidArgument, "empty or inconsistent volume");
  }
  if (!(window.width > 0)) return Error(ErrorCode::kInvalidArgument, "window width must be positive");
  const AxisMap m = MapAxes(volume);
  const PlaneLayout layout = LayoutOf(plane);
  const int axis_u = m.axis[layout.u.patient], axis_v = m.axis[layout.v.patient];
  const int axis_n = m.axis[layout.n.patient];
  const int nu = volume.dims[axis_u], nv = volume.dims[axis_v], nn = volume.dims[axis_n];
  if (index < 0 || index >= nn) {
    return Error(ErrorCode::kInvalidArgument, "slice " + std::to_string(index) + " is outside 0.." +
                                                  std::to_string(nn - 1) + " of the " +
                                                  std::string(PlaneName(plane)) + " plane");
  }
  // Screen coordinate t (0..n-1) -> voxel index along the voxel axis.
  auto voxel = [&](const Direction& d, int t, int n) {
    return m.sign[d.patient] * d.dir > 0 ? t : n - 1 - t;
  };
  const double su = m.spacing[axis_u], sv = m.spacing[axis_v];
  SliceImage out;
  out.width = nu;
  out.height = nv;
  if (options.square_pixels) {
    const double s = std::min(su, sv);
    out.width = std::max(1, static_cast<int>(std::lround(nu * su / s)));
    out.height = std::max(1, static_cast<int>(std::lround(nv * sv / s)));
  }
  out.pixel_width_mm = nu * su / out.width;
  out.pixel_height_mm = nv * sv / out.height;
  out.grey.resize(static_cast<std::size_t>(out.width) * out.height);

  std::array<int, 3> ijk{};
  ijk[axis_n] = voxel(layout.n, index, nn);
  std::vector<int> source_u(out.width);
  for (int x = 0; x < out.width; ++x) {
    const int t = std::min(nu - 1, static_cast<int>((x + 0.5) * nu / out.width));
    source_u[x] = voxel(layout.u, t, nu);
  }
  for (int y = 0; y < out.height; ++y) {
    const int t = std::min(nv - 1, static_cast<int>((y + 0.5) * nv / out.height));
    ijk[axis_v] = voxel(layout.v, t, nv);
    std::uint8_t* row = out.grey.data() + static_cast<std::size_t>(y) * out.width;
    for (int x = 0; x < out.width; ++x) {
      ijk[axis_u] = source_u[x];
      row[x] = Grey(volume.At(ijk[0], ijk[1], ijk[2]), window);
    }
  }
  return out;
}

Result<std::vector<std::uint8_t>> RenderSlicePng(const Volume& volume, Plane plane, int index,
                                                 const Window& window, const RenderOptions& options) {
  CALIPER_ASSIGN_OR_RETURN(SliceImage slice, RenderSlice(volume, plane, index, window, options));
  PngImage image;
  image.width = slice.width;
  image.height = slice.height;
  image.channels = 1;
  image.pixels = std::move(slice.grey);
  return EncodePng(image);
}

Result<std::vector<std::uint8_t>> RenderFramePng(const DecodedImage& image, int frame) {
  if (frame < 0 || frame >= image.frames) {
    return Error(ErrorCode::kInvalidArgument, "frame " + std::to_string(frame) + " is outside 0.." +
                                                  std::to_string(image.frames - 1));
  }
  if (image.rows <= 0 || image.columns <= 0 || image.values.size() < image.FrameSize() * (frame + 1)) {
    return Error(ErrorCode::kInvalidArgument, "the image holds no such frame");
  }
  const std::span<const float> values = image.Frame(frame);
  PngImage png;
  png.width = image.columns;
  png.height = image.rows;
  png.channels = image.samples_per_pixel == 3 ? 3 : 1;
  png.pixels.resize(values.size());
  if (png.channels == 3) {
    std::transform(values.begin(), values.end(), png.pixels.begin(),
                   [](float v) { return static_cast<std::uint8_t>(std::clamp(std::lround(v), 0L, 255L)); });
  } else {
    Window window = PercentileWindow(values);
    if (image.window_center && image.window_width && *image.window_width > 0) {
      window = {*image.window_center, *image.window_width};
    }
    const bool invert = image.kind == PixelKind::kMonochrome1;
    std::transform(values.begin(), values.end(), png.pixels.begin(), [&](float v) {
      const std::uint8_t g = Grey(v, window);
      return invert ? static_cast<std::uint8_t>(255 - g) : g;
    });
  }
  return EncodePng(png);
}

}  // namespace caliper::dicom

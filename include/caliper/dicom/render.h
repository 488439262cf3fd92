#pragma once

// Rendering one slice of a Volume as an 8-bit greyscale PNG with a window (PS3.3 C.11.2.1.2).
// Display convention (docs/imaging.md), the radiological one, as RAS viewers show it:
//  - axial: seen from the feet: patient's right on the image's left, anterior at the top;
//  - coronal: seen from the front: patient's right on the image's left, superior at the top;
//  - sagittal: seen from the patient's left: anterior on the image's left, superior at the top.
// Slice index 0 is the most inferior (axial), most posterior
// (coronal) and most right (sagittal) slice; indices grow towards superior, anterior, left.
// The voxel axis nearest each patient axis is used (a tilted or oblique volume shows its voxel
// planes, not resampled patient planes). Pixels are made square (nearest neighbour along the
// coarser axis) unless RenderOptions says otherwise; SliceImage reports the pixel size.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "caliper/common/status.h"
#include "caliper/dicom/image.h"
#include "caliper/dicom/volume.h"

namespace caliper::dicom {

enum class Plane { kAxial, kCoronal, kSagittal };

// "axial", "coronal", "sagittal" <-> Plane. ParsePlane: kInvalidArgument for anything else.
Result<Plane> ParsePlane(std::string_view name);
std::string_view PlaneName(Plane plane);

struct Window {
  double center = 40;
  double width = 400;  // > 0
};

// A named window. CT presets are fixed values; "mr-auto" (and any modality other than CT) is
// computed from the volume's 1st and 99th percentiles.
struct WindowPreset {
  std::string_view name;
  std::string_view modality;  // "CT", or "" for any
  double center;
  double width;
  std::string_view use;
};
// The table (docs/imaging.md repeats it): ct-brain 40/80, ct-subdural 75/215, ct-stroke 40/40,
// ct-lung -600/1500, ct-mediastinum 50/350, ct-abdomen 40/400, ct-liver 60/160, ct-bone
// 400/1800.
std::span<const WindowPreset> WindowPresets();

// The window of preset `name` for `volume`. Errors: kInvalidArgument for an unknown name.
Result<Window> PresetWindow(std::string_view name, const Volume& volume);

// The window between the 1st and 99th percentile of the volume's values (width >= 1).
Window AutoWindow(const Volume& volume);

// The window a viewer opens with: the series' own (Window Center/Width) when it has one, else
// ct-abdomen for CT, else AutoWindow.
Window DefaultWindow(const Volume& volume);

struct RenderOptions {
  bool square_pixels = true;  // resample the coarser axis so that pixels are square
};

struct SliceImage {
  int width = 0;
  int height = 0;
  std::vector<std::uint8_t> grey;  // row by row, top to bottom
  double pixel_width_mm = 0;       // size of one output pixel in the patient
  double pixel_height_mm = 0;
};

// Number of slices of `volume` in `plane`.
int SliceCount(const Volume& volume, Plane plane);

// Renders slice `index` (0 .. SliceCount-1). Errors: kInvalidArgument for an index out of
// range, a window width <= 0, or an empty volume.
Result<SliceImage> RenderSlice(const Volume& volume, Plane plane, int index, const Window& window,
                               const RenderOptions& options = {});

// RenderSlice as PNG bytes.
Result<std::vector<std::uint8_t>> RenderSlicePng(const Volume& volume, Plane plane, int index,
                                                 const Window& window,
                                                 const RenderOptions& options = {});

// Frame `frame` (from 0) of one decoded instance as a PNG, as stored: rows top to bottom and
// columns left to right as in Pixel Data — the coordinates blanking rectangles use (PixelRect),
// not a patient orientation. Grey through the instance's own window, else its frame's 1st to
// 99th percentile (MONOCHROME1 inverted); colour as RGB (clamped to 0..255). For pixel review.
// Errors: kInvalidArgument for a frame outside the image.
Result<std::vector<std::uint8_t>> RenderFramePng(const DecodedImage& image, int frame);

}  // namespace caliper::dicom

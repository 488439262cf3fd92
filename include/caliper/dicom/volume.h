#pragma once

// Building a 3D volume from the instances of one DICOM series, with its geometry. No DCMTK type
// appears here. Conventions (docs/imaging.md):
//  - voxel index (i, j, k): i = column, j = row of a slice, k = slice in ascending order along
//    the slice normal n = row direction x column direction (PS3.3 C.7.6.2.1.1);
//  - `lps` maps (i, j, k, 1) to patient coordinates in mm, DICOM's LPS (+x left, +y posterior,
//    +z superior); `RasAffine` gives NIfTI's RAS (x and y negated), voxel data unchanged.
// A series that is not one regular stack (gaps, irregular spacing, duplicate positions, mixed
// orientations, sizes, series or frames of reference) is refused with every problem named;
// nothing is fused silently. A gantry tilt is kept exactly as a sheared affine (no resampling)
// and reported as a warning. Thread-safe (no shared state).

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "caliper/common/status.h"
#include "caliper/dicom/image.h"

namespace caliper::dicom {

using Affine = std::array<std::array<double, 4>, 4>;  // row-major, last row 0 0 0 1

// Where slice k came from: an instance, and the frame (1-based) inside it.
struct SliceSource {
  std::string sop_class_uid;
  std::string sop_instance_uid;
  int frame = 1;
};

struct Volume {
  std::array<int, 3> dims{0, 0, 0};            // columns, rows, slices
  std::array<double, 3> spacing_mm{0, 0, 0};   // between columns, rows, slices (along n)
  Affine lps{};
  std::vector<float> values;  // modality values (e.g. HU), i fastest, then j, then k
  std::string modality;
  std::string body_part_examined;
  std::string study_instance_uid;
  std::string series_instance_uid;
  std::string frame_of_reference_uid;
  std::optional<double> window_center;  // from the first slice, if it has one
  std::optional<double> window_width;
  std::vector<SliceSource> slices;  // one per k
  double gantry_tilt_deg = 0;       // angle between the stacking direction and n
  std::vector<std::string> warnings;

  std::size_t Index(int i, int j, int k) const {
    return (static_cast<std::size_t>(k) * dims[1] + j) * dims[0] + i;
  }
  float At(int i, int j, int k) const { return values[Index(i, j, k)]; }
  Affine RasAffine() const;
};

struct VolumeOptions {
  // A step between neighbouring slices may differ from the median step by this fraction.
  double spacing_tolerance = 0.05;
  // Direction cosines of all slices may differ by this much (per component).
  double orientation_tolerance = 1e-3;
  // A stack tilted against its normal (gantry tilt) builds with a sheared affine and a
  // warning; false makes it an error.
  bool allow_gantry_tilt = true;
  DecodeLimits limits;
};

// Decodes every instance (each may hold several frames) and stacks the frames. Errors:
// kInvalidArgument naming the instance (0-based index in `instances`) for one that does not
// decode, and listing every geometry problem for a set that is not one regular stack;
// kUnsupported for colour images.
Result<Volume> BuildVolume(std::span<const std::span<const std::uint8_t>> instances,
                           const VolumeOptions& options = {});

// As BuildVolume, from images already decoded (consumed).
Result<Volume> BuildVolumeFromImages(std::vector<DecodedImage> images,
                                     const VolumeOptions& options = {});

// Whether one more instance can join a series' volume, checked as it arrives (ingest refuses
// one that cannot, docs/imaging.md "An inconsistent series"). Holds the geometry of the
// instances accepted so far (no pixel values); the first sets the reference. An instance fits
// when every frame has the reference's rows and columns, is greyscale or colour alike, has the
// same Frame of Reference UID, has Image Position/Orientation (Patient) and Pixel Spacing when
// the reference has them (and none when it has none), an orientation within
// `orientation_tolerance` and a Pixel Spacing within 0.1 % of the reference's (BuildVolume's
// tolerances), and a position on the line of the positions so far (within BuildVolume's
// tolerance for positions, from the smallest step between them; the line is known once two
// positions differ along the normal, and it may lean against the normal: gantry tilt). What
// only more instances can settle — a gap, irregular spacing, several instances at one position —
// is not checked: BuildVolume reports it.
class SeriesGeometry {
 public:
  explicit SeriesGeometry(VolumeOptions options = {}) : options_(std::move(options)) {}
  // Adds `image` (decoded; its values are not looked at) when it fits; otherwise kInvalidArgument
  // saying what differs, e.g. "256x256, the series is 512x512", and nothing is added.
  Status Add(const DecodedImage& image);
  bool empty() const { return !reference_; }
  // Whether the line of positions is known (or the series has no positions), so that more
  // instances of the series would not change what Add accepts but for the step's tolerance.
  bool settled() const;

 private:
  struct Reference {
    int rows = 0, columns = 0;
    bool colour = false;
    std::string frame_of_reference_uid;
    bool geometry = false;  // position, orientation and spacing present
    std::array<double, 6> orientation{};
    std::array<double, 2> spacing{};
    std::array<double, 3> normal{};
  };
  Status AddFrame(const DecodedImage& image, int frame);

  VolumeOptions options_;
  std::optional<Reference> reference_;
  std::vector<std::array<double, 3>> positions_;  // of the frames so far (with geometry)
};

// A key on which images of one series agree when they share size, colour, Frame of Reference,
// geometry presence, orientation (to 1e-2) and Pixel Spacing (to 1e-3 mm): ingest starts a new
// series' geometry from an image of the most common key, so one odd file is the one refused
// whatever the order of the files.
std::string SeriesGeometryKey(const DecodedImage& image);

// `a` applied to (i, j, k, 1).
std::array<double, 3> Apply(const Affine& a, double i, double j, double k);

// LPS <-> RAS: negate the first two rows.
Affine LpsToRas(const Affine& lps);

}  // namespace caliper::dicom

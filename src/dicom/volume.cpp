#include "caliper/dicom/volume.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <set>

namespace caliper::dicom {
namespace {

using Vec3 = std::array<double, 3>;

double Dot(const Vec3& a, const Vec3& b) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }
Vec3 Cross(const Vec3& a, const Vec3& b) {
  return {a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]};
}
Vec3 Sub(const Vec3& a, const Vec3& b) { return {a[0] - b[0], a[1] - b[1], a[2] - b[2]}; }
double Norm(const Vec3& a) { return std::sqrt(Dot(a, a)); }

std::string Mm(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", v);
  return buf;
}

// One frame of one decoded image, with the geometry it needs.
struct Plane {
  std::size_t image = 0;  // index into the images
  int frame = 0;          // 0-based
  Vec3 position{};
  double along = 0;       // position . n
};

std::string Join(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : "; ") + p;
  return out;
}

}  // namespace

std::array<double, 3> Apply(const Affine& a, double i, double j, double k) {
  std::array<double, 3> out{};
  for (int r = 0; r < 3; ++r) out[r] = a[r][0] * i + a[r][1] * j + a[r][2] * k + a[r][3];
  return out;
}

Affine LpsToRas(const Affine& lps) {
  Affine ras = lps;
  for (int c = 0; c < 4; ++c) {
    ras[0][c] = -lps[0][c];
    ras[1][c] = -lps[1][c];
  }
  return ras;
}

Affine Volume::RasAffine() const { return LpsToRas(lps); }

Result<Volume> BuildVolume(std::span<const std::span<const std::uint8_t>> instances,
                           const VolumeOptions& options) {
  std::vector<DecodedImage> images;
  images.reserve(instances.size());
  for (std::size_t n = 0; n < instances.size(); ++n) {
    auto image = DecodeImage(instances[n], options.limits);
    if (!image.ok()) {
      return Status(image.status().code(),
                    "instance " + std::to_string(n) + ": " + image.status().message());
    }
    images.push_back(std::move(image).value());
  }
  return BuildVolumeFromImages(std::move(images), options);
}

Result<Volume> BuildVolumeFromImages(std::vector<DecodedImage> images,
                                     const VolumeOptions& options) {
  if (images.empty()) return Error(ErrorCode::kInvalidArgument, "no instances to build a volume");
  const DecodedImage& first = images[0];
  std::vector<std::string> problems;
  std::set<std::string> series, frames_of_reference;

  // Per-instance checks: colour, size, identity.
  for (std::size_t n = 0; n < images.size(); ++n) {
    const DecodedImage& im = images[n];
    if (im.kind == PixelKind::kRgb) {
      return Error(ErrorCode::kUnsupported,
                   "instance " + std::to_string(n) +
                       " is a colour image; volumes are built from greyscale series");
    }
    if (im.rows != first.rows || im.columns != first.columns) {
      problems.push_back("inconsistent dimensions: instance " + std::to_string(n) + " is " +
                         std::to_string(im.columns) + "x" + std::to_string(im.rows) +
                         ", instance 0 is " + std::to_string(first.columns) + "x" +
                         std::to_string(first.rows));
    }
    series.insert(im.series_instance_uid);
    frames_of_reference.insert(im.frame_of_reference_uid);
  }
  if (series.size() > 1) {
    problems.push_back("instances from " + std::to_string(series.size()) +
                       " different series (Series Instance UID)");
  }
  if (frames_of_reference.size() > 1) {
    problems.push_back("instances in " + std::to_string(frames_of_reference.size()) +
                       " frames of reference");
  }

  // Every frame needs position, orientation and spacing; all must agree on the latter two.
  std::vector<Plane> planes;
  std::optional<std::array<double, 6>> orientation;
  std::optional<std::array<double, 2>> spacing;
  bool mixed_orientation = false, mixed_spacing = false;
  for (std::size_t n = 0; n < images.size(); ++n) {
    for (int f = 0; f < images[n].frames; ++f) {
      const FrameGeometry& g = images[n].frame_geometry[f];
      const std::string where =
          "instance " + std::to_string(n) + (images[n].frames > 1 ? " frame " + std::to_string(f + 1) : "");
      if (!g.position || !g.orientation || !g.pixel_spacing) {
        problems.push_back(where + " lacks Image Position/Orientation (Patient) or Pixel Spacing");
        continue;
      }
      if (!orientation) orientation = g.orientation;
      if (!spacing) spacing = g.pixel_spacing;
      for (int c = 0; c < 6; ++c) {
        if (std::abs((*g.orientation)[c] - (*orientation)[c]) > options.orientation_tolerance) {
          mixed_orientation = true;
        }
      }
      for (int c = 0; c < 2; ++c) {
        if (std::abs((*g.pixel_spacing)[c] - (*spacing)[c]) > 1e-3 * (*spacing)[c]) mixed_spacing = true;
      }
      planes.push_back({n, f, *g.position, 0});
    }
  }
  if (mixed_orientation) problems.push_back("mixed orientations (Image Orientation (Patient) differs between slices)");
  if (mixed_spacing) problems.push_back("mixed in-plane Pixel Spacing");
  if (!problems.empty() || !orientation) {
    return Error(ErrorCode::kInvalidArgument, "cannot build a volume: " + Join(problems));
  }
  if (!((*spacing)[0] > 0 && (*spacing)[1] > 0)) {
    return Error(ErrorCode::kInvalidArgument, "cannot build a volume: Pixel Spacing must be positive");
  }

  const Vec3 row_dir{(*orientation)[0], (*orientation)[1], (*orientation)[2]};
  const Vec3 col_dir{(*orientation)[3], (*orientation)[4], (*orientation)[5]};
  Vec3 normal = Cross(row_dir, col_dir);
  const double normal_len = Norm(normal);
  if (!(normal_len > 0.5) || std::abs(Dot(row_dir, col_dir)) > 1e-2) {
    return Error(ErrorCode::kInvalidArgument,
                 "cannot build a volume: Image Orientation (Patient) is not two orthogonal unit vectors");
  }
  for (double& v : normal) v /= normal_len;
  for (Plane& p : planes) p.along = Dot(p.position, normal);
  std::stable_sort(planes.begin(), planes.end(),
                   [](const Plane& a, const Plane& b) { return a.along < b.along; });

  Volume volume;
  const int slices = static_cast<int>(planes.size());
  double step_along = 0;
  Vec3 step{};
  if (slices == 1) {
    const auto& g = images[planes[0].image].frame_geometry[planes[0].frame];
    step_along = g.slice_thickness.value_or(1.0);
    if (!(step_along > 0)) step_along = 1.0;
    step = {normal[0] * step_along, normal[1] * step_along, normal[2] * step_along};
    volume.warnings.push_back("a single slice: its thickness (" + Mm(step_along) +
                              " mm) is taken as the slice spacing");
  } else {
    std::vector<double> steps;
    for (int k = 1; k < slices; ++k) steps.push_back(planes[k].along - planes[k - 1].along);
    std::vector<double> sorted = steps;
    std::nth_element(sorted.begin(), sorted.begin() + sorted.size() / 2, sorted.end());
    const double median = sorted[sorted.size() / 2];
    const double tolerance = std::max(options.spacing_tolerance * median, 1e-3);
    int duplicates = 0;
    std::vector<std::string> gaps, irregular;
    for (int k = 1; k < slices; ++k) {
      const double s = steps[k - 1];
      if (s < 1e-3 || median < 1e-3) {
        ++duplicates;
        continue;
      }
      if (std::abs(s - median) <= tolerance) continue;
      const double ratio = s / median;
      const double whole = std::round(ratio);
      const std::string between = " between " + Mm(planes[k - 1].along) + " and " +
                                  Mm(planes[k].along) + " mm along the normal";
      if (whole >= 2 && std::abs(s - whole * median) <= tolerance) {
        gaps.push_back(std::to_string(static_cast<int>(whole) - 1) + " missing slice(s)" + between);
      } else {
        irregular.push_back("a step of " + Mm(s) + " mm" + between);
      }
    }
    if (duplicates > 0) {
      problems.push_back(std::to_string(duplicates) +
                         " slice(s) share a position with another (several acquisitions, echoes or "
                         "time points in one series?)");
    }
    if (!gaps.empty()) {
      problems.push_back("gap: " + Join(gaps) + " (regular step " + Mm(median) + " mm)");
    }
    if (!irregular.empty()) {
      problems.push_back("irregular slice spacing: " + Join(irregular) + " (median step " +
                         Mm(median) + " mm)");
    }
    // The positions must lie on one line; its direction may lean against n (gantry tilt).
    const Vec3 span = Sub(planes.back().position, planes.front().position);
    step = {span[0] / (slices - 1), span[1] / (slices - 1), span[2] / (slices - 1)};
    step_along = Dot(step, normal);
    if (problems.empty()) {
      double worst = 0;
      for (int k = 0; k < slices; ++k) {
        const Vec3 expected{planes[0].position[0] + k * step[0], planes[0].position[1] + k * step[1],
                            planes[0].position[2] + k * step[2]};
        worst = std::max(worst, Norm(Sub(planes[k].position, expected)));
      }
      if (worst > tolerance) {
        problems.push_back("slice positions do not lie on one line (off by up to " + Mm(worst) +
                           " mm)");
      }
    }
    const double cosine = std::clamp(Dot(step, normal) / std::max(Norm(step), 1e-12), -1.0, 1.0);
    volume.gantry_tilt_deg = std::acos(cosine) * 180.0 / M_PI;
    if (volume.gantry_tilt_deg > 0.05) {
      char buf[200];
      std::snprintf(buf, sizeof buf,
                    "gantry tilt: slices are stacked %.2f degrees off their normal", volume.gantry_tilt_deg);
      if (options.allow_gantry_tilt) {
        volume.warnings.push_back(std::string(buf) +
                                  "; kept exactly as a sheared affine (no resampling)");
      } else {
        problems.push_back(buf);
      }
    }
  }
  if (!problems.empty()) {
    return Error(ErrorCode::kInvalidArgument, "cannot build a volume: " + Join(problems));
  }

  volume.dims = {first.columns, first.rows, slices};
  volume.spacing_mm = {(*spacing)[1], (*spacing)[0], step_along};
  for (int r = 0; r < 3; ++r) {
    volume.lps[r][0] = row_dir[r] * (*spacing)[1];
    volume.lps[r][1] = col_dir[r] * (*spacing)[0];
    volume.lps[r][2] = step[r];
    volume.lps[r][3] = planes[0].position[r];
  }
  volume.lps[3] = {0, 0, 0, 1};
  volume.modality = first.modality;
  volume.body_part_examined = first.body_part_examined;
  volume.study_instance_uid = first.study_instance_uid;
  volume.series_instance_uid = first.series_instance_uid;
  volume.frame_of_reference_uid = first.frame_of_reference_uid;
  const DecodedImage& lowest = images[planes[0].image];
  volume.window_center = lowest.window_center;
  volume.window_width = lowest.window_width;

  const std::size_t slice_size = static_cast<std::size_t>(first.rows) * first.columns;
  volume.values.resize(slice_size * slices);
  volume.slices.reserve(slices);
  for (int k = 0; k < slices; ++k) {
    const DecodedImage& im = images[planes[k].image];
    const auto frame = im.Frame(planes[k].frame);
    std::copy(frame.begin(), frame.end(), volume.values.begin() + slice_size * k);
    volume.slices.push_back({im.sop_class_uid, im.sop_instance_uid, planes[k].frame + 1});
  }
  return volume;
}

}  // namespace caliper::dicom

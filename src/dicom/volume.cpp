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

// The tolerances BuildVolume and SeriesGeometry share (one place).
constexpr double kSamePosition = 1e-3;  // mm along the normal: one position

bool SameOrientation(const std::array<double, 6>& a, const std::array<double, 6>& b, const VolumeOptions& options) {
  for (int c = 0; c < 6; ++c) {
    if (std::abs(a[c] - b[c]) > options.orientation_tolerance) return false;
  }
  return true;
}

bool SameSpacing(const std::array<double, 2>& a, const std::array<double, 2>& b) {
  for (int c = 0; c < 2; ++c) {
    if (std::abs(a[c] - b[c]) > 1e-3 * b[c]) return false;
  }
  return true;
}

// How far (mm) a slice position may lie off the stack's line, for slices `step` mm apart.
double PositionTolerance(double step, const VolumeOptions& options) {
  return std::max(options.spacing_tolerance * step, kSamePosition);
}

bool HasGeometry(const FrameGeometry& g) { return g.position && g.orientation && g.pixel_spacing; }

// The unit normal of an orientation (row x column direction); nullopt when the cosines are not
// two orthogonal unit vectors.
std::optional<Vec3> NormalOf(const std::array<double, 6>& o) {
  const Vec3 row_dir{o[0], o[1], o[2]};
  const Vec3 col_dir{o[3], o[4], o[5]};
  Vec3 normal = Cross(row_dir, col_dir);
  const double len = Norm(normal);
  if (!(len > 0.5) || std::abs(Dot(row_dir, col_dir)) > 1e-2) return std::nullopt;
  for (double& v : normal) v /= len;
  return normal;
}

std::string Numbers(std::span<const double> values) {
  std::string out;
  for (double v : values) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v);
    out += (out.empty() ? "" : "\\") + std::string(buf);
  }
  return out;
}

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
      if (!HasGeometry(g)) {
        problems.push_back(where + " lacks Image Position/Orientation (Patient) or Pixel Spacing");
        continue;
      }
      if (!orientation) orientation = g.orientation;
      if (!spacing) spacing = g.pixel_spacing;
      if (!SameOrientation(*g.orientation, *orientation, options)) mixed_orientation = true;
      if (!SameSpacing(*g.pixel_spacing, *spacing)) mixed_spacing = true;
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
  const std::optional<Vec3> unit_normal = NormalOf(*orientation);
  if (!unit_normal) {
    return Error(ErrorCode::kInvalidArgument,
                 "cannot build a volume: Image Orientation (Patient) is not two orthogonal unit vectors");
  }
  const Vec3 normal = *unit_normal;
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
    const double tolerance = PositionTolerance(median, options);
    int duplicates = 0;
    std::vector<std::string> gaps, irregular;
    for (int k = 1; k < slices; ++k) {
      const double s = steps[k - 1];
      if (s < kSamePosition || median < kSamePosition) {
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

// ---- SeriesGeometry ----------------------------------------------------------------------------

bool SeriesGeometry::settled() const {
  if (!reference_) return false;
  if (!reference_->geometry) return true;
  for (const Vec3& p : positions_) {
    if (std::abs(Dot(Sub(p, positions_.front()), reference_->normal)) > kSamePosition) return true;
  }
  return false;
}

Status SeriesGeometry::Add(const DecodedImage& image) {
  if (image.frames < 1 || static_cast<int>(image.frame_geometry.size()) < image.frames) {
    return Error(ErrorCode::kInvalidArgument, "no frame geometry");
  }
  const SeriesGeometry before = *this;
  for (int f = 0; f < image.frames; ++f) {
    Status s = AddFrame(image, f);
    if (!s.ok()) {
      *this = before;
      if (image.frames > 1) return Error(s.code(), "frame " + std::to_string(f + 1) + ": " + s.message());
      return s;
    }
  }
  return Status::Ok();
}

Status SeriesGeometry::AddFrame(const DecodedImage& image, int frame) {
  const FrameGeometry& g = image.frame_geometry[frame];
  const bool colour = image.kind == PixelKind::kRgb;
  if (!reference_) {
    Reference r;
    r.rows = image.rows;
    r.columns = image.columns;
    r.colour = colour;
    r.frame_of_reference_uid = image.frame_of_reference_uid;
    r.geometry = HasGeometry(g);
    if (r.geometry) {
      const std::optional<Vec3> normal = NormalOf(*g.orientation);
      if (!normal) {
        return Error(ErrorCode::kInvalidArgument, "Image Orientation (Patient) " + Numbers(*g.orientation) +
                                                      " is not two orthogonal unit vectors");
      }
      r.orientation = *g.orientation;
      r.spacing = *g.pixel_spacing;
      r.normal = *normal;
      positions_.push_back(*g.position);
    }
    reference_ = r;
    return Status::Ok();
  }
  const Reference& r = *reference_;
  auto differs = [](const std::string& what) { return Error(ErrorCode::kInvalidArgument, what); };
  if (image.rows != r.rows || image.columns != r.columns) {
    return differs(std::to_string(image.columns) + "x" + std::to_string(image.rows) + ", the series is " +
                   std::to_string(r.columns) + "x" + std::to_string(r.rows));
  }
  if (colour != r.colour) {
    return differs(colour ? "colour, the series is greyscale" : "greyscale, the series is colour");
  }
  if (image.frame_of_reference_uid != r.frame_of_reference_uid) {
    auto uid = [](const std::string& u) { return u.empty() ? std::string("none") : u; };
    return differs("Frame of Reference UID " + uid(image.frame_of_reference_uid) + ", the series' is " +
                   uid(r.frame_of_reference_uid));
  }
  if (HasGeometry(g) != r.geometry) {
    return differs(r.geometry ? "no Image Position/Orientation (Patient) or Pixel Spacing, the series has them"
                              : "Image Position/Orientation (Patient) and Pixel Spacing, the series has none");
  }
  if (!r.geometry) return Status::Ok();
  if (!SameOrientation(*g.orientation, r.orientation, options_)) {
    return differs("Image Orientation (Patient) " + Numbers(*g.orientation) + ", the series' is " +
                   Numbers(r.orientation));
  }
  if (!SameSpacing(*g.pixel_spacing, r.spacing)) {
    return differs("Pixel Spacing " + Numbers(*g.pixel_spacing) + " mm, the series' is " + Numbers(r.spacing) + " mm");
  }
  // The line: through the first position and the first one at another place along the normal;
  // its tolerance from the smallest step between positions so far, as BuildVolume's from the
  // median step.
  const Vec3& p = *g.position;
  const Vec3& origin = positions_.front();
  const Vec3* other = nullptr;
  std::vector<double> along;
  along.reserve(positions_.size());
  for (const Vec3& q : positions_) {
    along.push_back(Dot(q, r.normal));
    if (!other && std::abs(along.back() - along.front()) > kSamePosition) other = &q;
  }
  if (other != nullptr) {
    std::sort(along.begin(), along.end());
    double step = 0;
    for (std::size_t k = 1; k < along.size(); ++k) {
      const double s = along[k] - along[k - 1];
      if (s > kSamePosition && (step == 0 || s < step)) step = s;
    }
    const Vec3 direction = Sub(*other, origin);
    const double length = Norm(direction);
    const Vec3 d{direction[0] / length, direction[1] / length, direction[2] / length};
    const Vec3 offset = Sub(p, origin);
    const double t = Dot(offset, d);
    const double off = Norm(Sub(offset, Vec3{t * d[0], t * d[1], t * d[2]}));
    if (off > PositionTolerance(step, options_)) {
      return differs("Image Position (Patient) " + Numbers(p) + " lies " + Mm(off) +
                     " mm off the line of the series' slice positions");
    }
  }
  positions_.push_back(p);
  return Status::Ok();
}

std::string SeriesGeometryKey(const DecodedImage& image) {
  std::string key = std::to_string(image.columns) + "x" + std::to_string(image.rows) +
                    (image.kind == PixelKind::kRgb ? " rgb " : " grey ") + image.frame_of_reference_uid;
  if (image.frame_geometry.empty() || !HasGeometry(image.frame_geometry.front())) return key + " -";
  const FrameGeometry& g = image.frame_geometry.front();
  auto at = [](double v, double unit) { return std::round(v / unit) * unit + 0.0; };  // no "-0.00"
  char buf[160];
  const auto& o = *g.orientation;
  std::snprintf(buf, sizeof buf, " %.2f %.2f %.2f %.2f %.2f %.2f %.3f %.3f", at(o[0], 1e-2), at(o[1], 1e-2),
                at(o[2], 1e-2), at(o[3], 1e-2), at(o[4], 1e-2), at(o[5], 1e-2), at((*g.pixel_spacing)[0], 1e-3),
                at((*g.pixel_spacing)[1], 1e-3));
  return key + buf;
}

}  // namespace caliper::dicom

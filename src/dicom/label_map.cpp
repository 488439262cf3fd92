#include "caliper/dicom/label_map.h"

#include <cmath>
#include <cstring>
#include <set>

#include "dicom/zstd.h"

namespace caliper::dicom {
namespace {

constexpr char kMagic[4] = {'C', 'L', 'M', '2'};
constexpr char kMagicV1[4] = {'C', 'L', 'M', '1'};  // before segments had algorithm identification

Status Invalid(const std::string& m) { return Error(ErrorCode::kInvalidArgument, m); }

std::string Dims(const std::array<int, 3>& d) {
  return std::to_string(d[0]) + "x" + std::to_string(d[1]) + "x" + std::to_string(d[2]);
}

// Little helpers for the storage form: fixed-size numbers in host order (the blob never leaves
// the machine architecture family we build for: x86-64 and arm64 are both little endian).
class Writer {
 public:
  template <typename T>
  void Put(const T& v) {
    const auto* p = reinterpret_cast<const std::uint8_t*>(&v);
    out_.insert(out_.end(), p, p + sizeof v);
  }
  void Str(const std::string& s) {
    Put(static_cast<std::uint32_t>(s.size()));
    out_.insert(out_.end(), s.begin(), s.end());
  }
  std::vector<std::uint8_t>& out() { return out_; }

 private:
  std::vector<std::uint8_t> out_;
};

class Reader {
 public:
  explicit Reader(std::span<const std::uint8_t> in) : in_(in) {}
  template <typename T>
  bool Get(T& v) {
    if (in_.size() - pos_ < sizeof v) return false;
    std::memcpy(&v, in_.data() + pos_, sizeof v);
    pos_ += sizeof v;
    return true;
  }
  bool Str(std::string& s) {
    std::uint32_t n = 0;
    if (!Get(n) || in_.size() - pos_ < n) return false;
    s.assign(reinterpret_cast<const char*>(in_.data() + pos_), n);
    pos_ += n;
    return true;
  }
  std::span<const std::uint8_t> Rest() const { return in_.subspan(pos_); }

 private:
  std::span<const std::uint8_t> in_;
  std::size_t pos_ = 0;
};

}  // namespace

LabelMap EmptyLabelMap(const Volume& volume) {
  LabelMap map;
  map.dims = volume.dims;
  map.lps = volume.lps;
  map.labels.assign(static_cast<std::size_t>(volume.dims[0]) * volume.dims[1] * volume.dims[2], 0);
  return map;
}

Status ValidateLabelMap(const LabelMap& map) {
  for (int d : map.dims) {
    if (d <= 0) return Invalid("label map dimensions must be positive (" + Dims(map.dims) + ")");
  }
  const std::size_t n = static_cast<std::size_t>(map.dims[0]) * map.dims[1] * map.dims[2];
  if (map.labels.size() != n) {
    return Invalid("label map holds " + std::to_string(map.labels.size()) + " voxels for " +
                   Dims(map.dims));
  }
  std::array<bool, 256> known{};
  for (const Segment& s : map.segments) {
    const std::string which = "segment " + std::to_string(s.label) + " (" + s.name + ")";
    if (s.label == 0) return Invalid("segment label 0 is the background");
    if (known[s.label]) return Invalid("two segments use label " + std::to_string(s.label));
    known[s.label] = true;
    if (s.name.empty()) return Invalid(which + " has no name");
    if (s.category.value.empty() || s.category.scheme.empty() || s.category.meaning.empty() ||
        s.type.value.empty() || s.type.scheme.empty() || s.type.meaning.empty()) {
      return Invalid(which + " needs a category and a type code (value, scheme, meaning)");
    }
    if (s.algorithm != SegmentAlgorithm::kManual && s.algorithm_name.empty()) {
      return Invalid(which + " is (semi)automatic and must name its algorithm");
    }
  }
  std::array<bool, 256> used{};
  for (std::uint8_t v : map.labels) used[v] = true;
  for (int v = 1; v < 256; ++v) {
    if (used[v] && !known[v]) return Invalid("voxels carry label " + std::to_string(v) + ", which no segment describes");
  }
  return Status::Ok();
}

Status CheckAligned(const LabelMap& map, const Volume& volume, double tolerance_mm) {
  if (map.dims != volume.dims) {
    return Invalid("mask is " + Dims(map.dims) + " but the volume is " + Dims(volume.dims));
  }
  const int last[3] = {map.dims[0] - 1, map.dims[1] - 1, map.dims[2] - 1};
  for (int corner = 0; corner < 8; ++corner) {
    const int i = corner & 1 ? last[0] : 0, j = corner & 2 ? last[1] : 0, k = corner & 4 ? last[2] : 0;
    const auto a = Apply(map.lps, i, j, k);
    const auto b = Apply(volume.lps, i, j, k);
    const double d = std::sqrt((a[0] - b[0]) * (a[0] - b[0]) + (a[1] - b[1]) * (a[1] - b[1]) +
                               (a[2] - b[2]) * (a[2] - b[2]));
    if (!(d <= tolerance_mm)) {
      char buf[256];
      std::snprintf(buf, sizeof buf,
                    "mask voxel (%d,%d,%d) is at (%.3f, %.3f, %.3f) mm LPS but the volume's is at "
                    "(%.3f, %.3f, %.3f) mm: the mask is not on the volume's grid",
                    i, j, k, a[0], a[1], a[2], b[0], b[1], b[2]);
      return Invalid(buf);
    }
  }
  return Status::Ok();
}

Result<std::vector<std::uint8_t>> CompressLabelMap(const LabelMap& map) {
  CALIPER_RETURN_IF_ERROR(ValidateLabelMap(map));
  Writer w;
  for (int d : map.dims) w.Put(static_cast<std::int32_t>(d));
  for (const auto& row : map.lps)
    for (double v : row) w.Put(v);
  w.Put(static_cast<std::uint32_t>(map.segments.size()));
  for (const Segment& s : map.segments) {
    w.Put(s.label);
    w.Put(static_cast<std::uint8_t>(s.algorithm));
    const AlgorithmIdentification& id = s.algorithm_identification;
    for (const std::string* str : {&s.class_id, &s.name, &s.category.value, &s.category.scheme,
                                   &s.category.meaning, &s.type.value, &s.type.scheme,
                                   &s.type.meaning, &s.algorithm_name, &id.family.value,
                                   &id.family.scheme, &id.family.meaning, &id.name, &id.version}) {
      w.Str(*str);
    }
  }
  w.out().insert(w.out().end(), map.labels.begin(), map.labels.end());
  CALIPER_ASSIGN_OR_RETURN(auto frame, ZstdCompress(w.out()));
  std::vector<std::uint8_t> out(kMagic, kMagic + 4);
  out.insert(out.end(), frame.begin(), frame.end());
  return out;
}

Result<LabelMap> DecompressLabelMap(std::span<const std::uint8_t> bytes, std::int64_t max_voxels) {
  if (bytes.size() < 4 || (std::memcmp(bytes.data(), kMagic, 4) != 0 && std::memcmp(bytes.data(), kMagicV1, 4) != 0)) {
    return Error(ErrorCode::kIntegrity, "not a stored label map");
  }
  const bool v1 = std::memcmp(bytes.data(), kMagicV1, 4) == 0;
  // Header (dims, affine, segments) is small; allow 64 MiB of it on top of the voxels.
  CALIPER_ASSIGN_OR_RETURN(
      auto payload, ZstdDecompress(bytes.subspan(4), static_cast<std::uint64_t>(max_voxels) + (64u << 20)));
  Reader r(payload);
  LabelMap map;
  auto corrupt = [] { return Error(ErrorCode::kIntegrity, "stored label map is truncated"); };
  for (int& d : map.dims) {
    std::int32_t v = 0;
    if (!r.Get(v)) return corrupt();
    d = v;
  }
  for (auto& row : map.lps)
    for (double& v : row)
      if (!r.Get(v)) return corrupt();
  std::uint32_t count = 0;
  if (!r.Get(count) || count > 255) return corrupt();
  for (std::uint32_t n = 0; n < count; ++n) {
    Segment s;
    std::uint8_t algorithm = 0;
    if (!r.Get(s.label) || !r.Get(algorithm) || algorithm > 2) return corrupt();
    s.algorithm = static_cast<SegmentAlgorithm>(algorithm);
    for (std::string* str : {&s.class_id, &s.name, &s.category.value, &s.category.scheme,
                             &s.category.meaning, &s.type.value, &s.type.scheme, &s.type.meaning,
                             &s.algorithm_name}) {
      if (!r.Str(*str)) return corrupt();
    }
    AlgorithmIdentification& id = s.algorithm_identification;
    if (!v1) {
      for (std::string* str : {&id.family.value, &id.family.scheme, &id.family.meaning, &id.name, &id.version}) {
        if (!r.Str(*str)) return corrupt();
      }
    }
    map.segments.push_back(std::move(s));
  }
  const std::int64_t voxels = static_cast<std::int64_t>(map.dims[0]) * map.dims[1] * map.dims[2];
  if (voxels > max_voxels) return Invalid("stored label map exceeds the voxel limit");
  const auto rest = r.Rest();
  map.labels.assign(rest.begin(), rest.end());
  CALIPER_RETURN_IF_ERROR(ValidateLabelMap(map));
  return map;
}

}  // namespace caliper::dicom

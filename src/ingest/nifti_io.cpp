// The nifti2 bridge: nifti_image stays in this file.

#include "caliper/ingest/nifti_io.h"

#include <nifti2_io.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <iomanip>
#include <map>
#include <memory>
#include <sstream>

#include <unistd.h>

namespace caliper::ingest {
namespace {

struct NiftiFree {
  void operator()(nifti_image* nim) const { nifti_image_free(nim); }
};
using NiftiPtr = std::unique_ptr<nifti_image, NiftiFree>;

double UnitsToMm(int xyz_units) {
  switch (xyz_units) {
    case NIFTI_UNITS_METER:
      return 1000.0;
    case NIFTI_UNITS_MICRON:
      return 0.001;
    default:  // mm, or unknown: NIfTI readers conventionally take mm
      return 1.0;
  }
}

Result<NiftiPtr> Open(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return Error(ErrorCode::kNotFound, "no such file: " + path);
  }
  nifti_set_debug_level(0);  // our errors speak for the library's stderr messages
  NiftiPtr nim(nifti_image_read(path.c_str(), 1));
  if (!nim || !nim->data) {
    return Error(ErrorCode::kInvalidArgument, path + " is not a readable NIfTI file");
  }
  for (int d = 4; d <= 7; ++d) {
    if (nim->dim[0] >= d && nim->dim[d] > 1) {
      return Error(ErrorCode::kInvalidArgument, path + " is not a 3D volume (dimension " +
                                                    std::to_string(d) + " is " +
                                                    std::to_string(nim->dim[d]) + ")");
    }
  }
  return nim;
}

NiftiGeometry GeometryOf(const nifti_image& nim) {
  NiftiGeometry g;
  g.dims = {nim.nx, nim.ny, std::max<std::int64_t>(nim.nz, 1)};
  g.pixdim = {nim.dx, nim.dy, nim.nz > 1 ? nim.dz : (nim.dz > 0 ? nim.dz : 1.0)};
  g.xyz_units = nim.xyz_units;
  const double scale = UnitsToMm(nim.xyz_units);
  for (int d = 0; d < 3; ++d) g.spacing_mm[d] = std::abs(g.pixdim[d]) * scale;
  g.qform_code = nim.qform_code;
  g.sform_code = nim.sform_code;
  g.quatern = {nim.quatern_b, nim.quatern_c, nim.quatern_d,
               nim.qoffset_x, nim.qoffset_y, nim.qoffset_z};
  g.qfac = nim.qfac;
  for (int r = 0; r < 3; ++r) {
    for (int c = 0; c < 4; ++c) g.srow[r][c] = nim.sto_xyz.m[r][c];
  }
  return g;
}

template <typename T>
void Convert(const void* data, std::int64_t n, double slope, double inter, bool scaled,
             std::vector<float>& out) {
  const T* in = static_cast<const T*>(data);
  out.resize(n);
  for (std::int64_t i = 0; i < n; ++i) {
    const double v = static_cast<double>(in[i]);
    out[i] = static_cast<float>(scaled ? slope * v + inter : v);
  }
}

Status Write(const std::string& path, const NiftiGeometry& g, int datatype, const void* data,
             std::size_t bytes_per_voxel, std::size_t count) {
  const std::int64_t n = g.dims[0] * g.dims[1] * g.dims[2];
  if (g.dims[0] <= 0 || g.dims[1] <= 0 || g.dims[2] <= 0 || static_cast<std::int64_t>(count) != n) {
    return Error(ErrorCode::kInvalidArgument, "volume size does not match its dimensions");
  }
  const std::int64_t dims[8] = {3, g.dims[0], g.dims[1], g.dims[2], 1, 1, 1, 1};
  nifti_set_debug_level(0);
  NiftiPtr nim(nifti_make_new_nim(dims, datatype, 1));
  if (!nim) return Error(ErrorCode::kInternal, "nifti2 could not allocate an image");
  std::memcpy(nim->data, data, bytes_per_voxel * count);
  nim->dx = nim->pixdim[1] = g.pixdim[0];
  nim->dy = nim->pixdim[2] = g.pixdim[1];
  nim->dz = nim->pixdim[3] = g.pixdim[2];
  nim->xyz_units = g.xyz_units;
  nim->qform_code = g.qform_code;
  nim->sform_code = g.sform_code;
  nim->quatern_b = g.quatern[0];
  nim->quatern_c = g.quatern[1];
  nim->quatern_d = g.quatern[2];
  nim->qoffset_x = g.quatern[3];
  nim->qoffset_y = g.quatern[4];
  nim->qoffset_z = g.quatern[5];
  nim->qfac = g.qfac;
  for (int r = 0; r < 3; ++r) {
    for (int c = 0; c < 4; ++c) nim->sto_xyz.m[r][c] = g.srow[r][c];
  }
  nim->sto_xyz.m[3][0] = nim->sto_xyz.m[3][1] = nim->sto_xyz.m[3][2] = 0;
  nim->sto_xyz.m[3][3] = 1;
  nim->scl_slope = 1;
  nim->scl_inter = 0;
  // nifti_image_write reports failure only on stderr, so write a hidden temporary file with the
  // same extension beside the target, check it, and rename it into place.
  const std::filesystem::path target(path);
  const std::filesystem::path temp =
      target.parent_path() /
      (".caliper-" + std::to_string(::getpid()) + "-" + target.filename().string());
  if (nifti_set_filenames(nim.get(), temp.c_str(), 0, 1) != 0) {
    return Error(ErrorCode::kInvalidArgument,
                 "cannot write " + path + ": use a .nii or .nii.gz name");
  }
  if (nim->nifti_type == NIFTI_FTYPE_NIFTI1_2 || nim->nifti_type == NIFTI_FTYPE_NIFTI2_2) {
    return Error(ErrorCode::kInvalidArgument, "cannot write " + path + ": use .nii or .nii.gz");
  }
  std::error_code ec;
  if (!target.parent_path().empty() && !std::filesystem::is_directory(target.parent_path(), ec)) {
    return Error(ErrorCode::kIo, "cannot write " + path + ": no such directory");
  }
  nifti_image_write(nim.get());
  if (!std::filesystem::exists(temp, ec) || !NiftiPtr(nifti_image_read(temp.c_str(), 0))) {
    std::filesystem::remove(temp, ec);
    return Error(ErrorCode::kIo, "cannot write " + path);
  }
  std::filesystem::rename(temp, target, ec);
  if (ec) {
    std::filesystem::remove(temp, ec);
    return Error(ErrorCode::kIo, "cannot write " + path + ": " + ec.message());
  }
  return Status::Ok();
}

}  // namespace

Result<NiftiVolume> ReadNiftiVolume(const std::string& path) {
  CALIPER_ASSIGN_OR_RETURN(NiftiPtr nim, Open(path));
  NiftiVolume volume;
  volume.geometry = GeometryOf(*nim);
  const std::int64_t n = nim->nvox;
  const double slope = nim->scl_slope, inter = nim->scl_inter;
  const bool scaled = std::isfinite(slope) && slope != 0 && !(slope == 1 && inter == 0);
  using Converter = void (*)(const void*, std::int64_t, double, double, bool, std::vector<float>&);
  static const std::map<int, Converter> kConverters = {
      {NIFTI_TYPE_UINT8, &Convert<std::uint8_t>},   {NIFTI_TYPE_INT8, &Convert<std::int8_t>},
      {NIFTI_TYPE_UINT16, &Convert<std::uint16_t>}, {NIFTI_TYPE_INT16, &Convert<std::int16_t>},
      {NIFTI_TYPE_UINT32, &Convert<std::uint32_t>}, {NIFTI_TYPE_INT32, &Convert<std::int32_t>},
      {NIFTI_TYPE_UINT64, &Convert<std::uint64_t>}, {NIFTI_TYPE_INT64, &Convert<std::int64_t>},
      {NIFTI_TYPE_FLOAT32, &Convert<float>},        {NIFTI_TYPE_FLOAT64, &Convert<double>}};
  auto converter = kConverters.find(nim->datatype);
  if (converter == kConverters.end()) {
    return Error(ErrorCode::kUnsupported, path + ": datatype " +
                                              nifti_datatype_string(nim->datatype) +
                                              " is not supported (integer or float volumes only)");
  }
  converter->second(nim->data, n, slope, inter, scaled, volume.values);
  return volume;
}

Result<NiftiLabelMap> ReadNiftiLabelMap(const std::string& path) {
  CALIPER_ASSIGN_OR_RETURN(NiftiVolume volume, ReadNiftiVolume(path));
  NiftiLabelMap map;
  map.geometry = volume.geometry;
  map.labels.resize(volume.values.size());
  for (std::size_t i = 0; i < volume.values.size(); ++i) {
    const float v = volume.values[i];
    if (!(v >= 0 && v <= 255 && v == std::floor(v))) {
      std::ostringstream message;
      message << path << " is not a label map: voxel " << i << " is " << std::setprecision(9) << v
              << " (labels are integers 0..255)";
      return Error(ErrorCode::kInvalidArgument, message.str());
    }
    map.labels[i] = static_cast<std::uint8_t>(v);
  }
  return map;
}

Status WriteNiftiFloat32(const std::string& path, const NiftiGeometry& geometry,
                         std::span<const float> values) {
  return Write(path, geometry, NIFTI_TYPE_FLOAT32, values.data(), sizeof(float), values.size());
}

Status WriteNiftiUint8(const std::string& path, const NiftiGeometry& geometry,
                       std::span<const std::uint8_t> values) {
  return Write(path, geometry, NIFTI_TYPE_UINT8, values.data(), 1, values.size());
}

}  // namespace caliper::ingest

// The nifti2 bridge: nifti_image stays in this file.

#include "caliper/ingest/nifti_io.h"

#include <nifti2_io.h>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
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

Result<NiftiPtr> Open(const std::string& path, bool allow_4d = false) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return Error(ErrorCode::kNotFound, "no such file: " + path);
  }
  nifti_set_debug_level(0);  // our errors speak for the library's stderr messages
  NiftiPtr nim(nifti_image_read(path.c_str(), 1));
  if (!nim || !nim->data) {
    return Error(ErrorCode::kInvalidArgument, path + " is not a readable NIfTI file");
  }
  for (int d = 4; d <= 7 && !allow_4d; ++d) {  // with allow_4d, Split checks dims 5..7
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

// A nifti_image holding a copy of `data` with geometry `g`.
// `volumes` 3D volumes of g.dims one after the other: a 4D image (dim[4] = volumes) when more
// than one.
Result<NiftiPtr> MakeImage(const NiftiGeometry& g, int datatype, const void* data,
                           std::size_t bytes_per_voxel, std::size_t count, std::int64_t volumes = 1) {
  const std::int64_t n = g.dims[0] * g.dims[1] * g.dims[2] * volumes;
  if (g.dims[0] <= 0 || g.dims[1] <= 0 || g.dims[2] <= 0 || volumes < 1 || static_cast<std::int64_t>(count) != n) {
    return Error(ErrorCode::kInvalidArgument, "volume size does not match its dimensions");
  }
  const std::int64_t dims[8] = {volumes > 1 ? 4 : 3, g.dims[0], g.dims[1], g.dims[2], volumes, 1, 1, 1};
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
  return nim;
}

Status Write(const std::string& path, const NiftiGeometry& g, int datatype, const void* data,
             std::size_t bytes_per_voxel, std::size_t count) {
  CALIPER_ASSIGN_OR_RETURN(NiftiPtr nim, MakeImage(g, datatype, data, bytes_per_voxel, count));
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

// Converts every voxel of `nim` (its data at `data`) to float after scl_slope/scl_inter and
// splits the time points (dim[4]) into volumes; dims 5..7 must be 1.
Result<std::vector<NiftiVolume>> Split(const nifti_image& nim, const void* data,
                                       const std::string& what) {
  for (int d = 5; d <= 7; ++d) {
    if (nim.dim[0] >= d && nim.dim[d] > 1) {
      return Error(ErrorCode::kUnsupported, what + ": dimension " + std::to_string(d) + " is " +
                                                std::to_string(nim.dim[d]) +
                                                " (3D and 4D volumes only)");
    }
  }
  const double slope = nim.scl_slope, inter = nim.scl_inter;
  const bool scaled = std::isfinite(slope) && slope != 0 && !(slope == 1 && inter == 0);
  using Converter = void (*)(const void*, std::int64_t, double, double, bool, std::vector<float>&);
  static const std::map<int, Converter> kConverters = {
      {NIFTI_TYPE_UINT8, &Convert<std::uint8_t>},   {NIFTI_TYPE_INT8, &Convert<std::int8_t>},
      {NIFTI_TYPE_UINT16, &Convert<std::uint16_t>}, {NIFTI_TYPE_INT16, &Convert<std::int16_t>},
      {NIFTI_TYPE_UINT32, &Convert<std::uint32_t>}, {NIFTI_TYPE_INT32, &Convert<std::int32_t>},
      {NIFTI_TYPE_UINT64, &Convert<std::uint64_t>}, {NIFTI_TYPE_INT64, &Convert<std::int64_t>},
      {NIFTI_TYPE_FLOAT32, &Convert<float>},        {NIFTI_TYPE_FLOAT64, &Convert<double>}};
  auto converter = kConverters.find(nim.datatype);
  if (converter == kConverters.end()) {
    return Error(ErrorCode::kUnsupported, what + ": datatype " +
                                              nifti_datatype_string(nim.datatype) +
                                              " is not supported (integer or float volumes only)");
  }
  std::vector<float> all;
  converter->second(data, nim.nvox, slope, inter, scaled, all);
  const NiftiGeometry geometry = GeometryOf(nim);
  const std::int64_t per = geometry.dims[0] * geometry.dims[1] * geometry.dims[2];
  const std::int64_t times = nim.dim[0] >= 4 ? std::max<std::int64_t>(nim.dim[4], 1) : 1;
  if (per <= 0 || per * times != nim.nvox) {
    return Error(ErrorCode::kInvalidArgument, what + ": dimensions do not match the voxel count");
  }
  std::vector<NiftiVolume> out(times);
  for (std::int64_t t = 0; t < times; ++t) {
    out[t].geometry = geometry;
    if (times == 1) {
      out[t].values = std::move(all);
    } else {
      out[t].values.assign(all.begin() + t * per, all.begin() + (t + 1) * per);
    }
  }
  return out;
}

Result<std::vector<std::uint8_t>> Gunzip(std::span<const std::uint8_t> in, std::uint64_t limit) {
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 32) != Z_OK) return Error(ErrorCode::kInternal, "zlib init failed");
  std::vector<std::uint8_t> out;
  zs.next_in = const_cast<Bytef*>(in.data());
  zs.avail_in = static_cast<uInt>(std::min<std::size_t>(in.size(), UINT32_MAX));
  int rc = Z_OK;
  while (rc == Z_OK) {
    if (out.size() >= limit) {
      inflateEnd(&zs);
      return Error(ErrorCode::kInvalidArgument, "gzip data inflates past the size limit");
    }
    const std::size_t at = out.size();
    out.resize(std::min<std::uint64_t>(limit, std::max<std::size_t>(at * 2, 1 << 16)));
    zs.next_out = out.data() + at;
    zs.avail_out = static_cast<uInt>(out.size() - at);
    rc = inflate(&zs, Z_NO_FLUSH);
    out.resize(out.size() - zs.avail_out);
    if (rc == Z_BUF_ERROR && zs.avail_in == 0) break;  // truncated stream
    if (rc == Z_BUF_ERROR) rc = Z_OK;
  }
  inflateEnd(&zs);
  if (rc != Z_STREAM_END) return Error(ErrorCode::kInvalidArgument, "gzip data is truncated or corrupt");
  return out;
}

Result<std::vector<std::uint8_t>> Encode(const NiftiGeometry& g, int datatype, const void* data,
                                         std::size_t bytes_per_voxel, std::size_t count, bool gzip,
                                         std::int64_t volumes = 1) {
  CALIPER_ASSIGN_OR_RETURN(NiftiPtr nim, MakeImage(g, datatype, data, bytes_per_voxel, count, volumes));
  nifti_1_header hdr;
  if (nifti_convert_nim2n1hdr(nim.get(), &hdr) != 0) {
    return Error(ErrorCode::kInternal, "nifti2 could not build a NIfTI-1 header");
  }
  hdr.vox_offset = 352;
  std::memcpy(hdr.magic, "n+1\0", 4);
  std::vector<std::uint8_t> out(352 + bytes_per_voxel * count, 0);
  std::memcpy(out.data(), &hdr, sizeof hdr);  // 348 bytes, then 4 zero bytes: no extension
  std::memcpy(out.data() + 352, data, bytes_per_voxel * count);
  if (!gzip) return out;
  return Gzip(out);
}

}  // namespace

Result<std::vector<std::uint8_t>> Gzip(std::span<const std::uint8_t> in) {
  z_stream zs{};
  if (deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return Error(ErrorCode::kInternal, "zlib init failed");
  }
  std::vector<std::uint8_t> out(deflateBound(&zs, in.size()) + 64);
  zs.next_in = const_cast<Bytef*>(in.data());
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = out.data();
  zs.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) return Error(ErrorCode::kInternal, "gzip compression failed");
  return out;
}

Result<NiftiVolume> ReadNiftiVolume(const std::string& path) {
  CALIPER_ASSIGN_OR_RETURN(NiftiPtr nim, Open(path));
  CALIPER_ASSIGN_OR_RETURN(auto volumes, Split(*nim, nim->data, path));
  return std::move(volumes.front());
}

Result<std::vector<NiftiVolume>> ReadNiftiVolumes(const std::string& path) {
  CALIPER_ASSIGN_OR_RETURN(NiftiPtr nim, Open(path, /*allow_4d=*/true));
  return Split(*nim, nim->data, path);
}

Result<std::vector<NiftiVolume>> DecodeNifti(std::span<const std::uint8_t> bytes,
                                             std::int64_t max_voxels) {
  std::vector<std::uint8_t> inflated;
  if (bytes.size() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b) {
    // Enough for the largest header, extensions up to 1 MiB and max_voxels of 8 bytes.
    const std::uint64_t limit = 540 + (1u << 20) + static_cast<std::uint64_t>(max_voxels) * 8;
    CALIPER_ASSIGN_OR_RETURN(inflated, Gunzip(bytes, limit));
    bytes = inflated;
  }
  nifti_set_debug_level(0);
  const int version = bytes.size() >= 348
                          ? nifti_header_version(reinterpret_cast<const char*>(bytes.data()),
                                                 bytes.size())
                          : -1;
  // The header is swapped to host order here, so the data must be swapped to match.
  NiftiPtr nim;
  bool swapped = false;
  if (version == 1) {
    nifti_1_header h;
    std::memcpy(&h, bytes.data(), sizeof h);
    swapped = h.sizeof_hdr != 348;
    if (swapped) swap_nifti_header(&h, 1);
    nim.reset(nifti_convert_n1hdr2nim(h, nullptr));
  } else if (version == 2 && bytes.size() >= sizeof(nifti_2_header)) {
    nifti_2_header h;
    std::memcpy(&h, bytes.data(), sizeof h);
    swapped = h.sizeof_hdr != 540;
    if (swapped) swap_nifti_header(&h, 2);
    nim.reset(nifti_convert_n2hdr2nim(h, nullptr));
  }
  if (!nim) return Error(ErrorCode::kInvalidArgument, "not a NIfTI-1 or NIfTI-2 file");
  for (int d = 1; d <= nim->dim[0] && d <= 7; ++d) {
    if (nim->dim[d] <= 0) return Error(ErrorCode::kInvalidArgument, "NIfTI dimension " + std::to_string(d) + " is not positive");
  }
  if (nim->nvox <= 0 || nim->nvox > max_voxels || nim->nbyper <= 0 || nim->nbyper > 16) {
    return Error(ErrorCode::kInvalidArgument,
                 "NIfTI volume of " + std::to_string(nim->nvox) + " voxels is empty or exceeds the limit of " +
                     std::to_string(max_voxels));
  }
  const std::int64_t offset = nim->iname_offset;
  const std::uint64_t need = static_cast<std::uint64_t>(nim->nvox) * nim->nbyper;
  if (offset < 0 || static_cast<std::uint64_t>(offset) > bytes.size() ||
      bytes.size() - static_cast<std::uint64_t>(offset) < need) {
    return Error(ErrorCode::kInvalidArgument, "NIfTI data is truncated: the header needs " +
                                                  std::to_string(need) + " bytes after offset " +
                                                  std::to_string(offset));
  }
  std::vector<std::uint8_t> data(bytes.begin() + offset, bytes.begin() + offset + need);
  if (swapped && nim->swapsize > 1) {
    nifti_swap_Nbytes(nim->nvox * (nim->nbyper / nim->swapsize), nim->swapsize, data.data());
  }
  return Split(*nim, data.data(), "NIfTI input");
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

namespace caliper::ingest {

Result<std::vector<std::uint8_t>> EncodeNiftiInt16(const NiftiGeometry& geometry,
                                                   std::span<const std::int16_t> values, bool gzip) {
  return Encode(geometry, NIFTI_TYPE_INT16, values.data(), 2, values.size(), gzip);
}
Result<std::vector<std::uint8_t>> EncodeNiftiFloat32(const NiftiGeometry& geometry,
                                                     std::span<const float> values, bool gzip) {
  return Encode(geometry, NIFTI_TYPE_FLOAT32, values.data(), 4, values.size(), gzip);
}

Result<std::vector<std::uint8_t>> EncodeNiftiFloat32Volumes(const NiftiGeometry& geometry,
                                                            std::span<const float> values,
                                                            std::int64_t volumes, bool gzip) {
  return Encode(geometry, NIFTI_TYPE_FLOAT32, values.data(), 4, values.size(), gzip, volumes);
}
Result<std::vector<std::uint8_t>> EncodeNiftiUint8(const NiftiGeometry& geometry,
                                                   std::span<const std::uint8_t> values, bool gzip) {
  return Encode(geometry, NIFTI_TYPE_UINT8, values.data(), 1, values.size(), gzip);
}

NiftiGeometry NiftiGeometryFromAffine(const std::array<std::int64_t, 3>& dims,
                                      const std::array<std::array<double, 4>, 3>& ras, int code) {
  NiftiGeometry g;
  g.dims = dims;
  g.xyz_units = NIFTI_UNITS_MM;
  g.srow = ras;
  g.sform_code = code;
  std::array<std::array<double, 3>, 3> col{};
  for (int c = 0; c < 3; ++c) {
    double len = 0;
    for (int r = 0; r < 3; ++r) len += ras[r][c] * ras[r][c];
    len = std::sqrt(len);
    g.pixdim[c] = g.spacing_mm[c] = len;
    for (int r = 0; r < 3; ++r) col[c][r] = len > 0 ? ras[r][c] / len : 0;
  }
  const double kOrthogonal = 1e-4;
  const bool orthogonal = std::abs(col[0][0] * col[1][0] + col[0][1] * col[1][1] + col[0][2] * col[1][2]) < kOrthogonal &&
                          std::abs(col[0][0] * col[2][0] + col[0][1] * col[2][1] + col[0][2] * col[2][2]) < kOrthogonal &&
                          std::abs(col[1][0] * col[2][0] + col[1][1] * col[2][1] + col[1][2] * col[2][2]) < kOrthogonal;
  nifti_dmat44 m;
  for (int r = 0; r < 3; ++r) {
    for (int c = 0; c < 4; ++c) m.m[r][c] = ras[r][c];
  }
  m.m[3][0] = m.m[3][1] = m.m[3][2] = 0;
  m.m[3][3] = 1;
  double qb, qc, qd, qx, qy, qz, dx, dy, dz, qfac;
  nifti_dmat44_to_quatern(m, &qb, &qc, &qd, &qx, &qy, &qz, &dx, &dy, &dz, &qfac);
  g.quatern = {qb, qc, qd, qx, qy, qz};
  g.qfac = qfac;
  g.qform_code = orthogonal ? code : 0;
  return g;
}

std::array<std::array<double, 4>, 3> BestAffine(const NiftiGeometry& g) {
  std::array<std::array<double, 4>, 3> out{};
  if (g.sform_code > 0) return g.srow;
  if (g.qform_code > 0) {
    const nifti_dmat44 m = nifti_quatern_to_dmat44(g.quatern[0], g.quatern[1], g.quatern[2], g.quatern[3],
                                                   g.quatern[4], g.quatern[5], g.pixdim[0], g.pixdim[1],
                                                   g.pixdim[2], g.qfac);
    for (int r = 0; r < 3; ++r) {
      for (int c = 0; c < 4; ++c) out[r][c] = m.m[r][c];
    }
    return out;
  }
  for (int d = 0; d < 3; ++d) out[d][d] = g.pixdim[d];
  return out;
}

}  // namespace caliper::ingest

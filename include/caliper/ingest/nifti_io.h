#pragma once

// Reading and writing 3D NIfTI-1/NIfTI-2 volumes (.nii, .nii.gz, .hdr/.img) through nifti2.
// No nifti2 type appears here: geometry travels as plain numbers so an output can carry exactly
// the geometry (dimensions, pixdim, units, qform, sform) of the input it was computed from.
// Functions are thread-safe (each call owns its nifti_image).

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "caliper/common/status.h"

namespace caliper::ingest {

struct NiftiGeometry {
  std::array<std::int64_t, 3> dims{0, 0, 0};
  std::array<double, 3> spacing_mm{1, 1, 1};  // pixdim[1..3] converted to mm by xyz_units
  // As stored in the file, for writing an output on the same grid:
  std::array<double, 3> pixdim{1, 1, 1};
  int xyz_units = 0;  // NIFTI_UNITS_*: 0 unknown (read as mm), 1 m, 2 mm, 3 micron
  int qform_code = 0;
  int sform_code = 0;
  std::array<double, 6> quatern{0, 0, 0, 0, 0, 0};  // b, c, d, qoffset_x, y, z
  double qfac = 1;
  std::array<std::array<double, 4>, 3> srow{};  // sform rows (i, j, k, 1) -> x, y, z
};

// Voxel values as float32 after the file's scl_slope/scl_inter (x fastest).
struct NiftiVolume {
  NiftiGeometry geometry;
  std::vector<float> values;
};

// Integer labels 0..255 (x fastest), e.g. a segmentation mask.
struct NiftiLabelMap {
  NiftiGeometry geometry;
  std::vector<std::uint8_t> labels;
};

// Reads every 3D volume of a 3D or 4D file: a 4D file (dim[4] = time points) gives one
// volume per time point, in order, each with the file's 3D geometry (docs/imaging.md: the
// documented choice for 4D). Dimensions 5..7 must be 1 (else kUnsupported). Other errors as
// ReadNiftiVolume.
Result<std::vector<NiftiVolume>> ReadNiftiVolumes(const std::string& path);

// As ReadNiftiVolumes, from the bytes of a .nii or .nii.gz file (NIfTI-1 or NIfTI-2, either
// byte order), e.g. an upload. A volume larger than `max_voxels` voxels (all time points) or a
// gzip stream inflating past what that needs is kInvalidArgument before it is decoded; so is
// a header that is not NIfTI or data shorter than the header says.
Result<std::vector<NiftiVolume>> DecodeNifti(std::span<const std::uint8_t> bytes,
                                             std::int64_t max_voxels = std::int64_t{1} << 30);

// Encodes one 3D volume as a single-file NIfTI-1 (.nii) in memory, gzip-compressed (.nii.gz)
// when `gzip`; int16 and float32 are stored as such (scl_slope 1, scl_inter 0). Errors:
// kInvalidArgument when the size does not match the dimensions.
Result<std::vector<std::uint8_t>> EncodeNiftiInt16(const NiftiGeometry& geometry,
                                                   std::span<const std::int16_t> values, bool gzip);
Result<std::vector<std::uint8_t>> EncodeNiftiFloat32(const NiftiGeometry& geometry,
                                                     std::span<const float> values, bool gzip);
Result<std::vector<std::uint8_t>> EncodeNiftiUint8(const NiftiGeometry& geometry,
                                                   std::span<const std::uint8_t> values, bool gzip);
// As EncodeNiftiFloat32 for `volumes` 3D volumes on one grid, stored one after the other in
// `values` (a 4D file, dim[4] = volumes, when more than one; DecodeNifti gives them back in
// order). Errors: kInvalidArgument when the size is not volumes x the dimensions.
Result<std::vector<std::uint8_t>> EncodeNiftiFloat32Volumes(const NiftiGeometry& geometry,
                                                            std::span<const float> values,
                                                            std::int64_t volumes, bool gzip);

// The geometry of a volume with `dims` whose voxel (i, j, k) lies at `ras` * (i, j, k, 1) (mm,
// RAS, rows of a 3x4 matrix): sform = `ras` (code `code`, 1 = scanner anatomical); qform the
// same rotation when the affine has orthogonal columns, else qform_code 0 (a sheared affine,
// e.g. gantry tilt, only fits the sform). pixdim = column lengths, units mm.
NiftiGeometry NiftiGeometryFromAffine(const std::array<std::int64_t, 3>& dims,
                                      const std::array<std::array<double, 4>, 3>& ras, int code = 1);

// The voxel-to-world matrix a reader should use (sform when sform_code > 0, else qform when
// qform_code > 0, else pixdim scaling), as nibabel's get_best_affine does.
std::array<std::array<double, 4>, 3> BestAffine(const NiftiGeometry& geometry);

// Reads a 3D volume of any integer or float datatype (uint8 .. uint64, int8 .. int64,
// float32, float64); a 4th..7th dimension of size 1 is accepted. Errors: kNotFound when the
// file does not exist; kInvalidArgument when it is not a readable NIfTI file or not 3D;
// kUnsupported for complex/RGB datatypes.
Result<NiftiVolume> ReadNiftiVolume(const std::string& path);

// As ReadNiftiVolume, and every scaled value must be an integer in 0..255 (else
// kInvalidArgument naming the first bad value).
Result<NiftiLabelMap> ReadNiftiLabelMap(const std::string& path);

// Write `values` (geometry.dims voxels, x fastest) with the given geometry; the file type
// follows the name (.nii.gz compresses). Errors: kInvalidArgument when the size does not match
// the dimensions or the name does not end in .nii or .nii.gz; kIo when the file cannot be
// written. The file appears complete or not at all (written beside it, then renamed).
Status WriteNiftiFloat32(const std::string& path, const NiftiGeometry& geometry,
                         std::span<const float> values);
Status WriteNiftiUint8(const std::string& path, const NiftiGeometry& geometry,
                       std::span<const std::uint8_t> values);

// `in` as a gzip stream (zlib level 6): .nii.gz files, and the web app's files as the server
// sends them to browsers that accept gzip.
Result<std::vector<std::uint8_t>> Gzip(std::span<const std::uint8_t> in);

}  // namespace caliper::ingest

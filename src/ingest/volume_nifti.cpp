#include "caliper/ingest/volume_nifti.h"

#include <cmath>

namespace caliper::ingest {

NiftiGeometry VolumeNiftiGeometry(const dicom::Volume& volume) {
  const dicom::Affine ras = volume.RasAffine();
  return NiftiGeometryFromAffine({volume.dims[0], volume.dims[1], volume.dims[2]},
                                 {ras[0], ras[1], ras[2]});
}

Result<std::vector<std::uint8_t>> VolumeToNifti(const dicom::Volume& volume, bool gzip) {
  if (volume.values.empty()) return Error(ErrorCode::kInvalidArgument, "empty volume");
  const NiftiGeometry geometry = VolumeNiftiGeometry(volume);
  bool integral = true;
  for (float v : volume.values) {
    if (!(v >= -32768.0f && v <= 32767.0f && v == std::nearbyint(v))) {
      integral = false;
      break;
    }
  }
  if (!integral) return EncodeNiftiFloat32(geometry, volume.values, gzip);
  std::vector<std::int16_t> values(volume.values.size());
  for (std::size_t i = 0; i < values.size(); ++i) values[i] = static_cast<std::int16_t>(volume.values[i]);
  return EncodeNiftiInt16(geometry, values, gzip);
}

}  // namespace caliper::ingest

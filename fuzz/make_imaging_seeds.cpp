// Writes the seed corpora of the imaging harnesses from our own generators (no patient data):
//   DICOM_DIR: phantom series (3 slices) in every transfer syntax DecodeImage reads, each as
//              one input with its instances joined by kInstanceSeparator; an enhanced CT; an
//              ultrasound cine in RGB and YBR.
//   NIFTI_DIR: a phantom volume as .nii and .nii.gz, int16 and float32.
// Usage: caliper_fuzz_imaging_seeds DICOM_DIR NIFTI_DIR
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "caliper/dicom/encode.h"
#include "caliper/dicom/phantom.h"
#include "caliper/ingest/volume_nifti.h"
#include "imaging_fuzz.h"

namespace {

using Bytes = std::vector<std::uint8_t>;

bool Save(const std::string& path, const Bytes& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  return static_cast<bool>(out);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace caliper;
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s DICOM_DIR NIFTI_DIR\n", argv[0]);
    return 2;
  }
  const std::string dicom_dir = argv[1], nifti_dir = argv[2];
  dicom::CtPhantomOptions o;
  o.slices = 3;
  o.rows = o.cols = 16;
  o.landmarks = true;
  o.seed = 1;
  auto series = dicom::MakeCtPhantomSeries(o);
  if (!series.ok()) return 1;
  int written = 0;
  for (const char* uid : {"1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.1.99",
                          "1.2.840.10008.1.2.2", "1.2.840.10008.1.2.5", "1.2.840.10008.1.2.4.57",
                          "1.2.840.10008.1.2.4.70", "1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.81",
                          "1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.4.91"}) {
    Bytes joined;
    for (const Bytes& slice : *series) {
      auto encoded = dicom::Transcode(slice, uid);
      if (!encoded.ok()) {  // e.g. JPEG-LS near-lossless refuses signed 16-bit: no seed then
        std::fprintf(stderr, "no seed for %s: %s\n", uid, encoded.status().ToString().c_str());
        joined.clear();
        break;
      }
      if (!joined.empty()) joined.insert(joined.end(), fuzz::kInstanceSeparator.begin(), fuzz::kInstanceSeparator.end());
      joined.insert(joined.end(), encoded->begin(), encoded->end());
    }
    if (!joined.empty()) written += Save(dicom_dir + "/series_" + uid + ".bin", joined);
  }
  if (auto enhanced = dicom::MakeEnhancedCtPhantom(o); enhanced.ok()) written += Save(dicom_dir + "/enhanced_ct.dcm", *enhanced);
  for (bool ybr : {false, true}) {
    if (auto cine = dicom::MakeUltrasoundCinePhantom(2, 16, 16, ybr, 1); cine.ok()) {
      written += Save(dicom_dir + std::string("/us_cine_") + (ybr ? "ybr" : "rgb") + ".dcm", *cine);
    }
  }
  std::vector<std::span<const std::uint8_t>> spans(series->begin(), series->end());
  auto volume = dicom::BuildVolume(spans);
  if (!volume.ok()) return 1;
  for (bool gzip : {false, true}) {
    if (auto nii = ingest::VolumeToNifti(*volume, gzip); nii.ok()) {
      written += Save(nifti_dir + (gzip ? "/ct.nii.gz" : "/ct.nii"), *nii);
    }
    dicom::Volume scaled = *volume;
    for (float& v : scaled.values) v *= 0.5f;
    if (auto nii = ingest::VolumeToNifti(scaled, gzip); nii.ok()) {
      written += Save(nifti_dir + (gzip ? "/float.nii.gz" : "/float.nii"), *nii);
    }
  }
  std::printf("wrote %d seeds\n", written);
  return 0;
}

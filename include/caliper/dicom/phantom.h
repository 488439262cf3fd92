#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "caliper/common/status.h"

namespace caliper::dicom {

// What WriteCtPhantomSeries writes. Every value is synthetic: the phantom is geometry we
// compute, and the "PHI" is fake, present on purpose so that de-identification can be tested.
// Dates are DICOM DA ("YYYYMMDD"), times DICOM TM ("HHMMSS"), lengths in millimetres.
struct CtPhantomOptions {
  std::string patient_name = "DOE^JANE^Q";  // DICOM PN; may be UTF-8 (written as ISO_IR 192)
  std::string patient_id = "MRN-000123";
  std::string birth_date = "19580214";
  std::string patient_sex = "F";  // "F", "M" or "O"
  std::string study_date = "20250312";
  std::string study_time = "093015";
  std::string accession_number = "ACC-20250312-0042";
  int slices = 16;
  int rows = 64;
  int cols = 64;
  double pixel_spacing_mm = 5.0;    // in-plane, both directions
  double slice_thickness_mm = 5.0;  // also the distance between slice centres
  // With a seed, every UID is derived from it and the output is byte-identical from run to run.
  // Without one, a seed is drawn from the kernel's CSPRNG, so UIDs are globally unique.
  std::optional<std::uint64_t> seed;
};

// Hounsfield values of the phantom's tissues (PS3.3 C.8.2.1: HU = stored * 1 - 1024).
inline constexpr int kPhantomAirHu = -1000;
inline constexpr int kPhantomSoftTissueHu = 40;
inline constexpr int kPhantomLiverHu = 60;
inline constexpr int kPhantomLesionHu = 120;
inline constexpr int kPhantomBoneHu = 700;

// Writes one axial CT series (CT Image Storage, explicit VR little endian, Part 10 file meta)
// into `out_dir` (created if missing) as ct_0001.dcm .. ct_NNNN.dcm, slice 1 at the lowest z.
//
// Each slice is rows x cols signed 16-bit pixels (Rescale Slope 1, Intercept -1024) showing an
// elliptical body of soft tissue in air, a bone disc posteriorly (the spine), and a liver-like
// region on the patient's right holding a round lesion whose radius peaks on the middle slice
// and shrinks across the others (absent from the first and last slice when slices >= 4).
// Image Position (Patient) steps by slice_thickness_mm along +z; the orientation is axial
// (1\0\0\0\1\0), LPS.
//
// Headers carry the options' fake PHI plus more (physicians, institution, station, device
// serial, descriptions naming the patient, an Other Patient IDs Sequence, a private block
// "CALIPER SYNTH" in group 0009 repeating the name and id), and slices 2..N reference slice 1
// in a Referenced Image Sequence.
//
// On success, appends the written paths in slice order to `written` when it is non-null.
// Errors: kInvalidArgument for out-of-range sizes or spacing (slices 1..2048, rows/cols
// 8..4096, spacing > 0) or a date that is not 8 digits; kIo when the directory or a file
// cannot be written (files written before the failure are left in place); kInternal if DCMTK
// refuses a value. Thread-safe for distinct out_dirs.
Status WriteCtPhantomSeries(const CtPhantomOptions& options, const std::string& out_dir,
                            std::vector<std::string>* written);

// The UID that WriteCtPhantomSeries derives from `seed` for `purpose` (any label; distinct
// labels give distinct UIDs with overwhelming probability): "2.25." and the decimal form of
// a 128-bit number (PS3.5 B.2). Deterministic; exposed so tests can predict UIDs.
std::string DeriveUid(std::uint64_t seed, const std::string& purpose);

}  // namespace caliper::dicom

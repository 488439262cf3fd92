#pragma once

#include <array>
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
  // Issuer of Patient ID (0010,0021); empty leaves the attribute out (it is Type 3).
  std::string issuer_of_patient_id = "Caliper General Hospital";
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
  // Adds the landmark voxels of PhantomLandmarks (single voxels of known HU in the air around
  // the body) so that geometry tests can find known voxels after any transformation.
  bool landmarks = false;
  // Writes Burned In Annotation (0028,0301) = YES, so de-identification quarantines the slices
  // for pixel review (nothing is burned in: the pixels are the phantom's).
  bool burned_in_annotation = false;
  // Variants for one odd instance in an ordinary series of the same seed (tests of what ingest
  // refuses, docs/imaging.md): the Image Orientation (Patient) as written (the positions stay
  // those of an axial series), the DeriveUid purposes of the Frame of Reference UID and of the
  // SOP Instance UIDs ("<sop_label>/<slice>"), and a shift of every Image Position (Patient).
  std::string orientation = "1\\0\\0\\0\\1\\0";
  std::string frame_of_reference_label = "frame_of_reference";
  std::string sop_label = "sop";
  std::array<double, 3> offset_mm{0, 0, 0};
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

// As WriteCtPhantomSeries, in memory: one Part 10 file (explicit VR little endian) per slice,
// slice 1 first. Same errors except kIo.
Result<std::vector<std::vector<std::uint8_t>>> MakeCtPhantomSeries(const CtPhantomOptions& options);

// A landmark voxel: column i, row j (0-based) of slice k (0-based, in the series' order), its
// HU, and the centre of that voxel in patient coordinates (LPS, mm).
struct PhantomLandmark {
  int i = 0, j = 0, k = 0;
  int hu = 0;
  std::array<double, 3> lps{};
};
inline constexpr int kPhantomLandmarkHu[3] = {1500, 2000, 2500};

// The three landmarks the phantom gets with options.landmarks: near the right-anterior corner
// of the first (lowest) slice, the left-anterior corner of the last slice, and the
// right-posterior corner of the middle slice. Needs slices >= 1 and rows, cols >= 8.
std::vector<PhantomLandmark> PhantomLandmarks(const CtPhantomOptions& options);

// The same phantom as one Enhanced CT Image Storage instance (PS3.3 A.38): options.slices frames
// stored top (highest z) first, geometry in functional groups (shared Pixel Measures, Plane
// Orientation and Pixel Value Transformation; per-frame Plane Position; frame 1 overrides the
// shared Rescale Intercept with -1000 and stores its pixels accordingly, so only a reader that
// honours per-frame groups gets the right HU). Errors as MakeCtPhantomSeries.
Result<std::vector<std::uint8_t>> MakeEnhancedCtPhantom(const CtPhantomOptions& options);

// An ultrasound cine loop (US Multi-frame Image Storage, 8-bit colour): a bright disc moving
// across a dark gradient. `ybr_planar` stores it as YBR_FULL with Planar Configuration 1
// (converted from the RGB of UltrasoundPhantomRgb, so back-conversion is within 2 per sample);
// otherwise RGB interleaved. Errors: kInvalidArgument for frames < 1 or sizes outside 8..1024.
Result<std::vector<std::uint8_t>> MakeUltrasoundCinePhantom(int frames, int rows, int cols,
                                                            bool ybr_planar, std::uint64_t seed);
// The RGB of pixel (row, col) of frame `frame` in that loop.
std::array<std::uint8_t, 3> UltrasoundPhantomRgb(int frame, int row, int col, int rows, int cols);

// The UID that WriteCtPhantomSeries derives from `seed` for `purpose` (any label; distinct
// labels give distinct UIDs with overwhelming probability): "2.25." and the decimal form of
// a 128-bit number (PS3.5 B.2). Deterministic; exposed so tests can predict UIDs.
std::string DeriveUid(std::uint64_t seed, const std::string& purpose);

}  // namespace caliper::dicom

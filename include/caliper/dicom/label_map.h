#pragma once

// Masks: a label map on a volume's voxel grid (one uint8 label per voxel, 0 = background) with
// the segments its labels stand for, how it is stored (zstd; the caller's BlobStore encrypts),
// and DICOM-SEG in and out (docs/imaging.md). No DCMTK type appears here. Thread-safe.

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "caliper/common/status.h"
#include "caliper/dicom/volume.h"

namespace caliper::dicom {

// A code (PS3.3 8.8): e.g. {"108369006", "SCT", "Neoplasm"}.
struct CodedConcept {
  std::string value;
  std::string scheme;  // Coding Scheme Designator: "SCT" for SNOMED CT, "DCM", ...
  std::string meaning;
};

// Segment Algorithm Type (PS3.3 C.8.20.2): MANUAL, drawn by a person; AUTOMATIC, calculated;
// SEMIAUTOMATIC, calculated with user assistance (a model's output a reader edited).
enum class SegmentAlgorithm { kManual, kSemiAutomatic, kAutomatic };

// The Algorithm Identification Macro (PS3.3 Table 10-19) of a calculated segment, written as
// its Segmentation Algorithm Identification Sequence (0062,0007): the algorithm's family (CID
// 7162, e.g. kArtificialIntelligence), name and version, each at most 64 characters (LO).
// Complete() when all three are set; an incomplete one is kept but not written.
struct AlgorithmIdentification {
  CodedConcept family;
  std::string name;
  std::string version;
  bool Complete() const {
    return !family.value.empty() && !family.scheme.empty() && !family.meaning.empty() && !name.empty() &&
           !version.empty();
  }
};

// CID 7162 Surface Processing Algorithm Family: a model's pre-label (PS3.16).
inline const CodedConcept kArtificialIntelligence{"123110", "DCM", "Artificial Intelligence"};

struct Segment {
  std::uint8_t label = 1;      // the voxel value, 1..255
  std::string class_id;        // the label schema's class
  std::string name;            // Segment Label
  CodedConcept category;       // Segmented Property Category Code
  CodedConcept type;           // Segmented Property Type Code
  SegmentAlgorithm algorithm = SegmentAlgorithm::kManual;
  std::string algorithm_name;  // Segment Algorithm Name: required unless kManual
  AlgorithmIdentification algorithm_identification;  // unless kManual, when known
};

struct LabelMap {
  std::array<int, 3> dims{0, 0, 0};  // as Volume: columns, rows, slices
  Affine lps{};                      // voxel -> patient (LPS, mm), as Volume::lps
  std::vector<std::uint8_t> labels;  // i fastest, then j, then k
  std::vector<Segment> segments;
};

// An all-background label map on `volume`'s grid, with no segments.
LabelMap EmptyLabelMap(const Volume& volume);

// Checks the map itself: the label count matches dims, segment labels are 1..255 and
// distinct, every label used in the voxels has a segment, every segment has a name and both
// codes, and non-manual segments name their algorithm. Errors: kInvalidArgument naming the
// first problem.
Status ValidateLabelMap(const LabelMap& map);

// Checks that `map` lies on `volume`'s grid: equal dims, and every voxel corner of the grid at
// most `tolerance_mm` from the volume's. Errors: kInvalidArgument saying what differs
// ("mask is 44x30x5 but the volume is 44x30x6", "mask voxel (0,0,0) is at ... mm, ...").
Status CheckAligned(const LabelMap& map, const Volume& volume, double tolerance_mm = 1e-3);

// Storage form: "CLM2" + a zstd frame of the geometry, segments (with their algorithm
// identification) and labels. Decompress also reads the earlier "CLM1" (segments without
// algorithm identification), refuses data that is neither or is corrupt (kIntegrity) and maps
// larger than `max_voxels` (kInvalidArgument), and validates the result.
Result<std::vector<std::uint8_t>> CompressLabelMap(const LabelMap& map);
Result<LabelMap> DecompressLabelMap(std::span<const std::uint8_t> bytes,
                                    std::int64_t max_voxels = std::int64_t{1} << 30);

struct SegWriteOptions {
  std::string series_description = "Segmentation";
  std::string content_label = "MASK";           // Content Label (CS: upper case, digits, _ )
  std::string content_creator;                  // Content Creator's Name (PN), may be empty
  int series_number = 1000;
  std::string manufacturer = "Caliper";
  std::string model = "Caliper";
  std::string software_version = "0.1.0";
  std::string device_serial = "1";
  // For output that is the same every time it is written (a dataset export built twice): when
  // set, these replace the UIDs DCMTK generates and the current date and time (Content,
  // Instance Creation and Series Date/Time).
  std::string sop_instance_uid;
  std::string series_instance_uid;
  std::string dimension_organization_uid;
  std::string content_date;  // DA, YYYYMMDD
  std::string content_time;  // TM, HHMMSS
};

// Writes `map` as a DICOM Segmentation (PS3.3 A.51, BINARY) with DCMTK dcmseg: one segment
// per entry of map.segments with its codes and algorithm (a SEMIAUTOMATIC or AUTOMATIC one its
// Segment Algorithm Name and, when Complete(), its Segmentation Algorithm Identification
// Sequence; a MANUAL one neither); one frame per segment and slice that
// holds any of its voxels (a segment with none gets one empty frame); per-frame Plane Position,
// Derivation Image (the source slice's SOP Class/Instance UID and frame), Frame Content with
// dimension indices (segment, position); shared Plane Orientation and Pixel Measures; Patient,
// Study and Frame of Reference from `source_instance` (one instance of the source series, e.g.
// its first de-identified file); Referenced Series Sequence naming every source instance.
// Errors: kInvalidArgument when the map fails ValidateLabelMap or CheckAligned, when the
// volume does not know its source instances, or the source instance does not parse;
// kInternal if DCMTK refuses.
Result<std::vector<std::uint8_t>> WriteSegmentation(const LabelMap& map, const Volume& volume,
                                                    std::span<const std::uint8_t> source_instance,
                                                    const SegWriteOptions& options = {});

// Reads a DICOM Segmentation (BINARY, or FRACTIONAL taken as set from half the maximum
// fractional value) back onto `volume`'s grid: frames are placed by their Plane Position
// (Patient) on the volume's slices (else by the referenced source instance), segments become
// labels 1..N in Segment Number order, codes and algorithm kept (type, name, and the first item
// of the Segmentation Algorithm Identification Sequence when present). When the volume knows its
// series (built from DICOM), the segmentation must have been drawn on it: the same Frame of
// Reference UID, and a Referenced Series Sequence, when present, naming the volume's series.
// Errors: kInvalidArgument for bytes that are not a Segmentation, another Frame of Reference or
// series, frames of another size or orientation, a frame that lies on no slice of the volume,
// or segments that overlap (a label map holds one label per voxel: the message names the
// segments); kUnsupported for a segmentation without patient geometry (e.g. slide microscopy)
// or a Label Map Segmentation.
Result<LabelMap> ReadSegmentation(std::span<const std::uint8_t> bytes, const Volume& volume);

// What a DICOM Segmentation says it was drawn on: its Frame of Reference UID and the Series
// Instance UIDs of its Referenced Series Sequence ("" and none when absent). Errors as
// ReadSegmentation's for bytes that are not DICOM, not a Segmentation, or a Label Map one.
struct SegReferences {
  std::string frame_of_reference_uid;
  std::vector<std::string> series_instance_uids;
};
Result<SegReferences> ReadSegmentationReferences(std::span<const std::uint8_t> bytes);

}  // namespace caliper::dicom

#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "caliper/common/status.h"

// De-identification of DICOM instances under the Basic Application Level Confidentiality
// Profile of PS3.15 Annex E (Table E.1-1, generated from the standard by
// tools/gen_dicom_profile.py) with a chosen set of its options, before anything is stored.
// What each action does, how combined actions are resolved and how burned-in text is
// handled: docs/deid-dicom.md.
namespace caliper::dicom {

// The edition of Table E.1-1 the engine applies, e.g. "DICOM PS3.15 2024b Table E.1-1".
std::string_view ProfileEdition();

// A private element that may be kept under Retain Safe Private (PS3.15 E.3.10): the block's
// Private Creator value, the (odd) group and the element's low byte (0x00..0xFF; the element
// (gggg,xxee) in whichever block xx the creator reserved).
struct SafePrivateElement {
  std::string creator;
  std::uint16_t group = 0;
  std::uint8_t element = 0;
};

// A rectangle of stored pixels to overwrite with zero, in pixel coordinates of every frame
// (column x, row y, from the top-left pixel; clipped to the image).
struct PixelRect {
  int x = 0, y = 0, width = 0, height = 0;
};

// Blanking of burned-in text for one kind of device. A rule applies to an instance when its
// Modality equals `modality` and each non-empty of `manufacturer` and `model` equals the
// instance's Manufacturer / Manufacturer's Model Name (case-insensitive, trimmed).
struct BlankingRule {
  std::string modality;
  std::string manufacturer;
  std::string model;
  std::vector<PixelRect> rects;
};

// The options of Table E.1-1 a project may choose. Retain UIDs, Full Dates and Institution
// Identity are deliberately not offered: they defeat the purpose of de-identification here.
struct DeidOptions {
  bool retain_modified_dates = false;           // Retain Longitudinal Temporal Info., Modified Dates
  bool retain_patient_characteristics = false;  // age, sex, size, weight, ...
  bool retain_device_identity = false;          // serial numbers, station names, ...
  bool clean_descriptors = false;               // descriptions kept, identifying words removed
  bool retain_safe_private = false;             // keep the private elements in `safe_private`
  std::vector<SafePrivateElement> safe_private;
  std::vector<BlankingRule> blanking;
  // Inputs larger than this are refused with kPayloadTooLarge.
  std::size_t max_input_bytes = std::size_t{2} << 30;
  // Pixel data that ends the file (as it nearly always does) and is not blanked is copied as it
  // came, without DCMTK parsing and re-encoding it; the result is the same file, made with
  // fewer copies of the largest element. False parses every element (for comparison).
  bool keep_pixel_bytes = true;
};

// Parses a comma-separated list of option names ("retain-dates,clean-descriptors",
// docs/deid-dicom.md) into `options`. kInvalidArgument names an unknown option.
Status ParseDeidOptionList(std::string_view list, DeidOptions& options);

// The canonical names of the options `options` turns on, in the order of the table in
// docs/deid-dicom.md ("retain-dates", "retain-patient-characteristics",
// "retain-device-identity", "clean-descriptors", "retain-safe-private").
std::vector<std::string> DeidOptionNames(const DeidOptions& options);

// A safe private element in the words of `caliper deid dicom --safe-private`: "CREATOR:GGGG:EE"
// (group and element byte in hex; the creator may contain ':'). kInvalidArgument otherwise,
// also for an even group, a group below 0009 or an empty creator.
Result<SafePrivateElement> ParseSafePrivateSpec(std::string_view spec);

// A blanking rule in the words of `caliper deid dicom --blank`:
// "MODALITY[/MANUFACTURER[/MODEL]]:X,Y,W,H" (one rectangle). kInvalidArgument otherwise, also
// for an empty modality or a rectangle without a positive size.
Result<BlankingRule> ParseBlankingSpec(std::string_view spec);

// Options from their words: an option list (ParseDeidOptionList), safe private elements
// (ParseSafePrivateSpec; any of them turns Retain Safe Private on) and blanking rules
// (ParseBlankingSpec). The one parser of `caliper deid dicom` and of a project's settings.
Result<DeidOptions> DeidOptionsFromSpecs(std::string_view option_list, const std::vector<std::string>& safe_private,
                                         const std::vector<std::string>& blanking);

// The keyed hash every pseudonym derives from: a PRF of `message` under the project's secret
// key, at least 16 bytes of output (only the first 16 are used). Injected because the dicom
// part may not depend on security (docs/architecture.md); the application passes keyed
// BLAKE2b (security::KeyedHasher). Must be thread-safe when the de-identifier is shared.
using KeyedHash = std::function<std::array<unsigned char, 32>(std::string_view message)>;

// Counts of what was done to one instance, by action.
struct DeidActions {
  int dummy = 0;           // D: replaced by a dummy or pseudonym
  int zeroed = 0;          // Z: emptied
  int removed = 0;         // X: removed
  int kept = 0;            // K: kept by an option
  int cleaned = 0;         // C: cleaned (descriptors, shifted dates)
  int uid_remapped = 0;    // U: replaced by a keyed 2.25 UID
  int private_removed = 0; // private elements removed
  int private_kept = 0;    // safe private elements kept
  int dates_shifted = 0;   // DA/DT values moved by the patient's offset (also counted in C)
  int pixels_blanked = 0;  // rectangles blanked (summed over frames)
  // The transfer syntax UID of compressed pixel data decoded so that it could be blanked (the
  // output then holds it native, in Explicit VR Little Endian); "" when nothing was decoded.
  std::string pixels_decompressed_from;
};

// The original identity and its pseudonym. The caller stores this only encrypted (only a
// data steward may read it); it is never written into the output.
struct PatientLink {
  std::string original_patient_id;
  std::string original_issuer;  // Issuer of Patient ID
  std::string original_name;
  std::string original_study_uid;  // Study Instance UID before it was remapped
  std::string pseudonymous_id;  // also the output's Patient ID and Patient's Name
  int date_offset_days = 0;     // applied when retain_modified_dates (always <= -1)
};

// Coarsened cohort metadata, read BEFORE de-identification removes it. Empty when absent.
struct CohortMetadata {
  std::string age_band;             // "65-69", ..., "90+" (from Patient's Age or birth date)
  std::string sex;                  // "F", "M", "O"
  std::string manufacturer;
  std::string model;
  std::string field_strength;       // tesla, as in the header ("3")
  std::string slice_thickness;      // mm
  std::string kvp;
  std::string body_part;
  std::string series_description;   // cleaned of the instance's identifying words
  std::string protocol;             // Protocol Name, cleaned the same way
  std::string ethnicity;            // Ethnic Group (race or ethnicity, as the site records it), upper-cased
  std::string site;                 // "site-" + keyed hash of the institution
  std::string acquisition_year;     // "2025"
  std::string modality;
};

struct DeidResult {
  std::string bytes;  // the de-identified DICOM Part 10 file (same transfer syntax unless blanked
                      // pixel data had to be decompressed: actions.pixels_decompressed_from)
  DeidActions actions;
  bool burned_in_risk = false;
  std::vector<std::string> burned_in_reasons;  // e.g. "Burned In Annotation = YES"
  bool quarantine = false;  // burned-in risk and no blanking rule applied: needs pixel review
  PatientLink patient;
  std::string study_uid, series_uid, sop_instance_uid;  // new UIDs ("" when absent)
  std::string sop_class_uid;
  std::string transfer_syntax_uid;  // of `bytes`
  CohortMetadata cohort;
};

// De-identifies DICOM Part 10 instances. Create once per project configuration and reuse;
// Deidentify is const and thread-safe (when the KeyedHash is).
//
// Guarantees, for every instance (docs/deid-dicom.md):
// - every attribute of Table E.1-1 gets its action (with the chosen options), at any depth of
//   sequence nesting; private attributes go unless safe-listed under Retain Safe Private;
//   attributes of other groups with VR PN are emptied and DA/DT ones removed (or shifted);
// - every UID the table marks U becomes "2.25.<decimal of 128 bits of KeyedHash>", so one
//   input UID always maps to one output UID under one key: references, Frame of Reference
//   and studies split over uploads stay consistent;
// - Patient ID and Patient's Name become the keyed pseudonym of the original Patient ID
//   (with its issuer); with retain_modified_dates every DA/DT moves by the patient's offset;
// - Patient Identity Removed = YES, De-identification Method and its Code Sequence (CID 7050)
//   name the profile edition and options;
// - Pixel Data is never decoded and stays byte-identical, except where a blanking rule applies:
//   its rectangles are zeroed in every frame (BlankPixelRects, which decodes compressed pixel
//   data first and writes it native).
class DicomDeidentifier {
 public:
  // kInvalidArgument for a missing hash, or a safe-private entry with an even group, or a
  // blanking rule without modality or with an empty rectangle.
  static Result<std::unique_ptr<DicomDeidentifier>> Create(DeidOptions options, KeyedHash hash);
  ~DicomDeidentifier();
  DicomDeidentifier(const DicomDeidentifier&) = delete;
  DicomDeidentifier& operator=(const DicomDeidentifier&) = delete;

  // De-identifies one Part 10 file held in memory. Errors (nothing is returned then):
  // kInvalidArgument for input that is empty, not DICOM (no "DICM" preamble), truncated or
  // malformed, or whose image dimensions disagree with its pixel data; when a blanking rule
  // applies, the errors of BlankPixelRects; kPayloadTooLarge beyond max_input_bytes.
  Result<DeidResult> Deidentify(std::string_view part10) const;
  // De-identifies the file at `path` and writes the result to the file descriptor `out` (open
  // for writing, at its start): the de-identified header, then the pixel data, which the kernel
  // copies from file to file (copy_file_range) when it ends the input and is kept as it came, so
  // the largest element never passes through this process. Native pixel data a blanking rule
  // changes is copied from the mapped input a few frames at a time, blanked on the way; compressed
  // pixel data is decoded and the file written as DCMTK serialises it, in chunks of at most
  // 256 KiB, so besides the decoded instance no copy of the file is held. The result's `bytes`
  // stay empty.
  // Errors as Deidentify, and kIo when `path` cannot be read or `out` written (`out` may then
  // hold part of a file: the caller discards it). The input must not shrink meanwhile.
  Result<DeidResult> DeidentifyFileTo(const std::string& path, int out) const;

  const DeidOptions& options() const;

 private:
  struct Impl;
  explicit DicomDeidentifier(std::unique_ptr<Impl> impl);
  // Where Run writes the file instead of the result's bytes: to `fd`, by chunks, all but pixel
  // data kept as it came, whose start in the input Run sets in `pixel_tail` (ElementLayout::kNone
  // when there is none: the whole file was written).
  struct FileOut {
    int fd = -1;
    std::size_t pixel_tail = static_cast<std::size_t>(-1);
  };
  // De-identifies `part10` into the result's bytes, or with `file_out` (may be null) to its file.
  Result<DeidResult> Run(std::string_view part10, bool keep_pixel_bytes, FileOut* file_out) const;
  std::unique_ptr<Impl> impl_;
};

// What BlankPixelRects did.
struct BlankOutcome {
  int blanked = 0;  // rectangles blanked, summed over frames (one wholly outside counts nothing)
  std::string decompressed_from;  // transfer syntax UID of the decoded compressed pixel data, or ""
};

// Zeroes `rects` in every frame (and sample) of an instance's pixel data, as a blanking rule
// does, and marks the instance: De-identification Method gains "Clean Pixel Data (rectangles)"
// and its Code Sequence 113101, once. Native pixel data keeps its transfer syntax and nothing
// else changes. Compressed pixel data in a syntax DecodeImage reads (RLE, JPEG baseline,
// extended and lossless, JPEG-LS, JPEG 2000; every frame) is decoded by the same decoders and
// written native in Explicit VR Little Endian — never re-encoded, which would add loss — with the
// Photometric Interpretation, Planar Configuration and bits the decoder gives (YBR_FULL_422 JPEG
// becomes RGB); Lossy Image Compression and its ratio and method stay, and a lossy syntax sets it
// to "01" when absent. When no rectangle meets the image nothing changes (blanked is 0).
// Errors: kInvalidArgument for input that is not a DICOM Part 10 file, has no Pixel Data, a
// rectangle without a positive size, compressed frames that do not decode, or a decoded size
// beyond DecodeLimits; kUnsupported for a compressed syntax Caliper cannot decode or pixels that
// are not whole bytes. `outcome` may be null.
Result<std::string> BlankPixelRects(std::string_view part10, const std::vector<PixelRect>& rects,
                                    BlankOutcome* outcome = nullptr);

// The pseudonymous UID for `uid` under `hash` ("2.25." + decimal of 128 bits), as
// Deidentify maps it; exposed so callers can map references they hold elsewhere.
std::string PseudonymousUid(const KeyedHash& hash, std::string_view uid);

}  // namespace caliper::dicom

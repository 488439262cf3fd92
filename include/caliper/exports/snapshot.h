#pragma once

// A dataset snapshot: the files an approved export contains, built deterministically from a
// project's items, readings and final labels (docs/export.md). Pure: no store, no keys, no
// clock; the same input gives byte-identical files. Thread-compatible.
//
// Files: manifest.json (ids, versions, guideline versions, de-identification profile,
// approvers, splits, SHA-256 of every other file), labels.jsonl (one record per item x
// label), labels.csv (classification view), splits.csv (patient -> split),
// subgroup_report.json and subgroup_report.html (STANDING Together-aligned documentation),
// for notes with span labels spans/bioc.json and spans/brat/ (brat standoff), and for slides
// with regions regions/geojson/<item>.geojson and regions/coco.json (docs/pathology.md), and
// for imaging items with masks masks/ (NIfTI label maps, STAPLE probability maps, DICOM-SEG;
// docs/export.md).

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "caliper/common/status.h"
#include "caliper/core/regions.h"
#include "caliper/core/types.h"
#include "caliper/dicom/volume.h"
#include "caliper/ingest/nifti_io.h"

namespace caliper::exports {

// One version of a mask as stored: dicom::CompressLabelMap output (decrypted).
struct SnapshotMask {
  std::int64_t version = 0;
  std::vector<std::uint8_t> stored;
};

// One reader's reading of an item, with the reader already pseudonymised ("reader-01").
struct SnapshotReading {
  std::string reader;
  std::string qualification;  // "radiologist", ... or ""
  std::vector<core::Annotation> labels;
  std::vector<core::Review> reviews;  // decisions on this reading
  std::optional<SnapshotMask> mask;   // the mask its labels with mask evidence name, if any
};

// The volume of an imaging item with masks, as the masks are exported on it.
struct SnapshotVolume {
  ingest::NiftiGeometry geometry;  // of the item's stored volume: exported masks carry it exactly
  // An item built from DICOM: its series rebuilt from the stored de-identified instances
  // (geometry, UIDs and slice sources; voxel values not needed) and one of those instances,
  // for DICOM-SEG. Empty `source_instance`: no DICOM source (a NIfTI item), no DICOM-SEG.
  dicom::Volume series;
  std::vector<std::uint8_t> source_instance;
};

// One reader's latest regions on a slide, the reader pseudonymised.
struct SnapshotRegions {
  std::string reader;
  std::int64_t version = 0;
  std::vector<core::Region> regions;
};

struct SnapshotItem {
  core::Item item;  // patient_key is the pseudonymous patient; cohort_json the coarsened cohort
  std::vector<SnapshotReading> readings;
  std::vector<core::Annotation> final_labels;  // the adjudicated labels, if adjudicated
  std::string adjudicator;                     // pseudonymised; "" when not adjudicated
  std::string adjudication_rationale;
  std::string text;  // the stored (de-identified) note text of a note item with span labels; else ""
  // A slide's size (level-0 pixels) and every reader's latest regions on it; empty otherwise.
  std::int64_t slide_width = 0, slide_height = 0;
  std::vector<SnapshotRegions> regions;
  // An imaging item with masks: its volume, and the final (adjudicated) mask when the final
  // labels name one (readers' masks are in `readings`).
  std::optional<SnapshotVolume> volume;
  std::optional<SnapshotMask> final_mask;
};

struct SplitSpec {
  double train = 0.7;
  double validation = 0.15;
  double test = 0.15;
  std::uint64_t seed = 1;
  // Cohort attributes (keys of cohort_json, or "modality") stratified on besides the label.
  std::vector<std::string> stratify_by;
};

struct SubgroupSpec {
  double min_share = 0.05;        // a subgroup below this share of items is under-represented
  double agreement_margin = 0.1;  // |alpha_subgroup - alpha_all| above this is flagged
  std::int64_t min_items_for_agreement = 5;
};

struct SnapshotInput {
  std::string dataset_id;
  std::int64_t version = 1;
  std::string project_id;
  std::string project_name;
  std::string created_at;  // RFC 3339: the approval time (fixed, so rebuilding is identical)
  std::string caliper_version;
  std::vector<std::pair<std::string, int>> guideline_versions;  // (id, number) used by labels
  std::string deidentification_json = "{}";  // the profile and options in force
  std::string requested_by;                  // display names: people are named in the manifest
  std::vector<std::string> approvers;
  std::map<std::string, std::string> code_system_of;  // class id -> "SNOMED CT" ...
  std::map<std::string, std::string> code_of;         // class id -> code
  // The guideline's classes that apply to pathology, (id, name) in schema order: the COCO
  // categories of regions/coco.json.
  std::vector<std::pair<std::string, std::string>> region_classes;
  std::vector<SnapshotItem> items;
  SplitSpec splits;
  SubgroupSpec subgroups;
};

struct Snapshot {
  std::map<std::string, std::string> files;  // path -> bytes, including manifest.json
};

// Errors: kInvalidArgument when the split fractions are negative or do not sum to 1 (within
// 1e-9), or an item has no patient; for masks, kIntegrity when a stored mask does not decode
// or is not on its volume's grid.
Result<Snapshot> BuildSnapshot(const SnapshotInput& input);

// Patient-level split: every item of a patient lands in one split. Patients are grouped into
// strata (their most frequent final label, then the stratify_by attributes), each stratum is
// shuffled with a seeded Fisher–Yates (SplitMix64, so the result does not depend on the
// standard library) and cut by the fractions with largest remainders. Returns patient -> split
// ("train", "validation", "test").
Result<std::map<std::string, std::string>> SplitPatients(const SnapshotInput& input);

// Checks a snapshot directory against its manifest.json: every listed file exists with the
// listed size and SHA-256, and no file is unlisted. Returns the number of files checked, or
// kIntegrity naming the first problem; kNotFound without a manifest.
Result<std::int64_t> VerifySnapshotDirectory(const std::string& dir);

// A deterministic tar (ustar, mtime 0, uid/gid 0, mode 0644, sorted paths) of the files.
Result<std::string> TarSnapshot(const Snapshot& snapshot);
// One file of such a tar (kNotFound when absent).
Result<std::string> ReadTarFile(const std::string& tar_bytes, const std::string& name);
// Calls `entry` with the path and bytes of every regular file of the ZIP archive at
// `zip_path`, in archive order (e.g. DICOM files brought in as one archive). Errors: kIo when
// the file is not a readable ZIP; kPayloadTooLarge for an entry over `max_entry_bytes`
// (checked while inflating, whatever the entry's header claims); an error of `entry` stops
// the walk and is returned.
Status ForEachZipEntry(const std::string& zip_path, std::size_t max_entry_bytes,
                       const std::function<Status(const std::string& path, std::string bytes)>& entry);
// Extracts such a tar into `dir` (created; must be empty or absent). Refuses absolute paths,
// ".." and links (kInvalidArgument).
Status ExtractSnapshotTar(const std::string& tar_bytes, const std::string& dir);

}  // namespace caliper::exports

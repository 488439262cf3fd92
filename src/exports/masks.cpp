#include "exports/masks.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <optional>

#include "caliper/common/clock.h"
#include "caliper/dicom/deid.h"
#include "caliper/dicom/label_map.h"
#include "caliper/quality/staple.h"
#include "caliper/security/crypto.h"
#include "exports/csv.h"

namespace caliper::exports {
namespace {

using ordered_json = nlohmann::ordered_json;

constexpr char kFinal[] = "final";

// Rounds to 9 decimals so the text of a rate is the same on every platform.
double Round9(double v) { return std::round(v * 1e9) / 1e9; }

struct NamedMask {
  std::string name;  // "reader-01", ..., or "final"
  std::int64_t version = 0;
  dicom::LabelMap map;
};

std::string DimsText(std::int64_t x, std::int64_t y, std::int64_t z) {
  return std::to_string(x) + "x" + std::to_string(y) + "x" + std::to_string(z);
}

Result<NamedMask> Decode(const SnapshotItem& it, const std::string& name, const SnapshotMask& stored) {
  const std::string what = "mask version " + std::to_string(stored.version) + " of " + name + " on item " + it.item.id;
  auto map = dicom::DecompressLabelMap(stored.stored);
  if (!map.ok()) return Error(ErrorCode::kIntegrity, what + " does not decode: " + map.status().message());
  const auto& g = it.volume->geometry.dims;
  if (map->dims[0] != g[0] || map->dims[1] != g[1] || map->dims[2] != g[2]) {
    return Error(ErrorCode::kIntegrity, what + " is " + DimsText(map->dims[0], map->dims[1], map->dims[2]) +
                                            " but the volume is " + DimsText(g[0], g[1], g[2]));
  }
  return NamedMask{name, stored.version, std::move(map).value()};
}

// "2.25." + 128 bits of SHA-256 (PS3.5 B.2) of the dataset, item, mask and purpose: the same on
// every build of a snapshot, different between snapshots, items, masks and purposes.
std::string SnapshotUid(const SnapshotInput& input, const std::string& item_id, const std::string& mask,
                        const char* purpose) {
  const dicom::KeyedHash sha256 = [](std::string_view message) {
    const std::string hex = security::Sha256Hex(message);
    std::array<unsigned char, 32> out{};
    for (std::size_t i = 0; i < out.size(); ++i) {
      out[i] = static_cast<unsigned char>(std::stoi(hex.substr(2 * i, 2), nullptr, 16));
    }
    return out;
  };
  return dicom::PseudonymousUid(sha256, "caliper-export\x1f" + input.dataset_id + "\x1f" + item_id + "\x1f" + mask +
                                            "\x1f" + purpose);
}

// DICOM DA and TM of an RFC 3339 time ("2026-11-27T08:30:00Z" -> "20261127", "083000").
Result<std::pair<std::string, std::string>> DicomDateTime(const std::string& rfc3339) {
  CALIPER_RETURN_IF_ERROR(ParseRfc3339(rfc3339).status());
  if (rfc3339.size() < 19) return Error(ErrorCode::kInvalidArgument, "created_at is not RFC 3339: " + rfc3339);
  std::string date = rfc3339.substr(0, 4) + rfc3339.substr(5, 2) + rfc3339.substr(8, 2);
  std::string time = rfc3339.substr(11, 2) + rfc3339.substr(14, 2) + rfc3339.substr(17, 2);
  return std::make_pair(date, time);
}

// A class of the masks: the schema class of a segment, else its label value.
std::string ClassKey(const dicom::Segment& s) {
  return s.class_id.empty() ? "label " + std::to_string(s.label) : s.class_id;
}

const dicom::Segment* SegmentOf(const dicom::LabelMap& map, const std::string& key) {
  for (const auto& s : map.segments) {
    if (ClassKey(s) == key) return &s;
  }
  return nullptr;
}

// Binary STAPLE per class over the readers' masks of one item: the 4D probability map (one
// volume per class that could be estimated) and its description.
struct StapleFiles {
  std::vector<float> volumes;
  std::int64_t count = 0;
  ordered_json description;
};

Result<StapleFiles> Staple(const SnapshotInput& input, const SnapshotItem& it, const std::vector<NamedMask>& readers,
                           const std::string& nifti_path) {
  // Classes in the order of their label value in the first mask that has them.
  std::vector<std::pair<int, std::string>> order;
  for (const auto& m : readers) {
    for (const auto& s : m.map.segments) {
      const std::string key = ClassKey(s);
      if (std::none_of(order.begin(), order.end(), [&](const auto& o) { return o.second == key; })) {
        order.emplace_back(s.label, key);
      }
    }
  }
  std::stable_sort(order.begin(), order.end(), [](const auto& a, const auto& b) { return a.first < b.first; });

  const ingest::NiftiGeometry& g = it.volume->geometry;
  quality::Grid grid;
  grid.dims = g.dims;
  for (int d = 0; d < 3; ++d) grid.spacing_mm[d] = g.spacing_mm[d] > 0 ? g.spacing_mm[d] : 1.0;
  const std::size_t n = static_cast<std::size_t>(grid.voxel_count());

  StapleFiles out;
  ordered_json classes = ordered_json::array();
  std::vector<std::vector<std::uint8_t>> binary(readers.size(), std::vector<std::uint8_t>(n));
  for (const auto& [label, key] : order) {
    std::vector<quality::MaskView> views;
    const dicom::Segment* named = nullptr;
    for (std::size_t r = 0; r < readers.size(); ++r) {
      const dicom::Segment* s = SegmentOf(readers[r].map, key);
      if (named == nullptr) named = s;
      const int value = s ? s->label : -1;  // a reader without the class has an empty mask of it
      for (std::size_t v = 0; v < n; ++v) binary[r][v] = readers[r].map.labels[v] == value ? 1 : 0;
      views.push_back({grid, binary[r]});
    }
    const std::string class_id = named->class_id;
    ordered_json c{{"volume", nullptr},
                   {"class", key},
                   {"name", named->name},
                   {"code", {{"system", input.code_system_of.count(class_id) ? input.code_system_of.at(class_id) : ""},
                             {"code", input.code_of.count(class_id) ? input.code_of.at(class_id) : ""}}}};
    auto fused = quality::StapleBinary(views);
    if (!fused.ok()) {
      c["note"] = "not estimated: " + fused.status().message();
      classes.push_back(std::move(c));
      continue;
    }
    c["volume"] = out.count++;
    c["prior"] = Round9(fused->prior);
    c["iterations"] = fused->iterations;
    c["converged"] = fused->converged;
    ordered_json raters = ordered_json::array();
    for (std::size_t r = 0; r < readers.size(); ++r) {
      raters.push_back({{"reader", readers[r].name},
                        {"sensitivity", Round9(fused->sensitivity[r])},
                        {"specificity", Round9(fused->specificity[r])}});
    }
    c["readers"] = raters;
    c["note"] = nullptr;
    classes.push_back(std::move(c));
    out.volumes.insert(out.volumes.end(), fused->consensus.begin(), fused->consensus.end());
  }
  ordered_json masks = ordered_json::array();
  for (const auto& m : readers) masks.push_back({{"reader", m.name}, {"version", m.version}});
  out.description = {
      {"item_id", it.item.id},
      {"method", "binary STAPLE per class (Warfield, Zou & Wells 2004, IEEE TMI 23(7):903-921)"},
      {"file", out.count > 0 ? ordered_json(nifti_path) : ordered_json(nullptr)},
      {"volumes", "float32, one 3D volume per estimated class (4D when more than one), in the order of classes[].volume: "
                  "P(the voxel belongs to the class | every reader's mask)"},
      {"masks", masks},
      {"classes", classes}};
  return out;
}

}  // namespace

Result<ordered_json> AddMaskFiles(const SnapshotInput& input, const std::vector<const SnapshotItem*>& items,
                                  const std::map<std::string, std::string>& split_of, Snapshot& snapshot) {
  std::string index = "item_id,patient,split,mask,version,labels,nifti,dicom_seg\n";
  std::int64_t nifti_count = 0, seg_count = 0, staple_count = 0;
  ordered_json skipped = ordered_json::array();
  std::optional<std::pair<std::string, std::string>> date_time;
  for (const SnapshotItem* it : items) {
    if (!it->volume) continue;
    std::vector<NamedMask> readers;
    for (const auto& r : it->readings) {
      if (!r.mask) continue;
      CALIPER_ASSIGN_OR_RETURN(NamedMask m, Decode(*it, r.reader, *r.mask));
      readers.push_back(std::move(m));
    }
    std::sort(readers.begin(), readers.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
    std::vector<const NamedMask*> all;
    for (const auto& m : readers) all.push_back(&m);
    std::optional<NamedMask> final_mask;
    if (it->final_mask) {
      CALIPER_ASSIGN_OR_RETURN(final_mask, Decode(*it, kFinal, *it->final_mask));
      all.push_back(&*final_mask);
    }
    if (all.empty()) continue;
    const std::string& id = it->item.id;
    const std::string split = split_of.count(it->item.patient_key) ? split_of.at(it->item.patient_key) : "";
    for (const NamedMask* m : all) {
      const std::string nifti = "masks/nifti/" + id + "/" + m->name + ".nii.gz";
      CALIPER_ASSIGN_OR_RETURN(auto bytes, ingest::EncodeNiftiUint8(it->volume->geometry, m->map.labels, /*gzip=*/true));
      snapshot.files[nifti] = std::string(bytes.begin(), bytes.end());
      ++nifti_count;
      std::string seg;
      std::string why_not;
      if (it->volume->source_instance.empty()) {
        why_not = "the item came from NIfTI: there is no DICOM series to reference";
      } else if (m->map.segments.empty()) {
        why_not = "the mask is empty: a DICOM-SEG needs at least one segment";
      }
      if (why_not.empty()) {
        if (!date_time) {
          CALIPER_ASSIGN_OR_RETURN(date_time, DicomDateTime(input.created_at));
        }
        dicom::SegWriteOptions o;
        o.series_description = "Caliper " + input.dataset_id + " mask " + m->name;
        o.content_label = m->name == kFinal ? "FINAL" : "READER";
        o.software_version = input.caliper_version;
        o.sop_instance_uid = SnapshotUid(input, id, m->name, "sop");
        o.series_instance_uid = SnapshotUid(input, id, m->name, "series");
        o.dimension_organization_uid = SnapshotUid(input, id, m->name, "dimension");
        o.content_date = date_time->first;
        o.content_time = date_time->second;
        auto written = dicom::WriteSegmentation(m->map, it->volume->series, it->volume->source_instance, o);
        if (!written.ok()) return written.status().WithContext("DICOM-SEG of " + m->name + " on item " + id);
        seg = "masks/dicom-seg/" + id + "/" + m->name + ".dcm";
        snapshot.files[seg] = std::string(written->begin(), written->end());
        ++seg_count;
      } else {
        skipped.push_back({{"item_id", id}, {"mask", m->name}, {"reason", why_not}});
      }
      std::string labels;  // what the voxel values stand for: "1=liver 2=lesion"
      for (const auto& s : m->map.segments) {
        labels += (labels.empty() ? "" : " ") + std::to_string(s.label) + "=" + ClassKey(s);
      }
      index += Csv(id) + "," + Csv(it->item.patient_key) + "," + split + "," + m->name + "," +
               std::to_string(m->version) + "," + Csv(labels) + "," + nifti + "," + seg + "\n";
    }
    if (readers.size() >= 2) {
      const std::string path = "masks/staple/" + id + ".nii.gz";
      CALIPER_ASSIGN_OR_RETURN(StapleFiles staple, Staple(input, *it, readers, path));
      if (staple.count > 0) {
        CALIPER_ASSIGN_OR_RETURN(auto bytes, ingest::EncodeNiftiFloat32Volumes(it->volume->geometry, staple.volumes,
                                                                               staple.count, /*gzip=*/true));
        snapshot.files[path] = std::string(bytes.begin(), bytes.end());
        ++staple_count;
      }
      snapshot.files["masks/staple/" + id + ".json"] = staple.description.dump(2) + "\n";
    }
  }
  if (nifti_count == 0) return ordered_json(nullptr);
  snapshot.files["masks/index.csv"] = index;
  return ordered_json{{"index", "masks/index.csv"},
                      {"nifti", nifti_count},
                      {"dicom_seg", seg_count},
                      {"staple", staple_count},
                      {"dicom_seg_skipped", skipped}};
}

}  // namespace caliper::exports

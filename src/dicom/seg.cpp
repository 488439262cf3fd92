// DICOM Segmentation (PS3.3 A.51, C.8.20) out through DCMTK dcmseg, and back in with dcmdata.

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmfg/fgderimg.h>
#include <dcmtk/dcmfg/fgfracon.h>
#include <dcmtk/dcmfg/fgpixmsr.h>
#include <dcmtk/dcmfg/fgplanor.h>
#include <dcmtk/dcmfg/fgplanpo.h>
#include <dcmtk/dcmiod/iodutil.h>
#include <dcmtk/dcmseg/segdoc.h>
#include <dcmtk/dcmseg/segment.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <set>

#include "caliper/dicom/label_map.h"
#include "dicom/codecs.h"
#include "dicom/dataset_util.h"

namespace caliper::dicom {
namespace {

constexpr const char* kSegmentationStorage = "1.2.840.10008.5.1.4.1.1.66.4";
constexpr const char* kLabelMapSegmentationStorage = "1.2.840.10008.5.1.4.1.1.66.7";

Status Invalid(const std::string& m) { return Error(ErrorCode::kInvalidArgument, m); }
Status Dcmtk(const std::string& what, const OFCondition& c) {
  return Error(ErrorCode::kInternal, what + ": " + c.text());
}

std::string Ds(double v) {
  if (v == 0.0) v = 0.0;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  if (std::strlen(buf) > 16) std::snprintf(buf, sizeof buf, "%.8g", v);  // DS: at most 16 bytes
  return buf;
}

DcmSegTypes::E_SegmentAlgoType AlgoType(SegmentAlgorithm a) {
  switch (a) {
    case SegmentAlgorithm::kManual:
      return DcmSegTypes::SAT_MANUAL;
    case SegmentAlgorithm::kSemiAutomatic:
      return DcmSegTypes::SAT_SEMIAUTOMATIC;
    case SegmentAlgorithm::kAutomatic:
      return DcmSegTypes::SAT_AUTOMATIC;
  }
  return DcmSegTypes::SAT_MANUAL;
}

CodeSequenceMacro Code(const CodedConcept& c) { return CodeSequenceMacro(c.value, c.scheme, c.meaning); }

// The code in the first item of sequence `key` of `parent` (empty when absent).
CodedConcept CodeIn(DcmItem& parent, const DcmTagKey& key) {
  DcmItem* c = nullptr;
  if (parent.findAndGetSequenceItem(key, c, 0).bad() || c == nullptr) return {};
  return {GetString(*c, DCM_CodeValue), GetString(*c, DCM_CodingSchemeDesignator), GetString(*c, DCM_CodeMeaning)};
}

// Fills the segment's Segmentation Algorithm Identification Sequence (PS3.3 C.8.20.2, Table
// 10-19): family code, name, version. kInvalidArgument naming the segment if dcmseg refuses.
Status SetAlgorithmIdentification(DcmSegment& segment, const Segment& s) {
  const AlgorithmIdentification& id = s.algorithm_identification;
  AlgorithmIdentificationMacro& macro = segment.getSegmentationAlgorithmIdentification();
  OFCondition cond = macro.getAlgorithmFamilyCode().set(id.family.value.c_str(), id.family.scheme.c_str(),
                                                        id.family.meaning.c_str());
  if (cond.good()) cond = macro.setAlgorithmName(id.name.c_str());
  if (cond.good()) cond = macro.setAlgorithmVersion(id.version.c_str());
  if (cond.good()) cond = macro.check(OFTrue);
  if (cond.bad()) return Invalid("segment " + s.name + ": algorithm identification rejected by dcmseg: " + cond.text());
  return Status::Ok();
}

// Unit vector of column `c` of the affine.
std::array<double, 3> Direction(const Affine& a, int c) {
  const double len = std::sqrt(a[0][c] * a[0][c] + a[1][c] * a[1][c] + a[2][c] * a[2][c]);
  return {a[0][c] / len, a[1][c] / len, a[2][c] / len};
}

double ColumnLength(const Affine& a, int c) {
  return std::sqrt(a[0][c] * a[0][c] + a[1][c] * a[1][c] + a[2][c] * a[2][c]);
}

// kInvalidArgument unless the dataset is a Segmentation; kUnsupported for a Label Map one.
Status CheckSegmentationClass(DcmDataset& ds) {
  const std::string sop_class = GetString(ds, DCM_SOPClassUID);
  if (sop_class == kLabelMapSegmentationStorage) {
    return Error(ErrorCode::kUnsupported, "Label Map Segmentation Storage is not supported");
  }
  if (sop_class != kSegmentationStorage) {
    return Invalid("not a DICOM Segmentation (SOP Class " + sop_class + ")");
  }
  return Status::Ok();
}

// The Frame of Reference and the series a Segmentation says it was drawn on.
SegReferences ReferencesOf(DcmDataset& ds) {
  SegReferences out;
  out.frame_of_reference_uid = GetString(ds, DCM_FrameOfReferenceUID);
  DcmSequenceOfItems* series = nullptr;
  if (ds.findAndGetSequence(DCM_ReferencedSeriesSequence, series).good() && series) {
    for (unsigned long n = 0; n < series->card(); ++n) {
      const std::string uid = GetString(*series->getItem(n), DCM_SeriesInstanceUID);
      if (!uid.empty()) out.series_instance_uids.push_back(uid);
    }
  }
  return out;
}

// kInvalidArgument unless `refs` fit the volume's series (when the volume knows it).
Status CheckReferences(const SegReferences& refs, const Volume& volume) {
  if (!volume.frame_of_reference_uid.empty() && refs.frame_of_reference_uid != volume.frame_of_reference_uid) {
    return Invalid(refs.frame_of_reference_uid.empty()
                       ? "the segmentation names no Frame of Reference UID; the series' is " +
                             volume.frame_of_reference_uid
                       : "the segmentation's Frame of Reference UID " + refs.frame_of_reference_uid +
                             " is not the series' " + volume.frame_of_reference_uid);
  }
  if (!volume.series_instance_uid.empty() && !refs.series_instance_uids.empty() &&
      std::find(refs.series_instance_uids.begin(), refs.series_instance_uids.end(), volume.series_instance_uid) ==
          refs.series_instance_uids.end()) {
    std::string named;
    for (const auto& uid : refs.series_instance_uids) named += (named.empty() ? "" : ", ") + uid;
    return Invalid("the segmentation references series " + named + ", not the series " +
                   volume.series_instance_uid);
  }
  return Status::Ok();
}

}  // namespace

Result<SegReferences> ReadSegmentationReferences(std::span<const std::uint8_t> bytes) {
  DcmFileFormat file;
  CALIPER_RETURN_IF_ERROR(ReadDicom(bytes, file));
  CALIPER_RETURN_IF_ERROR(CheckSegmentationClass(*file.getDataset()));
  return ReferencesOf(*file.getDataset());
}

Result<std::vector<std::uint8_t>> WriteSegmentation(const LabelMap& map, const Volume& volume,
                                                    std::span<const std::uint8_t> source_instance,
                                                    const SegWriteOptions& options) {
  CALIPER_RETURN_IF_ERROR(ValidateLabelMap(map));
  CALIPER_RETURN_IF_ERROR(CheckAligned(map, volume));
  if (map.segments.empty()) return Invalid("a segmentation needs at least one segment");
  if (static_cast<int>(volume.slices.size()) != volume.dims[2]) {
    return Invalid("the volume does not name its source instances");
  }
  if (volume.dims[0] > 65535 || volume.dims[1] > 65535) return Invalid("frames too large for DICOM");
  RegisterDecoders();
  DcmFileFormat source;
  CALIPER_RETURN_IF_ERROR(ReadDicom(source_instance, source));

  const IODGeneralEquipmentModule::EquipmentInfo equipment(options.manufacturer, options.model,
                                                           options.device_serial,
                                                           options.software_version);
  const ContentIdentificationMacro identification("1", options.content_label, "",
                                                  options.content_creator);
  DcmSegmentation* created = nullptr;
  OFCondition cond = DcmSegmentation::createBinarySegmentation(
      created, static_cast<Uint16>(volume.dims[1]), static_cast<Uint16>(volume.dims[0]), equipment,
      identification);
  std::unique_ptr<DcmSegmentation> seg(created);
  if (cond.bad() || !seg) return Dcmtk("creating the segmentation", cond);
  cond = seg->importFromSourceImage(*source.getDataset(), OFTrue);
  if (cond.bad()) return Invalid(std::string("the source instance lacks patient/study data: ") + cond.text());
  (void)seg->getSeries().setSeriesDescription(options.series_description.c_str(), OFFalse);
  (void)seg->getSegmentationSeriesModule().setSeriesNumber(std::to_string(options.series_number).c_str());

  std::map<std::uint8_t, Uint16> numbers;  // label -> Segment Number
  for (const Segment& s : map.segments) {
    DcmSegment* created_segment = nullptr;
    cond = DcmSegment::create(created_segment, s.name.c_str(), Code(s.category), Code(s.type),
                              AlgoType(s.algorithm), s.algorithm_name.c_str());
    std::unique_ptr<DcmSegment> segment(created_segment);  // until the segmentation owns it
    if (cond.bad() || !segment) {
      return Invalid("segment " + s.name + " rejected by dcmseg: " + cond.text());
    }
    if (s.algorithm != SegmentAlgorithm::kManual && s.algorithm_identification.Complete()) {
      CALIPER_RETURN_IF_ERROR(SetAlgorithmIdentification(*segment, s));
    }
    Uint16 number = 0;
    if ((cond = seg->addSegment(segment.get(), number)).bad()) return Dcmtk("adding segment " + s.name, cond);
    (void)segment.release();
    numbers[s.label] = number;
  }

  // Shared: orientation and pixel measures (PS3.3 C.7.6.16.2.1, .2.4).
  const auto row_dir = Direction(volume.lps, 0);
  const auto col_dir = Direction(volume.lps, 1);
  std::unique_ptr<FGPlaneOrientationPatient> orientation(FGPlaneOrientationPatient::createMinimal(
      Ds(row_dir[0]).c_str(), Ds(row_dir[1]).c_str(), Ds(row_dir[2]).c_str(), Ds(col_dir[0]).c_str(),
      Ds(col_dir[1]).c_str(), Ds(col_dir[2]).c_str()));
  if (!orientation) return Dcmtk("plane orientation", EC_IllegalParameter);
  if ((cond = seg->addForAllFrames(*orientation)).bad()) return Dcmtk("plane orientation", cond);
  FGPixelMeasures measures;
  const std::string spacing = Ds(ColumnLength(volume.lps, 1)) + "\\" + Ds(ColumnLength(volume.lps, 0));
  (void)measures.setPixelSpacing(spacing.c_str());
  (void)measures.setSliceThickness(Ds(volume.spacing_mm[2]).c_str());
  (void)measures.setSpacingBetweenSlices(Ds(volume.spacing_mm[2]).c_str());
  if ((cond = seg->addForAllFrames(measures)).bad()) return Dcmtk("pixel measures", cond);

  const OFString dimension_uid = options.dimension_organization_uid.empty()
                                     ? DcmIODUtil::createUID(0)
                                     : OFString(options.dimension_organization_uid.c_str());
  IODMultiframeDimensionModule& dims = seg->getDimensions();
  if ((cond = dims.addDimensionIndex(DCM_ReferencedSegmentNumber, dimension_uid,
                                     DCM_SegmentIdentificationSequence, "ReferencedSegmentNumber"))
          .bad() ||
      (cond = dims.addDimensionIndex(DCM_ImagePositionPatient, dimension_uid,
                                     DCM_PlanePositionSequence, "ImagePositionPatient"))
          .bad()) {
    return Dcmtk("dimension index", cond);
  }

  const std::size_t slice_size = static_cast<std::size_t>(volume.dims[0]) * volume.dims[1];
  std::vector<Uint8> frame(slice_size);
  const CodeSequenceMacro derivation_code("113076", "DCM", "Segmentation");
  const CodeSequenceMacro purpose("121322", "DCM", "Source image for image processing operation");
  for (const Segment& s : map.segments) {
    bool any_frame = false;
    for (int k = 0; k < volume.dims[2]; ++k) {
      const std::uint8_t* labels = map.labels.data() + slice_size * k;
      bool any = false;
      for (std::size_t n = 0; n < slice_size; ++n) {
        frame[n] = labels[n] == s.label ? 1 : 0;
        any = any || frame[n] != 0;
      }
      const bool last = k == volume.dims[2] - 1;
      if (!any && !(last && !any_frame)) continue;  // an empty segment keeps one empty frame
      any_frame = true;
      const auto p = Apply(volume.lps, 0, 0, k);
      std::unique_ptr<FGPlanePosPatient> position(FGPlanePosPatient::createMinimal(
          Ds(p[0]).c_str(), Ds(p[1]).c_str(), Ds(p[2]).c_str()));
      FGFrameContent content;
      (void)content.setDimensionIndexValues(numbers[s.label], 0);
      (void)content.setDimensionIndexValues(static_cast<Uint32>(k + 1), 1);
      const SliceSource& src = volume.slices[k];
      ImageSOPInstanceReferenceMacro* ref = nullptr;
      OFVector<Uint16> frames;
      if (src.frame > 1 || src.sop_class_uid.find("1.2.840.10008.5.1.4.1.1.2.1") == 0) {
        frames.push_back(static_cast<Uint16>(src.frame));
      }
      cond = ImageSOPInstanceReferenceMacro::create(src.sop_class_uid.c_str(),
                                                    src.sop_instance_uid.c_str(), frames, ref);
      std::unique_ptr<ImageSOPInstanceReferenceMacro> ref_owner(ref);
      if (cond.bad() || !ref) {
        return Invalid("slice " + std::to_string(k) + " has no usable source UIDs: " + cond.text());
      }
      OFVector<ImageSOPInstanceReferenceMacro> refs;
      refs.push_back(*ref);
      std::unique_ptr<FGDerivationImage> derivation(
          FGDerivationImage::createMinimal(refs, "Segmentation", derivation_code, purpose));
      if (!position || !derivation) return Dcmtk("per-frame groups", EC_IllegalParameter);
      OFVector<FGBase*> per_frame;
      per_frame.push_back(position.get());
      per_frame.push_back(&content);
      per_frame.push_back(derivation.get());
      if ((cond = seg->addFrame(frame.data(), numbers[s.label], per_frame)).bad()) {
        return Dcmtk("adding a frame", cond);
      }
    }
  }

  DcmFileFormat out;
  if ((cond = seg->writeDataset(*out.getDataset())).bad()) return Dcmtk("writing the segmentation", cond);
  // Common Instance Reference (PS3.3 C.12.2): the source series and every instance used.
  DcmDataset& ds = *out.getDataset();
  const std::pair<DcmTagKey, const std::string*> fixed[] = {
      {DCM_SOPInstanceUID, &options.sop_instance_uid},      {DCM_SeriesInstanceUID, &options.series_instance_uid},
      {DCM_ContentDate, &options.content_date},             {DCM_ContentTime, &options.content_time},
      {DCM_InstanceCreationDate, &options.content_date},    {DCM_InstanceCreationTime, &options.content_time},
      {DCM_SeriesDate, &options.content_date},              {DCM_SeriesTime, &options.content_time}};
  for (const auto& [tag, value] : fixed) {
    if (value->empty()) continue;
    if (tag != DCM_SOPInstanceUID && tag != DCM_SeriesInstanceUID && !ds.tagExists(tag)) continue;
    if ((cond = ds.putAndInsertString(tag, value->c_str())).bad()) return Dcmtk("setting a fixed attribute", cond);
  }
  DcmItem* series = nullptr;
  if ((cond = ds.findOrCreateSequenceItem(DCM_ReferencedSeriesSequence, series, 0)).bad() || !series) {
    return Dcmtk("referenced series", cond);
  }
  (void)series->putAndInsertString(DCM_SeriesInstanceUID,
                                   GetString(*source.getDataset(), DCM_SeriesInstanceUID).c_str());
  std::set<std::string> seen;
  for (const SliceSource& src : volume.slices) {
    if (!seen.insert(src.sop_instance_uid).second) continue;
    DcmItem* item = nullptr;
    if (series->findOrCreateSequenceItem(DCM_ReferencedInstanceSequence, item, -2).good() && item) {
      (void)item->putAndInsertString(DCM_ReferencedSOPClassUID, src.sop_class_uid.c_str());
      (void)item->putAndInsertString(DCM_ReferencedSOPInstanceUID, src.sop_instance_uid.c_str());
    }
  }
  return WriteDicom(out, EXS_LittleEndianExplicit);
}

Result<LabelMap> ReadSegmentation(std::span<const std::uint8_t> bytes, const Volume& volume) {
  DcmFileFormat file;
  CALIPER_RETURN_IF_ERROR(ReadDicom(bytes, file));
  DcmDataset& ds = *file.getDataset();
  CALIPER_RETURN_IF_ERROR(CheckSegmentationClass(ds));
  CALIPER_RETURN_IF_ERROR(CheckReferences(ReferencesOf(ds), volume));
  const int rows = GetInt(ds, DCM_Rows).value_or(0);
  const int cols = GetInt(ds, DCM_Columns).value_or(0);
  const int frames = GetInt(ds, DCM_NumberOfFrames).value_or(1);
  const int bits = GetInt(ds, DCM_BitsAllocated).value_or(0);
  const std::string type = GetString(ds, DCM_SegmentationType);
  if (rows != volume.dims[1] || cols != volume.dims[0]) {
    return Invalid("segmentation frames are " + std::to_string(cols) + "x" + std::to_string(rows) +
                   " but the volume's slices are " + std::to_string(volume.dims[0]) + "x" +
                   std::to_string(volume.dims[1]));
  }
  if (frames <= 0 || static_cast<std::int64_t>(frames) > 65536) return Invalid("bad Number of Frames");
  if (!((type == "BINARY" && bits == 1) || (type == "FRACTIONAL" && bits == 8))) {
    return Invalid("Segmentation Type " + type + " with Bits Allocated " + std::to_string(bits) +
                   " is not supported");
  }
  const double max_fractional = GetDoubles(ds, DCM_MaximumFractionalValue).value_or(std::vector<double>{255})[0];
  const std::size_t frame_size = static_cast<std::size_t>(rows) * cols;
  const std::size_t need = type == "BINARY" ? (frame_size * frames + 7) / 8 : frame_size * frames;
  const Uint8* pixels = nullptr;
  unsigned long length = 0;
  DcmElement* elem = nullptr;
  if (ds.findAndGetElement(DCM_PixelData, elem).bad() || !elem || elem->getUint8Array(const_cast<Uint8*&>(pixels)).bad() ||
      (length = elem->getLength()) < need) {
    return Invalid("segmentation Pixel Data is missing or shorter than its frames");
  }

  LabelMap map = EmptyLabelMap(volume);
  // Segments, in Segment Number order, become labels 1..N.
  std::map<int, std::uint8_t> label_of;
  DcmSequenceOfItems* segments = nullptr;
  if (ds.findAndGetSequence(DCM_SegmentSequence, segments).bad() || !segments || segments->card() == 0) {
    return Invalid("no Segment Sequence");
  }
  if (segments->card() > 255) return Invalid("more than 255 segments");
  std::map<int, Segment> by_number;
  for (unsigned long n = 0; n < segments->card(); ++n) {
    DcmItem* item = segments->getItem(n);
    Segment s;
    const int number = GetInt(*item, DCM_SegmentNumber).value_or(-1);
    s.name = GetString(*item, DCM_SegmentLabel);
    s.category = CodeIn(*item, DCM_SegmentedPropertyCategoryCodeSequence);
    s.type = CodeIn(*item, DCM_SegmentedPropertyTypeCodeSequence);
    const std::string algo = GetString(*item, DCM_SegmentAlgorithmType);
    s.algorithm = algo == "AUTOMATIC"       ? SegmentAlgorithm::kAutomatic
                  : algo == "SEMIAUTOMATIC" ? SegmentAlgorithm::kSemiAutomatic
                                            : SegmentAlgorithm::kManual;
    s.algorithm_name = GetString(*item, DCM_SegmentAlgorithmName);
    DcmItem* identification = nullptr;
    if (item->findAndGetSequenceItem(DCM_SegmentationAlgorithmIdentificationSequence, identification, 0).good() &&
        identification) {
      s.algorithm_identification = {CodeIn(*identification, DCM_AlgorithmFamilyCodeSequence),
                                    GetString(*identification, DCM_AlgorithmName),
                                    GetString(*identification, DCM_AlgorithmVersion)};
    }
    if (number < 0 || !by_number.emplace(number, s).second) return Invalid("bad or repeated Segment Number");
  }
  std::uint8_t next = 1;
  for (auto& [number, s] : by_number) {
    s.label = next++;
    s.class_id = std::to_string(number);
    label_of[number] = s.label;
    map.segments.push_back(s);
  }

  // Frames: segment from Segment Identification, slice from Plane Position (Patient).
  DcmSequenceOfItems* per_frame = nullptr;
  if (ds.findAndGetSequence(DCM_PerFrameFunctionalGroupsSequence, per_frame).bad() || !per_frame ||
      static_cast<int>(per_frame->card()) != frames) {
    return Invalid("Per-Frame Functional Groups do not match Number of Frames");
  }
  DcmItem* shared = nullptr;
  (void)ds.findAndGetSequenceItem(DCM_SharedFunctionalGroupsSequence, shared, 0);
  auto macro_item = [&](DcmItem* frame_item, const DcmTagKey& seq) -> DcmItem* {
    DcmItem* out = nullptr;
    if (frame_item && frame_item->findAndGetSequenceItem(seq, out, 0).good() && out) return out;
    if (shared && shared->findAndGetSequenceItem(seq, out, 0).good() && out) return out;
    return nullptr;
  };
  const auto normal = [&] {
    const auto r = Direction(volume.lps, 0), c = Direction(volume.lps, 1);
    return std::array<double, 3>{r[1] * c[2] - r[2] * c[1], r[2] * c[0] - r[0] * c[2], r[0] * c[1] - r[1] * c[0]};
  }();
  std::map<std::string, int> slice_of_instance;
  for (int k = 0; k < volume.dims[2]; ++k) {
    if (k < static_cast<int>(volume.slices.size())) slice_of_instance[volume.slices[k].sop_instance_uid] = k;
  }
  std::map<std::pair<int, int>, int> overlaps;  // (segment a, segment b) -> voxels
  int frame_index = 0;
  for (DcmObject* o = per_frame->nextInContainer(nullptr); o; o = per_frame->nextInContainer(o), ++frame_index) {
    DcmItem* item = static_cast<DcmItem*>(o);
    DcmItem* ident = macro_item(item, DCM_SegmentIdentificationSequence);
    const int number = ident ? GetInt(*ident, DCM_ReferencedSegmentNumber).value_or(-1) : -1;
    if (!label_of.count(number)) {
      return Invalid("frame " + std::to_string(frame_index + 1) + " names no known segment");
    }
    DcmItem* orient = macro_item(item, DCM_PlaneOrientationSequence);
    if (auto iop = orient ? GetDoubles(*orient, DCM_ImageOrientationPatient) : std::nullopt; iop && iop->size() == 6) {
      const auto r = Direction(volume.lps, 0), c = Direction(volume.lps, 1);
      for (int n = 0; n < 3; ++n) {
        if (std::abs((*iop)[n] - r[n]) > 1e-3 || std::abs((*iop)[3 + n] - c[n]) > 1e-3) {
          return Invalid("segmentation orientation differs from the volume's");
        }
      }
    }
    int k = -1;
    DcmItem* position = macro_item(item, DCM_PlanePositionSequence);
    if (auto ipp = position ? GetDoubles(*position, DCM_ImagePositionPatient) : std::nullopt; ipp && ipp->size() == 3) {
      // The slice whose origin is nearest along the normal, if within a tenth of a slice.
      double best = 1e300;
      for (int s = 0; s < volume.dims[2]; ++s) {
        const auto p = Apply(volume.lps, 0, 0, s);
        double d = 0;
        for (int n = 0; n < 3; ++n) d += ((*ipp)[n] - p[n]) * normal[n];
        if (std::abs(d) < best) {
          best = std::abs(d);
          k = s;
        }
      }
      if (best > 0.1 * std::max(volume.spacing_mm[2], 1e-3)) k = -1;
    } else {
      DcmItem* derivation = macro_item(item, DCM_DerivationImageSequence);
      DcmItem* source_item = nullptr;
      if (derivation && derivation->findAndGetSequenceItem(DCM_SourceImageSequence, source_item, 0).good() && source_item) {
        auto it = slice_of_instance.find(GetString(*source_item, DCM_ReferencedSOPInstanceUID));
        if (it != slice_of_instance.end()) k = it->second;
      }
      if (k < 0 && !position && !ident) return Error(ErrorCode::kUnsupported, "frames lack patient geometry");
      if (k < 0) {
        return Error(ErrorCode::kUnsupported,
                     "frame " + std::to_string(frame_index + 1) +
                         " has no Plane Position (Patient) nor a source slice of this volume "
                         "(a slide-microscopy or other non-volume segmentation?)");
      }
    }
    if (k < 0) {
      return Invalid("frame " + std::to_string(frame_index + 1) + " lies on no slice of the volume");
    }
    const std::uint8_t label = label_of[number];
    std::uint8_t* dst = map.labels.data() + frame_size * k;
    const std::size_t base = frame_size * frame_index;
    for (std::size_t n = 0; n < frame_size; ++n) {
      bool set;
      if (type == "BINARY") {
        const std::size_t bit = base + n;
        set = (pixels[bit / 8] >> (bit % 8)) & 1u;
      } else {
        set = pixels[base + n] >= max_fractional / 2.0 && pixels[base + n] > 0;
      }
      if (!set) continue;
      if (dst[n] != 0 && dst[n] != label) {
        ++overlaps[{dst[n], label}];
        continue;
      }
      dst[n] = label;
    }
  }
  if (!overlaps.empty()) {
    std::string which;
    for (const auto& [pair, count] : overlaps) {
      which += (which.empty() ? "" : ", ") + std::string("segments ") +
               map.segments[pair.first - 1].class_id + " and " + map.segments[pair.second - 1].class_id +
               " (" + std::to_string(count) + " voxels)";
    }
    return Invalid("segments overlap: " + which + "; a label map holds one label per voxel");
  }
  return map;
}

}  // namespace caliper::dicom

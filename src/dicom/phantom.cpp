#include "caliper/dicom/phantom.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcuid.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <system_error>

#include "caliper/common/ids.h"
#include "caliper/common/random.h"
#include "dicom/codecs.h"
#include "dicom/dataset_util.h"

namespace caliper::dicom {
namespace {

// Fake PHI written into every series besides what the options carry. All of it is invented.
constexpr const char* kInstitutionName = "Caliper General Hospital";
constexpr const char* kInstitutionAddress = "100 Main Street, Springfield, IL 62704";
constexpr const char* kPatientAddress = "12 Elm Street^^Springfield^IL^62704";
constexpr const char* kPatientPhone = "(555) 010-0123";
constexpr const char* kReferringPhysician = "SMITH^JOHN^A^DR";
constexpr const char* kPerformingPhysician = "GARCIA^MARIA";
constexpr const char* kOperator = "BROWN^ALEX";
constexpr const char* kStationName = "CT-SCANNER-01";
constexpr const char* kDeviceSerial = "SN-4417-XYZ";
constexpr const char* kStudyId = "S12345";
constexpr const char* kPrivateCreator = "CALIPER SYNTH";

// FNV-1a 64-bit over the bytes of `text`.
std::uint64_t Fnv1a(const std::string& text) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : text) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

// A DICOM Decimal String (PS3.5 6.2: at most 16 bytes) for `v`.
std::string FormatDs(double v) {
  if (v == 0.0) v = 0.0;  // no "-0"
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.8g", v);
  return buf;
}

bool IsDicomDate(const std::string& s) {
  if (s.size() != 8) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// Age in whole years on `on`, both DICOM DA; as an Age String ("066Y", PS3.5 6.2).
std::string AgeString(const std::string& birth, const std::string& on) {
  int years = std::stoi(on.substr(0, 4)) - std::stoi(birth.substr(0, 4));
  if (on.substr(4) < birth.substr(4)) --years;
  if (years < 0) years = 0;
  char buf[8];
  std::snprintf(buf, sizeof buf, "%03dY", years > 999 ? 999 : years);
  return buf;
}

// "DOE^JANE^Q" -> "JANE DOE": the way a technologist types a name into a free-text field.
std::string ReadableName(const std::string& pn) {
  const std::size_t caret = pn.find('^');
  if (caret == std::string::npos) return pn;
  const std::size_t next = pn.find('^', caret + 1);
  const std::string given =
      pn.substr(caret + 1, next == std::string::npos ? next : next - caret - 1);
  return given.empty() ? pn.substr(0, caret) : given + " " + pn.substr(0, caret);
}

// Accumulates DCMTK insertions into one item, keeping the first failure.
class ItemWriter {
 public:
  explicit ItemWriter(DcmItem& item) : item_(item) {}

  void Str(const DcmTag& tag, const std::string& value) {
    if (status_.good()) status_ = item_.putAndInsertString(tag, value.c_str());
  }
  void U16(const DcmTagKey& key, Uint16 value) {
    if (status_.good()) status_ = item_.putAndInsertUint16(key, value);
  }
  // Appends a new item to the sequence `key` (creating it) and returns it, or null on failure.
  DcmItem* NewItem(const DcmTagKey& key) {
    DcmItem* out = nullptr;
    if (status_.good()) status_ = item_.findOrCreateSequenceItem(key, out, -2);
    return status_.good() ? out : nullptr;
  }
  // Appends an item holding `values` to the sequence `key` (a functional group macro).
  void Macro(const DcmTagKey& key, std::initializer_list<std::pair<DcmTagKey, std::string>> values) {
    DcmItem* item = NewItem(key);
    if (item == nullptr) return;
    ItemWriter inner(*item);
    for (const auto& [tag, value] : values) inner.Str(DcmTag(tag), value);
    Merge(inner.status());
  }
  void Merge(const OFCondition& other) {
    if (status_.good()) status_ = other;
  }
  const OFCondition& status() const { return status_; }

 private:
  DcmItem& item_;
  OFCondition status_ = EC_Normal;
};

// HU of the phantom at pixel (row, col) of slice `k` of `n`. Coordinates are normalised to
// [-1, 1] across the field of view; +u is the patient's left (LPS), +v posterior.
int PhantomHu(int row, int col, int k, const CtPhantomOptions& o) {
  const double u = (col - (o.cols - 1) / 2.0) / (o.cols / 2.0);
  const double v = (row - (o.rows - 1) / 2.0) / (o.rows / 2.0);
  auto inside_ellipse = [&](double cu, double cv, double ru, double rv) {
    const double du = (u - cu) / ru;
    const double dv = (v - cv) / rv;
    return du * du + dv * dv <= 1.0;
  };
  if (!inside_ellipse(0.0, 0.0, 0.9, 0.7)) return kPhantomAirHu;
  if (inside_ellipse(0.0, 0.5, 0.14, 0.14)) return kPhantomBoneHu;
  if (!inside_ellipse(-0.38, -0.05, 0.32, 0.30)) return kPhantomSoftTissueHu;
  // The lesion is a spheroid centred on the middle slice: its in-plane radius is
  // 0.13 * sqrt(1 - t^2) with t the distance from the middle in units of 0.35 * slices.
  const double t = (k - (o.slices - 1) / 2.0) / (0.35 * o.slices);
  if (std::abs(t) < 1.0) {
    const double r = 0.13 * std::sqrt(1.0 - t * t);
    if (inside_ellipse(-0.38, -0.05, r, r)) return kPhantomLesionHu;
  }
  return kPhantomLiverHu;
}

// Stored values of slice `k`: HU + `offset` (the negated Rescale Intercept), landmarks included.
std::vector<Uint16> SlicePixels(const CtPhantomOptions& o, int k, int offset) {
  std::vector<Uint16> pixels(static_cast<std::size_t>(o.rows) * o.cols);
  for (int r = 0; r < o.rows; ++r) {
    for (int c = 0; c < o.cols; ++c) {
      const int stored = PhantomHu(r, c, k, o) + offset;  // always >= 0 here
      pixels[static_cast<std::size_t>(r) * o.cols + c] = static_cast<Uint16>(stored);
    }
  }
  if (o.landmarks) {
    for (const PhantomLandmark& l : PhantomLandmarks(o)) {
      if (l.k == k) pixels[static_cast<std::size_t>(l.j) * o.cols + l.i] = static_cast<Uint16>(l.hu + offset);
    }
  }
  return pixels;
}

// Image Position (Patient) of slice k: the centre of its first pixel (PS3.3 C.7.6.2).
std::array<double, 3> SlicePosition(const CtPhantomOptions& o, int k) {
  return {-(o.cols - 1) / 2.0 * o.pixel_spacing_mm + o.offset_mm[0],
          -(o.rows - 1) / 2.0 * o.pixel_spacing_mm + o.offset_mm[1], k * o.slice_thickness_mm + o.offset_mm[2]};
}

struct SeriesUids {
  std::string study;
  std::string series;
  std::string frame_of_reference;
  std::vector<std::string> sop;  // one per slice
};

// Fills `ds` with slice `k` (0-based) of the series.
OFCondition BuildSlice(const CtPhantomOptions& o, const SeriesUids& uids, int k, DcmDataset& ds) {
  ItemWriter w(ds);
  const std::string readable = ReadableName(o.patient_name);
  const std::string acquisition_dt = o.study_date + o.study_time;

  // SOP Common, General Study/Series/Equipment, Patient (PS3.3 A.3 CT Image IOD).
  w.Str(DCM_SpecificCharacterSet, "ISO_IR 192");
  w.Str(DCM_ImageType, "ORIGINAL\\PRIMARY\\AXIAL");
  w.Str(DCM_SOPClassUID, UID_CTImageStorage);
  w.Str(DCM_SOPInstanceUID, uids.sop[k]);
  w.Str(DCM_InstanceCreationDate, o.study_date);
  w.Str(DCM_InstanceCreationTime, o.study_time);
  w.Str(DCM_StudyDate, o.study_date);
  w.Str(DCM_SeriesDate, o.study_date);
  w.Str(DCM_AcquisitionDate, o.study_date);
  w.Str(DCM_ContentDate, o.study_date);
  w.Str(DCM_AcquisitionDateTime, acquisition_dt);
  w.Str(DCM_StudyTime, o.study_time);
  w.Str(DCM_SeriesTime, o.study_time);
  w.Str(DCM_AcquisitionTime, o.study_time);
  w.Str(DCM_ContentTime, o.study_time);
  w.Str(DCM_AccessionNumber, o.accession_number);
  w.Str(DCM_Modality, "CT");
  w.Str(DCM_Manufacturer, "Caliper Synthetic");
  w.Str(DCM_InstitutionName, kInstitutionName);
  w.Str(DCM_InstitutionAddress, kInstitutionAddress);
  w.Str(DCM_ReferringPhysicianName, kReferringPhysician);
  w.Str(DCM_StationName, kStationName);
  w.Str(DCM_StudyDescription, "CT ABDOMEN PELVIS W CONTRAST - " + readable);
  w.Str(DCM_SeriesDescription, "AXIAL " + FormatDs(o.slice_thickness_mm) + "MM " + readable);
  w.Str(DCM_ProtocolName, "ABD PELVIS^" + readable);
  w.Str(DCM_PerformingPhysicianName, kPerformingPhysician);
  w.Str(DCM_OperatorsName, kOperator);
  w.Str(DCM_ManufacturerModelName, "PHANTOM-1");
  if (k > 0) {
    if (DcmItem* ref = w.NewItem(DCM_ReferencedImageSequence)) {
      ItemWriter r(*ref);
      r.Str(DCM_ReferencedSOPClassUID, UID_CTImageStorage);
      r.Str(DCM_ReferencedSOPInstanceUID, uids.sop[0]);
      w.Merge(r.status());
    }
  }
  w.Str(DCM_PatientName, o.patient_name);
  w.Str(DCM_PatientID, o.patient_id);
  if (!o.issuer_of_patient_id.empty()) w.Str(DCM_IssuerOfPatientID, o.issuer_of_patient_id);
  w.Str(DCM_PatientBirthDate, o.birth_date);
  w.Str(DCM_PatientSex, o.patient_sex);
  w.Str(DCM_EthnicGroup, "HISPANIC");
  if (DcmItem* other = w.NewItem(DCM_OtherPatientIDsSequence)) {
    ItemWriter r(*other);
    r.Str(DCM_PatientID, "ALT-" + o.patient_id);
    r.Str(DCM_IssuerOfPatientID, "Springfield Regional Clinic");
    r.Str(DCM_TypeOfPatientID, "TEXT");
    w.Merge(r.status());
  }
  w.Str(DCM_PatientAge, AgeString(o.birth_date, o.study_date));
  if (o.burned_in_annotation) w.Str(DCM_BurnedInAnnotation, "YES");
  w.Str(DCM_PatientAddress, kPatientAddress);
  w.Str(DCM_PatientTelephoneNumbers, kPatientPhone);
  w.Str(DCM_AdditionalPatientHistory, readable + " reports right upper quadrant pain.");
  w.Str(DCM_BodyPartExamined, "ABDOMEN");
  w.Str(DCM_SliceThickness, FormatDs(o.slice_thickness_mm));
  w.Str(DCM_KVP, "120");
  w.Str(DCM_SpacingBetweenSlices, FormatDs(o.slice_thickness_mm));
  w.Str(DCM_DeviceSerialNumber, kDeviceSerial);
  w.Str(DCM_PatientPosition, "HFS");
  w.Str(DCM_StudyInstanceUID, uids.study);
  w.Str(DCM_SeriesInstanceUID, uids.series);
  w.Str(DCM_StudyID, kStudyId);
  w.Str(DCM_SeriesNumber, "1");
  w.Str(DCM_AcquisitionNumber, "1");
  w.Str(DCM_InstanceNumber, std::to_string(k + 1));

  // Image Plane (PS3.3 C.7.6.2): position is the centre of the first transmitted pixel.
  const double sp = o.pixel_spacing_mm;
  const auto position = SlicePosition(o, k);
  const double z = position[2];
  w.Str(DCM_ImagePositionPatient,
        FormatDs(position[0]) + "\\" + FormatDs(position[1]) + "\\" + FormatDs(z));
  w.Str(DCM_ImageOrientationPatient, o.orientation);
  w.Str(DCM_FrameOfReferenceUID, uids.frame_of_reference);
  w.Str(DCM_PositionReferenceIndicator, "");
  w.Str(DCM_SliceLocation, FormatDs(z));
  w.Str(DCM_ImageComments, "Scanned by Alex Brown for " + readable);

  // Image Pixel and CT Image (PS3.3 C.7.6.3, C.8.2.1).
  w.U16(DCM_SamplesPerPixel, 1);
  w.Str(DCM_PhotometricInterpretation, "MONOCHROME2");
  w.U16(DCM_Rows, static_cast<Uint16>(o.rows));
  w.U16(DCM_Columns, static_cast<Uint16>(o.cols));
  w.Str(DCM_PixelSpacing, FormatDs(sp) + "\\" + FormatDs(sp));
  w.U16(DCM_BitsAllocated, 16);
  w.U16(DCM_BitsStored, 16);
  w.U16(DCM_HighBit, 15);
  w.U16(DCM_PixelRepresentation, 1);
  w.Str(DCM_WindowCenter, "40");
  w.Str(DCM_WindowWidth, "400");
  w.Str(DCM_RescaleIntercept, "-1024");
  w.Str(DCM_RescaleSlope, "1");
  w.Str(DCM_RescaleType, "HU");

  // Private block (PS3.5 7.8.1): creator at (0009,0010) reserves elements (0009,10xx).
  w.Str(DcmTag(0x0009, 0x0010, EVR_LO), kPrivateCreator);
  w.Str(DcmTag(0x0009, 0x1001, EVR_LO), "Synthetic patient " + o.patient_name);
  w.Str(DcmTag(0x0009, 0x1002, EVR_LO), o.patient_id);

  const std::vector<Uint16> pixels = SlicePixels(o, k, 1024);
  if (w.status().good()) {
    w.Merge(ds.putAndInsertUint16Array(DCM_PixelData, pixels.data(),
                                       static_cast<unsigned long>(pixels.size())));
  }
  return w.status();
}

Status Validate(const CtPhantomOptions& o) {
  if (o.slices < 1 || o.slices > 2048)
    return Error(ErrorCode::kInvalidArgument, "slices must be 1..2048");
  if (o.rows < 8 || o.rows > 4096 || o.cols < 8 || o.cols > 4096) {
    return Error(ErrorCode::kInvalidArgument, "rows and cols must be 8..4096");
  }
  if (!(o.pixel_spacing_mm > 0.0) || !(o.slice_thickness_mm > 0.0)) {
    return Error(ErrorCode::kInvalidArgument, "spacing and slice thickness must be positive");
  }
  if (!IsDicomDate(o.birth_date) || !IsDicomDate(o.study_date)) {
    return Error(ErrorCode::kInvalidArgument, "dates must be DICOM DA (YYYYMMDD)");
  }
  return Status::Ok();
}

}  // namespace

std::string DeriveUid(std::uint64_t seed, const std::string& purpose) {
  const std::uint64_t label = Fnv1a(purpose);
  const std::uint64_t hi = SplitMix64(seed ^ SplitMix64(label));
  const std::uint64_t lo = SplitMix64(hi ^ label ^ 0x2545f4914f6cdd1dULL);
  unsigned __int128 value = (static_cast<unsigned __int128>(hi) << 64) | lo;
  if (value == 0) value = 1;
  return Uid225(value);
}

namespace {

std::uint64_t SeedOf(const CtPhantomOptions& options) {
  std::uint64_t seed = 0;
  if (options.seed.has_value()) {
    seed = *options.seed;
  } else {
    SecureRandomBytes(reinterpret_cast<unsigned char*>(&seed), sizeof seed);
  }
  return seed;
}

SeriesUids UidsFor(const CtPhantomOptions& options, std::uint64_t seed) {
  SeriesUids uids{DeriveUid(seed, "study"),
                  DeriveUid(seed, "series"),
                  DeriveUid(seed, options.frame_of_reference_label),
                  {}};
  for (int k = 0; k < options.slices; ++k)
    uids.sop.push_back(DeriveUid(seed, options.sop_label + "/" + std::to_string(k)));
  return uids;
}

}  // namespace

Status WriteCtPhantomSeries(const CtPhantomOptions& options, const std::string& out_dir,
                            std::vector<std::string>* written) {
  CALIPER_RETURN_IF_ERROR(Validate(options));
  const std::uint64_t seed = SeedOf(options);
  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  if (ec) return Error(ErrorCode::kIo, "creating " + out_dir + ": " + ec.message());

  const SeriesUids uids = UidsFor(options, seed);
  for (int k = 0; k < options.slices; ++k) {
    DcmFileFormat file;
    OFCondition cond = BuildSlice(options, uids, k, *file.getDataset());
    if (cond.bad()) {
      return Error(ErrorCode::kInternal,
                   "building slice " + std::to_string(k + 1) + ": " + cond.text());
    }
    char name[32];
    std::snprintf(name, sizeof name, "ct_%04d.dcm", k + 1);
    const std::string path = (std::filesystem::path(out_dir) / name).string();
    cond = file.saveFile(path.c_str(), EXS_LittleEndianExplicit);
    if (cond.bad()) return Error(ErrorCode::kIo, "writing " + path + ": " + cond.text());
    if (written != nullptr) written->push_back(path);
  }
  return Status::Ok();
}

Result<std::vector<std::vector<std::uint8_t>>> MakeCtPhantomSeries(const CtPhantomOptions& options) {
  CALIPER_RETURN_IF_ERROR(Validate(options));
  const SeriesUids uids = UidsFor(options, SeedOf(options));
  std::vector<std::vector<std::uint8_t>> out;
  out.reserve(options.slices);
  for (int k = 0; k < options.slices; ++k) {
    DcmFileFormat file;
    OFCondition cond = BuildSlice(options, uids, k, *file.getDataset());
    if (cond.bad()) {
      return Error(ErrorCode::kInternal,
                   "building slice " + std::to_string(k + 1) + ": " + cond.text());
    }
    CALIPER_ASSIGN_OR_RETURN(auto bytes, WriteDicom(file, EXS_LittleEndianExplicit));
    out.push_back(std::move(bytes));
  }
  return out;
}

std::vector<PhantomLandmark> PhantomLandmarks(const CtPhantomOptions& o) {
  const int last = std::max(o.slices - 1, 0);
  std::vector<PhantomLandmark> out = {
      {1, 2, 0, kPhantomLandmarkHu[0], {}},
      {o.cols - 2, 2, last, kPhantomLandmarkHu[1], {}},
      {1, o.rows - 3, last / 2, kPhantomLandmarkHu[2], {}},
  };
  for (PhantomLandmark& l : out) {
    const auto p = SlicePosition(o, l.k);
    // Axial 1\0\0\0\1\0: columns step along +x (left), rows along +y (posterior).
    l.lps = {p[0] + l.i * o.pixel_spacing_mm, p[1] + l.j * o.pixel_spacing_mm, p[2]};
  }
  return out;
}

Result<std::vector<std::uint8_t>> MakeEnhancedCtPhantom(const CtPhantomOptions& o) {
  CALIPER_RETURN_IF_ERROR(Validate(o));
  const std::uint64_t seed = SeedOf(o);
  DcmFileFormat file;
  DcmDataset& ds = *file.getDataset();
  ItemWriter w(ds);
  w.Str(DCM_SOPClassUID, UID_EnhancedCTImageStorage);
  w.Str(DCM_SOPInstanceUID, DeriveUid(seed, "enhanced/sop"));
  w.Str(DCM_StudyInstanceUID, DeriveUid(seed, "study"));
  w.Str(DCM_SeriesInstanceUID, DeriveUid(seed, "enhanced/series"));
  w.Str(DCM_FrameOfReferenceUID, DeriveUid(seed, "frame_of_reference"));
  w.Str(DCM_Modality, "CT");
  w.Str(DCM_PatientName, o.patient_name);
  w.Str(DCM_PatientID, o.patient_id);
  w.Str(DCM_ImageType, "ORIGINAL\\PRIMARY\\AXIAL\\NONE");
  w.U16(DCM_SamplesPerPixel, 1);
  w.Str(DCM_PhotometricInterpretation, "MONOCHROME2");
  w.U16(DCM_Rows, static_cast<Uint16>(o.rows));
  w.U16(DCM_Columns, static_cast<Uint16>(o.cols));
  w.U16(DCM_BitsAllocated, 16);
  w.U16(DCM_BitsStored, 16);
  w.U16(DCM_HighBit, 15);
  w.U16(DCM_PixelRepresentation, 1);
  w.Str(DCM_NumberOfFrames, std::to_string(o.slices));
  if (DcmItem* shared = w.NewItem(DCM_SharedFunctionalGroupsSequence)) {
    ItemWriter sw(*shared);
    sw.Macro(DCM_PixelMeasuresSequence,
             {{DCM_PixelSpacing, FormatDs(o.pixel_spacing_mm) + "\\" + FormatDs(o.pixel_spacing_mm)},
              {DCM_SliceThickness, FormatDs(o.slice_thickness_mm)}});
    sw.Macro(DCM_PlaneOrientationSequence, {{DCM_ImageOrientationPatient, "1\\0\\0\\0\\1\\0"}});
    sw.Macro(DCM_PixelValueTransformationSequence,
             {{DCM_RescaleIntercept, "-1024"}, {DCM_RescaleSlope, "1"}, {DCM_RescaleType, "HU"}});
    w.Merge(sw.status());
  }
  std::vector<Uint16> pixels;
  pixels.reserve(static_cast<std::size_t>(o.rows) * o.cols * o.slices);
  for (int f = 0; f < o.slices; ++f) {
    const int k = o.slices - 1 - f;  // top slice first
    const int offset = f == 0 ? 1000 : 1024;
    DcmItem* frame = w.NewItem(DCM_PerFrameFunctionalGroupsSequence);
    if (frame == nullptr) break;
    ItemWriter fw(*frame);
    const auto p = SlicePosition(o, k);
    fw.Macro(DCM_PlanePositionSequence,
             {{DCM_ImagePositionPatient,
               FormatDs(p[0]) + "\\" + FormatDs(p[1]) + "\\" + FormatDs(p[2])}});
    if (f == 0) {
      fw.Macro(DCM_PixelValueTransformationSequence,
               {{DCM_RescaleIntercept, "-1000"}, {DCM_RescaleSlope, "1"}, {DCM_RescaleType, "HU"}});
    }
    w.Merge(fw.status());
    const auto slice = SlicePixels(o, k, offset);
    pixels.insert(pixels.end(), slice.begin(), slice.end());
  }
  if (w.status().good()) {
    w.Merge(ds.putAndInsertUint16Array(DCM_PixelData, pixels.data(),
                                       static_cast<unsigned long>(pixels.size())));
  }
  if (w.status().bad()) {
    return Error(ErrorCode::kInternal, std::string("building the enhanced CT: ") + w.status().text());
  }
  return WriteDicom(file, EXS_LittleEndianExplicit);
}

std::array<std::uint8_t, 3> UltrasoundPhantomRgb(int frame, int row, int col, int rows, int cols) {
  const double cx = cols * (0.25 + 0.1 * frame), cy = rows / 2.0, radius = std::min(rows, cols) / 5.0;
  const double dx = col - cx, dy = row - cy;
  if (dx * dx + dy * dy <= radius * radius) return {230, 200, 60};
  const int base = 20 + (row * 100) / rows;
  return {static_cast<std::uint8_t>(base), static_cast<std::uint8_t>(base / 2),
          static_cast<std::uint8_t>(40 + (col * 150) / cols)};
}

Result<std::vector<std::uint8_t>> MakeUltrasoundCinePhantom(int frames, int rows, int cols,
                                                            bool ybr_planar, std::uint64_t seed) {
  if (frames < 1 || frames > 1000 || rows < 8 || rows > 1024 || cols < 8 || cols > 1024) {
    return Error(ErrorCode::kInvalidArgument, "frames must be 1..1000 and sizes 8..1024");
  }
  DcmFileFormat file;
  DcmDataset& ds = *file.getDataset();
  ItemWriter w(ds);
  w.Str(DCM_SOPClassUID, UID_UltrasoundMultiframeImageStorage);
  w.Str(DCM_SOPInstanceUID, DeriveUid(seed, "us/sop"));
  w.Str(DCM_StudyInstanceUID, DeriveUid(seed, "us/study"));
  w.Str(DCM_SeriesInstanceUID, DeriveUid(seed, "us/series"));
  w.Str(DCM_Modality, "US");
  w.Str(DCM_PatientName, "DOE^JANE");
  w.Str(DCM_PatientID, "MRN-000123");
  w.U16(DCM_SamplesPerPixel, 3);
  w.Str(DCM_PhotometricInterpretation, ybr_planar ? "YBR_FULL" : "RGB");
  w.U16(DCM_PlanarConfiguration, ybr_planar ? 1 : 0);
  w.U16(DCM_Rows, static_cast<Uint16>(rows));
  w.U16(DCM_Columns, static_cast<Uint16>(cols));
  w.U16(DCM_BitsAllocated, 8);
  w.U16(DCM_BitsStored, 8);
  w.U16(DCM_HighBit, 7);
  w.U16(DCM_PixelRepresentation, 0);
  w.Str(DCM_NumberOfFrames, std::to_string(frames));
  w.Str(DCM_FrameTime, "33.3");
  const std::size_t pixels = static_cast<std::size_t>(rows) * cols;
  std::vector<Uint8> data(pixels * 3 * frames);
  for (int f = 0; f < frames; ++f) {
    Uint8* out = data.data() + pixels * 3 * f;
    for (int r = 0; r < rows; ++r) {
      for (int c = 0; c < cols; ++c) {
        const auto rgb = UltrasoundPhantomRgb(f, r, c, rows, cols);
        const std::size_t p = static_cast<std::size_t>(r) * cols + c;
        if (!ybr_planar) {
          std::copy(rgb.begin(), rgb.end(), out + p * 3);
          continue;
        }
        // PS3.3 C.7.6.3.1.2 YBR_FULL from RGB, planes one after the other.
        const double y = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2];
        const double cb = -0.168736 * rgb[0] - 0.331264 * rgb[1] + 0.5 * rgb[2] + 128;
        const double cr = 0.5 * rgb[0] - 0.418688 * rgb[1] - 0.081312 * rgb[2] + 128;
        auto u8 = [](double v) { return static_cast<Uint8>(std::clamp(std::round(v), 0.0, 255.0)); };
        out[p] = u8(y);
        out[pixels + p] = u8(cb);
        out[2 * pixels + p] = u8(cr);
      }
    }
  }
  if (w.status().good()) {
    w.Merge(ds.putAndInsertUint8Array(DCM_PixelData, data.data(), static_cast<unsigned long>(data.size())));
  }
  if (w.status().bad()) {
    return Error(ErrorCode::kInternal, std::string("building the cine loop: ") + w.status().text());
  }
  return WriteDicom(file, EXS_LittleEndianExplicit);
}

}  // namespace caliper::dicom

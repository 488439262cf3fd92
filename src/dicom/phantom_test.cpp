#include "caliper/dicom/phantom.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <vector>

namespace caliper::dicom {
namespace {

namespace fs = std::filesystem;

// A fresh directory under the system temp dir, removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = fs::temp_directory_path() /
            (std::string("caliper_phantom_") + info->name() + "_" + std::to_string(::getpid()));
    fs::remove_all(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string str() const { return path_.string(); }

 private:
  fs::path path_;
};

std::string GetString(DcmItem& item, const DcmTagKey& key) {
  OFString value;
  if (item.findAndGetOFStringArray(key, value).bad()) return "<missing>";
  return value.c_str();
}

double GetDs(DcmItem& item, const DcmTagKey& key, unsigned long pos) {
  Float64 value = 0;
  EXPECT_TRUE(item.findAndGetFloat64(key, value, pos).good()) << DcmTag(key).getTagName();
  return value;
}

std::string ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// One loaded slice with its HU pixels.
struct Slice {
  DcmFileFormat file;
  std::vector<int> hu;
};

void LoadSlice(const std::string& path, Slice& out) {
  ASSERT_TRUE(out.file.loadFile(path.c_str()).good()) << path;
  DcmDataset& ds = *out.file.getDataset();
  const Uint16* raw = nullptr;
  unsigned long count = 0;
  ASSERT_TRUE(ds.findAndGetUint16Array(DCM_PixelData, raw, &count).good());
  Float64 slope = 0, intercept = 0;
  ASSERT_TRUE(ds.findAndGetFloat64(DCM_RescaleSlope, slope).good());
  ASSERT_TRUE(ds.findAndGetFloat64(DCM_RescaleIntercept, intercept).good());
  out.hu.clear();
  for (unsigned long i = 0; i < count; ++i) {
    out.hu.push_back(static_cast<int>(static_cast<Sint16>(raw[i]) * slope + intercept));
  }
}

CtPhantomOptions SeededOptions() {
  CtPhantomOptions o;
  o.seed = 42;
  return o;
}

TEST(PhantomTest, WritesOneFilePerSliceWithCtHeaders) {
  TempDir dir;
  std::vector<std::string> written;
  ASSERT_TRUE(WriteCtPhantomSeries(SeededOptions(), dir.str(), &written).ok());
  ASSERT_EQ(written.size(), 16u);
  EXPECT_EQ(fs::path(written[0]).filename(), "ct_0001.dcm");

  Slice s;
  LoadSlice(written[3], s);
  DcmMetaInfo& meta = *s.file.getMetaInfo();
  DcmDataset& ds = *s.file.getDataset();
  EXPECT_EQ(GetString(meta, DCM_TransferSyntaxUID), UID_LittleEndianExplicitTransferSyntax);
  EXPECT_EQ(GetString(meta, DCM_MediaStorageSOPClassUID), UID_CTImageStorage);
  EXPECT_EQ(GetString(meta, DCM_MediaStorageSOPInstanceUID), GetString(ds, DCM_SOPInstanceUID));
  EXPECT_EQ(GetString(ds, DCM_SOPClassUID), UID_CTImageStorage);
  EXPECT_EQ(GetString(ds, DCM_Modality), "CT");
  EXPECT_EQ(GetString(ds, DCM_InstanceNumber), "4");
  EXPECT_EQ(GetString(ds, DCM_Rows), "64");
  EXPECT_EQ(GetString(ds, DCM_Columns), "64");
  EXPECT_EQ(GetString(ds, DCM_BitsAllocated), "16");
  EXPECT_EQ(GetString(ds, DCM_PixelRepresentation), "1");
  EXPECT_EQ(GetString(ds, DCM_RescaleSlope), "1");
  EXPECT_EQ(GetString(ds, DCM_RescaleIntercept), "-1024");
  EXPECT_EQ(GetString(ds, DCM_WindowCenter), "40");
  EXPECT_EQ(GetString(ds, DCM_WindowWidth), "400");
  EXPECT_EQ(GetString(ds, DCM_ImageOrientationPatient), "1\\0\\0\\0\\1\\0");
  EXPECT_EQ(GetString(ds, DCM_PixelSpacing), "5\\5");
  EXPECT_EQ(GetString(ds, DCM_SliceThickness), "5");
  for (const DcmTagKey& key :
       {DCM_StudyInstanceUID, DCM_SeriesInstanceUID, DCM_FrameOfReferenceUID, DCM_SOPInstanceUID}) {
    const std::string uid = GetString(ds, key);
    EXPECT_EQ(uid.rfind("2.25.", 0), 0u) << uid;
    EXPECT_LE(uid.size(), 64u);
  }
}

TEST(PhantomTest, CarriesFakePhiInManyPlaces) {
  TempDir dir;
  CtPhantomOptions o = SeededOptions();
  o.patient_name = "MÜLLER^JOSÉ^R";
  o.patient_id = "MRN-000777";
  o.birth_date = "19310505";
  o.study_date = "20250312";
  std::vector<std::string> written;
  ASSERT_TRUE(WriteCtPhantomSeries(o, dir.str(), &written).ok());
  Slice s;
  LoadSlice(written[1], s);
  DcmDataset& ds = *s.file.getDataset();

  EXPECT_EQ(GetString(ds, DCM_SpecificCharacterSet), "ISO_IR 192");
  EXPECT_EQ(GetString(ds, DCM_PatientName), "MÜLLER^JOSÉ^R");
  EXPECT_EQ(GetString(ds, DCM_PatientID), "MRN-000777");
  EXPECT_EQ(GetString(ds, DCM_PatientBirthDate), "19310505");
  EXPECT_EQ(GetString(ds, DCM_PatientSex), "F");
  EXPECT_EQ(GetString(ds, DCM_PatientAge), "093Y");  // over 89: Safe Harbor must remove it
  EXPECT_EQ(GetString(ds, DCM_StudyDate), "20250312");
  EXPECT_EQ(GetString(ds, DCM_SeriesDate), "20250312");
  EXPECT_EQ(GetString(ds, DCM_AcquisitionDateTime), "20250312093015");
  EXPECT_EQ(GetString(ds, DCM_AccessionNumber), "ACC-20250312-0042");
  for (const DcmTagKey& key :
       {DCM_StudyTime, DCM_InstitutionName, DCM_InstitutionAddress, DCM_ReferringPhysicianName,
        DCM_OperatorsName, DCM_PerformingPhysicianName, DCM_StationName, DCM_DeviceSerialNumber,
        DCM_StudyID, DCM_PatientAddress, DCM_PatientTelephoneNumbers}) {
    const std::string v = GetString(ds, key);
    EXPECT_NE(v, "<missing>") << DcmTag(key).getTagName();
    EXPECT_FALSE(v.empty()) << DcmTag(key).getTagName();
  }
  EXPECT_NE(GetString(ds, DCM_StudyDescription).find("JOSÉ MÜLLER"), std::string::npos);
  EXPECT_NE(GetString(ds, DCM_SeriesDescription).find("JOSÉ MÜLLER"), std::string::npos);

  DcmItem* other = nullptr;
  ASSERT_TRUE(ds.findAndGetSequenceItem(DCM_OtherPatientIDsSequence, other, 0).good());
  EXPECT_EQ(GetString(*other, DCM_PatientID), "ALT-MRN-000777");

  EXPECT_EQ(GetString(ds, DcmTagKey(0x0009, 0x0010)), "CALIPER SYNTH");
  EXPECT_NE(GetString(ds, DcmTagKey(0x0009, 0x1001)).find("MÜLLER^JOSÉ^R"), std::string::npos);
  EXPECT_EQ(GetString(ds, DcmTagKey(0x0009, 0x1002)), "MRN-000777");
  DcmElement* priv = nullptr;
  ASSERT_TRUE(ds.findAndGetElement(DcmTagKey(0x0009, 0x1001), priv).good());
  EXPECT_EQ(priv->getVR(), EVR_LO);
}

TEST(PhantomTest, GeometryStepsBySliceThickness) {
  TempDir dir;
  CtPhantomOptions o = SeededOptions();
  o.slices = 5;
  o.rows = 32;
  o.cols = 48;
  o.pixel_spacing_mm = 0.75;
  o.slice_thickness_mm = 2.5;
  std::vector<std::string> written;
  ASSERT_TRUE(WriteCtPhantomSeries(o, dir.str(), &written).ok());
  ASSERT_EQ(written.size(), 5u);
  std::string frame;
  for (int k = 0; k < 5; ++k) {
    Slice s;
    LoadSlice(written[k], s);
    DcmDataset& ds = *s.file.getDataset();
    EXPECT_EQ(s.hu.size(), 32u * 48u);
    EXPECT_DOUBLE_EQ(GetDs(ds, DCM_ImagePositionPatient, 0), -23.5 * 0.75);
    EXPECT_DOUBLE_EQ(GetDs(ds, DCM_ImagePositionPatient, 1), -15.5 * 0.75);
    EXPECT_DOUBLE_EQ(GetDs(ds, DCM_ImagePositionPatient, 2), 2.5 * k);
    EXPECT_DOUBLE_EQ(GetDs(ds, DCM_SliceLocation, 0), 2.5 * k);
    EXPECT_DOUBLE_EQ(GetDs(ds, DCM_PixelSpacing, 1), 0.75);
    EXPECT_EQ(GetString(ds, DCM_InstanceNumber), std::to_string(k + 1));
    if (k == 0) frame = GetString(ds, DCM_FrameOfReferenceUID);
    EXPECT_EQ(GetString(ds, DCM_FrameOfReferenceUID), frame);
  }
}

TEST(PhantomTest, PixelsShowBodyBoneLiverAndAVaryingLesion) {
  TempDir dir;
  std::vector<std::string> written;
  ASSERT_TRUE(WriteCtPhantomSeries(SeededOptions(), dir.str(), &written).ok());
  std::vector<int> lesion_area;
  for (const std::string& path : written) {
    Slice s;
    LoadSlice(path, s);
    ASSERT_EQ(s.hu.size(), 64u * 64u);
    EXPECT_EQ(s.hu[0], kPhantomAirHu);  // corner is outside the body
    EXPECT_EQ(*std::max_element(s.hu.begin(), s.hu.end()), kPhantomBoneHu);
    EXPECT_EQ(*std::min_element(s.hu.begin(), s.hu.end()), kPhantomAirHu);
    const auto count = [&](int hu) { return std::count(s.hu.begin(), s.hu.end(), hu); };
    EXPECT_GT(count(kPhantomSoftTissueHu), 500);
    EXPECT_GT(count(kPhantomLiverHu), 100);
    EXPECT_GT(count(kPhantomBoneHu), 20);
    EXPECT_EQ(count(kPhantomAirHu) + count(kPhantomSoftTissueHu) + count(kPhantomLiverHu) +
                  count(kPhantomBoneHu) + count(kPhantomLesionHu),
              64 * 64);
    lesion_area.push_back(static_cast<int>(count(kPhantomLesionHu)));
  }
  // Absent at both ends, largest in the middle, so segmentation has a 3D object to find.
  EXPECT_EQ(lesion_area.front(), 0);
  EXPECT_EQ(lesion_area.back(), 0);
  const int peak = *std::max_element(lesion_area.begin(), lesion_area.end());
  EXPECT_GT(peak, 20);
  EXPECT_EQ(lesion_area[7], peak);
  EXPECT_LT(lesion_area[3], peak);
  EXPECT_GT(lesion_area[3], 0);
  EXPECT_GT(std::set<int>(lesion_area.begin(), lesion_area.end()).size(), 3u);
}

TEST(PhantomTest, LaterSlicesReferenceTheFirst) {
  TempDir dir;
  std::vector<std::string> written;
  ASSERT_TRUE(WriteCtPhantomSeries(SeededOptions(), dir.str(), &written).ok());
  Slice first;
  LoadSlice(written[0], first);
  const std::string first_uid = GetString(*first.file.getDataset(), DCM_SOPInstanceUID);
  DcmItem* none = nullptr;
  EXPECT_TRUE(
      first.file.getDataset()->findAndGetSequenceItem(DCM_ReferencedImageSequence, none, 0).bad());
  std::set<std::string> sops{first_uid};
  for (std::size_t k = 1; k < written.size(); ++k) {
    Slice s;
    LoadSlice(written[k], s);
    DcmItem* ref = nullptr;
    ASSERT_TRUE(
        s.file.getDataset()->findAndGetSequenceItem(DCM_ReferencedImageSequence, ref, 0).good());
    EXPECT_EQ(GetString(*ref, DCM_ReferencedSOPInstanceUID), first_uid);
    EXPECT_EQ(GetString(*ref, DCM_ReferencedSOPClassUID), UID_CTImageStorage);
    sops.insert(GetString(*s.file.getDataset(), DCM_SOPInstanceUID));
  }
  EXPECT_EQ(sops.size(), written.size());  // every SOP Instance UID is distinct
}

TEST(PhantomTest, DcmdumpAcceptsTheFile) {
  TempDir dir;
  std::vector<std::string> written;
  ASSERT_TRUE(WriteCtPhantomSeries(SeededOptions(), dir.str(), &written).ok());
  const std::string out = dir.str() + "/dump.txt";
  const std::string cmd = "dcmdump -E '" + written[1] + "' > '" + out + "' 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << ReadBytes(out);
  const std::string dump = ReadBytes(out);
  EXPECT_NE(dump.find("CALIPER SYNTH"), std::string::npos);
  EXPECT_NE(dump.find("ReferencedImageSequence"), std::string::npos);
}

TEST(PhantomTest, SameSeedGivesByteIdenticalFiles) {
  TempDir dir;
  std::vector<std::string> a, b, c;
  ASSERT_TRUE(WriteCtPhantomSeries(SeededOptions(), dir.str() + "/a", &a).ok());
  ASSERT_TRUE(WriteCtPhantomSeries(SeededOptions(), dir.str() + "/b", &b).ok());
  CtPhantomOptions other = SeededOptions();
  other.seed = 43;
  ASSERT_TRUE(WriteCtPhantomSeries(other, dir.str() + "/c", &c).ok());
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(ReadBytes(a[i]), ReadBytes(b[i])) << a[i];
    EXPECT_NE(ReadBytes(a[i]), ReadBytes(c[i])) << c[i];
  }
}

TEST(PhantomTest, WithoutSeedUidsDiffer) {
  TempDir dir;
  CtPhantomOptions o;
  o.slices = 1;
  std::vector<std::string> a, b;
  ASSERT_TRUE(WriteCtPhantomSeries(o, dir.str() + "/a", &a).ok());
  ASSERT_TRUE(WriteCtPhantomSeries(o, dir.str() + "/b", &b).ok());
  Slice sa, sb;
  LoadSlice(a[0], sa);
  LoadSlice(b[0], sb);
  EXPECT_NE(GetString(*sa.file.getDataset(), DCM_StudyInstanceUID),
            GetString(*sb.file.getDataset(), DCM_StudyInstanceUID));
}

TEST(PhantomTest, DeriveUidIsStableAndDistinct) {
  EXPECT_EQ(DeriveUid(7, "study"), DeriveUid(7, "study"));
  EXPECT_NE(DeriveUid(7, "study"), DeriveUid(7, "series"));
  EXPECT_NE(DeriveUid(7, "study"), DeriveUid(8, "study"));
  const std::string uid = DeriveUid(7, "study");
  EXPECT_EQ(uid.rfind("2.25.", 0), 0u);
  EXPECT_NE(uid[5], '0');  // no leading zero in a UID component (PS3.5 9.1)
  EXPECT_TRUE(std::all_of(uid.begin() + 5, uid.end(), [](char c) { return c >= '0' && c <= '9'; }));
}

TEST(PhantomTest, RejectsBadOptions) {
  TempDir dir;
  CtPhantomOptions o = SeededOptions();
  o.slices = 0;
  EXPECT_EQ(WriteCtPhantomSeries(o, dir.str(), nullptr).code(), ErrorCode::kInvalidArgument);
  o = SeededOptions();
  o.pixel_spacing_mm = 0;
  EXPECT_EQ(WriteCtPhantomSeries(o, dir.str(), nullptr).code(), ErrorCode::kInvalidArgument);
  o = SeededOptions();
  o.birth_date = "1958-02-14";
  EXPECT_EQ(WriteCtPhantomSeries(o, dir.str(), nullptr).code(), ErrorCode::kInvalidArgument);
  EXPECT_FALSE(fs::exists(dir.str()));
}

TEST(PhantomTest, UnwritableDirectoryIsIoError) {
  TempDir dir;
  fs::create_directories(dir.str());
  std::ofstream(dir.str() + "/file") << "x";
  const Status s = WriteCtPhantomSeries(SeededOptions(), dir.str() + "/file/sub", nullptr);
  EXPECT_EQ(s.code(), ErrorCode::kIo) << s.ToString();
}

}  // namespace
}  // namespace caliper::dicom

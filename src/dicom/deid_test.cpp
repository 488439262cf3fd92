#include "caliper/dicom/deid.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcbytstr.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcistrmb.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <dcmtk/dcmdata/dcpixel.h>
#include <dcmtk/dcmdata/dcpixseq.h>
#include <dcmtk/dcmdata/dcpxitem.h>
#include <dcmtk/dcmdata/dcsequen.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmdata/dcvr.h>
#include <gtest/gtest.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "caliper/common/sample_data.h"
#include "caliper/dicom/encode.h"
#include "caliper/dicom/image.h"
#include "caliper/dicom/phantom.h"
#include "caliper/security/crypto.h"
#include "dicom/codecs.h"
#include "dicom/dataset_util.h"
#include "dicom/deid_profile.h"
#include "dicom/test_support.h"

namespace caliper::dicom {
namespace {

namespace fs = std::filesystem;

KeyedHash HashFor(unsigned char fill) {
  security::Key key;
  key.fill(fill);
  return [key](std::string_view m) { return security::KeyedBlake2b(key, m); };
}

std::unique_ptr<DicomDeidentifier> Make(DeidOptions options = {}, unsigned char key = 7) {
  auto d = DicomDeidentifier::Create(std::move(options), HashFor(key));
  EXPECT_TRUE(d.ok()) << d.status().ToString();
  return std::move(d).value();
}

std::string ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

class TempDir {
 public:
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = fs::temp_directory_path() /
            (std::string("caliper_deid_") + info->name() + "_" + std::to_string(::getpid()));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string str() const { return path_.string(); }

 private:
  fs::path path_;
};

// A parsed file, from bytes.
struct Parsed {
  DcmFileFormat file;
  explicit Parsed(const std::string& bytes) {
    DcmInputBufferStream in;
    in.setBuffer(bytes.data(), static_cast<offile_off_t>(bytes.size()));
    in.setEos();
    file.transferInit();
    ok = file.read(in).good();
    file.transferEnd();
  }
  DcmDataset& ds() { return *file.getDataset(); }
  std::string Get(const DcmTagKey& key) {
    OFString v;
    return ds().findAndGetOFStringArray(key, v).good() ? std::string(v.c_str()) : "<missing>";
  }
  bool ok = false;
};

// The Pixel Data bytes: the native value, or the encapsulated fragments concatenated.
std::string PixelBytes(Parsed& p) {
  DcmElement* e = nullptr;
  if (p.ds().findAndGetElement(DCM_PixelData, e).bad()) return {};
  auto* pixels = static_cast<DcmPixelData*>(e);
  DcmPixelSequence* seq = nullptr;
  if (pixels->getEncapsulatedRepresentation(p.ds().getOriginalXfer(), nullptr, seq).good() && seq) {
    std::string out;
    for (unsigned long i = 0; i < seq->card(); ++i) {
      DcmPixelItem* item = nullptr;
      Uint8* data = nullptr;
      if (seq->getItem(item, i).good() && item->getUint8Array(data).good() && data) {
        out.append(reinterpret_cast<const char*>(data), item->getLength());
      }
    }
    return out;
  }
  Uint8* data = nullptr;
  if (pixels->getUint8Array(data).bad() || data == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(data), pixels->getLength());
}

// Every string value (and each of its backslash parts) of at least 4 characters that the
// profile says must not survive under `options`, at any depth: attributes resolving to X,
// Z, D or U, dates unless shifted, private attributes, and names anywhere. Values that also
// occur in attributes that are legitimately kept are left out (they are not identifying
// by themselves: "HFS" is both a name here and a Patient Position).
std::set<std::string> IdentifyingValues(DcmItem& root, const DeidOptions& options) {
  std::set<std::string> identifying, kept;
  std::function<void(DcmItem&)> walk = [&](DcmItem& item) {
    for (unsigned long i = 0; i < item.card(); ++i) {
      DcmElement* e = item.getElement(i);
      const DcmTagKey key = e->getTag();
      if (e->ident() == EVR_SQ) {
        auto* sq = static_cast<DcmSequenceOfItems*>(e);
        for (unsigned long k = 0; k < sq->card(); ++k) walk(*sq->getItem(k));
        continue;
      }
      // Numbers (DS, IS) are not identifying by themselves and occur everywhere in the bytes.
      if (!e->isaString() || key == DCM_PixelData || e->ident() == EVR_DS || e->ident() == EVR_IS) {
        continue;
      }
      OFString v;
      if (e->getOFStringArray(v).bad()) continue;
      bool must_go = (key.getGroup() & 1) || e->ident() == EVR_PN;
      const profile::ProfileRow* row = profile::Find(key.getGroup(), key.getElement());
      if (row != nullptr) {
        const profile::Action a = profile::Resolve(*row, options);
        must_go = a == profile::Action::kRemove || a == profile::Action::kZero ||
                  a == profile::Action::kDummy || a == profile::Action::kUid ||
                  (a == profile::Action::kClean && (e->ident() == EVR_DA || e->ident() == EVR_DT));
      } else if (e->ident() == EVR_DA || e->ident() == EVR_DT) {
        must_go = true;
      }
      std::string whole = v.c_str();
      std::vector<std::string> parts{whole};
      std::size_t start = 0;
      for (std::size_t end; (end = whole.find('\\', start)) != std::string::npos; start = end + 1) {
        parts.push_back(whole.substr(start, end - start));
      }
      if (start > 0) parts.push_back(whole.substr(start));
      for (std::string p : parts) {
        while (!p.empty() && (p.back() == ' ' || p.back() == '\0')) p.pop_back();
        while (!p.empty() && p.front() == ' ') p.erase(p.begin());
        if (p.size() < 4) continue;
        (must_go ? identifying : kept).insert(p);
      }
    }
  };
  walk(root);
  for (const std::string& k : kept) identifying.erase(k);
  for (const char* dummy : {"ANONYMIZED", "ANONYMOUS", "19000101", "000000", "REMOVED", "MODIFIED"}) identifying.erase(dummy);
  return identifying;
}

// Runs the de-identifier on `bytes` and checks the universal guarantees; returns the result.
DeidResult CheckOne(const DicomDeidentifier& deid, const std::string& bytes, const std::string& name) {
  auto result = deid.Deidentify(bytes);
  EXPECT_TRUE(result.ok()) << name << ": " << result.status().ToString();
  if (!result.ok()) return {};
  Parsed in(bytes), out(result->bytes);
  EXPECT_TRUE(out.ok) << name;
  for (const std::string& value : IdentifyingValues(in.ds(), deid.options())) {
    EXPECT_EQ(result->bytes.find(value), std::string::npos) << name << ": '" << value << "' survived";
  }
  OFString meta_uid;
  in.file.getMetaInfo()->findAndGetOFString(DCM_MediaStorageSOPInstanceUID, meta_uid);
  if (!meta_uid.empty()) {
    EXPECT_EQ(result->bytes.find(meta_uid.c_str()), std::string::npos) << name << ": meta UID survived";
  }
  EXPECT_EQ(PixelBytes(in), PixelBytes(out)) << name << ": pixel data changed";
  EXPECT_EQ(out.Get(DCM_PatientIdentityRemoved), "YES") << name;
  EXPECT_NE(out.Get(DCM_DeidentificationMethod).find(std::string(ProfileEdition())), std::string::npos);
  EXPECT_EQ(out.Get(DCM_PatientID), result->patient.pseudonymous_id);
  // No private element anywhere (none is safe-listed here).
  DcmStack stack;
  while (out.ds().nextObject(stack, true).good()) {
    EXPECT_FALSE(static_cast<DcmObject*>(stack.top())->getTag().isPrivate()) << name;
  }
  return std::move(result).value();
}

std::vector<std::string> SampleDicomFiles() {
  std::vector<std::string> files;
  const char* root = std::getenv("CALIPER_SAMPLE_DATA");
  if (root == nullptr || !fs::is_directory(root)) return files;
  for (const char* dir : {"dicom-series", "dicom-seg"}) {
    if (!fs::is_directory(fs::path(root) / dir)) continue;
    for (const auto& entry : fs::recursive_directory_iterator(fs::path(root) / dir)) {
      if (entry.is_regular_file() && entry.path().extension() == ".dcm") files.push_back(entry.path());
    }
  }
  if (auto ecg = SampleDataFile("waveform/waveform_ecg_12lead.dcm")) files.push_back(*ecg);
  std::sort(files.begin(), files.end());
  return files;
}

std::vector<std::string> Phantom(const std::string& dir, CtPhantomOptions o = {}) {
  o.seed = o.seed.value_or(42);
  o.slices = 4;
  o.rows = o.cols = 16;
  std::vector<std::string> paths;
  EXPECT_TRUE(WriteCtPhantomSeries(o, dir, &paths).ok());
  return paths;
}

TEST(DicomProfileTable, EqualsWhatTheGeneratorWritesFromTheStandard) {
  const auto json = SampleDataFile("deid/confidentiality_profile_attributes.json");
  const auto xml = SampleDataFile("deid/part15-2023b.xml");
  if (!json || !xml) {
    if (SampleDataRequired()) FAIL() << "deid/ sample data missing";
    GTEST_SKIP() << "CALIPER_SAMPLE_DATA not set";
  }
  TempDir tmp;
  const std::string out = tmp.str() + "/table.inc";
  const std::string edition = std::string(ProfileEdition()).substr(13, 5);  // "2024b"
  const std::string cmd = "/usr/bin/python3 " CALIPER_SOURCE_DIR "/tools/gen_dicom_profile.py '" +
                          *json + "' " + edition + " '" + *xml + "' '" + out + "'";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  EXPECT_EQ(ReadBytes(out), ReadBytes(CALIPER_SOURCE_DIR "/src/dicom/deid_profile_table.inc"))
      << "the committed table drifted from the generator; regenerate with: " << cmd;
  EXPECT_EQ(profile::Rows().size(), 620u);
}

TEST(DicomProfile, CombinedCodesAndOptionsResolveAsDocumented) {
  using profile::Action;
  const DeidOptions none;
  auto action = [](std::uint16_t g, std::uint16_t e, const DeidOptions& o) {
    const profile::ProfileRow* row = profile::Find(g, e);
    EXPECT_NE(row, nullptr);
    return row ? profile::Resolve(*row, o) : Action::kKeep;
  };
  EXPECT_EQ(action(0x0010, 0x0010, none), Action::kZero);    // Patient's Name: Z
  EXPECT_EQ(action(0x0008, 0x0018, none), Action::kUid);     // SOP Instance UID: U
  EXPECT_EQ(action(0x0008, 0x1140, none), Action::kUid);     // Referenced Image Seq: X/Z/U*
  EXPECT_EQ(action(0x0008, 0x0022, none), Action::kZero);    // Acquisition Date: X/Z in IOD
  EXPECT_EQ(action(0x0010, 0x1010, none), Action::kRemove);  // Patient's Age: X
  EXPECT_EQ(action(0x6002, 0x3000, none), Action::kRemove);  // Overlay Data (60xx,3000)
  DeidOptions o;
  o.retain_modified_dates = o.retain_patient_characteristics = o.retain_device_identity = true;
  EXPECT_EQ(action(0x0008, 0x0022, o), Action::kClean);
  EXPECT_EQ(action(0x0010, 0x1010, o), Action::kKeep);
  EXPECT_EQ(action(0x0018, 0x1000, o), Action::kKeep);   // Device Serial Number
  EXPECT_EQ(action(0x0018, 0x1200, o), Action::kClean);  // Date of Last Calibration: K and C
  EXPECT_EQ(profile::Find(0x0008, 0x0060), nullptr);      // Modality is not in the table
}

// ElementIndex stands in for DcmItem::findAndGetElement (no search into sequences) in the
// de-identifier's reads: the same element for every tag present, null for every tag absent,
// also for tags that only a sequence item holds and for elements inserted out of tag order.
TEST(DicomElementIndex, FindsWhatFindAndGetElementFinds) {
  DcmDataset ds;
  ASSERT_TRUE(ds.putAndInsertString(DCM_StudyDate, "20200101").good());
  ASSERT_TRUE(ds.putAndInsertString(DCM_PatientName, "Doe^Jane").good());
  ASSERT_TRUE(ds.putAndInsertUint16(DCM_Rows, 512).good());
  ASSERT_TRUE(ds.putAndInsertString(DcmTag(0x0009, 0x0010, EVR_LO), "ACME").good());
  ASSERT_TRUE(ds.putAndInsertString(DCM_Modality, "CT").good());
  DcmItem* item = nullptr;
  ASSERT_TRUE(ds.findOrCreateSequenceItem(DCM_ReferencedImageSequence, item, -2).good());
  ASSERT_TRUE(item->putAndInsertString(DCM_ReferencedSOPInstanceUID, "1.2.3").good());
  const ElementIndex index(ds);
  std::vector<DcmTagKey> keys = {DCM_PatientID,
                                 DCM_ReferencedSOPInstanceUID,
                                 DCM_PixelData,
                                 DcmTagKey(0x0000, 0x0000),
                                 DcmTagKey(0xFFFF, 0xFFFF),
                                 DcmTagKey(0x0009, 0x1000)};
  for (unsigned long i = 0; i < ds.card(); ++i) keys.push_back(ds.getElement(i)->getTag());
  ASSERT_EQ(keys.size(), 6u + 6u);
  for (const DcmTagKey& key : keys) {
    DcmElement* expected = nullptr;
    if (ds.findAndGetElement(key, expected, /*searchIntoSub=*/false).bad()) expected = nullptr;
    EXPECT_EQ(index.Find(key), expected) << key.toString();
  }
  EXPECT_EQ(index.Find(DCM_ReferencedSOPInstanceUID), nullptr);
  EXPECT_NE(index.Find(DCM_Rows), nullptr);
}

// TrimmedValue reads a value of one component as stored; every string element of every sample
// file (and of the phantom, and values made to be awkward) must read as DCMTK's normalised copy,
// trimmed, reads it.
TEST(DicomTrimmedValue, EqualsTheNormalisedCopyTrimmed) {
  const auto slow = [](DcmElement& e) {
    OFString value;
    if (e.getOFStringArray(value).bad()) return std::string();
    std::string s = value.c_str();
    const std::size_t first = s.find_first_not_of(std::string(" \0", 2));
    if (first == std::string::npos) return std::string();
    return s.substr(first, s.find_last_not_of(std::string(" \0", 2)) + 1 - first);
  };
  std::size_t compared = 0, fast = 0;
  const auto compare_all = [&](DcmItem& root, const std::string& name) {
    DcmStack stack;
    while (root.nextObject(stack, true).good()) {
      auto* object = static_cast<DcmObject*>(stack.top());
      // Other VRs never take the stored path: TrimmedValue is the normalised copy for them.
      if (!object->isLeaf() || !object->isaString()) continue;
      auto* e = static_cast<DcmElement*>(object);
      char* stored = nullptr;
      Uint32 length = 0;
      const std::string expected = slow(*e);
      fast += e->getString(stored, length).good() &&
              std::string_view(stored == nullptr ? "" : stored, stored == nullptr ? 0 : length)
                      .find_first_of(std::string_view("\\\0", 2)) == std::string_view::npos;
      EXPECT_EQ(TrimmedValue(*e), expected) << name << " " << e->getTag().toString();
      ++compared;
    }
  };
  DcmDataset odd;
  const std::vector<std::pair<DcmTagKey, std::string>> values = {
      {DCM_PatientName, "  Doe^Jane  "}, {DCM_ImageType, "ORIGINAL \\ PRIMARY "},
      {DCM_PixelSpacing, " 0.5\\0.5 "}, {DCM_StudyDescription, std::string(" CT\0HEAD ", 10)},
      {DCM_SeriesDescription, std::string("\0LEAD", 5)}, {DCM_ImageComments, " a\\b  "},
      {DCM_InstitutionName, ""}, {DCM_SOPInstanceUID, std::string("1.2.3\0", 6)},
      {DCM_PatientAge, "093Y"}, {DCM_StudyTime, " 101010 "}};
  for (const auto& [key, value] : values) {
    ASSERT_TRUE(odd.putAndInsertString(key, value.data(), static_cast<Uint32>(value.size())).good()) << key.toString();
  }
  ASSERT_TRUE(odd.putAndInsertUint16(DCM_Rows, 512).good());
  compare_all(odd, "awkward values");
  const TempDir dir;
  for (const std::string& path : Phantom(dir.str())) {
    DcmFileFormat file;
    ASSERT_TRUE(file.loadFile(path.c_str()).good());
    compare_all(*file.getDataset(), path);
  }
  const auto files = SampleDicomFiles();
  if (files.size() < 90) {
    if (SampleDataRequired()) FAIL() << "sample DICOM files missing (found " << files.size() << ")";
    GTEST_SKIP() << "CALIPER_SAMPLE_DATA not set";
  }
  for (const std::string& path : files) {
    DcmFileFormat file;
    ASSERT_TRUE(file.loadFile(path.c_str()).good()) << path;
    compare_all(*file.getDataset(), path);
  }
  EXPECT_GT(compared, 10000u);
  EXPECT_GT(fast, compared / 2);  // most values take the stored path
}

TEST(DicomDeid, PhantomLosesEveryIdentifierAndKeepsItsPixels) {
  TempDir tmp;
  const auto paths = Phantom(tmp.str());
  for (bool clean : {false, true}) {
    DeidOptions o;
    o.clean_descriptors = clean;
    auto deid = Make(o);
    for (const std::string& p : paths) {
      const DeidResult r = CheckOne(*deid, ReadBytes(p), p);
      // The phantom's fake PHI, named explicitly as well.
      for (const char* phi : {"DOE", "JANE", "MRN-000123", "19580214", "Caliper General", "Elm Street",
                              "SMITH", "GARCIA", "BROWN", "CT-SCANNER-01", "SN-4417-XYZ", "S12345",
                              "ACC-20250312", "CALIPER SYNTH", "555", "Springfield"}) {
        EXPECT_EQ(r.bytes.find(phi), std::string::npos) << phi << " survived in " << p;
      }
      EXPECT_EQ(r.actions.private_removed, 2);
      EXPECT_GT(r.actions.removed + r.actions.zeroed + r.actions.dummy + r.actions.uid_remapped, 20);
      Parsed out(r.bytes);
      if (clean) {
        EXPECT_EQ(out.Get(DCM_SeriesDescription), "AXIAL 5MM");
        EXPECT_EQ(out.Get(DCM_StudyDescription), "CT ABDOMEN PELVIS W CONTRAST");
      } else {
        EXPECT_EQ(out.Get(DCM_SeriesDescription), "<missing>");
      }
      EXPECT_EQ(r.cohort.series_description, "AXIAL 5MM");
    }
  }
}

TEST(DicomDeid, ResultCarriesLinkCohortAndMethodCodes) {
  TempDir tmp;
  const auto paths = Phantom(tmp.str());
  DeidOptions o;
  o.retain_modified_dates = o.clean_descriptors = true;
  const DeidResult r = CheckOne(*Make(o), ReadBytes(paths[1]), paths[1]);
  EXPECT_EQ(r.patient.original_patient_id, "MRN-000123");
  EXPECT_EQ(r.patient.original_name, "DOE^JANE^Q");
  EXPECT_EQ(r.patient.original_study_uid, DeriveUid(42, "study"));
  EXPECT_NE(r.patient.original_study_uid, r.study_uid);
  EXPECT_EQ(r.patient.pseudonymous_id.rfind("PSN-", 0), 0u);
  EXPECT_FALSE(r.burned_in_risk);
  EXPECT_FALSE(r.quarantine);
  EXPECT_EQ(r.cohort.age_band, "65-69");  // born 1958-02-14, scanned 2025-03-12: 67
  EXPECT_EQ(r.cohort.sex, "F");
  EXPECT_EQ(r.cohort.manufacturer, "Caliper Synthetic");
  EXPECT_EQ(r.cohort.kvp, "120");
  EXPECT_EQ(r.cohort.body_part, "ABDOMEN");
  EXPECT_EQ(r.cohort.acquisition_year, "2025");
  EXPECT_EQ(r.cohort.site.rfind("site-", 0), 0u);
  EXPECT_EQ(r.cohort.protocol, "ABD PELVIS") << "cleaned of the patient's name";
  EXPECT_EQ(r.cohort.ethnicity, "HISPANIC");
  Parsed out(r.bytes);
  std::set<std::string> codes;
  DcmItem* item = nullptr;
  for (int i = 0; out.ds().findAndGetSequenceItem(DCM_DeidentificationMethodCodeSequence, item, i).good(); ++i) {
    OFString v;
    item->findAndGetOFString(DCM_CodeValue, v);
    codes.insert(v.c_str());
  }
  EXPECT_EQ(codes, (std::set<std::string>{"113100", "113105", "113107"}));
  EXPECT_EQ(out.Get(DCM_LongitudinalTemporalInformationModified), "MODIFIED");
}

TEST(DicomDeid, UidsAndPseudonymsAreConsistentAcrossRunsAndReferences) {
  TempDir tmp;
  const auto paths = Phantom(tmp.str());
  // Two separate de-identifiers with the same key: a study split over two uploads.
  auto first = Make(), second = Make(), other_key = Make({}, 9);
  const DeidResult a0 = CheckOne(*first, ReadBytes(paths[0]), paths[0]);
  const DeidResult a1 = CheckOne(*first, ReadBytes(paths[1]), paths[1]);
  const DeidResult b2 = CheckOne(*second, ReadBytes(paths[2]), paths[2]);
  const DeidResult b0 = CheckOne(*second, ReadBytes(paths[0]), paths[0]);
  EXPECT_EQ(a0.study_uid, b2.study_uid);
  EXPECT_EQ(a0.series_uid, b2.series_uid);
  EXPECT_EQ(a0.bytes, b0.bytes);  // the same instance twice: byte-identical output
  EXPECT_EQ(a0.patient.pseudonymous_id, b2.patient.pseudonymous_id);
  EXPECT_NE(a0.sop_instance_uid, a1.sop_instance_uid);
  EXPECT_EQ(a0.study_uid.rfind("2.25.", 0), 0u);
  EXPECT_LE(a0.study_uid.size(), 64u);
  Parsed s0(a0.bytes), s1(a1.bytes), s2(b2.bytes);
  EXPECT_EQ(s1.Get(DCM_FrameOfReferenceUID), s2.Get(DCM_FrameOfReferenceUID));
  OFString meta_uid;
  s0.file.getMetaInfo()->findAndGetOFString(DCM_MediaStorageSOPInstanceUID, meta_uid);
  EXPECT_EQ(std::string(meta_uid.c_str()), a0.sop_instance_uid);
  // Slices 2..N reference slice 1: the reference maps to slice 1's new SOP Instance UID.
  DcmItem* ref = nullptr;
  ASSERT_TRUE(s2.ds().findAndGetSequenceItem(DCM_ReferencedImageSequence, ref, 0).good());
  OFString referenced;
  ref->findAndGetOFString(DCM_ReferencedSOPInstanceUID, referenced);
  EXPECT_EQ(std::string(referenced.c_str()), a0.sop_instance_uid);
  EXPECT_EQ(PseudonymousUid(HashFor(7), DeriveUid(42, "sop/0")), a0.sop_instance_uid);
  // Another key: unrelated UIDs and pseudonyms.
  const DeidResult c0 = CheckOne(*other_key, ReadBytes(paths[0]), paths[0]);
  EXPECT_NE(c0.study_uid, a0.study_uid);
  EXPECT_NE(c0.patient.pseudonymous_id, a0.patient.pseudonymous_id);
}

TEST(DicomDeid, ModifiedDatesShiftEveryDateByOneOffsetPerPatient) {
  TempDir tmp;
  CtPhantomOptions jane, john;
  john.patient_id = "MRN-999";
  john.patient_name = "ROE^JOHN";
  john.seed = 43;
  const auto a = Phantom(tmp.str() + "/a", jane), b = Phantom(tmp.str() + "/b", john);
  DeidOptions o;
  o.retain_modified_dates = true;
  auto deid = Make(o);
  const DeidResult ra0 = CheckOne(*deid, ReadBytes(a[0]), a[0]);
  const DeidResult ra3 = CheckOne(*deid, ReadBytes(a[3]), a[3]);
  const DeidResult rb0 = CheckOne(*deid, ReadBytes(b[0]), b[0]);
  EXPECT_EQ(ra0.patient.date_offset_days, ra3.patient.date_offset_days);
  EXPECT_NE(ra0.patient.date_offset_days, rb0.patient.date_offset_days);
  EXPECT_LE(ra0.patient.date_offset_days, -1);
  EXPECT_GE(ra0.patient.date_offset_days, -3650);
  EXPECT_GT(ra0.actions.dates_shifted, 4);
  // 2025-03-12 moved by the offset, in every date attribute, the time of day kept.
  const auto civil = [](int offset) {
    std::tm t{};
    t.tm_year = 2025 - 1900, t.tm_mon = 2, t.tm_mday = 12 + offset, t.tm_hour = 12;
    std::mktime(&t);
    char buf[16];
    std::strftime(buf, sizeof buf, "%Y%m%d", &t);
    return std::string(buf);
  };
  Parsed out(ra0.bytes);
  const std::string shifted = civil(ra0.patient.date_offset_days);
  EXPECT_EQ(out.Get(DCM_StudyDate), shifted);
  EXPECT_EQ(out.Get(DCM_AcquisitionDate), shifted);
  EXPECT_EQ(out.Get(DCM_ContentDate), shifted);
  EXPECT_EQ(out.Get(DCM_AcquisitionDateTime), shifted + "093015");
  EXPECT_EQ(out.Get(DCM_StudyTime), "093015");
  EXPECT_EQ(out.Get(DCM_PatientBirthDate), "");  // Z in every option set
  // Without the option the dates are emptied or removed.
  const DeidResult plain = CheckOne(*Make(), ReadBytes(a[0]), a[0]);
  EXPECT_EQ(Parsed(plain.bytes).Get(DCM_StudyDate), "");
  EXPECT_EQ(plain.actions.dates_shifted, 0);
}

TEST(DicomDeid, PrivateElementsGoUnlessSafeListed) {
  TempDir tmp;
  const auto paths = Phantom(tmp.str());
  DeidOptions o;
  o.retain_safe_private = true;
  o.safe_private.push_back({"CALIPER SYNTH", 0x0009, 0x02});
  auto r = Make(o)->Deidentify(ReadBytes(paths[0]));
  ASSERT_TRUE(r.ok());
  Parsed out(r->bytes);
  EXPECT_EQ(out.Get(DcmTagKey(0x0009, 0x0010)), "CALIPER SYNTH");
  EXPECT_EQ(out.Get(DcmTagKey(0x0009, 0x1002)), "MRN-000123");  // the safe list is trusted
  EXPECT_EQ(out.Get(DcmTagKey(0x0009, 0x1001)), "<missing>");
  EXPECT_EQ(r->actions.private_kept, 1);
  EXPECT_EQ(r->actions.private_removed, 1);
  // Listed but the option off: removed.
  o.retain_safe_private = false;
  auto off = Make(o)->Deidentify(ReadBytes(paths[0]));
  ASSERT_TRUE(off.ok());
  EXPECT_EQ(Parsed(off->bytes).Get(DcmTagKey(0x0009, 0x1002)), "<missing>");
}

// A phantom slice with one header change made through DCMTK.
std::string Modified(const std::string& path, const std::function<void(DcmDataset&)>& change,
                     E_TransferSyntax xfer = EXS_LittleEndianExplicit) {
  DcmFileFormat f;
  EXPECT_TRUE(f.loadFile(path.c_str()).good());
  change(*f.getDataset());
  const std::string out = path + ".mod.dcm";
  EXPECT_TRUE(f.saveFile(out.c_str(), xfer).good());
  return ReadBytes(out);
}

// Clean Descriptors strips the words of identifying values (here a private text, identifying as
// every private value is) from descriptors: words of 3 bytes and more outside names, numbers of 4
// digits and more, whole words only. The same with a private text of a few bytes (searched) and
// one of 40 KB (indexed once).
TEST(DicomDeid, CleanDescriptorsStripsTheWordsOfIdentifyingValuesSmallOrLarge) {
  TempDir tmp;
  const auto paths = Phantom(tmp.str());
  DeidOptions o;
  o.clean_descriptors = true;
  auto deid = Make(o);
  for (const std::size_t filler : {std::size_t{0}, std::size_t{40'000}}) {
    const std::string bytes = Modified(paths[0], [filler](DcmDataset& d) {
      ASSERT_TRUE(d.putAndInsertString(DcmTag(0x0011, 0x0010, EVR_LO), "ACME NOTES").good());
      const std::string text = std::string(filler, '.') + " Zanzibar,abc\\xy 4711 77 zanzi " + std::string(filler, '-');
      ASSERT_TRUE(d.putAndInsertString(DcmTag(0x0011, 0x1001, EVR_UT), text.c_str()).good());
      ASSERT_TRUE(d.putAndInsertString(DCM_ProtocolName, "CT ZANZIBAR ABC XY 4711 77 ZANZIBARS HEAD").good());
    });
    const DeidResult r = CheckOne(*deid, bytes, "private text of " + std::to_string(filler));
    EXPECT_EQ(r.cohort.protocol, "CT XY 77 ZANZIBARS HEAD") << filler;
  }
}

TEST(DicomDeid, BurnedInRiskIsFlaggedAndQuarantined) {
  TempDir tmp;
  const auto paths = Phantom(tmp.str());
  auto deid = Make();
  struct Case {
    const char* name;
    std::function<void(DcmDataset&)> change;
  } cases[] = {
      {"flag", [](DcmDataset& d) { d.putAndInsertString(DCM_BurnedInAnnotation, "YES"); }},
      {"us", [](DcmDataset& d) { d.putAndInsertString(DCM_Modality, "US"); }},
      {"sc", [](DcmDataset& d) { d.putAndInsertString(DCM_SOPClassUID, UID_SecondaryCaptureImageStorage); }},
  };
  for (const Case& c : cases) {
    const DeidResult r = CheckOne(*deid, Modified(paths[0], c.change), c.name);
    EXPECT_TRUE(r.burned_in_risk) << c.name;
    EXPECT_TRUE(r.quarantine) << c.name;
    EXPECT_FALSE(r.burned_in_reasons.empty()) << c.name;
  }
  const DeidResult no = CheckOne(*deid, Modified(paths[0], [](DcmDataset& d) {
    d.putAndInsertString(DCM_BurnedInAnnotation, "NO");
  }), "no");
  EXPECT_FALSE(no.burned_in_risk);
}

TEST(DicomDeid, BlankingZeroesTheRectangleOnlyAndClearsQuarantine) {
  TempDir tmp;
  const auto paths = Phantom(tmp.str());
  DeidOptions o;
  o.blanking.push_back({"US", "", "", {{2, 3, 5, 4}}});
  const std::string input = Modified(paths[0], [](DcmDataset& d) { d.putAndInsertString(DCM_Modality, "US"); });
  auto r = Make(o)->Deidentify(input);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->burned_in_risk);
  EXPECT_FALSE(r->quarantine);
  EXPECT_EQ(r->actions.pixels_blanked, 1);
  Parsed in(input), out(r->bytes);
  const std::string before = PixelBytes(in), after = PixelBytes(out);
  ASSERT_EQ(before.size(), after.size());
  int zeroed = 0, changed_outside = 0;
  for (int y = 0; y < 16; ++y) {
    for (int x = 0; x < 16; ++x) {
      const std::size_t at = (std::size_t(y) * 16 + x) * 2;
      const bool inside = x >= 2 && x < 7 && y >= 3 && y < 7;
      if (inside) zeroed += after[at] == 0 && after[at + 1] == 0;
      else changed_outside += before.compare(at, 2, after, at, 2) != 0;
    }
  }
  EXPECT_EQ(zeroed, 20);
  EXPECT_EQ(changed_outside, 0);
  EXPECT_NE(out.Get(DCM_DeidentificationMethod).find("Clean Pixel Data"), std::string::npos);
}

// De-identifies `bytes` both ways: the pixel data taken over as it came (the default) and every
// element parsed and written again; both must give the same file and the same report.
// Returns how many rectangles were blanked (-1 when both refused the file).
int ExpectSameBothWays(const std::string& bytes, const std::string& name, DeidOptions o = {}) {
  o.keep_pixel_bytes = true;
  auto kept = Make(o)->Deidentify(bytes);
  o.keep_pixel_bytes = false;
  auto parsed = Make(o)->Deidentify(bytes);
  EXPECT_EQ(kept.ok(), parsed.ok()) << name;
  if (kept.ok() != parsed.ok()) return -2;
  if (!kept.ok()) {
    EXPECT_EQ(kept.status().ToString(), parsed.status().ToString()) << name;
    return -1;
  }
  EXPECT_TRUE(kept->bytes == parsed->bytes) << name << ": " << kept->bytes.size() << " vs " << parsed->bytes.size()
                                            << " bytes";
  EXPECT_EQ(kept->sop_instance_uid, parsed->sop_instance_uid) << name;
  EXPECT_EQ(kept->quarantine, parsed->quarantine) << name;
  EXPECT_EQ(kept->actions.removed, parsed->actions.removed) << name;
  EXPECT_EQ(kept->actions.pixels_blanked, parsed->actions.pixels_blanked) << name;
  return kept->actions.pixels_blanked;
}

// The length walk reads every two-letter VR's length as DCMTK does (DcmItem::readTagAndLength
// asks DcmVR::usesExtendedLengthEncoding), and calls standard exactly PS3.5's 34 VRs.
TEST(DicomDeid, FormOfVrAgreesWithDcmtkForEveryPairOfCapitals) {
  int standard = 0;
  for (char a = 'A'; a <= 'Z'; ++a) {
    for (char b = 'A'; b <= 'Z'; ++b) {
      const char name[3] = {a, b, '\0'};
      const VrForm form = FormOfVr(name);
      EXPECT_EQ(form.long_length, DcmVR(name).usesExtendedLengthEncoding()) << name;
      standard += form.standard;
    }
  }
  EXPECT_EQ(standard, 34);
  EXPECT_TRUE(FormOfVr("OV").standard && FormOfVr("OV").long_length);
  EXPECT_TRUE(FormOfVr("PN").standard && !FormOfVr("PN").long_length);
  EXPECT_FALSE(FormOfVr("NH").standard);
  EXPECT_FALSE(FormOfVr(std::string_view("\0\0", 2)).standard);
  EXPECT_FALSE(FormOfVr("P").standard);
}

// Where the top-level Pixel Data of `bytes` starts when it ends the file (its tag checked).
std::size_t PixelTail(const std::string& bytes) {
  auto layout = ScanElements(bytes);
  EXPECT_TRUE(layout.ok()) << layout.status().ToString();
  if (!layout.ok()) return ElementLayout::kNone;
  const std::size_t at = layout->pixel_data_tail;
  if (at != ElementLayout::kNone) {
    EXPECT_EQ(bytes.substr(at, 4), std::string("\xE0\x7F\x10\x00", 4));
  }
  return at;
}

TEST(DicomDeid, PixelDataKeptAsItCameMakesTheSameFileAsParsingIt) {
  TempDir tmp;
  const auto paths = Phantom(tmp.str());
  std::vector<std::pair<std::string, std::string>> inputs;
  for (const auto& p : paths) inputs.emplace_back(p, ReadBytes(p));
  inputs.emplace_back("implicit VR", Modified(paths[1], [](DcmDataset&) {}, EXS_LittleEndianImplicit));
  CtPhantomOptions enhanced;
  enhanced.slices = 3;
  enhanced.rows = enhanced.cols = 16;
  auto multi = MakeEnhancedCtPhantom(enhanced);
  ASSERT_TRUE(multi.ok()) << multi.status().ToString();
  inputs.emplace_back("enhanced CT", std::string(multi->begin(), multi->end()));
  auto us = MakeUltrasoundCinePhantom(2, 16, 16, /*ybr_planar=*/false, 4);
  ASSERT_TRUE(us.ok()) << us.status().ToString();
  inputs.emplace_back("US cine (quarantined)", std::string(us->begin(), us->end()));
  for (const auto& [name, bytes] : inputs) {
    EXPECT_NE(PixelTail(bytes), ElementLayout::kNone) << name;
    ExpectSameBothWays(bytes, name);
  }
  // A blanking rule changes native pixels as they are copied, never parsed: the same file as
  // parsing them and blanking the element, in every layout Blank knows; the same refusals.
  DeidOptions blank;
  blank.blanking.push_back({"CT", "", "", {{2, 3, 5, 4}}});
  EXPECT_EQ(ExpectSameBothWays(inputs[0].second, "blanked", blank), 1);
  DeidOptions edges;  // one rectangle partly outside the image, one wholly outside
  edges.blanking.push_back({"CT", "", "", {{-3, 10, 8, 40}, {100, 100, 5, 5}}});
  EXPECT_EQ(ExpectSameBothWays(inputs[4].second, "implicit VR blanked", edges), 1);
  EXPECT_EQ(ExpectSameBothWays(inputs[5].second, "enhanced CT blanked", edges), 3);
  DeidOptions outside;
  outside.blanking.push_back({"CT", "", "", {{100, 100, 5, 5}}});
  EXPECT_EQ(ExpectSameBothWays(inputs[0].second, "rule outside the image", outside), 0);
  DeidOptions blank_us;  // the first rectangle starts at an odd column (YBR_FULL_422 pairs)
  blank_us.blanking.push_back({"US", "", "", {{1, 0, 4, 3}, {10, 6, 20, 20}}});
  EXPECT_EQ(ExpectSameBothWays(inputs[6].second, "RGB cine blanked", blank_us), 4);
  auto planar = MakeUltrasoundCinePhantom(3, 16, 16, /*ybr_planar=*/true, 5);
  ASSERT_TRUE(planar.ok());
  EXPECT_EQ(ExpectSameBothWays(std::string(planar->begin(), planar->end()), "YBR_FULL planar blanked", blank_us), 6);
  const auto ybr422 = testing::Ybr422Cine(2, 8, 12);
  EXPECT_EQ(ExpectSameBothWays(std::string(ybr422.begin(), ybr422.end()), "YBR_FULL_422 blanked", blank_us), 4);
  const auto odd = testing::Ybr422OddColumnsCine(2, 8, 13);
  EXPECT_EQ(ExpectSameBothWays(std::string(odd.begin(), odd.end()), "YBR_FULL_422, odd Columns", blank_us), -1);

  // Something after the Pixel Data (here Data Set Trailing Padding): parsed whole.
  std::string padded = inputs[0].second;
  padded.append(std::string("\xFC\xFF\xFC\xFF" "OB\0\0" "\x04\0\0\0" "\0\0\0\0", 16));
  EXPECT_EQ(PixelTail(padded), ElementLayout::kNone);
  ExpectSameBothWays(padded, "trailing padding");

  // Pixel Data inside a sequence item (an icon) is not the top-level one.
  auto with_icon = [](bool top_level_pixels) {
    return [top_level_pixels](DcmDataset& d) {
      DcmItem* icon = nullptr;
      ASSERT_TRUE(d.findOrCreateSequenceItem(DCM_IconImageSequence, icon).good());
      icon->putAndInsertUint16(DCM_Rows, 2);
      icon->putAndInsertUint16(DCM_Columns, 2);
      icon->putAndInsertUint16(DCM_BitsAllocated, 8);
      const Uint8 pixels[4] = {1, 2, 3, 4};
      icon->putAndInsertUint8Array(DCM_PixelData, pixels, 4);
      if (!top_level_pixels) delete d.remove(DCM_PixelData);
    };
  };
  const std::string icon_only = Modified(paths[2], with_icon(false));
  EXPECT_EQ(PixelTail(icon_only), ElementLayout::kNone);
  const std::string icon_and_image = Modified(paths[2], with_icon(true));
  const std::size_t tail = PixelTail(icon_and_image);
  ASSERT_NE(tail, ElementLayout::kNone);
  EXPECT_GT(tail, icon_and_image.find(std::string("\xE0\x7F\x10\x00", 4))) << "the icon's comes first";
  ExpectSameBothWays(icon_and_image, "icon and image");
}

// DeidentifyFileTo into a fresh file under `dir`: what it wrote, or the error.
Result<std::string> DeidentifiedFile(const DicomDeidentifier& deid, const std::string& input, const std::string& dir) {
  const std::string out = dir + "/out.dcm";
  const int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  EXPECT_GE(fd, 0);
  auto r = deid.DeidentifyFileTo(input, fd);
  ::close(fd);
  if (!r.ok()) return r.status();
  EXPECT_TRUE(r->bytes.empty());
  return ReadBytes(out);
}

// Group lengths (gggg,0000) in the dataset, at every depth. The de-identified file is written
// without recalculating them (Serialize with EGL_noChange) because the profile removes them all;
// none may survive, or a stale length would be written.
int GroupLengths(DcmItem& root) {
  int found = 0;
  DcmStack stack;
  while (root.nextObject(stack, OFTrue).good()) {
    const DcmTagKey key = stack.top()->getTag();
    found += key.getElement() == 0x0000 && key != DCM_Item;
  }
  return found;
}

TEST(DicomDeid, GroupLengthsAreRemovedAtEveryDepth) {
  TempDir tmp;
  const auto paths = Phantom(tmp.str());
  const std::string with_lengths = Modified(paths[1], [](DcmDataset& d) {
    d.putAndInsertUint32(DcmTagKey(0x0008, 0x0000), 0);
    d.putAndInsertUint32(DcmTagKey(0x0018, 0x0000), 0);
    DcmItem* item = nullptr;
    ASSERT_TRUE(d.findOrCreateSequenceItem(DCM_ReferencedImageSequence, item, -2).good());
    item->putAndInsertString(DCM_ReferencedSOPInstanceUID, "1.2.3.4");
    item->putAndInsertUint32(DcmTagKey(0x0008, 0x0000), 0);
    DcmItem* nested = nullptr;  // a sequence the table does not name: processed, not removed
    ASSERT_EQ(profile::Find(0x0018, 0x9321), nullptr);
    ASSERT_TRUE(d.findOrCreateSequenceItem(DcmTagKey(0x0018, 0x9321), nested, -2).good());
    nested->putAndInsertString(DcmTagKey(0x0018, 0x9323), "AXIAL");
    nested->putAndInsertUint32(DcmTagKey(0x0018, 0x0000), 0);
  });
  Parsed in(with_lengths);
  ASSERT_TRUE(in.ok);
  ASSERT_EQ(GroupLengths(in.ds()), 4);
  for (const bool keep_pixel_bytes : {true, false}) {
    DeidOptions o;
    o.keep_pixel_bytes = keep_pixel_bytes;
    auto r = Make(o)->Deidentify(with_lengths);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    Parsed out(r->bytes);
    ASSERT_TRUE(out.ok);
    EXPECT_EQ(GroupLengths(out.ds()), 0) << keep_pixel_bytes;
    DcmSequenceOfItems* kept = nullptr;
    EXPECT_TRUE(out.ds().findAndGetSequence(DcmTagKey(0x0018, 0x9321), kept).good() &&
                kept != nullptr);
  }
}

TEST(DicomDeid, AFileIsWrittenAsDeidentifyMakesIt) {
  TempDir tmp;
  const auto paths = Phantom(tmp.str());
  const std::string padded = paths[1] + ".padded";
  std::ofstream(padded, std::ios::binary) << ReadBytes(paths[1])
                                          << std::string("\xFC\xFF\xFC\xFF" "OB\0\0" "\x04\0\0\0" "\0\0\0\0", 16);
  DeidOptions blank;
  blank.blanking.push_back({"CT", "", "", {{2, 3, 5, 4}}});
  for (const DeidOptions& o : {DeidOptions{}, blank}) {
    auto deid = Make(o);
    for (const std::string& input : {paths[0], padded}) {
      auto expected = deid->Deidentify(ReadBytes(input));
      ASSERT_TRUE(expected.ok()) << expected.status().ToString();
      auto written = DeidentifiedFile(*deid, input, tmp.str());
      ASSERT_TRUE(written.ok()) << written.status().ToString();
      EXPECT_TRUE(*written == expected->bytes) << input << ": " << written->size() << " vs " << expected->bytes.size();
    }
  }
  auto deid = Make();
  EXPECT_EQ(DeidentifiedFile(*deid, tmp.str() + "/missing.dcm", tmp.str()).status().code(), ErrorCode::kIo);
  std::ofstream(tmp.str() + "/empty.dcm").close();
  EXPECT_EQ(DeidentifiedFile(*deid, tmp.str() + "/empty.dcm", tmp.str()).status().code(), ErrorCode::kInvalidArgument);
  std::ofstream(tmp.str() + "/text.dcm") << std::string(200, 'x');
  EXPECT_EQ(DeidentifiedFile(*deid, tmp.str() + "/text.dcm", tmp.str()).status().code(), ErrorCode::kInvalidArgument);
}

TEST(DicomDeid, BadInputIsAnErrorNeverACrash) {
  TempDir tmp;
  const auto paths = Phantom(tmp.str());
  auto deid = Make();
  const std::string good = ReadBytes(paths[0]);
  EXPECT_EQ(deid->Deidentify("").status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(deid->Deidentify("hello, not dicom").status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(deid->Deidentify(std::string(200, 'x')).status().code(), ErrorCode::kInvalidArgument);
  for (std::size_t cut : {std::size_t{132}, std::size_t{140}, std::size_t{400}, good.size() / 2, good.size() - 1}) {
    auto r = deid->Deidentify(std::string_view(good).substr(0, cut));
    EXPECT_FALSE(r.ok()) << "truncated at " << cut;
  }
  // A value claiming ~4 GB in a small file is refused before anything is allocated for it.
  std::string claims = good;
  const std::size_t pixel_tag = claims.rfind(std::string("\xE0\x7F\x10\x00OW\0\0", 8));
  ASSERT_NE(pixel_tag, std::string::npos);
  claims.replace(pixel_tag + 8, 4, "\xF0\xFF\xFF\xF0");
  auto too_long = deid->Deidentify(claims);
  ASSERT_FALSE(too_long.ok());
  EXPECT_NE(too_long.status().message().find("(7FE0,0010) claims"), std::string::npos)
      << too_long.status().message();
  // So is one with a VR no edition defines: DCMTK reads a 4-byte length after two reserved
  // bytes for it, as for UN (a fuzzer's input made it allocate 2.9 GB here).
  std::string odd_vr = good;
  odd_vr.insert(pixel_tag, std::string("\x10\x00\x60\x55" "NH" "\0\0" "\xF0\xFF\xFF\xF0", 12));
  auto odd = deid->Deidentify(odd_vr);
  ASSERT_FALSE(odd.ok());
  EXPECT_NE(odd.status().message().find("(0010,5560) claims 4043309040 bytes"), std::string::npos)
      << odd.status().message();
  // And a file meta information without a Transfer Syntax UID: DCMTK would guess one (a
  // fuzzer's file then read as big endian claimed 3 GB).
  std::string no_syntax = good;
  const std::size_t syntax = no_syntax.find(std::string("\x02\x00\x10\x00UI", 6));
  ASSERT_NE(syntax, std::string::npos);
  no_syntax[syntax] = '\x03';  // (0003,0010): the meta information ends before it
  auto guessed = deid->Deidentify(no_syntax);
  ASSERT_FALSE(guessed.ok());
  EXPECT_NE(guessed.status().message().find("no Transfer Syntax UID"), std::string::npos)
      << guessed.status().message();
  const std::string huge = Modified(paths[0], [](DcmDataset& d) {
    d.putAndInsertUint16(DCM_Rows, 65535);
    d.putAndInsertUint16(DCM_Columns, 65535);
    d.putAndInsertString(DCM_NumberOfFrames, "100000");
  });
  auto r = deid->Deidentify(huge);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("more than Pixel Data holds"), std::string::npos);
  EXPECT_FALSE(DicomDeidentifier::Create({}, nullptr).ok());
}

TEST(DicomDeid, AValueInAnUnSequenceClaimingMoreThanTheFileIsRefusedBeforeItIsAllocated) {
  // The length walk stops at a private sequence of VR UN and undefined length and leaves the
  // rest to DCMTK, which allocated what a value inside claimed before reading it.
  TempDir tmp;
  const std::string with_un = testing::WithPrivateUnSequence(ReadBytes(Phantom(tmp.str())[0]));
  auto deid = Make();
  auto intact = deid->Deidentify(with_un);
  ASSERT_TRUE(intact.ok()) << intact.status().ToString();
  EXPECT_EQ(intact->bytes.find("CREATOR"), std::string::npos) << "the private elements go";
  const std::string forged = testing::WithForgedLength(with_un, testing::kUnSequenceInnerTag);
  const int refused = testing::InLimitedChild([&] {
    auto r = deid->Deidentify(forged);
    if (r.ok()) return 1;
    std::cerr << "Deidentify: " << r.status().message() << "\n";
    return r.status().message().find("truncated") != std::string::npos ? 0 : 2;
  });
  EXPECT_EQ(refused, 0) << "1: accepted, 2: another error (memory), 3: died";
}

TEST(DicomDeid, AnElementOfGroupFffeThatIsNoItemIsReadWithItsVr) {
  // Only (FFFE,E000), (FFFE,E00D) and (FFFE,E0DD) are items and delimiters, written without a VR.
  // DCMTK reads any other tag of group FFFE as an element, with its VR in explicit VR syntaxes;
  // the length walk took its VR for a length (a fuzzer's file: its output, written by DCMTK,
  // was refused when de-identified again).
  TempDir tmp;
  std::string bytes = ReadBytes(Phantom(tmp.str())[0]);
  const std::size_t pixel_tag = bytes.rfind(std::string("\xE0\x7F\x10\x00OW\0\0", 8));
  ASSERT_NE(pixel_tag, std::string::npos);
  // (FFFE,2A0D) UN, 4 bytes, before the pixel data (DCMTK sorts it after them).
  bytes.insert(pixel_tag, std::string("\xFE\xFF\x0D\x2A" "UN" "\0\0" "\x04\0\0\0" "ABCD", 16));
  auto deid = Make();
  auto once = deid->Deidentify(bytes);
  ASSERT_TRUE(once.ok()) << once.status().ToString();
  auto twice = deid->Deidentify(once->bytes);
  EXPECT_TRUE(twice.ok()) << twice.status().ToString();
}

TEST(DicomDeid, PixelDataOfEveryLongVrIsTakenOverWithItsLength) {
  // OF, OD, OL and OV, like OB and OW, have two reserved bytes and a 4-byte length; read as a
  // 2-byte length, the Pixel Data taken over as it came held 0 bytes (a fuzzer's OV file was
  // de-identified once, its output then refused).
  TempDir tmp;
  const auto paths = Phantom(tmp.str());
  const std::string good = ReadBytes(paths[0]);
  const std::size_t at = good.rfind(std::string("\xE0\x7F\x10\x00OW\0\0", 8));
  ASSERT_NE(at, std::string::npos);
  Parsed original(good);
  const std::string pixels = PixelBytes(original);
  ASSERT_FALSE(pixels.empty());
  for (const char* vr : {"OB", "OD", "OF", "OL", "OV"}) {
    std::string bytes = good;
    bytes.replace(at + 4, 2, vr);
    EXPECT_GE(ExpectSameBothWays(bytes, vr), 0) << vr;
    auto once = Make()->Deidentify(bytes);
    ASSERT_TRUE(once.ok()) << vr << ": " << once.status().ToString();
    // The element ends the output as it ended the input: its tag, VR, length, then the samples
    // (DCMTK holds an OD or OF Pixel Data as a plain element, which PixelBytes cannot read).
    const std::string& b = once->bytes;
    ASSERT_GE(b.size(), pixels.size() + 12) << vr;
    EXPECT_EQ(b.substr(b.size() - pixels.size() - 12, 12), bytes.substr(at, 12)) << vr;
    EXPECT_TRUE(b.compare(b.size() - pixels.size(), pixels.size(), pixels) == 0) << vr;
    auto twice = Make()->Deidentify(once->bytes);
    EXPECT_TRUE(twice.ok()) << vr << ": " << twice.status().ToString();
  }
}

TEST(DicomDeid, FileMetaElementsInTheDataSetAreRemoved) {
  // Group 0002 belongs to the file meta information alone (PS3.10 7.1). Kept in the data set, it
  // followed the new meta information in the output, where a reader takes it for more of it (a
  // fuzzer's file named a transfer syntax there, and its output was refused).
  TempDir tmp;
  const auto paths = Phantom(tmp.str());
  const std::string bytes = Modified(paths[0], [](DcmDataset& d) {
    d.putAndInsertString(DCM_SourceApplicationEntityTitle, "READING ROOM 3");
    d.putAndInsertString(DCM_TransferSyntaxUID, "1.2.840.10008.1.2");
  });
  auto once = Make()->Deidentify(bytes);
  ASSERT_TRUE(once.ok()) << once.status().ToString();
  EXPECT_EQ(once->bytes.find("READING ROOM 3"), std::string::npos);
  Parsed out(once->bytes);
  ASSERT_TRUE(out.ok);
  DcmDataset& ds = out.ds();
  for (DcmObject* o = ds.nextInContainer(nullptr); o != nullptr; o = ds.nextInContainer(o)) {
    EXPECT_NE(o->getGTag(), 0x0002) << "data set element " << o->getTag().toString().c_str();
  }
  auto twice = Make()->Deidentify(once->bytes);
  EXPECT_TRUE(twice.ok()) << twice.status().ToString();
}

TEST(DicomDeid, OptionListParses) {
  DeidOptions o;
  ASSERT_TRUE(ParseDeidOptionList("retain-dates, clean-descriptors", o).ok());
  EXPECT_TRUE(o.retain_modified_dates);
  EXPECT_TRUE(o.clean_descriptors);
  EXPECT_FALSE(o.retain_device_identity);
  EXPECT_EQ(ParseDeidOptionList("retain-uids", o).code(), ErrorCode::kInvalidArgument);
}

TEST(DicomDeid, SafePrivateAndBlankingSpecsParseAsTheCommandLineWritesThem) {
  auto safe = ParseSafePrivateSpec("ACME: CT 1.0:0009:1f");
  ASSERT_TRUE(safe.ok()) << safe.status().ToString();
  EXPECT_EQ(safe->creator, "ACME: CT 1.0");
  EXPECT_EQ(safe->group, 0x0009);
  EXPECT_EQ(safe->element, 0x1F);
  for (const char* bad : {"ACME", "ACME:0009", "ACME:0009:100", "ACME:0010:01", ":0009:01", "ACME:zz:01"}) {
    EXPECT_EQ(ParseSafePrivateSpec(bad).status().code(), ErrorCode::kInvalidArgument) << bad;
  }
  auto rule = ParseBlankingSpec("US/ACME/Sono 9:-2,0,640,40");
  ASSERT_TRUE(rule.ok()) << rule.status().ToString();
  EXPECT_EQ(rule->modality, "US");
  EXPECT_EQ(rule->manufacturer, "ACME");
  EXPECT_EQ(rule->model, "Sono 9");
  ASSERT_EQ(rule->rects.size(), 1u);
  EXPECT_EQ(rule->rects[0].x, -2);
  EXPECT_EQ(rule->rects[0].width, 640);
  for (const char* bad : {"US", "US:1,2,3", "US:1,2,3,4,5", ":0,0,4,4", "US:0,0,0,4", "US:0,0,4,-1"}) {
    EXPECT_EQ(ParseBlankingSpec(bad).status().code(), ErrorCode::kInvalidArgument) << bad;
  }
  auto options = DeidOptionsFromSpecs("retain-dates", {"ACME:0009:01"}, {"US:0,0,4,4", "OT/X:1,1,2,2"});
  ASSERT_TRUE(options.ok());
  EXPECT_TRUE(options->retain_safe_private) << "a safe private element turns the option on";
  EXPECT_EQ(options->blanking.size(), 2u);
  EXPECT_EQ(DeidOptionNames(*options), (std::vector<std::string>{"retain-dates", "retain-safe-private"}));
  EXPECT_EQ(DeidOptionsFromSpecs("retain-dates", {}, {"US:0,0,4"}).status().code(), ErrorCode::kInvalidArgument);
}

TEST(DicomDeid, BlankPixelRectsZeroesEveryFrameAndMarksTheInstanceOnce) {
  constexpr int kFrames = 3, kRows = 20, kCols = 24;
  auto us = MakeUltrasoundCinePhantom(kFrames, kRows, kCols, /*ybr_planar=*/false, 5);
  ASSERT_TRUE(us.ok());
  auto deid = Make()->Deidentify(std::string(us->begin(), us->end()));
  ASSERT_TRUE(deid.ok()) << deid.status().ToString();
  ASSERT_TRUE(deid->quarantine);
  BlankOutcome outcome;
  auto blanked = BlankPixelRects(deid->bytes, {{1, 2, 3, 4}, {20, 18, 10, 10}}, &outcome);
  ASSERT_TRUE(blanked.ok()) << blanked.status().ToString();
  EXPECT_EQ(outcome.blanked, 2 * kFrames);
  EXPECT_EQ(outcome.decompressed_from, "") << "native: kept native, in its syntax";
  Parsed in(deid->bytes), out(*blanked);
  const std::string before = PixelBytes(in), after = PixelBytes(out);
  ASSERT_EQ(before.size(), after.size());
  ASSERT_EQ(after.size(), std::size_t{kFrames} * kRows * kCols * 3);
  int zeroed = 0, changed_outside = 0;
  for (int f = 0; f < kFrames; ++f) {
    for (int y = 0; y < kRows; ++y) {
      for (int x = 0; x < kCols; ++x) {
        const std::size_t at = ((std::size_t(f) * kRows + y) * kCols + x) * 3;
        const bool inside = (x >= 1 && x < 4 && y >= 2 && y < 6) || (x >= 20 && y >= 18);
        if (inside) zeroed += after.compare(at, 3, std::string(3, '\0')) == 0;
        else changed_outside += before.compare(at, 3, after, at, 3) != 0;
      }
    }
  }
  EXPECT_EQ(zeroed, kFrames * (12 + 8));
  EXPECT_EQ(changed_outside, 0);
  EXPECT_EQ(out.Get(DCM_SOPInstanceUID), deid->sop_instance_uid) << "nothing else changes";
  EXPECT_NE(out.Get(DCM_DeidentificationMethod).find("Clean Pixel Data"), std::string::npos);
  auto twice = BlankPixelRects(*blanked, {{0, 0, 1, 1}});
  ASSERT_TRUE(twice.ok());
  Parsed again(*twice);
  DcmSequenceOfItems* codes = nullptr;
  ASSERT_TRUE(again.ds().findAndGetSequence(DCM_DeidentificationMethodCodeSequence, codes).good());
  int clean_pixel = 0;
  for (unsigned long i = 0; i < codes->card(); ++i) {
    OFString value;
    codes->getItem(i)->findAndGetOFString(DCM_CodeValue, value);
    clean_pixel += value == "113101";
  }
  EXPECT_EQ(clean_pixel, 1);
  EXPECT_EQ(BlankPixelRects(*blanked, {}).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(BlankPixelRects(*blanked, {{0, 0, 0, 3}}).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(BlankPixelRects("not dicom", {{0, 0, 1, 1}}).status().code(), ErrorCode::kInvalidArgument);
}

std::span<const std::uint8_t> Span(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// `bytes` (native, samples interleaved) with a bright burned-in "label" in `r` of every frame:
// 250 in every 8-bit sample, 3000 in every 16-bit one. Written in explicit VR little endian.
std::string WithBurnedInLabel(const std::vector<std::uint8_t>& bytes, const PixelRect& r) {
  DcmFileFormat file;
  EXPECT_TRUE(ReadDicom(bytes, file).ok());
  DcmDataset& ds = *file.getDataset();
  Uint16 rows = 0, cols = 0, spp = 1, bits = 0;
  Sint32 frames = 1;
  ds.findAndGetUint16(DCM_Rows, rows);
  ds.findAndGetUint16(DCM_Columns, cols);
  ds.findAndGetUint16(DCM_SamplesPerPixel, spp);
  ds.findAndGetUint16(DCM_BitsAllocated, bits);
  ds.findAndGetSint32(DCM_NumberOfFrames, frames);
  DcmElement* e = nullptr;
  EXPECT_TRUE(ds.findAndGetElement(DCM_PixelData, e).good());
  for (Sint32 f = 0; f < frames; ++f) {
    for (int y = r.y; y < r.y + r.height; ++y) {
      for (int x = r.x; x < r.x + r.width; ++x) {
        const std::size_t at = ((std::size_t(f) * rows + y) * cols + x) * spp;
        for (Uint16 s = 0; s < spp; ++s) {
          if (bits == 8) {
            Uint8* data = nullptr;
            e->getUint8Array(data);
            data[at + s] = 250;
          } else {
            Uint16* data = nullptr;
            e->getUint16Array(data);
            data[at + s] = 3000;
          }
        }
      }
    }
  }
  auto out = WriteDicom(file, EXS_LittleEndianExplicit);
  EXPECT_TRUE(out.ok()) << out.status().ToString();
  return out.ok() ? std::string(out->begin(), out->end()) : std::string();
}

std::string MustTranscode(const std::string& bytes, const std::string& uid) {
  auto out = Transcode(Span(bytes), uid);
  EXPECT_TRUE(out.ok()) << uid << ": " << out.status().ToString();
  return out.ok() ? std::string(out->begin(), out->end()) : std::string();
}

int CleanPixelCodes(Parsed& p) {
  DcmSequenceOfItems* codes = nullptr;
  if (p.ds().findAndGetSequence(DCM_DeidentificationMethodCodeSequence, codes).bad() || codes == nullptr) return 0;
  int n = 0;
  for (unsigned long i = 0; i < codes->card(); ++i) {
    OFString value;
    codes->getItem(i)->findAndGetOFString(DCM_CodeValue, value);
    n += value == "113101";
  }
  return n;
}

// Checks `blanked`, made from `input` (compressed in `uid`) by blanking `rects`: native explicit
// VR little endian; every stored sample in a rectangle zero, in every frame (and bright before);
// every other decoded value exactly the decoded input's; colour decoded to RGB; Bits Allocated and
// Stored kept; Lossy Image Compression and its ratio and method kept ("01" for a lossy syntax);
// Clean Pixel Data (113101) once.
void ExpectBlankedNative(const std::string& input, const std::string& blanked, const std::vector<PixelRect>& rects,
                         const std::string& uid, const std::string& name) {
  auto in = DecodeImage(Span(input));
  auto out = DecodeImage(Span(blanked));
  ASSERT_TRUE(in.ok()) << name << ": " << in.status().ToString();
  ASSERT_TRUE(out.ok()) << name << ": " << out.status().ToString();
  EXPECT_EQ(in->transfer_syntax_uid, uid) << name;
  EXPECT_EQ(out->transfer_syntax_uid, UID_LittleEndianExplicitTransferSyntax) << name;
  ASSERT_EQ(out->frames, in->frames) << name;
  ASSERT_EQ(out->rows, in->rows) << name;
  ASSERT_EQ(out->columns, in->columns) << name;
  ASSERT_EQ(out->samples_per_pixel, in->samples_per_pixel) << name;
  EXPECT_EQ(out->kind, in->kind) << name;
  Parsed p_in(input), p_out(blanked);
  ASSERT_TRUE(p_out.ok) << name;
  OFString meta_xfer;
  p_out.file.getMetaInfo()->findAndGetOFString(DCM_TransferSyntaxUID, meta_xfer);
  EXPECT_EQ(std::string(meta_xfer.c_str()), UID_LittleEndianExplicitTransferSyntax) << name;
  const int spp = out->samples_per_pixel;
  if (spp == 3) {
    EXPECT_EQ(p_out.Get(DCM_PhotometricInterpretation), "RGB") << name;
  }
  for (const DcmTagKey& key : {DCM_BitsAllocated, DCM_BitsStored, DCM_PixelRepresentation}) {
    EXPECT_EQ(p_out.Get(key), p_in.Get(key)) << name << " " << key.toString().c_str();
  }
  const bool lossy = DcmXfer(uid.c_str()).isLossy();
  EXPECT_EQ(p_out.Get(DCM_LossyImageCompression), lossy ? "01" : p_in.Get(DCM_LossyImageCompression)) << name;
  EXPECT_EQ(p_out.Get(DCM_LossyImageCompressionRatio), p_in.Get(DCM_LossyImageCompressionRatio)) << name;
  EXPECT_EQ(p_out.Get(DCM_LossyImageCompressionMethod), p_in.Get(DCM_LossyImageCompressionMethod)) << name;
  EXPECT_NE(p_out.Get(DCM_DeidentificationMethod).find("Clean Pixel Data"), std::string::npos) << name;
  EXPECT_EQ(CleanPixelCodes(p_out), 1) << name;

  const std::string raw = PixelBytes(p_out);
  const std::size_t bytes_per_sample = p_out.Get(DCM_BitsAllocated) == "16" ? 2 : 1;
  const bool planar = spp == 3 && p_out.Get(DCM_PlanarConfiguration) == "1";
  const std::size_t plane = std::size_t(out->rows) * out->columns;
  ASSERT_GE(raw.size(), plane * spp * out->frames * bytes_per_sample) << name;
  int zero_inside = 0, nonzero_inside = 0, bright_before = 0, changed_outside = 0;
  for (int f = 0; f < out->frames; ++f) {
    for (int y = 0; y < out->rows; ++y) {
      for (int x = 0; x < out->columns; ++x) {
        const bool inside = std::any_of(rects.begin(), rects.end(), [&](const PixelRect& r) {
          return x >= r.x && x < r.x + r.width && y >= r.y && y < r.y + r.height;
        });
        const std::size_t pixel = std::size_t(y) * out->columns + x;
        for (int s = 0; s < spp; ++s) {
          const std::size_t value = (f * plane + pixel) * spp + s;
          if (!inside) {
            changed_outside += out->values[value] != in->values[value];
            continue;
          }
          bright_before += in->values[value] > 200 || (spp == 1 && in->values[value] > 1000);
          const std::size_t sample = f * plane * spp + (planar ? s * plane + pixel : pixel * spp + s);
          bool zero = true;
          for (std::size_t b = 0; b < bytes_per_sample; ++b) zero = zero && raw[sample * bytes_per_sample + b] == 0;
          (zero ? zero_inside : nonzero_inside)++;
        }
      }
    }
  }
  EXPECT_GT(zero_inside, 0) << name;
  EXPECT_EQ(nonzero_inside, 0) << name;
  // Lossy codecs soften the label's edges (JPEG 2000 at 10:1 by a few samples).
  EXPECT_GE(bright_before * 100, zero_inside * 95) << name << ": the label was there before";
  EXPECT_EQ(changed_outside, 0) << name;
}

// A burned-in label in an ultrasound cine (8-bit RGB, 3 frames) and in an enhanced CT (16-bit,
// 3 frames), compressed in every syntax we decode: a blanking rule and a steward's rectangles
// both decode every frame, zero the label and write the instance native.
TEST(DicomDeid, BlankingCompressedPixelsDecodesThemAndWritesThemNative) {
  const std::vector<PixelRect> label = {{4, 2, 14, 6}, {30, 26, 10, 6}};
  auto us = MakeUltrasoundCinePhantom(3, 32, 40, /*ybr_planar=*/false, 11);
  ASSERT_TRUE(us.ok());
  std::string us_burned = WithBurnedInLabel(*us, label[0]);
  us_burned = WithBurnedInLabel(std::vector<std::uint8_t>(us_burned.begin(), us_burned.end()), label[1]);
  CtPhantomOptions o;
  o.slices = 3;
  o.rows = 32;
  o.cols = 40;
  o.seed = 12;
  auto ct = MakeEnhancedCtPhantom(o);
  ASSERT_TRUE(ct.ok());
  std::string ct_burned = WithBurnedInLabel(*ct, label[0]);
  ct_burned = WithBurnedInLabel(std::vector<std::uint8_t>(ct_burned.begin(), ct_burned.end()), label[1]);
  struct Case {
    const std::string* source;
    const char* modality;
    std::string uid;
  };
  std::vector<Case> cases;
  for (const char* uid : {UID_JPEGProcess1TransferSyntax, UID_JPEGProcess2_4TransferSyntax,
                          UID_JPEGProcess14TransferSyntax, UID_JPEGProcess14SV1TransferSyntax,
                          UID_JPEGLSLosslessTransferSyntax, UID_JPEGLSLossyTransferSyntax,
                          UID_RLELosslessTransferSyntax, UID_JPEG2000LosslessOnlyTransferSyntax,
                          UID_JPEG2000TransferSyntax}) {
    cases.push_back({&us_burned, "US", uid});
  }
  for (const char* uid : {UID_JPEGProcess14SV1TransferSyntax, UID_JPEGLSLosslessTransferSyntax,
                          UID_RLELosslessTransferSyntax, UID_JPEG2000LosslessOnlyTransferSyntax}) {
    cases.push_back({&ct_burned, "CT", uid});
  }
  for (const Case& c : cases) {
    const std::string name = std::string(c.modality) + " " + c.uid;
    const std::string input = MustTranscode(*c.source, c.uid);
    ASSERT_FALSE(input.empty()) << name;
    if (c.uid == UID_JPEGProcess1TransferSyntax) {
      EXPECT_EQ(Parsed(input).Get(DCM_PhotometricInterpretation), "YBR_FULL_422") << "DCMTK's lossy JPEG is YCbCr";
    }
    // The project's rule (caliper deid dicom --blank, server ingest).
    DeidOptions rule;
    rule.blanking.push_back({c.modality, "", "", label});
    auto r = Make(rule)->Deidentify(input);
    ASSERT_TRUE(r.ok()) << name << ": " << r.status().ToString();
    EXPECT_FALSE(r->quarantine) << name;
    EXPECT_EQ(r->actions.pixels_blanked, 2 * 3) << name;
    EXPECT_EQ(r->actions.pixels_decompressed_from, c.uid) << name;
    EXPECT_EQ(r->transfer_syntax_uid, UID_LittleEndianExplicitTransferSyntax) << name;
    ExpectBlankedNative(input, r->bytes, label, c.uid, name + " (rule)");
    // A steward's decision on the instance de-identified without the rule.
    auto held = Make()->Deidentify(input);
    ASSERT_TRUE(held.ok()) << name;
    EXPECT_EQ(held->transfer_syntax_uid, c.uid) << name << ": untouched without a rule";
    BlankOutcome outcome;
    auto blanked = BlankPixelRects(held->bytes, label, &outcome);
    ASSERT_TRUE(blanked.ok()) << name << ": " << blanked.status().ToString();
    EXPECT_EQ(outcome.blanked, 2 * 3) << name;
    EXPECT_EQ(outcome.decompressed_from, c.uid) << name;
    ExpectBlankedNative(input, *blanked, label, c.uid, name + " (steward)");
    Parsed by_rule(r->bytes), by_steward(*blanked);
    EXPECT_TRUE(PixelBytes(by_rule) == PixelBytes(by_steward)) << name << ": one blanking, two paths";
    // Blanked again (a second decision on the native result): 113101 still once.
    auto twice = BlankPixelRects(*blanked, {{0, 0, 1, 1}});
    ASSERT_TRUE(twice.ok()) << name;
    Parsed again(*twice);
    EXPECT_EQ(CleanPixelCodes(again), 1) << name;
  }
}

// A blanked file whose pixel data was decoded is written by DeidentifyFileTo as DCMTK serialises
// it, chunk by chunk (here several of 256 KiB), never whole in a string: the file is still the
// one Deidentify makes, for compressed and native input alike.
TEST(DicomDeid, ABlankedFileIsWrittenInChunksAsDeidentifyMakesIt) {
  TempDir tmp;
  constexpr int kFrames = 12, kSize = 128;
  auto us = MakeUltrasoundCinePhantom(kFrames, kSize, kSize, /*ybr_planar=*/false, 21);
  ASSERT_TRUE(us.ok());
  const std::string native(us->begin(), us->end());
  DeidOptions rule;
  rule.blanking.push_back({"US", "", "", {{0, 0, kSize, 10}}});
  auto deid = Make(rule);
  for (const std::string uid : {UID_LittleEndianExplicitTransferSyntax, UID_JPEGProcess1TransferSyntax,
                                UID_RLELosslessTransferSyntax, UID_JPEGLSLosslessTransferSyntax,
                                UID_JPEG2000LosslessOnlyTransferSyntax}) {
    const std::string input = uid == UID_LittleEndianExplicitTransferSyntax ? native : MustTranscode(native, uid);
    ASSERT_FALSE(input.empty()) << uid;
    const std::string path = tmp.str() + "/in.dcm";
    std::ofstream(path, std::ios::binary) << input;
    auto expected = deid->Deidentify(input);
    ASSERT_TRUE(expected.ok()) << uid << ": " << expected.status().ToString();
    EXPECT_EQ(expected->actions.pixels_blanked, kFrames) << uid;
    EXPECT_GT(expected->bytes.size(), std::size_t{3} * kSize * kSize * kFrames) << uid << ": native pixels";
    EXPECT_GT(expected->bytes.size(), std::size_t{2} << 18) << uid << ": more than two chunks";
    auto written = DeidentifiedFile(*deid, path, tmp.str());
    ASSERT_TRUE(written.ok()) << uid << ": " << written.status().ToString();
    EXPECT_TRUE(*written == expected->bytes) << uid << ": " << written->size() << " vs " << expected->bytes.size();
  }
}

// JPEG 2000 frames are decoded straight into the native Pixel Data, written as DCMTK writes any
// native pixel data: OB for 8-bit samples, with an even value length (an odd count, 9 x 9 RGB in
// one frame: 243, gets a zero pad byte), and OW for 16-bit ones.
TEST(DicomDeid, BlankedJpeg2000IsWrittenNativeAsObOrOwWithAnEvenLength) {
  // `native` in JPEG 2000 (lossless), de-identified by a rule blanking 3 x 2 pixels of `modality`.
  auto blanked = [](const std::string& native, const char* modality) {
    DeidOptions rule;
    rule.blanking.push_back({modality, "", "", {{0, 0, 3, 2}}});
    auto r = Make(rule)->Deidentify(MustTranscode(native, UID_JPEG2000LosslessOnlyTransferSyntax));
    EXPECT_TRUE(r.ok()) << modality << ": " << r.status().ToString();
    if (!r.ok()) return DeidResult{};
    EXPECT_EQ(r->actions.pixels_decompressed_from, UID_JPEG2000LosslessOnlyTransferSyntax) << modality;
    return *r;
  };
  constexpr int kSize = 9;
  auto us = MakeUltrasoundCinePhantom(1, kSize, kSize, /*ybr_planar=*/false, 23);
  ASSERT_TRUE(us.ok());
  const DeidResult rgb8 = blanked(std::string(us->begin(), us->end()), "US");
  EXPECT_NE(rgb8.bytes.find(std::string("\xE0\x7F\x10\x00OB\0\0\xF4\0\0\0", 12)), std::string::npos)
      << "OB, 244 bytes";
  Parsed out(rgb8.bytes);
  const std::string pixels = PixelBytes(out);
  ASSERT_EQ(pixels.size(), std::size_t{kSize * kSize * 3 + 1});
  EXPECT_EQ(pixels.back(), '\0') << "the pad byte";
  for (int y = 0; y < kSize; ++y) {
    for (int x = 0; x < kSize; ++x) {
      const auto rgb = UltrasoundPhantomRgb(0, y, x, kSize, kSize);
      const bool inside = x < 3 && y < 2;
      for (int c = 0; c < 3; ++c) {
        EXPECT_EQ(static_cast<std::uint8_t>(pixels[(std::size_t(y) * kSize + x) * 3 + c]), inside ? 0 : rgb[c])
            << "pixel " << x << "," << y << " sample " << c;
      }
    }
  }
  TempDir tmp;
  const DeidResult ct16 = blanked(ReadBytes(Phantom(tmp.str())[0]), "CT");
  EXPECT_NE(ct16.bytes.find(std::string("\xE0\x7F\x10\x00OW\0\0\x00\x02\0\0", 12)), std::string::npos)
      << "OW, 16 x 16 x 2 bytes";
}

TEST(DicomDeid, CompressedPixelsNotDecodableOrTooLargeAreNotBlankedButRefused) {
  auto us = MakeUltrasoundCinePhantom(2, 16, 16, /*ybr_planar=*/false, 13);
  ASSERT_TRUE(us.ok());
  const std::string jpeg = MustTranscode(std::string(us->begin(), us->end()), UID_JPEGProcess1TransferSyntax);
  DeidOptions rule;
  rule.blanking.push_back({"US", "", "", {{0, 0, 8, 4}}});
  // No rectangle meets the image: nothing is decoded, the pixel data stays as it came.
  DeidOptions outside;
  outside.blanking.push_back({"US", "", "", {{100, 0, 8, 4}}});
  auto untouched = Make(outside)->Deidentify(jpeg);
  ASSERT_TRUE(untouched.ok()) << untouched.status().ToString();
  EXPECT_TRUE(untouched->quarantine) << "nothing blanked: held for review";
  EXPECT_EQ(untouched->transfer_syntax_uid, UID_JPEGProcess1TransferSyntax);
  EXPECT_EQ(untouched->actions.pixels_decompressed_from, "");
  Parsed in(jpeg), kept(untouched->bytes);
  EXPECT_TRUE(PixelBytes(in) == PixelBytes(kept));
  BlankOutcome none;
  auto none_blanked = BlankPixelRects(jpeg, {{100, 0, 8, 4}}, &none);
  ASSERT_TRUE(none_blanked.ok());
  EXPECT_EQ(none.blanked, 0);
  EXPECT_EQ(none.decompressed_from, "");

  // A syntax Caliper does not decode (JPEG Extended 3 & 5, retired): an error naming it.
  std::string retired = jpeg;
  const std::string from = UID_JPEGProcess1TransferSyntax, to = "1.2.840.10008.1.2.4.52";
  ASSERT_EQ(from.size(), to.size());
  const std::size_t at = retired.find(from);
  ASSERT_NE(at, std::string::npos);
  retired.replace(at, from.size(), to);
  for (auto result : {Make(rule)->Deidentify(retired).status(), BlankPixelRects(retired, {{0, 0, 8, 4}}).status()}) {
    EXPECT_EQ(result.code(), ErrorCode::kUnsupported) << result.ToString();
    EXPECT_NE(result.message().find(to), std::string::npos) << result.message();
  }
  auto held = Make()->Deidentify(retired);
  ASSERT_TRUE(held.ok()) << "without a rule it is held for review as it came";
  EXPECT_TRUE(held->quarantine);

  // A header whose decoded size passes the decoding limit: refused before anything is decoded.
  DcmFileFormat file;
  ASSERT_TRUE(ReadDicom(Span(jpeg), file).ok());
  file.getDataset()->putAndInsertUint16(DCM_Rows, 65535);
  file.getDataset()->putAndInsertUint16(DCM_Columns, 65535);
  file.getDataset()->putAndInsertString(DCM_NumberOfFrames, "300");
  auto huge = WriteDicom(file, EXS_JPEGProcess1);
  ASSERT_TRUE(huge.ok()) << huge.status().ToString();
  const std::string huge_bytes(huge->begin(), huge->end());
  for (auto result : {Make(rule)->Deidentify(huge_bytes).status(), BlankPixelRects(huge_bytes, {{0, 0, 8, 4}}).status()}) {
    EXPECT_EQ(result.code(), ErrorCode::kInvalidArgument) << result.ToString();
    EXPECT_NE(result.message().find("exceeds the decoding limit"), std::string::npos) << result.message();
  }
}

// What tests/imaging/pydicom_pixels_check.py (pydicom) reads from the instance `bytes` in the
// rectangle "X,Y,W,H"; null (and a failure) when the script fails.
nlohmann::json PydicomPixels(const std::string& bytes, const std::string& rect) {
  TempDir tmp;
  const std::string path = tmp.str() + "/instance.dcm";
  std::ofstream(path, std::ios::binary) << bytes;
  const std::string command = std::string("/usr/bin/python3 ") + CALIPER_SOURCE_DIR +
                              "/tests/imaging/pydicom_pixels_check.py '" + path + "' " + rect + " > '" + path +
                              ".json' 2>&1";
  const int status = std::system(command.c_str());
  const std::string out = ReadBytes(path + ".json");
  EXPECT_EQ(status, 0) << out;
  return status == 0 ? nlohmann::json::parse(out) : nlohmann::json();
}

// pydicom (Debian python3-pydicom) reads a blanked, decompressed ultrasound cine as we wrote it.
TEST(DicomDeid, PydicomReadsABlankedDecompressedInstance) {
  // A dependency scripts/bootstrap.sh installs, not sample data: required everywhere.
  ASSERT_TRUE(fs::exists("/usr/bin/python3")) << "python3 with pydicom (Debian python3-pydicom) is required";
  auto us = MakeUltrasoundCinePhantom(3, 32, 40, /*ybr_planar=*/false, 14);
  ASSERT_TRUE(us.ok());
  const std::string jpeg = MustTranscode(WithBurnedInLabel(*us, {4, 2, 14, 6}), UID_JPEGProcess1TransferSyntax);
  auto blanked = BlankPixelRects(jpeg, {{4, 2, 14, 6}});
  ASSERT_TRUE(blanked.ok()) << blanked.status().ToString();
  auto ours = DecodeImage(Span(*blanked));
  ASSERT_TRUE(ours.ok());
  double sum = 0;
  for (float v : ours->values) sum += v;
  const auto j = PydicomPixels(*blanked, "4,2,14,6");
  ASSERT_FALSE(j.is_null());
  EXPECT_EQ(j["transfer_syntax"], UID_LittleEndianExplicitTransferSyntax);
  EXPECT_EQ(j["photometric"], "RGB");
  EXPECT_EQ(j["shape"], nlohmann::json({3, 32, 40, 3}));
  EXPECT_EQ(j["region_max"], 0);
  EXPECT_EQ(j["sum"].get<double>(), sum);
}

// Native YBR_FULL_422 of odd width has no layout in PS3.3 (pairs are per row): a blanking rule
// refuses the file by name, a quarantined copy is kept as it came, and a steward's rectangles are
// refused the same way.
TEST(DicomDeid, NativeYbrFull422WithAnOddNumberOfColumnsIsRefusedWhenBlanked) {
  const auto cine = testing::Ybr422OddColumnsCine(2, 10, 13);
  const std::string input(cine.begin(), cine.end());
  const std::string why = "native YBR_FULL_422 with an odd number of Columns (13)";
  DeidOptions o;
  o.blanking.push_back({"US", "", "", {{0, 0, 4, 4}}});
  auto ruled = Make(o)->Deidentify(input);
  ASSERT_FALSE(ruled.ok());
  EXPECT_EQ(ruled.status().code(), ErrorCode::kUnsupported);
  EXPECT_NE(ruled.status().message().find(why), std::string::npos) << ruled.status().ToString();
  auto plain = Make()->Deidentify(input);
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_TRUE(plain->quarantine);
  auto stewarded = BlankPixelRects(plain->bytes, {{0, 0, 4, 4}});
  ASSERT_FALSE(stewarded.ok());
  EXPECT_EQ(stewarded.status().code(), ErrorCode::kUnsupported);
  EXPECT_NE(stewarded.status().message().find(why), std::string::npos) << stewarded.status().ToString();
}

// Native YBR_FULL_422 (Y1 Y2 Cb Cr per pair of pixels) is blanked in place in whole pairs, by a
// rule and by a steward alike: a rectangle over columns 3..6 blanks columns 2..7 (the pairs it
// touches share Cb and Cr); nothing else changes and the layout stays. pydicom reads the result.
TEST(DicomDeid, NativeYbrFull422IsBlankedInPlaceInWholePixelPairs) {
  constexpr int kFrames = 2, kRows = 10, kCols = 12;
  const auto cine = testing::Ybr422Cine(kFrames, kRows, kCols);
  const std::string input(cine.begin(), cine.end());
  const PixelRect rect{3, 2, 4, 3};
  DeidOptions o;
  o.blanking.push_back({"US", "", "", {rect}});
  auto ruled = Make(o)->Deidentify(input);
  ASSERT_TRUE(ruled.ok()) << ruled.status().ToString();
  EXPECT_EQ(ruled->actions.pixels_blanked, kFrames);
  EXPECT_EQ(ruled->actions.pixels_decompressed_from, "");
  EXPECT_FALSE(ruled->quarantine);
  auto plain = Make()->Deidentify(input);
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  ASSERT_TRUE(plain->quarantine);
  BlankOutcome outcome;
  auto stewarded = BlankPixelRects(plain->bytes, {rect}, &outcome);
  ASSERT_TRUE(stewarded.ok()) << stewarded.status().ToString();
  EXPECT_EQ(outcome.blanked, kFrames);
  Parsed in(input);
  const std::string before = PixelBytes(in);
  ASSERT_EQ(before.size(), std::size_t{kFrames} * kRows * kCols * 2);
  for (const std::string* bytes : {&ruled->bytes, &*stewarded}) {
    Parsed out(*bytes);
    EXPECT_EQ(out.Get(DCM_PhotometricInterpretation), "YBR_FULL_422");
    const std::string after = PixelBytes(out);
    ASSERT_EQ(after.size(), before.size());
    int zeroed = 0, changed_outside = 0;
    for (int f = 0; f < kFrames; ++f) {
      for (int y = 0; y < kRows; ++y) {
        for (int x = 0; x < kCols; ++x) {
          const std::size_t pair = ((std::size_t(f) * kRows + y) * kCols + x) / 2 * 4;
          const bool inside = x >= 2 && x < 8 && y >= 2 && y < 5;
          int zero = 0, changed = 0;
          for (std::size_t at : {pair + x % 2, pair + 2, pair + 3}) {
            zero += after[at] == 0;
            changed += after[at] != before[at];
          }
          if (inside) zeroed += zero == 3;
          else changed_outside += changed > 0;
        }
      }
    }
    EXPECT_EQ(zeroed, kFrames * 6 * 3);
    EXPECT_EQ(changed_outside, 0);
  }

  ASSERT_TRUE(fs::exists("/usr/bin/python3")) << "python3 with pydicom (Debian python3-pydicom) is required";
  Parsed blanked(*stewarded);
  const std::string after = PixelBytes(blanked);
  long long sum = 0;  // of pydicom's upsampled array: Y1 + Y2 + 2 Cb + 2 Cr per pair
  for (std::size_t at = 0; at + 3 < after.size(); at += 4) {
    const auto u = [&](std::size_t i) { return static_cast<long long>(static_cast<unsigned char>(after[i])); };
    sum += u(at) + u(at + 1) + 2 * u(at + 2) + 2 * u(at + 3);
  }
  const auto j = PydicomPixels(*stewarded, "2,2,6,3");
  ASSERT_FALSE(j.is_null());
  EXPECT_EQ(j["photometric"], "YBR_FULL_422");
  EXPECT_EQ(j["shape"], nlohmann::json({kFrames, kRows, kCols, 3}));
  EXPECT_EQ(j["region_max"], 0);
  EXPECT_EQ(j["sum"].get<long long>(), sum);
}

TEST(DicomDeidSamples, EverySampleFileLosesItsIdentifiersAndKeepsItsPixels) {
  const auto files = SampleDicomFiles();
  if (files.size() < 90) {
    if (SampleDataRequired()) FAIL() << "sample DICOM files missing (found " << files.size() << ")";
    GTEST_SKIP() << "CALIPER_SAMPLE_DATA not set";
  }
  DeidOptions all;
  all.retain_modified_dates = all.clean_descriptors = true;
  for (const DeidOptions& o : {DeidOptions{}, all}) {
    auto first = Make(o), second = Make(o);
    std::map<std::string, std::set<std::string>> studies_by_folder;
    for (const std::string& path : files) {
      const std::string bytes = ReadBytes(path);
      const DeidResult r = CheckOne(*first, bytes, path);
      // A second, separate run maps everything the same way.
      auto again = second->Deidentify(bytes);
      ASSERT_TRUE(again.ok());
      EXPECT_EQ(again->bytes, r.bytes) << path;
      studies_by_folder[fs::path(path).parent_path()].insert(r.study_uid);
    }
    for (const auto& [folder, studies] : studies_by_folder) {
      if (folder.find("dicom-series") != std::string::npos) {
        EXPECT_EQ(studies.size(), 1u) << folder << ": one study in, one study out";
      }
    }
  }
}

TEST(DicomDeidSamples, PixelDataKeptAsItCameMakesTheSameFileAsParsingIt) {
  const auto files = SampleDicomFiles();
  if (files.size() < 90) {
    if (SampleDataRequired()) FAIL() << "sample DICOM files missing (found " << files.size() << ")";
    GTEST_SKIP() << "CALIPER_SAMPLE_DATA not set";
  }
  std::size_t kept = 0;
  for (const std::string& path : files) {
    const std::string bytes = ReadBytes(path);
    kept += PixelTail(bytes) != ElementLayout::kNone;
    ExpectSameBothWays(bytes, path);
  }
  // Every sample with pixel data has it last (the ECG has waveforms instead).
  EXPECT_GE(kept, files.size() - 1);
}

TEST(DicomDeidSamples, SegReferencesMapToTheDeidentifiedSourceSeries) {
  const auto seg = SampleDataFile("dicom-seg/seg_image_ct_binary.dcm");
  const auto source = SampleDataFile("dicom-seg/source-ct-16x16/17106.dcm");
  if (!seg || !source) {
    if (SampleDataRequired()) FAIL() << "dicom-seg sample data missing";
    GTEST_SKIP() << "CALIPER_SAMPLE_DATA not set";
  }
  auto deid = Make();
  const DeidResult s = CheckOne(*deid, ReadBytes(*seg), *seg);
  const DeidResult c = CheckOne(*deid, ReadBytes(*source), *source);
  Parsed out(s.bytes);
  DcmItem* series = nullptr;
  ASSERT_TRUE(out.ds().findAndGetSequenceItem(DCM_ReferencedSeriesSequence, series, 0).good());
  OFString uid;
  series->findAndGetOFString(DCM_SeriesInstanceUID, uid);
  EXPECT_EQ(std::string(uid.c_str()), c.series_uid);
  EXPECT_EQ(s.study_uid, c.study_uid);
}

TEST(DicomDeidSamples, CompressedSamplePixelsAreDecodedAndBlanked) {
  const auto j2k = SampleDataFile("dicom-series/ct-abdomen-totalsegmentator/1-01.dcm");
  std::string path;
  if (j2k) path = *j2k;
  if (path.empty()) {
    for (const std::string& f : SampleDicomFiles()) {
      if (f.find("totalsegmentator") != std::string::npos) path = f;
    }
  }
  if (path.empty()) {
    if (SampleDataRequired()) FAIL() << "TotalSegmentator sample missing";
    GTEST_SKIP() << "CALIPER_SAMPLE_DATA not set";
  }
  const std::string input = ReadBytes(path);
  auto decoded = DecodeImage(Span(input));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  const std::string uid = decoded->transfer_syntax_uid;
  ASSERT_TRUE(DcmXfer(uid.c_str()).isEncapsulated()) << uid;
  const std::vector<PixelRect> rects = {{0, 0, 40, 12}};
  DeidOptions o;
  o.blanking.push_back({"CT", "", "", rects});
  auto r = Make(o)->Deidentify(input);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->actions.pixels_decompressed_from, uid);
  EXPECT_EQ(r->transfer_syntax_uid, UID_LittleEndianExplicitTransferSyntax);
  // A steward's rectangles on the instance held without the rule: the same pixels.
  auto clean = Make()->Deidentify(input);
  ASSERT_TRUE(clean.ok());
  EXPECT_EQ(clean->transfer_syntax_uid, uid) << "without blanking its fragments stay untouched";
  auto blanked = BlankPixelRects(clean->bytes, rects);
  ASSERT_TRUE(blanked.ok()) << blanked.status().ToString();
  for (const std::string* out : {&r->bytes, &*blanked}) {
    auto image = DecodeImage(Span(*out));
    ASSERT_TRUE(image.ok()) << image.status().ToString();
    ASSERT_EQ(image->values.size(), decoded->values.size());
    ASSERT_EQ(image->samples_per_pixel, 1);
    Parsed p(*out);
    const std::string raw = PixelBytes(p);
    int zero = 0, changed_outside = 0;
    for (int y = 0; y < image->rows; ++y) {
      for (int x = 0; x < image->columns; ++x) {
        const std::size_t n = std::size_t(y) * image->columns + x;
        if (x < 40 && y < 12) {
          zero += raw[2 * n] == 0 && raw[2 * n + 1] == 0;
        } else {
          changed_outside += image->values[n] != decoded->values[n];
        }
      }
    }
    EXPECT_EQ(zero, 40 * 12);
    EXPECT_EQ(changed_outside, 0);
  }
}

// Values of a multi-valued UID that each end in a NUL (padding written after every value, not
// only the last): every value is remapped, as one UID alone would be; none is dropped.
TEST(DicomDeid, EveryValueOfAUidListIsRemappedWhenEachEndsInANul) {
  TempDir tmp;
  const auto paths = Phantom(tmp.str());
  const std::string original = ReadBytes(paths[0]);
  DcmFileFormat file;
  ASSERT_TRUE(ReadDicom(Span(original), file).ok());
  static constexpr char kValue[] = "1.2.3\0\\1.2.45";  // "1.2.3" NUL "\" "1.2.45"
  ASSERT_TRUE(file.getDataset()->putAndInsertString(DCM_IrradiationEventUID, "1").good());
  DcmElement* e = nullptr;
  ASSERT_TRUE(file.getDataset()->findAndGetElement(DCM_IrradiationEventUID, e).good());
  ASSERT_TRUE(static_cast<DcmByteString*>(e)->putString(kValue, sizeof kValue - 1).good());
  auto bytes = WriteDicom(file, EXS_LittleEndianExplicit);
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  const std::string input(bytes->begin(), bytes->end());
  ASSERT_NE(input.find(std::string(kValue, sizeof kValue - 1)), std::string::npos);
  auto deid = Make();
  const DeidResult r = CheckOne(*deid, input, "uid list");
  Parsed out(r.bytes);
  OFString value;
  ASSERT_TRUE(out.ds().findAndGetOFStringArray(DCM_IrradiationEventUID, value).good());
  EXPECT_EQ(std::string(value.c_str()),
            PseudonymousUid(HashFor(7), "1.2.3") + "\\" + PseudonymousUid(HashFor(7), "1.2.45"));
}

// Uid225 writes every 128-bit number as dividing it by ten digit by digit would: the edges of
// its parts below 10^19 and random numbers of every size.
TEST(DicomDeid, Uid225WritesA128BitNumberInDecimal) {
  auto slow = [](unsigned __int128 v) {
    std::string digits;
    do {
      digits.insert(digits.begin(), static_cast<char>('0' + static_cast<int>(v % 10)));
      v /= 10;
    } while (v != 0);
    return "2.25." + digits;
  };
  const unsigned __int128 ten19 = 10'000'000'000'000'000'000ULL;
  std::vector<unsigned __int128> values = {0, 1, 9, 10, ten19 - 1, ten19, ten19 + 1, ten19 * ten19 - 1,
                                           ten19 * ten19, ten19 * ten19 + 1, ~static_cast<unsigned __int128>(0)};
  std::uint64_t state = 0x9E3779B97F4A7C15ULL;
  auto next = [&state] {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  for (int i = 0; i < 3000; ++i) {
    const unsigned __int128 v = (static_cast<unsigned __int128>(next()) << 64) | next();
    values.push_back(v >> (i % 128));
  }
  for (const unsigned __int128 v : values) EXPECT_EQ(Uid225(v), slow(v));
  EXPECT_EQ(Uid225(~static_cast<unsigned __int128>(0)), "2.25.340282366920938463463374607431768211455");
}

}  // namespace
}  // namespace caliper::dicom

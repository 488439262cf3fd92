#include "dicom/dictionary.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcdicent.h>
#include <dcmtk/dcmdata/dcdict.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

namespace caliper::dicom {
namespace {

std::string Text(const char* s) { return s == nullptr ? "(null)" : s; }

// Every field DCMTK keeps for an entry.
std::string Describe(const DcmDictEntry& e) {
  char head[96];
  std::snprintf(head, sizeof head, "(%04X,%04X)-(%04X,%04X) ranges %d/%d VR %s VM %d-%d ",
                e.getGroup(), e.getElement(), e.getUpperGroup(), e.getUpperElement(),
                static_cast<int>(e.getGroupRangeRestriction()),
                static_cast<int>(e.getElementRangeRestriction()), e.getVR().getVRName(),
                e.getVMMin(), e.getVMMax());
  return head + Text(e.getTagName()) + " " + Text(e.getStandardVersion()) + " creator " +
         Text(e.getPrivateCreator());
}

// The normal entries sorted by tag and creator, then the repeating ones in their order.
std::vector<std::string> Entries(DcmDataDictionary& d) {
  std::vector<std::string> normal;
  for (auto it = d.normalBegin(); it != d.normalEnd(); ++it) normal.push_back(Describe(**it));
  std::sort(normal.begin(), normal.end());
  for (auto it = d.repeatingBegin(); it != d.repeatingEnd(); ++it)
    normal.push_back("repeating " + Describe(**it));
  return normal;
}

void ExpectSameEntries(DcmDataDictionary& expected, DcmDataDictionary& actual) {
  EXPECT_EQ(expected.numberOfNormalTagEntries(), actual.numberOfNormalTagEntries());
  EXPECT_EQ(expected.numberOfRepeatingTagEntries(), actual.numberOfRepeatingTagEntries());
  const std::vector<std::string> a = Entries(expected), b = Entries(actual);
  std::size_t differences = 0;
  for (std::size_t i = 0; i < std::max(a.size(), b.size()) && differences < 10; ++i) {
    const std::string x = i < a.size() ? a[i] : "(none)", y = i < b.size() ? b[i] : "(none)";
    if (x != y) {
      ADD_FAILURE() << "entry " << i << ": DCMTK's files give " << x << ", the table gives " << y;
      ++differences;
    }
  }
}

// The rows compiled in are DCMTK's text dictionary as DCMTK reads it: every field of every
// entry, both ways, and the repeating entries in the same order (the first that contains a tag
// is the one DCMTK uses).
TEST(DicomDictionary, TheCompiledTableIsDcmtksOwnDictionary) {
  ASSERT_EQ(std::getenv("DCMDICTPATH"), nullptr);
  DcmDataDictionary from_files(OFTrue, OFTrue);
  ASSERT_TRUE(from_files.isDictionaryLoaded());
  ASSERT_GT(from_files.numberOfNormalTagEntries(), 7000);  // dicom.dic and private.dic
  DcmDataDictionary from_table(OFFalse, OFFalse);
  AddDictionaryRows(from_table);
  ExpectSameEntries(from_files, from_table);
}

// This process's dictionary was filled from the table before main, is DCMTK's whole dictionary,
// counts as loaded, and DCMDICTPATH, set for a moment, is not left for a child to inherit.
TEST(DicomDictionary, TheProcessDictionaryComesFromTheTable) {
  EXPECT_TRUE(DictionaryLoaded()) << "not loaded by the static initialiser in codecs.cpp";
  EXPECT_EQ(LoadDictionary(), DictionarySource::kTable);
  EXPECT_EQ(std::getenv("DCMDICTPATH"), nullptr);
  EXPECT_TRUE(dcmDataDict.isDictionaryLoaded());
  DcmDataDictionary from_files(OFTrue, OFTrue);
  ExpectSameEntries(from_files, dcmDataDict.wrlock());
  dcmDataDict.wrunlock();
}

// A DCMDICTPATH set by the user is DCMTK's to read, as without the table: checked in a new process
// (a "threadsafe" death test executes this binary again, with the variable set).
TEST(DicomDictionary, ADictionaryPathSetByTheUserIsRead) {
  const std::string path = ::testing::TempDir() + "caliper_user.dic";
  std::ofstream(path) << "# one entry only\n(0010,0010)\tPN\tPatientsNameFromTheUser\t1\tDICOM\n";
  ASSERT_EQ(::setenv("DCMDICTPATH", path.c_str(), 1), 0);
  const std::string style = GTEST_FLAG_GET(death_test_style);
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        if (LoadDictionary() != DictionarySource::kDcmtkFiles) std::exit(1);
        const DcmDataDictionary& d = dcmDataDict.rdlock();
        const DcmDictEntry* e = d.findEntry(DCM_PatientName, nullptr);
        const bool users =
            e != nullptr && std::strcmp(e->getTagName(), "PatientsNameFromTheUser") == 0;
        const bool only = d.findEntry(DCM_StudyDate, nullptr) == nullptr;
        dcmDataDict.rdunlock();
        std::exit(!users ? 2 : !only ? 3 : 0);
      },
      ::testing::ExitedWithCode(0), "")
      << "1: the table was used, 2: the user's entry is missing, 3: the table's entries were added";
  GTEST_FLAG_SET(death_test_style, style);
  ::unsetenv("DCMDICTPATH");
  std::remove(path.c_str());
}

}  // namespace
}  // namespace caliper::dicom

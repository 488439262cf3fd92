#include "dicom/dictionary.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcdicent.h>
#include <dcmtk/dcmdata/dcdict.h>

#include <atomic>
#include <cstdlib>

namespace caliper::dicom {
namespace {

struct DictionaryRow {
  Uint16 group, element, upper_group, upper_element;
  int group_range, element_range, vr;  // DcmDictRangeRestriction, DcmDictRangeRestriction, DcmEVR
  const char* name;
  int vm_min, vm_max;
  const char* version;
  const char* creator;
};

std::atomic<bool> loaded{false};  // constant-initialised: set before any dynamic initialiser

// kNormalRows and kRepeatingRows, written at build time by dictionary_gen.cpp.
#include "dcmtk_dictionary_rows.inc"

DcmDictEntry* EntryOf(const DictionaryRow& r) {
  // The strings are literals of this file: DCMTK keeps pointers to them, and never frees them.
  auto* e = new DcmDictEntry(r.group, r.element, r.upper_group, r.upper_element,
                             DcmVR(static_cast<DcmEVR>(r.vr)), r.name, r.vm_min, r.vm_max,
                             r.version, OFFalse, r.creator);
  e->setGroupRangeRestriction(static_cast<DcmDictRangeRestriction>(r.group_range));
  e->setElementRangeRestriction(static_cast<DcmDictRangeRestriction>(r.element_range));
  return e;
}

}  // namespace

void AddDictionaryRows(DcmDataDictionary& dictionary) {
  for (const DictionaryRow& r : kNormalRows) dictionary.addEntry(EntryOf(r));
  // In DCMTK's order, so that a narrower range still comes before a wider one around it.
  for (const DictionaryRow& r : kRepeatingRows) dictionary.addEntry(EntryOf(r));
}

DictionarySource LoadDictionary() {
  static const DictionarySource source = [] {
    if (std::getenv("DCMDICTPATH") != nullptr) return DictionarySource::kDcmtkFiles;
    // A path of no file names: DCMTK makes the dictionary now with its skeleton only, and counts
    // it as loaded (so it does not warn that none was found). Unset at once: no child inherits it.
    ::setenv("DCMDICTPATH", ":", 1);
    DcmDataDictionary& dictionary = dcmDataDict.wrlock();
    ::unsetenv("DCMDICTPATH");
    // Made before this ran (by a DcmTag of another static initialiser): DCMTK read its files.
    DictionarySource made = DictionarySource::kDcmtkFiles;
    if (dictionary.findEntry(DCM_PatientName, nullptr) == nullptr) {
      AddDictionaryRows(dictionary);
      made = DictionarySource::kTable;
    }
    dcmDataDict.wrunlock();
    return made;
  }();
  loaded = true;
  return source;
}

bool DictionaryLoaded() { return loaded; }

}  // namespace caliper::dicom

#pragma once

class DcmDataDictionary;

// DCMTK's data dictionary filled from a table compiled at build time, instead of DCMTK parsing
// its text files in every process (docs/adr/0013-dcmtk-dictionary-compiled-at-build.md).
namespace caliper::dicom {

enum class DictionarySource {
  kTable,       // the table compiled from DCMTK's files at build time
  kDcmtkFiles,  // DCMTK's own loading: DCMDICTPATH was set, or the dictionary was made before
};

// Fills DCMTK's global dictionary from the table, once per process, unless DCMDICTPATH is set
// (then DCMTK reads what it names, as always). codecs.cpp calls it from a static initialiser,
// before main and before any thread starts, since it sets DCMDICTPATH for a moment.
DictionarySource LoadDictionary();

// Whether LoadDictionary has run in this process (for the test that it ran before main).
bool DictionaryLoaded();

// Adds every row of the table to `dictionary` (for the test that compares it with DCMTK's files).
void AddDictionaryRows(DcmDataDictionary& dictionary);

}  // namespace caliper::dicom

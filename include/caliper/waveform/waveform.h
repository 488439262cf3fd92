#pragma once

// Physiological waveforms (ECG first): one model every reader fills, the readers of WFDB
// records and EDF/EDF+ files, and the compact stored form of the model. No I/O beyond the bytes
// handed in; errors are values. What each reader keeps and strips: docs/waveforms.md.
// The DICOM waveform reader lives in the dicom part (caliper/dicom/waveform.h), since only that
// part may include DCMTK; it fills the same model.

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "caliper/common/status.h"

namespace caliper::waveform {

// One lead (channel) of a record. `digital` holds the stored sample values; the physical value
// in millivolts is digital * mv_per_unit + offset_mv (every reader converts its own units and
// calibration into these two numbers, so values are exact and compact).
struct Lead {
  std::string name;
  std::vector<std::int32_t> digital;
  double mv_per_unit = 1.0;
  double offset_mv = 0.0;

  double Millivolts(std::size_t sample) const {
    return static_cast<double>(digital[sample]) * mv_per_unit + offset_mv;
  }
};

// A reference annotation imported with a record (e.g. a WFDB .atr beat label), at a sample.
struct Annotation {
  std::int64_t sample = 0;  // index into the record (0-based)
  std::string symbol;       // WFDB mnemonic ("N", "V", "+", ...)
  std::string label;        // its description ("Normal beat")
  std::string aux;          // e.g. the rhythm "(AFIB" of a rhythm change; "" when none
  int subtype = 0;
  int channel = 0;
  int num = 0;
};

// A record: leads sampled together at one rate. Cohort facts are coarsened (age band, sex);
// nothing else of the source's patient or recording identification is kept.
struct Waveform {
  std::string source_format;  // "wfdb", "edf", "edf+", "dicom"
  double sampling_rate_hz = 0;
  std::int64_t samples = 0;    // per lead
  double start_offset_s = 0;   // time of sample 0 from the start of the acquisition
  std::vector<Lead> leads;
  std::vector<Annotation> annotations;  // ordered by sample
  std::string age_band;  // core::AgeBand, "" when unknown
  std::string sex;       // "F", "M", "O" or ""
  // A second group of the same acquisition kept with the record (the DICOM ECG's median
  // beat); it has no annotations or cohort of its own.
  std::vector<Waveform> extra_groups;
  std::string group_label;  // e.g. "RHYTHM", "MEDIAN BEAT"; "" when the source names none
  std::vector<std::string> warnings;  // what the reader left out and why (e.g. a skipped signal)

  // Seconds of `sample` from the record's first sample (the API's time axis; start_offset_s
  // places that first sample in the acquisition).
  double TimeOf(std::int64_t sample) const { return static_cast<double>(sample) / sampling_rate_hz; }
  double DurationSeconds() const { return static_cast<double>(samples) / sampling_rate_hz; }
};

// Checks the model's invariants: a positive finite rate, at least one lead, every lead holding
// `samples` values with finite calibration, at least one sample, annotations inside the record
// and ordered. kInvalidArgument names the first violation.
Status Validate(const Waveform& waveform);

// Millivolts per unit of a voltage unit ("mV" 1, "uV"/"µV" 0.001, "nV", "V"; case of the
// prefix respected). kUnsupported for anything that is not a voltage.
Result<double> MillivoltsPerUnit(std::string_view units);

// The WFDB annotation code table (ecgcodes.h of the WFDB library; PhysioNet's annotation
// documentation): mnemonic and description of code 1..49; nullopt for unused codes.
struct AnnotationCode {
  std::string_view symbol;
  std::string_view description;
};
std::optional<AnnotationCode> WfdbAnnotationCode(int code);

// ---- WFDB (PhysioNet's WaveForm DataBase format) ----

// The files of one WFDB record, by file name (no directories): the header, the signal files it
// names and optionally the reference annotation file "<record>.atr".
using FileSet = std::map<std::string, std::string>;

// The signal file names a header refers to (so a caller can fetch them). kInvalidArgument for
// a header that does not parse or names a file with a path separator or "..".
Result<std::vector<std::string>> WfdbSignalFiles(std::string_view header);

// Reads a single-segment WFDB record: `header_name` (e.g. "100.hea") and the files it names
// must be in `files`; "<record>.atr" is read when present. Signal formats 16 and 212 (one
// sample per frame, no skew; a byte offset is honoured). Gains in ADC units per physical unit
// (0 means 200, as WFDB defines), baseline (default: ADC zero), units in mV, uV or V. Base
// time and date are not kept; of the header comments only age (as an age band) and sex are.
// Errors: kInvalidArgument (malformed header, a missing or short signal file, a malformed
// annotation file), kUnsupported (another format, multi-segment records, several samples per
// frame, non-voltage units).
Result<Waveform> ReadWfdb(const FileSet& files, std::string_view header_name);

// Decodes a MIT-format annotation file (the 2-byte annotation format with SKIP, NUM, SUB, CHN
// and AUX codes). Free-text aux of comment (NOTE) and LINK annotations is dropped.
// kInvalidArgument for a truncated or malformed file.
Result<std::vector<Annotation>> DecodeMitAnnotations(std::string_view bytes);

// ---- EDF / EDF+ (European Data Format, Kemp et al. 1992 and 2003) ----

// Reads an EDF or EDF+ (continuous, "EDF+C") file. Signals whose units are a voltage and whose
// samples per data record are the largest of the file become leads; other signals (the EDF+
// annotation signal, non-voltage or lower-rate signals) are left out with a warning. The local
// patient and recording identification and the start date and time are not kept (EDF+ sex and
// birth date are read only to derive sex; nothing else). EDF+ "discontinuous" (EDF+D) is
// kUnsupported; a malformed or truncated file is kInvalidArgument.
Result<Waveform> ReadEdf(std::string_view bytes);

// Writes an EDF+C file of `waveform`'s leads (16-bit, physical range from each lead's values,
// 1-second data records, units "mV"), with the given identification fields as they should
// appear in the header (for tests: identification that the reader must drop). Used by the
// synthetic-data generator; kInvalidArgument when the rate is not a whole number of samples
// per second.
struct EdfIdentity {
  std::string patient = "X X X X";
  std::string recording = "Startdate X X X X";
  std::string start_date = "01.01.85";
  std::string start_time = "00.00.00";
};
Result<std::string> WriteEdf(const Waveform& waveform, const EdfIdentity& identity);

// ---- grouping uploaded files into records ----

// One record's files and how to read them.
struct RecordInput {
  std::string name;    // the header, .edf or .dcm file name
  std::string format;  // "wfdb", "edf", "dicom"
  FileSet files;       // for WFDB: the header, its signal files and "<record>.atr" when present
};
struct Grouping {
  std::vector<RecordInput> records;
  std::vector<std::pair<std::string, Status>> left_over;  // files no record uses, and why
};

// Sorts uploaded files (by name; no directories) into records: each ".hea" with the signal files
// it names and its ".atr"; each ".edf"; each ".dcm" or file with the DICOM preamble. Files no
// record uses (a ".dat" without its header, an unknown kind) are left over with a reason.
Grouping GroupRecordFiles(FileSet files);

// ---- stored form ----

// The item content of a waveform: "CALWAVE1", a little-endian u32 length and a JSON
// description (rate, samples, offset, leads with calibration, annotations, cohort, groups),
// then each lead's samples as zigzag LEB128 varints of successive differences (docs/waveforms.md).
std::string EncodeStored(const Waveform& waveform);
// kIntegrity for bytes that are not a stored waveform.
Result<Waveform> DecodeStored(std::string_view bytes);

}  // namespace caliper::waveform

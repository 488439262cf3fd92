#pragma once

// Reading clinical notes from files: plain text (one note per file), JSONL (one
// {"id", "patient", "text", ...metadata} object per line) and CSV (RFC 4180, a header row
// naming the columns id, patient, text; other columns are metadata). The readers only parse:
// de-identification and storage happen in app (App::IngestNotes), so nothing read here is
// stored before it has been de-identified. Memory is bounded by the note size limit: a line
// or record longer than the limit is skipped without being held in memory.

#include <cstddef>
#include <istream>
#include <memory>
#include <string>
#include <string_view>

#include "caliper/common/status.h"

namespace caliper::ingest {

enum class NoteFormat { kText, kJsonl, kCsv };

// "txt", "jsonl", "csv" (kInvalidArgument otherwise).
Result<NoteFormat> ParseNoteFormat(std::string_view name);
// By file extension: .txt/.text, .jsonl/.ndjson, .csv (case-insensitive); kInvalidArgument
// naming the file otherwise.
Result<NoteFormat> NoteFormatOfPath(std::string_view path);

// One record of a notes file. When `status` is not ok the record is unusable and the message
// says why; the reader has moved past it and the next record is independent of it.
struct NoteRecord {
  std::size_t number = 0;  // 1-based record number within the file
  std::size_t line = 0;    // the line it starts on (1-based)
  std::string id;          // the source's note id; "" when the source gives none
  std::string patient;     // the source's patient identifier (may be PHI: never stored as is)
  std::string text;        // the note (not yet checked: see CheckNoteText)
  std::string metadata_json = "{}";  // the other fields, a JSON object (values may hold PHI)
  Status status;
};

struct NoteReaderOptions {
  // Notes longer than this (bytes of text) are refused with kPayloadTooLarge.
  std::size_t max_note_bytes = std::size_t{64} << 20;
  // For kText: the note's id (usually the file name) and patient (there is no field for it).
  std::string text_id;
  std::string text_patient;
  // For kCsv: the columns holding the text and the id (header names, lower case).
  std::string csv_text_column = "text";
  std::string csv_id_column = "id";
};

// Reads records one by one. Not thread-safe; borrows `in`, which must outlive the reader.
class NoteReader {
 public:
  static std::unique_ptr<NoteReader> Create(NoteFormat format, std::istream& in, NoteReaderOptions options);
  virtual ~NoteReader() = default;
  // Fills `out` with the next record (ok or not) and returns true; false at the end of the
  // input. A CSV file that cannot be parsed on (an unterminated quote) ends with one error
  // record.
  virtual bool Next(NoteRecord& out) = 0;
};

// The checks a note's text must pass before de-identification: not empty or only white
// space; well-formed UTF-8; no control characters other than tab, line feed, carriage return
// and form feed (C0, DEL and C1 controls are refused: they are never part of a note and
// usually mean a binary or mis-decoded file). kInvalidArgument naming the code-point offset.
Status CheckNoteText(std::string_view text);

}  // namespace caliper::ingest

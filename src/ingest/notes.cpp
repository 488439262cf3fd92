#include "caliper/ingest/notes.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <vector>

#include <nlohmann/json.hpp>

#include "caliper/deid/text_deid.h"
#include "ingest/csv.h"

namespace caliper::ingest {
namespace {

using nlohmann::json;

Status TooLarge(std::size_t limit) {
  return Error(ErrorCode::kPayloadTooLarge,
               "the note is longer than the limit of " + std::to_string(limit) + " bytes; skipped");
}

// A JSON scalar that names something (id, patient) as text: strings as they are, integers in
// decimal. Anything else is refused.
Result<std::string> NameField(const json& v, const char* field) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_integer()) return v.dump();
  return Error(ErrorCode::kInvalidArgument, std::string("field '") + field + "' must be a string");
}

class TextReader final : public NoteReader {
 public:
  TextReader(std::istream& in, NoteReaderOptions options) : in_(in), options_(std::move(options)) {}
  bool Next(NoteRecord& out) override {
    if (done_) return false;
    done_ = true;
    out = NoteRecord{};
    out.number = out.line = 1;
    out.id = options_.text_id;
    out.patient = options_.text_patient;
    ByteSource src(in_);
    for (int c = src.Get(); c >= 0; c = src.Get()) {
      if (out.text.size() == options_.max_note_bytes) {
        out.text.clear();
        out.text.shrink_to_fit();
        out.status = TooLarge(options_.max_note_bytes);
        return true;
      }
      out.text.push_back(static_cast<char>(c));
    }
    return true;
  }

 private:
  std::istream& in_;
  NoteReaderOptions options_;
  bool done_ = false;
};

class JsonlReader final : public NoteReader {
 public:
  JsonlReader(std::istream& in, NoteReaderOptions options)
      : src_(in), options_(std::move(options)),
        // JSON escapes make a line longer than its text; twice the limit plus 1 MiB of fields.
        max_line_(options_.max_note_bytes * 2 + (std::size_t{1} << 20)) {}

  bool Next(NoteRecord& out) override {
    std::string line;
    while (true) {
      if (src_.Peek() < 0) return false;
      ++line_no_;
      bool too_long = false;
      line.clear();
      for (int c = src_.Get(); c >= 0 && c != '\n'; c = src_.Get()) {
        if (too_long) continue;
        if (line.size() == max_line_) {
          too_long = true;
          line.clear();
          line.shrink_to_fit();
          continue;
        }
        line.push_back(static_cast<char>(c));
      }
      if (!line.empty() && line.back() == '\r') line.pop_back();
      out = NoteRecord{};
      out.line = line_no_;
      if (too_long) {
        out.number = ++number_;
        out.status = TooLarge(options_.max_note_bytes);
        return true;
      }
      if (line.find_first_not_of(" \t") == std::string::npos) continue;  // blank lines
      out.number = ++number_;
      out.status = Parse(line, out);
      return true;
    }
  }

 private:
  Status Parse(const std::string& line, NoteRecord& out) {
    if (Status s = deid::CheckUtf8(line); !s.ok()) {
      return Error(ErrorCode::kInvalidArgument, "line " + std::to_string(out.line) + ": " + s.message());
    }
    json doc = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded() || !doc.is_object()) {
      return Error(ErrorCode::kInvalidArgument, "line " + std::to_string(out.line) + " is not a JSON object");
    }
    json metadata = json::object();
    for (auto& [key, value] : doc.items()) {
      if (key == "text") {
        if (!value.is_string()) return Error(ErrorCode::kInvalidArgument, "field 'text' must be a string");
        out.text = value.get<std::string>();
        if (out.text.size() > options_.max_note_bytes) return TooLarge(options_.max_note_bytes);
      } else if (key == "id") {
        CALIPER_ASSIGN_OR_RETURN(out.id, NameField(value, "id"));
      } else if (key == "patient") {
        CALIPER_ASSIGN_OR_RETURN(out.patient, NameField(value, "patient"));
      } else {
        metadata[key] = std::move(value);
      }
    }
    if (!doc.contains("text")) return Error(ErrorCode::kInvalidArgument, "field 'text' is missing");
    out.metadata_json = metadata.dump();
    return Status::Ok();
  }

  ByteSource src_;
  NoteReaderOptions options_;
  std::size_t max_line_;
  std::size_t line_no_ = 0, number_ = 0;
};

// CSV notes: the first record names the columns.
class CsvReader final : public NoteReader {
 public:
  CsvReader(std::istream& in, NoteReaderOptions options)
      : csv_(in, options.max_note_bytes + (std::size_t{1} << 20)), options_(std::move(options)) {}

  bool Next(NoteRecord& out) override {
    if (broken_) return false;
    if (header_.empty()) {
      std::vector<std::string> header;
      bool too_long = false;
      const std::size_t start = csv_.NextLine();
      Status s = csv_.ReadRecord(header, too_long);
      if (!s.ok() || header.empty()) {
        broken_ = true;
        out = NoteRecord{};
        out.line = start;
        out.status = s.ok() ? Error(ErrorCode::kInvalidArgument, "the CSV file is empty") : s;
        return true;
      }
      for (auto& h : header) h = Lower(h);
      if (!header.empty() && header[0].rfind("\xEF\xBB\xBF", 0) == 0) header[0].erase(0, 3);  // BOM
      if (std::find(header.begin(), header.end(), options_.csv_text_column) == header.end()) {
        broken_ = true;
        out = NoteRecord{};
        out.line = start;
        out.status = Error(ErrorCode::kInvalidArgument, "the CSV header has no '" + options_.csv_text_column + "' column");
        return true;
      }
      header_ = std::move(header);
    }
    std::vector<std::string> fields;
    while (true) {
      if (csv_.AtEnd()) return false;
      out = NoteRecord{};
      out.line = csv_.NextLine();
      bool too_long = false;
      Status s = csv_.ReadRecord(fields, too_long);
      if (!s.ok()) {
        broken_ = true;
        out.number = ++number_;
        out.status = s;
        return true;
      }
      if (fields.size() == 1 && fields[0].empty() && !too_long) continue;  // blank line
      out.number = ++number_;
      if (too_long) {
        out.status = TooLarge(options_.max_note_bytes);
      } else if (fields.size() != header_.size()) {
        out.status = Error(ErrorCode::kInvalidArgument,
                           "record on line " + std::to_string(out.line) + " has " + std::to_string(fields.size()) +
                               " fields; the header has " + std::to_string(header_.size()));
      } else {
        out.status = Fill(fields, out);
      }
      return true;
    }
  }

 private:
  Status Fill(std::vector<std::string>& fields, NoteRecord& out) {
    json metadata = json::object();
    for (std::size_t i = 0; i < fields.size(); ++i) {
      if (Status s = deid::CheckUtf8(fields[i]); !s.ok()) {
        return Error(ErrorCode::kInvalidArgument, "column '" + header_[i] + "': " + s.message());
      }
      if (header_[i] == options_.csv_text_column) {
        out.text = std::move(fields[i]);
      } else if (header_[i] == options_.csv_id_column) {
        out.id = std::move(fields[i]);
      } else if (header_[i] == "patient") {
        out.patient = std::move(fields[i]);
      } else {
        metadata[header_[i]] = std::move(fields[i]);
      }
    }
    if (out.text.size() > options_.max_note_bytes) return TooLarge(options_.max_note_bytes);
    out.metadata_json = metadata.dump();
    return Status::Ok();
  }

  CsvParser csv_;
  NoteReaderOptions options_;
  std::vector<std::string> header_;
  std::size_t number_ = 0;
  bool broken_ = false;
};

}  // namespace

Result<NoteFormat> ParseNoteFormat(std::string_view name) {
  const std::string n = Lower(name);
  if (n == "txt" || n == "text") return NoteFormat::kText;
  if (n == "jsonl" || n == "ndjson") return NoteFormat::kJsonl;
  if (n == "csv") return NoteFormat::kCsv;
  return Error(ErrorCode::kInvalidArgument, "'" + std::string(name) + "' is not a notes format (one of: txt, jsonl, csv)");
}

Result<NoteFormat> NoteFormatOfPath(std::string_view path) {
  const auto dot = path.rfind('.');
  const auto slash = path.find_last_of('/');
  if (dot == std::string_view::npos || (slash != std::string_view::npos && dot < slash)) {
    return Error(ErrorCode::kInvalidArgument,
                 std::string(path) + ": no file extension; name the format (.txt, .jsonl, .csv)");
  }
  auto format = ParseNoteFormat(path.substr(dot + 1));
  if (!format.ok()) {
    return Error(ErrorCode::kInvalidArgument,
                 std::string(path) + ": unknown extension; notes are read from .txt, .jsonl or .csv files");
  }
  return format;
}

std::unique_ptr<NoteReader> NoteReader::Create(NoteFormat format, std::istream& in, NoteReaderOptions options) {
  switch (format) {
    case NoteFormat::kText:
      return std::make_unique<TextReader>(in, std::move(options));
    case NoteFormat::kJsonl:
      return std::make_unique<JsonlReader>(in, std::move(options));
    case NoteFormat::kCsv:
      break;
  }
  return std::make_unique<CsvReader>(in, std::move(options));
}

Status CheckNoteText(std::string_view text) {
  if (text.find_first_not_of(" \t\r\n\f\v") == std::string_view::npos) {
    return Error(ErrorCode::kInvalidArgument, "the note is empty");
  }
  CALIPER_RETURN_IF_ERROR(deid::CheckUtf8(text));
  std::size_t cp = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto b = static_cast<unsigned char>(text[i]);
    if ((b & 0xC0) == 0x80) continue;  // continuation byte
    unsigned code = b;
    if (b == 0xC2 && i + 1 < text.size()) code = static_cast<unsigned char>(text[i + 1]);  // U+0080..U+00BF
    const bool c0 = b < 0x20 && b != '\t' && b != '\n' && b != '\r' && b != '\f';
    const bool c1 = b == 0xC2 && code >= 0x80 && code <= 0x9F;
    if (c0 || b == 0x7F || c1) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "%04X", c1 ? code : b);
      return Error(ErrorCode::kInvalidArgument, "control character U+" + std::string(hex) +
                                                    " at code point " + std::to_string(cp) +
                                                    " (only tab, line feed, carriage return and form feed are allowed)");
    }
    ++cp;
  }
  return Status::Ok();
}

}  // namespace caliper::ingest

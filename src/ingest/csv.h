#pragma once

// Internal to ingest: buffered byte input, an RFC 4180 CSV record parser with a record size
// bound, and small text helpers, shared by the notes and labs readers.

#include <array>
#include <cctype>
#include <cstddef>
#include <istream>
#include <string>
#include <string_view>
#include <vector>

#include "caliper/common/status.h"

namespace caliper::ingest {

// ASCII letters folded to lower case; other bytes kept.
inline std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Without leading and trailing spaces, tabs and line breaks.
inline std::string Trim(std::string_view s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return "";
  return std::string(s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1));
}

// Buffered bytes from an istream, one at a time (-1 at the end).
class ByteSource {
 public:
  explicit ByteSource(std::istream& in) : in_(in) {}
  int Get() {
    if (pos_ == len_) {
      if (!in_) return -1;
      in_.read(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
      len_ = static_cast<std::size_t>(in_.gcount());
      pos_ = 0;
      if (len_ == 0) return -1;
    }
    return static_cast<unsigned char>(buffer_[pos_++]);
  }
  int Peek() {
    const int c = Get();
    if (c >= 0) --pos_;
    return c;
  }

 private:
  std::istream& in_;
  std::array<char, 64 * 1024> buffer_{};
  std::size_t pos_ = 0, len_ = 0;
};

// RFC 4180 CSV: fields separated by ',', records by CRLF or LF; a quoted field may hold
// commas, line breaks and doubled quotes. Not thread-safe; borrows `in`.
class CsvParser {
 public:
  CsvParser(std::istream& in, std::size_t max_record_bytes) : src_(in), max_record_bytes_(max_record_bytes) {}

  bool AtEnd() { return src_.Peek() < 0; }
  // The line the next record starts on (1-based).
  std::size_t NextLine() const { return line_no_ + 1; }

  // Reads one record into `fields`. When it is longer than the bound, reads to its end
  // without keeping it and sets `too_long`. kInvalidArgument for an unterminated quote (the
  // rest of the input cannot be read).
  Status ReadRecord(std::vector<std::string>& fields, bool& too_long) {
    fields.assign(1, std::string());
    std::size_t bytes = 0;
    const std::size_t start = line_no_ + 1;
    bool quoted = false, was_quoted = false;
    while (true) {
      int c = src_.Get();
      if (c < 0) {
        if (quoted) {
          return Error(ErrorCode::kInvalidArgument,
                       "the quoted field that starts in the record on line " + std::to_string(start) +
                           " is never closed; the rest of the file cannot be read");
        }
        ++line_no_;
        break;
      }
      if (quoted) {
        if (c == '"') {
          if (src_.Peek() == '"') {
            src_.Get();
          } else {
            quoted = false;
            continue;
          }
        }
        if (c == '\n') ++line_no_;
      } else if (c == '"' && fields.back().empty() && !was_quoted) {
        quoted = was_quoted = true;
        continue;
      } else if (c == ',') {
        fields.emplace_back();
        was_quoted = false;
        continue;
      } else if (c == '\n') {
        ++line_no_;
        if (!fields.back().empty() && fields.back().back() == '\r' && !was_quoted) fields.back().pop_back();
        break;
      } else if (c == '\r' && was_quoted) {
        continue;  // CR of a CRLF after a closing quote
      }
      if (too_long) continue;
      if (++bytes > max_record_bytes_) {
        too_long = true;
        fields.assign(1, std::string());
        fields.back().shrink_to_fit();
        continue;
      }
      fields.back().push_back(static_cast<char>(c));
    }
    return Status::Ok();
  }

 private:
  ByteSource src_;
  std::size_t max_record_bytes_;
  std::size_t line_no_ = 0;
};

}  // namespace caliper::ingest

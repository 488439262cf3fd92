#include "http/multipart_related.h"

#include <algorithm>
#include <cctype>

namespace caliper::http {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

Status Invalid(const std::string& message) { return Error(ErrorCode::kInvalidArgument, message); }

}  // namespace

Result<RelatedType> ParseRelatedContentType(std::string_view header) {
  const std::size_t semi = header.find(';');
  if (Lower(Trim(header.substr(0, semi))) != "multipart/related") {
    return Error(ErrorCode::kUnsupported, "send the instances as multipart/related; type=\"application/dicom\"");
  }
  RelatedType out;
  std::string_view rest = semi == std::string_view::npos ? std::string_view() : header.substr(semi + 1);
  while (!rest.empty()) {
    // name=value or name="quoted value" (no escapes inside quotes: boundaries have none)
    const std::size_t eq = rest.find('=');
    if (eq == std::string_view::npos) break;
    const std::string name = Lower(Trim(rest.substr(0, eq)));
    rest = rest.substr(eq + 1);
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    std::string value;
    if (!rest.empty() && rest.front() == '"') {
      const std::size_t close = rest.find('"', 1);
      if (close == std::string_view::npos) return Invalid("unterminated quoted parameter in Content-Type");
      value = rest.substr(1, close - 1);
      rest = rest.substr(close + 1);
      const std::size_t next = rest.find(';');
      rest = next == std::string_view::npos ? std::string_view() : rest.substr(next + 1);
    } else {
      const std::size_t next = rest.find(';');
      value = Trim(rest.substr(0, next));
      rest = next == std::string_view::npos ? std::string_view() : rest.substr(next + 1);
    }
    if (name == "boundary") out.boundary = value;
    if (name == "type") out.type = Lower(value);
  }
  if (out.boundary.empty() || out.boundary.size() > 70) {
    return Invalid("the multipart/related Content-Type needs a boundary of 1 to 70 characters");
  }
  return out;
}

Result<std::vector<RelatedPart>> ParseMultipartRelated(std::string_view body, const std::string& boundary,
                                                       const MultipartLimits& limits) {
  const std::string delimiter = "--" + boundary;
  // The first delimiter may start the body or follow a preamble (after CRLF).
  std::size_t pos;
  if (body.substr(0, delimiter.size()) == delimiter) {
    pos = delimiter.size();
  } else {
    const std::size_t at = body.find("\r\n" + delimiter);
    if (at == std::string_view::npos) return Invalid("the body has no multipart boundary '" + boundary + "'");
    pos = at + 2 + delimiter.size();
  }
  const std::string next_delimiter = "\r\n" + delimiter;
  std::vector<RelatedPart> parts;
  for (;;) {
    // After a delimiter: "--" closes, else optional whitespace and CRLF start a part.
    if (body.substr(pos, 2) == "--") return parts;
    while (pos < body.size() && (body[pos] == ' ' || body[pos] == '\t')) ++pos;
    if (body.substr(pos, 2) != "\r\n") return Invalid("a multipart boundary is not followed by CRLF");
    pos += 2;
    if (parts.size() == limits.max_parts) {
      return Invalid("more than " + std::to_string(limits.max_parts) + " parts in one request");
    }
    const std::size_t headers_end = body.find("\r\n\r\n", pos);
    const bool no_headers = body.substr(pos, 2) == "\r\n";
    if (!no_headers && (headers_end == std::string_view::npos || headers_end - pos > limits.max_header_bytes)) {
      return Invalid("part " + std::to_string(parts.size() + 1) + " has no complete header block");
    }
    RelatedPart part;
    const std::size_t content_start = no_headers ? pos + 2 : headers_end + 4;
    std::string_view headers = no_headers ? std::string_view() : body.substr(pos, headers_end - pos);
    while (!headers.empty()) {
      const std::size_t eol = headers.find("\r\n");
      const std::string_view line = headers.substr(0, eol);
      headers = eol == std::string_view::npos ? std::string_view() : headers.substr(eol + 2);
      const std::size_t colon = line.find(':');
      if (colon == std::string_view::npos) continue;
      if (Lower(Trim(line.substr(0, colon))) == "content-type") {
        const std::string_view value = line.substr(colon + 1);
        part.content_type = Lower(Trim(value.substr(0, value.find(';'))));
      }
    }
    const std::size_t end = body.find(next_delimiter, content_start);
    if (end == std::string_view::npos) {
      return Invalid("part " + std::to_string(parts.size() + 1) + " is not closed by the boundary");
    }
    part.body = body.substr(content_start, end - content_start);
    parts.push_back(part);
    pos = end + next_delimiter.size();
  }
}

}  // namespace caliper::http

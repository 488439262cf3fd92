#pragma once

// multipart/related bodies (RFC 2387), as DICOMweb STOW-RS sends instances (PS3.18 8.6.1.2:
// Content-Type: multipart/related; type="application/dicom"; boundary=...). Internal to http.
// Parsed by hand over the whole body the server already bounded by server.max_upload_bytes;
// parts are views into that body. Thread-safe (no state).

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "caliper/common/status.h"

namespace caliper::http {

struct RelatedPart {
  std::string content_type;  // the part's Content-Type, lower case, parameters dropped; "" when absent
  std::string_view body;     // into the parsed body
};

struct MultipartLimits {
  std::size_t max_parts = 10000;
  std::size_t max_header_bytes = 8192;  // of one part's header block
};

// The boundary and root type of a multipart/related Content-Type header ("type" may be
// absent: ""). kUnsupported for another media type; kInvalidArgument for a missing or malformed
// boundary (RFC 2046 5.1.1: 1..70 characters).
struct RelatedType {
  std::string boundary;
  std::string type;
};
Result<RelatedType> ParseRelatedContentType(std::string_view header);

// Splits `body` into its parts. Errors (kInvalidArgument, saying where): no opening boundary,
// a part without its header block end, a missing closing boundary, more than max_parts parts,
// a header block over max_header_bytes.
Result<std::vector<RelatedPart>> ParseMultipartRelated(std::string_view body, const std::string& boundary,
                                                       const MultipartLimits& limits = {});

}  // namespace caliper::http

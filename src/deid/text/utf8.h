#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "caliper/common/status.h"

namespace caliper::deid::text {

// Ok when `s` is well-formed UTF-8 (RFC 3629: no overlongs, no surrogates, <= U+10FFFF);
// otherwise kInvalidArgument naming the byte offset of the first bad sequence.
Status ValidateUtf8(std::string_view s);

// The offset of the first byte of `s` at or above 0x80; s.size() when there is none.
std::size_t FirstNonAscii(std::string_view s);

// Maps ascending byte offsets (each at a code point boundary of valid UTF-8 `s`) to code point
// offsets in one pass over `s`: each At() counts on from where the previous one stopped. Before
// the first non-ASCII byte (in most notes, the end) a byte offset is its code point offset,
// and At() counts nothing there.
class CodePointCursor {
 public:
  explicit CodePointCursor(std::string_view s) : s_(s), byte_(FirstNonAscii(s)), cp_(byte_) {}
  // The code point offset of byte `byte` (at most s.size()), which must not be below the
  // previous call's.
  std::size_t At(std::size_t byte);

 private:
  std::string_view s_;
  std::size_t byte_, cp_;  // counted up to byte_ (at first, the ASCII prefix)
};

// Decodes the code point at byte `i` of valid UTF-8 `s`; sets `len` to its byte length.
char32_t DecodeAt(std::string_view s, std::size_t i, std::size_t& len);

}  // namespace caliper::deid::text

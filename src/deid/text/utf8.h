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

// Maps sorted byte offsets (each at a code point boundary of valid UTF-8 `s`) to code point
// offsets, in one pass. `sorted_bytes` must be ascending.
std::vector<std::size_t> ByteToCodePoints(std::string_view s,
                                          const std::vector<std::size_t>& sorted_bytes);

// Decodes the code point at byte `i` of valid UTF-8 `s`; sets `len` to its byte length.
char32_t DecodeAt(std::string_view s, std::size_t i, std::size_t& len);

}  // namespace caliper::deid::text

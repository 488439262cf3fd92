#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace caliper::synth {

// Unicode code points in valid UTF-8 `s` (counts the bytes that do not continue a sequence).
inline std::size_t CountCodePoints(std::string_view s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

// The bytes of code points [start, end) of valid UTF-8 `s`; clamps to the end of `s`.
inline std::string SubstrCodePoints(std::string_view s, std::size_t start, std::size_t end) {
  std::size_t cp = 0;
  std::size_t begin_byte = s.size();
  std::size_t end_byte = s.size();
  for (std::size_t i = 0; i <= s.size(); ++i) {
    if (i < s.size() && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) continue;
    if (cp == start && begin_byte == s.size()) begin_byte = i;
    if (cp == end) {
      end_byte = i;
      break;
    }
    ++cp;
  }
  if (begin_byte > end_byte) return {};
  return std::string(s.substr(begin_byte, end_byte - begin_byte));
}

}  // namespace caliper::synth

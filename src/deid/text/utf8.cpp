#include "deid/text/utf8.h"

#include <algorithm>
#include <bit>
#include <string>

namespace caliper::deid::text {

Status ValidateUtf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  std::size_t i = 0;
  while (i < n) {
    // ASCII fast path, eight bytes at a time.
    while (i + 8 <= n) {
      std::uint64_t w;
      __builtin_memcpy(&w, p + i, 8);
      if (w & 0x8080808080808080ULL) break;
      i += 8;
    }
    if (i >= n) break;
    const unsigned char c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len = 0;
    unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;  // no overlongs
      if (c == 0xED) hi = 0x9F;  // no UTF-16 surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;  // <= U+10FFFF
    }
    bool ok = len != 0 && i + len <= n && p[i + 1] >= lo && p[i + 1] <= hi;
    for (std::size_t k = 2; ok && k < len; ++k) ok = (p[i + k] & 0xC0) == 0x80;
    if (!ok) {
      return Error(ErrorCode::kInvalidArgument,
                   "invalid UTF-8 at byte " + std::to_string(i));
    }
    i += len;
  }
  return Status::Ok();
}

std::size_t FirstNonAscii(std::string_view s) {
  std::size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {  // eight bytes at a time
    std::uint64_t w;
    __builtin_memcpy(&w, s.data() + i, 8);
    if (w & 0x8080808080808080ULL) break;
  }
  while (i < s.size() && static_cast<unsigned char>(s[i]) < 0x80) ++i;
  return i;
}

std::size_t CodePointCursor::At(std::size_t byte) {
  byte = std::min(byte, s_.size());
  if (byte < byte_) return byte;  // in the ASCII prefix, before the first count
  // Eight bytes at a time: every byte but a continuation byte (10xxxxxx) starts a code point.
  for (; byte_ + 8 <= byte; byte_ += 8) {
    std::uint64_t w;
    __builtin_memcpy(&w, s_.data() + byte_, 8);
    const std::uint64_t continuation = (w & ~(w << 1) & 0x8080808080808080ULL) >> 7;  // 0 or 1 per byte
    cp_ += 8 - ((continuation * 0x0101010101010101ULL) >> 56);  // the sum of the bytes
  }
  // The last 1-7 bytes from one load too, when eight bytes are there: the first `rest` bytes
  // are the low ones (a byte at a time took half of this function's instructions).
  static_assert(std::endian::native == std::endian::little);
  if (const std::size_t rest = byte - byte_; rest > 0 && byte_ + 8 <= s_.size()) {
    std::uint64_t w;
    __builtin_memcpy(&w, s_.data() + byte_, 8);
    const std::uint64_t continuation = ((w & ~(w << 1) & 0x8080808080808080ULL) >> 7) & (~0ULL >> (64 - 8 * rest));
    cp_ += rest - ((continuation * 0x0101010101010101ULL) >> 56);
    byte_ = byte;
  }
  for (; byte_ < byte; ++byte_) cp_ += (static_cast<unsigned char>(s_[byte_]) & 0xC0) != 0x80;
  return cp_;
}

char32_t DecodeAt(std::string_view s, std::size_t i, std::size_t& len) {
  const auto c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) {
    len = 1;
    return c;
  }
  len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
  char32_t cp = c & (0x7F >> len);
  for (std::size_t k = 1; k < len && i + k < s.size(); ++k) {
    cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
  }
  return cp;
}

}  // namespace caliper::deid::text

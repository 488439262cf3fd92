#pragma once

#include <cstdint>
#include <string_view>

// SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast short-input PRF", INDOCRYPT 2012), the
// keyed PRF from which surrogates and date offsets are derived. Without the 128-bit key the
// mapping from an identifier to its surrogate cannot be recomputed or inverted by guessing.
namespace caliper::deid::text {

class SipHash24 {
 public:
  SipHash24(std::uint64_t k0, std::uint64_t k1) : k0_(k0), k1_(k1) {}
  std::uint64_t operator()(std::string_view data) const {
    std::uint64_t v0 = 0x736f6d6570736575ULL ^ k0_, v1 = 0x646f72616e646f6dULL ^ k1_;
    std::uint64_t v2 = 0x6c7967656e657261ULL ^ k0_, v3 = 0x7465646279746573ULL ^ k1_;
    auto rotl = [](std::uint64_t x, int b) { return (x << b) | (x >> (64 - b)); };
    auto round = [&] {
      v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32);
      v2 += v3; v3 = rotl(v3, 16); v3 ^= v2;
      v0 += v3; v3 = rotl(v3, 21); v3 ^= v0;
      v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32);
    };
    const std::size_t n = data.size();
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) {
      std::uint64_t m = 0;
      for (int k = 7; k >= 0; --k) m = (m << 8) | static_cast<unsigned char>(data[i + k]);
      v3 ^= m;
      round();
      round();
      v0 ^= m;
    }
    std::uint64_t b = static_cast<std::uint64_t>(n) << 56;
    for (std::size_t k = 0; i + k < n; ++k) {
      b |= static_cast<std::uint64_t>(static_cast<unsigned char>(data[i + k])) << (8 * k);
    }
    v3 ^= b;
    round();
    round();
    v0 ^= b;
    v2 ^= 0xff;
    round();
    round();
    round();
    round();
    return v0 ^ v1 ^ v2 ^ v3;
  }

 private:
  std::uint64_t k0_, k1_;
};

}  // namespace caliper::deid::text

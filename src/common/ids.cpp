#include "caliper/common/ids.h"

#include <sys/random.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <mutex>

namespace caliper {
namespace {

constexpr std::string_view kCrockford = "0123456789abcdefghjkmnpqrstvwxyz";
constexpr std::size_t kIdChars = 26;  // ceil(128 / 5)

std::string Encode128(const std::array<unsigned char, 16>& bytes) {
  std::string out;
  out.reserve(kIdChars);
  unsigned buffer = 0;
  int bits = 0;
  for (unsigned char b : bytes) {
    buffer = (buffer << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out.push_back(kCrockford[(buffer >> (bits - 5)) & 31U]);
      bits -= 5;
    }
  }
  if (bits > 0) out.push_back(kCrockford[(buffer << (5 - bits)) & 31U]);
  return out;
}

}  // namespace

void SecureRandomBytes(unsigned char* out, std::size_t n) {
  std::size_t done = 0;
  while (done < n) {
    ssize_t got = getrandom(out + done, n - done, 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      std::fputs("caliper: the kernel could not supply random bytes\n", stderr);
      std::abort();
    }
    done += static_cast<std::size_t>(got);
  }
}

std::string RandomIdGenerator::NewId(std::string_view prefix) {
  std::array<unsigned char, 16> bytes{};
  SecureRandomBytes(bytes.data(), bytes.size());
  return std::string(prefix) + "_" + Encode128(bytes);
}

IdGenerator& RandomIdGenerator::Instance() {
  static RandomIdGenerator* generator = new RandomIdGenerator();  // stateless, never destroyed
  return *generator;
}

std::string SequentialIdGenerator::NewId(std::string_view prefix) {
  static std::mutex mu;
  std::lock_guard lock(mu);
  std::array<unsigned char, 16> bytes{};
  unsigned long long n = next_++;
  for (int i = 15; i >= 8; --i) {
    bytes[static_cast<std::size_t>(i)] = static_cast<unsigned char>(n & 0xFF);
    n >>= 8;
  }
  return std::string(prefix) + "_" + Encode128(bytes);
}

bool IsWellFormedId(std::string_view id) {
  auto sep = id.find('_');
  if (sep == std::string_view::npos || sep == 0 || sep > 8) return false;
  for (char c : id.substr(0, sep)) {
    if (c < 'a' || c > 'z') return false;
  }
  auto body = id.substr(sep + 1);
  if (body.size() != kIdChars) return false;
  for (char c : body) {
    if (kCrockford.find(c) == std::string_view::npos) return false;
  }
  return true;
}

}  // namespace caliper

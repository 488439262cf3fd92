#pragma once

#include <string>
#include <string_view>

namespace caliper {

// Makes opaque, unguessable resource ids: a short type prefix, '_', and 26 characters of
// Crockford base32 from 128 random bits ("prj_01hx..."). Ids carry no meaning and never
// embed patient data. Implementations are thread-safe.
class IdGenerator {
 public:
  virtual ~IdGenerator() = default;
  virtual std::string NewId(std::string_view prefix) = 0;
};

// Draws from the kernel's CSPRNG (getrandom).
class RandomIdGenerator final : public IdGenerator {
 public:
  std::string NewId(std::string_view prefix) override;
  static IdGenerator& Instance();
};

// Deterministic ids for tests: prefix_000...001, prefix_000...002, ...
class SequentialIdGenerator final : public IdGenerator {
 public:
  std::string NewId(std::string_view prefix) override;

 private:
  unsigned long long next_ = 1;
};

// True if `id` looks like something NewId could have produced (prefix_ + 26 base32 chars).
bool IsWellFormedId(std::string_view id);

// Fills `out` with `n` bytes from the kernel's CSPRNG. Aborts if the kernel cannot supply
// randomness (there is no safe way to go on).
void SecureRandomBytes(unsigned char* out, std::size_t n);

}  // namespace caliper

#pragma once

// The bridge to libsodium: the only place Caliper's code calls it. Every function is
// thread-safe once InitCrypto has succeeded.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "caliper/common/status.h"

namespace caliper::security {

using Bytes = std::vector<unsigned char>;
inline constexpr std::size_t kKeyBytes = 32;
using Key = std::array<unsigned char, kKeyBytes>;

// Initialises libsodium. Idempotent; kCryptoFailed if the library cannot start.
Status InitCrypto();

Bytes RandomBytes(std::size_t n);
Key RandomKey();
// `n` random bytes as lower-case hex (2n characters).
std::string RandomHex(std::size_t n);
// URL-safe base64 without padding of `n` random bytes: bearer secrets and CSRF tokens.
std::string RandomToken(std::size_t n = 32);

std::string ToHex(const unsigned char* data, std::size_t n);
inline std::string ToHex(const Bytes& b) { return ToHex(b.data(), b.size()); }
Result<Bytes> FromHex(std::string_view hex);

// SHA-256 as lower-case hex.
std::string Sha256Hex(std::string_view data);
// Compares in constant time (the lengths are not secret: different lengths -> false).
bool ConstantTimeEquals(std::string_view a, std::string_view b);
// Overwrites `n` bytes at `data` with zeros in a way the compiler cannot elide.
void SecureZero(void* data, std::size_t n);

// A key for one purpose derived from `key`: keyed BLAKE2b-256 of "caliper-subkey:<purpose>".
// Different purposes give independent keys, so one key never serves two algorithms.
Key DeriveSubkey(const Key& key, std::string_view purpose);

// Keyed BLAKE2b-256 of `message` (a PRF under `key`), e.g. the keyed hash that DICOM
// pseudonyms derive from (dicom::KeyedHash).
std::array<unsigned char, 32> KeyedBlake2b(const Key& key, std::string_view message);

// Keyed BLAKE2b-256 (libsodium generichash) fed incrementally, e.g. a blob's address.
// Thread-compatible: one hasher per thread.
class KeyedHasher {
 public:
  explicit KeyedHasher(const Key& key);
  ~KeyedHasher();
  KeyedHasher(const KeyedHasher&) = delete;
  KeyedHasher& operator=(const KeyedHasher&) = delete;
  void Update(const unsigned char* data, std::size_t n);
  void Update(std::string_view data) {
    Update(reinterpret_cast<const unsigned char*>(data.data()), data.size());
  }
  // The 32-byte digest as lower-case hex. Call once; the hasher is spent afterwards.
  std::string FinalHex();

 private:
  alignas(64) std::array<unsigned char, 384> state_{};  // crypto_generichash_state
};

// Argon2id. `cost` is interactive|moderate|sensitive (libsodium's opslimit/memlimit presets).
Result<std::string> HashPassword(std::string_view password, std::string_view cost);
// True when `password` matches `encoded`; false on mismatch or a malformed hash.
bool VerifyPassword(std::string_view password, const std::string& encoded);

// XChaCha20-Poly1305 (IETF) with a random 24-byte nonce prepended to the output. `ad` is
// authenticated, not encrypted. Open fails with kIntegrity on any change.
Bytes Seal(const Key& key, const Bytes& plaintext, std::string_view ad);
Result<Bytes> Open(const Key& key, const Bytes& sealed, std::string_view ad);
// Key wrapping is Seal/Open of the 32 key bytes under the wrapping key.
Bytes WrapKey(const Key& wrapping_key, const Key& key, std::string_view ad);
Result<Key> UnwrapKey(const Key& wrapping_key, const Bytes& wrapped, std::string_view ad);

// Ed25519.
struct SigningKeyPair {
  Bytes public_key;  // 32 bytes
  Bytes secret_key;  // 64 bytes (libsodium's seed+public form)
};
SigningKeyPair NewSigningKeyPair();
// The 64-byte detached signature; empty when `secret_key` is not 64 bytes.
Bytes Sign(const Bytes& secret_key, std::string_view message);
// False on a bad signature and on keys or signatures of the wrong size.
bool VerifySignature(const Bytes& public_key, std::string_view message, const Bytes& signature);

// Streaming XChaCha20-Poly1305 (libsodium secretstream), for blobs of any size. The stream
// is authenticated chunk by chunk and ends with a FINAL tag, so truncation is detected.
class StreamEncryptor {
 public:
  // Writes the stream header into `header_out`.
  StreamEncryptor(const Key& key, Bytes& header_out);
  ~StreamEncryptor();
  StreamEncryptor(const StreamEncryptor&) = delete;
  StreamEncryptor& operator=(const StreamEncryptor&) = delete;
  // Encrypts one chunk; `last` marks the final chunk. `ad` is authenticated with the chunk,
  // not encrypted (the reader must pass the same bytes).
  Bytes Push(const unsigned char* data, std::size_t n, bool last, std::string_view ad = {});

 private:
  std::array<unsigned char, 64> state_{};  // crypto_secretstream_xchacha20poly1305_state
};

class StreamDecryptor {
 public:
  StreamDecryptor() = default;
  ~StreamDecryptor();
  StreamDecryptor(const StreamDecryptor&) = delete;
  StreamDecryptor& operator=(const StreamDecryptor&) = delete;
  Status Init(const Key& key, const Bytes& header);
  // Decrypts one chunk (ciphertext includes the 17-byte overhead) into `out` (replaced).
  // kIntegrity on tamper, on a wrong `ad`, or when called before a successful Init.
  Status Pull(const unsigned char* data, std::size_t n, Bytes& out, bool& last,
              std::string_view ad = {});

 private:
  std::array<unsigned char, 64> state_{};
  bool ready_ = false;
};
inline constexpr std::size_t kStreamHeaderBytes = 24;
inline constexpr std::size_t kStreamOverheadBytes = 17;

}  // namespace caliper::security

#include "caliper/security/crypto.h"

#include <algorithm>
#include <string>

#include <sodium.h>

namespace caliper::security {
namespace {

using SecretStreamState = crypto_secretstream_xchacha20poly1305_state;
static_assert(sizeof(SecretStreamState) <= 64,
              "secretstream state must fit StreamEncryptor::state_");
static_assert(alignof(SecretStreamState) <= alignof(std::array<unsigned char, 64>));
static_assert(sizeof(crypto_generichash_state) <= 384,
              "generichash state must fit KeyedHasher::state_");
static_assert(alignof(crypto_generichash_state) <= 64);
static_assert(crypto_secretstream_xchacha20poly1305_HEADERBYTES == kStreamHeaderBytes);
static_assert(crypto_secretstream_xchacha20poly1305_ABYTES == kStreamOverheadBytes);
static_assert(crypto_aead_xchacha20poly1305_ietf_KEYBYTES == kKeyBytes);
static_assert(crypto_secretstream_xchacha20poly1305_KEYBYTES == kKeyBytes);
static_assert(crypto_generichash_KEYBYTES == kKeyBytes);

constexpr std::size_t kNonceBytes = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr std::size_t kTagBytes = crypto_aead_xchacha20poly1305_ietf_ABYTES;
constexpr std::size_t kDigestBytes = 32;

const unsigned char* U8(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

SecretStreamState* StreamState(std::array<unsigned char, 64>& raw) {
  return reinterpret_cast<SecretStreamState*>(raw.data());
}

crypto_generichash_state* HashState(std::array<unsigned char, 384>& raw) {
  return reinterpret_cast<crypto_generichash_state*>(raw.data());
}

bool IsHexDigit(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

}  // namespace

Status InitCrypto() {
  // sodium_init returns 0 on first success, 1 when already initialised, -1 on failure.
  if (sodium_init() < 0) return Error(ErrorCode::kCryptoFailed, "libsodium failed to initialise");
  return Status::Ok();
}

Bytes RandomBytes(std::size_t n) {
  Bytes out(n);
  if (n > 0) randombytes_buf(out.data(), n);
  return out;
}

Key RandomKey() {
  Key key;
  randombytes_buf(key.data(), key.size());
  return key;
}

std::string RandomHex(std::size_t n) {
  Bytes bytes = RandomBytes(n);
  return ToHex(bytes);
}

std::string RandomToken(std::size_t n) {
  Bytes bytes = RandomBytes(n);
  const int variant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
  std::string out(sodium_base64_ENCODED_LEN(n, variant), '\0');
  sodium_bin2base64(out.data(), out.size(), bytes.data(), bytes.size(), variant);
  out.resize(out.size() - 1);  // drop the terminating NUL counted by ENCODED_LEN
  return out;
}

std::string ToHex(const unsigned char* data, std::size_t n) {
  std::string out(n * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), data, n);
  out.resize(n * 2);
  return out;
}

Result<Bytes> FromHex(std::string_view hex) {
  if (hex.size() % 2 != 0) {
    return Error(ErrorCode::kInvalidArgument, "hex text has an odd number of digits");
  }
  for (char c : hex) {
    if (!IsHexDigit(c))
      return Error(ErrorCode::kInvalidArgument, "hex text holds a non-hex character");
  }
  Bytes out(hex.size() / 2);
  std::size_t written = 0;
  if (sodium_hex2bin(out.data(), out.size(), hex.data(), hex.size(), nullptr, &written, nullptr) !=
          0 ||
      written != out.size()) {
    return Error(ErrorCode::kInvalidArgument, "hex text could not be decoded");
  }
  return out;
}

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, U8(data), data.size());
  return ToHex(digest, sizeof digest);
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

void SecureZero(void* data, std::size_t n) { sodium_memzero(data, n); }

Key DeriveSubkey(const Key& key, std::string_view purpose) {
  const std::string input = "caliper-subkey:" + std::string(purpose);
  Key out;
  crypto_generichash(out.data(), out.size(), U8(input), input.size(), key.data(), key.size());
  return out;
}

std::array<unsigned char, 32> KeyedBlake2b(const Key& key, std::string_view message) {
  std::array<unsigned char, 32> out;
  crypto_generichash(out.data(), out.size(), U8(message), message.size(), key.data(), key.size());
  return out;
}

KeyedHasher::KeyedHasher(const Key& key) {
  crypto_generichash_init(HashState(state_), key.data(), key.size(), kDigestBytes);
}

KeyedHasher::~KeyedHasher() { sodium_memzero(state_.data(), state_.size()); }

void KeyedHasher::Update(const unsigned char* data, std::size_t n) {
  crypto_generichash_update(HashState(state_), data, n);
}

std::string KeyedHasher::FinalHex() {
  unsigned char digest[kDigestBytes];
  crypto_generichash_final(HashState(state_), digest, sizeof digest);
  return ToHex(digest, sizeof digest);
}

Result<std::string> HashPassword(std::string_view password, std::string_view cost) {
  unsigned long long ops = 0;
  std::size_t mem = 0;
  if (cost == "interactive") {
    ops = crypto_pwhash_OPSLIMIT_INTERACTIVE;
    mem = crypto_pwhash_MEMLIMIT_INTERACTIVE;
  } else if (cost == "moderate") {
    ops = crypto_pwhash_OPSLIMIT_MODERATE;
    mem = crypto_pwhash_MEMLIMIT_MODERATE;
  } else if (cost == "sensitive") {
    ops = crypto_pwhash_OPSLIMIT_SENSITIVE;
    mem = crypto_pwhash_MEMLIMIT_SENSITIVE;
  } else {
    return Error(ErrorCode::kInvalidArgument,
                 "password hash cost must be interactive, moderate or sensitive, not '" +
                     std::string(cost) + "'");
  }
  char encoded[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(encoded, password.data(), password.size(), ops, mem,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return Error(ErrorCode::kCryptoFailed, "Argon2id hashing failed (out of memory?)");
  }
  return std::string(encoded);
}

bool VerifyPassword(std::string_view password, const std::string& encoded) {
  // libsodium reads a NUL-terminated string of at most STRBYTES - 1 characters.
  if (encoded.empty() || encoded.size() >= crypto_pwhash_STRBYTES) return false;
  return crypto_pwhash_str_verify(encoded.c_str(), password.data(), password.size()) == 0;
}

Bytes Seal(const Key& key, const Bytes& plaintext, std::string_view ad) {
  Bytes out(kNonceBytes + plaintext.size() + kTagBytes);
  randombytes_buf(out.data(), kNonceBytes);
  unsigned long long written = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(out.data() + kNonceBytes, &written, plaintext.data(),
                                             plaintext.size(), U8(ad), ad.size(), nullptr,
                                             out.data(), key.data());
  out.resize(kNonceBytes + written);
  return out;
}

Result<Bytes> Open(const Key& key, const Bytes& sealed, std::string_view ad) {
  if (sealed.size() < kNonceBytes + kTagBytes) {
    return Error(ErrorCode::kIntegrity, "sealed data is too short");
  }
  Bytes out(sealed.size() - kNonceBytes - kTagBytes);
  unsigned long long written = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          out.data(), &written, nullptr, sealed.data() + kNonceBytes, sealed.size() - kNonceBytes,
          U8(ad), ad.size(), sealed.data(), key.data()) != 0) {
    sodium_memzero(out.data(), out.size());
    return Error(ErrorCode::kIntegrity, "sealed data failed authentication (wrong key or changed)");
  }
  out.resize(written);
  return out;
}

Bytes WrapKey(const Key& wrapping_key, const Key& key, std::string_view ad) {
  Bytes plain(key.begin(), key.end());
  Bytes sealed = Seal(wrapping_key, plain, ad);
  sodium_memzero(plain.data(), plain.size());
  return sealed;
}

Result<Key> UnwrapKey(const Key& wrapping_key, const Bytes& wrapped, std::string_view ad) {
  Result<Bytes> plain = Open(wrapping_key, wrapped, ad);
  if (!plain.ok()) return plain.status();
  if (plain->size() != kKeyBytes) {
    sodium_memzero(plain->data(), plain->size());
    return Error(ErrorCode::kIntegrity, "wrapped key has the wrong length");
  }
  Key key;
  std::copy(plain->begin(), plain->end(), key.begin());
  sodium_memzero(plain->data(), plain->size());
  return key;
}

SigningKeyPair NewSigningKeyPair() {
  SigningKeyPair pair;
  pair.public_key.resize(crypto_sign_PUBLICKEYBYTES);
  pair.secret_key.resize(crypto_sign_SECRETKEYBYTES);
  crypto_sign_keypair(pair.public_key.data(), pair.secret_key.data());
  return pair;
}

Bytes Sign(const Bytes& secret_key, std::string_view message) {
  if (secret_key.size() != crypto_sign_SECRETKEYBYTES) return {};
  Bytes signature(crypto_sign_BYTES);
  crypto_sign_detached(signature.data(), nullptr, U8(message), message.size(), secret_key.data());
  return signature;
}

bool VerifySignature(const Bytes& public_key, std::string_view message, const Bytes& signature) {
  if (public_key.size() != crypto_sign_PUBLICKEYBYTES || signature.size() != crypto_sign_BYTES) {
    return false;
  }
  return crypto_sign_verify_detached(signature.data(), U8(message), message.size(),
                                     public_key.data()) == 0;
}

StreamEncryptor::StreamEncryptor(const Key& key, Bytes& header_out) {
  header_out.resize(kStreamHeaderBytes);
  crypto_secretstream_xchacha20poly1305_init_push(StreamState(state_), header_out.data(),
                                                  key.data());
}

StreamEncryptor::~StreamEncryptor() { sodium_memzero(state_.data(), state_.size()); }

Bytes StreamEncryptor::Push(const unsigned char* data, std::size_t n, bool last,
                            std::string_view ad) {
  Bytes out(n + kStreamOverheadBytes);
  const unsigned char tag = last ? crypto_secretstream_xchacha20poly1305_TAG_FINAL
                                 : crypto_secretstream_xchacha20poly1305_TAG_MESSAGE;
  unsigned long long written = 0;
  crypto_secretstream_xchacha20poly1305_push(StreamState(state_), out.data(), &written, data, n,
                                             U8(ad), ad.size(), tag);
  out.resize(written);
  return out;
}

StreamDecryptor::~StreamDecryptor() { sodium_memzero(state_.data(), state_.size()); }

Status StreamDecryptor::Init(const Key& key, const Bytes& header) {
  ready_ = false;
  if (header.size() != kStreamHeaderBytes ||
      crypto_secretstream_xchacha20poly1305_init_pull(StreamState(state_), header.data(),
                                                      key.data()) != 0) {
    return Error(ErrorCode::kIntegrity, "stream header is invalid");
  }
  ready_ = true;
  return Status::Ok();
}

Status StreamDecryptor::Pull(const unsigned char* data, std::size_t n, Bytes& out, bool& last,
                             std::string_view ad) {
  last = false;
  out.clear();
  if (!ready_) return Error(ErrorCode::kIntegrity, "stream decryptor used without a valid header");
  if (n < kStreamOverheadBytes) return Error(ErrorCode::kIntegrity, "stream chunk is too short");
  out.resize(n - kStreamOverheadBytes);
  unsigned long long written = 0;
  unsigned char tag = 0;
  if (crypto_secretstream_xchacha20poly1305_pull(StreamState(state_), out.data(), &written, &tag,
                                                 data, n, U8(ad), ad.size()) != 0) {
    out.clear();
    return Error(ErrorCode::kIntegrity,
                 "stream chunk failed authentication (wrong key or changed)");
  }
  out.resize(written);
  last = tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL;
  return Status::Ok();
}

}  // namespace caliper::security

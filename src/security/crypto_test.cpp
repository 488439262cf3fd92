#include "caliper/security/crypto.h"

#include <set>
#include <string>

#include <gtest/gtest.h>

namespace caliper::security {
namespace {

class CryptoTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { ASSERT_TRUE(InitCrypto().ok()); }
};

Bytes B(std::string_view s) { return Bytes(s.begin(), s.end()); }

TEST_F(CryptoTest, InitIsIdempotent) {
  EXPECT_TRUE(InitCrypto().ok());
  EXPECT_TRUE(InitCrypto().ok());
}

TEST_F(CryptoTest, RandomValuesHaveTheRightShapeAndDiffer) {
  EXPECT_EQ(RandomBytes(0).size(), 0u);
  EXPECT_EQ(RandomBytes(33).size(), 33u);
  EXPECT_NE(RandomKey(), RandomKey());
  const std::string hex = RandomHex(16);
  EXPECT_EQ(hex.size(), 32u);
  EXPECT_EQ(hex.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_NE(RandomHex(16), RandomHex(16));
}

TEST_F(CryptoTest, RandomTokenIsUrlSafeBase64WithoutPadding) {
  const std::string token = RandomToken();
  EXPECT_EQ(token.size(), 43u);  // ceil(32 * 4 / 3)
  EXPECT_EQ(
      token.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
      std::string::npos);
  EXPECT_EQ(RandomToken(3).size(), 4u);
  EXPECT_EQ(RandomToken(1).size(), 2u);
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) seen.insert(RandomToken(16));
  EXPECT_EQ(seen.size(), 100u);
}

TEST_F(CryptoTest, HexRoundTrips) {
  const Bytes data = {0x00, 0x01, 0xab, 0xff, 0x7f};
  EXPECT_EQ(ToHex(data), "0001abff7f");
  EXPECT_EQ(ToHex(Bytes{}), "");
  Result<Bytes> back = FromHex("0001abff7f");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, data);
  Result<Bytes> upper = FromHex("ABFF");
  ASSERT_TRUE(upper.ok());
  EXPECT_EQ(*upper, (Bytes{0xab, 0xff}));
  Result<Bytes> empty = FromHex("");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

TEST_F(CryptoTest, FromHexRejectsMalformedText) {
  for (std::string_view bad : {"0", "abc", "zz", "00 11", "0x00", "12\n"}) {
    Result<Bytes> r = FromHex(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument) << bad;
  }
}

TEST_F(CryptoTest, Sha256MatchesKnownVectors) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_F(CryptoTest, ConstantTimeEquals) {
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_TRUE(ConstantTimeEquals("secret", "secret"));
  EXPECT_FALSE(ConstantTimeEquals("secret", "secreT"));
  EXPECT_FALSE(ConstantTimeEquals("secret", "secret2"));
  EXPECT_FALSE(ConstantTimeEquals("", "x"));
}

TEST_F(CryptoTest, SecureZeroClears) {
  Bytes data = B("sensitive");
  SecureZero(data.data(), data.size());
  EXPECT_EQ(data, Bytes(9, 0));
}

TEST_F(CryptoTest, Argon2idHashVerifiesAndRejectsMismatch) {
  Result<std::string> hash = HashPassword("correct horse battery staple", "interactive");
  ASSERT_TRUE(hash.ok()) << hash.status().ToString();
  EXPECT_EQ(hash->rfind("$argon2id$", 0), 0u) << *hash;
  EXPECT_TRUE(VerifyPassword("correct horse battery staple", *hash));
  EXPECT_FALSE(VerifyPassword("correct horse battery stapl", *hash));
  EXPECT_FALSE(VerifyPassword("", *hash));
  // Salted: the same password hashes differently each time.
  Result<std::string> again = HashPassword("correct horse battery staple", "interactive");
  ASSERT_TRUE(again.ok());
  EXPECT_NE(*hash, *again);
  EXPECT_TRUE(VerifyPassword("correct horse battery staple", *again));
}

TEST_F(CryptoTest, Argon2idModerateCostIsStronger) {
  Result<std::string> interactive = HashPassword("pw", "interactive");
  Result<std::string> moderate = HashPassword("pw", "moderate");
  ASSERT_TRUE(interactive.ok());
  ASSERT_TRUE(moderate.ok());
  EXPECT_NE(interactive->substr(0, 30), moderate->substr(0, 30));  // m=...,t=... differ
  EXPECT_TRUE(VerifyPassword("pw", *moderate));
}

TEST_F(CryptoTest, Argon2idRejectsUnknownCost) {
  Result<std::string> hash = HashPassword("pw", "extreme");
  ASSERT_FALSE(hash.ok());
  EXPECT_EQ(hash.status().code(), ErrorCode::kInvalidArgument);
}

TEST_F(CryptoTest, VerifyPasswordIsFalseForMalformedHashes) {
  EXPECT_FALSE(VerifyPassword("pw", ""));
  EXPECT_FALSE(VerifyPassword("pw", "not a hash"));
  EXPECT_FALSE(VerifyPassword("pw", "$argon2id$v=19$m=65536,t=2,p=1$garbage"));
  EXPECT_FALSE(VerifyPassword("pw", std::string(500, 'a')));
}

TEST_F(CryptoTest, SealOpenRoundTrips) {
  const Key key = RandomKey();
  for (const Bytes& plain : {Bytes{}, B("x"), B("hello world"), RandomBytes(100000)}) {
    const Bytes sealed = Seal(key, plain, "ad");
    EXPECT_EQ(sealed.size(), plain.size() + 24 + 16);
    Result<Bytes> opened = Open(key, sealed, "ad");
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    EXPECT_EQ(*opened, plain);
  }
}

TEST_F(CryptoTest, SealUsesAFreshNonce) {
  const Key key = RandomKey();
  EXPECT_NE(Seal(key, B("same"), ""), Seal(key, B("same"), ""));
}

TEST_F(CryptoTest, OpenDetectsEveryFlippedByte) {
  const Key key = RandomKey();
  const Bytes sealed = Seal(key, B("the patient's label"), "ad");
  for (std::size_t i = 0; i < sealed.size(); ++i) {
    Bytes tampered = sealed;
    tampered[i] ^= 0x01;
    Result<Bytes> r = Open(key, tampered, "ad");
    ASSERT_FALSE(r.ok()) << "byte " << i;
    EXPECT_EQ(r.status().code(), ErrorCode::kIntegrity);
  }
}

TEST_F(CryptoTest, OpenFailsWithWrongKeyAdOrLength) {
  const Key key = RandomKey();
  const Bytes sealed = Seal(key, B("data"), "ad");
  EXPECT_EQ(Open(RandomKey(), sealed, "ad").status().code(), ErrorCode::kIntegrity);
  EXPECT_EQ(Open(key, sealed, "ad2").status().code(), ErrorCode::kIntegrity);
  EXPECT_EQ(Open(key, sealed, "").status().code(), ErrorCode::kIntegrity);
  Bytes truncated(sealed.begin(), sealed.end() - 1);
  EXPECT_EQ(Open(key, truncated, "ad").status().code(), ErrorCode::kIntegrity);
  EXPECT_EQ(Open(key, Bytes(10, 0), "ad").status().code(), ErrorCode::kIntegrity);
  EXPECT_EQ(Open(key, Bytes{}, "ad").status().code(), ErrorCode::kIntegrity);
}

TEST_F(CryptoTest, WrapUnwrapKey) {
  const Key wrapping = RandomKey();
  const Key key = RandomKey();
  const Bytes wrapped = WrapKey(wrapping, key, "caliper-data-key:dk_1");
  EXPECT_EQ(wrapped.size(), 32u + 24 + 16);
  Result<Key> back = UnwrapKey(wrapping, wrapped, "caliper-data-key:dk_1");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, key);
  EXPECT_EQ(UnwrapKey(wrapping, wrapped, "caliper-data-key:dk_2").status().code(),
            ErrorCode::kIntegrity);
  EXPECT_EQ(UnwrapKey(RandomKey(), wrapped, "caliper-data-key:dk_1").status().code(),
            ErrorCode::kIntegrity);
  // A sealed value of the wrong length is not a key.
  const Bytes not_a_key = Seal(wrapping, B("short"), "ad");
  EXPECT_EQ(UnwrapKey(wrapping, not_a_key, "ad").status().code(), ErrorCode::kIntegrity);
}

TEST_F(CryptoTest, Ed25519SignsAndVerifies) {
  const SigningKeyPair pair = NewSigningKeyPair();
  EXPECT_EQ(pair.public_key.size(), 32u);
  EXPECT_EQ(pair.secret_key.size(), 64u);
  const Bytes sig = Sign(pair.secret_key, "caliper-audit-checkpoint\n5\nabc");
  EXPECT_EQ(sig.size(), 64u);
  EXPECT_TRUE(VerifySignature(pair.public_key, "caliper-audit-checkpoint\n5\nabc", sig));
  EXPECT_FALSE(VerifySignature(pair.public_key, "caliper-audit-checkpoint\n6\nabc", sig));
  Bytes bad = sig;
  bad[10] ^= 0x40;
  EXPECT_FALSE(VerifySignature(pair.public_key, "caliper-audit-checkpoint\n5\nabc", bad));
  EXPECT_FALSE(
      VerifySignature(NewSigningKeyPair().public_key, "caliper-audit-checkpoint\n5\nabc", sig));
}

TEST_F(CryptoTest, Ed25519RejectsWrongSizes) {
  const SigningKeyPair pair = NewSigningKeyPair();
  EXPECT_TRUE(Sign(Bytes(10, 1), "m").empty());
  const Bytes sig = Sign(pair.secret_key, "m");
  EXPECT_FALSE(VerifySignature(Bytes(31, 0), "m", sig));
  EXPECT_FALSE(VerifySignature(pair.public_key, "m", Bytes(sig.begin(), sig.end() - 1)));
  EXPECT_FALSE(VerifySignature(pair.public_key, "m", Bytes{}));
}

TEST_F(CryptoTest, DeriveSubkeyIsDeterministicAndSeparatesPurposes) {
  const Key key = RandomKey();
  EXPECT_EQ(DeriveSubkey(key, "blob-address"), DeriveSubkey(key, "blob-address"));
  EXPECT_NE(DeriveSubkey(key, "blob-address"), DeriveSubkey(key, "other"));
  EXPECT_NE(DeriveSubkey(key, "blob-address"), DeriveSubkey(RandomKey(), "blob-address"));
  EXPECT_NE(DeriveSubkey(key, "blob-address"), key);
}

TEST_F(CryptoTest, KeyedBlake2bEqualsTheIncrementalHasherAndIsKeyed) {
  const Key key = RandomKey();
  KeyedHasher hasher(key);
  hasher.Update("2.25.1234");
  const auto digest = KeyedBlake2b(key, "2.25.1234");
  EXPECT_EQ(ToHex(digest.data(), digest.size()), hasher.FinalHex());
  EXPECT_NE(KeyedBlake2b(key, "2.25.1234"), KeyedBlake2b(RandomKey(), "2.25.1234"));
  EXPECT_NE(KeyedBlake2b(key, "2.25.1234"), KeyedBlake2b(key, "2.25.1235"));
}

TEST_F(CryptoTest, KeyedHasherIsIncrementalAndKeyed) {
  const Key key = RandomKey();
  KeyedHasher whole(key);
  whole.Update("hello world");
  KeyedHasher pieces(key);
  pieces.Update("hello");
  pieces.Update("");
  pieces.Update(" world");
  const std::string digest = whole.FinalHex();
  EXPECT_EQ(digest.size(), 64u);
  EXPECT_EQ(digest, pieces.FinalHex());
  KeyedHasher other_key(RandomKey());
  other_key.Update("hello world");
  EXPECT_NE(digest, other_key.FinalHex());
  KeyedHasher other_data(key);
  other_data.Update("hello world!");
  EXPECT_NE(digest, other_data.FinalHex());
}

TEST_F(CryptoTest, KeyedHasherMatchesBlake2bVector) {
  // BLAKE2b-256 keyed with bytes 00..1f (values from Python's hashlib.blake2b).
  Key key;
  for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<unsigned char>(i);
  KeyedHasher empty(key);
  EXPECT_EQ(empty.FinalHex(), "4e51e7a913fc80137da52880fecca175bf81e117d5c68126dc2774033517ea0d");
  KeyedHasher hello(key);
  hello.Update("hello world");
  EXPECT_EQ(hello.FinalHex(), "e284e5ae9e9ee34777499c886c42fce0466a813b7e278dc806db57bcfe2255f1");
}

// Encrypts `chunks` with a StreamEncryptor, the last one FINAL.
std::vector<Bytes> EncryptChunks(const Key& key, const std::vector<Bytes>& chunks, Bytes& header,
                                 std::string_view first_ad = {}) {
  StreamEncryptor enc(key, header);
  std::vector<Bytes> out;
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    out.push_back(enc.Push(chunks[i].data(), chunks[i].size(), i + 1 == chunks.size(),
                           i == 0 ? first_ad : std::string_view()));
  }
  return out;
}

TEST_F(CryptoTest, StreamRoundTripsMultipleChunks) {
  const Key key = RandomKey();
  const std::vector<Bytes> chunks = {RandomBytes(65536), RandomBytes(65536), B(""), RandomBytes(7)};
  Bytes header;
  const std::vector<Bytes> sealed = EncryptChunks(key, chunks, header, "hdr");
  ASSERT_EQ(header.size(), kStreamHeaderBytes);
  StreamDecryptor dec;
  ASSERT_TRUE(dec.Init(key, header).ok());
  for (std::size_t i = 0; i < sealed.size(); ++i) {
    EXPECT_EQ(sealed[i].size(), chunks[i].size() + kStreamOverheadBytes);
    Bytes plain;
    bool last = true;
    ASSERT_TRUE(dec.Pull(sealed[i].data(), sealed[i].size(), plain, last,
                         i == 0 ? "hdr" : std::string_view())
                    .ok())
        << "chunk " << i;
    EXPECT_EQ(plain, chunks[i]);
    EXPECT_EQ(last, i + 1 == sealed.size());
  }
}

TEST_F(CryptoTest, StreamDetectsTamperReorderWrongAdAndWrongKey) {
  const Key key = RandomKey();
  Bytes header;
  const std::vector<Bytes> sealed =
      EncryptChunks(key, {B("one"), B("two"), B("three")}, header, "hdr");
  Bytes plain;
  bool last = false;
  {
    StreamDecryptor dec;
    ASSERT_TRUE(dec.Init(key, header).ok());
    Bytes tampered = sealed[0];
    tampered[5] ^= 1;
    EXPECT_EQ(dec.Pull(tampered.data(), tampered.size(), plain, last, "hdr").code(),
              ErrorCode::kIntegrity);
    EXPECT_TRUE(plain.empty());
  }
  {
    StreamDecryptor dec;
    ASSERT_TRUE(dec.Init(key, header).ok());
    EXPECT_EQ(dec.Pull(sealed[0].data(), sealed[0].size(), plain, last, "other").code(),
              ErrorCode::kIntegrity);
  }
  {
    StreamDecryptor dec;  // skipping a chunk breaks the chain
    ASSERT_TRUE(dec.Init(key, header).ok());
    ASSERT_TRUE(dec.Pull(sealed[0].data(), sealed[0].size(), plain, last, "hdr").ok());
    EXPECT_EQ(dec.Pull(sealed[2].data(), sealed[2].size(), plain, last).code(),
              ErrorCode::kIntegrity);
  }
  {
    StreamDecryptor dec;
    ASSERT_TRUE(dec.Init(RandomKey(), header).ok());
    EXPECT_EQ(dec.Pull(sealed[0].data(), sealed[0].size(), plain, last, "hdr").code(),
              ErrorCode::kIntegrity);
  }
  {
    StreamDecryptor dec;
    EXPECT_FALSE(dec.Init(key, Bytes(5, 0)).ok());
    EXPECT_EQ(dec.Pull(sealed[0].data(), sealed[0].size(), plain, last, "hdr").code(),
              ErrorCode::kIntegrity);
    EXPECT_EQ(dec.Pull(sealed[0].data(), 3, plain, last, "hdr").code(), ErrorCode::kIntegrity);
  }
}

TEST_F(CryptoTest, StreamMarksOnlyTheFinalChunk) {
  const Key key = RandomKey();
  Bytes header;
  const std::vector<Bytes> sealed = EncryptChunks(key, {B("a"), B("b")}, header);
  StreamDecryptor dec;
  ASSERT_TRUE(dec.Init(key, header).ok());
  Bytes plain;
  bool last = true;
  ASSERT_TRUE(dec.Pull(sealed[0].data(), sealed[0].size(), plain, last).ok());
  EXPECT_FALSE(last);  // a stream cut here is recognisably incomplete
  ASSERT_TRUE(dec.Pull(sealed[1].data(), sealed[1].size(), plain, last).ok());
  EXPECT_TRUE(last);
}

}  // namespace
}  // namespace caliper::security

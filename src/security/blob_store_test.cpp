#include "caliper/security/blob_store.h"

#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace caliper::security {
namespace {

namespace fs = std::filesystem;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void WriteFile(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << data;
}

std::string RandomText(std::size_t n) {
  const Bytes b = RandomBytes(n);
  return std::string(b.begin(), b.end());
}

class BlobStoreTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { ASSERT_TRUE(InitCrypto().ok()); }
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "caliper-blob-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    store_ = std::make_unique<FileBlobStore>(dir_ + "/blobs");
  }
  void TearDown() override { fs::remove_all(dir_); }

  BlobStore::PutResult MustPut(const std::string& data, const std::string& key_id = "dk_1") {
    std::istringstream in(data);
    Result<BlobStore::PutResult> r = store_->Put(key_, key_id, in);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : BlobStore::PutResult{};
  }

  // Expects Get to fail with kIntegrity and to write nothing.
  void ExpectIntegrityFailure(const std::string& address, const std::string& what) {
    std::ostringstream out;
    Status s = store_->Get(key_, address, out);
    EXPECT_EQ(s.code(), ErrorCode::kIntegrity) << what << ": " << s.ToString();
    EXPECT_NE(s.message().find("blob " + address + " failed its integrity check"),
              std::string::npos)
        << what << ": " << s.message();
    EXPECT_TRUE(out.str().empty()) << what << ": wrote " << out.str().size() << " bytes";
  }

  std::string dir_;
  Key key_ = RandomKey();
  std::unique_ptr<FileBlobStore> store_;
};

TEST_F(BlobStoreTest, RoundTripsSizesAroundTheChunkBoundary) {
  for (std::size_t size : {std::size_t{0}, std::size_t{1}, std::size_t{65535}, std::size_t{65536},
                           std::size_t{65537}, std::size_t{200 * 1024}}) {
    const std::string data = RandomText(size);
    const BlobStore::PutResult put = MustPut(data);
    EXPECT_EQ(put.bytes, static_cast<std::int64_t>(size));
    ASSERT_EQ(put.address.size(), 64u);
    EXPECT_EQ(put.address.find_first_not_of("0123456789abcdef"), std::string::npos);
    std::ostringstream out;
    Status s = store_->Get(key_, put.address, out);
    ASSERT_TRUE(s.ok()) << size << ": " << s.ToString();
    EXPECT_EQ(out.str(), data) << size;
  }
}

TEST_F(BlobStoreTest, FileLayoutAndChunkCount) {
  const BlobStore::PutResult empty = MustPut("");
  const std::string file = ReadFile(store_->PathOf(empty.address));
  // magic 6 + u16 2 + "dk_1" 4 + header 24 + one FINAL chunk (u32 4 + 17).
  EXPECT_EQ(file.size(), 6u + 2 + 4 + 24 + 4 + 17);
  EXPECT_EQ(file.substr(0, 6), "CALB1\n");
  EXPECT_EQ(file.substr(8, 4), "dk_1");

  const BlobStore::PutResult exact = MustPut(RandomText(65536));
  EXPECT_EQ(ReadFile(store_->PathOf(exact.address)).size(), 36u + 4 + 65536 + 17);
  const BlobStore::PutResult big = MustPut(RandomText(200 * 1024));
  EXPECT_EQ(ReadFile(store_->PathOf(big.address)).size(), 36u + 4 * (4 + 17) + 200 * 1024);
}

TEST_F(BlobStoreTest, PlaintextDoesNotAppearInTheFile) {
  const std::string data(100000, 'A');
  const BlobStore::PutResult put = MustPut(data);
  EXPECT_EQ(ReadFile(store_->PathOf(put.address)).find(std::string(64, 'A')), std::string::npos);
}

TEST_F(BlobStoreTest, PathIsShardedAndTempDirIsLeftEmpty) {
  const BlobStore::PutResult put = MustPut("content");
  EXPECT_EQ(store_->PathOf(put.address),
            dir_ + "/blobs/" + put.address.substr(0, 2) + "/" + put.address.substr(2));
  EXPECT_TRUE(fs::is_regular_file(store_->PathOf(put.address)));
  EXPECT_TRUE(fs::is_empty(dir_ + "/blobs/tmp"));
}

TEST_F(BlobStoreTest, EqualContentUnderOneKeyIsStoredOnce) {
  const std::string data = RandomText(70000);
  const BlobStore::PutResult a = MustPut(data);
  const std::string first_file = ReadFile(store_->PathOf(a.address));
  const BlobStore::PutResult b = MustPut(data);
  EXPECT_EQ(a.address, b.address);
  EXPECT_EQ(ReadFile(store_->PathOf(a.address)), first_file);  // the first copy was kept
  EXPECT_TRUE(fs::is_empty(dir_ + "/blobs/tmp"));
  std::size_t files = 0;
  for (const auto& entry : fs::recursive_directory_iterator(dir_ + "/blobs")) {
    if (entry.is_regular_file()) ++files;
  }
  EXPECT_EQ(files, 1u);
}

TEST_F(BlobStoreTest, AddressesDifferAcrossKeysAndContent) {
  const BlobStore::PutResult a = MustPut("same content");
  const BlobStore::PutResult other_content = MustPut("same content!");
  key_ = RandomKey();
  const BlobStore::PutResult other_key = MustPut("same content");
  EXPECT_NE(a.address, other_content.address);
  EXPECT_NE(a.address, other_key.address);
}

TEST_F(BlobStoreTest, KeyIdOfReadsTheHeader) {
  const BlobStore::PutResult put = MustPut("x", "dk_0123456789abcdef0123456789abcdef");
  Result<std::string> id = store_->KeyIdOf(put.address);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(*id, "dk_0123456789abcdef0123456789abcdef");
}

TEST_F(BlobStoreTest, MissingAndMalformedAddresses) {
  const std::string absent(64, 'a');
  std::ostringstream out;
  EXPECT_EQ(store_->Get(key_, absent, out).code(), ErrorCode::kNotFound);
  EXPECT_EQ(store_->KeyIdOf(absent).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(store_->Remove(absent).code(), ErrorCode::kNotFound);
  for (const std::string& bad : std::vector<std::string>{
           "", "abc", "../../etc/passwd", std::string(64, 'A'), std::string(63, 'a') + "/"}) {
    EXPECT_EQ(store_->Get(key_, bad, out).code(), ErrorCode::kInvalidArgument) << bad;
    EXPECT_EQ(store_->KeyIdOf(bad).status().code(), ErrorCode::kInvalidArgument) << bad;
    EXPECT_EQ(store_->Remove(bad).code(), ErrorCode::kInvalidArgument) << bad;
  }
}

TEST_F(BlobStoreTest, PutRejectsBadKeyIds) {
  std::istringstream in("x");
  EXPECT_EQ(store_->Put(key_, "", in).status().code(), ErrorCode::kInvalidArgument);
  std::istringstream in2("x");
  EXPECT_EQ(store_->Put(key_, std::string(70000, 'k'), in2).status().code(),
            ErrorCode::kInvalidArgument);
}

TEST_F(BlobStoreTest, RemoveDeletesTheBlob) {
  const BlobStore::PutResult put = MustPut("to be removed");
  ASSERT_TRUE(store_->Remove(put.address).ok());
  std::ostringstream out;
  EXPECT_EQ(store_->Get(key_, put.address, out).code(), ErrorCode::kNotFound);
}

TEST_F(BlobStoreTest, WrongKeyIsAnIntegrityFailure) {
  const BlobStore::PutResult put = MustPut(RandomText(1000));
  key_ = RandomKey();
  ExpectIntegrityFailure(put.address, "wrong key");
}

TEST_F(BlobStoreTest, FlippedByteAnywhereIsDetected) {
  const BlobStore::PutResult put = MustPut(RandomText(150 * 1024));  // three chunks
  const std::string path = store_->PathOf(put.address);
  const std::string original = ReadFile(path);
  // Every byte of the headers and the chunk length fields, and a stride through the rest.
  std::vector<std::size_t> positions;
  for (std::size_t i = 0; i < 80; ++i) positions.push_back(i);
  for (std::size_t i = 80; i < original.size(); i += 997) positions.push_back(i);
  for (std::size_t chunk_start : {std::size_t{36}, std::size_t{36 + 4 + 65536 + 17}}) {
    for (std::size_t i = 0; i < 4; ++i) positions.push_back(chunk_start + i);
  }
  positions.push_back(original.size() - 1);
  for (std::size_t pos : positions) {
    std::string tampered = original;
    tampered[pos] = static_cast<char>(tampered[pos] ^ 0x20);
    WriteFile(path, tampered);
    ExpectIntegrityFailure(put.address, "flip at " + std::to_string(pos));
  }
  WriteFile(path, original);
  std::ostringstream out;
  ASSERT_TRUE(store_->Get(key_, put.address, out).ok());
}

TEST_F(BlobStoreTest, TruncationAtAnyCutPointIsDetected) {
  const BlobStore::PutResult put = MustPut(RandomText(150 * 1024));
  const std::string path = store_->PathOf(put.address);
  const std::string original = ReadFile(path);
  const std::size_t second_chunk = 36 + 4 + 65536 + 17;
  const std::size_t third_chunk = second_chunk + 4 + 65536 + 17;
  for (std::size_t cut :
       {std::size_t{0}, std::size_t{3}, std::size_t{6}, std::size_t{10}, std::size_t{20},
        std::size_t{36}, std::size_t{38}, std::size_t{1000}, second_chunk, second_chunk + 2,
        third_chunk, third_chunk + 4, original.size() - 17, original.size() - 1}) {
    WriteFile(path, original.substr(0, cut));
    ExpectIntegrityFailure(put.address, "cut at " + std::to_string(cut));
  }
}

TEST_F(BlobStoreTest, DroppingWholeChunksIsDetected) {
  const BlobStore::PutResult put = MustPut(RandomText(150 * 1024));
  const std::string path = store_->PathOf(put.address);
  const std::string original = ReadFile(path);
  const std::size_t chunk = 4 + 65536 + 17;
  // Without the final chunk: every remaining chunk authenticates but no FINAL tag is seen.
  WriteFile(path, original.substr(0, 36 + 2 * chunk));
  ExpectIntegrityFailure(put.address, "final chunk dropped");
  // Without the middle chunk.
  WriteFile(path, original.substr(0, 36 + chunk) + original.substr(36 + 2 * chunk));
  ExpectIntegrityFailure(put.address, "middle chunk dropped");
}

TEST_F(BlobStoreTest, AppendedBytesAreDetected) {
  for (const std::string& data : {std::string(), RandomText(100), RandomText(65536)}) {
    const BlobStore::PutResult put = MustPut(data);
    const std::string path = store_->PathOf(put.address);
    const std::string original = ReadFile(path);
    WriteFile(path, original + "x");
    ExpectIntegrityFailure(put.address, "one byte appended");
    WriteFile(path, original + original.substr(36));
    ExpectIntegrityFailure(put.address, "stream appended");
  }
}

TEST_F(BlobStoreTest, SwappedKeyIdIsDetected) {
  const BlobStore::PutResult put = MustPut(RandomText(1000), "dk_aaaa");
  const std::string path = store_->PathOf(put.address);
  std::string file = ReadFile(path);
  ASSERT_EQ(file.substr(8, 7), "dk_aaaa");
  file.replace(8, 7, "dk_bbbb");
  WriteFile(path, file);
  Result<std::string> id = store_->KeyIdOf(put.address);
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(*id, "dk_bbbb");  // the header is readable, but it no longer authenticates
  ExpectIntegrityFailure(put.address, "key id swapped");
}

TEST_F(BlobStoreTest, BlobMovedToAnotherAddressIsDetected) {
  const BlobStore::PutResult a = MustPut("first");
  const BlobStore::PutResult b = MustPut("second");
  fs::copy_file(store_->PathOf(a.address), store_->PathOf(b.address),
                fs::copy_options::overwrite_existing);
  ExpectIntegrityFailure(b.address, "content of another address");
}

TEST_F(BlobStoreTest, BadMagicIsDetected) {
  const BlobStore::PutResult put = MustPut("data");
  const std::string path = store_->PathOf(put.address);
  std::string file = ReadFile(path);
  file[4] = '2';
  WriteFile(path, file);
  ExpectIntegrityFailure(put.address, "bad magic");
  EXPECT_EQ(store_->KeyIdOf(put.address).status().code(), ErrorCode::kIntegrity);
}

TEST_F(BlobStoreTest, StoresPersistAcrossInstances) {
  const std::string data = RandomText(5000);
  const BlobStore::PutResult put = MustPut(data);
  FileBlobStore reopened(dir_ + "/blobs");
  std::ostringstream out;
  ASSERT_TRUE(reopened.Get(key_, put.address, out).ok());
  EXPECT_EQ(out.str(), data);
}

// ---- the sweep's primitives --------------------------------------------------------------

// Sets a file's time `age` into the past.
void Age(const std::string& path, std::chrono::hours age) {
  fs::last_write_time(path, fs::file_time_type::clock::now() - age);
}

std::map<std::string, BlobStore::StoredFile> Files(BlobStore& store) {
  std::map<std::string, BlobStore::StoredFile> files;
  EXPECT_TRUE(store.ForEachFile([&](const BlobStore::StoredFile& f) {
    files[f.address.empty() ? f.path : f.address] = f;
    return Status::Ok();
  }).ok());
  return files;
}

TEST_F(BlobStoreTest, ListsBlobsAndLeftoverTemporaryFilesWithTheirTimes) {
  EXPECT_TRUE(Files(*store_).empty()) << "a store never written lists nothing";
  const auto a = MustPut("first").address;
  const auto b = MustPut(RandomText(70'000)).address;
  const std::string leftover = dir_ + "/blobs/tmp/put-0123456789abcdef";
  WriteFile(leftover, "half a blob");
  WriteFile(dir_ + "/blobs/README", "not ours");
  WriteFile(dir_ + "/blobs/" + a.substr(0, 2) + "/not-an-address", "not ours");
  Age(store_->PathOf(a), std::chrono::hours(3));
  auto files = Files(*store_);
  ASSERT_EQ(files.size(), 3u);
  EXPECT_EQ(files.at(a).path, store_->PathOf(a));
  EXPECT_EQ(files.at(a).file_bytes, static_cast<std::int64_t>(fs::file_size(store_->PathOf(a))));
  EXPECT_LT(files.at(a).modified, std::chrono::system_clock::now() - std::chrono::hours(2));
  EXPECT_GT(files.at(b).modified, std::chrono::system_clock::now() - std::chrono::minutes(5));
  EXPECT_TRUE(files.at(leftover).address.empty());
}

TEST_F(BlobStoreTest, PuttingStoredContentAgainRefreshesItsTime) {
  const auto a = MustPut("the same bytes").address;
  Age(store_->PathOf(a), std::chrono::hours(48));
  EXPECT_EQ(MustPut("the same bytes").address, a);
  EXPECT_GT(Files(*store_).at(a).modified, std::chrono::system_clock::now() - std::chrono::minutes(5));
}

TEST_F(BlobStoreTest, RemoveIfOlderDeletesOnlyFilesOlderThanTheCutoff) {
  using Outcome = BlobStore::RemoveOutcome;
  auto lock = store_->BeginSweep();
  ASSERT_TRUE(lock.ok()) << lock.status().ToString();
  const auto old_blob = MustPut("old").address;
  const auto new_blob = MustPut("new").address;
  const std::string leftover = dir_ + "/blobs/tmp/put-00000000000000aa";
  WriteFile(leftover, "x");
  Age(store_->PathOf(old_blob), std::chrono::hours(30));
  Age(leftover, std::chrono::hours(30));
  const auto cutoff = std::chrono::system_clock::now() - std::chrono::hours(24);
  auto files = Files(*store_);
  auto removed = store_->RemoveIfOlder(files.at(new_blob), cutoff);
  ASSERT_TRUE(removed.ok()) << removed.status().ToString();
  EXPECT_EQ(*removed, Outcome::kNewer);
  removed = store_->RemoveIfOlder(files.at(old_blob), cutoff);
  ASSERT_TRUE(removed.ok()) << removed.status().ToString();
  EXPECT_EQ(*removed, Outcome::kRemoved);
  EXPECT_FALSE(fs::exists(store_->PathOf(old_blob)));
  EXPECT_EQ(store_->KeyIdOf(old_blob).status().code(), ErrorCode::kNotFound);
  removed = store_->RemoveIfOlder(files.at(leftover), cutoff);
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(*removed, Outcome::kRemoved);
  EXPECT_FALSE(fs::exists(leftover));
  removed = store_->RemoveIfOlder(files.at(old_blob), cutoff);
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(*removed, Outcome::kGone);
  // Listed while old, written again before the removal: kept.
  const auto again = MustPut("again").address;
  Age(store_->PathOf(again), std::chrono::hours(30));
  const auto listed = Files(*store_).at(again);
  EXPECT_EQ(MustPut("again").address, again);
  removed = store_->RemoveIfOlder(listed, cutoff);
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(*removed, Outcome::kNewer);
  std::ostringstream out;
  EXPECT_TRUE(store_->Get(key_, again, out).ok());
  EXPECT_EQ(out.str(), "again");
  EXPECT_EQ(Files(*store_).size(), 2u) << "nothing left aside in tmp/";
  // Only the store's own files.
  BlobStore::StoredFile foreign = listed;
  foreign.path = dir_ + "/elsewhere";
  EXPECT_EQ(store_->RemoveIfOlder(foreign, cutoff).status().code(), ErrorCode::kInvalidArgument);
  foreign.address.clear();
  foreign.path = dir_ + "/blobs/tmp/put-x/../../../elsewhere";
  EXPECT_EQ(store_->RemoveIfOlder(foreign, cutoff).status().code(), ErrorCode::kInvalidArgument);
}

TEST_F(BlobStoreTest, TouchRefreshesAStoredBlobAndNamesAMissingOne) {
  const auto a = MustPut("tile").address;
  Age(store_->PathOf(a), std::chrono::hours(30));
  ASSERT_TRUE(store_->Touch(a).ok());
  EXPECT_GT(Files(*store_).at(a).modified, std::chrono::system_clock::now() - std::chrono::minutes(5));
  ASSERT_TRUE(store_->Remove(a).ok());
  EXPECT_EQ(store_->Touch(a).code(), ErrorCode::kNotFound);
  EXPECT_EQ(store_->Touch("not-an-address").code(), ErrorCode::kInvalidArgument);
}

TEST_F(BlobStoreTest, OneSweepAtATimeAndAnInterruptedOnesBlobIsPutBack) {
  const auto a = MustPut("moved aside when the sweep stopped").address;
  const auto b = MustPut("moved aside, and written again since").address;
  // As a sweep killed between moving a blob aside and deciding leaves it.
  const std::string aside_a = dir_ + "/blobs/tmp/sweep-" + a + "-0011223344556677";
  const std::string aside_b = dir_ + "/blobs/tmp/sweep-" + b + "-8899aabbccddeeff";
  fs::rename(store_->PathOf(a), aside_a);
  fs::copy_file(store_->PathOf(b), aside_b);
  {
    auto lock = store_->BeginSweep();
    ASSERT_TRUE(lock.ok()) << lock.status().ToString();
    EXPECT_EQ(store_->BeginSweep().status().code(), ErrorCode::kUnavailable) << "a second sweep waits its turn";
    EXPECT_FALSE(fs::exists(aside_a));
    EXPECT_FALSE(fs::exists(aside_b));
    for (const auto& [address, data] : {std::pair{a, std::string("moved aside when the sweep stopped")},
                                        std::pair{b, std::string("moved aside, and written again since")}}) {
      std::ostringstream out;
      ASSERT_TRUE(store_->Get(key_, address, out).ok()) << address;
      EXPECT_EQ(out.str(), data);
    }
  }
  EXPECT_TRUE(store_->BeginSweep().ok()) << "the lock goes with the sweep";
}

}  // namespace
}  // namespace caliper::security

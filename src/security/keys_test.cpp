#include "caliper/security/keys.h"

#include <stdlib.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "caliper/security/blob_store.h"

namespace caliper::security {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void WriteFileWithMode(const std::string& path, const std::string& data, mode_t mode) {
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << data;
  }
  ASSERT_EQ(::chmod(path.c_str(), mode), 0);
}

unsigned ModeOf(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? (st.st_mode & 07777) : 0xffff;
}

std::string HexOf(const Key& key) { return ToHex(key.data(), key.size()); }

class TempDirTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { ASSERT_TRUE(InitCrypto().ok()); }
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "caliper-keys-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string dir_;
};

// ---- FileKeyProvider and key files ---------------------------------------------------------

class FileKeyProviderTest : public TempDirTest {
 protected:
  void TearDown() override {
    ::unsetenv(kEnv);
    TempDirTest::TearDown();
  }
  static constexpr const char* kEnv = "CALIPER_TEST_MASTER_KEY_7f3a";
};

TEST_F(FileKeyProviderTest, ReadsAValidKeyFileWithTrailingNewline) {
  const Key key = RandomKey();
  const std::string path = dir_ + "/master.key";
  WriteFileWithMode(path, HexOf(key) + "\n", 0600);
  Result<Key> read = FileKeyProvider(path, kEnv).MasterKey();
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(*read, key);
  WriteFileWithMode(path, HexOf(key), 0600);  // no newline is fine too
  read = FileKeyProvider(path, kEnv).MasterKey();
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(*read, key);
}

TEST_F(FileKeyProviderTest, EnvironmentVariableWinsWhenSetAndNonEmpty) {
  const Key file_key = RandomKey();
  const Key env_key = RandomKey();
  const std::string path = dir_ + "/master.key";
  WriteFileWithMode(path, HexOf(file_key), 0600);
  ASSERT_EQ(::setenv(kEnv, HexOf(env_key).c_str(), 1), 0);
  Result<Key> read = FileKeyProvider(path, kEnv).MasterKey();
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(*read, env_key);
  // Works without any file at all.
  read = FileKeyProvider(dir_ + "/absent.key", kEnv).MasterKey();
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(*read, env_key);
  // Empty means unset: the file is used.
  ASSERT_EQ(::setenv(kEnv, "", 1), 0);
  read = FileKeyProvider(path, kEnv).MasterKey();
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(*read, file_key);
}

TEST_F(FileKeyProviderTest, MalformedEnvironmentValueIsRefusedWithoutEchoingIt) {
  ASSERT_EQ(::setenv(kEnv, "abcdef0123", 1), 0);
  Result<Key> read = FileKeyProvider(dir_ + "/absent.key", kEnv).MasterKey();
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), ErrorCode::kKeyUnavailable);
  EXPECT_THAT(read.status().message(), HasSubstr(kEnv));
  EXPECT_THAT(read.status().message(), ::testing::Not(HasSubstr("abcdef0123")));
}

TEST_F(FileKeyProviderTest, MissingFileNamesThePath) {
  const std::string path = dir_ + "/absent.key";
  Result<Key> read = FileKeyProvider(path, kEnv).MasterKey();
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), ErrorCode::kKeyUnavailable);
  EXPECT_THAT(read.status().message(), HasSubstr(path));
  EXPECT_THAT(read.status().message(), HasSubstr("does not exist"));
}

TEST_F(FileKeyProviderTest, WrongModeIsRefused) {
  const std::string path = dir_ + "/master.key";
  for (mode_t mode : {0644, 0640, 0400, 0700, 0666, 0604}) {
    WriteFileWithMode(path, HexOf(RandomKey()), mode);
    Result<Key> read = FileKeyProvider(path, kEnv).MasterKey();
    ASSERT_FALSE(read.ok()) << std::oct << mode;
    EXPECT_EQ(read.status().code(), ErrorCode::kKeyUnavailable);
    EXPECT_THAT(read.status().message(), HasSubstr(path));
    char octal[8];
    std::snprintf(octal, sizeof octal, "%04o", static_cast<unsigned>(mode));
    EXPECT_THAT(read.status().message(), HasSubstr(std::string("has mode ") + octal));
    EXPECT_THAT(read.status().message(), HasSubstr("0600"));
  }
}

TEST_F(FileKeyProviderTest, DirectoryIsNotAKeyFile) {
  const std::string path = dir_ + "/keydir";
  ASSERT_EQ(::mkdir(path.c_str(), 0600), 0);
  Result<Key> read = FileKeyProvider(path, kEnv).MasterKey();
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), ErrorCode::kKeyUnavailable);
  EXPECT_THAT(read.status().message(), HasSubstr("not a regular file"));
  EXPECT_THAT(read.status().message(), HasSubstr(path));
}

TEST_F(FileKeyProviderTest, BadContentIsRefused) {
  const std::string path = dir_ + "/master.key";
  for (const std::string& content :
       {std::string(""), std::string(63, 'a'), std::string(65, 'a'), std::string(62, 'a') + "zz",
        std::string(128, 'a'), "  " + std::string(64, 'a')}) {
    WriteFileWithMode(path, content, 0600);
    Result<Key> read = FileKeyProvider(path, kEnv).MasterKey();
    ASSERT_FALSE(read.ok()) << content;
    EXPECT_EQ(read.status().code(), ErrorCode::kKeyUnavailable);
    EXPECT_THAT(read.status().message(), HasSubstr(path));
  }
}

TEST_F(FileKeyProviderTest, WriteNewMasterKeyFileCreatesA0600FileInA0700Dir) {
  const std::string path = dir_ + "/etc/caliper/master.key";
  ASSERT_TRUE(WriteNewMasterKeyFile(path, false).ok());
  EXPECT_EQ(ModeOf(path), 0600u);
  EXPECT_EQ(ModeOf(dir_ + "/etc/caliper"), 0700u);
  const std::string content = ReadFile(path);
  EXPECT_EQ(content.size(), 65u);
  EXPECT_EQ(content.back(), '\n');
  Result<Key> read = FileKeyProvider(path, kEnv).MasterKey();
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(HexOf(*read) + "\n", content);
  // No temp files are left behind.
  std::size_t entries = 0;
  for (const auto& entry : fs::directory_iterator(dir_ + "/etc/caliper")) {
    (void)entry;
    ++entries;
  }
  EXPECT_EQ(entries, 1u);
}

TEST_F(FileKeyProviderTest, WriteNewMasterKeyFileRespectsOverwrite) {
  const std::string path = dir_ + "/master.key";
  ASSERT_TRUE(WriteNewMasterKeyFile(path, false).ok());
  const std::string first = ReadFile(path);
  Status again = WriteNewMasterKeyFile(path, false);
  EXPECT_EQ(again.code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(ReadFile(path), first);
  ASSERT_TRUE(WriteNewMasterKeyFile(path, true).ok());
  EXPECT_NE(ReadFile(path), first);
  EXPECT_EQ(ModeOf(path), 0600u);
}

TEST_F(FileKeyProviderTest, WriteFileAtomicallyAppliesModeDespiteUmask) {
  const mode_t old = ::umask(0077);
  const std::string path = dir_ + "/public.txt";
  Status s = WriteFileAtomically(path, "hello\n", false, 0644);
  ::umask(old);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(ModeOf(path), 0644u);
  EXPECT_EQ(ReadFile(path), "hello\n");
}

TEST_F(FileKeyProviderTest, ReadSecretFileTrimsTrailingWhitespace) {
  const std::string path = dir_ + "/secret";
  WriteFileWithMode(path, "value \r\n\n", 0600);
  Result<std::string> read = ReadSecretFile(path);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(*read, "value");
}

// ---- KeyManager ------------------------------------------------------------------------------

class KeyManagerTest : public TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    Result<std::unique_ptr<storage::Store>> store = storage::OpenSqliteStore(dir_ + "/caliper.db");
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
  }
  void TearDown() override {
    if (store_) store_->Close();
    TempDirTest::TearDown();
  }

  std::unique_ptr<storage::Transaction> Write() {
    Result<std::unique_ptr<storage::Transaction>> txn = store_->Begin(storage::TxnMode::kWrite);
    EXPECT_TRUE(txn.ok()) << txn.status().ToString();
    return txn.ok() ? std::move(txn).value() : nullptr;
  }

  KeyManager::DataKeyRef MustDataKey(const KeyManager& keys, const std::string& project,
                                     const std::string& patient) {
    auto txn = Write();
    Result<KeyManager::DataKeyRef> ref = keys.DataKeyFor(*txn, project, patient);
    EXPECT_TRUE(ref.ok()) << ref.status().ToString();
    EXPECT_TRUE(txn->Commit().ok());
    return ref.ok() ? *ref : KeyManager::DataKeyRef{};
  }

  Result<Key> Unwrap(const KeyManager& keys, const std::string& id) {
    auto txn = Write();
    return keys.UnwrapDataKey(*txn, id);
  }

  storage::ProjectKey StoredProjectKey(const std::string& project) {
    auto txn = Write();
    Result<storage::ProjectKey> key = txn->GetProjectKey(project);
    EXPECT_TRUE(key.ok()) << key.status().ToString();
    return key.ok() ? *key : storage::ProjectKey{};
  }

  storage::DataKey StoredDataKey(const std::string& id) {
    auto txn = Write();
    Result<storage::DataKey> key = txn->GetDataKey(id);
    EXPECT_TRUE(key.ok()) << key.status().ToString();
    return key.ok() ? *key : storage::DataKey{};
  }

  FakeClock clock_;
  Key master_key_ = RandomKey();
  StaticKeyProvider master_{master_key_};
  KeyManager keys_{master_, clock_};
  std::unique_ptr<storage::Store> store_;
};

TEST_F(KeyManagerTest, EnsureProjectKeyCreatesOnceAndWrapsUnderTheMaster) {
  {
    auto txn = Write();
    ASSERT_TRUE(keys_.EnsureProjectKey(*txn, "prj_a").ok());
    ASSERT_TRUE(txn->Commit().ok());
  }
  const storage::ProjectKey first = StoredProjectKey("prj_a");
  EXPECT_EQ(first.version, 1);
  EXPECT_EQ(first.created_at, clock_.Now());
  EXPECT_EQ(first.wrapped.size(), 32u + 24 + 16);
  Result<Key> plain = UnwrapKey(master_key_, first.wrapped, "caliper-project-key:prj_a:v1");
  ASSERT_TRUE(plain.ok()) << "wrapped with the documented associated data";
  {
    auto txn = Write();
    ASSERT_TRUE(keys_.EnsureProjectKey(*txn, "prj_a").ok());
    ASSERT_TRUE(txn->Commit().ok());
  }
  EXPECT_EQ(StoredProjectKey("prj_a").wrapped, first.wrapped);  // unchanged
}

TEST_F(KeyManagerTest, DataKeyIsCreatedOnceThenReused) {
  const KeyManager::DataKeyRef a = MustDataKey(keys_, "prj_a", "patient-1");
  EXPECT_EQ(a.id.size(), 3u + 32);
  EXPECT_EQ(a.id.substr(0, 3), "dk_");
  EXPECT_EQ(a.id.find_first_not_of("0123456789abcdef", 3), std::string::npos);
  const KeyManager::DataKeyRef again = MustDataKey(keys_, "prj_a", "patient-1");
  EXPECT_EQ(again.id, a.id);
  EXPECT_EQ(again.key, a.key);
  const KeyManager::DataKeyRef other_patient = MustDataKey(keys_, "prj_a", "patient-2");
  const KeyManager::DataKeyRef other_project = MustDataKey(keys_, "prj_b", "patient-1");
  EXPECT_NE(other_patient.id, a.id);
  EXPECT_NE(other_patient.key, a.key);
  EXPECT_NE(other_project.id, a.id);
  EXPECT_NE(other_project.key, a.key);

  const storage::DataKey stored = StoredDataKey(a.id);
  EXPECT_EQ(stored.project_id, "prj_a");
  EXPECT_EQ(stored.patient_key, "patient-1");
  EXPECT_EQ(stored.project_key_version, 1);
  EXPECT_FALSE(stored.destroyed_at.has_value());
  // The plain key is not what is stored.
  EXPECT_EQ(std::search(stored.wrapped.begin(), stored.wrapped.end(), a.key.begin(), a.key.end()),
            stored.wrapped.end());
}

TEST_F(KeyManagerTest, UnwrapDataKeyReturnsThePlainKey) {
  const KeyManager::DataKeyRef a = MustDataKey(keys_, "prj_a", "patient-1");
  Result<Key> key = Unwrap(keys_, a.id);
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(*key, a.key);
  EXPECT_EQ(Unwrap(keys_, "dk_missing").status().code(), ErrorCode::kNotFound);
}

TEST_F(KeyManagerTest, RolledBackCreationLeavesNoKey) {
  std::string id;
  {
    auto txn = Write();
    Result<KeyManager::DataKeyRef> ref = keys_.DataKeyFor(*txn, "prj_a", "patient-1");
    ASSERT_TRUE(ref.ok());
    id = ref->id;
  }  // no Commit
  EXPECT_EQ(Unwrap(keys_, id).status().code(), ErrorCode::kNotFound);
  auto txn = Write();
  EXPECT_EQ(txn->GetProjectKey("prj_a").status().code(), ErrorCode::kNotFound);
}

TEST_F(KeyManagerTest, WrongMasterCannotUnwrap) {
  const KeyManager::DataKeyRef a = MustDataKey(keys_, "prj_a", "patient-1");
  StaticKeyProvider other(RandomKey());
  KeyManager wrong(other, clock_);
  Result<Key> key = Unwrap(wrong, a.id);
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.status().code(), ErrorCode::kKeyUnavailable);
  EXPECT_THAT(key.status().message(), HasSubstr("prj_a"));
}

TEST_F(KeyManagerTest, TamperedWrappedDataKeyIsAnIntegrityFailure) {
  const KeyManager::DataKeyRef a = MustDataKey(keys_, "prj_a", "patient-1");
  {
    auto txn = Write();
    storage::DataKey stored = *txn->GetDataKey(a.id);
    stored.wrapped[30] ^= 1;
    ASSERT_TRUE(txn->UpdateDataKey(stored).ok());
    ASSERT_TRUE(txn->Commit().ok());
  }
  EXPECT_EQ(Unwrap(keys_, a.id).status().code(), ErrorCode::kIntegrity);
}

TEST_F(KeyManagerTest, DestroyedDataKeyIsGoneForGood) {
  const KeyManager::DataKeyRef a = MustDataKey(keys_, "prj_a", "patient-1");
  const KeyManager::DataKeyRef b = MustDataKey(keys_, "prj_a", "patient-2");
  clock_.Advance(kMicrosPerHour);
  {
    auto txn = Write();
    ASSERT_TRUE(keys_.DestroyDataKey(*txn, a.id).ok());
    ASSERT_TRUE(txn->Commit().ok());
  }
  const storage::DataKey stored = StoredDataKey(a.id);
  EXPECT_TRUE(stored.wrapped.empty());
  ASSERT_TRUE(stored.destroyed_at.has_value());
  EXPECT_EQ(*stored.destroyed_at, clock_.Now());

  Result<Key> key = Unwrap(keys_, a.id);
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.status().code(), ErrorCode::kKeyUnavailable);
  EXPECT_THAT(key.status().message(),
              HasSubstr("data key " + a.id + " was destroyed (crypto-shredded)"));
  {  // The patient does not silently get a fresh key.
    auto txn = Write();
    EXPECT_EQ(keys_.DataKeyFor(*txn, "prj_a", "patient-1").status().code(),
              ErrorCode::kKeyUnavailable);
  }
  {  // Destroying again is harmless; other patients are untouched.
    auto txn = Write();
    EXPECT_TRUE(keys_.DestroyDataKey(*txn, a.id).ok());
    EXPECT_EQ(keys_.DestroyDataKey(*txn, "dk_missing").code(), ErrorCode::kNotFound);
    ASSERT_TRUE(txn->Commit().ok());
  }
  Result<Key> other = Unwrap(keys_, b.id);
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(*other, b.key);
}

TEST_F(KeyManagerTest, DestroyedKeyMakesItsBlobsUnreadable) {
  const KeyManager::DataKeyRef a = MustDataKey(keys_, "prj_a", "patient-1");
  FileBlobStore blobs(dir_ + "/blobs");
  std::istringstream in("pixel data");
  Result<BlobStore::PutResult> put = blobs.Put(a.key, a.id, in);
  ASSERT_TRUE(put.ok());
  {
    auto txn = Write();
    ASSERT_TRUE(keys_.DestroyDataKey(*txn, a.id).ok());
    ASSERT_TRUE(txn->Commit().ok());
  }
  Result<std::string> key_id = blobs.KeyIdOf(put->address);
  ASSERT_TRUE(key_id.ok());
  EXPECT_EQ(Unwrap(keys_, *key_id).status().code(), ErrorCode::kKeyUnavailable);
}

TEST_F(KeyManagerTest, RotationWithNewMasterRewrapsEverything) {
  const KeyManager::DataKeyRef a1 = MustDataKey(keys_, "prj_a", "patient-1");
  const KeyManager::DataKeyRef a2 = MustDataKey(keys_, "prj_a", "patient-2");
  const KeyManager::DataKeyRef a3 = MustDataKey(keys_, "prj_a", "patient-3");
  const KeyManager::DataKeyRef b1 = MustDataKey(keys_, "prj_b", "patient-1");
  {
    auto txn = Write();
    ASSERT_TRUE(keys_.DestroyDataKey(*txn, a3.id).ok());
    ASSERT_TRUE(txn->Commit().ok());
  }
  FileBlobStore blobs(dir_ + "/blobs");
  std::istringstream in(std::string(100000, 'p'));
  Result<BlobStore::PutResult> blob = blobs.Put(a1.key, a1.id, in);
  ASSERT_TRUE(blob.ok());

  const storage::ProjectKey project_before = StoredProjectKey("prj_a");
  const storage::DataKey a1_before = StoredDataKey(a1.id);
  const storage::DataKey a3_before = StoredDataKey(a3.id);
  const Key new_master = RandomKey();
  clock_.Advance(kMicrosPerHour);
  {
    auto txn = Write();
    Result<KeyManager::RotationReport> report = keys_.Rotate(*txn, &new_master);
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    EXPECT_EQ(report->project_keys, 2);
    EXPECT_EQ(report->data_keys, 3);  // a1, a2, b1; a3 is destroyed
    ASSERT_TRUE(txn->Commit().ok());
  }

  const storage::ProjectKey project_after = StoredProjectKey("prj_a");
  EXPECT_EQ(project_after.version, 2);
  EXPECT_EQ(project_after.created_at, clock_.Now());
  EXPECT_NE(project_after.wrapped, project_before.wrapped);
  const storage::DataKey a1_after = StoredDataKey(a1.id);
  EXPECT_NE(a1_after.wrapped, a1_before.wrapped);
  EXPECT_EQ(a1_after.project_key_version, 2);
  const storage::DataKey a3_after = StoredDataKey(a3.id);  // still shredded
  EXPECT_TRUE(a3_after.wrapped.empty());
  EXPECT_EQ(a3_after.destroyed_at, a3_before.destroyed_at);

  // Under the new master every live data key opens to the same plain key.
  StaticKeyProvider new_provider(new_master);
  KeyManager rotated(new_provider, clock_);
  for (const KeyManager::DataKeyRef& ref : {a1, a2, b1}) {
    Result<Key> key = Unwrap(rotated, ref.id);
    ASSERT_TRUE(key.ok()) << ref.id << ": " << key.status().ToString();
    EXPECT_EQ(*key, ref.key);
  }
  EXPECT_EQ(Unwrap(rotated, a3.id).status().code(), ErrorCode::kKeyUnavailable);
  const KeyManager::DataKeyRef again = MustDataKey(rotated, "prj_a", "patient-1");
  EXPECT_EQ(again.key, a1.key);

  // Blobs written before rotation still decrypt (rotation never re-encrypts blobs).
  Result<Key> blob_key = Unwrap(rotated, a1.id);
  ASSERT_TRUE(blob_key.ok());
  std::ostringstream out;
  Status got = blobs.Get(*blob_key, blob->address, out);
  ASSERT_TRUE(got.ok()) << got.ToString();
  EXPECT_EQ(out.str(), std::string(100000, 'p'));

  // The old master no longer opens the project key.
  Result<Key> old = Unwrap(keys_, a1.id);
  ASSERT_FALSE(old.ok());
  EXPECT_EQ(old.status().code(), ErrorCode::kKeyUnavailable);
  EXPECT_FALSE(UnwrapKey(master_key_, project_after.wrapped, "caliper-project-key:prj_a:v2").ok());
  EXPECT_TRUE(UnwrapKey(new_master, project_after.wrapped, "caliper-project-key:prj_a:v2").ok());
}

TEST_F(KeyManagerTest, RotationUnderTheSameMasterBumpsVersions) {
  const KeyManager::DataKeyRef a = MustDataKey(keys_, "prj_a", "patient-1");
  for (int round = 0; round < 2; ++round) {
    auto txn = Write();
    Result<KeyManager::RotationReport> report = keys_.Rotate(*txn, nullptr);
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    EXPECT_EQ(report->project_keys, 1);
    EXPECT_EQ(report->data_keys, 1);
    ASSERT_TRUE(txn->Commit().ok());
  }
  EXPECT_EQ(StoredProjectKey("prj_a").version, 3);
  EXPECT_EQ(StoredDataKey(a.id).project_key_version, 3);
  Result<Key> key = Unwrap(keys_, a.id);
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(*key, a.key);
  // New data keys after rotation are wrapped under the current project key.
  const KeyManager::DataKeyRef b = MustDataKey(keys_, "prj_a", "patient-2");
  EXPECT_EQ(StoredDataKey(b.id).project_key_version, 3);
}

TEST_F(KeyManagerTest, RolledBackRotationChangesNothing) {
  const KeyManager::DataKeyRef a = MustDataKey(keys_, "prj_a", "patient-1");
  const Key new_master = RandomKey();
  {
    auto txn = Write();
    ASSERT_TRUE(keys_.Rotate(*txn, &new_master).ok());
  }  // no Commit
  EXPECT_EQ(StoredProjectKey("prj_a").version, 1);
  Result<Key> key = Unwrap(keys_, a.id);
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(*key, a.key);
}

TEST_F(KeyManagerTest, RotationWithWrongCurrentMasterFailsAndChangesNothing) {
  MustDataKey(keys_, "prj_a", "patient-1");
  StaticKeyProvider other(RandomKey());
  KeyManager wrong(other, clock_);
  auto txn = Write();
  Result<KeyManager::RotationReport> report = wrong.Rotate(*txn, nullptr);
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.status().code(), ErrorCode::kKeyUnavailable);
}

}  // namespace
}  // namespace caliper::security

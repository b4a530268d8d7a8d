#include "package/signature.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "base/sha256.h"

namespace tessera::package {
namespace {

std::vector<std::uint8_t> Hex(std::string_view hex) {
  Result<std::vector<std::uint8_t>> bytes = HexToBytes(hex);
  EXPECT_TRUE(bytes.ok()) << bytes.status().ToString();
  return bytes.ok() ? *bytes : std::vector<std::uint8_t>();
}

std::vector<std::uint8_t> Bytes(std::string_view text) {
  return std::vector<std::uint8_t>(text.begin(), text.end());
}

// RFC 8032 section 7.1, TEST 1 to 3.
struct Rfc8032Vector {
  const char* secret_key;
  const char* public_key;
  const char* message;
  const char* signature;
};
const Rfc8032Vector kVectors[] = {
    {"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9"
     "b46bd25bf5f0595bbe24655141438e7a100b"},
    {"4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f1"
     "1d8c387b2eaeb4302aeeb00d291612bb0c00"},
    {"c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
     "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
     "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984d"
     "c6594a7c15e9716ed28dc027beceea1ec40a"},
};

TEST(SignatureTest, ReproducesRfc8032Vectors) {
  for (const Rfc8032Vector& v : kVectors) {
    Result<PrivateKey> key = PrivateKey::FromSeed(Hex(v.secret_key));
    ASSERT_TRUE(key.ok()) << key.status().ToString();
    EXPECT_EQ(BytesToHex(key->public_key().bytes()), v.public_key);
    const std::vector<std::uint8_t> message = Hex(v.message);
    Result<Ed25519Signature> signature = key->Sign(message);
    ASSERT_TRUE(signature.ok()) << signature.status().ToString();
    EXPECT_EQ(BytesToHex(*signature), v.signature);
    // Deterministic: signing again gives the same bytes.
    EXPECT_EQ(*key->Sign(message), *signature);
    // The published public key verifies the published signature.
    Result<PublicKey> public_key = PublicKey::FromBytes(Hex(v.public_key));
    ASSERT_TRUE(public_key.ok());
    EXPECT_TRUE(public_key->Verify(message, Hex(v.signature)).ok());
  }
}

TEST(SignatureTest, RefusesAnythingButTheSignedBytesUnderTheSigningKey) {
  Result<PrivateKey> key = PrivateKey::Generate();
  Result<PrivateKey> other = PrivateKey::Generate();
  ASSERT_TRUE(key.ok() && other.ok());
  EXPECT_NE(key->public_key(), other->public_key());
  const std::vector<std::uint8_t> message = Bytes("{\"id\":\"org.example.sentiment\"}");
  const Ed25519Signature signature = *key->Sign(message);
  const PublicKey& public_key = key->public_key();
  EXPECT_TRUE(public_key.Verify(message, signature).ok());

  auto expect_integrity = [](const Status& s, const std::string& fragment) {
    EXPECT_EQ(s.code(), StatusCode::kIntegrity) << s.ToString();
    EXPECT_NE(s.message().find(fragment), std::string::npos) << s.message();
  };
  // Another key.
  expect_integrity(other->public_key().Verify(message, signature), "does not verify with key");
  // Any flipped bit of the message or of the signature.
  for (std::size_t i = 0; i < message.size(); ++i) {
    std::vector<std::uint8_t> changed = message;
    changed[i] ^= static_cast<std::uint8_t>(1u << (i % 8));
    expect_integrity(public_key.Verify(changed, signature), public_key.KeyId());
  }
  for (std::size_t i = 0; i < signature.size(); ++i) {
    Ed25519Signature changed = signature;
    changed[i] ^= static_cast<std::uint8_t>(1u << (i % 8));
    expect_integrity(public_key.Verify(message, changed), "does not verify");
  }
  // Appended or removed message bytes.
  std::vector<std::uint8_t> longer = message;
  longer.push_back(0);
  expect_integrity(public_key.Verify(longer, signature), "does not verify");
  expect_integrity(public_key.Verify(std::span(message).first(message.size() - 1), signature),
                   "does not verify");
  // A signature of the wrong length.
  for (std::size_t size : {0, 63, 65, 128}) {
    std::vector<std::uint8_t> wrong(size, 0);
    std::copy_n(signature.begin(), std::min(size, signature.size()), wrong.begin());
    expect_integrity(public_key.Verify(message, wrong),
                     "is " + std::to_string(size) + " bytes, an ed25519 signature is 64");
  }
}

TEST(SignatureTest, KeyIdIsAPrefixOfTheSha256OfThePublicKey) {
  Result<PrivateKey> key = PrivateKey::FromSeed(Hex(kVectors[0].secret_key));
  ASSERT_TRUE(key.ok());
  const std::string id = key->public_key().KeyId();
  EXPECT_EQ(id, "ed25519:" + base::Sha256Hex(Hex(kVectors[0].public_key)).substr(0, 16));
  EXPECT_EQ(id.size(), 8u + 16u);
  EXPECT_NE(id, PrivateKey::FromSeed(Hex(kVectors[1].secret_key))->public_key().KeyId());
}

TEST(SignatureTest, RefusesKeysOfTheWrongLength) {
  EXPECT_EQ(PublicKey::FromBytes(std::vector<std::uint8_t>(31)).status().code(),
            StatusCode::kMalformed);
  EXPECT_EQ(PrivateKey::FromSeed(std::vector<std::uint8_t>(33)).status().code(),
            StatusCode::kMalformed);
  EXPECT_EQ(PrivateKey::FromSeed({}).status().code(), StatusCode::kMalformed);
}

TEST(SignatureTest, HexRoundTripsAndIsStrict) {
  const std::vector<std::uint8_t> bytes = {0x00, 0x7f, 0x80, 0xff, 0x12};
  EXPECT_EQ(BytesToHex(bytes), "007f80ff12");
  EXPECT_EQ(*HexToBytes("007f80ff12"), bytes);
  EXPECT_TRUE(HexToBytes("")->empty());
  EXPECT_EQ(HexToBytes("abc").status().code(), StatusCode::kMalformed);
  EXPECT_EQ(HexToBytes("AB").status().code(), StatusCode::kMalformed);
  EXPECT_EQ(HexToBytes("0g").status().code(), StatusCode::kMalformed);
}

class KeyFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = ::testing::TempDir() + "tessera-signature-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string PathOf(const std::string& name) const { return dir_ + "/" + name; }

  std::string Write(const std::string& name, const std::string& contents) const {
    const std::string path = PathOf(name);
    std::ofstream(path, std::ios::binary) << contents;
    return path;
  }

  static std::string Read(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  static unsigned ModeOf(const std::string& path) {
    struct stat st {};
    EXPECT_EQ(::stat(path.c_str(), &st), 0);
    return st.st_mode & 0777;
  }

  std::vector<std::string> Listing() const {
    std::vector<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
      names.push_back(entry.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  std::string dir_;
};

TEST_F(KeyFileTest, SavesAndLoadsBothKinds) {
  Result<PrivateKey> key = PrivateKey::FromSeed(Hex(kVectors[0].secret_key));
  ASSERT_TRUE(key.ok());
  const std::string private_path = PathOf("alice.key");
  const std::string public_path = PathOf("alice.pub");
  ASSERT_TRUE(key->Save(private_path).ok());
  ASSERT_TRUE(key->public_key().Save(public_path).ok());

  EXPECT_EQ(Read(private_path),
            std::string("tessera-ed25519-private ") + kVectors[0].secret_key + "\n");
  EXPECT_EQ(Read(public_path),
            std::string("tessera-ed25519-public ") + kVectors[0].public_key + "\n");
  EXPECT_EQ(key->public_key().ToText(), Read(public_path));
  EXPECT_EQ(ModeOf(private_path), 0600u);
  EXPECT_EQ(ModeOf(public_path), 0644u);
  EXPECT_EQ(Listing(), (std::vector<std::string>{"alice.key", "alice.pub"}));  // no temp files

  Result<PrivateKey> loaded = PrivateKey::Load(private_path);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->public_key(), key->public_key());
  EXPECT_EQ(BytesToHex(*loaded->Sign({})), kVectors[0].signature);
  Result<PublicKey> loaded_public = PublicKey::Load(public_path);
  ASSERT_TRUE(loaded_public.ok()) << loaded_public.status().ToString();
  EXPECT_EQ(*loaded_public, key->public_key());

  // Without the final newline is accepted too.
  const std::string bare =
      Write("bare.pub", std::string("tessera-ed25519-public ") + kVectors[0].public_key);
  EXPECT_TRUE(PublicKey::Load(bare).ok());
}

TEST_F(KeyFileTest, SaveReplacesAnExistingFile) {
  Result<PrivateKey> first = PrivateKey::Generate();
  Result<PrivateKey> second = PrivateKey::Generate();
  ASSERT_TRUE(first.ok() && second.ok());
  const std::string path = PathOf("k.key");
  ASSERT_TRUE(first->Save(path).ok());
  ASSERT_TRUE(second->Save(path).ok());
  EXPECT_EQ(PrivateKey::Load(path)->public_key(), second->public_key());
  EXPECT_EQ(ModeOf(path), 0600u);
  EXPECT_EQ(Listing(), std::vector<std::string>{"k.key"});

  // A folder that does not exist: kIoError, and nothing is left behind.
  Status s = first->Save(PathOf("missing/k.key"));
  EXPECT_EQ(s.code(), StatusCode::kIoError) << s.ToString();
  EXPECT_EQ(Listing(), std::vector<std::string>{"k.key"});
}

TEST_F(KeyFileTest, RefusesMalformedFilesNamingTheFile) {
  const std::string pub_hex = kVectors[0].public_key;
  const std::string sec_hex = kVectors[0].secret_key;
  struct Case {
    std::string contents;
    std::string problem;
  };
  const std::vector<Case> public_cases = {
      {"", "does not start with \"tessera-ed25519-public \""},
      {"\n", "does not start with"},
      {"tessera-ed25519-public", "does not start with"},
      {"ssh-ed25519 " + pub_hex, "does not start with"},
      {" tessera-ed25519-public " + pub_hex, "does not start with"},
      {"tessera-ed25519-public  " + pub_hex, "has 65 characters"},
      {"tessera-ed25519-public " + pub_hex.substr(1), "has 63 characters"},
      {"tessera-ed25519-public " + pub_hex + "00", "has 66 characters"},
      {"tessera-ed25519-public " + pub_hex + " ", "has 65 characters"},
      {"tessera-ed25519-public " + pub_hex + "\r\n", "has 65 characters"},
      {"tessera-ed25519-public " + pub_hex + "\n\n", "has 65 characters"},
      {"tessera-ed25519-public " + pub_hex + "\nsecond line\n", "characters"},
      {"tessera-ed25519-public D75A" + pub_hex.substr(4), "not a lowercase hex digit at offset 23"},
      {"tessera-ed25519-public " + pub_hex.substr(0, 63) + "z",
       "not a lowercase hex digit at offset 86"},
      {"tessera-ed25519-private " + sec_hex, "holds a private key"},
      {std::string(5000, 'a'), "is larger than 4096 bytes"},
  };
  for (std::size_t i = 0; i < public_cases.size(); ++i) {
    const std::string path = Write("bad" + std::to_string(i) + ".pub", public_cases[i].contents);
    Result<PublicKey> key = PublicKey::Load(path);
    ASSERT_FALSE(key.ok()) << i;
    EXPECT_EQ(key.status().code(), StatusCode::kMalformed) << i;
    EXPECT_NE(key.status().message().find("key file \"" + path + "\""), std::string::npos)
        << key.status().message();
    EXPECT_NE(key.status().message().find(public_cases[i].problem), std::string::npos)
        << "case " << i << ": " << key.status().message();
  }
  const std::vector<Case> private_cases = {
      {"tessera-ed25519-public " + pub_hex, "holds a public key"},
      {"tessera-ed25519-private " + sec_hex.substr(2), "has 62 characters"},
      {"tessera-ed25519-private", "does not start with \"tessera-ed25519-private \""},
  };
  for (std::size_t i = 0; i < private_cases.size(); ++i) {
    const std::string path = Write("bad" + std::to_string(i) + ".key", private_cases[i].contents);
    Result<PrivateKey> key = PrivateKey::Load(path);
    ASSERT_FALSE(key.ok()) << i;
    EXPECT_EQ(key.status().code(), StatusCode::kMalformed) << i;
    EXPECT_NE(key.status().message().find(path), std::string::npos) << key.status().message();
    EXPECT_NE(key.status().message().find(private_cases[i].problem), std::string::npos)
        << "case " << i << ": " << key.status().message();
  }
  // The text form has the same rules.
  EXPECT_EQ(PublicKey::FromText("tessera-ed25519-public 00", "trust entry 3").status().message(),
            "package: trust entry 3: has 2 characters after \"tessera-ed25519-public \", expected "
            "64 lowercase hex digits");
}

TEST_F(KeyFileTest, ReportsMissingAndUnreadableFiles) {
  EXPECT_EQ(PublicKey::Load(PathOf("absent.pub")).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(PrivateKey::Load(PathOf("absent.key")).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(PublicKey::Load(dir_).status().code(), StatusCode::kIoError);  // a folder
}

}  // namespace
}  // namespace tessera::package

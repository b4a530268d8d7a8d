// The signature envelope (package.md section 4) and the strict base64 it carries signatures in.
#include "package/signature_envelope.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "manifest_fixture.h"
#include "package/base64.h"
#include "package/manifest.h"
#include "package/signature.h"

namespace tessera::package {
namespace {

std::vector<std::uint8_t> Bytes(std::string_view text) {
  return std::vector<std::uint8_t>(text.begin(), text.end());
}

std::span<const std::uint8_t> AsBytes(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// A key from a deterministic 32-byte seed.
PrivateKey SeededKey(std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<std::uint8_t> bytes(kEd25519KeyBytes);
  for (std::uint8_t& b : bytes) b = static_cast<std::uint8_t>(rng());
  Result<PrivateKey> key = PrivateKey::FromSeed(bytes);
  EXPECT_TRUE(key.ok()) << key.status().ToString();
  return std::move(key).value();
}

Manifest ModelManifest() {
  Result<Manifest> m = ParseManifest(fixture::ReadTestData("model_manifest.json"));
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  return m.ok() ? *m : Manifest();
}

void ExpectRefused(const Result<SignatureEnvelope>& r, StatusCode code,
                   const std::string& fragment) {
  ASSERT_FALSE(r.ok()) << "accepted";
  EXPECT_EQ(r.status().code(), code) << r.status().ToString();
  EXPECT_NE(r.status().message().find(fragment), std::string::npos)
      << "message: " << r.status().message() << "\nexpected to contain: " << fragment;
  EXPECT_TRUE(r.status().message().starts_with("package: signature envelope"))
      << r.status().message();
}

// ---------------------------------------------------------------------------------------------
// Base64.

TEST(Base64Test, ReproducesRfc4648Vectors) {
  // RFC 4648 section 10.
  const std::pair<const char*, const char*> kVectors[] = {
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [plain, encoded] : kVectors) {
    SCOPED_TRACE(plain);
    EXPECT_EQ(Base64Encode(Bytes(plain)), encoded);
    Result<std::vector<std::uint8_t>> decoded = Base64Decode(encoded, "test");
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    EXPECT_EQ(*decoded, Bytes(plain));
  }
}

TEST(Base64Test, UsesTheStandardAlphabetForEverySextet) {
  // 0x00 0x10 0x83 0x10 0x51 0x87 ... encodes the alphabet in order: take its decoding.
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  Result<std::vector<std::uint8_t>> bytes = Base64Decode(alphabet, "test");
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  EXPECT_EQ(bytes->size(), 48u);
  EXPECT_EQ(Base64Encode(*bytes), alphabet);
  EXPECT_EQ(Base64Encode(std::vector<std::uint8_t>{0xfb, 0xff, 0xbf}), "+/+/");
}

TEST(Base64Test, RoundTripsSeededRandomBytesOfEveryLength) {
  std::mt19937 rng(20240611);
  for (std::size_t size = 0; size <= 200; ++size) {
    std::vector<std::uint8_t> bytes(size);
    for (std::uint8_t& b : bytes) b = static_cast<std::uint8_t>(rng());
    const std::string text = Base64Encode(bytes);
    EXPECT_EQ(text.size(), (size + 2) / 3 * 4);
    Result<std::vector<std::uint8_t>> back = Base64Decode(text, "test");
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(*back, bytes) << "size " << size;
  }
}

TEST(Base64Test, RefusesEverythingButTheCanonicalPaddedText) {
  const std::pair<std::string, std::string> kBad[] = {
      {"Zg", "not a multiple of 4"},
      {"Zg=", "not a multiple of 4"},
      {"Zm9vY", "not a multiple of 4"},
      {"Zg===", "not a multiple of 4"},
      {"Z===", "padding '=' at offset 1"},
      {"====", "padding '=' at offset 0"},
      {"=Zg=", "padding '=' at offset 0"},
      {"Zg=a", "padding '=' at offset 2"},
      {"Zg==Zg==", "padding '=' at offset 2"},
      {"Zh==", "non-zero bits"},  // "f" is "Zg=="
      {"Zm9=", "non-zero bits"},  // "fo" is "Zm8="
      {"Zm 9v", "not a multiple of 4"},
      {"Zm9 ", "0x20 at offset 3"},
      {"Zm9v\nYmFy", "not a multiple of 4"},
      {"Zm9v\r\nYmFy==", "0x0d at offset 4"},
      {"Zm-_", "'-' at offset 2"},
      {"Zm9.", "'.' at offset 3"},
      {std::string("Zm\0v", 4), "0x00 at offset 2"},
      {"Zm\xc3\xa9", "0xc3 at offset 2"},
  };
  for (const auto& [text, fragment] : kBad) {
    SCOPED_TRACE(text);
    Result<std::vector<std::uint8_t>> r = Base64Decode(text, "thing");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kMalformed);
    EXPECT_TRUE(r.status().message().starts_with("package: thing: ")) << r.status().message();
    EXPECT_NE(r.status().message().find(fragment), std::string::npos) << r.status().message();
  }
}

// ---------------------------------------------------------------------------------------------
// Envelopes.

TEST(SignatureEnvelopeTest, SignsTheManifestAndRoundTrips) {
  const PrivateKey key = SeededKey(1);
  const Manifest manifest = ModelManifest();
  Result<std::string> bytes = SignManifest(manifest, key);
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();

  // Canonical: sorted members, no whitespace, 88 characters of base64 for 64 bytes.
  const std::string head = "{\"algorithm\":\"ed25519\",\"key_id\":\"" + key.public_key().KeyId() +
                           "\",\"schema\":\"tessera.signature/v1\",\"signature\":\"";
  ASSERT_TRUE(bytes->starts_with(head)) << *bytes;
  EXPECT_EQ(bytes->size(), head.size() + 88 + 2);
  EXPECT_TRUE(bytes->ends_with("==\"}")) << *bytes;

  Result<SignatureEnvelope> envelope = ParseSignatureEnvelope(*bytes);
  ASSERT_TRUE(envelope.ok()) << envelope.status().ToString();
  EXPECT_EQ(envelope->key_id, key.public_key().KeyId());
  const std::string message = *SigningMessage(manifest);
  EXPECT_TRUE(key.public_key().Verify(AsBytes(message), envelope->signature).ok());
  EXPECT_EQ(envelope->signature, *key.Sign(AsBytes(message)));
  EXPECT_EQ(SignatureEnvelopeJson(*envelope), *bytes);

  // Ed25519 is deterministic: signing again gives the same bytes; another key does not.
  EXPECT_EQ(*SignManifest(manifest, key), *bytes);
  EXPECT_NE(*SignManifest(manifest, SeededKey(2)), *bytes);
}

TEST(SignatureEnvelopeTest, ReadsAnyJsonSpellingOfTheObject) {
  SignatureEnvelope envelope{SeededKey(3).public_key().KeyId(), {}};
  for (std::size_t i = 0; i < envelope.signature.size(); ++i) {
    envelope.signature[i] = static_cast<std::uint8_t>(i * 37 + 11);
  }
  const std::string signature = Base64Encode(envelope.signature);
  const std::string text = " {\n  \"signature\" : \"" + signature + "\",\n  \"key_id\": \"" +
                           envelope.key_id +
                           "\", \"algorithm\": \"ed\\u0032\\u0035519\",\n"
                           "  \"schema\": \"tessera.signature\\/v1\"\n}\n";
  Result<SignatureEnvelope> parsed = ParseSignatureEnvelope(text);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(*parsed, envelope);
  EXPECT_EQ(*ParseSignatureEnvelope(SignatureEnvelopeJson(envelope)), envelope);
}

TEST(SignatureEnvelopeTest, SignManifestRefusesAManifestThatDoesNotParse) {
  Manifest manifest = ModelManifest();
  manifest.artifacts.clear();
  Result<std::string> bytes = SignManifest(manifest, SeededKey(4));
  ASSERT_FALSE(bytes.ok());
  EXPECT_EQ(bytes.status().group(), StatusGroup::kInput) << bytes.status().ToString();
}

TEST(SignatureEnvelopeTest, KeyIdSyntax) {
  EXPECT_TRUE(IsKeyIdSyntax("ed25519:0123456789abcdef"));
  EXPECT_TRUE(IsKeyIdSyntax(SeededKey(5).public_key().KeyId()));
  EXPECT_FALSE(IsKeyIdSyntax("ed25519:0123456789ABCDEF"));
  EXPECT_FALSE(IsKeyIdSyntax("ed25519:0123456789abcde"));
  EXPECT_FALSE(IsKeyIdSyntax("ed25519:0123456789abcdef0"));
  EXPECT_FALSE(IsKeyIdSyntax("ed448:0123456789abcdef"));
  EXPECT_FALSE(IsKeyIdSyntax("ED25519:0123456789abcdef"));
  EXPECT_FALSE(IsKeyIdSyntax("ed25519:0123456789abcdeg"));
  EXPECT_FALSE(IsKeyIdSyntax(""));
}

// An envelope as JSON members, so each case changes one.
struct Members {
  std::string schema = "\"schema\":\"tessera.signature/v1\"";
  std::string key_id = "\"key_id\":\"ed25519:0123456789abcdef\"";
  std::string algorithm = "\"algorithm\":\"ed25519\"";
  std::string signature;
  std::string extra;
  std::string Text() const {
    std::string out = "{";
    for (const std::string* m : {&schema, &key_id, &algorithm, &signature, &extra}) {
      if (m->empty()) continue;
      if (out.size() > 1) out += ",";
      out += *m;
    }
    return out + "}";
  }
};

std::string SignatureMember(std::size_t n_bytes) {
  std::vector<std::uint8_t> bytes(n_bytes, 0x5a);
  return "\"signature\":\"" + Base64Encode(bytes) + "\"";
}

Members Valid() {
  Members m;
  m.signature = SignatureMember(kEd25519SignatureBytes);
  return m;
}

TEST(SignatureEnvelopeTest, TheMembersTableIsValidUnchanged) {
  Result<SignatureEnvelope> r = ParseSignatureEnvelope(Valid().Text());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->key_id, "ed25519:0123456789abcdef");
  EXPECT_EQ(r->signature[0], 0x5a);
}

TEST(SignatureEnvelopeTest, RefusesEveryMalformedEnvelope) {
  struct Case {
    std::string what;
    std::string text;
    StatusCode code;
    std::string fragment;
  };
  auto edit = [](auto change) {
    Members m = Valid();
    change(m);
    return m.Text();
  };
  const std::string sig64 = Base64Encode(std::vector<std::uint8_t>(64, 0x5a));
  const Case kCases[] = {
      // Not an object.
      {"empty", "", StatusCode::kMalformed, "not valid JSON"},
      {"not json", "{schema: 1}", StatusCode::kMalformed, "not valid JSON"},
      {"trailing bytes", Valid().Text() + "x", StatusCode::kMalformed, "not valid JSON"},
      {"two objects", Valid().Text() + Valid().Text(), StatusCode::kMalformed, "not valid JSON"},
      {"array", "[" + Valid().Text() + "]", StatusCode::kMalformed, "must be a JSON object"},
      {"string", "\"ed25519\"", StatusCode::kMalformed, "must be a JSON object, not string"},
      {"number", "64", StatusCode::kMalformed, "must be a JSON object, not number"},
      {"null", "null", StatusCode::kMalformed, "must be a JSON object, not null"},
      {"invalid utf-8", edit([](Members& m) { m.extra = "\"x\":\"\xff\""; }),
       StatusCode::kMalformed, "not valid JSON"},
      // Schema.
      {"schema v2", edit([](Members& m) { m.schema = "\"schema\":\"tessera.signature/v2\""; }),
       StatusCode::kUnsupported, "\"schema\" \"tessera.signature/v2\" is not supported"},
      {"schema v2 with other members", edit([](Members& m) {
         m.schema = "\"schema\":\"tessera.signature/v2\"";
         m.extra = "\"chain\":[]";
       }),
       StatusCode::kUnsupported, "is not supported"},
      {"package schema", edit([](Members& m) { m.schema = "\"schema\":\"tessera.package/v1\""; }),
       StatusCode::kUnsupported, "\"schema\""},
      {"schema case", edit([](Members& m) { m.schema = "\"schema\":\"Tessera.signature/v1\""; }),
       StatusCode::kUnsupported, "\"schema\""},
      {"schema number", edit([](Members& m) { m.schema = "\"schema\":1"; }), StatusCode::kMalformed,
       "member \"schema\" must be a string, not number"},
      {"schema missing", edit([](Members& m) { m.schema.clear(); }), StatusCode::kMalformed,
       "member \"schema\" is missing"},
      // Members.
      {"extra member", edit([](Members& m) { m.extra = "\"comment\":\"hi\""; }),
       StatusCode::kMalformed, "unknown member \"comment\""},
      {"extra null member", edit([](Members& m) { m.extra = "\"signatures\":null"; }),
       StatusCode::kMalformed, "unknown member \"signatures\""},
      {"key_id missing", edit([](Members& m) { m.key_id.clear(); }), StatusCode::kMalformed,
       "member \"key_id\" is missing"},
      {"algorithm missing", edit([](Members& m) { m.algorithm.clear(); }), StatusCode::kMalformed,
       "member \"algorithm\" is missing"},
      {"signature missing", edit([](Members& m) { m.signature.clear(); }), StatusCode::kMalformed,
       "member \"signature\" is missing"},
      {"duplicate signature",
       edit([&](Members& m) { m.extra = "\"signature\":\"" + sig64 + "\""; }),
       StatusCode::kDuplicate, "/signature"},
      {"duplicate schema",
       edit([](Members& m) { m.extra = "\"schema\":\"tessera.signature/v1\""; }),
       StatusCode::kDuplicate, "/schema"},
      {"duplicate key_id", edit([](Members& m) { m.extra = m.key_id; }), StatusCode::kDuplicate,
       "/key_id"},
      // Algorithm.
      {"algorithm ed448", edit([](Members& m) { m.algorithm = "\"algorithm\":\"ed448\""; }),
       StatusCode::kUnsupported, "member \"algorithm\" \"ed448\" is not supported"},
      {"algorithm case", edit([](Members& m) { m.algorithm = "\"algorithm\":\"Ed25519\""; }),
       StatusCode::kUnsupported, "\"Ed25519\""},
      {"algorithm ed25519ph", edit([](Members& m) { m.algorithm = "\"algorithm\":\"ed25519ph\""; }),
       StatusCode::kUnsupported, "\"algorithm\""},
      {"algorithm array", edit([](Members& m) { m.algorithm = "\"algorithm\":[\"ed25519\"]"; }),
       StatusCode::kMalformed, "member \"algorithm\" must be a string, not array"},
      // Key id.
      {"key_id upper",
       edit([](Members& m) { m.key_id = "\"key_id\":\"ed25519:0123456789ABCDEF\""; }),
       StatusCode::kMalformed, "member \"key_id\" \"ed25519:0123456789ABCDEF\""},
      {"key_id short", edit([](Members& m) { m.key_id = "\"key_id\":\"ed25519:0123\""; }),
       StatusCode::kMalformed, "member \"key_id\""},
      {"key_id full key",
       edit([](Members& m) { m.key_id = "\"key_id\":\"ed25519:" + std::string(64, 'a') + "\""; }),
       StatusCode::kMalformed, "member \"key_id\""},
      {"key_id no algorithm",
       edit([](Members& m) { m.key_id = "\"key_id\":\"0123456789abcdef\""; }),
       StatusCode::kMalformed, "member \"key_id\""},
      {"key_id number", edit([](Members& m) { m.key_id = "\"key_id\":42"; }),
       StatusCode::kMalformed, "member \"key_id\" must be a string, not number"},
      // Signature.
      {"signature number", edit([](Members& m) { m.signature = "\"signature\":0"; }),
       StatusCode::kMalformed, "member \"signature\" must be a string, not number"},
      {"signature bad char",
       edit([&](Members& m) { m.signature = "\"signature\":\"*" + sig64.substr(1) + "\""; }),
       StatusCode::kMalformed, "member \"signature\": character '*' at offset 0"},
      {"signature url-safe",
       edit([&](Members& m) { m.signature = "\"signature\":\"_" + sig64.substr(1) + "\""; }),
       StatusCode::kMalformed, "member \"signature\": character '_' at offset 0"},
      {"signature space", edit([&](Members& m) {
         m.signature = "\"signature\":\"" + sig64.substr(0, 40) + " " + sig64.substr(41) + "\"";
       }),
       StatusCode::kMalformed, "member \"signature\": character 0x20 at offset 40"},
      {"signature line breaks", edit([&](Members& m) {
         m.signature = "\"signature\":\"" + sig64.substr(0, 44) + "\\n" + sig64.substr(44) + "\"";
       }),
       StatusCode::kMalformed, "member \"signature\": base64 length 89"},
      {"signature no padding",
       edit([&](Members& m) { m.signature = "\"signature\":\"" + sig64.substr(0, 86) + "\""; }),
       StatusCode::kMalformed, "member \"signature\": base64 length 86"},
      {"signature extra padding",
       edit([&](Members& m) { m.signature = "\"signature\":\"" + sig64 + "====\""; }),
       StatusCode::kMalformed, "member \"signature\": base64 padding '=' at offset 86"},
      {"signature non-canonical padding bits", edit([&](Members& m) {
         std::string s = sig64;
         s[85] = 'b';  // 0x5a encodes as "Wg==": the last data character carries 4 unused bits
         m.signature = "\"signature\":\"" + s + "\"";
       }),
       StatusCode::kMalformed, "member \"signature\": base64 character at offset 85"},
      {"signature 63 bytes", edit([](Members& m) { m.signature = SignatureMember(63); }),
       StatusCode::kMalformed, "member \"signature\" decodes to 63 bytes, not 64"},
      {"signature 65 bytes", edit([](Members& m) { m.signature = SignatureMember(65); }),
       StatusCode::kMalformed, "member \"signature\" decodes to 65 bytes, not 64"},
      {"signature empty", edit([](Members& m) { m.signature = SignatureMember(0); }),
       StatusCode::kMalformed, "decodes to 0 bytes"},
      {"signature hex",
       edit([&](Members& m) { m.signature = "\"signature\":\"" + std::string(128, 'a') + "\""; }),
       StatusCode::kMalformed, "decodes to 96 bytes"},
      // Limits.
      {"deep nesting",
       edit([](Members& m) { m.extra = "\"x\":" + std::string(20, '[') + std::string(20, ']'); }),
       StatusCode::kResourceExhausted, "deeper"},
      {"huge input",
       edit([](Members& m) { m.extra = "\"x\":\"" + std::string(70000, 'a') + "\""; }),
       StatusCode::kResourceExhausted, "65536"},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.what + ": " + c.text.substr(0, 200));
    ExpectRefused(ParseSignatureEnvelope(c.text), c.code, c.fragment);
  }
}

TEST(SignatureEnvelopeTest, SizeLimitIsExact) {
  const std::string valid = Valid().Text();
  std::string at_limit = valid + std::string(kMaxSignatureEnvelopeBytes - valid.size(), ' ');
  ASSERT_EQ(at_limit.size(), kMaxSignatureEnvelopeBytes);
  EXPECT_TRUE(ParseSignatureEnvelope(at_limit).ok());
  at_limit.push_back(' ');
  ExpectRefused(ParseSignatureEnvelope(at_limit), StatusCode::kResourceExhausted, "65537");
}

}  // namespace
}  // namespace tessera::package

// The trust policy: every rule of registry/trust_policy.h, accepted and refused, with seeded keys
// and the model manifest of tests/package/data.
#include "registry/trust_policy.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "package/manifest.h"
#include "package/signature.h"
#include "package/signature_envelope.h"

namespace tessera::registry {
namespace {

using package::Manifest;
using package::PrivateKey;
using package::PublicKey;

constexpr std::string_view kPackage = "dev.tessera.skills.extract@1.2.0-rc.1+build.7";

// A key from a deterministic 32-byte seed.
PrivateKey SeededKey(std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<std::uint8_t> bytes(package::kEd25519KeyBytes);
  for (std::uint8_t& b : bytes) b = static_cast<std::uint8_t>(rng());
  Result<PrivateKey> key = PrivateKey::FromSeed(bytes);
  EXPECT_TRUE(key.ok()) << key.status().ToString();
  return std::move(key).value();
}

// tests/package/data/model_manifest.json: id dev.tessera.skills.extract, version
// 1.2.0-rc.1+build.7, licence Apache-2.0, capabilities ["emit:json"].
Manifest ModelManifest() {
  const std::string path =
      std::string(TESSERA_SOURCE_DIR) + "/tests/package/data/model_manifest.json";
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << path;
  std::stringstream ss;
  ss << in.rdbuf();
  Result<Manifest> m = package::ParseManifest(ss.str());
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  return m.ok() ? *m : Manifest();
}

std::string Sign(const Manifest& manifest, const PrivateKey& key) {
  Result<std::string> envelope = package::SignManifest(manifest, key);
  EXPECT_TRUE(envelope.ok()) << envelope.status().ToString();
  return envelope.ok() ? *envelope : std::string();
}

TrustedKey Trust(std::string name, const PrivateKey& key, std::vector<std::string> prefixes,
                 std::vector<std::string> capabilities, std::vector<std::string> licenses = {}) {
  return TrustedKey{.name = std::move(name),
                    .key = key.public_key(),
                    .id_prefixes = std::move(prefixes),
                    .capabilities = std::move(capabilities),
                    .licenses = std::move(licenses)};
}

void ExpectRefused(const Result<TrustDecision>& r, StatusCode code,
                   const std::vector<std::string>& fragments) {
  ASSERT_FALSE(r.ok()) << "accepted, signer " << r->signer;
  EXPECT_EQ(r.status().code(), code) << r.status().ToString();
  EXPECT_TRUE(r.status().message().starts_with("registry: trust: ")) << r.status().message();
  for (const std::string& fragment : fragments) {
    EXPECT_NE(r.status().message().find(fragment), std::string::npos)
        << "message: " << r.status().message() << "\nexpected to contain: " << fragment;
  }
}

class TrustPolicyTest : public ::testing::Test {
 protected:
  TrustPolicyTest() : dev_(SeededKey(101)), other_(SeededKey(202)), manifest_(ModelManifest()) {
    policy_.keys.push_back(
        Trust("local-dev", dev_, {"dev.tessera."}, {"emit:*"}, {"Apache-2.0", "MIT"}));
  }

  PrivateKey dev_;
  PrivateKey other_;
  Manifest manifest_;
  TrustPolicy policy_;
};

// ---------------------------------------------------------------------------------------------
// Signed packages.

TEST_F(TrustPolicyTest, AdmitsAPackageSignedByATrustedKeyWithinItsRules) {
  const std::string envelope = Sign(manifest_, dev_);
  Result<TrustDecision> d = Evaluate(policy_, manifest_, envelope);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->signer, "local-dev");
  EXPECT_EQ(d->key_id, dev_.public_key().KeyId());
  EXPECT_EQ(d->granted, std::vector<std::string>{"emit:json"});
}

TEST_F(TrustPolicyTest, RefusesAManifestEditedAfterSigning) {
  const std::string envelope = Sign(manifest_, dev_);
  const std::vector<std::pair<std::string, std::function<void(Manifest&)>>> kEdits = {
      {"description", [](Manifest& m) { m.description += "!"; }},
      {"capability added", [](Manifest& m) { m.capabilities.push_back("emit:text"); }},
      {"artifact hash", [](Manifest& m) { m.artifacts[0].sha256[0] = 'd'; }},
      {"licence", [](Manifest& m) { m.license = "MIT"; }},
      {"annotation", [](Manifest& m) { m.annotations["x"] = "y"; }},
  };
  for (const auto& [what, edit] : kEdits) {
    SCOPED_TRACE(what);
    Manifest edited = manifest_;
    edit(edited);
    ExpectRefused(Evaluate(policy_, edited, envelope), StatusCode::kIntegrity,
                  {std::string(kPackage.substr(0, kPackage.find('@'))),
                   "signature does not match the manifest (edited after signing?)",
                   dev_.public_key().KeyId()});
  }
}

TEST_F(TrustPolicyTest, RefusesAnEditedSignature) {
  Result<package::SignatureEnvelope> envelope =
      package::ParseSignatureEnvelope(Sign(manifest_, dev_));
  ASSERT_TRUE(envelope.ok());
  for (std::size_t byte : {0u, 31u, 63u}) {
    package::SignatureEnvelope changed = *envelope;
    changed.signature[byte] ^= 0x01;
    ExpectRefused(Evaluate(policy_, manifest_, package::SignatureEnvelopeJson(changed)),
                  StatusCode::kIntegrity, {"signature does not match the manifest"});
  }
}

TEST_F(TrustPolicyTest, RefusesAnUnknownKey) {
  ExpectRefused(
      Evaluate(policy_, manifest_, Sign(manifest_, other_)), StatusCode::kPermissionDenied,
      {std::string(kPackage), "(key " + other_.public_key().KeyId() + ")", "unknown key"});
  // An empty policy knows no key.
  ExpectRefused(Evaluate(TrustPolicy{}, manifest_, Sign(manifest_, dev_)),
                StatusCode::kPermissionDenied, {"unknown key"});
}

TEST_F(TrustPolicyTest, ATrustedKeyIdInAnEnvelopeSignedByAnotherKeyGetsNothing) {
  // other_ signs, but the envelope names dev_'s id.
  Result<package::SignatureEnvelope> honest =
      package::ParseSignatureEnvelope(Sign(manifest_, other_));
  ASSERT_TRUE(honest.ok());
  package::SignatureEnvelope forged = *honest;
  forged.key_id = dev_.public_key().KeyId();
  ExpectRefused(Evaluate(policy_, manifest_, package::SignatureEnvelopeJson(forged)),
                StatusCode::kIntegrity,
                {"signature does not match the manifest", dev_.public_key().KeyId()});
}

TEST_F(TrustPolicyTest, KeysWhoseIdsShareAPrefixAreNotConfused) {
  // Seeded search for two keys whose ids share their first 16 bits (a birthday search over a
  // few hundred keys); a full 64-bit collision cannot be built in a test.
  std::map<std::string, std::uint32_t> seen;
  std::optional<std::pair<std::uint32_t, std::uint32_t>> pair;
  for (std::uint32_t seed = 1000; seed < 6000 && !pair; ++seed) {
    const std::string id = SeededKey(seed).public_key().KeyId();
    const std::string head = id.substr(0, std::string("ed25519:").size() + 4);
    auto [it, inserted] = seen.emplace(head, seed);
    if (!inserted) pair = {it->second, seed};
  }
  ASSERT_TRUE(pair.has_value());
  const PrivateKey trusted = SeededKey(pair->first);
  const PrivateKey lookalike = SeededKey(pair->second);
  const std::string trusted_id = trusted.public_key().KeyId();
  const std::string lookalike_id = lookalike.public_key().KeyId();
  ASSERT_EQ(trusted_id.substr(0, 12), lookalike_id.substr(0, 12));
  ASSERT_NE(trusted_id, lookalike_id);

  TrustPolicy policy;
  policy.keys.push_back(Trust("trusted", trusted, {"*"}, {"*"}));
  ASSERT_TRUE(Evaluate(policy, manifest_, Sign(manifest_, trusted)).ok());
  // Honest envelope of the look-alike: its id is not the trusted id.
  ExpectRefused(Evaluate(policy, manifest_, Sign(manifest_, lookalike)),
                StatusCode::kPermissionDenied, {"unknown key", lookalike_id});
  // The look-alike claims the trusted id: the full key does not verify its signature.
  Result<package::SignatureEnvelope> envelope =
      package::ParseSignatureEnvelope(Sign(manifest_, lookalike));
  ASSERT_TRUE(envelope.ok());
  envelope->key_id = trusted_id;
  ExpectRefused(Evaluate(policy, manifest_, package::SignatureEnvelopeJson(*envelope)),
                StatusCode::kIntegrity, {"signature does not match the manifest"});
}

TEST_F(TrustPolicyTest, RefusesAKeySigningOutsideItsPrefixes) {
  Manifest outside = manifest_;
  outside.id = "org.example.skills.extract";
  ExpectRefused(Evaluate(policy_, outside, Sign(outside, dev_)), StatusCode::kPermissionDenied,
                {"org.example.skills.extract@1.2.0-rc.1+build.7",
                 "key \"local-dev\" may not sign package id \"org.example.skills.extract\"",
                 "\"dev.tessera.\"", dev_.public_key().KeyId()});

  // Prefix boundaries: a prefix ending in "." covers longer ids only; others are exact ids.
  const std::vector<std::pair<std::string, bool>> kPrefixes = {
      {"dev.tessera.", true},
      {"dev.", true},
      {"dev.tessera.skills.", true},
      // An exact-id key may sign the package but not let it replace (or conflict with)
      // dev.tessera.skills.extract-legacy, which the manifest names (issue 17).
      {"dev.tessera.skills.extract", false},
      {"*", true},
      {"dev.tessera", false},
      {"dev.tess.", false},
      {"dev.tessera.skills.extract.", false},
      {"dev.tessera.skills.ext", false},
      {"dev.tessera.skills.extractor", false},
      {"org.", false},
  };
  for (const auto& [prefix, allowed] : kPrefixes) {
    SCOPED_TRACE(prefix);
    TrustPolicy policy;
    policy.keys.push_back(Trust("k", dev_, {"org.example.", prefix}, {"*"}));
    Result<TrustDecision> d = Evaluate(policy, manifest_, Sign(manifest_, dev_));
    EXPECT_EQ(d.ok(), allowed) << (d.ok() ? "accepted" : d.status().ToString());
    if (!allowed) {
      EXPECT_EQ(d.status().code(), StatusCode::kPermissionDenied);
    }
  }
}

// Issue 17: the decision covers every id the manifest acts on. The sample manifest replaces and
// conflicts with dev.tessera.skills.extract-legacy.
TEST_F(TrustPolicyTest, RefusesReplacingOrConflictingWithIdsOutsideTheSignersAuthority) {
  Manifest m = manifest_;
  m.dependencies.conflicts.clear();
  m.dependencies.replaces[0].id = "org.victim.skill";
  TrustPolicy policy;
  policy.keys.push_back(Trust("narrow", dev_, {"dev.tessera."}, {"*"}));
  ExpectRefused(Evaluate(policy, m, Sign(m, dev_)), StatusCode::kPermissionDenied,
                {"key \"narrow\" may not replace package id \"org.victim.skill\"",
                 "[\"dev.tessera.\"]"});
  // The same key, trusted for that exact id too, may.
  policy.keys[0].id_prefixes.push_back("org.victim.skill");
  EXPECT_TRUE(Evaluate(policy, m, Sign(m, dev_)).ok());

  m = manifest_;
  m.dependencies.replaces.clear();
  m.dependencies.conflicts[0].id = "org.victim.skill";
  policy.keys[0].id_prefixes = {"dev.tessera."};
  ExpectRefused(Evaluate(policy, m, Sign(m, dev_)), StatusCode::kPermissionDenied,
                {"may not declare a conflict with package id \"org.victim.skill\""});

  // Unsigned: the allow-list is the authority.
  m = manifest_;
  m.capabilities = {"emit:text"};
  m.dependencies.conflicts.clear();
  policy.unsigned_prefixes = {"dev.tessera.skills."};
  EXPECT_TRUE(Evaluate(policy, m, std::nullopt).ok());  // replaces ...extract-legacy: covered
  m.dependencies.replaces[0].id = "dev.tessera.base";
  ExpectRefused(Evaluate(policy, m, std::nullopt), StatusCode::kPermissionDenied,
                {"(unsigned)", "an unsigned package may not replace package id \"dev.tessera.base\"",
                 "[\"dev.tessera.skills.\"]"});
  // Requirements are not gated: any id.
  m = manifest_;
  m.capabilities = {"emit:text"};
  m.dependencies = {};
  m.dependencies.requirements.push_back(
      {"org.elsewhere.lib", package::RangeValue{package::VersionRange::Parse("^1.0.0").value()}});
  EXPECT_TRUE(Evaluate(policy, m, std::nullopt).ok());
}

TEST_F(TrustPolicyTest, GrantsCapabilitiesByExactNameVerbGlobOrStar) {
  struct Case {
    std::vector<std::string> grantable;
    std::vector<std::string> claimed;
    std::string refused;  // "" = admitted
  };
  const Case kCases[] = {
      {{"emit:*"}, {"emit:json", "emit:text"}, ""},
      {{"emit:json"}, {"emit:json"}, ""},
      {{"*"}, {"emit:json", "route:skills", "call:tools.date"}, ""},
      {{}, {}, ""},
      {{"emit:text"}, {}, ""},
      {{"route:skills", "emit:json"}, {"emit:json", "route:skills"}, ""},
      {{"emit:*"}, {"emit:json", "route:skills"}, "route:skills"},
      {{"emit:text"}, {"emit:json"}, "emit:json"},
      {{}, {"emit:text"}, "emit:text"},
      {{"emit:json"}, {"emit:json", "emit:text"}, "emit:text"},
      {{"emit:*"}, {"emitx:json"}, "emitx:json"},
      {{"route:*"}, {"route-all:skills"}, "route-all:skills"},
  };
  for (const Case& c : kCases) {
    Manifest m = manifest_;
    m.capabilities = c.claimed;
    TrustPolicy policy;
    policy.keys.push_back(Trust("caps", dev_, {"dev.tessera."}, c.grantable));
    Result<TrustDecision> d = Evaluate(policy, m, Sign(m, dev_));
    SCOPED_TRACE(c.refused);
    if (c.refused.empty()) {
      ASSERT_TRUE(d.ok()) << d.status().ToString();
      EXPECT_EQ(d->granted, c.claimed);
    } else {
      ExpectRefused(d, StatusCode::kPermissionDenied,
                    {"key \"caps\" may not grant capability \"" + c.refused + "\""});
    }
  }
}

TEST_F(TrustPolicyTest, AppliesTheLicenceList) {
  const std::vector<std::pair<std::string, bool>> kLicences = {
      {"Apache-2.0", true},    {"MIT", true},          {"apache-2.0", true},  // SPDX: any case
      {"GPL-3.0-only", false}, {"Apache-2.0+", false}, {"LicenseRef-acme", false},
  };
  for (const auto& [licence, allowed] : kLicences) {
    SCOPED_TRACE(licence);
    Manifest m = manifest_;
    m.license = licence;
    Result<TrustDecision> d = Evaluate(policy_, m, Sign(m, dev_));
    if (allowed) {
      EXPECT_TRUE(d.ok()) << d.status().ToString();
    } else {
      ExpectRefused(d, StatusCode::kPermissionDenied,
                    {"key \"local-dev\" may not sign licence \"" + licence + "\"",
                     "\"Apache-2.0\", \"MIT\""});
    }
  }
  // An empty list allows any licence.
  Manifest gpl = manifest_;
  gpl.license = "GPL-3.0-only";
  TrustPolicy any;
  any.keys.push_back(Trust("any-licence", dev_, {"dev."}, {"emit:*"}));
  EXPECT_TRUE(Evaluate(any, gpl, Sign(gpl, dev_)).ok());
}

TEST_F(TrustPolicyTest, ChecksPrefixThenCapabilityThenLicence) {
  Manifest m = manifest_;
  m.id = "org.example.x";
  m.capabilities = {"route:skills"};
  m.license = "GPL-3.0-only";
  ExpectRefused(Evaluate(policy_, m, Sign(m, dev_)), StatusCode::kPermissionDenied,
                {"may not sign package id"});
  m.id = manifest_.id;
  ExpectRefused(Evaluate(policy_, m, Sign(m, dev_)), StatusCode::kPermissionDenied,
                {"may not grant capability \"route:skills\""});
  m.capabilities = manifest_.capabilities;
  ExpectRefused(Evaluate(policy_, m, Sign(m, dev_)), StatusCode::kPermissionDenied,
                {"may not sign licence"});
  // Integrity comes before authority: an edited manifest outside the prefix is kIntegrity.
  const std::string envelope = Sign(m, dev_);
  m.id = "org.example.x";
  ExpectRefused(Evaluate(policy_, m, envelope), StatusCode::kIntegrity, {"edited after signing"});
}

TEST_F(TrustPolicyTest, EntriesForOneKeyAreJudgedAloneInPolicyOrder) {
  TrustPolicy policy;
  policy.keys.push_back(Trust("narrow", dev_, {"org.example."}, {"emit:*"}));
  policy.keys.push_back(Trust("json-only", dev_, {"dev.tessera."}, {"emit:text"}));
  policy.keys.push_back(Trust("wide", dev_, {"dev.tessera."}, {"emit:*"}));
  policy.keys.push_back(Trust("widest", dev_, {"*"}, {"*"}));
  Result<TrustDecision> d = Evaluate(policy, manifest_, Sign(manifest_, dev_));
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->signer, "wide");

  // Grants are not combined: one entry may sign the id, another the capability; neither both.
  TrustPolicy split;
  split.keys.push_back(Trust("ids", dev_, {"dev.tessera."}, {}));
  split.keys.push_back(Trust("caps", dev_, {"org.example."}, {"emit:*"}));
  ExpectRefused(Evaluate(split, manifest_, Sign(manifest_, dev_)), StatusCode::kPermissionDenied,
                {"key \"ids\" may not grant capability \"emit:json\""});

  // A different key's entry with the same rules does not help an unknown-signature envelope.
  TrustPolicy two;
  two.keys.push_back(Trust("other", other_, {"*"}, {"*"}));
  two.keys.push_back(Trust("dev", dev_, {"*"}, {"*"}));
  d = Evaluate(two, manifest_, Sign(manifest_, dev_));
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->signer, "dev");
}

TEST_F(TrustPolicyTest, RefusesABadEnvelopeWithItsOwnCode) {
  const std::pair<std::string, StatusCode> kBad[] = {
      {"", StatusCode::kMalformed},
      {"[]", StatusCode::kMalformed},
      {"{\"schema\":\"tessera.signature/v9\"}", StatusCode::kUnsupported},
      {std::string(package::kMaxSignatureEnvelopeBytes + 1, ' '), StatusCode::kResourceExhausted},
  };
  policy_.unsigned_prefixes = {"*"};  // a bad envelope is never read as "unsigned"
  for (const auto& [bytes, code] : kBad) {
    ExpectRefused(Evaluate(policy_, manifest_, bytes), code,
                  {std::string(kPackage), "package: signature envelope"});
  }
}

// ---------------------------------------------------------------------------------------------
// Unsigned packages.

TEST_F(TrustPolicyTest, RefusesUnsignedPackagesByDefault) {
  ExpectRefused(
      Evaluate(policy_, manifest_, std::nullopt), StatusCode::kPermissionDenied,
      {std::string(kPackage) + " (unsigned)", "unsigned package refused by the trust policy"});
  policy_.unsigned_prefixes = {"org.example.", "dev.tessera.skills.extract."};
  ExpectRefused(Evaluate(policy_, manifest_, std::nullopt), StatusCode::kPermissionDenied,
                {"unsigned package refused by the trust policy", "\"org.example.\""});
}

TEST_F(TrustPolicyTest, AdmitsUnsignedPackagesUnderAnUnsignedPrefixWithEmitTextAtMost) {
  policy_.unsigned_prefixes = {"dev.tessera.skills."};
  // The model manifest claims emit:json.
  ExpectRefused(
      Evaluate(policy_, manifest_, std::nullopt), StatusCode::kPermissionDenied,
      {"unsigned package may claim no capability other than \"emit:text\"", "\"emit:json\""});

  Manifest text = manifest_;
  text.capabilities = {"emit:text"};
  Result<TrustDecision> d = Evaluate(policy_, text, std::nullopt);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->signer, "");
  EXPECT_EQ(d->key_id, "");
  EXPECT_EQ(d->granted, std::vector<std::string>{"emit:text"});

  Manifest none = manifest_;
  none.capabilities.clear();
  none.license = "LicenseRef-anything";  // licence lists belong to keys
  d = Evaluate(policy_, none, std::nullopt);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_TRUE(d->granted.empty());
}

TEST_F(TrustPolicyTest, AnEnvelopeIsNeverDowngradedToUnsigned) {
  Manifest text = manifest_;
  text.capabilities = {"emit:text"};
  policy_.unsigned_prefixes = {"*"};
  ASSERT_TRUE(Evaluate(policy_, text, std::nullopt).ok());
  ExpectRefused(Evaluate(policy_, text, Sign(text, other_)), StatusCode::kPermissionDenied,
                {"unknown key"});
  const std::string envelope = Sign(text, dev_);
  text.description = "edited";
  ExpectRefused(Evaluate(policy_, text, envelope), StatusCode::kIntegrity,
                {"edited after signing"});
}

// ---------------------------------------------------------------------------------------------
// Validation of stored keys.

TEST(ValidateTrustedKeyTest, AcceptsWellFormedKeys) {
  const PrivateKey k = SeededKey(7);
  const TrustedKey keys[] = {
      Trust("local-dev", k, {"dev.tessera."}, {"emit:*"}, {"Apache-2.0"}),
      Trust("a", k, {"*"}, {"*"}),
      Trust(std::string(64, 'x'), k, {"dev.", "org.example.skills.date", "a1.b-2.c"},
            {"emit:text", "route:skills", "call:tools.date_v-2", "x-y:*"},
            {"MIT", "LicenseRef-acme.internal", "GPL-2.0+", "0BSD"}),
      Trust("Acme_Release-2.1", k, {"dev.tessera."}, {}),
  };
  for (const TrustedKey& key : keys) {
    SCOPED_TRACE(key.name);
    EXPECT_TRUE(ValidateTrustedKey(key).ok()) << ValidateTrustedKey(key).ToString();
  }
}

TEST(ValidateTrustedKeyTest, RefusesEachBadValueByName) {
  const PrivateKey k = SeededKey(8);
  const TrustedKey good = Trust("good", k, {"dev.tessera."}, {"emit:*"}, {"MIT"});
  struct Case {
    std::string what;
    std::function<void(TrustedKey&)> edit;
    std::string fragment;
  };
  const std::vector<Case> kCases = {
      {"empty name", [](TrustedKey& t) { t.name = ""; }, "key name \"\""},
      {"long name", [](TrustedKey& t) { t.name = std::string(65, 'x'); }, "key name"},
      {"name space", [](TrustedKey& t) { t.name = "local dev"; }, "\"local dev\""},
      {"name slash", [](TrustedKey& t) { t.name = "a/b"; }, "\"a/b\""},
      {"name control", [](TrustedKey& t) { t.name = "a\nb"; }, "\"a\\x0ab\""},
      {"no prefixes", [](TrustedKey& t) { t.id_prefixes.clear(); }, "id_prefixes is empty"},
      {"empty prefix", [](TrustedKey& t) { t.id_prefixes = {""}; }, "id pattern \"\""},
      {"upper prefix", [](TrustedKey& t) { t.id_prefixes = {"Dev."}; }, "\"Dev.\""},
      {"one label", [](TrustedKey& t) { t.id_prefixes = {"dev"}; }, "\"dev\""},
      {"leading dot", [](TrustedKey& t) { t.id_prefixes = {".dev."}; }, "\".dev.\""},
      {"empty label", [](TrustedKey& t) { t.id_prefixes = {"dev..x."}; }, "\"dev..x.\""},
      {"dash label", [](TrustedKey& t) { t.id_prefixes = {"dev.-x."}; }, "\"dev.-x.\""},
      {"glob in prefix", [](TrustedKey& t) { t.id_prefixes = {"dev.*"}; }, "\"dev.*\""},
      {"star label", [](TrustedKey& t) { t.id_prefixes = {"*.dev"}; }, "\"*.dev\""},
      {"only dot", [](TrustedKey& t) { t.id_prefixes = {"."}; }, "\".\""},
      {"long prefix", [](TrustedKey& t) { t.id_prefixes = {"a." + std::string(127, 'b')}; },
       "1 to 128"},
      {"dup prefix",
       [](TrustedKey& t) {
         t.id_prefixes = {"dev.", "dev."};
       },
       "id_prefixes lists \"dev.\" twice"},
      {"cap no object", [](TrustedKey& t) { t.capabilities = {"emit"}; }, "\"emit\""},
      {"cap empty object", [](TrustedKey& t) { t.capabilities = {"emit:"}; }, "\"emit:\""},
      {"cap upper", [](TrustedKey& t) { t.capabilities = {"Emit:text"}; }, "\"Emit:text\""},
      {"cap verb glob", [](TrustedKey& t) { t.capabilities = {"*:text"}; }, "\"*:text\""},
      {"cap partial glob", [](TrustedKey& t) { t.capabilities = {"emit:js*"}; }, "\"emit:js*\""},
      {"cap two colons", [](TrustedKey& t) { t.capabilities = {"emit:a:b"}; }, "\"emit:a:b\""},
      {"cap empty", [](TrustedKey& t) { t.capabilities = {""}; }, "capability pattern \"\""},
      {"dup cap",
       [](TrustedKey& t) {
         t.capabilities = {"emit:*", "emit:*"};
       },
       "capabilities lists \"emit:*\" twice"},
      {"licence empty", [](TrustedKey& t) { t.licenses = {""}; }, "licence \"\""},
      {"licence expression", [](TrustedKey& t) { t.licenses = {"MIT OR Apache-2.0"}; },
       "\"MIT OR Apache-2.0\""},
      {"licence leading dash", [](TrustedKey& t) { t.licenses = {"-MIT"}; }, "\"-MIT\""},
      {"licence long", [](TrustedKey& t) { t.licenses = {std::string(65, 'a')}; }, "licence"},
      {"too many prefixes",
       [](TrustedKey& t) {
         t.id_prefixes.clear();
         for (int i = 0; i < 65; ++i) {
           std::string prefix = "p";  // not "p" + ...: g++ 12 -Wrestrict false positive
           prefix += std::to_string(i);
           prefix += '.';
           t.id_prefixes.push_back(prefix);
         }
       },
       "65 id_prefixes, more than 64"},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.what);
    TrustedKey key = good;
    c.edit(key);
    const Status s = ValidateTrustedKey(key);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
    EXPECT_TRUE(s.message().starts_with("registry: trust: ")) << s.message();
    EXPECT_NE(s.message().find(c.fragment), std::string::npos) << s.message();
  }
}

TEST(ValidateTrustedKeyTest, ValidatesUnsignedPrefixPatterns) {
  EXPECT_TRUE(ValidateIdPattern("*").ok());
  EXPECT_TRUE(ValidateIdPattern("dev.").ok());
  EXPECT_TRUE(ValidateIdPattern("dev.tessera.skills.date").ok());
  EXPECT_EQ(ValidateIdPattern("dev").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateIdPattern("dev.**").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateIdPattern("").code(), StatusCode::kInvalidArgument);
}

TEST(PatternMatchTest, MatchesAsDocumented) {
  EXPECT_TRUE(IdPatternMatches("*", "a.b"));
  EXPECT_TRUE(IdPatternMatches("a.b", "a.b"));
  EXPECT_FALSE(IdPatternMatches("a.b", "a.b.c"));
  EXPECT_TRUE(IdPatternMatches("a.", "a.b"));
  EXPECT_FALSE(IdPatternMatches("a.", "a"));
  EXPECT_FALSE(IdPatternMatches("a.", "ab.c"));
  EXPECT_FALSE(IdPatternMatches("", "a.b"));
  EXPECT_TRUE(CapabilityPatternMatches("*", "emit:text"));
  EXPECT_TRUE(CapabilityPatternMatches("emit:*", "emit:text"));
  EXPECT_FALSE(CapabilityPatternMatches("emit:*", "emit:"));
  EXPECT_FALSE(CapabilityPatternMatches("emit:*", "emitter:text"));
  EXPECT_FALSE(CapabilityPatternMatches("emit:text", "emit:texts"));
  EXPECT_FALSE(CapabilityPatternMatches("", "emit:text"));
}

}  // namespace
}  // namespace tessera::registry

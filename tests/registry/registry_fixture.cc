#include "registry_fixture.h"

#include <dirent.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <mutex>

#include "package/oci_reader.h"
#include "package/oci_writer.h"
#include "package/signature_envelope.h"
#include "registry/gguf_facts.h"
#include "registry/pack.h"

namespace tessera::registry::fixture {
namespace {

std::vector<std::string> List(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return out;
  while (const dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") out.push_back(n);
  }
  ::closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

std::string Basename(const std::string& path) { return path.substr(path.rfind('/') + 1); }

// Removes every directory TempDir made once the process's tests have run, unless one failed:
// then they stay for inspection and their paths are printed.
class TempDirCleanup final : public ::testing::Environment {
 public:
  void Add(const std::string& dir) {
    std::lock_guard<std::mutex> lock(mu_);
    dirs_.push_back(dir);
  }
  void TearDown() override {
    std::lock_guard<std::mutex> lock(mu_);
    if (::testing::UnitTest::GetInstance()->Failed()) {
      for (const std::string& d : dirs_)
        std::fprintf(stderr, "kept for inspection: %s\n", d.c_str());
    } else {
      for (const std::string& d : dirs_) {
        std::string cmd = "rm -rf '" + d + "'";
        if (std::system(cmd.c_str()) != 0) std::fprintf(stderr, "could not remove %s\n", d.c_str());
      }
    }
    dirs_.clear();
  }

 private:
  std::mutex mu_;
  std::vector<std::string> dirs_;
};

// Registered before main runs, so gtest calls its TearDown after the last test.
TempDirCleanup* const kTempDirCleanup =
    static_cast<TempDirCleanup*>(::testing::AddGlobalTestEnvironment(new TempDirCleanup));

}  // namespace

std::string TempDir(const std::string& name) {
  static std::atomic<int> counter{0};
  std::string dir = ::testing::TempDir() + "tessera-registry-" + std::to_string(::getpid()) + "-" +
                    std::to_string(counter++) + "-" + name;
  std::string cmd = "rm -rf '" + dir + "' && mkdir -p '" + dir + "'";
  EXPECT_EQ(std::system(cmd.c_str()), 0);
  kTempDirCleanup->Add(dir);
  return dir;
}

std::string ModelPath(const std::string& relative) {
  if (!relative.empty() && relative[0] == '/') return relative;  // a file a test wrote
  return std::string(TESSERA_SOURCE_DIR) + "/models/" + relative;
}

package::PrivateKey Key(std::uint8_t seed) {
  std::vector<std::uint8_t> bytes(32, seed);
  bytes[0] = 0x5a;
  return std::move(package::PrivateKey::FromSeed(bytes).value());
}

Spec BaseSpec(const std::string& version) {
  Spec s;
  s.id = "dev.test.base";
  s.version = version;
  s.weights = "base.gguf";
  return s;
}

std::string Pack(const std::string& work, const Spec& spec, const package::PrivateKey* key) {
  static std::atomic<int> counter{0};
  const std::string dir = work + "/src-" + std::to_string(counter++);
  ::mkdir(dir.c_str(), 0755);
  const std::string weights = Basename(spec.weights);
  const std::string eval = Basename(spec.eval_set);
  EXPECT_EQ(::symlink(ModelPath(spec.weights).c_str(), (dir + "/" + weights).c_str()), 0);
  EXPECT_EQ(::symlink(ModelPath(spec.eval_set).c_str(), (dir + "/" + eval).c_str()), 0);
  nlohmann::json m = {
      {"schema", "tessera.package/v1"},
      {"id", spec.id},
      {"version", spec.version},
      {"kind", spec.adapter ? "adapter" : "model"},
      {"license", "MIT"},
      {"artifacts",
       {{{"role", spec.adapter ? "adapter" : "weights"},
         {"name", weights},
         {"media_type", "application/vnd.gguf"}},
        {{"role", "eval-set"}, {"name", eval}, {"media_type", "application/x-ndjson"}}}},
      {"runtime", {{"versions", ">=0.1.0 <0.2.0"}, {"package_abi", 1}}},
      {"contract",
       {{"role", "test"},
        {"input", {{"type", "text"}}},
        {"output", {{"type", "text"}}},
        {"max_input_tokens", 128},
        {"max_output_tokens", 32},
        {"confidence", "mean-token-logprob"},
        {"sampling", {{"temperature", 0}, {"top_k", 0}, {"top_p", 1}, {"seed", 0}}}}},
      {"capabilities", {"emit:text"}},
      {"resources",
       {{"weights_bytes", 1000},
        {"kv_bytes_per_token", 8},
        {"scratch_bytes", 8},
        {"estimated", true}}}};
  if (spec.adapter) {
    Result<package::GgufFacts> base = ReadModelFacts(ModelPath("base.gguf"));
    EXPECT_TRUE(base.ok()) << base.status().ToString();
    m["base"] = {{"id", "dev.test.base"},
                 {"version", spec.base_version},
                 {"tokenizer_sha256", base->tokenizer->sha256}};
    m["dependencies"] = {
        {"requires", {{{"id", "dev.test.base"}, {"version", "=" + spec.base_version}}}}};
  }
  m.merge_patch(spec.patch);
  std::ofstream(dir + "/manifest.json") << m.dump(1);
  const std::string out =
      work + "/" + spec.id + "-" + spec.version + "-" + std::to_string(counter++) + ".tpkg";
  Result<PackResult> packed = PackDirectory(dir, out, key);
  EXPECT_TRUE(packed.ok()) << packed.status().ToString();
  return out;
}

std::string Repack(const std::string& work, const std::string& package,
                   const std::function<void(nlohmann::json&)>& edit,
                   const package::PrivateKey* resign, bool drop_signature) {
  static std::atomic<int> counter{0};
  const int n = counter++;
  const std::string staging = work + "/repack-" + std::to_string(n);
  ::mkdir(staging.c_str(), 0755);
  Result<package::UnpackedPackage> u = package::ReadPackageFile(package, staging);
  EXPECT_TRUE(u.ok()) << u.status().ToString();
  nlohmann::json doc = nlohmann::json::parse(u->config.begin(), u->config.end());
  edit(doc);
  const std::string config = doc.dump();
  std::string envelope(u->signature ? std::string(u->signature->begin(), u->signature->end())
                                    : std::string());
  if (resign != nullptr) {
    Result<package::Manifest> m = package::ParseManifest(config);
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    envelope = package::SignManifest(*m, *resign).value();
  }
  package::PackageFileInput input;
  input.config = std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(config.data()),
                                               config.size());
  for (const package::StagedArtifact& a : u->artifacts) {
    input.artifacts.push_back({a.staged_path, a.name, a.media_type, std::nullopt});
  }
  if (!drop_signature && !envelope.empty()) {
    input.signature = std::span<const std::uint8_t>(
        reinterpret_cast<const std::uint8_t*>(envelope.data()), envelope.size());
  }
  const std::string out = work + "/repacked-" + std::to_string(n) + ".tpkg";
  Result<package::WrittenPackage> w = package::WritePackageFile(out, input);
  EXPECT_TRUE(w.ok()) << w.status().ToString();
  return out;
}

std::string AppendRaw(const std::string& work, const std::string& package,
                      const std::vector<std::uint8_t>& raw_entries) {
  static std::atomic<int> counter{0};
  std::vector<std::uint8_t> bytes = ReadAll(package);
  // The archive ends with two zero blocks: the new entries go before them.
  EXPECT_GE(bytes.size(), 1024u);
  EXPECT_TRUE(std::all_of(bytes.end() - 1024, bytes.end(), [](std::uint8_t b) { return b == 0; }));
  if (bytes.size() < 1024) return "";  // (the check above failed; also keeps g++ from warning)
  bytes.resize(bytes.size() - 1024);
  bytes.insert(bytes.end(), raw_entries.begin(), raw_entries.end());
  const std::string out = work + "/appended-" + std::to_string(counter++) + ".tpkg";
  WriteAll(out, bytes);
  return out;
}

std::unique_ptr<Registry> OpenStore(const std::string& home, const package::PrivateKey& key,
                                    const base::Clock* clock, base::FileEnv* env) {
  RegistryOptions options;
  options.clock = clock;
  options.env = env;
  Result<std::unique_ptr<Registry>> r = Registry::Open(home, options);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  if (!r.ok()) return nullptr;
  Status s = (*r)->TrustAdd(TrustedKey{"tester", key.public_key(), {"dev.test."}, {"*"}, {}});
  EXPECT_TRUE(s.ok()) << s.ToString();
  return std::move(*r);
}

Snapshot Take(Registry& registry) {
  Snapshot s;
  Result<std::vector<PackageRecord>> all = registry.List();
  EXPECT_TRUE(all.ok()) << all.status().ToString();
  if (all.ok()) {
    for (const PackageRecord& r : *all) {
      s.packages.push_back(PackageName(r.id, r.version) + " " + std::string(StateName(r.state)));
    }
  }
  std::sort(s.packages.begin(), s.packages.end());
  s.blobs = List(registry.home() + "/blobs/sha256");
  Result<std::vector<QuarantineRecord>> q = registry.QuarantineList();
  s.quarantine = q.ok() ? q->size() : 9999;
  s.staging = List(registry.home() + "/staging");
  return s;
}

std::string Describe(const Snapshot& s) {
  std::string out = "packages:";
  for (const std::string& p : s.packages) out += " [" + p + "]";
  out += " blobs: " + std::to_string(s.blobs.size()) +
         " quarantine: " + std::to_string(s.quarantine) +
         " staging: " + std::to_string(s.staging.size());
  return out;
}

std::vector<std::uint8_t> ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<std::uint8_t>(std::istreambuf_iterator<char>(in), {});
}

void WriteAll(const std::string& path, const std::vector<std::uint8_t>& bytes) {
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()),
             static_cast<std::streamsize>(bytes.size()));
}

}  // namespace tessera::registry::fixture

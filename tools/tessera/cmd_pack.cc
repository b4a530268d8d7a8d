// tessera pack DIR -o FILE [--key NAME|PATH]: a package file from a directory (registry/pack.h).
// tessera facts FILE.gguf: the manifest's gguf facts (and an adapter's binding) as JSON.
// tessera key generate NAME [--force] | key list: Ed25519 signing keys under <home>/keys.
#include <dirent.h>
#include <sys/stat.h>

#include <cstdio>
#include <string>

#include "base/file_env.h"
#include "command.h"
#include "options.h"
#include "package/signature.h"
#include "registry/gguf_facts.h"
#include "registry/pack.h"
#include "store_cli.h"

namespace tessera::cli {
namespace {

struct PackOptions {
  std::string dir;
  std::string output;
  std::string key;
  std::string home;
};

int RunPack(const PackOptions& o) {
  std::optional<package::PrivateKey> key;
  if (!o.key.empty()) {
    Result<std::string> home = ResolveHome(o.home);
    if (!home.ok() && o.key.find('/') == std::string::npos) return ReportError(home.status());
    Result<package::PrivateKey> loaded =
        package::PrivateKey::Load(PrivateKeyPath(home.ok() ? *home : "", o.key));
    if (!loaded.ok()) return ReportError(loaded.status());
    key.emplace(std::move(*loaded));
  }
  Result<registry::PackResult> packed =
      registry::PackDirectory(o.dir, o.output, key ? &*key : nullptr);
  if (!packed.ok()) return ReportError(packed.status());
  std::printf("packed %s@%s (%s) into %s: %llu bytes, manifest sha256 %s, %s\n",
              packed->manifest.id.c_str(), packed->manifest.version.ToString().c_str(),
              std::string(package::PackageKindName(packed->manifest.kind)).c_str(),
              o.output.c_str(), static_cast<unsigned long long>(packed->bytes),
              packed->manifest_sha256.c_str(),
              packed->key_id.empty() ? "UNSIGNED" : ("signed by " + packed->key_id).c_str());
  return 0;
}

int RunFacts(const std::string& path) {
  Result<registry::AdapterBinding> binding = registry::ReadAdapterBinding(path);
  Result<package::GgufFacts> facts =
      binding.ok() ? registry::ReadAdapterFacts(path) : registry::ReadModelFacts(path);
  if (!facts.ok()) return ReportError(facts.status());
  nlohmann::ordered_json out;
  out["architecture"] = facts->architecture;
  out["version"] = facts->version;
  out["file_type"] = facts->file_type;
  out["parameters"] = facts->parameters;
  out["context_length"] = facts->context_length;
  if (facts->tokenizer) {
    out["tokenizer"] = {{"model", facts->tokenizer->model},
                        {"pre", facts->tokenizer->pre},
                        {"vocab_size", facts->tokenizer->vocab_size},
                        {"sha256", facts->tokenizer->sha256}};
  }
  if (binding.ok()) {
    out["adapter"] = {{"base_sha256", binding->base_sha256},
                      {"targets", binding->targets},
                      {"rank", binding->rank},
                      {"alpha", binding->alpha}};
  }
  std::printf("%s\n", DumpJson(out).c_str());
  return 0;
}

int RunKeyGenerate(const std::string& home_flag, const std::string& name, bool force) {
  Result<std::string> home = ResolveHome(home_flag);
  if (!home.ok()) return ReportError(home.status());
  if (name.empty() || name.size() > 64 ||
      name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") !=
          std::string::npos ||
      name[0] == '.') {
    return ReportError(
        Status(StatusCode::kInvalidArgument, "key: name '" + name +
                                                 "' must be 1-64 of [A-Za-z0-9._-], not "
                                                 "starting with '.'"));
  }
  // The store's directory holds the keys; Registry::Open creates it.
  Result<std::unique_ptr<registry::Registry>> store = registry::Registry::Open(*home);
  if (!store.ok()) return ReportError(store.status());
  if (Status s = base::DefaultFileEnv().MakeDir(*home + "/keys", base::kPrivateDirMode); !s.ok()) {
    return ReportError(s);
  }
  const std::string priv = PrivateKeyPath(*home, name);
  const std::string pub = PublicKeyPath(*home, name);
  struct stat st;
  if (!force && ::stat(priv.c_str(), &st) == 0) {
    return ReportError(
        Status(StatusCode::kDuplicate, "key: " + priv + " exists; --force replaces it"));
  }
  Result<package::PrivateKey> key = package::PrivateKey::Generate();
  if (!key.ok()) return ReportError(key.status());
  if (Status s = key->Save(priv); !s.ok()) return ReportError(s);
  if (Status s = key->public_key().Save(pub); !s.ok()) return ReportError(s);
  std::printf("generated %s %s\n  private: %s (keep it secret)\n  public:  %s\n", name.c_str(),
              key->public_key().KeyId().c_str(), priv.c_str(), pub.c_str());
  return 0;
}

int RunKeyList(const std::string& home_flag) {
  Result<std::string> home = ResolveHome(home_flag);
  if (!home.ok()) return ReportError(home.status());
  DIR* dir = ::opendir((*home + "/keys").c_str());
  if (dir == nullptr) return 0;
  std::vector<std::string> names;
  while (const dirent* e = ::readdir(dir)) {
    std::string n = e->d_name;
    if (n.size() > 4 && n.compare(n.size() - 4, 4, ".pub") == 0) names.push_back(n);
  }
  ::closedir(dir);
  std::sort(names.begin(), names.end());
  for (const std::string& n : names) {
    Result<package::PublicKey> key = package::PublicKey::Load(*home + "/keys/" + n);
    std::printf("%-24s %s\n", n.substr(0, n.size() - 4).c_str(),
                key.ok() ? key->KeyId().c_str() : key.status().message().c_str());
  }
  return 0;
}

}  // namespace

RunFn AddPack(CLI::App& app) {
  auto o = std::make_shared<PackOptions>();
  CLI::App* sub = app.add_subcommand("pack",
                                     "Pack a directory (manifest.json + artifacts) into "
                                     "a signed package file");
  sub->add_option("dir", o->dir, "directory with manifest.json and the artifact files")->required();
  sub->add_option("-o,--output", o->output, "package file to write")->required();
  sub->add_option("--key", o->key,
                  "signing key: a name under <home>/keys, or a .key path "
                  "(omit for an unsigned package)");
  AddHomeOption(sub, &o->home);
  auto facts_path = std::make_shared<std::string>();
  CLI::App* facts = app.add_subcommand("facts",
                                       "Print the facts pack reads from a GGUF (model "
                                       "or adapter) as JSON");
  facts->add_option("file", *facts_path, "GGUF file")->required();
  return [o, facts, facts_path] {
    if (facts->parsed()) return RunFacts(*facts_path);
    return RunPack(*o);
  };
}

RunFn AddKey(CLI::App& app) {
  auto home = std::make_shared<std::string>();
  auto name = std::make_shared<std::string>();
  auto force = std::make_shared<bool>(false);
  CLI::App* sub = app.add_subcommand("key", "Manage Ed25519 signing keys");
  sub->require_subcommand(1);
  CLI::App* gen = sub->add_subcommand("generate", "Generate a key pair <home>/keys/NAME.{key,pub}");
  gen->add_option("name", *name, "key name")->required();
  gen->add_flag("--force", *force, "replace an existing key");
  CLI::App* list = sub->add_subcommand("list", "List the keys and their ids");
  AddHomeOption(gen, home.get());
  AddHomeOption(list, home.get());
  return [=] {
    if (gen->parsed()) return RunKeyGenerate(*home, *name, *force);
    if (list->parsed()) return RunKeyList(*home);
    return 2;
  };
}

}  // namespace tessera::cli

// tessera trust add NAME --key NAME|PATH --prefix P... [--capability C...] [--license L...]
// tessera trust list [--json] | trust remove NAME | trust unsigned [--prefix P... | --clear]
// The rules are documented in src/registry/trust_policy.h.
#include <cstdio>
#include <string>
#include <vector>

#include "command.h"
#include "options.h"
#include "package/signature.h"
#include "store_cli.h"

namespace tessera::cli {
namespace {

struct TrustOptions {
  std::string home;
  std::string name;
  std::string key;
  std::vector<std::string> prefixes;
  std::vector<std::string> capabilities;
  std::vector<std::string> licenses;
  bool json = false;
  bool clear = false;
};

// With no flag it only prints the rule: emptying the list (refusing every unsigned package) is
// the explicit --clear, never the absence of --prefix.
int RunUnsigned(const TrustOptions& o) {
  if (o.clear && !o.prefixes.empty()) {
    return ReportError(InvalidArgument("trust unsigned: give --prefix or --clear, not both"));
  }
  Result<std::unique_ptr<registry::Registry>> store = OpenStore(o.home);
  if (!store.ok()) return ReportError(store.status());
  if (o.clear || !o.prefixes.empty()) {
    if (Status s = (*store)->TrustUnsigned(o.prefixes); !s.ok()) return ReportError(s);
  }
  Result<registry::TrustPolicy> policy = (*store)->Trust();
  if (!policy.ok()) return ReportError(policy.status());
  std::printf("unsigned packages: %s\n",
              policy->unsigned_prefixes.empty()
                  ? "refused"
                  : ("allowed for " + registry::JoinWords(policy->unsigned_prefixes)).c_str());
  return 0;
}

int RunAdd(const TrustOptions& o) {
  Result<std::unique_ptr<registry::Registry>> store = OpenStore(o.home);
  if (!store.ok()) return ReportError(store.status());
  Result<package::PublicKey> key =
      package::PublicKey::Load(PublicKeyPath((*store)->home(), o.key.empty() ? o.name : o.key));
  if (!key.ok()) return ReportError(key.status());
  registry::TrustedKey trusted{o.name, *key, o.prefixes, o.capabilities, o.licenses};
  if (Status s = (*store)->TrustAdd(trusted); !s.ok()) return ReportError(s);
  std::printf("trusted %s (%s) for ids %s\n", o.name.c_str(), key->KeyId().c_str(),
              registry::JoinWords(o.prefixes).c_str());
  return 0;
}

int RunList(const TrustOptions& o) {
  Result<std::unique_ptr<registry::Registry>> store = OpenStore(o.home, StoreAccess::kRead);
  if (!store.ok()) return ReportError(store.status());
  Result<registry::TrustPolicy> policy = (*store)->Trust();
  if (!policy.ok()) return ReportError(policy.status());
  if (o.json) {
    nlohmann::ordered_json out;
    out["keys"] = nlohmann::ordered_json::array();
    for (const registry::TrustedKey& k : policy->keys) {
      out["keys"].push_back({{"name", k.name},
                             {"key_id", k.key.KeyId()},
                             {"public_key", package::BytesToHex(k.key.bytes())},
                             {"prefixes", k.id_prefixes},
                             {"capabilities", k.capabilities},
                             {"licenses", k.licenses}});
    }
    out["unsigned_prefixes"] = policy->unsigned_prefixes;
    std::printf("%s\n", DumpJson(out).c_str());
    return 0;
  }
  for (const registry::TrustedKey& k : policy->keys) {
    std::printf("%s %s\n  ids: %s\n  capabilities: %s\n  licences: %s\n", k.name.c_str(),
                k.key.KeyId().c_str(), registry::JoinWords(k.id_prefixes).c_str(),
                k.capabilities.empty() ? "(none)" : registry::JoinWords(k.capabilities).c_str(),
                k.licenses.empty() ? "(any)" : registry::JoinWords(k.licenses).c_str());
  }
  std::printf("unsigned packages: %s\n",
              policy->unsigned_prefixes.empty()
                  ? "refused"
                  : ("allowed for " + registry::JoinWords(policy->unsigned_prefixes)).c_str());
  return 0;
}

}  // namespace

RunFn AddTrust(CLI::App& app) {
  auto o = std::make_shared<TrustOptions>();
  CLI::App* sub = app.add_subcommand("trust", "The trust policy: which keys may sign what");
  sub->require_subcommand(1);
  CLI::App* add = sub->add_subcommand("add",
                                      "Trust a public key for id prefixes, capabilities "
                                      "and licences");
  add->add_option("name", o->name, "local name of the key")->required();
  add->add_option("--key", o->key,
                  "public key: a name under <home>/keys or a .pub path "
                  "(default: NAME)");
  add->add_option("--prefix", o->prefixes,
                  "package ids it may sign: 'dev.tessera.' or an "
                  "exact id or '*' (repeatable)")
      ->required();
  add->add_option("--capability", o->capabilities,
                  "capability it may grant: 'emit:text', "
                  "'emit:*' or '*' (repeatable; none: none)");
  add->add_option("--license", o->licenses, "SPDX licence it may sign (repeatable; none: any)");
  CLI::App* list = sub->add_subcommand("list", "Show the trust policy");
  list->add_flag("--json", o->json, "JSON output");
  CLI::App* remove = sub->add_subcommand("remove", "Stop trusting a key");
  remove->add_option("name", o->name, "local name of the key")->required();
  CLI::App* unsigned_ = sub->add_subcommand("unsigned",
                                            "Show or set the ids that may install unsigned "
                                            "(no flag: show)");
  unsigned_->add_option("--prefix", o->prefixes,
                        "id pattern allowed unsigned (repeatable; replaces the list)");
  unsigned_->add_flag("--clear", o->clear, "refuse every unsigned package (empties the list)");
  for (CLI::App* s : {add, list, remove, unsigned_}) AddHomeOption(s, &o->home);
  return [=]() -> int {
    if (add->parsed()) return RunAdd(*o);
    if (list->parsed()) return RunList(*o);
    if (unsigned_->parsed()) return RunUnsigned(*o);
    Result<std::unique_ptr<registry::Registry>> store = OpenStore(o->home);
    if (!store.ok()) return ReportError(store.status());
    if (Status s = (*store)->TrustRemove(o->name); !s.ok()) return ReportError(s);
    std::printf("removed %s from the trust policy\n", o->name.c_str());
    return 0;
  };
}

}  // namespace tessera::cli

// tessera list [--json] | show ID[@VERSION] [--json] | graph ID[@VERSION] [--json]: what the
// store holds, one package in full (manifest, artifacts, history), and its dependency graph.
//
// list and show print each version's lifecycle state and, apart from it, where it is live now:
// resident or active in a running process (registry/live_states.h, ADR 0016). In --json that is
// "live": [{"state": "active", "pid": 1234}, ...], empty when no process holds it.
#include <cstdio>
#include <string>

#include "base/printable.h"
#include "command.h"
#include "options.h"
#include "package/manifest.h"
#include "store_cli.h"

namespace tessera::cli {
namespace {

struct Options {
  std::string home;
  std::string target;
  bool json = false;
};

// The processes holding `key` in memory, as JSON.
nlohmann::ordered_json LiveJson(const std::vector<registry::LiveModule>& live,
                                const std::string& key) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const registry::LiveModule& m : live) {
    if (m.key == key) {
      out.push_back({{"state", std::string(registry::LiveStateName(m.state))}, {"pid", m.pid}});
    }
  }
  return out;
}

// "verified" or "verified, active in pid 1234".
std::string StateText(const registry::PackageRecord& r,
                      const std::vector<registry::LiveModule>& live) {
  std::string out(registry::StateName(r.state));
  const std::string held = registry::DescribeLive(live, registry::PackageName(r.id, r.version));
  if (!held.empty()) out += ", " + held;
  return out;
}

int RunList(registry::Registry& store, const Options& o) {
  Result<std::vector<registry::PackageRecord>> all = store.List();
  if (!all.ok()) return ReportError(all.status());
  Result<std::vector<registry::LiveModule>> live = registry::ReadLiveStates(store.home());
  if (!live.ok()) return ReportError(live.status());
  if (o.json) {
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (const registry::PackageRecord& r : *all) {
      nlohmann::ordered_json record = RecordJson(r);
      record["live"] = LiveJson(*live, registry::PackageName(r.id, r.version));
      out.push_back(std::move(record));
    }
    std::printf("%s\n", DumpJson(out).c_str());
    return 0;
  }
  std::printf("%-36s %-12s %-8s %-16s %10s  %s\n", "ID", "VERSION", "KIND", "SIGNER", "BYTES",
              "STATE");
  for (const registry::PackageRecord& r : *all) {
    std::uint64_t bytes = 0;
    for (const registry::ArtifactRecord& a : r.artifacts) bytes += a.size;
    std::printf("%-36s %-12s %-8s %-16s %10llu  %s\n", r.id.c_str(), r.version.c_str(),
                r.kind.c_str(), r.signer.empty() ? "(unsigned)" : r.signer.c_str(),
                static_cast<unsigned long long>(bytes), StateText(r, *live).c_str());
  }
  return 0;
}

// "text", "text matching ^...$", "enum negative|positive", "json (schema)", "number".
std::string TypeText(const package::IoType& t) {
  std::string out(package::IoKindName(t.kind));
  if (!t.pattern.empty()) out += " matching " + t.pattern;
  if (!t.labels.empty()) out += " " + registry::JoinWords(t.labels);
  out = base::Printable(out);
  if (!t.json_schema.empty()) out += " (a JSON Schema: tessera show --json)";
  return out;
}

// A string as a C-like literal on one line: "date: March 5, 2021\n", with every control
// character, bidi override and invalid byte escaped.
std::string Literal(const std::string& s) {
  return base::Printable(DumpJson(nlohmann::json(s), -1));
}

void PrintContract(const package::Contract& c) {
  std::printf("  contract: %s, %s -> %s, max %llu in / %llu out tokens, confidence %s\n",
              c.role.c_str(), TypeText(c.input).c_str(), TypeText(c.output).c_str(),
              static_cast<unsigned long long>(c.max_input_tokens),
              static_cast<unsigned long long>(c.max_output_tokens),
              std::string(package::ConfidenceKindName(c.confidence)).c_str());
  if (c.prompt.empty()) {
    std::printf("  prompt: the request, as given (a v1 package: no template)\n");
    return;
  }
  std::printf("  prompt template: %s\n", Literal(c.prompt).c_str());
  std::printf("  domain: %s\n", base::Printable(c.domain).c_str());
  std::printf("  examples:\n");
  for (const package::ContractExample& e : c.examples) {
    std::printf("    %s -> %s\n", Literal(e.input).c_str(), Literal(e.output).c_str());
  }
}

int RunShow(registry::Registry& store, const Options& o) {
  std::string id, version;
  SplitPackageRef(o.target, &id, &version);
  Result<registry::PackageRecord> r = store.Show(id, version);
  if (!r.ok()) return ReportError(r.status());
  Result<package::Manifest> manifest = store.LoadManifest(*r);
  if (!manifest.ok()) return ReportError(manifest.status());
  Result<std::vector<registry::Transition>> history = store.History(r->id, r->version);
  if (!history.ok()) return ReportError(history.status());
  Result<std::string> manifest_text = package::ManifestToJson(*manifest);
  if (!manifest_text.ok()) return ReportError(manifest_text.status());
  Result<std::vector<registry::LiveModule>> live = registry::ReadLiveStates(store.home());
  if (!live.ok()) return ReportError(live.status());
  nlohmann::ordered_json out = RecordJson(*r);
  out["live"] = LiveJson(*live, registry::PackageName(r->id, r->version));
  out["manifest"] = nlohmann::ordered_json::parse(*manifest_text);
  nlohmann::ordered_json h = nlohmann::ordered_json::array();
  for (const registry::Transition& t : *history) {
    h.push_back({{"at", FormatTime(t.at)}, {"from", t.from}, {"to", t.to}, {"reason", t.reason}});
  }
  out["history"] = std::move(h);
  nlohmann::ordered_json paths = nlohmann::ordered_json::object();
  for (const registry::ArtifactRecord& a : r->artifacts) paths[a.name] = store.BlobPath(a.sha256);
  out["paths"] = std::move(paths);
  if (o.json) {
    std::printf("%s\n", DumpJson(out).c_str());
    return 0;
  }
  std::printf("%s@%s  %s  %s\n", r->id.c_str(), r->version.c_str(), r->kind.c_str(),
              StateText(*r, *live).c_str());
  if (!manifest->title.empty()) std::printf("  %s\n", base::Printable(manifest->title).c_str());
  std::printf("  signer: %s  licence: %s  capabilities granted: %s\n",
              r->signer.empty() ? "(unsigned)" : (r->signer + " " + r->key_id).c_str(),
              r->license.c_str(), registry::JoinWords(r->granted).c_str());
  if (!r->base.empty()) std::printf("  base: %s\n", r->base.c_str());
  if (!r->known_good.empty()) std::printf("  rollback to: %s\n", r->known_good.c_str());
  if (manifest->kind != package::PackageKind::kPolicy) PrintContract(manifest->contract);
  std::printf("  artifacts:\n");
  for (const registry::ArtifactRecord& a : r->artifacts) {
    std::printf("    %-28s %-16s %10llu  %s\n", a.name.c_str(), a.role.c_str(),
                static_cast<unsigned long long>(a.size), a.sha256.c_str());
  }
  for (const package::QualityEvidence& q : manifest->quality) {
    std::printf("  quality: %s %.4f on %llu cases (eval set %.16s…, runtime %s)\n",
                std::string(package::QualityMetricName(q.metric)).c_str(), q.value,
                static_cast<unsigned long long>(q.cases), q.eval_set_sha256.c_str(),
                q.runtime_version.ToString().c_str());
  }
  std::printf("  history:\n");
  for (const registry::Transition& t : *history) {
    std::printf("    %s  %s -> %s  %s\n", FormatTime(t.at).c_str(),
                t.from.empty() ? "(new)" : t.from.c_str(), t.to.c_str(),
                base::Printable(t.reason).c_str());
  }
  return 0;
}

int RunGraph(registry::Registry& store, const Options& o) {
  std::string id, version;
  SplitPackageRef(o.target, &id, &version);
  Result<std::vector<registry::GraphEdge>> edges = store.Graph(id, version);
  if (!edges.ok()) return ReportError(edges.status());
  if (o.json) {
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (const registry::GraphEdge& e : *edges) {
      out.push_back({{"from", e.from},
                     {"kind", e.kind},
                     {"id", e.to_id},
                     {"version", e.range},
                     {"resolved", e.resolved.empty() ? nlohmann::ordered_json()
                                                     : nlohmann::ordered_json(e.resolved)}});
    }
    std::printf("%s\n", DumpJson(out).c_str());
    return 0;
  }
  if (edges->empty()) std::printf("%s has no dependencies\n", o.target.c_str());
  for (const registry::GraphEdge& e : *edges) {
    std::printf("%s %s %s %s -> %s\n", e.from.c_str(), e.kind.c_str(), e.to_id.c_str(),
                e.range.c_str(),
                e.resolved.empty() ? (e.kind == "requires" || e.kind == "base" ? "UNRESOLVED" : "-")
                                   : e.resolved.c_str());
  }
  return 0;
}

}  // namespace

RunFn AddList(CLI::App& app) {
  auto o = std::make_shared<Options>();
  CLI::App* list = app.add_subcommand("list", "List installed packages");
  list->add_flag("--json", o->json, "JSON output");
  CLI::App* show = app.add_subcommand("show", "Show one package: manifest, artifacts, history");
  show->add_option("package", o->target, "ID[@VERSION] (default: the current version)")->required();
  show->add_flag("--json", o->json, "JSON output");
  CLI::App* graph = app.add_subcommand("graph", "Show the resolved dependency graph");
  graph->add_option("package", o->target, "ID[@VERSION]")->required();
  graph->add_flag("--json", o->json, "JSON output");
  for (CLI::App* sub : {list, show, graph}) AddHomeOption(sub, &o->home);
  return [=] {
    Result<std::unique_ptr<registry::Registry>> store = OpenStore(o->home, StoreAccess::kRead);
    if (!store.ok()) return ReportError(store.status());
    if (list->parsed()) return RunList(**store, *o);
    if (show->parsed()) return RunShow(**store, *o);
    return RunGraph(**store, *o);
  };
}

}  // namespace tessera::cli

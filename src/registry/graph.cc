// The dependency graph reachable from one package: its requirements resolved to the highest
// usable installed version that satisfies each, its adapter base, its conflicts and replacements.
#include <deque>
#include <set>

#include "registry/registry.h"

namespace tessera::registry {

Result<std::vector<GraphEdge>> Registry::Graph(const std::string& id, const std::string& version) {
  TS_ASSIGN_OR_RETURN(PackageRecord root, Resolve(id, version));
  TS_ASSIGN_OR_RETURN(std::vector<PackageRecord> all, index_->ListPackages());
  auto best = [&](const std::string& dep_id,
                  const std::string& range_text) -> const PackageRecord* {
    Result<package::VersionRange> range = package::VersionRange::Parse(range_text);
    const PackageRecord* chosen = nullptr;
    std::optional<package::Version> chosen_version;
    for (const PackageRecord& r : all) {
      if (r.id != dep_id || !IsUsable(r.state)) continue;
      Result<package::Version> v = package::Version::Parse(r.version);
      if (!v.ok() || !range.ok() || !range->Matches(*v)) continue;
      if (chosen == nullptr || *v > *chosen_version) {
        chosen = &r;
        chosen_version = *v;
      }
    }
    return chosen;
  };
  std::vector<GraphEdge> edges;
  std::deque<const PackageRecord*> queue;
  std::set<std::string> seen = {PackageName(root.id, root.version)};
  PackageRecord root_copy = root;
  queue.push_back(&root_copy);
  while (!queue.empty()) {
    const PackageRecord* r = queue.front();
    queue.pop_front();
    const std::string from = PackageName(r->id, r->version);
    auto follow = [&](const PackageRecord* to) {
      if (to != nullptr && seen.insert(PackageName(to->id, to->version)).second) {
        queue.push_back(to);
      }
    };
    if (!r->base.empty()) {
      const std::size_t at = r->base.find('@');
      const std::string base_id = r->base.substr(0, at);
      const std::string base_version = r->base.substr(at + 1);
      const PackageRecord* base = nullptr;
      for (const PackageRecord& c : all) {
        if (c.id == base_id && c.version == base_version) base = &c;
      }
      edges.push_back({from, "base", base_id, "=" + base_version, base != nullptr ? r->base : ""});
      follow(base);
    }
    for (const DependencyRecord& d : r->dependencies) {
      const PackageRecord* to = d.kind == "requires" ? best(d.id, d.range) : nullptr;
      edges.push_back(
          {from, d.kind, d.id, d.range, to != nullptr ? PackageName(to->id, to->version) : ""});
      follow(to);
    }
  }
  return edges;
}

}  // namespace tessera::registry

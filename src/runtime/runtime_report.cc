// tessera::Runtime::Report: the resident set, budgets and counts in the public vocabulary.
#include "runtime/runtime_impl.h"

namespace tessera {
namespace {

FootprintInfo ToInfo(const resident::Footprint& f) {
  FootprintInfo out;
  out.measured = f.measured;
  for (const resident::ArtifactCharge& a : f.artifacts) out.artifact_bytes += a.bytes.host;
  out.private_bytes = f.private_bytes.host;
  out.kv_bytes_per_token = f.kv_bytes_per_token;
  out.session_bytes = f.session_bytes;
  return out;
}

}  // namespace

RuntimeReport Runtime::Report() const {
  impl_->sync->Flush();  // the registry states are those of this report
  const resident::ResidentReport r = impl_->set->Report();
  RuntimeReport out;
  out.budgets = impl_->options.budgets;
  out.host_bytes = r.usage.bytes.host;
  out.device_bytes = r.usage.bytes.device;
  out.kv_bytes = r.usage.kv;
  out.k_active = r.k_active;
  out.k_parallel = r.k_parallel;
  out.queued = r.queued;
  out.admitting = r.admitting;
  out.policy = r.policy;
  for (const resident::ModuleReport& m : r.modules) {
    ResidentModuleInfo info;
    info.module = m.key;
    info.sha256 = m.sha256;
    info.state = m.state;
    info.leases = m.leases;
    info.sessions = m.sessions;
    info.generating = m.generating;
    info.pinned = m.pinned;
    info.soft_pin_seconds = static_cast<double>(m.soft_pin_remaining_micros) / 1e6;
    info.resident_seconds = static_cast<double>(m.resident_micros) / 1e6;
    info.idle_seconds = static_cast<double>(m.idle_micros) / 1e6;
    info.uses = m.uses;
    info.kv_bytes = m.kv_bytes;
    info.estimate = ToInfo(m.estimate);
    info.measured = ToInfo(m.measured);
    out.sessions += m.sessions;
    out.modules.push_back(std::move(info));
  }
  for (const resident::ModuleSpec& s : r.known_good) {
    out.known_good.push_back(s.key + " " + s.sha256);
  }
  out.hits = r.counters.hits;
  out.loads = r.counters.loads;
  out.coalesced = r.counters.coalesced;
  out.evictions = r.counters.evictions;
  out.refusals = r.counters.refusals;
  out.load_failures = r.counters.load_failures;
  out.replans = r.counters.replans;
  out.queue_timeouts = r.counters.queue_timeouts;
  out.admission_waits = r.counters.admission_waits;
  out.admission_timeouts = r.counters.admission_timeouts;
  out.admission_wait_seconds = static_cast<double>(r.counters.admission_wait_micros) / 1e6;
  out.restores = r.counters.restores;
  out.restore_failures = r.counters.restore_failures;
  out.restore_seconds = static_cast<double>(r.counters.restore_micros) / 1e6;
  {
    std::lock_guard<std::mutex> lock(impl_->registry_mu);
    Result<std::vector<registry::PackageRecord>> all = impl_->registry->List();
    if (all.ok()) {
      for (const registry::PackageRecord& p : *all) {
        if (registry::IsUsable(p.state)) ++out.n_total;
      }
    }
  }
  return out;
}

}  // namespace tessera

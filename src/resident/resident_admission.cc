// ResidentSet: the admission queue. A request whose plan does not fit now, but would once other
// requests end, waits here: first come first served, except that a request that fits may pass
// waiting ones that do not, each at most max_overtakes times (bounded backfilling: small
// requests are not held up by a large one that cannot fit yet, and the large one is not
// starved by a stream of small ones). Everything here runs under mu_.
#include <algorithm>

#include "resident/resident_set.h"
#include "resident/resident_set_impl.h"

namespace tessera::resident {
namespace {

bool Listed(const std::vector<std::string>& keys, const std::string& key) {
  return std::find(keys.begin(), keys.end(), key) != keys.end();
}

// A plan's refusal without its "resident: " prefix, to be quoted in another message.
std::string Unprefixed(const std::string& message) {
  constexpr std::string_view kPrefix = "resident: ";
  return message.rfind(kPrefix, 0) == 0 ? message.substr(kPrefix.size()) : message;
}

}  // namespace

bool ResidentSet::CanEverFit(const PlanRequest& request) const {
  // Leases, sessions, loads in progress, soft pins and the minimum residence all end; the
  // pinned modules and the ones the request keeps stay (without sessions: those end too).
  std::vector<PlanModule> stay;
  for (const auto& [key, e] : entries_) {
    if (!e->pinned && !Listed(request.keep, key)) continue;
    PlanModule m;
    m.key = key;
    m.footprint = PlanFootprint(e->spec);
    stay.push_back(std::move(m));
  }
  return Fits(budgets_, ComputeUsage(stay, {}, request.load, request.extra_kv_bytes,
                                     request.extra_session_bytes));
}

bool ResidentSet::MayGoAhead(const Waiter* me, bool in_progress) {
  std::vector<Waiter*> overtaken;
  const std::vector<PlanModule> snapshot = Snapshot();
  for (Waiter* w : admission_) {
    if (w == me) break;
    if (w->hit) continue;  // needs no memory: nothing to take from it
    if (!in_progress) {
      if (w->overtaken >= max_overtakes_) return false;  // its turn has come
      const bool fits = (!w->in_progress || sessions_ < budgets_.max_sessions) &&
                        MakePlan(budgets_, snapshot, w->request, *policy_).ok();
      if (fits) return false;  // it goes first when it wakes
    }
    overtaken.push_back(w);
  }
  for (Waiter* w : overtaken) ++w->overtaken;
  return true;
}

bool ResidentSet::HitMustWait(const Waiter* me, const std::string& key) const {
  // Another lease of a leased module changes nothing a waiting request could use.
  if (entries_.at(key)->leases > 0) return false;
  for (const Waiter* w : admission_) {
    if (w == me) return false;
    if (!w->hit && w->overtaken >= max_overtakes_ && !Listed(w->request.keep, key)) return true;
  }
  return false;
}

ResidentSet::SessionCharge ResidentSet::SessionRoom(const ModuleSpec& spec) const {
  if (auto it = session_room_.find(spec.key); it != session_room_.end()) return it->second;
  const Footprint& f = PlanFootprint(spec);  // what the smoke check measured, if the loader does
  if (f.session_kv_bytes == 0) return {};
  return {f.session_kv_bytes, f.session_bytes};
}

bool ResidentSet::AddSessionRooms(std::span<const ModuleSpec* const> specs,
                                  PlanRequest& request) const {
  PlanRequest with = request;
  for (const ModuleSpec* s : specs) {
    const SessionCharge room = SessionRoom(*s);
    with.extra_kv_bytes += room.kv_bytes;
    with.extra_session_bytes += room.other_bytes;
  }
  if (with.extra_kv_bytes == request.extra_kv_bytes &&
      with.extra_session_bytes == request.extra_session_bytes) {
    return false;
  }
  if (!CanEverFit(with)) return false;  // the modules alone are still allowed
  request = std::move(with);
  return true;
}

bool ResidentSet::SessionRoomFits(const std::string& key, std::string* reason,
                                  PlanRequest* waiting) const {
  PlanRequest request;
  request.now_micros = Now();
  request.what = "a lease of " + key + " and room for a session";
  request.keep = {key};
  const ModuleSpec* spec = &entries_.at(key)->spec;
  if (!AddSessionRooms(std::span<const ModuleSpec* const>(&spec, 1), request)) return true;
  Result<Plan> plan = MakePlan(budgets_, Snapshot(), request, *policy_);
  if (plan.ok()) return true;
  if (reason != nullptr) *reason = plan.status().message();
  if (waiting != nullptr) *waiting = std::move(request);
  return false;
}

void ResidentSet::Enqueue(Waiter& me) {
  if (me.queued) return;
  me.queued = true;
  me.since = Now();
  admission_.push_back(&me);
  ++counters_.admission_waits;
}

void ResidentSet::Dequeue(Waiter& me) {
  if (!me.queued) return;
  me.queued = false;
  admission_.erase(std::find(admission_.begin(), admission_.end(), &me));
  counters_.admission_wait_micros += Now() - me.since;
  cv_.notify_all();  // whoever was behind it may go now
}

Status ResidentSet::AdmissionTimeout(const Waiter& me, const std::string& key,
                                     const std::string& what, const std::string& reason,
                                     std::int64_t waited_micros, std::int64_t timeout_micros,
                                     std::vector<Event>& events) {
  std::int64_t ahead = 0;
  for (const Waiter* w : admission_) {
    if (w == &me) break;
    ++ahead;
  }
  ++counters_.admission_timeouts;
  // Room comes back as leases end: about one mean lease time per request ahead.
  const std::int64_t hint = std::max<std::int64_t>(1000, mean_lease_micros_ * (ahead + 1));
  Status s(StatusCode::kUnavailable,
           "resident: " + what + ": no room within " + HumanMicros(timeout_micros) + " (waited " +
               HumanMicros(waited_micros) + ", " + std::to_string(ahead) +
               " requests ahead; retry after " + HumanMicros(hint) + "): " + Unprefixed(reason));
  events.push_back({EventKind::kQueueTimeout, key, Now(), waited_micros, {}, s.message()});
  return s;
}

}  // namespace tessera::resident

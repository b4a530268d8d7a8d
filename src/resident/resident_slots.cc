// ResidentSet: pins, sessions' KV charges, K_parallel slots and the known-good set.
#include <algorithm>
#include <utility>

#include "base/check.h"
#include "resident/resident_set.h"
#include "resident/resident_set_impl.h"

namespace tessera::resident {
namespace {

// How often a request waiting for a slot or for a session's room looks at the clock (the clock may
// be a test's fake, which advances without notifying anyone).
constexpr auto kQueuePoll = std::chrono::milliseconds(2);

}  // namespace

Status ResidentSet::Pin(const std::string& key, bool pinned) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return NotFound("resident: pin " + key + ": not resident");
  it->second->pinned = pinned;
  return Status::Ok();
}

Status ResidentSet::SoftPin(const std::string& key, std::int64_t duration_micros) {
  if (duration_micros < 0) {
    return InvalidArgument("resident: soft pin of " + key + ": negative duration");
  }
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return NotFound("resident: soft pin " + key + ": not resident");
  it->second->soft_pin_until = duration_micros == 0 ? 0 : Now() + duration_micros;
  return Status::Ok();
}

Status ResidentSet::ChargeSession(const Lease& lease, SessionCharge charge,
                                  std::int64_t timeout_micros) {
  if (!lease.valid()) return Status(StatusCode::kFailedPrecondition, "resident: no lease");
  if (timeout_micros < 0) timeout_micros = budgets_.queue_timeout_micros;
  std::vector<Event> events;
  std::vector<std::shared_ptr<LoadedModule>> drop;  // destroyed after the lock is released
  Status result;
  {
    std::unique_lock<std::mutex> lock(mu_);
    const std::int64_t start = Now();
    Waiter me;
    me.in_progress = true;
    PlanRequest& request = me.request;
    request.keep = {lease.key()};
    request.extra_kv_bytes = charge.kv_bytes;
    request.extra_session_bytes = charge.other_bytes;
    request.what = "a session of " + lease.key() + " (KV " + HumanBytes(charge.kv_bytes) +
                   ", buffers " + HumanBytes(charge.other_bytes) + ")";
    for (;;) {
      request.now_micros = Now();
      std::string reason;
      Result<Plan> plan = MakePlan(budgets_, Snapshot(), request, *policy_);
      if (budgets_.max_sessions <= 0 || (!plan.ok() && !CanEverFit(request))) {
        ++counters_.refusals;
        result = budgets_.max_sessions <= 0
                     ? Status(StatusCode::kResourceExhausted,
                              "resident: " + request.what + ": the session limit is 0")
                     : plan.status();
        events.push_back({EventKind::kRefused,
                          lease.key(),
                          Now(),
                          0,
                          {charge.kv_bytes + charge.other_bytes, 0},
                          result.message()});
        break;
      }
      if (sessions_ >= budgets_.max_sessions) {
        reason = std::to_string(sessions_) + " sessions open, the limit is " +
                 std::to_string(budgets_.max_sessions);
      } else if (!plan.ok()) {
        reason = plan.status().message();
      } else {
        MayGoAhead(me.queued ? &me : nullptr, /*in_progress=*/true);  // counts the overtaken
        // Victims hold no lease, so no session either: dropping them is immediate.
        for (const std::string& v : plan->evict) {
          events.push_back(RemoveEntry(v, "to make room: " + request.what, drop));
        }
        session_room_[lease.key()] = charge;
        Entry& e = *entries_.at(lease.key());
        e.kv_bytes += charge.kv_bytes;
        e.session_bytes += charge.other_bytes;
        ++e.sessions;
        ++sessions_;
        break;
      }
      const std::int64_t waited = Now() - start;
      if (waited >= timeout_micros) {
        result =
            AdmissionTimeout(me, lease.key(), request.what, reason, waited, timeout_micros, events);
        break;
      }
      Enqueue(me);
      cv_.wait_for(lock, kQueuePoll);
    }
    Dequeue(me);
  }
  drop.clear();
  Emit(std::move(events));
  return result;
}

void ResidentSet::ReleaseSession(const Lease& lease, SessionCharge charge) {
  std::lock_guard<std::mutex> lock(mu_);
  Entry& e = *entries_.at(lease.key());
  TS_CHECK(e.sessions > 0 && e.kv_bytes >= charge.kv_bytes &&
           e.session_bytes >= charge.other_bytes && sessions_ > 0);
  e.kv_bytes -= charge.kv_bytes;
  e.session_bytes -= charge.other_bytes;
  --e.sessions;
  --sessions_;
  cv_.notify_all();
}

Result<ResidentSet::Slot> ResidentSet::EnterParallel(const Lease& lease,
                                                     std::int64_t timeout_micros) {
  if (!lease.valid()) return Status(StatusCode::kFailedPrecondition, "resident: no lease");
  if (timeout_micros < 0) timeout_micros = budgets_.queue_timeout_micros;
  std::vector<Event> events;
  Slot slot;
  Status result;
  {
    std::unique_lock<std::mutex> lock(mu_);
    const std::int64_t start = Now();
    const std::uint64_t ticket = next_queue_ticket_++;
    queue_.push_back(ticket);
    for (;;) {
      Entry& e = *entries_.at(lease.key());
      const bool joins = e.generating > 0;  // the module is generating already: no new slot
      if (joins || (queue_.front() == ticket && generating_modules_ < budgets_.max_parallel)) {
        queue_.erase(std::find(queue_.begin(), queue_.end(), ticket));
        if (e.generating++ == 0) {
          ++generating_modules_;
          e.generating_since = Now();
        }
        slot.set_ = this;
        slot.key_ = lease.key();
        slot.waited_micros_ = Now() - start;
        cv_.notify_all();  // the next in the queue may fit too
        break;
      }
      const std::int64_t now = Now();
      if (now - start >= timeout_micros) {
        const auto pos = std::find(queue_.begin(), queue_.end(), ticket);
        const std::int64_t ahead = pos - queue_.begin();
        queue_.erase(pos);
        ++counters_.queue_timeouts;
        // A slot frees on average every mean_slot_micros_ / max_parallel.
        const std::int64_t hint = std::max<std::int64_t>(
            1000, mean_slot_micros_ * (ahead + 1) / std::max(1, budgets_.max_parallel));
        result =
            Status(StatusCode::kUnavailable,
                   "resident: no generation slot for " + lease.key() + " within " +
                       HumanMicros(timeout_micros) + ": K_parallel " +
                       std::to_string(generating_modules_) + " of " +
                       std::to_string(budgets_.max_parallel) + " modules generating, " +
                       std::to_string(ahead) + " requests ahead; retry after " + HumanMicros(hint));
        events.push_back(
            {EventKind::kQueueTimeout, lease.key(), now, now - start, {}, result.message()});
        cv_.notify_all();
        break;
      }
      cv_.wait_for(lock, kQueuePoll);
    }
  }
  Emit(std::move(events));
  if (!result.ok()) return result;
  return slot;
}

ResidentSet::Slot& ResidentSet::Slot::operator=(Slot&& other) noexcept {
  if (this != &other) {
    Leave();
    set_ = std::exchange(other.set_, nullptr);
    key_ = std::move(other.key_);
    waited_micros_ = other.waited_micros_;
  }
  return *this;
}

void ResidentSet::Slot::Leave() {
  if (set_ == nullptr) return;
  std::exchange(set_, nullptr)->LeaveSlot(key_);
}

void ResidentSet::LeaveSlot(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  Entry& e = *entries_.at(key);
  TS_CHECK(e.generating > 0);
  if (--e.generating == 0) {
    --generating_modules_;
    const std::int64_t took = Now() - e.generating_since;
    mean_slot_micros_ = mean_slot_micros_ == 0 ? took : (3 * mean_slot_micros_ + took) / 4;
  }
  cv_.notify_all();
}

void ResidentSet::RecordKnownGood() {
  std::lock_guard<std::mutex> lock(mu_);
  known_good_.clear();
  for (const auto& [key, e] : entries_) {
    if (e->state != Entry::State::kLoading) known_good_.push_back(e->spec);  // victims too
  }
  known_good_recorded_ = true;
}

Status ResidentSet::RollbackToKnownGood() {
  std::vector<ModuleSpec> target;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!known_good_recorded_) {
      return Status(StatusCode::kFailedPrecondition,
                    "resident: rollback: no known-good set was recorded");
    }
    target = known_good_;
  }
  const std::int64_t t0 = Now();
  TS_RETURN_IF_ERROR(
      Transact(target, /*evict_others=*/true, nullptr, "rollback to the known-good set", -1));
  std::string detail = "restored " + std::to_string(target.size()) + " modules:";
  for (const ModuleSpec& s : target) detail += " " + s.key;
  Emit({{EventKind::kRolledBack, "", Now(), Now() - t0, {}, detail}});
  return Status::Ok();
}

}  // namespace tessera::resident

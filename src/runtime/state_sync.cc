#include "runtime/state_sync.h"

#include <utility>

namespace tessera::runtime {

std::pair<std::string, std::string> SplitKey(const std::string& key) {
  const std::size_t at = key.rfind('@');
  if (at == std::string::npos) return {key, ""};
  return {key.substr(0, at), key.substr(at + 1)};
}

StateSync::StateSync(registry::Registry& registry, std::mutex& registry_mu, CurrentState current,
                     PersistFootprint persist)
    : registry_(registry),
      registry_mu_(registry_mu),
      current_(std::move(current)),
      persist_(std::move(persist)) {
  worker_ = std::thread([this] { Run(); });
}

StateSync::~StateSync() {
  Flush();
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    cv_.notify_all();
  }
  worker_.join();
}

void StateSync::Mark(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  pending_.insert(key);
  cv_.notify_all();
}

void StateSync::MarkMeasured(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  pending_.insert(key);
  measured_.insert(key);
  cv_.notify_all();
}

void StateSync::Flush() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return pending_.empty() && !busy_; });
}

std::string StateSync::last_error() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_error_;
}

Status StateSync::Write(registry::Registry& registry, const std::string& key, registry::State to) {
  using registry::State;
  const auto [id, version] = SplitKey(key);
  TS_ASSIGN_OR_RETURN(registry::PackageRecord r, registry.Show(id, version));
  const State from = r.state;
  if (from == to) return Status::Ok();
  const std::string reason = "runtime: resident set";
  if (to == State::kActive) {
    if (from != State::kResident) {
      TS_RETURN_IF_ERROR(registry.SetRuntimeState(id, version, State::kResident, reason));
    }
    return registry.SetRuntimeState(id, version, State::kActive, reason);
  }
  if (to == State::kResident) {
    return registry.SetRuntimeState(id, version, State::kResident, reason);
  }
  // Not resident: back to the state before residency, through resident.
  if (from == State::kActive) {
    TS_RETURN_IF_ERROR(registry.SetRuntimeState(id, version, State::kResident, reason));
  } else if (from != State::kResident) {
    return Status::Ok();  // suspended or retired meanwhile: not the manager's to change
  }
  return registry.SetRuntimeState(id, version, r.resume_state, reason);
}

void StateSync::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return stop_ || !pending_.empty(); });
    if (pending_.empty()) return;  // stop_
    const std::string key = *pending_.begin();
    pending_.erase(pending_.begin());
    const bool measured = measured_.erase(key) > 0;
    busy_ = true;
    lock.unlock();
    const registry::State to = current_(key);
    Status s;
    {
      std::lock_guard<std::mutex> registry_lock(registry_mu_);
      s = Write(registry_, key, to);
      if (s.ok() && measured && persist_) s = persist_(registry_, key);
    }
    lock.lock();
    busy_ = false;
    if (!s.ok()) last_error_ = s.ToString();
    cv_.notify_all();
  }
}

}  // namespace tessera::runtime

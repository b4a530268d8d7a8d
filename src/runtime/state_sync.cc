#include "runtime/state_sync.h"

#include <utility>

namespace tessera::runtime {

std::pair<std::string, std::string> SplitKey(const std::string& key) {
  const std::size_t at = key.rfind('@');
  if (at == std::string::npos) return {key, ""};
  return {key.substr(0, at), key.substr(at + 1)};
}

StateSync::StateSync(registry::Registry& registry, std::mutex& registry_mu,
                     Result<std::unique_ptr<registry::LiveStateFile>> live, Snapshot snapshot,
                     PersistFootprint persist)
    : registry_(registry),
      registry_mu_(registry_mu),
      snapshot_(std::move(snapshot)),
      persist_(std::move(persist)) {
  if (live.ok()) {
    live_ = std::move(live).value();
  } else {
    last_error_ = "runtime: live states are not published: " + live.status().ToString();
  }
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
  live_.reset();  // removes the files and drops the lock
}

void StateSync::MarkChanged() {
  std::lock_guard<std::mutex> lock(mu_);
  changed_ = true;
  cv_.notify_all();
}

void StateSync::MarkMeasured(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  changed_ = true;
  measured_.insert(key);
  cv_.notify_all();
}

void StateSync::Flush() {
  std::unique_lock<std::mutex> lock(mu_);
  ++flushing_;  // cuts the worker's settling short
  cv_.notify_all();
  cv_.wait(lock, [&] { return !changed_ && measured_.empty() && !busy_; });
  --flushing_;
}

std::string StateSync::last_error() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_error_;
}

void StateSync::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return stop_ || changed_ || !measured_.empty(); });
    if (!changed_ && measured_.empty()) return;  // stop_
    // Let a burst of changes settle (a request's lease and release come in pairs), so that a
    // stream of requests publishes a few times a second rather than twice per request.
    if (changed_ && measured_.empty()) {
      cv_.wait_for(lock, kSettle, [&] { return stop_ || flushing_ > 0; });
    }
    const bool changed = changed_;
    changed_ = false;
    std::set<std::string> measured;
    measured.swap(measured_);
    busy_ = true;
    lock.unlock();
    Status s;
    if (changed && live_ != nullptr) {
      LiveSet now = snapshot_();
      if (now != published_) {
        s = live_->Publish(now);
        if (s.ok()) published_ = std::move(now);
      }
    }
    if (!measured.empty() && persist_) {
      std::lock_guard<std::mutex> registry_lock(registry_mu_);
      for (const std::string& key : measured) {
        Status p = persist_(registry_, key);
        if (!p.ok()) s = p;
      }
    }
    lock.lock();
    busy_ = false;
    if (!s.ok()) last_error_ = s.ToString();
    cv_.notify_all();
  }
}

}  // namespace tessera::runtime

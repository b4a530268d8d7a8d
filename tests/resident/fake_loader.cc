#include "fake_loader.h"

#include <memory>
#include <thread>

namespace tessera::resident::fake {
namespace {

std::atomic<int> g_alive{0};
std::atomic<std::uint64_t> g_alive_bytes{0};
std::atomic<std::uint64_t> g_peak_bytes{0};

void AddBytes(std::uint64_t bytes) {
  const std::uint64_t now = g_alive_bytes += bytes;
  std::uint64_t peak = g_peak_bytes.load();
  while (now > peak && !g_peak_bytes.compare_exchange_weak(peak, now)) {
  }
}

// Bytes held while the object lives.
class Held {
 public:
  explicit Held(std::uint64_t bytes) : bytes_(bytes) { AddBytes(bytes); }
  ~Held() { g_alive_bytes -= bytes_; }
  Held(const Held&) = delete;
  Held& operator=(const Held&) = delete;

 private:
  std::uint64_t bytes_;
};

class FakeModule final : public LoadedModule {
 public:
  explicit FakeModule(std::uint64_t private_bytes) : own_(private_bytes) { ++g_alive; }
  ~FakeModule() override { --g_alive; }
  std::vector<std::shared_ptr<void>> artifacts;  // shared with other modules on the same sha

 private:
  Held own_;
};

}  // namespace

void FakeLoader::Set(const std::string& key, Behavior b) {
  std::lock_guard<std::mutex> lock(mu_);
  behavior_[key] = std::move(b);
}

void FakeLoader::Release(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  released_[key] = true;
  cv_.notify_all();
}

void FakeLoader::AwaitStalled(const std::string& key) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return stalled_[key]; });
}

int FakeLoader::loads(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = loads_.find(key);
  return it == loads_.end() ? 0 : it->second;
}

int FakeLoader::total_loads() const {
  std::lock_guard<std::mutex> lock(mu_);
  int n = 0;
  for (const auto& [k, v] : loads_) n += v;
  return n;
}

std::vector<std::string> FakeLoader::order() const {
  std::lock_guard<std::mutex> lock(mu_);
  return order_;
}

int FakeLoader::alive() { return g_alive.load(); }
std::uint64_t FakeLoader::alive_bytes() { return g_alive_bytes.load(); }
std::uint64_t FakeLoader::peak_bytes() { return g_peak_bytes.load(); }
void FakeLoader::ResetPeak() { g_peak_bytes = g_alive_bytes.load(); }

void FakeLoader::SetLoadYields(int n) {
  std::lock_guard<std::mutex> lock(mu_);
  load_yields_ = n;
}

void FakeLoader::SetLoadTime(FakeClock* clock, std::int64_t micros) {
  std::lock_guard<std::mutex> lock(mu_);
  clock_ = clock;
  load_micros_ = micros;
}

Result<LoadResult> FakeLoader::Load(const ModuleSpec& spec) {
  Behavior b;
  int n = 0;
  int yields = 0;
  {
    std::unique_lock<std::mutex> lock(mu_);
    n = ++loads_[spec.key];
    order_.push_back(spec.key);
    yields = load_yields_;
    b = behavior_[spec.key];
    if (clock_ != nullptr) clock_->Advance(load_micros_);
    if (b.stall) {
      stalled_[spec.key] = true;
      cv_.notify_all();
      cv_.wait(lock, [&] { return released_[spec.key]; });
      stalled_[spec.key] = false;
      released_[spec.key] = false;
    }
  }
  for (int i = 0; i < yields; ++i) std::this_thread::yield();
  if (!b.load_error.ok() && n >= b.fail_from) return b.load_error;
  LoadResult r;
  r.measured = b.measured.measured ? b.measured : spec.estimate;
  auto module = std::make_shared<FakeModule>(r.measured.private_bytes.host);
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const ArtifactCharge& a : r.measured.artifacts) {
      std::shared_ptr<void> shared = artifacts_[a.sha256].lock();
      if (shared == nullptr) {
        shared = std::make_shared<Held>(a.bytes.host);
        artifacts_[a.sha256] = shared;
        ++maps_[a.sha256];
      }
      module->artifacts.push_back(std::move(shared));
    }
  }
  r.module = std::move(module);
  return r;
}

std::shared_ptr<const void> FakeLoader::SharedArtifacts(const LoadedModule& module) {
  auto held = std::make_shared<std::vector<std::shared_ptr<void>>>(
      static_cast<const FakeModule&>(module).artifacts);
  return held;
}

int FakeLoader::maps(const std::string& sha256) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = maps_.find(sha256);
  return it == maps_.end() ? 0 : it->second;
}

Status FakeLoader::Verify(const ModuleSpec& spec, LoadedModule&, Footprint&) {
  std::lock_guard<std::mutex> lock(mu_);
  return behavior_[spec.key].verify_error;
}

ModuleSpec Spec(const std::string& key, double host_mb, const std::vector<std::string>& artifacts,
                double artifact_mb) {
  ModuleSpec s;
  s.key = key;
  s.sha256 = std::string(64, 'a');
  s.estimate.private_bytes.host = static_cast<std::uint64_t>(host_mb * kMB);
  for (const std::string& a : artifacts) {
    s.estimate.artifacts.push_back({a, {static_cast<std::uint64_t>(artifact_mb * kMB), 0}});
  }
  s.estimate.kv_bytes_per_token = 1024;
  return s;
}

}  // namespace tessera::resident::fake

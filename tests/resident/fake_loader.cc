#include "fake_loader.h"

#include <memory>

namespace tessera::resident::fake {
namespace {

std::atomic<int> g_alive{0};

class FakeModule final : public LoadedModule {
 public:
  FakeModule() { ++g_alive; }
  ~FakeModule() override { --g_alive; }
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

int FakeLoader::alive() { return g_alive.load(); }

Result<LoadResult> FakeLoader::Load(const ModuleSpec& spec) {
  Behavior b;
  {
    std::unique_lock<std::mutex> lock(mu_);
    ++loads_[spec.key];
    b = behavior_[spec.key];
    if (b.stall) {
      stalled_[spec.key] = true;
      cv_.notify_all();
      cv_.wait(lock, [&] { return released_[spec.key]; });
      stalled_[spec.key] = false;
      released_[spec.key] = false;
    }
  }
  if (!b.load_error.ok()) return b.load_error;
  LoadResult r;
  r.module = std::make_shared<FakeModule>();
  r.measured = b.measured.measured ? b.measured : spec.estimate;
  return r;
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

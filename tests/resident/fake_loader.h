// Test support for the resident-set manager: a loader whose modules cost what the test says and
// which can be told to fail, fail its smoke check, or stall until released; a fake clock.
// The fake modules hold their bytes the way real ones do (a shared artifact once, however many
// modules use it), so that a test can ask how many bytes are alive now and at the peak.
#ifndef TESSERA_TESTS_RESIDENT_FAKE_LOADER_H_
#define TESSERA_TESTS_RESIDENT_FAKE_LOADER_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/clock.h"
#include "resident/loader.h"

namespace tessera::resident::fake {

inline constexpr std::uint64_t kMB = 1'000'000;

class FakeClock final : public base::Clock {
 public:
  std::int64_t NowUnixMillis() const override { return 1'790'000'000'000 + now_ / 1000; }
  std::int64_t NowSteadyMicros() const override { return now_.load(); }
  void Advance(std::int64_t micros) { now_ += micros; }
  void AdvanceSeconds(double s) { now_ += static_cast<std::int64_t>(s * 1e6); }

 private:
  std::atomic<std::int64_t> now_{1'000'000};
};

// How the fake loader treats one key.
struct Behavior {
  Status load_error;    // returned by Load
  Status verify_error;  // returned by Verify
  // 0: load_error applies to every load; n > 0: only to the n-th load of the key and later
  // (a module that loads once and fails when it is restored).
  int fail_from = 0;
  bool stall = false;  // Load blocks until Release(key)
  // The measured footprint; unset (measured == false): the spec's estimate.
  Footprint measured;
};

class FakeLoader final : public Loader {
 public:
  void Set(const std::string& key, Behavior b);
  // Lets a stalled Load of `key` return.
  void Release(const std::string& key);
  // Blocks until a Load of `key` is stalled.
  void AwaitStalled(const std::string& key);
  int loads(const std::string& key) const;
  int total_loads() const;
  // Every Load's key, in the order the loads began.
  std::vector<std::string> order() const;
  // Every Load advances `clock` by `micros` (a slow loader on a fake clock).
  void SetLoadTime(FakeClock* clock, std::int64_t micros);
  // Every Load yields its thread `n` times (a slow loader on the real clock, without sleeping).
  void SetLoadYields(int n);
  // FakeModules alive now (created by Load and not yet destroyed).
  static int alive();
  // Host bytes the alive FakeModules hold (shared artifacts once), now and at the peak since
  // ResetPeak().
  static std::uint64_t alive_bytes();
  static std::uint64_t peak_bytes();
  static void ResetPeak();

  Result<LoadResult> Load(const ModuleSpec& spec) override;
  Status Verify(const ModuleSpec& spec, LoadedModule& module, Footprint& measured) override;
  std::shared_ptr<const void> SharedArtifacts(const LoadedModule& module) override;
  // How many times the artifact `sha256` was "mapped" (created while no module held it).
  int maps(const std::string& sha256) const;

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, Behavior> behavior_;
  std::map<std::string, int> loads_;
  std::vector<std::string> order_;
  std::map<std::string, bool> stalled_;  // a Load is waiting
  std::map<std::string, bool> released_;
  FakeClock* clock_ = nullptr;
  std::int64_t load_micros_ = 0;
  int load_yields_ = 0;
  std::map<std::string, std::weak_ptr<void>> artifacts_;  // by sha256: mapped once
  std::map<std::string, int> maps_;
};

// A spec of `host_mb` private megabytes and optional shared artifacts of `artifact_mb` each.
ModuleSpec Spec(const std::string& key, double host_mb,
                const std::vector<std::string>& artifacts = {}, double artifact_mb = 0);

}  // namespace tessera::resident::fake

#endif  // TESSERA_TESTS_RESIDENT_FAKE_LOADER_H_

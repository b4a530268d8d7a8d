// Test support for the resident-set manager: a fixture holding a ResidentSet over a FakeLoader
// and a FakeClock, which records the set's events and answers what is resident.
#ifndef TESSERA_TESTS_RESIDENT_FAKE_SET_H_
#define TESSERA_TESTS_RESIDENT_FAKE_SET_H_

#include <gtest/gtest.h>

#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "fake_loader.h"
#include "resident/resident_set.h"

namespace tessera::resident::fake {

using Keys = std::vector<std::string>;

class FakeSetTest : public ::testing::Test {
 protected:
  // Makes set_ with `o`, on the fixture's clock, recording every event.
  void MakeSet(ResidentOptions o) {
    o.clock = &clock_;
    o.on_event = [this](const Event& e) {
      std::lock_guard<std::mutex> lock(events_mu_);
      events_.push_back(e);
    };
    set_ = std::make_unique<ResidentSet>(loader_, std::move(o));
  }
  // The resident modules' keys, in the report's order.
  Keys Resident() const {
    Keys keys;
    for (const ModuleReport& m : set_->Report().modules) keys.push_back(m.key);
    return keys;
  }
  // A module's state in the report, "absent" when it is not there.
  std::string State(const std::string& key) const {
    for (const ModuleReport& m : set_->Report().modules) {
      if (m.key == key) return m.state;
    }
    return "absent";
  }
  // The modules of the events of `kind`, in order.
  Keys Events(EventKind kind) {
    std::lock_guard<std::mutex> lock(events_mu_);
    Keys keys;
    for (const Event& e : events_) {
      if (e.kind == kind) keys.push_back(e.module);
    }
    return keys;
  }

  FakeClock clock_;
  FakeLoader loader_;
  std::mutex events_mu_;
  std::vector<Event> events_;
  std::unique_ptr<ResidentSet> set_;
};

}  // namespace tessera::resident::fake

#endif  // TESSERA_TESTS_RESIDENT_FAKE_SET_H_

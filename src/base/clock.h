// Time as an interface, so that tests run on a fake clock: code that records when something
// happened takes a `const Clock&` instead of reading the system time.
//
// Thread safety: SystemClock() is immutable and shareable; fakes are the test's business.
#ifndef TESSERA_BASE_CLOCK_H_
#define TESSERA_BASE_CLOCK_H_

#include <cstdint>

namespace tessera::base {

class Clock {
 public:
  virtual ~Clock() = default;
  // Milliseconds since the Unix epoch (UTC): for records of when something happened.
  virtual std::int64_t NowUnixMillis() const = 0;
  // Microseconds of a monotonic clock with an arbitrary origin: for durations and deadlines,
  // which must not jump with the wall clock. The default derives it from NowUnixMillis().
  virtual std::int64_t NowSteadyMicros() const { return NowUnixMillis() * 1000; }
};

// The system's real-time clock.
const Clock& SystemClock();

}  // namespace tessera::base

#endif  // TESSERA_BASE_CLOCK_H_

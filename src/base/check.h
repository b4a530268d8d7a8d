// Checks for programming bugs (broken invariants). They abort loudly with the file and line.
// Never use them for input from outside: bad input returns a Status (tessera/status.h).
// TS_DCHECK compiles away in release builds (NDEBUG) and is the only check allowed in hot loops.
#ifndef TESSERA_BASE_CHECK_H_
#define TESSERA_BASE_CHECK_H_

namespace tessera::base {
[[noreturn]] void CheckFailed(const char* file, int line, const char* condition);
}  // namespace tessera::base

#define TS_CHECK(cond)                                                      \
  do {                                                                      \
    if (!(cond)) ::tessera::base::CheckFailed(__FILE__, __LINE__, #cond);   \
  } while (0)

#ifdef NDEBUG
#define TS_DCHECK(cond) \
  do {                  \
  } while (0)
#else
#define TS_DCHECK(cond) TS_CHECK(cond)
#endif

#endif  // TESSERA_BASE_CHECK_H_

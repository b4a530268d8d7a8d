// Test support: a forked child process that prepares something (a live state file, a runtime
// holding a module), tells the parent whether that worked, and then waits until the parent
// kills it — so that tests can kill -9 or SIGTERM a process that holds state. The child leaves
// by _exit, never through the parent's test code; what `setup` must keep alive while the child
// waits it releases on purpose (the child never returns).
#ifndef TESSERA_TESTS_REGISTRY_HELD_CHILD_H_
#define TESSERA_TESTS_REGISTRY_HELD_CHILD_H_

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <functional>

namespace tessera::testing {

class HeldChild {
 public:
  // Forks; the child runs `setup` (true: ready) and waits. Blocks until the child reported.
  explicit HeldChild(const std::function<bool()>& setup) {
    int ready[2], hold[2];
    if (::pipe(ready) != 0 || ::pipe(hold) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::close(ready[0]);
      ::close(hold[1]);
      const char ok = setup() ? 1 : 0;
      (void)!::write(ready[1], &ok, 1);
      char c;
      (void)!::read(hold[0], &c, 1);  // returns when the parent ends; normally killed first
      ::_exit(0);
    }
    ::close(ready[1]);
    ::close(hold[0]);
    hold_ = hold[1];
    char ok = 0;
    ready_ = pid_ > 0 && ::read(ready[0], &ok, 1) == 1 && ok == 1;
    ::close(ready[0]);
  }
  ~HeldChild() {
    if (pid_ > 0) Kill(SIGKILL);
    if (hold_ >= 0) ::close(hold_);
  }
  HeldChild(const HeldChild&) = delete;
  HeldChild& operator=(const HeldChild&) = delete;

  // Sends `signal` and waits for the child; true if the signal ended it.
  bool Kill(int signal = SIGKILL) {
    ::kill(pid_, signal);
    int status = 0;
    const bool waited = ::waitpid(pid_, &status, 0) == pid_;
    pid_ = -1;
    return waited && WIFSIGNALED(status) && WTERMSIG(status) == signal;
  }
  bool ready() const { return ready_; }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int hold_ = -1;
  bool ready_ = false;
};

}  // namespace tessera::testing

#endif  // TESSERA_TESTS_REGISTRY_HELD_CHILD_H_

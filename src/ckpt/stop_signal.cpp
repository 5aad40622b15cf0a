// The SIGTERM/SIGUSR1 flag. A handler may only touch lock-free atomics, so the first signal
// number is stored with a compare-exchange and everything else happens at step boundaries.
#include "trm/ckpt/stop_signal.hpp"

#include <atomic>
#include <csignal>

#include "trm/common/error.hpp"
#include "trm/dist/communicator.hpp"

namespace trm {
namespace {

std::atomic<int> g_stop_signal{0};  // the only mutable global: written by the signal handler
static_assert(std::atomic<int>::is_always_lock_free, "signal handlers need a lock-free flag");

extern "C" void on_stop_signal(int signal) {
  int expected = 0;
  g_stop_signal.compare_exchange_strong(expected, signal);
}

}  // namespace

void install_stop_signal_handlers() {
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;  // blocking calls (file reads, MPI) continue after the signal
  for (int signal : {SIGTERM, SIGUSR1})
    TRM_CHECK(sigaction(signal, &action, nullptr) == 0,
              "cannot install the handler for signal " << signal, "report this as a bug");
}

int pending_stop_signal() { return g_stop_signal.load(); }

void clear_stop_signal() { g_stop_signal.store(0); }

int agree_stop_signal(Communicator& comm) {
  const int mine = pending_stop_signal();
  if (!comm.any(mine != 0)) return 0;
  return comm.any(mine == SIGTERM) ? SIGTERM : SIGUSR1;
}

}  // namespace trm

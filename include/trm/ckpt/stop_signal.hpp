// StopSignal: preemption by SIGTERM / SIGUSR1 (SLURM's --signal=USR1@120, scancel, kill).
// The handlers only store the signal number in a lock-free atomic (the one process-wide state
// a signal handler can reach); the trainer polls pending() at each step boundary, all ranks agree
// through the communicator (agree_stop_signal), the coordinator checkpoints, and main() exits
// with 128 + signal so a scheduler can tell a preemption from a failure.
#pragma once

namespace trm {

class Communicator;

// Installs the handlers for SIGTERM and SIGUSR1 (idempotent). SIGINT keeps its default.
void install_stop_signal_handlers();

// The first stop signal received by this process, or 0.
int pending_stop_signal();

// For tests: forget a received signal.
void clear_stop_signal();

// Collective: the stop signal agreed by all ranks, or 0 when no rank received one. When ranks
// received different signals, SIGTERM wins over SIGUSR1 (a hard stop beats a warning).
int agree_stop_signal(Communicator& comm);

// 128 + signal: the exit code of a run stopped by `signal`.
inline int stop_exit_code(int signal) { return 128 + signal; }

}  // namespace trm

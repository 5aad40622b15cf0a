// Communicator: the few collectives trm-dist needs, behind one small interface so that the
// trainer does not care whether tensors travel over MPI (CPU) or NCCL (CUDA).
// Invariants: every rank calls the same collectives in the same order with the same sizes
// (except all_gather, whose per-rank sizes may differ); a failed call aborts the communicator
// (so that peers fail instead of hanging) and then throws trm::Error naming the rank.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace trm {

class Communicator {
 public:
  virtual ~Communicator() = default;

  virtual int rank() const = 0;
  virtual int world_size() const = 0;
  virtual int local_rank() const = 0;  // rank among the processes of this node
  virtual std::string backend_name() const = 0;

  virtual void barrier() = 0;
  // In place: every rank ends with `root`'s values. `tensor` must be contiguous, same shape
  // and dtype on every rank.
  virtual void broadcast(torch::Tensor& tensor, int root) = 0;
  // In place element-wise sum over ranks. Contiguous, same shape and dtype on every rank.
  virtual void all_reduce_sum(torch::Tensor& tensor) = 0;
  // Concatenation along dim 0 of every rank's `tensor` in rank order; dim 0 may differ per rank,
  // the other dims and the dtype may not.
  virtual torch::Tensor all_gather(const torch::Tensor& tensor) = 0;
  // Ends every rank of the job at once (used when one rank fails alone). Does not return.
  [[noreturn]] virtual void abort(int exit_code) = 0;

  // Control traffic (always over MPI, host memory).
  virtual void broadcast_string(std::string& text, int root) = 0;
  // Logical OR of a flag over ranks (e.g. "some rank failed", "stop requested").
  virtual bool any(bool flag) = 0;
};

// Initialises MPI once per process (MPI_Init_thread; a process started without mpirun becomes a
// singleton world of size 1) and finalises it on destruction. Own exactly one, in main().
class MpiSession {
 public:
  MpiSession(int* argc, char*** argv);
  ~MpiSession();
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;
};

// The MPI backend: host tensors (CUDA tensors are staged through host memory) and control
// traffic. Duplicates MPI_COMM_WORLD; the local rank comes from a shared-memory split.
std::unique_ptr<Communicator> make_mpi_communicator();

// The communicator for tensors on `device`: NCCL for CUDA devices (built with TRM_WITH_NCCL),
// MPI otherwise. Collective: every rank must call it.
std::unique_ptr<Communicator> make_communicator(const torch::Device& device);

}  // namespace trm

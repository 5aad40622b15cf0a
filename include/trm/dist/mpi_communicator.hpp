// MpiCommunicator: the Communicator over MPI (host memory). Works in a singleton world (no
// mpirun). It owns a duplicate of MPI_COMM_WORLD with MPI_ERRORS_RETURN so that every failed call
// is turned into a trm::Error naming the rank and the call instead of killing the process silently.
#pragma once

#include <mpi.h>

#include <string>

#include "trm/dist/communicator.hpp"

namespace trm {

class MpiCommunicator : public Communicator {
 public:
  MpiCommunicator();  // requires an MpiSession
  ~MpiCommunicator() override;

  int rank() const override { return rank_; }
  int world_size() const override { return world_size_; }
  int local_rank() const override { return local_rank_; }
  std::string backend_name() const override { return "mpi"; }

  void barrier() override;
  void broadcast(torch::Tensor& tensor, int root) override;
  void all_reduce_sum(torch::Tensor& tensor) override;
  torch::Tensor all_gather(const torch::Tensor& tensor) override;
  [[noreturn]] void abort(int exit_code) override;
  void broadcast_string(std::string& text, int root) override;
  bool any(bool flag) override;

  MPI_Comm comm() const { return comm_; }

 private:
  MPI_Comm comm_ = MPI_COMM_NULL;
  int rank_ = 0;
  int world_size_ = 1;
  int local_rank_ = 0;
};

// Throws trm::Error for a failed MPI call: "<what> failed on rank R: <MPI's message>".
void check_mpi(int rc, const char* what, int rank);

}  // namespace trm

// Sparse sign-SGD across 2 ranks (mpiexec -n 2): ids touched on different ranks, and the same id
// on both, are summed before the sign, so every rank ends with the same table, equal to the
// single-process update on the concatenated rows.
#include <gtest/gtest.h>

#include "trm/dist/communicator.hpp"
#include "trm/train/sparse_sign_sgd.hpp"

namespace trm {
namespace {

TEST(SignSgdAcrossRanks, RepeatedIdsSummedOverRanks) {
  static int argc = 0;
  static MpiSession session(&argc, nullptr);
  auto comm = make_communicator(torch::kCPU);
  const int r = comm->rank(), w = comm->world_size();

  // Every rank's rows, as if in one process: rank q has ids {2, 4+q} with grads
  // {+3 on rank 0 / -1 elsewhere, +1}. Id 2 appears on every rank: sum = 3 - (w-1).
  auto ids_of = [](int q) { return torch::tensor({2, 4 + q}, torch::kInt64); };
  auto grads_of = [](int q) { return torch::tensor({{q == 0 ? 3.0f : -1.0f}, {1.0f}}); };
  const double lr = 0.25, wd = 0.2;
  torch::Tensor table = torch::ones({4 + w, 1});
  SparseSignSgd opt(table, wd);
  opt.step(ids_of(r), grads_of(r), lr, comm.get());

  torch::Tensor expected = torch::ones({4 + w, 1});
  std::vector<torch::Tensor> all_ids, all_grads;
  for (int q = 0; q < w; ++q) all_ids.push_back(ids_of(q)), all_grads.push_back(grads_of(q));
  SparseSignSgd ref(expected, wd);
  ref.step(torch::cat(all_ids), torch::cat(all_grads), lr, nullptr);
  EXPECT_TRUE(torch::equal(table, expected)) << table << expected;

  const double decayed = 1.0 - lr * wd;
  const double id2_sum = 3.0 - (w - 1);
  EXPECT_NEAR(table[2][0].item<double>(), decayed - lr * (id2_sum > 0 ? 1 : (id2_sum < 0 ? -1 : 0)), 1e-6);
  EXPECT_NEAR(table[4 + r][0].item<double>(), decayed - lr, 1e-6);  // touched on rank r only
  EXPECT_DOUBLE_EQ(table[0][0].item<double>(), 1.0);                  // untouched: no decay

  // Every rank holds the same table.
  torch::Tensor mine = table.clone(), sum = table.clone();
  comm->all_reduce_sum(sum);
  EXPECT_TRUE(torch::allclose(sum, mine * w));
}

}  // namespace
}  // namespace trm

// Collectives over MPI with 2 ranks (run by ctest through mpiexec -n 2; also passes with 1):
// the fused gradient all-reduce equals the sum, variable-size all-gather, broadcast of tensors
// and strings, the any() flag, and the local rank.
#include <gtest/gtest.h>

#include "trm/dist/communicator.hpp"
#include "trm/dist/grad_bucketer.hpp"

namespace trm {
namespace {

Communicator& comm() {
  static int argc = 0;
  static MpiSession session(&argc, nullptr);
  static std::unique_ptr<Communicator> c = make_communicator(torch::kCPU);
  return *c;
}

TEST(Collectives, FusedGradientAllReduceEqualsTheSum) {
  Communicator& c = comm();
  const int r = c.rank(), w = c.world_size();
  // Three parameters of different shapes; the last has no gradient on rank 0 only.
  torch::Tensor a = torch::zeros({2, 3}).requires_grad_(true);
  torch::Tensor b = torch::zeros({5}).requires_grad_(true);
  torch::Tensor d = torch::zeros({1}).requires_grad_(true);
  a.mutable_grad() = torch::arange(6, torch::kFloat32).reshape({2, 3}) * (r + 1);
  b.mutable_grad() = torch::full({5}, 0.5f + r);
  if (r != 0) d.mutable_grad() = torch::full({1}, 3.0f);
  GradBucketer bucketer({a, b, d});
  EXPECT_EQ(bucketer.numel(), 12);
  bucketer.all_reduce(c);
  const double rank_sum = w * (w + 1) / 2.0;  // sum of (r + 1)
  EXPECT_TRUE(torch::allclose(a.grad(), torch::arange(6, torch::kFloat32).reshape({2, 3}) * rank_sum));
  EXPECT_TRUE(torch::allclose(b.grad(), torch::full({5}, 0.5f * w + (w * (w - 1) / 2.0f))));
  ASSERT_TRUE(d.grad().defined());
  EXPECT_FLOAT_EQ(d.grad().item<float>(), 3.0f * (w - 1));
  // The buffer persists: a second reduction reuses it.
  const void* before = bucketer.buffer().data_ptr();
  bucketer.all_reduce(c);
  EXPECT_EQ(bucketer.buffer().data_ptr(), before);
}

TEST(Collectives, AllGatherVariableSizes) {
  Communicator& c = comm();
  const int r = c.rank(), w = c.world_size();
  // Rank r contributes r + 1 rows of [r, r, r].
  torch::Tensor local = torch::full({r + 1, 3}, static_cast<int64_t>(r), torch::kInt64);
  torch::Tensor all = c.all_gather(local);
  ASSERT_EQ(all.size(0), w * (w + 1) / 2);
  ASSERT_EQ(all.size(1), 3);
  int64_t row = 0;
  for (int q = 0; q < w; ++q)
    for (int k = 0; k <= q; ++k, ++row) EXPECT_EQ(all[row][2].item<int64_t>(), q);
  // Empty contributions are allowed.
  torch::Tensor empty = torch::zeros({r == 0 ? 0 : 2, 4});
  EXPECT_EQ(c.all_gather(empty).size(0), 2 * (w - 1));
}

TEST(Collectives, BroadcastAndControl) {
  Communicator& c = comm();
  const int r = c.rank();
  torch::Tensor t = torch::full({4}, static_cast<float>(r + 7));
  c.broadcast(t, 0);
  EXPECT_FLOAT_EQ(t[3].item<float>(), 7.0f);
  torch::Tensor bf = torch::full({3}, static_cast<float>(r + 1)).to(torch::kBFloat16);
  c.broadcast(bf, 0);
  EXPECT_FLOAT_EQ(bf[0].item<float>(), 1.0f);
  std::string s = r == 0 ? "from rank zero" : "";
  c.broadcast_string(s, 0);
  EXPECT_EQ(s, "from rank zero");
  EXPECT_EQ(c.any(r == c.world_size() - 1), true);
  EXPECT_EQ(c.any(false), false);
  EXPECT_GE(c.local_rank(), 0);
  EXPECT_LT(c.local_rank(), c.world_size());
  torch::Tensor sum = torch::tensor({1.0, 2.0}, torch::kFloat64);
  c.all_reduce_sum(sum);
  EXPECT_DOUBLE_EQ(sum[1].item<double>(), 2.0 * c.world_size());
  EXPECT_EQ(c.backend_name(), "mpi");
}

}  // namespace
}  // namespace trm

// Optimisers and schedule against hand-computed values: AdamATan2 (weight decay, bias correction
// at steps 1 and 2, no-grad skip), sign-SGD with repeated ids, the warm-up + cosine schedule,
// the reference's total step count, and the EMA.
#include <gtest/gtest.h>

#include <cmath>

#include "trm/train/adam_atan2.hpp"
#include "trm/train/ema.hpp"
#include "trm/train/lr_schedule.hpp"
#include "trm/train/sparse_sign_sgd.hpp"

namespace trm {
namespace {

TEST(AdamAtan2, MatchesTheFormulaAtSteps1And2) {
  const double lr = 0.01, wd = 0.5, b1 = 0.9, b2 = 0.95;
  torch::Tensor p = torch::tensor({1.0f, -2.0f, 0.5f, 0.0f}).requires_grad_(true);
  AdamAtan2 opt({p}, {b1, b2, wd});

  const std::vector<double> g1 = {0.1, -0.3, 0.0, 2.0}, g2 = {-0.2, -0.1, 0.4, 2.0};
  std::vector<double> ref = {1.0, -2.0, 0.5, 0.0}, m(4, 0.0), v(4, 0.0);
  int t = 0;
  for (const auto& g : {g1, g2}) {
    p.mutable_grad() = torch::tensor({float(g[0]), float(g[1]), float(g[2]), float(g[3])});
    opt.step(lr);
    ++t;
    for (int i = 0; i < 4; ++i) {
      ref[i] *= 1 - lr * wd;
      m[i] = b1 * m[i] + (1 - b1) * g[i];
      v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
      ref[i] -= lr / (1 - std::pow(b1, t)) * std::atan2(m[i], std::sqrt(v[i]) / std::sqrt(1 - std::pow(b2, t)));
    }
    for (int i = 0; i < 4; ++i) EXPECT_NEAR(p[i].item<double>(), ref[i], 1e-6) << "step " << t << " elem " << i;
  }
  EXPECT_EQ(opt.step_count(), 2);
  EXPECT_NEAR(opt.exp_avg()[0][1].item<double>(), m[1], 1e-7);
  EXPECT_NEAR(opt.exp_avg_sq()[0][1].item<double>(), v[1], 1e-7);
  // Step 1 moves any non-zero gradient by lr/(1-b1) * atan(1-b1) whatever its size: the bias
  // correction of m sits outside atan2 (the package's formula), that of v inside.
  torch::Tensor q = torch::tensor({3.0f}).requires_grad_(true);
  AdamAtan2 opt2({q}, {b1, b2, 0.0});
  q.mutable_grad() = torch::tensor({1e-8f});  // scale invariance: a tiny gradient moves as much
  opt2.step(lr);
  EXPECT_NEAR(q.item<double>(), 3.0 - lr / (1 - b1) * std::atan(1 - b1), 1e-6);
}

TEST(AdamAtan2, SkipsParametersWithoutGradient) {
  torch::Tensor a = torch::ones({2}).requires_grad_(true), b = torch::ones({2}).requires_grad_(true);
  AdamAtan2 opt({a, b}, {0.9, 0.95, 0.1});
  a.mutable_grad() = torch::ones({2});
  opt.step(0.1);
  EXPECT_LT(a[0].item<double>(), 1.0);
  EXPECT_DOUBLE_EQ(b[0].item<double>(), 1.0);
}

TEST(SparseSignSgd, RepeatedIdsAreSummedBeforeTheSign) {
  torch::Tensor table = torch::full({5, 2}, 1.0f);
  SparseSignSgd opt(table, /*weight_decay=*/0.5);
  // id 1 twice with opposite-dominance grads: +3 and -1 -> sum +2 -> sign +1.
  // id 3 once with -0.5 -> sign -1; id 4 with 0 gradient -> decay only. ids 0, 2 untouched.
  torch::Tensor ids = torch::tensor({1, 3, 1, 4}, torch::kInt32);
  torch::Tensor grads = torch::tensor({{3.0f, -1.0f}, {-0.5f, 0.5f}, {-1.0f, -1.0f}, {0.0f, 0.0f}});
  const double lr = 0.1;
  opt.step(ids, grads, lr, nullptr);
  const double decayed = 1.0 * (1 - lr * 0.5);
  EXPECT_NEAR(table[1][0].item<double>(), decayed - lr, 1e-6);  // 3 - 1 = 2 -> +
  EXPECT_NEAR(table[1][1].item<double>(), decayed + lr, 1e-6);  // -1 - 1 = -2 -> -
  EXPECT_NEAR(table[3][0].item<double>(), decayed + lr, 1e-6);
  EXPECT_NEAR(table[3][1].item<double>(), decayed - lr, 1e-6);
  EXPECT_NEAR(table[4][0].item<double>(), decayed, 1e-6);
  EXPECT_DOUBLE_EQ(table[0][0].item<double>(), 1.0);
  EXPECT_DOUBLE_EQ(table[2][1].item<double>(), 1.0);
}

TEST(LrSchedule, WarmupAndCosine) {
  const double base = 1e-3;
  EXPECT_DOUBLE_EQ(cosine_schedule_with_warmup(0, base, 100, 1000, 0.1), 0.0);
  EXPECT_DOUBLE_EQ(cosine_schedule_with_warmup(1, base, 100, 1000, 0.1), base / 100);
  EXPECT_DOUBLE_EQ(cosine_schedule_with_warmup(50, base, 100, 1000, 0.1), base / 2);
  EXPECT_DOUBLE_EQ(cosine_schedule_with_warmup(100, base, 100, 1000, 0.1), base);  // warm-up end
  EXPECT_NEAR(cosine_schedule_with_warmup(550, base, 100, 1000, 0.1), base * (0.1 + 0.9 * 0.5), 1e-15);
  EXPECT_NEAR(cosine_schedule_with_warmup(1000, base, 100, 1000, 0.1), base * 0.1, 1e-15);  // end
  EXPECT_NEAR(cosine_schedule_with_warmup(1000, base, 100, 1000, 1.0), base, 1e-15);  // constant
  EXPECT_NEAR(cosine_schedule_with_warmup(1000, base, 100, 1000, 0.0), 0.0, 1e-15);
  EXPECT_DOUBLE_EQ(cosine_schedule_with_warmup(5, base, 0, 10, 1.0), base);  // no warm-up
}

TEST(LrSchedule, TotalStepsAsTheReference) {
  // int(epochs * total_groups * mean_puzzle_examples / global_batch_size)
  EXPECT_EQ(total_train_steps(20, 3000, 1.0, 64), 937);
  EXPECT_EQ(total_train_steps(100000, 960, 1.75, 768), 218750);
  EXPECT_EQ(total_train_steps(1, 10, 1.0, 64), 0);
}

TEST(Ema, AveragesAndSwaps) {
  torch::Tensor p = torch::tensor({2.0f, 4.0f});
  Ema ema({p}, 0.9);
  p.copy_(torch::tensor({12.0f, 4.0f}));
  ema.update();  // 0.9*2 + 0.1*12 = 3
  EXPECT_NEAR(ema.shadow()[0][0].item<double>(), 3.0, 1e-6);
  EXPECT_NEAR(ema.shadow()[0][1].item<double>(), 4.0, 1e-6);
  ema.update();  // 0.9*3 + 0.1*12 = 3.9
  EXPECT_NEAR(ema.shadow()[0][0].item<double>(), 3.9, 1e-6);
  ema.swap();
  EXPECT_NEAR(p[0].item<double>(), 3.9, 1e-6);
  ema.swap();
  EXPECT_NEAR(p[0].item<double>(), 12.0, 1e-6);
}

}  // namespace
}  // namespace trm

// run_latent_recursion (see trm/model/latent_recursion.hpp). The schedule is walked call by call;
// a call runs with gradient exactly when it is among the last recursion_grad_calls() calls.
#include "trm/model/latent_recursion.hpp"

#include <utility>
#include <vector>

namespace trm {
namespace {

// Decides, call by call, whether the next call is inside the gradient suffix of the schedule.
class GradSchedule {
 public:
  GradSchedule(const ArchConfig& arch, bool track_grad)
      : first_grad_call_(track_grad ? recursion_calls(arch) - recursion_grad_calls(arch)
                                    : recursion_calls(arch)) {}
  bool next() { return index_++ >= first_grad_call_; }

 private:
  int64_t first_grad_call_;
  int64_t index_ = 0;
};

template <class F>
torch::Tensor run_call(bool with_grad, F&& f) {
  if (with_grad) return f();
  torch::NoGradGuard no_grad;
  return f();
}

}  // namespace

int64_t recursion_calls(const ArchConfig& arch) {
  if (arch.recursion == Recursion::kDirect || arch.recursion == Recursion::kTransformer) return 1;
  return arch.H_cycles * (arch.L_cycles + 1);
}

int64_t recursion_grad_calls(const ArchConfig& arch) {
  switch (arch.recursion) {
    case Recursion::kDirect: return 1;
    case Recursion::kTransformer: return 1;
    case Recursion::kHrm: return 2;
    case Recursion::kTrm: break;
  }
  return arch.gradient == GradientMode::kOneStep ? 2 : arch.L_cycles + 1;
}

const torch::Tensor& recursion_output(const ArchConfig& arch, const InnerCarry& carry) {
  return arch.latents == Latents::kSingleZ ? carry.z : carry.y;
}

InnerCarry run_latent_recursion(const ArchConfig& arch, RecursionNetworks& nets,
                                const InnerCarry& carry, const torch::Tensor& x, bool track_grad) {
  GradSchedule schedule(arch, track_grad);
  torch::Tensor y = carry.y;
  torch::Tensor z = carry.z;
  // f(h) without an injection is f(h, 0): a 0-dim zero broadcasts and adds nothing.
  const auto no_injection = torch::zeros({}, x.options());

  if (arch.recursion == Recursion::kDirect) {
    y = run_call(schedule.next(), [&] { return nets.f_z->forward(x, no_injection, nets.rope); });
    return InnerCarry{std::move(y), std::move(z)};
  }
  if (arch.recursion == Recursion::kTransformer) {
    // The answer is refined across supervision steps: y + x through the stack, once per step.
    y = run_call(schedule.next(), [&] { return nets.f_y->forward(y, x, nets.rope); });
    return InnerCarry{std::move(y), std::move(z)};
  }

  if (arch.latents == Latents::kSingleZ) {
    for (int64_t t = 0; t < arch.H_cycles; ++t) {
      for (int64_t i = 0; i < arch.L_cycles; ++i) {
        z = run_call(schedule.next(), [&] { return nets.f_z->forward(z, x, nets.rope); });
      }
      z = run_call(schedule.next(), [&] { return nets.f_z->forward(z, no_injection, nets.rope); });
    }
    return InnerCarry{std::move(y), std::move(z)};
  }

  // latents yz (one latent) and multi_z (six): z update i of a cycle writes latent i (always
  // the one latent for yz) from the sum of all latents; the y update reads that sum too. The sum
  // runs left to right, z_1 + z_2 + ... + z_6, as in the reference.
  const bool multi = arch.latents == Latents::kMultiZ;
  std::vector<torch::Tensor> zs = multi ? z.unbind(1) : std::vector<torch::Tensor>{z};
  auto z_sum = [&zs] {
    torch::Tensor sum = zs[0];
    for (size_t k = 1; k < zs.size(); ++k) sum = sum + zs[k];
    return sum;
  };
  for (int64_t t = 0; t < arch.H_cycles; ++t) {
    // y is fixed during the z updates, so the injection y + x is formed once per cycle, and
    // again with gradient when the gradient suffix starts inside the cycle (1-step gradient).
    torch::Tensor injection;
    bool injection_has_grad = false;
    for (int64_t i = 0; i < arch.L_cycles; ++i) {
      const bool with_grad = schedule.next();
      if (!injection.defined() || (with_grad && !injection_has_grad)) {
        injection = run_call(with_grad, [&] { return y + x; });
        injection_has_grad = with_grad;
      }
      zs[multi ? i : 0] =
          run_call(with_grad, [&] { return nets.f_z->forward(z_sum(), injection, nets.rope); });
    }
    y = run_call(schedule.next(), [&] { return nets.f_y->forward(y, z_sum(), nets.rope); });
  }
  z = multi ? torch::stack(zs, 1) : std::move(zs[0]);
  return InnerCarry{std::move(y), std::move(z)};
}

}  // namespace trm

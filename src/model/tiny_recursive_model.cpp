// TinyRecursiveModel, the ACT wrapper (see trm/model/tiny_recursive_model.hpp).
#include "trm/model/tiny_recursive_model.hpp"

#include <iomanip>

namespace trm {
namespace {

// Rows of `fresh` where `halted`, rows of `kept` elsewhere.
torch::Tensor take_rows(const torch::Tensor& halted, const torch::Tensor& fresh,
                        const torch::Tensor& kept) {
  std::vector<int64_t> shape(fresh.dim(), 1);
  shape[0] = -1;
  return torch::where(halted.view(shape), fresh, kept);
}

}  // namespace

TinyRecursiveModelImpl::TinyRecursiveModelImpl(const ArchConfig& arch, const DataShape& shape,
                                               torch::Device device)
    : arch_(arch), shape_(shape) {
  inner = register_module(
      "inner", TrmInner(arch, shape, resolve_forward_dtype(arch.forward_dtype, device)));
}

ActCarry TinyRecursiveModelImpl::initial_carry(const ModelBatch& batch) const {
  const int64_t b = batch.batch_size();
  const auto device = inner->H_init.device();
  const auto opts = torch::TensorOptions().device(device);
  ActCarry carry;
  carry.inner = inner->empty_carry(b, device);
  carry.steps = torch::zeros({b}, opts.dtype(torch::kInt32));
  carry.halted = torch::ones({b}, opts.dtype(torch::kBool));  // every row is loaded first call
  carry.current = ModelBatch{torch::zeros_like(batch.inputs, opts),
                             torch::zeros_like(batch.labels, opts),
                             torch::zeros_like(batch.puzzle_identifiers, opts)};
  return carry;
}

ActStep TinyRecursiveModelImpl::forward(const ActCarry& carry, const ModelBatch& batch,
                                        c10::optional<at::Generator> generator) {
  const auto& halted_before = carry.halted;
  ActStep step;
  ActCarry& next = step.carry;
  InnerCarry inner_carry = inner->reset_carry(halted_before, carry.inner);
  next.current = ModelBatch{take_rows(halted_before, batch.inputs, carry.current.inputs),
                            take_rows(halted_before, batch.labels, carry.current.labels),
                            take_rows(halted_before, batch.puzzle_identifiers,
                                      carry.current.puzzle_identifiers)};

  InnerOutputs inner_out = inner->forward(inner_carry, next.current);
  next.inner = inner_out.carry;
  ModelOutputs& out = step.outputs;
  out.logits = inner_out.logits.to(torch::kFloat32);
  out.q_halt_logits = inner_out.q_halt_logits;
  out.q_continue_logits = inner_out.q_continue_logits;

  torch::NoGradGuard no_grad;
  next.steps = carry.steps.masked_fill(halted_before, 0) + 1;
  const auto is_last_step = next.steps >= arch_.halt_max_steps;
  auto halted = is_last_step;
  if (is_training() && arch_.halt_max_steps > 1) {
    const auto q_halt = out.q_halt_logits.detach();
    const auto q_continue = out.q_continue_logits.detach();
    if (arch_.halts_on_q_continue()) {
      halted = halted | (q_halt > q_continue);
    } else {
      halted = halted | (q_halt > 0);
    }
    // Exploration: with probability p a sample must run at least U{2..halt_max_steps} steps.
    // Draws happen on the generator's device, then move to the model's; without a generator,
    // on the model's device from its default generator (on CUDA a host draw would cost a
    // host-to-device copy, i.e. a sync, in every step).
    const auto gen_device = generator.has_value() ? generator->device() : next.steps.device();
    const int64_t b = q_halt.size(0);
    const auto explore =
        torch::rand({b}, generator, torch::TensorOptions().device(gen_device)) <
        arch_.halt_exploration_prob;
    const auto min_steps =
        torch::randint(2, arch_.halt_max_steps + 1, {b}, generator,
                       torch::TensorOptions().dtype(torch::kInt32).device(gen_device));
    const auto min_halt_steps = (explore.to(torch::kInt32) * min_steps).to(next.steps.device());
    halted = halted & (next.steps >= min_halt_steps);

    if (!arch_.no_ACT_continue) {
      // Bootstrapped Q-continue target from the next step's Q values (no replay buffer, no
      // target network: many parallel samples play that role, as in the reference).
      const InnerOutputs next_out = inner->forward_no_grad(next.inner, next.current);
      out.target_q_continue = torch::sigmoid(torch::where(
          is_last_step, next_out.q_halt_logits,
          torch::maximum(next_out.q_halt_logits, next_out.q_continue_logits)));
    }
  }
  next.halted = halted;
  return step;
}

int64_t count_parameters(const torch::nn::Module& module) {
  int64_t total = 0;
  for (const auto& p : module.parameters()) total += p.numel();
  return total;
}

void print_parameter_summary(const torch::nn::Module& module, std::ostream& os) {
  auto line = [&os](const std::string& kind, const std::string& name, const torch::Tensor& t) {
    os << "  " << std::left << std::setw(9) << kind << std::setw(56) << name << std::setw(16)
       << t.sizes() << std::setw(10) << t.scalar_type() << std::right << std::setw(12)
       << t.numel() << "\n";
  };
  int64_t buffers = 0;
  for (const auto& item : module.named_parameters()) line("param", item.key(), item.value());
  for (const auto& item : module.named_buffers()) {
    line("buffer", item.key(), item.value());
    buffers += item.value().numel();
  }
  os << "  trainable dense parameters: " << count_parameters(module)
     << "; buffer elements (puzzle table, init vectors): " << buffers << "\n";
}

}  // namespace trm

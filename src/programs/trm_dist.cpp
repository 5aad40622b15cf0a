// trm-dist: data-parallel training of a Tiny Recursive Model.
//   mpirun -np N trm-dist --config configs/X.toml [key=value ...]     (or srun, or no launcher)
// Exit codes: 0 done; 1 runtime failure (all ranks are aborted so none hangs); 2 bad command
// line or config (reported once by rank 0, every rank exits cleanly); 128+signal after SIGTERM or
// SIGUSR1 (a checkpoint was written; resume with --resume auto).
#include <iostream>
#include <string>
#include <vector>

#include "trm/ckpt/stop_signal.hpp"
#include "trm/common/error.hpp"
#include "trm/config/config_loader.hpp"
#include "trm/dist/communicator.hpp"
#include "trm/train/trainer.hpp"

namespace {

const char* kUsage =
    "usage: trm-dist --config FILE.toml [--resume auto|PATH] [--init-from CHECKPOINT] [key=value ...]\n"
    "       (e.g. arch.L_cycles=4 lr=3e-4)\n";

// --resume VALUE, read by every rank from its own (identical) command line.
std::string resume_argument(int argc, char** argv) {
  for (int i = 1; i + 1 < argc; ++i)
    if (std::string(argv[i]) == "--resume") return argv[i + 1];
  return "";
}

// Rank 0 parses the command line and the config; every rank gets the resolved TOML or the error.
bool load_config_everywhere(int argc, char** argv, trm::Communicator& comm, trm::TrainConfig* config) {
  std::string status_and_text;
  if (comm.rank() == 0) {
    try {
      std::string path;
      std::vector<std::string> overrides;
      for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--config" && i + 1 < argc) path = argv[++i];
        else if (arg == "--resume" && i + 1 < argc) ++i;  // see resume_argument()
        else if (arg == "--init-from" && i + 1 < argc) overrides.push_back("load_checkpoint=\"" + std::string(argv[++i]) + "\"");
        else if (arg == "--help" || arg == "-h") TRM_FAIL(kUsage, "");
        else if (arg.find('=') != std::string::npos && arg.rfind("--", 0) != 0) overrides.push_back(arg);
        else TRM_FAIL("unexpected argument '" << arg << "'\n" << kUsage, "overrides are written key=value");
      }
      TRM_CHECK(!path.empty(), "no --config given\n" << kUsage, "pass --config configs/<name>.toml");
      *config = trm::load_train_config(path, overrides);
      trm::validate_for_world(*config, comm.world_size());
      status_and_text = "ok" + trm::to_toml(*config);
      std::cout << trm::to_toml(*config) << std::flush;
    } catch (const std::exception& e) {
      status_and_text = std::string("er") + e.what();
    }
  }
  comm.broadcast_string(status_and_text, 0);
  if (status_and_text.compare(0, 2, "ok") != 0) {
    if (comm.rank() == 0) std::cerr << "trm-dist: " << status_and_text.substr(2) << std::endl;
    return false;
  }
  if (comm.rank() != 0) *config = trm::parse_train_config(status_and_text.substr(2), "config from rank 0");
  return true;
}

// One GPU per rank: the local rank (MPI's shared-memory split, so it holds under mpirun, srun
// and any launcher) is the device index among the visible GPUs. A launcher that binds one GPU
// per task (srun --gpus-per-task=1, CUDA_VISIBLE_DEVICES per rank) leaves one visible: index 0.
torch::Device choose_device(const trm::TrainConfig& config, int local_rank) {
  const bool cuda = torch::cuda::is_available();
  TRM_CHECK(config.device != trm::DeviceKind::kCuda || cuda,
            "device = \"cuda\" but no CUDA device is available",
            "use device = \"cpu\" or \"auto\", or a LibTorch built with CUDA");
  if (config.device == trm::DeviceKind::kCpu || !cuda) return torch::Device(torch::kCPU);
  const int visible = static_cast<int>(torch::cuda::device_count());
  TRM_CHECK(visible == 1 || local_rank < visible,
            "local rank " << local_rank << " has no GPU of its own: " << visible
                          << " visible on this node",
            "start at most one rank per GPU per node (mpirun --map-by ppr:" +
                std::to_string(visible) + ":node)");
  return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(visible == 1 ? 0 : local_rank));
}

}  // namespace

int main(int argc, char** argv) {
  trm::MpiSession mpi(&argc, &argv);
  trm::install_stop_signal_handlers();  // SIGTERM/SIGUSR1: checkpoint at the next step, exit 128+sig
  std::unique_ptr<trm::Communicator> control = trm::make_mpi_communicator();
  trm::TrainConfig config;
  if (!load_config_everywhere(argc, argv, *control, &config)) return 2;

  std::unique_ptr<trm::Communicator> comm;
  try {
    trm::RunContext ctx;
    ctx.rank = control->rank();
    ctx.world_size = control->world_size();
    ctx.local_rank = control->local_rank();
    ctx.device = choose_device(config, ctx.local_rank);
    comm = trm::make_communicator(ctx.device);
    ctx.comm = comm.get();
    ctx.out = &std::cout;
    trm::Trainer trainer(config, ctx);
    trainer.restore(resume_argument(argc, argv));
    trainer.run();
    if (trainer.stop_signal() != 0) return trm::stop_exit_code(trainer.stop_signal());
  } catch (const std::exception& e) {
    std::cerr << "trm-dist: rank " << control->rank() << ": " << e.what() << std::endl;
    if (control->world_size() > 1) control->abort(1);  // peers may be blocked in a collective
    return 1;
  }
  return 0;
}

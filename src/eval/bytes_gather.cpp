// GatherBytesFn implementations (see bytes_gather.hpp). The communicator version uses two
// all_gathers (one int64 size per rank, then the concatenated bytes) because the Communicator
// interface offers all_gather rather than gather; ranks other than 0 drop what they receive.
#include "trm/eval/bytes_gather.hpp"

#include <torch/torch.h>

#include <cstring>

#include "trm/common/error.hpp"
#include "trm/dist/communicator.hpp"

namespace trm {

GatherBytesFn single_process_gather() {
  return [](const std::vector<uint8_t>& local) {
    return std::vector<std::vector<uint8_t>>{local};
  };
}

GatherBytesFn communicator_gather(Communicator& comm) {
  return [&comm](const std::vector<uint8_t>& local) {
    const int world = comm.world_size();
    torch::Tensor size = torch::full({1}, static_cast<int64_t>(local.size()), torch::kInt64);
    const torch::Tensor sizes = comm.all_gather(size).to(torch::kCPU).contiguous();
    TRM_CHECK(sizes.numel() == world,
              "byte gather got " << sizes.numel() << " sizes from " << world << " ranks",
              "the communicator's all_gather is broken");
    torch::Tensor bytes = torch::empty({static_cast<int64_t>(local.size())}, torch::kUInt8);
    if (!local.empty()) std::memcpy(bytes.data_ptr<uint8_t>(), local.data(), local.size());
    const torch::Tensor all = comm.all_gather(bytes).to(torch::kCPU).contiguous();
    std::vector<std::vector<uint8_t>> out;
    if (comm.rank() != 0) return out;
    const auto* size_data = sizes.data_ptr<int64_t>();
    const auto* data = all.data_ptr<uint8_t>();
    int64_t offset = 0;
    for (int r = 0; r < world; ++r) {
      TRM_CHECK(size_data[r] >= 0 && offset + size_data[r] <= all.numel(),
                "byte gather: rank " << r << " sent " << size_data[r] << " bytes, "
                                     << all.numel() << " arrived in all",
                "the communicator's all_gather is broken");
      out.emplace_back(data + offset, data + offset + size_data[r]);
      offset += size_data[r];
    }
    return out;
  };
}

}  // namespace trm

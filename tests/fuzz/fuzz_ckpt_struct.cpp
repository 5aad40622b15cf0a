// libFuzzer target, structure-aware: the fuzz input is decoded into a checkpoint (texts, /state
// ints, floats and blobs, tensors of every stored dtype in nested groups), written as a VALID
// HDF5 file in the layout of trm/ckpt/checkpoint_file.hpp with its CRC32, then edited by up to
// 6 decoded mutations (a root attribute removed, retyped, reshaped or revalued; a dataset
// replaced by one of any type and shape, possibly huge and unallocated; a torch_dtype attribute
// changed). read_checkpoint_file must return exactly what was written when nothing was mutated,
// and otherwise accept or refuse with a trm::Error -- never crash or allocate what the file
// cannot hold.
#include <fuzzer/FuzzedDataProvider.h>
#include <hdf5.h>
#include <zlib.h>

#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "fuzz_util.hpp"
#include "h5_fuzz_writer.hpp"
#include "trm/ckpt/checkpoint_file.hpp"

namespace {

using trm_fuzz::H5Kind;

struct Item {
  H5Kind kind = H5Kind::kU8;
  int rank = 1;
  std::vector<hsize_t> dims;
  std::vector<uint8_t> bytes;      // raw little-endian data
  const char* torch_dtype = nullptr;
};

struct DtypeChoice {
  H5Kind kind;
  const char* torch_dtype;
  size_t size;
};
const DtypeChoice kDtypes[] = {{H5Kind::kF32, nullptr, 4}, {H5Kind::kF64, nullptr, 8},
                               {H5Kind::kI8, nullptr, 1},  {H5Kind::kU8, nullptr, 1},
                               {H5Kind::kI16, nullptr, 2}, {H5Kind::kI32, nullptr, 4},
                               {H5Kind::kI64, nullptr, 8}, {H5Kind::kU8, "bool", 1},
                               {H5Kind::kU16, "bfloat16", 2}, {H5Kind::kU16, "float16", 2}};
const char* const kGroups[] = {"model", "ema", "optim/m", "carry/rank1", "puzzle_emb"};
const char* const kNames[] = {"w", "inner.lm_head.weight", "b"};
const char* const kStateKeys[] = {"step", "lr", "sampler", "rng/rank0"};
const char* const kTexts[] = {"config", "notes"};
const char* const kRootAttrs[] = {"format", "format_version", "checksum_crc32", "created_by"};

void put_torch_dtype(hid_t file, const std::string& path, const std::string& value) {
  const hid_t d = trm_fuzz::h5_ok(H5Dopen2(file, path.c_str(), H5P_DEFAULT), path.c_str());
  trm_fuzz::h5_put_str_attr(d, "torch_dtype", value);
  H5Dclose(d);
}

void check_equal(const trm::CheckpointContent& got, const std::map<std::string, Item>& items) {
  size_t seen = 0;
  auto same_bytes = [](const torch::Tensor& t, const Item& it) {
    return t.defined() && size_t(t.numel() * t.element_size()) == it.bytes.size() &&
           (it.bytes.empty() || std::memcmp(t.data_ptr(), it.bytes.data(), it.bytes.size()) == 0) &&
           size_t(t.dim()) == size_t(it.rank);
  };
  for (const auto& [path, it] : items) {
    const size_t slash = path.rfind('/');
    bool ok = false;
    if (slash == std::string::npos) {
      auto t = got.texts.find(path);
      ok = t != got.texts.end() && t->second == std::string(it.bytes.begin(), it.bytes.end());
    } else if (path.rfind("state/", 0) == 0) {
      const std::string key = path.substr(6);
      if (it.kind == H5Kind::kI64) {
        auto v = got.ints.find(key);
        ok = v != got.ints.end() && std::memcmp(&v->second, it.bytes.data(), 8) == 0;
      } else if (it.kind == H5Kind::kF64) {
        auto v = got.floats.find(key);
        ok = v != got.floats.end() && std::memcmp(&v->second, it.bytes.data(), 8) == 0;
      } else {
        auto v = got.blobs.find(key);
        ok = v != got.blobs.end() && v->second == it.bytes;
      }
    } else {
      auto g = got.tensors.find(path.substr(0, slash));
      if (g != got.tensors.end()) {
        auto t = g->second.find(path.substr(slash + 1));
        ok = t != g->second.end() && same_bytes(t->second, it);
      }
    }
    if (!ok) trm_fuzz::finding("read back differs from what was written", path.c_str());
    ++seen;
  }
  const size_t total = got.texts.size() + got.ints.size() + got.floats.size() + got.blobs.size();
  size_t tensors = 0;
  for (const auto& [g, m] : got.tensors) tensors += m.size();
  if (total + tensors != seen) trm_fuzz::finding("read back holds items never written", "");
}

void mutate(FuzzedDataProvider& fdp, hid_t f, const std::map<std::string, Item>& items) {
  const int what = fdp.ConsumeIntegralInRange<int>(0, 4);
  const char* attr = kRootAttrs[fdp.ConsumeIntegralInRange<int>(0, 3)];
  std::string dpath = "model/w";
  if (!items.empty()) {
    auto it = items.begin();
    std::advance(it, fdp.ConsumeIntegralInRange<size_t>(0, items.size() - 1));
    dpath = it->first;
  }
  switch (what) {
    case 0:
      H5Adelete(f, attr);
      break;
    case 1:
      trm_fuzz::h5_put_i64_attr(f, attr, fdp.ConsumeBool() ? fdp.ConsumeIntegralInRange<int64_t>(-1, 2)
                                                           : fdp.ConsumeIntegral<int64_t>());
      break;
    case 2: {
      const auto kind = static_cast<H5Kind>(fdp.ConsumeIntegralInRange<int>(0, trm_fuzz::kNumH5Kinds - 1));
      const int rank = trm_fuzz::fuzz_rank(fdp);
      const std::vector<hsize_t> dims = trm_fuzz::fuzz_dims(fdp, rank, false);
      const size_t str = fdp.ConsumeIntegralInRange<size_t>(0, 24);
      trm_fuzz::h5_put_attr(f, attr, kind, str, rank, dims, fdp.ConsumeBytes<uint8_t>(24));
      break;
    }
    case 3: {
      const auto kind = static_cast<H5Kind>(fdp.ConsumeIntegralInRange<int>(0, trm_fuzz::kNumH5Kinds - 1));
      const int rank = trm_fuzz::fuzz_rank(fdp);
      const std::vector<hsize_t> dims = trm_fuzz::fuzz_dims(fdp, rank, true);
      const hsize_t chunk = fdp.ConsumeIntegralInRange<hsize_t>(0, 2);
      trm_fuzz::h5_put_dataset(f, dpath, kind, 8, rank, dims, fdp.ConsumeBytes<uint8_t>(32), chunk,
                               fdp.ConsumeBool());
      break;
    }
    default:
      if (H5Lexists(f, dpath.c_str(), H5P_DEFAULT) > 0) {  // a torch_dtype of any type and value
        const hid_t d = H5Dopen2(f, dpath.c_str(), H5P_DEFAULT);
        if (d >= 0) {
          const auto kind = static_cast<H5Kind>(fdp.ConsumeIntegralInRange<int>(0, trm_fuzz::kNumH5Kinds - 1));
          const size_t str = fdp.ConsumeIntegralInRange<size_t>(0, 12);
          trm_fuzz::h5_put_attr(d, "torch_dtype", kind, str, fdp.ConsumeIntegralInRange<int>(0, 1),
                                {fdp.ConsumeIntegralInRange<hsize_t>(0, 3)}, fdp.ConsumeBytes<uint8_t>(12));
          H5Dclose(d);
        }
      }
      break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool init = [] {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    return true;
  }();
  (void)init;
  FuzzedDataProvider fdp(data, size);
  std::map<std::string, Item> items;  // path (no leading '/') -> what is stored there
  const int count = fdp.ConsumeIntegralInRange<int>(0, 6);
  for (int i = 0; i < count; ++i) {
    Item it;
    std::string path;
    switch (fdp.ConsumeIntegralInRange<int>(0, 4)) {
      case 0:
        path = kTexts[fdp.ConsumeIntegralInRange<int>(0, 1)];
        it.bytes = fdp.ConsumeBytes<uint8_t>(fdp.ConsumeIntegralInRange<size_t>(0, 40));
        it.dims = {it.bytes.size()};
        break;
      case 1:
      case 2:
        path = std::string("state/") + kStateKeys[fdp.ConsumeIntegralInRange<int>(0, 3)];
        it.kind = fdp.ConsumeBool() ? H5Kind::kI64 : H5Kind::kF64;
        it.rank = 0;
        it.bytes.resize(8);
        for (uint8_t& b : it.bytes) b = fdp.ConsumeIntegral<uint8_t>();
        break;
      case 3:
        path = std::string("state/") + kStateKeys[fdp.ConsumeIntegralInRange<int>(0, 3)];
        it.bytes = fdp.ConsumeBytes<uint8_t>(fdp.ConsumeIntegralInRange<size_t>(0, 24));
        it.dims = {it.bytes.size()};
        break;
      default: {
        path = std::string(kGroups[fdp.ConsumeIntegralInRange<int>(0, 4)]) + "/" +
               kNames[fdp.ConsumeIntegralInRange<int>(0, 2)];
        const DtypeChoice& d = kDtypes[fdp.ConsumeIntegralInRange<int>(0, std::size(kDtypes) - 1)];
        it.kind = d.kind;
        it.torch_dtype = d.torch_dtype;
        it.rank = fdp.ConsumeIntegralInRange<int>(0, 3);
        size_t n = 1;
        for (int r = 0; r < it.rank; ++r) {
          it.dims.push_back(fdp.ConsumeIntegralInRange<hsize_t>(0, 3));
          n *= it.dims.back();
        }
        it.bytes.resize(n * d.size);
        for (uint8_t& b : it.bytes) b = fdp.ConsumeIntegral<uint8_t>();
        if (d.torch_dtype != nullptr && std::strcmp(d.torch_dtype, "bool") == 0) {
          for (uint8_t& b : it.bytes) b &= 1;  // torch bools are 0 or 1
        }
        break;
      }
    }
    items[path] = it;
  }
  const std::string path = (trm_fuzz::scratch_dir() / "ckpt.h5").string();
  const hid_t f = trm_fuzz::h5_ok(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), "H5Fcreate");
  uLong crc = crc32(0L, Z_NULL, 0);
  for (const auto& [p, it] : items) {
    trm_fuzz::h5_put_dataset(f, p, it.kind, 0, it.rank, it.dims, it.bytes, 0, true);
    if (it.torch_dtype != nullptr) put_torch_dtype(f, p, it.torch_dtype);
    crc = crc32(crc, reinterpret_cast<const Bytef*>(p.data()), static_cast<uInt>(p.size()));
    if (!it.bytes.empty()) crc = crc32(crc, it.bytes.data(), static_cast<uInt>(it.bytes.size()));
  }
  trm_fuzz::h5_put_str_attr(f, "format", trm::kCheckpointFormatName);
  trm_fuzz::h5_put_i64_attr(f, "format_version", trm::kCheckpointFormatVersion);
  const uint32_t crc32_value = static_cast<uint32_t>(crc);
  std::vector<uint8_t> crc_bytes(4);
  std::memcpy(crc_bytes.data(), &crc32_value, 4);
  trm_fuzz::h5_put_attr(f, "checksum_crc32", H5Kind::kU32, 0, 0, {}, crc_bytes);
  trm_fuzz::h5_put_str_attr(f, "created_by", "fuzz_ckpt_struct");
  const int edits = fdp.ConsumeIntegralInRange<int>(0, 6);
  for (int e = 0; e < edits; ++e) mutate(fdp, f, items);
  H5Fclose(f);

  trm::CheckpointContent content;
  const bool full = trm_fuzz::accepts([&] { content = trm::read_checkpoint_file(path); });
  if (edits == 0) {
    if (!full) trm_fuzz::finding("refused a valid checkpoint", "");
    check_equal(content, items);
  }
  trm_fuzz::accepts([&] {
    trm::read_checkpoint_file(path, trm::CheckpointReadOptions{{"model", "carry/rank1"}, fdp.ConsumeBool()});
  });
  std::string problem;
  trm_fuzz::accepts([&] { problem = trm::checkpoint_file_problem(path); });
  if (full != problem.empty()) trm_fuzz::finding("checkpoint_file_problem disagrees with the read", problem.c_str());
  return 0;
}
